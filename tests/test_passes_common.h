/* What the pass tests share: the interpreter as oracle (a graph before and after a pass must
 * give the same outputs), running a pass with its invariants checked (verifies, outputs kept,
 * a second run changes nothing), and the graph's text. */
#ifndef LUCID_TEST_PASSES_COMMON_H
#define LUCID_TEST_PASSES_COMMON_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "support/testutil.h"
#include "lucid/passes.h"
#include "lucid/runtime.h"
#include "passes/rebuild.h"

enum { MAX_TEST_IO = 16 };

/* One random tensor per graph input (values in (-scale, scale), some exact zeros). */
static inline int random_inputs(const lc_graph *g, test_rng *r, double scale, lc_tensor **in) {
    int n = lc_graph_input_count(g);
    assert_true(n <= MAX_TEST_IO);
    for (int k = 0; k < n; k++) {
        const lc_node *node = lc_graph_node(g, lc_graph_input(g, k));
        in[k] = test_random_tensor(r, node->dtype, node->shape, scale);
    }
    return n;
}

static inline int eval_graph(const lc_graph *g, lc_tensor **in, lc_tensor **out) {
    int n_out = lc_graph_output_count(g);
    assert_true(n_out <= MAX_TEST_IO);
    assert_ok(lc_interp_run(g, (const lc_tensor *const *)in, lc_graph_input_count(g), out, n_out));
    return n_out;
}

static inline void free_tensors(lc_tensor **t, int n) {
    for (int k = 0; k < n; k++) lc_tensor_free(t[k]);
}

/* a and b take the same inputs and give the same outputs on `trials` random inputs. */
static inline void assert_same_values(const lc_graph *a, const lc_graph *b, uint64_t seed,
                                      int trials, double scale, double rtol, double atol) {
    assert_int_equal(lc_graph_input_count(a), lc_graph_input_count(b));
    assert_int_equal(lc_graph_output_count(a), lc_graph_output_count(b));
    test_rng r = test_rng_seeded(seed);
    for (int t = 0; t < trials; t++) {
        lc_tensor *in[MAX_TEST_IO], *oa[MAX_TEST_IO], *ob[MAX_TEST_IO];
        int n_in = random_inputs(a, &r, scale, in);
        int n_out = eval_graph(a, in, oa);
        eval_graph(b, in, ob);
        for (int k = 0; k < n_out; k++) assert_tensor_close(ob[k], oa[k], rtol, atol);
        free_tensors(in, n_in);
        free_tensors(oa, n_out);
        free_tensors(ob, n_out);
    }
}

/* Run pass `name` on g and check what every pass promises: the result verifies, keeps the
 * inputs (count, order, dtype, shape, name) and the number of outputs, and running the pass
 * again changes nothing. The caller frees the result. */
static inline lc_graph *run_checked(const char *name, const lc_graph *g) {
    lc_graph *once = NULL, *twice = NULL;
    assert_ok(lc_pass_run(name, g, &once));
    assert_ok(lc_graph_verify(once));
    assert_int_equal(lc_graph_output_count(once), lc_graph_output_count(g));
    assert_int_equal(lc_graph_input_count(once), lc_graph_input_count(g));
    for (int k = 0; k < lc_graph_input_count(g); k++) {
        const lc_node *a = lc_graph_node(g, lc_graph_input(g, k));
        const lc_node *b = lc_graph_node(once, lc_graph_input(once, k));
        assert_int_equal(a->dtype, b->dtype);
        assert_true(lc_shape_equal(&a->shape, &b->shape));
        if (a->name) assert_string_equal(a->name, b->name);
    }
    assert_ok(lc_pass_run(name, once, &twice));
    if (!lc_graph_identical(once, twice)) {
        char *t1 = NULL, *t2 = NULL;
        assert_ok(lc_graph_to_string(once, &t1));
        assert_ok(lc_graph_to_string(twice, &t2));
        fail_msg("%s is not idempotent:\n%s\nthen\n%s", name, t1, t2);
    }
    lc_graph_free(twice);
    return once;
}

static inline char *graph_text(const lc_graph *g) {
    char *text = NULL;
    assert_ok(lc_graph_to_string(g, &text));
    return text;
}

static inline void assert_graph_text(const lc_graph *g, const char *want) {
    char *got = graph_text(g);
    if (strcmp(got, want) != 0) fail_msg("graph text differs; got:\n%s\nwant:\n%s", got, want);
    free(got);
}

static inline int count_op(const lc_graph *g, lc_op op) {
    int n = 0;
    for (int i = 0; i < lc_graph_node_count(g); i++) n += lc_graph_node(g, i)->op == op;
    return n;
}

/* The index of the node named `name`, or -1. */
static inline int find_named(const lc_graph *g, const char *name) {
    for (int i = 0; i < lc_graph_node_count(g); i++) {
        const char *n = lc_graph_node(g, i)->name;
        if (n && strcmp(n, name) == 0) return i;
    }
    return -1;
}

static inline lc_shape shape1(int64_t n) { return lc_shape_make(1, &n); }

#endif
