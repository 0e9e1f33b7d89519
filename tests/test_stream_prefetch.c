/* Software prefetch of the input streams (lc_schedule.stream_prefetch): fuse decides by the
 * bytes a kernel reads, codegen (stream_prefetch.c) adds one prefetch per 64-byte line a
 * vectorized trip reads of each buffer, LC_STREAM_PREFETCH_AHEAD_BYTES ahead (a window-major
 * kernel's LC_STREAM_PREFETCH_WINDOWS_AHEAD_BYTES), after the pass
 * list. A prefetch changes no value, so the values are pinned where kernels this size already
 * run (test_nontemporal's outputs of 32 MiB read 128 MiB and more, prefetched); here: the
 * decision, that the prefetches exist in the optimized IR where it says so and nowhere else, and
 * the values of a kernel just past the threshold against the interpreter. */
#include <string.h>

#include "jit_harness.h"
#include "lucid/model_spec.h"
#include "passes/kernel.h"

/* The last kernel's stream_prefetch at `in` (frees m). */
static int64_t last_kernel_prefetch(lc_module *m, lc_shape in, bool backward) {
    lc_fused *f = jit_fuse_module(m, in, backward);
    int64_t ahead = f->kernels[f->n_kernels - 1].sched.stream_prefetch;
    lc_fused_free(f);
    return ahead;
}

/* From LC_STREAM_PREFETCH_MIN_BYTES read on, not below, LC_STREAM_PREFETCH_AHEAD_BYTES ahead; a
 * window-major kernel from LC_STREAM_PREFETCH_WINDOWS_MIN_BYTES on, and
 * LC_STREAM_PREFETCH_WINDOWS_AHEAD_BYTES ahead; the 2-D pools' forwards, whose input rows are
 * short, none: below LC_ROW_PREFETCH_MAX_READ_BYTES the row prefetch, from there on row passes
 * (bench/README.md, "The 2-D forwards: window rows one after another"). */
static void test_decision(void **state) {
    (void)state;
    int64_t floats = LC_STREAM_PREFETCH_MIN_BYTES / 4;
    /* LPPool1d(3, 4) forward reads x alone */
    assert_int_equal(last_kernel_prefetch(test_lppool(3, 4, LC_STRIDE_UNSET, false), test_shape3(1, 2, floats / 2),
                                          false),
                     LC_STREAM_PREFETCH_AHEAD_BYTES);
    assert_int_equal(
        last_kernel_prefetch(test_lppool(3, 4, LC_STRIDE_UNSET, false), test_shape3(1, 2, floats / 2 - 4), false), 0);
    /* AvgPool1d(4)'s forward+backward is one window-major kernel that reads x and dy, a
     * quarter of x: the bytes of both count (x of 2 rows of `len`, the first length a multiple
     * of 4 at or past 2/5 of the threshold's floats), against the window-major threshold; at
     * the element-major one it takes none */
    int64_t window_floats = LC_STREAM_PREFETCH_WINDOWS_MIN_BYTES / 4;
    int64_t len = (window_floats * 2 / 5 + 4) / 4 * 4, len_elements = (floats * 2 / 5 + 4) / 4 * 4;
    lc_shape four = test_shape3(1, 2, len), less = test_shape3(1, 2, len - 4);
    assert_int_equal(last_kernel_prefetch(test_avgpool(4, LC_STRIDE_UNSET, 0, false, true), four, true),
                     LC_STREAM_PREFETCH_WINDOWS_AHEAD_BYTES);
    assert_int_equal(last_kernel_prefetch(test_avgpool(4, LC_STRIDE_UNSET, 0, false, true), less, true), 0);
    assert_true(len_elements < len - 4);
    assert_int_equal(
        last_kernel_prefetch(test_avgpool(4, LC_STRIDE_UNSET, 0, false, true), test_shape3(1, 2, len_elements), true),
        0);
    /* AvgPool1d(3, 1, 1)'s dx kernel, window-major, reads dy alone: none at the element-major
     * threshold */
    assert_int_equal(last_kernel_prefetch(test_avgpool(3, 1, 1, false, true), test_shape3(1, 2, floats / 2), true), 0);
    /* MaxPool2d(3, 2, 1)'s forward, rows of 1 KiB or less: from 32 MiB read its window rows
     * one after another (row passes, tests/test_row_passes.c) and no prefetch at all, the row
     * prefetch below it */
    const struct {
        lc_shape in;
        bool passes;
    } maxpool[] = {
        {{4, {16, 64, 256, 256}}, true}, /* 256 MiB */
        {{4, {2, 64, 256, 256}}, true},  /* just 32 MiB */
        {{4, {2, 64, 255, 256}}, false}, /* a row less */
        {{4, {4, 64, 128, 128}}, false}, /* 16 MiB */
    };
    for (size_t i = 0; i < sizeof maxpool / sizeof maxpool[0]; i++) {
        lc_module *mp;
        assert_ok(lc_model_parse_call("MaxPool2d(3, 2, 1)", "--module 1", &mp));
        lc_fused *f = jit_fuse_module(mp, maxpool[i].in, false);
        assert_int_equal(f->n_kernels, 1);
        assert_int_equal(f->kernels[0].sched.stream_prefetch, 0);
        assert_int_equal(f->kernels[0].sched.row_passes, maxpool[i].passes ? 3 : 0);
        assert_int_equal(f->kernels[0].sched.prefetch.slot >= 0, !maxpool[i].passes);
        lc_fused_free(f);
    }
}

/* The `llvm-opt` dump of `m` at `in` (float32). */
static char *optimized_ir(lc_module *m, lc_shape in, bool backward) {
    lc_graph *g = jit_module_graph(m, LC_F32, in, backward);
    char *buf = jit_dump_text(g, "llvm-opt");
    lc_graph_free(g);
    return buf;
}

/* LPPool1d(3, 4)'s forward reads 32 floats (two lines) of x per vectorized trip of 8 windows
 * on any target with 256-bit vectors or more; the loop prefetches the lines ahead of them, at
 * offsets D and D + 64 from the trip's first load. Below the threshold: no prefetch at all. */
static void test_codegen(void **state) {
    (void)state;
    int64_t floats = LC_STREAM_PREFETCH_MIN_BYTES / 4;
    lc_module *lp3 = test_lppool(3, 4, LC_STRIDE_UNSET, false);
    char *big = optimized_ir(lp3, test_shape3(1, 2, floats / 2), false);
    char *small = optimized_ir(lp3, test_shape3(1, 2, 4096), false);
    char at[2][48];
    snprintf(at[0], sizeof at[0], "i64 %d\n", LC_STREAM_PREFETCH_AHEAD_BYTES);
    snprintf(at[1], sizeof at[1], "i64 %d\n", LC_STREAM_PREFETCH_AHEAD_BYTES + 64);
    if (jit_count(big, "call void @llvm.prefetch") < 2 || jit_count(big, at[0]) < 1 || jit_count(big, at[1]) < 1)
        fail_msg("want prefetches %s and %s bytes ahead in:\n%s", at[0], at[1], big);
    if (jit_count(small, "@llvm.prefetch") != 0) fail_msg("want no prefetch below the threshold in:\n%s", small);
    free(big);
    free(small);
    lc_module_free(lp3);
}

/* AvgPool1d(3, 1, 1)'s forward loads x at three positions a float apart, each through its own
 * pointer: one stream, 40 bytes a trip with 256-bit vectors (one prefetch, where three streams
 * of 32 bytes would get none) and 72 with 512-bit ones (two, where three streams would get
 * three). */
static void test_one_stream_per_buffer(void **state) {
    (void)state;
    lc_module *avg = test_avgpool(3, 1, 1, false, true);
    char *ir = optimized_ir(avg, test_shape3(1, 2, LC_STREAM_PREFETCH_MIN_BYTES / 4 / 2), false);
    int n = jit_count(ir, "call void @llvm.prefetch");
    if (n < 1 || n > 2) fail_msg("want 1 or 2 prefetches, got %d, in:\n%s", n, ir);
    free(ir);
    lc_module_free(avg);
}

/* Values of a prefetching kernel, forward and forward+backward, against the interpreter:
 * LPPool1d(2.5, 4) and AvgPool1d(4) just past the threshold (the last rows' prefetches reach
 * past the buffer's end, a hint that must not fault). Their forwards prefetch here; their
 * window-major forward+backward kernels only from LC_STREAM_PREFETCH_WINDOWS_MIN_BYTES, whose
 * values test_nontemporal pins at 128 MiB and more. */
static void test_values(void **state) {
    (void)state;
    int64_t floats = LC_STREAM_PREFETCH_MIN_BYTES / 4;
    lc_shape in = test_shape3(1, 2, floats / 2 + 64);
    assert_true(last_kernel_prefetch(test_lppool(2.5, 4, LC_STRIDE_UNSET, false), in, false) > 0);
    assert_true(last_kernel_prefetch(test_avgpool(4, LC_STRIDE_UNSET, 0, false, true), in, false) > 0);
    lc_module *ms[] = {test_lppool(2.5, 4, LC_STRIDE_UNSET, false), test_avgpool(4, LC_STRIDE_UNSET, 0, false, true)};
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
        jit_check_module(ms[i], LC_F32, in, 11 + (uint64_t)i, NULL, NULL);
        lc_module_free(ms[i]);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decision),
        cmocka_unit_test(test_codegen),
        cmocka_unit_test(test_one_stream_per_buffer),
        cmocka_unit_test(test_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
