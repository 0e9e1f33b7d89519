/* The pass interface. Each pass is one file in src/passes/ and one LC_PASS_STAGE row of
 * lucid/stages.def (the table of every compile stage), so a pipeline is a list of names and
 * any stage can be dumped by name.
 *
 * A pass reads `in` and returns a new graph in *out (the caller owns both); on failure *out
 * is NULL and the message names the pass. */
#ifndef LUCID_PASSES_PASS_H
#define LUCID_PASSES_PASS_H

#include "lucid/ir.h"

typedef lc_status (*lc_pass_fn)(const lc_graph *in, lc_graph **out);

typedef struct lc_pass {
    const char *name;
    lc_pass_fn run;
} lc_pass;

/* The pass registered under `name`, or NULL. */
const lc_pass *lc_pass_find(const char *name);
/* All registered passes, in the order of stages.def (the default pipeline order). */
int lc_pass_count(void);
const lc_pass *lc_pass_at(int i);

/* Every pass function of stages.def, declared once from the table: lc_pass_<pass>. */
#define LC_STAGE(ID, name, artefact, ext, about)
#define LC_PASS_STAGE(ID, name, pass, about) lc_status lc_pass_##pass(const lc_graph *in, lc_graph **out);
#include "lucid/stages.def"
#undef LC_PASS_STAGE
#undef LC_STAGE

#endif
