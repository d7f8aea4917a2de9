/*
 * log.h — spoold's event log: one line per event on stderr, with the
 * syslog priority as a "<N>" prefix as sd-daemon(3) describes, so that
 * systemd's journal keeps the level.  Lines are written with one write(2)
 * so that workers and the daemon never interleave inside a line; control
 * characters in the text (a pack name may hold a newline) are escaped.
 */
#ifndef SPOOLD_LOG_H
#define SPOOLD_LOG_H

#include <stdbool.h>
#include <syslog.h>     /* LOG_ERR (3), LOG_WARNING (4), LOG_INFO (6), LOG_DEBUG (7) */

struct logger {
    int max_level;      /* lines above this priority are dropped */
    bool stamp;         /* prefix a local time (not under journald) */
    int fd;             /* where lines go (2 = stderr) */
};

/* Level LOG_INFO, or LOG_DEBUG when verbose; time stamps unless stderr is
 * the journal (JOURNAL_STREAM set). */
void log_init(struct logger *lg, bool verbose);

void log_msg(const struct logger *lg, int prio, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Formats one log line into buf (prefix, optional stamp, escaped text,
 * newline); returns its length.  Exposed for the tests. */
int log_format(char *buf, int cap, int prio, const char *stamp,
               const char *text);

#endif
