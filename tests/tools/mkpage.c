/*
 * mkpage.c — the sample-page generator's degradation step: turns one clean
 * grey page (rendered by ghostscript from real text, see
 * scripts/mksamples.sh and tests/tools/mkpage-layout.ps) into a degraded
 * bilevel "scan" with exactly known parameters, plus its clean reference and
 * its border mask, and prints the ground truth as one JSON line.
 *
 *   mkpage [OPTIONS] GREY.pgm OUTDIR ID
 *       writes OUTDIR/pages/ID.tif  the degraded page (G4, resolution tag)
 *              OUTDIR/ref/ID.tif    the clean upright reference
 *              OUTDIR/mask/ID.tif   the border region, in the page's frame
 *       and prints the truth line on stdout.
 *   mkpage edit IN.tif OUT.tif OPS...
 *       applies explicit defects to a bilevel page (for the scorer's tests)
 *       and prints what changed.  Run `mkpage --help` for the options.
 *
 * THE MODEL (what "exact ground truth" means here).  All coordinates are in
 * pixels, y down; a pixel's centre is at (x + 0.5, y + 0.5).
 *  1. ref = grey < 128 (threshold at 50 %), W x H, upright.
 *  2. Skew: the anti-aliased grey page is turned counter-clockwise as
 *     displayed by skew_deg about its centre (W/2, H/2), sampled bilinearly
 *     (outside = white) into the same W x H frame, and thresholded at 50 %,
 *     as a scanner would.  skew_deg > 0 means text lines rise to the right;
 *     a correct tool turns the page clockwise by skew_deg.  skew 0 is an
 *     exact copy of ref.
 *  3. Orientation: the skewed page is turned clockwise by `orientation`
 *     degrees (0/90/180/270, exact bit moves); the frame becomes W' x H'.  A
 *     correct tool turns it counter-clockwise by that much.
 *  4. Pepper: specks, filled rectangles of 1..5 x 1..5 px at 300 dpi (sizes
 *     scale with dpi; larger ones sometimes with cut corners), uniformly
 *     over the frame.
 *  5. Borders, in the final frame, on 1-4 sides: an opaque part from the
 *     frame edge to depth d(t) (t runs along the side) that is black except
 *     for optional white holes ("salted") and an optional white stripe
 *     inside it; optionally a black line parallel to the edge beyond a
 *     white gap (transparent: the paper shows through the gap).  d(t) is
 *     constant ("solid"), linear ("tilted" wedge, up to +-3 deg) or a random
 *     walk ("ragged").  Some pages get one border deep enough to cover the
 *     margin and hide text ("touch").
 *     page = ((skewed content | specks) & ~opaque) | border black
 *     mask = every pixel from the edge to the outer end of the border
 *            (opaque part, gap and line) — the zone a border filter must
 *            clear.
 * The scorer maps the page back to the reference frame with the inverse of
 * 3 then 2; nothing else moves pixels.
 *
 * Random choices come from splitmix64 seeded with --seed, always drawn in
 * the same order (forcing a parameter does not change the others), so the
 * same seed and grey page give the same bytes.  LIMITS: the frame does not
 * grow with skew, so a page turned by a large angle loses the corners of
 * its content (counted: skewed_ink_px < ref_ink_px); borders are clipped
 * to 20 % of the frame's side.
 */
#include "sampleio.h"

#include <getopt.h>
#include <math.h>
#include <stdbool.h>

/* ------------------------------------------------------------ random */

struct rng {
    uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double rng_unit(struct rng *r)
{
    return (double)(rng_next(r) >> 11) / 9007199254740992.0;
}

static double rng_range(struct rng *r, double lo, double hi)
{
    return lo + (hi - lo) * rng_unit(r);
}

static int rng_int(struct rng *r, int lo, int hi)     /* inclusive */
{
    return lo + (int)(rng_next(r) % (uint64_t)(hi - lo + 1));
}

static bool rng_chance(struct rng *r, double p)
{
    return rng_unit(r) < p;
}

/* ------------------------------------------------------------ parameters */

enum side { TOP, RIGHT, BOTTOM, LEFT, NSIDES };
static const char *const side_names[NSIDES] = { "top", "right", "bottom", "left" };

enum bstyle { B_SOLID, B_TILTED, B_RAGGED };
static const char *const style_names[] = { "solid", "tilted", "ragged" };

struct border_spec {
    bool on;
    enum bstyle style;
    int depth;              /* base depth of the opaque part, px */
    int depth_end;          /* tilted: depth at the far end of the side */
    double tilt_deg;        /* tilted: angle of the inner edge */
    int line_gap, line_w;   /* black line beyond a white gap (0 = none) */
    int white_inset, white_w;   /* white stripe inside the border (0 = none) */
    double salt;            /* fraction of the opaque part punched white */
    uint64_t walk_seed;     /* ragged: seed of the random walk */
    /* measured when drawn */
    int dmin, dmax;
    double dmean;
    uint64_t hidden_px;     /* content pixels hidden by this side */
};

struct params {
    uint64_t seed;
    double dpi, max_skew;
    bool clean, touch;
    double skew;
    int orient;
    struct border_spec b[NSIDES];
    int nspecks;
    uint64_t speck_seed;
};

/* Draws the border of one side: depth, style, stripes, salt. */
static void sample_side(struct rng *r, struct border_spec *b, int dim, int len,
                        double scale, bool deep)
{
    double f = deep ? rng_range(r, 0.10, 0.16) : rng_range(r, 0.004, 0.06);
    int maxd = dim / 5;
    b->on = true;
    b->depth = (int)lround(f * dim);
    if (b->depth < 2)
        b->depth = 2;
    if (b->depth > maxd)
        b->depth = maxd;
    double u = rng_unit(r);
    b->style = u < 0.4 ? B_SOLID : u < 0.7 ? B_TILTED : B_RAGGED;
    b->tilt_deg = rng_range(r, -3.0, 3.0);
    int end = b->depth + (int)lround(len * tan(b->tilt_deg * M_PI / 180));
    b->depth_end = end < 0 ? 0 : end > maxd ? maxd : end;
    if (b->style != B_TILTED)
        b->depth_end = b->depth;
    b->walk_seed = rng_next(r);
    bool line = rng_chance(r, 0.25), white = rng_chance(r, 0.15);
    b->line_gap = line ? (int)lround(rng_range(r, 6, 40) * scale) : 0;
    b->line_w = line ? (int)lround(rng_range(r, 2, 10) * scale) : 0;
    if (b->line_w < 1 && line)
        b->line_w = 1;
    b->white_w = white && b->depth > 30 ? (int)lround(rng_range(r, 2, 6) * scale) : 0;
    b->white_inset = b->white_w ? rng_int(r, 4, b->depth / 3) : 0;
    b->salt = rng_chance(r, 0.3) ? rng_range(r, 0.002, 0.02) : 0;
}

/* Every random choice of one page, in a fixed order.  w, h: the frame after
 * orientation is not known yet, so sides are sampled against both. */
static void sample_params(struct params *p, int w, int h)
{
    struct rng r = { p->seed * 0x2545f4914f6cdd1dull + 1 };
    double scale = p->dpi / 300.0;
    p->clean = rng_chance(&r, 0.06);
    double small = rng_range(&r, -3.0, 3.0);
    double big = rng_range(&r, fmin(3.0, p->max_skew), p->max_skew);
    p->skew = rng_chance(&r, 0.5) ? small : (rng_chance(&r, 0.5) ? big : -big);
    if (fabs(p->skew) > p->max_skew)
        p->skew = p->skew > 0 ? p->max_skew : -p->max_skew;
    p->skew = round(p->skew * 100) / 100;
    double o = rng_unit(&r);
    p->orient = o < 0.4 ? 0 : o < 0.6 ? 90 : o < 0.8 ? 180 : 270;
    int nsides = rng_chance(&r, 0.12) ? 0 : rng_int(&r, 1, 4);
    int order[NSIDES] = { TOP, RIGHT, BOTTOM, LEFT };
    for (int i = NSIDES - 1; i > 0; i--) {
        int j = rng_int(&r, 0, i), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    p->touch = nsides > 0 && rng_chance(&r, 0.15);
    int wf = p->orient % 180 ? h : w, hf = p->orient % 180 ? w : h;
    for (int i = 0; i < nsides; i++) {
        int s = order[i];
        int dim = s == TOP || s == BOTTOM ? hf : wf;
        int len = s == TOP || s == BOTTOM ? wf : hf;
        sample_side(&r, &p->b[s], dim, len, scale, p->touch && i == 0);
    }
    p->nspecks = 0;
    if (!rng_chance(&r, 0.15)) {
        double in2 = (double)wf * hf / (p->dpi * p->dpi);
        p->nspecks = (int)lround(in2 * rng_range(&r, 5, 60));
    }
    p->speck_seed = rng_next(&r);
    if (p->clean) {
        p->skew = 0;
        p->orient = 0;
        p->touch = false;
        p->nspecks = 0;
        for (int s = 0; s < NSIDES; s++)
            p->b[s].on = false;
    }
}

/* ------------------------------------------------------------ geometry */

/* ref = grey < 128. */
static int threshold_grey(const struct grey *g, double dpi, page *out, errbuf *e)
{
    if (page_alloc(out, g->w, g->h, dpi, dpi, 0, e) < 0)
        return -1;
    for (int y = 0; y < g->h; y++) {
        const uint8_t *src = g->px + (size_t)y * g->w;
        for (int x = 0; x < g->w; x++)
            if (src[x] < 128)
                page_set(out, x, y, 1);
    }
    return 0;
}

/* Bilinear sample of g at pixel-index position (fx, fy) in 1/65536 px
 * units, with 8-bit weights; returns the value times 65536.  Outside the
 * image is white. */
static inline uint32_t grey_sample(const struct grey *g, int64_t fx, int64_t fy)
{
    int x0 = (int)(fx >> 16), y0 = (int)(fy >> 16);
    uint32_t ax = (uint32_t)(fx >> 8) & 255, ay = (uint32_t)(fy >> 8) & 255;
    uint32_t v[4];
    for (int k = 0; k < 4; k++) {
        int x = x0 + (k & 1), y = y0 + (k >> 1);
        v[k] = x < 0 || y < 0 || x >= g->w || y >= g->h
             ? 255u : g->px[(size_t)y * g->w + x];
    }
    uint32_t top = v[0] * (256 - ax) + v[1] * ax;
    uint32_t bot = v[2] * (256 - ax) + v[3] * ax;
    return top * (256 - ay) + bot * ay;
}

/*
 * rotate_threshold — turns grey page g counter-clockwise (as displayed) by
 * deg about its centre into a page of the same size and thresholds at 50 %.
 * Method: inverse mapping; for a destination centre (u, v) relative to the
 * page centre the source point is (u cos t - v sin t, u sin t + v cos t),
 * sampled bilinearly with 8-bit sub-pixel weights; positions are 16.16
 * fixed point, restarted exactly every 64 pixels (drift < 1/1000 px).
 * deg = 0 is an exact copy of the threshold.  Limits: no filtering beyond
 * bilinear (fine for the small angles of a scan).
 */
static int rotate_threshold(const struct grey *g, double deg, double dpi,
                            page *out, errbuf *e)
{
    if (deg == 0)
        return threshold_grey(g, dpi, out, e);
    if (page_alloc(out, g->w, g->h, dpi, dpi, 0, e) < 0)
        return -1;
    double t = deg * M_PI / 180, c = cos(t), s = sin(t);
    double cx = g->w / 2.0, cy = g->h / 2.0;
    int64_t dxs = llround(c * 65536), dys = llround(s * 65536);
    for (int y = 0; y < g->h; y++) {
        double u = 0.5 - cx, v = y + 0.5 - cy;
        /* source position of pixel 0 of this row, in pixel-index units */
        double sx = cx + u * c - v * s - 0.5, sy = cy + u * s + v * c - 0.5;
        for (int x0 = 0; x0 < g->w; x0 += 64) {
            int64_t fx = (int64_t)floor((sx + x0 * c) * 65536);
            int64_t fy = (int64_t)floor((sy + x0 * s) * 65536);
            int end = x0 + 64 < g->w ? x0 + 64 : g->w;
            for (int x = x0; x < end; x++, fx += dxs, fy += dys)
                if (grey_sample(g, fx, fy) < 128u * 65536u)
                    page_set(out, x, y, 1);
        }
    }
    return 0;
}

/*
 * turn_cw — exact quarter turn: dst = src turned clockwise by q * 90 deg.
 * Clockwise 90 sends (x, y) to (H-1-y, x); 180 to (W-1-x, H-1-y); 270 to
 * (y, W-1-x).  Walks only the black pixels (pages are mostly white).
 */
static int turn_cw(const page *src, int q, page *dst, errbuf *e)
{
    int w = src->width, h = src->height;
    bool swap = q & 1;
    if (page_alloc(dst, swap ? h : w, swap ? w : h, swap ? src->yres : src->xres,
                   swap ? src->xres : src->yres, 0, e) < 0)
        return -1;
    for (int y = 0; y < h; y++) {
        const uint8_t *row = page_row(src, y);
        for (size_t i = 0; i < src->stride; i += 8) {
            uint64_t word = page_load64(row + i);
            while (word) {
                int x = (int)(i * 8) + __builtin_clzll(word);
                word &= ~(1ull << (63 - (x & 63)));
                switch (q & 3) {
                case 0: page_set(dst, x, y, 1); break;
                case 1: page_set(dst, h - 1 - y, x, 1); break;
                case 2: page_set(dst, w - 1 - x, h - 1 - y, 1); break;
                default: page_set(dst, y, w - 1 - x, 1); break;
                }
            }
        }
    }
    return 0;
}

/* Popcount of a & b (same size), or of a & ~b when invert_b. */
static uint64_t count_and(const page *a, const page *b, bool invert_b)
{
    uint64_t n = 0;
    size_t words = a->stride / 8 * (size_t)a->height;
    const uint64_t *pa = (const uint64_t *)a->bits, *pb = (const uint64_t *)b->bits;
    for (size_t i = 0; i < words; i++)
        n += (uint64_t)__builtin_popcountll(pa[i] & (invert_b ? ~pb[i] : pb[i]));
    return n;
}

/* ------------------------------------------------------------ borders */

/* The layers of the final frame that borders and specks make. */
struct layers {
    page opaque;    /* border parts that hide the content */
    page black;     /* border black */
    page mask;      /* border zone (opaque part, gap, line) */
    page specks;    /* pepper */
};

/* Fills k in [k0, k1) at position t of side s (k = distance from the edge). */
static void side_run(page *pg, int s, int t, int k0, int k1, int v)
{
    if (k1 <= k0)
        return;
    int w = pg->width, h = pg->height;
    switch (s) {
    case TOP:    page_fill_rect(pg, t, k0, 1, k1 - k0, v); break;
    case BOTTOM: page_fill_rect(pg, t, h - k1, 1, k1 - k0, v); break;
    case LEFT:   page_fill_rect(pg, k0, t, k1 - k0, 1, v); break;
    default:     page_fill_rect(pg, w - k1, t, k1 - k0, 1, v); break;
    }
}

/* Depth of the opaque part along the side: constant, linear (wedge) or a
 * random walk that changes every 2-12 px by up to max(2, d/15) px and stays
 * within [d/3, 1.6 d + 2] (clipped to maxd). */
static void side_profile(const struct border_spec *b, int len, int maxd, int *d)
{
    struct rng r = { b->walk_seed };
    int cur = b->depth, left = 0;
    int lo = b->depth / 3 > 1 ? b->depth / 3 : 1;
    int hi = (int)(b->depth * 1.6) + 2 < maxd ? (int)(b->depth * 1.6) + 2 : maxd;
    int amp = b->depth / 15 > 2 ? b->depth / 15 : 2;
    for (int t = 0; t < len; t++) {
        if (b->style == B_SOLID) {
            d[t] = b->depth;
        } else if (b->style == B_TILTED) {
            d[t] = b->depth + (int)lround((double)(b->depth_end - b->depth) * t /
                                          (len > 1 ? len - 1 : 1));
        } else {
            if (left-- <= 0) {
                left = rng_int(&r, 2, 12);
                cur += rng_int(&r, -amp, amp);
                cur = cur < lo ? lo : cur > hi ? hi : cur;
            }
            d[t] = cur;
        }
    }
}

/* Punches white holes of 1-3 px (scaled) into the black of one side. */
static void side_salt(struct layers *L, int s, const struct border_spec *b,
                      const int *d, int len, double scale)
{
    struct rng r = { b->walk_seed ^ 0x5a17ull };
    double area = 0;
    for (int t = 0; t < len; t++)
        area += d[t];
    long n = lround(area * b->salt / 4);
    int hmax = (int)lround(3 * scale) < 1 ? 1 : (int)lround(3 * scale);
    for (long i = 0; i < n; i++) {
        int t = rng_int(&r, 0, len - 1);
        if (d[t] < 1)
            continue;
        int k = rng_int(&r, 0, d[t] - 1), sz = rng_int(&r, 1, hmax);
        for (int j = 0; j < sz && t + j < len; j++)
            side_run(&L->black, s, t + j, k, k + sz < d[t] ? k + sz : d[t], 0);
    }
}

/* Draws one side into the layers and records its measured depths. */
static int draw_side(struct layers *L, int s, struct border_spec *b,
                     double scale, errbuf *e)
{
    int w = L->mask.width, h = L->mask.height;
    int len = s == TOP || s == BOTTOM ? w : h;
    int dim = s == TOP || s == BOTTOM ? h : w;
    int *d = malloc(sizeof *d * (size_t)len);
    if (d == NULL)
        return err_set(e, "out of memory");
    side_profile(b, len, dim / 5, d);
    long sum = 0;
    b->dmin = dim;
    b->dmax = 0;
    for (int t = 0; t < len; t++) {
        int dt = d[t], far = b->line_w ? dt + b->line_gap + b->line_w : dt;
        sum += dt;
        b->dmin = dt < b->dmin ? dt : b->dmin;
        b->dmax = dt > b->dmax ? dt : b->dmax;
        side_run(&L->opaque, s, t, 0, dt, 1);
        side_run(&L->black, s, t, 0, dt, 1);
        if (b->white_w && dt - b->white_inset - b->white_w > 0)
            side_run(&L->black, s, t, dt - b->white_inset - b->white_w,
                     dt - b->white_inset, 0);
        if (b->line_w) {
            side_run(&L->opaque, s, t, dt + b->line_gap, far, 1);
            side_run(&L->black, s, t, dt + b->line_gap, far, 1);
        }
        side_run(&L->mask, s, t, 0, far, 1);
    }
    b->dmean = (double)sum / len;
    if (b->style == B_TILTED)     /* the angle actually drawn, after clipping */
        b->tilt_deg = atan2(d[len - 1] - d[0], len > 1 ? len - 1 : 1) * 180 / M_PI;
    if (b->salt > 0)
        side_salt(L, s, b, d, len, scale);
    free(d);
    return 0;
}

/* Pepper: n filled rectangles of 1..smax px a side, corners cut on half of
 * those at least 3x3, uniformly placed. */
static void draw_specks(page *sp, int n, uint64_t seed, double scale)
{
    struct rng r = { seed };
    int smax = (int)lround(5 * scale) < 1 ? 1 : (int)lround(5 * scale);
    for (int i = 0; i < n; i++) {
        int sw = rng_int(&r, 1, smax), sh = rng_int(&r, 1, smax);
        int x = rng_int(&r, 0, sp->width - sw), y = rng_int(&r, 0, sp->height - sh);
        page_fill_rect(sp, x, y, sw, sh, 1);
        if (sw >= 3 && sh >= 3 && rng_chance(&r, 0.5)) {
            page_set(sp, x, y, 0);
            page_set(sp, x + sw - 1, y, 0);
            page_set(sp, x, y + sh - 1, 0);
            page_set(sp, x + sw - 1, y + sh - 1, 0);
        }
    }
}

static void layers_free(struct layers *L)
{
    page_free(&L->opaque);
    page_free(&L->black);
    page_free(&L->mask);
    page_free(&L->specks);
}

static int layers_make(struct layers *L, const page *frame, struct params *p,
                       errbuf *e)
{
    memset(L, 0, sizeof *L);
    page *all[] = { &L->opaque, &L->black, &L->mask, &L->specks };
    for (int i = 0; i < 4; i++)
        if (page_alloc(all[i], frame->width, frame->height, frame->xres,
                       frame->yres, 0, e) < 0) {
            layers_free(L);
            return -1;
        }
    double scale = p->dpi / 300.0;
    for (int s = 0; s < NSIDES; s++)
        if (p->b[s].on && draw_side(L, s, &p->b[s], scale, e) < 0) {
            layers_free(L);
            return -1;
        }
    draw_specks(&L->specks, p->nspecks, p->speck_seed, scale);
    return 0;
}

/* page = ((content | specks) & ~opaque) | black, word by word. */
static void compose(page *pg, const struct layers *L)
{
    size_t words = pg->stride / 8 * (size_t)pg->height;
    uint64_t *d = (uint64_t *)pg->bits;
    const uint64_t *o = (const uint64_t *)L->opaque.bits;
    const uint64_t *b = (const uint64_t *)L->black.bits;
    const uint64_t *s = (const uint64_t *)L->specks.bits;
    for (size_t i = 0; i < words; i++)
        d[i] = ((d[i] | s[i]) & ~o[i]) | b[i];
}

/* ------------------------------------------------------------ truth */

struct counts {
    uint64_t ref_ink, skewed_ink, border_px, region_px, hidden_px, pepper_px;
};

struct names {
    const char *id, *pack, *src;
    int pack_page, src_page;
};

static void print_side(FILE *f, const struct border_spec *b)
{
    fprintf(f, "{\"style\": \"%s\", \"depth_min\": %d, \"depth_max\": %d, "
            "\"depth_mean\": %.1f, ", style_names[b->style], b->dmin, b->dmax,
            b->dmean);
    if (b->style == B_TILTED)
        fprintf(f, "\"tilt_deg\": %.2f, ", b->tilt_deg);
    fprintf(f, "\"stripes\": [");
    if (b->line_w)
        fprintf(f, "{\"kind\": \"black-line\", \"gap\": %d, \"width\": %d}",
                b->line_gap, b->line_w);
    if (b->white_w)
        fprintf(f, "%s{\"kind\": \"white-inside\", \"inset\": %d, \"width\": %d}",
                b->line_w ? ", " : "", b->white_inset, b->white_w);
    fprintf(f, "], \"salt\": %.4f}", b->salt);
}

/* One JSON object per page; keys compatible with the mkpages instrument so
 * the scorer reads both. */
static void print_truth(FILE *f, const struct params *p, const struct names *n,
                        const page *pg, const page *ref, const struct counts *c)
{
    fprintf(f, "{\"id\": \"%s\", \"file\": \"pages/%s.tif\", \"ref\": \"ref/%s.tif\", "
            "\"mask\": \"mask/%s.tif\", ", n->id, n->id, n->id, n->id);
    if (n->pack)
        fprintf(f, "\"pack\": \"%s\", \"pack_page\": %d, ", n->pack, n->pack_page);
    fprintf(f, "\"dpi\": %g, \"width\": %d, \"height\": %d, \"ref_width\": %d, "
            "\"ref_height\": %d, \"skew_deg\": %.2f, \"orientation\": %d, "
            "\"clean\": %s, \"border_sides\": [", p->dpi, pg->width, pg->height,
            ref->width, ref->height, p->skew, p->orient, p->clean ? "true" : "false");
    int k = 0;
    for (int s = 0; s < NSIDES; s++)
        if (p->b[s].on)
            fprintf(f, "%s\"%s\"", k++ ? ", " : "", side_names[s]);
    fprintf(f, "], \"border\": {");
    k = 0;
    for (int s = 0; s < NSIDES; s++)
        if (p->b[s].on) {
            fprintf(f, "%s\"%s\": ", k++ ? ", " : "", side_names[s]);
            print_side(f, &p->b[s]);
        }
    fprintf(f, "}, \"border_px\": %llu, \"border_region_px\": %llu, \"touch\": %s, "
            "\"content_under_border_px\": %llu, \"pepper_specks\": %d, "
            "\"pepper_px\": %llu, \"ref_ink_px\": %llu, \"skewed_ink_px\": %llu, "
            "\"src\": \"%s\", \"src_page\": %d, \"seed\": %llu}\n",
            (unsigned long long)c->border_px, (unsigned long long)c->region_px,
            p->touch ? "true" : "false", (unsigned long long)c->hidden_px,
            p->nspecks, (unsigned long long)c->pepper_px,
            (unsigned long long)c->ref_ink, (unsigned long long)c->skewed_ink,
            n->src, n->src_page, (unsigned long long)p->seed);
}

/* ------------------------------------------------------------ main work */

static int write_three(const char *outdir, const char *id, const page *pg,
                       const page *ref, const page *mask, errbuf *e)
{
    char path[4096];
    const char *sub[3] = { "pages", "ref", "mask" };
    const page *pgs[3] = { pg, ref, mask };
    for (int i = 0; i < 3; i++) {
        if (snprintf(path, sizeof path, "%s/%s/%s.tif", outdir, sub[i], id) >=
            (int)sizeof path)
            return err_set(e, "%s: path too long", outdir);
        if (sio_write_page(path, pgs[i], e) < 0)
            return -1;
    }
    return 0;
}

/* Degrades grey page g by p; writes the three files and prints the truth. */
static int make_page(const struct grey *g, struct params *p, const char *outdir,
                     const struct names *n, errbuf *e)
{
    page ref = { 0 }, skewed = { 0 }, pg = { 0 };
    struct layers L = { 0 };
    struct counts c = { 0 };
    int rc = -1;
    if (threshold_grey(g, p->dpi, &ref, e) < 0 ||
        rotate_threshold(g, p->skew, p->dpi, &skewed, e) < 0 ||
        turn_cw(&skewed, p->orient / 90, &pg, e) < 0 ||
        layers_make(&L, &pg, p, e) < 0)
        goto out;
    c.ref_ink = page_count_black(&ref);
    c.skewed_ink = page_count_black(&pg);
    c.hidden_px = count_and(&pg, &L.opaque, false);
    for (size_t i = 0; i < L.specks.stride * (size_t)L.specks.height; i++)
        L.specks.bits[i] &= (uint8_t)~(pg.bits[i] | L.opaque.bits[i]);
    c.pepper_px = page_count_black(&L.specks);
    c.border_px = page_count_black(&L.black);
    c.region_px = page_count_black(&L.mask);
    compose(&pg, &L);
    if (write_three(outdir, n->id, &pg, &ref, &L.mask, e) < 0)
        goto out;
    print_truth(stdout, p, n, &pg, &ref, &c);
    rc = fflush(stdout) == 0 ? 0 : err_errno(e, errno, "stdout");
out:
    page_free(&ref);
    page_free(&skewed);
    page_free(&pg);
    layers_free(&L);
    return rc;
}

/* ------------------------------------------------------------ edit */

/* mkpage edit: explicit defects for testing the scorer. */
static int edit_rotate(page *pg, double deg, errbuf *e)
{
    struct grey g = { pg->width, pg->height, malloc((size_t)pg->width * pg->height) };
    if (g.px == NULL)
        return err_set(e, "out of memory");
    for (int y = 0; y < g.h; y++)
        for (int x = 0; x < g.w; x++)
            g.px[(size_t)y * g.w + x] = page_get(pg, x, y) ? 0 : 255;
    page out = { 0 };
    int rc = rotate_threshold(&g, deg, pg->xres, &out, e);
    grey_free(&g);
    if (rc == 0)
        page_move(pg, &out);
    return rc;
}

static int edit_or(page *pg, const char *path, errbuf *e)
{
    page other = { 0 };
    if (sio_read_page(path, 0, pg->xres, &other, e) < 0)
        return -1;
    if (other.width != pg->width || other.height != pg->height) {
        page_free(&other);
        return err_set(e, "%s: size %dx%d differs from %dx%d", path,
                       other.width, other.height, pg->width, pg->height);
    }
    for (size_t i = 0; i < pg->stride * (size_t)pg->height; i++)
        pg->bits[i] |= other.bits[i];
    page_free(&other);
    return 0;
}

static int parse_rect(const char *s, int r[4], errbuf *e)
{
    if (sscanf(s, "%d,%d,%d,%d", &r[0], &r[1], &r[2], &r[3]) != 4 ||
        r[2] < 0 || r[3] < 0)
        return err_set(e, "bad rectangle '%s' (want X,Y,W,H)", s);
    return 0;
}

static void edit_report(const page *in, const page *out)
{
    printf("{\"width\": %d, \"height\": %d, \"in_px\": %llu, \"out_px\": %llu",
           out->width, out->height, (unsigned long long)page_count_black(in),
           (unsigned long long)page_count_black(out));
    if (in->width == out->width && in->height == out->height)
        printf(", \"added_px\": %llu, \"removed_px\": %llu",
               (unsigned long long)count_and(out, in, true),
               (unsigned long long)count_and(in, out, true));
    printf("}\n");
}

static int edit_op(page *pg, int opt, const char *arg, uint64_t *seed, errbuf *e)
{
    int r[4];
    page t = { 0 };
    switch (opt) {
    case 'r': return edit_rotate(pg, atof(arg), e);
    case 't':
        if (turn_cw(pg, atoi(arg) / 90, &t, e) < 0)
            return -1;
        page_move(pg, &t);
        return 0;
    case 'f':
    case 'c':
        if (parse_rect(arg, r, e) < 0)
            return -1;
        page_fill_rect(pg, r[0], r[1], r[2], r[3], opt == 'f');
        return 0;
    case 'o': return edit_or(pg, arg, e);
    case 'S': *seed = strtoull(arg, NULL, 10); return 0;
    case 'n':
        draw_specks(pg, atoi(arg), *seed, pg->xres / 300.0);
        return 0;
    }
    return err_set(e, "unknown edit option");
}

static int edit_main(int argc, char **argv)
{
    static const struct option lo[] = {
        { "rotate", required_argument, NULL, 'r' },
        { "turn", required_argument, NULL, 't' },
        { "fill", required_argument, NULL, 'f' },
        { "clear", required_argument, NULL, 'c' },
        { "or", required_argument, NULL, 'o' },
        { "seed", required_argument, NULL, 'S' },
        { "specks", required_argument, NULL, 'n' },
        { NULL, 0, NULL, 0 },
    };
    errbuf e = { "" };
    /* options are applied in order, so collect them first */
    int ops[256], nops = 0;
    char *args[256];
    int opt;
    while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        if (opt == '?' || nops == 256)
            return 2;
        ops[nops] = opt;
        args[nops++] = optarg;
    }
    if (argc - optind != 2) {
        fprintf(stderr, "usage: mkpage edit IN OUT [--rotate DEG] [--turn Q] "
                "[--fill X,Y,W,H] [--clear X,Y,W,H] [--or FILE] [--seed S] "
                "[--specks N]\n");
        return 2;
    }
    page in = { 0 }, pg = { 0 };
    uint64_t seed = 1;
    int rc = sio_read_page(argv[optind], 0, 300, &in, &e) < 0 ||
             page_copy(&pg, &in, &e) < 0 ? -1 : 0;
    for (int i = 0; rc == 0 && i < nops; i++)
        rc = edit_op(&pg, ops[i], args[i], &seed, &e);
    if (rc == 0)
        rc = sio_write_page(argv[optind + 1], &pg, &e);
    if (rc == 0)
        edit_report(&in, &pg);
    else
        fprintf(stderr, "mkpage edit: %s\n", e.msg);
    page_free(&in);
    page_free(&pg);
    return rc == 0 ? 0 : 1;
}

/* ------------------------------------------------------------ main */

static void usage(FILE *f)
{
    fprintf(f,
"usage: mkpage [OPTIONS] GREY.pgm OUTDIR ID\n"
"       mkpage edit IN OUT OPS...     (mkpage edit --help)\n"
"Degrades one clean grey page with known parameters; writes OUTDIR/pages/ID.tif,\n"
"OUTDIR/ref/ID.tif, OUTDIR/mask/ID.tif and prints the truth as a JSON line.\n"
"  --seed N          seed of every random choice (default 1)\n"
"  --dpi N           resolution of GREY.pgm (default 300)\n"
"  --max-skew DEG    largest |skew| drawn (default 10)\n"
"  --skew DEG        force the skew (> 0 = content turned counter-clockwise)\n"
"  --orient Q        force the orientation (clockwise degrees: 0/90/180/270)\n"
"  --borders SPEC    force borders: none, or SIDE:STYLE:DEPTH[,...] with SIDE\n"
"                    top/right/bottom/left, STYLE solid/tilted/ragged, DEPTH px\n"
"  --specks N        force the number of pepper specks (0 = none)\n"
"  --clean           no degradation at all (the page equals its reference)\n"
"  --pack FILE --pack-page K   where the page sits in a pack (for the truth)\n"
"  --src TEXT --src-page N     where the grey page came from (for the truth)\n"
"The model and its limits are described at the top of tests/tools/mkpage.c.\n");
}

static int parse_borders(struct params *p, const char *spec, errbuf *e)
{
    for (int s = 0; s < NSIDES; s++)
        memset(&p->b[s], 0, sizeof p->b[s]);
    if (strcmp(spec, "none") == 0)
        return 0;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", spec);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        char side[16], style[16];
        int depth, s, st;
        if (sscanf(tok, "%15[a-z]:%15[a-z]:%d", side, style, &depth) != 3 || depth < 1)
            return err_set(e, "bad border '%s' (want SIDE:STYLE:DEPTH)", tok);
        for (s = 0; s < NSIDES && strcmp(side, side_names[s]) != 0; s++)
            ;
        for (st = 0; st < 3 && strcmp(style, style_names[st]) != 0; st++)
            ;
        if (s == NSIDES || st == 3)
            return err_set(e, "bad border '%s': unknown side or style", tok);
        struct border_spec *b = &p->b[s];
        b->on = true;
        b->style = (enum bstyle)st;
        b->depth = depth;
        b->depth_end = st == B_TILTED ? depth + depth / 2 : depth;
        b->walk_seed = (uint64_t)depth * 7919 + (uint64_t)s;
    }
    return 0;
}

struct cli {
    struct params p;
    struct names n;
    const char *borders;
    double skew;
    int orient, nspecks;
    bool force_skew, force_orient, force_specks, clean;
};

static int parse_cli(int argc, char **argv, struct cli *c)
{
    static const struct option lo[] = {
        { "seed", required_argument, NULL, 's' },
        { "dpi", required_argument, NULL, 'd' },
        { "max-skew", required_argument, NULL, 'm' },
        { "skew", required_argument, NULL, 'k' },
        { "orient", required_argument, NULL, 'o' },
        { "borders", required_argument, NULL, 'b' },
        { "specks", required_argument, NULL, 'n' },
        { "clean", no_argument, NULL, 'C' },
        { "pack", required_argument, NULL, 'P' },
        { "pack-page", required_argument, NULL, 'Q' },
        { "src", required_argument, NULL, 'R' },
        { "src-page", required_argument, NULL, 'T' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (opt) {
        case 's': c->p.seed = strtoull(optarg, NULL, 10); break;
        case 'd': c->p.dpi = atof(optarg); break;
        case 'm': c->p.max_skew = atof(optarg); break;
        case 'k': c->skew = atof(optarg); c->force_skew = true; break;
        case 'o': c->orient = atoi(optarg); c->force_orient = true; break;
        case 'b': c->borders = optarg; break;
        case 'n': c->nspecks = atoi(optarg); c->force_specks = true; break;
        case 'C': c->clean = true; break;
        case 'P': c->n.pack = optarg; break;
        case 'Q': c->n.pack_page = atoi(optarg); break;
        case 'R': c->n.src = optarg; break;
        case 'T': c->n.src_page = atoi(optarg); break;
        case 'h': usage(stdout); exit(0);
        default: return -1;
        }
    }
    if (argc - optind != 3 || !(c->p.dpi >= 50 && c->p.dpi <= 2400) ||
        !(c->p.max_skew >= 0 && c->p.max_skew <= 45) ||
        (c->force_orient && (c->orient < 0 || c->orient > 270 || c->orient % 90)) ||
        (c->force_specks && c->nspecks < 0))
        return -1;
    return 0;
}

/* Forced parameters replace the drawn ones after all draws. */
static int apply_forced(struct cli *c, errbuf *e)
{
    struct params *p = &c->p;
    if (c->clean) {
        p->clean = true;
        p->skew = 0;
        p->orient = 0;
        p->nspecks = 0;
        p->touch = false;
        for (int s = 0; s < NSIDES; s++)
            p->b[s].on = false;
    }
    if (c->force_skew)
        p->skew = c->skew;
    if (c->force_orient)
        p->orient = c->orient;
    if (c->force_specks)
        p->nspecks = c->nspecks;
    if (c->borders && parse_borders(p, c->borders, e) < 0)
        return -1;
    if (c->force_skew || c->force_orient || c->force_specks || c->borders)
        p->touch = false;       /* only meaningful for drawn borders */
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "edit") == 0)
        return edit_main(argc - 1, argv + 1);
    struct cli c = { .p = { .seed = 1, .dpi = 300, .max_skew = 10 },
                     .n = { .src = "" } };
    if (parse_cli(argc, argv, &c) < 0) {
        usage(stderr);
        return 2;
    }
    const char *grey_path = argv[optind], *outdir = argv[optind + 1];
    c.n.id = argv[optind + 2];
    errbuf e = { "" };
    struct grey g = { 0 };
    if (sio_read_pgm(grey_path, &g, &e) < 0) {
        fprintf(stderr, "mkpage: %s\n", e.msg);
        return 1;
    }
    sample_params(&c.p, g.w, g.h);
    int rc = apply_forced(&c, &e);
    if (rc == 0)
        rc = make_page(&g, &c.p, outdir, &c.n, &e);
    grey_free(&g);
    if (rc < 0) {
        fprintf(stderr, "mkpage: %s: %s\n", c.n.id, e.msg);
        return 1;
    }
    return 0;
}
