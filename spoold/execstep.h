/*
 * execstep.h — the exec step of a pipeline: runs a site's program on a
 * pack without a shell, in a clean environment, with no descriptors but
 * stdin (/dev/null) and stdout/stderr (captured, the tail kept for the
 * report), under the worker's resource limits (inherited) and a
 * wall-clock timeout.
 *
 * The program runs in the worker's process group (the daemon kills that
 * group on pack_timeout and shutdown).  The environment holds only PATH (the daemon's, or the standard one),
 * HOME and LANG (when the daemon has them), and SPOOLD_PACK, SPOOLD_NODE,
 * SPOOLD_ATTEMPT describing the pack.
 */
#ifndef SPOOLD_EXECSTEP_H
#define SPOOLD_EXECSTEP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "errbuf.h"

#define EXEC_TAIL     2048      /* bytes of output kept */
#define EXEC_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Values of the placeholders {in}, {out}, {pack}, {node}, {attempt}. */
struct exec_subst {
    const char *in, *out, *pack, *node;
    int attempt;
};

/* Builds a new NULL-terminated argv from tmpl, replacing every occurrence
 * of a placeholder inside each argument (other braces are kept as they
 * are).  The result is one allocation: free it with free(). */
int exec_expand(char *const *tmpl, const struct exec_subst *s, char ***argv,
                errbuf *e);

/* True if some argument of tmpl contains "{out}". */
bool exec_uses_out(char *const *tmpl);

/* The clean environment for s: a NULL-terminated array in one allocation
 * (free()), values taken from `parent` (normally environ). */
char **exec_environment(char *const *parent, const struct exec_subst *s);

struct exec_result {
    int wstatus;                /* as from waitpid */
    bool started;               /* false: could not execute (see tail) */
    bool timed_out;
    double ms;
    char tail[EXEC_TAIL + 1];   /* last output bytes, NUL-terminated */
};

/* Runs argv[0] (searched in PATH) with envp; waits at most timeout_s
 * (0 = no limit), then kills it.  The program stays in the caller's
 * process group.  With kill_group (only for a caller that leads a process
 * group of its own, the worker), every other member of that group is
 * killed when the step ends, so that nothing the program started outlives
 * its step (a program that makes its own session escapes this).  Returns
 * 0 when the program was run to its end or killed (see r), -1 when it
 * could not be started at all (fork/pipe failure; a missing program is
 * r->started = false with the reason in r->tail). */
int exec_run(char *const *argv, char *const *envp, double timeout_s,
             bool kill_group, struct exec_result *r, errbuf *e);

/* Sends SIGKILL to every process of group pgrp except self, until none is
 * left (a few rounds, for processes forked meanwhile); returns how many. */
int exec_kill_group(pid_t pgrp, pid_t self);

/* 0 if r is a success (exit status 0); else -1 and a one-line reason in
 * buf: "PROG exited with status 3: ...tail", "PROG killed by signal 11
 * (Segmentation fault)", "PROG timed out after 60 s", "cannot run PROG:
 * ...".  The tail's last lines are appended, control bytes as spaces. */
int exec_describe(const struct exec_result *r, const char *prog,
                  char *buf, size_t len);

#endif
