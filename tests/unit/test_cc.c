/*
 * test_cc.c — run extraction, run-length component labelling against a
 * pixel flood-fill reference, row search and the span helpers.
 */
#include <stdlib.h>

#include "clean_testlib.h"
#include "cc.h"

static void row_runs_exact(void **state)
{
    page pg;
    mkpage(&pg, 128, 1, 300);            /* width a multiple of 64 */
    rect(&pg, 0, 0, 1, 1);
    rect(&pg, 5, 0, 3, 1);
    rect(&pg, 60, 0, 10, 1);             /* crosses a word boundary */
    rect(&pg, 127, 0, 1, 1);             /* reaches the right edge */
    int32_t xs[2 * (128 / 2 + 2)];
    int n = cc_row_runs(page_row(&pg, 0), 128, xs);
    assert_int_equal(n, 4);
    int32_t want[8] = { 0, 1, 5, 8, 60, 70, 127, 128 };
    assert_memory_equal(xs, want, sizeof want);
    page_free(&pg);

    mkpage(&pg, 70, 1, 300);             /* padding bits after x = 69 */
    rect(&pg, 0, 0, 70, 1);
    n = cc_row_runs(page_row(&pg, 0), 70, xs);
    assert_int_equal(n, 1);
    assert_int_equal(xs[0], 0);
    assert_int_equal(xs[1], 70);
    page_free(&pg);
}

static void connectivity_4_and_8(void **state)
{
    page pg;
    errbuf e;
    struct cc_map m;
    mkpage(&pg, 10, 10, 300);
    page_set(&pg, 2, 2, 1);
    page_set(&pg, 3, 3, 1);              /* diagonal neighbour */
    assert_int_equal(cc_label(&pg, 8, &m, &e), 0);
    assert_int_equal(m.ncomps, 1);
    assert_int_equal(m.comps[0].x0, 2);
    assert_int_equal(m.comps[0].y0, 2);
    assert_int_equal(m.comps[0].x1, 4);
    assert_int_equal(m.comps[0].y1, 4);
    assert_int_equal(m.comps[0].area, 2);
    cc_free(&m);
    assert_int_equal(cc_label(&pg, 4, &m, &e), 0);
    assert_int_equal(m.ncomps, 2);
    cc_free(&m);
    page_free(&pg);
}

static void u_shape_merges(void **state)
{
    page pg;
    errbuf e;
    struct cc_map m;
    mkpage(&pg, 100, 50, 300);
    rect(&pg, 10, 5, 5, 30);     /* left arm */
    rect(&pg, 80, 5, 5, 30);     /* right arm, joined only at the bottom */
    rect(&pg, 10, 35, 75, 4);
    rect(&pg, 40, 10, 3, 3);     /* separate */
    assert_int_equal(cc_label(&pg, 8, &m, &e), 0);
    assert_int_equal(m.ncomps, 2);
    uint32_t u = m.runs[cc_row_find(&m, 5, 10)].label;
    assert_int_equal(m.runs[cc_row_find(&m, 5, 80)].label, u);
    assert_int_equal(m.comps[u].area, 5 * 30 * 2 + 75 * 4);
    assert_int_equal(m.comps[u].x1, 85);
    assert_int_equal(m.comps[u].y1, 39);
    cc_free(&m);
    page_free(&pg);
}

/* Reference: flood fill from (x, y) with the given connectivity, writing
 * `id` into lab; returns the area. */
static int flood(const page *pg, int *lab, int x, int y, int id, int conn, int *stack)
{
    int n = 0, sp = 0, w = pg->width, h = pg->height;
    stack[sp++] = y * w + x;
    lab[y * w + x] = id;
    while (sp) {
        int p = stack[--sp], px = p % w, py = p / w;
        n++;
        for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++) {
                int qx = px + dx, qy = py + dy;
                if ((dx == 0 && dy == 0) || (conn == 4 && dx && dy) ||
                    qx < 0 || qy < 0 || qx >= w || qy >= h)
                    continue;
                if (page_get(pg, qx, qy) && lab[qy * w + qx] < 0) {
                    lab[qy * w + qx] = id;
                    stack[sp++] = qy * w + qx;
                }
            }
    }
    return n;
}

static void random_pages_match_flood_fill(void **state)
{
    uint64_t s = 12345;
    for (int trial = 0; trial < 12; trial++) {
        int w = 1 + (int)(rnd(&s) % 150), h = 1 + (int)(rnd(&s) % 90);
        int conn = trial % 2 ? 4 : 8;
        page pg;
        errbuf e;
        mkpage(&pg, w, h, 300);
        unsigned dens = 2 + (unsigned)(rnd(&s) % 4);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                if (rnd(&s) % dens == 0)
                    page_set(&pg, x, y, 1);
        struct cc_map m;
        assert_int_equal(cc_label(&pg, conn, &m, &e), 0);
        int *lab = malloc(sizeof *lab * (size_t)(w * h));
        int *stack = malloc(sizeof *stack * (size_t)(w * h));
        assert_non_null(lab);
        assert_non_null(stack);
        for (int i = 0; i < w * h; i++)
            lab[i] = -1;
        int nref = 0;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                if (page_get(&pg, x, y) && lab[y * w + x] < 0) {
                    int area = flood(&pg, lab, x, y, nref++, conn, stack);
                    uint32_t c = m.runs[cc_row_find(&m, y, x)].label;
                    assert_int_equal(m.comps[c].area, area);
                }
        assert_int_equal(m.ncomps, nref);
        /* the two labellings are the same partition: a bijection */
        int *r2c = malloc(sizeof *r2c * (size_t)(nref + 1));
        int *c2r = malloc(sizeof *c2r * (size_t)(m.ncomps + 1));
        assert_non_null(r2c);
        assert_non_null(c2r);
        for (int i = 0; i < nref; i++)
            r2c[i] = -1;
        for (uint32_t i = 0; i < m.ncomps; i++)
            c2r[i] = -1;
        for (int y = 0; y < h; y++)
            for (uint32_t k = m.row_start[y]; k < m.row_start[y + 1]; k++)
                for (int x = m.runs[k].x0; x < m.runs[k].x1; x++) {
                    int r = lab[y * w + x], c = (int)m.runs[k].label;
                    assert_true(r >= 0);
                    if (r2c[r] < 0)
                        r2c[r] = c;
                    if (c2r[c] < 0)
                        c2r[c] = r;
                    assert_int_equal(r2c[r], c);
                    assert_int_equal(c2r[c], r);
                }
        free(r2c);
        free(c2r);
        free(lab);
        free(stack);
        cc_free(&m);
        page_free(&pg);
    }
}

static void spans_match_pixels(void **state)
{
    page pg;
    mkpage(&pg, 200, 1, 300);
    uint8_t *row = page_row(&pg, 0);
    span_set(row, 3, 130);
    assert_int_equal(span_count(row, 0, 200), 127);
    assert_int_equal(span_count(row, 60, 70), 10);
    span_clear(row, 63, 65);
    assert_false(page_get(&pg, 63, 0));
    assert_false(page_get(&pg, 64, 0));
    assert_true(page_get(&pg, 62, 0));
    assert_true(page_get(&pg, 65, 0));
    assert_int_equal(span_count(row, 0, 200), 125);
    span_set(row, 199, 200);
    assert_true(page_get(&pg, 199, 0));
    assert_int_equal(page_count_black(&pg), 126);
    page_free(&pg);
}

static void degenerate_pages(void **state)
{
    page pg;
    errbuf e;
    struct cc_map m;
    mkpage(&pg, 1, 1, 300);
    assert_int_equal(cc_label(&pg, 8, &m, &e), 0);
    assert_int_equal(m.ncomps, 0);
    cc_free(&m);
    page_set(&pg, 0, 0, 1);
    assert_int_equal(cc_label(&pg, 8, &m, &e), 0);
    assert_int_equal(m.ncomps, 1);
    assert_int_equal(m.comps[0].area, 1);
    cc_free(&m);
    page_free(&pg);
    mkpage(&pg, 300, 200, 300);
    rect(&pg, 0, 0, 300, 200);
    assert_int_equal(cc_label(&pg, 4, &m, &e), 0);
    assert_int_equal(m.ncomps, 1);
    assert_int_equal(m.comps[0].area, 300 * 200);
    assert_int_equal(m.nruns, 200);
    cc_free(&m);
    page_free(&pg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(row_runs_exact),
        cmocka_unit_test(connectivity_4_and_8),
        cmocka_unit_test(u_shape_merges),
        cmocka_unit_test(random_pages_match_flood_fill),
        cmocka_unit_test(spans_match_pixels),
        cmocka_unit_test(degenerate_pages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
