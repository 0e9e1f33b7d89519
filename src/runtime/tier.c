/* Tiers: a small program starts on quick code and moves to its optimized code in the
 * background.
 *
 * Most of a cold compile is LLVM's code generator (instruction selection, register
 * allocation, machine passes) working on the kernels' vector loops. At LLVM's level None
 * (the quick tier, codegen.h: the same IR and pass list, but one trip at a time in every
 * vectorized loop, fast instruction selection and register allocation) it costs about 60 % of the instructions, and the code runs 1.1-1.8x
 * slower (bench/README.md, "Cold compiles: a quick first tier"). For a program whose runs
 * are short, that trade is worth making first: lc_compile hands back the quick code, and the
 * program's second run (the first sign that it will run again) starts the optimized compile
 * on a thread of its own; every run that starts after that compile has linked takes its
 * entries. A program run once never pays for a second compile.
 *
 * Which programs: opt level 2 or 3, no stage dumped, no disk cache (a warm one is faster
 * than either tier, and a quick object is never stored), and at most LC_TIER_QUICK_MAX_LOADS
 * loads in a run (the kernels' outer ranges times their cost), where a run takes a few
 * milliseconds at most and a compile 5-60.
 *
 * Values: both tiers compile the same IR (an interleave hint only sets how many positions
 * the vectorized loop takes side by side) through the same pass list, whose arithmetic is
 * IEEE without fast-math flags, so each element is computed by the same operations in the
 * same order; only the instructions chosen for them differ (and a quotient by an odd count,
 * which the optimized tier's vectorized loops take by an exact form of the same bits:
 * emit_expr.c's emit_fdiv). The one difference seen: the sign
 * of a NaN (x86 returns the first operand's NaN, and the code generators may order a
 * commutative operation's operands differently). tests/test_tier.c compares the tiers.
 *
 * Life: the background compile holds a reference to the code, so freeing every program that
 * shares it does not pull the code from under it. A process that exits while one is under
 * way waits for it at exit, at most one compile's time, before LLVM's own exit work: not
 * only the JIT's (which disposes LLVM) but the destructors of the statics LLVM builds on
 * first use, some of them inside the background compile itself (below, "waiting at exit");
 * so does fork() (for the compile and for its thread's exit), so that the child inherits no
 * half-done compile and no lock held by a thread it does not have, and can compile and run
 * as its parent does. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/program_internal.h"
#include "support/error.h"
#include "support/int_math.h"

/* A program that loads more than this in a run (by fuse's estimates of each kernel's loads
 * per element; at (8, 64, 4096) the pools load 2-23M, a run taking 0.1-3 ms) compiles
 * optimized at once: its runs are long enough that running them quick would cost more than
 * the compile saves. */
#define LC_TIER_QUICK_MAX_LOADS ((int64_t)1 << 26)

bool lc_tier_quick_pays(const lc_fused *f) {
    int64_t loads = 0;
    for (int k = 0; k < f->n_kernels; k++)
        loads = lc_sat_add(loads, lc_sat_mul(f->kernels[k].outer, f->kernels[k].cost));
    return loads <= LC_TIER_QUICK_MAX_LOADS;
}

/* LUCID_TIERED: 1 (or unset, or empty) tiers, 0 compiles optimized at once; read once. */
static bool g_tiered_default = true;

static void read_tiered(void) {
    const char *env = getenv("LUCID_TIERED");
    if (!env || !*env || strcmp(env, "1") == 0) return;
    if (strcmp(env, "0") == 0) g_tiered_default = false;
    else fprintf(stderr, "lucid: LUCID_TIERED must be 0 or 1, got \"%s\"; using 1\n", env);
}

bool lc_tier_default(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, read_tiered);
    return g_tiered_default;
}

enum { TIER_FINAL, TIER_QUICK, TIER_COMPILING, TIER_FAILED };

void lc_tier_init(lc_code *c, bool quick) {
    c->quick_first = quick;
    c->tier = quick ? TIER_QUICK : TIER_FINAL;
    atomic_store_explicit(&c->live_entries, c->entries, memory_order_release);
}

void lc_tier_release(lc_code *c) {
    lc_jit_free(c->optimized_jit);
    free(c->optimized_entries);
}

/* ---- waiting for background compiles at exit and at fork ---- */

static pthread_mutex_t g_drain_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_drained = PTHREAD_COND_INITIALIZER;
static int g_in_flight;
static bool g_exiting;
static _Thread_local bool t_is_tier_thread;

/* A background compile's thread, from its start to its join. Its compile has left the count
 * when the thread puts itself on g_ended, but the thread is still exiting (the C library
 * and the sanitizers' thread-exit hooks free its caches, under the allocator's locks): fork
 * must wait for that too, or the child can inherit a lock held by a thread it does not
 * have. So the threads are joinable, and what has ended is joined before a fork, at the next
 * start and at exit. */
typedef struct tier_thread {
    lc_code *code;
    pthread_t self; /* set by the thread itself (pthread_create's copy may land later) */
    struct tier_thread *next;
} tier_thread;

static tier_thread *g_ended; /* under g_drain_lock */

/* Join every thread that has ended its compile (g_drain_lock held; none of them takes it
 * again, so the join only waits for their exit). */
static void join_ended(void) {
    while (g_ended) {
        tier_thread *t = g_ended;
        g_ended = t->next;
        (void)pthread_join(t->self, NULL);
        free(t);
    }
}

/* Wait for the background compiles under way and join their threads; `exiting` lets no new
 * one start. */
static void drain(bool exiting) {
    /* LLVM ending the process from inside a compile, or a background compile's own thread
     * exiting: waiting would never end */
    if (lc_codegen_llvm_failed() || t_is_tier_thread) return;
    pthread_mutex_lock(&g_drain_lock);
    if (exiting) g_exiting = true;
    while (g_in_flight > 0) pthread_cond_wait(&g_drained, &g_drain_lock);
    join_ended();
    pthread_mutex_unlock(&g_drain_lock);
}

/* ---- waiting at exit ----
 *
 * exit() runs its handlers in the reverse order of their registration, and LLVM registers
 * the destructors of some function-local statics when it first builds them, which can be in
 * the middle of a background compile (the X86 back end's memory-fold tables, built by the
 * optimized tier's machine passes, which the quick tier never runs). An atexit handler
 * registered before such a static runs after its destructor: the compile still under way
 * then reads a freed table and crashes (test_train, 1 exit in 45-500). No atexit handler
 * can be registered after statics that do not exist yet, so the wait rides on the one hook
 * exit() calls before all of them: the calling thread's thread-local destructors (glibc's
 * __cxa_thread_atexit_impl, what C++'s thread_local uses). Each thread that starts a
 * background compile registers it once; it also runs when that thread ends, and waits
 * there too, which costs at most one compile's time. The atexit handler stays, for an exit
 * from a thread that never started one (and for a C library without the hook). */

extern int __cxa_thread_atexit_impl(void (*fn)(void *), void *obj, void *dso_symbol) __attribute__((weak));

static void drain_at_exit(void) { drain(true); }

static void drain_at_thread_end(void *unused) {
    (void)unused;
    drain(false);
}

/* Make the calling thread's end (and an exit() it calls) wait for the background compiles. */
static void drain_at_this_thread_end(void) {
    static _Thread_local bool registered;
    if (registered || !__cxa_thread_atexit_impl) return;
    /* the last argument names the library the destructor lives in, which glibc keeps loaded
     * until the destructor has run */
    registered = __cxa_thread_atexit_impl(drain_at_thread_end, NULL, (void *)&g_in_flight) == 0;
}

/* fork() waits for the background compiles under way, and for their threads to exit, and
 * lets no new one start until it returns: a thread left mid-compile (or mid-exit) would leave
 * its locks (LLVM's, the allocator's) held in the child, whose first allocation or compile
 * would then wait forever. A fork costs at most one compile's time for it. The child has no
 * compile to wait for, and its own locks and condition start fresh (they were held, or waited
 * on, by threads it does not have). */
static void fork_prepare(void) {
    pthread_mutex_lock(&g_drain_lock);
    while (g_in_flight > 0) pthread_cond_wait(&g_drained, &g_drain_lock);
    join_ended();
}

static void fork_parent(void) { pthread_mutex_unlock(&g_drain_lock); }

static void fork_child(void) {
    pthread_mutex_init(&g_drain_lock, NULL);
    pthread_cond_init(&g_drained, NULL);
    g_in_flight = 0;
    g_ended = NULL; /* empty: fork_prepare joined them */
}

static void register_drain(void) {
    atexit(drain_at_exit);
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/* Count one background compile in, unless the process is exiting; join the threads of
 * compiles that have ended, so they do not pile up. */
static bool drain_enter(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, register_drain);
    drain_at_this_thread_end();
    pthread_mutex_lock(&g_drain_lock);
    join_ended();
    bool ok = !g_exiting;
    if (ok) g_in_flight++;
    pthread_mutex_unlock(&g_drain_lock);
    return ok;
}

/* Count one background compile out; `ended`, if any, is its thread, about to exit. */
static void drain_leave(tier_thread *ended) {
    pthread_mutex_lock(&g_drain_lock);
    if (ended) {
        ended->next = g_ended;
        g_ended = ended;
    }
    if (--g_in_flight == 0) pthread_cond_broadcast(&g_drained);
    pthread_mutex_unlock(&g_drain_lock);
}

/* ---- the optimized compile ---- */

/* Compile c's kernels at its opt level and publish them (c->tier is TIER_COMPILING, set by
 * the caller, who alone compiles). `max_threads`: 1 in the background, so a compile there
 * leaves the other cores to the runs; 0 when a caller waits for it. */
static lc_status tier_up(lc_code *c, int max_threads) {
    int n = c->fused->n_kernels;
    lc_kernel_entry *entries = calloc((size_t)n + 1, sizeof *entries);
    lc_jit *jit = NULL;
    lc_status st = entries ? LC_OK : lc_fail(LC_ERR_NOMEM, "program: out of memory");
    if (st == LC_OK) {
        /* the cache was off when c compiled quick: keep it off, whatever the environment
         * says now */
        lc_codegen_options co = {.opt_level = c->opt_level, .max_threads = max_threads,
                                 .skip_disk_cache = true, .last_step = LC_CODEGEN_LINK};
        st = lc_codegen(c->fused, &co, NULL, &jit, entries);
    }
    pthread_mutex_lock(&c->tier_lock);
    if (st == LC_OK) {
        c->optimized_jit = jit;
        c->optimized_entries = entries;
        atomic_store_explicit(&c->live_entries, entries, memory_order_release);
        c->tier = TIER_FINAL;
    } else {
        free(entries);
        c->tier = TIER_FAILED; /* the quick code stays; lc_tier_optimize tries again */
    }
    pthread_cond_broadcast(&c->tier_done);
    pthread_mutex_unlock(&c->tier_lock);
    return st;
}

static void *tier_up_thread(void *arg) {
    tier_thread *t = arg;
    t->self = pthread_self();
    t_is_tier_thread = true;
    (void)tier_up(t->code, 1);
    lc_code_release(t->code);
    drain_leave(t); /* last: after it, nothing here touches LLVM or t */
    return NULL;
}

/* Start the optimized compile on a thread of its own, if c is still quick and nothing has
 * started it. A thread that cannot start leaves c quick (the next lc_tier_optimize
 * compiles). */
static void start_background(lc_code *c) {
    pthread_mutex_lock(&c->tier_lock);
    bool start = c->tier == TIER_QUICK && drain_enter();
    if (start) {
        c->tier = TIER_COMPILING;
        c->tier_pid = getpid();
    }
    pthread_mutex_unlock(&c->tier_lock);
    if (!start) return;
    lc_code_retain(c);
    tier_thread *t = calloc(1, sizeof *t);
    pthread_t thread;
    bool started = false;
    if (t) {
        t->code = c;
        started = pthread_create(&thread, NULL, tier_up_thread, t) == 0;
    }
    if (started) return;
    free(t);
    pthread_mutex_lock(&c->tier_lock);
    c->tier = TIER_QUICK;
    pthread_cond_broadcast(&c->tier_done);
    pthread_mutex_unlock(&c->tier_lock);
    lc_code_release(c);
    drain_leave(NULL);
}

const lc_kernel_entry *lc_tier_run_entries(lc_code *c) {
    const lc_kernel_entry *live = atomic_load_explicit(&c->live_entries, memory_order_acquire);
    if (c->quick_first && live == c->entries &&
        atomic_fetch_add_explicit(&c->runs, 1, memory_order_relaxed) == 1)
        start_background(c); /* the second run: the program is in use */
    return live;
}

lc_status lc_tier_optimize(lc_code *c) {
    pthread_mutex_lock(&c->tier_lock);
    /* a compile under way in another process (this one forked during it) never ends here */
    while (c->tier == TIER_COMPILING && c->tier_pid == getpid())
        pthread_cond_wait(&c->tier_done, &c->tier_lock);
    bool compile = c->tier != TIER_FINAL;
    if (compile) {
        c->tier = TIER_COMPILING;
        c->tier_pid = getpid();
    }
    pthread_mutex_unlock(&c->tier_lock);
    if (!compile) return LC_OK;
    lc_status st = tier_up(c, 0);
    return st == LC_OK ? LC_OK : lc_fail_prefix(st, "program: compiling the optimized tier");
}

bool lc_tier_optimized(lc_code *c) {
    pthread_mutex_lock(&c->tier_lock);
    bool done = c->tier == TIER_FINAL;
    pthread_mutex_unlock(&c->tier_lock);
    return done;
}
