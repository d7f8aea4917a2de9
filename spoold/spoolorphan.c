/*
 * spoolorphan.c — removes what a process killed at the wrong moment leaves
 * in the spool for good: attempt histories whose pack has gone, and the
 * hidden names FUSE (sshfs) gives to files unlinked while still open.
 *
 * Attempt histories.  A history sidecar (claimed/.P.err) lives exactly as
 * long as its pack circulates: publish and the move to failed/ take the
 * pack out of claimed/ first and unlink the sidecar last.  A node killed
 * between those two steps leaves the sidecar behind with nothing to remove
 * it (found by tests/chaos: the spool never drained).  Every node
 * therefore sweeps such orphans, with checks that keep it from ever
 * removing a live history:
 *
 *   - no claim of P (P@N+K, P@+K) in the caller's listing of claimed/ AND
 *     none in a second listing taken here, after it (a listing taken
 *     during a rename of the claim may miss it; two in a row will not
 *     both miss a claim that stays in claimed/);
 *   - incoming/P is absent (a requeued or resubmitted pack keeps it);
 *   - the sidecar has not changed for min_age (one lease) by the server's
 *     clock: every history append rewrites it, so a live pack's sidecar
 *     is young while its holder works on it, and an old one belongs to
 *     a pack whose holder has been gone for longer than a lease.
 *
 * Removing a live history by mistake would cost the pack its reasons, not
 * its attempt count (that is in the claim name) nor its data.
 *
 * FUSE litter.  When a file that a process on the same sshfs mount still
 * holds open is unlinked or renamed over, libfuse renames it to
 * .fuse_hiddenNNNNNNNNMMMMMMMM and unlinks that name at the last close.
 * spoold unlinks worker temporaries right after the worker exits (the
 * kernel reports the close to sshfs asynchronously, so it may still count
 * them open) and replaces an earlier attempt's output; an sshfs that dies
 * or loses its connection before that last close leaves the hidden name
 * on the server for good (the fault harness found one in the output).
 * sshfs 3 has no hard_remove option to turn the hiding off.  Such a name
 * holds only data that was already unlinked on purpose, and the server
 * keeps an open file's data until its last handle closes, so removing it
 * cannot hurt a holder: nodes sweep tmp/ and the output at start, every
 * DAEMON_LITTER_PERIOD and when they stop.  Only names of exactly libfuse's
 * form are touched, and only regular files.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "spoolint.h"

/* Is there a claim of PACK in cl?  (Any node, any attempt.) */
static bool claims_hold(const struct spool_claims *cl, const char *pack)
{
    for (size_t i = 0; i < cl->n; i++)
        if (strcmp(cl->v[i].pack, pack) == 0)
            return true;
    return false;
}

/* Removes claimed/NAME (sidecar of PACK) if the checks above hold for it.
 * 1 removed, 0 kept, -1 error. */
static int sweep_one(struct spool *sp, const struct spool_claims *first,
                     const struct spool_claims *second, const char *name,
                     const char *pack, spool_ns now, spool_ns min_age,
                     errbuf *e)
{
    if (claims_hold(first, pack) || claims_hold(second, pack))
        return 0;
    char path[SP_PATH_MAX], in[SP_PATH_MAX];
    struct stat st;
    if (sp_path(sp, "claimed", name, path, e) < 0 ||
        sp_path(sp, "incoming", pack, in, e) < 0)
        return -1;
    if (sp_lstat(sp, path, &st) < 0)
        return errno == ENOENT ? 0 : err_errno(e, errno, "lstat %s", path);
    if (!S_ISREG(st.st_mode) || now - spool_ns_mtime(&st) < min_age)
        return 0;
    int r = sp_exists(sp, in);
    if (r != 0)
        return r < 0 ? err_errno(e, errno, "lstat %s", in) : 0;
    if (sp->ops->unlink(sp->ctx, path) < 0)
        return errno == ENOENT ? 0 : err_errno(e, errno, "unlink %s", path);
    return 1;
}

int spool_sweep_histories(struct spool *sp, const struct spool_claims *cl,
                          spool_ns now, spool_ns min_age, errbuf *e)
{
    size_t candidates = 0;
    for (size_t i = 0; i < cl->n_sidecars; i++)
        candidates += !claims_hold(cl, cl->sidecars[i]);
    if (candidates == 0)
        return 0;               /* the usual case: no extra round trip */
    struct spool_claims second;
    if (spool_list_claims(sp, &second, e) < 0)
        return -1;
    int removed = 0;
    for (size_t i = 0; i < cl->n_sidecars && removed >= 0; i++) {
        const char *pack = cl->sidecars[i];
        char name[SPOOL_PACK_MAX + 8];
        snprintf(name, sizeof name, ".%s.err", pack);
        int r = sweep_one(sp, cl, &second, name, pack, now, min_age, e);
        removed = r < 0 ? -1 : removed + r;
    }
    spool_claims_free(&second);
    return removed;
}

/* Is NAME of the form libfuse gives a hidden file (".fuse_hidden" and 16
 * hex digits)? */
static bool fuse_hidden_name(const char *name)
{
    static const char prefix[] = ".fuse_hidden";
    if (strncmp(name, prefix, sizeof prefix - 1) != 0)
        return false;
    const char *hex = name + sizeof prefix - 1;
    size_t n = strspn(hex, "0123456789abcdefABCDEF");
    return n == 16 && hex[n] == '\0';
}

/* Removes the FUSE hidden names in DIR; adds their number to *removed. */
static int sweep_litter_in(struct spool *sp, const char *dir, int *removed,
                           errbuf *e)
{
    char **names;
    size_t n;
    if (sp_listdir(sp, dir, &names, &n, e) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char path[SP_PATH_MAX];
        struct stat st;
        if (!fuse_hidden_name(names[i]))
            continue;
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, names[i]) >= sizeof path)
            rc = err_set(e, "path too long in %s", dir);
        else if (sp_lstat(sp, path, &st) < 0 || !S_ISREG(st.st_mode))
            continue;
        else if (sp->ops->unlink(sp->ctx, path) == 0)
            (*removed)++;
        else if (errno != ENOENT)
            rc = err_errno(e, errno, "unlink %s", path);
    }
    sp_free_names(names, n);
    return rc;
}

int spool_sweep_fuse_litter(struct spool *sp, const char *outdir, errbuf *e)
{
    char tmp[SP_PATH_MAX], out[SP_PATH_MAX];
    if (sp_path(sp, "tmp", NULL, tmp, e) < 0)
        return -1;
    if (outdir)
        snprintf(out, sizeof out, "%s", outdir);
    else if (sp_path(sp, "out", NULL, out, e) < 0)
        return -1;
    int removed = 0;
    if (sweep_litter_in(sp, tmp, &removed, e) < 0 ||
        sweep_litter_in(sp, out, &removed, e) < 0)
        return -1;
    return removed;
}
