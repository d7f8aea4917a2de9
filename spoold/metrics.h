/*
 * metrics.h — the node's figures as a Prometheus textfile-collector file.
 *
 * The daemon keeps a plain `metrics` struct (counters since it started,
 * gauges as last seen) and calls metrics_write() after each loop turn that
 * changed something, or every heartbeat.  The file is what node_exporter's
 * textfile collector reads (--collector.textfile.directory, usually
 * /var/lib/prometheus/node-exporter, files named *.prom): the text exposition format,
 * one "# HELP" and one "# TYPE" line per metric, then its samples, every
 * sample labelled with node="NODE" (and spool="PATH" when given, so that
 * several spoold instances on one machine never write the same series).
 *
 * The file is replaced atomically: written under a hidden temporary name in
 * the same directory, fsync'd, closed, made world-readable, renamed over
 * the old one.  A reader never sees a half-written file; a failed write
 * leaves the previous file as it was and no temporary behind.
 *
 * Metrics (every name starts with spoold_):
 *   packs_total{result="done"|"failed"}      counter  packs published /
 *                                                       moved to failed/
 *   pages_total{result="done"|"failed"}      counter  their pages
 *   attempts_failed_total                    counter  failed attempts
 *                                                       (crash, limit, ...)
 *   stage_seconds_total{stage=...}           counter  time in each stage
 *   claims_lost_total                        counter  claim renames lost
 *                                                       to another node
 *   reclaims_total                           counter  dead nodes' claims
 *                                                       taken back
 *   queue_packs{state=...}                   gauge    packs per spool state
 *   oldest_incoming_age_seconds              gauge    oldest waiting pack
 *   heartbeat_age_seconds                    gauge    own heartbeat age
 *   spool_available                          gauge    1 if .spool-id checks
 *   workers{state="busy"|"total"}            gauge    worker slots
 * A gauge whose value is unknown (negative) has no sample, only its HELP
 * and TYPE lines: absent data is not reported as zero.
 */
#ifndef SPOOLD_METRICS_H
#define SPOOLD_METRICS_H

#include <stdint.h>
#include <stdio.h>

#include "errbuf.h"

/* Pipeline stages; the first five have the numbers of chain.h's
 * enum stage_id, so a page report's stage_ms[s] adds to stage_seconds[s]. */
enum metrics_stage {
    METRICS_STAGE_BORDER,
    METRICS_STAGE_ORIENT,
    METRICS_STAGE_DESKEW,
    METRICS_STAGE_DESPECKLE,
    METRICS_STAGE_CROP,
    METRICS_STAGE_READ,         /* decoding input pages */
    METRICS_STAGE_WRITE,        /* encoding and writing the G4 output */
    METRICS_STAGE_EXEC,         /* exec steps (user programs) */
    METRICS_NSTAGES
};

/* Spool states counted by queue_packs. */
enum metrics_state {
    METRICS_Q_INCOMING,         /* incoming/ */
    METRICS_Q_CLAIMED,          /* claimed/P@NODE(+K): being worked on */
    METRICS_Q_RETRY,            /* claimed/P@+K: released, waiting */
    METRICS_Q_DONE,             /* done/ */
    METRICS_Q_FAILED,           /* failed/ (packs, not .err files) */
    METRICS_NSTATES
};

typedef struct metrics {
    /* counters since start; never negative */
    uint64_t packs_done, packs_failed;
    uint64_t pages_done, pages_failed;
    uint64_t attempts_failed;
    uint64_t claims_lost;
    uint64_t reclaims;
    double stage_seconds[METRICS_NSTAGES];
    /* gauges; negative = unknown (no sample written) */
    int64_t queue[METRICS_NSTATES];
    double oldest_incoming_age;         /* seconds, server time */
    double heartbeat_age;               /* seconds, server time */
    int spool_available;                /* 1 = yes, 0 = no */
    int workers_busy, workers_total;
} metrics;

/* Zero counters, every gauge unknown. */
void metrics_init(metrics *m);

/* Label values of the stage / state indices ("border", ..., "exec";
 * "incoming", ..., "failed"); NULL when out of range. */
const char *metrics_stage_name(int stage);
const char *metrics_state_name(int state);

/* Adds the per-stage milliseconds of filter-library page reports (the
 * JSON lines chain_clean_files writes: each has an object
 * "ms":{"read":..,"border":..,..,"write":..}) into ms[], indexed by
 * enum metrics_stage; keys that are not stage names are skipped, a null
 * value (NaN in the report) counts as 0.  Returns the number of "ms"
 * objects found, or -1 if one is malformed (ms[] then holds what was added
 * before it). */
int metrics_add_report_ms(double ms[METRICS_NSTAGES], const char *text,
                          size_t len);

/* Writes the exposition text for m to out.  node is required; spool may be
 * NULL (no spool label).  Returns 0, or -1 if a counter is negative or not
 * finite (a bug in the caller) or the stream fails. */
int metrics_format(FILE *out, const metrics *m, const char *node,
                   const char *spool, errbuf *e);

/* Formats m and replaces the file at path atomically (see the top of this
 * file), mode 0644.  On failure the old file is untouched, no temporary is
 * left, and e says what failed: "PATH: REASON". */
int metrics_write(const char *path, const metrics *m, const char *node,
                  const char *spool, errbuf *e);

#endif
