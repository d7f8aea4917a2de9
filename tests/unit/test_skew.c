/*
 * test_skew.c — skew detection and the deskew stage: text-like lines and
 * rendered text turned by known angles come back within 0.1 degree, black
 * bars and frames do not fool it, blank pages are left alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "geom_testlib.h"
#include "orient.h"
#include "skew.h"

/* A page of w x h with text-like lines in its middle, turned by deg. */
static void turned_lines(page *out, int w, int h, double deg, uint64_t seed)
{
    page src;
    errbuf e;
    assert_int_equal(page_alloc(&src, w, h, 300, 300, 0, &e), 0);
    geom_text_lines(&src, w / 6, h / 6, w * 2 / 3, h * 2 / 3, seed);
    assert_int_equal(page_rotate_shear(out, &src, deg, NULL, &e), 0);
    page_free(&src);
}

static void text_lines_come_back(void **state)
{
    static const double angles[] = {
        -14.9, -14.6, -9.3, -3.7, -0.8, 0.0, 0.45, 2.2, 7.9, 12.4, 14.7, 14.95,
    };
    for (size_t i = 0; i < sizeof angles / sizeof angles[0]; i++) {
        page pg;
        struct skew_est est;
        errbuf e;
        turned_lines(&pg, 1500, 1100, angles[i], i + 1);
        assert_int_equal(skew_find(&pg, 15.0, &est, &e), 0);
        if (fabs(est.angle - angles[i]) >= 0.1 || est.conf < 1.0)
            fail_msg("turned by %.2f, found %.4f (conf %.2f)", angles[i],
                     est.angle, est.conf);
        page_free(&pg);
    }
}

static void rendered_text_comes_back(void **state)
{
    static const double angles[] = { -11.2, -5.3, 1.1, 6.6 };
    page text;
    assert_int_equal(geom_load_fixture(&text, "text.tif"), 0);
    for (size_t i = 0; i < sizeof angles / sizeof angles[0]; i++) {
        page pg;
        struct skew_est est;
        errbuf e;
        assert_int_equal(page_rotate_shear(&pg, &text, angles[i], NULL, &e), 0);
        assert_int_equal(skew_find(&pg, 15.0, &est, &e), 0);
        if (fabs(est.angle - angles[i]) >= 0.05)
            fail_msg("turned by %.2f, found %.4f", angles[i], est.angle);
        page_free(&pg);
    }
    page_free(&text);
}

/* Two columns whose lines do not line up (the right one half a line
 * lower): summed across the columns the profiles are sharpest about a
 * degree off; the halves must catch it. */
static void unaligned_columns_come_back(void **state)
{
    static const double angles[] = { -4.7, 2.3, 8.1 };
    for (size_t i = 0; i < sizeof angles / sizeof angles[0]; i++) {
        page src, pg;
        errbuf e;
        struct skew_est est;
        struct chain_opts o;
        struct page_report r;
        chain_opts_default(&o);
        memset(&r, 0, sizeof r);
        assert_int_equal(page_alloc(&src, 1700, 1300, 200, 200, 0, &e), 0);
        geom_text_lines(&src, 120, 150, 680, 1000, 2 * i + 1);
        geom_text_lines(&src, 900, 170, 680, 1000, 2 * i + 2);
        assert_int_equal(page_rotate_shear(&pg, &src, angles[i], NULL, &e), 0);
        assert_int_equal(skew_find(&pg, 15.0, &est, &e), 0);
        if (fabs(est.angle - angles[i]) >= 0.1)
            fail_msg("skew_find: turned by %.2f, found %.4f", angles[i], est.angle);
        assert_int_equal(deskew_stage(&pg, &o, &r, &e), 0);
        if (fabs(r.skew - angles[i]) >= 0.1)
            fail_msg("deskew: turned by %.2f, found %.4f", angles[i], r.skew);
        page_free(&src);
        page_free(&pg);
    }
}

/* Skewed text inside a straight black frame, with a solid bar and a long
 * rule: the straight edges must not win over the text lines. */
static void frame_and_bar_do_not_fool_it(void **state)
{
    page text, pg;
    errbuf e;
    struct skew_est est;
    assert_int_equal(geom_load_fixture(&text, "text.tif"), 0);
    assert_int_equal(page_rotate_shear(&pg, &text, 3.2, NULL, &e), 0);
    page_fill_rect(&pg, 0, 0, pg.width, 40, 1);                 /* frame */
    page_fill_rect(&pg, 0, pg.height - 60, pg.width, 60, 1);
    page_fill_rect(&pg, 0, 0, 50, pg.height, 1);
    page_fill_rect(&pg, pg.width - 30, 0, 30, pg.height, 1);
    page_fill_rect(&pg, 200, 1060, 1200, 45, 1);                /* bar */
    page_fill_rect(&pg, 60, 1125, pg.width - 120, 4, 1);        /* rule */
    assert_int_equal(skew_find(&pg, 15.0, &est, &e), 0);
    if (fabs(est.angle - 3.2) >= 0.1)
        fail_msg("found %.4f instead of 3.2", est.angle);
    page_free(&pg);
    page_free(&text);
}

static void deskew_stage_straightens(void **state)
{
    page text, pg, back;
    errbuf e;
    struct chain_opts o;
    struct page_report r;
    struct skew_est est;
    chain_opts_default(&o);
    memset(&r, 0, sizeof r);
    assert_int_equal(geom_load_fixture(&text, "text.tif"), 0);
    assert_int_equal(page_rotate_shear(&pg, &text, -6.1, NULL, &e), 0);
    assert_int_equal(deskew_stage(&pg, &o, &r, &e), 0);
    assert_true(r.deskewed);
    assert_true(fabs(r.skew + 6.1) < 0.05);
    assert_true(r.skew_conf >= o.deskew.min_conf);
    assert_int_equal(pg.width, text.width);
    assert_int_equal(pg.height, text.height);
    assert_int_equal(skew_find(&pg, 15.0, &est, &e), 0);
    assert_true(fabs(est.angle) < 0.05);
    /* a hint from an earlier stage is refined, not trusted blindly */
    memset(&r, 0, sizeof r);
    assert_int_equal(page_rotate_shear(&back, &text, 2.0, NULL, &e), 0);
    r.skew_known = true;
    r.skew = 2.15;
    r.skew_conf = 20;
    assert_int_equal(deskew_stage(&back, &o, &r, &e), 0);
    assert_true(r.deskewed);
    assert_true(fabs(r.skew - 2.0) < 0.05);
    page_free(&back);
    page_free(&pg);
    page_free(&text);
}

/* deskew_opts.max_skew bounds what is corrected: a skew beyond it is not
 * "corrected" into the edge of the range, one inside it is. */
static void max_skew_is_respected(void **state)
{
    static const struct { double deg; bool fixed; } cases[] = {
        { 12.0, false }, { -9.0, false }, { 7.0, false }, { 3.5, true },
        { -4.0, true }, { 4.9, true },
    };
    page text;
    assert_int_equal(geom_load_fixture(&text, "text.tif"), 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int hint = 0; hint < 2; hint++) {
            page pg;
            errbuf e;
            struct chain_opts o;
            struct page_report r;
            chain_opts_default(&o);
            o.deskew.max_skew = 5.0;
            memset(&r, 0, sizeof r);
            assert_int_equal(page_rotate_shear(&pg, &text, cases[i].deg, NULL, &e), 0);
            if (hint) {         /* as orient would pass it on */
                assert_int_equal(orient_stage(&pg, &o, &r, &e), 0);
                assert_int_equal(r.orientation, 0);
                assert_true(r.skew_known);
            }
            assert_int_equal(deskew_stage(&pg, &o, &r, &e), 0);
            if (r.deskewed != cases[i].fixed ||
                (r.deskewed && fabs(r.skew - cases[i].deg) > 0.05))
                fail_msg("skew %.1f, max 5, hint %d: deskewed %d by %.3f",
                         cases[i].deg, hint, r.deskewed, r.skew);
            page_free(&pg);
        }
    page_free(&text);
}

/* No lines, no rotation: a blank page and a page of random specks. */
static void no_lines_no_rotation(void **state)
{
    errbuf e;
    struct chain_opts o;
    chain_opts_default(&o);
    for (int k = 0; k < 2; k++) {
        page pg, copy;
        struct page_report r;
        memset(&r, 0, sizeof r);
        assert_int_equal(page_alloc(&pg, 1200, 900, 300, 300, 0, &e), 0);
        uint64_t s = 99;
        for (int i = 0; k == 1 && i < 6000; i++)
            page_set(&pg, (int)(geom_rand(&s) % 1200), (int)(geom_rand(&s) % 900), 1);
        assert_int_equal(page_copy(&copy, &pg, &e), 0);
        assert_int_equal(deskew_stage(&pg, &o, &r, &e), 0);
        assert_false(r.deskewed);
        assert_true(r.skew_conf < o.deskew.min_conf);
        assert_true(geom_pages_equal(&pg, &copy));
        page_free(&pg);
        page_free(&copy);
    }
}

/* The 2x2 OR reduction against a pixel-by-pixel reference. */
static void reduce2_matches_reference(void **state)
{
    static const int sizes[][2] = { { 1, 1 }, { 63, 5 }, { 129, 40 }, { 300, 17 } };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        int w = sizes[i][0], h = sizes[i][1];
        page src, red;
        errbuf e;
        assert_int_equal(page_alloc(&src, w, h, 300, 300, 0, &e), 0);
        uint64_t s = i + 5;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                if (geom_rand(&s) % 7 == 0)
                    page_set(&src, x, y, 1);
        assert_int_equal(page_reduce2(&red, &src, &e), 0);
        assert_int_equal(red.width, (w + 1) / 2);
        assert_int_equal(red.height, (h + 1) / 2);
        for (int y = 0; y < red.height; y++)
            for (int x = 0; x < red.width; x++) {
                int v = 0;
                for (int dy = 0; dy < 2; dy++)
                    for (int dx = 0; dx < 2; dx++)
                        if (2 * x + dx < w && 2 * y + dy < h)
                            v |= page_get(&src, 2 * x + dx, 2 * y + dy);
                assert_int_equal(page_get(&red, x, y), v);
            }
        uint64_t n = page_count_black(&red);
        page_clear_padding(&red);
        assert_int_equal(page_count_black(&red), n);
        page_free(&src);
        page_free(&red);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_lines_come_back),
        cmocka_unit_test(rendered_text_comes_back),
        cmocka_unit_test(unaligned_columns_come_back),
        cmocka_unit_test(frame_and_bar_do_not_fool_it),
        cmocka_unit_test(deskew_stage_straightens),
        cmocka_unit_test(max_skew_is_respected),
        cmocka_unit_test(no_lines_no_rotation),
        cmocka_unit_test(reduce2_matches_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
