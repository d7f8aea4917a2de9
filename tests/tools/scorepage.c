/*
 * scorepage.c — scores cleaned pages against the ground truth of the
 * sample generator (scripts/mksamples.sh, tests/tools/mkpage.c; it also
 * reads corpora of the same truth format): residual skew, orientation,
 * border pixels left, speck pixels left, content lost.
 *
 *   scorepage --truth DIR/truth.jsonl [--outputs OUTDIR] [--pattern P]
 *             [--packs] [--report P] [--tsv F] [--summary F] [--json F]
 *             [--ids a,b] [-j N]
 *   scorepage --same A B [--turn Q]     exact comparison (for tests)
 *
 * Without --outputs the untouched inputs are scored (a "do nothing" tool).
 * OUTDIR holds one file per page (--pattern, default {id}.tif, then .tiff,
 * .pbm, .pgm) or, with --packs, multi-page TIFFs named like the truth's
 * packs (page k of a pack is scored against the truth's pack_page k).
 * --report P names JSON Lines reports ({id} or {pack} = pack name without
 * .tif), one object per page with "skew" (and "orientation") as the tool
 * reported them; in a pack report the object with "page" (or "index") =
 * pack_page.
 *
 *   scorepage --timings REPORT...
 * prints, for every member of the reports' "ms" objects and for their sum
 * per page ("total"), the median, p90 and mean over all pages (TSV).
 *
 * METHOD (bit arithmetic on packed pages, scorepage-bits.h).  t = 2 px at
 * 300 dpi (scaled), "within t" = chessboard distance.
 *  1. Text-only copies (alignment and skew only): ink in horizontal or
 *     vertical runs of >= 60 px (300 dpi) is dropped — borders, stripes,
 *     rules and solid figures go, glyphs and specks stay.
 *  2. Coarse skew: projection profiles (Postl).  The text-only page is cut
 *     into 64 px strips; for a trial angle a, strip k's row profile is
 *     shifted by (x_k - cx) tan a (linear interpolation) and summed, and
 *     sum (T[y+1] - T[y])^2 is maximised: +-15 deg in 0.5 deg steps on rows
 *     binned by 4, then 0.1 and 0.02 deg steps, then a parabola.  The
 *     reference's estimate is subtracted (a bias common to both cancels).
 *  3. Orientation: the output is tried turned by 0/90/180/270 deg
 *     clockwise, each deskewed by its own estimate, 4x reduced, aligned to
 *     the reduced reference by translation (cross-correlation of row and of
 *     column ink profiles, then a +-2 cell search), and scored by F =
 *     harmonic mean of recall and precision with 1 cell tolerance.  The
 *     best F wins; the orientation is right iff it is the unturned output.
 *  4. Fine alignment and residual skew: the chosen candidate, deskewed by
 *     the coarse angle at full resolution (three shears), is compared with
 *     the reference in 8 vertical strips (row profiles -> vertical offset
 *     of each strip) and 8 horizontal bands (column profiles -> horizontal
 *     offset), +-16 px, normalised cross-correlation with a sub-pixel
 *     parabola.  A rotation by d moves strip offsets linearly (dy = +x tan
 *     d, dx = -y tan d); robust line fits give d and the translation.  If
 *     |d| > 0.05 deg the candidate is re-rotated and measured again; a
 *     smaller d is measured, not applied (it would move no pixel once the
 *     shears round).  Residual skew = angle applied + d measured after it
 *     (> 0: the output's content is still turned counter-clockwise).  The
 *     remaining translation is rounded to whole pixels.
 *  5. Pixel metrics in the reference frame with the aligned output P
 *     (full ink).  The border zone is the page's mask plus the part of the
 *     reference frame the scanned frame does not cover, taken back with
 *     the KNOWN inverse transform (turn back, rotate by -skew), dilated by
 *     6 px (300 dpi).  lost = reference ink outside the zone with no P ink
 *     within t (ink under a border was never visible: it is not counted);
 *     spurious = P ink with no reference ink within t; border = spurious
 *     ink in the zone plus P ink that falls outside the reference frame
 *     (also ink turned off the candidate's frame by step 4); noise (specks
 *     left) = the other spurious ink.  The same is computed for the
 *     untouched input taken back with the known transform ("in_" columns):
 *     border_left = border / in_border, speck_left = noise / in_noise,
 *     lost_excess = (lost - in_lost) / reference ink outside the zone.
 *     For diagnosis the noise is also split: pixels 8-connected to kept
 *     (non-spurious) ink are specks stuck to text ("attached"); the rest
 *     are isolated specks, which a despeckler can reach without touching
 *     glyphs (speck_left_isolated).  Aggregates: border and speck left as sums over pages (sum border /
 *     sum in_border), residual skew and lost as per-page percentiles.
 *
 * LIMITS: rigid motions only (rotation + translation); a scaled or warped
 * output does not align (align_f < 0.5: the row is marked not ok and left
 * out of the aggregates except the count).  Skew: scoring untouched inputs
 * gives back the known skew within 0.0014 deg median, 0.003 p90, 0.013
 * max (50 mkpages pages; 0.005 max on our own), and pages turned 0.2-5 deg
 * by Leptonica's pixRotate read back within 0.2 % of the angle; pages
 * with little text are worse; |angle| > 15 deg is not searched.
 * SCOREPAGE_DEBUG=1 prints the strip fits.  About 0.1 s CPU per page.
 * Tolerance counts are not OCR: a stroke moved or thickened by
 * <= t px counts as kept; a speck within t px of text is invisible to both
 * the noise and the lost count, in the input and the output alike.
 * Pepper specks that fell into the border zone count as border.  One rigid
 * motion per page: a tool that moves a block of text relative to the rest
 * gets it counted as lost and as noise.  Pages up to 20000 px a side.
 */
#include "sampleio.h"
#include "scorepage-bits.h"

#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#define MAX_SIDE 20000

/* ------------------------------------------------------------ truth */

struct truth {
    char id[64];
    char file[1024], ref[1024], mask[1024], pack[1024];
    int pack_page, orient;
    double dpi, skew;
};

/* Start of the value of a top-level key of a one-line JSON object, or NULL.
 * Strings are skipped with their escapes; nested values are not searched. */
static const char *json_find(const char *s, const char *key)
{
    int depth = 0;
    size_t klen = strlen(key);
    for (const char *p = s; *p; p++) {
        if (*p == '"') {
            const char *q = p + 1, *end = q;
            while (*end && *end != '"')
                end += end[0] == '\\' && end[1] ? 2 : 1;
            if (*end == '\0')
                return NULL;
            const char *c = end + 1;
            while (*c == ' ' || *c == '\t')
                c++;
            if (depth == 1 && *c == ':' && (size_t)(end - q) == klen &&
                memcmp(q, key, klen) == 0) {
                for (c++; *c == ' ' || *c == '\t'; c++)
                    ;
                return c;
            }
            p = end;
        } else if (*p == '{' || *p == '[') {
            depth++;
        } else if (*p == '}' || *p == ']') {
            depth--;
        }
    }
    return NULL;
}

static int json_str(const char *s, const char *key, char *out, size_t n)
{
    const char *v = json_find(s, key);
    if (v == NULL || *v != '"')
        return -1;
    size_t k = 0;
    for (v++; *v && *v != '"' && k + 1 < n; v++) {
        if (*v == '\\' && v[1])
            v++;
        out[k++] = *v;
    }
    out[k] = '\0';
    return *v == '"' ? 0 : -1;
}

static int json_num(const char *s, const char *key, double *out)
{
    const char *v = json_find(s, key);
    char *end;
    if (v == NULL)
        return -1;
    double d = strtod(v, &end);
    if (end == v)
        return -1;
    *out = d;
    return 0;
}

static int parse_truth(const char *line, struct truth *t, errbuf *e)
{
    double pp = 0, orient = 0, dpi = 300;
    memset(t, 0, sizeof *t);
    if (json_str(line, "id", t->id, sizeof t->id) < 0 ||
        json_str(line, "file", t->file, sizeof t->file) < 0 ||
        json_str(line, "ref", t->ref, sizeof t->ref) < 0 ||
        json_str(line, "mask", t->mask, sizeof t->mask) < 0 ||
        json_num(line, "skew_deg", &t->skew) < 0 ||
        json_num(line, "orientation", &orient) < 0)
        return err_set(e, "missing id, file, ref, mask, skew_deg or orientation");
    json_str(line, "pack", t->pack, sizeof t->pack);
    json_num(line, "pack_page", &pp);
    json_num(line, "dpi", &dpi);
    t->pack_page = (int)pp;
    t->orient = (int)orient;
    t->dpi = dpi > 0 ? dpi : 300;
    if (t->orient % 90 != 0 || t->orient < 0 || t->orient > 270)
        return err_set(e, "orientation %d is not 0/90/180/270", t->orient);
    return 0;
}

/* Reads every line of the truth file; *n pages. */
static int load_truth(const char *path, struct truth **out, int *n, errbuf *e)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return err_errno(e, errno, "%s", path);
    char *line = NULL;
    size_t cap = 0;
    int count = 0, alloc = 0, lineno = 0, rc = 0;
    struct truth *t = NULL;
    while (rc == 0 && getline(&line, &cap, f) > 0) {
        lineno++;
        if (line[0] != '{')
            continue;
        if (count == alloc) {
            alloc = alloc ? alloc * 2 : 64;
            struct truth *nt = realloc(t, sizeof *t * (size_t)alloc);
            if (nt == NULL) {
                rc = err_set(e, "out of memory");
                break;
            }
            t = nt;
        }
        if (parse_truth(line, &t[count], e) < 0) {
            err_prefix(e, "%s: line %d", path, lineno);
            rc = -1;
        }
        count++;
    }
    if (rc == 0 && ferror(f))
        rc = err_errno(e, errno, "%s", path);
    fclose(f);
    free(line);
    if (rc == 0 && count == 0)
        rc = err_set(e, "%s: no pages", path);
    if (rc < 0) {
        free(t);
        return -1;
    }
    *out = t;
    *n = count;
    return 0;
}

/* ------------------------------------------------------------ skew */

/* Row profiles of 64 px strips: P[k * rows + y / bin] += ink of word k. */
static int strip_profiles(const page *t, int bin, int **out, int *rows)
{
    int nk = (int)(t->stride / 8), nr = (t->height + bin - 1) / bin;
    int *P = calloc((size_t)nk * (size_t)nr, sizeof *P);
    if (P == NULL)
        return -1;
    const uint64_t *w = page_w64(t);
    for (int y = 0; y < t->height; y++)
        for (int k = 0; k < nk; k++)
            P[(size_t)k * nr + y / bin] += __builtin_popcountll(w[(size_t)y * nk + k]);
    *out = P;
    *rows = nr;
    return 0;
}

/* Postl's criterion for angle a (degrees): strips sheared by
 * (x_k - cx) tan a / bin rows, summed, sum of squared row differences. */
static double postl(const int *P, int nk, int nr, double width, int bin,
                    double a, double *T)
{
    double ta = tan(a * M_PI / 180);
    memset(T, 0, sizeof *T * (size_t)nr);
    for (int k = 0; k < nk; k++) {
        double xk = 64.0 * k + 32 < width ? 64.0 * k + 32 : width;
        double s = (xk - width / 2) * ta / bin;
        int i0 = (int)floor(s);
        double f = s - i0;
        const int *p = P + (size_t)k * nr;
        for (int y = 0; y < nr; y++) {
            int j = y - i0;     /* value at y - s = (1-f) p[j] + f p[j-1] */
            double v = 0;
            if (j >= 0 && j < nr)
                v += (1 - f) * p[j];
            if (j - 1 >= 0 && j - 1 < nr)
                v += f * p[j - 1];
            T[y] += v;
        }
    }
    double sum = 0;
    for (int y = 0; y + 1 < nr; y++)
        sum += (T[y + 1] - T[y]) * (T[y + 1] - T[y]);
    return sum;
}

/* Best angle of a sweep lo..hi in steps; with parabola, refined through
 * the best three. */
static double sweep(const int *P, int nk, int nr, double width, int bin,
                    double lo, double hi, double step, bool parabola, double *T)
{
    int n = (int)lround((hi - lo) / step) + 1, best = 0;
    double v[128];
    n = n < 1 ? 1 : n > 128 ? 128 : n;
    for (int i = 0; i < n; i++) {
        v[i] = postl(P, nk, nr, width, bin, lo + i * step, T);
        if (v[i] > v[best])
            best = i;
    }
    double a = lo + best * step;
    if (parabola && best > 0 && best + 1 < n) {
        double den = v[best - 1] - 2 * v[best] + v[best + 1];
        if (den < 0)
            a += 0.5 * step * (v[best - 1] - v[best + 1]) / den;
    }
    return a;
}

/*
 * skew_estimate — skew of a text-only page in degrees (> 0: lines rise to
 * the right), see METHOD 2.  Range +-15 deg.  Returns NAN on no memory.
 */
static double skew_estimate(const page *t)
{
    int *P4 = NULL, *P1 = NULL, r4, r1;
    double a = NAN;
    int nk = (int)(t->stride / 8);
    double *T = malloc(sizeof *T * (size_t)(t->height + 1));
    if (T == NULL || strip_profiles(t, 4, &P4, &r4) < 0 ||
        strip_profiles(t, 1, &P1, &r1) < 0)
        goto out;
    a = sweep(P4, nk, r4, t->width, 4, -15, 15, 0.5, false, T);
    a = sweep(P1, nk, r1, t->width, 1, a - 0.6, a + 0.6, 0.1, false, T);
    a = sweep(P1, nk, r1, t->width, 1, a - 0.12, a + 0.12, 0.02, true, T);
out:
    free(T);
    free(P4);
    free(P1);
    return a;
}

/* ------------------------------------------------------------ coarse alignment */

/* Ink per row (cols = false) or per column of a page. */
static int *ink_profile(const page *p, bool cols)
{
    int n = cols ? p->width : p->height;
    int *v = calloc((size_t)n + 1, sizeof *v);
    if (v == NULL)
        return NULL;
    for (int y = 0; y < p->height; y++) {
        const uint8_t *row = page_row(p, y);
        for (size_t i = 0; i < p->stride; i += 8) {
            uint64_t w = page_load64(row + i);
            if (!cols) {
                v[y] += __builtin_popcountll(w);
                continue;
            }
            while (w) {
                int b = __builtin_clzll(w);
                v[i * 8 + (size_t)b]++;
                w &= ~(1ull << (63 - b));
            }
        }
    }
    return v;
}

/* Shift d maximising the mean-free correlation sum_y r[y] c[y - d] over
 * every overlap (c of length nc, r of length nr). */
static int best_shift(const int *r, int nr, const int *c, int nc)
{
    double mr = 0, mc = 0;
    for (int i = 0; i < nr; i++)
        mr += r[i];
    for (int i = 0; i < nc; i++)
        mc += c[i];
    mr /= nr;
    mc /= nc;
    double best = -1e300;
    int bd = 0;
    for (int d = -(nc - 1); d <= nr - 1; d++) {
        int y0 = d > 0 ? d : 0, y1 = nr < nc + d ? nr : nc + d;
        double s = 0;
        for (int y = y0; y < y1; y++)
            s += (r[y] - mr) * (c[y - d] - mc);
        if (s > best) {
            best = s;
            bd = d;
        }
    }
    return bd;
}

/* F score of candidate c placed at (dx, dy) on reference r (rd = r dilated
 * by one cell, ninkc = ink of c). */
static double f_at(const page *c, const page *r, const page *rd, int dx, int dy,
                   uint64_t ninkr, uint64_t ninkc, errbuf *e)
{
    page p = { 0 }, pd = { 0 };
    if (page_new(&p, r->width, r->height, r, e) < 0)
        return -1;
    page_place(c, dx, dy, &p);
    if (page_dilate(&p, 1, &pd, e) < 0) {
        page_free(&p);
        return -1;
    }
    double rec = ninkr ? (double)bits_count_and(r, &pd, false) / ninkr : 0;
    double pre = ninkc ? (double)bits_count_and(&p, rd, false) / ninkc : 0;
    page_free(&p);
    page_free(&pd);
    return rec + pre > 0 ? 2 * rec * pre / (rec + pre) : 0;
}

/*
 * align_small — translation of reduced candidate c onto reduced reference
 * r: profile cross-correlation for rows and columns, then the best F in a
 * +-2 cell neighbourhood (METHOD 3).  Returns F (or -1 on no memory).
 */
static double align_small(const page *c, const page *r, int *dx, int *dy,
                          errbuf *e)
{
    int *rr = ink_profile(r, false), *rc = ink_profile(r, true);
    int *cr = ink_profile(c, false), *cc = ink_profile(c, true);
    page rd = { 0 };
    double best = -1;
    if (rr && rc && cr && cc && page_dilate(r, 1, &rd, e) == 0) {
        int y0 = best_shift(rr, r->height, cr, c->height);
        int x0 = best_shift(rc, r->width, cc, c->width);
        uint64_t nr = page_count_black(r), nc = page_count_black(c);
        for (int j = -2; j <= 2; j++)
            for (int i = -2; i <= 2; i++) {
                double f = f_at(c, r, &rd, x0 + i, y0 + j, nr, nc, e);
                if (f > best) {
                    best = f;
                    *dx = x0 + i;
                    *dy = y0 + j;
                }
            }
    }
    free(rr);
    free(rc);
    free(cr);
    free(cc);
    page_free(&rd);
    return best;
}

/* ------------------------------------------------------------ fine alignment */

#define NSTRIP 8

/* Ink of row y of p in columns [x0, x1) (clipped). */
static int row_ink(const page *p, int y, int x0, int x1)
{
    x0 = x0 < 0 ? 0 : x0;
    x1 = x1 > p->width ? p->width : x1;
    return x1 > x0 ? (int)page_count_rect(p, x0, y, x1 - x0, 1) : 0;
}

/* Row profiles of NSTRIP vertical strips of the reference's width,
 * shifted by -sx columns (for the candidate). */
static int *strip_rows(const page *p, int refw, int sx)
{
    int *v = calloc((size_t)NSTRIP * (size_t)p->height, sizeof *v);
    if (v == NULL)
        return NULL;
    for (int j = 0; j < NSTRIP; j++) {
        int xa = j * refw / NSTRIP - sx, xb = (j + 1) * refw / NSTRIP - sx;
        for (int y = 0; y < p->height; y++)
            v[(size_t)j * p->height + y] = row_ink(p, y, xa, xb);
    }
    return v;
}

/* Column profiles of NSTRIP horizontal bands of the reference's height,
 * shifted by -sy rows. */
static int *band_cols(const page *p, int refh, int sy)
{
    int *v = calloc((size_t)NSTRIP * (size_t)p->width, sizeof *v);
    if (v == NULL)
        return NULL;
    for (int y = 0; y < p->height; y++) {
        int j = (int)(((long)(y + sy)) * NSTRIP / refh);
        if (y + sy < 0 || j < 0 || j >= NSTRIP)
            continue;
        const uint8_t *row = page_row(p, y);
        for (size_t i = 0; i < p->stride; i += 8) {
            uint64_t w = page_load64(row + i);
            while (w) {
                int b = __builtin_clzll(w);
                v[(size_t)j * p->width + i * 8 + (size_t)b]++;
                w &= ~(1ull << (63 - b));
            }
        }
    }
    return v;
}

/* Sub-pixel shift d in [-D, D] maximising the normalised correlation of
 * r[y] with c[y - base - d]; returns the correlation or -1 if none. */
static double corr_peak(const int *r, int nr, const int *c, int nc, int base,
                        int D, double *dout)
{
    double mr = 0, mc = 0, vr = 0, vc = 0, s[2 * 64 + 1];
    for (int y = 0; y < nr; y++)
        mr += r[y];
    for (int y = 0; y < nc; y++)
        mc += c[y];
    mr /= nr;
    mc /= nc;
    for (int y = 0; y < nr; y++)
        vr += (r[y] - mr) * (r[y] - mr);
    for (int y = 0; y < nc; y++)
        vc += (c[y] - mc) * (c[y] - mc);
    if (vr <= 0 || vc <= 0 || D > 64)
        return -1;
    int best = 0;
    for (int d = -D; d <= D; d++) {
        double sum = 0;
        for (int y = 0; y < nr; y++) {
            int yc = y - base - d;
            if (yc >= 0 && yc < nc)
                sum += (r[y] - mr) * (c[yc] - mc);
        }
        s[d + D] = sum / sqrt(vr * vc);
        if (s[d + D] > s[best])
            best = d + D;
    }
    if (best == 0 || best == 2 * D)
        return -1;              /* peak on the edge of the search */
    double den = s[best - 1] - 2 * s[best] + s[best + 1];
    double frac = den < 0 ? 0.5 * (s[best - 1] - s[best + 1]) / den : 0;
    *dout = best - D + frac;
    return s[best];
}

/* Least-squares line v = a + b (u - u0) through the valid points, dropping
 * the worst point while it is > max(1, 3 rms) px off; *se = standard error
 * of b.  Returns the number of points kept (< 3: no fit). */
static int fit_line(const double *u, const double *v, bool *ok, int n, double u0,
                    double *a, double *b, double *se)
{
    for (;;) {
        double su = 0, sv = 0, suu = 0, suv = 0;
        int m = 0;
        for (int i = 0; i < n; i++)
            if (ok[i]) {
                su += u[i] - u0;
                sv += v[i];
                suu += (u[i] - u0) * (u[i] - u0);
                suv += (u[i] - u0) * v[i];
                m++;
            }
        if (m < 3)
            return m;
        double det = m * suu - su * su;
        if (det <= 0)
            return 0;
        *b = (m * suv - su * sv) / det;
        *a = (sv - *b * su) / m;
        double ssr = 0, worst = 0;
        int wi = -1;
        for (int i = 0; i < n; i++)
            if (ok[i]) {
                double r = fabs(v[i] - *a - *b * (u[i] - u0));
                ssr += r * r;
                if (r > worst) {
                    worst = r;
                    wi = i;
                }
            }
        double rms = sqrt(ssr / m);
        double sxx = suu - su * su / m;
        *se = sqrt(fmax(ssr / (m > 2 ? m - 2 : 1), 0.0025) / sxx);
        if (worst <= fmax(1.0, 3 * rms) || m <= 3)
            return m;
        ok[wi] = false;
    }
}

struct fine {
    double ox, oy;      /* reference = candidate + (ox, oy) at the centre */
    double delta;       /* remaining counter-clockwise turn of the candidate */
    int nv, nh;         /* strips and bands used */
};

/* Offsets of the NSTRIP strips (vertical: u = x, v = dy) or bands. */
static int strip_offsets(const int *pr, int nr, const int *pc, int nc, int refspan,
                         int base, int D, double *u, double *v, bool *ok)
{
    int good = 0;
    for (int j = 0; j < NSTRIP; j++) {
        double d = 0;
        double q = corr_peak(pr + (size_t)j * nr, nr, pc + (size_t)j * nc, nc,
                             base, D, &d);
        u[j] = (j + 0.5) * refspan / NSTRIP;
        v[j] = base + d;
        ok[j] = q >= 0.3;
        good += ok[j];
    }
    return good;
}

/*
 * fine_align — METHOD 4 on text-only pages: the candidate ct is roughly
 * aligned (reference = candidate + (ox0, oy0)); measures the offsets of
 * 8 vertical strips and 8 horizontal bands within +-16 px (300 dpi), fits
 * lines and returns the translation at the centre and the remaining turn.
 * nv + nh = 0 when nothing could be measured.
 */
static int fine_align(const page *ct, const page *rt, double ox0, double oy0,
                      double dpi, struct fine *f, errbuf *e)
{
    int D = (int)lround(16 * dpi / 300);
    D = D < 4 ? 4 : D > 64 ? 64 : D;
    int sx = (int)lround(ox0), sy = (int)lround(oy0);
    int *pr = strip_rows(rt, rt->width, 0), *pc = strip_rows(ct, rt->width, sx);
    int *qr = band_cols(rt, rt->height, 0), *qc = band_cols(ct, rt->height, sy);
    memset(f, 0, sizeof *f);
    f->ox = ox0;
    f->oy = oy0;
    if (!pr || !pc || !qr || !qc) {
        free(pr), free(pc), free(qr), free(qc);
        return err_set(e, "out of memory");
    }
    double u1[NSTRIP], v1[NSTRIP], u2[NSTRIP], v2[NSTRIP];
    bool ok1[NSTRIP], ok2[NSTRIP];
    strip_offsets(pr, rt->height, pc, ct->height, rt->width, sy, D, u1, v1, ok1);
    strip_offsets(qr, rt->width, qc, ct->width, rt->height, sx, D, u2, v2, ok2);
    free(pr), free(pc), free(qr), free(qc);
    double a1 = 0, b1 = 0, se1 = 0, a2 = 0, b2 = 0, se2 = 0;
    f->nv = fit_line(u1, v1, ok1, NSTRIP, rt->width / 2.0, &a1, &b1, &se1);
    f->nh = fit_line(u2, v2, ok2, NSTRIP, rt->height / 2.0, &a2, &b2, &se2);
    f->nv = f->nv < 3 ? 0 : f->nv;
    f->nh = f->nh < 3 ? 0 : f->nh;
    double w1 = f->nv ? 1 / (se1 * se1) : 0, w2 = f->nh ? 1 / (se2 * se2) : 0;
    if (w1 + w2 > 0)    /* dy = +x tan d, dx = -y tan d */
        f->delta = (w1 * atan(b1) - w2 * atan(b2)) / (w1 + w2) * 180 / M_PI;
    if (getenv("SCOREPAGE_DEBUG"))
        fprintf(stderr, "fine: nv %d dy/dx %.5f deg (se %.5f) nh %d dx/dy %.5f deg (se %.5f)\n",
                f->nv, atan(b1) * 180 / M_PI, se1 * 180 / M_PI, f->nh,
                -atan(b2) * 180 / M_PI, se2 * 180 / M_PI);
    if (f->nv)
        f->oy = a1;
    if (f->nh)
        f->ox = a2;
    return 0;
}

/* ------------------------------------------------------------ the frame */

/*
 * frame_zone — border zone in the reference frame: the mask taken back with
 * the known inverse transform, plus every reference pixel whose source
 * lies outside the scanned frame, dilated by zr.  mback is the mask already
 * taken back; (wu, hu) the scanned frame turned back upright; the content
 * in the scan is the reference turned counter-clockwise by skew about the
 * centres, so reference pixel p comes from c_u + R_ccw(skew) (p - c_r).
 */
static int frame_zone(const page *mback, int wu, int hu, double skew, int zr,
                      page *zone, errbuf *e)
{
    page z = { 0 };
    if (page_copy(&z, mback, e) < 0)
        return -1;
    double t = skew * M_PI / 180, c = cos(t), s = sin(t);
    double cxr = z.width / 2.0, cyr = z.height / 2.0;
    for (int y = 0; y < z.height; y++) {
        double v = y + 0.5 - cyr;
        /* ux = wu/2 + u c + v s, uy = hu/2 - u s + v c, u = x + 0.5 - cxr */
        double lo = -1e9, hi = 1e9;
        double coef[2] = { c, -s }, off[2] = { wu / 2.0 + v * s, hu / 2.0 + v * c };
        double lim[2] = { wu, hu };
        for (int k = 0; k < 2; k++) {
            if (fabs(coef[k]) < 1e-12) {
                if (off[k] < 0 || off[k] >= lim[k])
                    lo = 1e9;
                continue;
            }
            double u0 = (0 - off[k]) / coef[k], u1 = (lim[k] - off[k]) / coef[k];
            lo = fmax(lo, fmin(u0, u1));
            hi = fmin(hi, fmax(u0, u1));
        }
        /* covered: lo <= x + 0.5 - cxr < hi */
        int x0 = (int)ceil(lo + cxr - 0.5), x1 = (int)ceil(hi + cxr - 0.5);
        x0 = x0 < 0 ? 0 : x0 > z.width ? z.width : x0;
        x1 = x1 < x0 ? x0 : x1 > z.width ? z.width : x1;
        page_fill_rect(&z, 0, y, x0, 1, 1);
        page_fill_rect(&z, x1, y, z.width - x1, 1, 1);
    }
    int rc = page_dilate(&z, zr, zone, e);
    page_free(&z);
    return rc;
}

/* ------------------------------------------------------------ one page */

struct opts {
    const char *truth, *outputs, *pattern, *report, *tsv, *summary, *json, *ids, *dump;
    bool packs;
    int jobs;
};

struct result {
    bool ok;                    /* aligned (align_f >= 0.5) */
    char err[300];
    int turn;                   /* clockwise quarter turns that aligned it */
    bool orient_ok;
    double align_f, orient_margin, resid;
    bool has_rep, rep_orient_ok;
    double rep_err;
    uint64_t ref_px, lost, in_lost, border, in_border, noise, in_noise;
    uint64_t noise_att, in_noise_att;   /* speck pixels stuck to text */
    double ox, oy, ms;
};

/* What a page is compared with: reference (full and text-only, dilated),
 * the border zone, all in the reference frame. */
struct refside {
    page ref, rt, rd, zone;
    page seen;          /* reference ink outside the border zone */
    double dpi, skew_ref;
    int tol, runlen;
    char dump[2200];    /* --dump: path prefix for the metric images */
};

static void refside_free(struct refside *s)
{
    page_free(&s->ref);
    page_free(&s->rt);
    page_free(&s->rd);
    page_free(&s->zone);
    page_free(&s->seen);
}

/* Takes page p (in its file's frame) back to the reference frame with the
 * known transform; *outside = ink that falls off the reference frame. */
static int take_back(const page *p, const struct truth *t, const page *ref,
                     page *out, uint64_t *outside, errbuf *e)
{
    page up = { 0 };
    if (page_turn(p, (4 - t->orient / 90) % 4, &up, e) < 0)
        return -1;
    int rc = page_rotate(&up, -t->skew, ref->width, ref->height, out, e);
    if (rc == 0 && outside)
        *outside = page_count_black(&up) - page_count_black(out);
    page_free(&up);
    return rc;
}

/* --dump: writes PREFIX-out.tif (the aligned output), -lost, -border and
 * -noise (the pixels each metric counts), all in the reference frame. */
static int dump_metrics(const char *prefix, const page *p, const page *pd,
                        const page *spur, const struct refside *s, errbuf *e)
{
    page lost = { 0 }, bz = { 0 }, nz = { 0 };
    char path[2400];
    int rc = -1;
    if (page_copy(&lost, &s->seen, e) < 0 || page_copy(&bz, spur, e) < 0 ||
        page_copy(&nz, spur, e) < 0)
        goto out;
    bits_andnot(&lost, &lost, pd);
    bits_andnot(&nz, &nz, &s->zone);
    bits_andnot(&bz, &bz, &nz);
    const char *what[4] = { "out", "lost", "border", "noise" };
    const page *pg[4] = { p, &lost, &bz, &nz };
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s-%s.tif", prefix, what[i]);
        if (sio_write_page(path, pg[i], e) < 0)
            goto out;
    }
    rc = 0;
out:
    page_free(&lost);
    page_free(&bz);
    page_free(&nz);
    return rc;
}

/* 1 if a pixel 8-adjacent to (x, y) is set in k. */
static int touches(const page *k, int x, int y)
{
    for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++) {
            int u = x + dx, v = y + dy;
            if (u >= 0 && v >= 0 && u < k->width && v < k->height && page_get(k, u, v))
                return 1;
        }
    return 0;
}

struct stack {
    int *v;
    size_t n, cap;      /* points (x, y) */
};

static int push(struct stack *s, int x, int y)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 4096;
        int *nv = realloc(s->v, sizeof *nv * 2 * cap);
        if (nv == NULL)
            return -1;
        s->v = nv;
        s->cap = cap;
    }
    s->v[2 * s->n] = x;
    s->v[2 * s->n + 1] = y;
    s->n++;
    return 0;
}

/* Clears the 8-connected component of nz at (x, y); *size = its pixels,
 * *att = 1 if one of them touches keep. */
static int flood(page *nz, const page *keep, int x, int y, struct stack *st,
                 uint64_t *size, int *att)
{
    *size = 0;
    *att = 0;
    page_set(nz, x, y, 0);
    if (push(st, x, y) < 0)
        return -1;
    while (st->n > 0) {
        st->n--;
        int cx = st->v[2 * st->n], cy = st->v[2 * st->n + 1];
        (*size)++;
        *att |= !*att && touches(keep, cx, cy);
        for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++) {
                int u = cx + dx, v = cy + dy;
                if (u < 0 || v < 0 || u >= nz->width || v >= nz->height ||
                    !page_get(nz, u, v))
                    continue;
                page_set(nz, u, v, 0);
                if (push(st, u, v) < 0)
                    return -1;
            }
    }
    return 0;
}

/*
 * attached_noise — noise pixels (nz, cleared on the way) 8-connected to
 * ink of p that is not spurious (spur), i.e. speck parts stuck to text:
 * each noise component is flood-filled (only noise pixels are visited) and
 * counted if any of its pixels touches kept ink.
 */
static int attached_noise(const page *p, const page *spur, page *nz,
                          uint64_t *n, errbuf *e)
{
    page keep = { 0 };
    struct stack st = { 0 };
    int rc = 0;
    if (page_copy(&keep, p, e) < 0)
        return -1;
    bits_andnot(&keep, &keep, spur);
    *n = 0;
    for (int y = 0; y < nz->height && rc == 0; y++) {
        const uint8_t *row = page_row(nz, y);
        for (size_t i = 0; i < nz->stride && rc == 0; i += 8) {
            uint64_t w;
            while (rc == 0 && (w = page_load64(row + i)) != 0) {
                uint64_t size;
                int att;
                rc = flood(nz, &keep, (int)(i * 8) + __builtin_clzll(w), y, &st,
                           &size, &att);
                *n += att ? size : 0;
            }
        }
    }
    free(st.v);
    page_free(&keep);
    return rc < 0 ? err_set(e, "out of memory") : 0;
}

struct pixcounts {
    uint64_t lost, border, noise, noise_attached;
};

/* spurious ink of p (placed in the reference frame) split into border zone
 * and the rest; lost reference ink.  dump: see dump_metrics (or NULL). */
static int pixel_metrics(const page *p, const struct refside *s,
                         struct pixcounts *c, const char *dump, errbuf *e)
{
    page pd = { 0 }, spur = { 0 }, nz = { 0 };
    int rc = -1;
    if (page_dilate(p, s->tol, &pd, e) < 0 || page_copy(&spur, p, e) < 0)
        goto out;
    c->lost = bits_count_and(&s->seen, &pd, true);
    bits_andnot(&spur, p, &s->rd);
    c->border = bits_count_and(&spur, &s->zone, false);
    c->noise = bits_count_and(&spur, &s->zone, true);
    if (page_copy(&nz, &spur, e) < 0)
        goto out;
    bits_andnot(&nz, &nz, &s->zone);
    if (attached_noise(p, &spur, &nz, &c->noise_attached, e) < 0)
        goto out;
    rc = dump ? dump_metrics(dump, p, &pd, &spur, s, e) : 0;
out:
    page_free(&pd);
    page_free(&spur);
    page_free(&nz);
    return rc;
}

static char *join_path(const char *dir, const char *name, char *buf, size_t n)
{
    if (name[0] == '/' || dir == NULL || dir[0] == '\0')
        snprintf(buf, n, "%s", name);
    else
        snprintf(buf, n, "%s/%s", dir, name);
    return buf;
}

/* Loads the reference side and the input baseline of truth t. */
static int load_refside(const struct truth *t, const char *base, struct refside *s,
                        struct result *r, errbuf *e)
{
    char path[2200];
    page in = { 0 }, mask = { 0 }, back = { 0 }, mback = { 0 };
    uint64_t out_in = 0;
    struct pixcounts pc;
    int rc = -1;
    memset(s, 0, sizeof *s);
    s->dpi = t->dpi;
    s->tol = (int)lround(2 * t->dpi / 300) < 1 ? 1 : (int)lround(2 * t->dpi / 300);
    s->runlen = (int)lround(60 * t->dpi / 300);
    if (sio_read_page(join_path(base, t->ref, path, sizeof path), 0, t->dpi, &s->ref, e) < 0 ||
        sio_read_page(join_path(base, t->mask, path, sizeof path), 0, t->dpi, &mask, e) < 0 ||
        sio_read_page(join_path(base, t->file, path, sizeof path), 0, t->dpi, &in, e) < 0)
        goto out;
    if (s->ref.width > MAX_SIDE || s->ref.height > MAX_SIDE ||
        in.width > MAX_SIDE || in.height > MAX_SIDE) {
        err_set(e, "%s: page larger than %d px", t->id, MAX_SIDE);
        goto out;
    }
    int wu = t->orient % 180 ? in.height : in.width;
    int hu = t->orient % 180 ? in.width : in.height;
    if (take_back(&mask, t, &s->ref, &mback, NULL, e) < 0 ||
        frame_zone(&mback, wu, hu, t->skew, (int)lround(6 * t->dpi / 300), &s->zone, e) < 0 ||
        page_dilate(&s->ref, s->tol, &s->rd, e) < 0 ||
        page_copy(&s->seen, &s->ref, e) < 0 ||
        (bits_andnot(&s->seen, &s->seen, &s->zone), 0) ||
        page_text_only(&s->ref, s->runlen, &s->rt, e) < 0 ||
        take_back(&in, t, &s->ref, &back, &out_in, e) < 0 ||
        pixel_metrics(&back, s, &pc, NULL, e) < 0)
        goto out;
    r->in_lost = pc.lost;
    r->in_border = pc.border;
    r->in_noise = pc.noise;
    r->in_noise_att = pc.noise_attached;
    r->in_border += out_in;
    r->ref_px = page_count_black(&s->seen);
    s->skew_ref = skew_estimate(&s->rt);
    rc = 0;
out:
    page_free(&in);
    page_free(&mask);
    page_free(&back);
    page_free(&mback);
    if (rc < 0)
        refside_free(s);
    return rc;
}

struct candidate {
    int q, dx4, dy4;
    double angle, f, margin;
};

/* Tries the 4 quarter turns of text-only output ot (METHOD 3). */
static int choose_turn(const page *ot, const struct refside *s,
                       struct candidate *best, errbuf *e)
{
    page t1 = { 0 }, sm[2] = { { 0 }, { 0 } }, rs = { 0 };
    int rc = -1;
    double second = -1, ang[2];
    best->f = -1;
    if (page_turn(ot, 1, &t1, e) < 0 || page_reduce4(ot, &sm[0], e) < 0 ||
        page_reduce4(&t1, &sm[1], e) < 0 || page_reduce4(&s->rt, &rs, e) < 0)
        goto out;
    ang[0] = skew_estimate(ot) - s->skew_ref;
    ang[1] = skew_estimate(&t1) - s->skew_ref;
    for (int q = 0; q < 4; q++) {
        page tq = { 0 }, rot = { 0 };
        int dx = 0, dy = 0;
        double f = -1;
        if (page_turn(&sm[q & 1], q & 2, &tq, e) == 0 &&
            page_rotate(&tq, -ang[q & 1], tq.width, tq.height, &rot, e) == 0)
            f = align_small(&rot, &rs, &dx, &dy, e);
        page_free(&tq);
        page_free(&rot);
        if (f < 0)
            goto out;
        if (f > best->f) {
            second = best->f;
            *best = (struct candidate){ q, dx, dy, ang[q & 1], f, 0 };
        } else if (f > second) {
            second = f;
        }
    }
    best->margin = best->f - second;
    rc = 0;
out:
    page_free(&t1);
    page_free(&sm[0]);
    page_free(&sm[1]);
    page_free(&rs);
    return rc;
}

/* F of the aligned text-only candidate against the text-only reference. */
static double text_f(const page *ct, long ox, long oy, const struct refside *s,
                     errbuf *e)
{
    page p = { 0 }, pd = { 0 }, rtd = { 0 };
    double f = -1;
    if (page_new(&p, s->ref.width, s->ref.height, &s->ref, e) == 0) {
        page_place(ct, ox, oy, &p);
        if (page_dilate(&p, s->tol, &pd, e) == 0 &&
            page_dilate(&s->rt, s->tol, &rtd, e) == 0) {
            uint64_t nr = page_count_black(&s->rt), nc = page_count_black(ct);
            double rec = nr ? (double)bits_count_and(&s->rt, &pd, false) / nr : 0;
            double pre = nc ? (double)bits_count_and(&p, &rtd, false) / nc : 0;
            f = rec + pre > 0 ? 2 * rec * pre / (rec + pre) : 0;
        }
    }
    page_free(&p);
    page_free(&pd);
    page_free(&rtd);
    return f;
}

/* Aligns the output (turn, rotation, translation) and measures it. */
static int score_output(const page *out, const struct refside *s,
                        struct result *r, errbuf *e)
{
    page ot = { 0 }, oq = { 0 }, c = { 0 }, ct = { 0 }, p = { 0 };
    struct candidate cand = { 0 };
    struct fine f;
    int rc = -1;
    if (page_text_only(out, s->runlen, &ot, e) < 0 ||
        choose_turn(&ot, s, &cand, e) < 0 || page_turn(out, cand.q, &oq, e) < 0)
        goto done;
    /* A turn by less than ~0.05 deg moves no pixel of a page (the shears
     * round to whole pixels), so a small remainder is measured, not
     * applied: residual = angle applied + remainder measured after it. */
    double applied = cand.angle, delta = 0;
    double ox = 4.0 * cand.dx4, oy = 4.0 * cand.dy4;
    for (int pass = 0; pass < 3; pass++) {
        page_free(&c);
        page_free(&ct);
        if (page_rotate(&oq, -applied, oq.width, oq.height, &c, e) < 0 ||
            page_text_only(&c, s->runlen, &ct, e) < 0 ||
            fine_align(&ct, &s->rt, ox, oy, s->dpi, &f, e) < 0)
            goto done;
        delta = 0;
        if (f.nv + f.nh == 0)
            break;
        ox = f.ox;
        oy = f.oy;
        delta = f.delta;
        if (fabs(delta) <= 0.05)
            break;
        applied += delta;
    }
    r->turn = cand.q;
    r->orient_ok = cand.q == 0;
    r->orient_margin = cand.margin;
    r->resid = applied + delta;
    r->ox = ox;
    r->oy = oy;
    r->align_f = text_f(&ct, lround(ox), lround(oy), s, e);
    if (r->align_f < 0 || page_new(&p, s->ref.width, s->ref.height, &s->ref, e) < 0)
        goto done;
    /* ink turned off the candidate's frame or placed off the reference's */
    uint64_t outside = page_count_black(&oq) - page_count_black(&c) +
                       page_place(&c, lround(ox), lround(oy), &p);
    struct pixcounts pc;
    if (pixel_metrics(&p, s, &pc, s->dump[0] ? s->dump : NULL, e) < 0)
        goto done;
    r->lost = pc.lost;
    r->border = pc.border;
    r->noise = pc.noise;
    r->noise_att = pc.noise_attached;
    r->border += outside;
    r->ok = r->align_f >= 0.5;
    rc = 0;
done:
    page_free(&ot);
    page_free(&oq);
    page_free(&c);
    page_free(&ct);
    page_free(&p);
    return rc;
}

/* ------------------------------------------------------------ files */

/* Pack name of a truth entry without directory and extension. */
static void pack_stem(const struct truth *t, char *buf, size_t n)
{
    const char *b = strrchr(t->pack, '/');
    snprintf(buf, n, "%s", b ? b + 1 : t->pack);
    char *dot = strrchr(buf, '.');
    if (dot)
        *dot = '\0';
}

/* Expands {id} and {pack} in pattern. */
static void expand(const char *pat, const struct truth *t, char *buf, size_t n)
{
    char stem[1024];
    pack_stem(t, stem, sizeof stem);
    size_t k = 0;
    for (const char *p = pat; *p && k + 1 < n; ) {
        const char *v = NULL;
        if (strncmp(p, "{id}", 4) == 0)
            v = t->id, p += 4;
        else if (strncmp(p, "{pack}", 6) == 0)
            v = stem, p += 6;
        if (v)
            k += (size_t)snprintf(buf + k, n - k, "%s", v);
        else
            buf[k++] = *p++;
        k = k < n ? k : n - 1;
    }
    buf[k] = '\0';
}

/* Finds and reads the output page of truth t. */
static int read_output(const struct opts *o, const struct truth *t, const char *base,
                       page *pg, errbuf *e)
{
    char path[2200], name[1200];
    if (o->outputs == NULL)
        return sio_read_page(join_path(base, t->file, path, sizeof path), 0, t->dpi, pg, e);
    if (o->packs) {
        if (t->pack[0] == '\0')
            return err_set(e, "%s: no pack in the truth", t->id);
        expand("{pack}.tif", t, name, sizeof name);
        return sio_read_page(join_path(o->outputs, name, path, sizeof path),
                             t->pack_page, t->dpi, pg, e);
    }
    static const char *const tries[] = { "{id}.tif", "{id}.tiff", "{id}.pbm", "{id}.pgm" };
    for (int i = 0; i < (o->pattern ? 1 : 4); i++) {
        expand(o->pattern ? o->pattern : tries[i], t, name, sizeof name);
        join_path(o->outputs, name, path, sizeof path);
        if (access(path, R_OK) == 0)
            return sio_read_page(path, 0, t->dpi, pg, e);
    }
    return err_set(e, "%s: no output found in %s", t->id, o->outputs);
}

/* The tool's own report for the page: "skew" and "orientation". */
static void read_report(const struct opts *o, const struct truth *t, struct result *r)
{
    char name[1200], path[2200];
    expand(o->report, t, name, sizeof name);
    join_path(o->outputs, name, path, sizeof path);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    bool in_pack = strstr(o->report, "{pack}") != NULL;
    char *line = NULL;
    size_t cap = 0;
    for (int n = 0; getline(&line, &cap, f) > 0; n++) {
        double idx = n, skew, orient;
        if (json_num(line, "page", &idx) < 0)
            json_num(line, "index", &idx);
        if (in_pack && (int)idx != t->pack_page)
            continue;
        if (json_num(line, "skew", &skew) == 0) {
            r->has_rep = true;
            r->rep_err = skew - t->skew;
            r->rep_orient_ok = json_num(line, "orientation", &orient) == 0 &&
                               ((int)orient + t->orient) % 360 == 0;
        }
        break;
    }
    free(line);
    fclose(f);
}

static double thread_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Scores one page; failures are recorded in r->err. */
static void score_one(const struct opts *o, const struct truth *t, const char *base,
                      struct result *r)
{
    double t0 = thread_ms();
    struct refside s;
    page out = { 0 };
    errbuf e = { "" };
    memset(r, 0, sizeof *r);
    if (load_refside(t, base, &s, r, &e) < 0) {
        snprintf(r->err, sizeof r->err, "%s", e.msg);
        return;
    }
    if (o->dump)
        snprintf(s.dump, sizeof s.dump, "%s/%s", o->dump, t->id);
    if (read_output(o, t, base, &out, &e) < 0 ||
        (out.width > MAX_SIDE || out.height > MAX_SIDE
         ? err_set(&e, "%s: output larger than %d px", t->id, MAX_SIDE) : 0) < 0 ||
        score_output(&out, &s, r, &e) < 0)
        snprintf(r->err, sizeof r->err, "%s", e.msg);
    if (o->report)
        read_report(o, t, r);
    page_free(&out);
    refside_free(&s);
    r->ms = thread_ms() - t0;
}

/* ------------------------------------------------------------ the run */

struct job {
    const struct opts *o;
    const struct truth *t;
    const char *base;
    struct result *r;
    int n;
    atomic_int next;
};

static void *worker(void *arg)
{
    struct job *j = arg;
    for (int i; (i = atomic_fetch_add(&j->next, 1)) < j->n; )
        score_one(j->o, &j->t[i], j->base, &j->r[i]);
    return NULL;
}

static double pct(uint64_t a, uint64_t b)
{
    return b ? 100.0 * (double)a / (double)b : 0;
}

static double lost_excess(const struct result *r)
{
    return r->ref_px ? 100.0 * ((double)r->lost - (double)r->in_lost) / r->ref_px : 0;
}

static void print_row(FILE *f, const struct truth *t, const struct result *r)
{
    fprintf(f, "%s\t%d\t%d\t%d\t%.4f\t", t->id, r->ok, r->orient_ok, r->turn * 90,
            r->resid);
    if (r->has_rep)
        fprintf(f, "%.4f\t%d\t", r->rep_err, r->rep_orient_ok);
    else
        fprintf(f, "-\t-\t");
    fprintf(f, "%.3f\t%.3f\t%llu\t%llu\t%llu\t%.4f\t%llu\t%llu\t%.4f\t%llu\t%llu\t"
            "%.3f\t%llu\t%llu\t%.1f\t%.1f\t%.1f\t%s\n", r->align_f, r->orient_margin,
            (unsigned long long)r->ref_px, (unsigned long long)r->lost,
            (unsigned long long)r->in_lost, lost_excess(r),
            (unsigned long long)r->border, (unsigned long long)r->in_border,
            pct(r->border, r->in_border), (unsigned long long)r->noise,
            (unsigned long long)r->in_noise, pct(r->noise, r->in_noise),
            (unsigned long long)r->noise_att, (unsigned long long)r->in_noise_att,
            r->ox, r->oy, r->ms, r->err[0] ? r->err : "-");
}

static const char tsv_header[] =
    "id\tok\torient_ok\tturn\tresid_skew\trep_skew_err\trep_orient_ok\talign_f\t"
    "orient_margin\tref_px\tlost_px\tin_lost_px\tlost_excess_pct\tborder_px\t"
    "in_border_px\tborder_left_pct\tnoise_px\tin_noise_px\tspeck_left_pct\t"
    "noise_attached_px\tin_noise_attached_px\tdx\tdy\tms\terror\n";

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile p (0..1) of v[0..n-1] (sorted in place). */
static double percentile(double *v, int n, double p)
{
    if (n == 0)
        return NAN;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    int k = (int)ceil(p * n) - 1;
    return v[k < 0 ? 0 : k >= n ? n - 1 : k];
}

struct summary {
    int n, ok, orient_right, nrep, rep_orient_right;
    double resid_med, resid_p95, resid_max, rep_med, rep_p95;
    double border_left, speck_left, speck_left_iso, speck_att_share;
    double lost_med, lost_p90, lost_max, ms;
};

static void summarize(const struct result *r, int n, struct summary *s)
{
    double *res = calloc((size_t)n + 1, sizeof *res), *rep = calloc((size_t)n + 1, sizeof *rep);
    double *lost = calloc((size_t)n + 1, sizeof *lost);
    uint64_t b = 0, ib = 0, no = 0, ino = 0, na = 0, ina = 0;
    memset(s, 0, sizeof *s);
    s->n = n;
    for (int i = 0; res && rep && lost && i < n; i++) {
        s->ms += r[i].ms / n;
        s->orient_right += r[i].ok && r[i].orient_ok;
        if (r[i].has_rep) {
            rep[s->nrep++] = fabs(r[i].rep_err);
            s->rep_orient_right += r[i].rep_orient_ok;
        }
        if (!r[i].ok)
            continue;
        res[s->ok] = fabs(r[i].resid);
        lost[s->ok++] = lost_excess(&r[i]);
        b += r[i].border, ib += r[i].in_border, no += r[i].noise, ino += r[i].in_noise;
        na += r[i].noise_att, ina += r[i].in_noise_att;
    }
    s->resid_med = percentile(res, s->ok, 0.5);
    s->resid_p95 = percentile(res, s->ok, 0.95);
    s->resid_max = percentile(res, s->ok, 1.0);
    s->rep_med = percentile(rep, s->nrep, 0.5);
    s->rep_p95 = percentile(rep, s->nrep, 0.95);
    s->lost_med = percentile(lost, s->ok, 0.5);
    s->lost_p90 = percentile(lost, s->ok, 0.9);
    s->lost_max = percentile(lost, s->ok, 1.0);
    s->border_left = pct(b, ib);
    s->speck_left = pct(no, ino);
    s->speck_left_iso = pct(no - na, ino - ina);
    s->speck_att_share = pct(ina, ino);
    free(res);
    free(rep);
    free(lost);
}

/* key<TAB>value lines (for shell scripts) or one JSON object. */
static void print_summary(FILE *f, const struct summary *s, bool json)
{
    const char *k[] = { "pages", "aligned", "orient_right", "resid_skew_median",
        "resid_skew_p95", "resid_skew_max", "reported", "rep_skew_err_median",
        "rep_skew_err_p95", "rep_orient_right", "border_left_pct", "speck_left_pct",
        "speck_left_isolated_pct", "speck_attached_share_pct",
        "lost_pct_median", "lost_pct_p90", "lost_pct_max", "score_ms_per_page" };
    double v[] = { s->n, s->ok, s->orient_right, s->resid_med, s->resid_p95,
        s->resid_max, s->nrep, s->rep_med, s->rep_p95, s->rep_orient_right,
        s->border_left, s->speck_left, s->speck_left_iso, s->speck_att_share,
        s->lost_med, s->lost_p90, s->lost_max, s->ms };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        if (json)
            fprintf(f, "%s\"%s\": ", i ? ", " : "{", k[i]);
        else
            fprintf(f, "%s\t", k[i]);
        if (isnan(v[i]))
            fprintf(f, json ? "null" : "-");
        else
            fprintf(f, "%.6g", v[i]);
        fprintf(f, json ? "" : "\n");
    }
    if (json)
        fprintf(f, "}\n");
}

static void print_human(FILE *f, const struct summary *s)
{
    fprintf(f, "scorepage: %d pages, %d aligned; orientation right %d/%d; "
            "residual skew |median| %.4f p95 %.4f max %.4f deg\n",
            s->n, s->ok, s->orient_right, s->n, s->resid_med, s->resid_p95,
            s->resid_max);
    if (s->nrep)
        fprintf(f, "scorepage: reported skew error |median| %.4f p95 %.4f deg; "
                "reported orientation right %d/%d\n", s->rep_med, s->rep_p95,
                s->rep_orient_right, s->nrep);
    fprintf(f, "scorepage: border left %.4f%%, specks left %.3f%% (isolated specks "
            "%.3f%%; %.1f%% of the input's were stuck to text), content lost median "
            "%.4f%% p90 %.4f%% max %.4f%%; %.0f ms CPU/page\n", s->border_left,
            s->speck_left, s->speck_left_iso, s->speck_att_share, s->lost_med,
            s->lost_p90, s->lost_max, s->ms);
}

/* ------------------------------------------------------------ main */

/* --same A B [--turn Q]: is A turned clockwise by Q exactly B? */
static int same_main(const char *a, const char *b, int turn)
{
    page pa = { 0 }, pb = { 0 }, ta = { 0 };
    errbuf e = { "" };
    int rc = 2;
    if (sio_read_page(a, 0, 300, &pa, &e) < 0 || sio_read_page(b, 0, 300, &pb, &e) < 0 ||
        page_turn(&pa, turn / 90, &ta, &e) < 0) {
        fprintf(stderr, "scorepage: %s\n", e.msg);
        goto out;
    }
    if (ta.width != pb.width || ta.height != pb.height) {
        printf("size %dx%d vs %dx%d\n", ta.width, ta.height, pb.width, pb.height);
        rc = 1;
        goto out;
    }
    uint64_t d = bits_count_and(&ta, &pb, true) + bits_count_and(&pb, &ta, true);
    printf("differ %llu\n", (unsigned long long)d);
    rc = d == 0 ? 0 : 1;
out:
    page_free(&pa);
    page_free(&pb);
    page_free(&ta);
    return rc;
}

/* --timings: per-key statistics of the "ms" objects of JSON Lines reports. */
struct tkey {
    char name[32];
    double *v;
    int n, cap;
};

static int tkey_add(struct tkey *k, double v)
{
    if (k->n == k->cap) {
        int cap = k->cap ? 2 * k->cap : 64;
        double *nv = realloc(k->v, sizeof *nv * (size_t)cap);
        if (nv == NULL)
            return -1;
        k->v = nv;
        k->cap = cap;
    }
    k->v[k->n++] = v;
    return 0;
}

/* Adds the members of one line's "ms" object (and their sum) to keys. */
static int timings_line(const char *line, struct tkey *keys, int *nkeys, int maxkeys)
{
    const char *p = json_find(line, "ms");
    if (p == NULL || *p != '{')
        return 0;
    double total = 0;
    for (p++; *p && *p != '}'; ) {
        const char *q = strchr(p, '"'), *end = q ? strchr(q + 1, '"') : NULL;
        if (end == NULL)
            break;
        char *num;
        const char *c = strchr(end, ':');
        double v = c ? strtod(c + 1, &num) : 0;
        if (c == NULL || num == c + 1)
            break;
        int k = 1;
        while (k < *nkeys && (strlen(keys[k].name) != (size_t)(end - q - 1) ||
                              strncmp(keys[k].name, q + 1, (size_t)(end - q - 1)) != 0))
            k++;
        if (k == *nkeys && k < maxkeys)
            snprintf(keys[(*nkeys)++].name, sizeof keys[k].name, "%.*s",
                     (int)(end - q - 1), q + 1);
        if (k < maxkeys && tkey_add(&keys[k], v) < 0)
            return -1;
        total += v;
        p = num;
        while (*p == ' ' || *p == ',')
            p++;
    }
    return tkey_add(&keys[0], total);
}

static int timings_main(int n, char **files)
{
    struct tkey keys[24];
    int nkeys = 1, rc = 0;
    memset(keys, 0, sizeof keys);
    snprintf(keys[0].name, sizeof keys[0].name, "total");
    for (int i = 0; i < n && rc == 0; i++) {
        FILE *f = fopen(files[i], "r");
        if (f == NULL) {
            fprintf(stderr, "scorepage: %s: %s\n", files[i], strerror(errno));
            rc = 1;
            break;
        }
        char *line = NULL;
        size_t cap = 0;
        while (rc == 0 && getline(&line, &cap, f) > 0)
            if (timings_line(line, keys, &nkeys, 24) < 0)
                rc = 1;
        free(line);
        fclose(f);
    }
    printf("stage\tmedian_ms\tp90_ms\tmean_ms\tpages\n");
    for (int k = 1; k <= nkeys && rc == 0; k++) {
        struct tkey *t = &keys[k % nkeys];     /* stages first, total last */
        double mean = 0;
        for (int i = 0; i < t->n; i++)
            mean += t->v[i] / t->n;
        printf("%s\t%.3f\t%.3f\t%.3f\t%d\n", t->name, percentile(t->v, t->n, 0.5),
               percentile(t->v, t->n, 0.9), mean, t->n);
    }
    for (int k = 0; k < nkeys; k++)
        free(keys[k].v);
    return rc;
}

static void usage(FILE *f)
{
    fprintf(f,
"usage: scorepage --truth DIR/truth.jsonl [--outputs OUTDIR] [--pattern P]\n"
"                 [--packs] [--report P] [--tsv F] [--summary F] [--json F]\n"
"                 [--ids a,b] [-j N] [--dump DIR]\n"
"       scorepage --same A B [--turn Q]\n"
"       scorepage --timings REPORT...\n"
"Scores cleaned pages against the generator's ground truth (residual skew,\n"
"orientation, border and speck pixels left, content lost).  Without --outputs\n"
"the untouched inputs are scored.  Per-page rows go to --tsv (or stdout), the\n"
"summary to stderr, --summary (key<TAB>value) and --json.  Method and limits:\n"
"the top of tests/tools/scorepage.c.  --dump DIR writes, per page, the aligned\n"
"output and the pixels counted as lost, border and noise (ID-*.tif).\n");
}

static int parse_opts(int argc, char **argv, struct opts *o, const char **same,
                      int *turn, bool *timings)
{
    static const struct option lo[] = {
        { "truth", required_argument, NULL, 't' }, { "outputs", required_argument, NULL, 'o' },
        { "pattern", required_argument, NULL, 'p' }, { "packs", no_argument, NULL, 'P' },
        { "report", required_argument, NULL, 'r' }, { "tsv", required_argument, NULL, 'T' },
        { "summary", required_argument, NULL, 's' }, { "json", required_argument, NULL, 'J' },
        { "ids", required_argument, NULL, 'i' }, { "same", required_argument, NULL, 'S' },
        { "turn", required_argument, NULL, 'q' }, { "help", no_argument, NULL, 'h' },
        { "timings", no_argument, NULL, 'M' }, { "dump", required_argument, NULL, 'D' },
        { NULL, 0, NULL, 0 },
    };
    int opt;
    o->jobs = 1;
    while ((opt = getopt_long(argc, argv, "j:h", lo, NULL)) != -1) {
        switch (opt) {
        case 't': o->truth = optarg; break;
        case 'o': o->outputs = optarg; break;
        case 'p': o->pattern = optarg; break;
        case 'P': o->packs = true; break;
        case 'r': o->report = optarg; break;
        case 'T': o->tsv = optarg; break;
        case 's': o->summary = optarg; break;
        case 'J': o->json = optarg; break;
        case 'i': o->ids = optarg; break;
        case 'S': *same = optarg; break;
        case 'q': *turn = atoi(optarg); break;
        case 'M': *timings = true; break;
        case 'D': o->dump = optarg; break;
        case 'j': o->jobs = atoi(optarg); break;
        case 'h': usage(stdout); exit(0);
        default: return -1;
        }
    }
    if (*timings)
        return argc > optind ? 0 : -1;
    if (*same)
        return argc - optind == 1 && *turn % 90 == 0 && *turn >= 0 ? 0 : -1;
    return o->truth && argc == optind && o->jobs >= 1 && o->jobs <= 64 ? 0 : -1;
}

/* Keeps only the pages named in ids (comma-separated). */
static int filter_ids(struct truth *t, int n, const char *ids)
{
    int k = 0;
    for (int i = 0; i < n; i++) {
        size_t l = strlen(t[i].id);
        for (const char *p = ids; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
            if (strncmp(p, t[i].id, l) == 0 && (p[l] == ',' || p[l] == '\0')) {
                t[k++] = t[i];
                break;
            }
    }
    return k;
}

static int run_pages(const struct opts *o, const struct truth *t, int n,
                     const char *base, struct result *r)
{
    struct job j = { o, t, base, r, n, 0 };
    pthread_t th[64];
    int started = 0;
    for (; started < o->jobs - 1; started++)
        if (pthread_create(&th[started], NULL, worker, &j) != 0)
            break;
    worker(&j);
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    return 0;
}

static int write_outputs(const struct opts *o, const struct truth *t,
                         const struct result *r, int n)
{
    FILE *f = o->tsv ? fopen(o->tsv, "w") : stdout;
    if (f == NULL) {
        fprintf(stderr, "scorepage: %s: %s\n", o->tsv, strerror(errno));
        return -1;
    }
    fputs(tsv_header, f);
    for (int i = 0; i < n; i++)
        print_row(f, &t[i], &r[i]);
    if (f != stdout && fclose(f) != 0)
        return -1;
    struct summary s;
    summarize(r, n, &s);
    print_human(stderr, &s);
    const char *files[2] = { o->summary, o->json };
    for (int k = 0; k < 2; k++) {
        if (files[k] == NULL)
            continue;
        FILE *g = fopen(files[k], "w");
        if (g == NULL) {
            fprintf(stderr, "scorepage: %s: %s\n", files[k], strerror(errno));
            return -1;
        }
        print_summary(g, &s, k == 1);
        if (fclose(g) != 0)
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o = { 0 };
    const char *same = NULL;
    int turn = 0;
    bool timings = false;
    if (parse_opts(argc, argv, &o, &same, &turn, &timings) < 0) {
        usage(stderr);
        return 2;
    }
    if (timings)
        return timings_main(argc - optind, argv + optind);
    if (same)
        return same_main(same, argv[optind], turn);
    errbuf e = { "" };
    struct truth *t = NULL;
    int n = 0;
    if (load_truth(o.truth, &t, &n, &e) < 0) {
        fprintf(stderr, "scorepage: %s\n", e.msg);
        return 1;
    }
    if (o.ids)
        n = filter_ids(t, n, o.ids);
    char base[2048];
    snprintf(base, sizeof base, "%s", o.truth);
    char *slash = strrchr(base, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(base, sizeof base, ".");
    struct result *r = calloc((size_t)n + 1, sizeof *r);
    if (r == NULL) {
        fprintf(stderr, "scorepage: out of memory\n");
        free(t);
        return 1;
    }
    run_pages(&o, t, n, base, r);
    int rc = write_outputs(&o, t, r, n) < 0 ? 1 : 0;
    for (int i = 0; i < n; i++)
        if (r[i].err[0]) {
            fprintf(stderr, "scorepage: %s\n", r[i].err);
            rc = 1;
        }
    free(r);
    free(t);
    return rc;
}
