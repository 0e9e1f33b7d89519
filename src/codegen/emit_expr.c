/* The value of a node at an index, evaluated inline through the kernel's nodes: elementwise
 * ops, reductions (sum, mean, and the LP norm: scaled by the window max for p far from 1, else
 * plain with flagged windows redone scaled in a fix-up pass), unfold as index arithmetic,
 * fold as a gather over the windows covering a position, expand. */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "codegen/emit_internal.h"
#include "codegen/vmath.h"

/* ---- reductions ---- */

typedef struct reduce_ctx {
    int x;            /* reduced node's input */
    int dim;
    const ix *idx;    /* index of the reduction's result */
    int rank;         /* rank of x */
    double p;         /* scaled LP: exponent */
    LLVMValueRef m;   /* scaled LP: window max |x| */
    LLVMValueRef nan; /* scaled LP: accumulated "saw a NaN" (as float: 0 or NaN) */
    bool wide;        /* scaled LP: float32 |x| widened to double, the parts taken in double;
                         max_mask: the index carried in i64 */
} reduce_ctx;

/* idx without its axis `dim` (of `rank` axes): the index of a reduction's result, or of an
 * expand's input. */
static void drop_axis(int rank, int dim, const ix *idx, ix *out) {
    for (int d = 0, s = 0; d < rank; d++)
        if (d != dim) out[s++] = idx[d];
}

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
    /* in vector mode a term or the identity may be a scalar the lanes share */
    acc[0] = LLVMBuildFAdd(e->b, lc_emit_splat(e, acc[0]), lc_emit_splat(e, t[0]), "");
}

/* max(ceil(v / d), 0) for d >= 1, without forming v + d - 1 (v may be near INT64_MAX). */
static LLVMValueRef ceil_div_nonneg(emitter *e, LLVMValueRef v, int64_t d) {
    if (d == 1) return imax_c(e, v, 0);
    LLVMValueRef q = iadd_c(e, LLVMBuildSDiv(e->b, iadd_c(e, v, -1), LLVMConstInt(e->i64, (unsigned long long)d, 1), ""), 1);
    return LLVMBuildSelect(e->b, LLVMBuildICmp(e->b, LLVMIntSGT, v, LLVMConstInt(e->i64, 0, 0), ""), q,
                           LLVMConstInt(e->i64, 0, 0), "");
}

/* LC_SPAN_DATA: the slots [from, to) of a window of n slots that read the input of the span's
 * unfold u, for the reduction's result index `idx` (its axis u.dim is the window o): slot j
 * reads position o·step - pad_lo + j·dilation, so with b = pad_lo - o·step the slots from
 * ceil(b / dilation) up to ceil((b + L) / dilation). Both stay within [0, n], and
 * to - from <= L even for an o out of range (a checked edge), so the walk is short wherever
 * it runs. */
static void data_span(emitter *e, const lc_reduction_schedule *rs, const ix *idx, int64_t n,
                      LLVMValueRef *from, LLVMValueRef *to) {
    *from = *to = NULL;
    if (rs->span != LC_SPAN_DATA) return;
    const lc_node *u = lc_graph_node(e->f->graph, rs->span_unfold);
    lc_window w = lc_window_of(u);
    int64_t len = lc_graph_node(e->f->graph, u->inputs[0])->shape.dim[w.dim];
    LLVMValueRef base = LLVMBuildSub(e->b, LLVMConstInt(e->i64, (unsigned long long)w.pad_lo, 1),
                                     imul_c(e, idx[w.dim].v, w.step), "");
    *from = imin_c(e, ceil_div_nonneg(e, base, w.dilation), n);
    *to = smax(e, imin_c(e, ceil_div_nonneg(e, iadd_c(e, base, len), w.dilation), n), *from);
}

/* Reduction `rs` over its n terms as fuse scheduled it: the slots [from, to) one by one where
 * it has a span (from and to set), else all of them, unrolled or as vector partial sums. */
static void emit_reduce_over(emitter *e, const lc_reduction_schedule *rs, lc_dtype dt, int64_t n,
                             LLVMValueRef from, LLVMValueRef to, const lc_reducer *r, LLVMValueRef *acc) {
    LC_ASSERT(rs && rs->terms == n); /* fuse scheduled every inline reduction, at its length */
    LC_ASSERT((from != NULL) == (rs->span != LC_SPAN_ALL));
    if (from) lc_emit_reduce_range(e, from, to, r, acc);
    else lc_emit_reduce(e, real_type(e, dt), n, rs, r, acc);
}

/* Accumulator a's slot at the row pass's position (emitter.pass_buf[which]): a row of the
 * accumulator's type, the root's last axis long, made in the function's entry when first
 * asked for, so that every pass of every row uses the one stack slot. */
static LLVMValueRef row_pass_slot(emitter *e, int which, int a, LLVMTypeRef ty) {
    const lc_node *root = lc_graph_node(e->f->graph, e->k->root);
    int64_t len = root->shape.dim[root->shape.rank - 1];
    LLVMTypeRef aty = LLVMArrayType(ty, (unsigned)len);
    LLVMValueRef *buf = &e->pass_buf[which][a];
    if (!*buf) *buf = lc_emit_entry_alloca(e, aty, "row.pass");
    LLVMValueRef at[2] = {LLVMConstInt(e->i64, 0, 0), e->pass_i};
    return LLVMBuildGEP2(e->b, aty, *buf, at, 2, "");
}

/* Row pass k of a reduction (lc_schedule.row_passes; `which`: 0 the root's, 1 the co-root's)
 * whose accumulators are of type `ty` (where acc holds no identity to tell): its term k
 * alone, folded into the partial result of terms 0 .. k-1 (none for k = 0) as the unrolled
 * order folds it; stored back for the next pass, or, in the last, left in acc as the whole
 * reduction. */
static void emit_row_pass(emitter *e, int which, const lc_reduction_schedule *rs, int64_t n, const lc_reducer *r,
                          LLVMValueRef *acc, LLVMTypeRef ty) {
    int64_t k = e->row_pass - 1;
    LC_ASSERT(rs->unrolled && !rs->rolled && rs->span == LC_SPAN_ALL && n == e->k->sched.row_passes &&
              k < n && e->vec == 0 && e->pass_i);
    for (int a = 0; a < r->nacc && k > 0; a++) {
        LLVMTypeRef at = acc[a] ? LLVMTypeOf(acc[a]) : ty;
        acc[a] = LLVMBuildLoad2(e->b, at, row_pass_slot(e, which, a, at), "partial");
    }
    lc_emit_reduce_term(e, r, k, acc);
    if (k == n - 1) return;
    for (int a = 0; a < r->nacc; a++) LLVMBuildStore(e->b, acc[a], row_pass_slot(e, which, a, LLVMTypeOf(acc[a])));
    e->pass_stored++;
}

/* The reduction fuse scheduled for node `node` (a sum, mean or max over an axis, or a sum an LP
 * norm's passes replace), over its n terms, at its result index idx: the slots its span says
 * to walk. `acc` holds each accumulator's identity on entry and the result on return. */
static void emit_scheduled_reduce(emitter *e, int node, lc_dtype dt, int64_t n, const ix *idx,
                                  const lc_reducer *r, LLVMValueRef *acc) {
    const lc_reduction_schedule *rs = lc_kernel_reduction(e->k, node);
    LC_ASSERT(rs);
    if (e->row_pass > 0 && node == e->k->sched.row_pass_node) {
        emit_row_pass(e, 0, rs, n, r, acc, real_type(e, dt));
        return;
    }
    LLVMValueRef from, to;
    data_span(e, rs, idx, n, &from, &to);
    emit_reduce_over(e, rs, dt, n, from, to, r, acc);
}

/* The sum from +0 (see emit_reduce.c for the order) of the terms `term` gives, over the slots
 * node `node`'s schedule walks at idx. */
static LLVMValueRef emit_sum(emitter *e, int node, lc_dtype dt, int64_t n,
                             void (*term)(emitter *, void *, ix, LLVMValueRef *), void *ctx, const ix *idx) {
    lc_reducer r = {1, term, add, ctx, NULL, NULL};
    LLVMValueRef acc = real_const(e, dt, 0.0);
    emit_scheduled_reduce(e, node, dt, n, idx, &r, &acc);
    return acc;
}

/* ---- compensated window sums (the fix-up of a rescued window sum) ----
 *
 * A sum or mean over an unfold's window (AvgPool's; lc_reduction_schedule.rescue_nonfinite)
 * is taken plain in the vectorized pass, and a window whose plain sum is not finite raises
 * the kernel's flag. The fix-up takes, for such a window, in the element type, a compensated
 * sum of the terms x_j·2^-c, 2^c >= n the smallest power
 * of two at least the term count: scaled, n finite terms cannot overflow, so the sum of finite
 * elements never does where the mean fits (two 3e38 average to 3e38 in float32, two 1.7e308
 * to 1.7e308 in float64); compensated (each addition's rounding error kept by TwoSum and added
 * back at the end), cancellation costs no more than the final rounding, as if the sum were
 * taken in twice the precision (the interpreter's double sum, for float32). The result is
 * then multiplied by 2^c/n (a mean) or 2^c and divided by the divisor.
 *
 * Chosen over accumulating float32 in double, which halves the vector width LLVM picks (its
 * float32 loads become conversions from memory: test_jit_vectorized), and over pre-scaling by
 * the divisor, exact only for powers of two. What the scaling costs: a term below 2^(lo + c)
 * (lo the least normal exponent) loses bits below the subnormal grid, at most 2^(c-1) units
 * of the least subnormal in the result. */

/* The fix-up's terms of a rescued window sum, each evaluated once: t[0] = x_j for the plain
 * sum (added as the vectorized pass adds it, so a finite window gets the same bits), t[1] =
 * x_j·2^-c and t[2] = 0 for the compensated one. One pass, not a plain pass and a second one in
 * a branch: a chain of pools re-evaluates its inner windows per pass, so two passes per level
 * would make code exponential in the chain's length. */
typedef struct comp_ctx {
    reduce_ctx r;
    LLVMValueRef scale; /* 2^-c, or NULL for 1 */
} comp_ctx;

static void plain_and_compensated_term(emitter *e, void *ctx, ix j, LLVMValueRef *t) {
    comp_ctx *c = ctx;
    sum_term(e, &c->r, j, t);
    t[1] = c->scale ? LLVMBuildFMul(e->b, t[0], c->scale, "") : t[0];
    t[2] = LLVMConstNull(LLVMTypeOf(t[0]));
}

/* (s, comp) + (t, t_comp): s' = s + t, comp' = comp + t_comp + the rounding error of s + t
 * (TwoSum: exact in IEEE arithmetic, without reassociation). Lane by lane on vectors too,
 * where it also combines two partial (s, comp) pairs. */
static void add_compensated(emitter *e, LLVMValueRef *acc, const LLVMValueRef *t) {
    LLVMValueRef s = LLVMBuildFAdd(e->b, acc[0], t[0], "");
    LLVMValueRef bv = LLVMBuildFSub(e->b, s, acc[0], "");
    LLVMValueRef av = LLVMBuildFSub(e->b, s, bv, "");
    LLVMValueRef err = LLVMBuildFAdd(e->b, LLVMBuildFSub(e->b, acc[0], av, ""),
                                     LLVMBuildFSub(e->b, t[0], bv, ""), "");
    acc[1] = LLVMBuildFAdd(e->b, acc[1], LLVMBuildFAdd(e->b, t[1], err, ""), "");
    acc[0] = s;
}

static void add_plain_and_compensated(emitter *e, LLVMValueRef *acc, const LLVMValueRef *t) {
    acc[0] = LLVMBuildFAdd(e->b, acc[0], t[0], "");
    add_compensated(e, acc + 1, t + 1);
}

/* c with 2^c >= n (0 for n <= 1). */
static int scale_exponent(int64_t n) {
    int c = 0;
    while (c < 62 && ((int64_t)1 << c) < n) c++;
    return c;
}

/* ---- max and the mask of the first maximum ---- */

/* acc = t where t is larger, or a NaN the first time one is met: NaN wins, and an earlier
 * maximum is kept on a tie (the order terms arrive in is the window's). */
static LLVMValueRef takes_over(emitter *e, LLVMValueRef t, LLVMValueRef acc) {
    /* (t > acc or t is NaN) and acc is not NaN: "unordered or greater" is one compare
     * (vcmpnleps), where t > acc or (t NaN and acc not) took three and two logic ops; the
     * same truth table, since t > acc already implies that acc is a number. */
    LLVMValueRef above_or_nan = LLVMBuildFCmp(e->b, LLVMRealUGT, t, acc, "");
    return LLVMBuildAnd(e->b, above_or_nan, LLVMBuildFCmp(e->b, LLVMRealORD, acc, acc, ""), "");
}

static void max_of(emitter *e, LLVMValueRef *acc, const LLVMValueRef *t) {
    acc[0] = LLVMBuildSelect(e->b, takes_over(e, t[0], acc[0]), t[0], acc[0], "");
}

/* Indices of an axis up to this long are carried in the element type (exact in f32, and the
 * vectorized loop around a short window keeps one lane width); longer ones in i64. */
#define MAX_INDEX_AS_REAL (INT64_C(1) << 24)

/* The terms of a first-maximum search: the value and its index along the axis (a real, or an
 * i64 when the axis is longer than MAX_INDEX_AS_REAL: reduce_ctx.wide). */
static void value_and_index(emitter *e, void *ctx, ix j, LLVMValueRef *t) {
    reduce_ctx *r = ctx;
    ix xi[LC_MAX_RANK];
    reduce_index(r, j, xi);
    t[0] = lc_emit_value(e, r->x, xi);
    t[1] = r->wide ? j.v : LLVMBuildSIToFP(e->b, j.v, LLVMTypeOf(t[0]), "");
}

/* (value, index) pairs: the larger value wins, a NaN over a number, and between equal values
 * (or two NaNs) the lower index. Terms arrive in index order, except when vector partial sums
 * combine their lanes, where the index decides the tie. */
static void first_max_of(emitter *e, LLVMValueRef *acc, const LLVMValueRef *t) {
    LLVMValueRef same = LLVMBuildOr(e->b, LLVMBuildFCmp(e->b, LLVMRealOEQ, t[0], acc[0], ""),
                                    LLVMBuildAnd(e->b, LLVMBuildFCmp(e->b, LLVMRealUNO, t[0], t[0], ""),
                                                 LLVMBuildFCmp(e->b, LLVMRealUNO, acc[0], acc[0], ""), ""),
                                    "");
    LLVMTypeKind kind = LLVMGetTypeKind(LLVMTypeOf(acc[1]));
    if (kind == LLVMVectorTypeKind) kind = LLVMGetTypeKind(LLVMGetElementType(LLVMTypeOf(acc[1])));
    LLVMValueRef lower = kind == LLVMIntegerTypeKind ? LLVMBuildICmp(e->b, LLVMIntSLT, t[1], acc[1], "")
                                                     : LLVMBuildFCmp(e->b, LLVMRealOLT, t[1], acc[1], "");
    LLVMValueRef earlier = LLVMBuildAnd(e->b, same, lower, "");
    LLVMValueRef take = LLVMBuildOr(e->b, takes_over(e, t[0], acc[0]), earlier, "");
    acc[0] = LLVMBuildSelect(e->b, take, t[0], acc[0], "");
    acc[1] = LLVMBuildSelect(e->b, take, t[1], acc[1], "");
}

/* first_max_of for a term whose index is above the accumulator's (the unrolled form after
 * its first term, lc_reducer.after_first): no tie can go to it, so takes_over decides; the
 * same choice as first_max_of there. */
static void later_max_of(emitter *e, LLVMValueRef *acc, const LLVMValueRef *t) {
    LLVMValueRef take = takes_over(e, t[0], acc[0]);
    acc[0] = LLVMBuildSelect(e->b, take, t[0], acc[0], "");
    acc[1] = LLVMBuildSelect(e->b, take, t[1], acc[1], "");
}

/* ---- the scaled LP norm: m·(Σ(|e|/m)^p)^(1/p), m = max |e| ---- */

static LLVMValueRef abs_term(emitter *e, reduce_ctx *r, ix j) {
    /* the sum's input is pow(abs(E), p); evaluate |E| (fuse scales only when A = abs(E)) */
    const lc_node *q = lc_graph_node(e->f->graph, r->x);
    ix xi[LC_MAX_RANK];
    reduce_index(r, j, xi);
    LLVMValueRef a = lc_emit_value(e, q->inputs[0], xi);
    if (r->wide && q->dtype == LC_F32) a = LLVMBuildFPExt(e->b, a, real_type(e, LC_F64), "");
    return a;
}

/* The type the scaled parts are taken in. */
static lc_dtype parts_dtype(const emitter *e, const reduce_ctx *r) {
    return r->wide ? LC_F64 : lc_graph_node(e->f->graph, r->x)->dtype;
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
    t[0] = lc_emit_pow(e, q, r->p, false, parts_dtype(e, r));
}

/* A window's scaled parts: m = max |e|, the scaled sum Σ(|e|/m)^p (in [1, k] where m is finite
 * and nonzero) and the last NaN met (0 while none). */
typedef struct lp_parts {
    LLVMValueRef m, sum, nan;
} lp_parts;

static lp_parts emit_scaled_parts(emitter *e, const lc_lp_schedule *lp, const ix *idx, bool wide) {
    const lc_graph *g = e->f->graph;
    const lc_node *xn = lc_graph_node(g, lp->norm.terms);
    reduce_ctx r = {lp->norm.terms, lp->norm.dim, idx, xn->shape.rank, lp->norm.p, NULL, NULL, wide};
    int64_t len = xn->shape.dim[r.dim];
    lc_dtype dt = parts_dtype(e, &r);
    lp_parts parts = {real_const(e, dt, 0.0), real_const(e, dt, 0.0), real_const(e, dt, 0.0)};
    if (len <= 0) return parts;
    /* both passes over the window run as fuse scheduled the sum they replace (a padding
     * slot's |e| = 0 changes neither the max nor the sum) */
    lc_reducer max = {2, abs_terms, max_and_nan, &r, NULL, NULL};
    LLVMValueRef acc[2] = {parts.m, parts.nan};
    emit_scheduled_reduce(e, lp->norm.sum, dt, len, idx, &max, acc);
    parts.m = r.m = acc[0];
    parts.nan = acc[1];
    parts.sum = emit_sum(e, lp->norm.sum, dt, len, scaled_term, &r, idx);
    return parts;
}

/* The scaled LP norm. The final factor (Σ(|e|/m)^p)^(1/p) lies in [1, k^(1/p)]: for p >= 1/8 it
 * is at most k^8 and one multiply by m is safe where the result fits, but for small p (0.01:
 * 3^100 = 5e47 for three equal elements) it can leave the type's range where m times it does
 * not, so there it is taken as a = (Σ…)^(1/(2p)) and y = (m·a)·a. */
static LLVMValueRef emit_scaled_lp(emitter *e, const lc_lp_schedule *lp, const ix *idx) {
    const lc_node *n = lc_graph_node(e->f->graph, lp->norm.root);
    lc_dtype dt = n->dtype;
    lp_parts parts = emit_scaled_parts(e, lp, idx, false);
    LLVMValueRef y;
    if (lp->norm.p >= 1.0 / LC_LP_SCALE_MIN_P) {
        y = LLVMBuildFMul(e->b, parts.m, lc_emit_pow(e, parts.sum, n->real_attr, false, dt), "");
    } else {
        /* m·a² where a² fits (a subnormal m keeps its full product), else (m·a)·a */
        LLVMValueRef half = lc_emit_pow(e, parts.sum, 0.5 * n->real_attr, false, dt);
        LLVMValueRef whole = LLVMBuildFMul(e->b, half, half, "");
        LLVMValueRef fits = LLVMBuildFCmp(e->b, LLVMRealOLT, whole, real_const(e, dt, INFINITY), "");
        y = LLVMBuildSelect(e->b, fits, LLVMBuildFMul(e->b, parts.m, whole, ""),
                            LLVMBuildFMul(e->b, LLVMBuildFMul(e->b, parts.m, half, ""), half, ""), "");
    }
    LLVMValueRef zero = LLVMBuildFCmp(e->b, LLVMRealOEQ, parts.m, real_const(e, dt, 0.0), "");
    y = LLVMBuildSelect(e->b, zero, real_const(e, dt, 0.0), y, "");
    LLVMValueRef inf = LLVMBuildFCmp(e->b, LLVMRealOEQ, parts.m, real_const(e, dt, INFINITY), "");
    y = LLVMBuildSelect(e->b, inf, parts.m, y, "");
    LLVMValueRef nan = LLVMBuildFCmp(e->b, LLVMRealUNO, parts.nan, parts.nan, "");
    return LLVMBuildSelect(e->b, nan, parts.nan, y, "");
}

/* ---- flagged LP norms and the fix-up (lc_lp_mode LC_LP_FLAGGED) ---- */

/* vmath's exp2 flushes results below 2^lo to 0 (vmath.c); a quotient or a root below it is
 * taken as lost. */
static double flush_exponent(lc_dtype dt) { return dt == LC_F32 ? -125 : -1021; }

/* OR a window's flag (an i1) into the kernel's flag accumulator, where the current loop keeps
 * one (the vectorized pass; discovery and scalar loops keep none). */
static void raise_flag(emitter *e, LLVMValueRef bad) {
    if (!e->flag_ptr || e->pass_stored > 0) return; /* a row pass's partial result decides nothing */
    LLVMTypeRef i32 = LLVMInt32TypeInContext(e->ctx);
    LLVMValueRef old = LLVMBuildLoad2(e->b, i32, e->flag_ptr, "");
    LLVMValueRef v = LLVMBuildOr(e->b, old, LLVMBuildZExt(e->b, bad, i32, ""), "");
    LLVMBuildStore(e->b, v, e->flag_ptr);
}

/* The plain form is accurate: the sum S is finite and large enough that the terms lost below
 * the normal range (at most k of them, each below 2^lo) are at most 2^-guard of it (guard 14
 * f32, 30 f64: below the tolerance); and for p < 1, y = S^(1/p) itself did not come from a
 * flushed exp2. A normal S of finite terms leaves y accurate for p >= 1. */
static LLVMValueRef plain_lp_ok(emitter *e, const lc_lp_schedule *lp, lc_dtype dt, LLVMValueRef s,
                                LLVMValueRef y) {
    int64_t k = lc_graph_node(e->f->graph, lp->norm.terms)->shape.dim[lp->norm.dim];
    double lo = flush_exponent(dt), guard = dt == LC_F32 ? 14 : 30;
    double least = (double)(k > 0 ? k : 1) * ldexp(1.0, (int)(lo + guard));
    LLVMValueRef ok = LLVMBuildAnd(
        e->b, LLVMBuildFCmp(e->b, LLVMRealOGE, s, real_const(e, dt, least), ""),
        LLVMBuildFCmp(e->b, LLVMRealOLT, s, real_const(e, dt, INFINITY), ""), "");
    if (lp->norm.p < 1)
        ok = LLVMBuildAnd(e->b, ok, LLVMBuildFCmp(e->b, LLVMRealOGE, y, real_const(e, dt, ldexp(1.0, (int)lo)), ""), "");
    return ok;
}

/* A term |e|^p of a flagged norm's plain sum, in the form fuse chose (lc_lp_pow_form): the
 * pow node itself, or the short normal-range power of its base. */
typedef struct plain_ctx {
    reduce_ctx r;
    const lc_lp_schedule *lp;
    bool nonzero_by_compare; /* the flagged sum's "nonzero" by a compare a term (nonzero_bits) */
} plain_ctx;

/* The base the short power reads: A, or A's operand where A = |a| is computed here. Both of
 * its forms drop the sign themselves (vmath.c: a fabs, or AVX-512's vgetexpps and vgetmantps,
 * which LLVM cannot see through), so on AVX-512 the |a| would be one more operation an element
 * in a loop the terms bound. */
static int short_power_base(const emitter *e, const lc_lp_schedule *lp) {
    const lc_node *a = lc_graph_node(e->f->graph, lp->norm.base);
    bool own_abs = a->op == LC_OP_ABS && e->f->node_slot[lp->norm.base] < 0;
    return lp->terms_form == LC_LP_POW_NORMAL && own_abs ? a->inputs[0] : lp->norm.base;
}

/* |a|^k·sqrt|a| for a half-integer p = k + 1/2, the root by the estimate (kernel.h,
 * lc_lp_schedule.terms_sqrt_estimate): a is A = |e|, >= 0 or NaN. */
static LLVMValueRef estimated_root_term(emitter *e, LLVMValueRef a, double p) {
    LLVMValueRef r = lc_vmath_sqrt_estimate_avx512(e->b, e->mod, a);
    for (int k = 0; k < (int)p; k++) r = LLVMBuildFMul(e->b, r, a, "");
    return r;
}

/* A term of a norm whose terms are an inner norm's sums (lc_lp_schedule.terms_from_sums), at
 * the terms' index xi: the unfold u of A = |u| (or A = u) evaluated with the inner root's sums in its
 * place (emitter.sums_for), or with the OR of their elements' bits (`bits`). */
static LLVMValueRef inner_sums_term(emitter *e, const lc_lp_schedule *lp, const ix *xi, bool bits) {
    const lc_node *a = lc_graph_node(e->f->graph, lp->norm.base);
    int u = a->op == LC_OP_ABS ? a->inputs[0] : lp->norm.base;
    int saved = e->sums_for;
    bool saved_bits = e->sums_bits;
    e->sums_for = lp->terms_from_sums;
    e->sums_bits = bits;
    LLVMValueRef v = lc_emit_value(e, u, xi);
    e->sums_for = saved;
    e->sums_bits = saved_bits;
    return v;
}

static LLVMValueRef plain_lp_term(emitter *e, plain_ctx *c, ix j) {
    ix xi[LC_MAX_RANK];
    reduce_index(&c->r, j, xi);
    if (c->lp->terms_from_sums >= 0) return inner_sums_term(e, c->lp, xi, false);
    if (c->lp->terms_sqrt_estimate && e->sqrt_estimate)
        return estimated_root_term(e, lc_emit_value(e, c->lp->norm.base, xi), c->lp->norm.p);
    if (c->lp->terms_form == LC_LP_POW_GENERAL) return lc_emit_value(e, c->r.x, xi);
    return lc_emit_lp_pow(e, lc_emit_value(e, short_power_base(e, c->lp), xi), c->lp->norm.p, c->lp->terms_form,
                          c->lp->terms_poly, lc_graph_node(e->f->graph, c->r.x)->dtype);
}

static void plain_lp_terms(emitter *e, void *ctx, ix j, LLVMValueRef *t) { t[0] = plain_lp_term(e, ctx, j); }

/* The flagged norm's plain sum S at its result index idx, as every loop takes it. */
static LLVMValueRef emit_plain_lp_sum(emitter *e, const lc_lp_schedule *lp, const ix *idx) {
    const lc_node *xn = lc_graph_node(e->f->graph, lp->norm.terms);
    plain_ctx c = {{lp->norm.terms, lp->norm.dim, idx, xn->shape.rank, 0, NULL, NULL, false}, lp, false};
    return emit_sum(e, lp->norm.sum, xn->dtype, xn->shape.dim[lp->norm.dim], plain_lp_terms, &c, idx);
}

/* The plain root S^(1/p) of flagged norm `n` (the norm's root node) in the form fuse chose; the
 * short form gives an all-zero window's 0 by a select (its log2 of 0 is only -127). */
static LLVMValueRef emit_plain_lp_root(emitter *e, const lc_lp_schedule *lp, const lc_node *n, LLVMValueRef s) {
    lc_dtype dt = n->dtype;
    if (lp->root_form == LC_LP_POW_GENERAL) return lc_emit_pow(e, s, n->real_attr, n->attr[LC_POW_ZERO_POLE] != 0, dt);
    LLVMValueRef y = lc_emit_lp_pow(e, s, n->real_attr, lp->root_form, lp->root_poly, dt);
    LLVMValueRef zero = LLVMBuildFCmp(e->b, LLVMRealOEQ, s, real_const(e, dt, 0.0), "");
    return LLVMBuildSelect(e->b, zero, real_const(e, dt, 0.0), y, "");
}

/* All ones where v is nonzero or NaN, else 0, as v's type: what the OR of a window's bits
 * (below) needs to know of each element, for the quick tier's unrolled windows. Its code
 * generator (LLVM's level None) spent about a tenth of LPPool1d(2.7, 4)'s compile following
 * v's own bits back through the window's shuffles and loads; a compare ends that search. A
 * long window's vector partial sums lose by it (LPPool1d(2, 64): 23.0M instructions a quick
 * forward with the bits, 25.3M with the compare). Same flag either way, so the same values as
 * the optimized tier, which keeps the cheaper bits (one OR a term). */
static LLVMValueRef nonzero_bits(emitter *e, LLVMValueRef v) {
    LLVMTypeRef fty = LLVMTypeOf(v), ity = bits_type(e, fty);
    LLVMValueRef nz = LLVMBuildFCmp(e->b, LLVMRealUNE, v, LLVMConstNull(fty), "");
    return LLVMBuildBitCast(e->b, LLVMBuildSExt(e->b, nz, ity, ""), fty, "");
}

/* Terms of the flagged sum: |e|^p, and the bits of e as an integer ORed over the window
 * (carried in the float type, never used as a float), masked of their sign where fuse chose
 * it (lc_lp_schedule.flag_masks_sign): nonzero exactly when some element is, so an all-zero
 * window (its plain 0 is exact) is not flagged. The bits of |e| ORed are those of e ORed and masked; taking e's spares the
 * vectorized loop a second |x| of each de-interleaved window slot, which the back end had to
 * select beside the terms'. */
static void sum_and_bits_terms(emitter *e, void *ctx, ix j, LLVMValueRef *t) {
    plain_ctx *c = ctx;
    t[0] = plain_lp_term(e, c, j);
    if (c->lp->terms_from_sums >= 0) {
        /* the inner windows' elements' bits, which their sums' ORs hold as this norm's own
         * would (the same sign masking: both norms are of one kernel) */
        ix xi[LC_MAX_RANK];
        reduce_index(&c->r, j, xi);
        t[1] = inner_sums_term(e, c->lp, xi, true);
    } else if (c->lp->flag_masks_sign) { /* the terms are pow(|e|, p): e is the abs's input */
        ix xi[LC_MAX_RANK];
        reduce_index(&c->r, j, xi);
        t[1] = lc_emit_value(e, lc_graph_node(e->f->graph, c->lp->norm.base)->inputs[0], xi);
    } else {
        t[1] = abs_term(e, &c->r, j);
    }
    if (c->nonzero_by_compare) t[1] = nonzero_bits(e, t[1]);
}

static void add_and_or(emitter *e, LLVMValueRef *acc, const LLVMValueRef *t) {
    acc[0] = LLVMBuildFAdd(e->b, acc[0], t[0], "");
    LLVMTypeRef fty = LLVMTypeOf(acc[1]), ity = bits_type(e, fty);
    LLVMValueRef bits = LLVMBuildOr(e->b, LLVMBuildBitCast(e->b, acc[1], ity, ""),
                                    LLVMBuildBitCast(e->b, t[1], ity, ""), "");
    acc[1] = LLVMBuildBitCast(e->b, bits, fty, "");
}

/* `plain` where `redo` is false, else what `rescue` emits, in a branch of its own: the fix-up
 * pays for the rescue only in the windows that need it. */
static LLVMValueRef emit_rescued(emitter *e, LLVMValueRef redo, LLVMValueRef plain,
                                 LLVMValueRef (*rescue)(emitter *, const void *), const void *ctx) {
    LLVMBasicBlockRef from = LLVMGetInsertBlock(e->b);
    LLVMBasicBlockRef rescue_bb = LLVMAppendBasicBlockInContext(e->ctx, e->fn, "rescue");
    LLVMBasicBlockRef join = LLVMAppendBasicBlockInContext(e->ctx, e->fn, "rescue.join");
    LLVMBuildCondBr(e->b, redo, rescue_bb, join);
    LLVMPositionBuilderAtEnd(e->b, rescue_bb);
    LLVMValueRef v = rescue(e, ctx);
    LLVMBasicBlockRef rescued = LLVMGetInsertBlock(e->b);
    LLVMBuildBr(e->b, join);
    LLVMPositionBuilderAtEnd(e->b, join);
    LLVMValueRef phi = LLVMBuildPhi(e->b, LLVMTypeOf(plain), "rescued");
    LLVMAddIncoming(phi, &plain, &from, 1);
    LLVMAddIncoming(phi, &v, &rescued, 1);
    return phi;
}

/* A window's LP norm and where it is evaluated (the rescue of emit_flagged_lp). */
typedef struct lp_window {
    const lc_lp_schedule *lp;
    const ix *idx;
} lp_window;

static LLVMValueRef rescue_scaled_lp(emitter *e, const void *ctx) {
    const lp_window *w = ctx;
    return emit_scaled_lp(e, w->lp, w->idx);
}

static bool same_index(const ix *a, const ix *b);

/* The vectorized pass's sum S of a flagged norm at its result index idx (acc[0]) and the OR of
 * its elements' bits (acc[1]), as emit_flagged_lp takes them: once per window and block
 * (emitter.window_memo), however many of the window's elements read it. */
static void emit_flagged_sum(emitter *e, const lc_lp_schedule *lp, const ix *idx, LLVMValueRef *acc) {
    const lc_node *xn = lc_graph_node(e->f->graph, lp->norm.terms);
    int64_t len = xn->shape.dim[lp->norm.dim];
    int rank = xn->shape.rank - 1; /* idx: the sum's index, without the reduced axis */
    LLVMBasicBlockRef here = LLVMGetInsertBlock(e->b);
    /* a blocked sum's pass over one term (pin_node) may read the window otherwise */
    bool memo = e->pin_node < 0;
    for (int w = 0; memo && w < e->window_memo_n; w++) {
        if (e->window_memo[w].node != lp->norm.sum || e->window_memo[w].vec != e->vec ||
            e->window_memo[w].careful != e->careful || e->window_memo[w].block != here)
            continue;
        bool same = true;
        for (int d = 0; same && d < rank; d++) same = same_index(&e->window_memo[w].idx[d], &idx[d]);
        if (!same) continue;
        acc[0] = e->window_memo[w].acc[0];
        acc[1] = e->window_memo[w].acc[1];
        return;
    }
    const lc_reduction_schedule *rs = lc_kernel_reduction(e->k, lp->norm.sum);
    plain_ctx c = {{lp->norm.terms, lp->norm.dim, idx, xn->shape.rank, 0, NULL, NULL, false}, lp,
                   e->quick && rs && rs->unrolled};
    /* Unrolled, the sum starts at its first term rather than at 0 + it: an LP term |e|^p is
     * never -0, so the two are the same bits, and the window's chain (the sum, then the
     * root's steps) is one add shorter; LLVM cannot fold the 0 + t itself, as it does not
     * know t is not -0. */
    lc_reducer red = {2, sum_and_bits_terms, add_and_or, &c, NULL, add_and_or};
    acc[0] = acc[1] = real_const(e, xn->dtype, 0.0);
    emit_scheduled_reduce(e, lp->norm.sum, xn->dtype, len, idx, &red, acc);
    if (memo && e->window_memo_n < LC_WINDOW_MEMO_MAX) {
        int w = e->window_memo_n++;
        e->window_memo[w].node = lp->norm.sum;
        e->window_memo[w].vec = e->vec;
        e->window_memo[w].careful = e->careful;
        e->window_memo[w].block = LLVMGetInsertBlock(e->b); /* a blocked sum ends in a block of its own */
        for (int d = 0; d < rank; d++) e->window_memo[w].idx[d] = idx[d];
        e->window_memo[w].acc[0] = acc[0];
        e->window_memo[w].acc[1] = acc[1];
    }
}

/* The vectorized pass: the plain pow(S, 1/p), and a window whose S is not accurate while some
 * element is nonzero raises the kernel's flag. The fix-up (e->careful, scalar): the plain form
 * where it is accurate, else the scaled form, in a branch. */
static LLVMValueRef emit_flagged_lp(emitter *e, const lc_lp_schedule *lp, const lc_node *n,
                                    const ix *idx) {
    lc_dtype dt = n->dtype;
    const lc_node *xn = lc_graph_node(e->f->graph, lp->norm.terms);
    int64_t len = xn->shape.dim[lp->norm.dim];
    if (len <= 0) return real_const(e, dt, 0.0);
    if (!e->careful) {
        LLVMValueRef acc[2];
        emit_flagged_sum(e, lp, idx, acc);
        LLVMValueRef y = emit_plain_lp_root(e, lp, n, acc[0]);
        LLVMTypeRef ity = bits_type(e, LLVMTypeOf(acc[1]));
        LLVMValueRef bits = LLVMBuildBitCast(e->b, acc[1], ity, "");
        if (lp->flag_masks_sign)
            bits = LLVMBuildAnd(e->b, bits, LLVMConstInt(ity, dt == LC_F64 ? INT64_MAX : INT32_MAX, 0), "");
        LLVMValueRef nonzero = LLVMBuildICmp(e->b, LLVMIntNE, bits, LLVMConstInt(ity, 0, 0), "");
        LLVMValueRef ok = plain_lp_ok(e, lp, dt, acc[0], y);
        raise_flag(e, LLVMBuildAnd(e->b, LLVMBuildNot(e->b, ok, ""), nonzero, ""));
        return y;
    }
    LLVMValueRef s = emit_plain_lp_sum(e, lp, idx);
    LLVMValueRef y = emit_plain_lp_root(e, lp, n, s);
    LLVMValueRef redo = LLVMBuildNot(e->b, plain_lp_ok(e, lp, dt, s, y), "");
    lp_window w = {lp, idx};
    return emit_rescued(e, redo, y, rescue_scaled_lp, &w);
}

/* ---- rescued window sums (lc_reduction_schedule.rescue_nonfinite) ---- */

static bool is_rescued_sum(const emitter *e, int node) {
    const lc_reduction_schedule *rs = lc_kernel_reduction(e->k, node);
    return rs && rs->rescue_nonfinite;
}

/* |v| < inf: neither inf nor NaN. The quick tier asks whether v - v is ordered (0 for a
 * finite v, NaN for inf or NaN), the same answer: its code generator (LLVM's level None) took
 * about a tenth of the demo's quick forward over the |v| < inf of each of its four AvgPool
 * windows a position, the subtraction almost nothing (bench/README.md, "Cold compiles: the
 * quick tier's window tests"). */
static LLVMValueRef is_finite(emitter *e, lc_dtype dt, LLVMValueRef v) {
    if (e->quick) return LLVMBuildFCmp(e->b, LLVMRealORD, LLVMBuildFSub(e->b, v, v, ""), real_const(e, dt, 0.0), "");
    return LLVMBuildFCmp(e->b, LLVMRealOLT, emit_fabs(e, v), real_const(e, dt, INFINITY), "");
}

/* A window sum or mean `node` at idx, or (AvgPool without its padding counted) the window sum
 * over a per-window divisor d. */
typedef struct window_sum {
    int node;
    const ix *idx;
    LLVMValueRef d; /* or NULL */
} window_sum;

/* The count a float32 quotient divides by, where it is a constant odd integer from 3 to 2^24
 * (a pool's window size); else 0. A splat counts as its lane. Odd: an even count (6) puts
 * some quotients of subnormal numbers exactly halfway between two subnormals, where the
 * correction below rounds the wrong way (1,398,101 of the float32 numbers for 6); an odd one
 * cannot (a/c = (2n + 1)/2 ulps needs c to divide 2a, so a itself, a whole quotient). */
static double constant_count(LLVMValueRef b) {
    if (LLVMGetTypeKind(LLVMTypeOf(b)) == LLVMVectorTypeKind) {
        if (!LLVMIsAConstant(b)) return 0;
        unsigned n = LLVMGetVectorSize(LLVMTypeOf(b));
        LLVMValueRef first = LLVMGetAggregateElement(b, 0);
        for (unsigned i = 1; i < n; i++)
            if (LLVMGetAggregateElement(b, i) != first) return 0;
        b = first;
    }
    if (!b || !LLVMIsAConstantFP(b)) return 0;
    LLVMBool loses = 0;
    double c = LLVMConstRealGetDouble(b, &loses);
    return c >= 3 && c <= 16777216.0 && c == floor(c) && fmod(c, 2.0) == 1.0 ? c : 0;
}

/* a / b, correctly rounded. For a float32 count b (constant_count) on a target with fused
 * multiply-add, without the divider: q = a·RN(1/b), the remainder r = a - q·b exactly (one
 * fused multiply-add), then q + r·RN(1/b) rounded once (another), Markstein's correction,
 * which gives the correctly rounded quotient: the division's bits for every float32 a but two
 * kinds, fixed apart: an infinite a, whose remainder is NaN (selected), and -0, whose
 * remainder is +0 (the sign is the dividend's, as the division's is). Every positive float32
 * was checked by brute force for the counts 3, 5, 7, 9, 11, 13, 25, 27, 49, 81 and 4095 (the
 * negative ones are their mirror); test_jit_ops' count_division samples both signs through a
 * kernel. Why: a vector division takes the divider, shared by the lanes, about 10 cycles for
 * 16 floats on an Intel AVX-512 core, where these five operations take two or three; the
 * backward of AvgPool1d(3, 1, 1) divides each of its three covering windows' gradient by 3
 * (bench/README.md, "A count's division without the divider"). The same value either way,
 * so the engines and the tiers agree as before. */
static LLVMValueRef emit_fdiv(emitter *e, LLVMValueRef a, LLVMValueRef b, lc_dtype dt) {
    /* in the optimized tier's vectorized loops only: the scalar loops, the quick tier and the
     * fix-up, which run few positions or briefly, keep the division, which the compile takes
     * in fewer instructions (the same bits either way) */
    double c = dt == LC_F32 && e->fma && e->vector_loop && !e->quick && !e->fixup_form ? constant_count(b) : 0;
    if (c == 0) return LLVMBuildFDiv(e->b, a, b, "");
    LLVMTypeRef ty = LLVMTypeOf(a);
    LLVMValueRef inv = real_const(e, dt, (double)(1.0f / (float)c)), cv = real_const(e, dt, c);
    LLVMValueRef inf_c = real_const(e, dt, INFINITY);
    if (LLVMGetTypeKind(ty) == LLVMVectorTypeKind)
        inv = lc_emit_splat(e, inv), cv = lc_emit_splat(e, cv), inf_c = lc_emit_splat(e, inf_c);
    LLVMValueRef q = LLVMBuildFMul(e->b, a, inv, "");
    LLVMValueRef fr[3] = {LLVMBuildFNeg(e->b, q, ""), cv, a};
    LLVMValueRef r = call_intrinsic(e, "llvm.fma", ty, fr, 3);
    LLVMValueRef fq[3] = {r, inv, q};
    LLVMValueRef stepped = call_intrinsic(e, "llvm.fma", ty, fq, 3);
    /* a zero's remainder is +0 whatever its sign, so the sign is the dividend's (as the
     * division's is, a count being positive) */
    LLVMValueRef rounded = emit_copysign(e, stepped, a);
    LLVMValueRef inf = LLVMBuildFCmp(e->b, LLVMRealOEQ, emit_fabs(e, a), inf_c, "");
    return LLVMBuildSelect(e->b, inf, a, rounded, "quot");
}

/* The sum, mean or quotient from a sum s·2^scale: the scaled sum divided first where it is
 * large (s·2^-c/d·2^c: the unscaled sum may not fit), multiplied back first where it is small
 * (s/d·2^-c would lose bits below the normal range). */
static LLVMValueRef finish_window_sum(emitter *e, const window_sum *w, LLVMValueRef s, int c) {
    const lc_node *n = lc_graph_node(e->f->graph, w->node);
    lc_dtype dt = n->dtype;
    if (!w->d) {
        /* the scaled sum times 2^c (a sum) or 2^c/len (a mean, rounded once more) */
        int64_t len = lc_graph_node(e->f->graph, n->inputs[0])->shape.dim[n->attr[LC_REDUCE_DIM]];
        if (c == 0) {
            if (n->op != LC_OP_MEAN) return s;
            return LLVMBuildFDiv(e->b, s, real_const(e, dt, (double)len), "");
        }
        double back = ldexp(1.0, c) / (n->op == LC_OP_MEAN ? (double)len : 1.0);
        return back == 1.0 ? s : LLVMBuildFMul(e->b, s, real_const(e, dt, back), "");
    }
    if (c == 0) return LLVMBuildFDiv(e->b, s, w->d, "");
    LLVMValueRef up = real_const(e, dt, ldexp(1.0, c));
    LLVMValueRef large = LLVMBuildFMul(e->b, LLVMBuildFDiv(e->b, s, w->d, ""), up, "");
    LLVMValueRef small = LLVMBuildFDiv(e->b, LLVMBuildFMul(e->b, s, up, ""), w->d, "");
    LLVMValueRef is_large = LLVMBuildFCmp(e->b, LLVMRealUGE, emit_fabs(e, s),
                                          real_const(e, dt, 1.0), "");
    return LLVMBuildSelect(e->b, is_large, large, small, "");
}

/* The vectorized pass: the plain sum (a mean: over len; else over d), and a window whose
 * plain sum is not finite raises the kernel's flag. The fix-up (e->careful, scalar): the same
 * plain result where that sum is finite, else the compensated sum of the terms scaled by 2^-c
 * (s + comp, or s where s is not finite: an inf or NaN element), both from one pass. */
static LLVMValueRef emit_window_sum(emitter *e, const window_sum *w) {
    const lc_node *n = lc_graph_node(e->f->graph, w->node);
    const lc_node *xn = lc_graph_node(e->f->graph, n->inputs[0]);
    lc_dtype dt = n->dtype;
    reduce_ctx r = {n->inputs[0], (int)n->attr[LC_REDUCE_DIM], w->idx, xn->shape.rank, 0, NULL, NULL, false};
    int64_t len = xn->shape.dim[r.dim];
    if (!e->careful) {
        LLVMValueRef s = emit_sum(e, w->node, dt, len, sum_term, &r, w->idx);
        const lc_reduction_schedule *rs = lc_kernel_reduction(e->k, w->node);
        /* an inner sum's inf or NaN reaches the outer sum, whose flag is raised */
        if (!rs || !rs->flag_in_outer) raise_flag(e, LLVMBuildNot(e->b, is_finite(e, dt, s), ""));
        return finish_window_sum(e, w, s, 0);
    }
    int c = scale_exponent(len);
    comp_ctx ctx = {r, c > 0 ? real_const(e, dt, ldexp(1.0, -c)) : NULL};
    lc_reducer red = {3, plain_and_compensated_term, add_plain_and_compensated, &ctx, NULL, NULL};
    LLVMValueRef acc[3] = {real_const(e, dt, 0.0), real_const(e, dt, 0.0), real_const(e, dt, 0.0)};
    emit_scheduled_reduce(e, w->node, dt, len, w->idx, &red, acc);
    LLVMValueRef plain = finish_window_sum(e, w, acc[0], 0);
    LLVMValueRef comp_ok = is_finite(e, dt, acc[1]);
    LLVMValueRef scaled = LLVMBuildSelect(e->b, comp_ok, LLVMBuildFAdd(e->b, acc[1], acc[2], ""), acc[1], "");
    return LLVMBuildSelect(e->b, is_finite(e, dt, acc[0]), plain, finish_window_sum(e, w, scaled, c), "");
}

static void broadcast_index(const lc_shape *out, const lc_shape *in, const ix *idx, ix *res,
                            emitter *e) {
    for (int d = 0; d < in->rank; d++) {
        int od = out->rank - in->rank + d;
        res[d] = (in->dim[d] == 1) ? ix_const(e, 0) : idx[od];
    }
}

/* 1/y of an LP window, 0 where y is: y = 0 only in a window of zeros, whose quotients 0/0
 * must give 0 (lc_lp_ratio_schedule.reciprocal). */
static LLVMValueRef window_reciprocal(emitter *e, LLVMValueRef y, lc_dtype dt) {
    LLVMValueRef r = LLVMBuildFDiv(e->b, real_const(e, dt, 1.0), y, "");
    return LLVMBuildSelect(e->b, LLVMBuildFCmp(e->b, LLVMRealOEQ, y, real_const(e, dt, 0.0), ""),
                           real_const(e, dt, 0.0), r, "");
}

/* div_safe(a, b) at its broadcast indices (the generic DIV), and a and b themselves. */
static LLVMValueRef emit_div(emitter *e, int node, const ix *idx, LLVMValueRef *a_out, LLVMValueRef *b_out,
                             bool reciprocal, LLVMValueRef recip) {
    const lc_graph *g = e->f->graph;
    const lc_node *n = lc_graph_node(g, node);
    lc_dtype dt = n->dtype;
    ix ai[LC_MAX_RANK], bi[LC_MAX_RANK];
    broadcast_index(&n->shape, &lc_graph_node(g, n->inputs[0])->shape, idx, ai, e);
    broadcast_index(&n->shape, &lc_graph_node(g, n->inputs[1])->shape, idx, bi, e);
    if (!a_out && !n->attr[LC_DIV_SAFE] && e->f->node_slot[n->inputs[0]] < 0 &&
        lc_graph_node(g, n->inputs[0])->op == LC_OP_SUM && is_rescued_sum(e, n->inputs[0])) {
        /* AvgPool's window sum over its per-window divisor */
        window_sum w = {n->inputs[0], ai, lc_emit_value(e, n->inputs[1], bi)};
        return emit_window_sum(e, &w);
    }
    LLVMValueRef a = lc_emit_value(e, n->inputs[0], ai);
    LLVMValueRef b = lc_emit_value(e, n->inputs[1], bi);
    if (a_out) *a_out = a;
    if (b_out) *b_out = b;
    if (reciprocal) {
        /* a · (1/b): the LP backward's quotient where fuse chose it (lc_lp_ratio_schedule); the
         * one 1/b of a window is shared by its elements. b = y is 0 only in a window of zeros
         * (y >= max |a|; a plain y of 0 beside a nonzero a is flagged and redone), where 0/0
         * must give 0: that window's 1/b is taken as 0, once per window, instead of testing
         * a and b per element. */
        if (recip) return LLVMBuildFMul(e->b, a, recip, "");
        LLVMValueRef r = n->attr[LC_DIV_SAFE] ? window_reciprocal(e, b, dt)
                                              : LLVMBuildFDiv(e->b, real_const(e, dt, 1.0), b, "");
        return LLVMBuildFMul(e->b, a, r, "");
    }
    LLVMValueRef q = emit_fdiv(e, a, b, dt);
    if (!n->attr[LC_DIV_SAFE]) return q;
    LLVMValueRef z = LLVMBuildAnd(
        e->b, LLVMBuildFCmp(e->b, LLVMRealOEQ, a, real_const(e, dt, 0.0), ""),
        LLVMBuildFCmp(e->b, LLVMRealOEQ, b, real_const(e, dt, 0.0), ""), "");
    return LLVMBuildSelect(e->b, z, real_const(e, dt, 0.0), q, "");
}

/* (A/m)^e, with a quotient that underflowed (below 2^lo, A > 0) taken in logarithms when
 * 0 < e < 1, where its power is far from 0 (p = 1.0000001: (1e-49)^(1e-7) = 0.99999). */
static LLVMValueRef pow_of_quotient(emitter *e, LLVMValueRef a, LLVMValueRef m, double ex, bool zero_pole,
                                    lc_dtype dt) {
    LLVMValueRef q = LLVMBuildFDiv(e->b, a, m, "");
    LLVMValueRef r = lc_emit_pow(e, q, ex, zero_pole, dt);
    if (!(ex > 0 && ex < 1)) return r;
    bool f64 = dt == LC_F64;
    LLVMValueRef l = LLVMBuildFSub(e->b, lc_vmath_log2(e->b, e->mod, a, f64, e->fma),
                                   lc_vmath_log2(e->b, e->mod, m, f64, e->fma), "");
    LLVMValueRef logs = lc_vmath_exp2(e->b, e->mod, LLVMBuildFMul(e->b, l, real_const(e, dt, ex), ""), f64, e->fma);
    LLVMValueRef under = LLVMBuildAnd(
        e->b, LLVMBuildFCmp(e->b, LLVMRealOLT, q, real_const(e, dt, ldexp(1.0, (int)flush_exponent(dt))), ""),
        LLVMBuildFCmp(e->b, LLVMRealOGT, a, real_const(e, dt, 0.0), ""), "");
    return LLVMBuildSelect(e->b, under, logs, r, "");
}

/* The scaled form of the LP backward's (A/y)^e in the window of y's index yi. */
typedef struct ratio_rescue {
    const lc_lp_ratio_schedule *ratio;
    const lc_lp_schedule *lp;
    const ix *yi;
    LLVMValueRef a, plain;
    bool zero_pole;
    lc_dtype dt;
    bool wide; /* the parts and the factor in double (a float32 kernel's scaled norm) */
} ratio_rescue;

static LLVMValueRef power_flushes(emitter *e, LLVMValueRef q, LLVMValueRef a, double ex, lc_dtype dt);
static LLVMValueRef quotient_power_below_normal(emitter *e, LLVMValueRef q, double ex, lc_dtype dt);

static LLVMValueRef rescue_scaled_ratio(emitter *e, const void *ctx) {
    const ratio_rescue *c = ctx;
    lc_dtype dt = c->dt;
    lp_parts parts = emit_scaled_parts(e, c->lp, c->yi, c->wide);
    LLVMValueRef a = c->a, plain = c->plain;
    if (c->wide && dt == LC_F32) {
        a = LLVMBuildFPExt(e->b, a, real_type(e, LC_F64), "");
        plain = LLVMBuildFPExt(e->b, plain, real_type(e, LC_F64), "");
    }
    lc_dtype wt = c->wide ? LC_F64 : dt;
    LLVMValueRef v = LLVMBuildFMul(e->b, pow_of_quotient(e, a, parts.m, c->ratio->e, c->zero_pole, wt),
                                   lc_emit_pow(e, parts.sum, -c->ratio->e / c->lp->norm.p, false, wt), "");
    if (wt == LC_F64 && dt == LC_F64 && c->ratio->e > 1) {
        /* float64 has nothing wider: where (A/y)^e lands below the normal range (the power by
         * exp2 flushes it to 0), the quotient by the scaled window's y = m·S^(1/p), raised as
         * the square of its half power, so that only the last multiply rounds into the
         * subnormals (float32 takes the whole form in double instead) */
        LLVMValueRef y = LLVMBuildFMul(e->b, parts.m, lc_emit_pow(e, parts.sum, 1.0 / c->lp->norm.p, false, wt), "");
        LLVMValueRef q = LLVMBuildFDiv(e->b, a, y, "");
        v = LLVMBuildSelect(e->b, power_flushes(e, q, a, c->ratio->e, wt),
                            quotient_power_below_normal(e, q, c->ratio->e, wt), v, "");
    }
    /* a window of zeros, inf or NaN keeps the plain IEEE result */
    LLVMValueRef finite = LLVMBuildAnd(
        e->b, LLVMBuildFCmp(e->b, LLVMRealOGT, parts.m, real_const(e, wt, 0.0), ""),
        LLVMBuildFCmp(e->b, LLVMRealOLT, parts.m, real_const(e, wt, INFINITY), ""), "");
    finite = LLVMBuildAnd(e->b, finite, LLVMBuildFCmp(e->b, LLVMRealORD, parts.nan, parts.nan, ""), "");
    v = LLVMBuildSelect(e->b, finite, v, plain, "");
    return wt == dt ? v : LLVMBuildFPTrunc(e->b, v, real_type(e, dt), "");
}

/* q^e for q = a · (1/y), e = j + 1/2, as q^j · (sqrt(a) · sqrt(1/y)) (lc_lp_ratio_schedule.split_sqrt):
 * sqrt(a) is the norm's terms' own, sqrt(1/y) one per window, 0 where 1/y is inf. */
static LLVMValueRef split_sqrt_pow(emitter *e, LLVMValueRef q, LLVMValueRef a, LLVMValueRef y, LLVMValueRef root_r,
                                   double ex, lc_dtype dt) {
    if (!root_r) {
        LLVMValueRef r = LLVMBuildFDiv(e->b, real_const(e, dt, 1.0), y, ""); /* the quotient's own 1/y */
        root_r = LLVMBuildSelect(e->b, LLVMBuildFCmp(e->b, LLVMRealOEQ, r, real_const(e, dt, INFINITY), ""),
                                 real_const(e, dt, 0.0), unary_intrinsic(e, "llvm.sqrt", r), "");
    }
    LLVMValueRef v = LLVMBuildFMul(e->b, unary_intrinsic(e, "llvm.sqrt", a), root_r, "");
    for (int j = 0; j < (int)floor(ex); j++) v = LLVMBuildFMul(e->b, v, q, "");
    return v;
}

/* q^ex (ex > 1) for a quotient q whose power lies below the normal range, or near it, where
 * the power by exp2 flushes: float32 takes it in double and rounds once; float64, which has
 * nothing wider, squares its half power (a normal number for any result above 2^-2042), so
 * that only the last multiply rounds into the subnormals. */
static LLVMValueRef quotient_power_below_normal(emitter *e, LLVMValueRef q, double ex, lc_dtype dt) {
    if (dt == LC_F32) {
        LLVMValueRef qd = LLVMBuildFPExt(e->b, q, LLVMDoubleTypeInContext(e->ctx), "");
        return LLVMBuildFPTrunc(e->b, lc_emit_pow(e, qd, ex, false, LC_F64), LLVMTypeOf(q), "");
    }
    LLVMValueRef half = lc_emit_pow(e, q, ex / 2, false, dt);
    return LLVMBuildFMul(e->b, half, half, "");
}

/* A quotient q = A/y below `below` whose A is not 0: one the power of which needs redoing. */
static LLVMValueRef small_quotient(emitter *e, LLVMValueRef q, LLVMValueRef a, double below, lc_dtype dt) {
    return LLVMBuildAnd(e->b, LLVMBuildFCmp(e->b, LLVMRealOLT, q, real_const(e, dt, below), ""),
                        LLVMBuildFCmp(e->b, LLVMRealOGT, a, real_const(e, dt, 0.0), ""), "");
}

/* A quotient q (A not 0) whose power q^ex (ex > 1) by exp2 flushes: q^ex below the normal range,
 * with a margin of 1 in the exponent. */
static LLVMValueRef power_flushes(emitter *e, LLVMValueRef q, LLVMValueRef a, double ex, lc_dtype dt) {
    return small_quotient(e, q, a, exp2((flush_exponent(dt) + 1) / ex), dt);
}

/* q^e for the quotient q = A/y of `ratio`, in the form fuse chose (the ratio itself where it
 * has no power). *off: where the power may flush (below), an i1 to flag, else NULL; careful
 * loops take those elements in the wider form already. */
static LLVMValueRef quotient_power(emitter *e, const lc_lp_ratio_schedule *ratio, LLVMValueRef q, LLVMValueRef a,
                                   LLVMValueRef y, LLVMValueRef root_recip, LLVMValueRef *off) {
    const lc_node *n = lc_graph_node(e->f->graph, ratio->node);
    lc_dtype dt = n->dtype;
    bool zero_pole = ratio->node != ratio->ratio && n->attr[LC_POW_ZERO_POLE] != 0;
    LLVMValueRef plain = ratio->node == ratio->ratio ? q
                         : ratio->split_sqrt    ? split_sqrt_pow(e, q, a, y, root_recip, ratio->e, dt)
                         : ratio->short_pow     ? lc_emit_lp_pow(e, q, ratio->e, LC_LP_POW_NORMAL,
                                                                 (lc_short_pow_poly){7, 6}, dt)
                                                : lc_emit_pow(e, q, ratio->e, zero_pole, dt);
    *off = NULL;
    if (ratio->node != ratio->ratio && !ratio->split_sqrt && ratio->e > 1 &&
        (ratio->short_pow || lc_pow_by_exp2(ratio->e, dt))) {
        /* an element the power by exp2 flushes (e·log2 q below the normal range, with a
         * margin of 1) or the short power cannot take (q NaN or inf: not below 2) is flagged;
         * careful loops (scalar) take the power there where the type's subnormals and its
         * last normal binade are normal numbers, rounded once (quotient_power_below_normal) */
        *off = power_flushes(e, q, a, ratio->e, dt);
        if (ratio->short_pow)
            *off = LLVMBuildOr(e->b, *off, LLVMBuildFCmp(e->b, LLVMRealUGE, q, real_const(e, dt, 2.0), ""), "");
        if (e->careful) plain = LLVMBuildSelect(e->b, *off, quotient_power_below_normal(e, q, ratio->e, dt), plain, "");
    }
    return plain;
}

/* Where the plain form of flagged norm `norm` (lp its schedule) is kept at its index yi: always
 * in the vectorized pass (a window it cannot keep is flagged there), plain_lp_ok in the fix-up. */
static LLVMValueRef plain_norm_kept(emitter *e, const lc_lp_schedule *lp, int norm, const ix *yi) {
    if (!e->careful) return LLVMConstInt(e->i1, 1, 0);
    const lc_node *n = lc_graph_node(e->f->graph, norm);
    LLVMValueRef s = emit_plain_lp_sum(e, lp, yi);
    return plain_lp_ok(e, lp, n->dtype, s, emit_plain_lp_root(e, lp, n, s));
}

/* `kept` ? a : b, where a may be a uniform scalar beside a vector b (or the other way). */
static LLVMValueRef select_kept(emitter *e, LLVMValueRef kept, LLVMValueRef a, LLVMValueRef b) {
    if (LLVMIsAConstantInt(kept) && LLVMConstIntGetZExtValue(kept)) return a;
    if (LLVMGetTypeKind(LLVMTypeOf(a)) == LLVMVectorTypeKind || LLVMGetTypeKind(LLVMTypeOf(b)) == LLVMVectorTypeKind) {
        a = lc_emit_splat(e, a);
        b = lc_emit_splat(e, b);
    }
    return LLVMBuildSelect(e->b, kept, a, b, "");
}

static int co_tile_row_of(const emitter *e, LLVMValueRef v);

/* The index of the outer norm's window (lc_lp_ratio_schedule.chain_outer) for the rows'
 * ratio at idx: the row norm's element (idx without the ratio's expanded axis), its row taken
 * to its window along the chain fold's axis, the tile's own where the loop tiles the rows by
 * those windows (emitter.co_tile_q), else row / step. */
static void chain_outer_index(emitter *e, const lc_lp_ratio_schedule *ratio, const ix *idx, ix *out) {
    const lc_graph *g = e->f->graph;
    const lc_lp_ratio_schedule *outer = lc_kernel_lp_ratio(e->k, ratio->chain_outer);
    const lc_node *ex = lc_graph_node(g, lc_graph_node(g, ratio->ratio)->inputs[1]);
    drop_axis(ex->shape.rank, (int)ex->attr[LC_EXPAND_DIM], idx, out);
    lc_window w = lc_window_of(lc_graph_node(g, ratio->chain_fold));
    int t = co_tile_row_of(e, out[w.dim].v);
    LLVMValueRef o = t >= 0 && w.step == e->k->co_rows
                         ? e->co_tile_q
                         : LLVMBuildSDiv(e->b, out[w.dim].v, LLVMConstInt(e->i64, (unsigned long long)w.step, 1), "");
    out[w.dim] = ix_row(o, lc_graph_node(g, outer->norm)->shape.dim[w.dim]);
}

static LLVMValueRef emit_lp_ratio_literal(emitter *e, const lc_lp_ratio_schedule *ratio, const ix *idx);

/* The rows' ratio of a chain (lc_lp_ratio_schedule.chain_outer) where the outer window's plain
 * form is kept: (|x|·(1/y))^e with y that window's norm, one division per window (0 where y
 * is, a window of zeros); elsewhere (the fix-up's scaled windows) the literal (|x|/y_row)^e. */
static LLVMValueRef emit_chained_ratio(emitter *e, const lc_lp_ratio_schedule *ratio, const ix *idx) {
    const lc_graph *g = e->f->graph;
    const lc_lp_ratio_schedule *outer = lc_kernel_lp_ratio(e->k, ratio->chain_outer);
    const lc_lp_schedule *lp = lc_kernel_lp_norm(e->k, outer->norm);
    const lc_node *rn = lc_graph_node(g, ratio->ratio);
    lc_dtype dt = rn->dtype;
    LC_ASSERT(lp && lp->mode == LC_LP_FLAGGED && ratio->e >= 1);
    ix oi[LC_MAX_RANK], ai[LC_MAX_RANK];
    chain_outer_index(e, ratio, idx, oi);
    LLVMValueRef y = lc_emit_value(e, outer->norm, oi);
    broadcast_index(&rn->shape, &lc_graph_node(g, rn->inputs[0])->shape, idx, ai, e);
    LLVMValueRef a = lc_emit_value(e, rn->inputs[0], ai);
    LLVMValueRef q = LLVMBuildFMul(e->b, a, window_reciprocal(e, y, dt), "");
    LLVMValueRef off;
    LLVMValueRef plain = quotient_power(e, ratio, q, a, y, NULL, &off);
    if (!e->careful) {
        if (off) raise_flag(e, off);
        return plain;
    }
    return select_kept(e, plain_norm_kept(e, lp, outer->norm, oi), plain, emit_lp_ratio_literal(e, ratio, idx));
}

/* The LP backward's (A/y)^e (lc_lp_ratio_schedule): a chain's rows' ratio above, else the
 * literal one below. */
static LLVMValueRef emit_lp_ratio(emitter *e, const lc_lp_ratio_schedule *ratio, const ix *idx) {
    if (ratio->chain_outer >= 0) return emit_chained_ratio(e, ratio, idx);
    return emit_lp_ratio_literal(e, ratio, idx);
}

/* The LP backward's (A/y)^e (lc_lp_ratio_schedule). The vectorized pass: the
 * plain form, flagging an element whose quotient underflowed while its power (0 < e < 1) does
 * not. The fix-up: where the window is not accurate plain (or that quotient underflowed) and
 * its max is finite and nonzero, (A/m)^e · (Σ(|e|/m)^p)^(-e/p) from the scaled window, in a
 * branch; else the plain form (of the fixed-up y). */
static LLVMValueRef emit_lp_ratio_literal(emitter *e, const lc_lp_ratio_schedule *ratio, const ix *idx) {
    const lc_graph *g = e->f->graph;
    const lc_node *n = lc_graph_node(g, ratio->node);
    const lc_node *rn = lc_graph_node(g, ratio->ratio);
    lc_dtype dt = n->dtype;
    bool zero_pole = ratio->node != ratio->ratio && n->attr[LC_POW_ZERO_POLE] != 0;
    const lc_lp_schedule *lp = ratio->norm_inline ? lc_kernel_lp_norm(e->k, ratio->norm) : NULL;
    /* y's window: the ratio's index without the expanded axis */
    const lc_node *ex = lc_graph_node(g, rn->inputs[1]);
    ix yi[LC_MAX_RANK];
    drop_axis(ex->shape.rank, (int)ex->attr[LC_EXPAND_DIM], idx, yi);
    LLVMValueRef recip = NULL, root_recip = NULL;
    if (!e->careful && ratio->newton_reciprocal) {
        /* the vectorized pass, where an unflagged window's S is normal (or 0, all of its A
         * 0): 1/y = S^(-k/m) and sqrt(1/y) = S^(-1/m) from the root's own Newton steps, no
         * division and no square root per window (S = 0 gives some finite value, and A = 0) */
        int m = 0, k = 0;
        LC_ASSERT(lc_lp_root_parts(1.0 / lp->norm.p, &m, &k));
        LLVMValueRef acc[2];
        emit_flagged_sum(e, lp, yi, acc);
        lc_vmath_root_steps steps = lc_emit_root_steps(e, acc[0], m, k);
        recip = lc_vmath_root_normal_inverse(e->b, e->mod, &steps, k, e->fma);
        if (ratio->split_sqrt) {
            LC_ASSERT(k == 2);
            root_recip = lc_vmath_root_normal_inverse(e->b, e->mod, &steps, 1, e->fma);
        }
    }
    LLVMValueRef a, y_value;
    LLVMValueRef q = emit_div(e, ratio->ratio, idx, &a, &y_value, ratio->reciprocal, recip);
    LLVMValueRef off = NULL;
    LLVMValueRef plain = quotient_power(e, ratio, q, a, y_value, root_recip, &off);
    LLVMValueRef under = LLVMConstInt(e->i1, 0, 0);
    if (ratio->e > 0 && ratio->e < 1) under = small_quotient(e, q, a, ldexp(1.0, (int)flush_exponent(dt)), dt);
    if (lp && lp->mode == LC_LP_SCALED) {
        /* a large e: always the scaled form, in double, in every loop (no fix-up) */
        ratio_rescue c = {ratio, lp, yi, a, plain, zero_pole, dt, true};
        return rescue_scaled_ratio(e, &c);
    }
    if (!e->careful) {
        if (ratio->e > 0 && ratio->e < 1) raise_flag(e, under);
        if (off) raise_flag(e, off);
        return plain;
    }
    if (!lp) /* y read from a buffer: only an underflowed quotient is redone */
        return LLVMBuildSelect(e->b, under, pow_of_quotient(e, a, y_value, ratio->e, zero_pole, dt), plain, "");
    LLVMValueRef s = emit_plain_lp_sum(e, lp, yi);
    LLVMValueRef y = emit_plain_lp_root(e, lp, lc_graph_node(g, ratio->norm), s);
    LLVMValueRef redo = LLVMBuildOr(e->b, LLVMBuildNot(e->b, plain_lp_ok(e, lp, dt, s, y), ""), under, "");
    /* float32 in double: a power that lands below float32's normal range (LPPool1d(2.7, 2)'s
     * (3.77e-4 / 1e19)^1.7 = 7.6e-39) is then rounded once into the subnormals, where float32's
     * own power flushed it to 0 */
    ratio_rescue c = {ratio, lp, yi, a, plain, zero_pole, dt, dt == LC_F32};
    return emit_rescued(e, redo, plain, rescue_scaled_ratio, &c);
}

/* The vectorized pass's signed product of a ratio whose y takes the Newton root
 * (lc_lp_ratio_schedule.newton_reciprocal): g·sign(u)·(|u|/y)^e as
 * copysign((|u|·s)^e, u) · (g·c^e) with s = z0^k, z0 the root's first guess of S^(-1/m)
 * (1/y = S^(-k/m)), known three operations after S, and c = (1/y)/s taken from the root's
 * steps without a division (lc_vmath_root_normal_scale). Only the last multiply of each element
 * waits for the end of the window's chain (sum, two Newton steps): the quotient form's three
 * were queued behind it and filled the scheduler. c lies within 7 % of 1 (the guess is 3.4 %
 * off at worst, k <= 2), so |u|·s is within 7 % of the quotient |u|/y and g·c^e within 26 % of
 * g (1.034^7 for p = 8, 1.07^3 for p = 4): neither leaves the normal range further than the
 * quotient form's factors do, by less than a bit; (1/y)^e itself, which overflows where
 * (|u|/y)^e does not, is never formed. */
static LLVMValueRef emit_scaled_signed_ratio(emitter *e, const lc_lp_ratio_schedule *ratio, LLVMValueRef uv,
                                             LLVMValueRef gv, const ix *idx) {
    const lc_graph *g = e->f->graph;
    const lc_node *rn = lc_graph_node(g, ratio->ratio);
    const lc_lp_schedule *lp = lc_kernel_lp_norm(e->k, ratio->norm);
    lc_dtype dt = rn->dtype;
    const lc_node *ex = lc_graph_node(g, rn->inputs[1]);
    ix yi[LC_MAX_RANK];
    drop_axis(ex->shape.rank, (int)ex->attr[LC_EXPAND_DIM], idx, yi);
    int m = 0, k = 0;
    LC_ASSERT(lc_lp_root_parts(1.0 / lp->norm.p, &m, &k));
    LC_ASSERT(!ratio->split_sqrt || k == 2);
    LLVMValueRef acc[2], z0, c, root_c = NULL;
    emit_flagged_sum(e, lp, yi, acc);
    lc_vmath_root_steps steps = lc_emit_root_steps(e, acc[0], m, k);
    lc_vmath_root_normal_scale(e->b, e->mod, &steps, e->fma, &z0, &c, ratio->split_sqrt ? &root_c : NULL);
    LLVMValueRef s = k == 2 ? LLVMBuildFMul(e->b, z0, z0, "") : z0;
    LLVMValueRef a = lc_emit_value(e, rn->inputs[0], idx);
    LLVMValueRef t = LLVMBuildFMul(e->b, a, s, "");
    LLVMValueRef te, ce;
    if (ratio->split_sqrt) {
        /* (|u|·z0²)^(j+1/2) = (|u|·z0²)^j · (sqrt|u|·z0), sqrt|u| the terms' own */
        te = LLVMBuildFMul(e->b, unary_intrinsic(e, "llvm.sqrt", a), z0, "");
        ce = root_c;
        for (int j = 0; j < (int)floor(ratio->e); j++) {
            te = LLVMBuildFMul(e->b, te, t, "");
            ce = LLVMBuildFMul(e->b, ce, c, "");
        }
    } else {
        te = lc_emit_pow(e, t, ratio->e, false, dt);
        ce = lc_emit_pow(e, c, ratio->e, false, dt);
        /* an element whose power by exp2 flushes (t^e below the normal range, with a margin
         * of 1) is flagged: the fix-up takes it as emit_lp_ratio's careful loops do */
        if (lc_pow_by_exp2(ratio->e, dt))
            raise_flag(e, power_flushes(e, t, a, ratio->e, dt));
    }
    return LLVMBuildFMul(e->b, emit_copysign(e, te, uv),
                         LLVMBuildFMul(e->b, gv, ce, ""), "");
}

/* copysign(|u|·(1/y), u) of a ratio with e = 1 and 1/y by a division per window, as u·(1/y):
 * the same bits, 1/y being never negative (0 for a window of zeros; NaN only where y is, and
 * then both are NaN), so the product has |u|·(1/y)'s magnitude and u's sign, a zero's too.
 * One multiply an element where the sign took an abs, a mask and an or. y is the one the
 * ratio divides by: its own window's, or the chain's outer one (emit_chained_ratio). */
static LLVMValueRef signed_unit_ratio(emitter *e, const lc_lp_ratio_schedule *ratio, LLVMValueRef uv, const ix *idx) {
    const lc_graph *g = e->f->graph;
    const lc_node *rn = lc_graph_node(g, ratio->ratio);
    lc_dtype dt = rn->dtype;
    LLVMValueRef y;
    if (ratio->chain_outer >= 0) {
        ix oi[LC_MAX_RANK];
        chain_outer_index(e, ratio, idx, oi);
        y = lc_emit_value(e, lc_kernel_lp_ratio(e->k, ratio->chain_outer)->norm, oi);
    } else {
        ix bi[LC_MAX_RANK];
        broadcast_index(&rn->shape, &lc_graph_node(g, rn->inputs[1])->shape, idx, bi, e);
        y = lc_emit_value(e, rn->inputs[1], bi);
    }
    LLVMValueRef r = window_reciprocal(e, y, dt);
    if (LLVMGetTypeKind(LLVMTypeOf(r)) == LLVMVectorTypeKind || LLVMGetTypeKind(LLVMTypeOf(uv)) == LLVMVectorTypeKind) {
        r = lc_emit_splat(e, r);
        uv = lc_emit_splat(e, uv);
    }
    return LLVMBuildFMul(e->b, uv, r, "");
}

/* The LP gradient's mul(mul(G, R), sign(U)) as G · copysign(R, U) (fuse:
 * lc_lp_ratio_schedule.signed_product; the same bits, see there). R in the fix-up too: its
 * scaled form is never negative either. */
static LLVMValueRef emit_signed_ratio_product(emitter *e, const lc_lp_ratio_schedule *ratio, int node, const ix *idx) {
    const lc_graph *g = e->f->graph;
    const lc_node *n = lc_graph_node(g, node);
    int s = lc_graph_node(g, n->inputs[0])->op == LC_OP_SIGN ? 0 : 1;
    const lc_node *sn = lc_graph_node(g, n->inputs[s]), *in = lc_graph_node(g, n->inputs[1 - s]);
    int r = in->inputs[0] == ratio->node ? 0 : 1;
    assert(sn->op == LC_OP_SIGN && in->op == LC_OP_MUL && in->inputs[r] == ratio->node);
    ix gi[LC_MAX_RANK];
    broadcast_index(&in->shape, &lc_graph_node(g, in->inputs[1 - r])->shape, idx, gi, e);
    LLVMValueRef gv = lc_emit_value(e, in->inputs[1 - r], gi);
    LLVMValueRef kept = NULL;
    if (ratio->chain_one) {
        /* the outer end of a chain (lc_lp_ratio_schedule.chain_outer): g alone where y's window
         * keeps its plain form (the rows' ratio divides by y instead), the product below
         * elsewhere. The row norm u is never negative there, so copysign(1, u) = 1. */
        const lc_node *rn = lc_graph_node(g, ratio->ratio);
        const lc_node *ex = lc_graph_node(g, rn->inputs[1]);
        ix yi[LC_MAX_RANK];
        drop_axis(ex->shape.rank, (int)ex->attr[LC_EXPAND_DIM], idx, yi);
        kept = plain_norm_kept(e, lc_kernel_lp_norm(e->k, ratio->norm), ratio->norm, yi);
        if (!e->careful) return gv;
    }
    LLVMValueRef uv = lc_emit_value(e, sn->inputs[0], idx);
    /* (scalar values, as the vectorized pass emits them for LLVM's vectorizer to widen) */
    if (!e->careful && ratio->newton_reciprocal && ratio->node != ratio->ratio && !e->vec)
        return emit_scaled_signed_ratio(e, ratio, uv, gv, idx);
    if (!e->careful && ratio->node == ratio->ratio && ratio->reciprocal && !ratio->newton_reciprocal) {
        /* the vectorized pass (the fix-up keeps copysign: the same bits) */
        LLVMValueRef signed_r = signed_unit_ratio(e, ratio, uv, idx);
        if (LLVMGetTypeKind(LLVMTypeOf(signed_r)) == LLVMVectorTypeKind || LLVMGetTypeKind(LLVMTypeOf(gv)) == LLVMVectorTypeKind) {
            signed_r = lc_emit_splat(e, signed_r);
            gv = lc_emit_splat(e, gv);
        }
        return r == 0 ? LLVMBuildFMul(e->b, signed_r, gv, "") : LLVMBuildFMul(e->b, gv, signed_r, "");
    }
    LLVMValueRef rv = lc_emit_value(e, ratio->node, idx);
    bool vec = LLVMGetTypeKind(LLVMTypeOf(rv)) == LLVMVectorTypeKind ||
               LLVMGetTypeKind(LLVMTypeOf(uv)) == LLVMVectorTypeKind ||
               LLVMGetTypeKind(LLVMTypeOf(gv)) == LLVMVectorTypeKind;
    if (vec) {
        rv = lc_emit_splat(e, rv);
        uv = lc_emit_splat(e, uv);
        gv = lc_emit_splat(e, gv);
    }
    LLVMValueRef signed_r = emit_copysign(e, rv, uv);
    /* the operands in the graph's order: a product's bits do not depend on it, but the IR reads
     * as the graph does */
    LLVMValueRef product = r == 0 ? LLVMBuildFMul(e->b, signed_r, gv, "") : LLVMBuildFMul(e->b, gv, signed_r, "");
    return kept ? select_kept(e, kept, gv, product) : product;
}

/* ---- fold: gather the windows covering a position ---- */

typedef struct fold_ctx {
    const lc_node *n;
    int y;            /* folded node */
    const ix *idx;    /* index of the fold's result, without its `dim` axis */
    LLVMValueRef base_o; /* floor((i + pad_lo) / step) */
    ix t;                /* i + pad_lo */
    /* base_o = base_ci·i + base_k exactly (i the loop index, emitter.aff_i), where t is
     * ci·i + k with the step dividing ci: window-major blocks of several steps
     * (lc_schedule.block_steps) */
    bool base_aff;
    int64_t base_ci, base_k;
    /* The position is row tile_slot of a co-root's tile (emitter.co_tile_row), the fold's
     * windows those of the tile (step = size = the tile's rows, no padding): its one window
     * is the tile's q, at slot tile_slot; -1 otherwise. */
    int tile_slot;
} fold_ctx;

/* The extent of the axis the co-root's tiles divide: the root's axis before the last. */
static int64_t co_tile_extent(const emitter *e) {
    const lc_node *root = lc_graph_node(e->f->graph, e->k->root);
    return root->shape.dim[root->shape.rank - 2];
}

/* Which row of the co-root's tile `v` is (emitter.co_tile_row), or -1. */
static int co_tile_row_of(const emitter *e, LLVMValueRef v) {
    if (!e->co_tile_q) return -1;
    for (int t = 0; t < e->k->co_rows; t++)
        if (v == e->co_tile_row[t]) return t;
    return -1;
}

static void fold_term(emitter *e, void *ctx, ix r, LLVMValueRef *t) {
    fold_ctx *c = ctx;
    const lc_node *n = c->n;
    const lc_node *yn = lc_graph_node(e->f->graph, c->y);
    lc_window w = lc_window_of(n);
    int dim = w.dim;
    int64_t size = w.size, step = w.step, dil = w.dilation;
    int64_t windows = yn->shape.dim[dim];
    lc_dtype dt = n->dtype;
    LLVMValueRef o, j, ok, zero = LLVMConstInt(e->i64, 0, 0);
    if (lc_fold_gathers_slots(&w)) {
        /* slots j = size - 1 - r (so windows still come in increasing order): slot j of
         * window o = (t - j·dilation) / step holds t where that divides exactly; t and
         * j·dilation are both below the padded length, so the difference cannot overflow */
        j = LLVMBuildSub(e->b, LLVMConstInt(e->i64, (unsigned long long)(size - 1), 1), r.v, "");
        LLVMValueRef off = LLVMBuildSub(e->b, c->t.v, imul_c(e, j, dil), "");
        LLVMValueRef sv = LLVMConstInt(e->i64, (unsigned long long)step, 1);
        o = step == 1 ? off : LLVMBuildSDiv(e->b, off, sv, "");
        ok = LLVMBuildAnd(e->b, LLVMBuildICmp(e->b, LLVMIntSGE, off, zero, ""),
                          LLVMBuildICmp(e->b, LLVMIntSLT, o, LLVMConstInt(e->i64, (unsigned long long)windows, 1), ""), "");
        if (step > 1)
            ok = LLVMBuildAnd(e->b, ok, LLVMBuildICmp(e->b, LLVMIntEQ, LLVMBuildSRem(e->b, off, sv, ""), zero, ""), "");
    } else {
        /* windows visited in increasing order: o = base_o - (count - 1 - r); window o reaches
         * t at offset t - o·step >= 0 (o <= t / step), which is slot (t - o·step) / dilation
         * where the dilation divides it and the slot is below size */
        int64_t count = lc_window_cover(&w);
        o = iadd(e, iadd_c(e, c->base_o, -(count - 1)), r.v);
        LLVMValueRef off = LLVMBuildSub(e->b, c->t.v, imul_c(e, o, step), "");
        j = off;
        ok = in_range(e, o, windows);
        if (dil > 1) {
            LLVMValueRef dv = LLVMConstInt(e->i64, (unsigned long long)dil, 1);
            j = LLVMBuildSDiv(e->b, off, dv, "");
            ok = LLVMBuildAnd(e->b, ok, LLVMBuildICmp(e->b, LLVMIntEQ, LLVMBuildSRem(e->b, off, dv, ""), zero, ""), "");
        }
        ok = LLVMBuildAnd(
            e->b, ok, LLVMBuildICmp(e->b, LLVMIntSLT, j, LLVMConstInt(e->i64, (unsigned long long)size, 1), ""), "");
    }
    /* Step 1, no dilation, unrolled (r constant): window o = t - (count - 1) + r is affine in
     * i wherever t is, and its slot j = count - 1 - r a constant below size. The window's
     * check is then elided on the interior like an unfold's, and what o indexes (a
     * convolution's dy, read through its channel unfold) loads as a vector instead of lane
     * by lane through a clamped index. Elsewhere the clamped o keeps the affine form, so the
     * checks below it record the same interior in the checked passes. */
    ix o_aff = ix_opaque(NULL), j_const = ix_opaque(NULL);
    /* A row of a co-root's tile: window q (in [0, windows): fuse made the windows tile the
     * axis), slot t, no check; the co-root and the unfolds below index by q itself. */
    if (c->tile_slot >= 0) {
        LC_ASSERT(lc_window_cover(&w) == 1 && step == size && dil == 1 && e->co_tile_q);
        o_aff = ix_row(e->co_tile_q, windows);
        j_const = ix_const(e, c->tile_slot);
        ok = LLVMConstInt(e->i1, 1, 0);
    }
    /* Step s > 1 with the window index affine (fold_ctx.base_aff): window o = base_o - (count
     * - 1) + r is affine in i, and its slot t - o·s a constant. Where that slot is one of the
     * window's (always, for windows that tile), o is checked and read as in the step-1 case
     * below: what it indexes (dy and y of the demo's LP gradient) loads as a vector. */
    if (c->base_aff && r.aff && r.ci == 0 && r.rlo == 0 && r.rhi == 0) {
        int64_t count = lc_window_cover(&w);
        int64_t ok_k = c->base_k - (count - 1) + r.k;
        int64_t slot = c->t.k + c->t.rlo - ok_k * step;
        if (slot >= 0 && slot < size) {
            o_aff = (ix){o, true, c->base_ci, ok_k, 0, 0, NULL, 0, 0, 0, 0, false};
            o_aff.clamped = c->t.clamped;
            j_const = ix_const(e, slot);
            if (lc_emit_check_elided(e, &o_aff, windows)) {
                ok = LLVMConstInt(e->i1, 1, 0);
            } else {
                o_aff.v = imin_c(e, imax_c(e, o, 0), windows - 1);
                o_aff.clamped = true;
            }
        }
    }
    if (!lc_fold_gathers_slots(&w) && step == 1 && dil == 1 && c->t.aff && r.aff && r.ci == 0 &&
        r.rlo == 0 && r.rhi == 0) {
        int64_t count = lc_window_cover(&w);
        o_aff = (ix){o, true, c->t.ci, c->t.k - (count - 1) + r.k, c->t.rlo, c->t.rhi, NULL, 0, 0, 0, 0, false};
        o_aff.clamped = c->t.clamped;
        j_const = ix_const(e, count - 1 - r.k);
        if (lc_emit_check_elided(e, &o_aff, windows)) {
            ok = LLVMConstInt(e->i1, 1, 0);
        } else {
            o_aff.v = imin_c(e, imax_c(e, o, 0), windows - 1);
            o_aff.clamped = true;
        }
        LC_ASSERT(count - 1 - r.k >= 0 && count - 1 - r.k < size);
    }
    ix yi[LC_MAX_RANK];
    for (int d = 0, s = 0; d < yn->shape.rank; d++) {
        if (d == dim) {
            yi[d] = o_aff.v ? o_aff : ix_opaque(imin_c(e, imax_c(e, o, 0), windows - 1));
            yi[d].fold_role = 1;
        } else if (d == yn->shape.rank - 1) {
            yi[d] = j_const.v ? j_const : ix_opaque(imin_c(e, imax_c(e, j, 0), size - 1));
            yi[d].fold_role = 2;
        } else {
            yi[d] = c->idx[s++];
            continue;
        }
        yi[d].fold_t = &c->t;
        yi[d].fold_step = step;
        yi[d].fold_dilation = dil;
    }
    LLVMValueRef v = lc_emit_value(e, c->y, yi);
    t[0] = LLVMBuildSelect(e->b, ok, v, real_const(e, dt, 0.0), "");
}

/* ---- a column tile's reduction (lc_schedule.tile_cols) ---- */

typedef struct col_ctx {
    reduce_ctx r[LC_TILE_COLS_MAX];
    int n;
} col_ctx;

static LLVMValueRef col_term_of(emitter *e, void *ctx, int a, ix j) {
    col_ctx *c = ctx;
    LLVMValueRef t;
    sum_term(e, &c->r[a], j, &t);
    return t;
}

static void col_terms(emitter *e, void *ctx, ix j, LLVMValueRef *t) {
    col_ctx *c = ctx;
    for (int a = 0; a < c->n; a++) t[a] = col_term_of(e, ctx, a, j);
}

static void col_add(emitter *e, LLVMValueRef *acc, const LLVMValueRef *t) {
    int n = e->k->sched.tile_cols;
    for (int a = 0; a < n; a++) acc[a] = LLVMBuildFAdd(e->b, lc_emit_splat(e, acc[a]), lc_emit_splat(e, t[a]), "");
}

/* The tiled sum or mean at position col_member of the row: position 0 emits every
 * position's in one reduction, one accumulator each (the same terms in the same order as
 * alone), at its own index plus t on col_axis (fuse's col_walk: that is where position t
 * reaches it); the others take theirs. */
static LLVMValueRef emit_col_tiled_sum(emitter *e, int node, const lc_reduction_schedule *rs, const ix *idx) {
    const lc_node *n = lc_graph_node(e->f->graph, node);
    int tile = e->k->sched.tile_cols, axis = rs->col_axis;
    LC_ASSERT(tile > 1 && tile <= LC_TILE_COLS_MAX && tile <= LC_EMIT_MAX_ACC && axis < n->shape.rank);
    LC_ASSERT(idx[axis].aff && idx[axis].ci == 0); /* a constant position of the row */
    if (e->col_member > 0) {
        LC_ASSERT(e->col_ready && idx[axis].k == e->col_k + e->col_member);
        return e->col_value[e->col_member];
    }
    if (e->col_ready) { /* position 0 reads it again */
        LC_ASSERT(idx[axis].k == e->col_k);
        return e->col_value[0];
    }
    const lc_node *xn = lc_graph_node(e->f->graph, n->inputs[0]);
    lc_dtype dt = n->dtype;
    ix at[LC_TILE_COLS_MAX][LC_MAX_RANK];
    col_ctx c = {.n = tile};
    LLVMValueRef acc[LC_EMIT_MAX_ACC];
    for (int t = 0; t < tile; t++) {
        for (int d = 0; d < n->shape.rank; d++) at[t][d] = idx[d];
        at[t][axis].v = iadd_c(e, idx[axis].v, t);
        at[t][axis].k += t;
        c.r[t] = (reduce_ctx){n->inputs[0], (int)n->attr[LC_REDUCE_DIM], at[t], xn->shape.rank, 0, NULL, NULL, false};
        acc[t] = real_const(e, dt, 0.0);
    }
    lc_reducer red = {tile, col_terms, col_add, &c, col_term_of, NULL};
    int64_t len = xn->shape.dim[c.r[0].dim];
    emit_scheduled_reduce(e, node, dt, len, idx, &red, acc);
    for (int t = 0; t < tile; t++)
        e->col_value[t] = n->op == LC_OP_MEAN ? LLVMBuildFDiv(e->b, acc[t], real_const(e, dt, (double)len), "") : acc[t];
    e->col_ready = true;
    e->col_k = idx[axis].k;
    return e->col_value[0];
}

/* ---- the value of a node at an index ---- */

static LLVMValueRef compute_node(emitter *e, int node, const ix *idx);

/* Vector mode (emitter.vec): the ops evaluated on vectors as they are; fuse's vector_term_ops
 * admits only these into a reduction with vector_terms, but any other op would still be
 * right, lane by lane (by_lanes). */
static bool vector_op(const emitter *e, int node) {
    const lc_node *n = lc_graph_node(e->f->graph, node);
    switch (n->op) {
    case LC_OP_INPUT:
    case LC_OP_CONSTANT:
    case LC_OP_UNFOLD:
    case LC_OP_EXPAND:
    case LC_OP_MUL:
    case LC_OP_ADD:
        return true;
    case LC_OP_SUM:
    case LC_OP_MEAN: {
        const lc_reduction_schedule *rs = lc_kernel_reduction(e->k, node);
        return rs && rs->unrolled && rs->span == LC_SPAN_ALL && !rs->rescue_nonfinite;
    }
    default:
        return false;
    }
}

/* Node `node` in vector mode, one lane at a time in scalar code: lane l at the index whose
 * lane-carrying axes are moved by lane·l (their ranges already cover every lane). */
static LLVMValueRef by_lanes(emitter *e, int node, const ix *idx) {
    const lc_node *n = lc_graph_node(e->f->graph, node);
    unsigned lanes = e->vec;
    LLVMTypeRef i32 = LLVMInt32TypeInContext(e->ctx);
    LLVMValueRef v = LLVMGetUndef(LLVMVectorType(real_type(e, n->dtype), lanes));
    e->vec = 0;
    for (unsigned l = 0; l < lanes; l++) {
        ix il[LC_MAX_RANK];
        for (int d = 0; d < n->shape.rank; d++) {
            il[d] = idx[d];
            if (!il[d].lane) continue;
            il[d].v = iadd_c(e, il[d].v, il[d].lane * (int64_t)l);
            il[d].k += il[d].lane * (int64_t)l;
            il[d].lane = 0;
        }
        v = LLVMBuildInsertElement(e->b, v, compute_node(e, node, il), LLVMConstInt(i32, l, 0), "");
    }
    e->vec = lanes;
    return v;
}

/* ---- a window search's chosen value, carried with the maximum ---- */

/* A sum over a max_mask's axis of max_mask(W) · V that fuse scheduled as a carried choice
 * (lc_reduction_schedule.choice_mask): the window's terms W_j and V_j. */
typedef struct choice_ctx {
    reduce_ctx w;         /* W, the mask's input, over the sum's axis */
    int values;           /* V */
    const lc_shape *prod; /* the product's shape, which V broadcasts to */
} choice_ctx;

static void value_and_choice(emitter *e, void *ctx, ix j, LLVMValueRef *t) {
    choice_ctx *c = ctx;
    ix wi[LC_MAX_RANK], vi[LC_MAX_RANK];
    reduce_index(&c->w, j, wi);
    broadcast_index(c->prod, &lc_graph_node(e->f->graph, c->values)->shape, wi, vi, e);
    /* in vector mode a term may be a scalar the lanes share; the selects need both as vectors */
    t[0] = lc_emit_splat(e, lc_emit_value(e, c->w.x, wi));
    t[1] = lc_emit_splat(e, lc_emit_value(e, c->values, vi));
}

/* V at W's first maximum (the first NaN, or the first slot of a window of -inf): the terms in
 * order from the first, each later one taking over where the max would (later_max_of), V
 * selected with W. The sum it stands for adds ±0 for every other slot (V finite, fuse's
 * magnitude fact) and the chosen V once, from +0: that is V + 0 (a -0 becomes +0). */
static LLVMValueRef emit_carried_choice(emitter *e, const lc_reduction_schedule *rs, const ix *idx) {
    const lc_graph *g = e->f->graph;
    const lc_node *mask = lc_graph_node(g, rs->choice_mask), *sum = lc_graph_node(g, rs->node);
    const lc_node *w = lc_graph_node(g, mask->inputs[0]);
    int dim = (int)sum->attr[LC_REDUCE_DIM];
    LC_ASSERT(mask->op == LC_OP_MAX_MASK && mask->attr[LC_REDUCE_DIM] == dim && lc_reduction_straight(rs) &&
              rs->choice_values >= 0 && w->shape.dim[dim] >= 1);
    choice_ctx c = {{mask->inputs[0], dim, idx, w->shape.rank, 0, NULL, NULL, false}, rs->choice_values,
                    &lc_graph_node(g, sum->inputs[0])->shape};
    lc_reducer red = {2, value_and_choice, later_max_of, &c, NULL, later_max_of};
    LLVMValueRef acc[2] = {NULL, NULL}; /* the first term's, set by the unrolled form */
    if (e->row_pass > 0 && rs->node == e->k->sched.row_pass_co_node)
        emit_row_pass(e, 1, rs, w->shape.dim[dim], &red, acc, real_type(e, sum->dtype));
    else
        lc_emit_reduce(e, real_type(e, sum->dtype), w->shape.dim[dim], rs, &red, acc);
    if (rs->node == e->k->co_root && e->k->sched.root_from_co_search) e->co_maximum = acc[0];
    return LLVMBuildFAdd(e->b, acc[1], lc_emit_splat(e, real_const(e, sum->dtype, 0.0)), "");
}

/* Evaluating a node recurses into its inline inputs: fuse bounded how deep that goes
 * (LC_INLINE_DEPTH_MAX, the kernel's sched.inline_depth), so the stack is bounded too. */
LLVMValueRef lc_emit_compute(emitter *e, int node, const ix *idx) {
    e->depth++;
    assert(e->depth <= e->k->sched.inline_depth && e->depth <= 2 * LC_INLINE_DEPTH_MAX);
    LLVMValueRef v = compute_node(e, node, idx);
    e->depth--;
    return v;
}

/* lc_schedule.carry_edge: slot j of window o of unfold n (along the last axis of a buffer it
 * reads), at position `pos`, is carried from the previous position's slot j + step/dilation
 * (o the loop's index: the trip before read that slot at the same element), so only a run's
 * first trip reads it itself. Fuse sets carry_edge where the slots in the row's padding are
 * all such. */
static bool carried_across_edge(const emitter *e, const lc_node *n, const ix *o, const ix *j, const ix *pos) {
    if (!e->k->sched.carry_edge) return false;
    const lc_node *xn = lc_graph_node(e->f->graph, n->inputs[0]);
    lc_window w = lc_window_of(n);
    if (w.dim != xn->shape.rank - 1 || e->f->node_slot[n->inputs[0]] < 0) return false;
    /* a load lc_emit_load logs for carry_loads, one element a lane */
    return o->aff && o->ci == 1 && o->lane == 0 && j->aff && j->ci == 0 && j->rlo == 0 && j->rhi == 0 &&
           j->lane == 0 && lc_window_slot_carried(&w, j->k) && !pos->clamped && carry_pairable(pos);
}

/* True where every value of constant node c is a whole number 0 .. 255. */
static bool byte_valued_constant(const lc_node *c) {
    if (c->op != LC_OP_CONSTANT) return false;
    for (int64_t i = 0; i < lc_shape_numel(&c->shape); i++)
        if (!(c->data[i] >= 0 && c->data[i] <= 255 && c->data[i] == (double)(int64_t)c->data[i])) return false;
    return true;
}

/* equal(a, b) as a compare of bytes, or NULL: where a is a byte slot's value (the bytes
 * converted, emit_index.c's load_slot) and b, node b_node, a constant of whole numbers 0 .. 255,
 * a == b exactly when a's byte equals b converted back (exact: b is whole and in range). The
 * float compare cost a widening and a conversion of every byte read (the gradient of max
 * pooling compares its slot bytes with the slot numbers); on bytes it is one compare. */
static LLVMValueRef byte_equal(emitter *e, LLVMValueRef a, int b_node, LLVMValueRef b) {
    if (!LLVMIsAInstruction(a) || LLVMGetInstructionOpcode(a) != LLVMUIToFP) return NULL;
    LLVMValueRef bytes = LLVMGetOperand(a, 0);
    LLVMTypeRef bty = LLVMTypeOf(bytes);
    LLVMTypeRef elt = LLVMGetTypeKind(bty) == LLVMVectorTypeKind ? LLVMGetElementType(bty) : bty;
    if (elt != LLVMInt8TypeInContext(e->ctx) || !byte_valued_constant(lc_graph_node(e->f->graph, b_node))) return NULL;
    return LLVMBuildICmp(e->b, LLVMIntEQ, bytes, LLVMBuildFPToUI(e->b, b, bty, ""), "");
}

static LLVMValueRef compute_node(emitter *e, int node, const ix *idx) {
    const lc_graph *g = e->f->graph;
    const lc_node *n = lc_graph_node(g, node);
    lc_dtype dt = n->dtype;
    if (e->vec && !vector_op(e, node)) return by_lanes(e, node, idx);
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
        int64_t step = w.step, lo = w.pad_lo, dil = w.dilation;
        int64_t len = xn->shape.dim[dim];
        LLVMValueRef pad = real_const(e, dt, n->attr[LC_UNFOLD_NEG_INF_PAD] ? -INFINITY : 0.0);
        if (len == 0) return pad;
        const ix *o = &idx[dim], *j = &idx[n->shape.rank - 1];
        ix pos = ix_opaque(NULL);
        if (e->co_tile_q && o->v == e->co_tile_q && step == e->k->co_rows && lo == 0 && dil == 1 && j->aff &&
            j->ci == 0 && j->rlo == 0 && j->rhi == 0 && j->k >= 0 && j->k < step && len == co_tile_extent(e) &&
            o->lane == 0 && j->lane == 0) {
            /* window q of a co-root's tile at slot j: the tile's row j itself (the same value
             * the rows index by, so their reads are the co-root's) */
            pos = ix_row(e->co_tile_row[j->k], len);
        } else if (o->fold_t && o->fold_t == j->fold_t && o->fold_role == 1 && j->fold_role == 2 &&
            o->fold_step == step && o->fold_dilation == dil && o->lane == 0 && j->lane == 0) {
            pos = *o->fold_t; /* o·step + j·dilation = t exactly wherever the gathered term counts */
            pos.v = iadd_c(e, pos.v, -lo);
            pos.k -= lo;
        } else {
            /* the wrapping i64 arithmetic is exact wherever the position is read: a valid
             * (o, j) gives a position below the padded length, which fits int64 */
            pos.v = iadd(e, iadd_c(e, imul_c(e, o->v, step), -lo), imul_c(e, j->v, dil));
            lc_affine ao = {o->ci, o->k, o->rlo, o->rhi}, aj = {j->ci, j->k, j->rlo, j->rhi}, ap;
            pos.aff = o->aff && j->aff && lc_window_position_affine(&ao, &aj, step, lo, dil, &ap);
            pos.lane = o->lane * step + j->lane * dil;
            pos.clamped = o->clamped || j->clamped;
            if (pos.aff) {
                pos.ci = ap.ci;
                pos.k = ap.k;
                pos.rlo = ap.rlo;
                pos.rhi = ap.rhi;
            }
        }
        ix xi[LC_MAX_RANK];
        for (int d = 0; d < xn->shape.rank; d++) xi[d] = idx[d];
        bool carried = carried_across_edge(e, n, o, j, &pos);
        if (carried && carry_log_open(e)) {
            /* the vectorized loop: unchecked, as the load becomes a recurrence whose first
             * value is read checked before the loop (carry_loads), and which replaces it; so
             * LUCID_CHECK_BOUNDS checks the loads that run, not this one */
            xi[dim] = pos;
            LLVMValueRef bounds = e->bounds_slot;
            e->bounds_slot = NULL;
            LLVMValueRef v = lc_emit_value(e, n->inputs[0], xi);
            e->bounds_slot = bounds;
            lc_emit_carry_edge(e, v, pad, len);
            return v;
        }
        /* a carried slot elsewhere (discovery, a scalar loop, a loop whose log is full) keeps
         * its check and narrows no interior */
        if (!carried && lc_emit_check_elided(e, &pos, len)) {
            xi[dim] = pos;
            return lc_emit_value(e, n->inputs[0], xi);
        }
        /* The clamped position keeps pos's affine form: wherever this check can be elided the
         * two are equal, so checks further down (an unfold of an unfold) record the same
         * interior here, in the checked pass, as they assume in the unchecked one. */
        if (pos.lane != 0) return by_lanes(e, node, idx); /* a check per lane */
        ix clamped = pos;
        clamped.v = imin_c(e, imax_c(e, pos.v, 0), len - 1);
        clamped.fold_t = NULL;
        clamped.fold_role = 0;
        clamped.clamped = true;
        xi[dim] = clamped;
        LLVMValueRef v = lc_emit_value(e, n->inputs[0], xi);
        if (LLVMGetTypeKind(LLVMTypeOf(v)) == LLVMVectorTypeKind) pad = lc_emit_splat(e, pad);
        return LLVMBuildSelect(e->b, in_range(e, pos.v, len), v, pad, "");
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
        drop_axis(n->shape.rank, dim, idx, other);
        fold_ctx c = {n, n->inputs[0], other, NULL, t, false, 0, 0, -1};
        /* t = ci·i + k exactly, the step dividing ci (a window-major block of several steps,
         * lc_schedule.block_steps): floor(t / step) = (ci/step)·i + floor(k / step), affine, where
         * the quotient of t would be taken lane by lane by the loop vectorizer. Undilated, the
         * windows visited in order (not a search of slots). Wherever t is a position of the
         * fold (t >= 0, and its form where a check above clamped it) that is t / step;
         * elsewhere the term is one that check discards, and the window is checked here too
         * (clamped where its check is kept). A clamped t takes the same path, its window
         * marked clamped (fold_term), so the checked passes record the interior the unchecked
         * ones rely on (as the step-1 form below does). */
        lc_window wf = lc_window_of(n);
        int tile_slot = co_tile_row_of(e, idx[dim].v);
        if (tile_slot >= 0 && step == e->k->co_rows && w.size == step && lo == 0 && wf.dilation == 1 &&
            lc_graph_node(g, n->inputs[0])->shape.dim[dim] * step == n->attr[LC_FOLD_LENGTH] &&
            n->attr[LC_FOLD_LENGTH] == co_tile_extent(e)) {
            /* row q·step + t of a co-root's tile: window q, slot t (fold_ctx.tile_slot) */
            c.tile_slot = tile_slot;
            c.base_o = e->co_tile_q;
        } else if (step > 1 && wf.dilation == 1 && !lc_fold_gathers_slots(&wf) && t.aff && t.lane == 0 &&
            t.rlo == t.rhi && t.ci > 0 && t.ci % step == 0 && e->aff_i) {
            c.base_aff = true;
            c.base_ci = t.ci / step;
            c.base_k = floor_div(t.k + t.rlo, step);
            c.base_o = iadd_c(e, imul_c(e, e->aff_i, c.base_ci), c.base_k);
        } else {
            c.base_o = LLVMBuildSDiv(e->b, t.v, LLVMConstInt(e->i64, (unsigned long long)step, 1), "");
        }
        int64_t count = lc_fold_gather_terms(&w);
        const lc_reduction_schedule *rs = lc_kernel_reduction(e->k, node);
        LLVMValueRef from = NULL, to = NULL;
        if (rs->span == LC_SPAN_WINDOWS) {
            /* term r visits window base_o - (count - 1) + r: only the windows in [0, windows)
             * (the sums wrap in int64 and still give o exactly: every true value fits) */
            int64_t windows = lc_graph_node(g, n->inputs[0])->shape.dim[dim];
            LLVMValueRef o_first = iadd_c(e, c.base_o, -(count - 1));
            LLVMValueRef o_from = imax_c(e, o_first, 0), o_to = imin_c(e, iadd_c(e, c.base_o, 1), windows);
            from = LLVMBuildSub(e->b, o_from, o_first, "");
            to = smax(e, LLVMBuildSub(e->b, o_to, o_first, ""), from);
        }
        lc_reducer sum = {1, fold_term, add, &c, NULL, NULL};
        LLVMValueRef acc = real_const(e, dt, 0.0);
        emit_reduce_over(e, rs, dt, count, from, to, &sum, &acc);
        return acc;
    }
    case LC_OP_EXPAND: {
        int dim = (int)n->attr[LC_EXPAND_DIM];
        ix xi[LC_MAX_RANK];
        drop_axis(n->shape.rank, dim, idx, xi);
        return lc_emit_value(e, n->inputs[0], xi);
    }
    case LC_OP_ABS:
        return emit_fabs(e, lc_emit_value(e, n->inputs[0], idx));
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
        if (lp && lp->mode == LC_LP_SCALED) return emit_scaled_lp(e, lp, idx);
        if (lp && lp->mode == LC_LP_FLAGGED) return emit_flagged_lp(e, lp, n, idx);
        const lc_lp_ratio_schedule *ratio = lc_kernel_lp_ratio(e->k, node);
        if (ratio) return emit_lp_ratio(e, ratio, idx);
        return lc_emit_pow(e, lc_emit_value(e, n->inputs[0], idx), n->real_attr, n->attr[LC_POW_ZERO_POLE] != 0, dt);
    }
    case LC_OP_DIV: {
        const lc_lp_ratio_schedule *ratio = lc_kernel_lp_ratio(e->k, node);
        if (ratio) return emit_lp_ratio(e, ratio, idx);
        return emit_div(e, node, idx, NULL, NULL, false, NULL);
    }
    case LC_OP_MUL:
    case LC_OP_ADD:
    case LC_OP_EQUAL:
    case LC_OP_SELECT: {
        const lc_lp_ratio_schedule *signed_ratio = n->op == LC_OP_MUL ? lc_kernel_lp_signed_product(e->k, node) : NULL;
        if (signed_ratio) return emit_signed_ratio_product(e, signed_ratio, node, idx);
        ix ai[LC_MAX_RANK], bi[LC_MAX_RANK];
        const lc_node *an = lc_graph_node(g, n->inputs[0]), *bn = lc_graph_node(g, n->inputs[1]);
        broadcast_index(&n->shape, &an->shape, idx, ai, e);
        broadcast_index(&n->shape, &bn->shape, idx, bi, e);
        LLVMValueRef a = lc_emit_value(e, n->inputs[0], ai);
        LLVMValueRef b = lc_emit_value(e, n->inputs[1], bi);
        if (LLVMGetTypeKind(LLVMTypeOf(a)) == LLVMVectorTypeKind || LLVMGetTypeKind(LLVMTypeOf(b)) == LLVMVectorTypeKind) {
            a = lc_emit_splat(e, a);
            b = lc_emit_splat(e, b);
        }
        if (n->op == LC_OP_MUL) return LLVMBuildFMul(e->b, a, b, "");
        if (n->op == LC_OP_EQUAL) { /* ordered: a NaN equals nothing, as the interpreter */
            /* a select of 1 or 0, not uitofp of the i1: x86 widened a vector of i1 to integers
             * and converted them (three instructions where a masked move is one) */
            LLVMValueRef one = real_const(e, dt, 1.0);
            if (LLVMGetTypeKind(LLVMTypeOf(a)) == LLVMVectorTypeKind) one = lc_emit_splat(e, one);
            LLVMValueRef eq = byte_equal(e, a, n->inputs[1], b);
            if (!eq) eq = byte_equal(e, b, n->inputs[0], a);
            if (!eq) eq = LLVMBuildFCmp(e->b, LLVMRealOEQ, a, b, "");
            return LLVMBuildSelect(e->b, eq, one, LLVMConstNull(LLVMTypeOf(a)), "");
        }
        if (n->op == LC_OP_SELECT) /* unordered: a NaN mask selects, as the interpreter */
            return LLVMBuildSelect(e->b, LLVMBuildFCmp(e->b, LLVMRealUNE, a, LLVMConstNull(LLVMTypeOf(a)), ""), b,
                                   LLVMConstNull(LLVMTypeOf(b)), "");
        return LLVMBuildFAdd(e->b, a, b, "");
    }
    case LC_OP_SUM:
    case LC_OP_MEAN: {
        const lc_reduction_schedule *rs = lc_kernel_reduction(e->k, node);
        if (rs && rs->col_axis >= 0 && e->col_member >= 0) return emit_col_tiled_sum(e, node, rs, idx);
        const lc_node *xn = lc_graph_node(g, n->inputs[0]);
        reduce_ctx r = {n->inputs[0], (int)n->attr[LC_REDUCE_DIM], idx, xn->shape.rank, 0, NULL, NULL, false};
        if (node == e->pin_node) { /* one term of a blocked sum's inner sum (emit_reduce.c) */
            LC_ASSERT(n->op == LC_OP_SUM);
            LLVMValueRef t;
            sum_term(e, &r, e->pin_j, &t);
            return t;
        }
        int64_t len = xn->shape.dim[r.dim];
        if (rs && rs->choice_mask >= 0) return emit_carried_choice(e, rs, idx);
        if (is_rescued_sum(e, node)) {
            window_sum w = {node, idx, NULL};
            return emit_window_sum(e, &w);
        }
        LLVMValueRef s = emit_sum(e, node, dt, len, sum_term, &r, idx);
        if (n->op == LC_OP_MEAN) s = LLVMBuildFDiv(e->b, s, lc_emit_splat(e, real_const(e, dt, (double)len)), "");
        return s;
    }
    case LC_OP_MAX: {
        const lc_node *xn = lc_graph_node(g, n->inputs[0]);
        reduce_ctx r = {n->inputs[0], (int)n->attr[LC_REDUCE_DIM], idx, xn->shape.rank, 0, NULL, NULL, false};
        /* starting from the first term: max(-inf, t) is t, also for t = -inf or NaN */
        const lc_reduction_schedule *mrs = lc_kernel_reduction(e->k, node);
        bool in_order = mrs && lc_reduction_straight(mrs);
        lc_reducer red = {1, sum_term, max_of, &r, NULL, in_order ? max_of : NULL};
        LLVMValueRef acc = real_const(e, dt, -INFINITY);
        emit_scheduled_reduce(e, node, dt, xn->shape.dim[r.dim], idx, &red, &acc);
        return acc;
    }
    case LC_OP_MAX_MASK: {
        /* the axis's first maximum, searched from index +inf so that any element wins a tie
         * with the start (an axis of -inf only chooses index 0); then 1 where this is it */
        int dim = (int)n->attr[LC_REDUCE_DIM];
        ix rest[LC_MAX_RANK];
        drop_axis(n->shape.rank, dim, idx, rest);
        int64_t len = n->shape.dim[dim];
        bool wide = len > MAX_INDEX_AS_REAL;
        reduce_ctx r = {n->inputs[0], dim, rest, n->shape.rank, 0, NULL, NULL, wide};
        const lc_reduction_schedule *rs = lc_kernel_reduction(e->k, node);
        bool in_order = rs && lc_reduction_straight(rs);
        lc_reducer red = {2, value_and_index, first_max_of, &r, NULL, in_order ? later_max_of : NULL};
        LLVMValueRef acc[2] = {real_const(e, dt, -INFINITY),
                               wide ? LLVMConstInt(e->i64, (unsigned long long)INT64_MAX, 1) : real_const(e, dt, INFINITY)};
        emit_scheduled_reduce(e, node, dt, len, rest, &red, acc);
        LLVMValueRef zero = wide ? LLVMConstInt(e->i64, 0, 0) : real_const(e, dt, 0.0);
        if (lc_kernel_reduction(e->k, node)->span == LC_SPAN_DATA) /* the slots walked were the data: */
            acc[1] = LLVMBuildSelect(e->b, /* a window of -inf alone still chooses its first slot */
                                     LLVMBuildFCmp(e->b, LLVMRealOEQ, acc[0], real_const(e, dt, -INFINITY), ""),
                                     zero, acc[1], "");
        LLVMValueRef chosen = wide ? LLVMBuildICmp(e->b, LLVMIntEQ, acc[1], idx[dim].v, "")
                                   : LLVMBuildFCmp(e->b, LLVMRealOEQ, acc[1],
                                                   LLVMBuildSIToFP(e->b, idx[dim].v, real_type(e, dt), ""), "");
        return LLVMBuildSelect(e->b, chosen, real_const(e, dt, 1.0), real_const(e, dt, 0.0), "");
    }
    case LC_OP_COUNT:
        break;
    }
    return NULL;
}

/* Whether two integer values are computed alike: the same value, or the same integer
 * arithmetic (add, sub, mul, a compare, a select) on values computed alike, a few levels deep.
 * Index arithmetic has no side effect, so such values are equal; two unfolds reading one row
 * (a max pool's row maxima, and its slots' row search) each build that row's index anew. */
static bool same_int_value(LLVMValueRef a, LLVMValueRef b, int depth) {
    if (a == b) return true;
    if (!a || !b || depth <= 0 || !LLVMIsAInstruction(a) || !LLVMIsAInstruction(b)) return false;
    LLVMOpcode op = LLVMGetInstructionOpcode(a);
    if (op != LLVMGetInstructionOpcode(b) || LLVMTypeOf(a) != LLVMTypeOf(b)) return false;
    if (op == LLVMICmp) {
        if (LLVMGetICmpPredicate(a) != LLVMGetICmpPredicate(b)) return false;
    } else if (op != LLVMAdd && op != LLVMSub && op != LLVMMul && op != LLVMSelect && op != LLVMAnd) {
        return false;
    }
    int n = LLVMGetNumOperands(a);
    if (n != LLVMGetNumOperands(b)) return false;
    for (int k = 0; k < n; k++)
        if (!same_int_value(LLVMGetOperand(a, (unsigned)k), LLVMGetOperand(b, (unsigned)k), depth - 1)) return false;
    return true;
}

/* Whether two indices are the same value: the same instruction (or one computed alike), or
 * the same exact affine form in the loop's index (not clamped, no range), with the same gather
 * provenance, which decides how an unfold below reads it. */
static bool same_index(const ix *a, const ix *b) {
    if (a->fold_t != b->fold_t || a->fold_role != b->fold_role || a->fold_step != b->fold_step ||
        a->fold_dilation != b->fold_dilation || a->lane != b->lane || a->clamped != b->clamped || a->aff != b->aff)
        return false;
    bool form = !a->aff || (a->ci == b->ci && a->k == b->k && a->rlo == b->rlo && a->rhi == b->rhi);
    if (!form) return false;
    return same_int_value(a->v, b->v, 8) || (a->aff && !a->clamped && a->rlo == a->rhi);
}

/* emitter.memo: the value of `node` at idx emitted earlier in the current block, or NULL. */
static LLVMValueRef memo_find(emitter *e, int node, int rank, const ix *idx) {
    LLVMBasicBlockRef here = LLVMGetInsertBlock(e->b);
    for (int m = 0; m < e->memo_n; m++) {
        if (e->memo[m].node != node || e->memo[m].vec != e->vec || e->memo[m].block != here) continue;
        bool same = true;
        for (int d = 0; same && d < rank; d++) same = same_index(&e->memo[m].idx[d], &idx[d]);
        if (same) return e->memo[m].v;
    }
    return NULL;
}

static void memo_add(emitter *e, int node, int rank, const ix *idx, LLVMValueRef v) {
    if (e->memo_n >= LC_MEMO_MAX) return;
    int m = e->memo_n++;
    e->memo[m].node = node;
    e->memo[m].vec = e->vec;
    e->memo[m].block = LLVMGetInsertBlock(e->b);
    for (int d = 0; d < rank; d++) e->memo[m].idx[d] = idx[d];
    e->memo[m].v = v;
}

static LLVMValueRef emit_value(emitter *e, int node, const ix *idx);

/* lc_emit_value while emitter.sums_for is set: the inner root y_in as its norm's plain sum
 * (or the OR of its elements' bits), in the pass's own form (emit_flagged_sum in the vectorized
 * and edge loops, the plain sum in the fix-up: the same sum either way), and y_in's own subtree
 * as ever; the nodes between (the unfold) without the memo. */
static LLVMValueRef value_with_sums(emitter *e, int node, const ix *idx) {
    if (node != e->sums_for) return emit_value(e, node, idx);
    const lc_lp_schedule *inner = lc_kernel_lp_norm(e->k, node);
    bool bits = e->sums_bits;
    e->sums_for = -1;
    LLVMValueRef v;
    if (e->careful) {
        LC_ASSERT(!bits); /* the fix-up's plain form takes no bits */
        v = emit_plain_lp_sum(e, inner, idx);
    } else {
        LLVMValueRef acc[2];
        emit_flagged_sum(e, inner, idx, acc);
        v = acc[bits ? 1 : 0];
    }
    e->sums_for = node;
    return v;
}

/* With emitter.memo_on, a node's value at an index is emitted once per basic block: a value
 * emitted earlier in the block the builder is in dominates what follows it there (one that
 * a loop or a branch made is in another block and is emitted again). Every state that
 * shapes a node's code (careful, checked, the flag, the lanes) is the same through one body;
 * a blocked sum's pass over one term (pin_node) evaluates its sum otherwise, so it neither
 * reads nor adds to the memo. */
LLVMValueRef lc_emit_value(emitter *e, int node, const ix *idx) {
    if (e->sums_for >= 0) return value_with_sums(e, node, idx);
    if (!e->memo_on || e->pin_node >= 0) return emit_value(e, node, idx);
    int rank = lc_graph_node(e->f->graph, node)->shape.rank;
    LLVMValueRef v = memo_find(e, node, rank, idx);
    if (v) return v;
    v = emit_value(e, node, idx);
    memo_add(e, node, rank, idx, v);
    return v;
}

static LLVMValueRef emit_value(emitter *e, int node, const ix *idx) {
    int slot = e->f->node_slot[node];
    if (node == e->k->co_root && e->co_value) {
        const lc_node *n = lc_graph_node(e->f->graph, node);
        bool same = n->shape.rank > 0 && idx[n->shape.rank - 1].v == e->co_o;
        /* an axis of length 1 has the one index 0, however it is spelled (a broadcast reads
         * it as the constant, the rows as the row's own index): a batch of one had the window's
         * co-root, an LP norm, evaluated again at each of the window's slots */
        for (int d = 0; same && d < n->shape.rank; d++) same = n->shape.dim[d] == 1 || idx[d].v == e->co_idx[d];
        if (same) return e->co_value;
    }
    if (slot >= 0 && node != e->k->root && node != e->k->co_root) {
        const lc_node *n = lc_graph_node(e->f->graph, node);
        return lc_emit_load(e, e->slot_ptr[slot], slot, n->dtype, &n->shape, idx);
    }
    return lc_emit_compute(e, node, idx);
}

