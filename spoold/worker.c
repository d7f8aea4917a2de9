/*
 * worker.c — forks the worker process of one pack, sets its limits, and
 * turns whatever becomes of it into a worker_result (see worker.h).
 */
#include "worker.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define RESULT_FD 3     /* the result pipe inside the worker */

/* ---------------------------------------------------------- result line */

/* Copies s into a one-line reason (control bytes become spaces). */
static void one_line(char *dst, size_t len, const char *s)
{
    size_t i = 0;
    for (; s[i] != '\0' && i + 1 < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        dst[i] = (ch < 0x20 || ch == 0x7f) ? ' ' : (char)ch;
    }
    if (len > 0)
        dst[i] = '\0';
}

int worker_result_format(const struct worker_result *r, char *buf, size_t len)
{
    char reason[WORKER_REASON_MAX];
    one_line(reason, sizeof reason, r->reason);
    int n;
    if (r->status == WORKER_OK) {
        n = snprintf(buf, len, "ok %d %.3f %.3f", r->pages, r->ms, r->cpu_ms);
        for (int i = 0; i < WORKER_NSTAGES && n > 0 && (size_t)n < len; i++)
            n += snprintf(buf + n, len - (size_t)n, " %.3f", r->stage_ms[i]);
        if (n > 0 && (size_t)n < len)
            n += snprintf(buf + n, len - (size_t)n, "\n");
    } else
        n = snprintf(buf, len, "%s %.3f %.3f %s\n",
                     r->status == WORKER_BAD_INPUT ? "bad" :
                     r->status == WORKER_UNAVAILABLE ? "unavail" : "fail",
                     r->ms, r->cpu_ms, reason[0] ? reason : "unknown error");
    return (n < 0 || (size_t)n >= len) ? -1 : n;
}

int worker_result_parse(const char *text, size_t len, struct worker_result *r)
{
    size_t skip = strlen(WORKER_STEPS_DONE);
    if (len >= skip && memcmp(text, WORKER_STEPS_DONE, skip) == 0) {
        text += skip;
        len -= skip;
    }
    char line[WORKER_REASON_MAX + 64];
    const char *nl = memchr(text, '\n', len);
    if (nl == NULL || (size_t)(nl - text) >= sizeof line)
        return -1;
    memcpy(line, text, (size_t)(nl - text));
    line[nl - text] = '\0';
    memset(r, 0, sizeof *r);
    int off = 0;
    if (strncmp(line, "ok ", 3) == 0) {
        const char *p = line + 3;
        if (sscanf(p, "%d %lf %lf%n", &r->pages, &r->ms, &r->cpu_ms,
                   &off) != 3 || r->pages < 0)
            return -1;
        for (int i = 0; i < WORKER_NSTAGES; i++) {
            p += off;
            if (sscanf(p, " %lf%n", &r->stage_ms[i], &off) != 1)
                return -1;
        }
        if (p[off] != '\0')
            return -1;
        r->status = WORKER_OK;
        return 0;
    }
    bool bad = strncmp(line, "bad ", 4) == 0;
    bool unavail = strncmp(line, "unavail ", 8) == 0;
    if (!bad && !unavail && strncmp(line, "fail ", 5) != 0)
        return -1;
    const char *p = line + (bad ? 4 : unavail ? 8 : 5);
    if (sscanf(p, "%lf %lf %n", &r->ms, &r->cpu_ms, &off) != 2 || off == 0 ||
        p[off] == '\0')
        return -1;
    r->status = bad ? WORKER_BAD_INPUT : unavail ? WORKER_UNAVAILABLE
                                                 : WORKER_FAILED;
    snprintf(r->reason, sizeof r->reason, "%s", p + off);
    return 0;
}

/* ---------------------------------------------------------- judging */

static void judge_signal(const struct worker_exit *x, int sig,
                         struct worker_result *r)
{
    if (sig == SIGXCPU || (sig == SIGKILL && x->cpu_limit > 0 &&
                           !x->timed_out && !x->killed && r->cpu_ms > 0 &&
                           r->cpu_ms >= x->cpu_limit * 1000))
        snprintf(r->reason, sizeof r->reason, "worker exceeded cpu_limit "
                 "(%g s)", x->cpu_limit);
    else
        snprintf(r->reason, sizeof r->reason, "worker killed by signal %d "
                 "(%s)", sig, strsignal(sig));
}

void worker_judge(const struct worker_exit *x, struct worker_result *r)
{
    struct worker_result said;
    bool has_line = x->text != NULL &&
                    worker_result_parse(x->text, x->len, &said) == 0;
    bool exited = WIFEXITED(x->wstatus);
    int code = exited ? WEXITSTATUS(x->wstatus) : -1;
    if (has_line && exited && code == (int)said.status && !x->timed_out) {
        *r = said;
        return;
    }
    memset(r, 0, sizeof *r);
    r->status = WORKER_FAILED;
    if (has_line) {
        r->ms = said.ms;
        r->cpu_ms = said.cpu_ms;
    }
    if (x->timed_out)
        snprintf(r->reason, sizeof r->reason, "pack_timeout (%g s) exceeded: "
                 "worker killed", x->timeout_s);
    else if (x->killed)
        snprintf(r->reason, sizeof r->reason, "worker stopped: node "
                 "shutting down");
    else if (WIFSIGNALED(x->wstatus))
        judge_signal(x, WTERMSIG(x->wstatus), r);
    else if (has_line)
        snprintf(r->reason, sizeof r->reason, "worker exited with status %d "
                 "after '%s%s'", code,
                 said.status == WORKER_OK ? "ok" : "", said.reason);
    else
        snprintf(r->reason, sizeof r->reason, "worker exited with status %d "
                 "without a result", code);
}

/* ---------------------------------------------------------- the child */

/* Resource limits of the worker.  RLIMIT_AS is not applied in a build
 * with AddressSanitizer, which reserves terabytes of address space. */
static int set_limits(const struct spoold_conf *c, errbuf *e)
{
    struct rlimit rl = { 0, 0 };
    if (setrlimit(RLIMIT_CORE, &rl) < 0)
        return err_errno(e, errno, "setrlimit(RLIMIT_CORE)");
#ifndef __SANITIZE_ADDRESS__
    if (c->memory_limit > 0) {
        rl.rlim_cur = rl.rlim_max = (rlim_t)c->memory_limit;
        if (setrlimit(RLIMIT_AS, &rl) < 0)
            return err_errno(e, errno, "setrlimit(RLIMIT_AS)");
    }
#endif
    if (c->cpu_limit > 0) {
        rl.rlim_cur = (rlim_t)ceil(c->cpu_limit);
        rl.rlim_max = rl.rlim_cur + 5;  /* SIGXCPU first, SIGKILL later */
        if (setrlimit(RLIMIT_CPU, &rl) < 0)
            return err_errno(e, errno, "setrlimit(RLIMIT_CPU)");
    }
    return 0;
}

/* The worker's body after fork: never returns. */
static void worker_child(const struct worker_job *job, int wfd, pid_t parent)
{
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(WORKER_FAILED);
    static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGPIPE };
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        signal(sigs[i], SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    struct worker_result r;
    memset(&r, 0, sizeof r);
    errbuf e;
    if (dup2(wfd, RESULT_FD) < 0)
        _exit(WORKER_FAILED);
    if (close_range(RESULT_FD + 1, ~0U, 0) < 0)
        for (int fd = RESULT_FD + 1; fd < 1024; fd++)
            close(fd);
    struct worker_job own = *job;
    own.own_group = getpgrp() == getpid();
    own.notify_fd = RESULT_FD;
    if (set_limits(job->conf, &e) < 0) {
        r.status = WORKER_FAILED;
        snprintf(r.reason, sizeof r.reason, "%s", e.msg);
    } else {
        pipeline_run(&own, &r);
    }
    char line[WORKER_REASON_MAX + 64];
    int n = worker_result_format(&r, line, sizeof line);
    if (n > 0 && write(RESULT_FD, line, (size_t)n) != n)
        _exit(WORKER_FAILED);
    _exit((int)r.status);
}

pid_t worker_spawn(const struct worker_job *job, int *result_fd, errbuf *e)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return err_errno(e, errno, "pipe");
    pid_t self = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int err = errno;
        close(p[0]);
        close(p[1]);
        return err_errno(e, err, "fork");
    }
    if (pid == 0) {
        close(p[0]);
        worker_child(job, p[1], self);
    }
    /* also here, so that kill(-pid) works at once; a failure means the
     * child did it first (or died): the daemon's kill falls back to the
     * worker alone */
    (void)setpgid(pid, pid);
    close(p[1]);
    /* the pipe is read once the worker has exited; non-blocking so that a
     * descendant holding it open can never stall the loop */
    int fl = fcntl(p[0], F_GETFL);
    if (fl < 0 || fcntl(p[0], F_SETFL, fl | O_NONBLOCK) < 0) {
        int err = errno;
        close(p[0]);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return err_errno(e, err, "fcntl");
    }
    *result_fd = p[0];
    return pid;
}

/* ---------------------------------------------------------- cleanup */

static int rmtree_at(int dirfd, const char *name, int depth, errbuf *e)
{
    if (depth > 16)
        return err_set(e, "%s: directories nested too deep", name);
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOTDIR || errno == ELOOP) {
            if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
                return err_errno(e, errno, "unlink %s", name);
            return 0;
        }
        return errno == ENOENT ? 0 : err_errno(e, errno, "open %s", name);
    }
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        int err = errno;
        close(fd);
        return err_errno(e, err, "opendir %s", name);
    }
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (errno = 0, de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (unlinkat(fd, de->d_name, 0) == 0 || errno == ENOENT)
            continue;
        if (errno == EISDIR || errno == EPERM || errno == ENOTEMPTY)
            rc = rmtree_at(fd, de->d_name, depth + 1, e);
        else
            rc = err_errno(e, errno, "unlink %s/%s", name, de->d_name);
    }
    if (rc == 0 && de == NULL && errno != 0)
        rc = err_errno(e, errno, "readdir %s", name);
    closedir(d);
    if (rc == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
        rc = err_errno(e, errno, "rmdir %s", name);
    return rc;
}

int worker_rmtree(const char *dir, errbuf *e)
{
    return rmtree_at(AT_FDCWD, dir, 0, e);
}
