/*
 * iotest.h — helpers shared by the I/O unit tests (test_io_*.c): scratch
 * directories, deterministic test pages, a TIFF writer with every layout
 * option (so that tests write their own fixtures with libtiff), patching
 * of TIFF tags for bad-input cases, and page comparison.
 *
 * Everything is static inline so that each test binary takes what it uses.
 */
#ifndef SPOOLD_IOTEST_H
#define SPOOLD_IOTEST_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <png.h>
#include <setjmp.h>
#include <tiffio.h>

#include "binarize.h"
#include "chain.h"
#include "page.h"
#include "pageio.h"

/* ------------------------------------------------------------- scratch */

/* A fresh directory under $TMPDIR; its path is written into dir. */
static inline void scratch_dir(char *dir, size_t len)
{
    const char *t = getenv("TMPDIR");
    snprintf(dir, len, "%s/spoold-iotest.XXXXXX", t && *t ? t : "/tmp");
    if (mkdtemp(dir) == NULL) {
        fprintf(stderr, "mkdtemp %s: %s\n", dir, strerror(errno));
        abort();
    }
}

static inline void scratch_path(char *out, size_t len, const char *dir,
                                const char *name)
{
    snprintf(out, len, "%s/%s", dir, name);
}

/* Number of entries in dir other than . and .. */
static inline int dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

/* Removes dir and the plain files in it. */
static inline void scratch_remove(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *de;
    char p[4096];
    while ((de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static inline int write_bytes(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    size_t n = fwrite(data, 1, len, f);
    return (fclose(f) == 0 && n == len) ? 0 : -1;
}

/* Whole file into a malloc'ed buffer. */
static inline unsigned char *read_bytes(const char *path, size_t *len)
{
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(n > 0 ? (size_t)n : 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = n > 0 ? (size_t)n : 0;
    return b;
}

/* ------------------------------------------------------------- pages */

static inline uint32_t lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

/* A page with a deterministic, seed-dependent mix of text-like bars, solid
 * blocks and noise (so that every codec sees runs and random data). */
static inline void make_pattern(page *pg, int w, int h, uint32_t seed)
{
    errbuf e;
    if (page_alloc(pg, w, h, 300, 300, 0, &e) < 0)
        abort();
    uint32_t s = seed * 2654435761u + 1;
    for (int i = 0; i < 8 + (int)(seed % 5); i++) {
        int x = (int)(lcg(&s) % (unsigned)w), y = (int)(lcg(&s) % (unsigned)h);
        page_fill_rect(pg, x, y, 1 + (int)(lcg(&s) % (unsigned)(w / 3 + 1)),
                       1 + (int)(lcg(&s) % 9u), 1);
    }
    for (int i = 0; i < w * h / 50; i++)
        page_set(pg, (int)(lcg(&s) % (unsigned)w), (int)(lcg(&s) % (unsigned)h), 1);
    page_fill_rect(pg, 0, 0, 1, 1, 1);              /* corners: fill order */
    page_fill_rect(pg, w - 1, h - 1, 1, 1, 1);
}

/* Pixel-exact equality of size and content (padding included). */
static inline int pages_equal(const page *a, const page *b)
{
    if (a->width != b->width || a->height != b->height)
        return 0;
    size_t rowbytes = ((size_t)a->width + 7) / 8;
    for (int y = 0; y < a->height; y++)
        if (memcmp(page_row(a, y), page_row(b, y), rowbytes) != 0)
            return 0;
    return 1;
}

/* Number of pixels that differ (sizes must match). */
static inline uint64_t pages_diff(const page *a, const page *b)
{
    uint64_t n = 0;
    for (int y = 0; y < a->height; y++)
        for (int x = 0; x < a->width; x++)
            n += page_get(a, x, y) != page_get(b, x, y);
    return n;
}

static inline int read_page_at(const char *path, const struct read_opts *o,
                               int index, page *pg, errbuf *e)
{
    struct page_reader *rd;
    if (page_reader_open(&rd, path, o, e) < 0)
        return -1;
    int rc = page_reader_read(rd, index, pg, e);
    page_reader_close(rd);
    return rc;
}

static inline struct read_opts default_read_opts(void)
{
    struct chain_opts o;
    chain_opts_default(&o);
    return o.read;
}

/* ------------------------------------------------------------- TIFF */

struct tiff_layout {
    uint16_t compression;
    uint16_t photometric;       /* MINISWHITE or MINISBLACK */
    uint16_t fillorder;         /* 0 = default (MSB2LSB) */
    uint32_t g3options;
    uint32_t rows_per_strip;    /* 0 = whole page */
    uint32_t tile_w, tile_h;    /* 0 = strips */
    float xres, yres;           /* 0 = no resolution tags */
    uint16_t resunit;           /* 0 = inch */
};

static inline void silence_libtiff(void)
{
    TIFFSetErrorHandler(NULL);
    TIFFSetWarningHandler(NULL);
}

static inline int tiff_set_layout(TIFF *t, const page *pg,
                                  const struct tiff_layout *l)
{
    int ok = TIFFSetField(t, TIFFTAG_IMAGEWIDTH, (uint32_t)pg->width) &&
        TIFFSetField(t, TIFFTAG_IMAGELENGTH, (uint32_t)pg->height) &&
        TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 1) &&
        TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1) &&
        TIFFSetField(t, TIFFTAG_PHOTOMETRIC, l->photometric) &&
        TIFFSetField(t, TIFFTAG_COMPRESSION, l->compression) &&
        TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    if (ok && l->fillorder)
        ok = TIFFSetField(t, TIFFTAG_FILLORDER, l->fillorder);
    if (ok && l->compression == COMPRESSION_CCITTFAX3)
        ok = TIFFSetField(t, TIFFTAG_GROUP3OPTIONS, l->g3options);
    if (ok && l->xres > 0)
        ok = TIFFSetField(t, TIFFTAG_XRESOLUTION, l->xres) &&
             TIFFSetField(t, TIFFTAG_YRESOLUTION, l->yres) &&
             TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT,
                          l->resunit ? l->resunit : RESUNIT_INCH);
    if (ok && l->tile_w)
        ok = TIFFSetField(t, TIFFTAG_TILEWIDTH, l->tile_w) &&
             TIFFSetField(t, TIFFTAG_TILELENGTH, l->tile_h);
    else if (ok)
        ok = TIFFSetField(t, TIFFTAG_ROWSPERSTRIP,
                          l->rows_per_strip ? l->rows_per_strip : (uint32_t)pg->height);
    return ok;
}

/* Packs rows [y0, y0+rows) x [x0, x0+cols) of pg into buf (rowbytes per
 * row), inverted for MINISBLACK. */
static inline void pack_region(const page *pg, int x0, int y0, int cols,
                               int rows, size_t rowbytes, int invert,
                               uint8_t *buf)
{
    memset(buf, 0, rowbytes * (size_t)rows);
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++)
            if (y0 + r < pg->height && x0 + c < pg->width &&
                page_get(pg, x0 + c, y0 + r) != invert)
                buf[(size_t)r * rowbytes + (size_t)c / 8] |= (uint8_t)(0x80u >> (c % 8));
}

static inline int tiff_write_image(TIFF *t, const page *pg,
                                   const struct tiff_layout *l)
{
    int inv = l->photometric == PHOTOMETRIC_MINISBLACK;
    if (l->tile_w) {
        size_t rb = l->tile_w / 8;
        uint8_t *buf = malloc(rb * l->tile_h);
        int ok = 1;
        for (uint32_t ty = 0; ok && ty < (uint32_t)pg->height; ty += l->tile_h)
            for (uint32_t tx = 0; ok && tx < (uint32_t)pg->width; tx += l->tile_w) {
                pack_region(pg, (int)tx, (int)ty, (int)l->tile_w, (int)l->tile_h, rb, inv, buf);
                ok = TIFFWriteEncodedTile(t, TIFFComputeTile(t, tx, ty, 0, 0), buf,
                                          (tmsize_t)(rb * l->tile_h)) >= 0;
            }
        free(buf);
        return ok;
    }
    size_t rb = ((size_t)pg->width + 7) / 8;
    uint32_t rps = l->rows_per_strip ? l->rows_per_strip : (uint32_t)pg->height;
    uint8_t *buf = malloc(rb * rps);
    int ok = 1;
    for (uint32_t y = 0; ok && y < (uint32_t)pg->height; y += rps) {
        uint32_t rows = (uint32_t)pg->height - y < rps ? (uint32_t)pg->height - y : rps;
        pack_region(pg, 0, (int)y, pg->width, (int)rows, rb, inv, buf);
        ok = TIFFWriteEncodedStrip(t, y / rps, buf, (tmsize_t)(rb * rows)) >= 0;
    }
    free(buf);
    return ok;
}

/* Writes npages pages, all in layout l, to a new TIFF at path. */
static inline int write_tiff(const char *path, const page *pages, int npages,
                             const struct tiff_layout *l)
{
    TIFF *t = TIFFOpen(path, "w");
    if (t == NULL)
        return -1;
    int ok = 1;
    for (int i = 0; ok && i < npages; i++)
        ok = tiff_set_layout(t, &pages[i], l) &&
             tiff_write_image(t, &pages[i], l) && TIFFWriteDirectory(t);
    TIFFClose(t);
    return ok ? 0 : -1;
}

/* Writes an 8- or 16-bit grey/palette/RGB(A) image whose samples come from
 * fn(x, y, channel) (0..255; scaled for 16-bit), in strips of 16 rows or in
 * square tiles. */
struct tiff_grey_layout {
    uint16_t bps, spp, photometric, compression;
    uint32_t tile;              /* 0 = strips of 8 rows */
    uint16_t extra;             /* 1 = spp includes an alpha sample */
};

typedef unsigned (*sample_fn)(int x, int y, int channel, void *ctx);

static inline int write_tiff_samples(const char *path, int w, int h,
                                     const struct tiff_grey_layout *l,
                                     sample_fn fn, void *ctx,
                                     const uint16_t *cmap /* 3*256 or NULL */)
{
    TIFF *t = TIFFOpen(path, "w");
    if (t == NULL)
        return -1;
    int ok = TIFFSetField(t, TIFFTAG_IMAGEWIDTH, (uint32_t)w) &&
        TIFFSetField(t, TIFFTAG_IMAGELENGTH, (uint32_t)h) &&
        TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, l->bps) &&
        TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, l->spp) &&
        TIFFSetField(t, TIFFTAG_PHOTOMETRIC, l->photometric) &&
        TIFFSetField(t, TIFFTAG_COMPRESSION, l->compression) &&
        TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    if (ok && l->extra) {
        uint16_t es = EXTRASAMPLE_UNASSALPHA;
        ok = TIFFSetField(t, TIFFTAG_EXTRASAMPLES, 1, &es);
    }
    if (ok && cmap)
        ok = TIFFSetField(t, TIFFTAG_COLORMAP, cmap, cmap + 256, cmap + 512);
    if (ok && l->compression == COMPRESSION_JPEG)
        ok = TIFFSetField(t, TIFFTAG_JPEGQUALITY, 90);
    if (ok && l->photometric == PHOTOMETRIC_YCBCR)    /* we give RGB */
        ok = TIFFSetField(t, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB);
    size_t bytes = l->bps / 8;
    uint32_t tw = l->tile ? l->tile : (uint32_t)w, th = l->tile ? l->tile : 16;
    if (ok)
        ok = l->tile ? TIFFSetField(t, TIFFTAG_TILEWIDTH, tw) &&
                       TIFFSetField(t, TIFFTAG_TILELENGTH, th)
                     : TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, th);
    size_t rowbytes = tw * l->spp * bytes;
    uint8_t *buf = calloc(rowbytes * th, 1);
    for (uint32_t ty = 0; ok && ty < (uint32_t)h; ty += th)
        for (uint32_t tx = 0; ok && tx < (uint32_t)w; tx += tw) {
            memset(buf, 0, rowbytes * th);
            for (uint32_t r = 0; r < th && ty + r < (uint32_t)h; r++)
                for (uint32_t c = 0; c < tw && tx + c < (uint32_t)w; c++)
                    for (int ch = 0; ch < l->spp; ch++) {
                        unsigned v = fn((int)(tx + c), (int)(ty + r), ch, ctx);
                        uint8_t *p = buf + r * rowbytes + (c * l->spp + (size_t)ch) * bytes;
                        if (bytes == 1) {
                            *p = (uint8_t)v;
                        } else {
                            uint16_t v16 = (uint16_t)(v * 257);
                            memcpy(p, &v16, 2);
                        }
                    }
            tmsize_t n = (tmsize_t)(rowbytes * th);
            if (l->tile)
                ok = TIFFWriteEncodedTile(t, TIFFComputeTile(t, tx, ty, 0, 0), buf, n) >= 0;
            else {
                uint32_t rows = (uint32_t)h - ty < th ? (uint32_t)h - ty : th;
                ok = TIFFWriteEncodedStrip(t, ty / th, buf, (tmsize_t)(rowbytes * rows)) >= 0;
            }
        }
    free(buf);
    ok = ok && TIFFWriteDirectory(t);
    TIFFClose(t);
    return ok ? 0 : -1;
}

/* Classic little-endian TIFF (what libtiff writes on x86): the offset of
 * the first IFD and the file offset of tag's entry in IFD number ifd. */
static inline long tiff_entry(const unsigned char *b, size_t len, int ifd,
                              uint16_t tag)
{
    if (len < 8 || b[0] != 'I')
        return -1;
    uint32_t off;
    memcpy(&off, b + 4, 4);
    for (int i = 0; off && off + 2 <= len; i++) {
        uint16_t n;
        memcpy(&n, b + off, 2);
        if (i == ifd) {
            for (uint16_t k = 0; k < n; k++) {
                uint16_t t;
                memcpy(&t, b + off + 2 + 12 * k, 2);
                if (t == tag)
                    return (long)(off + 2 + 12 * k);
            }
            return -1;
        }
        memcpy(&off, b + off + 2 + 12 * n, 4);
    }
    return -1;
}

/* Offset of the "next IFD" pointer of IFD number ifd. */
static inline long tiff_next_ptr(const unsigned char *b, size_t len, int ifd)
{
    uint32_t off;
    memcpy(&off, b + 4, 4);
    for (int i = 0; off && off + 2 <= len; i++) {
        uint16_t n;
        memcpy(&n, b + off, 2);
        if (i == ifd)
            return (long)(off + 2 + 12 * n);
        memcpy(&off, b + off + 2 + 12 * n, 4);
    }
    return -1;
}

/* Sets the (single, inline) value of a SHORT or LONG tag in IFD 0. */
static inline int tiff_patch_tag(unsigned char *b, size_t len, uint16_t tag,
                                 uint32_t value)
{
    long at = tiff_entry(b, len, 0, tag);
    if (at < 0)
        return -1;
    uint16_t type;
    memcpy(&type, b + at + 2, 2);
    if (type == TIFF_SHORT && value > 0xffff) {     /* widen to LONG */
        type = TIFF_LONG;
        memcpy(b + at + 2, &type, 2);
    }
    if (type == TIFF_SHORT) {
        uint16_t v = (uint16_t)value;
        memcpy(b + at + 8, &v, 2);
    } else {
        memcpy(b + at + 8, &value, 4);
    }
    return 0;
}

/* ------------------------------------------------------------- PNG */

/* Writes a PNG whose samples (already at `depth` bits) come from
 * fn(x, y, channel); palette (npal entries) for PNG_COLOR_TYPE_PALETTE,
 * pHYs when ppm (pixels per metre) is not 0.  Returns 0 or -1. */
static inline int write_png(const char *path, int w, int h, int color_type,
                            int depth, int interlace, sample_fn fn, void *ctx,
                            const png_color *palette, int npal, unsigned ppm)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    int channels = color_type == PNG_COLOR_TYPE_RGB ? 3
                 : color_type == PNG_COLOR_TYPE_RGB_ALPHA ? 4
                 : color_type == PNG_COLOR_TYPE_GRAY_ALPHA ? 2 : 1;
    size_t rowbytes = ((size_t)w * (size_t)channels * (size_t)depth + 7) / 8;
    png_bytep row = malloc(rowbytes);
    if (info == NULL || row == NULL || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, info ? &info : NULL);
        free(row);
        fclose(f);
        return -1;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, color_type,
                 interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (palette)
        png_set_PLTE(png, info, palette, npal);
    if (ppm)
        png_set_pHYs(png, info, ppm, ppm, PNG_RESOLUTION_METER);
    png_write_info(png, info);
    int passes = png_set_interlace_handling(png);
    for (int p = 0; p < passes; p++)
        for (int y = 0; y < h; y++) {
            memset(row, 0, rowbytes);
            for (int x = 0; x < w; x++)
                for (int c = 0; c < channels; c++) {
                    unsigned v = fn(x, y, c, ctx);
                    size_t at = ((size_t)x * (size_t)channels + (size_t)c) * (size_t)depth;
                    if (depth == 16) {
                        row[at / 8] = (png_byte)(v >> 8);
                        row[at / 8 + 1] = (png_byte)v;
                    } else {
                        row[at / 8] |= (png_byte)(v << (8 - depth - (int)(at % 8)));
                    }
                }
            png_write_row(png, row);
        }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(row);
    return fclose(f) == 0 ? 0 : -1;
}

#endif
