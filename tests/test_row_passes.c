/* Row passes (lc_schedule.row_passes): a 2-D pool's forward that reads at least
 * LC_ROW_PREFETCH_MAX_READ_BYTES reads its window rows one after another, one loop over the
 * output row per window row, folding each row's term into a row of partial results. Fuse
 * decides it (here: where, and where not); the order each window's terms are folded in is the
 * unrolled reduction's, so the outputs must have the bits of the same pool run where it reads
 * its rows side by side: the same planes run in slices too small for row passes. The inputs
 * hold what sends windows to the fix-up (sums that overflow, LP sums below the normal range),
 * NaNs, infinities, zeros of both signs and ties, so every path a window can take meets a
 * row-pass kernel beside it. */
#include <string.h>

#include "jit_harness.h"

/* The last kernel's row_passes for `spec` at `in` (and that such a kernel prefetches nothing). */
static int row_passes_of(const char *spec, lc_shape in, bool backward) {
    lc_fused *f = jit_fuse_module(jit_parse_module(spec), in, backward);
    const lc_kernel *k = &f->kernels[f->n_kernels - 1];
    int passes = k->sched.row_passes;
    if (passes > 0) {
        assert_int_equal(k->sched.stream_prefetch, 0);
        assert_true(k->sched.prefetch.slot < 0);
        assert_true(k->sched.row_pass_node >= 0);
    } else {
        assert_int_equal(k->sched.row_pass_node, -1);
    }
    lc_fused_free(f);
    return passes;
}

static void test_decision(void **state) {
    (void)state;
    lc_shape big = {4, {2, 64, 256, 256}};  /* just 32 MiB read */
    lc_shape less = {4, {2, 64, 255, 256}}; /* a row less */
    const struct {
        const char *spec;
        int passes;
    } pools[] = {
        {"AvgPool2d(2)", 2},
        {"AvgPool2d(3, 2, 1, count_include_pad=False)", 3}, /* the mean divided by a count */
        {"LPPool2d(2, 2)", 2},                              /* the nested norm's outer sum */
        {"LPPool2d(2.7, (3, 2))", 3},
        {"MaxPool2d(3, 2, 1)", 3},
        {"MaxPool2d(2)", 2},
    };
    for (size_t i = 0; i < sizeof pools / sizeof pools[0]; i++) {
        if (row_passes_of(pools[i].spec, big, false) != pools[i].passes)
            fail_msg("%s: want %d row passes at 32 MiB", pools[i].spec, pools[i].passes);
        if (row_passes_of(pools[i].spec, less, false) != 0) fail_msg("%s: want none below 32 MiB", pools[i].spec);
        /* forward+backward: the last kernel a row tile or a window-major gather, never row passes */
        if (row_passes_of(pools[i].spec, big, true) != 0) fail_msg("%s: want none forward+backward", pools[i].spec);
    }
    /* MaxPool2d's forward+backward: its first kernel writes y and the chosen slots beside it,
     * both searches folded by row passes */
    lc_module *mp = jit_parse_module("MaxPool2d(3, 2, 1)");
    lc_fused *f2 = jit_fuse_module(mp, big, true);
    assert_int_equal(f2->n_kernels, 2);
    assert_true(f2->kernels[0].co_beside);
    assert_int_equal(f2->kernels[0].sched.row_passes, 3);
    assert_true(f2->kernels[0].sched.row_pass_co_node >= 0);
    assert_int_equal(f2->kernels[0].sched.stream_prefetch, 0);
    /* y is the running maximum of the slots' search, not searched again (nor its partial
     * results kept in a row of their own) */
    assert_true(f2->kernels[0].sched.root_from_co_search);
    lc_fused_free(f2);
    /* ... and so in the caches, without row passes; the forward alone has no search to take it from */
    f2 = jit_fuse_module(jit_parse_module("MaxPool2d(3, 2, 1)"), less, true);
    assert_int_equal(f2->kernels[0].sched.row_passes, 0);
    assert_true(f2->kernels[0].sched.root_from_co_search);
    lc_fused_free(f2);
    f2 = jit_fuse_module(jit_parse_module("MaxPool2d(3, 2, 1)"), big, false);
    assert_false(f2->kernels[0].sched.root_from_co_search);
    lc_fused_free(f2);
    /* a 1-D pool's windows lie along its rows */
    assert_int_equal(row_passes_of("AvgPool1d(4)", test_shape3(1, 2, LC_ROW_PREFETCH_MAX_READ_BYTES / 8), false), 0);
    /* input rows from LC_ROW_PASS_MIN_INPUT_ROW_BYTES up to less than
     * LC_ROW_PASS_MAX_INPUT_ROW_BYTES (each of these reads 32 MiB) */
    _Static_assert(LC_ROW_PASS_MIN_INPUT_ROW_BYTES == 512 && LC_ROW_PASS_MAX_INPUT_ROW_BYTES == 2048,
                   "the widths below straddle the bounds");
    const struct {
        lc_shape in;
        int passes;
    } widths[] = {
        {{4, {8, 64, 256, 64}}, 0},   /* 256 B */
        {{4, {8, 34, 256, 124}}, 0},  /* 496 B */
        {{4, {4, 64, 256, 128}}, 2},  /* 512 B */
        {{4, {1, 64, 258, 510}}, 2},  /* 2040 B */
        {{4, {1, 64, 256, 512}}, 0},  /* 2 KiB */
        {{4, {1, 64, 128, 1024}}, 0}, /* a page */
    };
    for (size_t i = 0; i < sizeof widths / sizeof widths[0]; i++)
        if (row_passes_of("AvgPool2d(2)", widths[i].in, false) != widths[i].passes)
            fail_msg("rows of %lld floats: want %d row passes", (long long)widths[i].in.dim[3], widths[i].passes);
    /* float64 rows of 64 elements are 512 B */
    lc_fused *f = NULL;
    lc_module *m = jit_parse_module("AvgPool2d(2)");
    lc_graph *g = jit_module_graph(m, LC_F64, (lc_shape){4, {4, 64, 256, 64}}, false);
    assert_ok(lc_fuse(g, &f));
    assert_int_equal(f->kernels[0].sched.row_passes, 2);
    lc_fused_free(f);
    lc_graph_free(g);
    lc_module_free(m);
}

/* The dump says so; a target that takes the stream prefetch with row passes
 * (lc_fuse_target.prefetch_row_passes: AVX2 hosts) gets both, and the dump says that. */
static void test_dump(void **state) {
    (void)state;
    lc_module *m = jit_parse_module("MaxPool2d(3, 2, 1)");
    lc_graph *g = jit_module_graph(m, LC_F32, (lc_shape){4, {2, 64, 256, 256}}, false);
    for (int prefetch = 0; prefetch < 2; prefetch++) {
        lc_fuse_target t = {.core_cache_bytes = 512 << 10, .prefetch_row_passes = prefetch};
        lc_fused *f;
        assert_ok(lc_fuse_for(g, &t, &f));
        assert_int_equal(f->kernels[0].sched.row_passes, 3);
        assert_int_equal(f->kernels[0].sched.stream_prefetch > 0, prefetch);
        char *text = jit_fused_text(f);
        bool passes = strstr(text, "row passes: the vectorized loop runs once per window row of %4 (3)");
        bool says = strstr(text, prefetch ? "in address order; the stream prefetch below ahead of them"
                                          : "in address order; no prefetch");
        bool streams = strstr(text, "stream prefetch: 4096 bytes ahead");
        if (!passes || !says || streams != (prefetch == 1) || strstr(text, "  prefetch:"))
            fail_msg("want row passes and %s in:\n%s", prefetch ? "the stream prefetch" : "no prefetch", text);
        free(text);
        lc_fused_free(f);
    }
    lc_graph_free(g);
    lc_module_free(m);
}

/* The elements of t: U(-1, 1) rounded to tenths (ties) and 2 % zeros of either sign; with
 * `special`, one in 10^4 each of values whose sums overflow, tiny ones whose LP sums leave the
 * normal range, infinities and NaNs. Without them no window is flagged, so every output is the
 * row passes' own; with them a flagged window sends its part of the run to the fix-up, which
 * computes that part again in its own loops (side by side), so those outputs test the
 * hand-over. */
static void fill_mixed(lc_tensor *t, uint64_t seed, bool special) {
    test_rng r = test_rng_seeded(seed);
    int64_t n = lc_shape_numel(&t->shape);
    for (int64_t i = 0; i < n; i++) {
        double u = test_rng_uniform(&r, 0, 1), s = test_rng_uniform(&r, 0, 1) < 0.5 ? -1 : 1, v;
        double huge = t->dtype == LC_F32 ? 3e38 : 1.7e308, tiny = t->dtype == LC_F32 ? 1e-30 : 1e-300;
        if (!special && u < 4e-4) u = 0.5;
        if (u < 1e-4) v = s * huge;
        else if (u < 2e-4) v = s * tiny * test_rng_uniform(&r, 1, 2);
        else if (u < 3e-4) v = s * INFINITY;
        else if (u < 4e-4) v = NAN;
        else if (u < 0.02) v = s * 0.0;
        else v = round(test_rng_uniform(&r, -1, 1) * 10) / 10;
        if (t->dtype == LC_F32) ((float *)t->data)[i] = (float)v;
        else ((double *)t->data)[i] = v;
    }
}

static lc_program *compile_pool(const char *spec, lc_dtype dt, lc_shape in, bool backward, int want_passes) {
    lc_module *m = jit_parse_module(spec);
    lc_graph *g = jit_module_graph(m, dt, in, backward);
    lc_fused *f;
    assert_ok(lc_fuse(g, &f));
    if (f->kernels[0].sched.row_passes != want_passes)
        fail_msg("%s at %lld planes: want %d row passes", spec, (long long)in.dim[1], want_passes);
    lc_fused_free(f);
    lc_compile_options o = lc_compile_options_default();
    o.threads = 2;
    o.tiered = false; /* the optimized code from the first run (a quick tier would run first) */
    lc_program *p;
    assert_ok(lc_compile(g, &o, &p));
    lc_graph_free(g);
    lc_module_free(m);
    return p;
}

/* Plane slice [p0, p0 + n) of t (planes on axis 1 of a (1, planes, ...) tensor) into s. */
static void copy_planes(lc_tensor *s, const lc_tensor *t, int64_t p0, int64_t planes) {
    size_t bytes = lc_tensor_nbytes(s), plane = lc_tensor_nbytes(t) / (size_t)planes;
    memcpy(s->data, (const char *)t->data + (size_t)p0 * plane, bytes);
}

/* `spec` over `planes` planes of h x w (row passes in its first kernel) against the same in
 * slices of `slice` planes (none): every output bit for bit; with `backward`, y and dx for a
 * random dy. */
static void check_bits_pass(const char *spec, lc_dtype dt, int64_t planes, int64_t slice, int64_t h, int64_t w,
                            int passes, uint64_t seed, bool backward) {
    lc_shape big = {4, {1, planes, h, w}}, small = {4, {1, slice, h, w}};
    lc_program *whole = compile_pool(spec, dt, big, backward, passes);
    lc_program *part = compile_pool(spec, dt, small, backward, 0);
    int nin = backward ? 2 : 1, nout = backward ? 2 : 1;
    lc_tensor *in[2] = {NULL, NULL}, *ins[2] = {NULL, NULL};
    assert_ok(lc_tensor_new(dt, big, &in[0]));
    assert_ok(lc_tensor_new(dt, small, &ins[0]));
    if (backward) { /* dy: y's shape, from a forward run of the slices' program's first output */
        lc_module *m = jit_parse_module(spec);
        lc_graph *g = jit_module_graph(m, dt, big, true);
        test_rng r = test_rng_seeded(seed + 100);
        in[1] = test_random_tensor(&r, dt, lc_graph_node(g, lc_graph_input(g, 1))->shape, 1.0);
        lc_graph_free(g);
        g = jit_module_graph(m, dt, small, true);
        assert_ok(lc_tensor_new(dt, lc_graph_node(g, lc_graph_input(g, 1))->shape, &ins[1]));
        lc_graph_free(g);
        lc_module_free(m);
    }
    assert_int_equal(planes % slice, 0);
    for (int special = 0; special <= 1; special++) {
        fill_mixed(in[0], seed, special);
        lc_tensor *out[2] = {NULL, NULL};
        assert_ok(lc_program_run(whole, (const lc_tensor *const *)in, nin, out, nout));
        for (int64_t p0 = 0; p0 < planes; p0 += slice) {
            for (int i = 0; i < nin; i++) copy_planes(ins[i], in[i], p0, planes);
            lc_tensor *outs[2] = {NULL, NULL};
            assert_ok(lc_program_run(part, (const lc_tensor *const *)ins, nin, outs, nout));
            for (int o = 0; o < nout; o++) {
                size_t plane = lc_tensor_nbytes(out[o]) / (size_t)planes;
                if (memcmp(outs[o]->data, (const char *)out[o]->data + (size_t)p0 * plane, lc_tensor_nbytes(outs[o])))
                    fail_msg("%s (%s%s): output %d, planes %lld.. differ from the side-by-side form", spec,
                             dt == LC_F32 ? "f32" : "f64", special ? ", special values" : "", o, (long long)p0);
                lc_tensor_free(outs[o]);
            }
        }
        for (int o = 0; o < nout; o++) lc_tensor_free(out[o]);
    }
    for (int i = 0; i < nin; i++) {
        lc_tensor_free(in[i]);
        lc_tensor_free(ins[i]);
    }
    lc_program_free(whole);
    lc_program_free(part);
}

static void check_bits(const char *spec, lc_dtype dt, int64_t planes, int64_t slice, int64_t h, int64_t w,
                       int passes, uint64_t seed) {
    check_bits_pass(spec, dt, planes, slice, h, w, passes, seed, false);
}

static void test_bits_square_rows(void **state) {
    (void)state;
    /* 128 planes of 256 x 256 float32, of 256 x 128 float64 (rows of 1 KiB): 32 MiB */
    check_bits("AvgPool2d(2)", LC_F32, 128, 8, 256, 256, 2, 1);
    check_bits("AvgPool2d(2)", LC_F64, 128, 8, 256, 128, 2, 2);
    check_bits("LPPool2d(2, 2)", LC_F32, 128, 8, 256, 256, 2, 3);
    check_bits("LPPool2d(2, 2)", LC_F64, 128, 8, 256, 128, 2, 4);
    check_bits("MaxPool2d(3, 2, 1)", LC_F32, 128, 8, 256, 256, 3, 5);
    check_bits("MaxPool2d(3, 2, 1)", LC_F64, 128, 8, 256, 128, 3, 6);
}

static void test_bits_odd_rows(void **state) {
    (void)state;
    /* rows of 131 (edges, remainders, padding at both ends), 980 planes of 66 x 131: 32 MiB */
    check_bits("AvgPool2d(3, 2, 1, count_include_pad=False)", LC_F32, 980, 49, 66, 131, 3, 7);
    check_bits("MaxPool2d(3, 2, 1, ceil_mode=True)", LC_F32, 980, 49, 66, 131, 3, 8);
    check_bits("LPPool2d(2.7, (3, 2))", LC_F32, 980, 49, 66, 131, 3, 9);
    check_bits("MaxPool2d(2)", LC_F32, 980, 49, 66, 131, 2, 10);
}

/* MaxPool2d's forward+backward, whose first kernel folds y and the chosen slots by row
 * passes: y and dx. */
static void test_bits_slots(void **state) {
    (void)state;
    check_bits_pass("MaxPool2d(3, 2, 1)", LC_F32, 128, 8, 256, 256, 3, 11, true);
    check_bits_pass("MaxPool2d(3, 2, 1, ceil_mode=True)", LC_F32, 980, 49, 66, 131, 3, 12, true);
    check_bits_pass("MaxPool2d(2)", LC_F64, 128, 8, 256, 128, 2, 13, true);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decision),
        cmocka_unit_test(test_dump),
        cmocka_unit_test(test_bits_square_rows),
        cmocka_unit_test(test_bits_odd_rows),
        cmocka_unit_test(test_bits_slots),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
