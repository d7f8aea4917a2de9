/*
 * log.c — one escaped line per event on stderr with a "<N>" priority
 * prefix (see log.h).
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void log_init(struct logger *lg, bool verbose)
{
    lg->max_level = verbose ? LOG_DEBUG : LOG_INFO;
    lg->stamp = getenv("JOURNAL_STREAM") == NULL;
    lg->fd = 2;
}

int log_format(char *buf, int cap, int prio, const char *stamp,
               const char *text)
{
    int n = snprintf(buf, (size_t)cap, "<%d>%s%s", prio & 7,
                     stamp ? stamp : "", stamp ? " " : "");
    if (n < 0 || n >= cap - 1)
        n = 0;
    for (const unsigned char *p = (const unsigned char *)text;
         *p != '\0' && n < cap - 6; p++) {
        if (*p < 0x20 || *p == 0x7f)
            n += snprintf(buf + n, (size_t)(cap - n), "\\x%02x", *p);
        else
            buf[n++] = (char)*p;
    }
    buf[n++] = '\n';
    buf[n] = '\0';
    return n;
}

void log_msg(const struct logger *lg, int prio, const char *fmt, ...)
{
    if (prio > lg->max_level)
        return;
    char text[1536], line[2048], stamp[32];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    const char *st = NULL;
    if (lg->stamp) {
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        if (localtime_r(&ts.tv_sec, &tm) != NULL &&
            strftime(stamp, sizeof stamp, "%H:%M:%S", &tm) > 0) {
            snprintf(stamp + strlen(stamp), sizeof stamp - strlen(stamp),
                     ".%03ld", ts.tv_nsec / 1000000);
            st = stamp;
        }
    }
    int n = log_format(line, (int)sizeof line, prio, st, text);
    /* one write per line; a short or failed write of a log line has no
     * better place to be reported */
    ssize_t w = write(lg->fd, line, (size_t)n);
    (void)w;
}
