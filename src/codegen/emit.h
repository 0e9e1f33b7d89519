/* IR emission for a fused program (emit.c); jit.c optimizes and links what it builds. */
#ifndef LUCID_CODEGEN_EMIT_H
#define LUCID_CODEGEN_EMIT_H

#include <llvm-c/Core.h>

#include "passes/kernel.h"

/* Add `lc_kernel_<k>` (and its inlined body) for every kernel of `f` to `mod`. `fma`: the
 * target has fused multiply-add. */
lc_status lc_emit_module(const lc_fused *f, LLVMContextRef ctx, LLVMModuleRef mod, bool fma);

#endif
