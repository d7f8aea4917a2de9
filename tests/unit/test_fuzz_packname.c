/*
 * test_fuzz_packname.c — replays the pack-name fuzz target
 * (fuzz_packname.c, compiled in here: claim names, output base names,
 * heartbeat text) over its seed corpus and over every input that once
 * broke it (tests/fuzz/regress/packname/), so that make check and its
 * sanitizer run catch a regression without libFuzzer.  The target aborts
 * on a broken property, which fails this test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../fuzz/fuzz_packname.c"
#include "fuzz_replay.h"

static void seeds(void **state)
{
    assert_true(fuzz_replay("tests/fuzz/corpus/packname", NULL, NULL) >= 3);
}

static void regressions(void **state)
{
    fuzz_replay("tests/fuzz/regress/packname", NULL, NULL);
}

/* Names the bad-input corpus uses, straight through the target. */
static void hostile_names(void **state)
{
    static const char *const names[] = {
        "new\nline.tif@n1", "x@n1+2.tif@n1+3", "y@+3.tif@+4", "@.tif@n1",
        "-rf.tif@n1", "a..b.tif@+0", "bad\xff\xfeutf8.tif@n1+2",
        "%s%n%x.tif@n1", "esc\x1b[2J.tif@n1", "\x01\x02\x03", "",
        "@", "@@@", "+", "@+", "@+99999999999999999999",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        LLVMFuzzerTestOneInput((const uint8_t *)names[i], strlen(names[i]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(seeds),
        cmocka_unit_test(regressions),
        cmocka_unit_test(hostile_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
