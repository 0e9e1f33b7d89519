/* Products as lists of factors: how simplify reads a tree of muls (whatever way autodiff
 * associated it) and rebuilds one with its one-element constants folded together, so
 * g · (1/p) · … · p becomes g · … (the LP backward's constants cancel).
 *
 * Only finite nonzero constants move (lc_simp_movable_const): moving one scales the values it
 * passes on its way, which changes them by rounding only (short of the ends of the floating
 * range, where it can move an overflow or underflow, as any reassociation can).
 * 0, inf and NaN stay where they are, and the other factors keep their own association: what
 * 0 · x gives depends on x, and x could be a product that the original graph never formed.
 * mul(mul(a, mul(b, 0)), 6) is 0 for finite a and b, but (a · b) · 0 is NaN once a · b
 * overflows. A product of constants that is 1 in the graph's dtype is left out. */
#include <math.h>

#include "passes/simplify.h"

/* A mul tree `depth` deep has more than `depth` leaves, so past LC_SIMP_MAX_FACTORS levels the
 * answer is already "too many factors": stopping there bounds the recursion (and the time on a
 * long chain of muls, each of whose nodes simplify reads) without changing a result. */
static bool factors_at(const lc_graph *g, int i, int depth, lc_simp_factor_list *f) {
    const lc_node *n = lc_graph_node(g, i);
    if (n->op == LC_OP_MUL)
        return depth < LC_SIMP_MAX_FACTORS && factors_at(g, n->inputs[0], depth + 1, f) &&
               factors_at(g, n->inputs[1], depth + 1, f);
    if (f->n == LC_SIMP_MAX_FACTORS) return false;
    f->node[f->n++] = i;
    return true;
}

bool lc_simp_factors(const lc_graph *g, int i, lc_simp_factor_list *f) {
    return factors_at(g, i, 0, f);
}

bool lc_simp_movable_const(const lc_graph *g, int i, double *v) {
    return lc_simp_scalar_const(g, i, v) && isfinite(*v) && *v != 0;
}

/* The movable constants taken out of a product: their product and broadcast shape. */
typedef struct gathered {
    double c;
    lc_shape shape;
    int n;
} gathered;

static void gather(gathered *gc, double v, const lc_shape *shape) {
    gc->c *= v;
    gc->shape = lc_simp_broadcast(&gc->shape, shape);
    gc->n++;
}

static bool is_one(lc_dtype dtype, double v) {
    return dtype == LC_F32 ? (float)v == 1.0f : v == 1.0;
}

/* product · (the gathered constant), product = -1 meaning "no other factor"; the constant is
 * left out when it is 1 and the product already has the full shape. */
static lc_status times_gathered(lc_simplify *s, lc_dtype dtype, int product, const gathered *gc,
                                const lc_shape *full, int *out) {
    bool needed = gc->n > 0 &&
                  (product < 0 || !is_one(dtype, gc->c) ||
                   !lc_shape_equal(&lc_graph_node(s->g, product)->shape, full));
    if (needed) {
        int k;
        LC_TRY(lc_constant(s->g, dtype, gc->shape, &gc->c, &k));
        if (product < 0) product = k;
        else LC_TRY(lc_simp_append(s, LC_OP_MUL, product, k, NULL, 0, &product));
    }
    *out = product;
    return LC_OK;
}

lc_status lc_simp_product(lc_simplify *s, const int *factors, int n, int *out) {
    LC_ASSERT(n > 0);
    lc_dtype dtype = lc_graph_node(s->g, factors[0])->dtype;
    gathered gc = {.c = 1};
    lc_shape full = {0};
    int product = -1;
    for (int k = 0; k < n; k++) {
        const lc_shape *shape = &lc_graph_node(s->g, factors[k])->shape;
        full = lc_simp_broadcast(&full, shape);
        double v;
        if (lc_simp_movable_const(s->g, factors[k], &v)) {
            gather(&gc, v, shape);
            continue;
        }
        if (product < 0) product = factors[k];
        else LC_TRY(lc_simp_append(s, LC_OP_MUL, product, factors[k], NULL, 0, &product));
    }
    return times_gathered(s, dtype, product, &gc, &full, out);
}

/* l · r of what stripping left, -1 meaning "nothing left" on that side. */
static lc_status mul_left(lc_simplify *s, int l, int r, int *out) {
    if (l < 0 || r < 0) {
        *out = l < 0 ? r : l;
        return LC_OK;
    }
    return lc_simp_append(s, LC_OP_MUL, l, r, NULL, 0, out);
}

/* The mul tree under i with its movable constants taken out into gc and every other factor
 * left in its place: *out = -1 when nothing is left; a subtree without such constants is
 * reused as it is. Depth is bounded: the caller has read the tree with lc_simp_factors. */
static lc_status strip(lc_simplify *s, int i, gathered *gc, int *out) {
    const lc_node *n = lc_graph_node(s->g, i);
    double v;
    if (lc_simp_movable_const(s->g, i, &v)) {
        gather(gc, v, &n->shape);
        *out = -1;
        return LC_OK;
    }
    if (n->op != LC_OP_MUL) {
        *out = i;
        return LC_OK;
    }
    int in0 = n->inputs[0], in1 = n->inputs[1], l, r; /* n moves when the graph grows */
    LC_TRY(strip(s, in0, gc, &l));
    LC_TRY(strip(s, in1, gc, &r));
    if (l == in0 && r == in1) {
        *out = i;
        return LC_OK;
    }
    return mul_left(s, l, r, out);
}

lc_status lc_simp_fold_product_constants(lc_simplify *s, int a, int b, bool *done, int *out) {
    *done = false;
    lc_simp_factor_list f = {0};
    if (!lc_simp_factors(s->g, a, &f) || !lc_simp_factors(s->g, b, &f)) return LC_OK;
    int n_movable = 0;
    for (int k = 0; k < f.n; k++) {
        double v;
        n_movable += lc_simp_movable_const(s->g, f.node[k], &v);
    }
    if (n_movable < 2) return LC_OK; /* nothing to fold together */
    lc_dtype dtype = lc_graph_node(s->g, a)->dtype;
    const lc_shape *sa = &lc_graph_node(s->g, a)->shape, *sb = &lc_graph_node(s->g, b)->shape;
    lc_shape full = lc_simp_broadcast(sa, sb);
    gathered gc = {.c = 1};
    int l, r, product;
    LC_TRY(strip(s, a, &gc, &l));
    LC_TRY(strip(s, b, &gc, &r));
    LC_TRY(mul_left(s, l, r, &product));
    LC_TRY(times_gathered(s, dtype, product, &gc, &full, out));
    *done = true;
    return LC_OK;
}
