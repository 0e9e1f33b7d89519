/* Outputs too large for the cache, written with non-temporal stores (lc_schedule.nontemporal).
 * Fuse decides by the output's size; codegen starts each row's vectorized loop at a 64-byte
 * line of the written buffer, wherever the row and the caller's buffer start, and leaves the
 * positions before it to the scalar loop. So the values must match a float64 reference, and
 * be the same bits at every alignment of the output buffer: 64-byte aligned, off by a few
 * elements (another peel per row), and off by a byte, where no line can be reached and the
 * whole row runs scalar. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "jit_harness.h"
#include "lucid/model_spec.h"
#include "passes/kernel.h"

static lc_nontemporal last_kernel_nontemporal(lc_module *m, lc_shape in, bool backward) {
    lc_fused *f = jit_fuse_module(m, in, backward);
    lc_nontemporal nt = f->kernels[f->n_kernels - 1].sched.nontemporal;
    lc_fused_free(f);
    return nt;
}

static lc_module *avg4(void) { return test_avgpool(4, LC_STRIDE_UNSET, 0, false, true); }

/* From LC_NONTEMPORAL_MIN_BYTES of output on, not below: rows of whole trips whose runs start
 * on lines (LC_NT_ALIGNED_ROWS), else a line found per row (LC_NT_LINE_START), but not with a
 * rerun tail (rows of at most LC_RERUN_TAIL_MAX_ROW without whole trips: the second run starts
 * off a line). */
static void test_decision(void **state) {
    (void)state;
    int64_t floats = LC_NONTEMPORAL_MIN_BYTES / 4;
    /* AvgPool1d(4) forward: y has a quarter of x's floats, in 2 rows */
    assert_int_equal(last_kernel_nontemporal(avg4(), test_shape3(1, 2, floats * 2), false), LC_NT_ALIGNED_ROWS);
    assert_int_equal(last_kernel_nontemporal(avg4(), test_shape3(1, 2, floats * 2 - 8), false), LC_NT_NONE);
    /* rows of floats / 2 + 2 outputs: no whole trips */
    assert_int_equal(last_kernel_nontemporal(avg4(), test_shape3(1, 2, floats * 2 + 8), false), LC_NT_LINE_START);
    /* LPPool1d(2, 4)'s backward (window-major, blocks of 4 positions): dx has x's floats */
    lc_shape half = test_shape3(1, 2, floats / 2), less = test_shape3(1, 2, floats / 2 - 8);
    assert_int_equal(last_kernel_nontemporal(test_lppool(2, 4, LC_STRIDE_UNSET, false), half, true), LC_NT_ALIGNED_ROWS);
    assert_int_equal(last_kernel_nontemporal(test_lppool(2, 4, LC_STRIDE_UNSET, false), less, true), LC_NT_NONE);
    /* the write share (LC_NT_MAX_WRITE_SHARE): LPPool1d(2, 4)'s forward+backward above reads x
     * beside dy, as much as it writes, and streams; AvgPool2d(3, 2, 1)'s dx, four times the dy
     * it reads alone, does not (test_shifted_blocks_values), nor MaxPool2d's (test_maxpool2d_values) */
    /* rows of 512 outputs, whole trips; of 500, a rerun tail and no whole trips */
    assert_int_equal(last_kernel_nontemporal(avg4(), test_shape3(1, floats / 512 * 2, 2048), false),
                     LC_NT_ALIGNED_ROWS);
    assert_int_equal(last_kernel_nontemporal(avg4(), test_shape3(1, floats / 500 * 2, 2000), false), LC_NT_NONE);
    /* LPPool2d(2, 2) forward+backward, one kernel with y beside dx (lc_kernel.co_rows): y
     * streamed too where it is as large as the threshold, not where only dx is */
    for (int big = 0; big <= 1; big++) {
        lc_module *m;
        lc_lppool2d_params lp = lc_lppool2d_defaults(2, 2, 2);
        assert_ok(lc_lppool2d_new(&lp, &m));
        lc_shape xs = {4, {1, 1, 4096, 4096}};
        if (big) xs = (lc_shape){4, {1, 2, 4096, 4096}};
        lc_fused *f = jit_fuse_module(m, xs, true);
        assert_int_equal(f->n_kernels, 1);
        assert_int_equal(f->kernels[0].co_rows, 2);
        assert_int_equal(f->kernels[0].sched.nontemporal, LC_NT_ALIGNED_ROWS);
        assert_int_equal(f->kernels[0].sched.co_nontemporal, big);
        lc_fused_free(f);
    }
    /* rows of 1064 blocks: no whole trips, and no line per row for a row tile (ordinary stores) */
    lc_module *m;
    lc_lppool2d_params lp = lc_lppool2d_defaults(2, 2, 2);
    assert_ok(lc_lppool2d_new(&lp, &m));
    assert_int_equal(last_kernel_nontemporal(m, (lc_shape){4, {1, 4, 1024, 2128}}, true), LC_NT_NONE);
    /* MaxPool2d(3, 2, 1)'s forward: rows of 129 outputs whose last window reads past the row
     * (an edge at each end) and a rerun tail never stream (the dump once said they did); rows
     * of 128, whose padded first position reads only a carried slot (lc_schedule.carry_edge),
     * have no edge and stream whole; rows of 1024 too */
    lc_module *mp;
    assert_ok(lc_model_parse_call("MaxPool2d(3, 2, 1)", "test", &mp));
    assert_int_equal(last_kernel_nontemporal(mp, (lc_shape){4, {8, 64, 256, 257}}, false), LC_NT_NONE);
    assert_ok(lc_model_parse_call("MaxPool2d(3, 2, 1)", "test", &mp));
    assert_int_equal(last_kernel_nontemporal(mp, (lc_shape){4, {8, 64, 256, 256}}, false), LC_NT_ALIGNED_ROWS);
    assert_ok(lc_model_parse_call("MaxPool2d(3, 2, 1)", "test", &mp));
    assert_int_equal(last_kernel_nontemporal(mp, (lc_shape){4, {4, 64, 64, 2048}}, false), LC_NT_ALIGNED_ROWS);
}

/* The last kernel of m's graph fused for a target (lc_fuse_for), and its dump in *text if
 * asked (caller frees). */
static lc_nontemporal nontemporal_for_target(lc_module *m, lc_shape in, bool backward, lc_fuse_target target,
                                             char **text) {
    lc_graph *g = jit_module_graph(m, LC_F32, in, backward);
    lc_fused *f;
    assert_ok(lc_fuse_for(g, &target, &f));
    lc_nontemporal nt = f->kernels[f->n_kernels - 1].sched.nontemporal;
    if (text) *text = jit_fused_text(f);
    lc_fused_free(f);
    lc_graph_free(g);
    lc_module_free(m);
    return nt;
}

/* The same for a target whose cores have `core` bytes of their own cache and whose vendor is
 * not AMD. */
static lc_nontemporal nontemporal_for(lc_module *m, lc_shape in, bool backward, int64_t core, char **text) {
    return nontemporal_for_target(m, in, backward, (lc_fuse_target){.core_cache_bytes = core}, text);
}

/* Where the target's per-core cache is known (lc_fuse_target, kernel.h): an element-major
 * kernel streams an output larger than that cache, however far below LC_NONTEMPORAL_MIN_BYTES,
 * and not one that fits it; a window-major one keeps LC_NONTEMPORAL_MIN_BYTES; a cache of 0
 * (unknown), as lc_fuse, which knows nothing of the target. */
static void test_decision_by_core_cache(void **state) {
    (void)state;
    const int64_t core = (int64_t)1 << 20, floats = core / 4;
    /* AvgPool1d(4) forward, y in 2 rows: 2 MiB of y, then exactly the cache's 1 MiB */
    char *text = NULL;
    assert_int_equal(nontemporal_for(avg4(), test_shape3(1, 2, floats * 4), false, core, &text), LC_NT_ALIGNED_ROWS);
    if (!strstr(text, "the output is more than a core's own cache holds (1024 KiB on the target)"))
        fail_msg("the dump does not say why the output is streamed:\n%s", text);
    free(text);
    assert_int_equal(nontemporal_for(avg4(), test_shape3(1, 2, floats * 2), false, core, NULL), LC_NT_NONE);
    assert_int_equal(nontemporal_for(avg4(), test_shape3(1, 2, floats * 4), false, 0, NULL), LC_NT_NONE);
    assert_int_equal(last_kernel_nontemporal(avg4(), test_shape3(1, 2, floats * 4), false), LC_NT_NONE);
    /* a row without whole trips: a line found per row, as above LC_NONTEMPORAL_MIN_BYTES */
    assert_int_equal(nontemporal_for(avg4(), test_shape3(1, 2, floats * 4 + 8), false, core, NULL), LC_NT_LINE_START);
    /* LPPool1d(2, 4)'s backward (window-major): dx of 4 MiB keeps ordinary stores */
    assert_int_equal(nontemporal_for(test_lppool(2, 4, LC_STRIDE_UNSET, false), test_shape3(1, 2, floats * 2), true,
                                     core, NULL),
                     LC_NT_NONE);
    /* at and above LC_NONTEMPORAL_MIN_BYTES the dump gives the last-level cache, as it did
     * before and does on every host, whatever its cache */
    int64_t big = LC_NONTEMPORAL_MIN_BYTES / 4;
    assert_int_equal(nontemporal_for(avg4(), test_shape3(1, 2, big * 2), false, core, &text), LC_NT_ALIGNED_ROWS);
    if (!strstr(text, "the output does not fit the last-level cache"))
        fail_msg("the dump does not say why the output is streamed:\n%s", text);
    free(text);
}

/* An AMD target (lc_fuse_target.streams_core_sized) also streams an output exactly its
 * core's cache, and the dump says so; half of it still takes ordinary stores, and so does the
 * backward; a cache of 0 (unknown) still leaves LC_NONTEMPORAL_MIN_BYTES. */
static void test_core_sized_output_on_amd(void **state) {
    (void)state;
    const int64_t core = (int64_t)1 << 20, floats = core / 4;
    lc_fuse_target amd = {.core_cache_bytes = core, .streams_core_sized = true};
    char *text = NULL;
    /* AvgPool1d(4) forward: exactly 1 MiB of y, as at (16, 16, 4096) */
    assert_int_equal(nontemporal_for_target(avg4(), test_shape3(16, 16, 4096), false, amd, &text),
                     LC_NT_ALIGNED_ROWS);
    if (!strstr(text, "the output is at least what a core's own cache holds (1024 KiB on the target)"))
        fail_msg("the dump does not say why the output is streamed:\n%s", text);
    free(text);
    assert_int_equal(nontemporal_for(avg4(), test_shape3(16, 16, 4096), false, core, NULL), LC_NT_NONE);
    assert_int_equal(nontemporal_for_target(avg4(), test_shape3(1, 2, floats), false, amd, NULL), LC_NT_NONE);
    assert_int_equal(nontemporal_for_target(test_lppool(2, 4, LC_STRIDE_UNSET, false), test_shape3(1, 2, floats * 2),
                                            true, amd, NULL),
                     LC_NT_NONE);
    lc_fuse_target unknown = {.core_cache_bytes = 0, .streams_core_sized = true};
    assert_int_equal(nontemporal_for_target(avg4(), test_shape3(16, 16, 4096), false, unknown, NULL), LC_NT_NONE);
}

/* A kernel whose output is large enough to stream but which writes more than
 * LC_NT_MAX_WRITE_SHARE times the bytes it reads takes ordinary stores, and the fuse dump says
 * why (lc_schedule.nontemporal_write_share): MaxPool2d(3, 2, 1)'s dx gather reads dy and the
 * byte slots, a quarter of dx's floats each (3.2 times). Below the size nothing is said. */
static void test_write_share_reason(void **state) {
    (void)state;
    for (int big = 0; big <= 1; big++) {
        lc_module *m;
        assert_ok(lc_model_parse_call("MaxPool2d(3, 2, 1)", "test", &m));
        /* dx of 32 MiB (LC_NONTEMPORAL_MIN_BYTES), or half that */
        lc_shape xs = {4, {big ? 2 : 1, 4, 1024, 1024}};
        lc_fused *f = jit_fuse_module(m, xs, true);
        const lc_kernel *dx = &f->kernels[f->n_kernels - 1];
        assert_int_equal(dx->sched.nontemporal, LC_NT_NONE);
        char *text = jit_fused_text(f);
        if (big) {
            assert_true(dx->sched.nontemporal_write_share > 3.19 && dx->sched.nontemporal_write_share < 3.21);
            if (!strstr(text, "ordinary stores: the output does not fit the last-level cache, but the kernel "
                              "writes 3.2 times the bytes it reads (more than 2)"))
                fail_msg("the dump does not say why dx takes ordinary stores:\n%s", text);
        } else {
            assert_true(dx->sched.nontemporal_write_share == 0);
            if (strstr(text, "ordinary stores:")) fail_msg("a reason for an output too small to stream:\n%s", text);
        }
        free(text);
        lc_fused_free(f);
    }
    /* LPPool1d(2, 4)'s forward+backward reads x beside dy, as much as it writes: it streams */
    lc_fused *f = jit_fuse_module(test_lppool(2, 4, LC_STRIDE_UNSET, false),
                                  test_shape3(1, 2, LC_NONTEMPORAL_MIN_BYTES / 8), true);
    assert_int_equal(f->kernels[f->n_kernels - 1].sched.nontemporal, LC_NT_ALIGNED_ROWS);
    assert_true(f->kernels[f->n_kernels - 1].sched.nontemporal_write_share == 0);
    lc_fused_free(f);
}

/* Byte offsets of the outputs inside 64-byte aligned blocks: aligned, 3 and 5 floats further
 * (rows peel another count of positions; LC_NT_ALIGNED_ROWS writes aside), and 1 byte
 * (elements not aligned to their size: no line start is reachable, every row runs scalar). */
static const size_t offsets[] = {0, 12, 20, 1};
#define N_OFFSETS (sizeof offsets / sizeof offsets[0])
#define MAX_OUTS 2

/* Checks the outputs of the first run (1 thread, aligned buffers) against a reference. */
typedef void (*reference_check)(char *const *outs, const lc_tensor *const *ins);

/* Compile `g` (whose last kernel must be non-temporal as `mode`), run it on 1 and 2 threads into
 * outputs at every offset: the first run against `check`, every other one bit for bit against
 * the first. */
static void run_at_offsets(lc_graph *g, const lc_tensor *const *ins, lc_nontemporal mode, reference_check check) {
    lc_fused *f;
    assert_ok(lc_fuse(g, &f));
    assert_int_equal(f->kernels[f->n_kernels - 1].sched.nontemporal, mode);
    lc_fused_free(f);
    int n_in = lc_graph_input_count(g), n_out = lc_graph_output_count(g);
    assert_true(n_out <= MAX_OUTS);
    char *block[MAX_OUTS] = {0}, *first[MAX_OUTS] = {0}; /* first[j]: NULL past the outputs */
    size_t bytes[MAX_OUTS];
    lc_tensor view[MAX_OUTS];
    lc_tensor *outs[MAX_OUTS];
    for (int j = 0; j < n_out; j++) {
        const lc_node *o = lc_graph_node(g, lc_graph_output(g, j));
        bytes[j] = (size_t)lc_shape_numel(&o->shape) * 4;
        block[j] = aligned_alloc(64, (bytes[j] + 64 + 63) / 64 * 64);
        first[j] = malloc(bytes[j]);
        assert_non_null(block[j]);
        assert_non_null(first[j]);
        memset(&view[j], 0, sizeof view[j]);
        view[j].dtype = LC_F32;
        view[j].shape = o->shape;
        outs[j] = &view[j];
    }
    for (int threads = 1; threads <= 2; threads++) {
        lc_compile_options o = lc_compile_options_default();
        o.threads = threads;
        lc_program *p;
        assert_ok(lc_compile(g, &o, &p));
        for (size_t a = 0; a < N_OFFSETS; a++) {
            for (int j = 0; j < n_out; j++) view[j].data = block[j] + offsets[a];
            assert_ok(lc_program_run_into(p, ins, n_in, outs, n_out));
            for (int j = 0; j < n_out; j++) {
                if (threads == 1 && a == 0) {
                    memcpy(first[j], block[j], bytes[j]);
                } else if (memcmp(first[j], block[j] + offsets[a], bytes[j]) != 0) {
                    fail_msg("output %d differs at offset %zu, %d threads", j, offsets[a], threads);
                }
            }
            if (threads == 1 && a == 0) check(first, ins);
        }
        lc_program_free(p);
    }
    for (int j = 0; j < n_out; j++) {
        free(block[j]);
        free(first[j]);
    }
}

static float at(const char *out, int64_t i) {
    float v;
    memcpy(&v, out + (size_t)i * 4, 4);
    return v;
}

/* AvgPool1d(4) on rows of 4·Y + 2 with Y odd: no whole trips, each row finds its own line */
enum { ROWS_1D = 3 };
#define Y_1D (LC_NONTEMPORAL_MIN_BYTES / 4 / ROWS_1D + 5)
#define L_1D (Y_1D * 4 + 2)

static void check_avg1d(char *const *outs, const lc_tensor *const *ins) {
    const float *x = ins[0]->data;
    for (int64_t row = 0; row < ROWS_1D; row++)
        for (int64_t o = 0; o < Y_1D; o++) {
            const float *w = x + row * L_1D + o * 4;
            double want = ((double)w[0] + w[1] + w[2] + w[3]) / 4, got = at(outs[0], row * Y_1D + o);
            if (fabs(got - want) > 1e-5 * (fabs(w[0]) + fabs(w[1]) + fabs(w[2]) + fabs(w[3])))
                fail_msg("y[%lld, %lld] = %.9g, want %.9g", (long long)row, (long long)o, got, want);
        }
    if (!outs[1]) return;
    const float *g = ins[1]->data;
    for (int64_t row = 0; row < ROWS_1D; row++)
        for (int64_t i = 0; i < L_1D; i++) {
            double want = i / 4 < Y_1D ? (double)g[row * Y_1D + i / 4] / 4 : 0.0, got = at(outs[1], row * L_1D + i);
            if (got != want) fail_msg("dx[%lld, %lld] = %.9g, want %.9g", (long long)row, (long long)i, got, want);
        }
}

/* AvgPool2d(2) on (1, 2, 4096, 4096): rows of whole trips (LC_NT_ALIGNED_ROWS); an output off a
 * line is written aside */
enum { PLANES_2D = 2, SIDE_2D = 4096 };

static void check_avg2d(char *const *outs, const lc_tensor *const *ins) {
    const float *x = ins[0]->data;
    int64_t half = SIDE_2D / 2;
    for (int64_t pl = 0; pl < PLANES_2D; pl++)
        for (int64_t r = 0; r < half; r++)
            for (int64_t c = 0; c < half; c++) {
                const float *w = x + (pl * SIDE_2D + 2 * r) * SIDE_2D + 2 * c;
                double want = ((double)w[0] + w[1] + w[SIDE_2D] + w[SIDE_2D + 1]) / 4;
                double got = at(outs[0], (pl * half + r) * half + c);
                if (fabs(got - want) > 1e-5 * (fabs(w[0]) + fabs(w[1]) + fabs(w[SIDE_2D]) + fabs(w[SIDE_2D + 1])))
                    fail_msg("y[%lld, %lld, %lld] = %.9g, want %.9g", (long long)pl, (long long)r, (long long)c,
                             got, want);
            }
    if (!outs[1]) return;
    const float *g = ins[1]->data;
    for (int64_t pl = 0; pl < PLANES_2D; pl++)
        for (int64_t r = 0; r < SIDE_2D; r++)
            for (int64_t c = 0; c < SIDE_2D; c++) {
                double want = (double)g[(pl * half + r / 2) * half + c / 2] / 4;
                double got = at(outs[1], (pl * SIDE_2D + r) * SIDE_2D + c);
                if (got != want) fail_msg("dx[%lld, %lld, %lld] = %.9g, want %.9g", (long long)pl, (long long)r,
                                          (long long)c, got, want);
            }
}

/* LPPool2d(2, 2) on the same shape: forward+backward is one kernel whose row tile writes y
 * beside dx (lc_kernel.co_rows), each of the tile's rows from its own line, and y (32 MiB)
 * from lines of its own rows (lc_schedule.co_nontemporal) */
static void check_lp2d(char *const *outs, const lc_tensor *const *ins) {
    const float *x = ins[0]->data;
    int64_t half = SIDE_2D / 2;
    for (int64_t pl = 0; pl < PLANES_2D; pl++)
        for (int64_t r = 0; r < half; r++)
            for (int64_t c = 0; c < half; c++) {
                const float *w = x + (pl * SIDE_2D + 2 * r) * SIDE_2D + 2 * c;
                double y = sqrt((double)w[0] * w[0] + (double)w[1] * w[1] + (double)w[SIDE_2D] * w[SIDE_2D] +
                                (double)w[SIDE_2D + 1] * w[SIDE_2D + 1]);
                double got = at(outs[0], (pl * half + r) * half + c);
                if (fabs(got - y) > 1e-5 * y)
                    fail_msg("y[%lld, %lld, %lld] = %.9g, want %.9g", (long long)pl, (long long)r, (long long)c,
                             got, y);
                if (!outs[1]) continue;
                double g = ((const float *)ins[1]->data)[(pl * half + r) * half + c];
                for (int k = 0; k < 4; k++) {
                    int64_t row = 2 * r + k / 2, col = 2 * c + k % 2;
                    double want = g * (double)x[(pl * SIDE_2D + row) * SIDE_2D + col] / y;
                    double dx = at(outs[1], (pl * SIDE_2D + row) * SIDE_2D + col);
                    if (fabs(dx - want) > 1e-5 * fabs(g) + 1e-30)
                        fail_msg("dx[%lld, %lld, %lld] = %.9g, want %.9g", (long long)pl, (long long)row,
                                 (long long)col, dx, want);
                }
            }
}

/* The module forward, then forward+backward, run at every offset against `check`; the last
 * kernel's mode `mode` in both, or `backward_mode` in the second where it is not -1. */
static void check_module_modes(lc_module *m, lc_shape xs, lc_nontemporal mode, int backward_mode,
                               reference_check check) {
    test_rng r = test_rng_seeded(5);
    for (int backward = 0; backward <= 1; backward++) {
        lc_graph *g = jit_module_graph(m, LC_F32, xs, backward);
        lc_tensor *ins[2] = {test_random_tensor(&r, LC_F32, xs, 3.0), NULL};
        if (backward) {
            const lc_node *seed = lc_graph_node(g, lc_graph_input(g, 1));
            ins[1] = test_random_tensor(&r, LC_F32, seed->shape, 3.0);
        }
        run_at_offsets(g, (const lc_tensor *const *)ins,
                       backward && backward_mode >= 0 ? (lc_nontemporal)backward_mode : mode, check);
        lc_tensor_free(ins[0]);
        lc_tensor_free(ins[1]);
        lc_graph_free(g);
    }
    lc_module_free(m);
}

static void check_module(lc_module *m, lc_shape xs, lc_nontemporal mode, reference_check check) {
    check_module_modes(m, xs, mode, -1, check);
}

static void test_line_start_values(void **state) {
    (void)state;
    check_module(avg4(), test_shape3(1, ROWS_1D, L_1D), LC_NT_LINE_START, check_avg1d);
}

static void test_aligned_rows_values(void **state) {
    (void)state;
    lc_module *m;
    lc_avgpool2d_params params = lc_avgpool2d_defaults(2, 2);
    assert_ok(lc_avgpool2d_new(&params, &m));
    lc_shape xs = {4, {1, PLANES_2D, SIDE_2D, SIDE_2D}};
    check_module(m, xs, LC_NT_ALIGNED_ROWS, check_avg2d);
    lc_lppool2d_params lp = lc_lppool2d_defaults(2, 2, 2);
    assert_ok(lc_lppool2d_new(&lp, &m));
    check_module(m, xs, LC_NT_ALIGNED_ROWS, check_lp2d);
}

/* AvgPool1d(3, 1, 1)'s forward on rows of whole trips (LC_NT_ALIGNED_ROWS) whose ends read
 * padding: each row's vectorized run starts at the row's first line past its edge (position
 * 16 of float32), the positions before it and after the last whole trips go to the scalar
 * loop. Its optimized IR streams the stores, and the values match float64 at every offset. */
enum { ROWS_K3 = 2 };
#define L_K3 (LC_NONTEMPORAL_MIN_BYTES / 4 / ROWS_K3)

static void check_avg1d_k3p1(char *const *outs, const lc_tensor *const *ins) {
    const float *x = ins[0]->data;
    for (int64_t row = 0; row < ROWS_K3; row++)
        for (int64_t i = 0; i < L_K3; i++) {
            const float *r = x + row * L_K3;
            double a = i > 0 ? r[i - 1] : 0.0, b = r[i], c = i + 1 < L_K3 ? r[i + 1] : 0.0;
            double want = (a + b + c) / 3, got = at(outs[0], row * L_K3 + i);
            if (fabs(got - want) > 1e-5 * (fabs(a) + fabs(b) + fabs(c)))
                fail_msg("y[%lld, %lld] = %.9g, want %.9g", (long long)row, (long long)i, got, want);
        }
}

static void test_padded_rows_values(void **state) {
    (void)state;
    lc_module *m = test_avgpool(3, 1, 1, false, true);
    lc_shape xs = test_shape3(1, ROWS_K3, L_K3);
    lc_graph *g = jit_module_graph(m, LC_F32, xs, false);
    char *ir = jit_dump_text(g, "llvm-opt");
    if (!strstr(ir, "!nontemporal")) fail_msg("want streaming stores in:\n%s", ir);
    free(ir);
    test_rng r = test_rng_seeded(7);
    lc_tensor *ins[1] = {test_random_tensor(&r, LC_F32, xs, 3.0)};
    run_at_offsets(g, (const lc_tensor *const *)ins, LC_NT_ALIGNED_ROWS, check_avg1d_k3p1);
    lc_tensor_free(ins[0]);
    lc_graph_free(g);
    lc_module_free(m);
}

/* AvgPool2d(3, 2, 1)'s dx (count_include_pad: every window divides by 9), window-major in
 * blocks shifted to start at position 0 (lc_schedule.block_shift), each row's last block an
 * edge: rows of 256 (128 blocks: runs of 16, the 15 left before the last block as one more
 * run; ordinary stores throughout, as fuse decides for a rerun tail) and of 4096 (2048 blocks,
 * no rerun tail: runs of 16 streamed from the row's line, the blocks left go to the scalar
 * loop) */
static int64_t shifted_h, shifted_w;

static void check_avg2d_k3s2p1_dx(char *const *outs, const lc_tensor *const *ins) {
    const float *g = ins[1]->data;
    int64_t oh_n = shifted_h / 2, ow_n = shifted_w / 2, planes = lc_shape_numel(&ins[0]->shape) / (shifted_h * shifted_w);
    for (int64_t pl = 0; pl < planes; pl++)
        for (int64_t r = 0; r < shifted_h; r++)
            for (int64_t c = 0; c < shifted_w; c++) {
                double want = 0, mag = 0;
                for (int64_t oh = (r + 1) / 2 - 1; oh <= (r + 1) / 2; oh++)
                    for (int64_t ow = (c + 1) / 2 - 1; ow <= (c + 1) / 2; ow++) {
                        if (oh < 0 || oh >= oh_n || ow < 0 || ow >= ow_n || r < 2 * oh - 1 || r > 2 * oh + 1 ||
                            c < 2 * ow - 1 || c > 2 * ow + 1)
                            continue;
                        double v = g[(pl * oh_n + oh) * ow_n + ow];
                        want += v / 9;
                        mag += fabs(v) / 9;
                    }
                double got = at(outs[1], (pl * shifted_h + r) * shifted_w + c);
                if (fabs(got - want) > 1e-6 * mag)
                    fail_msg("dx[%lld, %lld, %lld] = %.9g, want %.9g", (long long)pl, (long long)r, (long long)c, got,
                             want);
            }
}

static void test_shifted_blocks_values(void **state) {
    (void)state;
    const int64_t shapes[2][3] = {{64, 512, 256}, {1, 2048, 4096}}; /* planes, h, w: dx 32 MiB */
    for (int s = 0; s < 2; s++) {
        lc_module *m;
        lc_avgpool2d_params params = lc_avgpool2d_defaults(3, 3);
        params.stride[0] = params.stride[1] = 2;
        params.padding[0] = params.padding[1] = 1;
        assert_ok(lc_avgpool2d_new(&params, &m));
        shifted_h = shapes[s][1];
        shifted_w = shapes[s][2];
        lc_shape xs = {4, {1, shapes[s][0], shifted_h, shifted_w}};
        lc_graph *g = jit_module_graph(m, LC_F32, xs, true);
        lc_fused *f;
        assert_ok(lc_fuse(g, &f));
        const lc_kernel *k = &f->kernels[f->n_kernels - 1];
        assert_int_equal(k->sched.order, LC_LOOP_WINDOWS);
        assert_int_equal(k->sched.block_shift, 1);
        assert_true(k->sched.whole_blocks);
        assert_int_equal(k->sched.whole_trips, LC_VECTOR_BLOCK_TRIP_MULTIPLE);
        /* no block is an edge (a window past the row's last is read through a guard), so the
         * whole row runs in whole runs: no rerun tail */
        assert_true(k->sched.guard_windows);
        assert_false(k->sched.rerun_tail);
        lc_fused_free(f);
        test_rng r = test_rng_seeded(9);
        lc_tensor *ins[2] = {test_random_tensor(&r, LC_F32, xs, 3.0), NULL};
        ins[1] = test_random_tensor(&r, LC_F32, lc_graph_node(g, lc_graph_input(g, 1))->shape, 3.0);
        /* rows of 128 blocks and of 2048, every block whole: the last block's second window
         * (past the row's last) is a masked load, not a scalar edge; dx is four times dy, the
         * one buffer read, so ordinary stores (LC_NT_MAX_WRITE_SHARE) */
        run_at_offsets(g, (const lc_tensor *const *)ins, LC_NT_NONE, check_avg2d_k3s2p1_dx);
        lc_tensor_free(ins[0]);
        lc_tensor_free(ins[1]);
        lc_graph_free(g);
        lc_module_free(m);
    }
}

/* MaxPool2d(3, 2, 1) on rows of 256 (128 outputs): its padded first position reads only a
 * carried slot (lc_schedule.carry_edge), so the forward's rows stream whole; in the
 * forward+backward, the first kernel writes y and, beside it, the chosen slots (a co-root at
 * every element, lc_kernel.co_beside), both from whole lines (co_nontemporal), and dx (the
 * last kernel) streams too. y and dx against a direct reference: each window's first maximum
 * (the padding never wins on finite x), dy summed into it. */
enum { MP_PLANES = 16, MP_H = 8192, MP_W = 256 }; /* y: 32 MiB */

static void check_maxpool2d(char *const *outs, const lc_tensor *const *ins) {
    const float *x = ins[0]->data;
    int64_t oh_n = MP_H / 2, ow_n = MP_W / 2, n = (int64_t)MP_PLANES * MP_H * MP_W;
    /* dx and the sum of its terms' magnitudes (a float sum of up to four terms) */
    double *dx = outs[1] ? calloc((size_t)n, sizeof *dx) : NULL, *mag = outs[1] ? calloc((size_t)n, sizeof *mag) : NULL;
    for (int64_t pl = 0; pl < MP_PLANES; pl++)
        for (int64_t oh = 0; oh < oh_n; oh++)
            for (int64_t ow = 0; ow < ow_n; ow++) {
                int64_t best = -1;
                for (int64_t a = 0; a < 3; a++)
                    for (int64_t b = 0; b < 3; b++) {
                        int64_t h = 2 * oh - 1 + a, w = 2 * ow - 1 + b, i = (pl * MP_H + h) * MP_W + w;
                        if (h >= 0 && h < MP_H && w >= 0 && w < MP_W && (best < 0 || x[i] > x[best])) best = i;
                    }
                int64_t o = (pl * oh_n + oh) * ow_n + ow;
                if (at(outs[0], o) != x[best])
                    fail_msg("y[%lld, %lld, %lld] = %.9g, want %.9g", (long long)pl, (long long)oh, (long long)ow,
                             at(outs[0], o), x[best]);
                if (!dx) continue;
                dx[best] += ((const float *)ins[1]->data)[o];
                mag[best] += fabs(((const float *)ins[1]->data)[o]);
            }
    for (int64_t i = 0; dx && i < n; i++)
        if (fabs(at(outs[1], i) - dx[i]) > 1e-6 * mag[i])
            fail_msg("dx[%lld] = %.9g, want %.9g", (long long)i, at(outs[1], i), dx[i]);
    free(dx);
    free(mag);
}

static void test_maxpool2d_values(void **state) {
    (void)state;
    lc_module *m;
    assert_ok(lc_model_parse_call("MaxPool2d(3, 2, 1)", "test", &m));
    lc_shape xs = {4, {1, MP_PLANES, MP_H, MP_W}};
    lc_graph *g = jit_module_graph(m, LC_F32, xs, true);
    lc_fused *f;
    assert_ok(lc_fuse(g, &f));
    assert_int_equal(f->n_kernels, 2);
    const lc_kernel *first = &f->kernels[0];
    assert_true(first->sched.carry_edge && first->co_beside);
    assert_int_equal(first->sched.nontemporal, LC_NT_ALIGNED_ROWS);
    /* the chosen slots beside y are bytes (lc_fused.byte_slot), 16 to a trip: ordinary stores */
    assert_true(f->byte_slot[first->co_slot]);
    assert_false(first->sched.co_nontemporal);
    lc_fused_free(f);
    lc_graph_free(g);
    /* the last kernel of forward+backward, the dx gather, writes 3.2 times what it reads (dy
     * and the byte slots): ordinary stores (LC_NT_MAX_WRITE_SHARE) */
    check_module_modes(m, xs, LC_NT_ALIGNED_ROWS, LC_NT_NONE, check_maxpool2d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decision),
        cmocka_unit_test(test_decision_by_core_cache),
        cmocka_unit_test(test_core_sized_output_on_amd),
        cmocka_unit_test(test_write_share_reason),
        cmocka_unit_test(test_line_start_values),
        cmocka_unit_test(test_aligned_rows_values),
        cmocka_unit_test(test_padded_rows_values),
        cmocka_unit_test(test_shifted_blocks_values),
        cmocka_unit_test(test_maxpool2d_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
