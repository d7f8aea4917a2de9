/*
 * loop.c — spoold's event loop: configuration (load and SIGHUP reload),
 * signals through a signalfd, an inotify watch on incoming/ for local
 * drops, the poll and heartbeat timers, pack deadlines, the SIGTERM drain
 * and --once.
 *
 * Timers are the epoll timeout: the loop sleeps until the nearest of the
 * next poll (poll_interval +-20% jitter, or an exponential back-off up to
 * 10 poll intervals or 60 s while the spool is unavailable), the next heartbeat, the nearest
 * pack deadline, and the end of the shutdown grace.  Signals and inotify
 * only set flags or move the next poll nearer; all work happens in one
 * place per turn, in a fixed order.
 */
#include "daemon.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define UNAVAILABLE_MAX_DELAY 60.0      /* s, back-off cap ... */
#define UNAVAILABLE_MAX_POLLS 10.0      /* ... or this many poll intervals */
#define WAKE_MIN_GAP          0.5       /* s between inotify-driven scans */

/* ------------------------------------------------------ configuration */

int daemon_load_conf(const struct daemon_opts *o, struct spoold_conf *c,
                     errbuf *e)
{
    conf_defaults(c);
    bool present = access(o->conf_path, F_OK) == 0;
    if ((o->conf_given || present) && conf_load_file(c, o->conf_path, e) < 0)
        return -1;
    for (int i = 0; i < o->noverrides; i++) {
        if (conf_set(c, o->override_key[i], o->override_val[i], e) < 0) {
            err_prefix(e, "--%s", o->override_key[i]);
            return -1;
        }
    }
    return conf_finish(c, e);
}

static void daemon_reload(struct daemon *d)
{
    struct spoold_conf nc;
    errbuf e;
    if (daemon_load_conf(d->opts, &nc, &e) < 0) {
        log_msg(&d->log, LOG_ERR, "SIGHUP: configuration not reloaded, "
                "keeping the old one: %s", e.msg);
        conf_free(&nc);
        return;
    }
    if (strcmp(nc.spool, d->conf.spool) != 0 || strcmp(nc.node, d->conf.node) != 0) {
        log_msg(&d->log, LOG_ERR, "SIGHUP: configuration not reloaded, "
                "keeping the old one: spool and node cannot change while "
                "running (restart spoold)");
        conf_free(&nc);
        return;
    }
    conf_move(&d->conf, &nc);
    umask((mode_t)d->conf.umask);
    char pl[256];
    log_msg(&d->log, LOG_INFO, "configuration reloaded: workers %d, "
            "pipeline %s", d->conf.workers,
            conf_pipeline_describe(&d->conf, pl, sizeof pl));
}

/* ------------------------------------------------------ heartbeat */

static void fill_heartbeat(const struct daemon *d, struct spool_heartbeat *hb)
{
    memset(hb, 0, sizeof *hb);
    snprintf(hb->node, sizeof hb->node, "%s", d->conf.node);
    if (gethostname(hb->host, sizeof hb->host) < 0)
        snprintf(hb->host, sizeof hb->host, "?");
    hb->host[sizeof hb->host - 1] = '\0';
    hb->pid = (long)getpid();
    snprintf(hb->version, sizeof hb->version, "%s", SPOOLD_VERSION);
    const char *state = d->draining ? "draining"
                        : d->paused_why[0] ? "paused" : "running";
    snprintf(hb->state, sizeof hb->state, "%s", state);
    snprintf(hb->note, sizeof hb->note, "%s", d->paused_why);
    for (char *p = hb->note; *p; p++)
        if (*p == '\n')
            *p = ' ';
    hb->workers = d->conf.workers;
    hb->busy = d->running;
    hb->heartbeat_s = d->conf.heartbeat;
    hb->lease_s = d->conf.lease;
    hb->local_time = (int64_t)time(NULL);
    hb->uptime_s = (int64_t)(mono_now() - d->t_start);
    hb->packs_done = d->packs_done;
    hb->packs_failed = d->packs_failed;
    hb->pages_done = d->pages_done;
    hb->bytes_done = d->bytes_done;
    hb->pages_per_min = spool_rate_per_min(&d->rate);
    hb->rate_window_s = (int)(d->rate.window_s > 0 ? d->rate.window_s : 300);
}

void daemon_heartbeat(struct daemon *d)
{
    if (!daemon_spool_ok(d))
        return;
    struct spool_heartbeat hb;
    fill_heartbeat(d, &hb);
    spool_ns now;
    errbuf e;
    if (spool_heartbeat_write(d->sp, &hb, &now, &e) < 0) {
        daemon_unavailable(d, e.msg);
        return;
    }
    d->now = now;
    d->have_now = true;
    double m = mono_now();
    if (d->last_heartbeat > 0 && m - d->last_heartbeat > d->conf.lease)
        daemon_hold_reaping(d, "this node wrote no heartbeat for longer "
                            "than the lease");
    d->last_heartbeat = m;
}

/* ------------------------------------------------------ events */

void daemon_watch_incoming(struct daemon *d)
{
    if (d->infd < 0 || d->inwd >= 0)
        return;
    char dir[4096];
    errbuf e;
    if (spool_path(d->sp, "incoming", NULL, dir, sizeof dir, &e) < 0)
        return;
    d->inwd = inotify_add_watch(d->infd, dir, IN_CLOSE_WRITE | IN_MOVED_TO |
                                IN_CREATE | IN_ONLYDIR);
    if (d->inwd < 0)
        log_msg(&d->log, LOG_DEBUG, "no inotify on %s (%s): polling only",
                dir, strerror(errno));
}

static void start_drain(struct daemon *d, int sig)
{
    if (d->draining) {
        log_msg(&d->log, LOG_INFO, "%s again: stopping running packs now",
                strsignal(sig));
        d->drain_deadline = mono_now();
        return;
    }
    d->draining = true;
    d->drain_deadline = mono_now() + d->conf.grace;
    log_msg(&d->log, LOG_INFO, "%s: no more claims; %d running packs get "
            "%g s to finish", strsignal(sig), d->running, d->conf.grace);
    report_stopping(d);
    d->next_heartbeat = mono_now();     /* say "draining" */
}

static void on_signals(struct daemon *d)
{
    struct signalfd_siginfo si;
    ssize_t n;
    while ((n = read(d->sigfd, &si, sizeof si)) == (ssize_t)sizeof si) {
        switch (si.ssi_signo) {
        case SIGTERM:
        case SIGINT:
            start_drain(d, (int)si.ssi_signo);
            break;
        case SIGHUP:
            daemon_reload(d);
            break;
        case SIGCHLD:
            jobs_reap(d);
            break;
        default:
            break;
        }
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR)
        log_msg(&d->log, LOG_ERR, "signalfd: %s", strerror(errno));
}

static void on_inotify(struct daemon *d, double now, double last_cycle)
{
    char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
    ssize_t n;
    bool any = false;
    while ((n = read(d->infd, buf, sizeof buf)) > 0)
        any = true;
    if (!any || d->draining)
        return;
    double at = last_cycle + WAKE_MIN_GAP > now ? last_cycle + WAKE_MIN_GAP : now;
    if (at < d->next_poll)
        d->next_poll = at;
}

/* ------------------------------------------------------ setup */

static int setup_events(struct daemon *d, errbuf *e)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        return err_errno(e, errno, "sigprocmask");
    signal(SIGPIPE, SIG_IGN);
    d->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (d->sigfd < 0)
        return err_errno(e, errno, "signalfd");
    d->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (d->epfd < 0)
        return err_errno(e, errno, "epoll_create1");
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = d->sigfd };
    if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->sigfd, &ev) < 0)
        return err_errno(e, errno, "epoll_ctl");
    d->infd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (d->infd < 0) {
        log_msg(&d->log, LOG_DEBUG, "inotify: %s: polling only", strerror(errno));
        return 0;
    }
    ev.data.fd = d->infd;
    if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->infd, &ev) < 0)
        return err_errno(e, errno, "epoll_ctl");
    return 0;
}

static void teardown(struct daemon *d)
{
    while (d->njobs > 0) {
        struct job *j = d->jobs[--d->njobs];
        if (j->fd >= 0)
            close(j->fd);
        free(j);
    }
    free(d->jobs);
    free(d->order);
    spool_nodes_free(&d->nodes);
    if (d->scan)
        spool_scan_free(d->scan);
    if (d->sp)
        spool_close(d->sp);
    if (d->infd >= 0)
        close(d->infd);
    if (d->sigfd >= 0)
        close(d->sigfd);
    if (d->epfd >= 0)
        close(d->epfd);
    conf_free(&d->conf);
}

/* ------------------------------------------------------ the loop */

/* Milliseconds until the nearest timer. */
static int next_timeout(const struct daemon *d, double now)
{
    double t = d->next_poll;
    if (d->next_heartbeat < t)
        t = d->next_heartbeat;
    double dl = jobs_next_deadline(d);
    if (dl > 0 && dl < t)
        t = dl;
    if (d->draining && d->drain_deadline < t)
        t = d->drain_deadline;
    if (d->wd_interval > 0 && d->next_watchdog < t)
        t = d->next_watchdog;
    double ms = (t - now) * 1000;
    return ms <= 0 ? 0 : ms > 60000 ? 60000 : (int)ms + 1;
}

static void schedule_poll(struct daemon *d, double now)
{
    if (d->available) {
        d->next_poll = now + jitter(&d->rng, d->conf.poll_interval, 0.2);
        if (d->look_again_s > 0 && now + d->look_again_s < d->next_poll)
            d->next_poll = now + d->look_again_s;
    } else {
        double cap = UNAVAILABLE_MAX_POLLS * d->conf.poll_interval;
        if (cap > UNAVAILABLE_MAX_DELAY)
            cap = UNAVAILABLE_MAX_DELAY;
        d->next_poll = now + backoff_delay(&d->rng, d->conf.poll_interval,
                                           cap, d->failures - 1);
    }
}

/* The timed work of one turn, in a fixed order. */
static void turn(struct daemon *d, double *last_cycle, bool *killed_all)
{
    double now = mono_now();
    jobs_check_deadlines(d, now);
    if (d->draining && !*killed_all && now >= d->drain_deadline) {
        if (d->running > 0)
            log_msg(&d->log, LOG_INFO, "grace period over: stopping %d "
                    "running packs", d->running);
        jobs_kill_all(d);
        *killed_all = true;
    }
    report_watchdog(d, now);
    if (now >= d->next_heartbeat) {
        daemon_heartbeat(d);
        report_heartbeat(d);
        d->next_heartbeat = now + d->conf.heartbeat;
    }
    if (now >= d->next_poll) {
        daemon_cycle(d);
        *last_cycle = d->last_cycle = now;
        schedule_poll(d, now);
    } else if (d->draining) {
        jobs_retry(d);
    }
    if (d->draining && (d->njobs == 0 || (*killed_all && d->running == 0))) {
        jobs_retry(d);
        d->done = true;
    }
    if (d->opts->once && d->once_idle && d->njobs == 0)
        d->done = true;
}

static void run_loop(struct daemon *d)
{
    double last_cycle = 0;
    bool killed_all = false;
    d->next_poll = d->next_heartbeat = mono_now();
    while (!d->done) {
        struct epoll_event ev[4];
        int n = epoll_wait(d->epfd, ev, 4, next_timeout(d, mono_now()));
        if (n < 0 && errno != EINTR) {
            log_msg(&d->log, LOG_ERR, "epoll_wait: %s", strerror(errno));
            sleep(1);
        }
        for (int i = 0; i < n; i++) {
            if (ev[i].data.fd == d->sigfd)
                on_signals(d);
            else if (ev[i].data.fd == d->infd)
                on_inotify(d, mono_now(), last_cycle);
            else
                jobs_on_pipe(d, ev[i].data.fd);
        }
        turn(d, &last_cycle, &killed_all);
    }
}

static void shutdown_spool(struct daemon *d)
{
    errbuf e;
    if (d->sp == NULL)
        return;
    if (d->njobs > 0) {
        log_msg(&d->log, LOG_WARNING, "%d claims could not be returned; "
                "other nodes take them back after the lease", d->njobs);
        return;
    }
    daemon_clean_own(d);
    daemon_sweep_litter(d);
    if (spool_heartbeat_remove(d->sp, &e) < 0)
        log_msg(&d->log, LOG_WARNING, "cannot remove the heartbeat: %s", e.msg);
}

int daemon_main(const struct daemon_opts *opts)
{
    struct daemon d;
    memset(&d, 0, sizeof d);
    d.opts = opts;
    d.epfd = d.sigfd = d.infd = d.inwd = -1;
    d.t_start = mono_now();
    log_init(&d.log, opts->verbose);
    rng_seed(&d.rng);
    report_init(&d);
    errbuf e;
    if (daemon_load_conf(opts, &d.conf, &e) < 0) {
        log_msg(&d.log, LOG_ERR, "%s", e.msg);
        conf_free(&d.conf);
        return 2;
    }
    if (geteuid() == 0 && !d.conf.allow_root) {
        log_msg(&d.log, LOG_ERR, "refusing to run as root: run spoold as an "
                "unprivileged user that belongs to the spool's group (User= "
                "in spoold.service), or set allow_root = true (or "
                "--allow-root) if you really mean it");
        conf_free(&d.conf);
        return 2;
    }
    umask((mode_t)d.conf.umask);
    char pl[256];
    log_msg(&d.log, LOG_INFO, "spoold %s starting: node %s, spool %s, "
            "output %s, %d workers, pipeline %s%s", SPOOLD_VERSION,
            d.conf.node, d.conf.spool, d.conf.output, d.conf.workers,
            conf_pipeline_describe(&d.conf, pl, sizeof pl),
            opts->once ? ", --once" : "");
    int rc = 0;
    if (setup_events(&d, &e) < 0) {
        log_msg(&d.log, LOG_ERR, "%s", e.msg);
        rc = 1;
    } else if (opts->once && !daemon_spool_ok(&d)) {
        rc = 1;     /* cron: say it and stop, do not wait */
    } else {
        run_loop(&d);
        shutdown_spool(&d);
        d.next_count = 0;       /* final figures: count done/ and failed/ */
        report_heartbeat(&d);
        log_msg(&d.log, LOG_INFO, "stopped: %llu packs, %llu pages done, "
                "%llu failed attempts", (unsigned long long)d.packs_done,
                (unsigned long long)d.pages_done,
                (unsigned long long)d.packs_failed);
    }
    teardown(&d);
    return rc;
}
