/* Linear(in_features, out_features, bias = True), docs/semantics.md: y = x W^T + b over the
 * last axis of an input of any rank >= 1. A contraction in the primitive ops:
 *     expand(x, out axis) (..., out, in) -> mul weight (out, in) -> sum over in -> add bias
 * so its gradients are the rules of those ops: dX sums gy·W over out (expand's rule), dW and
 * db sum over the leading axes (broadcasting's rule). */
#include <inttypes.h>

#include "nn/module_internal.h"
#include "support/error.h"

static const char *const WHO = "Linear";

lc_linear_params lc_linear_defaults(int64_t in_features, int64_t out_features) {
    lc_linear_params p = {in_features, out_features, true};
    return p;
}

lc_status lc_linear_new(const lc_linear_params *params, lc_module **out) {
    if (!out) return lc_fail(LC_ERR_INVALID_ARG, "%s: out must not be NULL", WHO);
    *out = NULL;
    if (!params) return lc_fail(LC_ERR_INVALID_ARG, "%s: params must not be NULL", WHO);
    lc_linear_params p = *params;
    if (p.in_features < 1)
        return lc_fail(LC_ERR_INVALID_ARG, "%s: in_features must be >= 1, got %" PRId64, WHO, p.in_features);
    if (p.out_features < 1)
        return lc_fail(LC_ERR_INVALID_ARG, "%s: out_features must be >= 1, got %" PRId64, WHO, p.out_features);
    int64_t numel;
    if (__builtin_mul_overflow(p.in_features, p.out_features, &numel) || numel > INT64_MAX / 8)
        return lc_fail(LC_ERR_INVALID_ARG, "%s: weight of %" PRId64 " x %" PRId64 " elements is too large", WHO,
                       p.out_features, p.in_features);
    lc_module *m;
    LC_TRY(lc_module_alloc(LC_MODULE_LINEAR, WHO, &m));
    m->linear = p;
    static const char *const NAMES[] = {"weight", "bias"};
    lc_shape shapes[2] = {lc_shape_make(2, (int64_t[]){p.out_features, p.in_features}),
                          lc_shape_make(1, &p.out_features)};
    lc_status st = lc_module_add_params(m, WHO, p.in_features, p.bias ? 2 : 1, NAMES, shapes);
    if (st != LC_OK) {
        lc_module_free(m);
        return st;
    }
    *out = m;
    return LC_OK;
}

lc_status lc_linear_forward(const lc_module *m, lc_graph *g, int x, const char *prefix, int *y) {
    const lc_node *xn = lc_graph_node(g, x);
    lc_shape s = xn->shape;
    lc_dtype dtype = xn->dtype;
    const lc_linear_params *p = &m->linear;
    char shape[160];
    if (s.rank < 1)
        return lc_fail(LC_ERR_SHAPE, "%s: input must have rank >= 1 (features on the last axis), got a scalar", WHO);
    if (s.dim[s.rank - 1] != p->in_features)
        return lc_fail(LC_ERR_SHAPE, "%s: the input's last axis must have in_features = %" PRId64
                       " elements, got %" PRId64 " (input shape %s)", WHO, p->in_features,
                       s.dim[s.rank - 1], lc_shape_str(&s, shape, sizeof shape));
    if (s.rank + 1 > LC_MAX_RANK)
        return lc_fail(LC_ERR_SHAPE, "%s: input rank must be at most %d, got %d", WHO, LC_MAX_RANK - 1, s.rank);
    int weight, rows, prod, sum;
    LC_TRY(lc_module_param_input(m, g, 0, dtype, prefix, &weight));
    LC_TRY(lc_expand(g, x, s.rank - 1, p->out_features, &rows)); /* (..., out, in) */
    LC_TRY(lc_module_name_node(g, rows, prefix, WHO, NULL));
    LC_TRY(lc_mul(g, rows, weight, &prod));
    LC_TRY(lc_module_name_node(g, prod, prefix, WHO, NULL));
    LC_TRY(lc_sum(g, prod, s.rank, &sum)); /* (..., out) */
    LC_TRY(lc_module_name_node(g, sum, prefix, WHO, NULL));
    if (!p->bias) {
        *y = sum;
        return LC_OK;
    }
    int bias;
    LC_TRY(lc_module_param_input(m, g, 1, dtype, prefix, &bias));
    LC_TRY(lc_add(g, sum, bias, y));
    return lc_module_name_node(g, *y, prefix, WHO, NULL);
}
