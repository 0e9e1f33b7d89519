/* Which slots of a window reduction can hold data (window_span.h). The rule for each op is
 * what it gives when its window-dependent operands are 0 at a padding slot, with IEEE
 * arithmetic as the interpreter does it: 0·inf and 0/0 are NaN, pow(0, 0) is 1, so those
 * operands must be known not to produce them. */
#include <math.h>

#include "ir/window.h"
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

/* A node whose every value is finite whatever the inputs: a finite constant, or a max_mask
 * (0 or 1; a max pool's indices multiply one by their unfolded coordinates). */
static bool always_finite(const lc_node *n) { return n->op == LC_OP_MAX_MASK || constant_all(n, true, false); }

/* Unfold `node` pads with 0 and reads padding exactly where unfold `u` does, its index being
 * u's right-aligned (broadcast into u's shape): the same windows over an axis of the same
 * length, that axis as far from the end. A max pool's coordinate ramp, unfolded like the
 * windows it indexes, is one. */
static bool zero_padded_like(const lc_graph *g, int node, int u) {
    const lc_node *n = lc_graph_node(g, node), *un = lc_graph_node(g, u);
    if (n->op != LC_OP_UNFOLD || n->attr[LC_UNFOLD_NEG_INF_PAD]) return false;
    if (node == u) return true;
    lc_window a = lc_window_of(n), b = lc_window_of(un);
    if (a.size != b.size || a.step != b.step || a.pad_lo != b.pad_lo || a.dilation != b.dilation ||
        n->shape.rank - a.dim != un->shape.rank - b.dim || n->shape.dim[a.dim] != un->shape.dim[b.dim] ||
        lc_graph_node(g, n->inputs[0])->shape.dim[a.dim] != lc_graph_node(g, un->inputs[0])->shape.dim[b.dim])
        return false;
    if (n->shape.rank > un->shape.rank) return false;
    for (int d = 1; d <= n->shape.rank; d++) { /* n broadcasts into u's shape */
        int64_t a_d = n->shape.dim[n->shape.rank - d], b_d = un->shape.dim[un->shape.rank - d];
        if (a_d != b_d && a_d != 1) return false;
    }
    return true;
}

/* Node `node` is ±0 wherever unfold `u` reads padding, with u's shape. */
static bool zero_at_padding(const lc_graph *g, int node, int u, int depth) {
    const lc_node *n = lc_graph_node(g, node);
    if (n->op == LC_OP_UNFOLD) return zero_padded_like(g, node, u);
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
            return always_finite(b) || zero_at_padding(g, n->inputs[1], u, depth + 1);
        return always_finite(a) && zero_at_padding(g, n->inputs[1], u, depth + 1);
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
    case LC_OP_MAX_MASK: /* a mask over windows: their unfold (a max pool's indices) */
        return lc_graph_node(g, n->inputs[0])->op == LC_OP_UNFOLD ? n->inputs[0] : -1;
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
    if (s->op != LC_OP_SUM && s->op != LC_OP_MEAN && s->op != LC_OP_MAX && s->op != LC_OP_MAX_MASK) return -1;
    const lc_node *x = lc_graph_node(g, s->inputs[0]);
    if (x->shape.rank < 1 || s->attr[LC_REDUCE_DIM] != x->shape.rank - 1) return -1;
    if (s->op == LC_OP_MAX || s->op == LC_OP_MAX_MASK) /* a -inf pad is max's identity */
        return x->op == LC_OP_UNFOLD && x->attr[LC_UNFOLD_NEG_INF_PAD] ? s->inputs[0] : -1;
    int u = find_unfold(g, s->inputs[0], &x->shape, 0);
    return u >= 0 && zero_at_padding(g, s->inputs[0], u, 0) ? u : -1;
}
