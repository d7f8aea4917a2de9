/*
 * tiffblank.c — writes a multi-page CCITT G4 TIFF of white pages of any
 * size without holding a page in memory (one scanline at a time), for the
 * daemon's tests: a 40000 x 40000 page is a few KB on disk but needs
 * ~200 MB as a bitmap, which is how a test makes a pack exceed a worker's
 * memory_limit.
 *
 *   tiffblank OUT WIDTH HEIGHT [PAGES]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>

static int write_page(TIFF *tif, uint32_t w, uint32_t h, int index)
{
    TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, w);
    TIFFSetField(tif, TIFFTAG_IMAGELENGTH, h);
    TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 1);
    TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 1);
    TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE);
    TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_CCITTFAX4);
    TIFFSetField(tif, TIFFTAG_FILLORDER, FILLORDER_MSB2LSB);
    TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, h);
    TIFFSetField(tif, TIFFTAG_XRESOLUTION, 300.0f);
    TIFFSetField(tif, TIFFTAG_YRESOLUTION, 300.0f);
    TIFFSetField(tif, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
    TIFFSetField(tif, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
    TIFFSetField(tif, TIFFTAG_PAGENUMBER, (uint16_t)index, (uint16_t)0);
    uint8_t *row = calloc(1, (w + 7) / 8);
    if (row == NULL)
        return -1;
    for (uint32_t y = 0; y < h; y++) {
        if (TIFFWriteScanline(tif, row, y, 0) < 0) {
            free(row);
            return -1;
        }
    }
    free(row);
    return TIFFWriteDirectory(tif) ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: tiffblank OUT WIDTH HEIGHT [PAGES]\n");
        return 2;
    }
    long w = atol(argv[2]), h = atol(argv[3]);
    long n = argc == 5 ? atol(argv[4]) : 1;
    if (w < 1 || h < 1 || w > 1000000 || h > 1000000 || n < 1 || n > 10000) {
        fprintf(stderr, "tiffblank: bad size or page count\n");
        return 2;
    }
    TIFF *tif = TIFFOpen(argv[1], "w");
    if (tif == NULL) {
        fprintf(stderr, "tiffblank: cannot create %s\n", argv[1]);
        return 1;
    }
    for (long i = 0; i < n; i++) {
        if (write_page(tif, (uint32_t)w, (uint32_t)h, (int)i) < 0) {
            fprintf(stderr, "tiffblank: %s: write error\n", argv[1]);
            TIFFClose(tif);
            return 1;
        }
    }
    TIFFClose(tif);
    return 0;
}
