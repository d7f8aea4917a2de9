/*
 * cycle.c — what the daemon does on every poll: check that the spool is
 * the real one, retry pending spool calls, take back claims of dead nodes
 * and its own stale claims, then claim released and ready packs while a
 * worker slot is free and admission allows (DESIGN.md §3).
 *
 * Listings are hints: every decision rests on the outcome of a rename made
 * by the spool module, so two nodes acting on the same listing is normal
 * (one wins, the other is told LOST).
 */
#include "daemon.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "admit.h"
#include "testhook.h"

/* ------------------------------------------------------ availability */

void daemon_unavailable(struct daemon *d, const char *why)
{
    d->available = false;
    d->failures++;
    if (!d->unavail_logged) {
        log_msg(&d->log, LOG_ERR, "spool %s unavailable: %s (not claiming, "
                "retrying)", d->conf.spool, why);
        d->unavail_logged = true;
    } else {
        log_msg(&d->log, LOG_DEBUG, "spool still unavailable: %s", why);
    }
    snprintf(d->unavail_why, sizeof d->unavail_why, "%s", why);
}

/* First contact with the spool (or again after it was never opened). */
static int spool_first_open(struct daemon *d, errbuf *e)
{
    void *hook_ctx;
    const struct spool_ops *ops = testhook_ops(&hook_ctx);
    if (spool_open(&d->sp, d->conf.spool, d->conf.node, ops, hook_ctx, e) < 0) {
        d->sp = NULL;
        return -1;
    }
    errbuf ce;
    if (d->njobs == 0 && spool_clean_tmp(d->sp, &ce) < 0)
        log_msg(&d->log, LOG_WARNING, "cannot clean this node's temporary "
                "files: %s", ce.msg);
    if (d->njobs == 0 && spool_clean_output(d->sp, d->conf.output, &ce) < 0)
        log_msg(&d->log, LOG_WARNING, "cannot clean this node's temporary "
                "files in the output: %s", ce.msg);
    if (d->njobs == 0)
        daemon_sweep_litter(d);
    if (d->scan == NULL)
        d->scan = spool_scan_new();
    daemon_watch_incoming(d);
    log_msg(&d->log, LOG_INFO, "spool %s (id %s) opened as node %s",
            spool_root(d->sp), spool_id(d->sp), d->conf.node);
    daemon_hold_reaping(d, "just started");
    return 0;
}

bool daemon_spool_ok(struct daemon *d)
{
    errbuf e;
    if (d->sp == NULL) {
        if (spool_first_open(d, &e) < 0) {
            daemon_unavailable(d, e.msg);
            return false;
        }
    } else if (spool_check_identity(d->sp, &e) < 0) {
        daemon_unavailable(d, e.msg);
        return false;
    }
    if (spool_check_output(d->sp, d->conf.output, &e) < 0) {
        daemon_unavailable(d, e.msg);
        return false;
    }
    if (d->scan == NULL) {
        daemon_unavailable(d, "out of memory for the scan state");
        return false;
    }
    if (!d->available && d->unavail_logged) {
        log_msg(&d->log, LOG_INFO, "spool %s available again", d->conf.spool);
        daemon_hold_reaping(d, "the spool was unavailable");
    }
    d->available = true;
    d->unavail_logged = false;
    d->failures = 0;
    return true;
}

/* ------------------------------------------------------ admission */

static void set_paused(struct daemon *d, const char *why)
{
    size_t kind = strcspn(why, ":");
    bool same = d->paused_why[0] != '\0' &&
                strncmp(d->paused_why, why, kind) == 0;
    if (!same && why[0] != '\0')
        log_msg(&d->log, LOG_WARNING, "waiting before claiming more: %s", why);
    else if (why[0] == '\0' && d->paused_why[0] != '\0')
        log_msg(&d->log, LOG_INFO, "claiming again: resources available");
    snprintf(d->paused_why, sizeof d->paused_why, "%s", why);
}

/* Reads MemAvailable and the output's free space once per cycle. */
static void admission_refresh(struct daemon *d)
{
    errbuf e;
    d->mem_ok = admit_mem_available(NULL, &d->mem_available, &e) == 0;
    if (!d->mem_ok)
        log_msg(&d->log, LOG_DEBUG, "no memory figure: %s", e.msg);
    d->disk_ok = admit_disk_free(d->conf.output, &d->disk_free, &e) == 0;
    if (!d->disk_ok)
        log_msg(&d->log, LOG_DEBUG, "no disk figure: %s", e.msg);
}

static bool slot_free(const struct daemon *d)
{
    return !d->draining && d->running < d->conf.workers &&
           mono_now() >= d->claim_hold;
}

/* May a pack needing `need` bytes of memory and `bytes` of output be
 * claimed now?  Unknown figures (no /proc) do not block. */
static bool admitted(struct daemon *d, uint64_t need, uint64_t bytes)
{
    struct admit_input in = {
        .mem_available = d->mem_ok ? d->mem_available : UINT64_MAX / 2,
        .mem_reserved = jobs_reserved_memory(d),
        .need = need,
        .min_free_memory = d->conf.min_free_memory,
        .disk_free = d->disk_ok ? d->disk_free : UINT64_MAX / 2,
        .out_bytes = bytes,
        .min_free_disk = d->conf.min_free_disk,
    };
    char why[256];
    bool ok = admit_ok(&in, why, sizeof why);
    set_paused(d, ok ? "" : why);
    d->blocked |= !ok;
    if (ok && d->disk_ok)
        d->disk_free -= bytes < d->disk_free ? bytes : d->disk_free;
    return ok;
}

/* ------------------------------------------------------ claims */

static bool has_foreign_claims(const struct daemon *d,
                               const struct spool_claims *cl)
{
    for (size_t i = 0; i < cl->n; i++)
        if (cl->v[i].node[0] != '\0' && strcmp(cl->v[i].node, d->conf.node) != 0)
            return true;
    return false;
}

/* Our own claim that no job of ours holds: left by a previous run of this
 * node (it crashed with it) or by a reap whose final release failed.
 * Returned to the pool; the attempt counts. */
static int release_orphan(struct daemon *d, const struct spool_claim *c)
{
    errbuf e;
    enum spool_outcome o = spool_release(d->sp, c, true, d->now,
                                         "interrupted: node restarted", &e);
    if (o == SPOOL_WON)
        log_msg(&d->log, LOG_WARNING, "released %s (attempt %d): claim left "
                "by an earlier run of this node", c->pack, c->attempt);
    else if (o == SPOOL_ERROR)
        log_msg(&d->log, LOG_WARNING, "cannot release stale claim of %s: %s",
                c->pack, e.msg);
    return o == SPOOL_WON;
}

/* Lists nodes/ again into d->nodes.  0, or -1 (logged) keeping the old. */
static int nodes_refresh(struct daemon *d)
{
    struct spool_nodes nodes = { 0 };
    errbuf e;
    if (spool_list_nodes(d->sp, &nodes, &e) < 0) {
        log_msg(&d->log, LOG_WARNING, "cannot list nodes: %s", e.msg);
        return -1;
    }
    spool_nodes_free(&d->nodes);
    d->nodes = nodes;
    d->nodes_at = mono_now();
    d->have_nodes = true;
    return 0;
}

static bool looks_dead(const struct daemon *d, const struct spool_claim *c,
                       spool_ns *age)
{
    const struct spool_node_info *ni = spool_nodes_find(&d->nodes, c->node);
    return spool_node_dead(ni != NULL, ni ? ni->mtime : 0, d->now,
                           spool_ns_from_s(d->conf.lease), age);
}

/*
 * daemon_hold_reaping — judge no other node for one lease from now.
 *
 * A node that has just started, or whose own view of the spool was cut
 * (the spool unavailable, or its event loop stuck in a hung mount for
 * longer than the lease), has not watched the other nodes' heartbeats
 * over a lease: an outage of the server or the network stops everybody's
 * heartbeats alike, and the first node back would otherwise take every
 * claim of nodes that are only slower to reconnect (the fault harness saw
 * it after an sshd restart: a node still reconnecting 60 s later lost its
 * claim to a node that had just restarted).  Fencing makes such a reclaim
 * safe, but it costs the work done; waiting one lease costs only a later
 * reclaim of claims whose node is really dead.
 */
void daemon_hold_reaping(struct daemon *d, const char *why)
{
    double until = mono_now() + d->conf.lease;
    if (until > d->reap_hold_until) {
        d->reap_hold_until = until;
        log_msg(&d->log, LOG_DEBUG, "not taking back other nodes' claims "
                "for %.0f s: %s", d->conf.lease, why);
    }
}

/* Reaps c if its node is dead.  The nodes/ listing may be up to one
 * heartbeat period old (reap_claims); a node that looks dead in it is
 * judged again on a fresh listing before anything is reaped, so a stale
 * listing can only delay a reap, never take a live node's claim. */
static int reap_one(struct daemon *d, const struct spool_claim *c,
                    bool *fresh)
{
    spool_ns age;
    if (!looks_dead(d, c, &age))
        return 0;
    if (!*fresh) {
        if (nodes_refresh(d) < 0)
            return 0;
        *fresh = true;
        if (!looks_dead(d, c, &age))
            return 0;
    }
    errbuf e;
    enum spool_outcome o = spool_reap(d->sp, c, age, d->now, &e);
    if (o == SPOOL_WON) {
        d->m.reclaims++;
        if (age >= 0)
            log_msg(&d->log, LOG_WARNING, "reclaimed %s from %s (heartbeat "
                    "age %lld s, attempt %d)", c->pack, c->node,
                    (long long)(age / SPOOL_NS_PER_S), c->attempt);
        else
            log_msg(&d->log, LOG_WARNING, "reclaimed %s from %s (no "
                    "heartbeat, attempt %d)", c->pack, c->node, c->attempt);
    } else if (o == SPOOL_ERROR) {
        log_msg(&d->log, LOG_WARNING, "cannot reclaim %s from %s: %s",
                c->pack, c->node, e.msg);
    }
    return o == SPOOL_WON;
}

/*
 * reap_claims — reaps claims of dead nodes and releases our own stale
 * ones; returns how many packs it put back into the pool.
 *
 * Liveness needs nodes/ (a listing plus each heartbeat's text: two round
 * trips per node over sshfs).  Listing it on every poll made it the
 * largest cost of a cycle with several nodes (scripts/bench-scale.sh,
 * 8 nodes, poll 0.5 s: ~230 of ~510 SFTP requests per pack).  A node's
 * heartbeat changes only every `heartbeat` seconds and a death is decided
 * over `lease`, so the listing is kept for one heartbeat period; see
 * reap_one for why that is safe.
 */
static int reap_claims(struct daemon *d, const struct spool_claims *cl)
{
    int back = 0;
    bool fresh = false;
    if (has_foreign_claims(d, cl) &&
        (!d->have_nodes || mono_now() - d->nodes_at >= d->conf.heartbeat)) {
        if (nodes_refresh(d) < 0)
            return 0;
        fresh = true;
    }
    for (size_t i = 0; i < cl->n; i++) {
        const struct spool_claim *c = &cl->v[i];
        if (c->node[0] == '\0')
            continue;
        if (strcmp(c->node, d->conf.node) == 0) {
            if (!jobs_holds(d, c))
                back += release_orphan(d, c);
        } else if ((d->have_nodes || fresh) &&
                   mono_now() >= d->reap_hold_until) {
            back += reap_one(d, c, &fresh);
        }
    }
    return back;
}

/* Logs what a sweep of leftovers did: n removed, or -1 and e. */
static void log_sweep(struct daemon *d, int n, const errbuf *e,
                      const char *what)
{
    if (n < 0)
        log_msg(&d->log, LOG_WARNING, "cannot remove %s: %s", what, e->msg);
    else if (n > 0)
        log_msg(&d->log, LOG_INFO, "removed %d %s", n, what);
}

/* Removes FUSE's hidden names (.fuse_hidden*) from tmp/ and the output:
 * at start, every DAEMON_LITTER_PERIOD, and when the node stops
 * (spoolorphan.c says where they come from and why removing them is
 * safe). */
void daemon_sweep_litter(struct daemon *d)
{
    errbuf e;
    d->next_litter = mono_now() + DAEMON_LITTER_PERIOD;
    log_sweep(d, spool_sweep_fuse_litter(d->sp, d->conf.output, &e), &e,
              "hidden files (.fuse_hidden*) an sshfs left behind");
}

/*
 * daemon_clean_own — removes this node's own temporary names (.NODE@*) in
 * tmp/ and the output, as at start-up, once no job runs.
 *
 * A worker's work directory and output temporaries are removed when its
 * attempt ends; if the mount is down at that moment (the fault harness:
 * an sshfs killed as a worker finished) they stay, and without this they
 * would stay until the node restarts.  With no job running nothing of
 * ours is in use (publishing and releasing run in this loop), so every
 * .NODE@ name may go.  Called when `leftovers` says a removal failed,
 * and when the node stops.
 */
void daemon_clean_own(struct daemon *d)
{
    errbuf e;
    if (d->njobs > 0 || d->sp == NULL)
        return;
    if (spool_clean_tmp(d->sp, &e) < 0 ||
        spool_clean_output(d->sp, d->conf.output, &e) < 0) {
        log_msg(&d->log, LOG_DEBUG, "temporaries not removed yet: %s", e.msg);
        return;
    }
    d->leftovers = false;
}

/* Removes attempt histories left in claimed/ by a node killed between
 * publishing (or failing) a pack and unlinking its history: without this
 * claimed/ never empties (spoolorphan.c says why it is safe). */
static void sweep_histories(struct daemon *d, const struct spool_claims *cl)
{
    errbuf e;
    log_sweep(d, spool_sweep_histories(d->sp, cl, d->now,
                                       spool_ns_from_s(d->conf.lease), &e),
              &e, "attempt histories whose packs had left claimed/");
}

static uint64_t estimate(const struct daemon *d, uint64_t max_page_pixels)
{
    return admit_estimate(max_page_pixels, d->conf.filter_threads,
                          d->conf.memory_limit);
}

/* Claims released packs (P@+K) for another attempt.  Returns how many
 * are left waiting. */
static int claim_released(struct daemon *d, const struct spool_claims *cl)
{
    int waiting = 0;
    for (size_t i = 0; i < cl->n; i++) {
        const struct spool_claim *c = &cl->v[i];
        if (c->node[0] != '\0')
            continue;
        uint64_t need = estimate(d, 0);
        if (jobs_held(d, c->pack, mono_now()) || !slot_free(d) ||
            !admitted(d, need, c->bytes)) {
            waiting++;
            continue;
        }
        struct spool_claim won;
        errbuf e;
        enum spool_outcome o = spool_claim_released(d->sp, c,
                                    d->conf.max_attempts, d->now, &won, &e);
        if (o == SPOOL_WON)
            job_start(d, &won, c->is_dir, c->bytes, need);
        else if (o == SPOOL_GAVE_UP) {
            d->m.packs_failed++;
            log_msg(&d->log, LOG_WARNING, "gave up on %s after %d attempts "
                    "-> failed/", c->pack, c->attempt);
        } else if (o == SPOOL_LOST)
            d->m.claims_lost++;
        else if (o == SPOOL_ERROR) {
            log_msg(&d->log, LOG_WARNING, "cannot claim %s: %s", c->pack, e.msg);
            waiting++;
        }
    }
    return waiting;
}

/* Claims one READY or BROKEN pack; returns false if it must wait. */
static bool claim_pack(struct daemon *d, const struct spool_pack *p)
{
    uint64_t need = estimate(d, p->max_page_pixels);
    if (!slot_free(d) || !admitted(d, need, p->bytes))
        return false;
    struct spool_claim c;
    errbuf e;
    enum spool_outcome o = spool_claim(d->sp, p->name, &c, &e);
    if (o == SPOOL_ERROR) {
        log_msg(&d->log, LOG_WARNING, "cannot claim %s: %s", p->name, e.msg);
        return false;
    }
    if (o != SPOOL_WON) {
        d->m.claims_lost++;
        return true;                /* another node has it */
    }
    if (p->state == SPOOL_BROKEN) {
        log_msg(&d->log, LOG_INFO, "claimed %s (attempt %d) to fail it: %s",
                p->name, c.attempt, p->why);
        job_fail_claim(d, &c, p->why, true);
    } else {
        job_start(d, &c, p->is_dir, p->bytes, need);
    }
    return true;
}

static void reject_pack(struct daemon *d, const struct spool_pack *p)
{
    errbuf e;
    enum spool_outcome o = spool_reject(d->sp, p->name, p->why, d->now, &e);
    if (o == SPOOL_WON)
        log_msg(&d->log, LOG_WARNING, "rejected %s -> failed/: %s", p->name,
                p->why);
    else if (o == SPOOL_ERROR)
        log_msg(&d->log, LOG_WARNING, "cannot reject %s: %s", p->name, e.msg);
}

/* The metrics' view of incoming/ after a scan: how many packs, and the
 * age of the oldest (server time; 0 when empty). */
static void queue_incoming(struct daemon *d)
{
    size_t n = spool_scan_count(d->scan);
    spool_ns oldest = 0;
    for (size_t i = 0; i < n; i++) {
        const struct spool_pack *p = spool_scan_get(d->scan, i);
        if (i == 0 || p->newest_mtime < oldest)
            oldest = p->newest_mtime;
    }
    d->m.queue[METRICS_Q_INCOMING] = (int64_t)n;
    d->m.oldest_incoming_age = n == 0 || d->now < oldest ? 0
                               : (double)(d->now - oldest) / SPOOL_NS_PER_S;
}

/* The metrics' view of claimed/: held by a node, or waiting for a retry. */
static void queue_claims(struct daemon *d, const struct spool_claims *cl)
{
    int64_t held = 0, released = 0;
    for (size_t i = 0; i < cl->n; i++) {
        if (cl->v[i].node[0] != '\0')
            held++;
        else
            released++;
    }
    d->m.queue[METRICS_Q_CLAIMED] = held;
    d->m.queue[METRICS_Q_RETRY] = released;
}

/* The size bucket of a pack: the bit length of its size in 4 KiB units
 * (file size, or the members' sum for a directory pack): known from the
 * listing for every pack, before any parse check (a G4 page of text is
 * ~30-100 KB, so packs of 25, 100 and 1000 pages land in buckets apart). */
static int size_bucket(const struct spool_pack *p)
{
    uint64_t size = p->bytes >> 12;
    int bucket = 0;
    while (size > 0) {
        size >>= 1;
        bucket++;
    }
    return bucket;
}

/*
 * claim_order_sort — the order in which this node tries the packs of a
 * scan (claim_order in spoold.conf(5)).
 *
 * packs: the scan's packs in its order (a node-specific hash of the name,
 * so that nodes spread over the queue instead of racing for one name); n
 * of them.  idx: receives a permutation of 0..n-1.
 * CLAIM_HASHED keeps the scan's order.  CLAIM_LARGEST tries bigger packs
 * first: packs are put in buckets by size (size_bucket: powers of two of
 * their bytes), larger buckets first and the scan's order
 * within a bucket, so that nodes still spread over packs of about the same
 * size.  Taking the longest jobs first is the classic remedy for a
 * makespan tail (Graham's LPT rule, within 4/3 of the optimum); the
 * benchmark (scripts/bench-scale.sh --tail) measures it here.
 * A stable bucket pass: O(65 n), no allocation.
 */
void claim_order_sort(const struct spool_pack *const *packs, size_t n,
                      enum claim_order mode, size_t *idx)
{
    if (mode != CLAIM_LARGEST) {
        for (size_t i = 0; i < n; i++)
            idx[i] = i;
        return;
    }
    size_t k = 0;
    for (int bucket = 64; bucket >= 0; bucket--)
        for (size_t i = 0; i < n; i++)
            if (size_bucket(packs[i]) == bucket)
                idx[k++] = i;
}

/* Puts the last scan's packs into this node's claim order (d->order).
 * Without memory for it the scan's own order is used (d->norder = 0). */
static void order_scan(struct daemon *d)
{
    size_t n = spool_scan_count(d->scan);
    d->norder = 0;
    if (n > d->cap_order) {
        size_t *v = realloc(d->order, n * sizeof *v);
        if (v != NULL) {
            d->order = v;
            d->cap_order = n;
        }
    }
    const struct spool_pack **pk = n > 0 ? malloc(n * sizeof *pk) : NULL;
    if (n > d->cap_order || (n > 0 && pk == NULL)) {
        free(pk);
        log_msg(&d->log, LOG_DEBUG, "no memory to order %zu packs: scan order", n);
        return;
    }
    for (size_t i = 0; i < n; i++)
        pk[i] = spool_scan_get(d->scan, i);
    claim_order_sort(pk, n, d->conf.claim_order, d->order);
    free(pk);
    d->norder = n;
}

/* The i-th pack of the last scan in this node's claim order. */
static size_t ordered_index(const struct daemon *d, size_t i)
{
    return d->norder == spool_scan_count(d->scan) ? d->order[i] : i;
}

static const struct spool_pack *ordered(const struct daemon *d, size_t i)
{
    return spool_scan_get(d->scan, ordered_index(d, i));
}

static void scan_opts(const struct daemon *d, struct spool_scan_opts *so)
{
    memset(so, 0, sizeof *so);
    so->settle_s = d->conf.settle;
    so->broken_after_s = d->conf.broken_after;
    so->lazy_parse = true;
}

static void parse_now(struct daemon *d, size_t i)
{
    struct spool_scan_opts so;
    scan_opts(d, &so);
    spool_scan_parse(d->sp, d->scan, ordered_index(d, i), d->now, &so);
}

/* The i-th pack in claim order, its parse check made now if it is still
 * pending and a worker is free to take it (the scan leaves the check to
 * the packs a node is about to claim: spool_scan_parse). */
static const struct spool_pack *candidate(struct daemon *d, size_t i)
{
    const struct spool_pack *p = ordered(d, i);
    if (p->state == SPOOL_READY && p->parse_pending && slot_free(d))
        parse_now(d, i);
    return p;
}

/* After the slots are full: makes the parse check of the next pack this
 * node will try, while its workers run, so that the check is not in the
 * way when a slot frees (a pack per claim, not every pack per node). */
static void parse_ahead(struct daemon *d)
{
    size_t n = spool_scan_count(d->scan);
    for (size_t i = d->scan_next; i < n; i++) {
        const struct spool_pack *p = ordered(d, i);
        if (p->state != SPOOL_READY)
            continue;
        if (p->parse_pending)
            parse_now(d, i);
        return;
    }
}

/* Scans incoming/ and claims what is ready.  Returns how many packs are
 * still waiting there (changing, settling, incomplete, or ready but not
 * claimed), or -1 if the scan failed. */
static int claim_incoming(struct daemon *d)
{
    struct spool_scan_opts so;
    scan_opts(d, &so);
    errbuf e;
    d->scan_next = 0;
    if (spool_scan_incoming(d->sp, d->scan, d->now, &so, &e) < 0) {
        d->scan_next = spool_scan_count(d->scan);
        daemon_unavailable(d, e.msg);
        return -1;
    }
    int waiting = 0;
    bool changing = false;
    size_t n = spool_scan_count(d->scan);
    queue_incoming(d);
    order_scan(d);
    d->scan_next = n;
    for (size_t i = 0; i < n; i++) {
        const struct spool_pack *p = candidate(d, i);
        switch (p->state) {
        case SPOOL_READY:
        case SPOOL_BROKEN:
            if (!claim_pack(d, p)) {
                waiting++;
                if (d->scan_next == n)
                    d->scan_next = i;   /* daemon_refill goes on here */
            }
            break;
        case SPOOL_REJECT:
            reject_pack(d, p);
            break;
        default:
            waiting++;
            if (p->state == SPOOL_CHANGING)
                changing = true;
            break;
        }
    }
    if (!slot_free(d))
        parse_ahead(d);
    /* A pack seen for the first time (or changed) becomes ready only at
     * the next look: with a worker free, look again after settle (at
     * least DAEMON_REFILL_GAP) instead of a whole poll_interval. */
    if (changing && slot_free(d))
        d->look_again_s = d->conf.settle > DAEMON_REFILL_GAP
                          ? d->conf.settle : DAEMON_REFILL_GAP;
    log_msg(&d->log, LOG_DEBUG, "scan: %zu in incoming/, %d waiting, %d "
            "running", n, waiting, d->running);
    return waiting;
}

void daemon_cycle(struct daemon *d)
{
    d->once_idle = false;
    d->look_again_s = 0;
    if (!daemon_spool_ok(d))
        return;
    if (!d->have_now) {
        daemon_heartbeat(d);
        if (!d->have_now)
            return;
    }
    jobs_retry(d);
    if (d->draining)
        return;
    struct spool_claims cl = { 0 };
    errbuf e;
    if (spool_list_claims(d->sp, &cl, &e) < 0) {
        daemon_unavailable(d, e.msg);
        return;
    }
    admission_refresh(d);
    d->blocked = false;
    queue_claims(d, &cl);
    int waiting = reap_claims(d, &cl);
    sweep_histories(d, &cl);
    if (mono_now() >= d->next_litter)
        daemon_sweep_litter(d);
    if (d->leftovers)
        daemon_clean_own(d);
    waiting += claim_released(d, &cl);
    spool_claims_free(&cl);
    int in = claim_incoming(d);
    d->once_idle = in == 0 && waiting == 0;
    if (!d->blocked && d->paused_why[0] != '\0')
        set_paused(d, "");      /* nothing waits for resources any more */
}

/* Is incoming/NAME still there?  One lookup.  Between polls the scan
 * gets older and more of its packs are taken by other nodes; a failed
 * claim costs four round trips over sshfs (our target's absence, the
 * rename's lookup, then target and source again to tell a lost race from
 * a lost reply), this one.  Only "certainly gone" (ENOENT) skips a pack;
 * the claim itself stays the rename (DESIGN.md). */
static bool still_incoming(struct daemon *d, const char *name)
{
    char path[4096];
    struct stat st;
    errbuf e;
    if (spool_path(d->sp, "incoming", name, path, sizeof path, &e) < 0)
        return true;
    return lstat(path, &st) == 0 || errno != ENOENT;
}

/*
 * daemon_refill — a worker slot came free between two polls: claim the
 * next packs that the last scan of incoming/ found ready, in its order,
 * without listing incoming/ again.
 *
 * Without this a node claims only when its poll timer fires, so every
 * pack costs on average half a poll interval of idle worker (measured
 * with scripts/bench.sh: one node over sshfs, 100 ms packs, poll 1 s: one
 * pack per second, 0.1 of the ideal).  The scan is a hint like any
 * listing: a pack another node took meanwhile is lost by the rename
 * (SPOOL_LOST, one round trip) and the next is tried.  Only READY packs
 * are taken here; broken ones, released claims and reaping wait for the
 * full cycle.  When the scan has nothing left, the next poll is brought
 * forward (at most one scan per WAKE_MIN_GAP) to look for new packs.
 */
void daemon_refill(struct daemon *d)
{
    if (d->draining || !d->available || !d->have_now || d->sp == NULL ||
        d->scan == NULL || !slot_free(d))
        return;
    size_t n = spool_scan_count(d->scan);
    while (slot_free(d) && d->scan_next < n) {
        const struct spool_pack *p = ordered(d, d->scan_next);
        if (p->state == SPOOL_READY && !still_incoming(d, p->name))
            d->m.claims_lost++;
        else if ((p = candidate(d, d->scan_next))->state == SPOOL_READY &&
                 !claim_pack(d, p))
            return;             /* admission or an error: the poll retries */
        d->scan_next++;
    }
    if (!slot_free(d))
        parse_ahead(d);
    if (slot_free(d)) {
        double at = d->last_cycle + DAEMON_REFILL_GAP;
        double now = mono_now();
        if (at < now)
            at = now;
        if (at < d->next_poll)
            d->next_poll = at;
    }
}
