/* Graphs the command line builds and the engines that run them: the JIT (lucid/program.h),
 * which runs the default graph passes and compiles, and the reference interpreter. */
#include <string.h>

#include "cli.h"
#include "lucid/autodiff.h"
#include "lucid/passes.h"
#include "lucid/program.h"
#include "lucid/runtime.h"

int cli_parse_engine(const char *opt, const char *text, cli_engine *out) {
    if (!strcmp(text, "jit")) *out = CLI_ENGINE_JIT;
    else if (!strcmp(text, "interp")) *out = CLI_ENGINE_INTERP;
    else return cli_error(opt, "expected jit or interp, got '%s'", text);
    return CLI_OK;
}

const char *cli_engine_name(cli_engine e) { return e == CLI_ENGINE_JIT ? "jit" : "interp"; }

lc_status cli_build_forward(const lc_module *m, lc_dtype dtype, lc_shape shape, lc_graph **out) {
    LC_TRY(lc_module_graph(m, dtype, shape, out));
    if (lc_graph_node_count(*out) == 1) { /* an empty Sequential: the output is x itself */
        lc_graph_free(*out);
        *out = NULL;
        return lc_fail(LC_ERR_INVALID_ARG, "model: produces no ops");
    }
    return LC_OK;
}

lc_status cli_build_training(const lc_graph *forward, lc_graph **out) {
    return lc_autodiff(forward, NULL, 0, NULL, 0, out);
}

lc_status cli_exec_prepare(cli_engine engine, const lc_graph *g, cli_exec *e) {
    memset(e, 0, sizeof *e);
    e->engine = engine;
    e->graph = g;
    e->info.engine = cli_engine_name(engine);
    if (engine == CLI_ENGINE_INTERP) return LC_OK;
    double t0 = lc_now_ms();
    lc_graph *optimized;
    LC_TRY(lc_pipeline_run_default(g, false, NULL, &optimized));
    lc_status st = lc_compile(optimized, NULL, &e->program);
    lc_graph_free(optimized);
    if (st != LC_OK) return st;
    e->info.compile_ms = lc_now_ms() - t0;
    e->info.n_kernels = lc_program_kernel_count(e->program);
    return LC_OK;
}

lc_status cli_exec_run(cli_exec *e, const lc_tensor *const *inputs, int n_inputs,
                       lc_tensor **outputs, int n_outputs) {
    double t0 = lc_now_ms();
    lc_status st = e->program ? lc_program_run(e->program, inputs, n_inputs, outputs, n_outputs)
                              : lc_interp_run(e->graph, inputs, n_inputs, outputs, n_outputs);
    e->info.run_ms = lc_now_ms() - t0;
    return st;
}

void cli_exec_free(cli_exec *e) {
    lc_program_free(e->program);
    e->program = NULL;
}

/* The JIT's outputs are taken before it compiles: a run too big for the memory left then
 * fails in Lucid's own allocation, with a status, instead of inside LLVM, which cannot fail
 * cleanly (the compile itself checks for LLVM's room first: codegen's headroom). */
static lc_status alloc_outputs(const lc_graph *g, lc_tensor **outputs, int n_outputs) {
    for (int k = 0; k < n_outputs; k++) outputs[k] = NULL;
    for (int k = 0; k < n_outputs; k++) {
        const lc_node *n = lc_graph_node(g, lc_graph_output(g, k));
        lc_status st = lc_tensor_new(n->dtype, n->shape, &outputs[k]);
        if (st != LC_OK) {
            for (int i = 0; i < k; i++) {
                lc_tensor_free(outputs[i]);
                outputs[i] = NULL;
            }
            return st;
        }
    }
    return LC_OK;
}

lc_status cli_run_graph(cli_engine engine, const lc_graph *g, const lc_tensor *const *inputs,
                        int n_inputs, lc_tensor **outputs, int n_outputs, cli_run_info *info) {
    cli_exec e;
    memset(&e, 0, sizeof e);
    e.info.engine = cli_engine_name(engine);
    lc_status st = LC_OK;
    if (engine == CLI_ENGINE_JIT) st = alloc_outputs(g, outputs, n_outputs);
    if (st == LC_OK) st = cli_exec_prepare(engine, g, &e);
    if (st == LC_OK && engine == CLI_ENGINE_JIT) {
        double t0 = lc_now_ms();
        st = lc_program_run_into(e.program, inputs, n_inputs, outputs, n_outputs);
        e.info.run_ms = lc_now_ms() - t0;
    } else if (st == LC_OK) {
        st = cli_exec_run(&e, inputs, n_inputs, outputs, n_outputs);
    }
    if (st != LC_OK && engine == CLI_ENGINE_JIT)
        for (int k = 0; k < n_outputs; k++) {
            lc_tensor_free(outputs[k]);
            outputs[k] = NULL;
        }
    *info = e.info;
    cli_exec_free(&e);
    return st;
}
