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
 * Transposes a 64x64 bit matrix in place: a[k] is row k, column c at bit
 * 63-c (leftmost pixel in the top bit, as page_load64 gives it).  Six
 * rounds of delta swaps exchange the off-diagonal 32x32, 16x16, ... 1x1
 * sub-blocks (Hacker's Delight, "transposing a bit matrix").
 */
static void transpose64(uint64_t a[64])
{
    uint64_t m = 0x00000000FFFFFFFFull;
    for (int j = 32; j != 0; j >>= 1, m ^= m << j) {
        for (int k = 0; k < 64; k = (k + j + 1) & ~j) {
            uint64_t t = (a[k] ^ (a[k + j] >> j)) & m;
            a[k] ^= t;
            a[k + j] ^= t << j;
        }
    }
}

/*
 * Quarter turn by 64x64 block transposes.  The destination is the
 * transpose of the source with the row order of one of them reversed:
 *
 *   90 cw:  dst(x', y') = src(y', H-1-x')     (source rows reversed)
 *   270 cw: dst(x', y') = src(W-1-y', x')     (destination rows reversed)
 *
 * Both reversals are of row indices only, so a block is one 64-bit word of
 * 64 source rows (rows outside the page read as white) turned into one
 * word of 64 destination rows.  All-white blocks (most of a page) are
 * skipped: the destination starts white.  About 20 operations per 64
 * pixels for a block with ink.
 */
static void transpose_blocks(page *dst, const page *src, bool reverse_src_rows)
{
    int W = src->width, H = src->height;
    size_t dwords = dst->stride / 8, swords = src->stride / 8;
    uint64_t a[64];
    for (size_t j = 0; j < dwords; j++) {           /* 64 source rows */
        const uint8_t *srow[64];
        for (int k = 0; k < 64; k++) {
            long y = (long)(64 * j) + k;
            if (reverse_src_rows)
                y = H - 1 - y;
            srow[k] = (y >= 0 && y < H) ? page_row(src, (int)y) : NULL;
        }
        for (size_t i = 0; i < swords; i++) {       /* 64 source columns */
            uint64_t any = 0;
            for (int k = 0; k < 64; k++) {
                a[k] = srow[k] ? page_load64(srow[k] + 8 * i) : 0;
                any |= a[k];
            }
            if (any == 0)
                continue;
            transpose64(a);
            for (int c = 0; c < 64; c++) {
                long x = (long)(64 * i) + c;
                if (x >= W)
                    break;
                long yd = reverse_src_rows ? x : W - 1 - x;
                page_store64(page_row(dst, (int)yd) + 8 * j, a[c]);
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
 * Writes every word of the dst row (dw pixels): the sw-pixel src row
 * shifted right by `shift` pixels (left if negative); pixels shifted out
 * are dropped, pixels shifted in are white, padding stays white.  Each
 * destination word is two shifts and an OR of the two source words it
 * overlaps.
 */
static void row_shift(uint8_t *d, int dw, const uint8_t *s, int sw, int shift)
{
    long nsw = ((long)sw + 63) / 64, ndw = ((long)dw + 63) / 64;
    long q0 = -shift >= 0 ? -shift / 64 : -((shift + 63) / 64);  /* floor(-shift/64) */
    int r = (int)(-shift - 64 * q0);                            /* 0..63 */
    /* interior: dst words whose two source words both exist */
    long k0 = -q0 > 0 ? -q0 : 0, k1 = nsw - 1 - q0;
    if (k1 > ndw)
        k1 = ndw;
    for (long k = 0; k < ndw; k++) {
        long q = k + q0;
        uint64_t w;
        if (k >= k0 && k < k1) {
            if (r == 0) {
                memcpy(d + 8 * k, s + 8 * q, 8);
                continue;
            }
            w = page_load64(s + 8 * q) << r | page_load64(s + 8 * q + 8) >> (64 - r);
        } else {
            w = (q >= 0 && q < nsw) ? page_load64(s + 8 * q) << r : 0;
            if (r && q + 1 >= 0 && q + 1 < nsw)
                w |= page_load64(s + 8 * (q + 1)) >> (64 - r);
        }
        page_store64(d + 8 * k, w);
    }
    if (dw & 63) {
        uint8_t *p = d + 8 * (ndw - 1);
        page_store64(p, page_load64(p) & ~0ull << (64 - (dw & 63)));
    }
}

/* One band of equal column shift inside one 64-pixel word column. */
struct col_band {
    int word;           /* word column */
    int shift;          /* rows down */
    ptrdiff_t off;      /* byte offset of its source word from the start of
                           the output row's own row in the source */
    uint64_t mask;      /* native byte order, ready for AND with a raw load */
};

/* A column shear: its bands in column order and the range of shifts. */
struct col_shear {
    struct col_band *b;
    int n, smin, smax;
};

/* Splits columns 0..w-1 (shift[x] rows down each) into bands of equal
 * shift that stay inside one word column. */
static int col_shear_init(struct col_shear *cs, const int *shift, int w,
                          size_t stride, errbuf *e)
{
    struct col_band *b = malloc(((size_t)w + 1) * sizeof *b);
    if (b == NULL)
        return err_set(e, "out of memory");
    int n = 0, smin = 0, smax = 0;
    for (int x = 0; x < w;) {
        int x1 = x + 1;
        while (x1 < w && shift[x1] == shift[x] && (x1 & 63) != 0)
            x1++;
        int a = x & 63, z = a + (x1 - x);       /* pixels [a, z) of the word */
        uint64_t m = (a == 0 ? ~0ull : ~0ull >> a) & (z == 64 ? ~0ull : ~(~0ull >> z));
        b[n].word = x / 64;
        b[n].shift = shift[x];
        b[n].off = (ptrdiff_t)(x / 64) * 8 - (ptrdiff_t)shift[x] * (ptrdiff_t)stride;
        b[n].mask = __builtin_bswap64(m);
        smin = shift[x] < smin ? shift[x] : smin;
        smax = shift[x] > smax ? shift[x] : smax;
        n++;
        x = x1;
    }
    cs->b = b;
    cs->n = n;
    cs->smin = smin;
    cs->smax = smax;
    return 0;
}

/*
 * Row y of a page sheared by columns: word column k of the result gathers,
 * for each band of k, the source word of row y - band shift under the
 * band's mask (rows outside the source read as white).  Every word of
 * `out` is written.  A band is a run of columns of equal shift inside a
 * word column: a shear of slope t has about 1 + 64|t| bands per word
 * column, so the cost is that many masked ORs per 64 pixels.  Rows far
 * enough from the top and bottom (all bands' source rows inside) take a
 * loop without bounds checks.
 */
static void col_shear_row(uint8_t *out, const page *src, int y,
                          const struct col_shear *cs)
{
    const struct col_band *b = cs->b;
    int nb = cs->n;
    if (y - cs->smax >= 0 && y - cs->smin < src->height) {
        const uint8_t *base = page_row(src, y);
        for (int i = 0; i < nb;) {
            int k = b[i].word;
            uint64_t acc = 0, w;
            for (; i < nb && b[i].word == k; i++) {
                memcpy(&w, base + b[i].off, 8);
                acc |= w & b[i].mask;
            }
            memcpy(out + 8 * (size_t)k, &acc, 8);
        }
        return;
    }
    for (int i = 0; i < nb;) {
        int k = b[i].word;
        uint64_t acc = 0;
        for (; i < nb && b[i].word == k; i++) {
            long ys = (long)y - b[i].shift;
            if (ys >= 0 && ys < src->height) {
                uint64_t w;
                memcpy(&w, page_row(src, (int)ys) + 8 * (size_t)k, 8);
                acc |= w & b[i].mask;
            }
        }
        memcpy(out + 8 * (size_t)k, &acc, 8);
    }
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
 * rotation moves rows below the centre right (shears 1 and 3) and columns
 * right of the centre up (shear 2).
 *
 * The first shear writes into an image widened by its largest shift on each
 * side, so that no pixel is lost before its final place is known.  The
 * second and third are done together one output row at a time: the second
 * only moves pixels between rows and the third only within a row, so a row
 * the third shear puts on the page is built from the first image's words
 * (col_shear_row) and shifted into place; nothing else of the second image
 * is ever needed.  Cost at 300 dpi A4: two passes of word shifts plus, per
 * 64 pixels, 1 + 64 sin(t) masked ORs.  Limits: |t| <= 45 degrees.
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
    int m1 = (int)ceil(fabs(a) * H / 2.0) + 1, W1 = W + 2 * m1;
    double cy = (H - 1) / 2.0, cx1 = (W - 1) / 2.0 + m1;
    page A = { 0 };
    struct col_shear cs = { 0 };
    int *shift = malloc((size_t)(W1 > H ? W1 : H) * sizeof *shift);
    uint8_t *tmp = NULL;
    if (shift == NULL)
        return err_set(e, "out of memory");
    if (page_alloc(&A, W1, H, src->xres, src->yres, UINT64_MAX, e) < 0 ||
        page_alloc(dst, W, H, src->xres, src->yres, UINT64_MAX, e) < 0)
        goto fail;
    shear_shifts(shift, W1, -b, cx1, 0);
    if (col_shear_init(&cs, shift, W1, A.stride, e) < 0)
        goto fail;
    if ((tmp = malloc(A.stride)) == NULL) {
        err_set(e, "out of memory");
        goto fail;
    }
    shear_shifts(shift, H, a, cy, m1);                 /* shear 1 */
    for (int y = 0; y < H; y++)
        row_shift(page_row(&A, y), W1, page_row(src, y), W, shift[y]);
    shear_shifts(shift, H, a, cy, -m1);                /* shears 2 and 3 */
    for (int y = 0; y < H; y++) {
        col_shear_row(tmp, &A, y, &cs);
        row_shift(page_row(dst, y), W, tmp, W1, shift[y]);
    }
    if (lost)
        *lost = page_count_black(src) - page_count_black(dst);
    free(tmp);
    free(cs.b);
    free(shift);
    page_free(&A);
    return 0;
fail:
    free(tmp);
    free(cs.b);
    free(shift);
    page_free(&A);
    page_free(dst);
    return -1;
}
