/*
 * spoolscan.c — judging the packs in incoming/: is a scanner still writing
 * (size, mtime, member list changing), has it been quiet for `settle`
 * seconds of server time, does the pack parse completely?  The scan state
 * (what the previous scan saw, cached parse results) is owned by the
 * caller; no globals.
 */
#include "spoolint.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What one scan saw of one pack; kept until the next scan. */
struct scan_ent {
    struct spool_pack pub;
    uint64_t sig;           /* hash of sizes, mtimes and member names */
    bool parsed;            /* parse result cached for this sig */
    bool parse_ok;
    bool parse_transient;   /* failed on an I/O error of the mount, not
                               of the pack: parse again next scan */
    char parse_why[200];
    char broken_why[200];   /* structural: symlink, nested dir... */
};

struct spool_scan {
    struct scan_ent *v;     /* sorted by name (previous scan) */
    size_t n;
    struct scan_ent *out;   /* this scan, sorted by order */
    size_t n_out;
};

struct spool_scan *spool_scan_new(void)
{
    return calloc(1, sizeof(struct spool_scan));
}

static void free_ents(struct scan_ent *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].pub.name);
    free(v);
}

void spool_scan_free(struct spool_scan *st)
{
    if (st == NULL)
        return;
    free_ents(st->v, st->n);
    free(st->out);
    free(st);
}

size_t spool_scan_count(const struct spool_scan *st) { return st->n_out; }

const struct spool_pack *spool_scan_get(const struct spool_scan *st, size_t i)
{
    return i < st->n_out ? &st->out[i].pub : NULL;
}

const char *spool_readiness_name(enum spool_readiness r)
{
    static const char *const names[] = {
        "changing", "settling", "incomplete", "ready", "broken", "reject",
    };
    return (unsigned)r < sizeof names / sizeof *names ? names[r] : "?";
}

static uint64_t mix(uint64_t h, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        h ^= (v >> (8 * i)) & 0xff;
        h *= UINT64_C(1099511628211);
    }
    return h;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Signature of a directory pack: member names, types, sizes, mtimes. */
static int dir_signature(struct spool *sp, const char *path,
                         struct scan_ent *ent, errbuf *e)
{
    char **names;
    size_t n;
    if (sp_listdir(sp, path, &names, &n, e) < 0)
        return -1;
    qsort(names, n, sizeof *names, cmp_str);
    ent->pub.members = 0;
    for (size_t i = 0; i < n; i++) {
        char sub[SP_PATH_MAX];
        struct stat st;
        if ((size_t)snprintf(sub, sizeof sub, "%s/%s", path, names[i]) >= sizeof sub)
            continue;
        ent->sig = mix(sp_hash(ent->sig, names[i]), 0);
        if (sp_lstat(sp, sub, &st) < 0) {
            ent->sig = mix(ent->sig, (uint64_t)errno);  /* vanished: changing */
            continue;
        }
        ent->sig = mix(mix(mix(ent->sig, st.st_mode), (uint64_t)st.st_size),
                       (uint64_t)spool_ns_mtime(&st));
        if (spool_ns_mtime(&st) > ent->pub.newest_mtime)
            ent->pub.newest_mtime = spool_ns_mtime(&st);
        if (spool_name_ignored(names[i]))
            continue;
        if (S_ISDIR(st.st_mode) && ent->broken_why[0] == '\0')
            snprintf(ent->broken_why, sizeof ent->broken_why,
                     "nested directory \"%s\" in a directory pack", names[i]);
        else if (!S_ISREG(st.st_mode) && ent->broken_why[0] == '\0')
            snprintf(ent->broken_why, sizeof ent->broken_why,
                     "member \"%s\" is not a regular file", names[i]);
        ent->pub.bytes += (uint64_t)st.st_size;
        ent->pub.members++;
    }
    sp_free_names(names, n);
    return 0;
}

/* Looks at incoming/NAME now: fills sig, sizes, newest mtime, structural
 * problems.  1 = entry made, 0 = vanished meanwhile, -1 = error. */
static int observe(struct spool *sp, const char *name, struct scan_ent *ent,
                   errbuf *e)
{
    char path[SP_PATH_MAX];
    struct stat st;
    if (sp_path(sp, "incoming", name, path, e) < 0)
        return -1;
    if (sp_lstat(sp, path, &st) < 0)
        return errno == ENOENT ? 0 : err_errno(e, errno, "lstat %s", path);
    ent->sig = mix(mix(mix(SP_HASH_INIT, st.st_mode), (uint64_t)st.st_size),
                   (uint64_t)spool_ns_mtime(&st));
    ent->pub.newest_mtime = spool_ns_mtime(&st);
    ent->pub.is_dir = S_ISDIR(st.st_mode);
    ent->pub.members = 1;
    ent->pub.pages = -1;
    if (S_ISREG(st.st_mode))
        ent->pub.bytes = (uint64_t)st.st_size;
    else if (S_ISDIR(st.st_mode)) {
        if (dir_signature(sp, path, ent, e) < 0)
            return errno == ENOENT ? 0 : -1;
    } else
        snprintf(ent->broken_why, sizeof ent->broken_why,
                 "not a regular file or directory (symlink, FIFO or device)");
    return 1;
}

/* True if a parse failure is about the file system rather than the pack
 * (spool_msg_mount_error: a mount gone, stale or cut off) or about this
 * node (memory, an interrupted call).  Such a failure says nothing about
 * the pack, so it must never count towards `broken_after` (a good pack
 * would be sent to failed/ by an outage: the fault harness saw it). */
static bool parse_failure_transient(const char *why)
{
    static const int also[] = { ENOMEM, EAGAIN, EINTR };    /* ours */
    return spool_msg_mount_error(why) ||
           spool_msg_names(why, also, sizeof also / sizeof also[0]);
}

/* Parse check of a pack (every member of a directory, in name order). */
static void parse_pack(struct spool *sp, struct scan_ent *ent)
{
    char path[SP_PATH_MAX];
    errbuf e;
    ent->parsed = true;
    ent->parse_ok = false;
    ent->parse_transient = false;
    if (sp_path(sp, "incoming", ent->pub.name, path, &e) < 0)
        goto fail;
    int pages;
    uint64_t px;
    if (!ent->pub.is_dir) {
        if (spool_check_image(sp, path, &pages, &px, &e) < 0)
            goto fail;
        ent->pub.pages = pages;
        ent->pub.max_page_pixels = px;
        ent->parse_ok = true;
        return;
    }
    char **names;
    size_t n;
    if (sp_listdir(sp, path, &names, &n, &e) < 0)
        goto fail;
    qsort(names, n, sizeof *names, cmp_str);
    int total = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char sub[SP_PATH_MAX];
        if (spool_name_ignored(names[i]))
            continue;
        if ((size_t)snprintf(sub, sizeof sub, "%s/%s", path, names[i]) >= sizeof sub)
            rc = err_set(&e, "path too long");
        else if ((rc = spool_check_image(sp, sub, &pages, &px, &e)) < 0)
            err_prefix(&e, "member \"%s\"", names[i]);
        else {
            total += pages;
            if (px > ent->pub.max_page_pixels)
                ent->pub.max_page_pixels = px;
        }
    }
    sp_free_names(names, n);
    if (rc == 0 && total == 0)
        rc = err_set(&e, "directory pack without pages");
    if (rc < 0)
        goto fail;
    ent->pub.pages = total;
    ent->parse_ok = true;
    return;
fail:
    snprintf(ent->parse_why, sizeof ent->parse_why, "%s", e.msg);
    if (parse_failure_transient(e.msg)) {
        ent->parse_transient = true;
        ent->parsed = false;            /* not cached: read again */
    }
}

static void judge_parsed(struct scan_ent *ent, spool_ns quiet,
                         const struct spool_scan_opts *o);

/* The readiness rules, given the previous observation (NULL = none). */
static void judge(struct spool *sp, struct scan_ent *ent,
                  const struct scan_ent *prev, spool_ns now,
                  const struct spool_scan_opts *o)
{
    struct spool_pack *p = &ent->pub;
    if (prev == NULL || prev->sig != ent->sig) {
        p->state = SPOOL_CHANGING;
        return;
    }
    ent->parsed = prev->parsed;
    ent->parse_ok = prev->parse_ok;
    memcpy(ent->parse_why, prev->parse_why, sizeof ent->parse_why);
    if (prev->parsed) {
        p->pages = prev->pub.pages;
        p->max_page_pixels = prev->pub.max_page_pixels;
    }
    spool_ns quiet = now - p->newest_mtime;
    if (quiet < spool_ns_from_s(o->settle_s)) {
        p->state = SPOOL_SETTLING;
        return;
    }
    if (strlen(p->name) > SPOOL_PACK_MAX) {
        p->state = SPOOL_REJECT;
        snprintf(p->why, sizeof p->why, "name longer than %d bytes", SPOOL_PACK_MAX);
        return;
    }
    if (ent->broken_why[0]) {
        p->state = SPOOL_BROKEN;
        memcpy(p->why, ent->broken_why, sizeof p->why);
        return;
    }
    if (o->no_parse) {
        p->state = SPOOL_READY;
        return;
    }
    if (!ent->parsed && o->lazy_parse) {
        p->state = SPOOL_READY;
        p->parse_pending = true;
        return;
    }
    if (!ent->parsed)
        parse_pack(sp, ent);
    judge_parsed(ent, quiet, o);
}

/* The last rule: parses (READY), or not yet / never (INCOMPLETE, BROKEN
 * after broken_after of quiet). */
static void judge_parsed(struct scan_ent *ent, spool_ns quiet,
                         const struct spool_scan_opts *o)
{
    struct spool_pack *p = &ent->pub;
    if (ent->parse_ok) {
        p->state = SPOOL_READY;
        return;
    }
    double broken = o->broken_after_s > 0 ? o->broken_after_s
                  : (10 * o->settle_s > 300 ? 10 * o->settle_s : 300);
    p->state = !ent->parse_transient && quiet >= spool_ns_from_s(broken)
               ? SPOOL_BROKEN : SPOOL_INCOMPLETE;
    memcpy(p->why, ent->parse_why, sizeof p->why);
}

static int cmp_ent_name(const void *a, const void *b)
{
    return strcmp(((const struct scan_ent *)a)->pub.name,
                  ((const struct scan_ent *)b)->pub.name);
}

static int cmp_ent_order(const void *a, const void *b)
{
    uint64_t x = ((const struct scan_ent *)a)->pub.order;
    uint64_t y = ((const struct scan_ent *)b)->pub.order;
    return x < y ? -1 : x > y;
}

static const struct scan_ent *find_prev(const struct spool_scan *st,
                                        const char *name)
{
    struct scan_ent key = { .pub.name = (char *)name };
    return st->v ? bsearch(&key, st->v, st->n, sizeof key, cmp_ent_name) : NULL;
}

void spool_scan_parse(struct spool *sp, struct spool_scan *st, size_t i,
                      spool_ns now, const struct spool_scan_opts *o)
{
    if (i >= st->n_out || !st->out[i].pub.parse_pending)
        return;
    struct scan_ent *ent = &st->out[i];
    ent->pub.parse_pending = false;
    parse_pack(sp, ent);
    judge_parsed(ent, now - ent->pub.newest_mtime, o);
    /* the next scan finds the result in its previous observation */
    struct scan_ent key = { .pub.name = ent->pub.name };
    struct scan_ent *prev = st->v ? bsearch(&key, st->v, st->n, sizeof key,
                                            cmp_ent_name) : NULL;
    if (prev != NULL) {
        prev->parsed = ent->parsed;
        prev->parse_ok = ent->parse_ok;
        memcpy(prev->parse_why, ent->parse_why, sizeof prev->parse_why);
        prev->pub.pages = ent->pub.pages;
        prev->pub.max_page_pixels = ent->pub.max_page_pixels;
    }
}

/*
 * spool_scan_incoming — one scan of incoming/ (rules in spool.h).
 *
 * Cost: one listing and one lstat per pack (plus one listing and one lstat
 * per member of a directory pack); the parse check reads headers only and
 * runs once per unchanged state of a pack.  The previous scan is kept
 * sorted by name for lookup; this scan's result is sorted by `order`.
 */
int spool_scan_incoming(struct spool *sp, struct spool_scan *st, spool_ns now,
                        const struct spool_scan_opts *o, errbuf *e)
{
    char dir[SP_PATH_MAX];
    char **names;
    size_t n;
    if (sp_path(sp, "incoming", NULL, dir, e) < 0 ||
        sp_listdir(sp, dir, &names, &n, e) < 0)
        return -1;
    struct scan_ent *cur = calloc(n ? n : 1, sizeof *cur);
    struct scan_ent *out = calloc(n ? n : 1, sizeof *out);
    size_t k = 0;
    int rc = cur && out ? 0 : err_set(e, "out of memory");
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (spool_name_ignored(names[i]))
            continue;
        struct scan_ent *ent = &cur[k];
        ent->pub.name = names[i];
        int r = observe(sp, names[i], ent, e);
        if (r < 0) {
            err_prefix(e, "scanning incoming");
            rc = -1;
        } else if (r > 0) {
            names[i] = NULL;            /* now owned by cur */
            ent->pub.order = sp_hash(sp_hash(SP_HASH_INIT, sp->node), ent->pub.name);
            judge(sp, ent, find_prev(st, ent->pub.name), now, o);
            k++;
        } else {
            memset(ent, 0, sizeof *ent);
        }
    }
    sp_free_names(names, n);
    if (rc < 0) {
        free_ents(cur, k);
        free(out);
        return -1;
    }
    qsort(cur, k, sizeof *cur, cmp_ent_name);
    memcpy(out, cur, k * sizeof *cur);
    qsort(out, k, sizeof *out, cmp_ent_order);
    free_ents(st->v, st->n);
    free(st->out);
    st->v = cur;
    st->n = k;
    st->out = out;
    st->n_out = k;
    return 0;
}
