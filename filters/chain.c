/*
 * chain.c — runs the filter stages over the pages of a pack and writes the
 * cleaned pages and their JSON reports.
 */
#include "chain.h"
#include "pageio.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

typedef int (*stage_fn)(page *, const struct chain_opts *,
                        struct page_report *, errbuf *);

static const struct {
    const char *name;
    stage_fn run;       /* NULL while a stage is not implemented */
} stages[STAGE_COUNT] = {
    [STAGE_BORDER]    = { "border", NULL },
    [STAGE_ORIENT]    = { "orient", orient_stage },
    [STAGE_DESKEW]    = { "deskew", deskew_stage },
    [STAGE_DESPECKLE] = { "despeckle", NULL },
    [STAGE_CROP]      = { "crop", NULL },
};

void chain_opts_default(struct chain_opts *o)
{
    memset(o, 0, sizeof *o);
    o->nstages = STAGE_COUNT;
    for (int i = 0; i < STAGE_COUNT; i++)
        o->stages[i] = (enum stage_id)i;
    o->border.max_depth = 0.25;
    o->orient.min_conf = 1.0;
    o->deskew.max_skew = 15.0;
    o->deskew.min_conf = 1.0;
    o->deskew.min_angle = 0.01;
    o->despeckle.max_speck = 5;
    o->despeckle.max_hole = 3;
    o->crop.mode = CROP_CONTENT;
    o->crop.margin_mm = 5.0;
    o->read.default_dpi = PAGE_DEFAULT_DPI;
    o->read.max_pixels = PAGE_DEFAULT_MAX_PIXELS;
    o->read.binarize = BINARIZE_OTSU;
    o->threads = 1;
}

const char *stage_name(enum stage_id s)
{
    return (unsigned)s < STAGE_COUNT ? stages[s].name : "?";
}

int stage_from_name(const char *name)
{
    for (int i = 0; i < STAGE_COUNT; i++)
        if (strcmp(stages[i].name, name) == 0)
            return i;
    return -1;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int chain_run_page(page *pg, const struct chain_opts *o,
                   struct page_report *r, errbuf *e)
{
    r->in_width = pg->width;
    r->in_height = pg->height;
    r->xdpi = pg->xres;
    r->ydpi = pg->yres;
    r->crop.x = r->crop.y = 0;
    r->crop.w = pg->width;
    r->crop.h = pg->height;
    for (int i = 0; i < o->nstages; i++) {
        enum stage_id s = o->stages[i];
        if ((unsigned)s >= STAGE_COUNT || stages[s].run == NULL)
            return err_set(e, "filter '%s' is not available", stage_name(s));
        double t0 = now_ms();
        if (stages[s].run(pg, o, r, e) < 0) {
            err_prefix(e, "%s", stages[s].name);
            return -1;
        }
        r->stage_ms[s] += now_ms() - t0;
    }
    r->width = pg->width;
    r->height = pg->height;
    return 0;
}

int page_report_json(const struct page_report *r, char *buf, size_t len)
{
    int n = snprintf(buf, len,
        "{\"page\":%d,\"width\":%d,\"height\":%d,\"in_width\":%d,"
        "\"in_height\":%d,\"dpi\":[%.6g,%.6g],\"orientation\":%d,"
        "\"orient_conf\":%.3f,\"skew\":%.4f,\"skew_conf\":%.3f,"
        "\"deskewed\":%s,\"border_px\":%llu,\"specks\":%llu,"
        "\"speck_px\":%llu,\"holes\":%llu,"
        "\"crop\":{\"x\":%d,\"y\":%d,\"w\":%d,\"h\":%d},"
        "\"ms\":{\"read\":%.3f,\"border\":%.3f,\"orient\":%.3f,"
        "\"deskew\":%.3f,\"despeckle\":%.3f,\"crop\":%.3f,\"write\":%.3f}}",
        r->index, r->width, r->height, r->in_width, r->in_height,
        r->xdpi, r->ydpi, r->orientation, r->orient_conf, r->skew,
        r->skew_conf, r->deskewed ? "true" : "false",
        (unsigned long long)r->border_px, (unsigned long long)r->specks,
        (unsigned long long)r->speck_px, (unsigned long long)r->holes,
        r->crop.x, r->crop.y, r->crop.w, r->crop.h,
        r->read_ms, r->stage_ms[STAGE_BORDER], r->stage_ms[STAGE_ORIENT],
        r->stage_ms[STAGE_DESKEW], r->stage_ms[STAGE_DESPECKLE],
        r->stage_ms[STAGE_CROP], r->write_ms);
    return (n < 0 || (size_t)n >= len) ? -1 : n;
}

/* Cleans every page of one input into wr; *index counts pages across inputs. */
static int clean_one_file(const char *path, struct page_writer *wr,
                          const struct chain_opts *o, FILE *report,
                          int *index, errbuf *e)
{
    struct page_reader *rd;
    if (page_reader_open(&rd, path, &o->read, e) < 0) {
        err_prefix(e, "%s", path);
        return -1;
    }
    int n = page_reader_count(rd);
    for (int i = 0; i < n; i++) {
        struct page_report r;
        memset(&r, 0, sizeof r);
        r.index = *index;
        page pg = { 0 };
        double t0 = now_ms();
        if (page_reader_read(rd, i, &pg, e) < 0)
            goto fail;
        r.read_ms = now_ms() - t0;
        if (chain_run_page(&pg, o, &r, e) < 0)
            goto fail_page;
        t0 = now_ms();
        if (page_writer_add(wr, &pg, e) < 0)
            goto fail_page;
        r.write_ms = now_ms() - t0;
        page_free(&pg);
        if (report) {
            char line[2048];
            if (page_report_json(&r, line, sizeof line) > 0)
                fprintf(report, "%s\n", line);
        }
        (*index)++;
        continue;
fail_page:
        page_free(&pg);
fail:
        err_prefix(e, "%s: page %d", path, i + 1);
        page_reader_close(rd);
        return -1;
    }
    page_reader_close(rd);
    return 0;
}

int chain_clean_files(const char *const *inputs, int ninputs,
                      const char *output, const struct chain_opts *o,
                      FILE *report, errbuf *e)
{
    struct page_writer *wr;
    if (page_writer_open(&wr, output, e) < 0) {
        err_prefix(e, "%s", output);
        return -1;
    }
    int index = 0;
    for (int i = 0; i < ninputs; i++) {
        if (clean_one_file(inputs[i], wr, o, report, &index, e) < 0) {
            page_writer_abort(wr);
            return -1;
        }
    }
    if (page_writer_commit(wr, e) < 0) {
        err_prefix(e, "%s", output);
        return -1;
    }
    return 0;
}
