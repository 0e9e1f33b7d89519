/* Running graph passes: one by name, a list of names, or the default pipeline, with a hook
 * that sees the graph after every stage (what `lucidc dump` prints for the graph stages; the
 * pipeline itself reads no environment variable).
 *
 * The registered passes, in order: autodiff, simplify, cse, dce; the default pipeline is that
 * order ([autodiff,] simplify, cse, dce). Every pass reads a graph and returns a new one; the
 * caller owns both.
 *
 * Thread-safety: the pass list is a constant table and a pass only reads its input graph, so
 * concurrent runs are safe, on the same input graph too (the hook and the dump FILE are the
 * caller's to share or not). */
#ifndef LUCID_PASSES_H
#define LUCID_PASSES_H

#include <stdbool.h>
#include <stdio.h>

#include "lucid/export.h"
#include "lucid/ir.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What the hook sees after each pass. Pointers are valid during the call only. */
typedef struct lc_stage_info {
    const char *name;      /* the pass, e.g. "simplify" */
    int index;             /* its position in the pipeline, from 0 */
    const lc_graph *graph; /* the graph it returned */
    bool changed;          /* false when it returned the graph it was given, node for node */
    double seconds;        /* wall time of the pass (verification not included) */
} lc_stage_info;

/* Called after every pass; a status other than LC_OK stops the pipeline and is returned. */
typedef lc_status (*lc_stage_fn)(const lc_stage_info *stage, void *user);

typedef struct lc_pipeline_options {
    bool verify;          /* lc_graph_verify the input and every graph a pass changed */
    lc_stage_fn on_stage; /* NULL: none */
    void *user;           /* passed to on_stage */
    FILE *dump;           /* NULL: none; else each stage as ";; stage NAME" and its text IR */
} lc_pipeline_options;

/* Defaults: verify in debug builds (NDEBUG not defined), no hook, no dump. */
LC_API lc_pipeline_options lc_pipeline_options_default(void);

/* Run the pass registered as `name` once. Unknown names fail with LC_ERR_INVALID_ARG and a
 * message listing the known ones. */
LC_API lc_status lc_pass_run(const char *name, const lc_graph *in, lc_graph **out);

/* Run `names[0..n_names)` in order; opts NULL means lc_pipeline_options_default(). Every name
 * is checked before any pass runs. On success *out is a new graph; on failure NULL, and the
 * message names the pass. */
LC_API lc_status lc_pipeline_run(const lc_graph *in, const char *const *names, int n_names,
                                 const lc_pipeline_options *opts, lc_graph **out);

/* The default pipeline's names, in order, into names[0..cap); returns how many there are
 * (at most lc_pass_count()). `backward` puts autodiff first (every output differentiated
 * with respect to every input); without it, autodiff is left out. */
LC_API int lc_pipeline_default_names(bool backward, const char **names, int cap);
LC_API lc_status lc_pipeline_run_default(const lc_graph *in, bool backward,
                                         const lc_pipeline_options *opts, lc_graph **out);

#ifdef __cplusplus
}
#endif
#endif
