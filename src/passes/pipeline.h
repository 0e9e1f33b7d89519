/* The pipeline driver's inside, for callers that hold lc_pass records rather than names (the
 * engine, and tests that put a deliberately broken pass into a pipeline). */
#ifndef LUCID_PASSES_PIPELINE_H
#define LUCID_PASSES_PIPELINE_H

#include "lucid/passes.h"
#include "passes/pass.h"

/* lc_pipeline_run over pass records; `opts` must not be NULL. */
lc_status lc_pipeline_run_passes(const lc_graph *in, const lc_pass *const *passes, int n_passes,
                                 const lc_pipeline_options *opts, lc_graph **out);

#endif
