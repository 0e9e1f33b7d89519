/* Graph storage and the builders: every node is validated and shaped by lc_infer_node before
 * it is appended, so a graph is well-formed at every moment. */
#include <stdlib.h>
#include <string.h>

#include "ir/graph_copy.h"
#include "ir/graph_internal.h"
#include "support/error.h"

lc_status lc_graph_new(lc_graph **out) {
    *out = calloc(1, sizeof **out);
    if (!*out) return lc_fail(LC_ERR_NOMEM, "graph: out of memory");
    return LC_OK;
}

void lc_graph_free(lc_graph *g) {
    if (!g) return;
    lc_arena_free(&g->arena);
    free(g->nodes);
    free(g->outputs);
    free(g);
}

int lc_graph_node_count(const lc_graph *g) { return g->count; }

const lc_node *lc_graph_node(const lc_graph *g, int index) {
    if (index < 0 || index >= g->count) return NULL;
    return g->nodes[index];
}

static lc_status grow(void **array, int *capacity, int needed, size_t elem) {
    if (needed <= *capacity) return LC_OK;
    int cap = *capacity ? *capacity * 2 : 16;
    while (cap < needed) cap *= 2;
    void *p = realloc(*array, (size_t)cap * elem);
    if (!p) return lc_fail(LC_ERR_NOMEM, "graph: out of memory");
    *array = p;
    *capacity = cap;
    return LC_OK;
}

lc_status lc_graph_append(lc_graph *g, lc_op op, const int *inputs, const int64_t *attrs,
                          double real_attr, lc_dtype dtype, const lc_shape *shape,
                          const double *data, int *out) {
    const lc_op_info *info = lc_op_get_info(op);
    if (!info) return lc_fail(LC_ERR_INVALID_ARG, "graph: unknown op %d", (int)op);
    if (!g || !out) return lc_fail(LC_ERR_INVALID_ARG, "%s: graph and out must not be NULL", info->name);
    lc_node n = {.op = op, .dtype = dtype, .real_attr = real_attr, .data = data};
    for (int i = 0; i < LC_MAX_INPUTS; i++) n.inputs[i] = i < info->arity ? inputs[i] : -1;
    for (int i = 0; i < info->n_int_attrs; i++) n.attr[i] = attrs ? attrs[i] : info->int_attr_default[i];
    if (info->arity == 0) {
        if (!shape) return lc_fail(LC_ERR_INVALID_ARG, "%s: shape must be given", info->name);
        n.shape = *shape;
    }
    LC_TRY(lc_infer_node(g, g->count, &n));
    LC_TRY(grow((void **)&g->nodes, &g->capacity, g->count + 1, sizeof *g->nodes));
    lc_node *stored = lc_arena_alloc(&g->arena, sizeof *stored);
    if (!stored) return lc_fail(LC_ERR_NOMEM, "graph: out of memory");
    *stored = n;
    if (op == LC_OP_CONSTANT) {
        int64_t numel = lc_shape_numel(&n.shape);
        if ((uint64_t)numel > SIZE_MAX / sizeof(double))
            return lc_fail(LC_ERR_NOMEM, "constant: too many elements (%lld)", (long long)numel);
        double *copy = lc_arena_alloc(&g->arena, (size_t)numel * sizeof(double));
        if (!copy) return lc_fail(LC_ERR_NOMEM, "constant: out of memory");
        if (numel > 0) memcpy(copy, data, (size_t)numel * sizeof(double));
        stored->data = copy;
    }
    g->nodes[g->count] = stored;
    *out = g->count++;
    return LC_OK;
}

/* Whether input k of `n` (a node of `from`) may be g's node `in` without inferring n again. */
static bool same_input(const lc_graph *g, int in, const lc_graph *from, int old) {
    if (in < 0 || in >= g->count || old < 0 || old >= from->count) return false;
    const lc_node *a = g->nodes[in], *b = from->nodes[old];
    return a->dtype == b->dtype && lc_shape_equal(&a->shape, &b->shape);
}

lc_status lc_graph_append_copy(lc_graph *g, const lc_graph *from, int node, const int *inputs, int *out) {
    const lc_node *n = lc_graph_node(from, node);
    if (!n) return lc_fail(LC_ERR_INVALID_ARG, "graph copy: node must be 0..%d, got %d", from->count - 1, node);
    const lc_op_info *info = lc_op_get_info(n->op);
    bool same = info->arity > 0;
    for (int k = 0; same && k < info->arity; k++) same = same_input(g, inputs[k], from, n->inputs[k]);
    if (!same) {
        LC_TRY(lc_graph_append(g, n->op, inputs, n->attr, n->real_attr, n->dtype, &n->shape, n->data, out));
    } else {
        LC_TRY(grow((void **)&g->nodes, &g->capacity, g->count + 1, sizeof *g->nodes));
        lc_node *stored = lc_arena_alloc(&g->arena, sizeof *stored);
        if (!stored) return lc_fail(LC_ERR_NOMEM, "graph: out of memory");
        *stored = *n;
        stored->name = NULL;
        for (int k = 0; k < LC_MAX_INPUTS; k++) stored->inputs[k] = k < info->arity ? inputs[k] : -1;
        g->nodes[g->count] = stored;
        *out = g->count++;
    }
    return n->name ? lc_graph_set_name(g, *out, n->name) : LC_OK;
}

lc_status lc_graph_add_output(lc_graph *g, int node) {
    if (!g) return lc_fail(LC_ERR_INVALID_ARG, "graph: graph must not be NULL");
    if (node < 0 || node >= g->count)
        return lc_fail(LC_ERR_INVALID_ARG, "graph: output must name a node (0..%d), got %d",
                       g->count - 1, node);
    for (int i = 0; i < g->n_outputs; i++)
        if (g->outputs[i] == node)
            return lc_fail(LC_ERR_INVALID_ARG, "graph: node %%%d is already an output", node);
    LC_TRY(grow((void **)&g->outputs, &g->outputs_capacity, g->n_outputs + 1, sizeof *g->outputs));
    g->outputs[g->n_outputs++] = node;
    return LC_OK;
}

int lc_graph_output_count(const lc_graph *g) { return g->n_outputs; }

int lc_graph_output(const lc_graph *g, int i) {
    return i >= 0 && i < g->n_outputs ? g->outputs[i] : -1;
}

int lc_graph_input_count(const lc_graph *g) {
    int n = 0;
    for (int i = 0; i < g->count; i++) n += g->nodes[i]->op == LC_OP_INPUT;
    return n;
}

int lc_graph_input(const lc_graph *g, int k) {
    for (int i = 0; i < g->count; i++)
        if (g->nodes[i]->op == LC_OP_INPUT && k-- == 0) return i;
    return -1;
}

lc_status lc_graph_set_name(lc_graph *g, int node, const char *name) {
    if (!g) return lc_fail(LC_ERR_INVALID_ARG, "graph: graph must not be NULL");
    if (node < 0 || node >= g->count)
        return lc_fail(LC_ERR_INVALID_ARG, "graph: node must be 0..%d, got %d", g->count - 1, node);
    if (!name) {
        g->nodes[node]->name = NULL;
        return LC_OK;
    }
    char *copy = lc_arena_strdup(&g->arena, name);
    if (!copy) return lc_fail(LC_ERR_NOMEM, "graph: out of memory");
    g->nodes[node]->name = copy;
    return LC_OK;
}

lc_status lc_graph_clone(const lc_graph *g, lc_graph **out) {
    if (!g || !out) return lc_fail(LC_ERR_INVALID_ARG, "graph clone: graph and out must not be NULL");
    lc_graph *c;
    LC_TRY(lc_graph_new(&c));
    lc_status st = LC_OK;
    for (int i = 0; i < g->count && st == LC_OK; i++) {
        int idx;
        st = lc_graph_append_copy(c, g, i, g->nodes[i]->inputs, &idx);
    }
    for (int i = 0; i < g->n_outputs && st == LC_OK; i++) st = lc_graph_add_output(c, g->outputs[i]);
    if (st != LC_OK) {
        lc_graph_free(c);
        return st;
    }
    *out = c;
    return LC_OK;
}

lc_status lc_graph_verify(const lc_graph *g) {
    if (!g) return lc_fail(LC_ERR_INVALID_ARG, "verify: graph must not be NULL");
    for (int i = 0; i < g->count; i++) {
        lc_node n = *g->nodes[i];
        lc_status st = lc_infer_node(g, i, &n);
        if (st != LC_OK) return lc_fail_prefix(st, "verify: node %%%d", i);
        if (n.dtype != g->nodes[i]->dtype || !lc_shape_equal(&n.shape, &g->nodes[i]->shape))
            return lc_fail(LC_ERR_SHAPE, "verify: node %%%d (%s): recorded shape or dtype differs "
                           "from the inferred one", i, lc_op_get_info(n.op)->name);
    }
    for (int i = 0; i < g->n_outputs; i++)
        if (g->outputs[i] < 0 || g->outputs[i] >= g->count)
            return lc_fail(LC_ERR_INVALID_ARG, "verify: output %d names no node (%d)", i, g->outputs[i]);
    return LC_OK;
}

/* Typed builders. */

static const lc_shape no_shape;

lc_status lc_input(lc_graph *g, const char *name, lc_dtype dtype, lc_shape shape, int *out) {
    if (!out) return lc_fail(LC_ERR_INVALID_ARG, "input: out must not be NULL");
    int idx;
    LC_TRY(lc_graph_append(g, LC_OP_INPUT, NULL, NULL, 0, dtype, &shape, NULL, &idx));
    if (name) LC_TRY(lc_graph_set_name(g, idx, name));
    *out = idx;
    return LC_OK;
}

lc_status lc_constant(lc_graph *g, lc_dtype dtype, lc_shape shape, const double *data, int *out) {
    return lc_graph_append(g, LC_OP_CONSTANT, NULL, NULL, 0, dtype, &shape, data, out);
}

lc_status lc_scalar(lc_graph *g, lc_dtype dtype, double value, int *out) {
    lc_shape scalar = {0};
    return lc_constant(g, dtype, scalar, &value, out);
}

static lc_status unary(lc_graph *g, lc_op op, int x, const int64_t *attrs, double real, int *out) {
    return lc_graph_append(g, op, &x, attrs, real, LC_F32, &no_shape, NULL, out);
}

static lc_status binary(lc_graph *g, lc_op op, int a, int b, const int64_t *attrs, int *out) {
    int in[2] = {a, b};
    return lc_graph_append(g, op, in, attrs, 0, LC_F32, &no_shape, NULL, out);
}

lc_status lc_unfold_dilated(lc_graph *g, int x, int dim, int64_t size, int64_t step, int64_t pad_lo,
                            int64_t pad_hi, int64_t dilation, int *out) {
    int64_t a[LC_MAX_INT_ATTRS] = {[LC_UNFOLD_DIM] = dim, [LC_UNFOLD_SIZE] = size, [LC_UNFOLD_STEP] = step,
                                 [LC_UNFOLD_PAD_LO] = pad_lo, [LC_UNFOLD_PAD_HI] = pad_hi,
                                 [LC_UNFOLD_DILATION] = dilation};
    return unary(g, LC_OP_UNFOLD, x, a, 0, out);
}

lc_status lc_unfold_neg_inf_pad(lc_graph *g, int x, int dim, int64_t size, int64_t step, int64_t pad_lo,
                                int64_t pad_hi, int64_t dilation, int *out) {
    int64_t a[LC_MAX_INT_ATTRS] = {[LC_UNFOLD_DIM] = dim, [LC_UNFOLD_SIZE] = size, [LC_UNFOLD_STEP] = step,
                                 [LC_UNFOLD_PAD_LO] = pad_lo, [LC_UNFOLD_PAD_HI] = pad_hi,
                                 [LC_UNFOLD_DILATION] = dilation, [LC_UNFOLD_NEG_INF_PAD] = 1};
    return unary(g, LC_OP_UNFOLD, x, a, 0, out);
}

lc_status lc_unfold(lc_graph *g, int x, int dim, int64_t size, int64_t step, int64_t pad_lo,
                    int64_t pad_hi, int *out) {
    return lc_unfold_dilated(g, x, dim, size, step, pad_lo, pad_hi, 1, out);
}

lc_status lc_fold_dilated(lc_graph *g, int x, int dim, int64_t size, int64_t step, int64_t pad_lo,
                          int64_t pad_hi, int64_t dilation, int64_t length, int *out) {
    int64_t a[LC_MAX_INT_ATTRS] = {[LC_FOLD_DIM] = dim, [LC_FOLD_SIZE] = size, [LC_FOLD_STEP] = step,
                                 [LC_FOLD_PAD_LO] = pad_lo, [LC_FOLD_PAD_HI] = pad_hi,
                                 [LC_FOLD_LENGTH] = length, [LC_FOLD_DILATION] = dilation};
    return unary(g, LC_OP_FOLD, x, a, 0, out);
}

lc_status lc_fold(lc_graph *g, int x, int dim, int64_t size, int64_t step, int64_t pad_lo,
                  int64_t pad_hi, int64_t length, int *out) {
    return lc_fold_dilated(g, x, dim, size, step, pad_lo, pad_hi, 1, length, out);
}

lc_status lc_expand(lc_graph *g, int x, int dim, int64_t size, int *out) {
    int64_t a[LC_MAX_INT_ATTRS] = {[LC_EXPAND_DIM] = dim, [LC_EXPAND_SIZE] = size};
    return unary(g, LC_OP_EXPAND, x, a, 0, out);
}

lc_status lc_abs(lc_graph *g, int x, int *out) { return unary(g, LC_OP_ABS, x, NULL, 0, out); }
lc_status lc_sign(lc_graph *g, int x, int *out) { return unary(g, LC_OP_SIGN, x, NULL, 0, out); }
lc_status lc_relu(lc_graph *g, int x, int *out) { return unary(g, LC_OP_RELU, x, NULL, 0, out); }

lc_status lc_pow(lc_graph *g, int x, double exponent, int *out) {
    int64_t a[LC_MAX_INT_ATTRS] = {[LC_POW_ZERO_POLE] = 0};
    return unary(g, LC_OP_POW, x, a, exponent, out);
}

lc_status lc_pow_zero_pole(lc_graph *g, int x, double exponent, int *out) {
    int64_t a[LC_MAX_INT_ATTRS] = {[LC_POW_ZERO_POLE] = 1};
    return unary(g, LC_OP_POW, x, a, exponent, out);
}

lc_status lc_mul(lc_graph *g, int a, int b, int *out) { return binary(g, LC_OP_MUL, a, b, NULL, out); }
lc_status lc_add(lc_graph *g, int a, int b, int *out) { return binary(g, LC_OP_ADD, a, b, NULL, out); }
lc_status lc_equal(lc_graph *g, int a, int b, int *out) { return binary(g, LC_OP_EQUAL, a, b, NULL, out); }
lc_status lc_select(lc_graph *g, int m, int x, int *out) { return binary(g, LC_OP_SELECT, m, x, NULL, out); }

lc_status lc_div(lc_graph *g, int a, int b, int *out) {
    int64_t safe[LC_MAX_INT_ATTRS] = {[LC_DIV_SAFE] = 0};
    return binary(g, LC_OP_DIV, a, b, safe, out);
}

lc_status lc_div_safe(lc_graph *g, int a, int b, int *out) {
    int64_t safe[LC_MAX_INT_ATTRS] = {[LC_DIV_SAFE] = 1};
    return binary(g, LC_OP_DIV, a, b, safe, out);
}

lc_status lc_sum(lc_graph *g, int x, int dim, int *out) {
    int64_t a[LC_MAX_INT_ATTRS] = {[LC_SUM_DIM] = dim};
    return unary(g, LC_OP_SUM, x, a, 0, out);
}

lc_status lc_mean(lc_graph *g, int x, int dim, int *out) {
    int64_t a[LC_MAX_INT_ATTRS] = {[LC_MEAN_DIM] = dim};
    return unary(g, LC_OP_MEAN, x, a, 0, out);
}

lc_status lc_max(lc_graph *g, int x, int dim, int *out) {
    int64_t a[LC_MAX_INT_ATTRS] = {[LC_MAX_DIM] = dim};
    return unary(g, LC_OP_MAX, x, a, 0, out);
}

lc_status lc_max_mask(lc_graph *g, int x, int dim, int *out) {
    int64_t a[LC_MAX_INT_ATTRS] = {[LC_MAX_MASK_DIM] = dim};
    return unary(g, LC_OP_MAX_MASK, x, a, 0, out);
}
