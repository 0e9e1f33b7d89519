/* AvgPool2d and LPPool2d: validation errors naming the parameter and value (C API and model
 * spec), printing, the model-spec rows, output shapes for rank-3 and rank-4 inputs, and a few
 * values worked by hand through the interpreter (the PyTorch-made cases of
 * tests/conformance/torch2d pin the rest on both engines, forward and backward); and the
 * per-axis builders in ONNX's generality (pads per side beyond kernel / 2, dilation) against
 * windows enumerated slot by slot. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lucid/autodiff.h"
#include "lucid/model_spec.h"
#include "lucid/passes.h"
#include "lucid/program.h"
#include "lucid/runtime.h"
#include "nn/pool_geometry.h"
#include "codegen/codegen.h"
#include "jit_harness.h"
#include "support/testutil.h"

static void assert_repr(const lc_module *m, const char *want) {
    char *s = NULL;
    assert_ok(lc_module_repr(m, &s));
    assert_string_equal(s, want);
    free(s);
}

static void assert_spec_repr(const char *spec, const char *want) {
    lc_module *m;
    assert_ok(lc_model_parse_call(spec, "t", &m));
    assert_repr(m, want);
    lc_module_free(m);
}

static void assert_spec_fails(const char *spec, lc_status status, const char *message) {
    lc_module *m = (lc_module *)0x1;
    assert_fails(lc_model_parse_call(spec, "t", &m), status, message);
    assert_null(m);
}

static void test_printing(void **state) {
    (void)state;
    lc_module *m;
    lc_avgpool2d_params a = lc_avgpool2d_defaults(2, 2);
    assert_ok(lc_avgpool2d_new(&a, &m));
    assert_repr(m, "AvgPool2d(kernel_size=2, stride=2, padding=0, ceil_mode=False, count_include_pad=True)");
    lc_avgpool2d_params r = lc_module_avgpool2d_params(m);
    assert_int_equal(r.stride[0], 2);
    assert_int_equal(r.stride[1], 2);
    lc_module_free(m);
    a = lc_avgpool2d_defaults(2, 3);
    a.stride[0] = 1;
    a.padding[1] = 1;
    a.ceil_mode = true;
    a.count_include_pad = false;
    assert_ok(lc_avgpool2d_new(&a, &m));
    assert_repr(m, "AvgPool2d(kernel_size=(2, 3), stride=(1, 3), padding=(0, 1), ceil_mode=True, "
                   "count_include_pad=False)");
    lc_module_free(m);

    lc_lppool2d_params l = lc_lppool2d_defaults(2.5, 3, 2);
    assert_ok(lc_lppool2d_new(&l, &m));
    assert_repr(m, "LPPool2d(norm_type=2.5, kernel_size=(3, 2), stride=(3, 2), ceil_mode=False)");
    assert_true(lc_module_lppool2d_params(m).norm_type == 2.5);
    lc_module_free(m);

    /* through the model spec: ints, pairs, keywords, None stride */
    assert_spec_repr("AvgPool2d(3)",
                     "AvgPool2d(kernel_size=3, stride=3, padding=0, ceil_mode=False, count_include_pad=True)");
    assert_spec_repr("nn.AvgPool2d((3, 2), (2, 1), (1, 0), True, False)",
                     "AvgPool2d(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), ceil_mode=True, "
                     "count_include_pad=False)");
    assert_spec_repr("AvgPool2d(2, stride=None, padding=(1, 1))",
                     "AvgPool2d(kernel_size=2, stride=2, padding=1, ceil_mode=False, count_include_pad=True)");
    assert_spec_repr("LPPool2d(2, 3)", "LPPool2d(norm_type=2, kernel_size=3, stride=3, ceil_mode=False)");
    assert_spec_repr("LPPool2d(norm_type=1.5, kernel_size=(2, 4), stride=(1, 2), ceil_mode=True)",
                     "LPPool2d(norm_type=1.5, kernel_size=(2, 4), stride=(1, 2), ceil_mode=True)");
}

static void test_validation(void **state) {
    (void)state;
    lc_module *m = (lc_module *)0x1;
    lc_avgpool2d_params a = lc_avgpool2d_defaults(0, 2);
    assert_fails(lc_avgpool2d_new(&a, &m), LC_ERR_INVALID_ARG, "AvgPool2d: kernel_size must be >= 1, got 0");
    assert_null(m);
    a = lc_avgpool2d_defaults(2, -3);
    assert_fails(lc_avgpool2d_new(&a, &m), LC_ERR_INVALID_ARG, "AvgPool2d: kernel_size must be >= 1, got -3");
    a = lc_avgpool2d_defaults(2, 2);
    a.stride[1] = 0;
    assert_fails(lc_avgpool2d_new(&a, &m), LC_ERR_INVALID_ARG, "AvgPool2d: stride must be >= 1, got 0");
    a = lc_avgpool2d_defaults(4, 3);
    a.padding[0] = 3;
    assert_fails(lc_avgpool2d_new(&a, &m), LC_ERR_INVALID_ARG,
                 "AvgPool2d: padding must be between 0 and kernel_size / 2 = 2, got 3");
    a = lc_avgpool2d_defaults(4, 3);
    a.padding[1] = -1;
    assert_fails(lc_avgpool2d_new(&a, &m), LC_ERR_INVALID_ARG,
                 "AvgPool2d: padding must be between 0 and kernel_size / 2 = 1, got -1");
    assert_fails(lc_avgpool2d_new(NULL, &m), LC_ERR_INVALID_ARG, "AvgPool2d: params must not be NULL");
    assert_fails(lc_avgpool2d_new(&a, NULL), LC_ERR_INVALID_ARG, "AvgPool2d: out must not be NULL");

    const struct { double p; const char *msg; } norms[] = {
        {-1, "LPPool2d: norm_type must be finite and > 0, got -1"},
        {0, "LPPool2d: norm_type must be finite and > 0, got 0"},
        {INFINITY, "LPPool2d: norm_type must be finite and > 0, got inf"},
        {NAN, "LPPool2d: norm_type must be finite and > 0, got nan"},
        {1e-320, "LPPool2d: norm_type 1e-320 is too small (1 / norm_type overflows)"},
    };
    for (size_t i = 0; i < sizeof norms / sizeof norms[0]; i++) {
        lc_lppool2d_params l = lc_lppool2d_defaults(norms[i].p, 2, 2);
        assert_fails(lc_lppool2d_new(&l, &m), LC_ERR_INVALID_ARG, norms[i].msg);
    }
    lc_lppool2d_params l = lc_lppool2d_defaults(2, 2, 0);
    assert_fails(lc_lppool2d_new(&l, &m), LC_ERR_INVALID_ARG, "LPPool2d: kernel_size must be >= 1, got 0");
    l = lc_lppool2d_defaults(2, 2, 2);
    l.stride[0] = -2;
    assert_fails(lc_lppool2d_new(&l, &m), LC_ERR_INVALID_ARG, "LPPool2d: stride must be >= 1, got -2");
    assert_fails(lc_lppool2d_new(NULL, &m), LC_ERR_INVALID_ARG, "LPPool2d: params must not be NULL");

    /* the same through the model spec: the module's own message */
    assert_spec_fails("AvgPool2d(2, padding=(0, 2))", LC_ERR_INVALID_ARG,
                      "AvgPool2d: padding must be between 0 and kernel_size / 2 = 1, got 2");
    assert_spec_fails("AvgPool2d((2, 0))", LC_ERR_INVALID_ARG,
                      "AvgPool2d: kernel_size must be >= 1, got 0");
    assert_spec_fails("LPPool2d(-1, 2)", LC_ERR_INVALID_ARG,
                      "LPPool2d: norm_type must be finite and > 0, got -1");
    assert_spec_fails("LPPool2d(inf, 2)", LC_ERR_INVALID_ARG,
                      "LPPool2d: norm_type must be finite and > 0, got inf");
    assert_spec_fails("LPPool2d(2, 2, stride=(1, 0))", LC_ERR_INVALID_ARG,
                      "LPPool2d: stride must be >= 1, got 0");
    assert_spec_fails("AvgPool2d()", LC_ERR_PARSE, "AvgPool2d: missing required argument kernel_size");
    assert_spec_fails("LPPool2d(2)", LC_ERR_PARSE, "LPPool2d: missing required argument kernel_size");
    /* LPPool2d has no padding (PyTorch's signature): a fifth positional is one too many */
    lc_module *bad = (lc_module *)0x1;
    assert_fails(lc_model_parse_call("LPPool2d(2, 2, 2, False, 1)", "t", &bad), LC_ERR_PARSE, "LPPool2d");
}

static void assert_shape(lc_shape got, int rank, const int64_t *dims) {
    lc_shape want = lc_shape_make(rank, dims);
    assert_true(lc_shape_equal(&got, &want));
}

/* Output shapes, rank-3 and rank-4, and the input errors. */
static void test_shapes(void **state) {
    (void)state;
    lc_module *m;
    lc_shape out;
    assert_ok(lc_model_parse_call("AvgPool2d(2, ceil_mode=True)", "t", &m));
    assert_ok(lc_module_output_shape(m, lc_shape_make(3, (int64_t[]){3, 7, 5}), &out));
    assert_shape(out, 3, (int64_t[]){3, 4, 3});
    assert_ok(lc_module_output_shape(m, lc_shape_make(4, (int64_t[]){2, 3, 7, 5}), &out));
    assert_shape(out, 4, (int64_t[]){2, 3, 4, 3});
    assert_fails(lc_module_output_shape(m, lc_shape_make(2, (int64_t[]){7, 5}), &out), LC_ERR_SHAPE,
                 "AvgPool2d: input must have rank 3 (C, H, W) or 4 (N, C, H, W), got rank 2");
    assert_fails(lc_module_output_shape(m, lc_shape_make(5, (int64_t[]){1, 1, 1, 7, 5}), &out), LC_ERR_SHAPE,
                 "AvgPool2d: input must have rank 3 (C, H, W) or 4 (N, C, H, W), got rank 5");
    lc_module_free(m);
    assert_ok(lc_model_parse_call("LPPool2d(2, (3, 2), (2, 1))", "t", &m));
    assert_ok(lc_module_output_shape(m, lc_shape_make(3, (int64_t[]){1, 8, 4}), &out));
    assert_shape(out, 3, (int64_t[]){1, 3, 3});
    assert_fails(lc_module_output_shape(m, lc_shape_make(4, (int64_t[]){1, 1, 2, 9}), &out), LC_ERR_SHAPE,
                 "LPPool2d: input height 2 with padding 0 is shorter than kernel_size 3 (output height would be < 1)");
    assert_fails(lc_module_output_shape(m, lc_shape_make(4, (int64_t[]){1, 1, 9, 1}), &out), LC_ERR_SHAPE,
                 "LPPool2d: input width 1 with padding 0 is shorter than kernel_size 2 (output width would be < 1)");
    lc_module_free(m);
}

/* y = module(x) through the interpreter, x given row-major. */
static lc_tensor *run(const char *spec, lc_shape shape, const double *x) {
    lc_module *m;
    assert_ok(lc_model_parse_call(spec, "t", &m));
    lc_tensor *in, *y;
    assert_ok(lc_tensor_new(LC_F64, shape, &in));
    for (int64_t i = 0; i < lc_tensor_numel(in); i++) lc_tensor_set(in, i, x[i]);
    lc_graph *g;
    assert_ok(lc_module_graph(m, LC_F64, shape, &g));
    assert_ok(lc_interp_run(g, (const lc_tensor *const *)&in, 1, &y, 1));
    lc_graph_free(g);
    lc_tensor_free(in);
    lc_module_free(m);
    return y;
}

static void assert_values(const lc_tensor *y, const double *want, int n) {
    assert_int_equal(lc_tensor_numel(y), n);
    for (int i = 0; i < n; i++)
        if (fabs(lc_tensor_get(y, i) - want[i]) > 1e-12)
            fail_msg("element %d: got %.17g, want %.17g", i, lc_tensor_get(y, i), want[i]);
}

static void test_values(void **state) {
    (void)state;
    double x[16];
    for (int i = 0; i < 16; i++) x[i] = i + 1; /* 4 x 4: rows 1..4, 5..8, 9..12, 13..16 */
    lc_shape s = lc_shape_make(3, (int64_t[]){1, 4, 4});
    lc_tensor *y = run("AvgPool2d(2)", s, x);
    assert_values(y, (double[]){3.5, 5.5, 11.5, 13.5}, 4);
    lc_tensor_free(y);
    /* padding 1, stride 2, 3x3: the corner window holds 1, 2, 5, 6 (sum 14) and 5 zeros of
     * padding; with count_include_pad it divides by 9, without by 4 */
    y = run("AvgPool2d(3, 2, 1)", s, x);
    assert_values(y, (double[]){14.0 / 9, 30.0 / 9, 57.0 / 9, 99.0 / 9}, 4);
    lc_tensor_free(y);
    y = run("AvgPool2d(3, 2, 1, count_include_pad=False)", s, x);
    assert_values(y, (double[]){14.0 / 4, 30.0 / 6, 57.0 / 6, 99.0 / 9}, 4);
    lc_tensor_free(y);
    /* ceil mode, 3x3 stride 2 on 4x4: the last windows in each axis overhang by one and
     * divide by the elements that exist (2 rows or columns) */
    y = run("AvgPool2d(3, 2, ceil_mode=True)", s, x);
    assert_values(y, (double[]){54.0 / 9, 45.0 / 6, 72.0 / 6, 54.0 / 4}, 4);
    lc_tensor_free(y);
    /* LP: p = 1 sums |x|; p = 2 over the 2x2 window [1 2; 5 6] is sqrt(66); a ceil-mode partial
     * window is the norm of what is there: [12; 16] -> sqrt(400) = 20 */
    y = run("LPPool2d(1, 2)", s, x);
    assert_values(y, (double[]){14, 22, 46, 54}, 4);
    lc_tensor_free(y);
    y = run("LPPool2d(2, (2, 3), ceil_mode=True)", s, x);
    assert_values(y, (double[]){sqrt(1 + 4 + 9 + 25 + 36 + 49), sqrt(16 + 64), sqrt(81 + 100 + 121 + 169 + 196 + 225),
                                20}, 4);
    lc_tensor_free(y);
    double neg[16];
    for (int i = 0; i < 16; i++) neg[i] = -x[i];
    y = run("LPPool2d(2, 2)", lc_shape_make(4, (int64_t[]){1, 1, 4, 4}), neg);
    assert_values(y, (double[]){sqrt(66), sqrt(9 + 16 + 49 + 64), sqrt(81 + 100 + 169 + 196),
                                sqrt(121 + 144 + 225 + 256)}, 4);
    lc_tensor_free(y);
}

/* ONNX's output length: floor or ceil of (L + lo + hi - span) / s, plus one; in ceil mode one
 * less when the last window starts at or past L + lo. */
static int64_t onnx_out_length(int64_t L, int64_t k, int64_t s, int64_t lo, int64_t hi, int64_t d, bool ceil_mode) {
    double room = (double)(L + lo + hi - (d * (k - 1) + 1));
    int64_t out = (int64_t)(ceil_mode ? ceil(room / (double)s) : floor(room / (double)s)) + 1;
    if (ceil_mode && out > 0 && (out - 1) * s >= L + lo) out--;
    return out;
}

/* lc_avg_pool_axis and lc_lp_pool_axis over every small combination of kernel, stride, pads
 * per side (up to beyond the kernel), dilation, ceil mode and count_include_pad, each window's
 * value recomputed here from its slots: the average's divisor counts the slots inside
 * [-lo, L + hi) (count_include_pad) or inside the input; the LP norm sums |x|^p over the slots
 * inside the input. */
static void test_pool_axis_builders(void **state) {
    (void)state;
    int checked = 0;
    for (int64_t L = 1; L <= 7; L += 3)
    for (int64_t k = 1; k <= 3; k++)
    for (int64_t s = 1; s <= 3; s++)
    for (int64_t lo = 0; lo <= 4; lo += 2)
    for (int64_t hi = 0; hi <= 3; hi++)
    for (int64_t d = 1; d <= 3; d++)
    for (int ceil_mode = 0; ceil_mode < 2; ceil_mode++) {
        int64_t out = onnx_out_length(L, k, s, lo, hi, d, ceil_mode);
        lc_pool_axis a = {1, "length", k, s, lo, hi, d, ceil_mode};
        lc_graph *g;
        int x, y[3];
        assert_ok(lc_graph_new(&g));
        assert_ok(lc_input(g, "x", LC_F64, lc_shape_make(2, (int64_t[]){2, L}), &x));
        if (out < 1) {
            assert_fails(lc_avg_pool_axis(g, x, &a, true, "AveragePool", "", "", &y[0]), LC_ERR_SHAPE,
                         "would be < 1");
            lc_graph_free(g);
            continue;
        }
        assert_ok(lc_avg_pool_axis(g, x, &a, true, "AveragePool", "", "", &y[0]));
        assert_ok(lc_avg_pool_axis(g, x, &a, false, "AveragePool", "", "", &y[1]));
        assert_ok(lc_lp_pool_axis(g, x, &a, 3.0, "LpPool", "", "", &y[2]));
        for (int i = 0; i < 3; i++) assert_ok(lc_graph_add_output(g, y[i]));
        lc_tensor *in, *res[3];
        assert_ok(lc_tensor_new(LC_F64, lc_shape_make(2, (int64_t[]){2, L}), &in));
        for (int64_t i = 0; i < 2 * L; i++) lc_tensor_set(in, i, (double)((i * 7) % 11) - 4.5);
        assert_ok(lc_interp_run(g, (const lc_tensor *const *)&in, 1, res, 3));
        for (int r = 0; r < 2; r++)
            for (int64_t o = 0; o < out; o++) {
                double sum = 0, lp = 0;
                int64_t with_pad = 0, real = 0;
                for (int64_t j = 0; j < k; j++) {
                    int64_t pos = o * s - lo + j * d;
                    if (pos >= -lo && pos < L + hi) with_pad++;
                    if (pos < 0 || pos >= L) continue;
                    double v = lc_tensor_get(in, r * L + pos);
                    sum += v;
                    lp += pow(fabs(v), 3.0);
                    real++;
                }
                double want[3] = {sum / (double)with_pad, sum / (double)real, cbrt(lp)};
                for (int i = 0; i < 3; i++) {
                    assert_int_equal(res[i]->shape.dim[1], out);
                    double got = lc_tensor_get(res[i], r * out + o);
                    bool both_nan = isnan(got) && isnan(want[i]);
                    if (!both_nan && fabs(got - want[i]) > 1e-12 * (1 + fabs(want[i])))
                        fail_msg("L=%lld k=%lld s=%lld pads=(%lld,%lld) d=%lld ceil=%d output %d window %lld: "
                                 "got %.17g, want %.17g", (long long)L, (long long)k, (long long)s,
                                 (long long)lo, (long long)hi, (long long)d, ceil_mode, i, (long long)o, got,
                                 want[i]);
                }
            }
        for (int i = 0; i < 3; i++) lc_tensor_free(res[i]);
        lc_tensor_free(in);
        lc_graph_free(g);
        checked++;
    }
    assert_true(checked > 500);
}

/* The module's forward and forward+backward through the whole pipeline and the JIT, against
 * the interpreter on the unoptimized graph; every value finite. */
static void check_jit(const char *spec, lc_shape shape, double scale, uint64_t seed) {
    lc_module *m;
    assert_ok(lc_model_parse_call(spec, "t", &m));
    for (int backward = 0; backward < 2; backward++) {
        lc_graph *g, *opt;
        assert_ok(lc_module_graph(m, LC_F32, shape, &g));
        if (backward) {
            lc_graph *b;
            assert_ok(lc_autodiff(g, NULL, 0, NULL, 0, &b));
            lc_graph_free(g);
            g = b;
        }
        int nin = lc_graph_input_count(g), nout = lc_graph_output_count(g);
        test_rng r = test_rng_seeded(seed);
        lc_tensor *in[2], *want[2], *got[2];
        for (int i = 0; i < nin; i++)
            in[i] = test_random_tensor(&r, LC_F32, lc_graph_node(g, lc_graph_input(g, i))->shape, i ? 1.0 : scale);
        assert_ok(lc_interp_run(g, (const lc_tensor *const *)in, nin, want, nout));
        assert_ok(lc_pipeline_run_default(g, false, NULL, &opt));
        lc_program *p;
        assert_ok(lc_compile(opt, NULL, &p));
        assert_ok(lc_program_run(p, (const lc_tensor *const *)in, nin, got, nout));
        for (int i = 0; i < nout; i++) {
            for (int64_t j = 0; j < lc_tensor_numel(got[i]); j++)
                if (!isfinite(lc_tensor_get(got[i], j)))
                    fail_msg("%s (%s) output %d element %lld: %g", spec, backward ? "fwd+bwd" : "fwd", i,
                             (long long)j, lc_tensor_get(got[i], j));
            assert_tensor_close(got[i], want[i], 1e-4, 1e-6 * scale);
            lc_tensor_free(got[i]);
            lc_tensor_free(want[i]);
        }
        for (int i = 0; i < nin; i++) lc_tensor_free(in[i]);
        lc_program_free(p);
        lc_graph_free(opt);
        lc_graph_free(g);
    }
    lc_module_free(m);
}

/* LPPool2d is the LP norm of the rows' LP norms; simplify drops the second abs (a norm is never
 * negative), and the JIT must still evaluate the second norm scaled where |x|^p leaves float32's
 * range: p = 60 at |x| ~ 10, p = 2 at |x| ~ 1e19, p = 0.05. AvgPool2d with its per-window
 * divisors on both axes goes along. */
/* A window's divisor counted slot by slot: the slots j < k whose position o·s - pad_lo +
 * j·dilation lies in [-pad_lo, L + pad_hi) with count_include_pad, else in [0, L). */
static int64_t divisor_by_slots(const lc_pool1d_geometry *geo, bool count_include_pad, int64_t o) {
    int64_t lo = count_include_pad ? -geo->padding : 0, hi = count_include_pad ? geo->length + geo->pad_end : geo->length;
    int64_t n = 0;
    for (int64_t j = 0; j < geo->kernel_size; j++) {
        int64_t at = o * geo->stride - geo->padding + j * geo->dilation;
        n += at >= lo && at < hi;
    }
    return n;
}

/* lc_pool_divisors gives the windows lying whole in the counted range kernel_size without
 * computing them, and lc_pool_divisor skips the division without a dilation: both against
 * the slot-by-slot count, over every small geometry (padding on one side or both, dilation,
 * ceil mode) and a long axis. */
static void test_divisors(void **state) {
    (void)state;
    int checked = 0;
    for (int64_t len = 1; len <= 24; len++)
        for (int64_t k = 1; k <= 7; k++)
            for (int64_t s = 1; s <= 4; s++)
                for (int64_t lo = 0; lo <= k / 2; lo++)
                    for (int64_t hi = 0; hi <= k / 2; hi += k / 2 ? k / 2 : 1)
                        for (int64_t dil = 1; dil <= 3; dil++)
                            for (int c = 0; c < 4; c++) {
                                lc_pool_axis a = {0, "length", k, s, lo, hi, dil, c & 1};
                                lc_pool1d_geometry geo;
                                if (lc_pool_geometry_compute("test", len, &a, &geo) != LC_OK) continue;
                                double got[64];
                                assert_true(geo.out_length <= 64);
                                lc_pool_divisors(&geo, c & 2, got);
                                for (int64_t o = 0; o < geo.out_length; o++) {
                                    int64_t want = divisor_by_slots(&geo, c & 2, o);
                                    assert_int_equal(lc_pool_divisor(&geo, c & 2, o), want);
                                    if (got[o] != (double)want)
                                        fail_msg("L %lld k %lld s %lld pad %lld/%lld dil %lld mode %d: window "
                                                 "%lld divides by %g, counted %lld", (long long)len, (long long)k,
                                                 (long long)s, (long long)lo, (long long)hi, (long long)dil, c,
                                                 (long long)o, got[o], (long long)want);
                                }
                                checked++;
                            }
    assert_true(checked > 1000);
    lc_pool_axis a = {0, "length", 3, 1, 1, 1, 1, false};
    lc_pool1d_geometry geo;
    assert_ok(lc_pool_geometry_compute("test", 65536, &a, &geo));
    double *got = malloc(sizeof(double) * (size_t)geo.out_length);
    assert_non_null(got);
    lc_pool_divisors(&geo, false, got);
    for (int64_t o = 0; o < geo.out_length; o++) assert_true(got[o] == (double)divisor_by_slots(&geo, false, o));
    assert_true(got[0] == 2 && got[1] == 3 && got[geo.out_length - 1] == 2);
    free(got);
}

static void test_jit_matches_interpreter(void **state) {
    (void)state;
    lc_shape s4 = lc_shape_make(4, (int64_t[]){2, 3, 7, 9}), s3 = lc_shape_make(3, (int64_t[]){3, 8, 5});
    check_jit("LPPool2d(60, 2)", s4, 10.0, 1);
    check_jit("LPPool2d(60, (3, 2), stride=(2, 3), ceil_mode=True)", s3, 10.0, 2);
    check_jit("LPPool2d(2, 3, 2, ceil_mode=True)", s4, 1e19, 3);
    check_jit("LPPool2d(0.05, (2, 3))", s3, 1.0, 4);
    check_jit("LPPool2d(3, (2, 3), (1, 2))", s4, 1.0, 5);
    check_jit("AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False)", s4, 1.0, 6);
    check_jit("AvgPool2d((4, 2), (3, 1), (2, 1), ceil_mode=True)", s3, 1.0, 7);
}

/* Rows long enough for the vectorized loop, whose trips are a multiple of 64, 32, 16 or 8 by
 * the interior's length (MaxPool2d(3, 2, 1) at width 256: 126 interior outputs a row, 112 in
 * the vectorized loop, 14 in the scalar one), and the rows' range: a window over rows without
 * padding or overhang (AvgPool2d(2)) has no row check left. Padding, ceil-mode overhang in
 * both axes, dilation, odd widths and rank-3 input, forward and forward+backward, against the
 * interpreter. */
static void test_jit_wide_rows(void **state) {
    (void)state;
    lc_shape s256 = lc_shape_make(4, (int64_t[]){1, 2, 9, 256});
    lc_shape s255 = lc_shape_make(4, (int64_t[]){1, 2, 10, 255});
    lc_shape r3 = lc_shape_make(3, (int64_t[]){2, 11, 201});
    check_jit("MaxPool2d(3, 2, 1)", s256, 1.0, 11);
    check_jit("MaxPool2d(3, 2, 1, ceil_mode=True)", s255, 1.0, 12);
    check_jit("MaxPool2d(3, 2, 1, dilation=2)", r3, 1.0, 13);
    check_jit("MaxPool2d((2, 5), (1, 3), (1, 2), ceil_mode=True)", s255, 1.0, 14);
    check_jit("AvgPool2d(2)", s256, 1.0, 15);
    check_jit("AvgPool2d(2)", r3, 1.0, 16);
    check_jit("AvgPool2d(3, 2, 1, ceil_mode=True)", s255, 1.0, 17);
    check_jit("LPPool2d(2, 2)", s256, 1.0, 18);
    check_jit("LPPool2d(2, 3, 2, ceil_mode=True)", r3, 1.0, 19);
    /* elements up to 3e38: row sums overflow float32 where their means fit; only the sum over
     * the rows is checked in the vectorized loop (the row sums' inf reaches it), and the
     * fix-up redoes the element */
    check_jit("AvgPool2d(2)", s256, 3e38, 20);
    check_jit("AvgPool2d(3, 2, 1, ceil_mode=True)", s255, 3e38, 21);
    check_jit("AvgPool2d((2, 3), 2, count_include_pad=False, padding=1)", r3, 3e38, 22);
}

/* A 2-D pool whose windows tile both axes (stride = kernel, no padding, no window past the
 * end) runs forward+backward as one kernel: the backward's row tile forms y once per window
 * and writes it beside dx (lc_kernel.co_rows). Its y and dx against the interpreter, at 1, 2
 * and 3 threads (bit-identical), f32 and f64, for p = 2, 3, 2.5 and AvgPool2d, rank 3 and 4,
 * windows of 2 and 4 rows, odd widths where the w-windows still tile; with elements of
 * magnitude 3e19 planted among the random ones (|x|^p overflows float32), and with every
 * element below 1e-25 (every window's sum underflows), so that the fix-up redoes windows (y
 * and dx of those windows must come out exact too; each such run asserts that one was).
 * Where the windows do not tile the rows (odd heights, ceil_mode with an overhang, stride !=
 * kernel, 8 rows to a window) the forward stays a kernel of its own, and the values are the
 * same. */
typedef struct one_pass_case {
    const char *spec;
    int rank;
    int64_t dims[4];
    int kernels;
} one_pass_case;

static void check_one_pass(const one_pass_case *c, lc_dtype dt, double scale, bool extremes, uint64_t seed) {
    lc_module *m;
    assert_ok(lc_model_parse_call(c->spec, "t", &m));
    lc_graph *g = jit_module_graph(m, dt, lc_shape_make(c->rank, c->dims), true);
    test_rng r = test_rng_seeded(seed);
    lc_tensor **in = jit_random_inputs(g, &r, scale);
    int64_t n = lc_tensor_numel(in[0]);
    if (extremes && scale < 1) {
        /* every window's sum underflows: all of them are redone */
    } else if (extremes)
        for (int64_t i = 0; i < n; i += 7) lc_tensor_set(in[0], i, (i / 7) % 2 ? 3e19 : -3e19);
    int fixups = lc_codegen_fixup_count();
    int kernels = jit_check_graph_inputs(g, in, JIT_RTOL, JIT_ATOL * scale);
    /* the planted magnitudes leave the plain form's range: some window was redone (the first
     * such run of a graph compiles its fix-up; later programs of the same graph may share it,
     * and there the values alone show it: the plain form gives 0 or inf for those windows) */
    if (extremes && scale >= 1 && lc_codegen_fixup_count() == fixups) fail_msg("%s on %lld x ... (scale %g): no window flagged", c->spec, (long long)c->dims[0], scale);
    if (kernels != c->kernels)
        fail_msg("%s on %lld x ... (%s): %d kernels, want %d", c->spec, (long long)c->dims[0],
                 dt == LC_F64 ? "f64" : "f32", kernels, c->kernels);
    jit_free_tensors(in, lc_graph_input_count(g));
    lc_graph_free(g);
    lc_module_free(m);
}

static void test_jit_one_pass_2d(void **state) {
    (void)state;
    static const one_pass_case cases[] = {
        {"LPPool2d(2, 2)", 4, {2, 3, 8, 256}, 1},
        {"LPPool2d(3, 2)", 4, {1, 2, 6, 64}, 1},
        {"LPPool2d(2.5, (2, 4))", 3, {3, 8, 128}, 1},
        {"LPPool2d(2, (4, 2))", 4, {1, 2, 8, 130}, 1},
        {"LPPool2d(2, 2, ceil_mode=True)", 4, {1, 2, 8, 64}, 1}, /* no window past the end */
        {"LPPool2d(2, (2, 3))", 4, {1, 3, 4, 27}, 1},
        {"AvgPool2d(2)", 4, {2, 3, 8, 256}, 1},
        {"AvgPool2d((2, 4))", 3, {3, 6, 64}, 1},
        {"LPPool2d(2, (2, 1))", 4, {1, 2, 8, 64}, 1}, /* blocks of one position */
        {"LPPool2d(2, 2)", 4, {1, 1, 4, 1200}, 1},    /* 600 blocks: trips left to the scalar loop */
        {"AvgPool2d((2, 1))", 4, {1, 2, 8, 64}, 1},
        {"LPPool2d(2, 2)", 4, {1, 2, 9, 64}, 2},                   /* odd height */
        {"LPPool2d(2, 2, ceil_mode=True)", 4, {1, 2, 9, 64}, 2},   /* a window past the end */
        {"LPPool2d(2, 2, 1)", 4, {1, 2, 8, 64}, 3},                /* overlapping windows */
        {"LPPool2d(2, (8, 2))", 4, {1, 2, 16, 64}, 2},             /* more rows than a tile */
        {"LPPool2d(2, (2, 3), (3, 3))", 4, {1, 2, 9, 27}, 2},      /* a gap between rows */
        {"AvgPool2d(2, 2, 1)", 4, {1, 2, 8, 64}, 2},               /* padding */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        check_one_pass(&cases[i], LC_F32, 1.0, false, 100 + i);
        check_one_pass(&cases[i], LC_F64, 1.0, false, 200 + i);
        if (strncmp(cases[i].spec, "LPPool2d", 8) != 0) continue;
        check_one_pass(&cases[i], LC_F32, 1.0, true, 300 + i);  /* |x|^p overflows */
        check_one_pass(&cases[i], LC_F32, 1e-25, true, 400 + i); /* and underflows */
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_printing),
        cmocka_unit_test(test_validation),
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_pool_axis_builders),
        cmocka_unit_test(test_divisors),
        cmocka_unit_test(test_jit_matches_interpreter),
        cmocka_unit_test(test_jit_wide_rows),
        cmocka_unit_test(test_jit_one_pass_2d),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
