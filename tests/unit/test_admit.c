/*
 * test_admit.c — admission arithmetic (MemAvailable parsing from sample
 * /proc/meminfo texts, the memory estimate, the memory and disk decision),
 * jitter and back-off bounds, a node's retry holds, and the log line
 * format.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "admit.h"
#include "backoff.h"
#include "daemon.h"
#include "log.h"

static const char meminfo[] =
    "MemTotal:       24568120 kB\n"
    "MemFree:         1234567 kB\n"
    "MemAvailable:   18000000 kB\n"
    "Buffers:          123456 kB\n"
    "Cached:          9876543 kB\n"
    "SwapTotal:             0 kB\n";

static void meminfo_parsing(void **state)
{
    uint64_t avail = 0;
    errbuf e;
    assert_int_equal(admit_parse_meminfo(meminfo, &avail, &e), 0);
    assert_true(avail == 18000000ull * 1024);
    /* first line, odd spacing */
    assert_int_equal(admit_parse_meminfo("MemAvailable:\t42 kB", &avail, &e), 0);
    assert_true(avail == 42 * 1024);
    /* a kernel without the line */
    assert_int_equal(admit_parse_meminfo("MemTotal: 1 kB\nMemFree: 1 kB\n",
                                         &avail, &e), -1);
    assert_non_null(strstr(e.msg, "no MemAvailable"));
    /* garbage */
    assert_int_equal(admit_parse_meminfo("MemAvailable: lots\n", &avail, &e), -1);
    assert_int_equal(admit_parse_meminfo("MemAvailable: 12 MB\n", &avail, &e), -1);
    assert_int_equal(admit_parse_meminfo("", &avail, &e), -1);
    /* "MemAvailableX" style lookalikes are not the line */
    assert_int_equal(admit_parse_meminfo("XMemAvailable: 5 kB\n", &avail, &e), -1);
}

static void meminfo_from_a_file(void **state)
{
    char path[] = "/tmp/test_admit.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, meminfo, sizeof meminfo - 1), (int)sizeof meminfo - 1);
    close(fd);
    uint64_t avail;
    errbuf e;
    assert_int_equal(admit_mem_available(path, &avail, &e), 0);
    assert_true(avail == 18000000ull * 1024);
    unlink(path);
    assert_int_equal(admit_mem_available(path, &avail, &e), -1);
    assert_non_null(strstr(e.msg, "No such file"));
    /* the real one, on Linux */
    assert_int_equal(admit_mem_available(NULL, &avail, &e), 0);
    assert_true(avail > 0);
}

static void estimate_arithmetic(void **state)
{
    /* A4 at 300 dpi: 2480 x 3508 px = 1087480 bytes a bitmap */
    uint64_t a4 = 2480ull * 3508;
    uint64_t bytes = (a4 + 7) / 8;
    assert_true(admit_estimate(a4, 1, 0) == ADMIT_BASE_BYTES + 6 * bytes);
    assert_true(admit_estimate(a4, 4, 0) == ADMIT_BASE_BYTES + 24 * bytes);
    /* unknown size = A4 */
    assert_true(admit_estimate(0, 1, 0) == admit_estimate(a4, 1, 0));
    assert_true(admit_estimate(a4, 0, 0) == admit_estimate(a4, 1, 0));
    /* capped by memory_limit */
    assert_true(admit_estimate(600000000ull, 1, 100ull << 20) == 100ull << 20);
    /* no overflow for absurd sizes */
    assert_true(admit_estimate(UINT64_MAX, 64, 0) == UINT64_MAX);
}

static void admission_decision(void **state)
{
    char why[256];
    struct admit_input in = {
        .mem_available = 1000ull << 20, .mem_reserved = 0,
        .need = 200ull << 20, .min_free_memory = 256ull << 20,
        .disk_free = 10ull << 30, .out_bytes = 1ull << 20,
        .min_free_disk = 1ull << 30,
    };
    assert_true(admit_ok(&in, why, sizeof why));
    assert_string_equal(why, "");
    /* exactly at the limit is fine, one byte more is not */
    in.need = (1000ull - 256) << 20;
    assert_true(admit_ok(&in, why, sizeof why));
    in.need++;
    assert_false(admit_ok(&in, why, sizeof why));
    assert_non_null(strstr(why, "memory: MemAvailable 1000M"));
    /* what running workers will still take counts */
    in.need = 200ull << 20;
    in.mem_reserved = 600ull << 20;
    assert_false(admit_ok(&in, why, sizeof why));
    in.mem_reserved = 0;
    /* no underflow when the need exceeds what is available */
    in.need = 2000ull << 20;
    assert_false(admit_ok(&in, why, sizeof why));
    in.need = 200ull << 20;
    /* disk */
    in.disk_free = (1ull << 30) + (1ull << 20);
    assert_true(admit_ok(&in, why, sizeof why));
    in.out_bytes++;
    assert_false(admit_ok(&in, why, sizeof why));
    assert_non_null(strstr(why, "disk: "));
    in.disk_free = 0;
    assert_false(admit_ok(&in, why, sizeof why));
    /* limits of 0 admit anything that fits */
    struct admit_input zero = { .mem_available = 1, .need = 1, .disk_free = 0 };
    assert_true(admit_ok(&zero, why, sizeof why));
}

static void disk_free_of_a_directory(void **state)
{
    uint64_t b;
    errbuf e;
    assert_int_equal(admit_disk_free("/tmp", &b, &e), 0);
    assert_int_equal(admit_disk_free("/nonexistent/dir", &b, &e), -1);
    assert_non_null(strstr(e.msg, "/nonexistent/dir"));
    assert_true(admit_rss(getpid()) > 0);
    assert_true(admit_rss(-5) == 0);
}

static void jitter_bounds(void **state)
{
    struct rng r = { 42 };
    double lo = 1e9, hi = 0;
    for (int i = 0; i < 100000; i++) {
        double v = jitter(&r, 5.0, 0.2);
        assert_true(v >= 4.0 && v < 6.0);
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
        double u = rng_unit(&r);
        assert_true(u >= 0 && u < 1);
    }
    /* the range is used, not a constant */
    assert_true(lo < 4.05 && hi > 5.95);
    assert_true(jitter(&r, 3.0, 0) == 3.0);
    double v = jitter(&r, 3.0, 7);   /* frac clamped to 1 */
    assert_true(v >= 0 && v < 6.0);
    /* two seeds give different sequences */
    struct rng a, b;
    rng_seed(&a);
    rng_seed(&b);
    b.s ^= 1;
    assert_true(rng_next(&a) != rng_next(&b));
}

static void backoff_bounds(void **state)
{
    struct rng r = { 7 };
    for (int f = 0; f < 70; f++) {
        double base = 0.5, max = 60;
        double want = base * (double)(1ull << (f < 20 ? f : 20));
        if (want > max)
            want = max;
        for (int i = 0; i < 1000; i++) {
            double d = backoff_delay(&r, base, max, f);
            assert_true(d >= 0.8 * want && d < 1.2 * want);
        }
    }
    /* negative failure counts act as 0 */
    double d = backoff_delay(&r, 2, 60, -3);
    assert_true(d >= 1.6 && d < 2.4);
    assert_true(mono_now() > 0);
}

static void retry_holds(void **state)
{
    static struct daemon d;     /* large: not on the stack */
    memset(&d, 0, sizeof d);
    d.rng.s = 3;
    d.conf.poll_interval = 2;
    double now = mono_now();
    jobs_hold(&d, "a.tif", 1);          /* 1.6 .. 2.4 s */
    jobs_hold(&d, "b.tif", 3);          /* 2 * 4 = 8 s: 6.4 .. 9.6 s */
    jobs_hold(&d, "c.tif", 9);          /* capped at 10 polls = 20 s */
    assert_int_equal(d.nholds, 3);
    assert_true(jobs_held(&d, "a.tif", now));
    assert_false(jobs_held(&d, "x.tif", now));
    assert_false(jobs_held(&d, "a.tif", now + 2.5));   /* expired, dropped */
    assert_int_equal(d.nholds, 2);
    assert_true(jobs_held(&d, "b.tif", now + 6.3));
    assert_false(jobs_held(&d, "b.tif", now + 9.7));
    assert_true(jobs_held(&d, "c.tif", now + 15.9));
    assert_false(jobs_held(&d, "c.tif", now + 24.1));
    assert_int_equal(d.nholds, 0);
    /* the same pack again replaces its entry; a full table makes room */
    jobs_hold(&d, "a.tif", 1);
    jobs_hold(&d, "a.tif", 2);
    assert_int_equal(d.nholds, 1);
    char name[32];
    for (int i = 0; i < DAEMON_MAX_HOLDS + 5; i++) {
        snprintf(name, sizeof name, "p%d.tif", i);
        jobs_hold(&d, name, 1);
    }
    assert_int_equal(d.nholds, DAEMON_MAX_HOLDS);
    assert_true(jobs_held(&d, name, now));
}

static void log_lines(void **state)
{
    char buf[256];
    int n = log_format(buf, sizeof buf, LOG_WARNING, NULL,
                       "failed a\nb.tif (attempt 1)");
    assert_string_equal(buf, "<4>failed a\\x0ab.tif (attempt 1)\n");
    assert_int_equal(n, (int)strlen(buf));
    log_format(buf, sizeof buf, LOG_INFO, "12:00:00.000", "claimed x");
    assert_string_equal(buf, "<6>12:00:00.000 claimed x\n");
    /* long text is cut, the line still ends in a newline */
    char longtext[1000];
    memset(longtext, 'x', sizeof longtext - 1);
    longtext[sizeof longtext - 1] = '\0';
    n = log_format(buf, 64, LOG_ERR, NULL, longtext);
    assert_true(n < 64);
    assert_int_equal(buf[n - 1], '\n');
    assert_int_equal(strncmp(buf, "<3>xxx", 6), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(meminfo_parsing),
        cmocka_unit_test(meminfo_from_a_file),
        cmocka_unit_test(estimate_arithmetic),
        cmocka_unit_test(admission_decision),
        cmocka_unit_test(disk_free_of_a_directory),
        cmocka_unit_test(jitter_bounds),
        cmocka_unit_test(backoff_bounds),
        cmocka_unit_test(retry_holds),
        cmocka_unit_test(log_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
