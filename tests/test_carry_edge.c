/* A row's padded first positions read through carried slots (lc_schedule.carry_edge): where
 * the only window slots in an element-major row's padding are slots its vectorized loop
 * carries from the previous trip (MaxPool2d(3, 2, 1): slot 0 of position 0 is x[-1], and
 * slot 0 of position o is slot 2 of position o - 1), each run loads its first carried values
 * before the loop with the check, and the row is one interior: no scalar edge, whole runs,
 * written in whole lines where the output is large.
 *
 * What fuse decides and where it does not (a window past the row's end, a padded slot that is
 * not carried); and the values against the interpreter, forward and forward+backward (whose
 * first kernel writes y and the chosen slots), at 1, 2 and 3 threads (bit-identical across
 * them), f32 and f64, on rows whose first real element is a NaN, -inf (tied with the
 * padding's -inf), +inf or an ordinary value, on shapes whose split of the outer range starts
 * parts inside rows. ctest runs it again bounds-checked (a run's first load reading x[-1]
 * traps) and untiered. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jit_harness.h"
#include "lucid/model_spec.h"

/* Kernel k (negative: from the end) of spec's forward, or forward+backward, on `in`. */
static void expect_carry_edge(const char *spec, lc_shape in, bool backward, int k, bool want) {
    lc_module *m = jit_parse_module(spec);
    lc_fused *f = jit_fuse_module(m, in, backward);
    const lc_kernel *kr = &f->kernels[k >= 0 ? k : f->n_kernels + k];
    if (kr->sched.carry_edge != want)
        fail_msg("%s on W = %lld (%s): carry_edge %d, want %d", spec, (long long)in.dim[in.rank - 1],
                 backward ? "forward+backward" : "forward", kr->sched.carry_edge, want);
    if (want) {
        assert_true(kr->sched.carry_loads);
        assert_int_equal(kr->sched.order, LC_LOOP_ELEMENTS);
    }
    lc_fused_free(f);
}

static void schedule_decided(void **state) {
    (void)state;
    lc_shape w256 = lc_shape_make(4, (int64_t[]){1, 2, 8, 256});
    lc_shape w64 = lc_shape_make(3, (int64_t[]){2, 3, 64});
    expect_carry_edge("MaxPool2d(3, 2, 1)", w256, false, 0, true);
    /* y and the chosen slots */
    expect_carry_edge("MaxPool2d(3, 2, 1)", w256, true, 0, true);
    expect_carry_edge("AvgPool2d(3, 2, 1)", w256, false, 0, true);
    expect_carry_edge("AvgPool2d(3, 2, 1, count_include_pad=False)", w256, false, 0, true);
    expect_carry_edge("MaxPool1d(3, 2, 1)", w64, false, 0, true);
    expect_carry_edge("AvgPool1d(3, 2, 1)", w64, false, 0, true);
    /* dilation 2, step 2: slot 0 is carried from slot 1, slot 1 from slot 2 */
    expect_carry_edge("MaxPool1d(3, 2, 1, dilation=2)", w64, false, 0, true);
    /* the last window reads past the row's end (x[256] for rows of 257): an edge there */
    expect_carry_edge("MaxPool2d(3, 2, 1)", lc_shape_make(4, (int64_t[]){1, 2, 8, 257}), false, 0, false);
    expect_carry_edge("MaxPool2d(3, 2, 1, ceil_mode=True)", lc_shape_make(4, (int64_t[]){1, 2, 9, 255}), false, 0,
                      false);
    expect_carry_edge("AvgPool1d(4, 2, 1)", w64, false, 0, false);
    /* step 4, padding 2: slot 1 of position 0 is x[-1], and nothing carries slot 1 (slot 5 is
     * past the window) */
    expect_carry_edge("MaxPool1d(5, 4, 2)", w64, false, 0, false);
    /* no padding: no edge to carry across */
    expect_carry_edge("MaxPool2d(3, 2)", lc_shape_make(4, (int64_t[]){1, 2, 9, 257}), false, 0, false);

    /* the forward's large rows are then written in whole lines (they had a scalar edge and a
     * rerun tail, which never streamed) */
    lc_module *m;
    assert_ok(lc_model_parse_call("MaxPool2d(3, 2, 1)", "test", &m));
    lc_fused *f = jit_fuse_module(m, lc_shape_make(4, (int64_t[]){8, 64, 256, 256}), false);
    assert_true(f->kernels[0].sched.carry_edge);
    assert_true(f->kernels[0].sched.whole_trips > 0);
    assert_int_equal(f->kernels[0].sched.nontemporal, LC_NT_ALIGNED_ROWS);
    lc_fused_free(f);
}

/* spec's forward (and forward+backward) on `in` against the interpreter at 1, 2 and 3 threads.
 * x: random, rounded for the max pools (ties), and at each row's first real element one of
 * NaN, -inf, +inf and an ordinary value in turn; dy small integers, so a max pool's dx is
 * exact in any order and must equal the interpreter's to the bit. */
static void check(const char *spec, lc_shape in, lc_dtype dt, bool exact, uint64_t seed) {
    lc_module *m = jit_parse_module(spec);
    for (int backward = 0; backward < 2; backward++) {
        lc_graph *g = jit_module_graph(m, dt, in, backward);
        test_rng r = test_rng_seeded(seed + (uint64_t)backward);
        lc_tensor **x = jit_random_inputs(g, &r, 3.0);
        int64_t w = in.dim[in.rank - 1];
        static const double firsts[] = {NAN, -INFINITY, INFINITY, 0.5};
        for (int64_t i = 0; i < lc_tensor_numel(x[0]); i++) {
            double v = exact ? round(lc_tensor_get(x[0], i)) : lc_tensor_get(x[0], i);
            /* the infinities only in the max pools: an average over them is inf or NaN
             * alike, which the interpreter's wider sums give too, but checks nothing here */
            if (i % w == 0) v = exact ? firsts[(i / w) % 4] : (i / w) % 2 ? NAN : v;
            lc_tensor_set(x[0], i, v);
        }
        if (backward)
            for (int64_t i = 0; i < lc_tensor_numel(x[1]); i++) lc_tensor_set(x[1], i, (double)((i * 7) % 9) - 4);
        jit_check_graph_inputs(g, x, exact ? 0 : JIT_RTOL, exact ? 0 : JIT_ATOL);
        jit_free_tensors(x, lc_graph_input_count(g));
        lc_graph_free(g);
    }
    lc_module_free(m);
}

static void values(void **state) {
    (void)state;
    const lc_shape shapes2d[] = {
        lc_shape_make(4, (int64_t[]){1, 2, 9, 256}),
        lc_shape_make(4, (int64_t[]){2, 3, 7, 64}),
        lc_shape_make(3, (int64_t[]){3, 5, 32}),
        /* 2 output rows of 4160: the outer range splits inside a row */
        lc_shape_make(4, (int64_t[]){1, 1, 3, 8320}),
    };
    for (size_t s = 0; s < sizeof shapes2d / sizeof shapes2d[0]; s++)
        for (int dt = 0; dt < 2; dt++) {
            check("MaxPool2d(3, 2, 1)", shapes2d[s], (lc_dtype)dt, true, 10 + s);
            check("AvgPool2d(3, 2, 1)", shapes2d[s], (lc_dtype)dt, false, 20 + s);
            check("AvgPool2d(3, 2, 1, count_include_pad=False)", shapes2d[s], (lc_dtype)dt, false, 30 + s);
        }
    const lc_shape shapes1d[] = {
        lc_shape_make(3, (int64_t[]){2, 3, 64}),
        lc_shape_make(3, (int64_t[]){1, 4, 512}),
        lc_shape_make(3, (int64_t[]){1, 1, 16640}),
    };
    for (size_t s = 0; s < sizeof shapes1d / sizeof shapes1d[0]; s++)
        for (int dt = 0; dt < 2; dt++) {
            check("MaxPool1d(3, 2, 1)", shapes1d[s], (lc_dtype)dt, true, 40 + s);
            check("MaxPool1d(3, 2, 1, dilation=2)", shapes1d[s], (lc_dtype)dt, true, 50 + s);
            check("AvgPool1d(3, 2, 1)", shapes1d[s], (lc_dtype)dt, false, 60 + s);
        }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(schedule_decided),
        cmocka_unit_test(values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
