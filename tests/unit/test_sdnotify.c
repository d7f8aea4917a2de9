/*
 * test_sdnotify.c — service-manager notifications against a real AF_UNIX
 * datagram socket bound by the test (a socket file and an abstract name),
 * the sender credentials systemd checks for NotifyAccess=main, error
 * reports, and the watchdog interval from the environment.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "sdnotify.h"

/* A receiving socket and the $NOTIFY_SOCKET value that names it. */
struct listener {
    int fd;
    char name[sizeof ((struct sockaddr_un *)0)->sun_path + 1];
    char dir[64];                       /* temp dir of a socket file */
};

static void listen_path(struct listener *l)
{
    strcpy(l->dir, "/tmp/test_sdnotify.XXXXXX");
    assert_non_null(mkdtemp(l->dir));
    snprintf(l->name, sizeof l->name, "%s/notify", l->dir);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    strcpy(sa.sun_path, l->name);
    l->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(l->fd >= 0);
    assert_int_equal(bind(l->fd, (struct sockaddr *)&sa, sizeof sa), 0);
    int on = 1;     /* what systemd does: receive the sender's pid */
    assert_int_equal(setsockopt(l->fd, SOL_SOCKET, SO_PASSCRED, &on,
                                sizeof on), 0);
}

/* Abstract names are per network namespace, not per directory: the pid
 * and the address of a stack variable keep parallel runs apart. */
static void listen_abstract(struct listener *l)
{
    int local;
    l->dir[0] = '\0';
    snprintf(l->name, sizeof l->name, "@spoold-test-%ld-%lx",
             (long)getpid(), (unsigned long)(uintptr_t)&local);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    size_t n = strlen(l->name);
    memcpy(sa.sun_path + 1, l->name + 1, n - 1);
    l->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(l->fd >= 0);
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    assert_int_equal(bind(l->fd, (struct sockaddr *)&sa, len), 0);
    int on = 1;
    assert_int_equal(setsockopt(l->fd, SOL_SOCKET, SO_PASSCRED, &on,
                                sizeof on), 0);
}

static void listener_close(struct listener *l)
{
    assert_int_equal(close(l->fd), 0);
    if (l->dir[0] != '\0') {
        assert_int_equal(unlink(l->name), 0);
        assert_int_equal(rmdir(l->dir), 0);
    }
    unsetenv("NOTIFY_SOCKET");
}

/* Receives one datagram without waiting (AF_UNIX delivery is synchronous:
 * a sendto() that returned has queued it) and checks its text and that the
 * kernel-attached sender pid is ours. */
static void expect_message(struct listener *l, const char *want)
{
    char buf[1024];
    union {
        struct cmsghdr h;
        char space[CMSG_SPACE(sizeof(struct ucred))];
    } ctl;
    struct iovec iov = { buf, sizeof buf - 1 };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
                         .msg_control = &ctl, .msg_controllen = sizeof ctl };
    ssize_t n = recvmsg(l->fd, &mh, MSG_DONTWAIT);
    assert_true(n >= 0);
    buf[n] = '\0';
    assert_string_equal(buf, want);
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    assert_non_null(c);
    assert_int_equal(c->cmsg_type, SCM_CREDENTIALS);
    struct ucred cred;
    memcpy(&cred, CMSG_DATA(c), sizeof cred);
    assert_int_equal(cred.pid, getpid());
}

static void expect_nothing(struct listener *l)
{
    char buf[64];
    assert_int_equal(recv(l->fd, buf, sizeof buf, MSG_DONTWAIT), -1);
}

static void unset_socket_does_nothing(void **state)
{
    errbuf e;
    unsetenv("NOTIFY_SOCKET");
    assert_int_equal(sdn_ready(&e), 0);
    assert_int_equal(sdn_status(&e, "x"), 0);
    assert_int_equal(sdn_send_socket(NULL, "READY=1", &e), 0);
    assert_int_equal(sdn_send_socket("", "READY=1", &e), 0);
}

/* Every public message through the configured backend. */
static void all_messages(struct listener *l)
{
    errbuf e;
    assert_int_equal(setenv("NOTIFY_SOCKET", l->name, 1), 0);
    assert_int_equal(sdn_ready(&e), 1);
    expect_message(l, "READY=1");
    assert_int_equal(sdn_status(&e, "incoming %d, claimed %d\nnext", 4, 2), 1);
    expect_message(l, "STATUS=incoming 4, claimed 2 next");
    assert_int_equal(sdn_watchdog(&e), 1);
    expect_message(l, "WATCHDOG=1");
    assert_int_equal(sdn_stopping(&e), 1);
    expect_message(l, "STOPPING=1");
    assert_int_equal(sdn_send("READY=1\nSTATUS=up", &e), 1);
    expect_message(l, "READY=1\nSTATUS=up");
    expect_nothing(l);
}

static void socket_file(void **state)
{
    struct listener l;
    listen_path(&l);
    all_messages(&l);
    listener_close(&l);
}

static void abstract_socket(void **state)
{
    struct listener l;
    listen_abstract(&l);
    all_messages(&l);
    listener_close(&l);
}

/* The built-in protocol, whatever backend sdn_send() uses in this build. */
static void builtin_protocol(void **state)
{
    errbuf e;
    struct listener l;
    listen_path(&l);
    assert_int_equal(sdn_send_socket(l.name, "READY=1", &e), 1);
    expect_message(&l, "READY=1");
    listener_close(&l);
    listen_abstract(&l);
    assert_int_equal(sdn_send_socket(l.name, "WATCHDOG=1", &e), 1);
    expect_message(&l, "WATCHDOG=1");
    expect_nothing(&l);
    listener_close(&l);
}

static void builtin_errors(void **state)
{
    errbuf e;
    assert_int_equal(sdn_send_socket("/nonexistent/spoold/notify",
                                     "READY=1", &e), -1);
    assert_non_null(strstr(e.msg, "/nonexistent/spoold/notify"));
    assert_non_null(strstr(e.msg, "No such file"));
    assert_int_equal(sdn_send_socket("relative/notify", "READY=1", &e), -1);
    assert_non_null(strstr(e.msg, "relative/notify"));
    char longname[200];
    memset(longname, 'x', sizeof longname - 1);
    longname[0] = '/';
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(sdn_send_socket(longname, "READY=1", &e), -1);
    assert_non_null(strstr(e.msg, "longer than"));
    assert_int_equal(sdn_send_socket("@x", "", &e), -1);
}

/* The configured backend reports a missing socket as an error too. */
static void backend_error(void **state)
{
    errbuf e = { "" };
    assert_int_equal(setenv("NOTIFY_SOCKET", "/nonexistent/spoold/n", 1), 0);
    assert_int_equal(sdn_ready(&e), -1);
    assert_non_null(strstr(e.msg, "/nonexistent/spoold/n"));
    unsetenv("NOTIFY_SOCKET");
}

/* A status longer than SDN_STATUS_MAX is cut, never overflows. */
static void long_status_is_cut(void **state)
{
    errbuf e;
    struct listener l;
    listen_path(&l);
    assert_int_equal(setenv("NOTIFY_SOCKET", l.name, 1), 0);
    char big[2 * SDN_STATUS_MAX];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(sdn_status(&e, "%s", big), 1);
    char want[SDN_STATUS_MAX];
    memcpy(want, "STATUS=", 7);
    memset(want + 7, 'a', sizeof want - 8);
    want[sizeof want - 1] = '\0';
    expect_message(&l, want);
    listener_close(&l);
}

static void parse_watchdog_rules(void **state)
{
    errbuf e;
    uint64_t us = 7;
    assert_int_equal(sdn_parse_watchdog(NULL, NULL, 10, &us, &e), 0);
    assert_int_equal(sdn_parse_watchdog("", NULL, 10, &us, &e), 0);
    assert_int_equal(us, 7);
    assert_int_equal(sdn_parse_watchdog("30000000", NULL, 10, &us, &e), 1);
    assert_int_equal(us, 30000000);
    assert_int_equal(sdn_parse_watchdog("5000", "10", 10, &us, &e), 1);
    assert_int_equal(us, 5000);
    us = 7;
    assert_int_equal(sdn_parse_watchdog("5000", "11", 10, &us, &e), 0);
    assert_int_equal(us, 7);
    const char *bad[] = { "0", "-5", "+5", " 5", "5s", "abc",
                          "18446744073709551615", "99999999999999999999" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(sdn_parse_watchdog(bad[i], NULL, 10, &us, &e), -1);
        assert_non_null(strstr(e.msg, "WATCHDOG_USEC"));
    }
    assert_int_equal(sdn_parse_watchdog("5000", "x1", 10, &us, &e), -1);
    assert_non_null(strstr(e.msg, "WATCHDOG_PID"));
}

/* The configured backend reads the environment the same way. */
static void watchdog_from_environment(void **state)
{
    errbuf e;
    uint64_t us = 0;
    char pid[32];
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    assert_int_equal(sdn_watchdog_usec(&us, &e), 0);
    assert_int_equal(setenv("WATCHDOG_USEC", "4000000", 1), 0);
    assert_int_equal(sdn_watchdog_usec(&us, &e), 1);
    assert_int_equal(us, 4000000);
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    assert_int_equal(setenv("WATCHDOG_PID", pid, 1), 0);
    assert_int_equal(sdn_watchdog_usec(&us, &e), 1);
    snprintf(pid, sizeof pid, "%ld", (long)getpid() + 1);
    assert_int_equal(setenv("WATCHDOG_PID", pid, 1), 0);
    assert_int_equal(sdn_watchdog_usec(&us, &e), 0);
    unsetenv("WATCHDOG_PID");
    assert_int_equal(setenv("WATCHDOG_USEC", "soon", 1), 0);
    assert_int_equal(sdn_watchdog_usec(&us, &e), -1);
    unsetenv("WATCHDOG_USEC");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unset_socket_does_nothing),
        cmocka_unit_test(socket_file),
        cmocka_unit_test(abstract_socket),
        cmocka_unit_test(builtin_protocol),
        cmocka_unit_test(builtin_errors),
        cmocka_unit_test(backend_error),
        cmocka_unit_test(long_status_is_cut),
        cmocka_unit_test(parse_watchdog_rules),
        cmocka_unit_test(watchdog_from_environment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
