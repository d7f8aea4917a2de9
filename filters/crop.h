/*
 * crop.h — cropping to the content (the `crop` stage): to the content's
 * bounding box plus a margin, or the content centred on a standard paper
 * size.  The stage itself is crop_stage() in chain.h.
 */
#ifndef SPOOLD_CROP_H
#define SPOOLD_CROP_H

#include "chain.h"
#include "page.h"

struct crop_box {
    int x, y, w, h;         /* w == 0: nothing */
};

/* Bounding box of the page's content, ignoring isolated specks: clusters
 * of ink no larger than `speck` px (at 300 dpi) and at least that far from
 * other ink.  box->w == 0 for a page without content.  Returns 0, or -1
 * with a reason in *e when out of memory. */
int crop_content_box(const page *pg, int speck, struct crop_box *box, errbuf *e);

/* Paper size in pixels at the given resolution; returns 0, or -1 for
 * CROP_NONE / CROP_CONTENT. */
int crop_paper_size(enum crop_mode mode, double xdpi, double ydpi, int *w, int *h);

/* Crops pg in place (see crop_stage in crop.c for the rules); *kept gets
 * the box of the input page that was kept (the whole page when nothing
 * was done). */
int crop_page(page *pg, enum crop_mode mode, double margin_mm, int speck,
              struct crop_box *kept, errbuf *e);

#endif
