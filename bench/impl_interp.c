/* interp: the reference interpreter (lc_interp_run), node by node in float64. It is plain
 * single-threaded C, so it has rows only at 1 thread, and it is left out above
 * INTERP_MAX_ELEMENTS input elements, where one run takes many seconds. Each run allocates
 * its outputs (counted as outputs, not as extra memory) and frees them. */
#include <stdlib.h>
#include <string.h>

#include "bench_graphs.h"
#include "lucid/runtime.h"

#define INTERP_MAX_ELEMENTS (1LL << 24)

typedef struct interp_state {
    const bench_config *cfg;
    lc_graph *graph;
    int n_in, n_out;
    bool copy_out; /* finish_for_check: keep slot 0's results */
} interp_state;

static int interp_available(char *why, size_t n) { return 0; }

static bool interp_supports(const bench_config *cfg, int threads, char *why, size_t n) {
    if (threads != 1) {
        snprintf(why, n, "single-threaded; its rows are in the 1-thread tables only");
        return false;
    }
    if (bench_config_x_numel(cfg) > INTERP_MAX_ELEMENTS) {
        snprintf(why, n, "left out above %lld input elements (seconds per run)", INTERP_MAX_ELEMENTS);
        return false;
    }
    if (cfg->pass == BENCH_FWDBWD && !bench_have_autodiff()) {
        snprintf(why, n, "fwdbwd needs lc_autodiff, which this build of the library lacks");
        return false;
    }
    return true;
}

static int interp_setup(const bench_config *cfg, int threads, void **state, char *err, size_t n) {
    interp_state *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, n, "out of memory");
        return -1;
    }
    s->cfg = cfg;
    if (bench_build_graph(cfg, &s->graph) != LC_OK) {
        snprintf(err, n, "building the graph: %s", lc_last_error());
        free(s);
        return -1;
    }
    s->n_in = lc_graph_input_count(s->graph);
    s->n_out = lc_graph_output_count(s->graph);
    *state = s;
    return 0;
}

static int interp_run(void *state, int slot, char *err, size_t n) {
    interp_state *s = state;
    const bench_config *cfg = s->cfg;
    lc_tensor x, g;
    bench_wrap_tensor(&x, cfg->x[slot], bench_config_x_shape(cfg));
    if (cfg->g) bench_wrap_tensor(&g, cfg->g[slot], bench_config_y_shape(cfg));
    const lc_tensor *in[2] = {&x, &g};
    lc_tensor *out[2] = {NULL, NULL};
    if (lc_interp_run(s->graph, in, s->n_in, out, s->n_out) != LC_OK) {
        snprintf(err, n, "%s", lc_last_error());
        return -1;
    }
    if (s->copy_out) {
        memcpy(cfg->y[slot], out[0]->data, lc_tensor_nbytes(out[0]));
        if (cfg->dx) memcpy(cfg->dx[slot], out[1]->data, lc_tensor_nbytes(out[1]));
    }
    for (int i = 0; i < s->n_out; i++) lc_tensor_free(out[i]);
    return 0;
}

static int64_t interp_output_bytes(void *state) {
    interp_state *s = state;
    int64_t b = bench_config_y_numel(s->cfg) * (int64_t)sizeof(float);
    if (s->cfg->dx) b += bench_config_x_numel(s->cfg) * (int64_t)sizeof(float);
    return b + s->n_out * (int64_t)sizeof(lc_tensor);
}

static int interp_finish(void *state, char *err, size_t n) {
    interp_state *s = state;
    s->copy_out = true;
    int rc = interp_run(s, 0, err, n);
    s->copy_out = false;
    return rc;
}

static void interp_teardown(void *state) {
    interp_state *s = state;
    lc_graph_free(s->graph);
    free(s);
}

const bench_impl_ops bench_interp_ops = {
    .available = interp_available,
    .supports = interp_supports,
    .setup = interp_setup,
    .run = interp_run,
    .run_output_bytes = interp_output_bytes,
    .finish_for_check = interp_finish,
    .teardown = interp_teardown,
    .checked = true,
};
