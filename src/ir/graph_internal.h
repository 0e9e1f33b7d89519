/* The graph's private layout, shared by the files of src/ir/ only. */
#ifndef LUCID_IR_GRAPH_INTERNAL_H
#define LUCID_IR_GRAPH_INTERNAL_H

#include "lucid/ir.h"
#include "support/arena.h"

struct lc_graph {
    lc_arena arena;     /* nodes, names and constant data */
    lc_node **nodes;    /* malloc'd array of arena pointers, so nodes never move */
    int count, capacity;
    int *outputs;       /* malloc'd */
    int n_outputs, outputs_capacity;
};

/* Validate node `n` against the graph's earlier nodes and fill in its dtype and shape (for
 * SOURCE ops the caller sets them and they are validated). Messages name op, parameter and
 * value. `index` is the node's position, for index-order checks. */
lc_status lc_infer_node(const lc_graph *g, int index, lc_node *n);

#endif
