/* The reference interpreter: evaluates a graph node by node in plain C. It is the oracle
 * every compiled program is tested against, so each op is written the obvious way, straight
 * from its definition in ops.def, with no cleverness and no pattern matching.
 *
 * Every intermediate is a wide-exponent number (runtime/wide.h: a double mantissa and an int64
 * exponent), so no |x|^p, product or sum over- or underflows inside the graph (docs/pipeline.md):
 * an LP norm with p = 1e6 or of 1e200 comes out as exactly as the math allows without the
 * interpreter knowing it is an LP norm. Values are rounded to the graph's dtype only where
 * they leave the graph (its outputs).
 *
 * Every node's value is a dense row-major lc_wide array of the node's shape. An axis `dim`
 * splits a shape into (outer, extent, inner) blocks, which is all the indexing any op needs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/window.h"
#include "lucid/runtime.h"
#include "runtime/wide.h"
#include "support/error.h"

typedef struct axis_split {
    int64_t outer, extent, inner;
} axis_split;

static axis_split split_at(const lc_shape *s, int dim) {
    axis_split a = {1, 1, 1};
    for (int i = 0; i < dim; i++) a.outer *= s->dim[i];
    a.extent = dim < s->rank ? s->dim[dim] : 1;
    for (int i = dim + 1; i < s->rank; i++) a.inner *= s->dim[i];
    return a;
}

/* unfold: out[a][o][b][j] = x[a][o*step - pad_lo + j][b], 0 outside [0, L). */
static void eval_unfold(const lc_node *n, const lc_node *xn, const lc_wide *x, lc_wide *out) {
    lc_window w = lc_window_of(n);
    int dim = w.dim;
    int64_t size = w.size, step = w.step, lo = w.pad_lo;
    axis_split in = split_at(&xn->shape, dim);
    int64_t windows = n->shape.dim[dim];
    for (int64_t a = 0; a < in.outer; a++)
        for (int64_t o = 0; o < windows; o++)
            for (int64_t b = 0; b < in.inner; b++)
                for (int64_t j = 0; j < size; j++) {
                    int64_t pos = o * step - lo + j;
                    lc_wide v = pos >= 0 && pos < in.extent ? x[(a * in.extent + pos) * in.inner + b]
                                                            : lc_wide_from_double(0.0);
                    out[((a * windows + o) * in.inner + b) * size + j] = v;
                }
}

/* fold: out[a][pos][b] = sum of in[a][o][b][j] over every (o, j) with o*step - pad_lo + j = pos. */
static void eval_fold(const lc_node *n, const lc_node *xn, const lc_wide *x, lc_wide *out) {
    lc_window w = lc_window_of(n);
    int dim = w.dim;
    int64_t size = w.size, step = w.step, lo = w.pad_lo, length = n->attr[LC_FOLD_LENGTH];
    axis_split res = split_at(&n->shape, dim);
    int64_t windows = xn->shape.dim[dim];
    for (int64_t k = 0; k < lc_shape_numel(&n->shape); k++) out[k] = lc_wide_from_double(0.0);
    for (int64_t a = 0; a < res.outer; a++)
        for (int64_t o = 0; o < windows; o++)
            for (int64_t b = 0; b < res.inner; b++)
                for (int64_t j = 0; j < size; j++) {
                    int64_t pos = o * step - lo + j;
                    if (pos >= 0 && pos < length) {
                        lc_wide *dst = &out[(a * length + pos) * res.inner + b];
                        *dst = lc_wide_add(*dst, x[((a * windows + o) * res.inner + b) * size + j]);
                    }
                }
}

/* expand: out[a][s][b] = x[a][b]. */
static void eval_expand(const lc_node *n, const lc_wide *x, lc_wide *out) {
    axis_split r = split_at(&n->shape, (int)n->attr[LC_EXPAND_DIM]);
    for (int64_t a = 0; a < r.outer; a++)
        for (int64_t s = 0; s < r.extent; s++)
            for (int64_t b = 0; b < r.inner; b++) out[(a * r.extent + s) * r.inner + b] = x[a * r.inner + b];
}

/* sum and mean over axis dim: out[a][b] = sum_d x[a][d][b] (/ extent). */
static void eval_reduce(const lc_node *n, const lc_node *xn, const lc_wide *x, lc_wide *out) {
    axis_split in = split_at(&xn->shape, (int)n->attr[LC_REDUCE_DIM]);
    lc_wide extent = lc_wide_from_double((double)in.extent);
    for (int64_t a = 0; a < in.outer; a++)
        for (int64_t b = 0; b < in.inner; b++) {
            lc_wide acc = lc_wide_from_double(0.0);
            for (int64_t d = 0; d < in.extent; d++) acc = lc_wide_add(acc, x[(a * in.extent + d) * in.inner + b]);
            out[a * in.inner + b] = n->op == LC_OP_MEAN ? lc_wide_div(acc, extent) : acc;
        }
}

static lc_wide pow_of(lc_wide b, double e, bool zero_pole) {
    if (zero_pole && lc_wide_is_zero(b) && e < 0) return lc_wide_from_double(0.0);
    return lc_wide_pow(b, e);
}

/* Flat index into a broadcast operand of shape `s` for the output index `idx` of shape `o`. */
static int64_t broadcast_index(const lc_shape *o, const lc_shape *s, const int64_t *idx) {
    int64_t flat = 0;
    for (int i = 0; i < s->rank; i++) {
        int oi = o->rank - s->rank + i;
        flat = flat * s->dim[i] + (s->dim[i] == 1 ? 0 : idx[oi]);
    }
    return flat;
}

static lc_wide binary_of(const lc_node *n, lc_wide a, lc_wide b) {
    switch (n->op) {
    case LC_OP_MUL: return lc_wide_mul(a, b);
    case LC_OP_ADD: return lc_wide_add(a, b);
    case LC_OP_DIV:
        if (n->attr[LC_DIV_SAFE] && lc_wide_is_zero(a) && lc_wide_is_zero(b)) return lc_wide_from_double(0.0);
        return lc_wide_div(a, b);
    default: LC_ASSERT(!"not a binary op"); return lc_wide_from_double(0.0);
    }
}

static void eval_binary(const lc_node *n, const lc_node *an, const lc_wide *a, const lc_node *bn,
                        const lc_wide *b, lc_wide *out) {
    int64_t total = lc_shape_numel(&n->shape);
    int64_t idx[LC_MAX_RANK] = {0};
    for (int64_t i = 0; i < total; i++) {
        out[i] = binary_of(n, a[broadcast_index(&n->shape, &an->shape, idx)],
                           b[broadcast_index(&n->shape, &bn->shape, idx)]);
        for (int d = n->shape.rank - 1; d >= 0; d--) { /* odometer increment */
            if (++idx[d] < n->shape.dim[d]) break;
            idx[d] = 0;
        }
    }
}

static lc_status eval_node(const lc_graph *g, int i, lc_wide **values, const lc_tensor *input) {
    const lc_node *n = lc_graph_node(g, i);
    int64_t count = lc_shape_numel(&n->shape);
    lc_wide *out = values[i];
    const lc_node *xn = n->inputs[0] >= 0 ? lc_graph_node(g, n->inputs[0]) : NULL;
    const lc_wide *x = n->inputs[0] >= 0 ? values[n->inputs[0]] : NULL;
    switch (n->op) {
    case LC_OP_INPUT:
        for (int64_t k = 0; k < count; k++) out[k] = lc_wide_from_double(lc_tensor_get(input, k));
        break;
    case LC_OP_CONSTANT: /* a constant of an f32 graph holds f32 values */
        for (int64_t k = 0; k < count; k++)
            out[k] = lc_wide_from_double(n->dtype == LC_F32 ? (double)(float)n->data[k] : n->data[k]);
        break;
    case LC_OP_UNFOLD: eval_unfold(n, xn, x, out); break;
    case LC_OP_FOLD: eval_fold(n, xn, x, out); break;
    case LC_OP_EXPAND: eval_expand(n, x, out); break;
    case LC_OP_ABS:
        for (int64_t k = 0; k < count; k++) out[k] = lc_wide_abs(x[k]);
        break;
    case LC_OP_SIGN:
        for (int64_t k = 0; k < count; k++) out[k] = lc_wide_sign(x[k]);
        break;
    case LC_OP_RELU: /* x where x > 0 or NaN: the sign is 1 or NaN there */
        for (int64_t k = 0; k < count; k++) {
            double s = lc_wide_to_double(lc_wide_sign(x[k]));
            out[k] = s > 0 || isnan(s) ? x[k] : lc_wide_from_double(0.0);
        }
        break;
    case LC_OP_POW:
        for (int64_t k = 0; k < count; k++) out[k] = pow_of(x[k], n->real_attr, n->attr[LC_POW_ZERO_POLE] != 0);
        break;
    case LC_OP_MUL:
    case LC_OP_ADD:
    case LC_OP_DIV:
        eval_binary(n, xn, x, lc_graph_node(g, n->inputs[1]), values[n->inputs[1]], out);
        break;
    case LC_OP_SUM:
    case LC_OP_MEAN: eval_reduce(n, xn, x, out); break;
    case LC_OP_COUNT: return lc_fail(LC_ERR_INTERNAL, "interp: node %%%d has no op", i);
    }
    return LC_OK;
}

static lc_status check_inputs(const lc_graph *g, const lc_tensor *const *inputs, int n_inputs) {
    int expected = lc_graph_input_count(g);
    if (n_inputs != expected)
        return lc_fail(LC_ERR_INVALID_ARG, "interp: graph takes %d inputs, got %d", expected, n_inputs);
    for (int k = 0; k < n_inputs; k++) {
        const lc_node *n = lc_graph_node(g, lc_graph_input(g, k));
        const lc_tensor *t = inputs[k];
        char want[96], got[96];
        if (!t) return lc_fail(LC_ERR_INVALID_ARG, "interp: input %d is NULL", k);
        if (t->dtype != n->dtype || !lc_shape_equal(&t->shape, &n->shape))
            return lc_fail(LC_ERR_SHAPE, "interp: input %d (%s) must be %s%s, got %s%s", k,
                           n->name ? n->name : "?", lc_dtype_name(n->dtype),
                           lc_shape_str(&n->shape, want, sizeof want), lc_dtype_name(t->dtype),
                           lc_shape_str(&t->shape, got, sizeof got));
    }
    return LC_OK;
}

lc_status lc_interp_run(const lc_graph *g, const lc_tensor *const *inputs, int n_inputs,
                        lc_tensor **outputs, int n_outputs) {
    if (!g || (n_outputs > 0 && !outputs) || (n_inputs > 0 && !inputs))
        return lc_fail(LC_ERR_INVALID_ARG, "interp: graph, inputs and outputs must not be NULL");
    for (int k = 0; k < n_outputs; k++) outputs[k] = NULL;
    if (n_outputs != lc_graph_output_count(g))
        return lc_fail(LC_ERR_INVALID_ARG, "interp: graph has %d outputs, got room for %d",
                       lc_graph_output_count(g), n_outputs);
    LC_TRY(check_inputs(g, inputs, n_inputs));

    int count = lc_graph_node_count(g);
    /* last_use[i]: the last node reading node i (or count for graph outputs), so every
     * intermediate is freed as soon as nothing needs it. */
    lc_wide **values = calloc((size_t)count + 1, sizeof *values);
    int *last_use = calloc((size_t)count + 1, sizeof *last_use);
    lc_status st = LC_OK;
    if (!values || !last_use) st = lc_fail(LC_ERR_NOMEM, "interp: out of memory");
    for (int i = 0; st == LC_OK && i < count; i++) {
        const lc_node *n = lc_graph_node(g, i);
        last_use[i] = i;
        for (int k = 0; k < lc_op_get_info(n->op)->arity; k++) last_use[n->inputs[k]] = i;
    }
    for (int k = 0; st == LC_OK && k < n_outputs; k++) last_use[lc_graph_output(g, k)] = count;

    int next_input = 0;
    for (int i = 0; st == LC_OK && i < count; i++) {
        const lc_node *n = lc_graph_node(g, i);
        int64_t numel = lc_shape_numel(&n->shape);
        if ((uint64_t)numel > SIZE_MAX / sizeof(lc_wide) / 2) {
            st = lc_fail(LC_ERR_NOMEM, "interp: node %%%d has too many elements (%lld)", i, (long long)numel);
            break;
        }
        values[i] = malloc((size_t)(numel ? numel : 1) * sizeof(lc_wide));
        if (!values[i]) {
            st = lc_fail(LC_ERR_NOMEM, "interp: cannot allocate %lld values for node %%%d", (long long)numel, i);
            break;
        }
        st = eval_node(g, i, values, n->op == LC_OP_INPUT ? inputs[next_input++] : NULL);
        for (int k = 0; k < lc_op_get_info(n->op)->arity; k++) {
            int in = n->inputs[k];
            if (last_use[in] == i) {
                free(values[in]);
                values[in] = NULL;
            }
        }
    }
    for (int k = 0; st == LC_OK && k < n_outputs; k++) {
        const lc_node *n = lc_graph_node(g, lc_graph_output(g, k));
        st = lc_tensor_new(n->dtype, n->shape, &outputs[k]);
        if (st != LC_OK) break;
        /* The one rounding: wide to double, then (for f32) double to float, which is exact
         * up to that second, single rounding (wide.h). */
        const lc_wide *v = values[lc_graph_output(g, k)];
        for (int64_t e = 0; e < lc_shape_numel(&n->shape); e++)
            lc_tensor_set(outputs[k], e, lc_wide_to_double(v[e]));
    }
    if (st != LC_OK)
        for (int k = 0; k < n_outputs; k++) {
            lc_tensor_free(outputs[k]);
            outputs[k] = NULL;
        }
    if (values)
        for (int i = 0; i < count; i++) free(values[i]);
    free(values);
    free(last_use);
    return st;
}
