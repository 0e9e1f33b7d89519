/* The kernel's loop nest: rows of the root's elements, the last axis innermost (the axis LLVM
 * vectorizes), split into checked edges and an unchecked interior; the window-major form of a
 * non-overlapping fold; the exported entry per kernel (and, in the quick tier, the function
 * its checked edges run in: emitter.edges_apart). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/DebugInfo.h> /* LLVMTemporaryMDNode, for loop metadata */

#include "codegen/carry_values.h"
#include "codegen/emit.h"
#include "codegen/emit_internal.h"
#include "codegen/nontemporal.h"
#include "codegen/stream_prefetch.h"
#include "support/error.h"
#include "support/int_math.h"

/* for i in [from, to): out[row_base + i] = value(root, (row idx..., i)) */
/* Window-major form of a fold whose windows do not overlap (step >= size): the loop runs over
 * windows o, and each trip writes the `step` positions o·step - pad_lo + j, j < step (0 where
 * j >= size). Per-window values are then contiguous loads, window slots interleaved loads
 * and stores, which vectorize; the element-major gather would read them through o = i/step. */
static bool window_major(const emitter *e) { return e->k->sched.order == LC_LOOP_WINDOWS; }

/* Steps per block (lc_schedule.block_steps; 1 where fuse set none). */
static int64_t block_steps(const emitter *e) { return e->k->sched.block_steps > 1 ? e->k->sched.block_steps : 1; }

/* Where block 0 starts, negated: block q is positions q·B - block_lo .. + B - 1, the fold's
 * pad_lo less the schedule's shift (lc_schedule.block_shift). */
static int64_t block_lo(const emitter *e, const lc_node *fold) {
    return lc_window_of(fold).pad_lo - e->k->sched.block_shift;
}

/* Blocks q of B = step·block_steps positions q·B - block_lo .. + B - 1 that start inside a row. */
static int64_t window_blocks(const emitter *e, const lc_node *fold) {
    lc_window w = lc_window_of(fold);
    w.step *= block_steps(e);
    w.pad_lo = block_lo(e, fold);
    return lc_window_blocks(fold->attr[LC_FOLD_LENGTH], &w);
}

/* Whether the kernel's blocks tile its rows past its last window, so that a block may have no
 * window to write (lc_schedule.whole_blocks with a co-root over overlapping windows). */
static bool co_root_past_windows(const emitter *e) {
    if (e->k->co_root < 0 || !e->k->sched.whole_blocks) return false;
    const lc_node *fold = lc_graph_node(e->f->graph, e->k->root);
    int64_t windows = lc_graph_node(e->f->graph, fold->inputs[0])->shape.dim[fold->shape.rank - 1];
    return windows < window_blocks(e, fold);
}

/* The co-root's value v at its element idx: from the vectorized loop's line where it streams
 * (stores_from_line), else at its linear index. A co-root of the root's shape
 * (lc_kernel.co_beside) is stored so at the root's element. */
static void store_co_root(emitter *e, const ix *idx, LLVMValueRef v) {
    const lc_node *co = lc_graph_node(e->f->graph, e->k->co_root);
    if (e->nt_trip && e->nt_co_base)
        lc_emit_store_at(e, e->k->co_slot, e->nt_co_base, e->nt_trip, v);
    else
        lc_emit_store(e, e->k->co_slot, lc_emit_linear_index(e, e->k->co_slot, &co->shape, idx), v);
}

/* co_root[row, o] = its value, into co_slot (see kernel.h). A co-root over rows
 * (lc_kernel.co_rows) is at row q = the root's row / co_rows: the tile's (emitter.co_tile_q),
 * or, in discovery, which emits one row alone, that quotient. */
static void emit_co_root(emitter *e, ix ox, const ix *row_idx, bool store) {
    const lc_node *co = lc_graph_node(e->f->graph, e->k->co_root);
    int rank = co->shape.rank;
    ix idx[LC_MAX_RANK];
    for (int d = 0; d + 1 < rank; d++) idx[d] = row_idx[d];
    if (e->k->co_rows > 1) {
        LC_ASSERT(rank >= 2 && !store == !e->co_tile_q);
        LLVMValueRef q = e->co_tile_q ? e->co_tile_q
                                      : LLVMBuildSDiv(e->b, row_idx[rank - 2].v,
                                                      LLVMConstInt(e->i64, (unsigned long long)e->k->co_rows, 1), "");
        idx[rank - 2] = ix_row(q, co->shape.dim[rank - 2]);
    }
    LLVMValueRef o = ox.v;
    idx[rank - 1] = ox;
    LLVMValueRef v = lc_emit_compute(e, e->k->co_root, idx);
    e->co_value = v;
    e->co_o = o;
    for (int d = 0; d < rank; d++) e->co_idx[d] = idx[d].v;
    if (store) store_co_root(e, idx, v);
}

/* In the element-major edges of a kernel with a co-root: position i writes window o's value
 * when it is that window's first position, so exactly one thread writes each window. */
static void emit_co_root_owner(emitter *e, LLVMValueRef i, const ix *row_idx, bool store) {
    const lc_node *fold = lc_graph_node(e->f->graph, e->k->root);
    lc_window w = lc_window_of(fold);
    int64_t step = w.step, lo = w.pad_lo;
    int64_t windows = lc_graph_node(e->f->graph, fold->inputs[0])->shape.dim[fold->shape.rank - 1];
    LLVMValueRef o = LLVMBuildSDiv(e->b, iadd_c(e, i, lo), LLVMConstInt(e->i64, (unsigned long long)step, 1), "");
    LLVMValueRef owner = imax_c(e, iadd_c(e, imul_c(e, o, step), -lo), 0);
    LLVMValueRef mine = LLVMBuildAnd(
        e->b, LLVMBuildICmp(e->b, LLVMIntEQ, i, owner, ""),
        LLVMBuildICmp(e->b, LLVMIntSLT, o, LLVMConstInt(e->i64, (unsigned long long)windows, 1), ""), "");
    LC_ASSERT(!e->defer_stores); /* a store in a branch: fuse tiles no such kernel */
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

/* Window o of `windows`: NULL where the check that o is one is elided, else the condition, with
 * o clamped into range. Clamped, o keeps its affine form (as an unfold's clamped position
 * does): the checks below it must record their interior in the checked pass too. A window
 * read through a guard (lc_schedule.guard_windows) narrows no interior: elided only where it
 * holds on every block of the row, and o left as it is where the target has masked loads
 * (emitter.load_guard), else clamped and marked so. */
static LLVMValueRef check_window(emitter *e, ix *o, int64_t windows) {
    bool guard = e->k->sched.guard_windows;
    if (guard ? lc_emit_check_holds(o, windows, 0, window_blocks(e, lc_graph_node(e->f->graph, e->k->root)) - 1)
              : lc_emit_check_elided(e, o, windows))
        return NULL;
    LLVMValueRef valid = in_range(e, o->v, windows);
    if (guard && e->masked_loads) return valid;
    o->v = imin_c(e, imax_c(e, o->v, 0), windows - 1);
    if (guard) o->clamped = true;
    return valid;
}

/* The positions of block q of a long window (LC_BLOCK_SLOT_LOOPS: step > LC_UNROLL_MAX and
 * size <= step, so ceil(size/step) = 1: the window q alone covers them) as loops rather than
 * unrolled: slot ph < size of window q, then
 * +0 in the gap up to step. `yi` holds the rows' indices; the inner loop runs along the
 * window's slots, so its loads and stores are contiguous and vectorize, while what depends
 * on the window only (the co-root, g[q]) stays outside it. Each value is +0 + term, as the
 * gather and the unrolled form add it. */
static void emit_window_phases(emitter *e, LLVMValueRef q, LLVMValueRef first, ix *yi, bool store) {
    const lc_node *root = lc_graph_node(e->f->graph, e->k->root);
    const lc_node *yn = lc_graph_node(e->f->graph, root->inputs[0]);
    int rank = root->shape.rank;
    lc_window w = lc_window_of(root);
    int64_t size = w.size, step = w.step;
    int64_t windows = yn->shape.dim[rank - 1];
    lc_dtype dt = root->dtype;
    LC_ASSERT(size <= step);
    ix o = {q, true, 1, 0, 0, 0, NULL, 0, 0, 0, 0, false};
    LLVMValueRef valid = check_window(e, &o, windows);
    lc_loop l;
    LLVMValueRef ph = lc_loop_begin(e, &l, LLVMConstInt(e->i64, 0, 0),
                                 LLVMConstInt(e->i64, (unsigned long long)size, 1), "slots");
    yi[rank - 1] = o;
    ix j = {ph, true, 0, 0, 0, size - 1, NULL, 0, 0, 0, 0, false};
    yi[rank] = j;
    LLVMValueRef v = lc_emit_value(e, root->inputs[0], yi);
    if (valid) v = LLVMBuildSelect(e->b, valid, v, real_const(e, dt, 0.0), "");
    v = LLVMBuildFAdd(e->b, real_const(e, dt, 0.0), v, "");
    if (store) lc_emit_store(e, e->k->dst_slot, iadd(e, first, ph), v);
    lc_loop_end(e, &l, false);
    if (size == step || !store) return;
    ph = lc_loop_begin(e, &l, LLVMConstInt(e->i64, (unsigned long long)size, 1),
                    LLVMConstInt(e->i64, (unsigned long long)step, 1), "gap");
    lc_emit_store(e, e->k->dst_slot, iadd(e, first, ph), real_const(e, dt, 0.0));
    lc_loop_end(e, &l, false);
}

static void emit_window_body(emitter *e, LLVMValueRef q, LLVMValueRef row_base, const ix *row_idx,
                             bool store) {
    const lc_node *root = lc_graph_node(e->f->graph, e->k->root);
    const lc_node *yn = lc_graph_node(e->f->graph, root->inputs[0]);
    int rank = root->shape.rank;
    lc_window w = lc_window_of(root);
    int64_t size = w.size, step = w.step, lo = block_lo(e, root), shift = e->k->sched.block_shift;
    int64_t windows = yn->shape.dim[rank - 1], count = lc_window_cover(&w);
    lc_dtype dt = root->dtype;
    int64_t steps = block_steps(e);
    LC_ASSERT(w.dilation == 1); /* fuse keeps dilated folds element-major */
    /* several steps per block: unrolled blocks without a co-root (fuse's schedule_block_steps) */
    LC_ASSERT(steps == 1 || (e->k->co_root < 0 && e->k->sched.block == LC_BLOCK_UNROLLED));
    /* shifted blocks: one step, unrolled, no co-root (fuse's fill_kernel) */
    LC_ASSERT(shift == 0 || (steps == 1 && e->k->co_root < 0 && e->k->sched.block == LC_BLOCK_UNROLLED));
    e->aff_i = q;
    /* a block reads a node at one index from several of its windows, or from a window's value
     * and its positions'; the rows of a co-root's tile read what the co-root read (its
     * windows' rows), so there the memo and the co-root's value last through the tile
     * (emit_inner_body clears them) */
    bool co_tile = e->co_tile_q != NULL;
    bool first_row = !co_tile || e->tile_row == 0;
    e->memo_on = true;
    if (first_row) {
        e->memo_n = 0;
        lc_emit_forget_windows(e);
    }
    ix yi[LC_MAX_RANK + 1];
    for (int d = 0; d + 1 < rank; d++) yi[d] = row_idx[d];
    if (e->k->co_root >= 0 && e->co_guard) {
        /* a block past the last window writes none (emit_internal.h, co_guard) */
        LC_ASSERT(!e->defer_stores); /* a store in a branch: fuse tiles no such kernel */
        LLVMBasicBlockRef yes = LLVMAppendBasicBlockInContext(e->ctx, e->fn, "co.write");
        LLVMBasicBlockRef after = LLVMAppendBasicBlockInContext(e->ctx, e->fn, "co.end");
        LLVMBuildCondBr(e->b, LLVMBuildICmp(e->b, LLVMIntSLT, q, LLVMConstInt(e->i64, (unsigned long long)windows, 1), ""),
                        yes, after);
        LLVMPositionBuilderAtEnd(e->b, yes);
        emit_co_root(e, ix_opaque(q), row_idx, store);
        e->co_value = e->co_o = NULL; /* computed in a branch: does not dominate what follows */
        LLVMBuildBr(e->b, after);
        LLVMPositionBuilderAtEnd(e->b, after);
    } else if (e->k->co_root >= 0 && first_row) {
        /* a co-root over rows: once per tile, from its first row's body */
        ix qx = {q, true, 1, 0, 0, 0, NULL, 0, 0, 0, 0, false}; /* window q: the loop index itself */
        emit_co_root(e, qx, row_idx, store);
    }
    /* the rows' other indices are the same for every slot of this body */
    LLVMValueRef first = iadd_c(e, iadd(e, row_base, imul_c(e, q, step * steps)), -lo);
    if (e->k->sched.block == LC_BLOCK_SLOT_LOOPS) {
        LC_ASSERT(!co_tile); /* fuse tiles unrolled blocks only */
        emit_window_phases(e, q, first, yi, store);
        e->co_value = e->co_o = NULL;
        e->memo_on = false;
        e->memo_n = 0;
        return;
    }
    for (int64_t ph = 0; ph < step * steps; ph++) {
        /* position q·B + ph - lo (B = step·steps), t = ph + shift positions into the padded
         * windows' block q, in step s = t / step of it: windows o = q·steps + s - m cover it at
         * slot t % step + m·step; summed from the lowest window up, starting from +0, exactly
         * as the element-major gather does, so both forms give the same bits however the
         * range is split and wherever the blocks start */
        LLVMValueRef acc = real_const(e, dt, 0.0);
        int64_t t = ph + shift, s = t / step;
        for (int64_t m = count - 1; m >= 0; m--) {
            int64_t j = t % step + m * step;
            if (j >= size) continue; /* adds +0 there: acc, never -0, is unchanged */
            ix o = {iadd_c(e, imul_c(e, q, steps), s - m), true, steps, s - m, 0, 0, NULL, 0, 0, 0, 0, false};
            LLVMValueRef valid = check_window(e, &o, windows);
            yi[rank - 1] = o;
            yi[rank] = ix_const(e, j);
            if (e->k->sched.guard_windows && e->masked_loads) e->load_guard = valid;
            LLVMValueRef v = lc_emit_value(e, root->inputs[0], yi);
            e->load_guard = NULL;
            if (valid) v = LLVMBuildSelect(e->b, valid, v, real_const(e, dt, 0.0), "");
            acc = LLVMBuildFAdd(e->b, acc, v, "");
        }
        if (!store) continue; /* a dry run that only collects bounds checks */
        e->store_phase = step * steps > 1 && e->k->sched.tile_rows == 1 ? (int)ph : -1;
        if (e->nt_trip) /* from the vectorized loop's line (stores_from_line) */
            lc_emit_store_at(e, e->k->dst_slot, e->nt_base, iadd_c(e, imul_c(e, e->nt_trip, step * steps), ph), acc);
        else
            lc_emit_store(e, e->k->dst_slot, iadd_c(e, first, ph), acc);
        e->store_phase = -1;
    }
    if (co_tile) return;
    e->co_value = e->co_o = NULL;
    e->memo_on = false;
    e->memo_n = 0;
}

static void emit_row_body(emitter *e, LLVMValueRef i, LLVMValueRef row_base, const ix *row_idx,
                          bool window) {
    const lc_node *root = lc_graph_node(e->f->graph, e->k->root);
    int rank = root->shape.rank;
    if (window) {
        emit_window_body(e, i, row_base, row_idx, true);
        return;
    }
    lc_emit_forget_windows(e);
    /* a position reads a node at one index from several windows, a window's value beside
     * the terms it is made of, and a co-root beside what the root reads (a max pool's chosen
     * slots search y's row maxima again, which LLVM, merging their loads only after
     * vectorizing, left computed twice) */
    e->memo_on = true;
    e->memo_n = 0;
    ix idx[LC_MAX_RANK];
    for (int d = 0; d + 1 < rank; d++) idx[d] = row_idx[d];
    if (rank > 0) {
        ix ii = {i, true, 1, 0, 0, 0, NULL, 0, 0, 0, 0, false};
        idx[rank - 1] = ii;
    }
    e->aff_i = i;
    e->pass_i = e->row_pass > 0 ? i : NULL;
    bool from_co = e->k->sched.root_from_co_search;
    if (e->row_pass > 0 && e->row_pass < e->k->sched.row_passes) {
        /* a row pass before the last: the root (and a co-root beside it) as in the last, of
         * which only the reductions' partial results are kept (emit_row_pass stores them; what
         * follows is dead code, its flags not raised, and nothing is stored here) */
        bool co = e->k->sched.row_pass_co_node >= 0;
        LC_ASSERT(e->pass_stored == 0 && (e->k->co_root < 0 || (e->k->co_beside && co)));
        if (!from_co) lc_emit_compute(e, e->k->root, idx); /* else the co-root's partials are the root's */
        if (co) lc_emit_compute(e, e->k->co_root, idx);
        LC_ASSERT(e->pass_stored == (from_co ? 0 : 1) + (co ? 1 : 0));
        e->pass_stored = 0;
        e->pass_i = NULL;
        e->memo_on = false;
        e->memo_n = 0;
        return;
    }
    if (e->k->co_root >= 0 && !e->k->co_beside) emit_co_root_owner(e, i, row_idx, true);
    /* both computed before either is stored: no store then stands between the loads the two
     * read alike, which early CSE merges with what they compute */
    LLVMValueRef v, co = NULL;
    if (from_co) { /* the co-root's search first, its running maximum the root */
        e->co_maximum = NULL;
        co = lc_emit_compute(e, e->k->co_root, idx);
        v = e->co_maximum;
        LC_ASSERT(v);
        e->co_maximum = NULL;
    } else {
        v = lc_emit_compute(e, e->k->root, idx);
        co = e->k->co_beside ? lc_emit_compute(e, e->k->co_root, idx) : NULL;
    }
    if (e->nt_trip) /* from the vectorized loop's line (stores_from_line) */
        lc_emit_store_at(e, e->k->dst_slot, e->nt_base, e->nt_trip, v);
    else
        lc_emit_store(e, e->k->dst_slot, iadd(e, row_base, i), v);
    if (co) store_co_root(e, idx, co);
    e->pass_i = NULL;
    e->memo_on = false;
    e->memo_n = 0;
}

/* `base` as a pointer LLVM cannot trace back to it: an empty inline asm passes on
 * base + `shift` bytes, and the result is moved back by `shift` (so it is the same address).
 * The rows of a tile store through such pointers, one per row, which LLVM's loop vectorizer
 * then sees as different objects (told apart by their alias scopes) instead of offsets into
 * one whose distance it failed to bound ("unknown data dependence": the tiled loop stayed
 * scalar). The asm has no side effect and emits no instruction; it runs once, in the
 * kernel's entry (make_row_pointers). */
static LLVMValueRef row_pointer(emitter *e, LLVMValueRef base, int64_t shift) {
    LLVMTypeRef ty = LLVMInt8TypeInContext(e->ctx);
    LLVMValueRef fwd = LLVMConstInt(e->i64, (unsigned long long)shift, 1);
    LLVMValueRef back = LLVMConstInt(e->i64, (unsigned long long)-shift, 1);
    LLVMValueRef p = LLVMBuildGEP2(e->b, ty, base, &fwd, 1, "");
    LLVMTypeRef fty = LLVMFunctionType(e->ptr, &e->ptr, 1, 0);
    LLVMValueRef asm_fn = LLVMGetInlineAsm(fty, "", 0, "=r,0", 4, false, false, LLVMInlineAsmDialectATT, false);
    p = LLVMBuildCall2(e->b, fty, asm_fn, &p, 1, "row.ptr");
    return LLVMBuildGEP2(e->b, ty, p, &back, 1, "");
}

/* The written slots' pointers per row of the tile (row_pointer), made in the kernel's entry
 * block so they dominate every loop. */
static void make_row_pointers(emitter *e) {
    const lc_node *root = lc_graph_node(e->f->graph, e->k->root);
    int written[2] = {e->k->dst_slot, e->k->co_slot};
    int64_t row_len[2] = {lc_fused_row_pitch(e->f, e->k->dst_slot, &root->shape), 0};
    lc_dtype dtype[2] = {root->dtype, root->dtype};
    if (e->k->co_root >= 0) {
        const lc_node *co = lc_graph_node(e->f->graph, e->k->co_root);
        row_len[1] = lc_fused_row_pitch(e->f, e->k->co_slot, &co->shape);
        dtype[1] = co->dtype; /* each buffer's rows in its own element's bytes */
    }
    for (int w = 0; w < 2; w++)
        for (int t = 0; t < e->k->sched.tile_rows; t++)
            e->row_ptr[w][t] = written[w] < 0 ? NULL
                                              : row_pointer(e, e->slot_ptr[written[w]],
                                                            t * row_len[w] * lc_fused_elem_bytes(e->f, written[w], dtype[w]));
}

/* Position (or block) i of each row of the tile (lc_schedule.tile_rows): row t is the
 * tile's first row with index t added on the axis before the last (a tile never crosses that
 * axis: its extent is a multiple of the tile, and tiles start at multiples of it), at
 * row_base + t·pitch (the written buffer's row pitch). Each row's value is emitted as on its
 * own, in row order, so it has the same bits as untiled; LLVM shares what the rows read alike. */
static void emit_inner_body(emitter *e, LLVMValueRef i, LLVMValueRef row_base, const ix *row_idx,
                            bool window) {
    const lc_node *root = lc_graph_node(e->f->graph, e->k->root);
    int rank = root->shape.rank, tile = e->k->sched.tile_rows;
    if (tile == 1) {
        emit_row_body(e, i, row_base, row_idx, window);
        return;
    }
    LC_ASSERT(rank >= 2 && root->shape.dim[rank - 2] % tile == 0);
    int64_t pitch = lc_fused_row_pitch(e->f, e->k->dst_slot, &root->shape); /* row t starts t rows on */
    int written[2] = {e->k->dst_slot, e->k->co_slot};
    LLVMValueRef saved[2] = {e->slot_ptr[written[0]], written[1] >= 0 ? e->slot_ptr[written[1]] : NULL};
    e->defer_stores = true;
    e->n_deferred = 0;
    /* a co-root over rows (lc_kernel.co_rows): the tile is one row of its windows, q; its rows
     * are q·tile + t, built from q so that everything indexed by them is too (emitter.co_tile_q) */
    bool co_tile = e->k->co_rows > 1;
    if (co_tile) {
        LC_ASSERT(window && e->k->co_rows == tile && e->k->sched.whole_blocks && e->k->co_root >= 0 &&
                  !e->k->co_beside);
        LLVMValueRef tv = LLVMConstInt(e->i64, (unsigned long long)tile, 1);
        e->co_tile_q = LLVMBuildExactSDiv(e->b, row_idx[rank - 2].v, tv, "tile.q"); /* tiles start at multiples */
        for (int t = 0; t < tile; t++)
            e->co_tile_row[t] = LLVMBuildNSWAdd(e->b, LLVMBuildNSWMul(e->b, e->co_tile_q, tv, ""),
                                                LLVMConstInt(e->i64, (unsigned long long)t, 1), "tile.row");
    }
    for (int t = 0; t < tile; t++) {
        ix idx[LC_MAX_RANK];
        for (int d = 0; d + 1 < rank; d++) idx[d] = row_idx[d];
        idx[rank - 2] = co_tile ? ix_row(e->co_tile_row[t], root->shape.dim[rank - 2])
                                : ix_opaque(iadd_c(e, row_idx[rank - 2].v, t));
        e->tile_row = t;
        for (int w = 0; w < 2; w++)
            if (saved[w]) e->slot_ptr[written[w]] = e->row_ptr[w][t];
        if (e->nt_trip) e->nt_base = e->nt_base_row[t]; /* the row's line (stores_from_line) */
        emit_row_body(e, i, iadd_c(e, row_base, t * pitch), idx, window);
    }
    if (e->nt_trip) e->nt_base = e->nt_base_row[0];
    if (co_tile) {
        e->co_tile_q = NULL;
        e->co_value = e->co_o = NULL;
        e->memo_on = false;
        e->memo_n = 0;
    }
    e->defer_stores = false;
    for (int k = 0; k < e->n_deferred; k++) {
        int slot = e->deferred[k].slot;
        e->tile_row = e->deferred[k].row;
        e->slot_ptr[slot] = e->row_ptr[slot == written[0] ? 0 : 1][e->tile_row];
        lc_emit_store_at(e, slot, e->deferred[k].base, e->deferred[k].off, e->deferred[k].v);
    }
    for (int w = 0; w < 2; w++)
        if (saved[w]) e->slot_ptr[written[w]] = saved[w];
    e->tile_row = -1;
}

/* What i runs over in an element loop: the root's last axis (window loops: not tracked). */
static void set_index_range(emitter *e, bool window) {
    const lc_node *root = lc_graph_node(e->f->graph, e->k->root);
    int rank = root->shape.rank;
    e->all_lo = 0;
    e->all_hi = window || rank == 0 ? -1 : root->shape.dim[rank - 1] - 1;
}

/* A row of a column-tiled kernel (lc_schedule.tile_cols: the row is the tile, and the outer
 * range splits at whole rows), its positions at constant indices, so each position's checks
 * are decided for it alone; the tiled reduction's sums for all of them run in one loop
 * (emit_expr.c, emit_col_tiled_sum), and the stores follow the row's loads. */
static void emit_col_tile(emitter *e, LLVMValueRef row_base, const ix *row_idx, int64_t last) {
    const lc_node *root = lc_graph_node(e->f->graph, e->k->root);
    int rank = root->shape.rank, tile = e->k->sched.tile_cols;
    LC_ASSERT(tile == last && tile <= LC_TILE_COLS_MAX && e->k->align % last == 0 && e->k->co_root < 0 && !e->edges_only &&
              !e->k->sched.fixup && e->k->sched.tile_rows == 1 && e->k->sched.order == LC_LOOP_ELEMENTS);
    set_index_range(e, false);
    e->checked = true;
    e->careful = false;
    e->flag_ptr = NULL;
    e->col_ready = false;
    lc_emit_forget_windows(e);
    LLVMValueRef v[LC_TILE_COLS_MAX];
    for (int t = 0; t < tile; t++) {
        ix idx[LC_MAX_RANK];
        for (int d = 0; d + 1 < rank; d++) idx[d] = row_idx[d];
        idx[rank - 1] = ix_const(e, t);
        e->col_member = t;
        v[t] = lc_emit_compute(e, e->k->root, idx);
    }
    e->col_member = -1;
    LC_ASSERT(e->col_ready); /* every position reached the tiled reduction (fuse's col_walk) */
    e->col_ready = false;
    for (int t = 0; t < tile; t++) lc_emit_store(e, e->k->dst_slot, iadd_c(e, row_base, t), v[t]);
}

/* lc_schedule.carry_loads: a load of the vectorized loop's trip i that trip i - 1 also made
 * (slot j + step/dilation there is slot j here) becomes a recurrence: a phi at the loop's
 * head, its first value loaded before the loop (which is entered only when it runs a trip),
 * then the previous trip's load, which is moved to the top of the body so that it comes before
 * every use of the phi (LLVM vectorizes such a first-order recurrence as a shift of lanes). The
 * addresses are the same, so are the values. */
static bool in_loop(const lc_loop *l, LLVMBasicBlockRef bb) {
    for (LLVMBasicBlockRef x = l->head; x; x = LLVMGetNextBasicBlock(x))
        if (x == bb) return true;
    return false;
}

/* v can be computed again outside the loop's body: integer arithmetic on values from outside
 * the loop and the loop's index. */
static bool recomputable(const lc_loop *l, LLVMValueRef v, int depth) {
    if (v == l->i || !LLVMIsAInstruction(v) || !in_loop(l, LLVMGetInstructionParent(v))) return true;
    if (depth > 32 || LLVMIsAPHINode(v) || LLVMIsALoadInst(v) || LLVMIsACallInst(v) || LLVMIsAStoreInst(v))
        return false;
    for (int k = 0; k < LLVMGetNumOperands(v); k++)
        if (!recomputable(l, LLVMGetOperand(v, k), depth + 1)) return false;
    return true;
}

/* v computed at the builder's position with the loop index taken as `i` (recomputable). */
static LLVMValueRef recompute(emitter *e, const lc_loop *l, LLVMValueRef v, LLVMValueRef i) {
    if (v == l->i) return i;
    if (!LLVMIsAInstruction(v) || !in_loop(l, LLVMGetInstructionParent(v))) return v;
    LLVMValueRef c = LLVMInstructionClone(v);
    for (int k = 0; k < LLVMGetNumOperands(v); k++) LLVMSetOperand(c, (unsigned)k, recompute(e, l, LLVMGetOperand(v, k), i));
    LLVMInsertIntoBuilder(e->b, c);
    return c;
}

/* Log entry n's load at the builder's position, from the indices `dims` (before the last) and
 * `last`; an entry carried across the row's edge (edge_pad) is read checked: its index
 * clamped into the row, the padding's value where it was outside. */
static LLVMValueRef load_entry(emitter *e, const carry_log *c, int n, LLVMValueRef const *dims, LLVMValueRef last) {
    const lc_shape *s = c->e[n].shape;
    ix idx[LC_MAX_RANK];
    for (int d = 0; d + 1 < s->rank; d++) idx[d] = ix_opaque(dims[d]);
    LLVMValueRef valid = NULL;
    if (c->e[n].edge_pad) {
        valid = in_range(e, last, c->e[n].edge_len);
        last = imin_c(e, imax_c(e, last, 0), c->e[n].edge_len - 1);
    }
    idx[s->rank - 1] = ix_opaque(last);
    LLVMValueRef v = lc_emit_load_element(e, LLVMTypeOf(c->e[n].load), c->e[n].base,
                                          lc_emit_linear_index(e, c->e[n].slot, s, idx), c->e[n].slot, s);
    LLVMSetValueName2(v, "carried", 7);
    return valid ? LLVMBuildSelect(e->b, valid, v, c->e[n].edge_pad, "") : v;
}

/* Log entry n's load, at the builder's position, with the loop index `i`. */
static LLVMValueRef carried_load(emitter *e, const lc_loop *l, const carry_log *c, int n, LLVMValueRef i) {
    LLVMValueRef dims[LC_MAX_RANK];
    for (int d = 0; d + 1 < c->e[n].shape->rank; d++)
        dims[d] = c->e[n].dims[d] ? recompute(e, l, c->e[n].dims[d], i) : NULL;
    /* the index as emitted, with the loop's index replaced (any clamp on it stays) */
    return load_entry(e, c, n, dims, recompute(e, l, c->e[n].last, i));
}

void lc_emit_carry_edge(emitter *e, LLVMValueRef load, LLVMValueRef pad, int64_t len) {
    carry_log *c = e->carry;
    int n = 0;
    while (n < c->n && c->e[n].load != load) n++;
    LC_ASSERT(n < c->n); /* a load of the trip, logged (emit_expr.c checks the conditions) */
    c->e[n].edge_pad = pad;
    c->e[n].edge_len = len;
}

static bool same_row(const carry_log *c, int a, int b) {
    if (c->e[a].slot != c->e[b].slot || c->e[a].rank != c->e[b].rank || c->e[a].ci != c->e[b].ci) return false;
    for (int d = 0; d + 1 < c->e[a].rank; d++)
        if (c->e[a].dims[d] != c->e[b].dims[d]) return false;
    return true;
}

static void carry_loads(emitter *e, const lc_loop *l, LLVMBasicBlockRef body, carry_log *c, LLVMValueRef from) {
    bool replaced[LC_CARRY_LOG_MAX] = {0}, kept[LC_CARRY_LOG_MAX] = {0};
    e->row_memo_off = true; /* the builder goes back before code of the body */
    /* the slots carried across the row's edge first: their loads are unchecked in the body,
     * so each must become a recurrence, whose next value (slot j + step/dilation, an ordinary
     * load) no other entry has taken yet */
    for (int pass = 0; pass < 2; pass++)
    for (int a = 0; a < c->n; a++) {
        if ((c->e[a].edge_pad != NULL) != (pass == 0) || kept[a]) continue;
        int b = -1;
        for (int x = 0; x < c->n && b < 0; x++)
            if (x != a && !replaced[x] && same_row(c, a, x) && c->e[x].k == c->e[a].k + c->e[a].ci) b = x;
        if (b < 0) continue;
        bool ok = recomputable(l, c->e[a].last, 0) && recomputable(l, c->e[b].last, 0);
        for (int d = 0; d + 1 < c->e[a].rank; d++)
            ok = ok && (!c->e[a].dims[d] || recomputable(l, c->e[a].dims[d], 0));
        if (!ok) continue;
        /* the previous trip's value: b's load, moved to the top of the body */
        LLVMPositionBuilderBefore(e->b, LLVMGetFirstInstruction(body));
        LLVMValueRef next = carried_load(e, l, c, b, l->i);
        LLVMReplaceAllUsesWith(c->e[b].load, next);
        LLVMInstructionEraseFromParent(c->e[b].load);
        c->e[b].load = next;
        /* the first trip's value, loaded before the loop */
        LLVMPositionBuilderBefore(e->b, LLVMGetBasicBlockTerminator(l->pre));
        LLVMValueRef first = carried_load(e, l, c, a, from);
        LLVMValueRef at = LLVMGetFirstInstruction(l->head);
        while (at && LLVMIsAPHINode(at)) at = LLVMGetNextInstruction(at);
        LLVMPositionBuilderBefore(e->b, at);
        LLVMValueRef phi = LLVMBuildPhi(e->b, LLVMTypeOf(first), "carry");
        LLVMBasicBlockRef pre = l->pre, latch = l->latch;
        LLVMAddIncoming(phi, &first, &pre, 1);
        LLVMAddIncoming(phi, &next, &latch, 1);
        LLVMReplaceAllUsesWith(c->e[a].load, phi);
        LLVMInstructionEraseFromParent(c->e[a].load);
        replaced[a] = true;
        kept[b] = true;
    }
    /* a slot carried across the edge that found no load to carry it from (never so far):
     * read in place, checked, so nothing is read at an unchecked index */
    for (int a = 0; a < c->n; a++) {
        if (!c->e[a].edge_pad || replaced[a]) continue;
        LLVMPositionBuilderBefore(e->b, c->e[a].load);
        LLVMValueRef v = load_entry(e, c, a, c->e[a].dims, c->e[a].last);
        LLVMReplaceAllUsesWith(c->e[a].load, v);
        LLVMInstructionEraseFromParent(c->e[a].load);
    }
    e->row_memo_off = false;
    lc_emit_forget_rows(e);
}

/* A loop over [from, to). A scalar loop (the checked edges, the fix-up) takes, in a kernel with
 * flagged LP norms or rescued window sums (lc_schedule.fixup), the fix-up's form. A vectorized
 * one takes the plain form and ORs each window's "not accurate" into the kernel's flag slot,
 * cleared here; the row's scalar loop (emit_scalar_loop) then redoes the range when some window
 * was flagged. */
static void emit_one_loop(emitter *e, LLVMValueRef from, LLVMValueRef to, LLVMValueRef row_base,
                          const ix *row_idx, bool checked, bool window, bool scalar) {
    if (e->edges_only && !scalar) return; /* the kernel's function runs it */
    /* the common form flags in every loop (its flag is cleared once, at the kernel's entry,
     * and returned); the fix-up form flags in the vectorized loop only, per row */
    bool redo = e->k->sched.fixup && e->fixup_form;
    bool flagged = e->k->sched.fixup && (!scalar || !e->fixup_form);
    set_index_range(e, window);
    bool carry = e->k->sched.carry_loads && !scalar && !checked && !window;
    /* lc_schedule.carry_windows: the quick tier keeps its compile short and its loops scalar */
    bool carry_values = e->k->sched.carry_windows && !e->quick && !scalar && !checked && window;
    LLVMBasicBlockRef after = NULL;
    carry_log *log = NULL;
    if (carry || carry_values) {
        /* entered only when it runs a trip: the carried loads' first values are loaded before it,
         * and a carried window's first values computed there (carry_values.c) */
        LLVMBasicBlockRef ph = LLVMAppendBasicBlockInContext(e->ctx, e->fn, "carry.ph");
        after = LLVMAppendBasicBlockInContext(e->ctx, e->fn, "carry.end");
        LLVMBuildCondBr(e->b, LLVMBuildICmp(e->b, LLVMIntSLT, from, to, ""), ph, after);
        LLVMPositionBuilderAtEnd(e->b, ph);
        if (carry) {
            log = &e->carry_buf;
            log->n = 0;
        }
    }
    /* The vectorized loop of a non-temporal kernel counts its trips from the line it stores
     * from (e->nt_base), and its stores' offsets are that count: LLVM's alignment inference
     * then sees every vectorized part's offset as a whole number of lines (from the position,
     * the offset from - start folded only for the first part of an interleaved trip, and the
     * others stayed ordinary stores). The body still gets the position. A loop that carries
     * loads rebuilds them from its position: it counts positions, and its offsets are
     * position - start (aligned for the first part at least). */
    bool from_line = e->nt_base && !scalar && !carry;
    lc_loop l;
    LLVMValueRef i = lc_loop_begin(e, &l, from_line ? LLVMConstInt(e->i64, 0, 0) : from,
                                   from_line ? LLVMBuildSub(e->b, to, from, "") : to, checked ? "edge" : "interior");
    e->nt_trip = from_line ? i : e->nt_base && !scalar ? LLVMBuildSub(e->b, i, from, "") : NULL;
    if (from_line) i = LLVMBuildNSWAdd(e->b, i, from, "");
    LLVMBasicBlockRef body = LLVMGetInsertBlock(e->b);
    e->checked = checked;
    e->careful = redo && scalar;
    /* lc_schedule.interleave names the kernel's vectorized loop: over whole blocks in a
     * window-major kernel, over elements in an element-major one */
    bool main_loop = window == (e->k->sched.order == LC_LOOP_WINDOWS);
    e->interleave = main_loop && !scalar && !checked ? e->k->sched.interleave : 0;
    e->flag_ptr = flagged ? e->flag_slot : NULL;
    e->carry = log;
    e->co_guard = window && scalar && co_root_past_windows(e);
    e->vector_loop = !scalar;
    emit_inner_body(e, i, row_base, row_idx, window);
    e->vector_loop = false;
    e->co_guard = false;
    e->carry = NULL;
    e->flag_ptr = NULL;
    e->careful = false;
    e->nt_trip = NULL;
    lc_loop_end(e, &l, scalar);
    e->interleave = 0;
    if (carry_values && l.latch == body) (void)lc_carry_values(e->b, l.pre, l.head, body, l.i, l.from);
    if (carry || carry_values) {
        if (carry) carry_loads(e, &l, body, log, from);
        LLVMPositionBuilderAtEnd(e->b, l.exit);
        LLVMBuildBr(e->b, after);
        LLVMPositionBuilderAtEnd(e->b, after);
    }
}

/* A loop over positions [from, to) of a row: the vectorized one of a kernel with row passes
 * (lc_schedule.row_passes) as one loop per window row, in order, each reading that row alone
 * (emitter.row_pass); every other loop as one loop. */
static void emit_inner_loop(emitter *e, LLVMValueRef from, LLVMValueRef to, LLVMValueRef row_base,
                            const ix *row_idx, bool checked, bool window, bool scalar) {
    if (e->k->sched.row_passes == 0 || scalar || checked || window || e->fixup_form || e->edges_only) {
        emit_one_loop(e, from, to, row_base, row_idx, checked, window, scalar);
        return;
    }
    LC_ASSERT(e->k->sched.tile_rows == 1 && e->row_pass == 0);
    for (int k = 1; k <= e->k->sched.row_passes; k++) {
        e->row_pass = k;
        emit_one_loop(e, from, to, row_base, row_idx, checked, window, scalar);
    }
    e->row_pass = 0;
}

/* The ranges a row's one scalar loop walks: its checked edges, always, and the ranges the
 * vectorized loop covered, again, when it flagged a window (the fix-up). Each form of the
 * body (element by element, or window by window) is emitted once per kernel this way, not once
 * per edge and once more for the fix-up: the scalar code was most of a kernel's IR, and what
 * LLVM spends on a kernel follows the size of its IR. Every position is computed on its own
 * and written once (or rewritten by the fix-up, after the vectorized loop), so the order the
 * ranges run in changes no result, and a checked body gives what the unchecked one gives
 * wherever the latter's checks hold. */
#define MAX_SCALAR_RANGES 5
typedef struct scalar_ranges {
    LLVMValueRef from[MAX_SCALAR_RANGES], to[MAX_SCALAR_RANGES];
    int n_edges, n_redo; /* the edges first, then the ranges to redo */
    /* Whether the body keeps its bounds checks: it does, unless no check can fail anywhere
     * in the loop's domain (the interior [ilo, ihi] covers it), where it is emitted without
     * them, as the interior is. */
    bool checked;
    int64_t ilo, ihi;
} scalar_ranges;

static void add_edge(scalar_ranges *s, LLVMValueRef from, LLVMValueRef to) {
    LC_ASSERT(s->n_redo == 0 && s->n_edges < MAX_SCALAR_RANGES);
    s->from[s->n_edges] = from;
    s->to[s->n_edges++] = to;
}

static void add_redo(emitter *e, scalar_ranges *s, LLVMValueRef from, LLVMValueRef to) {
    if (!e->k->sched.fixup || !e->fixup_form) return; /* the common form only flags */
    int n = s->n_edges + s->n_redo;
    LC_ASSERT(n < MAX_SCALAR_RANGES);
    s->from[n] = from;
    s->to[n] = to;
    s->n_redo++;
}

/* for r in the ranges: for i in [from[r], to[r]): the body, scalar. */
static void emit_scalar_loop(emitter *e, const scalar_ranges *s, LLVMValueRef row_base,
                             const ix *row_idx, bool window) {
    int n = s->n_edges + s->n_redo;
    if (n == 0) return;
    /* checked loops only: an unchecked one (a row's left-over trips) is small */
    if (e->edges_apart && s->checked) { /* lc_kernel_<k>_edges runs it */
        LC_ASSERT(s->n_redo == 0);
        e->edges_left = true;
        return;
    }
    if (e->edges_only && !s->checked) return; /* the kernel's function runs it */
    if (!s->checked) {
        e->ilo = s->ilo;
        e->ihi = s->ihi;
    }
    if (n == 1 && s->n_redo == 0) {
        emit_inner_loop(e, s->from[0], s->to[0], row_base, row_idx, s->checked, window, true);
        return;
    }
    LLVMValueRef count = LLVMConstInt(e->i64, (unsigned long long)s->n_edges, 0);
    if (s->n_redo > 0) {
        LLVMTypeRef i32 = LLVMInt32TypeInContext(e->ctx);
        LLVMValueRef any = LLVMBuildICmp(e->b, LLVMIntNE, LLVMBuildLoad2(e->b, i32, e->flag_slot, ""),
                                         LLVMConstInt(i32, 0, 0), "");
        count = LLVMBuildSelect(e->b, any, LLVMConstInt(e->i64, (unsigned long long)n, 0), count, "");
    }
    lc_loop l;
    LLVMValueRef r = lc_loop_begin(e, &l, LLVMConstInt(e->i64, 0, 0), count, "ranges");
    LLVMValueRef from = s->from[n - 1], to = s->to[n - 1];
    for (int k = n - 2; k >= 0; k--) {
        LLVMValueRef here = LLVMBuildICmp(e->b, LLVMIntEQ, r, LLVMConstInt(e->i64, (unsigned long long)k, 0), "");
        from = LLVMBuildSelect(e->b, here, s->from[k], from, "");
        to = LLVMBuildSelect(e->b, here, s->to[k], to, "");
    }
    emit_inner_loop(e, from, to, row_base, row_idx, s->checked, window, true);
    lc_loop_end(e, &l, true);
}

/* Whether the loop over the kernel's elements is the one LLVM vectorizes: every reduction in
 * it is unrolled over all its terms. Otherwise a loop sits inside it and the inner loop is
 * vectorized. */
static bool element_loop_vectorizes(const emitter *e) { return lc_kernel_reductions_straight(e->k); }

/* The multiple of trips at which LLVM keeps no remainder copy of an element loop it
 * vectorizes, where codegen pins its interleave count (lc_schedule.interleave, quick tier: 1)
 * and knows the target's registers (lc_emit_options.vector_bits): the lanes of the root's type
 * in one register times that count (LLVM takes no more lanes for a loop whose widest type is
 * the root's, fewer for a wider one, and the multiple is a power of two either way); else
 * LC_VECTOR_TRIP_MULTIPLE, which covers every choice LLVM makes. For a row with edges the
 * trips past the last multiple go to the scalar loop, about 35 instructions a position:
 * AvgPool1d(3, 1, 1)'s rows of 4096 (the run from position 16, a line, to the edge at 4095)
 * left 47 positions before the edge with 64 and 15 with 16, and its forward took a third less
 * time from the caches (bench/README.md, "Edges of a row: whole vectors, not whole multiples
 * of 64"). */
static int64_t element_trip_multiple(const emitter *e) {
    /* lc_schedule.interleave names an element-major kernel's element loop only */
    int trips = e->quick ? 1 : e->k->sched.order == LC_LOOP_ELEMENTS ? e->k->sched.interleave : 0;
    const lc_node *root = lc_graph_node(e->f->graph, e->k->root);
    int64_t lanes = e->vector_bits / (8 * (int64_t)lc_dtype_size(root->dtype));
    if (trips < 1 || lanes < 1 || lanes * trips > LC_VECTOR_TRIP_MULTIPLE) return LC_VECTOR_TRIP_MULTIPLE;
    return lanes * trips;
}

/* How many whole multiples of `multiple` trips [a, end) holds, bounded by those in `count`
 * (the trips never exceed it), so the trip count's range stays known to LLVM. */
static LLVMValueRef whole_multiples(emitter *e, LLVMValueRef a, LLVMValueRef end, int64_t multiple, int64_t count) {
    LLVMValueRef whole = LLVMBuildUDiv(e->b, LLVMBuildSub(e->b, end, a, ""),
                                       LLVMConstInt(e->i64, (unsigned long long)multiple, 0), "");
    LLVMValueRef cap = LLVMConstInt(e->i64, (unsigned long long)(count / multiple), 0);
    return LLVMBuildSelect(e->b, LLVMBuildICmp(e->b, LLVMIntULT, whole, cap, ""), whole, cap, "");
}

/* a + whole · multiple: where `whole` multiples of trips from a end. */
static LLVMValueRef whole_end(emitter *e, LLVMValueRef a, LLVMValueRef whole, int64_t multiple) {
    return LLVMBuildNSWAdd(e->b, a, LLVMBuildNUWMul(e->b, whole, LLVMConstInt(e->i64, (unsigned long long)multiple, 0), ""),
                           "");
}

/* The vectorized runs (lc_schedule.rerun_tail) over positions or blocks [a, end): whole
 * multiples of `multiple` trips from a (at most `most`), then, where that leaves a remainder
 * and the range holds a multiple, one more run of `multiple` trips ending at `end`. The
 * remainder ran one by one in the scalar loop before: in MaxPool2d(3, 2, 1)'s rows of 128
 * outputs, 14 of them, as many instructions as the 112 of the vectorized loop. The last run
 * computes again up to multiple - 1 trips the first computed: every write of a trip (the root
 * at its position or its block's, a co-root beside it or of a window starting in it, a flag
 * ORed) is a function of what the kernel reads, which it never writes (plan gives a kernel's
 * outputs and inputs apart bytes, and the runtime writes an in-place output aside), so the
 * second write stores the same bits. Returns where the runs end. */
static LLVMValueRef emit_vector_runs(emitter *e, LLVMValueRef a, LLVMValueRef end, int64_t multiple, int64_t count,
                                     LLVMValueRef row_base, const ix *row_idx, bool checked, bool window) {
    LLVMValueRef m = LLVMConstInt(e->i64, (unsigned long long)multiple, 0);
    LLVMValueRef whole = whole_multiples(e, a, end, multiple, count);
    LLVMValueRef first_end = whole_end(e, a, whole, multiple);
    /* one more run where some trips are left and a whole run fits (whole >= 1) */
    LLVMValueRef again = LLVMBuildAnd(e->b, LLVMBuildICmp(e->b, LLVMIntSLT, first_end, end, ""),
                                      LLVMBuildICmp(e->b, LLVMIntUGE, whole, LLVMConstInt(e->i64, 1, 0), ""), "");
    LLVMValueRef runs = iadd_c(e, LLVMBuildZExt(e->b, again, e->i64, ""), 1);
    if (e->edges_only) return LLVMBuildSelect(e->b, again, end, first_end, ""); /* the range alone */
    lc_loop l;
    LLVMValueRef r = lc_loop_begin(e, &l, LLVMConstInt(e->i64, 0, 0), runs, "runs");
    LLVMValueRef first = LLVMBuildICmp(e->b, LLVMIntEQ, r, LLVMConstInt(e->i64, 0, 0), "");
    LLVMValueRef from = LLVMBuildSelect(e->b, first, a, LLVMBuildSub(e->b, end, m, ""), "");
    /* trips as multiple · n, so LLVM still sees the multiple */
    LLVMValueRef n = LLVMBuildSelect(e->b, first, whole, LLVMConstInt(e->i64, 1, 0), "");
    emit_inner_loop(e, from, whole_end(e, from, n, multiple), row_base, row_idx, checked, window, false);
    lc_loop_end(e, &l, true);
    return LLVMBuildSelect(e->b, again, end, first_end, "");
}

/* A non-temporal kernel's trips (lc_schedule.nontemporal): trip t of a row writes from position
 * row_base + t·unit + offset of the root's buffer (an element: unit 1, offset 0; a window-major
 * block: unit B, offset -block_lo). */
static void trip_positions(const emitter *e, int64_t *unit, int64_t *offset) {
    *unit = 1;
    *offset = 0;
    if (!window_major(e)) return;
    lc_window w = lc_window_of(lc_graph_node(e->f->graph, e->k->root));
    *unit = w.step * block_steps(e);
    *offset = -block_lo(e, lc_graph_node(e->f->graph, e->k->root));
}

/* Where trip `trip` of the row at row_base writes its first element (trip_positions): a
 * pointer into the root's buffer, and in *index (where asked) that element's index. */
static LLVMValueRef trip_pointer(emitter *e, LLVMValueRef row_base, LLVMValueRef trip, LLVMValueRef *index) {
    const lc_node *root = lc_graph_node(e->f->graph, e->k->root);
    int64_t unit, offset;
    trip_positions(e, &unit, &offset);
    LLVMValueRef at = iadd_c(e, iadd(e, row_base, imul_c(e, trip, unit)), offset);
    if (index) *index = at;
    return LLVMBuildGEP2(e->b, real_type(e, root->dtype), e->slot_ptr[e->k->dst_slot], &at, 1, "");
}

/* The vectorized loop from trip `start` on stores from its first position, as a pointer LLVM
 * knows is line-aligned (llvm.ptrmask: the same address wherever the loop runs, since there
 * that position starts a line): e->nt_base, which emit_inner_loop reads. */
static void stores_from_line(emitter *e, LLVMValueRef row_base, const ix *row_idx, LLVMValueRef start) {
    const lc_node *root = lc_graph_node(e->f->graph, e->k->root);
    LLVMValueRef at;
    LLVMValueRef p = trip_pointer(e, row_base, start, &at);
    LLVMValueRef args[2] = {p, LLVMConstInt(e->i64, (unsigned long long)-64, 1)};
    LLVMTypeRef types[2] = {e->ptr, e->i64};
    e->nt_base = lc_build_intrinsic_types(e->b, e->mod, "llvm.ptrmask", types, 2, args, 2);
    e->nt_used = true;
    /* a co-root's row tile: each row of it from its own line, through its row's pointer
     * (make_row_pointers), its position `pitch` on per row; lines too, as the pitch is whole
     * lines (fuse's LC_NT_ALIGNED_ROWS) */
    int tile = e->k->sched.tile_rows;
    if (e->k->sched.co_nontemporal) {
        /* the co-root's element of the run's first position: beside the root
         * (lc_kernel.co_beside, whole rows only), or of block `start` in the tile's row (row /
         * co_rows), as block q writes window q (emit_co_root) */
        const lc_node *co = lc_graph_node(e->f->graph, e->k->co_root);
        int rank = co->shape.rank;
        ix idx[LC_MAX_RANK];
        for (int d = 0; d + 1 < rank; d++) idx[d] = row_idx[d];
        LLVMValueRef base = e->slot_ptr[e->k->co_slot];
        if (e->k->co_beside) {
            LC_ASSERT(row_idx && tile == 1);
        } else {
            LC_ASSERT(e->k->co_rows == tile && rank >= 2 && e->row_ptr[1][0]);
            idx[rank - 2] = ix_opaque(LLVMBuildSDiv(e->b, row_idx[rank - 2].v,
                                                    LLVMConstInt(e->i64, (unsigned long long)tile, 1), ""));
            base = e->row_ptr[1][0];
        }
        idx[rank - 1] = ix_opaque(start);
        LC_ASSERT(!lc_fused_is_byte_slot(e->f, e->k->co_slot)); /* fuse streams no byte slot */
        LLVMValueRef lin = lc_emit_linear_index(e, e->k->co_slot, &co->shape, idx);
        args[0] = LLVMBuildGEP2(e->b, real_type(e, co->dtype), base, &lin, 1, "");
        e->nt_co_base = lc_build_intrinsic_types(e->b, e->mod, "llvm.ptrmask", types, 2, args, 2);
    }
    if (tile == 1) return;
    LC_ASSERT(e->k->co_rows == tile && e->k->sched.nontemporal == LC_NT_ALIGNED_ROWS);
    int64_t pitch = lc_fused_row_pitch(e->f, e->k->dst_slot, &root->shape);
    for (int t = 0; t < tile; t++) {
        LLVMValueRef at_t = iadd_c(e, at, t * pitch);
        args[0] = LLVMBuildGEP2(e->b, real_type(e, root->dtype), e->row_ptr[0][t], &at_t, 1, "");
        e->nt_base_row[t] = lc_build_intrinsic_types(e->b, e->mod, "llvm.ptrmask", types, 2, args, 2);
    }
    e->nt_base = e->nt_base_row[0];
}

/* LC_NT_LINE_START: where the row's vectorized loop over trips [a, b) starts instead, the first
 * trip from a whose first position starts a 64-byte line of the written buffer (b where none
 * before b does, or where no trip's can: the buffer's elements not aligned to their size, as
 * a caller's buffer may be, or a block's bytes not reaching a line from there); its stores
 * are addressed from that line (stores_from_line). */
static LLVMValueRef line_start(emitter *e, LLVMValueRef row_base, LLVMValueRef a, LLVMValueRef b) {
    const lc_node *root = lc_graph_node(e->f->graph, e->k->root);
    int64_t elt = root->dtype == LC_F64 ? 8 : 4, unit, offset;
    trip_positions(e, &unit, &offset);
    /* trips k from a reach a line where addr + k·step ≡ 0 (mod 64), step = unit·elt: with g =
     * gcd(step, 64), where g divides addr, k ≡ r·inv (mod 64/g), r = (-addr mod 64)/g, inv the
     * inverse of step/g (odd) modulo 64/g, a power of two */
    int64_t step = unit * elt, g = lc_gcd(step, 64), period = 64 / g, odd = (step / g) % period, inv = 1;
    while ((odd * inv) % period != 1 % period) inv += 2;
    LLVMValueRef addr = LLVMBuildPtrToInt(e->b, trip_pointer(e, row_base, a, NULL), e->i64, "");
    LLVMValueRef r = LLVMBuildUDiv(e->b, LLVMBuildAnd(e->b, LLVMBuildNeg(e->b, addr, ""), LLVMConstInt(e->i64, 63, 0), ""),
                                   LLVMConstInt(e->i64, (unsigned long long)g, 0), "");
    LLVMValueRef k = LLVMBuildAnd(e->b, imul_c(e, r, inv), LLVMConstInt(e->i64, (unsigned long long)(period - 1), 0), "");
    LLVMValueRef reachable = LLVMBuildICmp(
        e->b, LLVMIntEQ, LLVMBuildAnd(e->b, addr, LLVMConstInt(e->i64, (unsigned long long)(g - 1), 0), ""),
        LLVMConstInt(e->i64, 0, 0), "");
    LLVMValueRef start = LLVMBuildSelect(e->b, reachable, smin(e, LLVMBuildAdd(e->b, a, k, ""), b), b, "nt.start");
    stores_from_line(e, row_base, NULL, start);
    return start;
}

/* The vectorized loop over [from, to): over the unchecked interior [lo, hi] of count the
 * checks allow, else over the whole range, checked; rounded down to whole multiples of
 * LC_VECTOR_TRIP_MULTIPLE trips where it is an element loop LLVM vectorizes (or a window-major
 * loop over blocks of several steps), and with a rerun tail whose interior leaves trips over,
 * the rest as one more run (emit_vector_runs; shifted blocks, lc_schedule.block_shift: whole
 * runs from the row's line, then that run). It covers [*a, *b) and leaves the rest of
 * [from, to) to the scalar loop: [from, *a) when *left (else empty) and [*b, to) when *right. */
static void emit_vector_part(emitter *e, LLVMValueRef from, LLVMValueRef to, LLVMValueRef row_base,
                             const ix *row_idx, int64_t lo, int64_t hi, int64_t count, bool window,
                             LLVMValueRef *a, LLVMValueRef *b, bool *left, bool *right) {
    bool checked = lo > hi;
    *a = from;
    *b = to;
    *left = *right = false;
    if (!checked) {
        e->ilo = lo;
        e->ihi = hi;
        if (lo > 0 || hi < count - 1) { /* some check can fail: edges */
            *a = smin(e, smax(e, LLVMConstInt(e->i64, (unsigned long long)lo, 1), from), to);
            *b = smin(e, smax(e, LLVMConstInt(e->i64, (unsigned long long)(hi + 1), 1), *a), to);
            *left = *right = true;
        }
    }
    /* the fix-up's form: cleared here, before the runs, each of which may flag */
    if (e->k->sched.fixup && e->fixup_form)
        LLVMBuildStore(e->b, LLVMConstInt(LLVMInt32TypeInContext(e->ctx), 0, 0), e->flag_slot);
    /* fuse allows a rerun tail only where the loop is the one LLVM vectorizes (blocks of one
     * step) */
    LC_ASSERT(!e->k->sched.rerun_tail || (window ? block_steps(e) == 1 : element_loop_vectorizes(e)));
    int64_t span = checked ? count : (hi < count - 1 ? hi : count - 1) - (lo > 0 ? lo : 0) + 1;
    /* lc_schedule.whole_trips: a row without edges is whole multiples of it, and so is every
     * part of a row a split of the outer range gives: the loop runs to the end, nothing is
     * left over for a scalar loop (the edges of a row that has some still go there) */
    int64_t whole_trips = e->k->sched.whole_trips;
    if (whole_trips > 0 && window && e->k->sched.block_shift > 0 && !checked && lo <= 0) {
        /* shifted blocks (lc_schedule.block_shift): every block of the row is interior but the
         * last (and any a split cuts off), or with its window past the row's end guarded
         * (guard_windows) every block, so whole runs from the part's start, which is on a
         * line where the buffer is, streamed where the kernel is non-temporal (fuse makes it so
         * only where no rerun tail follows: schedule_nontemporal says why); the trips left
         * before the interior's end as one more run ending there with a rerun tail, else they
         * go to the scalar loop */
        LC_ASSERT(block_steps(e) == 1 && element_loop_vectorizes(e) && count % whole_trips == 0);
        /* windows past the row's ends read through a guard: the runs reach its end */
        *right = !(e->k->sched.guard_windows && hi >= count - 1);
        if (e->k->sched.rerun_tail) {
            LC_ASSERT(e->k->sched.nontemporal == LC_NT_NONE);
            *b = emit_vector_runs(e, *a, *b, whole_trips, count, row_base, row_idx, checked, window);
            return;
        }
        LLVMValueRef end = *b;
        *b = whole_end(e, *a, whole_multiples(e, *a, end, whole_trips, count), whole_trips);
        if (e->k->sched.nontemporal == LC_NT_ALIGNED_ROWS && !e->fixup_form) stores_from_line(e, row_base, row_idx, *a);
        emit_inner_loop(e, *a, *b, row_base, row_idx, checked, window, false);
        e->nt_base = e->nt_co_base = NULL;
        return;
    }
    if (whole_trips > 0 && !*left && !checked) {
        LC_ASSERT(span == count && count % whole_trips == 0 && element_loop_vectorizes(e) &&
                  whole_trips == lc_vector_trip_multiple(count, window && block_steps(e) > 1
                                                                    ? LC_VECTOR_BLOCK_TRIP_MULTIPLE
                                                                    : LC_VECTOR_TRIP_MULTIPLE, false));
        *b = whole_end(e, *a, whole_multiples(e, *a, *b, whole_trips, count), whole_trips);
        /* the row and the split start on lines where the buffer does, which the runtime sees to */
        if (e->k->sched.nontemporal == LC_NT_ALIGNED_ROWS && !e->fixup_form) stores_from_line(e, row_base, row_idx, *a);
        emit_inner_loop(e, *a, *b, row_base, row_idx, checked, window, false);
        e->nt_base = e->nt_co_base = NULL;
        return;
    }
    if (e->k->sched.rerun_tail && span % lc_vector_trip_multiple(span, LC_VECTOR_TRIP_MULTIPLE, false) != 0) {
        /* a remainder: one more run (only where the interior leaves one, as that run's loop
         * costs compile time) */
        int64_t multiple = lc_vector_trip_multiple(span, LC_VECTOR_TRIP_MULTIPLE, true);
        *right = true;
        *b = emit_vector_runs(e, *a, *b, multiple, count, row_base, row_idx, checked, window);
        return;
    }
    /* not the loop over window-major blocks of one step: there LLVM still checked at run time
     * that the strided stores do not wrap, and kept the scalar copy for that case. Blocks of
     * several steps store each phase in a scope of its own (make_alias_scopes), so LLVM checks
     * no dependence between them and needs no such test */
    if (e->k->sched.nontemporal == LC_NT_LINE_START && !e->fixup_form) {
        /* the trips before the line go to the scalar loop */
        LC_ASSERT(!e->k->sched.rerun_tail && e->k->sched.whole_trips == 0 && element_loop_vectorizes(e) &&
                  window == window_major(e));
        *a = line_start(e, row_base, *a, *b);
        *left = true;
    }
    if (e->k->sched.nontemporal == LC_NT_ALIGNED_ROWS && *left && !window && !e->fixup_form) {
        /* a row with edges (a padded window's first positions): the run starts at the row's
         * first line past them, which starts a line of the buffer as the row does, and a split
         * of the outer range falls on whole lines too (fuse's LC_NT_ALIGNED_ROWS); the
         * positions before it go to the scalar loop */
        const lc_node *root = lc_graph_node(e->f->graph, e->k->root);
        int64_t line = 64 / (int64_t)lc_dtype_size(root->dtype), first = lo > 0 ? (lo + line - 1) / line * line : 0;
        LC_ASSERT(!checked);
        *a = smin(e, smax(e, LLVMConstInt(e->i64, (unsigned long long)first, 1), from), to);
        *b = smax(e, *b, *a);
        stores_from_line(e, row_base, row_idx, *a);
    }
    if ((!window || block_steps(e) > 1) && element_loop_vectorizes(e)) {
        int64_t multiple = lc_vector_trip_multiple(span, window ? LC_VECTOR_BLOCK_TRIP_MULTIPLE : element_trip_multiple(e), false);
        *b = whole_end(e, *a, whole_multiples(e, *a, *b, multiple, count), multiple);
        *right = true;
    }
    emit_inner_loop(e, *a, *b, row_base, row_idx, checked, window, false);
    e->nt_base = e->nt_co_base = NULL;
}

static void emit_element_range(emitter *e, LLVMValueRef from, LLVMValueRef to, LLVMValueRef row_base,
                               const ix *row_idx, int64_t last) {
    bool interior = e->elo <= e->ehi && e->elo <= last - 1 && e->ehi >= 0;
    scalar_ranges s = {.checked = !(interior && e->elo <= 0 && e->ehi >= last - 1), .ilo = e->elo, .ihi = e->ehi};
    LLVMValueRef a, b;
    bool left, right;
    emit_vector_part(e, from, to, row_base, row_idx, interior ? e->elo : 1, interior ? e->ehi : 0,
                     last, false, &a, &b, &left, &right);
    if (left) add_edge(&s, from, a);
    if (right) add_edge(&s, b, to);
    add_redo(e, &s, a, b);
    emit_scalar_loop(e, &s, row_base, row_idx, false);
}

/* Find the interior range by emitting the root once into a throwaway function. */
static void find_interior(emitter *e, int64_t last, bool window) {
    const lc_node *root = lc_graph_node(e->f->graph, e->k->root);
    int rank = root->shape.rank;
    e->ilo = 0;
    e->ihi = last - 1;
    if (window) e->ihi = window_blocks(e, root) - 1;
    if (rank == 0) return;
    LLVMValueRef saved_fn = e->fn, saved_bounds = e->bounds_slot;
    e->bounds_slot = NULL; /* the kernel's slot: not this throwaway function's */
    LLVMBasicBlockRef saved_bb = LLVMGetInsertBlock(e->b);
    LLVMTypeRef fty = LLVMFunctionType(LLVMVoidTypeInContext(e->ctx), &e->i64, 1, 0);
    LLVMValueRef tmp = LLVMAddFunction(e->mod, "lc_tmp_interior", fty);
    e->fn = tmp;
    LLVMPositionBuilderAtEnd(e->b, LLVMAppendBasicBlockInContext(e->ctx, tmp, "entry"));
    ix idx[LC_MAX_RANK];
    for (int d = 0; d + 1 < rank; d++) idx[d] = ix_row(LLVMGetParam(tmp, 0), root->shape.dim[d]);
    ix ii = {LLVMGetParam(tmp, 0), true, 1, 0, 0, 0, NULL, 0, 0, 0, 0, false};
    idx[rank - 1] = ii;
    e->aff_i = LLVMGetParam(tmp, 0);
    e->checked = true;
    set_index_range(e, window);
    /* the fix-up's form reads the same elements, but is discovered too where it is emitted
     * (the fix-up function), so no check it makes can be missed */
    for (int careful = 0; careful <= (e->k->sched.fixup && e->fixup_form ? 1 : 0); careful++) {
        e->careful = careful;
        lc_emit_forget_windows(e);
        if (window) {
            emit_window_body(e, LLVMGetParam(tmp, 0), LLVMGetParam(tmp, 0), idx, false);
        } else {
            if (e->k->co_root >= 0 && !e->k->co_beside) emit_co_root_owner(e, LLVMGetParam(tmp, 0), idx, false);
            lc_emit_compute(e, e->k->root, idx);
            if (e->k->co_beside) lc_emit_compute(e, e->k->co_root, idx);
        }
    }
    e->careful = false;
    e->aff_i = NULL; /* the throwaway function's parameter */
    LLVMBuildRetVoid(e->b);
    LLVMDeleteFunction(tmp);
    lc_emit_forget_windows(e); /* its blocks are freed */
    e->fn = saved_fn;
    e->bounds_slot = saved_bounds;
    LLVMPositionBuilderAtEnd(e->b, saved_bb);
}

/* The interiors of the kernel's loops, discovered once before any loop is emitted: the
 * element loop's [elo, ehi] and, window-major, the block loop's [wlo, whi]. Every check the
 * unchecked loops elide asserts that it holds on the whole interior (lc_emit_check_elided),
 * so a check discovery did not see stops the compiler instead of reading out of bounds. */
static void discover_interiors(emitter *e, int64_t last, bool window) {
    if (window) {
        find_interior(e, last, true);
        e->wlo = e->ilo;
        e->whi = e->ihi;
    }
    find_interior(e, last, false);
    e->elo = e->ilo;
    e->ehi = e->ihi;
}

/* The buffers a kernel touches: what it writes, then what it reads. */
static int kernel_slots(const lc_kernel *k, int *out) {
    int n = 0;
    out[n++] = k->dst_slot;
    if (k->co_root >= 0) out[n++] = k->co_slot;
    for (int a = 0; a < k->n_args; a++) out[n++] = k->args[a];
    return n;
}

/* A distinct, self-referencing metadata node {self, ops...}: how LLVM spells alias domains
 * and scopes (and loop IDs). */
static LLVMMetadataRef distinct_node(emitter *e, LLVMMetadataRef *ops, unsigned n) {
    LLVMMetadataRef all[4];
    LC_ASSERT(n < 4);
    all[0] = LLVMTemporaryMDNode(e->ctx, NULL, 0);
    for (unsigned i = 0; i < n; i++) all[i + 1] = ops[i];
    LLVMMetadataRef node = LLVMMDNodeInContext2(e->ctx, all, n + 1);
    LLVMMetadataReplaceAllUsesWith(all[0], node);
    return node;
}

/* The kernel's buffers never overlap (the planner gives each live tensor its own bytes), which
 * LLVM must know to vectorize without runtime overlap checks. Each buffer gets an alias scope
 * in one domain per kernel; its loads and stores carry that scope and are marked as not
 * aliasing the others' (what `noalias` arguments become once inlined, written directly so the
 * kernel is one function and LLVM's simplification pipeline runs over it once). */
static void make_alias_scopes(emitter *e, int kid, const int *slots, int n) {
    char name[48];
    snprintf(name, sizeof name, "lc_kernel_%d", kid);
    LLVMMetadataRef dname = LLVMMDStringInContext2(e->ctx, name, strlen(name));
    LLVMMetadataRef domain = distinct_node(e, &dname, 1);
    /* scope entries: one per slot, or with tiled rows one per row of each written slot (the
     * first `written` of `slots`: kernel_slots lists them first) */
    int tile = e->k->sched.tile_rows, written = e->k->co_root >= 0 ? 2 : 1;
    /* An unrolled window-major block (not a row tile) stores its B = step·block_steps
     * positions q·B - block_lo + ph, each phase ph at addresses no other phase's store ever
     * reaches (each position is written by the one phase its place in the block gives it): a
     * scope per phase for the root's slot tells LLVM so, and its loop vectorizer then checks
     * no dependence between the block's stores, which it could only do with a run-time test
     * that the strided addresses do not wrap, and a scalar copy of the loop for when they
     * might. The co-root's slot keeps its one scope. */
    int phases = 1;
    if (window_major(e) && e->k->sched.block == LC_BLOCK_UNROLLED && tile == 1)
        phases = (int)(lc_window_of(lc_graph_node(e->f->graph, e->k->root)).step * block_steps(e));
    LC_ASSERT(phases <= LC_UNROLL_MAX);
    enum { MAX_ENTRIES = 64 + 2 * LC_TILE_ROWS_MAX + LC_UNROLL_MAX };
    LLVMMetadataRef scopes[MAX_ENTRIES];
    int entry_slot[MAX_ENTRIES], entry_row[MAX_ENTRIES], m = 0;
    for (int i = 0; i < n; i++) {
        int rows = tile > 1 && i < written ? tile : i == 0 ? phases : 1;
        for (int t = 0; t < rows; t++) {
            if (rows > 1) snprintf(name, sizeof name, tile > 1 ? "slot %d row %d" : "slot %d phase %d", slots[i], t);
            else snprintf(name, sizeof name, "slot %d", slots[i]);
            LLVMMetadataRef ops[2] = {domain, LLVMMDStringInContext2(e->ctx, name, strlen(name))};
            LC_ASSERT(m < MAX_ENTRIES);
            scopes[m] = distinct_node(e, ops, 2);
            entry_slot[m] = i;
            entry_row[m++] = rows > 1 ? t : -1;
        }
    }
    for (int a = 0; a < m; a++) {
        LLVMMetadataRef others[MAX_ENTRIES];
        int o = 0;
        for (int b = 0; b < m; b++)
            if (b != a) others[o++] = scopes[b];
        LLVMValueRef scope = LLVMMetadataAsValue(e->ctx, LLVMMDNodeInContext2(e->ctx, &scopes[a], 1));
        LLVMValueRef noalias = LLVMMetadataAsValue(e->ctx, LLVMMDNodeInContext2(e->ctx, others, (size_t)o));
        int i = entry_slot[a], t = entry_row[a];
        if (t >= 0 && phases > 1) {
            e->phase_scope[t] = scope;
            e->phase_noalias[t] = noalias;
            continue;
        }
        if (t < 0) {
            e->slot_scope[slots[i]] = scope;
            e->slot_noalias[slots[i]] = noalias;
        } else {
            e->row_scope[i][t] = scope;
            e->row_noalias[i][t] = noalias;
            /* outside a row (never for a store of a tiled kernel) the first row's */
            if (t == 0) {
                e->slot_scope[slots[i]] = scope;
                e->slot_noalias[slots[i]] = noalias;
            }
        }
    }
    if (phases > 1) {
        /* the root's slot outside the block (the element-by-element loop): in every phase's
         * scope, so it may alias each of them, and apart from the other slots */
        LLVMMetadataRef others[MAX_ENTRIES];
        int o = 0;
        for (int b = phases; b < m; b++) others[o++] = scopes[b];
        e->slot_scope[slots[0]] = LLVMMetadataAsValue(e->ctx, LLVMMDNodeInContext2(e->ctx, scopes, (size_t)phases));
        e->slot_noalias[slots[0]] = LLVMMetadataAsValue(e->ctx, LLVMMDNodeInContext2(e->ctx, others, (size_t)o));
    }
}

/* `void lc_kernel_<kid>(void *const *slots, int64 begin, int64 end)` (see codegen.h). */
/* The input rows the output row LC_ROW_PREFETCH_AHEAD_BYTES on will read, into the cache
 * LC_ROW_PREFETCH_LOCALITY names, line by line in ascending order (lc_row_prefetch; fuse
 * decides). `row` is the root's flat row and
 * `r` its index on the axis before the last. The start is kept inside the slot. */
static void emit_row_prefetch(emitter *e, LLVMValueRef row, LLVMValueRef r) {
    const lc_row_prefetch *pf = &e->k->sched.prefetch;
    const lc_node *root = lc_graph_node(e->f->graph, e->k->root);
    int rank = root->shape.rank;
    LC_ASSERT(e->k->sched.order == LC_LOOP_ELEMENTS && rank >= 2 && pf->out_rows == root->shape.dim[rank - 2] &&
              e->slot_ptr[pf->slot] && pf->step >= 1 && pf->row_len >= 1);
    int64_t planes = lc_shape_numel(&root->shape) / (root->shape.dim[rank - 1] * pf->out_rows);
    int64_t plane_len = pf->rows * pf->row_len, span = pf->step * pf->row_len;
    int64_t elt = pf->elt_bytes;
    LLVMValueRef plane = LLVMBuildSDiv(e->b, row, LLVMConstInt(e->i64, (unsigned long long)pf->out_rows, 1), "");
    LLVMValueRef first = iadd_c(e, imul_c(e, r, pf->step), -pf->pad_lo);
    LLVMValueRef start = iadd_c(e, iadd(e, imul_c(e, plane, plane_len), imul_c(e, first, pf->row_len)),
                                pf->ahead);
    start = imax_c(e, imin_c(e, start, planes * plane_len - span), 0);
    LLVMValueRef base = LLVMBuildGEP2(e->b, LLVMInt8TypeInContext(e->ctx), e->slot_ptr[pf->slot],
                                      (LLVMValueRef[]){imul_c(e, start, elt)}, 1, "");
    /* up to 8 lines a trip (the count's largest such divisor): a trip of one line cost five
     * instructions of loop beside its prefetch, and MaxPool2d(3, 2, 1)'s rows of 128 outputs
     * prefetch 32 lines each, for 8 vectorized trips of their own */
    int64_t lines = lc_ceil_div(span * elt, 64), per_trip = 8;
    while (lines % per_trip != 0) per_trip /= 2;
    lc_loop l;
    LLVMValueRef trip = lc_loop_begin(e, &l, LLVMConstInt(e->i64, 0, 0),
                                      LLVMConstInt(e->i64, (unsigned long long)(lines / per_trip), 0), "prefetch");
    LLVMTypeRef i32 = LLVMInt32TypeInContext(e->ctx);
    for (int64_t t = 0; t < per_trip; t++) {
        LLVMValueRef at = iadd_c(e, imul_c(e, trip, per_trip * 64), t * 64);
        LLVMValueRef args[4] = {LLVMBuildGEP2(e->b, LLVMInt8TypeInContext(e->ctx), base, &at, 1, ""),
                                LLVMConstInt(i32, 0, 0), LLVMConstInt(i32, LC_ROW_PREFETCH_LOCALITY, 0),
                                LLVMConstInt(i32, 1, 0)};
        call_intrinsic(e, "llvm.prefetch", e->ptr, args, 4);
    }
    lc_loop_end(e, &l, true);
}

static void add_fn_attribute(LLVMValueRef fn, const char *attr) {
    bool known = lc_add_fn_attribute(fn, attr, 0);
    LC_ASSERT(known);
}

static void add_kernel(emitter *e, int kid) {
    const lc_kernel *k = e->k;
    const lc_node *root = lc_graph_node(e->f->graph, k->root);
    LLVMTypeRef params[3] = {e->ptr, e->i64, e->i64};
    LLVMTypeRef i32 = LLVMInt32TypeInContext(e->ctx);
    LLVMTypeRef fty = LLVMFunctionType(i32, params, 3, 0);
    char name[48];
    snprintf(name, sizeof name, e->fixup_form ? "lc_kernel_%d_fixup" : e->edges_only ? "lc_kernel_%d_edges" : "lc_kernel_%d",
             kid);
    /* the edges' function is declared by the kernel's, which calls it */
    LLVMValueRef fn = e->edges_only ? LLVMGetNamedFunction(e->mod, name) : LLVMAddFunction(e->mod, name, fty);
    LC_ASSERT(fn && !LLVMGetFirstBasicBlock(fn));
    add_fn_attribute(fn, "nounwind");
    if (e->vector_bits > 0) {
        /* vectors as wide as the target's registers (lc_emit_options.vector_bits): LLVM's tuning
         * for Intel's AVX-512 CPUs prefers 256 bits (against a clock drop older ones took for
         * 512-bit work), and on a Sapphire Rapids host 512-bit kernels ran the memory-bound
         * pools 5-20 points of the floor nearer it (bench/README.md, "512-bit vectors on an
         * Intel AVX-512 host") */
        char bits[16];
        int len = snprintf(bits, sizeof bits, "%d", e->vector_bits);
        LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
                                LLVMCreateStringAttribute(e->ctx, "prefer-vector-width", 19, bits, (unsigned)len));
    }
    if (e->edges_only) {
        /* LLVM's passes skip it (optnone, which needs noinline): a few positions a row */
        add_fn_attribute(fn, "noinline");
        add_fn_attribute(fn, "optnone");
        LLVMSetLinkage(fn, LLVMInternalLinkage);
    }
    bool nontemporal = k->sched.nontemporal && !e->fixup_form && !e->edges_only;
    if (nontemporal) /* what jit.c's non-temporal tagging looks for */
        LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
                                LLVMCreateStringAttribute(e->ctx, LC_NONTEMPORAL_ATTR, (unsigned)strlen(LC_NONTEMPORAL_ATTR),
                                                          "", 0));
    if (k->sched.stream_prefetch > 0 && !e->fixup_form && !e->edges_only) { /* what stream_prefetch.c looks for */
        char ahead[24];
        int len = snprintf(ahead, sizeof ahead, "%" PRId64, k->sched.stream_prefetch);
        LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
                                LLVMCreateStringAttribute(e->ctx, LC_STREAM_PREFETCH_ATTR,
                                                          (unsigned)strlen(LC_STREAM_PREFETCH_ATTR), ahead, (unsigned)len));
    }
    e->fn = fn;
    memset(e->pass_buf, 0, sizeof e->pass_buf); /* this function's own (emit_row_pass) */
    e->aff_i = NULL;
    e->nt_used = false;
    LLVMValueRef begin = LLVMGetParam(fn, 1);
    LLVMValueRef end = LLVMGetParam(fn, 2);

    int rank = root->shape.rank;
    int64_t last = rank > 0 ? root->shape.dim[rank - 1] : 1;
    LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(e->ctx, fn, "entry");
    LLVMBasicBlockRef rows = LLVMAppendBasicBlockInContext(e->ctx, fn, "row");
    LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(e->ctx, fn, "done");
    LLVMPositionBuilderAtEnd(e->b, entry);
    int slots[64];
    int nslots = kernel_slots(k, slots);
    for (int i = 0; i < e->f->n_slots; i++) e->slot_ptr[i] = e->slot_scope[i] = e->slot_noalias[i] = NULL;
    for (int i = 0; i < nslots; i++) {
        LLVMValueRef off = LLVMConstInt(e->i64, (unsigned long long)slots[i], 0);
        e->slot_ptr[slots[i]] = LLVMBuildLoad2(e->b, e->ptr, LLVMBuildGEP2(e->b, e->ptr, LLVMGetParam(fn, 0), &off, 1, ""), "");
    }
    make_alias_scopes(e, kid, slots, nslots);
    if (k->sched.tile_rows > 1) make_row_pointers(e);
    e->flag_slot = k->sched.fixup ? LLVMBuildAlloca(e->b, i32, "lp.flag") : NULL;
    /* the common form's flag: whether any window of [begin, end) was flagged */
    if (k->sched.fixup && !e->fixup_form) LLVMBuildStore(e->b, LLVMConstInt(i32, 0, 0), e->flag_slot);
    e->bounds_slot = NULL;
    if (lc_codegen_check_bounds()) {
        e->bounds_slot = LLVMBuildAlloca(e->b, e->i1, "bounds.failed");
        LLVMBuildStore(e->b, LLVMConstInt(e->i1, 0, 0), e->bounds_slot);
    }
    bool win = window_major(e);
    LC_ASSERT(k->sched.tile_rows >= 1 && k->align % (k->sched.tile_rows * (k->sched.tile_rows > 1 ? last : 1)) == 0);
    /* the edges' function walks the rows its kernel's function just did: the same interiors
     * (discovery emits the kernel's body once more, about 5 % of a quick compile) */
    if (!e->edges_only) discover_interiors(e, last, win);
    LLVMBuildCondBr(e->b, LLVMBuildICmp(e->b, LLVMIntSLT, begin, end, ""), rows, done);

    /* row loop: e runs over flat elements; each trip finishes (part of) one row */
    LLVMPositionBuilderAtEnd(e->b, rows);
    LLVMValueRef el = LLVMBuildPhi(e->b, e->i64, "e");
    LLVMValueRef lastv = LLVMConstInt(e->i64, (unsigned long long)last, 1);
    LLVMValueRef row = LLVMBuildSDiv(e->b, el, lastv, "row");
    LLVMValueRef i0 = LLVMBuildSRem(e->b, el, lastv, "i0");
    LLVMValueRef i1 = smin(e, lastv, LLVMBuildAdd(e->b, i0, LLVMBuildSub(e->b, end, el, ""), ""));
    /* where the row starts in the written buffer: rows lie its row pitch apart (fuse pads a
     * scratch buffer's rows that would lie a multiple of 4 KiB apart) */
    LLVMValueRef row_base = imul_c(e, row, lc_fused_row_pitch(e->f, k->dst_slot, &root->shape));
    ix row_idx[LC_MAX_RANK];
    LLVMValueRef rem = row;
    for (int d = rank - 2; d >= 0; d--) {
        LLVMValueRef ext = LLVMConstInt(e->i64, (unsigned long long)root->shape.dim[d], 1);
        row_idx[d] = ix_row(d == 0 ? rem : LLVMBuildSRem(e->b, rem, ext, ""), root->shape.dim[d]);
        if (d > 0) rem = LLVMBuildSDiv(e->b, rem, ext, "");
    }
    if (win) {
        /* whole blocks inside [i0, i1): q·step - lo >= i0 and q·step - lo + step <= i1, `step`
         * here the block's positions (the fold's step times lc_schedule.block_steps) */
        const lc_node *fold = root;
        lc_window w = lc_window_of(fold);
        int64_t step = w.step * block_steps(e), lo = block_lo(e, fold);
        int64_t windows = lc_graph_node(e->f->graph, fold->inputs[0])->shape.dim[rank - 1];
        LLVMValueRef stepv = LLVMConstInt(e->i64, (unsigned long long)step, 1);
        int64_t blocks = window_blocks(e, fold);
        LLVMValueRef oa, ob, pa, pb;
        /* positions are checked but where the blocks tile the rows and no check on a
         * position can fail; blocks where no check on a block can */
        bool all_positions = e->k->sched.whole_blocks && e->elo <= 0 && e->ehi >= last - 1;
        bool all_blocks = e->wlo <= 0 && e->whi >= blocks - 1;
        scalar_ranges positions = {.checked = !all_positions, .ilo = e->elo, .ihi = e->ehi};
        scalar_ranges blocks_left = {.checked = !all_blocks, .ilo = e->wlo, .ihi = e->whi};
        LLVMValueRef past = NULL; /* blocks past the last window: the scalar loop's */
        if (e->k->sched.whole_blocks) {
            LC_ASSERT(e->k->align % step == 0 && lo == 0 && last % step == 0);
            /* blocks tile the row exactly and the range is split at multiples of step:
             * every position belongs to a whole block of the range */
            oa = LLVMBuildSDiv(e->b, i0, stepv, "");
            ob = LLVMBuildSDiv(e->b, i1, stepv, "");
            pa = i0;
            pb = i1;
            if (co_root_past_windows(e)) {
                past = ob;
                ob = smax(e, imin_c(e, ob, windows), oa);
            }
        } else {
            /* oa = ceil((i0 + lo) / step), as a quotient and a remainder: lo + step - 1 leaves
             * int64 for a step near 2^63 (i0 + lo >= 0 and small, so the division is exact) */
            LLVMValueRef start = iadd_c(e, i0, lo);
            LLVMValueRef partial = LLVMBuildICmp(e->b, LLVMIntNE, LLVMBuildSRem(e->b, start, stepv, ""),
                                                 LLVMConstInt(e->i64, 0, 0), "");
            oa = LLVMBuildAdd(e->b, LLVMBuildSDiv(e->b, start, stepv, ""),
                              LLVMBuildZExt(e->b, partial, e->i64, ""), "");
            ob = LLVMBuildSDiv(e->b, iadd_c(e, i1, lo), stepv, "");
            /* a co-root is written per block, so blocks stop at the last window there */
            int64_t qmax = e->k->co_root >= 0 ? windows : blocks;
            oa = imin_c(e, imax_c(e, oa, 0), qmax);
            ob = smax(e, imin_c(e, ob, qmax), oa);
            pa = smin(e, smax(e, iadd_c(e, imul_c(e, oa, step), -lo), i0), i1);
            pb = smax(e, smin(e, iadd_c(e, imul_c(e, ob, step), -lo), i1), pa);
            /* positions before the first whole window and after the last (fewer than `step`
             * each): element by element, all checks kept, to keep the code small */
            add_edge(&positions, i0, pa);
            add_edge(&positions, pb, i1);
        }
        LLVMValueRef a, b;
        bool left, right;
        emit_vector_part(e, oa, ob, row_base, row_idx, e->wlo, e->whi, blocks, true, &a, &b, &left, &right);
        /* The blocks the vectorized loop left (checked edges) or flagged go to the scalar loop
         * element by element where that form costs what the window's does (no co-root, which
         * it would recompute per position, or blocks of one position, but not a co-root's row
         * tile, which writes it per tile of blocks): one scalar body for the kernel instead of
         * two. Both forms sum a position's windows in the same order, so they
         * give the same bits. */
        if ((e->k->co_root < 0 || step == 1) && e->k->co_rows < 2) {
            LLVMValueRef qa = smin(e, smax(e, iadd_c(e, imul_c(e, a, step), -lo), pa), pb);
            LLVMValueRef qb = smin(e, smax(e, iadd_c(e, imul_c(e, b, step), -lo), qa), pb);
            if (left) add_edge(&positions, pa, qa);
            if (right) add_edge(&positions, qb, pb);
            add_redo(e, &positions, qa, qb);
        } else {
            if (left) add_edge(&blocks_left, oa, a);
            if (right) add_edge(&blocks_left, b, ob);
            if (past) add_edge(&blocks_left, ob, past);
            add_redo(e, &blocks_left, a, b);
        }
        emit_scalar_loop(e, &positions, row_base, row_idx, false);
        emit_scalar_loop(e, &blocks_left, row_base, row_idx, true);
    } else if (k->sched.tile_cols > 1) {
        emit_col_tile(e, row_base, row_idx, last); /* whole rows: i0 = 0, i1 = last */
    } else {
        if (k->sched.prefetch.slot >= 0 && !e->edges_only) emit_row_prefetch(e, row, row_idx[rank - 2].v);
        emit_element_range(e, i0, i1, row_base, row_idx, last);
    }
    /* a tile of rows ends the trip at the end of its last row (whole tiles: i0 = 0, i1 = last) */
    LLVMValueRef el2 = LLVMBuildAdd(e->b, el, imul_c(e, LLVMBuildSub(e->b, i1, i0, ""), k->sched.tile_rows), "");
    LLVMBasicBlockRef cur = LLVMGetInsertBlock(e->b);
    LLVMBuildCondBr(e->b, LLVMBuildICmp(e->b, LLVMIntSLT, el2, end, ""), rows, done);
    LLVMAddIncoming(el, &begin, &entry, 1);
    LLVMAddIncoming(el, &el2, &cur, 1);
    LLVMPositionBuilderAtEnd(e->b, done);
    if (e->edges_apart && e->edges_left) { /* the scalar loops left out, over the same range (emitter.edges_apart) */
        snprintf(name, sizeof name, "lc_kernel_%d_edges", kid);
        LLVMValueRef args[3] = {LLVMGetParam(fn, 0), begin, end};
        LLVMValueRef flagged = LLVMBuildCall2(e->b, fty, LLVMAddFunction(e->mod, name, fty), args, 3, "");
        if (k->sched.fixup)
            LLVMBuildStore(e->b, LLVMBuildOr(e->b, LLVMBuildLoad2(e->b, i32, e->flag_slot, ""), flagged, ""),
                           e->flag_slot);
    }
    if (e->bounds_slot) { /* an elided check failed: stop here, where the kernel is known */
        LLVMBasicBlockRef trap = LLVMAppendBasicBlockInContext(e->ctx, fn, "bounds.trap");
        LLVMBasicBlockRef ret = LLVMAppendBasicBlockInContext(e->ctx, fn, "ret");
        LLVMBuildCondBr(e->b, LLVMBuildLoad2(e->b, e->i1, e->bounds_slot, ""), trap, ret);
        LLVMPositionBuilderAtEnd(e->b, trap);
        lc_build_intrinsic(e->b, e->mod, "llvm.trap", NULL, NULL, 0);
        LLVMBuildUnreachable(e->b);
        LLVMPositionBuilderAtEnd(e->b, ret);
        e->bounds_slot = NULL;
    }
    /* Non-temporal stores are ordered with no other store: where the kernel makes some (a row
     * with edges makes none), a fence makes them visible before the kernel's part counts as
     * done (and before a fix-up rewrites an element) */
    if (e->nt_used) LLVMBuildFence(e->b, LLVMAtomicOrderingSequentiallyConsistent, 0, "");
    e->nt_used = false;
    if (k->sched.fixup && !e->fixup_form) LLVMBuildRet(e->b, LLVMBuildLoad2(e->b, i32, e->flag_slot, "flagged"));
    else LLVMBuildRet(e->b, LLVMConstInt(i32, 0, 0));
}

static lc_status emit_kernels(const lc_fused *f, int first, int last, LLVMContextRef ctx,
                              LLVMModuleRef mod, const lc_emit_options *o, bool fixup_form);

lc_status lc_emit_kernels(const lc_fused *f, int first, int last, LLVMContextRef ctx,
                          LLVMModuleRef mod, const lc_emit_options *o) {
    return emit_kernels(f, first, last, ctx, mod, o, false);
}

lc_status lc_emit_fixup_kernel(const lc_fused *f, int k, LLVMContextRef ctx, LLVMModuleRef mod,
                               const lc_emit_options *o) {
    LC_ASSERT(k >= 0 && k < f->n_kernels && f->kernels[k].sched.fixup);
    return emit_kernels(f, k, k + 1, ctx, mod, o, true);
}

static lc_status emit_kernels(const lc_fused *f, int first, int last, LLVMContextRef ctx,
                              LLVMModuleRef mod, const lc_emit_options *o, bool fixup_form) {
    emitter e = {0};
    e.fma = o->fma;
    e.quick = o->quick;
    e.vector_bits = o->vector_bits;
    e.avx512_exponents = o->avx512_exponents;
    e.sqrt_estimate = o->sqrt_estimate;
    e.masked_loads = o->masked_loads;
    e.masked_byte_loads = o->masked_byte_loads;
    e.fixup_form = fixup_form;
    e.tile_row = -1;
    e.store_phase = -1;
    e.col_member = -1;
    e.pin_node = -1;
    e.sums_for = -1;
    e.ctx = ctx;
    e.mod = mod;
    e.b = LLVMCreateBuilderInContext(ctx);
    e.i64 = LLVMInt64TypeInContext(ctx);
    e.i1 = LLVMInt1TypeInContext(ctx);
    e.ptr = LLVMPointerType(LLVMInt8TypeInContext(ctx), 0);
    e.f = f;
    int n = lc_graph_node_count(f->graph);
    e.slot_ptr = calloc((size_t)f->n_slots + 1, sizeof(LLVMValueRef));
    e.slot_scope = calloc((size_t)f->n_slots + 1, sizeof(LLVMValueRef));
    e.slot_noalias = calloc((size_t)f->n_slots + 1, sizeof(LLVMValueRef));
    e.globals = calloc((size_t)n + 1, sizeof(LLVMValueRef));
    lc_status st = LC_OK;
    if (!e.slot_ptr || !e.slot_scope || !e.slot_noalias || !e.globals)
        st = lc_fail(LC_ERR_NOMEM, "codegen: out of memory");
    for (int kid = first; kid < last && st == LC_OK; kid++) {
        e.k = &f->kernels[kid];
        if (e.k->n_args + 4 > 64) {
            st = lc_fail(LC_ERR_UNSUPPORTED, "codegen: kernel %d reads %d buffers (at most 61)",
                         kid, e.k->n_args);
            break;
        }
        /* the quick tier's checked edges in a function of their own (emitter.edges_apart) */
        e.edges_apart = e.quick && !fixup_form;
        e.edges_left = false;
        add_kernel(&e, kid);
        if (e.edges_left) { /* right after its kernel's: add_kernel keeps that one's interiors */
            e.edges_apart = false;
            e.edges_only = true;
            add_kernel(&e, kid);
            e.edges_only = false;
        }
    }
    free(e.slot_ptr);
    free(e.slot_scope);
    free(e.slot_noalias);
    free(e.globals);
    LLVMDisposeBuilder(e.b);
    return st;
}
