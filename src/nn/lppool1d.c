/* LPPool1d(norm_type, kernel_size, stride = kernel_size, ceil_mode = False), docs/semantics.md:
 * y = (sum over the window of |x|^p)^(1/p), written in the primitive ops as Lucid
 * (github.com/ChanLumerico/lucid) writes it:  unfold -> abs -> pow(p) -> sum -> pow(1/p).
 * A ceil-mode partial last window sums the elements that exist (unfold reads 0 past the
 * input). Numerical stability for large p is the compiler's job (docs/pipeline.md), not the
 * module's. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

#include "nn/module_internal.h"
#include "support/error.h"
#include "support/format_real.h"

static const char *const WHO = "LPPool1d";

lc_lppool1d_params lc_lppool1d_defaults(double norm_type, int64_t kernel_size) {
    lc_lppool1d_params p = {norm_type, kernel_size, LC_STRIDE_UNSET, false};
    return p;
}

lc_status lc_lppool1d_new(const lc_lppool1d_params *params, lc_module **out) {
    if (!out) return lc_fail(LC_ERR_INVALID_ARG, "%s: out must not be NULL", WHO);
    *out = NULL;
    if (!params) return lc_fail(LC_ERR_INVALID_ARG, "%s: params must not be NULL", WHO);
    lc_lppool1d_params p = *params;
    if (!isfinite(p.norm_type) || p.norm_type <= 0) {
        char v[32];
        return lc_fail(LC_ERR_INVALID_ARG, "%s: norm_type must be finite and > 0, got %s", WHO,
                       lc_format_number(p.norm_type, v));
    }
    if (!isfinite(1.0 / p.norm_type)) {
        char v[32];
        return lc_fail(LC_ERR_INVALID_ARG, "%s: norm_type %s is too small (1 / norm_type overflows)",
                       WHO, lc_format_number(p.norm_type, v));
    }
    if (p.kernel_size < 1)
        return lc_fail(LC_ERR_INVALID_ARG, "%s: kernel_size must be >= 1, got %" PRId64, WHO, p.kernel_size);
    if (p.stride == LC_STRIDE_UNSET) p.stride = p.kernel_size;
    if (p.stride < 1)
        return lc_fail(LC_ERR_INVALID_ARG, "%s: stride must be >= 1, got %" PRId64, WHO, p.stride);
    lc_module *m = calloc(1, sizeof *m);
    if (!m) return lc_fail(LC_ERR_NOMEM, "%s: out of memory", WHO);
    m->kind = LC_MODULE_LPPOOL1D;
    m->lp = p;
    *out = m;
    return LC_OK;
}

lc_status lc_lppool1d_forward(const lc_module *m, lc_graph *g, int x, const char *prefix, int *y) {
    const lc_node *xn = lc_graph_node(g, x);
    LC_TRY(lc_pool1d_check_input(WHO, &xn->shape));
    int axis = xn->shape.rank - 1;
    lc_pool1d_geometry geo;
    LC_TRY(lc_pool1d_geometry_compute(WHO, xn->shape.dim[axis], m->lp.kernel_size, m->lp.stride, 0,
                                      m->lp.ceil_mode, &geo));
    double p = m->lp.norm_type;
    int windows, magnitude, powered, total;
    LC_TRY(lc_unfold(g, x, axis, geo.kernel_size, geo.stride, 0, geo.pad_hi, &windows));
    LC_TRY(lc_module_name_node(g, windows, prefix, WHO, NULL));
    LC_TRY(lc_abs(g, windows, &magnitude));
    LC_TRY(lc_module_name_node(g, magnitude, prefix, WHO, NULL));
    LC_TRY(lc_pow(g, magnitude, p, &powered));
    LC_TRY(lc_module_name_node(g, powered, prefix, WHO, NULL));
    LC_TRY(lc_sum(g, powered, axis + 1, &total));
    LC_TRY(lc_module_name_node(g, total, prefix, WHO, NULL));
    LC_TRY(lc_pow(g, total, 1.0 / p, y));
    return lc_module_name_node(g, *y, prefix, WHO, "root"); /* tell the two pows apart */
}
