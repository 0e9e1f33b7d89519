/* unfold and fold with dilation: window slots `dilation` apart, the span
 * dilation·(size - 1) + 1 in the window count. Shapes and errors; text IR that leaves out
 * dilation = 1 (older dumps read and print unchanged); the interpreter against a direct
 * float64 loop written here; the gradient (a dilated fold) against finite differences; the
 * JIT against the interpreter, also with steps and dilations near 2^62 and 2^63. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jit_harness.h"
#include "support/gradcheck.h"

static lc_graph *graph_with_input(lc_dtype dt, lc_shape s, int *x) {
    lc_graph *g;
    assert_ok(lc_graph_new(&g));
    assert_ok(lc_input(g, "x", dt, s, x));
    return g;
}

static void test_shapes_and_errors(void **state) {
    (void)state;
    int x, u, f, y;
    lc_graph *g = graph_with_input(LC_F32, test_shape3(1, 2, 10), &x);
    /* span 3·(3 - 1) + 1 = 7 over 10 + 1 + 0: (11 - 7) / 2 + 1 = 3 windows */
    assert_ok(lc_unfold_dilated(g, x, 2, 3, 2, 1, 0, 3, &u));
    assert_int_equal(lc_graph_node(g, u)->shape.dim[2], 3);
    assert_int_equal(lc_graph_node(g, u)->shape.dim[3], 3);
    assert_int_equal(lc_graph_node(g, u)->attr[LC_UNFOLD_DILATION], 3);
    assert_ok(lc_fold_dilated(g, u, 2, 3, 2, 1, 0, 3, 10, &f));
    assert_true(lc_shape_equal(&lc_graph_node(g, f)->shape, &lc_graph_node(g, x)->shape));
    /* the plain builders store dilation 1 */
    assert_ok(lc_unfold(g, x, 2, 3, 2, 1, 0, &y));
    assert_int_equal(lc_graph_node(g, y)->attr[LC_UNFOLD_DILATION], 1);
    int before = lc_graph_node_count(g);
    assert_fails(lc_unfold_dilated(g, x, 2, 2, 1, 0, 0, 0, &y), LC_ERR_INVALID_ARG,
                 "unfold: dilation must be >= 1, got 0");
    assert_fails(lc_fold_dilated(g, u, 2, 3, 2, 1, 0, -2, 10, &y), LC_ERR_INVALID_ARG,
                 "fold: dilation must be >= 1, got -2");
    assert_fails(lc_unfold_dilated(g, x, 2, 3, 1, 0, 0, 5, &y), LC_ERR_SHAPE,
                 "unfold: window span dilation 5 * (size 3 - 1) + 1 = 11 exceeds the padded length 10 of axis 2");
    assert_fails(lc_unfold_dilated(g, x, 2, 3, 1, 0, 0, INT64_MAX, &y), LC_ERR_SHAPE,
                 "unfold: window span dilation 9223372036854775807 * (size 3 - 1) + 1 overflows");
    /* a fold's windows must match its dilated count */
    assert_fails(lc_fold_dilated(g, u, 2, 3, 2, 1, 0, 1, 10, &y), LC_ERR_SHAPE,
                 "fold: axis 2 must hold 5 windows for length 10, got 3");
    assert_int_equal(lc_graph_node_count(g), before);
    /* size 1: the dilation never matters, any value is valid */
    assert_ok(lc_unfold_dilated(g, x, 2, 1, 1, 0, 0, INT64_MAX, &y));
    assert_int_equal(lc_graph_node(g, y)->shape.dim[2], 10);
    assert_ok(lc_graph_verify(g));
    lc_graph_free(g);
}

static const char *text_without =
    "graph {\n"
    "  %0 = input \"x\" : f64[1,1,9]\n"
    "  %1 = unfold(%0) dim=2 size=2 step=1 pad_lo=1 pad_hi=1 : f64[1,1,10,2]\n"
    "  %2 = fold(%1) dim=2 size=2 step=1 pad_lo=1 pad_hi=1 length=9 : f64[1,1,9]\n"
    "  output %2\n"
    "}\n";

static const char *text_with =
    "graph {\n"
    "  %0 = input \"x\" : f64[1,1,9]\n"
    "  %1 = unfold(%0) dim=2 size=2 step=1 pad_lo=1 pad_hi=1 dilation=4 : f64[1,1,7,2]\n"
    "  %2 = fold(%1) dim=2 size=2 step=1 pad_lo=1 pad_hi=1 length=9 dilation=4 : f64[1,1,9]\n"
    "  output %2\n"
    "}\n";

/* dilation = 1 is left out when printed and read as 1 when absent; any other value is
 * printed, read back, and must stand in table order. */
static void test_text_ir(void **state) {
    (void)state;
    const char *texts[2] = {text_without, text_with};
    for (int i = 0; i < 2; i++) {
        lc_graph *g;
        assert_ok(lc_graph_parse(texts[i], &g));
        assert_int_equal(lc_graph_node(g, 1)->attr[LC_UNFOLD_DILATION], i ? 4 : 1);
        assert_int_equal(lc_graph_node(g, 2)->attr[LC_FOLD_DILATION], i ? 4 : 1);
        char *printed;
        assert_ok(lc_graph_to_string(g, &printed));
        assert_string_equal(printed, texts[i]);
        free(printed);
        lc_graph_free(g);
    }
    /* dilation=1 spelled out reads the same and prints without it */
    lc_graph *g;
    assert_ok(lc_graph_parse("graph {\n  %0 = input \"x\" : f64[1,1,9]\n"
                             "  %1 = unfold(%0) dim=2 size=2 step=1 pad_lo=1 pad_hi=1 dilation=1 : f64[1,1,10,2]\n"
                             "  output %1\n}\n", &g));
    char *printed;
    assert_ok(lc_graph_to_string(g, &printed));
    assert_non_null(strstr(printed, "pad_hi=1 : f64[1,1,10,2]"));
    free(printed);
    lc_graph_free(g);
    const char *bad[][2] = {
        {"  %1 = unfold(%0) dim=2 size=2 step=1 pad_lo=1 pad_hi=1 dilation=0 : f64[1,1,10,2]\n",
         "unfold: dilation must be >= 1, got 0"},
        {"  %1 = unfold(%0) dim=2 size=2 step=1 pad_lo=1 pad_hi=1 dilation=2 dilation=2 : f64[1,1,9,2]\n",
         "unfold: attribute 'dilation' given twice"},
        {"  %1 = unfold(%0) dim=2 size=2 step=1 pad_lo=1 dilation=2 pad_hi=1 : f64[1,1,9,2]\n",
         "missing attribute 'pad_hi' (got 'dilation'"},
        {"  %1 = unfold(%0) dim=2 size=2 step=1 pad_lo=1 pad_hi=1 dilation=2 : f64[1,1,10,2]\n",
         "f64[1,1,9,2]"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, "graph {\n  %%0 = input \"x\" : f64[1,1,9]\n%s  output %%1\n}\n", bad[i][0]);
        assert_fails(lc_graph_parse(text, &g), LC_ERR_PARSE, bad[i][1]);
    }
}

/* y[o] = Σ_j w[j] · x[o·step - lo + j·d] (0 outside), computed here with plain loops, against
 * the interpreter's unfold → mul → sum; and the interpreter's fold against the transpose of
 * the same loop. One window (d = 4, L = 3, pad 1) holds only padding. */
static void test_interp_against_loops(void **state) {
    (void)state;
    const int64_t cases[][5] = {/* L, size, step, pad, dilation */
                                {3, 2, 1, 1, 4}, {10, 3, 2, 1, 3}, {11, 2, 3, 0, 2}, {7, 3, 1, 2, 2}, {9, 1, 2, 1, 5}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int64_t L = cases[c][0], size = cases[c][1], step = cases[c][2], pad = cases[c][3], d = cases[c][4];
        int x, u, wt, m, s;
        lc_graph *g = graph_with_input(LC_F64, test_shape3(1, 1, L), &x);
        assert_ok(lc_unfold_dilated(g, x, 2, size, step, pad, pad, d, &u));
        int64_t windows = lc_graph_node(g, u)->shape.dim[2];
        assert_int_equal(windows, (L + 2 * pad - (d * (size - 1) + 1)) / step + 1);
        double w[8];
        for (int64_t j = 0; j < size; j++) w[j] = (double)(j + 1) * 0.5 + 1;
        assert_ok(lc_constant(g, LC_F64, lc_shape_make(1, &size), w, &wt));
        assert_ok(lc_mul(g, u, wt, &m));
        assert_ok(lc_sum(g, m, 3, &s));
        assert_ok(lc_graph_add_output(g, s));
        test_rng r = test_rng_seeded(7 + c);
        lc_tensor *in = test_random_tensor(&r, LC_F64, test_shape3(1, 1, L), 2.0), *out;
        assert_ok(lc_interp_run(g, (const lc_tensor *const *)&in, 1, &out, 1));
        const double *xv = (const double *)in->data;
        double want[64];
        for (int64_t o = 0; o < windows; o++) {
            want[o] = 0;
            for (int64_t j = 0; j < size; j++) {
                int64_t p = o * step - pad + j * d;
                if (p >= 0 && p < L) want[o] += w[j] * xv[p];
            }
        }
        assert_values_close(out, want, windows, 1e-15, 1e-15);
        lc_tensor_free(out);
        lc_graph_free(g);

        /* fold of windows holding v[o][j] = o + j/8: dx[p] sums every slot that reads p */
        int v, f;
        g = graph_with_input(LC_F64, lc_shape_make(4, (int64_t[]){1, 1, windows, size}), &v);
        assert_ok(lc_fold_dilated(g, v, 2, size, step, pad, pad, d, L, &f));
        assert_ok(lc_graph_add_output(g, f));
        lc_tensor *vin;
        assert_ok(lc_tensor_new(LC_F64, lc_graph_node(g, v)->shape, &vin));
        for (int64_t o = 0; o < windows; o++)
            for (int64_t j = 0; j < size; j++) ((double *)vin->data)[o * size + j] = (double)o + (double)j / 8;
        assert_ok(lc_interp_run(g, (const lc_tensor *const *)&vin, 1, &out, 1));
        double dx[64] = {0};
        for (int64_t o = 0; o < windows; o++)
            for (int64_t j = 0; j < size; j++) {
                int64_t p = o * step - pad + j * d;
                if (p >= 0 && p < L) dx[p] += (double)o + (double)j / 8;
            }
        assert_values_close(out, dx, L, 0, 0);
        lc_tensor_free(out);
        lc_tensor_free(vin);
        lc_tensor_free(in);
        lc_graph_free(g);
    }
}

/* The gradient rule (unfold → a dilated fold, and back) against central differences. */
static void test_gradcheck(void **state) {
    (void)state;
    const int64_t cases[][5] = {{13, 3, 2, 1, 3}, {9, 2, 1, 2, 4}, {12, 4, 3, 0, 2}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int64_t L = cases[c][0], size = cases[c][1], step = cases[c][2], pad = cases[c][3], d = cases[c][4];
        int x, u, p, s;
        lc_graph *g = graph_with_input(LC_F64, test_shape3(2, 2, L), &x);
        assert_ok(lc_unfold_dilated(g, x, 2, size, step, pad, pad + 1, d, &u));
        assert_ok(lc_pow(g, u, 3.0, &p)); /* nonlinear, so each slot's value matters */
        assert_ok(lc_sum(g, p, 3, &s));
        assert_ok(lc_graph_add_output(g, s));
        test_rng r = test_rng_seeded(40 + c);
        lc_tensor *in = test_random_tensor(&r, LC_F64, test_shape3(2, 2, L), 1.5);
        gradcheck_options opt = gradcheck_defaults();
        gradcheck_report rep;
        assert_gradcheck(gradcheck_graph(g, (const lc_tensor *const *)&in, &opt, &rep), rep, "dilated unfold");
        assert_true(rep.checked > 0);
        lc_tensor_free(in);
        lc_graph_free(g);
    }
}

/* Random windows, forward and backward, through the JIT against the interpreter: unfold as an
 * output, a reduction over it, a fold of random window values, and an unfold's gather through
 * a fold of the same step and dilation. */
static void test_jit_random(void **state) {
    (void)state;
    test_rng r = test_rng_seeded(2024);
    for (int it = 0; it < 30; it++) {
        int64_t size = test_rng_int(&r, 1, 4), step = test_rng_int(&r, 1, 4), d = test_rng_int(&r, 1, 5);
        int64_t lo = test_rng_int(&r, 0, 3), hi = test_rng_int(&r, 0, 3);
        int64_t span = d * (size - 1) + 1;
        int64_t L = span > lo + hi ? span - lo - hi + test_rng_int(&r, 0, 30) : test_rng_int(&r, 1, 30);
        lc_dtype dt = it % 2 ? LC_F32 : LC_F64;
        int x, u, s, a, f, w, fw;
        lc_graph *g = graph_with_input(dt, test_shape3(2, 3, L), &x);
        assert_ok(lc_unfold_dilated(g, x, 2, size, step, lo, hi, d, &u));
        assert_ok(lc_sum(g, u, 3, &s));
        assert_ok(lc_abs(g, u, &a));
        assert_ok(lc_fold_dilated(g, a, 2, size, step, lo, hi, d, L, &f));
        int64_t windows = lc_graph_node(g, u)->shape.dim[2];
        assert_ok(lc_input(g, "w", dt, lc_shape_make(4, (int64_t[]){2, 3, windows, size}), &w));
        assert_ok(lc_fold_dilated(g, w, 2, size, step, lo, hi, d, L, &fw));
        assert_ok(lc_graph_add_output(g, u));
        assert_ok(lc_graph_add_output(g, s));
        assert_ok(lc_graph_add_output(g, f));
        assert_ok(lc_graph_add_output(g, fw));
        jit_check_graph(g, 300 + (uint64_t)it, 2.0);
        /* and its backward */
        lc_graph *b;
        assert_ok(lc_autodiff(g, NULL, 0, NULL, 0, &b));
        jit_check_graph(b, 400 + (uint64_t)it, 2.0);
        lc_graph_free(b);
        lc_graph_free(g);
    }
    /* along a non-last axis: the window axis is not the one the loop runs along */
    int x, u, s;
    lc_graph *g = graph_with_input(LC_F32, test_shape3(11, 3, 4), &x);
    assert_ok(lc_unfold_dilated(g, x, 0, 3, 2, 1, 1, 2, &u));
    assert_ok(lc_sum(g, u, 3, &s));
    assert_ok(lc_graph_add_output(g, s));
    lc_graph *b;
    assert_ok(lc_autodiff(g, NULL, 0, NULL, 0, &b));
    jit_check_graph(b, 31, 2.0);
    lc_graph_free(b);
    lc_graph_free(g);
}

/* Steps, dilations and paddings near 2^62 and 2^63: no index computation may overflow int64
 * (a window slot's position times the dilation, the fold's offset t - o·step), so the JIT's
 * forward and backward equal the interpreter's. */
static void test_jit_extreme(void **state) {
    (void)state;
    const int64_t big[] = {INT64_C(1) << 61, (INT64_C(1) << 62) + 1, INT64_MAX / 2, INT64_MAX - 1};
    int ran = 0;
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++)
        for (int variant = 0; variant < 4; variant++) {
            int64_t L = 12, size = 2 + variant % 2, d, step, lo, hi;
            if (variant < 2) { /* a huge dilation: only padding far to the right makes it fit */
                d = big[i] / (size - 1) / 2;
                step = 1 + variant;
                lo = 1;
                hi = d * (size - 1) + 1;
            } else { /* a huge step, padded so that one window, or two, fit */
                d = 3;
                step = big[i];
                lo = variant == 2 ? 2 : 0;
                hi = variant == 2 ? big[i] / 2 : big[i] - L + d * (size - 1) + 1;
            }
            int x, u, s, p;
            lc_graph *g = graph_with_input(LC_F64, test_shape3(1, 2, L), &x);
            if (lc_unfold_dilated(g, x, 2, size, step, lo, hi, d, &u) != LC_OK) {
                lc_graph_free(g);
                continue; /* no window fits: the shape rule said why */
            }
            assert_ok(lc_pow(g, u, 2.0, &p));
            assert_ok(lc_sum(g, p, 3, &s));
            assert_ok(lc_graph_add_output(g, s));
            lc_graph *b;
            assert_ok(lc_autodiff(g, NULL, 0, NULL, 0, &b));
            jit_check_graph(b, 500 + 10 * i + (uint64_t)variant, 2.0);
            lc_graph_free(b);
            lc_graph_free(g);
            ran++;
        }
    assert_true(ran >= 14); /* only INT64_MAX - 1 with two windows leaves int64 */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes_and_errors),
        cmocka_unit_test(test_text_ir),
        cmocka_unit_test(test_interp_against_loops),
        cmocka_unit_test(test_gradcheck),
        cmocka_unit_test(test_jit_random),
        cmocka_unit_test(test_jit_extreme),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
