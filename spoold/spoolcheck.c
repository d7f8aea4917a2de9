/*
 * spoolcheck.c — is a page-image file complete?  A structural check that
 * reads only headers and directory entries, never pixels, so a scanner's
 * half-written file is told from a finished one cheaply (on every settle).
 *
 * TIFF (classic and BigTIFF, either byte order): walks the IFD chain
 * (loops and more than CHECK_MAX_PAGES pages refused), requires width,
 * length and strips or tiles on every page, and every strip/tile inside
 * the file.  PNG: chunk chain up to IEND inside the file.  PNM (P1-P6):
 * header, and for the binary forms the raster size.  JPEG: SOI at the
 * start, EOI at the end.  Anything else: "not a recognised image".
 */
#include "spoolint.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_MAX_PAGES 100000

struct rfile {
    struct spool *sp;
    int fd;
    uint64_t size;
    bool big, le;       /* BigTIFF, little-endian */
};

/* Reads exactly n bytes at off; -1 with a reason if past the end. */
static int rd(struct rfile *f, uint64_t off, void *buf, size_t n, errbuf *e)
{
    if (off > f->size || n > f->size - off)
        return err_set(e, "truncated: %zu bytes at offset %llu past the end "
                       "(%llu bytes)", n, (unsigned long long)off,
                       (unsigned long long)f->size);
    size_t got = 0;
    while (got < n) {
        ssize_t r = f->sp->ops->pread(f->sp->ctx, f->fd, (char *)buf + got,
                                      n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return err_errno(e, errno, "read");
        if (r == 0)
            return err_set(e, "truncated: file shrank while reading");
        got += (size_t)r;
    }
    return 0;
}

static uint64_t get(const struct rfile *f, const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)p[f->le ? i : n - 1 - i] << (8 * i);
    return v;
}

/* Value i of a SHORT/LONG/LONG8 array entry (inline or at an offset). */
static int tag_value(struct rfile *f, const unsigned char *ent, uint64_t i,
                     uint64_t *v, errbuf *e)
{
    int type = (int)get(f, ent + 2, 2);
    int sz = type == 3 ? 2 : type == 4 ? 4 : type == 16 ? 8 : 0;
    if (sz == 0)
        return err_set(e, "unexpected type %d for a size or offset tag", type);
    int cw = f->big ? 8 : 4;                /* count and value widths */
    uint64_t count = get(f, ent + 4, cw);
    const unsigned char *val = ent + 4 + cw;
    if (i >= count)
        return err_set(e, "tag value index out of range");
    if (count * (uint64_t)sz <= (uint64_t)cw) {
        *v = get(f, val + i * (uint64_t)sz, sz);
        return 0;
    }
    unsigned char b[8];
    if (rd(f, get(f, val, cw) + i * (uint64_t)sz, b, (size_t)sz, e) < 0)
        return -1;
    *v = get(f, b, sz);
    return 0;
}

/* Checks that every strip/tile (offsets tag ent_off, counts ent_cnt) lies
 * inside the file. */
static int check_strips(struct rfile *f, const unsigned char *ent_off,
                        const unsigned char *ent_cnt, errbuf *e)
{
    int cw = f->big ? 8 : 4;
    uint64_t n = get(f, ent_off + 4, cw);
    if (n == 0 || n != get(f, ent_cnt + 4, cw))
        return err_set(e, "strip offsets and byte counts disagree");
    for (uint64_t i = 0; i < n; i++) {
        uint64_t off, len;
        if (tag_value(f, ent_off, i, &off, e) < 0 ||
            tag_value(f, ent_cnt, i, &len, e) < 0)
            return -1;
        if (off > f->size || len > f->size - off)
            return err_set(e, "truncated: strip %llu ends past the end of the "
                           "file", (unsigned long long)i + 1);
    }
    return 0;
}

/* One IFD at off: checks it, returns the next IFD offset in *next. */
static int tiff_ifd(struct rfile *f, uint64_t off, uint64_t *next,
                    uint64_t *pixels, errbuf *e)
{
    int hw = f->big ? 8 : 2, ew = f->big ? 20 : 12, nw = f->big ? 8 : 4;
    unsigned char hb[8];
    if (rd(f, off, hb, (size_t)hw, e) < 0)
        return -1;
    uint64_t n = get(f, hb, hw);
    if (n == 0 || n > 4096)
        return err_set(e, "implausible directory with %llu entries",
                       (unsigned long long)n);
    unsigned char *ents = malloc((size_t)(n * (uint64_t)ew) + 8);
    if (ents == NULL)
        return err_set(e, "out of memory");
    int rc = rd(f, off + (uint64_t)hw, ents, (size_t)(n * (uint64_t)ew) + (size_t)nw, e);
    const unsigned char *so = NULL, *sc = NULL, *to = NULL, *tc = NULL;
    uint64_t w = 0, h = 0;
    for (uint64_t i = 0; rc == 0 && i < n; i++) {
        const unsigned char *ent = ents + i * (uint64_t)ew;
        int tag = (int)get(f, ent, 2);
        if (tag == 256) rc = tag_value(f, ent, 0, &w, e);
        else if (tag == 257) rc = tag_value(f, ent, 0, &h, e);
        else if (tag == 273) so = ent;
        else if (tag == 279) sc = ent;
        else if (tag == 324) to = ent;
        else if (tag == 325) tc = ent;
    }
    if (rc == 0 && (w == 0 || h == 0))
        rc = err_set(e, "page without width or length");
    if (rc == 0 && so && sc)
        rc = check_strips(f, so, sc, e);
    else if (rc == 0 && to && tc)
        rc = check_strips(f, to, tc, e);
    else if (rc == 0)
        rc = err_set(e, "page without strips or tiles");
    if (rc == 0) {
        *next = get(f, ents + n * (uint64_t)ew, nw);
        *pixels = w * h;
    }
    free(ents);
    return rc;
}

static bool seen_before(uint64_t *seen, size_t cap, uint64_t off)
{
    size_t i = (size_t)((off * UINT64_C(0x9E3779B97F4A7C15)) >> 40) % cap;
    while (seen[i] != 0) {
        if (seen[i] == off)
            return true;
        i = (i + 1) % cap;
    }
    seen[i] = off;
    return false;
}

/* Doubles the visited-offset set (open addressing, 0 = empty). */
static int grow_seen(uint64_t **seen, size_t *cap)
{
    size_t ncap = *cap * 2;
    uint64_t *ns = calloc(ncap, sizeof *ns);
    if (ns == NULL)
        return -1;
    for (size_t i = 0; i < *cap; i++)
        if ((*seen)[i])
            seen_before(ns, ncap, (*seen)[i]);
    free(*seen);
    *seen = ns;
    *cap = ncap;
    return 0;
}

static int check_tiff(struct rfile *f, const unsigned char *hdr, int *pages,
                      uint64_t *maxpx, errbuf *e)
{
    f->le = hdr[0] == 'I';
    f->big = get(f, hdr + 2, 2) == 43;
    uint64_t off = get(f, hdr + 4, 4);
    if (f->big) {
        unsigned char b[8];
        if (rd(f, 8, b, 8, e) < 0)
            return -1;
        off = get(f, b, 8);
    }
    size_t cap = 256;
    uint64_t *seen = calloc(cap, sizeof *seen);
    if (seen == NULL)
        return err_set(e, "out of memory");
    int n = 0, rc = 0;
    while (off != 0 && rc == 0) {
        uint64_t px = 0;
        if (n >= CHECK_MAX_PAGES)
            rc = err_set(e, "more than %d pages", CHECK_MAX_PAGES);
        else if ((size_t)n * 2 >= cap && grow_seen(&seen, &cap) < 0)
            rc = err_set(e, "out of memory");
        else if (seen_before(seen, cap, off))
            rc = err_set(e, "directory loop at page %d", n + 1);
        else if (tiff_ifd(f, off, &off, &px, e) < 0) {
            err_prefix(e, "page %d", n + 1);
            rc = -1;
        } else {
            if (px > *maxpx)
                *maxpx = px;
            n++;
        }
    }
    free(seen);
    if (rc == 0 && n == 0)
        rc = err_set(e, "TIFF without pages");
    *pages = n;
    return rc;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* PNG: chunk headers from offset 8 up to IEND, every chunk inside. */
static int check_png(struct rfile *f, uint64_t *maxpx, errbuf *e)
{
    uint64_t off = 8;
    for (int i = 0; i < 1000000; i++) {
        unsigned char ch[16];
        if (rd(f, off, ch, 8, e) < 0)
            return -1;
        uint64_t len = be32(ch);
        if (i == 0) {
            if (memcmp(ch + 4, "IHDR", 4) != 0 || len < 8 || rd(f, off + 8, ch + 8, 8, e) < 0)
                return err_set(e, "PNG without IHDR");
            *maxpx = (uint64_t)be32(ch + 8) * be32(ch + 12);
        }
        if (len > f->size || off + 12 + len > f->size)
            return err_set(e, "truncated: PNG chunk %d ends past the end", i + 1);
        if (memcmp(ch + 4, "IEND", 4) == 0)
            return 0;
        off += 12 + len;
    }
    return err_set(e, "PNG with too many chunks");
}

/* Reads one unsigned decimal of a PNM header, skipping blanks and comments. */
static int pnm_num(const unsigned char *b, size_t n, size_t *pos, uint64_t *v)
{
    while (*pos < n) {
        if (b[*pos] == '#') {
            while (*pos < n && b[*pos] != '\n')
                (*pos)++;
        } else if (b[*pos] == ' ' || b[*pos] == '\t' || b[*pos] == '\r' ||
                   b[*pos] == '\n') {
            (*pos)++;
        } else {
            break;
        }
    }
    if (*pos >= n || b[*pos] < '0' || b[*pos] > '9')
        return -1;
    *v = 0;
    while (*pos < n && b[*pos] >= '0' && b[*pos] <= '9' && *v < UINT64_C(1) << 40)
        *v = *v * 10 + (uint64_t)(b[(*pos)++] - '0');
    return 0;
}

static int check_pnm(struct rfile *f, uint64_t *maxpx, errbuf *e)
{
    unsigned char b[1024];
    size_t n = f->size < sizeof b ? (size_t)f->size : sizeof b;
    if (rd(f, 0, b, n, e) < 0)
        return -1;
    int kind = b[1] - '0';
    size_t pos = 2;
    uint64_t w, h, maxval = 1;
    if (pnm_num(b, n, &pos, &w) < 0 || pnm_num(b, n, &pos, &h) < 0 ||
        (kind != 1 && kind != 4 && pnm_num(b, n, &pos, &maxval) < 0) ||
        w == 0 || h == 0 || maxval == 0 || maxval > 65535 || pos >= n)
        return err_set(e, "truncated or malformed PNM header");
    *maxpx = w * h;
    if (kind <= 3)
        return 0;           /* plain (ASCII) forms: header is enough */
    pos++;                  /* the single blank after the header */
    uint64_t bps = maxval > 255 ? 2 : 1;
    uint64_t raster = kind == 4 ? (w + 7) / 8 * h
                    : kind == 5 ? w * h * bps : w * h * 3 * bps;
    if (f->size < pos + raster)
        return err_set(e, "truncated: PNM raster needs %llu bytes, file has %llu",
                       (unsigned long long)(pos + raster),
                       (unsigned long long)f->size);
    return 0;
}

static int check_jpeg(struct rfile *f, errbuf *e)
{
    unsigned char b[2];
    if (f->size < 4 || rd(f, f->size - 2, b, 2, e) < 0)
        return -1;
    if (b[0] != 0xff || b[1] != 0xd9)
        return err_set(e, "truncated: JPEG without end-of-image marker");
    return 0;
}

int spool_check_image(struct spool *sp, const char *path, int *pages,
                      uint64_t *max_pixels, errbuf *e)
{
    *pages = 0;
    *max_pixels = 0;
    struct rfile f = { .sp = sp };
    /* O_NONBLOCK: a FIFO swapped in after the scan's lstat must not block
     * the daemon in open(); fstat below refuses it */
    f.fd = sp->ops->open(sp->ctx, path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
                         O_CLOEXEC, 0);
    if (f.fd < 0)
        return err_errno(e, errno, "open %s", path);
    struct stat st;
    int rc = 0;
    unsigned char hdr[8] = {0};
    if (sp->ops->fstat(sp->ctx, f.fd, &st) < 0)
        rc = err_errno(e, errno, "fstat %s", path);
    else if (!S_ISREG(st.st_mode))
        rc = err_set(e, "%s: not a regular file", path);
    else {
        f.size = (uint64_t)st.st_size;
        rc = rd(&f, 0, hdr, f.size < 8 ? (size_t)f.size : 8, e);
    }
    if (rc == 0) {
        if ((hdr[0] == 'I' && hdr[1] == 'I' && (hdr[2] == 42 || hdr[2] == 43) && hdr[3] == 0) ||
            (hdr[0] == 'M' && hdr[1] == 'M' && hdr[2] == 0 && (hdr[3] == 42 || hdr[3] == 43)))
            rc = check_tiff(&f, hdr, pages, max_pixels, e);
        else if (memcmp(hdr, "\x89PNG\r\n\x1a\n", 8) == 0)
            rc = check_png(&f, max_pixels, e), *pages = 1;
        else if (hdr[0] == 'P' && hdr[1] >= '1' && hdr[1] <= '6')
            rc = check_pnm(&f, max_pixels, e), *pages = 1;
        else if (hdr[0] == 0xff && hdr[1] == 0xd8)
            rc = check_jpeg(&f, e), *pages = 1;
        else
            rc = err_set(e, "not a recognised image (TIFF, PNG, PNM, JPEG)");
        if (rc < 0 && f.size < 8 && strstr(e->msg, "truncated") == NULL)
            err_prefix(e, "truncated (%llu bytes)", (unsigned long long)f.size);
    }
    if (sp->ops->close(sp->ctx, f.fd) < 0 && rc == 0)
        rc = err_errno(e, errno, "close %s", path);
    if (rc < 0)
        *pages = 0;
    return rc;
}
