/*
 * testhook.c — the test-only spool ops wrapper of testhook.h: every call is
 * the real one; a rename from claimed/ to done/ or tmp/ (the retirement of
 * a published pack's source: spool_publish's last step) first stops the
 * process when the harness asked for it.
 */
#include "testhook.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HOOK_ENV "SPOOLD_TEST_HOOKS"

/* True if the directory holding PATH's last component is named DIR. */
static bool parent_is(const char *path, const char *dir)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return false;
    size_t n = strlen(dir);
    return (size_t)(slash - path) >= n && strncmp(slash - n, dir, n) == 0 &&
           (slash - path == (ptrdiff_t)n || slash[-(ptrdiff_t)n - 1] == '/');
}

/* Consumes DIR/NAME if it exists; true if it did. */
static bool trigger(const char *dir, const char *name)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
        return false;
    return unlink(path) == 0;
}

static int hook_rename(void *ctx, const char *from, const char *to)
{
    if (parent_is(from, "claimed") &&
        (parent_is(to, "done") || parent_is(to, "tmp")) &&
        trigger(ctx, "stop-after-publish"))
        raise(SIGSTOP);
    return spool_sys_ops.rename(NULL, from, to);
}

static int hook_lstat(void *c, const char *p, struct stat *st) { return spool_sys_ops.lstat(NULL, p, st); }
static int hook_open(void *c, const char *p, int fl, mode_t m) { return spool_sys_ops.open(NULL, p, fl, m); }
static ssize_t hook_read(void *c, int fd, void *b, size_t n) { return spool_sys_ops.read(NULL, fd, b, n); }
static ssize_t hook_pread(void *c, int fd, void *b, size_t n, off_t o) { return spool_sys_ops.pread(NULL, fd, b, n, o); }
static ssize_t hook_write(void *c, int fd, const void *b, size_t n) { return spool_sys_ops.write(NULL, fd, b, n); }
static int hook_fstat(void *c, int fd, struct stat *st) { return spool_sys_ops.fstat(NULL, fd, st); }
static int hook_fsync(void *c, int fd) { return spool_sys_ops.fsync(NULL, fd); }
static int hook_close(void *c, int fd) { return spool_sys_ops.close(NULL, fd); }
static int hook_unlink(void *c, const char *p) { return spool_sys_ops.unlink(NULL, p); }
static int hook_mkdir(void *c, const char *p, mode_t m) { return spool_sys_ops.mkdir(NULL, p, m); }
static int hook_rmdir(void *c, const char *p) { return spool_sys_ops.rmdir(NULL, p); }
static void *hook_opendir(void *c, const char *p) { return spool_sys_ops.opendir(NULL, p); }
static int hook_readdir(void *c, void *d, const char **n) { return spool_sys_ops.readdir(NULL, d, n); }
static int hook_closedir(void *c, void *d) { return spool_sys_ops.closedir(NULL, d); }

static const struct spool_ops hook_ops = {
    .rename = hook_rename, .lstat = hook_lstat, .open = hook_open,
    .read = hook_read, .pread = hook_pread, .write = hook_write,
    .fstat = hook_fstat, .fsync = hook_fsync, .close = hook_close,
    .unlink = hook_unlink, .mkdir = hook_mkdir, .rmdir = hook_rmdir,
    .opendir = hook_opendir, .readdir = hook_readdir,
    .closedir = hook_closedir,
};

const struct spool_ops *testhook_ops(void **ctx)
{
    char *dir = getenv(HOOK_ENV);
    if (dir == NULL || dir[0] == '\0') {
        *ctx = NULL;
        return NULL;
    }
    *ctx = dir;
    return &hook_ops;
}
