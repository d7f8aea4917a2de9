/*
 * sdnotify.h — tell the service manager (systemd) how the daemon is doing.
 *
 * A unit with Type=notify starts the daemon with $NOTIFY_SOCKET set to an
 * AF_UNIX datagram socket; the daemon sends newline-separated VAR=VALUE
 * assignments to it (sd_notify(3)): READY=1 once it serves, STATUS=... for
 * `systemctl status`, WATCHDOG=1 as a keep-alive, STOPPING=1 on shutdown.
 * With WatchdogSec= the manager also sets $WATCHDOG_USEC (and
 * $WATCHDOG_PID) and kills the daemon when the keep-alives stop.
 *
 * Built with HAVE_LIBSYSTEMD (the Makefile defines it when pkg-config finds
 * libsystemd) the messages go through libsystemd's sd_notify(); without it,
 * through sdn_send_socket(), which speaks the documented protocol itself:
 * a path starting with '/' is a socket file, one starting with '@' an
 * abstract socket (the '@' stands for the leading NUL byte).
 *
 * Without $NOTIFY_SOCKET (run by hand, from cron, in tests) every function
 * does nothing and returns 0, so callers need no "am I under systemd" test.
 * Nothing here keeps state; the environment is read on every call.
 *
 * Return values: 1 = sent, 0 = no service manager listening ($NOTIFY_SOCKET
 * unset or empty), -1 = error with the reason in e.  A notification error
 * is worth one log line, never a reason to stop the daemon.
 */
#ifndef SPOOLD_SDNOTIFY_H
#define SPOOLD_SDNOTIFY_H

#include <stdint.h>

#include "errbuf.h"

/* Longest message sdn_status() formats, including "STATUS=". */
#define SDN_STATUS_MAX 512

/* Sends state (e.g. "READY=1\nSTATUS=idle") to $NOTIFY_SOCKET, through
 * libsystemd when built with it. */
int sdn_send(const char *state, errbuf *e);

/* Sends state to the socket named socket_name (same syntax as
 * $NOTIFY_SOCKET) with the built-in implementation of the protocol; NULL
 * or "" = nothing to do (returns 0).  Used by sdn_send() when libsystemd is
 * absent; exported so that tests exercise it in every build. */
int sdn_send_socket(const char *socket_name, const char *state, errbuf *e);

/* READY=1: start-up finished (after the first successful spool check). */
int sdn_ready(errbuf *e);

/* STATUS=<text> built from a printf format; a newline in the text becomes a
 * space (a status is one line), and it is cut at SDN_STATUS_MAX bytes. */
int sdn_status(errbuf *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* WATCHDOG=1: keep-alive, from the event loop, every half interval. */
int sdn_watchdog(errbuf *e);

/* STOPPING=1: shutdown began (on SIGTERM, before draining). */
int sdn_stopping(errbuf *e);

/* Reads the watchdog interval the manager asks for.  Returns 1 and sets
 * *usec when $WATCHDOG_USEC is set and $WATCHDOG_PID is unset or names this
 * process; 0 when there is no watchdog for this process; -1 when a variable
 * is malformed (not a positive decimal number).  The daemon should send
 * WATCHDOG=1 at least every *usec / 2 microseconds. */
int sdn_watchdog_usec(uint64_t *usec, errbuf *e);

/* The same decision from given variable values (NULL = unset) and a pid;
 * the built-in implementation used when libsystemd is absent, exported so
 * tests can exercise it in every build. */
int sdn_parse_watchdog(const char *watchdog_usec, const char *watchdog_pid,
                       long self_pid, uint64_t *usec, errbuf *e);

#endif
