/* The max reduction and its gradient (max_mask · expand(gy)): values pinned by hand (NaN wins,
 * ties go to the first maximum, -inf padding never wins, a window of padding alone gives -inf
 * and no gradient); the gradient against central differences away from ties; the JIT against
 * the interpreter with ties, NaNs and windows long enough for vector partial sums, whose lanes
 * must still pick the first maximum. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jit_harness.h"
#include "support/gradcheck.h"

/* max over windows of x (1, 1, L): unfold with -inf padding, then max; with its backward. */
static lc_graph *max_pool_graph(int64_t L, int64_t size, int64_t step, int64_t pad, int64_t dil, bool backward) {
    lc_graph *g;
    int x, u, m;
    assert_ok(lc_graph_new(&g));
    assert_ok(lc_input(g, "x", LC_F64, test_shape3(1, 1, L), &x));
    assert_ok(lc_unfold_neg_inf_pad(g, x, 2, size, step, pad, pad, dil, &u));
    assert_ok(lc_max(g, u, 3, &m));
    assert_ok(lc_graph_add_output(g, m));
    if (!backward) return g;
    lc_graph *b;
    assert_ok(lc_autodiff(g, NULL, 0, NULL, 0, &b));
    lc_graph_free(g);
    return b;
}

static void run2(const lc_graph *g, const double *x, int64_t L, const double *seed, int64_t W, lc_tensor **out) {
    lc_tensor *in[2];
    assert_ok(lc_tensor_new(LC_F64, test_shape3(1, 1, L), &in[0]));
    memcpy(in[0]->data, x, sizeof(double) * (size_t)L);
    int n_in = lc_graph_input_count(g);
    if (n_in == 2) {
        assert_ok(lc_tensor_new(LC_F64, test_shape3(1, 1, W), &in[1]));
        memcpy(in[1]->data, seed, sizeof(double) * (size_t)W);
    }
    assert_ok(lc_interp_run(g, (const lc_tensor *const *)in, n_in, out, lc_graph_output_count(g)));
    for (int i = 0; i < n_in; i++) lc_tensor_free(in[i]);
}

static void test_values_by_hand(void **state) {
    (void)state;
    /* ties: [3, 1, 3 | 3, -2, 5 ...]: k=3 s=3 → windows [3,1,3] [3,-2,5] [nan,7,nan] */
    const double x[] = {3, 1, 3, 3, -2, 5, NAN, 7, NAN};
    const double seed[] = {10, 20, 30};
    lc_graph *g = max_pool_graph(9, 3, 3, 0, 1, true);
    lc_tensor *out[2];
    run2(g, x, 9, seed, 3, out);
    const double *y = (const double *)out[0]->data, *dx = (const double *)out[1]->data;
    assert_true(y[0] == 3 && y[1] == 5 && isnan(y[2]));
    const double want_dx[] = {10, 0, 0, 0, 0, 20, 30, 0, 0}; /* first 3; the first NaN */
    for (int i = 0; i < 9; i++) assert_true(dx[i] == want_dx[i]);
    lc_tensor_free(out[0]);
    lc_tensor_free(out[1]);
    lc_graph_free(g);

    /* all negative with padding 1: padding (-inf) never wins */
    const double neg[] = {-5, -3, -4, -9};
    const double s2[] = {1, 2, 4};
    g = max_pool_graph(4, 3, 2, 1, 1, true); /* windows [-inf,-5,-3] [-3,-4,-9] [-9,-inf,-inf]? */
    run2(g, neg, 4, s2, 2, out);
    y = (const double *)out[0]->data;
    dx = (const double *)out[1]->data;
    assert_int_equal(out[0]->shape.dim[2], 2); /* (4 + 2 - 3) / 2 + 1 */
    assert_true(y[0] == -3 && y[1] == -3);
    const double want2[] = {0, 3, 0, 0}; /* both windows choose x[1] */
    for (int i = 0; i < 4; i++) assert_true(dx[i] == want2[i]);
    lc_tensor_free(out[0]);
    lc_tensor_free(out[1]);
    lc_graph_free(g);

    /* MaxPool1d(2, 1, padding=1, dilation=4) on L = 3: window 1 reads positions 0 and 4, ...
     * window o reads o - 1 and o + 3; windows = (3 + 2 - 5) / 1 + 1 = 1: [pad, pad] */
    const double three[] = {1, 2, 3};
    const double s3[] = {7};
    g = max_pool_graph(3, 2, 1, 1, 4, true);
    run2(g, three, 3, s3, 1, out);
    assert_int_equal(out[0]->shape.dim[2], 1);
    assert_true(((const double *)out[0]->data)[0] == -INFINITY);
    for (int i = 0; i < 3; i++) assert_true(((const double *)out[1]->data)[i] == 0);
    lc_tensor_free(out[0]);
    lc_tensor_free(out[1]);
    lc_graph_free(g);
}

/* The text form of the new op and attribute reads back. */
static void test_text(void **state) {
    (void)state;
    const char *text =
        "graph {\n"
        "  %0 = input \"x\" : f32[1,2,9]\n"
        "  %1 = unfold(%0) dim=2 size=3 step=2 pad_lo=1 pad_hi=1 neg_inf_pad=1 : f32[1,2,5,3]\n"
        "  %2 = max(%1) dim=3 : f32[1,2,5]\n"
        "  %3 = max_mask(%1) dim=3 : f32[1,2,5,3]\n"
        "  output %2, %3\n"
        "}\n";
    lc_graph *g;
    assert_ok(lc_graph_parse(text, &g));
    char *printed;
    assert_ok(lc_graph_to_string(g, &printed));
    assert_string_equal(printed, text);
    free(printed);
    lc_graph_free(g);
    assert_fails(lc_graph_parse("graph {\n  %0 = input : f32[3]\n  %1 = unfold(%0) dim=0 size=2 step=1 "
                                "pad_lo=0 pad_hi=0 neg_inf_pad=2 : f32[2,2]\n}\n", &g),
                 LC_ERR_PARSE, "unfold: neg_inf_pad must be 0 or 1, got 2");
}

/* Continuous random inputs have no ties: the gradient equals central differences. */
static void test_gradcheck(void **state) {
    (void)state;
    const int64_t cases[][4] = {{13, 3, 2, 1}, {12, 4, 1, 2}, {11, 2, 3, 3}}; /* L, size, step, dilation */;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        lc_graph *g;
        int x, u, m;
        assert_ok(lc_graph_new(&g));
        assert_ok(lc_input(g, "x", LC_F64, test_shape3(2, 3, cases[c][0]), &x));
        assert_ok(lc_unfold_neg_inf_pad(g, x, 2, cases[c][1], cases[c][2], cases[c][1] / 2, cases[c][1] / 2,
                                        cases[c][3], &u));
        assert_ok(lc_max(g, u, 3, &m));
        assert_ok(lc_graph_add_output(g, m));
        test_rng r = test_rng_seeded(60 + c);
        lc_tensor *in = test_random_tensor(&r, LC_F64, test_shape3(2, 3, cases[c][0]), 2.0);
        gradcheck_options opt = gradcheck_defaults(); /* skips |x| < 1e-3: the random inputs hold zeros */
        gradcheck_report rep;
        assert_gradcheck(gradcheck_graph(g, (const lc_tensor *const *)&in, &opt, &rep), rep, "max pool");
        lc_tensor_free(in);
        lc_graph_free(g);
    }
}

/* Inputs with many ties (small integers), some NaN and -inf, through the JIT forward and
 * backward against the interpreter (an element several windows choose sums their seeds, in
 * f32 in the JIT, exactly in the interpreter: hence the usual tolerance). Window
 * sizes past LC_UNROLL_MAX run as vector partial sums, so a tie spans lanes there. */
static void test_jit_ties_and_nans(void **state) {
    (void)state;
    test_rng r = test_rng_seeded(77);
    const int64_t sizes[] = {1, 2, 3, 5, 17, 40};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (int variant = 0; variant < 4; variant++) {
            int64_t size = sizes[s], step = 1 + variant % 3, dil = variant == 3 ? 2 : 1;
            int64_t pad = size / 2, L = dil * (size - 1) + 1 + 9;
            lc_dtype dt = variant % 2 ? LC_F32 : LC_F64;
            lc_graph *g, *b;
            int x, u, m;
            assert_ok(lc_graph_new(&g));
            assert_ok(lc_input(g, "x", dt, test_shape3(2, 3, L), &x));
            assert_ok(lc_unfold_neg_inf_pad(g, x, 2, size, step, pad, pad, dil, &u));
            assert_ok(lc_max(g, u, 3, &m));
            assert_ok(lc_graph_add_output(g, m));
            assert_ok(lc_autodiff(g, NULL, 0, NULL, 0, &b));
            lc_tensor **in = jit_random_inputs(b, &r, 1.0);
            for (int64_t i = 0; i < lc_shape_numel(&in[0]->shape); i++) {
                double v = (double)test_rng_int(&r, -3, 3);
                int64_t pick = test_rng_int(&r, 0, 40);
                if (pick == 0) v = NAN;
                if (pick == 1) v = -INFINITY;
                lc_tensor_set(in[0], i, v);
            }
            jit_check_graph_inputs(b, in, JIT_RTOL, JIT_ATOL);
            jit_free_tensors(in, lc_graph_input_count(b));
            lc_graph_free(b);
            lc_graph_free(g);
        }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_by_hand),
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_gradcheck),
        cmocka_unit_test(test_jit_ties_and_nans),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
