/*
 * spoolfilter.c — the command-line front end of the filter library: cleans
 * the pages of one pack (one or more image files, or a directory of them)
 * with the default chain into one multi-page G4 TIFF.
 *
 *   spoolfilter [OPTIONS] INPUT... OUTPUT
 *
 * Exit status 0 on success, 1 when a file cannot be cleaned (one line on
 * stderr: "spoolfilter: FILE: page N: REASON"), 2 on a usage error, 128+N
 * when stopped by signal N (SIGINT, SIGTERM, SIGHUP).  No output file, no
 * report file and no temporary file stay behind on failure.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "chain.h"

#define PROG "spoolfilter"
#define EXIT_USAGE 2

static const char usage_text[] =
"usage: spoolfilter [OPTIONS] INPUT... OUTPUT\n"
"Clean scanned pages: remove borders, turn upright, deskew, despeckle, crop,\n"
"and write every page of the inputs, in order, to OUTPUT as a multi-page\n"
"CCITT G4 TIFF.  INPUT is a TIFF, PNG or PBM/PGM/PPM file (format found from\n"
"its content) or a directory, whose files are read in name order.\n"
"\n"
"  --report FILE       write one JSON line per page to FILE ('-' = stdout)\n"
"  --no-border         keep scanner borders\n"
"  --no-orient         do not turn pages upright\n"
"  --no-deskew         do not straighten pages\n"
"  --no-despeckle      keep specks\n"
"  --no-crop           keep the page size (same as --crop=none)\n"
"  --crop=MODE         content (default), a4, letter, legal or none\n"
"  --max-skew DEG      largest skew corrected, 0 < DEG <= 45 (default 15)\n"
"  --dpi N             resolution of inputs that give none (default 300)\n"
"  --binarize=METHOD   otsu (default) or sauvola, for grey and colour input\n"
"  --max-pixels N      refuse larger pages (default 600M; suffixes k M G)\n"
"  --threads N         filter N pages in parallel (default 1)\n"
"  -v, --verbose       print each page's report line and a summary on stderr\n"
"  -h, --help          show this help\n"
"  -V, --version       show the version\n"
"\n"
"Exit status: 0 success, 1 a file could not be cleaned, 2 usage error.\n";

enum {
    OPT_REPORT = 256, OPT_NO_BORDER, OPT_NO_ORIENT, OPT_NO_DESKEW,
    OPT_NO_DESPECKLE, OPT_NO_CROP, OPT_CROP, OPT_MAX_SKEW, OPT_DPI,
    OPT_BINARIZE, OPT_MAX_PIXELS, OPT_THREADS,
};

static const struct option long_opts[] = {
    { "report", required_argument, NULL, OPT_REPORT },
    { "no-border", no_argument, NULL, OPT_NO_BORDER },
    { "no-orient", no_argument, NULL, OPT_NO_ORIENT },
    { "no-deskew", no_argument, NULL, OPT_NO_DESKEW },
    { "no-despeckle", no_argument, NULL, OPT_NO_DESPECKLE },
    { "no-crop", no_argument, NULL, OPT_NO_CROP },
    { "crop", required_argument, NULL, OPT_CROP },
    { "max-skew", required_argument, NULL, OPT_MAX_SKEW },
    { "dpi", required_argument, NULL, OPT_DPI },
    { "binarize", required_argument, NULL, OPT_BINARIZE },
    { "max-pixels", required_argument, NULL, OPT_MAX_PIXELS },
    { "threads", required_argument, NULL, OPT_THREADS },
    { "verbose", no_argument, NULL, 'v' },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
};

struct cli {
    struct chain_opts o;
    bool skip[STAGE_COUNT];
    const char *report;
    bool verbose;
};

static int usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* One line on stderr; returns the usage exit status. */
static int usage_error(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, PROG ": %s (see " PROG " --help)\n", msg);
    return EXIT_USAGE;
}

static int parse_double(const char *s, double lo, double hi, double *v)
{
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(d) || d <= lo || d > hi)
        return -1;
    *v = d;
    return 0;
}

static int parse_count(const char *s, unsigned long long lo,
                       unsigned long long hi, unsigned long long *v)
{
    char *end;
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long long n = strtoull(s, &end, 10), mult = 1;
    if (*end == 'k' || *end == 'K')
        mult = 1000, end++;
    else if (*end == 'M')
        mult = 1000 * 1000, end++;
    else if (*end == 'G')
        mult = 1000 * 1000 * 1000, end++;
    if (errno || end == s || *end || n > hi / mult || n * mult < lo)
        return -1;
    *v = n * mult;
    return 0;
}

/* Applies one option; returns 0, or an exit status to leave with. */
static int apply_option(struct cli *c, int opt, const char *arg)
{
    double d;
    unsigned long long n;
    switch (opt) {
    case OPT_REPORT: c->report = arg; return 0;
    case OPT_NO_BORDER: c->skip[STAGE_BORDER] = true; return 0;
    case OPT_NO_ORIENT: c->skip[STAGE_ORIENT] = true; return 0;
    case OPT_NO_DESKEW: c->skip[STAGE_DESKEW] = true; return 0;
    case OPT_NO_DESPECKLE: c->skip[STAGE_DESPECKLE] = true; return 0;
    case OPT_NO_CROP: c->skip[STAGE_CROP] = true; return 0;
    case OPT_CROP:
        c->skip[STAGE_CROP] = false;
        if (strcmp(arg, "content") == 0) c->o.crop.mode = CROP_CONTENT;
        else if (strcmp(arg, "a4") == 0) c->o.crop.mode = CROP_A4;
        else if (strcmp(arg, "letter") == 0) c->o.crop.mode = CROP_LETTER;
        else if (strcmp(arg, "legal") == 0) c->o.crop.mode = CROP_LEGAL;
        else if (strcmp(arg, "none") == 0) c->skip[STAGE_CROP] = true;
        else return usage_error("unknown crop mode '%s'", arg);
        return 0;
    case OPT_MAX_SKEW:
        if (parse_double(arg, 0, 45, &d) < 0)
            return usage_error("--max-skew: '%s' is not a number of degrees in (0, 45]", arg);
        c->o.deskew.max_skew = d;
        return 0;
    case OPT_DPI:
        if (parse_double(arg, 0, 100000, &d) < 0)
            return usage_error("--dpi: '%s' is not a resolution in (0, 100000]", arg);
        c->o.read.default_dpi = d;
        return 0;
    case OPT_BINARIZE:
        if (strcmp(arg, "otsu") == 0) c->o.read.binarize = BINARIZE_OTSU;
        else if (strcmp(arg, "sauvola") == 0) c->o.read.binarize = BINARIZE_SAUVOLA;
        else return usage_error("unknown binarization method '%s'", arg);
        return 0;
    case OPT_MAX_PIXELS:
        if (parse_count(arg, 1, 1ull << 40, &n) < 0)
            return usage_error("--max-pixels: '%s' is not a pixel count", arg);
        c->o.read.max_pixels = n;
        return 0;
    case OPT_THREADS:
        if (parse_count(arg, 1, 256, &n) < 0)
            return usage_error("--threads: '%s' is not a number from 1 to 256", arg);
        c->o.threads = (int)n;
        return 0;
    case 'v': c->verbose = true; return 0;
    case 'h': fputs(usage_text, stdout); return fflush(stdout) ? 1 : -1;
    case 'V': printf(PROG " " SPOOLD_VERSION "\n"); return fflush(stdout) ? 1 : -1;
    default: return usage_error("%s", "invalid option");
    }
}

/* Drops the stages the user switched off, keeping the order. */
static void apply_skips(struct cli *c)
{
    int n = 0;
    for (int i = 0; i < c->o.nstages; i++)
        if (!c->skip[c->o.stages[i]])
            c->o.stages[n++] = c->o.stages[i];
    c->o.nstages = n;
}

/* ------------------------------------------------------------- inputs */

struct inputs {
    char **path;
    int n, cap;
};

static int inputs_add(struct inputs *in, char *path)
{
    if (in->n == in->cap) {
        int cap = in->cap ? 2 * in->cap : 16;
        char **p = realloc(in->path, (size_t)cap * sizeof *p);
        if (p == NULL)
            return -1;
        in->path = p;
        in->cap = cap;
    }
    in->path[in->n++] = path;
    return 0;
}

static int name_order(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int not_hidden(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

/* A directory INPUT stands for its regular, non-hidden files in name
 * order.  Returns 0 or -1 with a one-line message printed. */
static int expand_input(struct inputs *in, const char *arg)
{
    struct stat st;
    if (stat(arg, &st) < 0 || !S_ISDIR(st.st_mode)) {
        char *p = strdup(arg);   /* read errors are reported by the reader */
        if (p == NULL || inputs_add(in, p) < 0) {
            free(p);
            fprintf(stderr, PROG ": out of memory\n");
            return -1;
        }
        return 0;
    }
    struct dirent **names;
    int n = scandir(arg, &names, not_hidden, name_order);
    if (n < 0) {
        fprintf(stderr, PROG ": %s: cannot read directory: %s\n", arg, strerror(errno));
        return -1;
    }
    int rc = 0, added = 0;
    for (int i = 0; i < n; i++) {
        char *p = NULL;
        if (rc == 0 && asprintf(&p, "%s/%s", arg, names[i]->d_name) < 0) {
            fprintf(stderr, PROG ": out of memory\n");
            rc = -1;
        } else if (rc == 0 && (stat(p, &st) < 0 || !S_ISREG(st.st_mode))) {
            free(p);
        } else if (rc == 0 && inputs_add(in, p) < 0) {
            free(p);
            fprintf(stderr, PROG ": out of memory\n");
            rc = -1;
        } else if (rc == 0) {
            added++;
        }
        free(names[i]);
    }
    free(names);
    if (rc == 0 && added == 0) {
        fprintf(stderr, PROG ": %s: no files in directory\n", arg);
        rc = -1;
    }
    return rc;
}

static void inputs_free(struct inputs *in)
{
    for (int i = 0; i < in->n; i++)
        free(in->path[i]);
    free(in->path);
}

/* ------------------------------------------------------------- report */

/* -v: report lines go to the report destination (if any) and to stderr. */
struct tee {
    FILE *dest;
    long lines;
};

static ssize_t tee_write(void *cookie, const char *buf, size_t len)
{
    struct tee *t = cookie;
    if (t->dest && fwrite(buf, 1, len, t->dest) != len)
        return -1;
    if (fwrite(buf, 1, len, stderr) != len)
        return -1;
    for (size_t i = 0; i < len; i++)
        t->lines += buf[i] == '\n';
    return (ssize_t)len;
}

/* Writes data to path through a temporary sibling, fsync and rename. */
static int write_file_atomic(const char *path, const char *data, size_t len,
                             mode_t mode)
{
    char *tmp;
    const char *slash = strrchr(path, '/');
    int dirlen = slash ? (int)(slash - path + 1) : 0;
    if (asprintf(&tmp, "%.*s.%s.XXXXXX", dirlen, path, path + dirlen) < 0) {
        fprintf(stderr, PROG ": %s: out of memory\n", path);
        return -1;
    }
    int fd = mkstemp(tmp);
    const char *what = "cannot create temporary file";
    if (fd >= 0) {
        what = "cannot write";
        size_t done = 0;
        while (done < len) {
            ssize_t n = write(fd, data + done, len - done);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            done += (size_t)n;
        }
        if (done == len && fchmod(fd, mode) == 0 && fsync(fd) == 0) {
            what = "cannot close";
            if (close(fd) == 0) {
                fd = -1;
                what = "cannot rename";
                if (rename(tmp, path) == 0) {
                    free(tmp);
                    return 0;
                }
            }
        }
    }
    int err = errno ? errno : EIO;
    fprintf(stderr, PROG ": %s: %s: %s\n", path, what, strerror(err));
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    free(tmp);
    return -1;
}

/* ------------------------------------------------------------- signals */

/* SIGINT, SIGTERM and SIGHUP are blocked in every thread and taken by one
 * thread with sigwait, which raises the chain's cancel flag: the chain
 * stops before its next page and removes its temporary file.  SIGPIPE is
 * ignored so that a closed report pipe is a write error, not a kill. */
struct sigwatch {
    sigset_t set;
    atomic_int caught;      /* the signal number, 0 while none */
    pthread_t tid;
    bool running;
};

static void *sigwatch_main(void *arg)
{
    struct sigwatch *w = arg;
    int sig;
    if (sigwait(&w->set, &sig) == 0)
        atomic_store(&w->caught, sig);
    return NULL;
}

static int sigwatch_start(struct sigwatch *w)
{
    sigemptyset(&w->set);
    sigaddset(&w->set, SIGINT);
    sigaddset(&w->set, SIGTERM);
    sigaddset(&w->set, SIGHUP);
    atomic_init(&w->caught, 0);
    signal(SIGPIPE, SIG_IGN);
    int err = pthread_sigmask(SIG_BLOCK, &w->set, NULL);
    if (err == 0)
        err = pthread_create(&w->tid, NULL, sigwatch_main, w);
    if (err != 0) {
        fprintf(stderr, PROG ": cannot watch signals: %s\n", strerror(err));
        return -1;
    }
    w->running = true;
    return 0;
}

static void sigwatch_stop(struct sigwatch *w)
{
    if (!w->running)
        return;
    pthread_cancel(w->tid);     /* sigwait is a cancellation point */
    pthread_join(w->tid, NULL);
    w->running = false;
}

/* ------------------------------------------------------------- main */

static int parse_args(struct cli *c, int argc, char **argv)
{
    chain_opts_default(&c->o);
    int opt;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":vhV", long_opts, NULL)) != -1) {
        if (opt == '?')
            return usage_error("unknown option '%s'", argv[optind - 1]);
        if (opt == ':')
            return usage_error("option '%s' needs a value", argv[optind - 1]);
        int rc = apply_option(c, opt, optarg);
        if (rc != 0)
            return rc;
    }
    if (argc - optind < 2)
        return usage_error("%s", "an INPUT and an OUTPUT are needed");
    apply_skips(c);
    return 0;
}

/* Where report lines go: nowhere, stdout, or a memory buffer written to
 * the report file (atomically) only on success; with -v also stderr. */
struct sink {
    char *buf;
    size_t len;
    FILE *dest;         /* stdout, the memory stream, or NULL */
    FILE *stream;       /* what the chain writes to: dest or the tee */
    struct tee tee;
};

static int sink_open(struct sink *k, const struct cli *c)
{
    memset(k, 0, sizeof *k);
    if (c->report && strcmp(c->report, "-") == 0)
        k->dest = stdout;
    else if (c->report && (k->dest = open_memstream(&k->buf, &k->len)) == NULL) {
        fprintf(stderr, PROG ": %s: %s\n", c->report, strerror(errno));
        return -1;
    }
    k->stream = k->dest;
    if (!c->verbose)
        return 0;
    k->tee.dest = k->dest;
    cookie_io_functions_t io = { .write = tee_write };
    k->stream = fopencookie(&k->tee, "w", io);
    if (k->stream == NULL) {
        fprintf(stderr, PROG ": cannot set up -v: %s\n", strerror(errno));
        if (k->dest && k->dest != stdout)
            fclose(k->dest);
        free(k->buf);
        return -1;
    }
    setvbuf(k->stream, NULL, _IOLBF, 0);    /* progress as it happens */
    return 0;
}

/* Flushes and closes; 0, or -1 with the reason printed. */
static int sink_close(struct sink *k, const struct cli *c)
{
    int rc = 0;
    if (k->stream && k->stream != k->dest && fclose(k->stream) != 0) {
        fprintf(stderr, PROG ": cannot write the report: %s\n", strerror(errno));
        rc = -1;
    }
    if (k->dest && k->dest != stdout && fclose(k->dest) != 0 && rc == 0) {
        fprintf(stderr, PROG ": %s: %s\n", c->report, strerror(errno));
        rc = -1;
    }
    return rc;
}

static int clean(struct cli *c, struct inputs *in, const char *output,
                 mode_t umask_now)
{
    struct stat st;
    if (stat(output, &st) == 0 && S_ISDIR(st.st_mode)) {
        fprintf(stderr, PROG ": %s: is a directory\n", output);
        return 1;
    }
    struct sink k;
    if (sink_open(&k, c) < 0)
        return 1;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    errbuf e;
    int rc = chain_clean_files((const char *const *)in->path, in->n, output,
                               &c->o, k.stream, &e);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    int closed = sink_close(&k, c);
    if (rc < 0)     /* after the report's last lines */
        fprintf(stderr, PROG ": %s\n", e.msg);
    else
        rc = closed;
    if (rc == 0 && k.buf &&
        write_file_atomic(c->report, k.buf, k.len, 0666 & ~umask_now) < 0)
        rc = -1;
    free(k.buf);
    if (rc == 0 && c->verbose) {
        double s = (double)(t1.tv_sec - t0.tv_sec) +
                   (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        long n = k.tee.lines;
        fprintf(stderr, PROG ": %s: %ld pages in %.3f s (%.1f ms/page)\n",
                output, n, s, n ? s * 1e3 / (double)n : 0.0);
    }
    return rc < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
    mode_t umask_now = umask(0);
    umask(umask_now);
    struct cli c;
    memset(&c, 0, sizeof c);
    int rc = parse_args(&c, argc, argv);
    if (rc != 0)
        return rc < 0 ? 0 : rc;     /* -1: --help or --version done */
    struct inputs in = { 0 };
    for (int i = optind; i < argc - 1; i++) {
        if (expand_input(&in, argv[i]) < 0) {
            inputs_free(&in);
            return 1;
        }
    }
    struct sigwatch sw = { .running = false };
    if (sigwatch_start(&sw) < 0) {
        inputs_free(&in);
        return 1;
    }
    c.o.cancel = &sw.caught;
    rc = clean(&c, &in, argv[argc - 1], umask_now);
    sigwatch_stop(&sw);
    inputs_free(&in);
    int sig = atomic_load(&sw.caught);
    if (rc != 0 && sig != 0)
        rc = 128 + sig;
    if (fclose(stdout) != 0 && rc == 0) {
        fprintf(stderr, PROG ": standard output: %s\n", strerror(errno));
        rc = 1;
    }
    return rc;
}
