/*
 * report.c — what the daemon tells the outside besides its log: the
 * service manager (READY=1 after the first heartbeat, STATUS= with the
 * queue figures every heartbeat, WATCHDOG=1 from the loop, STOPPING=1 on
 * SIGTERM; see sdnotify.h) and the Prometheus textfile (metrics_file,
 * rewritten atomically every heartbeat; see metrics.h).
 *
 * Counters are kept where the events happen (jobs.c, cycle.c); the queue
 * gauges of incoming/ and claimed/ come from the last cycle's listings.
 * done/ and failed/ are counted here by listing them, at most once a
 * minute (they can hold many thousands of names on a slow share).  A
 * failed write or notification is logged once, and once more when it
 * works again; it never stops the daemon.
 */
#include "daemon.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sdnotify.h"

#define COUNT_PERIOD 60.0       /* s between listings of done/ and failed/ */

void report_init(struct daemon *d)
{
    metrics_init(&d->m);
    uint64_t usec;
    errbuf e;
    int w = sdn_watchdog_usec(&usec, &e);
    if (w == 1) {
        d->wd_interval = (double)usec / 2e6;
        d->next_watchdog = mono_now();
    } else if (w < 0) {
        log_msg(&d->log, LOG_WARNING, "watchdog: %s", e.msg);
    }
}

/* Logs a failing report channel once, and its recovery. */
static void note(struct daemon *d, bool *failing, int rc, const char *what,
                 const errbuf *e)
{
    if (rc < 0 && !*failing)
        log_msg(&d->log, LOG_WARNING, "%s: %s", what, e->msg);
    else if (rc >= 0 && *failing)
        log_msg(&d->log, LOG_INFO, "%s works again", what);
    *failing = rc < 0;
}

/* Entries of SPOOL/DIR; for failed/ the packs only (not their .err
 * files; a pack whose own name ends in ".err" is not counted, a limit of
 * a cheap count).  -1 if it cannot be listed. */
static int64_t count_dir(struct daemon *d, const char *dir, bool skip_err)
{
    char path[4096];
    errbuf e;
    if (spool_path(d->sp, dir, NULL, path, sizeof path, &e) < 0)
        return -1;
    DIR *dp = opendir(path);
    if (dp == NULL)
        return -1;
    int64_t n = 0;
    struct dirent *de;
    while ((errno = 0, de = readdir(dp)) != NULL) {
        size_t len = strlen(de->d_name);
        if (de->d_name[0] == '.' && (len == 1 || (len == 2 && de->d_name[1] == '.')))
            continue;
        if (skip_err && len > 4 && strcmp(de->d_name + len - 4, ".err") == 0)
            continue;
        n++;
    }
    bool err = errno != 0;
    closedir(dp);
    return err ? -1 : n;
}

static void update_gauges(struct daemon *d)
{
    double now = mono_now();
    metrics *m = &d->m;
    m->spool_available = d->available ? 1 : 0;
    m->workers_busy = d->running;
    m->workers_total = d->conf.workers;
    m->heartbeat_age = d->last_heartbeat > 0 ? now - d->last_heartbeat : -1;
    if (d->available && d->sp != NULL && now >= d->next_count) {
        m->queue[METRICS_Q_DONE] = count_dir(d, "done", false);
        m->queue[METRICS_Q_FAILED] = count_dir(d, "failed", true);
        d->next_count = now + COUNT_PERIOD;
    }
}

static void send_status(struct daemon *d)
{
    errbuf e;
    int rc = 0;
    if (!d->ready_sent && d->available && d->have_now) {
        rc = sdn_ready(&e);
        d->ready_sent = rc >= 0;
    }
    const char *state = d->draining ? "draining"
                        : !d->available ? "spool unavailable"
                        : d->paused_why[0] ? "waiting for resources" : "running";
    char in[24] = "?", retry[24] = "?";     /* unknown before a scan */
    if (d->m.queue[METRICS_Q_INCOMING] >= 0)
        snprintf(in, sizeof in, "%lld", (long long)d->m.queue[METRICS_Q_INCOMING]);
    if (d->m.queue[METRICS_Q_RETRY] >= 0)
        snprintf(retry, sizeof retry, "%lld", (long long)d->m.queue[METRICS_Q_RETRY]);
    if (rc >= 0)
        rc = sdn_status(&e, "%s: %d of %d workers busy, %s incoming, "
                        "%s to retry; %llu packs (%llu pages) done, %llu "
                        "failed attempts", state, d->running, d->conf.workers,
                        in, retry, (unsigned long long)d->packs_done,
                        (unsigned long long)d->pages_done,
                        (unsigned long long)d->packs_failed);
    note(d, &d->notify_failing, rc, "service manager notification", &e);
}

void report_heartbeat(struct daemon *d)
{
    update_gauges(d);
    send_status(d);
    if (d->conf.metrics_file == NULL)
        return;
    errbuf e;
    int rc = metrics_write(d->conf.metrics_file, &d->m, d->conf.node,
                           d->conf.spool, &e);
    note(d, &d->metrics_failing, rc, "metrics file", &e);
}

void report_watchdog(struct daemon *d, double now)
{
    if (d->wd_interval <= 0 || now < d->next_watchdog)
        return;
    errbuf e;
    int rc = sdn_watchdog(&e);
    note(d, &d->notify_failing, rc, "service manager notification", &e);
    d->next_watchdog = now + d->wd_interval;
}

void report_stopping(struct daemon *d)
{
    errbuf e;
    int rc = sdn_stopping(&e);
    note(d, &d->notify_failing, rc, "service manager notification", &e);
}
