/*
 * mkmetrics.c — writes a metrics file with spoold's own writer
 * (metrics_write) from figures given on the command line, so shell tests
 * can check the real output with promcheck without running a daemon.
 *
 *   mkmetrics PATH NODE [SPOOL] [FIELD=VALUE...]
 *
 * FIELD is one of packs_done packs_failed pages_done pages_failed
 * attempts_failed claims_lost reclaims heartbeat_age oldest_incoming_age
 * spool_available workers_busy workers_total, stage.NAME (seconds) or
 * queue.STATE; unset gauges stay unknown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

/* Sets one FIELD=VALUE; returns -1 for an unknown field or a bad value. */
static int set_field(metrics *m, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (eq == NULL)
        return -1;
    char *end;
    double v = strtod(eq + 1, &end);
    if (end == eq + 1 || *end != '\0')
        return -1;
    size_t n = (size_t)(eq - arg);
#define IS(name) (n == strlen(name) && strncmp(arg, name, n) == 0)
    if (IS("packs_done")) m->packs_done = (uint64_t)v;
    else if (IS("packs_failed")) m->packs_failed = (uint64_t)v;
    else if (IS("pages_done")) m->pages_done = (uint64_t)v;
    else if (IS("pages_failed")) m->pages_failed = (uint64_t)v;
    else if (IS("attempts_failed")) m->attempts_failed = (uint64_t)v;
    else if (IS("claims_lost")) m->claims_lost = (uint64_t)v;
    else if (IS("reclaims")) m->reclaims = (uint64_t)v;
    else if (IS("heartbeat_age")) m->heartbeat_age = v;
    else if (IS("oldest_incoming_age")) m->oldest_incoming_age = v;
    else if (IS("spool_available")) m->spool_available = (int)v;
    else if (IS("workers_busy")) m->workers_busy = (int)v;
    else if (IS("workers_total")) m->workers_total = (int)v;
#undef IS
    else {
        for (int i = 0; i < METRICS_NSTAGES; i++)
            if (n == 6 + strlen(metrics_stage_name(i)) &&
                strncmp(arg, "stage.", 6) == 0 &&
                strncmp(arg + 6, metrics_stage_name(i), n - 6) == 0) {
                m->stage_seconds[i] = v;
                return 0;
            }
        for (int i = 0; i < METRICS_NSTATES; i++)
            if (n == 6 + strlen(metrics_state_name(i)) &&
                strncmp(arg, "queue.", 6) == 0 &&
                strncmp(arg + 6, metrics_state_name(i), n - 6) == 0) {
                m->queue[i] = (int64_t)v;
                return 0;
            }
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: mkmetrics PATH NODE [SPOOL] [FIELD=VALUE...]\n");
        return 2;
    }
    metrics m;
    metrics_init(&m);
    const char *spool = NULL;
    int i = 3;
    if (argc > 3 && strchr(argv[3], '=') == NULL)
        spool = argv[i++];
    for (; i < argc; i++)
        if (set_field(&m, argv[i]) < 0) {
            fprintf(stderr, "mkmetrics: bad field '%s'\n", argv[i]);
            return 2;
        }
    errbuf e;
    if (metrics_write(argv[1], &m, argv[2], spool, &e) < 0) {
        fprintf(stderr, "mkmetrics: %s\n", e.msg);
        return 1;
    }
    return 0;
}
