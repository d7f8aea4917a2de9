/*
 * test_config.c — the spoold configuration parser: every key, units,
 * "FILE:LINE: message" errors for unknown keys, wrong types and bad values,
 * pipeline steps, command-line overrides and the cross-key checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"

/* Parses text over the defaults; returns the rc and leaves the message. */
static int parse(struct spoold_conf *c, const char *text, errbuf *e)
{
    conf_defaults(c);
    e->msg[0] = '\0';
    return conf_load_string(c, text, "t.conf", e);
}

/* Asserts that text fails with a message starting with `prefix` and
 * containing `part`. */
static void expect_error(const char *text, const char *prefix, const char *part)
{
    struct spoold_conf c;
    errbuf e;
    int rc = parse(&c, text, &e);
    if (rc != -1 || strncmp(e.msg, prefix, strlen(prefix)) != 0 ||
        strstr(e.msg, part) == NULL)
        fail_msg("config <<%s>>: rc %d, message '%s', wanted '%s...%s'",
                 text, rc, e.msg, prefix, part);
    conf_free(&c);
}

static void defaults_are_the_documented_ones(void **state)
{
    struct spoold_conf c;
    errbuf e;
    conf_defaults(&c);
    assert_int_equal(conf_set(&c, "spool", "/srv/spool", &e), 0);
    assert_int_equal(conf_finish(&c, &e), 0);
    assert_string_equal(c.output, "/srv/spool/out");
    assert_non_null(c.node);
    assert_int_equal(conf_check_node(c.node, &e), 0);
    assert_true(c.workers >= 1);
    assert_true(c.poll_interval == 5 && c.settle == 10);
    assert_true(c.heartbeat == 10 && c.lease == 60 && c.grace == 30);
    assert_int_equal(c.max_attempts, 3);
    assert_true(c.keep_done);
    assert_true(c.memory_limit == 2ull << 30);
    assert_true(c.pack_timeout == 1800 && c.cpu_limit == 0);
    assert_int_equal(c.umask, 022);
    /* the default pipeline is the default chain */
    struct chain_opts d;
    chain_opts_default(&d);
    assert_int_equal(c.nsteps, 1);
    assert_int_equal(c.steps[0].kind, STEP_FILTERS);
    assert_int_equal(c.steps[0].chain.nstages, d.nstages);
    assert_memory_equal(c.steps[0].chain.stages, d.stages, sizeof d.stages);
    assert_true(c.steps[0].chain.deskew.max_skew == d.deskew.max_skew);
    conf_free(&c);
}

static void every_top_level_key(void **state)
{
    struct spoold_conf c;
    errbuf e;
    const char *text =
        "spool = \"/s\";\n"
        "output = \"/o\";\n"
        "node = \"n-1.a_b\";\n"
        "workers = 3;\n"
        "poll_interval = \"500ms\";\n"
        "settle = 2.5;\n"
        "heartbeat = 1;\n"
        "lease = \"1m\";\n"
        "grace = \"2m\";\n"
        "broken_after = \"10m\";\n"
        "max_attempts = 5;\n"
        "keep_done = false;\n"
        "memory_limit = \"512M\";\n"
        "cpu_limit = \"1h\";\n"
        "pack_timeout = 90;\n"
        "min_free_memory = \"1G\";\n"
        "min_free_disk = 1048576;\n"
        "umask = \"027\";\n"
        "metrics_file = \"/var/lib/m/spoold.prom\";\n"
        "default_dpi = 200.0;\n"
        "max_pixels = 1000000;\n"
        "binarize = \"sauvola\";\n"
        "filter_threads = 2;\n"
        "claim_order = \"hashed\";\n";
    assert_int_equal(parse(&c, text, &e), 0);
    assert_int_equal(conf_finish(&c, &e), 0);
    assert_string_equal(c.spool, "/s");
    assert_string_equal(c.output, "/o");
    assert_string_equal(c.node, "n-1.a_b");
    assert_int_equal(c.workers, 3);
    assert_true(c.poll_interval == 0.5 && c.settle == 2.5);
    assert_true(c.heartbeat == 1 && c.lease == 60 && c.grace == 120);
    assert_true(c.broken_after == 600);
    assert_int_equal(c.max_attempts, 5);
    assert_false(c.keep_done);
    assert_true(c.memory_limit == 512ull << 20);
    assert_true(c.cpu_limit == 3600 && c.pack_timeout == 90);
    assert_true(c.min_free_memory == 1ull << 30);
    assert_true(c.min_free_disk == 1048576);
    assert_int_equal(c.umask, 027);
    assert_string_equal(c.metrics_file, "/var/lib/m/spoold.prom");
    assert_true(c.read.default_dpi == 200.0);
    assert_true(c.read.max_pixels == 1000000);
    assert_int_equal(c.read.binarize, BINARIZE_SAUVOLA);
    assert_int_equal(c.filter_threads, 2);
    assert_int_equal(c.claim_order, CLAIM_HASHED);
    /* read options reach the filter steps */
    assert_true(c.steps[0].chain.read.default_dpi == 200.0);
    assert_int_equal(c.steps[0].chain.threads, 2);
    conf_free(&c);
}

static void sizes_and_durations(void **state)
{
    errbuf e;
    uint64_t b;
    assert_int_equal(conf_parse_size("4096", &b, &e), 0);
    assert_true(b == 4096);
    assert_int_equal(conf_parse_size("64K", &b, &e), 0);
    assert_true(b == 65536);
    assert_int_equal(conf_parse_size("2G", &b, &e), 0);
    assert_true(b == 2ull << 30);
    assert_int_equal(conf_parse_size("1.5GiB", &b, &e), 0);
    assert_true(b == 3ull << 29);
    assert_int_equal(conf_parse_size("3 TB", &b, &e), 0);
    assert_true(b == 3ull << 40);
    assert_int_equal(conf_parse_size("2X", &b, &e), -1);
    assert_non_null(strstr(e.msg, "unknown unit"));
    assert_int_equal(conf_parse_size("", &b, &e), -1);
    assert_int_equal(conf_parse_size("-1G", &b, &e), -1);
    assert_int_equal(conf_parse_size("1GG", &b, &e), -1);
    assert_int_equal(conf_parse_size("99999999P", &b, &e), -1);

    double s;
    assert_int_equal(conf_parse_duration("30", &s, &e), 0);
    assert_true(s == 30);
    assert_int_equal(conf_parse_duration("250ms", &s, &e), 0);
    assert_true(s == 0.25);
    assert_int_equal(conf_parse_duration("1.5 m", &s, &e), 0);
    assert_true(s == 90);
    assert_int_equal(conf_parse_duration("2h", &s, &e), 0);
    assert_true(s == 7200);
    assert_int_equal(conf_parse_duration("1d", &s, &e), 0);
    assert_true(s == 86400);
    assert_int_equal(conf_parse_duration("5 fortnights", &s, &e), -1);
    assert_int_equal(conf_parse_duration("-1", &s, &e), -1);
    assert_int_equal(conf_parse_duration("s", &s, &e), -1);
    assert_int_equal(conf_parse_duration("1s2", &s, &e), -1);

    char buf[32];
    assert_string_equal(conf_format_size(512, buf, sizeof buf), "512");
    assert_string_equal(conf_format_size(2ull << 30, buf, sizeof buf), "2G");
    assert_string_equal(conf_format_size(3ull << 29, buf, sizeof buf), "1.5G");
}

static void errors_name_file_and_line(void **state)
{
    expect_error("workers = 2;\n\nbogus = 1;\n", "t.conf:3: ", "unknown setting 'bogus'");
    expect_error("workers = \"two\";\n", "t.conf:1: ", "workers must be an integer");
    expect_error("workers = 2.5;\n", "t.conf:1: ", "workers must be an integer");
    expect_error("\nworkers = 0;\n", "t.conf:2: ", "between 1 and 256");
    expect_error("keep_done = 1;\n", "t.conf:1: ", "keep_done must be true or false");
    expect_error("spool = 5;\n", "t.conf:1: ", "spool must be a string");
    expect_error("spool = \"\";\n", "t.conf:1: ", "spool must not be empty");
    expect_error("node = \"a@b\";\n", "t.conf:1: ", "may hold only");
    expect_error("node = \"a+b\";\n", "t.conf:1: ", "may hold only");
    expect_error("node = \".hidden\";\n", "t.conf:1: ", "must not start with '.'");
    expect_error("node = \"n\xc3\xa9\";\n", "t.conf:1: ", "may hold only");
    expect_error("settle = \"ten\";\n", "t.conf:1: ", "settle");
    expect_error("settle = -1;\n", "t.conf:1: ", "between 0");
    expect_error("lease = true;\n", "t.conf:1: ", "lease must be a duration");
    expect_error("memory_limit = \"2Q\";\n", "t.conf:1: ", "unknown unit");
    expect_error("memory_limit = -5;\n", "t.conf:1: ", "must not be negative");
    expect_error("memory_limit = \"1M\";\n", "t.conf:1: ", "at least 16M");
    expect_error("min_free_disk = [1];\n", "t.conf:1: ", "must be a size");
    expect_error("umask = 18;\n", "t.conf:1: ", "umask must be");
    expect_error("umask = \"089\";\n", "t.conf:1: ", "octal");
    expect_error("binarize = \"magic\";\n", "t.conf:1: ", "otsu");
    expect_error("claim_order = \"fifo\";\n", "t.conf:1: ", "largest");
    expect_error("max_pixels = 0;\n", "t.conf:1: ", "max_pixels");
    /* libconfig's own syntax errors carry the line too */
    expect_error("workers = 2;\nsettle = = 3;\n", "t.conf:2: ", "syntax error");
    expect_error("workers = 2;\nworkers = 3;\n", "t.conf:2: ", "duplicate");
}

static void integers_beyond_32_bits_are_refused(void **state)
{
    /* libconfig 1.5 would read 5000000000 as 705032704 */
    expect_error("min_free_disk = 5000000000;\n", "t.conf:1: ", "out of range");
    expect_error("min_free_disk = 3000000000;\n", "t.conf:1: ", "out of range");
    struct spoold_conf c;
    errbuf e;
    assert_int_equal(parse(&c, "min_free_disk = 5000000000L;\n", &e), 0);
    assert_true(c.min_free_disk == 5000000000ull);
    conf_free(&c);
    assert_int_equal(parse(&c, "min_free_disk = 0x7fffffff; # 2G\n", &e), 0);
    assert_true(c.min_free_disk == 0x7fffffffull);
    conf_free(&c);
    assert_int_equal(parse(&c, "workers = 017;\n", &e), 0);
    assert_int_equal(c.workers, 17);
    conf_free(&c);
}

static void lease_must_exceed_heartbeat(void **state)
{
    struct spoold_conf c;
    errbuf e;
    assert_int_equal(parse(&c, "spool = \"/s\";\nheartbeat = 5;\nlease = 10;\n", &e), 0);
    assert_int_equal(conf_finish(&c, &e), -1);
    assert_non_null(strstr(e.msg, "lease (10s) must be at least 3 x heartbeat"));
    conf_free(&c);
    /* a file read from disk names its line */
    char path[] = "/tmp/test_config.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "spool = \"/s\";\nheartbeat = 1;\nlease = 2;\n";
    assert_int_equal(write(fd, text, strlen(text)), (int)strlen(text));
    close(fd);
    conf_defaults(&c);
    assert_int_equal(conf_load_file(&c, path, &e), 0);
    assert_int_equal(conf_finish(&c, &e), -1);
    char want[300];
    snprintf(want, sizeof want, "%s:3: lease", path);
    assert_non_null(strstr(e.msg, want));
    /* an override can fix it */
    assert_int_equal(conf_set(&c, "lease", "4", &e), 0);
    assert_int_equal(conf_finish(&c, &e), 0);
    conf_free(&c);
    unlink(path);
    /* spool is required */
    conf_defaults(&c);
    assert_int_equal(conf_finish(&c, &e), -1);
    assert_non_null(strstr(e.msg, "spool is not set"));
    conf_free(&c);
}

static void missing_file_says_why(void **state)
{
    struct spoold_conf c;
    errbuf e;
    conf_defaults(&c);
    assert_int_equal(conf_load_file(&c, "/nonexistent/spoold.conf", &e), -1);
    assert_string_equal(e.msg, "/nonexistent/spoold.conf: No such file or directory");
    conf_free(&c);
}

static void overrides_use_the_same_rules(void **state)
{
    struct spoold_conf c;
    errbuf e;
    assert_int_equal(parse(&c, "workers = 2;\nmemory_limit = \"1G\";\n", &e), 0);
    assert_int_equal(conf_set(&c, "workers", "7", &e), 0);
    assert_int_equal(c.workers, 7);
    assert_int_equal(conf_set(&c, "memory_limit", "3G", &e), 0);
    assert_true(c.memory_limit == 3ull << 30);
    assert_int_equal(conf_set(&c, "keep_done", "no", &e), 0);
    assert_false(c.keep_done);
    assert_int_equal(conf_set(&c, "settle", "0.2", &e), 0);
    assert_true(c.settle == 0.2);
    assert_int_equal(conf_set(&c, "workers", "x", &e), -1);
    assert_string_equal(e.msg, "workers must be an integer");
    assert_int_equal(conf_set(&c, "workers", "9999", &e), -1);
    assert_int_equal(conf_set(&c, "node", "a@b", &e), -1);
    assert_int_equal(conf_set(&c, "nope", "1", &e), -1);
    assert_string_equal(e.msg, "unknown setting 'nope'");
    assert_int_equal(conf_set(&c, "pipeline", "()", &e), -1);
    assert_int_equal(c.workers, 7);
    conf_free(&c);
}

static void pipeline_filters_and_parameters(void **state)
{
    struct spoold_conf c;
    errbuf e;
    const char *text =
        "spool = \"/s\";\n"
        "pipeline = (\n"
        "  { filter = \"border\"; max_depth = 0.3; },\n"
        "  { filter = \"deskew\"; max_skew = 5; min_conf = 2.0; min_angle = 0.1; },\n"
        "  { filter = \"despeckle\"; max_speck = 7; max_hole = 2; },\n"
        "  { filter = \"orient\"; min_conf = 3.5; },\n"
        "  { filter = \"crop\"; mode = \"a4\"; margin_mm = 2; }\n"
        ");\n";
    assert_int_equal(parse(&c, text, &e), 0);
    assert_int_equal(conf_finish(&c, &e), 0);
    assert_int_equal(c.nsteps, 1);
    const struct chain_opts *o = &c.steps[0].chain;
    assert_int_equal(o->nstages, 5);
    assert_int_equal(o->stages[0], STAGE_BORDER);
    assert_int_equal(o->stages[1], STAGE_DESKEW);
    assert_int_equal(o->stages[2], STAGE_DESPECKLE);
    assert_int_equal(o->stages[3], STAGE_ORIENT);
    assert_int_equal(o->stages[4], STAGE_CROP);
    assert_true(o->border.max_depth == 0.3);
    assert_true(o->deskew.max_skew == 5 && o->deskew.min_conf == 2.0);
    assert_true(o->deskew.min_angle == 0.1);
    assert_int_equal(o->despeckle.max_speck, 7);
    assert_int_equal(o->despeckle.max_hole, 2);
    assert_true(o->orient.min_conf == 3.5);
    assert_int_equal(o->crop.mode, CROP_A4);
    assert_true(o->crop.margin_mm == 2);
    char buf[200];
    assert_string_equal(conf_pipeline_describe(&c, buf, sizeof buf),
                        "border,deskew,despeckle,orient,crop");
    conf_free(&c);
}

static void pipeline_exec_steps_split_filter_runs(void **state)
{
    struct spoold_conf c;
    errbuf e;
    const char *text =
        "pipeline = (\n"
        "  { filter = \"deskew\"; },\n"
        "  { exec = [\"/bin/ocr\", \"--in={in}\", \"{out}\"]; timeout = \"2m\"; },\n"
        "  { filter = \"deskew\"; max_skew = 3.0; },\n"
        "  { exec = (\"true\"); }\n"
        ");\n";
    assert_int_equal(parse(&c, text, &e), 0);
    assert_int_equal(c.nsteps, 4);
    assert_int_equal(c.steps[0].kind, STEP_FILTERS);
    assert_int_equal(c.steps[0].line, 2);
    assert_int_equal(c.steps[1].kind, STEP_EXEC);
    assert_int_equal(c.steps[1].argc, 3);
    assert_string_equal(c.steps[1].argv[1], "--in={in}");
    assert_null(c.steps[1].argv[3]);
    assert_true(c.steps[1].timeout == 120);
    assert_true(c.steps[2].chain.deskew.max_skew == 3.0);
    assert_true(c.steps[0].chain.deskew.max_skew == 15.0);
    assert_int_equal(c.steps[3].argc, 1);
    assert_true(c.steps[3].timeout == 0);
    char buf[200];
    assert_string_equal(conf_pipeline_describe(&c, buf, sizeof buf),
                        "deskew | exec /bin/ocr | deskew | exec true");
    conf_free(&c);
}

static void filter_none_is_a_plain_pass(void **state)
{
    struct spoold_conf c;
    errbuf e;
    assert_int_equal(parse(&c, "pipeline = ( { exec = [\"a\", \"{in}\", \"{out}\"]; },\n"
                           "{ filter = \"none\"; } );\n", &e), 0);
    assert_int_equal(c.nsteps, 2);
    assert_int_equal(c.steps[1].kind, STEP_FILTERS);
    assert_int_equal(c.steps[1].chain.nstages, 0);
    conf_free(&c);
    assert_int_equal(parse(&c, "pipeline = ( { filter = \"none\"; },\n"
                           "{ filter = \"crop\"; } );\n", &e), 0);
    assert_int_equal(c.nsteps, 1);
    assert_int_equal(c.steps[0].chain.nstages, 1);
    conf_free(&c);
    expect_error("pipeline = ( { filter = \"none\";\n max_skew = 1.0; } );\n",
                 "t.conf:2: ", "no parameters");
}

static void empty_pipeline_is_plain_g4(void **state)
{
    struct spoold_conf c;
    errbuf e;
    assert_int_equal(parse(&c, "pipeline = ();\n", &e), 0);
    assert_int_equal(c.nsteps, 1);
    assert_int_equal(c.steps[0].kind, STEP_FILTERS);
    assert_int_equal(c.steps[0].chain.nstages, 0);
    char buf[64];
    assert_string_equal(conf_pipeline_describe(&c, buf, sizeof buf), "g4");
    conf_free(&c);
}

static void pipeline_errors(void **state)
{
    expect_error("pipeline = 5;\n", "t.conf:1: ", "pipeline must be a list");
    expect_error("pipeline = ( 5 );\n", "t.conf:1: ", "must be a group");
    expect_error("pipeline = (\n {}\n);\n", "t.conf:2: ", "needs filter");
    expect_error("pipeline = (\n { filter = \"blur\"; }\n);\n", "t.conf:2: ",
                 "unknown filter 'blur'");
    expect_error("pipeline = (\n { filter = 3; }\n);\n", "t.conf:2: ",
                 "filter must be a string");
    expect_error("pipeline = (\n { filter = \"deskew\";\n   max_depth = 0.1; }\n);\n",
                 "t.conf:3: ", "unknown parameter 'max_depth' of filter 'deskew'");
    expect_error("pipeline = ( { filter = \"deskew\"; max_skew = \"x\"; } );\n",
                 "t.conf:1: ", "max_skew must be a number");
    expect_error("pipeline = ( { filter = \"deskew\"; max_skew = 90.0; } );\n",
                 "t.conf:1: ", "between 0 and 45");
    expect_error("pipeline = ( { filter = \"despeckle\"; max_speck = 2.5; } );\n",
                 "t.conf:1: ", "max_speck must be an integer");
    expect_error("pipeline = ( { filter = \"crop\"; mode = \"a5\"; } );\n",
                 "t.conf:1: ", "mode must be one of");
    expect_error("pipeline = (\n { filter = \"deskew\"; },\n"
                 " { filter = \"deskew\"; }\n);\n", "t.conf:3: ", "appears twice");
    expect_error("pipeline = ( { filter = \"deskew\"; exec = [\"x\"]; } );\n",
                 "t.conf:1: ", "not both");
    expect_error("pipeline = ( { exec = []; } );\n", "t.conf:1: ", "non-empty list");
    expect_error("pipeline = ( { exec = \"prog {in}\"; } );\n", "t.conf:1: ",
                 "non-empty list");
    expect_error("pipeline = ( { exec = [\"\"]; } );\n", "t.conf:1: ",
                 "must not be empty");
    expect_error("pipeline = ( { exec = (\"a\", 1); } );\n", "t.conf:1: ",
                 "argument 2 must be a string");
    expect_error("pipeline = ( { exec = [\"a\"];\n timeout = \"soon\"; } );\n",
                 "t.conf:2: ", "timeout");
    expect_error("pipeline = (\n { exec = [\"check\", \"{in}\"]; }\n);\n",
                 "t.conf:1: ", "writes no file");
    expect_error("pipeline = ( { exec = [\"a\"];\n shell = true; } );\n",
                 "t.conf:2: ", "unknown setting 'shell' in an exec step");
}

static void failed_pipeline_keeps_the_old_one(void **state)
{
    struct spoold_conf c;
    errbuf e;
    assert_int_equal(parse(&c, "pipeline = ( { filter = \"crop\"; }, "
                           "{ filter = \"nope\"; } );\n", &e), -1);
    assert_int_equal(c.nsteps, 1);
    assert_int_equal(c.steps[0].chain.nstages, STAGE_COUNT);
    conf_free(&c);
}

static void node_names(void **state)
{
    errbuf e;
    assert_int_equal(conf_check_node("scan-01.lab_a", &e), 0);
    assert_int_equal(conf_check_node("", &e), -1);
    assert_int_equal(conf_check_node("a b", &e), -1);
    assert_int_equal(conf_check_node("a/b", &e), -1);
    assert_int_equal(conf_check_node("a@b", &e), -1);
    assert_int_equal(conf_check_node("a+1", &e), -1);
    assert_int_equal(conf_check_node("..", &e), -1);
    char longname[80];
    memset(longname, 'x', sizeof longname);
    longname[65] = '\0';
    assert_int_equal(conf_check_node(longname, &e), -1);
    longname[64] = '\0';
    assert_int_equal(conf_check_node(longname, &e), 0);
}

static void move_and_free(void **state)
{
    struct spoold_conf a, b;
    errbuf e;
    assert_int_equal(parse(&a, "spool = \"/a\";\n", &e), 0);
    assert_int_equal(parse(&b, "spool = \"/b\";\npipeline = ();\n", &e), 0);
    conf_move(&a, &b);
    assert_string_equal(a.spool, "/b");
    assert_int_equal(a.steps[0].chain.nstages, 0);
    assert_null(b.spool);
    conf_free(&a);
    conf_free(&b);
}

static void shipped_example_parses(void **state)
{
    /* the example configuration in conf/ must parse and pass the checks */
    const char *top = getenv("SPOOLD_TOP");
    char path[4096];
    snprintf(path, sizeof path, "%s/conf/spoold.conf", top ? top : ".");
    if (access(path, R_OK) != 0)
        snprintf(path, sizeof path, "conf/spoold.conf");
    struct spoold_conf c;
    errbuf e;
    conf_defaults(&c);
    if (conf_load_file(&c, path, &e) < 0 || conf_finish(&c, &e) < 0)
        fail_msg("%s", e.msg);
    assert_non_null(c.spool);
    conf_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_are_the_documented_ones),
        cmocka_unit_test(every_top_level_key),
        cmocka_unit_test(sizes_and_durations),
        cmocka_unit_test(errors_name_file_and_line),
        cmocka_unit_test(integers_beyond_32_bits_are_refused),
        cmocka_unit_test(lease_must_exceed_heartbeat),
        cmocka_unit_test(missing_file_says_why),
        cmocka_unit_test(overrides_use_the_same_rules),
        cmocka_unit_test(pipeline_filters_and_parameters),
        cmocka_unit_test(pipeline_exec_steps_split_filter_runs),
        cmocka_unit_test(empty_pipeline_is_plain_g4),
        cmocka_unit_test(filter_none_is_a_plain_pass),
        cmocka_unit_test(pipeline_errors),
        cmocka_unit_test(failed_pipeline_keeps_the_old_one),
        cmocka_unit_test(node_names),
        cmocka_unit_test(move_and_free),
        cmocka_unit_test(shipped_example_parses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
