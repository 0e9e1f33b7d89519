/* The JIT's LP norms and AvgPool sums at every magnitude, forward and gradient, float32 and
 * float64, against the wide-exponent interpreter (the oracle, exact at every magnitude) or,
 * where p is so large that the interpreter's double mantissa no longer resolves |x|/y, against
 * the exact value of a tie. Judged by relative error with no absolute floor: a result that
 * underflowed to 0, or overflowed to inf, where the oracle has a finite nonzero value fails.
 *
 * A case the JIT still gets wrong is marked PENDING: it runs, its mismatches are printed and do
 * not fail the test, and it fails as soon as it passes (so the mark is removed with the fix). */
#include <float.h>
#include <inttypes.h>
#include <math.h>

#include "codegen/codegen.h"
#include "jit_harness.h"
#include "lucid/passes.h"

enum { CHECKED = 0, PENDING = 1 };

/* Mismatches of got against want: within rtol·|want|; 0, inf and NaN only match themselves.
 * A subnormal want holds fewer bits than rtol asks, so it may also be one unit of its last
 * place off (a result rounded once from a value a few normal ulps off the exact one); 0 for
 * a subnormal want is wrong. The first few are printed. */
static int count_mismatches(const lc_tensor *got, const lc_tensor *want, double rtol, const char *what) {
    int64_t n = lc_shape_numel(&want->shape);
    double least = want->dtype == LC_F32 ? FLT_MIN : DBL_MIN;
    double unit = want->dtype == LC_F32 ? 0x1p-149 : 0x1p-1074; /* a subnormal's last place */
    int bad = 0;
    for (int64_t i = 0; i < n; i++) {
        double g = lc_tensor_get(got, i), w = lc_tensor_get(want, i);
        bool ok = isnan(w) ? isnan(g) : (g == w || fabs(g - w) <= rtol * fabs(w));
        if (!ok && fabs(w) < least) ok = fabs(g - w) <= rtol * fabs(w) + unit;
        if (!ok && bad++ < 4)
            print_message("  %s [%" PRId64 "]: jit %.9g, want %.9g\n", what, i, g, w);
    }
    return bad;
}

/* A checked case must have no mismatch; a pending one must still have some. */
static void judge(int bad, int pending, const char *what) {
    if (pending == CHECKED && bad) fail_msg("%s: %d values wrong", what, bad);
    if (pending == PENDING && !bad) fail_msg("%s: marked pending but now right: unmark it", what);
    if (pending == PENDING) print_message("pending (still wrong): %s\n", what);
}

/* f64: 1e-7, since p = 1e6 multiplies the last-bit rounding of |x|/y by p - 1 */
static double rtol_of(lc_dtype dt) { return dt == LC_F32 ? 1e-4 : 1e-7; }

/* The graph of the default pipeline (autodiff, then simplify's stable LP backward), as
 * lc_drive builds it: inputs x and the seed, outputs y and dx. */
static lc_graph *train_graph(const lc_module *m, lc_dtype dt, lc_shape shape) {
    lc_graph *fwd = jit_module_graph(m, dt, shape, false), *g;
    assert_ok(lc_pipeline_run_default(fwd, true, NULL, &g));
    lc_graph_free(fwd);
    assert_int_equal(lc_graph_input_count(g), 2);
    assert_int_equal(lc_graph_output_count(g), 2);
    return g;
}

/* Inputs x = vals and seed ones. */
static void make_inputs(const lc_graph *g, const double *vals, lc_tensor **in) {
    for (int i = 0; i < 2; i++) {
        const lc_node *node = lc_graph_node(g, lc_graph_input(g, i));
        assert_ok(lc_tensor_new(node->dtype, node->shape, &in[i]));
        int64_t k = lc_shape_numel(&node->shape);
        for (int64_t j = 0; j < k; j++) lc_tensor_set(in[i], j, i == 0 ? vals[j] : 1.0);
    }
}

/* y and dx on the JIT with 1 and 2 threads (asserted bit-identical); out[0..1] owned by the
 * caller. */
static void run_jit(const lc_graph *g, lc_tensor **in, lc_tensor **out, const char *what) {
    out[0] = out[1] = NULL;
    for (int threads = 1; threads <= 2; threads++) {
        lc_compile_options o = lc_compile_options_default();
        o.threads = threads;
        lc_program *p;
        assert_ok(lc_compile(g, &o, &p));
        lc_tensor *got[2];
        assert_ok(lc_program_run(p, (const lc_tensor *const *)in, 2, got, 2));
        for (int i = 0; i < 2; i++) {
            if (!out[i]) {
                out[i] = got[i];
                continue;
            }
            if (!jit_bits_equal(got[i], out[i])) fail_msg("%s: 1 and 2 threads differ", what);
            lc_tensor_free(got[i]);
        }
        lc_program_free(p);
    }
}

/* Forward y and gradient dx (seed ones) of module `m` on x = vals (shape (1, c, n / c)),
 * JIT against the interpreter. */
static void check_values(lc_module *m, lc_dtype dt, const double *vals, int64_t n, int64_t c,
                         const char *what, int pending) {
    lc_graph *g = train_graph(m, dt, test_shape3(1, c, n / c));
    lc_tensor *in[2], *want[2], *got[2];
    make_inputs(g, vals, in);
    assert_ok(lc_interp_run(g, (const lc_tensor *const *)in, 2, want, 2));
    char label[200];
    snprintf(label, sizeof label, "%s %s", what, lc_dtype_name(dt));
    run_jit(g, in, got, label);
    int bad = count_mismatches(got[0], want[0], rtol_of(dt), "y") +
              count_mismatches(got[1], want[1], rtol_of(dt), "dx");
    judge(bad, pending, label);
    for (int i = 0; i < 2; i++) {
        lc_tensor_free(in[i]);
        lc_tensor_free(want[i]);
        lc_tensor_free(got[i]);
    }
    lc_graph_free(g);
}

static void check_lp(double p, int64_t k, const double *vals, int64_t n, lc_dtype dt, int pending) {
    lc_module *m = test_lppool(p, k, LC_STRIDE_UNSET, false);
    char what[120];
    snprintf(what, sizeof what, "LPPool1d(%.9g, %" PRId64 ") on [%g, %g, ...]", p, k, vals[0], vals[1]);
    check_values(m, dt, vals, n, 1, what, pending);
    lc_module_free(m);
}

/* A flagged window early in a row whose vectorized runs leave a remainder: the forward's 69
 * outputs run as 8 trips of 8 and one more run of 8 ending at the row's end (emit_kernel.c,
 * emit_vector_runs). The fix-up function must redo the window the first run flagged; when the
 * flag was cleared per run, the last run hid it and y[10] came out 0. (Forward only: with its
 * backward, the pool is one window-major kernel.) */
static void lp_flag_before_last_run(void **state) {
    (void)state;
    lc_module *m = test_lppool(2, 2, LC_STRIDE_UNSET, false);
    for (int d = 0; d < 2; d++) {
        lc_dtype dt = (lc_dtype)d;
        lc_graph *g = jit_module_graph(m, dt, test_shape3(1, 1, 138), false);
        lc_tensor *x;
        assert_ok(lc_tensor_new(dt, test_shape3(1, 1, 138), &x));
        for (int64_t i = 0; i < 138; i++) lc_tensor_set(x, i, 1.0 + (double)(i % 5));
        double tiny = dt == LC_F32 ? 1e-25 : 1e-170; /* its square underflows */
        lc_tensor_set(x, 20, tiny);
        lc_tensor_set(x, 21, -tiny);
        jit_check_graph_inputs(g, &x, rtol_of(dt), 0.0);
        lc_tensor_free(x);
        lc_graph_free(g);
    }
    lc_module_free(m);
}

/* Each case in float32 and float64: the ones that leave f32's range are ordinary in f64,
 * which still checks the plain path there. */
static void lp_magnitudes(void **state) {
    (void)state;
    for (int d = 0; d < 2; d++) {
        lc_dtype dt = (lc_dtype)d;
        int f32 = CHECKED;
        check_lp(8, 2, (double[]){1e5, 0}, 2, dt, f32);
        check_lp(2, 2, (double[]){1e-25, -1e-25}, 2, dt, f32);
        check_lp(2, 2, (double[]){3e19, 1}, 2, dt, f32);
        check_lp(2.5, 2, (double[]){1e-30, -2e-30}, 2, dt, f32);
        check_lp(4, 2, (double[]){1e-30, 3e-31}, 2, dt, f32);
        check_lp(7, 2, (double[]){-1e-30, 1e-30}, 2, dt, f32);
        check_lp(2.5, 2, (double[]){1e30, 2e29}, 2, dt, f32);
        check_lp(4, 2, (double[]){1e10, -1e10}, 2, dt, f32);
        check_lp(7, 2, (double[]){1e20, 3e19}, 2, dt, f32);
        check_lp(1.0000001, 2, (double[]){1e-44, -3e-42}, 2, dt, f32);
        check_lp(0.01, 3, (double[]){1e-30, 1e-30, 1e-30}, 3, dt, f32);
        check_lp(2, 2, (double[]){1, 2}, 2, dt, CHECKED); /* the plain path */
        check_lp(2, 4, (double[]){0, 0, 0, 0, 1e-30, 0, 0, 0}, 8, dt, f32); /* all-zero window beside */
    }
    check_lp(2, 2, (double[]){1e200, 1e200}, 2, LC_F64, CHECKED);
    check_lp(2, 2, (double[]){1e-200, -1e-170}, 2, LC_F64, CHECKED);
    check_lp(7, 2, (double[]){1e-300, 3e-301}, 2, LC_F64, CHECKED);
    check_lp(2.5, 2, (double[]){5e-324, -1e-300}, 2, LC_F64, CHECKED);
}

/* The cases the interpreter itself got wrong before it carried a wide exponent: large p on
 * ordinary values. The JIT scales these (p > 8) and must agree. */
static void lp_large_p(void **state) {
    (void)state;
    for (int d = 0; d < 2; d++) {
        lc_dtype dt = (lc_dtype)d;
        check_lp(1e6, 2, (double[]){2, 1}, 2, dt, CHECKED);
        check_lp(60, 2, (double[]){1e6, 0.5}, 2, dt, CHECKED);
        check_lp(60, 2, (double[]){1e-6, 5e-7}, 2, dt, CHECKED);
    }
}

/* Near-tied maxima at p >= 1e6: (|x|/y)^(p-1) multiplies the rounding of |x|/y by p, so an
 * f32 quotient (6e-8) is worth 6% of the gradient there; against the interpreter. */
static void lp_near_ties(void **state) {
    (void)state;
    check_lp(1e6, 2, (double[]){1, 0.99999994}, 2, LC_F32, CHECKED);
    check_lp(1e6, 3, (double[]){3, -2.9999998, 2.9999995}, 3, LC_F32, CHECKED);
    check_lp(1e6, 2, (double[]){1, 0.9999999999}, 2, LC_F64, CHECKED);
}

/* Exact ties at p = 1e9 .. 1e15: every tied element's gradient is t^(1/p - 1) for t ties (a
 * half each for two), and y = |x|·t^(1/p). Beyond the interpreter (its quotient |x|/y carries
 * 53 bits, which p = 1e15 amplifies past 10%), so the reference is that closed form. */
static void lp_huge_p_ties(void **state) {
    (void)state;
    const double ps[] = {1e9, 1e12, 1e15};
    for (int d = 0; d < 2; d++)
        for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
            lc_dtype dt = (lc_dtype)d;
            double p = ps[i], a = 3.0;
            lc_module *m = test_lppool(p, 2, LC_STRIDE_UNSET, false);
            lc_graph *g = train_graph(m, dt, test_shape3(1, 1, 2));
            lc_tensor *in[2], *got[2], *want[2];
            make_inputs(g, (double[]){a, -a}, in);
            char label[120];
            snprintf(label, sizeof label, "LPPool1d(%g, 2) on a tie %s", p, lc_dtype_name(dt));
            run_jit(g, in, got, label);
            assert_ok(lc_tensor_from_doubles(dt, test_shape3(1, 1, 1), (double[]){a * exp2(1 / p)}, &want[0]));
            double share = exp2(1 / p - 1);
            assert_ok(lc_tensor_from_doubles(dt, test_shape3(1, 1, 2), (double[]){share, -share}, &want[1]));
            int bad = count_mismatches(got[0], want[0], rtol_of(dt), "y") +
                      count_mismatches(got[1], want[1], rtol_of(dt), "dx");
            judge(bad, CHECKED, label);
            for (int q = 0; q < 2; q++) {
                lc_tensor_free(in[q]);
                lc_tensor_free(got[q]);
                lc_tensor_free(want[q]);
            }
            lc_graph_free(g);
            lc_module_free(m);
        }
}

/* Two 3e38 average to 3e38, two 1.7e308 to 1.7e308 (a window whose plain sum overflows is
 * flagged and redone in the fix-up as a compensated sum of terms scaled by a power of two, so
 * no sum of finite terms overflows where the mean fits). */
static void avgpool_sum_range(void **state) {
    (void)state;
    lc_module *m = test_avgpool(2, LC_STRIDE_UNSET, 0, false, true);
    check_values(m, LC_F32, (double[]){3e38, 3e38, -3e38, -2e38}, 4, 1, "AvgPool1d(2)", CHECKED);
    check_values(m, LC_F64, (double[]){1.7e308, 1.7e308, -1.7e308, -1e308}, 4, 1, "AvgPool1d(2)", CHECKED);
    lc_module_free(m);
    /* long enough rows that the vectorized loop (not only the scalar edges) meets windows
     * that overflow, hold inf, -inf or NaN, or are ordinary: the flagged windows come from the
     * fix-up, the others stay plain; an unrolled window, vector partial sums (k = 20), and a
     * per-window divisor (count_include_pad=False) */
    enum { N = 96 };
    double vals[N];
    for (int i = 0; i < N; i++) vals[i] = i % 11 == 5 ? -1.5 * i : (i % 2 ? 3e38 : 2.9e38);
    vals[40] = INFINITY;
    vals[57] = -INFINITY;
    vals[58] = INFINITY;
    vals[77] = NAN;
    lc_module *mods[] = {test_avgpool(3, 1, 1, false, true), test_avgpool(20, 3, 0, false, true),
                         test_avgpool(4, 2, 2, true, false)};
    const char *names[] = {"AvgPool1d(3, 1, 1)", "AvgPool1d(20, 3)", "AvgPool1d(4, 2, 2, ceil, cip=False)"};
    for (int j = 0; j < 3; j++) {
        check_values(mods[j], LC_F32, vals, N, 1, names[j], CHECKED);
        lc_module_free(mods[j]);
    }
}

/* A chain of 24 AvgPool1d(1) fuses into one kernel whose rescued window sums nest. The fix-up
 * evaluates each window's terms once for the plain and the compensated sum: evaluating them
 * again for a rescue at each level would make the kernel's code exponential in the chain's
 * length (2^24 copies: this test would not finish). Infinities and a NaN make the fix-up
 * run on windows of the vectorized loop too. */
static void avgpool_chain_of_rescued_sums(void **state) {
    (void)state;
    lc_module *seq;
    assert_ok(lc_sequential_new(&seq));
    for (int i = 0; i < 24; i++) assert_ok(lc_sequential_append(seq, test_avgpool(1, LC_STRIDE_UNSET, 0, false, true)));
    enum { N = 80 };
    double vals[N];
    for (int i = 0; i < N; i++) vals[i] = i % 3 ? 3.3e38 : -1.25 * i;
    vals[33] = INFINITY;
    vals[50] = -INFINITY;
    vals[61] = NAN;
    check_values(seq, LC_F32, vals, N, 1, "24 x AvgPool1d(1)", CHECKED);
    lc_module_free(seq);
}

/* The fuzz finding: AvgPool1d(1, count_include_pad=False) then AvgPool1d(6, 1, 2,
 * ceil_mode=True) on f32 values of scale 100, where f32 window sums cancel to a result 6e-4
 * off in relative terms; the interpreter sums in double. The JIT's window sum is a plain f32
 * sum, as PyTorch's float kernel's is: its error bound is relative to the sum of |terms|, not
 * to the result, so each value is judged within 8 eps of the same pipeline run on |x| (both
 * pools are sums with nonnegative weights, so that is the weighted sum of |terms|). */
static int count_cancellation_mismatches(const lc_tensor *got, const lc_tensor *want, const lc_tensor *abs_want) {
    int64_t n = lc_shape_numel(&want->shape);
    int bad = 0;
    for (int64_t i = 0; i < n; i++) {
        double g = lc_tensor_get(got, i), w = lc_tensor_get(want, i), a = lc_tensor_get(abs_want, i);
        if (!(fabs(g - w) <= 8.0 * FLT_EPSILON * a) && bad++ < 4)
            print_message("  cancellation y [%" PRId64 "]: jit %.9g, want %.9g, sum |terms| %.9g\n", i, g, w, a);
    }
    return bad;
}

static void avgpool_cancellation(void **state) {
    (void)state;
    lc_module *first = test_avgpool(1, LC_STRIDE_UNSET, 0, false, false);
    lc_module *second = test_avgpool(6, 1, 2, true, true);
    lc_module *seq;
    assert_ok(lc_sequential_new(&seq));
    assert_ok(lc_sequential_append(seq, first));
    assert_ok(lc_sequential_append(seq, second));
    lc_graph *g = jit_module_graph(seq, LC_F32, test_shape3(1, 3, 6), false);
    int bad = 0;
    for (uint64_t seed = 1; seed <= 40; seed++) {
        test_rng r = test_rng_seeded(seed);
        lc_tensor **in = jit_random_inputs(g, &r, 100.0);
        lc_tensor **abs_in = jit_random_inputs(g, &r, 100.0);
        int64_t n = lc_shape_numel(&in[0]->shape);
        for (int64_t i = 0; i < n; i++) lc_tensor_set(abs_in[0], i, fabs(lc_tensor_get(in[0], i)));
        lc_tensor *want, *abs_want, *got;
        assert_ok(lc_interp_run(g, (const lc_tensor *const *)in, 1, &want, 1));
        assert_ok(lc_interp_run(g, (const lc_tensor *const *)abs_in, 1, &abs_want, 1));
        lc_program *p;
        assert_ok(lc_compile(g, NULL, &p));
        assert_ok(lc_program_run(p, (const lc_tensor *const *)in, 1, &got, 1));
        bad += count_cancellation_mismatches(got, want, abs_want);
        lc_tensor_free(got);
        lc_tensor_free(want);
        lc_tensor_free(abs_want);
        jit_free_tensors(abs_in, 1);
        lc_program_free(p);
        jit_free_tensors(in, 1);
    }
    judge(bad, CHECKED, "AvgPool1d(1) -> AvgPool1d(6, 1, 2, ceil) f32 cancellation");
    lc_graph_free(g);
    lc_module_free(seq);
}

/* The LP gradient where (|x|/y)^(p-1) is taken by exp2/log2, which flushes below the normal
 * range: a general p in the vectorized loop's short normal-range power (2.7, 6.3:
 * lc_lp_ratio_schedule.short_pow) or the full one (float64), and p = 6, 7, 8, whose y takes
 * the Newton root (emit_scaled_signed_ratio). One element per window 2^-d below the others,
 * d chosen so that (|x|/y)^(p-1) runs from a normal number through the subnormals to below
 * them (float32 2^-110 to 2^-160, float64 2^-1000 to 2^-1089). Such elements are flagged and
 * the fix-up takes their power where the type's subnormals are normal numbers (in double for
 * float32, as a square of the half power for float64), so a subnormal gradient comes out as
 * it should, not 0; in a window whose sum overflows too, the scaled form's. */
static void lp_gradient_short_power_flushes(void **state) {
    (void)state;
    enum { WINDOWS = 512, K = 4 };
    static double vals[WINDOWS * K];
    static const double ps[] = {2.7, 6.3, 6, 7, 8};
    /* then the same with the windows' largest elements 2^60 (float32) or 2^400 (float64):
     * their sums overflow, so the whole window is redone scaled, its powers too */
    for (int run = 0; run < 4; run++) {
        bool wide = run & 1, huge = run & 2;
        lc_dtype dt = wide ? LC_F64 : LC_F32;
        double first = wide ? 1000 : 110, span = wide ? 90 : 51;
        for (size_t c = 0; c < sizeof ps / sizeof ps[0]; c++) {
            double e = ps[c] - 1;
            for (int w = 0; w < WINDOWS; w++) {
                double big = ldexp(1.0 + (w % 7) / 8.0, -(w % 8) + (huge ? (wide ? 400 : 60) : 0));
                double d = (first + fmod(w, span)) / e; /* (2^-d)^e from 2^-first on down */
                vals[w * K + 0] = (w & 1) ? big : -big;
                vals[w * K + 1] = ((w & 2) ? 1.0 : -1.0) * exp2(-d) * big;
                vals[w * K + 2] = 0.75 * big;
                vals[w * K + 3] = -0.3 * big;
            }
            check_lp(ps[c], K, vals, WINDOWS * K, dt, CHECKED);
        }
    }
}

/* The LP gradient in the vectorized loop (a row long enough for it) of p = 3, 2.5, 4 and 3.5,
 * whose y takes the Newton root: windows with a small y (2^-24 to 2^-16, every sum normal) and
 * one element so small that |x|^(p-1) is below the normal range while (|x|/y)^(p-1) is a
 * normal number (2^-120 or more). The gradient scales |x| per window by a number near 1/y
 * before raising it (emit_expr.c, emit_scaled_signed_ratio); without that scale these elements
 * come out up to 2^-10 off, or 0. */
static void lp_gradient_tiny_beside_small(void **state) {
    (void)state;
    enum { WINDOWS = 512, K = 4 };
    static double vals[WINDOWS * K];
    /* p, and the tiny element's distance below the window's largest: (2^-d)^(p-1) >= 2^-120,
     * and 2^(-16-d) below 2^(-126/(p-1)) */
    static const struct {
        double p;
        int d_min, d_count;
    } cases[] = {{3, 48, 13}, {2.5, 69, 12}, {4, 27, 14}, {3.5, 35, 14}};
    for (int c = 0; c < 4; c++) {
        for (int w = 0; w < WINDOWS; w++) {
            double big = ldexp(1.0 + (w % 7) / 8.0, -17 - w % 8);
            vals[w * K + 0] = (w & 1) ? big : -big;
            vals[w * K + 1] = ldexp((w & 2) ? 1.3579 : -1.1234, -cases[c].d_min - w % cases[c].d_count) * big;
            vals[w * K + 2] = 0.75 * big;
            vals[w * K + 3] = -0.3 * big;
        }
        check_lp(cases[c].p, K, vals, WINDOWS * K, LC_F32, CHECKED);
    }
}

/* Random windows whose magnitudes spread over the type's whole range, clustered per window (so
 * a window's |x|^p leaves the range together), for every p of interest; k = 4, step 2
 * (overlapping: the gradient gathers two windows) and k = 3 (tiling). Capped below the type's
 * max by the window's worst growth (k^(1/p) <= 4): a window whose y overflows has an inf
 * result on both engines, but its gradient differs (the interpreter forms |x|/y from its
 * unrounded y). */
static void random_magnitudes(void **state) {
    (void)state;
    const double ps[] = {1, 1.0000001, 2, 2.5, 3, 7, 60, 1e6, 2.7};
    enum { C = 2, L = 48 };
    double vals[C * L];
    for (int d = 0; d < 2; d++) {
        lc_dtype dt = (lc_dtype)d;
        double lo = dt == LC_F32 ? -40 : -300, hi = dt == LC_F32 ? log10(3e38 / 4) : 300;
        for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++)
            for (int shape = 0; shape < 2; shape++) {
                test_rng r = test_rng_seeded(100 + i * 4 + (size_t)d * 2 + (size_t)shape);
                double centre = 0;
                for (int64_t j = 0; j < C * L; j++) {
                    if (j % 4 == 0) centre = test_rng_uniform(&r, lo, hi);
                    double e = fmin(hi, fmax(lo, centre + test_rng_uniform(&r, -1.5, 1.5)));
                    vals[j] = (test_rng_uniform(&r, 0, 1) < 0.5 ? -1 : 1) * pow(10, e);
                }
                lc_module *m = shape ? test_lppool(ps[i], 3, LC_STRIDE_UNSET, false)
                                     : test_lppool(ps[i], 4, 2, false);
                char what[96];
                snprintf(what, sizeof what, "random LPPool1d(%.9g, %s)", ps[i], shape ? "3" : "4, 2");
                /* p = 1 sums |x|, which leaves no range; p > 8 is always scaled */
                bool fine = true;
                check_values(m, dt, vals, C * L, C, what, fine ? CHECKED : PENDING);
                lc_module_free(m);
            }
    }
}

/* Worst relative error of y against the oracle's where the oracle's y is a normal number. */
static double worst_relative_error(const lc_tensor *got, const lc_tensor *want) {
    double worst = 0;
    for (int64_t i = 0; i < lc_shape_numel(&want->shape); i++) {
        double g = lc_tensor_get(got, i), w = lc_tensor_get(want, i);
        if (!(fabs(w) >= FLT_MIN && fabs(w) <= FLT_MAX)) continue;
        double err = fabs(g - w) / fabs(w);
        if (!(err <= worst)) worst = isnan(err) ? INFINITY : err;
    }
    return worst;
}

/* x of WINDOWS windows of 4 whose magnitudes sweep 1e-40 .. 3e38/4 (each window's elements
 * within a decade below its own: the top capped by the window's growth k^(1/p) <= 4). */
enum { SWEEP_WINDOWS = 2048 };
static void magnitude_sweep(double *vals, uint64_t seed) {
    test_rng r = test_rng_seeded(seed);
    double lo = -40, hi = log10(3e38 / 4);
    for (int w = 0; w < SWEEP_WINDOWS; w++) {
        double e = lo + (hi - lo) * w / (SWEEP_WINDOWS - 1);
        for (int k = 0; k < 4; k++)
            vals[w * 4 + k] = (test_rng_uniform(&r, 0, 1) < 0.5 ? -1 : 1) * pow(10, e - test_rng_uniform(&r, 0, 1));
    }
}

/* The float32 norm's error at every magnitude, for p that take each of its forms: the short
 * normal-range power (vmath.c, lc_vmath_pow_normal: 1.0000001, 1.3, 2.7, 5.5; the terms of 7),
 * the Newton root (2.5, 7), the scaled form (60). A forward alone, whose y nothing reads, takes
 * the short power's shorter polynomials (fuse: lc_lp_schedule.terms_poly): y within 2.5e-5 of
 * the oracle (1.6e-5 measured at p = 1.0000001, 1.4e-5 at 1.3: the terms' 5-coefficient log2,
 * 1.5e-5 absolute, puts y ln2 times that off); within 1e-5 where the target takes the AVX-512
 * form, whose log2 is a table and a 2-coefficient polynomial, 3.5e-6 absolute (7.0e-6
 * measured at p = 1.0000001, 6.3e-6 at 1.3). The half-integer p keep 2.5e-5: their terms take
 * the square root's estimate (2^-14/p off at worst), not this form. With its gradient
 * (LPPool1d(p, 4, 2): y read by the backward, which magnifies y's error) the longer ones: y
 * within 7e-6 (5e-6 modelled) and dx within the tolerance; 9e-6 for a target without FMA, whose
 * polynomials multiply and add in two roundings (7.8e-6 measured at p = 1.0000001; the ctest
 * entry test_jit_numerics_no_fma runs that target). */
static void lp_norm_error_by_magnitude(void **state) {
    (void)state;
    const char *triple, *cpu, *features;
    assert_ok(lc_codegen_target(&triple, &cpu, &features));
    double train_bound = strstr(features, "+fma") ? 7e-6 : 9e-6;
    bool avx512_form = strstr(features, "+avx512f") && strstr(features, "+avx512dq") && strstr(features, "+fma");
    const double ps[] = {1.0000001, 1.3, 2.5, 2.7, 5.5, 7, 60};
    static double vals[SWEEP_WINDOWS * 4];
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
        magnitude_sweep(vals, 300 + i);
        lc_module *m = test_lppool(ps[i], 4, LC_STRIDE_UNSET, false);
        lc_graph *g = jit_module_graph(m, LC_F32, test_shape3(1, 1, SWEEP_WINDOWS * 4), false);
        lc_tensor *x, *want, *got;
        assert_ok(lc_tensor_from_doubles(LC_F32, test_shape3(1, 1, SWEEP_WINDOWS * 4), vals, &x));
        assert_ok(lc_interp_run(g, (const lc_tensor *const *)&x, 1, &want, 1));
        lc_program *prog;
        assert_ok(lc_compile(g, NULL, &prog));
        assert_ok(lc_program_run(prog, (const lc_tensor *const *)&x, 1, &got, 1));
        double fwd = worst_relative_error(got, want);
        lc_tensor_free(got);
        lc_tensor_free(want);
        lc_program_free(prog);
        lc_tensor_free(x);
        lc_graph_free(g);
        lc_module_free(m);

        m = test_lppool(ps[i], 4, 2, false);
        g = train_graph(m, LC_F32, test_shape3(1, 1, SWEEP_WINDOWS * 4));
        lc_tensor *in[2], *want2[2], *got2[2];
        make_inputs(g, vals, in);
        assert_ok(lc_interp_run(g, (const lc_tensor *const *)in, 2, want2, 2));
        char label[120];
        snprintf(label, sizeof label, "LPPool1d(%.9g, 4, 2) on magnitudes 1e-40 .. 7.5e37", ps[i]);
        run_jit(g, in, got2, label);
        double train = worst_relative_error(got2[0], want2[0]);
        /* dx where it is a normal number: a subnormal one (p = 60 gives (|x|/y)^59 below
         * 2^-126) holds fewer bits than the tolerance asks */
        int bad = 0;
        for (int64_t j = 0; j < lc_shape_numel(&want2[1]->shape); j++) {
            double gj = lc_tensor_get(got2[1], j), wj = lc_tensor_get(want2[1], j);
            if (fabs(wj) >= FLT_MIN && !(fabs(gj - wj) <= rtol_of(LC_F32) * fabs(wj)) && bad++ < 4)
                print_message("  dx [%" PRId64 "]: jit %.9g, want %.9g\n", j, gj, wj);
        }
        print_message("LPPool1d(%.9g, 4): y's worst relative error %.3g forward alone, %.3g with its gradient\n", ps[i],
                      fwd, train);
        double fwd_bound = avx512_form && ps[i] - floor(ps[i]) != 0.5 ? 1e-5 : 2.5e-5;
        if (!(fwd <= fwd_bound)) fail_msg("LPPool1d(%.9g, 4) forward: y %.3g off", ps[i], fwd);
        if (!(train <= train_bound)) fail_msg("%s: y %.3g off", label, train);
        judge(bad, CHECKED, label);
        for (int q = 0; q < 2; q++) {
            lc_tensor_free(in[q]);
            lc_tensor_free(want2[q]);
            lc_tensor_free(got2[q]);
        }
        lc_graph_free(g);
        lc_module_free(m);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lp_magnitudes),
        cmocka_unit_test(lp_flag_before_last_run),
        cmocka_unit_test(lp_large_p),
        cmocka_unit_test(lp_near_ties),
        cmocka_unit_test(lp_huge_p_ties),
        cmocka_unit_test(avgpool_sum_range),
        cmocka_unit_test(avgpool_chain_of_rescued_sums),
        cmocka_unit_test(avgpool_cancellation),
        cmocka_unit_test(lp_gradient_tiny_beside_small),
        cmocka_unit_test(lp_gradient_short_power_flushes),
        cmocka_unit_test(random_magnitudes),
        cmocka_unit_test(lp_norm_error_by_magnitude),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
