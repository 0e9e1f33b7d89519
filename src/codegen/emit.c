/* Emit LLVM IR for a fused program: one function per kernel (see codegen.h).
 *
 * A kernel's body walks its root's elements row by row; the innermost loop runs over the last
 * axis, which is the axis LLVM vectorizes. An element's value is emitted by evaluating the
 * root's expression at an index, recursively through inline nodes:
 *   - elementwise ops map the index to their operands (numpy broadcasting);
 *   - sum/mean become counted loops over the reduced axis (each element's sum runs in index
 *     order inside one lane, so results never depend on vector width or thread count);
 *   - unfold is index arithmetic; a read outside [0, L) is evaluated at a clamped position
 *     and replaced by 0 with a select, so there is no branch and no out-of-bounds load;
 *   - fold is a gather over the ceil(size/step) windows that can cover a position;
 *   - expand drops the index it inserted.
 * Bounds checks whose position is affine in the last-axis index i are elided on an interior
 * range of i computed at compile time: the row loop runs a checked loop on the edges and an
 * unchecked, vectorizable loop in between. */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Core.h>
#include <llvm-c/DebugInfo.h>

#include "codegen/emit.h"
#include "codegen/vmath.h"
#include "support/error.h"

/* An index value, with its affine form in the last-axis index i when known:
 * v = ci*i + k + r, r within [rlo, rhi] (from counted loops). */
typedef struct ix {
    LLVMValueRef v;
    bool aff;
    int64_t ci, k, rlo, rhi;
    /* Set on the window and slot indices a fold's gather produces: both came from the
     * position t = i + pad_lo as o = t / step - r and j = t - o·step, so an unfold with the
     * same step reads position t - its pad_lo directly (affine in i, so bounds checks can be
     * elided and loads are contiguous) instead of recombining the clamped o and j. */
    const struct ix *fold_t;
    int64_t fold_step;
    int fold_role; /* 1 window, 2 slot */
} ix;

typedef struct emitter {
    LLVMContextRef ctx;
    LLVMModuleRef mod;
    LLVMBuilderRef b;
    LLVMValueRef fn;
    LLVMTypeRef i64, i1, ptr;
    const lc_fused *f;
    const lc_kernel *k;
    LLVMValueRef *slot_ptr;   /* per slot: the body's pointer parameter, or NULL */
    LLVMValueRef *globals;    /* per node: module-level array for a non-scalar constant */
    bool checked;             /* emit every bounds check */
    bool fma;                 /* the target has fused multiply-add */
    int64_t ilo, ihi;         /* interior range of i collected from the checks */
    int64_t elo, ehi;         /* the element loop's interior */
    int64_t wlo, whi;         /* the window loop's interior (window-major folds) */
    /* The co-root's value in the current window body and the window index it was computed
     * at: the fold's terms read it again at that same index, and emitting it once instead
     * of per slot kept the IR (and LLVM's time on it) several times smaller. */
    LLVMValueRef co_value, co_o;
    LLVMValueRef co_idx[LC_MAX_RANK];
} emitter;

static LLVMTypeRef real_type(emitter *e, lc_dtype dt) {
    return dt == LC_F64 ? LLVMDoubleTypeInContext(e->ctx) : LLVMFloatTypeInContext(e->ctx);
}

static LLVMValueRef real_const(emitter *e, lc_dtype dt, double v) {
    return LLVMConstReal(real_type(e, dt), dt == LC_F32 ? (double)(float)v : v);
}

static ix ix_const(emitter *e, int64_t v) {
    ix r = {LLVMConstInt(e->i64, (unsigned long long)v, 1), true, 0, v, 0, 0, NULL, 0, 0};
    return r;
}

static ix ix_opaque(LLVMValueRef v) {
    ix r = {v, false, 0, 0, 0, 0, NULL, 0, 0};
    return r;
}

static LLVMValueRef call_intrinsic(emitter *e, const char *name, LLVMTypeRef ty,
                                   LLVMValueRef *args, unsigned nargs) {
    unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
    LLVMValueRef decl = LLVMGetIntrinsicDeclaration(e->mod, id, &ty, 1);
    LLVMTypeRef fty = LLVMIntrinsicGetType(e->ctx, id, &ty, 1);
    return LLVMBuildCall2(e->b, fty, decl, args, nargs, "");
}

static LLVMValueRef unary_intrinsic(emitter *e, const char *name, LLVMValueRef x) {
    LLVMValueRef args[1] = {x};
    return call_intrinsic(e, name, LLVMTypeOf(x), args, 1);
}

static LLVMValueRef imul_c(emitter *e, LLVMValueRef a, int64_t c) {
    if (c == 1) return a;
    return LLVMBuildMul(e->b, a, LLVMConstInt(e->i64, (unsigned long long)c, 1), "");
}

static LLVMValueRef iadd_c(emitter *e, LLVMValueRef a, int64_t c) {
    if (c == 0) return a;
    return LLVMBuildAdd(e->b, a, LLVMConstInt(e->i64, (unsigned long long)c, 1), "");
}

static LLVMValueRef imin_c(emitter *e, LLVMValueRef a, int64_t c) {
    LLVMValueRef cv = LLVMConstInt(e->i64, (unsigned long long)c, 1);
    return LLVMBuildSelect(e->b, LLVMBuildICmp(e->b, LLVMIntSLT, a, cv, ""), a, cv, "");
}

static LLVMValueRef imax_c(emitter *e, LLVMValueRef a, int64_t c) {
    LLVMValueRef cv = LLVMConstInt(e->i64, (unsigned long long)c, 1);
    return LLVMBuildSelect(e->b, LLVMBuildICmp(e->b, LLVMIntSGT, a, cv, ""), a, cv, "");
}

static int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
static int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }

/* Record that position `p` must lie in [0, len) and say whether the check can be skipped in
 * the current mode. */
static bool check_elided(emitter *e, const ix *p, int64_t len) {
    if (!p->aff) return false;
    int64_t lo = p->k + p->rlo, hi = p->k + p->rhi;
    if (p->ci == 0) return lo >= 0 && hi <= len - 1;
    if (p->ci < 0) return false;
    /* ci*i + lo >= 0 and ci*i + hi <= len - 1 */
    int64_t from = ceil_div(-lo, p->ci), to = floor_div(len - 1 - hi, p->ci);
    if (from > e->ilo) e->ilo = from;
    if (to < e->ihi) e->ihi = to;
    return !e->checked;
}

static LLVMValueRef emit_value(emitter *e, int node, const ix *idx);

static LLVMValueRef linear_index(emitter *e, const lc_shape *s, const ix *idx) {
    LLVMValueRef lin = LLVMConstInt(e->i64, 0, 0);
    int64_t stride = 1;
    for (int d = s->rank - 1; d >= 0; d--) {
        if (s->dim[d] != 1) lin = LLVMBuildAdd(e->b, lin, imul_c(e, idx[d].v, stride), "");
        stride *= s->dim[d];
    }
    return lin;
}

static LLVMValueRef load_at(emitter *e, LLVMValueRef base, lc_dtype dt, const lc_shape *s,
                            const ix *idx) {
    LLVMTypeRef ty = real_type(e, dt);
    LLVMValueRef lin = linear_index(e, s, idx);
    LLVMValueRef p = LLVMBuildGEP2(e->b, ty, base, &lin, 1, "");
    return LLVMBuildLoad2(e->b, ty, p, "");
}

/* A counted loop whose body adds one term to an accumulator: returns the final sum. The
 * callback emits the term at loop index j. */
typedef LLVMValueRef (*term_fn)(emitter *e, void *ctx, ix j);

/* Short loops are emitted unrolled: LLVM vectorizes only innermost loops, and its own full
 * unrolling gives up once the body (a fractional pow) is large, which left the row loop
 * scalar. Terms are still added in index order, so results do not change. */
#define UNROLL_MAX LC_UNROLL_MAX

static LLVMValueRef emit_sum_loop(emitter *e, LLVMTypeRef ty, int64_t n, term_fn term, void *ctx) {
    LLVMValueRef zero = LLVMConstReal(ty, 0.0);
    if (n <= 0) return zero;
    if (n <= UNROLL_MAX) {
        LLVMValueRef acc = zero;
        for (int64_t i = 0; i < n; i++) {
            ix jx = {LLVMConstInt(e->i64, (unsigned long long)i, 1), true, 0, i, 0, 0, NULL, 0, 0};
            acc = LLVMBuildFAdd(e->b, acc, term(e, ctx, jx), "");
        }
        return acc;
    }
    LLVMBasicBlockRef pre = LLVMGetInsertBlock(e->b);
    LLVMBasicBlockRef head = LLVMAppendBasicBlockInContext(e->ctx, e->fn, "red");
    LLVMBasicBlockRef exit = LLVMAppendBasicBlockInContext(e->ctx, e->fn, "red.end");
    LLVMBuildBr(e->b, head);
    LLVMPositionBuilderAtEnd(e->b, head);
    LLVMValueRef j = LLVMBuildPhi(e->b, e->i64, "j");
    LLVMValueRef acc = LLVMBuildPhi(e->b, ty, "acc");
    ix jx = {j, true, 0, 0, 0, n - 1, NULL, 0, 0};
    LLVMValueRef t = term(e, ctx, jx);
    LLVMValueRef acc2 = LLVMBuildFAdd(e->b, acc, t, "");
    LLVMValueRef j2 = iadd_c(e, j, 1);
    LLVMValueRef more = LLVMBuildICmp(e->b, LLVMIntSLT, j2, LLVMConstInt(e->i64, (unsigned long long)n, 1), "");
    LLVMBasicBlockRef cur = LLVMGetInsertBlock(e->b);
    LLVMBuildCondBr(e->b, more, head, exit);
    LLVMValueRef zi = LLVMConstInt(e->i64, 0, 0);
    LLVMAddIncoming(j, &zi, &pre, 1);
    LLVMAddIncoming(j, &j2, &cur, 1);
    LLVMAddIncoming(acc, &zero, &pre, 1);
    LLVMAddIncoming(acc, &acc2, &cur, 1);
    LLVMPositionBuilderAtEnd(e->b, exit);
    return acc2;
}

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

static LLVMValueRef sum_term(emitter *e, void *ctx, ix j) {
    reduce_ctx *r = ctx;
    ix xi[LC_MAX_RANK];
    reduce_index(r, j, xi);
    return emit_value(e, r->x, xi);
}

/* ---- pow ---- */

/* Every finite double from 2^53 up is an (even) integer, as C's pow treats it. */
static bool is_int(double v) { return isfinite(v) && v == floor(v); }

/* x^p for x >= 0 (or any x with an integer p handled by the caller): exp2(p·log2 x). */
static LLVMValueRef pow_general(emitter *e, LLVMValueRef x, double p, lc_dtype dt) {
    LLVMValueRef ax = unary_intrinsic(e, "llvm.fabs", x);
    LLVMValueRef lg = lc_vmath_log2(e->b, e->mod, ax, dt == LC_F64, e->fma);
    LLVMValueRef r = lc_vmath_exp2(e->b, e->mod, LLVMBuildFMul(e->b, lg, real_const(e, dt, p), ""),
                                   dt == LC_F64, e->fma);
    if (is_int(p)) {
        if (fmod(fabs(p), 2.0) == 1.0) {
            LLVMValueRef args[2] = {r, x};
            r = call_intrinsic(e, "llvm.copysign", LLVMTypeOf(x), args, 2);
        }
        return r;
    }
    /* non-integer power of a negative number is NaN, as C's pow */
    LLVMValueRef neg = LLVMBuildAnd(
        e->b, LLVMBuildFCmp(e->b, LLVMRealOLT, x, real_const(e, dt, 0.0), ""),
        LLVMBuildFCmp(e->b, LLVMRealONE, x, real_const(e, dt, -INFINITY), ""), "");
    /* (-inf)^p is +inf or 0 as |x|^p: C's pow */
    return LLVMBuildSelect(e->b, neg, real_const(e, dt, NAN), r, "");
}

/* x^p for an exponent that is infinite in the kernel's type (a huge norm_type rounded to
 * float32): C's pow limits, so 1 stays 1 instead of becoming exp2(inf·0) = NaN. */
static LLVMValueRef pow_infinite(emitter *e, LLVMValueRef x, double p, lc_dtype dt) {
    LLVMValueRef ax = unary_intrinsic(e, "llvm.fabs", x);
    LLVMValueRef below = LLVMBuildFCmp(e->b, LLVMRealOLT, ax, real_const(e, dt, 1.0), "");
    LLVMValueRef one = LLVMBuildFCmp(e->b, LLVMRealOEQ, ax, real_const(e, dt, 1.0), "");
    LLVMValueRef small = real_const(e, dt, p > 0 ? 0.0 : INFINITY);
    LLVMValueRef large = real_const(e, dt, p > 0 ? INFINITY : 0.0);
    LLVMValueRef r = LLVMBuildSelect(e->b, below, small, large, "");
    r = LLVMBuildSelect(e->b, one, real_const(e, dt, 1.0), r, "");
    LLVMValueRef nan = LLVMBuildFCmp(e->b, LLVMRealUNO, x, x, "");
    return LLVMBuildSelect(e->b, nan, x, r, "");
}

static LLVMValueRef emit_pow(emitter *e, LLVMValueRef x, double p, bool zero_pole, lc_dtype dt) {
    LLVMValueRef r;
    /* The exponent the kernel's arithmetic sees: a float32 kernel rounds it, so a huge p
     * becomes inf (handled by its limit) and a tiny one is kept off 0 (0^tiny is 0, not 1). */
    if (dt == LC_F32 && fabs(p) > FLT_MAX) p = copysign(INFINITY, p);
    if (dt == LC_F32 && p != 0 && fabs(p) < FLT_TRUE_MIN) p = copysign(FLT_TRUE_MIN, p);
    if (p == 0) return real_const(e, dt, 1.0);
    if (p == 1) return x;
    if (p == 2) return LLVMBuildFMul(e->b, x, x, "");
    if (p == 3) return LLVMBuildFMul(e->b, LLVMBuildFMul(e->b, x, x, ""), x, "");
    if (p == 4) {
        LLVMValueRef x2 = LLVMBuildFMul(e->b, x, x, "");
        return LLVMBuildFMul(e->b, x2, x2, "");
    }
    if (p == 0.5) {
        LLVMValueRef s = unary_intrinsic(e, "llvm.sqrt", x);
        LLVMValueRef ninf = LLVMBuildFCmp(e->b, LLVMRealOEQ, x, real_const(e, dt, -INFINITY), "");
        return LLVMBuildSelect(e->b, ninf, real_const(e, dt, INFINITY), s, "");
    }
    double whole = floor(p);
    if (isinf(p)) {
        r = pow_infinite(e, x, p, dt);
    } else if (p == -1) {
        r = LLVMBuildFDiv(e->b, real_const(e, dt, 1.0), x, "");
    } else if (p > 0 && p < 8 && p - whole == 0.5) {
        /* x^(k + 1/2) = x^k · sqrt(x): much cheaper than exp2/log2, within 2 ulp. sqrt(-inf) is
         * NaN where pow(-inf, p) is inf, so that one value is selected apart. */
        r = unary_intrinsic(e, "llvm.sqrt", x);
        for (int k = 0; k < (int)whole; k++) r = LLVMBuildFMul(e->b, r, x, "");
        LLVMValueRef ninf = LLVMBuildFCmp(e->b, LLVMRealOEQ, x, real_const(e, dt, -INFINITY), "");
        r = LLVMBuildSelect(e->b, ninf, real_const(e, dt, INFINITY), r, "");
    } else
        r = pow_general(e, x, p, dt);
    if (zero_pole && p < 0) {
        LLVMValueRef z = LLVMBuildFCmp(e->b, LLVMRealOEQ, x, real_const(e, dt, 0.0), "");
        r = LLVMBuildSelect(e->b, z, real_const(e, dt, 0.0), r, "");
    }
    return r;
}

/* ---- the scaled LP norm: m·(Σ(|e|/m)^p)^(1/p), m = max |e| ---- */

static LLVMValueRef abs_term(emitter *e, reduce_ctx *r, ix j) {
    /* the sum's input is pow(abs(E), p); evaluate |E| */
    const lc_node *q = lc_graph_node(e->f->graph, r->x);
    ix xi[LC_MAX_RANK];
    reduce_index(r, j, xi);
    return emit_value(e, q->inputs[0], xi);
}

static void max_step(emitter *e, LLVMValueRef a, LLVMValueRef *m, LLVMValueRef *nan) {
    LLVMValueRef gt = LLVMBuildFCmp(e->b, LLVMRealOGT, a, *m, "");
    *m = LLVMBuildSelect(e->b, gt, a, *m, "");
    /* remember a NaN: the window's result is NaN whatever else it holds */
    LLVMValueRef isnan = LLVMBuildFCmp(e->b, LLVMRealUNO, a, a, "");
    *nan = LLVMBuildSelect(e->b, isnan, a, *nan, "");
}

static LLVMValueRef emit_max_loop(emitter *e, reduce_ctx *r, int64_t n, lc_dtype dt,
                                  LLVMValueRef *saw_nan) {
    LLVMTypeRef ty = real_type(e, dt);
    LLVMValueRef zero = real_const(e, dt, 0.0);
    if (n <= UNROLL_MAX) {
        LLVMValueRef m = zero, nan = zero;
        for (int64_t i = 0; i < n; i++) {
            ix jx = {LLVMConstInt(e->i64, (unsigned long long)i, 1), true, 0, i, 0, 0, NULL, 0, 0};
            max_step(e, abs_term(e, r, jx), &m, &nan);
        }
        *saw_nan = nan;
        return m;
    }
    LLVMBasicBlockRef pre = LLVMGetInsertBlock(e->b);
    LLVMBasicBlockRef head = LLVMAppendBasicBlockInContext(e->ctx, e->fn, "max");
    LLVMBasicBlockRef exit = LLVMAppendBasicBlockInContext(e->ctx, e->fn, "max.end");
    LLVMBuildBr(e->b, head);
    LLVMPositionBuilderAtEnd(e->b, head);
    LLVMValueRef j = LLVMBuildPhi(e->b, e->i64, "j");
    LLVMValueRef m = LLVMBuildPhi(e->b, ty, "m");
    LLVMValueRef nan = LLVMBuildPhi(e->b, ty, "nan");
    ix jx = {j, true, 0, 0, 0, n - 1, NULL, 0, 0};
    LLVMValueRef m2 = m, nan2 = nan;
    max_step(e, abs_term(e, r, jx), &m2, &nan2);
    LLVMValueRef j2 = iadd_c(e, j, 1);
    LLVMValueRef more = LLVMBuildICmp(e->b, LLVMIntSLT, j2, LLVMConstInt(e->i64, (unsigned long long)n, 1), "");
    LLVMBasicBlockRef cur = LLVMGetInsertBlock(e->b);
    LLVMBuildCondBr(e->b, more, head, exit);
    LLVMValueRef zi = LLVMConstInt(e->i64, 0, 0);
    LLVMAddIncoming(j, &zi, &pre, 1);
    LLVMAddIncoming(j, &j2, &cur, 1);
    LLVMAddIncoming(m, &zero, &pre, 1);
    LLVMAddIncoming(m, &m2, &cur, 1);
    LLVMAddIncoming(nan, &zero, &pre, 1);
    LLVMAddIncoming(nan, &nan2, &cur, 1);
    LLVMPositionBuilderAtEnd(e->b, exit);
    *saw_nan = nan2;
    return m2;
}

static LLVMValueRef scaled_term(emitter *e, void *ctx, ix j) {
    reduce_ctx *r = ctx;
    LLVMValueRef a = abs_term(e, r, j);
    LLVMValueRef q = LLVMBuildFDiv(e->b, a, r->m, "");
    lc_dtype dt = lc_graph_node(e->f->graph, r->x)->dtype;
    return emit_pow(e, q, r->p, false, dt);
}

static LLVMValueRef emit_scaled_lp(emitter *e, const lc_node *n, const ix *idx) {
    const lc_graph *g = e->f->graph;
    const lc_node *s = lc_graph_node(g, n->inputs[0]);
    const lc_node *q = lc_graph_node(g, s->inputs[0]);
    const lc_node *xn = lc_graph_node(g, s->inputs[0]);
    reduce_ctx r = {s->inputs[0], (int)s->attr[0], idx, xn->shape.rank, q->real_attr, NULL, NULL};
    int64_t len = xn->shape.dim[r.dim];
    lc_dtype dt = n->dtype;
    if (len <= 0) return real_const(e, dt, 0.0);
    LLVMValueRef saw_nan;
    r.m = emit_max_loop(e, &r, len, dt, &saw_nan);
    LLVMValueRef sum = emit_sum_loop(e, real_type(e, dt), len, scaled_term, &r);
    LLVMValueRef y = LLVMBuildFMul(e->b, r.m, emit_pow(e, sum, n->real_attr, false, dt), "");
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

static LLVMValueRef fold_term(emitter *e, void *ctx, ix r) {
    fold_ctx *c = ctx;
    const lc_node *n = c->n;
    const lc_node *yn = lc_graph_node(e->f->graph, c->y);
    int dim = (int)n->attr[0];
    int64_t size = n->attr[1], step = n->attr[2];
    int64_t windows = yn->shape.dim[dim];
    lc_dtype dt = n->dtype;
    /* windows visited in increasing order: o = base_o - (count - 1 - r) */
    int64_t count = (size + step - 1) / step;
    LLVMValueRef o = LLVMBuildAdd(e->b, iadd_c(e, c->base_o, -(count - 1)), r.v, "");
    LLVMValueRef j = LLVMBuildSub(e->b, c->t.v, imul_c(e, o, step), "");
    LLVMValueRef ok = LLVMBuildAnd(
        e->b, LLVMBuildICmp(e->b, LLVMIntSGE, o, LLVMConstInt(e->i64, 0, 0), ""),
        LLVMBuildAnd(e->b,
                     LLVMBuildICmp(e->b, LLVMIntSLT, o, LLVMConstInt(e->i64, (unsigned long long)windows, 1), ""),
                     LLVMBuildICmp(e->b, LLVMIntSLT, j, LLVMConstInt(e->i64, (unsigned long long)size, 1), ""), ""), "");
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
    LLVMValueRef v = emit_value(e, c->y, yi);
    return LLVMBuildSelect(e->b, ok, v, real_const(e, dt, 0.0), "");
}

/* ---- the value of a node at an index ---- */

static void broadcast_index(const lc_shape *out, const lc_shape *in, const ix *idx, ix *res,
                            emitter *e) {
    for (int d = 0; d < in->rank; d++) {
        int od = out->rank - in->rank + d;
        res[d] = (in->dim[d] == 1) ? ix_const(e, 0) : idx[od];
    }
}

static LLVMValueRef emit_compute(emitter *e, int node, const ix *idx) {
    const lc_graph *g = e->f->graph;
    const lc_node *n = lc_graph_node(g, node);
    lc_dtype dt = n->dtype;
    switch (n->op) {
    case LC_OP_INPUT:
        return load_at(e, e->slot_ptr[e->f->node_slot[node]], dt, &n->shape, idx);
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
        return load_at(e, e->globals[node], dt, &n->shape, idx);
    }
    case LC_OP_UNFOLD: {
        const lc_node *xn = lc_graph_node(g, n->inputs[0]);
        int dim = (int)n->attr[0];
        int64_t step = n->attr[2], lo = n->attr[3];
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
            pos.aff = o->aff && j->aff;
            pos.ci = o->ci * step + j->ci;
            pos.k = o->k * step - lo + j->k;
            pos.rlo = o->rlo * step + j->rlo;
            pos.rhi = o->rhi * step + j->rhi;
        }
        ix xi[LC_MAX_RANK];
        for (int d = 0; d < xn->shape.rank; d++) xi[d] = idx[d];
        if (check_elided(e, &pos, len)) {
            xi[dim] = pos;
            return emit_value(e, n->inputs[0], xi);
        }
        /* The clamped position keeps pos's affine form: wherever this check can be elided the
         * two are equal, so checks further down (an unfold of an unfold) record the same
         * interior here, in the checked pass, as they assume in the unchecked one. */
        ix clamped = pos;
        clamped.v = imin_c(e, imax_c(e, pos.v, 0), len - 1);
        clamped.fold_t = NULL;
        clamped.fold_role = 0;
        xi[dim] = clamped;
        LLVMValueRef v = emit_value(e, n->inputs[0], xi);
        LLVMValueRef in = LLVMBuildAnd(
            e->b, LLVMBuildICmp(e->b, LLVMIntSGE, pos.v, LLVMConstInt(e->i64, 0, 0), ""),
            LLVMBuildICmp(e->b, LLVMIntSLT, pos.v, LLVMConstInt(e->i64, (unsigned long long)len, 1), ""), "");
        return LLVMBuildSelect(e->b, in, v, real_const(e, dt, 0.0), "");
    }
    case LC_OP_FOLD: {
        int dim = (int)n->attr[0];
        int64_t size = n->attr[1], step = n->attr[2], lo = n->attr[3];
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
        return emit_sum_loop(e, real_type(e, dt), (size + step - 1) / step, fold_term, &c);
    }
    case LC_OP_EXPAND: {
        int dim = (int)n->attr[0];
        ix xi[LC_MAX_RANK];
        for (int d = 0, s = 0; d < n->shape.rank; d++)
            if (d != dim) xi[s++] = idx[d];
        return emit_value(e, n->inputs[0], xi);
    }
    case LC_OP_ABS:
        return unary_intrinsic(e, "llvm.fabs", emit_value(e, n->inputs[0], idx));
    case LC_OP_SIGN: {
        LLVMValueRef x = emit_value(e, n->inputs[0], idx);
        LLVMValueRef pos = LLVMBuildFCmp(e->b, LLVMRealOGT, x, real_const(e, dt, 0.0), "");
        LLVMValueRef neg = LLVMBuildFCmp(e->b, LLVMRealOLT, x, real_const(e, dt, 0.0), "");
        LLVMValueRef r = LLVMBuildSelect(e->b, neg, real_const(e, dt, -1.0), x, "");
        return LLVMBuildSelect(e->b, pos, real_const(e, dt, 1.0), r, "");
    }
    case LC_OP_POW:
        if (e->f->lp_scaled[node]) return emit_scaled_lp(e, n, idx);
        return emit_pow(e, emit_value(e, n->inputs[0], idx), n->real_attr, n->attr[0] != 0, dt);
    case LC_OP_MUL:
    case LC_OP_ADD:
    case LC_OP_DIV: {
        ix ai[LC_MAX_RANK], bi[LC_MAX_RANK];
        const lc_node *an = lc_graph_node(g, n->inputs[0]), *bn = lc_graph_node(g, n->inputs[1]);
        broadcast_index(&n->shape, &an->shape, idx, ai, e);
        broadcast_index(&n->shape, &bn->shape, idx, bi, e);
        LLVMValueRef a = emit_value(e, n->inputs[0], ai);
        LLVMValueRef b = emit_value(e, n->inputs[1], bi);
        if (n->op == LC_OP_MUL) return LLVMBuildFMul(e->b, a, b, "");
        if (n->op == LC_OP_ADD) return LLVMBuildFAdd(e->b, a, b, "");
        LLVMValueRef q = LLVMBuildFDiv(e->b, a, b, "");
        if (!n->attr[0]) return q;
        LLVMValueRef z = LLVMBuildAnd(
            e->b, LLVMBuildFCmp(e->b, LLVMRealOEQ, a, real_const(e, dt, 0.0), ""),
            LLVMBuildFCmp(e->b, LLVMRealOEQ, b, real_const(e, dt, 0.0), ""), "");
        return LLVMBuildSelect(e->b, z, real_const(e, dt, 0.0), q, "");
    }
    case LC_OP_SUM:
    case LC_OP_MEAN: {
        const lc_node *xn = lc_graph_node(g, n->inputs[0]);
        reduce_ctx r = {n->inputs[0], (int)n->attr[0], idx, xn->shape.rank, 0, NULL, NULL};
        int64_t len = xn->shape.dim[r.dim];
        LLVMValueRef s = emit_sum_loop(e, real_type(e, dt), len, sum_term, &r);
        if (n->op == LC_OP_MEAN) s = LLVMBuildFDiv(e->b, s, real_const(e, dt, (double)len), "");
        return s;
    }
    case LC_OP_COUNT:
        break;
    }
    return NULL;
}

static LLVMValueRef emit_value(emitter *e, int node, const ix *idx) {
    int slot = e->f->node_slot[node];
    if (node == e->k->co_root && e->co_value) {
        const lc_node *n = lc_graph_node(e->f->graph, node);
        bool same = n->shape.rank > 0 && idx[n->shape.rank - 1].v == e->co_o;
        for (int d = 0; same && d < n->shape.rank; d++) same = idx[d].v == e->co_idx[d];
        if (same) return e->co_value;
    }
    if (slot >= 0 && node != e->k->root && node != e->k->co_root) {
        const lc_node *n = lc_graph_node(e->f->graph, node);
        return load_at(e, e->slot_ptr[slot], n->dtype, &n->shape, idx);
    }
    return emit_compute(e, node, idx);
}

/* ---- the kernel's loop nest ---- */

/* for i in [from, to): out[row_base + i] = value(root, (row idx..., i)) */
/* Window-major form of a fold whose windows do not overlap (step >= size): the loop runs over
 * windows o, and each trip writes the `step` positions o·step - pad_lo + j, j < step (0 where
 * j >= size). Per-window values are then contiguous loads, window slots interleaved loads
 * and stores, which vectorize; the element-major gather would read them through o = i/step. */
static bool window_major(const emitter *e) {
    return lc_fold_window_major(lc_graph_node(e->f->graph, e->k->root));
}

/* Blocks q of `step` positions q·step - pad_lo .. + step - 1 that start inside a row. */
static int64_t window_blocks(const lc_node *fold) {
    return (fold->attr[5] + fold->attr[3] + fold->attr[2] - 1) / fold->attr[2];
}

/* co_root[row, o] = its value, into co_slot (see kernel.h). */
static void emit_co_root(emitter *e, ix ox, const ix *row_idx, bool store) {
    const lc_node *co = lc_graph_node(e->f->graph, e->k->co_root);
    int rank = co->shape.rank;
    ix idx[LC_MAX_RANK];
    for (int d = 0; d + 1 < rank; d++) idx[d] = row_idx[d];
    LLVMValueRef o = ox.v;
    idx[rank - 1] = ox;
    LLVMValueRef v = emit_compute(e, e->k->co_root, idx);
    e->co_value = v;
    e->co_o = o;
    for (int d = 0; d < rank; d++) e->co_idx[d] = idx[d].v;
    if (!store) return;
    LLVMTypeRef ty = real_type(e, co->dtype);
    LLVMValueRef lin = linear_index(e, &co->shape, idx);
    LLVMBuildStore(e->b, v, LLVMBuildGEP2(e->b, ty, e->slot_ptr[e->k->co_slot], &lin, 1, ""));
}

/* In the element-major edges of a kernel with a co-root: position i writes window o's value
 * when it is that window's first position, so exactly one thread writes each window. */
static void emit_co_root_owner(emitter *e, LLVMValueRef i, const ix *row_idx, bool store) {
    const lc_node *fold = lc_graph_node(e->f->graph, e->k->root);
    int64_t step = fold->attr[2], lo = fold->attr[3];
    int64_t windows = lc_graph_node(e->f->graph, fold->inputs[0])->shape.dim[fold->shape.rank - 1];
    LLVMValueRef o = LLVMBuildSDiv(e->b, iadd_c(e, i, lo), LLVMConstInt(e->i64, (unsigned long long)step, 1), "");
    LLVMValueRef owner = imax_c(e, iadd_c(e, imul_c(e, o, step), -lo), 0);
    LLVMValueRef mine = LLVMBuildAnd(
        e->b, LLVMBuildICmp(e->b, LLVMIntEQ, i, owner, ""),
        LLVMBuildICmp(e->b, LLVMIntSLT, o, LLVMConstInt(e->i64, (unsigned long long)windows, 1), ""), "");
    LLVMBasicBlockRef yes = LLVMAppendBasicBlockInContext(e->ctx, e->fn, "co.write");
    LLVMBasicBlockRef after = LLVMAppendBasicBlockInContext(e->ctx, e->fn, "co.end");
    LLVMBuildCondBr(e->b, mine, yes, after);
    LLVMPositionBuilderAtEnd(e->b, yes);
    /* (i + pad_lo) / step is not affine in i: opaque, so no check under it is elided */
    emit_co_root(e, ix_opaque(imin_c(e, o, windows - 1)), row_idx, store);
    e->co_value = e->co_o = NULL; /* computed in a branch: does not dominate what follows */
    LLVMBuildBr(e->b, after);
    LLVMPositionBuilderAtEnd(e->b, after);
}

static void emit_window_body(emitter *e, LLVMValueRef q, LLVMValueRef row_base, const ix *row_idx,
                             bool store) {
    const lc_node *root = lc_graph_node(e->f->graph, e->k->root);
    const lc_node *yn = lc_graph_node(e->f->graph, root->inputs[0]);
    int rank = root->shape.rank;
    int64_t size = root->attr[1], step = root->attr[2], lo = root->attr[3];
    int64_t windows = yn->shape.dim[rank - 1], count = (size + step - 1) / step;
    lc_dtype dt = root->dtype;
    LLVMTypeRef ty = real_type(e, dt);
    ix yi[LC_MAX_RANK + 1];
    for (int d = 0; d + 1 < rank; d++) yi[d] = row_idx[d];
    if (e->k->co_root >= 0) {
        ix qx = {q, true, 1, 0, 0, 0, NULL, 0, 0}; /* window q: the loop index itself */
        emit_co_root(e, qx, row_idx, store);
    }
    /* the rows' other indices are the same for every slot of this body */
    LLVMValueRef first = iadd_c(e, LLVMBuildAdd(e->b, row_base, imul_c(e, q, step), ""), -lo);
    for (int64_t ph = 0; ph < step; ph++) {
        /* position q·step + ph - lo: windows o = q - m cover it at slot ph + m·step; summed
         * from the lowest window up, starting from +0, exactly as the element-major gather
         * does, so both forms give the same bits however the range is split */
        LLVMValueRef acc = real_const(e, dt, 0.0);
        for (int64_t m = count - 1; m >= 0; m--) {
            int64_t j = ph + m * step;
            if (j >= size) continue; /* adds +0 there: acc, never -0, is unchanged */
            ix o = {iadd_c(e, q, -m), true, 1, -m, 0, 0, NULL, 0, 0};
            LLVMValueRef valid = NULL;
            if (!check_elided(e, &o, windows)) {
                valid = LLVMBuildAnd(
                    e->b, LLVMBuildICmp(e->b, LLVMIntSGE, o.v, LLVMConstInt(e->i64, 0, 0), ""),
                    LLVMBuildICmp(e->b, LLVMIntSLT, o.v, LLVMConstInt(e->i64, (unsigned long long)windows, 1), ""), "");
                /* clamped, o keeps its affine form (as an unfold's clamped position does):
                 * the checks below it must record their interior in the checked pass too */
                o.v = imin_c(e, imax_c(e, o.v, 0), windows - 1);
            }
            yi[rank - 1] = o;
            yi[rank] = ix_const(e, j);
            LLVMValueRef v = emit_value(e, root->inputs[0], yi);
            if (valid) v = LLVMBuildSelect(e->b, valid, v, real_const(e, dt, 0.0), "");
            acc = LLVMBuildFAdd(e->b, acc, v, "");
        }
        if (!store) continue; /* a dry run that only collects bounds checks */
        LLVMValueRef off = iadd_c(e, first, ph);
        LLVMBuildStore(e->b, acc, LLVMBuildGEP2(e->b, ty, e->slot_ptr[e->k->dst_slot], &off, 1, ""));
    }
    e->co_value = e->co_o = NULL;
}

/* Mark a loop (by its latch branch) as not to be vectorized or unrolled: the checked edge
 * loops run a handful of trips beside a vectorized interior, and vectorizing them too only
 * tripled the code LLVM had to compile. */
static void mark_scalar_loop(emitter *e, LLVMValueRef latch) {
    LLVMMetadataRef self = LLVMTemporaryMDNode(e->ctx, NULL, 0);
    LLVMMetadataRef width[2] = {
        LLVMMDStringInContext2(e->ctx, "llvm.loop.vectorize.width", 25),
        LLVMValueAsMetadata(LLVMConstInt(LLVMInt32TypeInContext(e->ctx), 1, 0))};
    LLVMMetadataRef unroll[1] = {LLVMMDStringInContext2(e->ctx, "llvm.loop.unroll.disable", 24)};
    LLVMMetadataRef ops[3] = {self, LLVMMDNodeInContext2(e->ctx, width, 2),
                              LLVMMDNodeInContext2(e->ctx, unroll, 1)};
    LLVMMetadataRef loop = LLVMMDNodeInContext2(e->ctx, ops, 3);
    LLVMMetadataReplaceAllUsesWith(self, loop);
    LLVMSetMetadata(latch, LLVMGetMDKindIDInContext(e->ctx, "llvm.loop", 9),
                    LLVMMetadataAsValue(e->ctx, loop));
}

static void emit_inner_loop(emitter *e, LLVMValueRef from, LLVMValueRef to, LLVMValueRef row_base,
                            const ix *row_idx, bool checked, bool window, bool scalar) {
    const lc_node *root = lc_graph_node(e->f->graph, e->k->root);
    int rank = root->shape.rank;
    LLVMBasicBlockRef pre = LLVMGetInsertBlock(e->b);
    LLVMBasicBlockRef head = LLVMAppendBasicBlockInContext(e->ctx, e->fn, checked ? "edge" : "interior");
    LLVMBasicBlockRef exit = LLVMAppendBasicBlockInContext(e->ctx, e->fn, "inner.end");
    LLVMBasicBlockRef body = LLVMAppendBasicBlockInContext(e->ctx, e->fn, "inner.body");
    LLVMBuildBr(e->b, head);
    LLVMPositionBuilderAtEnd(e->b, head);
    LLVMValueRef i = LLVMBuildPhi(e->b, e->i64, "i");
    LLVMBuildCondBr(e->b, LLVMBuildICmp(e->b, LLVMIntSLT, i, to, ""), body, exit);
    LLVMPositionBuilderAtEnd(e->b, body);
    e->checked = checked;
    LLVMTypeRef ty = real_type(e, root->dtype);
    if (window) {
        emit_window_body(e, i, row_base, row_idx, true);
    } else {
        ix idx[LC_MAX_RANK];
        for (int d = 0; d + 1 < rank; d++) idx[d] = row_idx[d];
        if (rank > 0) {
            ix ii = {i, true, 1, 0, 0, 0, NULL, 0, 0};
            idx[rank - 1] = ii;
        }
        if (e->k->co_root >= 0) emit_co_root_owner(e, i, row_idx, true);
        LLVMValueRef v = emit_compute(e, e->k->root, idx);
        LLVMValueRef off = LLVMBuildAdd(e->b, row_base, i, "");
        LLVMValueRef p = LLVMBuildGEP2(e->b, ty, e->slot_ptr[e->k->dst_slot], &off, 1, "");
        LLVMBuildStore(e->b, v, p);
    }
    LLVMValueRef i2 = iadd_c(e, i, 1);
    LLVMBasicBlockRef cur = LLVMGetInsertBlock(e->b);
    LLVMValueRef latch = LLVMBuildBr(e->b, head);
    if (scalar) mark_scalar_loop(e, latch);
    LLVMAddIncoming(i, &from, &pre, 1);
    LLVMAddIncoming(i, &i2, &cur, 1);
    LLVMPositionBuilderAtEnd(e->b, exit);
}

static LLVMValueRef smin(emitter *e, LLVMValueRef a, LLVMValueRef b) {
    return LLVMBuildSelect(e->b, LLVMBuildICmp(e->b, LLVMIntSLT, a, b, ""), a, b, "");
}
static LLVMValueRef smax(emitter *e, LLVMValueRef a, LLVMValueRef b) {
    return LLVMBuildSelect(e->b, LLVMBuildICmp(e->b, LLVMIntSGT, a, b, ""), a, b, "");
}

/* Loops over [from, to) split into checked edges and an unchecked interior [lo, hi]. */
static void emit_range(emitter *e, LLVMValueRef from, LLVMValueRef to, LLVMValueRef row_base,
                       const ix *row_idx, int64_t lo, int64_t hi, int64_t count, bool window) {
    if (lo > hi) {
        emit_inner_loop(e, from, to, row_base, row_idx, true, window, false);
        return;
    }
    if (lo <= 0 && hi >= count - 1) { /* no check can fail anywhere: no edge loops */
        e->ilo = lo;
        e->ihi = hi;
        emit_inner_loop(e, from, to, row_base, row_idx, false, window, false);
        return;
    }
    LLVMValueRef a = smin(e, smax(e, LLVMConstInt(e->i64, (unsigned long long)lo, 1), from), to);
    LLVMValueRef b = smin(e, smax(e, LLVMConstInt(e->i64, (unsigned long long)(hi + 1), 1), a), to);
    emit_inner_loop(e, from, a, row_base, row_idx, true, window, true);
    e->ilo = lo;
    e->ihi = hi;
    emit_inner_loop(e, a, b, row_base, row_idx, false, window, false);
    emit_inner_loop(e, b, to, row_base, row_idx, true, window, true);
}

static void emit_element_range(emitter *e, LLVMValueRef from, LLVMValueRef to, LLVMValueRef row_base,
                               const ix *row_idx, int64_t last) {
    if (e->elo <= e->ehi && e->elo <= last - 1 && e->ehi >= 0)
        emit_range(e, from, to, row_base, row_idx, e->elo, e->ehi, last, false);
    else
        emit_inner_loop(e, from, to, row_base, row_idx, true, false, false);
}

/* Find the interior range by emitting the root once into a throwaway function. */
static void find_interior(emitter *e, int64_t last, bool window) {
    const lc_node *root = lc_graph_node(e->f->graph, e->k->root);
    int rank = root->shape.rank;
    e->ilo = 0;
    e->ihi = last - 1;
    if (window) e->ihi = window_blocks(root) - 1;
    if (rank == 0) return;
    LLVMValueRef saved_fn = e->fn;
    LLVMBasicBlockRef saved_bb = LLVMGetInsertBlock(e->b);
    LLVMTypeRef fty = LLVMFunctionType(LLVMVoidTypeInContext(e->ctx), &e->i64, 1, 0);
    LLVMValueRef tmp = LLVMAddFunction(e->mod, "lc_tmp_interior", fty);
    e->fn = tmp;
    LLVMPositionBuilderAtEnd(e->b, LLVMAppendBasicBlockInContext(e->ctx, tmp, "entry"));
    ix idx[LC_MAX_RANK];
    for (int d = 0; d + 1 < rank; d++) idx[d] = ix_opaque(LLVMGetParam(tmp, 0));
    ix ii = {LLVMGetParam(tmp, 0), true, 1, 0, 0, 0, NULL, 0, 0};
    idx[rank - 1] = ii;
    e->checked = true;
    if (window) {
        emit_window_body(e, LLVMGetParam(tmp, 0), LLVMGetParam(tmp, 0), idx, false);
    } else {
        if (e->k->co_root >= 0) emit_co_root_owner(e, LLVMGetParam(tmp, 0), idx, false);
        emit_compute(e, e->k->root, idx);
    }
    LLVMBuildRetVoid(e->b);
    LLVMDeleteFunction(tmp);
    e->fn = saved_fn;
    LLVMPositionBuilderAtEnd(e->b, saved_bb);
}

/* The buffers a kernel's body takes, in parameter order: what it writes, then what it reads. */
static int param_slots(const lc_kernel *k, int *out) {
    int n = 0;
    out[n++] = k->dst_slot;
    if (k->co_root >= 0) out[n++] = k->co_slot;
    for (int a = 0; a < k->n_args; a++) out[n++] = k->args[a];
    return n;
}

static LLVMValueRef add_body(emitter *e, int kid, LLVMTypeRef *body_ty) {
    const lc_kernel *k = e->k;
    const lc_node *root = lc_graph_node(e->f->graph, k->root);
    int pslots[64];
    int nparams = param_slots(k, pslots) + 2;
    LLVMTypeRef params[64];
    LC_ASSERT(nparams <= 64);
    for (int p = 0; p < nparams - 2; p++) params[p] = e->ptr;
    params[nparams - 2] = e->i64;
    params[nparams - 1] = e->i64;
    LLVMTypeRef fty = LLVMFunctionType(LLVMVoidTypeInContext(e->ctx), params, (unsigned)nparams, 0);
    char name[48];
    snprintf(name, sizeof name, "lc_kernel_%d_body", kid);
    LLVMValueRef fn = LLVMAddFunction(e->mod, name, fty);
    LLVMSetLinkage(fn, LLVMInternalLinkage);
    unsigned noalias = LLVMGetEnumAttributeKindForName("noalias", 7);
    unsigned inl = LLVMGetEnumAttributeKindForName("alwaysinline", 12);
    unsigned nounwind = LLVMGetEnumAttributeKindForName("nounwind", 8);
    for (int p = 0; p < nparams - 2; p++)
        LLVMAddAttributeAtIndex(fn, (unsigned)p + 1, LLVMCreateEnumAttribute(e->ctx, noalias, 0));
    LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(e->ctx, inl, 0));
    LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(e->ctx, nounwind, 0));
    e->fn = fn;
    for (int s = 0; s < e->f->n_slots; s++) e->slot_ptr[s] = NULL;
    for (int p = 0; p < nparams - 2; p++) e->slot_ptr[pslots[p]] = LLVMGetParam(fn, (unsigned)p);
    LLVMValueRef begin = LLVMGetParam(fn, (unsigned)nparams - 2);
    LLVMValueRef end = LLVMGetParam(fn, (unsigned)nparams - 1);

    int rank = root->shape.rank;
    int64_t last = rank > 0 ? root->shape.dim[rank - 1] : 1;
    LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(e->ctx, fn, "entry");
    LLVMBasicBlockRef rows = LLVMAppendBasicBlockInContext(e->ctx, fn, "row");
    LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(e->ctx, fn, "done");
    LLVMPositionBuilderAtEnd(e->b, entry);
    bool win = window_major(e);
    if (win) {
        find_interior(e, last, true);
        e->wlo = e->ilo;
        e->whi = e->ihi;
    }
    find_interior(e, last, false);
    e->elo = e->ilo;
    e->ehi = e->ihi;
    LLVMBuildCondBr(e->b, LLVMBuildICmp(e->b, LLVMIntSLT, begin, end, ""), rows, done);

    /* row loop: e runs over flat elements; each trip finishes (part of) one row */
    LLVMPositionBuilderAtEnd(e->b, rows);
    LLVMValueRef el = LLVMBuildPhi(e->b, e->i64, "e");
    LLVMValueRef lastv = LLVMConstInt(e->i64, (unsigned long long)last, 1);
    LLVMValueRef row = LLVMBuildSDiv(e->b, el, lastv, "row");
    LLVMValueRef i0 = LLVMBuildSRem(e->b, el, lastv, "i0");
    LLVMValueRef i1 = smin(e, lastv, LLVMBuildAdd(e->b, i0, LLVMBuildSub(e->b, end, el, ""), ""));
    LLVMValueRef row_base = LLVMBuildMul(e->b, row, lastv, "");
    ix row_idx[LC_MAX_RANK];
    LLVMValueRef rem = row;
    for (int d = rank - 2; d >= 0; d--) {
        LLVMValueRef ext = LLVMConstInt(e->i64, (unsigned long long)root->shape.dim[d], 1);
        row_idx[d] = ix_opaque(d == 0 ? rem : LLVMBuildSRem(e->b, rem, ext, ""));
        if (d > 0) rem = LLVMBuildSDiv(e->b, rem, ext, "");
    }
    if (win) {
        /* whole blocks inside [i0, i1): q·step - lo >= i0 and q·step - lo + step <= i1 */
        const lc_node *fold = root;
        int64_t step = fold->attr[2], lo = fold->attr[3];
        int64_t windows = lc_graph_node(e->f->graph, fold->inputs[0])->shape.dim[rank - 1];
        LLVMValueRef stepv = LLVMConstInt(e->i64, (unsigned long long)step, 1);
        int64_t blocks = window_blocks(fold);
        /* align is 1 by default, so align == step alone does not say the blocks tile the
         * row when step is 1: check the conditions fuse sets align by */
        if (e->k->align == step && lo == 0 && last % step == 0 &&
            (e->k->co_root < 0 || windows * step == last)) {
            /* blocks tile the row exactly and the range is split at multiples of step:
             * every position belongs to a whole block of the range */
            LLVMValueRef oa = LLVMBuildSDiv(e->b, i0, stepv, "");
            LLVMValueRef ob = LLVMBuildSDiv(e->b, i1, stepv, "");
            emit_range(e, oa, ob, row_base, row_idx, e->wlo, e->whi, blocks, true);
            goto row_done;
        }
        LLVMValueRef oa = LLVMBuildSDiv(e->b, iadd_c(e, i0, lo + step - 1), stepv, "");
        LLVMValueRef ob = LLVMBuildSDiv(e->b, iadd_c(e, i1, lo), stepv, "");
        /* a co-root is written per block, so blocks stop at the last window there */
        int64_t qmax = e->k->co_root >= 0 ? windows : blocks;
        oa = imin_c(e, imax_c(e, oa, 0), qmax);
        ob = smax(e, imin_c(e, ob, qmax), oa);
        LLVMValueRef pa = smin(e, smax(e, iadd_c(e, imul_c(e, oa, step), -lo), i0), i1);
        LLVMValueRef pb = smax(e, smin(e, iadd_c(e, imul_c(e, ob, step), -lo), i1), pa);
        /* positions before the first whole window and after the last (fewer than `step`
         * each): element by element, all checks kept, to keep the code small */
        emit_inner_loop(e, i0, pa, row_base, row_idx, true, false, true);
        emit_range(e, oa, ob, row_base, row_idx, e->wlo, e->whi, blocks, true);
        emit_inner_loop(e, pb, i1, row_base, row_idx, true, false, true);
    } else {
        emit_element_range(e, i0, i1, row_base, row_idx, last);
    }
row_done:;
    LLVMValueRef el2 = LLVMBuildAdd(e->b, el, LLVMBuildSub(e->b, i1, i0, ""), "");
    LLVMBasicBlockRef cur = LLVMGetInsertBlock(e->b);
    LLVMBuildCondBr(e->b, LLVMBuildICmp(e->b, LLVMIntSLT, el2, end, ""), rows, done);
    LLVMAddIncoming(el, &begin, &entry, 1);
    LLVMAddIncoming(el, &el2, &cur, 1);
    LLVMPositionBuilderAtEnd(e->b, done);
    LLVMBuildRetVoid(e->b);
    *body_ty = fty;
    return fn;
}

/* The exported entry: unpack the slot table into the body's noalias parameters. */
static void add_entry(emitter *e, int kid, LLVMValueRef body, LLVMTypeRef body_ty) {
    LLVMTypeRef params[3] = {e->ptr, e->i64, e->i64};
    LLVMTypeRef fty = LLVMFunctionType(LLVMVoidTypeInContext(e->ctx), params, 3, 0);
    char name[48];
    snprintf(name, sizeof name, "lc_kernel_%d", kid);
    LLVMValueRef fn = LLVMAddFunction(e->mod, name, fty);
    LLVMPositionBuilderAtEnd(e->b, LLVMAppendBasicBlockInContext(e->ctx, fn, "entry"));
    const lc_kernel *k = e->k;
    LLVMValueRef args[64];
    int na = 0;
    LLVMValueRef slots = LLVMGetParam(fn, 0);
    int pslots[64];
    int np = param_slots(k, pslots);
    for (int a = 0; a < np; a++) {
        int slot = pslots[a];
        LLVMValueRef off = LLVMConstInt(e->i64, (unsigned long long)slot, 0);
        LLVMValueRef p = LLVMBuildGEP2(e->b, e->ptr, slots, &off, 1, "");
        args[na++] = LLVMBuildLoad2(e->b, e->ptr, p, "");
    }
    args[na++] = LLVMGetParam(fn, 1);
    args[na++] = LLVMGetParam(fn, 2);
    LLVMBuildCall2(e->b, body_ty, body, args, (unsigned)na, "");
    LLVMBuildRetVoid(e->b);
}

lc_status lc_emit_module(const lc_fused *f, LLVMContextRef ctx, LLVMModuleRef mod, bool fma) {
    emitter e = {0};
    e.fma = fma;
    e.ctx = ctx;
    e.mod = mod;
    e.b = LLVMCreateBuilderInContext(ctx);
    e.i64 = LLVMInt64TypeInContext(ctx);
    e.i1 = LLVMInt1TypeInContext(ctx);
    e.ptr = LLVMPointerType(LLVMInt8TypeInContext(ctx), 0);
    e.f = f;
    int n = lc_graph_node_count(f->graph);
    e.slot_ptr = calloc((size_t)f->n_slots + 1, sizeof(LLVMValueRef));
    e.globals = calloc((size_t)n + 1, sizeof(LLVMValueRef));
    lc_status st = LC_OK;
    if (!e.slot_ptr || !e.globals) st = lc_fail(LC_ERR_NOMEM, "codegen: out of memory");
    for (int kid = 0; kid < f->n_kernels && st == LC_OK; kid++) {
        e.k = &f->kernels[kid];
        if (e.k->n_args + 4 > 64) {
            st = lc_fail(LC_ERR_UNSUPPORTED, "codegen: kernel %d reads %d buffers (at most 61)",
                         kid, e.k->n_args);
            break;
        }
        LLVMTypeRef body_ty;
        LLVMValueRef body = add_body(&e, kid, &body_ty);
        add_entry(&e, kid, body, body_ty);
    }
    free(e.slot_ptr);
    free(e.globals);
    LLVMDisposeBuilder(e.b);
    return st;
}
