/*
 * cc.c — run-length connected-component labelling of black pixels and the
 * packed-row span helpers shared by the cleaning filters.
 */
#include "cc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Mask of pixels [a, b) of one 64-pixel word, leftmost pixel = bit 63;
 * 0 <= a < b <= 64. */
static inline uint64_t word_span(int a, int b)
{
    uint64_t hi = ~0ull >> a;
    uint64_t lo = b == 64 ? ~0ull : ~(~0ull >> b);
    return hi & lo;
}

/*
 * cc_row_runs — black runs of one packed row.
 *
 * Method: for each 64-bit word w (leftmost pixel in bit 63), the word
 * t = w ^ (w >> 1 | last pixel of the previous word) has a bit set exactly
 * where a pixel differs from its left neighbour, i.e. at every run start and
 * every run end.  The set bits are taken in order with count-leading-zeros,
 * so the cost is one step per word plus one per transition.  Words that are
 * white and follow a white pixel cost one compare.
 */
int cc_row_runs(const uint8_t *row, int width, int32_t *xs)
{
    int n = 0;
    int words = (width + 63) / 64;
    uint64_t carry = 0;
    for (int i = 0; i < words; i++) {
        uint64_t w = page_load64(row + 8 * (size_t)i);
        if (w == 0 && carry == 0)
            continue;
        uint64_t t = w ^ ((w >> 1) | carry);
        carry = (w & 1) << 63;
        while (t) {
            int b = __builtin_clzll(t);
            xs[n++] = 64 * i + b;
            t &= ~(0x8000000000000000ull >> b);
        }
    }
    if (n & 1)
        xs[n++] = width;        /* run reaching the right edge (width % 64 == 0) */
    return n / 2;
}

void span_clear(uint8_t *row, int x0, int x1)
{
    for (int wx = x0 & ~63; wx < x1; wx += 64) {
        int a = x0 > wx ? x0 - wx : 0;
        int b = x1 - wx < 64 ? x1 - wx : 64;
        uint8_t *p = row + wx / 8;
        page_store64(p, page_load64(p) & ~word_span(a, b));
    }
}

void span_set(uint8_t *row, int x0, int x1)
{
    for (int wx = x0 & ~63; wx < x1; wx += 64) {
        int a = x0 > wx ? x0 - wx : 0;
        int b = x1 - wx < 64 ? x1 - wx : 64;
        uint8_t *p = row + wx / 8;
        page_store64(p, page_load64(p) | word_span(a, b));
    }
}

int span_count(const uint8_t *row, int x0, int x1)
{
    int n = 0;
    for (int wx = x0 & ~63; wx < x1; wx += 64) {
        int a = x0 > wx ? x0 - wx : 0;
        int b = x1 - wx < 64 ? x1 - wx : 64;
        n += __builtin_popcountll(page_load64(row + wx / 8) & word_span(a, b));
    }
    return n;
}

int span_any(const uint8_t *row, int x0, int x1)
{
    uint64_t any = 0;
    for (int wx = x0 & ~63; wx < x1; wx += 64) {
        int a = x0 > wx ? x0 - wx : 0;
        int b = x1 - wx < 64 ? x1 - wx : 64;
        any |= page_load64(row + wx / 8) & word_span(a, b);
    }
    return any != 0;
}

/* Root of run i; parents always point to a smaller index (path halving). */
static inline uint32_t uf_find(struct cc_run *r, uint32_t i)
{
    while (r[i].label != i) {
        r[i].label = r[r[i].label].label;
        i = r[i].label;
    }
    return i;
}

static inline void uf_union(struct cc_run *r, uint32_t a, uint32_t b)
{
    a = uf_find(r, a);
    b = uf_find(r, b);
    if (a < b)
        r[b].label = a;
    else if (b < a)
        r[a].label = b;
}

static int grow_runs(struct cc_map *m, size_t need, errbuf *e)
{
    if (need <= m->cap_runs)
        return 0;
    size_t cap = m->cap_runs ? m->cap_runs : (size_t)m->height * 32 + 4096;
    while (cap < need)
        cap *= 2;
    if (cap > UINT32_MAX)
        return err_set(e, "too many runs for component labelling");
    struct cc_run *r = realloc(m->runs, cap * sizeof *r);
    if (r == NULL)
        return err_errno(e, errno, "cannot allocate %zu runs", cap);
    m->runs = r;
    m->cap_runs = cap;
    return 0;
}

/* Turns union-find parents into component indices and fills comps, in one
 * pass: a parent always precedes its child, so its index is final by then;
 * a root opens a new component (at most one per run: the array is sized
 * for that and trimmed after). */
static int finish_components(struct cc_map *m, errbuf *e)
{
    struct cc_run *r = m->runs;
    m->comps = malloc((m->nruns ? m->nruns : 1) * sizeof *m->comps);
    if (m->comps == NULL)
        return err_errno(e, errno, "cannot allocate %zu components", m->nruns);
    uint32_t nc = 0;
    for (size_t k = 0; k < m->nruns; k++) {
        uint32_t p = r[k].label;
        struct cc_comp *c;
        if (p == k) {
            r[k].label = nc;
            c = &m->comps[nc++];
            *c = (struct cc_comp){ r[k].x0, r[k].y, r[k].x1, r[k].y + 1, 0, 0 };
        } else {
            r[k].label = r[p].label;
            c = &m->comps[r[k].label];
            if (r[k].x0 < c->x0)
                c->x0 = r[k].x0;
            if (r[k].x1 > c->x1)
                c->x1 = r[k].x1;
            c->y1 = r[k].y + 1;     /* runs come in row order */
        }
        c->area += (uint32_t)(r[k].x1 - r[k].x0);
        c->nruns++;
    }
    m->ncomps = nc;
    struct cc_comp *t = realloc(m->comps, (nc ? nc : 1) * sizeof *m->comps);
    if (t != NULL)
        m->comps = t;
    return 0;
}

/* A run [x0, x1) of row y just found (index k): joins it to the runs of
 * the previous row [*i, pe) that touch it.  *i only moves forward: the
 * last run that touched may touch the next run too. */
static inline void link_run(struct cc_run *r, uint32_t k, uint32_t *i, uint32_t pe,
                            int slack)
{
    int32_t x0 = r[k].x0, x1 = r[k].x1;
    while (*i < pe && r[*i].x1 + slack <= x0)
        (*i)++;
    uint32_t j = *i;
    if (j < pe && r[j].x0 < x1 + slack) {
        r[k].label = uf_find(r, j);         /* k is fresh: its root is j's */
        for (j++; j < pe && r[j].x0 < x1 + slack; j++)
            uf_union(r, k, j);
        *i = j - 1;
    }
}

/* Cuts row y into runs appended to m->runs (as cc_row_runs does) and links
 * each to the previous row's runs [ps, pe) as soon as its end is known. */
static void label_row(struct cc_map *m, const uint8_t *row, int y,
                      uint32_t ps, uint32_t pe, int slack)
{
    struct cc_run *r = m->runs;
    uint32_t k = (uint32_t)m->nruns, i = ps;
    int words = (m->width + 63) / 64, open = 0;
    uint64_t carry = 0;
    for (int wi = 0; wi < words; wi++) {
        uint64_t w = page_load64(row + 8 * (size_t)wi);
        if (w == 0 && carry == 0)
            continue;
        uint64_t t = w ^ ((w >> 1) | carry);
        carry = (w & 1) << 63;
        while (t) {
            int b = __builtin_clzll(t);
            t &= ~(0x8000000000000000ull >> b);
            if (!open) {
                r[k] = (struct cc_run){ 64 * wi + b, 0, y, k };
            } else {
                r[k].x1 = 64 * wi + b;
                link_run(r, k, &i, pe, slack);
                k++;
            }
            open ^= 1;
        }
    }
    if (open) {                 /* run reaching the right edge */
        r[k].x1 = m->width;
        link_run(r, k, &i, pe, slack);
        k++;
    }
    m->nruns = k;
}

/*
 * cc_label — connected components of the black pixels of pg.
 *
 * Method: each row is cut into runs (transitions found with count-leading-
 * zeros on 64-bit words, as in cc_row_runs); every run starts as its own
 * set and is joined, as soon as it ends, to the runs of the previous row it
 * touches (union-find with the smaller index as root and path halving, so a
 * parent always precedes its child and one forward pass resolves every
 * label).  Then one pass over the runs gives bounding boxes and areas.
 *
 * Parameters: connectivity 8 joins diagonal neighbours, 4 does not.
 * Limits: at most 2^32 - 1 runs; memory is 16 bytes per run plus 24 per
 * component plus 4 per row.
 */
int cc_label(const page *pg, int connectivity, struct cc_map *m, errbuf *e)
{
    memset(m, 0, sizeof *m);
    m->width = pg->width;
    m->height = pg->height;
    int slack = connectivity == 8 ? 1 : 0;
    m->row_start = malloc(sizeof *m->row_start * ((size_t)pg->height + 1));
    if (m->row_start == NULL) {
        cc_free(m);
        return err_errno(e, ENOMEM, "cannot allocate run tables");
    }
    uint32_t prev = 0;
    size_t most = (size_t)pg->width / 2 + 1;     /* runs one row can hold */
    for (int y = 0; y < pg->height; y++) {
        uint32_t cs = (uint32_t)m->nruns;
        m->row_start[y] = cs;
        if (grow_runs(m, m->nruns + most, e) < 0) {
            cc_free(m);
            return -1;
        }
        label_row(m, page_row(pg, y), y, prev, y > 0 ? cs : prev, slack);
        prev = cs;
    }
    m->row_start[pg->height] = (uint32_t)m->nruns;
    if (finish_components(m, e) < 0) {
        cc_free(m);
        return -1;
    }
    return 0;
}

void cc_free(struct cc_map *m)
{
    free(m->row_start);
    free(m->runs);
    free(m->comps);
    memset(m, 0, sizeof *m);
}

uint32_t cc_row_find(const struct cc_map *m, int y, int x)
{
    uint32_t lo = m->row_start[y], hi = m->row_start[y + 1];
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (m->runs[mid].x1 <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Groups the run indices by component (counting sort on the label, which
 * keeps each component's runs in row order).  Cost O(runs). */
int cc_index_build(const struct cc_map *m, struct cc_index *ix, errbuf *e)
{
    ix->first = malloc(sizeof *ix->first * ((size_t)m->ncomps + 1));
    ix->list = malloc(sizeof *ix->list * (m->nruns ? m->nruns : 1));
    if (ix->first == NULL || ix->list == NULL) {
        cc_index_free(ix);
        return err_errno(e, ENOMEM, "cannot allocate component index");
    }
    uint32_t at = 0;
    for (uint32_t c = 0; c < m->ncomps; c++) {
        ix->first[c] = at;
        at += m->comps[c].nruns;
    }
    ix->first[m->ncomps] = at;
    for (size_t k = 0; k < m->nruns; k++)
        ix->list[ix->first[m->runs[k].label]++] = (uint32_t)k;
    for (uint32_t c = m->ncomps; c > 0; c--)
        ix->first[c] = ix->first[c - 1];
    ix->first[0] = 0;
    return 0;
}

void cc_index_free(struct cc_index *ix)
{
    free(ix->first);
    free(ix->list);
    ix->first = NULL;
    ix->list = NULL;
}
