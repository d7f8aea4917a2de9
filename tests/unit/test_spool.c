/*
 * test_spool.c — the spool protocol on a real temp directory plus the
 * fault seam: claim names, claim races and lost replies, lease arithmetic
 * in server time, attempt counting across reaps and failures, publish,
 * and odd pack names round-tripping through claim/publish/done.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "spooltest.h"
#include "jsonstr.h"

#define S(x) ((spool_ns)(x) * SPOOL_NS_PER_S)

/* ------------------------------------------------------------- names */

static void claim_names_round_trip(void **state)
{
    const char *good[] = {
        "a.tif@n1", "a.tif@n1+2", "a.tif@+0", "a.tif@+17",
        "x@y@n1", "x@+3@n1+4", "sp ace\nnl\xff\xfe.tif@node-1.b_c",
        "p+1@+1", "@@n", "a@ +x@n",
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        struct spool_claim c;
        char buf[SPOOL_CLAIM_NAME_MAX + 1];
        assert_int_equal(spool_claim_parse(good[i], &c), 0);
        assert_int_equal(spool_claim_format(&c, buf, sizeof buf), (int)strlen(good[i]));
        assert_string_equal(buf, good[i]);
    }
    struct spool_claim c;
    assert_int_equal(spool_claim_parse("x@y@n1", &c), 0);
    assert_string_equal(c.pack, "x@y");
    assert_string_equal(c.node, "n1");
    assert_int_equal(c.attempt, 1);
    assert_int_equal(spool_claim_parse("x@+3@n1+4", &c), 0);
    assert_string_equal(c.pack, "x@+3");
    assert_int_equal(c.attempt, 4);
    assert_int_equal(spool_claim_parse("a@+0", &c), 0);
    assert_int_equal(c.attempt, 0);
    assert_string_equal(c.node, "");
    const char *bad[] = {
        "nonode", "a@", "@n1", ".a@n1", "a@n1+1", "a@n1+0", "a@n1+02",
        "a@+", "a@+01", "a@n 1", "a@.n", "a@n1+x", "a@+1234567", "a@n1+-2",
        ".a.err",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(spool_claim_parse(bad[i], &c), -1);
}

static void node_and_ignored_names(void **state)
{
    assert_true(spool_node_name_ok("n1"));
    assert_true(spool_node_name_ok("host-2.example_x"));
    assert_false(spool_node_name_ok(""));
    assert_false(spool_node_name_ok(".hidden"));
    assert_false(spool_node_name_ok("a@b"));
    assert_false(spool_node_name_ok("a+b"));
    assert_false(spool_node_name_ok("a b"));
    assert_false(spool_node_name_ok("n\xc3\xa9"));
    char long_name[80];
    memset(long_name, 'a', 65);
    long_name[65] = '\0';
    assert_false(spool_node_name_ok(long_name));
    long_name[64] = '\0';
    assert_true(spool_node_name_ok(long_name));

    assert_true(spool_name_ignored(".x.tif"));
    assert_true(spool_name_ignored("x.tif.part"));
    assert_true(spool_name_ignored("x.tmp"));
    assert_true(spool_name_ignored(""));
    assert_false(spool_name_ignored("x.tif"));
    assert_false(spool_name_ignored("x.partial"));
    assert_false(spool_name_ignored("tmp"));
}

static void output_base_names(void **state)
{
    char b[256];
    assert_int_equal(spool_output_base("scan 1.tif", false, b, sizeof b), 6);
    assert_string_equal(b, "scan 1");
    spool_output_base("A.TIFF", false, b, sizeof b);
    assert_string_equal(b, "A");
    spool_output_base("a.tif.tif", false, b, sizeof b);
    assert_string_equal(b, "a.tif");
    spool_output_base("book.tif", true, b, sizeof b);   /* directory: kept */
    assert_string_equal(b, "book.tif");
    spool_output_base("x.png", false, b, sizeof b);
    assert_string_equal(b, "x.png");
    assert_int_equal(spool_output_base(".tif", false, b, sizeof b), -1);
    assert_int_equal(spool_output_base("abc.tif", false, b, 3), -1);
}

/* ------------------------------------------------------------- fixtures */

struct fx {
    char *root;
    struct fault f;
    struct spool *a, *b;    /* nodes "n1" and "n2" */
};

static int setup(void **state)
{
    struct fx *x = calloc(1, sizeof *x);
    errbuf e;
    x->root = make_spool();
    if (x->root == NULL ||
        spool_open(&x->a, x->root, "n1", &fault_ops, &x->f, &e) < 0 ||
        spool_open(&x->b, x->root, "n2", NULL, NULL, &e) < 0)
        return -1;
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    struct fx *x = *state;
    spool_close(x->a);
    spool_close(x->b);
    remove_spool(x->root);
    free(x);
    return 0;
}

static void drop(struct fx *x, const char *name)
{
    char p[4096];
    assert_int_equal(write_file(sp_file(p, x->root, "incoming", name), "data", 4), 0);
}

/* The pack report a worker writes: it begins with o->report_head. */
static int write_report(const struct spool_output *o)
{
    char buf[sizeof o->report_head + 32];
    int n = snprintf(buf, sizeof buf, "%s\"node\":\"t\"}\n", o->report_head);
    return write_file(o->tmp_json, buf, (size_t)n);
}

/* Drops PACK, claims it as n1 and writes its worker results (report and
 * .tif) under their temporary names, as a finished worker leaves them. */
static void claim_with_temps(struct fx *x, const char *pack,
                             struct spool_claim *c, struct spool_output *o)
{
    errbuf e;
    drop(x, pack);
    assert_int_equal(spool_claim(x->a, pack, c, &e), SPOOL_WON);
    assert_int_equal(spool_output_paths(x->a, NULL, c, o, &e), 0);
    assert_int_equal(write_report(o), 0);
    assert_int_equal(write_file(o->tmp_tif, "TIFF", 4), 0);
}

/* ------------------------------------------------------------ claiming */

static void claim_race_one_wins(void **state)
{
    struct fx *x = *state;
    errbuf e;
    drop(x, "p.tif");
    struct spool_claim ca, cb;
    assert_int_equal(spool_claim(x->a, "p.tif", &ca, &e), SPOOL_WON);
    assert_int_equal(spool_claim(x->b, "p.tif", &cb, &e), SPOOL_LOST);
    char p[4096];
    assert_true(exists(sp_file(p, x->root, "claimed", "p.tif@n1")));
    assert_false(exists(sp_file(p, x->root, "claimed", "p.tif@n2")));
    assert_int_equal(ca.attempt, 1);

    /* n2 wins the race just before n1's rename reaches the server */
    drop(x, "q.tif");
    x->f.mode = FAULT_RENAME_RACE;
    sp_file(x->f.race_to, x->root, "claimed", "q.tif@n2");
    assert_int_equal(spool_claim(x->a, "q.tif", &ca, &e), SPOOL_LOST);
    assert_true(exists(sp_file(p, x->root, "claimed", "q.tif@n2")));
    assert_false(exists(sp_file(p, x->root, "claimed", "q.tif@n1")));
}

static void lost_reply_is_a_win(void **state)
{
    struct fx *x = *state;
    errbuf e;
    int errs[] = { EIO, ENOENT, ECONNABORTED, ENOTCONN, EEXIST };
    for (size_t i = 0; i < sizeof errs / sizeof *errs; i++) {
        char name[32], cn[64], p[4096];
        snprintf(name, sizeof name, "lr%zu.tif", i);
        snprintf(cn, sizeof cn, "%s@n1", name);
        drop(x, name);
        x->f = (struct fault){ .mode = FAULT_RENAME_DONE_THEN_ERR, .err = errs[i] };
        struct spool_claim c;
        assert_int_equal(spool_claim(x->a, name, &c, &e), SPOOL_WON);
        assert_true(exists(sp_file(p, x->root, "claimed", cn)));
        assert_string_equal(c.pack, name);
    }
}

static void failed_rename_with_source_present_is_an_error(void **state)
{
    struct fx *x = *state;
    errbuf e;
    char p[4096];
    drop(x, "s.tif");
    x->f = (struct fault){ .mode = FAULT_RENAME_ERR, .err = EIO };
    struct spool_claim c;
    assert_int_equal(spool_claim(x->a, "s.tif", &c, &e), SPOOL_ERROR);
    assert_non_null(strstr(e.msg, "Input/output error"));
    assert_true(exists(sp_file(p, x->root, "incoming", "s.tif")));
    /* ENOTCONN everywhere: cannot even look: error, not "lost" */
    x->f = (struct fault){ .mode = FAULT_ALL_ERR, .err = ENOTCONN };
    assert_int_equal(spool_claim(x->a, "s.tif", &c, &e), SPOOL_ERROR);
    x->f.mode = FAULT_NONE;
    assert_int_equal(spool_claim(x->a, "s.tif", &c, &e), SPOOL_WON);
    /* both gone after an error: lost */
    drop(x, "t.tif");
    x->f = (struct fault){ .mode = FAULT_RENAME_RACE };
    sp_file(x->f.race_to, x->root, "claimed", "t.tif@n2");
    assert_int_equal(spool_claim(x->a, "t.tif", &c, &e), SPOOL_LOST);
}

static void same_name_twice_does_not_replace(void **state)
{
    struct fx *x = *state;
    errbuf e;
    char p[4096];
    struct spool_claim c1, c2;
    drop(x, "dup.tif");
    assert_int_equal(spool_claim(x->a, "dup.tif", &c1, &e), SPOOL_WON);
    assert_int_equal(write_file(sp_file(p, x->root, "incoming", "dup.tif"), "second", 6), 0);
    assert_int_equal(spool_claim(x->a, "dup.tif", &c2, &e), SPOOL_ERROR);
    assert_non_null(strstr(e.msg, "exists already"));
    char *held = read_all(sp_file(p, x->root, "claimed", "dup.tif@n1"));
    assert_string_equal(held, "data");
    free(held);
    assert_true(exists(sp_file(p, x->root, "incoming", "dup.tif")));
}

/* ------------------------------------------------------- time and lease */

static void lease_in_server_time(void **state)
{
    struct fx *x = *state;
    errbuf e;
    char p[4096];
    spool_ns now_a, now_b, age;
    struct spool_heartbeat hb = { .workers = 2, .lease_s = 30 };
    snprintf(hb.node, sizeof hb.node, "n1");
    /* n1's own clock is one hour ahead: it says so in its text, and that
     * must not matter: only the server's mtimes count */
    hb.local_time = (int64_t)time(NULL) + 3600;
    assert_int_equal(spool_heartbeat_write(x->a, &hb, &now_a, &e), 0);
    snprintf(hb.node, sizeof hb.node, "n2");
    hb.local_time = (int64_t)time(NULL) - 3600;
    assert_int_equal(spool_heartbeat_write(x->b, &hb, &now_b, &e), 0);
    struct stat st;
    assert_int_equal(lstat(sp_file(p, x->root, "nodes", "n1"), &st), 0);
    assert_true(spool_ns_mtime(&st) == now_a);

    /* simulate server stamps: n2's heartbeat written at 1000, n1's at 1030 */
    set_mtime(sp_file(p, x->root, "nodes", "n2"), 1000);
    set_mtime(sp_file(p, x->root, "nodes", "n1"), 1030);
    struct spool_nodes nodes;
    assert_int_equal(spool_list_nodes(x->a, &nodes, &e), 0);
    assert_int_equal(nodes.n, 2);
    const struct spool_node_info *n2 = spool_nodes_find(&nodes, "n2");
    assert_non_null(n2);
    assert_true(n2->hb_ok);
    assert_int_equal(n2->hb.local_time, hb.local_time);
    spool_ns now = spool_ns_mtime(&(struct stat){ .st_mtim = { 1030, 0 } });
    /* age exactly the lease: alive; one ns more: dead */
    assert_false(spool_node_dead(true, n2->mtime, now, S(30), &age));
    assert_true(age == S(30));
    assert_true(spool_node_dead(true, n2->mtime, now + 1, S(30), &age));
    /* a "now" older than the heartbeat (our own stamp is up to one
     * heartbeat old): alive, negative age */
    assert_false(spool_node_dead(true, n2->mtime, S(990), S(30), &age));
    assert_true(age < 0);
    /* no heartbeat at all while claims exist: dead */
    assert_true(spool_node_dead(false, 0, now, S(30), &age));
    assert_true(age == -1);
    spool_nodes_free(&nodes);
}

static void heartbeat_text_round_trip(void **state)
{
    struct spool_heartbeat hb = {
        .node = "n7", .host = "box.example", .pid = 4242, .version = "1.2.3",
        .state = "running", .note = "", .workers = 4, .busy = 3,
        .heartbeat_s = 5, .lease_s = 60, .local_time = 1700000000,
        .uptime_s = 99, .packs_done = 12, .packs_failed = 1,
        .pages_done = 1200, .bytes_done = 123456789, .pages_per_min = 412.5,
        .rate_window_s = 300,
    }, back;
    char buf[SPOOL_HEARTBEAT_MAX];
    errbuf e;
    int n = spool_heartbeat_format(&hb, buf, sizeof buf, &e);
    assert_true(n > 0);
    assert_int_equal(spool_heartbeat_parse(buf, (size_t)n, &back, &e), 0);
    assert_string_equal(back.host, "box.example");
    assert_int_equal(back.pid, 4242);
    assert_int_equal(back.busy, 3);
    assert_true(back.pages_done == 1200 && back.bytes_done == 123456789);
    assert_true(back.pages_per_min == 412.5);
    assert_true(back.lease_s == 60);
    /* unknown keys ignored, bad numbers refused, wrong magic refused */
    const char *fut = "spoldd-heartbeat 1\n";
    assert_int_equal(spool_heartbeat_parse(fut, strlen(fut), &back, &e), -1);
    const char *extra = "spoold-heartbeat 1\nnode=x\nfuture_key=1\n";
    assert_int_equal(spool_heartbeat_parse(extra, strlen(extra), &back, &e), 0);
    assert_string_equal(back.node, "x");
    const char *badnum = "spoold-heartbeat 1\npages_done=12x\n";
    assert_int_equal(spool_heartbeat_parse(badnum, strlen(badnum), &back, &e), -1);
    snprintf(hb.note, sizeof hb.note, "two\nlines");
    assert_int_equal(spool_heartbeat_format(&hb, buf, sizeof buf, &e), -1);
}

static void rate_over_window(void **state)
{
    struct spool_rate r = { .window_s = 60 };
    assert_true(spool_rate_per_min(&r) == 0);
    spool_rate_add(&r, 100, 0);
    spool_rate_add(&r, 130, 50);
    assert_true(spool_rate_per_min(&r) == 100);
    for (int i = 0; i < 200; i++)
        spool_rate_add(&r, 130 + i, 50 + (uint64_t)i * 2);   /* 120/min */
    assert_true(spool_rate_per_min(&r) > 119.9 && spool_rate_per_min(&r) < 120.1);
}

/* ------------------------------------------------------ attempt counting */

/* A released claim of PACK in claimed/ as n2 sees it. */
static int find_claim(struct spool *sp, const char *pack, struct spool_claim *out)
{
    struct spool_claims cl;
    errbuf e;
    if (spool_list_claims(sp, &cl, &e) < 0)
        return -1;
    int found = -1;
    for (size_t i = 0; i < cl.n; i++)
        if (strcmp(cl.v[i].pack, pack) == 0) {
            *out = cl.v[i];
            found = 0;
        }
    spool_claims_free(&cl);
    return found;
}

static void attempts_survive_reaps_and_failures(void **state)
{
    struct fx *x = *state;
    errbuf e;
    char p[4096];
    struct spool_claim c, rel, mine;
    bool to_failed;
    drop(x, "k.tif");
    /* attempt 1: n1 claims and dies; n2 reaps it */
    assert_int_equal(spool_claim(x->a, "k.tif", &c, &e), SPOOL_WON);
    assert_int_equal(spool_reap(x->b, &c, S(95), S(2000), &e), SPOOL_WON);
    assert_true(exists(sp_file(p, x->root, "claimed", "k.tif@+1")));
    /* a second reaper (n1 reaping itself is refused; n2 again: lost) */
    assert_int_equal(spool_reap(x->a, &c, S(95), S(2000), &e), SPOOL_ERROR);
    assert_int_equal(spool_reap(x->b, &c, S(95), S(2000), &e), SPOOL_LOST);
    /* attempt 2: n2 takes it and fails (worker crash) -> released */
    assert_int_equal(find_claim(x->b, "k.tif", &rel), 0);
    assert_int_equal(rel.attempt, 1);
    assert_string_equal(rel.node, "");
    assert_int_equal(spool_claim_released(x->b, &rel, 3, S(2010), &mine, &e), SPOOL_WON);
    assert_int_equal(mine.attempt, 2);
    assert_true(exists(sp_file(p, x->root, "claimed", "k.tif@n2+2")));
    assert_int_equal(spool_fail(x->b, &mine, "worker killed by signal 11",
                                false, 3, S(2020), &to_failed, &e), SPOOL_WON);
    assert_false(to_failed);
    /* attempt 3: n2 takes it and is reaped by n1, whose rename loses its
     * reply (EIO) although it happened */
    assert_int_equal(find_claim(x->a, "k.tif", &rel), 0);
    assert_int_equal(rel.attempt, 2);
    assert_int_equal(spool_claim_released(x->b, &rel, 3, S(2030), &mine, &e), SPOOL_WON);
    assert_int_equal(mine.attempt, 3);
    x->f = (struct fault){ .mode = FAULT_RENAME_DONE_THEN_ERR, .err = EIO };
    assert_int_equal(spool_reap(x->a, &mine, -1, S(2100), &e), SPOOL_WON);
    /* attempts exhausted: the next taker moves it to failed/ */
    assert_int_equal(find_claim(x->a, "k.tif", &rel), 0);
    assert_int_equal(rel.attempt, 3);
    assert_int_equal(spool_claim_released(x->a, &rel, 3, S(2110), &mine, &e),
                     SPOOL_GAVE_UP);
    assert_true(exists(sp_file(p, x->root, "failed", "k.tif")));
    assert_false(exists(sp_file(p, x->root, "claimed", ".k.tif.err")));
    char *err = read_all(sp_file(p, x->root, "failed", "k.tif.err"));
    assert_non_null(err);
    assert_non_null(strstr(err, "attempt 1 on n1 at "));
    assert_non_null(strstr(err, "lease expired (heartbeat age 95 s)"));
    assert_non_null(strstr(err, "attempt 2 on n2 at "));
    assert_non_null(strstr(err, "worker killed by signal 11"));
    assert_non_null(strstr(err, "attempt 3 on n2 at "));
    assert_non_null(strstr(err, "no heartbeat"));
    assert_non_null(strstr(err, "gave up after 3 attempts"));
    /* the final line names what the last attempt ran into */
    const char *final = strstr(err, "failed at ");
    assert_non_null(final);
    assert_non_null(strstr(final, ", last: attempt 3 on n2 at "));
    assert_non_null(strstr(final, "no heartbeat"));
    free(err);
    struct spool_claims cl;
    assert_int_equal(spool_list_claims(x->a, &cl, &e), 0);
    assert_int_equal(cl.n, 0);
    spool_claims_free(&cl);
}

static void permanent_failure_and_drain(void **state)
{
    struct fx *x = *state;
    errbuf e;
    char p[4096];
    struct spool_claim c;
    bool to_failed;
    drop(x, "bad.tif");
    drop(x, "drain.tif");
    assert_int_equal(spool_claim(x->a, "bad.tif", &c, &e), SPOOL_WON);
    assert_int_equal(spool_fail(x->a, &c, "not a TIFF\nsecond line", true, 5,
                                S(100), &to_failed, &e), SPOOL_WON);
    assert_true(to_failed);
    char *err = read_all(sp_file(p, x->root, "failed", "bad.tif.err"));
    assert_non_null(strstr(err, "not a TIFF second line (permanent)"));
    free(err);
    /* SIGTERM drain: attempt 1 returned as P@+0, not counted */
    assert_int_equal(spool_claim(x->a, "drain.tif", &c, &e), SPOOL_WON);
    assert_int_equal(spool_release(x->a, &c, false, S(200), "shutdown", &e), SPOOL_WON);
    assert_true(exists(sp_file(p, x->root, "claimed", "drain.tif@+0")));
    struct spool_claim rel, mine;
    assert_int_equal(find_claim(x->b, "drain.tif", &rel), 0);
    assert_int_equal(spool_claim_released(x->b, &rel, 1, S(210), &mine, &e), SPOOL_WON);
    assert_true(exists(sp_file(p, x->root, "claimed", "drain.tif@n2")));
    /* release of a claim that is no longer ours: lost */
    assert_int_equal(spool_release(x->a, &c, true, S(220), "x", &e), SPOOL_LOST);
}

/* ---------------------------------------------------------- publishing */

static void publish_round_trip(const char *pack, void **state)
{
    struct fx *x = *state;
    errbuf e;
    char p[4096];
    struct spool_claim c;
    struct spool_output o;
    claim_with_temps(x, pack, &c, &o);
    /* the publish rename of the .tif loses its reply: still published */
    x->f = (struct fault){ .mode = FAULT_RENAME_DONE_THEN_ERR, .err = EIO,
                           .match = ".tif", .countdown = 1 };
    x->f.match = "/out/";
    x->f.countdown = 2;
    assert_int_equal(spool_publish(x->a, &c, &o, true, S(500), &e), SPOOL_WON);
    assert_true(exists(o.final_tif));
    assert_true(exists(o.final_json));
    assert_false(exists(o.tmp_tif));
    assert_true(exists(sp_file(p, x->root, "done", pack)));
    char cn[SPOOL_CLAIM_NAME_MAX + 1];
    spool_claim_format(&c, cn, sizeof cn);
    assert_false(exists(sp_file(p, x->root, "claimed", cn)));
}

static void odd_names_round_trip(void **state)
{
    const char *names[] = {
        "with space.tif", "a@b+c@+2.tif", "new\nline.tif", "caf\xc3\xa9.tif",
        "raw\xff\xfe\x80.tif", "x@", "tab\there",
    };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        publish_round_trip(names[i], state);
    struct fx *x = *state;
    char p[4096];
    assert_true(exists(sp_file(p, x->root, "out", "a@b+c@+2.tif")));
    assert_true(exists(sp_file(p, x->root, "out", "raw\xff\xfe\x80.tif")));
    assert_true(exists(sp_file(p, x->root, "out", "x@.tif")));
}

static void fencing_discards(void **state)
{
    struct fx *x = *state;
    errbuf e;
    char p[4096];
    struct spool_claim c;
    struct spool_output o;
    claim_with_temps(x, "f.tif", &c, &o);
    assert_int_equal(spool_reap(x->b, &c, S(100), S(1000), &e), SPOOL_WON);
    assert_int_equal(spool_publish(x->a, &c, &o, true, S(1001), &e), SPOOL_FENCED);
    assert_false(exists(o.final_tif));
    assert_false(exists(o.tmp_tif));
    assert_true(exists(sp_file(p, x->root, "claimed", "f.tif@+1")));
    /* second publish of the same name: done/ keeps both sources */
    drop(x, "g.tif");
    publish_round_trip("g.tif", state);
    x->f.mode = FAULT_NONE;
    claim_with_temps(x, "g.tif", &c, &o);
    assert_int_equal(spool_publish(x->a, &c, &o, true, S(1234), &e), SPOOL_WON);
    assert_true(exists(sp_file(p, x->root, "done", "g.tif")));
    assert_true(exists(sp_file(p, x->root, "done", "g.tif.1234.n1")));
}

/* Packs whose outputs map to one name (file a.tif, a.tiff, directory a):
 * the second one is refused (TAKEN) and the first one's result stays; the
 * same pack name published again replaces its own result. */
/* A failed attempt's temporaries that cannot be removed (the mount is
 * down) are reported, so the node cleans them later (daemon_clean_own:
 * tests/chaos found a work directory left until the node restarted). */
static void temps_left_behind_are_reported(void **state)
{
    struct fx *x = *state;
    errbuf e;
    struct spool_claim c;
    struct spool_output o;
    claim_with_temps(x, "t.tif", &c, &o);
    x->f = (struct fault){ .mode = FAULT_ALL_ERR, .err = ENOTCONN };
    assert_int_equal(spool_remove_temps(x->a, &o), -1);
    x->f = (struct fault){ 0 };
    assert_true(exists(o.tmp_tif));
    assert_true(exists(o.tmp_json));
    assert_int_equal(spool_clean_tmp(x->a, &e), 0);    /* the later clean */
    assert_false(exists(o.tmp_tif));
    assert_false(exists(o.tmp_json));
    assert_int_equal(spool_remove_temps(x->a, &o), 0); /* already gone */
}

static void output_name_clash_refused(void **state)
{
    struct fx *x = *state;
    errbuf e;
    char p[4096], q[4096];
    struct spool_claim c;
    struct spool_output o;
    publish_round_trip("k.tif", state);
    x->f.mode = FAULT_NONE;
    const char *others[] = { "k.tiff", "k.TIF", "k" };
    for (size_t i = 0; i < sizeof others / sizeof *others; i++) {
        if (i == 2) {
            assert_int_equal(mkdir(sp_file(p, x->root, "incoming", "k"), 0777), 0);
            snprintf(q, sizeof q, "%s/p1.tif", p);
            assert_int_equal(write_file(q, "data", 4), 0);
        } else {
            drop(x, others[i]);
        }
        assert_int_equal(spool_claim(x->a, others[i], &c, &e), SPOOL_WON);
        assert_int_equal(spool_output_paths(x->a, NULL, &c, &o, &e), 0);
        assert_string_equal(o.final_tif, sp_file(p, x->root, "out", "k.tif"));
        assert_int_equal(write_report(&o), 0);
        assert_int_equal(write_file(o.tmp_tif, "OTHER", 5), 0);
        assert_int_equal(spool_publish(x->a, &c, &o, true, S(600), &e), SPOOL_TAKEN);
        assert_non_null(strstr(e.msg, "k.tif"));
        char *kept = read_all(o.final_tif);
        assert_non_null(kept);
        assert_string_equal(kept, "TIFF");              /* the first result stays */
        free(kept);
        assert_int_equal(spool_claim_path(x->a, &c, p, sizeof p, &e), 0);
        assert_true(exists(p));                          /* source still claimed */
        assert_true(exists(o.tmp_tif));                  /* the caller removes it */
        spool_remove_temps(x->a, &o);
    }
    /* a .tif without its .json (or with a foreign one) is not ours either */
    assert_int_equal(unlink(sp_file(p, x->root, "out", "k.json")), 0);
    drop(x, "k.tif");
    assert_int_equal(spool_claim(x->a, "k.tif", &c, &e), SPOOL_WON);
    assert_int_equal(spool_output_paths(x->a, NULL, &c, &o, &e), 0);
    assert_int_equal(write_report(&o), 0);
    assert_int_equal(write_file(o.tmp_tif, "TIFF2", 5), 0);
    assert_int_equal(spool_publish(x->a, &c, &o, true, S(700), &e), SPOOL_TAKEN);
}

/* Errors of a shared file system in trouble, told by strerror()'s words
 * (they reach the daemon as text), never held against a pack. */
static void mount_errors_named(void **state)
{
    (void)state;
    char msg[256];
    const int mount[] = { EIO, ENOTCONN, ECONNABORTED, ECONNRESET, ESTALE,
                          ETIMEDOUT, EHOSTUNREACH, ENETUNREACH };
    for (size_t i = 0; i < sizeof mount / sizeof mount[0]; i++) {
        snprintf(msg, sizeof msg, "page 2: read /s/claimed/a.tif@n1: %s",
                 strerror(mount[i]));
        assert_true(spool_msg_mount_error(msg));
    }
    const int pack[] = { ENOENT, EINVAL, ENOMEM, ENOSPC, EACCES };
    for (size_t i = 0; i < sizeof pack / sizeof pack[0]; i++) {
        snprintf(msg, sizeof msg, "open /s/claimed/a.tif@n1: %s",
                 strerror(pack[i]));
        assert_false(spool_msg_mount_error(msg));
    }
    assert_false(spool_msg_mount_error("not a TIFF file (bad magic number)"));
    const int full[] = { ENOSPC, EDQUOT };
    assert_true(spool_msg_names("write x: No space left on device", full, 2));
    assert_false(spool_msg_names("write x: No space left on device", full, 0));
}

/* ------------------------------------------------ orphan histories */

/* claimed/.PACK.err with the given mtime (server seconds). */
static void plant_history(struct fx *x, const char *pack, time_t mtime)
{
    char name[256], p[4096];
    snprintf(name, sizeof name, ".%s.err", pack);
    assert_int_equal(write_file(sp_file(p, x->root, "claimed", name),
                                "attempt 1 on n9: x\n", 19), 0);
    assert_int_equal(set_mtime(p, mtime), 0);
}

static bool history_there(struct fx *x, const char *pack)
{
    char name[256], p[4096];
    snprintf(name, sizeof name, ".%s.err", pack);
    return exists(sp_file(p, x->root, "claimed", name));
}

/* A node killed between publishing a pack and unlinking its history left
 * claimed/.P.err behind (tests/chaos: the spool never drained).  Only a
 * history with no claim in two listings, no incoming/P and no change for
 * min_age goes. */
static void orphan_histories_are_swept(void **state)
{
    struct fx *x = *state;
    errbuf e;
    char p[4096];
    struct spool_claim c;
    const spool_ns now = S(10000), lease = S(60);
    plant_history(x, "gone.tif", 10000 - 61);      /* orphan: removed */
    plant_history(x, "young.tif", 10000 - 30);     /* changed recently */
    drop(x, "held.tif");                           /* claim by n1 */
    assert_int_equal(spool_claim(x->a, "held.tif", &c, &e), SPOOL_WON);
    plant_history(x, "held.tif", 1000);
    assert_int_equal(write_file(sp_file(p, x->root, "claimed", "rel.tif@+2"),
                                "d", 1), 0);     /* released claim */
    plant_history(x, "rel.tif", 1000);
    drop(x, "again.tif");                          /* requeued */
    plant_history(x, "again.tif", 1000);
    plant_history(x, "late.tif", 1000);            /* see below */
    assert_int_equal(write_file(sp_file(p, x->root, "claimed", ".n1@x.tmp"),
                                "t", 1), 0);     /* not a history */
    assert_int_equal(set_mtime(p, 1000), 0);
    struct spool_claims cl;
    assert_int_equal(spool_list_claims(x->a, &cl, &e), 0);
    assert_int_equal(cl.n_sidecars, 6);
    /* a claim the first listing missed (renamed while it was read) */
    assert_int_equal(write_file(sp_file(p, x->root, "claimed", "late.tif@n2+2"),
                                "d", 1), 0);
    assert_int_equal(spool_sweep_histories(x->a, &cl, now, lease, &e), 1);
    spool_claims_free(&cl);
    assert_false(history_there(x, "gone.tif"));
    assert_true(history_there(x, "young.tif"));
    assert_true(history_there(x, "held.tif"));
    assert_true(history_there(x, "rel.tif"));
    assert_true(history_there(x, "again.tif"));
    assert_true(history_there(x, "late.tif"));
    assert_true(exists(sp_file(p, x->root, "claimed", ".n1@x.tmp")));
    /* once the young one has aged it goes too; an I/O error is reported */
    assert_int_equal(spool_list_claims(x->a, &cl, &e), 0);
    x->f = (struct fault){ .mode = FAULT_ALL_ERR, .err = EIO };
    assert_int_equal(spool_sweep_histories(x->a, &cl, now + S(31), lease, &e), -1);
    assert_non_null(strstr(e.msg, "Input/output error"));
    x->f = (struct fault){ 0 };
    assert_int_equal(spool_sweep_histories(x->a, &cl, now + S(31), lease, &e), 1);
    spool_claims_free(&cl);
    /* every history has its claim: no second listing (it would fail) */
    assert_int_equal(spool_claim(x->a, "again.tif", &c, &e), SPOOL_WON);
    assert_int_equal(spool_list_claims(x->a, &cl, &e), 0);
    x->f = (struct fault){ .mode = FAULT_ALL_ERR, .err = EIO };
    assert_int_equal(spool_sweep_histories(x->a, &cl, now + S(999), lease, &e), 0);
    x->f = (struct fault){ 0 };
    spool_claims_free(&cl);
    assert_false(history_there(x, "young.tif"));
}

/* libfuse's hidden names (an sshfs killed before the last close of an
 * unlinked file leaves them) go from tmp/ and the output; nothing else. */
/* "root/rel" into buf (PATH_MAX). */
static char *at(char *buf, const char *root, const char *rel)
{
    snprintf(buf, 4096, "%s/%s", root, rel);
    return buf;
}

static void fuse_litter_is_swept(void **state)
{
    struct fx *x = *state;
    errbuf e;
    char p[4096];
    const char *gone[] = { "tmp/.fuse_hidden0000001400000001",
                           "out/.fuse_hidden00000014000000aB" };
    const char *kept[] = { "out/.fuse_hiddenxyz", "out/.fuse_hidden000000140000000",
                           "out/.fuse_hidden00000014000000011", "out/p.tif",
                           "claimed/.fuse_hidden0000001400000002",
                           "out/fuse_hidden0000001400000003" };
    for (size_t i = 0; i < 2; i++)
        assert_int_equal(write_file(at(p, x->root, gone[i]), "x", 1), 0);
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(write_file(at(p, x->root, kept[i]), "x", 1), 0);
    assert_int_equal(mkdir(sp_file(p, x->root, "tmp", ".fuse_hidden0000000000000000"), 0700), 0);
    assert_int_equal(spool_sweep_fuse_litter(x->a, NULL, &e), 2);
    for (size_t i = 0; i < 2; i++)
        assert_false(exists(at(p, x->root, gone[i])));
    for (size_t i = 0; i < 6; i++)
        assert_true(exists(at(p, x->root, kept[i])));
    assert_true(exists(sp_file(p, x->root, "tmp", ".fuse_hidden0000000000000000")));
    assert_int_equal(spool_sweep_fuse_litter(x->a, NULL, &e), 0);
    x->f = (struct fault){ .mode = FAULT_ALL_ERR, .err = ENOTCONN };
    assert_int_equal(spool_sweep_fuse_litter(x->a, NULL, &e), -1);
    x->f = (struct fault){ 0 };
}

static void report_head_escapes(void **state)
{
    (void)state;
    char buf[64];
    int n = json_report_head("a\"b\\c\n\xff", buf, sizeof buf);
    assert_int_equal(n, (int)strlen(buf));
    assert_string_equal(buf, "{\"pack\":\"a\\\"b\\\\c\\u000a\\ufffd\",");
    assert_int_equal(json_report_head("0123456789012345678901234567890123456789"
                                      "0123456789012345678901234567890123456789", buf,
                                      sizeof buf), -1);
}

static void identity_checked(void **state)
{
    struct fx *x = *state;
    errbuf e;
    char p[4096];
    assert_int_equal(spool_check_identity(x->a, &e), 0);
    x->f = (struct fault){ .mode = FAULT_ALL_ERR, .err = ENOTCONN };
    assert_int_equal(spool_check_identity(x->a, &e), -1);
    assert_non_null(strstr(e.msg, "not connected"));
    x->f.mode = FAULT_NONE;
    snprintf(p, sizeof p, "%s/.spool-id", x->root);
    assert_int_equal(unlink(p), 0);
    assert_int_equal(spool_check_identity(x->a, &e), -1);
    const char *other = "spoold-spool 1 00112233445566778899aabbccddeeff 1 h\n";
    assert_int_equal(write_file(p, other, strlen(other)), 0);
    assert_int_equal(spool_check_identity(x->a, &e), -1);
    assert_non_null(strstr(e.msg, "changed"));
    /* init on an existing spool keeps the id; a foreign dir is refused */
    struct spool_init_opts o = {0};
    assert_int_equal(spool_init(x->root, &o, NULL, NULL, &e), 0);
    char *id = read_all(p);
    assert_string_equal(id, other);
    free(id);
    char foreign[4200];
    snprintf(foreign, sizeof foreign, "%s/incoming", x->root);
    drop(x, "z.tif");
    assert_int_equal(spool_init(foreign, &o, NULL, NULL, &e), -1);
    assert_non_null(strstr(e.msg, "not empty"));
    o.force = true;
    assert_int_equal(spool_init(foreign, &o, NULL, NULL, &e), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(claim_names_round_trip),
        cmocka_unit_test(node_and_ignored_names),
        cmocka_unit_test(output_base_names),
        cmocka_unit_test(heartbeat_text_round_trip),
        cmocka_unit_test(rate_over_window),
        cmocka_unit_test_setup_teardown(claim_race_one_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(lost_reply_is_a_win, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_rename_with_source_present_is_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(same_name_twice_does_not_replace, setup, teardown),
        cmocka_unit_test_setup_teardown(lease_in_server_time, setup, teardown),
        cmocka_unit_test_setup_teardown(attempts_survive_reaps_and_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(permanent_failure_and_drain, setup, teardown),
        cmocka_unit_test_setup_teardown(odd_names_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(fencing_discards, setup, teardown),
        cmocka_unit_test_setup_teardown(temps_left_behind_are_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(output_name_clash_refused, setup, teardown),
        cmocka_unit_test(mount_errors_named),
        cmocka_unit_test_setup_teardown(orphan_histories_are_swept, setup, teardown),
        cmocka_unit_test_setup_teardown(fuse_litter_is_swept, setup, teardown),
        cmocka_unit_test(report_head_escapes),
        cmocka_unit_test_setup_teardown(identity_checked, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
