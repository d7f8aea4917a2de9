/*
 * config.h — the configuration of spoold (and of spoolctl, which reads the
 * same file to find the spool): the struct, the libconfig parser, the
 * command-line overrides and the checks.
 *
 * Life of a configuration:
 *
 *     struct spoold_conf c;
 *     conf_defaults(&c);                       every key at its default
 *     conf_load_file(&c, "/etc/spoold.conf", &e);   or conf_load_string()
 *     conf_set(&c, "workers", "4", &e);        command-line overrides
 *     conf_finish(&c, &e);                     derived defaults + checks
 *     ...
 *     conf_free(&c);
 *
 * Errors in the file are reported as "FILE:LINE: message"; errors of an
 * override as "KEY: message".  A failed call leaves the struct valid (it
 * can still be freed) but possibly half-updated: callers that must keep a
 * working configuration (SIGHUP) load into a fresh struct and swap.
 *
 * Durations are seconds (int or float) or strings with a unit ("500ms",
 * "30s", "5m", "1h", "1d"); sizes are bytes or strings with a binary unit
 * ("64K", "512M", "2G", "1T", optional "B"/"iB").  No libconfig type
 * appears here.
 */
#ifndef SPOOLD_CONFIG_H
#define SPOOLD_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "chain.h"
#include "errbuf.h"

#define CONF_DEFAULT_PATH   "/etc/spoold.conf"
#define CONF_NODE_MAX       64      /* longest node name */
#define CONF_MAX_STEPS      32      /* longest pipeline */
#define CONF_MAX_ARGS       256     /* longest exec argv */

enum step_kind { STEP_FILTERS, STEP_EXEC };

/* In which order a node tries the ready packs of a scan (claim_order). */
enum claim_order {
    CLAIM_HASHED,   /* a node-specific hash of the name (nodes spread out) */
    CLAIM_LARGEST,  /* most bytes first, hashed among packs of about the
                       same size: shortens the tail when packs differ
                       much in size */
};

/* One step of the pipeline.  Consecutive filter entries of the file are
 * merged into one STEP_FILTERS step (one pass of the filter library: decode,
 * the stages in order, G4 encode); an empty pipeline is one STEP_FILTERS
 * step with no stages (decode + G4 encode). */
struct pipeline_step {
    enum step_kind kind;
    int line;                   /* where it starts in the file (0: default) */
    struct chain_opts chain;    /* STEP_FILTERS: stages and parameters; its
                                   read options and threads are copied from
                                   the top-level keys by conf_finish() */
    char **argv;                /* STEP_EXEC: NULL-terminated, owned */
    int argc;
    double timeout;             /* STEP_EXEC: seconds, 0 = pack_timeout only */
};

struct spoold_conf {
    char *path;                 /* file read, NULL if none */
    char *spool;                /* spool root (required by conf_finish) */
    char *output;               /* NULL until set: conf_finish -> SPOOL/out */
    char *node;                 /* NULL until set: conf_finish -> hostname */
    int workers;                /* 0 until set: conf_finish -> CPUs */
    double poll_interval;       /* s, scan period (jittered) */
    double settle;              /* s, quiet time before a pack is ready */
    double heartbeat;           /* s, heartbeat period */
    double lease;               /* s, heartbeat age after which a node is dead */
    double grace;               /* s, SIGTERM: time running packs get */
    double broken_after;        /* s quiet and still unparsable: claim it
                                   and fail it (0 = max(10 x settle, 300)) */
    int max_attempts;
    bool keep_done;             /* keep sources in done/ (else remove) */
    bool allow_root;            /* run even as root (default: refuse) */
    uint64_t memory_limit;      /* bytes of address space per worker, 0 = none */
    double cpu_limit;           /* s of CPU per worker (RLIMIT_CPU), 0 = none */
    double pack_timeout;        /* s of wall clock per pack, 0 = none */
    uint64_t min_free_memory;   /* bytes of MemAvailable kept free */
    uint64_t min_free_disk;     /* bytes kept free on the output filesystem */
    unsigned umask;             /* applied to every file the daemon creates */
    char *metrics_file;         /* Prometheus textfile, NULL = none */
    struct read_opts read;      /* default_dpi, max_pixels, binarize */
    int filter_threads;         /* pages of one pack in parallel per worker */
    enum claim_order claim_order;
    int nsteps;
    struct pipeline_step *steps;
    int lease_line;             /* line of lease/heartbeat in `path`, for the
                                   message of a cross-key check; 0 = none */
};

/* Every key at its default; the pipeline is the default filter chain. */
void conf_defaults(struct spoold_conf *c);

/* Reads FILE over c (keys absent from the file keep their value). */
int conf_load_file(struct spoold_conf *c, const char *path, errbuf *e);

/* The same from text in memory; `name` is used as FILE in messages. */
int conf_load_string(struct spoold_conf *c, const char *text,
                     const char *name, errbuf *e);

/* Sets one top-level scalar key from a string (command line): the same
 * parsing and bounds as in the file.  "pipeline" cannot be set this way. */
int conf_set(struct spoold_conf *c, const char *key, const char *value,
             errbuf *e);

/* Fills derived defaults (output, node, workers), copies the read options
 * into the filter steps, and checks what involves several keys (spool set,
 * lease vs heartbeat). */
int conf_finish(struct spoold_conf *c, errbuf *e);

/* Frees what c owns and leaves it zeroed. */
void conf_free(struct spoold_conf *c);

/* Moves src into dst (freeing dst's old content); src is left zeroed. */
void conf_move(struct spoold_conf *dst, struct spoold_conf *src);

/* 0 if `name` is a valid node name: [A-Za-z0-9._-]{1,64}, not starting
 * with '.'; else -1 with the reason. */
int conf_check_node(const char *name, errbuf *e);

/* Parses a size ("2G", "512M", "4096") into bytes; -1 on a bad string. */
int conf_parse_size(const char *s, uint64_t *bytes, errbuf *e);

/* Parses a duration ("1.5", "500ms", "2m") into seconds; -1 if bad. */
int conf_parse_duration(const char *s, double *secs, errbuf *e);

/* Formats bytes as a short human string ("1.5G") into buf. */
const char *conf_format_size(uint64_t bytes, char *buf, size_t len);

/* One line describing the pipeline ("border,deskew | exec ocr"), for logs. */
const char *conf_pipeline_describe(const struct spoold_conf *c, char *buf,
                                   size_t len);

#endif
