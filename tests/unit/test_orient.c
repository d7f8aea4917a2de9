/*
 * test_orient.c — orientation detection and the orient stage: each quarter
 * turn of a rendered text page is recognised, straight or skewed, and
 * undone; sheet music and a line drawing are left alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "geom_testlib.h"
#include "orient.h"

/* The text fixture skewed by `deg`, then turned clockwise by `cw`. */
static void turned_text(page *out, const page *text, double deg, int cw)
{
    page t;
    errbuf e;
    assert_int_equal(page_rotate_shear(&t, text, deg, NULL, &e), 0);
    assert_int_equal(page_rotate_quarter(out, &t, cw, &e), 0);
    page_free(&t);
}

static void each_turn_is_recognised(void **state)
{
    static const double skews[] = { 0.0, 4.0, -7.5 };
    page text;
    struct chain_opts o;
    chain_opts_default(&o);
    assert_int_equal(geom_load_fixture(&text, "text.tif"), 0);
    for (size_t i = 0; i < sizeof skews / sizeof skews[0]; i++)
        for (int cw = 0; cw < 360; cw += 90) {
            page pg;
            errbuf e;
            struct orient_est est;
            turned_text(&pg, &text, skews[i], cw);
            assert_int_equal(orient_detect(&pg, &o, &est, &e), 0);
            if (est.cw != (360 - cw) % 360 || est.conf < o.orient.min_conf)
                fail_msg("skew %.1f turned %d: detected %d (conf %.2f)",
                         skews[i], cw, est.cw, est.conf);
            page_free(&pg);
        }
    page_free(&text);
}

/* The stage turns the page back exactly and hands the skew of the upright
 * page to the deskew stage. */
static void stage_turns_upright_and_reports_skew(void **state)
{
    page text, pg, want;
    errbuf e;
    struct chain_opts o;
    struct page_report r;
    chain_opts_default(&o);
    assert_int_equal(geom_load_fixture(&text, "text.tif"), 0);
    assert_int_equal(page_rotate_shear(&want, &text, 5.0, NULL, &e), 0);
    assert_int_equal(page_rotate_quarter(&pg, &want, 90, &e), 0);
    memset(&r, 0, sizeof r);
    assert_int_equal(orient_stage(&pg, &o, &r, &e), 0);
    assert_int_equal(r.orientation, 270);
    assert_true(r.orient_conf >= o.orient.min_conf);
    assert_true(geom_pages_equal(&pg, &want));
    assert_true(r.skew_known);
    assert_true(fabs(r.skew - 5.0) < 0.1);
    page_free(&pg);
    page_free(&want);
    page_free(&text);
}

/* Non-text pages, as they are and turned by 90 degrees: the stage must not
 * turn them (orientation 0, page unchanged). */
static void non_text_is_left_alone(void **state)
{
    struct chain_opts o;
    chain_opts_default(&o);
    for (int kind = 0; kind < 2; kind++)
        for (int cw = 0; cw <= 90; cw += 90) {
            page src, pg, copy;
            errbuf e;
            struct page_report r;
            memset(&r, 0, sizeof r);
            assert_int_equal(page_alloc(&src, 1600, 1200, 300, 300, 0, &e), 0);
            if (kind == 0)
                geom_music(&src, 3);
            else
                geom_drawing(&src, 4);
            assert_int_equal(page_rotate_quarter(&pg, &src, cw, &e), 0);
            assert_int_equal(page_copy(&copy, &pg, &e), 0);
            assert_int_equal(orient_stage(&pg, &o, &r, &e), 0);
            if (r.orientation != 0 || !geom_pages_equal(&pg, &copy))
                fail_msg("%s turned %d: orient applied %d (conf %.2f)",
                         kind ? "drawing" : "music", cw, r.orientation,
                         r.orient_conf);
            page_free(&src);
            page_free(&pg);
            page_free(&copy);
        }
}

/* A blank page: nothing to say, nothing done. */
static void blank_page_has_no_orientation(void **state)
{
    page pg;
    errbuf e;
    struct orient_est est;
    struct chain_opts o;
    chain_opts_default(&o);
    assert_int_equal(page_alloc(&pg, 900, 1300, 300, 300, 0, &e), 0);
    assert_int_equal(orient_detect(&pg, &o, &est, &e), 0);
    assert_true(est.conf < o.orient.min_conf);
    page_free(&pg);
}

/* Degenerate pages (one pixel, one row, one column, all black, random
 * noise) go through both stages without harm: nothing is turned or
 * rotated, sizes stay. */
static void odd_pages_are_safe(void **state)
{
    static const int sizes[][2] = {
        { 1, 1 }, { 2, 3 }, { 1, 3000 }, { 3000, 1 }, { 70, 5 }, { 9, 2000 },
        { 2000, 9 }, { 64, 64 }, { 65, 127 },
    };
    struct chain_opts o;
    chain_opts_default(&o);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        for (int fill = 0; fill < 3; fill++) {
            page pg;
            errbuf e;
            struct page_report r;
            memset(&r, 0, sizeof r);
            assert_int_equal(page_alloc(&pg, sizes[i][0], sizes[i][1], 300, 300,
                                        0, &e), 0);
            uint64_t s = i + 1;
            for (int y = 0; y < pg.height; y++)
                for (int x = 0; x < pg.width; x++)
                    if (fill == 2 || (fill == 1 && geom_rand(&s) % 3 == 0))
                        page_set(&pg, x, y, 1);
            assert_int_equal(orient_stage(&pg, &o, &r, &e), 0);
            assert_int_equal(deskew_stage(&pg, &o, &r, &e), 0);
            assert_int_equal(r.orientation, 0);
            assert_false(r.deskewed);
            assert_int_equal(pg.width, sizes[i][0]);
            assert_int_equal(pg.height, sizes[i][1]);
            page_free(&pg);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_turn_is_recognised),
        cmocka_unit_test(stage_turns_upright_and_reports_skew),
        cmocka_unit_test(non_text_is_left_alone),
        cmocka_unit_test(blank_page_has_no_orientation),
        cmocka_unit_test(odd_pages_are_safe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
