/*
 * test_execstep.c — the exec step: placeholder substitution, the clean
 * environment, running a program without a shell (exit status, signal,
 * timeout, missing program, output tail, no inherited descriptors) and the
 * failure reasons.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "execstep.h"

static const struct exec_subst subst = {
    .in = "/spool/claimed/a b.tif@n1", .out = "/spool/tmp/.n1.w1/out.tif",
    .pack = "a b.tif", .node = "n1", .attempt = 2,
};

static void expand_replaces_every_placeholder(void **state)
{
    char *tmpl[] = { "ocr", "{in}", "--out={out}", "{pack}:{node}:{attempt}",
                     "{in}{in}", "{unknown} {", "plain", NULL };
    char **argv;
    errbuf e;
    assert_int_equal(exec_expand(tmpl, &subst, &argv, &e), 0);
    assert_string_equal(argv[0], "ocr");
    assert_string_equal(argv[1], "/spool/claimed/a b.tif@n1");
    assert_string_equal(argv[2], "--out=/spool/tmp/.n1.w1/out.tif");
    assert_string_equal(argv[3], "a b.tif:n1:2");
    assert_string_equal(argv[4], "/spool/claimed/a b.tif@n1/spool/claimed/a b.tif@n1");
    assert_string_equal(argv[5], "{unknown} {");
    assert_string_equal(argv[6], "plain");
    assert_null(argv[7]);
    free(argv);
}

static void expand_empty_and_missing_values(void **state)
{
    char *tmpl[] = { "x", "{out}", NULL };
    struct exec_subst s = { .in = "i" };
    char **argv;
    errbuf e;
    assert_int_equal(exec_expand(tmpl, &s, &argv, &e), 0);
    assert_string_equal(argv[1], "");
    free(argv);
    assert_true(exec_uses_out(tmpl));
    char *t2[] = { "check", "{in}", "{output}", NULL };
    assert_false(exec_uses_out(t2));
}

static void environment_is_clean(void **state)
{
    char *parent[] = { "PATH=/opt/bin:/bin", "HOME=/var/lib/spoold",
                       "SECRET=x", "LD_PRELOAD=/evil.so", "LANG=de_DE.UTF-8",
                       NULL };
    char **env = exec_environment(parent, &subst);
    assert_non_null(env);
    int n = 0;
    for (; env[n] != NULL; n++)
        assert_true(strncmp(env[n], "SECRET", 6) != 0 &&
                    strncmp(env[n], "LD_", 3) != 0);
    assert_int_equal(n, 6);
    assert_string_equal(env[0], "PATH=/opt/bin:/bin");
    assert_string_equal(env[1], "HOME=/var/lib/spoold");
    assert_string_equal(env[2], "LANG=de_DE.UTF-8");
    assert_string_equal(env[3], "SPOOLD_PACK=a b.tif");
    assert_string_equal(env[4], "SPOOLD_NODE=n1");
    assert_string_equal(env[5], "SPOOLD_ATTEMPT=2");
    free(env);
    char *bare[] = { NULL };
    env = exec_environment(bare, &subst);
    assert_string_equal(env[0], "PATH=" EXEC_DEFAULT_PATH);
    assert_string_equal(env[1], "SPOOLD_PACK=a b.tif");
    free(env);
}

/* Runs sh -c SCRIPT with the clean environment. */
static void run_sh(const char *script, double timeout, struct exec_result *r)
{
    char *argv[] = { "sh", "-c", (char *)script, "arg0", NULL };
    char *parent[] = { "PATH=/usr/bin:/bin", NULL };
    char **env = exec_environment(parent, &subst);
    errbuf e;
    assert_int_equal(exec_run(argv, env, timeout, false, r, &e), 0);
    free(env);
}

static void success_and_output_tail(void **state)
{
    struct exec_result r;
    run_sh("echo out; echo err >&2; echo \"$SPOOLD_PACK\"", 10, &r);
    assert_true(r.started);
    assert_false(r.timed_out);
    assert_true(WIFEXITED(r.wstatus) && WEXITSTATUS(r.wstatus) == 0);
    assert_string_equal(r.tail, "out\nerr\na b.tif\n");
    char buf[400];
    assert_int_equal(exec_describe(&r, "sh", buf, sizeof buf), 0);
}

static void failures_are_described(void **state)
{
    struct exec_result r;
    char buf[400];
    run_sh("echo 'cannot read page 3' >&2; exit 3", 10, &r);
    assert_int_equal(exec_describe(&r, "ocr", buf, sizeof buf), -1);
    assert_string_equal(buf, "ocr exited with status 3: cannot read page 3");

    run_sh("kill -SEGV $$", 10, &r);
    assert_int_equal(exec_describe(&r, "ocr", buf, sizeof buf), -1);
    assert_non_null(strstr(buf, "ocr killed by signal 11"));

    run_sh("echo working; sleep 30", 0.3, &r);
    assert_true(r.timed_out);
    assert_int_equal(exec_describe(&r, "ocr", buf, sizeof buf), -1);
    assert_non_null(strstr(buf, "ocr timed out after 0 s: working"));

    char *argv[] = { "/nonexistent/prog", NULL };
    char *env[] = { NULL };
    errbuf e;
    assert_int_equal(exec_run(argv, env, 5, false, &r, &e), 0);
    assert_false(r.started);
    assert_int_equal(exec_describe(&r, "/nonexistent/prog", buf, sizeof buf), -1);
    assert_string_equal(buf, "cannot run /nonexistent/prog: No such file or directory");
}

static void long_output_keeps_the_tail(void **state)
{
    struct exec_result r;
    run_sh("i=0; while [ $i -lt 2000 ]; do echo line $i; i=$((i+1)); done; "
           "echo last >&2; exit 1", 10, &r);
    assert_int_equal(strlen(r.tail), EXEC_TAIL);
    assert_non_null(strstr(r.tail, "line 1999\nlast\n"));
    char buf[200];
    assert_int_equal(exec_describe(&r, "p", buf, sizeof buf), -1);
    assert_true(strlen(buf) < sizeof buf);
    assert_null(strchr(buf, '\n'));
}

static void only_three_descriptors(void **state)
{
    int fd = open("/dev/null", O_RDONLY);      /* not close-on-exec */
    assert_true(fd > 2);
    struct exec_result r;
    run_sh("ls /proc/self/fd | sort -n | tr '\\n' ' '", 10, &r);
    close(fd);
    /* 0 1 2, and the fd ls opens for reading the directory */
    assert_string_equal(r.tail, "0 1 2 3 ");
    run_sh("read x; echo \"[$x]\"", 10, &r);
    assert_string_equal(r.tail, "[]\n");
}

/* With kill_group, processes the step leaves behind in the caller's group
 * are killed.  Runs in a child that leads a group of its own. */
static void leftovers_are_killed(void **state)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setpgid(0, 0);
        char *argv[] = { "sh", "-c", "sleep 30 & echo $!", NULL };
        char *env[] = { "PATH=/usr/bin:/bin", NULL };
        struct exec_result r;
        errbuf e;
        if (exec_run(argv, env, 10, true, &r, &e) < 0)
            _exit(1);
        ssize_t w = write(p[1], r.tail, strlen(r.tail));
        _exit(w > 0 ? 0 : 1);
    }
    close(p[1]);
    char buf[64] = "";
    ssize_t n = read(p[0], buf, sizeof buf - 1);
    close(p[0]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_true(n > 0);
    pid_t sleeper = (pid_t)atol(buf);
    assert_true(sleeper > 0);
    /* killed (possibly a zombie until its new parent reaps it) */
    char path[64], stat[256] = "";
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)sleeper);
    for (int i = 0; i < 100; i++) {
        FILE *fp = fopen(path, "r");
        if (fp == NULL)
            return;
        size_t got = fread(stat, 1, sizeof stat - 1, fp);
        fclose(fp);
        stat[got] = '\0';
        char *rp = strrchr(stat, ')');
        if (rp != NULL && rp[2] == 'Z')
            return;
        usleep(20000);
    }
    fail_msg("the step's background process survived: %s", stat);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(expand_replaces_every_placeholder),
        cmocka_unit_test(expand_empty_and_missing_values),
        cmocka_unit_test(environment_is_clean),
        cmocka_unit_test(success_and_output_tail),
        cmocka_unit_test(failures_are_described),
        cmocka_unit_test(long_output_keeps_the_tail),
        cmocka_unit_test(only_three_descriptors),
        cmocka_unit_test(leftovers_are_killed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
