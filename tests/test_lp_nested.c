/* LPPool2d's norm of norms (passes/kernel.h, lc_lp_schedule.terms_from_sums). LPPool2d is the
 * columns' p-norm of the rows' p-norms; where both are flagged norms of one kernel, every loop
 * that takes the plain form takes the columns' terms |y_row|^p as the rows' sums S_row (the
 * same value in exact arithmetic), so neither the rows' roots nor their powers are evaluated.
 * Pinned here: fuse records it for LPPool2d (and nothing else takes it), and the values: a
 * window whose rows' sums underflow to 0 or overflow is still redone (its flag ORs the rows'
 * elements' bits, not the sums'), judged against a float64 reference by relative error with
 * no absolute floor, at every magnitude, float32 and float64, forward and with the gradient
 * against the interpreter. */
#include <float.h>

#include "jit_harness.h"

/* The nested norms fuse records in `spec`'s forward (or forward+backward) kernels. */
static int nested_norms(const char *spec, bool backward) {
    lc_fused *f = jit_fuse_module(jit_parse_module(spec), test_shape4(2, 3, 12, 10), backward);
    int nested = 0;
    for (int k = 0; k < f->n_kernels; k++) {
        const lc_kernel *K = &f->kernels[k];
        for (int i = 0; i < K->sched.n_lp_norms; i++) {
            const lc_lp_schedule *lp = &K->sched.lp_norms[i];
            if (lp->terms_from_sums < 0) continue;
            /* the inner root is another flagged norm of the kernel, of the same p */
            const lc_lp_schedule *inner = lc_kernel_lp_norm(K, lp->terms_from_sums);
            assert_non_null(inner);
            assert_true(inner != lp && inner->mode == LC_LP_FLAGGED && inner->norm.p == lp->norm.p);
            assert_int_equal(lp->terms_form, LC_LP_POW_GENERAL);
            nested++;
        }
    }
    lc_fused_free(f);
    return nested;
}

static void fuse_takes_the_rows_sums(void **state) {
    (void)state;
    const char *flagged[] = {"LPPool2d(2, 2)", "LPPool2d(2.7, 2)", "LPPool2d(3, (3, 2))",
                             "LPPool2d(1.5, (2, 3), ceil_mode=True)", "LPPool2d(2.5, (2, 3), (2, 1))"};
    for (size_t i = 0; i < sizeof flagged / sizeof *flagged; i++)
        for (int backward = 0; backward < 2; backward++)
            if (nested_norms(flagged[i], backward) != 1)
                fail_msg("%s%s: no nested norm", flagged[i], backward ? " forward+backward" : " forward");
    /* rows' windows overlapping (3 rows, step 2): the rows' norms are materialized by a kernel
     * of their own, read by the columns' one, so there is no sum to take */
    assert_int_equal(nested_norms("LPPool2d(3, (3, 2), (2, 1))", false), 0);
    /* the scaled norms (p outside [1/8, 8]) keep their own form: nothing to cancel */
    assert_int_equal(nested_norms("LPPool2d(20, 2)", false), 0);
    assert_int_equal(nested_norms("LPPool2d(0.05, 2)", false), 0);
}

/* float64 reference of LPPool2d(p, (kh, kw), (sh, sw)) (no ceil mode) over x (h, w) at window
 * (oh, ow): the plain norm of the elements, scaled by their max; NaN or inf as IEEE gives. */
static double reference(const double *x, int64_t w, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t oh,
                        int64_t ow, double p) {
    double m = 0;
    bool nan = false;
    for (int64_t i = 0; i < kh; i++)
        for (int64_t j = 0; j < kw; j++) {
            double v = fabs(x[(oh * sh + i) * w + ow * sw + j]);
            if (isnan(v)) nan = true;
            else if (v > m) m = v;
        }
    if (nan) return NAN;
    if (m == 0 || isinf(m)) return m;
    double s = 0;
    for (int64_t i = 0; i < kh; i++)
        for (int64_t j = 0; j < kw; j++) s += pow(fabs(x[(oh * sh + i) * w + ow * sw + j]) / m, p);
    return m * pow(s, 1 / p);
}

/* Run `spec` (kernel kh x kw, stride sh x sw) forward on x (1, 1, h, w), float32 or float64,
 * and compare every window with the reference: relative error at most `rtol`, no absolute
 * floor (a true 2e-30 given as 0 fails); a reference past the type's range must be inf. */
static void check_windows(const char *spec, double p, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                          const double *x, int64_t h, int64_t w, lc_dtype dt, double rtol) {
    lc_module *m = jit_parse_module(spec);
    lc_graph *g;
    assert_ok(lc_module_graph(m, dt, test_shape4(1, 1, h, w), &g));
    lc_tensor *in;
    assert_ok(lc_tensor_new(dt, test_shape4(1, 1, h, w), &in));
    for (int64_t i = 0; i < h * w; i++) {
        if (dt == LC_F32) ((float *)in->data)[i] = (float)x[i];
        else ((double *)in->data)[i] = x[i];
    }
    lc_program *prog;
    assert_ok(lc_compile(g, NULL, &prog));
    lc_tensor *out = NULL;
    assert_ok(lc_program_run(prog, (const lc_tensor *const *)&in, 1, &out, 1));
    int64_t oh_n = (h - kh) / sh + 1, ow_n = (w - kw) / sw + 1;
    double top = dt == LC_F32 ? FLT_MAX : DBL_MAX;
    for (int64_t oh = 0; oh < oh_n; oh++)
        for (int64_t ow = 0; ow < ow_n; ow++) {
            double want = reference(x, w, kh, kw, sh, sw, oh, ow, p);
            if (dt == LC_F32) want = (double)(float)want; /* as the type holds it */
            double got = dt == LC_F32 ? ((float *)out->data)[oh * ow_n + ow] : ((double *)out->data)[oh * ow_n + ow];
            bool ok = isnan(want) ? isnan(got) : fabs(want) > top || isinf(want) ? isinf(got) && got > 0
                                                                                : fabs(got - want) <= rtol * fabs(want);
            if (!ok)
                fail_msg("%s %s window (%lld, %lld): got %.9g, want %.9g", spec, dt == LC_F32 ? "f32" : "f64",
                         (long long)oh, (long long)ow, got, want);
        }
    lc_tensor_free(out);
    lc_tensor_free(in);
    lc_program_free(prog);
    lc_graph_free(g);
    lc_module_free(m);
}

/* Windows whose rows' sums leave the range while the norm does not, each kind run on its own
 * (one flagged window sends the whole run through the fix-up, which would hide a window the
 * plain pass failed to flag): tiny rows (|x|^p underflows: S_row = 0 with nonzero elements),
 * a tiny row beside an ordinary one, huge rows (S_row = inf, the norm finite), and an all-zero
 * window beside ordinary ones (0, and not flagged away). Each input is (2, 4): two 2 x 2
 * windows, the second ordinary. */
static void rows_sums_out_of_range(void **state) {
    (void)state;
    const double kinds[][8] = {
        {1e-30, -1e-30, 3, 1, /**/ 1e-30, 1e-38, -4, 2},  /* a window of tiny rows */
        {1e-30, -1e-30, 3, 1, /**/ 2, 1e-35, -4, 2},      /* a tiny row beside an ordinary one */
        {1e30, 1e30, 3, 1, /**/ 1e30, -2e30, -4, 2},      /* rows whose sums overflow */
        {0, 0, 3, 1, /**/ 0, 0, -4, 2},                   /* zeros */
    };
    const double ps[] = {1.5, 2, 2.5, 2.7, 3, 7};
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++)
        for (size_t i = 0; i < sizeof ps / sizeof *ps; i++) {
            char spec[64];
            snprintf(spec, sizeof spec, "LPPool2d(%.17g, 2)", ps[i]);
            check_windows(spec, ps[i], 2, 2, 2, 2, kinds[k], 2, 4, LC_F32, 1e-4);
        }
    /* float64's own: 1e-200's squares underflow, 1e200's overflow */
    const double tiny[] = {1e-200, 1e-200, 3, 1, 1e-200, 1e-200, -4, 2};
    const double huge[] = {1e200, 1e200, 3, 1, 1e200, -1e200, -4, 2};
    check_windows("LPPool2d(2, 2)", 2, 2, 2, 2, 2, tiny, 2, 4, LC_F64, 1e-9);
    check_windows("LPPool2d(2, 2)", 2, 2, 2, 2, 2, huge, 2, 4, LC_F64, 1e-9);
}

/* A run with one flagged window goes through the fix-up, which takes every other window's
 * plain form again: the same sums, so the same bits as the run without it. */
static void fixup_keeps_the_plain_bits(void **state) {
    (void)state;
    const char *specs[] = {"LPPool2d(2, 2)", "LPPool2d(2.7, 2)", "LPPool2d(3, 2)", "LPPool2d(2.5, 2)"};
    for (size_t i = 0; i < sizeof specs / sizeof *specs; i++) {
        lc_module *m = jit_parse_module(specs[i]);
        lc_graph *g;
        assert_ok(lc_module_graph(m, LC_F32, test_shape4(2, 3, 12, 40), &g));
        test_rng r = test_rng_seeded(7 + i);
        lc_tensor **in = jit_random_inputs(g, &r, 1.0);
        lc_program *prog;
        assert_ok(lc_compile(g, NULL, &prog));
        lc_tensor *plain = NULL, *fixed = NULL;
        assert_ok(lc_program_run(prog, (const lc_tensor *const *)in, 1, &plain, 1));
        float *x = in[0]->data;
        x[0] = x[1] = x[40] = x[41] = 1e-30f; /* window (0, 0, 0, 0): rows' sums underflow */
        assert_ok(lc_program_run(prog, (const lc_tensor *const *)in, 1, &fixed, 1));
        const float *a = plain->data, *b = fixed->data;
        assert_true(b[0] > 1e-30f && b[0] < 3e-30f);
        for (int64_t k = 1; k < lc_tensor_numel(plain); k++)
            if (memcmp(&a[k], &b[k], sizeof *a) != 0)
                fail_msg("%s: window %lld %.9g without the fix-up, %.9g with it", specs[i], (long long)k, a[k], b[k]);
        lc_tensor_free(plain);
        lc_tensor_free(fixed);
        lc_program_free(prog);
        jit_free_tensors(in, 1);
        lc_graph_free(g);
        lc_module_free(m);
    }
}

/* |x| = 10^u, u uniform over the type's range and below it (subnormals), random sign; one in
 * twenty 0, one in two hundred inf, one in two hundred NaN. */
static void every_magnitude_values(double *x, int64_t n, test_rng *r, double lo, double hi) {
    for (int64_t i = 0; i < n; i++) {
        double pick = test_rng_uniform(r, 0, 1);
        double v = pow(10.0, test_rng_uniform(r, lo, hi)) * (test_rng_uniform(r, 0, 1) < 0.5 ? -1 : 1);
        x[i] = pick < 0.05 ? 0.0 : pick < 0.055 ? INFINITY : pick < 0.06 ? NAN : v;
    }
}

static void every_magnitude(void **state) {
    (void)state;
    enum { H = 13, W = 17 };
    double x[H * W];
    test_rng r = test_rng_seeded(23);
    const double ps[] = {1.0000001, 1.5, 2, 2.7, 3, 7};
    for (size_t i = 0; i < sizeof ps / sizeof *ps; i++) {
        char spec[96];
        every_magnitude_values(x, H * W, &r, -40, 38.4);
        snprintf(spec, sizeof spec, "LPPool2d(%.17g, 2)", ps[i]);
        check_windows(spec, ps[i], 2, 2, 2, 2, x, H, W, LC_F32, 1e-4);
        snprintf(spec, sizeof spec, "LPPool2d(%.17g, (3, 2), (2, 1))", ps[i]);
        check_windows(spec, ps[i], 3, 2, 2, 1, x, H, W, LC_F32, 1e-4);
        every_magnitude_values(x, H * W, &r, -320, 308);
        check_windows(spec, ps[i], 3, 2, 2, 1, x, H, W, LC_F64, 1e-9);
    }
}

/* Forward+backward: the gradient's kernel reads the rows' norms for its own sake; against the
 * interpreter, over inputs of every float32 magnitude. */
static void with_the_gradient(void **state) {
    (void)state;
    const char *specs[] = {"LPPool2d(2, 2)", "LPPool2d(2.7, (3, 2), (2, 1))", "LPPool2d(3, 2)", "LPPool2d(2.7, 2)"};
    for (size_t i = 0; i < 2 * sizeof specs / sizeof *specs; i++) {
        /* the second round on whole windows, where the rows' norms cancel (chained_ratios) */
        size_t s = i % (sizeof specs / sizeof *specs);
        lc_module *m = jit_parse_module(specs[s]);
        lc_graph *g = jit_module_graph(m, LC_F32, s == i ? test_shape4(2, 3, 13, 17) : test_shape4(2, 3, 12, 16), true);
        test_rng r = test_rng_seeded(31 + i);
        lc_tensor **in = jit_random_inputs(g, &r, 1.0);
        int64_t n = lc_tensor_numel(in[0]);
        double *x = malloc(sizeof *x * (size_t)n);
        assert_non_null(x);
        every_magnitude_values(x, n, &r, -30, 30);
        for (int64_t k = 0; k < n; k++) ((float *)in[0]->data)[k] = (float)x[k];
        free(x);
        jit_check_graph_inputs(g, in, JIT_RTOL, JIT_ATOL);
        jit_free_tensors(in, lc_graph_input_count(g));
        lc_graph_free(g);
        lc_module_free(m);
    }
}

/* The chained ratios fuse records in `spec`'s forward+backward kernels on (2, 3, h, 10): the
 * rows' ratio taking the outer norm's y (lc_lp_ratio_schedule.chain_outer), the outer signed
 * product taken as g (chain_one), one of each per cancelling pair. */
static int chained_ratios(const char *spec, int64_t h) {
    lc_fused *f = jit_fuse_module(jit_parse_module(spec), test_shape4(2, 3, h, 10), true);
    int chains = 0, ones = 0;
    for (int k = 0; k < f->n_kernels; k++) {
        const lc_kernel *K = &f->kernels[k];
        for (int i = 0; i < K->sched.n_lp_ratios; i++) {
            const lc_lp_ratio_schedule *r = &K->sched.lp_ratios[i];
            ones += r->chain_one;
            if (r->chain_outer < 0) continue;
            const lc_lp_ratio_schedule *outer = lc_kernel_lp_ratio(K, r->chain_outer);
            assert_non_null(outer);
            assert_true(outer->chain_one && outer->e == r->e && outer->norm != r->norm);
            assert_int_equal(lc_graph_node(f->graph, r->chain_fold)->op, LC_OP_FOLD);
            chains++;
        }
    }
    lc_fused_free(f);
    assert_int_equal(chains, ones);
    return chains;
}

static void fuse_cancels_the_rows_norms(void **state) {
    (void)state;
    /* the rows' windows tile the height, both ratios by a division per window */
    assert_int_equal(chained_ratios("LPPool2d(2, 2)", 12), 1);
    assert_int_equal(chained_ratios("LPPool2d(2.7, 2)", 12), 1);
    /* y in a buffer of its own (a kernel of its own: 10 columns are not 3 whole windows) */
    assert_int_equal(chained_ratios("LPPool2d(2.7, (2, 3))", 12), 0);
    assert_int_equal(chained_ratios("LPPool2d(2, (3, 2))", 12), 1);
    /* a row in no window (13 = 6·2 + 1), windows overlapping or with gaps: a row's gather is
     * not one window's term, or there is no row to cancel for */
    assert_int_equal(chained_ratios("LPPool2d(2, 2)", 13), 0);
    assert_int_equal(chained_ratios("LPPool2d(2, (3, 2), (2, 1))", 12), 0);
    assert_int_equal(chained_ratios("LPPool2d(2, (2, 2), (3, 2))", 12), 0);
    /* 1/y from the Newton root's steps (p = 3, 2.5), the scaled norms, p < 2: no division to
     * share */
    assert_int_equal(chained_ratios("LPPool2d(3, 2)", 12), 0);
    assert_int_equal(chained_ratios("LPPool2d(2.5, 2)", 12), 0);
    assert_int_equal(chained_ratios("LPPool2d(20, 2)", 12), 0);
    assert_int_equal(chained_ratios("LPPool2d(1.5, 2)", 12), 0);
}

/* dx of LPPool2d(p, k) (stride k) against the float64 formula dx = g·sign(x)·(|x|/y)^(p-1) of
 * x's window (reference() for y), relative error at most rtol with no absolute floor, on
 * (1, 1, h, w) inputs with h and w multiples of k (every element in one window) and no inf or
 * NaN (the chain's literal product, which the fix-up takes for those, gives NaN beside an inf
 * where the formula gives 0). The seed g is 1 + (i mod 7) / 8. */
static void check_gradient(const char *spec, double p, int64_t k, const double *x, int64_t h, int64_t w,
                           lc_dtype dt, double rtol) {
    lc_module *m = jit_parse_module(spec);
    lc_graph *g = jit_module_graph(m, dt, test_shape4(1, 1, h, w), true);
    int64_t oh_n = h / k, ow_n = w / k;
    double *seeds = malloc(sizeof *seeds * (size_t)(oh_n * ow_n));
    assert_non_null(seeds);
    for (int64_t i = 0; i < oh_n * ow_n; i++) seeds[i] = 1 + (double)(i % 7) / 8;
    lc_tensor *in[2];
    assert_ok(lc_tensor_from_doubles(dt, test_shape4(1, 1, h, w), x, &in[0]));
    assert_ok(lc_tensor_from_doubles(dt, test_shape4(1, 1, oh_n, ow_n), seeds, &in[1]));
    lc_program *prog;
    assert_ok(lc_compile(g, NULL, &prog));
    lc_tensor *out[2] = {NULL, NULL};
    assert_ok(lc_program_run(prog, (const lc_tensor *const *)in, 2, out, 2));
    for (int64_t i = 0; i < h; i++)
        for (int64_t j = 0; j < w; j++) {
            int64_t oh = i / k, ow = j / k;
            double y = reference(x, w, k, k, k, k, oh, ow, p), v = x[i * w + j];
            double want = y == 0 ? 0.0 : seeds[oh * ow_n + ow] * (v > 0 ? 1 : v < 0 ? -1 : 0) * pow(fabs(v) / y, p - 1);
            if (dt == LC_F32) want = (double)(float)want; /* as the type holds it */
            double got = lc_tensor_get(out[1], i * w + j);
            /* a result below the normal range holds fewer bits: there two of its last place
             * (the quotient and the product each round there) */
            double least = dt == LC_F32 ? 0x1p-149 : 0x1p-1074, normal = dt == LC_F32 ? 0x1p-126 : 0x1p-1022;
            double tol = fabs(want) < normal ? 2 * least : rtol * fabs(want);
            if (!(fabs(got - want) <= tol))
                fail_msg("%s %s dx (%lld, %lld) of x = %.9g: got %.9g, want %.9g", spec, dt == LC_F32 ? "f32" : "f64",
                         (long long)i, (long long)j, v, got, want);
        }
    for (int i = 0; i < 2; i++) {
        lc_tensor_free(out[i]);
        lc_tensor_free(in[i]);
    }
    free(seeds);
    lc_program_free(prog);
    lc_graph_free(g);
    lc_module_free(m);
}

/* The cancelled gradient at every magnitude: windows the plain form keeps (cancelled), and
 * windows whose rows' sums underflow or overflow (flagged, redone by the fix-up's literal
 * scaled product), f32 and f64. */
static void cancelled_gradient_values(void **state) {
    (void)state;
    enum { H = 12, W = 16 };
    double x[H * W];
    test_rng r = test_rng_seeded(41);
    const double ps[] = {2, 2.7};
    for (size_t i = 0; i < sizeof ps / sizeof *ps; i++) {
        char spec[64];
        snprintf(spec, sizeof spec, "LPPool2d(%.17g, 2)", ps[i]);
        for (int round = 0; round < 3; round++) {
            for (int64_t k = 0; k < H * W; k++) {
                double pick = test_rng_uniform(&r, 0, 1);
                double v = pow(10.0, test_rng_uniform(&r, -3, 3)) * (test_rng_uniform(&r, 0, 1) < 0.5 ? -1 : 1);
                x[k] = pick < 0.05 ? 0.0 : v;
            }
            check_gradient(spec, ps[i], 2, x, H, W, LC_F32, 1e-4);
            check_gradient(spec, ps[i], 2, x, H, W, LC_F64, 1e-9);
        }
        /* every magnitude (rows whose sums leave the range go to the fix-up) */
        every_magnitude_values(x, H * W, &r, -40, 38.4);
        for (int64_t k = 0; k < H * W; k++)
            if (!isfinite(x[k])) x[k] = 1;
        check_gradient(spec, ps[i], 2, x, H, W, LC_F32, 1e-4);
        every_magnitude_values(x, H * W, &r, -320, 308);
        for (int64_t k = 0; k < H * W; k++)
            if (!isfinite(x[k])) x[k] = 1;
        check_gradient(spec, ps[i], 2, x, H, W, LC_F64, 1e-9);
    }
}

/* The fix-up takes a cancelled window as the vectorized pass does: a run whose one window is
 * flagged (tiny rows) gives every other element of dx the same bits as the run without it. */
static void fixup_keeps_the_cancelled_bits(void **state) {
    (void)state;
    const char *specs[] = {"LPPool2d(2, 2)", "LPPool2d(2.7, 2)"};
    for (size_t i = 0; i < sizeof specs / sizeof *specs; i++) {
        lc_module *m = jit_parse_module(specs[i]);
        lc_graph *g = jit_module_graph(m, LC_F32, test_shape4(2, 3, 12, 40), true);
        test_rng r = test_rng_seeded(17 + i);
        lc_tensor **in = jit_random_inputs(g, &r, 1.0);
        lc_program *prog;
        assert_ok(lc_compile(g, NULL, &prog));
        lc_tensor *plain[2] = {NULL, NULL}, *fixed[2] = {NULL, NULL};
        assert_ok(lc_program_run(prog, (const lc_tensor *const *)in, 2, plain, 2));
        float *x = in[0]->data;
        x[0] = x[1] = x[40] = x[41] = 1e-30f; /* window (0, 0, 0, 0): rows' sums underflow */
        assert_ok(lc_program_run(prog, (const lc_tensor *const *)in, 2, fixed, 2));
        const float *a = plain[1]->data, *b = fixed[1]->data;
        for (int64_t k = 0; k < lc_tensor_numel(plain[1]); k++) {
            bool in_window = k == 0 || k == 1 || k == 40 || k == 41;
            if (!in_window && memcmp(&a[k], &b[k], sizeof *a) != 0)
                fail_msg("%s: dx %lld %.9g without the fix-up, %.9g with it", specs[i], (long long)k, a[k], b[k]);
        }
        /* the redone window itself: 1e-30 / (2e-30) = 0.5 (p = 2), times g */
        if (i == 0) assert_true(fabsf(b[0] / ((float *)in[1]->data)[0] - 0.5f) < 1e-5f);
        for (int k = 0; k < 2; k++) {
            lc_tensor_free(plain[k]);
            lc_tensor_free(fixed[k]);
        }
        lc_program_free(prog);
        jit_free_tensors(in, 2);
        lc_graph_free(g);
        lc_module_free(m);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fuse_takes_the_rows_sums),
        cmocka_unit_test(rows_sums_out_of_range),
        cmocka_unit_test(fixup_keeps_the_plain_bits),
        cmocka_unit_test(every_magnitude),
        cmocka_unit_test(with_the_gradient),
        cmocka_unit_test(fuse_cancels_the_rows_norms),
        cmocka_unit_test(cancelled_gradient_values),
        cmocka_unit_test(fixup_keeps_the_cancelled_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
