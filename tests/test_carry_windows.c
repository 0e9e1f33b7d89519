/* A window's values carried from the vectorized loop's previous trip (passes/kernel.h,
 * lc_schedule.carry_windows; codegen/carry_values.c). LPPool1d(2, 4, 2)'s forward+backward
 * evaluates each window in the two blocks it covers; the second evaluation now comes from the
 * trip before. Pinned here: fuse records it where a block's overlapping windows hold an LP
 * norm and nowhere else; codegen then takes one root a window in the vectorized loop, not two;
 * and the values, against the interpreter, at 1, 2 and 3 threads (whose runs start at other
 * blocks, so the values computed before a run must have the carried ones' bits), with a
 * window the fix-up must redo at every position of a row, the first window of a run among
 * them (its flag raised before the run). The file runs again untiered (tests/CMakeLists.txt):
 * small programs run the quick tier first, which carries nothing. */
#include "codegen/codegen.h"
#include "jit_harness.h"

/* How many kernels of spec's forward (or forward+backward) fuse has carry windows. */
static int carrying_kernels(const char *spec, bool backward) {
    lc_fused *f = jit_fuse_module(jit_parse_module(spec), test_shape3(2, 3, 256), backward);
    int n = 0;
    for (int k = 0; k < f->n_kernels; k++) n += f->kernels[k].sched.carry_windows;
    if (n > 0) {
        char *text = jit_fused_text(f);
        assert_int_equal(jit_count(text, "carried: a covering window's values"), n);
        free(text);
    }
    lc_fused_free(f);
    return n;
}

static void fuse_decides(void **state) {
    (void)state;
    const char *carried[] = {"LPPool1d(2, 4, 2)", "LPPool1d(3, 4, 2)", "LPPool1d(2.7, 4, 2)", "LPPool1d(1.5, 3, 2)",
                             "LPPool1d(2, 6, 3)"};
    for (size_t i = 0; i < sizeof carried / sizeof *carried; i++) {
        if (carrying_kernels(carried[i], true) != 1) fail_msg("%s forward+backward: no carried windows", carried[i]);
        /* the forward evaluates each window once: nothing to carry */
        assert_int_equal(carrying_kernels(carried[i], false), 0);
    }
    /* windows that do not overlap, overlapping windows of no LP norm, and an LP norm whose
     * gradient reads y from a kernel of its own (three windows cover a block) */
    const char *not_carried[] = {"LPPool1d(2, 4)", "LPPool1d(2.5, 4)", "AvgPool1d(4, 2)", "AvgPool1d(3, 1, 1)",
                                 "MaxPool1d(3, 2, 1)", "LPPool1d(2, 6, 2)"};
    for (size_t i = 0; i < sizeof not_carried / sizeof *not_carried; i++)
        if (carrying_kernels(not_carried[i], true) != 0) fail_msg("%s: carried windows", not_carried[i]);
}

/* Vector square roots in the optimized IR of LPPool1d(2, 4, 2)'s forward+backward, with the
 * schedule as fuse made it or with carry_windows taken off. */
static int vector_roots(bool carry) {
    lc_module *m = jit_parse_module("LPPool1d(2, 4, 2)");
    lc_graph *g = jit_module_graph(m, LC_F32, test_shape3(2, 3, 4096), true);
    lc_fused *f;
    assert_ok(lc_fuse(g, &f));
    assert_int_equal(f->n_kernels, 1);
    assert_true(f->kernels[0].sched.carry_windows);
    f->kernels[0].sched.carry_windows = carry;
    lc_codegen_options o = {.opt_level = 3, .skip_disk_cache = true, .want_llvm_opt = true,
                            .last_step = LC_CODEGEN_OPTIMIZE};
    lc_codegen_texts texts = {0};
    lc_jit *jit = NULL;
    assert_ok(lc_codegen(f, &o, &texts, &jit, NULL));
    assert_null(jit);
    int roots = jit_count(texts.llvm_opt, "@llvm.sqrt.v");
    lc_codegen_texts_free(&texts);
    lc_fused_free(f);
    lc_graph_free(g);
    lc_module_free(m);
    return roots;
}

static void one_root_a_window(void **state) {
    (void)state;
    int with = vector_roots(true), without = vector_roots(false);
    /* calls, declarations aside: each vectorized loop had two roots a window, now one */
    if (!(with > 0 && 2 * (with - 1) == without - 1))
        fail_msg("vector roots: %d with carried windows, %d without", with, without);
}

/* spec's forward+backward on (2, 3, L) against the interpreter at 1, 2 and 3 threads, with
 * x's elements big .. big + n - 1 of every row made `value` (windows whose sums leave the
 * range: the fix-up redoes them), or none where n = 0. */
static void check(const char *spec, lc_dtype dt, int64_t len, int64_t big, int64_t n, double value, uint64_t seed) {
    lc_module *m = jit_parse_module(spec);
    lc_graph *g = jit_module_graph(m, dt, test_shape3(2, 3, len), true);
    test_rng r = test_rng_seeded(seed);
    lc_tensor **in = jit_random_inputs(g, &r, 3.0);
    /* seeds of one sign: dx sums its covering windows' terms, all of x's sign, so nothing
     * cancels and relative error alone judges it (an underflow to 0 fails) */
    for (int64_t k = 0; k < lc_tensor_numel(in[1]); k++) {
        if (dt == LC_F32) ((float *)in[1]->data)[k] = fabsf(((float *)in[1]->data)[k]) + 0.25f;
        else ((double *)in[1]->data)[k] = fabs(((double *)in[1]->data)[k]) + 0.25;
    }
    for (int64_t row = 0; row < 6; row++)
        for (int64_t j = big; j < big + n && j < len; j++) {
            int64_t k = row * len + j;
            if (dt == LC_F32) ((float *)in[0]->data)[k] = (float)value;
            else ((double *)in[0]->data)[k] = value;
        }
    jit_check_graph_inputs(g, in, dt == LC_F32 ? 1e-4 : 1e-9, 0);
    jit_free_tensors(in, 2);
    lc_graph_free(g);
    lc_module_free(m);
}

static void values(void **state) {
    (void)state;
    const char *specs[] = {"LPPool1d(2, 4, 2)", "LPPool1d(3, 4, 2)", "LPPool1d(2.7, 4, 2)", "LPPool1d(2, 4, 2, True)",
                           "LPPool1d(2, 6, 3)", "LPPool1d(1.5, 3, 2)"};
    for (size_t i = 0; i < sizeof specs / sizeof *specs; i++) {
        check(specs[i], LC_F32, 203, 0, 0, 0, 7 + i);
        check(specs[i], LC_F64, 203, 0, 0, 0, 11 + i);
    }
}

/* A flagged window at every position of a row: the first window of a run is computed before
 * the run, and a run that reads it must still be redone. */
static void flagged_everywhere(void **state) {
    (void)state;
    enum { L = 70 };
    for (int64_t big = 0; big < L; big++) {
        /* one element whose square overflows; a window of elements whose squares underflow */
        check("LPPool1d(2, 4, 2)", LC_F32, L, big, 1, 3e25, 100 + (uint64_t)big);
        check("LPPool1d(2, 4, 2)", LC_F32, L, big, 4, 1e-25, 200 + (uint64_t)big);
    }
    for (int64_t big = 0; big < L; big += 3) check("LPPool1d(2, 4, 2)", LC_F64, L, big, 1, 1e200, 300 + (uint64_t)big);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fuse_decides),
        cmocka_unit_test(one_root_a_window),
        cmocka_unit_test(values),
        cmocka_unit_test(flagged_everywhere),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
