/* The schedule fuse records on each kernel (passes/kernel.h, lc_schedule) and codegen follows:
 * loop order and block form of a fold, whole-block splitting, how each reduction runs, which
 * LP norms are scaled, and the cost estimate that saturates instead of overflowing. Each
 * expectation is derived from the pool's parameters here, not read back from fuse. */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/codegen.h"
#include "jit_harness.h"
#include "lucid/passes.h"
#include "lucid/train.h"
#include "passes/kernel.h"

/* The kernel whose root is an op `op` node; fails when there is none. */
static const lc_kernel *kernel_rooted_at(const lc_fused *f, lc_op op) {
    for (int k = 0; k < f->n_kernels; k++)
        if (lc_graph_node(f->graph, f->kernels[k].root)->op == op) return &f->kernels[k];
    fail_msg("no kernel rooted at a %s", lc_op_get_info(op)->name);
    return NULL;
}

static const lc_reduction_schedule *reduction_of(const lc_fused *f, const lc_kernel *k, lc_op op) {
    for (int i = 0; i < k->sched.n_reductions; i++)
        if (lc_graph_node(f->graph, k->sched.reductions[i].node)->op == op) return &k->sched.reductions[i];
    fail_msg("no %s reduction in the kernel", lc_op_get_info(op)->name);
    return NULL;
}

/* LPPool1d(2, 4) backward on a length the windows tile: one window-major kernel, unrolled
 * blocks of 4, split at whole windows, the forward written once per window; the plain norm. */
static void test_tiling_pool_backward(void **state) {
    (void)state;
    lc_fused *f = jit_fuse_module(test_lppool(2, 4, LC_STRIDE_UNSET, false), test_shape3(1, 2, 16), true);
    assert_int_equal(f->n_kernels, 1);
    const lc_kernel *k = &f->kernels[0];
    assert_int_equal(k->sched.order, LC_LOOP_WINDOWS);
    assert_int_equal(k->sched.block, LC_BLOCK_UNROLLED);
    assert_true(k->sched.whole_blocks);
    assert_int_equal(k->align, 4);
    assert_true(k->co_root >= 0);
    const lc_reduction_schedule *sum = reduction_of(f, k, LC_OP_SUM);
    assert_int_equal(sum->terms, 4);
    assert_true(sum->unrolled);
    assert_int_equal(reduction_of(f, k, LC_OP_FOLD)->terms, 1); /* ceil(4 / 4) */
    assert_int_equal(k->sched.n_lp_norms, 1);
    assert_true(k->sched.lp_norms[0].norm.p == 2.0);
    assert_int_equal(k->sched.lp_norms[0].norm.root, k->co_root);
    assert_int_equal(k->sched.lp_norms[0].mode, LC_LP_FLAGGED);
    assert_true(k->sched.fixup);
    lc_fused_free(f);

    /* 17 is not a multiple of 4: whole blocks in the middle, element edges around them */
    f = jit_fuse_module(test_lppool(2, 4, LC_STRIDE_UNSET, false), test_shape3(1, 2, 17), true);
    k = &f->kernels[0];
    assert_int_equal(k->sched.order, LC_LOOP_WINDOWS);
    assert_false(k->sched.whole_blocks);
    assert_int_equal(k->align, 1);
    lc_fused_free(f);
}

/* Windows longer than LC_UNROLL_MAX that do not overlap: window-major over the window's slots,
 * and the sum as vector partial sums. */
static void test_long_windows(void **state) {
    (void)state;
    lc_fused *f = jit_fuse_module(test_lppool(2, 64, LC_STRIDE_UNSET, false), test_shape3(1, 2, 136), true);
    const lc_kernel *k = kernel_rooted_at(f, LC_OP_FOLD);
    assert_int_equal(k->sched.order, LC_LOOP_WINDOWS);
    assert_int_equal(k->sched.block, LC_BLOCK_SLOT_LOOPS);
    assert_false(k->sched.whole_blocks); /* 136 = 2·64 + 8 */
    const lc_reduction_schedule *sum = reduction_of(f, k, LC_OP_SUM);
    assert_int_equal(sum->terms, 64);
    assert_false(sum->unrolled);
    lc_fused_free(f);
}

/* Overlapping windows whose blocks would unroll 2 x 20 windows: the fold stays element-major
 * and its gather of 20 windows runs as partial sums. */
static void test_overlapping_long_windows(void **state) {
    (void)state;
    lc_fused *f = jit_fuse_module(test_avgpool(40, 2, 0, false, true), test_shape3(1, 2, 100), true);
    const lc_kernel *k = kernel_rooted_at(f, LC_OP_FOLD);
    assert_int_equal(k->sched.order, LC_LOOP_ELEMENTS);
    assert_false(k->sched.whole_blocks);
    assert_int_equal(k->align, 1);
    const lc_reduction_schedule *gather = reduction_of(f, k, LC_OP_FOLD);
    assert_int_equal(gather->terms, 20);
    assert_false(gather->unrolled);
    const lc_reduction_schedule *mean = reduction_of(f, kernel_rooted_at(f, LC_OP_MEAN), LC_OP_MEAN);
    assert_int_equal(mean->terms, 40);
    assert_false(mean->unrolled);
    lc_fused_free(f);
}

/* p far from 1 is always scaled (both sides of [1/8, 8]); p inside is plain, flagged. */
static void test_lp_scaling(void **state) {
    (void)state;
    const double ps[] = {60, 8.5, 0.05, 8, 0.125, 2.5};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
        lc_fused *f = jit_fuse_module(test_lppool(ps[i], 3, LC_STRIDE_UNSET, false), test_shape3(1, 2, 12), false);
        assert_int_equal(f->n_kernels, 1);
        const lc_kernel *k = &f->kernels[0];
        assert_int_equal(k->sched.n_lp_norms, 1);
        const lc_lp_schedule *lp = lc_kernel_lp_norm(k, k->root);
        assert_non_null(lp);
        assert_true(lp->norm.p == ps[i]);
        bool far = ps[i] > 8 || ps[i] < 0.125;
        lc_lp_mode want = far ? LC_LP_SCALED : LC_LP_FLAGGED;
        if (lp->mode != want) fail_msg("p = %g: mode %d, expected %d", ps[i], (int)lp->mode, (int)want);
        assert_true(k->sched.fixup == !far);
        lc_fused_free(f);
    }
}

/* The scaled form bypasses the sum, so a norm whose sum is also an output stays plain. */
static void test_lp_with_materialized_sum(void **state) {
    (void)state;
    lc_graph *g;
    int x, u, a, t, s, y;
    assert_ok(lc_graph_new(&g));
    assert_ok(lc_input(g, "x", LC_F32, test_shape3(1, 2, 12), &x));
    assert_ok(lc_unfold(g, x, 2, 3, 3, 0, 0, &u));
    assert_ok(lc_abs(g, u, &a));
    assert_ok(lc_pow(g, a, 60, &t));
    assert_ok(lc_sum(g, t, 3, &s));
    assert_ok(lc_pow(g, s, 1.0 / 60, &y));
    assert_ok(lc_graph_add_output(g, y));
    assert_ok(lc_graph_add_output(g, s));
    lc_fused *f;
    assert_ok(lc_fuse(g, &f));
    const lc_kernel *k = kernel_rooted_at(f, LC_OP_POW);
    const lc_lp_schedule *lp = lc_kernel_lp_norm(k, y);
    assert_non_null(lp);
    assert_int_equal(lp->norm.sum, s);
    assert_int_equal(lp->mode, LC_LP_PLAIN);
    assert_false(k->sched.fixup);
    lc_fused_free(f);
    lc_graph_free(g);
}

/* The loads-per-element estimate multiplies through windows of 2^63 - 2 (a fuzz finding: the
 * product overflowed int64); it saturates at INT64_MAX and the kernel still compiles. */
static void test_cost_saturates(void **state) {
    (void)state;
    lc_module *seq;
    assert_ok(lc_sequential_new(&seq));
    assert_ok(lc_sequential_append(seq, test_avgpool(4, LC_STRIDE_UNSET, 0, true, false)));
    assert_ok(lc_sequential_append(seq, test_lppool(100, INT64_MAX - 1, LC_STRIDE_UNSET, true)));
    lc_graph *g = jit_module_graph(seq, LC_F64, test_shape3(1, 1, 4), true);
    lc_fused *f;
    assert_ok(lc_fuse(g, &f));
    assert_int_equal(f->n_kernels, 1);
    assert_true(f->kernels[0].cost == INT64_MAX);
    lc_fused_free(f);
    lc_graph_free(g);
    lc_module_free(seq);
}

/* The affine form of an unfold's position o·step - pad_lo + j, which bounds-check elision
 * reads: exact for ordinary windows, and refused (the check is kept) where a coefficient
 * would leave int64 (a fuzz finding: 3 · (2^63 - 2) in codegen). */
static void test_window_position_affine(void **state) {
    (void)state;
    lc_affine o = {1, -2, 0, 0}, j = {0, 0, 0, 3}, pos;
    assert_true(lc_window_position_affine(&o, &j, 3, 1, 1, &pos));
    assert_int_equal(pos.ci, 3);  /* 3·i */
    assert_int_equal(pos.k, -7);  /* -2·3 - 1 */
    assert_int_equal(pos.rlo, 0);
    assert_int_equal(pos.rhi, 3); /* j's slots */
    /* the window's offset alone overflows: 3 · (2^63 - 2) */
    lc_affine o3 = {0, 3, 0, 0};
    assert_false(lc_window_position_affine(&o3, &j, INT64_MAX - 1, 0, 1, &pos));
    /* the loop coefficient overflows */
    lc_affine o2 = {2, 0, 0, 0};
    assert_false(lc_window_position_affine(&o2, &j, INT64_MAX / 2 + 1, 0, 1, &pos));
    /* subtracting pad_lo overflows */
    lc_affine o1 = {0, -1, 0, 0};
    assert_false(lc_window_position_affine(&o1, &j, INT64_MAX, 2, 1, &pos));
    /* the largest step that fits is still exact */
    assert_true(lc_window_position_affine(&o1, &j, INT64_MAX, 1, 1, &pos));
    assert_true(pos.k == INT64_MIN);
    /* dilation scales the slot's part: o·3 - 1 + 2·j, j in [0, 3] */
    assert_true(lc_window_position_affine(&o, &j, 3, 1, 2, &pos));
    assert_int_equal(pos.ci, 3);
    assert_int_equal(pos.k, -7);
    assert_int_equal(pos.rhi, 6);
    /* a slot range times a dilation near 2^63 leaves int64: refused */
    assert_false(lc_window_position_affine(&o, &j, 3, 1, INT64_MAX / 2, &pos));
    /* a slot coefficient times the dilation overflows */
    lc_affine jj = {2, 0, 0, 0};
    assert_false(lc_window_position_affine(&o, &jj, 1, 0, INT64_MAX / 2 + 1, &pos));
}

/* The fused graph of the default pipeline (simplify's stable LP backward included). */
static lc_fused *fuse_pipeline(lc_module *m, lc_shape in) {
    lc_graph *fwd = jit_module_graph(m, LC_F32, in, false), *g;
    assert_ok(lc_pipeline_run_default(fwd, true, NULL, &g));
    lc_fused *f;
    assert_ok(lc_fuse(g, &f));
    lc_graph_free(fwd);
    lc_graph_free(g);
    lc_module_free(m);
    return f;
}

/* The LP backward's (|x|/y)^(p-1) is scheduled where the fix-up needs it: bare (e = 1) for
 * p = 2 beside its flagged norm (the co-root), and for 1 < p < 2 with y read from a buffer
 * (overlapping windows), where only an underflowed quotient is redone. */
static void test_lp_ratio(void **state) {
    (void)state;
    lc_fused *f = fuse_pipeline(test_lppool(2, 4, LC_STRIDE_UNSET, false), test_shape3(1, 2, 16));
    assert_int_equal(f->n_kernels, 1);
    const lc_kernel *k = &f->kernels[0];
    assert_int_equal(k->sched.n_lp_ratios, 1);
    const lc_lp_ratio_schedule *r = &k->sched.lp_ratios[0];
    assert_true(r->norm_inline);
    assert_int_equal(r->norm, k->co_root);
    assert_true(r->e == 1.0);
    assert_int_equal(r->node, r->ratio);
    assert_true(k->sched.fixup);
    lc_fused_free(f);

    /* windows overlapping two deep: y is the fold kernel's co-root, evaluated inline for
     * both covering windows */
    f = fuse_pipeline(test_lppool(1.5, 4, 2, false), test_shape3(1, 2, 16));
    assert_int_equal(f->n_kernels, 1);
    k = &f->kernels[0];
    /* 8 blocks of 2 tile the row; the 8th has no window (7): it writes none, in the scalar
     * loop, and no position goes element by element */
    assert_true(k->sched.whole_blocks);
    assert_int_equal(k->align, 2);
    assert_int_equal(k->sched.n_lp_ratios, 2); /* |x|/y and its power, as for windows apart */
    for (int i = 0; i < 2; i++) {
        r = &k->sched.lp_ratios[i];
        assert_true(r->norm_inline);
        assert_int_equal(r->norm, k->co_root);
        assert_true(r->e == (lc_graph_node(f->graph, r->node)->op == LC_OP_POW ? 0.5 : 1.0));
    }
    assert_true(k->sched.fixup);
    lc_fused_free(f);

    /* three deep: y is written by a kernel of its own and read back */
    f = fuse_pipeline(test_lppool(1.5, 6, 2, false), test_shape3(1, 2, 16));
    assert_int_equal(f->n_kernels, 2);
    k = kernel_rooted_at(f, LC_OP_FOLD);
    assert_int_equal(k->co_root, -1);
    assert_int_equal(k->sched.n_lp_ratios, 1);
    r = &k->sched.lp_ratios[0];
    assert_false(r->norm_inline);
    assert_true(r->e == 0.5);
    assert_int_equal(lc_graph_node(f->graph, r->node)->op, LC_OP_POW);
    assert_true(k->sched.fixup);
    lc_fused_free(f);
}

/* The sum over output channels in a convolution's input gradient (a sum of the product of
 * two broadcasts), found in any kernel; its terms are the out_channels. */
static const lc_reduction_schedule *channel_sum(const lc_fused *f, int64_t terms) {
    for (int k = 0; k < f->n_kernels; k++)
        for (int i = 0; i < f->kernels[k].sched.n_reductions; i++) {
            const lc_reduction_schedule *rs = &f->kernels[k].sched.reductions[i];
            const lc_node *n = lc_graph_node(f->graph, rs->node);
            if (n->op == LC_OP_SUM && rs->terms == terms && lc_graph_node(f->graph, n->inputs[0])->op == LC_OP_MUL)
                return rs;
        }
    fail_msg("no channel sum of %" PRId64 " terms", terms);
    return NULL;
}

/* Conv1d -> AvgPool1d backward: the input gradient's sum over output channels unrolls up to
 * LC_CONTRACTION_UNROLL_MAX terms (20 here; 70 stays partial sums), and the pool's gradient
 * (a fold) that the conv's backward unfolds into channel groups is materialized, once, for
 * the kernels of dx, dW and db. Values against the interpreter, bit-identical across thread
 * counts. */
static void test_conv_backward_contraction(void **state) {
    (void)state;
    const int64_t outs[2] = {20, 70};
    for (int i = 0; i < 2; i++) {
        char spec[96];
        snprintf(spec, sizeof spec, "Conv1d(3, %" PRId64 ", 3, padding=1)\nAvgPool1d(2)\n", outs[i]);
        lc_module *m;
        assert_ok(lc_model_parse(spec, "test", &m));
        lc_shape in = test_shape3(2, 3, 10);
        lc_graph *g = jit_module_graph(m, LC_F32, in, true);
        lc_fused *f;
        assert_ok(lc_fuse(g, &f));
        const lc_reduction_schedule *rs = channel_sum(f, outs[i]);
        assert_int_equal(rs->unrolled, outs[i] <= LC_CONTRACTION_UNROLL_MAX);
        int folds_materialized = 0;
        for (int n = 0; n < lc_graph_node_count(f->graph); n++) {
            const lc_node *x = lc_graph_node(f->graph, n);
            if (x->op == LC_OP_UNFOLD && lc_graph_node(f->graph, x->inputs[0])->op == LC_OP_FOLD)
                folds_materialized += f->node_slot[x->inputs[0]] >= 0;
        }
        assert_int_equal(folds_materialized, 1);
        lc_fused_free(f);
        jit_check_graph(g, 40 + (uint64_t)i, 3.0);
        lc_graph_free(g);
        lc_module_free(m);
    }
}

/* One case of the tables below: its module, graph and fused stage. */
typedef struct fused_case {
    lc_module *m;
    lc_graph *g;
    lc_fused *f;
} fused_case;

static fused_case fused_case_start(const char *spec, lc_shape in, lc_dtype dt, bool backward) {
    fused_case fc;
    assert_ok(lc_model_parse(spec, "test", &fc.m));
    fc.g = jit_module_graph(fc.m, dt, in, backward);
    assert_ok(lc_fuse(fc.g, &fc.f));
    return fc;
}

/* The case's values against the interpreter (jit_check_graph), then everything freed. */
static void fused_case_finish(fused_case *fc, uint64_t seed) {
    lc_fused_free(fc->f);
    jit_check_graph(fc->g, seed, 3.0);
    lc_graph_free(fc->g);
    lc_module_free(fc->m);
}

/* The weight gradient's sum over the output positions l (vector partial sums; the sum over n
 * inside it is unrolled): its first and last trip run apart (peeled) where the terms read the
 * conv's padding, and not where the conv has none or the sum is too short for a middle trip. */
static void test_conv_weight_gradient_peeled(void **state) {
    (void)state;
    const struct { const char *spec; int64_t n, len, out_len; bool peeled; } cases[] = {
        {"Conv1d(3, 4, 3, padding=1)\n", 2, 64, 64, true},  /* 4 trips of 16 */
        {"Conv1d(3, 4, 3)\n", 2, 66, 64, false},            /* no padding */
        {"Conv1d(3, 4, 3, padding=1)\n", 2, 40, 40, false}, /* 2 trips: nothing between */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        fused_case fc = fused_case_start(cases[c].spec, test_shape3(cases[c].n, 3, cases[c].len), LC_F32, true);
        const lc_fused *f = fc.f;
        int partial = 0;
        for (int k = 0; k < f->n_kernels; k++)
            for (int i = 0; i < f->kernels[k].sched.n_reductions; i++) {
                const lc_reduction_schedule *rs = &f->kernels[k].sched.reductions[i];
                if (rs->unrolled || rs->terms != cases[c].out_len) continue;
                if (lc_graph_node(f->graph, rs->node)->shape.rank != 4) continue; /* dW's, not db's */
                assert_int_equal(rs->peeled, cases[c].peeled);
                partial++;
            }
        assert_int_equal(partial, 1);
        fused_case_finish(&fc, 50 + (uint64_t)c);
    }
}

/* The kernel that writes graph output `out`. */
static const lc_kernel *kernel_writing(const lc_fused *f, int out) {
    for (int k = 0; k < f->n_kernels; k++)
        if (f->kernels[k].dst_slot == lc_slot_output(f, out)) return &f->kernels[k];
    fail_msg("no kernel writes output %d", out);
    return NULL;
}

/* The rows a trip computes together (lc_schedule.tile_rows), from the channels alone: the
 * largest of 4, 2, 1 dividing them, on rows of at least LC_TILE_ROW_MIN positions. */
static int64_t expected_tile(int64_t channels, int64_t row) {
    if (row < LC_TILE_ROW_MIN) return 1;
    int64_t t = LC_TILE_ROWS_MAX;
    while (t > 1 && channels % t != 0) t /= 2;
    return t;
}

/* A convolution's forward computes tile_rows output channels per trip and its input
 * gradient tile_rows input channels, split at whole tiles; odd channel counts (1, 3, 5, 17),
 * groups, dilation, stride and padding give the tile the channels allow (1 where none
 * divides), and the values match the interpreter's in f32 and f64, bit-identical on 1-3
 * threads (jit_check_graph). */
static void test_conv_row_tiles(void **state) {
    (void)state;
    const struct { const char *spec; int64_t n, in, len, out, out_len; } cases[] = {
        {"Conv1d(4, 1, 3, padding=1)\n", 2, 4, 64, 1, 64},
        {"Conv1d(2, 3, 3, stride=2, padding=2, dilation=2)\n", 1, 2, 160, 3, 80},
        {"Conv1d(5, 5, 3, padding=1, groups=5)\n", 1, 5, 70, 5, 70},
        {"Conv1d(2, 17, 5, padding=2)\n", 1, 2, 64, 17, 64},
        {"Conv1d(4, 6, 3, padding=1, groups=2)\n", 1, 4, 96, 6, 96},
        {"Conv1d(3, 8, 3, dilation=3)\n", 2, 3, 70, 8, 64},
        {"Conv1d(4, 8, 3)\n", 2, 4, 16, 8, 14}, /* rows too short to tile */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (int dt = 0; dt < 2; dt++) {
            lc_shape in = test_shape3(cases[c].n, cases[c].in, cases[c].len);
            fused_case fc = fused_case_start(cases[c].spec, in, dt ? LC_F64 : LC_F32, false);
            const lc_kernel *k = kernel_writing(fc.f, 0);
            int64_t tile = expected_tile(cases[c].out, cases[c].out_len);
            assert_int_equal(k->sched.tile_rows, tile);
            if (tile > 1) assert_int_equal(k->align, tile * cases[c].out_len);
            fused_case_finish(&fc, 60 + c);
        }
    }
    /* the bench's conv -> pool backward: the window-major kernel (y, the pool's gradient)
     * tiles 4 output channels, dx 4 input channels; dW, a reduction, is not tiled */
    fused_case fc = fused_case_start("Conv1d(16, 32, 3, padding=1)\nAvgPool1d(2)\n", test_shape3(2, 16, 128), LC_F32,
                                     true);
    const lc_fused *f = fc.f;
    const lc_kernel *dx = kernel_writing(f, 1);
    assert_int_equal(dx->sched.tile_rows, 4);
    assert_int_equal(dx->align, 4 * 128);
    assert_int_equal(kernel_writing(f, 2)->sched.tile_rows, 1);
    int window_major_tiled = 0;
    for (int k = 0; k < f->n_kernels; k++)
        if (f->kernels[k].sched.order == LC_LOOP_WINDOWS) {
            assert_int_equal(f->kernels[k].sched.tile_rows, 4);
            assert_int_equal(f->kernels[k].align, 4 * 128);
            assert_true(f->kernels[k].co_root >= 0);
            window_major_tiled++;
        }
    assert_int_equal(window_major_tiled, 1);
    fused_case_finish(&fc, 70);
}

/* The weight gradient's kernel of a convolution with 2-4 taps computes a whole row of taps per
 * trip (lc_schedule.tile_cols), its sum over the output positions in one loop with one
 * accumulator per tap, split at whole rows; with more taps, a short sum (unrolled) or a batch
 * over LC_CONTRACTION_UNROLL_MAX (a second partial sum), not. Its partial sums take their
 * terms as vectors (vector_terms) with or without the tile, strided and dilated too (lanes
 * gathered there).
 * Values against the interpreter in f32 and f64, bit-identical on 1-3 threads. */
static void test_conv_weight_gradient_tiles(void **state) {
    (void)state;
    const struct { const char *spec; int64_t n, in, len, k, out_len; } cases[] = {
        {"Conv1d(3, 4, 3, padding=1)\n", 2, 3, 64, 3, 64},
        {"Conv1d(2, 3, 2)\n", 2, 2, 65, 2, 64},
        {"Conv1d(2, 2, 4, padding=1)\n", 1, 2, 67, 4, 66},
        {"Conv1d(2, 3, 5, padding=2)\n", 2, 2, 64, 5, 64},             /* 5 taps: no tile */
        {"Conv1d(2, 4, 3, stride=2, padding=1)\n", 2, 2, 96, 3, 48},   /* lanes 2 apart in x */
        {"Conv1d(4, 4, 3, padding=2, dilation=2, groups=2)\n", 1, 4, 70, 3, 70},
        {"Conv1d(2, 3, 3, padding=1)\n", 2, 2, 16, 3, 16},             /* 16 terms: unrolled */
        {"Conv1d(2, 3, 3, padding=1)\n", 65, 2, 40, 3, 40},            /* batch 65: two partial sums */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (int dt = 0; dt < 2; dt++) {
            lc_shape in = test_shape3(cases[c].n, cases[c].in, cases[c].len);
            fused_case fc = fused_case_start(cases[c].spec, in, dt ? LC_F64 : LC_F32, true);
            const lc_kernel *k = kernel_writing(fc.f, 2); /* outputs: y, dx, dW, db */
            bool partial = cases[c].out_len > LC_UNROLL_MAX;
            bool tiled = partial && cases[c].n <= LC_CONTRACTION_UNROLL_MAX && cases[c].k >= 2 &&
                         cases[c].k <= LC_TILE_COLS_MAX;
            if (k->sched.tile_cols != (tiled ? cases[c].k : 1))
                fail_msg("%s n=%" PRId64 ": tile_cols %d", cases[c].spec, cases[c].n, k->sched.tile_cols);
            if (tiled) assert_int_equal(k->align, cases[c].k);
            int over_positions = 0;
            for (int i = 0; i < k->sched.n_reductions; i++) {
                const lc_reduction_schedule *rs = &k->sched.reductions[i];
                if (rs->terms != cases[c].out_len || rs->unrolled) continue;
                over_positions++;
                /* with a batch over 64 the terms hold a partial sum: not vector terms */
                assert_int_equal(rs->vector_terms, cases[c].n <= LC_CONTRACTION_UNROLL_MAX);
                assert_int_equal(rs->col_axis >= 0, tiled);
            }
            assert_int_equal(over_positions, partial ? 1 : 0);
            fused_case_finish(&fc, 80 + c);
        }
    }
}

/* How many of kernel k's reductions take their inner sum over blocks of trips. */
static int blocked_sums(const lc_kernel *k) {
    int n = 0;
    for (int i = 0; i < k->sched.n_reductions; i++) n += k->sched.reductions[i].blocked_sum >= 0;
    return n;
}

/* A weight gradient whose batch rows lie a multiple of 4 KiB apart (x's batch stride C·L·4
 * bytes, dy's Cout·L·4) takes its sum over the batch term by term over blocks of trips
 * (lc_reduction_schedule.blocked_sum), where 8 or more of those rows share the cache sets;
 * other strides, and batches that are not a whole number of groups, keep the unblocked form.
 * Values against the interpreter, bit-identical on 1-3 threads. */
static void test_conv_weight_gradient_blocked(void **state) {
    (void)state;
    const struct { const char *spec; int64_t n, in, len; bool blocked; } cases[] = {
        {"Conv1d(4, 8, 3, padding=1)\n", 16, 4, 256, true},   /* x 4 KiB apart; one short block */
        {"Conv1d(1, 2, 3, padding=1)\n", 16, 1, 1024, true},  /* 62 middle trips: a block and a part */
        {"Conv1d(1, 2, 2)\n", 12, 1, 1025, true},             /* no padding (no peel); dy 8 KiB apart */
        {"Conv1d(4, 8, 3, padding=1)\n", 16, 4, 260, false},  /* rows 4160 bytes apart: spread over the sets */
        {"Conv1d(1, 2, 3, padding=1)\n", 10, 1, 1024, false}, /* 10 rows: not whole groups */
        {"Conv1d(1, 2, 3, padding=1)\n", 4, 1, 1024, false},  /* 4 rows fit the ways */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (int dt = 0; dt < 2; dt++) {
            lc_shape in = test_shape3(cases[c].n, cases[c].in, cases[c].len);
            fused_case fc = fused_case_start(cases[c].spec, in, dt ? LC_F64 : LC_F32, true);
            const lc_kernel *k = kernel_writing(fc.f, 2); /* outputs: y, dx, dW, db */
            int blocked = blocked_sums(k);
            for (int i = 0; i < k->sched.n_reductions; i++) {
                const lc_reduction_schedule *rs = &k->sched.reductions[i];
                if (rs->blocked_sum < 0) continue;
                const lc_reduction_schedule *inner = lc_kernel_reduction(k, rs->blocked_sum);
                assert_non_null(inner);
                assert_true(inner->unrolled && inner->terms == cases[c].n && rs->vector_terms);
            }
            /* f64 rows are twice as far apart: blocked wherever f32 is */
            if (blocked != (cases[c].blocked ? 1 : 0))
                fail_msg("%s n=%" PRId64 " len=%" PRId64 " %s: %d blocked sums", cases[c].spec, cases[c].n,
                         cases[c].len, dt ? "f64" : "f32", blocked);
            fused_case_finish(&fc, 90 + c);
        }
    }
}

/* A scratch buffer whose rows (runs of its last axis) would lie a multiple of 4 KiB apart is
 * laid out with rows one 64-byte line longer (lc_fused.row_pitch, LC_ROW_SET_BYTES): the
 * pool's gradient a convolution's backward materializes (dy, read across its output channels'
 * rows by the input gradient) and the 2-D max pool's row maxima and their gradient. Graph
 * inputs and outputs stay dense; the plan sizes the slot at the pitch; the weight gradient's and
 * the bias gradient's set tests see it (dy's batch rows, Cout·pitch·4 bytes apart, spread over
 * the sets where Cout·L·4 did not). Values against the interpreter, bit-identical on 1-3
 * threads (a padded layout changes addresses only). */
static void test_scratch_row_pitch(void **state) {
    (void)state;
    const struct {
        const char *spec;
        lc_dtype dt;
        int64_t dims[4];
        int rank;
        int64_t pitch; /* of every scratch buffer: 0 dense */
        int db_blocked; /* the bias gradient's sum over the batch blocked (-1: no such kernel) */
        int dw_blocked; /* the weight gradient's (x's batch rows, C·L·4 bytes apart, decide) */
    } cases[] = {
        /* dy f32[16,8,1024]: 4 KiB rows, padded to 1040; its batch rows then 33,280 bytes
         * apart, 8 offsets in 4 KiB, 2 rows in a set: the bias gradient no longer blocks */
        {"Conv1d(4, 8, 3, padding=1)\nAvgPool1d(2)\n", LC_F32, {16, 4, 1024}, 3, 1040, 0, 1},
        /* 4112-byte rows: spread already, dense; dy's batch rows 32,896 bytes apart (8 offsets) */
        {"Conv1d(4, 8, 3, padding=1)\nAvgPool1d(2)\n", LC_F32, {16, 4, 1028}, 3, 0, 0, 0},
        /* 2 KiB rows: not a multiple of 4 KiB, dense (the batch rows, 16 KiB apart, block) */
        {"Conv1d(4, 8, 3, padding=1)\nAvgPool1d(2)\n", LC_F32, {16, 4, 512}, 3, 0, 1, 1},
        /* f64 rows of 512: 4 KiB, padded by 8 elements; 32 output channels put the batch rows
         * 32 lines of 64 bytes past a 4 KiB multiple: 2 offsets, 8 rows in a set, still blocked */
        {"Conv1d(2, 32, 3, padding=1)\nAvgPool1d(2)\n", LC_F64, {16, 2, 512}, 3, 520, 1, 1},
        /* the 2-D max pool's chosen slots (written beside y, read by the backward's gather),
         * one byte each (lc_fused.byte_slot): f32[1,2,4,4096] in rows of 4 KiB, padded by a
         * line of bytes; f32[1,2,4,1024] in rows of 1 KiB (4 KiB as floats), dense */
        {"MaxPool2d(3, 2, 1)\n", LC_F32, {1, 2, 8, 8192}, 4, 4160, -1, -1},
        {"MaxPool2d(3, 2, 1)\n", LC_F32, {1, 2, 8, 2048}, 4, 0, -1, -1},
        {"MaxPool2d(3, 2, 1)\n", LC_F32, {1, 2, 8, 1000}, 4, 0, -1, -1},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        lc_module *m;
        assert_ok(lc_model_parse(cases[c].spec, "test", &m));
        lc_shape in = lc_shape_make(cases[c].rank, cases[c].dims);
        lc_graph *g = jit_module_graph(m, cases[c].dt, in, true);
        lc_fused *f;
        assert_ok(lc_fuse(g, &f));
        assert_ok(lc_plan(f));
        int scratch = 0;
        for (int slot = 0; slot < f->n_slots; slot++) {
            if (slot < f->n_inputs + f->n_outputs) {
                assert_int_equal(f->row_pitch[slot], 0); /* the caller's dense layout */
                continue;
            }
            const lc_scratch *sc = &f->scratch[slot - f->n_inputs - f->n_outputs];
            const lc_node *x = lc_graph_node(f->graph, sc->node);
            int64_t last = x->shape.dim[x->shape.rank - 1];
            int64_t want = cases[c].pitch ? cases[c].pitch : last;
            if (lc_fused_row_pitch(f, slot, &x->shape) != want)
                fail_msg("%s case %zu: scratch %d has rows of %" PRId64 ", want %" PRId64, cases[c].spec, c, slot,
                         lc_fused_row_pitch(f, slot, &x->shape), want);
            assert_int_equal(f->byte_slot[slot], strncmp(cases[c].spec, "MaxPool2d", 9) == 0);
            assert_int_equal(sc->start, f->byte_slot[slot] ? LC_BYTE_SLOT_MARGIN : 0);
            assert_int_equal(sc->bytes, lc_shape_numel(&x->shape) / last * want *
                                                (f->byte_slot[slot] ? 1 : (int64_t)lc_dtype_size(x->dtype)) +
                                            2 * sc->start);
            scratch++;
        }
        assert_true(scratch >= 1);
        if (cases[c].db_blocked >= 0) {
            const lc_kernel *db = kernel_writing(f, 3); /* outputs: y, dx, dW, db */
            assert_int_equal(blocked_sums(db), cases[c].db_blocked);
            assert_int_equal(blocked_sums(kernel_writing(f, 2)), cases[c].dw_blocked);
        }
        lc_fused_free(f);
        /* inputs in [-1, 1]: the sums over 48 terms that cancel to ~1e-3 stay within atol */
        jit_check_graph(g, 120 + c, 1.0);
        lc_graph_free(g);
        lc_module_free(m);
    }
}

/* The training step of the bench's model (Conv1d(16, 32, 3, padding=1) -> AvgPool1d(2),
 * MSELoss, SGD): its weight update, a kernel whose root adds the scaled weight gradient to the
 * weight, tiles the row of taps as the gradient alone does; the step's graph against the
 * interpreter, bit-identical on 1-3 threads. */
static void test_train_step_weight_tiles(void **state) {
    (void)state;
    lc_module *model, *mse;
    assert_ok(lc_model_parse("Conv1d(16, 32, 3, padding=1)\nAvgPool1d(2)\n", "test", &model));
    lc_mseloss_params mp = lc_mseloss_defaults();
    assert_ok(lc_mseloss_new(&mp, &mse));
    lc_train_options o = lc_train_options_default(0.01);
    o.interpret = true; /* only its graph is used */
    lc_train_step *step;
    assert_ok(lc_train_step_compile_module(model, mse, LC_F32, test_shape3(2, 16, 64), &o, &step));
    lc_graph *g;
    assert_ok(lc_pipeline_run_default(lc_train_step_graph(step), false, NULL, &g));
    lc_fused *f;
    assert_ok(lc_fuse(g, &f));
    /* outputs: y, the loss, the new weight, the new bias */
    const lc_kernel *k = kernel_writing(f, 2);
    assert_int_equal(lc_graph_node(f->graph, k->root)->op, LC_OP_ADD);
    assert_int_equal(k->sched.tile_cols, 3);
    assert_int_equal(k->align, 3);
    lc_fused_free(f);
    jit_check_graph(g, 90, 3.0);
    lc_graph_free(g);
    lc_train_step_free(step);
    lc_module_free(mse);
    lc_module_free(model);
}

/* The fused kernels of `spec` at `in`, forward or forward+backward. */
static lc_fused *fuse_spec(const char *spec, lc_shape in, bool backward) {
    lc_module *m = jit_parse_module(spec);
    return jit_fuse_module(m, in, backward);
}

/* How many materialized nodes (scratch slots) are reductions of op `op`. */
static int materialized_reductions(const lc_fused *f, lc_op op) {
    int count = 0;
    for (int n = 0; n < lc_graph_node_count(f->graph); n++)
        count += lc_graph_node(f->graph, n)->op == op && f->node_slot[n] >= f->n_inputs + f->n_outputs;
    return count;
}

/* A 2-D pool whose row windows overlap: the reduction of each input row is recomputed inline
 * (LC_ROW_WINDOW_INLINE_MAX) when both windows unroll and hold at most 64 slots together, so
 * the forward is one element-major kernel with both reductions unrolled; a backward (a fold
 * reading those windows) keeps the buffer, and so does a 9 x 9 window (81 slots). */
static void test_row_windows_inline(void **state) {
    (void)state;
    lc_shape in = lc_shape_make(4, (int64_t[]){1, 2, 15, 16});
    const char *one_kernel[] = {"MaxPool2d(3, 2, 1)", "AvgPool2d(3, 2, 1)", "MaxPool2d((8, 8), 1)"};
    for (size_t i = 0; i < sizeof one_kernel / sizeof one_kernel[0]; i++) {
        lc_fused *f = fuse_spec(one_kernel[i], in, false);
        if (f->n_kernels != 1) fail_msg("%s: %d kernels", one_kernel[i], f->n_kernels);
        const lc_kernel *k = &f->kernels[0];
        assert_int_equal(k->sched.order, LC_LOOP_ELEMENTS);
        assert_int_equal(k->sched.n_reductions, 2);
        for (int r = 0; r < 2; r++) assert_true(k->sched.reductions[r].unrolled);
        lc_fused_free(f);
    }
    lc_fused *f = fuse_spec("MaxPool2d(9, 2, 4)", in, false);
    assert_int_equal(f->n_kernels, 2);
    assert_int_equal(materialized_reductions(f, LC_OP_MAX), 1);
    lc_fused_free(f);
    /* with the backward, the row maxima stay inline too: the backward reads each window's
     * chosen slot (a sum over a max_mask), which y's kernel writes beside y, and dx is one
     * gather of g and the slots (grad_rules.c, lc_grad_max2d) */
    const char *two_kernels[] = {"MaxPool2d(3, 2, 1)", "MaxPool2d((3, 4), (2, 3), 1)"};
    for (size_t i = 0; i < sizeof two_kernels / sizeof two_kernels[0]; i++) {
        f = fuse_spec(two_kernels[i], in, true);
        if (f->n_kernels != 2) fail_msg("%s backward: %d kernels", two_kernels[i], f->n_kernels);
        assert_int_equal(materialized_reductions(f, LC_OP_MAX), 0);
        assert_int_equal(materialized_reductions(f, LC_OP_SUM), 1);
        assert_true(f->kernels[0].co_beside);
        assert_int_equal(lc_graph_node(f->graph, f->kernels[1].root)->op, LC_OP_FOLD);
        lc_fused_free(f);
    }
    /* a position in more than 2 windows per axis keeps the two masks (grad_rules.h) */
    f = fuse_spec("MaxPool2d(9, 2, 4)", in, true);
    assert_int_equal(materialized_reductions(f, LC_OP_MAX), 1);
    assert_int_equal(materialized_reductions(f, LC_OP_SUM), 0);
    lc_fused_free(f);
    /* along the last axis the rule does not apply: a pool of a pool whose windows overlap
     * there keeps the first pool's buffer */
    lc_module *m;
    assert_ok(lc_model_parse("MaxPool1d(2)\nMaxPool1d(3, 2, 1)\n", "test", &m));
    f = jit_fuse_module(m, test_shape3(1, 2, 16), false);
    assert_int_equal(f->n_kernels, 2);
    assert_int_equal(materialized_reductions(f, LC_OP_MAX), 1);
    lc_fused_free(f);
}

/* The sum over a max_mask's axis of max_mask(x) · v fuse schedules as the value carried with
 * the running maximum (lc_reduction_schedule.choice_mask) where v is finite everywhere: a
 * constant, either operand order, and MaxPool2d(3, 2, 1)'s two slot searches; not where v is
 * an input (inf · 0 would make the sum NaN) or a constant holding inf. Values against the
 * interpreter on windows with ties, NaN, +-inf and -inf alone: the first maximum (the first
 * NaN, slot 0 of a window of -inf) gives v there. */
static const char *const CHOICE_GRAPH =
    "graph {\n"
    "  %%0 = input \"x\" : f32[2,3,7,5]\n"
    "  %%1 = %s\n"
    "  %%2 = max_mask(%%0) dim=3 : f32[2,3,7,5]\n"
    "  %%3 = mul(%s) : f32[2,3,7,5]\n"
    "  %%4 = sum(%%3) dim=3 : f32[2,3,7]\n"
    "  output %%4\n"
    "}\n";

static void test_carried_choice(void **state) {
    (void)state;
    const struct { const char *v, *operands; bool carried; } cases[] = {
        {"constant [4, 1, 3, 0, 2] : f32[5]", "%2, %1", true},
        {"constant [4, 1, 3, 0, 2] : f32[5]", "%1, %2", true},
        {"constant [4, inf, 3, 0, 2] : f32[5]", "%2, %1", false},
        {"input \"v\" : f32[5]", "%2, %1", false},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char text[1024];
        snprintf(text, sizeof text, CHOICE_GRAPH, cases[c].v, cases[c].operands);
        lc_graph *g;
        assert_ok(lc_graph_parse(text, &g));
        lc_fused *f;
        assert_ok(lc_fuse(g, &f));
        assert_int_equal(f->n_kernels, 1);
        const lc_reduction_schedule *rs = reduction_of(f, &f->kernels[0], LC_OP_SUM);
        assert_int_equal(rs->choice_mask, cases[c].carried ? 2 : -1);
        if (cases[c].carried) assert_int_equal(rs->choice_values, 1);
        lc_fused_free(f);
        test_rng r = test_rng_seeded(90 + c);
        lc_tensor **in = jit_random_inputs(g, &r, 3.0);
        /* window w of x (5 slots each): ties, NaN first or later, +-inf, -inf alone */
        const double special[][5] = {{1, 2, 2, 0, 2}, {NAN, 3, NAN, 1, 0}, {0, 1, NAN, 2, NAN},
                                     {-INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY},
                                     {-1, INFINITY, 2, INFINITY, 0}, {-3, -3, -2, -2, -5}, {0, -0.0, 0, 0, 0}};
        int64_t windows = lc_tensor_numel(in[0]) / 5;
        for (int64_t w = 0; w < windows; w++)
            if (w % 3 != 0)
                for (int j = 0; j < 5; j++) lc_tensor_set(in[0], w * 5 + j, special[w % 7][j]);
        if (lc_graph_input_count(g) > 1) lc_tensor_set(in[1], 2, INFINITY);
        jit_check_graph_inputs(g, in, JIT_RTOL, JIT_ATOL);
        jit_free_tensors(in, lc_graph_input_count(g));
        lc_graph_free(g);
    }
    lc_fused *f = fuse_spec("MaxPool2d(3, 2, 1)", lc_shape_make(4, (int64_t[]){1, 2, 15, 16}), true);
    int carried = 0;
    for (int i = 0; i < f->kernels[0].sched.n_reductions; i++)
        carried += f->kernels[0].sched.reductions[i].choice_mask >= 0;
    assert_int_equal(carried, 2); /* the column chosen in each row, and the slot */
    lc_fused_free(f);
}

/* MSELoss sums its squared differences over each axis in turn into one element, a kernel that
 * runs on one thread: the largest inner sum of at least LC_SERIAL_SPLIT_MIN elements (over
 * the batch, (64, 128) here) is materialized so that its kernel splits, and below that size
 * nothing is. The loss against the interpreter, bit-identical on 1-3 threads. */
static void test_loss_sum_split(void **state) {
    (void)state;
    const struct { int64_t n, c, len; bool split; } cases[] = {{4, 64, 128, true}, {2, 16, 64, false}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lc_mseloss_params mp = lc_mseloss_defaults();
        lc_module *mse;
        assert_ok(lc_mseloss_new(&mp, &mse));
        lc_graph *g = jit_module_graph(mse, LC_F32, test_shape3(cases[i].n, cases[i].c, cases[i].len), false);
        lc_fused *f;
        assert_ok(lc_fuse(g, &f));
        assert_int_equal(f->n_kernels, cases[i].split ? 2 : 1);
        assert_int_equal(materialized_reductions(f, LC_OP_SUM), cases[i].split ? 1 : 0);
        if (cases[i].split)
            assert_int_equal(f->kernels[0].outer, cases[i].c * cases[i].len); /* the sum over the batch */
        lc_fused_free(f);
        jit_check_graph(g, 100 + i, 3.0);
        lc_graph_free(g);
        lc_module_free(mse);
    }
}

/* lc_schedule.whole_trips: rows that are whole multiples of the vectorized loop's trips (64 of
 * them where the row is a multiple of 64, else the multiple halved while more than an eighth
 * of the row would be left over, down to 8) make the outer range split only at multiples of
 * that many trips, so codegen emits no loop for trips left over. Two pools then run on 1, 2
 * and 3 threads against the interpreter, with rows a split cuts inside. */
static void test_whole_trips(void **state) {
    (void)state;
    struct {
        bool lp, backward;
        int64_t len, trips, align; /* the trips and the split expected, 0 and the old split when none */
    } cases[] = {
        {false, false, 4096, 64, 64},    /* AvgPool1d(4): rows of 1024 outputs */
        {false, false, 128, 32, 32},     /* 32 outputs: 64 would leave all of them over */
        {false, false, 4256, 0, 1},      /* 1064 outputs: 64 leaves 40 over, under an eighth */
        {true, false, 4096, 64, 64},     /* LPPool1d(2, 4), the same rows */
        {true, true, 4096, 64, 64 * 4},  /* its backward: 1024 blocks of 4 positions a row */
        {true, true, 16, 0, 4},          /* 4 blocks: whole windows only (test_tiling_pool_backward) */
        {false, true, 8192, 64, 64 * 4}, /* AvgPool1d(4) backward: 2048 blocks */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        lc_module *m = cases[c].lp ? test_lppool(2, 4, LC_STRIDE_UNSET, false)
                                   : test_avgpool(4, LC_STRIDE_UNSET, 0, false, true);
        lc_fused *f = jit_fuse_module(m, test_shape3(1, 2, cases[c].len), cases[c].backward);
        const lc_kernel *k = &f->kernels[f->n_kernels - 1];
        assert_int_equal(k->sched.whole_trips, cases[c].trips);
        assert_int_equal(k->align, cases[c].align);
        lc_fused_free(f);
    }
    /* 3 rows of 4352 positions (1088 blocks of the backward, 17 splits of 256): the pool
     * splits at multiples of 64 elements and of align, so 2 threads split the backward's 13056
     * positions at 6528, inside a row and, were align not 256, inside a multiple of 64 blocks */
    lc_module *pools[2] = {test_avgpool(4, LC_STRIDE_UNSET, 0, false, true),
                           test_lppool(2, 4, LC_STRIDE_UNSET, false)};
    for (int i = 0; i < 2; i++) {
        jit_check_module(pools[i], LC_F32, test_shape3(1, 3, 4352), 11 + (uint64_t)i, NULL, NULL);
        lc_module_free(pools[i]);
    }
}

/* The IR codegen emits for f's kernels (before LLVM's passes), in the quick tier or not. */
static char *emitted_ir(const lc_fused *f, bool quick) {
    lc_codegen_options o = {.opt_level = 3, .quick = quick, .want_llvm = true, .last_step = LC_CODEGEN_EMIT};
    lc_codegen_texts t = {0};
    lc_jit *jit = NULL;
    assert_int_equal(lc_codegen(f, &o, &t, &jit, NULL), LC_OK);
    assert_null(jit);
    assert_non_null(t.llvm);
    char *ir = strdup(t.llvm);
    assert_non_null(ir);
    lc_codegen_texts_free(&t);
    return ir;
}

/* The interleave count asked of LLVM (lc_schedule.interleave): an element-major forward with a
 * fix-up flag takes one trip at a time, except where its flagged norm takes a power by the
 * short normal-range power (general p: 2.7), whose long chain takes 4 trips side by side; the
 * window-major backward of a short-form norm takes 2. The values are the same whatever the
 * count (the kernel's loops compute each position alike); test_jit_numerics pins them. */
static void test_interleave(void **state) {
    (void)state;
    struct {
        double p;
        bool backward;
        lc_lp_pow_form root_form;
        int interleave;
    } cases[] = {
        {2.7, false, LC_LP_POW_NORMAL, 4}, /* five short powers a window */
        {2.0, false, LC_LP_POW_GENERAL, 1}, /* squares and a sqrt */
        {3.0, false, LC_LP_POW_ROOT, 1},    /* cubes and the Newton root: a short chain */
        {2.5, false, LC_LP_POW_ROOT, 1},
        {2.7, true, LC_LP_POW_NORMAL, 2},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        lc_fused *f = jit_fuse_module(test_lppool(cases[c].p, 4, LC_STRIDE_UNSET, false), test_shape3(1, 2, 4096),
                                      cases[c].backward);
        const lc_kernel *k = &f->kernels[f->n_kernels - 1];
        assert_int_equal(k->sched.order, cases[c].backward ? LC_LOOP_WINDOWS : LC_LOOP_ELEMENTS);
        assert_true(k->sched.fixup);
        assert_int_equal(k->sched.n_lp_norms, 1);
        assert_int_equal(k->sched.lp_norms[0].root_form, cases[c].root_form);
        assert_int_equal(k->sched.interleave, cases[c].interleave);
        /* codegen reads it into the loop's hint, except in the quick tier, which takes one
         * trip at a time (lc_emit_options.quick: the back end's work grows with each trip)
         * and names the loop's width */
        for (int quick = 0; quick <= 1; quick++) {
            char *ir = emitted_ir(f, quick);
            char hint[64];
            snprintf(hint, sizeof hint, "!\"llvm.loop.interleave.count\", i32 %d}",
                     quick ? 1 : cases[c].interleave);
            assert_non_null(strstr(ir, hint));
            /* the quick tier names the vectorized loops' width (x86: 4, 8 or 16 floats) */
            bool width_named = false;
            for (int lanes = 4; lanes <= 16; lanes *= 2) {
                snprintf(hint, sizeof hint, "!\"llvm.loop.vectorize.width\", i32 %d}", lanes);
                width_named = width_named || strstr(ir, hint);
            }
#if defined(__x86_64__)
            assert_true(width_named == (bool)quick);
#else
            assert_false(width_named && !quick);
#endif
            if (quick && cases[c].interleave > 1) { /* and the schedule's count nowhere */
                snprintf(hint, sizeof hint, "!\"llvm.loop.interleave.count\", i32 %d}",
                         cases[c].interleave);
                assert_null(strstr(ir, hint));
            }
            free(ir);
        }
        lc_fused_free(f);
    }
}

/* Every kernel function prefers vectors as wide as the host's registers (x86: 512 bits with
 * AVX-512, where LLVM's tuning for Intel's CPUs would take 256; 256 with AVX; 128 without),
 * and the quick tier names that width in floats on its loops. */
static void test_vector_width(void **state) {
    (void)state;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (getenv("LUCID_CPU") || getenv("LUCID_CPU_FEATURES")) skip(); /* not the host's list */
    int bits = __builtin_cpu_supports("avx512f") ? 512 : __builtin_cpu_supports("avx") ? 256 : 128;
    lc_fused *f = jit_fuse_module(test_avgpool(4, LC_STRIDE_UNSET, 0, false, true), test_shape3(1, 2, 4096), true);
    for (int quick = 0; quick <= 1; quick++) {
        char *ir = emitted_ir(f, quick), want[64];
        snprintf(want, sizeof want, "\"prefer-vector-width\"=\"%d\"", bits);
        if (!strstr(ir, want)) fail_msg("want %s in:\n%s", want, ir);
        snprintf(want, sizeof want, "!\"llvm.loop.vectorize.width\", i32 %d}", bits / 32);
        assert_true((strstr(ir, want) != NULL) == (bool)quick);
        free(ir);
    }
    lc_fused_free(f);
#else
    skip();
#endif
}

/* The quick tier's checked edges (emit_kernel.c, emitter.edges_apart): a kernel whose rows
 * have bounds-checked scalar loops (padding, a window past the row's end) calls them in a
 * function of its own, lc_kernel_<k>_edges, once over its range, and LLVM's passes skip that
 * function (optnone): they were up to 40 % of the kernel's IR and run over a few positions a
 * row. A kernel without such loops has no such function, and the optimized tier keeps them
 * in the kernel. test_tier compares the two tiers' values on these pools. */
static void test_quick_edges(void **state) {
    (void)state;
    struct {
        lc_module *m;
        bool backward, edges;
    } cases[] = {
        {test_avgpool(3, 1, 1, false, true), false, true}, /* padded: the row's two ends */
        {test_avgpool(3, 1, 1, false, true), true, true},
        {test_lppool(2, 4, 2, false), true, true},          /* dx's windows past the row's end */
        {test_avgpool(4, LC_STRIDE_UNSET, 0, false, true), false, false}, /* no check can fail */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        lc_fused *f = jit_fuse_module(cases[c].m, test_shape3(1, 2, 4096), cases[c].backward);
        for (int quick = 0; quick <= 1; quick++) {
            char *ir = emitted_ir(f, quick);
            int defined = 0, called = 0;
            for (int k = 0; k < f->n_kernels; k++) {
                char name[96];
                snprintf(name, sizeof name, "define internal i32 @lc_kernel_%d_edges(", k);
                defined += strstr(ir, name) != NULL;
                snprintf(name, sizeof name, "call i32 @lc_kernel_%d_edges(", k);
                called += strstr(ir, name) != NULL;
            }
            bool apart = quick && cases[c].edges;
            assert_true(apart ? defined >= 1 : defined == 0);
            assert_int_equal(called, defined);
            assert_true((strstr(ir, "optnone") != NULL) == apart);
            free(ir);
        }
        lc_fused_free(f);
    }
}

/* A 2-D pool's forward+backward is one kernel where its windows tile both axes (lc_kernel.co_rows):
 * dx's kernel, window-major over the last axis with whole blocks, tiles its rows by the
 * window's rows (tile_rows = co_rows = kh, split at whole tiles) and writes the forward's
 * result (the h-axis root, shape [..., OH, OW]) as its co-root. Not where the rows' windows
 * overlap, are padded, leave a gap or a row over (odd height, ceil_mode past the end), or
 * hold more rows than a tile; nor where the w-axis windows overhang: two kernels there, as
 * before. The values of every case are pinned in test_pool2d (test_jit_one_pass_2d). */
static void test_pool2d_one_pass(void **state) {
    (void)state;
    struct {
        const char *spec;
        int64_t h, w;
        int rows; /* co_rows expected, 0: two kernels */
    } cases[] = {
        {"LPPool2d(2, 2)", 16, 256, 2},
        {"LPPool2d(3, (4, 2))", 16, 64, 4},
        {"LPPool2d(2.5, (2, 3))", 8, 33, 2},
        {"LPPool2d(2, 2, ceil_mode=True)", 16, 64, 2}, /* nothing past the end */
        {"AvgPool2d(2)", 16, 256, 2},
        {"AvgPool2d((2, 1))", 16, 64, 2},
        {"LPPool2d(2, 2)", 15, 64, 0},                  /* a row over */
        {"LPPool2d(2, 2, ceil_mode=True)", 15, 64, 0},  /* a window past the end */
        {"LPPool2d(2, 2, ceil_mode=True)", 16, 63, 0},  /* along the last axis */
        {"LPPool2d(2, 2, 1)", 16, 64, 0},               /* overlapping windows */
        {"LPPool2d(2, (2, 3), (3, 3))", 15, 63, 0},     /* a gap between row windows */
        {"LPPool2d(2, (8, 2))", 16, 64, 0},             /* 8 rows: more than a tile */
        {"LPPool2d(2, (2, 20))", 16, 80, 0},            /* long w-windows: slot loops */
        {"AvgPool2d(2, 2, 1)", 16, 64, 0},              /* padding */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        lc_fused *f = fuse_spec(cases[c].spec, lc_shape_make(4, (int64_t[]){2, 3, cases[c].h, cases[c].w}), true);
        const lc_kernel *k = &f->kernels[f->n_kernels - 1];
        const lc_node *root = lc_graph_node(f->graph, k->root);
        assert_int_equal(root->op, LC_OP_FOLD);
        if (cases[c].rows == 0) {
            if (f->n_kernels < 2 || k->co_rows != 0 || k->sched.tile_rows != 1)
                fail_msg("%s at %lld x %lld: %d kernels, co_rows %d", cases[c].spec, (long long)cases[c].h,
                         (long long)cases[c].w, f->n_kernels, k->co_rows);
        } else {
            if (f->n_kernels != 1 || k->co_rows != cases[c].rows)
                fail_msg("%s at %lld x %lld: %d kernels, co_rows %d", cases[c].spec, (long long)cases[c].h,
                         (long long)cases[c].w, f->n_kernels, k->co_rows);
            const lc_node *co = lc_graph_node(f->graph, k->co_root);
            assert_int_equal(k->sched.order, LC_LOOP_WINDOWS);
            assert_true(k->sched.whole_blocks);
            assert_int_equal(k->sched.tile_rows, cases[c].rows);
            assert_int_equal(k->align % (cases[c].rows * cases[c].w), 0);
            assert_int_equal(k->co_slot, f->n_inputs); /* output 0, y */
            assert_int_equal(co->shape.dim[2] * cases[c].rows, cases[c].h);
            assert_int_equal(co->shape.dim[3], lc_graph_node(f->graph, root->inputs[0])->shape.dim[3]);
        }
        lc_fused_free(f);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tiling_pool_backward),
        cmocka_unit_test(test_vector_width),
        cmocka_unit_test(test_long_windows),
        cmocka_unit_test(test_overlapping_long_windows),
        cmocka_unit_test(test_lp_scaling),
        cmocka_unit_test(test_lp_ratio),
        cmocka_unit_test(test_lp_with_materialized_sum),
        cmocka_unit_test(test_cost_saturates),
        cmocka_unit_test(test_window_position_affine),
        cmocka_unit_test(test_conv_backward_contraction),
        cmocka_unit_test(test_conv_weight_gradient_peeled),
        cmocka_unit_test(test_row_windows_inline),
        cmocka_unit_test(test_conv_row_tiles),
        cmocka_unit_test(test_conv_weight_gradient_tiles),
        cmocka_unit_test(test_conv_weight_gradient_blocked),
        cmocka_unit_test(test_scratch_row_pitch),
        cmocka_unit_test(test_train_step_weight_tiles),
        cmocka_unit_test(test_loss_sum_split),
        cmocka_unit_test(test_whole_trips),
        cmocka_unit_test(test_interleave),
        cmocka_unit_test(test_quick_edges),
        cmocka_unit_test(test_pool2d_one_pass),
        cmocka_unit_test(test_carried_choice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
