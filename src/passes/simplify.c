/* simplify: algebraic folds that are exact, and the stable form of the LP backward.
 *
 *   pow(x, 1)               -> x
 *   pow(pow(x, a), b)       -> pow(x, a·b)       x >= 0 (abs, even powers, ...), or a and b
 *                                                 integers; with a even and x signed,
 *                                                 -> pow(abs(x), a·b) (x^a = |x|^a)
 *                                                 never otherwise: pow(pow(x, 3), 1/3) is NaN
 *                                                 for x < 0, so it stays
 *   abs(x)                  -> x                 x >= 0 (so abs(abs x) -> abs x and
 *                                                 abs(pow(x, 2)) -> pow(x, 2))
 *   sign(sign x)            -> sign x
 *   sign(x) · abs(x)        -> x
 *   1 · x                   -> x                 1 a one-element constant that does not widen x
 *   op(constants)           -> constant          every input a one-element constant
 *   c1 · x · c2             -> x · (c1·c2)       through nested muls; dropped when it is 1;
 *                                                 c finite and nonzero, the other factors keep
 *                                                 their association (simplify_product.c)
 *   expand(pow_zp(S, 1/p − 1)) · pow(A, p − 1)   the LP backward (simplify_lp.c)
 *
 * "Exact" includes the awkward points: 0, inf and NaN give what the unsimplified graph gives,
 * zero_pole included (pow(pow(x, a), b) with a < 0 folds only when both poles agree).
 * Values may differ in the last bits where a rewrite reassociates (x^(ab) vs (x^a)^b), or
 * moves a finite nonzero constant factor; a product the graph never formed is never formed:
 * a · (b · 0) stays, since (a · b) · 0 is NaN where a · b overflows and the graph gave 0.
 *
 * Names: a node that becomes a new node passes its name on; nodes built on the way are named
 * after it ("<name>.div"); a node folded into an existing one leaves its name behind. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passes/lp_norm.h"
#include "passes/pass.h"
#include "passes/rebuild.h"
#include "passes/simplify.h"
#include "support/error.h"

static const lc_node *node(const lc_simplify *s, int i) { return lc_graph_node(s->g, i); }

lc_status lc_simp_append(lc_simplify *s, lc_op op, int a, int b, const int64_t *attrs,
                         double real, int *out) {
    int inputs[LC_MAX_INPUTS] = {a, b};
    return lc_graph_append(s->g, op, inputs, attrs, real, node(s, a)->dtype, NULL, NULL, out);
}

/* The scalar semantics of the elementwise ops, as the interpreter defines them. */
static double eval_scalar(lc_op op, double a, double b, int64_t flag, double real) {
    switch (op) {
    case LC_OP_ABS: return fabs(a);
    case LC_OP_SIGN: return a > 0 ? 1.0 : a < 0 ? -1.0 : a;
    case LC_OP_POW: return flag && a == 0 && real < 0 ? 0.0 : pow(a, real);
    case LC_OP_MUL: return a * b;
    case LC_OP_ADD: return a + b;
    case LC_OP_EQUAL: return a == b ? 1.0 : 0.0;
    case LC_OP_SELECT: return a != 0 ? b : 0.0; /* a NaN selects */
    case LC_OP_DIV: return flag && a == 0 && b == 0 ? 0.0 : a / b;
    default: LC_ASSERT(!"not an elementwise op"); return 0;
    }
}

/* op over one-element constants -> one constant of the broadcast shape (all extents 1). */
static lc_status fold_constants(lc_simplify *s, lc_op op, int a, int b, int64_t flag, double real,
                                bool *done, int *out) {
    *done = false;
    double va, vb = 0;
    if (!lc_simp_scalar_const(s->g, a, &va) || (b >= 0 && !lc_simp_scalar_const(s->g, b, &vb)))
        return LC_OK;
    lc_shape shape = node(s, a)->shape;
    if (b >= 0) shape = lc_simp_broadcast(&shape, &node(s, b)->shape);
    double v = eval_scalar(op, va, vb, flag, real);
    LC_TRY(lc_constant(s->g, node(s, a)->dtype, shape, &v, out));
    *done = true;
    return LC_OK;
}

/* pow(pow(y, a), e) -> pow(base, a·e): whether it is exact, with which base and pole flag. */
static bool pow_pow_folds(lc_simplify *s, int y, double a, int64_t zp_a, double e, int64_t zp,
                          bool *need_abs) {
    if (!isfinite(a * e)) return false;
    /* Poles: with a < 0 the inner pow sends 0 to inf (or to 0 with zero_pole) and the outer
     * one sends that on; x^(a·e) agrees when both flags are 0, or both are 1 and e > 0
     * (at x = inf with e < 0 the folded form gives inf where the chain gives 0^e = 0). With
     * a > 0 the inner pow has no pole and the outer flag carries over; e = 0 or a = 0 give
     * 1 either way. */
    if (a < 0 && e != 0 && !(zp_a == zp && (zp == 0 || e > 0))) return false;
    *need_abs = false;
    if (lc_simp_nonneg(s, y)) return true;
    if (lc_simp_is_integer(a) && lc_simp_is_integer(e)) return true; /* integer powers of any x */
    if (lc_simp_is_even(a)) { /* y^a = |y|^a, and |y| >= 0 */
        *need_abs = true;
        return true;
    }
    return false;
}

lc_status lc_simp_pow(lc_simplify *s, int x, double e, int64_t zp, int *out) {
    if (e == 1.0) { /* pow(x, 1) = x everywhere: 0, inf, NaN and -0 included */
        *out = x;
        return LC_OK;
    }
    int64_t attrs[LC_MAX_INT_ATTRS] = {[LC_POW_ZERO_POLE] = zp};
    bool done;
    LC_TRY(fold_constants(s, LC_OP_POW, x, -1, zp, e, &done, out));
    if (done) return LC_OK;
    const lc_node *xn = node(s, x);
    bool need_abs;
    if (xn->op == LC_OP_POW &&
        pow_pow_folds(s, xn->inputs[0], xn->real_attr, xn->attr[LC_POW_ZERO_POLE], e, zp, &need_abs)) {
        int base = xn->inputs[0];
        double ae = xn->real_attr * e;
        if (need_abs) LC_TRY(lc_simp_abs(s, base, &base));
        return lc_simp_pow(s, base, ae, zp, out);
    }
    return lc_simp_append(s, LC_OP_POW, x, -1, attrs, e, out);
}

lc_status lc_simp_abs(lc_simplify *s, int x, int *out) {
    if (lc_simp_nonneg(s, x)) {
        *out = x;
        return LC_OK;
    }
    bool done;
    LC_TRY(fold_constants(s, LC_OP_ABS, x, -1, 0, 0, &done, out));
    if (done) return LC_OK;
    return lc_simp_append(s, LC_OP_ABS, x, -1, NULL, 0, out);
}

static lc_status simp_sign(lc_simplify *s, int x, int *out) {
    if (node(s, x)->op == LC_OP_SIGN) { /* -1, 0, 1 and NaN are their own signs */
        *out = x;
        return LC_OK;
    }
    bool done;
    LC_TRY(fold_constants(s, LC_OP_SIGN, x, -1, 0, 0, &done, out));
    if (done) return LC_OK;
    return lc_simp_append(s, LC_OP_SIGN, x, -1, NULL, 0, out);
}

/* a is a one-element constant 1 that broadcasting does not widen b with. */
static bool is_unit_for(const lc_simplify *s, int a, int b) {
    double v;
    return lc_simp_scalar_const(s->g, a, &v) && v == 1.0 &&
           node(s, a)->shape.rank <= node(s, b)->shape.rank;
}

/* sign(x) · abs(x) = x, NaN, inf and 0 included. */
static bool is_sign_abs(const lc_simplify *s, int a, int b, int *x) {
    const lc_node *an = node(s, a), *bn = node(s, b);
    if (an->op != LC_OP_SIGN || bn->op != LC_OP_ABS) return false;
    if (!lc_simp_same(s->g, an->inputs[0], bn->inputs[0])) return false;
    *x = bn->inputs[0];
    return true;
}

lc_status lc_simp_mul(lc_simplify *s, int a, int b, int *out) {
    bool done;
    LC_TRY(fold_constants(s, LC_OP_MUL, a, b, 0, 0, &done, out));
    if (done) return LC_OK;
    if (is_unit_for(s, a, b) || is_unit_for(s, b, a)) {
        *out = is_unit_for(s, a, b) ? b : a;
        return LC_OK;
    }
    if (is_sign_abs(s, a, b, out) || is_sign_abs(s, b, a, out)) return LC_OK;
    LC_TRY(lc_simp_lp_backward(s, a, b, &done, out));
    if (done) return LC_OK;
    LC_TRY(lc_simp_fold_product_constants(s, a, b, &done, out));
    if (done) return LC_OK;
    return lc_simp_append(s, LC_OP_MUL, a, b, NULL, 0, out);
}

/* The simplified form of old node n, whose inputs are already mapped into the new graph. */
static lc_status simplify_node(lc_simplify *s, lc_rebuild *rb, int old, const int *in, int *out) {
    const lc_node *n = lc_graph_node(rb->in, old);
    bool done;
    switch (n->op) {
    case LC_OP_POW: return lc_simp_pow(s, in[0], n->real_attr, n->attr[LC_POW_ZERO_POLE], out);
    case LC_OP_ABS: return lc_simp_abs(s, in[0], out);
    case LC_OP_SIGN: return simp_sign(s, in[0], out);
    case LC_OP_MUL: return lc_simp_mul(s, in[0], in[1], out);
    case LC_OP_ADD:
    case LC_OP_EQUAL:
    case LC_OP_SELECT:
    case LC_OP_DIV:
        LC_TRY(fold_constants(s, n->op, in[0], in[1], n->op == LC_OP_DIV ? n->attr[LC_DIV_SAFE] : 0, 0, &done, out));
        if (done) return LC_OK;
        return lc_rebuild_append(rb, n, in, out);
    case LC_OP_INPUT:
    case LC_OP_CONSTANT:
    case LC_OP_RELU:
    case LC_OP_UNFOLD:
    case LC_OP_FOLD:
    case LC_OP_EXPAND:
    case LC_OP_SUM:
    case LC_OP_MEAN:
    case LC_OP_MAX:
    case LC_OP_MAX_MASK:
        return lc_rebuild_append(rb, n, in, out);
    case LC_OP_COUNT:
        break;
    }
    return lc_fail(LC_ERR_INTERNAL, "node %%%d has no op", old);
}

/* Name what was built for old node `old` (new nodes first..last, the result `result`). */
static lc_status name_built(lc_graph *g, const char *name, int first, int result) {
    if (!name) return LC_OK;
    for (int j = first; j < lc_graph_node_count(g); j++) {
        if (j == result) {
            LC_TRY(lc_graph_set_name(g, j, name));
            continue;
        }
        /* "name.op": simplify names every node it builds, in every compile, so the common
         * case is two copies rather than snprintf's format parsing */
        char buf[256];
        const char *op = lc_op_get_info(lc_graph_node(g, j)->op)->name;
        size_t a = strlen(name), b = strlen(op);
        if (a + 1 + b < sizeof buf) {
            memcpy(buf, name, a);
            buf[a] = '.';
            memcpy(buf + a + 1, op, b + 1);
        } else {
            snprintf(buf, sizeof buf, "%s.%s", name, op); /* cut at 255 bytes */
        }
        LC_TRY(lc_graph_set_name(g, j, buf));
    }
    return LC_OK;
}

/* Rebuilds every node of rb->in in order through `rewrite` (which builds the node's
 * replacement, or appends it as it is), naming what it built after the node. */
typedef lc_status (*node_rewrite)(lc_simplify *s, lc_rebuild *rb, int old, const int *in, int *out);

static lc_status rewrite_all(lc_rebuild *rb, node_rewrite rewrite) {
    lc_simplify s = {.g = rb->out};
    lc_status st = LC_OK;
    for (int i = 0; st == LC_OK && i < lc_graph_node_count(rb->in); i++) {
        const lc_node *n = lc_graph_node(rb->in, i);
        int in[LC_MAX_INPUTS] = {-1, -1};
        for (int k = 0; k < lc_op_get_info(n->op)->arity; k++) in[k] = rb->map[n->inputs[k]];
        int first = lc_graph_node_count(rb->out), result = -1;
        st = rewrite(&s, rb, i, in, &result);
        rb->map[i] = result;
        if (st == LC_OK && result >= first) st = name_built(rb->out, n->name, first, result);
    }
    free(s.nonneg);
    return st;
}

lc_status lc_pass_simplify(const lc_graph *in, lc_graph **out) {
    *out = NULL;
    lc_rebuild rb;
    lc_status st = lc_rebuild_begin(&rb, in);
    if (st == LC_OK) st = rewrite_all(&rb, simplify_node);
    if (st == LC_OK) st = lc_rebuild_finish(&rb, out);
    lc_rebuild_abort(&rb);
    return st == LC_OK ? LC_OK : lc_fail_prefix(st, "simplify");
}

/* ---- the LP backward rewrite alone (lp_norm.h, lc_lp_backward_stable) ---- */

/* The LP backward rewrite where a multiply matches it; every other node as it is. */
static lc_status lp_backward_node(lc_simplify *s, lc_rebuild *rb, int old, const int *in, int *out) {
    const lc_node *n = lc_graph_node(rb->in, old);
    bool done = false;
    lc_status st = LC_OK;
    if (n->op == LC_OP_MUL) st = lc_simp_lp_backward(s, in[0], in[1], &done, out);
    if (st == LC_OK && !done) st = lc_rebuild_append(rb, n, in, out);
    return st;
}

lc_status lc_lp_backward_stable(const lc_graph *in, lc_graph **out) {
    *out = NULL;
    lc_simplify probe = {.g = (lc_graph *)in}; /* read only: the matcher builds nothing */
    bool found = false;
    for (int i = 0; !found && i < lc_graph_node_count(in); i++) {
        const lc_node *n = lc_graph_node(in, i);
        found = n->op == LC_OP_MUL && lc_simp_lp_backward_matches(&probe, n->inputs[0], n->inputs[1]);
    }
    free(probe.nonneg);
    if (!found) return LC_OK;
    lc_rebuild rb;
    lc_graph *rewritten = NULL;
    lc_status st = lc_rebuild_begin(&rb, in);
    if (st == LC_OK) st = rewrite_all(&rb, lp_backward_node);
    if (st == LC_OK) st = lc_rebuild_finish(&rb, &rewritten);
    lc_rebuild_abort(&rb);
    if (st == LC_OK) st = lc_pass_dce(rewritten, out); /* the literal factors are dead now */
    lc_graph_free(rewritten);
    return st == LC_OK ? LC_OK : lc_fail_prefix(st, "LP backward");
}
