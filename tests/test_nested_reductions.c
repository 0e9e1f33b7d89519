/* Reductions nested in one kernel: MSELoss sums every axis of (input - target)^2, one `sum`
 * per axis, and fuse evaluates them all inline. Unrolled into one another (16 x 5 x 16 terms
 * around 16 lanes of partial sums for f32[16,5,33,1,16], a capi fuzz finding) the kernel held
 * ~43,000 loads and LLVM took 15 s and more to compile it. Fuse now emits a reduction whose
 * code would pass LC_UNROLL_CODE_MAX as a loop (rolled, or its partial sums' lanes packed by
 * a loop), the same terms in the same order.
 *
 * Each shape here is checked three ways: the kernels' code estimate (lc_kernel.code) stays
 * within the budget, so the blow-up cannot come back unnoticed; the JIT's result has exactly
 * the bits of the summation order emit_reduce.c documents, emulated here in the element type
 * (terms in index order for a reduction of up to LC_UNROLL_MAX terms, else W-lane partial
 * sums combined pairwise), so rolling changed no bit; and both engines are within the
 * tolerance of a float64 sum written here. A nest of maxima with its backward (reducers that
 * carry an index beside the value) runs on both engines against each other. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "jit_harness.h"
#include "lucid/passes.h"
#include "passes/kernel.h"

static double round_to(lc_dtype dt, double v) { return dt == LC_F32 ? (double)(float)v : v; }

/* The sum of t[0 .. n-1] in the order of emit_reduce.c, each operation rounded to dt. */
static double sum_as_jit(lc_dtype dt, const double *t, int64_t n) {
    if (n <= LC_UNROLL_MAX) { /* unrolled or rolled: index order from +0 */
        double acc = 0;
        for (int64_t j = 0; j < n; j++) acc = round_to(dt, acc + t[j]);
        return acc;
    }
    int lanes = LC_PARTIAL_LANES(dt); /* lane l folds the terms j = l (mod W) in order */
    double lane[16] = {0};
    for (int64_t j = 0; j < n; j++) lane[j % lanes] = round_to(dt, lane[j % lanes] + t[j]);
    for (int half = lanes / 2; half >= 1; half /= 2) /* l with l + W/2, then with l + W/4, ... */
        for (int l = 0; l < half; l++) lane[l] = round_to(dt, lane[l] + lane[l + half]);
    return lane[0];
}

/* MSELoss (mean) as the graph computes it: (a - b)^2, then a sum over axis 0 until a scalar,
 * then / n; `as_jit` rounds as the JIT sums, else a float64 sum in index order. */
static double mse_reference(lc_dtype dt, lc_shape s, const lc_tensor *a, const lc_tensor *b, bool as_jit) {
    int64_t n = lc_shape_numel(&s);
    double *x = malloc(sizeof(double) * (size_t)n), *terms = malloc(sizeof(double) * (size_t)s.dim[0]);
    assert_non_null(x);
    assert_non_null(terms);
    for (int64_t i = 0; i < n; i++) {
        double d = lc_tensor_get(a, i) - lc_tensor_get(b, i); /* a + b·(-1), exact in dt */
        x[i] = as_jit ? round_to(dt, round_to(dt, d) * round_to(dt, d)) : d * d;
    }
    int64_t len = n;
    for (int axis = 0; axis < s.rank; axis++) {
        int64_t k = s.dim[axis], rest = len / k;
        terms = realloc(terms, sizeof(double) * (size_t)k);
        assert_non_null(terms);
        for (int64_t r = 0; r < rest; r++) {
            for (int64_t j = 0; j < k; j++) terms[j] = x[j * rest + r];
            double acc = 0;
            if (as_jit) acc = sum_as_jit(dt, terms, k);
            else
                for (int64_t j = 0; j < k; j++) acc += terms[j];
            x[r] = acc;
        }
        len = rest;
    }
    double y = as_jit ? round_to(dt, x[0] / round_to(dt, (double)n)) : x[0] / (double)n;
    free(x);
    free(terms);
    return y;
}

typedef struct forms { int rolled, lanes_rolled; } forms;

/* MSELoss on two random tensors of shape s: the code estimate of every kernel, the JIT's bits
 * against the emulated order, both engines against float64; returns the reductions that fuse
 * emitted as loops. */
static forms check_mse(lc_dtype dt, lc_shape s, uint64_t seed) {
    lc_mseloss_params params = lc_mseloss_defaults();
    lc_module *m;
    assert_ok(lc_mseloss_new(&params, &m));
    lc_graph *g, *opt;
    assert_ok(lc_module_graph(m, dt, s, &g));
    assert_ok(lc_pipeline_run_default(g, false, NULL, &opt)); /* as lucidc and the Python package */

    forms seen = {0, 0};
    lc_fused *f;
    assert_ok(lc_fuse(opt, &f));
    for (int k = 0; k < f->n_kernels; k++) {
        const lc_kernel *kr = &f->kernels[k];
        if (kr->code > LC_UNROLL_CODE_MAX)
            fail_msg("kernel %d holds ~%lld loads in its code, over %d", k, (long long)kr->code, LC_UNROLL_CODE_MAX);
        for (int r = 0; r < kr->sched.n_reductions; r++) {
            seen.rolled += kr->sched.reductions[r].rolled;
            seen.lanes_rolled += kr->sched.reductions[r].lanes_rolled;
        }
    }
    lc_fused_free(f);

    test_rng rng = test_rng_seeded(seed);
    lc_tensor **in = jit_random_inputs(opt, &rng, 3.0);
    double as_jit = mse_reference(dt, s, in[0], in[1], true);
    double exact = mse_reference(dt, s, in[0], in[1], false);

    lc_program *p;
    assert_ok(lc_compile(opt, NULL, &p));
    lc_tensor *got = NULL, *interp = NULL;
    assert_ok(lc_program_run(p, (const lc_tensor *const *)in, 2, &got, 1));
    assert_ok(lc_interp_run(g, (const lc_tensor *const *)in, 2, &interp, 1));
    double y = lc_tensor_get(got, 0);
    if (y != as_jit)
        fail_msg("JIT %.17g, the documented summation order gives %.17g", y, as_jit);
    double tol = dt == LC_F32 ? JIT_RTOL : 1e-12;
    assert_values_close(got, &exact, 1, tol, 0);
    assert_values_close(interp, &exact, 1, dt == LC_F32 ? 0x1p-24 : 1e-12, 0); /* float64, then rounded to dt */
    /* and bit-identical for every thread count (with the interpreter's tolerance) */
    jit_check_graph_inputs(opt, in, tol, JIT_ATOL);

    lc_tensor_free(got);
    lc_tensor_free(interp);
    lc_program_free(p);
    jit_free_tensors(in, 2);
    lc_graph_free(opt);
    lc_graph_free(g);
    lc_module_free(m);
    return seen;
}

static lc_shape shape_of(int rank, const int64_t *d) {
    lc_shape s = {0};
    s.rank = rank;
    for (int i = 0; i < rank; i++) s.dim[i] = d[i];
    return s;
}

/* The capi finding: 16 and 5 terms unrolled inside 33-term partial sums, inside 1 and 16
 * unrolled terms. The partial sums' lanes are packed by a loop and the outer 16 rolled. */
static void test_finding_shape(void **state) {
    (void)state;
    const int64_t d[] = {16, 5, 33, 1, 16};
    forms f = check_mse(LC_F32, shape_of(5, d), 1);
    assert_true(f.rolled >= 1);
    assert_true(f.lanes_rolled >= 1);
    f = check_mse(LC_F64, shape_of(5, d), 2);
    assert_true(f.rolled >= 1);
}

/* Only unrolled reductions (16^4 terms in one nest): the outer ones become loops. */
static void test_unrolled_nest(void **state) {
    (void)state;
    const int64_t d[] = {16, 16, 16, 16};
    forms f = check_mse(LC_F32, shape_of(4, d), 3);
    assert_true(f.rolled >= 1);
    assert_int_equal(f.lanes_rolled, 0);
}

/* Partial sums inside partial sums, with tails (40 = 2 x 16 + 8, 17 = 16 + 1) and f64's 8
 * lanes, and ranks up to 6. */
static void test_partial_sums_nest(void **state) {
    (void)state;
    const int64_t a[] = {17, 3, 40, 2};
    forms f = check_mse(LC_F32, shape_of(4, a), 4);
    assert_true(f.lanes_rolled >= 1);
    check_mse(LC_F64, shape_of(4, a), 5);
    const int64_t b[] = {17, 17, 17, 2, 3, 2};
    f = check_mse(LC_F32, shape_of(6, b), 6);
    assert_true(f.lanes_rolled >= 1);
}

/* Small nests stay unrolled (their code is within the budget): the control. */
static void test_small_nest_stays_unrolled(void **state) {
    (void)state;
    const int64_t d[] = {3, 5, 7};
    forms f = check_mse(LC_F32, shape_of(3, d), 7);
    assert_int_equal(f.rolled, 0);
    assert_int_equal(f.lanes_rolled, 0);
}

/* A nest of maxima (its reducer carries the max and, for max_mask, the chosen index) with its
 * backward (max_mask, sums of masks): the loops carry every accumulator. The first index
 * wins ties in both engines, and there are ties: the values are small integers. */
static void test_max_nest(void **state) {
    (void)state;
    lc_graph *g;
    assert_ok(lc_graph_new(&g));
    const int64_t d[] = {16, 16, 16, 9};
    int x, a, y;
    assert_ok(lc_input(g, "x", LC_F32, shape_of(4, d), &x));
    assert_ok(lc_abs(g, x, &a));
    for (int i = 0; i < 3; i++) assert_ok(lc_max(g, a, 0, &a));
    assert_ok(lc_sum(g, a, 0, &y));
    assert_ok(lc_graph_add_output(g, y));
    lc_graph *b;
    assert_ok(lc_autodiff(g, NULL, 0, NULL, 0, &b));
    lc_fused *f;
    assert_ok(lc_fuse(b, &f));
    int rolled = 0;
    for (int k = 0; k < f->n_kernels; k++) {
        assert_true(f->kernels[k].code <= LC_UNROLL_CODE_MAX);
        for (int r = 0; r < f->kernels[k].sched.n_reductions; r++) rolled += f->kernels[k].sched.reductions[r].rolled;
    }
    assert_true(rolled >= 1);
    lc_fused_free(f);
    test_rng rng = test_rng_seeded(8);
    lc_tensor **in = jit_random_inputs(b, &rng, 3.0);
    for (int64_t i = 0; i < lc_shape_numel(&in[0]->shape); i++) /* ties: -3 .. 3 */
        lc_tensor_set(in[0], i, (double)test_rng_int(&rng, -3, 3));
    jit_check_graph_inputs(b, in, JIT_RTOL, JIT_ATOL);
    jit_free_tensors(in, lc_graph_input_count(b));
    lc_graph_free(b);
    lc_graph_free(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_finding_shape),
        cmocka_unit_test(test_unrolled_nest),
        cmocka_unit_test(test_partial_sums_nest),
        cmocka_unit_test(test_small_nest_stays_unrolled),
        cmocka_unit_test(test_max_nest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
