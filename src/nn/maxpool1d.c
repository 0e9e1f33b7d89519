/* MaxPool1d(kernel_size, stride = kernel_size, padding = 0, dilation = 1,
 * return_indices = False, ceil_mode = False), PyTorch's semantics (docs/semantics.md):
 * unfold with -inf padding -> max. Input (N, C, L) or (C, L). */
#include "nn/module_internal.h"
#include "support/error.h"

static const char *const WHO = "MaxPool1d";

lc_maxpool1d_params lc_maxpool1d_defaults(int64_t kernel_size) {
    lc_maxpool1d_params p = {kernel_size, LC_STRIDE_UNSET, 0, 1, false, false};
    return p;
}

lc_status lc_maxpool1d_new(const lc_maxpool1d_params *params, lc_module **out) {
    if (!out) return lc_fail(LC_ERR_INVALID_ARG, "%s: out must not be NULL", WHO);
    *out = NULL;
    if (!params) return lc_fail(LC_ERR_INVALID_ARG, "%s: params must not be NULL", WHO);
    lc_maxpool1d_params p = *params;
    LC_TRY(lc_maxpool_check_axis(WHO, p.kernel_size, &p.stride, p.padding, p.dilation));
    lc_module *m = calloc(1, sizeof *m);
    if (!m) return lc_fail(LC_ERR_NOMEM, "%s: out of memory", WHO);
    m->kind = LC_MODULE_MAXPOOL1D;
    m->max1 = p;
    *out = m;
    return LC_OK;
}

lc_status lc_maxpool1d_forward(const lc_module *m, lc_graph *g, int x, const char *prefix, int *y) {
    return lc_maxpool1d_forward_coords(m, g, x, prefix, y, NULL);
}

lc_status lc_maxpool1d_forward_coords(const lc_module *m, lc_graph *g, int x, const char *prefix, int *y,
                                      int *coord) {
    const lc_shape *s = &lc_graph_node(g, x)->shape;
    LC_TRY(lc_pool1d_check_input(WHO, s));
    int axis = s->rank - 1, windows;
    const lc_maxpool1d_params *p = &m->max1;
    LC_TRY(lc_maxpool_windows(WHO, g, x, axis, p->kernel_size, p->stride, p->padding, p->dilation,
                              p->ceil_mode, prefix, &windows));
    LC_TRY(lc_max(g, windows, axis + 1, y));
    LC_TRY(lc_module_name_node(g, *y, prefix, WHO, NULL));
    if (!coord) return LC_OK;
    /* the chosen slot's position in the row, plus one (0: a window of padding alone) */
    int positions;
    LC_TRY(lc_maxpool_slot_coords(WHO, g, windows, s->dim[axis], 0, &positions));
    LC_TRY(lc_maxpool_chosen(g, windows, positions, coord));
    return lc_module_name_node(g, *coord, prefix, WHO, "index");
}
