/*
 * leptchain.c — Leptonica's equivalent of spoolfilter's default chain, the
 * comparison program of the filter benchmark (scripts/bench-filters.sh):
 *
 *   leptchain [--max-skew DEG] [--speck PX] [--report FILE] IN OUT.tif
 *
 * For every page of IN (multi-page TIFF, or one PBM/PNG/...):
 *   pixReadTiff / pixRead
 *   -> pixDeskewGeneral (= pixFindSkewSweepAndSearch + rotate; sweep over
 *      +-max-skew, default 10 deg so that it can reach the benchmark's
 *      skews; Leptonica's own default is +-7)
 *   -> pixOrientDetect + makeOrientDecision (default thresholds), then the
 *      quarter turn that brings the text upright; after a 90/270 turn the
 *      page is deskewed once more, because the first sweep looked along the
 *      wrong axis (what a careful user of the library does)
 *   -> pixSelectBySize: keeps the 8-connected components wider or taller
 *      than --speck px (default 5, scaled with the resolution), i.e. removes
 *      specks up to 5x5 px at 300 dpi
 *   -> pixWriteTiff G4, all pages into one file, written under a temporary
 *      name and renamed into place.
 * Leptonica has no border filter in this chain; borders stay.
 *
 * --report FILE writes one JSON line per page in spoolfilter's report
 * convention: "skew" (degrees, > 0 = the content was turned
 * counter-clockwise, i.e. the page was turned clockwise by that much),
 * "orientation" (clockwise degrees applied), confidences, and in "ms" the
 * thread CPU milliseconds of each step.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <leptonica/allheaders.h>

struct lopts {
    double max_skew;
    int speck;              /* at 300 dpi */
    const char *report;
};

struct lpage {
    double skew, skew_conf, up_conf, left_conf;
    int orientation;
    double ms[5];           /* read, deskew, orient, despeckle, write */
};

static double thread_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Deskews *pix in place; adds the applied angle (our sign) to *skew. */
static int deskew(PIX **pix, const struct lopts *o, struct lpage *r)
{
    l_float32 angle = 0, conf = 0;
    PIX *d = pixDeskewGeneral(*pix, 0, (l_float32)o->max_skew, 0.0, 0, 0,
                              &angle, &conf);
    if (d == NULL)
        return -1;
    if (d != *pix)          /* rotated clockwise by angle: content was CCW */
        r->skew += angle;
    r->skew_conf = conf;
    pixDestroy(pix);
    *pix = d;
    return 0;
}

/* Detects the orientation and turns the page upright. */
static int orient(PIX **pix, const struct lopts *o, struct lpage *r)
{
    l_float32 up = 0, left = 0;
    l_int32 dir = L_TEXT_ORIENT_UNKNOWN;
    if (pixOrientDetect(*pix, &up, &left, 0, 0) != 0 ||
        makeOrientDecision(up, left, 0.0, 0.0, &dir, 0) != 0)
        return 0;           /* too little text: leave the page as it is */
    r->up_conf = up;
    r->left_conf = left;
    PIX *d = NULL;
    switch (dir) {
    case L_TEXT_ORIENT_LEFT:  d = pixRotate90(*pix, 1); r->orientation = 90; break;
    case L_TEXT_ORIENT_DOWN:  d = pixRotate180(NULL, *pix); r->orientation = 180; break;
    case L_TEXT_ORIENT_RIGHT: d = pixRotate90(*pix, -1); r->orientation = 270; break;
    default: return 0;
    }
    if (d == NULL)
        return -1;
    pixDestroy(pix);
    *pix = d;
    return r->orientation % 180 ? deskew(pix, o, r) : 0;
}

static int despeckle(PIX **pix, const struct lopts *o)
{
    l_int32 xres = pixGetXRes(*pix) > 0 ? pixGetXRes(*pix) : 300;
    l_int32 s = (l_int32)(o->speck * xres / 300.0 + 0.5);
    PIX *d = pixSelectBySize(*pix, s, s, 8, L_SELECT_IF_EITHER, L_SELECT_IF_GT, NULL);
    if (d == NULL)
        return -1;
    pixDestroy(pix);
    *pix = d;
    return 0;
}

/* Runs the chain on page n and appends it to tmp. */
static int one_page(const char *in, int n, int tiff, const char *tmp,
                    const struct lopts *o, struct lpage *r, char *why, size_t wl)
{
    double t = thread_ms(), t1;
    memset(r, 0, sizeof *r);
    PIX *pix = tiff ? pixReadTiff(in, n) : pixRead(in);
    if (pix && pixGetDepth(pix) != 1) {
        PIX *b = pixConvertTo1(pix, 128);
        pixDestroy(&pix);
        pix = b;
    }
    r->ms[0] = (t1 = thread_ms()) - t;
    int rc = pix == NULL ? (snprintf(why, wl, "cannot read"), -1) : 0;
    if (rc == 0 && deskew(&pix, o, r) < 0)
        rc = (snprintf(why, wl, "deskew failed"), -1);
    r->ms[1] = (t = thread_ms()) - t1;
    if (rc == 0 && orient(&pix, o, r) < 0)
        rc = (snprintf(why, wl, "orientation failed"), -1);
    r->ms[2] = (t1 = thread_ms()) - t;
    if (rc == 0 && despeckle(&pix, o) < 0)
        rc = (snprintf(why, wl, "despeckle failed"), -1);
    r->ms[3] = (t = thread_ms()) - t1;
    if (rc == 0 && pixWriteTiff(tmp, pix, IFF_TIFF_G4, n == 0 ? "w" : "a") != 0)
        rc = (snprintf(why, wl, "cannot write %s", tmp), -1);
    r->ms[4] = thread_ms() - t;
    pixDestroy(&pix);
    return rc;
}

static void print_report(FILE *f, int n, const struct lpage *r)
{
    fprintf(f, "{\"page\": %d, \"skew\": %.4f, \"skew_conf\": %.3f, "
            "\"orientation\": %d, \"orient_up_conf\": %.3f, \"orient_left_conf\": %.3f, "
            "\"ms\": {\"read\": %.3f, \"deskew\": %.3f, \"orient\": %.3f, "
            "\"despeckle\": %.3f, \"write\": %.3f}}\n",
            n, r->skew, r->skew_conf, r->orientation, r->up_conf, r->left_conf,
            r->ms[0], r->ms[1], r->ms[2], r->ms[3], r->ms[4]);
}

static int count_pages(const char *in, int *tiff)
{
    l_int32 format = IFF_UNKNOWN, n = 1;
    if (findFileFormat(in, &format) != 0)
        return -1;
    *tiff = format == IFF_TIFF || format == IFF_TIFF_G4 || format == IFF_TIFF_G3 ||
            format == IFF_TIFF_PACKBITS || format == IFF_TIFF_RLE ||
            format == IFF_TIFF_LZW || format == IFF_TIFF_ZIP || format == IFF_TIFF_JPEG;
    if (*tiff) {
        FILE *fp = fopenReadStream(in);
        if (fp == NULL || tiffGetCount(fp, &n) != 0) {
            if (fp)
                fclose(fp);
            return -1;
        }
        fclose(fp);
    }
    return n;
}

static int run(const char *in, const char *out, const struct lopts *o)
{
    int tiff = 0, n = count_pages(in, &tiff);
    if (n < 1) {
        fprintf(stderr, "leptchain: %s: not a readable image\n", in);
        return 1;
    }
    char tmp[4200], why[256] = "";
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", out, (long)getpid());
    FILE *rep = NULL;
    if (o->report && (rep = fopen(o->report, "w")) == NULL) {
        fprintf(stderr, "leptchain: %s: %s\n", o->report, strerror(errno));
        return 1;
    }
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        struct lpage r;
        if (one_page(in, i, tiff, tmp, o, &r, why, sizeof why) < 0) {
            fprintf(stderr, "leptchain: %s: page %d: %s\n", in, i + 1, why);
            rc = 1;
        } else if (rep) {
            print_report(rep, i, &r);
        }
    }
    if (rep && fclose(rep) != 0 && rc == 0) {
        fprintf(stderr, "leptchain: %s: %s\n", o->report, strerror(errno));
        rc = 1;
    }
    if (rc == 0 && rename(tmp, out) != 0) {
        fprintf(stderr, "leptchain: rename %s: %s\n", out, strerror(errno));
        rc = 1;
    }
    if (rc != 0)
        unlink(tmp);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {
        { "max-skew", required_argument, NULL, 'm' },
        { "speck", required_argument, NULL, 's' },
        { "report", required_argument, NULL, 'r' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct lopts o = { 10.0, 5, NULL };
    int opt;
    while ((opt = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (opt) {
        case 'm': o.max_skew = atof(optarg); break;
        case 's': o.speck = atoi(optarg); break;
        case 'r': o.report = optarg; break;
        case 'h':
            printf("usage: leptchain [--max-skew DEG] [--speck PX] [--report FILE] IN OUT.tif\n");
            return 0;
        default: return 2;
        }
    }
    if (argc - optind != 2 || !(o.max_skew > 0 && o.max_skew <= 45) || o.speck < 0) {
        fprintf(stderr, "usage: leptchain [--max-skew DEG] [--speck PX] [--report FILE] IN OUT.tif\n");
        return 2;
    }
    setMsgSeverity(L_SEVERITY_ERROR);
    return run(argv[optind], argv[optind + 1], &o);
}
