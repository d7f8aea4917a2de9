/*
 * admit.h — admission control: may this node claim one more pack now?
 *
 * A node claims only while a worker slot is free (the loop counts those),
 * MemAvailable stays above min_free_memory after the pack's estimated need
 * and the memory that running workers are expected to take but have not
 * taken yet, and the output file system keeps min_free_disk after the
 * pack's output.  Otherwise the node waits: memory, not CPU, is what kills
 * throughput when nodes start swapping, and a full disk half-writes.
 */
#ifndef SPOOLD_ADMIT_H
#define SPOOLD_ADMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "errbuf.h"

#define ADMIT_BASE_BYTES   (32ull << 20)  /* a worker before its first page */
#define ADMIT_PAGE_COPIES  6              /* bitmaps alive per page in flight */
#define ADMIT_DEFAULT_PX   (2480ull * 3508) /* A4 at 300 dpi, when unknown */

/* MemAvailable of a /proc/meminfo text, in bytes.  -1 if absent or bad. */
int admit_parse_meminfo(const char *text, uint64_t *avail, errbuf *e);

/* Reads /proc/meminfo (path for tests; NULL = /proc/meminfo). */
int admit_mem_available(const char *path, uint64_t *avail, errbuf *e);

/* Bytes available to unprivileged users on the file system of dir. */
int admit_disk_free(const char *dir, uint64_t *bytes, errbuf *e);

/* Resident bytes of process pid (/proc/PID/statm), 0 if unknown. */
uint64_t admit_rss(pid_t pid);

/* Estimated peak memory of a worker for a pack whose largest page has
 * max_page_pixels pixels (0 = unknown: an A4 page at 300 dpi), with
 * `threads` pages in flight:
 *     ADMIT_BASE_BYTES + threads * ADMIT_PAGE_COPIES * pixels / 8
 * capped at memory_limit when that is set (the worker cannot use more). */
uint64_t admit_estimate(uint64_t max_page_pixels, int threads,
                        uint64_t memory_limit);

struct admit_input {
    uint64_t mem_available;     /* MemAvailable now */
    uint64_t mem_reserved;      /* estimated, not yet resident, of running
                                   workers */
    uint64_t need;              /* admit_estimate() of the pack */
    uint64_t min_free_memory;
    uint64_t disk_free;         /* on the output file system */
    uint64_t out_bytes;         /* expected output size (the pack's bytes) */
    uint64_t min_free_disk;
};

/* True if the pack may be claimed: mem_available - mem_reserved - need >=
 * min_free_memory and disk_free - out_bytes >= min_free_disk (no
 * underflow).  If not, *why says which limit and the numbers. */
bool admit_ok(const struct admit_input *in, char *why, size_t len);

#endif
