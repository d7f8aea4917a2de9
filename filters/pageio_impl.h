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

#endif
