/*
 * scorepage-bits.h — whole-page bit operations for the scorer
 * (tests/tools/scorepage.c): shifting, placing, dilating, run filtering,
 * 4x reduction, exact quarter turns and rotation by shears, all on the
 * packed page model of filters/page.h, word by word.
 *
 * Written separately from the generator's geometry (tests/tools/mkpage.c
 * turns pixel by pixel and rotates grey images bilinearly; this file
 * transposes 8x8 bit blocks and rotates bitmaps by three shears), so that
 * scoring a generated page against its truth checks both.
 *
 * "Logical" words hold 64 pixels with the leftmost in bit 63 (page_load64);
 * operations that only AND/OR/count use the native words directly.
 */
#ifndef SPOOLD_SCOREPAGE_BITS_H
#define SPOOLD_SCOREPAGE_BITS_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "page.h"

#define BITS_FN static __attribute__((unused))

/* Longest row in 64-bit words (65536 px); the scorer refuses larger pages,
 * so row buffers can live on the stack. */
#define BITS_MAXW 1024

static inline size_t page_words(const page *p)
{
    return p->stride / 8 * (size_t)p->height;
}

static inline uint64_t *page_w64(const page *p)
{
    return (uint64_t *)(void *)p->bits;
}

/* Allocates a white page like `like` but w x h. */
BITS_FN int page_new(page *p, int w, int h, const page *like, errbuf *e)
{
    return page_alloc(p, w, h, like->xres, like->yres, UINT64_MAX, e);
}

/* |a & b| (b_not: |a & ~b|); a and b of equal size. */
BITS_FN uint64_t bits_count_and(const page *a, const page *b, bool b_not)
{
    const uint64_t *pa = page_w64(a), *pb = page_w64(b);
    uint64_t n = 0, flip = b_not ? ~0ull : 0;
    for (size_t i = 0, nw = page_words(a); i < nw; i++)
        n += (uint64_t)__builtin_popcountll(pa[i] & (pb[i] ^ flip));
    return n;
}

/* dst = a & ~b (all of equal size; dst may be a). */
BITS_FN void bits_andnot(page *dst, const page *a, const page *b)
{
    uint64_t *d = page_w64(dst);
    const uint64_t *pa = page_w64(a), *pb = page_w64(b);
    for (size_t i = 0, nw = page_words(a); i < nw; i++)
        d[i] = pa[i] & ~pb[i];
}

/* ------------------------------------------------------------ row shifts */

/* out = in moved right by k pixels (k < 0: left), n logical words; bits
 * moved past either end are dropped. */
BITS_FN void words_shift(const uint64_t *in, uint64_t *out, int n, long k)
{
    long q = k >= 0 ? k / 64 : -((-k) / 64);
    int r = (int)(k >= 0 ? k % 64 : (-k) % 64);
    for (int i = 0; i < n; i++) {
        long j = i - q;        /* source word for right shifts */
        uint64_t v = 0;
        if (k >= 0) {
            if (j >= 0 && j < n)
                v = r ? in[j] >> r : in[j];
            if (r && j - 1 >= 0 && j - 1 < n)
                v |= in[j - 1] << (64 - r);
        } else {
            if (j >= 0 && j < n)
                v = r ? in[j] << r : in[j];
            if (r && j + 1 >= 0 && j + 1 < n)
                v |= in[j + 1] >> (64 - r);
        }
        out[i] = v;
    }
}

static inline void row_load(const page *p, int y, uint64_t *w)
{
    const uint8_t *row = page_row(p, y);
    for (size_t i = 0; i < p->stride / 8; i++)
        w[i] = page_load64(row + 8 * i);
}

static inline void row_store(page *p, int y, const uint64_t *w)
{
    uint8_t *row = page_row(p, y);
    for (size_t i = 0; i < p->stride / 8; i++)
        page_store64(row + 8 * i, w[i]);
}

/* Clears the bits right of `width` in logical words. */
static inline void words_clip(uint64_t *w, int nwords, int width)
{
    for (int i = 0; i < nwords; i++) {
        int x0 = i * 64;
        if (x0 >= width)
            w[i] = 0;
        else if (width - x0 < 64)
            w[i] &= ~(~0ull >> (width - x0));
    }
}

/* dst(x, y) = src(x - dx, y - dy) into a white dst of any size; returns the
 * number of src ink pixels that fall outside dst. */
BITS_FN uint64_t page_place(const page *src, long dx, long dy, page *dst)
{
    int ns = (int)(src->stride / 8), nd = (int)(dst->stride / 8);
    int n = ns > nd ? ns : nd;
    uint64_t a[BITS_MAXW], b[BITS_MAXW];
    uint64_t inside = 0;
    for (int y = 0; y < src->height; y++) {
        long yd = y + dy;
        if (yd < 0 || yd >= dst->height)
            continue;
        memset(a, 0, sizeof(uint64_t) * (size_t)n);
        row_load(src, y, a);
        words_shift(a, b, n, dx);
        words_clip(b, nd, dst->width);
        row_store(dst, (int)yd, b);
        for (int i = 0; i < nd; i++)
            inside += (uint64_t)__builtin_popcountll(b[i]);
    }
    return page_count_black(src) - inside;
}

/* ------------------------------------------------------------ morphology */

/* dst = src dilated by a (2r+1) x (2r+1) square ("within r px", chessboard
 * distance).  dst is allocated. */
BITS_FN int page_dilate(const page *src, int r, page *dst, errbuf *e)
{
    page tmp = { 0 };
    if (page_new(&tmp, src->width, src->height, src, e) < 0 ||
        page_new(dst, src->width, src->height, src, e) < 0) {
        page_free(&tmp);
        return -1;
    }
    int n = (int)(src->stride / 8);
    uint64_t w[BITS_MAXW], s[BITS_MAXW], acc[BITS_MAXW];
    for (int y = 0; y < src->height; y++) {
        row_load(src, y, w);
        memcpy(acc, w, sizeof(uint64_t) * (size_t)n);
        for (int k = 1; k <= r; k++) {
            words_shift(w, s, n, k);
            for (int i = 0; i < n; i++)
                acc[i] |= s[i];
            words_shift(w, s, n, -k);
            for (int i = 0; i < n; i++)
                acc[i] |= s[i];
        }
        words_clip(acc, n, src->width);
        row_store(&tmp, y, acc);
    }
    for (int y = 0; y < src->height; y++) {
        uint64_t *d = page_w64(dst) + (size_t)y * n;
        for (int yy = y - r; yy <= y + r; yy++) {
            if (yy < 0 || yy >= src->height)
                continue;
            const uint64_t *t = page_w64(&tmp) + (size_t)yy * n;
            for (int i = 0; i < n; i++)
                d[i] |= t[i];
        }
    }
    page_free(&tmp);
    return 0;
}

/* acc := pixels of a row in horizontal runs of at least L (opening by a
 * 1 x L line: erosion by doubling, then dilation back). */
static void row_long_runs(const uint64_t *w, uint64_t *acc, uint64_t *t,
                          int n, int L)
{
    memcpy(acc, w, sizeof(uint64_t) * (size_t)n);
    int have = 1;       /* acc = pixels starting a run of >= have */
    while (have < L) {
        int step = have * 2 <= L ? have : L - have;
        words_shift(acc, t, n, -step);
        for (int i = 0; i < n; i++)
            acc[i] &= t[i];
        have += step;
    }
    have = 1;
    while (have < L) {
        int step = have * 2 <= L ? have : L - have;
        words_shift(acc, t, n, step);
        for (int i = 0; i < n; i++)
            acc[i] |= t[i];
        have += step;
    }
}

/* Column version of the same, on native words of the whole page: marks
 * pixels in vertical runs of at least L into out (allocated). */
static int page_long_vruns(const page *src, int L, page *out, errbuf *e)
{
    page er = { 0 };
    if (page_copy(&er, src, e) < 0)
        return -1;
    if (page_new(out, src->width, src->height, src, e) < 0) {
        page_free(&er);
        return -1;
    }
    size_t n = src->stride / 8;
    int h = src->height, have = 1;
    uint64_t *a = page_w64(&er), *o = page_w64(out);
    while (have < L) {          /* a[y] = rows y..y+have-1 all ink */
        int step = have * 2 <= L ? have : L - have;
        for (int y = 0; y < h; y++)
            for (size_t i = 0; i < n; i++)
                a[y * n + i] &= y + step < h ? a[(y + step) * n + i] : 0;
        have += step;
    }
    memcpy(o, a, sizeof(uint64_t) * n * (size_t)h);
    have = 1;
    while (have < L) {          /* o[y] |= o[y - step], bottom up */
        int step = have * 2 <= L ? have : L - have;
        for (int y = h - 1; y >= step; y--)
            for (size_t i = 0; i < n; i++)
                o[y * n + i] |= o[(y - step) * n + i];
        have += step;
    }
    page_free(&er);
    return 0;
}

/*
 * page_text_only — the page without ink that belongs to a horizontal or
 * vertical run of L pixels or more (borders, stripes, rules, solid
 * figures), keeping glyphs and specks.  Used for alignment and skew only.
 */
BITS_FN int page_text_only(const page *src, int L, page *dst, errbuf *e)
{
    page v = { 0 };
    if (page_long_vruns(src, L, &v, e) < 0)
        return -1;
    if (page_new(dst, src->width, src->height, src, e) < 0) {
        page_free(&v);
        return -1;
    }
    int n = (int)(src->stride / 8);
    uint64_t w[BITS_MAXW], acc[BITS_MAXW], t[BITS_MAXW];
    for (int y = 0; y < src->height; y++) {
        row_load(src, y, w);
        row_long_runs(w, acc, t, n, L);
        for (int i = 0; i < n; i++)
            w[i] &= ~acc[i];
        row_store(dst, y, w);
    }
    bits_andnot(dst, dst, &v);
    page_free(&v);
    return 0;
}

/* ------------------------------------------------------------ reduction */

/* dst = 4x OR-reduction: a cell is ink if any of its 16 pixels is. */
BITS_FN int page_reduce4(const page *src, page *dst, errbuf *e)
{
    int w4 = (src->width + 3) / 4, h4 = (src->height + 3) / 4;
    if (page_alloc(dst, w4, h4, src->xres / 4, src->yres / 4, UINT64_MAX, e) < 0)
        return -1;
    int n = (int)(src->stride / 8);
    uint64_t w[BITS_MAXW], acc[BITS_MAXW];
    for (int y4 = 0; y4 < h4; y4++) {
        memset(acc, 0, sizeof(uint64_t) * (size_t)n);
        for (int y = 4 * y4; y < 4 * y4 + 4 && y < src->height; y++) {
            row_load(src, y, w);
            for (int i = 0; i < n; i++)
                acc[i] |= w[i];
        }
        uint8_t *drow = page_row(dst, y4);
        for (int i = 0; i < n; i++) {
            uint64_t x = acc[i];
            x |= x << 1;
            x |= x << 2;        /* top bit of each nibble = OR of the nibble */
            uint32_t v = 0;
            for (int k = 0; k < 16; k++)
                v = (v << 1) | (uint32_t)((x >> (63 - 4 * k)) & 1);
            /* 16 reduced pixels starting at x4 = 16 i: two bytes */
            if ((size_t)(2 * i) < dst->stride)
                drow[2 * i] = (uint8_t)(v >> 8);
            if ((size_t)(2 * i + 1) < dst->stride)
                drow[2 * i + 1] = (uint8_t)v;
        }
    }
    page_clear_padding(dst);
    return 0;
}

/* ------------------------------------------------------------ turns */

/* Transposes an 8x8 bit block held as 8 bytes (byte 0 = top row, in the
 * high byte; bit 7 of a byte = leftmost pixel), by three delta swaps. */
static inline uint64_t transpose8(uint64_t x)
{
    uint64_t t;
    t = (x ^ (x >> 7)) & 0x00AA00AA00AA00AAull;
    x ^= t ^ (t << 7);
    t = (x ^ (x >> 14)) & 0x0000CCCC0000CCCCull;
    x ^= t ^ (t << 14);
    t = (x ^ (x >> 28)) & 0x00000000F0F0F0F0ull;
    x ^= t ^ (t << 28);
    return x;
}

/* dst(x, y) = src(y, x); dst is H x W. */
static int page_transpose(const page *src, page *dst, errbuf *e)
{
    if (page_alloc(dst, src->height, src->width, src->yres, src->xres,
                   UINT64_MAX, e) < 0)
        return -1;
    int bw = (src->width + 7) / 8, bh = (src->height + 7) / 8;
    for (int by = 0; by < bh; by++) {
        for (int bx = 0; bx < bw; bx++) {
            uint64_t x = 0;
            for (int r = 0; r < 8; r++) {
                int y = 8 * by + r;
                uint64_t b = y < src->height ? page_row(src, y)[bx] : 0;
                x |= b << (56 - 8 * r);
            }
            if (x == 0)
                continue;
            x = transpose8(x);
            for (int r = 0; r < 8; r++) {
                int y = 8 * bx + r;
                if (y < dst->height)
                    page_row(dst, y)[by] = (uint8_t)(x >> (56 - 8 * r));
            }
        }
    }
    page_clear_padding(dst);
    return 0;
}

static uint8_t bits_rev8(uint8_t b)
{
    b = (uint8_t)((b & 0xF0) >> 4 | (b & 0x0F) << 4);
    b = (uint8_t)((b & 0xCC) >> 2 | (b & 0x33) << 2);
    return (uint8_t)((b & 0xAA) >> 1 | (b & 0x55) << 1);
}

/* Mirrors in place: left-right (h) and/or top-bottom (v). */
static void page_mirror(page *p, bool h, bool v)
{
    int n = (int)(p->stride / 8);
    uint64_t w[BITS_MAXW], r[BITS_MAXW];
    for (int y = 0; h && y < p->height; y++) {
        uint8_t *row = page_row(p, y);
        for (size_t i = 0; i < p->stride / 2; i++) {
            uint8_t a = row[i], b = row[p->stride - 1 - i];
            row[i] = bits_rev8(b);
            row[p->stride - 1 - i] = bits_rev8(a);
        }
        row_load(p, y, w);      /* padding is now on the left: move it */
        words_shift(w, r, n, -(long)(p->stride * 8 - (size_t)p->width));
        row_store(p, y, r);
    }
    for (int y = 0; v && y < p->height / 2; y++) {
        uint8_t *a = page_row(p, y), *b = page_row(p, p->height - 1 - y);
        for (size_t i = 0; i < p->stride; i++) {
            uint8_t t = a[i];
            a[i] = b[i];
            b[i] = t;
        }
    }
}

/*
 * page_turn — dst = src turned clockwise by q quarter turns (exact):
 * 90 = transpose then mirror left-right, 270 = transpose then mirror
 * top-bottom, 180 = both mirrors.
 */
BITS_FN int page_turn(const page *src, int q, page *dst, errbuf *e)
{
    q &= 3;
    if (q == 0 || q == 2) {
        if (page_copy(dst, src, e) < 0)
            return -1;
        if (q == 2)
            page_mirror(dst, true, true);
        return 0;
    }
    if (page_transpose(src, dst, e) < 0)
        return -1;
    page_mirror(dst, q == 1, q == 3);
    return 0;
}

/* ------------------------------------------------------------ rotation */

/* Horizontal shear in place: row y moves right by round(a (y + 0.5 - cy)). */
static void shear_x(page *p, double a, double cy)
{
    int n = (int)(p->stride / 8);
    uint64_t w[BITS_MAXW], s[BITS_MAXW];
    for (int y = 0; y < p->height; y++) {
        long k = lround(a * (y + 0.5 - cy));
        if (k == 0)
            continue;
        row_load(p, y, w);
        words_shift(w, s, n, k);
        words_clip(s, n, p->width);
        row_store(p, y, s);
    }
}

/* Vertical shear: column x moves down by round(b (x + 0.5 - cx)); src and
 * dst of equal size, dst white. */
static void shear_y(const page *src, page *dst, double b, double cx)
{
    size_t n = src->stride / 8;
    const uint64_t *s = page_w64(src);
    uint64_t *d = page_w64(dst);
    for (size_t i = 0; i < n; i++) {
        int x = (int)i * 64;
        while (x < (int)i * 64 + 64 && x < src->width) {
            long k = lround(b * (x + 0.5 - cx));
            int x1 = x + 1;     /* columns x..x1-1 share the shift k */
            while (x1 < (int)i * 64 + 64 && lround(b * (x1 + 0.5 - cx)) == k)
                x1++;
            uint64_t m = (~0ull >> (x - (int)i * 64)) &
                         (x1 - (int)i * 64 == 64 ? ~0ull : ~(~0ull >> (x1 - (int)i * 64)));
            m = __builtin_bswap64(m);       /* to native byte order */
            for (int y = 0; y < src->height; y++) {
                long yd = y + k;
                if (yd >= 0 && yd < dst->height)
                    d[yd * n + i] |= s[y * n + i] & m;
            }
            x = x1;
        }
    }
}

/*
 * page_rotate — dst (ow x oh) = src turned counter-clockwise as displayed
 * by deg, src centre on dst centre.  Method: three shears (Paeth):
 * x += tan(t/2) y, y -= sin(t) x, x += tan(t/2) y, about the centre, on a
 * canvas padded so nothing is clipped on the way; each shear moves whole
 * rows or column groups by rounded amounts, so there are no holes and no
 * ink is created or lost except at the final crop.  Positions are exact to
 * about 1 px; deg = 0 is a pure (centred) copy.  Limits: |deg| <= 45.
 */
BITS_FN int page_rotate(const page *src, double deg, int ow, int oh, page *dst,
                        errbuf *e)
{
    double t = deg * M_PI / 180, a = tan(t / 2), b = -sin(t);
    int big = src->width > src->height ? src->width : src->height;
    big = big > ow ? big : ow;
    big = big > oh ? big : oh;
    int pad = (int)ceil(0.5 * big * (2 * fabs(a) + fabs(b))) + 8;
    int cw = (src->width > ow ? src->width : ow) + 2 * pad;
    int ch = (src->height > oh ? src->height : oh) + 2 * pad;
    page c1 = { 0 }, c2 = { 0 };
    if (page_new(&c1, cw, ch, src, e) < 0 || page_new(&c2, cw, ch, src, e) < 0 ||
        page_new(dst, ow, oh, src, e) < 0) {
        page_free(&c1);
        page_free(&c2);
        return -1;
    }
    long sx = (cw - src->width) / 2, sy = (ch - src->height) / 2;
    page_place(src, sx, sy, &c1);
    double cx = sx + src->width / 2.0, cy = sy + src->height / 2.0;
    if (deg != 0) {
        shear_x(&c1, a, cy);
        shear_y(&c1, &c2, b, cx);
        shear_x(&c2, a, cy);
    } else {
        page_move(&c2, &c1);
    }
    page_place(&c2, -lround(cx - ow / 2.0), -lround(cy - oh / 2.0), dst);
    page_free(&c1);
    page_free(&c2);
    return 0;
}

#endif
