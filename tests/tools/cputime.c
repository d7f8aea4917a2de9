/*
 * cputime.c — runs a command and reports the CPU time it used (user +
 * system, from wait4's rusage), for the benchmarks: on a shared machine CPU
 * time is far steadier than wall time.
 *
 *   cputime [-o FILE] [-l LABEL] -- COMMAND [ARGS...]
 *
 * Appends "LABEL<TAB>MS" (or just MS) to FILE (default: stderr) and exits
 * with the command's status (128 + signal if it was killed, 127 if it could
 * not be started).  The command's own output is left alone.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static double tv_ms(struct timeval t)
{
    return t.tv_sec * 1e3 + t.tv_usec / 1e3;
}

int main(int argc, char **argv)
{
    const char *out = NULL, *label = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "+o:l:")) != -1) {
        if (opt == 'o')
            out = optarg;
        else if (opt == 'l')
            label = optarg;
        else
            return 2;
    }
    if (optind >= argc) {
        fprintf(stderr, "usage: cputime [-o FILE] [-l LABEL] -- COMMAND [ARGS...]\n");
        return 2;
    }
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "cputime: fork: %s\n", strerror(errno));
        return 127;
    }
    if (pid == 0) {
        execvp(argv[optind], argv + optind);
        fprintf(stderr, "cputime: %s: %s\n", argv[optind], strerror(errno));
        _exit(127);
    }
    int status;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "cputime: wait4: %s\n", strerror(errno));
            return 127;
        }
    }
    double ms = tv_ms(ru.ru_utime) + tv_ms(ru.ru_stime);
    FILE *f = out ? fopen(out, "a") : stderr;
    if (f == NULL) {
        fprintf(stderr, "cputime: %s: %s\n", out, strerror(errno));
        return 127;
    }
    if (label)
        fprintf(f, "%s\t%.3f\n", label, ms);
    else
        fprintf(f, "%.3f\n", ms);
    if (out && fclose(f) != 0) {
        fprintf(stderr, "cputime: %s: %s\n", out, strerror(errno));
        return 127;
    }
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}
