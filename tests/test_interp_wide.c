/* The interpreter's wide-exponent numbers (docs/pipeline.md) and what they buy: LP norms and
 * average pools whose intermediates leave the double range come out right.
 *
 * - The number type on its own: every op against C's double arithmetic where the result fits a
 *   double (bit for bit, specials included), pow against long double powl where it only fits
 *   a long double, round trips through 2^±1e6, and the rounding to double/float (subnormals
 *   included) against an integer-rounding reference.
 * - The overflow and underflow cases of LP and average pooling through lc_module_graph → lc_autodiff → lc_interp_run.
 * - Random LP windows with magnitudes over 1e-40 … 3e38 (f32) and 1e-300 … 1e300 (f64), against
 *   a float64 scaled reference written here, judged by relative error with no absolute floor
 *   beyond the output type's smallest subnormal step. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lucid/autodiff.h"
#include "lucid/nn.h"
#include "lucid/passes.h"
#include "lucid/runtime.h"
#include "runtime/wide.h"
#include "support/testutil.h"

/* ---------------------------------------------------------------- the number type */

static bool same_double(double a, double b) {
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    return a == b && !signbit(a) == !signbit(b);
}

static lc_wide w(double v) { return lc_wide_from_double(v); }
static double d(lc_wide v) { return lc_wide_to_double(v); }

static const double specials[] = {0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 3.0, -3.0, 1e300, -1e300,
                                  1e-300, 5e-324, DBL_MAX, INFINITY, -INFINITY, NAN};
enum { N_SPECIALS = sizeof specials / sizeof specials[0] };

/* Where the double result is representable, every op is the IEEE op, bit for bit. */
static void test_ops_match_ieee_on_doubles(void **state) {
    (void)state;
    for (int i = 0; i < N_SPECIALS; i++)
        for (int j = 0; j < N_SPECIALS; j++) {
            double a = specials[i], b = specials[j];
            if (!same_double(d(lc_wide_add(w(a), w(b))), a + b)) fail_msg("add(%g, %g)", a, b);
            if (!same_double(d(lc_wide_mul(w(a), w(b))), a * b)) fail_msg("mul(%g, %g)", a, b);
            if (!same_double(d(lc_wide_div(w(a), w(b))), a / b)) fail_msg("div(%g, %g)", a, b);
        }
    test_rng r = test_rng_seeded(11);
    for (int t = 0; t < 20000; t++) {
        double a = ldexp(test_rng_uniform(&r, -1, 1), (int)test_rng_int(&r, -500, 500));
        double b = ldexp(test_rng_uniform(&r, -1, 1), (int)test_rng_int(&r, -500, 500));
        if (t % 3 == 0) b = -a * test_rng_uniform(&r, 0.5, 2); /* cancellation */
        if (!same_double(d(lc_wide_add(w(a), w(b))), a + b)) fail_msg("add(%a, %a)", a, b);
        if (!same_double(d(lc_wide_mul(w(a), w(b))), a * b) && fabs(a * b) >= DBL_MIN)
            fail_msg("mul(%a, %a)", a, b);
        if (!same_double(d(lc_wide_div(w(a), w(b))), a / b) && fabs(a / b) >= DBL_MIN)
            fail_msg("div(%a, %a)", a, b);
    }
    for (int i = 0; i < N_SPECIALS; i++) {
        double a = specials[i];
        assert_true(same_double(d(lc_wide_abs(w(a))), fabs(a)));
        double s = a > 0 ? 1.0 : a < 0 ? -1.0 : a;
        assert_true(same_double(d(lc_wide_sign(w(a))), s));
    }
}

/* Sums and products past DBL_MAX stay finite inside, and come back when the value fits. */
static void test_no_overflow_inside(void **state) {
    (void)state;
    lc_wide big = lc_wide_add(w(DBL_MAX), w(DBL_MAX));
    assert_true(isinf(d(big)));
    assert_true(same_double(d(lc_wide_div(big, w(2))), DBL_MAX));
    lc_wide tiny = lc_wide_mul(w(1e-300), w(1e-300));
    assert_true(same_double(d(tiny), 0.0));
    /* 1e-300 · 1e-300 · 1e300 is 1e-300 up to two roundings. */
    assert_true(fabs(d(lc_wide_mul(tiny, w(1e300))) / 1e-300 - 1) < 4 * DBL_EPSILON);
    /* A sum far below the larger operand's last bit leaves it unchanged; above, it counts. */
    lc_wide huge = lc_wide_pow(w(2), 5000);
    assert_true(same_double(lc_wide_div(lc_wide_add(huge, w(1)), huge).m, 0.5));
    lc_wide half = lc_wide_mul(huge, w(0x1p-53));
    volatile double one = 1; /* the same sum at scale 1, rounded by the hardware */
    assert_true(same_double(d(lc_wide_div(lc_wide_add(huge, lc_wide_mul(half, w(3))), huge)), one + 3 * 0x1p-53));
}

/* pow's special cases are C's (C11 F.10.4.4), read off C's pow on the same doubles. */
static void test_pow_specials_match_c(void **state) {
    (void)state;
    static const double exps[] = {0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 3.0, -3.0, 0.5, -0.5, 2.5, 1e300, -1e300,
                                  0x1p53 + 2, INFINITY, -INFINITY, NAN};
    for (int i = 0; i < N_SPECIALS; i++)
        for (size_t j = 0; j < sizeof exps / sizeof exps[0]; j++) {
            double b = specials[i], e = exps[j];
            double want = pow(b, e);
            if (!isfinite(want) || want == 0 || fabs(want) >= DBL_MIN) { /* a double either way */
                double got = d(lc_wide_pow(w(b), e));
                if (!same_double(got, want)) fail_msg("pow(%g, %g) = %g, C says %g", b, e, got, want);
            }
        }
}

/* Out of the double range but inside long double's (±1e4932): against powl, 64-bit. */
static void test_pow_against_powl(void **state) {
    (void)state;
    test_rng r = test_rng_seeded(12);
    double worst = 0;
    for (int t = 0; t < 20000; t++) {
        double b = pow(10, test_rng_uniform(&r, -300, 300));
        double e = test_rng_uniform(&r, -15, 15);
        if (t % 4 == 0) e = nearbyint(e);
        if (t % 5 == 0) b = -b;
        long double lb = fabsl((long double)b), le = e;
        if (fabsl(le * log10l(lb)) > 4900) continue;
        if (b < 0 && e != trunc(e)) {
            assert_true(isnan(lc_wide_pow(w(b), e).m));
            continue;
        }
        long double want = powl((long double)b, le);
        lc_wide got = lc_wide_pow(w(b), e);
        long double g = ldexpl((long double)got.m, (int)got.e);
        long double rel = fabsl(g / want - 1);
        if (rel > worst) worst = (double)rel;
        if (rel > 0x1p-52) fail_msg("pow(%a, %a): relative error %Lg", b, e, rel);
    }
    print_message("pow vs powl: worst relative error %.3g (2^-52 = %.3g)\n", worst, 0x1p-52);
}

/* A reference for integer powers far past long double's range: binary powering in
 * double-double with a separate int64 exponent (each step renormalized), ~2^-100 relative
 * after the ~40 products a 2^20 power takes. Nothing of wide.c's log/exp path in it. */
typedef struct ref_big {
    double hi, lo;
    int64_t e;
} ref_big;

static ref_big ref_mul(ref_big a, ref_big b) {
    double p = a.hi * b.hi, err = fma(a.hi, b.hi, -p) + (a.hi * b.lo + a.lo * b.hi);
    double hi = p + err, lo = err - (hi - p);
    int k;
    double m = frexp(hi, &k);
    return (ref_big){m, ldexp(lo, -k), a.e + b.e + k};
}

static ref_big ref_ipow(double b, int64_t n) {
    int k;
    double m = frexp(b, &k);
    ref_big base = {m, 0, k}, acc = {0.5, 0, 1};
    for (; n > 0; n >>= 1) {
        if (n & 1) acc = ref_mul(acc, base);
        base = ref_mul(base, base);
    }
    return acc;
}

/* Integer exponents up to 2^20, where e·log2 b reaches 1e9 and log2 of the mantissa must be
 * good to ~2^-83 for an ulp: against the binary-powering reference. */
static void test_pow_integer_against_binary_powering(void **state) {
    (void)state;
    test_rng r = test_rng_seeded(14);
    double worst = 0;
    for (int t = 0; t < 3000; t++) {
        double b = pow(10, test_rng_uniform(&r, -300, 300));
        int64_t n = test_rng_int(&r, 2, (int64_t)1 << 20);
        if (t % 3 == 0) b = test_rng_uniform(&r, 0.999, 1.001); /* log2 b near 0 */
        ref_big want = ref_ipow(b, n);
        lc_wide got = lc_wide_pow(w(b), (double)n);
        /* got / want − 1, as (got.m·2^(got.e − want.e)) / (want.hi + want.lo) − 1 */
        double scaled = ldexp(got.m, (int)(got.e - want.e));
        double rel = fabs((scaled - want.hi - want.lo) / want.hi);
        if (rel > worst) worst = rel;
        if (!(rel <= 0x1p-52)) fail_msg("pow(%a, %lld): relative error %g", b, (long long)n, rel);
    }
    print_message("pow vs binary powering (n <= 2^20): worst relative error %.3g\n", worst);
}

/* Beyond every hardware range: powers of two are exact, and a round trip b^e^(1/e) comes
 * back to b within a few ulps (the error of 1/e as a double included). */
static void test_pow_round_trips(void **state) {
    (void)state;
    lc_wide p = lc_wide_pow(w(2), 1e6);
    assert_true(p.m == 0.5 && p.e == 1000001);
    p = lc_wide_pow(w(0.5), 1e6);
    assert_true(p.m == 0.5 && p.e == -999999);
    assert_true(same_double(d(lc_wide_pow(w(2), 1e300)), INFINITY));
    assert_true(same_double(d(lc_wide_pow(w(0.5), 1e300)), 0.0));
    assert_true(same_double(d(lc_wide_pow(w(1), 1e300)), 1.0));
    assert_true(same_double(d(lc_wide_pow(w(1e-30), 1e-300)), 1.0));
    assert_true(same_double(d(lc_wide_pow(w(-2), 1e6 + 1)), -INFINITY));
    static const double bases[] = {3, 1e-30, 1e30, 0.7, 1.0000001, 5e-324, DBL_MAX};
    static const double exps[] = {60, 1e6, 1.0000001, 2.5, 0.01, 1e4};
    for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++)
        for (size_t j = 0; j < sizeof exps / sizeof exps[0]; j++) {
            double b = bases[i], e = exps[j];
            lc_wide up = lc_wide_pow(w(b), e);
            double back = d(lc_wide_div(lc_wide_pow(up, 1 / e), w(b))); /* DBL_MAX may come back just above */
            /* 1/e is off by up to 2^-53 relative: b^(1 ± 2^-53) is off by |ln b|·2^-53; and
             * the ulp of b^e grows by 1/e in (b^e)^(1/e). */
            double tol = (4 + fabs(log(b)) + 1 / e) * DBL_EPSILON;
            if (!(fabs(back - 1) <= tol)) fail_msg("pow(pow(%g, %g), 1/%g) = %.17g·%g", b, e, e, back, b);
        }
}

/* Leaving the graph: one correct rounding, subnormals included, against rounding the scaled
 * mantissa to an integer (exact: the scaled value has at most 53 bits). */
static void test_rounding_to_double_and_float(void **state) {
    (void)state;
    test_rng r = test_rng_seeded(13);
    for (int t = 0; t < 20000; t++) {
        double m = test_rng_uniform(&r, 0.5, 1);
        if (t % 4 == 0) m = nearbyint(m * 0x1p10) * 0x1p-10; /* ties */
        if (t % 2) m = -m;
        int64_t e64 = test_rng_int(&r, -1080, -1015);
        lc_wide v = {m, e64};
        double want64 = nearbyint(ldexp(m, (int)e64 + 1074)) * 0x1p-1074;
        if (e64 > -1021) want64 = ldexp(m, (int)e64); /* normal: exact */
        if (!same_double(d(v), copysign(want64, m))) fail_msg("to double: %a·2^%lld", m, (long long)e64);
        int64_t e32 = test_rng_int(&r, -155, -120);
        v = (lc_wide){m, e32};
        float want32 = (float)(nearbyint(ldexp(m, (int)e32 + 149)) * 0x1p-149);
        if (e32 > -125) want32 = (float)ldexp(m, (int)e32); /* normal: one rounding */
        float got32 = (float)d(v);
        if (got32 != want32 || !signbit(got32) != !signbit(m))
            fail_msg("to float: %a·2^%lld gives %a, want %a", m, (long long)e32, got32, want32);
    }
    assert_true(same_double(d((lc_wide){0.5, 1025}), INFINITY));
    assert_true(same_double(d((lc_wide){-0.5, 1025}), -INFINITY));
    assert_true(same_double(d((lc_wide){-0.5, -5000}), -0.0));
}

/* ---------------------------------------------------------------- through the interpreter */

typedef struct run_result {
    lc_tensor *y, *dx;
} run_result;

/* y and dx of module m on x (shape (1, 1, n)) with seed gradient `seed`, by the interpreter,
 * on the autodiff graph as it comes (pipeline false) or after the default pipeline. */
static run_result run_module(const lc_module *m, lc_dtype dt, const double *x, int64_t n, const double *seed,
                             bool pipeline) {
    lc_shape s = test_shape3(1, 1, n), ys;
    assert_ok(lc_module_output_shape(m, s, &ys));
    lc_graph *g, *ad;
    assert_ok(lc_module_graph(m, dt, s, &g));
    if (pipeline) {
        lc_pipeline_options opts = lc_pipeline_options_default();
        assert_ok(lc_pipeline_run_default(g, true, &opts, &ad));
    } else {
        assert_ok(lc_autodiff(g, NULL, 0, NULL, 0, &ad));
    }
    lc_tensor *in[2], *out[2];
    assert_ok(lc_tensor_from_doubles(dt, s, x, &in[0]));
    assert_ok(lc_tensor_from_doubles(dt, ys, seed, &in[1]));
    assert_ok(lc_interp_run(ad, (const lc_tensor *const *)in, 2, out, 2));
    lc_tensor_free(in[0]);
    lc_tensor_free(in[1]);
    lc_graph_free(ad);
    lc_graph_free(g);
    return (run_result){out[0], out[1]};
}

static void free_result(run_result r) {
    lc_tensor_free(r.y);
    lc_tensor_free(r.dx);
}

static const double SQRT_HALF = 0.70710678118654752440;

static const double ones[64] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
                                1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
                                1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};

/* |got − want| ≤ rtol·|want| for every element, want rounded to got's dtype first: no absolute
 * floor, so a 0 for a nonzero want fails. A want that is NaN/inf (in that dtype) must be
 * matched exactly. */
static void expect_rel(const lc_tensor *got, const double *want, int64_t n, double rtol, const char *what) {
    assert_int_equal(lc_tensor_numel(got), n);
    for (int64_t i = 0; i < n; i++) {
        double g = lc_tensor_get(got, i);
        double want_i = got->dtype == LC_F32 ? (double)(float)want[i] : want[i]; /* inf past FLT_MAX */
        if (!isfinite(want_i)) {
            if (!same_double(g, want_i)) fail_msg("%s[%lld] = %g, want %g", what, (long long)i, g, want_i);
        } else if (!(fabs(g - want_i) <= rtol * fabs(want_i)))
            fail_msg("%s[%lld] = %.9g, want %.9g (rtol %g)", what, (long long)i, g, want_i, rtol);
    }
}

typedef struct lp_case {
    const char *name;
    double p;
    int64_t k;
    lc_dtype dt;
    int64_t n;
    double x[4];
    double y[2];  /* one window unless stated */
    double dx[4]; /* seed ones */
} lp_case;

/* Overflow and underflow cases: the right value, where the literal graph in doubles gives inf, 0 or NaN. */
static const lp_case issue_cases[] = {
    {"p=1e6 [2, 1]", 1e6, 2, LC_F64, 2, {2, 1}, {2}, {1, 0}},
    {"p=1e6 [2, 1] f32", 1e6, 2, LC_F32, 2, {2, 1}, {2}, {1, 0}},
    {"p=60 [1e6, 0.5]", 60, 2, LC_F64, 2, {1e6, 0.5}, {1e6}, {1, 0}},
    {"p=60 [1e6, 0.5] f32", 60, 2, LC_F32, 2, {1e6, 0.5}, {1e6}, {1, 0}},
    /* (1 + 2^-60)^(1/60) and (2^-1)^59·... : y = 1e-6·(1 + 2^-60)^(1/60), dx[1] = 2^-59 / that^59. */
    {"p=60 [1e-6, 5e-7]", 60, 2, LC_F64, 2, {1e-6, 5e-7}, {1e-6}, {1, 0x1p-59}},
    {"p=2 [1e200, 1e200]", 2, 2, LC_F64, 2, {1e200, 1e200}, {1.4142135623730951e200}, {SQRT_HALF, SQRT_HALF}},
    {"p=8 [1e5, 0] f32", 8, 2, LC_F32, 2, {1e5, 0}, {1e5}, {1, 0}},
    {"p=2 [1e-25, -1e-25] f32", 2, 2, LC_F32, 2, {1e-25, -1e-25}, {1.41421356e-25}, {SQRT_HALF, -SQRT_HALF}},
    {"p=2 [3e19, 1] f32", 2, 2, LC_F32, 2, {3e19, 1}, {3e19}, {1, 1 / 3e19}},
    /* (3·(1e-30)^0.01)^100 = 3^100 · 1e-30; dx = (1e-30 / y)^(−0.99) each. */
    {"p=0.01 3 x 1e-30 f32", 0.01, 3, LC_F32, 3, {1e-30, 1e-30, 1e-30}, {5.15377520732011331e17}, {0}},
};

static void check_issue_case(const lp_case *c, bool pipeline) {
    lc_module *m = test_lppool(c->p, c->k, LC_STRIDE_UNSET, false);
    run_result r = run_module(m, c->dt, c->x, c->n, ones, pipeline);
    double rtol = c->dt == LC_F32 ? 1e-6 : 1e-12;
    double dx[4];
    memcpy(dx, c->dx, sizeof dx);
    if (c->p == 0.01) /* every element gets (|x|/y)^(p−1) = (1e-30 / y)^(−0.99) */
        for (int i = 0; i < 3; i++) dx[i] = pow(1e-30 / c->y[0], -0.99);
    if (c->x[1] == 5e-7) /* (1/2)^59 · (m/y)^59 with y/m = (1 + 2^-60)^(1/60) */
        dx[1] = 0x1p-59 * pow(1 + 0x1p-60, -59.0 / 60);
    if (c->x[0] == 3e19) /* f32 3e19 is not 3e19 */
        dx[1] = 1 / (double)(float)3e19;
    char what[96];
    snprintf(what, sizeof what, "%s%s y", c->name, pipeline ? " (pipeline)" : "");
    double y = c->dt == LC_F32 ? (double)(float)c->y[0] : c->y[0];
    if (c->x[0] == 3e19) y = (double)(float)3e19;
    expect_rel(r.y, &y, 1, rtol, what);
    snprintf(what, sizeof what, "%s%s dx", c->name, pipeline ? " (pipeline)" : "");
    /* The f64 gradient at p = 1e6 and 60 carries the error of 1/p − 1 as a double times
     * log2 of the window sum (exponent attributes are doubles). */
    double grad_rtol = c->dt == LC_F32 ? 1e-6 : 1e-12 + 8 * DBL_EPSILON * c->p * (1 + fabs(log2(fabs(c->x[0]))));
    expect_rel(r.dx, dx, c->n, grad_rtol, what);
    free_result(r);
    lc_module_free(m);
}

static void test_issue_lp_cases(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof issue_cases / sizeof issue_cases[0]; i++) {
        check_issue_case(&issue_cases[i], false);
        check_issue_case(&issue_cases[i], true);
    }
}

/* PyTorch accumulates AvgPool in double: the mean of two 3e38 is 3e38, not inf. */
static void test_avgpool_sum_does_not_overflow(void **state) {
    (void)state;
    for (int pipeline = 0; pipeline < 2; pipeline++) {
        lc_module *m = test_avgpool(2, LC_STRIDE_UNSET, 0, false, true);
        run_result r = run_module(m, LC_F32, (double[]){3e38, 3e38}, 2, ones, pipeline);
        expect_rel(r.y, (double[]){(double)(float)3e38}, 1, 0, "avg f32 y");
        expect_rel(r.dx, (double[]){0.5, 0.5}, 2, 0, "avg f32 dx");
        free_result(r);
        r = run_module(m, LC_F64, (double[]){DBL_MAX, DBL_MAX}, 2, ones, pipeline);
        expect_rel(r.y, (double[]){DBL_MAX}, 1, 0, "avg f64 y");
        free_result(r);
        lc_module_free(m);
    }
}

/* ---------------------------------------------------------------- random windows */

/* y = m·(Σ(|x|/m)^p)^(1/p), m the window's max |x|; 0 for an all-zero window. */
static double reference_norm(const double *x, int64_t k, double p) {
    double m = 0, acc = 0;
    for (int64_t j = 0; j < k; j++) m = fmax(m, fabs(x[j]));
    if (m == 0) return 0;
    for (int64_t j = 0; j < k; j++) acc += pow(fabs(x[j]) / m, p);
    return m * pow(acc, 1 / p);
}

/* (a/m)^e for 0 < a ≤ m, also where a/m underflows (a = 1e-300, m = 1e300): with p close
 * to 1, e = p − 1 is tiny and the power close to 1, not 0. */
static double ratio_pow(double a, double m, double e) {
    double r = a / m;
    if (r >= DBL_MIN) return pow(r, e);
    return exp2(e * (log2(a) - log2(m)));
}

/* dx[j] = Σ_o g[o]·sign(x[j])·(|x[j]|/m)^(p−1)·(m/y)^(p−1), each factor ≤ 1 and finite. */
static void reference(const double *x, int64_t l, int64_t k, int64_t s, double p, const double *g, double *y,
                      double *dx) {
    int64_t windows = (l - k) / s + 1;
    for (int64_t j = 0; j < l; j++) dx[j] = 0;
    for (int64_t o = 0; o < windows; o++) {
        const double *wx = x + o * s;
        y[o] = reference_norm(wx, k, p);
        double m = 0;
        for (int64_t j = 0; j < k; j++) m = fmax(m, fabs(wx[j]));
        if (m == 0) continue;
        for (int64_t j = 0; j < k; j++) {
            if (wx[j] == 0) continue;
            double sg = wx[j] > 0 ? 1 : -1;
            dx[o * s + j] += g[o] * sg * ratio_pow(fabs(wx[j]), m, p - 1) * pow(m / y[o], p - 1);
        }
    }
}

/* |x| = 10^u, u uniform over [lo, hi], random sign, a few exact zeros. */
static double spread_value(test_rng *r, double lo, double hi) {
    if (test_rng_int(r, 0, 15) == 0) return 0;
    double v = pow(10, test_rng_uniform(r, lo, hi));
    return test_rng_int(r, 0, 1) ? v : -v;
}

static const double random_p[] = {1, 1.0000001, 2, 2.5, 3, 7, 60, 1e6};

/* Allowed error, relative: the output's rounding and, for the gradient, p times the relative
 * error of the double exponent attributes (1/p, 1/p − 1, p − 1) and of the reference's m/y,
 * each amplified by log2 of the magnitudes involved; plus one subnormal step of the output
 * type (an output that rounds to a subnormal has that absolute error, and no more). */
static void compare_random(const lc_tensor *got, const double *want, int64_t n, double rtol, double tiny,
                           const char *what, double p, double *worst) {
    for (int64_t i = 0; i < n; i++) {
        double g = lc_tensor_get(got, i), want_i = want[i];
        if (got->dtype == LC_F32) want_i = (double)(float)want_i;
        if (isinf(want_i) && g == want_i) continue;
        double err = fabs(g - want_i);
        if (!(err <= rtol * fabs(want_i) + tiny))
            fail_msg("%s p=%.17g [%lld]: got %.17g, want %.17g (rtol %g)", what, p, (long long)i, g, want_i, rtol);
        if (want_i != 0 && fabs(want_i) > 1e3 * tiny && err / fabs(want_i) > *worst) *worst = err / fabs(want_i);
    }
}

static void random_windows(lc_dtype dt, bool pipeline) {
    test_rng r = test_rng_seeded(dt == LC_F32 ? 31 : 32);
    double lo = dt == LC_F32 ? -40 : -300, hi = dt == LC_F32 ? log10(3e38) : 300;
    double tiny = dt == LC_F32 ? 0x1p-149 : 2 * 0x1p-1074;
    for (size_t pi = 0; pi < sizeof random_p / sizeof random_p[0]; pi++) {
        double p = random_p[pi], worst_y = 0, worst_dx = 0;
        for (int trial = 0; trial < 12; trial++) {
            int64_t k = test_rng_int(&r, 1, 5), s = test_rng_int(&r, 1, k), l = test_rng_int(&r, k, 20);
            double x[20], g[20], y[20], dx[20];
            /* a window's magnitudes either spread over the whole range or close to each other
             * (near ties, where the large-p gradient is delicate) */
            bool close = trial % 3 == 0;
            double centre = test_rng_uniform(&r, lo + 1, hi - 1);
            for (int64_t j = 0; j < l; j++) {
                x[j] = close ? spread_value(&r, centre - 0.001, centre + 0.001) : spread_value(&r, lo, hi);
                if (dt == LC_F32) x[j] = (double)(float)x[j];
            }
            int64_t windows = (l - k) / s + 1;
            for (int64_t o = 0; o < windows; o++) /* positive seeds: no cancellation in dx */
                g[o] = dt == LC_F32 ? (double)(float)test_rng_uniform(&r, 0.5, 2) : test_rng_uniform(&r, 0.5, 2);
            reference(x, l, k, s, p, g, y, dx);
            lc_module *m = test_lppool(p, k, s, false);
            lc_shape sh = test_shape3(1, 1, l), ysh;
            assert_ok(lc_module_output_shape(m, sh, &ysh));
            lc_graph *fg, *ad;
            assert_ok(lc_module_graph(m, dt, sh, &fg));
            if (pipeline) {
                lc_pipeline_options opts = lc_pipeline_options_default();
                assert_ok(lc_pipeline_run_default(fg, true, &opts, &ad));
            } else {
                assert_ok(lc_autodiff(fg, NULL, 0, NULL, 0, &ad));
            }
            lc_tensor *in[2], *out[2];
            assert_ok(lc_tensor_from_doubles(dt, sh, x, &in[0]));
            assert_ok(lc_tensor_from_doubles(dt, ysh, g, &in[1]));
            assert_ok(lc_interp_run(ad, (const lc_tensor *const *)in, 2, out, 2));
            double log_mag = 1; /* 1 + the largest |log2 |x|| */
            for (int64_t j = 0; j < l; j++)
                if (x[j] != 0) log_mag = fmax(log_mag, 1 + fabs(log2(fabs(x[j]))));
            double rtol_y = dt == LC_F32 ? 1e-6 : 1e-12;
            double rtol_dx = (dt == LC_F32 ? 1e-6 : 1e-12) + 4 * DBL_EPSILON * p * log_mag;
            char what[64];
            snprintf(what, sizeof what, "%s%s trial %d", lc_dtype_name(dt), pipeline ? " pipeline" : "", trial);
            if (getenv("DEBUG_WIDE")) {
                fprintf(stderr, "l=%lld k=%lld s=%lld\n", (long long)l, (long long)k, (long long)s);
                for (int64_t j = 0; j < l; j++) fprintf(stderr, " x=%g dx=%g got=%g\n", x[j], dx[j], lc_tensor_get(out[1], j));
            }
            compare_random(out[0], y, windows, rtol_y, tiny, what, p, &worst_y);
            compare_random(out[1], dx, l, rtol_dx, tiny, what, p, &worst_dx);
            for (int q = 0; q < 2; q++) {
                lc_tensor_free(in[q]);
                lc_tensor_free(out[q]);
            }
            lc_graph_free(ad);
            lc_graph_free(fg);
            lc_module_free(m);
        }
        print_message("%s%s p=%.8g: worst relative error y %.3g, dx %.3g\n", lc_dtype_name(dt),
                      pipeline ? " (pipeline)" : "", p, worst_y, worst_dx);
    }
}

static void test_random_windows_f64(void **state) {
    (void)state;
    random_windows(LC_F64, false);
    random_windows(LC_F64, true);
}

static void test_random_windows_f32(void **state) {
    (void)state;
    random_windows(LC_F32, false);
    random_windows(LC_F32, true);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ops_match_ieee_on_doubles),
        cmocka_unit_test(test_no_overflow_inside),
        cmocka_unit_test(test_pow_specials_match_c),
        cmocka_unit_test(test_pow_against_powl),
        cmocka_unit_test(test_pow_integer_against_binary_powering),
        cmocka_unit_test(test_pow_round_trips),
        cmocka_unit_test(test_rounding_to_double_and_float),
        cmocka_unit_test(test_issue_lp_cases),
        cmocka_unit_test(test_avgpool_sum_does_not_overflow),
        cmocka_unit_test(test_random_windows_f64),
        cmocka_unit_test(test_random_windows_f32),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
