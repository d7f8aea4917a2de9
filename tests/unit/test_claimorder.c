/*
 * test_claimorder.c — the order in which a node tries the ready packs of a
 * scan (claim_order_sort in spoold/cycle.c): "hashed" keeps the scan's
 * order; "largest" puts bigger packs first in power-of-two buckets of
 * their size (4 KiB units) and keeps the scan's order within a bucket;
 * the result is always a permutation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "daemon.h"

#define NP 8

/* Packs of these sizes (pages do not count: the order is known before
 * any parse check). */
static void make(struct spool_pack *v, const struct spool_pack **pv,
                 const int *pages, const uint64_t *bytes, size_t n)
{
    memset(v, 0, n * sizeof *v);
    for (size_t i = 0; i < n; i++) {
        v[i].pages = pages[i];
        v[i].bytes = bytes[i];
        v[i].state = SPOOL_READY;
        pv[i] = &v[i];
    }
}

static void assert_permutation(const size_t *idx, size_t n)
{
    int seen[NP] = { 0 };
    for (size_t i = 0; i < n; i++) {
        assert_true(idx[i] < n);
        assert_int_equal(seen[idx[i]], 0);
        seen[idx[i]] = 1;
    }
}

static void hashed_keeps_the_scan_order(void **state)
{
    static const int pages[NP] = { 25, 1000, 200, 25, 1000, 30, -1, 7 };
    static const uint64_t bytes[NP] = { 1, 2, 3, 4, 5, 6, 10 << 20, 8 };
    struct spool_pack v[NP];
    const struct spool_pack *pv[NP];
    size_t idx[NP];
    make(v, pv, pages, bytes, NP);
    claim_order_sort(pv, NP, CLAIM_HASHED, idx);
    for (size_t i = 0; i < NP; i++)
        assert_int_equal(idx[i], i);
}

static void largest_first_in_buckets(void **state)
{
    /* buckets (bit length of bytes / 4 KiB): 100 KB -> 25 units -> 5,
     * 4 MB -> 977 -> 10, 800 KB -> 195 -> 8, 120 KB -> 29 -> 5,
     * 10 MiB -> 2560 -> 12, 8 KB -> 1 -> 1; pages are ignored */
    static const int pages[NP] = { 25, 1000, 200, 25, 1000, 30, -1, 7 };
    static const uint64_t bytes[NP] = { 100000, 4000000, 800000, 100000,
                                        4000000, 120000, 10 << 20, 8000 };
    static const size_t want[NP] = { 6, 1, 4, 2, 0, 3, 5, 7 };
    struct spool_pack v[NP];
    const struct spool_pack *pv[NP];
    size_t idx[NP];
    make(v, pv, pages, bytes, NP);
    claim_order_sort(pv, NP, CLAIM_LARGEST, idx);
    assert_permutation(idx, NP);
    for (size_t i = 0; i < NP; i++)
        assert_int_equal(idx[i], want[i]);
}

static void largest_with_equal_sizes_and_none(void **state)
{
    static const int pages[NP] = { 100, 100, 100, 100, 0, 0, 100, 100 };
    static const uint64_t bytes[NP] = { 7 << 20, 6 << 20, 5 << 20, 4200000,
                                        0, 100, 6000000, 7000000 };
    struct spool_pack v[NP];
    const struct spool_pack *pv[NP];
    size_t idx[NP];
    make(v, pv, pages, bytes, NP);
    claim_order_sort(pv, NP, CLAIM_LARGEST, idx);
    assert_permutation(idx, NP);
    /* same bucket: the scan's (node-specific) order stays; empty last */
    static const size_t want[NP] = { 0, 1, 2, 3, 6, 7, 4, 5 };
    for (size_t i = 0; i < NP; i++)
        assert_int_equal(idx[i], want[i]);
    claim_order_sort(pv, 0, CLAIM_LARGEST, idx);     /* nothing to do */
    claim_order_sort(pv, 1, CLAIM_LARGEST, idx);
    assert_int_equal(idx[0], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hashed_keeps_the_scan_order),
        cmocka_unit_test(largest_first_in_buckets),
        cmocka_unit_test(largest_with_equal_sizes_and_none),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
