/* Copying a node from one graph into another, for the passes' rebuilds (passes/rebuild.c) and
 * lc_graph_clone. */
#ifndef LUCID_IR_GRAPH_COPY_H
#define LUCID_IR_GRAPH_COPY_H

#include "lucid/ir.h"

/* Append to g a copy of node `node` of `from` (op, attributes, dtype, shape, data and name)
 * reading `inputs`, nodes of g. Where each input has the dtype and shape of the node's own
 * input in `from`, the copy keeps the node's dtype and shape: the same op on the same
 * shapes infers the same, and `from` was checked when it was built. Else it is appended as
 * lc_graph_append does, inferred and checked. A rebuild copies most nodes of every graph it
 * passes on, and inferring each again was a fifth of a compile-cache hit. */
lc_status lc_graph_append_copy(lc_graph *g, const lc_graph *from, int node, const int *inputs, int *out);

#endif
