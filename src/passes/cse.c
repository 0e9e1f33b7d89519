/* cse: merge nodes that compute the same value — same op, inputs, attributes, dtype, shape and
 * (for constants) data. The merged node keeps the first one's name (the later one's when the
 * first has none). add and mul commute, so their inputs match in either order. INPUT nodes are
 * never merged: two parameters of one shape are still two parameters.
 *
 * Nodes are visited in order, so a node's inputs are already merged when it is looked up: one
 * sweep finds every merge. The table is open addressing over new-graph indices. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ir/node_key.h"
#include "passes/pass.h"
#include "passes/rebuild.h"
#include "support/error.h"

static bool commutes(lc_op op) { return op == LC_OP_ADD || op == LC_OP_MUL; }

/* The node's inputs as a key: the smaller first where the order does not matter. */
static void input_key(const lc_node *n, int key[LC_MAX_INPUTS]) {
    key[0] = n->inputs[0];
    key[1] = n->inputs[1];
    if (commutes(n->op) && key[1] < key[0]) {
        key[0] = n->inputs[1];
        key[1] = n->inputs[0];
    }
}

static uint64_t mix(uint64_t h, uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h;
}

/* The node's fields (ir/node_key.h) and its input key. */
static uint64_t node_hash(const lc_node *n) {
    int key[LC_MAX_INPUTS];
    input_key(n, key);
    uint64_t h = lc_node_hash_fields(n, LC_HASH_SEED);
    h = mix(h, (uint64_t)(key[0] + 1));
    h = mix(h, (uint64_t)(key[1] + 1));
    /* splitmix64's finalizer: the combine above leaves neighbouring indices in neighbouring
     * slots, which linear probing turns into long runs. */
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
    return h;
}

/* Attributes and data compare bit for bit: 0 and -0 are different constants. */
static bool same_node(const lc_node *a, const lc_node *b) {
    int ka[LC_MAX_INPUTS], kb[LC_MAX_INPUTS];
    input_key(a, ka);
    input_key(b, kb);
    return ka[0] == kb[0] && ka[1] == kb[1] && lc_node_same_fields(a, b);
}

typedef struct cse_table {
    int *slot; /* new-graph node index, or -1 */
    size_t mask;
} cse_table;

/* The new node equal to `n`, or the free slot where it belongs (*found = false). */
static size_t table_probe(const cse_table *t, const lc_graph *g, const lc_node *n, bool *found) {
    size_t i = (size_t)node_hash(n) & t->mask;
    while (t->slot[i] >= 0) {
        if (same_node(lc_graph_node(g, t->slot[i]), n)) {
            *found = true;
            return i;
        }
        i = (i + 1) & t->mask;
    }
    *found = false;
    return i;
}

static lc_status cse_node(lc_rebuild *rb, cse_table *t, int i) {
    const lc_node *old = lc_graph_node(rb->in, i);
    if (old->op == LC_OP_INPUT) return lc_rebuild_copy(rb, i, NULL);
    lc_node probe = *old;
    for (int k = 0; k < lc_op_get_info(old->op)->arity; k++) probe.inputs[k] = rb->map[old->inputs[k]];
    bool found;
    size_t s = table_probe(t, rb->out, &probe, &found);
    if (found) {
        int first = t->slot[s];
        rb->map[i] = first;
        if (!lc_graph_node(rb->out, first)->name && old->name)
            LC_TRY(lc_graph_set_name(rb->out, first, old->name));
        return LC_OK;
    }
    LC_TRY(lc_rebuild_copy(rb, i, &t->slot[s]));
    return LC_OK;
}

lc_status lc_pass_cse(const lc_graph *in, lc_graph **out) {
    *out = NULL;
    int count = lc_graph_node_count(in);
    cse_table t = {.mask = 15};
    while (t.mask < (size_t)count * 2) t.mask = t.mask * 2 + 1; /* load factor <= 1/2 */
    t.slot = malloc((t.mask + 1) * sizeof *t.slot);
    if (!t.slot) return lc_fail(LC_ERR_NOMEM, "cse: out of memory");
    for (size_t i = 0; i <= t.mask; i++) t.slot[i] = -1;
    lc_rebuild rb;
    lc_status st = lc_rebuild_begin(&rb, in);
    for (int i = 0; st == LC_OK && i < count; i++) st = cse_node(&rb, &t, i);
    if (st == LC_OK) st = lc_rebuild_finish(&rb, out);
    lc_rebuild_abort(&rb);
    free(t.slot);
    return st == LC_OK ? LC_OK : lc_fail_prefix(st, "cse");
}
