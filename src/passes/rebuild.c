/* The shared skeleton of graph-to-graph passes (see rebuild.h). */
#include <stdlib.h>
#include <string.h>

#include "ir/graph_copy.h"
#include "ir/node_key.h"
#include "passes/rebuild.h"
#include "support/error.h"

lc_status lc_rebuild_begin(lc_rebuild *rb, const lc_graph *in) {
    *rb = (lc_rebuild){.in = in};
    int count = lc_graph_node_count(in);
    rb->map = malloc((size_t)(count ? count : 1) * sizeof *rb->map);
    if (!rb->map) return lc_fail(LC_ERR_NOMEM, "pass: out of memory");
    for (int i = 0; i < count; i++) rb->map[i] = -1;
    lc_status st = lc_graph_new(&rb->out);
    if (st != LC_OK) lc_rebuild_abort(rb);
    return st;
}

lc_status lc_rebuild_append(lc_rebuild *rb, const lc_node *tmpl, const int *inputs, int *out) {
    return lc_graph_append(rb->out, tmpl->op, inputs, tmpl->attr, tmpl->real_attr, tmpl->dtype,
                           &tmpl->shape, tmpl->data, out);
}

static lc_status copy_node(lc_rebuild *rb, int old, int *out) {
    const lc_node *n = lc_graph_node(rb->in, old);
    int inputs[LC_MAX_INPUTS] = {-1, -1};
    for (int k = 0; k < lc_op_get_info(n->op)->arity; k++) {
        inputs[k] = rb->map[n->inputs[k]];
        if (inputs[k] < 0)
            return lc_fail(LC_ERR_INTERNAL, "pass: node %%%d reads %%%d, which was dropped", old,
                           n->inputs[k]);
    }
    return lc_graph_append_copy(rb->out, rb->in, old, inputs, out);
}

lc_status lc_rebuild_copy(lc_rebuild *rb, int old, int *out) {
    int idx;
    LC_TRY(copy_node(rb, old, &idx));
    rb->map[old] = idx;
    if (out) *out = idx;
    return LC_OK;
}

static bool is_input(const lc_graph *g, int node) {
    return lc_graph_node(g, node)->op == LC_OP_INPUT;
}

/* Whether output k may take the new node its old node maps to. A graph output names a node
 * once, so among outputs that now share a node one keeps it: an INPUT if one of them is
 * (an INPUT is its own value; a copy would add a parameter), else the first. */
static bool keeps_node(const lc_rebuild *rb, int k) {
    int old_k = lc_graph_output(rb->in, k);
    if (is_input(rb->in, old_k)) return true;
    for (int j = 0; j < lc_graph_output_count(rb->in); j++) {
        int old_j = lc_graph_output(rb->in, j);
        if (j == k || rb->map[old_j] != rb->map[old_k]) continue;
        if (is_input(rb->in, old_j) || j < k) return false;
    }
    return true;
}

/* A new node computing what new node `idx` computes, for output k (old node `old`): a copy of
 * `idx` itself, so it is as simplified as the pass made it and a second run leaves it alone;
 * an INPUT cannot be copied (that would add a parameter), so then a copy of the old node. The
 * copy carries the old node's name, the output's provenance. */
static lc_status fresh_copy(lc_rebuild *rb, int old, int idx, int *out) {
    const lc_node *n = lc_graph_node(rb->out, idx);
    if (n->op == LC_OP_INPUT) return copy_node(rb, old, out);
    int inputs[LC_MAX_INPUTS] = {n->inputs[0], n->inputs[1]};
    const char *name = lc_graph_node(rb->in, old)->name;
    if (!name) name = n->name;
    LC_TRY(lc_rebuild_append(rb, n, inputs, out));
    return name ? lc_graph_set_name(rb->out, *out, name) : LC_OK;
}

lc_status lc_rebuild_finish(lc_rebuild *rb, lc_graph **out) {
    int n_out = lc_graph_output_count(rb->in);
    for (int k = 0; k < n_out; k++) {
        int old = lc_graph_output(rb->in, k);
        if (rb->map[old] < 0)
            return lc_fail(LC_ERR_INTERNAL, "pass: output %d (%%%d) was dropped", k, old);
    }
    for (int k = 0; k < n_out; k++) {
        int old = lc_graph_output(rb->in, k), idx = rb->map[old];
        if (!keeps_node(rb, k)) LC_TRY(fresh_copy(rb, old, idx, &idx));
        LC_TRY(lc_graph_add_output(rb->out, idx));
    }
    *out = rb->out;
    rb->out = NULL;
    lc_rebuild_abort(rb);
    return LC_OK;
}

void lc_rebuild_abort(lc_rebuild *rb) {
    lc_graph_free(rb->out);
    free(rb->map);
    rb->out = NULL;
    rb->map = NULL;
}

static bool same_name(const char *a, const char *b) {
    return a == b || (a && b && strcmp(a, b) == 0);
}

bool lc_graph_identical(const lc_graph *a, const lc_graph *b) {
    int count = lc_graph_node_count(a);
    if (count != lc_graph_node_count(b) || lc_graph_output_count(a) != lc_graph_output_count(b))
        return false;
    for (int i = 0; i < count; i++) {
        const lc_node *x = lc_graph_node(a, i), *y = lc_graph_node(b, i);
        if (!lc_node_same_fields(x, y) || memcmp(x->inputs, y->inputs, sizeof x->inputs) != 0 ||
            !same_name(x->name, y->name))
            return false;
    }
    for (int k = 0; k < lc_graph_output_count(a); k++)
        if (lc_graph_output(a, k) != lc_graph_output(b, k)) return false;
    return true;
}
