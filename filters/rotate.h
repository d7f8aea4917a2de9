/*
 * rotate.h — rotation of packed 1-bit pages: exact quarter turns and
 * small-angle rotation by three shears.  Pure functions: they read a source
 * page and fill a destination page the caller owns afterwards.
 */
#ifndef SPOOLD_ROTATE_H
#define SPOOLD_ROTATE_H

#include "page.h"

/* Turns src clockwise by `cw_degrees` (0, 90, 180 or 270; other values are
 * refused) into *dst (which must not own a buffer).  90 and 270 swap width
 * and height and the x/y resolutions.  Exact: every pixel moves, none is
 * lost or invented. */
int page_rotate_quarter(page *dst, const page *src, int cw_degrees, errbuf *e);

/* Rotates the content of src counter-clockwise by `ccw_degrees` (|angle| <=
 * 45; meant for deskewing, |angle| <= 15) about the page centre into *dst
 * (which must not own a buffer), keeping width and height; uncovered pixels
 * become white.  Three shears, each a bijection of pixels, so no holes and no
 * doubled pixels; ink that the rotation carries outside the page frame is
 * dropped (only ink whose final position is outside: the intermediate
 * images are enlarged).  If `lost` is not NULL it receives the number of
 * black pixels dropped that way. */
int page_rotate_shear(page *dst, const page *src, double ccw_degrees,
                      uint64_t *lost, errbuf *e);

#endif
