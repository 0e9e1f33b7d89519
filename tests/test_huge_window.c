/* Windows far longer than their input: AvgPool1d(2^40, 2^40, 2^39) on 12 elements, kernels
 * up to 2^63 - 2. Both engines once walked (or allocated) every slot of such a window and
 * never returned; they must visit only the slots that hold data. Each case runs forward and
 * backward on the JIT and the interpreter under an alarm (a hang kills the test instead of
 * stalling the suite), against float64 math written here from the semantics: a window's
 * real elements summed, its divisor computed from its bounds; for the max pools, the first
 * maximum among the window's real elements, with its index. */
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <unistd.h>

#include "jit_harness.h"
#include "lucid/model_spec.h"
#include "lucid/passes.h"

/* Seconds one case may take on one engine. A case here takes well under a second on the JIT;
 * walking 2^40 slots takes minutes, and 2^62 forever. Sanitizer builds compile 5-10x slower. */
enum { CASE_SECONDS = 60 };

#define P40 (INT64_C(1) << 40)
#define P62 (INT64_C(1) << 62)

typedef struct pool {
    bool lp;
    double p; /* LP: norm_type */
    int64_t k, s, pad;
    bool ceil_mode, count_include_pad;
} pool;

/* The output length of docs/semantics.md, in 128-bit arithmetic. */
static int64_t out_length(const pool *q, int64_t len) {
    __int128 span = (__int128)len + 2 * (__int128)q->pad - q->k, n;
    if (q->ceil_mode) {
        n = (span >= 0 ? (span + q->s - 1) / q->s : -(-span / q->s)) + 1;
        if ((n - 1) * q->s >= (__int128)len + q->pad) n--;
    } else {
        n = (span >= 0 ? span / q->s : -((-span + q->s - 1) / q->s)) + 1;
    }
    assert_true(n >= 1 && n <= 64);
    return (int64_t)n;
}

/* y = pool(x) and dx = its vector-Jacobian product with g, over one row of `len`. Window o holds
 * positions [start, start + k) with start = o·s - pad; only those in [0, len) are real. */
static void reference(const pool *q, const double *x, int64_t len, const double *g, int64_t n, double *y,
                      double *dx) {
    for (int64_t i = 0; i < len; i++) dx[i] = 0;
    for (int64_t o = 0; o < n; o++) {
        __int128 start = (__int128)o * q->s - q->pad, end = start + q->k;
        int64_t lo = start < 0 ? 0 : (int64_t)start, hi = end > len ? len : (int64_t)end;
        if (q->lp) { /* m·(Σ(|x|/m)^p)^(1/p), m the window's max |x| */
            double m = 0, sum = 0;
            for (int64_t i = lo; i < hi; i++) m = fmax(m, fabs(x[i]));
            for (int64_t i = lo; i < hi && m > 0; i++) sum += pow(fabs(x[i]) / m, q->p);
            y[o] = m > 0 ? m * pow(sum, 1 / q->p) : 0;
            for (int64_t i = lo; i < hi && y[o] > 0; i++) {
                double sign = x[i] > 0 ? 1 : x[i] < 0 ? -1 : 0;
                dx[i] += g[o] * sign * pow(fabs(x[i]) / y[o], q->p - 1);
            }
            continue;
        }
        __int128 right = (__int128)len + q->pad, e = end < right ? end : right;
        double divisor = q->count_include_pad ? (double)(e - start) : (double)(hi - lo);
        double sum = 0;
        for (int64_t i = lo; i < hi; i++) sum += x[i];
        y[o] = sum / divisor;
        for (int64_t i = lo; i < hi; i++) dx[i] += g[o] / divisor;
    }
}

static lc_module *make(const pool *q) {
    return q->lp ? test_lppool(q->p, q->k, q->s, q->ceil_mode)
                 : test_avgpool(q->k, q->s, q->pad, q->ceil_mode, q->count_include_pad);
}

/* Run the forward+backward graph g (inputs x, seed; outputs y, dx) on one engine under the
 * alarm, and compare y and dx with the reference: rtol `tol`, and atol `tol` times the largest
 * finite |value| (a sum of mixed signs may cancel to near 0, where only an absolute bound
 * holds); inf and NaN exactly. */
static void run_and_compare(const lc_graph *g, lc_tensor **in, bool jit, const double *want_y, int64_t ny,
                            const double *want_dx, int64_t ndx, double tol) {
    lc_tensor *out[2] = {NULL, NULL};
    alarm(CASE_SECONDS); /* SIGALRM's default action ends the process: the test fails */
    if (jit) { /* as lucidc runs it: the default passes (the stable LP backward), then compile */
        lc_program *p;
        lc_graph *opt;
        assert_ok(lc_pipeline_run_default(g, false, NULL, &opt));
        assert_ok(lc_compile(opt, NULL, &p));
        lc_graph_free(opt);
        assert_ok(lc_program_run(p, (const lc_tensor *const *)in, 2, out, 2));
        lc_program_free(p);
    } else {
        assert_ok(lc_interp_run(g, (const lc_tensor *const *)in, 2, out, 2));
    }
    alarm(0);
    double ymax = 0, dmax = 0;
    for (int64_t i = 0; i < ny; i++) ymax = isfinite(want_y[i]) ? fmax(ymax, fabs(want_y[i])) : ymax;
    for (int64_t i = 0; i < ndx; i++) dmax = isfinite(want_dx[i]) ? fmax(dmax, fabs(want_dx[i])) : dmax;
    assert_values_close(out[0], want_y, ny, tol, tol * ymax);
    assert_values_close(out[1], want_dx, ndx, tol, tol * dmax);
    lc_tensor_free(out[0]);
    lc_tensor_free(out[1]);
}

/* Forward and backward of `q` on (1, channels, len) in `dt`, on both engines, against
 * reference(). (Two channels of windows past 2^62 slots are more elements than int64 counts.) */
static void check_pool(const pool *q, int channels, lc_dtype dt, int64_t len, uint64_t seed) {
    lc_module *m = make(q);
    lc_graph *g = jit_module_graph(m, dt, test_shape3(1, channels, len), true);
    int64_t n = out_length(q, len);
    test_rng r = test_rng_seeded(seed);
    lc_tensor **in = jit_random_inputs(g, &r, 3.0);
    double want_y[2 * 64], want_dx[2 * 64];
    for (int c = 0; c < channels; c++) {
        double x[64], gy[64];
        for (int64_t i = 0; i < len; i++) x[i] = lc_tensor_get(in[0], c * len + i);
        for (int64_t o = 0; o < n; o++) gy[o] = lc_tensor_get(in[1], c * n + o);
        reference(q, x, len, gy, n, &want_y[c * n], &want_dx[c * len]);
    }
    double tol = dt == LC_F32 ? 1e-5 : 1e-12;
    run_and_compare(g, in, true, want_y, channels * n, want_dx, channels * len, tol);
    run_and_compare(g, in, false, want_y, channels * n, want_dx, channels * len, tol);
    jit_free_tensors(in, 2);
    lc_graph_free(g);
    lc_module_free(m);
}

/* The window of 2^40 (and 2^62) slots that covers the input once, with padding on both sides:
 * mean's divisor is the whole window; without count_include_pad, the 12 real elements. */
static void test_avgpool_one_huge_window(void **state) {
    (void)state;
    static const int64_t kernels[] = {P40, P62, INT64_MAX - 1};
    for (size_t i = 0; i < sizeof kernels / sizeof kernels[0]; i++)
        for (int variant = 0; variant < 4; variant++) {
            /* padding k/2, but L + 2·padding must stay within int64 for k = 2^63 - 2 */
            int64_t pad = kernels[i] / 2 < (INT64_MAX - 12) / 2 ? kernels[i] / 2 : (INT64_MAX - 12) / 2;
            pool q = {false, 0, kernels[i], kernels[i], pad, variant & 1, (variant & 2) == 0};
            check_pool(&q, kernels[i] > P40 ? 1 : 2, LC_F64, 12, 10 * i + (uint64_t)variant);
        }
}

/* Overlapping huge windows (stride 1 or 3): 13 (or 5) windows, each holding every element, and
 * a gradient that gathers over 2^40 candidate windows of which 13 exist. */
static void test_avgpool_overlapping_huge_windows(void **state) {
    (void)state;
    pool a = {false, 0, P40, 1, P40 / 2, false, true};
    check_pool(&a, 2, LC_F64, 12, 1);
    pool b = {false, 0, P40, 3, P40 / 2, false, false}; /* per-window divisors: sum, then div */
    check_pool(&b, 2, LC_F64, 12, 2);
    pool c = {false, 0, P40, 1, P40 / 2, false, true};
    check_pool(&c, 2, LC_F32, 12, 3);
}

/* LPPool1d's one ceil-mode window of 2^40 slots over the input: the norm of what is there,
 * scaled (p = 100) and plain (p = 2.5). */
static void test_lppool_huge_window(void **state) {
    (void)state;
    static const double ps[] = {2.5, 100};
    for (size_t i = 0; i < 2; i++) {
        pool q = {true, ps[i], P40, P40, 0, true, true};
        check_pool(&q, 2, LC_F64, 12, 20 + i);
        check_pool(&q, 2, LC_F32, 12, 30 + i);
    }
}

/* AvgPool1d(4, ceil_mode=True, count_include_pad=False) -> LPPool1d(100, K, ceil_mode=True) on
 * f64 (1, 1, 4): y = |mean(x)|, dx = g · sign(mean) / 4. K = 2^24 took 0.13 s; from 2^40 on the
 * JIT never returned. */
static void test_chain_into_huge_lp_window(void **state) {
    (void)state;
    static const int64_t kernels[] = {INT64_C(1) << 24, P40, P62, INT64_MAX - 1};
    for (size_t i = 0; i < sizeof kernels / sizeof kernels[0]; i++) {
        lc_module *seq, *avg = test_avgpool(4, 4, 0, true, false), *lp = test_lppool(100, kernels[i], kernels[i], true);
        assert_ok(lc_sequential_new(&seq));
        assert_ok(lc_sequential_append(seq, avg));
        assert_ok(lc_sequential_append(seq, lp));
        lc_graph *g = jit_module_graph(seq, LC_F64, test_shape3(1, 1, 4), true);
        test_rng r = test_rng_seeded(40 + i);
        lc_tensor **in = jit_random_inputs(g, &r, 3.0);
        double mean = 0, gy = lc_tensor_get(in[1], 0);
        for (int j = 0; j < 4; j++) mean += lc_tensor_get(in[0], j) / 4;
        double sign = mean > 0 ? 1 : mean < 0 ? -1 : 0, want_y = fabs(mean);
        double want_dx[4] = {gy * sign / 4, gy * sign / 4, gy * sign / 4, gy * sign / 4};
        run_and_compare(g, in, true, &want_y, 1, want_dx, 4, 1e-12);
        run_and_compare(g, in, false, &want_y, 1, want_dx, 4, 1e-12);
        jit_free_tensors(in, 2);
        lc_graph_free(g);
        lc_module_free(seq);
    }
}

/* ---- max pools: windows of 2^40 slots and more, dilated or not, 1-D and 2-D ---- */

/* One pooled axis of a max pool. */
typedef struct max_axis {
    int64_t k, s, pad, dil, len;
    bool ceil_mode;
} max_axis;

/* The output length of docs/semantics.md (MaxPool1d: the span d·(k - 1) + 1 for the kernel). */
static int64_t max_out_length(const max_axis *a) {
    __int128 span = (__int128)a->dil * (a->k - 1) + 1, room = (__int128)a->len + 2 * (__int128)a->pad - span, n;
    if (a->ceil_mode) {
        n = (room >= 0 ? (room + a->s - 1) / a->s : -(-room / a->s)) + 1;
        if ((n - 1) * a->s >= (__int128)a->len + a->pad) n--;
    } else {
        n = (room >= 0 ? room / a->s : -((-room + a->s - 1) / a->s)) + 1;
    }
    assert_true(n >= 1 && n <= 64);
    return (int64_t)n;
}

/* Position i of the axis is slot (i - start) / dil of window o, start = o·s - pad: true where
 * that divides exactly and the slot is below k. */
static bool in_window(const max_axis *a, int64_t o, int64_t i) {
    __int128 off = (__int128)i - ((__int128)o * a->s - a->pad);
    return off >= 0 && off % a->dil == 0 && off / a->dil < a->k;
}

/* For window (oh, ow) over a plane of rows[0].len x rows[1].len (1-D: one row), the chosen
 * element's flat index h·W + w, or -1: the first NaN, else the first element above -inf and
 * above every earlier one, in row-major order over the real elements only; where none beats
 * -inf, the window's first slot (oh·s - pad, ow·s - pad) when it is real, else none. */
static int64_t max_reference_choice(const max_axis *ax, const double *x, int64_t oh, int64_t ow) {
    int64_t at = -1;
    double best = -INFINITY;
    for (int64_t h = 0; h < ax[0].len; h++) {
        if (!in_window(&ax[0], oh, h)) continue;
        for (int64_t w = 0; w < ax[1].len; w++) {
            if (!in_window(&ax[1], ow, w)) continue;
            double v = x[h * ax[1].len + w];
            if (isnan(v)) return h * ax[1].len + w;
            if (v > best) {
                best = v;
                at = h * ax[1].len + w;
            }
        }
    }
    if (at >= 0) return at;
    __int128 h0 = (__int128)oh * ax[0].s - ax[0].pad, w0 = (__int128)ow * ax[1].s - ax[1].pad;
    return h0 >= 0 && h0 < ax[0].len && w0 >= 0 && w0 < ax[1].len ? (int64_t)(h0 * ax[1].len + w0) : -1;
}

/* y, dx (for upstream g) and the indices of `spec` on channels of a plane ax[0] x ax[1]
 * (1-D: ax[0] is the trivial axis of one row, k = s = 1), against max_reference_choice, on both
 * engines, under the alarm. `x` overrides the random input where not NULL. */
static void check_max(const char *spec, const max_axis *ax, bool two_d, int channels, lc_dtype dt,
                      const double *x_given, uint64_t seed) {
    lc_module *m;
    assert_ok(lc_model_parse_call(spec, "--module 1", &m));
    int64_t dims[4] = {1, channels, ax[0].len, ax[1].len};
    lc_shape in = two_d ? lc_shape_make(4, dims) : test_shape3(1, channels, ax[1].len);
    lc_graph *g = jit_module_graph(m, dt, in, true);
    test_rng r = test_rng_seeded(seed);
    lc_tensor **inputs = jit_random_inputs(g, &r, 3.0);
    int64_t plane = ax[0].len * ax[1].len, nh = max_out_length(&ax[0]), nw = max_out_length(&ax[1]), ny = nh * nw;
    double x[64], want_y[2 * 64], want_dx[2 * 64];
    int64_t want_idx[2 * 64];
    assert_true(plane <= 64 && ny <= 64 && channels <= 2);
    for (int c = 0; c < channels; c++) {
        for (int64_t i = 0; i < plane; i++) {
            if (x_given) lc_tensor_set(inputs[0], c * plane + i, x_given[c * plane + i]);
            x[i] = lc_tensor_get(inputs[0], c * plane + i);
            want_dx[c * plane + i] = 0;
        }
        for (int64_t o = 0; o < ny; o++) {
            int64_t at = max_reference_choice(ax, x, o / nw, o % nw);
            bool real_max = at >= 0 && (isnan(x[at]) || x[at] > -INFINITY);
            want_y[c * ny + o] = real_max ? x[at] : -INFINITY;
            want_idx[c * ny + o] = at;
            if (at >= 0) want_dx[c * plane + at] += lc_tensor_get(inputs[1], c * ny + o);
        }
    }
    double tol = dt == LC_F32 ? 1e-5 : 1e-12; /* y is exact; a dx may sum 13 gradients */
    run_and_compare(g, inputs, true, want_y, channels * ny, want_dx, channels * plane, tol);
    run_and_compare(g, inputs, false, want_y, channels * ny, want_dx, channels * plane, tol);
    /* the indices program on both engines */
    lc_graph *gi;
    assert_ok(lc_module_graph_indices(m, dt, in, &gi));
    int n_out = lc_graph_output_count(gi);
    for (int jit = 0; jit < 2; jit++) {
        lc_tensor *outs[3] = {NULL, NULL, NULL};
        alarm(CASE_SECONDS);
        if (jit) {
            lc_graph *opt;
            lc_program *p;
            assert_ok(lc_pipeline_run_default(gi, false, NULL, &opt));
            assert_ok(lc_compile(opt, NULL, &p));
            assert_ok(lc_program_run(p, (const lc_tensor *const *)inputs, 1, outs, n_out));
            lc_program_free(p);
            lc_graph_free(opt);
        } else {
            assert_ok(lc_interp_run(gi, (const lc_tensor *const *)inputs, 1, outs, n_out));
        }
        alarm(0);
        int64_t idx[2 * 64];
        assert_ok(lc_maxpool_indices(m, in, (const lc_tensor *const *)&outs[1], n_out - 1, idx));
        for (int64_t i = 0; i < channels * ny; i++)
            if (idx[i] != want_idx[i])
                fail_msg("%s (%s): index %lld is %lld, want %lld", spec, jit ? "jit" : "interp", (long long)i,
                         (long long)idx[i], (long long)want_idx[i]);
        for (int i = 0; i < n_out; i++) lc_tensor_free(outs[i]);
    }
    lc_graph_free(gi);
    jit_free_tensors(inputs, 2);
    lc_graph_free(g);
    lc_module_free(m);
}

static void check_max1d(int64_t k, int64_t s, int64_t pad, int64_t dil, bool ceil_mode, int channels, lc_dtype dt,
                        const double *x, uint64_t seed) {
    char spec[256];
    snprintf(spec, sizeof spec, "MaxPool1d(%lld, %lld, %lld, dilation=%lld, ceil_mode=%s)", (long long)k,
             (long long)s, (long long)pad, (long long)dil, ceil_mode ? "True" : "False");
    max_axis ax[2] = {{1, 1, 0, 1, 1, false}, {k, s, pad, dil, 12, ceil_mode}};
    check_max(spec, ax, false, channels, dt, x, seed);
}

/* One window of 2^40, 2^62 and 2^63 - 2 slots over 12 elements (padding on both sides), and
 * 13 overlapping ones (stride 1): the JIT walked every slot and the interpreter could not
 * allocate the window. */
static void test_maxpool_huge_windows(void **state) {
    (void)state;
    static const int64_t kernels[] = {P40, P62, INT64_MAX - 1};
    for (size_t i = 0; i < sizeof kernels / sizeof kernels[0]; i++) {
        int64_t pad = kernels[i] / 2 < (INT64_MAX - 12) / 2 ? kernels[i] / 2 : (INT64_MAX - 12) / 2;
        check_max1d(kernels[i], kernels[i], pad, 1, true, kernels[i] > P40 ? 1 : 2, i % 2 ? LC_F32 : LC_F64, NULL,
                    50 + i);
    }
    check_max1d(P40, 1, P40 / 2, 1, false, 2, LC_F32, NULL, 53);
    check_max1d(P40, 3, P40 / 2, 1, false, 2, LC_F64, NULL, 54);
}

/* Dilated windows longer than the input: 2^40 slots 2 apart (data at every other slot of a
 * stretch in the middle), and 20 slots 2^40 apart (more than codegen unrolls; only slot 0
 * reads data). */
static void test_maxpool_huge_dilated_windows(void **state) {
    (void)state;
    check_max1d(P40, INT64_C(1) << 42, P40 / 2, 2, true, 2, LC_F64, NULL, 60);
    check_max1d(P40, INT64_C(1) << 42, P40 / 2 - 1, 2, true, 2, LC_F32, NULL, 61);
    check_max1d(20, INT64_C(1) << 45, 0, P40, true, 2, LC_F64, NULL, 62);
    check_max1d(20, INT64_C(1) << 45, 3, P40, true, 2, LC_F32, NULL, 63);
}

/* A window whose real elements are all -inf chooses its first slot, here padding: y = -inf,
 * no gradient, index -1 (walking only the data slots would choose the first real one); and a
 * NaN wins wherever it is. */
static void test_maxpool_huge_window_neg_inf_and_nan(void **state) {
    (void)state;
    double x[24];
    for (int i = 0; i < 12; i++) x[i] = -INFINITY;
    for (int i = 12; i < 24; i++) x[i] = i == 20 ? NAN : (double)i;
    check_max1d(P40, P40, P40 / 2, 1, true, 2, LC_F64, x, 70);
    check_max1d(P40, 1, P40 / 2, 1, false, 2, LC_F32, x, 71);
    x[0] = 5; /* no padding before slot 0: an all -inf window (the rest) would choose x[0] */
    for (int i = 1; i < 12; i++) x[i] = -INFINITY;
    check_max1d(P40, P40, 0, 1, true, 2, LC_F64, x, 72);
}

/* MaxPool2d with a huge window along either axis (separable: the rows' column windows, then
 * the rows). */
static void test_maxpool2d_huge_windows(void **state) {
    (void)state;
    max_axis a[2] = {{P40, P40, P40 / 2, 1, 5, true}, {3, 1, 1, 1, 6, false}};
    check_max("MaxPool2d((1099511627776, 3), (1099511627776, 1), (549755813888, 1), ceil_mode=True)", a, true, 1,
              LC_F64, NULL, 80);
    max_axis b[2] = {{2, 1, 1, 1, 5, false}, {P40, 1, P40 / 2, 1, 6, false}};
    check_max("MaxPool2d((2, 1099511627776), (1, 1), (1, 549755813888))", b, true, 1, LC_F32, NULL, 81);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_avgpool_one_huge_window),
        cmocka_unit_test(test_avgpool_overlapping_huge_windows),
        cmocka_unit_test(test_lppool_huge_window),
        cmocka_unit_test(test_chain_into_huge_lp_window),
        cmocka_unit_test(test_maxpool_huge_windows),
        cmocka_unit_test(test_maxpool_huge_dilated_windows),
        cmocka_unit_test(test_maxpool_huge_window_neg_inf_and_nan),
        cmocka_unit_test(test_maxpool2d_huge_windows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
