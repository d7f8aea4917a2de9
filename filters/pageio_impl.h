/*
 * pageio_impl.h — internal interface between the format-independent reader
 * (pageio.c: opening, format detection by magic, dispatch) and the format
 * readers (tiffio.c, pnmio.c, pngio.c).  Not part of the library's API.
 */
#ifndef SPOOLD_PAGEIO_IMPL_H
#define SPOOLD_PAGEIO_IMPL_H

#include "pageio.h"

struct reader_ops {
    const char *format;     /* "TIFF", "PNM", "PNG" */
    /* Reads page index (0 <= index < npages) into *pg. */
    int (*read)(void *impl, int index, page *pg, errbuf *e);
    void (*close)(void *impl);
};

struct page_reader {
    const struct reader_ops *ops;
    void *impl;
    int npages;
};

/*
 * Format openers.  Each takes ownership of fd (an open, readable, seekable
 * descriptor positioned anywhere; they read from offset 0): on success it is
 * closed by ops->close, on failure before returning.  They fill rd->ops,
 * rd->impl and rd->npages (>= 1).
 */
int tiff_reader_open(struct page_reader *rd, int fd, const char *name,
                     const struct read_opts *o, errbuf *e);
int pnm_reader_open(struct page_reader *rd, int fd, const char *name,
                    const struct read_opts *o, errbuf *e);
int png_reader_open(struct page_reader *rd, int fd, const char *name,
                    const struct read_opts *o, errbuf *e);

/* Resolution to use when a file gives none or a unitless one. */
static inline double read_default_dpi(const struct read_opts *o)
{
    return o->default_dpi > 0 ? o->default_dpi : PAGE_DEFAULT_DPI;
}

static inline uint64_t read_max_pixels(const struct read_opts *o)
{
    return o->max_pixels ? o->max_pixels : PAGE_DEFAULT_MAX_PIXELS;
}

/* Refuses, before anything of the page's size is allocated, a page above
 * the pixel limit, or one whose rows padded to 64 bits (the page model)
 * would take more than twice the limit's 1-bit size: a tall image a few
 * pixels wide would otherwise need up to 64 times its pixel count in bits. */
static inline int read_check_size(uint64_t w, uint64_t h,
                                  const struct read_opts *o, errbuf *e)
{
    uint64_t max = read_max_pixels(o);
    if (w == 0 || h == 0 || w > INT32_MAX || h > INT32_MAX)
        return err_set(e, "invalid image size %llux%llu",
                       (unsigned long long)w, (unsigned long long)h);
    if (w * h > max)
        return err_set(e, "image %llux%llu exceeds the pixel limit of %llu "
                       "pixels", (unsigned long long)w, (unsigned long long)h,
                       (unsigned long long)max);
    uint64_t bytes = (w + 63) / 64 * 8 * h;
    if (bytes > max / 4 + (1u << 20))
        return err_set(e, "image %llux%llu is too narrow for its height: its "
                       "padded rows would take %llu MB", (unsigned long long)w,
                       (unsigned long long)h,
                       (unsigned long long)(bytes >> 20));
    return 0;
}

#endif
