/*
 * geomeval.c — measures the geometry stages (orient, deskew) and the skew
 * detector, and their Leptonica counterparts, side by side on image files:
 * one tab-separated line per page with what was found and the thread CPU
 * milliseconds it took.  A measuring instrument for development and
 * benchmarks, not a test.
 *
 *   geomeval [-v] [--lept] [--repeat N] [--max-skew DEG] FILE[:CW]...
 *
 * FILE:CW turns the page clockwise by CW degrees (90/180/270) first;
 * --repeat N runs our stages N times per page and keeps the fastest times
 * (the machine is shared: the minimum is the least disturbed run).
 * Columns: file, page; orient stage: cw applied, conf; deskew stage: skew,
 * conf, rotated (0/1); ms of the orient and deskew stages (including their
 * rotations); skew_find alone on the page as orient passed it on: angle,
 * ms.  With --lept: pixFindSkew on that same page (angle in our sign,
 * conf, ms), pixOrientDetect + makeOrientDecision on the page as read (cw
 * degrees to apply, -1 = undecided, ms), and pixFindSkew's method swept
 * over +-max-skew instead of +-7 degrees (angle, conf, ms).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <leptonica/allheaders.h>

#include "chain.h"
#include "orient.h"
#include "pageio.h"
#include "rotate.h"
#include "skew.h"

static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Leptonica's orientation decision as clockwise degrees to apply. */
static int lept_orient_cw(int orient)
{
    switch (orient) {
    case L_TEXT_ORIENT_UP: return 0;
    case L_TEXT_ORIENT_LEFT: return 90;
    case L_TEXT_ORIENT_DOWN: return 180;
    case L_TEXT_ORIENT_RIGHT: return 270;
    default: return -1;
    }
}

/* Copies our page into a 1-bpp Leptonica PIX (same bit layout per byte;
 * Leptonica keeps 32-bit words in native order). */
static PIX *to_pix(const page *pg)
{
    PIX *pix = pixCreate(pg->width, pg->height, 1);
    if (pix == NULL)
        return NULL;
    l_uint32 *data = pixGetData(pix);
    int wpl = pixGetWpl(pix);
    for (int y = 0; y < pg->height; y++) {
        const uint8_t *row = page_row(pg, y);
        for (int i = 0; i < wpl; i++) {
            uint32_t w = 0;
            for (int b = 0; b < 4; b++) {
                size_t k = (size_t)i * 4 + (size_t)b;
                w = (w << 8) | (k < pg->stride ? row[k] : 0);
            }
            data[(size_t)y * wpl + i] = w;
        }
    }
    pixSetResolution(pix, (int)pg->xres, (int)pg->yres);
    return pix;
}

/* pixFindSkew's method with a sweep of +-range degrees (pixFindSkew
 * itself sweeps +-7), fastest of `repeat` runs. */
static void lept_skew(const page *pg, double range, int repeat)
{
    PIX *pix = to_pix(pg);
    l_float32 angle = 0, conf = 0;
    double best = 1e9;
    for (int i = 0; pix && i < repeat; i++) {
        double t0 = cpu_ms();
        pixFindSkewSweepAndSearch(pix, &angle, &conf, 4, 2, (l_float32)range,
                                  1.0, 0.01);
        best = fmin(best, cpu_ms() - t0);
    }
    printf("\t%.4f\t%.2f\t%.2f", angle, conf, best);
    pixDestroy(&pix);
}

/* pixOrientDetect + makeOrientDecision (default thresholds), fastest of
 * `repeat` runs. */
static void lept_orient(const page *pg, int repeat)
{
    PIX *pix = to_pix(pg);
    l_float32 upconf = 0, leftconf = 0;
    l_int32 orient = 0;
    double best = 1e9;
    for (int i = 0; pix && i < repeat; i++) {
        double t0 = cpu_ms();
        pixOrientDetect(pix, &upconf, &leftconf, 0, 0);
        makeOrientDecision(upconf, leftconf, 0, 0, &orient, 0);
        best = fmin(best, cpu_ms() - t0);
    }
    printf("\t%d\t%.2f", lept_orient_cw(orient), best);
    pixDestroy(&pix);
}

struct timings {
    double orient, deskew, find;
};

/* One run of orient + deskew on a copy of pg, and skew_find on the page as
 * orient passed it on; keeps the fastest times in *t. */
static int run_once(const page *pg, const struct chain_opts *o,
                    struct page_report *r, struct skew_est *se, page *upright,
                    struct timings *t, errbuf *e)
{
    page work = { 0 };
    memset(r, 0, sizeof *r);
    if (page_copy(&work, pg, e) < 0)
        return -1;
    double t0 = cpu_ms();
    int rc = orient_stage(&work, o, r, e);
    double t1 = cpu_ms();
    page_free(upright);
    if (rc == 0)
        rc = page_copy(upright, &work, e);
    double t2 = cpu_ms();
    if (rc == 0)
        rc = deskew_stage(&work, o, r, e);
    double t3 = cpu_ms();
    if (rc == 0)
        rc = skew_find(upright, o->deskew.max_skew, se, e);
    double t4 = cpu_ms();
    page_free(&work);
    t->orient = fmin(t->orient, t1 - t0);
    t->deskew = fmin(t->deskew, t3 - t2);
    t->find = fmin(t->find, t4 - t3);
    return rc;
}

/* Runs orient and deskew on one page (`repeat` times, fastest times kept)
 * and prints its line. */
static int measure_page(const char *path, int index, const page *pg,
                        const struct chain_opts *o, bool lept, bool verbose,
                        int repeat)
{
    errbuf e;
    struct page_report r;
    struct skew_est se;
    struct timings t = { 1e9, 1e9, 1e9 };
    page upright = { 0 };
    if (verbose) {
        struct orient_est est;
        if (orient_detect(pg, o, &est, &e) < 0)
            goto fail;
        for (int k = 0; k < 2; k++)
            fprintf(stderr, "%s: dir %d: line_conf %.2f skew %.3f asym %+.3f "
                    "vote_asym %+.3f lines %d\n", path, 90 * k,
                    est.dir[k].line_conf, est.dir[k].skew, est.dir[k].asym,
                    est.dir[k].vote_asym, est.dir[k].lines);
    }
    for (int i = 0; i < repeat; i++)
        if (run_once(pg, o, &r, &se, &upright, &t, &e) < 0)
            goto fail;
    printf("%s\t%d\t%d\t%.2f\t%.4f\t%.2f\t%d\t%.2f\t%.2f\t%.4f\t%.2f", path,
           index + 1, r.orientation, r.orient_conf, r.skew, r.skew_conf,
           r.deskewed, t.orient, t.deskew, se.angle, t.find);
    if (lept) {
        lept_skew(&upright, 7.0, repeat);
        lept_orient(pg, repeat);
        lept_skew(&upright, o->deskew.max_skew, repeat);
    }
    printf("\n");
    fflush(stdout);
    page_free(&upright);
    return 0;
fail:
    page_free(&upright);
    fprintf(stderr, "geomeval: %s: page %d: %s\n", path, index + 1, e.msg);
    return -1;
}

static int measure_file(const char *arg, bool lept, bool verbose,
                        int repeat, double max_skew)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", arg);
    int turn = 0;
    char *colon = strrchr(path, ':');
    if (colon && colon[1] >= '0' && colon[1] <= '9') {
        turn = atoi(colon + 1);
        *colon = '\0';
    }
    struct chain_opts o;
    chain_opts_default(&o);
    o.deskew.max_skew = max_skew;
    errbuf e;
    struct page_reader *rd;
    if (page_reader_open(&rd, path, &o.read, &e) < 0) {
        fprintf(stderr, "geomeval: %s: %s\n", path, e.msg);
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < page_reader_count(rd); i++) {
        page pg = { 0 }, t = { 0 };
        if (page_reader_read(rd, i, &pg, &e) < 0 ||
            page_rotate_quarter(&t, &pg, turn, &e) < 0) {
            fprintf(stderr, "geomeval: %s: page %d: %s\n", path, i + 1, e.msg);
            page_free(&pg);
            rc = -1;
            continue;
        }
        page_move(&pg, &t);
        if (measure_page(path, i, &pg, &o, lept, verbose, repeat) < 0)
            rc = -1;
        page_free(&pg);
    }
    page_reader_close(rd);
    return rc;
}

int main(int argc, char **argv)
{
    bool lept = false, verbose = false;
    int repeat = 1;
    double max_skew = 15.0;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--lept") == 0)
            lept = true;
        else if (strcmp(argv[i], "-v") == 0)
            verbose = true;
        else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
            repeat = atoi(argv[++i]) < 1 ? 1 : atoi(argv[i]);
        else if (strcmp(argv[i], "--max-skew") == 0 && i + 1 < argc)
            max_skew = atof(argv[++i]);
        else {
            fprintf(stderr, "usage: geomeval [-v] [--lept] [--repeat N] [--max-skew DEG] FILE[:CW]...\n");
            return 2;
        }
    }
    if (i == argc) {
        fprintf(stderr, "usage: geomeval [-v] [--lept] [--repeat N] [--max-skew DEG] FILE[:CW]...\n");
        return 2;
    }
    setMsgSeverity(L_SEVERITY_ERROR);
    int rc = 0;
    for (; i < argc; i++)
        if (measure_file(argv[i], lept, verbose, repeat, max_skew) < 0)
            rc = 1;
    return rc;
}
