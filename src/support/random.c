/* SplitMix64, the library's one random stream (include/lucid/random.h says the exact
 * arithmetic, so another implementation can reproduce it bit for bit). Chosen because the
 * whole state is one counter: seeding is a store, and a draw is an atomic add plus a mix,
 * so concurrent callers never corrupt the state. */
#include <stdatomic.h>

#include "lucid/random.h"

static const uint64_t GOLDEN_GAMMA = 0x9E3779B97F4A7C15u;

static _Atomic uint64_t counter = 0;

void lc_random_seed(uint64_t seed) { atomic_store(&counter, seed); }

uint64_t lc_random_state(void) { return atomic_load(&counter); }

static uint64_t mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

uint64_t lc_random_next_u64(void) { return mix(atomic_fetch_add(&counter, GOLDEN_GAMMA) + GOLDEN_GAMMA); }

double lc_random_uniform01(void) { return (double)(lc_random_next_u64() >> 11) * 0x1.0p-53; }

double lc_random_uniform(double lo, double hi) { return lo + (hi - lo) * lc_random_uniform01(); }

void lc_random_fill_uniform(double *out, int64_t n, double lo, double hi) {
    if (!out || n <= 0) return;
    /* The counter moves by n steps at once (mod 2^64, as n single draws would move it). */
    uint64_t z = atomic_fetch_add(&counter, (uint64_t)n * GOLDEN_GAMMA);
    for (int64_t i = 0; i < n; i++) {
        z += GOLDEN_GAMMA;
        out[i] = lo + (hi - lo) * ((double)(mix(z) >> 11) * 0x1.0p-53);
    }
}
