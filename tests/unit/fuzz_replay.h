/*
 * fuzz_replay.h — shared by the tests that replay a fuzz target without
 * libFuzzer (test_fuzz_*.c): runs the target over every input of one
 * corpus directory of the source tree, then the test's own check of that
 * input.  Include it after the target's .c (it calls
 * LLVMFuzzerTestOneInput).
 */
#ifndef SPOOLD_FUZZ_REPLAY_H
#define SPOOLD_FUZZ_REPLAY_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_REPLAY_MAX (1 << 20)   /* bytes read of one input */

/* A test's check of one input, after the target ran on it: path, the
 * file's name, its bytes (NUL-terminated, for text targets), ctx. */
typedef void fuzz_check_fn(const char *path, const char *name,
                           const uint8_t *data, size_t len, void *ctx);

/* Runs the target, then check (if not NULL), over every file of DIR
 * (relative to $SPOOLD_TOP, else the current directory) but hidden names
 * and README.  Fails the test on an unreadable file.  Returns the number
 * of inputs; 0 if DIR does not exist. */
static int fuzz_replay(const char *dir, fuzz_check_fn *check, void *ctx)
{
    const char *top = getenv("SPOOLD_TOP");
    char full[4096], path[8192];
    snprintf(full, sizeof full, "%s/%s", top && *top ? top : ".", dir);
    DIR *d = opendir(full);
    if (d == NULL)
        return 0;
    uint8_t *buf = malloc(FUZZ_REPLAY_MAX + 1);
    assert_non_null(buf);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || strcmp(de->d_name, "README") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", full, de->d_name);
        FILE *fp = fopen(path, "rb");
        if (fp == NULL)
            fail_msg("cannot read %s", path);
        size_t len = fread(buf, 1, FUZZ_REPLAY_MAX, fp);
        fclose(fp);
        buf[len] = '\0';
        LLVMFuzzerTestOneInput(buf, len);
        if (check)
            check(path, de->d_name, buf, len, ctx);
        n++;
    }
    closedir(d);
    free(buf);
    return n;
}

#endif
