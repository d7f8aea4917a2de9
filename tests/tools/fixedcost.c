/*
 * fixedcost.c — a stand-in for real work in the coordination benchmark
 * (scripts/bench-scale.sh): an `exec` step that takes a fixed wall-clock
 * time per pack, or per page of the pack, and copies its input to its
 * output, so that many nodes on a 2-core machine measure the spool
 * protocol rather than the CPUs.
 *
 *   fixedcost [--ms MS] [--per-page MS] [--stamp FILE] IN OUT
 *
 * The cost is MS + (pages of IN) x per-page MS, counted from the start of
 * main(): the copy (and the page count) happen first, then the program
 * sleeps until the cost is used up, so the step takes the same time
 * whatever the copy cost.  A copy that takes longer than the cost is not
 * cut short; the overrun is printed.  Pages are the TIFF's directories
 * (libtiff), counted only when --per-page is given.
 *
 * --stamp FILE appends "START_NS<TAB>END_NS<TAB>PAGES<TAB>COST_MS" (CLOCK_
 * REALTIME ns) to FILE, so the benchmark can see when each step really ran
 * (one short write with O_APPEND; lines of concurrent steps do not mix).
 *
 * Output on stdout: one line "fixedcost: P pages, cost C ms, copy K ms"
 * (it lands in the pack's JSON report as the step's output tail).  Exits 0,
 * or 1 with a reason on stderr (unreadable input, unwritable output),
 * 2 on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <tiffio.h>

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long long real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Copies IN to OUT (created 0644, truncated).  0 or -1 with a message. */
static int copy_file(const char *in, const char *out)
{
    int fi = open(in, O_RDONLY | O_CLOEXEC);
    if (fi < 0) {
        fprintf(stderr, "fixedcost: %s: %s\n", in, strerror(errno));
        return -1;
    }
    int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fo < 0) {
        fprintf(stderr, "fixedcost: %s: %s\n", out, strerror(errno));
        close(fi);
        return -1;
    }
    static char buf[1 << 17];
    int rc = 0;
    for (;;) {
        ssize_t n = read(fi, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fprintf(stderr, "fixedcost: read %s: %s\n", in, strerror(errno));
            rc = -1;
        }
        if (n <= 0)
            break;
        for (ssize_t off = 0; off < n && rc == 0;) {
            ssize_t w = write(fo, buf + off, (size_t)(n - off));
            if (w < 0 && errno != EINTR) {
                fprintf(stderr, "fixedcost: write %s: %s\n", out, strerror(errno));
                rc = -1;
            }
            off += w > 0 ? w : 0;
        }
        if (rc < 0)
            break;
    }
    close(fi);
    if (close(fo) < 0 && rc == 0) {
        fprintf(stderr, "fixedcost: close %s: %s\n", out, strerror(errno));
        rc = -1;
    }
    return rc;
}

/* Pages (TIFF directories) of path, or -1 with a message. */
static int count_pages(const char *path)
{
    TIFFSetErrorHandler(NULL);
    TIFFSetWarningHandler(NULL);
    TIFF *t = TIFFOpen(path, "r");
    if (t == NULL) {
        fprintf(stderr, "fixedcost: %s: not a readable TIFF\n", path);
        return -1;
    }
    int n = (int)TIFFNumberOfDirectories(t);
    TIFFClose(t);
    return n;
}

static int stamp(const char *file, long long t0, long long t1, int pages,
                 double cost_ms)
{
    char line[128];
    int n = snprintf(line, sizeof line, "%lld\t%lld\t%d\t%.3f\n", t0, t1,
                     pages, cost_ms);
    int fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, line, (size_t)n) != n) {
        fprintf(stderr, "fixedcost: %s: %s\n", file, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return close(fd);
}

static int number(const char *s, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return errno == 0 && end != s && *end == '\0' && *v >= 0 && *v < 1e8 ? 0 : -1;
}

static int usage(void)
{
    fprintf(stderr, "usage: fixedcost [--ms MS] [--per-page MS] [--stamp FILE] IN OUT\n");
    return 2;
}

int main(int argc, char **argv)
{
    double t0 = mono_s();
    long long r0 = real_ns();
    double ms = 0, per_page = -1;
    const char *stamp_file = NULL;
    int i = 1;
    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (strcmp(argv[i], "--ms") == 0 && number(argv[i + 1], &ms) == 0)
            continue;
        if (strcmp(argv[i], "--per-page") == 0 && number(argv[i + 1], &per_page) == 0)
            continue;
        if (strcmp(argv[i], "--stamp") == 0) {
            stamp_file = argv[i + 1];
            continue;
        }
        return usage();
    }
    if (argc - i != 2)
        return usage();
    int pages = 0;
    if (per_page >= 0 && (pages = count_pages(argv[i])) < 0)
        return 1;
    double cost = ms + (per_page > 0 ? per_page * pages : 0);
    if (copy_file(argv[i], argv[i + 1]) < 0)
        return 1;
    double copy_ms = (mono_s() - t0) * 1000;
    double left = cost - copy_ms;
    if (left > 0) {
        struct timespec ts = { (time_t)(left / 1000),
                               (long)((left - (double)(time_t)(left / 1000) * 1000) * 1e6) };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
            ;
    }
    if (stamp_file && stamp(stamp_file, r0, real_ns(), pages, cost) < 0)
        return 1;
    printf("fixedcost: %d pages, cost %.1f ms, copy %.1f ms%s\n", pages, cost,
           copy_ms, cost > 0 && left < 0 ? " (overran the cost)" : "");
    return 0;
}
