/* The loop vectorizer's interleaved loads, rewritten before the back end sees them: a load of a
 * window's slots for VF windows (<k·VF x T>) and the stride-k shuffles taking each slot out of
 * it become k loads of VF lanes and a tree of two-input shuffles of VF lanes. The same
 * addresses are read and every lane keeps its value; only the form the back end must legalize
 * changes (split_wide.c says why). */
#ifndef LUCID_CODEGEN_SPLIT_WIDE_H
#define LUCID_CODEGEN_SPLIT_WIDE_H

#include <llvm-c/Core.h>

/* Rewrite every such load in the module's functions; returns how many loads were split. */
int lc_split_wide_loads(LLVMModuleRef mod);

#endif
