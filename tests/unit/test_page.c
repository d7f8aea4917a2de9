/*
 * test_page.c — the page model: allocation limits, pixel access, rectangles.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "page.h"

static void alloc_refuses_zero_and_huge(void **state)
{
    page pg;
    errbuf e;
    assert_int_equal(page_alloc(&pg, 0, 10, 300, 300, 0, &e), -1);
    assert_int_equal(page_alloc(&pg, 10, -1, 300, 300, 0, &e), -1);
    /* 100000 x 100000 = 10 Gpx, far above the 600 Mpx default */
    assert_int_equal(page_alloc(&pg, 100000, 100000, 300, 300, 0, &e), -1);
    assert_non_null(strstr(e.msg, "pixel limit"));
    assert_null(pg.bits);
}

static void alloc_layout(void **state)
{
    page pg;
    errbuf e;
    assert_int_equal(page_alloc(&pg, 65, 3, 0, 0, 0, &e), 0);
    assert_int_equal(pg.stride, 16);
    assert_true(pg.xres == 300.0 && pg.yres == 300.0);
    assert_int_equal(page_count_black(&pg), 0);
    page_free(&pg);
}

static void pixels_and_rects(void **state)
{
    page pg;
    errbuf e;
    assert_int_equal(page_alloc(&pg, 200, 50, 300, 300, 0, &e), 0);
    page_set(&pg, 0, 0, 1);
    page_set(&pg, 199, 49, 1);
    assert_int_equal(page_get(&pg, 0, 0), 1);
    assert_int_equal(page_get(&pg, 1, 0), 0);
    assert_int_equal(pg.bits[0], 0x80);
    assert_int_equal(page_count_black(&pg), 2);
    page_fill_rect(&pg, 60, 10, 10, 5, 1);      /* crosses a word boundary */
    assert_int_equal(page_count_black(&pg), 52);
    assert_int_equal(page_count_rect(&pg, 60, 10, 10, 5), 50);
    assert_int_equal(page_count_rect(&pg, 63, 10, 2, 1), 2);
    page_fill_rect(&pg, -5, -5, 1000, 1000, 1); /* clipped, padding stays 0 */
    assert_int_equal(page_count_black(&pg), 200 * 50);
    page_fill_rect(&pg, 64, 0, 1, 50, 0);
    assert_int_equal(page_count_black(&pg), 199 * 50);
    assert_int_equal(page_get(&pg, 63, 7), 1);
    assert_int_equal(page_get(&pg, 64, 7), 0);
    page_free(&pg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(alloc_refuses_zero_and_huge),
        cmocka_unit_test(alloc_layout),
        cmocka_unit_test(pixels_and_rects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
