/* Reductions over a counted range j = 0 .. n-1 (sums, the scaled LP norm's max, fold gathers),
 * in one of two fixed orders that fuse chooses from n alone (lc_reduction_schedule):
 *
 *   n <= LC_UNROLL_MAX (a channel contraction: LC_CONTRACTION_UNROLL_MAX, kernel.h): unrolled,
 *     terms folded in index order from the identity. LLVM
 *     vectorizes only innermost loops, and its own full unrolling gives up once the body (a
 *     fractional pow) is large; unrolled, the loop around the reduction (over the kernel's
 *     elements) is the innermost one and vectorizes across elements.
 *
 *   longer: explicit partial sums in a <W x T> accumulator (W·sizeof(T) = 64 bytes, a cache
 *     line): lane l folds the terms j ≡ l (mod W) in order, the last n mod W terms go to lanes
 *     0 .. n mod W - 1, then the lanes are combined pairwise (halves, then quarters, ...). The
 *     W terms of a trip are contiguous in x wherever j is the unit-stride index, so they load
 *     as one vector. The loop around is no longer vectorized (a loop sits inside it), and the
 *     reduction itself is; no reassociation flag is needed, since the order is written out.
 *
 * Where unrolled code would pass fuse's budget (LC_UNROLL_CODE_MAX: reductions nested in one
 * another multiply it), the same orders are emitted as loops: the unrolled order as a counted
 * loop over the terms (rolled), the partial sums with each trip's lanes packed by a loop over
 * the lanes (lanes_rolled). Only the code changes, not the order of any operation.
 *
 * W depends only on the element type, never on the target, so results are the same on every
 * machine and thread count (LUCID_CPU changes the code, not the bits). */
#include "codegen/emit_internal.h"
#include "support/error.h"

/* Lanes of the partial-sum accumulator: one 64-byte line of the element type. */
#define MAX_LANES 16
static unsigned partial_lanes(LLVMTypeRef ty) {
    return (unsigned)LC_PARTIAL_LANES(LLVMGetTypeKind(ty) == LLVMDoubleTypeKind ? LC_F64 : LC_F32);
}

static ix const_index(emitter *e, int64_t j) {
    ix r = {LLVMConstInt(e->i64, (unsigned long long)j, 1), true, 0, j, 0, 0, NULL, 0, 0, 0, 0, false};
    return r;
}

void lc_emit_reduce_term(emitter *e, const lc_reducer *r, int64_t j, LLVMValueRef *acc) {
    LLVMValueRef t[LC_EMIT_MAX_ACC];
    r->terms(e, r->ctx, const_index(e, j), t);
    if (r->after_first && j == 0)
        for (int a = 0; a < r->nacc; a++) acc[a] = t[a];
    else
        (r->after_first ? r->after_first : r->accumulate)(e, acc, t);
}

static void reduce_unrolled(emitter *e, int64_t n, const lc_reducer *r, LLVMValueRef *acc) {
    for (int64_t j = 0; j < n; j++) lc_emit_reduce_term(e, r, j, acc);
}

/* for (j = 0; j < n; j++) acc = acc op terms(j), n >= 2: the unrolled form's order as a loop
 * (fuse's lc_reduction_schedule.rolled), one copy of the terms' code. */
static void reduce_rolled(emitter *e, int64_t n, const lc_reducer *r, LLVMValueRef *acc) {
    LLVMBasicBlockRef pre = LLVMGetInsertBlock(e->b);
    LLVMBasicBlockRef head = LLVMAppendBasicBlockInContext(e->ctx, e->fn, "terms");
    LLVMBasicBlockRef exit = LLVMAppendBasicBlockInContext(e->ctx, e->fn, "terms.end");
    LLVMBuildBr(e->b, head);
    LLVMPositionBuilderAtEnd(e->b, head);
    LLVMValueRef j = LLVMBuildPhi(e->b, e->i64, "j");
    LLVMValueRef phis[LC_EMIT_MAX_ACC], next_acc[LC_EMIT_MAX_ACC], t[LC_EMIT_MAX_ACC];
    for (int a = 0; a < r->nacc; a++) next_acc[a] = phis[a] = LLVMBuildPhi(e->b, LLVMTypeOf(acc[a]), "acc");
    ix jx = {j, true, 0, 0, 0, n - 1, NULL, 0, 0, 0, 0, false};
    r->terms(e, r->ctx, jx, t);
    r->accumulate(e, next_acc, t);
    LLVMValueRef next = iadd_c(e, j, 1);
    LLVMBasicBlockRef latch = LLVMGetInsertBlock(e->b);
    LLVMValueRef more = LLVMBuildICmp(e->b, LLVMIntSLT, next, LLVMConstInt(e->i64, (unsigned long long)n, 1), "");
    lc_emit_loop_hints(e, LLVMBuildCondBr(e->b, more, head, exit), true);
    LLVMValueRef zero = LLVMConstInt(e->i64, 0, 0);
    LLVMAddIncoming(j, &zero, &pre, 1);
    LLVMAddIncoming(j, &next, &latch, 1);
    for (int a = 0; a < r->nacc; a++) {
        LLVMAddIncoming(phis[a], &acc[a], &pre, 1);
        LLVMAddIncoming(phis[a], &next_acc[a], &latch, 1);
        acc[a] = next_acc[a]; /* the exit is reached from the latch only */
    }
    LLVMPositionBuilderAtEnd(e->b, exit);
}

LLVMValueRef lc_emit_splat(emitter *e, LLVMValueRef v) {
    if (!e->vec || LLVMGetTypeKind(LLVMTypeOf(v)) == LLVMVectorTypeKind) return v;
    LLVMTypeRef i32 = LLVMInt32TypeInContext(e->ctx);
    LLVMValueRef one = LLVMBuildInsertElement(e->b, LLVMGetUndef(LLVMVectorType(LLVMTypeOf(v), e->vec)), v,
                                              LLVMConstInt(i32, 0, 0), "");
    return LLVMBuildShuffleVector(e->b, one, LLVMGetUndef(LLVMTypeOf(one)),
                                  LLVMConstNull(LLVMVectorType(i32, e->vec)), "");
}

static LLVMValueRef splat(LLVMValueRef v, unsigned lanes) {
    LLVMValueRef elems[MAX_LANES];
    for (unsigned l = 0; l < lanes; l++) elems[l] = v;
    return LLVMConstVector(elems, lanes);
}

/* The terms at j = base + l for l < count, packed into vectors (lanes from `count` on hold
 * `fill`, each accumulator's identity). `base` is affine: base_v = k + r, r in [rlo, rhi]. */
static void pack_terms(emitter *e, const lc_reducer *r, LLVMValueRef base_v, int64_t k,
                       int64_t rlo, int64_t rhi, unsigned count, const LLVMValueRef *fill,
                       LLVMValueRef *vt) {
    LLVMTypeRef i32 = LLVMInt32TypeInContext(e->ctx);
    for (int a = 0; a < r->nacc; a++) vt[a] = fill[a];
    if (r->term_of) {
        for (int a = 0; a < r->nacc; a++)
            for (unsigned l = 0; l < count; l++) {
                ix j = {iadd_c(e, base_v, (int64_t)l), true, 0, k + (int64_t)l, rlo, rhi, NULL, 0, 0, 0, 0, false};
                vt[a] = LLVMBuildInsertElement(e->b, vt[a], r->term_of(e, r->ctx, a, j), LLVMConstInt(i32, l, 0), "");
            }
        return;
    }
    for (unsigned l = 0; l < count; l++) {
        ix j = {iadd_c(e, base_v, (int64_t)l), true, 0, k + (int64_t)l, rlo, rhi, NULL, 0, 0, 0, 0, false};
        LLVMValueRef t[LC_EMIT_MAX_ACC];
        r->terms(e, r->ctx, j, t);
        for (int a = 0; a < r->nacc; a++)
            vt[a] = LLVMBuildInsertElement(e->b, vt[a], t[a], LLVMConstInt(i32, l, 0), "");
    }
}

/* Lanes [0, half) and [half, 2·half) of v as two vectors. */
static void split_halves(emitter *e, LLVMValueRef v, unsigned half, LLVMValueRef *lo, LLVMValueRef *hi) {
    LLVMTypeRef i32 = LLVMInt32TypeInContext(e->ctx);
    LLVMValueRef mask_lo[MAX_LANES], mask_hi[MAX_LANES];
    for (unsigned l = 0; l < half; l++) {
        mask_lo[l] = LLVMConstInt(i32, l, 0);
        mask_hi[l] = LLVMConstInt(i32, half + l, 0);
    }
    LLVMValueRef undef = LLVMGetUndef(LLVMTypeOf(v));
    *lo = LLVMBuildShuffleVector(e->b, v, undef, LLVMConstVector(mask_lo, half), "");
    *hi = LLVMBuildShuffleVector(e->b, v, undef, LLVMConstVector(mask_hi, half), "");
}

/* One trip of W terms at the constant offset `at`, folded into vacc. */
static void partial_trip_at(emitter *e, const lc_reducer *r, int64_t at, unsigned count,
                            const LLVMValueRef *ident, LLVMValueRef *vacc) {
    LLVMValueRef vt[LC_EMIT_MAX_ACC];
    pack_terms(e, r, LLVMConstInt(e->i64, (unsigned long long)at, 1), at, 0, 0, count, ident, vt);
    r->accumulate(e, vacc, vt);
}

static void combine_lanes(emitter *e, const lc_reducer *r, unsigned lanes, LLVMValueRef *vacc, LLVMValueRef *acc);

/* The terms at j = base + l, l < lanes, as vectors directly (vector mode, emitter.vec: a
 * contiguous load per leaf where the lanes read consecutive elements); lane l gets exactly
 * the operations pack_terms would give it, so the same bits. */
static void vector_terms(emitter *e, const lc_reducer *r, LLVMValueRef base_v, int64_t rlo, int64_t rhi,
                         unsigned lanes, LLVMValueRef *vt) {
    ix j = {base_v, true, 0, 0, rlo, rhi + (int64_t)lanes - 1, NULL, 0, 0, 0, 1, false};
    e->vec = lanes;
    if (r->term_of) {
        for (int a = 0; a < r->nacc; a++) vt[a] = r->term_of(e, r->ctx, a, j);
    } else {
        r->terms(e, r->ctx, j, vt);
    }
    for (int a = 0; a < r->nacc; a++) vt[a] = lc_emit_splat(e, vt[a]);
    e->vec = 0;
}

/* The trips [first, stop) of a blocked sum (lc_reduction_schedule.blocked_sum: kernel.h says
 * why), folded into vacc:
 *   for (tb = first; tb < stop; tb += B) {
 *       nb = min(B, stop - tb); T[a][0 .. nb) = +0
 *       for (n = 0; n < N; n += G) for (b = 0; b < nb; b++)
 *           T[a][b] += inner term n, then n + 1, ..., n + G - 1, at the trip tb + b
 *       for (b = 0; b < nb; b++) vacc = vacc op T[.][b]
 *   }
 * Each T[a][b] is the inner sum the unblocked trip takes, from +0 over n in order, and the
 * trips fold in order: the same bits. T lives on the stack (accumulators x B lines). */
static void blocked_trips(emitter *e, const lc_reduction_schedule *rs, const lc_reducer *r, int64_t first,
                          int64_t stop, unsigned lanes, LLVMValueRef *vacc) {
    const lc_reduction_schedule *is = lc_kernel_reduction(e->k, rs->blocked_sum);
    LC_ASSERT(is && is->unrolled && is->terms % LC_BLOCKED_SUM_GROUP == 0 && stop > first && e->pin_node < 0);
    const int64_t B = LC_BLOCKED_SUM_TRIPS, G = LC_BLOCKED_SUM_GROUP, m = is->terms;
    LLVMTypeRef vty = LLVMTypeOf(vacc[0]);
    for (int a = 1; a < r->nacc; a++) LC_ASSERT(LLVMTypeOf(vacc[a]) == vty);
    LLVMTypeRef aty = LLVMArrayType(vty, (unsigned)(r->nacc * B));
    LLVMValueRef buf = lc_emit_entry_alloca(e, aty, "blocked.sums");
    LLVMValueRef zero = LLVMConstInt(e->i64, 0, 0), stop_v = LLVMConstInt(e->i64, (unsigned long long)stop, 1);
    LLVMValueRef plus_zero = LLVMConstNull(vty);
#define SLOT(a, bv) LLVMBuildGEP2(e->b, aty, buf, (LLVMValueRef[]){zero, iadd_c(e, (bv), (int64_t)(a) * B)}, 2, "")

    lc_loop blk = lc_loop_open(e, LLVMConstInt(e->i64, (unsigned long long)first, 1), "blocked");
    LLVMValueRef blk_acc[LC_EMIT_MAX_ACC];
    for (int a = 0; a < r->nacc; a++) {
        blk_acc[a] = LLVMBuildPhi(e->b, vty, "");
        LLVMAddIncoming(blk_acc[a], &vacc[a], &blk.pre, 1);
    }
    LLVMValueRef nb = imin_c(e, LLVMBuildSub(e->b, stop_v, blk.i, ""), B);

    lc_loop init = lc_loop_open(e, zero, "blocked.init");
    for (int a = 0; a < r->nacc; a++) LLVMBuildStore(e->b, plus_zero, SLOT(a, init.i));
    lc_loop_close(e, &init, 1, nb);

    lc_loop terms = lc_loop_open(e, zero, "blocked.terms");
    lc_loop trip = lc_loop_open(e, zero, "blocked.trip");
    LLVMValueRef base = imul_c(e, LLVMBuildAdd(e->b, blk.i, trip.i, ""), (int64_t)lanes);
    LLVMValueRef ptr[LC_EMIT_MAX_ACC], sum[LC_EMIT_MAX_ACC], vt[LC_EMIT_MAX_ACC];
    for (int a = 0; a < r->nacc; a++) {
        ptr[a] = SLOT(a, trip.i);
        sum[a] = LLVMBuildLoad2(e->b, vty, ptr[a], "");
    }
    for (int64_t g = 0; g < G; g++) {
        e->pin_node = rs->blocked_sum;
        e->pin_j = (ix){iadd_c(e, terms.i, g), true, 0, g, 0, m - G, NULL, 0, 0, 0, 0, false};
        vector_terms(e, r, base, first * (int64_t)lanes, (stop - 1) * (int64_t)lanes, lanes, vt);
        e->pin_node = -1;
        for (int a = 0; a < r->nacc; a++) sum[a] = LLVMBuildFAdd(e->b, sum[a], vt[a], "");
    }
    for (int a = 0; a < r->nacc; a++) LLVMBuildStore(e->b, sum[a], ptr[a]);
    lc_loop_close(e, &trip, 1, nb);
    lc_loop_close(e, &terms, G, LLVMConstInt(e->i64, (unsigned long long)m, 1));

    lc_loop fold = lc_loop_open(e, zero, "blocked.fold");
    LLVMValueRef cur[LC_EMIT_MAX_ACC], next[LC_EMIT_MAX_ACC], t[LC_EMIT_MAX_ACC];
    for (int a = 0; a < r->nacc; a++) {
        next[a] = cur[a] = LLVMBuildPhi(e->b, vty, "");
        LLVMAddIncoming(cur[a], &blk_acc[a], &fold.pre, 1);
    }
    for (int a = 0; a < r->nacc; a++) t[a] = LLVMBuildLoad2(e->b, vty, SLOT(a, fold.i), "");
    r->accumulate(e, next, t);
    lc_loop_close(e, &fold, 1, nb);
    for (int a = 0; a < r->nacc; a++) LLVMAddIncoming(cur[a], &next[a], &fold.latch, 1);

    lc_loop_close(e, &blk, B, stop_v);
    for (int a = 0; a < r->nacc; a++) {
        LLVMAddIncoming(blk_acc[a], &next[a], &blk.latch, 1);
        vacc[a] = next[a]; /* the exit is reached from the latch only */
    }
#undef SLOT
}

static void reduce_partial(emitter *e, LLVMTypeRef ty, int64_t n, const lc_reduction_schedule *rs, const lc_reducer *r,
                           LLVMValueRef *acc) {
    bool peeled = rs->peeled, vec_terms = rs->vector_terms;
    unsigned lanes = partial_lanes(ty);
    int64_t trips = n / (int64_t)lanes, tail = n % (int64_t)lanes;
    LLVMValueRef ident[LC_EMIT_MAX_ACC], vacc[LC_EMIT_MAX_ACC], phis[LC_EMIT_MAX_ACC];
    for (int a = 0; a < r->nacc; a++) {
        LC_ASSERT(LLVMIsConstant(acc[a])); /* identities are constants */
        ident[a] = vacc[a] = splat(acc[a], lanes); /* each of its own type (a max's index may be an i64) */
    }
    /* peeled (fuse's lc_reduction_schedule.peeled): trip 0 here, trips 1 .. trips-2 in the
     * loop, trip trips-1 after it; the same terms into the same lanes in the same order */
    LC_ASSERT(!peeled || trips >= 3);
    int64_t first = peeled ? 1 : 0, stop = peeled ? trips - 1 : trips;
    if (peeled) partial_trip_at(e, r, 0, lanes, ident, vacc);
    if (rs->blocked_sum >= 0) {
        LC_ASSERT(vec_terms);
        blocked_trips(e, rs, r, first, stop, lanes, vacc);
        if (peeled) partial_trip_at(e, r, (trips - 1) * (int64_t)lanes, lanes, ident, vacc);
        if (tail > 0) partial_trip_at(e, r, trips * (int64_t)lanes, (unsigned)tail, ident, vacc);
        combine_lanes(e, r, lanes, vacc, acc);
        return;
    }
    LLVMValueRef start[LC_EMIT_MAX_ACC];
    for (int a = 0; a < r->nacc; a++) start[a] = vacc[a];

    /* for (c = first; c < stop; c++) vacc = vacc op terms(c·W .. c·W + W-1) */
    LLVMBasicBlockRef pre = LLVMGetInsertBlock(e->b);
    LLVMBasicBlockRef head = LLVMAppendBasicBlockInContext(e->ctx, e->fn, "red");
    LLVMBasicBlockRef exit = LLVMAppendBasicBlockInContext(e->ctx, e->fn, "red.end");
    LLVMBuildBr(e->b, head);
    LLVMPositionBuilderAtEnd(e->b, head);
    LLVMValueRef base = LLVMBuildPhi(e->b, e->i64, "j");
    for (int a = 0; a < r->nacc; a++) vacc[a] = phis[a] = LLVMBuildPhi(e->b, LLVMTypeOf(ident[a]), "acc");
    LLVMValueRef vt[LC_EMIT_MAX_ACC];
    if (vec_terms) vector_terms(e, r, base, first * (int64_t)lanes, (stop - 1) * (int64_t)lanes, lanes, vt);
    else pack_terms(e, r, base, 0, first * (int64_t)lanes, (stop - 1) * (int64_t)lanes, lanes, ident, vt);
    r->accumulate(e, vacc, vt);
    LLVMValueRef next = iadd_c(e, base, (int64_t)lanes);
    LLVMValueRef more = LLVMBuildICmp(e->b, LLVMIntSLT, next,
                                      LLVMConstInt(e->i64, (unsigned long long)(stop * (int64_t)lanes), 1), "");
    LLVMBasicBlockRef latch = LLVMGetInsertBlock(e->b);
    LLVMBuildCondBr(e->b, more, head, exit);
    LLVMValueRef from = LLVMConstInt(e->i64, (unsigned long long)(first * (int64_t)lanes), 1);
    LLVMAddIncoming(base, &from, &pre, 1);
    LLVMAddIncoming(base, &next, &latch, 1);
    for (int a = 0; a < r->nacc; a++) {
        LLVMAddIncoming(phis[a], &start[a], &pre, 1);
        LLVMAddIncoming(phis[a], &vacc[a], &latch, 1);
    }
    LLVMPositionBuilderAtEnd(e->b, exit);

    if (peeled) partial_trip_at(e, r, (trips - 1) * (int64_t)lanes, lanes, ident, vacc);
    if (tail > 0) partial_trip_at(e, r, trips * (int64_t)lanes, (unsigned)tail, ident, vacc);
    combine_lanes(e, r, lanes, vacc, acc);
}

/* The same partial sums with a trip's lanes packed by a loop over the lanes (fuse's
 * lc_reduction_schedule.lanes_rolled), one copy of the terms' code:
 *   for (base = 0; base < n; base += W) {
 *       vt = identities; for (l = 0; l < min(W, n - base); l++) vt[l] = terms(base + l);
 *       vacc = vacc op vt;
 *   }
 * The tail is the last trip, its lanes from n - base on left at the identity as
 * reduce_partial's tail leaves them, so every lane folds the same terms in the same order. */
static void reduce_partial_lanes_rolled(emitter *e, LLVMTypeRef ty, int64_t n, const lc_reducer *r,
                                        LLVMValueRef *acc) {
    unsigned lanes = partial_lanes(ty);
    LLVMValueRef ident[LC_EMIT_MAX_ACC], vacc[LC_EMIT_MAX_ACC], phis[LC_EMIT_MAX_ACC];
    for (int a = 0; a < r->nacc; a++) {
        LC_ASSERT(LLVMIsConstant(acc[a]));
        ident[a] = splat(acc[a], lanes);
    }
    LLVMValueRef zero = LLVMConstInt(e->i64, 0, 0), nv = LLVMConstInt(e->i64, (unsigned long long)n, 1);
    LLVMBasicBlockRef pre = LLVMGetInsertBlock(e->b);
    LLVMBasicBlockRef head = LLVMAppendBasicBlockInContext(e->ctx, e->fn, "red");
    LLVMBasicBlockRef lane_head = LLVMAppendBasicBlockInContext(e->ctx, e->fn, "lanes");
    LLVMBasicBlockRef lane_exit = LLVMAppendBasicBlockInContext(e->ctx, e->fn, "lanes.end");
    LLVMBasicBlockRef exit = LLVMAppendBasicBlockInContext(e->ctx, e->fn, "red.end");
    LLVMBuildBr(e->b, head);
    LLVMPositionBuilderAtEnd(e->b, head);
    LLVMValueRef base = LLVMBuildPhi(e->b, e->i64, "j");
    for (int a = 0; a < r->nacc; a++) phis[a] = LLVMBuildPhi(e->b, LLVMTypeOf(ident[a]), "acc");
    LLVMValueRef count = imin_c(e, LLVMBuildSub(e->b, nv, base, ""), (int64_t)lanes);
    LLVMBuildBr(e->b, lane_head);

    /* the lanes: at least one (base < n) */
    LLVMPositionBuilderAtEnd(e->b, lane_head);
    LLVMValueRef l = LLVMBuildPhi(e->b, e->i64, "lane");
    LLVMValueRef vt_phi[LC_EMIT_MAX_ACC], vt[LC_EMIT_MAX_ACC], t[LC_EMIT_MAX_ACC];
    for (int a = 0; a < r->nacc; a++) vt_phi[a] = LLVMBuildPhi(e->b, LLVMTypeOf(ident[a]), "lane.terms");
    ix j = {LLVMBuildAdd(e->b, base, l, ""), true, 0, 0, 0, n - 1, NULL, 0, 0, 0, 0, false};
    r->terms(e, r->ctx, j, t);
    for (int a = 0; a < r->nacc; a++) vt[a] = LLVMBuildInsertElement(e->b, vt_phi[a], t[a], l, "");
    LLVMValueRef next_l = iadd_c(e, l, 1);
    LLVMBasicBlockRef lane_latch = LLVMGetInsertBlock(e->b);
    lc_emit_loop_hints(e, LLVMBuildCondBr(e->b, LLVMBuildICmp(e->b, LLVMIntSLT, next_l, count, ""), lane_head,
                                          lane_exit), true);
    LLVMAddIncoming(l, &zero, &head, 1);
    LLVMAddIncoming(l, &next_l, &lane_latch, 1);
    for (int a = 0; a < r->nacc; a++) {
        LLVMAddIncoming(vt_phi[a], &ident[a], &head, 1);
        LLVMAddIncoming(vt_phi[a], &vt[a], &lane_latch, 1);
    }

    LLVMPositionBuilderAtEnd(e->b, lane_exit);
    for (int a = 0; a < r->nacc; a++) vacc[a] = phis[a];
    r->accumulate(e, vacc, vt);
    LLVMValueRef next = iadd_c(e, base, (int64_t)lanes);
    LLVMBasicBlockRef latch = LLVMGetInsertBlock(e->b);
    lc_emit_loop_hints(e, LLVMBuildCondBr(e->b, LLVMBuildICmp(e->b, LLVMIntSLT, next, nv, ""), head, exit), true);
    LLVMAddIncoming(base, &zero, &pre, 1);
    LLVMAddIncoming(base, &next, &latch, 1);
    for (int a = 0; a < r->nacc; a++) {
        LLVMAddIncoming(phis[a], &ident[a], &pre, 1);
        LLVMAddIncoming(phis[a], &vacc[a], &latch, 1);
    }
    LLVMPositionBuilderAtEnd(e->b, exit);
    combine_lanes(e, r, lanes, vacc, acc);
}

/* The lanes combined pairwise (l with l + W/2, then with l + W/4, ...) into acc. */
static void combine_lanes(emitter *e, const lc_reducer *r, unsigned lanes, LLVMValueRef *vacc, LLVMValueRef *acc) {
    for (unsigned half = lanes / 2; half >= 1; half /= 2) {
        LLVMValueRef lo[LC_EMIT_MAX_ACC], hi[LC_EMIT_MAX_ACC];
        for (int a = 0; a < r->nacc; a++) split_halves(e, vacc[a], half, &lo[a], &hi[a]);
        r->accumulate(e, lo, hi);
        for (int a = 0; a < r->nacc; a++) vacc[a] = lo[a];
    }
    LLVMValueRef lane0 = LLVMConstInt(LLVMInt32TypeInContext(e->ctx), 0, 0);
    for (int a = 0; a < r->nacc; a++) acc[a] = LLVMBuildExtractElement(e->b, vacc[a], lane0, "");
}

void lc_emit_reduce(emitter *e, LLVMTypeRef ty, int64_t n, const lc_reduction_schedule *rs,
                    const lc_reducer *r, LLVMValueRef *acc) {
    LC_ASSERT(r->nacc >= 1 && r->nacc <= LC_EMIT_MAX_ACC);
    /* the unrolled form is emitted term by term; each loop form belongs to one order */
    LC_ASSERT(!rs->unrolled ||
              n <= (LC_UNROLL_MAX > LC_CONTRACTION_UNROLL_MAX ? LC_UNROLL_MAX : LC_CONTRACTION_UNROLL_MAX));
    LC_ASSERT(!rs->rolled || (rs->unrolled && n >= 2));
    LC_ASSERT(!rs->lanes_rolled || (!rs->unrolled && !rs->peeled));
    if (n <= 0) return;
    if (rs->rolled) reduce_rolled(e, n, r, acc);
    else if (rs->unrolled) reduce_unrolled(e, n, r, acc);
    else if (rs->lanes_rolled) reduce_partial_lanes_rolled(e, ty, n, r, acc);
    else reduce_partial(e, ty, n, rs, r, acc);
}

void lc_emit_reduce_range(emitter *e, LLVMValueRef from, LLVMValueRef to, const lc_reducer *r,
                          LLVMValueRef *acc) {
    LC_ASSERT(r->nacc >= 1 && r->nacc <= LC_EMIT_MAX_ACC);
    /* for (j = from; j < to; j++) acc = acc op terms(j) */
    LLVMBasicBlockRef pre = LLVMGetInsertBlock(e->b);
    LLVMBasicBlockRef head = LLVMAppendBasicBlockInContext(e->ctx, e->fn, "span");
    LLVMBasicBlockRef body = LLVMAppendBasicBlockInContext(e->ctx, e->fn, "span.body");
    LLVMBasicBlockRef exit = LLVMAppendBasicBlockInContext(e->ctx, e->fn, "span.end");
    LLVMBuildBr(e->b, head);
    LLVMPositionBuilderAtEnd(e->b, head);
    LLVMValueRef j = LLVMBuildPhi(e->b, e->i64, "j");
    LLVMValueRef phis[LC_EMIT_MAX_ACC], next_acc[LC_EMIT_MAX_ACC], t[LC_EMIT_MAX_ACC];
    for (int a = 0; a < r->nacc; a++) next_acc[a] = phis[a] = LLVMBuildPhi(e->b, LLVMTypeOf(acc[a]), "acc");
    LLVMBuildCondBr(e->b, LLVMBuildICmp(e->b, LLVMIntSLT, j, to, ""), body, exit);
    LLVMPositionBuilderAtEnd(e->b, body);
    r->terms(e, r->ctx, ix_opaque(j), t); /* opaque: every bounds check below it is kept */
    r->accumulate(e, next_acc, t);
    LLVMValueRef next = iadd_c(e, j, 1);
    LLVMBasicBlockRef latch = LLVMGetInsertBlock(e->b);
    LLVMBuildBr(e->b, head);
    LLVMAddIncoming(j, &from, &pre, 1);
    LLVMAddIncoming(j, &next, &latch, 1);
    for (int a = 0; a < r->nacc; a++) {
        LLVMAddIncoming(phis[a], &acc[a], &pre, 1);
        LLVMAddIncoming(phis[a], &next_acc[a], &latch, 1);
        acc[a] = phis[a];
    }
    LLVMPositionBuilderAtEnd(e->b, exit);
}
