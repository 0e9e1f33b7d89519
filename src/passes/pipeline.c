/* The pipeline driver: passes run one after another, each reading the last one's graph.
 *
 *        graph (built, or parsed from text IR)
 *          │  verify
 *          ▼
 *     ┌──────────┐   only with a backward: appends d(outputs)/d(inputs)
 *     │ autodiff │ ─────────────────────────────────────────────────────┐
 *     └──────────┘                                                      │
 *          ▼        verify if changed · hook(stage) · dump(stage)       │
 *     ┌──────────┐                                                      │
 *     │ simplify │  exact folds; pow(S,1/p−1)·pow(|x|,p−1) → pow(|x|/y, p−1)
 *     └──────────┘
 *          ▼        verify if changed · hook · dump
 *     ┌──────────┐
 *     │   cse    │  merge identical nodes
 *     └──────────┘
 *          ▼        verify if changed · hook · dump
 *     ┌──────────┐
 *     │   dce    │  drop what no output needs (inputs stay)
 *     └──────────┘
 *          ▼        verify if changed · hook · dump
 *        graph ──▶ fuse (src/passes/fuse.c, kernels) ──▶ codegen
 *
 * The order is the order of passes.def. A pass that breaks an invariant is a Lucid bug, so a
 * failed verify after a pass is LC_ERR_INTERNAL naming the pass. */
#include <string.h>
#include <time.h>

#include "passes/pipeline.h"
#include "passes/rebuild.h"
#include "support/error.h"

lc_pipeline_options lc_pipeline_options_default(void) {
    lc_pipeline_options o = {0};
#ifndef NDEBUG
    o.verify = true;
#endif
    return o;
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static lc_status unknown_pass(const char *name) {
    char known[256] = "";
    for (int i = 0; i < lc_pass_count(); i++) {
        if (i) strncat(known, ", ", sizeof known - strlen(known) - 1);
        strncat(known, lc_pass_at(i)->name, sizeof known - strlen(known) - 1);
    }
    return lc_fail(LC_ERR_INVALID_ARG, "pipeline: unknown pass \"%s\" (known: %s)",
                   name ? name : "(null)", known);
}

lc_status lc_pass_run(const char *name, const lc_graph *in, lc_graph **out) {
    if (!out) return lc_fail(LC_ERR_INVALID_ARG, "pass: out must not be NULL");
    *out = NULL;
    if (!in) return lc_fail(LC_ERR_INVALID_ARG, "pass: graph must not be NULL");
    const lc_pass *pass = lc_pass_find(name);
    if (!pass) return unknown_pass(name);
    return pass->run(in, out);
}

static lc_status dump_stage(FILE *f, const lc_stage_info *stage) {
    if (fprintf(f, ";; stage %s\n", stage->name) < 0)
        return lc_fail(LC_ERR_IO, "pipeline: cannot write the dump of stage %s", stage->name);
    return lc_graph_print(stage->graph, f);
}

/* Run one pass on *g, replacing it with the result (the old graph is freed when `owned`). */
static lc_status run_stage(const lc_pass *pass, int index, const lc_pipeline_options *opts,
                           lc_graph **g, bool owned) {
    lc_graph *next;
    double start = now_seconds();
    lc_status st = pass->run(*g, &next);
    double seconds = now_seconds() - start;
    if (st != LC_OK) return st;
    lc_stage_info stage = {.name = pass->name, .index = index, .graph = next, .seconds = seconds,
                           .changed = !lc_graph_identical(*g, next)};
    if (owned) lc_graph_free(*g);
    *g = next;
    if (opts->verify && stage.changed && (st = lc_graph_verify(next)) != LC_OK)
        return lc_fail_prefix(LC_ERR_INTERNAL, "pipeline: pass %s broke the graph", pass->name);
    if (opts->dump) LC_TRY(dump_stage(opts->dump, &stage));
    if (opts->on_stage) LC_TRY(opts->on_stage(&stage, opts->user));
    return LC_OK;
}

lc_status lc_pipeline_run_passes(const lc_graph *in, const lc_pass *const *passes, int n_passes,
                                 const lc_pipeline_options *opts, lc_graph **out) {
    *out = NULL;
    if (opts->verify) {
        lc_status st = lc_graph_verify(in);
        if (st != LC_OK) return lc_fail_prefix(st, "pipeline: input graph");
    }
    if (n_passes == 0) return lc_graph_clone(in, out);
    lc_graph *g = (lc_graph *)in; /* not freed and not written: owned only from stage 1 on */
    for (int i = 0; i < n_passes; i++) {
        lc_status st = run_stage(passes[i], i, opts, &g, i > 0);
        if (st != LC_OK) {
            if (g != in) lc_graph_free(g);
            return st;
        }
    }
    *out = g;
    return LC_OK;
}

lc_status lc_pipeline_run(const lc_graph *in, const char *const *names, int n_names,
                          const lc_pipeline_options *opts, lc_graph **out) {
    if (!out) return lc_fail(LC_ERR_INVALID_ARG, "pipeline: out must not be NULL");
    *out = NULL;
    if (!in) return lc_fail(LC_ERR_INVALID_ARG, "pipeline: graph must not be NULL");
    if (n_names < 0 || (n_names > 0 && !names))
        return lc_fail(LC_ERR_INVALID_ARG, "pipeline: need a list of %d pass names", n_names);
    lc_pipeline_options defaults = lc_pipeline_options_default();
    if (!opts) opts = &defaults;
    const lc_pass **passes = malloc((size_t)(n_names ? n_names : 1) * sizeof *passes);
    if (!passes) return lc_fail(LC_ERR_NOMEM, "pipeline: out of memory");
    for (int i = 0; i < n_names; i++) {
        passes[i] = lc_pass_find(names[i]);
        if (!passes[i]) {
            free(passes);
            return unknown_pass(names[i]);
        }
    }
    lc_status st = lc_pipeline_run_passes(in, passes, n_names, opts, out);
    free(passes);
    return st;
}

int lc_pipeline_default_names(bool backward, const char **names, int cap) {
    int n = 0;
    for (int i = 0; i < lc_pass_count(); i++) {
        const char *name = lc_pass_at(i)->name;
        if (!backward && strcmp(name, "autodiff") == 0) continue;
        if (n < cap) names[n] = name;
        n++;
    }
    return n;
}

lc_status lc_pipeline_run_default(const lc_graph *in, bool backward,
                                  const lc_pipeline_options *opts, lc_graph **out) {
    const char *names[32];
    int n = lc_pipeline_default_names(backward, names, 32);
    LC_ASSERT(n <= 32);
    return lc_pipeline_run(in, names, n, opts, out);
}
