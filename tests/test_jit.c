/* The JIT against the interpreter: both modules forward and backward, pinned worked examples,
 * kernel counts, random shapes and parameters, bit-identical across 1, 2 and 3 threads. */
#include "jit_harness.h"

static int setup(void **state) {
    (void)state;
    return lc_runtime_set_threads(3) == LC_OK ? 0 : -1;
}

static void lp_worked_example(void **state) {
    (void)state;
    /* docs/semantics.md: [1, -2, 3, -4, 5], p=2, k=2 -> [√5, 5]; ceil mode -> [√5, 5, 5] */
    const double x[] = {1, -2, 3, -4, 5};
    for (int ceil_mode = 0; ceil_mode <= 1; ceil_mode++) {
        lc_module *m = test_lppool(2, 2, LC_STRIDE_UNSET, ceil_mode);
        lc_graph *g = jit_module_graph(m, LC_F32, test_shape3(1, 1, 5), false);
        lc_program *p;
        assert_ok(lc_compile(g, NULL, &p));
        assert_int_equal(lc_program_kernel_count(p), 1);
        lc_tensor *in, *out;
        assert_ok(lc_tensor_from_doubles(LC_F32, test_shape3(1, 1, 5), x, &in));
        assert_ok(lc_program_run(p, (const lc_tensor *const *)&in, 1, &out, 1));
        const double want[] = {sqrt(5.0), 5, 5};
        assert_values_close(out, want, ceil_mode ? 3 : 2, 1e-6, 0);
        lc_tensor_free(in);
        lc_tensor_free(out);
        lc_program_free(p);
        lc_graph_free(g);
        lc_module_free(m);
    }
}

static void avg_worked_example(void **state) {
    (void)state;
    /* [1, 2, 3], k=2, s=1, p=1 -> [0.5, 1.5, 2.5, 1.5]; count_include_pad=False ->
     * [1.0, 1.5, 2.5, 3.0]; grads with seed ones [1, 1, 1] and [1.5, 1.0, 1.5]. */
    const double x[] = {1, 2, 3}, ones[] = {1, 1, 1, 1};
    const double want_y[2][4] = {{1.0, 1.5, 2.5, 3.0}, {0.5, 1.5, 2.5, 1.5}};
    const double want_g[2][3] = {{1.5, 1.0, 1.5}, {1, 1, 1}};
    for (int cip = 0; cip <= 1; cip++) {
        lc_module *m = test_avgpool(2, 1, 1, false, cip);
        lc_graph *g = jit_module_graph(m, LC_F64, test_shape3(1, 1, 3), true);
        lc_program *p;
        assert_ok(lc_compile(g, NULL, &p));
        lc_tensor *in[2], *out[2];
        assert_ok(lc_tensor_from_doubles(LC_F64, test_shape3(1, 1, 3), x, &in[0]));
        assert_ok(lc_tensor_from_doubles(LC_F64, test_shape3(1, 1, 4), ones, &in[1]));
        assert_ok(lc_program_run(p, (const lc_tensor *const *)in, 2, out, 2));
        assert_values_close(out[0], want_y[cip], 4, 1e-12, 0);
        assert_values_close(out[1], want_g[cip], 3, 1e-12, 0);
        for (int i = 0; i < 2; i++) {
            lc_tensor_free(in[i]);
            lc_tensor_free(out[i]);
        }
        lc_program_free(p);
        lc_graph_free(g);
        lc_module_free(m);
    }
}

/* Fusion targets (docs/pipeline.md): forward one kernel; forward+backward one where at most two windows
 * cover a position (LC_CO_ROOT_COVER_MAX), else two. */
static void kernel_counts(void **state) {
    (void)state;
    int f, fb;
    lc_module *m = test_lppool(2, 4, LC_STRIDE_UNSET, false);
    jit_check_module(m, LC_F32, test_shape3(2, 3, 64), 1, &f, &fb);
    assert_int_equal(f, 1);
    assert_int_equal(fb, 1);
    lc_module_free(m);
    m = test_avgpool(4, LC_STRIDE_UNSET, 0, false, true);
    jit_check_module(m, LC_F32, test_shape3(2, 3, 64), 2, &f, &fb);
    assert_int_equal(f, 1);
    assert_int_equal(fb, 1);
    lc_module_free(m);
    m = test_avgpool(3, 5, 1, true, false); /* gaps, padding, ceil mode, divisors */
    jit_check_module(m, LC_F64, test_shape3(2, 3, 64), 2, &f, &fb);
    assert_int_equal(f, 1);
    assert_int_equal(fb, 1);
    lc_module_free(m);
    m = test_lppool(2.5, 4, 2, false); /* overlapping windows, two to a position */
    jit_check_module(m, LC_F32, test_shape3(2, 3, 64), 3, &f, &fb);
    assert_int_equal(f, 1);
    assert_int_equal(fb, 1);
    lc_module_free(m);
    m = test_lppool(2.5, 5, 2, false); /* three to a position: y is written, then read back */
    jit_check_module(m, LC_F32, test_shape3(2, 3, 64), 3, &f, &fb);
    assert_int_equal(f, 1);
    assert_int_equal(fb, 2);
    lc_module_free(m);
}

/* The LP backward alone, built by hand in its stable form (what simplify produces):
 * dx = fold(expand(g) · sign(u) · pow(|u| / expand(y), p - 1)), y = pow(sum(pow(|u|, p)), 1/p),
 * u = unfold(x). One kernel, y recomputed per window slot. */
static lc_graph *lp_backward_graph(double p, int64_t k, int64_t s, int64_t pad_hi, lc_shape xs) {
    lc_graph *g;
    int x, gi, u, a, q, sm, y, ey, r, pw, sg, eg, m1, m2, dx;
    assert_ok(lc_graph_new(&g));
    assert_ok(lc_input(g, "x", LC_F32, xs, &x));
    assert_ok(lc_unfold(g, x, 2, k, s, 0, pad_hi, &u));
    lc_shape ys = lc_graph_node(g, u)->shape;
    ys.rank--;
    assert_ok(lc_input(g, "g", LC_F32, ys, &gi));
    assert_ok(lc_abs(g, u, &a));
    assert_ok(lc_pow(g, a, p, &q));
    assert_ok(lc_sum(g, q, 3, &sm));
    assert_ok(lc_pow(g, sm, 1 / p, &y));
    assert_ok(lc_expand(g, y, 3, k, &ey));
    assert_ok(lc_div_safe(g, a, ey, &r));
    assert_ok(lc_pow_zero_pole(g, r, p - 1, &pw));
    assert_ok(lc_sign(g, u, &sg));
    assert_ok(lc_expand(g, gi, 3, k, &eg));
    assert_ok(lc_mul(g, eg, sg, &m1));
    assert_ok(lc_mul(g, m1, pw, &m2));
    assert_ok(lc_fold(g, m2, 2, k, s, 0, pad_hi, xs.dim[2], &dx));
    assert_ok(lc_graph_add_output(g, dx));
    return g;
}

static void backward_only_one_kernel(void **state) {
    (void)state;
    const double ps[] = {1, 2, 3, 2.5, 0.5, 60};
    for (int i = 0; i < 6; i++) {
        lc_graph *g = lp_backward_graph(ps[i], 4, 4, 0, test_shape3(2, 2, 40));
        assert_int_equal(jit_check_graph(g, 7 + (uint64_t)i, ps[i] > 8 ? 50.0 : 2.0), 1);
        lc_graph_free(g);
        g = lp_backward_graph(ps[i], 4, 3, 1, test_shape3(2, 2, 40)); /* overlapping, ceil */
        assert_int_equal(jit_check_graph(g, 17 + (uint64_t)i, 2.0), 1);
        lc_graph_free(g);
    }
}

static void random_modules(void **state) {
    (void)state;
    test_rng r = test_rng_seeded(42);
    const double ps[] = {1, 2, 3, 4, 2.5, 0.5, 1.5, 7, 0.75};
    for (int it = 0; it < 60; it++) {
        int64_t k = test_rng_int(&r, 1, 9);
        int64_t s = test_rng_int(&r, 1, 10);
        int64_t L = k + test_rng_int(&r, 0, it % 3 == 0 ? 3 : 200);
        int64_t n = test_rng_int(&r, 1, 3), c = test_rng_int(&r, 1, 4);
        bool ceil_mode = test_rng_int(&r, 0, 1);
        lc_dtype dt = test_rng_int(&r, 0, 1) ? LC_F64 : LC_F32;
        lc_module *m;
        if (it % 2 == 0) {
            m = test_lppool(ps[it % 9], k, s, ceil_mode);
        } else {
            int64_t pad = test_rng_int(&r, 0, k / 2);
            m = test_avgpool(k, s, pad, ceil_mode, test_rng_int(&r, 0, 1));
        }
        lc_shape out;
        if (lc_module_output_shape(m, test_shape3(n, c, L), &out) != LC_OK) {
            lc_module_free(m);
            continue;
        }
        jit_check_module(m, dt, test_shape3(n, c, L), 100 + (uint64_t)it, NULL, NULL);
        lc_module_free(m);
    }
}

/* Windows longer than LC_UNROLL_MAX: reductions (and, with overlap, fold gathers) run as
 * vector partial sums with a scalar tail; lengths on both sides of multiples of 8 and 16. */
static void long_windows(void **state) {
    (void)state;
    test_rng r = test_rng_seeded(77);
    const double ps[] = {1, 2, 2.5, 7, 30};
    for (int it = 0; it < 16; it++) {
        int64_t k = test_rng_int(&r, 17, 80);
        int64_t s = it % 3 == 0 ? test_rng_int(&r, 1, 4) : test_rng_int(&r, k / 2, k + 5);
        int64_t L = k + test_rng_int(&r, 0, 300);
        bool ceil_mode = test_rng_int(&r, 0, 1);
        lc_dtype dt = it % 4 < 2 ? LC_F32 : LC_F64;
        lc_module *m;
        if (it % 2 == 0) {
            m = test_lppool(ps[(it / 2) % 5], k, s, ceil_mode);
        } else {
            int64_t pad = test_rng_int(&r, 0, k / 2);
            m = test_avgpool(k, s, pad, ceil_mode, test_rng_int(&r, 0, 1));
        }
        jit_check_module(m, dt, test_shape3(2, 3, L), 300 + (uint64_t)it, NULL, NULL);
        lc_module_free(m);
    }
    /* long windows that do not overlap: forward and backward in one window-major kernel, its
     * slots a loop; exact tiling, a gap between windows, padding with a partial last window */
    struct { bool lp; int64_t k, s, pad, L; bool ceil; } fixed[] = {
        {true, 64, 64, 0, 640, false}, {false, 64, 64, 0, 1000, false}, {true, 40, 50, 0, 777, true},
        {false, 33, 33, 16, 500, true}, {false, 17, 20, 8, 301, false}};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        lc_module *m = fixed[i].lp ? test_lppool(2.5, fixed[i].k, fixed[i].s, fixed[i].ceil)
                                   : test_avgpool(fixed[i].k, fixed[i].s, fixed[i].pad, fixed[i].ceil, true);
        int fwdbwd = 0;
        jit_check_module(m, i % 2 ? LC_F64 : LC_F32, test_shape3(2, 3, fixed[i].L), 400 + i, NULL, &fwdbwd);
        assert_int_equal(fwdbwd, 1);
        lc_module_free(m);
    }
}

/* Large enough that the pool splits the work. */
static void large_split(void **state) {
    (void)state;
    lc_module *m = test_lppool(2.5, 4, 4, false);
    jit_check_module(m, LC_F32, test_shape3(2, 5, 20003), 9, NULL, NULL);
    lc_module_free(m);
    m = test_avgpool(3, 2, 1, true, false);
    jit_check_module(m, LC_F32, test_shape3(3, 7, 30001), 10, NULL, NULL);
    lc_module_free(m);
    /* gaps between windows (stride > kernel), padding, ceil mode: the window-major backward
     * meets element-by-element edges wherever a thread's range starts mid-window */
    m = test_avgpool(3, 5, 1, true, true);
    jit_check_module(m, LC_F32, test_shape3(2, 3, 40007), 11, NULL, NULL);
    lc_module_free(m);
    m = test_lppool(3, 5, 7, true);
    jit_check_module(m, LC_F64, test_shape3(1, 3, 50003), 12, NULL, NULL);
    lc_module_free(m);
    /* windows tiling the rows exactly: the range is split only at whole windows */
    m = test_lppool(2, 4, 4, false);
    jit_check_module(m, LC_F32, test_shape3(2, 5, 20000), 13, NULL, NULL);
    jit_check_module(m, LC_F32, test_shape3(300, 7, 8), 14, NULL, NULL);
    lc_module_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lp_worked_example),
        cmocka_unit_test(avg_worked_example),
        cmocka_unit_test(kernel_counts),
        cmocka_unit_test(backward_only_one_kernel),
        cmocka_unit_test(random_modules),
        cmocka_unit_test(large_split),
        cmocka_unit_test(long_windows),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
