/*
 * page.h — the page model shared by every filter: a packed 1-bit bitmap.
 *
 * Layout: row-major, `stride` bytes per row, most significant bit first
 * (the leftmost pixel of a byte is bit 7), 1 = black (ink), 0 = white.  This
 * is the byte layout of a MINISWHITE, FILLORDER_MSB2LSB TIFF strip and of a
 * PBM raster, so I/O needs no bit shuffling.  `stride` is a multiple of 8 so
 * that a row can be walked as 64-bit words; the padding bits to the right of
 * `width` are always 0 (filters that write whole words must keep it so; see
 * page_clear_padding).  Note that loading 8 bytes as a native uint64_t on a
 * little-endian machine reverses byte order: use page_load64/page_store64
 * when pixel order inside a word matters (shifts), plain loads when it does
 * not (AND/OR/popcount).
 *
 * A page owns its buffer.  Filters take a page the caller owns and replace
 * its content; they keep no state between calls and do no I/O.
 */
#ifndef SPOOLD_PAGE_H
#define SPOOLD_PAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errbuf.h"

#define PAGE_DEFAULT_DPI        300.0
#define PAGE_DEFAULT_MAX_PIXELS (600ull * 1000 * 1000)   /* 600 Mpx */

typedef struct page {
    int width;          /* pixels, >= 1 */
    int height;         /* pixels, >= 1 */
    size_t stride;      /* bytes per row, multiple of 8 */
    double xres, yres;  /* dots per inch, > 0 */
    uint8_t *bits;      /* height * stride bytes, 64-byte aligned */
} page;

/* Allocates a white page.  Refuses (without allocating) width or height < 1
 * and width*height > max_pixels (0 means PAGE_DEFAULT_MAX_PIXELS). */
int page_alloc(page *pg, int width, int height, double xres, double yres,
               uint64_t max_pixels, errbuf *e);

/* Frees the buffer and zeroes the struct; safe on a zeroed page. */
void page_free(page *pg);

/* Deep copy into *dst (which must not own a buffer). */
int page_copy(page *dst, const page *src, errbuf *e);

/* Moves src into dst, freeing dst's old buffer; src is left zeroed. */
void page_move(page *dst, page *src);

/* Number of black pixels. */
uint64_t page_count_black(const page *pg);

/* Clears the padding bits right of width in every row. */
void page_clear_padding(page *pg);

/* Sets every pixel of the rectangle (clipped to the page) to v (0 or 1). */
void page_fill_rect(page *pg, int x, int y, int w, int h, int v);

/* Number of black pixels in the rectangle (clipped to the page). */
uint64_t page_count_rect(const page *pg, int x, int y, int w, int h);

static inline uint8_t *page_row(const page *pg, int y)
{
    return pg->bits + (size_t)y * pg->stride;
}

static inline int page_get(const page *pg, int x, int y)
{
    return (page_row(pg, y)[x >> 3] >> (7 - (x & 7))) & 1;
}

static inline void page_set(page *pg, int x, int y, int v)
{
    uint8_t *b = &page_row(pg, y)[x >> 3];
    uint8_t m = (uint8_t)(0x80u >> (x & 7));
    if (v)
        *b |= m;
    else
        *b &= (uint8_t)~m;
}

/* 64 pixels starting at byte offset 8*i of row y, leftmost pixel in bit 63. */
static inline uint64_t page_load64(const uint8_t *p)
{
    uint64_t w;
    __builtin_memcpy(&w, p, 8);
    return __builtin_bswap64(w);
}

static inline void page_store64(uint8_t *p, uint64_t w)
{
    w = __builtin_bswap64(w);
    __builtin_memcpy(p, &w, 8);
}

#endif
