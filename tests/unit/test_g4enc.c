/*
 * test_g4enc.c — the G4 encoder: change lists against a pixel-by-pixel
 * scan, and the encoded strips byte for byte against libtiff's own G4
 * encoder on pages made to reach every code path (blank, black, noise,
 * checkerboards, runs past every make-up code and past 2624, all widths
 * around word boundaries), plus a round trip through libtiff's decoder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "g4enc.h"
#include "iotest.h"

static char dir[4096];

static int setup(void **state)
{
    scratch_dir(dir, sizeof dir);
    return 0;
}

static int teardown(void **state)
{
    scratch_remove(dir);
    return 0;
}

static void row_changes_match_scan(void **state)
{
    uint32_t s = 1;
    for (int w = 1; w <= 200; w++) {
        page pg;
        errbuf e;
        assert_int_equal(page_alloc(&pg, w, 4, 300, 300, 0, &e), 0);
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < w; x++)
                page_set(&pg, x, y, y == 1 ? 1 : y == 2 ? (int)(lcg(&s) & 1) : (x / 3) & 1);
        int32_t chg[256];
        for (int y = 0; y < 4; y++) {
            int n = g4_row_changes(page_row(&pg, y), w, chg), k = 0, prev = 0;
            for (int x = 0; x < w; x++) {
                int v = page_get(&pg, x, y);
                if (v != prev) {
                    assert_true(k < n);
                    assert_int_equal(chg[k], x);
                    k++;
                }
                prev = v;
            }
            assert_int_equal(k, n);
        }
        page_free(&pg);
    }
}

/* libtiff's G4 strip for pg. */
static uint8_t *libtiff_g4(const page *pg, tmsize_t *len)
{
    char path[4200];
    scratch_path(path, sizeof path, dir, "ref.tif");
    struct tiff_layout l = { .compression = COMPRESSION_CCITTFAX4,
                             .photometric = PHOTOMETRIC_MINISWHITE };
    assert_int_equal(write_tiff(path, pg, 1, &l), 0);
    TIFF *t = TIFFOpen(path, "r");
    assert_non_null(t);
    uint64_t *counts;
    assert_true(TIFFGetField(t, TIFFTAG_STRIPBYTECOUNTS, &counts));
    *len = (tmsize_t)counts[0];
    uint8_t *raw = malloc((size_t)*len);
    assert_int_equal(TIFFReadRawStrip(t, 0, raw, *len), *len);
    TIFFClose(t);
    return raw;
}

static void same_as_libtiff(const page *pg, const char *what)
{
    struct g4_buf b = { 0 };
    errbuf e;
    assert_int_equal(g4_encode(pg, &b, &e), 0);
    tmsize_t len;
    uint8_t *want = libtiff_g4(pg, &len);
    if ((size_t)len != b.len || memcmp(want, b.data, b.len) != 0) {
        size_t i = 0;
        while (i < b.len && i < (size_t)len && want[i] == b.data[i])
            i++;
        fail_msg("%s (%dx%d): %zu bytes vs libtiff's %lld, first difference "
                 "at byte %zu", what, pg->width, pg->height, b.len,
                 (long long)len, i);
    }
    free(want);
    g4_buf_free(&b);
}

static void pages_like_libtiff(void **state)
{
    static const int widths[] = { 1, 2, 7, 8, 9, 63, 64, 65, 127, 128, 129, 333, 2480 };
    for (size_t i = 0; i < sizeof widths / sizeof *widths; i++) {
        page pg;
        make_pattern(&pg, widths[i], 37, (uint32_t)i);
        same_as_libtiff(&pg, "pattern");
        page_fill_rect(&pg, 0, 0, pg.width, pg.height, 0);
        same_as_libtiff(&pg, "blank");
        page_fill_rect(&pg, 0, 0, pg.width, pg.height, 1);
        same_as_libtiff(&pg, "black");
        for (int y = 0; y < pg.height; y++)         /* checkerboards */
            for (int x = 0; x < pg.width; x++)
                page_set(&pg, x, y, ((x / (1 + y % 3)) + y) & 1);
        same_as_libtiff(&pg, "checker");
        page_free(&pg);
    }
}

/* Runs of every length class: terminating, each make-up, the extended
 * make-ups and runs of 2624 and more, in both colours. */
static void long_runs_like_libtiff(void **state)
{
    page pg;
    errbuf e;
    assert_int_equal(page_alloc(&pg, 9000, 40, 300, 300, 0, &e), 0);
    for (int y = 0; y < 40; y++) {
        int x = 0, black = y & 1, run = 1 + y * 97;
        while (x < pg.width) {
            if (black)
                page_fill_rect(&pg, x, y, run, 1, 1);
            x += run;
            black ^= 1;
            run = run * 3 % 5000 + 1;
        }
    }
    same_as_libtiff(&pg, "long runs");
    page_fill_rect(&pg, 0, 20, 9000, 20, 0);
    page_fill_rect(&pg, 17, 0, 8000, 5, 1);
    same_as_libtiff(&pg, "wide bars");
    page_free(&pg);
}

/* Random small shifts between rows exercise every vertical and pass mode. */
static void noisy_edges_like_libtiff(void **state)
{
    page pg;
    errbuf e;
    assert_int_equal(page_alloc(&pg, 700, 300, 300, 300, 0, &e), 0);
    uint32_t s = 5;
    for (int y = 0; y < pg.height; y++)
        for (int k = 0; k < 20; k++) {
            int x = (k * 35 + (int)(lcg(&s) % 7)) % pg.width;
            page_fill_rect(&pg, x, y, 1 + (int)(lcg(&s) % 9), 1, 1);
        }
    same_as_libtiff(&pg, "noisy edges");
    char path[4200];
    scratch_path(path, sizeof path, dir, "ours.tif");
    struct page_writer *wr;
    assert_int_equal(page_writer_open(&wr, path, &e), 0);
    assert_int_equal(page_writer_add(wr, &pg, &e), 0);
    assert_int_equal(page_writer_commit(wr, &e), 0);
    page back;
    struct read_opts o = default_read_opts();
    assert_int_equal(read_page_at(path, &o, 0, &back, &e), 0);
    assert_true(pages_equal(&back, &pg));
    page_free(&back);
    page_free(&pg);
}

int main(void)
{
    silence_libtiff();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(row_changes_match_scan),
        cmocka_unit_test(pages_like_libtiff),
        cmocka_unit_test(long_runs_like_libtiff),
        cmocka_unit_test(noisy_edges_like_libtiff),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
