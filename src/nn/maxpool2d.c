/* MaxPool2d(kernel_size, stride = kernel_size, padding = 0, dilation = 1,
 * return_indices = False, ceil_mode = False), PyTorch's semantics (docs/semantics.md). Input
 * (N, C, H, W) or (C, H, W). A 2-D window is separable: a 1-D max pool along the width (unfold
 * padded with -inf, max), then one along the height of those row maxima: the first maximum in
 * row-major window order is the first row holding the maximum, then the first column in it, so
 * the gradient reaches the element PyTorch's does. */
#include "nn/module_internal.h"
#include "support/error.h"

static const char *const WHO = "MaxPool2d";

lc_maxpool2d_params lc_maxpool2d_defaults(int64_t kernel_h, int64_t kernel_w) {
    lc_maxpool2d_params p = {{kernel_h, kernel_w}, {LC_STRIDE_UNSET, LC_STRIDE_UNSET}, {0, 0}, {1, 1}, false, false};
    return p;
}

lc_status lc_maxpool2d_new(const lc_maxpool2d_params *params, lc_module **out) {
    if (!out) return lc_fail(LC_ERR_INVALID_ARG, "%s: out must not be NULL", WHO);
    *out = NULL;
    if (!params) return lc_fail(LC_ERR_INVALID_ARG, "%s: params must not be NULL", WHO);
    lc_maxpool2d_params p = *params;
    for (int a = 0; a < 2; a++)
        LC_TRY(lc_maxpool_check_axis(WHO, p.kernel_size[a], &p.stride[a], p.padding[a], p.dilation[a]));
    lc_module *m = calloc(1, sizeof *m);
    if (!m) return lc_fail(LC_ERR_NOMEM, "%s: out of memory", WHO);
    m->kind = LC_MODULE_MAXPOOL2D;
    m->max2 = p;
    *out = m;
    return LC_OK;
}

lc_status lc_maxpool2d_forward(const lc_module *m, lc_graph *g, int x, const char *prefix, int *y) {
    return lc_maxpool2d_forward_coords(m, g, x, prefix, y, NULL);
}

lc_status lc_maxpool2d_forward_coords(const lc_module *m, lc_graph *g, int x, const char *prefix, int *y,
                                      int coords[2]) {
    const lc_shape *s = &lc_graph_node(g, x)->shape;
    if (s->rank != 3 && s->rank != 4)
        return lc_fail(LC_ERR_SHAPE, "%s: input must have rank 3 (C, H, W) or 4 (N, C, H, W), got rank %d",
                       WHO, s->rank);
    int h = s->rank - 2, w = s->rank - 1, rows, cols, row_max;
    const lc_maxpool2d_params *p = &m->max2;
    /* Separable: each input row's column windows first, (..., H, W) -> (..., H, Wo, kw) ->
     * max -> (..., H, Wo), then the row windows of that, -> (..., Ho, Wo, kh) -> max. Each
     * row maximum is computed once (fuse materializes it where row windows overlap), and the
     * backward gathers through two 1-D masks instead of re-searching whole windows. */
    LC_TRY(lc_maxpool_windows(WHO, g, x, w, p->kernel_size[1], p->stride[1], p->padding[1], p->dilation[1],
                              p->ceil_mode, prefix, &cols));
    LC_TRY(lc_max(g, cols, s->rank, &row_max));
    LC_TRY(lc_module_name_node(g, row_max, prefix, WHO, NULL));
    LC_TRY(lc_maxpool_windows(WHO, g, row_max, h, p->kernel_size[0], p->stride[0], p->padding[0],
                              p->dilation[0], p->ceil_mode, prefix, &rows));
    LC_TRY(lc_max(g, rows, s->rank, y));
    LC_TRY(lc_module_name_node(g, *y, prefix, WHO, "rows"));
    if (!coords) return LC_OK;
    /* The chosen element's row and column, plus one, found the way the gradient finds it:
     * in each input row of a window the first column holding the row's maximum, then the
     * first row holding the window's. The ramps are (W) and (H, 1) so that their windows,
     * (Wo, kw) and (Ho, 1, kh), line up with the window axes. */
    int h_slots, w_slots, col_in_row, col_windows;
    LC_TRY(lc_maxpool_slot_coords(WHO, g, cols, s->dim[w], 0, &w_slots));
    LC_TRY(lc_maxpool_slot_coords(WHO, g, rows, s->dim[h], 1, &h_slots));
    LC_TRY(lc_maxpool_chosen(g, cols, w_slots, &col_in_row));
    LC_TRY(lc_maxpool_unfold_like(g, col_in_row, rows, h, &col_windows));
    LC_TRY(lc_maxpool_chosen(g, rows, h_slots, &coords[0]));
    LC_TRY(lc_maxpool_chosen(g, rows, col_windows, &coords[1]));
    LC_TRY(lc_module_name_node(g, coords[0], prefix, WHO, "index_row"));
    return lc_module_name_node(g, coords[1], prefix, WHO, "index_col");
}
