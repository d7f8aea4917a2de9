/*
 * g4enc.c — CCITT T.6 (Group 4) encoder working on lists of colour
 * changes instead of pixels.
 *
 * Method: each row is first reduced to the positions where its colour
 * changes, found 64 pixels at a time (a word XORed with itself shifted by
 * one pixel has a bit set at every change; count-leading-zeros walks them),
 * so white stretches cost one test per word.  The T.6 modes are then chosen
 * from the change lists of the coding row and the reference (previous)
 * row, exactly as T.6 section 2.2 specifies:
 *
 *   a0  the current position (start: imaginary white pixel before 0),
 *   a1  the next change on the coding row after a0, a2 the one after,
 *   b1  the first change on the reference row after a0 to the colour
 *       opposite a0's, b2 the next change after b1;
 *   pass mode        if b2 < a1                (a0 := b2)
 *   vertical mode    if |a1 - b1| <= 3         (a0 := a1, colour flips)
 *   horizontal mode  otherwise: runs a0a1 and a1a2 in modified Huffman
 *                    codes (a0 := a2).
 *
 * Since a0 only moves right, the search positions in both lists only move
 * forward: the cost of a row is proportional to its number of changes.
 * Run lengths use the terminating, make-up and extended make-up codes of
 * T.4 tables 2 and 3, with runs of 2624 and more split into 2560 make-ups
 * first, as libtiff does, so the output matches libtiff's byte for byte.
 *
 * Limits: any width and height the page model allows; the output buffer
 * grows as needed (worst case about 1.5 bytes per pixel for a checkerboard).
 */
#include "g4enc.h"

#include <stdlib.h>
#include <string.h>

struct code {
    uint16_t bits;      /* the code, right-aligned */
    uint8_t len;        /* its length in bits */
};

/* T.4 table 2: terminating codes, runs 0..63. */
static const struct code white_term[64] = {
    {0x35, 8}, {0x07, 6}, {0x07, 4}, {0x08, 4}, {0x0b, 4}, {0x0c, 4},
    {0x0e, 4}, {0x0f, 4}, {0x13, 5}, {0x14, 5}, {0x07, 5}, {0x08, 5},
    {0x08, 6}, {0x03, 6}, {0x34, 6}, {0x35, 6}, {0x2a, 6}, {0x2b, 6},
    {0x27, 7}, {0x0c, 7}, {0x08, 7}, {0x17, 7}, {0x03, 7}, {0x04, 7},
    {0x28, 7}, {0x2b, 7}, {0x13, 7}, {0x24, 7}, {0x18, 7}, {0x02, 8},
    {0x03, 8}, {0x1a, 8}, {0x1b, 8}, {0x12, 8}, {0x13, 8}, {0x14, 8},
    {0x15, 8}, {0x16, 8}, {0x17, 8}, {0x28, 8}, {0x29, 8}, {0x2a, 8},
    {0x2b, 8}, {0x2c, 8}, {0x2d, 8}, {0x04, 8}, {0x05, 8}, {0x0a, 8},
    {0x0b, 8}, {0x52, 8}, {0x53, 8}, {0x54, 8}, {0x55, 8}, {0x24, 8},
    {0x25, 8}, {0x58, 8}, {0x59, 8}, {0x5a, 8}, {0x5b, 8}, {0x4a, 8},
    {0x4b, 8}, {0x32, 8}, {0x33, 8}, {0x34, 8},
};

static const struct code black_term[64] = {
    {0x37, 10}, {0x02, 3}, {0x03, 2}, {0x02, 2}, {0x03, 3}, {0x03, 4},
    {0x02, 4}, {0x03, 5}, {0x05, 6}, {0x04, 6}, {0x04, 7}, {0x05, 7},
    {0x07, 7}, {0x04, 8}, {0x07, 8}, {0x18, 9}, {0x17, 10}, {0x18, 10},
    {0x08, 10}, {0x67, 11}, {0x68, 11}, {0x6c, 11}, {0x37, 11}, {0x28, 11},
    {0x17, 11}, {0x18, 11}, {0xca, 12}, {0xcb, 12}, {0xcc, 12}, {0xcd, 12},
    {0x68, 12}, {0x69, 12}, {0x6a, 12}, {0x6b, 12}, {0xd2, 12}, {0xd3, 12},
    {0xd4, 12}, {0xd5, 12}, {0xd6, 12}, {0xd7, 12}, {0x6c, 12}, {0x6d, 12},
    {0xda, 12}, {0xdb, 12}, {0x54, 12}, {0x55, 12}, {0x56, 12}, {0x57, 12},
    {0x64, 12}, {0x65, 12}, {0x52, 12}, {0x53, 12}, {0x24, 12}, {0x37, 12},
    {0x38, 12}, {0x27, 12}, {0x28, 12}, {0x58, 12}, {0x59, 12}, {0x2b, 12},
    {0x2c, 12}, {0x5a, 12}, {0x66, 12}, {0x67, 12},
};

/* T.4 table 3: make-up codes for 64 * (i + 1), i = 0..26 (64..1728). */
static const struct code white_makeup[27] = {
    {0x1b, 5}, {0x12, 5}, {0x17, 6}, {0x37, 7}, {0x36, 8}, {0x37, 8},
    {0x64, 8}, {0x65, 8}, {0x68, 8}, {0x67, 8}, {0xcc, 9}, {0xcd, 9},
    {0xd2, 9}, {0xd3, 9}, {0xd4, 9}, {0xd5, 9}, {0xd6, 9}, {0xd7, 9},
    {0xd8, 9}, {0xd9, 9}, {0xda, 9}, {0xdb, 9}, {0x98, 9}, {0x99, 9},
    {0x9a, 9}, {0x18, 6}, {0x9b, 9},
};

static const struct code black_makeup[27] = {
    {0x0f, 10}, {0xc8, 12}, {0xc9, 12}, {0x5b, 12}, {0x33, 12}, {0x34, 12},
    {0x35, 12}, {0x6c, 13}, {0x6d, 13}, {0x4a, 13}, {0x4b, 13}, {0x4c, 13},
    {0x4d, 13}, {0x72, 13}, {0x73, 13}, {0x74, 13}, {0x75, 13}, {0x76, 13},
    {0x77, 13}, {0x52, 13}, {0x53, 13}, {0x54, 13}, {0x55, 13}, {0x5a, 13},
    {0x5b, 13}, {0x64, 13}, {0x65, 13},
};

/* T.4 table 3 (extension): make-up codes for 1792 + 64 * i, i = 0..12,
 * the same for both colours. */
static const struct code ext_makeup[13] = {
    {0x08, 11}, {0x0c, 11}, {0x0d, 11}, {0x12, 12}, {0x13, 12}, {0x14, 12},
    {0x15, 12}, {0x16, 12}, {0x17, 12}, {0x1c, 12}, {0x1d, 12}, {0x1e, 12},
    {0x1f, 12},
};

/* T.6 table 1: vertical modes V(a1 - b1) for a1 - b1 = -3..3. */
static const struct code vertical[7] = {
    {0x02, 7}, {0x02, 6}, {0x02, 3}, {0x01, 1}, {0x03, 3}, {0x03, 6},
    {0x03, 7},
};

static const struct code pass_code = {0x1, 4};
static const struct code horiz_code = {0x1, 3};
static const struct code eol_code = {0x1, 12};

/* Bits are collected MSB first in a 64-bit accumulator and stored four
 * bytes at a time once 32 are there (fewer than 32 stay between calls, a
 * code has at most 13); the caller reserves room before each row. */
struct bitw {
    uint8_t *p;
    uint64_t acc;
    int n;              /* bits in acc not yet stored, < 32 */
};

static inline void put(struct bitw *w, struct code c)
{
    w->acc = (w->acc << c.len) | c.bits;
    w->n += c.len;
    if (w->n >= 32) {
        w->n -= 32;
        uint32_t v = (uint32_t)(w->acc >> w->n);
        w->p[0] = (uint8_t)(v >> 24);
        w->p[1] = (uint8_t)(v >> 16);
        w->p[2] = (uint8_t)(v >> 8);
        w->p[3] = (uint8_t)v;
        w->p += 4;
    }
}

static inline struct code makeup(int black, int run)
{
    int i = run / 64 - 1;
    if (i >= 27)
        return ext_makeup[i - 27];
    return black ? black_makeup[i] : white_makeup[i];
}

/* A run of one colour in modified Huffman codes. */
static void put_run(struct bitw *w, int black, int run)
{
    while (run >= 2624) {
        put(w, ext_makeup[12]);         /* 2560 */
        run -= 2560;
    }
    if (run >= 64) {
        put(w, makeup(black, run));
        run &= 63;
    }
    put(w, black ? black_term[run] : white_term[run]);
}

int g4_row_changes(const uint8_t *row, int width, int32_t *chg)
{
    int n = 0;
    uint64_t prev = 0;      /* last pixel of the previous word, in bit 0 */
    int words = (width + 63) / 64;
    for (int i = 0; i < words; i++) {
        uint64_t w = page_load64(row + 8 * (size_t)i);
        uint64_t d = w ^ ((w >> 1) | (prev << 63));
        prev = w & 1;
        while (d) {
            int lz = __builtin_clzll(d);
            int x = i * 64 + lz;
            if (x >= width)
                return n;
            chg[n++] = x;
            d &= ~(0x8000000000000000ull >> lz);
        }
    }
    return n;
}

/* Codes one row (changes cur[0..nc)) against the reference (ref[0..nr)). */
static void encode_row(struct bitw *w, const int32_t *ref, int nr,
                       const int32_t *cur, int nc, int width)
{
    int a0 = -1, color = 0, ia = 0, ib = 0;
    while (a0 < width) {
        while (ia < nc && cur[ia] <= a0)
            ia++;
        while (ib < nr && ref[ib] <= a0)
            ib++;
        int a1 = ia < nc ? cur[ia] : width;
        int k = ib + ((ib & 1) != color);   /* even index: change to black */
        int b1 = k < nr ? ref[k] : width;
        int b2 = k + 1 < nr ? ref[k + 1] : width;
        if (b2 < a1) {
            put(w, pass_code);
            a0 = b2;
        } else if (a1 - b1 >= -3 && a1 - b1 <= 3) {
            put(w, vertical[a1 - b1 + 3]);
            a0 = a1;
            color ^= 1;
        } else {
            int a2 = ia + 1 < nc ? cur[ia + 1] : width;
            put(w, horiz_code);
            put_run(w, color, a1 - (a0 < 0 ? 0 : a0));
            put_run(w, !color, a2 - a1);
            a0 = a2;
        }
    }
}

static int reserve(struct g4_buf *b, size_t more, errbuf *e)
{
    if (b->cap - b->len >= more)
        return 0;
    size_t cap = b->cap ? b->cap : 1 << 16;
    while (cap - b->len < more)
        cap *= 2;
    uint8_t *p = realloc(b->data, cap);
    if (p == NULL)
        return err_set(e, "out of memory for G4 data");
    b->data = p;
    b->cap = cap;
    return 0;
}

int g4_encode(const page *pg, struct g4_buf *b, errbuf *e)
{
    int width = pg->width;
    int32_t *lists = malloc(2 * ((size_t)width + 1) * sizeof *lists);
    if (lists == NULL)
        return err_set(e, "out of memory for G4 encoding");
    int32_t *ref = lists, *cur = lists + width + 1;
    int nr = 0;
    b->len = 0;
    struct bitw w = { NULL, 0, 0 };
    /* worst case per row: 23 bits per 2 changes, 4 per pass, make-ups */
    size_t row_max = 2 * (size_t)width + 64;
    for (int y = 0; y < pg->height; y++) {
        if (reserve(b, row_max, e) < 0) {
            free(lists);
            return -1;
        }
        w.p = b->data + b->len;
        int nc = g4_row_changes(page_row(pg, y), width, cur);
        encode_row(&w, ref, nr, cur, nc, width);
        b->len = (size_t)(w.p - b->data);
        int32_t *t = ref;
        ref = cur;
        cur = t;
        nr = nc;
    }
    free(lists);
    if (reserve(b, 16, e) < 0)
        return -1;
    w.p = b->data + b->len;
    put(&w, eol_code);          /* EOFB */
    put(&w, eol_code);
    for (; w.n >= 8; w.n -= 8)  /* the rest, padded with zero bits */
        *w.p++ = (uint8_t)(w.acc >> (w.n - 8));
    if (w.n > 0)
        *w.p++ = (uint8_t)(w.acc << (8 - w.n));
    b->len = (size_t)(w.p - b->data);
    return 0;
}

void g4_buf_free(struct g4_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}
