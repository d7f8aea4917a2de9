/*
 * spoolstatus.c — the read side for `spoolctl status`: counts of packs per
 * state, the oldest waiting pack, every node with its heartbeat age in
 * server time and liveness, the failed packs with their reason, and a
 * backlog estimate (pages from bytes, rate from the nodes' heartbeats).
 */
#include "spoolint.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_BYTES_PER_PAGE 50000.0  /* a G4 A4 300-dpi scan, roughly */

static uint64_t tree_bytes(struct spool *sp, const char *path,
                           const struct stat *st, spool_ns *newest)
{
    *newest = spool_ns_mtime(st);
    if (!S_ISDIR(st->st_mode))
        return S_ISREG(st->st_mode) ? (uint64_t)st->st_size : 0;
    char **names;
    size_t n;
    errbuf e;
    uint64_t sum = 0;
    if (sp_listdir(sp, path, &names, &n, &e) < 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char sub[SP_PATH_MAX];
        struct stat ms;
        if ((size_t)snprintf(sub, sizeof sub, "%s/%s", path, names[i]) < sizeof sub &&
            sp_lstat(sp, sub, &ms) == 0 && S_ISREG(ms.st_mode)) {
            sum += (uint64_t)ms.st_size;
            if (spool_ns_mtime(&ms) > *newest)
                *newest = spool_ns_mtime(&ms);
        }
    }
    sp_free_names(names, n);
    return sum;
}

static int cmp_age_desc(const void *a, const void *b)
{
    const struct spool_status_pack *x = a, *y = b;
    return x->age > y->age ? -1 : x->age < y->age;
}

/* Lists DIR: entries (not ignored) with bytes and ages into *v. */
static int read_dir_packs(struct spool *sp, const char *dir, spool_ns now,
                          struct spool_status_pack **v, size_t *n, errbuf *e)
{
    char path[SP_PATH_MAX];
    char **names;
    size_t cnt;
    *v = NULL;
    *n = 0;
    if (sp_path(sp, dir, NULL, path, e) < 0 || sp_listdir(sp, path, &names, &cnt, e) < 0)
        return -1;
    *v = calloc(cnt ? cnt : 1, sizeof **v);
    if (*v == NULL) {
        sp_free_names(names, cnt);
        return err_set(e, "out of memory");
    }
    for (size_t i = 0; i < cnt; i++) {
        struct stat st;
        char p[SP_PATH_MAX];
        if (spool_name_ignored(names[i]) || sp_path(sp, dir, names[i], p, e) < 0 ||
            sp_lstat(sp, p, &st) < 0)
            continue;
        struct spool_status_pack *sp1 = &(*v)[(*n)++];
        spool_ns newest;
        sp1->bytes = tree_bytes(sp, p, &st, &newest);
        sp1->is_dir = S_ISDIR(st.st_mode);
        sp1->age = now - newest;
        sp1->name = names[i];
        names[i] = NULL;
    }
    sp_free_names(names, cnt);
    return 0;
}

static void free_packs(struct spool_status_pack *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].name);
        free(v[i].reason);
    }
    free(v);
}

/* failed/: a NAME.err whose NAME is present is a sidecar; the last
 * non-empty line of it is the pack's reason. */
static void failed_reasons(struct spool *sp, struct spool_status *st)
{
    size_t k = 0;
    for (size_t i = 0; i < st->n_failed; i++) {
        struct spool_status_pack *p = &st->failed[i];
        size_t len = strlen(p->name);
        bool sidecar = false;
        if (len > 4 && strcmp(p->name + len - 4, ".err") == 0)
            for (size_t j = 0; j < st->n_failed && !sidecar; j++)
                sidecar = strlen(st->failed[j].name) == len - 4 &&
                          memcmp(st->failed[j].name, p->name, len - 4) == 0;
        if (sidecar) {
            free(p->name);
            continue;
        }
        st->failed[k++] = *p;
    }
    st->n_failed = k;
    for (size_t i = 0; i < st->n_failed; i++) {
        char path[SP_PATH_MAX], name[300], *text;
        errbuf e;
        snprintf(name, sizeof name, "%s.err", st->failed[i].name);
        if (sp_path(sp, "failed", name, path, &e) < 0 ||
            sp_read_file(sp, path, 1 << 20, &text, NULL, &e) < 0)
            continue;
        size_t n = strlen(text);
        while (n > 0 && text[n - 1] == '\n')
            text[--n] = '\0';
        char *last = strrchr(text, '\n');
        st->failed[i].reason = strdup(last ? last + 1 : text);
        free(text);
    }
}

static struct spool_status_node *node_slot(struct spool_status *st,
                                           const char *name)
{
    for (size_t i = 0; i < st->n_nodes; i++)
        if (strcmp(st->nodes[i].info.name, name) == 0)
            return &st->nodes[i];
    return NULL;
}

/* claimed/ into working and waiting, counting claims per node; nodes that
 * hold claims without a heartbeat are added (dead). */
static int read_claims(struct spool *sp, struct spool_status *st, errbuf *e)
{
    struct spool_claims cl;
    if (spool_list_claims(sp, &cl, e) < 0)
        return -1;
    st->n_other = cl.n_other;
    st->working = calloc(cl.n + 1, sizeof *st->working);
    st->waiting = calloc(cl.n + 1, sizeof *st->waiting);
    struct spool_status_node *nn = realloc(st->nodes, (st->n_nodes + cl.n + 1) * sizeof *nn);
    if (st->working == NULL || st->waiting == NULL || nn == NULL) {
        if (nn)
            st->nodes = nn;
        spool_claims_free(&cl);
        return err_set(e, "out of memory");
    }
    st->nodes = nn;
    for (size_t i = 0; i < cl.n; i++) {
        const struct spool_claim *c = &cl.v[i];
        bool held = c->node[0] != '\0';
        struct spool_status_pack *p = held ? &st->working[st->n_working++]
                                           : &st->waiting[st->n_waiting++];
        p->name = strdup(c->pack);
        p->is_dir = c->is_dir;
        p->bytes = c->bytes;
        p->age = st->now - c->mtime;
        p->attempt = c->attempt;
        memcpy(p->node, c->node, sizeof p->node);
        if (!held)
            continue;
        struct spool_status_node *sn = node_slot(st, c->node);
        if (sn == NULL) {
            sn = &st->nodes[st->n_nodes++];
            memset(sn, 0, sizeof *sn);
            memcpy(sn->info.name, c->node, sizeof sn->info.name);
            sn->dead = true;
            sn->age = -1;
        }
        sn->claims++;
    }
    spool_claims_free(&cl);
    qsort(st->waiting, st->n_waiting, sizeof *st->waiting, cmp_age_desc);
    return 0;
}

/* Server now: a probe file; failing that (read-only), the newest
 * heartbeat. */
static void find_now(struct spool *sp, const struct spool_nodes *nodes,
                     struct spool_status *st)
{
    errbuf e;
    st->now_ok = spool_server_now(sp, &st->now, &e) == 0;
    if (st->now_ok)
        return;
    st->now = 0;
    for (size_t i = 0; i < nodes->n; i++)
        if (nodes->v[i].mtime > st->now)
            st->now = nodes->v[i].mtime;
}

static void estimate(struct spool_status *st)
{
    uint64_t bytes = 0, pages = 0;
    for (size_t i = 0; i < st->n_nodes; i++) {
        const struct spool_status_node *n = &st->nodes[i];
        if (n->has_hb && n->info.hb_ok) {
            bytes += n->info.hb.bytes_done;
            pages += n->info.hb.pages_done;
            if (!n->dead)
                st->pages_per_min += n->info.hb.pages_per_min;
        }
    }
    st->bytes_per_page = pages > 0 && bytes > 0 ? (double)bytes / (double)pages
                                                : DEFAULT_BYTES_PER_PAGE;
    st->backlog_bytes = 0;
    for (size_t i = 0; i < st->n_incoming; i++)
        st->backlog_bytes += st->incoming[i].bytes;
    for (size_t i = 0; i < st->n_waiting; i++)
        st->backlog_bytes += st->waiting[i].bytes;
    for (size_t i = 0; i < st->n_working; i++)
        st->backlog_bytes += st->working[i].bytes;
    st->backlog_pages = (double)st->backlog_bytes / st->bytes_per_page;
    st->eta_s = st->backlog_bytes == 0 ? 0
              : st->pages_per_min > 0 ? st->backlog_pages / st->pages_per_min * 60
              : -1;
}

static int read_nodes(struct spool *sp, const struct spool_status_opts *o,
                      struct spool_nodes *nodes, struct spool_status *st,
                      errbuf *e)
{
    st->nodes = calloc(nodes->n + 1, sizeof *st->nodes);
    if (st->nodes == NULL)
        return err_set(e, "out of memory");
    for (size_t i = 0; i < nodes->n; i++) {
        struct spool_status_node *sn = &st->nodes[st->n_nodes++];
        sn->info = nodes->v[i];
        sn->has_hb = true;
        sn->lease_s = o->lease_s > 0 ? o->lease_s
                    : sn->info.hb_ok && sn->info.hb.lease_s > 0 ? sn->info.hb.lease_s
                    : 60;
        sn->dead = spool_node_dead(true, sn->info.mtime, st->now,
                                   spool_ns_from_s(sn->lease_s), &sn->age);
    }
    return 0;
}

int spool_status_read(struct spool *sp, const struct spool_status_opts *opts,
                      struct spool_status *st, errbuf *e)
{
    struct spool_status_opts o = opts ? *opts : (struct spool_status_opts){0};
    if (o.settle_s <= 0)
        o.settle_s = 10;
    memset(st, 0, sizeof *st);
    struct spool_nodes nodes;
    if (spool_list_nodes(sp, &nodes, e) < 0)
        return -1;
    find_now(sp, &nodes, st);
    int rc = read_nodes(sp, &o, &nodes, st, e);
    spool_nodes_free(&nodes);
    struct spool_status_pack *done = NULL;
    if (rc == 0)
        rc = read_claims(sp, st, e);
    if (rc == 0)
        rc = read_dir_packs(sp, "incoming", st->now, &st->incoming, &st->n_incoming, e);
    if (rc == 0)
        rc = read_dir_packs(sp, "failed", st->now, &st->failed, &st->n_failed, e);
    if (rc == 0)
        rc = read_dir_packs(sp, "done", st->now, &done, &st->n_done, e);
    free_packs(done, st->n_done);
    if (rc < 0) {
        spool_status_free(st);
        return -1;
    }
    failed_reasons(sp, st);
    qsort(st->incoming, st->n_incoming, sizeof *st->incoming, cmp_age_desc);
    for (size_t i = 0; i < st->n_incoming; i++)
        st->n_quiet += st->incoming[i].age >= spool_ns_from_s(o.settle_s);
    if (st->n_incoming)
        st->oldest = &st->incoming[0];
    if (st->n_waiting && (st->oldest == NULL || st->waiting[0].age > st->oldest->age))
        st->oldest = &st->waiting[0];
    estimate(st);
    return 0;
}

void spool_status_free(struct spool_status *st)
{
    free_packs(st->incoming, st->n_incoming);
    free_packs(st->working, st->n_working);
    free_packs(st->waiting, st->n_waiting);
    free_packs(st->failed, st->n_failed);
    free(st->nodes);
    memset(st, 0, sizeof *st);
}
