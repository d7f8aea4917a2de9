/*
 * g4enc.h — CCITT T.6 (Group 4) encoding of a page, for the TIFF writer.
 *
 * The output is the strip of a one-strip, FillOrder 1 (MSB first),
 * min-is-white TIFF page: T.6 rows coded against the previous row (the
 * first against an all-white row), ended by EOFB and padded to a byte.
 * It is byte-for-byte what libtiff's encoder writes for the same page.
 */
#ifndef SPOOLD_G4ENC_H
#define SPOOLD_G4ENC_H

#include <stddef.h>
#include <stdint.h>

#include "page.h"

/* A growable output buffer the caller keeps between pages. */
struct g4_buf {
    uint8_t *data;
    size_t len, cap;
};

/* Encodes pg into b (b->len = number of bytes); 0 or -1 (out of memory). */
int g4_encode(const page *pg, struct g4_buf *b, errbuf *e);

void g4_buf_free(struct g4_buf *b);

/* The positions where a row changes colour (pixel x differs from x-1, the
 * pixel left of 0 being white), in increasing order; returns their number
 * (at most width).  Exposed for tests. */
int g4_row_changes(const uint8_t *row, int width, int32_t *chg);

#endif
