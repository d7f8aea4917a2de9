/*
 * iobench.c — measures the I/O edge alone: reads every page of each input
 * with page_reader and writes them all to one G4 TIFF with page_writer,
 * timing each page's read and write in thread CPU time.  Prints per-page
 * medians, so that scripts can compare them with `tiffcp -c g4` (the
 * libtiff decode+encode floor) measured in the same run.
 *
 *   iobench OUTPUT.tif INPUT...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pageio.h"

static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n ? (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2) : 0;
}

static double mean(const double *v, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += v[i];
    return n ? s / n : 0;
}

/* CPU milliseconds of `tiffcp -c g4 INPUT... OUT` (user + system). */
static double tiffcp_ms(char **inputs, int n, const char *out)
{
    char **argv = calloc((size_t)n + 5, sizeof *argv);
    argv[0] = "tiffcp";
    argv[1] = "-c";
    argv[2] = "g4";
    for (int i = 0; i < n; i++)
        argv[3 + i] = inputs[i];
    argv[3 + n] = (char *)out;
    pid_t pid = fork();
    if (pid == 0) {
        execvp("tiffcp", argv);
        _exit(127);
    }
    free(argv);
    int status;
    struct rusage ru;
    if (pid < 0 || wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0)
        return -1;
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* Per-page times, in thread CPU milliseconds. */
struct times {
    double *rd, *wr, *all;
    int n, cap;
};

static int times_add(struct times *t, double rd, double wr)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 64;
        t->rd = realloc(t->rd, (size_t)t->cap * sizeof *t->rd);
        t->wr = realloc(t->wr, (size_t)t->cap * sizeof *t->wr);
        t->all = realloc(t->all, (size_t)t->cap * sizeof *t->all);
        if (!t->rd || !t->wr || !t->all)
            return -1;
    }
    t->rd[t->n] = rd;
    t->wr[t->n] = wr;
    t->all[t->n] = rd + wr;
    t->n++;
    return 0;
}

/* Copies every page of one input into wr, timing each read and write. */
static int copy_file(const char *in, const char *out, struct page_writer *wr,
                     const struct read_opts *o, struct times *t)
{
    errbuf e;
    struct page_reader *rd;
    if (page_reader_open(&rd, in, o, &e) < 0) {
        fprintf(stderr, "iobench: %s: %s\n", in, e.msg);
        return -1;
    }
    int rc = 0;
    for (int p = 0; p < page_reader_count(rd) && rc == 0; p++) {
        page pg;
        double t0 = cpu_ms();
        if (page_reader_read(rd, p, &pg, &e) < 0) {
            fprintf(stderr, "iobench: %s: page %d: %s\n", in, p + 1, e.msg);
            rc = -1;
            break;
        }
        double t1 = cpu_ms();
        rc = page_writer_add(wr, &pg, &e);
        double t2 = cpu_ms();
        page_free(&pg);
        if (rc < 0)
            fprintf(stderr, "iobench: %s: %s\n", out, e.msg);
        else if ((rc = times_add(t, t1 - t0, t2 - t1)) < 0)
            fprintf(stderr, "iobench: out of memory\n");
    }
    page_reader_close(rd);
    return rc;
}

int main(int argc, char **argv)
{
    int with_tiffcp = argc > 1 && strcmp(argv[1], "--tiffcp") == 0;
    argv += with_tiffcp;
    argc -= with_tiffcp;
    if (argc < 3) {
        fprintf(stderr, "usage: iobench [--tiffcp] OUTPUT.tif INPUT...\n");
        return 2;
    }
    struct chain_opts o;
    chain_opts_default(&o);
    errbuf e;
    struct page_writer *wr;
    if (page_writer_open(&wr, argv[1], &e) < 0) {
        fprintf(stderr, "iobench: %s: %s\n", argv[1], e.msg);
        return 1;
    }
    struct times t = { 0 };
    for (int i = 2; i < argc; i++)
        if (copy_file(argv[i], argv[1], wr, &o.read, &t) < 0) {
            page_writer_abort(wr);
            return 1;
        }
    if (page_writer_commit(wr, &e) < 0) {
        fprintf(stderr, "iobench: %s: %s\n", argv[1], e.msg);
        return 1;
    }
    double our_mean = mean(t.all, t.n);
    printf("pages %d median: read_ms %.3f write_ms %.3f total_ms %.3f; "
           "mean total_ms %.3f\n", t.n, median(t.rd, t.n), median(t.wr, t.n),
           median(t.all, t.n), our_mean);
    if (with_tiffcp) {
        double ms = tiffcp_ms(argv + 2, argc - 2, argv[1]);
        if (ms < 0) {
            fprintf(stderr, "iobench: tiffcp failed\n");
            return 1;
        }
        printf("tiffcp -c g4: mean total_ms %.3f; ratio ours/tiffcp %.2f\n",
               ms / t.n, our_mean / (ms / t.n));
    }
    free(t.rd);
    free(t.wr);
    free(t.all);
    return 0;
}
