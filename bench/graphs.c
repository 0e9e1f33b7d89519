/* The graph of a configuration, as a user of the library builds it: one f32 input x of the
 * configuration's shape, the module's forward, output y; for fwdbwd, lc_autodiff appends the
 * backward of sum(y·g) with respect to x, so the graph's inputs are (x, g) and its outputs
 * (y, dx). Shared by the interpreter and the JIT rows. */
#include <stdlib.h>

#include "bench_graphs.h"

#ifdef LUCID_BENCH_HAVE_AUTODIFF
#include "lucid/autodiff.h"
#endif

lc_status bench_build_graph(const bench_config *cfg, lc_graph **out) {
    *out = NULL;
    lc_graph *g = NULL;
    int x = 0, y = 0;
    lc_status st;
    if (cfg->is_model) { /* inputs x, then the parameters (lc_module_graph's order) */
        st = lc_module_graph(cfg->module, LC_F32, bench_config_x_shape(cfg), &g);
        if (st == LC_OK) y = lc_graph_output(g, 0);
    } else {
        st = lc_graph_new(&g);
        if (st == LC_OK) st = lc_input(g, "x", LC_F32, bench_config_x_shape(cfg), &x);
        if (st == LC_OK) st = lc_module_forward(cfg->module, g, x, &y);
        if (st == LC_OK) st = lc_graph_add_output(g, y);
    }
    if (st != LC_OK) {
        lc_graph_free(g);
        return st;
    }
    if (cfg->pass == BENCH_FWD) {
        *out = g;
        return LC_OK;
    }
#ifdef LUCID_BENCH_HAVE_AUTODIFF
    lc_graph *both = NULL;
    /* a model: the gradients of x and of every parameter (every input, in order) */
    st = cfg->is_model ? lc_autodiff(g, &y, 1, NULL, 0, &both) : lc_autodiff(g, &y, 1, &x, 1, &both);
    lc_graph_free(g);
    *out = both;
    return st;
#else
    lc_graph_free(g);
    return LC_ERR_UNSUPPORTED;
#endif
}

bool bench_have_autodiff(void) {
#ifdef LUCID_BENCH_HAVE_AUTODIFF
    return true;
#else
    return false;
#endif
}

void bench_wrap_tensor(lc_tensor *t, float *data, lc_shape shape) {
    *t = (lc_tensor){.dtype = LC_F32, .shape = shape, .data = data};
}
