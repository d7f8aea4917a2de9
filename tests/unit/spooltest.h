/*
 * spooltest.h — helpers shared by the spool protocol unit tests: a fresh
 * spool in a temp directory, small file writers, and a fault-injecting
 * spool_ops table (the seam) whose behaviour each test sets.
 */
#ifndef SPOOLD_SPOOLTEST_H
#define SPOOLD_SPOOLTEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <ftw.h>
#include <unistd.h>

#include "spool.h"

enum fault_mode {
    FAULT_NONE,
    FAULT_RENAME_DONE_THEN_ERR,  /* rename happens on the "server", the
                                    client sees errno `err` */
    FAULT_RENAME_ERR,            /* rename does not happen, errno `err` */
    FAULT_RENAME_RACE,           /* another node renames the source to
                                    `race_to` just before ours */
    FAULT_ALL_ERR,               /* every call fails with `err` */
};

struct fault {
    enum fault_mode mode;
    int err;
    int countdown;          /* fault the Nth matching rename (1 = next) */
    const char *match;      /* only renames whose target contains this */
    char race_to[4096];
    int renames;            /* renames seen */
};

static inline bool fault_hits(struct fault *f, const char *to)
{
    f->renames++;
    if (f->mode == FAULT_NONE || (f->match && strstr(to, f->match) == NULL))
        return false;
    if (f->countdown > 1) {
        f->countdown--;
        return false;
    }
    return true;
}

static inline int f_rename(void *c, const char *a, const char *b)
{
    struct fault *f = c;
    if (f->mode == FAULT_ALL_ERR) { errno = f->err; return -1; }
    if (!fault_hits(f, b))
        return rename(a, b);
    enum fault_mode m = f->mode;
    f->mode = FAULT_NONE;               /* one fault per arming */
    switch (m) {
    case FAULT_RENAME_DONE_THEN_ERR:
        if (rename(a, b) < 0)
            return -1;
        errno = f->err;
        return -1;
    case FAULT_RENAME_ERR:
        errno = f->err;
        return -1;
    case FAULT_RENAME_RACE:
        if (rename(a, f->race_to) < 0)
            return -1;
        return rename(a, b);
    default:
        return rename(a, b);
    }
}

#define F_WRAP(ret, name, params, args)                                   \
    static inline ret f_##name params                                     \
    {                                                                     \
        struct fault *f = c;                                              \
        if (f->mode == FAULT_ALL_ERR) { errno = f->err; return (ret)-1; } \
        return spool_sys_ops.name args;                                   \
    }
F_WRAP(int, lstat, (void *c, const char *p, struct stat *st), (NULL, p, st))
F_WRAP(int, open, (void *c, const char *p, int fl, mode_t m), (NULL, p, fl, m))
F_WRAP(ssize_t, read, (void *c, int fd, void *b, size_t n), (NULL, fd, b, n))
F_WRAP(ssize_t, pread, (void *c, int fd, void *b, size_t n, off_t o), (NULL, fd, b, n, o))
F_WRAP(ssize_t, write, (void *c, int fd, const void *b, size_t n), (NULL, fd, b, n))
F_WRAP(int, fstat, (void *c, int fd, struct stat *st), (NULL, fd, st))
F_WRAP(int, fsync, (void *c, int fd), (NULL, fd))
F_WRAP(int, close, (void *c, int fd), (NULL, fd))
F_WRAP(int, unlink, (void *c, const char *p), (NULL, p))
F_WRAP(int, mkdir, (void *c, const char *p, mode_t m), (NULL, p, m))
F_WRAP(int, rmdir, (void *c, const char *p), (NULL, p))
F_WRAP(int, readdir, (void *c, void *d, const char **n), (NULL, d, n))
F_WRAP(int, closedir, (void *c, void *d), (NULL, d))

static inline void *f_opendir(void *c, const char *p)
{
    struct fault *f = c;
    if (f->mode == FAULT_ALL_ERR) { errno = f->err; return NULL; }
    return spool_sys_ops.opendir(NULL, p);
}

static const struct spool_ops fault_ops = {
    .rename = f_rename, .lstat = f_lstat, .open = f_open, .read = f_read,
    .pread = f_pread, .write = f_write, .fstat = f_fstat, .fsync = f_fsync,
    .close = f_close, .unlink = f_unlink, .mkdir = f_mkdir, .rmdir = f_rmdir,
    .opendir = f_opendir, .readdir = f_readdir, .closedir = f_closedir,
};

/* A fresh spool in a temp dir; returns its malloc'd root. */
static inline char *make_spool(void)
{
    char tmpl[] = "/tmp/spooltest.XXXXXX";
    char *d = mkdtemp(tmpl);
    if (d == NULL)
        return NULL;
    char *root = malloc(strlen(d) + 8);
    sprintf(root, "%s/spool", d);
    errbuf e;
    if (spool_init(root, NULL, NULL, NULL, &e) < 0) {
        fprintf(stderr, "spool_init: %s\n", e.msg);
        return NULL;
    }
    return root;
}

static inline int rm_one(const char *p, const struct stat *st, int flag,
                         struct FTW *ftw)
{
    return remove(p);
}

/* Removes the temp dir holding root (made by make_spool) and frees root. */
static inline void remove_spool(char *root)
{
    *strrchr(root, '/') = '\0';
    if (nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
        fprintf(stderr, "could not remove %s\n", root);
    free(root);
}

/* "root/dir/name" into buf (PATH_MAX). */
static inline char *sp_file(char *buf, const char *root, const char *dir,
                            const char *name)
{
    snprintf(buf, 4096, "%s/%s/%s", root, dir, name);
    return buf;
}

static inline int write_file(const char *path, const void *data, size_t n)
{
    FILE *fp = fopen(path, "wb");
    if (fp == NULL)
        return -1;
    size_t w = fwrite(data, 1, n, fp);
    return fclose(fp) == 0 && w == n ? 0 : -1;
}

static inline bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Sets a file's mtime to t seconds since the epoch (simulated server
 * stamps). */
static inline int set_mtime(const char *path, time_t t)
{
    struct timespec ts[2] = { { t, 0 }, { t, 0 } };
    return utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW);
}

/* Whole file as a malloc'd string, NULL if unreadable. */
static inline char *read_all(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return NULL;
    char *buf = calloc(1, 65536);
    size_t n = fread(buf, 1, 65535, fp);
    fclose(fp);
    buf[n] = '\0';
    return buf;
}

#endif
