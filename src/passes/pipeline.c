/* Running graph passes: one by name (lc_pass_run), a list of names (lc_pipeline_run), and one
 * step of either, which the compile driver (src/runtime/driver.c) also takes for each pass
 * stage of its walk:
 *
 *     graph ──▶ pass->run ──▶ graph'      (timed)
 *                               │ changed? ──▶ verify (when asked)   a failure is a Lucid bug:
 *                               ▼                                     LC_ERR_INTERNAL naming it
 *                        hook(stage) · dump(";; stage NAME" + text IR)
 *
 * The default pipeline ([autodiff,] simplify, cse, dce) is the driver's walk from built to dce
 * (lc_pipeline_run_default is defined there). */
#include <string.h>

#include "passes/pipeline.h"
#include "passes/rebuild.h"
#include "support/clock.h"
#include "support/error.h"

/* The one rule for whether passes verify the graph unless told (the compile driver's
 * defaults take it from here): in debug builds, where a pass that breaks the graph should
 * stop at that pass. */
lc_pipeline_options lc_pipeline_options_default(void) {
    lc_pipeline_options o = {0};
#ifndef NDEBUG
    o.verify = true;
#endif
    return o;
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

lc_status lc_pipeline_step(const lc_pass *pass, bool verify, lc_graph **g, bool owned,
                           lc_stage_info *info) {
    lc_graph *next;
    double start = lc_now_ms();
    lc_status st = pass->run(*g, &next);
    double ms = lc_now_ms() - start;
    if (st != LC_OK) return st;
    info->name = pass->name;
    info->artefact = LC_ARTEFACT_GRAPH;
    int stage = lc_stage_lookup(pass->name, strlen(pass->name));
    info->stage = stage < 0 ? LC_STAGE_COUNT : (lc_stage)stage; /* COUNT: a pass of no row (tests) */
    info->graph = next;
    info->ms = ms;
    info->changed = !lc_graph_identical(*g, next);
    if (owned) lc_graph_free(*g);
    *g = next;
    if (verify && info->changed && (st = lc_graph_verify(next)) != LC_OK)
        return lc_fail_prefix(LC_ERR_INTERNAL, "pipeline: pass %s broke the graph", pass->name);
    return LC_OK;
}

lc_status lc_pipeline_dump_graph(FILE *f, const char *name, const lc_graph *g) {
    if (fprintf(f, ";; stage %s\n", name) < 0)
        return lc_fail(LC_ERR_IO, "pipeline: cannot write the dump of stage %s", name);
    return lc_graph_print(g, f);
}

/* Run one pass of a list on *g, replacing it with the result (the old graph is freed when
 * `owned`). */
static lc_status run_stage(const lc_pass *pass, int index, const lc_pipeline_options *opts,
                           lc_graph **g, bool owned) {
    lc_stage_info stage = {.index = index};
    LC_TRY(lc_pipeline_step(pass, opts->verify, g, owned, &stage));
    if (opts->dump) LC_TRY(lc_pipeline_dump_graph(opts->dump, stage.name, stage.graph));
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
