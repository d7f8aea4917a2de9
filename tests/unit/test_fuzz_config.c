/*
 * test_fuzz_config.c — replays the configuration fuzz target
 * (fuzz_config.c, compiled in here) over its seed corpus and over every
 * input that once broke it (tests/fuzz/regress/config/), so that make
 * check and its sanitizer run catch a regression without libFuzzer.  The
 * seeds are also checked: those named bad-* or syntax-* must be refused
 * with a "f.conf:LINE: " message, the others must parse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../fuzz/fuzz_config.c"
#include "fuzz_replay.h"

/* Seeds named bad-* or syntax-* must be refused with a "f.conf:LINE: "
 * message; the others must parse. */
static void parses_as_named(const char *path, const char *name,
                            const uint8_t *data, size_t len, void *ctx)
{
    struct spoold_conf c;
    errbuf e;
    conf_defaults(&c);
    int rc = conf_load_string(&c, (const char *)data, "f.conf", &e);
    bool bad = strncmp(name, "bad-", 4) == 0 || strncmp(name, "syntax-", 7) == 0;
    if (bad && (rc != -1 || strncmp(e.msg, "f.conf:", 7) != 0))
        fail_msg("%s: expected a FILE:LINE error, got rc %d '%s'", name, rc,
                 rc ? e.msg : "");
    if (!bad && rc != 0)
        fail_msg("%s: %s", name, e.msg);
    conf_free(&c);
}

static void seeds(void **state)
{
    assert_true(fuzz_replay("tests/fuzz/corpus/config", parses_as_named, NULL) >= 5);
}

static void regressions(void **state)
{
    fuzz_replay("tests/fuzz/regress/config", NULL, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(seeds),
        cmocka_unit_test(regressions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
