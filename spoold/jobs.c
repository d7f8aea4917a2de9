/*
 * jobs.c — one job per claimed pack: start its worker, notice its end,
 * judge it, and move the claim on through the spool protocol (publish,
 * fail, release).  A spool call that fails (the share is away) leaves the
 * job pending; the next cycle retries it.  The claim name keeps saying
 * whose it is meanwhile, so nothing is lost or half-done.
 */
#include "daemon.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "admit.h"

static int jobs_add(struct daemon *d, struct job *j)
{
    if (d->njobs == d->cap_jobs) {
        int cap = d->cap_jobs ? 2 * d->cap_jobs : 16;
        struct job **v = realloc(d->jobs, (size_t)cap * sizeof *v);
        if (v == NULL)
            return -1;
        d->jobs = v;
        d->cap_jobs = cap;
    }
    d->jobs[d->njobs++] = j;
    return 0;
}

static void job_free(struct daemon *d, int i)
{
    struct job *j = d->jobs[i];
    errbuf e;
    if (j->workdir[0] != '\0' && worker_rmtree(j->workdir, &e) < 0) {
        log_msg(&d->log, LOG_WARNING, "cannot remove %s: %s", j->workdir, e.msg);
        d->leftovers = true;        /* daemon_clean_own retries */
    }
    if (j->fd >= 0)
        close(j->fd);
    free(j);
    d->jobs[i] = d->jobs[--d->njobs];
}

bool jobs_holds(const struct daemon *d, const struct spool_claim *c)
{
    for (int i = 0; i < d->njobs; i++) {
        const struct spool_claim *h = &d->jobs[i]->claim;
        if (strcmp(h->pack, c->pack) == 0 && strcmp(h->node, c->node) == 0 &&
            h->attempt == c->attempt)
            return true;
    }
    return false;
}

/* Builds the job's paths: source, outputs, private work directory.  The
 * work directory is tmp/.NODE@w<pid>.<seq>: '@' after the node name makes
 * it one of this node's private temporary names (spool.h), which
 * spool_clean_tmp removes when the node starts again after a kill -9 that
 * left it behind. */
static int job_paths(struct daemon *d, struct job *j, char *src, size_t len,
                     errbuf *e)
{
    if (spool_claim_path(d->sp, &j->claim, src, len, e) < 0 ||
        spool_output_paths(d->sp, d->conf.output, &j->claim, &j->out, e) < 0)
        return -1;
    char name[128];
    snprintf(name, sizeof name, ".%s@w%ld.%u", d->conf.node, (long)getpid(),
             ++d->seq);
    return spool_path(d->sp, "tmp", name, j->workdir, sizeof j->workdir, e);
}

/* The worker's check before it writes into the output (worker.h). */
static int output_ok(const void *ctx, errbuf *e)
{
    const struct daemon *d = ctx;
    return spool_check_output(d->sp, d->conf.output, e);
}

/* Are the spool and the output there?  0, or -1 with the reason. */
static int shares_ok(struct daemon *d, errbuf *e)
{
    struct stat st;
    if (spool_check_identity(d->sp, e) < 0 ||
        spool_check_output(d->sp, d->conf.output, e) < 0)
        return -1;
    if (stat(d->conf.output, &st) < 0)
        return err_errno(e, errno, "output directory %s", d->conf.output);
    return 0;
}

/* The node cannot work for now (a worker said so, or none could be
 * started): no claims for a while, longer each time in a row. */
void jobs_hold_claims(struct daemon *d, const char *why)
{
    d->hold_streak++;
    double wait = backoff_delay(&d->rng, d->conf.poll_interval, 60,
                                d->hold_streak - 1);
    d->claim_hold = mono_now() + wait;
    log_msg(&d->log, LOG_WARNING, "not claiming for %.1f s: %s", wait, why);
}

/* Watches the job's result pipe in the event loop, for the worker's
 * WORKER_STEPS_DONE (jobs_on_pipe).  Without it (epoll refuses) the slot
 * is only given back when the worker exits, as before. */
static void watch_pipe(struct daemon *d, struct job *j)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = j->fd };
    if (d->epfd < 0 || j->fd < 0)
        return;
    if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, j->fd, &ev) == 0)
        j->watched = true;
    else
        log_msg(&d->log, LOG_DEBUG, "epoll_ctl(result pipe): %s",
                strerror(errno));
}

static void unwatch_pipe(struct daemon *d, struct job *j)
{
    if (j->watched && epoll_ctl(d->epfd, EPOLL_CTL_DEL, j->fd, NULL) < 0)
        log_msg(&d->log, LOG_DEBUG, "epoll_ctl(DEL): %s", strerror(errno));
    j->watched = false;
}

int job_start(struct daemon *d, const struct spool_claim *c, bool is_dir,
              uint64_t bytes, uint64_t need)
{
    struct job *j = calloc(1, sizeof *j);
    if (j == NULL || jobs_add(d, j) < 0) {
        free(j);
        log_msg(&d->log, LOG_ERR, "out of memory for a job");
        return -1;
    }
    j->claim = *c;
    j->fd = -1;
    j->bytes = bytes;
    j->need = need;
    j->started = mono_now();
    char src[4096];
    errbuf e;
    struct worker_job wj = {
        .conf = &d->conf, .pack = c->pack, .src = src, .is_dir = is_dir,
        .attempt = c->attempt, .workdir = j->workdir,
        .out_tif = j->out.tmp_tif, .out_json = j->out.tmp_json,
        .timeout_s = d->conf.pack_timeout,
        .out_ok = output_ok, .out_ctx = d,
    };
    bool paths = job_paths(d, j, src, sizeof src, &e) == 0;
    if (!paths || (j->pid = worker_spawn(&wj, &j->fd, &e)) < 0) {
        /* Nothing of the pack was tried.  If the spool or the output is
         * away (or fork failed), that is the node's trouble, not the
         * pack's: return it without counting the attempt, and wait. */
        errbuf se;
        j->pid = 0;
        j->state = (!paths && shares_ok(d, &se) == 0) ? JOB_FAIL : JOB_RELEASE;
        j->res.status = j->state == JOB_FAIL ? WORKER_FAILED : WORKER_UNAVAILABLE;
        snprintf(j->res.reason, sizeof j->res.reason, "cannot start the "
                 "worker: %s", e.msg);
        log_msg(&d->log, LOG_ERR, "%s: %s", c->pack, j->res.reason);
        if (j->state == JOB_RELEASE)
            jobs_hold_claims(d, j->res.reason);
        return -1;
    }
    j->state = JOB_RUNNING;
    d->running++;
    watch_pipe(d, j);
    if (d->conf.pack_timeout > 0)
        j->deadline = j->started + d->conf.pack_timeout;
    log_msg(&d->log, LOG_INFO, "claimed %s (attempt %d)", c->pack, c->attempt);
    return 0;
}

/* ------------------------------------------------------ resolving a job */

static bool job_fail(struct daemon *d, struct job *j);

/* Publishes a finished job.  true when the job is resolved. */
static bool job_publish(struct daemon *d, struct job *j)
{
    errbuf e;
    if (spool_check_output(d->sp, d->conf.output, &e) < 0) {
        daemon_unavailable(d, e.msg);   /* publish when it is back */
        return false;
    }
    enum spool_outcome o = spool_publish(d->sp, &j->claim, &j->out,
                                         d->conf.keep_done, d->now, &e);
    if (o == SPOOL_WON) {
        d->hold_streak = 0;
        d->packs_done++;
        d->pages_done += (uint64_t)j->res.pages;
        d->m.packs_done++;
        d->m.pages_done += (uint64_t)j->res.pages;
        for (int s = 0; s < WORKER_NSTAGES; s++)
            d->m.stage_seconds[s] += j->res.stage_ms[s] / 1000;
        d->bytes_done += j->bytes;
        spool_rate_add(&d->rate, mono_now(), d->pages_done);
        log_msg(&d->log, LOG_INFO, "finished %s: %d pages in %.0f ms "
                "(attempt %d, %.0f ms CPU)", j->claim.pack, j->res.pages,
                j->res.ms, j->claim.attempt, j->res.cpu_ms);
        return true;
    }
    if (o == SPOOL_FENCED) {
        d->leftovers = true;    /* its temporaries, if the removal failed */
        log_msg(&d->log, LOG_WARNING, "discarded %s: the claim was taken "
                "back while it was worked on (lease expired?)", j->claim.pack);
        return true;
    }
    if (o == SPOOL_TAKEN) {     /* no retry can help: to failed/ now */
        j->res.status = WORKER_BAD_INPUT;
        snprintf(j->res.reason, sizeof j->res.reason, "%s", e.msg);
        j->state = JOB_FAIL;
        j->retries = 0;
        return job_fail(d, j);
    }
    if (j->retries++ == 0)
        log_msg(&d->log, LOG_WARNING, "cannot publish %s yet: %s",
                j->claim.pack, e.msg);
    return false;
}

/* Records a failed attempt.  true when the job is resolved. */
static bool job_fail(struct daemon *d, struct job *j)
{
    errbuf e;
    bool to_failed = false;
    bool permanent = j->res.status == WORKER_BAD_INPUT;
    enum spool_outcome o = spool_fail(d->sp, &j->claim, j->res.reason,
                                      permanent, d->conf.max_attempts, d->now,
                                      &to_failed, &e);
    if (o == SPOOL_WON || o == SPOOL_LOST) {
        if (spool_remove_temps(d->sp, &j->out) < 0)   /* a killed copy's */
            d->leftovers = true;
        d->packs_failed++;
        d->m.attempts_failed++;
        if (o == SPOOL_WON && to_failed)
            d->m.packs_failed++;
        log_msg(&d->log, LOG_WARNING, "failed %s (attempt %d of %d): %s%s",
                j->claim.pack, j->claim.attempt, d->conf.max_attempts,
                j->res.reason, o == SPOOL_LOST ? " (claim already gone)" :
                to_failed ? " -> failed/" : " -> retry");
        if (o == SPOOL_WON && !to_failed)
            jobs_hold(d, j->claim.pack, j->claim.attempt);
        return true;
    }
    if (j->retries++ == 0)
        log_msg(&d->log, LOG_WARNING, "cannot record the failure of %s yet: "
                "%s", j->claim.pack, e.msg);
    return false;
}

/* Returns a claim without consuming the attempt (shutdown, or the node
 * could not do the work: WORKER_UNAVAILABLE). */
static bool job_release(struct daemon *d, struct job *j)
{
    errbuf e;
    const char *why = j->res.status == WORKER_UNAVAILABLE ? j->res.reason
                      : "node shutting down";
    enum spool_outcome o = spool_release(d->sp, &j->claim, false, d->now,
                                         why, &e);
    if (o == SPOOL_WON || o == SPOOL_LOST) {
        if (spool_remove_temps(d->sp, &j->out) < 0)
            d->leftovers = true;
        log_msg(&d->log, LOG_INFO, "released %s (attempt %d not counted): %s",
                j->claim.pack, j->claim.attempt, why);
        return true;
    }
    if (j->retries++ == 0)
        log_msg(&d->log, LOG_WARNING, "cannot release %s yet: %s",
                j->claim.pack, e.msg);
    return false;
}

static bool job_resolve(struct daemon *d, struct job *j)
{
    if (!d->available || !d->have_now)
        return false;
    switch (j->state) {
    case JOB_PUBLISH: return job_publish(d, j);
    case JOB_FAIL:    return job_fail(d, j);
    case JOB_RELEASE: return job_release(d, j);
    default:          return false;
    }
}

void jobs_retry(struct daemon *d)
{
    for (int i = 0; i < d->njobs;) {
        struct job *j = d->jobs[i];
        if (j->state != JOB_RUNNING && job_resolve(d, j))
            job_free(d, i);
        else
            i++;
    }
}

/* ------------------------------------------------------ worker ends */

/* Reads what the worker wrote on its result pipe (it has exited, so all
 * of it is there) and closes the pipe. */
static void job_read_result(struct daemon *d, struct job *j)
{
    unwatch_pipe(d, j);
    while (j->fd >= 0 && j->len < sizeof j->text - 1) {
        ssize_t n = read(j->fd, j->text + j->len, sizeof j->text - 1 - j->len);
        if (n > 0)
            j->len += (size_t)n;
        else if (n < 0 && errno == EINTR)
            continue;
        else
            break;
    }
    j->text[j->len] = '\0';
    if (j->fd >= 0)
        close(j->fd);
    j->fd = -1;
}

static void job_ended(struct daemon *d, struct job *j, int wstatus)
{
    job_read_result(d, j);
    j->pid = 0;
    if (!j->finishing)
        d->running--;
    struct worker_exit x = {
        .wstatus = wstatus, .text = j->text, .len = j->len,
        .timed_out = j->timed_out, .killed = j->killed,
        .timeout_s = d->conf.pack_timeout,
        .memory_limit = d->conf.memory_limit, .cpu_limit = d->conf.cpu_limit,
    };
    worker_judge(&x, &j->res);
    d->once_idle = false;   /* a retry may be waiting now: look again */
    if (j->res.status == WORKER_OK)
        j->state = JOB_PUBLISH;
    else if (j->killed || j->res.status == WORKER_UNAVAILABLE)
        j->state = JOB_RELEASE;
    else
        j->state = JOB_FAIL;
    if (j->res.status == WORKER_UNAVAILABLE && !j->killed)
        jobs_hold_claims(d, j->res.reason);
    log_msg(&d->log, LOG_DEBUG, "worker %ld for %s ended: %s", (long)x.wstatus,
            j->claim.pack, j->res.status == WORKER_OK ? "ok" : j->res.reason);
}

/* Notices ended workers.  The freed slots are refilled first (claim and
 * start the next packs), then the ended jobs are published: the next
 * worker runs while this one's results are renamed into place, so a
 * node's worker does not sit idle for the publish round trips. */
void jobs_reap(struct daemon *d)
{
    bool ended = false;
    for (;;) {
        int wstatus;
        pid_t pid = waitpid(-1, &wstatus, WNOHANG);
        if (pid < 0 && errno == EINTR)
            continue;
        if (pid <= 0)
            break;
        for (int i = 0; i < d->njobs; i++) {
            struct job *j = d->jobs[i];
            if (j->pid != pid || j->state != JOB_RUNNING)
                continue;
            job_ended(d, j, wstatus);
            ended = true;
            break;
        }
    }
    if (!ended)
        return;
    daemon_refill(d);
    jobs_retry(d);
}

/* Kills a worker and everything in its process group (the worker leads
 * it; should it not, at least the worker). */
static void kill_worker(struct daemon *d, const struct job *j)
{
    if (kill(-j->pid, SIGKILL) == 0)
        return;
    if (errno == ESRCH && kill(j->pid, SIGKILL) == 0)
        return;
    if (errno != ESRCH)
        log_msg(&d->log, LOG_ERR, "kill worker %ld: %s", (long)j->pid,
                strerror(errno));
}

/*
 * jobs_on_pipe — the result pipe fd of a running worker is readable: what
 * is there is added to the job's text.  When the worker says its steps
 * are done (WORKER_STEPS_DONE), its slot is given to the next pack at once
 * (daemon_refill) while it writes its results; the job stays RUNNING
 * (deadline, shutdown and memory accounting as before) and is judged and
 * published when it exits.  EOF or an error stops the watch.
 */
void jobs_on_pipe(struct daemon *d, int fd)
{
    struct job *j = NULL;
    for (int i = 0; i < d->njobs && j == NULL; i++)
        if (d->jobs[i]->fd == fd && d->jobs[i]->watched)
            j = d->jobs[i];
    if (j == NULL)
        return;
    ssize_t n;
    do
        n = read(j->fd, j->text + j->len, sizeof j->text - 1 - j->len);
    while (n < 0 && errno == EINTR);
    if (n > 0)
        j->len += (size_t)n;
    j->text[j->len] = '\0';
    if (n == 0 || (n < 0 && errno != EAGAIN) || j->len >= sizeof j->text - 1)
        unwatch_pipe(d, j);
    size_t k = strlen(WORKER_STEPS_DONE);
    if (j->state == JOB_RUNNING && !j->finishing && j->len >= k &&
        memcmp(j->text, WORKER_STEPS_DONE, k) == 0) {
        j->finishing = true;
        d->running--;
        daemon_refill(d);
    }
}

void jobs_check_deadlines(struct daemon *d, double now)
{
    for (int i = 0; i < d->njobs; i++) {
        struct job *j = d->jobs[i];
        if (j->state == JOB_RUNNING && j->deadline > 0 && now >= j->deadline &&
            !j->timed_out) {
            j->timed_out = true;
            kill_worker(d, j);
        }
    }
}

void jobs_kill_all(struct daemon *d)
{
    for (int i = 0; i < d->njobs; i++) {
        struct job *j = d->jobs[i];
        if (j->state == JOB_RUNNING && !j->killed) {
            j->killed = true;
            kill_worker(d, j);
        } else if (j->state == JOB_PUBLISH) {
            j->state = JOB_RELEASE;     /* no more time to publish */
        }
    }
}

uint64_t jobs_reserved_memory(const struct daemon *d)
{
    uint64_t sum = 0;
    for (int i = 0; i < d->njobs; i++) {
        const struct job *j = d->jobs[i];
        if (j->state != JOB_RUNNING)
            continue;
        uint64_t rss = admit_rss(j->pid);
        if (j->need > rss)
            sum += j->need - rss;
    }
    return sum;
}

double jobs_next_deadline(const struct daemon *d)
{
    double t = 0;
    for (int i = 0; i < d->njobs; i++) {
        const struct job *j = d->jobs[i];
        if (j->state == JOB_RUNNING && j->deadline > 0 && !j->timed_out &&
            (t == 0 || j->deadline < t))
            t = j->deadline;
    }
    return t;
}

/* A claim that fails without a worker (a pack found broken before it was
 * claimed): recorded like a worker's failure. */
void job_fail_claim(struct daemon *d, const struct spool_claim *c,
                    const char *reason, bool permanent)
{
    struct job *j = calloc(1, sizeof *j);
    if (j == NULL || jobs_add(d, j) < 0) {
        free(j);
        log_msg(&d->log, LOG_ERR, "out of memory for a job");
        return;
    }
    j->claim = *c;
    j->fd = -1;
    j->state = JOB_FAIL;
    j->res.status = permanent ? WORKER_BAD_INPUT : WORKER_FAILED;
    snprintf(j->res.reason, sizeof j->res.reason, "%s", reason);
    if (job_resolve(d, j))
        job_free(d, d->njobs - 1);
}

/* ------------------------------------------------------ retry holds */

/* After this node failed attempt K of a pack, it waits poll_interval *
 * 2^(K-1) (jittered, at most 10 poll intervals or 60 s) before it takes
 * the pack again, so that a passing trouble (a full disk, a busy share)
 * does not use up every attempt within a second.  Other nodes may take
 * the pack meanwhile.  The table is small; when full, the entry closest
 * to its end makes room. */
void jobs_hold(struct daemon *d, const char *pack, int attempt)
{
    double cap = 10 * d->conf.poll_interval;
    if (cap > 60)
        cap = 60;
    double until = mono_now() + backoff_delay(&d->rng, d->conf.poll_interval,
                                              cap, attempt - 1);
    int slot = d->nholds;
    for (int i = 0; i < d->nholds; i++)
        if (strcmp(d->holds[i].pack, pack) == 0)
            slot = i;
    if (slot == DAEMON_MAX_HOLDS) {
        slot = 0;
        for (int i = 1; i < d->nholds; i++)
            if (d->holds[i].until < d->holds[slot].until)
                slot = i;
    } else if (slot == d->nholds) {
        d->nholds++;
    }
    snprintf(d->holds[slot].pack, sizeof d->holds[slot].pack, "%s", pack);
    d->holds[slot].until = until;
}

bool jobs_held(struct daemon *d, const char *pack, double now)
{
    for (int i = 0; i < d->nholds; i++) {
        if (d->holds[i].until <= now) {
            d->holds[i] = d->holds[--d->nholds];
            i--;
        } else if (strcmp(d->holds[i].pack, pack) == 0) {
            return true;
        }
    }
    return false;
}
