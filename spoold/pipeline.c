/*
 * pipeline.c — the body of a worker: runs the configured pipeline over one
 * pack and leaves the output TIFF and its JSON report where the spool
 * module will publish them from.
 *
 * Steps run in order; each reads the previous step's file (the first reads
 * the pack: its file, or a directory pack's members in name order) and
 * writes its own into the worker's private directory.  A run of filter
 * steps is one pass of the filter library (chain_clean_files: decode, the
 * stages, CCITT G4).  An exec step runs a program (execstep.h) with {in}
 * and {out}; one without {out} is a check or a side effect and passes its
 * input on.  The last file written is the pack's output; it must open as
 * an image (its page count goes into the report).
 *
 * Failures: a first filter pass that fails is re-checked by decoding every
 * page of the pack without filters; if that fails too (for a reason other
 * than memory), the input itself is bad and WORKER_BAD_INPUT says so, since
 * it would fail the same way on every node.  A failure of the shared file
 * systems rather than of the pack (the spool or the output unreachable or
 * full: about_infrastructure) is WORKER_UNAVAILABLE, so that a flapping
 * mount or a full disk never uses up a good pack's attempts nor passes for
 * bad input.  Everything else is a failed attempt (WORKER_FAILED).
 */
#include "worker.h"
#include "jsonstr.h"

#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"
#include "chain.h"
#include "execstep.h"
#include "metrics.h"
#include "pageio.h"
#include "spool.h"

#define MAX_MEMBERS 100000

_Static_assert(WORKER_NSTAGES == METRICS_NSTAGES,
               "worker results carry one time per metrics stage");

/* The pack's input files. */
struct inputs {
    char **v;
    int n;
};

static void inputs_free(struct inputs *in)
{
    for (int i = 0; i < in->n; i++)
        free(in->v[i]);
    free(in->v);
    in->v = NULL;
    in->n = 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int inputs_add(struct inputs *in, const char *dir, const char *name,
                      errbuf *e)
{
    if (in->n >= MAX_MEMBERS)
        return err_set(e, "more than %d files in the pack", MAX_MEMBERS);
    if (in->n % 64 == 0) {
        char **v = realloc(in->v, ((size_t)in->n + 64) * sizeof *v);
        if (v == NULL)
            return err_set(e, "out of memory");
        in->v = v;
    }
    size_t len = strlen(dir) + strlen(name) + 2;
    if ((in->v[in->n] = malloc(len)) == NULL)
        return err_set(e, "out of memory");
    snprintf(in->v[in->n++], len, "%s%s%s", dir, *dir ? "/" : "", name);
    return 0;
}

/* Lists a directory pack: regular files not ignored by name, sorted.
 * Returns 0, -1 (error, e) with *bad set when the pack itself is at fault
 * (nested directory, symlink, no pages). */
static int list_members(const char *dir, struct inputs *in, bool *bad, errbuf *e)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return err_errno(e, errno, "%s", dir);
    struct dirent *de;
    int rc = 0;
    while (rc == 0 && (errno = 0, de = readdir(d)) != NULL) {
        if (spool_name_ignored(de->d_name))
            continue;
        struct stat st;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (lstat(path, &st) < 0)
            rc = err_errno(e, errno, "%s", path);
        else if (!S_ISREG(st.st_mode))
            rc = err_set(e, "%s: not a regular file (directory packs hold "
                         "only page files)", path), *bad = true;
        else
            rc = inputs_add(in, "", path, e);
    }
    if (rc == 0 && de == NULL && errno != 0)
        rc = err_errno(e, errno, "readdir %s", dir);
    closedir(d);
    if (rc == 0 && in->n == 0)
        rc = err_set(e, "%s: directory pack without page files", dir), *bad = true;
    if (rc == 0)
        qsort(in->v, (size_t)in->n, sizeof *in->v, cmp_str);
    return rc;
}

static int pack_inputs(const struct worker_job *job, struct inputs *in,
                       bool *bad, errbuf *e)
{
    if (job->is_dir)
        return list_members(job->src, in, bad, e);
    struct stat st;
    if (lstat(job->src, &st) < 0)
        return err_errno(e, errno, "%s", job->src);
    if (!S_ISREG(st.st_mode)) {
        *bad = true;
        return err_set(e, "%s: not a regular file", job->src);
    }
    return inputs_add(in, "", job->src, e);
}

/* Decodes every page of every input without filters: 0 if all decode. */
static int decode_check(const struct inputs *in, const struct read_opts *o,
                        errbuf *e)
{
    for (int i = 0; i < in->n; i++) {
        struct page_reader *rd;
        if (page_reader_open(&rd, in->v[i], o, e) < 0) {
            err_prefix(e, "%s", in->v[i]);
            return -1;
        }
        int n = page_reader_count(rd);
        for (int p = 0; p < n; p++) {
            page pg = { 0 };
            if (page_reader_read(rd, p, &pg, e) < 0) {
                err_prefix(e, "%s: page %d", in->v[i], p + 1);
                page_reader_close(rd);
                return -1;
            }
            page_free(&pg);
        }
        page_reader_close(rd);
    }
    return 0;
}

/* ------------------------------------------------------------ JSON */

/* The report being built: header fields and one entry per step. */
struct report {
    char *steps;            /* JSON array body, from open_memstream */
    size_t steps_len;
    FILE *fp;
    int nsteps;
};

static void report_filter_step(struct report *rep, const struct chain_opts *o,
                               double ms, const char *pages, size_t plen)
{
    FILE *fp = rep->fp;
    fprintf(fp, "%s{\"kind\":\"filters\",\"stages\":[", rep->nsteps++ ? "," : "");
    for (int s = 0; s < o->nstages; s++)
        fprintf(fp, "%s\"%s\"", s ? "," : "", stage_name(o->stages[s]));
    fprintf(fp, "],\"ms\":%.3f,\"pages\":[", ms);
    /* chain_clean_files wrote one JSON object per line */
    bool first = true;
    for (size_t i = 0; i < plen;) {
        const char *nl = memchr(pages + i, '\n', plen - i);
        size_t n = nl ? (size_t)(nl - (pages + i)) : plen - i;
        if (n > 0) {
            fprintf(fp, "%s%.*s", first ? "" : ",", (int)n, pages + i);
            first = false;
        }
        i += n + 1;
    }
    fputs("]}", fp);
}

static void report_exec_step(struct report *rep, char *const *argv,
                             const struct exec_result *xr)
{
    FILE *fp = rep->fp;
    fprintf(fp, "%s{\"kind\":\"exec\",\"argv\":[", rep->nsteps++ ? "," : "");
    for (int i = 0; argv[i] != NULL; i++) {
        fputs(i ? "," : "", fp);
        json_put_str(fp, argv[i]);
    }
    fprintf(fp, "],\"ms\":%.3f,\"output_tail\":", xr->ms);
    json_put_str(fp, xr->tail);
    fputc('}', fp);
}

/* ------------------------------------------------------------ steps */

struct run {
    const struct worker_job *job;
    struct worker_result *r;
    struct inputs pack;         /* the pack's files */
    bool at_pack;               /* the next step reads the pack itself */
    char cur[4096];             /* else: the file the next step reads */
    struct report rep;
    double t0;
};

static enum worker_status fail(struct run *run, enum worker_status st,
                               const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum worker_status fail(struct run *run, enum worker_status st,
                               const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(run->r->reason, sizeof run->r->reason, fmt, ap);
    va_end(ap);
    run->r->status = st;
    return st;
}

/* True if an error message is about memory (memory_limit, or the machine):
 * not the input's fault, another attempt may succeed. */
static bool about_memory(const char *msg)
{
    return strstr(msg, "out of memory") != NULL ||
           strstr(msg, strerror(ENOMEM)) != NULL;
}

/* True if an error message is about the file systems the worker reads and
 * writes rather than about the pack: a mount gone, stale or cut off
 * (spool_msg_mount_error), or a full or read-only file system. */
static bool about_infrastructure(const char *msg)
{
    static const int full[] = { ENOSPC, EDQUOT, EROFS };
    return spool_msg_mount_error(msg) ||
           spool_msg_names(msg, full, sizeof full / sizeof full[0]);
}

static enum worker_status filter_step(struct run *run, int i, const char *out)
{
    const struct pipeline_step *st = &run->job->conf->steps[i];
    /* read only what is in the spool: a member swapped for a symlink
     * after the listing is refused, not followed out of the spool */
    struct chain_opts co = st->chain;
    co.read.no_follow = true;
    struct inputs one = { 0 };
    char *onev[1] = { run->cur };
    if (!run->at_pack) {
        one.v = onev;
        one.n = 1;
    }
    const struct inputs *in = run->at_pack ? &run->pack : &one;
    char *pages = NULL;
    size_t plen = 0;
    FILE *pfp = open_memstream(&pages, &plen);
    if (pfp == NULL)
        return fail(run, WORKER_FAILED, "open_memstream: %s", strerror(errno));
    errbuf e;
    double t0 = mono_now();
    int rc = chain_clean_files((const char *const *)in->v, in->n, out,
                               &co, pfp, &e);
    double ms = (mono_now() - t0) * 1000;
    fclose(pfp);
    if (rc == 0) {
        report_filter_step(&run->rep, &st->chain, ms, pages, plen);
        metrics_add_report_ms(run->r->stage_ms, pages, plen);
    }
    free(pages);
    if (rc == 0)
        return WORKER_OK;
    if (about_infrastructure(e.msg))
        return fail(run, WORKER_UNAVAILABLE, "filters: %s", e.msg);
    if (run->at_pack) {
        errbuf de;
        if (decode_check(in, &co.read, &de) < 0 && !about_memory(de.msg)) {
            if (about_infrastructure(de.msg))
                return fail(run, WORKER_UNAVAILABLE, "reading the pack: %s",
                            de.msg);
            return fail(run, WORKER_BAD_INPUT, "bad input: %s", de.msg);
        }
    }
    char lim[16];
    if (about_memory(e.msg) && run->job->conf->memory_limit > 0)
        return fail(run, WORKER_FAILED, "filters: %s (memory_limit %s)", e.msg,
                    conf_format_size(run->job->conf->memory_limit, lim, sizeof lim));
    return fail(run, WORKER_FAILED, "filters: %s", e.msg);
}

/* Seconds an exec step may run: its own timeout, within what is left of
 * the pack's; 0 = no limit; < 0 = none left. */
static double exec_budget(const struct run *run, const struct pipeline_step *st)
{
    double t = st->timeout;
    if (run->job->timeout_s > 0) {
        double left = run->job->timeout_s - (mono_now() - run->t0);
        if (left <= 0)
            return -1;
        if (t == 0 || left < t)
            t = left;
    }
    return t;
}

static enum worker_status exec_step(struct run *run, int i, const char *out)
{
    const struct worker_job *job = run->job;
    const struct pipeline_step *st = &job->conf->steps[i];
    struct exec_subst s = {
        .in = run->at_pack ? job->src : run->cur,
        .out = out, .pack = job->pack, .node = job->conf->node,
        .attempt = job->attempt,
    };
    double budget = exec_budget(run, st);
    if (budget < 0)
        return fail(run, WORKER_FAILED, "pack_timeout reached before step "
                    "%d (exec %s)", i + 1, st->argv[0]);
    char **argv = NULL;
    char **env = exec_environment(environ, &s);
    errbuf e;
    if (env == NULL || exec_expand(st->argv, &s, &argv, &e) < 0) {
        free(env);
        return fail(run, WORKER_FAILED, "out of memory");
    }
    struct exec_result xr;
    int rc = exec_run(argv, env, budget, job->own_group, &xr, &e);
    if (rc == 0) {
        report_exec_step(&run->rep, argv, &xr);
        run->r->stage_ms[METRICS_STAGE_EXEC] += xr.ms;
    }
    free(argv);
    free(env);
    if (rc < 0)
        return fail(run, WORKER_FAILED, "exec step %d: %s", i + 1, e.msg);
    char why[WORKER_REASON_MAX - 32];
    if (exec_describe(&xr, st->argv[0], why, sizeof why) < 0)
        return fail(run, WORKER_FAILED, "exec step %d: %s", i + 1, why);
    struct stat sb;
    if (out != NULL && (stat(out, &sb) < 0 || !S_ISREG(sb.st_mode) ||
                        sb.st_size == 0))
        return fail(run, WORKER_FAILED, "exec step %d: %s exited 0 but did "
                    "not write {out}", i + 1, st->argv[0]);
    return WORKER_OK;
}

/* Index of the last step that writes a file. */
static int last_writer(const struct spoold_conf *c)
{
    int last = -1;
    for (int i = 0; i < c->nsteps; i++)
        if (c->steps[i].kind == STEP_FILTERS || exec_uses_out(c->steps[i].argv))
            last = i;
    return last;
}

static enum worker_status run_steps(struct run *run)
{
    const struct spoold_conf *c = run->job->conf;
    int last = last_writer(c);
    if (last < 0)
        return fail(run, WORKER_FAILED, "the pipeline writes no file");
    for (int i = 0; i < c->nsteps; i++) {
        const struct pipeline_step *st = &c->steps[i];
        bool writes = st->kind == STEP_FILTERS || exec_uses_out(st->argv);
        char out[4096];
        snprintf(out, sizeof out, i == last ? "%s/out.tif" : "%s/step%d.tif",
                 run->job->workdir, i + 1);
        enum worker_status ws = st->kind == STEP_FILTERS
                                ? filter_step(run, i, out)
                                : exec_step(run, i, writes ? out : NULL);
        if (ws != WORKER_OK)
            return ws;
        if (writes) {
            snprintf(run->cur, sizeof run->cur, "%s", out);
            run->at_pack = false;
        }
    }
    return WORKER_OK;
}

/* ------------------------------------------------------------ results */

/* Copies a file (when a rename would cross file systems): write, fsync,
 * checked close.  TO is a temporary name in a shared directory (the
 * output): whatever is there is removed and the file made anew with
 * O_EXCL, so that a symlink or FIFO planted there is never followed. */
static int copy_file(const char *from, const char *to, mode_t mode, errbuf *e)
{
    int in = open(from, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0)
        return err_errno(e, errno, "open %s", from);
    if (unlink(to) < 0 && errno != ENOENT) {
        int err = errno;
        close(in);
        return err_errno(e, err, "remove %s", to);
    }
    int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                   mode);
    if (out < 0) {
        int err = errno;
        close(in);
        return err_errno(e, err, "create %s", to);
    }
    char buf[65536];
    ssize_t n;
    int rc = 0;
    while (rc == 0 && (n = read(in, buf, sizeof buf)) != 0) {
        if (n < 0) {
            if (errno != EINTR)
                rc = err_errno(e, errno, "read %s", from);
            continue;
        }
        for (ssize_t off = 0; rc == 0 && off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno != EINTR)
                rc = err_errno(e, errno, "write %s", to);
            off += w > 0 ? w : 0;
        }
    }
    close(in);
    if (rc == 0 && fsync(out) < 0)
        rc = err_errno(e, errno, "fsync %s", to);
    if (close(out) < 0 && rc == 0)
        rc = err_errno(e, errno, "close %s", to);
    if (rc < 0)
        unlink(to);
    return rc;
}

/* Moves a finished file to where the spool module publishes it from. */
static int move_result(const char *from, const char *to, mode_t mode, errbuf *e)
{
    if (chmod(from, mode) < 0)
        return err_errno(e, errno, "chmod %s", from);
    if (rename(from, to) == 0)
        return 0;
    if (errno != EXDEV)
        return err_errno(e, errno, "rename %s to %s", from, to);
    return copy_file(from, to, mode, e);
}

static double cpu_ms(void)
{
    struct rusage self, kids;
    if (getrusage(RUSAGE_SELF, &self) < 0 || getrusage(RUSAGE_CHILDREN, &kids) < 0)
        return 0;
    double s = (double)(self.ru_utime.tv_sec + self.ru_stime.tv_sec +
                        kids.ru_utime.tv_sec + kids.ru_stime.tv_sec);
    double us = (double)(self.ru_utime.tv_usec + self.ru_stime.tv_usec +
                         kids.ru_utime.tv_usec + kids.ru_stime.tv_usec);
    return s * 1e3 + us / 1e3;
}

/* Writes the JSON report to path (fsync'd). */
static int write_report(struct run *run, const char *path, mode_t mode,
                        errbuf *e)
{
    const struct worker_job *job = run->job;
    FILE *fp = fopen(path, "w");
    if (fp == NULL)
        return err_errno(e, errno, "create %s", path);
    time_t now = time(NULL);
    struct tm tm;
    char started[32] = "";
    time_t t0 = now - (time_t)(run->r->ms / 1000);
    if (gmtime_r(&t0, &tm) != NULL)
        strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", &tm);
    char pl[512];
    fputs("{\"pack\":", fp);
    json_put_str(fp, job->pack);
    fputs(",\"node\":", fp);
    json_put_str(fp, job->conf->node);
    fprintf(fp, ",\"attempt\":%d,\"pages\":%d,\"started\":\"%s\","
            "\"ms\":%.3f,\"cpu_ms\":%.3f,\"pipeline\":", job->attempt,
            run->r->pages, started, run->r->ms, run->r->cpu_ms);
    json_put_str(fp, conf_pipeline_describe(job->conf, pl, sizeof pl));
    fprintf(fp, ",\"version\":\"%s\",\"steps\":[%.*s]}\n", SPOOLD_VERSION,
            (int)run->rep.steps_len, run->rep.steps);
    int rc = 0;
    if (fflush(fp) != 0 || ferror(fp))
        rc = err_errno(e, errno, "write %s", path);
    else if (fsync(fileno(fp)) < 0)
        rc = err_errno(e, errno, "fsync %s", path);
    if (fclose(fp) != 0 && rc == 0)
        rc = err_errno(e, errno, "close %s", path);
    (void)mode;
    return rc;
}

static enum worker_status finish(struct run *run)
{
    const struct worker_job *job = run->job;
    errbuf e;
    struct page_reader *rd;
    struct read_opts ro = job->conf->read;
    ro.no_follow = true;
    if (page_reader_open(&rd, run->cur, &ro, &e) < 0)
        return fail(run, WORKER_FAILED, "the pipeline's output is not a "
                    "readable image: %s", e.msg);
    run->r->pages = page_reader_count(rd);
    page_reader_close(rd);
    fclose(run->rep.fp);
    run->rep.fp = NULL;
    run->r->ms = (mono_now() - run->t0) * 1000;
    run->r->cpu_ms = cpu_ms();
    mode_t mode = 0666 & ~(mode_t)job->conf->umask;
    char json[4200];
    snprintf(json, sizeof json, "%s/out.json", job->workdir);
    if (job->out_ok != NULL && job->out_ok(job->out_ctx, &e) < 0)
        return fail(run, WORKER_UNAVAILABLE, "%s", e.msg);
    if (write_report(run, json, mode, &e) < 0 ||
        move_result(json, job->out_json, mode, &e) < 0 ||
        move_result(run->cur, job->out_tif, mode, &e) < 0)
        return fail(run, about_infrastructure(e.msg) ? WORKER_UNAVAILABLE
                                                     : WORKER_FAILED,
                    "%s", e.msg);
    run->r->status = WORKER_OK;
    return WORKER_OK;
}

/* Makes the worker's private directory.  Something already there under
 * its name (a leftover, or a symlink planted in the shared tmp/ to make
 * the worker write elsewhere) is removed first, without following it. */
static int make_workdir(const char *dir, errbuf *e)
{
    if (mkdir(dir, 0700) == 0)
        return 0;
    if (errno != EEXIST)
        return err_errno(e, errno, "mkdir %s", dir);
    if (worker_rmtree(dir, e) < 0)
        return -1;
    if (mkdir(dir, 0700) < 0)
        return err_errno(e, errno, "mkdir %s", dir);
    return 0;
}

/* Tells the daemon the steps are done (worker.h, notify_fd): it may start
 * the next pack while this one's results are written (page count, report
 * and its fsync, renames: over sshfs a dozen round trips and a disk sync
 * on the server, which otherwise kept the worker slot idle between packs;
 * scripts/bench-scale.sh measures it).  A failed write only loses that. */
static void steps_done(const struct worker_job *job)
{
    if (job->notify_fd <= 0)
        return;
    const char *msg = WORKER_STEPS_DONE;
    ssize_t w;
    do
        w = write(job->notify_fd, msg, strlen(msg));
    while (w < 0 && errno == EINTR);
}

enum worker_status pipeline_run(const struct worker_job *job,
                                struct worker_result *r)
{
    struct run run = { .job = job, .r = r, .at_pack = true };
    memset(r, 0, sizeof *r);
    run.t0 = mono_now();
    errbuf e;
    bool bad = false;
    if (make_workdir(job->workdir, &e) < 0)
        fail(&run, WORKER_UNAVAILABLE, "%s", e.msg);
    else if (pack_inputs(job, &run.pack, &bad, &e) < 0)
        fail(&run, bad ? WORKER_BAD_INPUT : about_infrastructure(e.msg)
                   ? WORKER_UNAVAILABLE : WORKER_FAILED, "%s", e.msg);
    else if ((run.rep.fp = open_memstream(&run.rep.steps,
                                          &run.rep.steps_len)) == NULL)
        fail(&run, WORKER_FAILED, "open_memstream: %s", strerror(errno));
    else if (run_steps(&run) == WORKER_OK) {
        steps_done(job);
        finish(&run);
    }
    if (run.rep.fp != NULL)
        fclose(run.rep.fp);
    free(run.rep.steps);
    inputs_free(&run.pack);
    if (r->status != WORKER_OK) {
        r->ms = (mono_now() - run.t0) * 1000;
        r->cpu_ms = cpu_ms();
    }
    return r->status;
}
