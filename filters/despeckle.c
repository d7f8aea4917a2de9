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
    int frag;           /* a dot inside a letter's box (or level with its top
                           or bottom) this close is a piece of it */
    int gap_dot;        /* i-dot to stem, at most */
    int gap_period;     /* period to the letter beside it, at most */
    int gap_chain;      /* between dots of an ellipsis, leader or colon */
    int gap_line;       /* letters this far away show a dot's text line */
    int letter_max;     /* larger components are not letters */
    int reach;          /* largest of the gaps: neighbourhood searched */
    int cell;           /* grid cell side */
};

/* Components by size: a dot fits a speck (is_speck_sized), a blob is up to
 * twice that (is_blob: two specks run together, a speck turned long, or a
 * hyphen, a big i-dot, a dash), a letter up to letter_max, anything bigger
 * is other. */
enum kind { K_OTHER, K_LETTER, K_DOT, K_BLOB };

/* What the rules look at. */
struct dctx {
    const page *pg;
    const struct cc_map *m;
    const uint8_t *kind;
    const struct dparams *p;
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
    p->frag = scaled(3, dpi);
    p->gap_dot = scaled(8, dpi);
    p->gap_period = scaled(16, dpi);
    p->gap_chain = scaled(24, dpi);
    p->letter_max = scaled(200, dpi);
    p->gap_line = scaled(48, dpi);
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

/*
 * Directions.  The text of a page may have been turned by k quarters
 * clockwise (k = 0..3, bit k of a DIR_ mask) when orientation detection
 * was not sure or was off.  The rules are written for upright text and read
 * every box in the frame of direction k (in_frame): u runs along the text
 * line in reading order, v runs down the line (towards the baseline).
 * Upright, u = x and v = y; turned a quarter clockwise, u = y and v = -x;
 * half a turn, u = -x and v = -y; three quarters, u = -y and v = x (a
 * negated coordinate c is mirrored as -1 - c so that boxes stay half-open).
 */
enum { DIR_0 = 1, DIR_90 = 2, DIR_180 = 4, DIR_270 = 8, DIR_ALL = 15 };

struct fbox {
    int u0, v0, u1, v1;     /* [u0, u1) x [v0, v1) */
};

static struct fbox in_frame(const struct cc_comp *b, int k)
{
    switch (k) {
    case 0: return (struct fbox){ b->x0, b->y0, b->x1, b->y1 };
    case 1: return (struct fbox){ b->y0, -b->x1, b->y1, -b->x0 };
    case 2: return (struct fbox){ -b->x1, -b->y1, -b->x0, -b->y0 };
    default: return (struct fbox){ -b->y1, b->x0, -b->y0, b->x1 };
    }
}

/* The page pixel t px below dot d (in frame k: further down the line than
 * the dot's bottom) and s px across from its centre (along the line). */
static void dot_frame(const struct cc_comp *d, int k, int s, int t, int *x, int *y)
{
    int cx = (d->x0 + d->x1) / 2, cy = (d->y0 + d->y1) / 2;
    switch (k) {
    case 0: *x = cx + s; *y = d->y1 + t; break;
    case 1: *x = d->x0 - 1 - t; *y = cy + s; break;
    case 2: *x = cx - s; *y = d->y0 - 1 - t; break;
    default: *x = d->x1 + t; *y = cy - s; break;
    }
}

static int frame_ink(const page *pg, const struct cc_comp *d, int k, int s, int t)
{
    int x, y;
    dot_frame(d, k, s, t, &x, &y);
    return x >= 0 && y >= 0 && x < pg->width && y < pg->height && page_get(pg, x, y);
}

/* Width (along the line, in frame k) of the stroke through (s, t), up to
 * most + 1. */
static int frame_width(const page *pg, const struct cc_comp *d, int k, int s, int t,
                       int most)
{
    int a = s, b = s;
    while (b - a < most && frame_ink(pg, d, k, a - 1, t))
        a--;
    while (b - a < most && frame_ink(pg, d, k, b + 1, t))
        b++;
    return b - a + 1;
}

/* Follows a stroke down one row (t) in frame k: *s moves to the nearest
 * ink within 2 px of it (a serif's jog, a slant).  Returns whether there
 * is any. */
static int stroke_step(const page *pg, const struct cc_comp *d, int k, int *s, int t)
{
    static const int tries[] = { 0, -1, 1, -2, 2 };
    for (int i = 0; i < 5; i++)
        if (frame_ink(pg, d, k, *s + tries[i], t)) {
            *s += tries[i];
            return 1;
        }
    return 0;
}

/*
 * stem_under — is dot d the dot of an i or a j (direction k)?  Returns the
 * gap between the dot and its stem (1..gap_dot) if so, else 0.
 *
 * Under the dot's centre (+-1 px) ink starts after a gap of 1..gap_dot px;
 * it belongs to a letter at least twice as tall as the dot that reaches
 * further down than the dot; it goes on down as one stroke (followed up to
 * 2 px sideways a row: serifs, italics, residual skew) for at least twice
 * the dot's height; halfway down, the stroke is at most the dot's width +
 * 3 px wide: a stem, not a bowl or a bar.  Only the pixels under the dot
 * are looked at, so a stem joined to its neighbours ("ri", "fi") or
 * slanted is found too.
 */
static int stem_under(const struct dctx *cx, const struct cc_comp *d, int k)
{
    const page *pg = cx->pg;
    int gap = cx->p->gap_dot;
    int along = k % 2 ? d->x1 - d->x0 : d->y1 - d->y0;
    int across = k % 2 ? d->y1 - d->y0 : d->x1 - d->x0;
    int xa, ya, xb, yb;     /* the box under the dot's centre, gap deep */
    dot_frame(d, k, -1, 0, &xa, &ya);
    dot_frame(d, k, 1, gap, &xb, &yb);
    if (page_count_rect(pg, xa < xb ? xa : xb, ya < yb ? ya : yb,
                        abs(xb - xa) + 1, abs(yb - ya) + 1) == 0)
        return 0;
    int t0 = -1, s = 0;
    for (int t = 0; t <= gap && t0 < 0; t++)
        for (int j = -1; j <= 1 && t0 < 0; j++)
            if (frame_ink(pg, d, k, j, t)) {
                t0 = t;
                s = j;
            }
    if (t0 < 1)
        return 0;
    int x, y;
    dot_frame(d, k, s, t0, &x, &y);
    uint32_t r = cc_row_find(cx->m, y, x);
    if (r >= cx->m->row_start[y + 1] || cx->kind[cx->m->runs[r].label] != K_LETTER)
        return 0;
    struct fbox a = in_frame(d, k), b = in_frame(&cx->m->comps[cx->m->runs[r].label], k);
    if (b.v1 - b.v0 < 2 * along || b.v1 <= a.v1)
        return 0;
    int len = 0, s0 = s;
    for (int t = t0; abs(s) <= across + 2 && stroke_step(pg, d, k, &s, t); t++)
        len++;
    if (len < 2 * along)
        return 0;
    /* the middle of the stroke, found again from the top */
    int mid = t0 + len / 2;
    s = s0;
    for (int t = t0; t < mid; t++)
        stroke_step(pg, d, k, &s, t);
    return frame_width(pg, d, k, s, mid, across + 4) <= across + 3 ? t0 : 0;
}

/* Is there ink of a letter (or anything bigger) within r px of dot d's box?  A quick
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
            if (cx->kind[m->runs[k].label] == K_LETTER ||
                cx->kind[m->runs[k].label] == K_OTHER)
                return 1;
    return 0;
}

/* Chessboard distance between two boxes (0 if they overlap). */
static int box_gap(const struct cc_comp *a, const struct cc_comp *b)
{
    int gx = a->x0 >= b->x1 ? a->x0 - b->x1 + 1 : b->x0 >= a->x1 ? b->x0 - a->x1 + 1 : 0;
    int gy = a->y0 >= b->y1 ? a->y0 - b->y1 + 1 : b->y0 >= a->y1 ? b->y0 - a->y1 + 1 : 0;
    return gx > gy ? gx : gy;
}

/* What the letters around a dot say, per direction k. */
struct dot_facts {
    uint8_t idot[4];        /* gap to the stem under it (stem_under), 0 = none */
    uint8_t before[4];      /* gap to the letter before it on its line */
    uint8_t aligned;        /* bit k: bottom on the baseline of its line */
    uint8_t online;         /* bit k: a letter shares its rows, along the line */
    uint8_t beside;         /* bit k: a letter beside it reaches up to it */
    uint8_t pair;           /* bit k: one of the two marks of a double quote */
    uint8_t term;           /* bit k: within frag of a letter, top or bottom level */
    uint8_t inside;         /* 1: within a letter's box near its ink; 2: the
                               smaller dot of a colon whose other is a letter */
};

#define NO_GAP 255

/*
 * What letter n says about dot d in direction k:
 *  - i-dot: n is at least twice as tall as d, and starts below d within
 *    gap_dot (stem_under);
 *  - the letter before: n ends before d along the line, within gap_period,
 *    and shares rows with it;
 *  - baseline: n is on d's line within gap_line, at least twice as tall,
 *    and d's bottom is n's bottom within 1 px plus 1/12 of the distance
 *    between them (residual skew), d not reaching above n.
 */
static void letter_facts(const struct dctx *cx, const struct cc_comp *d, uint32_t nc,
                         int k, struct dot_facts *f)
{
    const struct dparams *p = cx->p;
    struct fbox a = in_frame(d, k), b = in_frame(&cx->m->comps[nc], k);
    int ah = a.v1 - a.v0, bh = b.v1 - b.v0;
    int rows = b.v0 < a.v1 && a.v0 < b.v1;      /* on the dot's rows */
    int dist = a.u0 >= b.u1 ? a.u0 - b.u1 : b.u0 >= a.u1 ? b.u0 - a.u1 : 0;
    if (rows && dist <= p->gap_line && bh > ah)
        f->online |= (uint8_t)(1 << k);
    if (box_gap(d, &cx->m->comps[nc]) <= p->frag &&
        (abs(a.v0 - b.v0) <= 1 || abs(a.v1 - b.v1) <= 1))
        f->term |= (uint8_t)(1 << k);
    if (dist <= p->gap_period && b.v1 > a.v1 && b.v0 <= a.v1 + p->gap_dot &&
        (a.u0 >= b.u1 || b.u0 >= a.u1))
        f->beside |= (uint8_t)(1 << k);
    if (bh < 2 * ah || !rows)
        return;
    int gap = a.u0 - b.u1;
    if (gap >= 0 && gap <= p->gap_period && gap < f->before[k])
        f->before[k] = (uint8_t)gap;
    int tol = 1 + dist / 12;
    if (dist <= p->gap_line && abs(a.v1 - b.v1) <= tol && a.v0 >= b.v0)
        f->aligned |= (uint8_t)(1 << k);
}

/* Baseline facts of dot d from the letters up to gap_line away along its
 * line (direction k): a letter that shares the dot's rows is listed in the
 * dot's row of grid cells (the grid grows boxes by p->reach), so only the
 * cells along the line from d's cell are looked at. */
static void wide_facts(const struct dctx *cx, const struct grid *g,
                       const struct cc_comp *d, int gx, int gy, int k,
                       struct dot_facts *f, const uint8_t *want)
{
    int r = (cx->p->gap_line + g->cell - 1) / g->cell;
    for (int j = -r; j <= r && !(*want & (1 << k)); j++) {
        int x = k % 2 ? gx : gx + j, y = k % 2 ? gy + j : gy;
        if (j == 0 || x < 0 || y < 0 || x >= g->gw || y >= g->gh)
            continue;
        size_t cell = (size_t)y * (size_t)g->gw + (size_t)x;
        for (uint32_t i = g->start[cell]; i < g->start[cell + 1]; i++)
            if (cx->kind[g->items[i]] == K_LETTER)
                letter_facts(cx, d, g->items[i], k, f);
    }
}

/* Are dots a and b the two marks of a double quote (direction k): the
 * same size (+-1 px), at least 1.5 times as tall as wide, side by side
 * along the line with their tops level (+-1 px) and at most their width
 * plus 2 px apart? */
static int quote_pair(const struct cc_comp *a, const struct cc_comp *b, int k)
{
    struct fbox p = in_frame(a, k), q = in_frame(b, k);
    int pw = p.u1 - p.u0, ph = p.v1 - p.v0, qw = q.u1 - q.u0, qh = q.v1 - q.v0;
    int gap = p.u0 >= q.u1 ? p.u0 - q.u1 : q.u0 - p.u1;
    int wmax = pw > qw ? pw : qw;
    return abs(pw - qw) <= 1 && abs(ph - qh) <= 1 && 2 * ph >= 3 * pw &&
           abs(p.v0 - q.v0) <= 1 && gap >= 1 && gap <= wmax + 2;
}

/* Are two dots of the same size (+-1 px) in a row within gap_chain or in a
 * column within gap_chain and 4 dot heights (a colon), centres aligned
 * within 1 px plus a fifth of the gap (the dots of an ellipsis, a dotted
 * leader, a colon)?  Returns 0 if not, LINK_ROW for two dots of a row
 * (dotted leaders are spaced up to gap_chain), LINK_CLOSE for two dots at
 * most 3 widths apart in a row (an ellipsis) or a colon. */
enum { LINK_ROW = 1, LINK_CLOSE = 2 };

static int dots_linked(const struct cc_comp *a, const struct cc_comp *b,
                       const struct dparams *p)
{
    int aw = a->x1 - a->x0, ah = a->y1 - a->y0;
    int bw = b->x1 - b->x0, bh = b->y1 - b->y0;
    if (abs(aw - bw) > 1 || abs(ah - bh) > 1)
        return 0;
    int gh = a->x0 >= b->x1 ? a->x0 - b->x1 : b->x0 - a->x1;
    int gv = a->y0 >= b->y1 ? a->y0 - b->y1 : b->y0 - a->y1;
    int wmax = aw > bw ? aw : bw, hmax = ah > bh ? ah : bh;
    if (gh >= 1 && gh <= p->gap_chain &&
        abs((a->y0 + a->y1) - (b->y0 + b->y1)) <= 2 + gh / 5)
        return gh <= 3 * wmax ? LINK_ROW | LINK_CLOSE : LINK_ROW;
    if (gv >= 1 && gv <= p->gap_chain && gv <= 4 * hmax &&
        abs((a->x0 + a->x1) - (b->x0 + b->x1)) <= 2 + gv / 5)
        return LINK_ROW | LINK_CLOSE;
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

static void uf_join(uint32_t *par, uint32_t a, uint32_t b)
{
    a = uf_root(par, a);
    b = uf_root(par, b);
    if (a != b)
        par[a > b ? a : b] = a < b ? a : b;
}

/* Why a dot stays (keep[c]); KEEP_NO: it goes. */
enum keep_why {
    KEEP_NO, KEEP_NEAR, KEEP_CLUSTER, KEEP_PIECE, KEEP_QUOTE, KEEP_IDOT, KEEP_PERIOD,
    KEEP_ONLINE, KEEP_GROUP, KEEP_LEADER, KEEP_TOUCH
};

struct dot_work {
    uint32_t *par;          /* union-find over dots linked in rows (leaders) */
    uint32_t *tpar;         /* union-find over closely linked dots */
    uint32_t *npar;         /* union-find over dots within `near` of each other */
    uint32_t *count;        /* per group root: members, top bit = anchored */
    struct dot_facts *f;    /* per dot */
};

static void dot_work_free(struct dot_work *w)
{
    free(w->par);
    free(w->tpar);
    free(w->npar);
    free(w->count);
    free(w->f);
}

/* For every dot: near other ink (keep), what the letters around it say
 * (letter_facts, in every direction), whether it lies inside a letter's box
 * close to its ink (a piece broken off), and its links to other dots.  The
 * grid cell of a dot lists the letters and dots within p->reach; letters
 * farther away along the line are looked up (wide_facts) only for a dot
 * that has a letter before it but no baseline yet. */
static void gather_facts(const struct dctx *cx, uint8_t *keep, const struct grid *g,
                         struct dot_work *w)
{
    const struct cc_map *m = cx->m;
    for (uint32_t c = 0; c < m->ncomps; c++) {
        if (cx->kind[c] != K_DOT && cx->kind[c] != K_BLOB)
            continue;
        const struct cc_comp *d = &m->comps[c];
        struct dot_facts *f = &w->f[c];
        memset(f->before, NO_GAP, sizeof f->before);
        keep[c] = near_ink(cx, d, cx->p->near) ? KEEP_NEAR : KEEP_NO;
        int gx = (d->x0 + d->x1) / 2 / g->cell, gy = (d->y0 + d->y1) / 2 / g->cell;
        size_t cell = (size_t)gy * (size_t)g->gw + (size_t)gx;
        int inside = 0, letters = 0;
        for (uint32_t i = g->start[cell]; i < g->start[cell + 1]; i++) {
            uint32_t nb = g->items[i];
            const struct cc_comp *n = &m->comps[nb];
            if (cx->kind[nb] == K_LETTER && !keep[c]) {
                letters++;
                inside |= d->x0 >= n->x0 && d->x1 <= n->x1 && d->y0 >= n->y0 &&
                          d->y1 <= n->y1;
                for (int k = 0; k < 4; k++)
                    letter_facts(cx, d, nb, k, f);
                if (dots_linked(d, n, cx->p))
                    f->inside |= 2;     /* the other dot of a colon, bigger */
            } else if ((cx->kind[nb] == K_DOT || cx->kind[nb] == K_BLOB) && nb > c) {
                int link = dots_linked(d, n, cx->p);
                if (link & LINK_ROW)
                    uf_join(w->par, c, nb);
                if (link & LINK_CLOSE)
                    uf_join(w->tpar, c, nb);
                for (int k = 0; k < 4; k++)
                    if (quote_pair(d, n, k)) {
                        f->pair |= (uint8_t)(1 << k);
                        w->f[nb].pair |= (uint8_t)(1 << k);
                    }
                if (box_gap(d, n) <= cx->p->near)
                    uf_join(w->npar, c, nb);
            }
        }
        for (int k = 0; k < 4 && !keep[c]; k++) {
            if (letters)    /* a stem would be listed in the dot's cell */
                f->idot[k] = (uint8_t)stem_under(cx, d, k);
            if (f->before[k] != NO_GAP && !(f->aligned & (1 << k)))
                wide_facts(cx, g, d, gx, gy, k, f, &f->aligned);
            if (cx->kind[c] == K_BLOB && !(f->online & (1 << k)))
                wide_facts(cx, g, d, gx, gy, k, f, &f->online);
        }
        if (!keep[c] && (inside || f->term) && near_ink(cx, d, cx->p->frag))
            f->inside |= 1;
    }
}

static int min_side(const struct cc_comp *k)
{
    int w = k->x1 - k->x0, h = k->y1 - k->y0;
    return w < h ? w : h;
}

/* The page's text, as its dots tell it: the directions whose i-dots and
 * periods are believed, the gaps between i-dots and their stems and between
 * periods and the letter before them that real ones have (bit g of a mask:
 * gap g, up to 31 px), and the smallest dot. */
struct dot_model {
    int dirs;                   /* DIR_ bits trusted */
    uint32_t idot_gaps[4];      /* per direction */
    uint32_t period_gaps[4];
    int floor;                  /* smallest side of a text dot */
};

/*
 * The directions whose rules are trusted on this page, from the dots that
 * sit like i-dots (the most specific rule): real i-dots all agree on one
 * direction, specks match the rule of every direction about equally (and
 * rarely).  The direction with the most such dots wins, together with any
 * direction nearly as popular (3/4: mixed pages); with fewer than 8 on the
 * page all directions are trusted.
 */
static int choose_dirs(const struct dot_work *w, const uint8_t *kind, uint32_t n)
{
    uint32_t count[4] = { 0, 0, 0, 0 }, best = 0;
    for (uint32_t c = 0; c < n; c++)
        if (kind[c] == K_DOT)
            for (int k = 0; k < 4; k++)
                count[k] += w->f[c].idot[k] != 0;
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

/* The gaps in hist[lo..hi] that stand out of the background of specks,
 * as a mask.  Specks fall on every gap about equally; the background is
 * the lower quartile of the counts.  A gap stands out with at least twice
 * the background plus 2 (and 3); a neighbour of one that stands out, with
 * half of that.  Fewer than 8 counts: every gap (nothing to learn from). */
static uint32_t gap_peaks(const uint32_t *hist, int lo, int hi)
{
    uint32_t v[32], n = 0, total = 0, mask = 0;
    for (int g = lo; g <= hi; g++) {
        v[n++] = hist[g];
        total += hist[g];
    }
    if (total < 8) {
        for (int g = lo; g <= hi; g++)
            mask |= 1u << g;
        return mask;
    }
    for (uint32_t i = 1; i < n; i++)        /* insertion sort, n <= 32 */
        for (uint32_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
            uint32_t t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    uint32_t thr = 2 * v[n / 4] + 2;
    thr = thr < 3 ? 3 : thr;
    for (int g = lo; g <= hi; g++)
        if (hist[g] >= thr)
            mask |= 1u << g;
    uint32_t core = mask;
    for (int g = lo; g <= hi; g++)
        if (!(core & (1u << g)) &&
            ((g > lo && (core & (1u << (g - 1)))) || (g < hi && (core & (1u << (g + 1))))))
            mask |= 1u << g;
    return mask;
}

/*
 * dot_model_fit — learns the page's text dots from the dots themselves.
 *
 * I-dots: the gap between a real i-dot and its stem is the same, within a
 * pixel, all over the text of one font, while a speck that happens to sit
 * over a stem has any gap up to gap_dot.  So the gaps that stand out of
 * the specks' background (gap_peaks; one peak per font on the page) are
 * accepted, per trusted direction.  Where 8 or more dots sit like i-dots
 * and no gap stands out, they are specks (the page's real i-dots, if any,
 * are too big to be taken for specks) and none is accepted.
 * Floor: the smallest side of a text dot is one less than the median
 * smaller side of the accepted i-dots (a 1- or 2-px speck next to 10-pt
 * text is not punctuation); with 8 or more i-dot candidates and none
 * accepted, no speck-sized dot is text (the floor is above the speck
 * size); with fewer, 1.
 * Periods: the same for the gap between a dot on a baseline and the
 * letter before it, among the dots at least as big as the floor.
 */
static void dot_model_fit(struct dot_model *md, const struct cc_map *m,
                          const uint8_t *kind, const struct dot_work *w,
                          const struct dparams *p)
{
    md->dirs = choose_dirs(w, kind, m->ncomps);
    md->floor = 1;
    uint32_t sides[16] = { 0 }, nsides = 0, ncand = 0;
    int gmax = p->gap_dot < 31 ? p->gap_dot : 31;
    int pmax = p->gap_period < 31 ? p->gap_period : 31;
    for (int k = 0; k < 4; k++) {
        md->idot_gaps[k] = md->period_gaps[k] = 0;
        if (!(md->dirs & (1 << k)))
            continue;
        uint32_t hist[32] = { 0 };
        for (uint32_t c = 0; c < m->ncomps; c++)
            if (kind[c] == K_DOT && w->f[c].idot[k] && w->f[c].idot[k] <= gmax) {
                hist[w->f[c].idot[k]]++;
                ncand++;
            }
        md->idot_gaps[k] = gap_peaks(hist, 1, gmax);
        for (uint32_t c = 0; c < m->ncomps; c++)
            if (kind[c] == K_DOT && w->f[c].idot[k] && w->f[c].idot[k] <= gmax &&
                (md->idot_gaps[k] & (1u << w->f[c].idot[k]))) {
                int s = min_side(&m->comps[c]);
                sides[s < 15 ? s : 15]++;
                nsides++;
            }
    }
    if (nsides > 0) {
        uint32_t acc = 0;
        for (int s = 0; s < 16 && 2 * acc < nsides; s++) {
            acc += sides[s];
            if (2 * acc >= nsides)
                md->floor = s > 2 ? s - 1 : 1;
        }
    } else if (ncand >= 8) {
        md->floor = (p->sx > p->sy ? p->sx : p->sy) + p->turn + 1;
    }
    for (int k = 0; k < 4; k++) {
        if (!(md->dirs & (1 << k)))
            continue;
        uint32_t hist[32] = { 0 };
        for (uint32_t c = 0; c < m->ncomps; c++)
            if (kind[c] == K_DOT && (w->f[c].aligned & (1 << k)) &&
                w->f[c].before[k] <= pmax && min_side(&m->comps[c]) >= md->floor)
                hist[w->f[c].before[k]]++;
        md->period_gaps[k] = gap_peaks(hist, 0, pmax);
    }
}

/* Does dot c sit like text in a trusted direction (model md)?  Returns the
 * rule (KEEP_QUOTE, KEEP_IDOT, KEEP_PERIOD) or KEEP_NO. */
static int placed_like_text(const struct dot_model *md, const struct dot_facts *f)
{
    if (f->pair & f->beside & md->dirs)
        return KEEP_QUOTE;
    for (int k = 0; k < 4; k++) {
        if (!(md->dirs & (1 << k)))
            continue;
        if (f->idot[k] && f->idot[k] < 32 && (md->idot_gaps[k] & (1u << f->idot[k])))
            return KEEP_IDOT;
        if ((f->aligned & (1 << k)) && f->before[k] < 32 &&
            f->before[k] <= 32 - __builtin_clz(md->period_gaps[k] | 1) + 1)
            return KEEP_PERIOD;
    }
    return KEEP_NO;
}

static int is_small(uint8_t kind)
{
    return kind == K_DOT || kind == K_BLOB;
}

/* The rules that look at one dot or blob (see choose_dots), and the
 * counts of the groups: dots per row group (w->par), and the close groups
 * (w->tpar) with a member that stays (top bit). */
static void keep_by_place(const struct dctx *cx, uint8_t *keep, struct dot_work *w,
                          const struct dot_model *md)
{
    const struct cc_map *m = cx->m;
    const uint8_t *kind = cx->kind;
    struct dot_model loose = { md->dirs, { ~1u, ~1u, ~1u, ~1u },
                               { ~0u, ~0u, ~0u, ~0u }, 1 };
    for (uint32_t c = 0; c < m->ncomps; c++) {
        if (!is_small(kind[c]))
            continue;
        const struct dot_facts *f = &w->f[c];
        if (kind[c] == K_DOT && !keep[c] && min_side(&m->comps[c]) >= md->floor)
            keep[c] = f->inside ? KEEP_PIECE : (uint8_t)placed_like_text(md, f);
        if (kind[c] == K_BLOB && !keep[c])
            keep[c] = f->inside ? KEEP_PIECE : (f->online & md->dirs) ? KEEP_ONLINE
                    : (uint8_t)placed_like_text(&loose, f);
        w->count[uf_root(w->par, c)]++;
        if (keep[c])
            w->count[uf_root(w->tpar, c)] |= 0x80000000u;
    }
}

/* The rules that look at groups (see choose_dots). */
static void keep_by_group(const struct dctx *cx, uint8_t *keep, struct dot_work *w,
                          const struct dot_model *md)
{
    const struct cc_map *m = cx->m;
    const uint8_t *kind = cx->kind;
    for (uint32_t c = 0; c < m->ncomps; c++) {
        if (!is_small(kind[c]) || keep[c])
            continue;
        if ((w->count[uf_root(w->tpar, c)] & 0x80000000u) &&
            min_side(&m->comps[c]) >= md->floor)
            keep[c] = KEEP_GROUP;
        else if ((w->count[uf_root(w->par, c)] & 0x7fffffffu) >= 3)
            keep[c] = KEEP_LEADER;
    }
    memset(w->count, 0, sizeof *w->count * (m->ncomps ? m->ncomps : 1));
    for (uint32_t c = 0; c < m->ncomps; c++)
        if (is_small(kind[c]) && keep[c])
            w->count[uf_root(w->npar, c)] = 1;
    for (uint32_t c = 0; c < m->ncomps; c++)
        if (is_small(kind[c]) && !keep[c] && w->count[uf_root(w->npar, c)])
            keep[c] = KEEP_TOUCH;
}

/*
 * Decides which dots and blobs stay: keep[c] gets the rule (enum
 * keep_why), KEEP_NO for those that go.  In this order: a dot within
 * `near` of a letter's ink (gather_facts); three or more within `near` of
 * each other (a glyph in pieces); a dot whose smaller side is at least the
 * page's floor (dot_model_fit) inside a letter's box or level with its top
 * or bottom within `frag` of its ink (a piece broken off), or the smaller
 * dot of a colon whose other dot is a letter, or placed like the page's
 * i-dots, periods or quotes (placed_like_text); a blob likewise, or on a
 * text line (a hyphen), placed like a dot of any gap; a dot or blob linked
 * closely (dots_linked, transitively) to one that stays, with the floor;
 * three or more linked in a row (dotted leaders); one within `near` of one
 * that stays (a comma's tail).
 */
static int choose_dots(const struct dctx *cx, uint8_t *keep, errbuf *e)
{
    const struct cc_map *m = cx->m;
    struct grid g;
    if (grid_build(&g, m, cx->kind, cx->p, e) < 0)
        return -1;
    size_t n = m->ncomps ? m->ncomps : 1;
    struct dot_work w = { malloc(sizeof *w.par * n), malloc(sizeof *w.tpar * n),
                          malloc(sizeof *w.npar * n), calloc(n, sizeof *w.count),
                          calloc(n, sizeof *w.f) };
    if (!w.par || !w.tpar || !w.npar || !w.count || !w.f) {
        dot_work_free(&w);
        free(g.start);
        free(g.items);
        return err_errno(e, ENOMEM, "cannot allocate speck groups");
    }
    for (uint32_t c = 0; c < m->ncomps; c++)
        w.par[c] = w.tpar[c] = w.npar[c] = c;
    gather_facts(cx, keep, &g, &w);
    struct dot_model md;
    dot_model_fit(&md, m, cx->kind, &w, cx->p);
    for (uint32_t c = 0; c < m->ncomps; c++)
        if (is_small(cx->kind[c]))
            w.count[uf_root(w.npar, c)]++;
    for (uint32_t c = 0; c < m->ncomps; c++)
        if (is_small(cx->kind[c]) && !keep[c] && w.count[uf_root(w.npar, c)] >= 3)
            keep[c] = KEEP_CLUSTER;
    memset(w.count, 0, sizeof *w.count * n);
    keep_by_place(cx, keep, &w, &md);
    keep_by_group(cx, keep, &w, &md);
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

/* A blob is what specks become when they touch or are turned long: at
 * most twice a speck's box and pixel count, and either no more pixels
 * than one speck (turned long, 2 x 5 -> 3 x 6) or ragged (two specks run
 * together fill at most 3/4 of their box).  A solid square bigger than a
 * speck is not one. */
static int is_blob(const struct cc_comp *k, const struct dparams *p)
{
    int w = k->x1 - k->x0, h = k->y1 - k->y0;
    if (w > 2 * p->sx + p->turn || h > 2 * p->sy + p->turn ||
        k->area > (uint32_t)(2 * p->sx * p->sy))
        return 0;
    return k->area <= (uint32_t)(p->sx * p->sy) || 4 * k->area <= (uint32_t)(3 * w * h);
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
        else if (is_blob(k, &p))
            kind[c] = K_BLOB;
        else if (w <= p.letter_max && h <= p.letter_max)
            kind[c] = K_LETTER;
        else
            kind[c] = K_OTHER;
        ndots += kind[c] == K_DOT || kind[c] == K_BLOB;
    }
    struct dctx cx = { pg, m, kind, &p };
    int rc = 0;
    if (ndots > 0 && choose_dots(&cx, keep, e) < 0)
        rc = -1;
    if (rc < 0) {
        free(kind);
        free(keep);
        return -1;
    }
    for (uint32_t c = 0; c < m->ncomps; c++)
        if ((kind[c] == K_DOT || kind[c] == K_BLOB) && !keep[c]) {
            res->specks++;
            res->speck_px += m->comps[c].area;
        }
    for (int y = 0; y < m->height; y++) {
        uint8_t *row = page_row(pg, y);
        for (uint32_t k = m->row_start[y]; k < m->row_start[y + 1]; k++) {
            uint32_t c = m->runs[k].label;
            if ((kind[c] == K_DOT || kind[c] == K_BLOB) && !keep[c])
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
 * (is_speck_sized), are dots; up to twice that, ragged or no heavier than
 * one speck, blobs (is_blob: specks run together or turned long).  Size
 * alone cannot tell a 5x5 speck from a period, so a dot or blob stays when
 * its context says it is text (choose_dots): letter ink within 2 px (part
 * of a glyph, or invisible against it); three or more of them within 2 px
 * of each other (a glyph in pieces); one touching a dot that stays (a
 * comma's tail).  Dots at least as big as the smallest dot of the page's
 * text (dot_model_fit) also stay as: a piece inside a letter's box, or
 * level with its top or bottom, within 3 px of its ink (a broken-off
 * terminal); an i-dot over a stem at a gap the page's i-dots have; a
 * period on the baseline no further from the letter before it than the
 * page's periods are; a mark of a double quote; a dot linked closely to
 * one that stays (colon, ellipsis); three or more dots in a row (dotted
 * leaders).  Blobs stay on a text line (a hyphen, a dash), placed like a
 * dot of any gap, or in a row.  The rules hold in the directions the
 * page's i-dots agree on (choose_dirs).  All other dots and blobs are
 * removed.
 * Holes: see fill_holes; max_hole is the side at 300 dpi.  Holes are found
 * on the page as it was before the specks went (a speck never encloses a
 * hole that small in a stroke).
 * Limits: a speck touching a glyph is part of it and stays, and so does a
 * speck placed exactly like the page's i-dots or periods (about 4% of the
 * isolated speck pixels of the generated pages remain, 3% of mk50's);
 * pieces of broken glyphs farther than 3 px from their letter, dots of
 * fonts whose i-dots are in a minority on the page, and single quotes or
 * apostrophes that look like specks are removed (about 0.1% of a page's
 * text pixels, median, on mk50's thin serif font).
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
