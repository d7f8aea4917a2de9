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
    int cap = 64, n = 0;
    double *rd_ms = malloc(cap * sizeof *rd_ms), *wr_ms = malloc(cap * sizeof *wr_ms);
    double *all = malloc(cap * sizeof *all);
    for (int i = 2; i < argc; i++) {
        struct page_reader *rd;
        if (page_reader_open(&rd, argv[i], &o.read, &e) < 0) {
            fprintf(stderr, "iobench: %s: %s\n", argv[i], e.msg);
            page_writer_abort(wr);
            return 1;
        }
        for (int p = 0; p < page_reader_count(rd); p++) {
            page pg;
            double t0 = cpu_ms();
            if (page_reader_read(rd, p, &pg, &e) < 0) {
                fprintf(stderr, "iobench: %s: page %d: %s\n", argv[i], p + 1, e.msg);
                page_writer_abort(wr);
                return 1;
            }
            double t1 = cpu_ms();
            if (page_writer_add(wr, &pg, &e) < 0) {
                fprintf(stderr, "iobench: %s: %s\n", argv[1], e.msg);
                page_writer_abort(wr);
                return 1;
            }
            double t2 = cpu_ms();
            page_free(&pg);
            if (n == cap) {
                cap *= 2;
                rd_ms = realloc(rd_ms, cap * sizeof *rd_ms);
                wr_ms = realloc(wr_ms, cap * sizeof *wr_ms);
                all = realloc(all, cap * sizeof *all);
            }
            rd_ms[n] = t1 - t0;
            wr_ms[n] = t2 - t1;
            all[n] = t2 - t0;
            n++;
        }
        page_reader_close(rd);
    }
    if (page_writer_commit(wr, &e) < 0) {
        fprintf(stderr, "iobench: %s: %s\n", argv[1], e.msg);
        return 1;
    }
    double our_mean = mean(all, n);
    printf("pages %d median: read_ms %.3f write_ms %.3f total_ms %.3f; "
           "mean total_ms %.3f\n", n, median(rd_ms, n), median(wr_ms, n),
           median(all, n), our_mean);
    if (with_tiffcp) {
        double t = tiffcp_ms(argv + 2, argc - 2, argv[1]);
        if (t < 0) {
            fprintf(stderr, "iobench: tiffcp failed\n");
            return 1;
        }
        printf("tiffcp -c g4: mean total_ms %.3f; ratio ours/tiffcp %.2f\n",
               t / n, our_mean / (t / n));
    }
    free(rd_ms);
    free(wr_ms);
    free(all);
    return 0;
}
