/* Every gradient rule in one place: the vector-Jacobian product of each op of ops.def, with
 * its convention stated where the derivative is not the textbook one (docs/semantics.md,
 * "Gradients"). For y = op(x, ...) and upstream gradient gy (y's shape), a rule appends nodes
 * computing gx = gy · ∂y/∂x, reduced back to x's shape.
 *
 * The conventions, and what they give the modules:
 *   abs'(x)    = sign(x), with sign(0) = 0: a zero input passes gradient 0.
 *   pow'(b, e) = e · b^(e-1); where e - 1 < 0 the power is emitted with zero_pole, so at b = 0
 *                it is 0, not inf (the subgradient). In LPPool1d, y = pow(S, 1/p) with
 *                S = Σ pow(|x|, p): a window whose S is 0 gets S^(1/p - 1) = 0 (p > 1), so
 *                it passes gradient 0, not NaN; and x = 0 with p < 1 gets |x|^(p-1) = 0.
 *                With e = 1 the derivative is 1 everywhere (0^0 = 1); with e = 0 it is 0.
 *   div        ga = gy / b and gb = -(gy · y) / b divide with the forward's safe flag: a
 *                safe div's 0/0 = 0 makes gb = 0 where a = b = 0, and ga = 0 there only when
 *                gy = 0 (otherwise gy/0 = ±inf, as the forward a/0 is for any a ≠ 0).
 *   sign, equal, max_mask are piecewise constant: zero gradient (no node at all).
 *   relu       gx = select(relu(x), gy): gy where x > 0 (and where x is NaN), +0 where x <= 0
 *              (PyTorch's 0 at the kink), whatever gy holds there (a select, not gy · mask,
 *              whose 0 · inf would be NaN: PyTorch's threshold gives 0).
 *   max        gx = select(max_mask(x), expand(gy)): gy to the chosen element alone, +0 to
 *              the others even where gy is inf or NaN (PyTorch's scatter); MaxPool2d's
 *              chain selects by its window slot the same way (lc_grad_max2d).
 *   select     gx = select(m, gy) for x; the mask gets none (piecewise constant).
 * No convention forms 0 · inf: zero_pole and the safe div give their zeros instead of the
 * inf that would otherwise meet them (in the LP chain, S^(1/p - 1) at S = 0 and |x|^(p-1)
 * at x = 0). Away from those points the factors are the textbook ones, so they can overflow
 * only where the derivative itself does (|x|^(p-1) for huge p is simplify's rewrite). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/window.h"
#include "passes/grad_rules.h"
#include "support/error.h"

lc_status lc_grad_set_name(lc_graph *g, int node, int target, const char *suffix) {
    const lc_node *t = lc_graph_node(g, target);
    char label[32];
    const char *name = t->name;
    if (!name) {
        snprintf(label, sizeof label, "%%%d", target);
        name = label;
    }
    size_t len = strlen(name) + (suffix ? strlen(suffix) : 0) + 8;
    char stack[256];
    char *buf = len <= sizeof stack ? stack : malloc(len);
    if (!buf) return lc_fail(LC_ERR_NOMEM, "autodiff: out of memory");
    snprintf(buf, len, "grad.%s%s%s", name, suffix ? "." : "", suffix ? suffix : "");
    lc_status st = lc_graph_set_name(g, node, buf);
    if (buf != stack) free(buf);
    return st;
}

/* Builders for the nodes of one rule: each names what it appends after `target`, the operand
 * whose gradient is being formed, and stops at the first failure (kept in st). */
typedef struct emitter {
    lc_graph *g;
    int target;
    lc_status st;
} emitter;

static int named(emitter *e, lc_status st, int node, const char *what) {
    if (e->st != LC_OK) return -1;
    if (st == LC_OK) st = lc_grad_set_name(e->g, node, e->target, what);
    e->st = st;
    return st == LC_OK ? node : -1;
}

static int e_scalar(emitter *e, int like, double v) {
    int out = -1;
    if (e->st != LC_OK) return -1;
    e->st = lc_scalar(e->g, lc_graph_node(e->g, like)->dtype, v, &out);
    return e->st == LC_OK ? out : -1; /* constants stay unnamed: their value says it all */
}

static int e_mul(emitter *e, int a, int b) {
    if (e->st != LC_OK) return -1;
    int out = -1;
    lc_status st = lc_mul(e->g, a, b, &out);
    return named(e, st, out, "mul");
}

static int e_select(emitter *e, int m, int x) {
    if (e->st != LC_OK) return -1;
    int out = -1;
    lc_status st = lc_select(e->g, m, x, &out);
    return named(e, st, out, "select");
}

static int e_div(emitter *e, int a, int b, bool safe) {
    if (e->st != LC_OK) return -1;
    int out = -1;
    lc_status st = safe ? lc_div_safe(e->g, a, b, &out) : lc_div(e->g, a, b, &out);
    return named(e, st, out, "div");
}

static int e_sum(emitter *e, int x, int dim) {
    if (e->st != LC_OK) return -1;
    int out = -1;
    lc_status st = lc_sum(e->g, x, dim, &out);
    return named(e, st, out, "sum");
}

static int e_expand(emitter *e, int x, int dim, int64_t size) {
    if (e->st != LC_OK) return -1;
    int out = -1;
    lc_status st = lc_expand(e->g, x, dim, size, &out);
    return named(e, st, out, "expand");
}

/* Sum a gradient of the broadcast result's shape back to the shape of operand `x` (numpy
 * broadcasting, docs/text-ir.md): leading axes the operand lacks are summed away one at a time
 * (always axis 0), and an axis where the operand has extent 1 but the result does not is
 * summed and reinserted with extent 1 (sum then expand(size 1): the reshape the op set lacks). */
static int reduce_to(emitter *e, int grad, int x) {
    if (e->st != LC_OK) return -1;
    lc_shape want = lc_graph_node(e->g, x)->shape;
    while (grad >= 0 && lc_graph_node(e->g, grad)->shape.rank > want.rank) grad = e_sum(e, grad, 0);
    for (int i = 0; grad >= 0 && i < want.rank; i++)
        if (want.dim[i] == 1 && lc_graph_node(e->g, grad)->shape.dim[i] != 1)
            grad = e_expand(e, e_sum(e, grad, i), i, 1);
    return grad;
}

/* pow(b, e): gb = gy · e · b^(e-1). The power gets zero_pole when e - 1 < 0, so 0^(e-1) is 0:
 * pow'(0, e < 1) = 0 by convention (docs/semantics.md). e = 1 passes gy through (derivative 1,
 * also at b = 0); e = 0 has derivative 0. */
static int rule_pow(emitter *e, const lc_node *y, int gy) {
    double ex = y->real_attr;
    int b = y->inputs[0];
    if (ex == 0) return -1;
    if (ex == 1) return gy;
    int p = -1;
    if (e->st == LC_OK) {
        lc_status st = ex - 1 < 0 ? lc_pow_zero_pole(e->g, b, ex - 1, &p) : lc_pow(e->g, b, ex - 1, &p);
        p = named(e, st, p, "pow");
    }
    return e_mul(e, gy, e_mul(e, p, e_scalar(e, b, ex)));
}

/* div(a, b): ga = gy / b; gb = -gy · a / b² = -(gy · y) / b (y = a / b is already computed and
 * finite wherever the forward is). Both divide with the forward's safe flag. */
static int rule_div_den(emitter *e, int yi, const lc_node *y, int gy) {
    bool safe = y->attr[LC_DIV_SAFE] != 0;
    int t = e_div(e, e_mul(e, gy, yi), y->inputs[1], safe);
    return reduce_to(e, e_mul(e, t, e_scalar(e, yi, -1.0)), y->inputs[1]);
}

static int rule(emitter *e, int yi, int gy, int operand) {
    const lc_node *y = lc_graph_node(e->g, yi);
    int x = y->inputs[operand];
    const lc_node *xn = lc_graph_node(e->g, x);
    const int64_t *a = y->attr;
    int out = -1;
    switch (y->op) {
    case LC_OP_INPUT:
    case LC_OP_CONSTANT:
        return -1; /* no operands */
    case LC_OP_UNFOLD: {
        /* The adjoint of a window view: every window slot's gradient goes back onto its source
         * position; slots in the padding have no source and are dropped. */
        if (e->st != LC_OK) return -1;
        lc_window w = lc_window_of(y);
        lc_status st = lc_fold_dilated(e->g, gy, w.dim, w.size, w.step, w.pad_lo, w.pad_hi, w.dilation,
                                       xn->shape.dim[w.dim], &out);
        return named(e, st, out, "fold");
    }
    case LC_OP_FOLD: {
        /* fold is linear and its adjoint is unfold with the same windows: each slot reads the
         * gradient of the position it was summed onto (0 for padding). */
        if (e->st != LC_OK) return -1;
        lc_window w = lc_window_of(y);
        lc_status st = lc_unfold_dilated(e->g, gy, w.dim, w.size, w.step, w.pad_lo, w.pad_hi, w.dilation, &out);
        return named(e, st, out, "unfold");
    }
    case LC_OP_EXPAND:
        return e_sum(e, gy, (int)a[LC_EXPAND_DIM]); /* every copy's gradient adds up */
    case LC_OP_ABS: {
        if (e->st != LC_OK) return -1;
        int s = -1;
        lc_status st = lc_sign(e->g, x, &s); /* abs'(0) = sign(0) = 0 */
        return e_mul(e, gy, named(e, st, s, "sign"));
    }
    case LC_OP_SIGN:
        return -1; /* piecewise constant; the jump at 0 has no gradient by convention */
    case LC_OP_RELU:
        /* y is nonzero where x > 0 (or NaN) and 0 where x <= 0: relu'(0) = 0 */
        return e_select(e, yi, gy);
    case LC_OP_SELECT:
        if (operand == 0) return -1; /* the mask: piecewise constant */
        return reduce_to(e, e_select(e, y->inputs[0], gy), x);
    case LC_OP_POW:
        return rule_pow(e, y, gy);
    case LC_OP_MUL:
        return reduce_to(e, e_mul(e, gy, y->inputs[1 - operand]), x);
    case LC_OP_ADD:
        return reduce_to(e, gy, x);
    case LC_OP_DIV:
        if (operand == 0) return reduce_to(e, e_div(e, gy, y->inputs[1], y->attr[LC_DIV_SAFE] != 0), x);
        return rule_div_den(e, yi, y, gy);
    case LC_OP_SUM:
        return e_expand(e, gy, (int)a[LC_SUM_DIM], xn->shape.dim[a[LC_SUM_DIM]]);
    case LC_OP_MEAN: {
        /* Each of the n elements contributed 1/n. Dividing by n, as the forward does, instead of
         * multiplying by a rounded 1/n keeps the gradient exact where the forward is. */
        int64_t n = xn->shape.dim[a[LC_MEAN_DIM]];
        return e_div(e, e_expand(e, gy, (int)a[LC_MEAN_DIM], n), e_scalar(e, x, (double)n), false);
    }
    case LC_OP_MAX: {
        /* Only the chosen element (max_mask: the first maximum, or the first NaN) gets gy; a
         * window of padding alone chooses a padding slot, whose gradient the fold drops. */
        if (e->st != LC_OK) return -1;
        int mask = -1, dim = (int)a[LC_MAX_DIM];
        lc_status st = lc_max_mask(e->g, x, dim, &mask);
        return e_select(e, named(e, st, mask, "max_mask"), e_expand(e, gy, dim, xn->shape.dim[dim]));
    }
    case LC_OP_MAX_MASK:
    case LC_OP_EQUAL:
        return -1; /* piecewise constant: no gradient */
    case LC_OP_COUNT:
        break;
    }
    if (e->st == LC_OK) e->st = lc_fail(LC_ERR_INTERNAL, "autodiff: no gradient rule for op %d", (int)y->op);
    return -1;
}

/* An unfold padded with -inf whose only reader here is a max over its window axis. */
static bool max_window(const lc_graph *g, int maxn, int *unfold) {
    const lc_node *m = lc_graph_node(g, maxn);
    if (m->op != LC_OP_MAX) return false;
    const lc_node *u = lc_graph_node(g, m->inputs[0]);
    if (u->op != LC_OP_UNFOLD || !u->attr[LC_UNFOLD_NEG_INF_PAD] || m->attr[LC_MAX_DIM] != u->shape.rank - 1)
        return false;
    *unfold = m->inputs[0];
    return true;
}

bool lc_grad_max2d_chain(const lc_graph *g, int y, int *rows, int *row_max, int *cols) {
    if (!max_window(g, y, rows)) return false;
    int rm = lc_graph_node(g, *rows)->inputs[0];
    if (!max_window(g, rm, cols)) return false;
    const lc_node *r = lc_graph_node(g, *rows), *c = lc_graph_node(g, *cols);
    if (r->attr[LC_UNFOLD_DIM] == c->attr[LC_UNFOLD_DIM]) return false;
    /* (slots a·kw + b, below 64, are exact integers in either float type) */
    lc_window wr = lc_window_of(r), wc = lc_window_of(c);
    if (wr.size > LC_MAX2D_SLOTS_MAX || wc.size > LC_MAX2D_SLOTS_MAX || wr.size * wc.size > LC_MAX2D_SLOTS_MAX ||
        lc_window_cover(&wr) > LC_MAX2D_COVER_MAX || lc_window_cover(&wc) > LC_MAX2D_COVER_MAX)
        return false;
    *row_max = rm;
    return true;
}

static int e_constant(emitter *e, int like, lc_shape shape, const double *data) {
    int out = -1;
    if (e->st != LC_OK) return -1;
    e->st = lc_constant(e->g, lc_graph_node(e->g, like)->dtype, shape, data, &out);
    return e->st == LC_OK ? out : -1;
}

/* sum over the window axis of max_mask(windows) · value: the value at the chosen slot (the
 * mask has one 1 per window, so every other term is +0 and the sum is exact) */
static int e_chosen(emitter *e, int windows, int value, const char *what) {
    if (e->st != LC_OK) return -1;
    int last = lc_graph_node(e->g, windows)->shape.rank - 1, mask = -1;
    lc_status st = lc_max_mask(e->g, windows, last, &mask);
    mask = named(e, st, mask, "max_mask");
    int picked = e_mul(e, mask, value), out = -1;
    if (e->st != LC_OK) return -1;
    lc_status st2 = lc_sum(e->g, picked, last, &out);
    return named(e, st2, out, what);
}

static int e_fold(emitter *e, int x, lc_window w, int64_t length) {
    if (e->st != LC_OK) return -1;
    int out = -1;
    lc_status st = lc_fold_dilated(e->g, x, w.dim, w.size, w.step, w.pad_lo, w.pad_hi, w.dilation, length, &out);
    return named(e, st, out, "fold");
}

lc_status lc_grad_max2d(lc_graph *g, int y, int gy, int *gx) {
    int rows, rm, cols;
    if (!lc_grad_max2d_chain(g, y, &rows, &rm, &cols))
        return lc_fail(LC_ERR_INTERNAL, "autodiff: node %%%d is not a separable 2-D max pool", y);
    int x = lc_graph_node(g, cols)->inputs[0];
    lc_window wr = lc_window_of(lc_graph_node(g, rows)), wc = lc_window_of(lc_graph_node(g, cols));
    int64_t kh = wr.size, kw = wc.size;
    int rank = lc_graph_node(g, y)->shape.rank;
    emitter e = {.g = g, .target = x, .st = LC_OK};
    double *ramp = malloc((size_t)(kh * kw) * sizeof *ramp);
    if (!ramp) return lc_fail(LC_ERR_NOMEM, "autodiff: out of memory");
    /* the column of each row's first maximum within its column window, b = 0..kw-1 */
    for (int64_t b = 0; b < kw; b++) ramp[b] = (double)b;
    int col_slot = e_chosen(&e, cols, e_constant(&e, x, lc_shape_make(1, (int64_t[]){kw}), ramp), "col_slot");
    /* read through the row windows (0 in their padding: a padding row is chosen only by a
     * window of -inf alone, as its first slot, whose place has no source), plus a·kw */
    int col_slots = -1;
    if (e.st == LC_OK) {
        lc_status st = lc_unfold_dilated(g, col_slot, wr.dim, wr.size, wr.step, wr.pad_lo, wr.pad_hi, wr.dilation,
                                         &col_slots);
        col_slots = named(&e, st, col_slots, "unfold");
    }
    for (int64_t a = 0; a < kh; a++) ramp[a] = (double)(a * kw);
    int row_base = e_constant(&e, x, lc_shape_make(1, (int64_t[]){kh}), ramp);
    int cand = -1;
    if (e.st == LC_OK) {
        lc_status st = lc_add(g, col_slots, row_base, &cand);
        cand = named(&e, st, cand, "add");
    }
    int slot = e_chosen(&e, rows, cand, "slot");
    /* each window's slot and gy over its kh x kw places, laid out (..., kw, kh) so that the
     * row fold (window axis last) leaves the column windows' shape (..., kw) for the column
     * fold; place[b][a] = a·kw + b */
    for (int64_t b = 0; b < kw; b++)
        for (int64_t a = 0; a < kh; a++) ramp[b * kh + a] = (double)(a * kw + b);
    int place = e_constant(&e, x, lc_shape_make(2, (int64_t[]){kw, kh}), ramp);
    free(ramp);
    int slots = e_expand(&e, e_expand(&e, slot, rank, kw), rank + 1, kh);
    int hit = -1;
    if (e.st == LC_OK) {
        lc_status st = lc_equal(g, slots, place, &hit);
        hit = named(&e, st, hit, "equal");
    }
    int gys = e_expand(&e, e_expand(&e, gy, rank, kw), rank + 1, kh);
    int per_place = e_select(&e, hit, gys);
    const lc_node *rmn = lc_graph_node(g, rm), *xn = lc_graph_node(g, x);
    int by_cols = e_fold(&e, per_place, wr, rmn->shape.dim[wr.dim]);
    *gx = e_fold(&e, by_cols, wc, xn->shape.dim[wc.dim]);
    return e.st;
}

lc_status lc_grad_rule(lc_graph *g, int y, int gy, const bool need[LC_MAX_INPUTS],
                       int contrib[LC_MAX_INPUTS]) {
    const lc_node *yn = lc_graph_node(g, y);
    int arity = lc_op_get_info(yn->op)->arity;
    for (int i = 0; i < LC_MAX_INPUTS; i++) contrib[i] = -1;
    for (int i = 0; i < arity; i++) {
        if (!need[i]) continue;
        emitter e = {.g = g, .target = yn->inputs[i], .st = LC_OK};
        contrib[i] = rule(&e, y, gy, i);
        if (e.st != LC_OK) return e.st;
    }
    return LC_OK;
}
