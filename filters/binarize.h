/*
 * binarize.h — 8-bit grey images and their conversion to the 1-bit page
 * model (global Otsu threshold or adaptive Sauvola threshold).
 *
 * Readers of grey, colour and palette images (TIFF, PNM, PNG) first convert
 * every pixel to one 8-bit grey value (0 = black, 255 = white), then call
 * binarize() once for the whole page.
 */
#ifndef SPOOLD_BINARIZE_H
#define SPOOLD_BINARIZE_H

#include <stdint.h>

#include "chain.h"
#include "page.h"

typedef struct grey_image {
    int width, height;
    size_t stride;      /* bytes per row (== width) */
    uint8_t *px;        /* 0 = black, 255 = white */
} grey_image;

/* Allocates an uninitialised grey image; refuses (without allocating) sizes
 * < 1 and width*height > max_pixels (0 = PAGE_DEFAULT_MAX_PIXELS). */
int grey_alloc(grey_image *g, int width, int height, uint64_t max_pixels,
               errbuf *e);

void grey_free(grey_image *g);

static inline uint8_t *grey_row(const grey_image *g, int y)
{
    return g->px + (size_t)y * g->stride;
}

/* Luma of an 8-bit RGB triple (Rec. 601 weights, integer, rounded). */
static inline uint8_t rgb_to_grey(unsigned r, unsigned g, unsigned b)
{
    return (uint8_t)((77 * r + 150 * g + 29 * b + 128) >> 8);
}

/* The Otsu threshold of a 256-bin histogram: grey values <= t are black. */
int otsu_threshold(const uint64_t hist[256]);

/* Fills pg (already allocated with g's size) from g with the method m:
 * BINARIZE_OTSU or BINARIZE_SAUVOLA (window scaled with pg->xres). */
int binarize(const grey_image *g, enum binarize_method m, page *pg, errbuf *e);

/* Sauvola with explicit parameters: window (2*half+1)^2, factor k, dynamic
 * range r (128 for 8-bit data). */
int binarize_sauvola(const grey_image *g, int half, double k, double r,
                     page *pg, errbuf *e);

#endif
