/*
 * pngio.c — reading PNG through libpng: one page per file.  1-bit grey and
 * 1-bit two-colour palette images go straight to the page; everything else
 * is converted by libpng to 8-bit grey (palette expanded, 16-bit reduced,
 * colour to luma), composited over white where it has alpha, and binarized.
 * The pHYs chunk gives the resolution when its unit is the metre.
 *
 * libpng reports errors through a callback that longjmps back here; its
 * messages are kept in the reader's buffer, never printed.
 */
#include "pageio_impl.h"
#include "binarize.h"

#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <png.h>

struct png_reader {
    FILE *fp;
    struct read_opts opts;
    char msg[256];
};

static int png_read_page(void *impl, int index, page *pg, errbuf *e);
static void png_close(void *impl);

static const struct reader_ops png_ops = { "PNG", png_read_page, png_close };

static void on_error(png_structp png, png_const_charp msg)
{
    struct png_reader *pr = png_get_error_ptr(png);
    if (pr->msg[0] == '\0')
        snprintf(pr->msg, sizeof pr->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;      /* ancillary chunk trouble: the pixels are still good */
}

int png_reader_open(struct page_reader *rd, int fd, const char *name,
                    const struct read_opts *o, errbuf *e)
{
    struct png_reader *pr = calloc(1, sizeof *pr);
    if (pr == NULL) {
        close(fd);
        return err_set(e, "out of memory");
    }
    pr->opts = *o;
    pr->fp = fdopen(fd, "rb");
    if (pr->fp == NULL) {
        int err = errno;
        close(fd);
        free(pr);
        return err_errno(e, err, "cannot open stream");
    }
    rd->ops = &png_ops;
    rd->impl = pr;
    rd->npages = 1;
    return 0;
}

static void png_close(void *impl)
{
    struct png_reader *pr = impl;
    fclose(pr->fp);     /* read-only: nothing to lose on error */
    free(pr);
}

/* What the decoding needs to carry across setjmp. */
struct png_job {
    png_structp png;
    png_infop info;
    page *pg;
    grey_image grey;
    uint8_t *ga;            /* grey+alpha rows */
    png_bytep *rows;
    bool direct;            /* 1-bit rows straight into the page */
    bool invert;            /* direct rows: 1 bits are white */
    bool alpha;
};

static double png_dpi(png_structp png, png_infop info, double fallback,
                      double *ydpi)
{
    png_uint_32 rx, ry;
    int unit;
    *ydpi = fallback;
    if (!png_get_pHYs(png, info, &rx, &ry, &unit) || unit != PNG_RESOLUTION_METER ||
        rx == 0 || ry == 0)
        return fallback;
    *ydpi = ry * 0.0254;
    return rx * 0.0254;
}

/* Chooses direct 1-bit reading or the grey path and sets up libpng. */
static void png_plan(struct png_job *j)
{
    png_structp png = j->png;
    png_infop info = j->info;
    int depth = png_get_bit_depth(png, info), type = png_get_color_type(png, info);
    png_colorp pal;
    int npal = 0;
    if (depth == 1 && type == PNG_COLOR_TYPE_GRAY &&
        !png_get_valid(png, info, PNG_INFO_tRNS)) {
        j->direct = true;
        j->invert = true;   /* PNG grey: 1 = white */
    } else if (depth == 1 && type == PNG_COLOR_TYPE_PALETTE &&
               !png_get_valid(png, info, PNG_INFO_tRNS) &&
               png_get_PLTE(png, info, &pal, &npal) && npal == 2) {
        j->direct = true;
        j->invert = rgb_to_grey(pal[1].red, pal[1].green, pal[1].blue) >
                    rgb_to_grey(pal[0].red, pal[0].green, pal[0].blue);
    } else {
        png_set_expand(png);            /* palette, low depths, tRNS */
        png_set_strip_16(png);
        if (type & PNG_COLOR_MASK_COLOR)
            png_set_rgb_to_gray_fixed(png, 1, -1, -1);
        j->alpha = (type & PNG_COLOR_MASK_ALPHA) ||
                   png_get_valid(png, info, PNG_INFO_tRNS);
    }
    (void)png_set_interlace_handling(png);
    png_read_update_info(png, info);
}

/* Grey+alpha over white. */
static void composite_row(const uint8_t *ga, uint8_t *dst, int w)
{
    for (int x = 0; x < w; x++) {
        unsigned v = ga[2 * x], a = ga[2 * x + 1];
        dst[x] = (uint8_t)((v * a + 255 * (255 - a) + 127) / 255);
    }
}

/* The part that libpng may longjmp out of; returns 0 or -1 (pr->msg). */
static int png_decode(struct png_reader *pr, struct png_job *j, errbuf *e)
{
    png_structp png = j->png;
    png_infop info = j->info;
    png_init_io(png, pr->fp);
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    uint64_t max = read_max_pixels(&pr->opts);
    if (read_check_size(w, h, &pr->opts, e) < 0)
        return -1;
    double ydpi, xdpi = png_dpi(png, info, read_default_dpi(&pr->opts), &ydpi);
    if (page_alloc(j->pg, (int)w, (int)h, xdpi, ydpi, max, e) < 0)
        return -1;
    png_plan(j);
    size_t rowbytes = png_get_rowbytes(png, info);
    size_t want = j->direct ? ((size_t)w + 7) / 8 : (size_t)w * (j->alpha ? 2 : 1);
    if (rowbytes != want)
        return err_set(e, "unexpected PNG row size %zu", rowbytes);
    j->rows = malloc((size_t)h * sizeof *j->rows);
    if (j->rows == NULL)
        return err_set(e, "out of memory");
    if (!j->direct && grey_alloc(&j->grey, (int)w, (int)h, max, e) < 0)
        return -1;
    if (j->alpha && (j->ga = malloc((size_t)h * rowbytes)) == NULL)
        return err_set(e, "out of memory");
    for (png_uint_32 y = 0; y < h; y++)
        j->rows[y] = j->direct ? page_row(j->pg, (int)y)
                   : j->alpha ? j->ga + (size_t)y * rowbytes
                   : grey_row(&j->grey, (int)y);
    png_read_image(png, j->rows);
    png_read_end(png, NULL);
    return 0;
}

/* Turns what png_decode left into the page. */
static int png_finish(struct png_reader *pr, struct png_job *j, errbuf *e)
{
    page *pg = j->pg;
    if (j->direct) {
        size_t rowbytes = ((size_t)pg->width + 7) / 8;
        if (j->invert)
            for (int y = 0; y < pg->height; y++) {
                uint8_t *row = page_row(pg, y);
                for (size_t i = 0; i < rowbytes; i++)
                    row[i] = (uint8_t)~row[i];
            }
        page_clear_padding(pg);
        return 0;
    }
    if (j->alpha)
        for (int y = 0; y < pg->height; y++)
            composite_row(j->ga + (size_t)y * 2 * (size_t)pg->width,
                          grey_row(&j->grey, y), pg->width);
    return binarize(&j->grey, pr->opts.binarize, pg, e);
}

/* The only function that calls setjmp: it changes no local after it, so
 * nothing it holds is indeterminate after libpng's longjmp; the job's
 * state lives in the caller's frame. */
static int png_guarded(struct png_reader *pr, struct png_job *j, errbuf *e)
{
    if (setjmp(png_jmpbuf(j->png))) {
        if (ferror(pr->fp))
            return err_set(e, "read error");
        if (feof(pr->fp))
            return err_set(e, "truncated file");
        return err_set(e, "%s", pr->msg[0] ? pr->msg : "PNG decoding failed");
    }
    return png_decode(pr, j, e);
}

static int png_read_page(void *impl, int index, page *pg, errbuf *e)
{
    struct png_reader *pr = impl;
    (void)index;
    pr->msg[0] = '\0';
    if (fseeko(pr->fp, 0, SEEK_SET) < 0)
        return err_errno(e, errno, "cannot seek");
    clearerr(pr->fp);
    struct png_job job = { .pg = pg };
    int rc = -1;
    job.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, pr, on_error, on_warning);
    if (job.png != NULL)
        job.info = png_create_info_struct(job.png);
    if (job.png == NULL || job.info == NULL)
        err_set(e, "out of memory");
    else if ((rc = png_guarded(pr, &job, e)) == 0)
        rc = png_finish(pr, &job, e);
    png_destroy_read_struct(&job.png, job.info ? &job.info : NULL, NULL);
    free(job.rows);
    free(job.ga);
    grey_free(&job.grey);
    if (rc < 0)
        page_free(pg);
    return rc;
}
