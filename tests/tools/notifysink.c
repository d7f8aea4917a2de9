/*
 * notifysink.c — a stand-in for systemd's notification socket in tests:
 * binds an AF_UNIX datagram socket at PATH and appends every message it
 * receives, one line per assignment, to OUT, until it gets SIGTERM.
 *
 *   notifysink PATH OUT
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: notifysink PATH OUT\n");
        return 2;
    }
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(argv[1]) >= sizeof sa.sun_path) {
        fprintf(stderr, "notifysink: path too long\n");
        return 2;
    }
    strcpy(sa.sun_path, argv[1]);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        fprintf(stderr, "notifysink: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    FILE *out = fopen(argv[2], "a");
    if (out == NULL) {
        fprintf(stderr, "notifysink: %s: %s\n", argv[2], strerror(errno));
        return 1;
    }
    signal(SIGTERM, SIG_DFL);
    char buf[4096];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "notifysink: recv: %s\n", strerror(errno));
            return 1;
        }
        buf[n] = '\0';
        if (fputs(buf, out) == EOF || fputc('\n', out) == EOF ||
            fflush(out) == EOF) {
            fprintf(stderr, "notifysink: %s: write error\n", argv[2]);
            return 1;
        }
    }
}
