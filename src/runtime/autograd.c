/* Tensor-style autograd over graphs (include/lucid/autograd.h): module calls record the
 * autodiff graph of what they ran; backward replays those graphs from the result back to the
 * leaves (data inputs and module parameters). The records (autograd_internal.h) are
 * reference counted so tensors can be freed in any order, and form a DAG: backward visits
 * them in reverse creation order, so each record's gradient is complete before it is passed
 * on. */
#include <inttypes.h>
#include <stdatomic.h>
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

/* Record creation order and backward visit marks: process-wide counters, so records of
 * different threads never share a value. */
static _Atomic uint64_t next_order = 1, next_visit = 1;

/* ---- records ---- */

static void record_free(struct lc_grad_fn *fn, struct lc_grad_fn **worklist) {
    for (int i = 0; i < fn->n_inputs; i++) {
        struct lc_grad_fn *p = fn->parents[i];
        if (p && --p->refs == 0) { /* a worklist, not recursion: histories can be long */
            p->next_release = *worklist;
            *worklist = p;
        }
        lc_tensor_free(fn->inputs[i]);
    }
    free(fn->inputs);
    free(fn->parents);
    lc_graph_free(fn->graph);
    free(fn);
}

static void record_unref(struct lc_grad_fn *fn) {
    if (!fn || --fn->refs > 0) return;
    struct lc_grad_fn *worklist = fn;
    fn->next_release = NULL;
    while (worklist) {
        struct lc_grad_fn *next = worklist;
        worklist = next->next_release;
        record_free(next, &worklist);
    }
}

void lc_grad_fn_release(struct lc_grad_fn *fn) {
    if (!fn) return;
    if (fn->kind == LC_GRAD_FN_LEAF) fn->leaf = NULL;
    record_unref(fn);
}

static struct lc_grad_fn *record_new(lc_grad_fn_kind kind) {
    struct lc_grad_fn *fn = calloc(1, sizeof *fn);
    if (!fn) return NULL;
    fn->refs = 1;
    fn->kind = kind;
    fn->order = atomic_fetch_add(&next_order, 1);
    return fn;
}

static lc_status leaf_record(lc_tensor *t) {
    if (t->grad_fn) return LC_OK;
    struct lc_grad_fn *fn = record_new(LC_GRAD_FN_LEAF);
    if (!fn) return lc_fail(LC_ERR_NOMEM, "autograd: out of memory");
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

/* A copy of t's values in `dtype` (a float32 parameter read by a float64 graph). */
static lc_status copy_as(const lc_tensor *t, lc_dtype dtype, lc_tensor **out) {
    if (t->dtype == dtype) return lc_tensor_clone(t, out);
    LC_TRY(lc_tensor_new(dtype, t->shape, out));
    for (int64_t i = 0; i < lc_tensor_numel(t); i++) lc_tensor_set(*out, i, lc_tensor_get(t, i));
    return LC_OK;
}

/* The record of y = m(inputs): the call's autodiff graph with respect to the inputs that
 * track grad, the input values (taken over: `values` is emptied) and their records. */
static lc_status call_record(const lc_graph *g, lc_tensor **sources, lc_tensor **values, int n,
                             struct lc_grad_fn **out) {
    /* requires_grad set by hand on the field: give the tensor its record first, so it is
     * older than this one */
    for (int i = 0; i < n; i++)
        if (lc_tensor_tracks_grad(sources[i])) LC_TRY(leaf_record(sources[i]));
    struct lc_grad_fn *fn = record_new(LC_GRAD_FN_CALL);
    int *wrt = malloc(sizeof(int) * (size_t)(n ? n : 1));
    if (!fn || !wrt) {
        free(fn);
        free(wrt);
        return lc_fail(LC_ERR_NOMEM, "autograd: out of memory");
    }
    lc_status st = LC_OK;
    fn->inputs = calloc((size_t)n, sizeof *fn->inputs);
    fn->parents = calloc((size_t)n, sizeof *fn->parents);
    if (!fn->inputs || !fn->parents) st = lc_fail(LC_ERR_NOMEM, "autograd: out of memory");
    int n_wrt = 0;
    for (int i = 0; st == LC_OK && i < n; i++) {
        fn->n_inputs++;
        fn->inputs[i] = values[i];
        values[i] = NULL;
        if (!lc_tensor_tracks_grad(sources[i])) continue;
        fn->parents[i] = sources[i]->grad_fn;
        fn->parents[i]->refs++;
        wrt[n_wrt++] = lc_graph_input(g, i);
    }
    if (st == LC_OK) st = lc_autodiff(g, NULL, 0, wrt, n_wrt, &fn->graph);
    free(wrt);
    if (st != LC_OK) {
        record_unref(fn);
        return st;
    }
    *out = fn;
    return LC_OK;
}

/* The name messages give graph input i ("x", "target", "0.weight"). */
static const char *input_name(const lc_graph *g, int i) {
    const char *name = lc_graph_node(g, lc_graph_input(g, i))->name;
    return name ? name : "?";
}

lc_status lc_module_call_inputs(const lc_module *m, lc_tensor *const *xs, int n_xs, lc_tensor **y) {
    if (!y) return lc_fail(LC_ERR_INVALID_ARG, "module call: output pointer must not be NULL");
    *y = NULL;
    if (!m || !xs) return lc_fail(LC_ERR_INVALID_ARG, "module call: module and inputs must not be NULL");
    int n_data = lc_module_input_count(m);
    if (n_xs != n_data)
        return lc_fail(LC_ERR_INVALID_ARG, "module call: the module takes %d input%s, got %d", n_data,
                       n_data == 1 ? "" : "s", n_xs);
    for (int i = 0; i < n_xs; i++)
        if (!xs[i]) return lc_fail(LC_ERR_INVALID_ARG, "module call: input %d must not be NULL", i);
    lc_graph *g;
    LC_TRY(lc_module_graph(m, xs[0]->dtype, xs[0]->shape, &g)); /* data inputs, parameters, one output */
    int n = lc_graph_input_count(g), n_params = lc_module_param_count(m);
    LC_ASSERT(n == n_data + n_params);
    lc_tensor **sources = calloc((size_t)n, sizeof *sources);
    lc_tensor **values = calloc((size_t)n, sizeof *values);
    lc_status st = sources && values ? LC_OK : lc_fail(LC_ERR_NOMEM, "autograd: out of memory");
    bool track = false;
    for (int i = 0; st == LC_OK && i < n; i++) {
        if (i < n_data) {
            sources[i] = xs[i];
        } else {
            /* the module owns its parameters and lends them to its calls (nn.h) */
            st = lc_module_param_at((lc_module *)m, i - n_data, NULL, 0, &sources[i]);
            if (st != LC_OK) break;
        }
        const lc_node *want = lc_graph_node(g, lc_graph_input(g, i));
        if (i < n_data && (!lc_shape_equal(&sources[i]->shape, &want->shape) || sources[i]->dtype != want->dtype)) {
            char a[160], b[160];
            st = lc_fail(LC_ERR_SHAPE, "module call: %s must have the %s's shape and dtype %s%s, got %s%s",
                         input_name(g, i), input_name(g, 0), lc_dtype_name(want->dtype),
                         lc_shape_str(&want->shape, a, sizeof a), lc_dtype_name(sources[i]->dtype),
                         lc_shape_str(&sources[i]->shape, b, sizeof b));
            break;
        }
        st = copy_as(sources[i], want->dtype, &values[i]);
        track |= lc_tensor_tracks_grad(sources[i]);
    }
    lc_tensor *result = NULL;
    if (st == LC_OK) st = executor(g, (const lc_tensor *const *)values, n, &result, 1);
    struct lc_grad_fn *fn = NULL;
    if (st == LC_OK && track) st = call_record(g, sources, values, n, &fn);
    for (int i = 0; values && i < n; i++) lc_tensor_free(values[i]);
    free(values);
    free(sources);
    lc_graph_free(g);
    if (st != LC_OK) {
        lc_tensor_free(result);
        return st;
    }
    result->grad_fn = fn;
    *y = result;
    return LC_OK;
}

lc_status lc_module_call(const lc_module *m, lc_tensor *x, lc_tensor **y) {
    if (!x) {
        if (y) *y = NULL;
        return lc_fail(LC_ERR_INVALID_ARG, "module call: module and input must not be NULL");
    }
    return lc_module_call_inputs(m, &x, 1, y);
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

/* *acc += g elementwise; *acc NULL takes g over instead. */
static void add_into(lc_tensor **acc, lc_tensor *g) {
    if (!*acc) {
        *acc = g;
        return;
    }
    LC_ASSERT(lc_shape_equal(&(*acc)->shape, &g->shape));
    for (int64_t i = 0; i < lc_tensor_numel(g); i++)
        lc_tensor_set(*acc, i, lc_tensor_get(*acc, i) + lc_tensor_get(g, i));
    lc_tensor_free(g);
}

static int by_order_desc(const void *a, const void *b) {
    uint64_t x = (*(struct lc_grad_fn *const *)a)->order, y = (*(struct lc_grad_fn *const *)b)->order;
    return (x < y) - (x > y);
}

/* Every record y reaches, each once (marked with `visit`), into a malloc'd array. */
static lc_status collect(struct lc_grad_fn *root, uint64_t visit, struct lc_grad_fn ***out, int *count) {
    int cap = 16, n = 0, top = 0;
    struct lc_grad_fn **all = malloc(sizeof *all * (size_t)cap);
    struct lc_grad_fn **stack = malloc(sizeof *stack * (size_t)cap);
    int stack_cap = cap;
    lc_status st = all && stack ? LC_OK : lc_fail(LC_ERR_NOMEM, "backward: out of memory");
    if (st == LC_OK) {
        root->visit = visit;
        stack[top++] = root;
    }
    while (st == LC_OK && top > 0) {
        struct lc_grad_fn *fn = stack[--top];
        if (n == cap) {
            struct lc_grad_fn **grown = realloc(all, sizeof *all * (size_t)cap * 2);
            if (!grown) { st = lc_fail(LC_ERR_NOMEM, "backward: out of memory"); break; }
            all = grown;
            cap *= 2;
        }
        all[n++] = fn;
        for (int i = 0; i < fn->n_inputs; i++) {
            struct lc_grad_fn *p = fn->parents[i];
            if (!p || p->visit == visit) continue;
            p->visit = visit;
            if (top == stack_cap) {
                struct lc_grad_fn **grown = realloc(stack, sizeof *stack * (size_t)stack_cap * 2);
                if (!grown) { st = lc_fail(LC_ERR_NOMEM, "backward: out of memory"); break; }
                stack = grown;
                stack_cap *= 2;
            }
            stack[top++] = p;
        }
    }
    free(stack);
    if (st != LC_OK) {
        free(all);
        return st;
    }
    *out = all;
    *count = n;
    return LC_OK;
}

/* Pass the gradient of each record (complete, since every record that reads it comes first
 * in reverse creation order) on to its inputs' records. */
static lc_status propagate(struct lc_grad_fn **all, int n, lc_tensor **grads) {
    for (int k = 0; k < n; k++) {
        struct lc_grad_fn *fn = all[k];
        if (fn->kind != LC_GRAD_FN_CALL || !grads[k]) continue;
        int n_grads = 0;
        for (int i = 0; i < fn->n_inputs; i++) n_grads += fn->parents[i] != NULL;
        int n_in = fn->n_inputs + 1, n_out = 1 + n_grads;
        const lc_tensor **in = malloc(sizeof *in * (size_t)n_in);
        lc_tensor **out = calloc((size_t)n_out, sizeof *out);
        if (!in || !out) {
            free(in);
            free(out);
            return lc_fail(LC_ERR_NOMEM, "backward: out of memory");
        }
        for (int i = 0; i < fn->n_inputs; i++) in[i] = fn->inputs[i];
        in[fn->n_inputs] = grads[k];
        lc_status st = executor(fn->graph, in, n_in, out, n_out);
        free(in);
        if (st != LC_OK) {
            free(out);
            return st;
        }
        lc_tensor_free(out[0]); /* the recomputed forward */
        for (int i = 0, j = 1; i < fn->n_inputs; i++)
            if (fn->parents[i]) add_into(&grads[fn->parents[i]->slot], out[j++]);
        free(out);
    }
    return LC_OK;
}

lc_status lc_backward(lc_tensor *y, const lc_tensor *seed) {
    if (!y) return lc_fail(LC_ERR_INVALID_ARG, "backward: tensor must not be NULL");
    if (!lc_tensor_tracks_grad(y))
        return lc_fail(LC_ERR_INVALID_ARG, "backward: the tensor does not require grad and was not "
                       "computed from one that does");
    LC_TRY(check_seed(y, seed));
    if (!y->grad_fn) LC_TRY(leaf_record(y)); /* requires_grad set by hand */
    struct lc_grad_fn **all = NULL;
    int n = 0;
    LC_TRY(collect(y->grad_fn, atomic_fetch_add(&next_visit, 1), &all, &n));
    qsort(all, (size_t)n, sizeof *all, by_order_desc); /* y's record first */
    LC_ASSERT(all[0] == y->grad_fn);
    for (int k = 0; k < n; k++) all[k]->slot = k;
    /* Gradients are carried between records and added to the leaves' .grad only at the end,
     * so a failure on the way changes nothing. */
    lc_tensor **grads = calloc((size_t)n, sizeof *grads);
    lc_status st = grads ? LC_OK : lc_fail(LC_ERR_NOMEM, "backward: out of memory");
    if (st == LC_OK && seed) st = lc_tensor_clone(seed, &grads[0]);
    if (st == LC_OK && !seed) {
        st = lc_tensor_new(y->dtype, y->shape, &grads[0]);
        if (st == LC_OK) lc_tensor_set(grads[0], 0, 1.0);
    }
    if (st == LC_OK) st = propagate(all, n, grads);
    for (int k = 0; st == LC_OK && k < n; k++) { /* every .grad exists before any changes */
        lc_tensor *leaf = all[k]->kind == LC_GRAD_FN_LEAF ? all[k]->leaf : NULL;
        if (leaf && grads[k] && !leaf->grad) st = lc_tensor_new(leaf->dtype, leaf->shape, &leaf->grad);
    }
    for (int k = 0; st == LC_OK && k < n; k++) {
        lc_tensor *leaf = all[k]->kind == LC_GRAD_FN_LEAF ? all[k]->leaf : NULL;
        if (!leaf || !grads[k]) continue;
        LC_ASSERT(lc_shape_equal(&leaf->shape, &grads[k]->shape));
        for (int64_t i = 0; i < lc_tensor_numel(leaf); i++)
            lc_tensor_set(leaf->grad, i, lc_tensor_get(leaf->grad, i) + lc_tensor_get(grads[k], i));
    }
    for (int k = 0; grads && k < n; k++) lc_tensor_free(grads[k]);
    free(grads);
    free(all);
    return st;
}
