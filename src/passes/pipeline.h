/* The pipeline's inside, for the compile driver (src/runtime/driver.c) and for callers that
 * hold lc_pass records rather than names (tests that put a deliberately broken pass into a
 * pipeline). */
#ifndef LUCID_PASSES_PIPELINE_H
#define LUCID_PASSES_PIPELINE_H

#include <stdbool.h>
#include <stdio.h>

#include "lucid/passes.h"
#include "passes/pass.h"

/* lc_pipeline_run over pass records; `opts` must not be NULL. */
lc_status lc_pipeline_run_passes(const lc_graph *in, const lc_pass *const *passes, int n_passes,
                                 const lc_pipeline_options *opts, lc_graph **out);

/* One pass on *g: *g becomes its result (the old graph is freed when `owned`), verified when
 * `verify` and the pass changed it. Fills info's name, stage, artefact, graph, changed and ms
 * (index and the rest are the caller's). */
lc_status lc_pipeline_step(const lc_pass *pass, bool verify, lc_graph **g, bool owned,
                           lc_stage_info *info);

/* ";; stage NAME" and the graph's text IR on `f`. */
lc_status lc_pipeline_dump_graph(FILE *f, const char *name, const lc_graph *g);

#endif
