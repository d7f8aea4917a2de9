/*
 * test_io_tiff.c — TIFF reading and writing round trips: every bilevel
 * compression libtiff has, both photometric interpretations, both fill
 * orders, strips and tiles, resolution tags, multi-page order, and the G4
 * writer (pixels, resolution, page order) read back through libtiff itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

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

/* Writes pg in layout l, reads it back and checks every pixel. */
static void roundtrip(const page *pg, const struct tiff_layout *l, const char *what)
{
    char path[4200];
    scratch_path(path, sizeof path, dir, "rt.tif");
    if (write_tiff(path, pg, 1, l) < 0)
        fail_msg("%s: libtiff could not write the fixture", what);
    struct read_opts o = default_read_opts();
    page back;
    errbuf e = { "" };
    if (read_page_at(path, &o, 0, &back, &e) < 0)
        fail_msg("%s: %s", what, e.msg);
    if (!pages_equal(pg, &back))
        fail_msg("%s: %llu pixels differ", what,
                 (unsigned long long)pages_diff(pg, &back));
    page_free(&back);
    unlink(path);
}

static const struct {
    uint16_t compression;
    uint32_t g3;
    const char *name;
} codecs[] = {
    { COMPRESSION_NONE, 0, "none" },
    { COMPRESSION_CCITTRLE, 0, "CCITT RLE" },
    /* not CCITT RLEW: libtiff 4.5 cannot read back what it writes */
    { COMPRESSION_CCITTFAX3, 0, "G3 1-D" },
    { COMPRESSION_CCITTFAX3, GROUP3OPT_2DENCODING, "G3 2-D" },
    { COMPRESSION_CCITTFAX3, GROUP3OPT_2DENCODING | GROUP3OPT_FILLBITS, "G3 2-D fill" },
    { COMPRESSION_CCITTFAX4, 0, "G4" },
    { COMPRESSION_LZW, 0, "LZW" },
    { COMPRESSION_ADOBE_DEFLATE, 0, "Deflate" },
    { COMPRESSION_PACKBITS, 0, "PackBits" },
    { COMPRESSION_JBIG, 0, "JBIG" },
    { COMPRESSION_LZMA, 0, "LZMA" },
    { COMPRESSION_ZSTD, 0, "ZSTD" },
};

/* Every codec x photometric x fill order, in strips of 16 rows, on a page
 * whose width is not a multiple of 8 (nor of 64). */
static void bilevel_codecs_strips(void **state)
{
    page pg;
    make_pattern(&pg, 333, 97, 1);
    int tested = 0;
    for (size_t c = 0; c < sizeof codecs / sizeof *codecs; c++) {
        if (!TIFFIsCODECConfigured(codecs[c].compression))
            continue;
        for (int photo = 0; photo < 2; photo++)
            for (int fill = 0; fill < 2; fill++) {
                struct tiff_layout l = {
                    .compression = codecs[c].compression,
                    .g3options = codecs[c].g3,
                    .photometric = photo ? PHOTOMETRIC_MINISBLACK : PHOTOMETRIC_MINISWHITE,
                    .fillorder = fill ? FILLORDER_LSB2MSB : FILLORDER_MSB2LSB,
                    /* libtiff's JBIG codec writes single-strip images only */
                    .rows_per_strip = codecs[c].compression == COMPRESSION_JBIG ? 0 : 16,
                };
                char what[128];
                snprintf(what, sizeof what, "%s %s %s", codecs[c].name,
                         photo ? "min-is-black" : "min-is-white",
                         fill ? "lsb2msb" : "msb2lsb");
                roundtrip(&pg, &l, what);
                tested++;
            }
    }
    /* the codecs every libtiff build has must have been tested */
    assert_true(tested >= 4 * 9);
    page_free(&pg);
}

/* One strip for the whole page, widths around word boundaries. */
static void bilevel_single_strip_widths(void **state)
{
    static const int widths[] = { 1, 7, 8, 9, 63, 64, 65, 127, 128, 129, 2480 };
    for (size_t i = 0; i < sizeof widths / sizeof *widths; i++) {
        page pg;
        make_pattern(&pg, widths[i], 23, (uint32_t)i);
        struct tiff_layout l = { .compression = COMPRESSION_CCITTFAX4,
                                 .photometric = PHOTOMETRIC_MINISWHITE };
        char what[64];
        snprintf(what, sizeof what, "G4 width %d", widths[i]);
        roundtrip(&pg, &l, what);
        l.compression = COMPRESSION_NONE;
        l.photometric = PHOTOMETRIC_MINISBLACK;
        snprintf(what, sizeof what, "raw min-is-black width %d", widths[i]);
        roundtrip(&pg, &l, what);
        page_free(&pg);
    }
}

/* Tiled files: tiles overhanging the right and bottom edges. */
static void bilevel_tiles(void **state)
{
    page pg;
    make_pattern(&pg, 150, 70, 7);
    static const uint16_t comp[] = { COMPRESSION_NONE, COMPRESSION_LZW,
                                     COMPRESSION_ADOBE_DEFLATE,
                                     COMPRESSION_PACKBITS, COMPRESSION_CCITTFAX4 };
    for (size_t c = 0; c < sizeof comp / sizeof *comp; c++)
        for (int photo = 0; photo < 2; photo++)
            for (int fill = 0; fill < 2; fill++) {
                struct tiff_layout l = {
                    .compression = comp[c],
                    .photometric = photo ? PHOTOMETRIC_MINISBLACK : PHOTOMETRIC_MINISWHITE,
                    .fillorder = fill ? FILLORDER_LSB2MSB : FILLORDER_MSB2LSB,
                    .tile_w = 64, .tile_h = 32,
                };
                char what[96];
                snprintf(what, sizeof what, "tiles 64x32 compression %u photo %d fill %d",
                         comp[c], photo, fill);
                roundtrip(&pg, &l, what);
            }
    struct tiff_layout big = { .compression = COMPRESSION_NONE,
                               .photometric = PHOTOMETRIC_MINISWHITE,
                               .tile_w = 256, .tile_h = 256 };
    roundtrip(&pg, &big, "one tile larger than the page");
    page_free(&pg);
}

static void resolution_tags(void **state)
{
    char path[4200];
    scratch_path(path, sizeof path, dir, "res.tif");
    page pg, back;
    errbuf e;
    make_pattern(&pg, 40, 30, 3);
    struct tiff_layout l = { .compression = COMPRESSION_CCITTFAX4,
                             .photometric = PHOTOMETRIC_MINISWHITE,
                             .xres = 200, .yres = 100 };
    struct read_opts o = default_read_opts();
    assert_int_equal(write_tiff(path, &pg, 1, &l), 0);
    assert_int_equal(read_page_at(path, &o, 0, &back, &e), 0);
    assert_true(back.xres == 200 && back.yres == 100);
    page_free(&back);

    l.xres = l.yres = 118.11f;      /* 300 dpi in pixels per centimetre */
    l.resunit = RESUNIT_CENTIMETER;
    assert_int_equal(write_tiff(path, &pg, 1, &l), 0);
    assert_int_equal(read_page_at(path, &o, 0, &back, &e), 0);
    assert_true(back.xres > 299.9 && back.xres < 300.1);
    page_free(&back);

    l.resunit = RESUNIT_NONE;       /* an aspect ratio, not a resolution */
    o.default_dpi = 150;
    assert_int_equal(write_tiff(path, &pg, 1, &l), 0);
    assert_int_equal(read_page_at(path, &o, 0, &back, &e), 0);
    assert_true(back.xres == 150 && back.yres == 150);
    page_free(&back);

    l.xres = 0;                     /* no resolution tags at all */
    assert_int_equal(write_tiff(path, &pg, 1, &l), 0);
    assert_int_equal(read_page_at(path, &o, 0, &back, &e), 0);
    assert_true(back.xres == 150 && back.yres == 150);
    page_free(&back);
    o = default_read_opts();
    assert_int_equal(read_page_at(path, &o, 0, &back, &e), 0);
    assert_true(back.xres == 300 && back.yres == 300);
    page_free(&back);
    page_free(&pg);
}

/* Pages of different sizes and content come back in order, sequentially
 * and in random order. */
static void multipage_order(void **state)
{
    char path[4200];
    scratch_path(path, sizeof path, dir, "multi.tif");
    enum { N = 5 };
    page pages[N];
    for (int i = 0; i < N; i++)
        make_pattern(&pages[i], 100 + 13 * i, 50 + 7 * i, (uint32_t)(100 + i));
    struct tiff_layout l = { .compression = COMPRESSION_CCITTFAX4,
                             .photometric = PHOTOMETRIC_MINISWHITE };
    assert_int_equal(write_tiff(path, pages, N, &l), 0);
    struct read_opts o = default_read_opts();
    struct page_reader *rd;
    errbuf e;
    assert_int_equal(page_reader_open(&rd, path, &o, &e), 0);
    assert_int_equal(page_reader_count(rd), N);
    assert_string_equal(page_reader_format(rd), "TIFF");
    static const int order[] = { 0, 1, 2, 3, 4, 2, 0, 4, 3, 1, 1 };
    for (size_t k = 0; k < sizeof order / sizeof *order; k++) {
        page back;
        int i = order[k];
        assert_int_equal(page_reader_read(rd, i, &back, &e), 0);
        assert_true(pages_equal(&pages[i], &back));
        page_free(&back);
    }
    page back;
    assert_int_equal(page_reader_read(rd, N, &back, &e), -1);
    assert_non_null(strstr(e.msg, "no page"));
    page_reader_close(rd);
    for (int i = 0; i < N; i++)
        page_free(&pages[i]);
}

/* The writer's output, read back with plain libtiff: G4, one strip,
 * min-is-white, resolution kept, pages in order, identical pixels. */
static void writer_output_is_g4(void **state)
{
    char path[4200], sub[4200];
    scratch_path(sub, sizeof sub, dir, "w1");
    assert_int_equal(mkdir(sub, 0777), 0);
    scratch_path(path, sizeof path, sub, "out.tif");
    enum { N = 3 };
    page pages[N];
    errbuf e;
    struct page_writer *wr;
    assert_int_equal(page_writer_open(&wr, path, &e), 0);
    for (int i = 0; i < N; i++) {
        make_pattern(&pages[i], 200 + i, 120 - i, (uint32_t)(40 + i));
        pages[i].xres = 200 + 100 * i;
        pages[i].yres = 100 + 100 * i;
        assert_int_equal(page_writer_add(wr, &pages[i], &e), 0);
    }
    assert_int_equal(page_writer_commit(wr, &e), 0);
    assert_int_equal(dir_entries(sub), 1);      /* no temporary file left */

    TIFF *t = TIFFOpen(path, "r");
    assert_non_null(t);
    for (int i = 0; i < N; i++) {
        uint16_t comp, photo;
        uint32_t w, h;
        float xr, yr;
        assert_true(TIFFGetField(t, TIFFTAG_COMPRESSION, &comp));
        assert_int_equal(comp, COMPRESSION_CCITTFAX4);
        assert_true(TIFFGetField(t, TIFFTAG_PHOTOMETRIC, &photo));
        assert_int_equal(photo, PHOTOMETRIC_MINISWHITE);
        assert_true(TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w));
        assert_true(TIFFGetField(t, TIFFTAG_IMAGELENGTH, &h));
        assert_int_equal(w, (uint32_t)pages[i].width);
        assert_int_equal(h, (uint32_t)pages[i].height);
        assert_true(TIFFGetField(t, TIFFTAG_XRESOLUTION, &xr));
        assert_true(TIFFGetField(t, TIFFTAG_YRESOLUTION, &yr));
        assert_true(xr == (float)pages[i].xres && yr == (float)pages[i].yres);
        size_t rb = ((size_t)w + 7) / 8;
        uint8_t *row = malloc((size_t)TIFFScanlineSize(t));
        for (uint32_t y = 0; y < h; y++) {
            assert_true(TIFFReadScanline(t, row, y, 0) >= 0);
            if (w % 8)      /* the decoder leaves junk in the padding bits */
                row[rb - 1] &= (uint8_t)(0xff00u >> (w % 8));
            assert_memory_equal(row, page_row(&pages[i], (int)y), rb);
        }
        free(row);
        assert_int_equal(TIFFReadDirectory(t), i < N - 1);
    }
    TIFFClose(t);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    mode_t um = umask(0);
    umask(um);
    assert_int_equal(st.st_mode & 0777, 0666 & ~um);
    scratch_remove(sub);
    for (int i = 0; i < N; i++)
        page_free(&pages[i]);
}

/* A page read, written and read again is unchanged (the writer's own
 * output through our reader), and committing replaces an older file. */
static void writer_replaces_and_rereads(void **state)
{
    char path[4200], sub[4200];
    scratch_path(sub, sizeof sub, dir, "w2");
    assert_int_equal(mkdir(sub, 0777), 0);
    scratch_path(path, sizeof path, sub, "again.tif");
    assert_int_equal(write_bytes(path, "old content", 11), 0);
    page pg, back;
    errbuf e;
    make_pattern(&pg, 2480 / 4, 3508 / 4, 9);
    struct page_writer *wr;
    assert_int_equal(page_writer_open(&wr, path, &e), 0);
    assert_int_equal(dir_entries(sub), 2);      /* old file + temporary */
    assert_int_equal(page_writer_add(wr, &pg, &e), 0);
    assert_int_equal(page_writer_commit(wr, &e), 0);
    assert_int_equal(dir_entries(sub), 1);
    struct read_opts o = default_read_opts();
    assert_int_equal(read_page_at(path, &o, 0, &back, &e), 0);
    assert_true(pages_equal(&pg, &back));
    page_free(&back);
    page_free(&pg);
    scratch_remove(sub);
}

int main(void)
{
    silence_libtiff();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bilevel_codecs_strips),
        cmocka_unit_test(bilevel_single_strip_widths),
        cmocka_unit_test(bilevel_tiles),
        cmocka_unit_test(resolution_tags),
        cmocka_unit_test(multipage_order),
        cmocka_unit_test(writer_output_is_g4),
        cmocka_unit_test(writer_replaces_and_rereads),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
