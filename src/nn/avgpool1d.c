/* AvgPool1d(kernel_size, stride = kernel_size, padding = 0, ceil_mode = False,
 * count_include_pad = True), docs/semantics.md. Lowers to
 *     unfold(x, L axis, k, s, p, pad_hi) -> mean          when every window divides by k
 *     unfold(...) -> sum -> div(constant divisors)        otherwise (ceil overhang, or
 *                                                          count_include_pad = False with padding) */
#include <inttypes.h>
#include <stdint.h>
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
    if (p.kernel_size < 1)
        return lc_fail(LC_ERR_INVALID_ARG, "%s: kernel_size must be >= 1, got %" PRId64, WHO, p.kernel_size);
    if (p.stride == LC_STRIDE_UNSET) p.stride = p.kernel_size;
    if (p.stride < 1)
        return lc_fail(LC_ERR_INVALID_ARG, "%s: stride must be >= 1, got %" PRId64, WHO, p.stride);
    if (p.padding < 0 || p.padding > p.kernel_size / 2)
        return lc_fail(LC_ERR_INVALID_ARG, "%s: padding must be between 0 and kernel_size / 2 = %" PRId64
                       ", got %" PRId64, WHO, p.kernel_size / 2, p.padding);
    lc_module *m = calloc(1, sizeof *m);
    if (!m) return lc_fail(LC_ERR_NOMEM, "%s: out of memory", WHO);
    m->kind = LC_MODULE_AVGPOOL1D;
    m->avg = p;
    *out = m;
    return LC_OK;
}

/* Divisor of window o: its span inside [-p, L + p) with count_include_pad, else the number
 * of real elements; the ceil-mode overhang past L + p never counts. */
static double divisor(const lc_pool1d_geometry *geo, bool count_include_pad, int64_t o) {
    int64_t start = o * geo->stride - geo->padding;
    int64_t end = start + geo->kernel_size;
    if (end > geo->length + geo->padding) end = geo->length + geo->padding;
    if (!count_include_pad) {
        if (start < 0) start = 0;
        if (end > geo->length) end = geo->length;
    }
    return (double)(end - start);
}

lc_status lc_avgpool1d_forward(const lc_module *m, lc_graph *g, int x, const char *prefix, int *y) {
    const lc_node *xn = lc_graph_node(g, x);
    LC_TRY(lc_pool1d_check_input(WHO, &xn->shape));
    int axis = xn->shape.rank - 1;
    lc_dtype dtype = xn->dtype;
    lc_pool1d_geometry geo;
    LC_TRY(lc_pool1d_geometry_compute(WHO, xn->shape.dim[axis], m->avg.kernel_size, m->avg.stride,
                                      m->avg.padding, m->avg.ceil_mode, &geo));
    int windows;
    LC_TRY(lc_unfold(g, x, axis, geo.kernel_size, geo.stride, geo.padding, geo.pad_hi, &windows));
    LC_TRY(lc_module_name_node(g, windows, prefix, WHO, NULL));

    /* Every window divides by k unless the last one overhangs L + p (ceil mode) or, without
     * count_include_pad, any window reaches into the padding; middle windows are always full. */
    __int128 last_end = (__int128)(geo.out_length - 1) * geo.stride - geo.padding + geo.kernel_size;
    bool uniform = last_end <= (__int128)geo.length + geo.padding && (m->avg.count_include_pad || geo.padding == 0);
    if (uniform) {
        LC_TRY(lc_mean(g, windows, axis + 1, y));
        return lc_module_name_node(g, *y, prefix, WHO, NULL);
    }
    if ((uint64_t)geo.out_length > SIZE_MAX / sizeof(double))
        return lc_fail(LC_ERR_NOMEM, "%s: %" PRId64 " per-window divisors do not fit in memory", WHO,
                       geo.out_length);
    double *divisors = malloc((size_t)geo.out_length * sizeof *divisors);
    if (!divisors) return lc_fail(LC_ERR_NOMEM, "%s: out of memory", WHO);
    for (int64_t o = 0; o < geo.out_length; o++) divisors[o] = divisor(&geo, m->avg.count_include_pad, o);
    int sum, divs;
    lc_shape per_window = lc_shape_make(1, &geo.out_length);
    lc_status st = lc_sum(g, windows, axis + 1, &sum);
    if (st == LC_OK) st = lc_module_name_node(g, sum, prefix, WHO, NULL);
    if (st == LC_OK) st = lc_constant(g, dtype, per_window, divisors, &divs);
    if (st == LC_OK) st = lc_module_name_node(g, divs, prefix, WHO, NULL);
    if (st == LC_OK) st = lc_div(g, sum, divs, y);
    if (st == LC_OK) st = lc_module_name_node(g, *y, prefix, WHO, NULL);
    free(divisors);
    return st;
}
