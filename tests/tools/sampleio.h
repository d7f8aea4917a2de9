/*
 * sampleio.h — image I/O shared by the sample-page tools (mkpage, scorepage):
 * reading bilevel pages from TIFF (any page of a multi-page file) and PBM/PGM,
 * reading 8-bit PGM grey images, and writing single- or multi-page CCITT G4
 * TIFF with a resolution tag.
 *
 * Deliberately independent of the project's own reader and writer
 * (filters/tiffio.c): the tools judge the project's output, so a bug in the
 * project's I/O must not be able to hide itself by being used on both sides.
 * Header-only (every tool is one .c file, see the Makefile); all functions
 * are static and marked unused so that a tool may use only some of them.
 *
 * Conventions: the page model of filters/page.h (1 = black).  A grey pixel
 * is ink when its value is below half of maxval ("threshold at 50 %").
 * Writing goes to PATH.tmp.PID and is renamed into place on success.
 */
#ifndef SPOOLD_SAMPLEIO_H
#define SPOOLD_SAMPLEIO_H

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <tiffio.h>

#include "errbuf.h"
#include "page.h"

#define SIO_FN static __attribute__((unused))

/* An 8-bit grey image, 0 = black, 255 = white, row-major, no padding. */
struct grey {
    int w, h;
    uint8_t *px;
};

SIO_FN void grey_free(struct grey *g)
{
    free(g->px);
    g->px = NULL;
    g->w = g->h = 0;
}

/* ------------------------------------------------------------- netpbm */

/* Reads one header integer of a netpbm file, skipping blanks and comments. */
SIO_FN int sio_pnm_int(FILE *f, long *v)
{
    int c;
    for (;;) {
        c = getc(f);
        if (c == '#') {
            while (c != '\n' && c != EOF)
                c = getc(f);
        } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            break;
        }
    }
    if (c < '0' || c > '9')
        return -1;
    long n = 0;
    while (c >= '0' && c <= '9') {
        n = n * 10 + (c - '0');
        if (n > 1000000000L)
            return -1;
        c = getc(f);
    }
    *v = n;     /* the single whitespace after the last field is consumed */
    return 0;
}

/* Opens a P4 or P5 file and reads its header; *kind = 4 or 5. */
SIO_FN FILE *sio_pnm_open(const char *path, int *kind, long *w, long *h,
                          long *maxval, errbuf *e)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        err_errno(e, errno, "%s", path);
        return NULL;
    }
    char magic[2];
    if (fread(magic, 1, 2, f) != 2 || magic[0] != 'P' ||
        (magic[1] != '4' && magic[1] != '5')) {
        fclose(f);
        err_set(e, "%s: not a binary PBM or PGM file", path);
        return NULL;
    }
    *kind = magic[1] - '0';
    *maxval = 1;
    if (sio_pnm_int(f, w) < 0 || sio_pnm_int(f, h) < 0 ||
        (*kind == 5 && sio_pnm_int(f, maxval) < 0) ||
        *w < 1 || *h < 1 || *maxval < 1 || *maxval > 255) {
        fclose(f);
        err_set(e, "%s: bad netpbm header (or 16-bit PGM)", path);
        return NULL;
    }
    return f;
}

/* Reads an 8-bit binary PGM (P5) into *g. */
SIO_FN int sio_read_pgm(const char *path, struct grey *g, errbuf *e)
{
    int kind;
    long w, h, maxval;
    FILE *f = sio_pnm_open(path, &kind, &w, &h, &maxval, e);
    if (f == NULL)
        return -1;
    if (kind != 5) {
        fclose(f);
        return err_set(e, "%s: not a PGM file", path);
    }
    g->w = (int)w;
    g->h = (int)h;
    g->px = malloc((size_t)w * (size_t)h);
    if (g->px == NULL) {
        fclose(f);
        return err_set(e, "%s: out of memory", path);
    }
    size_t n = fread(g->px, 1, (size_t)w * (size_t)h, f);
    fclose(f);
    if (n != (size_t)w * (size_t)h) {
        grey_free(g);
        return err_set(e, "%s: truncated PGM data", path);
    }
    if (maxval != 255)
        for (size_t i = 0; i < n; i++)
            g->px[i] = (uint8_t)(g->px[i] * 255 / maxval);
    return 0;
}

/* Reads a P4 bitmap or a P5 grey image (thresholded at 50 %) as a page. */
SIO_FN int sio_read_pnm_page(const char *path, double dpi, page *pg, errbuf *e)
{
    int kind;
    long w, h, maxval;
    FILE *f = sio_pnm_open(path, &kind, &w, &h, &maxval, e);
    if (f == NULL)
        return -1;
    if (page_alloc(pg, (int)w, (int)h, dpi, dpi, 0, e) < 0) {
        fclose(f);
        err_prefix(e, "%s", path);
        return -1;
    }
    size_t rowbytes = kind == 4 ? ((size_t)w + 7) / 8 : (size_t)w;
    uint8_t *line = malloc(rowbytes);
    int rc = line == NULL ? err_set(e, "%s: out of memory", path) : 0;
    for (long y = 0; rc == 0 && y < h; y++) {
        if (fread(line, 1, rowbytes, f) != rowbytes) {
            rc = err_set(e, "%s: truncated image data at row %ld", path, y);
        } else if (kind == 4) {
            memcpy(page_row(pg, (int)y), line, rowbytes);
        } else {
            for (long x = 0; x < w; x++)
                if (line[x] * 2 < maxval)
                    page_set(pg, (int)x, (int)y, 1);
        }
    }
    free(line);
    fclose(f);
    if (rc < 0)
        page_free(pg);
    else
        page_clear_padding(pg);
    return rc;
}

/* --------------------------------------------------------------- TIFF */

struct sio_tiffmsg {
    char first[256];
};

SIO_FN int sio_tiff_err(TIFF *tif, void *user, const char *module,
                        const char *fmt, va_list ap)
{
    struct sio_tiffmsg *m = user;
    if (m->first[0] == '\0')
        vsnprintf(m->first, sizeof m->first, fmt, ap);
    return 1;
}

SIO_FN int sio_tiff_warn(TIFF *tif, void *user, const char *module,
                         const char *fmt, va_list ap)
{
    return 1;
}

SIO_FN TIFF *sio_tiff_open(const char *path, const char *mode,
                           struct sio_tiffmsg *m, errbuf *e)
{
    m->first[0] = '\0';
    TIFFOpenOptions *o = TIFFOpenOptionsAlloc();
    if (o == NULL) {
        err_set(e, "%s: out of memory", path);
        return NULL;
    }
    TIFFOpenOptionsSetErrorHandlerExtR(o, sio_tiff_err, m);
    TIFFOpenOptionsSetWarningHandlerExtR(o, sio_tiff_warn, m);
    TIFF *t = TIFFOpenExt(path, mode, o);
    TIFFOpenOptionsFree(o);
    if (t == NULL)
        err_set(e, "%s: %s", path, m->first[0] ? m->first : "cannot open");
    return t;
}

SIO_FN int sio_is_tiff(const char *path)
{
    unsigned char b[4] = { 0 };
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return 0;
    size_t n = fread(b, 1, 4, f);
    fclose(f);
    return n == 4 && ((b[0] == 'I' && b[1] == 'I') || (b[0] == 'M' && b[1] == 'M'));
}

/* Number of pages of a TIFF file (1 for netpbm), or -1. */
SIO_FN int sio_count_pages(const char *path, errbuf *e)
{
    if (!sio_is_tiff(path))
        return access(path, R_OK) == 0 ? 1 : err_errno(e, errno, "%s", path);
    struct sio_tiffmsg m;
    TIFF *t = sio_tiff_open(path, "r", &m, e);
    if (t == NULL)
        return -1;
    int n = (int)TIFFNumberOfDirectories(t);
    TIFFClose(t);
    return n;
}

SIO_FN double sio_tiff_res(TIFF *t, ttag_t tag, double fallback)
{
    float r = 0;
    uint16_t unit = RESUNIT_INCH;
    if (!TIFFGetField(t, tag, &r) || !(r > 0) || r > 100000)
        return fallback;
    TIFFGetFieldDefaulted(t, TIFFTAG_RESOLUTIONUNIT, &unit);
    return unit == RESUNIT_CENTIMETER ? r * 2.54 : unit == RESUNIT_NONE ? fallback : r;
}

/* Copies one decoded scanline into row y of pg (bilevel or 8-bit grey). */
SIO_FN void sio_tiff_row(page *pg, int y, const uint8_t *line, int bps,
                         int invert)
{
    uint8_t *row = page_row(pg, y);
    if (bps == 1) {
        size_t n = ((size_t)pg->width + 7) / 8;
        for (size_t i = 0; i < n; i++)
            row[i] = invert ? (uint8_t)~line[i] : line[i];
        return;
    }
    for (int x = 0; x < pg->width; x++) {
        int ink = line[x] < 128;
        if (invert ? !ink : ink)
            page_set(pg, x, y, 1);
    }
}

/* Reads page `index` of a TIFF (1- or 8-bit, one sample, strips) or the
 * netpbm file at path.  Files without resolution get `dpi`. */
SIO_FN int sio_read_page(const char *path, int index, double dpi, page *pg,
                         errbuf *e)
{
    if (!sio_is_tiff(path)) {
        if (index != 0)
            return err_set(e, "%s: no page %d", path, index + 1);
        return sio_read_pnm_page(path, dpi, pg, e);
    }
    struct sio_tiffmsg m;
    TIFF *t = sio_tiff_open(path, "r", &m, e);
    if (t == NULL)
        return -1;
    uint32_t w = 0, h = 0;
    uint16_t bps = 1, spp = 1, photo = PHOTOMETRIC_MINISWHITE;
    int rc = 0;
    if (!TIFFSetDirectory(t, (tdir_t)index)) {
        rc = err_set(e, "%s: no page %d", path, index + 1);
    } else {
        TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w);
        TIFFGetField(t, TIFFTAG_IMAGELENGTH, &h);
        TIFFGetFieldDefaulted(t, TIFFTAG_BITSPERSAMPLE, &bps);
        TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLESPERPIXEL, &spp);
        TIFFGetField(t, TIFFTAG_PHOTOMETRIC, &photo);
        if ((bps != 1 && bps != 8) || spp != 1 || TIFFIsTiled(t) || w == 0 || h == 0)
            rc = err_set(e, "%s: page %d: unsupported (%u bits, %u samples%s)",
                         path, index + 1, bps, spp, TIFFIsTiled(t) ? ", tiled" : "");
    }
    double xres = rc == 0 ? sio_tiff_res(t, TIFFTAG_XRESOLUTION, dpi) : dpi;
    double yres = rc == 0 ? sio_tiff_res(t, TIFFTAG_YRESOLUTION, xres) : dpi;
    if (rc == 0 && page_alloc(pg, (int)w, (int)h, xres, yres, 0, e) < 0) {
        err_prefix(e, "%s", path);
        rc = -1;
    }
    uint8_t *line = rc == 0 ? malloc((size_t)TIFFScanlineSize(t) + 8) : NULL;
    if (rc == 0 && line == NULL)
        rc = err_set(e, "%s: out of memory", path);
    /* 1-bit MINISWHITE and 8-bit MINISBLACK are the natural forms here */
    int invert = bps == 1 ? photo == PHOTOMETRIC_MINISBLACK
                          : photo == PHOTOMETRIC_MINISWHITE;
    for (uint32_t y = 0; rc == 0 && y < h; y++) {
        if (TIFFReadScanline(t, line, y, 0) < 0)
            rc = err_set(e, "%s: page %d: row %u: %s", path, index + 1, y,
                         m.first[0] ? m.first : "read error");
        else
            sio_tiff_row(pg, (int)y, line, bps, invert);
    }
    free(line);
    TIFFClose(t);
    if (rc < 0 && pg->bits != NULL)
        page_free(pg);
    if (rc == 0)
        page_clear_padding(pg);
    return rc;
}

/* A multi-page G4 TIFF being written under a temporary name. */
struct sio_writer {
    TIFF *tif;
    struct sio_tiffmsg msg;
    char path[4096], tmp[4200];
};

SIO_FN int sio_writer_open(struct sio_writer *w, const char *path, errbuf *e)
{
    if (snprintf(w->path, sizeof w->path, "%s", path) >= (int)sizeof w->path)
        return err_set(e, "%s: path too long", path);
    snprintf(w->tmp, sizeof w->tmp, "%s.tmp.%ld", path, (long)getpid());
    w->tif = sio_tiff_open(w->tmp, "w", &w->msg, e);
    return w->tif == NULL ? -1 : 0;
}

SIO_FN int sio_writer_add(struct sio_writer *w, const page *pg, errbuf *e)
{
    TIFF *t = w->tif;
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, (uint32_t)pg->width);
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, (uint32_t)pg->height);
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 1);
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
    TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_CCITTFAX4);
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE);
    TIFFSetField(t, TIFFTAG_FILLORDER, FILLORDER_MSB2LSB);
    TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, (uint32_t)pg->height);
    TIFFSetField(t, TIFFTAG_XRESOLUTION, (float)pg->xres);
    TIFFSetField(t, TIFFTAG_YRESOLUTION, (float)pg->yres);
    TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
    for (int y = 0; y < pg->height; y++)
        if (TIFFWriteScanline(t, page_row(pg, y), (uint32_t)y, 0) < 0)
            return err_set(e, "%s: row %d: %s", w->tmp, y,
                           w->msg.first[0] ? w->msg.first : "write error");
    if (!TIFFWriteDirectory(t))
        return err_set(e, "%s: %s", w->tmp,
                       w->msg.first[0] ? w->msg.first : "cannot write directory");
    return 0;
}

SIO_FN void sio_writer_abort(struct sio_writer *w)
{
    if (w->tif != NULL)
        TIFFClose(w->tif);
    w->tif = NULL;
    unlink(w->tmp);
}

SIO_FN int sio_writer_commit(struct sio_writer *w, errbuf *e)
{
    TIFFClose(w->tif);      /* flushes; a write error was seen by add */
    w->tif = NULL;
    if (w->msg.first[0] != '\0') {
        unlink(w->tmp);
        return err_set(e, "%s: %s", w->tmp, w->msg.first);
    }
    if (rename(w->tmp, w->path) < 0) {
        int er = errno;
        unlink(w->tmp);
        return err_errno(e, er, "rename %s", w->path);
    }
    return 0;
}

/* Writes one page as a single-page G4 TIFF. */
SIO_FN int sio_write_page(const char *path, const page *pg, errbuf *e)
{
    struct sio_writer w;
    if (sio_writer_open(&w, path, e) < 0)
        return -1;
    if (sio_writer_add(&w, pg, e) < 0) {
        sio_writer_abort(&w);
        return -1;
    }
    return sio_writer_commit(&w, e);
}

#endif
