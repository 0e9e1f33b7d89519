/* Which slots of a window reduction can hold data (window_span.h). The rule for each op is
 * what it gives when its window-dependent operands are 0 at a padding slot, with IEEE
 * arithmetic as the interpreter does it: 0·inf and 0/0 are NaN, pow(0, 0) is 1, so those
 * operands must be known not to produce them. */
#include <math.h>

#include "passes/window_span.h"

/* How deep the walk looks for the unfold: a term is a handful of ops in any graph a module
 * builds, and a bounded walk keeps a 100,000-node chain from recursing that deep. */
#define SPAN_DEPTH_MAX 64

/* A constant none of whose values (rounded to its dtype) is NaN, inf (`finite`) or 0 (`nonzero`). */
static bool constant_all(const lc_node *n, bool finite, bool nonzero) {
    if (n->op != LC_OP_CONSTANT) return false;
    int64_t count = lc_shape_numel(&n->shape);
    for (int64_t k = 0; k < count; k++) {
        double v = n->dtype == LC_F32 ? (double)(float)n->data[k] : n->data[k];
        if (isnan(v) || (finite && isinf(v)) || (nonzero && v == 0)) return false;
    }
    return true;
}

/* Node `node` is ±0 wherever unfold `u` reads padding, with u's shape. */
static bool zero_at_padding(const lc_graph *g, int node, int u, int depth) {
    const lc_node *n = lc_graph_node(g, node);
    if (node == u) return true;
    if (depth >= SPAN_DEPTH_MAX || !lc_shape_equal(&n->shape, &lc_graph_node(g, u)->shape)) return false;
    switch (n->op) {
    case LC_OP_ABS:
    case LC_OP_SIGN: return zero_at_padding(g, n->inputs[0], u, depth + 1);
    case LC_OP_POW: /* 0^p = 0 for p > 0; a zero pole gives 0 for p < 0 too; 0^0 = 1 */
        return (n->real_attr > 0 || (n->attr[LC_POW_ZERO_POLE] && n->real_attr < 0)) &&
               zero_at_padding(g, n->inputs[0], u, depth + 1);
    case LC_OP_ADD:
        return zero_at_padding(g, n->inputs[0], u, depth + 1) && zero_at_padding(g, n->inputs[1], u, depth + 1);
    case LC_OP_MUL: { /* 0·x = 0 for finite x only */
        const lc_node *a = lc_graph_node(g, n->inputs[0]), *b = lc_graph_node(g, n->inputs[1]);
        if (zero_at_padding(g, n->inputs[0], u, depth + 1))
            return constant_all(b, true, false) || zero_at_padding(g, n->inputs[1], u, depth + 1);
        return constant_all(a, true, false) && zero_at_padding(g, n->inputs[1], u, depth + 1);
    }
    case LC_OP_DIV: /* 0/x = 0 unless x is NaN or 0 (0/0 is 0 only in a safe div) */
        return constant_all(lc_graph_node(g, n->inputs[1]), false, !n->attr[LC_DIV_SAFE]) &&
               zero_at_padding(g, n->inputs[0], u, depth + 1);
    default: return false;
    }
}

/* The first unfold along the last axis reached from `node` through the ops zero_at_padding
 * looks through, keeping the shape. */
static int find_unfold(const lc_graph *g, int node, const lc_shape *shape, int depth) {
    const lc_node *n = lc_graph_node(g, node);
    if (depth >= SPAN_DEPTH_MAX || !lc_shape_equal(&n->shape, shape)) return -1;
    switch (n->op) {
    case LC_OP_UNFOLD: return node; /* its window axis is its last axis */
    case LC_OP_ABS:
    case LC_OP_SIGN:
    case LC_OP_POW:
    case LC_OP_DIV: return find_unfold(g, n->inputs[0], shape, depth + 1);
    case LC_OP_ADD:
    case LC_OP_MUL: {
        int u = find_unfold(g, n->inputs[0], shape, depth + 1);
        return u >= 0 ? u : find_unfold(g, n->inputs[1], shape, depth + 1);
    }
    default: return -1;
    }
}

int lc_window_span_unfold(const lc_graph *g, int sum) {
    const lc_node *s = lc_graph_node(g, sum);
    if (s->op != LC_OP_SUM && s->op != LC_OP_MEAN) return -1;
    const lc_node *x = lc_graph_node(g, s->inputs[0]);
    if (x->shape.rank < 1 || s->attr[LC_REDUCE_DIM] != x->shape.rank - 1) return -1;
    int u = find_unfold(g, s->inputs[0], &x->shape, 0);
    return u >= 0 && zero_at_padding(g, s->inputs[0], u, 0) ? u : -1;
}
