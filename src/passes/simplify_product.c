/* Products as lists of factors: how simplify reads a tree of muls (whatever way autodiff
 * associated it) and rebuilds one with its one-element constants folded together, so
 * g · (1/p) · … · p becomes g · … (the LP backward's constants cancel). Reassociating moves
 * values by rounding only; a product of constants that is 1 in the graph's dtype is left out. */
#include "passes/simplify.h"

bool lc_simp_factors(const lc_graph *g, int i, lc_simp_factor_list *f) {
    const lc_node *n = lc_graph_node(g, i);
    if (n->op == LC_OP_MUL)
        return lc_simp_factors(g, n->inputs[0], f) && lc_simp_factors(g, n->inputs[1], f);
    if (f->n == LC_SIMP_MAX_FACTORS) return false;
    f->node[f->n++] = i;
    return true;
}

static bool is_one(lc_dtype dtype, double v) {
    return dtype == LC_F32 ? (float)v == 1.0f : v == 1.0;
}

lc_status lc_simp_product(lc_simplify *s, const int *factors, int n, int *out) {
    LC_ASSERT(n > 0);
    lc_dtype dtype = lc_graph_node(s->g, factors[0])->dtype;
    double c = 1;
    int n_const = 0;
    lc_shape c_shape = {0}, full = {0};
    int product = -1;
    for (int k = 0; k < n; k++) {
        const lc_shape *shape = &lc_graph_node(s->g, factors[k])->shape;
        full = lc_simp_broadcast(&full, shape);
        double v;
        if (lc_simp_scalar_const(s->g, factors[k], &v)) {
            c *= v;
            c_shape = lc_simp_broadcast(&c_shape, shape);
            n_const++;
            continue;
        }
        if (product < 0) product = factors[k];
        else LC_TRY(lc_simp_append(s, LC_OP_MUL, product, factors[k], NULL, 0, &product));
    }
    /* The folded constant is needed unless it is 1 and the product already has the shape. */
    bool needed = n_const > 0 &&
                  (product < 0 || !is_one(dtype, c) ||
                   !lc_shape_equal(&lc_graph_node(s->g, product)->shape, &full));
    if (needed) {
        int k;
        LC_TRY(lc_constant(s->g, dtype, c_shape, &c, &k));
        if (product < 0) product = k;
        else LC_TRY(lc_simp_append(s, LC_OP_MUL, product, k, NULL, 0, &product));
    }
    *out = product;
    return LC_OK;
}

lc_status lc_simp_fold_product_constants(lc_simplify *s, int a, int b, bool *done, int *out) {
    *done = false;
    lc_simp_factor_list f = {0};
    if (!lc_simp_factors(s->g, a, &f) || !lc_simp_factors(s->g, b, &f)) return LC_OK;
    int n_const = 0;
    for (int k = 0; k < f.n; k++) {
        double v;
        n_const += lc_simp_scalar_const(s->g, f.node[k], &v);
    }
    if (n_const < 2) return LC_OK; /* nothing to fold together */
    LC_TRY(lc_simp_product(s, f.node, f.n, out));
    *done = true;
    return LC_OK;
}
