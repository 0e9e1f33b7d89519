/* The autograd bookkeeping a tensor may point to (lc_tensor.grad_fn), private to the runtime.
 * src/runtime/autograd.c owns it; include/lucid/autograd.h describes the model. */
#ifndef LUCID_RUNTIME_AUTOGRAD_INTERNAL_H
#define LUCID_RUNTIME_AUTOGRAD_INTERNAL_H

#include "lucid/ir.h"
#include "lucid/tensor.h"

typedef enum lc_grad_fn_kind {
    LC_GRAD_FN_LEAF, /* a tensor that requires grad: where gradients end up */
    LC_GRAD_FN_CALL, /* a result of lc_module_call: how to pass a gradient on to its input */
} lc_grad_fn_kind;

/* One record, shared by reference count between the tensor it describes and the records of
 * the results computed from that tensor. Not thread-safe: one thread uses a tensor chain. */
struct lc_grad_fn {
    int refs;
    lc_grad_fn_kind kind;
    /* LEAF: the tensor whose .grad receives gradients; NULL once that tensor is freed or stops
     * requiring grad (results made before then still hold the record, and skip it). */
    lc_tensor *leaf;
    /* CALL: the autodiff graph of the call, inputs (x, seed), outputs (y, dx); a copy of x's
     * values; and x's record (one reference held). */
    lc_graph *graph;
    lc_tensor *input;
    struct lc_grad_fn *parent;
};

/* The owning tensor's reference, dropped by lc_tensor_free: a leaf record is detached from
 * its tensor first (so a later backward never writes into freed memory), then the record is
 * freed with its last reference. NULL is fine. Only lc_tensor_free calls this. */
void lc_grad_fn_release(struct lc_grad_fn *fn);

#endif
