/*
 * border.c — the `border` stage: removes the black borders a scanner leaves
 * around a page (solid, ragged, tilted wedges of a skewed sheet, striped,
 * salted with white holes, touching or covering the text) without eating
 * solid figures, photos or black boxes inside the page.
 *
 * Each side is handled as a "band": the strip of the page next to that side,
 * turned so that the side's edge is at depth 0 and every line of the band
 * runs from the edge inward (rows for left/right, columns for top/bottom,
 * which are transposed 64x64 bits at a time).  All work on a band is on
 * packed 64-bit words.  See border_clean() for the method.
 */
#include "border.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cc.h"

enum side { SIDE_TOP, SIDE_BOTTOM, SIDE_LEFT, SIDE_RIGHT };

struct band {
    enum side side;
    int lines;          /* lines along the side that lie on the page */
    int alloc_lines;    /* lines allocated (a multiple of 64 for top/bottom) */
    int depth;          /* pixels held per line, from the edge inward */
    int sw;             /* 64-bit words per line */
    uint64_t *w;        /* pixel d of line t: bit 63 - d % 64 of w[t*sw + d/64] */
};

/* Tuning at 300 dpi; scaled with the resolution across the side. */
struct side_params {
    int max_depth;      /* deepest border body accepted (px) */
    int shallow;        /* first look this deep; deeper only if needed */
    int dev;            /* the edge strays this far from its line at most */
    int gap;            /* white gaps up to this long (salt) are bridged */
    int win;            /* half window (lines) of the running median */
    int ext;            /* how far a line may reach past the median edge */
    int zone;           /* stripes are searched this far inside the edge */
    int stripe_max;     /* longest stripe (black line or inner band) */
};

/* ------------------------------------------------------------ bit helpers */

void border_transpose64(uint64_t a[64])
{
    uint64_t m = 0x00000000FFFFFFFFull;
    for (int j = 32; j != 0; j >>= 1, m ^= m << j) {
        for (int k = 0; k < 64; k = (k + j + 1) & ~j) {
            uint64_t t = (a[k] ^ (a[k + j] >> j)) & m;
            a[k] ^= t;
            a[k + j] ^= t << j;
        }
    }
}

static uint64_t bitrev64(uint64_t v)
{
    v = ((v >> 1) & 0x5555555555555555ull) | ((v & 0x5555555555555555ull) << 1);
    v = ((v >> 2) & 0x3333333333333333ull) | ((v & 0x3333333333333333ull) << 2);
    v = ((v >> 4) & 0x0F0F0F0F0F0F0F0Full) | ((v & 0x0F0F0F0F0F0F0F0Full) << 4);
    return __builtin_bswap64(v);
}

/* 64 pixels of a page row starting at x (x may be negative: those read 0). */
static uint64_t row_bits(const uint8_t *row, long nw, long x)
{
    if (x <= -64)
        return 0;
    if (x < 0)
        return page_load64(row) >> (-x);
    long wi = x >> 6;
    int sh = (int)(x & 63);
    uint64_t v = wi < nw ? page_load64(row + 8 * wi) << sh : 0;
    if (sh && wi + 1 < nw)
        v |= page_load64(row + 8 * (wi + 1)) >> (64 - sh);
    return v;
}

/* ANDs v into the page word at q; returns the black pixels it cleared. */
static inline int and_word(uint8_t *q, uint64_t v)
{
    uint64_t old = page_load64(q);
    if ((old & ~v) == 0)
        return 0;
    page_store64(q, old & v);
    return __builtin_popcountll(old & ~v);
}

/* ANDs v into the 64 pixels of a row starting at x; pixels outside the row
 * are skipped and pixels outside the window are untouched.  Returns the
 * black pixels cleared. */
static int row_and_bits(uint8_t *row, long nw, long x, uint64_t v)
{
    if (x <= -64)
        return 0;
    if (x < 0) {
        int s = (int)-x;
        return and_word(row, (v << s) | ((1ull << s) - 1));
    }
    long wi = x >> 6;
    int sh = (int)(x & 63);
    if (wi >= nw)
        return 0;
    uint8_t *p = row + 8 * wi;
    if (sh == 0)
        return and_word(p, v);
    int n = and_word(p, (v >> sh) | ~(~0ull >> sh));
    if (wi + 1 < nw)
        n += and_word(p + 8, (v << (64 - sh)) | ((1ull << (64 - sh)) - 1));
    return n;
}

/* First d in [from, limit) whose pixel is `want` (0/1), or limit. */
static int next_pixel(const uint64_t *line, int from, int limit, int want)
{
    if (from >= limit)
        return limit;
    int i = from >> 6;
    uint64_t v = (want ? line[i] : ~line[i]) & (~0ull >> (from & 63));
    for (;;) {
        if (v) {
            int d = 64 * i + __builtin_clzll(v);
            return d < limit ? d : limit;
        }
        if (64 * ++i >= limit)
            return limit;
        v = want ? line[i] : ~line[i];
    }
}

static void line_clear(uint64_t *line, int a, int b)
{
    for (int i = a >> 6; 64 * i < b; i++) {
        int lo = a > 64 * i ? a - 64 * i : 0;
        int hi = b - 64 * i < 64 ? b - 64 * i : 64;
        uint64_t m = (~0ull >> lo) & (hi == 64 ? ~0ull : ~(~0ull >> hi));
        line[i] &= ~m;
    }
}

static int line_count(const uint64_t *line, int a, int b)
{
    int n = 0;
    for (int i = a >> 6; 64 * i < b; i++) {
        int lo = a > 64 * i ? a - 64 * i : 0;
        int hi = b - 64 * i < 64 ? b - 64 * i : 64;
        uint64_t m = (~0ull >> lo) & (hi == 64 ? ~0ull : ~(~0ull >> hi));
        n += __builtin_popcountll(line[i] & m);
    }
    return n;
}

/* ------------------------------------------------------------ bands */

static int band_alloc(struct band *b, enum side s, const page *pg, int depth,
                      errbuf *e)
{
    int along = (s == SIDE_TOP || s == SIDE_BOTTOM) ? pg->width : pg->height;
    int across = (s == SIDE_TOP || s == SIDE_BOTTOM) ? pg->height : pg->width;
    b->side = s;
    b->depth = depth < across ? depth : across;
    b->sw = (b->depth + 63) / 64;
    b->lines = along;
    b->alloc_lines = (s == SIDE_TOP || s == SIDE_BOTTOM)
                     ? (int)(pg->stride / 8) * 64 : along;
    b->w = calloc((size_t)b->alloc_lines * (size_t)b->sw, sizeof *b->w);
    if (b->w == NULL)
        return err_errno(e, ENOMEM, "cannot allocate border band");
    return 0;
}

/* Page row holding band depth d of a top/bottom band. */
static int tb_row(const struct band *b, const page *pg, int d)
{
    return b->side == SIDE_TOP ? d : pg->height - 1 - d;
}

static void band_load(struct band *b, const page *pg)
{
    long nw = (long)(pg->stride / 8);
    if (b->side == SIDE_LEFT || b->side == SIDE_RIGHT) {
        for (int t = 0; t < b->lines; t++) {
            const uint8_t *row = page_row(pg, t);
            uint64_t *line = b->w + (size_t)t * (size_t)b->sw;
            for (int i = 0; i < b->sw; i++)
                line[i] = b->side == SIDE_LEFT
                    ? row_bits(row, nw, 64L * i)
                    : bitrev64(row_bits(row, nw, pg->width - 64L * (i + 1)));
        }
        return;
    }
    uint64_t a[64];
    for (int bj = 0; bj < b->sw; bj++) {
        for (long bi = 0; bi < nw; bi++) {
            for (int k = 0; k < 64; k++) {
                int d = 64 * bj + k;
                a[k] = d < pg->height
                    ? page_load64(page_row(pg, tb_row(b, pg, d)) + 8 * bi) : 0;
            }
            border_transpose64(a);
            for (int c = 0; c < 64; c++)
                b->w[(size_t)(64 * bi + c) * (size_t)b->sw + (size_t)bj] = a[c];
        }
    }
}

/* ANDs the band back into the page: pixels cleared in the band are cleared
 * in the page, everything else is left as it is.  Returns the black pixels
 * cleared (pixels an earlier band already cleared are not counted again). */
static uint64_t band_store(const struct band *b, page *pg)
{
    long nw = (long)(pg->stride / 8);
    uint64_t n = 0;
    if (b->side == SIDE_LEFT || b->side == SIDE_RIGHT) {
        for (int t = 0; t < b->lines; t++) {
            uint8_t *row = page_row(pg, t);
            const uint64_t *line = b->w + (size_t)t * (size_t)b->sw;
            for (int i = 0; i < b->sw; i++) {
                if (b->side == SIDE_LEFT)
                    n += row_and_bits(row, nw, 64L * i, line[i]);
                else
                    n += row_and_bits(row, nw, pg->width - 64L * (i + 1),
                                      bitrev64(line[i]));
            }
        }
        return n;
    }
    uint64_t a[64];
    for (int bj = 0; bj < b->sw; bj++) {
        for (long bi = 0; bi < nw; bi++) {
            for (int c = 0; c < 64; c++)
                a[c] = b->w[(size_t)(64 * bi + c) * (size_t)b->sw + (size_t)bj];
            border_transpose64(a);
            for (int k = 0; k < 64; k++) {
                int d = 64 * bj + k;
                if (d < pg->height)
                    n += and_word(page_row(pg, tb_row(b, pg, d)) + 8 * bi, a[k]);
            }
        }
    }
    return n;
}

/* ------------------------------------------------------------ profiles */

/* End of the black stretch of a line that starts at `from`, bridging white
 * gaps <= gap, at most limit.  From 0 it is the black prefix of the line. */
static int line_prefix(const uint64_t *line, int from, int limit, int gap)
{
    int d = from;
    for (;;) {
        int white = next_pixel(line, d, limit, 0);
        if (white >= limit)
            return limit;
        int reach = white + gap + 1 < limit ? white + gap + 1 : limit;
        int black = next_pixel(line, white, reach, 1);
        if (black >= reach)
            return white;
        d = black;
    }
}

/* k-th smallest of v[0..n) (reorders v). */
static int select_kth(int *v, int n, int k)
{
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        int pivot = v[lo + (hi - lo) / 2], i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j) {
                int t = v[i];
                v[i++] = v[j];
                v[j--] = t;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return v[k];
    }
    return v[k];
}

/* Median of v[0..n) (reorders v), n >= 1. */
static double median_of(double *v, int n)
{
    for (int i = 1; i < n; i++)     /* insertion sort: n <= 120 */
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * Running median of the valid entries of r[0..n) over +-win lines, sampled
 * every `step` lines and interpolated linearly between samples.  Samples
 * with valid lines on less than half their window (near a corner, where a
 * perpendicular border crosses the lines) take the nearest good sample.  out[t] is
 * -1 everywhere when no sample is good.  buf holds 2*win+1 ints.
 */
static void running_median(const int *r, const uint8_t *valid, int n, int win,
                           int *out, int *buf)
{
    int step = win / 4 > 1 ? win / 4 : 1;
    int nanch = (n - 1) / step + 2;
    int good = 0;
    for (int a = 0; a < nanch; a++) {
        int c = a * step < n ? a * step : n - 1;
        int m = 0;
        for (int t = c - win < 0 ? 0 : c - win; t <= c + win && t < n; t++)
            if (valid[t])
                buf[m++] = r[t];
        out[c] = m > win ? select_kth(buf, m, m / 2) : -1;
        good += out[c] >= 0;
    }
    if (!good) {
        for (int t = 0; t < n; t++)
            out[t] = -1;
        return;
    }
    int prev = -1;      /* last good anchor */
    for (int a = 0; a < nanch; a++) {
        int c = a * step < n ? a * step : n - 1;
        if (out[c] < 0)
            continue;
        if (prev < 0) {
            for (int t = 0; t < c; t++)
                out[t] = out[c];
        } else {
            for (int t = prev + 1; t < c; t++)
                out[t] = out[prev] + (out[c] - out[prev]) * (t - prev) / (c - prev);
        }
        prev = c;
    }
    for (int t = prev + 1; t < n; t++)
        out[t] = out[prev];
}

/* ------------------------------------------------------------ one side */

struct side_work {
    int *r;             /* black prefix per line (salt bridged) */
    uint8_t *valid;     /* prefix ended before max_depth */
    int *med;           /* running median of the valid prefixes */
    int *lmed;          /* the same over a few lines (wavy edges) */
    int *edge;          /* depth cleared per line */
    int *base;          /* where the border body ends per line: its own end
                           where it was cleared whole, else the median */
    int *buf;           /* 2*win+1 ints for the median, then run lengths */
    int *hist;          /* ext + zone + 1 offset bins */
    uint64_t *tmp;      /* one band line */
};

static void side_work_free(struct side_work *w)
{
    free(w->r);
    free(w->valid);
    free(w->med);
    free(w->lmed);
    free(w->edge);
    free(w->base);
    free(w->buf);
    free(w->hist);
    free(w->tmp);
    memset(w, 0, sizeof *w);
}

static int side_work_alloc(struct side_work *w, int n, int sw,
                           const struct side_params *p, errbuf *e)
{
    size_t nb = (size_t)(2 * p->win + 1) > (size_t)n ? (size_t)(2 * p->win + 1)
                                                     : (size_t)n;
    w->r = malloc(sizeof *w->r * (size_t)n);
    w->valid = malloc((size_t)n);
    w->med = malloc(sizeof *w->med * (size_t)n);
    w->lmed = malloc(sizeof *w->lmed * (size_t)n);
    w->edge = malloc(sizeof *w->edge * (size_t)n);
    w->base = malloc(sizeof *w->base * (size_t)n);
    w->buf = malloc(sizeof *w->buf * nb);
    w->hist = calloc((size_t)(p->ext + p->zone + 1), sizeof *w->hist);
    w->tmp = malloc(sizeof *w->tmp * (size_t)sw);
    if (!w->r || !w->valid || !w->med || !w->lmed || !w->edge || !w->base || !w->buf || !w->hist || !w->tmp) {
        side_work_free(w);
        return err_errno(e, ENOMEM, "cannot allocate border profiles");
    }
    return 0;
}

static uint64_t *band_line(const struct band *b, int t)
{
    return b->w + (size_t)t * (size_t)b->sw;
}

/* End of the last black pixel of the line before x (0 if none). */
static int black_end(const uint64_t *line, int x)
{
    for (int i = (x - 1) >> 6; i >= 0 && x > 0; i--) {
        uint64_t v = line[i];
        if (64 * i + 64 > x)
            v &= ~(~0ull >> (x - 64 * i));
        if (v)
            return 64 * i + 64 - __builtin_ctzll(v);
    }
    return 0;
}

/* The salt-filled word i of line t (see closed_prefix). */
static uint64_t closed_word(const struct band *b, int t, int i, int close)
{
    uint64_t before = 0, after = 0;
    for (int a = 1; a <= close; a++) {
        if (t - a >= 0)
            before |= band_line(b, t - a)[i];
        if (t + a < b->lines)
            after |= band_line(b, t + a)[i];
    }
    return band_line(b, t)[i] | (before & after);
}

/*
 * The black prefix of line t (line_prefix from 0 with white gaps <= gap
 * bridged, at most lim) on the line with its salt filled: a white pixel
 * that has black within `close` lines before it and within `close` lines
 * after it (along the side) counts as black.  Salt holes are small squares,
 * so two of them side by side can make a white gap along the line longer
 * than `gap` that still has black above and below; the paper beyond the
 * border's edge, a white stripe inside it and the gap before a black line
 * run along the side and are not filled.  The prefix ends where the line's
 * own black does (filling the notch between two deeper neighbours does not
 * move a line's edge).  tmp holds b->sw words.
 * Cost: the plain prefix, plus the filled line only where filling adds
 * black within the white gap the plain prefix stopped at.
 */
static int closed_prefix(const struct band *b, int t, int lim, int gap, int close,
                         uint64_t *tmp)
{
    const uint64_t *line = band_line(b, t);
    int r = line_prefix(line, 0, lim, gap);
    if (r >= lim)
        return r;
    int reach = r + gap + 1 < lim ? r + gap + 1 : lim, filled = 0;
    for (int i = r >> 6; 64 * i < reach && !filled; i++) {
        int lo = r > 64 * i ? r - 64 * i : 0;
        int hi = reach - 64 * i < 64 ? reach - 64 * i : 64;
        uint64_t m = (~0ull >> lo) & (hi == 64 ? ~0ull : ~(~0ull >> hi));
        filled = (closed_word(b, t, i, close) & m) != 0;
    }
    if (!filled)
        return r;
    int nw = lim / 64 + 1 < b->sw ? lim / 64 + 1 : b->sw;
    for (int i = 0; i < nw; i++)
        tmp[i] = closed_word(b, t, i, close);
    r = line_prefix(tmp, 0, lim, gap);
    return r < lim ? black_end(line, r) : r;
}

/* Does the border reach beyond the first look?  A line black beyond lim
 * next to (within 2 lines of) a line whose border ends within 2 ext of lim
 * is a tooth of a ragged border (or the deep end of a wedge) going on. */
static int goes_beyond(const struct side_work *w, int n, int lim, int ext)
{
    for (int t = 0; t < n; t++) {
        if (w->valid[t])
            continue;
        for (int u = t - 2 > 0 ? t - 2 : 0; u <= t + 2 && u < n; u++)
            if (w->valid[u] && w->r[u] >= lim - 2 * ext)
                return 1;
    }
    return 0;
}

/* Start of the first run beginning at or after `from` in [from, to), -1 if
 * none; *len gets its length with white gaps <= gap bridged. */
static int run_at(const uint64_t *line, int from, int to, int depth, int gap,
                  int *len)
{
    int s = next_pixel(line, from, to, 1);
    if (s >= to)
        return -1;
    *len = line_prefix(line, s, depth, gap) - s;
    return s;
}

/*
 * Stripes: a black line drawn inside a border (solid or dashed), or the
 * inner black band left when a white line runs inside the border, lies at a
 * nearly constant distance from the border edge and has a nearly constant
 * thickness.  For every line the first black run within `zone` of the
 * border's edge (w->base: the line's own edge, or the median where
 * something was joined) is taken; if one offset (+-2 px) holds at least a fifth of
 * the lines and the runs there have a consistent length (at most
 * stripe_max), every run starting in that offset range is cleared.  Text
 * near the edge gives scattered offsets or inconsistent lengths and is left
 * alone.  Returns the black pixels cleared.
 */
static uint64_t clear_stripes(struct band *b, const struct side_params *p,
                              struct side_work *w)
{
    int nbins = p->ext + p->zone + 1, nlines = 0;
    memset(w->hist, 0, sizeof *w->hist * (size_t)nbins);
    for (int t = 0; t < b->lines; t++) {
        if (!w->valid[t] || w->med[t] < 0 || w->edge[t] > w->med[t] + p->ext)
            continue;
        int base = w->base[t];
        int to = base + p->zone < b->depth ? base + p->zone : b->depth;
        int s = next_pixel(band_line(b, t), w->edge[t], to, 1);
        nlines++;
        if (s < to && s - base >= -p->ext)
            w->hist[s - base + p->ext]++;
    }
    int best = 0, at = 0;
    for (int i = 2; i + 2 < nbins; i++) {
        int sum = 0;
        for (int k = -2; k <= 2; k++)
            sum += w->hist[i + k];
        if (sum > best) {
            best = sum;
            at = i;
        }
    }
    if (best < 16 || best * 5 < nlines)
        return 0;
    int olo = at - 2 - p->ext, ohi = at + 2 - p->ext;
    while (olo - 1 + p->ext >= 0 && olo > at - 6 - p->ext &&
           w->hist[olo - 1 + p->ext] * 20 > best)
        olo--;
    while (ohi + 1 + p->ext < nbins && ohi < at + 6 - p->ext &&
           w->hist[ohi + 1 + p->ext] * 20 > best)
        ohi++;
    /* lengths of the runs in the peak */
    int m = 0;
    for (int t = 0; t < b->lines; t++) {
        if (!w->valid[t] || w->med[t] < 0)
            continue;
        int len, s = run_at(band_line(b, t), w->base[t] + olo > w->edge[t]
                            ? w->base[t] + olo : w->edge[t],
                            w->base[t] + ohi + 1, b->depth, p->gap, &len);
        if (s >= 0)
            w->buf[m++] = len;
    }
    if (m < 16)
        return 0;
    int lmed = select_kth(w->buf, m, m / 2);
    int l90 = select_kth(w->buf, m, m * 9 / 10);
    int close = 0;
    for (int i = 0; i < m; i++)
        close += w->buf[i] >= lmed - 2 && w->buf[i] <= lmed + 2;
    if (l90 > p->stripe_max || close * 10 < m * 6)
        return 0;
    uint64_t removed = 0;
    for (int t = 0; t < b->lines; t++) {
        if (w->med[t] < 0 || !w->valid[t])     /* black far beyond: invisible */
            continue;
        uint64_t *line = band_line(b, t);
        int from = w->base[t] + olo > w->edge[t] ? w->base[t] + olo : w->edge[t];
        int to = w->base[t] + ohi + 1 < b->depth ? w->base[t] + ohi + 1 : b->depth;
        int len, s;
        int inside = from > 0 && next_pixel(line, from - 1, from, 1) == from - 1;
        while (from < to && (s = run_at(line, from, to, b->depth, p->gap, &len)) >= 0) {
            /* a run already going at the band's start (something crossing
             * the stripe): clear the whole band the stripe may occupy */
            int end = s + (len < l90 + 2 ? len : l90 + 2) + (inside ? ohi - olo : 0);
            inside = 0;
            if (end > b->depth)
                end = b->depth;
            removed += (uint64_t)line_count(line, s, end);
            line_clear(line, s, end);
            from = end;
        }
    }
    return removed;
}

/*
 * A white line drawn inside a border (parallel to the edge) stops the black
 * prefix short of the border's real edge on almost every line.  Returns the
 * gap to bridge (> p->gap) when at least 40% of the lines that start black
 * continue in black after a white gap of the same width (+-1 px, at most
 * `zone`/4), else 0.
 */
static int white_stripe_gap(const struct band *b, const struct side_params *p,
                            struct side_work *w, int lim, int npresent)
{
    int gmax = p->zone / 4;
    if (gmax <= p->gap + 1)
        return 0;
    int *hist = w->hist;    /* zone + ext + 1 > gmax + 2 bins */
    memset(hist, 0, sizeof *hist * (size_t)(gmax + 2));
    for (int t = 0; t < b->lines; t++) {
        if (!w->valid[t] || w->r[t] == 0)
            continue;
        const uint64_t *line = band_line(b, t);
        int reach = w->r[t] + gmax + 1 < lim ? w->r[t] + gmax + 1 : lim;
        int s = next_pixel(line, w->r[t], reach, 1);
        if (s < reach)
            hist[s - w->r[t]]++;
    }
    int best = 0, at = 0;
    for (int g = p->gap + 2; g < gmax; g++) {
        int sum = hist[g - 1] + hist[g] + hist[g + 1];
        if (sum > best) {
            best = sum;
            at = g;
        }
    }
    return best * 10 >= npresent * 4 ? at + 1 : 0;
}

/*
 * Is the side's edge wavy (a ragged border) rather than straight with a few
 * things attached?  A straight or tilted edge (salt filled) changes by at
 * most 1 px between lines `lag` apart on 3/4 of the lines, and half of its
 * lines end within dev/4 of the side's line (icpt + slope * t); glyphs and
 * figures joined to it touch fewer lines than that.  A ragged edge, a
 * random walk of steps every few lines, fails one or both.
 */
static int side_is_wavy(struct side_work *w, int n, double icpt, double slope,
                        int dev, int lag)
{
    int m = 0;
    for (int t = 0; t < n; t++)
        if (w->valid[t])
            w->buf[m++] = (int)fabs(w->r[t] - (icpt + slope * t));
    if (m > 0 && select_kth(w->buf, m, m / 2) * 4 > dev)
        return 1;
    m = 0;
    for (int t = lag; t < n; t++)
        if (w->valid[t] && w->valid[t - lag])
            w->buf[m++] = abs(w->r[t] - w->r[t - lag]);
    return m > 0 && select_kth(w->buf, m, m * 3 / 4) > 1;
}

/*
 * The border of a side follows a straight line (solid, ragged around it,
 * or tilted), while a photo or figure that bleeds off the page edge makes
 * the running median follow it too.  A robust line through the medians of
 * 16 chunks of the side (Theil-Sen: median of the pairwise slopes, which
 * ignores up to about a quarter of the chunks) is the side's line; where
 * the running median rises more than `dev` above it, something is attached
 * to the border and the median is brought back to the line.  Needs 5
 * chunks with valid lines, else leaves the medians alone.  A wavy edge
 * (side_is_wavy: a ragged border) strays from any line by itself; there
 * the running median stays the model.  Returns whether the edge is wavy.
 */
static int clamp_to_side_line(struct side_work *w, int n, int dev, int lag)
{
    enum { NCH = 16 };
    double tc[NCH], mc[NCH], sl[NCH * NCH / 2];
    int nc = 0, ns = 0, len = (n + NCH - 1) / NCH;
    for (int c = 0; c < NCH; c++) {
        int m = 0;
        for (int t = c * len; t < (c + 1) * len && t < n; t++)
            if (w->valid[t])
                w->buf[m++] = w->r[t];
        if (m * 2 < len)
            continue;
        tc[nc] = c * len + len / 2.0;
        mc[nc++] = select_kth(w->buf, m, m / 2);
    }
    if (nc < 5)
        return 0;
    for (int i = 0; i < nc; i++)
        for (int j = i + 1; j < nc; j++)
            sl[ns++] = (mc[j] - mc[i]) / (tc[j] - tc[i]);
    double slope = median_of(sl, ns);
    for (int i = 0; i < nc; i++)
        sl[i] = mc[i] - slope * tc[i];
    double icpt = median_of(sl, nc);
    if (side_is_wavy(w, n, icpt, slope, dev, lag))
        return 1;
    for (int t = 0; t < n; t++) {
        double line = icpt + slope * t;
        if (w->med[t] > line + dev)
            w->med[t] = line > 0 ? (int)(line + 0.5) : 0;
    }
    return 0;
}

/* Step 3 of clean_band: clears each line up to its cut (w->edge) and
 * notes where its border body ends (w->base).  A line that ends within
 * `reach` of the median edge is cleared whole; one reaching further has
 * something joined and is cut at the median + reach/2.  On a wavy side
 * (a ragged border) reach is ext, the teeth's play; on a straight or
 * tilted side (side_is_wavy said its edge stays within a pixel of its
 * neighbours) it is ext/3, so a glyph joined to the edge (the wedge of a
 * skewed sheet crossing a line of text) loses at most ext/6 next to it.
 * Returns the black pixels cleared. */
static uint64_t cut_lines(struct band *b, const struct side_params *p,
                          struct side_work *w, int wavy)
{
    uint64_t removed = 0;
    int reach = wavy ? p->ext : p->ext / 3;
    for (int t = 0; t < b->lines; t++) {
        int m = wavy && w->lmed[t] > w->med[t] ? w->lmed[t] : w->med[t], cut;
        if (!w->valid[t])
            cut = w->med[t];    /* black far beyond: keep to this side's depth */
        else if (w->r[t] <= m + reach)
            cut = w->r[t];
        else
            cut = m > 0 ? m + reach / 2 : 0;
        if (cut > b->depth)
            cut = b->depth;
        if (cut > 0) {
            uint64_t *line = band_line(b, t);
            removed += (uint64_t)line_count(line, 0, cut);
            line_clear(line, 0, cut);
        }
        w->edge[t] = cut;
        w->base[t] = w->valid[t] && w->r[t] <= m + reach ? cut : m;
    }
    return removed;
}

/*
 * Clears one side's border in its band.
 *
 * 1. Profile: for every line, the length r of the black stretch that starts
 *    at the page edge, bridging salt gaps up to `gap` along the line and
 *    filling salt holes across lines (closed_prefix).  Lines black beyond
 *    max_depth are crossed by the border of a perpendicular side (or by a
 *    huge black object) and carry no information about this side.  The
 *    first look goes `shallow` deep; the band is loaded again down to
 *    max_depth when most lines are black beyond it, when a tooth runs past
 *    it (goes_beyond), or when the edge model comes near it.
 * 2. Edge model: the running median of r over +-win lines.  It follows
 *    straight, tilted and slowly wavy edges; ragged teeth stay within `ext`
 *    of it, while text glyphs (or rules) joined to the border make r jump far
 *    beyond it on a few lines.  Where it strays more than `dev` above the
 *    side's robust line (a photo bleeding off the page) on a side whose
 *    edge is straight, it is brought back to the line (clamp_to_side_line).
 * 3. Clearing (cut_lines): a line is cleared over its whole black stretch
 *    when it ends within `ext` of the median (on a wavy side, of the larger
 *    of the median and a running median over a few lines, which follows
 *    the teeth of a ragged edge); otherwise something is joined and the line
 *    is cut at median + ext/2, so a glyph touching the border loses at most
 *    that much.  Lines black beyond max_depth (crossed by a perpendicular
 *    border, or a big black object under the border) are cut at the median:
 *    the perpendicular side, done later, sees the rest.
 * 4. Stripes inside the border (clear_stripes), at offsets from each
 *    line's own edge where it was cleared whole (a stripe follows a ragged
 *    edge), else from the median.
 * A side is left alone when fewer than a tenth of its informative lines
 * start black (no border: a few glyphs or specks touching the page edge).
 */
static uint64_t clean_band(struct band *b, const struct side_params *p,
                           struct side_work *w, int lim, int *deeper)
{
    int n = b->lines, nvalid = 0, npresent = 0;
    lim = lim < b->depth ? lim : b->depth;
    *deeper = 0;
    for (int t = 0; t < n; t++) {
        w->r[t] = closed_prefix(b, t, lim, p->gap, p->gap, w->tmp);
        w->valid[t] = w->r[t] < lim;
        nvalid += w->valid[t];
        npresent += w->valid[t] && w->r[t] > 0;
    }
    if (lim < p->max_depth && (nvalid < n / 8 || goes_beyond(w, n, lim, p->ext))) {
        *deeper = 1;            /* black beyond a shallow look: look deeper */
        return 0;
    }
    if (nvalid < n / 8 || npresent * 10 < nvalid || npresent == 0)
        return 0;
    int wgap = white_stripe_gap(b, p, w, lim, npresent);
    if (wgap > 0) {
        for (int t = 0; t < n; t++) {
            w->r[t] = closed_prefix(b, t, lim, wgap, p->gap, w->tmp);
            w->valid[t] = w->r[t] < lim;
        }
    }
    running_median(w->r, w->valid, n, p->win, w->med, w->buf);
    if (w->med[0] < 0)
        return 0;
    int lwin = p->win / 5 > 2 ? p->win / 5 : 2;
    int wavy = clamp_to_side_line(w, n, p->dev, lwin);
    if (wavy)
        running_median(w->r, w->valid, n, lwin, w->lmed, w->buf);
    for (int t = 0; t < n && lim < p->max_depth; t++)
        if (w->med[t] + p->ext >= lim) {
            *deeper = 1;        /* the border may reach beyond the look */
            return 0;
        }
    uint64_t removed = cut_lines(b, p, w, wavy);
    for (int pass = 0; pass < 2; pass++) {
        uint64_t s = clear_stripes(b, p, w);
        if (s == 0)
            break;
        removed += s;
    }
    return removed;
}

static void side_params_for(struct side_params *p, enum side s, const page *pg,
                            double max_depth)
{
    int tb = s == SIDE_TOP || s == SIDE_BOTTOM;
    double sd = (tb ? pg->yres : pg->xres) / 300.0;    /* across the side */
    double sl = (tb ? pg->xres : pg->yres) / 300.0;    /* along the side */
    int across = tb ? pg->height : pg->width;
    p->max_depth = (int)(max_depth * across);
    p->shallow = (int)(sd * 320 + 0.5);
    p->dev = (int)(sd * 64 + 0.5);
    p->gap = sd * 3 < 1 ? 1 : (int)(sd * 3 + 0.5);
    p->win = sl * 40 < 4 ? 4 : (int)(sl * 40 + 0.5);
    p->ext = (int)(sd * 24 + 0.5);
    p->zone = (int)(sd * 48 + 0.5);
    p->stripe_max = (int)(sd * 60 + 0.5);
}

/* Cleans one side: bands are loaded shallow first (most borders are not
 * deep, and the band's cost grows with its depth) and again at max_depth
 * when the border may reach beyond.  The band is left in *b for storing. */
static int clean_side(const page *pg, enum side s, struct band *b,
                      const struct side_params *p, uint64_t *n, errbuf *e)
{
    int extra = p->ext + p->zone + p->stripe_max + p->gap;
    int lim = p->shallow < p->max_depth ? p->shallow : p->max_depth;
    for (;;) {
        struct side_work w;
        int deeper;
        if (band_alloc(b, s, pg, lim + extra, e) < 0)
            return -1;
        band_load(b, pg);
        if (side_work_alloc(&w, b->lines, b->sw, p, e) < 0)
            return -1;
        *n = clean_band(b, p, &w, lim, &deeper);
        side_work_free(&w);
        if (!deeper)
            return 0;
        free(b->w);
        b->w = NULL;
        lim = p->max_depth;
    }
}

/*
 * border_clean — removes scanner borders from all four sides.
 *
 * The four sides' bands are all taken from the page as given, cleaned
 * independently (clean_band), and then ANDed back.  Taking every profile
 * from the original page matters at the corners: a border cleared by one
 * side must not make the next side's border look as if it did not start at
 * the page edge.  Cost: proportional to the band area / 64 plus the number
 * of transitions in it; nothing outside the bands is read.
 *
 * Parameters: max_depth (fraction of the page across the side, clamped to
 * 0.5) bounds the border body; stripes may reach a little further.
 * Limits: a black object touching a border body (a photo bleeding into the
 * border) is taken as border as far as it follows the border's profile; a
 * glyph touching the border loses up to ext/2 (12 px at 300 dpi) next to
 * the edge; content under the border is lost with it.
 */
int border_clean(page *pg, double max_depth, uint64_t *removed, errbuf *e)
{
    *removed = 0;
    if (!(max_depth > 0))
        return 0;
    if (max_depth > 0.5)
        max_depth = 0.5;
    struct band b[4];
    memset(b, 0, sizeof b);
    uint64_t n[4] = { 0, 0, 0, 0 };
    int rc = 0;
    for (int s = 0; s < 4 && rc == 0; s++) {
        struct side_params p;
        side_params_for(&p, (enum side)s, pg, max_depth);
        if (p.max_depth >= 1)
            rc = clean_side(pg, (enum side)s, &b[s], &p, &n[s], e);
    }
    for (int s = 0; s < 4 && rc == 0; s++)
        if (n[s] > 0)
            *removed += band_store(&b[s], pg);
    for (int s = 0; s < 4; s++)
        free(b[s].w);
    return rc;
}

int border_stage(page *pg, const struct chain_opts *o, struct page_report *r,
                 errbuf *e)
{
    uint64_t n;
    if (border_clean(pg, o->border.max_depth, &n, e) < 0)
        return -1;
    r->border_px += n;
    return 0;
}
