/* Fuzz target: the text IR parser (lc_graph_parse) and what a parsed graph feeds.
 *
 * Properties checked for any input text:
 *  - parsing either fails with a known status and a message, or gives a graph that verifies;
 *  - a parsed graph prints, and the print parses back and prints identically;
 *  - a small parsed graph runs on the interpreter (or fails cleanly), and the default pass
 *    pipeline (with a backward when the text asks for one by ending in '\n\n') turns it into a
 *    graph that verifies and computes the same forward outputs, within rounding (f32 graphs:
 *    the JIT's rtol 1e-4, atol 1e-6; f64: rtol 1e-9). */
#include <math.h>
#include <stdbool.h>

#include "fuzz_common.h"
#include "fuzz_values.h"
#include "lucid/ir.h"
#include "lucid/passes.h"
#include "lucid/runtime.h"

/* Graphs whose nodes hold at most this many elements are run; larger ones are only parsed
 * (the interpreter's own allocation limits are tested in tests/test_limits.c). */
enum { RUN_LIMIT = 1 << 14, MAX_IO = 8 };

static bool small_enough(const lc_graph *g) {
    int64_t total = 0;
    for (int i = 0; i < lc_graph_node_count(g); i++) {
        const lc_node *n = lc_graph_node(g, i);
        /* A zero-size shape may still have huge extents, which matter to index arithmetic. */
        for (int d = 0; d < n->shape.rank; d++)
            if (n->shape.dim[d] > RUN_LIMIT) return false;
        total += lc_shape_numel(&n->shape);
        if (total > 4 * RUN_LIMIT) return false;
    }
    return lc_graph_input_count(g) <= MAX_IO && lc_graph_output_count(g) <= MAX_IO;
}

static void free_all(lc_tensor **t, int n) {
    for (int i = 0; i < n; i++) lc_tensor_free(t[i]);
}

/* Run g on inputs made from `seed`; on success outputs[] are set and LC_OK returned. */
static lc_status run(const lc_graph *g, uint64_t seed, lc_tensor **outputs) {
    int n_in = lc_graph_input_count(g), n_out = lc_graph_output_count(g);
    lc_tensor *inputs[MAX_IO] = {0};
    for (int k = 0; k < n_in; k++) {
        const lc_node *n = lc_graph_node(g, lc_graph_input(g, k));
        lc_status st = lc_tensor_new(n->dtype, n->shape, &inputs[k]);
        FUZZ_CHECK(st == LC_OK, "lc_tensor_new of a small input failed");
        fuzz_fill(inputs[k], seed + (uint64_t)k, 4.0, true);
    }
    lc_clear_error();
    lc_status st = lc_interp_run(g, (const lc_tensor *const *)inputs, n_in, outputs, n_out);
    if (st != LC_OK) {
        FUZZ_CHECK_FAILURE(st, "lc_interp_run");
        for (int k = 0; k < n_out; k++) FUZZ_CHECK(outputs[k] == NULL, "output %d left set", k);
    }
    free_all(inputs, n_in);
    return st;
}

static void check_passes(const lc_graph *g, bool backward, uint64_t seed) {
    int n_out = lc_graph_output_count(g);
    lc_tensor *before[MAX_IO] = {0}, *after[MAX_IO] = {0};
    if (run(g, seed, before) != LC_OK) return;

    lc_pipeline_options opts = lc_pipeline_options_default();
    opts.verify = true;
    lc_graph *p = NULL;
    lc_clear_error();
    lc_status st = lc_pipeline_run_default(g, backward, &opts, &p);
    if (st != LC_OK) {
        FUZZ_CHECK_FAILURE(st, "lc_pipeline_run_default");
        FUZZ_CHECK(p == NULL, "failed pipeline left a graph");
        free_all(before, n_out);
        return;
    }
    FUZZ_CHECK(lc_graph_verify(p) == LC_OK, "pipeline output does not verify");
    /* Forward outputs come first in the transformed graph, in the same order; with a
     * backward the seeds are extra inputs after the forward ones. */
    FUZZ_CHECK(lc_graph_output_count(p) >= n_out, "pipeline lost outputs");
    if (small_enough(p) && lc_graph_input_count(p) <= MAX_IO) {
        int n_after = lc_graph_output_count(p);
        lc_tensor *all[2 * MAX_IO + 1] = {0};
        if (n_after <= 2 * MAX_IO && !backward) {
            st = run(p, seed, all);
            FUZZ_CHECK(st == LC_OK, "the interpreter ran the graph but not its optimized form");
            for (int k = 0; k < n_out; k++) {
                after[k] = all[k];
                FUZZ_CHECK(after[k]->dtype == before[k]->dtype &&
                               lc_shape_equal(&after[k]->shape, &before[k]->shape),
                           "output %d changed dtype or shape", k);
                for (int64_t e = 0; e < lc_tensor_numel(before[k]); e++) {
                    double want = lc_tensor_get(before[k], e), got = lc_tensor_get(after[k], e);
                    /* f32 graphs hold f32 constants, so a folded constant is rounded once
                     * where the originals were rounded each: the JIT's f32 tolerance.
                     * f64 graphs only see reassociation in float64. */
                    bool f32 = before[k]->dtype == LC_F32;
                    FUZZ_CHECK(fuzz_close(got, want, f32 ? 1e-4 : 1e-9, f32 ? 1e-6 : 1e-12),
                               "output %d element %lld: %.17g after passes, %.17g before", k,
                               (long long)e, got, want);
                }
            }
            free_all(all, n_after);
        } else if (backward && lc_graph_input_count(p) <= MAX_IO) {
            st = run(p, seed, all);
            if (st == LC_OK) free_all(all, n_after);
        }
    }
    free_all(before, n_out);
    lc_graph_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = fuzz_strdup(data, size);
    lc_graph *g = NULL;
    lc_clear_error();
    lc_status st = lc_graph_parse(text, &g);
    if (st != LC_OK) {
        FUZZ_CHECK_FAILURE(st, "lc_graph_parse");
        FUZZ_CHECK(g == NULL, "failed parse left a graph");
        free(text);
        return 0;
    }
    FUZZ_CHECK(lc_graph_verify(g) == LC_OK, "a parsed graph does not verify");

    char *printed = NULL, *reprinted = NULL;
    FUZZ_CHECK(lc_graph_to_string(g, &printed) == LC_OK, "printing a parsed graph failed");
    lc_graph *again = NULL;
    st = lc_graph_parse(printed, &again);
    FUZZ_CHECK(st == LC_OK, "the print of a parsed graph does not parse:\n%s", printed);
    FUZZ_CHECK(lc_graph_to_string(again, &reprinted) == LC_OK, "printing the reparse failed");
    FUZZ_CHECK(strcmp(printed, reprinted) == 0, "print -> parse -> print differs:\n%s\n---\n%s",
               printed, reprinted);

    if (small_enough(g)) {
        uint64_t seed = 0x51ed270b27a3c4d9ull ^ (uint64_t)size;
        for (size_t i = 0; i < size && i < 64; i++) seed = seed * 131 + data[i];
        bool backward = size >= 2 && data[size - 1] == '\n' && data[size - 2] == '\n';
        check_passes(g, backward, seed);
    }

    free(printed);
    free(reprinted);
    lc_graph_free(again);
    lc_graph_free(g);
    free(text);
    return 0;
}
