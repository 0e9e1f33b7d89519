/* The autograd bookkeeping a tensor may point to (lc_tensor.grad_fn), private to the runtime.
 * src/runtime/autograd.c owns it; include/lucid/autograd.h describes the model. */
#ifndef LUCID_RUNTIME_AUTOGRAD_INTERNAL_H
#define LUCID_RUNTIME_AUTOGRAD_INTERNAL_H

#include <stdint.h>

#include "lucid/ir.h"
#include "lucid/tensor.h"

typedef enum lc_grad_fn_kind {
    LC_GRAD_FN_LEAF, /* a tensor that requires grad: where gradients end up */
    LC_GRAD_FN_CALL, /* a result of a module call: how to pass a gradient on to its inputs */
} lc_grad_fn_kind;

/* One record, shared by reference count between the tensor it describes and the records of
 * the results computed from that tensor. Records form a DAG (a call reads its data inputs and
 * the module's parameters, each with its own record). Not thread-safe: one thread uses the
 * tensors of one history. */
struct lc_grad_fn {
    int refs;
    lc_grad_fn_kind kind;
    /* Creation order: a record is made after every record it points to, so sorting by it
     * descending is a topological order for backward. */
    uint64_t order;
    /* LEAF: the tensor whose .grad receives gradients; NULL once that tensor is freed or stops
     * requiring grad (results made before then still hold the record, and skip it). */
    lc_tensor *leaf;
    /* CALL: the autodiff graph of the call (inputs: the call's graph inputs, then the seed;
     * outputs: y, then one gradient per input whose parent is not NULL, in input order);
     * copies of the input values (data inputs, then parameters, in the graph's dtype); and
     * each input's record (one reference held each), NULL for an input that does not track
     * grad. */
    lc_graph *graph;
    int n_inputs;
    lc_tensor **inputs;
    struct lc_grad_fn **parents;
    /* Scratch of the one thread using this history: backward's visit mark and slot, and the
     * release worklist's link. */
    uint64_t visit;
    int slot;
    struct lc_grad_fn *next_release;
};

/* The owning tensor's reference, dropped by lc_tensor_free: a leaf record is detached from
 * its tensor first (so a later backward never writes into freed memory), then the record is
 * freed with its last reference. NULL is fine. Only lc_tensor_free calls this. */
void lc_grad_fn_release(struct lc_grad_fn *fn);

#endif
