/* The LP norm pattern, recognised in one place for every pass that treats it specially:
 * simplify's stable LP backward (simplify_lp.c) and fuse, which records whether codegen
 * evaluates the norm scaled by the window max (kernel.h, lc_lp_schedule).
 *
 *     root = pow(S, 1/p),  S = sum(T, dim),  T = pow(A, p)
 *
 * The modules build it so (A = |x| over the unfolded input). */
#ifndef LUCID_PASSES_LP_NORM_H
#define LUCID_PASSES_LP_NORM_H

#include <stdbool.h>

#include "lucid/ir.h"

typedef struct lc_lp_norm {
    int root;   /* pow(S, 1/p), or -1 when only the sum was matched */
    int sum;    /* S */
    int terms;  /* T = pow(A, p) */
    int base;   /* A */
    int dim;    /* the summed axis of T */
    double p;
} lc_lp_norm;

/* Node `sum` is S = sum(pow(A, p), dim): fills every field but root (-1). */
bool lc_lp_sum_match(const lc_graph *g, int sum, lc_lp_norm *m);
/* Node `node` is pow(S, e) of such an S with e = 1/p (lc_lp_inverse): fills every field. */
bool lc_lp_norm_match(const lc_graph *g, int node, lc_lp_norm *m);
/* e is 1/p: e·p = 1 to 1e-12. Exponents the modules and simplify derive as 1.0 / p are within
 * an ulp of that; a hand-written 0.333 for p = 3 is not an LP norm. */
bool lc_lp_inverse(double p, double e);

/* p above which the LP norm is evaluated in its scaled form: |x|^p overflows float32 at
 * |x| = 4.4 for p = 60, and at |x| = 2^16 for p = 8. */
#define LC_LP_SCALE_MIN_P 8.0

/* Whether the LP norm of exponent p is evaluated scaled by the window max,
 * m·(Σ(|x|/m)^p)^(1/p). Large p: so |x|^p does not overflow. Small p (below 1/8): |x|^p is
 * within a few ulps of 1 for most x, and the final power 1/p amplifies that rounding by 1/p;
 * scaled, the largest term is exactly 1, so a window with one nonzero element gives that
 * element (the plain form gave 1 for p = 1e-300, where x^p rounds to 1). */
static inline bool lc_lp_norm_scaled(double p) {
    return p > LC_LP_SCALE_MIN_P || p < 1.0 / LC_LP_SCALE_MIN_P;
}

/* A copy of `in` with simplify's LP backward rewrite applied (simplify_lp.c: the product
 * S^(1/p - 1) · A^(p - 1) as (A / y)^(p - 1), the matcher simplify itself uses) and nothing
 * else, or *out = NULL when `in` holds no such product. Fuse applies it, so a graph compiled
 * without the pass pipeline (lc_compile straight after lc_autodiff) gets the form that stays
 * finite for large p too. */
lc_status lc_lp_backward_stable(const lc_graph *in, lc_graph **out);

#endif
