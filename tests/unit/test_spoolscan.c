/*
 * test_spoolscan.c — readiness of packs in incoming/: growing and quiet
 * files, settle measured in server time, directory packs whose members
 * change, truncated TIFFs (incomplete while young, broken when old),
 * ignored and unclaimable names, and the structural image check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "spooltest.h"

#define S(x) ((spool_ns)(x) * SPOOL_NS_PER_S)
#define T0 1700000000

/* Builds a little-endian TIFF of `pages` pages, each 8x8 with one strip of
 * 8 bytes; returns its size.  buf must hold 64 + 200 * pages bytes. */
static size_t make_tiff(unsigned char *buf, int pages)
{
    size_t pos = 8;
    memcpy(buf, "II*\0", 4);
    uint32_t first = 8;
    memcpy(buf + 4, &first, 4);
    for (int p = 0; p < pages; p++) {
        size_t ifd = pos;
        uint16_t n = 4;
        memcpy(buf + ifd, &n, 2);
        uint32_t strip = (uint32_t)(ifd + 2 + 4 * 12 + 4);
        struct { uint16_t tag, type; uint32_t count, value; } ents[4] = {
            { 256, 3, 1, 8 }, { 257, 3, 1, 8 }, { 273, 4, 1, strip }, { 279, 4, 1, 8 },
        };
        memcpy(buf + ifd + 2, ents, sizeof ents);
        uint32_t next = p + 1 < pages ? strip + 8 : 0;
        memcpy(buf + ifd + 2 + sizeof ents, &next, 4);
        memset(buf + strip, 0x55, 8);
        pos = strip + 8;
    }
    return pos;
}

struct fx {
    char *root;
    struct spool *sp;
    struct spool_scan *st;
    struct spool_scan_opts o;
};

static int setup(void **state)
{
    struct fx *x = calloc(1, sizeof *x);
    errbuf e;
    x->root = make_spool();
    if (x->root == NULL || spool_open(&x->sp, x->root, "n1", NULL, NULL, &e) < 0)
        return -1;
    x->st = spool_scan_new();
    x->o.settle_s = 10;
    x->o.broken_after_s = 100;
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    struct fx *x = *state;
    spool_scan_free(x->st);
    spool_close(x->sp);
    remove_spool(x->root);
    free(x);
    return 0;
}

/* Scans at server time `now` and returns the state of NAME (-1 absent). */
static int state_of(struct fx *x, spool_ns now, const char *name,
                    const struct spool_pack **out)
{
    errbuf e;
    assert_int_equal(spool_scan_incoming(x->sp, x->st, now, &x->o, &e), 0);
    for (size_t i = 0; i < spool_scan_count(x->st); i++) {
        const struct spool_pack *p = spool_scan_get(x->st, i);
        if (strcmp(p->name, name) == 0) {
            if (out)
                *out = p;
            return (int)p->state;
        }
    }
    return -1;
}

static void put(struct fx *x, const char *name, const void *data, size_t n,
                time_t mtime)
{
    char p[4096];
    assert_int_equal(write_file(sp_file(p, x->root, "incoming", name), data, n), 0);
    assert_int_equal(set_mtime(p, mtime), 0);
}

static void growing_file_is_not_ready(void **state)
{
    struct fx *x = *state;
    unsigned char t[1024];
    size_t n = make_tiff(t, 3);
    put(x, "g.tif", t, n / 2, T0);
    assert_int_equal(state_of(x, S(T0 + 100), "g.tif", NULL), SPOOL_CHANGING);
    put(x, "g.tif", t, n - 5, T0 + 50);          /* still growing */
    assert_int_equal(state_of(x, S(T0 + 100), "g.tif", NULL), SPOOL_CHANGING);
    put(x, "g.tif", t, n, T0 + 90);              /* complete now */
    assert_int_equal(state_of(x, S(T0 + 100), "g.tif", NULL), SPOOL_CHANGING);
    const struct spool_pack *p;
    /* unchanged, quiet 10 s exactly: ready, pages counted */
    assert_int_equal(state_of(x, S(T0 + 100), "g.tif", &p), SPOOL_READY);
    assert_int_equal(p->pages, 3);
    assert_true(p->max_page_pixels == 64);
    assert_true(p->bytes == n);
}

static void quiet_file_ready_after_settle(void **state)
{
    struct fx *x = *state;
    unsigned char t[1024];
    size_t n = make_tiff(t, 1);
    put(x, "q.tif", t, n, T0);
    assert_int_equal(state_of(x, S(T0 + 1), "q.tif", NULL), SPOOL_CHANGING);
    assert_int_equal(state_of(x, S(T0 + 9), "q.tif", NULL), SPOOL_SETTLING);
    assert_int_equal(state_of(x, S(T0 + 10) - 1, "q.tif", NULL), SPOOL_SETTLING);
    assert_int_equal(state_of(x, S(T0 + 10), "q.tif", NULL), SPOOL_READY);
    /* an old file seen for the first time still needs a second look */
    put(x, "old.tif", t, n, T0 - 5000);
    assert_int_equal(state_of(x, S(T0 + 20), "old.tif", NULL), SPOOL_CHANGING);
    assert_int_equal(state_of(x, S(T0 + 20), "old.tif", NULL), SPOOL_READY);
}

static void directory_pack_member_changing(void **state)
{
    struct fx *x = *state;
    char p[4096], m[4200];
    unsigned char t[1024];
    size_t n = make_tiff(t, 1);
    assert_int_equal(mkdir(sp_file(p, x->root, "incoming", "book"), 0777), 0);
    for (int i = 1; i <= 2; i++) {
        snprintf(m, sizeof m, "%s/p%d.tif", p, i);
        assert_int_equal(write_file(m, t, n), 0);
        set_mtime(m, T0);
    }
    set_mtime(p, T0);
    assert_int_equal(state_of(x, S(T0 + 50), "book", NULL), SPOOL_CHANGING);
    const struct spool_pack *pk;
    assert_int_equal(state_of(x, S(T0 + 50), "book", &pk), SPOOL_READY);
    assert_int_equal(pk->pages, 2);
    assert_int_equal(pk->members, 2);
    assert_true(pk->is_dir);
    /* a member rewritten with the same size but a new mtime */
    snprintf(m, sizeof m, "%s/p2.tif", p);
    set_mtime(m, T0 + 1);
    assert_int_equal(state_of(x, S(T0 + 50), "book", NULL), SPOOL_CHANGING);
    assert_int_equal(state_of(x, S(T0 + 50), "book", NULL), SPOOL_READY);
    /* a new member (its mtime old, the directory's mtime restored) */
    snprintf(m, sizeof m, "%s/p3.tif", p);
    assert_int_equal(write_file(m, t, n), 0);
    set_mtime(m, T0);
    set_mtime(p, T0);
    assert_int_equal(state_of(x, S(T0 + 50), "book", NULL), SPOOL_CHANGING);
    assert_int_equal(state_of(x, S(T0 + 50), "book", &pk), SPOOL_READY);
    assert_int_equal(pk->pages, 3);
    /* a member still being written (truncated): incomplete */
    snprintf(m, sizeof m, "%s/p4.tif", p);
    assert_int_equal(write_file(m, t, n - 3), 0);
    set_mtime(m, T0);
    set_mtime(p, T0);
    assert_int_equal(state_of(x, S(T0 + 50), "book", NULL), SPOOL_CHANGING);
    assert_int_equal(state_of(x, S(T0 + 50), "book", &pk), SPOOL_INCOMPLETE);
    assert_non_null(strstr(pk->why, "p4.tif"));
    /* a nested directory: broken (claim and fail permanently) */
    snprintf(m, sizeof m, "%s/sub", p);
    assert_int_equal(mkdir(m, 0777), 0);
    set_mtime(m, T0);
    set_mtime(p, T0);
    assert_int_equal(state_of(x, S(T0 + 50), "book", NULL), SPOOL_CHANGING);
    assert_int_equal(state_of(x, S(T0 + 50), "book", &pk), SPOOL_BROKEN);
    assert_non_null(strstr(pk->why, "nested directory"));
}

static void truncated_tiff_incomplete_then_broken(void **state)
{
    struct fx *x = *state;
    unsigned char t[2048];
    size_t n = make_tiff(t, 5);
    const struct spool_pack *p;
    put(x, "cut.tif", t, n - 4, T0);         /* last strip cut short */
    assert_int_equal(state_of(x, S(T0 + 20), "cut.tif", NULL), SPOOL_CHANGING);
    assert_int_equal(state_of(x, S(T0 + 20), "cut.tif", &p), SPOOL_INCOMPLETE);
    assert_non_null(strstr(p->why, "truncated"));
    assert_non_null(strstr(p->why, "page 5"));
    assert_int_equal(state_of(x, S(T0 + 99), "cut.tif", NULL), SPOOL_INCOMPLETE);
    assert_int_equal(state_of(x, S(T0 + 100), "cut.tif", &p), SPOOL_BROKEN);
    assert_non_null(strstr(p->why, "truncated"));
    /* IFD chain pointing past the end, and a loop */
    unsigned char u[2048];
    size_t m = make_tiff(u, 2);
    put(x, "chain.tif", u, m - 8 - 4 * 12 - 6, T0);
    state_of(x, S(T0 + 20), "chain.tif", NULL);
    assert_int_equal(state_of(x, S(T0 + 20), "chain.tif", &p), SPOOL_INCOMPLETE);
    uint32_t loop = 8;
    memcpy(u + 8 + 2 + 4 * 12, &loop, 4);    /* page 1 -> page 1 */
    put(x, "loop.tif", u, m, T0);
    state_of(x, S(T0 + 20), "loop.tif", NULL);
    assert_int_equal(state_of(x, S(T0 + 20), "loop.tif", &p), SPOOL_INCOMPLETE);
    assert_non_null(strstr(p->why, "loop"));
    put(x, "text.tif", "hello", 5, T0);
    state_of(x, S(T0 + 20), "text.tif", NULL);
    assert_int_equal(state_of(x, S(T0 + 20), "text.tif", &p), SPOOL_INCOMPLETE);
    assert_non_null(strstr(p->why, "not a recognised image"));
}

static void other_formats(void **state)
{
    struct fx *x = *state;
    errbuf e;
    char p[4096];
    int pages;
    uint64_t px;
    const char pbm[] = "P4\n# c\n16 2\n\x01\x02\x03\x04";
    assert_int_equal(write_file(sp_file(p, x->root, "tmp", "a.pbm"), pbm, sizeof pbm - 1), 0);
    assert_int_equal(spool_check_image(x->sp, p, &pages, &px, &e), 0);
    assert_true(pages == 1 && px == 32);
    assert_int_equal(write_file(p, pbm, sizeof pbm - 2), 0);
    assert_int_equal(spool_check_image(x->sp, p, &pages, &px, &e), -1);
    assert_non_null(strstr(e.msg, "truncated"));
    static const unsigned char png[] = {
        0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
        0, 0, 0, 13, 'I', 'H', 'D', 'R', 0, 0, 0, 4, 0, 0, 0, 3, 1, 0, 0, 0, 0,
        0, 0, 0, 0,
        0, 0, 0, 0, 'I', 'E', 'N', 'D', 0, 0, 0, 0,
    };
    assert_int_equal(write_file(sp_file(p, x->root, "tmp", "a.png"), png, sizeof png), 0);
    assert_int_equal(spool_check_image(x->sp, p, &pages, &px, &e), 0);
    assert_true(px == 12);
    assert_int_equal(write_file(p, png, sizeof png - 12), 0);
    assert_int_equal(spool_check_image(x->sp, p, &pages, &px, &e), -1);
    /* big-endian TIFF: swap a little-endian one by hand (1 page) */
    static const unsigned char mm[] = {
        'M', 'M', 0, 42, 0, 0, 0, 8,
        0, 2, 1, 0, 0, 3, 0, 0, 0, 1, 0, 5, 0, 0,
              1, 1, 0, 3, 0, 0, 0, 1, 0, 7, 0, 0,
        0, 0, 0, 0,
    };
    assert_int_equal(write_file(sp_file(p, x->root, "tmp", "mm.tif"), mm, sizeof mm), 0);
    assert_int_equal(spool_check_image(x->sp, p, &pages, &px, &e), -1);
    assert_non_null(strstr(e.msg, "without strips"));
}

static void ignored_and_odd_entries(void **state)
{
    struct fx *x = *state;
    unsigned char t[1024];
    size_t n = make_tiff(t, 1);
    put(x, ".hidden.tif", t, n, T0);
    put(x, "x.tif.part", t, n, T0);
    put(x, "y.tmp", t, n, T0);
    put(x, "sp ace \xff\n.tif", t, n, T0);
    char p[4096];
    assert_int_equal(symlink("/etc/passwd", sp_file(p, x->root, "incoming", "link.tif")), 0);
    assert_int_equal(set_mtime(p, T0), 0);
    char longname[240];
    memset(longname, 'L', 200);
    strcpy(longname + 200, ".tif");
    put(x, longname, t, n, T0);
    errbuf e;
    assert_int_equal(spool_scan_incoming(x->sp, x->st, S(T0 + 50), &x->o, &e), 0);
    assert_int_equal(spool_scan_count(x->st), 3);
    const struct spool_pack *pk;
    assert_int_equal(state_of(x, S(T0 + 50), "sp ace \xff\n.tif", NULL), SPOOL_READY);
    assert_int_equal(state_of(x, S(T0 + 50), "link.tif", &pk), SPOOL_BROKEN);
    assert_non_null(strstr(pk->why, "symlink"));
    assert_int_equal(state_of(x, S(T0 + 50), ".hidden.tif", NULL), -1);
    assert_int_equal(state_of(x, S(T0 + 50), longname, &pk), SPOOL_REJECT);
    /* rejected: straight to failed/ with a reason */
    assert_int_equal(spool_reject(x->sp, longname, pk->why, S(T0 + 50), &e), SPOOL_WON);
    assert_true(exists(sp_file(p, x->root, "failed", longname)));
}

static void node_specific_order(void **state)
{
    struct fx *x = *state;
    errbuf e;
    struct spool *other;
    assert_int_equal(spool_open(&other, x->root, "n2", NULL, NULL, &e), 0);
    for (int i = 0; i < 20; i++) {
        char name[32];
        snprintf(name, sizeof name, "p%02d.tif", i);
        put(x, name, "x", 1, T0);
    }
    struct spool_scan *s2 = spool_scan_new();
    assert_int_equal(spool_scan_incoming(x->sp, x->st, S(T0), &x->o, &e), 0);
    assert_int_equal(spool_scan_incoming(other, s2, S(T0), &x->o, &e), 0);
    assert_int_equal(spool_scan_count(s2), 20);
    int same_first = strcmp(spool_scan_get(x->st, 0)->name, spool_scan_get(s2, 0)->name) == 0;
    int same_pos = 0;
    for (size_t i = 0; i < 20; i++) {
        same_pos += strcmp(spool_scan_get(x->st, i)->name, spool_scan_get(s2, i)->name) == 0;
        if (i > 0)
            assert_true(spool_scan_get(x->st, i - 1)->order <= spool_scan_get(x->st, i)->order);
    }
    assert_true(!same_first || same_pos < 20);
    assert_true(same_pos < 10);
    spool_scan_free(s2);
    spool_close(other);
}

/* Index of NAME in the last scan. */
static size_t index_of(struct fx *x, const char *name)
{
    for (size_t i = 0; i < spool_scan_count(x->st); i++)
        if (strcmp(spool_scan_get(x->st, i)->name, name) == 0)
            return i;
    fail_msg("%s not in the scan", name);
    return 0;
}

/* lazy_parse: a quiet pack is READY with its parse check pending, and
 * spool_scan_parse() makes the check when asked, with the same rules
 * (truncated: INCOMPLETE, then BROKEN after broken_after), caching the
 * result for the next scans. */
static void lazy_parse_when_asked(void **state)
{
    struct fx *x = *state;
    x->o.lazy_parse = true;
    unsigned char t[2048];
    size_t n = make_tiff(t, 4);
    const struct spool_pack *p;
    put(x, "ok.tif", t, n, T0);
    put(x, "cut.tif", t, n - 4, T0);
    state_of(x, S(T0 + 20), "ok.tif", NULL);
    assert_int_equal(state_of(x, S(T0 + 20), "ok.tif", &p), SPOOL_READY);
    assert_true(p->parse_pending);
    assert_int_equal(p->pages, -1);
    assert_int_equal(state_of(x, S(T0 + 20), "cut.tif", &p), SPOOL_READY);
    assert_true(p->parse_pending);
    spool_scan_parse(x->sp, x->st, index_of(x, "ok.tif"), S(T0 + 20), &x->o);
    spool_scan_parse(x->sp, x->st, index_of(x, "cut.tif"), S(T0 + 20), &x->o);
    p = spool_scan_get(x->st, index_of(x, "ok.tif"));
    assert_int_equal(p->state, SPOOL_READY);
    assert_false(p->parse_pending);
    assert_int_equal(p->pages, 4);
    p = spool_scan_get(x->st, index_of(x, "cut.tif"));
    assert_int_equal(p->state, SPOOL_INCOMPLETE);
    assert_non_null(strstr(p->why, "truncated"));
    /* the next scans keep the results without a pending check */
    assert_int_equal(state_of(x, S(T0 + 30), "ok.tif", &p), SPOOL_READY);
    assert_false(p->parse_pending);
    assert_int_equal(p->pages, 4);
    assert_int_equal(state_of(x, S(T0 + 30), "cut.tif", &p), SPOOL_INCOMPLETE);
    assert_int_equal(state_of(x, S(T0 + 100), "cut.tif", &p), SPOOL_BROKEN);
    /* asking again, or for a pack already checked, changes nothing */
    spool_scan_parse(x->sp, x->st, index_of(x, "ok.tif"), S(T0 + 100), &x->o);
    assert_int_equal(spool_scan_get(x->st, index_of(x, "ok.tif"))->state, SPOOL_READY);
    spool_scan_parse(x->sp, x->st, 999, S(T0 + 100), &x->o);
}

/* pread through the seam fails with *ctx while it is non-zero. */
static ssize_t flaky_pread(void *ctx, int fd, void *buf, size_t n, off_t off)
{
    const int *err = ctx;
    if (*err != 0) {
        errno = *err;
        return -1;
    }
    return pread(fd, buf, n, off);
}

/* A mount that fails reads (sshfs EIO while the server restarts, ENOTCONN
 * when it is gone) for longer than broken_after says nothing about the
 * pack: it stays INCOMPLETE with the reason, is read again on every scan,
 * and is READY as soon as reads work.  (A good pack was sent to failed/ by
 * an sshd restart in the fault harness before this.) */
static void read_errors_of_the_mount_never_break_a_pack(void **state)
{
    struct fx *x = *state;
    static const int errs[] = { EIO, ENOTCONN };
    for (size_t k = 0; k < sizeof errs / sizeof errs[0]; k++) {
        struct spool_ops ops = spool_sys_ops;
        ops.pread = flaky_pread;
        int err = errs[k];
        struct spool *sp;
        errbuf e;
        assert_int_equal(spool_open(&sp, x->root, "n1", &ops, &err, &e), 0);
        struct spool *keep = x->sp;
        x->sp = sp;
        unsigned char t[1024];
        size_t n = make_tiff(t, 2);
        const char *name = k == 0 ? "eio.tif" : "gone.tif";
        put(x, name, t, n, T0);
        const struct spool_pack *p;
        state_of(x, S(T0 + 20), name, NULL);
        assert_int_equal(state_of(x, S(T0 + 20), name, &p), SPOOL_INCOMPLETE);
        assert_non_null(strstr(p->why, strerror(errs[k])));
        assert_int_equal(state_of(x, S(T0 + 500), name, &p), SPOOL_INCOMPLETE);
        err = 0;                                /* the mount is back */
        assert_int_equal(state_of(x, S(T0 + 510), name, &p), SPOOL_READY);
        assert_int_equal(p->pages, 2);
        x->sp = keep;
        spool_close(sp);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(growing_file_is_not_ready, setup, teardown),
        cmocka_unit_test_setup_teardown(quiet_file_ready_after_settle, setup, teardown),
        cmocka_unit_test_setup_teardown(directory_pack_member_changing, setup, teardown),
        cmocka_unit_test_setup_teardown(truncated_tiff_incomplete_then_broken, setup, teardown),
        cmocka_unit_test_setup_teardown(other_formats, setup, teardown),
        cmocka_unit_test_setup_teardown(ignored_and_odd_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(node_specific_order, setup, teardown),
        cmocka_unit_test_setup_teardown(lazy_parse_when_asked, setup, teardown),
        cmocka_unit_test_setup_teardown(read_errors_of_the_mount_never_break_a_pack, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
