/* The wide-exponent number type (wide.h). Add, mul and div work on the mantissas with plain
 * IEEE double arithmetic (which also decides every zero/inf/NaN case) and then move the
 * mantissa's own exponent into the int64 one. pow needs more: b^e = 2^(e·log2 b) must hold
 * e·log2 b to about 2^-53 absolute for a result within an ulp, and e·log2 b reaches 1e6 and
 * more for the p of an LP norm, so it is carried in double-double (hi + lo, ~106 bits). */
#include "runtime/wide.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* --- the wide number --- */

/* m · 2^e renormalized; m any double (a product or sum of mantissas). The interpreter calls
 * this for every value of every op, so a normal m is split by its bits rather than by a call
 * to frexp (which still takes the subnormals). */
static inline lc_wide wide_make(double m, int64_t e) {
    uint64_t bits;
    memcpy(&bits, &m, sizeof bits);
    int64_t field = (int64_t)(bits >> 52 & 0x7ff);
    if (field != 0 && field != 0x7ff) {
        bits = (bits & ~((uint64_t)0x7ff << 52)) | (uint64_t)1022 << 52;
        memcpy(&m, &bits, sizeof m);
        e += field - 1022;
    } else {
        if (m == 0 || !isfinite(m)) return (lc_wide){m, 0};
        int k;
        m = frexp(m, &k);
        e += k;
    }
    if (e > LC_WIDE_EXP_MAX) return (lc_wide){copysign(INFINITY, m), 0};
    if (e < -LC_WIDE_EXP_MAX) return (lc_wide){copysign(0.0, m), 0};
    return (lc_wide){m, e};
}

lc_wide lc_wide_from_double(double v) { return wide_make(v, 0); }

/* m · 2^e for e in [DBL_MIN_EXP, DBL_MAX_EXP], where it is a normal double: (2m) · 2^(e−1),
 * both factors and the product normal, so the multiply is exact (and cheaper than ldexp). */
static double normal_double(double m, int64_t e) {
    uint64_t bits = (uint64_t)(1022 + e) << 52;
    double two_e1;
    memcpy(&two_e1, &bits, sizeof two_e1);
    return (2 * m) * two_e1;
}

double lc_wide_to_double(lc_wide v) {
    if (v.m == 0 || !isfinite(v.m)) return v.m;
    if (v.e >= DBL_MIN_EXP && v.e <= DBL_MAX_EXP) return normal_double(v.m, v.e);
    /* Past these the result is ±inf or ±0 either way; inside them ldexp rounds once,
     * correctly, subnormals included. */
    if (v.e > DBL_MAX_EXP + 1) return copysign(INFINITY, v.m);
    if (v.e < DBL_MIN_EXP - DBL_MANT_DIG - 2) return copysign(0.0, v.m);
    return ldexp(v.m, (int)v.e);
}

bool lc_wide_is_zero(lc_wide v) { return v.m == 0; }

bool lc_wide_is_nan(lc_wide v) { return isnan(v.m); }

bool lc_wide_greater(lc_wide a, lc_wide b) {
    /* ±inf and NaN sit in m with e = 0, and every finite m is finite: m's compare decides */
    if (!isfinite(a.m) || !isfinite(b.m)) return a.m > b.m;
    /* a - b rounds to a nonzero value of its exact sign (exponents are far inside int64) */
    return lc_wide_add(a, (lc_wide){-b.m, b.e}).m > 0;
}

lc_wide lc_wide_abs(lc_wide v) { return (lc_wide){fabs(v.m), v.e}; }

lc_wide lc_wide_sign(lc_wide v) {
    double s = v.m > 0 ? 1.0 : v.m < 0 ? -1.0 : v.m; /* 0 -> 0, NaN -> NaN */
    return lc_wide_from_double(s);
}

lc_wide lc_wide_mul(lc_wide a, lc_wide b) { return wide_make(a.m * b.m, a.e + b.e); }

lc_wide lc_wide_div(lc_wide a, lc_wide b) { return wide_make(a.m / b.m, a.e - b.e); }

/* m · 2^d for a mantissa m and d ≤ 0: exact by a multiply while the result stays normal
 * (d ≥ −1021), else ldexp (rounding into the subnormals, or to 0 past d = −1100). */
static double scale_down(double m, int64_t d) {
    if (d >= -1021) {
        uint64_t bits = (uint64_t)(1023 + d) << 52;
        double two_d;
        memcpy(&two_d, &bits, sizeof two_d);
        return m * two_d;
    }
    return ldexp(m, d < -1100 ? -1100 : (int)d);
}

lc_wide lc_wide_add(lc_wide a, lc_wide b) {
    if (a.m == 0 || b.m == 0 || !isfinite(a.m) || !isfinite(b.m)) {
        /* IEEE decides signed zeros, inf − inf and NaN; a zero leaves the other operand. */
        if (a.m == 0 && b.m != 0) return b;
        if (b.m == 0 && a.m != 0) return a;
        return wide_make(a.m + b.m, 0);
    }
    /* Align on the larger exponent. A shift past ~1100 leaves the smaller operand far below
     * half an ulp of the larger mantissa, where the rounded sum is the larger one anyway. */
    int64_t e = a.e > b.e ? a.e : b.e;
    return wide_make(scale_down(a.m, a.e - e) + scale_down(b.m, b.e - e), e);
}

/* --- double-double arithmetic for pow --- */

typedef struct dd {
    double hi, lo;
} dd;

static dd two_sum(double a, double b) {
    double s = a + b, bb = s - a;
    return (dd){s, (a - (s - bb)) + (b - bb)};
}

static dd quick_two_sum(double a, double b) { /* |a| >= |b| */
    double s = a + b;
    return (dd){s, b - (s - a)};
}

static dd two_prod(double a, double b) {
    double p = a * b;
    return (dd){p, fma(a, b, -p)};
}

static dd dd_add(dd a, dd b) {
    dd s = two_sum(a.hi, b.hi), t = two_sum(a.lo, b.lo);
    s.lo += t.hi;
    s = quick_two_sum(s.hi, s.lo);
    s.lo += t.lo;
    return quick_two_sum(s.hi, s.lo);
}

static dd dd_mul(dd a, dd b) {
    dd p = two_prod(a.hi, b.hi);
    p.lo += a.hi * b.lo + a.lo * b.hi;
    return quick_two_sum(p.hi, p.lo);
}

static dd dd_mul_d(dd a, double b) {
    dd p = two_prod(a.hi, b);
    p.lo += a.lo * b;
    return quick_two_sum(p.hi, p.lo);
}

/* a / b: a first quotient, then one correction from the exact remainder. */
static dd dd_div(dd a, dd b) {
    double q1 = a.hi / b.hi;
    dd r = dd_add(a, dd_mul_d(b, -q1));
    double q2 = r.hi / b.hi;
    r = dd_add(r, dd_mul_d(b, -q2));
    double q3 = r.hi / b.hi;
    dd q = quick_two_sum(q1, q2);
    return dd_add(q, (dd){q3, 0});
}

static const dd LOG2_E = {0x1.71547652b82fep+0, 0x1.777d0ffda0d24p-56};
static const double LN_2 = 0x1.62e42fefa39efp-1;

/* log2(m) for m in [√½, √2), to ~2^-106: ln m = 2·atanh(s) = 2·(s + s³/3 + s⁵/5 + …) with
 * s = (m − 1)/(m + 1), |s| ≤ 0.172, so each term gains 5 bits; about 21 of them. */
static dd log2_mantissa(double m) {
    dd s = dd_div((dd){m - 1.0, 0}, two_sum(m, 1.0)); /* m − 1 is exact here */
    dd s2 = dd_mul(s, s), term = s, sum = s;
    for (int k = 1; k < 40; k++) {
        term = dd_mul(term, s2);
        dd t = dd_div(term, (dd){2.0 * k + 1.0, 0});
        sum = dd_add(sum, t);
        if (fabs(t.hi) <= ldexp(fabs(sum.hi), -110)) break;
    }
    return dd_mul(dd_mul_d(sum, 2.0), LOG2_E);
}

/* |b|^e for finite nonzero b and finite nonzero e, with no range limit but the exponent's. */
static lc_wide pow_magnitude(lc_wide b, double e) {
    double m = fabs(b.m);
    int64_t k = b.e;
    if (m < 0x1.6a09e667f3bcdp-1) { /* √½ */ /* centre the mantissa on 1 so log2 m is small */
        m *= 2;
        k -= 1;
    }
    /* With k ≠ 0, |k + log2 m| ≥ 1/2, so past |e| = 2^63 the exponent limit is passed (and e·k
     * could overflow a double): inf or 0 by the sign of e·k. */
    if (k != 0 && fabs(e) > 0x1p63) return (lc_wide){(e > 0) == (k > 0) ? INFINITY : 0.0, 0};
    /* t = e·k + e·log2(m). e·k is exact as a double-double (k split in two doubles in case
     * it has more than 53 bits). */
    double k_hi = (double)k, k_lo = (double)(k - (int64_t)k_hi);
    dd ek = two_prod(e, k_hi);
    ek.lo += e * k_lo;
    dd t = dd_add(ek, dd_mul_d(log2_mantissa(m), e));
    if (t.hi > (double)LC_WIDE_EXP_MAX) return (lc_wide){INFINITY, 0};
    if (t.hi < -(double)LC_WIDE_EXP_MAX) return (lc_wide){0.0, 0};
    /* 2^t = 2^n · 2^f with n the nearest integer and |f| ≤ ~0.5; t.hi − n is exact. */
    double n = nearbyint(t.hi);
    dd f = two_sum(t.hi - n, t.lo);
    double r = exp2(f.hi);
    r += r * (f.lo * LN_2); /* 2^(f.hi + f.lo) ≈ 2^f.hi · (1 + f.lo·ln 2), |f.lo| ≤ 2^-53 */
    return wide_make(r, (int64_t)n);
}

static bool is_odd_integer(double e) { return fabs(e) < 0x1p53 && fmod(e, 2.0) != 0 && e == trunc(e); }

lc_wide lc_wide_pow(lc_wide b, double e) {
    /* Zeros, infinities, NaN and an infinite or zero exponent: C's pow decides from the sign
     * of b, whether |b| is 0, < 1, 1, > 1 or inf, and e; clamping the exponent keeps all of
     * that (and b exact when it fits a double). */
    if (b.m == 0 || !isfinite(b.m) || e == 0 || !isfinite(e)) {
        int64_t clamped = b.e > 1000 ? 1000 : b.e < -1000 ? -1000 : b.e;
        return lc_wide_from_double(pow(ldexp(b.m, (int)clamped), e));
    }
    if (b.m < 0 && e != trunc(e)) return (lc_wide){NAN, 0};
    /* The common case: b is a normal double and so is b^e (not inf, not subnormal); C's pow
     * is within an ulp there. */
    if (b.e >= DBL_MIN_EXP && b.e <= DBL_MAX_EXP) {
        double r = pow(normal_double(b.m, b.e), e);
        if (isfinite(r) && fabs(r) >= DBL_MIN) return lc_wide_from_double(r);
    }
    lc_wide r = pow_magnitude(b, e);
    if (b.m < 0 && is_odd_integer(e)) r.m = -r.m;
    return r;
}
