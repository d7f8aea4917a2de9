/*
 * notifylisten.c — stands in for systemd's notify socket in tests: binds
 * an AF_UNIX datagram socket and appends every message it receives to a
 * file, one line per message: "PID ASSIGNMENT[|ASSIGNMENT...]" (the
 * kernel-attached sender pid, as systemd checks it for NotifyAccess=main;
 * newlines inside a message become '|').
 *
 *   notifylisten SOCKET-PATH OUT-FILE [MAX-SECONDS]
 *
 * Runs until SIGTERM/SIGINT, or MAX-SECONDS (default 600) so that a
 * forgotten listener never outlives its test for long.  Removes the
 * socket file on exit.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int bind_socket(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof sa.sun_path) {
        fprintf(stderr, "notifylisten: %s: path too long\n", path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int on = 1;
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) < 0) {
        fprintf(stderr, "notifylisten: %s: %s\n", path, strerror(errno));
        return -1;
    }
    return fd;
}

/* Receives one message and appends its line to out; -1 on error. */
static int receive_one(int fd, FILE *out)
{
    char buf[4096];
    union {
        struct cmsghdr h;
        char space[CMSG_SPACE(sizeof(struct ucred))];
    } ctl;
    struct iovec iov = { buf, sizeof buf - 1 };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
                         .msg_control = &ctl, .msg_controllen = sizeof ctl };
    ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);
    if (n < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -1;
    buf[n] = '\0';
    for (ssize_t i = 0; i < n; i++)
        if (buf[i] == '\n')
            buf[i] = '|';
    long pid = -1;
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    if (c != NULL && c->cmsg_type == SCM_CREDENTIALS) {
        struct ucred cred;
        memcpy(&cred, CMSG_DATA(c), sizeof cred);
        pid = (long)cred.pid;
    }
    fprintf(out, "%ld %s\n", pid, buf);
    return fflush(out) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: notifylisten SOCKET-PATH OUT-FILE [MAX-SECONDS]\n");
        return 2;
    }
    double max_s = argc > 3 ? atof(argv[3]) : 600;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    FILE *out = fopen(argv[2], "a");
    if (out == NULL) {
        fprintf(stderr, "notifylisten: %s: %s\n", argv[2], strerror(errno));
        return 2;
    }
    int fd = bind_socket(argv[1]);
    if (fd < 0)
        return 2;
    int rc = 0;
    time_t end = time(NULL) + (time_t)max_s;
    struct timespec zero = { 0, 0 };
    while (time(NULL) < end && sigtimedwait(&set, NULL, &zero) < 0) {
        struct pollfd p = { fd, POLLIN, 0 };
        if (poll(&p, 1, 200) > 0 && receive_one(fd, out) < 0) {
            fprintf(stderr, "notifylisten: %s\n", strerror(errno));
            rc = 1;
            break;
        }
    }
    while (receive_one(fd, out) == 0 && rc == 0) {
        struct pollfd p = { fd, POLLIN, 0 };
        if (poll(&p, 1, 0) <= 0)
            break;
    }
    unlink(argv[1]);
    fclose(out);
    return rc;
}
