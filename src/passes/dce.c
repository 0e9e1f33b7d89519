/* dce: drop every node no graph output needs. INPUT nodes always stay, even unused: they are
 * the graph's parameters, and a caller passes tensors by their position. */
#include <stdlib.h>

#include "passes/pass.h"
#include "passes/rebuild.h"
#include "support/error.h"

lc_status lc_pass_dce(const lc_graph *in, lc_graph **out) {
    *out = NULL;
    int count = lc_graph_node_count(in);
    bool *live = calloc((size_t)(count ? count : 1), sizeof *live);
    if (!live) return lc_fail(LC_ERR_NOMEM, "dce: out of memory");
    for (int k = 0; k < lc_graph_output_count(in); k++) live[lc_graph_output(in, k)] = true;
    /* Inputs precede their users, so one backward sweep reaches every needed node. */
    for (int i = count - 1; i >= 0; i--) {
        const lc_node *n = lc_graph_node(in, i);
        if (n->op == LC_OP_INPUT) live[i] = true;
        if (!live[i]) continue;
        for (int k = 0; k < lc_op_get_info(n->op)->arity; k++) live[n->inputs[k]] = true;
    }
    lc_rebuild rb;
    lc_status st = lc_rebuild_begin(&rb, in);
    for (int i = 0; st == LC_OK && i < count; i++)
        if (live[i]) st = lc_rebuild_copy(&rb, i, NULL);
    if (st == LC_OK) st = lc_rebuild_finish(&rb, out);
    lc_rebuild_abort(&rb);
    free(live);
    return st == LC_OK ? LC_OK : lc_fail_prefix(st, "dce");
}
