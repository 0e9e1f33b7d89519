/* The window parameters of unfold and fold and the index arithmetic built on them, defined
 * once for every stage (shape rules, interpreter, gradient rules, fuse, codegen).
 *
 * A window op over axis `dim` of length L reads window o, slot j at position
 * o·step - pad_lo + j·dilation (0 outside [0, L)); a window spans
 * dilation·(size - 1) + 1 positions. Shape rules have checked size, step, dilation >= 1,
 * pad_lo, pad_hi >= 0, L + pad_lo + pad_hi <= INT64_MAX and span <= L + pad_lo + pad_hi, so
 * what is below never divides by zero; the counts are computed without forming sums that
 * could pass INT64_MAX. */
#ifndef LUCID_IR_WINDOW_H
#define LUCID_IR_WINDOW_H

#include <stdint.h>

#include "lucid/ir.h"
#include "support/error.h"
#include "support/int_math.h"

typedef struct lc_window {
    int dim;
    int64_t size, step, pad_lo, pad_hi, dilation;
} lc_window;

/* The window of an unfold or a fold (the two share their first five attributes, op_table.c;
 * dilation came later and follows each op's own attributes). */
static inline lc_window lc_window_of(const lc_node *n) {
    LC_ASSERT(n->op == LC_OP_UNFOLD || n->op == LC_OP_FOLD);
    int64_t dilation = n->op == LC_OP_UNFOLD ? n->attr[LC_UNFOLD_DILATION] : n->attr[LC_FOLD_DILATION];
    lc_window w = {(int)n->attr[LC_UNFOLD_DIM], n->attr[LC_UNFOLD_SIZE], n->attr[LC_UNFOLD_STEP],
                   n->attr[LC_UNFOLD_PAD_LO], n->attr[LC_UNFOLD_PAD_HI], dilation};
    return w;
}

/* Whether slot j of each window is slot j + step/dilation of the window before it, with that
 * slot inside the window: the step a multiple of the dilation, j below step/dilation and j +
 * step/dilation below the size. A loop over the windows in order then has the slot from the
 * window before (fuse's carry_loads and carry_edge, codegen's carried loads). */
static inline bool lc_window_slot_carried(const lc_window *w, int64_t j) {
    if (w->dilation < 1 || w->step % w->dilation != 0) return false;
    int64_t next = w->step / w->dilation;
    return j >= 0 && j < next && j + next < w->size;
}

/* The positions one window spans, dilation·(size - 1) + 1, as a wide number: shape rules
 * compare it with the padded length before anything else relies on it fitting int64. */
static inline __int128 lc_window_span_wide(const lc_window *w) {
    return (__int128)w->dilation * (w->size - 1) + 1;
}

/* The span once shape rules have checked it (it is at most the padded length). */
static inline int64_t lc_window_span(const lc_window *w) { return (int64_t)lc_window_span_wide(w); }

/* Windows over a length L: (L + pad_lo + pad_hi - span) / step + 1 (the padded length may
 * pass INT64_MAX before shape rules reject it, hence the wide sum). */
static inline int64_t lc_window_count(int64_t length, const lc_window *w) {
    return (int64_t)(((__int128)length + w->pad_lo + w->pad_hi - lc_window_span_wide(w)) / w->step + 1);
}

/* The windows a position may lie in: ceil(span / step) consecutive ones (with dilation only
 * those whose slot lands on it count; a fold's gather visits all and keeps those). */
static inline int64_t lc_window_cover(const lc_window *w) { return lc_ceil_div(lc_window_span(w), w->step); }

/* A fold's gather at one position visits either the ceil(span / step) windows that may
 * cover it or, where that is more (a dilation far above the step), its `size` slots: one
 * candidate window each. Without dilation the windows are never more than the slots. */
static inline bool lc_fold_gathers_slots(const lc_window *w) { return w->size < lc_window_cover(w); }
static inline int64_t lc_fold_gather_terms(const lc_window *w) {
    return lc_fold_gathers_slots(w) ? w->size : lc_window_cover(w);
}

/* Blocks of `step` positions q·step - pad_lo .. + step - 1 that start inside [-pad_lo, L):
 * ceil((L + pad_lo) / step). */
static inline int64_t lc_window_blocks(int64_t length, const lc_window *w) {
    return lc_ceil_div(length + w->pad_lo, w->step);
}

/* Whether a fold's `windows` windows tile its output axis of `length` positions: each
 * position in exactly one window (step = size, no dilation, no padding, length = windows·size),
 * so its gather at a position is that one window's term and checks nothing. */
static inline bool lc_fold_tiles(const lc_window *w, int64_t length, int64_t windows) {
    return w->size == w->step && w->dilation == 1 && w->pad_lo == 0 && w->pad_hi == 0 && length == windows * w->size;
}

/* Whether the windows may overlap (a position read by more than one window): their spans do.
 * With dilation this is conservative (size 2, step 2, dilation 3 interleave without sharing). */
static inline bool lc_window_overlaps(const lc_window *w) { return lc_window_span(w) > w->step; }

/* An index as an affine form in a loop index i: ci·i + k + r, r within [rlo, rhi]. */
typedef struct lc_affine {
    int64_t ci, k, rlo, rhi;
} lc_affine;

/* The position o·step - pad_lo + j·dilation that window o, slot j reads, as an affine form
 * from o's and j's. False when a coefficient leaves int64 (a step near 2^63: 3 · (2^63 - 2)
 * would, and so may a dilation near 2^63 times a slot): the position is then not affine, and
 * codegen keeps its bounds check. */
static inline bool lc_window_position_affine(const lc_affine *o, const lc_affine *j, int64_t step,
                                             int64_t pad_lo, int64_t dilation, lc_affine *pos) {
    int64_t ci, k, rlo, rhi, jci, jk, jrlo, jrhi;
    bool over = __builtin_mul_overflow(j->ci, dilation, &jci) || __builtin_mul_overflow(j->k, dilation, &jk) ||
                __builtin_mul_overflow(j->rlo, dilation, &jrlo) ||
                __builtin_mul_overflow(j->rhi, dilation, &jrhi) ||
                __builtin_mul_overflow(o->ci, step, &ci) || __builtin_add_overflow(ci, jci, &ci) ||
                __builtin_mul_overflow(o->k, step, &k) || __builtin_sub_overflow(k, pad_lo, &k) ||
                __builtin_add_overflow(k, jk, &k) || __builtin_mul_overflow(o->rlo, step, &rlo) ||
                __builtin_add_overflow(rlo, jrlo, &rlo) || __builtin_mul_overflow(o->rhi, step, &rhi) ||
                __builtin_add_overflow(rhi, jrhi, &rhi);
    if (over) return false;
    lc_affine r = {ci, k, rlo, rhi};
    *pos = r;
    return true;
}

#endif
