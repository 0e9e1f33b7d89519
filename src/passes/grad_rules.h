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

/* Name `node` "grad.<name of target>" (or "grad.%<target>" when target has no name), with
 * ".<suffix>" appended when suffix is not NULL. */
lc_status lc_grad_set_name(lc_graph *g, int node, int target, const char *suffix);

#endif
