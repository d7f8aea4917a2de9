/*
 * errbuf.h — a small, caller-owned buffer for one error message.
 *
 * Library functions in filters/ and spoold/ return 0 on success and -1 on
 * failure; on failure they fill an errbuf with a one-line reason (no
 * trailing newline, no program name, no file name unless the function is the
 * one that knows it).  The caller adds context and decides how to report.
 * There is no global error state; errno is left as the failing call set
 * it, so a caller may still look at it.
 */
#ifndef SPOOLD_ERRBUF_H
#define SPOOLD_ERRBUF_H

#include <stddef.h>

typedef struct errbuf {
    char msg[512];
} errbuf;

/* Sets the message (printf format); always returns -1 so that
 * `return err_set(e, "...")` reads naturally.  e may be NULL. */
int err_set(errbuf *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Sets the message to "what: strerror(errnum)". */
int err_errno(errbuf *e, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes an existing message with "prefix: ". */
void err_prefix(errbuf *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
