/* Non-temporal stores for kernels that write an output too large for the cache
 * (lc_schedule.nontemporal). Codegen addresses such a kernel's vectorized stores from a
 * 64-byte boundary it computes per row; after optimization (and LLVM's alignment inference)
 * the vector stores LLVM proved aligned to their size are tagged `!nontemporal` here, and the
 * back end writes them as streaming stores (x86: vmovntps), which skip the read of each line
 * they fill. A store LLVM could not prove aligned stays an ordinary store: x86 would split an
 * unaligned one into narrow non-temporal parts, several times slower. */
#ifndef LUCID_CODEGEN_NONTEMPORAL_H
#define LUCID_CODEGEN_NONTEMPORAL_H

#include <llvm-c/Core.h>

/* The string attribute emit_kernel.c gives the function of a non-temporal kernel. */
#define LC_NONTEMPORAL_ATTR "lucid-nontemporal"

/* Tag the aligned vector stores to a kernel buffer in every function carrying
 * LC_NONTEMPORAL_ATTR; returns how many stores were tagged. */
int lc_tag_nontemporal_stores(LLVMModuleRef mod);

#endif
