/* Bad input through the C API: every parameter boundary of docs/semantics.md (0,
 * negative, NaN, inf, huge), rank and shape mismatches, zero-size tensors (valid, zero-size
 * result), L_out < 1, and NaN/inf inside inputs (IEEE propagation per window, values pinned).
 * Every failure is checked for its status and the message naming module, parameter, value. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lucid/autograd.h"
#include "lucid/nn.h"
#include "lucid/runtime.h"
#include "support/testutil.h"

static lc_avgpool1d_params avg(int64_t k, int64_t s, int64_t p) {
    lc_avgpool1d_params a = lc_avgpool1d_defaults(k);
    a.stride = s;
    a.padding = p;
    return a;
}

static lc_lppool1d_params lp(double norm, int64_t k, int64_t s) {
    lc_lppool1d_params a = lc_lppool1d_defaults(norm, k);
    a.stride = s;
    return a;
}

#define UNSET LC_STRIDE_UNSET

static void avg_rejects(lc_avgpool1d_params p, const char *message) {
    lc_module *m = (lc_module *)0x1;
    lc_clear_error();
    assert_fails(lc_avgpool1d_new(&p, &m), LC_ERR_INVALID_ARG, message);
    assert_null(m);
}

static void lp_rejects(lc_lppool1d_params p, const char *message) {
    lc_module *m = (lc_module *)0x1;
    lc_clear_error();
    assert_fails(lc_lppool1d_new(&p, &m), LC_ERR_INVALID_ARG, message);
    assert_null(m);
}

static void avg_accepts(lc_avgpool1d_params p) {
    lc_module *m = NULL;
    assert_ok(lc_avgpool1d_new(&p, &m));
    lc_module_free(m);
}

static void lp_accepts(lc_lppool1d_params p) {
    lc_module *m = NULL;
    assert_ok(lc_lppool1d_new(&p, &m));
    lc_module_free(m);
}

static void test_avgpool_parameter_boundaries(void **state) {
    (void)state;
    avg_rejects(avg(0, UNSET, 0), "AvgPool1d: kernel_size must be >= 1, got 0");
    avg_rejects(avg(-1, UNSET, 0), "AvgPool1d: kernel_size must be >= 1, got -1");
    avg_rejects(avg(INT64_MIN, 1, 0), "AvgPool1d: kernel_size must be >= 1, got -9223372036854775808");
    avg_rejects(avg(2, 0, 0), "AvgPool1d: stride must be >= 1, got 0");
    avg_rejects(avg(2, -1, 0), "AvgPool1d: stride must be >= 1, got -1");
    avg_rejects(avg(2, INT64_MIN + 1, 0), "AvgPool1d: stride must be >= 1, got -9223372036854775807");
    avg_rejects(avg(4, UNSET, -1), "AvgPool1d: padding must be between 0 and kernel_size / 2 = 2, got -1");
    avg_rejects(avg(4, UNSET, 3), "AvgPool1d: padding must be between 0 and kernel_size / 2 = 2, got 3");
    avg_rejects(avg(5, UNSET, 3), "AvgPool1d: padding must be between 0 and kernel_size / 2 = 2, got 3");
    avg_rejects(avg(1, UNSET, 1), "AvgPool1d: padding must be between 0 and kernel_size / 2 = 0, got 1");
    avg_rejects(avg(4, UNSET, INT64_MAX), "got 9223372036854775807");
    avg_rejects(avg(4, UNSET, INT64_MIN), "got -9223372036854775808");
    /* Kernel size is checked before stride: the first bad parameter is named. */
    avg_rejects(avg(0, 0, -1), "kernel_size must be >= 1, got 0");
    lc_module *m = (lc_module *)0x1;
    assert_fails(lc_avgpool1d_new(NULL, &m), LC_ERR_INVALID_ARG, "AvgPool1d: params must not be NULL");
    assert_null(m);

    /* The boundaries themselves are valid; huge values are valid parameters (they fail later,
     * on an input they do not fit). */
    avg_accepts(avg(1, UNSET, 0));
    avg_accepts(avg(1, 1, 0));
    avg_accepts(avg(4, UNSET, 2));
    avg_accepts(avg(5, UNSET, 2));
    avg_accepts(avg(INT64_MAX, UNSET, 0));
    avg_accepts(avg(INT64_MAX, INT64_MAX, INT64_MAX / 2));
    avg_accepts(avg(2, INT64_MAX, 1));
}

static void test_lppool_parameter_boundaries(void **state) {
    (void)state;
    lp_rejects(lp(0, 2, UNSET), "LPPool1d: norm_type must be finite and > 0, got 0");
    lp_rejects(lp(-0.0, 2, UNSET), "LPPool1d: norm_type must be finite and > 0, got -0");
    lp_rejects(lp(-1, 2, UNSET), "LPPool1d: norm_type must be finite and > 0, got -1");
    lp_rejects(lp(-2.5, 2, UNSET), "LPPool1d: norm_type must be finite and > 0, got -2.5");
    lp_rejects(lp(NAN, 2, UNSET), "LPPool1d: norm_type must be finite and > 0, got nan");
    lp_rejects(lp(INFINITY, 2, UNSET), "LPPool1d: norm_type must be finite and > 0, got inf");
    lp_rejects(lp(-INFINITY, 2, UNSET), "LPPool1d: norm_type must be finite and > 0, got -inf");
    lp_rejects(lp(-DBL_MAX, 2, UNSET), "LPPool1d: norm_type must be finite and > 0, got -1.7976931348623157e+308");
    lp_rejects(lp(2, 0, UNSET), "LPPool1d: kernel_size must be >= 1, got 0");
    lp_rejects(lp(2, -3, UNSET), "LPPool1d: kernel_size must be >= 1, got -3");
    lp_rejects(lp(2, INT64_MIN, 1), "LPPool1d: kernel_size must be >= 1, got -9223372036854775808");
    lp_rejects(lp(2, 2, 0), "LPPool1d: stride must be >= 1, got 0");
    lp_rejects(lp(2, 2, -1), "LPPool1d: stride must be >= 1, got -1");
    lp_rejects(lp(2, 2, INT64_MIN + 1), "LPPool1d: stride must be >= 1, got -9223372036854775807");
    /* norm_type is checked first. */
    lp_rejects(lp(NAN, 0, 0), "norm_type must be finite and > 0, got nan");
    lc_module *m = (lc_module *)0x1;
    assert_fails(lc_lppool1d_new(NULL, &m), LC_ERR_INVALID_ARG, "LPPool1d: params must not be NULL");
    assert_null(m);

    lp_accepts(lp(DBL_MIN, 1, UNSET));
    lp_accepts(lp(DBL_MAX, 1, UNSET));
    lp_accepts(lp(1e-300, 2, 1));
    lp_accepts(lp(2, INT64_MAX, UNSET));
    lp_accepts(lp(2, 1, INT64_MAX));
}

/* ---- shapes ---- */

static lc_shape shape(int rank, int64_t a, int64_t b, int64_t c, int64_t d) {
    int64_t dims[4] = {a, b, c, d};
    return lc_shape_make(rank, dims);
}

static void test_rank_mismatch(void **state) {
    (void)state;
    lc_module *mods[2] = {test_avgpool(2, UNSET, 0, false, true), test_lppool(2, 2, UNSET, false)};
    const char *names[2] = {"AvgPool1d", "LPPool1d"};
    for (int i = 0; i < 2; i++) {
        lc_shape out;
        char want[128];
        snprintf(want, sizeof want, "%s: input must have rank 2 (C, L) or 3 (N, C, L), got rank 1", names[i]);
        assert_fails(lc_module_output_shape(mods[i], shape(1, 8, 0, 0, 0), &out), LC_ERR_SHAPE, want);
        snprintf(want, sizeof want, "%s: input must have rank 2 (C, L) or 3 (N, C, L), got rank 4", names[i]);
        assert_fails(lc_module_output_shape(mods[i], shape(4, 1, 1, 1, 8), &out), LC_ERR_SHAPE, want);
        assert_fails(lc_module_output_shape(mods[i], shape(0, 0, 0, 0, 0), &out), LC_ERR_SHAPE, "got rank 0");
        /* Negative extents are refused before the module sees them. */
        assert_fails(lc_module_output_shape(mods[i], shape(3, 1, -1, 8, 0), &out), LC_ERR_SHAPE,
                     "dimension 1 must be >= 0, got -1");
    }
    lc_module_free(mods[0]);
    lc_module_free(mods[1]);
}

/* The interpreter checks what it is given against the graph's inputs. */
static void test_interp_input_mismatch(void **state) {
    (void)state;
    lc_module *m = test_lppool(2, 2, UNSET, false);
    lc_graph *g;
    assert_ok(lc_graph_new(&g));
    int x, y;
    assert_ok(lc_input(g, "x", LC_F32, shape(3, 1, 2, 8, 0), &x));
    assert_ok(lc_module_forward(m, g, x, &y));
    assert_ok(lc_graph_add_output(g, y));

    lc_tensor *wrong_len, *wrong_dtype, *wrong_rank, *good, *out = (lc_tensor *)0x1;
    assert_ok(lc_tensor_new(LC_F32, shape(3, 1, 2, 9, 0), &wrong_len));
    assert_ok(lc_tensor_new(LC_F64, shape(3, 1, 2, 8, 0), &wrong_dtype));
    assert_ok(lc_tensor_new(LC_F32, shape(2, 2, 8, 0, 0), &wrong_rank));
    assert_ok(lc_tensor_new(LC_F32, shape(3, 1, 2, 8, 0), &good));
    assert_fails(lc_interp_run(g, (const lc_tensor *const[]){wrong_len}, 1, &out, 1), LC_ERR_SHAPE,
                 "interp: input 0 (x) must be f32[1,2,8], got f32[1,2,9]");
    assert_null(out);
    assert_fails(lc_interp_run(g, (const lc_tensor *const[]){wrong_dtype}, 1, &out, 1), LC_ERR_SHAPE,
                 "must be f32[1,2,8], got f64[1,2,8]");
    assert_fails(lc_interp_run(g, (const lc_tensor *const[]){wrong_rank}, 1, &out, 1), LC_ERR_SHAPE,
                 "must be f32[1,2,8], got f32[2,8]");
    assert_fails(lc_interp_run(g, (const lc_tensor *const[]){NULL}, 1, &out, 1), LC_ERR_INVALID_ARG,
                 "interp: input 0 is NULL");
    assert_fails(lc_interp_run(g, (const lc_tensor *const[]){good, good}, 2, &out, 1), LC_ERR_INVALID_ARG,
                 "interp: graph takes 1 inputs, got 2");
    lc_tensor *two[2] = {(lc_tensor *)0x1, (lc_tensor *)0x1};
    assert_fails(lc_interp_run(g, (const lc_tensor *const[]){good}, 1, two, 2), LC_ERR_INVALID_ARG,
                 "interp: graph has 1 outputs, got room for 2");
    assert_null(two[0]);
    assert_null(two[1]);
    /* The failing calls touched none of the tensors they were given. */
    for (int64_t i = 0; i < lc_tensor_numel(good); i++) assert_true(lc_tensor_get(good, i) == 0);

    /* lc_module_call (the autograd path) reports the module's own error. */
    lc_tensor *short_x, *r = (lc_tensor *)0x1;
    assert_ok(lc_tensor_new(LC_F32, shape(3, 1, 1, 1, 0), &short_x));
    assert_fails(lc_module_call(m, short_x, &r), LC_ERR_SHAPE,
                 "LPPool1d: input length 1 with padding 0 is shorter than kernel_size 2");
    assert_null(r);
    assert_fails(lc_module_call(m, NULL, &r), LC_ERR_INVALID_ARG,
                 "must not be NULL");

    lc_tensor_free(short_x);
    lc_tensor_free(wrong_len);
    lc_tensor_free(wrong_dtype);
    lc_tensor_free(wrong_rank);
    lc_tensor_free(good);
    lc_graph_free(g);
    lc_module_free(m);
}

/* Binary ops and builders refuse shapes and dtypes that do not fit together. */
static void test_graph_shape_mismatch(void **state) {
    (void)state;
    lc_graph *g;
    assert_ok(lc_graph_new(&g));
    int a, b, c, out = -7;
    assert_ok(lc_input(g, "a", LC_F32, shape(2, 2, 3, 0, 0), &a));
    assert_ok(lc_input(g, "b", LC_F32, shape(1, 4, 0, 0, 0), &b));
    assert_ok(lc_input(g, "c", LC_F64, shape(2, 2, 3, 0, 0), &c));
    int count = lc_graph_node_count(g);
    assert_fails(lc_add(g, a, b, &out), LC_ERR_SHAPE, "add: shapes [2,3] and [4] do not broadcast");
    assert_fails(lc_mul(g, a, c, &out), LC_ERR_INVALID_ARG, "mul: dtypes must match, got f32 and f64");
    assert_fails(lc_div(g, a, 99, &out), LC_ERR_INVALID_ARG, "div: input 1 must name an earlier node");
    assert_fails(lc_sum(g, a, 2, &out), LC_ERR_INVALID_ARG, "sum: dim must be between 0 and 1, got 2");
    assert_fails(lc_sum(g, a, -1, &out), LC_ERR_INVALID_ARG, "sum: dim must be between 0 and 1, got -1");
    assert_fails(lc_unfold(g, a, 1, 4, 1, 0, 0, &out), LC_ERR_SHAPE, "unfold: size 4 exceeds the padded length 3");
    assert_fails(lc_unfold(g, a, 1, 0, 1, 0, 0, &out), LC_ERR_INVALID_ARG, "unfold: size must be >= 1, got 0");
    assert_fails(lc_unfold(g, a, 1, 2, 0, 0, 0, &out), LC_ERR_INVALID_ARG, "unfold: step must be >= 1, got 0");
    assert_fails(lc_unfold(g, a, 1, 2, 1, -1, 0, &out), LC_ERR_INVALID_ARG, "unfold: pad_lo must be >= 0, got -1");
    assert_fails(lc_pow(g, a, NAN, &out), LC_ERR_INVALID_ARG, "pow: exponent must be finite, got nan");
    assert_fails(lc_pow(g, a, INFINITY, &out), LC_ERR_INVALID_ARG, "pow: exponent must be finite, got inf");
    assert_fails(lc_expand(g, a, 0, -1, &out), LC_ERR_INVALID_ARG, "expand: size must be >= 0, got -1");
    assert_fails(lc_input(g, "d", (lc_dtype)7, shape(1, 1, 0, 0, 0), &out), LC_ERR_INVALID_ARG,
                 "dtype must be f32 or f64, got 7");
    lc_shape bad_rank = {.rank = 7};
    assert_fails(lc_input(g, "d", LC_F32, bad_rank, &out), LC_ERR_SHAPE, "rank must be between 0 and 6, got 7");
    bad_rank.rank = -1;
    assert_fails(lc_input(g, "d", LC_F32, bad_rank, &out), LC_ERR_SHAPE, "rank must be between 0 and 6, got -1");
    /* A failing builder leaves the graph unchanged. */
    assert_int_equal(lc_graph_node_count(g), count);
    assert_int_equal(out, -7);
    assert_ok(lc_graph_verify(g));
    lc_graph_free(g);
}

/* ---- running modules ---- */

/* y = m(x) through a graph and the interpreter; also through lc_module_call, which must give
 * the same tensor. */
static lc_tensor *run(const lc_module *m, const lc_tensor *x) {
    lc_graph *g;
    assert_ok(lc_graph_new(&g));
    int xi, yi;
    assert_ok(lc_input(g, "x", x->dtype, x->shape, &xi));
    assert_ok(lc_module_forward(m, g, xi, &yi));
    assert_ok(lc_graph_add_output(g, yi));
    lc_tensor *y = NULL, *y2 = NULL, *xc = NULL;
    assert_ok(lc_interp_run(g, (const lc_tensor *const[]){x}, 1, &y, 1));
    assert_ok(lc_tensor_clone(x, &xc));
    assert_ok(lc_module_call(m, xc, &y2));
    assert_tensor_close(y2, y, 0, 0);
    lc_tensor_free(y2);
    lc_tensor_free(xc);
    lc_graph_free(g);
    return y;
}

static void assert_shape(const lc_tensor *t, int rank, int64_t a, int64_t b, int64_t c) {
    lc_shape want = shape(rank, a, b, c, 0);
    char got_s[64], want_s[64];
    if (!lc_shape_equal(&t->shape, &want))
        fail_msg("shape %s, want %s", lc_shape_str(&t->shape, got_s, sizeof got_s),
                 lc_shape_str(&want, want_s, sizeof want_s));
}

/* N = 0 or C = 0 is valid and gives a zero-size result (docs/semantics.md, as PyTorch). */
static void test_zero_size(void **state) {
    (void)state;
    lc_module *mods[4] = {test_avgpool(3, 2, 1, false, true), test_lppool(2, 4, UNSET, false),
                          test_avgpool(3, 2, 1, true, false), test_lppool(1.5, 3, 2, true)};
    /* L = 9: floor (9+2-3)/2+1 = 5; LP floor (9-4)/4+1 = 2; ceil ceil(8/2)+1 = 5;
     * LP ceil ceil(6/2)+1 = 4. */
    const int64_t lout[4] = {5, 2, 5, 4};
    for (int i = 0; i < 4; i++) {
        for (int dt = 0; dt < 2; dt++) {
            lc_dtype dtype = dt ? LC_F64 : LC_F32;
            lc_tensor *x, *y;
            assert_ok(lc_tensor_new(dtype, shape(3, 0, 3, 9, 0), &x));
            y = run(mods[i], x);
            assert_shape(y, 3, 0, 3, lout[i]);
            assert_int_equal(y->dtype, dtype);
            assert_int_equal(lc_tensor_numel(y), 0);
            lc_tensor_free(y);
            lc_tensor_free(x);

            assert_ok(lc_tensor_new(dtype, shape(3, 2, 0, 9, 0), &x));
            y = run(mods[i], x);
            assert_shape(y, 3, 2, 0, lout[i]);
            lc_tensor_free(y);
            lc_tensor_free(x);

            assert_ok(lc_tensor_new(dtype, shape(2, 0, 9, 0, 0), &x)); /* (C, L) with C = 0 */
            y = run(mods[i], x);
            assert_shape(y, 2, 0, lout[i], 0);
            lc_tensor_free(y);
            lc_tensor_free(x);
        }
    }
    /* A Sequential of both keeps the batch extents and the rank. */
    lc_module *seq;
    assert_ok(lc_sequential_new(&seq));
    assert_ok(lc_sequential_append(seq, test_avgpool(2, 1, 0, false, true)));
    assert_ok(lc_sequential_append(seq, test_lppool(2, 2, UNSET, false)));
    lc_tensor *x, *y;
    assert_ok(lc_tensor_new(LC_F32, shape(3, 0, 5, 9, 0), &x));
    y = run(seq, x);
    assert_shape(y, 3, 0, 5, 4);
    lc_tensor_free(y);
    lc_tensor_free(x);
    lc_module_free(seq);
    for (int i = 0; i < 4; i++) lc_module_free(mods[i]);
}

/* L_out < 1 is an error naming the module, for both modules and both ranks. */
static void test_output_length_below_one(void **state) {
    (void)state;
    lc_shape out;
    lc_module *m = test_lppool(2, 4, UNSET, false);
    assert_fails(lc_module_output_shape(m, shape(3, 1, 1, 3, 0), &out), LC_ERR_SHAPE,
                 "LPPool1d: input length 3 with padding 0 is shorter than kernel_size 4 (output length would be < 1)");
    assert_fails(lc_module_output_shape(m, shape(2, 1, 3, 0, 0), &out), LC_ERR_SHAPE, "shorter than kernel_size 4");
    assert_fails(lc_module_output_shape(m, shape(3, 1, 1, 0, 0), &out), LC_ERR_SHAPE,
                 "LPPool1d: input length 0 with padding 0 is shorter than kernel_size 4");
    /* L = k is the shortest valid input. */
    assert_ok(lc_module_output_shape(m, shape(3, 1, 1, 4, 0), &out));
    assert_int_equal(out.dim[2], 1);
    lc_module_free(m);

    m = test_avgpool(5, 1, 2, false, true); /* padding counts: L + 2p >= k */
    assert_fails(lc_module_output_shape(m, shape(3, 1, 1, 0, 0), &out), LC_ERR_SHAPE,
                 "AvgPool1d: input length 0 with padding 2 is shorter than kernel_size 5");
    assert_ok(lc_module_output_shape(m, shape(3, 1, 1, 1, 0), &out));
    assert_int_equal(out.dim[2], 1);
    lc_module_free(m);

    /* Huge parameters never fit a real input; the message says so instead of overflowing. */
    m = test_avgpool(INT64_MAX, UNSET, 0, false, true);
    assert_fails(lc_module_output_shape(m, shape(3, 1, 1, 8, 0), &out), LC_ERR_SHAPE,
                 "AvgPool1d: input length 8 with padding 0 is shorter than kernel_size 9223372036854775807");
    lc_module_free(m);
    m = test_avgpool(INT64_MAX, UNSET, INT64_MAX / 2, true, true);
    assert_fails(lc_module_output_shape(m, shape(3, 1, 1, 0, 0), &out), LC_ERR_SHAPE, "AvgPool1d");
    lc_module_free(m);
    m = test_lppool(2, INT64_MAX, 1, true);
    assert_fails(lc_module_output_shape(m, shape(3, 1, 1, 8, 0), &out), LC_ERR_SHAPE, "LPPool1d");
    lc_module_free(m);
    /* A huge stride is fine: one window. */
    m = test_lppool(2, 2, INT64_MAX, true);
    assert_ok(lc_module_output_shape(m, shape(3, 1, 1, 8, 0), &out));
    assert_int_equal(out.dim[2], 1);
    lc_module_free(m);

    /* In a Sequential, a later stage that no longer fits names its module. */
    lc_module *seq;
    assert_ok(lc_sequential_new(&seq));
    assert_ok(lc_sequential_append(seq, test_avgpool(4, UNSET, 0, false, true)));
    assert_ok(lc_sequential_append(seq, test_lppool(2, 3, UNSET, false)));
    assert_fails(lc_module_output_shape(seq, shape(3, 1, 1, 8, 0), &out), LC_ERR_SHAPE,
                 "LPPool1d: input length 2 with padding 0 is shorter than kernel_size 3");
    lc_module_free(seq);
}

/* ---- NaN and inf inside inputs: IEEE arithmetic per window ---- */

static lc_tensor *row(lc_dtype dtype, const double *v, int64_t n) {
    lc_tensor *t;
    assert_ok(lc_tensor_from_doubles(dtype, shape(3, 1, 1, n, 0), v, &t));
    return t;
}

static void expect_row(const lc_module *m, lc_dtype dtype, const double *x, int64_t n,
                       const double *want, int64_t n_out) {
    lc_tensor *t = row(dtype, x, n);
    lc_tensor *y = run(m, t);
    assert_shape(y, 3, 1, 1, n_out);
    /* Exact: NaN matches NaN, inf the same inf; finite values within a float32 rounding. */
    assert_values_close(y, want, n_out, dtype == LC_F32 ? 1e-6 : 1e-14, 0);
    lc_tensor_free(y);
    lc_tensor_free(t);
}

static void test_nan_inf_lppool(void **state) {
    (void)state;
    const double inf = INFINITY, nan = NAN;
    /* Windows of 2: [NaN, 1] [inf, 1] [inf, NaN] [-inf, 2] [inf, -inf] [3, 4] [0, 0]. */
    const double x[] = {nan, 1, inf, 1, inf, nan, -inf, 2, inf, -inf, 3, 4, 0, 0};
    const double norms[] = {1, 2, 0.5, 3, 60};
    for (size_t i = 0; i < sizeof norms / sizeof norms[0]; i++) {
        double p = norms[i];
        double finite = pow(pow(3, p) + pow(4, p), 1 / p);
        const double want[] = {nan, inf, nan, inf, inf, finite, 0};
        lc_module *m = test_lppool(p, 2, UNSET, false);
        expect_row(m, LC_F64, x, 14, want, 7);
        expect_row(m, LC_F32, x, 14, want, 7);
        lc_module_free(m);
    }
    /* Overlapping windows: a NaN poisons every window holding it and only those. */
    lc_module *m = test_lppool(2, 3, 1, false);
    const double x2[] = {1, 2, nan, 2, 1, 0, 0};
    const double want2[] = {nan, nan, nan, sqrt(5), 1};
    expect_row(m, LC_F64, x2, 7, want2, 5);
    lc_module_free(m);
    /* Ceil mode: the partial last window holding inf gives inf. */
    m = test_lppool(2, 2, UNSET, true);
    const double x3[] = {3, 4, inf};
    const double want3[] = {5, inf};
    expect_row(m, LC_F64, x3, 3, want3, 2);
    expect_row(m, LC_F32, x3, 3, want3, 2);
    lc_module_free(m);
}

static void test_nan_inf_avgpool(void **state) {
    (void)state;
    const double inf = INFINITY, nan = NAN;
    const double x[] = {nan, 1, inf, 1, inf, nan, -inf, 2, inf, -inf, 3, 4};
    const double want[] = {nan, inf, nan, -inf, nan, 3.5};
    lc_module *m = test_avgpool(2, UNSET, 0, false, true);
    expect_row(m, LC_F64, x, 12, want, 6);
    expect_row(m, LC_F32, x, 12, want, 6);
    lc_module_free(m);
    /* With padding (count_include_pad both ways): windows [pad, inf] [1, pad]. */
    const double x2[] = {inf, 1};
    const double want_cip[] = {inf, 0.5};
    m = test_avgpool(2, UNSET, 1, false, true);
    expect_row(m, LC_F64, x2, 2, want_cip, 2);
    lc_module_free(m);
    const double want_nocip[] = {inf, 1};
    m = test_avgpool(2, UNSET, 1, false, false);
    expect_row(m, LC_F64, x2, 2, want_nocip, 2);
    lc_module_free(m);
    /* A window's sum does not overflow where the mean fits (docs/semantics.md): the mean of two
     * f64 max is max. (This expected inf while the interpreter summed in plain doubles; its
     * wide exponent, docs/pipeline.md, now gives the exact value.) */
    const double big[] = {DBL_MAX, DBL_MAX};
    const double want_big[] = {DBL_MAX};
    m = test_avgpool(2, UNSET, 0, false, true);
    expect_row(m, LC_F64, big, 2, want_big, 1);
    lc_module_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_avgpool_parameter_boundaries),
        cmocka_unit_test(test_lppool_parameter_boundaries),
        cmocka_unit_test(test_rank_mismatch),
        cmocka_unit_test(test_interp_input_mismatch),
        cmocka_unit_test(test_graph_shape_mismatch),
        cmocka_unit_test(test_zero_size),
        cmocka_unit_test(test_output_length_below_one),
        cmocka_unit_test(test_nan_inf_lppool),
        cmocka_unit_test(test_nan_inf_avgpool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
