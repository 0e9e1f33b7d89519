/* The window parameters of unfold and fold and the index arithmetic built on them, defined
 * once for every stage (shape rules, interpreter, gradient rules, fuse, codegen).
 *
 * A window op over axis `dim` of length L reads window o, slot j at position
 * o·step - pad_lo + j (0 outside [0, L)). Shape rules have checked size, step >= 1,
 * pad_lo, pad_hi >= 0 and L + pad_lo + pad_hi <= INT64_MAX, so what is below never divides
 * by zero; the counts are computed without forming sums that could pass INT64_MAX. */
#ifndef LUCID_IR_WINDOW_H
#define LUCID_IR_WINDOW_H

#include <stdint.h>

#include "lucid/ir.h"
#include "support/error.h"
#include "support/int_math.h"

typedef struct lc_window {
    int dim;
    int64_t size, step, pad_lo, pad_hi;
} lc_window;

/* The window of an unfold or a fold (the two share these attributes, op_table.c). */
static inline lc_window lc_window_of(const lc_node *n) {
    LC_ASSERT(n->op == LC_OP_UNFOLD || n->op == LC_OP_FOLD);
    lc_window w = {(int)n->attr[LC_UNFOLD_DIM], n->attr[LC_UNFOLD_SIZE], n->attr[LC_UNFOLD_STEP],
                   n->attr[LC_UNFOLD_PAD_LO], n->attr[LC_UNFOLD_PAD_HI]};
    return w;
}

/* Windows over a length L: (L + pad_lo + pad_hi - size) / step + 1 (the padded length may
 * pass INT64_MAX before shape rules reject it, hence the wide sum). */
static inline int64_t lc_window_count(int64_t length, const lc_window *w) {
    return (int64_t)(((__int128)length + w->pad_lo + w->pad_hi - w->size) / w->step + 1);
}

/* The most windows that cover one position: ceil(size / step). */
static inline int64_t lc_window_cover(const lc_window *w) { return lc_ceil_div(w->size, w->step); }

/* Blocks of `step` positions q·step - pad_lo .. + step - 1 that start inside [-pad_lo, L):
 * ceil((L + pad_lo) / step). */
static inline int64_t lc_window_blocks(int64_t length, const lc_window *w) {
    return lc_ceil_div(length + w->pad_lo, w->step);
}

/* Whether the windows overlap (a position is read by more than one window). */
static inline bool lc_window_overlaps(const lc_window *w) { return w->size > w->step; }

/* An index as an affine form in a loop index i: ci·i + k + r, r within [rlo, rhi]. */
typedef struct lc_affine {
    int64_t ci, k, rlo, rhi;
} lc_affine;

/* The position o·step - pad_lo + j that window o, slot j reads, as an affine form from o's and
 * j's. False when a coefficient leaves int64 (a step near 2^63: 3 · (2^63 - 2) would):
 * the position is then not affine, and codegen keeps its bounds check. */
static inline bool lc_window_position_affine(const lc_affine *o, const lc_affine *j, int64_t step,
                                             int64_t pad_lo, lc_affine *pos) {
    int64_t ci, k, rlo, rhi;
    bool over = __builtin_mul_overflow(o->ci, step, &ci) || __builtin_add_overflow(ci, j->ci, &ci) ||
                __builtin_mul_overflow(o->k, step, &k) || __builtin_sub_overflow(k, pad_lo, &k) ||
                __builtin_add_overflow(k, j->k, &k) || __builtin_mul_overflow(o->rlo, step, &rlo) ||
                __builtin_add_overflow(rlo, j->rlo, &rlo) || __builtin_mul_overflow(o->rhi, step, &rhi) ||
                __builtin_add_overflow(rhi, j->rhi, &rhi);
    if (over) return false;
    lc_affine r = {ci, k, rlo, rhi};
    *pos = r;
    return true;
}

#endif
