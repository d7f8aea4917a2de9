/*
 * rotate.c — rotation of packed 1-bit pages: exact quarter turns by 8x8 bit
 * block transposes, and small-angle rotation by three shears done with word
 * shifts per row and masked word copies per column band.
 */
#include "rotate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------- quarter turns */

/*
 * Transposes an 8x8 bit matrix held in a 64-bit word, row r in byte r
 * counted from the most significant byte, column c at bit 7-c of its byte
 * (the page's own byte layout).  Three delta swaps exchange the off-diagonal
 * 1x1, 2x2 and 4x4 sub-blocks (Hacker's Delight, "transposing a bit matrix").
 */
static uint64_t transpose8x8(uint64_t x)
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

/*
 * Quarter turn by 8x8 block transposes.  The destination is the transpose
 * of the source with its rows and/or columns read in reverse order:
 *
 *   90 cw:  dst(x', y') = src(y', H-1-x')     (source rows reversed)
 *   270 cw: dst(x', y') = src(W-1-y', x')     (destination rows reversed)
 *
 * Both reversals are of row indices only, so every block is 8 whole source
 * bytes (one byte column of 8 source rows, rows outside the page read as
 * white) turned into one byte column of 8 destination rows.  About 30
 * operations per 64 pixels.
 */
static void transpose_blocks(page *dst, const page *src, bool reverse_src_rows)
{
    int W = src->width, H = src->height;
    size_t dbytes = ((size_t)dst->width + 7) / 8;
    size_t sbytes = ((size_t)W + 7) / 8;
    for (size_t j = 0; j < dbytes; j++) {
        const uint8_t *srow[8];
        for (int k = 0; k < 8; k++) {
            long y = (long)(8 * j) + k;
            if (reverse_src_rows)
                y = H - 1 - y;
            srow[k] = (y >= 0 && y < H) ? page_row(src, (int)y) : NULL;
        }
        for (size_t bx = 0; bx < sbytes; bx++) {
            uint64_t m = 0;
            for (int k = 0; k < 8; k++)
                m = (m << 8) | (srow[k] ? srow[k][bx] : 0);
            if (m == 0)
                continue;       /* the destination is already white */
            m = transpose8x8(m);
            for (int i = 0; i < 8; i++) {
                long x = (long)(8 * bx) + i;
                if (x >= W)
                    break;
                long yd = reverse_src_rows ? x : W - 1 - x;
                page_row(dst, (int)yd)[j] = (uint8_t)(m >> (56 - 8 * i));
            }
        }
    }
}

/* Reverses the pixel order of a 64-pixel word (leftmost pixel = bit 63). */
static uint64_t reverse64(uint64_t x)
{
    x = ((x >> 1) & 0x5555555555555555ull) | ((x & 0x5555555555555555ull) << 1);
    x = ((x >> 2) & 0x3333333333333333ull) | ((x & 0x3333333333333333ull) << 2);
    x = ((x >> 4) & 0x0F0F0F0F0F0F0F0Full) | ((x & 0x0F0F0F0F0F0F0F0Full) << 4);
    return __builtin_bswap64(x);
}

/*
 * Half turn: destination row H-1-y is source row y read backwards.  A whole
 * row of stride*8 bits reversed word by word has its padding on the left;
 * it is then shifted left by the padding width.
 */
static void half_turn(page *dst, const page *src)
{
    size_t nw = src->stride / 8;
    int pad = (int)(src->stride * 8 - (size_t)src->width);
    for (int y = 0; y < src->height; y++) {
        const uint8_t *s = page_row(src, y);
        uint8_t *d = page_row(dst, src->height - 1 - y);
        for (size_t k = 0; k < nw; k++) {
            uint64_t hi = reverse64(page_load64(s + 8 * (nw - 1 - k)));
            uint64_t lo = k + 1 < nw ? reverse64(page_load64(s + 8 * (nw - 2 - k))) : 0;
            uint64_t w = pad ? (hi << pad) | (lo >> (64 - pad)) : hi;
            page_store64(d + 8 * k, w);
        }
    }
}

int page_rotate_quarter(page *dst, const page *src, int cw_degrees, errbuf *e)
{
    int q = cw_degrees / 90;
    if (cw_degrees % 90 != 0 || q < 0 || q > 3)
        return err_set(e, "cannot turn a page by %d degrees", cw_degrees);
    if (q == 0)
        return page_copy(dst, src, e);
    if (q == 2) {
        if (page_alloc(dst, src->width, src->height, src->xres, src->yres,
                       UINT64_MAX, e) < 0)
            return -1;
        half_turn(dst, src);
        return 0;
    }
    if (page_alloc(dst, src->height, src->width, src->yres, src->xres,
                   UINT64_MAX, e) < 0)
        return -1;
    transpose_blocks(dst, src, q == 1);
    page_clear_padding(dst);
    return 0;
}

/* ------------------------------------------------------------- shears */

/*
 * ORs the src row shifted right by s pixels (s < 0: left) into the dst row;
 * pixels that land outside [0, dw) are dropped.  Each destination word is
 * built from the two source words it overlaps: 2 shifts and an OR.
 */
static void row_shift_or(uint8_t *d, int dw, const uint8_t *s, int sw, int shift)
{
    long lo = shift > 0 ? shift : 0;                     /* first dst pixel */
    long hi = (long)sw + shift < dw ? (long)sw + shift : dw;  /* end */
    if (hi <= lo)
        return;
    long nsw = ((long)sw + 63) / 64;
    for (long k = lo / 64; k <= (hi - 1) / 64; k++) {
        long a = 64 * k - shift;            /* src pixel at dst pixel 64k */
        long q = a >= 0 ? a / 64 : -((-a + 63) / 64);
        int r = (int)(a - 64 * q);
        uint64_t w0 = (q >= 0 && q < nsw) ? page_load64(s + 8 * q) : 0;
        uint64_t w1 = (q + 1 >= 0 && q + 1 < nsw) ? page_load64(s + 8 * (q + 1)) : 0;
        uint64_t w = r ? (w0 << r) | (w1 >> (64 - r)) : w0;
        if (k == (dw - 1) / 64 && (dw & 63))
            w &= ~0ull << (64 - (dw & 63));
        uint8_t *p = d + 8 * k;
        page_store64(p, page_load64(p) | w);
    }
}

void page_shear_rows(page *dst, const page *src, const int *shift, int dy)
{
    for (int y = 0; y < src->height; y++) {
        long ty = (long)y + dy;
        if (ty < 0 || ty >= dst->height)
            continue;
        row_shift_or(page_row(dst, (int)ty), dst->width, page_row(src, y),
                     src->width, shift[y]);
    }
}

/* One band of equal column shift inside one 64-pixel word column. */
struct col_band {
    size_t off;         /* byte offset of the word in a row */
    uint64_t mask;      /* native byte order, ready for AND with a raw load */
    int shift;          /* rows down */
};

/* Splits columns 0..w-1 into bands of equal shift that stay inside one word
 * column; returns the number of bands written to *out (malloc'ed). */
static int col_bands(const int *shift, int w, struct col_band **out)
{
    int n = 0, cap = w / 8 + 16;
    struct col_band *b = malloc((size_t)cap * sizeof *b);
    if (b == NULL)
        return -1;
    for (int x = 0; x < w;) {
        int x1 = x + 1;
        while (x1 < w && shift[x1] == shift[x] && (x1 & 63) != 0)
            x1++;
        if (n == cap) {
            cap *= 2;
            struct col_band *nb = realloc(b, (size_t)cap * sizeof *b);
            if (nb == NULL) {
                free(b);
                return -1;
            }
            b = nb;
        }
        int a = x & 63, z = a + (x1 - x);       /* pixels [a, z) of the word */
        uint64_t m = (a == 0 ? ~0ull : ~0ull >> a) & (z == 64 ? ~0ull : ~(~0ull >> z));
        b[n].off = (size_t)(x / 64) * 8;
        b[n].mask = __builtin_bswap64(m);
        b[n].shift = shift[x];
        n++;
        x = x1;
    }
    *out = b;
    return n;
}

/*
 * Column shear, destination-row major: every destination word gathers its
 * bands from the source rows they come from (nearby rows, so the source
 * stays in cache).  Cost: one masked OR per band per destination row; a band
 * is a run of columns with equal shift inside a word column, so a word
 * column has about 1 + 64*|slope| bands.
 */
int page_shear_cols(page *dst, const page *src, const int *shift, errbuf *e)
{
    struct col_band *b;
    int n = col_bands(shift, src->width < dst->width ? src->width : dst->width, &b);
    if (n < 0)
        return err_set(e, "out of memory");
    for (int ty = 0; ty < dst->height; ty++) {
        uint8_t *d = page_row(dst, ty);
        for (int i = 0; i < n; i++) {
            long y = (long)ty - b[i].shift;
            if (y < 0 || y >= src->height)
                continue;
            uint64_t sw, dw;
            memcpy(&sw, page_row(src, (int)y) + b[i].off, 8);
            memcpy(&dw, d + b[i].off, 8);
            dw |= sw & b[i].mask;
            memcpy(d + b[i].off, &dw, 8);
        }
    }
    free(b);
    return 0;
}

/* Shift of row/column i for a shear of slope k about centre c: k*(i - c)
 * rounded half away from zero (so that the shear by -k is its exact
 * inverse), plus `add`. */
static void shear_shifts(int *out, int n, double k, double c, int add)
{
    for (int i = 0; i < n; i++)
        out[i] = (int)lround(k * ((double)i - c)) + add;
}

/*
 * Rotation by three shears (Paeth 1986): a rotation by t is exactly
 * Sx(a) Sy(b) Sx(a) with a = tan(t/2) and b = sin(t), where Sx shifts each
 * row horizontally in proportion to its distance from the centre and Sy
 * each column vertically.  With integer shifts each shear is a bijection of
 * pixels, so the result has no holes and no doubled pixels, strokes keep
 * their width, and the staircase on a straight edge is the one a rasterised
 * line of that slope has.  In image coordinates (y down) a counter-clockwise
 * rotation moves rows below the centre right (shear 1 and 3) and columns
 * right of the centre up (shear 2).
 *
 * The first shear writes into an image widened by its largest shift on each
 * side, so no pixel is lost before its final place is known; the second
 * keeps only the rows the third (row-preserving) shear puts on the page.
 * Cost at 300 dpi A4: three passes of a few word operations per 64 pixels,
 * plus one masked OR per column band (about 1 + 64*sin(t) per word column)
 * per row in the second.  Limits: |t| <= 45 degrees (beyond that the
 * intermediate images grow large; quarter turns are the tool there).
 */
int page_rotate_shear(page *dst, const page *src, double ccw_degrees,
                      uint64_t *lost, errbuf *e)
{
    if (!(fabs(ccw_degrees) <= 45.0))
        return err_set(e, "shear rotation by %g degrees is out of range",
                       ccw_degrees);
    int W = src->width, H = src->height;
    double t = ccw_degrees * M_PI / 180.0;
    double a = tan(t / 2), b = sin(t);
    int m1 = (int)ceil(fabs(a) * H / 2.0) + 1;
    int W1 = W + 2 * m1;
    page A = { 0 }, B = { 0 };
    int n = W1 > H ? W1 : H;
    int *shift = malloc((size_t)n * sizeof *shift);
    if (shift == NULL)
        return err_set(e, "out of memory");
    if (page_alloc(&A, W1, H, src->xres, src->yres, UINT64_MAX, e) < 0 ||
        page_alloc(&B, W1, H, src->xres, src->yres, UINT64_MAX, e) < 0 ||
        page_alloc(dst, W, H, src->xres, src->yres, UINT64_MAX, e) < 0)
        goto fail;
    double cy = (H - 1) / 2.0, cx1 = (W - 1) / 2.0 + m1;
    shear_shifts(shift, H, a, cy, m1);
    page_shear_rows(&A, src, shift, 0);
    shear_shifts(shift, W1, -b, cx1, 0);
    if (page_shear_cols(&B, &A, shift, e) < 0)
        goto fail;
    shear_shifts(shift, H, a, cy, -m1);
    page_shear_rows(dst, &B, shift, 0);
    if (lost)
        *lost = page_count_black(src) - page_count_black(dst);
    free(shift);
    page_free(&A);
    page_free(&B);
    return 0;
fail:
    free(shift);
    page_free(&A);
    page_free(&B);
    page_free(dst);
    return -1;
}
