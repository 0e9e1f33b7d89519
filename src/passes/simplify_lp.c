/* The LP backward rewrite (docs/pipeline.md, docs/semantics.md).
 *
 * For y = pow(S, 1/p), S = sum(pow(A, p), d), A >= 0 (A = |u|, u the unfolded input), autodiff
 * gives dA as a product holding
 *
 *     expand(… · pow_zp(S, 1/p − 1), d, k)  ·  … · pow(A, p − 1)
 *
 * S^(1/p − 1) · A^(p − 1) is (A / y)^(p − 1) in exact arithmetic, but the left factor
 * underflows and the right overflows long before the product does: with p = 60, f32 |x| = 4.4
 * already gives inf · 0. A / y <= 1 (A is one of the terms of y's norm), so
 *
 *     pow(div_safe(A, expand(y, d, k)), p − 1)
 *
 * is finite whenever y is. The awkward points stay as they were: a window whose sum is 0 gives
 * 0 (pow_zp sends S = 0 to 0; div_safe sends 0/0 to 0, and 0^(p−1) = 0 for p > 1), and a
 * window holding an inf gives 0 where A is finite (S^(1/p − 1) = 0, A / y = 0) and NaN where
 * A = inf (0 · inf; inf / inf), in both. So the rewrite is made only where pow_zp(S, …) has
 * zero_pole = 1 (without it the original gives 0 · inf = NaN at S = 0), and only for p > 1:
 * a rewrite may replace what an intermediate's overflow or underflow loses with the exact
 * value and must change nothing else, and for p < 1 it would. There A^(p − 1) has a negative
 * exponent, so a window holding an inf gives inf · (finite A)^(p − 1) = inf in the original
 * but (A / inf)^(p − 1) = 0^(p − 1), which autodiff's zero pole sends to 0; and at S = 0 without
 * that flag, 0 · inf = NaN against inf. Left literal, small p overflows only where y or 1/A
 * itself does: S^(1/p − 1) = y^(1 − p) and A^(p − 1) = (1/A)^(1 − p).
 *
 * The matcher reads the product as a list of factors (through nested mul), so it does not
 * depend on how autodiff associated the muls: it looks for a factor expand(D, d, k) whose D
 * (again through mul) holds pow(S, 1/p − 1), next to a factor pow(A, p − 1). simplify has
 * already folded pow(·, 1), so with p = 2 the second factor is A itself. The other factors of
 * D are multiplied and expanded back (its scalar constants join the top factors instead), the
 * other top factors are kept in order, and the constants are folded: autodiff's 1/p and p
 * cancel. */
#include <math.h>

#include "passes/lp_norm.h"
#include "passes/simplify.h"
#include "support/error.h"

/* What a match found: every index names a node of the graph being built. */
typedef struct lp_match {
    lc_simp_factor_list top;   /* factors of the product a·b */
    int at_expand;             /* position in top of expand(D, d, k) */
    int at_pow;                /* position in top of pow(A, p − 1) */
    lc_simp_factor_list inner; /* factors of D */
    int at_pole;               /* position in inner of pow_zp(S, 1/p − 1) */
    int sum, base;             /* S and A */
    int dim;                   /* d */
    int64_t size;              /* k */
    double p;
    double pow_exponent;       /* of the pow(A, p − 1) factor, as written */
    int64_t pow_zero_pole;     /* its flag, which the stable pow keeps */
} lp_match;

/* Factor i read as base^exponent: a pow, or the node itself to the power 1. */
static bool factor_is_power_of(const lc_graph *g, int i, int base, double exponent,
                               int64_t *zero_pole) {
    const lc_node *n = lc_graph_node(g, i);
    if (n->op == LC_OP_POW && lc_simp_near(n->real_attr, exponent) &&
        lc_simp_same(g, n->inputs[0], base)) {
        *zero_pole = n->attr[LC_POW_ZERO_POLE];
        return true;
    }
    *zero_pole = 0;
    return exponent == 1.0 && lc_simp_same(g, i, base);
}

/* D's movable constants move out of the expand (expand(g·c) = expand(g)·c, element for
 * element), where they fold with the product's own; 0, inf and NaN stay inside. */
static bool moves_out(const lc_graph *g, int node) {
    double v;
    return lc_simp_movable_const(g, node, &v);
}

/* The factors of D that stay inside the expand must multiply to S's shape or to one element
 * that broadcasting cannot widen the result with; anything else could not be expanded back. */
static bool rest_fits(const lc_graph *g, const lp_match *m, const lc_shape *full) {
    const lc_shape *s_shape = &lc_graph_node(g, m->sum)->shape;
    lc_shape rest = {0};
    for (int j = 0; j < m->inner.n; j++)
        if (j != m->at_pole && !moves_out(g, m->inner.node[j]))
            rest = lc_simp_broadcast(&rest, &lc_graph_node(g, m->inner.node[j])->shape);
    return lc_shape_equal(&rest, s_shape) ||
           (lc_shape_numel(&rest) == 1 && rest.rank <= full->rank);
}

/* inner factor j of expand(D, d, k) is pow(S, 1/p − 1) of S = sum(pow(A, p), d) with k = the
 * summed extent and p > 1 (so the exponent is in (−1, 0)); fills sum, base, p. */
static bool match_pole(lc_simplify *s, lp_match *m, int j) {
    const lc_graph *g = s->g;
    const lc_node *pole = lc_graph_node(g, m->inner.node[j]);
    if (pole->op != LC_OP_POW) return false;
    int sum_index = pole->inputs[0];
    double pole_exponent = pole->real_attr;
    int64_t pole_zero_pole = pole->attr[LC_POW_ZERO_POLE];
    lc_lp_norm lp;
    if (!lc_lp_sum_match(g, sum_index, &lp) || lp.dim != m->dim) return false;
    double p = lp.p;
    if (!(p > 1) || lc_graph_node(g, lp.terms)->shape.dim[m->dim] != m->size) return false;
    if (!lc_simp_near(pole_exponent, 1.0 / p - 1.0)) return false;
    if (pole_zero_pole != 1) return false; /* 0 · inf stays NaN */
    if (!lc_simp_nonneg(s, lp.base)) return false;               /* (A/y)^e needs A >= 0 */
    m->at_pole = j;
    m->sum = sum_index;
    m->base = lp.base;
    m->p = p;
    return true;
}

static bool find_match(lc_simplify *s, lp_match *m, const lc_shape *full) {
    const lc_graph *g = s->g;
    for (int e = 0; e < m->top.n; e++) {
        const lc_node *ex = lc_graph_node(g, m->top.node[e]);
        if (ex->op != LC_OP_EXPAND) continue;
        m->at_expand = e;
        m->dim = (int)ex->attr[LC_EXPAND_DIM];
        m->size = ex->attr[LC_EXPAND_SIZE];
        m->inner.n = 0;
        if (!lc_simp_factors(g, ex->inputs[0], &m->inner)) continue;
        for (int j = 0; j < m->inner.n; j++) {
            if (!match_pole(s, m, j)) continue;
            const lc_node *s_node = lc_graph_node(g, m->sum);
            if (!lc_shape_equal(&lc_graph_node(g, ex->inputs[0])->shape, &s_node->shape)) continue;
            const lc_shape *a_shape = &lc_graph_node(g, m->base)->shape;
            for (int k = 0; k < m->top.n; k++) {
                if (k == e || !lc_shape_equal(&lc_graph_node(g, m->top.node[k])->shape, a_shape))
                    continue;
                if (!factor_is_power_of(g, m->top.node[k], m->base, m->p - 1.0, &m->pow_zero_pole))
                    continue;
                if (!rest_fits(g, m, full)) continue;
                const lc_node *pw = lc_graph_node(g, m->top.node[k]);
                m->at_pow = k;
                m->pow_exponent = pw->op == LC_OP_POW ? pw->real_attr : 1.0;
                return true;
            }
        }
    }
    return false;
}

/* y = pow(S, 1/p): the forward's own node when it is there (it is, in a forward+backward
 * graph), else a new one. */
static lc_status norm_of(lc_simplify *s, const lp_match *m, int *y) {
    for (int i = 0; i < lc_graph_node_count(s->g); i++) {
        lc_lp_norm lp;
        if (lc_lp_norm_match(s->g, i, &lp) && lp.sum == m->sum) {
            *y = i;
            return LC_OK;
        }
    }
    return lc_simp_pow(s, m->sum, 1.0 / m->p, 0, y);
}

static lc_status build(lc_simplify *s, const lp_match *m, int *out) {
    int64_t expand_attrs[LC_MAX_INT_ATTRS] = {[LC_EXPAND_DIM] = m->dim, [LC_EXPAND_SIZE] = m->size};
    int64_t safe[LC_MAX_INT_ATTRS] = {[LC_DIV_SAFE] = 1};
    int y, y_wide, ratio, stable;
    LC_TRY(norm_of(s, m, &y));
    LC_TRY(lc_simp_append(s, LC_OP_EXPAND, y, -1, expand_attrs, 0, &y_wide));
    LC_TRY(lc_simp_append(s, LC_OP_DIV, m->base, y_wide, safe, 0, &ratio));
    LC_TRY(lc_simp_pow(s, ratio, m->pow_exponent, m->pow_zero_pole, &stable));

    int factors[2 * LC_SIMP_MAX_FACTORS], n = 0;
    int rest = -1; /* what stays inside the expand */
    for (int j = 0; j < m->inner.n; j++) {
        int f = m->inner.node[j];
        if (j == m->at_pole || moves_out(s->g, f)) continue;
        if (rest < 0) rest = f;
        else LC_TRY(lc_simp_append(s, LC_OP_MUL, rest, f, NULL, 0, &rest));
    }
    if (rest >= 0 && lc_shape_equal(&lc_graph_node(s->g, rest)->shape, &lc_graph_node(s->g, m->sum)->shape))
        LC_TRY(lc_simp_append(s, LC_OP_EXPAND, rest, -1, expand_attrs, 0, &rest));
    for (int k = 0; k < m->top.n; k++) {
        int f = k == m->at_expand ? rest : k == m->at_pow ? stable : m->top.node[k];
        if (f >= 0) factors[n++] = f;
    }
    for (int j = 0; j < m->inner.n; j++)
        if (j != m->at_pole && moves_out(s->g, m->inner.node[j])) factors[n++] = m->inner.node[j];
    return lc_simp_product(s, factors, n, out);
}

static bool match_product(lc_simplify *s, int a, int b, lp_match *m, lc_shape *full) {
    if (!lc_simp_factors(s->g, a, &m->top) || !lc_simp_factors(s->g, b, &m->top)) return false;
    *full = lc_simp_broadcast(&lc_graph_node(s->g, a)->shape, &lc_graph_node(s->g, b)->shape);
    return find_match(s, m, full);
}

bool lc_simp_lp_backward_matches(lc_simplify *s, int a, int b) {
    lp_match m = {0};
    lc_shape full;
    return match_product(s, a, b, &m, &full);
}

lc_status lc_simp_lp_backward(lc_simplify *s, int a, int b, bool *done, int *out) {
    *done = false;
    lp_match m = {0};
    lc_shape full;
    if (!match_product(s, a, b, &m, &full)) return LC_OK;
    LC_TRY(build(s, &m, out));
    if (!lc_shape_equal(&lc_graph_node(s->g, *out)->shape, &full))
        return lc_fail(LC_ERR_INTERNAL, "LP backward rewrite changed the product's shape");
    *done = true;
    return LC_OK;
}
