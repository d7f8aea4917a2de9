/*
 * tiffio.c — TIFF reading (every page; bilevel in any compression libtiff
 * decodes, strips or tiles; grey, palette and RGB through binarize.c) and
 * multi-page CCITT G4 TIFF writing through libtiff (strips encoded by
 * g4enc.c).
 *
 * Errors and warnings from libtiff are captured per handle (libtiff >= 4.5
 * open options), never printed: the first error becomes the reason returned
 * to the caller.  A warning while pixel data is decoded (a fax decoder's
 * "premature EOL", a bad code) means corrupt data and is an error too: a
 * page is never returned partly decoded.
 *
 * Sizes are checked before anything of their size is allocated: the page
 * against read_opts.max_pixels, strips and tiles against the page, and every
 * strip's or tile's byte range against the file size (a truncated file is
 * refused before decoding).  Files are read with read(2), not mmap(2), so a
 * file truncated by someone else while we read it gives an error, not
 * SIGBUS.
 */
#include "pageio_impl.h"
#include "binarize.h"
#include "g4enc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <tiffio.h>

/* Strips larger than this are decoded scanline by scanline (grey/colour). */
#define BIG_STRIP_BYTES (64u << 20)

struct tiff_msgs {
    char first_error[256];
    char first_warning[256];
    int nwarnings;
};

/* Formats a libtiff message without the "FILENAME: " some of them start
 * with (the caller names the file itself). */
static void tiff_format(TIFF *tif, char *buf, size_t len, const char *fmt,
                        va_list ap)
{
    vsnprintf(buf, len, fmt, ap);
    const char *name = tif ? TIFFFileName(tif) : NULL;
    size_t n = name ? strlen(name) : 0;
    if (n && strncmp(buf, name, n) == 0 && buf[n] == ':' && buf[n + 1] == ' ')
        memmove(buf, buf + n + 2, strlen(buf + n + 2) + 1);
}

static int tiff_on_error(TIFF *tif, void *user, const char *module,
                         const char *fmt, va_list ap)
{
    struct tiff_msgs *m = user;
    if (m->first_error[0] == '\0')
        tiff_format(tif, m->first_error, sizeof m->first_error, fmt, ap);
    return 1;   /* handled: do not call the global handler */
}

/* Warnings are kept (while decoding they mean corrupt data); one about an
 * I/O error is an error: libtiff drops a tag it cannot read to the end of
 * the file, which only happens to truncated files. */
static int tiff_on_warning(TIFF *tif, void *user, const char *module,
                           const char *fmt, va_list ap)
{
    struct tiff_msgs *m = user;
    char msg[sizeof m->first_warning];
    tiff_format(tif, msg, sizeof msg, fmt, ap);
    if (m->nwarnings++ == 0)
        memcpy(m->first_warning, msg, sizeof msg);
    if (strstr(msg, "IO error") && m->first_error[0] == '\0') {
        char *cut = strstr(msg, "; tag ignored");
        if (cut)
            *cut = '\0';
        snprintf(m->first_error, sizeof m->first_error,
                 "truncated file (%s)", msg);
    }
    return 1;
}

static void msgs_clear(struct tiff_msgs *m)
{
    m->first_error[0] = '\0';
    m->first_warning[0] = '\0';
    m->nwarnings = 0;
}

static const char *msgs_error(const struct tiff_msgs *m, const char *fallback)
{
    return m->first_error[0] ? m->first_error : fallback;
}

/* Opens fd (which libtiff then owns on success) with captured messages and
 * a cap on libtiff's own allocations. */
static TIFF *tiff_fdopen(int fd, const char *name, const char *mode,
                         tmsize_t max_alloc, struct tiff_msgs *msgs, errbuf *e)
{
    TIFFOpenOptions *opts = TIFFOpenOptionsAlloc();
    if (opts == NULL) {
        err_set(e, "out of memory");
        return NULL;
    }
    TIFFOpenOptionsSetErrorHandlerExtR(opts, tiff_on_error, msgs);
    TIFFOpenOptionsSetWarningHandlerExtR(opts, tiff_on_warning, msgs);
    if (max_alloc > 0)
        TIFFOpenOptionsSetMaxSingleMemAlloc(opts, max_alloc);
    TIFF *tif = TIFFFdOpenExt(fd, name, mode, opts);
    TIFFOpenOptionsFree(opts);
    if (tif == NULL)
        err_set(e, "not a readable TIFF: %s", msgs_error(msgs, "open failed"));
    return tif;
}

/* ------------------------------------------------------------- reading */

struct tiff_reader {
    TIFF *tif;
    struct tiff_msgs msgs;
    struct read_opts opts;
    uint64_t file_size;
    int cur;            /* directory libtiff has loaded, -1 = unknown */
};

/* How the samples of one page turn into ink. */
enum tiff_kind { K_BILEVEL, K_GREY8, K_GREY16, K_PALETTE8, K_RGB8, K_RGB16 };

struct tiff_page {
    uint32_t w, h;
    uint16_t bps, spp, photo, compression;
    enum tiff_kind kind;
    bool invert;        /* bilevel: 1 bits are white; grey: 0 is white */
    uint8_t lut[256];   /* palette index -> grey */
};

static int tiff_reader_read(void *impl, int index, page *pg, errbuf *e);
static void tiff_reader_close(void *impl);

static const struct reader_ops tiff_ops = {
    "TIFF", tiff_reader_read, tiff_reader_close,
};

/* Cap for one allocation inside libtiff: enough for a strip of the largest
 * page allowed (16-bit RGB), never less than 16 MiB. */
static tmsize_t libtiff_alloc_cap(const struct read_opts *o)
{
    uint64_t cap = read_max_pixels(o) * 6 + (1u << 20);
    if (cap < (16u << 20))
        cap = 16u << 20;
    if (cap > (uint64_t)INT64_MAX / 2)
        cap = (uint64_t)INT64_MAX / 2;
    return (tmsize_t)cap;
}

int tiff_reader_open(struct page_reader *rd, int fd, const char *name,
                     const struct read_opts *o, errbuf *e)
{
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int err = errno;
        close(fd);
        return err_errno(e, err, "cannot stat");
    }
    struct tiff_reader *tr = calloc(1, sizeof *tr);
    if (tr == NULL) {
        close(fd);
        return err_set(e, "out of memory");
    }
    tr->opts = *o;
    tr->file_size = (uint64_t)st.st_size;
    /* "m": no mmap (SIGBUS on truncation); read errors become errors */
    tr->tif = tiff_fdopen(fd, name, "rm", libtiff_alloc_cap(o), &tr->msgs, e);
    if (tr->tif == NULL) {
        close(fd);
        free(tr);
        return -1;
    }
    if (tr->msgs.first_error[0]) {
        err_set(e, "not a readable TIFF: %s", tr->msgs.first_error);
        tiff_reader_close(tr);
        return -1;
    }
    tdir_t n = TIFFNumberOfDirectories(tr->tif);
    if (tr->msgs.first_error[0] || n < 1) {
        err_set(e, "bad page list: %s", msgs_error(&tr->msgs, "no pages"));
        tiff_reader_close(tr);
        return -1;
    }
    /* libtiff stops counting at an IFD loop or an unreadable directory
     * without an error; the last page counted must really be the last */
    tr->cur = (int)n - 1;
    if (!TIFFSetDirectory(tr->tif, n - 1) || tr->msgs.first_error[0]) {
        err_set(e, "bad page list: page %u: %s", (unsigned)n,
                msgs_error(&tr->msgs, "cannot read directory"));
        tiff_reader_close(tr);
        return -1;
    }
    if (!TIFFLastDirectory(tr->tif)) {
        err_set(e, "bad page list: the directory chain does not end after "
                "page %u (IFD loop or bad directory offset)", (unsigned)n);
        tiff_reader_close(tr);
        return -1;
    }
    rd->ops = &tiff_ops;
    rd->impl = tr;
    rd->npages = (int)n;
    return 0;
}

static void tiff_reader_close(void *impl)
{
    struct tiff_reader *tr = impl;
    if (tr == NULL)
        return;
    if (tr->tif)
        TIFFClose(tr->tif);
    free(tr);
}

/* Makes directory `index` the current one. */
static int tiff_goto(struct tiff_reader *tr, int index, errbuf *e)
{
    if (tr->cur == index)
        return 0;
    int ok = tr->cur >= 0 && index == tr->cur + 1
        ? TIFFReadDirectory(tr->tif)
        : TIFFSetDirectory(tr->tif, (tdir_t)index);
    if (!ok || tr->msgs.first_error[0]) {
        tr->cur = -1;
        return err_set(e, "cannot read directory: %s",
                       msgs_error(&tr->msgs, "read error"));
    }
    tr->cur = index;
    return 0;
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

/* Palette: grey of every entry; for 1-bit, whether index 1 is the light one. */
static int tiff_palette(TIFF *tif, struct tiff_page *tp, errbuf *e)
{
    uint16_t *r, *g, *b;
    if (!TIFFGetField(tif, TIFFTAG_COLORMAP, &r, &g, &b))
        return err_set(e, "palette image without a colour map");
    int n = 1 << tp->bps;
    for (int i = 0; i < n; i++)
        tp->lut[i] = rgb_to_grey(r[i] >> 8, g[i] >> 8, b[i] >> 8);
    if (tp->bps == 1)
        tp->invert = tp->lut[1] > tp->lut[0];
    return 0;
}

static const char *photometric_name(uint16_t photo)
{
    static const char *const names[] = {
        "min-is-white", "min-is-black", "RGB", "palette", "transparency mask",
        "CMYK", "YCbCr", "photometric 7", "CIE L*a*b*",
    };
    return photo < sizeof names / sizeof *names ? names[photo] : "other photometric";
}

/* Classifies the sample layout; refuses what we do not read. */
static int tiff_classify(TIFF *tif, struct tiff_page *tp, errbuf *e)
{
    uint16_t planar = PLANARCONFIG_CONTIG, fmt = SAMPLEFORMAT_UINT;
    TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &planar);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &fmt);
    uint16_t bps = tp->bps, spp = tp->spp, photo = tp->photo;
    if (fmt != SAMPLEFORMAT_UINT && fmt != SAMPLEFORMAT_VOID)
        return err_set(e, "unsupported image: sample format %u", fmt);
    if (spp == 1 && bps == 1 && (photo == PHOTOMETRIC_MINISWHITE ||
                                 photo == PHOTOMETRIC_MINISBLACK)) {
        tp->kind = K_BILEVEL;
        tp->invert = photo == PHOTOMETRIC_MINISBLACK;
        return 0;
    }
    if (spp == 1 && photo == PHOTOMETRIC_PALETTE && (bps == 1 || bps == 8)) {
        tp->kind = bps == 1 ? K_BILEVEL : K_PALETTE8;
        return tiff_palette(tif, tp, e);
    }
    if (spp == 1 && (bps == 8 || bps == 16) &&
        (photo == PHOTOMETRIC_MINISWHITE || photo == PHOTOMETRIC_MINISBLACK)) {
        tp->kind = bps == 8 ? K_GREY8 : K_GREY16;
        tp->invert = photo == PHOTOMETRIC_MINISWHITE;
        return 0;
    }
    if (photo == PHOTOMETRIC_YCBCR && tp->compression == COMPRESSION_JPEG &&
        spp == 3 && bps == 8 && planar == PLANARCONFIG_CONTIG) {
        /* let the JPEG codec convert to RGB */
        if (!TIFFSetField(tif, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB))
            return err_set(e, "cannot decode JPEG YCbCr as RGB");
        tp->kind = K_RGB8;
        return 0;
    }
    if (photo == PHOTOMETRIC_RGB && (spp == 3 || spp == 4) &&
        (bps == 8 || bps == 16) && planar == PLANARCONFIG_CONTIG) {
        tp->kind = bps == 8 ? K_RGB8 : K_RGB16;
        return 0;
    }
    return err_set(e, "unsupported image: %u bits per sample, %u samples per "
                   "pixel, %s%s", bps, spp, photometric_name(photo),
                   planar == PLANARCONFIG_SEPARATE && spp > 1
                   ? ", separate planes" : "");
}

/* Reads and checks the tags of the current directory. */
static int tiff_inspect(struct tiff_reader *tr, struct tiff_page *tp, errbuf *e)
{
    TIFF *tif = tr->tif;
    memset(tp, 0, sizeof *tp);
    if (!TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &tp->w) ||
        !TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &tp->h))
        return err_set(e, "no image size");
    if (read_check_size(tp->w, tp->h, &tr->opts, e) < 0)
        return -1;
    TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &tp->bps);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &tp->spp);
    TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &tp->compression);
    if (!TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &tp->photo))
        tp->photo = tp->spp >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISWHITE;
    if (!TIFFIsCODECConfigured(tp->compression))
        return err_set(e, "unsupported compression scheme %u", tp->compression);
    return tiff_classify(tif, tp, e);
}

/* Every strip or tile must have data inside the file. */
static int tiff_check_striles(struct tiff_reader *tr, uint32_t n, errbuf *e)
{
    const char *what = TIFFIsTiled(tr->tif) ? "tile" : "strip";
    for (uint32_t s = 0; s < n; s++) {
        int err = 0;
        uint64_t off = TIFFGetStrileOffsetWithErr(tr->tif, s, &err);
        uint64_t len = err ? 0 : TIFFGetStrileByteCountWithErr(tr->tif, s, &err);
        if (err)
            return err_set(e, "%s %u: %s", what, s,
                           msgs_error(&tr->msgs, "no offset or byte count"));
        if (len == 0)
            return err_set(e, "%s %u has no data", what, s);
        if (off > tr->file_size || len > tr->file_size - off)
            return err_set(e, "%s %u lies beyond the end of the file "
                           "(truncated file?)", what, s);
    }
    return 0;
}

/* Checks the strip or tile geometry against the page before allocating. */
static int tiff_check_layout(struct tiff_reader *tr, const struct tiff_page *tp,
                             errbuf *e)
{
    TIFF *tif = tr->tif;
    uint32_t n;
    if (TIFFIsTiled(tif)) {
        uint32_t tw = 0, th = 0;
        TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tw);
        TIFFGetField(tif, TIFFTAG_TILELENGTH, &th);
        if (tw == 0 || th == 0 || tw % 16 || th % 16)
            return err_set(e, "invalid tile size %ux%u", tw, th);
        /* tiles may overhang the image, but not absurdly: their buffer is
         * bounded by a few times the page */
        if ((uint64_t)tw * th > 4 * ((uint64_t)tp->w + 15) * (tp->h + 15) + 65536)
            return err_set(e, "tile %ux%u too large for a %ux%u image",
                           tw, th, tp->w, tp->h);
        n = TIFFNumberOfTiles(tif);
        if (n != ((tp->w + tw - 1) / tw) * ((tp->h + th - 1) / th))
            return err_set(e, "wrong number of tiles (%u)", n);
    } else {
        n = TIFFNumberOfStrips(tif);
        uint32_t rps = tp->h;
        TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &rps);
        if (rps == 0)
            return err_set(e, "invalid rows per strip 0");
        if (rps > tp->h)
            rps = tp->h;
        if (n != (tp->h + rps - 1) / rps)
            return err_set(e, "wrong number of strips (%u)", n);
    }
    return tiff_check_striles(tr, n, e);
}

/* Runs a libtiff decode call's result through the message capture. */
static int tiff_decoded(struct tiff_reader *tr, tmsize_t got, tmsize_t want,
                        const char *what, uint32_t s, errbuf *e)
{
    if (got < 0 || tr->msgs.first_error[0])
        return err_set(e, "%s %u: %s", what, s, msgs_error(&tr->msgs,
                       tr->msgs.nwarnings ? tr->msgs.first_warning
                                          : "decoding failed"));
    if (tr->msgs.nwarnings)
        return err_set(e, "%s %u: corrupt data: %s", what, s,
                       tr->msgs.first_warning);
    if (got < want)
        return err_set(e, "%s %u: short data (%lld of %lld bytes)", what, s,
                       (long long)got, (long long)want);
    return 0;
}

static void invert_bytes(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)~p[i];
}

/*
 * Bilevel strips are decoded straight into the page buffer: strip data is
 * packed (rowbytes per row), so it is decoded at the strip's first row and
 * its rows are then moved, last first, to their strided places (a row never
 * moves onto one not yet moved).  The stride slack (< 8 bytes) lies inside
 * the last 64-bit word of each row and is cleared by page_clear_padding.
 */
static int tiff_bilevel_strips(struct tiff_reader *tr, const struct tiff_page *tp,
                               page *pg, errbuf *e)
{
    TIFF *tif = tr->tif;
    size_t rowbytes = ((size_t)tp->w + 7) / 8;
    if ((size_t)TIFFScanlineSize64(tif) != rowbytes)
        return err_set(e, "inconsistent scanline size");
    uint32_t rps = tp->h;
    TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &rps);
    if (rps > tp->h)
        rps = tp->h;
    uint32_t nstrips = TIFFNumberOfStrips(tif);
    for (uint32_t s = 0; s < nstrips; s++) {
        uint32_t y0 = s * rps;
        uint32_t rows = tp->h - y0 < rps ? tp->h - y0 : rps;
        uint8_t *base = page_row(pg, (int)y0);
        tmsize_t want = (tmsize_t)(rows * rowbytes);
        msgs_clear(&tr->msgs);
        tmsize_t got = TIFFReadEncodedStrip(tif, s, base, want);
        if (tiff_decoded(tr, got, want, "strip", s, e) < 0)
            return -1;
        if (pg->stride != rowbytes)
            for (uint32_t r = rows; r-- > 1;)
                memmove(base + r * pg->stride, base + r * rowbytes, rowbytes);
        if (tp->invert)
            for (uint32_t r = 0; r < rows; r++)
                invert_bytes(base + r * pg->stride, rowbytes);
    }
    return 0;
}

static int tiff_bilevel_tiles(struct tiff_reader *tr, const struct tiff_page *tp,
                              page *pg, errbuf *e)
{
    TIFF *tif = tr->tif;
    uint32_t tw = 0, th = 0;
    TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tw);
    TIFFGetField(tif, TIFFTAG_TILELENGTH, &th);
    tmsize_t tsize = TIFFTileSize(tif);
    size_t trow = tw / 8;
    if (tsize <= 0 || (uint64_t)tsize != (uint64_t)trow * th)
        return err_set(e, "inconsistent tile size");
    uint8_t *buf = malloc((size_t)tsize);
    if (buf == NULL)
        return err_set(e, "out of memory");
    int rc = 0;
    for (uint32_t ty = 0; ty < tp->h && rc == 0; ty += th) {
        for (uint32_t tx = 0; tx < tp->w && rc == 0; tx += tw) {
            uint32_t t = TIFFComputeTile(tif, tx, ty, 0, 0);
            msgs_clear(&tr->msgs);
            tmsize_t got = TIFFReadEncodedTile(tif, t, buf, tsize);
            if ((rc = tiff_decoded(tr, got, tsize, "tile", t, e)) < 0)
                break;
            uint32_t rows = tp->h - ty < th ? tp->h - ty : th;
            uint32_t cols = tp->w - tx < tw ? tp->w - tx : tw;
            size_t n = (cols + 7) / 8;
            for (uint32_t r = 0; r < rows; r++) {
                uint8_t *dst = page_row(pg, (int)(ty + r)) + tx / 8;
                memcpy(dst, buf + r * trow, n);
                if (tp->invert)
                    invert_bytes(dst, n);
            }
        }
    }
    free(buf);
    return rc;
}

static inline unsigned load16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);   /* libtiff delivers native byte order */
    return v >> 8;
}

/* Converts n pixels of decoded samples to 8-bit grey (0 = black). */
static void tiff_to_grey(const struct tiff_page *tp, const uint8_t *src,
                         uint8_t *dst, size_t n)
{
    size_t step = tp->spp;
    switch (tp->kind) {
    case K_GREY8:
        for (size_t i = 0; i < n; i++)
            dst[i] = tp->invert ? (uint8_t)~src[i] : src[i];
        break;
    case K_GREY16:
        for (size_t i = 0; i < n; i++) {
            unsigned v = load16(src + 2 * i);
            dst[i] = (uint8_t)(tp->invert ? 255 - v : v);
        }
        break;
    case K_PALETTE8:
        for (size_t i = 0; i < n; i++)
            dst[i] = tp->lut[src[i]];
        break;
    case K_RGB8:
        for (size_t i = 0; i < n; i++, src += step)
            dst[i] = rgb_to_grey(src[0], src[1], src[2]);
        break;
    case K_RGB16:
        for (size_t i = 0; i < n; i++, src += 2 * step)
            dst[i] = rgb_to_grey(load16(src), load16(src + 2), load16(src + 4));
        break;
    case K_BILEVEL:
        break;
    }
}

/* Grey/colour strips: whole strips when they are of reasonable size,
 * otherwise scanline by scanline (libtiff decodes those incrementally). */
static int tiff_grey_strips(struct tiff_reader *tr, const struct tiff_page *tp,
                            grey_image *g, errbuf *e)
{
    TIFF *tif = tr->tif;
    uint64_t line = TIFFScanlineSize64(tif);
    uint64_t ssize = TIFFStripSize64(tif);
    uint32_t rps = tp->h;
    TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &rps);
    if (rps > tp->h)
        rps = tp->h;
    if (line == 0 || line * rps != ssize ||
        line < (uint64_t)tp->w * tp->spp * tp->bps / 8)
        return err_set(e, "inconsistent strip size");
    bool big = ssize > BIG_STRIP_BYTES;
    uint8_t *buf = malloc(big ? (size_t)line : (size_t)ssize);
    if (buf == NULL)
        return err_set(e, "out of memory");
    int rc = 0;
    for (uint32_t y0 = 0; y0 < tp->h && rc == 0; y0 += rps) {
        uint32_t s = y0 / rps;
        uint32_t rows = tp->h - y0 < rps ? tp->h - y0 : rps;
        for (uint32_t r = 0; r < rows && rc == 0; r++) {
            msgs_clear(&tr->msgs);
            if (big) {
                int got = TIFFReadScanline(tif, buf, y0 + r, 0);
                rc = tiff_decoded(tr, got < 0 ? -1 : 1, 1, "row", y0 + r, e);
            } else if (r == 0) {
                tmsize_t want = (tmsize_t)(rows * line);
                rc = tiff_decoded(tr, TIFFReadEncodedStrip(tif, s, buf, want),
                                  want, "strip", s, e);
            }
            if (rc == 0)
                tiff_to_grey(tp, big ? buf : buf + r * line,
                             grey_row(g, (int)(y0 + r)), tp->w);
        }
    }
    free(buf);
    return rc;
}

static int tiff_grey_tiles(struct tiff_reader *tr, const struct tiff_page *tp,
                           grey_image *g, errbuf *e)
{
    TIFF *tif = tr->tif;
    uint32_t tw = 0, th = 0;
    TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tw);
    TIFFGetField(tif, TIFFTAG_TILELENGTH, &th);
    uint64_t trow = TIFFTileRowSize64(tif);
    uint64_t tsize = TIFFTileSize64(tif);
    if (trow == 0 || trow * th != tsize || tsize > SIZE_MAX / 2 ||
        trow < (uint64_t)tw * tp->spp * tp->bps / 8)
        return err_set(e, "inconsistent tile size");
    uint8_t *buf = malloc((size_t)tsize);
    if (buf == NULL)
        return err_set(e, "out of memory");
    int rc = 0;
    for (uint32_t ty = 0; ty < tp->h && rc == 0; ty += th) {
        for (uint32_t tx = 0; tx < tp->w && rc == 0; tx += tw) {
            uint32_t t = TIFFComputeTile(tif, tx, ty, 0, 0);
            msgs_clear(&tr->msgs);
            rc = tiff_decoded(tr, TIFFReadEncodedTile(tif, t, buf, (tmsize_t)tsize),
                              (tmsize_t)tsize, "tile", t, e);
            uint32_t rows = tp->h - ty < th ? tp->h - ty : th;
            uint32_t cols = tp->w - tx < tw ? tp->w - tx : tw;
            for (uint32_t r = 0; r < rows && rc == 0; r++)
                tiff_to_grey(tp, buf + r * trow, grey_row(g, (int)(ty + r)) + tx,
                             cols);
        }
    }
    free(buf);
    return rc;
}

static int tiff_read_grey(struct tiff_reader *tr, const struct tiff_page *tp,
                          page *pg, errbuf *e)
{
    grey_image g;
    if (grey_alloc(&g, (int)tp->w, (int)tp->h, tr->opts.max_pixels, e) < 0)
        return -1;
    int rc = TIFFIsTiled(tr->tif) ? tiff_grey_tiles(tr, tp, &g, e)
                                  : tiff_grey_strips(tr, tp, &g, e);
    if (rc == 0)
        rc = binarize(&g, tr->opts.binarize, pg, e);
    grey_free(&g);
    return rc;
}

static int tiff_reader_read(void *impl, int index, page *pg, errbuf *e)
{
    struct tiff_reader *tr = impl;
    msgs_clear(&tr->msgs);
    struct tiff_page tp;
    if (tiff_goto(tr, index, e) < 0 || tiff_inspect(tr, &tp, e) < 0 ||
        tiff_check_layout(tr, &tp, e) < 0)
        return -1;
    double xres = tiff_resolution(tr->tif, TIFFTAG_XRESOLUTION,
                                  read_default_dpi(&tr->opts));
    double yres = tiff_resolution(tr->tif, TIFFTAG_YRESOLUTION, xres);
    if (page_alloc(pg, (int)tp.w, (int)tp.h, xres, yres,
                   read_max_pixels(&tr->opts), e) < 0)
        return -1;
    int rc;
    if (tp.kind != K_BILEVEL)
        rc = tiff_read_grey(tr, &tp, pg, e);
    else if (TIFFIsTiled(tr->tif))
        rc = tiff_bilevel_tiles(tr, &tp, pg, e);
    else
        rc = tiff_bilevel_strips(tr, &tp, pg, e);
    if (rc < 0) {
        page_free(pg);
        return -1;
    }
    page_clear_padding(pg);
    return 0;
}

/* ------------------------------------------------------------- writing */

struct page_writer {
    TIFF *tif;
    int fd;             /* our own descriptor of the temporary file */
    struct tiff_msgs msgs;
    char *path;
    char *tmp;
    struct g4_buf g4;   /* the encoded strip of the current page */
    int npages;
};

/* Creates path's temporary sibling ".BASE.XXXXXX" (mode 0666 & ~umask). */
static int create_temp(struct page_writer *wr, errbuf *e)
{
    const char *path = wr->path;
    const char *slash = strrchr(path, '/');
    int dirlen = slash ? (int)(slash - path + 1) : 0;
    const char *base = slash ? slash + 1 : path;
    size_t len = strlen(path) + 16;
    wr->tmp = malloc(len);
    if (wr->tmp == NULL)
        return err_set(e, "out of memory");
    static const char alnum[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    for (int attempt = 0; attempt < 100; attempt++) {
        unsigned char rnd[6];
        if (getrandom(rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            unsigned long v = (unsigned long)ts.tv_nsec ^ ((unsigned long)getpid() << 16);
            for (int i = 0; i < 6; i++, v >>= 5)
                rnd[i] = (unsigned char)(v + (unsigned)attempt * 7u);
        }
        char suffix[7];
        for (int i = 0; i < 6; i++)
            suffix[i] = alnum[rnd[i] % (sizeof alnum - 1)];
        suffix[6] = '\0';
        snprintf(wr->tmp, len, "%.*s.%.200s.%s", dirlen, path, base, suffix);
        wr->fd = open(wr->tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (wr->fd >= 0)
            return 0;
        if (errno != EEXIST) {
            int err = errno;
            free(wr->tmp);
            wr->tmp = NULL;
            return err_errno(e, err, "cannot create a temporary file in %.*s",
                             dirlen ? dirlen : 1, dirlen ? path : ".");
        }
    }
    free(wr->tmp);
    wr->tmp = NULL;
    return err_set(e, "cannot create a temporary file: too many name clashes");
}

int page_writer_open(struct page_writer **out, const char *path, errbuf *e)
{
    *out = NULL;
    struct page_writer *wr = calloc(1, sizeof *wr);
    if (wr == NULL)
        return err_set(e, "out of memory");
    wr->fd = -1;
    wr->path = strdup(path);
    if (wr->path == NULL) {
        free(wr);
        return err_set(e, "out of memory");
    }
    if (create_temp(wr, e) < 0) {
        page_writer_abort(wr);
        return -1;
    }
    /* libtiff gets (and closes) a duplicate; ours is fsync'ed and closed
     * with its errors checked at commit */
    int tfd = fcntl(wr->fd, F_DUPFD_CLOEXEC, 0);
    if (tfd < 0) {
        err_errno(e, errno, "cannot duplicate descriptor");
        page_writer_abort(wr);
        return -1;
    }
    wr->tif = tiff_fdopen(tfd, wr->tmp, "w", 0, &wr->msgs, e);
    if (wr->tif == NULL) {
        close(tfd);
        page_writer_abort(wr);
        return -1;
    }
    *out = wr;
    return 0;
}

/* A libtiff write failure: its message, plus the system's reason if any. */
static int write_error(struct page_writer *wr, int err, const char *what,
                       errbuf *e)
{
    if (err)
        return err_set(e, "%s: %s: %s", what, msgs_error(&wr->msgs, "write error"),
                       strerror(err));
    return err_set(e, "%s: %s", what, msgs_error(&wr->msgs, "write error"));
}

static int writer_set_tags(struct page_writer *wr, const page *pg)
{
    TIFF *tif = wr->tif;
    return TIFFSetField(tif, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE) &&
        TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, (uint32_t)pg->width) &&
        TIFFSetField(tif, TIFFTAG_IMAGELENGTH, (uint32_t)pg->height) &&
        TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 1) &&
        TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 1) &&
        TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE) &&
        TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_CCITTFAX4) &&
        TIFFSetField(tif, TIFFTAG_FILLORDER, FILLORDER_MSB2LSB) &&
        TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG) &&
        TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, (uint32_t)pg->height) &&
        TIFFSetField(tif, TIFFTAG_XRESOLUTION, (float)pg->xres) &&
        TIFFSetField(tif, TIFFTAG_YRESOLUTION, (float)pg->yres) &&
        TIFFSetField(tif, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH) &&
        TIFFSetField(tif, TIFFTAG_PAGENUMBER, (uint16_t)wr->npages, (uint16_t)0) &&
        TIFFSetField(tif, TIFFTAG_SOFTWARE, "spoold " SPOOLD_VERSION);
}

/* The strip is encoded by g4enc.c (about three times as fast as libtiff's
 * encoder, same bytes) and handed to libtiff as raw data. */
int page_writer_add(struct page_writer *wr, const page *pg, errbuf *e)
{
    msgs_clear(&wr->msgs);
    if (pg->width < 1 || pg->height < 1 || pg->bits == NULL)
        return err_set(e, "cannot write an empty page");
    if (!writer_set_tags(wr, pg))
        return write_error(wr, 0, "cannot set TIFF tags", e);
    if (g4_encode(pg, &wr->g4, e) < 0)
        return -1;
    errno = 0;
    if (TIFFWriteRawStrip(wr->tif, 0, wr->g4.data, (tmsize_t)wr->g4.len) !=
        (tmsize_t)wr->g4.len)
        return write_error(wr, errno, "cannot write page", e);
    errno = 0;
    if (!TIFFWriteDirectory(wr->tif))
        return write_error(wr, errno, "cannot write page directory", e);
    wr->npages++;
    return 0;
}

/* fsync of path's directory; filesystems that cannot sync a directory
 * (EINVAL, ENOTSUP: some FUSE and network filesystems) are not an error. */
static int sync_parent(const char *path, errbuf *e)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else if ((size_t)(slash - path) < sizeof dir)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    else
        return err_set(e, "directory name too long");
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return err_errno(e, errno, "cannot open directory %s", dir);
    int rc = 0;
    if (fsync(fd) < 0 && errno != EINVAL && errno != ENOTSUP && errno != ENOSYS)
        rc = err_errno(e, errno, "cannot fsync directory %s", dir);
    if (close(fd) < 0 && rc == 0)
        rc = err_errno(e, errno, "cannot close directory %s", dir);
    return rc;
}

int page_writer_commit(struct page_writer *wr, errbuf *e)
{
    msgs_clear(&wr->msgs);
    int rc = 0;
    if (wr->npages == 0)
        rc = err_set(e, "no pages to write");
    errno = 0;
    if (rc == 0 && !TIFFFlush(wr->tif))
        rc = write_error(wr, errno, "cannot flush", e);
    TIFFClose(wr->tif);     /* closes libtiff's duplicate descriptor */
    wr->tif = NULL;
    if (rc == 0 && fsync(wr->fd) < 0)
        rc = err_errno(e, errno, "cannot fsync %s", wr->tmp);
    int fd = wr->fd;
    wr->fd = -1;
    if (close(fd) < 0 && rc == 0)
        rc = err_errno(e, errno, "cannot close %s", wr->tmp);
    if (rc == 0 && rename(wr->tmp, wr->path) < 0)
        rc = err_errno(e, errno, "cannot rename %s to %s", wr->tmp, wr->path);
    if (rc < 0) {
        page_writer_abort(wr);
        return -1;
    }
    /* in place and complete; only its durability can still fail */
    free(wr->tmp);
    wr->tmp = NULL;
    rc = sync_parent(wr->path, e);
    page_writer_abort(wr);
    return rc;
}

void page_writer_abort(struct page_writer *wr)
{
    if (wr == NULL)
        return;
    if (wr->tif)
        TIFFClose(wr->tif);
    if (wr->fd >= 0)
        close(wr->fd);
    if (wr->tmp)
        unlink(wr->tmp);
    free(wr->tmp);
    free(wr->path);
    g4_buf_free(&wr->g4);
    free(wr);
}
