/*
 * spoolpub.c — the end of a successful attempt: where the worker writes
 * its results (temp names in SPOOL/tmp, or hidden names in OUTPUT when
 * OUTPUT is another file system), fencing, the atomic publish into OUTPUT
 * (.json first, then .tif: the .tif appearing means complete), moving the
 * source to done/ or removing it, and cleaning this node's temp names.
 */
#include "spoolint.h"
#include "jsonstr.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fits(int n, size_t cap)
{
    return n >= 0 && (size_t)n < cap;
}

int spool_output_paths(struct spool *sp, const char *outdir,
                       const struct spool_claim *c, struct spool_output *o,
                       errbuf *e)
{
    memset(o, 0, sizeof *o);
    if (sp_need_node(sp, e) < 0)
        return -1;
    char out[SP_PATH_MAX], tmpdir[SP_PATH_MAX], claim[SP_PATH_MAX];
    if (outdir)
        snprintf(out, sizeof out, "%s", outdir);
    else if (sp_path(sp, "out", NULL, out, e) < 0)
        return -1;
    if (sp_path(sp, "tmp", NULL, tmpdir, e) < 0 ||
        spool_claim_path(sp, c, claim, sizeof claim, e) < 0)
        return -1;
    struct stat st_out, st_tmp, st_claim;
    if (sp_lstat(sp, out, &st_out) < 0)
        return err_errno(e, errno, "output directory %s", out);
    if (sp_lstat(sp, tmpdir, &st_tmp) < 0)
        return err_errno(e, errno, "lstat %s", tmpdir);
    bool is_dir = c->is_dir;
    if (sp_lstat(sp, claim, &st_claim) == 0)
        is_dir = S_ISDIR(st_claim.st_mode);
    if (spool_output_base(c->pack, is_dir, o->base, sizeof o->base) < 0)
        return err_set(e, "pack \"%s\" has no usable output name", c->pack);
    bool ok = fits(snprintf(o->final_tif, sizeof o->final_tif, "%s/%s.tif", out, o->base), sizeof o->final_tif) &&
              fits(snprintf(o->final_json, sizeof o->final_json, "%s/%s.json", out, o->base), sizeof o->final_json);
    if (st_out.st_dev == st_tmp.st_dev) {
        uint64_t h = sp_hash(SP_HASH_INIT, c->pack);
        ok = ok && fits(snprintf(o->tmp_tif, sizeof o->tmp_tif, "%s/.%s@%016" PRIx64 ".%d.tif",
                                 tmpdir, sp->node, h, c->attempt), sizeof o->tmp_tif) &&
             fits(snprintf(o->tmp_json, sizeof o->tmp_json, "%s/.%s@%016" PRIx64 ".%d.json",
                           tmpdir, sp->node, h, c->attempt), sizeof o->tmp_json);
    } else {
        /* hidden and node-private like tmp/'s: spool_clean_output finds
         * what a killed worker left here by the ".NODE@" prefix */
        uint64_t h = sp_hash(SP_HASH_INIT, c->pack);
        ok = ok && fits(snprintf(o->tmp_tif, sizeof o->tmp_tif, "%s/.%s@%016" PRIx64 ".%d.tif.tmp",
                                 out, sp->node, h, c->attempt), sizeof o->tmp_tif) &&
             fits(snprintf(o->tmp_json, sizeof o->tmp_json, "%s/.%s@%016" PRIx64 ".%d.json.tmp",
                           out, sp->node, h, c->attempt), sizeof o->tmp_json);
    }
    if (!ok || strlen(o->base) + SPOOL_NODE_MAX + 12 > 255)
        return err_set(e, "output path too long for pack \"%s\"", c->pack);
    if (json_report_head(c->pack, o->report_head, sizeof o->report_head) < 0)
        return err_set(e, "pack name \"%s\" too long for its report", c->pack);
    return 0;
}

int spool_remove_temps(struct spool *sp, const struct spool_output *o)
{
    int rc = 0;
    if (sp->ops->unlink(sp->ctx, o->tmp_json) < 0 && errno != ENOENT)
        rc = -1;
    if (sp->ops->unlink(sp->ctx, o->tmp_tif) < 0 && errno != ENOENT)
        rc = -1;
    return rc;
}

/* Temp renamed onto the final name: private source, so a lost reply shows
 * as the source gone and the target present. */
static int publish_one(struct spool *sp, const char *tmp, const char *final,
                       errbuf *e)
{
    enum spool_outcome oc = sp_rename(sp, tmp, final, false, e);
    if (oc == SPOOL_LOST)
        return err_set(e, "%s vanished before publishing", tmp);
    return oc == SPOOL_WON ? 0 : -1;
}

/* 1 if publishing o replaces nothing or only this pack's own earlier
 * result, 0 if final_tif holds another pack's (e says which name clashes),
 * -1 on an I/O error (retry later).  The .tif is published only after its
 * .json, so a .tif whose .json is missing or is not a regular file is not
 * this pack's.  One lstat when the name is free (the usual case). */
static int output_is_ours(struct spool *sp, const struct spool_output *o,
                          errbuf *e)
{
    int r = sp_exists(sp, o->final_tif);
    if (r <= 0)
        return r < 0 ? err_errno(e, errno, "lstat %s", o->final_tif) : 1;
    char *head;
    size_t n, want = strlen(o->report_head);
    if (sp_read_head(sp, o->final_json, want, &head, &n, e) < 0) {
        if (errno != ENOENT && errno != ELOOP && errno != EINVAL)
            return -1;
    } else {
        bool ours = n == want && memcmp(head, o->report_head, want) == 0;
        free(head);
        if (ours)
            return 1;
    }
    err_set(e, "output name %s is taken by another pack's result (names "
            "that differ only in .tif/.tiff, or a file and a directory of "
            "the same name): rename this pack and requeue it", o->final_tif);
    return 0;
}

/* Moves the source out of claimed/: to done/ (unique name), or into tmp/
 * and removed there (a half-removed pack must never look claimable). */
static int retire_source(struct spool *sp, const struct spool_claim *c,
                         const char *claim, bool keep_done, spool_ns now,
                         errbuf *e)
{
    char to[SP_PATH_MAX];
    if (keep_done) {
        char name[256];
        snprintf(name, sizeof name, "%s", c->pack);
        if (sp_path(sp, "done", name, to, e) < 0)
            return -1;
        int r = sp_exists(sp, to);
        if (r < 0)
            return err_errno(e, errno, "lstat %s", to);
        if (r > 0) {
            snprintf(name, sizeof name, "%s.%lld.%s", c->pack,
                     (long long)(now / SPOOL_NS_PER_S), sp->node);
            if (sp_path(sp, "done", name, to, e) < 0)
                return -1;
        }
    } else {
        char name[SPOOL_NODE_MAX + 40];
        snprintf(name, sizeof name, ".%s@trash.%016" PRIx64 ".%d", sp->node,
                 sp_hash(SP_HASH_INIT, c->pack), c->attempt);
        if (sp_path(sp, "tmp", name, to, e) < 0)
            return -1;
    }
    enum spool_outcome oc = sp_rename(sp, claim, to, false, e);
    if (oc == SPOOL_LOST)
        return err_set(e, "%s vanished after publishing", claim);
    if (oc != SPOOL_WON)
        return -1;
    return keep_done ? 0 : sp_remove_tree(sp, to, e);
}

enum spool_outcome spool_publish(struct spool *sp, const struct spool_claim *c,
                                 const struct spool_output *o, bool keep_done,
                                 spool_ns now, errbuf *e)
{
    if (sp_need_node(sp, e) < 0)
        return SPOOL_ERROR;
    char claim[SP_PATH_MAX];
    if (spool_claim_path(sp, c, claim, sizeof claim, e) < 0)
        return SPOOL_ERROR;
    int r = spool_still_ours(sp, c, e);
    if (r < 0)
        return SPOOL_ERROR;
    if (r == 0) {
        spool_remove_temps(sp, o);  /* what stays: the caller's clean-up */
        return SPOOL_FENCED;
    }
    r = output_is_ours(sp, o, e);
    if (r <= 0)
        return r < 0 ? SPOOL_ERROR : SPOOL_TAKEN;
    if (publish_one(sp, o->tmp_json, o->final_json, e) < 0 ||
        publish_one(sp, o->tmp_tif, o->final_tif, e) < 0 ||
        retire_source(sp, c, claim, keep_done, now, e) < 0)
        return SPOOL_ERROR;
    char name[SPOOL_PACK_MAX + 8], hist[SP_PATH_MAX];
    snprintf(name, sizeof name, ".%s.err", c->pack);
    if (sp_path(sp, "claimed", name, hist, e) < 0)
        return SPOOL_ERROR;
    if (sp->ops->unlink(sp->ctx, hist) < 0 && errno != ENOENT)
        return err_errno(e, errno, "unlink %s", hist), SPOOL_ERROR;
    return SPOOL_WON;
}

/* Removes every entry of DIR whose name starts with ".NODE@" (ours). */
static int clean_own(struct spool *sp, const char *dir, errbuf *e)
{
    char prefix[SPOOL_NODE_MAX + 3];
    char **names;
    size_t n;
    if (sp_listdir(sp, dir, &names, &n, e) < 0)
        return -1;
    int len = snprintf(prefix, sizeof prefix, ".%s@", sp->node);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (strncmp(names[i], prefix, (size_t)len) != 0)
            continue;
        char path[SP_PATH_MAX];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, names[i]) >= sizeof path)
            rc = err_set(e, "path too long in %s", dir);
        else
            rc = sp_remove_tree(sp, path, e);
    }
    sp_free_names(names, n);
    return rc;
}

int spool_clean_output(struct spool *sp, const char *outdir, errbuf *e)
{
    if (sp_need_node(sp, e) < 0)
        return -1;
    char out[SP_PATH_MAX];
    if (outdir)
        snprintf(out, sizeof out, "%s", outdir);
    else if (sp_path(sp, "out", NULL, out, e) < 0)
        return -1;
    return clean_own(sp, out, e);
}

int spool_clean_tmp(struct spool *sp, errbuf *e)
{
    if (sp_need_node(sp, e) < 0)
        return -1;
    char dir[SP_PATH_MAX];
    if (sp_path(sp, "tmp", NULL, dir, e) < 0)
        return -1;
    return clean_own(sp, dir, e);
}
