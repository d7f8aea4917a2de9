/*
 * protobench.c — the spool protocol's own cost per pack, for the scale
 * benchmark (scripts/bench-scale.sh): on a spool (an sshfs mount of it in
 * the benchmark) it claims, publishes and retires COUNT packs one after
 * the other, and writes a heartbeat once per pack, as a node does, timing
 * each protocol call (CLOCK_MONOTONIC) and, when the sftp-server's request
 * log is given, counting the SFTP requests each call caused.
 *
 *   protobench SPOOL NODE COUNT [--log FILE]
 *
 * SPOOL/incoming/ must hold COUNT packs (any files) named p00001.tif ...;
 * the tool writes a tiny result for each (the work, not counted) and
 * publishes it.  Phases per pack, each timed on its own:
 *   claim      spool_claim: the target check, the rename, its lost-reply
 *              resolution
 *   paths      spool_output_paths: where the worker writes its results
 *   publish    spool_publish: fencing, the two renames into out/, the
 *              source to done/, the attempt history removed
 *   heartbeat  spool_heartbeat_write: temp file, rename, stat (server now)
 * Prints one line per phase: "PHASE<TAB>median_ms<TAB>p90_ms<TAB>requests
 * per call" (requests "-" without --log), then "total<TAB>..." for one
 * pack (claim + paths + publish + one heartbeat).  --log FILE: the log of
 * the sftp-server that serves SPOOL (sftp-server -l DEBUG3); a request is
 * a line "debugN: request ID: ..." other than "... sent ...", and the
 * server writes it before it answers, so after a call returns, its
 * requests are in the file.  Exit 0, or 1 with a reason.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "spool.h"

enum { PH_CLAIM, PH_PATHS, PH_PUBLISH, PH_HEARTBEAT, NPH };
static const char *const phase_name[NPH] = { "claim", "paths", "publish", "heartbeat" };

struct reqlog {
    FILE *fp;           /* NULL: not counting */
    long count;         /* requests read so far */
};

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Reads the log's new lines; returns how many requests they hold. */
static long new_requests(struct reqlog *rl)
{
    if (rl->fp == NULL)
        return 0;
    char line[8192];
    long n = 0;
    clearerr(rl->fp);
    while (fgets(line, sizeof line, rl->fp) != NULL) {
        int id, off = 0;
        if (strncmp(line, "debug", 5) == 0 &&
            sscanf(line, "debug%*d: request %d: %n", &id, &off) == 1 && off > 0 &&
            strncmp(line + off, "sent ", 5) != 0)
            n++;
    }
    rl->count += n;
    return n;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, int n, double p)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    int k = (int)(p * n + 0.999999);
    return v[k < 1 ? 0 : k > n ? n - 1 : k - 1];
}

/* Writes a small file (the worker's result, not counted). */
static int put(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    ssize_t len = (ssize_t)strlen(text);
    int rc = write(fd, text, (size_t)len) == len ? 0 : -1;
    return close(fd) < 0 ? -1 : rc;
}

static void fill_heartbeat(struct spool_heartbeat *hb, const char *node, int done)
{
    memset(hb, 0, sizeof *hb);
    snprintf(hb->node, sizeof hb->node, "%s", node);
    snprintf(hb->host, sizeof hb->host, "protobench");
    hb->pid = (long)getpid();
    snprintf(hb->version, sizeof hb->version, "bench");
    snprintf(hb->state, sizeof hb->state, "running");
    hb->workers = 1;
    hb->heartbeat_s = 10;
    hb->lease_s = 60;
    hb->local_time = (int64_t)time(NULL);
    hb->packs_done = (uint64_t)done;
}

struct run {
    struct spool *sp;
    const char *node;
    struct reqlog rl;
    double *ms[NPH];
    long req[NPH];
    spool_ns now;
};

/* One pack: claim, result written, paths, publish, heartbeat. */
static int one_pack(struct run *r, int i, errbuf *e)
{
    char name[32];
    snprintf(name, sizeof name, "p%05d.tif", i + 1);
    struct spool_claim c;
    struct spool_output o;
    struct spool_heartbeat hb;
    new_requests(&r->rl);
    double t = mono_ms();
    if (spool_claim(r->sp, name, &c, e) != SPOOL_WON)
        return err_prefix(e, "claim %s", name), -1;
    r->ms[PH_CLAIM][i] = mono_ms() - t;
    r->req[PH_CLAIM] += new_requests(&r->rl);
    t = mono_ms();
    if (spool_output_paths(r->sp, NULL, &c, &o, e) < 0)
        return -1;
    r->ms[PH_PATHS][i] = mono_ms() - t;
    r->req[PH_PATHS] += new_requests(&r->rl);
    if (put(o.tmp_json, "{}\n") < 0 || put(o.tmp_tif, "result\n") < 0)
        return err_errno(e, errno, "writing the results of %s", name);
    new_requests(&r->rl);
    t = mono_ms();
    if (spool_publish(r->sp, &c, &o, true, r->now, e) != SPOOL_WON)
        return err_prefix(e, "publish %s", name), -1;
    r->ms[PH_PUBLISH][i] = mono_ms() - t;
    r->req[PH_PUBLISH] += new_requests(&r->rl);
    fill_heartbeat(&hb, r->node, i + 1);
    t = mono_ms();
    if (spool_heartbeat_write(r->sp, &hb, &r->now, e) < 0)
        return -1;
    r->ms[PH_HEARTBEAT][i] = mono_ms() - t;
    r->req[PH_HEARTBEAT] += new_requests(&r->rl);
    return 0;
}

static void report(struct run *r, int count)
{
    double total_med = 0;
    double total_req = 0;
    for (int p = 0; p < NPH; p++) {
        double med = pct(r->ms[p], count, 0.5), p90 = pct(r->ms[p], count, 0.9);
        total_med += med;
        double rq = (double)r->req[p] / count;
        total_req += rq;
        if (r->rl.fp)
            printf("%s\t%.3f\t%.3f\t%.1f\n", phase_name[p], med, p90, rq);
        else
            printf("%s\t%.3f\t%.3f\t-\n", phase_name[p], med, p90);
    }
    if (r->rl.fp)
        printf("total\t%.3f\t-\t%.1f\n", total_med, total_req);
    else
        printf("total\t%.3f\t-\t-\n", total_med);
}

int main(int argc, char **argv)
{
    if (argc != 4 && !(argc == 6 && strcmp(argv[4], "--log") == 0)) {
        fprintf(stderr, "usage: protobench SPOOL NODE COUNT [--log FILE]\n");
        return 2;
    }
    struct run r = { .node = argv[2] };
    int count = atoi(argv[3]);
    if (count < 1 || count > 100000) {
        fprintf(stderr, "protobench: COUNT must be 1..100000\n");
        return 2;
    }
    if (argc == 6 && (r.rl.fp = fopen(argv[5], "r")) == NULL) {
        fprintf(stderr, "protobench: %s: %s\n", argv[5], strerror(errno));
        return 1;
    }
    errbuf e;
    if (spool_open(&r.sp, argv[1], r.node, NULL, NULL, &e) < 0) {
        fprintf(stderr, "protobench: %s\n", e.msg);
        return 1;
    }
    int rc = 0;
    for (int p = 0; p < NPH && rc == 0; p++)
        if ((r.ms[p] = calloc((size_t)count, sizeof(double))) == NULL)
            rc = err_set(&e, "out of memory");
    struct spool_heartbeat hb;
    fill_heartbeat(&hb, r.node, 0);
    if (rc == 0)
        rc = spool_heartbeat_write(r.sp, &hb, &r.now, &e);
    for (int i = 0; i < count && rc == 0; i++)
        rc = one_pack(&r, i, &e);
    if (rc == 0)
        report(&r, count);
    else
        fprintf(stderr, "protobench: %s\n", e.msg);
    if (spool_heartbeat_remove(r.sp, &e) < 0 && rc == 0)
        fprintf(stderr, "protobench: %s\n", e.msg);
    for (int p = 0; p < NPH; p++)
        free(r.ms[p]);
    spool_close(r.sp);
    if (r.rl.fp)
        fclose(r.rl.fp);
    return rc == 0 ? 0 : 1;
}
