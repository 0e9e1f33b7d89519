/* A real number with a wide exponent, the interpreter's one number type (docs/pipeline.md).
 *
 * value = m · 2^e with m a double in [0.5, 1) (or (−1, −0.5]) and e an int64, so no product,
 * quotient, sum or power of finite values over- or underflows: |x|^60 for |x| = 1e38, or the
 * sum of two 3e38 in an f32 graph, is carried exactly as far as a double mantissa allows, and
 * the value is rounded to float or double only when it leaves the graph (lc_wide_to_double).
 *
 * Zero, inf and NaN keep their IEEE meaning: they live in m (signed zero, ±inf, NaN) with e = 0,
 * so each op can let IEEE double arithmetic on the mantissas decide 0·inf, inf − inf, x/0.
 * Exponents are kept within ±LC_WIDE_EXP_MAX (far beyond any use): a result past it becomes
 * ±inf or ±0, and the sum of two in-range exponents never overflows int64. */
#ifndef LUCID_RUNTIME_WIDE_H
#define LUCID_RUNTIME_WIDE_H

#include <stdbool.h>
#include <stdint.h>

#define LC_WIDE_EXP_MAX ((int64_t)1 << 61)

typedef struct lc_wide {
    double m;  /* ±[0.5, 1), or ±0, ±inf, NaN */
    int64_t e; /* binary exponent; 0 when m is not finite and nonzero */
} lc_wide;

/* Exact: every double is a wide number. */
lc_wide lc_wide_from_double(double v);

/* The nearest double (round to nearest even, subnormals included); ±inf past DBL_MAX. A float
 * is then (float)lc_wide_to_double(v): the double is exact wherever a float can be nonzero and
 * finite, so that is one correct rounding too. */
double lc_wide_to_double(lc_wide v);

/* Each correctly rounded to a 53-bit mantissa, as the IEEE op would be with no exponent limit. */
lc_wide lc_wide_add(lc_wide a, lc_wide b);
lc_wide lc_wide_mul(lc_wide a, lc_wide b);
lc_wide lc_wide_div(lc_wide a, lc_wide b);

lc_wide lc_wide_abs(lc_wide v);
/* −1, 0 or 1 (signed zero kept); NaN stays NaN. */
lc_wide lc_wide_sign(lc_wide v);
bool lc_wide_is_zero(lc_wide v);
bool lc_wide_is_nan(lc_wide v);
/* a > b exactly (false when either is NaN), beyond the double range too. */
bool lc_wide_greater(lc_wide a, lc_wide b);

/* b^e with C's pow rules for zeros, infinities, NaN and negative bases (C11 F.10.4.4), and
 * within about one ulp of the double mantissa for every finite b and e: e·log2|b| is carried
 * in double-double (the exponent times e exactly, log2 of the mantissa to ~106 bits), so the
 * result stays accurate while |e·log2 b| is below ~2^50, and beyond that rounds past the
 * exponent limit to inf or 0. */
lc_wide lc_wide_pow(lc_wide b, double e);

#endif
