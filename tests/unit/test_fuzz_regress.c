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

/* dir under the source tree (make check runs from its top). */
static void tree_path(char *out, size_t len, const char *dir)
{
    const char *top = getenv("SPOOLD_TOP");
    snprintf(out, len, "%s/%s", top && *top ? top : ".", dir);
}

/* Runs the target over every file in dir; returns the number of files. */
static int replay(const char *dir, int check_valid)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    int n = 0;
    struct dirent *de;
    char path[4096];
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || strcmp(de->d_name, "README") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        size_t len;
        unsigned char *data = read_bytes(path, &len);
        if (data == NULL)
            fail_msg("%s: cannot read", path);
        LLVMFuzzerTestOneInput(data, len);
        free(data);
        if (check_valid) {
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
        n++;
    }
    closedir(d);
    return n;
}

static void seeds_read_and_survive(void **state)
{
    char dir[4096];
    tree_path(dir, sizeof dir, "tests/fuzz/corpus/read");
    int n = replay(dir, 1);
    if (n < 30)
        fail_msg("%s: only %d seeds (run from the source tree?)", dir, n);
}

static void crashers_stay_fixed(void **state)
{
    char dir[4096];
    tree_path(dir, sizeof dir, "tests/fuzz/regress/read");
    replay(dir, 0);
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
