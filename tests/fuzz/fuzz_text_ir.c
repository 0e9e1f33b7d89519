/* Fuzz target: the text IR parser (lc_graph_parse) and what a parsed graph feeds.
 *
 * Properties checked for any input text:
 *  - parsing either fails with a known status and a message, or gives a graph that verifies;
 *  - a parsed graph prints, and the print parses back and prints identically;
 *  - a small parsed graph runs on the interpreter (or fails cleanly), and the default pass
 *    pipeline (with a backward when the text asks for one by ending in '\n\n') turns it into a
 *    graph that verifies and gives the literal graph's exact values (check_passes). */
#include <math.h>
#include <stdbool.h>

#include "fuzz_common.h"
#include "fuzz_values.h"
#include "lucid/autodiff.h"
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

/* The largest |exponent| of the graph's pows (at least 1): a pow amplifies a relative rounding
 * difference in its base by that much, so the passes' rewrites may differ from the literal
 * graph by as much more. */
static double exponent_scale(const lc_graph *g) {
    double e = 1;
    for (int i = 0; i < lc_graph_node_count(g); i++) {
        const lc_node *n = lc_graph_node(g, i);
        if (n->op == LC_OP_POW && isfinite(n->real_attr)) e = fmax(e, fabs(n->real_attr));
    }
    return e;
}

/* The rule every graph pass keeps (docs/pipeline.md): a rewrite may replace a value that the
 * literal graph loses only to an intermediate's overflow or underflow with the exact value,
 * and must change nothing else; a NaN, inf or 0 that the exact math gives stays. The
 * interpreter carries every intermediate with a wide exponent, so on it the literal graph
 * loses nothing to overflow or underflow: it is the exact value, and the passes' graph must
 * give it too, up to rounding (f32 graphs: the JIT's rtol 1e-4, atol 1e-6; f64: rtol 1e-9;
 * both widened by the largest pow exponent; a backward's outputs normwise), with NaN for NaN
 * and inf for inf exactly.
 * The literal graph of a backward is the forward with autodiff's graph appended, no other pass. */
static void check_passes(const lc_graph *g, bool backward, uint64_t seed) {
    lc_graph *literal = NULL;
    lc_clear_error();
    lc_status st = backward ? lc_autodiff(g, NULL, 0, NULL, 0, &literal) : lc_graph_clone(g, &literal);
    if (st != LC_OK) {
        FUZZ_CHECK_FAILURE(st, backward ? "lc_autodiff" : "lc_graph_clone");
        return;
    }
    int n_out = lc_graph_output_count(literal);
    lc_tensor *before[2 * MAX_IO + 1] = {0}, *after[2 * MAX_IO + 1] = {0};
    if (!small_enough(literal) || n_out > 2 * MAX_IO || lc_graph_input_count(literal) > MAX_IO ||
        run(literal, seed, before) != LC_OK) {
        lc_graph_free(literal);
        return;
    }

    lc_pipeline_options opts = lc_pipeline_options_default();
    opts.verify = true;
    lc_graph *p = NULL;
    lc_clear_error();
    st = lc_pipeline_run_default(g, backward, &opts, &p);
    if (st != LC_OK) {
        FUZZ_CHECK_FAILURE(st, "lc_pipeline_run_default");
        FUZZ_CHECK(p == NULL, "failed pipeline left a graph");
        free_all(before, n_out);
        lc_graph_free(literal);
        return;
    }
    FUZZ_CHECK(lc_graph_verify(p) == LC_OK, "pipeline output does not verify");
    /* The same outputs in the same order (forward first, then the gradients), over the same
     * inputs (with a backward, the seeds after the forward's). */
    FUZZ_CHECK(lc_graph_output_count(p) == n_out, "the passes changed the output count");
    FUZZ_CHECK(lc_graph_input_count(p) == lc_graph_input_count(literal), "the passes changed the inputs");
    if (small_enough(p)) {
        st = run(p, seed, after);
        FUZZ_CHECK(st == LC_OK, "the interpreter ran the graph but not its optimized form");
        double widen = exponent_scale(literal) / 100;
        for (int k = 0; k < n_out; k++) {
            FUZZ_CHECK(after[k]->dtype == before[k]->dtype && lc_shape_equal(&after[k]->shape, &before[k]->shape),
                       "output %d changed dtype or shape", k);
            bool f32 = before[k]->dtype == LC_F32;
            double rtol = (f32 ? 1e-4 : 1e-9) * fmax(1, widen), atol = f32 ? 1e-6 : 1e-12;
            /* A gradient sums terms of both signs (an LP norm's second derivative is the
             * difference of two terms far larger than itself, each rounded), so it holds to
             * rtol normwise: against the output's largest finite value. */
            double largest = 0;
            for (int64_t e = 0; backward && e < lc_tensor_numel(before[k]); e++) {
                double v = fabs(lc_tensor_get(before[k], e));
                if (isfinite(v)) largest = fmax(largest, v);
            }
            atol = fmax(atol, rtol * largest);
            for (int64_t e = 0; e < lc_tensor_numel(before[k]); e++) {
                double want = lc_tensor_get(before[k], e), got = lc_tensor_get(after[k], e);
                FUZZ_CHECK(fuzz_close(got, want, rtol, atol),
                           "output %d element %lld: %.17g after the passes, %.17g in the literal graph "
                           "(exact: the interpreter's wide exponent loses nothing to overflow)",
                           k, (long long)e, got, want);
            }
        }
        free_all(after, n_out);
    }
    free_all(before, n_out);
    lc_graph_free(p);
    lc_graph_free(literal);
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
