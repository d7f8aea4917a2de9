/*
 * sdnotify.c — service-manager notifications (READY, STATUS, WATCHDOG,
 * STOPPING) and the watchdog interval; see sdnotify.h.  Uses libsystemd
 * when HAVE_LIBSYSTEMD is defined, otherwise speaks the sd_notify(3)
 * datagram protocol itself.
 */
#include "sdnotify.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

/*
 * Fills *sa from a $NOTIFY_SOCKET value and returns the address length for
 * sendto(), or -1 with the reason in e.
 *   "/path"  socket file: sun_path = path, NUL-terminated;
 *   "@name"  abstract socket: sun_path = "\0name", not terminated, and the
 *            length counts exactly the name bytes (abstract names may
 *            contain any byte, so the length is what delimits them).
 * Anything else (relative paths, "vsock:" addresses of virtual machines)
 * is refused: a daemon on a node never gets those.
 */
static int notify_address(const char *name, struct sockaddr_un *sa,
                          socklen_t *len, errbuf *e)
{
    size_t n = strlen(name);
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    if (name[0] != '/' && name[0] != '@')
        return err_set(e, "NOTIFY_SOCKET '%s': not an absolute path or "
                       "@abstract name", name);
    /* a path needs room for its NUL; an abstract name for its leading NUL,
     * which replaces the '@': both need n < sizeof sun_path */
    if (n >= sizeof sa->sun_path)
        return err_set(e, "NOTIFY_SOCKET '%s': longer than %zu bytes",
                       name, sizeof sa->sun_path - 1);
    memcpy(sa->sun_path, name, n);
    if (name[0] == '@') {
        sa->sun_path[0] = '\0';
        *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    } else {
        *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
    }
    return 0;
}

int sdn_send_socket(const char *socket_name, const char *state, errbuf *e)
{
    if (socket_name == NULL || socket_name[0] == '\0')
        return 0;
    if (state == NULL || state[0] == '\0')
        return err_set(e, "sd_notify: empty message");
    struct sockaddr_un sa;
    socklen_t salen = 0;
    if (notify_address(socket_name, &sa, &salen, e) < 0)
        return -1;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return err_errno(e, errno, "sd_notify: socket");
    size_t n = strlen(state);
    ssize_t sent;
    do {
        sent = sendto(fd, state, n, MSG_NOSIGNAL,
                      (const struct sockaddr *)&sa, salen);
    } while (sent < 0 && errno == EINTR);
    int saved = errno;
    if (close(fd) < 0 && sent >= 0)
        return err_errno(e, errno, "sd_notify: close");
    if (sent < 0)
        return err_errno(e, saved, "sd_notify to %s", socket_name);
    if ((size_t)sent != n)
        return err_set(e, "sd_notify to %s: sent %zd of %zu bytes",
                       socket_name, sent, n);
    return 1;
}

int sdn_send(const char *state, errbuf *e)
{
#ifdef HAVE_LIBSYSTEMD
    const char *name = getenv("NOTIFY_SOCKET");
    if (state == NULL || state[0] == '\0')
        return err_set(e, "sd_notify: empty message");
    int r = sd_notify(0, state);
    if (r < 0)
        return err_errno(e, -r, "sd_notify to %s", name ? name : "(unset)");
    return r > 0 ? 1 : 0;
#else
    return sdn_send_socket(getenv("NOTIFY_SOCKET"), state, e);
#endif
}

int sdn_ready(errbuf *e)
{
    return sdn_send("READY=1", e);
}

int sdn_watchdog(errbuf *e)
{
    return sdn_send("WATCHDOG=1", e);
}

int sdn_stopping(errbuf *e)
{
    return sdn_send("STOPPING=1", e);
}

int sdn_status(errbuf *e, const char *fmt, ...)
{
    char msg[SDN_STATUS_MAX];
    const size_t pre = sizeof "STATUS=" - 1;
    memcpy(msg, "STATUS=", pre);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg + pre, sizeof msg - pre, fmt, ap);
    va_end(ap);
    if (n < 0)
        return err_set(e, "sd_notify: bad STATUS format");
    for (char *p = msg + pre; *p != '\0'; p++)
        if (*p == '\n')
            *p = ' ';
    return sdn_send(msg, e);
}

/* Parses a positive decimal number without sign, blanks or trailing junk
 * into *out; returns 0, or -1 if s is not one, overflows, or is
 * UINT64_MAX (systemd's "infinity", never a real interval). */
static int parse_positive(const char *s, uint64_t *out)
{
    if (s[0] < '0' || s[0] > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v == 0 || v == UINT64_MAX)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

int sdn_parse_watchdog(const char *watchdog_usec, const char *watchdog_pid,
                       long self_pid, uint64_t *usec, errbuf *e)
{
    uint64_t us, pid;
    if (watchdog_usec == NULL || watchdog_usec[0] == '\0')
        return 0;
    if (parse_positive(watchdog_usec, &us) < 0)
        return err_set(e, "WATCHDOG_USEC='%s': not a positive number",
                       watchdog_usec);
    if (watchdog_pid != NULL && watchdog_pid[0] != '\0') {
        if (parse_positive(watchdog_pid, &pid) < 0)
            return err_set(e, "WATCHDOG_PID='%s': not a process id",
                           watchdog_pid);
        if (pid != (uint64_t)self_pid)
            return 0;               /* meant for another process */
    }
    *usec = us;
    return 1;
}

int sdn_watchdog_usec(uint64_t *usec, errbuf *e)
{
#ifdef HAVE_LIBSYSTEMD
    uint64_t us = 0;
    int r = sd_watchdog_enabled(0, &us);
    if (r < 0)
        return err_errno(e, -r, "watchdog settings WATCHDOG_USEC='%s' "
                         "WATCHDOG_PID='%s'",
                         getenv("WATCHDOG_USEC") ? getenv("WATCHDOG_USEC") : "",
                         getenv("WATCHDOG_PID") ? getenv("WATCHDOG_PID") : "");
    if (r > 0)
        *usec = us;
    return r > 0 ? 1 : 0;
#else
    return sdn_parse_watchdog(getenv("WATCHDOG_USEC"), getenv("WATCHDOG_PID"),
                              (long)getpid(), usec, e);
#endif
}
