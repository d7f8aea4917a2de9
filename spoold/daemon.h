/*
 * daemon.h — the state of one running spoold and the functions of its
 * parts: the event loop (loop.c), the claiming cycle (cycle.c) and the
 * jobs, one per claimed pack (jobs.c).  spoold.c (main) only parses the
 * command line and calls daemon_main().
 *
 * One thread, one epoll loop over a signalfd (SIGTERM, SIGINT, SIGHUP,
 * SIGCHLD) and an inotify watch on incoming/; timers (poll with jitter,
 * heartbeat, pack deadlines, the shutdown grace) are the loop's timeout.
 * Every pack runs in a forked worker (worker.h); the loop never blocks on
 * a worker.  All spool state changes go through spool.h.
 */
#ifndef SPOOLD_DAEMON_H
#define SPOOLD_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "backoff.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "spool.h"
#include "worker.h"

#define DAEMON_MAX_OVERRIDES 32
#define DAEMON_REFILL_GAP    0.5    /* s: least time between scans that a
                                       freed worker slot asks for */
#define DAEMON_MAX_HOLDS     64     /* packs this node waits to retry */
#define DAEMON_LITTER_PERIOD 600.0  /* s between sweeps of FUSE litter
                                       (spoolorphan.c) */

/* What the command line said; re-applied on every reload. */
struct daemon_opts {
    const char *conf_path;      /* -c FILE, or CONF_DEFAULT_PATH */
    bool conf_given;            /* -c given: the file must exist */
    int noverrides;
    char override_key[DAEMON_MAX_OVERRIDES][64];
    const char *override_val[DAEMON_MAX_OVERRIDES];
    bool once;                  /* --once */
    bool verbose;               /* -v */
};

enum job_state {
    JOB_RUNNING,        /* worker alive */
    JOB_PUBLISH,        /* worker done, publish to (re)try */
    JOB_FAIL,           /* worker failed, spool_fail to (re)try */
    JOB_RELEASE,        /* shutdown: release (not consumed) to (re)try */
};

struct job {
    enum job_state state;
    pid_t pid;                  /* worker, 0 once reaped */
    int fd;                     /* result pipe, -1 once closed */
    struct spool_claim claim;
    struct spool_output out;
    char workdir[4096];
    char text[1024];            /* what the worker said */
    size_t len;
    double started;             /* monotonic s */
    double deadline;            /* monotonic s, 0 = none */
    uint64_t need;              /* admission estimate, bytes */
    uint64_t bytes;             /* input bytes */
    bool timed_out, killed;
    bool watched;               /* fd is in the event loop's epoll set */
    bool finishing;             /* the worker said its steps are done: its
                                   slot is free, it writes its results */
    struct worker_result res;
    int retries;                /* failed publish/fail/release calls */
};

/* A pack this node failed and released: it takes it again only after
 * `until` (other nodes may take it at once). */
struct retry_hold {
    char pack[SPOOL_PACK_MAX + 1];
    double until;               /* monotonic s */
};

struct daemon {
    const struct daemon_opts *opts;
    struct spoold_conf conf;
    struct logger log;
    struct rng rng;
    struct spool *sp;           /* NULL until .spool-id is found */
    struct spool_scan *scan;
    int epfd, sigfd, infd, inwd;
    struct job **jobs;
    int njobs, cap_jobs;
    int running;                /* jobs in JOB_RUNNING */
    unsigned seq;               /* for work directory names */
    spool_ns now;               /* server time of the last heartbeat */
    bool have_now;
    bool available;             /* spool identity checked and fine */
    bool unavail_logged;
    int failures;               /* consecutive unavailable cycles */
    char unavail_why[256];
    double next_poll, next_heartbeat;
    double last_cycle;          /* monotonic s of the last full cycle */
    double look_again_s;        /* > 0: the last cycle wants the next one
                                   this soon (packs seen changing) */
    struct spool_nodes nodes;   /* nodes/ as last listed, for reaping */
    double nodes_at;            /* monotonic s of that listing */
    bool have_nodes;
    size_t *order;              /* the last scan's packs in claim order */
    size_t norder, cap_order;   /* norder = 0: the scan's own order */
    size_t scan_next;           /* first entry of `order` not tried */
    bool draining;
    double drain_deadline;
    bool done;                  /* leave the loop */
    bool once_idle;             /* --once: last cycle found nothing to do */
    char paused_why[256];       /* backpressure, "" if none */
    double claim_hold;          /* monotonic s: no claims before (a worker
                                   found the output or spool unusable) */
    int hold_streak;            /* such holds in a row, for the back-off */
    bool blocked;               /* admission said no in this cycle */
    struct retry_hold holds[DAEMON_MAX_HOLDS];
    int nholds;
    double t_start;
    uint64_t packs_done, packs_failed, pages_done, bytes_done;
    struct spool_rate rate;
    /* per cycle, for admission */
    uint64_t mem_available, disk_free;
    bool mem_ok, disk_ok;
    /* metrics file and service manager (metrics.h, sdnotify.h) */
    metrics m;
    double last_heartbeat;      /* monotonic s of the last one written */
    double reap_hold_until;     /* monotonic s: judge no other node before
                                   (one lease after we start or come back
                                   from an outage: cycle.c, reap_claims) */
    double next_count;          /* next count of done/ and failed/ */
    double next_litter;         /* next sweep of FUSE litter */
    bool leftovers;             /* removing a worker's temporaries failed
                                   (mount down): clean them when idle */
    bool ready_sent;
    bool metrics_failing, notify_failing;   /* logged once per change */
    double wd_interval;         /* s between WATCHDOG=1, 0 = none */
    double next_watchdog;
};

/* spoold.c -> loop.c: runs the daemon; returns the exit status. */
int daemon_main(const struct daemon_opts *opts);

/* loop.c */
int daemon_load_conf(const struct daemon_opts *o, struct spoold_conf *c,
                     errbuf *e);
void daemon_heartbeat(struct daemon *d);

/* report.c: the metrics file and the service manager */
void report_init(struct daemon *d);
void report_heartbeat(struct daemon *d);    /* STATUS, READY, metrics */
void report_watchdog(struct daemon *d, double now);
void report_stopping(struct daemon *d);

void daemon_watch_incoming(struct daemon *d);

/* cycle.c: removes this node's own temporaries when no job runs. */
void daemon_clean_own(struct daemon *d);
/* cycle.c: removes FUSE's hidden names from tmp/ and the output. */
void daemon_sweep_litter(struct daemon *d);
/* cycle.c: no reaping of other nodes' claims for one lease (see there). */
void daemon_hold_reaping(struct daemon *d, const char *why);
/* cycle.c: one poll: identity, pending jobs, reaping, claiming. */
void daemon_cycle(struct daemon *d);
bool daemon_spool_ok(struct daemon *d);
void daemon_refill(struct daemon *d);   /* a worker slot came free */
void claim_order_sort(const struct spool_pack *const *packs, size_t n,
                      enum claim_order mode, size_t *idx);
void daemon_unavailable(struct daemon *d, const char *why);

/* jobs.c */
int job_start(struct daemon *d, const struct spool_claim *c, bool is_dir,
              uint64_t bytes, uint64_t need);
void job_fail_claim(struct daemon *d, const struct spool_claim *c,
                    const char *reason, bool permanent);
void jobs_reap(struct daemon *d);           /* after SIGCHLD */
void jobs_on_pipe(struct daemon *d, int fd); /* a result pipe is readable */
void jobs_retry(struct daemon *d);          /* pending spool calls */
void jobs_check_deadlines(struct daemon *d, double now);
void jobs_kill_all(struct daemon *d);       /* shutdown after grace */
bool jobs_holds(const struct daemon *d, const struct spool_claim *c);
void jobs_hold_claims(struct daemon *d, const char *why);
uint64_t jobs_reserved_memory(const struct daemon *d);
void jobs_hold(struct daemon *d, const char *pack, int attempt);
bool jobs_held(struct daemon *d, const char *pack, double now);
double jobs_next_deadline(const struct daemon *d);

#endif
