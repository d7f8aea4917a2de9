/*
 * pnmio.c — reading Netpbm PBM/PGM/PPM files, plain (P1-P3) and raw
 * (P4-P6), 1 to 16 bits per sample; several images concatenated in one file
 * are pages.  PBM goes straight to the page (both use 1 = black, MSB first);
 * PGM and PPM go through an 8-bit grey image and binarize().  PNM carries no
 * resolution: pages get read_opts.default_dpi.
 *
 * At open the file is scanned for the start of every image (raw rasters are
 * skipped by their size, plain ones parsed).  An image that is too large or
 * runs past the end of the file ends the scan; reading it reports why.
 */
#include "pageio_impl.h"
#include "binarize.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PNM_MAX_PAGES 100000

struct pnm_image {
    off_t raster;       /* offset of the first raster byte */
    int kind;           /* 1..6 as in P1..P6 */
    int w, h;
    unsigned maxval;    /* 1 for PBM */
};

struct pnm_reader {
    FILE *fp;
    struct read_opts opts;
    uint64_t file_size;
    struct pnm_image *img;
    int n, cap;
};

static int pnm_read(void *impl, int index, page *pg, errbuf *e);
static void pnm_close(void *impl);

static const struct reader_ops pnm_ops = { "PNM", pnm_read, pnm_close };

static int is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
           c == '\f';
}

/* Skips white space and, in headers, '#' comments; returns the next char. */
static int skip_space(FILE *fp, bool comments)
{
    int c;
    for (;;) {
        c = getc_unlocked(fp);
        if (comments && c == '#') {
            while (c != EOF && c != '\n' && c != '\r')
                c = getc_unlocked(fp);
            if (c == EOF)
                return EOF;
            continue;
        }
        if (!is_space(c))
            return c;
    }
}

/* Reads one decimal number (after white space) not above max. */
static int read_uint(FILE *fp, bool comments, unsigned long max,
                     unsigned long *v)
{
    int c = skip_space(fp, comments);
    if (c < '0' || c > '9')
        return -1;
    unsigned long n = 0;
    while (c >= '0' && c <= '9') {
        n = n * 10 + (unsigned long)(c - '0');
        if (n > max)
            return -1;
        c = getc_unlocked(fp);
    }
    if (c != EOF && !is_space(c) && !(comments && c == '#'))
        return -1;
    if (c == '#')
        ungetc(c, fp);
    *v = n;
    return 0;
}

/* Parses the header at the current position. */
static int pnm_header(FILE *fp, struct pnm_image *im, errbuf *e)
{
    int p = getc_unlocked(fp), k = getc_unlocked(fp);
    if (p != 'P' || k < '1' || k > '6')
        return err_set(e, "not a PNM image");
    im->kind = k - '0';
    unsigned long w, h, maxval = 1;
    if (read_uint(fp, true, INT32_MAX, &w) < 0 ||
        read_uint(fp, true, INT32_MAX, &h) < 0)
        return err_set(e, "bad PNM header: width and height expected");
    if (im->kind != 1 && im->kind != 4 &&
        read_uint(fp, true, 65535, &maxval) < 0)
        return err_set(e, "bad PNM header: maximum value 1..65535 expected");
    if (w == 0 || h == 0 || maxval == 0)
        return err_set(e, "invalid image size %lux%lu (maximum value %lu)",
                       w, h, maxval);
    /* read_uint consumed exactly one white space character after the last
     * number (or stopped at EOF) */
    im->w = (int)w;
    im->h = (int)h;
    im->maxval = (unsigned)maxval;
    off_t pos = ftello(fp);
    if (pos < 0)
        return err_errno(e, errno, "cannot tell file position");
    im->raster = pos;
    return 0;
}

/* Size of a raw raster in bytes; false on overflow. */
static bool raw_size(const struct pnm_image *im, uint64_t *size)
{
    uint64_t bytes = im->maxval > 255 ? 2 : 1, rowbytes;
    if (im->kind == 4)
        rowbytes = ((uint64_t)im->w + 7) / 8;
    else if (__builtin_mul_overflow((uint64_t)im->w, bytes * (im->kind == 6 ? 3 : 1),
                                    &rowbytes))
        return false;
    return !__builtin_mul_overflow(rowbytes, (uint64_t)im->h, size);
}

/* Skips a plain raster by parsing it; false if it is bad or truncated. */
static bool skip_plain(FILE *fp, const struct pnm_image *im)
{
    uint64_t n = (uint64_t)im->w * (uint64_t)im->h * (im->kind == 3 ? 3 : 1);
    for (uint64_t i = 0; i < n; i++) {
        unsigned long v;
        if (im->kind == 1) {
            int c = skip_space(fp, false);
            if (c != '0' && c != '1')
                return false;
        } else if (read_uint(fp, false, im->maxval, &v) < 0) {
            return false;
        }
    }
    return true;
}

/* Finds where the image after im starts; false if there is none. */
static bool pnm_next(struct pnm_reader *pr, const struct pnm_image *im,
                     off_t *next)
{
    uint64_t pixels = (uint64_t)im->w * (uint64_t)im->h, size;
    if (pixels > read_max_pixels(&pr->opts))
        return false;
    if (im->kind >= 4) {
        if (!raw_size(im, &size) || size > pr->file_size ||
            (uint64_t)im->raster > pr->file_size - size ||
            fseeko(pr->fp, im->raster + (off_t)size, SEEK_SET) < 0)
            return false;
    } else if (fseeko(pr->fp, im->raster, SEEK_SET) < 0 ||
               !skip_plain(pr->fp, im)) {
        return false;
    }
    int c;
    do
        c = getc_unlocked(pr->fp);
    while (c == '\0' || is_space(c));
    if (c == EOF)
        return false;
    off_t pos = ftello(pr->fp);
    if (pos < 1)
        return false;
    *next = pos - 1;
    return true;
}

static int pnm_add(struct pnm_reader *pr, const struct pnm_image *im, errbuf *e)
{
    if (pr->n == pr->cap) {
        int cap = pr->cap ? 2 * pr->cap : 4;
        struct pnm_image *p = realloc(pr->img, (size_t)cap * sizeof *p);
        if (p == NULL)
            return err_set(e, "out of memory");
        pr->img = p;
        pr->cap = cap;
    }
    pr->img[pr->n++] = *im;
    return 0;
}

/* Records every image of the file. */
static int pnm_scan(struct pnm_reader *pr, errbuf *e)
{
    off_t at = 0;
    for (;;) {
        struct pnm_image im;
        if (fseeko(pr->fp, at, SEEK_SET) < 0)
            return err_errno(e, errno, "cannot seek");
        if (pnm_header(pr->fp, &im, e) < 0) {
            if (pr->n > 0)
                err_set(e, "unexpected data after image %d", pr->n);
            return -1;
        }
        if (pnm_add(pr, &im, e) < 0)
            return -1;
        if (pr->n >= PNM_MAX_PAGES)
            return err_set(e, "more than %d images in one file", PNM_MAX_PAGES);
        if (!pnm_next(pr, &im, &at))
            return 0;
    }
}

int pnm_reader_open(struct page_reader *rd, int fd, const char *name,
                    const struct read_opts *o, errbuf *e)
{
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int err = errno;
        close(fd);
        return err_errno(e, err, "cannot stat");
    }
    struct pnm_reader *pr = calloc(1, sizeof *pr);
    if (pr == NULL) {
        close(fd);
        return err_set(e, "out of memory");
    }
    pr->opts = *o;
    pr->file_size = (uint64_t)st.st_size;
    pr->fp = fdopen(fd, "rb");
    if (pr->fp == NULL) {
        int err = errno;
        close(fd);
        free(pr);
        return err_errno(e, err, "cannot open stream");
    }
    if (pnm_scan(pr, e) < 0) {
        pnm_close(pr);
        return -1;
    }
    rd->ops = &pnm_ops;
    rd->impl = pr;
    rd->npages = pr->n;
    return 0;
}

static void pnm_close(void *impl)
{
    struct pnm_reader *pr = impl;
    if (pr->fp)
        fclose(pr->fp);     /* read-only: nothing to lose on error */
    free(pr->img);
    free(pr);
}

static int truncated(FILE *fp, int y, errbuf *e)
{
    if (ferror(fp))
        return err_errno(e, errno, "read error at row %d", y + 1);
    return err_set(e, "truncated file: data ends at row %d", y + 1);
}

static int pbm_raw(FILE *fp, const struct pnm_image *im, page *pg, errbuf *e)
{
    size_t rowbytes = ((size_t)im->w + 7) / 8;
    for (int y = 0; y < im->h; y++)
        if (fread(page_row(pg, y), 1, rowbytes, fp) != rowbytes)
            return truncated(fp, y, e);
    return 0;
}

static int pbm_plain(FILE *fp, const struct pnm_image *im, page *pg, errbuf *e)
{
    for (int y = 0; y < im->h; y++) {
        for (int x = 0; x < im->w; x++) {
            int c = skip_space(fp, false);
            if (c == EOF)
                return truncated(fp, y, e);
            if (c != '0' && c != '1')
                return err_set(e, "bad pixel at row %d, column %d", y + 1, x + 1);
            if (c == '1')
                page_set(pg, x, y, 1);
        }
    }
    return 0;
}

/* One sample of a raw row: 8 or 16 bits (big-endian). */
static inline unsigned raw_sample(const uint8_t *row, size_t i, bool wide)
{
    return wide ? (unsigned)row[2 * i] << 8 | row[2 * i + 1] : row[i];
}

/* PGM/PPM rasters to grey through a maxval -> 0..255 table. */
static int pnm_grey(FILE *fp, const struct pnm_image *im, const uint8_t *lut,
                    grey_image *g, errbuf *e)
{
    bool colour = im->kind == 3 || im->kind == 6, wide = im->maxval > 255;
    size_t spp = colour ? 3 : 1;
    size_t rowbytes = (size_t)im->w * spp * (wide ? 2 : 1);
    uint8_t *row = im->kind >= 4 ? malloc(rowbytes) : NULL;
    if (im->kind >= 4 && row == NULL)
        return err_set(e, "out of memory");
    int rc = 0;
    for (int y = 0; y < im->h && rc == 0; y++) {
        uint8_t *dst = grey_row(g, y);
        if (row && fread(row, 1, rowbytes, fp) != rowbytes) {
            rc = truncated(fp, y, e);
            break;
        }
        for (int x = 0; x < im->w; x++) {
            unsigned v[3];
            for (size_t c = 0; c < spp; c++) {
                unsigned long u;
                if (row) {
                    v[c] = raw_sample(row, (size_t)x * spp + c, wide);
                } else if (read_uint(fp, false, 65535, &u) < 0) {
                    rc = feof(fp) || ferror(fp) ? truncated(fp, y, e)
                       : err_set(e, "bad sample at row %d, column %d", y + 1, x + 1);
                    break;
                } else {
                    v[c] = (unsigned)u;
                }
                if (v[c] > im->maxval) {
                    rc = err_set(e, "sample above the maximum value at row %d", y + 1);
                    break;
                }
            }
            if (rc < 0)
                break;
            dst[x] = colour ? rgb_to_grey(lut[v[0]], lut[v[1]], lut[v[2]])
                            : lut[v[0]];
        }
    }
    free(row);
    return rc;
}

static int pnm_read_grey(struct pnm_reader *pr, const struct pnm_image *im,
                         page *pg, errbuf *e)
{
    grey_image g;
    if (grey_alloc(&g, im->w, im->h, pr->opts.max_pixels, e) < 0)
        return -1;
    uint8_t *lut = malloc((size_t)im->maxval + 1);
    if (lut == NULL) {
        grey_free(&g);
        return err_set(e, "out of memory");
    }
    for (unsigned v = 0; v <= im->maxval; v++)
        lut[v] = (uint8_t)((v * 255u + im->maxval / 2) / im->maxval);
    int rc = pnm_grey(pr->fp, im, lut, &g, e);
    if (rc == 0)
        rc = binarize(&g, pr->opts.binarize, pg, e);
    free(lut);
    grey_free(&g);
    return rc;
}

static int pnm_read(void *impl, int index, page *pg, errbuf *e)
{
    struct pnm_reader *pr = impl;
    const struct pnm_image *im = &pr->img[index];
    double dpi = read_default_dpi(&pr->opts);
    if (read_check_size((uint64_t)im->w, (uint64_t)im->h, &pr->opts, e) < 0 ||
        page_alloc(pg, im->w, im->h, dpi, dpi, read_max_pixels(&pr->opts), e) < 0)
        return -1;
    if (fseeko(pr->fp, im->raster, SEEK_SET) < 0) {
        page_free(pg);
        return err_errno(e, errno, "cannot seek");
    }
    clearerr(pr->fp);
    int rc = im->kind == 4 ? pbm_raw(pr->fp, im, pg, e)
           : im->kind == 1 ? pbm_plain(pr->fp, im, pg, e)
           : pnm_read_grey(pr, im, pg, e);
    if (rc < 0) {
        page_free(pg);
        return -1;
    }
    page_clear_padding(pg);
    return 0;
}
