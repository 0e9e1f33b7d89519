/* Windows past a row's ends read through a guard (lc_schedule.guard_windows): a pool's
 * backward whose blocks are shifted to start at position 0 (padding shorter than a step:
 * MaxPool2d(3, 2, 1)'s dx) and whose rows hold whole runs of the vectorized loop runs every
 * block of a row there, the last block's second window (past the row's last) read by masked
 * loads, its term +0, instead of the block going element by element.
 *
 * What fuse decides and where it does not; that a target with masked loads gets them
 * (vmaskmovps, for a named AVX2 target with its features) and one without (x86-64, no
 * features: ctest runs this again so, test_guard_windows_no_masked_loads) reads the window
 * at its index clamped into the row and still vectorizes, as MaxPool2d's dx, which reads its
 * chosen slots as bytes, does on a target without masked byte loads (AVX2); and the values against the
 * interpreter on rows whose last block holds the guarded window, including the last row of
 * the buffer, whose next element lies past the end of dy (ctest's *_bounds_checked runs of
 * this test and of test_pool2d trap on any load outside its buffer; it caught a count table of
 * AvgPool2d(count_include_pad=False) read at the window past the last). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/codegen.h"
#include "jit_harness.h"
#include "lucid/model_spec.h"

static lc_fused *fuse_spec(const char *spec, lc_shape in) {
    lc_module *m = jit_parse_module(spec);
    return jit_fuse_module(m, in, true);
}

/* dx's kernel (the last) of spec's forward+backward on `in`. */
static void expect_schedule(const char *spec, lc_shape in, bool guarded) {
    lc_fused *f = fuse_spec(spec, in);
    const lc_kernel *k = &f->kernels[f->n_kernels - 1];
    if (k->sched.guard_windows != guarded)
        fail_msg("%s on W = %lld: guard_windows %d, want %d", spec, (long long)in.dim[in.rank - 1],
                 k->sched.guard_windows, guarded);
    if (guarded) {
        assert_int_equal(k->sched.order, LC_LOOP_WINDOWS);
        assert_true(k->sched.block_shift > 0);
        assert_true(k->sched.whole_trips > 0);
        assert_false(k->sched.rerun_tail); /* the runs end at the row's end */
    }
    lc_fused_free(f);
}

static void schedule_decided(void **state) {
    (void)state;
    lc_shape w256 = lc_shape_make(4, (int64_t[]){1, 2, 8, 256});
    lc_shape w32 = lc_shape_make(3, (int64_t[]){3, 7, 32});
    expect_schedule("MaxPool2d(3, 2, 1)", w256, true);
    expect_schedule("MaxPool2d(3, 2, 1)", w32, true);
    expect_schedule("AvgPool2d(3, 2, 1)", w256, true);
    expect_schedule("AvgPool2d(3, 2, 1, count_include_pad=False)", w256, true);
    expect_schedule("AvgPool2d(5, 2, 1)", w256, true);
    /* rows of 100 blocks hold no whole runs of 16: the last block stays an edge, the blocks
     * before it a rerun */
    expect_schedule("MaxPool2d(3, 2, 1)", lc_shape_make(4, (int64_t[]){1, 2, 8, 200}), false);
    /* no padding: no shifted blocks, no window past the row's end */
    expect_schedule("MaxPool2d(2)", w256, false);
    expect_schedule("AvgPool2d(3, 2)", lc_shape_make(4, (int64_t[]){1, 2, 9, 257}), false);
}

/* A target whose masks are vector compares (lc_fuse_target.masks_by_compare: AVX without
 * AVX-512) keeps the row's last block an edge and reruns the trips before it, where the same
 * kernel elsewhere reads its window past the row's end through the guard. */
static void not_where_masks_are_compares(void **state) {
    (void)state;
    lc_module *m;
    assert_ok(lc_model_parse_call("MaxPool2d(3, 2, 1)", "test", &m));
    lc_graph *g = jit_module_graph(m, LC_F32, lc_shape_make(4, (int64_t[]){1, 2, 8, 256}), true);
    for (int compares = 0; compares < 2; compares++) {
        lc_fuse_target t = {.masks_by_compare = compares};
        lc_fused *f;
        assert_ok(lc_fuse_for(g, &t, &f));
        const lc_kernel *k = &f->kernels[f->n_kernels - 1];
        assert_true(k->sched.block_shift > 0);
        assert_int_equal(k->sched.guard_windows, !compares);
        assert_int_equal(k->sched.rerun_tail, compares);
        char *text = jit_fused_text(f);
        assert_int_equal(jit_count(text, "not read through a guard: the target's masks are vector compares"),
                         compares);
        free(text);
        lc_fused_free(f);
    }
    lc_graph_free(g);
    lc_module_free(m);
}

/* Whether the target this process compiles for has masked loads, as jit.c decides it. */
static bool target_masks(void) {
    const char *triple, *cpu, *features;
    assert_ok(lc_codegen_target(&triple, &cpu, &features));
    return strncmp(triple, "x86_64", 6) == 0 && strstr(features, "+avx") != NULL;
}

/* Whether the code loads a byte alone from memory other than its stack frame (a flag the
 * register allocator spilled is reloaded from the stack with movzbl too). */
static bool reads_byte_alone(const char *text) {
    for (const char *p = strstr(text, "movzbl\t"); p; p = strstr(p + 1, "movzbl\t")) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        const char *paren = memchr(p, '(', n);
        if (paren && strncmp(paren, "(%rsp)", 6) != 0) return true;
    }
    return false;
}

/* dx's kernel of spec's forward+backward: masked loads where `masked`, else none (the windows
 * clamped, their loads lane by lane) and still vectorized. */
static void dx_code(const char *spec, bool masked, bool byte_slot) {
    lc_module *m = jit_parse_module(spec);
    lc_graph *g = jit_module_graph(m, LC_F32, lc_shape_make(4, (int64_t[]){1, 2, 8, 256}), true);
    char *asm_text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&asm_text, &len);
    assert_non_null(out);
    assert_ok(lc_compile_dump(g, "asm", out));
    fclose(out);
    const char *dx = strstr(asm_text, "\nlc_kernel_1:");
    assert_non_null(dx);
    const char *end = strstr(dx + 1, "\nlc_kernel_");
    size_t n = end ? (size_t)(end - dx) : strlen(dx);
    char *text = strndup(dx, n);
    /* the target's masked load: AVX2's vmaskmovps, or AVX-512's move under a mask */
    bool has = strstr(text, "vmaskmovps") || strstr(text, "} {z}");
    if (masked && !has) fail_msg("%s: dx's kernel has no masked load:\n%.3000s", spec, text);
    if (!masked && has) fail_msg("%s: a masked load for a target without them", spec);
    if (!strstr(text, "movups\t") && !strstr(text, "movaps\t")) fail_msg("%s: dx's kernel is not vectorized", spec);
    /* where the windows are masked, a byte slot is read a vector at a time (masked or in its
     * margins): no byte one by one */
    if (masked && reads_byte_alone(text)) fail_msg("%s: dx's kernel reads bytes one by one:\n%.3000s", spec, text);
    /* the chosen slots compared with the slot numbers as bytes (emit_expr.c, byte_equal), not
     * widened and converted to floats first */
    if (byte_slot && (strstr(text, "cvtdq2ps") || strstr(text, "cvtudq2ps")))
        fail_msg("%s: dx's kernel converts its slot bytes to floats to compare them:\n%.3000s", spec, text);
    free(text);
    free(asm_text);
    lc_graph_free(g);
    lc_module_free(m);
}

static void code_reads_the_window(void **state) {
    (void)state;
#if defined(__x86_64__)
    /* bounds checks change the code's shape (ctest's bounds-checked run checks values) */
    const char *checked = getenv("LUCID_CHECK_BOUNDS");
    if (checked && strcmp(checked, "1") == 0) skip();
    dx_code("AvgPool2d(3, 2, 1)", target_masks(), false);
    /* MaxPool2d's dx reads the chosen slots as bytes (lc_fused.byte_slot): masked where the
     * target has masked byte loads (AVX-512BW), else in the buffer's margins (AVX2) */
    dx_code("MaxPool2d(3, 2, 1)", target_masks(), true);
#else
    skip();
#endif
}

/* y and dx against the interpreter at 1, 2 and 3 threads (bit-identical across them). dy is
 * small integers, so a max pool's dx (a sum of up to four of them) is exact in any order and
 * must equal the interpreter's to the bit; the average pools' within the usual tolerance. */
static void check(const char *spec, lc_shape in, lc_dtype dt, bool exact, uint64_t seed) {
    lc_module *m = jit_parse_module(spec);
    lc_graph *g = jit_module_graph(m, dt, in, true);
    test_rng r = test_rng_seeded(seed);
    lc_tensor **x = jit_random_inputs(g, &r, 3.0);
    for (int64_t i = 0; i < lc_tensor_numel(x[1]); i++) lc_tensor_set(x[1], i, (double)((i * 7) % 9) - 4);
    /* some ties and a NaN now and then in x: the chosen slot moves, dx with it */
    for (int64_t i = 0; i < lc_tensor_numel(x[0]); i++) {
        double v = lc_tensor_get(x[0], i);
        lc_tensor_set(x[0], i, i % 97 == 3 ? NAN : exact ? round(v) : v);
    }
    jit_check_graph_inputs(g, x, exact ? 0 : JIT_RTOL, exact ? 0 : JIT_ATOL);
    jit_free_tensors(x, 2);
    lc_graph_free(g);
    lc_module_free(m);
}

static void values(void **state) {
    (void)state;
    const lc_shape shapes[] = {
        lc_shape_make(4, (int64_t[]){1, 2, 9, 256}),
        lc_shape_make(4, (int64_t[]){2, 3, 7, 64}),
        lc_shape_make(3, (int64_t[]){3, 5, 32}),
        lc_shape_make(4, (int64_t[]){1, 1, 2, 96}),
    };
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int dt = 0; dt < 2; dt++) {
            check("MaxPool2d(3, 2, 1)", shapes[s], (lc_dtype)dt, true, 40 + s);
            check("MaxPool2d(3, 2, 1, ceil_mode=True)", shapes[s], (lc_dtype)dt, true, 50 + s);
            check("AvgPool2d(3, 2, 1)", shapes[s], (lc_dtype)dt, false, 60 + s);
            check("AvgPool2d(3, 2, 1, count_include_pad=False)", shapes[s], (lc_dtype)dt, false, 70 + s);
            /* three windows cover a position: a block's first window is before the row's
             * first at block 0 (o = -1), its last past the row's last at the row's end */
            check("AvgPool2d((3, 5), 2, 1)", shapes[s], (lc_dtype)dt, false, 80 + s);
            check("MaxPool2d((3, 5), 2, 1)", shapes[s], (lc_dtype)dt, true, 90 + s);
        }
}

int main(void) {
    /* A named AVX2 target with its features, so the masked form is what compiles (where the
     * host runs AVX2 code; ctest's second run names a target without masked loads). */
    jit_name_avx2_target();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(schedule_decided),
        cmocka_unit_test(not_where_masks_are_compares),
        cmocka_unit_test(code_reads_the_window),
        cmocka_unit_test(values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
