/*
 * tiffio.c — TIFF reading and multi-page G4 TIFF writing through libtiff.
 *
 * Errors and warnings from libtiff are captured per handle (libtiff >= 4.5
 * open options), never printed: the first error becomes the reason returned
 * to the caller.
 */
#include "pageio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <tiffio.h>

struct tiff_msgs {
    char first_error[256];
};

static int tiff_on_error(TIFF *tif, void *user, const char *module,
                         const char *fmt, va_list ap)
{
    struct tiff_msgs *m = user;
    if (m->first_error[0] == '\0') {
        vsnprintf(m->first_error, sizeof m->first_error, fmt, ap);
    }
    return 1;   /* handled: do not call the global handler */
}

static int tiff_on_warning(TIFF *tif, void *user, const char *module,
                           const char *fmt, va_list ap)
{
    return 1;   /* warnings (unknown tags and such) are not errors */
}

static TIFF *tiff_open(const char *path, const char *mode,
                       struct tiff_msgs *msgs, errbuf *e)
{
    TIFFOpenOptions *opts = TIFFOpenOptionsAlloc();
    if (opts == NULL) {
        err_set(e, "out of memory");
        return NULL;
    }
    TIFFOpenOptionsSetErrorHandlerExtR(opts, tiff_on_error, msgs);
    TIFFOpenOptionsSetWarningHandlerExtR(opts, tiff_on_warning, msgs);
    TIFF *tif = TIFFOpenExt(path, mode, opts);
    TIFFOpenOptionsFree(opts);
    if (tif == NULL)
        err_set(e, "%s", msgs->first_error[0] ? msgs->first_error
                                              : "cannot open as TIFF");
    return tif;
}

/* ------------------------------------------------------------- reading */

struct page_reader {
    TIFF *tif;
    struct tiff_msgs msgs;
    struct read_opts opts;
    int npages;
};

int page_reader_open(struct page_reader **out, const char *path,
                     const struct read_opts *o, errbuf *e)
{
    *out = NULL;
    struct page_reader *rd = calloc(1, sizeof *rd);
    if (rd == NULL)
        return err_set(e, "out of memory");
    rd->opts = *o;
    rd->tif = tiff_open(path, "rm", &rd->msgs, e);
    if (rd->tif == NULL) {
        free(rd);
        return -1;
    }
    tdir_t n = TIFFNumberOfDirectories(rd->tif);
    if (n < 1) {
        page_reader_close(rd);
        return err_set(e, "no pages");
    }
    rd->npages = (int)n;
    *out = rd;
    return 0;
}

int page_reader_count(const struct page_reader *rd)
{
    return rd->npages;
}

static double tiff_resolution(TIFF *tif, ttag_t tag, double fallback)
{
    float res = 0;
    uint16_t unit = RESUNIT_INCH;
    if (!TIFFGetField(tif, tag, &res) || !(res > 0) || res > 1e6)
        return fallback;
    TIFFGetFieldDefaulted(tif, TIFFTAG_RESOLUTIONUNIT, &unit);
    if (unit == RESUNIT_CENTIMETER)
        return res * 2.54;
    if (unit == RESUNIT_NONE)
        return fallback;
    return res;
}

int page_reader_read(struct page_reader *rd, int index, page *pg, errbuf *e)
{
    TIFF *tif = rd->tif;
    rd->msgs.first_error[0] = '\0';
    if (!TIFFSetDirectory(tif, (tdir_t)index))
        return err_set(e, "cannot read directory: %s", rd->msgs.first_error);
    uint32_t w = 0, h = 0;
    uint16_t bps = 1, spp = 1, photo = PHOTOMETRIC_MINISWHITE;
    TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w);
    TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h);
    TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bps);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
    if (!TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photo))
        photo = PHOTOMETRIC_MINISWHITE;
    if (bps != 1 || spp != 1)
        return err_set(e, "unsupported image: %u bits per sample, %u samples",
                       bps, spp);
    if (TIFFIsTiled(tif))
        return err_set(e, "unsupported image: tiled");
    if (w == 0 || h == 0 || w > INT32_MAX || h > INT32_MAX)
        return err_set(e, "invalid image size %ux%u", w, h);
    double xres = tiff_resolution(tif, TIFFTAG_XRESOLUTION, rd->opts.default_dpi);
    double yres = tiff_resolution(tif, TIFFTAG_YRESOLUTION, xres);
    if (page_alloc(pg, (int)w, (int)h, xres, yres, rd->opts.max_pixels, e) < 0)
        return -1;
    tmsize_t linebytes = TIFFScanlineSize(tif);
    size_t rowbytes = ((size_t)w + 7) / 8;
    if (linebytes < (tmsize_t)rowbytes) {
        page_free(pg);
        return err_set(e, "inconsistent scanline size");
    }
    uint8_t *line = malloc((size_t)linebytes);
    if (line == NULL) {
        page_free(pg);
        return err_set(e, "out of memory");
    }
    for (uint32_t y = 0; y < h; y++) {
        if (TIFFReadScanline(tif, line, y, 0) < 0) {
            free(line);
            page_free(pg);
            return err_set(e, "row %u: %s", y, rd->msgs.first_error[0]
                           ? rd->msgs.first_error : "read error");
        }
        uint8_t *row = page_row(pg, (int)y);
        memcpy(row, line, rowbytes);
        if (photo == PHOTOMETRIC_MINISBLACK)
            for (size_t i = 0; i < rowbytes; i++)
                row[i] = (uint8_t)~row[i];
    }
    free(line);
    page_clear_padding(pg);
    return 0;
}

void page_reader_close(struct page_reader *rd)
{
    if (rd == NULL)
        return;
    if (rd->tif)
        TIFFClose(rd->tif);
    free(rd);
}

/* ------------------------------------------------------------- writing */

struct page_writer {
    TIFF *tif;
    struct tiff_msgs msgs;
    char *path;
    char *tmp;
    int npages;
};

int page_writer_open(struct page_writer **out, const char *path, errbuf *e)
{
    *out = NULL;
    struct page_writer *wr = calloc(1, sizeof *wr);
    if (wr == NULL)
        return err_set(e, "out of memory");
    const char *slash = strrchr(path, '/');
    int dirlen = slash ? (int)(slash - path + 1) : 0;
    const char *base = slash ? slash + 1 : path;
    size_t tmplen = strlen(path) + 32;
    wr->path = strdup(path);
    wr->tmp = malloc(tmplen);
    if (wr->path == NULL || wr->tmp == NULL) {
        page_writer_abort(wr);
        return err_set(e, "out of memory");
    }
    snprintf(wr->tmp, tmplen, "%.*s.%s.XXXXXX", dirlen, path, base);
    int fd = mkstemp(wr->tmp);
    if (fd < 0) {
        int err = errno;
        free(wr->tmp);
        wr->tmp = NULL;
        page_writer_abort(wr);
        return err_errno(e, err, "cannot create temporary file for %s", path);
    }
    close(fd);
    wr->tif = tiff_open(wr->tmp, "w", &wr->msgs, e);
    if (wr->tif == NULL) {
        page_writer_abort(wr);
        return -1;
    }
    *out = wr;
    return 0;
}

int page_writer_add(struct page_writer *wr, const page *pg, errbuf *e)
{
    TIFF *tif = wr->tif;
    wr->msgs.first_error[0] = '\0';
    TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, (uint32_t)pg->width);
    TIFFSetField(tif, TIFFTAG_IMAGELENGTH, (uint32_t)pg->height);
    TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 1);
    TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 1);
    TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE);
    TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_CCITTFAX4);
    TIFFSetField(tif, TIFFTAG_FILLORDER, FILLORDER_MSB2LSB);
    TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, (uint32_t)pg->height);
    TIFFSetField(tif, TIFFTAG_XRESOLUTION, (float)pg->xres);
    TIFFSetField(tif, TIFFTAG_YRESOLUTION, (float)pg->yres);
    TIFFSetField(tif, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
    TIFFSetField(tif, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
    TIFFSetField(tif, TIFFTAG_PAGENUMBER, (uint16_t)wr->npages, (uint16_t)0);
    TIFFSetField(tif, TIFFTAG_SOFTWARE, "spoold " SPOOLD_VERSION);
    size_t rowbytes = ((size_t)pg->width + 7) / 8;
    for (int y = 0; y < pg->height; y++) {
        if (TIFFWriteScanline(tif, page_row(pg, y), (uint32_t)y, 0) < 0)
            return err_set(e, "cannot write row %d: %s", y,
                           wr->msgs.first_error[0] ? wr->msgs.first_error
                                                   : "write error");
    }
    (void)rowbytes;
    if (!TIFFWriteDirectory(tif))
        return err_set(e, "cannot write page: %s",
                       wr->msgs.first_error[0] ? wr->msgs.first_error
                                               : "write error");
    wr->npages++;
    return 0;
}

int page_writer_commit(struct page_writer *wr, errbuf *e)
{
    int rc = 0;
    wr->msgs.first_error[0] = '\0';
    if (!TIFFFlush(wr->tif))
        rc = err_set(e, "cannot flush %s: %s", wr->tmp, wr->msgs.first_error);
    int fd = TIFFFileno(wr->tif);
    if (rc == 0 && fsync(fd) < 0)
        rc = err_errno(e, errno, "cannot fsync %s", wr->tmp);
    TIFFClose(wr->tif);   /* the fd is closed here; a close error after a
                             successful fsync cannot lose data we wrote */
    wr->tif = NULL;
    if (rc == 0 && rename(wr->tmp, wr->path) < 0)
        rc = err_errno(e, errno, "cannot rename %s to %s", wr->tmp, wr->path);
    if (rc < 0) {
        page_writer_abort(wr);
        return -1;
    }
    free(wr->tmp);
    free(wr->path);
    free(wr);
    return 0;
}

void page_writer_abort(struct page_writer *wr)
{
    if (wr == NULL)
        return;
    if (wr->tif)
        TIFFClose(wr->tif);
    if (wr->tmp)
        unlink(wr->tmp);
    free(wr->tmp);
    free(wr->path);
    free(wr);
}
