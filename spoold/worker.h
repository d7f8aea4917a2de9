/*
 * worker.h — one pack, one forked worker process.
 *
 * The daemon forks a worker per claimed pack.  The worker puts itself in
 * its own process group, takes the resource limits (RLIMIT_AS =
 * memory_limit, RLIMIT_CPU = cpu_limit, no core files), runs the pipeline
 * (pipeline_run), writes the output TIFF and its JSON report to the paths
 * the spool module chose, and tells the daemon the outcome twice: one
 * result line on a pipe and its exit status (0 done, 1 failed attempt,
 * 2 bad input).  The daemon enforces pack_timeout by killing the group.
 * Whatever happens inside (a crash, an exhausted limit, a runaway exec
 * step), the daemon turns it into a worker_result with a reason: a failed
 * attempt, never a failed daemon.
 */
#ifndef SPOOLD_WORKER_H
#define SPOOLD_WORKER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "errbuf.h"

#define WORKER_REASON_MAX 400
#define WORKER_NSTAGES 8   /* stage times, in the order of metrics.h's
                              enum metrics_stage: border, orient, deskew,
                              despeckle, crop, read, write, exec */

enum worker_status {
    WORKER_OK = 0,          /* output and report written */
    WORKER_FAILED = 1,      /* a failed attempt: retry (maybe elsewhere) */
    WORKER_BAD_INPUT = 2,   /* the pack does not decode: fails everywhere */
    WORKER_UNAVAILABLE = 3, /* the node could not do the work, through no
                               fault of the pack: the output or the spool
                               went away (ENOTCONN, EIO, ESTALE, the output
                               marker gone) or is full (ENOSPC, EDQUOT).
                               The claim is returned without counting the
                               attempt: the pack waits for a node that can */
};

struct worker_result {
    enum worker_status status;
    int pages;              /* pages in the output */
    double ms;              /* wall time in the worker */
    double cpu_ms;          /* CPU time of the worker and its children */
    double stage_ms[WORKER_NSTAGES];  /* time per stage (OK results) */
    char reason[WORKER_REASON_MAX];   /* why, when not OK */
};

struct worker_job {
    const struct spoold_conf *conf;
    const char *pack;       /* the pack's name (P) */
    const char *src;        /* path of the claimed pack: file or directory */
    bool is_dir;
    int attempt;
    const char *workdir;    /* private directory for intermediate files
                               (created by the worker, removed by the
                               daemon) */
    const char *out_tif;    /* where the result goes (same file system as
                               workdir, or copied) */
    const char *out_json;   /* where the report goes */
    double timeout_s;       /* what is left of pack_timeout (0 = none):
                               exec steps get at most this */
    bool own_group;         /* the process leads a group of its own (the
                               forked worker): exec steps may kill what
                               they leave behind in it */
    /* Checked just before the results are written into the output
     * directory (NULL: no check): -1 with the reason if the output is
     * not the spool's any more (spool_check_output: a vanished mount). */
    int (*out_ok)(const void *ctx, errbuf *e);
    const void *out_ctx;
    int notify_fd;          /* > 0: WORKER_STEPS_DONE is written here when
                               the steps are done, before the results are
                               written (the daemon gives the worker slot to
                               the next pack); 0 (unset) or -1 = none */
};

/* The line a worker writes ahead of its result line when its steps are
 * done and only writing the results (report, renames) is left. */
#define WORKER_STEPS_DONE "steps done\n"

/* Forks the worker for job.  Returns its pid (a process group leader) and
 * in *result_fd the read end (non-blocking, close-on-exec) of its result
 * pipe; -1 with the reason if it could not fork. */
pid_t worker_spawn(const struct worker_job *job, int *result_fd, errbuf *e);

/* Runs the pipeline of job in the calling process (the worker's body; the
 * tests call it directly).  Fills r; returns r->status. */
enum worker_status pipeline_run(const struct worker_job *job,
                                struct worker_result *r);

/* The result line: "ok PAGES MS CPU_MS STAGE_MS*8\n", "fail MS CPU_MS
 * REASON\n", "bad MS CPU_MS REASON\n" or "unavail MS CPU_MS REASON\n"
 * (reason on one line).  The parser skips a WORKER_STEPS_DONE line before
 * it. */
int worker_result_format(const struct worker_result *r, char *buf,
                         size_t len);
int worker_result_parse(const char *text, size_t len, struct worker_result *r);

/* What the daemon knows about a finished worker. */
struct worker_exit {
    int wstatus;            /* from waitpid */
    const char *text;       /* what it wrote on the result pipe */
    size_t len;
    bool timed_out;         /* killed by the daemon after pack_timeout */
    bool killed;            /* killed by the daemon on shutdown */
    double timeout_s;       /* pack_timeout, for the message */
    uint64_t memory_limit;  /* for the message */
    double cpu_limit;       /* for the message */
};

/* Judges a finished worker: a well-formed result line with a matching exit
 * status is taken as is; otherwise a failed attempt whose reason says what
 * happened ("worker killed by signal 11 (Segmentation fault)", "exceeded
 * cpu_limit (60 s)", "pack_timeout (600 s) exceeded", "exited with status
 * 3 without a result").  Never WORKER_BAD_INPUT unless the worker said so
 * and exited 2. */
void worker_judge(const struct worker_exit *x, struct worker_result *r);

/* Removes a worker's directory tree (files and subdirectories); 0 or -1. */
int worker_rmtree(const char *dir, errbuf *e);

#endif
