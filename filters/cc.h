/*
 * cc.h — connected components of black pixels by run-length labelling, and
 * the row-span helpers the cleaning filters (border, despeckle, crop) share.
 *
 * A page is described by its horizontal black runs, row by row; runs that
 * touch between consecutive rows (4- or 8-connectivity) are joined with a
 * union-find, and each component gets its bounding box and pixel count.
 * Working on runs instead of pixels keeps the cost proportional to the
 * number of black/white transitions, which on a text page is ~100x smaller
 * than the number of pixels.
 */
#ifndef SPOOLD_CC_H
#define SPOOLD_CC_H

#include <stddef.h>
#include <stdint.h>

#include "page.h"

struct cc_run {
    int32_t x0, x1;         /* black pixels [x0, x1) of row y */
    int32_t y;
    uint32_t label;         /* component index after cc_label */
};

struct cc_comp {
    int32_t x0, y0, x1, y1; /* bounding box, exclusive right/bottom */
    uint32_t area;          /* black pixels */
    uint32_t nruns;
};

struct cc_map {
    int width, height;
    uint32_t *row_start;    /* height + 1 entries; row y's runs are
                               runs[row_start[y] .. row_start[y+1]) by x */
    struct cc_run *runs;
    size_t nruns, cap_runs;
    struct cc_comp *comps;
    uint32_t ncomps;
};

/* Labels the black pixels of pg into *m (which must be zeroed or freed).
 * connectivity is 4 or 8.  Returns 0, or -1 with a reason when out of
 * memory.  Cost: one pass over the page's words plus O(runs). */
int cc_label(const page *pg, int connectivity, struct cc_map *m, errbuf *e);

void cc_free(struct cc_map *m);

/* The runs of each component: m->runs[list[k]] for k in [first[c],
 * first[c+1]) are component c's runs, top row first. */
struct cc_index {
    uint32_t *first;        /* ncomps + 1 */
    uint32_t *list;         /* nruns */
};

int cc_index_build(const struct cc_map *m, struct cc_index *ix, errbuf *e);
void cc_index_free(struct cc_index *ix);

/* Extracts the black runs of one packed row (page layout, `width` pixels,
 * padding bits zero) into xs as pairs x0,x1; returns the number of runs.
 * xs must hold 2 * (width / 2 + 1) ints. */
int cc_row_runs(const uint8_t *row, int width, int32_t *xs);

/* Index of the first run in row y whose x1 > x (runs are sorted by x). */
uint32_t cc_row_find(const struct cc_map *m, int y, int x);

/* Sets pixels [x0, x1) of a packed row to 0 or 1 (clipped by the caller). */
void span_clear(uint8_t *row, int x0, int x1);
void span_set(uint8_t *row, int x0, int x1);

/* Number of black pixels in [x0, x1) of a packed row; span_any: whether
 * there is one. */
int span_count(const uint8_t *row, int x0, int x1);
int span_any(const uint8_t *row, int x0, int x1);

#endif
