/* The autograd bookkeeping a tensor may point to (lc_tensor.grad_fn). The autograd issue
 * fills this in; for now a tensor only needs to release it. */
#ifndef LUCID_RUNTIME_AUTOGRAD_INTERNAL_H
#define LUCID_RUNTIME_AUTOGRAD_INTERNAL_H

struct lc_grad_fn;

/* Drop one reference; frees the record (and what it holds) with the last one. NULL is fine. */
void lc_grad_fn_release(struct lc_grad_fn *fn);

#endif
