/* Codegen: a fused program (passes/kernel.h) into native code through LLVM (DESIGN.md §4).
 *
 * Each kernel k becomes `void lc_kernel_k(void *const *slots, int64 begin, int64 end)`: it
 * computes elements [begin, end) of its root in row-major order, reading and writing the
 * buffers in `slots` (indexed by slot number). Its loads and stores carry one alias scope per
 * buffer, so LLVM knows the buffers never overlap. Results do not depend on how the outer range is
 * split: no reduction crosses an element. */
#ifndef LUCID_CODEGEN_CODEGEN_H
#define LUCID_CODEGEN_CODEGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "passes/kernel.h"

typedef void (*lc_kernel_entry)(void *const *slots, int64_t begin, int64_t end);

/* What a compile may hand back besides code, for `lucidc dump`. Each text is malloc'd (or
 * NULL when not asked for) and freed by lc_codegen_texts_free. */
typedef struct lc_codegen_texts {
    char *llvm;      /* IR before optimization */
    char *llvm_opt;  /* IR after the optimization pipeline */
    char *asm_text;  /* the host assembly */
    char *remarks;   /* loop-vectorize remarks, one per line */
    double ms_emit, ms_opt, ms_object, ms_link; /* stage times */
    bool cache_hit;  /* the object came from the disk cache */
} lc_codegen_texts;

typedef struct lc_codegen_options {
    int opt_level;        /* 0..3; 2 and 3 = jit.c's own pipeline, 0 and 1 = default<O0/O1> */
    bool want_llvm, want_llvm_opt, want_asm, want_remarks;
} lc_codegen_options;

/* A JIT instance holding one program's code; owns everything LLVM gave it. */
typedef struct lc_jit lc_jit;

/* Compile every kernel of `f`. On success *jit owns the code and entries[k] is kernel k's
 * function (valid until lc_jit_free). `texts` may be NULL. Uses the disk cache when
 * LUCID_CACHE_DIR is set. */
lc_status lc_codegen(const lc_fused *f, const lc_codegen_options *opts, lc_codegen_texts *texts,
                     lc_jit **jit, lc_kernel_entry *entries);
void lc_jit_free(lc_jit *jit);
void lc_codegen_texts_free(lc_codegen_texts *t);

/* The target the code is compiled for: triple, CPU, features (LUCID_CPU and
 * LUCID_CPU_FEATURES override the host). Strings owned by the library. */
void lc_codegen_target(const char **triple, const char **cpu, const char **features);

#endif
