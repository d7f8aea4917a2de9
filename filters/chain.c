/*
 * chain.c — runs the filter stages over the pages of a pack and writes the
 * cleaned pages and their JSON reports, optionally with the pages of the
 * pack filtered in parallel (chain_opts.threads) while the output keeps the
 * input order.
 */
#include "chain.h"
#include "pageio.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int (*stage_fn)(page *, const struct chain_opts *,
                        struct page_report *, errbuf *);

static const struct {
    const char *name;
    stage_fn run;       /* NULL while a stage is not implemented */
} stages[STAGE_COUNT] = {
    [STAGE_BORDER]    = { "border", border_stage },
    [STAGE_ORIENT]    = { "orient", orient_stage },
    [STAGE_DESKEW]    = { "deskew", deskew_stage },
    [STAGE_DESPECKLE] = { "despeckle", despeckle_stage },
    [STAGE_CROP]      = { "crop", crop_stage },
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

bool stage_available(enum stage_id s)
{
    return (unsigned)s < STAGE_COUNT && stages[s].run != NULL;
}

int stage_from_name(const char *name)
{
    for (int i = 0; i < STAGE_COUNT; i++)
        if (strcmp(stages[i].name, name) == 0)
            return i;
    return -1;
}

/* CPU time of the calling thread: per-stage times stay meaningful on a
 * loaded machine and with page-parallel threads. */
static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
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

/* ------------------------------------------------------------- report */

struct jbuf {
    char *p;
    size_t len, cap;
    bool overflow;
};

static void jraw(struct jbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void jraw(struct jbuf *b, const char *fmt, ...)
{
    if (b->overflow)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= b->cap - b->len)
        b->overflow = true;
    else
        b->len += (size_t)n;
}

/* A JSON number (as "key":value unless key is NULL) with `decimals` digits
 * after the point: null if it is not
 * finite, exponent form if it is huge, '.' as the point in every locale. */
static void jnum(struct jbuf *b, const char *key, double v, int decimals)
{
    if (key)
        jraw(b, "\"%s\":", key);
    if (!isfinite(v)) {
        jraw(b, "null");
        return;
    }
    char num[64];
    if (fabs(v) < 1e12)
        snprintf(num, sizeof num, "%.*f", decimals, v);
    else
        snprintf(num, sizeof num, "%.6e", v);
    for (char *c = num; *c; c++)
        if (*c == ',')
            *c = '.';
    jraw(b, "%s", num);
}

int page_report_json(const struct page_report *r, char *buf, size_t len)
{
    struct jbuf b = { buf, 0, len, len == 0 };
    jraw(&b, "{\"page\":%d,\"width\":%d,\"height\":%d,\"in_width\":%d,"
         "\"in_height\":%d,", r->index, r->width, r->height, r->in_width,
         r->in_height);
    jraw(&b, "\"dpi\":[");
    jnum(&b, NULL, r->xdpi, 2);
    jraw(&b, ",");
    jnum(&b, NULL, r->ydpi, 2);
    jraw(&b, "],\"orientation\":%d,", r->orientation);
    jnum(&b, "orient_conf", r->orient_conf, 3);
    jraw(&b, ",");
    jnum(&b, "skew", r->skew, 4);
    jraw(&b, ",");
    jnum(&b, "skew_conf", r->skew_conf, 3);
    jraw(&b, ",\"deskewed\":%s,\"border_px\":%llu,\"specks\":%llu,"
         "\"speck_px\":%llu,\"holes\":%llu,"
         "\"crop\":{\"x\":%d,\"y\":%d,\"w\":%d,\"h\":%d},\"ms\":{",
         r->deskewed ? "true" : "false",
         (unsigned long long)r->border_px, (unsigned long long)r->specks,
         (unsigned long long)r->speck_px, (unsigned long long)r->holes,
         r->crop.x, r->crop.y, r->crop.w, r->crop.h);
    jnum(&b, "read", r->read_ms, 3);
    for (int s = 0; s < STAGE_COUNT; s++) {
        jraw(&b, ",");
        jnum(&b, stages[s].name, r->stage_ms[s], 3);
    }
    jraw(&b, ",");
    jnum(&b, "write", r->write_ms, 3);
    jraw(&b, "}}");
    return b.overflow ? -1 : (int)b.len;
}

/* ------------------------------------------------------------- packs */

/* The pages of a pack: page k (0-based over all inputs) is page
 * k - start[f] of input f, where start[f] <= k < start[f + 1]. */
struct pack {
    const char *const *inputs;
    int ninputs;
    int *start;             /* ninputs + 1 entries */
    const char *output;
    const struct chain_opts *o;
    FILE *report;
};

/* A filtered page on its way to the writer. */
enum slot_state { SLOT_EMPTY, SLOT_OK, SLOT_FAILED };
struct done_page {
    page pg;
    struct page_report r;
    errbuf e;
    enum slot_state state;
};

/* A thread's reader, kept open while its pages come from one input. */
struct reader_cache {
    struct page_reader *rd;
    int file;
};

static int pack_total(const struct pack *pk)
{
    return pk->start[pk->ninputs];
}

static bool cancelled(const struct pack *pk)
{
    return pk->o->cancel && atomic_load(pk->o->cancel) != 0;
}

/* Opens every input once to count its pages. */
static int pack_plan(struct pack *pk, errbuf *e)
{
    if (pk->ninputs < 1)
        return err_set(e, "no input files");
    pk->start = malloc(((size_t)pk->ninputs + 1) * sizeof *pk->start);
    if (pk->start == NULL)
        return err_set(e, "out of memory");
    pk->start[0] = 0;
    for (int f = 0; f < pk->ninputs; f++) {
        struct page_reader *rd;
        if (page_reader_open(&rd, pk->inputs[f], &pk->o->read, e) < 0) {
            err_prefix(e, "%s", pk->inputs[f]);
            return -1;
        }
        int n = page_reader_count(rd);
        page_reader_close(rd);
        if (n > INT32_MAX - pk->start[f])
            return err_set(e, "%s: too many pages", pk->inputs[f]);
        pk->start[f + 1] = pk->start[f] + n;
    }
    return 0;
}

static int pack_file_of(const struct pack *pk, int k)
{
    int lo = 0, hi = pk->ninputs - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (pk->start[mid] <= k)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

static void cache_close(struct reader_cache *c)
{
    page_reader_close(c->rd);
    c->rd = NULL;
    c->file = -1;
}

/* Reads and filters page k into d (state SLOT_OK, or SLOT_FAILED with
 * "FILE: page N: REASON" in d->e). */
static void process_page(const struct pack *pk, struct reader_cache *c, int k,
                         struct done_page *d)
{
    int f = pack_file_of(pk, k), i = k - pk->start[f];
    const char *path = pk->inputs[f];
    memset(d, 0, sizeof *d);
    d->r.index = k;
    d->state = SLOT_FAILED;
    if (c->file != f) {
        cache_close(c);
        if (page_reader_open(&c->rd, path, &pk->o->read, &d->e) < 0) {
            err_prefix(&d->e, "%s", path);
            return;
        }
        c->file = f;
        if (page_reader_count(c->rd) != pk->start[f + 1] - pk->start[f]) {
            err_set(&d->e, "%s: the file changed while being read", path);
            return;
        }
    }
    double t0 = now_ms();
    if (page_reader_read(c->rd, i, &d->pg, &d->e) < 0) {
        err_prefix(&d->e, "%s: page %d", path, i + 1);
        return;
    }
    d->r.read_ms = now_ms() - t0;
    if (chain_run_page(&d->pg, pk->o, &d->r, &d->e) < 0) {
        page_free(&d->pg);
        err_prefix(&d->e, "%s: page %d", path, i + 1);
        return;
    }
    d->state = SLOT_OK;
}

/* Writes a filtered page and its report line; frees the page. */
static int write_page(const struct pack *pk, struct page_writer *wr,
                      struct done_page *d, errbuf *e)
{
    double t0 = now_ms();
    int rc = page_writer_add(wr, &d->pg, e);
    d->r.write_ms = now_ms() - t0;
    page_free(&d->pg);
    if (rc < 0) {
        err_prefix(e, "%s: page %d", pk->output, d->r.index + 1);
        return -1;
    }
    if (pk->report == NULL)
        return 0;
    char line[PAGE_REPORT_JSON_MAX];
    int n = page_report_json(&d->r, line, sizeof line - 1);
    if (n < 0)
        return err_set(e, "page %d: report line too long", d->r.index + 1);
    line[n++] = '\n';
    if (fwrite(line, 1, (size_t)n, pk->report) != (size_t)n)
        return err_errno(e, errno, "cannot write the report");
    return 0;
}

static int run_sequential(const struct pack *pk, struct page_writer *wr,
                          errbuf *e)
{
    struct reader_cache c = { NULL, -1 };
    int rc = 0;
    for (int k = 0; k < pack_total(pk) && rc == 0; k++) {
        if (cancelled(pk)) {
            rc = err_set(e, "%s: interrupted", pk->output);
            break;
        }
        struct done_page d;
        process_page(pk, &c, k, &d);
        if (d.state == SLOT_FAILED) {
            *e = d.e;
            rc = -1;
        } else {
            rc = write_page(pk, wr, &d, e);
        }
    }
    cache_close(&c);
    return rc;
}

/* Page-parallel run: workers claim pages in order and filter them into a
 * ring of `window` slots; the calling thread writes slot after slot.  A
 * worker claims page k only once page k - window has been taken by the
 * writer, so slot k % window is free and memory stays bounded. */
struct pool {
    const struct pack *pk;
    pthread_mutex_t mu;
    pthread_cond_t work;        /* a claim may have become possible */
    pthread_cond_t done;        /* a slot was filled */
    int next_claim, next_write, window;
    int running;                /* workers that have not returned */
    bool stop;
    struct done_page *slots;
};

static void *worker_main(void *arg)
{
    struct pool *p = arg;
    struct reader_cache c = { NULL, -1 };
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (!p->stop && p->next_claim < pack_total(p->pk) &&
               p->next_claim >= p->next_write + p->window)
            pthread_cond_wait(&p->work, &p->mu);
        if (p->stop || p->next_claim >= pack_total(p->pk) || cancelled(p->pk)) {
            pthread_mutex_unlock(&p->mu);
            break;
        }
        int k = p->next_claim++;
        pthread_mutex_unlock(&p->mu);
        struct done_page d;
        process_page(p->pk, &c, k, &d);
        pthread_mutex_lock(&p->mu);
        p->slots[k % p->window] = d;
        pthread_cond_broadcast(&p->done);
        pthread_mutex_unlock(&p->mu);
    }
    cache_close(&c);
    pthread_mutex_lock(&p->mu);
    p->running--;
    pthread_cond_broadcast(&p->done);   /* the writer may wait for us */
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Takes the result for page k out of its slot, waiting for it; if every
 * worker has stopped (cancelled) without filling it, the page fails. */
static void pool_take(struct pool *p, int k, struct done_page *d)
{
    struct done_page *s = &p->slots[k % p->window];
    pthread_mutex_lock(&p->mu);
    while (s->state == SLOT_EMPTY && p->running > 0)
        pthread_cond_wait(&p->done, &p->mu);
    if (s->state == SLOT_EMPTY) {
        pthread_mutex_unlock(&p->mu);
        memset(d, 0, sizeof *d);
        d->state = SLOT_FAILED;
        err_set(&d->e, "%s: interrupted", p->pk->output);
        return;
    }
    *d = *s;
    s->state = SLOT_EMPTY;
    memset(&s->pg, 0, sizeof s->pg);
    p->next_write = k + 1;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
}

static void pool_stop(struct pool *p)
{
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
}

static int pool_write_all(struct pool *p, struct page_writer *wr, errbuf *e)
{
    struct done_page d;
    for (int k = 0; k < pack_total(p->pk); k++) {
        if (cancelled(p->pk))
            return err_set(e, "%s: interrupted", p->pk->output);
        pool_take(p, k, &d);
        if (d.state == SLOT_FAILED) {
            *e = d.e;
            return -1;
        }
        if (write_page(p->pk, wr, &d, e) < 0)
            return -1;
    }
    return 0;
}

static int run_parallel(const struct pack *pk, struct page_writer *wr,
                        int nthreads, errbuf *e)
{
    struct pool p = { .pk = pk, .window = 2 * nthreads };
    p.slots = calloc((size_t)p.window, sizeof *p.slots);
    pthread_t *tids = calloc((size_t)nthreads, sizeof *tids);
    if (p.slots == NULL || tids == NULL) {
        free(p.slots);
        free(tids);
        return err_set(e, "out of memory");
    }
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.work, NULL);
    pthread_cond_init(&p.done, NULL);
    int started = 0, rc = 0;
    for (; started < nthreads; started++) {
        pthread_mutex_lock(&p.mu);
        p.running++;
        pthread_mutex_unlock(&p.mu);
        int err = pthread_create(&tids[started], NULL, worker_main, &p);
        if (err != 0) {
            pthread_mutex_lock(&p.mu);
            p.running--;
            pthread_mutex_unlock(&p.mu);
            rc = err_errno(e, err, "cannot start a thread");
            break;
        }
    }
    if (rc == 0)
        rc = pool_write_all(&p, wr, e);
    pool_stop(&p);
    for (int t = 0; t < started; t++)
        pthread_join(tids[t], NULL);
    for (int s = 0; s < p.window; s++)
        page_free(&p.slots[s].pg);     /* results nobody took */
    pthread_cond_destroy(&p.done);
    pthread_cond_destroy(&p.work);
    pthread_mutex_destroy(&p.mu);
    free(p.slots);
    free(tids);
    return rc;
}

int chain_clean_files(const char *const *inputs, int ninputs,
                      const char *output, const struct chain_opts *o,
                      FILE *report, errbuf *e)
{
    struct pack pk = { inputs, ninputs, NULL, output, o, report };
    if (pack_plan(&pk, e) < 0) {
        free(pk.start);
        return -1;
    }
    struct page_writer *wr;
    if (page_writer_open(&wr, output, e) < 0) {
        err_prefix(e, "%s", output);
        free(pk.start);
        return -1;
    }
    int nthreads = o->threads < pack_total(&pk) ? o->threads : pack_total(&pk);
    int rc = nthreads > 1 ? run_parallel(&pk, wr, nthreads, e)
                          : run_sequential(&pk, wr, e);
    if (rc == 0 && report && fflush(report) != 0)
        rc = err_errno(e, errno, "cannot write the report");
    free(pk.start);
    if (rc < 0) {
        page_writer_abort(wr);
        return -1;
    }
    if (page_writer_commit(wr, e) < 0) {
        err_prefix(e, "%s", output);
        return -1;
    }
    return 0;
}
