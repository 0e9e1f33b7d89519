/* The JIT against the interpreter on chained pools (Sequentials of 2-3 AvgPool1d/LPPool1d),
 * compiled as lucidc compiles them (the default passes, then lc_compile), forward and
 * forward+backward, at 1 and 2 threads.
 *
 * Chains are where kernels nest an unfold inside another unfold's (or a fold's) index, so
 * the bounds checks of the inner pool are elided on an interior range collected from the
 * outer one; regressions here were padded reads at row edges loading the neighbouring row
 * (an interior recorded in the checked pass that differed from the one the unchecked pass
 * assumed) and a window-major fold with stride 1 and padding writing one element before its
 * row. Both show only with several rows (N·C > 1), so every shape here has them. */
#include <inttypes.h>
#include <unistd.h>

#include "jit_harness.h"

#include "lucid/passes.h"

/* The run of `g` on `in`: the interpreter on g as built (the reference), then the JIT on the
 * default-pipeline graph at 1 and 2 threads, each within rtol/atol and bit-identical to each
 * other. */
static void check_seq_graph(const lc_graph *g, lc_tensor **in, double rtol, double atol, const char *what) {
    int nin = lc_graph_input_count(g), nout = lc_graph_output_count(g);
    lc_tensor *want[2] = {NULL, NULL}, *first[2] = {NULL, NULL};
    assert_true(nout <= 2);
    assert_ok(lc_interp_run(g, (const lc_tensor *const *)in, nin, want, nout));
    lc_graph *opt;
    assert_ok(lc_pipeline_run_default(g, false, NULL, &opt));
    for (int threads = 1; threads <= 2; threads++) {
        lc_compile_options o = lc_compile_options_default();
        o.threads = threads;
        lc_program *p;
        assert_ok(lc_compile(opt, &o, &p));
        lc_tensor *got[2] = {NULL, NULL};
        assert_ok(lc_program_run(p, (const lc_tensor *const *)in, nin, got, nout));
        for (int i = 0; i < nout; i++) {
            if (!lc_shape_equal(&got[i]->shape, &want[i]->shape)) fail_msg("%s: output %d shape differs", what, i);
            for (int64_t e = 0; e < lc_tensor_numel(want[i]); e++) {
                double a = lc_tensor_get(got[i], e), b = lc_tensor_get(want[i], e);
                if (isnan(a) && isnan(b)) continue;
                if (!(fabs(a - b) <= atol + rtol * fabs(b)))
                    fail_msg("%s: output %d element %" PRId64 " is %.9g with %d threads, the interpreter gives %.9g",
                             what, i, e, a, threads, b);
            }
            if (!first[i]) {
                first[i] = got[i];
            } else {
                if (!jit_bits_equal(got[i], first[i]))
                    fail_msg("%s: output %d differs between 1 and 2 threads", what, i);
                lc_tensor_free(got[i]);
            }
        }
        lc_program_free(p);
    }
    lc_graph_free(opt);
    for (int i = 0; i < nout; i++) {
        lc_tensor_free(want[i]);
        lc_tensor_free(first[i]);
    }
}

static double tol_rel(lc_dtype dt) { return dt == LC_F32 ? 1e-4 : 1e-9; }
static double tol_abs(lc_dtype dt) { return dt == LC_F32 ? 1e-6 : 1e-12; }

/* Forward, then forward+backward, of `m` on random input of shape `in` with values of size
 * about `scale`. */
static void check_seq_at(const lc_module *m, lc_dtype dt, lc_shape in, uint64_t seed, double scale) {
    char *repr;
    assert_ok(lc_module_repr(m, &repr));
    char what[512];
    snprintf(what, sizeof what, "%s on %s [%" PRId64 ",%" PRId64 ",%" PRId64 "] (seed %" PRIu64 ")",
             repr, lc_dtype_name(dt), in.dim[0], in.dim[1], in.dim[2], seed);
    free(repr);
    for (int backward = 0; backward <= 1; backward++) {
        lc_graph *g = jit_module_graph(m, dt, in, backward);
        test_rng r = test_rng_seeded(seed + (uint64_t)backward);
        lc_tensor **t = jit_random_inputs(g, &r, scale);
        char w2[600];
        snprintf(w2, sizeof w2, "%s%s", what, backward ? ", forward+backward" : ", forward");
        check_seq_graph(g, t, tol_rel(dt), tol_abs(dt), w2);
        jit_free_tensors(t, lc_graph_input_count(g));
        lc_graph_free(g);
    }
}

static void check_seq(const lc_module *m, lc_dtype dt, lc_shape in, uint64_t seed) {
    check_seq_at(m, dt, in, seed, 3.0);
}

static lc_module *seq_of(lc_module **children, int n) {
    lc_module *s;
    assert_ok(lc_sequential_new(&s));
    for (int i = 0; i < n; i++) assert_ok(lc_sequential_append(s, children[i]));
    return s;
}

/* The demo's model: the case both bugs were found on. */
static void demo_model(void **state) {
    (void)state;
    lc_module *c[2] = {test_avgpool(3, 1, 1, false, true), test_lppool(2, 4, LC_STRIDE_UNSET, false)};
    lc_module *m = seq_of(c, 2);
    check_seq(m, LC_F32, test_shape3(1, 2, 16), 1);
    check_seq(m, LC_F32, test_shape3(8, 16, 64), 2);
    check_seq(m, LC_F64, test_shape3(3, 2, 37), 3);
    lc_module_free(m);
}

/* The reduced reproduction: x = normal(seed 0) (1, 2, 16), seed ones, values from the
 * interpreter; the JIT gave row 0 positions 13-15 and row 1 positions 1 and 15 wrong. */
static void demo_model_ones_seed(void **state) {
    (void)state;
    lc_module *c[2] = {test_avgpool(3, 1, 1, false, true), test_lppool(2, 4, LC_STRIDE_UNSET, false)};
    lc_module *m = seq_of(c, 2);
    lc_graph *g = jit_module_graph(m, LC_F32, test_shape3(1, 2, 16), true);
    test_rng r = test_rng_seeded(7);
    lc_tensor *in[2];
    in[0] = test_random_tensor(&r, LC_F32, test_shape3(1, 2, 16), 2.0);
    const double ones[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    assert_ok(lc_tensor_from_doubles(LC_F32, test_shape3(1, 2, 4), ones, &in[1]));
    check_seq_graph(g, in, 1e-4, 1e-6, "AvgPool1d(3,1,1) -> LPPool1d(2,4), seed ones");
    lc_tensor_free(in[0]);
    lc_tensor_free(in[1]);
    lc_graph_free(g);
    lc_module_free(m);
}

/* Window-major blocks of several steps (lc_schedule.block_steps): the backward of a stride-1
 * AvgPool over an LP norm of step 4 (the demo) or 2 runs blocks of 4 or 2 positions, where
 * the LP gradient's window is affine in the block. Rows long enough for the vectorized loop
 * over blocks, its rounded trip count and the blocks left to the scalar loop (1023 whole
 * blocks of 4 at 4096, 1026 at 4109), a split between threads inside a row, and the short
 * rows' edges; y and dx against the interpreter at 1 and 2 threads, bit-identical between
 * them. */
static void blocks_of_several_steps(void **state) {
    (void)state;
    struct { int64_t avg_k, avg_pad; double p; int64_t lp_k; } chains[] = {
        {3, 1, 2, 4}, {3, 1, 3, 4}, {5, 2, 2, 2}, {3, 1, 1.5, 4}};
    for (size_t c = 0; c < sizeof chains / sizeof chains[0]; c++) {
        lc_module *ch[2] = {test_avgpool(chains[c].avg_k, 1, chains[c].avg_pad, false, true),
                            test_lppool(chains[c].p, chains[c].lp_k, LC_STRIDE_UNSET, false)};
        lc_module *m = seq_of(ch, 2);
        check_seq(m, LC_F32, test_shape3(1, 2, 4109), 11 + c);
        check_seq(m, LC_F32, test_shape3(2, 3, 4096), 21 + c);
        check_seq(m, LC_F32, test_shape3(1, 1, 203), 31 + c);
        check_seq(m, LC_F64, test_shape3(1, 2, 1029), 41 + c);
        lc_module_free(m);
    }
}

/* A stride-1 padded AvgPool alone and first in a chain: its backward is a fold with step 1
 * and pad_lo > 0, run window-major; it must not write before its row. */
static void stride1_padded_backward(void **state) {
    (void)state;
    for (int64_t k = 2; k <= 5; k++) {
        lc_module *a = test_avgpool(k, 1, k / 2, false, k % 2 == 0);
        check_seq(a, LC_F32, test_shape3(2, 3, 19), (uint64_t)(10 + k));
        lc_module_free(a);
        lc_module *c[2] = {test_avgpool(k, 1, k / 2, false, true), test_avgpool(2, 2, 1, true, false)};
        lc_module *m = seq_of(c, 2);
        check_seq(m, LC_F32, test_shape3(2, 2, 23), (uint64_t)(20 + k));
        lc_module_free(m);
    }
}

/* A large-p norm (p = 60, evaluated scaled by the window max) under an overlapping pool: the
 * norm is materialized whole; materializing only its sum left the kernel without the input
 * the scaled form reads (lc_compile crashed). f64 so that the interpreter, which evaluates
 * the graph as written, does not overflow either. */
static void large_p_under_overlapping_pool(void **state) {
    (void)state;
    lc_module *c[2] = {test_lppool(60, 4, 1, true), test_avgpool(5, 1, 2, false, true)};
    lc_module *m = seq_of(c, 2);
    check_seq(m, LC_F64, test_shape3(2, 2, 35), 30);
    lc_module_free(m);
    lc_module *c3[3] = {test_avgpool(3, 2, 1, true, false), test_lppool(60, 3, 1, false), test_lppool(2, 2, 1, false)};
    m = seq_of(c3, 3);
    check_seq(m, LC_F64, test_shape3(3, 2, 41), 31);
    lc_module_free(m);
}

/* An LP norm whose base simplify proves never negative far down the chain (the root of an
 * earlier norm under five average pools): simplify drops its abs, so fuse must see the same
 * fact to scale it, else |x|^8 of values near 1e5 overflows float32 (inf where 1.3e5 is
 * right). Fuse took its own walk of depth 8 and missed this one; it now reads simplify's
 * facts (lc_nonneg_facts). */
static void lp_base_nonneg_far_down(void **state) {
    (void)state;
    lc_module *c[7] = {test_lppool(2, 2, 1, false),        test_avgpool(2, 1, 0, false, true),
                       test_avgpool(2, 1, 0, false, true), test_avgpool(2, 1, 0, false, true),
                       test_avgpool(2, 1, 0, false, true), test_avgpool(2, 1, 0, false, true),
                       test_lppool(8, 2, 1, false)};
    lc_module *m = seq_of(c, 7);
    /* float32 forward only: its gradient sums terms of both signs through seven pools, which
     * float32 cancels beyond rtol 1e-4 whatever the norm's form (the float64 run checks it) */
    lc_graph *g = jit_module_graph(m, LC_F32, test_shape3(2, 3, 40), false);
    test_rng r = test_rng_seeded(50);
    lc_tensor **t = jit_random_inputs(g, &r, 1e5);
    check_seq_graph(g, t, tol_rel(LC_F32), tol_abs(LC_F32), "LP norm of a nonneg base far down, f32 near 1e5");
    jit_free_tensors(t, 1);
    lc_graph_free(g);
    check_seq_at(m, LC_F64, test_shape3(2, 3, 40), 51, 1e40);
    lc_module_free(m);
}

/* A window whose position was clamped by a kept check, read through a second window (a
 * fuzz finding): AvgPool1d(4, 5, 2) over LPPool1d(1, 5, 2, ceil_mode) over a length-4 row.
 * At i = 0 the outer position -2 clamps to 0, and the inner window's tap 4 then reads position
 * 4, outside the row; its check was elided from the affine form (10·i + 0, in range at
 * i = 0), the load ran past a 4-element constant, and LLVM, seeing it, compiled the kernel
 * into an endless loop. */
static void clamped_window_under_a_window(void **state) {
    (void)state;
    lc_module *c[3] = {test_avgpool(2, 3, 1, true, false), test_lppool(1, 5, 2, true), test_avgpool(4, 5, 2, false, true)};
    lc_module *m = seq_of(c, 3);
    lc_graph *g = jit_module_graph(m, LC_F32, (lc_shape){2, {1, 10}}, false);
    test_rng r = test_rng_seeded(40);
    lc_tensor **t = jit_random_inputs(g, &r, 4.0);
    /* as the fuzzer compiled it: the module's graph, without the default pipeline's rewrites
     * (they drop the pow of p = 1, and with it the fix-up whose code LLVM read the load in);
     * the old code looped forever here, so an alarm turns that into a failure */
    alarm(120);
    jit_check_graph_inputs(g, t, 1e-4, 1e-6);
    alarm(0);
    check_seq_graph(g, t, 1e-4, 1e-6, "the fuzz finding's chain on f32[1,10]");
    jit_free_tensors(t, 1);
    lc_graph_free(g);
    check_seq(m, LC_F32, test_shape3(1, 1, 10), 40);
    check_seq(m, LC_F64, test_shape3(2, 3, 10), 41);
    lc_module_free(m);
    /* A position constant in i (the rows have one element), clamped: its check was elided
     * by the constant form (0 <= 5·(-1) + 5 <= 3) while the clamped value reads position 5
     * of a row of 4. The values hide it (a select drops the element): the bounds-checked
     * run of this test (LUCID_CHECK_BOUNDS=1, ctest's *_bounds_checked) traps on it. */
    lc_module *c3[3] = {test_lppool(2, 6, 5, true), test_avgpool(3, 3, 1, false, false), test_lppool(100, 1, LC_STRIDE_UNSET, false)};
    m = seq_of(c3, 3);
    g = jit_module_graph(m, LC_F64, (lc_shape){2, {3, 4}}, false);
    r = test_rng_seeded(43);
    t = jit_random_inputs(g, &r, 1e-3);
    jit_check_graph_inputs(g, t, 1e-9, 1e-12);
    jit_free_tensors(t, 1);
    lc_graph_free(g);
    check_seq(m, LC_F32, test_shape3(1, 3, 4), 43);
    lc_module_free(m);
    /* the same shape of index one level down: the outer clamp feeding an AvgPool's window */
    lc_module *c2[2] = {test_avgpool(5, 2, 0, true, true), test_avgpool(4, 5, 2, false, true)};
    m = seq_of(c2, 2);
    check_seq(m, LC_F32, test_shape3(1, 2, 4), 42);
    lc_module_free(m);
}

/* the last, large p, is drawn only for f64 (see above) */
static const double norms[] = {1, 2, 3, 1.5, 4.5, 0.75, 60};

static lc_module *random_pool(test_rng *r, lc_dtype dt) {
    int64_t k = test_rng_int(r, 1, 6);
    /* strides below, equal to and above the kernel: overlapping, tiling and gapped windows */
    int64_t s = test_rng_int(r, 1, 7);
    bool ceil_mode = test_rng_int(r, 0, 1);
    if (test_rng_int(r, 0, 1)) return test_avgpool(k, s, test_rng_int(r, 0, k / 2), ceil_mode, test_rng_int(r, 0, 1));
    int64_t n_norms = (int64_t)(sizeof norms / sizeof norms[0]) - (dt == LC_F64 ? 0 : 1);
    return test_lppool(norms[test_rng_int(r, 0, n_norms - 1)], k, s, ceil_mode);
}

/* Random chains of 2-3 pools on random shapes; chains whose output would be empty are
 * drawn again (lc_module_output_shape rejects them). */
static void random_chains(void **state) {
    (void)state;
    test_rng r = test_rng_seeded(20261121);
    int done = 0, tries = 0;
    while (done < 60) {
        assert_true(++tries < 10000);
        lc_dtype dt = test_rng_int(&r, 0, 2) == 0 ? LC_F64 : LC_F32;
        int n = (int)test_rng_int(&r, 2, 3);
        lc_module *c[3];
        for (int i = 0; i < n; i++) c[i] = random_pool(&r, dt);
        lc_module *m = seq_of(c, n);
        /* mostly short rows (every edge case near both ends), some long enough for a
         * vectorized interior and a split between threads inside a row */
        int64_t len = test_rng_int(&r, 0, 3) == 0 ? test_rng_int(&r, 40, 300) : test_rng_int(&r, 1, 40);
        lc_shape in = test_shape3(test_rng_int(&r, 1, 3), test_rng_int(&r, 2, 4), len);
        lc_shape out;
        if (lc_module_output_shape(m, in, &out) == LC_OK) {
            check_seq(m, dt, in, (uint64_t)tries);
            done++;
        }
        lc_module_free(m);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(demo_model),
        cmocka_unit_test(demo_model_ones_seed),
        cmocka_unit_test(blocks_of_several_steps),
        cmocka_unit_test(stride1_padded_backward),
        cmocka_unit_test(large_p_under_overlapping_pool),
        cmocka_unit_test(clamped_window_under_a_window),
        cmocka_unit_test(lp_base_nonneg_far_down),
        cmocka_unit_test(random_chains),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
