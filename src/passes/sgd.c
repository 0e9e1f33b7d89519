/* The SGD training graph (lucid/train.h): autodiff of the loss with respect to the
 * parameters, its seed input replaced by the constant 1, then the update written in graph ops
 * so it fuses and compiles with the rest:
 *
 *   forward ─ backward (seed = 1) ─ per parameter: [−g] [g + wd·w] ─ [m·buf + (1−d)·g]
 *       [g + m·buf] ─ w + (−lr)·step      (each bracket only when its option asks for it)
 *
 * The update's ops are elementwise over the parameter's shape, so the kernel writing a new
 * parameter reads the old one element by element and the runtime writes it in place. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "lucid/autodiff.h"
#include "lucid/train.h"
#include "passes/rebuild.h"
#include "support/error.h"

lc_sgd_options lc_sgd_options_default(double lr) {
    lc_sgd_options o = {.lr = lr, .momentum = 0.0, .weight_decay = 0.0, .dampening = 0.0,
                        .nesterov = false, .maximize = false};
    return o;
}

static lc_status check_option(const char *name, double v) {
    if (!isfinite(v) || v < 0.0)
        return lc_fail(LC_ERR_INVALID_ARG, "SGD: %s must be finite and >= 0, got %g", name, v);
    return LC_OK;
}

static lc_status check_args(const lc_graph *g, int loss_output, const int *params, int n_params,
                            const lc_sgd_options *o) {
    if (!g || !o) return lc_fail(LC_ERR_INVALID_ARG, "SGD: graph and options must not be NULL");
    LC_TRY(check_option("lr", o->lr));
    LC_TRY(check_option("momentum", o->momentum));
    LC_TRY(check_option("weight_decay", o->weight_decay));
    if (!isfinite(o->dampening))
        return lc_fail(LC_ERR_INVALID_ARG, "SGD: dampening must be finite, got %g", o->dampening);
    if (o->nesterov && (o->momentum <= 0.0 || o->dampening != 0.0))
        return lc_fail(LC_ERR_INVALID_ARG,
                       "SGD: nesterov needs momentum > 0 and dampening 0, got momentum %g and dampening %g",
                       o->momentum, o->dampening);
    int nout = lc_graph_output_count(g);
    if (loss_output < 0 || loss_output >= nout)
        return lc_fail(LC_ERR_INVALID_ARG, "SGD: loss_output must be in [0, %d), got %d", nout, loss_output);
    const lc_node *loss = lc_graph_node(g, lc_graph_output(g, loss_output));
    if (lc_shape_numel(&loss->shape) != 1) {
        char buf[96];
        return lc_fail(LC_ERR_SHAPE, "SGD: the loss (output %d) must have one element, got shape %s",
                       loss_output, lc_shape_str(&loss->shape, buf, sizeof buf));
    }
    if (n_params < 1 || !params)
        return lc_fail(LC_ERR_INVALID_ARG, "SGD: n_params must be >= 1, got %d", n_params);
    int count = lc_graph_node_count(g);
    for (int k = 0; k < n_params; k++) {
        int p = params[k];
        if (p < 0 || p >= count || lc_graph_node(g, p)->op != LC_OP_INPUT)
            return lc_fail(LC_ERR_INVALID_ARG, "SGD: params[%d] = %d is not an input node", k, p);
        for (int j = 0; j < k; j++)
            if (params[j] == p)
                return lc_fail(LC_ERR_INVALID_ARG, "SGD: params[%d] and params[%d] are both node %d", j, k, p);
    }
    return LC_OK;
}

/* Name node `node` of `g` "<prefix><param label><suffix>". */
static lc_status name_after(lc_graph *g, int node, const char *prefix, const lc_node *param,
                            int param_index, const char *suffix) {
    char buf[256];
    if (param->name) snprintf(buf, sizeof buf, "%s%s%s", prefix, param->name, suffix);
    else snprintf(buf, sizeof buf, "%s%%%d%s", prefix, param_index, suffix);
    return lc_graph_set_name(g, node, buf);
}

/* c · x with c a scalar constant of x's dtype. */
static lc_status scale(lc_graph *g, int x, double c, int *out) {
    int k;
    LC_TRY(lc_scalar(g, lc_graph_node(g, x)->dtype, c, &k));
    return lc_mul(g, x, k, out);
}

/* Append parameter w's update reading its gradient `grad` (and momentum buffer `buf`, or -1);
 * new value to *w_next, new buffer to *buf_next. */
static lc_status append_update(lc_graph *g, const lc_sgd_options *o, const lc_node *param, int param_old,
                               int w, int grad, int buf, int *w_next, int *buf_next) {
    int step = grad;
    if (o->maximize) {
        LC_TRY(scale(g, grad, -1.0, &step));
        LC_TRY(name_after(g, step, "sgd.", param, param_old, ".ascent"));
    }
    if (o->weight_decay != 0.0) {
        int decay;
        LC_TRY(scale(g, w, o->weight_decay, &decay));
        LC_TRY(lc_add(g, step, decay, &step));
        LC_TRY(name_after(g, step, "sgd.", param, param_old, ".decayed"));
    }
    *buf_next = -1;
    if (buf >= 0) {
        int kept, added = step;
        if (o->dampening != 0.0) LC_TRY(scale(g, step, 1.0 - o->dampening, &added));
        LC_TRY(scale(g, buf, o->momentum, &kept));
        LC_TRY(lc_add(g, kept, added, buf_next));
        LC_TRY(name_after(g, *buf_next, "sgd.", param, param_old, ".momentum"));
        if (o->nesterov) {
            int ahead;
            LC_TRY(scale(g, *buf_next, o->momentum, &ahead));
            LC_TRY(lc_add(g, step, ahead, &step));
            LC_TRY(name_after(g, step, "sgd.", param, param_old, ".nesterov"));
        } else {
            step = *buf_next;
        }
    }
    int delta;
    LC_TRY(scale(g, step, -o->lr, &delta));
    LC_TRY(lc_add(g, w, delta, w_next));
    return name_after(g, *w_next, "sgd.", param, param_old, "");
}

/* Copy autodiff's graph `b` into rb, the loss's seed input (node `seed`) becoming the
 * constant 1. */
static lc_status copy_with_unit_seed(lc_rebuild *rb, int seed) {
    int count = lc_graph_node_count(rb->in);
    for (int i = 0; i < count; i++) {
        if (i != seed) {
            LC_TRY(lc_rebuild_copy(rb, i, NULL));
            continue;
        }
        const lc_node *n = lc_graph_node(rb->in, i);
        int64_t numel = lc_shape_numel(&n->shape); /* 1: checked */
        double one[1] = {1.0};
        LC_ASSERT(numel == 1);
        LC_TRY(lc_constant(rb->out, n->dtype, n->shape, one, &rb->map[i]));
        if (n->name) LC_TRY(lc_graph_set_name(rb->out, rb->map[i], n->name));
    }
    return LC_OK;
}

static lc_status build(const lc_graph *g, const lc_graph *b, const int *params, int n_params,
                       const lc_sgd_options *o, lc_graph **out) {
    int n = lc_graph_node_count(g), nout = lc_graph_output_count(g);
    lc_rebuild rb;
    LC_TRY(lc_rebuild_begin(&rb, b));
    int *next = malloc(sizeof(int) * 2 * (size_t)n_params);
    lc_status st = next ? LC_OK : lc_fail(LC_ERR_NOMEM, "SGD: out of memory");
    /* autodiff puts the one seed right after the forward nodes */
    if (st == LC_OK) st = copy_with_unit_seed(&rb, n);
    bool momentum = o->momentum != 0.0;
    for (int k = 0; st == LC_OK && k < n_params; k++) {
        const lc_node *p = lc_graph_node(g, params[k]);
        int buf = -1;
        if (momentum) {
            st = lc_input(rb.out, NULL, p->dtype, p->shape, &buf);
            if (st == LC_OK) st = name_after(rb.out, buf, "momentum.", p, params[k], "");
        }
        int w = rb.map[params[k]], grad = rb.map[lc_graph_output(b, nout + k)];
        if (st == LC_OK) st = append_update(rb.out, o, p, params[k], w, grad, buf, &next[k], &next[n_params + k]);
    }
    for (int j = 0; st == LC_OK && j < nout; j++) st = lc_graph_add_output(rb.out, rb.map[lc_graph_output(b, j)]);
    for (int k = 0; st == LC_OK && k < n_params; k++) st = lc_graph_add_output(rb.out, next[k]);
    for (int k = 0; st == LC_OK && momentum && k < n_params; k++)
        st = lc_graph_add_output(rb.out, next[n_params + k]);
    free(next);
    if (st == LC_OK) {
        *out = rb.out;
        rb.out = NULL;
    }
    lc_rebuild_abort(&rb);
    return st;
}

lc_status lc_sgd_graph(const lc_graph *g, int loss_output, const int *params, int n_params,
                       const lc_sgd_options *o, lc_graph **out) {
    if (!out) return lc_fail(LC_ERR_INVALID_ARG, "SGD: out must not be NULL");
    *out = NULL;
    LC_TRY(check_args(g, loss_output, params, n_params, o));
    int loss = lc_graph_output(g, loss_output);
    lc_graph *b;
    LC_TRY(lc_autodiff(g, &loss, 1, params, n_params, &b));
    lc_status st = build(g, b, params, n_params, o, out);
    lc_graph_free(b);
    return st == LC_OK ? LC_OK : lc_fail_prefix(st, "SGD");
}
