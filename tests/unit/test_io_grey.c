/*
 * test_io_grey.c — grey, palette and colour input: the Otsu threshold on
 * known histograms, Otsu and Sauvola binarization of synthetic images with
 * a known ink mask (8/16-bit grey, min-is-white, palette, RGB, RGBA, JPEG,
 * tiles), and PBM/PGM/PPM and PNG reading (every variant, several images in
 * one PNM file, pHYs resolution, alpha over white).
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

/* ------------------------------------------------------------- synthetic */

/* Ink mask plus how each pixel is drawn. */
struct scene {
    page mask;
    int gradient;       /* 1: background brightness rises left to right */
};

static unsigned noise(int x, int y, int c)
{
    uint32_t s = (uint32_t)x * 73856093u ^ (uint32_t)y * 19349663u ^ (uint32_t)c * 83492791u;
    s = s * 1664525u + 1013904223u;
    return (s >> 24) % 31;      /* 0..30 */
}

/* Grey value: ink ~40, paper ~200 (each +-15), or on a gradient. */
static unsigned scene_grey(const struct scene *sc, int x, int y)
{
    int ink = page_get(&sc->mask, x, y);
    if (sc->gradient) {
        unsigned bg = 40 + 200u * (unsigned)x / (unsigned)sc->mask.width;
        return ink ? bg * 45 / 100 : bg;
    }
    return (ink ? 25 : 185) + noise(x, y, 0);
}

static unsigned fn_grey(int x, int y, int c, void *ctx)
{
    return scene_grey(ctx, x, y);
}

static unsigned fn_grey_inverted(int x, int y, int c, void *ctx)
{
    return 255 - scene_grey(ctx, x, y);
}

/* Dark blue ink on light yellow paper; alpha (4th sample) opaque. */
static unsigned fn_rgb(int x, int y, int c, void *ctx)
{
    static const unsigned ink[3] = { 20, 30, 90 }, paper[3] = { 235, 225, 185 };
    if (c == 3)
        return 255;
    const struct scene *sc = ctx;
    return (page_get(&sc->mask, x, y) ? ink[c] : paper[c]) + noise(x, y, c) / 2;
}

static unsigned fn_palette(int x, int y, int c, void *ctx)
{
    const struct scene *sc = ctx;
    return page_get(&sc->mask, x, y) ? 3 + (x % 4) : 200 + (y % 4);
}

static void scene_make(struct scene *sc, int w, int h, uint32_t seed, int gradient)
{
    make_pattern(&sc->mask, w, h, seed);
    sc->gradient = gradient;
}

/* Reads path (page 0) and returns how many pixels differ from the mask. */
static uint64_t read_and_diff(const char *path, const struct scene *sc,
                              enum binarize_method m)
{
    struct read_opts o = default_read_opts();
    o.binarize = m;
    page back;
    errbuf e = { "" };
    if (read_page_at(path, &o, 0, &back, &e) < 0)
        fail_msg("%s: %s", path, e.msg);
    if (back.width != sc->mask.width || back.height != sc->mask.height)
        fail_msg("%s: size %dx%d", path, back.width, back.height);
    /* padding stays clear whatever the reader did */
    page tmp;
    assert_int_equal(page_copy(&tmp, &back, &e), 0);
    page_clear_padding(&tmp);
    assert_memory_equal(tmp.bits, back.bits, back.stride * (size_t)back.height);
    page_free(&tmp);
    uint64_t d = pages_diff(&back, &sc->mask);
    page_free(&back);
    return d;
}

/* ------------------------------------------------------------- Otsu */

static void otsu_on_known_histograms(void **state)
{
    uint64_t h[256] = { 0 };
    h[50] = 1000;
    h[200] = 3000;
    /* every split between the spikes ties; the middle is taken */
    assert_int_equal(otsu_threshold(h), (50 + 199) / 2);

    memset(h, 0, sizeof h);
    for (int v = 20; v <= 40; v++)      /* two flat modes */
        h[v] = 100;
    for (int v = 180; v <= 220; v++)
        h[v] = 300;
    int t = otsu_threshold(h);
    assert_true(t >= 40 && t < 180);

    memset(h, 0, sizeof h);
    h[77] = 5;                          /* one value: no split */
    assert_int_equal(otsu_threshold(h), 127);
    memset(h, 0, sizeof h);
    assert_int_equal(otsu_threshold(h), 127);

    memset(h, 0, sizeof h);
    h[0] = 10;                          /* extremes */
    h[255] = 10;
    assert_int_equal(otsu_threshold(h), 127);
}

/* ------------------------------------------------------------- TIFF */

static void tiff_grey_variants(void **state)
{
    struct scene sc;
    scene_make(&sc, 301, 77, 11, 0);
    char path[4200];
    scratch_path(path, sizeof path, dir, "grey.tif");
    static const struct {
        struct tiff_grey_layout l;
        sample_fn fn;
        const char *what;
    } cases[] = {
        { { 8, 1, PHOTOMETRIC_MINISBLACK, COMPRESSION_NONE, 0, 0 }, fn_grey, "grey8" },
        { { 8, 1, PHOTOMETRIC_MINISBLACK, COMPRESSION_LZW, 32, 0 }, fn_grey, "grey8 tiles" },
        { { 8, 1, PHOTOMETRIC_MINISWHITE, COMPRESSION_ADOBE_DEFLATE, 0, 0 },
          fn_grey_inverted, "grey8 min-is-white" },
        { { 16, 1, PHOTOMETRIC_MINISBLACK, COMPRESSION_NONE, 0, 0 }, fn_grey, "grey16" },
        { { 16, 1, PHOTOMETRIC_MINISBLACK, COMPRESSION_LZW, 16, 0 }, fn_grey, "grey16 tiles" },
        { { 8, 3, PHOTOMETRIC_RGB, COMPRESSION_NONE, 0, 0 }, fn_rgb, "rgb8" },
        { { 8, 4, PHOTOMETRIC_RGB, COMPRESSION_PACKBITS, 0, 1 }, fn_rgb, "rgba8" },
        { { 16, 3, PHOTOMETRIC_RGB, COMPRESSION_ADOBE_DEFLATE, 0, 0 }, fn_rgb, "rgb16" },
        { { 8, 3, PHOTOMETRIC_RGB, COMPRESSION_LZW, 48, 0 }, fn_rgb, "rgb8 tiles" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        if (write_tiff_samples(path, sc.mask.width, sc.mask.height, &cases[i].l,
                               cases[i].fn, &sc, NULL) < 0)
            fail_msg("%s: cannot write fixture", cases[i].what);
        uint64_t d = read_and_diff(path, &sc, BINARIZE_OTSU);
        if (d != 0)
            fail_msg("%s: %llu pixels differ", cases[i].what, (unsigned long long)d);
    }
    page_free(&sc.mask);
}

static void tiff_palette_and_jpeg(void **state)
{
    struct scene sc;
    scene_make(&sc, 256, 96, 12, 0);
    char path[4200];
    scratch_path(path, sizeof path, dir, "pal.tif");
    uint16_t cmap[3 * 256];
    for (int i = 0; i < 256; i++) {     /* dark reds below 100, light greys above */
        cmap[i] = (uint16_t)(i < 100 ? 120 * 257 : 230 * 257);
        cmap[256 + i] = (uint16_t)(i < 100 ? 10 * 257 : 230 * 257);
        cmap[512 + i] = (uint16_t)(i < 100 ? 10 * 257 : 220 * 257);
    }
    struct tiff_grey_layout pl = { 8, 1, PHOTOMETRIC_PALETTE, COMPRESSION_LZW, 0, 0 };
    assert_int_equal(write_tiff_samples(path, 256, 96, &pl, fn_palette, &sc, cmap), 0);
    assert_int_equal(read_and_diff(path, &sc, BINARIZE_OTSU), 0);

    if (!TIFFIsCODECConfigured(COMPRESSION_JPEG)) {
        page_free(&sc.mask);
        return;
    }
    /* lossy: ringing may flip a few pixels at stroke edges, no more */
    uint64_t limit = (uint64_t)256 * 96 / 100;
    struct tiff_grey_layout jg = { 8, 1, PHOTOMETRIC_MINISBLACK, COMPRESSION_JPEG, 0, 0 };
    assert_int_equal(write_tiff_samples(path, 256, 96, &jg, fn_grey, &sc, NULL), 0);
    assert_true(read_and_diff(path, &sc, BINARIZE_OTSU) <= limit);
    struct tiff_grey_layout jc = { 8, 3, PHOTOMETRIC_YCBCR, COMPRESSION_JPEG, 0, 0 };
    assert_int_equal(write_tiff_samples(path, 256, 96, &jc, fn_rgb, &sc, NULL), 0);
    assert_true(read_and_diff(path, &sc, BINARIZE_OTSU) <= limit);
    page_free(&sc.mask);
}

/* Uneven light: the global threshold fails where the paper is dark, the
 * adaptive one does not. */
static void sauvola_beats_otsu_on_uneven_light(void **state)
{
    struct scene sc;
    scene_make(&sc, 600, 200, 13, 1);
    char path[4200];
    scratch_path(path, sizeof path, dir, "uneven.tif");
    struct tiff_grey_layout l = { 8, 1, PHOTOMETRIC_MINISBLACK, COMPRESSION_NONE, 0, 0 };
    assert_int_equal(write_tiff_samples(path, 600, 200, &l, fn_grey, &sc, NULL), 0);
    uint64_t total = 600 * 200;
    uint64_t otsu = read_and_diff(path, &sc, BINARIZE_OTSU);
    uint64_t sauvola = read_and_diff(path, &sc, BINARIZE_SAUVOLA);
    assert_true(otsu > total / 10);
    assert_true(sauvola < total / 100);

    /* and on evenly lit paper Sauvola keeps the ink too */
    struct scene even;
    scene_make(&even, 600, 200, 14, 0);
    assert_int_equal(write_tiff_samples(path, 600, 200, &l, fn_grey, &even, NULL), 0);
    assert_true(read_and_diff(path, &even, BINARIZE_SAUVOLA) < total / 100);
    page_free(&sc.mask);
    page_free(&even.mask);
}

/* ------------------------------------------------------------- PNM */

/* Writes the mask as PBM (P1 or P4) to f. */
static void put_pbm(FILE *f, const page *m, int raw)
{
    fprintf(f, "P%d\n# a comment\n%d %d\n", raw ? 4 : 1, m->width, m->height);
    size_t rb = ((size_t)m->width + 7) / 8;
    for (int y = 0; y < m->height; y++) {
        if (raw) {
            fwrite(page_row(m, y), 1, rb, f);
            continue;
        }
        for (int x = 0; x < m->width; x++)
            fputc('0' + page_get(m, x, y), f);   /* no spaces: allowed */
        fputc('\n', f);
    }
}

/* Writes the scene as PGM/PPM (P2, P3, P5, P6) with the given maxval. */
static void put_pnm(FILE *f, const struct scene *sc, int kind, unsigned maxval)
{
    int w = sc->mask.width, h = sc->mask.height, colour = kind == 3 || kind == 6;
    fprintf(f, "P%d %d\n%d #c\n%u\n", kind, w, h, maxval);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < (colour ? 3 : 1); c++) {
                unsigned v8 = colour ? fn_rgb(x, y, c, (void *)sc) : scene_grey(sc, x, y);
                unsigned v = (v8 * maxval + 127) / 255;
                if (kind <= 3)
                    fprintf(f, "%u%c", v, x == w - 1 && c == (colour ? 2 : 0) ? '\n' : ' ');
                else if (maxval > 255) {
                    fputc((int)(v >> 8), f);
                    fputc((int)(v & 255), f);
                } else {
                    fputc((int)v, f);
                }
            }
}

static void pnm_variants(void **state)
{
    struct scene sc;
    scene_make(&sc, 99, 41, 21, 0);
    char path[4200];
    scratch_path(path, sizeof path, dir, "img.pnm");
    for (int kind = 1; kind <= 6; kind++) {
        static const unsigned maxvals[] = { 255, 65535, 1000, 15 };
        for (size_t m = 0; m < 4; m++) {
            if ((kind == 1 || kind == 4) && m > 0)
                continue;
            FILE *f = fopen(path, "wb");
            assert_non_null(f);
            if (kind == 1 || kind == 4)
                put_pbm(f, &sc.mask, kind == 4);
            else
                put_pnm(f, &sc, kind, maxvals[m]);
            assert_int_equal(fclose(f), 0);
            uint64_t d = read_and_diff(path, &sc, BINARIZE_OTSU);
            if (d)
                fail_msg("P%d maxval %u: %llu pixels differ", kind, maxvals[m],
                         (unsigned long long)d);
        }
    }
    /* resolution: none in the file, so the default */
    struct read_opts o = default_read_opts();
    o.default_dpi = 200;
    page back;
    errbuf e;
    assert_int_equal(read_page_at(path, &o, 0, &back, &e), 0);
    assert_true(back.xres == 200 && back.yres == 200);
    page_free(&back);
    page_free(&sc.mask);
}

/* Three images of different kinds and sizes in one file are three pages. */
static void pnm_multi_image(void **state)
{
    struct scene a, b, c;
    scene_make(&a, 64, 20, 31, 0);
    scene_make(&b, 33, 50, 32, 0);
    scene_make(&c, 10, 10, 33, 0);
    char path[4200];
    scratch_path(path, sizeof path, dir, "multi.pnm");
    FILE *f = fopen(path, "wb");
    put_pbm(f, &a.mask, 1);
    put_pnm(f, &b, 5, 255);
    put_pbm(f, &c.mask, 0);
    fputs("\n\n", f);           /* trailing white space is fine */
    assert_int_equal(fclose(f), 0);
    struct read_opts o = default_read_opts();
    struct page_reader *rd;
    errbuf e;
    assert_int_equal(page_reader_open(&rd, path, &o, &e), 0);
    assert_string_equal(page_reader_format(rd), "PNM");
    assert_int_equal(page_reader_count(rd), 3);
    const page *want[3] = { &a.mask, &b.mask, &c.mask };
    for (int i = 2; i >= 0; i--) {
        page back;
        assert_int_equal(page_reader_read(rd, i, &back, &e), 0);
        assert_true(pages_equal(&back, want[i]));
        page_free(&back);
    }
    page_reader_close(rd);
    page_free(&a.mask);
    page_free(&b.mask);
    page_free(&c.mask);
}

/* ------------------------------------------------------------- PNG */

struct png_case {
    int color_type, depth, interlace;
    int palette_order;      /* 1-bit palette: 0 = white first */
    int alpha_hole;         /* RGBA: ink under alpha 0 in the left half */
    unsigned ppm;           /* pHYs pixels per metre, 0 = none */
};

/* One sample (scaled to depth) for PNG pixel (x, y), channel c. */
static unsigned png_sample(const struct scene *sc, const struct png_case *pc,
                           int x, int y, int c)
{
    int ink = page_get(&sc->mask, x, y);
    unsigned max = (1u << pc->depth) - 1;
    switch (pc->color_type) {
    case PNG_COLOR_TYPE_PALETTE:
        return (unsigned)(ink ^ pc->palette_order) & 1;   /* index of ink */
    case PNG_COLOR_TYPE_GRAY:
        return pc->depth == 1 ? (unsigned)!ink : scene_grey(sc, x, y) * max / 255;
    default: {
        int nc = pc->color_type == PNG_COLOR_TYPE_RGB_ALPHA ? 3 : 3;
        if (c == nc)
            return pc->alpha_hole && x < sc->mask.width / 2 ? 0 : max;
        if (pc->alpha_hole && x < sc->mask.width / 2)
            return 0;   /* black, but fully transparent */
        return fn_rgb(x, y, c, (void *)sc) * max / 255;
    }
    }
}

struct png_fixture {
    const struct scene *sc;
    const struct png_case *pc;
};

static unsigned png_fn(int x, int y, int c, void *ctx)
{
    const struct png_fixture *f = ctx;
    return png_sample(f->sc, f->pc, x, y, c);
}

static void write_png_case(const char *path, const struct scene *sc,
                           const struct png_case *pc)
{
    png_color pal[2] = { { 255, 255, 255 }, { 0, 0, 0 } };
    if (pc->palette_order) {
        pal[0] = (png_color){ 10, 20, 30 };
        pal[1] = (png_color){ 250, 250, 240 };
    }
    struct png_fixture f = { sc, pc };
    int palette = pc->color_type == PNG_COLOR_TYPE_PALETTE;
    if (write_png(path, sc->mask.width, sc->mask.height, pc->color_type, pc->depth,
                  pc->interlace, png_fn, &f, palette ? pal : NULL, palette ? 2 : 0,
                  pc->ppm) < 0)
        fail_msg("libpng could not write the fixture");
}

static void png_variants(void **state)
{
    struct scene sc;
    scene_make(&sc, 131, 45, 41, 0);
    char path[4200];
    scratch_path(path, sizeof path, dir, "img.png");
    static const struct png_case cases[] = {
        { PNG_COLOR_TYPE_GRAY, 1, 0, 0, 0, 11811 },
        { PNG_COLOR_TYPE_GRAY, 1, 1, 0, 0, 0 },
        { PNG_COLOR_TYPE_PALETTE, 1, 0, 0, 0, 0 },
        { PNG_COLOR_TYPE_PALETTE, 1, 0, 1, 0, 0 },
        { PNG_COLOR_TYPE_PALETTE, 1, 1, 1, 0, 0 },
        { PNG_COLOR_TYPE_GRAY, 2, 0, 0, 0, 0 },
        { PNG_COLOR_TYPE_GRAY, 8, 0, 0, 0, 7874 },
        { PNG_COLOR_TYPE_GRAY, 8, 1, 0, 0, 0 },
        { PNG_COLOR_TYPE_GRAY, 16, 0, 0, 0, 0 },
        { PNG_COLOR_TYPE_RGB, 8, 0, 0, 0, 0 },
        { PNG_COLOR_TYPE_RGB, 16, 1, 0, 0, 0 },
        { PNG_COLOR_TYPE_RGB_ALPHA, 8, 0, 0, 0, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const struct png_case *pc = &cases[i];
        write_png_case(path, &sc, pc);
        uint64_t d = read_and_diff(path, &sc, BINARIZE_OTSU);
        if (d)
            fail_msg("PNG case %zu (type %d depth %d): %llu pixels differ", i,
                     pc->color_type, pc->depth, (unsigned long long)d);
        if (pc->ppm) {
            struct read_opts o = default_read_opts();
            page back;
            errbuf e;
            assert_int_equal(read_page_at(path, &o, 0, &back, &e), 0);
            double dpi = pc->ppm * 0.0254;
            assert_true(back.xres > dpi - 0.01 && back.xres < dpi + 0.01);
            page_free(&back);
        }
    }
    page_free(&sc.mask);
}

/* Transparent pixels are paper, whatever colour they hide. */
static void png_alpha_is_white(void **state)
{
    struct scene sc;
    scene_make(&sc, 120, 40, 42, 0);
    char path[4200];
    scratch_path(path, sizeof path, dir, "alpha.png");
    struct png_case pc = { PNG_COLOR_TYPE_RGB_ALPHA, 8, 0, 0, 1, 0 };
    write_png_case(path, &sc, &pc);
    struct read_opts o = default_read_opts();
    page back;
    errbuf e;
    assert_int_equal(read_page_at(path, &o, 0, &back, &e), 0);
    assert_int_equal(page_count_rect(&back, 0, 0, 60, 40), 0);
    page right;
    assert_int_equal(page_copy(&right, &sc.mask, &e), 0);
    page_fill_rect(&right, 0, 0, 60, 40, 0);
    assert_true(pages_equal(&back, &right));
    page_free(&right);
    page_free(&back);
    page_free(&sc.mask);
}

int main(void)
{
    silence_libtiff();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(otsu_on_known_histograms),
        cmocka_unit_test(tiff_grey_variants),
        cmocka_unit_test(tiff_palette_and_jpeg),
        cmocka_unit_test(sauvola_beats_otsu_on_uneven_light),
        cmocka_unit_test(pnm_variants),
        cmocka_unit_test(pnm_multi_image),
        cmocka_unit_test(png_variants),
        cmocka_unit_test(png_alpha_is_white),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
