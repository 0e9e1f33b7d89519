/* fold is the adjoint of unfold (the gradient rule of each is the other): for every window
 * geometry — overlapping windows, gaps (step > size), padding on either side, a ceil-mode
 * overhang past the right padding — <unfold(x), w> = <x, fold(w)> in float64, and on small
 * cases the two linear maps are exact transposes of each other, element by element. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lucid/autodiff.h"
#include "lucid/nn.h"
#include "lucid/runtime.h"
#include "nn/pool_geometry.h"
#include "support/testutil.h"

typedef struct window {
    int dim;
    int64_t size, step, lo, hi;
} window;

/* y = unfold(x) or y = fold(x) as a one-node graph; returns the graph. */
static lc_graph *one_op(bool fold, lc_shape in, const window *w, int64_t length) {
    lc_graph *g;
    assert_ok(lc_graph_new(&g));
    int x, y;
    assert_ok(lc_input(g, "x", LC_F64, in, &x));
    if (fold)
        assert_ok(lc_fold(g, x, w->dim, w->size, w->step, w->lo, w->hi, length, &y));
    else
        assert_ok(lc_unfold(g, x, w->dim, w->size, w->step, w->lo, w->hi, &y));
    assert_ok(lc_graph_add_output(g, y));
    return g;
}

static lc_tensor *run1(const lc_graph *g, const lc_tensor *x) {
    lc_tensor *y;
    assert_ok(lc_interp_run(g, (const lc_tensor *const[]){x}, 1, &y, 1));
    return y;
}

static double dot(const lc_tensor *a, const lc_tensor *b) {
    assert_true(lc_shape_equal(&a->shape, &b->shape));
    long double acc = 0;
    for (int64_t i = 0; i < lc_tensor_numel(a); i++) acc += (long double)lc_tensor_get(a, i) * lc_tensor_get(b, i);
    return (double)acc;
}

static double sum_abs_products(const lc_tensor *a, const lc_tensor *b) {
    double acc = 0;
    for (int64_t i = 0; i < lc_tensor_numel(a); i++) acc += fabs(lc_tensor_get(a, i) * lc_tensor_get(b, i));
    return acc;
}

/* <unfold(x), w> against <x, fold(w)> for one geometry and random x, w. */
static void check_adjoint(test_rng *r, lc_shape xs, const window *w) {
    lc_graph *gu = one_op(false, xs, w, 0);
    lc_shape us = lc_graph_node(gu, 1)->shape;
    lc_graph *gf = one_op(true, us, w, xs.dim[w->dim]);
    assert_true(lc_shape_equal(&lc_graph_node(gf, 1)->shape, &xs));
    lc_tensor *x = test_random_tensor(r, LC_F64, xs, 3.0), *wt = test_random_tensor(r, LC_F64, us, 3.0);
    lc_tensor *ux = run1(gu, x), *fw = run1(gf, wt);
    double lhs = dot(ux, wt), rhs = dot(x, fw);
    double scale = sum_abs_products(ux, wt) + 1e-300;
    if (fabs(lhs - rhs) > 1e-13 * scale)
        fail_msg("dim %d size %lld step %lld pad %lld/%lld: <unfold x, w> = %.17g, <x, fold w> = %.17g",
                 w->dim, (long long)w->size, (long long)w->step, (long long)w->lo, (long long)w->hi, lhs, rhs);
    lc_tensor_free(x);
    lc_tensor_free(wt);
    lc_tensor_free(ux);
    lc_tensor_free(fw);
    lc_graph_free(gu);
    lc_graph_free(gf);
}

static void test_adjoint_random_geometries(void **state) {
    (void)state;
    test_rng r = test_rng_seeded(2024);
    int checked = 0, overlap = 0, gaps = 0, padded = 0;
    while (checked < 600) {
        int rank = (int)test_rng_int(&r, 1, 4);
        int64_t d[4];
        for (int i = 0; i < rank; i++) d[i] = test_rng_int(&r, 1, 4);
        window w = {.dim = (int)test_rng_int(&r, 0, rank - 1)};
        d[w.dim] = test_rng_int(&r, 1, 17);
        w.size = test_rng_int(&r, 1, 7);
        w.step = test_rng_int(&r, 1, 8);
        w.lo = test_rng_int(&r, 0, 4);
        w.hi = test_rng_int(&r, 0, 6);
        if (d[w.dim] + w.lo + w.hi < w.size) continue;
        overlap += w.step < w.size;
        gaps += w.step > w.size;
        padded += w.lo > 0 || w.hi > 0;
        check_adjoint(&r, lc_shape_make(rank, d), &w);
        checked++;
    }
    assert_true(overlap > 50 && gaps > 50 && padded > 50);
}

/* The geometries the modules make, ceil-mode overhang included (pad_hi beyond the padding). */
static void test_adjoint_pool_geometries(void **state) {
    (void)state;
    test_rng r = test_rng_seeded(77);
    int overhangs = 0;
    for (int64_t len = 1; len <= 13; len++)
        for (int64_t k = 1; k <= 5; k++)
            for (int64_t s = 1; s <= 6; s++)
                for (int64_t p = 0; p <= k / 2; p++)
                    for (int ceil = 0; ceil <= 1; ceil++) {
                        lc_pool1d_geometry geo;
                        if (lc_pool1d_geometry_compute("test", len, k, s, p, ceil, &geo) != LC_OK) continue;
                        overhangs += geo.pad_hi > geo.padding;
                        window w = {.dim = 2, .size = k, .step = s, .lo = p, .hi = geo.pad_hi};
                        check_adjoint(&r, test_shape3(1, 2, len), &w);
                    }
    assert_true(overhangs > 20);
}

/* Small cases: the matrices of unfold and fold (from basis vectors) are exact transposes. */
static void test_exact_transpose(void **state) {
    (void)state;
    const window cases[] = {
        {0, 3, 1, 0, 0}, {0, 3, 2, 1, 1}, {0, 2, 3, 0, 0}, {0, 2, 5, 2, 3},
        {0, 4, 1, 2, 2}, {0, 1, 1, 0, 0}, {0, 5, 2, 3, 4}, {0, 3, 3, 0, 2},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (int64_t len = 1; len <= 7; len++) {
            const window *w = &cases[c];
            if (len + w->lo + w->hi < w->size) continue;
            lc_shape xs = lc_shape_make(1, &len);
            lc_graph *gu = one_op(false, xs, w, 0);
            lc_shape us = lc_graph_node(gu, 1)->shape;
            lc_graph *gf = one_op(true, us, w, len);
            int64_t n = len, m = lc_shape_numel(&us);
            lc_tensor *e, *f;
            assert_ok(lc_tensor_new(LC_F64, xs, &e));
            assert_ok(lc_tensor_new(LC_F64, us, &f));
            double *mu = calloc((size_t)(n * m), sizeof *mu); /* mu[j][i] = d unfold_j / d x_i */
            for (int64_t i = 0; i < n; i++) {
                lc_tensor_set(e, i, 1);
                lc_tensor *col = run1(gu, e);
                for (int64_t j = 0; j < m; j++) mu[j * n + i] = lc_tensor_get(col, j);
                lc_tensor_free(col);
                lc_tensor_set(e, i, 0);
            }
            for (int64_t j = 0; j < m; j++) {
                lc_tensor_set(f, j, 1);
                lc_tensor *col = run1(gf, f); /* column j of fold = row j of unfold */
                for (int64_t i = 0; i < n; i++)
                    if (lc_tensor_get(col, i) != mu[j * n + i])
                        fail_msg("size %lld step %lld pad %lld/%lld len %lld: fold[%lld][%lld] = %g, "
                                 "unfold[%lld][%lld] = %g", (long long)w->size, (long long)w->step,
                                 (long long)w->lo, (long long)w->hi, (long long)len, (long long)i,
                                 (long long)j, lc_tensor_get(col, i), (long long)j, (long long)i,
                                 mu[j * n + i]);
                lc_tensor_free(col);
                lc_tensor_set(f, j, 0);
            }
            free(mu);
            lc_tensor_free(e);
            lc_tensor_free(f);
            lc_graph_free(gu);
            lc_graph_free(gf);
        }
}

/* Pinned by hand: x = [1, 2, 3, 4, 5], size 3, step 2, pad 1/1 → windows [0,1,2], [2,3,4],
 * [4,5,0]; fold of all-ones windows counts how many windows hold each position. */
static void test_fold_by_hand(void **state) {
    (void)state;
    window w = {0, 3, 2, 1, 1};
    int64_t five = 5;
    lc_graph *gu = one_op(false, lc_shape_make(1, &five), &w, 0);
    lc_tensor *x, *u;
    assert_ok(lc_tensor_from_doubles(LC_F64, lc_shape_make(1, &five), (double[]){1, 2, 3, 4, 5}, &x));
    u = run1(gu, x);
    assert_values_close(u, (double[]){0, 1, 2, 2, 3, 4, 4, 5, 0}, 9, 0, 0);
    lc_graph *gf = one_op(true, u->shape, &w, 5);
    lc_tensor *ones;
    assert_ok(lc_tensor_new(LC_F64, u->shape, &ones));
    for (int i = 0; i < 9; i++) lc_tensor_set(ones, i, 1);
    lc_tensor *counts = run1(gf, ones);
    assert_values_close(counts, (double[]){1, 2, 1, 2, 1}, 5, 0, 0);
    /* gaps: size 1, step 3 over length 7 reads positions 0, 3, 6 */
    window gap = {0, 1, 3, 0, 0};
    int64_t seven = 7;
    int64_t shp[] = {3, 1};
    lc_graph *gg = one_op(true, lc_shape_make(2, shp), &gap, seven);
    lc_tensor *v;
    assert_ok(lc_tensor_from_doubles(LC_F64, lc_shape_make(2, shp), (double[]){10, 20, 30}, &v));
    lc_tensor *spread = run1(gg, v);
    assert_values_close(spread, (double[]){10, 0, 0, 20, 0, 0, 30}, 7, 0, 0);
    lc_tensor_free(spread);
    lc_tensor_free(v);
    lc_graph_free(gg);
    lc_tensor_free(counts);
    lc_tensor_free(ones);
    lc_tensor_free(u);
    lc_tensor_free(x);
    lc_graph_free(gu);
    lc_graph_free(gf);
}

/* The autodiff of unfold is a fold with the same window and length = the input extent, and
 * the autodiff of fold is an unfold with the same window. */
static void test_rules_emit_each_other(void **state) {
    (void)state;
    window w = {1, 4, 3, 2, 5};
    lc_graph *g, *ad;
    assert_ok(lc_graph_new(&g));
    int x, u, f;
    assert_ok(lc_input(g, "x", LC_F32, test_shape3(2, 9, 3), &x));
    assert_ok(lc_unfold(g, x, w.dim, w.size, w.step, w.lo, w.hi, &u));
    assert_ok(lc_fold(g, u, w.dim, w.size, w.step, w.lo, w.hi, 9, &f));
    assert_ok(lc_graph_add_output(g, f));
    assert_ok(lc_autodiff(g, NULL, 0, NULL, 0, &ad));
    int seen_fold = 0, seen_unfold = 0;
    for (int i = lc_graph_node_count(g); i < lc_graph_node_count(ad); i++) {
        const lc_node *n = lc_graph_node(ad, i);
        if (n->op != LC_OP_FOLD && n->op != LC_OP_UNFOLD) continue;
        assert_int_equal(n->attr[LC_FOLD_DIM], w.dim);
        assert_int_equal(n->attr[LC_FOLD_SIZE], w.size);
        assert_int_equal(n->attr[LC_FOLD_STEP], w.step);
        assert_int_equal(n->attr[LC_FOLD_PAD_LO], w.lo);
        assert_int_equal(n->attr[LC_FOLD_PAD_HI], w.hi);
        if (n->op == LC_OP_FOLD) {
            assert_int_equal(n->attr[LC_FOLD_LENGTH], 9);
            assert_string_equal(n->name, "grad.x");
            seen_fold++;
        } else {
            seen_unfold++;
        }
    }
    assert_int_equal(seen_fold, 1);
    assert_int_equal(seen_unfold, 1);
    lc_graph_free(ad);
    lc_graph_free(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adjoint_random_geometries),
        cmocka_unit_test(test_adjoint_pool_geometries),
        cmocka_unit_test(test_exact_transpose),
        cmocka_unit_test(test_fold_by_hand),
        cmocka_unit_test(test_rules_emit_each_other),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
