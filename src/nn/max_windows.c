/* What MaxPool1d and MaxPool2d share (docs/semantics.md): each pooled axis validated the same
 * way, its windows as one unfold padded with -inf (padding never wins), and their repr. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "nn/module_internal.h"
#include "nn/pool_geometry.h"
#include "support/error.h"

lc_status lc_maxpool_check_axis(const char *who, int64_t kernel, int64_t *stride, int64_t padding,
                                int64_t dilation) {
    /* kernel, stride and padding follow the average and LP pools' rules */
    LC_TRY(lc_pool_check_axis(who, kernel, stride, padding));
    if (dilation < 1)
        return lc_fail(LC_ERR_INVALID_ARG, "%s: dilation must be >= 1, got %" PRId64, who, dilation);
    /* the span dilation·(kernel - 1) + 1 must fit int64 (it stands in for the kernel below) */
    if ((__int128)dilation * (kernel - 1) + 1 > INT64_MAX)
        return lc_fail(LC_ERR_INVALID_ARG, "%s: dilation %" PRId64 " * (kernel_size %" PRId64
                       " - 1) + 1 overflows", who, dilation, kernel);
    return LC_OK;
}

lc_status lc_maxpool_windows(const char *who, lc_graph *g, int x, int axis, int64_t kernel, int64_t stride,
                             int64_t padding, int64_t dilation, bool ceil_mode, const char *prefix, int *out) {
    /* PyTorch's length rule with the window's span in place of the kernel (a too-short input
     * is reported against that span, not as a kernel_size nobody gave) */
    const lc_node *xn = lc_graph_node(g, x);
    const char *axis_name = strcmp(who, "MaxPool2d") != 0 ? "length" : axis == xn->shape.rank - 1 ? "width" : "height";
    lc_pool_axis a = {axis, axis_name, kernel, stride, padding, padding, dilation, ceil_mode};
    lc_pool1d_geometry geo;
    LC_TRY(lc_pool_geometry_compute(who, xn->shape.dim[axis], &a, &geo));
    LC_TRY(lc_unfold_neg_inf_pad(g, x, axis, kernel, stride, padding, geo.pad_hi, dilation, out));
    return lc_module_name_node(g, *out, prefix, who, NULL);
}

static const char *py_bool(bool b) { return b ? "True" : "False"; }

void lc_maxpool_repr(lc_strbuf *sb, const lc_module *m) {
    if (m->kind == LC_MODULE_MAXPOOL1D) {
        const lc_maxpool1d_params *p = &m->max1;
        lc_strbuf_printf(sb, "MaxPool1d(kernel_size=%" PRId64 ", stride=%" PRId64 ", padding=%" PRId64
                         ", dilation=%" PRId64 ", ceil_mode=%s)", p->kernel_size, p->stride, p->padding,
                         p->dilation, py_bool(p->ceil_mode));
        return;
    }
    /* PyTorch prints a size given as one int as that int, a pair as a tuple */
    const lc_maxpool2d_params *p = &m->max2;
    const int64_t *v[4] = {p->kernel_size, p->stride, p->padding, p->dilation};
    const char *names[4] = {"kernel_size", "stride", "padding", "dilation"};
    lc_strbuf_puts(sb, "MaxPool2d(");
    for (int i = 0; i < 4; i++) {
        if (v[i][0] == v[i][1])
            lc_strbuf_printf(sb, "%s=%" PRId64 ", ", names[i], v[i][0]);
        else
            lc_strbuf_printf(sb, "%s=(%" PRId64 ", %" PRId64 "), ", names[i], v[i][0], v[i][1]);
    }
    lc_strbuf_printf(sb, "ceil_mode=%s)", py_bool(p->ceil_mode));
}

/* f32 holds every integer up to 2^24 exactly: the largest coordinate plus one it may carry */
#define F32_EXACT_INT (INT64_C(1) << 24)

lc_status lc_maxpool_slot_coords(const char *who, lc_graph *g, int windows, int64_t len, int trailing,
                                 int *out) {
    const lc_node *w = lc_graph_node(g, windows);
    if (w->dtype == LC_F32 && len > F32_EXACT_INT)
        return lc_fail(LC_ERR_UNSUPPORTED, "%s: indices of a float32 input need each pooled axis to hold "
                       "at most 2^24 = %" PRId64 " elements, got %" PRId64 " (use float64)", who,
                       F32_EXACT_INT, len);
    lc_shape shape = {.rank = 1 + trailing};
    shape.dim[0] = len;
    for (int d = 1; d <= trailing; d++) shape.dim[d] = 1;
    double *ramp = malloc((size_t)(len > 0 ? len : 1) * sizeof *ramp);
    if (!ramp) return lc_fail(LC_ERR_NOMEM, "%s: out of memory", who);
    for (int64_t i = 0; i < len; i++) ramp[i] = (double)(i + 1);
    int c;
    lc_status st = lc_constant(g, w->dtype, shape, ramp, &c);
    free(ramp);
    LC_TRY(st);
    return lc_maxpool_unfold_like(g, c, windows, 0, out);
}

lc_status lc_maxpool_unfold_like(lc_graph *g, int src, int windows, int dim, int *out) {
    const lc_node *w = lc_graph_node(g, windows);
    return lc_unfold_dilated(g, src, dim, w->attr[LC_UNFOLD_SIZE], w->attr[LC_UNFOLD_STEP],
                             w->attr[LC_UNFOLD_PAD_LO], w->attr[LC_UNFOLD_PAD_HI], w->attr[LC_UNFOLD_DILATION], out);
}

lc_status lc_maxpool_chosen(lc_graph *g, int chooser, int values, int *out) {
    int last = lc_graph_node(g, chooser)->shape.rank - 1, mask, picked;
    LC_TRY(lc_max_mask(g, chooser, last, &mask));
    LC_TRY(lc_mul(g, mask, values, &picked));
    return lc_sum(g, picked, last, out);
}
