/*
 * skew.h — skew detection on packed 1-bit pages (projection profiles of
 * run starts per 64-pixel strip), shared by the orient and deskew stages.
 */
#ifndef SPOOLD_SKEW_H
#define SPOOLD_SKEW_H

#include "chain.h"
#include "page.h"

enum map_feature {
    MAP_STARTS,         /* black pixels whose left neighbour is white */
    MAP_EDGES,          /* pixels that differ from their left neighbour */
    MAP_INK             /* black pixels */
};

/* Row profiles of run starts, one per 64-pixel strip, of the page sheared
 * vertically by `slope`: v[s * nbins + i] = starts of strip s whose sheared
 * row falls in bin i, bin i covering rows [y0 + i*binh, y0 + (i+1)*binh). */
struct strip_prof {
    int nstrips, nbins, binh, y0;
    int width, height;          /* of the page they were taken from */
    double slope;
    float *v;
};

int strip_prof_build(struct strip_prof *sp, const page *pg, enum map_feature f,
                     int binh, double slope, int margin, errbuf *e);
void strip_prof_free(struct strip_prof *sp);

/* Sharpness of the strip profiles summed along lines of the given residual
 * slope (> 0: rising to the right), for the whole page (sc[0], also the
 * return value), its left half (sc[1]) and right half (sc[2]); `work`
 * holds 2 * nbins floats. */
double strip_prof_scores(const struct strip_prof *sp, double slope, float *work,
                         double sc[3]);

/* A sweep over -max..max degrees in `step` steps, unsheared profiles of
 * `binh`-row bins. */
struct skew_sweep {
    double angle;       /* best angle of the sweep */
    double vertex;      /* of a parabola through the best three scores */
    double half[2];     /* the left and right halves' own vertices */
    bool at_edge;       /* the best angle is the first or last of the sweep */
    double peak;        /* its score */
    double median;      /* median score over the sweep */
    double conf;        /* (peak - median) / median */
};

int skew_sweep(const page *pg, enum map_feature f, double max_deg,
               double step, int binh, struct skew_sweep *out, errbuf *e);

/* Searches the angle within near +- range degrees to tol degrees. */
int skew_refine(const page *pg, enum map_feature f, double near, double range,
                double tol, double *angle, double *score, errbuf *e);

/* Searches around a sweep's result (see skew.c). */
int skew_refine_sweep(const page *pg, enum map_feature f,
                      const struct skew_sweep *sw, double tol, double *angle,
                      double *score, errbuf *e);

/* 2x2 OR reduction (a reduced pixel is black if any source pixel is). */
int page_reduce2(page *dst, const page *src, errbuf *e);

/* Smallest page skew_find and the deskew stage measure (pixels). */
#define SKEW_MIN_WIDTH  128
#define SKEW_MIN_HEIGHT 64

struct skew_est {
    double angle;       /* degrees, > 0 = content turned counter-clockwise */
    double conf;        /* peak over background of the sweep; 0 = no signal */
    double score;       /* sharpness at the peak, per 1000 run starts */
};

/* Finds the skew of pg within +-max_deg (<= 45).  Always fills *est; conf
 * says how much to believe it. */
int skew_find(const page *pg, double max_deg, struct skew_est *est, errbuf *e);

#endif
