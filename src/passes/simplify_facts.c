/* What simplify knows about values without evaluating them: signs, sameness, constants. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/node_key.h"
#include "ir/window.h"
#include "passes/simplify.h"

/* How many nodes one sameness question may visit. A graph is a DAG, so a walk down both
 * inputs of every node could visit a node once per path (2^depth); the budget bounds the work
 * (and the recursion), and a sameness that needs more is simply not proven. */
enum { SAME_BUDGET = 64 };

/* Node n is never negative (NaN allowed), given the facts about its inputs. */
bool lc_nonneg_from_inputs(const lc_node *n, const bool *known) {
    switch (n->op) {
    case LC_OP_INPUT:
        return false;
    case LC_OP_CONSTANT: /* -0 counts as negative: 1/-0 and pow(-0, -1) are -inf */
        for (int64_t k = 0; k < lc_shape_numel(&n->shape); k++)
            if (signbit(n->data[k])) return false;
        return true;
    case LC_OP_ABS:
        return true;
    case LC_OP_POW: /* only an odd integer power of a negative x is negative; a fractional
                     * one is NaN there, and NaN is allowed: every rule that uses the fact
                     * keeps the NaN (abs(NaN) and NaN^e are NaN, and y^0 = 1 both ways) */
        return !lc_simp_is_integer(n->real_attr) || lc_simp_is_even(n->real_attr) ||
               known[n->inputs[0]];
    case LC_OP_MUL:
    case LC_OP_ADD:
    case LC_OP_DIV:
        return known[n->inputs[0]] && known[n->inputs[1]];
    case LC_OP_MAX_MASK: /* 0 or 1 */
    case LC_OP_EQUAL:
        return true;
    case LC_OP_UNFOLD: /* pads with +0, or with -inf */
        return known[n->inputs[0]] && n->attr[LC_UNFOLD_NEG_INF_PAD] == 0;
    case LC_OP_RELU:   /* x or 0 (NaN stays NaN, which every rule keeps) */
        return true;
    case LC_OP_SELECT: /* x or +0 */
        return known[n->inputs[1]];
    case LC_OP_SIGN:   /* sign of a value >= 0 is 0 or 1 */
    case LC_OP_MAX:
    case LC_OP_FOLD:
    case LC_OP_EXPAND:
    case LC_OP_SUM:
    case LC_OP_MEAN:
        return known[n->inputs[0]];
    case LC_OP_COUNT:
        break;
    }
    return false;
}

/* Facts are computed once per node, in node order (inputs come first), as questions reach
 * further into the graph: no recursion, and O(1) per node however the DAG is shared. */
bool lc_simp_nonneg(lc_simplify *s, int i) {
    if (i >= s->facts_cap) {
        int cap = s->facts_cap ? s->facts_cap : 64;
        while (cap <= i) cap *= 2;
        bool *grown = realloc(s->nonneg, (size_t)cap * sizeof *grown);
        if (!grown) return false; /* out of memory: nothing is proven, nothing is wrong */
        s->nonneg = grown;
        s->facts_cap = cap;
    }
    for (; s->n_facts <= i; s->n_facts++)
        s->nonneg[s->n_facts] = lc_nonneg_from_inputs(lc_graph_node(s->g, s->n_facts), s->nonneg);
    return s->nonneg[i];
}

bool *lc_nonneg_facts(const lc_graph *g) {
    int n = lc_graph_node_count(g);
    bool *known = malloc(sizeof *known * (size_t)(n ? n : 1));
    if (!known) return NULL;
    for (int i = 0; i < n; i++) known[i] = lc_nonneg_from_inputs(lc_graph_node(g, i), known);
    return known;
}

/* Rounding of an addition or a product in either float type grows a bound by at most this
 * factor (2^-24 is float32's unit roundoff; 2^-20 leaves room). */
#define ROUNDING_GROWTH (1 + 0x1p-20)

/* Bound of a sum of `terms` values each at most b in magnitude, rounded along the way: the
 * recursive sum's error is at most (terms - 1)·u times the sum of magnitudes. */
static double sum_bound(int64_t terms, double b) {
    if (!isfinite(b)) return INFINITY;
    double t = (double)terms;
    return t * b * (1 + t * 0x1p-20);
}

static double magnitude_from_inputs(const lc_graph *g, const lc_node *n, const double *known) {
    double a = lc_op_get_info(n->op)->arity > 0 ? known[n->inputs[0]] : INFINITY;
    switch (n->op) {
    case LC_OP_CONSTANT: { /* as the graph's dtype holds it (an f32 constant is rounded) */
        double m = 0;
        for (int64_t k = 0; k < lc_shape_numel(&n->shape); k++) {
            double v = n->dtype == LC_F32 ? (double)(float)n->data[k] : n->data[k];
            if (!isfinite(v)) return INFINITY;
            m = fmax(m, fabs(v));
        }
        return m;
    }
    case LC_OP_MAX_MASK: /* 0 or 1 */
    case LC_OP_EQUAL:
        return 1;
    case LC_OP_SIGN: /* NaN where its input is */
        return isfinite(a) ? 1 : INFINITY;
    case LC_OP_ABS:
    case LC_OP_RELU:
    case LC_OP_EXPAND:
        return a;
    case LC_OP_UNFOLD: /* pads with +0, or with -inf */
        return n->attr[LC_UNFOLD_NEG_INF_PAD] ? INFINITY : a;
    case LC_OP_MAX:  /* -inf over an empty axis */
    case LC_OP_MEAN: /* NaN (0/0) over an empty axis */
        if (lc_graph_node(g, n->inputs[0])->shape.dim[n->attr[LC_REDUCE_DIM]] == 0) return INFINITY;
        return n->op == LC_OP_MAX ? a : a * ROUNDING_GROWTH;
    case LC_OP_ADD: {
        double b = known[n->inputs[1]];
        return isfinite(a) && isfinite(b) ? (a + b) * ROUNDING_GROWTH : INFINITY;
    }
    case LC_OP_MUL: {
        double b = known[n->inputs[1]];
        return isfinite(a) && isfinite(b) ? a * b * ROUNDING_GROWTH : INFINITY;
    }
    case LC_OP_SELECT: /* x or +0 */
        return known[n->inputs[1]];
    case LC_OP_SUM:
        return sum_bound(lc_graph_node(g, n->inputs[0])->shape.dim[n->attr[LC_REDUCE_DIM]], a);
    case LC_OP_FOLD: {
        lc_window w = lc_window_of(n);
        return sum_bound(lc_fold_gather_terms(&w), a);
    }
    case LC_OP_INPUT:
    case LC_OP_POW:
    case LC_OP_DIV:
    case LC_OP_COUNT:
        break;
    }
    return INFINITY;
}

double *lc_magnitude_facts(const lc_graph *g) {
    int n = lc_graph_node_count(g);
    double *known = malloc(sizeof *known * (size_t)(n ? n : 1));
    if (!known) return NULL;
    for (int i = 0; i < n; i++) known[i] = magnitude_from_inputs(g, lc_graph_node(g, i), known);
    return known;
}

/* Node n's every element is an integer (a finite one), given the facts about its inputs:
 * constants that hold only integers, the masks' 0 and 1, and what only adds, multiplies,
 * sums, moves or picks such values. Exact as long as the values stay below 2^24, which
 * lc_byte_integer_facts's bound sees to. */
static bool integral_from_inputs(const lc_node *n, const bool *known) {
    switch (n->op) {
    case LC_OP_CONSTANT:
        for (int64_t k = 0; k < lc_shape_numel(&n->shape); k++)
            if (!lc_simp_is_integer(n->dtype == LC_F32 ? (double)(float)n->data[k] : n->data[k])) return false;
        return true;
    case LC_OP_MAX_MASK:
    case LC_OP_EQUAL:
        return true;
    case LC_OP_UNFOLD: /* pads with +0, or with -inf */
        return known[n->inputs[0]] && n->attr[LC_UNFOLD_NEG_INF_PAD] == 0;
    case LC_OP_ADD:
    case LC_OP_MUL:
        return known[n->inputs[0]] && known[n->inputs[1]];
    case LC_OP_SELECT: /* x or +0 */
        return known[n->inputs[1]];
    case LC_OP_ABS:
    case LC_OP_EXPAND:
    case LC_OP_MAX:
    case LC_OP_SUM:
    case LC_OP_FOLD:
        return known[n->inputs[0]];
    case LC_OP_RELU: /* never negative whatever its input, so relu(-0), which may be -0, would
                      * pass lc_byte_integer_facts's sign test: left out */
    case LC_OP_INPUT:
    case LC_OP_POW:
    case LC_OP_DIV:
    case LC_OP_MEAN:
    case LC_OP_SIGN:
    case LC_OP_COUNT:
        break;
    }
    return false;
}

bool *lc_byte_integer_facts(const lc_graph *g, const bool *nonneg, const double *magnitude) {
    int n = lc_graph_node_count(g);
    bool *integral = malloc(sizeof *integral * (size_t)(n ? n : 1));
    if (!integral) return NULL;
    for (int i = 0; i < n; i++) integral[i] = integral_from_inputs(lc_graph_node(g, i), integral);
    /* nonneg: no -0 either (a constant's -0 counts as negative, and +0 times, plus or summed
     * with values >= +0 stays +0), so a byte holds every bit of the value; the bound makes
     * the values finite and every partial sum or product of them exact */
    for (int i = 0; i < n; i++) integral[i] = integral[i] && nonneg[i] && magnitude[i] <= 255;
    return integral;
}

bool lc_magnitude_finite(double bound, lc_dtype dt) {
    return bound <= (dt == LC_F32 ? 0x1p127 : 0x1p1023);
}

static bool same_at(const lc_graph *g, int a, int b, int *budget) {
    if (a == b) return true;
    if (--*budget < 0) return false;
    const lc_node *x = lc_graph_node(g, a), *y = lc_graph_node(g, b);
    /* Two INPUTs are two parameters, however alike. */
    if (x->op == LC_OP_INPUT || !lc_node_same_fields(x, y)) return false;
    if (x->op == LC_OP_CONSTANT) return true; /* its data is one of the fields */
    for (int k = 0; k < lc_op_get_info(x->op)->arity; k++)
        if (!same_at(g, x->inputs[k], y->inputs[k], budget)) return false;
    return true;
}

bool lc_simp_same(const lc_graph *g, int a, int b) {
    int budget = SAME_BUDGET;
    return same_at(g, a, b, &budget);
}

bool lc_simp_scalar_const(const lc_graph *g, int i, double *v) {
    const lc_node *n = lc_graph_node(g, i);
    if (n->op != LC_OP_CONSTANT || lc_shape_numel(&n->shape) != 1) return false;
    /* An f32 graph's constant holds f32 values (the interpreter and codegen round it). */
    *v = n->dtype == LC_F32 ? (double)(float)n->data[0] : n->data[0];
    return true;
}

bool lc_simp_is_integer(double e) { return isfinite(e) && e == nearbyint(e); }

bool lc_simp_is_even(double e) { return lc_simp_is_integer(e) && fmod(e, 2.0) == 0; }

bool lc_simp_near(double x, double y) { return fabs(x - y) <= 1e-9 * fmax(1.0, fabs(y)); }

lc_shape lc_simp_broadcast(const lc_shape *a, const lc_shape *b) {
    lc_shape out = {0};
    out.rank = a->rank > b->rank ? a->rank : b->rank;
    for (int i = 0; i < out.rank; i++) {
        int ia = a->rank - out.rank + i, ib = b->rank - out.rank + i;
        int64_t da = ia >= 0 ? a->dim[ia] : 1, db = ib >= 0 ? b->dim[ib] : 1;
        out.dim[i] = da == 1 ? db : da;
    }
    return out;
}
