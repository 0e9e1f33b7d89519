/* The module record shared by the files of src/nn/. */
#ifndef LUCID_NN_MODULE_INTERNAL_H
#define LUCID_NN_MODULE_INTERNAL_H

#include "lucid/nn.h"
#include "nn/pool_geometry.h"
#include "support/strbuf.h"

struct lc_module {
    lc_module_kind kind;
    lc_avgpool1d_params avg;  /* LC_MODULE_AVGPOOL1D, stride resolved */
    lc_lppool1d_params lp;    /* LC_MODULE_LPPOOL1D, stride resolved */
    lc_maxpool1d_params max1; /* LC_MODULE_MAXPOOL1D, stride resolved */
    lc_maxpool2d_params max2; /* LC_MODULE_MAXPOOL2D, stride resolved */
    lc_module **children;     /* LC_MODULE_SEQUENTIAL, owned */
    int n_children, children_capacity;
};

/* Each module kind's forward, given the prefix for its node names ("" or "1."). */
lc_status lc_avgpool1d_forward(const lc_module *m, lc_graph *g, int x, const char *prefix, int *y);
lc_status lc_lppool1d_forward(const lc_module *m, lc_graph *g, int x, const char *prefix, int *y);
lc_status lc_maxpool1d_forward(const lc_module *m, lc_graph *g, int x, const char *prefix, int *y);
lc_status lc_maxpool2d_forward(const lc_module *m, lc_graph *g, int x, const char *prefix, int *y);
/* repr of the max pools: "MaxPool1d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False)" */
void lc_maxpool_repr(lc_strbuf *sb, const lc_module *m);
/* Check and resolve one axis of a max pool (name `axis` is "" or " (height)"...). */
lc_status lc_maxpool_check_axis(const char *who, int64_t kernel, int64_t *stride, int64_t padding,
                                int64_t dilation);
/* One max-pooled axis: -inf-padded windows of `axis` (a trailing window axis added). */
lc_status lc_maxpool_windows(const char *who, lc_graph *g, int x, int axis, int64_t kernel, int64_t stride,
                             int64_t padding, int64_t dilation, bool ceil_mode, const char *prefix, int *out);
/* Shared by both pools: the input must be (C, L) or (N, C, L). */
lc_status lc_pool1d_check_input(const char *who, const lc_shape *s);
/* Name node `node` "<prefix><who>.<role>", role defaulting (NULL) to the op's name. */
lc_status lc_module_name_node(lc_graph *g, int node, const char *prefix, const char *who,
                              const char *role);

#endif
