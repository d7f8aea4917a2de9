/*
 * backoff.c — random jitter and exponential back-off for the event loop
 * (see backoff.h for the bounds).
 */
#include "backoff.h"

#include <math.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

void rng_seed(struct rng *r)
{
    uint64_t seed;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^
               ((uint64_t)getpid() << 40);
    }
    r->s = seed;
}

/* splitmix64 (Steele, Lea, Flood 2014): a 64-bit counter through a mixing
 * function; passes BigCrush, plenty for jitter. */
uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

double rng_unit(struct rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

double jitter(struct rng *r, double base, double frac)
{
    if (frac < 0)
        frac = 0;
    if (frac > 1)
        frac = 1;
    return base * (1 + frac * (2 * rng_unit(r) - 1));
}

double backoff_delay(struct rng *r, double base, double max, int failures)
{
    if (failures < 0)
        failures = 0;
    if (failures > 60)
        failures = 60;
    double d = ldexp(base, failures);
    if (d > max)
        d = max;
    return jitter(r, d, 0.2);
}

double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
