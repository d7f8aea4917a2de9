/*
 * backoff.h — timing helpers of the daemon's loop: a small caller-owned
 * random generator, jittered periods and exponential back-off.
 *
 * Nodes started together (systemd on many machines after a power cut) must
 * not scan the shared spool in lock-step, and a node that keeps failing
 * against an unavailable spool must slow down without giving up; both use
 * the bounds documented here, which the unit tests check.
 */
#ifndef SPOOLD_BACKOFF_H
#define SPOOLD_BACKOFF_H

#include <stdint.h>

struct rng {
    uint64_t s;
};

/* Seeds from getrandom(), falling back to the pid and the clock. */
void rng_seed(struct rng *r);

/* Next 64 random bits (splitmix64). */
uint64_t rng_next(struct rng *r);

/* Uniform in [0, 1). */
double rng_unit(struct rng *r);

/* base * (1 + frac * u), u uniform in [-1, 1): within
 * [base * (1 - frac), base * (1 + frac)).  frac is clamped to [0, 1]. */
double jitter(struct rng *r, double base, double frac);

/* Delay before retry number `failures` (0 = first retry): base * 2^failures
 * capped at max, then jittered by +-20%; so within [0.8 * min(base * 2^f,
 * max), 1.2 * min(base * 2^f, max)). */
double backoff_delay(struct rng *r, double base, double max, int failures);

/* Seconds of CLOCK_MONOTONIC. */
double mono_now(void);

#endif
