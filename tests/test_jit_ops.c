/* Every op through the JIT, in hand-built graphs, against the interpreter; the awkward values
 * (NaN, inf, zero windows, negative bases, large p); Sequential fusion and the fuse dump. */
#include <float.h>
#include <inttypes.h>
#include <string.h>

#include "jit_harness.h"

static int setup(void **state) {
    (void)state;
    return lc_runtime_set_threads(3) == LC_OK ? 0 : -1;
}

static lc_graph *new_graph_with_input(lc_dtype dt, lc_shape s, int *x) {
    lc_graph *g;
    assert_ok(lc_graph_new(&g));
    assert_ok(lc_input(g, "x", dt, s, x));
    return g;
}

static void unary_ops(void **state) {
    (void)state;
    const double exps[] = {0, 1, 2, 3, 4, 0.5, -1, -0.5, 2.5, -2, 1.5, 7, 0.3, -3};
    for (int dt = 0; dt < 2; dt++)
        for (int zp = 0; zp < 2; zp++)
            for (size_t e = 0; e < sizeof exps / sizeof exps[0]; e++) {
                int x, y;
                lc_graph *g = new_graph_with_input((lc_dtype)dt, test_shape3(2, 3, 37), &x);
                if (zp) assert_ok(lc_pow_zero_pole(g, x, exps[e], &y));
                else assert_ok(lc_pow(g, x, exps[e], &y));
                assert_ok(lc_graph_add_output(g, y));
                jit_check_graph(g, 11 + e, 3.0);
                lc_graph_free(g);
            }
    int x, a, s;
    lc_graph *g = new_graph_with_input(LC_F32, test_shape3(1, 2, 70), &x);
    assert_ok(lc_abs(g, x, &a));
    assert_ok(lc_sign(g, x, &s));
    assert_ok(lc_graph_add_output(g, a));
    assert_ok(lc_graph_add_output(g, s));
    jit_check_graph(g, 5, 2.0);
    lc_graph_free(g);
}

static void special_values(void **state) {
    (void)state;
    /* pow, sign, abs, div on NaN, ±inf, ±0: the JIT follows C's pow like the interpreter */
    const double v[] = {NAN, INFINITY, -INFINITY, 0.0, -0.0, 1, -1, 2, -2, 0.5, -0.5, 1e-30, 3e30};
    int n = (int)(sizeof v / sizeof v[0]);
    /* DBL_MAX and 1e300 overflow to inf in a float32 kernel; 1e-300 underflows to 0 there */
    const double exps[] = {2, 3, 0.5, -1, 2.5, -0.5, 0, 1, DBL_MAX, -DBL_MAX, 1e300, 1e-300, -1e-300};
    for (int dt = 0; dt < 2; dt++)
        for (size_t e = 0; e < sizeof exps / sizeof exps[0]; e++) {
            for (int zp = 0; zp < 2; zp++) {
                int x, y, s, a, d, ds;
                lc_graph *g = new_graph_with_input((lc_dtype)dt, test_shape3(1, 1, n), &x);
                if (zp) assert_ok(lc_pow_zero_pole(g, x, exps[e], &y));
                else assert_ok(lc_pow(g, x, exps[e], &y));
                assert_ok(lc_sign(g, x, &s));
                assert_ok(lc_abs(g, x, &a));
                assert_ok(lc_div(g, x, a, &d));
                assert_ok(lc_div_safe(g, x, a, &ds));
                int outs[] = {y, s, a, d, ds};
                for (int i = 0; i < 5; i++) assert_ok(lc_graph_add_output(g, outs[i]));
                lc_tensor *in;
                assert_ok(lc_tensor_from_doubles((lc_dtype)dt, test_shape3(1, 1, n), v, &in));
                jit_check_graph_inputs(g, &in, 1e-6, 0);
                lc_tensor_free(in);
                lc_graph_free(g);
            }
        }
}

/* The inline exp2/log2 behind fractional powers: every binade, subnormals included, against
 * C's pow in float64 where the result is a normal number. log2 x and p·log2 x are rounded
 * to the kernel's type, so the error grows with |p log2 x| (at most ~128 for f32, ~1075 for
 * f64): about 2·|p log2 x|·2^-24·ln2 ≤ 1.1e-5 for f32 (2e-5 allowed), 2e-13 for f64. */
static void pow_accuracy(void **state) {
    (void)state;
    enum { N = 4000 };
    static double v[N];
    test_rng r = test_rng_seeded(3);
    for (int i = 0; i < N; i++) v[i] = ldexp(test_rng_uniform(&r, 1, 2), (int)test_rng_int(&r, -148, 126));
    const double exps[] = {2.5, -1.7, 0.3, 1.0 / 3, 5.5, -0.25};
    for (int dt = 0; dt < 2; dt++)
        for (size_t e = 0; e < sizeof exps / sizeof exps[0]; e++) {
            int x, y;
            lc_graph *g = new_graph_with_input((lc_dtype)dt, test_shape3(1, 1, N), &x);
            assert_ok(lc_pow(g, x, exps[e], &y));
            assert_ok(lc_graph_add_output(g, y));
            lc_tensor *in, *out;
            assert_ok(lc_tensor_from_doubles((lc_dtype)dt, test_shape3(1, 1, N), v, &in));
            lc_program *p;
            assert_ok(lc_compile(g, NULL, &p));
            assert_ok(lc_program_run(p, (const lc_tensor *const *)&in, 1, &out, 1));
            for (int i = 0; i < N; i++) {
                double xi = lc_tensor_get(in, i), want = pow(xi, exps[e]), got = lc_tensor_get(out, i);
                double tiny = dt == LC_F32 ? 1.2e-38 : 2.3e-308, big = dt == LC_F32 ? 3.4e38 : 1.7e308;
                if (want < 4 * tiny || want > big) { /* results below 2^-125 flush to 0 */
                    assert_true(got == 0 || got <= 8 * tiny || isinf(got) || got >= big / 2);
                    continue;
                }
                double rel = fabs(got - want) / want;
                if (rel > (dt == LC_F32 ? 2e-5 : 2e-13))
                    fail_msg("pow(%.17g, %g) = %.17g, want %.17g (%s)", xi, exps[e], got, want,
                             lc_dtype_name((lc_dtype)dt));
            }
            lc_tensor_free(in);
            lc_tensor_free(out);
            lc_program_free(p);
            lc_graph_free(g);
        }
}

/* A float32 quotient by an odd count (3, 5, ... a pool's window) is computed without the
 * divider in the optimized tier's vectorized loops (emit_expr.c, emit_fdiv): it must have the
 * division's bits for every float32.
 * Sampled here through a kernel: every 1021st bit pattern of all 2^32 (both signs, subnormals
 * and NaNs among them), the first 2^16 subnormals, and the infinities, zeros and extremes,
 * against C's float division.
 * 6 (even) keeps the division and is here as the control. */
static void count_division(void **state) {
    (void)state;
    enum { STRIDE = 1021, SUB = 1 << 16, SPECIAL = 8 };
    static const uint32_t special[SPECIAL] = {0x7f800000u, 0xff800000u, 0x80000000u, 0x7f7fffffu,
                                              0xff7fffffu, 0x00800000u, 0x7fc00000u, 0x3f800000u};
    int64_t n = ((int64_t)1 << 32) / STRIDE + 1 + SUB + SPECIAL;
    lc_tensor *in;
    assert_ok(lc_tensor_new(LC_F32, lc_shape_make(1, (int64_t[]){n}), &in));
    uint32_t *bits = in->data;
    /* the specials first: the vectorized loop runs from the start, the scalar one (which
     * keeps the division) takes what is left at the end */
    for (int i = 0; i < SPECIAL; i++) bits[i] = special[i];
    for (int64_t i = 0; i < SUB; i++) bits[SPECIAL + i] = (uint32_t)i;
    for (int64_t i = 0; i < n - SUB - SPECIAL; i++) bits[SPECIAL + SUB + i] = (uint32_t)(i * STRIDE);
    const double counts[] = {3, 5, 7, 9, 25, 6};
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        int x, k, y;
        lc_graph *g = new_graph_with_input(LC_F32, lc_shape_make(1, (int64_t[]){n}), &x);
        assert_ok(lc_scalar(g, LC_F32, counts[c], &k));
        assert_ok(lc_div(g, x, k, &y));
        assert_ok(lc_graph_add_output(g, y));
        /* optimized at once: the form is the optimized tier's vectorized loops' */
        lc_compile_options o = lc_compile_options_default();
        o.tiered = false;
        lc_program *p;
        lc_tensor *out = NULL;
        assert_ok(lc_compile(g, &o, &p));
        assert_ok(lc_program_run(p, (const lc_tensor *const *)&in, 1, &out, 1));
        const float *a = in->data, *q = out->data;
        for (int64_t i = 0; i < n; i++) {
            float want = a[i] / (float)counts[c];
            if (isnan(want) && isnan(q[i])) continue;
            if (memcmp(&want, &q[i], sizeof want) != 0)
                fail_msg("%a / %g = %a, want %a", (double)a[i], counts[c], (double)q[i], (double)want);
        }
        lc_tensor_free(out);
        lc_program_free(p);
        lc_graph_free(g);
    }
    lc_tensor_free(in);
}

static void binary_broadcast(void **state) {
    (void)state;
    const double cdata[] = {1, 0, -2, 0.5, 3};
    for (int op = 0; op < 4; op++) {
        int x, c, s, y, z;
        lc_graph *g = new_graph_with_input(LC_F64, test_shape3(2, 3, 5), &x);
        assert_ok(lc_constant(g, LC_F64, lc_shape_make(1, (int64_t[]){5}), cdata, &c));
        assert_ok(lc_scalar(g, LC_F64, 0.25, &s));
        switch (op) {
        case 0: assert_ok(lc_mul(g, x, c, &y)); break;
        case 1: assert_ok(lc_add(g, c, x, &y)); break;
        case 2: assert_ok(lc_div(g, x, c, &y)); break;
        default: assert_ok(lc_div_safe(g, c, x, &y)); break;
        }
        assert_ok(lc_mul(g, y, s, &z));
        assert_ok(lc_graph_add_output(g, z));
        assert_int_equal(jit_check_graph(g, 3 + (uint64_t)op, 2.0), 1);
        lc_graph_free(g);
    }
    /* two inputs broadcasting against each other: [2,1,5] * [3,1] */
    int a, b, y;
    lc_graph *g;
    assert_ok(lc_graph_new(&g));
    assert_ok(lc_input(g, "a", LC_F32, test_shape3(2, 1, 5), &a));
    assert_ok(lc_input(g, "b", LC_F32, lc_shape_make(2, (int64_t[]){3, 1}), &b));
    assert_ok(lc_add(g, a, b, &y));
    assert_ok(lc_graph_add_output(g, y));
    jit_check_graph(g, 8, 2.0);
    lc_graph_free(g);
}

/* equal against a C reference on the interpreter (NaN equals nothing, +0 == -0, infinities
 * equal themselves), then the JIT against the interpreter bit for bit on 1-3 threads, both
 * dtypes, the constant broadcast along the rows and as a scalar; it has no gradient. */
static void equal_op(void **state) {
    (void)state;
    const double v[] = {NAN, INFINITY, -INFINITY, 0.0, -0.0, 1, -1, 2, 3, 0.5, 1e-30, 3e30, 7, 8, 2, 1};
    const double c[] = {2, 0.0, NAN, INFINITY, -0.0, 1, 8, 2};
    enum { N = sizeof v / sizeof v[0], M = sizeof c / sizeof c[0], ROWS = N / M };
    for (int dt = 0; dt < 2; dt++)
        for (int scalar = 0; scalar < 2; scalar++) {
            int x, k, y;
            lc_graph *g = new_graph_with_input((lc_dtype)dt, test_shape3(1, ROWS, M), &x);
            if (scalar) assert_ok(lc_scalar(g, (lc_dtype)dt, 2.0, &k));
            else assert_ok(lc_constant(g, (lc_dtype)dt, lc_shape_make(1, (int64_t[]){M}), c, &k));
            assert_ok(lc_equal(g, x, k, &y));
            assert_ok(lc_graph_add_output(g, y));
            lc_tensor *in, *got;
            assert_ok(lc_tensor_from_doubles((lc_dtype)dt, test_shape3(1, ROWS, M), v, &in));
            assert_ok(lc_interp_run(g, (const lc_tensor *const *)&in, 1, &got, 1));
            for (int i = 0; i < N; i++) {
                double want = v[i] == (scalar ? 2.0 : c[i % M]) ? 1.0 : 0.0;
                assert_true(lc_tensor_get(got, i) == want);
            }
            lc_tensor_free(got);
            jit_check_graph_inputs(g, &in, 0, 0);
            lc_graph *ad; /* inputs x and y's seed (y's shape is x's); outputs y and dx */
            assert_ok(lc_autodiff(g, NULL, 0, NULL, 0, &ad));
            lc_tensor *ins[2] = {in, in}, *outs[2];
            assert_ok(lc_interp_run(ad, (const lc_tensor *const *)ins, 2, outs, 2));
            for (int i = 0; i < N; i++) assert_true(lc_tensor_get(outs[1], i) == 0.0);
            lc_tensor_free(outs[0]);
            lc_tensor_free(outs[1]);
            lc_graph_free(ad);
            lc_tensor_free(in);
            lc_graph_free(g);
        }
}

/* What select(m, v) must give, bit for bit: v where m is nonzero or NaN, else +0. */
static void check_selected(const lc_tensor *got, const double *m, const double *v, int n, lc_dtype dt) {
    for (int i = 0; i < n; i++) {
        double want = m[i] != 0 || isnan(m[i]) ? (dt == LC_F32 ? (double)(float)v[i] : v[i]) : 0.0;
        double g = lc_tensor_get(got, i);
        if (isnan(want) ? !isnan(g) : g != want || signbit(g) != signbit(want))
            fail_msg("select at %d (mask %g, value %g): got %g, want %g", i, m[i], v[i], g, want);
    }
}

/* select against a C reference on both engines, bit for bit: the value where the mask is
 * nonzero (a NaN mask too), +0 elsewhere whatever the value holds (inf, NaN, -0: not 0 · v),
 * then the JIT against the interpreter on 1-3 threads, both dtypes. Its gradient selects the
 * seed the same way for the value (+0 where unselected, even where the seed is inf or NaN)
 * and gives the mask none (zeros). */
static void select_op(void **state) {
    (void)state;
    const double m[] = {0.0, -0.0, 1, NAN, 0.0, 2, -1, 0.0, 1, 0.0, 1e-30, 0.0, INFINITY, -0.0, 1, 0.0};
    const double v[] = {INFINITY, NAN, -0.0, 3, -INFINITY, -0.0, 5, NAN, NAN, -2, 7, -0.0, -INFINITY, 1e30, 0.5, 4};
    enum { N = sizeof m / sizeof m[0] };
    for (int dt = 0; dt < 2; dt++) {
        lc_dtype t = (lc_dtype)dt;
        lc_graph *g;
        int mi, vi, y;
        assert_ok(lc_graph_new(&g));
        assert_ok(lc_input(g, "m", t, test_shape3(1, 2, N / 2), &mi));
        assert_ok(lc_input(g, "v", t, test_shape3(1, 2, N / 2), &vi));
        assert_ok(lc_select(g, mi, vi, &y));
        assert_ok(lc_graph_add_output(g, y));
        lc_tensor *in[2], *got;
        assert_ok(lc_tensor_from_doubles(t, test_shape3(1, 2, N / 2), m, &in[0]));
        assert_ok(lc_tensor_from_doubles(t, test_shape3(1, 2, N / 2), v, &in[1]));
        assert_ok(lc_interp_run(g, (const lc_tensor *const *)in, 2, &got, 1));
        check_selected(got, m, v, N, t);
        lc_tensor_free(got);
        lc_program *p;
        assert_ok(lc_compile(g, NULL, &p));
        assert_ok(lc_program_run(p, (const lc_tensor *const *)in, 2, &got, 1));
        check_selected(got, m, v, N, t);
        lc_tensor_free(got);
        lc_program_free(p);
        jit_check_graph_inputs(g, in, 0, 0);
        /* the backward, seeded with v itself: outputs y, dm, dv */
        lc_graph *ad;
        assert_ok(lc_autodiff(g, NULL, 0, NULL, 0, &ad));
        lc_tensor *ins[3] = {in[0], in[1], in[1]}, *outs[3];
        assert_ok(lc_interp_run(ad, (const lc_tensor *const *)ins, 3, outs, 3));
        for (int i = 0; i < N; i++) assert_true(lc_tensor_get(outs[1], i) == 0.0);
        check_selected(outs[2], m, v, N, t);
        for (int i = 0; i < 3; i++) lc_tensor_free(outs[i]);
        assert_ok(lc_compile(ad, NULL, &p));
        assert_ok(lc_program_run(p, (const lc_tensor *const *)ins, 3, outs, 3));
        check_selected(outs[2], m, v, N, t);
        for (int i = 0; i < 3; i++) lc_tensor_free(outs[i]);
        lc_program_free(p);
        lc_graph_free(ad);
        lc_tensor_free(in[0]);
        lc_tensor_free(in[1]);
        lc_graph_free(g);
    }
}

static void reductions_any_axis(void **state) {
    (void)state;
    for (int dim = 0; dim < 3; dim++)
        for (int mean = 0; mean < 2; mean++) {
            int x, y;
            lc_graph *g = new_graph_with_input(LC_F32, test_shape3(3, 4, 21), &x);
            if (mean) assert_ok(lc_mean(g, x, dim, &y));
            else assert_ok(lc_sum(g, x, dim, &y));
            assert_ok(lc_graph_add_output(g, y));
            jit_check_graph(g, 20 + (uint64_t)dim, 2.0);
            lc_graph_free(g);
        }
}

/* unfold and expand as outputs (materialized views), and fold of random windows. */
static void layout_ops(void **state) {
    (void)state;
    test_rng r = test_rng_seeded(99);
    for (int it = 0; it < 40; it++) {
        int64_t size = test_rng_int(&r, 1, 6), step = test_rng_int(&r, 1, 6);
        int64_t lo = test_rng_int(&r, 0, 3), hi = test_rng_int(&r, 0, 3);
        int64_t L = size + test_rng_int(&r, 0, 40);
        int x, u, e, f, w;
        lc_graph *g = new_graph_with_input(LC_F64, test_shape3(2, 2, L), &x);
        assert_ok(lc_unfold(g, x, 2, size, step, lo, hi, &u));
        assert_ok(lc_expand(g, x, 1, 3, &e));
        assert_ok(lc_graph_add_output(g, u));
        assert_ok(lc_graph_add_output(g, e));
        int64_t windows = lc_graph_node(g, u)->shape.dim[2];
        assert_ok(lc_input(g, "w", LC_F64, lc_shape_make(4, (int64_t[]){2, 2, windows, size}), &w));
        assert_ok(lc_fold(g, w, 2, size, step, lo, hi, L, &f));
        assert_ok(lc_graph_add_output(g, f));
        jit_check_graph(g, 200 + (uint64_t)it, 2.0);
        lc_graph_free(g);
    }
    /* a fold gathering an unfold of the same step but another padding: the unfold reads
     * position t - its pad_lo, not the fold's own position */
    for (int64_t step = 1; step <= 4; step++) {
        int x, u, f, a;
        lc_graph *g = new_graph_with_input(LC_F32, test_shape3(1, 2, 23), &x);
        assert_ok(lc_unfold(g, x, 2, 3, step, 0, 2, &u));
        assert_ok(lc_abs(g, u, &a));
        assert_ok(lc_fold(g, a, 2, 3, step, 2, 0, 23, &f));
        assert_ok(lc_graph_add_output(g, f));
        jit_check_graph(g, 40 + (uint64_t)step, 2.0);
        lc_graph_free(g);
    }
    /* a per-window result beside a window-major fold: merged into one kernel only when every
     * window has a first position in [0, length) of its own (pad_lo < step, and the last
     * window starting before the end); otherwise two kernels, same values */
    const int64_t pads[3][2] = {{1, 0}, {4, 0}, {0, 7}};
    const int want_kernels[3] = {1, 2, 2};
    for (int i = 0; i < 3; i++) {
        int x, u, a, s, f;
        lc_graph *g = new_graph_with_input(LC_F32, test_shape3(1, 2, 20), &x);
        assert_ok(lc_unfold(g, x, 2, 2, 3, pads[i][0], pads[i][1], &u));
        assert_ok(lc_sum(g, u, 3, &s));
        assert_ok(lc_abs(g, u, &a));
        assert_ok(lc_fold(g, a, 2, 2, 3, pads[i][0], pads[i][1], 20, &f));
        assert_ok(lc_graph_add_output(g, s));
        assert_ok(lc_graph_add_output(g, f));
        assert_int_equal(jit_check_graph(g, 50 + (uint64_t)i, 2.0), want_kernels[i]);
        lc_graph_free(g);
    }
    /* unfold along a non-last axis, then a reduction over its window axis */
    int x, u, s;
    lc_graph *g = new_graph_with_input(LC_F32, test_shape3(9, 3, 4), &x);
    assert_ok(lc_unfold(g, x, 0, 3, 2, 1, 1, &u));
    assert_ok(lc_sum(g, u, 3, &s));
    assert_ok(lc_graph_add_output(g, s));
    jit_check_graph(g, 31, 2.0);
    lc_graph_free(g);
}

/* An input returned as is, a constant output, and two outputs sharing work. */
static void odd_outputs(void **state) {
    (void)state;
    int x, c, a, s;
    const double cd[] = {1, 2, 3};
    lc_graph *g = new_graph_with_input(LC_F32, test_shape3(1, 2, 3), &x);
    assert_ok(lc_constant(g, LC_F32, lc_shape_make(1, (int64_t[]){3}), cd, &c));
    assert_ok(lc_abs(g, x, &a));
    assert_ok(lc_sum(g, a, 2, &s));
    assert_ok(lc_graph_add_output(g, x));
    assert_ok(lc_graph_add_output(g, c));
    assert_ok(lc_graph_add_output(g, a));
    assert_ok(lc_graph_add_output(g, s));
    assert_int_equal(jit_check_graph(g, 4, 2.0), 4);
    lc_graph_free(g);
}

static void zero_size(void **state) {
    (void)state;
    int x, u, s;
    lc_graph *g = new_graph_with_input(LC_F32, test_shape3(0, 2, 8), &x);
    assert_ok(lc_unfold(g, x, 2, 2, 2, 0, 0, &u));
    assert_ok(lc_sum(g, u, 3, &s));
    assert_ok(lc_graph_add_output(g, s));
    jit_check_graph(g, 1, 1.0);
    lc_graph_free(g);
    /* a materialized intermediate of zero elements (overlapping second pool, N = 0) */
    lc_module *seq;
    assert_ok(lc_sequential_new(&seq));
    assert_ok(lc_sequential_append(seq, test_lppool(2, 2, LC_STRIDE_UNSET, false)));
    assert_ok(lc_sequential_append(seq, test_avgpool(3, 1, 1, false, true)));
    g = jit_module_graph(seq, LC_F32, test_shape3(0, 3, 16), true);
    jit_check_graph(g, 2, 1.0);
    lc_graph_free(g);
    lc_module_free(seq);
}

/* LP windows holding NaN, inf, only zeros; small and large p (the scaled form). */
static void lp_nan_inf_windows(void **state) {
    (void)state;
    const double x[] = {NAN, 1, 2, 3,   INFINITY, 1, -2, 3,   0, 0, 0, 0,
                        -INFINITY, NAN, 1, 1,   1e3, -1e3, 999, 5,   1e-3, 0, 0, 2};
    const double ps[] = {1, 2, 2.5, 4, 9, 60};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++)
        for (int dt = 0; dt < 2; dt++) {
            lc_module *m = test_lppool(ps[i], 4, LC_STRIDE_UNSET, false);
            lc_graph *g = jit_module_graph(m, (lc_dtype)dt, test_shape3(1, 1, 24), false);
            lc_tensor *in, *out;
            assert_ok(lc_tensor_from_doubles((lc_dtype)dt, test_shape3(1, 1, 24), x, &in));
            lc_program *p;
            assert_ok(lc_compile(g, NULL, &p));
            assert_ok(lc_program_run(p, (const lc_tensor *const *)&in, 1, &out, 1));
            assert_true(isnan(lc_tensor_get(out, 0)));
            assert_true(isinf(lc_tensor_get(out, 1)) && lc_tensor_get(out, 1) > 0);
            assert_true(lc_tensor_get(out, 2) == 0);
            assert_true(isnan(lc_tensor_get(out, 3)));
            assert_true(isfinite(lc_tensor_get(out, 4)));
            /* the finite windows agree with a float64 reference */
            for (int w = 4; w < 6; w++) {
                double m_ = 0, s = 0;
                for (int j = 0; j < 4; j++) m_ = fmax(m_, fabs(x[4 * w + j]));
                for (int j = 0; j < 4; j++) s += pow(fabs(x[4 * w + j]) / m_, ps[i]);
                double want = m_ * pow(s, 1 / ps[i]);
                assert_true(fabs(lc_tensor_get(out, w) - want) <= 1e-4 * want);
            }
            lc_tensor_free(in);
            lc_tensor_free(out);
            lc_program_free(p);
            lc_graph_free(g);
            lc_module_free(m);
        }
}

/* p = 60 with |x| up to 1e3 stays finite in float32 and matches the float64 interpreter. */
static void lp_large_p(void **state) {
    (void)state;
    const double ps[] = {60, 20, 9};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
        lc_module *m = test_lppool(ps[i], 5, 3, true);
        lc_graph *g = jit_module_graph(m, LC_F32, test_shape3(2, 3, 101), false);
        test_rng r = test_rng_seeded(60);
        lc_tensor *in = test_random_tensor(&r, LC_F32, test_shape3(2, 3, 101), 1e3);
        jit_check_graph_inputs(g, &in, JIT_RTOL, JIT_ATOL);
        lc_tensor_free(in);
        lc_graph_free(g);
        lc_module_free(m);
    }
}

/* p far from 1, evaluated scaled by the window max. Huge p up to DBL_MAX (inf once rounded to
 * float32): the result tends to the window max. Tiny p: a window with one nonzero element
 * gives that element (x^p rounds to 1 for p = 1e-300, so the plain form gives 1), one with
 * more overflows to inf. The interpreter evaluates the graph literally in float64, so the
 * reference here is docs/semantics.md's scaled form m·(Σ(|x|/m)^p)^(1/p) in float64. */
static void lp_extreme_p(void **state) {
    (void)state;
    const double ps[] = {1e30, 1e300, DBL_MAX, 0.05, 1e-300};
    enum { L = 101, K = 5, S = 3 };
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++)
        for (int dt = 0; dt < 2; dt++) {
            lc_module *m = test_lppool(ps[i], K, S, true);
            lc_graph *g = jit_module_graph(m, (lc_dtype)dt, test_shape3(1, 2, L), false);
            test_rng r = test_rng_seeded(61);
            lc_tensor *in = test_random_tensor(&r, (lc_dtype)dt, test_shape3(1, 2, L), 1e3);
            if (ps[i] < 1) /* mostly zeros: windows with one nonzero element, and with two */
                for (int64_t j = 0; j < 2 * L; j++)
                    if (j % 4 != 0) lc_tensor_set(in, j, 0.0);
            lc_tensor *out;
            lc_program *p;
            assert_ok(lc_compile(g, NULL, &p));
            assert_ok(lc_program_run(p, (const lc_tensor *const *)&in, 1, &out, 1));
            int64_t wins = out->shape.dim[2];
            for (int c = 0; c < 2; c++)
                for (int64_t o = 0; o < wins; o++) {
                    double mx = 0, sum = 0;
                    int64_t lo = o * S, hi = lo + K < L ? lo + K : L;
                    for (int64_t j = lo; j < hi; j++) mx = fmax(mx, fabs(lc_tensor_get(in, c * L + j)));
                    for (int64_t j = lo; j < hi; j++) sum += pow(fabs(lc_tensor_get(in, c * L + j)) / mx, ps[i]);
                    double want = mx == 0 ? 0 : mx * pow(sum, 1 / ps[i]);
                    double got = lc_tensor_get(out, c * wins + o);
                    if (want > (dt == LC_F32 ? FLT_MAX : DBL_MAX)) want = INFINITY;
                    double rtol = dt == LC_F32 ? 1e-5 : 1e-12;
                    if (!(got == want || fabs(got - want) <= rtol * want))
                        fail_msg("p=%g %s window %d,%" PRId64 ": got %.17g, want %.17g", ps[i],
                                 lc_dtype_name((lc_dtype)dt), c, o, got, want);
                }
            lc_tensor_free(in);
            lc_tensor_free(out);
            lc_program_free(p);
            lc_graph_free(g);
            lc_module_free(m);
        }
}

static char *fuse_dump(const lc_graph *g) { return jit_dump_text(g, "fuse,plan"); }

/* A Sequential fuses where inlining recomputes nothing; where windows overlap, the dump
 * says why the first pool's result is materialized. */
static void sequential_fusion(void **state) {
    (void)state;
    lc_module *seq;
    assert_ok(lc_sequential_new(&seq));
    assert_ok(lc_sequential_append(seq, test_lppool(2, 2, LC_STRIDE_UNSET, false)));
    assert_ok(lc_sequential_append(seq, test_avgpool(3, LC_STRIDE_UNSET, 0, false, true)));
    int f, fb;
    jit_check_module(seq, LC_F32, test_shape3(2, 3, 60), 17, &f, &fb);
    assert_int_equal(f, 1);
    lc_graph *g = jit_module_graph(seq, LC_F32, test_shape3(2, 3, 60), false);
    char *text = fuse_dump(g);
    assert_non_null(strstr(text, "0.LPPool1d.pow"));
    assert_non_null(strstr(text, "1.AvgPool1d"));
    free(text);
    lc_graph_free(g);
    lc_module_free(seq);

    assert_ok(lc_sequential_new(&seq));
    assert_ok(lc_sequential_append(seq, test_lppool(2, 2, LC_STRIDE_UNSET, false)));
    assert_ok(lc_sequential_append(seq, test_lppool(3, 4, 2, false))); /* overlapping windows */
    jit_check_module(seq, LC_F32, test_shape3(2, 3, 60), 18, &f, &fb);
    assert_int_equal(f, 2);
    g = jit_module_graph(seq, LC_F32, test_shape3(2, 3, 60), false);
    text = fuse_dump(g);
    assert_non_null(strstr(text, "not fused:"));
    assert_non_null(strstr(text, "whose windows overlap (size 4 > step 2)"));
    assert_non_null(strstr(text, ";; stage plan"));
    assert_non_null(strstr(text, "scratch"));
    free(text);
    lc_program *p;
    assert_ok(lc_compile(g, NULL, &p));
    assert_int_equal(lc_program_scratch_bytes(p), (2 * 3 * 30 * 4 + 63) / 64 * 64); /* one buffer */
    lc_program_free(p);
    lc_graph_free(g);
    lc_module_free(seq);
}

/* Three overlapping pools in a row: two scratch buffers that never live together share
 * memory, so the block is the larger one, not the sum. */
static void plan_reuses_memory(void **state) {
    (void)state;
    lc_module *seq;
    assert_ok(lc_sequential_new(&seq));
    for (int i = 0; i < 4; i++) assert_ok(lc_sequential_append(seq, test_lppool(2, 3, 1, false)));
    lc_graph *g = jit_module_graph(seq, LC_F32, test_shape3(1, 2, 200), false);
    lc_program *p;
    assert_ok(lc_compile(g, NULL, &p));
    assert_int_equal(lc_program_kernel_count(p), 4);
    /* scratch: pool outputs of length 198, 196, 194: the first and third can share */
    int64_t b198 = (2 * 198 * 4 + 63) / 64 * 64, b196 = (2 * 196 * 4 + 63) / 64 * 64;
    assert_int_equal(lc_program_scratch_bytes(p), b198 + b196);
    lc_program_free(p);
    jit_check_graph(g, 77, 2.0);
    lc_graph_free(g);
    lc_module_free(seq);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unary_ops),
        cmocka_unit_test(special_values),
        cmocka_unit_test(pow_accuracy),
        cmocka_unit_test(count_division),
        cmocka_unit_test(binary_broadcast),
        cmocka_unit_test(equal_op),
        cmocka_unit_test(select_op),
        cmocka_unit_test(reductions_any_axis),
        cmocka_unit_test(layout_ops),
        cmocka_unit_test(odd_outputs),
        cmocka_unit_test(zero_size),
        cmocka_unit_test(lp_nan_inf_windows),
        cmocka_unit_test(lp_large_p),
        cmocka_unit_test(lp_extreme_p),
        cmocka_unit_test(sequential_fusion),
        cmocka_unit_test(plan_reuses_memory),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
