/* Reverse-mode autodiff: copy the graph, add one seed input per differentiated output, then
 * walk the nodes from last to first and append each one's vector-Jacobian rule
 * (grad_rules.c). The layout of the result is documented in include/lucid/autodiff.h.
 *
 *   forward nodes ─ seeds ─ rule(n-1) ─ … ─ rule(0) ─ zero gradients, copies ─ outputs
 *
 * Only nodes on a path from a differentiated input to a differentiated output get a rule.
 * When a node is reached, every user (a later node) has already contributed its share of the
 * node's gradient, so the shares are summed with `add` then, in the order they were made. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lucid/autodiff.h"
#include "passes/grad_rules.h"
#include "passes/pass.h"
#include "support/error.h"

/* Gradient shares waiting for their node: one singly linked list per node, in arrays. */
typedef struct shares {
    int *head, *tail;      /* per node: first and last share, -1 when none */
    int *node, *next;      /* per share: the gradient node and the following share */
    bool *own;             /* per share: made by a rule for this node (so named after it) */
    int count, capacity;
} shares;

static lc_status shares_push(shares *s, int target, int grad, bool own) {
    if (s->count == s->capacity) {
        int cap = s->capacity ? s->capacity * 2 : 64;
        int *node = realloc(s->node, (size_t)cap * sizeof *node);
        if (!node) return lc_fail(LC_ERR_NOMEM, "autodiff: out of memory");
        s->node = node;
        int *next = realloc(s->next, (size_t)cap * sizeof *next);
        if (!next) return lc_fail(LC_ERR_NOMEM, "autodiff: out of memory");
        s->next = next;
        bool *owns = realloc(s->own, (size_t)cap * sizeof *owns);
        if (!owns) return lc_fail(LC_ERR_NOMEM, "autodiff: out of memory");
        s->own = owns;
        s->capacity = cap;
    }
    int k = s->count++;
    s->node[k] = grad;
    s->next[k] = -1;
    s->own[k] = own;
    if (s->tail[target] < 0)
        s->head[target] = k;
    else
        s->next[s->tail[target]] = k;
    s->tail[target] = k;
    return LC_OK;
}

typedef struct autodiff {
    const lc_graph *in;
    lc_graph *g;      /* the result being built */
    int n;            /* forward node count */
    bool *active;     /* depends on a differentiated input */
    bool *useful;     /* a differentiated output depends on it */
    int *uses;        /* per forward node: its readers plus its listings as an output */
    int *total;       /* per forward node: its summed gradient, -1 when zero or not needed */
    shares sh;
} autodiff;

static lc_status check_args(const lc_graph *g, const int *outputs, int n_outputs, const int *wrt,
                            int n_wrt) {
    int n = lc_graph_node_count(g);
    if (n_outputs < 0 || n_wrt < 0)
        return lc_fail(LC_ERR_INVALID_ARG, "autodiff: counts must be >= 0, got %d outputs and %d inputs",
                       n_outputs, n_wrt);
    if ((n_outputs > 0 && !outputs) || (n_wrt > 0 && !wrt))
        return lc_fail(LC_ERR_INVALID_ARG, "autodiff: a non-zero count needs its array");
    for (int i = 0; i < n_outputs; i++) {
        if (outputs[i] < 0 || outputs[i] >= n)
            return lc_fail(LC_ERR_INVALID_ARG, "autodiff: output %d must name a node (0..%d), got %d",
                           i, n - 1, outputs[i]);
        for (int j = 0; j < i; j++)
            if (outputs[j] == outputs[i])
                return lc_fail(LC_ERR_INVALID_ARG, "autodiff: output %%%d is listed twice", outputs[i]);
    }
    for (int i = 0; i < n_wrt; i++) {
        if (wrt[i] < 0 || wrt[i] >= n)
            return lc_fail(LC_ERR_INVALID_ARG, "autodiff: input %d must name a node (0..%d), got %d",
                           i, n - 1, wrt[i]);
        if (lc_graph_node(g, wrt[i])->op != LC_OP_INPUT)
            return lc_fail(LC_ERR_INVALID_ARG, "autodiff: node %%%d (%s) is not an input; "
                           "gradients are taken with respect to inputs", wrt[i],
                           lc_op_get_info(lc_graph_node(g, wrt[i])->op)->name);
        for (int j = 0; j < i; j++)
            if (wrt[j] == wrt[i])
                return lc_fail(LC_ERR_INVALID_ARG, "autodiff: input %%%d is listed twice", wrt[i]);
    }
    return LC_OK;
}

/* Mark what lies between the differentiated inputs and outputs: only those nodes need rules. */
static void mark(autodiff *ad, const int *outputs, int n_outputs, const int *wrt, int n_wrt) {
    for (int i = 0; i < n_wrt; i++) ad->active[wrt[i]] = true;
    for (int i = 0; i < ad->n; i++) {
        const lc_node *nd = lc_graph_node(ad->in, i);
        for (int k = 0; k < lc_op_get_info(nd->op)->arity; k++)
            if (ad->active[nd->inputs[k]]) ad->active[i] = true;
    }
    for (int i = 0; i < ad->n; i++) {
        const lc_node *nd = lc_graph_node(ad->in, i);
        for (int k = 0; k < lc_op_get_info(nd->op)->arity; k++) ad->uses[nd->inputs[k]]++;
    }
    for (int i = 0; i < lc_graph_output_count(ad->in); i++) ad->uses[lc_graph_output(ad->in, i)]++;
    for (int i = 0; i < n_outputs; i++) ad->useful[outputs[i]] = true;
    for (int i = ad->n - 1; i >= 0; i--) {
        if (!ad->useful[i]) continue;
        const lc_node *nd = lc_graph_node(ad->in, i);
        for (int k = 0; k < lc_op_get_info(nd->op)->arity; k++) ad->useful[nd->inputs[k]] = true;
    }
}

/* Sum the shares of node i's gradient into ad->total[i]. A share the rules made for this node
 * is named after it ("grad.<node>"; ".1", ".2" … when there are several, the sum taking the
 * plain name); a share that is another node's gradient passed through (add's rule) keeps its
 * own name. */
static lc_status gather(autodiff *ad, int i) {
    int k = ad->sh.head[i];
    if (k < 0) return LC_OK;
    if (ad->sh.next[k] < 0) {
        int only = ad->sh.node[k];
        if (ad->sh.own[k]) LC_TRY(lc_grad_set_name(ad->g, only, i, NULL));
        ad->total[i] = only;
        return LC_OK;
    }
    int acc = -1, index = 1;
    for (; k >= 0; k = ad->sh.next[k], index++) {
        int share = ad->sh.node[k];
        char suffix[16];
        snprintf(suffix, sizeof suffix, "%d", index);
        if (ad->sh.own[k]) LC_TRY(lc_grad_set_name(ad->g, share, i, suffix));
        if (acc < 0) {
            acc = share;
            continue;
        }
        LC_TRY(lc_add(ad->g, acc, share, &acc));
        LC_TRY(lc_grad_set_name(ad->g, acc, i, ad->sh.next[k] < 0 ? NULL : "partial"));
    }
    ad->total[i] = acc;
    return LC_OK;
}

/* Zeros of node x's shape for an input no differentiated output depends on: a scalar 0
 * expanded one axis at a time (no data of the input's size in the graph). */
static lc_status zeros_like(lc_graph *g, int x, int *out) {
    const lc_node *xn = lc_graph_node(g, x);
    lc_shape shape = xn->shape;
    int z;
    LC_TRY(lc_scalar(g, xn->dtype, 0.0, &z));
    for (int d = 0; d < shape.rank; d++) LC_TRY(lc_expand(g, z, d, shape.dim[d], &z));
    *out = z;
    return LC_OK;
}

static bool is_output(const lc_graph *g, int node) {
    for (int i = 0; i < lc_graph_output_count(g); i++)
        if (lc_graph_output(g, i) == node) return true;
    return false;
}

static lc_status run(autodiff *ad, const int *outputs, int n_outputs, const int *wrt, int n_wrt) {
    lc_graph *g = ad->g;
    for (int i = 0; i < n_outputs; i++) {
        const lc_node *o = lc_graph_node(g, outputs[i]);
        int seed;
        LC_TRY(lc_input(g, NULL, o->dtype, o->shape, &seed));
        LC_TRY(lc_grad_set_name(g, seed, outputs[i], NULL));
        if (ad->active[outputs[i]]) LC_TRY(shares_push(&ad->sh, outputs[i], seed, false));
    }
    for (int i = ad->n - 1; i >= 0; i--) {
        if (!ad->active[i] || !ad->useful[i]) continue;
        LC_TRY(gather(ad, i));
        if (ad->total[i] < 0) continue;
        const lc_node *nd = lc_graph_node(g, i);
        bool need[LC_MAX_INPUTS] = {false};
        int contrib[LC_MAX_INPUTS];
        for (int k = 0; k < lc_op_get_info(nd->op)->arity; k++) need[k] = ad->active[nd->inputs[k]];
        int first_new = lc_graph_node_count(g);
        int rows, row_max, cols;
        if (lc_grad_max2d_chain(g, i, &rows, &row_max, &cols) && ad->uses[rows] == 1 && ad->uses[row_max] == 1) {
            /* A separable 2-D max pool whose row maxima nothing else reads: x's gradient
             * straight from each window's chosen slot, so the backward neither searches the
             * windows again nor passes through the row maxima's gradient (grad_rules.h). */
            int x = lc_graph_node(g, cols)->inputs[0], gx;
            LC_TRY(lc_grad_max2d(g, i, ad->total[i], &gx));
            LC_TRY(shares_push(&ad->sh, x, gx, true));
            continue;
        }
        LC_TRY(lc_grad_rule(g, i, ad->total[i], need, contrib));
        for (int k = 0; k < lc_op_get_info(nd->op)->arity; k++)
            if (need[k] && contrib[k] >= 0)
                LC_TRY(shares_push(&ad->sh, nd->inputs[k], contrib[k], contrib[k] >= first_new));
    }
    for (int i = 0; i < n_wrt; i++) {
        int grad = ad->total[wrt[i]];
        if (grad < 0) {
            LC_TRY(zeros_like(g, wrt[i], &grad));
            LC_TRY(lc_grad_set_name(g, grad, wrt[i], NULL));
        } else if (is_output(g, grad)) {
            /* Two inputs can share one gradient node (a + b passes the seed to both), and a
             * graph lists a node once among its outputs: the second gets an exact copy. */
            int one;
            LC_TRY(lc_scalar(g, lc_graph_node(g, grad)->dtype, 1.0, &one));
            LC_TRY(lc_mul(g, grad, one, &grad));
            LC_TRY(lc_grad_set_name(g, grad, wrt[i], NULL));
        }
        LC_TRY(lc_graph_add_output(g, grad));
    }
    return LC_OK;
}

lc_status lc_autodiff(const lc_graph *g, const int *outputs, int n_outputs, const int *wrt,
                      int n_wrt, lc_graph **out) {
    if (!out) return lc_fail(LC_ERR_INVALID_ARG, "autodiff: out must not be NULL");
    *out = NULL;
    if (!g) return lc_fail(LC_ERR_INVALID_ARG, "autodiff: graph must not be NULL");
    LC_TRY(check_args(g, outputs, n_outputs, wrt, n_wrt));
    autodiff ad = {.in = g, .n = lc_graph_node_count(g)};
    int *all_outputs = NULL, *all_inputs = NULL;
    lc_status st = LC_OK;
    if (!outputs) {
        n_outputs = lc_graph_output_count(g);
        all_outputs = malloc(((size_t)n_outputs + 1) * sizeof *all_outputs);
        if (!all_outputs) st = lc_fail(LC_ERR_NOMEM, "autodiff: out of memory");
        for (int i = 0; st == LC_OK && i < n_outputs; i++) all_outputs[i] = lc_graph_output(g, i);
        outputs = all_outputs;
    }
    if (!wrt && st == LC_OK) {
        n_wrt = lc_graph_input_count(g);
        all_inputs = malloc(((size_t)n_wrt + 1) * sizeof *all_inputs);
        if (!all_inputs) st = lc_fail(LC_ERR_NOMEM, "autodiff: out of memory");
        for (int i = 0, k = 0; st == LC_OK && i < ad.n; i++)
            if (lc_graph_node(g, i)->op == LC_OP_INPUT) all_inputs[k++] = i;
        wrt = all_inputs;
    }
    size_t n = (size_t)ad.n + 1;
    if (st == LC_OK) {
        ad.active = calloc(n, sizeof *ad.active);
        ad.useful = calloc(n, sizeof *ad.useful);
        ad.uses = calloc(n, sizeof *ad.uses);
        ad.total = malloc(n * sizeof *ad.total);
        ad.sh.head = malloc(n * sizeof *ad.sh.head);
        ad.sh.tail = malloc(n * sizeof *ad.sh.tail);
        if (!ad.active || !ad.useful || !ad.uses || !ad.total || !ad.sh.head || !ad.sh.tail)
            st = lc_fail(LC_ERR_NOMEM, "autodiff: out of memory");
    }
    if (st == LC_OK) {
        for (int i = 0; i < ad.n; i++) ad.total[i] = ad.sh.head[i] = ad.sh.tail[i] = -1;
        mark(&ad, outputs, n_outputs, wrt, n_wrt);
        st = lc_graph_clone(g, &ad.g);
    }
    if (st == LC_OK) st = run(&ad, outputs, n_outputs, wrt, n_wrt);
    if (st == LC_OK) {
        *out = ad.g;
        ad.g = NULL;
    }
    lc_graph_free(ad.g);
    free(ad.active);
    free(ad.useful);
    free(ad.uses);
    free(ad.total);
    free(ad.sh.head);
    free(ad.sh.tail);
    free(ad.sh.node);
    free(ad.sh.next);
    free(ad.sh.own);
    free(all_outputs);
    free(all_inputs);
    return st;
}

/* The pass "autodiff" (its row in lucid/stages.def): every output with respect to every input. */
lc_status lc_pass_autodiff(const lc_graph *in, lc_graph **out) {
    return lc_autodiff(in, NULL, 0, NULL, 0, out);
}
