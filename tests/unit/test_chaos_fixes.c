/*
 * test_chaos_fixes.c — regression tests for what the fault harness
 * (tests/chaos/) found, at the unit level:
 *  - an output directory outside the spool must carry the spool's
 *    .spool-output marker (spool_check_output), so that a vanished output
 *    mount, whose mount point is then an empty local directory that
 *    accepts writes, is noticed instead of swallowing published packs;
 *  - a worker that cannot reach the output (the marker check fails) or
 *    its work directory says WORKER_UNAVAILABLE ("unavail" on the result
 *    line), which the daemon returns without counting the attempt;
 *  - nothing planted in the shared directories makes the daemon block or
 *    read or write outside the spool: a FIFO in place of a spool file
 *    (read or created), a symlink in place of a pack member, of the
 *    worker's directory or of an output temporary name.
 * Every test that could hang runs under alarm(): a hang fails it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "pageio.h"
#include "spool.h"
#include "worker.h"

struct fx {
    char dir[64], spool[128], out[128], other[128];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/test_chaos_fixes.XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->spool, sizeof f->spool, "%s/spool", f->dir);
    snprintf(f->out, sizeof f->out, "%s/out", f->dir);
    snprintf(f->other, sizeof f->other, "%s/other", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

static void init(const char *root, const char *out)
{
    struct spool_init_opts o = { .out_dir = out };
    errbuf e;
    if (spool_init(root, &o, NULL, NULL, &e) < 0)
        fail_msg("spool_init %s: %s", root, e.msg);
}

static void output_outside_the_spool_needs_its_marker(void **state)
{
    struct fx *f = *state;
    init(f->spool, NULL);
    struct spool *sp;
    errbuf e;
    assert_int_equal(spool_open(&sp, f->spool, "n1", NULL, NULL, &e), 0);

    /* inside the spool: the spool's own identity vouches for it */
    char in[200];
    snprintf(in, sizeof in, "%s/out", f->spool);
    assert_int_equal(spool_check_output(sp, NULL, &e), 0);
    assert_int_equal(spool_check_output(sp, in, &e), 0);
    snprintf(in, sizeof in, "%s/elsewhere/deep/", f->spool);
    assert_int_equal(spool_check_output(sp, in, &e), 0);

    /* outside, without the marker: the "empty local directory" case */
    assert_int_equal(mkdir(f->out, 0755), 0);
    assert_int_equal(spool_check_output(sp, f->out, &e), -1);
    assert_non_null(strstr(e.msg, "not this spool's output"));
    assert_non_null(strstr(e.msg, "spoolctl init --output"));
    /* a directory whose name merely starts like the spool's is outside */
    char lookalike[200];
    snprintf(lookalike, sizeof lookalike, "%s-out", f->spool);
    assert_int_equal(mkdir(lookalike, 0755), 0);
    assert_int_equal(spool_check_output(sp, lookalike, &e), -1);

    /* spoolctl init --output on the existing spool writes the marker */
    init(f->spool, f->out);
    assert_int_equal(spool_check_output(sp, f->out, &e), 0);

    /* another spool's output is refused */
    char root2[200], out2[200];
    snprintf(root2, sizeof root2, "%s/spool2", f->dir);
    snprintf(out2, sizeof out2, "%s/out2", f->dir);
    init(root2, out2);
    assert_int_equal(spool_check_output(sp, out2, &e), -1);
    assert_non_null(strstr(e.msg, "another spool"));

    /* the marker gone (the mount vanished): refused again */
    char marker[300];
    snprintf(marker, sizeof marker, "%s/%s", f->out, SPOOL_OUTPUT_MARKER);
    assert_int_equal(unlink(marker), 0);
    assert_int_equal(spool_check_output(sp, f->out, &e), -1);
    spool_close(sp);
}

static void unavailable_result_line(void **state)
{
    struct worker_result r = { .status = WORKER_UNAVAILABLE, .ms = 2,
                               .cpu_ms = 1 };
    snprintf(r.reason, sizeof r.reason, "output gone");
    char line[600];
    int n = worker_result_format(&r, line, sizeof line);
    assert_true(n > 0);
    assert_memory_equal(line, "unavail ", 8);
    struct worker_result back;
    assert_int_equal(worker_result_parse(line, (size_t)n, &back), 0);
    assert_int_equal(back.status, WORKER_UNAVAILABLE);
    assert_string_equal(back.reason, "output gone");
    /* only believed with the matching exit status */
    struct worker_exit x = { .wstatus = 3 << 8, .text = line, .len = (size_t)n };
    worker_judge(&x, &back);
    assert_int_equal(back.status, WORKER_UNAVAILABLE);
    x.wstatus = 1 << 8;
    worker_judge(&x, &back);
    assert_int_equal(back.status, WORKER_FAILED);
}

static int refuse(const void *ctx, errbuf *e)
{
    return err_set(e, "output %s is not this spool's output", (const char *)ctx);
}

static void write_page(const char *path)
{
    struct page_writer *wr;
    page pg;
    errbuf e;
    assert_int_equal(page_writer_open(&wr, path, &e), 0);
    assert_int_equal(page_alloc(&pg, 64, 40, 300, 300, 0, &e), 0);
    page_fill_rect(&pg, 4, 4, 20, 10, 1);
    assert_int_equal(page_writer_add(wr, &pg, &e), 0);
    page_free(&pg);
    assert_int_equal(page_writer_commit(wr, &e), 0);
}

/* Runs a one-step pipeline (filter "none") on a fresh pack p.tif in
 * f->dir with the given work directory, output temp names and output
 * check (out_ok may be NULL); returns the status, *r the result. */
static enum worker_status run_none(struct fx *f, const char *work,
                                   const char *tif, const char *json,
                                   int (*out_ok)(const void *, errbuf *),
                                   const void *out_ctx,
                                   struct worker_result *r)
{
    char pack[200];
    snprintf(pack, sizeof pack, "%s/p.tif@n1", f->dir);
    write_page(pack);
    struct spoold_conf c;
    errbuf e;
    conf_defaults(&c);
    assert_int_equal(conf_set(&c, "spool", f->dir, &e), 0);
    assert_int_equal(conf_set(&c, "node", "n1", &e), 0);
    assert_int_equal(conf_load_string(&c, "pipeline = ();", "t.conf", &e), 0);
    assert_int_equal(conf_finish(&c, &e), 0);
    struct worker_job job = {
        .conf = &c, .pack = "p.tif", .src = pack, .attempt = 1,
        .workdir = work, .out_tif = tif, .out_json = json,
        .out_ok = out_ok, .out_ctx = out_ctx,
    };
    enum worker_status st = pipeline_run(&job, r);
    conf_free(&c);
    return st;
}

static void worker_does_not_write_into_a_foreign_output(void **state)
{
    struct fx *f = *state;
    char work[200], tif[200], json[200];
    struct worker_result r;
    snprintf(work, sizeof work, "%s/.n1@w1.1", f->dir);
    snprintf(tif, sizeof tif, "%s/.p.n1.tif.tmp", f->dir);
    snprintf(json, sizeof json, "%s/.p.n1.json.tmp", f->dir);
    assert_int_equal(run_none(f, work, tif, json, refuse, f->out, &r),
                     WORKER_UNAVAILABLE);
    assert_non_null(strstr(r.reason, "not this spool's output"));
    struct stat st;
    assert_int_equal(stat(tif, &st), -1);
    assert_int_equal(stat(json, &st), -1);

    /* and a work directory that cannot be made (the spool's tmp/ gone) */
    snprintf(work, sizeof work, "%s/gone/.n1@w1.2", f->dir);
    assert_int_equal(run_none(f, work, tif, json, NULL, NULL, &r),
                     WORKER_UNAVAILABLE);
}

static void fifos_do_not_block_the_daemon(void **state)
{
    struct fx *f = *state;
    init(f->spool, NULL);
    struct spool *sp;
    errbuf e;
    assert_int_equal(spool_open(&sp, f->spool, "n1", NULL, NULL, &e), 0);
    char path[300];
    alarm(20);
    /* a FIFO instead of .spool-id: read, refused, no hang */
    snprintf(path, sizeof path, "%s/.spool-id", f->spool);
    char saved[300];
    snprintf(saved, sizeof saved, "%s/id.saved", f->dir);
    assert_int_equal(rename(path, saved), 0);
    assert_int_equal(mkfifo(path, 0644), 0);
    assert_int_equal(spool_check_identity(sp, &e), -1);
    assert_non_null(strstr(e.msg, "not a regular file"));
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rename(saved, path), 0);
    /* a FIFO at the temp name of a history update: fails, no hang */
    snprintf(path, sizeof path, "%s/tmp/.n1@hist", f->spool);
    assert_int_equal(mkfifo(path, 0644), 0);
    assert_int_equal(spool_history_append(sp, "p.tif", 1, "n1", 0, "x", &e), -1);
    /* a FIFO as a pack: the parse check refuses it, no hang */
    snprintf(path, sizeof path, "%s/incoming/f.tif", f->spool);
    assert_int_equal(mkfifo(path, 0644), 0);
    int pages;
    uint64_t px;
    assert_int_equal(spool_check_image(sp, path, &pages, &px, &e), -1);
    alarm(0);
    spool_close(sp);
}

static void readers_do_not_follow_symlinks(void **state)
{
    struct fx *f = *state;
    char page_path[200], link[200];
    snprintf(page_path, sizeof page_path, "%s/outside.tif", f->dir);
    snprintf(link, sizeof link, "%s/link.tif", f->dir);
    write_page(page_path);
    assert_int_equal(symlink(page_path, link), 0);
    struct read_opts ro = { .default_dpi = 300 };
    struct page_reader *rd;
    errbuf e;
    assert_int_equal(page_reader_open(&rd, link, &ro, &e), 0);  /* the CLI follows */
    page_reader_close(rd);
    ro.no_follow = true;
    assert_int_equal(page_reader_open(&rd, link, &ro, &e), -1);
    assert_non_null(strstr(e.msg, "symbolic link"));
}

static void planted_symlinks_are_not_followed(void **state)
{
    struct fx *f = *state;
    char outside[200], work[200], tif[200], json[200];
    struct worker_result r;
    snprintf(outside, sizeof outside, "%s/outside", f->dir);
    assert_int_equal(mkdir(outside, 0755), 0);
    /* the worker's directory name planted as a link to a directory */
    snprintf(work, sizeof work, "%s/.n1@w9.9", f->dir);
    assert_int_equal(symlink(outside, work), 0);
    snprintf(tif, sizeof tif, "%s/res.tif", f->dir);
    snprintf(json, sizeof json, "%s/res.json", f->dir);
    assert_int_equal(run_none(f, work, tif, json, NULL, NULL, &r), WORKER_OK);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s')\"", outside);
    assert_int_equal(system(cmd), 0);       /* nothing written through it */
    struct stat st;
    assert_int_equal(lstat(work, &st), 0);
    assert_true(S_ISDIR(st.st_mode));       /* a real directory now */

    /* output temp names planted as links, on another file system (the
     * copy path); skipped where /dev/shm is the same file system */
    struct stat a, b;
    if (stat("/dev/shm", &a) < 0 || stat(f->dir, &b) < 0 || a.st_dev == b.st_dev)
        return;
    char shm[200], target[200];
    snprintf(shm, sizeof shm, "/dev/shm/test_chaos_fixes.%ld", (long)getpid());
    assert_int_equal(mkdir(shm, 0700), 0);
    snprintf(target, sizeof target, "%s/victim", outside);
    snprintf(tif, sizeof tif, "%s/.p.n1.tif.tmp", shm);
    snprintf(json, sizeof json, "%s/.p.n1.json.tmp", shm);
    assert_int_equal(symlink(target, tif), 0);
    assert_int_equal(symlink(target, json), 0);
    snprintf(work, sizeof work, "%s/.n1@w9.10", f->dir);
    assert_int_equal(run_none(f, work, tif, json, NULL, NULL, &r), WORKER_OK);
    assert_int_equal(lstat(target, &st), -1);  /* never created */
    assert_int_equal(lstat(tif, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", shm);
    assert_int_equal(system(cmd), 0);
}

/* A worker killed while copying into an output on another file system
 * left .BASE.NODE.tif.tmp there forever (the chaos harness saw them):
 * those temps are now .NODE@... like tmp/'s, and the node removes its own
 * at start-up. */
static void own_output_temps_are_cleaned(void **state)
{
    struct fx *f = *state;
    init(f->spool, f->out);
    struct spool *sp;
    errbuf e;
    assert_int_equal(spool_open(&sp, f->spool, "n1", NULL, NULL, &e), 0);
    struct spool_claim c = { .pack = "p.tif", .node = "n1", .attempt = 2 };
    struct spool_output o;
    char claim[300];
    snprintf(claim, sizeof claim, "%s/claimed/p.tif@n1+2", f->spool);
    FILE *fp = fopen(claim, "w");
    assert_non_null(fp);
    fclose(fp);
    assert_int_equal(spool_output_paths(sp, f->out, &c, &o, &e), 0);
    /* the output is another directory of the same file system here, so the
     * temps are in tmp/; the naming rule is the same in both places */
    const char *names[] = { ".n1@abc.1.tif.tmp", ".n1@x", ".n10@y", ".n1.z.tif.tmp",
                            "kept.tif", ".spool-output" };
    for (size_t i = 0; i < 5; i++) {
        char p[300];
        snprintf(p, sizeof p, "%s/%s", f->out, names[i]);
        fp = fopen(p, "w");
        assert_non_null(fp);
        fclose(fp);
    }
    assert_int_equal(spool_clean_output(sp, f->out, &e), 0);
    for (size_t i = 0; i < 6; i++) {
        char p[300];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", f->out, names[i]);
        bool gone = i < 2;
        assert_int_equal(lstat(p, &st) == 0, !gone);
    }
    spool_close(sp);
}

/* An empty directory pack made the scanner qsort() a NULL array (with a
 * count of 0: still undefined; UBSan stopped the daemon).  Under make
 * SAN=1 this test runs with UBSan. */
static void empty_directory_pack_scans(void **state)
{
    struct fx *f = *state;
    init(f->spool, NULL);
    struct spool *sp;
    errbuf e;
    assert_int_equal(spool_open(&sp, f->spool, "n1", NULL, NULL, &e), 0);
    char dir[300];
    snprintf(dir, sizeof dir, "%s/incoming/empty", f->spool);
    assert_int_equal(mkdir(dir, 0755), 0);
    struct spool_scan *st = spool_scan_new();
    assert_non_null(st);
    struct spool_scan_opts o = { .settle_s = 0, .broken_after_s = 0 };
    assert_int_equal(spool_scan_incoming(sp, st, 0, &o, &e), 0);
    assert_int_equal(spool_scan_incoming(sp, st, SPOOL_NS_PER_S * 1000, &o, &e), 0);
    assert_int_equal(spool_scan_count(st), 1);
    spool_scan_free(st);
    spool_close(sp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(empty_directory_pack_scans, setup, teardown),
        cmocka_unit_test_setup_teardown(own_output_temps_are_cleaned, setup, teardown),
        cmocka_unit_test_setup_teardown(fifos_do_not_block_the_daemon, setup, teardown),
        cmocka_unit_test_setup_teardown(readers_do_not_follow_symlinks, setup, teardown),
        cmocka_unit_test_setup_teardown(planted_symlinks_are_not_followed, setup, teardown),
        cmocka_unit_test_setup_teardown(output_outside_the_spool_needs_its_marker, setup, teardown),
        cmocka_unit_test(unavailable_result_line),
        cmocka_unit_test_setup_teardown(worker_does_not_write_into_a_foreign_output, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
