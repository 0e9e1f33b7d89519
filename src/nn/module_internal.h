/* The module record shared by the files of src/nn/. */
#ifndef LUCID_NN_MODULE_INTERNAL_H
#define LUCID_NN_MODULE_INTERNAL_H

#include "lucid/nn.h"
#include "nn/pool_geometry.h"

struct lc_module {
    lc_module_kind kind;
    lc_avgpool1d_params avg;  /* LC_MODULE_AVGPOOL1D, stride resolved */
    lc_lppool1d_params lp;    /* LC_MODULE_LPPOOL1D, stride resolved */
    lc_module **children;     /* LC_MODULE_SEQUENTIAL, owned */
    int n_children, children_capacity;
};

/* Each module kind's forward, given the prefix for its node names ("" or "1."). */
lc_status lc_avgpool1d_forward(const lc_module *m, lc_graph *g, int x, const char *prefix, int *y);
lc_status lc_lppool1d_forward(const lc_module *m, lc_graph *g, int x, const char *prefix, int *y);

/* Shared by both pools: the input must be (C, L) or (N, C, L). */
lc_status lc_pool1d_check_input(const char *who, const lc_shape *s);
/* Name node `node` "<prefix><who>.<role>", role defaulting (NULL) to the op's name. */
lc_status lc_module_name_node(lc_graph *g, int node, const char *prefix, const char *who,
                              const char *role);

#endif
