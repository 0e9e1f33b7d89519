/* LPPool2d(norm_type, kernel_size, stride = kernel_size, ceil_mode = False), docs/semantics.md.
 * Input (N, C, H, W) or (C, H, W); sizes are (height, width) pairs. The p-norm of a 2-D
 * window is the p-norm of its rows' p-norms, (sum_rows (sum_cols |x|^p))^(1/p), so LPPool2d is
 * the LP-pooled axis of LPPool1d twice, the width first, then the height. Each is the pattern
 * the compiler evaluates scaled for large p and differentiates stably (docs/pipeline.md); a
 * ceil-mode partial window sums the elements that exist, in both axes. */
#include <stdlib.h>

#include "nn/module_internal.h"
#include "support/error.h"

static const char *const WHO = "LPPool2d";

lc_lppool2d_params lc_lppool2d_defaults(double norm_type, int64_t kernel_h, int64_t kernel_w) {
    lc_lppool2d_params p = {norm_type, {kernel_h, kernel_w}, {LC_STRIDE_UNSET, LC_STRIDE_UNSET}, false};
    return p;
}

lc_status lc_lppool2d_new(const lc_lppool2d_params *params, lc_module **out) {
    if (!out) return lc_fail(LC_ERR_INVALID_ARG, "%s: out must not be NULL", WHO);
    *out = NULL;
    if (!params) return lc_fail(LC_ERR_INVALID_ARG, "%s: params must not be NULL", WHO);
    lc_lppool2d_params p = *params;
    LC_TRY(lc_lppool_check_norm(WHO, p.norm_type));
    for (int a = 0; a < 2; a++) LC_TRY(lc_pool_check_axis(WHO, p.kernel_size[a], &p.stride[a], 0));
    lc_module *m = calloc(1, sizeof *m);
    if (!m) return lc_fail(LC_ERR_NOMEM, "%s: out of memory", WHO);
    m->kind = LC_MODULE_LPPOOL2D;
    m->lp2 = p;
    *out = m;
    return LC_OK;
}

lc_status lc_lppool2d_forward(const lc_module *m, lc_graph *g, int x, const char *prefix, int *y) {
    const lc_shape *s = &lc_graph_node(g, x)->shape;
    LC_TRY(lc_pool2d_check_input(WHO, s));
    const lc_lppool2d_params *p = &m->lp2;
    lc_pool_axis h = {s->rank - 2, "height", p->kernel_size[0], p->stride[0], 0, 0, 1, p->ceil_mode};
    lc_pool_axis w = {s->rank - 1, "width", p->kernel_size[1], p->stride[1], 0, 0, 1, p->ceil_mode};
    int rows;
    LC_TRY(lc_lp_pool_axis(g, x, &w, p->norm_type, WHO, prefix, "w", &rows));
    return lc_lp_pool_axis(g, rows, &h, p->norm_type, WHO, prefix, "h", y);
}
