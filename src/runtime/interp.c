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
 * Every node's value is a row-major lc_wide array of the node's shape, or the compact form of
 * one whose rows are mostly a repeated number (`value` below: the padding slots of a window
 * far longer than its input). An axis `dim` splits a shape into (outer, extent, inner)
 * blocks, which is all the indexing any op needs. */
#include <inttypes.h>
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

/* A node's value, seen as rows along its last axis (`extent` slots each). A dense value
 * stores every slot. A value whose rows are mostly one repeated number stores `width` slots of
 * row r from first[r] on, and rest[r] stands for each of its other slots: an unfold whose
 * windows are longer than its input keeps only the slots that can read data (every other slot
 * reads padding, 0 or -inf), an expand along the last axis keeps none, and the elementwise
 * ops, sums, maxima and folds over them carry that on. So a window of 2^40 slots over 12 elements costs 12
 * numbers and its sum 12 additions, while every slot still reads as its own value
 * (value_at): the ops stay written from their definitions. */
typedef struct value {
    lc_wide *data;
    int64_t rows, extent, width;
    int64_t *first; /* NULL when dense (width == extent) */
    lc_wide *rest;  /* NULL when dense */
} value;

static lc_wide value_at(const value *v, int64_t row, int64_t j) {
    if (!v->first) return v->data[row * v->extent + j];
    int64_t k = j - v->first[row];
    return k >= 0 && k < v->width ? v->data[row * v->width + k] : v->rest[row];
}

static void value_free(value *v) {
    free(v->data);
    free(v->first);
    free(v->rest);
    memset(v, 0, sizeof *v);
}

/* Room for a value of shape `s` storing `width` slots per row (width < extent: compact). */
static lc_status value_alloc(value *v, const lc_shape *s, int64_t width, int node) {
    axis_split rows = split_at(s, s->rank > 0 ? s->rank - 1 : 0);
    memset(v, 0, sizeof *v);
    v->rows = rows.outer;
    v->extent = s->rank > 0 ? rows.extent : 1;
    v->width = width;
    int64_t n;
    if (__builtin_mul_overflow(v->rows, width, &n) || (uint64_t)n > SIZE_MAX / sizeof(lc_wide) / 2)
        return lc_fail(LC_ERR_NOMEM, "interp: node %%%d has too many elements (%" PRId64 " rows of %" PRId64 ")",
                       node, v->rows, width);
    v->data = malloc((size_t)(n ? n : 1) * sizeof(lc_wide));
    bool compact = width < v->extent;
    if (compact) {
        v->first = calloc((size_t)(v->rows ? v->rows : 1), sizeof *v->first);
        v->rest = malloc((size_t)(v->rows ? v->rows : 1) * sizeof *v->rest);
    }
    if (!v->data || (compact && (!v->first || !v->rest))) {
        value_free(v);
        return lc_fail(LC_ERR_NOMEM, "interp: cannot allocate %" PRId64 " values for node %%%d", n, node);
    }
    return LC_OK;
}

static lc_status value_alloc_dense(value *v, const lc_shape *s, int node) {
    return value_alloc(v, s, s->rank > 0 ? s->dim[s->rank - 1] : 1, node);
}

/* Store every slot of a compact value (what an op with no compact form reads). */
static lc_status densify(value *v, const lc_shape *s, int node) {
    if (!v->first) return LC_OK;
    value d;
    LC_TRY(value_alloc_dense(&d, s, node));
    for (int64_t r = 0; r < v->rows; r++)
        for (int64_t j = 0; j < v->extent; j++) d.data[r * v->extent + j] = value_at(v, r, j);
    value_free(v);
    *v = d;
    return LC_OK;
}

/* The first slot j >= 0 of a window whose position b' + j*dil is >= 0, for b' = -b (slot j
 * reads o*step - pad_lo + j*dil): ceil(b / dil), 0 when b <= 0. */
static int64_t first_slot_at_or_past(int64_t b, int64_t dil) { return b > 0 ? (b - 1) / dil + 1 : 0; }

/* unfold: out[a][o][b][j] = x[a][o*step - pad_lo + j*dilation][b], the pad value (0 or -inf)
 * outside [0, L). The rows are (a, o, b); windows longer than L store only L slots of each,
 * placed over the slots that read [0, L) (at most L of them, consecutive, with any
 * dilation). */
static lc_status eval_unfold(const lc_node *n, int node, const lc_node *xn, const lc_wide *x, value *out) {
    lc_window w = lc_window_of(n);
    int dim = w.dim;
    int64_t size = w.size, step = w.step, lo = w.pad_lo, dil = w.dilation;
    lc_wide pad = lc_wide_from_double(n->attr[LC_UNFOLD_NEG_INF_PAD] ? -INFINITY : 0.0);
    axis_split in = split_at(&xn->shape, dim);
    int64_t windows = n->shape.dim[dim];
    int64_t width = size > in.extent ? in.extent : size;
    LC_TRY(value_alloc(out, &n->shape, width, node));
    for (int64_t a = 0; a < in.outer; a++)
        for (int64_t o = 0; o < windows; o++)
            for (int64_t b = 0; b < in.inner; b++) {
                int64_t row = (a * windows + o) * in.inner + b, first = 0;
                if (out->first) { /* the slots reading [0, L) start at ceil((lo - o*step) / dil) */
                    first = first_slot_at_or_past(lo - o * step, dil);
                    if (first > size - width) first = size - width;
                    out->first[row] = first;
                    out->rest[row] = pad;
                }
                for (int64_t k = 0; k < width; k++) {
                    int64_t pos = o * step - lo + (first + k) * dil; /* < padded length: fits */
                    out->data[row * width + k] = pos >= 0 && pos < in.extent
                                                     ? x[(a * in.extent + pos) * in.inner + b]
                                                     : pad;
                }
            }
    return LC_OK;
}

/* fold: out[a][pos][b] = sum of in[a][o][b][j] over every (o, j) with
 * o*step - pad_lo + j*dilation = pos. */
static void eval_fold(const lc_node *n, const lc_node *xn, const value *x, lc_wide *out) {
    lc_window w = lc_window_of(n);
    int dim = w.dim;
    int64_t size = w.size, step = w.step, lo = w.pad_lo, dil = w.dilation, length = n->attr[LC_FOLD_LENGTH];
    axis_split res = split_at(&n->shape, dim);
    int64_t windows = xn->shape.dim[dim];
    for (int64_t k = 0; k < lc_shape_numel(&n->shape); k++) out[k] = lc_wide_from_double(0.0);
    for (int64_t a = 0; a < res.outer; a++)
        for (int64_t o = 0; o < windows; o++)
            for (int64_t b = 0; b < res.inner; b++) {
                /* only the slots with pos in [0, length) */
                int64_t j0 = first_slot_at_or_past(lo - o * step, dil);
                int64_t j1 = first_slot_at_or_past(lo - o * step + length, dil);
                if (j1 > size) j1 = size;
                for (int64_t j = j0; j < j1; j++) {
                    int64_t pos = o * step - lo + j * dil; /* < padded length: fits */
                    if (pos >= 0 && pos < length) {
                        lc_wide *dst = &out[(a * length + pos) * res.inner + b];
                        *dst = lc_wide_add(*dst, value_at(x, (a * windows + o) * res.inner + b, j));
                    }
                }
            }
}

/* expand: out[a][s][b] = x[a][b]. Along the last axis every row is one repeated number. */
static lc_status eval_expand(const lc_node *n, int node, const lc_wide *x, value *out) {
    int dim = (int)n->attr[LC_EXPAND_DIM];
    axis_split r = split_at(&n->shape, dim);
    if (dim == n->shape.rank - 1) {
        LC_TRY(value_alloc(out, &n->shape, 0, node));
        if (out->first) {
            for (int64_t a = 0; a < r.outer; a++) out->rest[a] = x[a];
            return LC_OK;
        }
    } else {
        LC_TRY(value_alloc_dense(out, &n->shape, node));
    }
    for (int64_t a = 0; a < r.outer; a++)
        for (int64_t s = 0; s < r.extent; s++)
            for (int64_t b = 0; b < r.inner; b++) out->data[(a * r.extent + s) * r.inner + b] = x[a * r.inner + b];
    return LC_OK;
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

/* The same over the last axis of a compact value: the stored slots in order, and each run of
 * `rest` as one product (a zero adds nothing to a sum that starts at +0 and so is never -0). */
static void eval_reduce_rows(const lc_node *n, const value *x, lc_wide *out) {
    lc_wide extent = lc_wide_from_double((double)x->extent);
    for (int64_t r = 0; r < x->rows; r++) {
        lc_wide acc = lc_wide_from_double(0.0), rest = x->rest[r];
        int64_t before = x->first[r], after = x->extent - x->first[r] - x->width;
        if (before > 0 && !lc_wide_is_zero(rest))
            acc = lc_wide_add(acc, lc_wide_mul(rest, lc_wide_from_double((double)before)));
        for (int64_t k = 0; k < x->width; k++) acc = lc_wide_add(acc, x->data[r * x->width + k]);
        if (after > 0 && !lc_wide_is_zero(rest))
            acc = lc_wide_add(acc, lc_wide_mul(rest, lc_wide_from_double((double)after)));
        out[r] = n->op == LC_OP_MEAN ? lc_wide_div(acc, extent) : acc;
    }
}

/* The first maximum of the `extent` values x[0], x[stride], ..., in order: the first NaN met
 * wins, else the largest, an earlier one on a tie. -1 when none beats -inf (all are -inf, or
 * there are none). */
static int64_t first_max_at(const lc_wide *x, int64_t extent, int64_t stride) {
    lc_wide best = lc_wide_from_double(-INFINITY);
    int64_t at = -1;
    for (int64_t d = 0; d < extent; d++) {
        lc_wide v = x[d * stride];
        if (lc_wide_is_nan(v)) return d;
        if (lc_wide_greater(v, best)) {
            best = v;
            at = d;
        }
    }
    return at;
}

/* first_max_at over row r of a compact value: its slots in order are `rest` before the stored
 * ones, the stored ones, then `rest` again, so only the first slot of each run of rest can be
 * chosen. */
static int64_t first_max_in_row(const value *x, int64_t r) {
    int64_t before = x->first[r], after = x->extent - before - x->width;
    int64_t slot[3] = {-1, -1, -1}, at;
    if (before > 0) slot[0] = 0;
    if (x->width > 0 && (at = first_max_at(&x->data[r * x->width], x->width, 1)) >= 0) slot[1] = before + at;
    if (after > 0) slot[2] = before + x->width;
    int64_t best = -1;
    for (int k = 0; k < 3; k++) {
        if (slot[k] < 0) continue;
        lc_wide v = value_at(x, r, slot[k]);
        if (lc_wide_is_nan(v)) return slot[k];
        if (best < 0 ? lc_wide_greater(v, lc_wide_from_double(-INFINITY)) : lc_wide_greater(v, value_at(x, r, best)))
            best = slot[k];
    }
    return best;
}

/* max and max_mask over the last axis of a compact value (out compact too for max_mask: each
 * row stores x's width of slots, moved where needed to hold the chosen one; rest 0). */
static lc_status eval_max_rows(const lc_node *n, int node, const value *x, value *out) {
    bool mask = n->op == LC_OP_MAX_MASK;
    int64_t width = x->width > 0 ? x->width : 1;
    if (mask) LC_TRY(value_alloc(out, &n->shape, width < x->extent ? width : x->extent, node));
    else LC_TRY(value_alloc_dense(out, &n->shape, node));
    for (int64_t r = 0; r < x->rows; r++) {
        int64_t at = first_max_in_row(x, r);
        if (!mask) {
            out->data[r] = at < 0 ? lc_wide_from_double(-INFINITY) : value_at(x, r, at);
            continue;
        }
        if (at < 0) at = 0;
        int64_t first = 0;
        if (out->first) {
            first = x->first[r];
            if (at < first || at >= first + out->width) first = at < x->extent - out->width ? at : x->extent - out->width;
            out->first[r] = first;
            out->rest[r] = lc_wide_from_double(0.0);
        }
        for (int64_t k = 0; k < out->width; k++)
            out->data[r * out->width + k] = lc_wide_from_double(first + k == at ? 1.0 : 0.0);
    }
    return LC_OK;
}

/* max over axis dim: the first maximum's value (-inf when none beats -inf). */
static void eval_max(const lc_node *n, const lc_node *xn, const lc_wide *x, lc_wide *out) {
    axis_split in = split_at(&xn->shape, (int)n->attr[LC_REDUCE_DIM]);
    for (int64_t a = 0; a < in.outer; a++)
        for (int64_t b = 0; b < in.inner; b++) {
            const lc_wide *row = &x[a * in.extent * in.inner + b];
            int64_t at = first_max_at(row, in.extent, in.inner);
            out[a * in.inner + b] = at < 0 ? lc_wide_from_double(-INFINITY) : row[at * in.inner];
        }
}

/* max_mask over axis dim: 1 at the first maximum (index 0 when all are -inf), 0 elsewhere. */
static void eval_max_mask(const lc_node *n, const lc_wide *x, lc_wide *out) {
    axis_split in = split_at(&n->shape, (int)n->attr[LC_REDUCE_DIM]);
    for (int64_t a = 0; a < in.outer; a++)
        for (int64_t b = 0; b < in.inner; b++) {
            int64_t base = a * in.extent * in.inner + b;
            int64_t at = first_max_at(&x[base], in.extent, in.inner);
            if (at < 0) at = 0;
            for (int64_t d = 0; d < in.extent; d++)
                out[base + d * in.inner] = lc_wide_from_double(d == at ? 1.0 : 0.0);
        }
}

static lc_wide pow_of(lc_wide b, double e, bool zero_pole) {
    if (zero_pole && lc_wide_is_zero(b) && e < 0) return lc_wide_from_double(0.0);
    return lc_wide_pow(b, e);
}

static lc_wide unary_of(const lc_node *n, lc_wide x) {
    switch (n->op) {
    case LC_OP_ABS: return lc_wide_abs(x);
    case LC_OP_SIGN: return lc_wide_sign(x);
    case LC_OP_POW: return pow_of(x, n->real_attr, n->attr[LC_POW_ZERO_POLE] != 0);
    case LC_OP_RELU: { /* x where x > 0 or NaN: the sign is 1 or NaN there */
        double s = lc_wide_to_double(lc_wide_sign(x));
        return s > 0 || isnan(s) ? x : lc_wide_from_double(0.0);
    }
    default: LC_ASSERT(!"not a unary op"); return x;
    }
}

/* An elementwise op keeps its input's layout: each stored slot and each row's rest mapped. */
static lc_status eval_unary(const lc_node *n, int node, const value *x, value *out) {
    LC_TRY(value_alloc(out, &n->shape, x->width, node));
    for (int64_t k = 0; k < x->rows * x->width; k++) out->data[k] = unary_of(n, x->data[k]);
    for (int64_t r = 0; out->first && r < x->rows; r++) {
        out->first[r] = x->first[r];
        out->rest[r] = unary_of(n, x->rest[r]);
    }
    return LC_OK;
}

static lc_wide binary_of(const lc_node *n, lc_wide a, lc_wide b) {
    switch (n->op) {
    case LC_OP_MUL: return lc_wide_mul(a, b);
    case LC_OP_ADD: return lc_wide_add(a, b);
    case LC_OP_EQUAL: { /* neither greater, and no NaN: equal as numbers (+0 == -0) */
        bool eq = !lc_wide_is_nan(a) && !lc_wide_is_nan(b) && !lc_wide_greater(a, b) && !lc_wide_greater(b, a);
        return lc_wide_from_double(eq ? 1.0 : 0.0);
    }
    case LC_OP_SELECT: return lc_wide_is_zero(a) ? lc_wide_from_double(0.0) : b; /* a NaN selects */
    case LC_OP_DIV:
        if (n->attr[LC_DIV_SAFE] && lc_wide_is_zero(a) && lc_wide_is_zero(b)) return lc_wide_from_double(0.0);
        return lc_wide_div(a, b);
    default: LC_ASSERT(!"not a binary op"); return lc_wide_from_double(0.0);
    }
}

/* One operand of a broadcasting binary op, seen from an output row. */
typedef struct operand {
    const lc_shape *shape;
    const value *v;
    bool along; /* it has the output's last axis (else one value serves the whole row) */
    int64_t row;
} operand;

/* The operand's row for the output row whose leading indices are `lead` (size-1 axes broadcast). */
static void operand_locate(operand *p, const lc_shape *out, const int64_t *lead) {
    const lc_shape *s = p->shape;
    int64_t flat = 0;
    for (int i = 0; i + 1 < s->rank; i++) {
        int oi = out->rank - s->rank + i;
        flat = flat * s->dim[i] + (s->dim[i] == 1 ? 0 : lead[oi]);
    }
    p->row = flat;
    p->along = s->rank > 0 && s->dim[s->rank - 1] != 1;
}

static lc_wide operand_at(const operand *p, int64_t j) { return value_at(p->v, p->row, p->along ? j : 0); }

/* Widen [*lo, *hi) (empty while lo >= hi) by the slots the operand stores along the row: none
 * when it does not run along it, all of them when it is dense. */
static void operand_span(const operand *p, int64_t extent, int64_t *lo, int64_t *hi) {
    if (!p->along || (p->v->first && p->v->width == 0)) return; /* none stored (an expand) */
    int64_t a = p->v->first ? p->v->first[p->row] : 0, b = p->v->first ? a + p->v->width : extent;
    if (*lo >= *hi) {
        *lo = a;
        *hi = b;
        return;
    }
    if (a < *lo) *lo = a;
    if (b > *hi) *hi = b;
}

static void next_row(const lc_shape *s, int64_t *lead) { /* odometer over every axis but the last */
    for (int d = s->rank - 2; d >= 0; d--) {
        if (++lead[d] < s->dim[d]) break;
        lead[d] = 0;
    }
}

/* Whether operand k's stored slots of this row give the op's result that its rest would: then
 * they need not be stored in the output (a max pool's mask, 1 at a padding slot, times its
 * coordinates, 0 there, stores only the coordinates' slots, not the hull of both). */
static bool stored_slots_redundant(const lc_node *n, const operand *p, int k, int64_t extent) {
    const value *v = p[k].v;
    if (!p[k].along || !v->first) return false;
    for (int64_t j = v->first[p[k].row]; j < v->first[p[k].row] + v->width && j < extent; j++) {
        lc_wide other = operand_at(&p[1 - k], j), mine = operand_at(&p[k], j), rest = v->rest[p[k].row];
        lc_wide got = k == 0 ? binary_of(n, mine, other) : binary_of(n, other, mine);
        lc_wide alt = k == 0 ? binary_of(n, rest, other) : binary_of(n, other, rest);
        if (memcmp(&got, &alt, sizeof got) != 0) return false;
    }
    return true;
}

/* A binary op with broadcasting. Each output row stores the hull of what its operands store
 * along it (all of it where an operand is dense; not what an operand stores redundantly), so
 * the slots outside are op(rest, rest). */
static lc_status eval_binary(const lc_node *n, int node, const lc_node *an, const value *a,
                             const lc_node *bn, const value *b, value *out) {
    const lc_shape *s = &n->shape;
    operand p[2] = {{&an->shape, a, false, 0}, {&bn->shape, b, false, 0}};
    axis_split rows = split_at(s, s->rank > 0 ? s->rank - 1 : 0);
    int64_t extent = s->rank > 0 ? rows.extent : 1, width = 0;
    int64_t lead[LC_MAX_RANK] = {0};
    for (int64_t r = 0; r < rows.outer; r++, next_row(s, lead)) {
        int64_t lo = 0, hi = 0;
        for (int k = 0; k < 2; k++) operand_locate(&p[k], s, lead);
        for (int k = 0; k < 2; k++)
            if (!stored_slots_redundant(n, p, k, extent)) operand_span(&p[k], extent, &lo, &hi);
        if (hi - lo > width) width = hi - lo;
    }
    LC_TRY(value_alloc(out, s, width, node));
    memset(lead, 0, sizeof lead);
    for (int64_t r = 0; r < rows.outer; r++, next_row(s, lead)) {
        int64_t lo = 0, hi = 0, first = 0;
        for (int k = 0; k < 2; k++) operand_locate(&p[k], s, lead);
        for (int k = 0; k < 2; k++)
            if (!stored_slots_redundant(n, p, k, extent)) operand_span(&p[k], extent, &lo, &hi);
        if (out->first) {
            first = lo >= hi ? 0 : lo < extent - width ? lo : extent - width;
            out->first[r] = first;
            /* outside the hull: each operand that runs along the row holds its rest there */
            lc_wide ra = p[0].along ? a->rest[p[0].row] : operand_at(&p[0], 0);
            lc_wide rb = p[1].along ? b->rest[p[1].row] : operand_at(&p[1], 0);
            out->rest[r] = binary_of(n, ra, rb);
        }
        for (int64_t k = 0; k < width; k++)
            out->data[r * width + k] = binary_of(n, operand_at(&p[0], first + k), operand_at(&p[1], first + k));
    }
    return LC_OK;
}

static lc_status eval_node(const lc_graph *g, int i, value *values, const lc_tensor *input) {
    const lc_node *n = lc_graph_node(g, i);
    int64_t count = lc_shape_numel(&n->shape);
    value *out = &values[i];
    int in0 = n->inputs[0];
    const lc_node *xn = in0 >= 0 ? lc_graph_node(g, in0) : NULL;
    value *x = in0 >= 0 ? &values[in0] : NULL;
    switch (n->op) {
    case LC_OP_INPUT:
        LC_TRY(value_alloc_dense(out, &n->shape, i));
        for (int64_t k = 0; k < count; k++) out->data[k] = lc_wide_from_double(lc_tensor_get(input, k));
        return LC_OK;
    case LC_OP_CONSTANT: /* a constant of an f32 graph holds f32 values */
        LC_TRY(value_alloc_dense(out, &n->shape, i));
        for (int64_t k = 0; k < count; k++)
            out->data[k] = lc_wide_from_double(n->dtype == LC_F32 ? (double)(float)n->data[k] : n->data[k]);
        return LC_OK;
    case LC_OP_UNFOLD:
        LC_TRY(densify(x, &xn->shape, in0));
        return eval_unfold(n, i, xn, x->data, out);
    case LC_OP_FOLD:
        LC_TRY(value_alloc_dense(out, &n->shape, i));
        eval_fold(n, xn, x, out->data);
        return LC_OK;
    case LC_OP_EXPAND:
        LC_TRY(densify(x, &xn->shape, in0));
        return eval_expand(n, i, x->data, out);
    case LC_OP_ABS:
    case LC_OP_SIGN:
    case LC_OP_RELU:
    case LC_OP_POW: return eval_unary(n, i, x, out);
    case LC_OP_MUL:
    case LC_OP_ADD:
    case LC_OP_EQUAL:
    case LC_OP_SELECT:
    case LC_OP_DIV: {
        int in1 = n->inputs[1];
        return eval_binary(n, i, xn, x, lc_graph_node(g, in1), &values[in1], out);
    }
    case LC_OP_SUM:
    case LC_OP_MEAN:
        LC_TRY(value_alloc_dense(out, &n->shape, i));
        if (x->first && n->attr[LC_REDUCE_DIM] == xn->shape.rank - 1) {
            eval_reduce_rows(n, x, out->data);
            return LC_OK;
        }
        LC_TRY(densify(x, &xn->shape, in0));
        eval_reduce(n, xn, x->data, out->data);
        return LC_OK;
    case LC_OP_MAX:
    case LC_OP_MAX_MASK:
        if (x->first && n->attr[LC_REDUCE_DIM] == xn->shape.rank - 1) return eval_max_rows(n, i, x, out);
        LC_TRY(densify(x, &xn->shape, in0));
        if (n->op == LC_OP_MAX) {
            LC_TRY(value_alloc_dense(out, &n->shape, i));
            eval_max(n, xn, x->data, out->data);
            return LC_OK;
        }
        LC_TRY(value_alloc_dense(out, &n->shape, i));
        eval_max_mask(n, x->data, out->data);
        return LC_OK;
    case LC_OP_COUNT: break;
    }
    return lc_fail(LC_ERR_INTERNAL, "interp: node %%%d has no op", i);
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
    value *values = calloc((size_t)count + 1, sizeof *values);
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
        st = eval_node(g, i, values, n->op == LC_OP_INPUT ? inputs[next_input++] : NULL);
        for (int k = 0; k < lc_op_get_info(n->op)->arity; k++) {
            int in = n->inputs[k];
            if (last_use[in] == i) value_free(&values[in]);
        }
    }
    for (int k = 0; st == LC_OK && k < n_outputs; k++) {
        int node = lc_graph_output(g, k);
        const lc_node *n = lc_graph_node(g, node);
        st = lc_tensor_new(n->dtype, n->shape, &outputs[k]);
        if (st == LC_OK) st = densify(&values[node], &n->shape, node);
        if (st != LC_OK) break;
        /* The one rounding: wide to double, then (for f32) double to float, which is exact
         * up to that second, single rounding (wide.h). */
        const lc_wide *v = values[node].data;
        for (int64_t e = 0; e < lc_shape_numel(&n->shape); e++)
            lc_tensor_set(outputs[k], e, lc_wide_to_double(v[e]));
    }
    if (st != LC_OK)
        for (int k = 0; k < n_outputs; k++) {
            lc_tensor_free(outputs[k]);
            outputs[k] = NULL;
        }
    if (values)
        for (int i = 0; i < count; i++) value_free(&values[i]);
    free(values);
    free(last_use);
    return st;
}
