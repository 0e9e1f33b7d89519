/* Fuzz target: the model-spec parser (lc_model_parse, lc_model_parse_call), what
 * `lucidc --model FILE` and `--module SPEC` read.
 *
 * Properties: parsing fails with a known status, a message, and no module; or it gives a
 * module whose repr parses back (as one call, or as a file of calls for a Sequential) to a
 * module with the same repr. The parsed module then builds its graph for a few input shapes
 * (every data input of that shape: MSELoss takes two), agreeing with lc_module_output_shape on
 * success or failure. The first input byte picks file
 * or single-call mode, the rest is the text. */
#include <stdbool.h>

#include "fuzz_common.h"
#include "lucid/ir.h"
#include "lucid/model_spec.h"
#include "lucid/nn.h"

static void check_shapes(const lc_module *m) {
    static const int64_t shapes[][3] = {{1, 1, 1}, {2, 3, 16}, {1, 2, 7}, {0, 4, 9}, {1, 1, 65536}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        lc_shape in = lc_shape_make(3, shapes[i]), out;
        lc_clear_error();
        lc_status st_shape = lc_module_output_shape(m, in, &out);
        if (st_shape != LC_OK) FUZZ_CHECK_FAILURE(st_shape, "lc_module_output_shape");
        lc_graph *g = NULL;
        FUZZ_CHECK(lc_graph_new(&g) == LC_OK, "lc_graph_new");
        /* every data input of the module's forward (MSELoss takes input and target) */
        int xs[2], n_xs = lc_module_input_count(m), y;
        FUZZ_CHECK(n_xs >= 1 && n_xs <= 2, "lc_module_input_count is %d", n_xs);
        for (int k = 0; k < n_xs; k++)
            FUZZ_CHECK(lc_input(g, k ? "target" : "x", LC_F32, in, &xs[k]) == LC_OK, "lc_input");
        lc_clear_error();
        lc_status st = lc_module_forward_inputs(m, g, xs, n_xs, &y);
        FUZZ_CHECK((st == LC_OK) == (st_shape == LC_OK),
                   "output_shape says %s, forward says %s", lc_status_str(st_shape),
                   lc_status_str(st));
        if (st == LC_OK) {
            FUZZ_CHECK(lc_shape_equal(&lc_graph_node(g, y)->shape, &out),
                       "forward's shape differs from lc_module_output_shape");
            FUZZ_CHECK(lc_graph_verify(g) == LC_OK, "the module's graph does not verify");
        } else {
            FUZZ_CHECK_FAILURE(st, "lc_module_forward");
        }
        lc_graph_free(g);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    bool single = size > 0 && (data[0] & 1);
    char *text = fuzz_strdup(data + (size > 0), size - (size > 0));
    lc_module *m = (lc_module *)&m; /* must be overwritten with NULL on failure */
    lc_clear_error();
    lc_status st = single ? lc_model_parse_call(text, "--module 1", &m)
                          : lc_model_parse(text, "model.txt", &m);
    if (st != LC_OK) {
        FUZZ_CHECK_FAILURE(st, single ? "lc_model_parse_call" : "lc_model_parse");
        FUZZ_CHECK(m == NULL, "failed parse left a module");
        free(text);
        return 0;
    }
    char *repr = NULL;
    FUZZ_CHECK(lc_module_repr(m, &repr) == LC_OK, "repr of a parsed module failed");

    /* A Sequential's repr is PyTorch's nested form, not a spec; rebuild a spec file from
     * its children's reprs, one per line. */
    size_t cap = strlen(repr) + 2;
    char *spec = NULL;
    if (lc_module_get_kind(m) == LC_MODULE_SEQUENTIAL) {
        int n = lc_sequential_count(m);
        cap = 2;
        char **parts = calloc((size_t)n + 1, sizeof *parts);
        FUZZ_CHECK(parts != NULL, "calloc");
        for (int i = 0; i < n; i++) {
            FUZZ_CHECK(lc_module_repr(lc_sequential_child(m, i), &parts[i]) == LC_OK, "child repr");
            cap += strlen(parts[i]) + 1;
        }
        spec = calloc(1, cap);
        FUZZ_CHECK(spec != NULL, "calloc");
        for (int i = 0; i < n; i++) {
            strcat(spec, parts[i]);
            strcat(spec, "\n");
            free(parts[i]);
        }
        free(parts);
    } else {
        spec = malloc(cap);
        FUZZ_CHECK(spec != NULL, "malloc");
        strcpy(spec, repr);
    }
    lc_module *again = NULL;
    st = lc_model_parse(spec, "repr", &again);
    FUZZ_CHECK(st == LC_OK, "the repr \"%s\" of a parsed module does not parse", spec);
    char *repr2 = NULL;
    FUZZ_CHECK(lc_module_repr(again, &repr2) == LC_OK, "repr of the reparse failed");
    FUZZ_CHECK(strcmp(repr, repr2) == 0, "repr round trip: \"%s\" became \"%s\"", repr, repr2);

    check_shapes(m);

    free(repr);
    free(repr2);
    free(spec);
    lc_module_free(again);
    lc_module_free(m);
    free(text);
    return 0;
}
