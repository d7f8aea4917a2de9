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
#include <dirent.h>
#include <stdio.h>
#include <cmocka.h>

#include "../fuzz/fuzz_config.c"

static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return NULL;
    char *buf = malloc(1 << 20);
    *len = buf ? fread(buf, 1, (1 << 20) - 1, fp) : 0;
    fclose(fp);
    if (buf)
        buf[*len] = '\0';
    return buf;
}

/* Runs the target over every file of dir (under the source tree);
 * with check, also the seed rules above.  Returns the number of files. */
static int replay(const char *dir, bool check)
{
    const char *top = getenv("SPOOLD_TOP");
    char full[4096];
    snprintf(full, sizeof full, "%s/%s", top && *top ? top : ".", dir);
    DIR *d = opendir(full);
    if (d == NULL)
        return 0;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || strcmp(de->d_name, "README") == 0)
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", full, de->d_name);
        size_t len;
        char *text = slurp(path, &len);
        if (text == NULL)
            fail_msg("cannot read %s", path);
        LLVMFuzzerTestOneInput((const uint8_t *)text, len);
        if (check) {
            struct spoold_conf c;
            errbuf e;
            conf_defaults(&c);
            int rc = conf_load_string(&c, text, "f.conf", &e);
            bool bad = strncmp(de->d_name, "bad-", 4) == 0 ||
                       strncmp(de->d_name, "syntax-", 7) == 0;
            if (bad && (rc != -1 || strncmp(e.msg, "f.conf:", 7) != 0))
                fail_msg("%s: expected a FILE:LINE error, got rc %d '%s'",
                         de->d_name, rc, rc ? e.msg : "");
            if (!bad && rc != 0)
                fail_msg("%s: %s", de->d_name, e.msg);
            conf_free(&c);
        }
        free(text);
        n++;
    }
    closedir(d);
    return n;
}

static void seeds(void **state)
{
    assert_true(replay("tests/fuzz/corpus/config", true) >= 5);
}

static void regressions(void **state)
{
    replay("tests/fuzz/regress/config", false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(seeds),
        cmocka_unit_test(regressions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
