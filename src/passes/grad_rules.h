/* The vector-Jacobian rules autodiff.c applies, one per op of ops.def (grad_rules.c), and the
 * naming of gradient nodes they share. Private to src/passes/. */
#ifndef LUCID_PASSES_GRAD_RULES_H
#define LUCID_PASSES_GRAD_RULES_H

#include <stdbool.h>

#include "lucid/ir.h"

/* Append to `g` the vector-Jacobian product of node `y` for the upstream gradient node `gy`
 * (y's shape and dtype). For every operand i of y with need[i], contrib[i] receives a node of
 * operand i's shape holding its gradient, or -1 when that gradient is identically zero (sign,
 * pow(x, 0)). The node may be `gy` itself or another existing node (add passes gy through):
 * only nodes at indices >= the count on entry were made by the rule. Every node made is
 * named after the operand it differentiates ("grad.<operand>.<op>"). */
lc_status lc_grad_rule(lc_graph *g, int y, int gy, const bool need[LC_MAX_INPUTS],
                       int contrib[LC_MAX_INPUTS]);

/* The separable 2-D max pool, y = max(unfold_a(max(unfold_b(x)))) with both windows padded
 * with -inf over two different axes and each max over its window axis: the nodes of the
 * chain (rows = the outer unfold, row_max = the inner max, cols = the inner unfold) when `y`
 * is one whose windows hold at most LC_MAX2D_SLOTS_MAX slots in all and each position lies
 * in at most LC_MAX2D_COVER_MAX windows per axis, else false. Larger windows or covers keep
 * the two masks: the gather from the slots reads g and a slot per covering window (2·2 for
 * MaxPool2d(3, 2, 1)), and the forward's row maxima are inline only for short windows
 * (fuse's LC_ROW_WINDOW_INLINE_MAX, 64 slots), so beyond these the slots cost a kernel more. */
#define LC_MAX2D_SLOTS_MAX 64
#define LC_MAX2D_COVER_MAX 2
bool lc_grad_max2d_chain(const lc_graph *g, int y, int *rows, int *row_max, int *cols);

/* The gradient of x (cols' input) for such a chain, without row_max's gradient in between:
 * each window's chosen slot a·kw + b (a the row, b the column in the window's kh x kw slots,
 * the first maximum in row-major order, as the two masks choose it), then for each element
 * of x, over the windows that may cover it, gy where the window's slot is the element's
 * place in it (equal), folded over rows, then over columns (docs/semantics.md). *gx gets
 * the node, named after x. */
lc_status lc_grad_max2d(lc_graph *g, int y, int gy, int *gx);

/* Name `node` "grad.<name of target>" (or "grad.%<target>" when target has no name), with
 * ".<suffix>" appended when suffix is not NULL. */
lc_status lc_grad_set_name(lc_graph *g, int node, int target, const char *suffix);

#endif
