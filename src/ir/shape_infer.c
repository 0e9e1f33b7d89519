/* Shape and dtype rules, one case per op of ops.def, with the validation that names op,
 * parameter and value in every error. Used when building (lc_graph_append) and again by the
 * verifier, so a graph read from text obeys the same rules as one built in C. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include "ir/graph_internal.h"
#include "ir/window.h"
#include "support/error.h"

static lc_status check_shape(const char *op, const lc_shape *s) {
    if (s->rank < 0 || s->rank > LC_MAX_RANK)
        return lc_fail(LC_ERR_SHAPE, "%s: rank must be between 0 and %d, got %d", op,
                       LC_MAX_RANK, s->rank);
    int64_t numel = 1;
    for (int i = 0; i < s->rank; i++) {
        if (s->dim[i] < 0)
            return lc_fail(LC_ERR_SHAPE, "%s: dimension %d must be >= 0, got %" PRId64, op, i,
                           s->dim[i]);
        if (s->dim[i] > 0 && numel > INT64_MAX / s->dim[i]) {
            char shape[LC_MAX_RANK * 22 + 4];
            return lc_fail(LC_ERR_NOMEM, "%s: element count of the shape overflows: %s holds more than "
                           "2^63 - 1 elements, the most a count holds", op, lc_shape_str(s, shape, sizeof shape));
        }
        numel *= s->dim[i];
    }
    return LC_OK;
}

/* numpy broadcasting: align trailing axes; extents must match or one of them be 1. */
static lc_status broadcast(const char *op, const lc_shape *a, const lc_shape *b, lc_shape *out) {
    int rank = a->rank > b->rank ? a->rank : b->rank;
    out->rank = rank;
    for (int i = 0; i < rank; i++) {
        int ia = a->rank - rank + i, ib = b->rank - rank + i;
        int64_t da = ia >= 0 ? a->dim[ia] : 1, db = ib >= 0 ? b->dim[ib] : 1;
        if (da != db && da != 1 && db != 1) {
            char sa[96], sb[96];
            return lc_fail(LC_ERR_SHAPE, "%s: shapes %s and %s do not broadcast (axis %d: %" PRId64
                           " vs %" PRId64 ")", op, lc_shape_str(a, sa, sizeof sa),
                           lc_shape_str(b, sb, sizeof sb), i, da, db);
        }
        out->dim[i] = da == 1 ? db : da;
    }
    return LC_OK;
}

static lc_status check_dim(const char *op, const char *param, int64_t dim, int limit) {
    if (dim < 0 || dim >= limit)
        return lc_fail(LC_ERR_INVALID_ARG, "%s: %s must be between 0 and %d, got %" PRId64, op,
                       param, limit - 1, dim);
    return LC_OK;
}

/* length + pad_lo + pad_hi must fit in int64 (every index computation adds them). */
static lc_status padded_length(const char *op, int64_t length, const lc_window *w, int64_t *out) {
    __int128 padded = (__int128)length + w->pad_lo + w->pad_hi;
    if (padded > INT64_MAX)
        return lc_fail(LC_ERR_SHAPE, "%s: padded length %" PRId64 " + %" PRId64 " + %" PRId64
                       " overflows", op, length, w->pad_lo, w->pad_hi);
    *out = (int64_t)padded;
    return LC_OK;
}

/* unfold and fold share their window parameters. */
static lc_status check_window(const char *op, const lc_window *w) {
    if (w->size < 1) return lc_fail(LC_ERR_INVALID_ARG, "%s: size must be >= 1, got %" PRId64, op, w->size);
    if (w->step < 1) return lc_fail(LC_ERR_INVALID_ARG, "%s: step must be >= 1, got %" PRId64, op, w->step);
    if (w->pad_lo < 0) return lc_fail(LC_ERR_INVALID_ARG, "%s: pad_lo must be >= 0, got %" PRId64, op, w->pad_lo);
    if (w->pad_hi < 0) return lc_fail(LC_ERR_INVALID_ARG, "%s: pad_hi must be >= 0, got %" PRId64, op, w->pad_hi);
    if (w->dilation < 1)
        return lc_fail(LC_ERR_INVALID_ARG, "%s: dilation must be >= 1, got %" PRId64, op, w->dilation);
    return LC_OK;
}

/* The window's span dilation·(size - 1) + 1 must fit the padded length (so it fits int64). */
/* `axis_named`: the message names w's axis (unfold's; fold's window is over its output). */
static lc_status check_span(const char *op, const lc_window *w, int64_t padded, bool axis_named) {
    if (lc_window_span_wide(w) <= padded) return LC_OK;
    char axis[32] = ""; /* formatted only here, on the error path: inference runs per node appended */
    if (axis_named) snprintf(axis, sizeof axis, " of axis %d", w->dim);
    if (w->dilation == 1)
        return lc_fail(LC_ERR_SHAPE, "%s: size %" PRId64 " exceeds the padded length %" PRId64 "%s", op,
                       w->size, padded, axis);
    if (lc_window_span_wide(w) > INT64_MAX)
        return lc_fail(LC_ERR_SHAPE, "%s: window span dilation %" PRId64 " * (size %" PRId64
                       " - 1) + 1 overflows", op, w->dilation, w->size);
    return lc_fail(LC_ERR_SHAPE, "%s: window span dilation %" PRId64 " * (size %" PRId64 " - 1) + 1 = %" PRId64
                   " exceeds the padded length %" PRId64 "%s", op, w->dilation, w->size,
                   lc_window_span(w), padded, axis);
}

lc_status lc_infer_node(const lc_graph *g, int index, lc_node *n) {
    const lc_op_info *info = lc_op_get_info(n->op);
    if (!info) return lc_fail(LC_ERR_INVALID_ARG, "node %%%d: unknown op %d", index, (int)n->op);
    const char *op = info->name;
    const lc_node *in[LC_MAX_INPUTS] = {0};
    for (int i = 0; i < info->arity; i++) {
        if (n->inputs[i] < 0 || n->inputs[i] >= index)
            return lc_fail(LC_ERR_INVALID_ARG,
                           "%s: input %d must name an earlier node (0..%d), got %d", op, i,
                           index - 1, n->inputs[i]);
        in[i] = g->nodes[n->inputs[i]];
    }
    for (int i = info->arity; i < LC_MAX_INPUTS; i++) n->inputs[i] = -1;
    if (info->arity > 0) n->dtype = in[0]->dtype;
    if (n->dtype != LC_F32 && n->dtype != LC_F64)
        return lc_fail(LC_ERR_INVALID_ARG, "%s: dtype must be f32 or f64, got %d", op, (int)n->dtype);
    if (!info->real_attr_name) n->real_attr = 0;
    for (int i = info->n_int_attrs; i < LC_MAX_INT_ATTRS; i++) n->attr[i] = 0;

    if (info->arity == 0) LC_TRY(check_shape(op, &n->shape));
    const int64_t *a = n->attr;
    lc_shape s = info->arity > 0 ? in[0]->shape : n->shape;
    switch (n->op) {
    case LC_OP_INPUT:
        break;
    case LC_OP_CONSTANT:
        if (!n->data && lc_shape_numel(&n->shape) > 0)
            return lc_fail(LC_ERR_INVALID_ARG, "constant: data must not be NULL");
        break;
    case LC_OP_UNFOLD: {
        LC_TRY(check_dim(op, "dim", a[LC_UNFOLD_DIM], s.rank));
        lc_window w = lc_window_of(n);
        LC_TRY(check_window(op, &w));
        if (a[LC_UNFOLD_NEG_INF_PAD] != 0 && a[LC_UNFOLD_NEG_INF_PAD] != 1)
            return lc_fail(LC_ERR_INVALID_ARG, "unfold: neg_inf_pad must be 0 or 1, got %" PRId64,
                           a[LC_UNFOLD_NEG_INF_PAD]);
        if (s.rank + 1 > LC_MAX_RANK)
            return lc_fail(LC_ERR_SHAPE, "unfold: result rank would exceed %d", LC_MAX_RANK);
        int64_t len = s.dim[w.dim], padded = 0;
        LC_TRY(padded_length(op, len, &w, &padded));
        LC_TRY(check_span(op, &w, padded, true));
        s.dim[w.dim] = lc_window_count(len, &w);
        s.dim[s.rank++] = w.size;
        break;
    }
    case LC_OP_FOLD: {
        if (s.rank < 2) return lc_fail(LC_ERR_SHAPE, "fold: input rank must be >= 2, got %d", s.rank);
        LC_TRY(check_dim(op, "dim", a[LC_FOLD_DIM], s.rank - 1));
        lc_window w = lc_window_of(n);
        int64_t length = a[LC_FOLD_LENGTH];
        LC_TRY(check_window(op, &w));
        if (length < 0) return lc_fail(LC_ERR_INVALID_ARG, "fold: length must be >= 0, got %" PRId64, length);
        if (s.dim[s.rank - 1] != w.size)
            return lc_fail(LC_ERR_SHAPE, "fold: last axis must have the window size %" PRId64
                           ", got %" PRId64, w.size, s.dim[s.rank - 1]);
        int64_t padded = 0;
        LC_TRY(padded_length(op, length, &w, &padded));
        LC_TRY(check_span(op, &w, padded, false));
        int64_t windows = lc_window_count(length, &w);
        if (s.dim[w.dim] != windows)
            return lc_fail(LC_ERR_SHAPE, "fold: axis %d must hold %" PRId64
                           " windows for length %" PRId64 ", got %" PRId64, w.dim, windows, length,
                           s.dim[w.dim]);
        s.rank--;
        s.dim[w.dim] = length;
        break;
    }
    case LC_OP_EXPAND:
        LC_TRY(check_dim(op, "dim", a[LC_EXPAND_DIM], s.rank + 1));
        if (a[LC_EXPAND_SIZE] < 0)
            return lc_fail(LC_ERR_INVALID_ARG, "expand: size must be >= 0, got %" PRId64, a[LC_EXPAND_SIZE]);
        if (s.rank + 1 > LC_MAX_RANK)
            return lc_fail(LC_ERR_SHAPE, "expand: result rank would exceed %d", LC_MAX_RANK);
        for (int i = s.rank; i > a[LC_EXPAND_DIM]; i--) s.dim[i] = s.dim[i - 1];
        s.dim[a[LC_EXPAND_DIM]] = a[LC_EXPAND_SIZE];
        s.rank++;
        break;
    case LC_OP_ABS:
    case LC_OP_SIGN:
    case LC_OP_RELU:
        break;
    case LC_OP_POW:
        if (!isfinite(n->real_attr))
            return lc_fail(LC_ERR_INVALID_ARG, "pow: exponent must be finite, got %g", n->real_attr);
        if (a[LC_POW_ZERO_POLE] != 0 && a[LC_POW_ZERO_POLE] != 1)
            return lc_fail(LC_ERR_INVALID_ARG, "pow: zero_pole must be 0 or 1, got %" PRId64,
                           a[LC_POW_ZERO_POLE]);
        break;
    case LC_OP_MUL:
    case LC_OP_ADD:
    case LC_OP_EQUAL:
    case LC_OP_SELECT:
    case LC_OP_DIV:
        if (in[0]->dtype != in[1]->dtype)
            return lc_fail(LC_ERR_INVALID_ARG, "%s: dtypes must match, got %s and %s", op,
                           lc_dtype_name(in[0]->dtype), lc_dtype_name(in[1]->dtype));
        if (n->op == LC_OP_DIV && a[LC_DIV_SAFE] != 0 && a[LC_DIV_SAFE] != 1)
            return lc_fail(LC_ERR_INVALID_ARG, "div: safe must be 0 or 1, got %" PRId64, a[LC_DIV_SAFE]);
        LC_TRY(broadcast(op, &in[0]->shape, &in[1]->shape, &s));
        break;
    case LC_OP_SUM:
    case LC_OP_MEAN:
    case LC_OP_MAX:
        LC_TRY(check_dim(op, "dim", a[LC_REDUCE_DIM], s.rank));
        for (int i = (int)a[LC_REDUCE_DIM]; i + 1 < s.rank; i++) s.dim[i] = s.dim[i + 1];
        s.rank--;
        break;
    case LC_OP_MAX_MASK:
        LC_TRY(check_dim(op, "dim", a[LC_REDUCE_DIM], s.rank));
        break;
    case LC_OP_COUNT:
        return lc_fail(LC_ERR_INVALID_ARG, "node %%%d: unknown op", index);
    }
    for (int i = s.rank; i < LC_MAX_RANK; i++) s.dim[i] = 0;
    LC_TRY(check_shape(op, &s));
    n->shape = s;
    return LC_OK;
}
