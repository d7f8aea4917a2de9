/*
 * border.h — removal of black scanner borders (the `border` stage).
 *
 * The stage itself is border_stage() in chain.h; this header exposes the
 * pieces the unit tests check directly.
 */
#ifndef SPOOLD_BORDER_H
#define SPOOLD_BORDER_H

#include <stdint.h>

#include "chain.h"
#include "page.h"

/* Removes the borders of pg in place.  max_depth is the deepest border
 * accepted, as a fraction of the side (0 < max_depth <= 0.5).  *removed
 * gets the number of black pixels cleared.  Returns 0 or -1 (out of
 * memory, reason in *e). */
int border_clean(page *pg, double max_depth, uint64_t *removed, errbuf *e);

/* Transposes a 64x64 bit block: bit 63-j of a[i] (row i, column j) moves to
 * bit 63-i of a[j].  Exposed for the tests. */
void border_transpose64(uint64_t a[64]);

#endif
