/* AvgPool2d(kernel_size, stride = kernel_size, padding = 0, ceil_mode = False,
 * count_include_pad = True), PyTorch's semantics (docs/semantics.md). Input (N, C, H, W) or
 * (C, H, W); sizes are (height, width) pairs. Average pooling is separable: each axis is
 * pooled as AvgPool1d pools its axis (an unfold, then a mean, or a sum over each window's
 * divisor), the width first, then the height, so the divisor is the product of the two axes'
 * divisors (PyTorch's rule). */
#include <stdlib.h>

#include "nn/module_internal.h"
#include "support/error.h"

static const char *const WHO = "AvgPool2d";

lc_avgpool2d_params lc_avgpool2d_defaults(int64_t kernel_h, int64_t kernel_w) {
    lc_avgpool2d_params p = {{kernel_h, kernel_w}, {LC_STRIDE_UNSET, LC_STRIDE_UNSET}, {0, 0}, false, true};
    return p;
}

lc_status lc_avgpool2d_new(const lc_avgpool2d_params *params, lc_module **out) {
    if (!out) return lc_fail(LC_ERR_INVALID_ARG, "%s: out must not be NULL", WHO);
    *out = NULL;
    if (!params) return lc_fail(LC_ERR_INVALID_ARG, "%s: params must not be NULL", WHO);
    lc_avgpool2d_params p = *params;
    for (int a = 0; a < 2; a++) LC_TRY(lc_pool_check_axis(WHO, p.kernel_size[a], &p.stride[a], p.padding[a]));
    lc_module *m = calloc(1, sizeof *m);
    if (!m) return lc_fail(LC_ERR_NOMEM, "%s: out of memory", WHO);
    m->kind = LC_MODULE_AVGPOOL2D;
    m->avg2 = p;
    *out = m;
    return LC_OK;
}

lc_status lc_pool2d_check_input(const char *who, const lc_shape *s) {
    if (s->rank != 3 && s->rank != 4)
        return lc_fail(LC_ERR_SHAPE, "%s: input must have rank 3 (C, H, W) or 4 (N, C, H, W), got rank %d",
                       who, s->rank);
    return LC_OK;
}

lc_status lc_avgpool2d_forward(const lc_module *m, lc_graph *g, int x, const char *prefix, int *y) {
    const lc_shape *s = &lc_graph_node(g, x)->shape;
    LC_TRY(lc_pool2d_check_input(WHO, s));
    const lc_avgpool2d_params *p = &m->avg2;
    lc_pool_axis h = {s->rank - 2, "height", p->kernel_size[0], p->stride[0], p->padding[0], p->padding[0], 1,
                      p->ceil_mode};
    lc_pool_axis w = {s->rank - 1, "width", p->kernel_size[1], p->stride[1], p->padding[1], p->padding[1], 1,
                      p->ceil_mode};
    int cols;
    LC_TRY(lc_avg_pool_axis(g, x, &w, p->count_include_pad, WHO, prefix, "w", &cols));
    return lc_avg_pool_axis(g, cols, &h, p->count_include_pad, WHO, prefix, "h", y);
}
