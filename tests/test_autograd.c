/* The autograd API: the worked examples of docs/semantics.md and LP edge cases through lc_module_call and
 * lc_backward, seed rules and their errors, accumulation and zero_grad, chains, the executor
 * switch, and freeing tensors in every order (run under valgrind by .ci). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lucid/autodiff.h"
#include "lucid/autograd.h"
#include "lucid/nn.h"
#include "lucid/runtime.h"
#include "support/testutil.h"

static lc_tensor *row(lc_dtype dt, int64_t n, const double *v) {
    lc_tensor *t;
    assert_ok(lc_tensor_from_doubles(dt, test_shape3(1, 1, n), v, &t));
    return t;
}

static lc_tensor *leaf(lc_dtype dt, int64_t n, const double *v) {
    lc_tensor *t = row(dt, n, v);
    assert_ok(lc_tensor_set_requires_grad(t, true));
    return t;
}

/* y = m(x), backward with `seed` values; checks y and x.grad against the expected values. */
static void check_call(const lc_module *m, lc_dtype dt, int64_t n, const double *x, int64_t n_out,
                       const double *want_y, const double *seed, const double *want_grad, double rtol,
                       double atol) {
    lc_tensor *xt = leaf(dt, n, x), *y, *s = row(dt, n_out, seed);
    assert_ok(lc_module_call(m, xt, &y));
    assert_int_equal(y->shape.dim[2], n_out);
    assert_int_equal(y->dtype, dt);
    assert_values_close(y, want_y, n_out, rtol, atol);
    assert_non_null(y->grad_fn);
    assert_false(y->requires_grad);
    assert_null(xt->grad);
    assert_ok(lc_backward(y, s));
    assert_non_null(xt->grad);
    assert_int_equal(xt->grad->dtype, dt);
    assert_true(lc_shape_equal(&xt->grad->shape, &xt->shape));
    assert_values_close(xt->grad, want_grad, n, rtol, atol);
    lc_tensor_free(y);
    lc_tensor_free(s);
    lc_tensor_free(xt);
}

/* ---- the worked examples of docs/semantics.md ---- */

static void test_avgpool_worked_examples(void **state) {
    (void)state;
    for (int d = 0; d < 2; d++) {
        lc_dtype dt = d ? LC_F64 : LC_F32;
        lc_module *m = test_avgpool(2, 2, 0, false, true);
        check_call(m, dt, 4, (double[]){1, 2, 3, 4}, 2, (double[]){1.5, 3.5}, (double[]){1, 1},
                   (double[]){0.5, 0.5, 0.5, 0.5}, 0, 0);
        lc_module_free(m);
        m = test_avgpool(2, 1, 1, false, true);
        check_call(m, dt, 3, (double[]){1, 2, 3}, 4, (double[]){0.5, 1.5, 2.5, 1.5},
                   (double[]){1, 1, 1, 1}, (double[]){1, 1, 1}, 0, 0);
        lc_module_free(m);
        m = test_avgpool(2, 1, 1, false, false);
        check_call(m, dt, 3, (double[]){1, 2, 3}, 4, (double[]){1.0, 1.5, 2.5, 3.0},
                   (double[]){1, 1, 1, 1}, (double[]){1.5, 1.0, 1.5}, 0, 0);
        lc_module_free(m);
    }
}

/* LPPool1d examples of docs/semantics.md with their gradients: [1,-2,3,-4,5], p=2, k=2 → [√5, 5]; the
 * gradient of a 2-norm is x / y per window (the trailing 5 is in no window). */
static void test_lppool_worked_example(void **state) {
    (void)state;
    lc_module *m = test_lppool(2, 2, LC_STRIDE_UNSET, false);
    double r5 = sqrt(5.0);
    check_call(m, LC_F64, 5, (double[]){1, -2, 3, -4, 5}, 2, (double[]){r5, 5}, (double[]){1, 1},
               (double[]){1 / r5, -2 / r5, 0.6, -0.8, 0}, 1e-15, 0);
    lc_module_free(m);
    /* ceil mode: the partial last window [5] has norm 5 and gradient sign(5) = 1 */
    m = test_lppool(2, 2, LC_STRIDE_UNSET, true);
    check_call(m, LC_F64, 5, (double[]){1, -2, 3, -4, 5}, 3, (double[]){r5, 5, 5}, (double[]){1, 1, 2},
               (double[]){1 / r5, -2 / r5, 0.6, -0.8, 2}, 1e-15, 0);
    lc_module_free(m);
}

/* ---- LP conventions ---- */

/* A window of zeros has norm 0 and passes gradient 0 (Lucid, github.com/ChanLumerico/lucid,
 * gives NaN). */
static void test_lp_zero_window_gradient_is_zero(void **state) {
    (void)state;
    const double ps[] = {0.5, 1, 1.5, 2, 2.5, 3, 7, 60};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
        double p = ps[i];
        lc_module *m = test_lppool(p, 2, LC_STRIDE_UNSET, false);
        /* windows [0, 0], [0, -0], [3, 0] */
        double y3 = 3, g3 = 1; /* norm of [3, 0] is 3; d/dx at 3 is (3/3)^(p-1) = 1 */
        for (int d = 0; d < 2; d++)
            check_call(m, d ? LC_F64 : LC_F32, 6, (double[]){0, 0, 0, -0.0, 3, 0}, 3,
                       (double[]){0, 0, y3}, (double[]){1, 7, 2}, (double[]){0, 0, 0, 0, 2 * g3, 0},
                       1e-6, 0);
        lc_module_free(m);
    }
}

/* x = 0 with p <= 1: the term |x|^(p-1) would be inf; the gradient there is 0. */
static void test_lp_small_p_at_zeros(void **state) {
    (void)state;
    lc_module *m = test_lppool(0.5, 4, LC_STRIDE_UNSET, false);
    /* window [0, 0, 1, 4]: y = (0 + 0 + 1 + 2)^2 = 9; dy/dx = (|x|/y)^(-1/2) sign(x) */
    check_call(m, LC_F64, 4, (double[]){0, 0, 1, -4}, 1, (double[]){9}, (double[]){1},
               (double[]){0, 0, 3, -1.5}, 1e-15, 0);
    lc_module_free(m);
    m = test_lppool(1, 2, 1, false);
    /* p = 1: y = |x0| + |x1|, dy/dx = sign(x): 0 at 0 */
    check_call(m, LC_F32, 3, (double[]){0, 2, -0.5}, 2, (double[]){2, 2.5}, (double[]){1, 10},
               (double[]){0, 11, -10}, 0, 0);
    lc_module_free(m);
    m = test_lppool(0.25, 2, 2, false);
    check_call(m, LC_F32, 4, (double[]){0, 0, 0, 16}, 2, (double[]){0, 16}, (double[]){1, 1},
               (double[]){0, 0, 0, 1}, 1e-6, 0);
    lc_module_free(m);
}

/* p = 60 with f32 inputs up to 1e3: |x|^60 overflows f32 at |x| ≈ 4.4, yet outputs and gradients
 * are finite and match the stable float64 form g·sign(x)·(|x|/y)^(p-1). */
static void test_lp_large_p_finite(void **state) {
    (void)state;
    test_rng r = test_rng_seeded(60);
    const int64_t k = 3, len = 30;
    lc_module *m = test_lppool(60, k, 2, true);
    lc_tensor *x;
    assert_ok(lc_tensor_new(LC_F32, test_shape3(2, 2, len), &x));
    for (int64_t i = 0; i < lc_tensor_numel(x); i++)
        lc_tensor_set(x, i, test_rng_uniform(&r, -1000, 1000) * (i % 5 == 0 ? 1e-3 : 1));
    assert_ok(lc_tensor_set_requires_grad(x, true));
    lc_tensor *y, *seed;
    assert_ok(lc_module_call(m, x, &y));
    assert_ok(lc_tensor_new(LC_F32, y->shape, &seed));
    for (int64_t i = 0; i < lc_tensor_numel(seed); i++) lc_tensor_set(seed, i, test_rng_uniform(&r, -1, 1));
    assert_ok(lc_backward(y, seed));
    int64_t n_out = y->shape.dim[2];
    double *want_y = calloc((size_t)lc_tensor_numel(y), sizeof *want_y);
    double *want_g = calloc((size_t)lc_tensor_numel(x), sizeof *want_g);
    for (int64_t row_i = 0; row_i < 4; row_i++)
        for (int64_t o = 0; o < n_out; o++) {
            int64_t start = o * 2, end = start + k < len ? start + k : len;
            double mx = 0, acc = 0;
            for (int64_t j = start; j < end; j++) mx = fmax(mx, fabs(lc_tensor_get(x, row_i * len + j)));
            for (int64_t j = start; j < end; j++) acc += pow(fabs(lc_tensor_get(x, row_i * len + j)) / mx, 60);
            double yo = mx * pow(acc, 1.0 / 60);
            want_y[row_i * n_out + o] = yo;
            for (int64_t j = start; j < end; j++) {
                double v = lc_tensor_get(x, row_i * len + j);
                double sg = v > 0 ? 1 : v < 0 ? -1 : 0;
                want_g[row_i * len + j] += lc_tensor_get(seed, row_i * n_out + o) * sg * pow(fabs(v) / yo, 59);
            }
        }
    for (int64_t i = 0; i < lc_tensor_numel(y); i++) assert_true(isfinite(lc_tensor_get(y, i)));
    for (int64_t i = 0; i < lc_tensor_numel(x); i++) assert_true(isfinite(lc_tensor_get(x->grad, i)));
    assert_values_close(y, want_y, lc_tensor_numel(y), 1e-6, 0);
    assert_values_close(x->grad, want_g, lc_tensor_numel(x), 1e-5, 1e-30);
    free(want_y);
    free(want_g);
    lc_tensor_free(seed);
    lc_tensor_free(y);
    lc_tensor_free(x);
    lc_module_free(m);
}

/* ---- seeds ---- */

static void test_seed_rules(void **state) {
    (void)state;
    lc_module *m = test_avgpool(2, 2, 0, false, true);
    lc_tensor *x = leaf(LC_F32, 4, (double[]){1, 2, 3, 4}), *y;
    assert_ok(lc_module_call(m, x, &y));
    lc_tensor *bad = row(LC_F32, 3, (double[]){1, 1, 1});
    assert_fails(lc_backward(y, bad), LC_ERR_SHAPE,
                 "backward: seed shape [1,1,3] does not match output shape [1,1,2]");
    assert_null(x->grad); /* a failed backward changes nothing */
    lc_tensor *wrong_dtype = row(LC_F64, 2, (double[]){1, 1});
    assert_fails(lc_backward(y, wrong_dtype), LC_ERR_INVALID_ARG,
                 "backward: seed dtype f64 does not match output dtype f32");
    assert_fails(lc_backward(y, NULL), LC_ERR_SHAPE,
                 "backward: a seed is needed for an output of 2 elements (shape [1,1,2])");
    assert_fails(lc_backward(NULL, NULL), LC_ERR_INVALID_ARG, "must not be NULL");
    assert_null(x->grad);
    /* a tensor that tracks nothing */
    lc_tensor *plain = row(LC_F32, 4, (double[]){1, 2, 3, 4}), *py;
    assert_ok(lc_module_call(m, plain, &py));
    assert_null(py->grad_fn);
    assert_fails(lc_backward(py, wrong_dtype), LC_ERR_INVALID_ARG, "does not require grad");
    /* requires_grad is a leaf's flag */
    assert_fails(lc_tensor_set_requires_grad(y, false), LC_ERR_INVALID_ARG,
                 "requires_grad can only be changed on a leaf tensor");
    lc_tensor_free(py);
    lc_tensor_free(plain);
    lc_tensor_free(bad);
    lc_tensor_free(wrong_dtype);
    lc_tensor_free(y);
    lc_tensor_free(x);
    lc_module_free(m);
}

/* No seed for a one-element output means 1. */
static void test_seed_omitted_for_one_element(void **state) {
    (void)state;
    lc_module *m = test_avgpool(4, 4, 0, false, true);
    lc_tensor *x = leaf(LC_F64, 4, (double[]){1, 2, 3, 4}), *y;
    assert_ok(lc_module_call(m, x, &y));
    assert_int_equal(lc_tensor_numel(y), 1);
    assert_ok(lc_backward(y, NULL));
    assert_values_close(x->grad, (double[]){0.25, 0.25, 0.25, 0.25}, 4, 0, 0);
    /* backward from the leaf itself adds the seed to its own grad */
    lc_tensor *s = row(LC_F64, 4, (double[]){1, 2, 3, 4});
    assert_ok(lc_backward(x, s));
    assert_values_close(x->grad, (double[]){1.25, 2.25, 3.25, 4.25}, 4, 0, 0);
    lc_tensor_free(s);
    lc_tensor_free(y);
    lc_tensor_free(x);
    lc_module_free(m);
}

/* ---- accumulation, zero_grad ---- */

static void test_accumulation_and_zero_grad(void **state) {
    (void)state;
    lc_module *m = test_avgpool(2, 1, 1, false, false);
    lc_tensor *x = leaf(LC_F32, 3, (double[]){1, 2, 3}), *y, *s = row(LC_F32, 4, (double[]){1, 1, 1, 1});
    assert_ok(lc_module_call(m, x, &y));
    lc_tensor_zero_grad(x); /* nothing yet: no-op */
    assert_null(x->grad);
    assert_ok(lc_backward(y, s));
    assert_ok(lc_backward(y, s));
    assert_values_close(x->grad, (double[]){3, 2, 3}, 3, 0, 0);
    lc_tensor_zero_grad(x);
    assert_values_close(x->grad, (double[]){0, 0, 0}, 3, 0, 0);
    assert_ok(lc_backward(y, s));
    assert_values_close(x->grad, (double[]){1.5, 1, 1.5}, 3, 0, 0);
    /* a second call on the same leaf accumulates into the same grad */
    lc_tensor *y2;
    assert_ok(lc_module_call(m, x, &y2));
    assert_ok(lc_backward(y2, s));
    assert_values_close(x->grad, (double[]){3, 2, 3}, 3, 0, 0);
    char *repr;
    assert_ok(lc_tensor_repr(x, &repr));
    assert_string_equal(repr, "Tensor([[[1.0, 2.0, 3.0]]], grad=Tensor([[[3.0, 2.0, 3.0]]]))");
    free(repr);
    lc_tensor_free(y2);
    lc_tensor_free(y);
    lc_tensor_free(s);
    lc_tensor_free(x);
    lc_module_free(m);
}

/* ---- chains ---- */

/* y2 = lp(avg(x)) backward through both calls equals the Sequential's gradient from one graph. */
static void test_chain_matches_sequential(void **state) {
    (void)state;
    test_rng r = test_rng_seeded(7);
    lc_module *a = test_avgpool(3, 2, 1, true, false), *b = test_lppool(2.5, 2, 1, false);
    lc_module *seq;
    assert_ok(lc_sequential_new(&seq));
    assert_ok(lc_sequential_append(seq, test_avgpool(3, 2, 1, true, false)));
    assert_ok(lc_sequential_append(seq, test_lppool(2.5, 2, 1, false)));
    lc_tensor *x = test_random_tensor(&r, LC_F64, test_shape3(2, 3, 11), 2.0);
    assert_ok(lc_tensor_set_requires_grad(x, true));
    lc_tensor *y1, *y2, *ys;
    assert_ok(lc_module_call(a, x, &y1));
    assert_ok(lc_module_call(b, y1, &y2));
    lc_tensor *x2;
    assert_ok(lc_tensor_clone(x, &x2));
    assert_ok(lc_tensor_set_requires_grad(x2, true));
    assert_ok(lc_module_call(seq, x2, &ys));
    assert_tensor_close(y2, ys, 1e-15, 0);
    lc_tensor *seed = test_random_tensor(&r, LC_F64, y2->shape, 1.0);
    assert_ok(lc_backward(y2, seed));
    assert_ok(lc_backward(ys, seed));
    assert_tensor_close(x->grad, x2->grad, 1e-12, 1e-15);
    assert_null(y1->grad); /* only leaves get .grad */
    lc_tensor_free(seed);
    lc_tensor_free(ys);
    lc_tensor_free(x2);
    lc_tensor_free(y2);
    lc_tensor_free(y1);
    lc_tensor_free(x);
    lc_module_free(seq);
    lc_module_free(a);
    lc_module_free(b);
}

/* Every order of freeing x, y1 = m(x), y2 = m(y1), with backward before, between or after. */
static void test_free_in_any_order(void **state) {
    (void)state;
    static const int orders[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    lc_module *m = test_avgpool(2, 1, 0, false, true);
    for (int o = 0; o < 6; o++)
        for (int backward_after = 0; backward_after <= 2; backward_after++) {
            lc_tensor *t[3];
            t[0] = leaf(LC_F64, 5, (double[]){1, 2, 3, 4, 5});
            assert_ok(lc_module_call(m, t[0], &t[1]));
            assert_ok(lc_module_call(m, t[1], &t[2]));
            lc_tensor *seed = row(LC_F64, 3, (double[]){1, 1, 1});
            bool x_alive = true;
            for (int k = 0; k < 3; k++) {
                if (k == backward_after && t[2]) {
                    assert_ok(lc_backward(t[2], seed));
                    if (x_alive) assert_values_close(t[0]->grad, (double[]){0.25, 0.75, 1, 0.75, 0.25}, 5, 0, 0);
                }
                lc_tensor_free(t[orders[o][k]]);
                if (orders[o][k] == 0) x_alive = false;
                t[orders[o][k]] = NULL;
            }
            lc_tensor_free(seed);
        }
    lc_module_free(m);
}

/* A freed leaf or one that stopped requiring grad receives nothing; the rest still works. */
static void test_detached_leaf(void **state) {
    (void)state;
    lc_module *m = test_avgpool(2, 2, 0, false, true);
    lc_tensor *x = leaf(LC_F64, 4, (double[]){1, 2, 3, 4}), *y, *s = row(LC_F64, 2, (double[]){1, 1});
    assert_ok(lc_module_call(m, x, &y));
    assert_ok(lc_tensor_set_requires_grad(x, false));
    assert_null(x->grad_fn);
    assert_ok(lc_backward(y, s)); /* reaches no live leaf */
    assert_null(x->grad);
    /* requires_grad set by hand on the field works too */
    x->requires_grad = true;
    assert_true(lc_tensor_tracks_grad(x));
    lc_tensor *y2;
    assert_ok(lc_module_call(m, x, &y2));
    assert_ok(lc_backward(y2, s));
    assert_values_close(x->grad, (double[]){0.5, 0.5, 0.5, 0.5}, 4, 0, 0);
    lc_tensor_free(y2);
    lc_tensor_free(y);
    lc_tensor_free(s);
    lc_tensor_free(x);
    lc_module_free(m);
}

/* ---- rank 2, errors, executor ---- */

static void test_rank2_input(void **state) {
    (void)state;
    lc_module *m = test_avgpool(2, 2, 0, false, true);
    int64_t d[] = {2, 4};
    lc_tensor *x, *y, *s;
    assert_ok(lc_tensor_from_doubles(LC_F32, lc_shape_make(2, d), (double[]){1, 2, 3, 4, 5, 6, 7, 8}, &x));
    assert_ok(lc_tensor_set_requires_grad(x, true));
    assert_ok(lc_module_call(m, x, &y));
    assert_int_equal(y->shape.rank, 2);
    int64_t ds[] = {2, 2};
    assert_ok(lc_tensor_from_doubles(LC_F32, lc_shape_make(2, ds), (double[]){1, 2, 3, 4}, &s));
    assert_ok(lc_backward(y, s));
    assert_values_close(x->grad, (double[]){0.5, 0.5, 1, 1, 1.5, 1.5, 2, 2}, 8, 0, 0);
    lc_tensor_free(s);
    lc_tensor_free(y);
    lc_tensor_free(x);
    lc_module_free(m);
}

static void test_module_errors(void **state) {
    (void)state;
    lc_module *m = test_lppool(2, 4, LC_STRIDE_UNSET, false);
    lc_tensor *x = leaf(LC_F32, 3, (double[]){1, 2, 3}), *y = (lc_tensor *)1;
    assert_fails(lc_module_call(m, x, &y), LC_ERR_SHAPE, "LPPool1d");
    assert_null(y);
    assert_fails(lc_module_call(NULL, x, &y), LC_ERR_INVALID_ARG, "must not be NULL");
    assert_fails(lc_tensor_set_requires_grad(NULL, true), LC_ERR_INVALID_ARG, "must not be NULL");
    lc_tensor_free(x);
    lc_module_free(m);
}

static int executor_calls;
static lc_status counting_executor(const lc_graph *g, const lc_tensor *const *inputs, int n_inputs,
                                   lc_tensor **outputs, int n_outputs) {
    executor_calls++;
    return lc_interp_run(g, inputs, n_inputs, outputs, n_outputs);
}

static lc_status failing_executor(const lc_graph *g, const lc_tensor *const *inputs, int n_inputs,
                                  lc_tensor **outputs, int n_outputs) {
    (void)g, (void)inputs, (void)n_inputs;
    for (int i = 0; i < n_outputs; i++) outputs[i] = NULL;
    return LC_ERR_JIT;
}

static void test_executor_switch(void **state) {
    (void)state;
    lc_module *m = test_avgpool(2, 2, 0, false, true);
    lc_executor_fn before = lc_autograd_set_executor(counting_executor);
    assert_ptr_equal(before, lc_interp_run);
    lc_tensor *x = leaf(LC_F32, 4, (double[]){1, 2, 3, 4}), *y, *s = row(LC_F32, 2, (double[]){1, 1});
    assert_ok(lc_module_call(m, x, &y));
    assert_ok(lc_backward(y, s));
    assert_int_equal(executor_calls, 2);
    lc_autograd_set_executor(failing_executor);
    assert_int_equal(lc_backward(y, s), LC_ERR_JIT);
    assert_values_close(x->grad, (double[]){0.5, 0.5, 0.5, 0.5}, 4, 0, 0); /* unchanged */
    lc_tensor *y2 = (lc_tensor *)1;
    assert_int_equal(lc_module_call(m, x, &y2), LC_ERR_JIT);
    assert_null(y2);
    assert_ptr_equal(lc_autograd_set_executor(NULL), failing_executor);
    assert_ok(lc_backward(y, s));
    assert_values_close(x->grad, (double[]){1, 1, 1, 1}, 4, 0, 0);
    lc_tensor_free(s);
    lc_tensor_free(y);
    lc_tensor_free(x);
    lc_module_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_avgpool_worked_examples),
        cmocka_unit_test(test_lppool_worked_example),
        cmocka_unit_test(test_lp_zero_window_gradient_is_zero),
        cmocka_unit_test(test_lp_small_p_at_zeros),
        cmocka_unit_test(test_lp_large_p_finite),
        cmocka_unit_test(test_seed_rules),
        cmocka_unit_test(test_seed_omitted_for_one_element),
        cmocka_unit_test(test_accumulation_and_zero_grad),
        cmocka_unit_test(test_chain_matches_sequential),
        cmocka_unit_test(test_free_in_any_order),
        cmocka_unit_test(test_detached_leaf),
        cmocka_unit_test(test_rank2_input),
        cmocka_unit_test(test_module_errors),
        cmocka_unit_test(test_executor_switch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
