/* The process-wide LLVM objects compiles share (jit_session.c): target machines, taken for
 * one compile and given back, and the one ORC LLJIT that programs link into. */
#ifndef LUCID_CODEGEN_JIT_SESSION_H
#define LUCID_CODEGEN_JIT_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include <llvm-c/TargetMachine.h>

#include "codegen/codegen.h"

/* The code generator levels compiles take target machines at: LLVM's None for the quick
 * first tier (codegen.h, lc_codegen_options.quick), Default for opt levels 0 and 1 and
 * Aggressive for 2 and 3 (which, on x86, select the same code as Default). */
typedef enum lc_machine_level {
    LC_MACHINE_QUICK,
    LC_MACHINE_DEFAULT,
    LC_MACHINE_AGGRESSIVE,
    LC_MACHINE_LEVELS
} lc_machine_level;

/* A target machine for the process's target (lc_codegen_target) at `level`, for this thread's
 * use until it is given back. */
lc_status lc_jit_machine_take(lc_machine_level level, LLVMTargetMachineRef *out);
void lc_jit_machine_give_back(lc_machine_level level, LLVMTargetMachineRef tm);

/* Link one program's objects (one per module it was compiled as) and look up its kernels
 * lc_kernel_0 .. n_kernels-1 into entries[]. *out owns the code (lc_jit_free). Safe from any
 * thread. */
lc_status lc_jit_link(const char *const *objs, const size_t *lens, int n_objs, int n_kernels,
                      lc_jit **out, lc_kernel_entry *entries);

/* Link one more object into a linked program's code (its fix-up form of a kernel) and look up
 * `name` in it. Safe from any thread. */
lc_status lc_jit_link_more(lc_jit *jit, const char *obj, size_t len, const char *name,
                           lc_kernel_entry *entry);

/* Whether the program's pass list has SLP (jit.c, pass_pipeline): its fix-up forms, compiled
 * later, go through the same list. */
void lc_jit_set_slp(lc_jit *jit, bool slp);
bool lc_jit_slp(const lc_jit *jit);

#endif
