/* Codegen: a fused program (passes/kernel.h) into native code through LLVM (docs/pipeline.md).
 *
 * Each kernel k becomes `int32 lc_kernel_k(void *const *slots, int64 begin, int64 end)`: it
 * computes elements [begin, end) of its root in row-major order, reading and writing the
 * buffers in `slots` (indexed by slot number). Its loads and stores carry one alias scope per
 * buffer, so LLVM knows the buffers never overlap. Results do not depend on how the outer range is
 * split: no reduction crosses an element.
 *
 * A kernel whose schedule has a fix-up (lc_schedule.fixup: flagged LP norms, rescued window
 * sums) takes only the plain form in every loop and returns nonzero when it flagged some
 * window of [begin, end) (every other kernel returns 0). Its careful form is a second
 * function, `lc_kernel_k_fixup`, with the same signature, compiled only when a run first
 * needs it (lc_codegen_fixup): run over the same [begin, end), it writes every element again,
 * the flagged windows redone (scaled or compensated) and the others with the plain form's
 * bits, so the range ends as if the fix-up had run inside the kernel. */
#ifndef LUCID_CODEGEN_CODEGEN_H
#define LUCID_CODEGEN_CODEGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "passes/kernel.h"

typedef int32_t (*lc_kernel_entry)(void *const *slots, int64_t begin, int64_t end);

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

/* The steps of a compile, in order; a compile may stop after any of them (for a dump that
 * needs no callable code). */
typedef enum lc_codegen_step {
    LC_CODEGEN_LINK = 0,  /* everything: callable code in *jit (the default) */
    LC_CODEGEN_EMIT,      /* IR only: no optimization, object or JIT */
    LC_CODEGEN_OPTIMIZE,  /* IR, optimized */
    LC_CODEGEN_OBJECT,    /* IR, optimized, object code (and asm text): no JIT, *jit stays NULL */
} lc_codegen_step;

typedef struct lc_codegen_options {
    int opt_level;        /* 0..3; 2 and 3 = jit.c's own pipeline, 0 and 1 = default<O0/O1> */
    /* The quick first tier (docs/pipeline.md, "Tiers"): the same IR and pass list but for the
     * loops' interleave hints (one trip at a time, lc_emit_options.quick) and two window
     * tests (forms deciding the same, emit_expr.c), the code generator
     * at LLVM's level None (fast instruction selection and register allocation, no
     * machine-level passes). The same values as the full compile's code but for a NaN's sign
     * (the IR's arithmetic is IEEE without fast-math flags: only the instructions chosen
     * differ), at about 60 % of its compile time; never stored in the disk cache. */
    bool quick;
    int max_threads;      /* most threads the compile uses; 0 = LUCID_COMPILE_THREADS' count */
    /* Neither load from nor store to the disk cache: a program's optimized tier, compiled
     * later for a program that started quick, which it did only with the cache off */
    bool skip_disk_cache;
    bool want_llvm, want_llvm_opt, want_asm, want_remarks;
    lc_codegen_step last_step;
} lc_codegen_options;

/* One program's code in the process's JIT (its JITDylib and the resource tracker that holds
 * the code); lc_jit_free removes the code. */
typedef struct lc_jit lc_jit;

/* Compile every kernel of `f`. On success *jit owns the code and entries[k] is kernel k's
 * function (valid until lc_jit_free); a compile stopped before LC_CODEGEN_LINK leaves *jit
 * NULL and entries untouched. `texts` may be NULL. Uses the disk cache when
 * LUCID_CACHE_DIR is set. */
lc_status lc_codegen(const lc_fused *f, const lc_codegen_options *opts, lc_codegen_texts *texts,
                     lc_jit **jit, lc_kernel_entry *entries);
void lc_jit_free(lc_jit *jit);

/* Compile kernel k's fix-up form (`lc_kernel_k_fixup`, see above) for the program whose code
 * `jit` holds (made by lc_codegen from the same `f` at the same opt level) and link it into
 * that program's code: *entry is valid until lc_jit_free. The pass list is the program's (SLP
 * where the program or this function builds vectors lane by lane). Safe from any thread; the
 * caller compiles each kernel's fix-up once. */
lc_status lc_codegen_fixup(const lc_fused *f, int k, int opt_level, lc_jit *jit, lc_kernel_entry *entry);
/* How many fix-up forms the process has compiled (for tests). */
int lc_codegen_fixup_count(void);

/* How many JITDylibs the process has made (jit_session.c: a freed program's dylib is reused,
 * so this stays at the most programs alive at once; for tests). */
int lc_jit_dylib_count(void);
void lc_codegen_texts_free(lc_codegen_texts *t);

/* Whether LC_CODEGEN_HEADROOM bytes of address space are still free for LLVM (headroom.c):
 * LC_ERR_NOMEM with a message when not. lc_codegen checks it before any LLVM work. */
#define LC_CODEGEN_HEADROOM ((size_t)32 << 20)
lc_status lc_codegen_headroom(void);

/* The target the code is compiled for: triple, CPU, features (LUCID_CPU and
 * LUCID_CPU_FEATURES override the host once target.c has proven LLVM can use them; an
 * unusable value is reported once on stderr and the host used). The first call initialises
 * LLVM for the whole process (target.c): nothing else in Lucid does, so parsing, the
 * interpreter and graph dumps never load LLVM's targets. Strings owned by the library. */
lc_status lc_codegen_target(const char **triple, const char **cpu, const char **features);

/* What fuse is told of the target's caches (lc_fuse_target): where the code is for the host,
 * the bytes of cache a core has to itself (its L2 on x86, from the C library: sysconf) and
 * whether the host is an AMD one (the CPU's vendor, from the compiler's CPU check); nothing
 * (0, false) where LUCID_CPU names a CPU or the C library does not say. Read once per
 * process; never initialises LLVM. */
lc_fuse_target lc_codegen_fuse_target(void);

/* Whether LLVM has been initialised in this process (tests: work that compiles nothing must
 * leave it untouched). */
bool lc_codegen_llvm_initialized(void);

/* Whether LLVM has reported a fatal error (the process is ending from inside LLVM; code run
 * at exit must not call into it). */
bool lc_codegen_llvm_failed(void);

#endif
