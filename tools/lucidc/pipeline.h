/* The compiler's stages as lucidc dump and demo see them, in pipeline order (docs/cli.md):
 * built, autodiff (with a backward), one per registered pass, fuse, plan, llvm, llvm-opt, asm,
 * remarks, time. A stage whose producer the library does not have yet is "not available". */
#ifndef LUCIDC_PIPELINE_H
#define LUCIDC_PIPELINE_H

#include "cli.h"

enum { CLI_MAX_STAGES = 32 };

typedef struct cli_stage {
    const char *name;
    const char *ext;       /* file extension for dump -o: ir, ll, s, txt (dot for graphs) */
    bool is_graph;         /* text IR (or Graphviz) of a graph */
    lc_graph *graph;       /* graph stages: owned */
    char *text;            /* other stages: owned, NUL-terminated */
    double ms;             /* time the stage took */
    char summary[160];     /* one line for the demo ("9 nodes", "2 kernels") */
} cli_stage;

typedef struct cli_pipeline {
    cli_stage stages[CLI_MAX_STAGES];
    int n;
} cli_pipeline;

/* Every stage name a user may ask for, in pipeline order, available or not. */
int cli_stage_name_count(void);
const char *cli_stage_name_at(int i);
/* Whether this build's library produces the stage. */
bool cli_stage_available(const char *name);

/* Run every available stage on `built` (copied); autodiff only when `backward`. On failure
 * the message names the stage and *failed_stage is its name. Free with cli_pipeline_free. */
lc_status cli_pipeline_run(const lc_graph *built, bool backward, cli_pipeline *p,
                           const char **failed_stage);
const cli_stage *cli_pipeline_find(const cli_pipeline *p, const char *name);
void cli_pipeline_free(cli_pipeline *p);

/* The graph of the last graph stage before fuse (what the engine compiles). */
const lc_graph *cli_pipeline_final_graph(const cli_pipeline *p);

#endif
