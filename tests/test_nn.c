/* Modules: the worked examples of docs/semantics.md, output lengths, divisors, validation errors,
 * printing, and random parameter sets against a direct float64 implementation of
 * docs/semantics.md. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lucid/nn.h"
#include "ir/text_roundtrip.h"
#include "nn/pool_geometry.h"
#include "support/format_real.h"
#include "lucid/runtime.h"
#include "support/testutil.h"

/* Build module(x) as a graph, run it through the interpreter. */
static lc_tensor *apply(const lc_module *m, const lc_tensor *x) {
    lc_graph *g;
    assert_ok(lc_module_graph(m, x->dtype, x->shape, &g));
    assert_ok(lc_graph_verify(g));
    assert_ok(lc_graph_check_text_round_trip(g)); /* every module graph survives its text form */
    lc_tensor *y = NULL;
    assert_ok(lc_interp_run(g, &x, 1, &y, 1));
    lc_graph_free(g);
    return y;
}

static lc_tensor *row(const double *v, int64_t n) {
    lc_tensor *t;
    assert_ok(lc_tensor_from_doubles(LC_F32, test_shape3(1, 1, n), v, &t));
    return t;
}

static void check_shape3(const lc_tensor *t, int64_t n, int64_t c, int64_t l) {
    assert_int_equal(t->shape.rank, 3);
    assert_int_equal(t->shape.dim[0], n);
    assert_int_equal(t->shape.dim[1], c);
    assert_int_equal(t->shape.dim[2], l);
}

static void test_avg_worked_examples(void **state) {
    (void)state;
    const double a[] = {1, 2, 3, 4}, b[] = {1, 2, 3};
    lc_tensor *x = row(a, 4), *x3 = row(b, 3);

    lc_module *m = test_avgpool(2, 2, 0, false, true);
    lc_tensor *y = apply(m, x);
    check_shape3(y, 1, 1, 2);
    assert_values_close(y, (double[]){1.5, 3.5}, 2, 0, 0);
    char *text;
    assert_ok(lc_tensor_repr(y, &text));
    assert_string_equal(text, "Tensor([[[1.5, 3.5]]], grad=None)");
    free(text);
    lc_tensor_free(y);
    lc_module_free(m);

    m = test_avgpool(2, 1, 1, false, true);
    y = apply(m, x3);
    check_shape3(y, 1, 1, 4);
    assert_values_close(y, (double[]){0.5, 1.5, 2.5, 1.5}, 4, 0, 0);
    lc_tensor_free(y);
    lc_module_free(m);

    m = test_avgpool(2, 1, 1, false, false);
    y = apply(m, x3);
    assert_values_close(y, (double[]){1.0, 1.5, 2.5, 3.0}, 4, 0, 0);
    lc_tensor_free(y);
    lc_module_free(m);
    lc_tensor_free(x);
    lc_tensor_free(x3);
}

static void test_lp_worked_examples(void **state) {
    (void)state;
    lc_tensor *ones;
    assert_ok(lc_tensor_new(LC_F32, test_shape3(1, 8, 16), &ones));
    for (int i = 0; i < 128; i++) lc_tensor_set(ones, i, 1);
    lc_module *m = test_lppool(2, 4, LC_STRIDE_UNSET, false);
    lc_tensor *y = apply(m, ones);
    check_shape3(y, 1, 8, 4);
    for (int i = 0; i < 32; i++) assert_true(lc_tensor_get(y, i) == 2.0);
    lc_tensor_free(y);
    lc_module_free(m);
    lc_tensor_free(ones);

    assert_ok(lc_tensor_new(LC_F32, test_shape3(2, 4, 12), &ones));
    for (int i = 0; i < 96; i++) lc_tensor_set(ones, i, 1);
    m = test_lppool(1, 3, 1, false);
    y = apply(m, ones);
    check_shape3(y, 2, 4, 10);
    for (int i = 0; i < 80; i++) assert_true(lc_tensor_get(y, i) == 3.0);
    lc_tensor_free(y);
    lc_module_free(m);
    lc_tensor_free(ones);

    lc_tensor *x = row((double[]){1, -2, 3, -4, 5}, 5);
    m = test_lppool(2, 2, LC_STRIDE_UNSET, false);
    y = apply(m, x);
    assert_values_close(y, (double[]){sqrt(5.0), 5}, 2, 1e-7, 0);
    lc_tensor_free(y);
    lc_module_free(m);
    m = test_lppool(2, 2, LC_STRIDE_UNSET, true);
    y = apply(m, x);
    assert_values_close(y, (double[]){sqrt(5.0), 5, 5}, 3, 1e-7, 0);
    lc_tensor_free(y);
    lc_module_free(m);
    lc_tensor_free(x);
}

/* PyTorch: avg_pool1d([1, 2, 3], 4, 2, ceil_mode=True) = [2.0]; LP sums what exists. */
static void test_ceil_kernel_longer_than_input(void **state) {
    (void)state;
    lc_tensor *x = row((double[]){1, -2, 3}, 3);
    lc_module *m = test_avgpool(4, 2, 0, true, true);
    lc_tensor *y = apply(m, x);
    assert_values_close(y, (double[]){2.0 / 3.0}, 1, 1e-7, 0);
    lc_tensor_free(y);
    lc_module_free(m);
    m = test_lppool(2, 4, 2, true);
    y = apply(m, x);
    assert_values_close(y, (double[]){sqrt(14.0)}, 1, 1e-7, 0);
    lc_tensor_free(y);
    lc_module_free(m);
    lc_tensor_free(x);
}

static void test_rank2_input(void **state) {
    (void)state;
    int64_t d[] = {2, 4};
    lc_tensor *x;
    assert_ok(lc_tensor_from_doubles(LC_F64, lc_shape_make(2, d), (double[]){1, 2, 3, 4, -1, -2, -3, -4}, &x));
    lc_module *m = test_avgpool(2, LC_STRIDE_UNSET, 0, false, true);
    lc_tensor *y = apply(m, x);
    assert_int_equal(y->shape.rank, 2);
    assert_int_equal(y->shape.dim[1], 2);
    assert_int_equal(y->dtype, LC_F64);
    assert_values_close(y, (double[]){1.5, 3.5, -1.5, -3.5}, 4, 0, 0);
    lc_tensor_free(y);
    lc_module_free(m);
    lc_tensor_free(x);
}

static void test_output_lengths(void **state) {
    (void)state;
    /* floor((L + 2p - k)/s) + 1; ceil mode drops a window starting at or past L + p. */
    struct { int64_t L, k, s, p; bool ceil; int64_t want; } cases[] = {
        {4, 2, 2, 0, false, 2}, {5, 2, 2, 0, false, 2}, {5, 2, 2, 0, true, 3},
        {13, 4, 3, 2, true, 5}, {13, 4, 3, 2, false, 5}, {10, 3, 5, 0, true, 2},
        {11, 2, 5, 0, true, 3}, {10, 2, 4, 1, true, 3}, {4, 4, 1, 0, false, 1},
        {17, 4, 3, 0, true, 6}, {17, 4, 3, 0, false, 5}, {6, 1, 7, 0, true, 1},
        {3, 4, 2, 0, true, 1}, {3, 6, 2, 1, true, 1}, /* kernel past the input: ceil mode keeps one window */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lc_pool1d_geometry geo;
        assert_ok(lc_pool1d_geometry_compute("test", cases[i].L, cases[i].k, cases[i].s, cases[i].p,
                                             cases[i].ceil, &geo));
        if (geo.out_length != cases[i].want)
            fail_msg("case %zu: L_out %lld, want %lld", i, (long long)geo.out_length, (long long)cases[i].want);
        /* The last window starts inside the input or the left padding. */
        assert_true((geo.out_length - 1) * cases[i].s < cases[i].L + cases[i].p);
    }
    lc_pool1d_geometry geo;
    assert_fails(lc_pool1d_geometry_compute("test", 0, 1, 1, 0, true, &geo), LC_ERR_SHAPE, "output length would be < 1");
    assert_fails(lc_pool1d_geometry_compute("test", 3, 6, 2, 0, true, &geo), LC_ERR_SHAPE, "output length would be < 1");
    assert_fails(lc_pool1d_geometry_compute("LPPool1d", 3, 4, 4, 0, false, &geo), LC_ERR_SHAPE,
                 "LPPool1d: input length 3 with padding 0 is shorter than kernel_size 4");
}

static void test_divisors(void **state) {
    (void)state;
    /* The torch s00 case's geometry: L=13, k=4, s=3, p=2, ceil: the last window overhangs. */
    double v[13];
    for (int i = 0; i < 13; i++) v[i] = 1;
    lc_tensor *x = row(v, 13);
    lc_module *m = test_avgpool(4, 3, 2, true, true);
    lc_tensor *y = apply(m, x);
    /* windows start at -2, 1, 4, 7, 10; the last spans [10, 14) capped at L+p=15 -> 4, all
     * but the first hold 4 real ones (first: 2 real of 4). */
    assert_values_close(y, (double[]){0.5, 1, 1, 1, 0.75}, 5, 1e-7, 0);
    lc_tensor_free(y);
    lc_module_free(m);
    m = test_avgpool(4, 3, 2, true, false);
    y = apply(m, x);
    assert_values_close(y, (double[]){1, 1, 1, 1, 1}, 5, 1e-7, 0);
    lc_tensor_free(y);
    lc_module_free(m);
    lc_tensor_free(x);
}

static void test_validation_errors(void **state) {
    (void)state;
    lc_module *m = NULL;
    lc_avgpool1d_params a = lc_avgpool1d_defaults(0);
    assert_fails(lc_avgpool1d_new(&a, &m), LC_ERR_INVALID_ARG, "AvgPool1d: kernel_size must be >= 1, got 0");
    a = lc_avgpool1d_defaults(3);
    a.stride = 0;
    assert_fails(lc_avgpool1d_new(&a, &m), LC_ERR_INVALID_ARG, "AvgPool1d: stride must be >= 1, got 0");
    a.stride = -2;
    assert_fails(lc_avgpool1d_new(&a, &m), LC_ERR_INVALID_ARG, "AvgPool1d: stride must be >= 1, got -2");
    a = lc_avgpool1d_defaults(3);
    a.padding = 2;
    assert_fails(lc_avgpool1d_new(&a, &m), LC_ERR_INVALID_ARG,
                 "AvgPool1d: padding must be between 0 and kernel_size / 2 = 1, got 2");
    a.padding = -1;
    assert_fails(lc_avgpool1d_new(&a, &m), LC_ERR_INVALID_ARG, "got -1");
    assert_null(m);

    lc_lppool1d_params p = lc_lppool1d_defaults(-1, 2);
    assert_fails(lc_lppool1d_new(&p, &m), LC_ERR_INVALID_ARG, "LPPool1d: norm_type must be finite and > 0, got -1");
    p.norm_type = 0;
    assert_fails(lc_lppool1d_new(&p, &m), LC_ERR_INVALID_ARG, "norm_type must be finite and > 0, got 0");
    p.norm_type = NAN;
    assert_fails(lc_lppool1d_new(&p, &m), LC_ERR_INVALID_ARG, "got nan");
    p.norm_type = INFINITY;
    assert_fails(lc_lppool1d_new(&p, &m), LC_ERR_INVALID_ARG, "got inf");
    p.norm_type = -INFINITY;
    assert_fails(lc_lppool1d_new(&p, &m), LC_ERR_INVALID_ARG, "got -inf");
    p.norm_type = 4.9e-324; /* finite and > 0, but 1/p is not */
    assert_fails(lc_lppool1d_new(&p, &m), LC_ERR_INVALID_ARG, "LPPool1d: norm_type 5e-324 is too small (1 / norm_type overflows)");
    p = lc_lppool1d_defaults(2, -3);
    assert_fails(lc_lppool1d_new(&p, &m), LC_ERR_INVALID_ARG, "LPPool1d: kernel_size must be >= 1, got -3");
    p = lc_lppool1d_defaults(2, 3);
    p.stride = 0;
    assert_fails(lc_lppool1d_new(&p, &m), LC_ERR_INVALID_ARG, "LPPool1d: stride must be >= 1, got 0");
    assert_null(m);

    /* Shape errors surface when the module is applied. */
    m = test_lppool(2, 4, LC_STRIDE_UNSET, false);
    lc_shape out;
    assert_fails(lc_module_output_shape(m, test_shape3(1, 1, 3), &out), LC_ERR_SHAPE,
                 "LPPool1d: input length 3 with padding 0 is shorter than kernel_size 4");
    int64_t d4[] = {1, 1, 1, 8};
    assert_fails(lc_module_output_shape(m, lc_shape_make(4, d4), &out), LC_ERR_SHAPE,
                 "LPPool1d: input must have rank 2 (C, L) or 3 (N, C, L), got rank 4");
    lc_module_free(m);
}

static void test_repr(void **state) {
    (void)state;
    lc_module *seq;
    assert_ok(lc_sequential_new(&seq));
    assert_ok(lc_sequential_append(seq, test_avgpool(4, LC_STRIDE_UNSET, 0, false, true)));
    assert_ok(lc_sequential_append(seq, test_lppool(2.5, 4, 2, true)));
    char *text;
    assert_ok(lc_module_repr(lc_sequential_child(seq, 0), &text));
    assert_string_equal(text, "AvgPool1d(kernel_size=4, stride=4, padding=0, ceil_mode=False, count_include_pad=True)");
    free(text);
    lc_module *two = test_lppool(2, 4, LC_STRIDE_UNSET, false);
    assert_ok(lc_module_repr(two, &text));
    assert_string_equal(text, "LPPool1d(norm_type=2, kernel_size=4, stride=4, ceil_mode=False)");
    free(text);
    lc_module_free(two);
    assert_ok(lc_module_repr(seq, &text));
    assert_string_equal(text,
                        "Sequential(\n"
                        "  (0): AvgPool1d(kernel_size=4, stride=4, padding=0, ceil_mode=False, count_include_pad=True)\n"
                        "  (1): LPPool1d(norm_type=2.5, kernel_size=4, stride=2, ceil_mode=True)\n"
                        ")");
    free(text);
    lc_shape out;
    assert_ok(lc_module_output_shape(seq, test_shape3(2, 3, 64), &out));
    assert_int_equal(out.dim[2], 7); /* 64 -> 16 -> ceil((16 - 4) / 2) + 1 = 7 */
    lc_module_free(seq);
}

static void test_tensor_repr_floats(void **state) {
    (void)state;
    char buf[32];
    assert_string_equal(lc_format_real(1.0, false, buf), "1.0");
    assert_string_equal(lc_format_real(0.5, false, buf), "0.5");
    assert_string_equal(lc_format_real(1e-05, false, buf), "1e-05");
    assert_string_equal(lc_format_real(0.0001, false, buf), "0.0001");
    assert_string_equal(lc_format_real(NAN, false, buf), "nan");
    assert_string_equal(lc_format_real(-INFINITY, false, buf), "-inf");
    assert_string_equal(lc_format_real(1e16, false, buf), "1e+16");
    assert_string_equal(lc_format_real(123456789.0, false, buf), "123456789.0");
    assert_string_equal(lc_format_real(0.1, false, buf), "0.1");
    assert_string_equal(lc_format_real((double)0.1f, true, buf), "0.1");
    assert_string_equal(lc_format_real((double)0.1f, false, buf), "0.10000000149011612");
    assert_string_equal(lc_format_real(-2.5, false, buf), "-2.5");
    assert_string_equal(lc_format_real(1.0 / 3.0, false, buf), "0.3333333333333333");
}

/* docs/semantics.md written out directly, loop by loop, in float64: the independent reference. */
static double ref_avg(const double *x, int64_t L, int64_t k, int64_t s, int64_t p, bool cip, int64_t o) {
    int64_t start = o * s - p, end = start + k < L + p ? start + k : L + p;
    double sum = 0;
    int64_t real = 0;
    for (int64_t i = start; i < end; i++)
        if (i >= 0 && i < L) sum += x[i], real++;
    return sum / (double)(cip ? end - start : real);
}

static double ref_lp(const double *x, int64_t L, int64_t k, int64_t s, double p, int64_t o) {
    double sum = 0;
    for (int64_t i = o * s; i < o * s + k && i < L; i++) sum += pow(fabs(x[i]), p);
    return pow(sum, 1 / p);
}

static void test_random_against_reference(void **state) {
    (void)state;
    test_rng rng = test_rng_seeded(42);
    for (int iter = 0; iter < 300; iter++) {
        int64_t k = test_rng_int(&rng, 1, 7), s = test_rng_int(&rng, 1, 8);
        int64_t L = test_rng_int(&rng, k, 40), N = test_rng_int(&rng, 1, 2), C = test_rng_int(&rng, 1, 3);
        bool ceil = test_rng_int(&rng, 0, 1), is_avg = test_rng_int(&rng, 0, 1);
        int64_t p = is_avg ? test_rng_int(&rng, 0, k / 2) : 0;
        bool cip = test_rng_int(&rng, 0, 1);
        static const double norms[] = {0.5, 1, 1.5, 2, 2.5, 3, 7};
        double norm = norms[test_rng_int(&rng, 0, 6)];
        lc_dtype dt = test_rng_int(&rng, 0, 1) ? LC_F64 : LC_F32;
        lc_module *m = is_avg ? test_avgpool(k, s, p, ceil, cip) : test_lppool(norm, k, s, ceil);
        lc_tensor *x = test_random_tensor(&rng, dt, test_shape3(N, C, L), 3.0);
        lc_tensor *y = apply(m, x);
        lc_pool1d_geometry geo;
        assert_ok(lc_pool1d_geometry_compute("test", L, k, s, p, ceil, &geo));
        check_shape3(y, N, C, geo.out_length);
        double xs[64];
        for (int64_t r = 0; r < N * C; r++) {
            for (int64_t i = 0; i < L; i++) xs[i] = lc_tensor_get(x, r * L + i);
            for (int64_t o = 0; o < geo.out_length; o++) {
                double want = is_avg ? ref_avg(xs, L, k, s, p, cip, o) : ref_lp(xs, L, k, s, norm, o);
                double got = lc_tensor_get(y, r * geo.out_length + o);
                double tol = dt == LC_F32 ? 1e-6 + 1e-6 * fabs(want) : 1e-12 + 1e-12 * fabs(want);
                if (fabs(got - want) > tol)
                    fail_msg("iter %d (%s k=%lld s=%lld p=%lld ceil=%d L=%lld): y[%lld] = %.9g, want %.9g",
                             iter, is_avg ? "avg" : "lp", (long long)k, (long long)s, (long long)p, ceil,
                             (long long)L, (long long)o, got, want);
            }
        }
        lc_tensor_free(y);
        lc_tensor_free(x);
        lc_module_free(m);
    }
}

static void test_node_names(void **state) {
    (void)state;
    lc_module *seq;
    assert_ok(lc_sequential_new(&seq));
    assert_ok(lc_sequential_append(seq, test_avgpool(3, 1, 1, false, false)));
    assert_ok(lc_sequential_append(seq, test_lppool(2, 4, LC_STRIDE_UNSET, false)));
    lc_graph *g;
    assert_ok(lc_graph_new(&g));
    int x, y;
    assert_ok(lc_input(g, "x", LC_F32, test_shape3(1, 2, 16), &x));
    assert_ok(lc_module_forward(seq, g, x, &y));
    assert_string_equal(lc_graph_node(g, 1)->name, "0.AvgPool1d.unfold");
    assert_string_equal(lc_graph_node(g, y)->name, "1.LPPool1d.root");
    assert_int_equal(lc_graph_node(g, 2)->op, LC_OP_SUM); /* padding without count: divisors differ */
    lc_graph_free(g);
    lc_module_free(seq);
}

/* Graph building never allocates per element: a huge L builds (uniform divisors -> mean),
 * and only per-window divisors that cannot exist fail, with a message. */
static void test_huge_lengths(void **state) {
    (void)state;
    const int64_t huge = INT64_C(4611686018427387904); /* 2^62 */
    lc_module *m = test_avgpool(1, LC_STRIDE_UNSET, 0, false, true);
    lc_graph *g;
    assert_ok(lc_module_graph(m, LC_F32, test_shape3(1, 1, huge), &g));
    assert_int_equal(lc_graph_node(g, lc_graph_output(g, 0))->op, LC_OP_MEAN);
    lc_graph_free(g);
    lc_module_free(m);
    m = test_avgpool(3, 3, 1, false, false); /* padding without count_include_pad: divisors differ */
    assert_fails(lc_module_graph(m, LC_F32, test_shape3(1, 1, INT64_C(9000000000000000000)), &g),
                 LC_ERR_NOMEM, "AvgPool1d: 3000000000000000000 per-window divisors do not fit in memory");
    assert_null(g);
    lc_module_free(m);
    /* A zero extent makes any shape a valid zero-size tensor. */
    int64_t d[] = {0, huge, 4};
    lc_tensor *t;
    assert_ok(lc_tensor_new(LC_F32, lc_shape_make(3, d), &t));
    assert_int_equal(lc_tensor_numel(t), 0);
    lc_tensor_free(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_avg_worked_examples),
        cmocka_unit_test(test_lp_worked_examples),
        cmocka_unit_test(test_rank2_input),
        cmocka_unit_test(test_ceil_kernel_longer_than_input),
        cmocka_unit_test(test_output_lengths),
        cmocka_unit_test(test_divisors),
        cmocka_unit_test(test_validation_errors),
        cmocka_unit_test(test_repr),
        cmocka_unit_test(test_tensor_repr_floats),
        cmocka_unit_test(test_random_against_reference),
        cmocka_unit_test(test_node_names),
        cmocka_unit_test(test_huge_lengths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
