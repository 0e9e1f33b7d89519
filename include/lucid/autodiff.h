/* Reverse-mode automatic differentiation as a graph-to-graph transformation (docs/pipeline.md).
 *
 * lc_autodiff copies a graph and appends its backward:
 *
 *   nodes   0 .. n-1        the forward graph, unchanged (same indices, names, outputs)
 *           n .. n+k-1      one new INPUT per differentiated output: its seed gradient, of the
 *                           output's shape and dtype, named "grad.<output name>" ("grad.%N"
 *                           when the output has no name), in the order the outputs are given
 *           n+k ..          each op's vector-Jacobian rule, in reverse topological order; a
 *                           value used several times accumulates its gradients with `add`
 *   outputs                 the forward outputs first (as in the given graph), then one
 *                           gradient per differentiated input, in the order of `wrt`
 *
 * So the result's inputs are the forward inputs followed by the seeds, and its gradient
 * outputs hold d(Σ_o <seed_o, output_o>)/d(input). Gradient nodes are named after what they
 * differentiate: the gradient of node "1.LPPool1d.pow" is "grad.1.LPPool1d.pow". An input no
 * differentiated output depends on gets a zero gradient. At the awkward points the rules use
 * subgradients: abs'(0) = 0; pow'(0, e) = 0 where e - 1 < 0 (so an LP window whose sum is 0
 * passes gradient 0, not NaN); a safe division's 0/0 passes 0.
 *
 * Thread-safety: lc_autodiff only reads `g` and touches no shared state, so any number of
 * threads may call it at once, on the same graph too. */
#ifndef LUCID_AUTODIFF_H
#define LUCID_AUTODIFF_H

#include "lucid/export.h"
#include "lucid/ir.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Differentiate `outputs` (node indices, each at most once; NULL with n_outputs = 0 means every
 * graph output) with respect to `wrt` (INPUT node indices, each at most once; NULL with
 * n_wrt = 0 means every INPUT node, in node order). On success *out is a new graph the caller
 * frees; on failure *out is NULL and the message names "autodiff", the parameter and value. */
LC_API lc_status lc_autodiff(const lc_graph *g, const int *outputs, int n_outputs, const int *wrt,
                             int n_wrt, lc_graph **out);

/* The pass named "autodiff" in passes.h is lc_autodiff with every graph output and every
 * input. */

#ifdef __cplusplus
}
#endif
#endif
