/*
 * errbuf.c — formatting of one-line error messages into caller buffers.
 */
#include "errbuf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int err_set(errbuf *e, const char *fmt, ...)
{
    if (e == NULL)
        return -1;
    int saved = errno;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    errno = saved;
    return -1;
}

int err_errno(errbuf *e, int errnum, const char *fmt, ...)
{
    if (e == NULL)
        return -1;
    int saved = errno;
    char what[sizeof e->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(e->msg, sizeof e->msg, "%s: %s", what, strerror(errnum));
    errno = saved;
    return -1;
}

void err_prefix(errbuf *e, const char *fmt, ...)
{
    if (e == NULL)
        return;
    char prefix[sizeof e->msg];
    char old[sizeof e->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof old);
    /* prefix + ": " + old, truncated to the buffer */
    size_t cap = sizeof e->msg - 1;
    size_t n = strnlen(prefix, cap);
    memcpy(e->msg, prefix, n);
    if (n + 2 <= cap) {
        memcpy(e->msg + n, ": ", 2);
        n += 2;
    }
    size_t m = strnlen(old, cap - n);
    memcpy(e->msg + n, old, m);
    e->msg[n + m] = '\0';
}
