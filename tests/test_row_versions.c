/* A loop made once per outcome of its row's window checks (passes/kernel.h,
 * lc_schedule.row_versions; codegen/jit.c runs LLVM's non-trivial loop unswitching for such a
 * kernel). MaxPool2d's gradient gathers each input row from the window rows covering it,
 * checks that hold for a whole row; vectorized, each was a select on one scalar condition,
 * which the x86 back end made a branch inside the loop. Pinned here: fuse marks the kernels
 * that gather so and no other; codegen then leaves no vector select on a scalar condition in
 * MaxPool2d(3, 2, 1)'s optimized IR (there were some with the mark taken off); and the values
 * against the interpreter, forward and forward+backward, at 1, 2 and 3 threads, for rows of
 * every kind (first, last, even, odd, past the last window), unmarked pools beside them. The
 * file runs again untiered (tests/CMakeLists.txt): small programs run the quick tier first,
 * which does not unswitch. */
#include <ctype.h>

#include "codegen/codegen.h"
#include "jit_harness.h"
#include "lucid/version.h"

/* How many kernels of spec's forward (or forward+backward) at (2, 3, h, w) fuse marks. */
static int marked_kernels(const char *spec, int64_t h, int64_t w, bool backward) {
    lc_fused *f = jit_fuse_module(jit_parse_module(spec), test_shape4(2, 3, h, w), backward);
    int n = 0;
    for (int k = 0; k < f->n_kernels; k++) n += f->kernels[k].sched.row_versions;
    char *text = jit_fused_text(f);
    assert_int_equal(jit_count(text, "row versions: "), n);
    free(text);
    lc_fused_free(f);
    return n;
}

static void fuse_decides(void **state) {
    (void)state;
    /* MaxPool2d's gradient gathers along the rows, testing each window's chosen slot: padding,
     * rectangular windows, a last row no window covers, ceil mode's partial windows */
    const char *marked[] = {"MaxPool2d(3, 2, 1)", "MaxPool2d((3, 2), (2, 1), (1, 0))", "MaxPool2d(3, 2)",
                            "MaxPool2d(3, 2, 1, ceil_mode=True)"};
    for (size_t i = 0; i < sizeof marked / sizeof *marked; i++) {
        if (marked_kernels(marked[i], 16, 16, true) != 1) fail_msg("%s forward+backward: not marked", marked[i]);
        /* the forward's checks of window rows in the padding: measured no faster unswitched */
        assert_int_equal(marked_kernels(marked[i], 16, 16, false), 0);
    }
    /* windows that tile the rows: every position in exactly one, no check */
    assert_int_equal(marked_kernels("MaxPool2d(2)", 16, 16, true), 0);
    /* gathers without a test of each element: measured no faster unswitched */
    const char *unmarked[] = {"AvgPool2d(3, 2, 1)", "AvgPool2d(2)", "LPPool2d(2, 3, 2)", "LPPool2d(2, 2)"};
    for (size_t i = 0; i < sizeof unmarked / sizeof *unmarked; i++)
        if (marked_kernels(unmarked[i], 15, 16, true) != 0) fail_msg("%s: marked", unmarked[i]);
    /* windows along the last axis only: their checks change along the row */
    const char *one_d[] = {"MaxPool1d(3, 2, 1)", "AvgPool1d(3, 1, 1)", "LPPool1d(2, 4, 2)"};
    for (size_t i = 0; i < sizeof one_d / sizeof *one_d; i++) {
        lc_shape s = {.rank = 3, .dim = {2, 3, 64}};
        lc_fused *f = jit_fuse_module(jit_parse_module(one_d[i]), s, true);
        for (int k = 0; k < f->n_kernels; k++)
            if (f->kernels[k].sched.row_versions) fail_msg("%s: kernel %d marked", one_d[i], k);
        lc_fused_free(f);
    }
}

/* Selects of vectors on a scalar condition ("select i1 %c, <8 x float> ...") in IR text. */
static int scalar_selects_of_vectors(const char *ir) {
    int n = 0;
    for (const char *p = strstr(ir, "select i1 "); p; p = strstr(p + 1, "select i1 ")) {
        const char *q = p + strlen("select i1 ");
        while (*q && *q != ',' && *q != '\n') q++;
        if (q[0] == ',' && q[1] == ' ' && q[2] == '<') n++;
    }
    return n;
}

/* The optimized IR of the kernel fuse marks in MaxPool2d(3, 2, 1)'s forward+backward (its
 * gradient's gather), with the schedule as fuse made it or with row_versions taken off: its
 * count of vector selects on a scalar condition, and of vectorized loops (*loops). */
static int selects_left(bool versions, int *loops) {
    lc_module *m = jit_parse_module("MaxPool2d(3, 2, 1)");
    lc_graph *g = jit_module_graph(m, LC_F32, test_shape4(2, 3, 64, 64), true);
    lc_fused *f;
    assert_ok(lc_fuse(g, &f));
    int marked = -1;
    for (int k = 0; k < f->n_kernels; k++)
        if (f->kernels[k].sched.row_versions) {
            assert_int_equal(marked, -1);
            marked = k;
            f->kernels[k].sched.row_versions = versions;
        }
    assert_true(marked >= 0);
    lc_codegen_options o = {.opt_level = 3, .skip_disk_cache = true, .want_llvm_opt = true,
                            .last_step = LC_CODEGEN_OPTIMIZE};
    lc_codegen_texts texts = {0};
    lc_jit *jit = NULL;
    assert_ok(lc_codegen(f, &o, &texts, &jit, NULL));
    assert_null(jit);
    /* the texts are the kernels' modules in order: the marked one's from its definition */
    char name[48];
    snprintf(name, sizeof name, "define i32 @lc_kernel_%d(", marked);
    char *ir = strstr(texts.llvm_opt, name);
    assert_non_null(ir);
    char *next = strstr(ir, "; ModuleID");
    if (next) *next = 0;
    int n = scalar_selects_of_vectors(ir);
    *loops = jit_count(ir, "\nvector.body");
    lc_codegen_texts_free(&texts);
    lc_fused_free(f);
    lc_graph_free(g);
    lc_module_free(m);
    return n;
}

static void no_scalar_selects(void **state) {
    (void)state;
    int loops_with, loops_without;
    int with = selects_left(true, &loops_with), without = selects_left(false, &loops_without);
    /* LLVM 15's SimpleLoopUnswitch takes branches only (selects came with its D138526): an
     * LLVM before 17 may leave the loop as it was, and is then asked only for nothing worse */
    if (LUCID_LLVM_VERSION_MAJOR < 17) {
        assert_true(with <= without);
        return;
    }
    if (!(with == 0 && without > 0 && loops_with > loops_without))
        fail_msg("vector selects on a scalar condition: %d with row versions, %d without; vectorized loops "
                 "%d and %d",
                 with, without, loops_with, loops_without);
}

static void values(void **state) {
    (void)state;
    const char *specs[] = {"MaxPool2d(3, 2, 1)",
                           "AvgPool2d(3, 2, 1)",
                           "AvgPool2d(3, 2, 1, count_include_pad=False)",
                           "LPPool2d(2, 3, 2)",
                           "MaxPool2d((3, 2), (2, 1), (1, 0))",
                           "MaxPool2d(3, 2, 1, ceil_mode=True)",
                           "AvgPool2d(2)",
                           "MaxPool2d(2, dilation=2)"};
    const int64_t sizes[][2] = {{16, 40}, {15, 33}, {7, 70}, {5, 8}};
    uint64_t seed = 1;
    for (size_t i = 0; i < sizeof specs / sizeof *specs; i++)
        for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
            lc_module *m = jit_parse_module(specs[i]);
            jit_check_module(m, LC_F32, test_shape4(2, 3, sizes[s][0], sizes[s][1]), seed, NULL, NULL);
            jit_check_module(m, LC_F64, test_shape4(1, 2, sizes[s][0], sizes[s][1]), seed + 7, NULL, NULL);
            lc_module_free(m);
            seed += 13;
        }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fuse_decides),
        cmocka_unit_test(no_scalar_selects),
        cmocka_unit_test(values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
