/* The module record shared by the files of src/nn/. */
#ifndef LUCID_NN_MODULE_INTERNAL_H
#define LUCID_NN_MODULE_INTERNAL_H

#include "lucid/nn.h"
#include "nn/pool_geometry.h"
#include "support/strbuf.h"

/* The most parameters one (non-container) module owns: weight and bias. */
#define LC_MODULE_MAX_OWN_PARAMS 2

struct lc_module {
    lc_module_kind kind;
    lc_avgpool1d_params avg;  /* LC_MODULE_AVGPOOL1D, stride resolved */
    lc_lppool1d_params lp;    /* LC_MODULE_LPPOOL1D, stride resolved */
    lc_maxpool1d_params max1; /* LC_MODULE_MAXPOOL1D, stride resolved */
    lc_maxpool2d_params max2; /* LC_MODULE_MAXPOOL2D, stride resolved */
    lc_avgpool2d_params avg2; /* LC_MODULE_AVGPOOL2D, stride resolved */
    lc_lppool2d_params lp2;   /* LC_MODULE_LPPOOL2D, stride resolved */
    lc_linear_params linear;  /* LC_MODULE_LINEAR */
    lc_conv1d_params conv;    /* LC_MODULE_CONV1D, padding resolved (see conv1d.c) */
    lc_mseloss_params mse;    /* LC_MODULE_MSELOSS */
    /* The module's own parameters (not a Sequential's children's), owned: float32 leaves that
     * require grad, named param_names[i] ("weight", "bias"), each initialised from fan_in. */
    lc_tensor *params[LC_MODULE_MAX_OWN_PARAMS];
    const char *param_names[LC_MODULE_MAX_OWN_PARAMS];
    int n_params;
    int64_t fan_in;
    lc_module **children;     /* LC_MODULE_SEQUENTIAL, owned */
    int n_children, children_capacity;
};

/* Each module kind's forward, given the prefix for its node names ("" or "1."). Modules with
 * parameters append their parameter inputs named "<prefix><param name>". */
lc_status lc_avgpool1d_forward(const lc_module *m, lc_graph *g, int x, const char *prefix, int *y);
lc_status lc_lppool1d_forward(const lc_module *m, lc_graph *g, int x, const char *prefix, int *y);
lc_status lc_maxpool1d_forward(const lc_module *m, lc_graph *g, int x, const char *prefix, int *y);
lc_status lc_maxpool2d_forward(const lc_module *m, lc_graph *g, int x, const char *prefix, int *y);
lc_status lc_avgpool2d_forward(const lc_module *m, lc_graph *g, int x, const char *prefix, int *y);
lc_status lc_lppool2d_forward(const lc_module *m, lc_graph *g, int x, const char *prefix, int *y);
/* The same, also giving the nodes the indices are read from (lc_module_graph_indices): the
 * chosen element's coordinate plus one along each pooled axis (0 where the window holds only
 * padding), of y's shape; one for MaxPool1d, (row, column) for MaxPool2d. */
lc_status lc_maxpool1d_forward_coords(const lc_module *m, lc_graph *g, int x, const char *prefix, int *y,
                                      int *coord);
lc_status lc_maxpool2d_forward_coords(const lc_module *m, lc_graph *g, int x, const char *prefix, int *y,
                                      int coords[2]);
/* Each window slot's coordinate along the pooled axis plus one, 0 in the padding: the ramp
 * 1..len, shaped (len, 1 x `trailing`), unfolded as `windows` unfolded its axis. */
lc_status lc_maxpool_slot_coords(const char *who, lc_graph *g, int windows, int64_t len, int trailing,
                                 int *out);
/* `src`'s axis `dim` unfolded with the geometry of the unfold `windows` (zero padding). */
lc_status lc_maxpool_unfold_like(lc_graph *g, int src, int windows, int dim, int *out);
/* sum over the last axis of max_mask(chooser) * values: the value at each axis's first maximum
 * (exact: every other term is 0). */
lc_status lc_maxpool_chosen(lc_graph *g, int chooser, int values, int *out);
/* repr of the max pools: "MaxPool1d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False)" */
void lc_maxpool_repr(lc_strbuf *sb, const lc_module *m);
/* Check and resolve one axis of a max pool (name `axis` is "" or " (height)"...). */
lc_status lc_maxpool_check_axis(const char *who, int64_t kernel, int64_t *stride, int64_t padding,
                                int64_t dilation);
/* One max-pooled axis: -inf-padded windows of `axis` (a trailing window axis added). */
lc_status lc_maxpool_windows(const char *who, lc_graph *g, int x, int axis, int64_t kernel, int64_t stride,
                             int64_t padding, int64_t dilation, bool ceil_mode, const char *prefix, int *out);
lc_status lc_linear_forward(const lc_module *m, lc_graph *g, int x, const char *prefix, int *y);
lc_status lc_conv1d_forward(const lc_module *m, lc_graph *g, int x, const char *prefix, int *y);
lc_status lc_relu_forward(const lc_module *m, lc_graph *g, int x, const char *prefix, int *y);
lc_status lc_mseloss_forward(const lc_module *m, lc_graph *g, int input, int target,
                             const char *prefix, int *y);

/* Shared by both pools: the input must be (C, L) or (N, C, L). */
lc_status lc_pool1d_check_input(const char *who, const lc_shape *s);
/* The 2-D average and LP pools': (C, H, W) or (N, C, H, W). */
lc_status lc_pool2d_check_input(const char *who, const lc_shape *s);
/* Name node `node` "<prefix><who>.<role>", role defaulting (NULL) to the op's name. */
lc_status lc_module_name_node(lc_graph *g, int node, const char *prefix, const char *who,
                              const char *role);

/* "Linear", "Sequential": the name messages give a module of `kind`. */
const char *lc_module_kind_name(lc_module_kind kind);
/* A new zeroed module of `kind` (the constructors fill in the rest). */
lc_status lc_module_alloc(lc_module_kind kind, const char *who, lc_module **out);
/* Give module `m` its parameters: float32 tensors of the given shapes, named, requiring grad,
 * drawn from the random stream with bound 1/sqrt(fan_in). On failure m keeps none. */
lc_status lc_module_add_params(lc_module *m, const char *who, int64_t fan_in, int n,
                               const char *const *names, const lc_shape *shapes);
/* The graph input of a parameter: an INPUT of the parameter's shape and `dtype`, named
 * "<prefix><name>". */
lc_status lc_module_param_input(const lc_module *m, lc_graph *g, int i, lc_dtype dtype,
                                const char *prefix, int *out);

#endif
