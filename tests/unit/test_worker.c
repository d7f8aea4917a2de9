/*
 * test_worker.c — the worker: its result line (format and parse), how the
 * daemon judges a worker's end (clean result, crash, limit, timeout,
 * shutdown, silence), and the pipeline run in-process on a small pack
 * (plain G4 pass, directory pack, exec steps with and without {out}, a
 * failing step, a pack that does not decode), with its JSON report.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "pageio.h"
#include "worker.h"

/* W_EXITCODE / W_STOPCODE style statuses without the macros' availability
 * questions: exit code in bits 8-15, signal in bits 0-6. */
#define EXITED(code) ((code) << 8)
#define SIGNALED(sig) (sig)

static void result_line_round_trip(void **state)
{
    struct worker_result r = { .status = WORKER_OK, .pages = 12, .ms = 1500.25,
                               .cpu_ms = 900.5 };
    r.stage_ms[2] = 33.5;
    r.stage_ms[7] = 1.25;
    char buf[600];
    int n = worker_result_format(&r, buf, sizeof buf);
    assert_true(n > 0 && buf[n - 1] == '\n');
    struct worker_result back;
    assert_int_equal(worker_result_parse(buf, (size_t)n, &back), 0);
    assert_int_equal(back.status, WORKER_OK);
    assert_int_equal(back.pages, 12);
    assert_true(back.ms == 1500.25 && back.cpu_ms == 900.5);
    assert_true(back.stage_ms[2] == 33.5 && back.stage_ms[7] == 1.25);

    struct worker_result f = { .status = WORKER_BAD_INPUT, .ms = 3 };
    snprintf(f.reason, sizeof f.reason, "bad input: a.tif: page 2:\nbroken");
    n = worker_result_format(&f, buf, sizeof buf);
    assert_non_null(strstr(buf, "bad 3.000 0.000 bad input: a.tif: page 2: broken\n"));
    assert_int_equal(worker_result_parse(buf, (size_t)n, &back), 0);
    assert_int_equal(back.status, WORKER_BAD_INPUT);
    assert_string_equal(back.reason, "bad input: a.tif: page 2: broken");

    /* malformed lines */
    assert_int_equal(worker_result_parse("ok 1 2 3\n", 9, &back), -1);
    assert_int_equal(worker_result_parse("ok 1 2 3 0 0 0 0 0 0 0 0", 24, &back), -1);
    assert_int_equal(worker_result_parse("fail 1 2 \n", 10, &back), -1);
    assert_int_equal(worker_result_parse("maybe\n", 6, &back), -1);
    assert_int_equal(worker_result_parse("", 0, &back), -1);

    /* the "steps done" line ahead of the result is skipped, once */
    char two[700];
    n = snprintf(two, sizeof two, "%s%s", WORKER_STEPS_DONE, buf);
    assert_int_equal(worker_result_parse(two, (size_t)n, &back), 0);
    assert_int_equal(back.status, WORKER_BAD_INPUT);
    assert_int_equal(worker_result_parse(WORKER_STEPS_DONE, strlen(WORKER_STEPS_DONE), &back), -1);
    n = snprintf(two, sizeof two, "%s%s", WORKER_STEPS_DONE, WORKER_STEPS_DONE);
    assert_int_equal(worker_result_parse(two, (size_t)n, &back), -1);
}

static void judge(int wstatus, const char *text, bool timed_out, bool killed,
                  struct worker_result *r)
{
    struct worker_exit x = {
        .wstatus = wstatus, .text = text, .len = text ? strlen(text) : 0,
        .timed_out = timed_out, .killed = killed, .timeout_s = 60,
        .memory_limit = 1 << 30, .cpu_limit = 30,
    };
    worker_judge(&x, r);
}

static void judging_a_worker(void **state)
{
    struct worker_result r;
    judge(EXITED(0), "ok 3 10.000 5.000 0 0 0 0 0 0 0 0\n", false, false, &r);
    assert_int_equal(r.status, WORKER_OK);
    assert_int_equal(r.pages, 3);

    judge(EXITED(2), "bad 1 1 bad input: x\n", false, false, &r);
    assert_int_equal(r.status, WORKER_BAD_INPUT);
    assert_string_equal(r.reason, "bad input: x");

    /* a line that does not match the exit status is not trusted */
    judge(EXITED(1), "ok 3 10.000 5.000 0 0 0 0 0 0 0 0\n", false, false, &r);
    assert_int_equal(r.status, WORKER_FAILED);
    assert_non_null(strstr(r.reason, "exited with status 1"));
    judge(EXITED(0), "bad 1 1 bad input: x\n", false, false, &r);
    assert_int_equal(r.status, WORKER_FAILED);

    judge(SIGNALED(SIGSEGV), NULL, false, false, &r);
    assert_int_equal(r.status, WORKER_FAILED);
    assert_non_null(strstr(r.reason, "worker killed by signal 11"));

    judge(SIGNALED(SIGXCPU), NULL, false, false, &r);
    assert_string_equal(r.reason, "worker exceeded cpu_limit (30 s)");

    judge(SIGNALED(SIGKILL), NULL, true, false, &r);
    assert_string_equal(r.reason, "pack_timeout (60 s) exceeded: worker killed");
    /* even with a line: the daemon killed it */
    judge(SIGNALED(SIGKILL), "ok 3 1 1 0 0 0 0 0 0 0 0\n", true, false, &r);
    assert_int_equal(r.status, WORKER_FAILED);

    judge(SIGNALED(SIGKILL), NULL, false, true, &r);
    assert_non_null(strstr(r.reason, "shutting down"));

    judge(EXITED(0), NULL, false, false, &r);
    assert_string_equal(r.reason, "worker exited with status 0 without a result");
    judge(EXITED(1), "garbage", false, false, &r);
    assert_int_equal(r.status, WORKER_FAILED);
}

/* ------------------------------------------------------ pipeline runs */

struct fixture {
    char dir[64];
    char pack[128], work[128], out_tif[128], out_json[128];
    struct spoold_conf conf;
};

static void write_tiff(const char *path, int pages, int w, int h)
{
    struct page_writer *wr;
    errbuf e;
    assert_int_equal(page_writer_open(&wr, path, &e), 0);
    for (int i = 0; i < pages; i++) {
        page pg;
        assert_int_equal(page_alloc(&pg, w, h, 300, 300, 0, &e), 0);
        page_fill_rect(&pg, 5, 5 + i, 20, 10, 1);
        assert_int_equal(page_writer_add(wr, &pg, &e), 0);
        page_free(&pg);
    }
    assert_int_equal(page_writer_commit(wr, &e), 0);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/test_worker.XXXXXX");
    if (f == NULL || mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->pack, sizeof f->pack, "%s/in.tif@n1", f->dir);
    snprintf(f->work, sizeof f->work, "%s/.n1.w1", f->dir);
    snprintf(f->out_tif, sizeof f->out_tif, "%s/result.tif", f->dir);
    snprintf(f->out_json, sizeof f->out_json, "%s/result.json", f->dir);
    conf_defaults(&f->conf);
    errbuf e;
    if (conf_set(&f->conf, "spool", f->dir, &e) < 0 ||
        conf_set(&f->conf, "node", "n1", &e) < 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    conf_free(&f->conf);
    free(f);
    return rc == 0 ? 0 : -1;
}

/* Loads a pipeline into the fixture's configuration. */
static void use_pipeline(struct fixture *f, const char *text)
{
    errbuf e;
    if (conf_load_string(&f->conf, text, "t.conf", &e) < 0 ||
        conf_finish(&f->conf, &e) < 0)
        fail_msg("%s", e.msg);
}

static enum worker_status run(struct fixture *f, bool is_dir,
                              struct worker_result *r)
{
    struct worker_job job = {
        .conf = &f->conf, .pack = is_dir ? "dir" : "in.tif", .src = f->pack,
        .is_dir = is_dir, .attempt = 2, .workdir = f->work,
        .out_tif = f->out_tif, .out_json = f->out_json, .timeout_s = 30,
    };
    return pipeline_run(&job, r);
}

static int count_pages(const char *path)
{
    struct page_reader *rd;
    errbuf e;
    struct read_opts ro = { .default_dpi = 300, .max_pixels = 0 };
    if (page_reader_open(&rd, path, &ro, &e) < 0)
        return -1;
    int n = page_reader_count(rd);
    page_reader_close(rd);
    return n;
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    char *buf = calloc(1, 1 << 16);
    assert_true(fread(buf, 1, (1 << 16) - 1, fp) > 0);
    fclose(fp);
    return buf;
}

static void plain_pass_and_report(void **state)
{
    struct fixture *f = *state;
    write_tiff(f->pack, 3, 120, 80);
    use_pipeline(f, "pipeline = ();\numask = \"027\";\n");
    struct worker_result r;
    assert_int_equal(run(f, false, &r), WORKER_OK);
    assert_int_equal(r.pages, 3);
    assert_int_equal(count_pages(f->out_tif), 3);
    struct stat st;
    assert_int_equal(stat(f->out_tif, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
    char *json = slurp(f->out_json);
    assert_non_null(strstr(json, "{\"pack\":\"in.tif\",\"node\":\"n1\",\"attempt\":2,\"pages\":3,"));
    assert_non_null(strstr(json, "\"steps\":[{\"kind\":\"filters\",\"stages\":[],"));
    assert_non_null(strstr(json, "\"page\":2"));
    free(json);
}

static void directory_pack_in_name_order(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(mkdir(f->pack, 0755), 0);
    char p[256];
    snprintf(p, sizeof p, "%s/b.tif", f->pack);
    write_tiff(p, 2, 100, 60);
    snprintf(p, sizeof p, "%s/a.tif", f->pack);
    write_tiff(p, 1, 100, 200);
    snprintf(p, sizeof p, "%s/.hidden.tif", f->pack);
    write_tiff(p, 5, 10, 10);
    use_pipeline(f, "pipeline = ();\n");
    struct worker_result r;
    assert_int_equal(run(f, true, &r), WORKER_OK);
    assert_int_equal(r.pages, 3);
    char *json = slurp(f->out_json);
    /* a.tif (100 x 200) first */
    assert_non_null(strstr(json, "{\"page\":0,\"width\":100,\"height\":200"));
    free(json);
    /* a nested directory makes the pack bad */
    snprintf(p, sizeof p, "%s/sub", f->pack);
    assert_int_equal(mkdir(p, 0755), 0);
    assert_int_equal(run(f, true, &r), WORKER_BAD_INPUT);
    assert_non_null(strstr(r.reason, "not a regular file"));
}

static void exec_steps(void **state)
{
    struct fixture *f = *state;
    write_tiff(f->pack, 2, 64, 64);
    /* exec with {out}, then a check without {out}, then G4 again */
    use_pipeline(f, "pipeline = (\n"
                 " { exec = [\"cp\", \"{in}\", \"{out}\"]; },\n"
                 " { exec = [\"sh\", \"-c\", \"test $SPOOLD_ATTEMPT = 2 && test -s $0\", \"{in}\"]; },\n"
                 " { filter = \"none\"; }\n);\n");
    struct worker_result r;
    assert_int_equal(run(f, false, &r), WORKER_OK);
    assert_int_equal(r.pages, 2);
    assert_true(r.stage_ms[7] > 0);     /* exec time counted */
    char *json = slurp(f->out_json);
    assert_non_null(strstr(json, "{\"kind\":\"exec\",\"argv\":[\"cp\","));
    free(json);

    /* a failing step: the attempt fails with the program's words */
    use_pipeline(f, "pipeline = ( { exec = [\"sh\", \"-c\", \"echo no licence >&2; exit 4\", \"{out}\"]; } );\n");
    assert_int_equal(run(f, false, &r), WORKER_FAILED);
    assert_string_equal(r.reason, "exec step 1: sh exited with status 4: no licence");

    /* exit 0 without writing {out} */
    use_pipeline(f, "pipeline = ( { exec = [\"true\", \"{out}\"]; } );\n");
    assert_int_equal(run(f, false, &r), WORKER_FAILED);
    assert_non_null(strstr(r.reason, "did not write {out}"));

    /* an output that is not an image */
    use_pipeline(f, "pipeline = ( { exec = [\"sh\", \"-c\", \"echo text > $0\", \"{out}\"]; } );\n");
    assert_int_equal(run(f, false, &r), WORKER_FAILED);
    assert_non_null(strstr(r.reason, "not a readable image"));
}

/* notify_fd: "steps done" is written when the steps are done (before the
 * results), and only then: not for a pack whose steps fail. */
static void steps_done_is_announced(void **state)
{
    struct fixture *f = *state;
    write_tiff(f->pack, 2, 64, 64);
    use_pipeline(f, "pipeline = ();\n");
    int p[2];
    assert_int_equal(pipe(p), 0);
    struct worker_job job = {
        .conf = &f->conf, .pack = "in.tif", .src = f->pack, .attempt = 1,
        .workdir = f->work, .out_tif = f->out_tif, .out_json = f->out_json,
        .timeout_s = 30, .notify_fd = p[1],
    };
    struct worker_result r;
    assert_int_equal(pipeline_run(&job, &r), WORKER_OK);
    char buf[64] = "";
    assert_int_equal(read(p[0], buf, sizeof buf - 1), (ssize_t)strlen(WORKER_STEPS_DONE));
    assert_string_equal(buf, WORKER_STEPS_DONE);
    /* a failing step: nothing announced */
    use_pipeline(f, "pipeline = ( { exec = [\"false\", \"{out}\"]; } );\n");
    assert_int_equal(pipeline_run(&job, &r), WORKER_FAILED);
    close(p[1]);
    assert_int_equal(read(p[0], buf, sizeof buf - 1), 0);
    close(p[0]);
}

static void undecodable_pack_is_bad_input(void **state)
{
    struct fixture *f = *state;
    FILE *fp = fopen(f->pack, "w");
    assert_non_null(fp);
    fputs("II*\0garbage garbage garbage", fp);
    fclose(fp);
    use_pipeline(f, "pipeline = ();\n");
    struct worker_result r;
    assert_int_equal(run(f, false, &r), WORKER_BAD_INPUT);
    assert_non_null(strstr(r.reason, "bad input: "));
    struct stat st;
    assert_int_equal(stat(f->out_tif, &st), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(result_line_round_trip),
        cmocka_unit_test(judging_a_worker),
        cmocka_unit_test_setup_teardown(plain_pass_and_report, setup, teardown),
        cmocka_unit_test_setup_teardown(directory_pack_in_name_order, setup, teardown),
        cmocka_unit_test_setup_teardown(exec_steps, setup, teardown),
        cmocka_unit_test_setup_teardown(steps_done_is_announced, setup, teardown),
        cmocka_unit_test_setup_teardown(undecodable_pack_is_bad_input, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
