/* AvgPool1d(kernel_size, stride = kernel_size, padding = 0, ceil_mode = False,
 * count_include_pad = True), docs/semantics.md, and the average-pooled axis every average
 * pool lowers to (pool_geometry.h):
 *     unfold(x, axis, k, s, pad_lo, pad_hi) -> mean         when every window divides by k
 *     unfold(...) -> sum -> div(constant divisors)          otherwise (ceil overhang, or
 *                                                            count_include_pad = False with padding) */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "nn/module_internal.h"
#include "support/error.h"

static const char *const WHO = "AvgPool1d";

lc_avgpool1d_params lc_avgpool1d_defaults(int64_t kernel_size) {
    lc_avgpool1d_params p = {kernel_size, LC_STRIDE_UNSET, 0, false, true};
    return p;
}

lc_status lc_avgpool1d_new(const lc_avgpool1d_params *params, lc_module **out) {
    if (!out) return lc_fail(LC_ERR_INVALID_ARG, "%s: out must not be NULL", WHO);
    *out = NULL;
    if (!params) return lc_fail(LC_ERR_INVALID_ARG, "%s: params must not be NULL", WHO);
    lc_avgpool1d_params p = *params;
    LC_TRY(lc_pool_check_axis(WHO, p.kernel_size, &p.stride, p.padding));
    lc_module *m = calloc(1, sizeof *m);
    if (!m) return lc_fail(LC_ERR_NOMEM, "%s: out of memory", WHO);
    m->kind = LC_MODULE_AVGPOOL1D;
    m->avg = p;
    *out = m;
    return LC_OK;
}

lc_status lc_avg_pool_axis(lc_graph *g, int x, const lc_pool_axis *a, bool count_include_pad,
                           const char *who, const char *prefix, const char *tag, int *y) {
    const lc_node *xn = lc_graph_node(g, x);
    lc_dtype dtype = xn->dtype;
    char node_who[64];
    snprintf(node_who, sizeof node_who, "%s%s%s", who, tag[0] ? "." : "", tag);
    lc_pool1d_geometry geo;
    LC_TRY(lc_pool_geometry_compute(who, xn->shape.dim[a->axis], a, &geo));
    int windows;
    LC_TRY(lc_unfold_dilated(g, x, a->axis, geo.kernel_size, geo.stride, geo.padding, geo.pad_hi,
                             geo.dilation, &windows));
    LC_TRY(lc_module_name_node(g, windows, prefix, node_who, NULL));
    int window_axis = lc_graph_node(g, windows)->shape.rank - 1;

    /* A window's slots reach below the lower bound only if the first one's do, and past the
     * upper bound only if the last one's do: every window divides by k when those two do. */
    bool uniform = lc_pool_divisor(&geo, count_include_pad, 0) == geo.kernel_size &&
                   lc_pool_divisor(&geo, count_include_pad, geo.out_length - 1) == geo.kernel_size;
    if (uniform) {
        LC_TRY(lc_mean(g, windows, window_axis, y));
        return lc_module_name_node(g, *y, prefix, node_who, NULL);
    }
    if ((uint64_t)geo.out_length > SIZE_MAX / sizeof(double))
        return lc_fail(LC_ERR_NOMEM, "%s: %" PRId64 " per-window divisors do not fit in memory", who,
                       geo.out_length);
    double *divisors = malloc((size_t)geo.out_length * sizeof *divisors);
    if (!divisors) return lc_fail(LC_ERR_NOMEM, "%s: out of memory", who);
    lc_pool_divisors(&geo, count_include_pad, divisors);
    /* the divisors vary along the pooled axis: a constant of shape (out, 1, ..., 1) broadcasts
     * over the axes after it */
    lc_shape per_window = {0};
    per_window.rank = xn->shape.rank - a->axis;
    per_window.dim[0] = geo.out_length;
    for (int d = 1; d < per_window.rank; d++) per_window.dim[d] = 1;
    int sum, divs;
    lc_status st = lc_sum(g, windows, window_axis, &sum);
    if (st == LC_OK) st = lc_module_name_node(g, sum, prefix, node_who, NULL);
    if (st == LC_OK) st = lc_constant(g, dtype, per_window, divisors, &divs);
    if (st == LC_OK) st = lc_module_name_node(g, divs, prefix, node_who, NULL);
    if (st == LC_OK) st = lc_div(g, sum, divs, y);
    if (st == LC_OK) st = lc_module_name_node(g, *y, prefix, node_who, NULL);
    free(divisors);
    return st;
}

lc_status lc_avgpool1d_forward(const lc_module *m, lc_graph *g, int x, const char *prefix, int *y) {
    const lc_node *xn = lc_graph_node(g, x);
    LC_TRY(lc_pool1d_check_input(WHO, &xn->shape));
    const lc_avgpool1d_params *p = &m->avg;
    lc_pool_axis a = {xn->shape.rank - 1, "length", p->kernel_size, p->stride, p->padding, p->padding, 1,
                      p->ceil_mode};
    return lc_avg_pool_axis(g, x, &a, p->count_include_pad, WHO, prefix, "", y);
}
