/*
 * spoolclaim.c — the life of a claim: claiming from incoming/ or from a
 * released P@+K, fencing, reaping a dead node's claim, releasing, failing
 * with an attempt history (.P.err), giving up into failed/, and listing
 * claimed/.  Every state change is a rename to a name unique to this node
 * where it matters, resolved with sp_rename's lost-reply check.
 */
#include "spoolint.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HISTORY_MAX (64 * 1024)

static int claim_name_path(struct spool *sp, const struct spool_claim *c,
                           char *path, errbuf *e)
{
    char name[SPOOL_CLAIM_NAME_MAX + 1];
    if (spool_claim_format(c, name, sizeof name) < 0)
        return err_set(e, "invalid claim (pack name too long or bad node)");
    return sp_path(sp, "claimed", name, path, e);
}

/* Fails if our own target name exists already: renaming onto it would
 * silently replace a pack we hold (a second pack of the same name). */
static int target_free(struct spool *sp, const char *to, errbuf *e)
{
    int r = sp_exists(sp, to);
    if (r < 0)
        return err_errno(e, errno, "lstat %s", to);
    if (r > 0)
        return err_set(e, "%s exists already (a pack of the same name is "
                       "held); not replacing it", to);
    return 0;
}

/* Renames FROM to our claim *to (unique to this node). */
static enum spool_outcome take(struct spool *sp, const char *from,
                               const struct spool_claim *to, errbuf *e)
{
    char to_path[SP_PATH_MAX];
    if (claim_name_path(sp, to, to_path, e) < 0 || target_free(sp, to_path, e) < 0)
        return SPOOL_ERROR;
    return sp_rename(sp, from, to_path, true, e);
}

enum spool_outcome spool_claim(struct spool *sp, const char *pack,
                               struct spool_claim *out, errbuf *e)
{
    if (sp_need_node(sp, e) < 0)
        return SPOOL_ERROR;
    memset(out, 0, sizeof *out);
    if (strlen(pack) > SPOOL_PACK_MAX || spool_name_ignored(pack) ||
        strchr(pack, '/'))
        return err_set(e, "cannot claim \"%s\": ignored or too long name", pack),
               SPOOL_ERROR;
    snprintf(out->pack, sizeof out->pack, "%s", pack);
    snprintf(out->node, sizeof out->node, "%s", sp->node);
    out->attempt = 1;
    char from[SP_PATH_MAX];
    if (sp_path(sp, "incoming", pack, from, e) < 0)
        return SPOOL_ERROR;
    return take(sp, from, out, e);
}

int spool_still_ours(struct spool *sp, const struct spool_claim *c, errbuf *e)
{
    char path[SP_PATH_MAX];
    if (claim_name_path(sp, c, path, e) < 0)
        return -1;
    int r = sp_exists(sp, path);
    if (r < 0)
        return err_errno(e, errno, "lstat %s", path);
    return r;
}

/* ------------------------------------------------------------- history */

static int history_path(struct spool *sp, const char *pack, char *path,
                        errbuf *e)
{
    char name[SPOOL_PACK_MAX + 8];
    snprintf(name, sizeof name, ".%s.err", pack);
    return sp_path(sp, "claimed", name, path, e);
}

/* Reads claimed/.P.err into a malloc'd string ("" if absent).  A history
 * longer than HISTORY_MAX keeps only its last HISTORY_MAX/2 bytes. */
static int history_read(struct spool *sp, const char *pack, char **text,
                        errbuf *e)
{
    char path[SP_PATH_MAX];
    if (history_path(sp, pack, path, e) < 0)
        return -1;
    size_t len;
    errbuf e2;
    if (sp_read_file(sp, path, HISTORY_MAX * 4, text, &len, &e2) < 0) {
        if (errno != ENOENT)
            return err_set(e, "%s", e2.msg);
        *text = strdup("");
        return *text ? 0 : err_set(e, "out of memory");
    }
    if (len > HISTORY_MAX) {
        const char *keep = *text + len - HISTORY_MAX / 2;
        const char *nl = strchr(keep, '\n');
        memmove(*text, nl ? nl + 1 : keep, strlen(nl ? nl + 1 : keep) + 1);
    }
    return 0;
}

static int history_line(char *buf, size_t cap, int attempt, const char *node,
                        spool_ns when, const char *reason)
{
    char t[40], r[SPOOL_REASON_MAX];
    sp_format_time(when, t, sizeof t);
    sp_one_line(reason, r, sizeof r);
    return snprintf(buf, cap, "attempt %d on %s at %s: %s\n", attempt,
                    node[0] ? node : "?", t, r);
}

/* Writes TEXT to tmp/.NODE.WHAT and renames it to FINAL. */
static int write_via_tmp(struct spool *sp, const char *what, const char *final,
                         const char *text, errbuf *e)
{
    char name[SPOOL_NODE_MAX + 32], tmp[SP_PATH_MAX];
    snprintf(name, sizeof name, ".%s@%s", sp->node, what);
    if (sp_path(sp, "tmp", name, tmp, e) < 0)
        return -1;
    return sp_write_replace(sp, tmp, final, text, strlen(text), e);
}

int spool_history_append(struct spool *sp, const char *pack, int attempt,
                         const char *node, spool_ns when, const char *reason,
                         errbuf *e)
{
    if (sp_need_node(sp, e) < 0)
        return -1;
    char *old, line[SPOOL_REASON_MAX + 200], path[SP_PATH_MAX];
    if (history_path(sp, pack, path, e) < 0 || history_read(sp, pack, &old, e) < 0)
        return -1;
    history_line(line, sizeof line, attempt, node, when, reason);
    size_t n = strlen(old);
    char *text = realloc(old, n + strlen(line) + 1);
    if (text == NULL) {
        free(old);
        return err_set(e, "out of memory");
    }
    memcpy(text + n, line, strlen(line) + 1);
    int rc = write_via_tmp(sp, "hist", path, text, e);
    free(text);
    return rc;
}

/* The last line of P's attempt history ("" if none or unreadable), so
 * that a pack that runs out of attempts says in failed/P.err's last line
 * what its last attempt ran into, not only that attempts ran out. */
static void history_last(struct spool *sp, const char *pack, char *buf,
                         size_t cap)
{
    char *text;
    errbuf ignored;
    buf[0] = '\0';
    if (history_read(sp, pack, &text, &ignored) < 0)
        return;
    size_t n = strlen(text);
    while (n > 0 && text[n - 1] == '\n')
        text[--n] = '\0';
    const char *nl = strrchr(text, '\n');
    sp_one_line(nl ? nl + 1 : text, buf, cap);
    free(text);
}

/* ------------------------------------------------------------- failed/ */

/* Picks failed/P, or failed/P.<server s>.<NODE> if that exists (also used
 * for done/).  Returns the name in buf (NAME_MAX + 1). */
static int unique_dest(struct spool *sp, const char *dir, const char *pack,
                       spool_ns now, char *name, char *path, errbuf *e)
{
    snprintf(name, 256, "%s", pack);
    if (sp_path(sp, dir, name, path, e) < 0)
        return -1;
    int r = sp_exists(sp, path);
    if (r < 0)
        return err_errno(e, errno, "lstat %s", path);
    if (r == 0)
        return 0;
    snprintf(name, 256, "%s.%lld.%s", pack, (long long)(now / SPOOL_NS_PER_S),
             sp->node);
    return sp_path(sp, dir, name, path, e);
}

/* Moves our claim c to failed/ with the history plus FINAL_LINE as
 * failed/P.err, then removes claimed/.P.err. */
static enum spool_outcome move_to_failed(struct spool *sp,
                                         const struct spool_claim *c,
                                         const char *final_line, spool_ns now,
                                         errbuf *e)
{
    char from[SP_PATH_MAX], to[SP_PATH_MAX], name[256], errp[SP_PATH_MAX];
    char hist[SP_PATH_MAX], *text;
    if (claim_name_path(sp, c, from, e) < 0 ||
        unique_dest(sp, "failed", c->pack, now, name, to, e) < 0 ||
        history_path(sp, c->pack, hist, e) < 0 ||
        history_read(sp, c->pack, &text, e) < 0)
        return SPOOL_ERROR;
    enum spool_outcome oc = sp_rename(sp, from, to, false, e);
    if (oc != SPOOL_WON) {
        free(text);
        return oc;
    }
    size_t n = strlen(text), m = strlen(final_line);
    char *all = realloc(text, n + m + 1);
    if (all == NULL) {
        free(text);
        return err_set(e, "out of memory"), SPOOL_ERROR;
    }
    memcpy(all + n, final_line, m + 1);
    int rc = 0;
    if (strlen(name) + 4 > 255)
        rc = err_set(e, "%s: name too long for a .err sidecar", to);
    else if ((rc = sp_path(sp, "failed", name, errp, e)) == 0) {
        strcat(errp, ".err");
        rc = write_via_tmp(sp, "failerr", errp, all, e);
    }
    free(all);
    if (rc == 0 && sp->ops->unlink(sp->ctx, hist) < 0 && errno != ENOENT)
        rc = err_errno(e, errno, "unlink %s", hist);
    return rc == 0 ? SPOOL_WON : SPOOL_ERROR;
}

/* ------------------------------------------------------- claim released */

enum spool_outcome spool_claim_released(struct spool *sp,
                                        const struct spool_claim *rel,
                                        int max_attempts, spool_ns now,
                                        struct spool_claim *out, errbuf *e)
{
    if (sp_need_node(sp, e) < 0)
        return SPOOL_ERROR;
    if (rel->node[0] != '\0')
        return err_set(e, "%s@%s is not a released claim", rel->pack, rel->node),
               SPOOL_ERROR;
    char from[SP_PATH_MAX];
    if (claim_name_path(sp, rel, from, e) < 0)
        return SPOOL_ERROR;
    memset(out, 0, sizeof *out);
    snprintf(out->pack, sizeof out->pack, "%s", rel->pack);
    snprintf(out->node, sizeof out->node, "%s", sp->node);
    if (max_attempts < 1)
        max_attempts = 1;
    if (rel->attempt + 1 <= max_attempts) {
        out->attempt = rel->attempt + 1;
        return take(sp, from, out, e);
    }
    /* exhausted: hold it (same attempt number) to move it exclusively */
    out->attempt = rel->attempt < 1 ? 1 : rel->attempt;
    enum spool_outcome oc = take(sp, from, out, e);
    if (oc != SPOOL_WON)
        return oc;
    char t[40], last[SPOOL_REASON_MAX + 100], line[SPOOL_REASON_MAX + 300];
    sp_format_time(now, t, sizeof t);
    history_last(sp, rel->pack, last, sizeof last);
    snprintf(line, sizeof line, "failed at %s on %s: gave up after %d "
             "attempts (max_attempts %d)%s%s\n", t, sp->node, rel->attempt,
             max_attempts, last[0] ? ", last: " : "", last);
    oc = move_to_failed(sp, out, line, now, e);
    return oc == SPOOL_WON ? SPOOL_GAVE_UP : oc;
}

/* ------------------------------------------------------------- release */

/* Renames our claim c to P@+K (not unique: check first, then resolve a
 * lost reply by the source being gone). */
static enum spool_outcome release_to(struct spool *sp,
                                     const struct spool_claim *c, int k,
                                     errbuf *e)
{
    struct spool_claim rel = *c;
    rel.node[0] = '\0';
    rel.attempt = k < 0 ? 0 : k;
    char from[SP_PATH_MAX], to[SP_PATH_MAX];
    if (claim_name_path(sp, c, from, e) < 0 ||
        claim_name_path(sp, &rel, to, e) < 0 || target_free(sp, to, e) < 0)
        return SPOOL_ERROR;
    return sp_rename(sp, from, to, false, e);
}

enum spool_outcome spool_release(struct spool *sp, const struct spool_claim *c,
                                 bool consumed, spool_ns now,
                                 const char *reason, errbuf *e)
{
    if (sp_need_node(sp, e) < 0)
        return SPOOL_ERROR;
    int r = spool_still_ours(sp, c, e);
    if (r <= 0)
        return r < 0 ? SPOOL_ERROR : SPOOL_LOST;
    char why[SPOOL_REASON_MAX];
    snprintf(why, sizeof why, "%s%s", reason ? reason : "released",
             consumed ? "" : " (returned unfinished, not counted)");
    if (spool_history_append(sp, c->pack, c->attempt, c->node, now, why, e) < 0)
        return SPOOL_ERROR;
    return release_to(sp, c, consumed ? c->attempt : c->attempt - 1, e);
}

enum spool_outcome spool_fail(struct spool *sp, const struct spool_claim *c,
                              const char *reason, bool permanent,
                              int max_attempts, spool_ns now,
                              bool *to_failed, errbuf *e)
{
    *to_failed = false;
    if (sp_need_node(sp, e) < 0)
        return SPOOL_ERROR;
    int r = spool_still_ours(sp, c, e);
    if (r <= 0)
        return r < 0 ? SPOOL_ERROR : SPOOL_LOST;
    if (spool_history_append(sp, c->pack, c->attempt, c->node, now, reason, e) < 0)
        return SPOOL_ERROR;
    if (!permanent && c->attempt < max_attempts)
        return release_to(sp, c, c->attempt, e);
    char t[40], why[SPOOL_REASON_MAX], line[SPOOL_REASON_MAX + 200];
    sp_format_time(now, t, sizeof t);
    sp_one_line(reason, why, sizeof why);
    if (permanent)
        snprintf(line, sizeof line, "failed at %s on %s: %s (permanent)\n",
                 t, sp->node, why);
    else
        snprintf(line, sizeof line, "failed at %s on %s: gave up after %d "
                 "attempts (max_attempts %d), last: %s\n", t, sp->node,
                 c->attempt, max_attempts, why);
    enum spool_outcome oc = move_to_failed(sp, c, line, now, e);
    *to_failed = oc == SPOOL_WON;
    return oc;
}

enum spool_outcome spool_reap(struct spool *sp, const struct spool_claim *c,
                              spool_ns hb_age, spool_ns now, errbuf *e)
{
    if (sp_need_node(sp, e) < 0)
        return SPOOL_ERROR;
    if (c->node[0] == '\0' || strcmp(c->node, sp->node) == 0)
        return err_set(e, "refusing to reap %s@%s: released or our own",
                       c->pack, c->node), SPOOL_ERROR;
    char from[SP_PATH_MAX];
    if (claim_name_path(sp, c, from, e) < 0)
        return SPOOL_ERROR;
    struct spool_claim mine = *c;
    snprintf(mine.node, sizeof mine.node, "%s", sp->node);
    enum spool_outcome oc = take(sp, from, &mine, e);
    if (oc != SPOOL_WON)
        return oc;
    char why[128];
    if (hb_age < 0)
        snprintf(why, sizeof why, "lease expired (no heartbeat), reaped by %s",
                 sp->node);
    else
        snprintf(why, sizeof why, "lease expired (heartbeat age %lld s), "
                 "reaped by %s", (long long)(hb_age / SPOOL_NS_PER_S), sp->node);
    if (spool_history_append(sp, c->pack, c->attempt, c->node, now, why, e) < 0)
        return SPOOL_ERROR;
    oc = release_to(sp, &mine, c->attempt, e);
    return oc == SPOOL_LOST ? SPOOL_ERROR : oc;
}

enum spool_outcome spool_reject(struct spool *sp, const char *pack,
                                const char *reason, spool_ns now, errbuf *e)
{
    if (sp_need_node(sp, e) < 0)
        return SPOOL_ERROR;
    char from[SP_PATH_MAX], to[SP_PATH_MAX], name[256], errp[SP_PATH_MAX];
    if (sp_path(sp, "incoming", pack, from, e) < 0 ||
        unique_dest(sp, "failed", pack, now, name, to, e) < 0)
        return SPOOL_ERROR;
    enum spool_outcome oc = sp_rename(sp, from, to, false, e);
    if (oc != SPOOL_WON)
        return oc;
    if (strlen(name) + 4 > 255)
        return SPOOL_WON;   /* no room for a sidecar name: the caller logs */
    char line[SPOOL_REASON_MAX + 200], t[40], why[SPOOL_REASON_MAX];
    sp_format_time(now, t, sizeof t);
    sp_one_line(reason, why, sizeof why);
    snprintf(line, sizeof line, "failed at %s on %s: %s (rejected, never "
             "claimed)\n", t, sp->node, why);
    if (sp_path(sp, "failed", name, errp, e) < 0)
        return SPOOL_ERROR;
    strcat(errp, ".err");
    return write_via_tmp(sp, "failerr", errp, line, e) < 0 ? SPOOL_ERROR
                                                           : SPOOL_WON;
}

/* ------------------------------------------------------------- listing */

static int cmp_claim(const void *a, const void *b)
{
    const struct spool_claim *x = a, *y = b;
    bool rx = x->node[0] == '\0', ry = y->node[0] == '\0';
    if (rx != ry)
        return rx ? -1 : 1;
    return x->mtime < y->mtime ? -1 : x->mtime > y->mtime;
}

/* Fills is_dir, bytes, mtime of claim c at PATH.  0, 1 = vanished, -1. */
static int claim_stat(struct spool *sp, const char *path, struct spool_claim *c,
                      errbuf *e)
{
    struct stat st;
    if (sp_lstat(sp, path, &st) < 0)
        return errno == ENOENT ? 1 : err_errno(e, errno, "lstat %s", path);
    c->is_dir = S_ISDIR(st.st_mode);
    c->mtime = spool_ns_mtime(&st);
    c->bytes = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
    if (!c->is_dir)
        return 0;
    char **names;
    size_t n;
    if (sp_listdir(sp, path, &names, &n, e) < 0)
        return errno == ENOENT ? 1 : -1;
    for (size_t i = 0; i < n; i++) {
        char sub[SP_PATH_MAX];
        if ((size_t)snprintf(sub, sizeof sub, "%s/%s", path, names[i]) < sizeof sub &&
            sp_lstat(sp, sub, &st) == 0 && S_ISREG(st.st_mode))
            c->bytes += (uint64_t)st.st_size;
    }
    sp_free_names(names, n);
    return 0;
}

/* If NAME is a history sidecar ".P.err", appends P to out->sidecars
 * (room for CAP names).  Other hidden names are left alone. */
static int keep_sidecar(struct spool_claims *out, const char *name,
                        size_t cap, errbuf *e)
{
    size_t len = strlen(name);
    if (len < 6 || strcmp(name + len - 4, ".err") != 0 || name[1] == '.' ||
        len - 5 > SPOOL_PACK_MAX)
        return 0;
    if (out->sidecars == NULL &&
        (out->sidecars = calloc(cap, sizeof *out->sidecars)) == NULL)
        return err_set(e, "out of memory");
    char *pack = strndup(name + 1, len - 5);
    if (pack == NULL)
        return err_set(e, "out of memory");
    out->sidecars[out->n_sidecars++] = pack;
    return 0;
}

/*
 * spool_list_claims — every claim name in claimed/, released ones first,
 * then oldest first (mtime: a rename keeps the pack's own mtime, so this
 * is roughly the order scanners dropped them).
 */
int spool_list_claims(struct spool *sp, struct spool_claims *out, errbuf *e)
{
    memset(out, 0, sizeof *out);
    char dir[SP_PATH_MAX];
    char **names;
    size_t n;
    if (sp_path(sp, "claimed", NULL, dir, e) < 0 || sp_listdir(sp, dir, &names, &n, e) < 0)
        return -1;
    out->v = calloc(n ? n : 1, sizeof *out->v);
    int rc = out->v ? 0 : err_set(e, "out of memory");
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct spool_claim *c = &out->v[out->n];
        char path[SP_PATH_MAX];
        if (spool_claim_parse(names[i], c) < 0) {
            if (names[i][0] != '.')
                out->n_other++;
            else
                rc = keep_sidecar(out, names[i], n, e);
            continue;
        }
        rc = sp_path(sp, "claimed", names[i], path, e);
        if (rc == 0) {
            int r = claim_stat(sp, path, c, e);
            rc = r < 0 ? -1 : 0;
            if (r == 0)
                out->n++;
        }
    }
    sp_free_names(names, n);
    if (rc < 0) {
        spool_claims_free(out);
        return -1;
    }
    qsort(out->v, out->n, sizeof *out->v, cmp_claim);
    return 0;
}

void spool_claims_free(struct spool_claims *claims)
{
    for (size_t i = 0; i < claims->n_sidecars; i++)
        free(claims->sidecars[i]);
    free(claims->sidecars);
    free(claims->v);
    memset(claims, 0, sizeof *claims);
}
