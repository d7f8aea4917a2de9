/*
 * test_metrics.c — the Prometheus textfile: exact text line by line, label
 * escaping, unknown gauges left out, bad counters refused, and the atomic
 * replacement (new inode, readers of the old file undisturbed, a failing
 * write leaves the old file and no temporary).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "chain.h"
#include "metrics.h"

/* Formats m into a NUL-terminated heap string. */
static char *format(const metrics *m, const char *node, const char *spool,
                    int want_rc)
{
    char *buf = NULL;
    size_t len = 0;
    errbuf e;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(metrics_format(f, m, node, spool, &e), want_rc);
    assert_int_equal(fclose(f), 0);
    return buf;
}

/* Compares text with the NULL-terminated list of lines, one by one, so a
 * failure names the first line that differs. */
static void expect_lines(const char *text, const char *const *want)
{
    const char *p = text;
    int i;
    for (i = 0; want[i] != NULL; i++) {
        const char *nl = strchr(p, '\n');
        assert_non_null(nl);
        char line[512];
        size_t n = (size_t)(nl - p);
        assert_true(n < sizeof line);
        memcpy(line, p, n);
        line[n] = '\0';
        assert_string_equal(line, want[i]);
        p = nl + 1;
    }
    assert_string_equal(p, "");         /* nothing after the last line */
}

static void filled(metrics *m)
{
    metrics_init(m);
    m->packs_done = 12;
    m->packs_failed = 1;
    m->pages_done = 1200;
    m->pages_failed = 3;
    m->attempts_failed = 4;
    m->claims_lost = 7;
    m->reclaims = 2;
    for (int i = 0; i < METRICS_NSTAGES; i++)
        m->stage_seconds[i] = 0.5 * i;
    m->stage_seconds[METRICS_STAGE_DESKEW] = 0.1;   /* not exact in binary */
    m->stage_seconds[METRICS_STAGE_EXEC] = 123456.789012;   /* 9 digits */
    for (int i = 0; i < METRICS_NSTATES; i++)
        m->queue[i] = 10 + i;
    m->oldest_incoming_age = 42;
    m->heartbeat_age = 1.5;
    m->spool_available = 1;
    m->workers_busy = 2;
    m->workers_total = 2;
}

#define L "{node=\"n1\""
static const char *const full_text[] = {
    "# HELP spoold_packs_total Packs this node finished, by result (done = "
    "published, failed = moved to failed/).",
    "# TYPE spoold_packs_total counter",
    "spoold_packs_total" L ",result=\"done\"} 12",
    "spoold_packs_total" L ",result=\"failed\"} 1",
    "# HELP spoold_pages_total Pages of the packs this node finished, by "
    "result.",
    "# TYPE spoold_pages_total counter",
    "spoold_pages_total" L ",result=\"done\"} 1200",
    "spoold_pages_total" L ",result=\"failed\"} 3",
    "# HELP spoold_attempts_failed_total Attempts that failed on this node "
    "(crash, limit, timeout, exec step, bad input).",
    "# TYPE spoold_attempts_failed_total counter",
    "spoold_attempts_failed_total" L "} 4",
    "# HELP spoold_stage_seconds_total Seconds this node's workers spent in "
    "each pipeline stage.",
    "# TYPE spoold_stage_seconds_total counter",
    "spoold_stage_seconds_total" L ",stage=\"border\"} 0",
    "spoold_stage_seconds_total" L ",stage=\"orient\"} 0.5",
    "spoold_stage_seconds_total" L ",stage=\"deskew\"} 0.1",
    "spoold_stage_seconds_total" L ",stage=\"despeckle\"} 1.5",
    "spoold_stage_seconds_total" L ",stage=\"crop\"} 2",
    "spoold_stage_seconds_total" L ",stage=\"read\"} 2.5",
    "spoold_stage_seconds_total" L ",stage=\"write\"} 3",
    "spoold_stage_seconds_total" L ",stage=\"exec\"} 123456.789",
    "# HELP spoold_claims_lost_total Claim renames this node lost to another "
    "node.",
    "# TYPE spoold_claims_lost_total counter",
    "spoold_claims_lost_total" L "} 7",
    "# HELP spoold_reclaims_total Claims of dead nodes this node released "
    "for retry.",
    "# TYPE spoold_reclaims_total counter",
    "spoold_reclaims_total" L "} 2",
    "# HELP spoold_queue_packs Packs in the spool by state, as last listed "
    "by this node.",
    "# TYPE spoold_queue_packs gauge",
    "spoold_queue_packs" L ",state=\"incoming\"} 10",
    "spoold_queue_packs" L ",state=\"claimed\"} 11",
    "spoold_queue_packs" L ",state=\"retry\"} 12",
    "spoold_queue_packs" L ",state=\"done\"} 13",
    "spoold_queue_packs" L ",state=\"failed\"} 14",
    "# HELP spoold_oldest_incoming_age_seconds Age of the oldest pack "
    "waiting in incoming/, in server time.",
    "# TYPE spoold_oldest_incoming_age_seconds gauge",
    "spoold_oldest_incoming_age_seconds" L "} 42",
    "# HELP spoold_heartbeat_age_seconds Age of this node's heartbeat file, "
    "in server time.",
    "# TYPE spoold_heartbeat_age_seconds gauge",
    "spoold_heartbeat_age_seconds" L "} 1.5",
    "# HELP spoold_spool_available 1 if the spool identity file checks out, "
    "0 if the spool is gone.",
    "# TYPE spoold_spool_available gauge",
    "spoold_spool_available" L "} 1",
    "# HELP spoold_workers Worker slots of this node, busy and total.",
    "# TYPE spoold_workers gauge",
    "spoold_workers" L ",state=\"busy\"} 2",
    "spoold_workers" L ",state=\"total\"} 2",
    NULL
};

static void full_file_line_by_line(void **state)
{
    metrics m;
    filled(&m);
    char *text = format(&m, "n1", NULL, 0);
    expect_lines(text, full_text);
    free(text);
}

/* A fresh struct: counters 0, gauges only as HELP/TYPE without samples. */
static void unknown_gauges_have_no_sample(void **state)
{
    metrics m;
    metrics_init(&m);
    m.queue[METRICS_Q_RETRY] = 0;       /* known zero is written */
    char *text = format(&m, "n1", NULL, 0);
    assert_non_null(strstr(text, "spoold_packs_total" L ",result=\"done\"} 0\n"));
    assert_non_null(strstr(text, "spoold_queue_packs" L ",state=\"retry\"} 0\n"));
    assert_null(strstr(text, "state=\"incoming\""));
    assert_null(strstr(text, "\nspoold_heartbeat_age_seconds{"));
    assert_null(strstr(text, "\nspoold_spool_available{"));
    assert_null(strstr(text, "\nspoold_workers{"));
    assert_non_null(strstr(text, "# TYPE spoold_workers gauge\n"));
    free(text);
}

/* Label values: quote, backslash and newline escaped, non-UTF-8 bytes
 * replaced, valid UTF-8 kept. */
static void label_escaping(void **state)
{
    metrics m;
    metrics_init(&m);
    const char *spool = "/srv/sp\"o\\ol\n\xc3\xa9\xff\xc3";
    char *text = format(&m, "n-1.a_b", spool, 0);
    const char *want = "spoold_reclaims_total{node=\"n-1.a_b\","
                       "spool=\"/srv/sp\\\"o\\\\ol\\n\xc3\xa9??\"} 0\n";
    assert_non_null(strstr(text, want));
    free(text);
}

static void bad_values_refused(void **state)
{
    metrics m;
    errbuf e;
    metrics_init(&m);
    m.stage_seconds[METRICS_STAGE_CROP] = -1;
    free(format(&m, "n1", NULL, -1));
    m.stage_seconds[METRICS_STAGE_CROP] = NAN;
    free(format(&m, "n1", NULL, -1));
    m.stage_seconds[METRICS_STAGE_CROP] = INFINITY;
    FILE *f = fopen("/dev/null", "w");
    assert_non_null(f);
    assert_int_equal(metrics_format(f, &m, "n1", NULL, &e), -1);
    assert_non_null(strstr(e.msg, "crop"));
    metrics_init(&m);
    assert_int_equal(metrics_format(f, &m, "", NULL, &e), -1);
    assert_int_equal(fclose(f), 0);
}

static void test_names(void **state)
{
    assert_string_equal(metrics_stage_name(METRICS_STAGE_EXEC), "exec");
    assert_string_equal(metrics_state_name(METRICS_Q_RETRY), "retry");
    assert_null(metrics_stage_name(METRICS_NSTAGES));
    assert_null(metrics_state_name(-1));
}

/* Stage times from page reports as the filter library writes them. */
static void stage_ms_from_reports(void **state)
{
    struct page_report r;
    memset(&r, 0, sizeof r);
    r.read_ms = 1.5;
    r.write_ms = 2.25;
    for (int s = 0; s < STAGE_COUNT; s++)
        r.stage_ms[s] = 10.0 * (s + 1);
    r.stage_ms[STAGE_CROP] = NAN;               /* written as null */
    char line[PAGE_REPORT_JSON_MAX];
    int n = page_report_json(&r, line, sizeof line);
    assert_true(n > 0);
    char text[3 * PAGE_REPORT_JSON_MAX];
    snprintf(text, sizeof text, "%s\n%s\n", line, line);
    double ms[METRICS_NSTAGES] = { 0 };
    assert_int_equal(metrics_add_report_ms(ms, text, strlen(text)), 2);
    assert_true(ms[METRICS_STAGE_READ] == 3.0);
    assert_true(ms[METRICS_STAGE_WRITE] == 4.5);
    assert_true(ms[METRICS_STAGE_BORDER] == 20.0);
    assert_true(ms[METRICS_STAGE_DESPECKLE] == 80.0);
    assert_true(ms[METRICS_STAGE_CROP] == 0.0);
    assert_true(ms[METRICS_STAGE_EXEC] == 0.0);
    /* bounded by len: the second line is cut off inside its object */
    double cut[METRICS_NSTAGES] = { 0 };
    const char *second = strchr(text, '\n') + 1;
    size_t upto = (size_t)(strstr(second, "\"write\"") - text);
    assert_int_equal(metrics_add_report_ms(cut, text, upto), -1);
    assert_true(cut[METRICS_STAGE_READ] >= 1.5);
    const char *bad[] = { "\"ms\":{\"read\":x}", "\"ms\":{\"read\" 1}",
                          "\"ms\":{\"read\":1;}", "\"ms\":{\"read\":1" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(metrics_add_report_ms(cut, bad[i], strlen(bad[i])), -1);
    assert_int_equal(metrics_add_report_ms(cut, "{\"ms\":3}", 9), 0);
    const char *other = "\"ms\":{\"exec\":7,\"ocr\":5}";
    double x[METRICS_NSTAGES] = { 0 };
    assert_int_equal(metrics_add_report_ms(x, other, strlen(other)), 1);
    assert_true(x[METRICS_STAGE_EXEC] == 7.0);
}

/* ---------------------------------------------------------- file tests */

struct scratch {
    char dir[64];
    char path[128];
};

static void scratch_make(struct scratch *s)
{
    strcpy(s->dir, "/tmp/test_metrics.XXXXXX");
    assert_non_null(mkdtemp(s->dir));
    snprintf(s->path, sizeof s->path, "%s/spoold.prom", s->dir);
}

/* Number of entries in dir besides . and .. */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    assert_int_equal(closedir(d), 0);
    return n;
}

static char *slurp_fd(int fd)
{
    static const size_t cap = 1 << 16;
    char *buf = malloc(cap);
    assert_non_null(buf);
    ssize_t n = pread(fd, buf, cap - 1, 0);
    assert_true(n >= 0);
    buf[n] = '\0';
    return buf;
}

static char *slurp(const char *path)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    char *buf = slurp_fd(fd);
    assert_int_equal(close(fd), 0);
    return buf;
}

static void scratch_remove(struct scratch *s)
{
    unlink(s->path);
    assert_int_equal(count_entries(s->dir), 0);
    assert_int_equal(rmdir(s->dir), 0);
}

/* The file holds exactly what metrics_format produces, mode 0644, and is
 * the only entry in its directory. */
static void write_creates_file(void **state)
{
    struct scratch s;
    errbuf e;
    metrics m;
    filled(&m);
    scratch_make(&s);
    assert_int_equal(metrics_write(s.path, &m, "n1", NULL, &e), 0);
    char *text = slurp(s.path);
    expect_lines(text, full_text);
    free(text);
    struct stat st;
    assert_int_equal(stat(s.path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644);
    assert_int_equal(count_entries(s.dir), 1);
    scratch_remove(&s);
}

/* Replacement is a rename: a reader holding the old file keeps reading the
 * complete old text, the path shows the complete new text, new inode. */
static void write_replaces_atomically(void **state)
{
    struct scratch s;
    errbuf e;
    metrics m;
    metrics_init(&m);
    scratch_make(&s);
    assert_int_equal(metrics_write(s.path, &m, "n1", NULL, &e), 0);
    char *old_text = slurp(s.path);
    int old_fd = open(s.path, O_RDONLY);
    assert_true(old_fd >= 0);
    struct stat before, after;
    assert_int_equal(fstat(old_fd, &before), 0);

    filled(&m);
    assert_int_equal(metrics_write(s.path, &m, "n1", NULL, &e), 0);
    assert_int_equal(stat(s.path, &after), 0);
    assert_true(before.st_ino != after.st_ino);
    char *seen_old = slurp_fd(old_fd);
    assert_string_equal(seen_old, old_text);
    char *new_text = slurp(s.path);
    expect_lines(new_text, full_text);
    assert_int_equal(count_entries(s.dir), 1);
    assert_int_equal(close(old_fd), 0);
    free(old_text);
    free(seen_old);
    free(new_text);
    scratch_remove(&s);
}

/* A write that fails half-way (file size limit: EFBIG, independent of
 * being root) leaves the old file exactly as it was and no temporary. */
static void failed_write_keeps_old_file(void **state)
{
    struct scratch s;
    errbuf e;
    metrics m;
    metrics_init(&m);
    scratch_make(&s);
    assert_int_equal(metrics_write(s.path, &m, "n1", NULL, &e), 0);
    char *old_text = slurp(s.path);

    struct rlimit saved, small = { 100, 0 };
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
    small.rlim_max = saved.rlim_max;
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    filled(&m);
    int rc = metrics_write(s.path, &m, "n1", NULL, &e);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
    signal(SIGXFSZ, old_handler);

    assert_int_equal(rc, -1);
    assert_non_null(strstr(e.msg, s.path));
    assert_non_null(strstr(e.msg, "File too large"));
    char *now = slurp(s.path);
    assert_string_equal(now, old_text);
    assert_int_equal(count_entries(s.dir), 1);
    free(old_text);
    free(now);
    scratch_remove(&s);
}

static void missing_directory_is_reported(void **state)
{
    errbuf e;
    metrics m;
    metrics_init(&m);
    assert_int_equal(metrics_write("/nonexistent/spoold/x.prom", &m, "n1",
                                   NULL, &e), -1);
    assert_non_null(strstr(e.msg, "/nonexistent/spoold/x.prom"));
    assert_non_null(strstr(e.msg, "No such file"));
    m.stage_seconds[0] = -2;
    assert_int_equal(metrics_write("/nonexistent/spoold/x.prom", &m, "n1",
                                   NULL, &e), -1);
    assert_non_null(strstr(e.msg, "/nonexistent/spoold/x.prom: "));
    assert_non_null(strstr(e.msg, "border"));
}

/* A bare file name means the current directory; the temporary goes there
 * too. */
static void bare_name_in_cwd(void **state)
{
    struct scratch s;
    errbuf e;
    metrics m;
    metrics_init(&m);
    scratch_make(&s);
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(s.dir), 0);
    int rc = metrics_write("spoold.prom", &m, "n1", NULL, &e);
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(rc, 0);
    assert_int_equal(count_entries(s.dir), 1);
    scratch_remove(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(full_file_line_by_line),
        cmocka_unit_test(unknown_gauges_have_no_sample),
        cmocka_unit_test(label_escaping),
        cmocka_unit_test(bad_values_refused),
        cmocka_unit_test(test_names),
        cmocka_unit_test(stage_ms_from_reports),
        cmocka_unit_test(write_creates_file),
        cmocka_unit_test(write_replaces_atomically),
        cmocka_unit_test(failed_write_keeps_old_file),
        cmocka_unit_test(missing_directory_is_reported),
        cmocka_unit_test(bare_name_in_cwd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
