/*
 * spoolops.c — the operator's side of the protocol: submitting a pack the
 * safe way (copy under a hidden name, fsync, rename into incoming/) and
 * putting failed or done packs back into incoming/.
 */
#include "spoolint.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Copies regular file SRC to DST (created, must not exist), fsyncs. */
static int copy_file(struct spool *sp, const char *src, const char *dst,
                     errbuf *e)
{
    int in = sp->ops->open(sp->ctx, src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0);
    if (in < 0)
        return err_errno(e, errno, "open %s", src);
    int out = sp->ops->open(sp->ctx, dst, O_WRONLY | O_CREAT | O_TRUNC |
                            O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0666);
    if (out < 0) {
        int err = errno;
        sp->ops->close(sp->ctx, in);
        return err_errno(e, err, "create %s", dst);
    }
    char buf[65536];
    int rc = 0;
    for (;;) {
        ssize_t r = sp->ops->read(sp->ctx, in, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = err_errno(e, errno, "read %s", src);
            break;
        }
        if (r == 0)
            break;
        if (sp_write_all(sp, out, buf, (size_t)r) < 0) {
            rc = err_errno(e, errno, "write %s", dst);
            break;
        }
    }
    if (rc == 0 && sp->ops->fsync(sp->ctx, out) < 0)
        rc = err_errno(e, errno, "fsync %s", dst);
    if (sp->ops->close(sp->ctx, out) < 0 && rc == 0)
        rc = err_errno(e, errno, "close %s", dst);
    sp->ops->close(sp->ctx, in);
    return rc;
}

/* Copies directory pack SRC (regular files only) into new directory DST. */
static int copy_dir(struct spool *sp, const char *src, const char *dst,
                    errbuf *e)
{
    char **names;
    size_t n;
    if (sp_listdir(sp, src, &names, &n, e) < 0)
        return -1;
    int rc = 0;
    if (sp->ops->mkdir(sp->ctx, dst, 0777) < 0)
        rc = err_errno(e, errno, "mkdir %s", dst);
    for (size_t i = 0; i < n && rc == 0; i++) {
        char a[SP_PATH_MAX], b[SP_PATH_MAX];
        struct stat st;
        if ((size_t)snprintf(a, sizeof a, "%s/%s", src, names[i]) >= sizeof a ||
            (size_t)snprintf(b, sizeof b, "%s/%s", dst, names[i]) >= sizeof b)
            rc = err_set(e, "%s/%s: path too long", src, names[i]);
        else if (sp_lstat(sp, a, &st) < 0)
            rc = err_errno(e, errno, "lstat %s", a);
        else if (!S_ISREG(st.st_mode))
            rc = err_set(e, "%s: not a regular file (a directory pack holds "
                         "only page files)", a);
        else
            rc = copy_file(sp, a, b, e);
    }
    sp_free_names(names, n);
    if (rc == 0) {
        int fd = sp->ops->open(sp->ctx, dst, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
        if (fd < 0)
            rc = err_errno(e, errno, "open %s", dst);
        else {
            if (sp->ops->fsync(sp->ctx, fd) < 0 && errno != EINVAL)
                rc = err_errno(e, errno, "fsync %s", dst);
            sp->ops->close(sp->ctx, fd);
        }
    }
    return rc;
}

static int check_pack_name(const char *name, errbuf *e)
{
    if (spool_name_ignored(name) || strchr(name, '/'))
        return err_set(e, "\"%s\": scanners' temporary names (.*, *.part, "
                       "*.tmp) are ignored by spoold; choose another name", name);
    if (strlen(name) > SPOOL_PACK_MAX)
        return err_set(e, "\"%s\": name longer than %d bytes", name, SPOOL_PACK_MAX);
    return 0;
}

int spool_submit(struct spool *sp, const char *src, const char *name,
                 errbuf *e)
{
    char base[SP_PATH_MAX];
    if (name == NULL) {
        snprintf(base, sizeof base, "%s", src);
        size_t n = strlen(base);
        while (n > 1 && base[n - 1] == '/')
            base[--n] = '\0';
        const char *slash = strrchr(base, '/');
        name = slash ? slash + 1 : base;
    }
    if (check_pack_name(name, e) < 0)
        return -1;
    struct stat st;
    if (sp_lstat(sp, src, &st) < 0)
        return err_errno(e, errno, "%s", src);
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
        return err_set(e, "%s: not a regular file or directory", src);
    char hidden[300], tmp[SP_PATH_MAX], final[SP_PATH_MAX];
    snprintf(hidden, sizeof hidden, ".%s.submit-%ld", name, (long)getpid());
    if (sp_path(sp, "incoming", hidden, tmp, e) < 0 ||
        sp_path(sp, "incoming", name, final, e) < 0)
        return -1;
    int r = sp_exists(sp, final);
    if (r != 0)
        return r < 0 ? err_errno(e, errno, "lstat %s", final)
                     : err_set(e, "%s exists already; not replacing it", final);
    int rc = S_ISDIR(st.st_mode) ? copy_dir(sp, src, tmp, e)
                                 : copy_file(sp, src, tmp, e);
    if (rc == 0 && (r = sp_exists(sp, final)) != 0)
        rc = r < 0 ? err_errno(e, errno, "lstat %s", final)
                   : err_set(e, "%s appeared meanwhile; not replacing it", final);
    if (rc == 0) {
        enum spool_outcome oc = sp_rename(sp, tmp, final, false, e);
        if (oc == SPOOL_LOST)
            rc = err_set(e, "%s vanished before the rename", tmp);
        else if (oc != SPOOL_WON)
            rc = -1;
    }
    if (rc < 0) {
        errbuf e2;
        sp_remove_tree(sp, tmp, &e2);
    }
    return rc;
}

enum spool_outcome spool_requeue(struct spool *sp, const char *from_dir,
                                 const char *pack, errbuf *e)
{
    if (strcmp(from_dir, "failed") != 0 && strcmp(from_dir, "done") != 0)
        return err_set(e, "can requeue only from failed/ or done/"), SPOOL_ERROR;
    if (check_pack_name(pack, e) < 0)
        return SPOOL_ERROR;
    char from[SP_PATH_MAX], to[SP_PATH_MAX];
    if (sp_path(sp, from_dir, pack, from, e) < 0 ||
        sp_path(sp, "incoming", pack, to, e) < 0)
        return SPOOL_ERROR;
    int r = sp_exists(sp, from);
    if (r <= 0)
        return r < 0 ? (err_errno(e, errno, "lstat %s", from), SPOOL_ERROR)
                     : (err_set(e, "%s: no such pack", from), SPOOL_LOST);
    r = sp_exists(sp, to);
    if (r != 0)
        return r < 0 ? (err_errno(e, errno, "lstat %s", to), SPOOL_ERROR)
                     : (err_set(e, "%s exists already; not replacing it", to),
                        SPOOL_ERROR);
    enum spool_outcome oc = sp_rename(sp, from, to, false, e);
    if (oc == SPOOL_LOST)
        err_set(e, "%s vanished (requeued by someone else?)", from);
    if (oc != SPOOL_WON || strcmp(from_dir, "failed") != 0)
        return oc;
    char errp[SP_PATH_MAX + 8];
    snprintf(errp, sizeof errp, "%s.err", from);
    if (sp->ops->unlink(sp->ctx, errp) < 0 && errno != ENOENT)
        return err_errno(e, errno, "unlink %s", errp), SPOOL_ERROR;
    return SPOOL_WON;
}
