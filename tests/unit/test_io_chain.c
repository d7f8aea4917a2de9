/*
 * test_io_chain.c — the file level: the writer never leaves a temporary or
 * partial file (abort, unwritable target, write errors, no pages), and
 * chain_clean_files keeps page order over several inputs and with page-
 * parallel threads, names the file and page of a failure, leaves no output
 * on failure, and writes one valid JSON line per page (null for NaN and
 * infinities, '.' as the decimal point in every locale).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <locale.h>
#include <math.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "iotest.h"
#include "../lib/jsoncheck.h"

static char dir[4096];

static int setup(void **state)
{
    scratch_dir(dir, sizeof dir);
    return 0;
}

static int teardown(void **state)
{
    scratch_remove(dir);
    return 0;
}

/* A fresh, empty subdirectory for one test. */
static void subdir(char *out, size_t len, const char *name)
{
    scratch_path(out, len, dir, name);
    assert_int_equal(mkdir(out, 0777), 0);
}

/* ------------------------------------------------------------- writer */

static void writer_abort_leaves_nothing(void **state)
{
    char sub[4200], path[4300];
    subdir(sub, sizeof sub, "abort");
    scratch_path(path, sizeof path, sub, "out.tif");
    page pg;
    errbuf e;
    make_pattern(&pg, 100, 50, 1);
    struct page_writer *wr;
    assert_int_equal(page_writer_open(&wr, path, &e), 0);
    assert_int_equal(page_writer_add(wr, &pg, &e), 0);
    assert_int_equal(page_writer_add(wr, &pg, &e), 0);
    assert_int_equal(dir_entries(sub), 1);      /* the temporary file */
    page_writer_abort(wr);
    assert_int_equal(dir_entries(sub), 0);

    /* committing nothing is an error and leaves nothing either */
    assert_int_equal(page_writer_open(&wr, path, &e), 0);
    assert_int_equal(page_writer_commit(wr, &e), -1);
    assert_non_null(strstr(e.msg, "no pages"));
    assert_int_equal(dir_entries(sub), 0);
    page_free(&pg);
    scratch_remove(sub);
}

static void writer_bad_targets(void **state)
{
    char sub[4200], path[4300];
    subdir(sub, sizeof sub, "targets");
    errbuf e;
    struct page_writer *wr;
    scratch_path(path, sizeof path, sub, "no/such/dir/out.tif");
    assert_int_equal(page_writer_open(&wr, path, &e), -1);
    assert_null(wr);
    assert_non_null(strstr(e.msg, "No such file"));
    scratch_path(path, sizeof path, sub, "file");
    assert_int_equal(write_bytes(path, "x", 1), 0);
    scratch_path(path, sizeof path, sub, "file/out.tif");
    assert_int_equal(page_writer_open(&wr, path, &e), -1);
    assert_non_null(strstr(e.msg, "Not a directory"));
    if (geteuid() != 0) {               /* root writes anywhere */
        char ro[4300];
        scratch_path(ro, sizeof ro, sub, "ro");
        assert_int_equal(mkdir(ro, 0555), 0);
        scratch_path(path, sizeof path, ro, "out.tif");
        assert_int_equal(page_writer_open(&wr, path, &e), -1);
        assert_non_null(strstr(e.msg, "Permission denied"));
        assert_int_equal(dir_entries(ro), 0);
    }
    assert_int_equal(dir_entries(sub), geteuid() != 0 ? 2 : 1);
    scratch_remove(sub);
}

/* The file system refuses to grow the file (RLIMIT_FSIZE stands in for a
 * full disk): the error names the cause and the temporary file goes. */
static void writer_write_error(void **state)
{
    char sub[4200], path[4300];
    subdir(sub, sizeof sub, "full");
    scratch_path(path, sizeof path, sub, "out.tif");
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = { 20000, 20000 };
        if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
            _exit(3);
        page pg;
        errbuf e = { "" };
        make_pattern(&pg, 1000, 1000, 2);  /* noise: ~50 KB as G4 */
        struct page_writer *wr;
        if (page_writer_open(&wr, path, &e) < 0)
            _exit(4);
        int rc = 0;
        for (int i = 0; i < 4 && rc == 0; i++)
            rc = page_writer_add(wr, &pg, &e);
        if (rc == 0) {
            rc = page_writer_commit(wr, &e);
            wr = NULL;
        }
        if (rc == 0)
            _exit(5);                       /* should have failed */
        if (wr)
            page_writer_abort(wr);
        if (strstr(e.msg, "File too large") == NULL) {
            fprintf(stderr, "message: %s\n", e.msg);
            _exit(6);
        }
        _exit(dir_entries(sub) == 0 ? 0 : 7);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    scratch_remove(sub);
}

/* ------------------------------------------------------------- chain */

/* chain options with no stages (the filters are tested elsewhere). */
static struct chain_opts io_only(int threads)
{
    struct chain_opts o;
    chain_opts_default(&o);
    o.nstages = 0;
    o.threads = threads;
    return o;
}

struct fixture {
    char sub[4200], a[4300], b[4300], c[4300], out[4300];
    page pages[6];          /* a: 0..2, b: 3, c: 4..5 */
};

/* Three inputs: a 3-page G4 TIFF, a PBM, a 2-page LZW TIFF. */
static void fixture_make(struct fixture *f, const char *name)
{
    subdir(f->sub, sizeof f->sub, name);
    scratch_path(f->a, sizeof f->a, f->sub, "a.tif");
    scratch_path(f->b, sizeof f->b, f->sub, "b.pbm");
    scratch_path(f->c, sizeof f->c, f->sub, "c.tif");
    scratch_path(f->out, sizeof f->out, f->sub, "out.tif");
    for (int i = 0; i < 6; i++)
        make_pattern(&f->pages[i], 120 + 10 * i, 80 - 5 * i, (uint32_t)(50 + i));
    struct tiff_layout g4 = { .compression = COMPRESSION_CCITTFAX4,
                              .photometric = PHOTOMETRIC_MINISWHITE,
                              .xres = 200, .yres = 200 };
    struct tiff_layout lzw = { .compression = COMPRESSION_LZW,
                               .photometric = PHOTOMETRIC_MINISBLACK };
    assert_int_equal(write_tiff(f->a, f->pages, 3, &g4), 0);
    FILE *pbm = fopen(f->b, "wb");
    const page *p = &f->pages[3];
    fprintf(pbm, "P4\n%d %d\n", p->width, p->height);
    for (int y = 0; y < p->height; y++)
        fwrite(page_row(p, y), 1, ((size_t)p->width + 7) / 8, pbm);
    assert_int_equal(fclose(pbm), 0);
    assert_int_equal(write_tiff(f->c, f->pages + 4, 2, &lzw), 0);
}

static void fixture_free(struct fixture *f)
{
    for (int i = 0; i < 6; i++)
        page_free(&f->pages[i]);
    scratch_remove(f->sub);
}

/* The output has exactly the fixture's pages, in order. */
static void check_output(const struct fixture *f)
{
    struct read_opts o = default_read_opts();
    struct page_reader *rd;
    errbuf e;
    assert_int_equal(page_reader_open(&rd, f->out, &o, &e), 0);
    assert_int_equal(page_reader_count(rd), 6);
    for (int i = 0; i < 6; i++) {
        page back;
        assert_int_equal(page_reader_read(rd, i, &back, &e), 0);
        assert_true(pages_equal(&back, &f->pages[i]));
        assert_true(back.xres == (i < 3 ? 200 : 300));
        page_free(&back);
    }
    page_reader_close(rd);
}

/* Every report line is a JSON object and they count pages 0, 1, ... */
static void check_report(const char *text, int pages)
{
    const char *line = text;
    int n = 0;
    while (*line) {
        const char *nl = strchr(line, '\n');
        assert_non_null(nl);
        const char *err;
        if (json_check(line, (size_t)(nl - line), &err) < 0)
            fail_msg("report line %d is not JSON at column %ld: %.*s", n + 1,
                     (long)(err - line) + 1, (int)(nl - line), line);
        char want[32];
        snprintf(want, sizeof want, "{\"page\":%d,", n);
        assert_memory_equal(line, want, strlen(want));
        n++;
        line = nl + 1;
    }
    assert_int_equal(n, pages);
}

static void clean_files_order_and_threads(void **state)
{
    static const int threads[] = { 1, 2, 3, 8 };
    for (size_t t = 0; t < sizeof threads / sizeof *threads; t++) {
        struct fixture f;
        char name[32];
        snprintf(name, sizeof name, "order%d", threads[t]);
        fixture_make(&f, name);
        const char *inputs[] = { f.a, f.b, f.c };
        struct chain_opts o = io_only(threads[t]);
        char *text = NULL;
        size_t len = 0;
        FILE *report = open_memstream(&text, &len);
        errbuf e = { "" };
        if (chain_clean_files(inputs, 3, f.out, &o, report, &e) < 0)
            fail_msg("%d threads: %s", threads[t], e.msg);
        assert_int_equal(fclose(report), 0);
        check_output(&f);
        check_report(text, 6);
        assert_int_equal(dir_entries(f.sub), 4);   /* 3 inputs + output */
        free(text);
        fixture_free(&f);
    }
}

/* A corrupt second page of the last input: the error names it, no output
 * appears and no temporary file stays, whatever the thread count. */
static void clean_files_failure_leaves_nothing(void **state)
{
    static const int threads[] = { 1, 2, 4 };
    for (size_t t = 0; t < sizeof threads / sizeof *threads; t++) {
        struct fixture f;
        char name[32];
        snprintf(name, sizeof name, "fail%d", threads[t]);
        fixture_make(&f, name);
        size_t len;
        unsigned char *b = read_bytes(f.c, &len);
        long at = tiff_entry(b, len, 1, TIFFTAG_STRIPOFFSETS);
        assert_true(at > 0);
        uint32_t past = (uint32_t)len * 2;         /* page 2's strip: outside */
        memcpy(b + at + 8, &past, 4);
        assert_int_equal(write_bytes(f.c, b, len), 0);
        free(b);
        const char *inputs[] = { f.a, f.b, f.c };
        struct chain_opts o = io_only(threads[t]);
        errbuf e = { "" };
        assert_int_equal(chain_clean_files(inputs, 3, f.out, &o, NULL, &e), -1);
        char want[4400];
        snprintf(want, sizeof want, "%s: page 2: strip 0 lies beyond the end", f.c);
        if (strncmp(e.msg, want, strlen(want)) != 0)
            fail_msg("%d threads: '%s'", threads[t], e.msg);
        assert_int_equal(dir_entries(f.sub), 3);   /* the inputs only */
        fixture_free(&f);
    }
}

static void clean_files_bad_inputs(void **state)
{
    struct fixture f;
    fixture_make(&f, "badin");
    char missing[4300];
    scratch_path(missing, sizeof missing, f.sub, "missing.tif");
    const char *inputs[] = { f.a, missing };
    struct chain_opts o = io_only(1);
    errbuf e;
    assert_int_equal(chain_clean_files(inputs, 2, f.out, &o, NULL, &e), -1);
    char want[4400];
    snprintf(want, sizeof want, "%s: cannot open: No such file", missing);
    assert_memory_equal(e.msg, want, strlen(want));
    assert_int_equal(chain_clean_files(inputs, 0, f.out, &o, NULL, &e), -1);
    assert_int_equal(dir_entries(f.sub), 3);

    /* a stage that is not there yet fails the page, with its name */
    chain_opts_default(&o);
    int missing_stage = -1;
    for (int s = 0; s < STAGE_COUNT && missing_stage < 0; s++)
        if (!stage_available((enum stage_id)s))
            missing_stage = s;
    if (missing_stage >= 0) {
        o.nstages = 1;
        o.stages[0] = (enum stage_id)missing_stage;
        assert_int_equal(chain_clean_files(inputs, 1, f.out, &o, NULL, &e), -1);
        assert_non_null(strstr(e.msg, "page 1: filter '"));
        assert_non_null(strstr(e.msg, "is not available"));
        assert_int_equal(dir_entries(f.sub), 3);
    }
    fixture_free(&f);
}

/* A report stream that raises the cancel flag once `after` lines came. */
struct canceller {
    atomic_int *flag;
    int lines, after;
};

static ssize_t cancel_write(void *cookie, const char *buf, size_t len)
{
    struct canceller *c = cookie;
    for (size_t i = 0; i < len; i++)
        if (buf[i] == '\n' && ++c->lines >= c->after)
            atomic_store(c->flag, 15);
    return (ssize_t)len;
}

/* Cancelling stops before the next page and leaves nothing behind, with
 * or without threads, whether set before the start or after a page. */
static void clean_files_cancel(void **state)
{
    static const int threads[] = { 1, 3 };
    for (size_t t = 0; t < 2; t++)
        for (int after = 0; after < 3; after++) {
            struct fixture f;
            char name[32];
            snprintf(name, sizeof name, "cancel%d%d", threads[t], after);
            fixture_make(&f, name);
            const char *inputs[] = { f.a, f.b, f.c };
            atomic_int flag;
            atomic_init(&flag, after == 0 ? 2 : 0);
            struct chain_opts o = io_only(threads[t]);
            o.cancel = &flag;
            struct canceller c = { &flag, 0, after };
            cookie_io_functions_t io = { .write = cancel_write };
            FILE *report = fopencookie(&c, "w", io);
            setvbuf(report, NULL, _IONBF, 0);
            errbuf e = { "" };
            assert_int_equal(chain_clean_files(inputs, 3, f.out, &o, report, &e), -1);
            fclose(report);
            char want[4400];
            snprintf(want, sizeof want, "%s: interrupted", f.out);
            assert_string_equal(e.msg, want);
            assert_true(c.lines <= after + 2 * threads[t]);
            assert_int_equal(dir_entries(f.sub), 3);   /* the inputs only */
            fixture_free(&f);
        }
}

/* ------------------------------------------------------------- report */

static void report_json_edge_values(void **state)
{
    struct page_report r;
    memset(&r, 0, sizeof r);
    r.index = 7;
    r.width = 2480;
    r.height = 3508;
    r.xdpi = 300;
    r.ydpi = 299.5;
    r.skew = NAN;
    r.skew_conf = INFINITY;
    r.orient_conf = -INFINITY;
    r.stage_ms[STAGE_DESKEW] = 1e300;
    r.read_ms = -0.0;
    r.border_px = UINT64_MAX;
    r.crop.w = -1;
    char buf[PAGE_REPORT_JSON_MAX];
    int n = page_report_json(&r, buf, sizeof buf);
    assert_true(n > 0 && (size_t)n == strlen(buf));
    const char *err;
    if (json_check(buf, (size_t)n, &err) < 0)
        fail_msg("not JSON at column %ld: %s", (long)(err - buf) + 1, buf);
    assert_non_null(strstr(buf, "\"skew\":null"));
    assert_non_null(strstr(buf, "\"skew_conf\":null"));
    assert_non_null(strstr(buf, "\"orient_conf\":null"));
    assert_non_null(strstr(buf, "\"dpi\":[300.00,299.50]"));
    assert_non_null(strstr(buf, "\"border_px\":18446744073709551615"));
    assert_null(strstr(buf, "nan"));
    assert_null(strstr(buf, "inf"));
    /* too small a buffer is refused, not truncated into bad JSON */
    assert_int_equal(page_report_json(&r, buf, 40), -1);
    assert_int_equal(page_report_json(&r, buf, 0), -1);

    /* a decimal comma locale, if this system has one */
    static const char *const locales[] = { "de_DE.UTF-8", "fr_FR.UTF-8", "de_DE", NULL };
    for (int i = 0; locales[i]; i++) {
        if (setlocale(LC_NUMERIC, locales[i]) == NULL)
            continue;
        r.skew = 1.25;
        n = page_report_json(&r, buf, sizeof buf);
        setlocale(LC_NUMERIC, "C");
        assert_true(n > 0);
        assert_int_equal(json_check(buf, (size_t)n, NULL), 0);
        assert_non_null(strstr(buf, "\"skew\":1.2500"));
        break;
    }
}

int main(void)
{
    silence_libtiff();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(writer_abort_leaves_nothing),
        cmocka_unit_test(writer_bad_targets),
        cmocka_unit_test(writer_write_error),
        cmocka_unit_test(clean_files_order_and_threads),
        cmocka_unit_test(clean_files_failure_leaves_nothing),
        cmocka_unit_test(clean_files_bad_inputs),
        cmocka_unit_test(clean_files_cancel),
        cmocka_unit_test(report_json_edge_values),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
