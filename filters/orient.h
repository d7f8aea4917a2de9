/*
 * orient.h — detection of the page orientation (0/90/180/270) of text
 * pages, with the skew of the text lines found on the way, and the orient
 * stage that turns pages upright.
 */
#ifndef SPOOLD_ORIENT_H
#define SPOOLD_ORIENT_H

#include "chain.h"
#include "page.h"

/* What one reading direction looks like: [0] the page as given (text lines
 * horizontal), [1] the page turned 90 degrees clockwise. */
struct orient_dir {
    double line_conf;   /* skew sweep sharpness, (peak - median) / median */
    double skew;        /* skew of the lines in this direction, degrees
                           (to 0.02 if line_conf >= 3, else about 0.2) */
    double asym;        /* (up - down) / (up + down) over the line zones */
    double vote_asym;   /* (lines voting up - down) / lines voting */
    int lines;          /* line cores measured */
};

struct orient_est {
    int cw;             /* clockwise degrees that make the page upright */
    double conf;        /* >= 1: every criterion passed; 0: no idea */
    struct orient_dir dir[2];
};

/* Detects the orientation of pg; always fills *est (cw = 0 and conf = 0
 * for a page without text lines).  -1 only when out of memory. */
int orient_detect(const page *pg, const struct chain_opts *o,
                  struct orient_est *est, errbuf *e);

#endif
