/* What simplify knows about values without evaluating them: signs, sameness, constants. */
#include <math.h>
#include <string.h>

#include "passes/simplify.h"

/* Deep enough for any pooling graph; a deeper chain simply is not proven non-negative. */
enum { FACT_DEPTH = 24 };

static bool nonneg_at(const lc_graph *g, int i, int depth) {
    if (depth > FACT_DEPTH) return false;
    const lc_node *n = lc_graph_node(g, i);
    switch (n->op) {
    case LC_OP_INPUT:
        return false;
    case LC_OP_CONSTANT: /* -0 counts as negative: 1/-0 and pow(-0, -1) are -inf */
        for (int64_t k = 0; k < lc_shape_numel(&n->shape); k++)
            if (signbit(n->data[k])) return false;
        return true;
    case LC_OP_ABS:
        return true;
    case LC_OP_POW: /* x^e >= 0 for even e or x >= 0 (inf and 0 included) */
        return lc_simp_is_even(n->real_attr) || nonneg_at(g, n->inputs[0], depth + 1);
    case LC_OP_MUL:
    case LC_OP_ADD:
    case LC_OP_DIV:
        return nonneg_at(g, n->inputs[0], depth + 1) && nonneg_at(g, n->inputs[1], depth + 1);
    case LC_OP_SIGN:   /* sign of a value >= 0 is 0 or 1 */
    case LC_OP_UNFOLD: /* pads with +0 */
    case LC_OP_FOLD:
    case LC_OP_EXPAND:
    case LC_OP_SUM:
    case LC_OP_MEAN:
        return nonneg_at(g, n->inputs[0], depth + 1);
    case LC_OP_COUNT:
        break;
    }
    return false;
}

bool lc_simp_nonneg(const lc_graph *g, int i) { return nonneg_at(g, i, 0); }

static bool same_at(const lc_graph *g, int a, int b, int depth) {
    if (a == b) return true;
    if (depth > FACT_DEPTH) return false;
    const lc_node *x = lc_graph_node(g, a), *y = lc_graph_node(g, b);
    /* Two INPUTs are two parameters, however alike. */
    if (x->op != y->op || x->op == LC_OP_INPUT || x->dtype != y->dtype ||
        !lc_shape_equal(&x->shape, &y->shape) || memcmp(x->attr, y->attr, sizeof x->attr) != 0 ||
        memcmp(&x->real_attr, &y->real_attr, sizeof x->real_attr) != 0)
        return false;
    if (x->op == LC_OP_CONSTANT)
        return memcmp(x->data, y->data, (size_t)lc_shape_numel(&x->shape) * sizeof *x->data) == 0;
    for (int k = 0; k < lc_op_get_info(x->op)->arity; k++)
        if (!same_at(g, x->inputs[k], y->inputs[k], depth + 1)) return false;
    return true;
}

bool lc_simp_same(const lc_graph *g, int a, int b) { return same_at(g, a, b, 0); }

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
