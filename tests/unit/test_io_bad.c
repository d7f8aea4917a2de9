/*
 * test_io_bad.c — every kind of bad input gives an error with a sensible
 * message: missing, empty, non-image and directory paths; truncated files,
 * corrupt G4 data, zero and absurd sizes (refused before any allocation of
 * their size), unsupported depths and sample counts, unknown compression,
 * IFD loops, strip offsets outside the file, absurd tiles; the same for
 * PNM and PNG.  No case may print anything (libtiff and libpng messages are
 * captured) or leave a page allocated.  The SAN=1 run checks memory safety.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <png.h>

#include "iotest.h"

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

/* Opens path and reads every page with stderr redirected to a file;
 * returns 0 if all went well, -1 with the first error in *e.  Fails the
 * test if anything was printed or a failed read left a page behind. */
static int quiet_read_all(const char *path, const struct read_opts *o, errbuf *e)
{
    char cap[4200];
    scratch_path(cap, sizeof cap, dir, "stderr.txt");
    fflush(stderr);
    int saved = dup(2), fd = open(cap, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    close(fd);
    e->msg[0] = '\0';
    struct page_reader *rd = NULL;
    int rc = page_reader_open(&rd, path, o, e);
    if (rc < 0 && rd != NULL)
        rc = -2;
    page pg = { 0 };
    for (int i = 0; rc == 0 && i < page_reader_count(rd); i++) {
        rc = page_reader_read(rd, i, &pg, e);
        if (rc < 0 && pg.bits != NULL)
            rc = -2;
        page_free(&pg);
    }
    page_reader_close(rd);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    struct stat st;
    assert_int_equal(stat(cap, &st), 0);
    if (st.st_size != 0) {
        size_t n;
        char *text = (char *)read_bytes(cap, &n);
        fail_msg("%s: something was printed: %.*s", path, (int)n, text);
    }
    unlink(cap);
    assert_int_not_equal(rc, -2);
    return rc;
}

/* Expects failure with `want` in the message. */
static void expect_error(const char *path, const struct read_opts *o,
                         const char *want)
{
    errbuf e;
    if (quiet_read_all(path, o, &e) == 0)
        fail_msg("%s: read without error (expected '%s')", path, want);
    if (strstr(e.msg, want) == NULL)
        fail_msg("%s: message '%s' lacks '%s'", path, e.msg, want);
    if (e.msg[0] == '\0')
        fail_msg("%s: empty error message", path);
    if (getenv("IOTEST_VERBOSE"))       /* to review the wording */
        printf("    %s\n", e.msg);
}

static void expect_error_default(const char *path, const char *want)
{
    struct read_opts o = default_read_opts();
    expect_error(path, &o, want);
}

/* A valid single-strip TIFF of a test pattern; returns its bytes. */
static unsigned char *good_tiff(const char *path, uint16_t compression,
                                size_t *len)
{
    page pg;
    make_pattern(&pg, 600, 400, 5);
    struct tiff_layout l = { .compression = compression,
                             .photometric = PHOTOMETRIC_MINISWHITE };
    assert_int_equal(write_tiff(path, &pg, 1, &l), 0);
    page_free(&pg);
    unsigned char *b = read_bytes(path, len);
    assert_non_null(b);
    return b;
}

static void write_patched(const char *path, const unsigned char *b, size_t len,
                          uint16_t tag, uint32_t value)
{
    unsigned char *c = malloc(len);
    memcpy(c, b, len);
    assert_int_equal(tiff_patch_tag(c, len, tag, value), 0);
    assert_int_equal(write_bytes(path, c, len), 0);
    free(c);
}

/* ------------------------------------------------------------- any file */

static void not_images(void **state)
{
    char path[4200];
    scratch_path(path, sizeof path, dir, "missing.tif");
    expect_error_default(path, "No such file");
    expect_error_default(dir, "is a directory");
    scratch_path(path, sizeof path, dir, "empty.tif");
    assert_int_equal(write_bytes(path, "", 0), 0);
    expect_error_default(path, "empty file");
    scratch_path(path, sizeof path, dir, "text.tif");
    assert_int_equal(write_bytes(path, "hello, world\n", 13), 0);
    expect_error_default(path, "not an image file");
    assert_int_equal(write_bytes(path, "P7\nWIDTH 1\n", 11), 0);
    expect_error_default(path, "not an image file");
    assert_int_equal(write_bytes(path, "II", 2), 0);
    expect_error_default(path, "not an image file");
    scratch_path(path, sizeof path, dir, "fifo.tif");   /* must not hang */
    assert_int_equal(mkfifo(path, 0600), 0);
    expect_error_default(path, "not a regular file");
    unlink(path);
    expect_error_default("/dev/zero", "not a regular file");
}

/* ------------------------------------------------------------- TIFF */

static void tiff_truncated(void **state)
{
    char path[4200], bad[4200];
    scratch_path(path, sizeof path, dir, "good.tif");
    scratch_path(bad, sizeof bad, dir, "bad.tif");
    size_t len = 0;
    unsigned char *b = good_tiff(path, COMPRESSION_CCITTFAX4, &len);
    /* header only: the first directory is past the end */
    assert_int_equal(write_bytes(bad, b, 8), 0);
    expect_error_default(bad, "");
    /* cut in the middle: libtiff wrote the directory last, so it is gone */
    assert_int_equal(write_bytes(bad, b, len / 2), 0);
    expect_error_default(bad, "");
    /* the directory kept, the strip cut: it would run past the end */
    long at = tiff_entry(b, len, 0, TIFFTAG_STRIPBYTECOUNTS);
    assert_true(at > 0);
    write_patched(bad, b, len, TIFFTAG_STRIPBYTECOUNTS, (uint32_t)len * 4);
    expect_error_default(bad, "beyond the end of the file");
    write_patched(bad, b, len, TIFFTAG_STRIPBYTECOUNTS, 0x7fffffff);
    expect_error_default(bad, "beyond the end of the file");
    write_patched(bad, b, len, TIFFTAG_STRIPOFFSETS, 0xfffffff0u);
    expect_error_default(bad, "beyond the end of the file");
    free(b);
}

static void tiff_corrupt_data(void **state)
{
    char path[4200], bad[4200];
    scratch_path(path, sizeof path, dir, "good.tif");
    scratch_path(bad, sizeof bad, dir, "bad.tif");
    static const uint16_t comp[] = { COMPRESSION_CCITTFAX4, COMPRESSION_CCITTFAX3,
                                     COMPRESSION_LZW, COMPRESSION_ADOBE_DEFLATE };
    for (size_t c = 0; c < sizeof comp / sizeof *comp; c++) {
        size_t len;
        unsigned char *b = good_tiff(path, comp[c], &len);
        long at = tiff_entry(b, len, 0, TIFFTAG_STRIPOFFSETS);
        uint32_t off, cnt;
        memcpy(&off, b + at + 8, 4);
        at = tiff_entry(b, len, 0, TIFFTAG_STRIPBYTECOUNTS);
        memcpy(&cnt, b + at + 8, 4);
        assert_true(off + cnt <= len && cnt > 16);
        uint32_t s = 12345;
        for (uint32_t i = cnt / 4; i < cnt; i++)       /* garbage after 1/4 */
            b[off + i] = (unsigned char)lcg(&s);
        assert_int_equal(write_bytes(bad, b, len), 0);
        expect_error_default(bad, "strip 0");
        /* and the data simply stopping (byte count cut short) */
        if (comp[c] == COMPRESSION_CCITTFAX4) {
            write_patched(bad, b, len, TIFFTAG_STRIPBYTECOUNTS, cnt / 8);
            expect_error_default(bad, "strip 0");
        }
        free(b);
    }
}

static void tiff_bad_sizes(void **state)
{
    char path[4200], bad[4200];
    scratch_path(path, sizeof path, dir, "good.tif");
    scratch_path(bad, sizeof bad, dir, "bad.tif");
    size_t len = 0;
    unsigned char *b = good_tiff(path, COMPRESSION_CCITTFAX4, &len);
    write_patched(bad, b, len, TIFFTAG_IMAGEWIDTH, 0);
    expect_error_default(bad, "");
    write_patched(bad, b, len, TIFFTAG_IMAGELENGTH, 0);
    expect_error_default(bad, "");
    unsigned char *c = malloc(len);
    memcpy(c, b, len);
    tiff_patch_tag(c, len, TIFFTAG_IMAGEWIDTH, 100000);
    tiff_patch_tag(c, len, TIFFTAG_IMAGELENGTH, 100000);
    tiff_patch_tag(c, len, TIFFTAG_ROWSPERSTRIP, 100000);
    assert_int_equal(write_bytes(bad, c, len), 0);
    expect_error_default(bad, "pixel limit");
    struct read_opts small = default_read_opts();
    small.max_pixels = 600 * 400 - 1;       /* the good file, one pixel over */
    expect_error(path, &small, "pixel limit");
    /* within the pixel limit, but 1 px wide: 64 bits a pixel once padded */
    memcpy(c, b, len);
    tiff_patch_tag(c, len, TIFFTAG_IMAGEWIDTH, 1);
    tiff_patch_tag(c, len, TIFFTAG_IMAGELENGTH, 500000000);
    tiff_patch_tag(c, len, TIFFTAG_ROWSPERSTRIP, 500000000);
    assert_int_equal(write_bytes(bad, c, len), 0);
    expect_error_default(bad, "too narrow for its height");
    free(c);
    free(b);
}

static void tiff_unsupported(void **state)
{
    char bad[4200];
    scratch_path(bad, sizeof bad, dir, "bad.tif");
    size_t len = 0;
    unsigned char *b = good_tiff(bad, COMPRESSION_NONE, &len);
    write_patched(bad, b, len, TIFFTAG_BITSPERSAMPLE, 4);
    expect_error_default(bad, "unsupported image: 4 bits per sample");
    write_patched(bad, b, len, TIFFTAG_BITSPERSAMPLE, 12);
    expect_error_default(bad, "unsupported image: 12 bits per sample");
    write_patched(bad, b, len, TIFFTAG_SAMPLESPERPIXEL, 2);
    expect_error_default(bad, "unsupported image");
    write_patched(bad, b, len, TIFFTAG_COMPRESSION, 12345);
    expect_error_default(bad, "unsupported compression");
    write_patched(bad, b, len, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_SEPARATED);
    expect_error_default(bad, "unsupported image");
    free(b);
}

static void tiff_ifd_loops(void **state)
{
    char path[4200];
    scratch_path(path, sizeof path, dir, "loop.tif");
    page pages[2];
    make_pattern(&pages[0], 64, 20, 1);
    make_pattern(&pages[1], 64, 20, 2);
    struct tiff_layout l = { .compression = COMPRESSION_CCITTFAX4,
                             .photometric = PHOTOMETRIC_MINISWHITE };
    assert_int_equal(write_tiff(path, pages, 2, &l), 0);
    size_t len = 0;
    unsigned char *b = read_bytes(path, &len);
    uint32_t first;
    memcpy(&first, b + 4, 4);
    long next1 = tiff_next_ptr(b, len, 1);      /* page 2 -> page 1 */
    assert_true(next1 > 0);
    memcpy(b + next1, &first, 4);
    assert_int_equal(write_bytes(path, b, len), 0);
    expect_error_default(path, "IFD loop");
    long next0 = tiff_next_ptr(b, len, 0);      /* page 1 -> itself */
    memcpy(b + next0, &first, 4);
    assert_int_equal(write_bytes(path, b, len), 0);
    expect_error_default(path, "IFD loop");
    uint32_t past = (uint32_t)len + 1000;       /* page 1 -> beyond the end */
    memcpy(b + next0, &past, 4);
    assert_int_equal(write_bytes(path, b, len), 0);
    expect_error_default(path, "");
    free(b);
    page_free(&pages[0]);
    page_free(&pages[1]);
}

static void tiff_absurd_tiles(void **state)
{
    char path[4200], bad[4200];
    scratch_path(path, sizeof path, dir, "tiled.tif");
    scratch_path(bad, sizeof bad, dir, "bad.tif");
    page pg;
    make_pattern(&pg, 150, 70, 3);
    struct tiff_layout l = { .compression = COMPRESSION_NONE,
                             .photometric = PHOTOMETRIC_MINISWHITE,
                             .tile_w = 64, .tile_h = 32 };
    assert_int_equal(write_tiff(path, &pg, 1, &l), 0);
    size_t len = 0;
    unsigned char *b = read_bytes(path, &len);
    write_patched(bad, b, len, TIFFTAG_TILEWIDTH, 0x40000000u);
    expect_error_default(bad, "");
    write_patched(bad, b, len, TIFFTAG_TILELENGTH, 0);
    expect_error_default(bad, "");
    write_patched(bad, b, len, TIFFTAG_TILEWIDTH, 24);     /* not 16k */
    expect_error_default(bad, "");
    free(b);
    page_free(&pg);
}

/* ------------------------------------------------------------- PNM */

static void pnm_bad(void **state)
{
    char path[4200];
    scratch_path(path, sizeof path, dir, "bad.pnm");
    static const struct {
        const char *data;
        size_t len;
        const char *want;
    } cases[] = {
        { "P5 100000 100000 255\n\x01\x02", 23, "pixel limit" },
        { "P4 0 5\n", 7, "invalid image size" },
        { "P5 2 2 0\n1234", 13, "" },
        { "P5 2 2 70000\n12345678", 21, "bad PNM header" },
        { "P5 abc 2 255\n", 13, "bad PNM header" },
        { "P5 4 4 255\n0123456789", 21, "truncated" },
        { "P4 16 3\n\xff\xff\x00", 11, "truncated" },
        { "P6 2 1 255\n12345", 16, "truncated" },
        { "P2 2 2 10\n1 2 3 11\n", 20, "maximum value" },
        { "P2 2 2 10\n1 2 x 1\n", 19, "bad sample" },
        { "P1 3 1\n1 0 2\n", 13, "bad pixel" },
        { "P1 3 2\n1 0 1\n1", 14, "truncated" },
        { "P4 1 1\n\x80garbage", 15, "after image 1" },
        { "P5 99999999999 2 255\n", 21, "bad PNM header" },
        { "P4 1 500000000\n\x80", 17, "too narrow" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        assert_int_equal(write_bytes(path, cases[i].data, cases[i].len), 0);
        expect_error_default(path, cases[i].want);
    }
}

/* ------------------------------------------------------------- PNG */

static uint32_t crc32_png(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xffffffffu;
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* A valid PNG (8-bit grey gradient) made with libpng. */
static unsigned char *good_png(const char *path, size_t *len)
{
    FILE *f = fopen(path, "wb");
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png)))
        fail_msg("libpng could not write the fixture");
    png_init_io(png, f);
    png_set_IHDR(png, info, 200, 100, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    png_byte row[200];
    uint32_t s = 7;
    for (int y = 0; y < 100; y++) {
        for (int x = 0; x < 200; x++)
            row[x] = (png_byte)(lcg(&s) & 0xff);
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(f);
    return read_bytes(path, len);
}

static void png_bad(void **state)
{
    char path[4200], bad[4200];
    scratch_path(path, sizeof path, dir, "good.png");
    scratch_path(bad, sizeof bad, dir, "bad.png");
    size_t len = 0;
    unsigned char *b = good_png(path, &len);
    assert_non_null(b);
    assert_int_equal(write_bytes(bad, b, len * 6 / 10), 0);     /* cut in IDAT */
    expect_error_default(bad, "truncated");
    assert_int_equal(write_bytes(bad, b, 8), 0);                /* signature only */
    expect_error_default(bad, "truncated");

    unsigned char *c = malloc(len);
    memcpy(c, b, len);
    c[16 + 3] ^= 0x40;                  /* width changed, CRC now wrong */
    assert_int_equal(write_bytes(bad, c, len), 0);
    expect_error_default(bad, "CRC");

    memcpy(c, b, len);                  /* 100000 x 100000, CRC right */
    put_be32(c + 16, 100000);
    put_be32(c + 20, 100000);
    put_be32(c + 29, crc32_png(c + 12, 17));
    assert_int_equal(write_bytes(bad, c, len), 0);
    expect_error_default(bad, "pixel limit");

    memcpy(c, b, len);                  /* 0 wide */
    put_be32(c + 16, 0);
    put_be32(c + 29, crc32_png(c + 12, 17));
    assert_int_equal(write_bytes(bad, c, len), 0);
    expect_error_default(bad, "");

    memcpy(c, b, len);                  /* IDAT garbage with a right CRC */
    size_t idat = 33 + 8;               /* IHDR is 12 + 13 + 4 after the 8-byte signature */
    assert_memory_equal(c + 37, "IDAT", 4);
    uint32_t n = (uint32_t)c[33] << 24 | (uint32_t)c[34] << 16 | (uint32_t)c[35] << 8 | c[36];
    uint32_t s = 99;
    for (uint32_t i = 2; i < n; i++)
        c[idat + i] = (unsigned char)lcg(&s);
    put_be32(c + idat + n, crc32_png(c + 37, 4 + n));
    assert_int_equal(write_bytes(bad, c, len), 0);
    expect_error_default(bad, "");
    free(c);
    free(b);
}

/* ------------------------------------------------------------- no big allocation */

/* With the data segment limited to 64 MiB, the absurd-size files are still
 * refused by the size check, not by a failing allocation: nothing of their
 * size is ever allocated, not even inside libtiff or libpng.  (Not under
 * AddressSanitizer, whose allocator needs more address space.) */
static void absurd_sizes_allocate_nothing(void **state)
{
#if defined(__SANITIZE_ADDRESS__)
    skip();
#else
    char tif[4200], pnm[4200], png[4200], tmp[4200];
    scratch_path(tif, sizeof tif, dir, "huge.tif");
    scratch_path(pnm, sizeof pnm, dir, "huge.pnm");
    scratch_path(png, sizeof png, dir, "huge.png");
    scratch_path(tmp, sizeof tmp, dir, "tmp");
    size_t len = 0;
    unsigned char *b = good_tiff(tmp, COMPRESSION_NONE, &len);
    tiff_patch_tag(b, len, TIFFTAG_IMAGEWIDTH, 100000);
    tiff_patch_tag(b, len, TIFFTAG_IMAGELENGTH, 100000);
    tiff_patch_tag(b, len, TIFFTAG_ROWSPERSTRIP, 100000);
    assert_int_equal(write_bytes(tif, b, len), 0);
    free(b);
    assert_int_equal(write_bytes(pnm, "P6 100000 100000 65535\n\x01", 24), 0);
    b = good_png(tmp, &len);
    put_be32(b + 16, 100000);
    put_be32(b + 20, 100000);
    put_be32(b + 29, crc32_png(b + 12, 17));
    assert_int_equal(write_bytes(png, b, len), 0);
    free(b);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit rl = { 64u << 20, 64u << 20 };
        if (setrlimit(RLIMIT_DATA, &rl) < 0)
            _exit(3);
        const char *files[] = { tif, pnm, png };
        struct read_opts o = default_read_opts();
        for (int i = 0; i < 3; i++) {
            errbuf e = { "" };
            struct page_reader *rd;
            page pg;
            int rc = page_reader_open(&rd, files[i], &o, &e);
            if (rc == 0) {
                rc = page_reader_read(rd, 0, &pg, &e);
                page_reader_close(rd);
            }
            if (rc == 0 || strstr(e.msg, "pixel limit") == NULL) {
                fprintf(stderr, "%s: %s\n", files[i], e.msg);
                _exit(1);
            }
        }
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
#endif
}

int main(void)
{
    /* no silence_libtiff(): a message that escaped the per-handle capture
     * would reach stderr and fail quiet_read_all */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(not_images),
        cmocka_unit_test(tiff_truncated),
        cmocka_unit_test(tiff_corrupt_data),
        cmocka_unit_test(tiff_bad_sizes),
        cmocka_unit_test(tiff_unsupported),
        cmocka_unit_test(tiff_ifd_loops),
        cmocka_unit_test(tiff_absurd_tiles),
        cmocka_unit_test(pnm_bad),
        cmocka_unit_test(png_bad),
        cmocka_unit_test(absurd_sizes_allocate_nothing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
