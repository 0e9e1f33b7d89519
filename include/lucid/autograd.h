/* Tensor-style autograd, as Lucid (github.com/ChanLumerico/lucid) offers it: mark a tensor as
 * requiring grad, apply modules to it, call backward on a result, read .grad
 * (docs/semantics.md, "Gradients").
 *
 *   lc_tensor_set_requires_grad(x, true);
 *   lc_module_call(pool, x, &y);          y->grad_fn records how y was made
 *   lc_backward(y, seed);                 x->grad += d(Σ seed·y)/dx
 *
 * How it works: lc_module_call builds the module's graph, runs it with the executor (the
 * reference interpreter unless lc_autograd_set_executor says otherwise) and, when an input
 * (x, or a parameter of the module: a leaf that requires grad from birth) requires grad or
 * was itself computed from such a tensor, attaches to y a record (struct lc_grad_fn,
 * reference counted) holding the autodiff graph of the call, copies of its input values, and
 * a reference to each input's own record. lc_backward walks these records from y back to the
 * leaves, each record once, in reverse order of creation (a result reached along several
 * paths, such as a module applied twice, sums its gradients before passing them on).
 *
 * Ownership: records are shared by the tensors and records that point to them and freed with
 * the last reference, so tensors may be freed in any order: freeing x before y is fine (y's
 * record keeps what backward needs; a freed leaf simply receives no gradient), and freeing y
 * frees its record unless a later result still depends on it. A leaf that requires grad
 * carries a small record of its own (x->grad_fn), through which results reach it.
 *
 * Thread-safety: records are shared between tensors without locks (plain reference counts),
 * so the tensors of one history (a leaf and everything computed from it) belong to one thread
 * at a time; separate histories may be used on separate threads. The executor is one
 * process-wide setting (see lc_autograd_set_executor). */
#ifndef LUCID_AUTOGRAD_H
#define LUCID_AUTOGRAD_H

#include "lucid/export.h"
#include "lucid/nn.h"
#include "lucid/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Mark a leaf tensor as requiring grad (or not). Fails on a tensor computed by
 * lc_module_call (not a leaf): "autograd: requires_grad can only be changed on a leaf tensor".
 * Turning it off keeps x->grad but detaches x from results made before. */
LC_API lc_status lc_tensor_set_requires_grad(lc_tensor *t, bool requires_grad);
/* True for a tensor lc_backward can start from or reach: a leaf requiring grad or a result
 * computed from one. */
LC_API bool lc_tensor_tracks_grad(const lc_tensor *t);

/* y = m(x): a new tensor of x's dtype (caller frees). Records the backward when x or any of
 * the module's parameters tracks grad (parameters are read in x's dtype; their gradients
 * go to their own .grad). Errors are the module's ("LPPool1d: input length 3 is shorter
 * than kernel_size 4"). For a module of one data input. */
LC_API lc_status lc_module_call(const lc_module *m, lc_tensor *x, lc_tensor **y);
/* The same for any module: xs holds lc_module_input_count(m) tensors of one shape and dtype
 * (MSELoss: input, target). */
LC_API lc_status lc_module_call_inputs(const lc_module *m, lc_tensor *const *xs, int n_xs,
                                       lc_tensor **y);

/* Backpropagate from y with upstream gradient `seed`, of y's exact shape and dtype; NULL
 * means 1 and needs y to hold one element. Adds d(Σ seed·y)/dx into .grad of every live leaf
 * x that requires grad and that y depends on (creating .grad, zero-filled, of x's shape and
 * dtype on first use). May be called any number of times; gradients accumulate. Fails, with
 * no .grad changed, on a tensor that does not track grad, a seed of another shape ("backward:
 * seed shape [1,1,3] does not match output shape [1,1,2]") or dtype, or a NULL seed for y of
 * several elements. */
LC_API lc_status lc_backward(lc_tensor *y, const lc_tensor *seed);

/* Set every element of t->grad to 0 (nothing when there is no grad yet). */
LC_API void lc_tensor_zero_grad(lc_tensor *t);

/* The function that runs graphs for autograd, with lc_interp_run's contract (runtime.h). */
typedef lc_status (*lc_executor_fn)(const lc_graph *g, const lc_tensor *const *inputs,
                                    int n_inputs, lc_tensor **outputs, int n_outputs);
/* Swap the executor (NULL restores the interpreter); returns the previous one. Process-wide:
 * set it before tensors are computed, not while another thread runs autograd. */
LC_API lc_executor_fn lc_autograd_set_executor(lc_executor_fn fn);

#ifdef __cplusplus
}
#endif
#endif
