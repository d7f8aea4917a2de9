/*
 * execstep.c — runs the program of an exec step: placeholder expansion,
 * clean environment, fork/exec without a shell, output tail capture,
 * timeout (see execstep.h).
 */
#include "execstep.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"

/* ----------------------------------------------------------- expansion */

static const char *subst_value(const struct exec_subst *s, const char *p,
                               size_t *taglen, char *numbuf, size_t numlen)
{
    static const char *const tags[] = { "{in}", "{out}", "{pack}", "{node}",
                                        "{attempt}" };
    for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++) {
        size_t n = strlen(tags[i]);
        if (strncmp(p, tags[i], n) != 0)
            continue;
        *taglen = n;
        switch (i) {
        case 0: return s->in ? s->in : "";
        case 1: return s->out ? s->out : "";
        case 2: return s->pack ? s->pack : "";
        case 3: return s->node ? s->node : "";
        default:
            snprintf(numbuf, numlen, "%d", s->attempt);
            return numbuf;
        }
    }
    return NULL;
}

/* Length of tmpl argument a after expansion (without the NUL), or writes
 * it to out when out is not NULL. */
static size_t expand_one(const char *a, const struct exec_subst *s, char *out)
{
    size_t n = 0;
    char num[24];
    for (const char *p = a; *p != '\0';) {
        size_t taglen = 0;
        const char *v = *p == '{' ? subst_value(s, p, &taglen, num, sizeof num)
                                  : NULL;
        if (v != NULL) {
            size_t vl = strlen(v);
            if (out)
                memcpy(out + n, v, vl);
            n += vl;
            p += taglen;
        } else {
            if (out)
                out[n] = *p;
            n++;
            p++;
        }
    }
    if (out)
        out[n] = '\0';
    return n;
}

int exec_expand(char *const *tmpl, const struct exec_subst *s, char ***argv,
                errbuf *e)
{
    size_t argc = 0, bytes = 0;
    for (; tmpl[argc] != NULL; argc++)
        bytes += expand_one(tmpl[argc], s, NULL) + 1;
    size_t ptrs = (argc + 1) * sizeof(char *);
    char **v = malloc(ptrs + bytes);
    if (v == NULL)
        return err_set(e, "out of memory");
    char *at = (char *)v + ptrs;
    for (size_t i = 0; i < argc; i++) {
        v[i] = at;
        at += expand_one(tmpl[i], s, at) + 1;
    }
    v[argc] = NULL;
    *argv = v;
    return 0;
}

bool exec_uses_out(char *const *tmpl)
{
    for (size_t i = 0; tmpl[i] != NULL; i++)
        if (strstr(tmpl[i], "{out}") != NULL)
            return true;
    return false;
}

static const char *env_get(char *const *env, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; env != NULL && env[i] != NULL; i++)
        if (strncmp(env[i], name, n) == 0 && env[i][n] == '=')
            return env[i] + n + 1;
    return NULL;
}

char **exec_environment(char *const *parent, const struct exec_subst *s)
{
    char vals[6][4200];
    int n = 0;
    const char *path = env_get(parent, "PATH");
    snprintf(vals[n++], sizeof vals[0], "PATH=%s", path ? path : EXEC_DEFAULT_PATH);
    static const char *const keep[] = { "HOME", "LANG" };
    for (int i = 0; i < 2; i++) {
        const char *v = env_get(parent, keep[i]);
        if (v != NULL)
            snprintf(vals[n++], sizeof vals[0], "%s=%s", keep[i], v);
    }
    snprintf(vals[n++], sizeof vals[0], "SPOOLD_PACK=%s", s->pack ? s->pack : "");
    snprintf(vals[n++], sizeof vals[0], "SPOOLD_NODE=%s", s->node ? s->node : "");
    snprintf(vals[n++], sizeof vals[0], "SPOOLD_ATTEMPT=%d", s->attempt);
    size_t bytes = 0;
    for (int i = 0; i < n; i++)
        bytes += strlen(vals[i]) + 1;
    char **env = malloc((size_t)(n + 1) * sizeof(char *) + bytes);
    if (env == NULL)
        return NULL;
    char *at = (char *)(env + n + 1);
    for (int i = 0; i < n; i++) {
        env[i] = at;
        at = stpcpy(at, vals[i]) + 1;
    }
    env[n] = NULL;
    return env;
}

/* ------------------------------------------------------------- running */

/* In the child: death signal, descriptors, exec.  Never returns; an exec
 * failure is sent as errno through errfd.  The child stays in the caller's
 * process group, so that killing the worker's group kills the step and
 * everything it started. */
static void child_exec(char *const *argv, char *const *envp, int outfd,
                       int errfd, pid_t parent)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(outfd, 1) < 0 ||
        dup2(outfd, 2) < 0)
        goto fail;
    /* everything else closes on exec, including errfd (so its EOF says
     * the exec worked) */
    if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
        for (int fd = 3; fd < 1024; fd++)
            if (fd != errfd)
                close(fd);
    }
    execvpe(argv[0], argv, envp);
fail:;
    int err = errno;
    ssize_t w = write(errfd, &err, sizeof err);
    (void)w;
    _exit(127);
}

/* Appends n bytes to the tail buffer (keeps the last EXEC_TAIL). */
static void tail_add(char *tail, size_t *len, const char *buf, size_t n)
{
    if (n >= EXEC_TAIL) {
        memcpy(tail, buf + n - EXEC_TAIL, EXEC_TAIL);
        *len = EXEC_TAIL;
        return;
    }
    if (*len + n > EXEC_TAIL) {
        size_t drop = *len + n - EXEC_TAIL;
        memmove(tail, tail + drop, *len - drop);
        *len -= drop;
    }
    memcpy(tail + *len, buf, n);
    *len += n;
}

/* Reads the child's output until it exits (and the pipe drains) or the
 * deadline passes; returns true if the deadline passed. */
static bool collect(int fd, pid_t pid, double deadline, struct exec_result *r,
                    int *wstatus, bool *reaped)
{
    size_t len = 0;
    bool open_pipe = true;
    for (;;) {
        if (!*reaped && waitpid(pid, wstatus, WNOHANG) == pid)
            *reaped = true;
        if (*reaped && !open_pipe)
            break;
        double left = deadline > 0 ? deadline - mono_now() : 1.0;
        if (left <= 0) {
            r->tail[len] = '\0';
            return true;
        }
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int ms = left > 0.1 ? 100 : (int)(left * 1000) + 1;
        int pr = open_pipe ? poll(&p, 1, ms) : (usleep(20000), 0);
        if (pr > 0) {
            char buf[4096];
            ssize_t n = read(fd, buf, sizeof buf);
            if (n > 0)
                tail_add(r->tail, &len, buf, (size_t)n);
            else if (n == 0 || errno != EINTR)
                open_pipe = false;
        } else if (*reaped) {
            /* exited, nothing more within 100 ms: a descendant may hold
             * the pipe; what it writes later is not this step's */
            break;
        }
    }
    r->tail[len] = '\0';
    return false;
}

/* Waits for the exec-error pipe: 0 if the exec worked, else errno. */
static int exec_errno(int errfd)
{
    int err = 0;
    ssize_t n;
    do
        n = read(errfd, &err, sizeof err);
    while (n < 0 && errno == EINTR);
    return n == (ssize_t)sizeof err ? err : 0;
}

/* Process group of pid from /proc/PID/stat (field 5, after the command
 * name in parentheses, which may itself hold ") "); -1 if unknown. */
static pid_t proc_pgrp(const char *pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%s/stat", pid);
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    char *rp = strrchr(buf, ')');
    char state;
    long ppid, pgrp;
    if (rp == NULL || sscanf(rp + 1, " %c %ld %ld", &state, &ppid, &pgrp) != 3)
        return -1;
    return (pid_t)pgrp;
}

/* True unless the caller certainly has no child process left.  With the
 * caller a child subreaper (exec_run makes it one), every descendant of a
 * step that outlived its parent has become the caller's child, so "no
 * children" (ECHILD) means nothing the step started is alive and the
 * /proc scan of exec_kill_group can be skipped: it costs ~600 system
 * calls on a machine with 200 processes, on every pack. */
static bool children_left(void)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    return waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == 0 ||
           errno != ECHILD;
}

int exec_kill_group(pid_t pgrp, pid_t self)
{
    int killed = 0;
    for (int round = 0; round < 20; round++) {
        DIR *d = opendir("/proc");
        if (d == NULL)
            return killed;
        int found = 0;
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (de->d_name[0] < '1' || de->d_name[0] > '9')
                continue;
            pid_t pid = (pid_t)atol(de->d_name);
            if (pid != self && proc_pgrp(de->d_name) == pgrp &&
                kill(pid, SIGKILL) == 0)
                found++;
        }
        closedir(d);
        killed += found;
        if (found == 0)
            break;
        usleep(10000);
    }
    return killed;
}

int exec_run(char *const *argv, char *const *envp, double timeout_s,
             bool kill_group, struct exec_result *r, errbuf *e)
{
    memset(r, 0, sizeof *r);
    int out[2], errp[2];
    if (pipe2(out, O_CLOEXEC) < 0)
        return err_errno(e, errno, "pipe");
    if (pipe2(errp, O_CLOEXEC) < 0) {
        int err = errno;
        close(out[0]);
        close(out[1]);
        return err_errno(e, err, "pipe");
    }
    double t0 = mono_now();
    pid_t self = getpid();
    bool subreaper = kill_group && prctl(PR_SET_CHILD_SUBREAPER, 1) == 0;
    pid_t pid = fork();
    if (pid < 0) {
        int err = errno;
        close(out[0]); close(out[1]); close(errp[0]); close(errp[1]);
        return err_errno(e, err, "fork");
    }
    if (pid == 0)
        child_exec(argv, envp, out[1], errp[1], self);
    close(out[1]);
    close(errp[1]);
    int err = exec_errno(errp[0]);
    close(errp[0]);
    r->started = err == 0;
    if (!r->started) {
        close(out[0]);
        while (waitpid(pid, &r->wstatus, 0) < 0 && errno == EINTR)
            ;
        snprintf(r->tail, sizeof r->tail, "%s", strerror(err));
        r->ms = (mono_now() - t0) * 1000;
        return 0;
    }
    bool reaped = false;
    r->timed_out = collect(out[0], pid, timeout_s > 0 ? t0 + timeout_s : 0,
                           r, &r->wstatus, &reaped);
    close(out[0]);
    if (!reaped)
        kill(pid, SIGKILL);
    if (kill_group && getpgrp() == getpid() && (!subreaper || children_left()))
        exec_kill_group(getpgrp(), getpid());
    if (!reaped)
        while (waitpid(pid, &r->wstatus, 0) < 0 && errno == EINTR)
            ;
    r->ms = (mono_now() - t0) * 1000;
    return 0;
}

/* Appends the last lines of the tail (up to ~300 bytes) to buf, control
 * bytes as spaces. */
static void append_tail(char *buf, size_t len, const char *tail)
{
    size_t tl = strlen(tail);
    while (tl > 0 && (tail[tl - 1] == '\n' || tail[tl - 1] == ' '))
        tl--;
    if (tl == 0)
        return;
    size_t from = tl > 300 ? tl - 300 : 0;
    size_t at = strlen(buf);
    if (at + 4 >= len)
        return;
    at += (size_t)snprintf(buf + at, len - at, ": %s", from ? "..." : "");
    for (size_t i = from; i < tl && at + 1 < len; i++) {
        unsigned char ch = (unsigned char)tail[i];
        buf[at++] = (ch < 0x20 || ch == 0x7f) ? ' ' : (char)ch;
    }
    buf[at] = '\0';
}

int exec_describe(const struct exec_result *r, const char *prog,
                  char *buf, size_t len)
{
    if (!r->started) {
        snprintf(buf, len, "cannot run %s: %s", prog, r->tail);
        return -1;
    }
    if (r->timed_out)
        snprintf(buf, len, "%s timed out after %.0f s", prog, r->ms / 1000);
    else if (WIFSIGNALED(r->wstatus))
        snprintf(buf, len, "%s killed by signal %d (%s)", prog,
                 WTERMSIG(r->wstatus), strsignal(WTERMSIG(r->wstatus)));
    else if (WIFEXITED(r->wstatus) && WEXITSTATUS(r->wstatus) != 0)
        snprintf(buf, len, "%s exited with status %d", prog,
                 WEXITSTATUS(r->wstatus));
    else {
        if (len > 0)
            buf[0] = '\0';
        return 0;
    }
    append_tail(buf, len, r->tail);
    return -1;
}
