/* Outputs too large for the cache, written with non-temporal stores (lc_schedule.nontemporal).
 * Fuse decides by the output's size; codegen starts each row's vectorized loop at a 64-byte
 * line of the written buffer, wherever the row and the caller's buffer start, and leaves the
 * positions before it to the scalar loop. So the values must match a float64 reference, and
 * be the same bits at every alignment of the output buffer: 64-byte aligned, off by a few
 * elements (another peel per row), and off by a byte, where no line can be reached and the
 * whole row runs scalar. */
#include <stdint.h>
#include <string.h>

#include "jit_harness.h"
#include "passes/kernel.h"

static lc_fused *fuse_module(lc_module *m, lc_shape in, bool backward) {
    lc_graph *g = jit_module_graph(m, LC_F32, in, backward);
    lc_fused *f;
    assert_ok(lc_fuse(g, &f));
    lc_graph_free(g);
    lc_module_free(m);
    return f;
}

static bool last_kernel_nontemporal(lc_module *m, lc_shape in, bool backward) {
    lc_fused *f = fuse_module(m, in, backward);
    bool nt = f->kernels[f->n_kernels - 1].sched.nontemporal;
    lc_fused_free(f);
    return nt;
}

/* At LC_NONTEMPORAL_MIN_BYTES of output and above, not below; not with a rerun tail (rows of
 * at most LC_RERUN_TAIL_MAX_ROW, whose second run starts off a line). */
static void test_decision(void **state) {
    (void)state;
    int64_t floats = LC_NONTEMPORAL_MIN_BYTES / 4;
    /* AvgPool1d(4) forward: y has a quarter of x's floats, in 2 rows */
    assert_true(last_kernel_nontemporal(test_avgpool(4, LC_STRIDE_UNSET, 0, false, true),
                                        test_shape3(1, 2, floats * 2), false));
    assert_false(last_kernel_nontemporal(test_avgpool(4, LC_STRIDE_UNSET, 0, false, true),
                                         test_shape3(1, 2, floats * 2 - 8), false));
    /* its backward (window-major, blocks of 4 positions): dx has x's floats */
    assert_true(last_kernel_nontemporal(test_lppool(2, 4, LC_STRIDE_UNSET, false), test_shape3(1, 2, floats / 2),
                                        true));
    assert_false(last_kernel_nontemporal(test_lppool(2, 4, LC_STRIDE_UNSET, false),
                                         test_shape3(1, 2, floats / 2 - 8), true));
    /* rows of 512 outputs: a rerun tail, ordinary stores however large */
    assert_false(last_kernel_nontemporal(test_avgpool(4, LC_STRIDE_UNSET, 0, false, true),
                                         test_shape3(1, floats / 512 * 2, 2048), false));
}

/* A tensor record over `data` (not owned): the caller's buffer at some alignment. */
static lc_tensor view_of(lc_dtype dt, lc_shape s, void *data) {
    lc_tensor t = {0};
    t.dtype = dt;
    t.shape = s;
    t.data = data;
    return t;
}

/* Byte offsets of the output inside a 64-byte aligned block: aligned, 3 and 5 floats further
 * (rows peel another count of positions), and 1 byte (elements not aligned to their size:
 * no line start is reachable, every row runs scalar). */
static const size_t offsets[] = {0, 12, 20, 1};
#define N_OFFSETS (sizeof offsets / sizeof offsets[0])

/* AvgPool1d(4) forward and forward+backward on rows of an odd length (so rows start at every
 * alignment), outputs over LC_NONTEMPORAL_MIN_BYTES, against float64 sums; every placement of
 * the output gives the same bits, on 1 and 2 threads. */
static void test_values_at_every_alignment(void **state) {
    (void)state;
    int64_t rows = 3, out_row = LC_NONTEMPORAL_MIN_BYTES / 4 / rows + 5, len = out_row * 4 + 2;
    lc_shape xs = test_shape3(1, rows, len), ys = test_shape3(1, rows, out_row);
    test_rng r = test_rng_seeded(5);
    lc_tensor *x = test_random_tensor(&r, LC_F32, xs, 3.0), *g = test_random_tensor(&r, LC_F32, ys, 3.0);
    const float *xv = x->data, *gv = g->data;
    for (int backward = 0; backward <= 1; backward++) {
        lc_module *m = test_avgpool(4, LC_STRIDE_UNSET, 0, false, true);
        lc_graph *graph = jit_module_graph(m, LC_F32, xs, backward);
        lc_module_free(m);
        lc_fused *f;
        assert_ok(lc_fuse(graph, &f));
        assert_true(f->kernels[f->n_kernels - 1].sched.nontemporal);
        lc_fused_free(f);
        size_t ybytes = (size_t)(rows * out_row) * 4, dxbytes = (size_t)(rows * len) * 4;
        char *yblock = aligned_alloc(64, ybytes + 64), *dxblock = aligned_alloc(64, dxbytes + 64);
        float *yfirst = malloc(ybytes), *dxfirst = malloc(dxbytes);
        assert_non_null(yblock);
        assert_non_null(dxblock);
        for (int threads = 1; threads <= 2; threads++) {
            lc_compile_options o = lc_compile_options_default();
            o.threads = threads;
            lc_program *p;
            assert_ok(lc_compile(graph, &o, &p));
            for (size_t a = 0; a < N_OFFSETS; a++) {
                lc_tensor y = view_of(LC_F32, ys, yblock + offsets[a]);
                lc_tensor dx = view_of(LC_F32, xs, dxblock + offsets[a]);
                lc_tensor *outs[2] = {&y, &dx};
                const lc_tensor *ins[2] = {x, g};
                assert_ok(lc_program_run_into(p, ins, backward ? 2 : 1, outs, backward ? 2 : 1));
                float yv, dv;
                if (threads == 1 && a == 0) {
                    /* the first run against float64: y = mean of 4, dx = g / 4 (0 past the last window) */
                    for (int64_t row = 0; row < rows; row++)
                        for (int64_t w_at = 0; w_at < out_row; w_at++) {
                            const float *w = xv + row * len + w_at * 4;
                            double want = ((double)w[0] + w[1] + w[2] + w[3]) / 4;
                            memcpy(&yv, yblock + (size_t)(row * out_row + w_at) * 4, 4);
                            if (fabs(yv - want) > 1e-5 * (fabs(w[0]) + fabs(w[1]) + fabs(w[2]) + fabs(w[3])) + 1e-30)
                                fail_msg("y[%lld, %lld] = %.9g, want %.9g", (long long)row, (long long)w_at, yv, want);
                        }
                    for (int64_t row = 0; backward && row < rows; row++)
                        for (int64_t i = 0; i < len; i++) {
                            double want = i / 4 < out_row ? (double)gv[row * out_row + i / 4] / 4 : 0.0;
                            memcpy(&dv, dxblock + (size_t)(row * len + i) * 4, 4);
                            if (fabs(dv - want) > 1e-6 * fabs(want))
                                fail_msg("dx[%lld, %lld] = %.9g, want %.9g", (long long)row, (long long)i, dv, want);
                        }
                    memcpy(yfirst, yblock, ybytes);
                    if (backward) memcpy(dxfirst, dxblock, dxbytes);
                } else {
                    if (memcmp(yfirst, yblock + offsets[a], ybytes) != 0)
                        fail_msg("y differs at offset %zu, %d threads", offsets[a], threads);
                    if (backward && memcmp(dxfirst, dxblock + offsets[a], dxbytes) != 0)
                        fail_msg("dx differs at offset %zu, %d threads", offsets[a], threads);
                }
            }
            lc_program_free(p);
        }
        free(yfirst);
        free(dxfirst);
        free(yblock);
        free(dxblock);
        lc_graph_free(graph);
    }
    lc_tensor_free(x);
    lc_tensor_free(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decision),
        cmocka_unit_test(test_values_at_every_alignment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
