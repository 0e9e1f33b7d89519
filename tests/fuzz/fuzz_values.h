/* Input tensors for fuzz targets that run graphs: deterministic values drawn from a seed, a
 * mix of ordinary numbers, exact zeros, signed zeros and (when asked) NaN and infinities, so
 * that runs exercise IEEE propagation as well as plain arithmetic. */
#ifndef LUCID_FUZZ_VALUES_H
#define LUCID_FUZZ_VALUES_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include "lucid/tensor.h"

static inline uint64_t fuzz_next(uint64_t *s) {
    uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ull;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* One value in (-scale, scale); with `specials`, now and then NaN, +-inf or -0. */
static inline double fuzz_value(uint64_t *s, double scale, bool specials) {
    uint64_t r = fuzz_next(s);
    unsigned kind = (unsigned)(r >> 56);
    if (kind < 24) return 0.0;
    if (specials && kind < 28) return NAN;
    if (specials && kind < 32) return (r & 1) ? INFINITY : -INFINITY;
    if (kind < 36) return -0.0;
    if (kind < 44) return (double)(int64_t)((r & 7) - 3); /* small integers, ties */
    return ((double)(r & 0xffffffffffffull) / (double)0x1000000000000ull * 2 - 1) * scale;
}

/* Fill every element of t. */
static inline void fuzz_fill(lc_tensor *t, uint64_t seed, double scale, bool specials) {
    int64_t n = lc_tensor_numel(t);
    for (int64_t i = 0; i < n; i++) lc_tensor_set(t, i, fuzz_value(&seed, scale, specials));
}

/* |got - want| <= atol + rtol |want|, with NaN matching NaN and infinities matching exactly. */
static inline bool fuzz_close(double got, double want, double rtol, double atol) {
    if (isnan(want) || isnan(got)) return isnan(want) && isnan(got);
    if (isinf(want) || isinf(got)) return got == want;
    return fabs(got - want) <= atol + rtol * fabs(want);
}

#endif
