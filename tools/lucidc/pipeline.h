/* The compiler's stages as lucidc dump and demo see them: the library's table of stages
 * (lucid/stages.def, in pipeline order: built, autodiff, simplify, cse, dce, fuse, plan, llvm,
 * llvm-opt, asm, remarks, time) run by the library's driver (lc_drive), whose hook this file
 * turns into a record per stage. lucidc runs no stage itself. */
#ifndef LUCIDC_PIPELINE_H
#define LUCIDC_PIPELINE_H

#include "cli.h"
#include "lucid/driver.h"
#include "lucid/program.h"

/* What one stage left behind. */
typedef struct cli_stage {
    bool ran;
    int position;          /* its place among the stages this run ran, from 0 */
    double ms;             /* its time, as the driver's hook reported it */
    char summary[160];     /* one line ("9 nodes, ...", "2 kernels") */
    char *text;            /* the stages of keep_text: the dump (graphs as text IR, or DOT) */
    lc_graph *graph;       /* the graph stages of keep_graph: a copy of their graph */
} cli_stage;

typedef struct cli_pipeline {
    uint32_t keep_text;    /* in: LC_STAGE_BITs whose text to keep */
    uint32_t keep_graph;   /* in: graph stages whose graph to keep */
    bool dot;              /* in: graph texts in Graphviz DOT instead of text IR */
    cli_stage stage[LC_STAGE_COUNT];
    double total_ms;       /* the whole walk, wall time */
} cli_pipeline;

/* Run the stages from built to `last` on `built` (autodiff only with `backward`); with
 * `program` not NULL the walk compiles (at least through asm) and returns the program. On
 * failure the message is the library's and *failed_stage names the stage that failed. */
lc_status cli_pipeline_run(const lc_graph *built, bool backward, lc_stage last, cli_pipeline *p,
                           struct lc_program **program, const char **failed_stage);
void cli_pipeline_free(cli_pipeline *p);

#endif
