/* The compile driver: one walk over the stages of lucid/stages.def, in their order, with one
 * hook per stage. lc_compile, lc_pipeline_run_default, `lucidc dump` and `lucidc demo` all go
 * through it, so a stage runs in one place and every stage can be seen and timed.
 *
 *   lc_drive_options o = lc_drive_options_default();
 *   o.backward = true;                 // run autodiff after built
 *   o.last = LC_STAGE_FUSE;            // stop there: no codegen, LLVM never started
 *   o.text = LC_STAGE_BIT(LC_STAGE_FUSE);
 *   o.on_stage = my_hook;              // sees built, autodiff, simplify, cse, dce, fuse
 *   lc_drive(g, &o, NULL, NULL);
 *
 * Thread safety: lc_drive may run on several threads at once (it shares nothing but the
 * compile caches, which lc_compile uses and lc_drive does not). */
#ifndef LUCID_DRIVER_H
#define LUCID_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lucid/export.h"
#include "lucid/ir.h"

#ifdef __cplusplus
extern "C" {
#endif

struct lc_program;

/* One value per row of stages.def, in pipeline order. */
typedef enum lc_stage {
#define LC_STAGE(ID, name, artefact, ext, about) LC_STAGE_##ID,
#include "lucid/stages.def"
#undef LC_STAGE
    LC_STAGE_COUNT
} lc_stage;

/* A set of stages, as bits: LC_STAGE_BIT(LC_STAGE_FUSE) | LC_STAGE_BIT(LC_STAGE_PLAN). */
#define LC_STAGE_BIT(s) (1u << (unsigned)(s))

/* What a stage produces: a graph, the fused kernels (shown as text), or text. */
typedef enum lc_artefact { LC_ARTEFACT_GRAPH, LC_ARTEFACT_FUSED, LC_ARTEFACT_TEXT } lc_artefact;

/* The columns of stages.def (NULL or GRAPH for a value out of range). */
LC_API const char *lc_stage_name(lc_stage s);
LC_API lc_artefact lc_stage_artefact(lc_stage s);
LC_API const char *lc_stage_ext(lc_stage s);
LC_API const char *lc_stage_about(lc_stage s);
/* The stage called `name` (its first `len` bytes; "graph" is built), or -1. */
LC_API int lc_stage_lookup(const char *name, size_t len);

/* What the hook sees after each stage that ran. Pointers are valid during the call only. */
typedef struct lc_stage_info {
    const char *name;      /* the stage, e.g. "simplify" */
    int index;             /* its position among the stages this request ran, from 0 */
    lc_stage stage;        /* its row in stages.def */
    lc_artefact artefact;
    const lc_graph *graph; /* GRAPH stages: the graph it returned */
    const char *text;      /* FUSED and TEXT stages: the stage's dump when it was asked for
                              (lc_drive_options.text), else NULL */
    const char *summary;   /* one line: "9 nodes, 1 input, 2 outputs", "2 kernels", ... */
    bool changed;          /* GRAPH stages: false when the pass returned its input, node for node */
    double ms;             /* wall time of the stage (verification and dump text not included) */
} lc_stage_info;

/* Called after every stage; a status other than LC_OK stops the walk and is returned. */
typedef lc_status (*lc_stage_fn)(const lc_stage_info *stage, void *user);

typedef struct lc_drive_options {
    lc_stage first;     /* where the graph enters: LC_STAGE_BUILT runs the graph passes on it,
                           LC_STAGE_FUSE compiles it as it is (it already went through them) */
    lc_stage last;      /* the last stage to run; nothing after it starts */
    bool backward;      /* run autodiff: every output differentiated w.r.t. every input */
    bool verify;        /* lc_graph_verify the input and every graph a pass changed */
    int opt_level;      /* LLVM optimization level 0..3 */
    uint32_t text;      /* LC_STAGE_BITs of the FUSED and TEXT stages whose text the hook gets
                           (llvm-opt, asm and remarks asked for skip the disk cache) */
    lc_stage_fn on_stage; /* NULL: none */
    void *user;           /* passed to on_stage */
    bool tiered;          /* a program may start on quick code (lc_compile_options.tiered) */
} lc_drive_options;

/* {first = built, last = time, no backward, verify in debug builds, opt_level 3, not tiered,
 * no text, no hook}. */
LC_API lc_drive_options lc_drive_options_default(void);

/* Run stages o->first .. o->last on `g` (NULL o: the defaults). When `graph_out` is not NULL
 * it receives the last graph the walk produced (a new graph; caller frees). When `program` is
 * not NULL the walk goes at least through asm, links the code and returns it as a program
 * (lc_program_free); it bypasses the compile caches (lc_compile is the cached way in).
 * Stages before `first` and after `last` never run, the autodiff stage only with `backward`;
 * so `last = LC_STAGE_BUILT` or `LC_STAGE_PLAN` never starts LLVM. On failure nothing is
 * returned and the message names the stage. */
LC_API lc_status lc_drive(const lc_graph *g, const lc_drive_options *o, lc_graph **graph_out,
                          struct lc_program **program);

#ifdef __cplusplus
}
#endif
#endif
