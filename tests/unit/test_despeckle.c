/*
 * test_despeckle.c — the despeckle stage on synthetic pages: isolated specks
 * of 1x1 to 5x5 go, a 1-px-wide line and bigger blobs stay, i-dots, periods,
 * colons and dotted leaders next to text stay while specks among the same
 * text go — also specks too small for the page's text, specks placed
 * unlike its i-dots and periods, specks run together or turned long —
 * while i-dots over joined, slanted or serifed stems, hyphens, dashes,
 * quotes, broken commas and glyph pieces stay; small holes in strokes are
 * filled and big ones are not, sizes scale with the resolution,
 * degenerate pages do not crash.
 */
#include <stdlib.h>

#include "clean_testlib.h"
#include "chain.h"
#include "despeckle.h"

static struct despeckle_result run(page *pg, int max_speck, int max_hole)
{
    struct despeckle_result res;
    errbuf e;
    uint64_t before = page_count_black(pg);
    assert_int_equal(despeckle_page(pg, max_speck, max_hole, &res, &e), 0);
    assert_int_equal(before - res.speck_px + res.hole_px, page_count_black(pg));
    return res;
}

/* Despeckles pg with the defaults and checks that it removed speck_px
 * pixels and left exactly want; frees both pages. */
static void expect_exactly(page *pg, page *want, uint64_t speck_px)
{
    struct despeckle_result r = run(pg, 5, 3);
    assert_int_equal(r.speck_px, speck_px);
    assert_int_equal(count_lost(want, pg), 0);
    assert_int_equal(count_lost(pg, want), 0);
    page_free(pg);
    page_free(want);
}

static void specks_go_lines_stay(void **state)
{
    page pg;
    mkpage(&pg, 400, 300, 300);
    page_set(&pg, 10, 10, 1);               /* 1 x 1 */
    for (int s = 2; s <= 5; s++)
        rect(&pg, 40 * s, 40, s, s);        /* 2x2 .. 5x5 */
    rect(&pg, 300, 200, 5, 3);
    rect(&pg, 50, 100, 1, 40);              /* 1-px-wide lines */
    rect(&pg, 100, 150, 60, 1);
    rect(&pg, 300, 100, 6, 6);              /* bigger than a speck */
    struct despeckle_result r = run(&pg, 5, 3);
    assert_int_equal(r.specks, 6);
    assert_int_equal(r.speck_px, 1 + 4 + 9 + 16 + 25 + 15);
    assert_int_equal(page_count_black(&pg), 40 + 60 + 36);
    assert_int_equal(count_rect(&pg, 50, 100, 1, 40), 40);
    assert_int_equal(count_rect(&pg, 100, 150, 60, 1), 60);
    page_free(&pg);
}

static void text_dots_stay_specks_among_text_go(void **state)
{
    page want, pg;
    mkpage(&want, 700, 400, 300);
    for (int base = 80; base < 380; base += 60)
        text_line(&want, 40, base, 30);
    /* a colon and an ellipsis after a word, a dotted leader */
    int x = text_line(&want, 40, 370, 4);
    rect(&want, x + 2, 366, 4, 4);
    rect(&want, x + 2, 354, 4, 4);
    for (int k = 0; k < 3; k++)
        rect(&want, x + 20 + 10 * k, 366, 4, 4);
    for (int k = 0; k < 12; k++)
        rect(&want, 400 + 16 * k, 390, 3, 3);
    copy_page(&pg, &want);
    /* specks among the text: between lines, in word gaps, above letters
     * but off their stems, in the margins */
    int specks[][4] = { { 72, 95, 3, 3 }, { 113, 100, 5, 5 }, { 300, 148, 2, 2 },
                        { 500, 210, 1, 1 }, { 20, 20, 4, 4 }, { 650, 300, 5, 4 },
                        { 45, 40, 2, 3 }, { 230, 345, 3, 3 } };
    uint64_t spx = 0;
    for (unsigned i = 0; i < sizeof specks / sizeof specks[0]; i++) {
        assert_int_equal(count_rect(&want, specks[i][0] - 4, specks[i][1] - 4,
                                    specks[i][2] + 8, specks[i][3] + 8), 0);
        rect(&pg, specks[i][0], specks[i][1], specks[i][2], specks[i][3]);
        spx += (uint64_t)(specks[i][2] * specks[i][3]);
    }
    expect_exactly(&pg, &want, spx);
}

/* Left edge of letter i of a text_line that starts at x0 (see
 * clean_testlib.h: "o" 14, "i" 4, "h" 12 px wide, 4 px apart, 16 more after
 * every fifth letter). */
static int letter_x(int x0, int i)
{
    static const int width[3] = { 14, 4, 12 };
    int x = x0;
    for (int k = 0; k < i; k++)
        x += width[k % 3] + 4 + (k % 5 == 4 ? 16 : 0);
    return x;
}

/* Five lines of 30 letters (50 i-dots 4 x 4 over their stems at a gap of
 * 4 px, 30 periods 4 x 4 on the baseline 3 px after a letter): the page's
 * dots. */
static void dotted_text(page *pg)
{
    mkpage(pg, 760, 380, 300);
    for (int base = 70; base < 370; base += 60)
        text_line(pg, 40, base, 30);
}

static void dots_too_small_for_the_text_go(void **state)
{
    /* a 1 x 1 speck exactly where an i-dot over an "h" would be, a 2 x 2
     * one where a period would be: smaller than any dot of this text */
    page want, pg;
    dotted_text(&want);
    copy_page(&pg, &want);
    int h = letter_x(40, 2);                    /* "h" stem: 3 px wide */
    rect(&pg, h + 1, 130 - 30 - 4 - 1, 1, 1);
    rect(&want, 620, 190 - 20, 14, 20);         /* a letter after the line */
    rect(&pg, 620, 190 - 20, 14, 20);
    rect(&pg, 620 + 14 + 3, 190 - 2, 2, 2);
    expect_exactly(&pg, &want, 1 + 4);
}

static void dots_placed_unlike_this_texts_dots_go(void **state)
{
    /* 4 x 4 specks, as big as the text's dots: over an "h" stem but 8 px
     * above it (this text's i-dots are 4 px above their stems), and on the
     * baseline but 12 px after a letter (its periods follow at 3 px) */
    page want, pg;
    dotted_text(&want);
    copy_page(&pg, &want);
    int h = letter_x(40, 5);
    rect(&pg, h, 70 - 30 - 8 - 4, 4, 4);
    rect(&want, 620, 250 - 20, 14, 20);         /* a letter after the line */
    rect(&pg, 620, 250 - 20, 14, 20);
    rect(&pg, 620 + 14 + 12, 250 - 4, 4, 4);
    expect_exactly(&pg, &want, 16 + 16);
}

static void dots_of_joined_slanted_and_serifed_stems_stay(void **state)
{
    /* i-dots whose stems are joined to the letter before ("ri"), slant
     * 1 px every 4 rows, or jog 2 px under a serif: all stay, among text
     * whose other i-dots set the gap */
    page want, pg;
    dotted_text(&want);
    int x = 60, base = 365;
    rect(&want, x, base - 20, 3, 20);           /* "r": stem and arm ... */
    rect(&want, x, base - 20, 10, 3);           /* ... joined to the i */
    rect(&want, x + 9, base - 20, 4, 20);
    rect(&want, x + 9, base - 28, 4, 4);
    x += 40;
    for (int y = 0; y < 20; y++)                /* slanted stem */
        rect(&want, x + y / 4, base - 20 + y, 4, 1);
    rect(&want, x, base - 28, 4, 4);
    x += 40;
    rect(&want, x - 2, base - 20, 6, 3);        /* serif and jog */
    rect(&want, x + 1, base - 17, 4, 17);
    rect(&want, x - 1, base - 28, 4, 4);
    copy_page(&pg, &want);
    struct despeckle_result r = run(&pg, 5, 3);
    assert_int_equal(r.speck_px, 0);
    assert_int_equal(count_lost(&want, &pg), 0);
    page_free(&pg);
    page_free(&want);
}

static void runs_of_specks_go_blobs_of_text_stay(void **state)
{
    /* two specks run together and a speck turned long, far from text, go;
     * a solid square, a hyphen and the dashes of a dashed rule stay */
    page want, pg;
    mkpage(&want, 500, 300, 300);
    int x = text_line(&want, 20, 60, 8);
    rect(&want, x + 4, 48, 9, 3);               /* hyphen on the line */
    text_line(&want, x + 17, 60, 5);
    for (int k = 0; k < 8; k++)
        rect(&want, 40 + 16 * k, 200, 11, 4);   /* dashed rule */
    rect(&want, 400, 250, 7, 7);                /* solid square */
    copy_page(&pg, &want);
    rect(&pg, 300, 150, 5, 5);                  /* two specks touching */
    rect(&pg, 305, 155, 4, 4);
    for (int y = 0; y < 6; y++)                 /* a 2 x 5 turned long */
        rect(&pg, 420 + y / 3, 120 + y, 2, 1);
    struct despeckle_result r = run(&pg, 5, 3);
    assert_int_equal(r.specks, 2);
    assert_int_equal(r.speck_px, 25 + 16 + 12);
    assert_int_equal(count_lost(&want, &pg), 0);
    page_free(&pg);
    page_free(&want);
}

static void marks_made_of_pieces_stay(void **state)
{
    /* a double quote, a comma whose tail broke off its head, three pieces
     * of a broken glyph, a terminal broken off a letter's top, a row of
     * three dots: all stay */
    page want, pg;
    dotted_text(&want);
    int base = 365, x = 620;
    rect(&want, x, base - 30, 3, 7);            /* " before a letter */
    rect(&want, x + 5, base - 30, 3, 7);
    rect(&want, x + 11, base - 20, 14, 20);
    x += 40;
    rect(&want, x, base - 20, 12, 20);          /* a letter, then ",": */
    rect(&want, x + 15, base - 4, 4, 4);        /* head on the baseline */
    rect(&want, x + 17, base + 1, 2, 3);        /* tail, 1 px below */
    copy_page(&pg, &want);
    struct despeckle_result r = run(&pg, 5, 3);
    assert_int_equal(r.speck_px, 0);
    assert_int_equal(count_lost(&want, &pg), 0);
    page_free(&pg);
    page_free(&want);
    mkpage(&want, 300, 200, 300);
    rect(&want, 20, 100, 3, 3);                 /* pieces 1-2 px apart */
    rect(&want, 25, 101, 3, 2);
    rect(&want, 29, 99, 2, 3);
    rect(&want, 100, 80, 14, 20);               /* a letter and a terminal */
    rect(&want, 116, 80, 4, 4);                 /* 3 px off, tops level */
    for (int k = 0; k < 3; k++)                 /* a row of three dots */
        rect(&want, 180 + 12 * k, 90, 4, 4);
    copy_page(&pg, &want);
    r = run(&pg, 5, 3);
    assert_int_equal(r.speck_px, 0);
    assert_int_equal(count_lost(&want, &pg), 0);
    page_free(&pg);
    page_free(&want);
}

static void upside_down_text_keeps_its_dots(void **state)
{
    /* the same text turned 180 degrees: i-dots under stems, periods
     * aligned with the tops */
    page up, pg;
    mkpage(&up, 500, 300, 300);
    for (int base = 80; base < 300; base += 60)
        text_line(&up, 30, base, 24);
    mkpage(&pg, 500, 300, 300);
    for (int y = 0; y < 300; y++)
        for (int x = 0; x < 500; x++)
            if (page_get(&up, x, y))
                page_set(&pg, 499 - x, 299 - y, 1);
    page want;
    copy_page(&want, &pg);
    rect(&pg, 250, 150, 3, 3);
    struct despeckle_result r = run(&pg, 5, 3);
    assert_int_equal(r.speck_px, 9);
    assert_int_equal(count_lost(&want, &pg), 0);
    page_free(&pg);
    page_free(&want);
    page_free(&up);
}

static void small_holes_are_filled(void **state)
{
    page pg;
    mkpage(&pg, 200, 100, 300);
    rect(&pg, 10, 10, 30, 30);
    page_fill_rect(&pg, 20, 20, 2, 2, 0);   /* 2x2 hole: filled */
    page_fill_rect(&pg, 30, 30, 1, 3, 0);   /* 1x3 hole: filled */
    rect(&pg, 60, 10, 30, 30);
    page_fill_rect(&pg, 70, 20, 4, 4, 0);   /* 4x4 hole: stays */
    rect(&pg, 110, 10, 30, 30);
    page_fill_rect(&pg, 110, 20, 2, 2, 0);  /* notch open to the outside */
    page_fill_rect(&pg, 125, 38, 2, 2, 0);  /* touches the outside below */
    struct despeckle_result r = run(&pg, 5, 3);
    assert_int_equal(r.holes, 2);
    assert_int_equal(r.hole_px, 4 + 3);
    assert_int_equal(count_rect(&pg, 10, 10, 30, 30), 900);
    assert_int_equal(count_rect(&pg, 60, 10, 30, 30), 900 - 16);
    assert_int_equal(count_rect(&pg, 110, 10, 30, 30), 900 - 8);
    page_free(&pg);
}

static void sizes_scale_with_resolution(void **state)
{
    page pg;
    mkpage(&pg, 600, 400, 600);             /* at 600 dpi specks go to 10x10 */
    rect(&pg, 100, 100, 10, 10);
    rect(&pg, 300, 100, 12, 12);
    rect(&pg, 100, 300, 2, 80);
    struct despeckle_result r = run(&pg, 5, 3);
    assert_int_equal(r.specks, 1);
    assert_int_equal(page_count_black(&pg), 144 + 160);
    page_free(&pg);
    mkpage(&pg, 300, 200, 150);             /* at 150 dpi only up to 3x3 */
    rect(&pg, 50, 50, 3, 3);
    rect(&pg, 150, 50, 4, 4);
    r = run(&pg, 5, 3);
    assert_int_equal(r.specks, 1);
    assert_int_equal(page_count_black(&pg), 16);
    page_free(&pg);
}

static void random_pages_are_safe(void **state)
{
    uint64_t s = 43;
    for (int i = 0; i < 60; i++) {
        page pg;
        random_page(&pg, &s);
        run(&pg, 1 + i % 8, i % 5);
        page_free(&pg);
    }
}

static void disabled_and_degenerate_pages(void **state)
{
    page pg;
    mkpage(&pg, 100, 100, 300);
    rect(&pg, 10, 10, 2, 2);
    struct despeckle_result r = run(&pg, 0, 0);
    assert_int_equal(r.specks, 0);
    assert_int_equal(page_count_black(&pg), 4);
    page_free(&pg);
    int sizes[][2] = { { 1, 1 }, { 1, 50 }, { 50, 1 }, { 200, 300 } };
    for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        for (int black = 0; black < 2; black++) {
            mkpage(&pg, sizes[i][0], sizes[i][1], 300);
            if (black)
                rect(&pg, 0, 0, sizes[i][0], sizes[i][1]);
            r = run(&pg, 5, 3);
            if (!black)
                assert_int_equal(page_count_black(&pg), 0);
            page_free(&pg);
        }
    mkpage(&pg, 1, 1, 300);                 /* a 1x1 black page is a speck */
    page_set(&pg, 0, 0, 1);
    r = run(&pg, 5, 3);
    assert_int_equal(r.specks, 1);
    page_free(&pg);
}

static void stage_reports(void **state)
{
    page pg;
    errbuf e;
    struct chain_opts o;
    struct page_report rep;
    chain_opts_default(&o);
    memset(&rep, 0, sizeof rep);
    mkpage(&pg, 300, 300, 300);
    rect(&pg, 100, 100, 3, 3);
    rect(&pg, 200, 100, 1, 1);
    rect(&pg, 50, 200, 20, 20);
    page_fill_rect(&pg, 60, 210, 1, 1, 0);
    assert_int_equal(despeckle_stage(&pg, &o, &rep, &e), 0);
    assert_int_equal(rep.specks, 2);
    assert_int_equal(rep.speck_px, 10);
    assert_int_equal(rep.holes, 1);
    assert_int_equal(page_count_black(&pg), 400);
    page_free(&pg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(specks_go_lines_stay),
        cmocka_unit_test(text_dots_stay_specks_among_text_go),
        cmocka_unit_test(dots_too_small_for_the_text_go),
        cmocka_unit_test(dots_placed_unlike_this_texts_dots_go),
        cmocka_unit_test(dots_of_joined_slanted_and_serifed_stems_stay),
        cmocka_unit_test(runs_of_specks_go_blobs_of_text_stay),
        cmocka_unit_test(marks_made_of_pieces_stay),
        cmocka_unit_test(upside_down_text_keeps_its_dots),
        cmocka_unit_test(small_holes_are_filled),
        cmocka_unit_test(sizes_scale_with_resolution),
        cmocka_unit_test(random_pages_are_safe),
        cmocka_unit_test(disabled_and_degenerate_pages),
        cmocka_unit_test(stage_reports),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
