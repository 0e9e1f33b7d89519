/* Tensor-style autograd over graphs (include/lucid/autograd.h): module calls record the
 * autodiff graph of what they ran; backward replays those graphs from the result back to the
 * leaves. The records (autograd_internal.h) are reference counted so tensors can be freed in
 * any order. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lucid/autodiff.h"
#include "lucid/autograd.h"
#include "lucid/runtime.h"
#include "runtime/autograd_internal.h"
#include "support/error.h"

/* The executor: one pointer, so the JIT can replace the interpreter as the default. */
static lc_executor_fn executor = lc_interp_run;

lc_executor_fn lc_autograd_set_executor(lc_executor_fn fn) {
    lc_executor_fn previous = executor;
    executor = fn ? fn : lc_interp_run;
    return previous;
}

/* ---- records ---- */

static void record_unref(struct lc_grad_fn *fn) {
    while (fn && --fn->refs == 0) {
        struct lc_grad_fn *parent = fn->parent; /* released iteratively: chains can be long */
        lc_graph_free(fn->graph);
        lc_tensor_free(fn->input);
        free(fn);
        fn = parent;
    }
}

void lc_grad_fn_release(struct lc_grad_fn *fn) {
    if (!fn) return;
    if (fn->kind == LC_GRAD_FN_LEAF) fn->leaf = NULL;
    record_unref(fn);
}

static lc_status leaf_record(lc_tensor *t) {
    if (t->grad_fn) return LC_OK;
    struct lc_grad_fn *fn = calloc(1, sizeof *fn);
    if (!fn) return lc_fail(LC_ERR_NOMEM, "autograd: out of memory");
    fn->refs = 1;
    fn->kind = LC_GRAD_FN_LEAF;
    fn->leaf = t;
    t->grad_fn = fn;
    return LC_OK;
}

lc_status lc_tensor_set_requires_grad(lc_tensor *t, bool requires_grad) {
    if (!t) return lc_fail(LC_ERR_INVALID_ARG, "autograd: tensor must not be NULL");
    if (t->grad_fn && t->grad_fn->kind != LC_GRAD_FN_LEAF)
        return lc_fail(LC_ERR_INVALID_ARG, "autograd: requires_grad can only be changed on a leaf "
                       "tensor; this one was computed by a module call");
    if (requires_grad) {
        LC_TRY(leaf_record(t));
    } else if (t->grad_fn) {
        lc_grad_fn_release(t->grad_fn); /* detach: earlier results no longer reach t */
        t->grad_fn = NULL;
    }
    t->requires_grad = requires_grad;
    return LC_OK;
}

bool lc_tensor_tracks_grad(const lc_tensor *t) {
    return t && (t->grad_fn != NULL || t->requires_grad);
}

void lc_tensor_zero_grad(lc_tensor *t) {
    if (t && t->grad) memset(t->grad->data, 0, lc_tensor_nbytes(t->grad));
}

/* ---- forward ---- */

/* The record of y = m(x): what backward needs even after x is freed or overwritten. */
static lc_status call_record(const lc_graph *g, lc_tensor *x, struct lc_grad_fn **out) {
    struct lc_grad_fn *fn = calloc(1, sizeof *fn);
    if (!fn) return lc_fail(LC_ERR_NOMEM, "autograd: out of memory");
    fn->refs = 1;
    fn->kind = LC_GRAD_FN_CALL;
    lc_status st = lc_autodiff(g, NULL, 0, NULL, 0, &fn->graph);
    if (st == LC_OK) st = lc_tensor_clone(x, &fn->input);
    if (st == LC_OK) st = leaf_record(x); /* x->requires_grad set by hand: give it its record */
    if (st != LC_OK) {
        record_unref(fn);
        return st;
    }
    fn->parent = x->grad_fn;
    fn->parent->refs++;
    *out = fn;
    return LC_OK;
}

lc_status lc_module_call(const lc_module *m, lc_tensor *x, lc_tensor **y) {
    if (!y) return lc_fail(LC_ERR_INVALID_ARG, "module call: output pointer must not be NULL");
    *y = NULL;
    if (!m || !x) return lc_fail(LC_ERR_INVALID_ARG, "module call: module and input must not be NULL");
    lc_graph *g;
    LC_TRY(lc_module_graph(m, x->dtype, x->shape, &g)); /* input "x", the module, one output */
    struct lc_grad_fn *fn = NULL;
    lc_status st = lc_tensor_tracks_grad(x) ? call_record(g, x, &fn) : LC_OK;
    lc_tensor *result = NULL;
    if (st == LC_OK) st = executor(g, (const lc_tensor *const[]){x}, 1, &result, 1);
    lc_graph_free(g);
    if (st != LC_OK) {
        record_unref(fn);
        return st;
    }
    result->grad_fn = fn;
    *y = result;
    return LC_OK;
}

/* ---- backward ---- */

static lc_status check_seed(const lc_tensor *y, const lc_tensor *seed) {
    char ys[160], ss[160];
    lc_shape_str(&y->shape, ys, sizeof ys);
    if (!seed) {
        if (lc_tensor_numel(y) != 1)
            return lc_fail(LC_ERR_SHAPE, "backward: a seed is needed for an output of %" PRId64
                           " elements (shape %s); only a one-element output may omit it",
                           lc_tensor_numel(y), ys);
        return LC_OK;
    }
    if (!lc_shape_equal(&seed->shape, &y->shape))
        return lc_fail(LC_ERR_SHAPE, "backward: seed shape %s does not match output shape %s",
                       lc_shape_str(&seed->shape, ss, sizeof ss), ys);
    if (seed->dtype != y->dtype)
        return lc_fail(LC_ERR_INVALID_ARG, "backward: seed dtype %s does not match output dtype %s",
                       lc_dtype_name(seed->dtype), lc_dtype_name(y->dtype));
    return LC_OK;
}

/* grad += g, creating a zero grad of the leaf's shape and dtype first. */
static lc_status accumulate(lc_tensor *leaf, const lc_tensor *g) {
    LC_ASSERT(lc_shape_equal(&leaf->shape, &g->shape));
    if (!leaf->grad) LC_TRY(lc_tensor_new(leaf->dtype, leaf->shape, &leaf->grad));
    for (int64_t i = 0; i < lc_tensor_numel(g); i++)
        lc_tensor_set(leaf->grad, i, lc_tensor_get(leaf->grad, i) + lc_tensor_get(g, i));
    return LC_OK;
}

lc_status lc_backward(lc_tensor *y, const lc_tensor *seed) {
    if (!y) return lc_fail(LC_ERR_INVALID_ARG, "backward: tensor must not be NULL");
    if (!lc_tensor_tracks_grad(y))
        return lc_fail(LC_ERR_INVALID_ARG, "backward: the tensor does not require grad and was not "
                       "computed from one that does");
    LC_TRY(check_seed(y, seed));
    if (!y->grad_fn) LC_TRY(leaf_record(y)); /* requires_grad set by hand */
    lc_tensor *ones = NULL;
    if (!seed) {
        LC_TRY(lc_tensor_new(y->dtype, y->shape, &ones));
        lc_tensor_set(ones, 0, 1.0);
        seed = ones;
    }
    /* Each call has one input, so the records from y form a chain ending at one leaf. The
     * gradient is carried down the chain and added to the leaf's .grad only at the end, so a
     * failure on the way changes nothing. */
    const lc_tensor *grad = seed;
    lc_tensor *owned = NULL;
    lc_status st = LC_OK;
    const struct lc_grad_fn *fn = y->grad_fn;
    for (; st == LC_OK && fn->kind == LC_GRAD_FN_CALL; fn = fn->parent) {
        lc_tensor *out[2] = {NULL, NULL};
        st = executor(fn->graph, (const lc_tensor *const[]){fn->input, grad}, 2, out, 2);
        lc_tensor_free(out[0]); /* the recomputed forward */
        lc_tensor_free(owned);
        grad = owned = out[1];
    }
    if (st == LC_OK && fn->leaf) st = accumulate(fn->leaf, grad);
    lc_tensor_free(owned);
    lc_tensor_free(ones);
    return st;
}
