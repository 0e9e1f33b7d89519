/* Integer arithmetic that cannot overflow: saturating adds and products for estimates (a cost
 * that reaches INT64_MAX only says "huge"), a ceiling division that never forms a + b - 1, and
 * the greatest common divisor.
 * Shapes and window parameters are validated to fit int64 (shape_infer.c), but products of
 * them (a kernel's loads per element, window index times step) need not. */
#ifndef LUCID_SUPPORT_INT_MATH_H
#define LUCID_SUPPORT_INT_MATH_H

#include <stdint.h>

/* a + b and a · b for a, b >= 0, INT64_MAX where the exact value does not fit. */
static inline int64_t lc_sat_add(int64_t a, int64_t b) {
    int64_t r;
    return __builtin_add_overflow(a, b, &r) ? INT64_MAX : r;
}

static inline int64_t lc_sat_mul(int64_t a, int64_t b) {
    int64_t r;
    return __builtin_mul_overflow(a, b, &r) ? INT64_MAX : r;
}

/* ceil(a / b) for a >= 0, b >= 1: (a + b - 1) / b overflows for a or b near INT64_MAX. */
static inline int64_t lc_ceil_div(int64_t a, int64_t b) { return a / b + (a % b != 0); }

/* The greatest common divisor of a >= 0 and b >= 1. */
static inline int64_t lc_gcd(int64_t a, int64_t b) {
    while (a != 0) {
        int64_t r = b % a;
        b = a;
        a = r;
    }
    return b;
}

#endif
