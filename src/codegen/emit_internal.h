/* Shared by the emit_*.c files: the emitter's state, the index values nodes are evaluated
 * at, small builder helpers, and the functions the files call across. The scheme is in emit.h. */
#ifndef LUCID_CODEGEN_EMIT_INTERNAL_H
#define LUCID_CODEGEN_EMIT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <llvm-c/Core.h>

#include "codegen/intrinsic.h"
#include "codegen/vmath.h"
#include "passes/kernel.h"

/* An index value, with its affine form in the last-axis index i when known:
 * v = ci*i + k + r, r within [rlo, rhi] (from counted loops). */
typedef struct ix {
    LLVMValueRef v;
    bool aff;
    int64_t ci, k, rlo, rhi;
    /* Set on the window and slot indices a fold's gather produces: both came from the
     * position t = i + pad_lo as o = t / step - r and j = (t - o·step) / dilation, so an
     * unfold with the same step and dilation reads position t - its pad_lo directly (affine
     * in i, so bounds checks can be elided and loads are contiguous) instead of recombining
     * the clamped o and j. */
    const struct ix *fold_t;
    int64_t fold_step, fold_dilation;
    int fold_role; /* 1 window, 2 slot */
    /* In vector mode (emitter.vec, a partial-sum trip whose terms are emitted as vectors,
     * lc_reduction_schedule.vector_terms): lane l of the trip has the value v + lane·l (the
     * range [rlo, rhi] covers every lane). 0 outside it and on indices the lanes share. */
    int64_t lane;
    /* The value was clamped into [0, len) by a check kept above it: it equals the affine form
     * only where that check holds, which the checked passes fold into the interior. A check
     * below it may be elided on the interior, never for every i from the affine form alone
     * (AvgPool1d(4, 5, 2) over LPPool1d(1, 5, 2) of length 4: at i = 0 the outer position -2
     * clamps to 0, so the inner tap 4 reads position 4, not the 10·0 + 0 the form says). */
    bool clamped;
} ix;

/* Values a body remembers (emitter.memo). */
#define LC_MEMO_MAX 256

/* LP windows a body remembers the values of (emitter.window_memo, emitter.root_memo). */
#define LC_WINDOW_MEMO_MAX 16

/* Rows whose first element's index a body remembers (emitter.row_memo). */
#define LC_ROW_MEMO_MAX 8

/* One of them: the axes' index values (NULL for an axis of size 1) and strides, the block the
 * index was emitted in, and the index. */
typedef struct row_memo {
    LLVMBasicBlockRef block;
    int rank;
    LLVMValueRef v[LC_MAX_RANK];
    int64_t stride[LC_MAX_RANK];
    LLVMValueRef first;
} row_memo;

/* Stores one trip of a tiled loop may hold back (tile rows x (a block's positions + a co-root)). */
#define LC_TILE_DEFERRED_MAX (LC_TILE_ROWS_MAX * (LC_UNROLL_MAX + 1))

/* The loads of the vectorized element loop being emitted, logged for lc_schedule.carry_loads
 * (emit_kernel.c): each with its slot, its indices before the last (values) and its last index
 * ci·i + k. */
#define LC_CARRY_LOG_MAX 256
typedef struct carry_log {
    int n;
    struct {
        LLVMValueRef load, base;
        const lc_shape *shape;
        int slot, rank;
        LLVMValueRef dims[LC_MAX_RANK]; /* NULL for an axis of extent 1 */
        LLVMValueRef last;              /* the last index's value, ci·i + k */
        int64_t ci, k;
        /* a slot carried across a row's edge (lc_schedule.carry_edge): the padding's value
         * where the first trip's index falls outside [0, edge_len); else NULL */
        LLVMValueRef edge_pad;
        int64_t edge_len;
    } e[LC_CARRY_LOG_MAX];
} carry_log;

/* Whether a load's last index is one carry_loads can pair (lc_emit_load logs it): affine in
 * the loop's index with a step of 2 or more, one element at each position. */
static inline bool carry_pairable(const ix *last) {
    return last->aff && last->ci >= 2 && last->rlo == 0 && last->rhi == 0;
}

typedef struct emitter {
    LLVMContextRef ctx;
    LLVMModuleRef mod;
    LLVMBuilderRef b;
    LLVMValueRef fn;
    LLVMTypeRef i64, i1, ptr;
    const lc_fused *f;
    const lc_kernel *k;
    LLVMValueRef *slot_ptr;   /* per slot: its pointer, loaded in the kernel's entry, or NULL */
    /* Per slot: the alias scope of its accesses and the scopes they do not alias (metadata
     * as values, NULL when the kernel does not touch the slot); see emit_kernel.c. */
    LLVMValueRef *slot_scope, *slot_noalias;
    /* A kernel with tiled rows (lc_schedule.tile_rows): each row of the tile writes its own
     * part of the slots the kernel writes, so each (written slot, row) has a scope of its
     * own, [0] the root's slot and [1] the co-root's, and tile_row is the row being emitted
     * (-1 outside a tile): LLVM then sees that one row's stores never reach another's. */
    LLVMValueRef row_scope[2][LC_TILE_ROWS_MAX], row_noalias[2][LC_TILE_ROWS_MAX];
    LLVMValueRef row_ptr[2][LC_TILE_ROWS_MAX]; /* those slots' pointers per row (emit_kernel.c) */
    /* A window-major block of several steps (lc_schedule.block_steps): the root slot's scope
     * per phase of the block (its position modulo the block), and the phase of the store
     * being emitted (-1: none; the slot's scope then spans every phase). */
    LLVMValueRef phase_scope[LC_UNROLL_MAX], phase_noalias[LC_UNROLL_MAX];
    int store_phase;
    int tile_row;
    /* While a tile's rows are emitted, their stores wait here and are emitted after the last
     * row's, so every load of the trip comes before every store, as in an untiled trip: the
     * memory-SSA walks by which LICM hoists the loop-invariant loads (the weights) then pass
     * no store. */
    bool defer_stores;
    int n_deferred;
    struct { int slot, row; LLVMValueRef base, off, v; } deferred[LC_TILE_DEFERRED_MAX];
    LLVMValueRef *globals;    /* per node: module-level array for a non-scalar constant */
    bool checked;             /* emit every bounds check */
    /* A scalar loop over the window-major blocks of a kernel whose blocks tile its rows past
     * its last window (lc_schedule.whole_blocks with windows overlapping): a block writes its
     * co-root only where it has a window, q < windows, in a branch. The vectorized loop stops
     * at the last window and needs none. */
    bool co_guard;
    /* While a window past the row's ends is read (lc_schedule.guard_windows): the condition
     * that it is one of the row's windows. Every load emitted meanwhile sits in a branch on it
     * (lc_emit_load), its value 0 where it is off. */
    LLVMValueRef load_guard;
    /* The running maximum of the co-root's search, left by it for the root to take
     * (lc_schedule.root_from_co_search; emit_kernel.c's emit_row_body), else NULL. */
    LLVMValueRef co_maximum;
    /* The fix-up's form (scalar loops of a kernel with flagged LP norms or rescued window
     * sums, lc_schedule.fixup): each flagged norm and its backward's ratio take the plain form
     * or the scaled one in a branch per window, each rescued sum the plain one or the
     * compensated one. Otherwise they take the plain form and OR a window's "not accurate"
     * into *flag_ptr (an i32 slot, promoted to a reduction of the loop), where it is set. */
    bool careful;
    /* Which function of a fixup kernel is being emitted: the common one (false), whose every
     * loop takes the plain form and flags, and which returns the flag, or the fix-up
     * (lc_kernel_<k>_fixup, compiled the first time a run flags a window): the vectorized
     * loop plain and flagging, the scalar loop careful, redoing what was flagged. */
    bool fixup_form;
    /* The quick tier's checked edges in a function of their own (lc_emit_options.quick): the
     * kernel's function emits its vectorized loops and unchecked scalar loops but not its
     * checked scalar loops (edges_apart) and, where it left one out (edges_left), calls
     * lc_kernel_<k>_edges once over its whole range; that function, emitted with edges_only,
     * walks the same rows and emits only the checked scalar loops, and is marked optnone, so
     * LLVM's passes skip it. Those loops were up to 40 % of a kernel's IR and run over a few
     * positions a row. */
    bool edges_apart, edges_only, edges_left;
    int interleave; /* the vectorized loop being emitted: lc_schedule.interleave, else 0 */
    LLVMValueRef flag_ptr;
    LLVMValueRef flag_slot;   /* that i32 slot, allocated in the kernel's entry (fixup kernels) */
    /* LUCID_CHECK_BOUNDS=1 (lc_codegen_check_bounds): an i1 slot in the kernel's entry that
     * every load ORs "outside my buffer" into at run time (lc_emit_guard_index); the kernel
     * traps at its end when it is set. NULL otherwise, and while discovery emits into its
     * throwaway function. */
    LLVMValueRef bounds_slot;
    bool fma;                 /* the target has fused multiply-add */
    bool quick;               /* lc_emit_options.quick: one trip at a time in every loop */
    bool vector_loop;         /* the body being emitted is a loop LLVM vectorizes (not a scalar one) */
    int vector_bits;          /* lc_emit_options.vector_bits */
    bool avx512_exponents;    /* lc_emit_options.avx512_exponents */
    bool sqrt_estimate;       /* lc_emit_options.sqrt_estimate */
    bool masked_loads;        /* lc_emit_options.masked_loads */
    bool masked_byte_loads;   /* lc_emit_options.masked_byte_loads */
    int64_t ilo, ihi;         /* interior range of i collected from the checks */
    /* Every value i takes in the loop being emitted (the root's last axis in an element
     * loop), or all_lo > all_hi when unknown: a check that holds on all of it is elided in
     * every pass, checked or not. */
    int64_t all_lo, all_hi;
    int64_t elo, ehi;         /* the element loop's interior */
    int64_t wlo, whi;         /* the window loop's interior (window-major folds) */
    /* The co-root's value in the current window body and the window index it was computed
     * at: the fold's terms read it again at that same index, and emitting it once instead
     * of per slot kept the IR (and LLVM's time on it) several times smaller. */
    LLVMValueRef co_value, co_o;
    LLVMValueRef co_idx[LC_MAX_RANK];
    /* While a tile of a co-root over rows (lc_kernel.co_rows) is emitted: the co-root's row
     * q (the tile's window on the axis before the last) and the tile's rows q·rows + t, the
     * values every index of those rows is built from, so the fold over the rows reads window q
     * at slot t and an unfold of window q reads row t by identity (emit_expr.c), and the
     * co-root, computed once per tile, is found again by the rows (co_value). NULL elsewhere. */
    LLVMValueRef co_tile_q;
    LLVMValueRef co_tile_row[LC_TILE_ROWS_MAX];
    int depth;                /* nodes being evaluated inline now (<= sched.inline_depth) */
    /* A column tile (lc_schedule.tile_cols): col_member is the position of the row being
     * evaluated (-1 outside a tile). When position 0 reaches the tiled reduction, its sums for
     * every position are emitted in one loop (col_value, col_ready; col_k at position 0's
     * index on the reduction's col_axis), and the other positions read them back. */
    /* Vector mode: the lanes of the partial-sum trip being emitted (0: scalar code). Values
     * are then <vec x T> vectors, or scalars where they do not depend on the lane (splat where
     * they meet a vector); see emit_expr.c. */
    unsigned vec;
    int col_member;
    bool col_ready;
    int64_t col_k;
    LLVMValueRef col_value[LC_TILE_COLS_MAX];
    /* A blocked sum's pass over its inner terms (lc_reduction_schedule.blocked_sum, emit_reduce.c):
     * while pin_node >= 0, that inline sum evaluates to its one term at index pin_j of its axis
     * instead of the whole sum; the pass adds the terms up itself. */
    int pin_node;
    ix pin_j;
    /* A kernel's row passes (lc_schedule.row_passes): while the loop for window row k is
     * emitted, row_pass is k + 1 (0 elsewhere), and the reduction row_pass_node (and the
     * co-root's row_pass_co_node) folds only its term k, from the partial result of rows
     * 0 .. k-1 in pass_buf[0] ([1]: the co-root's; a row per accumulator, in the function's
     * entry, indexed by the position pass_i) into it again, or, in the last pass, into what it
     * returns. pass_stored: how many of those partial results this body has stored; from the
     * first on, nothing emitted after it is kept (no flag is raised; emit_row_body stores
     * nothing). */
    int row_pass;
    int pass_stored;
    LLVMValueRef pass_i;
    LLVMValueRef pass_buf[2][4]; /* LC_EMIT_MAX_ACC, defined below */
    /* While a norm's terms are taken as an inner norm's sums (lc_lp_schedule.terms_from_sums,
     * emit_expr.c's inner_sums_term): the inner root y_in, which lc_emit_value gives as its
     * norm's plain sum S_in (sums_bits: the OR of its elements' bits) instead of S_in^(1/p);
     * -1 elsewhere. The memo is bypassed meanwhile: what the unfold over y_in then gives is
     * not the unfold's value. */
    int sums_for;
    bool sums_bits;
    /* The loop index i of the affine forms (ix: ci·i + k) of the body being emitted: the
     * element loop's position, or the window-major loop's block q. An inline gather of step
     * s > 1 whose position is ci·i + k with s dividing ci takes its window (ci/s)·i +
     * floor(k/s) from it rather than dividing the position (emit_expr.c, LC_OP_FOLD). */
    LLVMValueRef aff_i;
    /* While memo_on (a body of the kernel's loops: a position, or a window-major block): the
     * values emitted so far in this body, by node and index, so a node read at one index
     * again is emitted once, not once per reader (emit_expr.c, lc_emit_value): the demo's LP
     * gradient at an average's position, read by the 3 windows covering it; an average that
     * an LP window takes both as a term and for its flag's bits; a window's terms read again
     * by the positions of overlapping windows. LLVM merged most copies, at a price in compile
     * time, but not loads with a store between them (the flag's, a co-root's): those stayed
     * twice in the optimized loops. */
    bool memo_on;
    int memo_n;
    struct {
        int node;
        unsigned vec;
        LLVMBasicBlockRef block; /* where it was emitted: reused only there, after it */
        ix idx[LC_MAX_RANK];
        LLVMValueRef v;
    } memo[LC_MEMO_MAX];
    /* While the vectorized loop of a non-temporal kernel (lc_schedule.nontemporal) is emitted:
     * the line of the written buffer where its first trip stores, as a pointer LLVM knows is
     * aligned (llvm.ptrmask), and, in its body, the loop's count of trips from there; the
     * root's stores are addressed from the line by that count, so LLVM proves the vector
     * stores aligned (jit.c then makes them non-temporal). */
    LLVMValueRef nt_base, nt_trip;
    /* A non-temporal kernel with a co-root's row tile (lc_kernel.co_rows): each row's line,
     * as nt_base is row 0's; emit_inner_body points nt_base at the row being emitted. */
    LLVMValueRef nt_base_row[LC_TILE_ROWS_MAX];
    /* lc_schedule.co_nontemporal: the co-root's line where the vectorized loop's first block
     * writes it (its element at nt_co_base + nt_trip); NULL elsewhere. */
    LLVMValueRef nt_co_base;
    bool nt_used; /* some loop of the kernel's function stores from a line */
    /* The LP windows' values the vectorized pass has emitted in the current body: a flagged
     * norm's sum and the OR of its bits (emit_expr.c's emit_flagged_sum), by the sum's node
     * and index, and the root's Newton steps on that sum (lc_emit_root_steps), by the sum's
     * value. Every element of a window reads them (y, 1/y, the per-window scale), which were
     * emitted again per element for LLVM's early-cse to merge; now once per window. Each is
     * reused only in the basic block it was emitted in (after it, so it dominates there),
     * with the same lanes and pass; lc_emit_forget_windows clears them at each body's start
     * (a throwaway function's blocks are freed after discovery). */
    int window_memo_n;
    struct {
        int node; /* the norm's sum */
        unsigned vec;
        bool careful;
        LLVMBasicBlockRef block;
        ix idx[LC_MAX_RANK];
        LLVMValueRef acc[2];
    } window_memo[LC_WINDOW_MEMO_MAX];
    int root_memo_n;
    struct {
        LLVMBasicBlockRef block;
        lc_vmath_root_steps steps;
    } root_memo[LC_WINDOW_MEMO_MAX];
    /* The index of a row's first element (every axis but the last times its stride) as
     * lc_emit_linear_index last made it in a block, by the axes' index values and strides:
     * the loads of a body mostly differ in the last axis only, and the quick tier's edges
     * function, made into code from the IR as emitted, paid two multiplies and two adds a
     * load for the same row. Reused only in the block it was emitted in (after it, so it
     * dominates there); forgotten with the windows (lc_emit_forget_windows). Off while the
     * builder is put back before code already emitted (emit_kernel.c's carry_loads), where
     * "earlier in the block" no longer holds. */
    bool row_memo_off;
    int row_memo_n, row_memo_next;
    row_memo row_memo[LC_ROW_MEMO_MAX];
    carry_log *carry;         /* while a vectorized element loop of a carry_loads kernel is emitted */
    carry_log carry_buf;      /* what carry points to */
} emitter;

/* Whether the vectorized loop being emitted logs its loads for carry_loads (emitter.carry) and
 * has room for one more. */
static inline bool carry_log_open(const emitter *e) { return e->carry && e->carry->n < LC_CARRY_LOG_MAX; }

static inline LLVMTypeRef real_type(emitter *e, lc_dtype dt) {
    return dt == LC_F64 ? LLVMDoubleTypeInContext(e->ctx) : LLVMFloatTypeInContext(e->ctx);
}

static inline LLVMValueRef real_const(emitter *e, lc_dtype dt, double v) {
    return LLVMConstReal(real_type(e, dt), dt == LC_F32 ? (double)(float)v : v);
}

static inline ix ix_const(emitter *e, int64_t v) {
    ix r = {LLVMConstInt(e->i64, (unsigned long long)v, 1), true, 0, v, 0, 0, NULL, 0, 0, 0, 0, false};
    return r;
}

static inline ix ix_opaque(LLVMValueRef v) {
    ix r = {v, false, 0, 0, 0, 0, NULL, 0, 0, 0, 0, false};
    return r;
}

/* An outer-axis index of a kernel's row: constant along the row (ci = 0) and somewhere in
 * [0, extent). Its range lets a window over that axis elide the checks that cannot fail on any
 * row (AvgPool2d's rows without padding), in every pass alike. */
static inline ix ix_row(LLVMValueRef v, int64_t extent) {
    ix r = {v, true, 0, 0, 0, extent - 1, NULL, 0, 0, 0, 0, false};
    return r;
}

static inline LLVMValueRef call_intrinsic(emitter *e, const char *name, LLVMTypeRef ty,
                                          LLVMValueRef *args, unsigned nargs) {
    return lc_build_intrinsic(e->b, e->mod, name, ty, args, nargs);
}

static inline LLVMValueRef unary_intrinsic(emitter *e, const char *name, LLVMValueRef x) {
    LLVMValueRef args[1] = {x};
    return call_intrinsic(e, name, LLVMTypeOf(x), args, 1);
}

/* The integer type of a float (or float vector) type's bits. */
static inline LLVMTypeRef bits_type(emitter *e, LLVMTypeRef fty) {
    bool vec = LLVMGetTypeKind(fty) == LLVMVectorTypeKind;
    LLVMTypeRef ety = vec ? LLVMGetElementType(fty) : fty;
    LLVMTypeRef ity = LLVMIntTypeInContext(e->ctx, LLVMGetTypeKind(ety) == LLVMDoubleTypeKind ? 64 : 32);
    return vec ? LLVMVectorType(ity, LLVMGetVectorSize(fty)) : ity;
}

/* The sign bit (sign) or the rest (!sign) of a float type's bits, as its bits type. */
static inline LLVMValueRef sign_mask(emitter *e, LLVMTypeRef fty, bool sign) {
    LLVMTypeRef ity = bits_type(e, fty);
    bool vec = LLVMGetTypeKind(fty) == LLVMVectorTypeKind;
    LLVMTypeRef ety = vec ? LLVMGetElementType(ity) : ity;
    unsigned long long top = LLVMGetIntTypeWidth(ety) == 64 ? 1ULL << 63 : 1ULL << 31;
    LLVMValueRef mask = LLVMConstInt(ety, sign ? top : top - 1, 0);
    if (!vec) return mask;
    LLVMValueRef lanes[64];
    unsigned n = LLVMGetVectorSize(fty);
    LC_ASSERT(n <= 64);
    for (unsigned i = 0; i < n; i++) lanes[i] = mask;
    return LLVMConstVector(lanes, n);
}

/* |v|: llvm.fabs, or, in the quick tier's edges function, v's bits with the sign masked off
 * (the same bits). That function is made into code from the IR as emitted, by the fast
 * instruction selector, which takes neither llvm.fabs nor llvm.copysign: each sent its block
 * to SelectionDAG instead (about 0.8M instructions of the demo model's forward compile). */
static inline LLVMValueRef emit_fabs(emitter *e, LLVMValueRef v) {
    LLVMTypeRef fty = LLVMTypeOf(v);
    if (!e->edges_only) return lc_build_intrinsic(e->b, e->mod, "llvm.fabs", fty, &v, 1);
    LLVMValueRef bits = LLVMBuildAnd(e->b, LLVMBuildBitCast(e->b, v, bits_type(e, fty), ""), sign_mask(e, fty, false), "");
    return LLVMBuildBitCast(e->b, bits, fty, "");
}

/* v's magnitude with s's sign: llvm.copysign, or its bits in the edges function (emit_fabs). */
static inline LLVMValueRef emit_copysign(emitter *e, LLVMValueRef v, LLVMValueRef s) {
    LLVMTypeRef fty = LLVMTypeOf(v), ity = bits_type(e, fty);
    if (!e->edges_only) return lc_build_intrinsic(e->b, e->mod, "llvm.copysign", fty, (LLVMValueRef[]){v, s}, 2);
    LLVMValueRef mag = LLVMBuildAnd(e->b, LLVMBuildBitCast(e->b, v, ity, ""), sign_mask(e, fty, false), "");
    LLVMValueRef sign = LLVMBuildAnd(e->b, LLVMBuildBitCast(e->b, s, ity, ""), sign_mask(e, fty, true), "");
    return LLVMBuildBitCast(e->b, LLVMBuildOr(e->b, mag, sign, ""), fty, "");
}

static inline LLVMValueRef imul_c(emitter *e, LLVMValueRef a, int64_t c) {
    if (c == 1) return a;
    return LLVMBuildMul(e->b, a, LLVMConstInt(e->i64, (unsigned long long)c, 1), "");
}

/* a + b for index arithmetic, without the add where one is the constant 0 (the builder folds
 * only two constants; the quick tier's edges function is made from the IR as emitted, one
 * instruction at a time) */
static inline LLVMValueRef iadd(emitter *e, LLVMValueRef a, LLVMValueRef b) {
    if (LLVMIsAConstantInt(b) && LLVMConstIntGetSExtValue(b) == 0) return a;
    if (LLVMIsAConstantInt(a) && LLVMConstIntGetSExtValue(a) == 0) return b;
    return LLVMBuildAdd(e->b, a, b, "");
}

static inline LLVMValueRef iadd_c(emitter *e, LLVMValueRef a, int64_t c) {
    if (c == 0) return a;
    return LLVMBuildAdd(e->b, a, LLVMConstInt(e->i64, (unsigned long long)c, 1), "");
}

static inline LLVMValueRef imin_c(emitter *e, LLVMValueRef a, int64_t c) {
    LLVMValueRef cv = LLVMConstInt(e->i64, (unsigned long long)c, 1);
    return LLVMBuildSelect(e->b, LLVMBuildICmp(e->b, LLVMIntSLT, a, cv, ""), a, cv, "");
}

static inline LLVMValueRef imax_c(emitter *e, LLVMValueRef a, int64_t c) {
    LLVMValueRef cv = LLVMConstInt(e->i64, (unsigned long long)c, 1);
    return LLVMBuildSelect(e->b, LLVMBuildICmp(e->b, LLVMIntSGT, a, cv, ""), a, cv, "");
}

static inline int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
static inline int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }

static inline LLVMValueRef smin(emitter *e, LLVMValueRef a, LLVMValueRef b) {
    return LLVMBuildSelect(e->b, LLVMBuildICmp(e->b, LLVMIntSLT, a, b, ""), a, b, "");
}
static inline LLVMValueRef smax(emitter *e, LLVMValueRef a, LLVMValueRef b) {
    return LLVMBuildSelect(e->b, LLVMBuildICmp(e->b, LLVMIntSGT, a, b, ""), a, b, "");
}

/* 0 <= v < len, as an i1. */
static inline LLVMValueRef in_range(emitter *e, LLVMValueRef v, int64_t len) {
    return LLVMBuildAnd(e->b, LLVMBuildICmp(e->b, LLVMIntSGE, v, LLVMConstInt(e->i64, 0, 0), ""),
                        LLVMBuildICmp(e->b, LLVMIntSLT, v, LLVMConstInt(e->i64, (unsigned long long)len, 1), ""),
                        "");
}

/* emit_index.c: record that position `p` must lie in [0, len) and say whether the check can be
 * skipped in the current mode; the linear offset of an index; a load at an index of `base`,
 * which is slot `slot`'s buffer (its accesses are tagged with the slot's alias scopes) or,
 * with slot -1, a constant array. lc_emit_tag_access tags a load or store of slot `slot`. */
bool lc_emit_check_elided(emitter *e, const ix *p, int64_t len);
/* Whether p's check holds for every i in [ilo, ihi] (false where the range is empty), which
 * narrows no interior: a window read through a guard (lc_schedule.guard_windows) takes none
 * where it holds on every block of the row. */
bool lc_emit_check_holds(const ix *p, int64_t len, int64_t ilo, int64_t ihi);

/* LUCID_CHECK_BOUNDS, read once per process: true when it is "1". */
bool lc_codegen_check_bounds(void);
LLVMValueRef lc_emit_guard_index(emitter *e, LLVMValueRef lin, int slot, const lc_shape *s, int64_t width);
LLVMValueRef lc_emit_linear_index(emitter *e, int slot, const lc_shape *s, const ix *idx);
LLVMValueRef lc_emit_load(emitter *e, LLVMValueRef base, int slot, lc_dtype dt, const lc_shape *s,
                          const ix *idx);
void lc_emit_tag_access(emitter *e, LLVMValueRef inst, int slot);
/* Element `lin` of slot `slot`'s buffer (shape s) at `base`: one scalar load of type ty, checked
 * under LUCID_CHECK_BOUNDS and tagged with the slot's alias scopes. */
LLVMValueRef lc_emit_load_element(emitter *e, LLVMTypeRef ty, LLVMValueRef base, LLVMValueRef lin, int slot,
                                  const lc_shape *s);
/* emit_kernel.c: `load`, logged by the vectorized loop being emitted (emitter.carry), is a slot
 * carried across the row's edge (lc_schedule.carry_edge): its first value is loaded checked
 * against [0, len), `pad` outside. */
void lc_emit_carry_edge(emitter *e, LLVMValueRef load, LLVMValueRef pad, int64_t len);
/* Store v at element offset `off` of slot `slot`'s buffer (of v's type), tagged likewise. */
void lc_emit_store(emitter *e, int slot, LLVMValueRef off, LLVMValueRef v);
/* The same at offset `off` from `base`, a pointer into that buffer (a non-temporal kernel's
 * line boundary, emitter.nt_base). */
void lc_emit_store_at(emitter *e, int slot, LLVMValueRef base, LLVMValueRef off, LLVMValueRef v);

/* Forget the rows remembered so far (emitter.row_memo). */
static inline void lc_emit_forget_rows(emitter *e) {
    e->row_memo_n = 0;
    e->row_memo_next = 0;
}

/* Forget the LP windows' values and the rows remembered so far (emitter.window_memo,
 * .root_memo, .row_memo): a new body, or a function's blocks freed. */
static inline void lc_emit_forget_windows(emitter *e) {
    e->window_memo_n = 0;
    e->root_memo_n = 0;
    lc_emit_forget_rows(e);
}

/* emit_pow.c: the Newton steps of an LP root of x (lc_vmath_root_newton), emitted once per x
 * and block (emitter.root_memo). */
lc_vmath_root_steps lc_emit_root_steps(emitter *e, LLVMValueRef x, int m, int k);
/* emit_pow.c: x^p, specialised by p; `zero_pole`: 0 where x = 0 and p < 0. */
LLVMValueRef lc_emit_pow(emitter *e, LLVMValueRef x, double p, bool zero_pole, lc_dtype dt);
/* Whether lc_emit_pow takes x^p by exp2(p·log2|x|), whose result flushes to 0 below the
 * normal range (below 2^-125 in float32, 2^-1021 in float64), rather than by multiplies and a
 * square root (whose last multiply rounds into the subnormals as IEEE does) or a limit. */
bool lc_pow_by_exp2(double p, lc_dtype dt);
/* x^p (p > 0) in the form fuse chose for a flagged LP norm's plain form (lc_lp_pow_form). */
LLVMValueRef lc_emit_lp_pow(emitter *e, LLVMValueRef x, double p, lc_lp_pow_form form, lc_short_pow_poly poly,
                            lc_dtype dt);

/* emit_reduce.c: a reduction over j = 0 .. n-1 carrying `nacc` accumulators of type `ty`,
 * unrolled or as vector partial sums as fuse scheduled it (lc_reduction_schedule).
 * `terms` emits the values at position j, one per accumulator; `accumulate` folds them in
 * (acc[a] = acc[a] op t[a]) and must work lane by lane on vectors too. `acc` holds each
 * accumulator's identity on entry and the result on return. See emit_reduce.c for the
 * order terms are combined in. */
#define LC_EMIT_MAX_ACC 4 /* at least LC_TILE_COLS_MAX */
_Static_assert(LC_EMIT_MAX_ACC <= sizeof(((emitter *)0)->pass_buf[0]) / sizeof(LLVMValueRef),
               "emitter.pass_buf holds every accumulator");
typedef struct lc_reducer {
    int nacc;
    void (*terms)(emitter *e, void *ctx, ix j, LLVMValueRef *t);
    void (*accumulate)(emitter *e, LLVMValueRef *acc, const LLVMValueRef *t);
    void *ctx;
    /* Optional: accumulator a's term alone. Vector partial sums then pack one accumulator's
     * lanes after another, so the code of each lies together (a column tile's sums: the SLP
     * vectorizer packed the lanes of interleaved accumulators only in part). */
    LLVMValueRef (*term_of)(emitter *e, void *ctx, int a, ix j);
    /* Optional, for the unrolled form (terms in order from the first): the accumulators
     * start as the first term's values, and each later term is combined by this instead of
     * `accumulate`. A first-maximum search needs its tie test only against its start (any
     * first term wins it) and never after, where each term's index is the highest yet. */
    void (*after_first)(emitter *e, LLVMValueRef *acc, const LLVMValueRef *t);
} lc_reducer;
void lc_emit_reduce(emitter *e, LLVMTypeRef ty, int64_t n, const lc_reduction_schedule *rs,
                    const lc_reducer *r, LLVMValueRef *acc);
/* One step of the unrolled form: term j folded into acc as lc_emit_reduce's unrolled order
 * folds it (a row pass's term, emit_expr.c). */
void lc_emit_reduce_term(emitter *e, const lc_reducer *r, int64_t j, LLVMValueRef *acc);
/* emit_loop.c: loop hints on a loop's latch branch; `scalar`: neither vectorized nor
 * unrolled by LLVM (a loop fuse chose over unrolling stays one). */
void lc_emit_loop_hints(emitter *e, LLVMValueRef latch, bool scalar);
/* A counted loop over an i64 index i from `from` (emit_loop.c), in one of two shapes:
 *  - for (i = from; i < to; i++): lc_loop_begin tests at the head, leaves the builder in the
 *    body and returns i; lc_loop_end closes it (with lc_emit_loop_hints, `scalar` as there)
 *    and leaves the builder at its exit. The kernels' loops over rows, blocks and elements.
 *  - do { } while ((i += step) < end), at least one trip: lc_loop_open makes the head and i,
 *    lc_loop_close the latch (a scalar loop: hints say so) and leaves the builder after it.
 *    The blocked sums' loops, whose trip counts are known positive. */
typedef struct lc_loop {
    LLVMBasicBlockRef pre, head, exit, latch;
    LLVMValueRef i, from;
} lc_loop;
LLVMValueRef lc_loop_begin(emitter *e, lc_loop *l, LLVMValueRef from, LLVMValueRef to, const char *name);
void lc_loop_end(emitter *e, lc_loop *l, bool scalar);
lc_loop lc_loop_open(emitter *e, LLVMValueRef from, const char *name);
void lc_loop_close(emitter *e, lc_loop *l, int64_t step, LLVMValueRef end);
/* A 64-byte aligned stack buffer of type ty made in the function's entry block (emit_loop.c):
 * a row pass's partial results, the blocked sums' lines. */
LLVMValueRef lc_emit_entry_alloca(emitter *e, LLVMTypeRef ty, const char *name);
/* v as a vector of e->vec lanes: a scalar splat, a vector as it is. */
LLVMValueRef lc_emit_splat(emitter *e, LLVMValueRef v);
/* The same over the terms j = from .. to-1 only (run-time bounds, few trips: a reduction fuse
 * scheduled with a span, kernel.h lc_span), one at a time in index order. */
void lc_emit_reduce_range(emitter *e, LLVMValueRef from, LLVMValueRef to, const lc_reducer *r,
                          LLVMValueRef *acc);

/* emit_expr.c: the value of node `node` at index `idx` (a load where it is materialized, else
 * computed inline), and the computation itself. */
LLVMValueRef lc_emit_value(emitter *e, int node, const ix *idx);
LLVMValueRef lc_emit_compute(emitter *e, int node, const ix *idx);

#endif
