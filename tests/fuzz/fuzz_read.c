/*
 * fuzz_read.c — libFuzzer target over page reading (every format, through
 * the same page_reader as spoolfilter, from a memfd) plus the filter stages
 * that are available, with a 4 Mpx page limit so that runs stay fast.
 *
 * Built and run by scripts/fuzz.sh (make fuzz); the unit test
 * test_fuzz_regress.c also runs it over the seed corpus and every input
 * that once crashed (tests/fuzz/regress/read/), in make check.
 */
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "chain.h"
#include "pageio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Writes the input to an anonymous memory file. */
static int fuzz_memfd(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz_read", MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(fd, data + done, size - done);
        if (n <= 0) {
            close(fd);
            return -1;
        }
        done += (size_t)n;
    }
    return fd;
}

/* The default chain without the stages this build lacks. */
static void fuzz_opts(struct chain_opts *o, size_t size)
{
    chain_opts_default(o);
    o->read.max_pixels = 4u * 1000 * 1000;
    o->read.binarize = size % 2 ? BINARIZE_SAUVOLA : BINARIZE_OTSU;
    int n = 0;
    for (int i = 0; i < o->nstages; i++)
        if (stage_available(o->stages[i]))
            o->stages[n++] = o->stages[i];
    o->nstages = n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = fuzz_memfd(data, size);
    if (fd < 0)
        return 0;
    struct chain_opts o;
    fuzz_opts(&o, size);
    struct page_reader *rd;
    errbuf e;
    if (page_reader_open_fd(&rd, fd, "fuzz", &o.read, &e) == 0) {
        int pages = page_reader_count(rd);
        for (int i = 0; i < pages && i < 8; i++) {
            page pg;
            if (page_reader_read(rd, i, &pg, &e) < 0)
                continue;
            struct page_report r = { .index = i };
            if (chain_run_page(&pg, &o, &r, &e) == 0) {
                char json[PAGE_REPORT_JSON_MAX];
                (void)page_report_json(&r, json, sizeof json);
            }
            page_free(&pg);
        }
        page_reader_close(rd);
    }
    close(fd);
    return 0;
}
