/*
 * despeckle.c — the `despeckle` stage: removes black specks, keeps the dots
 * that belong to text, fills small white holes inside strokes.  Works on the
 * run-length component map of cc.c.
 */
#include "despeckle.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cc.h"
#include "chain.h"

/* Lengths in pixels at the page's resolution (see dparams_for). */
struct dparams {
    int sx, sy;         /* a speck fits in sx by sy */
    int turn;           /* growth of a speck's box when the page is turned */
    int near;           /* a dot this close to other ink is part of it */
    int hang;           /* a comma head hangs this much below the baseline */
    int frag;           /* a dot inside a letter's box this close is part of it */
    int gap_dot;        /* i-dot to stem, at most */
    int gap_period;     /* period to the letter beside it, at most */
    int gap_chain;      /* between dots of an ellipsis, leader or colon */
    int gap_line;       /* letters this far away show a dot's text line */
    int letter_max;     /* larger components are not letters */
    int reach;          /* largest of the gaps: neighbourhood searched */
    int cell;           /* grid cell side */
};

enum kind { K_OTHER, K_LETTER, K_DOT };

struct comp_ends;

/* What the rules look at. */
struct dctx {
    const page *pg;
    const struct cc_map *m;
    const uint8_t *kind;
    const struct dparams *p;
    const struct comp_ends *ends;   /* per letter, see comp_ends_fill */
};

struct grid {
    int gw, gh, cell;
    uint32_t *start;    /* gw*gh + 1 */
    uint32_t *items;    /* component indices */
};

static int scaled(double v, double dpi)
{
    int n = (int)(v * dpi / 300.0 + 0.5);
    return n < 1 ? 1 : n;
}

static void dparams_for(struct dparams *p, const page *pg, int max_speck)
{
    p->sx = scaled(max_speck, pg->xres);
    p->sy = scaled(max_speck, pg->yres);
    double dpi = pg->xres > pg->yres ? pg->xres : pg->yres;
    p->turn = scaled(2, dpi);
    p->near = scaled(2, dpi);
    p->hang = scaled(2, dpi);
    p->frag = scaled(4, dpi);
    p->gap_dot = scaled(8, dpi);
    p->gap_period = scaled(12, dpi);
    p->gap_chain = scaled(24, dpi);
    p->letter_max = scaled(200, dpi);
    p->gap_line = 4 * p->gap_period;
    p->reach = p->gap_chain + (p->sx > p->sy ? p->sx : p->sy) + p->turn;
    p->cell = scaled(32, dpi);
}

/* Sorts the letters and dots into grid cells: each goes into every cell its
 * bounding box, grown by p->reach, overlaps. */
static int grid_build(struct grid *g, const struct cc_map *m, const uint8_t *kind,
                      const struct dparams *p, errbuf *e)
{
    g->cell = p->cell;
    g->gw = (m->width + g->cell - 1) / g->cell;
    g->gh = (m->height + g->cell - 1) / g->cell;
    size_t ncell = (size_t)g->gw * (size_t)g->gh;
    g->start = calloc(ncell + 1, sizeof *g->start);
    if (g->start == NULL)
        return err_errno(e, ENOMEM, "cannot allocate speck grid");
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t c = 0; c < m->ncomps; c++) {
            if (kind[c] == K_OTHER)
                continue;
            const struct cc_comp *k = &m->comps[c];
            int cx0 = (k->x0 - p->reach) / g->cell, cy0 = (k->y0 - p->reach) / g->cell;
            int cx1 = (k->x1 - 1 + p->reach) / g->cell, cy1 = (k->y1 - 1 + p->reach) / g->cell;
            cx0 = cx0 < 0 ? 0 : cx0;
            cy0 = cy0 < 0 ? 0 : cy0;
            cx1 = cx1 >= g->gw ? g->gw - 1 : cx1;
            cy1 = cy1 >= g->gh ? g->gh - 1 : cy1;
            for (int cy = cy0; cy <= cy1; cy++)
                for (int cx = cx0; cx <= cx1; cx++) {
                    size_t i = (size_t)cy * (size_t)g->gw + (size_t)cx;
                    if (pass == 0)
                        g->start[i + 1]++;
                    else
                        g->items[g->start[i]++] = c;
                }
        }
        if (pass == 0) {
            for (size_t i = 0; i < ncell; i++)
                g->start[i + 1] += g->start[i];
            g->items = malloc(sizeof *g->items * (g->start[ncell] ? g->start[ncell] : 1));
            if (g->items == NULL) {
                free(g->start);
                return err_errno(e, ENOMEM, "cannot allocate speck grid");
            }
        } else {
            for (size_t i = ncell; i > 0; i--)
                g->start[i] = g->start[i - 1];
            g->start[0] = 0;
        }
    }
    return 0;
}

/* The pixel extents of a component's four outermost rows and columns:
 * where a stem ends. */
struct comp_ends {
    int32_t top0, top1, bot0, bot1;         /* x extents of top and bottom rows */
    int32_t left0, left1, right0, right1;   /* y extents of the side columns */
};

/* Fills ends[c] for every letter in one pass over the runs (in memory
 * order, which is much cheaper than gathering each letter's runs). */
static void comp_ends_fill(const struct cc_map *m, const uint8_t *kind,
                           struct comp_ends *ends)
{
    for (uint32_t c = 0; c < m->ncomps; c++)
        ends[c] = (struct comp_ends){ INT32_MAX, -1, INT32_MAX, -1,
                                      INT32_MAX, -1, INT32_MAX, -1 };
    for (size_t k = 0; k < m->nruns; k++) {
        const struct cc_run *r = &m->runs[k];
        if (kind[r->label] != K_LETTER)
            continue;
        const struct cc_comp *n = &m->comps[r->label];
        struct comp_ends *e = &ends[r->label];
        if (r->y == n->y0) {
            e->top0 = r->x0 < e->top0 ? r->x0 : e->top0;
            e->top1 = r->x1 > e->top1 ? r->x1 : e->top1;
        }
        if (r->y == n->y1 - 1) {
            e->bot0 = r->x0 < e->bot0 ? r->x0 : e->bot0;
            e->bot1 = r->x1 > e->bot1 ? r->x1 : e->bot1;
        }
        if (r->x0 == n->x0) {
            e->left0 = r->y < e->left0 ? r->y : e->left0;
            e->left1 = r->y + 1;
        }
        if (r->x1 == n->x1) {
            e->right0 = r->y < e->right0 ? r->y : e->right0;
            e->right1 = r->y + 1;
        }
    }
}

/* Width of component c's run on row y nearest to x, if it starts or ends
 * within slack of x; 0 if none. */
static int row_run_width(const struct cc_map *m, uint32_t c, int y, int x, int slack)
{
    if (y < 0 || y >= m->height)
        return 0;
    int best = 0, bestd = slack + 1;
    for (uint32_t k = cc_row_find(m, y, x - slack); k < m->row_start[y + 1] &&
         m->runs[k].x0 <= x + slack; k++) {
        if (m->runs[k].label != c)
            continue;
        int d = x < m->runs[k].x0 ? m->runs[k].x0 - x
              : x >= m->runs[k].x1 ? x - m->runs[k].x1 + 1 : 0;
        if (d < bestd) {
            bestd = d;
            best = m->runs[k].x1 - m->runs[k].x0;
        }
    }
    return best;
}

/* Does component c have the pixel (x, y)? */
static int comp_has(const struct cc_map *m, uint32_t c, int x, int y)
{
    if (y < 0 || y >= m->height)
        return 0;
    uint32_t k = cc_row_find(m, y, x);
    return k < m->row_start[y + 1] && m->runs[k].x0 <= x && m->runs[k].label == c;
}

/* Height of component c's vertical stretch in column x covering y, or the
 * nearest one starting or ending within slack of y; 0 if none. */
static int col_run_height(const struct cc_map *m, uint32_t c, int x, int y, int slack)
{
    for (int d = 0; d <= slack; d++) {
        for (int sgn = -1; sgn <= 1; sgn += 2) {
            int yy = y + sgn * d;
            if (!comp_has(m, c, x, yy))
                continue;
            int a = yy, b = yy + 1;
            while (comp_has(m, c, x, a - 1))
                a--;
            while (comp_has(m, c, x, b))
                b++;
            return b - a;
        }
    }
    return 0;
}

/* Is there ink of anything but a dot within r px of dot d's box?  A quick
 * look at the bitmap first (most dots have nothing near), then the runs
 * to leave out other dots. */
static int near_ink(const struct dctx *cx, const struct cc_comp *d, int r)
{
    const page *pg = cx->pg;
    int x0 = d->x0 - r < 0 ? 0 : d->x0 - r;
    int x1 = d->x1 + r > pg->width ? pg->width : d->x1 + r;
    int y0 = d->y0 - r < 0 ? 0 : d->y0 - r;
    int y1 = d->y1 + r > pg->height ? pg->height : d->y1 + r;
    int any = 0;
    for (int y = y0; y < y1 && !any; y++) {
        const uint8_t *row = page_row(pg, y);
        any = y < d->y0 || y >= d->y1 ? span_any(row, x0, x1)
            : span_any(row, x0, d->x0) || span_any(row, d->x1, x1);
    }
    if (!any)
        return 0;
    const struct cc_map *m = cx->m;
    for (int y = y0; y < y1; y++)
        for (uint32_t k = cc_row_find(m, y, x0); k < m->row_start[y + 1] &&
             m->runs[k].x0 < x1; k++)
            if (cx->kind[m->runs[k].label] != K_DOT)
                return 1;
    return 0;
}

/* Directions of the text on the page, as the turn that was applied to an
 * upright page: bit k = turned k quarters clockwise. */
enum { DIR_0 = 1, DIR_90 = 2, DIR_180 = 4, DIR_270 = 8, DIR_ALL = 15 };

/* Facts about a dot gathered over its neighbours (dot_facts); bits 0-3 are
 * the DIR_ bits of i-dot matches. */
enum {
    F_NEAR_H = 1 << 4,      /* a letter beside it within gap_period */
    F_NEAR_V = 1 << 9,      /* a letter over or under it within gap_period */
    F_BOTTOM = 1 << 5,      /* bottom aligned with a letter of the line */
    F_TOP = 1 << 6,
    F_LEFT = 1 << 7,
    F_RIGHT = 1 << 8,
};

/*
 * What letter n says about dot d.  Upright (DIR_0):
 *  - i-dot: d lies over n within gap_dot, n is at least twice as tall as
 *    d, d's centre is over n's top row of pixels (within 1 px plus a
 *    quarter of the gap, for italics and residual skew), which is narrow (a stem's
 *    top or serif, at most d's width + 5), and a quarter of the way down n
 *    the stroke under d's centre (shifted by up to a fifth of that depth,
 *    for residual skew) is as wide as d (+-2 px): a stem;
 *  - period (see facts_dirs): a letter beside d within gap_period, which
 *    d overlaps vertically (F_NEAR_H), and d's bottom aligned with the
 *    bottom of a letter of the same line within gap_line (F_BOTTOM): within
 *    1 px plus 1/12 of the distance (residual skew), or up to `hang` lower
 *    (a comma whose tail broke off), the letter at least twice as tall as
 *    d and d not reaching above it; or d's top aligned with a letter's top
 *    the same way (F_TOP: a quote or apostrophe head; a period upside
 *    down).
 * The same rules turned by 90, 180 and 270 degrees give the other bits.
 */
static int align_facts(const struct cc_comp *d, const struct cc_comp *n,
                       const struct dparams *p)
{
    int dw = d->x1 - d->x0, dh = d->y1 - d->y0;
    int nw = n->x1 - n->x0, nh = n->y1 - n->y0;
    int gv = d->y0 >= n->y1 ? d->y0 - n->y1 : n->y0 - d->y1;
    int gh = d->x0 >= n->x1 ? d->x0 - n->x1 : n->x0 - d->x1;
    int f = 0;
    if (gh >= 1 && gh <= p->gap_period && gv < 0)
        f |= F_NEAR_H;
    if (gv >= 1 && gv <= p->gap_period && gh < 0)
        f |= F_NEAR_V;
    int dist = gh > 0 ? gh : 0;
    if (dist <= p->gap_line && gv < 0 && nh >= 2 * dh) {
        int tol = 1 + dist / 12;
        /* a comma whose thin tail broke off hangs a little lower */
        if (d->y1 - n->y1 >= -tol && d->y1 - n->y1 <= tol + p->hang && d->y0 >= n->y0)
            f |= F_BOTTOM;
        if (n->y0 - d->y0 >= -tol && n->y0 - d->y0 <= tol + p->hang && d->y1 <= n->y1)
            f |= F_TOP;
    }
    dist = gv > 0 ? gv : 0;
    if (dist <= p->gap_line && gh < 0 && nw >= 2 * dw) {
        int tol = 1 + dist / 12;
        if (n->x0 - d->x0 >= -tol && n->x0 - d->x0 <= tol + p->hang && d->x1 <= n->x1)
            f |= F_LEFT;
        if (d->x1 - n->x1 >= -tol && d->x1 - n->x1 <= tol + p->hang && d->x0 >= n->x0)
            f |= F_RIGHT;
    }
    return f;
}

static int dot_facts(const struct dctx *cx, const struct cc_comp *d, uint32_t nc)
{
    const struct cc_map *m = cx->m;
    const struct dparams *p = cx->p;
    const struct cc_comp *n = &m->comps[nc];
    int dw = d->x1 - d->x0, dh = d->y1 - d->y0;
    int nw = n->x1 - n->x0, nh = n->y1 - n->y0;
    int cx2 = d->x0 + d->x1, cy2 = d->y0 + d->y1;
    int below = d->y0 >= n->y1, right = d->x0 >= n->x1;
    int gv = below ? d->y0 - n->y1 : n->y0 - d->y1;
    int gh = right ? d->x0 - n->x1 : n->x0 - d->x1;
    int f = align_facts(d, n, p);
    if (gv >= 1 && gv <= p->gap_dot && nh >= 2 * dh) {
        const struct comp_ends *e = &cx->ends[nc];
        int a = below ? e->bot0 : e->top0, b = below ? e->bot1 : e->top1;
        if (b - a <= dw + 5 && cx2 >= 2 * a - 2 - gv / 2 && cx2 <= 2 * b + 2 + gv / 2 &&
            abs(row_run_width(m, nc, below ? n->y1 - 1 - nh / 4 : n->y0 + nh / 4,
                              cx2 / 2, 1 + nh / 20) - dw) <= 2)
            f |= below ? DIR_180 : DIR_0;
    }
    if (gh >= 1 && gh <= p->gap_dot && nw >= 2 * dw) {
        const struct comp_ends *e = &cx->ends[nc];
        int a = right ? e->right0 : e->left0, b = right ? e->right1 : e->left1;
        if (b - a <= dh + 5 && cy2 >= 2 * a - 2 - gh / 2 && cy2 <= 2 * b + 2 + gh / 2 &&
            abs(col_run_height(m, nc, right ? n->x1 - 1 - nw / 4 : n->x0 + nw / 4,
                               cy2 / 2, 1 + nw / 20) - dh) <= 2)
            f |= right ? DIR_90 : DIR_270;
    }
    return f;
}

/* The DIR_ bits that the facts of one dot support. */
static int facts_dirs(int f)
{
    int dirs = f & DIR_ALL;
    if ((f & F_NEAR_H) && (f & (F_BOTTOM | F_TOP)))
        dirs |= DIR_0 | DIR_180;
    if ((f & F_NEAR_V) && (f & (F_LEFT | F_RIGHT)))
        dirs |= DIR_90 | DIR_270;
    return dirs;
}

/* Are two dots of the same size (+-1 px) in a row within gap_chain or in a
 * column within gap_chain and 4 dot heights (a colon), centres aligned
 * within 1 px plus a tenth of the gap (the dots of an ellipsis, a dotted
 * leader, a colon)? */
static int dots_linked(const struct cc_comp *a, const struct cc_comp *b,
                       const struct dparams *p)
{
    int aw = a->x1 - a->x0, ah = a->y1 - a->y0;
    int bw = b->x1 - b->x0, bh = b->y1 - b->y0;
    if (abs(aw - bw) > 1 || abs(ah - bh) > 1)
        return 0;
    int gh = a->x0 >= b->x1 ? a->x0 - b->x1 : b->x0 - a->x1;
    int gv = a->y0 >= b->y1 ? a->y0 - b->y1 : b->y0 - a->y1;
    if (gh >= 1 && gh <= p->gap_chain &&
        abs((a->y0 + a->y1) - (b->y0 + b->y1)) <= 2 + gh / 5)
        return 1;
    int hmax = ah > bh ? ah : bh;
    if (gv >= 1 && gv <= p->gap_chain && gv <= 4 * hmax &&
        abs((a->x0 + a->x1) - (b->x0 + b->x1)) <= 2 + gv / 5)
        return 1;
    return 0;
}

static uint32_t uf_root(uint32_t *par, uint32_t i)
{
    while (par[i] != i) {
        par[i] = par[par[i]];
        i = par[i];
    }
    return i;
}

/*
 * The directions whose rules are trusted on this page, from the dots that
 * sit like i-dots (the most specific rule): real i-dots all agree on one
 * direction, specks match the rule of every direction about equally (and
 * rarely).  The direction with the most such dots wins, together with any
 * direction nearly as popular (3/4: mixed pages); with fewer than 8 on the
 * page all directions are trusted.
 */
static int choose_dirs(const uint8_t *dirs, const uint8_t *kind, uint32_t n)
{
    uint32_t count[4] = { 0, 0, 0, 0 }, best = 0;
    for (uint32_t c = 0; c < n; c++)
        if (kind[c] == K_DOT)
            for (int k = 0; k < 4; k++)
                count[k] += (dirs[c] >> k) & 1;
    for (int k = 0; k < 4; k++)
        best = count[k] > best ? count[k] : best;
    if (best < 8)
        return DIR_ALL;
    int allowed = 0;
    for (int k = 0; k < 4; k++)
        if (count[k] * 4 >= best * 3)
            allowed |= 1 << k;
    return allowed;
}

static void uf_join(uint32_t *par, uint32_t a, uint32_t b)
{
    a = uf_root(par, a);
    b = uf_root(par, b);
    if (a != b)
        par[a > b ? a : b] = a < b ? a : b;
}

struct dot_work {
    uint32_t *par;      /* union-find over linked dots */
    uint32_t *count;    /* per group root: members, top bit = anchored */
    uint8_t *dirs;      /* DIR_ bits each dot's placement supports */
    uint8_t *idots;     /* DIR_ bits of the i-dot rule alone */
};

static void dot_work_free(struct dot_work *w)
{
    free(w->par);
    free(w->count);
    free(w->dirs);
    free(w->idots);
}

/* Alignment facts (F_BOTTOM..F_RIGHT) of dot d from the letters up to
 * gap_line away along its line: a letter that overlaps the dot's rows is
 * listed in the dot's row of cells (the grid grows boxes by p->reach), so
 * only the cells left and right of d's cell are looked at (above and below
 * for a dot under or over a letter, for pages turned a quarter). */
static int wide_facts(const struct dctx *cx, const struct grid *g,
                      const struct cc_comp *d, int gx, int gy, int horizontal)
{
    int k = (cx->p->gap_line + g->cell - 1) / g->cell, f = 0;
    for (int j = -k; j <= k; j++) {
        int x = horizontal ? gx + j : gx, y = horizontal ? gy : gy + j;
        if (x < 0 || y < 0 || x >= g->gw || y >= g->gh)
            continue;
        size_t cell = (size_t)y * (size_t)g->gw + (size_t)x;
        for (uint32_t i = g->start[cell]; i < g->start[cell + 1]; i++)
            if (cx->kind[g->items[i]] == K_LETTER)
                f |= align_facts(d, &cx->m->comps[g->items[i]], cx->p);
    }
    return f & (horizontal ? F_BOTTOM | F_TOP : F_LEFT | F_RIGHT);
}

/* For every dot: near other ink (keep), the directions its placement
 * supports, and its links to other dots.  The grid cell of a dot lists the
 * letters and dots within p->reach; letters farther away along the line
 * are looked up (wide_facts) only for a dot that has a letter beside it
 * but no baseline yet. */
static void gather_facts(const struct dctx *cx, uint8_t *keep, const struct grid *g,
                         struct dot_work *w)
{
    const struct cc_map *m = cx->m;
    for (uint32_t c = 0; c < m->ncomps; c++) {
        if (cx->kind[c] != K_DOT)
            continue;
        const struct cc_comp *d = &m->comps[c];
        keep[c] = (uint8_t)near_ink(cx, d, cx->p->near);
        int gx = (d->x0 + d->x1) / 2 / g->cell, gy = (d->y0 + d->y1) / 2 / g->cell;
        size_t cell = (size_t)gy * (size_t)g->gw + (size_t)gx;
        int facts = 0, inside = 0;
        for (uint32_t i = g->start[cell]; i < g->start[cell + 1]; i++) {
            uint32_t nb = g->items[i];
            if (cx->kind[nb] == K_LETTER && !keep[c]) {
                const struct cc_comp *n = &m->comps[nb];
                inside |= d->x0 >= n->x0 && d->x1 <= n->x1 && d->y0 >= n->y0 && d->y1 <= n->y1;
                facts |= dot_facts(cx, d, nb);
                if (dots_linked(d, &m->comps[nb], cx->p))
                    keep[c] = 1;        /* the other dot of a colon, bigger */
            } else if (cx->kind[nb] == K_DOT && nb > c &&
                       dots_linked(d, &m->comps[nb], cx->p)) {
                uf_join(w->par, c, nb);
            }
        }
        if (!keep[c] && (facts & F_NEAR_H) && !(facts & (F_BOTTOM | F_TOP)))
            facts |= wide_facts(cx, g, d, gx, gy, 1);
        if (!keep[c] && (facts & F_NEAR_V) && !(facts & (F_LEFT | F_RIGHT)))
            facts |= wide_facts(cx, g, d, gx, gy, 0);
        if (!keep[c] && inside && near_ink(cx, d, cx->p->frag))
            keep[c] = 1;        /* a piece broken off a letter, inside its box */
        w->dirs[c] = (uint8_t)facts_dirs(facts);
        w->idots[c] = (uint8_t)(facts & DIR_ALL);
    }
}

/*
 * Decides which dots stay (keep[c] = 1): a dot within `near` of other ink
 * (part of a glyph, or invisible against it), a dot placed like an i-dot or
 * a period in a trusted direction (dot_facts, choose_dirs), a dot linked
 * (dots_linked, transitively) to one of those, and each of four or more
 * linked dots (a dotted leader).
 */
static int choose_dots(const struct dctx *cx, uint8_t *keep, errbuf *e)
{
    const struct cc_map *m = cx->m;
    const uint8_t *kind = cx->kind;
    struct grid g;
    if (grid_build(&g, m, kind, cx->p, e) < 0)
        return -1;
    size_t n = m->ncomps ? m->ncomps : 1;
    struct dot_work w = { malloc(sizeof *w.par * n), calloc(n, sizeof *w.count),
                          calloc(n, 1), calloc(n, 1) };
    if (!w.par || !w.count || !w.dirs || !w.idots) {
        dot_work_free(&w);
        free(g.start);
        free(g.items);
        return err_errno(e, ENOMEM, "cannot allocate speck groups");
    }
    for (uint32_t c = 0; c < m->ncomps; c++)
        w.par[c] = c;
    gather_facts(cx, keep, &g, &w);
    int allowed = choose_dirs(w.idots, kind, m->ncomps);
    for (uint32_t c = 0; c < m->ncomps; c++) {
        if (kind[c] != K_DOT)
            continue;
        if (w.dirs[c] & allowed)
            keep[c] = 1;
        uint32_t r = uf_root(w.par, c);
        w.count[r]++;
        if (keep[c])
            w.count[r] |= 0x80000000u;    /* group anchored */
    }
    for (uint32_t c = 0; c < m->ncomps; c++) {
        if (kind[c] != K_DOT)
            continue;
        uint32_t k = w.count[uf_root(w.par, c)];
        if ((k & 0x80000000u) || k >= 4)
            keep[c] = 1;
    }
    dot_work_free(&w);
    free(g.start);
    free(g.items);
    return 0;
}

/* A speck fits in sx x sy; one turned by deskewing (up to 15 degrees)
 * keeps its pixel count but its box grows by up to 2 px and stays about
 * square, which a hyphen or a stroke piece of the same size does not. */
static int is_speck_sized(const struct cc_comp *k, const struct dparams *p)
{
    int w = k->x1 - k->x0, h = k->y1 - k->y0;
    if (w <= p->sx && h <= p->sy)
        return 1;
    return w <= p->sx + p->turn && h <= p->sy + p->turn && abs(w - h) <= p->turn &&
           k->area <= (uint32_t)(p->sx * p->sy);
}

static int remove_specks(page *pg, int max_speck, struct despeckle_result *res,
                         const struct cc_map *m, errbuf *e)
{
    struct dparams p;
    dparams_for(&p, pg, max_speck);
    uint8_t *kind = malloc(m->ncomps ? m->ncomps : 1);
    uint8_t *keep = calloc(m->ncomps ? m->ncomps : 1, 1);
    if (kind == NULL || keep == NULL) {
        free(kind);
        free(keep);
        return err_errno(e, ENOMEM, "cannot allocate speck table");
    }
    uint32_t ndots = 0;
    for (uint32_t c = 0; c < m->ncomps; c++) {
        const struct cc_comp *k = &m->comps[c];
        int w = k->x1 - k->x0, h = k->y1 - k->y0;
        if (is_speck_sized(k, &p))
            kind[c] = K_DOT;
        else if (w <= p.letter_max && h <= p.letter_max)
            kind[c] = K_LETTER;
        else
            kind[c] = K_OTHER;
        ndots += kind[c] == K_DOT;
    }
    struct comp_ends *ends = malloc(sizeof *ends * (m->ncomps ? m->ncomps : 1));
    struct dctx cx = { pg, m, kind, &p, ends };
    int rc = 0;
    if (ndots > 0) {
        if (ends == NULL)
            rc = err_errno(e, ENOMEM, "cannot allocate speck tables");
        else
            comp_ends_fill(m, kind, ends);
        if (rc == 0 && choose_dots(&cx, keep, e) < 0)
            rc = -1;
    }
    free(ends);
    if (rc < 0) {
        free(kind);
        free(keep);
        return -1;
    }
    for (uint32_t c = 0; c < m->ncomps; c++)
        if (kind[c] == K_DOT && !keep[c]) {
            res->specks++;
            res->speck_px += m->comps[c].area;
        }
    for (int y = 0; y < m->height; y++) {
        uint8_t *row = page_row(pg, y);
        for (uint32_t k = m->row_start[y]; k < m->row_start[y + 1]; k++) {
            uint32_t c = m->runs[k].label;
            if (kind[c] == K_DOT && !keep[c])
                span_clear(row, m->runs[k].x0, m->runs[k].x1);
        }
    }
    free(kind);
    free(keep);
    return 0;
}

/* ------------------------------------------------------------ holes */

struct holes {
    uint32_t *par;      /* union-find over gap ids (= index of the run left of the gap) */
    uint8_t *flag;      /* HOLE_CAND, HOLE_LEAK (on roots), HOLE_DONE */
    int32_t *ymin, *ymax;
};

enum { HOLE_CAND = 1, HOLE_LEAK = 2, HOLE_DONE = 4 };

static uint32_t hole_root(struct holes *h, uint32_t i)
{
    while (h->par[i] != i) {
        h->par[i] = h->par[h->par[i]];
        i = h->par[i];
    }
    return i;
}

static void hole_leak(struct holes *h, uint32_t g)
{
    if (g != UINT32_MAX && (h->flag[g] & HOLE_CAND))
        h->flag[hole_root(h, g)] |= HOLE_LEAK;
}

static void hole_join(struct holes *h, uint32_t a, uint32_t b)
{
    a = hole_root(h, a);
    b = hole_root(h, b);
    if (a == b)
        return;
    if (a > b) {
        uint32_t t = a;
        a = b;
        b = t;
    }
    h->par[b] = a;
    h->flag[a] |= h->flag[b] & HOLE_LEAK;
    if (h->ymin[b] < h->ymin[a])
        h->ymin[a] = h->ymin[b];
    if (h->ymax[b] > h->ymax[a])
        h->ymax[a] = h->ymax[b];
}

/* Candidate gap g = [a, b) looks at row r (the row above or below): every
 * white interval of row r sharing a column with [a, b) is joined to g if it
 * is a candidate too, else g's set leaks (white is 4-connected, the dual of
 * 8-connected black; the page outside the image counts as white). */
static void hole_look(struct holes *h, const struct cc_map *m, uint32_t g,
                      int a, int b, int r)
{
    if (r < 0 || r >= m->height) {
        hole_leak(h, g);
        return;
    }
    uint32_t s = m->row_start[r], e = m->row_start[r + 1];
    for (uint32_t k = cc_row_find(m, r, a);; k++) {
        int w0 = k > s ? m->runs[k - 1].x1 : 0;     /* white before run k */
        int w1 = k < e ? m->runs[k].x0 : m->width;
        if (w0 < w1 && w0 < b && a < w1) {
            if (k > s && k < e && (h->flag[k - 1] & HOLE_CAND))
                hole_join(h, g, k - 1);
            else
                hole_leak(h, g);
        }
        if (k >= e || m->runs[k].x1 >= b)
            break;
    }
}

/*
 * fill_holes — fills white holes that fit in hx by hy.
 *
 * Method: a hole is a 4-connected white component that does not reach the
 * page edge.  Its pieces on each row are gaps between two black runs of the
 * same black component, so the run map already lists them: the gap right
 * of run k gets id k.  Gaps no wider than hx are candidates; each looks at
 * the rows above and below (hole_look): candidates sharing a column are
 * joined (union-find), and a candidate sharing a column with any other
 * white (a wide gap, the white reaching the page edge) marks its set as
 * leaking.  Sets that do not leak and span at most hy rows are filled.
 * Cost O(runs) plus a row search per candidate.
 */
static int fill_holes(page *pg, const struct cc_map *m, int hx, int hy,
                      struct despeckle_result *res, errbuf *e)
{
    struct holes h;
    size_t n = m->nruns ? m->nruns : 1;
    h.par = malloc(sizeof *h.par * n);
    h.flag = calloc(n, 1);
    h.ymin = malloc(sizeof *h.ymin * n);
    h.ymax = malloc(sizeof *h.ymax * n);
    if (!h.par || !h.flag || !h.ymin || !h.ymax) {
        free(h.par);
        free(h.flag);
        free(h.ymin);
        free(h.ymax);
        return err_errno(e, ENOMEM, "cannot allocate hole table");
    }
    for (int y = 0; y < m->height; y++)
        for (uint32_t k = m->row_start[y]; k + 1 < m->row_start[y + 1]; k++)
            if (m->runs[k + 1].x0 - m->runs[k].x1 <= hx &&
                m->runs[k].label == m->runs[k + 1].label) {
                h.par[k] = k;
                h.ymin[k] = h.ymax[k] = y;
                h.flag[k] = HOLE_CAND;
            }
    for (int y = 0; y < m->height; y++)
        for (uint32_t k = m->row_start[y]; k + 1 < m->row_start[y + 1]; k++)
            if (h.flag[k] & HOLE_CAND) {
                hole_look(&h, m, k, m->runs[k].x1, m->runs[k + 1].x0, y - 1);
                hole_look(&h, m, k, m->runs[k].x1, m->runs[k + 1].x0, y + 1);
            }
    for (int y = 0; y < m->height; y++) {
        for (uint32_t k = m->row_start[y]; k + 1 < m->row_start[y + 1]; k++) {
            if (!(h.flag[k] & HOLE_CAND))
                continue;
            uint32_t r = hole_root(&h, k);
            if ((h.flag[r] & HOLE_LEAK) || h.ymax[r] - h.ymin[r] >= hy)
                continue;
            if (!(h.flag[r] & HOLE_DONE)) {
                h.flag[r] |= HOLE_DONE;
                res->holes++;
            }
            span_set(page_row(pg, y), m->runs[k].x1, m->runs[k + 1].x0);
            res->hole_px += (uint64_t)(m->runs[k + 1].x0 - m->runs[k].x1);
        }
    }
    free(h.par);
    free(h.flag);
    free(h.ymin);
    free(h.ymax);
    return 0;
}

/*
 * despeckle_page — removes specks and fills holes.
 *
 * Specks: 8-connected black components whose bounding box fits in
 * max_speck x max_speck (at 300 dpi, scaled), or a turned one
 * (is_speck_sized), are dots.  Size alone cannot tell a 5x5 speck from a
 * period, so a dot stays when its context says it is text (choose_dots):
 * ink within 2 px (part of a glyph, or invisible against it); a piece
 * inside a letter's box within 4 px of it (a broken-off terminal); an
 * i-dot over a stem; a period, comma head or quote head beside a letter
 * and aligned with the bottom or top of the letters of its line; a dot
 * linked to such a dot (colon, ellipsis); four or more dots in a row or
 * column (dotted leaders).  All other dots are removed.
 * Holes: see fill_holes; max_hole is the side at 300 dpi.  Holes are found
 * on the page as it was before the specks went (a speck never encloses a
 * hole that small in a stroke).
 * Limits: a speck touching a glyph is part of it and stays; a speck placed
 * like a period, a quote or an i-dot next to letters stays (on the
 * generated corpus about 5% of the specks; removing every dot instead
 * would lose ten times more content); pieces of broken glyphs farther than
 * the rules look are removed.
 */
int despeckle_page(page *pg, int max_speck, int max_hole,
                   struct despeckle_result *res, errbuf *e)
{
    memset(res, 0, sizeof *res);
    if (max_speck <= 0 && max_hole <= 0)
        return 0;
    struct cc_map m;
    if (cc_label(pg, 8, &m, e) < 0)
        return -1;
    int rc = 0;
    if (max_hole > 0)
        rc = fill_holes(pg, &m, scaled(max_hole, pg->xres), scaled(max_hole, pg->yres),
                        res, e);
    if (rc == 0 && max_speck > 0)
        rc = remove_specks(pg, max_speck, res, &m, e);
    cc_free(&m);
    return rc;
}

int despeckle_stage(page *pg, const struct chain_opts *o, struct page_report *r,
                    errbuf *e)
{
    struct despeckle_result res;
    if (despeckle_page(pg, o->despeckle.max_speck, o->despeckle.max_hole, &res, e) < 0)
        return -1;
    r->specks += res.specks;
    r->speck_px += res.speck_px;
    r->holes += res.holes;
    return 0;
}
