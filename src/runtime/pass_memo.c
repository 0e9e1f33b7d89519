/* The default passes' memo: lc_pipeline_run_default on a built graph it has seen gives a copy
 * of the graph the passes made from it then, without running them. The passes are functions
 * of the graph alone (its structure and its nodes' names, which the memo's key holds), so the
 * copy is what they would make again. This is what a compile-cache hit spends most on: a
 * module's graph built, passed and compiled again is then a key, a lookup and a copy, where
 * autodiff, simplify, cse and dce each copied the graph (LPPool2d(2, 2) forward+backward:
 * 88 % of a hit's instructions). Graphs of more than PASS_MEMO_MAX_NODES are not kept: their
 * compiles take far longer than their passes. */
#include <stdlib.h>

#include "runtime/keyed_table.h"
#include "runtime/program_internal.h"

#define PASS_MEMO_MAX_NODES 4096

static lc_keyed_table g_memo = LC_KEYED_TABLE_INIT;

static void *copy(void *graph) {
    lc_graph *c = NULL;
    return lc_graph_clone(graph, &c) == LC_OK ? c : NULL;
}

static void release(void *graph) { lc_graph_free(graph); }

static void clear_at_exit(void) { lc_pass_memo_clear(); }

static void register_clear_at_exit(void) { atexit(clear_at_exit); }

lc_graph *lc_pass_memo_find(const unsigned char *key, size_t len) { return lc_keyed_find(&g_memo, key, len, copy); }

bool lc_pass_memo_may_keep(const lc_graph *g) { return lc_graph_node_count(g) <= PASS_MEMO_MAX_NODES; }

void lc_pass_memo_insert(const unsigned char *key, size_t len, const lc_graph *made) {
    if (!lc_pass_memo_may_keep(made)) return;
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, register_clear_at_exit);
    lc_graph *kept = copy((void *)made);
    if (!kept) return; /* not kept: only costs the passes again */
    lc_graph *old = lc_keyed_put(&g_memo, key, len, kept);
    lc_graph_free(old);
}

void lc_pass_memo_clear(void) { lc_keyed_clear(&g_memo, release); }
