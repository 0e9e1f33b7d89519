/* Compiled programs: a graph turned into native kernels (fuse -> plan -> LLVM -> ORC JIT) and
 * run over all cores (docs/pipeline.md).
 *
 *   lc_program *p;
 *   lc_compile(graph, NULL, &p);                  // compiles once per structure (cached)
 *   lc_program_run(p, inputs, n_in, outputs, n_out);
 *   lc_program_free(p);
 *
 * Numerics: results match the interpreter within rtol 1e-4, atol 1e-6 (f32) and are
 * bit-identical for every thread count (only the outer range of a kernel is split; no
 * reduction is ever divided between threads).
 *
 * Threads: one process-wide pool, started on first use with LUCID_NUM_THREADS workers
 * (default: every online core; an invalid value is reported once on stderr and the default
 * used). Work smaller than about 32K loads runs on the calling thread with no hand-off. A
 * program is immutable after lc_compile: any number of threads may run it at once (each run
 * gets its own scratch memory); when two runs want the pool at the same time, the later one
 * runs on its own thread.
 *
 * Environment: LUCID_NUM_THREADS, LUCID_CPU and LUCID_CPU_FEATURES (target CPU name and
 * "+avx2,-avx512f"-style features instead of the host's) are read once, at the first run or
 * compile; LUCID_CACHE_DIR (on-disk object cache, off when unset), LUCID_DUMP and
 * LUCID_DUMP_DIR (see lc_compile_options.dump) at every compile and every
 * lc_pipeline_run_default. An unusable value is reported once on stderr in one line and the
 * default used (an unknown stage name in LUCID_DUMP is ignored): a CPU or feature set is
 * first compiled in a short-lived child process (fork), since LLVM would otherwise warn or
 * end the process.
 *
 * LLVM is process-wide state: it is initialised at the first lc_compile (never for parsing,
 * the interpreter or graph dumps), and that first compile also, once per process, sets
 * LLVM's command-line options (LLVMParseCommandLineOptions: -pass-remarks*=loop-vectorize,
 * -enable-epilogue-vectorization=false, -disable-lsr, -licm-mssa-optimization-cap=1000,
 * -licm-mssa-max-acc-promotion=1000; LLVM has no scoped form) and installs
 * LLVM's fatal-error handler (one "lucid:" line on stderr before LLVM ends the process). A
 * host that uses LLVM itself sets LUCID_NO_LLVM_OPTIONS (any value) before the first compile:
 * then neither is touched, and Lucid's code is the same apart from compile time.
 *
 * lc_compile is the compile driver (lucid/driver.h) from fuse on, with a cache in front.
 *
 * Thread-safety: every function here may be called from any thread at any time (the compile
 * cache and the pool have their own locks), except that lc_program_free must not race with a
 * run of the same program. */
#ifndef LUCID_PROGRAM_H
#define LUCID_PROGRAM_H

#include <stdio.h>

#include "lucid/export.h"
#include "lucid/ir.h"
#include "lucid/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lc_program lc_program;

/* Receives one dumped stage: `stage` is its name (see lc_dump_stages), `text` the dump
 * (NUL-terminated, owned by the library, valid during the call). */
typedef void (*lc_dump_fn)(void *ctx, const char *stage, const char *text);

typedef struct lc_compile_options {
    int threads;          /* most threads a run of this program uses; 0 = the pool's size */
    int opt_level;        /* LLVM optimization level 0..3 (lc_compile_options_default: 3) */
    /* Stages to dump: a comma-separated list of stage names (lucid/stages.def; a compile
     * makes those of lc_dump_stages, the graph stages are lc_pipeline_run_default's), or
     * "all"; an unknown name fails the compile. NULL means the LUCID_DUMP environment
     * variable (unset: nothing). Asking for a dump bypasses the in-memory compile cache, so
     * the stages are really produced (llvm-opt, asm and remarks the disk cache as well). */
    const char *dump;
    /* Where dumps go. NULL: files LUCID_DUMP_DIR/NAME.EXT (EXT from stages.def: txt, ll, s)
     * when that is set, else stderr under a line ";; stage NAME". */
    lc_dump_fn dump_fn;
    void *dump_ctx;
    /* Tiered compile (lc_compile_options_default: true; LUCID_TIERED=0 makes it false). A
     * small program (about 2^26 loads a run or fewer, by fuse's estimates) at opt level 2 or
     * 3, with no stage dumped and no disk cache, is first compiled quick: the same kernels
     * through LLVM's fastest code generator, in about 60 % of the time, running 1.1-1.8x
     * slower. Its second run starts the optimized compile on a background thread, and the
     * runs that start after that has finished use its code. Both tiers give the same values
     * (a NaN's sign may differ). false: lc_compile returns the optimized code. See
     * lc_program_optimize and docs/pipeline.md, "Tiers". */
    bool tiered;
} lc_compile_options;

/* {threads = 0, opt_level = 3, tiered, no dump}. lc_compile(g, NULL, ...) uses these. */
LC_API lc_compile_options lc_compile_options_default(void);

/* The stages a compile makes and can dump, in pipeline order, NULL-terminated (the tail of
 * lucid/stages.def from fuse on):
 * "fuse" (kernels, their ops and provenance, and why anything was not fused), "plan"
 * (scratch buffers and their offsets), "llvm" (IR before optimization), "llvm-opt", "asm",
 * "remarks" (loop-vectorize remarks), "time" (per-stage milliseconds). */
LC_API const char *const *lc_dump_stages(void);

/* Compile `g` (a verified graph; its outputs are the program's outputs, its INPUT nodes its
 * inputs). The same structure compiled again returns a program sharing the first one's code
 * (in-memory cache; with LUCID_CACHE_DIR set, object code is also cached on disk). Caller
 * frees *out with lc_program_free. `g` may be freed right after. */
LC_API lc_status lc_compile(const lc_graph *g, const lc_compile_options *opts, lc_program **out);

/* Compile `g` only to print `stages` (as in lc_compile_options.dump) to `out`, each under a
 * line ";; stage NAME". (`lucidc dump` drives the stages itself, from built on: lc_drive.) */
LC_API lc_status lc_compile_dump(const lc_graph *g, const char *stages, FILE *out);

/* Run: inputs[i] must have graph input i's dtype and shape. On success outputs[i] is a new
 * tensor (caller frees); on failure every outputs[i] is NULL. */
LC_API lc_status lc_program_run(const lc_program *p, const lc_tensor *const *inputs, int n_inputs,
                                lc_tensor **outputs, int n_outputs);
/* Run into caller-owned outputs of the right dtype and shape, for benchmarks and hot loops:
 * no allocation when the program needs no scratch memory, and otherwise none after the
 * first run (a finished run's scratch block is kept for the next; concurrent runs each get
 * their own). An output of 32 MiB or more may be written in whole 64-byte lines from the
 * start of its buffer (non-temporal stores); where the caller's buffer does not start on a
 * 64-byte boundary, that output is computed aside and copied over (one allocation, one copy):
 * give such outputs aligned buffers (lc_tensor_new's are).
 *
 * In-out buffers: outputs[j] may be the very tensor given as inputs[i] (same dtype and shape,
 * as both positions require): the run then updates that input in place, which is how a
 * training step writes a parameter or a momentum buffer back (lucid/train.h). Every kernel
 * still sees the input as it was when the run started: where the kernel writing output j
 * reads input i only element by element (an elementwise expression of the same shape) and
 * no later kernel reads input i, it writes straight into the tensor; otherwise output j is
 * computed aside and copied over input i after the last kernel (one allocation, one copy).
 * The rules: an output may share its data with an input only by being the same tensor; two
 * outputs never share a tensor; an input written in place is given once among the inputs
 * (LC_ERR_INVALID_ARG otherwise, naming the positions); and no other thread may read or
 * write that tensor during the run. On failure before the first kernel nothing is written. */
LC_API lc_status lc_program_run_into(const lc_program *p, const lc_tensor *const *inputs,
                                     int n_inputs, lc_tensor *const *outputs, int n_outputs);

LC_API void lc_program_free(lc_program *p);

/* A program compiled quick first (lc_compile_options.tiered) runs its optimized code from the
 * next run on once this returns LC_OK: it compiles that code now on the calling thread, or
 * waits for the background compile under way (at once LC_OK for a program that has it
 * already, or was never quick). For benchmarks, and for a hot loop that should not start
 * quick. A failed compile (out of memory) leaves the program on its quick code, which still
 * runs, and is returned. lc_program_free during a background compile is fine: the compile
 * ends on its own, and a process exiting meanwhile waits for it. Safe from any thread. */
LC_API lc_status lc_program_optimize(const lc_program *p);
/* Whether the program's runs now start on the code of its opt level (false while quick). */
LC_API bool lc_program_optimized(const lc_program *p);

LC_API int lc_program_kernel_count(const lc_program *p);
LC_API int lc_program_input_count(const lc_program *p);
LC_API int lc_program_output_count(const lc_program *p);
/* Bytes of scratch memory one run allocates (0 when every intermediate is fused away). */
LC_API int64_t lc_program_scratch_bytes(const lc_program *p);

/* Threads of the process-wide pool (the caller's thread included). Setting it (n >= 1)
 * restarts the pool if it was already started; `lucidc --threads` uses this. It may be set
 * at any time from any thread, runs in flight included: it waits for the pool's current job,
 * and a run that finds the pool being restarted does its work on its own thread. Results
 * never depend on it. */
LC_API int lc_runtime_threads(void);
LC_API lc_status lc_runtime_set_threads(int n);

/* Compile cache statistics and reset (tests; the cache otherwise lives for the process). The
 * reset also empties lc_pipeline_run_default's memo of the graphs its passes made. */
typedef struct lc_cache_stats {
    long hits, misses;
} lc_cache_stats;
LC_API lc_cache_stats lc_compile_cache_stats(void);
LC_API void lc_compile_cache_clear(void);

#ifdef __cplusplus
}
#endif
#endif
