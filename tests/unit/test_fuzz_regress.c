/*
 * test_fuzz_regress.c — replays the reading fuzz target (fuzz_read.c,
 * compiled in here) over its seed corpus and over every input that once
 * crashed it (tests/fuzz/regress/read/), so that make check, and its
 * sanitizer run, catch a crash coming back without libFuzzer.  The seeds
 * are also checked to be valid files that read without error (a seed that
 * no longer reads would stop covering its format).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../fuzz/fuzz_read.c"
#include "iotest.h"
#include "fuzz_replay.h"

/* A seed must be a valid file whose every page reads without error (a
 * seed that no longer reads would stop covering its format). */
static void reads_cleanly(const char *path, const char *name,
                          const uint8_t *data, size_t len, void *ctx)
{
    struct read_opts o = default_read_opts();
    struct page_reader *rd;
    errbuf e;
    if (page_reader_open(&rd, path, &o, &e) < 0)
        fail_msg("seed %s: %s", path, e.msg);
    for (int i = 0; i < page_reader_count(rd); i++) {
        page pg;
        if (page_reader_read(rd, i, &pg, &e) < 0)
            fail_msg("seed %s: page %d: %s", path, i + 1, e.msg);
        page_free(&pg);
    }
    page_reader_close(rd);
}

static void seeds_read_and_survive(void **state)
{
    int n = fuzz_replay("tests/fuzz/corpus/read", reads_cleanly, NULL);
    if (n < 30)
        fail_msg("tests/fuzz/corpus/read: only %d seeds (run from the "
                 "source tree?)", n);
}

static void crashers_stay_fixed(void **state)
{
    fuzz_replay("tests/fuzz/regress/read", NULL, NULL);
}

int main(void)
{
    silence_libtiff();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(seeds_read_and_survive),
        cmocka_unit_test(crashers_stay_fixed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
