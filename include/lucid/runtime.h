/* Running graphs. The reference interpreter evaluates any graph node by node in plain C with
 * every intermediate in float64; it is the oracle every compiled program is tested against.
 *
 * Thread-safety: the interpreter keeps no state between calls; concurrent runs are safe, of
 * the same graph too. */
#ifndef LUCID_RUNTIME_H
#define LUCID_RUNTIME_H

#include "lucid/export.h"
#include "lucid/ir.h"
#include "lucid/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Evaluate `g`. `inputs` holds one tensor per graph input, in input order, of that input's
 * dtype and shape. On success outputs[i] is a new tensor for graph output i (caller frees);
 * on failure every outputs[i] is NULL. */
LC_API lc_status lc_interp_run(const lc_graph *g, const lc_tensor *const *inputs, int n_inputs,
                               lc_tensor **outputs, int n_outputs);

#ifdef __cplusplus
}
#endif
#endif
