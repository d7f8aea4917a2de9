/*
 * orient.c — orientation detection (0/90/180/270) of text pages on a
 * reduced copy (about 150 dpi): the direction of the text lines from two
 * skew sweeps, up or down from ascenders against descenders; and the orient
 * stage, which turns confident pages upright.
 */
#include "orient.h"
#include "rotate.h"
#include "skew.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One candidate reading direction: the reduced page turned so that text
 * lines would be horizontal, its edge map, sweep and line analysis. */
struct cand {
    page pg;
    struct skew_sweep sw;
    double angle;       /* refined skew */
    double up, down;    /* edges in the zones above / below the line cores */
    int lines;          /* line cores measured */
    int votes_up, votes_down;
};

static void cand_free(struct cand *c)
{
    page_free(&c->pg);
}

/*
 * Ascenders against descenders along the text lines of one profile p[0..n)
 * (edges per row of one column region, sheared straight).  A line core
 * (the x-height band) is a run of rows at >= half the largest value within
 * +-win rows; the zones of 0.6 core heights above and below it, cut at the
 * middle of the gap to the neighbouring core, hold the ascenders (b d f h k
 * l t, capitals, digits) and descenders (g j p q y) of upright Latin text,
 * about 4 ascender strokes to 1 descender stroke.  Up and down are treated
 * exactly alike, so text-free structure gives no bias.
 */
#define MAX_CORES 512

static void line_zones(const float *p, int n, int win, float floor_v,
                       struct cand *c)
{
    int ca[MAX_CORES], cb[MAX_CORES], nc = 0;
    int i = 0;
    while (i < n && nc < MAX_CORES) {
        float lm = 0;
        int a0 = i - win < 0 ? 0 : i - win, a1 = i + win >= n ? n - 1 : i + win;
        for (int k = a0; k <= a1; k++)
            if (p[k] > lm)
                lm = p[k];
        if (lm < floor_v || p[i] < 0.5f * lm) {
            i++;
            continue;
        }
        ca[nc] = i;
        while (i < n && p[i] >= 0.5f * lm)
            i++;
        cb[nc++] = i - 1;
    }
    for (int j = 0; j < nc; j++) {
        int a = ca[j], b = cb[j], h = b - a + 1;
        if (h < 2 || h > 2 * win / 3)
            continue;
        int z = (int)lround(0.6 * h);
        int lo = a - z, hi = b + z;
        if (j > 0 && lo <= (cb[j - 1] + a) / 2)
            lo = (cb[j - 1] + a) / 2 + 1;
        if (j + 1 < nc && hi >= (b + ca[j + 1] + 1) / 2)
            hi = (b + ca[j + 1] + 1) / 2 - 1;
        double up = 0, down = 0;
        for (int k = lo < 0 ? 0 : lo; k < a; k++)
            up += p[k];
        for (int k = b + 1; k <= hi && k < n; k++)
            down += p[k];
        c->up += up;
        c->down += down;
        c->lines++;
        if (up > 1.5 * down)
            c->votes_up++;
        else if (down > 1.5 * up)
            c->votes_down++;
    }
}

/* Line analysis of a candidate: profiles sheared by its skew, summed over
 * column regions of 4 strips (256 reduced pixels, so that the columns of a
 * multi-column page are measured apart); `win` is about a line pitch. */
static int analyse_lines(struct cand *c, int win, errbuf *e)
{
    struct strip_prof sp;
    if (strip_prof_build(&sp, &c->pg, MAP_EDGES, 1, tan(c->angle * M_PI / 180),
                         2, e) < 0)
        return -1;
    float *reg = malloc((size_t)sp.nbins * sizeof *reg);
    if (reg == NULL) {
        strip_prof_free(&sp);
        return err_set(e, "out of memory");
    }
    const int per = 4;
    for (int s0 = 0; s0 < sp.nstrips; s0 += per) {
        memset(reg, 0, (size_t)sp.nbins * sizeof *reg);
        for (int s = s0; s < s0 + per && s < sp.nstrips; s++)
            for (int i = 0; i < sp.nbins; i++)
                reg[i] += sp.v[(size_t)s * sp.nbins + i];
        line_zones(reg, sp.nbins, win, 8.0f, c);
    }
    free(reg);
    strip_prof_free(&sp);
    return 0;
}

static int cand_build(struct cand *c, const page *red, int turn, double max_skew,
                      errbuf *e)
{
    memset(c, 0, sizeof *c);
    if (page_rotate_quarter(&c->pg, red, turn, e) < 0)
        return -1;
    if (skew_sweep(&c->pg, MAP_EDGES, max_skew + 0.5, 0.5, 4, &c->sw, e) < 0) {
        cand_free(c);
        return -1;
    }
    return 0;
}

/* The page's resolution if it is believable (the page is at most 17
 * inches on its long side), else a guess that makes the long side 11
 * inches: scanners and converters do write 72 or 96 into 300-dpi pages. */
static double plausible_dpi(const page *pg)
{
    double dpi = pg->yres < pg->xres ? pg->yres : pg->xres;
    int side = pg->width > pg->height ? pg->width : pg->height;
    if (dpi > 0 && side / dpi <= 17.0)
        return dpi;
    return side / 11.0;
}

/* Reduces pg to 100-175 dpi (by 2, or by 4 from 350 dpi up); *dpi gets
 * the reduced page's plausible resolution. */
static int reduce_for_orient(page *red, const page *pg, double *dpi, errbuf *e)
{
    if (page_reduce2(red, pg, e) < 0)
        return -1;
    *dpi = plausible_dpi(pg) / 2;
    if (*dpi >= 175 && red->width >= 256 && red->height >= 256) {
        page r4;
        if (page_reduce2(&r4, red, e) < 0) {
            page_free(red);
            return -1;
        }
        page_move(red, &r4);
        *dpi /= 2;
    }
    return 0;
}

/* Skew, line analysis and summary of one candidate.  A direction with
 * lines (line_conf >= 3) gets its skew refined to 0.02 degree first: the
 * zones are a few pixels tall, and on multi-column pages the sweep's
 * estimate can be 0.4 degree off.  Without lines, the vertex of the
 * sweep's parabola will do. */
static int cand_measure(struct cand *c, int win, struct orient_dir *d, errbuf *e)
{
    double sc;
    c->angle = c->sw.vertex;
    if (c->sw.conf >= 3 &&
        skew_refine_sweep(&c->pg, MAP_EDGES, &c->sw, 0.02, &c->angle, &sc, e) < 0)
        return -1;
    if (analyse_lines(c, win, e) < 0)
        return -1;
    d->line_conf = c->sw.conf;
    d->skew = c->angle;
    d->asym = c->up + c->down > 0 ? (c->up - c->down) / (c->up + c->down) : 0;
    int v = c->votes_up + c->votes_down;
    d->vote_asym = (double)(c->votes_up - c->votes_down) / (v + 1);
    d->lines = c->lines;
    return 0;
}

/*
 * The decision.  Direction evidence E = ln(1 + line_conf) + 3 |asym| w,
 * w = min(1, lines / 20): the sweep sharpness says where the lines run,
 * and the zone asymmetry, which is near 0 across character columns,
 * settles pages whose dot leaders or monospace columns make the cross
 * direction sharp too (indexes); w keeps a handful of line-like things
 * from deciding.  Then up or down from the sign of asym.  conf is the
 * smallest of five ratios to their thresholds (so >= 1 means all hold):
 * direction margin / 0.4, |asym| / 0.08, |vote_asym| / 0.15,
 * line_conf / 4, lines / 10.  Sheet music and drawings fail the asymmetry,
 * vote or line tests.
 */
static void decide(struct orient_est *est)
{
    double E[2];
    for (int k = 0; k < 2; k++) {
        const struct orient_dir *d = &est->dir[k];
        E[k] = log(1 + d->line_conf) + 3 * fabs(d->asym) * fmin(1, d->lines / 20.0);
    }
    int k = E[1] > E[0] ? 1 : 0;
    const struct orient_dir *d = &est->dir[k];
    bool up = d->asym >= 0;
    est->cw = k == 0 ? (up ? 0 : 180) : (up ? 90 : 270);
    double c = fabs(E[k] - E[1 - k]) / 0.4;
    c = fmin(c, fabs(d->asym) / 0.08);
    c = fmin(c, fabs(d->vote_asym) / 0.15);
    c = fmin(c, d->line_conf / 4);
    c = fmin(c, d->lines / 10.0);
    est->conf = c;
}

/*
 * Orientation of a text page.  Method: reduce to about 150 dpi; make the
 * two candidate pages (as given, turned 90 degrees clockwise); on each,
 * sweep the skew of edge profiles (+-max_skew, 0.5 degree steps) and
 * refine it where there are lines, then measure ascender and descender
 * zones along the lines straightened by that skew (line_zones); decide.  Cost at 300 dpi A4: two reductions' worth of word
 * operations, two sweeps on 1240x1754 pixels, about 3 ms.  Limits: Latin-
 * like scripts (ascenders outnumber descenders); needs a few lines of
 * text; skew within +-max_skew.
 */
int orient_detect(const page *pg, const struct chain_opts *o,
                  struct orient_est *est, errbuf *e)
{
    memset(est, 0, sizeof *est);
    double max_skew = o->deskew.max_skew > 0 ? o->deskew.max_skew : 15;
    if (max_skew > 30)
        max_skew = 30;
    page red;
    double dpi;
    if (reduce_for_orient(&red, pg, &dpi, e) < 0)
        return -1;
    int win = (int)lround(30 * dpi / 150);
    win = win < 10 ? 10 : win > 80 ? 80 : win;
    struct cand c[2];
    if (cand_build(&c[0], &red, 0, max_skew, e) < 0) {
        page_free(&red);
        return -1;
    }
    if (cand_build(&c[1], &red, 90, max_skew, e) < 0) {
        cand_free(&c[0]);
        page_free(&red);
        return -1;
    }
    page_free(&red);
    int rc = 0;
    for (int k = 0; k < 2 && rc == 0; k++)
        rc = cand_measure(&c[k], win, &est->dir[k], e);
    if (rc == 0)
        decide(est);
    cand_free(&c[0]);
    cand_free(&c[1]);
    return rc;
}

/*
 * The orient stage: turns the page upright when the detector is at least
 * o->orient.min_conf sure, and leaves the skew of the lines of the page it
 * passes on in r->skew / r->skew_conf with r->skew_known set, for the
 * deskew stage to refine instead of searching again.
 */
int orient_stage(page *pg, const struct chain_opts *o, struct page_report *r,
                 errbuf *e)
{
    struct orient_est est;
    if (orient_detect(pg, o, &est, e) < 0)
        return -1;
    r->orientation = 0;
    r->orient_conf = est.conf;
    int k = 0;
    if (est.cw != 0 && est.conf >= o->orient.min_conf) {
        page t;
        if (page_rotate_quarter(&t, pg, est.cw, e) < 0)
            return -1;
        page_move(pg, &t);
        r->orientation = est.cw;
        k = est.cw % 180 ? 1 : 0;
    }
    r->skew = est.dir[k].skew;
    r->skew_conf = est.dir[k].line_conf;
    r->skew_known = true;
    return 0;
}
