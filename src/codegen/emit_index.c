/* Index arithmetic shared by every node: bounds checks that can be elided on an interior
 * range of the last-axis index, linear offsets and loads. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/emit_internal.h"
#include "support/error.h"

static bool g_check_bounds;
static pthread_once_t g_check_bounds_once = PTHREAD_ONCE_INIT;

static void read_check_bounds(void) {
    const char *v = getenv("LUCID_CHECK_BOUNDS");
    if (!v || !*v || strcmp(v, "0") == 0) return;
    if (strcmp(v, "1") == 0) {
        g_check_bounds = true;
        return;
    }
    fprintf(stderr, "lucid: LUCID_CHECK_BOUNDS must be 0 or 1, got \"%s\"; loads stay unchecked\n", v);
}

bool lc_codegen_check_bounds(void) {
    pthread_once(&g_check_bounds_once, read_check_bounds);
    return g_check_bounds;
}

/* Under LUCID_CHECK_BOUNDS: the `width` elements from lin must lie in the buffer of shape s;
 * where they do not, the failure is ORed into the kernel's bounds slot (it traps at its end)
 * and element 0 is read instead, so the load itself stays defined. A load outside its buffer
 * means a bounds check was elided where it can fail: the masking select around it usually
 * hides the wrong value, and LLVM may compile the undefined load into anything (an endless
 * loop included), so only a check at run time sees it. The fuzzers and tests run with it. */
/* The bounds check of lc_emit_guard_index over [-margin, span + margin) (a byte slot read in
 * its margins, guarded_load). */
static LLVMValueRef guard_index_within(emitter *e, LLVMValueRef lin, int slot, const lc_shape *s, int64_t width,
                                       int64_t margin) {
    if (!e->bounds_slot) return lin;
    /* the elements the buffer spans: its rows at the slot's pitch (lc_fused.row_pitch) */
    int64_t numel = lc_fused_slot_span(e->f, slot, s) + 2 * margin;
    lin = iadd_c(e, lin, margin);
    /* 0 <= lin and lin + width <= numel, as one unsigned compare */
    LLVMValueRef ok = numel >= width ? LLVMBuildICmp(e->b, LLVMIntULE, lin, LLVMConstInt(e->i64, (unsigned long long)(numel - width), 0), "")
                                     : LLVMConstInt(e->i1, 0, 0);
    LLVMValueRef seen = LLVMBuildLoad2(e->b, e->i1, e->bounds_slot, "");
    LLVMBuildStore(e->b, LLVMBuildOr(e->b, seen, LLVMBuildNot(e->b, ok, ""), ""), e->bounds_slot);
    return iadd_c(e, LLVMBuildSelect(e->b, ok, lin, LLVMConstInt(e->i64, (unsigned long long)margin, 0), ""), -margin);
}

LLVMValueRef lc_emit_guard_index(emitter *e, LLVMValueRef lin, int slot, const lc_shape *s, int64_t width) {
    return guard_index_within(e, lin, slot, s, width, 0);
}

/* Where p's check holds: for i in [*from, *to] (false where that cannot be told: p not affine
 * in i, a bound past int64, a decreasing index; *from > *to where it never holds). */
static bool check_range(const ix *p, int64_t len, int64_t *from, int64_t *to) {
    if (!p->aff) return false;
    /* a bound that leaves int64 (huge windows) keeps the check, in every pass alike */
    int64_t lo, hi, neg_lo, room;
    if (__builtin_add_overflow(p->k, p->rlo, &lo) || __builtin_add_overflow(p->k, p->rhi, &hi) ||
        __builtin_sub_overflow(0, lo, &neg_lo) || __builtin_sub_overflow(len - 1, hi, &room))
        return false;
    if (p->ci == 0) {
        bool holds = lo >= 0 && hi <= len - 1;
        *from = holds ? INT64_MIN : 1;
        *to = holds ? INT64_MAX : 0;
        return true;
    }
    if (p->ci < 0) return false;
    /* ci*i + lo >= 0 and ci*i + hi <= len - 1 */
    *from = ceil_div(neg_lo, p->ci);
    *to = floor_div(room, p->ci);
    return true;
}

bool lc_emit_check_holds(const ix *p, int64_t len, int64_t ilo, int64_t ihi) {
    int64_t from, to;
    return !p->clamped && check_range(p, len, &from, &to) && ilo <= ihi && from <= ilo && ihi <= to;
}

/* The interior: where ci·i + k + r stays in [0, len) for every r. The checked passes (the
 * discovery of emit_kernel.c, the edges) narrow [ilo, ihi] to it; the unchecked interior loop
 * runs over the [ilo, ihi] discovery found and relies on every check it elides holding there. */
bool lc_emit_check_elided(emitter *e, const ix *p, int64_t len) {
    int64_t from, to;
    if (!check_range(p, len, &from, &to)) return false;
    /* constant in i: a clamped one is not its form anywhere the check above it fails, which
     * for a constant is every i (else that check would have been elided, not clamped) */
    if (p->ci == 0) return !p->clamped && from <= to;
    if (lc_emit_check_holds(p, len, e->all_lo, e->all_hi)) return true; /* holds for every i */
    if (!e->checked) {
        LC_ASSERT(from <= e->ilo && e->ihi <= to); /* the elided range is inside what discovery saw */
        return true;
    }
    if (from > e->ilo) e->ilo = from;
    if (to < e->ihi) e->ihi = to;
    return false;
}

/* The element stride of each axis of `slot`'s buffer (shape s): row-major, the rows (runs of
 * the last axis) at the slot's row pitch, which fuse chose (a padded scratch buffer's is a
 * cache line longer than the row). */
static void slot_strides(const emitter *e, int slot, const lc_shape *s, int64_t *stride) {
    for (int d = 0; d < s->rank; d++) stride[d] = lc_fused_axis_stride(e->f, slot, s, d);
}

/* Axes `top` down to 0, each index times its stride, summed from `top` (axes of size 1 left
 * out). */
static LLVMValueRef axes_index(emitter *e, const lc_shape *s, const int64_t *stride, const ix *idx, int top) {
    LLVMValueRef sum = LLVMConstInt(e->i64, 0, 0);
    for (int d = top; d >= 0; d--)
        if (s->dim[d] != 1) sum = iadd(e, sum, imul_c(e, idx[d].v, stride[d]));
    return sum;
}

/* The index of the row's first element (every axis but the last), once per row and block
 * (emitter.row_memo). */
static LLVMValueRef row_first(emitter *e, const lc_shape *s, const int64_t *stride, const ix *idx) {
    if (e->row_memo_off) return axes_index(e, s, stride, idx, s->rank - 2);
    int rows = s->rank - 1;
    LLVMBasicBlockRef here = LLVMGetInsertBlock(e->b);
    for (int i = 0; i < e->row_memo_n; i++) {
        const row_memo *m = &e->row_memo[i];
        bool same = m->block == here && m->rank == s->rank;
        for (int d = 0; same && d < rows; d++)
            same = s->dim[d] == 1 ? m->v[d] == NULL : m->v[d] == idx[d].v && m->stride[d] == stride[d];
        if (same) return m->first;
    }
    LLVMValueRef first = axes_index(e, s, stride, idx, rows - 1);
    int i = e->row_memo_next;
    e->row_memo_next = (i + 1) % LC_ROW_MEMO_MAX;
    if (e->row_memo_n < LC_ROW_MEMO_MAX) e->row_memo_n++;
    e->row_memo[i].block = here;
    e->row_memo[i].rank = s->rank;
    for (int d = 0; d < rows; d++) {
        e->row_memo[i].v[d] = s->dim[d] == 1 ? NULL : idx[d].v;
        e->row_memo[i].stride[d] = stride[d];
    }
    e->row_memo[i].first = first;
    return first;
}

/* The element's index in its buffer. The quick tier takes the row's part once per row and
 * block (row_first); the optimized tier sums the axes from the last, as its pass list was
 * measured on (the other association changes what LLVM makes of some backward kernels). */
static LLVMValueRef linear_index(emitter *e, const lc_shape *s, const int64_t *stride, const ix *idx) {
    int last = s->rank - 1;
    if (!e->quick) return axes_index(e, s, stride, idx, last);
    LLVMValueRef first = s->rank > 1 ? row_first(e, s, stride, idx) : LLVMConstInt(e->i64, 0, 0);
    if (s->rank == 0 || s->dim[last] == 1) return first;
    return iadd(e, imul_c(e, idx[last].v, stride[last]), first);
}

LLVMValueRef lc_emit_linear_index(emitter *e, int slot, const lc_shape *s, const ix *idx) {
    int64_t stride[LC_MAX_RANK];
    slot_strides(e, slot, s, stride);
    return linear_index(e, s, stride, idx);
}

void lc_emit_tag_access(emitter *e, LLVMValueRef inst, int slot) {
    if (slot < 0 || !e->slot_scope[slot]) return;
    LLVMValueRef scope = e->slot_scope[slot], noalias = e->slot_noalias[slot];
    if (e->store_phase >= 0 && slot == e->k->dst_slot) {
        scope = e->phase_scope[e->store_phase];
        noalias = e->phase_noalias[e->store_phase];
    }
    if (e->tile_row >= 0 && (slot == e->k->dst_slot || slot == e->k->co_slot)) {
        int w = slot == e->k->dst_slot ? 0 : 1;
        scope = e->row_scope[w][e->tile_row];
        noalias = e->row_noalias[w][e->tile_row];
    }
    LLVMSetMetadata(inst, LLVMGetMDKindIDInContext(e->ctx, "alias.scope", 11), scope);
    LLVMSetMetadata(inst, LLVMGetMDKindIDInContext(e->ctx, "noalias", 7), noalias);
}

/* A load of type ty (a real or a vector of reals) from base + lin elements of slot's buffer:
 * from a byte slot, the bytes read and converted (exactly: they are integers 0 .. 255). */
static LLVMValueRef load_slot(emitter *e, LLVMTypeRef ty, LLVMValueRef base, LLVMValueRef lin, int slot,
                              unsigned align) {
    bool bytes = lc_fused_is_byte_slot(e->f, slot);
    LLVMTypeRef elt = LLVMGetTypeKind(ty) == LLVMVectorTypeKind ? LLVMGetElementType(ty) : ty;
    LLVMTypeRef i8 = LLVMInt8TypeInContext(e->ctx);
    LLVMTypeRef lty = bytes ? (ty == elt ? i8 : LLVMVectorType(i8, LLVMGetVectorSize(ty))) : ty;
    LLVMValueRef v = LLVMBuildLoad2(e->b, lty, LLVMBuildGEP2(e->b, bytes ? i8 : elt, base, &lin, 1, ""), "");
    if (align) LLVMSetAlignment(v, bytes ? 1 : align);
    lc_emit_tag_access(e, v, slot);
    return bytes ? LLVMBuildUIToFP(e->b, v, ty, "") : v;
}

LLVMValueRef lc_emit_load_element(emitter *e, LLVMTypeRef ty, LLVMValueRef base, LLVMValueRef lin, int slot,
                                  const lc_shape *s) {
    lin = lc_emit_guard_index(e, lin, slot, s, 1);
    return load_slot(e, ty, base, lin, slot, 0);
}

/* Element `lin` of the buffer, read only where e->load_guard holds, else 0 (a window past the
 * row's ends, lc_schedule.guard_windows): the load in a branch, which LLVM's loop vectorizer
 * makes a masked load, so a lane that is off reads nothing, not even inside the buffer. */
static LLVMValueRef guarded_load(emitter *e, LLVMTypeRef ty, LLVMValueRef base, LLVMValueRef lin, int slot,
                                 const lc_shape *s) {
    if (lc_fused_is_byte_slot(e->f, slot) && !e->masked_byte_loads) {
        /* a byte slot on a target without masked byte loads (AVX2), where a load in a branch
         * would leave the whole loop scalar: read unmasked, the window past the ends within
         * the buffer's margins (LC_BYTE_SLOT_MARGIN); what it reads there is never used, as
         * the term is +0 where the guard fails */
        lin = guard_index_within(e, lin, slot, s, 1, LC_BYTE_SLOT_MARGIN);
        return load_slot(e, ty, base, lin, slot, 0);
    }
    LLVMBasicBlockRef from = LLVMGetInsertBlock(e->b);
    LLVMBasicBlockRef yes = LLVMAppendBasicBlockInContext(e->ctx, e->fn, "guard.load");
    LLVMBasicBlockRef end = LLVMAppendBasicBlockInContext(e->ctx, e->fn, "guard.end");
    LLVMBuildCondBr(e->b, e->load_guard, yes, end);
    LLVMPositionBuilderAtEnd(e->b, yes);
    LLVMValueRef v = lc_emit_load_element(e, ty, base, lin, slot, s);
    /* a byte slot's phi joins the bytes, converted after it: a compare of the value with a
     * number 0 .. 255 then sees the conversion and compares bytes (emit_expr.c, byte_equal) */
    bool bytes = lc_fused_is_byte_slot(e->f, slot);
    LC_ASSERT(!bytes || LLVMGetInstructionOpcode(v) == LLVMUIToFP); /* load_slot's conversion */
    LLVMValueRef raw = bytes ? LLVMGetOperand(v, 0) : v;
    LLVMBuildBr(e->b, end);
    LLVMPositionBuilderAtEnd(e->b, end);
    LLVMValueRef phi = LLVMBuildPhi(e->b, LLVMTypeOf(raw), "");
    LLVMValueRef vals[2] = {raw, LLVMConstNull(LLVMTypeOf(raw))};
    LLVMBasicBlockRef bbs[2] = {yes, from};
    LLVMAddIncoming(phi, vals, bbs, 2);
    return bytes ? LLVMBuildUIToFP(e->b, phi, ty, "") : phi;
}

LLVMValueRef lc_emit_load(emitter *e, LLVMValueRef base, int slot, lc_dtype dt, const lc_shape *s,
                          const ix *idx) {
    LLVMTypeRef ty = real_type(e, dt);
    LC_ASSERT(!e->load_guard || !e->vec); /* a guard is a branch of the scalar loop body */
    int64_t lane_stride = 0, stride[LC_MAX_RANK];
    slot_strides(e, slot, s, stride);
    LLVMValueRef lin = linear_index(e, s, stride, idx);
    /* vector mode: how far apart consecutive lanes' elements lie */
    for (int d = s->rank - 1; e->vec && d >= 0; d--)
        if (s->dim[d] != 1) lane_stride += idx[d].lane * stride[d];
    if (lane_stride == 1) { /* consecutive: one vector load */
        lin = lc_emit_guard_index(e, lin, slot, s, e->vec);
        return load_slot(e, LLVMVectorType(ty, e->vec), base, lin, slot, dt == LC_F64 ? 8 : 4);
    }
    if (lane_stride != 0) { /* lane by lane */
        LLVMTypeRef i32 = LLVMInt32TypeInContext(e->ctx);
        LLVMValueRef v = LLVMGetUndef(LLVMVectorType(ty, e->vec));
        for (unsigned l = 0; l < e->vec; l++) {
            LLVMValueRef one = lc_emit_load_element(e, ty, base, iadd_c(e, lin, lane_stride * (int64_t)l), slot, s);
            v = LLVMBuildInsertElement(e->b, v, one, LLVMConstInt(i32, l, 0), "");
        }
        return v;
    }
    if (e->load_guard && slot >= 0) return guarded_load(e, ty, base, lin, slot, s);
    if (e->load_guard) {
        /* a constant's table (slot -1; a count per window, the slots' numbers): the index
         * clamped into it, where the window's is off the value is not used; a branch would
         * keep LLVM from hoisting the loads that do not depend on the window */
        int64_t numel = lc_shape_numel(s);
        lin = LLVMBuildSelect(e->b, LLVMBuildICmp(e->b, LLVMIntULT, lin, LLVMConstInt(e->i64, (unsigned long long)numel, 0), ""),
                              lin, LLVMConstInt(e->i64, (unsigned long long)(numel - 1), 0), "");
    }
    LLVMValueRef v = lc_emit_load_element(e, ty, base, lin, slot, s);
    const ix *last = &idx[s->rank > 0 ? s->rank - 1 : 0];
    if (carry_log_open(e) && slot >= 0 && s->rank >= 1 && carry_pairable(last)) {
        carry_log *c = e->carry;
        c->e[c->n].load = v;
        c->e[c->n].base = base;
        c->e[c->n].shape = s;
        c->e[c->n].slot = slot;
        c->e[c->n].rank = s->rank;
        for (int d = 0; d + 1 < s->rank; d++) c->e[c->n].dims[d] = s->dim[d] == 1 ? NULL : idx[d].v;
        c->e[c->n].last = last->v;
        c->e[c->n].ci = last->ci;
        c->e[c->n].k = last->k;
        c->e[c->n].edge_pad = NULL;
        c->e[c->n].edge_len = 0;
        c->n++;
    }
    return v;
}


void lc_emit_store(emitter *e, int slot, LLVMValueRef off, LLVMValueRef v) {
    lc_emit_store_at(e, slot, e->slot_ptr[slot], off, v);
}

void lc_emit_store_at(emitter *e, int slot, LLVMValueRef base, LLVMValueRef off, LLVMValueRef v) {
    if (e->defer_stores) {
        /* tiles store from the slot's pointer, or the root from its row's line */
        LC_ASSERT(base == e->slot_ptr[slot] || (slot == e->k->dst_slot && base == e->nt_base) ||
                  (slot == e->k->co_slot && base == e->nt_co_base));
        LC_ASSERT(e->n_deferred < LC_TILE_DEFERRED_MAX);
        e->deferred[e->n_deferred].slot = slot;
        e->deferred[e->n_deferred].base = base;
        e->deferred[e->n_deferred].row = e->tile_row;
        e->deferred[e->n_deferred].off = off;
        e->deferred[e->n_deferred++].v = v;
        return;
    }
    if (lc_fused_is_byte_slot(e->f, slot)) { /* integers 0 .. 255 (lc_fused.byte_slot): converted exactly */
        LLVMTypeRef ty = LLVMTypeOf(v), i8 = LLVMInt8TypeInContext(e->ctx);
        v = LLVMBuildFPToUI(e->b, v, LLVMGetTypeKind(ty) == LLVMVectorTypeKind ? LLVMVectorType(i8, LLVMGetVectorSize(ty)) : i8, "");
    }
    LLVMValueRef p = LLVMBuildGEP2(e->b, LLVMTypeOf(v), base, &off, 1, "");
    lc_emit_tag_access(e, LLVMBuildStore(e->b, v, p), slot);
}
