/*
 * test_crop.c — the crop stage: the content box is exact and ignores
 * leftover specks; content mode crops to it plus the margin (clipped to the
 * page); paper modes give exactly A4 / Letter / Legal at the page's
 * resolution with the content centred, landscape when needed, and never
 * lose content that does not fit; degenerate pages do not crash.
 */
#include <stdlib.h>

#include "clean_testlib.h"
#include "crop.h"

/* A 1000 x 1400 page at `dpi` with content spanning exactly
 * (201, 305) .. (799, 1102) inclusive, and specks around it (no larger
 * than 3 x 3, specks at 200 dpi too). */
static void sample(page *pg, double dpi)
{
    mkpage(pg, 1000, 1400, dpi);
    rect(pg, 201, 305, 120, 30);
    text_line(pg, 300, 500, 20);
    rect(pg, 700, 1000, 100, 103);              /* x 700..799, y ..1102 */
    page_set(pg, 400, 700, 1);                  /* a 1-px rule piece */
    rect(pg, 400, 701, 1, 40);
    rect(pg, 50, 50, 3, 3);                     /* specks outside */
    rect(pg, 900, 1300, 3, 3);
    rect(pg, 950, 200, 2, 3);
    rect(pg, 100, 1350, 1, 1);
}

static void content_box_is_exact_without_specks(void **state)
{
    page pg;
    errbuf e;
    struct crop_box b;
    sample(&pg, 300);
    assert_int_equal(crop_content_box(&pg, 5, &b, &e), 0);
    assert_int_equal(b.x, 201);
    assert_int_equal(b.y, 305);
    assert_int_equal(b.w, 799 - 201 + 1);
    assert_int_equal(b.h, 1102 - 305 + 1);
    /* without speck filtering the specks count */
    assert_int_equal(crop_content_box(&pg, 0, &b, &e), 0);
    assert_int_equal(b.x, 50);
    assert_int_equal(b.y, 50);
    assert_int_equal(b.x + b.w, 952);
    assert_int_equal(b.y + b.h, 1351);
    page_free(&pg);
}

static void content_mode_crops_to_box_plus_margin(void **state)
{
    page pg, orig;
    errbuf e;
    struct crop_box kept;
    sample(&pg, 300);
    copy_page(&orig, &pg);
    /* 5 mm at 300 dpi = 59 px */
    assert_int_equal(crop_page(&pg, CROP_CONTENT, 5.0, 5, &kept, &e), 0);
    assert_int_equal(kept.x, 201 - 59);
    assert_int_equal(kept.y, 305 - 59);
    assert_int_equal(kept.w, 799 - 201 + 1 + 2 * 59);
    assert_int_equal(kept.h, 1102 - 305 + 1 + 2 * 59);
    assert_int_equal(pg.width, kept.w);
    assert_int_equal(pg.height, kept.h);
    assert_true(pg.xres == 300 && pg.yres == 300);
    /* the content moved by (-kept.x, -kept.y), nothing else there */
    for (int y = 0; y < pg.height; y++)
        for (int x = 0; x < pg.width; x++)
            assert_int_equal(page_get(&pg, x, y), page_get(&orig, x + kept.x, y + kept.y));
    page_free(&pg);
    /* a margin larger than the room left is clipped to the page */
    copy_page(&pg, &orig);
    assert_int_equal(crop_page(&pg, CROP_CONTENT, 50.0, 5, &kept, &e), 0);
    assert_int_equal(kept.x, 0);
    assert_int_equal(kept.y, 0);
    assert_int_equal(kept.w, 1000);
    assert_int_equal(kept.h, 1400);
    assert_int_equal(page_count_black(&pg), page_count_black(&orig) - 9 - 9 - 6 - 1);
    page_free(&pg);
    page_free(&orig);
}

static void paper_sizes_are_exact(void **state)
{
    int w, h;
    assert_int_equal(crop_paper_size(CROP_A4, 300, 300, &w, &h), 0);
    assert_int_equal(w, 2480);
    assert_int_equal(h, 3508);
    assert_int_equal(crop_paper_size(CROP_LETTER, 300, 300, &w, &h), 0);
    assert_int_equal(w, 2550);
    assert_int_equal(h, 3300);
    assert_int_equal(crop_paper_size(CROP_LEGAL, 300, 300, &w, &h), 0);
    assert_int_equal(w, 2550);
    assert_int_equal(h, 4200);
    assert_int_equal(crop_paper_size(CROP_A4, 200, 200, &w, &h), 0);
    assert_int_equal(w, 1654);
    assert_int_equal(h, 2339);
    assert_int_equal(crop_paper_size(CROP_LETTER, 200, 200, &w, &h), 0);
    assert_int_equal(w, 1700);
    assert_int_equal(h, 2200);
    assert_int_equal(crop_paper_size(CROP_LEGAL, 200, 200, &w, &h), 0);
    assert_int_equal(w, 1700);
    assert_int_equal(h, 2800);
    assert_int_equal(crop_paper_size(CROP_CONTENT, 300, 300, &w, &h), -1);
}

static void paper_mode_centres_content(void **state)
{
    enum crop_mode modes[] = { CROP_A4, CROP_LETTER, CROP_LEGAL };
    double dpis[] = { 300, 200 };
    for (int d = 0; d < 2; d++)
        for (int i = 0; i < 3; i++) {
            page pg, orig;
            errbuf e;
            struct crop_box kept;
            int w, h;
            sample(&pg, dpis[d]);
            copy_page(&orig, &pg);
            assert_int_equal(crop_page(&pg, modes[i], 5.0, 5, &kept, &e), 0);
            assert_int_equal(crop_paper_size(modes[i], dpis[d], dpis[d], &w, &h), 0);
            assert_int_equal(pg.width, w);
            assert_int_equal(pg.height, h);
            assert_int_equal(kept.x, 201);
            assert_int_equal(kept.w, 599);
            int ox = (w - 599) / 2, oy = (h - 798) / 2;
            for (int y = 0; y < kept.h; y++)
                for (int x = 0; x < kept.w; x++)
                    assert_int_equal(page_get(&pg, ox + x, oy + y),
                                     page_get(&orig, 201 + x, 305 + y));
            assert_int_equal(page_count_black(&pg),
                             page_count_black(&orig) - 9 - 9 - 6 - 1);
            page_free(&pg);
            page_free(&orig);
        }
}

static void content_larger_than_paper_is_not_lost(void **state)
{
    page pg;
    errbuf e;
    struct crop_box kept;
    /* landscape content that fits A4 turned */
    mkpage(&pg, 3600, 2600, 300);
    rect(&pg, 100, 100, 3300, 2000);
    assert_int_equal(crop_page(&pg, CROP_A4, 5.0, 5, &kept, &e), 0);
    assert_int_equal(pg.width, 3508);
    assert_int_equal(pg.height, 2480);
    assert_int_equal(page_count_black(&pg), 3300 * 2000);
    page_free(&pg);
    /* taller than Letter either way: the page grows, nothing is cut */
    mkpage(&pg, 2000, 4000, 300);
    rect(&pg, 10, 20, 1500, 3900);
    assert_int_equal(crop_page(&pg, CROP_LETTER, 5.0, 5, &kept, &e), 0);
    assert_int_equal(pg.width, 2550);
    assert_int_equal(pg.height, 3900);
    assert_int_equal(page_count_black(&pg), 1500 * 3900);
    page_free(&pg);
}

static void random_pages_are_safe(void **state)
{
    uint64_t s = 44;
    for (int i = 0; i < 60; i++) {
        page pg;
        errbuf e;
        struct crop_box kept;
        random_page(&pg, &s);
        enum crop_mode mode = (enum crop_mode)(i % 5);
        int w = pg.width, h = pg.height;
        assert_int_equal(crop_page(&pg, mode, (double)(i % 7), 5, &kept, &e), 0);
        if (mode == CROP_NONE) {
            assert_int_equal(pg.width, w);
            assert_int_equal(pg.height, h);
        }
        if (mode == CROP_CONTENT) {
            assert_true(kept.x >= 0 && kept.y >= 0);
            assert_true(kept.x + kept.w <= w && kept.y + kept.h <= h);
        }
        page_free(&pg);
    }
}

static void degenerate_pages(void **state)
{
    int sizes[][2] = { { 1, 1 }, { 1, 40 }, { 40, 1 }, { 300, 200 } };
    for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        for (int black = 0; black < 2; black++)
            for (int mode = CROP_NONE; mode <= CROP_LEGAL; mode++) {
                page pg;
                errbuf e;
                struct crop_box kept;
                mkpage(&pg, sizes[i][0], sizes[i][1], 300);
                if (black)
                    rect(&pg, 0, 0, sizes[i][0], sizes[i][1]);
                assert_int_equal(crop_page(&pg, (enum crop_mode)mode, 5.0, 5, &kept, &e), 0);
                if (mode == CROP_NONE || (mode == CROP_CONTENT && !black)) {
                    assert_int_equal(pg.width, sizes[i][0]);
                    assert_int_equal(pg.height, sizes[i][1]);
                }
                if (mode >= CROP_A4) {
                    int w, h;
                    crop_paper_size((enum crop_mode)mode, 300, 300, &w, &h);
                    assert_int_equal(pg.width, w);
                    assert_int_equal(pg.height, h);
                }
                page_free(&pg);
            }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(content_box_is_exact_without_specks),
        cmocka_unit_test(content_mode_crops_to_box_plus_margin),
        cmocka_unit_test(paper_sizes_are_exact),
        cmocka_unit_test(paper_mode_centres_content),
        cmocka_unit_test(content_larger_than_paper_is_not_lost),
        cmocka_unit_test(random_pages_are_safe),
        cmocka_unit_test(degenerate_pages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
