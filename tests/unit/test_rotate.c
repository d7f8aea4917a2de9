/*
 * test_rotate.c — quarter turns against a pixel-by-pixel reference, and the
 * three-shear rotation: direction, pixel count, exact inverse, white fill.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rotate.h"

/* A page with a deterministic pseudo-random pattern (xorshift). */
static void random_page(page *pg, int w, int h, uint64_t seed)
{
    errbuf e;
    assert_int_equal(page_alloc(pg, w, h, 300, 200, 0, &e), 0);
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            if ((s >> 33) % 3 == 0)
                page_set(pg, x, y, 1);
        }
}

static void assert_pages_equal(const page *a, const page *b)
{
    assert_int_equal(a->width, b->width);
    assert_int_equal(a->height, b->height);
    assert_int_equal(a->stride, b->stride);
    assert_memory_equal(a->bits, b->bits, a->stride * (size_t)a->height);
}

/* dst(x', y') for a clockwise turn by q quarters, computed pixel by pixel. */
static void reference_turn(page *dst, const page *src, int q)
{
    errbuf e;
    int W = src->width, H = src->height;
    int dw = q % 2 ? H : W, dh = q % 2 ? W : H;
    assert_int_equal(page_alloc(dst, dw, dh, 300, 300, 0, &e), 0);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            if (!page_get(src, x, y))
                continue;
            int xd = x, yd = y;
            if (q == 1) { xd = H - 1 - y; yd = x; }
            if (q == 2) { xd = W - 1 - x; yd = H - 1 - y; }
            if (q == 3) { xd = y; yd = W - 1 - x; }
            page_set(dst, xd, yd, 1);
        }
}

static void quarter_turns_match_reference(void **state)
{
    static const int sizes[][2] = {
        { 1, 1 }, { 7, 3 }, { 64, 64 }, { 65, 9 }, { 130, 77 }, { 13, 200 },
        { 257, 31 },
    };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        page src;
        random_page(&src, sizes[i][0], sizes[i][1], i + 1);
        for (int q = 0; q < 4; q++) {
            page got, want;
            errbuf e;
            assert_int_equal(page_rotate_quarter(&got, &src, 90 * q, &e), 0);
            reference_turn(&want, &src, q);
            assert_pages_equal(&got, &want);
            if (q % 2) {
                assert_true(got.xres == src.yres && got.yres == src.xres);
            }
            page_free(&got);
            page_free(&want);
        }
        page_free(&src);
    }
}

static void quarter_turns_compose_to_identity(void **state)
{
    page src, a, b;
    errbuf e;
    random_page(&src, 203, 119, 42);
    assert_int_equal(page_rotate_quarter(&a, &src, 90, &e), 0);
    assert_int_equal(page_rotate_quarter(&b, &a, 270, &e), 0);
    assert_pages_equal(&b, &src);
    page_free(&a);
    page_free(&b);
    assert_int_equal(page_rotate_quarter(&a, &src, 180, &e), 0);
    assert_int_equal(page_rotate_quarter(&b, &a, 180, &e), 0);
    assert_pages_equal(&b, &src);
    page_free(&a);
    page_free(&b);
    assert_int_equal(page_rotate_quarter(&a, &src, 45, &e), -1);
    assert_null(a.bits);
    page_free(&src);
}

/* A horizontal line through the centre turned 10 degrees counter-clockwise
 * rises to the right. */
static void shear_turns_counter_clockwise(void **state)
{
    page src, dst;
    errbuf e;
    assert_int_equal(page_alloc(&src, 801, 601, 300, 300, 0, &e), 0);
    page_fill_rect(&src, 100, 299, 601, 3, 1);
    uint64_t lost = 99;
    assert_int_equal(page_rotate_shear(&dst, &src, 10.0, &lost, &e), 0);
    assert_int_equal(lost, 0);
    assert_int_equal(page_count_black(&dst), page_count_black(&src));
    double k = tan(10.0 * M_PI / 180.0);
    for (int dx = -280; dx <= 280; dx += 40) {
        int x = 400 + dx;
        int y = (int)lround(300 - dx * k);
        assert_int_equal(page_count_rect(&dst, x, y - 3, 1, 7) >= 2, 1);
        /* and nothing far from the rotated line */
        assert_int_equal(page_count_rect(&dst, x, y - 40, 1, 30), 0);
        assert_int_equal(page_count_rect(&dst, x, y + 11, 1, 30), 0);
    }
    page_free(&src);
    page_free(&dst);
}

/* Shears are bijections: content away from the edges keeps its pixel count
 * at any angle, and rotating back by the opposite angle restores it
 * exactly. */
static void shear_is_exactly_invertible(void **state)
{
    static const double angles[] = { 0.03, -0.5, 1.7, -4.2, 9.9, -15.0, 15.0 };
    page src;
    errbuf e;
    random_page(&src, 700, 500, 7);
    /* keep only a disc of radius 150 around the centre */
    for (int y = 0; y < 500; y++)
        for (int x = 0; x < 700; x++)
            if ((x - 349.5) * (x - 349.5) + (y - 249.5) * (y - 249.5) > 150.0 * 150)
                page_set(&src, x, y, 0);
    uint64_t n = page_count_black(&src);
    for (size_t i = 0; i < sizeof angles / sizeof angles[0]; i++) {
        page fwd, back;
        uint64_t lost = 1;
        assert_int_equal(page_rotate_shear(&fwd, &src, angles[i], &lost, &e), 0);
        assert_int_equal(lost, 0);
        assert_int_equal(page_count_black(&fwd), n);
        assert_int_equal(page_rotate_shear(&back, &fwd, -angles[i], NULL, &e), 0);
        assert_pages_equal(&back, &src);
        page_free(&fwd);
        page_free(&back);
    }
    page_free(&src);
}

/* A black page turned leaves white corners, and reports the ink it pushed
 * off the page; the padding bits stay clear. */
static void shear_fills_white_and_counts_loss(void **state)
{
    page src, dst;
    errbuf e;
    assert_int_equal(page_alloc(&src, 300, 200, 300, 300, 0, &e), 0);
    page_fill_rect(&src, 0, 0, 300, 200, 1);
    uint64_t lost = 0;
    assert_int_equal(page_rotate_shear(&dst, &src, -12.0, &lost, &e), 0);
    assert_int_equal(page_get(&dst, 0, 0), 0);
    assert_int_equal(page_get(&dst, 299, 199), 0);
    assert_int_equal(page_get(&dst, 150, 100), 1);
    assert_true(lost > 0);
    assert_int_equal(page_count_black(&dst) + lost, 300 * 200);
    uint64_t before = page_count_black(&dst);
    page_clear_padding(&dst);
    assert_int_equal(page_count_black(&dst), before);
    page_free(&dst);
    assert_int_equal(page_rotate_shear(&dst, &src, 60.0, NULL, &e), -1);
    page_free(&src);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(quarter_turns_match_reference),
        cmocka_unit_test(quarter_turns_compose_to_identity),
        cmocka_unit_test(shear_turns_counter_clockwise),
        cmocka_unit_test(shear_is_exactly_invertible),
        cmocka_unit_test(shear_fills_white_and_counts_loss),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
