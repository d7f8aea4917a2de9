/*
 * test_border.c — the border stage on synthetic pages with exact
 * expectations: solid borders on each side, ragged (also deep and wavy),
 * tilted wedges, striped (white line inside, black line and dashed line
 * inside, a black line following a ragged edge), salted (also with holes
 * side by side), a full
 * frame with a black box next to it, borders touching text (glyphs joined
 * to a straight edge keep all but 8 px), odd page sizes
 * and degenerate pages; and the 64x64 bit transpose it is built on.
 */
#include <stdlib.h>

#include "clean_testlib.h"
#include "border.h"

enum { W = 601, H = 803 };

/* The content of every test page: text lines, and a solid black box and a
 * photo-like noise patch inside the page. */
static void content(page *pg)
{
    mkpage(pg, W, H, 300);
    for (int base = 190; base < 600; base += 50)
        text_line(pg, 170, base, 18);
    rect(pg, 300, 620, 90, 60);                 /* black box */
    uint64_t s = 7;
    for (int y = 620; y < 700; y++)             /* photo-like patch */
        for (int x = 180; x < 260; x++)
            if (rnd(&s) % 2)
                page_set(pg, x, y, 1);
}

/* Cleans a copy of pg and checks that exactly `want` is left and that the
 * reported count is the pixels removed. */
static void expect_clean(const page *pg, const page *want)
{
    page out;
    errbuf e;
    uint64_t removed;
    copy_page(&out, pg);
    assert_int_equal(border_clean(&out, 0.25, &removed, &e), 0);
    assert_int_equal(removed, page_count_black(pg) - page_count_black(&out));
    assert_int_equal(count_lost(want, &out), 0);       /* content kept */
    assert_int_equal(count_lost(&out, want), 0);       /* border gone */
    page_free(&out);
}

/* Left border whose depth on row y is depth[y] (others by symmetry). */
static void left_border(page *pg, const int *depth)
{
    for (int y = 0; y < pg->height; y++)
        rect(pg, 0, y, depth[y], 1);
}

static void solid_border_on_each_side_goes(void **state)
{
    page want, pg;
    content(&want);
    for (int side = 0; side < 4; side++) {
        copy_page(&pg, &want);
        if (side == 0)
            rect(&pg, 0, 0, W, 70);
        else if (side == 1)
            rect(&pg, 0, H - 45, W, 45);
        else if (side == 2)
            rect(&pg, 0, 0, 90, H);
        else
            rect(&pg, W - 33, 0, 33, H);
        expect_clean(&pg, &want);
        page_free(&pg);
    }
    expect_clean(&want, &want);     /* no border: nothing changes */
    page_free(&want);
}

static void ragged_border_goes(void **state)
{
    page want, pg;
    content(&want);
    copy_page(&pg, &want);
    int depth[H];
    uint64_t s = 99;
    for (int y = 0; y < H;) {
        int d = 55 + (int)(rnd(&s) % 17) - 8, run = 3 + (int)(rnd(&s) % 12);
        for (int k = 0; k < run && y < H; k++)
            depth[y++] = d;
    }
    left_border(&pg, depth);
    expect_clean(&pg, &want);
    page_free(&pg);
    page_free(&want);
}

static void tilted_wedges_go(void **state)
{
    page want, pg;
    content(&want);
    copy_page(&pg, &want);
    for (int x = 0; x < W; x++)                 /* top: 0 .. 110 px deep */
        rect(&pg, x, 0, 1, x * 110 / W);
    for (int y = 0; y < H; y++)                 /* right: 12 .. 80 px deep */
        rect(&pg, W - (12 + y * 68 / H), y, 12 + y * 68 / H, 1);
    expect_clean(&pg, &want);
    page_free(&pg);
    page_free(&want);
}

static void striped_borders_go(void **state)
{
    page want, pg;
    content(&want);
    copy_page(&pg, &want);
    rect(&pg, 0, 0, 80, H);                     /* left with a white line */
    page_fill_rect(&pg, 22, 0, 6, H, 0);
    rect(&pg, 0, H - 50, W, 50);                /* bottom + black line */
    rect(&pg, 0, H - 50 - 22 - 6, W, 6);
    rect(&pg, W - 40, 0, 40, H);                /* right + dashed line */
    for (int y = 0; y < H; y += 55)
        rect(&pg, W - 40 - 20 - 6, y, 6, 30);
    expect_clean(&pg, &want);
    page_free(&pg);
    page_free(&want);
}

static void salted_border_goes(void **state)
{
    page want, pg;
    content(&want);
    copy_page(&pg, &want);
    rect(&pg, 0, 0, W, 64);
    uint64_t s = 5;
    for (int y = 0; y < 64; y++)
        for (int x = 0; x < W; x++)
            if (rnd(&s) % 150 == 0)     /* 1- and 2-px white holes */
                page_fill_rect(&pg, x, y, 1 + (int)(rnd(&s) % 2), 1, 0);
    expect_clean(&pg, &want);
    page_free(&pg);
    page_free(&want);
}

/* A ragged edge as scanners of torn or curled sheets make it: a random
 * walk that moves by up to amp px every 2-13 lines within [lo, hi]. */
static void ragged_walk(int *depth, int n, int start, int lo, int hi, int amp,
                        uint64_t seed)
{
    uint64_t s = seed;
    int d = start;
    for (int t = 0; t < n;) {
        int run = 2 + (int)(rnd(&s) % 12);
        d += (int)(rnd(&s) % (unsigned)(2 * amp + 1)) - amp;
        d = d < lo ? lo : d > hi ? hi : d;
        for (int k = 0; k < run && t < n; k++)
            depth[t++] = d;
    }
}

static void deep_wavy_ragged_border_goes(void **state)
{
    /* teeth from 120 to 345 px: beyond the first look (320 px), and
     * straying far from any straight line */
    enum { BW = 1400, BH = 1600 };
    page want, pg;
    mkpage(&want, BW, BH, 300);
    for (int base = 100; base < 1500; base += 50)
        text_line(&want, 420, base, 30);
    copy_page(&pg, &want);
    int depth[BH];
    ragged_walk(depth, BH, 250, 120, 345, 20, 17);
    left_border(&pg, depth);
    expect_clean(&pg, &want);
    page_free(&pg);
    page_free(&want);
}

static void clustered_salt_goes(void **state)
{
    /* 1-3 px square holes, often side by side: white gaps along a row
     * longer than the bridged gap, with black above and below */
    page want, pg;
    content(&want);
    copy_page(&pg, &want);
    rect(&pg, 0, 0, 110, H);
    uint64_t s = 23;
    for (int i = 0; i < 600; i++) {         /* about 3 % of the border */
        int y = (int)(rnd(&s) % H), x = (int)(rnd(&s) % 107);
        int sz = 1 + (int)(rnd(&s) % 3);
        page_fill_rect(&pg, x, y, sz, sz, 0);
    }
    expect_clean(&pg, &want);
    page_free(&pg);
    page_free(&want);
}

static void stripe_following_a_ragged_edge_goes(void **state)
{
    /* a black line 8 px wide 16 px beyond a ragged edge, following it */
    page want, pg;
    content(&want);
    copy_page(&pg, &want);
    int depth[H];
    ragged_walk(depth, H, 60, 30, 100, 6, 5);
    for (int y = 0; y < H; y++) {
        rect(&pg, 0, y, depth[y], 1);
        rect(&pg, depth[y] + 16, y, 8, 1);
    }
    expect_clean(&pg, &want);
    page_free(&pg);
    page_free(&want);
}

static void frame_goes_box_beside_it_stays(void **state)
{
    page want, pg;
    content(&want);
    rect(&want, 70, 300, 60, 120);              /* 10 px from the left border */
    copy_page(&pg, &want);
    rect(&pg, 0, 0, W, 40);
    rect(&pg, 0, H - 60, W, 60);
    rect(&pg, 0, 0, 60, H);
    for (int y = 0; y < H; y++)                 /* tilted right side */
        rect(&pg, W - (20 + y / 20), y, 20 + y / 20, 1);
    expect_clean(&pg, &want);
    page_free(&pg);
    page_free(&want);
}

static void border_touching_text_leaves_the_text_beyond(void **state)
{
    page want, pg;
    errbuf e;
    uint64_t removed;
    content(&want);
    /* glyphs reaching into the border: stems, a bar, a rule */
    for (int y = 200; y < 600; y += 40) {
        rect(&want, 50, y, 90, 3);
        rect(&want, 70, y, 3, 25);
        rect(&want, 100, y, 3, 25);
    }
    copy_page(&pg, &want);
    rect(&pg, 0, 0, 60, H);
    assert_int_equal(border_clean(&pg, 0.25, &removed, &e), 0);
    assert_int_equal(count_rect(&pg, 0, 0, 60, H), 0);      /* border gone */
    /* beyond 24 px from the border edge (the stage's limit) nothing is lost */
    for (int y = 0; y < H; y++)
        for (int x = 60 + 24; x < W; x++)
            assert_int_equal(page_get(&pg, x, y), page_get(&want, x, y));
    page_free(&pg);
    page_free(&want);
}

/* A glyph joined to a straight or tilted border (the bowl of a D, a serif
 * reaching the wedge of a skewed sheet) keeps everything but the few pixels
 * next to the edge: a straight edge strays a pixel or two from its line,
 * so the 24 px a ragged edge's teeth get is not taken there: beyond 8 px
 * from the edge nothing is lost. */
static void glyph_joined_to_a_straight_border_stays(void **state)
{
    for (int tilted = 0; tilted < 2; tilted++) {
        page want, pg;
        errbuf e;
        uint64_t removed;
        content(&want);
        copy_page(&pg, &want);
        int edge[H];
        for (int y = 0; y < H; y++) {
            edge[y] = tilted ? 40 + y / 16 : 60;
            rect(&pg, 0, y, edge[y], 1);
        }
        /* strokes 8..20 px long, 10 rows thick, joined to the edge on an
         * eighth of the lines (more, and the edge is taken as ragged);
         * each with a stem beyond a white counter, like a D's bowl */
        for (int y = 120, len = 8; y + 10 < H; y += 80, len = len < 20 ? len + 3 : 8) {
            for (int k = 0; k < 10; k++) {
                rect(&want, edge[y + k], y + k, len, 1);
                rect(&pg, edge[y + k], y + k, len, 1);
            }
            rect(&want, edge[y] + len + 6, y, 3, 10);
            rect(&pg, edge[y] + len + 6, y, 3, 10);
        }
        assert_int_equal(border_clean(&pg, 0.25, &removed, &e), 0);
        for (int y = 0; y < H; y++) {
            assert_int_equal(count_rect(&pg, 0, y, edge[y], 1), 0);    /* border gone */
            for (int x = edge[y] + 8; x < W; x++)
                assert_int_equal(page_get(&pg, x, y), page_get(&want, x, y));
        }
        page_free(&pg);
        page_free(&want);
    }
}

static void odd_sizes_and_resolution(void **state)
{
    /* 150 dpi, sizes not multiples of 64, borders on all sides */
    page want, pg;
    mkpage(&want, 333, 401, 150);
    rect(&want, 100, 100, 50, 8);
    rect(&want, 120, 200, 8, 60);
    copy_page(&pg, &want);
    rect(&pg, 0, 0, 333, 21);
    rect(&pg, 0, 380, 333, 21);
    rect(&pg, 0, 0, 30, 401);
    rect(&pg, 310, 0, 23, 401);
    expect_clean(&pg, &want);
    page_free(&pg);
    page_free(&want);
}

static void deep_borders_are_followed(void **state)
{
    /* at 100 dpi the first look is 107 px deep: these borders go deeper */
    page want, pg;
    mkpage(&want, 800, 1100, 100);
    for (int base = 400; base < 900; base += 40)
        text_line(&want, 300, base, 12);
    rect(&want, 420, 950, 60, 50);
    copy_page(&pg, &want);
    rect(&pg, 0, 0, 170, 1100);                 /* left, 170 px */
    for (int x = 0; x < 800; x++)               /* top wedge 20 .. 240 px */
        rect(&pg, x, 0, 1, 20 + x * 220 / 800);
    expect_clean(&pg, &want);
    page_free(&pg);
    page_free(&want);
}

static void random_pages_are_safe(void **state)
{
    uint64_t s = 42;
    for (int i = 0; i < 60; i++) {
        page pg;
        errbuf e;
        uint64_t removed;
        random_page(&pg, &s);
        uint64_t before = page_count_black(&pg);
        assert_int_equal(border_clean(&pg, 0.05 + (double)(i % 10) / 20, &removed, &e), 0);
        assert_int_equal(removed, before - page_count_black(&pg));
        page_free(&pg);
    }
}

static void degenerate_pages_do_not_crash(void **state)
{
    int sizes[][2] = { { 1, 1 }, { 1, 300 }, { 300, 1 }, { 64, 64 }, { 500, 700 } };
    for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        for (int black = 0; black < 2; black++) {
            page pg;
            errbuf e;
            uint64_t removed;
            mkpage(&pg, sizes[i][0], sizes[i][1], 300);
            if (black)
                rect(&pg, 0, 0, sizes[i][0], sizes[i][1]);
            uint64_t before = page_count_black(&pg);
            assert_int_equal(border_clean(&pg, 0.25, &removed, &e), 0);
            assert_int_equal(removed, before - page_count_black(&pg));
            if (!black)
                assert_int_equal(removed, 0);
            page_free(&pg);
        }
    }
}

static void transpose64_is_a_transpose(void **state)
{
    uint64_t a[64], b[64], s = 3;
    for (int i = 0; i < 64; i++)
        a[i] = b[i] = rnd(&s);
    border_transpose64(a);
    for (int i = 0; i < 64; i++)
        for (int j = 0; j < 64; j++)
            assert_int_equal((a[j] >> (63 - i)) & 1, (b[i] >> (63 - j)) & 1);
    border_transpose64(a);
    assert_memory_equal(a, b, sizeof a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(solid_border_on_each_side_goes),
        cmocka_unit_test(ragged_border_goes),
        cmocka_unit_test(tilted_wedges_go),
        cmocka_unit_test(striped_borders_go),
        cmocka_unit_test(salted_border_goes),
        cmocka_unit_test(deep_wavy_ragged_border_goes),
        cmocka_unit_test(clustered_salt_goes),
        cmocka_unit_test(stripe_following_a_ragged_edge_goes),
        cmocka_unit_test(frame_goes_box_beside_it_stays),
        cmocka_unit_test(border_touching_text_leaves_the_text_beyond),
        cmocka_unit_test(glyph_joined_to_a_straight_border_stays),
        cmocka_unit_test(odd_sizes_and_resolution),
        cmocka_unit_test(deep_borders_are_followed),
        cmocka_unit_test(random_pages_are_safe),
        cmocka_unit_test(degenerate_pages_do_not_crash),
        cmocka_unit_test(transpose64_is_a_transpose),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
