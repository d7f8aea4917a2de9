/*
 * crop.c — the `crop` stage: finds the content's bounding box (ignoring
 * leftover specks) and crops the page to it plus a margin, or centres the
 * content on a standard paper size at the page's resolution.
 */
#include "crop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cc.h"

static int scaled(double v, double dpi)
{
    int n = (int)(v * dpi / 300.0 + 0.5);
    return n < 1 ? 1 : n;
}

/* ORs n pixels of src starting at sx into dst starting at dx (both within
 * their rows).  Each destination word takes two source words shifted. */
static void or_bits(uint8_t *dst, int dx, const uint8_t *src, long src_nw, int sx, int n)
{
    long off = (long)sx - dx;                   /* source pixel = dest + off */
    long q = off >= 0 ? off / 64 : -((-off + 63) / 64);
    int sh = (int)(off - 64 * q);
    int last = (dx + n - 1) >> 6;
    for (int i = dx >> 6; i <= last; i++) {
        long j = i + q;
        uint64_t v = j >= 0 && j < src_nw ? page_load64(src + 8 * j) << sh : 0;
        if (sh && j + 1 >= 0 && j + 1 < src_nw)
            v |= page_load64(src + 8 * (j + 1)) >> (64 - sh);
        uint64_t m = ~0ull;
        if (i == dx >> 6)
            m &= ~0ull >> (dx & 63);
        if (i == last && ((dx + n) & 63))
            m &= ~(~0ull >> ((dx + n) & 63));
        uint8_t *p = dst + 8 * (size_t)i;
        page_store64(p, page_load64(p) | (v & m));
    }
}

/* First (last if `last`) black pixel of a row in [a, b), or -1. */
static int span_edge(const uint8_t *row, int a, int b, int last)
{
    if (!last) {
        for (int i = a >> 6; 64 * i < b; i++) {
            int lo = a > 64 * i ? a - 64 * i : 0;
            uint64_t v = page_load64(row + 8 * (size_t)i) & (~0ull >> lo);
            if (v) {
                int x = 64 * i + __builtin_clzll(v);
                return x < b ? x : -1;
            }
        }
        return -1;
    }
    for (int i = (b - 1) >> 6; i >= 0 && 64 * i + 63 >= a; i--) {
        int hi = b - 64 * i < 64 ? b - 64 * i : 64;
        uint64_t v = page_load64(row + 8 * (size_t)i) &
                     (hi == 64 ? ~0ull : ~(~0ull >> hi));
        if (v) {
            int x = 64 * i + 63 - __builtin_ctzll(v);
            return x >= a ? x : -1;
        }
    }
    return -1;
}

/* The occupancy grid: cell (i, j) is black when the cell x cell square at
 * (i*cell, j*cell) holds any ink. */
static int build_cells(const page *pg, int cell, page *cells, errbuf *e)
{
    int cw = (pg->width + cell - 1) / cell, ch = (pg->height + cell - 1) / cell;
    if (page_alloc(cells, cw, ch, pg->xres / cell, pg->yres / cell, UINT64_MAX, e) < 0)
        return -1;
    size_t nw = pg->stride / 8;
    uint64_t *acc = malloc(pg->stride);
    int32_t *xs = malloc(sizeof *xs * (size_t)(2 * (pg->width / 2 + 2)));
    if (acc == NULL || xs == NULL) {
        free(acc);
        free(xs);
        page_free(cells);
        return err_errno(e, ENOMEM, "cannot allocate crop grid");
    }
    for (int r = 0; r < ch; r++) {
        memset(acc, 0, pg->stride);
        for (int y = r * cell; y < (r + 1) * cell && y < pg->height; y++) {
            const uint64_t *row = (const uint64_t *)(const void *)page_row(pg, y);
            for (size_t i = 0; i < nw; i++)
                acc[i] |= row[i];   /* byte order is irrelevant for OR */
        }
        int n = cc_row_runs((const uint8_t *)acc, pg->width, xs);
        uint8_t *out = page_row(cells, r);
        for (int k = 0; k < n; k++)
            span_set(out, xs[2 * k] / cell, (xs[2 * k + 1] - 1) / cell + 1);
    }
    free(acc);
    free(xs);
    return 0;
}

/* Exact edges of the ink inside the content cells (cells holds only those). */
static void exact_box(const page *pg, const page *cells, int cell,
                      const struct crop_box *cb, struct crop_box *box)
{
    int x0 = pg->width, x1 = -1, y0 = pg->height, y1 = -1;
    for (int r = cb->y; r < cb->y + cb->h; r++) {
        const uint8_t *crow = page_row(cells, r);
        int ca = span_edge(crow, cb->x, cb->x + cb->w, 0);
        if (ca < 0)
            continue;
        int cz = span_edge(crow, cb->x, cb->x + cb->w, 1);
        for (int y = r * cell; y < (r + 1) * cell && y < pg->height; y++) {
            const uint8_t *row = page_row(pg, y);
            int b = (cz + 1) * cell < pg->width ? (cz + 1) * cell : pg->width;
            int a = span_edge(row, ca * cell, b, 0);
            if (a < 0)
                continue;
            if (y < y0)
                y0 = y;
            y1 = y;
            if (a < x0)
                x0 = a;
            int z = span_edge(row, ca * cell, b, 1);
            if (z > x1)
                x1 = z;
        }
    }
    *box = x1 < 0 ? (struct crop_box){ 0, 0, 0, 0 }
                  : (struct crop_box){ x0, y0, x1 - x0 + 1, y1 - y0 + 1 };
}

/*
 * crop_content_box — bounding box of the content, leftover specks ignored.
 *
 * Method: the page is reduced to an occupancy grid of cells (4 px at 300
 * dpi); 8-connected clusters of occupied cells are labelled (cc_label).  A
 * speck of at most `speck` px (+2 px for one turned by deskewing) spans at
 * most ceil((speck-1)/cell) + 1 cells each way, so clusters no larger than
 * that are isolated specks and are dropped;
 * everything else is content.  The box is then made exact to the pixel
 * from the ink inside the content cells.
 * Limits: ink within one cell of a speck joins it into a bigger cluster
 * (two specks 4 px apart count as content); anything larger than a speck,
 * such as a border remnant, counts as content.  Cost: one pass over the
 * page plus labelling of a grid 16 times smaller.
 */
int crop_content_box(const page *pg, int speck, struct crop_box *box, errbuf *e)
{
    double dpi = pg->xres > pg->yres ? pg->xres : pg->yres;
    int cell = scaled(4, dpi);
    int spk = speck > 0 ? scaled(speck + 2, dpi) : 0;     /* + turned by deskew */
    int max_cells = spk > 0 ? (spk - 1 + cell - 1) / cell + 1 : 0;   /* cells a speck can span */
    page cells;
    struct cc_map m;
    memset(box, 0, sizeof *box);
    if (build_cells(pg, cell, &cells, e) < 0)
        return -1;
    if (cc_label(&cells, 8, &m, e) < 0) {
        page_free(&cells);
        return -1;
    }
    struct crop_box cb = { cells.width, cells.height, -1, -1 };    /* x0 y0 x1 y1 */
    for (int y = 0; y < m.height; y++) {
        for (uint32_t k = m.row_start[y]; k < m.row_start[y + 1]; k++) {
            const struct cc_comp *c = &m.comps[m.runs[k].label];
            if (c->x1 - c->x0 <= max_cells && c->y1 - c->y0 <= max_cells) {
                span_clear(page_row(&cells, y), m.runs[k].x0, m.runs[k].x1);
                continue;
            }
            cb.x = c->x0 < cb.x ? c->x0 : cb.x;
            cb.y = c->y0 < cb.y ? c->y0 : cb.y;
            cb.w = c->x1 > cb.w ? c->x1 : cb.w;
            cb.h = c->y1 > cb.h ? c->y1 : cb.h;
        }
    }
    cc_free(&m);
    if (cb.w >= 0) {
        cb.w -= cb.x;
        cb.h -= cb.y;
        exact_box(pg, &cells, cell, &cb, box);
    }
    page_free(&cells);
    return 0;
}

int crop_paper_size(enum crop_mode mode, double xdpi, double ydpi, int *w, int *h)
{
    double win, hin;
    switch (mode) {
    case CROP_A4:
        win = 210.0 / 25.4;
        hin = 297.0 / 25.4;
        break;
    case CROP_LETTER:
        win = 8.5;
        hin = 11.0;
        break;
    case CROP_LEGAL:
        win = 8.5;
        hin = 14.0;
        break;
    default:
        return -1;
    }
    *w = (int)(win * xdpi + 0.5);
    *h = (int)(hin * ydpi + 0.5);
    return 0;
}

/* Replaces pg by a white w x h page holding the box `src` of pg at (dx, dy). */
static int place_box(page *pg, int w, int h, const struct crop_box *src,
                     int dx, int dy, errbuf *e)
{
    page out;
    if (page_alloc(&out, w, h, pg->xres, pg->yres, UINT64_MAX, e) < 0)
        return -1;
    long nw = (long)(pg->stride / 8);
    for (int y = 0; y < src->h; y++)
        or_bits(page_row(&out, dy + y), dx, page_row(pg, src->y + y), nw,
                src->x, src->w);
    page_move(pg, &out);
    return 0;
}

/*
 * crop_page — the crop modes.
 *
 * CROP_CONTENT: the output is the content box grown by margin_mm on every
 * side, clipped to the page; only the content box is copied (specks left in
 * the margin are not).  A page without content is left as it is.
 * CROP_A4 / CROP_LETTER / CROP_LEGAL: the output page is exactly the paper
 * size at the page's resolution (portrait), with the content box centred on
 * it.  Content that does not fit portrait but fits landscape is put on
 * landscape paper; content larger than the paper either way is never cut or
 * scaled: the output page is grown to the content box in that dimension (so
 * it is then larger than the paper).  A page without content becomes a
 * blank sheet of the paper size.
 */
int crop_page(page *pg, enum crop_mode mode, double margin_mm, int speck,
              struct crop_box *kept, errbuf *e)
{
    *kept = (struct crop_box){ 0, 0, pg->width, pg->height };
    if (mode == CROP_NONE)
        return 0;
    struct crop_box box;
    if (crop_content_box(pg, speck, &box, e) < 0)
        return -1;
    if (mode == CROP_CONTENT) {
        if (box.w == 0)
            return 0;
        int mx = (int)(margin_mm / 25.4 * pg->xres + 0.5);
        int my = (int)(margin_mm / 25.4 * pg->yres + 0.5);
        int x0 = box.x - mx < 0 ? 0 : box.x - mx;
        int y0 = box.y - my < 0 ? 0 : box.y - my;
        int x1 = box.x + box.w + mx > pg->width ? pg->width : box.x + box.w + mx;
        int y1 = box.y + box.h + my > pg->height ? pg->height : box.y + box.h + my;
        *kept = (struct crop_box){ x0, y0, x1 - x0, y1 - y0 };
        return place_box(pg, x1 - x0, y1 - y0, &box, box.x - x0, box.y - y0, e);
    }
    int pw, ph;
    if (crop_paper_size(mode, pg->xres, pg->yres, &pw, &ph) < 0)
        return err_set(e, "unknown crop mode %d", (int)mode);
    if ((box.w > pw || box.h > ph) && box.w > box.h) {
        int lw, lh;     /* landscape: the long side across */
        crop_paper_size(mode, pg->yres, pg->xres, &lh, &lw);
        if (box.w <= lw && box.h <= lh) {
            pw = lw;
            ph = lh;
        }
    }
    int w = box.w > pw ? box.w : pw, h = box.h > ph ? box.h : ph;
    *kept = box;
    return place_box(pg, w, h, &box, (w - box.w) / 2, (h - box.h) / 2, e);
}

int crop_stage(page *pg, const struct chain_opts *o, struct page_report *r,
               errbuf *e)
{
    struct crop_box kept;
    if (crop_page(pg, o->crop.mode, o->crop.margin_mm, o->despeckle.max_speck,
                  &kept, e) < 0)
        return -1;
    r->crop.x = kept.x;
    r->crop.y = kept.y;
    r->crop.w = kept.w;
    r->crop.h = kept.h;
    return 0;
}
