/*
 * spoolfs.c — the fault seam's real system calls (spool_sys_ops) and the
 * file helpers every protocol step uses: checked reads and writes,
 * write-temp-fsync-rename, directory listing, tree removal, and the
 * lost-reply-safe rename.
 */
#include "spoolint.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------ real system calls */

static int sys_rename(void *c, const char *a, const char *b) { return rename(a, b); }
static int sys_lstat(void *c, const char *p, struct stat *st) { return lstat(p, st); }
static int sys_open(void *c, const char *p, int fl, mode_t m) { return open(p, fl, m); }
static ssize_t sys_read(void *c, int fd, void *b, size_t n) { return read(fd, b, n); }
static ssize_t sys_pread(void *c, int fd, void *b, size_t n, off_t o) { return pread(fd, b, n, o); }
static ssize_t sys_write(void *c, int fd, const void *b, size_t n) { return write(fd, b, n); }
static int sys_fstat(void *c, int fd, struct stat *st) { return fstat(fd, st); }
static int sys_fsync(void *c, int fd) { return fsync(fd); }
static int sys_close(void *c, int fd) { return close(fd); }
static int sys_unlink(void *c, const char *p) { return unlink(p); }
static int sys_mkdir(void *c, const char *p, mode_t m) { return mkdir(p, m); }
static int sys_rmdir(void *c, const char *p) { return rmdir(p); }
static void *sys_opendir(void *c, const char *p) { return opendir(p); }
static int sys_closedir(void *c, void *d) { return closedir(d); }

static int sys_readdir(void *c, void *d, const char **name)
{
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (de == NULL)
            return errno ? -1 : 0;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        *name = de->d_name;
        return 1;
    }
}

const struct spool_ops spool_sys_ops = {
    .rename = sys_rename, .lstat = sys_lstat, .open = sys_open,
    .read = sys_read, .pread = sys_pread, .write = sys_write,
    .fstat = sys_fstat, .fsync = sys_fsync, .close = sys_close,
    .unlink = sys_unlink, .mkdir = sys_mkdir, .rmdir = sys_rmdir,
    .opendir = sys_opendir, .readdir = sys_readdir, .closedir = sys_closedir,
};

/* ------------------------------------------------------------- helpers */

int sp_lstat(struct spool *sp, const char *path, struct stat *st)
{
    return sp->ops->lstat(sp->ctx, path, st);
}

bool spool_msg_names(const char *msg, const int *errs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strstr(msg, strerror(errs[i])) != NULL)
            return true;
    return false;
}

bool spool_msg_mount_error(const char *msg)
{
    static const int errs[] = { EIO, ENOTCONN, ECONNABORTED, ECONNRESET,
                                ESTALE, ETIMEDOUT, EHOSTUNREACH, ENETUNREACH };
    return spool_msg_names(msg, errs, sizeof errs / sizeof errs[0]);
}

int sp_exists(struct spool *sp, const char *path)
{
    struct stat st;
    if (sp_lstat(sp, path, &st) == 0)
        return 1;
    return errno == ENOENT ? 0 : -1;
}

/*
 * sp_rename — rename that tells a lost reply from a lost race.
 *
 * A rename can succeed on the server while the client sees an error (NFS
 * retransmission: ENOENT/EEXIST; sshfs: EIO, ENOTCONN, ECONNABORTED).  So
 * after ANY error the outcome is decided by looking: the target present
 * means the rename happened — certainly ours when the target name is
 * unique to this node (unique_target), otherwise only when the source is
 * gone too.  Target absent and source present: a real error, the caller
 * retries later.  Both absent: someone else moved the source (lost race).
 * If a lookup itself fails (mount gone) the outcome is ERROR.
 */
enum spool_outcome sp_rename(struct spool *sp, const char *from,
                             const char *to, bool unique_target, errbuf *e)
{
    if (sp->ops->rename(sp->ctx, from, to) == 0)
        return SPOOL_WON;
    int err = errno;
    int to_there = sp_exists(sp, to);
    if (to_there < 0) {
        int err2 = errno;
        err_errno(e, err, "rename %s -> %s", from, to);
        err_prefix(e, "cannot check the target (%s) after", strerror(err2));
        return SPOOL_ERROR;
    }
    int from_there = sp_exists(sp, from);
    if (from_there < 0) {
        int err2 = errno;
        err_errno(e, err, "rename %s -> %s", from, to);
        err_prefix(e, "cannot check the source (%s) after", strerror(err2));
        return SPOOL_ERROR;
    }
    if (to_there && (unique_target || !from_there))
        return SPOOL_WON;
    if (!to_there && !from_there)
        return SPOOL_LOST;
    err_errno(e, err, "rename %s -> %s", from, to);
    return SPOOL_ERROR;
}

int sp_write_all(struct spool *sp, int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t w = sp->ops->write(sp->ctx, fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (w == 0) {
            errno = EIO;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* sp_read_file (whole: a longer file is an error) and sp_read_head (the
 * first max bytes). */
static int read_upto(struct spool *sp, const char *path, size_t max,
                     bool whole, char **buf, size_t *len, errbuf *e)
{
    *buf = NULL;
    /* O_NONBLOCK: a FIFO put in a spool file's place must not block the
     * daemon in open(); it is then refused as not a regular file */
    int fd = sp->ops->open(sp->ctx, path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
                           O_CLOEXEC, 0);
    if (fd < 0)
        return err_errno(e, errno, "open %s", path);
    struct stat st;
    if (sp->ops->fstat(sp->ctx, fd, &st) < 0) {
        int err = errno;
        sp->ops->close(sp->ctx, fd);
        errno = err;
        return err_errno(e, err, "fstat %s", path);
    }
    if (!S_ISREG(st.st_mode)) {
        sp->ops->close(sp->ctx, fd);
        errno = EINVAL;
        return err_set(e, "%s: not a regular file", path);
    }
    char *b = malloc(max + 1);
    if (b == NULL) {
        sp->ops->close(sp->ctx, fd);
        return err_set(e, "out of memory");
    }
    size_t n = 0;
    for (;;) {
        if (n == max && whole) {
            char extra;
            ssize_t r = sp->ops->read(sp->ctx, fd, &extra, 1);
            if (r > 0) {
                free(b);
                sp->ops->close(sp->ctx, fd);
                return err_set(e, "%s: longer than %zu bytes", path, max);
            }
        }
        if (n == max)
            break;
        ssize_t r = sp->ops->read(sp->ctx, fd, b + n, max - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int err = errno;
            free(b);
            sp->ops->close(sp->ctx, fd);
            return err_errno(e, err, "read %s", path);
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    if (sp->ops->close(sp->ctx, fd) < 0) {
        int err = errno;
        free(b);
        return err_errno(e, err, "close %s", path);
    }
    b[n] = '\0';
    *buf = b;
    if (len)
        *len = n;
    return 0;
}

int sp_read_file(struct spool *sp, const char *path, size_t max, char **buf,
                 size_t *len, errbuf *e)
{
    return read_upto(sp, path, max, true, buf, len, e);
}

int sp_read_head(struct spool *sp, const char *path, size_t max, char **buf,
                 size_t *len, errbuf *e)
{
    return read_upto(sp, path, max, false, buf, len, e);
}

int sp_write_replace(struct spool *sp, const char *tmp, const char *final,
                     const void *data, size_t len, errbuf *e)
{
    /* O_NONBLOCK: a FIFO put at the temp name fails (ENXIO) instead of
     * blocking the daemon until someone reads it */
    int fd = sp->ops->open(sp->ctx, tmp, O_WRONLY | O_CREAT | O_TRUNC |
                           O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0666);
    if (fd < 0)
        return err_errno(e, errno, "create %s", tmp);
    if (sp_write_all(sp, fd, data, len) < 0) {
        err_errno(e, errno, "write %s", tmp);
        goto fail_open;
    }
    if (sp->ops->fsync(sp->ctx, fd) < 0) {
        err_errno(e, errno, "fsync %s", tmp);
        goto fail_open;
    }
    if (sp->ops->close(sp->ctx, fd) < 0) {
        err_errno(e, errno, "close %s", tmp);
        goto fail;
    }
    /* the temp name is private to us: a lost reply shows as target present */
    enum spool_outcome oc = sp_rename(sp, tmp, final, false, e);
    if (oc == SPOOL_LOST)
        err_set(e, "rename %s -> %s: both names vanished", tmp, final);
    if (oc != SPOOL_WON)
        goto fail;
    return 0;
fail_open:
    sp->ops->close(sp->ctx, fd);
fail:
    sp->ops->unlink(sp->ctx, tmp);
    return -1;
}

void sp_free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

int sp_listdir(struct spool *sp, const char *path, char ***names, size_t *n,
               errbuf *e)
{
    *names = NULL;
    *n = 0;
    void *d = sp->ops->opendir(sp->ctx, path);
    if (d == NULL)
        return err_errno(e, errno, "open directory %s", path);
    char **v = NULL;
    size_t cnt = 0, cap = 0;
    const char *name;
    int r;
    while ((r = sp->ops->readdir(sp->ctx, d, &name)) == 1) {
        if (cnt == cap) {
            size_t ncap = cap ? cap * 2 : 32;
            char **nv = realloc(v, ncap * sizeof *nv);
            if (nv == NULL)
                goto oom;
            v = nv;
            cap = ncap;
        }
        if ((v[cnt] = strdup(name)) == NULL)
            goto oom;
        cnt++;
    }
    if (r < 0) {
        int err = errno;
        sp->ops->closedir(sp->ctx, d);
        sp_free_names(v, cnt);
        return err_errno(e, err, "read directory %s", path);
    }
    if (sp->ops->closedir(sp->ctx, d) < 0) {
        int err = errno;
        sp_free_names(v, cnt);
        return err_errno(e, err, "close directory %s", path);
    }
    /* never NULL, even for an empty directory: callers qsort() and
     * memcpy() the array, and a NULL there is undefined behaviour even
     * with a count of 0 (UBSan stopped the daemon on an empty pack) */
    if (v == NULL && (v = malloc(sizeof *v)) == NULL)
        return err_set(e, "out of memory");
    *names = v;
    *n = cnt;
    return 0;
oom:
    sp->ops->closedir(sp->ctx, d);
    sp_free_names(v, cnt);
    return err_set(e, "out of memory listing %s", path);
}

static int remove_tree_depth(struct spool *sp, const char *path, int depth,
                             errbuf *e)
{
    struct stat st;
    if (sp_lstat(sp, path, &st) < 0)
        return errno == ENOENT ? 0 : err_errno(e, errno, "lstat %s", path);
    if (!S_ISDIR(st.st_mode)) {
        if (sp->ops->unlink(sp->ctx, path) < 0 && errno != ENOENT)
            return err_errno(e, errno, "unlink %s", path);
        return 0;
    }
    if (depth > 4)
        return err_set(e, "%s: directories nested too deep to remove", path);
    char **names;
    size_t n;
    if (sp_listdir(sp, path, &names, &n, e) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char sub[SP_PATH_MAX];
        if ((size_t)snprintf(sub, sizeof sub, "%s/%s", path, names[i]) >= sizeof sub)
            rc = err_set(e, "%s/%s: path too long", path, names[i]);
        else
            rc = remove_tree_depth(sp, sub, depth + 1, e);
    }
    sp_free_names(names, n);
    if (rc == 0 && sp->ops->rmdir(sp->ctx, path) < 0 && errno != ENOENT)
        rc = err_errno(e, errno, "rmdir %s", path);
    return rc;
}

int sp_remove_tree(struct spool *sp, const char *path, errbuf *e)
{
    return remove_tree_depth(sp, path, 0, e);
}

uint64_t sp_hash(uint64_t h, const char *s)
{
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= UINT64_C(1099511628211);
    }
    return h;
}
