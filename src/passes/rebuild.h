/* Rebuilding a graph node by node: the skeleton every graph-to-graph pass shares.
 *
 * A pass walks the old graph in order and decides what each node becomes in the new one: a
 * copy (lc_rebuild_copy), a node that is already there (CSE, a fold to an input), something
 * rebuilt (simplify), or nothing (DCE). It records the answer in map[]. lc_rebuild_finish
 * then carries the outputs over in order. Every new node goes through lc_graph_append, so every
 * shape and attribute rule of ir/ applies to what a pass builds. */
#ifndef LUCID_PASSES_REBUILD_H
#define LUCID_PASSES_REBUILD_H

#include "lucid/ir.h"

typedef struct lc_rebuild {
    const lc_graph *in;
    lc_graph *out; /* owned until finish or abort */
    int *map;      /* old index -> new index; -1 while undecided or dropped */
} lc_rebuild;

lc_status lc_rebuild_begin(lc_rebuild *rb, const lc_graph *in);
/* Append old node `old` with its inputs mapped (they must be mapped) and its name; record it
 * in map[old] and return the new index in *out (may be NULL). */
lc_status lc_rebuild_copy(lc_rebuild *rb, int old, int *out);
/* Append a node like `tmpl` (op, attributes, data, dtype and shape of sources) reading the new
 * graph's nodes `inputs`; no name. */
lc_status lc_rebuild_append(lc_rebuild *rb, const lc_node *tmpl, const int *inputs, int *out);
/* Carry the outputs over in order and hand the new graph to *out (rb is then empty). A graph
 * output may appear only once, so when two outputs now map to one node (CSE merged them,
 * simplify folded one into the other) one keeps it and the others get a fresh copy. */
lc_status lc_rebuild_finish(lc_rebuild *rb, lc_graph **out);
/* Free what begin allocated (safe after finish, and twice). */
void lc_rebuild_abort(lc_rebuild *rb);

/* Same nodes (op, dtype, shape, inputs, attributes bit for bit, constant data, names) and
 * the same outputs: what "the pass changed nothing" means. */
bool lc_graph_identical(const lc_graph *a, const lc_graph *b);

#endif
