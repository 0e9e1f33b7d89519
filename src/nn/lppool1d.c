/* LPPool1d(norm_type, kernel_size, stride = kernel_size, ceil_mode = False), docs/semantics.md:
 * y = (sum over the window of |x|^p)^(1/p), written in the primitive ops as Lucid
 * (github.com/ChanLumerico/lucid) writes it:  unfold -> abs -> pow(p) -> sum -> pow(1/p), and
 * the LP-pooled axis every LP pool lowers to (pool_geometry.h). A ceil-mode partial last
 * window sums the elements that exist (unfold reads 0 past the input). Numerical stability
 * for large p is the compiler's job (docs/pipeline.md), not the module's. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "nn/module_internal.h"
#include "support/error.h"
#include "support/format_real.h"

static const char *const WHO = "LPPool1d";

lc_lppool1d_params lc_lppool1d_defaults(double norm_type, int64_t kernel_size) {
    lc_lppool1d_params p = {norm_type, kernel_size, LC_STRIDE_UNSET, false};
    return p;
}

lc_status lc_lppool_check_norm(const char *who, double norm_type) {
    char v[32];
    if (!isfinite(norm_type) || norm_type <= 0)
        return lc_fail(LC_ERR_INVALID_ARG, "%s: norm_type must be finite and > 0, got %s", who,
                       lc_format_number(norm_type, v));
    if (!isfinite(1.0 / norm_type))
        return lc_fail(LC_ERR_INVALID_ARG, "%s: norm_type %s is too small (1 / norm_type overflows)",
                       who, lc_format_number(norm_type, v));
    return LC_OK;
}

lc_status lc_lppool1d_new(const lc_lppool1d_params *params, lc_module **out) {
    if (!out) return lc_fail(LC_ERR_INVALID_ARG, "%s: out must not be NULL", WHO);
    *out = NULL;
    if (!params) return lc_fail(LC_ERR_INVALID_ARG, "%s: params must not be NULL", WHO);
    lc_lppool1d_params p = *params;
    LC_TRY(lc_lppool_check_norm(WHO, p.norm_type));
    LC_TRY(lc_pool_check_axis(WHO, p.kernel_size, &p.stride, 0));
    lc_module *m = calloc(1, sizeof *m);
    if (!m) return lc_fail(LC_ERR_NOMEM, "%s: out of memory", WHO);
    m->kind = LC_MODULE_LPPOOL1D;
    m->lp = p;
    *out = m;
    return LC_OK;
}

lc_status lc_lp_pool_axis(lc_graph *g, int x, const lc_pool_axis *a, double p, const char *who,
                          const char *prefix, const char *tag, int *y) {
    char node_who[64];
    snprintf(node_who, sizeof node_who, "%s%s%s", who, tag[0] ? "." : "", tag);
    lc_pool1d_geometry geo;
    LC_TRY(lc_pool_geometry_compute(who, lc_graph_node(g, x)->shape.dim[a->axis], a, &geo));
    int windows, magnitude, powered, total;
    LC_TRY(lc_unfold_dilated(g, x, a->axis, geo.kernel_size, geo.stride, geo.padding, geo.pad_hi,
                             geo.dilation, &windows));
    LC_TRY(lc_module_name_node(g, windows, prefix, node_who, NULL));
    LC_TRY(lc_abs(g, windows, &magnitude));
    LC_TRY(lc_module_name_node(g, magnitude, prefix, node_who, NULL));
    LC_TRY(lc_pow(g, magnitude, p, &powered));
    LC_TRY(lc_module_name_node(g, powered, prefix, node_who, NULL));
    LC_TRY(lc_sum(g, powered, lc_graph_node(g, powered)->shape.rank - 1, &total));
    LC_TRY(lc_module_name_node(g, total, prefix, node_who, NULL));
    LC_TRY(lc_pow(g, total, 1.0 / p, y));
    return lc_module_name_node(g, *y, prefix, node_who, "root"); /* tell the two pows apart */
}

lc_status lc_lppool1d_forward(const lc_module *m, lc_graph *g, int x, const char *prefix, int *y) {
    const lc_node *xn = lc_graph_node(g, x);
    LC_TRY(lc_pool1d_check_input(WHO, &xn->shape));
    lc_pool_axis a = {xn->shape.rank - 1, "length", m->lp.kernel_size, m->lp.stride, 0, 0, 1, m->lp.ceil_mode};
    return lc_lp_pool_axis(g, x, &a, m->lp.norm_type, WHO, prefix, "", y);
}
