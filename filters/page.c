/*
 * page.c — allocation and whole-page helpers for the 1-bit page model.
 */
#include "page.h"

#include <stdlib.h>
#include <string.h>

int page_alloc(page *pg, int width, int height, double xres, double yres,
               uint64_t max_pixels, errbuf *e)
{
    memset(pg, 0, sizeof *pg);
    if (max_pixels == 0)
        max_pixels = PAGE_DEFAULT_MAX_PIXELS;
    if (width < 1 || height < 1)
        return err_set(e, "invalid image size %dx%d", width, height);
    if ((uint64_t)width * (uint64_t)height > max_pixels)
        return err_set(e, "image %dx%d exceeds the pixel limit of %llu pixels",
                       width, height, (unsigned long long)max_pixels);
    size_t stride = (((size_t)width + 63) / 64) * 8;
    size_t bytes = stride * (size_t)height;
    void *bits = NULL;
    int rc = posix_memalign(&bits, 64, bytes ? bytes : 64);
    if (rc != 0)
        return err_errno(e, rc, "cannot allocate %dx%d page", width, height);
    memset(bits, 0, bytes);
    pg->width = width;
    pg->height = height;
    pg->stride = stride;
    pg->xres = xres > 0 ? xres : PAGE_DEFAULT_DPI;
    pg->yres = yres > 0 ? yres : pg->xres;
    pg->bits = bits;
    return 0;
}

void page_free(page *pg)
{
    if (pg == NULL)
        return;
    free(pg->bits);
    memset(pg, 0, sizeof *pg);
}

int page_copy(page *dst, const page *src, errbuf *e)
{
    if (page_alloc(dst, src->width, src->height, src->xres, src->yres,
                   UINT64_MAX, e) < 0)
        return -1;
    memcpy(dst->bits, src->bits, src->stride * (size_t)src->height);
    return 0;
}

void page_move(page *dst, page *src)
{
    page_free(dst);
    *dst = *src;
    memset(src, 0, sizeof *src);
}

uint64_t page_count_black(const page *pg)
{
    uint64_t n = 0;
    size_t words = pg->stride / 8;
    for (int y = 0; y < pg->height; y++) {
        const uint8_t *row = page_row(pg, y);
        for (size_t i = 0; i < words; i++) {
            uint64_t w;
            memcpy(&w, row + 8 * i, 8);
            n += (uint64_t)__builtin_popcountll(w);
        }
    }
    return n;
}

void page_clear_padding(page *pg)
{
    int used = pg->width & 63;
    if (used == 0)
        return;
    size_t last = pg->stride - 8;
    uint64_t keep = ~0ull << (64 - used);
    for (int y = 0; y < pg->height; y++) {
        uint8_t *p = page_row(pg, y) + last;
        page_store64(p, page_load64(p) & keep);
    }
}

/* Mask of pixels [a, b) inside one 64-pixel word, leftmost pixel = bit 63. */
static uint64_t span_mask(int a, int b)
{
    uint64_t hi = a == 0 ? ~0ull : (~0ull >> a);
    uint64_t lo = b == 64 ? ~0ull : ~(~0ull >> b);
    return hi & lo;
}

static int clip_rect(const page *pg, int *x, int *y, int *w, int *h)
{
    int x0 = *x < 0 ? 0 : *x, y0 = *y < 0 ? 0 : *y;
    long x1 = (long)*x + *w, y1 = (long)*y + *h;
    if (x1 > pg->width)
        x1 = pg->width;
    if (y1 > pg->height)
        y1 = pg->height;
    if (x1 <= x0 || y1 <= y0)
        return 0;
    *x = x0;
    *y = y0;
    *w = (int)(x1 - x0);
    *h = (int)(y1 - y0);
    return 1;
}

void page_fill_rect(page *pg, int x, int y, int w, int h, int v)
{
    if (!clip_rect(pg, &x, &y, &w, &h))
        return;
    int x1 = x + w;
    for (int r = y; r < y + h; r++) {
        uint8_t *row = page_row(pg, r);
        for (int wx = x & ~63; wx < x1; wx += 64) {
            int a = x > wx ? x - wx : 0;
            int b = x1 - wx < 64 ? x1 - wx : 64;
            uint64_t m = span_mask(a, b);
            uint8_t *p = row + wx / 8;
            uint64_t word = page_load64(p);
            page_store64(p, v ? (word | m) : (word & ~m));
        }
    }
}

uint64_t page_count_rect(const page *pg, int x, int y, int w, int h)
{
    if (!clip_rect(pg, &x, &y, &w, &h))
        return 0;
    uint64_t n = 0;
    int x1 = x + w;
    for (int r = y; r < y + h; r++) {
        const uint8_t *row = page_row(pg, r);
        for (int wx = x & ~63; wx < x1; wx += 64) {
            int a = x > wx ? x - wx : 0;
            int b = x1 - wx < 64 ? x1 - wx : 64;
            n += (uint64_t)__builtin_popcountll(page_load64(row + wx / 8) &
                                                span_mask(a, b));
        }
    }
    return n;
}
