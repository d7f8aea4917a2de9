/*
 * mkseeds.c — writes the seed corpus of the reading fuzz target
 * (tests/fuzz/corpus/read/): one small file (64x40 pixels, a few hundred
 * bytes) for each format and layout the readers handle, so that fuzzing
 * starts from every code path.
 *
 *   mkseeds DIR
 */
#include "../unit/iotest.h"

static page mask;

static unsigned grey_fn(int x, int y, int c, void *ctx)
{
    return page_get(&mask, x, y) ? 30 + (unsigned)(x % 5) : 210 - (unsigned)(y % 7);
}

static unsigned rgb_fn(int x, int y, int c, void *ctx)
{
    static const unsigned ink[4] = { 20, 40, 120, 255 }, paper[4] = { 240, 230, 200, 255 };
    return page_get(&mask, x, y) ? ink[c] : paper[c];
}

static unsigned index_fn(int x, int y, int c, void *ctx)
{
    return (unsigned)page_get(&mask, x, y);
}

static unsigned grey16_fn(int x, int y, int c, void *ctx)
{
    return grey_fn(x, y, c, ctx) * 257;
}

static unsigned grey1_fn(int x, int y, int c, void *ctx)
{
    return (unsigned)!page_get(&mask, x, y);
}

static int tiffs(const char *dir)
{
    static const struct {
        const char *name;
        struct tiff_layout l;
        int pages;
    } t[] = {
        { "g4.tif", { COMPRESSION_CCITTFAX4, PHOTOMETRIC_MINISWHITE, 0, 0, 0, 0, 0, 300, 300, 0 }, 1 },
        { "g4-3pages.tif", { COMPRESSION_CCITTFAX4, PHOTOMETRIC_MINISWHITE, 0, 0, 0, 0, 0, 0, 0, 0 }, 3 },
        { "g4-lsb.tif", { COMPRESSION_CCITTFAX4, PHOTOMETRIC_MINISBLACK, FILLORDER_LSB2MSB, 0, 16, 0, 0, 0, 0, 0 }, 1 },
        { "g3-1d.tif", { COMPRESSION_CCITTFAX3, PHOTOMETRIC_MINISWHITE, 0, 0, 0, 0, 0, 200, 100, 0 }, 1 },
        { "g3-2d.tif", { COMPRESSION_CCITTFAX3, PHOTOMETRIC_MINISWHITE, 0, GROUP3OPT_2DENCODING, 8, 0, 0, 0, 0, 0 }, 1 },
        { "rle.tif", { COMPRESSION_CCITTRLE, PHOTOMETRIC_MINISWHITE, 0, 0, 0, 0, 0, 0, 0, 0 }, 1 },
        { "lzw.tif", { COMPRESSION_LZW, PHOTOMETRIC_MINISBLACK, 0, 0, 16, 0, 0, 0, 0, 0 }, 1 },
        { "deflate.tif", { COMPRESSION_ADOBE_DEFLATE, PHOTOMETRIC_MINISWHITE, 0, 0, 0, 0, 0, 0, 0, 0 }, 1 },
        { "packbits.tif", { COMPRESSION_PACKBITS, PHOTOMETRIC_MINISWHITE, 0, 0, 0, 0, 0, 0, 0, 0 }, 2 },
        { "none.tif", { COMPRESSION_NONE, PHOTOMETRIC_MINISBLACK, 0, 0, 0, 0, 0, 0, 0, 0 }, 1 },
        { "tiles-g4.tif", { COMPRESSION_CCITTFAX4, PHOTOMETRIC_MINISWHITE, 0, 0, 0, 32, 16, 0, 0, 0 }, 1 },
        { "tiles-none.tif", { COMPRESSION_NONE, PHOTOMETRIC_MINISWHITE, 0, 0, 0, 48, 32, 0, 0, 0 }, 1 },
        { "jbig.tif", { COMPRESSION_JBIG, PHOTOMETRIC_MINISWHITE, 0, 0, 0, 0, 0, 0, 0, 0 }, 1 },
    };
    page pages[3] = { mask, mask, mask };
    char path[4096];
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        if (!TIFFIsCODECConfigured(t[i].l.compression))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, t[i].name);
        if (write_tiff(path, pages, t[i].pages, &t[i].l) < 0)
            return -1;
    }
    static const struct {
        const char *name;
        struct tiff_grey_layout l;
        sample_fn fn;
    } g[] = {
        { "grey8.tif", { 8, 1, PHOTOMETRIC_MINISBLACK, COMPRESSION_NONE, 0, 0 }, grey_fn },
        { "grey8-white.tif", { 8, 1, PHOTOMETRIC_MINISWHITE, COMPRESSION_LZW, 0, 0 }, grey_fn },
        { "grey16-tiles.tif", { 16, 1, PHOTOMETRIC_MINISBLACK, COMPRESSION_ADOBE_DEFLATE, 16, 0 }, grey_fn },
        { "rgb8.tif", { 8, 3, PHOTOMETRIC_RGB, COMPRESSION_PACKBITS, 0, 0 }, rgb_fn },
        { "rgba8.tif", { 8, 4, PHOTOMETRIC_RGB, COMPRESSION_LZW, 0, 1 }, rgb_fn },
        { "rgb16.tif", { 16, 3, PHOTOMETRIC_RGB, COMPRESSION_ADOBE_DEFLATE, 0, 0 }, rgb_fn },
        { "jpeg-grey.tif", { 8, 1, PHOTOMETRIC_MINISBLACK, COMPRESSION_JPEG, 0, 0 }, grey_fn },
        { "jpeg-ycbcr.tif", { 8, 3, PHOTOMETRIC_YCBCR, COMPRESSION_JPEG, 0, 0 }, rgb_fn },
    };
    for (size_t i = 0; i < sizeof g / sizeof *g; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, g[i].name);
        if (write_tiff_samples(path, mask.width, mask.height, &g[i].l, g[i].fn,
                               NULL, NULL) < 0)
            return -1;
    }
    uint16_t cmap[3 * 256];
    for (int i = 0; i < 3 * 256; i++)
        cmap[i] = (uint16_t)((i % 256) * 257);
    struct tiff_grey_layout pal = { 8, 1, PHOTOMETRIC_PALETTE, COMPRESSION_NONE, 0, 0 };
    snprintf(path, sizeof path, "%s/palette8.tif", dir);
    return write_tiff_samples(path, mask.width, mask.height, &pal, grey_fn, NULL, cmap);
}

static int pnms(const char *dir)
{
    char path[4096];
    int w = 24, h = 16;     /* plain formats take a few bytes per pixel */
    size_t rb = ((size_t)w + 7) / 8;
    for (int kind = 1; kind <= 7; kind++) {     /* 7: every kind in one file */
        snprintf(path, sizeof path, "%s/p%d.pnm", dir, kind);
        FILE *f = fopen(path, "wb");
        if (f == NULL)
            return -1;
        for (int k = kind == 7 ? 1 : kind; k <= (kind == 7 ? 6 : kind); k++) {
            unsigned maxval = k == 5 && kind == 5 ? 65535 : 255;
            fprintf(f, "P%d\n# seed\n%d %d\n", k, w, h);
            if (k != 1 && k != 4)
                fprintf(f, "%u\n", maxval);
            for (int y = 0; y < h; y++) {
                if (k == 4)
                    fwrite(page_row(&mask, y), 1, rb, f);
                for (int x = 0; x < w && k != 4; x++) {
                    unsigned v = k == 1 ? (unsigned)page_get(&mask, x, y) : grey_fn(x, y, 0, NULL);
                    if (k <= 3)
                        fprintf(f, k == 3 ? "%u %u %u " : "%u ", v, v, v);
                    else if (maxval > 255)
                        fprintf(f, "%c%c", (int)(v * 257 >> 8), (int)(v * 257 & 255));
                    else
                        for (int c = 0; c < (k == 6 ? 3 : 1); c++)
                            fputc((int)v, f);
                }
                if (k <= 3)
                    fputc('\n', f);
            }
        }
        if (fclose(f) != 0)
            return -1;
    }
    return 0;
}

static int pngs(const char *dir)
{
    static const png_color pal[2] = { { 255, 255, 255 }, { 0, 0, 0 } };
    static const struct {
        const char *name;
        int type, depth, interlace;
        sample_fn fn;
    } p[] = {
        { "grey1.png", PNG_COLOR_TYPE_GRAY, 1, 0, grey1_fn },
        { "grey1-interlaced.png", PNG_COLOR_TYPE_GRAY, 1, 1, grey1_fn },
        { "palette1.png", PNG_COLOR_TYPE_PALETTE, 1, 0, index_fn },
        { "grey8.png", PNG_COLOR_TYPE_GRAY, 8, 0, grey_fn },
        { "grey16.png", PNG_COLOR_TYPE_GRAY, 16, 1, grey16_fn },
        { "rgb8.png", PNG_COLOR_TYPE_RGB, 8, 0, rgb_fn },
        { "rgba8.png", PNG_COLOR_TYPE_RGB_ALPHA, 8, 0, rgb_fn },
    };
    char path[4096];
    for (size_t i = 0; i < sizeof p / sizeof *p; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, p[i].name);
        int palette = p[i].type == PNG_COLOR_TYPE_PALETTE;
        if (write_png(path, mask.width, mask.height, p[i].type, p[i].depth,
                      p[i].interlace, p[i].fn, NULL, palette ? pal : NULL,
                      palette ? 2 : 0, i == 0 ? 11811 : 0) < 0)
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: mkseeds DIR\n");
        return 2;
    }
    make_pattern(&mask, 64, 40, 77);
    if (tiffs(argv[1]) < 0 || pnms(argv[1]) < 0 || pngs(argv[1]) < 0) {
        fprintf(stderr, "mkseeds: cannot write the seeds in %s\n", argv[1]);
        return 1;
    }
    page_free(&mask);
    return 0;
}
