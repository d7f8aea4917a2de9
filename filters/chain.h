/*
 * chain.h — the cleaning chain: which filters run, in which order, with which
 * parameters, and what each page reports.
 *
 * Every filter stage has the same shape,
 *
 *     int STAGE_stage(page *pg, const struct chain_opts *o,
 *                     struct page_report *r, errbuf *e);
 *
 * a pure function of the page and the options: it replaces *pg with the
 * filtered page, fills its fields of *r, keeps no state, does no I/O, and
 * returns 0 or -1 with a reason in *e (only for resource failures such as
 * out of memory; "nothing to do" or "not confident" is success).
 */
#ifndef SPOOLD_CHAIN_H
#define SPOOLD_CHAIN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "page.h"

enum stage_id {
    STAGE_BORDER,
    STAGE_ORIENT,
    STAGE_DESKEW,
    STAGE_DESPECKLE,
    STAGE_CROP,
    STAGE_COUNT
};

enum crop_mode { CROP_NONE, CROP_CONTENT, CROP_A4, CROP_LETTER, CROP_LEGAL };

enum binarize_method { BINARIZE_OTSU, BINARIZE_SAUVOLA };

struct border_opts {
    double max_depth;       /* largest border depth, fraction of the side (0..0.5) */
};

struct orient_opts {
    double min_conf;        /* turn only when the detector is at least this sure */
};

struct deskew_opts {
    double max_skew;        /* search range in degrees, +-; default 15 */
    double min_conf;        /* rotate only when at least this confident */
    double min_angle;       /* skip rotations smaller than this (degrees) */
};

struct despeckle_opts {
    int max_speck;          /* largest speck side in px at 300 dpi (default 5) */
    int max_hole;           /* largest white hole side in px at 300 dpi */
};

struct crop_opts {
    enum crop_mode mode;
    double margin_mm;       /* margin around the content box (CROP_CONTENT) */
};

struct read_opts {
    double default_dpi;     /* used when a file has no resolution tag */
    uint64_t max_pixels;    /* refuse larger pages before allocating */
    enum binarize_method binarize;
    bool no_follow;         /* page_reader_open refuses a symlink (O_NOFOLLOW):
                               spoold's workers read only what is in the
                               spool, never what a link points to */
};

struct chain_opts {
    int nstages;                        /* stages run in this order */
    enum stage_id stages[STAGE_COUNT];
    struct border_opts border;
    struct orient_opts orient;
    struct deskew_opts deskew;
    struct despeckle_opts despeckle;
    struct crop_opts crop;
    struct read_opts read;
    int threads;                        /* pages of one file in parallel */
    /* If not NULL, chain_clean_files checks it before each page and, once
     * it is non-zero, stops, removes its temporary output and fails with
     * "interrupted" (set it from a signal-waiting thread or handler). */
    const atomic_int *cancel;
};

struct page_report {
    int index;                  /* 0-based page index in the input */
    int in_width, in_height;    /* as read */
    int width, height;          /* as written */
    double xdpi, ydpi;
    int orientation;            /* clockwise degrees applied: 0/90/180/270 */
    double orient_conf;
    double skew;                /* degrees, > 0 = content was turned CCW */
    double skew_conf;
    bool deskewed;              /* a rotation was applied */
    bool skew_known;            /* skew/skew_conf were measured by an earlier
                                   stage (orient) on the page it passed on */
    uint64_t border_px;         /* black pixels removed as border */
    uint64_t specks;            /* black specks removed */
    uint64_t speck_px;          /* black pixels removed as specks */
    uint64_t holes;             /* white holes filled */
    struct { int x, y, w, h; } crop;   /* in the deskewed page's coordinates */
    double read_ms, write_ms;           /* thread CPU time */
    double stage_ms[STAGE_COUNT];       /* thread CPU time */
};

/* Fills *o with the default chain: border, orient, deskew, despeckle, crop
 * (content), default parameters. */
void chain_opts_default(struct chain_opts *o);

/* Stage names as used on the command line, in configs and in reports. */
const char *stage_name(enum stage_id s);
int stage_from_name(const char *name);   /* -1 if unknown */

/* Whether the stage is implemented in this build (chain_run_page fails
 * with "filter 'X' is not available" on one that is not). */
bool stage_available(enum stage_id s);

/* Runs the stages of o on one page (in place) and fills *r. */
int chain_run_page(page *pg, const struct chain_opts *o,
                   struct page_report *r, errbuf *e);

/* Cleans one pack: the pages of every input file, in order (a multi-page
 * TIFF, PNM, PNG; a directory pack is passed as its member files in name
 * order), into one multi-page CCITT G4 TIFF at `output`, written under a
 * temporary name in output's directory and renamed into place only when
 * complete.  Writes one JSON line per page to `report` if not NULL.  On
 * failure nothing is left at `output` and *e names the file and page:
 * "FILE: page N: REASON" (N counts from 1 within FILE; FILE is the output
 * for write errors), or "FILE: REASON" when no page is involved.
 * With o->threads > 1, that many threads read and filter pages (each with
 * its own reader) while the calling thread writes them in input order; at
 * most 2 * threads pages are held in memory.  Every input is opened once
 * first to count its pages, so a bad file fails before any work. */
int chain_clean_files(const char *const *inputs, int ninputs,
                      const char *output, const struct chain_opts *o,
                      FILE *report, errbuf *e);

/* Writes one JSON object for r (no newline) into buf; returns its length or
 * -1 if buf is too small (PAGE_REPORT_JSON_MAX is always enough).  Numbers
 * are written with a '.' whatever the locale; NaN and infinities as null. */
#define PAGE_REPORT_JSON_MAX 1024
int page_report_json(const struct page_report *r, char *buf, size_t len);

/* The stages; see the top of this file. */
int border_stage(page *pg, const struct chain_opts *o, struct page_report *r, errbuf *e);
int orient_stage(page *pg, const struct chain_opts *o, struct page_report *r, errbuf *e);
int deskew_stage(page *pg, const struct chain_opts *o, struct page_report *r, errbuf *e);
int despeckle_stage(page *pg, const struct chain_opts *o, struct page_report *r, errbuf *e);
int crop_stage(page *pg, const struct chain_opts *o, struct page_report *r, errbuf *e);

#endif
