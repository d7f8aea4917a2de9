/*
 * binarize.c — grey images and their thresholding to 1-bit pages: Otsu's
 * global threshold (the default) and Sauvola's adaptive threshold (for
 * unevenly lit photographs and scans of grey paper).
 */
#include "binarize.h"

#include <stdlib.h>
#include <string.h>

int grey_alloc(grey_image *g, int width, int height, uint64_t max_pixels,
               errbuf *e)
{
    memset(g, 0, sizeof *g);
    if (max_pixels == 0)
        max_pixels = PAGE_DEFAULT_MAX_PIXELS;
    if (width < 1 || height < 1)
        return err_set(e, "invalid image size %dx%d", width, height);
    if ((uint64_t)width * (uint64_t)height > max_pixels)
        return err_set(e, "image %dx%d exceeds the pixel limit of %llu pixels",
                       width, height, (unsigned long long)max_pixels);
    g->px = malloc((size_t)width * (size_t)height);
    if (g->px == NULL)
        return err_set(e, "cannot allocate %dx%d grey image: out of memory",
                       width, height);
    g->width = width;
    g->height = height;
    g->stride = (size_t)width;
    return 0;
}

void grey_free(grey_image *g)
{
    free(g->px);
    memset(g, 0, sizeof *g);
}

/*
 * otsu_threshold — Otsu (1979), "A threshold selection method from
 * gray-level histograms".
 *
 * Method: for every split t (class 0 = values <= t, class 1 = values > t)
 * the between-class variance w0*w1*(m0-m1)^2 is computed incrementally in one
 * pass over the histogram; the split that maximises it wins.  When several
 * consecutive splits tie (empty bins between two modes, e.g. a pure black and
 * white image), the middle of the plateau is taken so that the threshold
 * lies half-way between the modes.
 *
 * Limits: an image with a single grey value has no split; 127 is returned
 * (mid-grey), so a uniformly dark page comes out black and a light one white.
 */
int otsu_threshold(const uint64_t hist[256])
{
    double total = 0, sum = 0;
    for (int i = 0; i < 256; i++) {
        total += (double)hist[i];
        sum += (double)i * (double)hist[i];
    }
    double w0 = 0, sum0 = 0, best = 0;
    int first = -1, last = -1;
    for (int t = 0; t < 255; t++) {
        w0 += (double)hist[t];
        sum0 += (double)t * (double)hist[t];
        double w1 = total - w0;
        if (w0 == 0)
            continue;
        if (w1 == 0)
            break;
        double d = sum0 / w0 - (sum - sum0) / w1;
        double between = w0 * w1 * d * d;
        if (between > best) {
            best = between;
            first = last = t;
        } else if (between == best && last == t - 1) {
            last = t;
        }
    }
    return first < 0 ? 127 : (first + last) / 2;
}

/* Packs one row: pixel x is black when black[x] is non-zero. */
static void pack_row(const uint8_t *black, int width, uint8_t *row)
{
    int x = 0;
    for (; x + 8 <= width; x += 8) {
        unsigned b = 0;
        for (int i = 0; i < 8; i++)
            b = (b << 1) | (black[x + i] != 0);
        row[x >> 3] = (uint8_t)b;
    }
    if (x < width) {
        unsigned b = 0;
        int n = width - x;
        for (int i = 0; i < n; i++)
            b = (b << 1) | (black[x + i] != 0);
        row[x >> 3] = (uint8_t)(b << (8 - n));
    }
}

static int binarize_otsu(const grey_image *g, page *pg, errbuf *e)
{
    uint64_t hist[256] = { 0 };
    for (int y = 0; y < g->height; y++) {
        const uint8_t *s = grey_row(g, y);
        for (int x = 0; x < g->width; x++)
            hist[s[x]]++;
    }
    int t = otsu_threshold(hist);
    uint8_t *black = malloc((size_t)g->width);
    if (black == NULL)
        return err_set(e, "out of memory");
    for (int y = 0; y < g->height; y++) {
        const uint8_t *s = grey_row(g, y);
        for (int x = 0; x < g->width; x++)
            black[x] = s[x] <= t;
        pack_row(black, g->width, page_row(pg, y));
    }
    free(black);
    return 0;
}

/* Adds (sign = 1) or removes (sign = -1) grey row y to the column sums. */
static void column_update(const grey_image *g, int y, int sign,
                          uint32_t *colsum, uint64_t *colsq)
{
    const uint8_t *s = grey_row(g, y);
    for (int x = 0; x < g->width; x++) {
        uint32_t v = s[x];
        if (sign > 0) {
            colsum[x] += v;
            colsq[x] += v * v;
        } else {
            colsum[x] -= v;
            colsq[x] -= v * v;
        }
    }
}

/* Thresholds row y with the window sums kept in colsum/colsq (rows y0..y1). */
static void sauvola_row(const grey_image *g, int y, int rows, int half,
                        double k, double r, const uint32_t *colsum,
                        const uint64_t *colsq, uint8_t *black)
{
    const uint8_t *s = grey_row(g, y);
    uint64_t sum = 0, sq = 0;
    int x1 = half < g->width - 1 ? half : g->width - 1;
    for (int x = 0; x <= x1; x++) {
        sum += colsum[x];
        sq += colsq[x];
    }
    int x0 = 0;
    for (int x = 0; x < g->width; x++) {
        if (x > 0 && x + half < g->width) {
            sum += colsum[x + half];
            sq += colsq[x + half];
            x1 = x + half;
        }
        if (x - half - 1 >= 0) {
            sum -= colsum[x - half - 1];
            sq -= colsq[x - half - 1];
            x0 = x - half;
        }
        double n = (double)(x1 - x0 + 1) * rows;
        double m = (double)sum / n;
        double var = (double)sq / n - m * m;
        /* black iff v < m * (1 + k * (sd / r - 1)), without a sqrt */
        double a = (double)s[x] - m * (1 - k);
        double c = m * k / r;
        black[x] = a < 0 || a * a < c * c * (var > 0 ? var : 0);
    }
}

/*
 * binarize_sauvola — Sauvola & Pietikäinen (2000), "Adaptive document image
 * binarization".
 *
 * Method: the threshold of each pixel is t = m * (1 + k * (s / r - 1)) where
 * m and s are the mean and standard deviation of the grey values in the
 * (2*half+1)^2 window around it (clipped at the image edges).  Window sums
 * and sums of squares are kept incrementally (per-column sums over the
 * window's rows, slid down one row at a time, then a running sum along the
 * row), so the cost is O(width*height) whatever the window, and the memory
 * O(width).
 *
 * Parameters: half >= 1 (window radius in px), 0 < k < 1 (larger = less
 * ink), r = dynamic range of s (128 for 8-bit data).
 * Limits: solid black areas wider than the window come out hollow (their
 * interior has s ~ 0, so t ~ m*(1-k) < m); choose half larger than the
 * widest stroke.
 */
int binarize_sauvola(const grey_image *g, int half, double k, double r,
                     page *pg, errbuf *e)
{
    size_t w = (size_t)g->width;
    uint32_t *colsum = calloc(w, sizeof *colsum);
    uint64_t *colsq = calloc(w, sizeof *colsq);
    uint8_t *black = malloc(w);
    if (colsum == NULL || colsq == NULL || black == NULL) {
        free(colsum);
        free(colsq);
        free(black);
        return err_set(e, "out of memory");
    }
    int y0 = 0, y1 = half < g->height - 1 ? half : g->height - 1;
    for (int y = y0; y <= y1; y++)
        column_update(g, y, 1, colsum, colsq);
    for (int y = 0; y < g->height; y++) {
        if (y > 0 && y + half < g->height) {
            column_update(g, y + half, 1, colsum, colsq);
            y1 = y + half;
        }
        if (y - half - 1 >= 0) {
            column_update(g, y - half - 1, -1, colsum, colsq);
            y0 = y - half;
        }
        sauvola_row(g, y, y1 - y0 + 1, half, k, r, colsum, colsq, black);
        pack_row(black, g->width, page_row(pg, y));
    }
    free(colsum);
    free(colsq);
    free(black);
    return 0;
}

/* Sauvola window radius: 25 px at 300 dpi (a 4.3 mm window), >= 2. */
static int sauvola_half(double dpi)
{
    int half = (int)(dpi / 12 + 0.5);
    return half < 2 ? 2 : half > 1000 ? 1000 : half;
}

int binarize(const grey_image *g, enum binarize_method m, page *pg, errbuf *e)
{
    if (g->width != pg->width || g->height != pg->height)
        return err_set(e, "internal error: grey and page sizes differ");
    int rc = m == BINARIZE_SAUVOLA
        ? binarize_sauvola(g, sauvola_half(pg->xres), 0.34, 128, pg, e)
        : binarize_otsu(g, pg, e);
    page_clear_padding(pg);
    return rc;
}
