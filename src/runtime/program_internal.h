/* Shared between program.c (compile and run), driver.c (the compile driver) and cache.c (the
 * in-memory compile cache). */
#ifndef LUCID_RUNTIME_PROGRAM_INTERNAL_H
#define LUCID_RUNTIME_PROGRAM_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "codegen/codegen.h"
#include "lucid/driver.h"
#include "lucid/program.h"
#include "passes/kernel.h"

/* Compiled code, shared by every program handle compiled from the same structure. */
typedef struct lc_code {
    atomic_int refs;
    lc_fused *fused;           /* kernels, slots and the plan */
    lc_jit *jit;               /* owns the machine code */
    lc_kernel_entry *entries;  /* per kernel */
    int opt_level;             /* the compile's, for the fix-up forms compiled later */
    /* Per kernel, its fix-up form (codegen.h) once a run has needed it, else 0: compiled by
     * lc_drive_fixup under fixup_lock, once, and read without the lock afterwards. */
    _Atomic(uintptr_t) *fixups;
    pthread_mutex_t fixup_lock;
    /* Tiers (tier.c). `entries` is the code lc_compile made: the quick first tier when
     * `quick_first`, else the only one. `live_entries` is what a run starts with: `entries`,
     * until the optimized compile publishes `optimized_entries` (its code in
     * `optimized_jit`); both tiers' code stays until the code is freed, as a run that
     * started quick may still be in it. `tier` and the optimized pair change under
     * tier_lock; tier_done is signalled when a compile of the optimized tier ends. */
    bool quick_first;
    _Atomic(const lc_kernel_entry *) live_entries;
    atomic_int runs;           /* runs started while quick, up to the one that starts the compile */
    pthread_mutex_t tier_lock;
    pthread_cond_t tier_done;
    int tier;                  /* tier.c's TIER_* */
    pid_t tier_pid;            /* the process compiling, while TIER_COMPILING */
    lc_jit *optimized_jit;
    lc_kernel_entry *optimized_entries;
    /* Scratch blocks of finished runs, kept for the next ones: a run takes one (or allocates
     * one) and gives it back, so concurrent runs never share a block, and a hot loop does not
     * pay for fresh pages on every run. */
    pthread_mutex_t spare_lock;
    void *spare[4];
    int n_spare;
} lc_code;

struct lc_program {
    lc_code *code;             /* one reference */
    int threads;               /* 0 = the pool's size */
    /* per (input i, output j), at i * n_outputs + j: whether output j may be written straight
     * into input i's tensor (program.c, in_place_is_safe), decided once at compile so a hot
     * loop pays nothing for it; NULL (out of memory) decides at every run instead */
    unsigned char *in_place_safe;
    /* per output j: whether its buffer must start on a 64-byte line (program.c,
     * needs_line_aligned), decided at compile with the table above; NULL where that was */
    unsigned char *line_aligned;
};

/* Empty code with one reference (NULL when out of memory); the driver fills it. */
lc_code *lc_code_new(void);
void lc_code_retain(lc_code *c);
void lc_code_release(lc_code *c);

/* A graph's key: `tag`, then every node's op, dtype, shape, inputs, attributes and constant
 * data (and its name, with `names`), and the outputs. Malloc'd. */
lc_status lc_graph_key(const lc_graph *g, int tag, bool names, unsigned char **key, size_t *len);
/* The structural key of a compile: the graph's key tagged by the opt level, names left out
 * (they change no code). */
lc_status lc_compile_key(const lc_graph *g, int opt_level, unsigned char **key, size_t *len);
/* The default passes' memo (pass_memo.c): a copy of the graph lc_pipeline_run_default made
 * from a built graph of key `key` (lc_graph_key with names, tagged by the backward and the
 * verification), NULL where it made none yet; and the graph it made, remembered as a copy.
 * lc_compile_cache_clear clears it too. */
lc_graph *lc_pass_memo_find(const unsigned char *key, size_t len);
/* Whether a graph of g's size may be kept (built graphs larger are not even keyed). */
bool lc_pass_memo_may_keep(const lc_graph *g);
void lc_pass_memo_insert(const unsigned char *key, size_t len, const lc_graph *made);
void lc_pass_memo_clear(void);
/* A new reference to cached code for `key`, or NULL (counts a hit or a miss). */
lc_code *lc_cache_lookup(const unsigned char *key, size_t len);
/* Remember `code` under `key` (takes its own reference; evicts the least recently used entry
 * when full). */
void lc_cache_insert(const unsigned char *key, size_t len, lc_code *code);

/* Tiers (tier.c). Whether a fused program should start on the quick tier (by the loads of
 * one run); set up c's tier state once its `entries` are linked (quick: they are the quick
 * tier's); free what the tiers hold (lc_code_release). */
bool lc_tier_quick_pays(const lc_fused *f);
/* lc_compile_options_default's `tiered`: LUCID_TIERED, read once (an invalid value is
 * reported on stderr once and the default, true, used). */
bool lc_tier_default(void);
void lc_tier_init(lc_code *c, bool quick);
void lc_tier_release(lc_code *c);
/* The entries a run of c starts with (the optimized ones once linked); counts the run and
 * starts the optimized compile in the background at the second run of a quick program. */
const lc_kernel_entry *lc_tier_run_entries(lc_code *c);
/* Compile c's optimized tier now on this thread if c is still quick (waiting for one under
 * way); LC_OK at once when it is optimized. A failure leaves c quick and is returned. */
lc_status lc_tier_optimize(lc_code *c);
bool lc_tier_optimized(lc_code *c);

/* Kernel k's fix-up form (codegen.h), compiled and linked into `c`'s code the first time any
 * run asks for it and kept there for every later run of every program sharing `c`; callers
 * that ask at once wait for the one compile. A compile that fails returns its error (and the
 * next run that needs the form tries again). */
lc_status lc_drive_fixup(lc_code *c, int k, lc_kernel_entry *out);

/* The driver's walk (lc_drive without the program wrapper). With `code` not NULL the walk
 * goes at least through asm and links: *code holds the fused program and its entries. */
lc_status lc_drive_walk(const lc_graph *g, const lc_drive_options *o, lc_graph **graph_out,
                        lc_code **code);

/* Where dumped stages go: `fn` (with ctx) when set, else LUCID_DUMP_DIR/NAME.EXT files, else
 * stderr under ";; stage NAME". `stages`: the LC_STAGE_BITs to dump. */
typedef struct lc_dump_sink {
    uint32_t stages;
    lc_dump_fn fn;
    void *ctx;
} lc_dump_sink;
/* A driver hook (user: an lc_dump_sink) that dumps the stages of the sink's set. */
lc_status lc_dump_stage_hook(const lc_stage_info *stage, void *user);
/* A comma-separated list of stage names ("graph" = built, "all") into LC_STAGE_BITs. An
 * unknown name fails; from the environment (`from_env`) it is instead reported once per
 * process on stderr, in Lucid's words, and ignored. */
lc_status lc_dump_parse(const char *list, bool from_env, uint32_t *stages);
/* lc_dump_parse(getenv("LUCID_DUMP"), true, ...). */
uint32_t lc_dump_env_stages(void);

#endif
