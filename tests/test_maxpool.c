/* MaxPool1d and MaxPool2d as modules: parameters resolved and printed as PyTorch prints them,
 * bad parameters named with their values, the model spec (tuples, return_indices recorded),
 * the JIT against the interpreter forward and backward (PyTorch's values are pinned by
 * tests/cli/maxpool_torch.py and the conformance cases), the forward's bits on ties of +0 and
 * -0 and on NaN payloads, and the indices (return_indices) on both engines against hand-worked
 * windows. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jit_harness.h"
#include "lucid/model_spec.h"
#include "lucid/passes.h"

static void assert_spec(const char *spec, const char *want) {
    lc_module *m;
    assert_ok(lc_model_parse_call(spec, "--module 1", &m));
    char *s;
    assert_ok(lc_module_repr(m, &s));
    if (strcmp(s, want) != 0) fail_msg("%s gave %s, want %s", spec, s, want);
    free(s);
    lc_module_free(m);
}

static void test_repr_and_spec(void **state) {
    (void)state;
    assert_spec("MaxPool1d(3, 2, 1)", "MaxPool1d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False)");
    assert_spec("nn.MaxPool1d((4,), dilation=(2,), ceil_mode=True)",
                "MaxPool1d(kernel_size=4, stride=4, padding=0, dilation=2, ceil_mode=True)");
    assert_spec("MaxPool2d(3, 2, 1)", "MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False)");
    assert_spec("MaxPool2d((3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2))",
                "MaxPool2d(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2), ceil_mode=False)");
    assert_spec("MaxPool2d((2, 3))", "MaxPool2d(kernel_size=(2, 3), stride=(2, 3), padding=0, dilation=1, ceil_mode=False)");
    lc_module *m;
    assert_fails(lc_model_parse_call("MaxPool2d((2, 3, 4))", "--module 1", &m), LC_ERR_PARSE, "at most 2 integers");
    assert_fails(lc_model_parse_call("MaxPool2d((2,))", "--module 1", &m), LC_ERR_PARSE,
                 "MaxPool2d: kernel_size must be an integer or a pair (h, w) of integers, got (2,)");
    /* return_indices is recorded and, as in PyTorch's repr, not printed */
    assert_spec("MaxPool1d(2, return_indices=True)", "MaxPool1d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)");
    assert_ok(lc_model_parse_call("MaxPool2d(2, return_indices=True)", "--module 1", &m));
    assert_true(lc_module_maxpool2d_params(m).return_indices);
    lc_module_free(m);
    assert_ok(lc_model_parse_call("MaxPool1d(2)", "--module 1", &m));
    assert_false(lc_module_maxpool1d_params(m).return_indices);
    lc_module_free(m);
    assert_fails(lc_model_parse_call("MaxPool1d(3, padding=2)", "--module 1", &m), LC_ERR_INVALID_ARG,
                 "MaxPool1d: padding must be between 0 and kernel_size / 2 = 1, got 2");
    assert_fails(lc_model_parse_call("MaxPool2d((3, 4), padding=(1, 3))", "--module 1", &m), LC_ERR_INVALID_ARG,
                 "MaxPool2d: padding must be between 0 and kernel_size / 2 = 2, got 3");
    assert_fails(lc_model_parse_call("MaxPool2d(2, dilation=0)", "--module 1", &m), LC_ERR_INVALID_ARG,
                 "MaxPool2d: dilation must be >= 1, got 0");
    assert_fails(lc_model_parse_call("MaxPool1d(2, stride=0)", "--module 1", &m), LC_ERR_INVALID_ARG,
                 "MaxPool1d: stride must be >= 1, got 0");
}

static void test_shapes(void **state) {
    (void)state;
    lc_module *m;
    lc_shape out;
    assert_ok(lc_model_parse_call("MaxPool2d(3, 2, 1, ceil_mode=True)", "--module 1", &m));
    int64_t in3[] = {2, 8, 9};
    assert_ok(lc_module_output_shape(m, lc_shape_make(3, in3), &out)); /* (C, H, W) stays rank 3 */
    assert_int_equal(out.rank, 3);
    assert_int_equal(out.dim[1], 5); /* ceil((8 + 2 - 3) / 2) + 1 = 5 */
    assert_int_equal(out.dim[2], 5);
    assert_fails(lc_module_output_shape(m, lc_shape_make(2, in3), &out),
                 LC_ERR_SHAPE, "MaxPool2d: input must have rank 3 (C, H, W) or 4 (N, C, H, W), got rank 2");
    lc_module_free(m);
    assert_ok(lc_model_parse_call("MaxPool1d(3, dilation=2)", "--module 1", &m));
    assert_fails(lc_module_output_shape(m, test_shape3(1, 1, 4), &out), LC_ERR_SHAPE, "MaxPool1d: input length 4");
    lc_module_free(m);
}

static void test_jit(void **state) {
    (void)state;
    const char *specs[] = {"MaxPool1d(3, 2, 1)", "MaxPool1d(4, 3, 2, dilation=2, ceil_mode=True)",
                           "MaxPool2d(3, 2, 1)", "MaxPool2d((3, 2), (2, 1), (1, 0), dilation=(2, 1), ceil_mode=True)",
                           "MaxPool2d(2)"};
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        lc_module *m;
        assert_ok(lc_model_parse_call(specs[i], "--module 1", &m));
        bool two_d = strstr(specs[i], "2d") != NULL;
        int64_t dims[4] = {2, 3, 11, 13};
        lc_shape in = two_d ? lc_shape_make(4, dims) : test_shape3(2, 3, 17);
        int fwd = 0, fb = 0;
        jit_check_module(m, i % 2 ? LC_F64 : LC_F32, in, 90 + i, &fwd, &fb);
        lc_module_free(m);
    }
}

/* A module and its input (rank 3 or 4): a row of the tables below. */
typedef struct pool_case {
    const char *spec;
    int rank;
    int64_t dims[4];
} pool_case;

static lc_shape case_shape(const pool_case *pc) { return lc_shape_make(pc->rank, pc->dims); }

/* pc's module on the JIT against the interpreter, forward then forward+backward (float32 and
 * float64 alternating with `c`, the case's place in its table), on inputs of 7 values (ties
 * in most windows) with a NaN at every element i with i % nan_every == nan_at. Returns the
 * forward's kernel count. */
static int check_few_values(const pool_case *pc, size_t c, uint64_t seed, int64_t nan_every, int64_t nan_at) {
    lc_module *m;
    assert_ok(lc_model_parse_call(pc->spec, "--module 1", &m));
    int fwd_kernels = 0;
    for (int backward = 0; backward < 2; backward++) {
        lc_dtype dt = (c + (size_t)backward) % 2 ? LC_F64 : LC_F32;
        lc_graph *g = jit_module_graph(m, dt, case_shape(pc), backward);
        test_rng r = test_rng_seeded(seed);
        lc_tensor **x = jit_random_inputs(g, &r, 3.0);
        lc_tensor *t = x[0];
        for (int64_t i = 0; i < lc_tensor_numel(t); i++)
            lc_tensor_set(t, i, i % nan_every == nan_at ? NAN : round(lc_tensor_get(t, i)));
        int kernels = jit_check_graph_inputs(g, x, JIT_RTOL, JIT_ATOL);
        if (!backward) fwd_kernels = kernels;
        jit_free_tensors(x, lc_graph_input_count(g));
        lc_graph_free(g);
    }
    lc_module_free(m);
    return fwd_kernels;
}

/* A 2-D max pool whose windows overlap along the rows recomputes each input row's window
 * maxima inline (fuse, LC_ROW_WINDOW_INLINE_MAX): the forward is one kernel, walked over the
 * output rows with both window axes unrolled. Odd sizes, padding, ceil mode, dilation and a
 * rank-3 input, on inputs of few distinct values (ties in most windows, so the first maximum
 * must win on both engines) and with NaNs, forward and forward+backward, 1-3 threads, against
 * the interpreter. A window of 9 x 9 rows (81 slots) keeps the row maxima in a buffer. */
static void test_row_windows_inline(void **state) {
    (void)state;
    const struct {
        pool_case pc;
        int fwd_kernels;
    } cases[] = {
        {{"MaxPool2d(3, 2, 1)", 4, {2, 3, 11, 13}}, 1},
        {{"MaxPool2d((3, 2), (2, 1), (1, 0), dilation=(2, 1), ceil_mode=True)", 4, {1, 2, 12, 9}}, 1},
        {{"MaxPool2d(3, 1, 1, ceil_mode=True)", 3, {3, 7, 10}}, 1},
        {{"MaxPool2d((4, 3), (3, 2), (2, 1), dilation=(1, 2), ceil_mode=True)", 3, {2, 13, 17}}, 1},
        {{"MaxPool2d(9, 2, 4)", 4, {1, 2, 19, 21}}, 2},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int kernels = check_few_values(&cases[c].pc, c, 500 + c, 29, 5);
        if (kernels != cases[c].fwd_kernels)
            fail_msg("%s: the forward is %d kernels, want %d", cases[c].pc.spec, kernels, cases[c].fwd_kernels);
    }
}

/* The fuse dump of `spec`'s forward at `in` (float32), for the schedule's decisions. */
static char *fuse_dump(const char *spec, lc_shape in) {
    lc_module *m;
    assert_ok(lc_model_parse_call(spec, "--module 1", &m));
    lc_graph *g = jit_module_graph(m, LC_F32, in, 0), *opt;
    assert_ok(lc_pipeline_run_default(g, false, NULL, &opt));
    char *buf = jit_dump_text(opt, "fuse");
    lc_graph_free(opt);
    lc_graph_free(g);
    lc_module_free(m);
    return buf;
}

/* Rows long enough for the vectorized loop, where fuse schedules the carried window slots
 * (x[2i + 1] kept from the previous trip as the next position's x[2(i + 1) - 1]) and the
 * prefetch of the next rows: the values of every window, NaN windows and ties (7 values)
 * included, are the interpreter's, forward and backward, in odd and even widths, with
 * padding, ceil-mode overhang, dilation and rank-3 input. The dump says which kernels carry
 * and prefetch: not a window without overlap (MaxPool2d(2)), and no prefetch where an output
 * row's input rows are 16 KiB or more (width 4096, step 2, float32: 32 KiB). */
static void test_carried_slots_wide_rows(void **state) {
    (void)state;
    const struct {
        pool_case pc;
        bool carried, prefetch;
    } cases[] = {
        {{"MaxPool2d(3, 2, 1)", 4, {1, 2, 9, 256}}, true, true},
        {{"MaxPool2d(3, 2, 1, ceil_mode=True)", 4, {1, 2, 10, 255}}, true, true},
        {{"MaxPool2d(5, 2, 2)", 4, {1, 2, 8, 131}}, true, true},
        {{"MaxPool2d(3, 2, 1, dilation=2)", 3, {2, 11, 201}}, true, true},
        {{"MaxPool2d((2, 4), (1, 2), (1, 1), ceil_mode=True)", 3, {2, 7, 133}}, true, true},
        {{"MaxPool2d(3, 2, 1)", 4, {1, 1, 5, 4096}}, true, false},
        {{"MaxPool2d(2)", 4, {1, 2, 8, 256}}, false, true},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char *dump = fuse_dump(cases[c].pc.spec, case_shape(&cases[c].pc));
        if ((strstr(dump, "  carried: ") != NULL) != cases[c].carried ||
            (strstr(dump, "  prefetch: ") != NULL) != cases[c].prefetch)
            fail_msg("%s: want carried %d, prefetch %d in the fuse dump:\n%s", cases[c].pc.spec, cases[c].carried,
                     cases[c].prefetch, dump);
        free(dump);
        check_few_values(&cases[c].pc, c, 700 + c, 37, 11);
    }
}

/* A max pool's forward must be the interpreter's bit for bit: the first maximum in window
 * order (+0 or -0, whichever comes first in a tie) and the first NaN with its payload and
 * sign. Inputs of +0, -0 and -1 only (every window a tie), then the same with NaNs of distinct
 * payloads and random signs at about 1 in 16 elements (some windows hold two), float32 and
 * float64, 1 to 3 threads, rows long enough for the vectorized loop, its carried slot and a
 * split of the outer range inside a row, odd widths, padding, ceil mode, dilation, rank 3. */
static void test_forward_bits_ties_and_nans(void **state) {
    (void)state;
    static const pool_case cases[] = {
        {"MaxPool2d(3, 2, 1)", 4, {1, 2, 7, 256}},
        {"MaxPool2d(3, 2, 1)", 4, {1, 1, 3, 8320}}, /* 2 output rows of 4160: parts start inside rows */
        {"MaxPool2d(3, 2, 1, ceil_mode=True)", 4, {2, 1, 8, 255}},
        {"MaxPool2d((3, 4), (2, 3), 1)", 4, {1, 2, 9, 133}},
        {"MaxPool2d(3, 1, 1, dilation=2)", 3, {2, 9, 131}},
        {"MaxPool1d(3, 2, 1)", 3, {2, 3, 1001}},
        {"MaxPool1d(4, 2, 2, dilation=2, ceil_mode=True)", 3, {2, 3, 515}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        lc_module *m;
        assert_ok(lc_model_parse_call(cases[c].spec, "--module 1", &m));
        for (int variant = 0; variant < 4; variant++) {
            lc_dtype dt = variant % 2 ? LC_F64 : LC_F32;
            bool nans = variant >= 2;
            lc_graph *g = jit_module_graph(m, dt, case_shape(&cases[c]), false);
            lc_tensor *x;
            assert_ok(lc_tensor_new(dt, case_shape(&cases[c]), &x));
            test_rng r = test_rng_seeded(900 + c * 4 + (size_t)variant);
            int64_t n = lc_tensor_numel(x);
            for (int64_t i = 0; i < n; i++) {
                uint64_t u = (uint64_t)test_rng_int(&r, 0, INT64_MAX) << 1 ^ (uint64_t)test_rng_int(&r, 0, 1);
                double v = u % 3 == 0 ? 0.0 : u % 3 == 1 ? -0.0 : -1.0;
                if (dt == LC_F32) {
                    float f = (float)v;
                    if (nans && (u >> 8) % 16 == 0) {
                        uint32_t bits = 0x7fc00000u | (uint32_t)((u >> 16) & 0x3fffffu) | (uint32_t)(u >> 63) << 31;
                        memcpy(&f, &bits, sizeof f);
                    }
                    ((float *)x->data)[i] = f;
                } else {
                    if (nans && (u >> 8) % 16 == 0) {
                        uint64_t bits = UINT64_C(0x7ff8000000000000) | ((u >> 12) & UINT64_C(0x7ffffffffffff)) |
                                        (u >> 63) << 63;
                        memcpy(&v, &bits, sizeof v);
                    }
                    ((double *)x->data)[i] = v;
                }
            }
            const lc_tensor *ins[1] = {x};
            lc_tensor *want = NULL;
            assert_ok(lc_interp_run(g, ins, 1, &want, 1));
            for (int threads = 1; threads <= 3; threads++) {
                lc_compile_options o = lc_compile_options_default();
                o.threads = threads;
                lc_program *p;
                assert_ok(lc_compile(g, &o, &p));
                lc_tensor *got = NULL;
                assert_ok(lc_program_run(p, ins, 1, &got, 1));
                if (!jit_bits_equal(got, want))
                    fail_msg("%s (%s, %s, %d threads): y's bits differ from the interpreter's", cases[c].spec,
                             dt == LC_F64 ? "f64" : "f32", nans ? "NaNs" : "ties", threads);
                lc_tensor_free(got);
                lc_program_free(p);
            }
            lc_tensor_free(want);
            lc_tensor_free(x);
            lc_graph_free(g);
        }
        lc_module_free(m);
    }
}

/* The carried slot of a vectorized run's first trip is loaded before the loop (emit_kernel.c,
 * carry_loads), and every later trip takes its carried value from the trip before. Where a
 * part of the split outer range starts inside a row, no other window of that part reads that
 * slot: one NaN there, on ties, at each trip's start in turn, 2 and 3 threads, must reach y as
 * the interpreter has it. */
static void test_nan_at_first_carried_slot(void **state) {
    (void)state;
    /* 2 output rows of 4160: enough work to split (program.c, SERIAL_WORK) */
    const pool_case pc = {"MaxPool2d(3, 2, 1)", 4, {1, 1, 3, 8320}};
    lc_module *m;
    assert_ok(lc_model_parse_call(pc.spec, "--module 1", &m));
    lc_graph *g = jit_module_graph(m, LC_F32, case_shape(&pc), false);
    lc_program *p[2];
    for (int t = 0; t < 2; t++) {
        lc_compile_options o = lc_compile_options_default();
        o.threads = 2 + t;
        assert_ok(lc_compile(g, &o, &p[t]));
    }
    lc_tensor *x;
    assert_ok(lc_tensor_new(LC_F32, case_shape(&pc), &x));
    float *xs = x->data;
    int64_t w = pc.dims[3];
    for (int64_t o = 16; o < w / 2; o += 16) {
        for (int64_t i = 0; i < lc_tensor_numel(x); i++) xs[i] = i % 3 == 0 ? 0.0f : i % 3 == 1 ? -0.0f : -1.0f;
        uint32_t bits = 0x7fc00000u | (uint32_t)o;
        memcpy(&xs[w + 2 * o - 1], &bits, sizeof bits); /* input row 0, column 2o - 1 */
        const lc_tensor *ins[1] = {x};
        lc_tensor *want = NULL;
        assert_ok(lc_interp_run(g, ins, 1, &want, 1));
        for (int t = 0; t < 2; t++) {
            lc_tensor *got = NULL;
            assert_ok(lc_program_run(p[t], ins, 1, &got, 1));
            if (!jit_bits_equal(got, want))
                fail_msg("%s: a NaN at column %lld of input row 0, %d threads: y's bits differ from the "
                         "interpreter's", pc.spec, (long long)(2 * o - 1), 2 + t);
            lc_tensor_free(got);
        }
        lc_tensor_free(want);
    }
    for (int t = 0; t < 2; t++) lc_program_free(p[t]);
    lc_tensor_free(x);
    lc_graph_free(g);
    lc_module_free(m);
}

/* MaxPool2d's gradient by definition, in float64: each window's gradient to its first
 * maximum in row-major window order (the first NaN where it holds one; -inf reads of the
 * padding never win, and a window of -inf alone chooses its first slot, which may be padding
 * and then passes nothing), summed over the windows choosing each element. */
static void reference_dx(const lc_module *m, lc_shape in, const lc_tensor *x, const lc_tensor *gy, double *dx) {
    lc_maxpool2d_params p = lc_module_maxpool2d_params(m);
    lc_shape out;
    assert_ok(lc_module_output_shape(m, in, &out));
    int r = in.rank;
    int64_t H = in.dim[r - 2], W = in.dim[r - 1], Ho = out.dim[r - 2], Wo = out.dim[r - 1];
    int64_t planes = lc_shape_numel(&in) / (H * W);
    for (int64_t i = 0; i < lc_shape_numel(&in); i++) dx[i] = 0;
    for (int64_t pl = 0; pl < planes; pl++)
        for (int64_t oh = 0; oh < Ho; oh++)
            for (int64_t ow = 0; ow < Wo; ow++) {
                double best = 0;
                int64_t at = -2; /* -2: no slot yet; -1: a padding slot chosen */
                for (int64_t a = 0; a < p.kernel_size[0]; a++)
                    for (int64_t b = 0; b < p.kernel_size[1]; b++) {
                        int64_t h = oh * p.stride[0] - p.padding[0] + a * p.dilation[0];
                        int64_t w = ow * p.stride[1] - p.padding[1] + b * p.dilation[1];
                        bool inside = h >= 0 && h < H && w >= 0 && w < W;
                        double v = inside ? lc_tensor_get(x, (pl * H + h) * W + w) : -INFINITY;
                        if (at == -2 || v > best || (isnan(v) && !isnan(best))) {
                            best = v;
                            at = inside ? (pl * H + h) * W + w : -1;
                        }
                    }
                if (at >= 0) dx[at] += lc_tensor_get(gy, (pl * Ho + oh) * Wo + ow);
            }
}

/* The backward from each window's chosen slot (grad_rules.c, lc_grad_max2d: y's kernel writes
 * the slots beside y, dx is one gather of g and the slots) against the definition above, on
 * the interpreter and the JIT (1-3 threads, bit for bit: jit_check_graph_inputs): ties in
 * most windows (few distinct values), NaN windows (one NaN, two NaNs), regions of -inf
 * (windows of -inf alone, some reaching into the padding), padding, ceil mode's overhanging
 * last windows, a rank-3 input, both dtypes; and two dilated pools that keep the two masks
 * (grad_rules.h), against the same definition. g holds small integers, so every sum of them
 * is exact and both engines must give the reference exactly. */
static void test_backward_from_slots(void **state) {
    (void)state;
    const struct {
        pool_case pc;
        bool from_slots; /* else a position lies in 3 windows along an axis: the two masks */
    } cases[] = {
        {{"MaxPool2d(3, 2, 1)", 4, {2, 3, 11, 13}}, true},
        {{"MaxPool2d(3, 2, 1)", 4, {1, 2, 9, 140}}, true},
        {{"MaxPool2d(3, 2, 1, ceil_mode=True)", 3, {3, 10, 12}}, true},
        {{"MaxPool2d((2, 3), (1, 2), ceil_mode=True)", 3, {2, 7, 11}}, true},
        {{"MaxPool2d(2)", 4, {2, 2, 8, 10}}, true},
        {{"MaxPool2d((3, 2), (2, 1), (1, 0), dilation=(2, 1), ceil_mode=True)", 4, {1, 2, 12, 9}}, false},
        {{"MaxPool2d((4, 3), (3, 2), (2, 1), dilation=(1, 2), ceil_mode=True)", 3, {2, 13, 17}}, false},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const char *spec = cases[c].pc.spec;
        lc_module *m;
        assert_ok(lc_model_parse_call(spec, "--module 1", &m));
        lc_shape in = case_shape(&cases[c].pc);
        for (int dt = 0; dt < 2; dt++) {
            lc_graph *g = jit_module_graph(m, (lc_dtype)dt, in, true);
            bool from_slots = false; /* the rule applied: the graph tests slots with equal */
            for (int n = 0; n < lc_graph_node_count(g); n++) from_slots |= lc_graph_node(g, n)->op == LC_OP_EQUAL;
            if (from_slots != cases[c].from_slots)
                fail_msg("%s: the backward from the chosen slots %d, want %d", spec, from_slots,
                         cases[c].from_slots);
            test_rng r = test_rng_seeded(900 + c);
            lc_tensor **x = jit_random_inputs(g, &r, 3.0);
            int64_t n = lc_tensor_numel(x[0]), W = in.dim[in.rank - 1];
            for (int64_t i = 0; i < n; i++) {
                double v = round(lc_tensor_get(x[0], i)); /* 7 values: ties */
                int64_t h = i / W % in.dim[in.rank - 2], w = i % W;
                if (i % 31 == 7 || i % 53 == 8) v = NAN; /* sometimes two in a window */
                if (h < 3 && w >= W - 4) v = -INFINITY; /* a corner of -inf: windows into the padding */
                if ((h >= 4 && h < 7 && w >= 3 && w < 9)) v = -INFINITY; /* an inner block */
                lc_tensor_set(x[0], i, v);
            }
            for (int64_t i = 0; i < lc_tensor_numel(x[1]); i++) lc_tensor_set(x[1], i, (double)(i % 5) - 2);
            double *want = malloc((size_t)n * sizeof *want);
            reference_dx(m, in, x[0], x[1], want);
            lc_tensor *got[2];
            assert_ok(lc_interp_run(g, (const lc_tensor *const *)x, 2, got, 2));
            for (int64_t i = 0; i < n; i++)
                if (lc_tensor_get(got[1], i) != want[i])
                    fail_msg("%s %s: dx[%" PRId64 "] = %g on the interpreter, want %g", spec,
                             lc_dtype_name((lc_dtype)dt), i, lc_tensor_get(got[1], i), want[i]);
            lc_tensor_free(got[0]);
            lc_tensor_free(got[1]);
            free(want);
            jit_check_graph_inputs(g, x, 0, 0);
            jit_free_tensors(x, 2);
            lc_graph_free(g);
        }
        lc_module_free(m);
    }
}

/* y and the flat indices of `spec` on `x` (rank `rank`, dims `dims`), on the interpreter
 * (jit false) or the JIT. */
static void run_indices(const char *spec, lc_dtype dt, lc_shape in, const double *x, bool jit, lc_tensor **y,
                        int64_t *idx) {
    lc_module *m;
    assert_ok(lc_model_parse_call(spec, "--module 1", &m));
    lc_graph *g;
    assert_ok(lc_module_graph_indices(m, dt, in, &g));
    int n_out = lc_graph_output_count(g);
    assert_int_equal(n_out, lc_module_get_kind(m) == LC_MODULE_MAXPOOL2D ? 3 : 2);
    lc_tensor *xt, *outs[3] = {NULL, NULL, NULL};
    assert_ok(lc_tensor_from_doubles(dt, in, x, &xt));
    const lc_tensor *ins[1] = {xt};
    if (jit) {
        lc_graph *opt;
        lc_program *p;
        assert_ok(lc_pipeline_run_default(g, false, NULL, &opt));
        assert_ok(lc_compile(opt, NULL, &p));
        assert_ok(lc_program_run(p, ins, 1, outs, n_out));
        lc_program_free(p);
        lc_graph_free(opt);
    } else {
        assert_ok(lc_interp_run(g, ins, 1, outs, n_out));
    }
    assert_ok(lc_maxpool_indices(m, in, (const lc_tensor *const *)&outs[1], n_out - 1, idx));
    *y = outs[0];
    for (int i = 1; i < n_out; i++) lc_tensor_free(outs[i]);
    lc_tensor_free(xt);
    lc_graph_free(g);
    lc_module_free(m);
}

static void expect_indices(const char *spec, lc_shape in, const double *x, const double *want_y,
                           const int64_t *want_idx, int n) {
    for (int e = 0; e < 4; e++) {
        lc_tensor *y;
        int64_t idx[16];
        run_indices(spec, e % 2 ? LC_F64 : LC_F32, in, x, e >= 2, &y, idx);
        assert_int_equal(lc_tensor_numel(y), n);
        for (int i = 0; i < n; i++) {
            if (idx[i] != want_idx[i]) fail_msg("%s (%s): index %d is %lld, want %lld", spec, e >= 2 ? "jit" : "interp",
                                                i, (long long)idx[i], (long long)want_idx[i]);
            double v = lc_tensor_get(y, i);
            if (!(v == want_y[i] || (isnan(v) && isnan(want_y[i]))))
                fail_msg("%s: y[%d] = %g, want %g", spec, i, v, want_y[i]);
        }
        lc_tensor_free(y);
    }
}

static void test_indices(void **state) {
    (void)state;
    /* windows (padding -inf): [pad 1 5] [5 5 -2] [-2 7 7] [7 0 pad]: the first maximum wins */
    const double x1[] = {1, 5, 5, -2, 7, 7, 0};
    expect_indices("MaxPool1d(3, 2, 1)", test_shape3(1, 1, 7), x1, (double[]){5, 5, 7, 7}, (int64_t[]){1, 1, 4, 5}, 4);
    /* (C, L) input; a NaN wins its window, padding does not */
    const double x2[] = {-3, NAN, -1, -4, -5};
    int64_t d2[] = {1, 5};
    expect_indices("MaxPool1d(2, 2, 1, ceil_mode=True)", lc_shape_make(2, d2), x2, (double[]){-3, NAN, -4},
                   (int64_t[]){0, 1, 3}, 3);
    /* a window of padding alone (slots -1 and 3 of L = 3): -inf and index -1 */
    expect_indices("MaxPool1d(2, 1, padding=1, dilation=4)", test_shape3(1, 1, 3), (double[]){1, 2, 3},
                   (double[]){-INFINITY}, (int64_t[]){-1}, 1);
    /* (C, H, W) = (1, 2, 3): windows [[1 3] [3 2]] (the first 3 in row-major order: (0, 1)) and
     * [[3 3] [2 9]] (9 at (1, 2) = 1 * 3 + 2) */
    int64_t d3[] = {1, 2, 3};
    expect_indices("MaxPool2d(2, 1)", lc_shape_make(3, d3), (double[]){1, 3, 3, 3, 2, 9}, (double[]){3, 9},
                   (int64_t[]){1, 5}, 2);
    /* (1, 1, 3, 4), MaxPool2d((2, 3), 2, 1, ceil_mode=True): Ho = 2 (rows {pad, 0} and {1, 2}),
     * Wo = 3 (the last column window holds column 3, the right padding and the ceil-mode
     * overhang past it); window (1, 1) has a tie of 8s (the first, (1, 1), wins) */
    int64_t d4[] = {1, 1, 3, 4};
    const double x4[] = {0, 1, 2, 3,
                         4, 8, 8, 5,
                         9, 7, 6, 8};
    expect_indices("MaxPool2d((2, 3), 2, 1, ceil_mode=True)", lc_shape_make(4, d4), x4,
                   (double[]){1, 3, 3, 9, 8, 8}, (int64_t[]){1, 3, 3, 8, 5, 11}, 6);
}

static void test_indices_engines_agree(void **state) {
    (void)state;
    const char *specs[] = {"MaxPool1d(3, 2, 1, dilation=2, ceil_mode=True)", "MaxPool2d(3, 2, 1)",
                           "MaxPool2d((3, 2), (2, 1), (1, 0), dilation=(1, 2), ceil_mode=True)"};
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        lc_module *m;
        assert_ok(lc_model_parse_call(specs[i], "--module 1", &m));
        int64_t dims[4] = {2, 3, 11, 13};
        lc_shape in = strstr(specs[i], "2d") ? lc_shape_make(4, dims) : test_shape3(2, 3, 17);
        lc_graph *g;
        assert_ok(lc_module_graph_indices(m, i % 2 ? LC_F64 : LC_F32, in, &g));
        jit_check_graph(g, 300 + i, 1.0); /* every output, coordinates included */
        lc_graph_free(g);
        lc_module_free(m);
    }
}

static void test_indices_bad(void **state) {
    (void)state;
    lc_module *avg, *m;
    lc_graph *g;
    assert_ok(lc_model_parse_call("AvgPool1d(2)", "--module 1", &avg));
    assert_fails(lc_module_graph_indices(avg, LC_F32, test_shape3(1, 1, 4), &g), LC_ERR_INVALID_ARG,
                 "max pool indices: the module must be MaxPool1d or MaxPool2d, got AvgPool1d");
    assert_fails(lc_module_graph_indices(NULL, LC_F32, test_shape3(1, 1, 4), &g), LC_ERR_INVALID_ARG,
                 "module must not be NULL");
    assert_fails(lc_module_graph_indices(avg, LC_F32, test_shape3(1, 1, 4), NULL), LC_ERR_INVALID_ARG,
                 "out must not be NULL");
    lc_module_free(avg);
    /* float32 coordinates are exact up to 2^24: a longer axis asks for float64 */
    assert_ok(lc_model_parse_call("MaxPool1d(2)", "--module 1", &m));
    assert_fails(lc_module_graph_indices(m, LC_F32, test_shape3(1, 1, (INT64_C(1) << 24) + 2), &g),
                 LC_ERR_UNSUPPORTED, "MaxPool1d: indices of a float32 input need each pooled axis to hold at "
                 "most 2^24 = 16777216 elements, got 16777218 (use float64)");
    /* coordinates that are not an output of the indices graph */
    lc_tensor *c, *c2;
    int64_t idx[2];
    int64_t d[] = {1, 1, 2};
    assert_ok(lc_tensor_from_doubles(LC_F32, lc_shape_make(3, d), (double[]){1, 2.5}, &c));
    const lc_tensor *cs[2] = {c, c};
    assert_fails(lc_maxpool_indices(m, test_shape3(1, 1, 4), cs, 1, idx), LC_ERR_INVALID_ARG,
                 "a coordinate output holds 2.5, not an integer in [0, 4]");
    assert_fails(lc_maxpool_indices(m, test_shape3(1, 1, 4), cs, 2, idx), LC_ERR_INVALID_ARG,
                 "MaxPool1d gives 1 coordinate outputs, got 2");
    assert_ok(lc_tensor_from_doubles(LC_F32, test_shape3(1, 1, 3), (double[]){1, 2, 3}, &c2));
    cs[0] = c2;
    assert_fails(lc_maxpool_indices(m, test_shape3(1, 1, 4), cs, 1, idx), LC_ERR_SHAPE,
                 "coordinate output 0 must have the output's shape");
    assert_fails(lc_maxpool_indices(m, test_shape3(1, 1, 1), cs, 1, idx), LC_ERR_SHAPE, "MaxPool1d: input length 1");
    lc_tensor_free(c);
    lc_tensor_free(c2);
    lc_module_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_repr_and_spec),
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_jit),
        cmocka_unit_test(test_row_windows_inline),
        cmocka_unit_test(test_carried_slots_wide_rows),
        cmocka_unit_test(test_forward_bits_ties_and_nans),
        cmocka_unit_test(test_nan_at_first_carried_slot),
        cmocka_unit_test(test_backward_from_slots),
        cmocka_unit_test(test_indices),
        cmocka_unit_test(test_indices_engines_agree),
        cmocka_unit_test(test_indices_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
