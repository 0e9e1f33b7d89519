/* MaxPool1d/MaxPool2d indices (return_indices; nn.h): the graph that computes each window's
 * chosen coordinates on either engine, and their reading as PyTorch's flat indices. The graph
 * carries coordinates per axis rather than the flat index so that a float32 graph stays exact
 * for any plane whose sides fit 2^24; the flat index is formed here, in int64. */
#include <inttypes.h>
#include <math.h>

#include "nn/module_internal.h"
#include "support/error.h"

static const char *const WHO = "max pool indices";

static lc_status check_module(const lc_module *m) {
    if (!m) return lc_fail(LC_ERR_INVALID_ARG, "%s: module must not be NULL", WHO);
    if (m->kind != LC_MODULE_MAXPOOL1D && m->kind != LC_MODULE_MAXPOOL2D)
        return lc_fail(LC_ERR_INVALID_ARG, "%s: the module must be MaxPool1d or MaxPool2d, got %s", WHO,
                       lc_module_kind_name(m->kind));
    return LC_OK;
}

lc_status lc_module_graph_indices(const lc_module *m, lc_dtype dtype, lc_shape shape, lc_graph **out) {
    if (!out) return lc_fail(LC_ERR_INVALID_ARG, "%s: out must not be NULL", WHO);
    *out = NULL;
    LC_TRY(check_module(m));
    lc_graph *g;
    LC_TRY(lc_graph_new(&g));
    int x, y, coords[2], n_coords = m->kind == LC_MODULE_MAXPOOL2D ? 2 : 1;
    lc_status st = lc_input(g, "x", dtype, shape, &x);
    if (st == LC_OK)
        st = m->kind == LC_MODULE_MAXPOOL2D ? lc_maxpool2d_forward_coords(m, g, x, "", &y, coords)
                                            : lc_maxpool1d_forward_coords(m, g, x, "", &y, coords);
    if (st == LC_OK) st = lc_graph_add_output(g, y);
    for (int i = 0; i < n_coords && st == LC_OK; i++) st = lc_graph_add_output(g, coords[i]);
    if (st != LC_OK) {
        lc_graph_free(g);
        return st;
    }
    *out = g;
    return LC_OK;
}

/* Coordinate-plus-one `v` along an axis of `len`: the coordinate, or -1 for padding (0). */
static lc_status coordinate(double v, int64_t len, int64_t *c) {
    if (!(v >= 0 && v <= (double)len && v == floor(v)))
        return lc_fail(LC_ERR_INVALID_ARG, "%s: a coordinate output holds %g, not an integer in [0, %" PRId64
                       "] (not an output of lc_module_graph_indices for this shape?)", WHO, v, len);
    *c = (int64_t)v - 1;
    return LC_OK;
}

lc_status lc_maxpool_indices(const lc_module *m, lc_shape in, const lc_tensor *const *coords, int n_coords,
                             int64_t *indices) {
    LC_TRY(check_module(m));
    lc_shape y_shape;
    LC_TRY(lc_module_output_shape(m, in, &y_shape));
    int want = m->kind == LC_MODULE_MAXPOOL2D ? 2 : 1;
    if (n_coords != want || !coords)
        return lc_fail(LC_ERR_INVALID_ARG, "%s: %s gives %d coordinate outputs, got %d", WHO,
                       lc_module_kind_name(m->kind), want, coords ? n_coords : 0);
    int64_t n = lc_shape_numel(&y_shape);
    for (int i = 0; i < n_coords; i++)
        if (!coords[i] || !lc_shape_equal(&coords[i]->shape, &y_shape))
            return lc_fail(LC_ERR_SHAPE, "%s: coordinate output %d must have the output's shape", WHO, i);
    if (n > 0 && !indices) return lc_fail(LC_ERR_INVALID_ARG, "%s: indices must not be NULL", WHO);
    int64_t width = in.dim[in.rank - 1], height = want == 2 ? in.dim[in.rank - 2] : 1;
    for (int64_t e = 0; e < n; e++) {
        int64_t r = 0, c = 0; /* coordinate() sets them where it succeeds; initialized for gcc -O3 */
        if (want == 2) LC_TRY(coordinate(lc_tensor_get(coords[0], e), height, &r));
        LC_TRY(coordinate(lc_tensor_get(coords[want - 1], e), width, &c));
        indices[e] = (r < 0 || c < 0) ? -1 : r * width + c;
    }
    return LC_OK;
}
