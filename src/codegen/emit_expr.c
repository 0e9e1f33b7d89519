/* The value of a node at an index, evaluated inline through the kernel's nodes: elementwise
 * ops, reductions (sum, mean, and the LP norm of p far from 1, scaled by the window max), unfold as index arithmetic,
 * fold as a gather over the windows covering a position, expand. */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "codegen/emit_internal.h"

/* ---- reductions ---- */

typedef struct reduce_ctx {
    int x;            /* reduced node's input */
    int dim;
    const ix *idx;    /* index of the reduction's result */
    int rank;         /* rank of x */
    double p;         /* scaled LP: exponent */
    LLVMValueRef m;   /* scaled LP: window max |x| */
    LLVMValueRef nan; /* scaled LP: accumulated "saw a NaN" (as float: 0 or NaN) */
} reduce_ctx;

static void reduce_index(const reduce_ctx *r, ix j, ix *xi) {
    for (int d = 0, s = 0; d < r->rank; d++) xi[d] = d == r->dim ? j : r->idx[s++];
}

static void sum_term(emitter *e, void *ctx, ix j, LLVMValueRef *t) {
    reduce_ctx *r = ctx;
    ix xi[LC_MAX_RANK];
    reduce_index(r, j, xi);
    t[0] = lc_emit_value(e, r->x, xi);
}

static void add(emitter *e, LLVMValueRef *acc, const LLVMValueRef *t) {
    acc[0] = LLVMBuildFAdd(e->b, acc[0], t[0], "");
}

/* The sum of `n` terms from +0 (see emit_reduce.c for the order), as fuse scheduled the
 * reduction of node `node`. */
static LLVMValueRef emit_sum(emitter *e, int node, lc_dtype dt, int64_t n,
                             void (*term)(emitter *, void *, ix, LLVMValueRef *), void *ctx) {
    const lc_reduction_schedule *rs = lc_kernel_reduction(e->k, node);
    LC_ASSERT(rs && rs->terms == n); /* fuse scheduled every inline reduction, at its length */
    lc_reducer r = {1, term, add, ctx};
    LLVMValueRef acc = real_const(e, dt, 0.0);
    lc_emit_reduce(e, real_type(e, dt), n, rs->unrolled, &r, &acc);
    return acc;
}

/* ---- the scaled LP norm: m·(Σ(|e|/m)^p)^(1/p), m = max |e| ---- */

static LLVMValueRef abs_term(emitter *e, reduce_ctx *r, ix j) {
    /* the sum's input is pow(abs(E), p); evaluate |E| (fuse scales only when A = abs(E)) */
    const lc_node *q = lc_graph_node(e->f->graph, r->x);
    ix xi[LC_MAX_RANK];
    reduce_index(r, j, xi);
    return lc_emit_value(e, q->inputs[0], xi);
}

/* The window max of |E| and whether a NaN was seen: acc[0] is the max, acc[1] the last NaN met
 * (0 while none). Both start from 0 (|E| >= 0). */
static void abs_terms(emitter *e, void *ctx, ix j, LLVMValueRef *t) {
    t[0] = t[1] = abs_term(e, ctx, j);
}

static void max_and_nan(emitter *e, LLVMValueRef *acc, const LLVMValueRef *t) {
    LLVMValueRef gt = LLVMBuildFCmp(e->b, LLVMRealOGT, t[0], acc[0], "");
    acc[0] = LLVMBuildSelect(e->b, gt, t[0], acc[0], "");
    /* remember a NaN: the window's result is NaN whatever else it holds */
    LLVMValueRef isnan = LLVMBuildFCmp(e->b, LLVMRealUNO, t[1], t[1], "");
    acc[1] = LLVMBuildSelect(e->b, isnan, t[1], acc[1], "");
}

static void scaled_term(emitter *e, void *ctx, ix j, LLVMValueRef *t) {
    reduce_ctx *r = ctx;
    LLVMValueRef a = abs_term(e, r, j);
    LLVMValueRef q = LLVMBuildFDiv(e->b, a, r->m, "");
    lc_dtype dt = lc_graph_node(e->f->graph, r->x)->dtype;
    t[0] = lc_emit_pow(e, q, r->p, false, dt);
}

static LLVMValueRef emit_scaled_lp(emitter *e, const lc_lp_schedule *lp, const ix *idx) {
    const lc_graph *g = e->f->graph;
    const lc_node *n = lc_graph_node(g, lp->norm.root);
    const lc_node *xn = lc_graph_node(g, lp->norm.terms);
    reduce_ctx r = {lp->norm.terms, lp->norm.dim, idx, xn->shape.rank, lp->norm.p, NULL, NULL};
    int64_t len = xn->shape.dim[r.dim];
    lc_dtype dt = n->dtype;
    if (len <= 0) return real_const(e, dt, 0.0);
    /* both passes over the window run as fuse scheduled the sum they replace */
    const lc_reduction_schedule *rs = lc_kernel_reduction(e->k, lp->norm.sum);
    LC_ASSERT(rs && rs->terms == len);
    lc_reducer max = {2, abs_terms, max_and_nan, &r};
    LLVMValueRef acc[2] = {real_const(e, dt, 0.0), real_const(e, dt, 0.0)};
    lc_emit_reduce(e, real_type(e, dt), len, rs->unrolled, &max, acc);
    r.m = acc[0];
    LLVMValueRef saw_nan = acc[1];
    LLVMValueRef sum = emit_sum(e, lp->norm.sum, dt, len, scaled_term, &r);
    LLVMValueRef y = LLVMBuildFMul(e->b, r.m, lc_emit_pow(e, sum, n->real_attr, false, dt), "");
    LLVMValueRef zero = LLVMBuildFCmp(e->b, LLVMRealOEQ, r.m, real_const(e, dt, 0.0), "");
    y = LLVMBuildSelect(e->b, zero, real_const(e, dt, 0.0), y, "");
    LLVMValueRef inf = LLVMBuildFCmp(e->b, LLVMRealOEQ, r.m, real_const(e, dt, INFINITY), "");
    y = LLVMBuildSelect(e->b, inf, r.m, y, "");
    LLVMValueRef nan = LLVMBuildFCmp(e->b, LLVMRealUNO, saw_nan, saw_nan, "");
    return LLVMBuildSelect(e->b, nan, saw_nan, y, "");
}

/* ---- fold: gather the windows covering a position ---- */

typedef struct fold_ctx {
    const lc_node *n;
    int y;            /* folded node */
    const ix *idx;    /* index of the fold's result, without its `dim` axis */
    LLVMValueRef base_o; /* floor((i + pad_lo) / step) */
    ix t;                /* i + pad_lo */
} fold_ctx;

static void fold_term(emitter *e, void *ctx, ix r, LLVMValueRef *t) {
    fold_ctx *c = ctx;
    const lc_node *n = c->n;
    const lc_node *yn = lc_graph_node(e->f->graph, c->y);
    lc_window w = lc_window_of(n);
    int dim = w.dim;
    int64_t size = w.size, step = w.step;
    int64_t windows = yn->shape.dim[dim];
    lc_dtype dt = n->dtype;
    /* windows visited in increasing order: o = base_o - (count - 1 - r) */
    int64_t count = lc_window_cover(&w);
    LLVMValueRef o = LLVMBuildAdd(e->b, iadd_c(e, c->base_o, -(count - 1)), r.v, "");
    LLVMValueRef j = LLVMBuildSub(e->b, c->t.v, imul_c(e, o, step), "");
    LLVMValueRef ok = LLVMBuildAnd(
        e->b, in_range(e, o, windows),
        LLVMBuildICmp(e->b, LLVMIntSLT, j, LLVMConstInt(e->i64, (unsigned long long)size, 1), ""), "");
    ix yi[LC_MAX_RANK];
    for (int d = 0, s = 0; d < yn->shape.rank; d++) {
        if (d == dim) {
            yi[d] = ix_opaque(imin_c(e, imax_c(e, o, 0), windows - 1));
            yi[d].fold_role = 1;
        } else if (d == yn->shape.rank - 1) {
            yi[d] = ix_opaque(imin_c(e, imax_c(e, j, 0), size - 1));
            yi[d].fold_role = 2;
        } else {
            yi[d] = c->idx[s++];
            continue;
        }
        yi[d].fold_t = &c->t;
        yi[d].fold_step = step;
    }
    LLVMValueRef v = lc_emit_value(e, c->y, yi);
    t[0] = LLVMBuildSelect(e->b, ok, v, real_const(e, dt, 0.0), "");
}

/* ---- the value of a node at an index ---- */

static void broadcast_index(const lc_shape *out, const lc_shape *in, const ix *idx, ix *res,
                            emitter *e) {
    for (int d = 0; d < in->rank; d++) {
        int od = out->rank - in->rank + d;
        res[d] = (in->dim[d] == 1) ? ix_const(e, 0) : idx[od];
    }
}

static LLVMValueRef compute_node(emitter *e, int node, const ix *idx);

/* Evaluating a node recurses into its inline inputs: fuse bounded how deep that goes
 * (LC_INLINE_DEPTH_MAX, the kernel's sched.inline_depth), so the stack is bounded too. */
LLVMValueRef lc_emit_compute(emitter *e, int node, const ix *idx) {
    e->depth++;
    assert(e->depth <= e->k->sched.inline_depth && e->depth <= 2 * LC_INLINE_DEPTH_MAX);
    LLVMValueRef v = compute_node(e, node, idx);
    e->depth--;
    return v;
}

static LLVMValueRef compute_node(emitter *e, int node, const ix *idx) {
    const lc_graph *g = e->f->graph;
    const lc_node *n = lc_graph_node(g, node);
    lc_dtype dt = n->dtype;
    switch (n->op) {
    case LC_OP_INPUT:
        return lc_emit_load(e, e->slot_ptr[e->f->node_slot[node]], e->f->node_slot[node], dt, &n->shape, idx);
    case LC_OP_CONSTANT: {
        int64_t numel = lc_shape_numel(&n->shape);
        if (numel == 1) return real_const(e, dt, n->data[0]);
        if (numel == 0) return real_const(e, dt, 0.0);
        if (!e->globals[node]) {
            LLVMTypeRef ty = real_type(e, dt);
            LLVMValueRef *vals = malloc(sizeof(LLVMValueRef) * (size_t)numel);
            if (!vals) return NULL;
            for (int64_t i = 0; i < numel; i++) vals[i] = real_const(e, dt, n->data[i]);
            LLVMValueRef init = LLVMConstArray(ty, vals, (unsigned)numel);
            free(vals);
            char name[32];
            snprintf(name, sizeof name, "lc_const_%d", node);
            LLVMValueRef gv = LLVMAddGlobal(e->mod, LLVMTypeOf(init), name);
            LLVMSetInitializer(gv, init);
            LLVMSetGlobalConstant(gv, 1);
            LLVMSetLinkage(gv, LLVMPrivateLinkage);
            LLVMSetAlignment(gv, 64);
            e->globals[node] = gv;
        }
        return lc_emit_load(e, e->globals[node], -1, dt, &n->shape, idx);
    }
    case LC_OP_UNFOLD: {
        const lc_node *xn = lc_graph_node(g, n->inputs[0]);
        lc_window w = lc_window_of(n);
        int dim = w.dim;
        int64_t step = w.step, lo = w.pad_lo;
        int64_t len = xn->shape.dim[dim];
        if (len == 0) return real_const(e, dt, 0.0);
        const ix *o = &idx[dim], *j = &idx[n->shape.rank - 1];
        ix pos = ix_opaque(NULL);
        if (o->fold_t && o->fold_t == j->fold_t && o->fold_role == 1 && j->fold_role == 2 &&
            o->fold_step == step) {
            pos = *o->fold_t; /* o·step + j = t exactly wherever the gathered term counts */
            pos.v = iadd_c(e, pos.v, -lo);
            pos.k -= lo;
        } else {
            pos.v = LLVMBuildAdd(e->b, iadd_c(e, imul_c(e, o->v, step), -lo), j->v, "");
            lc_affine ao = {o->ci, o->k, o->rlo, o->rhi}, aj = {j->ci, j->k, j->rlo, j->rhi}, ap;
            pos.aff = o->aff && j->aff && lc_window_position_affine(&ao, &aj, step, lo, &ap);
            if (pos.aff) {
                pos.ci = ap.ci;
                pos.k = ap.k;
                pos.rlo = ap.rlo;
                pos.rhi = ap.rhi;
            }
        }
        ix xi[LC_MAX_RANK];
        for (int d = 0; d < xn->shape.rank; d++) xi[d] = idx[d];
        if (lc_emit_check_elided(e, &pos, len)) {
            xi[dim] = pos;
            return lc_emit_value(e, n->inputs[0], xi);
        }
        /* The clamped position keeps pos's affine form: wherever this check can be elided the
         * two are equal, so checks further down (an unfold of an unfold) record the same
         * interior here, in the checked pass, as they assume in the unchecked one. */
        ix clamped = pos;
        clamped.v = imin_c(e, imax_c(e, pos.v, 0), len - 1);
        clamped.fold_t = NULL;
        clamped.fold_role = 0;
        xi[dim] = clamped;
        LLVMValueRef v = lc_emit_value(e, n->inputs[0], xi);
        return LLVMBuildSelect(e->b, in_range(e, pos.v, len), v, real_const(e, dt, 0.0), "");
    }
    case LC_OP_FOLD: {
        lc_window w = lc_window_of(n);
        int dim = w.dim;
        int64_t step = w.step, lo = w.pad_lo;
        ix t = idx[dim];
        t.v = iadd_c(e, idx[dim].v, lo);
        t.k += lo;
        t.fold_t = NULL;
        /* y's axes other than the windows and the slot axis are the fold's other axes */
        ix other[LC_MAX_RANK];
        for (int d = 0, s = 0; d < n->shape.rank; d++)
            if (d != dim) other[s++] = idx[d];
        fold_ctx c = {n, n->inputs[0], other, NULL, t};
        c.base_o = LLVMBuildSDiv(e->b, t.v, LLVMConstInt(e->i64, (unsigned long long)step, 1), "");
        return emit_sum(e, node, dt, lc_window_cover(&w), fold_term, &c);
    }
    case LC_OP_EXPAND: {
        int dim = (int)n->attr[LC_EXPAND_DIM];
        ix xi[LC_MAX_RANK];
        for (int d = 0, s = 0; d < n->shape.rank; d++)
            if (d != dim) xi[s++] = idx[d];
        return lc_emit_value(e, n->inputs[0], xi);
    }
    case LC_OP_ABS:
        return unary_intrinsic(e, "llvm.fabs", lc_emit_value(e, n->inputs[0], idx));
    case LC_OP_SIGN: {
        LLVMValueRef x = lc_emit_value(e, n->inputs[0], idx);
        LLVMValueRef pos = LLVMBuildFCmp(e->b, LLVMRealOGT, x, real_const(e, dt, 0.0), "");
        LLVMValueRef neg = LLVMBuildFCmp(e->b, LLVMRealOLT, x, real_const(e, dt, 0.0), "");
        LLVMValueRef r = LLVMBuildSelect(e->b, neg, real_const(e, dt, -1.0), x, "");
        return LLVMBuildSelect(e->b, pos, real_const(e, dt, 1.0), r, "");
    }
    case LC_OP_RELU: {
        /* unordered-or-greater keeps a NaN: relu(NaN) = NaN, as the interpreter */
        LLVMValueRef x = lc_emit_value(e, n->inputs[0], idx);
        LLVMValueRef keep = LLVMBuildFCmp(e->b, LLVMRealUGT, x, real_const(e, dt, 0.0), "");
        return LLVMBuildSelect(e->b, keep, x, real_const(e, dt, 0.0), "");
    }
    case LC_OP_POW: {
        const lc_lp_schedule *lp = lc_kernel_lp_norm(e->k, node);
        if (lp && lp->scaled) return emit_scaled_lp(e, lp, idx);
        return lc_emit_pow(e, lc_emit_value(e, n->inputs[0], idx), n->real_attr, n->attr[LC_POW_ZERO_POLE] != 0, dt);
    }
    case LC_OP_MUL:
    case LC_OP_ADD:
    case LC_OP_DIV: {
        ix ai[LC_MAX_RANK], bi[LC_MAX_RANK];
        const lc_node *an = lc_graph_node(g, n->inputs[0]), *bn = lc_graph_node(g, n->inputs[1]);
        broadcast_index(&n->shape, &an->shape, idx, ai, e);
        broadcast_index(&n->shape, &bn->shape, idx, bi, e);
        LLVMValueRef a = lc_emit_value(e, n->inputs[0], ai);
        LLVMValueRef b = lc_emit_value(e, n->inputs[1], bi);
        if (n->op == LC_OP_MUL) return LLVMBuildFMul(e->b, a, b, "");
        if (n->op == LC_OP_ADD) return LLVMBuildFAdd(e->b, a, b, "");
        LLVMValueRef q = LLVMBuildFDiv(e->b, a, b, "");
        if (!n->attr[LC_DIV_SAFE]) return q;
        LLVMValueRef z = LLVMBuildAnd(
            e->b, LLVMBuildFCmp(e->b, LLVMRealOEQ, a, real_const(e, dt, 0.0), ""),
            LLVMBuildFCmp(e->b, LLVMRealOEQ, b, real_const(e, dt, 0.0), ""), "");
        return LLVMBuildSelect(e->b, z, real_const(e, dt, 0.0), q, "");
    }
    case LC_OP_SUM:
    case LC_OP_MEAN: {
        const lc_node *xn = lc_graph_node(g, n->inputs[0]);
        reduce_ctx r = {n->inputs[0], (int)n->attr[LC_REDUCE_DIM], idx, xn->shape.rank, 0, NULL, NULL};
        int64_t len = xn->shape.dim[r.dim];
        LLVMValueRef s = emit_sum(e, node, dt, len, sum_term, &r);
        if (n->op == LC_OP_MEAN) s = LLVMBuildFDiv(e->b, s, real_const(e, dt, (double)len), "");
        return s;
    }
    case LC_OP_COUNT:
        break;
    }
    return NULL;
}

LLVMValueRef lc_emit_value(emitter *e, int node, const ix *idx) {
    int slot = e->f->node_slot[node];
    if (node == e->k->co_root && e->co_value) {
        const lc_node *n = lc_graph_node(e->f->graph, node);
        bool same = n->shape.rank > 0 && idx[n->shape.rank - 1].v == e->co_o;
        for (int d = 0; same && d < n->shape.rank; d++) same = idx[d].v == e->co_idx[d];
        if (same) return e->co_value;
    }
    if (slot >= 0 && node != e->k->root && node != e->k->co_root) {
        const lc_node *n = lc_graph_node(e->f->graph, node);
        return lc_emit_load(e, e->slot_ptr[slot], slot, n->dtype, &n->shape, idx);
    }
    return lc_emit_compute(e, node, idx);
}

