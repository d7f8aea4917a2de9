/*
 * despeckle.h — removal of salt-and-pepper noise (the `despeckle` stage):
 * small black specks go, small white holes inside strokes are filled, and
 * dots that belong to the text (i-dots, periods, colons, ellipses, dotted
 * leaders) stay.  The stage itself is despeckle_stage() in chain.h.
 */
#ifndef SPOOLD_DESPECKLE_H
#define SPOOLD_DESPECKLE_H

#include <stdint.h>

#include "page.h"

struct despeckle_result {
    uint64_t specks;        /* black components removed */
    uint64_t speck_px;      /* black pixels removed */
    uint64_t holes;         /* white holes filled */
    uint64_t hole_px;       /* white pixels filled */
};

/* Cleans pg in place.  max_speck and max_hole are sides in pixels at 300
 * dpi (scaled to the page's resolution); 0 disables that part.  Returns 0,
 * or -1 with a reason in *e when out of memory. */
int despeckle_page(page *pg, int max_speck, int max_hole,
                   struct despeckle_result *res, errbuf *e);

#endif
