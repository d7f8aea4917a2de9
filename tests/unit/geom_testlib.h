/*
 * geom_testlib.h — test pages for the geometry tests (test_skew.c,
 * test_orient.c): the rendered text fixture, synthetic text-like lines,
 * sheet music and a line drawing.  Header-only (static functions) so each
 * cmocka binary stays one source file.
 */
#ifndef SPOOLD_GEOM_TESTLIB_H
#define SPOOLD_GEOM_TESTLIB_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "pageio.h"
#include "rotate.h"

/* Loads tests/fixtures/geom/NAME (from $SPOOLD_TOP, else relative to this
 * source file, else to the working directory). */
static inline int geom_load_fixture(page *pg, const char *name)
{
    char path[4096];
    const char *top = getenv("SPOOLD_TOP");
    if (top)
        snprintf(path, sizeof path, "%s/tests/fixtures/geom/%s", top, name);
    else {
        const char *src = __FILE__;
        const char *slash = strrchr(src, '/');
        int n = slash ? (int)(slash - src) : 1;
        snprintf(path, sizeof path, "%.*s/../fixtures/geom/%s", n,
                 slash ? src : ".", name);
    }
    struct read_opts ro = { .default_dpi = PAGE_DEFAULT_DPI, .max_pixels = 0,
                            .binarize = BINARIZE_OTSU };
    struct page_reader *rd;
    errbuf e;
    if (page_reader_open(&rd, path, &ro, &e) < 0) {
        snprintf(path, sizeof path, "tests/fixtures/geom/%s", name);
        if (page_reader_open(&rd, path, &ro, &e) < 0) {
            fprintf(stderr, "cannot open fixture %s: %s\n", path, e.msg);
            return -1;
        }
    }
    int rc = page_reader_read(rd, 0, pg, &e);
    if (rc < 0)
        fprintf(stderr, "cannot read fixture %s: %s\n", path, e.msg);
    page_reader_close(rd);
    return rc;
}

/* Deterministic pseudo-random numbers (xorshift64). */
static inline uint64_t geom_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/*
 * Text-like lines: rows of "words" made of "letters" (two 2-pixel stems
 * 16 pixels tall joined by a top bar), a third of the letters with an
 * ascender stem, one in ten with a descender, on lines 40 pixels apart,
 * inside the rectangle (x0, y0, w, h) of a white page.
 */
static inline void geom_text_lines(page *pg, int x0, int y0, int w, int h, uint64_t seed)
{
    uint64_t s = seed * 2654435761u + 7;
    for (int base = y0 + 24; base + 10 < y0 + h; base += 40) {
        int x = x0 + (int)(geom_rand(&s) % 30);
        while (x + 12 < x0 + w) {
            int letters = 2 + (int)(geom_rand(&s) % 7);
            for (int i = 0; i < letters && x + 12 < x0 + w; i++) {
                int lw = 7 + (int)(geom_rand(&s) % 5);
                page_fill_rect(pg, x, base - 16, 2, 16, 1);
                page_fill_rect(pg, x + lw - 2, base - 16, 2, 16, 1);
                page_fill_rect(pg, x, base - 16, lw, 2, 1);
                uint64_t r = geom_rand(&s) % 30;
                if (r < 10)
                    page_fill_rect(pg, x, base - 27, 2, 11, 1);
                else if (r < 13)
                    page_fill_rect(pg, x + lw - 2, base, 2, 8, 1);
                x += lw + 3;
            }
            x += 10 + (int)(geom_rand(&s) % 8);
        }
    }
}

/* Sheet music: staves of 5 lines (2 px thick, 12 px apart) every 150
 * rows, filled note heads with stems up or down, bar lines. */
static inline void geom_music(page *pg, uint64_t seed)
{
    uint64_t s = seed * 40503u + 3;
    for (int top = 60; top + 60 < pg->height; top += 150) {
        for (int l = 0; l < 5; l++)
            page_fill_rect(pg, 40, top + 12 * l, pg->width - 80, 2, 1);
        for (int x = 40; x < pg->width - 40; x += 240)
            page_fill_rect(pg, x, top, 3, 50, 1);
        for (int x = 70; x < pg->width - 60; x += 30 + (int)(geom_rand(&s) % 20)) {
            int yc = top - 6 + 6 * (int)(geom_rand(&s) % 11);
            for (int dy = -5; dy <= 5; dy++) {
                int half = (int)(8 * sqrt(1 - dy * dy / 30.0));
                page_fill_rect(pg, x - half, yc + dy, 2 * half + 1, 1, 1);
            }
            if (geom_rand(&s) & 1)
                page_fill_rect(pg, x + 7, yc - 40, 2, 40, 1);
            else
                page_fill_rect(pg, x - 8, yc, 2, 40, 1);
        }
    }
}

/* A line drawing: circles, rectangles and slanted lines. */
static inline void geom_drawing(page *pg, uint64_t seed)
{
    uint64_t s = seed * 69069u + 11;
    for (int k = 0; k < 14; k++) {
        int cx = 100 + (int)(geom_rand(&s) % (uint64_t)(pg->width - 200));
        int cy = 100 + (int)(geom_rand(&s) % (uint64_t)(pg->height - 200));
        int r = 20 + (int)(geom_rand(&s) % 80);
        switch (k % 3) {
        case 0:
            for (int a = 0; a < 2000; a++) {
                double t = a * 2 * M_PI / 2000;
                page_fill_rect(pg, cx + (int)(r * cos(t)), cy + (int)(r * sin(t)), 3, 3, 1);
            }
            break;
        case 1:
            page_fill_rect(pg, cx - r, cy - r, 2 * r, 3, 1);
            page_fill_rect(pg, cx - r, cy + r, 2 * r, 3, 1);
            page_fill_rect(pg, cx - r, cy - r, 3, 2 * r, 1);
            page_fill_rect(pg, cx + r, cy - r, 3, 2 * r + 3, 1);
            break;
        default:
            for (int a = -2 * r; a <= 2 * r; a++)
                page_fill_rect(pg, cx + a, cy + a * (k % 5 - 2) / 3, 3, 3, 1);
        }
    }
}

static inline int geom_pages_equal(const page *a, const page *b)
{
    return a->width == b->width && a->height == b->height &&
           memcmp(a->bits, b->bits, a->stride * (size_t)a->height) == 0;
}

#endif
