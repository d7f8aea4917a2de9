/*
 * skew.c — skew detection on packed 1-bit pages by projection profiles of
 * run starts, summed over 64-pixel strips along trial lines.
 */
#include "skew.h"
#include "rotate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Per-byte population counts of a word (each byte holds its own count). */
static uint64_t bytecounts(uint64_t x)
{
    x = x - ((x >> 1) & 0x5555555555555555ull);
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    return (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
}

/* The feature word of 64 pixels w whose left neighbour is bit `prev`. */
static uint64_t feature_word(uint64_t w, uint64_t prev, enum map_feature f)
{
    uint64_t left = (w >> 1) | (prev << 63);
    return f == MAP_STARTS ? (w & ~left) : f == MAP_EDGES ? (w ^ left) : w;
}

void strip_prof_free(struct strip_prof *sp)
{
    free(sp->v);
    memset(sp, 0, sizeof *sp);
}

/*
 * Adds the feature counts of one row to the strip profiles acc (nb bins per
 * strip): at row y (bins of 1 << lb rows), each byte moved down by sh[b]
 * rows (NULL: no shear, one add per word).  Bytes going to the same bin
 * are summed in a register first: at small slopes whole runs of bytes do.
 */
static void strip_prof_row(uint32_t *acc, int nb, const uint8_t *row, int nw,
                           enum map_feature f, int y, int lb, const int *sh)
{
    uint64_t prev = 0;
    for (int w = 0; w < nw; w++) {
        uint64_t x = page_load64(row + 8 * w);
        uint64_t feat = feature_word(x, prev, f);
        prev = x & 1;
        if (feat == 0)
            continue;           /* white: most of a page */
        uint64_t cnt = bytecounts(feat);       /* leftmost byte on top */
        uint32_t *col = acc + (size_t)w * nb;
        if (sh == NULL) {
            col[y >> lb] += (uint32_t)((cnt * 0x0101010101010101ull) >> 56);
            continue;
        }
        const int *shw = sh + 8 * w;
        int bin = (y + shw[0]) >> lb;
        uint32_t sum = 0;
        for (int k = 0; k < 8; k++, cnt <<= 8) {
            int bk = (y + shw[k]) >> lb;
            if (bk != bin) {
                col[bin] += sum;
                bin = bk;
                sum = 0;
            }
            sum += (uint32_t)(cnt >> 56);
        }
        col[bin] += sum;
    }
}

/*
 * Strip profiles of a feature of pg sheared vertically by `slope`.
 *
 * Features: run starts (MAP_STARTS, a black pixel whose left neighbour is
 * white), edges (MAP_EDGES, starts and ends) or ink.  Starts and edges,
 * not ink: text has one on every stroke of every glyph, so text lines stay
 * strong, while solid black areas (border leftovers, photos, bars) and
 * long horizontal rules give one or two per row at most and cannot win the
 * sweep over text.  Counted per 8-pixel byte with a SWAR popcount, about
 * 15 word operations per 64 pixels; white words cost a test.
 *
 * Shear: byte b (centre x_b relative to the page centre) moves down by
 * round(x_b*slope) rows before its count is added to its strip's bins, so
 * that lines of that slope (rising to the right for slope > 0) come out
 * horizontal.  Done per byte, the strip's profile is not smeared by the
 * slope (half a row of rounding per byte at most) and its effective
 * position does not depend on where inside the strip the ink is: a fine
 * search that shears by the coarse angle first only has to handle the
 * small residual, which removes a bias of up to 0.4 degree on multi-column
 * pages.  `margin` bins of white are kept above and below for residual
 * shifts.  binh (rows per bin) is rounded down to a power of two.
 */
int strip_prof_build(struct strip_prof *sp, const page *pg, enum map_feature f,
                     int binh, double slope, int margin, errbuf *e)
{
    memset(sp, 0, sizeof *sp);
    int lb = 0;
    while (lb < 5 && (2 << lb) <= binh)
        lb++;
    binh = 1 << lb;
    int nw = (int)(pg->stride / 8);
    double cx = pg->width / 2.0;
    int ext = (int)ceil(fabs(slope) * (nw * 64.0 / 2.0 + 8)) + 1;
    int top = ext + margin * binh;     /* rows added above row 0 */
    sp->nstrips = nw;
    sp->nbins = (pg->height + 2 * top + binh - 1) >> lb;
    sp->binh = binh;
    sp->width = pg->width;
    sp->height = pg->height;
    sp->slope = slope;
    sp->y0 = -top;
    size_t nv = (size_t)nw * (size_t)sp->nbins;
    sp->v = malloc(nv * sizeof *sp->v);
    uint32_t *acc = calloc(nv, sizeof *acc);
    int *sh = malloc((size_t)nw * 8 * sizeof *sh);
    if (sp->v == NULL || acc == NULL || sh == NULL) {
        free(sh);
        free(acc);
        strip_prof_free(sp);
        return err_set(e, "out of memory");
    }
    for (int b = 0; b < 8 * nw; b++)
        sh[b] = (int)lround((8.0 * b + 4.0 - cx) * slope);
    for (int y = 0; y < pg->height; y++)
        strip_prof_row(acc, sp->nbins, page_row(pg, y), nw, f, y + top, lb,
                       slope == 0 ? NULL : sh);
    for (size_t i = 0; i < nv; i++)
        sp->v[i] = (float)acc[i];
    free(sh);
    free(acc);
    return 0;
}

typedef float v8f __attribute__((vector_size(32)));

/* w[i] += wm * q[i+1] + w0 * q[i] + wp * q[i-1] for 0 <= i < n, eight at a
 * time (GCC/Clang vector extension: SSE or AVX where there is one, plain
 * code elsewhere); q[-1] and q[n] must be readable. */
static void add3(float *w, const float *q, int n, float wm, float w0, float wp)
{
    int i = 0;
    v8f vm = { wm, wm, wm, wm, wm, wm, wm, wm };
    v8f v0 = { w0, w0, w0, w0, w0, w0, w0, w0 };
    v8f vp = { wp, wp, wp, wp, wp, wp, wp, wp };
    for (; i + 8 <= n; i += 8) {
        v8f a, b, c, d;
        memcpy(&a, q + i + 1, sizeof a);
        memcpy(&b, q + i, sizeof b);
        memcpy(&c, q + i - 1, sizeof c);
        memcpy(&d, w + i, sizeof d);
        d += vm * a + v0 * b + vp * c;
        memcpy(w + i, &d, sizeof d);
    }
    for (; i < n; i++)
        w[i] += wm * q[i + 1] + w0 * q[i] + wp * q[i - 1];
}

/* Which strips a score covers: the whole page, its left or right half. */
enum part { PART_ALL, PART_LEFT, PART_RIGHT, NPARTS };

/*
 * Adds strips [s0, s1), strip s (centre x_s) moved down by x_s*slope/binh
 * bins, into work.  A fractional shift r around the nearest bin is spread
 * over three bins with weights of mean r and variance 1/4 whatever r is, so
 * that the smoothing the interpolation adds is the same at every slope:
 * plain linear interpolation smooths less at slopes where all shifts happen
 * to be whole, and the sharpness criterion then prefers those slopes (a
 * bias of up to 0.1 degree).  Shifts beyond the profile's margin clip.
 */
static void shift_add(const struct strip_prof *sp, int s0, int s1, double slope,
                      float *work)
{
    int nb = sp->nbins;
    double cx = sp->width / 2.0;
    for (int s = s0; s < s1; s++) {
        double d = (64.0 * s + 32.0 - cx) * slope / sp->binh;
        int d0 = (int)lround(d);
        double r = d - d0;
        float wp = (float)((0.25 + r * r + r) / 2);
        float wm = (float)((0.25 + r * r - r) / 2);
        float w0 = (float)(0.75 - r * r);
        const float *p = sp->v + (size_t)s * nb;
        int lo = 1 + (d0 > 0 ? d0 : 0), hi = nb - 1 + (d0 < 0 ? d0 : 0);
        if (hi > lo)
            add3(work + lo, p + lo - d0, hi - lo, wm, w0, wp);
    }
}

/* Postl's sharpness of a profile: sum of squared neighbour differences. */
static double postl(const float *w, int nb)
{
    double sum = 0;
    for (int i = 0; i + 1 < nb; i++) {
        double dq = (double)w[i + 1] - w[i];
        sum += dq * dq;
    }
    return sum;
}

/* First strip of the right half (halves are scored only from 8 strips,
 * 512 pixels, up). */
static int half_split(const struct strip_prof *sp)
{
    return sp->nstrips >= 8 ? sp->nstrips / 2 : sp->nstrips;
}

/* Sharpness of one part summed along lines of `slope`; work: nbins. */
static double part_score(const struct strip_prof *sp, enum part p,
                         double slope, float *work)
{
    int h = half_split(sp);
    int s0 = p == PART_RIGHT ? h : 0, s1 = p == PART_LEFT ? h : sp->nstrips;
    memset(work, 0, (size_t)sp->nbins * sizeof *work);
    shift_add(sp, s0, s1, slope, work);
    return postl(work, sp->nbins);
}

/*
 * Sharpness of the whole page and of its two halves along lines of `slope`
 * in one pass (the whole page's profile is the sum of the halves').  Why
 * halves: the lines of two text columns rarely share their positions
 * (paragraph spacing, headings), and summed across such columns the
 * profile is sharpest where one column's lines meet the other's
 * neighbours: 0.05 to 1 degree off on two-column pages.  Each half alone
 * has no such bias.  work: 2 * nbins floats.
 */
double strip_prof_scores(const struct strip_prof *sp, double slope, float *work,
                         double sc[3])
{
    int nb = sp->nbins, h = half_split(sp);
    memset(work, 0, 2 * (size_t)nb * sizeof *work);
    shift_add(sp, 0, h, slope, work);
    shift_add(sp, h, sp->nstrips, slope, work + nb);
    sc[PART_LEFT] = postl(work, nb);
    sc[PART_RIGHT] = postl(work + nb, nb);
    for (int i = 0; i < nb; i++)
        work[i] += work[nb + i];
    sc[PART_ALL] = postl(work, nb);
    return sc[PART_ALL];
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Golden-section search for the maximum of a part's score over slopes
 * [lo, hi], to tol. */
static double refine_max(const struct strip_prof *sp, enum part p, double lo,
                         double hi, double tol, float *work, double *best)
{
    const double r = 0.6180339887498949;
    double a = hi - r * (hi - lo), b = lo + r * (hi - lo);
    double fa = part_score(sp, p, a, work), fb = part_score(sp, p, b, work);
    while (hi - lo > tol) {
        if (fa < fb) {
            lo = a;
            a = b;
            fa = fb;
            b = lo + r * (hi - lo);
            fb = part_score(sp, p, b, work);
        } else {
            hi = b;
            b = a;
            fb = fa;
            a = hi - r * (hi - lo);
            fa = part_score(sp, p, a, work);
        }
    }
    *best = fa > fb ? fa : fb;
    return fa > fb ? a : b;
}

#define DEG (M_PI / 180.0)

/* Best index of a sweep and the vertex (in steps) of the parabola through
 * it and its neighbours. */
static int sweep_best(const double *sc, int n, double *vertex)
{
    int ib = 0;
    for (int i = 1; i < n; i++)
        if (sc[i] > sc[ib])
            ib = i;
    *vertex = ib;
    if (ib > 0 && ib + 1 < n) {
        double a = sc[ib - 1], b = sc[ib], c = sc[ib + 1];
        double den = a - 2 * b + c;
        if (den < 0)
            *vertex += fmax(-0.5, fmin(0.5, (a - c) / (2 * den)));
    }
    return ib;
}

/*
 * Coarse sweep: profiles of `binh`-row bins without shear, scored every
 * `step` degrees over -max..max, for the whole page and its halves.  Fills
 * the best angles, the whole page's best score and the median score.
 */
int skew_sweep(const page *pg, enum map_feature f, double max_deg,
               double step, int binh, struct skew_sweep *out, errbuf *e)
{
    struct strip_prof sp;
    memset(out, 0, sizeof *out);
    int n = (int)floor(max_deg / step + 1e-9) * 2 + 1;
    int margin = (int)ceil(tan(max_deg * DEG) * (double)pg->stride * 4.0 / binh) + 2;
    if (strip_prof_build(&sp, pg, f, binh, 0.0, margin, e) < 0)
        return -1;
    double *sc = malloc((size_t)n * (NPARTS + 1) * sizeof *sc);
    float *work = malloc(2 * (size_t)sp.nbins * sizeof *work);
    if (sc == NULL || work == NULL) {
        free(sc);
        free(work);
        strip_prof_free(&sp);
        return err_set(e, "out of memory");
    }
    for (int i = 0; i < n; i++) {
        double v[NPARTS];
        strip_prof_scores(&sp, tan((i - n / 2) * step * DEG), work, v);
        for (int p = 0; p < NPARTS; p++)
            sc[p * n + i] = v[p];
    }
    double vx;
    int ib = sweep_best(sc, n, &vx);
    out->angle = (ib - n / 2) * step;
    out->vertex = (vx - n / 2) * step;
    out->at_edge = ib == 0 || ib == n - 1;
    for (int p = PART_LEFT; p <= PART_RIGHT; p++) {
        sweep_best(sc + p * n, n, &vx);
        out->half[p - PART_LEFT] = (vx - n / 2) * step;
    }
    out->peak = sc[ib];
    double *sorted = sc + NPARTS * n;
    memcpy(sorted, sc, (size_t)n * sizeof *sc);
    qsort(sorted, (size_t)n, sizeof *sc, cmp_double);
    out->median = sorted[n / 2];
    out->conf = out->median > 0 ? (out->peak - out->median) / out->median : 0;
    if (!(out->conf > 0))       /* flat: no direction is better */
        out->angle = out->vertex = out->half[0] = out->half[1] = 0;
    free(sc);
    free(work);
    strip_prof_free(&sp);
    return 0;
}

/*
 * The page's angle from the whole page's estimate g and the halves' l and
 * r: the halves' mean when they agree (within 0.1 degree), both carry
 * lines (each at least a fifth of the other's sharpness) and g lies
 * outside their agreement by more than 0.05 degree (two columns whose
 * lines do not line up); g otherwise, which has the longer baseline and
 * the better precision on single-column pages (a half's own estimate can
 * be 0.04 degree off there) and is the compromise on warped ones.
 */
static double combine(double g, double l, double r, double sl, double sr)
{
    double spread = fabs(l - r), mid = (l + r) / 2;
    if (sl >= 0.2 * sr && sr >= 0.2 * sl && spread <= 0.1 &&
        fabs(g - mid) > spread / 2 + 0.05)
        return mid;
    return g;
}

/*
 * Quick test whether the halves might prefer another angle than the whole
 * page's residual slope k: each half's score at k and k +- 0.04 degree,
 * and the vertex of the parabola through them; true if either vertex is
 * more than 0.04 degree from k (or the half has no maximum there).  Three
 * scores instead of two golden-section searches on most pages.
 */
static bool halves_disagree(const struct strip_prof *sp, double k, float *work)
{
    const double h = 0.04 * DEG;
    double m[NPARTS], c[NPARTS], p[NPARTS];
    strip_prof_scores(sp, k - h, work, m);
    strip_prof_scores(sp, k, work, c);
    strip_prof_scores(sp, k + h, work, p);
    for (int q = PART_LEFT; q <= PART_RIGHT; q++) {
        double den = m[q] - 2 * c[q] + p[q];
        if (!(den < 0) || fabs((m[q] - p[q]) / (2 * den)) > 1.0)
            return true;
    }
    return false;
}

/*
 * Fine search around `near` degrees: the page's feature counts are sheared
 * by tan(near) per byte (strip_prof_build), then the residual slope is
 * searched within +-range degrees on 1-row bins: first on a grid of about
 * 0.1 degree (the score of a warped or multi-column page can have several
 * local maxima there), then by golden section within one grid step of the
 * best grid point, to `tol` degrees.  If the halves look like preferring
 * another angle (halves_disagree), they get the same search and combine()
 * decides.  Shears compose by adding slopes, so an angle is
 * atan(tan(near) + residual).  Cost: one profile build, 2*ceil(range/0.1)+1
 * scores, log(0.2/tol)/log(1.618) for the golden section and 3 for the
 * halves' test (twice the golden section when they are searched).
 */
int skew_refine(const page *pg, enum map_feature f, double near, double range,
                double tol, double *angle, double *score, errbuf *e)
{
    struct strip_prof sp;
    int margin = (int)ceil(tan(range * DEG) * (double)pg->stride * 4.0) + 2;
    if (strip_prof_build(&sp, pg, f, 1, tan(near * DEG), margin, e) < 0)
        return -1;
    float *work = malloc(2 * (size_t)sp.nbins * sizeof *work);
    if (work == NULL) {
        strip_prof_free(&sp);
        return err_set(e, "out of memory");
    }
    int n = (int)ceil(range / 0.1 - 1e-9);
    n = n < 1 ? 1 : n;
    double step = range / n, best[NPARTS] = { -1, -1, -1 }, at[NPARTS] = { 0 };
    for (int i = -n; i <= n; i++) {
        double v[NPARTS];
        strip_prof_scores(&sp, tan(i * step * DEG), work, v);
        for (int p = 0; p < NPARTS; p++)
            if (v[p] > best[p]) {
                best[p] = v[p];
                at[p] = i * step;
            }
    }
    double a[NPARTS], sc[NPARTS];
    double lo = fmax(at[0] - step, -range), hi = fmin(at[0] + step, range);
    double res = refine_max(&sp, PART_ALL, tan(lo * DEG), tan(hi * DEG),
                            tol * DEG, work, &sc[0]);
    a[0] = atan(tan(near * DEG) + res) / DEG;
    *angle = a[0];
    if (half_split(&sp) < sp.nstrips && halves_disagree(&sp, res, work)) {
        for (int p = PART_LEFT; p <= PART_RIGHT; p++) {
            lo = fmax(at[p] - step, -range);
            hi = fmin(at[p] + step, range);
            res = refine_max(&sp, (enum part)p, tan(lo * DEG), tan(hi * DEG),
                             tol * DEG, work, &sc[p]);
            a[p] = atan(tan(near * DEG) + res) / DEG;
        }
        *angle = combine(a[0], a[1], a[2], sc[1], sc[2]);
    }
    *score = sc[0];
    free(work);
    strip_prof_free(&sp);
    return 0;
}

/*
 * Refines a sweep: around its best angle within +-0.6 degree, widened to
 * reach the halves' best angles when they agree with each other (within
 * 0.5 degree) but not with the whole page's (a two-column page can pull
 * the whole page's sweep a degree away).
 */
int skew_refine_sweep(const page *pg, enum map_feature f,
                      const struct skew_sweep *sw, double tol, double *angle,
                      double *score, errbuf *e)
{
    double near = sw->angle, range = 0.6;
    double mid = (sw->half[0] + sw->half[1]) / 2;
    if (fabs(sw->half[0] - sw->half[1]) <= 0.5 && fabs(mid - near) > 0.4) {
        range = fabs(mid - near) / 2 + 0.6;
        near = (mid + near) / 2;
    }
    return skew_refine(pg, f, near, range, tol, angle, score, e);
}

/*
 * Skew by sweep and search over run-start profiles (Postl's criterion, as
 * in Leptonica's pixFindSkewSweepAndSearch, but on per-strip profiles of
 * run starts instead of sheared images):
 *   1. sweep -max..max in 0.5 degree steps: unsheared profiles of
 *      64-pixel strips, 8-row bins, strips shifted along each trial line;
 *   2. profiles sheared per byte by the best sweep angle, 1-row bins, and
 *      a golden-section search of the residual within +-0.6 degree.
 * Confidence: (peak - median of the sweep) / median: 0 for a blank or
 * isotropic page, large for lines of text; pages smaller than
 * SKEW_MIN_WIDTH x SKEW_MIN_HEIGHT get angle 0 and conf 0.  The sweep
 * goes one step beyond max_deg; if its best angle is its last, conf is 0
 * (the skew may well be beyond the range).  Limits: |max_deg| <= 45.
 */
int skew_find(const page *pg, double max_deg, struct skew_est *est, errbuf *e)
{
    memset(est, 0, sizeof *est);
    if (!(max_deg > 0) || max_deg > 45)
        max_deg = 45;
    if (pg->width < SKEW_MIN_WIDTH || pg->height < SKEW_MIN_HEIGHT)
        return 0;               /* too small to say anything */
    struct skew_sweep sw;   /* one step beyond, so +-max_deg is inside */
    if (skew_sweep(pg, MAP_STARTS, fmin(max_deg + 0.5, 45), 0.5, 8, &sw, e) < 0)
        return -1;
    if (sw.conf <= 0)
        return 0;               /* flat sweep: blank or featureless */
    if (sw.at_edge) {
        est->angle = sw.angle;  /* the peak may lie beyond the range */
        return 0;
    }
    if (skew_refine_sweep(pg, MAP_STARTS, &sw, 0.001, &est->angle, &est->score,
                          e) < 0)
        return -1;
    est->conf = sw.conf;
    return 0;
}

/* ORs horizontally adjacent pixel pairs of a 64-pixel word and packs the 32
 * results into the low half, leftmost first. */
static uint64_t pack_pairs(uint64_t w)
{
    uint64_t x = (w | (w << 1)) >> 1 & 0x5555555555555555ull;
    x = (x | (x >> 1)) & 0x3333333333333333ull;
    x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0Full;
    x = (x | (x >> 4)) & 0x00FF00FF00FF00FFull;
    x = (x | (x >> 8)) & 0x0000FFFF0000FFFFull;
    return (x | (x >> 16)) & 0x00000000FFFFFFFFull;
}

/*
 * 2x2 OR reduction: a reduced pixel is black if any of its four source
 * pixels is.  Keeps thin strokes and small glyphs (an i-dot survives), at
 * the price of thickening; fine for profiles.  About 10 word operations per
 * 64 source pixels.
 */
int page_reduce2(page *dst, const page *src, errbuf *e)
{
    int w = (src->width + 1) / 2, h = (src->height + 1) / 2;
    if (page_alloc(dst, w, h, src->xres / 2, src->yres / 2, UINT64_MAX, e) < 0)
        return -1;
    size_t nw = src->stride / 8;
    for (int y = 0; y < h; y++) {
        const uint8_t *a = page_row(src, 2 * y);
        const uint8_t *b = 2 * y + 1 < src->height ? page_row(src, 2 * y + 1) : a;
        uint8_t *d = page_row(dst, y);
        for (size_t i = 0; i < nw; i += 2) {
            uint64_t hi = pack_pairs(page_load64(a + 8 * i) | page_load64(b + 8 * i));
            uint64_t lo = 0;
            if (i + 1 < nw)
                lo = pack_pairs(page_load64(a + 8 * i + 8) | page_load64(b + 8 * i + 8));
            page_store64(d + 4 * i, hi << 32 | lo);
        }
    }
    return 0;
}

/*
 * The deskew stage.  The angle comes from a full search (skew_find) or,
 * when an earlier stage already measured the skew of this page
 * (r->skew_known, set by orient from its reduced copy), from a search
 * within +-0.2 degree of that value at full resolution (unless it is within
 * half a degree of max_skew: then a full search, which refuses a skew that
 * may lie beyond the range).  The page is
 * rotated back (three shears, keeping its size) only when the confidence
 * is at least min_conf and the angle is between min_angle and max_skew.
 */
int deskew_stage(page *pg, const struct chain_opts *o, struct page_report *r,
                 errbuf *e)
{
    double max = o->deskew.max_skew > 0 ? fmin(o->deskew.max_skew, 45) : 15;
    double angle = 0, conf = 0;
    if (pg->width < SKEW_MIN_WIDTH || pg->height < SKEW_MIN_HEIGHT) {
        /* too small: nothing measured, nothing done */
    } else if (r->skew_known && fabs(r->skew) <= max - 0.5 && r->skew_conf > 0) {
        double score;
        if (skew_refine(pg, MAP_STARTS, r->skew, 0.2, 0.001, &angle, &score,
                        e) < 0)
            return -1;
        conf = r->skew_conf;
    } else {
        struct skew_est est;
        if (skew_find(pg, max, &est, e) < 0)
            return -1;
        angle = est.angle;
        conf = est.conf;
    }
    r->skew = angle;
    r->skew_conf = conf;
    r->deskewed = false;
    if (conf < o->deskew.min_conf || fabs(angle) < o->deskew.min_angle ||
        fabs(angle) > max)
        return 0;
    page t;
    if (page_rotate_shear(&t, pg, -angle, NULL, e) < 0)
        return -1;
    page_move(pg, &t);
    r->deskewed = true;
    r->skew_known = false;
    return 0;
}
