/*
 * clean_testlib.h — small synthetic-page helpers shared by the tests of the
 * cleaning filters (cc, border, despeckle, crop).  Header-only; every test
 * binary includes it once.
 */
#ifndef CLEAN_TESTLIB_H
#define CLEAN_TESTLIB_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "page.h"

static inline void mkpage(page *pg, int w, int h, double dpi)
{
    errbuf e;
    assert_int_equal(page_alloc(pg, w, h, dpi, dpi, 0, &e), 0);
}

static inline void rect(page *pg, int x, int y, int w, int h)
{
    page_fill_rect(pg, x, y, w, h, 1);
}

/* xorshift64 */
static inline uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/*
 * A line of text-like glyphs with its baseline at `base`, starting at x,
 * `n` letters of x-height 20 px with ascenders to 30 px, 3-px strokes, 4-px
 * letter gaps; every third letter is an "i" (stem 4 x 20, dot 4 x 4 with a
 * 4-px gap) and every word ends with a period (4 x 4 on the baseline, 3 px
 * after the last letter).  Returns the x after the line.
 */
static inline int text_line(page *pg, int x, int base, int n)
{
    for (int i = 0; i < n; i++) {
        switch (i % 3) {
        case 0:     /* "o": a 14 x 20 ring */
            rect(pg, x, base - 20, 14, 3);
            rect(pg, x, base - 3, 14, 3);
            rect(pg, x, base - 20, 3, 20);
            rect(pg, x + 11, base - 20, 3, 20);
            x += 14;
            break;
        case 1:     /* "i" */
            rect(pg, x, base - 20, 4, 20);
            rect(pg, x, base - 28, 4, 4);
            x += 4;
            break;
        default:    /* "h": ascender stem and an arch */
            rect(pg, x, base - 30, 3, 30);
            rect(pg, x, base - 20, 12, 3);
            rect(pg, x + 9, base - 20, 3, 20);
            x += 12;
            break;
        }
        x += 4;
        if (i % 5 == 4) {   /* end of a word */
            rect(pg, x - 1, base - 4, 4, 4);
            x += 16;
        }
    }
    return x;
}

/* A random page for the "never crashes, never grows ink" tests: size,
 * resolution, density and blob size drawn from the seed. */
static inline void random_page(page *pg, uint64_t *s)
{
    int w = 1 + (int)(rnd(s) % 400), h = 1 + (int)(rnd(s) % 400);
    mkpage(pg, w, h, 100 + (double)(rnd(s) % 500));
    unsigned dens = 1 + (unsigned)(rnd(s) % 40), blob = 1 + (unsigned)(rnd(s) % 12);
    for (int y = 0; y < h; y += (int)blob)
        for (int x = 0; x < w; x += (int)blob)
            if (rnd(s) % dens == 0)
                rect(pg, x, y, (int)blob, (int)blob);
}

static inline uint64_t count_rect(const page *pg, int x, int y, int w, int h)
{
    return page_count_rect(pg, x, y, w, h);
}

/* Number of pixels black in a and white in b (same size). */
static inline uint64_t count_lost(const page *a, const page *b)
{
    uint64_t n = 0;
    for (int y = 0; y < a->height; y++)
        for (int x = 0; x < a->width; x++)
            n += page_get(a, x, y) && !page_get(b, x, y);
    return n;
}

static inline void copy_page(page *dst, const page *src)
{
    errbuf e;
    assert_int_equal(page_copy(dst, src, &e), 0);
}

#endif
