/* Programs: compile a graph (fuse -> plan -> codegen, through the driver), run it over the pool.
 *
 *   lc_compile:  key -> in-memory cache? -> lc_drive_walk from fuse (driver.c) -> cache insert
 *                (a dump asked for skips the cache, so the stages it shows really ran)
 *   lc_program_run_into: check tensors -> in-out pairs (an output that is an input's own
 *                        tensor: written in place, or aside and copied back) -> slot table
 *                        (inputs, outputs, a scratch block of this run's own, reused from
 *                        earlier runs when one is spare) -> each kernel in order, its outer
 *                        range split across the pool -> copies back
 */
#include <alloca.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lucid/program.h"
#include "runtime/buffer.h"
#include "runtime/pool.h"
#include "runtime/program_internal.h"
#include "support/error.h"
#include "support/int_math.h"

/* Below this many loads a kernel runs on the calling thread: a hand-off costs microseconds. */
#define SERIAL_WORK 32768

/* Every stage's name, NULL-terminated; a compile's own stages are the tail from fuse on. */
static const char *const g_stage_names[] = {
#define LC_STAGE(ID, name, artefact, ext, about) name,
#include "lucid/stages.def"
#undef LC_STAGE
    NULL};

const char *const *lc_dump_stages(void) { return g_stage_names + LC_STAGE_FUSE; }

lc_compile_options lc_compile_options_default(void) {
    lc_compile_options o = {0};
    o.opt_level = 3;
    o.tiered = lc_tier_default();
    return o;
}

lc_code *lc_code_new(void) {
    lc_code *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    atomic_init(&c->refs, 1);
    pthread_mutex_init(&c->spare_lock, NULL);
    pthread_mutex_init(&c->fixup_lock, NULL);
    pthread_mutex_init(&c->tier_lock, NULL);
    pthread_cond_init(&c->tier_done, NULL);
    atomic_init(&c->live_entries, NULL);
    atomic_init(&c->runs, 0);
    return c;
}

void lc_code_retain(lc_code *c) { atomic_fetch_add(&c->refs, 1); }

void lc_code_release(lc_code *c) {
    if (!c || atomic_fetch_sub(&c->refs, 1) != 1) return;
    for (int i = 0; i < c->n_spare; i++) lc_buffer_free(c->spare[i]);
    pthread_mutex_destroy(&c->spare_lock);
    pthread_mutex_destroy(&c->fixup_lock);
    pthread_mutex_destroy(&c->tier_lock);
    pthread_cond_destroy(&c->tier_done);
    lc_tier_release(c);
    lc_jit_free(c->jit);
    lc_fused_free(c->fused);
    free(c->entries);
    free((void *)c->fixups);
    free(c);
}

/* The highest stage of a set (LC_STAGE_BUILT for an empty one). */
static lc_stage last_of(uint32_t stages) {
    lc_stage last = LC_STAGE_BUILT;
    for (int s = 0; s < LC_STAGE_COUNT; s++)
        if (stages & LC_STAGE_BIT(s)) last = (lc_stage)s;
    return last;
}

/* fuse .. the last stage dumped (asm at least: the program needs its code), each stage
 * dumped as it is made. */
static lc_status build_code(const lc_graph *g, const lc_compile_options *o, uint32_t dump,
                            lc_code **out) {
    lc_dump_sink sink = {.stages = dump, .fn = o->dump_fn, .ctx = o->dump_ctx};
    lc_drive_options d = lc_drive_options_default();
    d.first = LC_STAGE_FUSE;
    d.last = last_of(dump) > LC_STAGE_ASM ? last_of(dump) : LC_STAGE_ASM;
    d.verify = false; /* lc_compile takes a verified graph */
    d.opt_level = o->opt_level;
    d.tiered = o->tiered;
    d.text = dump;
    d.on_stage = lc_dump_stage_hook;
    d.user = &sink;
    return lc_drive_walk(g, &d, NULL, out);
}

static bool in_place_is_safe(const lc_fused *f, int in, int out);
static bool needs_line_aligned(const lc_fused *f, int j);

/* The run rules of `p` decided once at compile (lc_program.in_place_safe and line_aligned);
 * a table left NULL when out of memory is decided at every run instead. */
static void decide_run_rules(lc_program *p) {
    const lc_fused *f = p->code->fused;
    if (f->n_outputs > 0 && (p->line_aligned = malloc((size_t)f->n_outputs)))
        for (int j = 0; j < f->n_outputs; j++) p->line_aligned[j] = needs_line_aligned(f, j);
    if (f->n_inputs == 0 || f->n_outputs == 0) return;
    p->in_place_safe = malloc((size_t)f->n_inputs * (size_t)f->n_outputs);
    if (!p->in_place_safe) return;
    for (int i = 0; i < f->n_inputs; i++) {
        const lc_node *a = lc_graph_node(f->graph, lc_graph_input(f->graph, i));
        for (int j = 0; j < f->n_outputs; j++) {
            const lc_node *b = lc_graph_node(f->graph, lc_graph_output(f->graph, j));
            bool same = a->dtype == b->dtype && lc_shape_equal(&a->shape, &b->shape);
            p->in_place_safe[i * f->n_outputs + j] = same && in_place_is_safe(f, i, j);
        }
    }
}

lc_status lc_compile(const lc_graph *g, const lc_compile_options *opts, lc_program **out) {
    if (!out) return lc_fail(LC_ERR_INVALID_ARG, "compile: out must not be NULL");
    *out = NULL;
    if (!g) return lc_fail(LC_ERR_INVALID_ARG, "compile: graph must not be NULL");
    lc_compile_options o = opts ? *opts : lc_compile_options_default();
    if (o.opt_level < 0 || o.opt_level > 3)
        return lc_fail(LC_ERR_INVALID_ARG, "compile: opt_level must be 0..3, got %d", o.opt_level);
    if (o.threads < 0)
        return lc_fail(LC_ERR_INVALID_ARG, "compile: threads must be >= 0, got %d", o.threads);
    if (lc_graph_output_count(g) == 0)
        return lc_fail(LC_ERR_INVALID_ARG, "compile: the graph has no outputs");
    uint32_t dump = 0;
    if (o.dump) LC_TRY(lc_dump_parse(o.dump, false, &dump));
    else dump = lc_dump_env_stages();
    dump &= ~(LC_STAGE_BIT(LC_STAGE_FUSE) - 1u); /* the graph stages ran before lc_compile */
    lc_program *p = calloc(1, sizeof *p);
    if (!p) return lc_fail(LC_ERR_NOMEM, "compile: out of memory");
    p->threads = o.threads;
    unsigned char *key = NULL;
    size_t len = 0;
    lc_status st = LC_OK;
    if (!dump) {
        st = lc_compile_key(g, o.opt_level, &key, &len);
        if (st == LC_OK) p->code = lc_cache_lookup(key, len);
    }
    if (st == LC_OK && !p->code) {
        st = build_code(g, &o, dump, &p->code);
        if (st == LC_OK && key) lc_cache_insert(key, len, p->code);
    }
    free(key);
    if (st != LC_OK) {
        free(p);
        return st;
    }
    decide_run_rules(p);
    *out = p;
    return LC_OK;
}

static void dump_to_file(void *ctx, const char *stage, const char *text) {
    FILE *f = ctx;
    fprintf(f, ";; stage %s\n%s", stage, text);
    size_t n = strlen(text);
    if (n == 0 || text[n - 1] != '\n') fputc('\n', f);
}

lc_status lc_compile_dump(const lc_graph *g, const char *stages, FILE *out) {
    if (!stages || !out) return lc_fail(LC_ERR_INVALID_ARG, "compile: stages and out must not be NULL");
    lc_compile_options o = lc_compile_options_default();
    o.dump = stages;
    o.dump_fn = dump_to_file;
    o.dump_ctx = out;
    lc_program *p;
    LC_TRY(lc_compile(g, &o, &p));
    lc_program_free(p);
    return LC_OK;
}

void lc_program_free(lc_program *p) {
    if (!p) return;
    lc_code_release(p->code);
    free(p->in_place_safe);
    free(p->line_aligned);
    free(p);
}

lc_status lc_program_optimize(const lc_program *p) {
    if (!p) return lc_fail(LC_ERR_INVALID_ARG, "program: program must not be NULL");
    return lc_tier_optimize(p->code);
}

bool lc_program_optimized(const lc_program *p) { return p && lc_tier_optimized(p->code); }

int lc_program_kernel_count(const lc_program *p) { return p->code->fused->n_kernels; }
int lc_program_input_count(const lc_program *p) { return p->code->fused->n_inputs; }
int lc_program_output_count(const lc_program *p) { return p->code->fused->n_outputs; }
int64_t lc_program_scratch_bytes(const lc_program *p) { return p->code->fused->scratch_bytes; }

int lc_runtime_threads(void) { return lc_pool_threads(); }
lc_status lc_runtime_set_threads(int n) { return lc_pool_set_threads(n); }

/* ---- run ---- */

static lc_status check_tensor(const char *what, int i, const lc_tensor *t, const lc_node *n) {
    char want[96], got[96];
    if (!t) return lc_fail(LC_ERR_INVALID_ARG, "program: %s %d must not be NULL", what, i);
    if (t->dtype != n->dtype || !lc_shape_equal(&t->shape, &n->shape))
        return lc_fail(LC_ERR_SHAPE, "program: %s %d must be %s%s, got %s%s", what, i,
                       lc_dtype_name(n->dtype), lc_shape_str(&n->shape, want, sizeof want),
                       lc_dtype_name(t->dtype), lc_shape_str(&t->shape, got, sizeof got));
    return LC_OK;
}

/* The parts of a kernel's outer range whose common form flagged a window (codegen.h): each
 * part is redone by the kernel's fix-up form after the kernel, before the next one. More
 * parts than MAX_FLAGGED_PARTS redo the whole range. */
#define MAX_FLAGGED_PARTS 64

typedef struct run_part_ctx {
    lc_kernel_entry fn;
    void *const *slots;
    int64_t base;             /* the part's range is offset by this */
    atomic_int n_flagged;
    int64_t flagged_begin[MAX_FLAGGED_PARTS], flagged_end[MAX_FLAGGED_PARTS];
} run_part_ctx;

/* fn over [begin, end) with its stack frame at the top of a 4 KiB page. A kernel's loop that
 * runs out of registers (AVX2 has 16) spills to its frame, and reloads constants from the
 * pool the JIT puts at the start of a page (vbroadcastss from an address beside the code).
 * Where a spill slot and a constant share their address's low 12 bits, the core takes the
 * constant's load as reading the spill's store (4 KiB aliasing) and waits for it, on every
 * trip: LPPool1d(3, 4)'s forward+backward at (16, 64, 65536) on one Zen 3 thread took 170 ms
 * against 47 ms in about one process in ten, as the stack's place in its page is random, and
 * in every process whose environment put it there (bench/README.md). Below the top of a page,
 * the frame meets the constants only if frame and pool together pass 4 KiB. */
static __attribute__((noinline)) int32_t call_at_page_top(lc_kernel_entry fn, void *const *slots, int64_t begin,
                                                          int64_t end) {
    char here;
    volatile char *pad = alloca(((uintptr_t)&here & 4095) + 1);
    int32_t flagged = fn(slots, begin, end);
    __asm__ volatile("" : : "r"(pad) : "memory"); /* the pad lives until fn returns */
    return flagged;
}

static void run_part(void *ctx, int64_t begin, int64_t end) {
    run_part_ctx *r = ctx;
    if (!call_at_page_top(r->fn, r->slots, r->base + begin, r->base + end)) return;
    int i = atomic_fetch_add(&r->n_flagged, 1); /* the pool's join publishes the ranges */
    if (i < MAX_FLAGGED_PARTS) {
        r->flagged_begin[i] = r->base + begin;
        r->flagged_end[i] = r->base + end;
    }
}

/* r's function over [0, len) (offset by r->base): on this thread, or split at multiples of
 * align over up to max_threads. */
static void run_range(run_part_ctx *r, int64_t len, int64_t align, bool serial, int max_threads) {
    if (serial) run_part(r, 0, len);
    else lc_pool_parallel_for(len, align, max_threads, run_part, r);
}

/* Kernel k over its outer range, split as the run allows, then its fix-up form over the parts
 * that flagged a window (compiled on the first such run). Each element ends as the fix-up
 * form computes it, wherever the range was split, so the results do not depend on the
 * thread count. */
static lc_status run_kernel(const lc_program *p, const lc_kernel_entry *entries, int k,
                            void *const *slots) {
    const lc_fused *f = p->code->fused;
    const lc_kernel *kr = &f->kernels[k];
    int threads = p->threads;
    bool serial = threads == 1 || lc_sat_mul(kr->outer, kr->cost) < SERIAL_WORK; /* cost saturates near 2^63 */
    int max_threads = threads > 0 ? threads : 1 << 20;
    run_part_ctx rc = {.fn = entries[k], .slots = slots};
    atomic_init(&rc.n_flagged, 0);
    run_range(&rc, kr->outer, kr->align, serial, max_threads);
    int n = atomic_load(&rc.n_flagged);
    if (n == 0) return LC_OK;
    LC_ASSERT(kr->sched.fixup); /* only such kernels flag */
    lc_kernel_entry fix;
    LC_TRY(lc_drive_fixup(p->code, k, &fix));
    if (n > MAX_FLAGGED_PARTS) { /* the ranges were not all kept: redo the whole range */
        n = 1;
        rc.flagged_begin[0] = 0;
        rc.flagged_end[0] = kr->outer;
    }
    for (int i = 0; i < n; i++) {
        run_part_ctx redo = {.fn = fix, .slots = slots, .base = rc.flagged_begin[i]};
        atomic_init(&redo.n_flagged, 0);
        int64_t len = rc.flagged_end[i] - rc.flagged_begin[i];
        /* a part starts at a multiple of kr->align, so its own parts split where the kernel's may */
        run_range(&redo, len, kr->align, serial, max_threads);
        LC_ASSERT(atomic_load(&redo.n_flagged) == 0); /* the fix-up form flags nothing */
    }
    return LC_OK;
}

/* ---- in-out buffers ---- */

enum { READS_NOT = 0, READS_SAME_ELEMENT = 1, READS_OTHER = 2 };

/* How the value of `node` (the kernel's root or a node it evaluates inline) at one element
 * reads input node `in`: not at all, only at that same element (every inline node on the way
 * is elementwise with the root's shape, so nothing broadcasts, reduces or moves), or
 * otherwise. memo[node] caches answers + 1 (0: not yet known), so a shared subexpression is
 * walked once. */
static int reads_of(const lc_fused *f, const lc_kernel *k, int node, int in, const lc_shape *shape,
                    unsigned char *memo) {
    if (node == in) return READS_SAME_ELEMENT;
    if (node != k->root && f->node_slot[node] >= 0) return READS_NOT; /* read from its own slot */
    if (memo[node]) return memo[node] - 1;
    const lc_node *n = lc_graph_node(f->graph, node);
    const lc_op_info *info = lc_op_get_info(n->op);
    int r = READS_NOT;
    for (int i = 0; i < info->arity && r != READS_OTHER; i++) {
        int ri = reads_of(f, k, n->inputs[i], in, shape, memo);
        if (ri > r) r = ri;
    }
    if (r == READS_SAME_ELEMENT && (info->kind != LC_KIND_ELEMENTWISE || !lc_shape_equal(&n->shape, shape)))
        r = READS_OTHER;
    memo[node] = (unsigned char)(r + 1);
    return r;
}

/* Whether output `out` may be written straight into input `in`'s buffer: the one kernel
 * writing it reads that input only element by element (each element is read before the
 * same thread overwrites it, and never again), and no later kernel reads the input. Else the
 * run writes the output aside and copies it back at the end. */
static bool in_place_is_safe(const lc_fused *f, int in, int out) {
    int in_node = lc_graph_input(f->graph, in), in_slot = lc_slot_input(f, in);
    int out_slot = lc_slot_output(f, out);
    int writer = -1;
    for (int k = 0; k < f->n_kernels; k++) {
        const lc_kernel *kr = &f->kernels[k];
        if (kr->co_slot == out_slot) return false; /* a by-product of a window-major kernel */
        if (kr->dst_slot == out_slot) writer = k;
    }
    if (writer < 0) return false;
    for (int k = writer + 1; k < f->n_kernels; k++)
        for (int a = 0; a < f->kernels[k].n_args; a++)
            if (f->kernels[k].args[a] == in_slot) return false;
    const lc_kernel *kr = &f->kernels[writer];
    /* a fix-up form reads its range again after the common form wrote it; a rerun tail
     * (lc_schedule.rerun_tail) reads positions again that its first run wrote */
    if (kr->co_root >= 0 || kr->sched.fixup || kr->sched.rerun_tail) return false;
    int n = lc_graph_node_count(f->graph);
    unsigned char local[512];
    unsigned char *memo = n <= (int)sizeof local ? memset(local, 0, (size_t)n) : calloc((size_t)n, 1);
    if (!memo) return false; /* the copy is always correct */
    const lc_shape *shape = &lc_graph_node(f->graph, kr->root)->shape;
    bool safe = reads_of(f, kr, kr->root, in_node, shape, memo) != READS_OTHER;
    if (memo != local) free(memo);
    return safe;
}

/* An output the run may not write straight into the caller's buffer: one the caller made one of
 * the inputs (`input`), written in place (`aside` NULL) where that is safe, and one whose kernel
 * writes whole lines from its rows' starts (input -1; below). Otherwise it is written into
 * `aside` and copied over after the last kernel. */
typedef struct in_out {
    int input, output;
    void *aside;
} in_out;

/* Whether output j's buffer must start on a 64-byte line: its kernel writes its rows' lines
 * with aligned non-temporal stores (LC_NT_ALIGNED_ROWS), which a caller's buffer off a line
 * would not hold. */
static bool needs_line_aligned(const lc_fused *f, int j) {
    int slot = lc_slot_output(f, j);
    for (int k = 0; k < f->n_kernels; k++)
        if ((f->kernels[k].dst_slot == slot && f->kernels[k].sched.nontemporal == LC_NT_ALIGNED_ROWS) ||
            (f->kernels[k].co_slot == slot && f->kernels[k].sched.co_nontemporal))
            return true;
    return false;
}

/* The aliasing rules of lc_program_run_into: an output may be an input's own tensor (the
 * same data), never another output's, and such an input may be given once only. */
static lc_status find_in_outs(const lc_program *p, const lc_tensor *const *inputs, int n_inputs,
                              lc_tensor *const *outputs, int n_outputs, in_out *pairs, int *n_pairs) {
    const lc_fused *f = p->code->fused;
    *n_pairs = 0;
    for (int j = 0; j < n_outputs; j++) {
        const void *d = outputs[j]->data;
        /* Before the zero-size skip: one tensor given as two outputs is refused whatever its
         * size (distinct zero-size tensors may all hold NULL data, so those compare by tensor). */
        for (int j2 = 0; j2 < j; j2++)
            if (outputs[j2] == outputs[j] || (d && outputs[j2]->data == d))
                return lc_fail(LC_ERR_INVALID_ARG, "program: outputs %d and %d are the same tensor", j2, j);
        if (!d || lc_tensor_nbytes(outputs[j]) == 0) continue; /* zero-size: nothing is written */
        bool off_line = (uintptr_t)d % 64 != 0 && (p->line_aligned ? p->line_aligned[j] : needs_line_aligned(f, j));
        int in = -1;
        for (int i = 0; i < n_inputs; i++) {
            if (inputs[i]->data != d) continue;
            if (in >= 0)
                return lc_fail(LC_ERR_INVALID_ARG, "program: inputs %d and %d are the same tensor, "
                               "which output %d updates in place; give it once", in, i, j);
            in = i;
        }
        if (in < 0 && !off_line) continue;
        in_out *pr = &pairs[(*n_pairs)++];
        pr->input = in;
        pr->output = j;
        pr->aside = NULL;
        bool safe = in >= 0 && !off_line &&
                    (p->in_place_safe ? p->in_place_safe[in * n_outputs + j] : in_place_is_safe(f, in, j));
        if (!safe) {
            pr->aside = lc_buffer_alloc(lc_tensor_nbytes(outputs[j]));
            if (!pr->aside) return lc_fail(LC_ERR_NOMEM, "program: out of memory");
        }
    }
    return LC_OK;
}

static void free_in_outs(in_out *pairs, int n_pairs, const in_out *local) {
    for (int k = 0; k < n_pairs; k++) lc_buffer_free(pairs[k].aside);
    if (pairs != local) free(pairs);
}

lc_status lc_program_run_into(const lc_program *p, const lc_tensor *const *inputs, int n_inputs,
                              lc_tensor *const *outputs, int n_outputs) {
    if (!p) return lc_fail(LC_ERR_INVALID_ARG, "program: program must not be NULL");
    const lc_fused *f = p->code->fused;
    const lc_graph *g = f->graph;
    if (n_inputs != f->n_inputs)
        return lc_fail(LC_ERR_INVALID_ARG, "program: expected %d inputs, got %d", f->n_inputs, n_inputs);
    if (n_outputs != f->n_outputs)
        return lc_fail(LC_ERR_INVALID_ARG, "program: expected %d outputs, got %d", f->n_outputs, n_outputs);
    if (n_inputs > 0 && !inputs) return lc_fail(LC_ERR_INVALID_ARG, "program: inputs must not be NULL");
    if (n_outputs > 0 && !outputs) return lc_fail(LC_ERR_INVALID_ARG, "program: outputs must not be NULL");
    for (int i = 0; i < n_inputs; i++)
        LC_TRY(check_tensor("input", i, inputs[i], lc_graph_node(g, lc_graph_input(g, i))));
    for (int i = 0; i < n_outputs; i++)
        LC_TRY(check_tensor("output", i, outputs[i], lc_graph_node(g, lc_graph_output(g, i))));

    in_out local_pairs[8];
    in_out *pairs = n_outputs <= 8 ? local_pairs : malloc(sizeof *pairs * (size_t)n_outputs);
    int n_pairs = 0;
    if (!pairs) return lc_fail(LC_ERR_NOMEM, "program: out of memory");
    lc_status found = find_in_outs(p, inputs, n_inputs, outputs, n_outputs, pairs, &n_pairs);
    if (found != LC_OK) {
        free_in_outs(pairs, n_pairs, local_pairs);
        return found;
    }

    void *local[32];
    void **slots = f->n_slots <= 32 ? local : malloc(sizeof(void *) * (size_t)f->n_slots);
    if (!slots) {
        free_in_outs(pairs, n_pairs, local_pairs);
        return lc_fail(LC_ERR_NOMEM, "program: out of memory");
    }
    char *scratch = NULL;
    lc_code *code = p->code;
    if (f->scratch_bytes > 0) {
        pthread_mutex_lock(&code->spare_lock);
        if (code->n_spare > 0) scratch = code->spare[--code->n_spare];
        pthread_mutex_unlock(&code->spare_lock);
        if (!scratch) scratch = lc_buffer_alloc((size_t)f->scratch_bytes);
        if (!scratch) {
            if (slots != local) free(slots);
            free_in_outs(pairs, n_pairs, local_pairs);
            return lc_fail(LC_ERR_NOMEM, "program: cannot allocate %" PRId64 " bytes of scratch",
                           f->scratch_bytes);
        }
    }
    for (int i = 0; i < n_inputs; i++) slots[i] = inputs[i]->data;
    for (int i = 0; i < n_outputs; i++) slots[f->n_inputs + i] = outputs[i]->data;
    for (int k = 0; k < n_pairs; k++)
        if (pairs[k].aside) slots[lc_slot_output(f, pairs[k].output)] = pairs[k].aside;
    /* zero-size intermediates make an empty block: no pointer arithmetic on NULL then */
    for (int s = 0; s < f->n_scratch; s++)
        slots[f->scratch[s].slot] = scratch ? scratch + f->scratch[s].offset + f->scratch[s].start : NULL;

    lc_status st = LC_OK;
    const lc_kernel_entry *entries = lc_tier_run_entries(code); /* one tier for the whole run */
    for (int k = 0; k < f->n_kernels && st == LC_OK; k++)
        if (f->kernels[k].outer > 0) st = run_kernel(p, entries, k, slots);
    /* every kernel has run: the inputs' old values are no longer needed */
    for (int k = 0; k < n_pairs && st == LC_OK; k++)
        if (pairs[k].aside)
            memcpy(outputs[pairs[k].output]->data, pairs[k].aside, lc_tensor_nbytes(outputs[pairs[k].output]));
    free_in_outs(pairs, n_pairs, local_pairs);
    if (scratch) {
        pthread_mutex_lock(&code->spare_lock);
        if (code->n_spare < (int)(sizeof code->spare / sizeof code->spare[0])) {
            code->spare[code->n_spare++] = scratch;
            scratch = NULL;
        }
        pthread_mutex_unlock(&code->spare_lock);
        lc_buffer_free(scratch);
    }
    if (slots != local) free(slots);
    return st;
}

lc_status lc_program_run(const lc_program *p, const lc_tensor *const *inputs, int n_inputs,
                         lc_tensor **outputs, int n_outputs) {
    if (!p) return lc_fail(LC_ERR_INVALID_ARG, "program: program must not be NULL");
    if (n_outputs > 0 && !outputs) return lc_fail(LC_ERR_INVALID_ARG, "program: outputs must not be NULL");
    const lc_fused *f = p->code->fused;
    if (n_outputs != f->n_outputs) {
        for (int i = 0; i < n_outputs; i++) outputs[i] = NULL;
        return lc_fail(LC_ERR_INVALID_ARG, "program: expected %d outputs, got %d", f->n_outputs, n_outputs);
    }
    lc_status st = LC_OK;
    for (int i = 0; i < n_outputs; i++) outputs[i] = NULL;
    for (int i = 0; i < n_outputs && st == LC_OK; i++) {
        const lc_node *n = lc_graph_node(f->graph, lc_graph_output(f->graph, i));
        st = lc_tensor_new(n->dtype, n->shape, &outputs[i]);
    }
    if (st == LC_OK) st = lc_program_run_into(p, inputs, n_inputs, outputs, n_outputs);
    if (st != LC_OK)
        for (int i = 0; i < n_outputs; i++) {
            lc_tensor_free(outputs[i]);
            outputs[i] = NULL;
        }
    return st;
}
