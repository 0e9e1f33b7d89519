/* The thread pool: started once, `threads - 1` workers plus the calling thread. A job splits
 * [0, n) into contiguous parts, one per thread, with inner boundaries rounded to 64 elements
 * so parts start on cache lines; the caller runs part 0 and waits for the rest. One job at a
 * time: a second caller that finds the pool busy runs its whole range itself (results are
 * the same either way, since a part is just a sub-range of independent elements).
 *
 * Waiting spins, then sleeps. A worker that finishes a part watches the job counter for
 * SPIN_MS before it sleeps on the condition variable, and the caller watches the count of
 * parts still running for as long before it sleeps: kernels come back to back (the kernels
 * of one program, a training loop, a timed run), and waking a sleeping thread costs tens of
 * microseconds, a third of a 0.2 ms kernel's run (bench/README.md measures it). OpenMP
 * runtimes wait actively the same way, for milliseconds; this wait is kept short, since an
 * idle pool must give its cores back to the rest of the process. Every field of a job is still read and written under
 * `lock`; the counters are atomic only so that a spinning thread can watch them without it.
 *
 * Resizing (lc_pool_set_threads) may happen at any time, during runs on other threads: it
 * takes `busy`, so it waits for the job in flight and no job starts while workers are
 * replaced. The thread count itself is atomic, since a caller reads it before it knows
 * whether it will get the pool, and is read again once `busy` is held. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/pool.h"
#include "support/clock.h"
#include "support/error.h"

/* How long a thread that waits for the pool spins before it sleeps. */
#define SPIN_MS 0.1

typedef struct pool {
    pthread_mutex_t busy;     /* held by the thread whose job the pool runs */
    pthread_mutex_t lock;     /* guards the fields below */
    pthread_cond_t start, done;
    pthread_t *workers;
    int n_workers;
    atomic_ulong generation; /* bumped per job (and to stop the workers), under lock */
    unsigned long born;      /* generation when the current workers were started */
    bool stop;
    int sleepers; /* workers asleep on `start`, so that a job wakes them only if there are any */
    int arrived;  /* workers of the current set that have reached worker_main (see fork_prepare) */
    pthread_cond_t arrival;
    /* the current job */
    lc_pool_task fn;
    void *ctx;
    int64_t n, grain;
    int parts;
    atomic_int pending; /* parts not yet done, the caller's excluded */
} pool;

static pool g_pool = {.busy = PTHREAD_MUTEX_INITIALIZER, .lock = PTHREAD_MUTEX_INITIALIZER,
                      .start = PTHREAD_COND_INITIALIZER, .done = PTHREAD_COND_INITIALIZER,
                      .arrival = PTHREAD_COND_INITIALIZER};
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static atomic_int g_threads; /* total, caller included; written only with g_pool.busy held */

static int64_t part_begin(int64_t n, int64_t grain, int parts, int k) {
    if (k >= parts) return n;
    int64_t b = (int64_t)((__int128)n * k / parts);
    return k == 0 ? 0 : b / grain * grain;
}

typedef struct worker_arg { int id; } worker_arg;

/* One step of a bounded spin: a pause, and every 64th step a look at the clock (a few
 * microseconds apart); false once SPIN_MS have passed since the first look. */
static bool keep_spinning(int step, double *give_up) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
    if ((step & 63) != 63) return true;
    /* a thread the spinner keeps off this core (the one it waits for, on a machine with
     * more runnable threads than cores) gets it */
    sched_yield();
    double now = lc_now_ms();
    if (*give_up < 0) *give_up = now + SPIN_MS;
    return now <= *give_up;
}

/* True once a job after `seen` is posted (or the workers are stopped), false if none came
 * within the spin. */
static bool spin_for_job(unsigned long seen) {
    double give_up = -1;
    for (int step = 0; keep_spinning(step, &give_up); step++)
        if (atomic_load_explicit(&g_pool.generation, memory_order_acquire) != seen) return true;
    return false;
}

/* True once every worker's part of the current job is done, false if not within the spin. */
static bool spin_for_parts(void) {
    double give_up = -1;
    for (int step = 0; keep_spinning(step, &give_up); step++)
        if (atomic_load_explicit(&g_pool.pending, memory_order_acquire) == 0) return true;
    return false;
}

static void *worker_main(void *arg) {
    int id = (int)(intptr_t)arg; /* part id = id + 1 */
    pthread_mutex_lock(&g_pool.lock);
    g_pool.arrived++;
    pthread_cond_broadcast(&g_pool.arrival);
    /* the generation when this worker was made: a restarted pool's workers must not take the
     * old pool's last job for a new one, nor miss a job posted before they got here */
    unsigned long seen = g_pool.born;
    for (;;) {
        if (!g_pool.stop && atomic_load(&g_pool.generation) == seen) {
            pthread_mutex_unlock(&g_pool.lock);
            spin_for_job(seen);
            pthread_mutex_lock(&g_pool.lock);
        }
        g_pool.sleepers++;
        while (!g_pool.stop && atomic_load(&g_pool.generation) == seen)
            pthread_cond_wait(&g_pool.start, &g_pool.lock);
        g_pool.sleepers--;
        if (g_pool.stop) break;
        /* the newest job: a worker with no part in a job may see the next one first, which
         * is posted only once every part of this one is done */
        seen = atomic_load(&g_pool.generation);
        int part = id + 1;
        if (part < g_pool.parts) {
            lc_pool_task fn = g_pool.fn;
            void *ctx = g_pool.ctx;
            int64_t b = part_begin(g_pool.n, g_pool.grain, g_pool.parts, part);
            int64_t e = part_begin(g_pool.n, g_pool.grain, g_pool.parts, part + 1);
            pthread_mutex_unlock(&g_pool.lock);
            if (b < e) fn(ctx, b, e);
            pthread_mutex_lock(&g_pool.lock);
            /* under lock, so a caller that found parts pending and went to sleep hears it */
            if (atomic_fetch_sub_explicit(&g_pool.pending, 1, memory_order_acq_rel) == 1)
                pthread_cond_signal(&g_pool.done);
        }
    }
    pthread_mutex_unlock(&g_pool.lock);
    return NULL;
}

static int default_threads(void) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1) cores = 1;
    if (cores > 256) cores = 256;
    const char *env = getenv("LUCID_NUM_THREADS");
    if (env && *env) {
        char *end;
        errno = 0;
        long v = strtol(env, &end, 10);
        if (errno == 0 && *end == 0 && v >= 1 && v <= 1024) return (int)v;
        fprintf(stderr, "lucid: LUCID_NUM_THREADS must be an integer between 1 and 1024, got "
                        "\"%s\"; using %ld\n", env, cores);
    }
    return (int)cores;
}

/* Start `threads - 1` workers; called with g_pool.busy held. */
static void start_workers(int threads) {
    pthread_mutex_lock(&g_pool.lock);
    g_pool.stop = false;
    g_pool.born = atomic_load(&g_pool.generation);
    g_pool.arrived = 0;
    pthread_mutex_unlock(&g_pool.lock);
    g_pool.n_workers = 0;
    g_pool.workers = threads > 1 ? calloc((size_t)threads - 1, sizeof(pthread_t)) : NULL;
    for (int i = 0; g_pool.workers && i < threads - 1; i++) {
        if (pthread_create(&g_pool.workers[i], NULL, worker_main, (void *)(intptr_t)i) != 0) break;
        g_pool.n_workers++;
    }
    atomic_store(&g_threads, g_pool.n_workers + 1); /* what we really got */
}

static void stop_workers(void) {
    pthread_mutex_lock(&g_pool.lock);
    g_pool.stop = true;
    atomic_fetch_add(&g_pool.generation, 1); /* ends a spin */
    pthread_cond_broadcast(&g_pool.start);
    pthread_mutex_unlock(&g_pool.lock);
    for (int i = 0; i < g_pool.n_workers; i++) pthread_join(g_pool.workers[i], NULL);
    free(g_pool.workers);
    g_pool.workers = NULL;
    g_pool.n_workers = 0;
}

/* At exit, workers that are idle are stopped and joined, so their stacks and thread-local
 * blocks are freed rather than left to look like leaks (valgrind's "possibly lost"). A pool
 * that some other thread is still using as the process ends is left alone; any later job
 * runs on its caller. */
static void stop_pool_at_exit(void) {
    if (pthread_mutex_trylock(&g_pool.busy) != 0) return;
    stop_workers();
    atomic_store(&g_threads, 1);
    pthread_mutex_unlock(&g_pool.busy);
}

/* fork(): the child has none of the workers. fork waits for the job in flight (it takes
 * `busy`, then `lock`, so no worker is inside either at the fork); the child starts its
 * locks and conditions afresh (workers were waiting on them) and starts as many workers as
 * its parent had at its first job (g_respawn), not in the fork handler, which is no place to
 * start threads. Until then it counts as one thread. */
static atomic_int g_respawn;

static void fork_prepare(void) {
    pthread_mutex_lock(&g_pool.busy);
    pthread_mutex_lock(&g_pool.lock);
    /* A worker that has not reached worker_main yet may be inside the allocator: the thread
     * library's and a sanitizer's thread start allocate and free (AddressSanitizer's reads
     * the thread's attributes, and its allocator has no fork handler in GCC 12). A fork then
     * leaves the child an allocator lock that no thread of its own will release, and its
     * first malloc waits forever (LLVM's target probe in target.c forks and allocates: it
     * hung so). Past worker_main a worker only spins, sleeps or runs a job, and no job is in
     * flight now, so once all have arrived none of Lucid's threads holds such a lock. */
    while (g_pool.arrived < g_pool.n_workers) pthread_cond_wait(&g_pool.arrival, &g_pool.lock);
}

static void fork_parent(void) {
    pthread_mutex_unlock(&g_pool.lock);
    pthread_mutex_unlock(&g_pool.busy);
}

static void fork_child(void) {
    pthread_mutex_init(&g_pool.busy, NULL);
    pthread_mutex_init(&g_pool.lock, NULL);
    pthread_cond_init(&g_pool.start, NULL);
    pthread_cond_init(&g_pool.done, NULL);
    pthread_cond_init(&g_pool.arrival, NULL);
    free(g_pool.workers);
    g_pool.workers = NULL;
    g_pool.n_workers = 0;
    g_pool.sleepers = 0;
    g_pool.arrived = 0;
    atomic_store(&g_respawn, atomic_load(&g_threads));
    atomic_store(&g_threads, 1);
}

/* A forked child's first job (or resize) starts its workers. */
static void respawn_after_fork(void) {
    pthread_mutex_lock(&g_pool.busy);
    int threads = atomic_exchange(&g_respawn, 0);
    if (threads > 1 && atomic_load(&g_threads) == 1) start_workers(threads);
    pthread_mutex_unlock(&g_pool.busy);
}

static void init_pool(void) {
    pthread_mutex_lock(&g_pool.busy); /* a fork on another thread waits for the workers' count */
    start_workers(default_threads());
    pthread_mutex_unlock(&g_pool.busy);
    atexit(stop_pool_at_exit);
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}

int lc_pool_threads(void) {
    pthread_once(&g_once, init_pool);
    if (atomic_load_explicit(&g_respawn, memory_order_relaxed)) respawn_after_fork();
    return atomic_load(&g_threads);
}

lc_status lc_pool_set_threads(int n) {
    if (n < 1 || n > 1024)
        return lc_fail(LC_ERR_INVALID_ARG, "runtime: threads must be between 1 and 1024, got %d", n);
    pthread_once(&g_once, init_pool);
    pthread_mutex_lock(&g_pool.busy);
    atomic_store(&g_respawn, 0); /* a forked child's own count wins over its parent's */
    if (n != atomic_load(&g_threads)) {
        stop_workers();
        start_workers(n);
    }
    pthread_mutex_unlock(&g_pool.busy);
    return LC_OK;
}

void lc_pool_parallel_for(int64_t n, int64_t grain, int max_threads, lc_pool_task fn, void *ctx) {
    pthread_once(&g_once, init_pool);
    /* parts start on cache lines (64 elements) and at multiples of the kernel's grain: at
     * multiples of both (a grain of whole rows, thousands of elements, is not multiplied by
     * 64 again, which would leave a kernel of a few such grains on one thread) */
    if (grain <= 1) grain = 1;
    int64_t a = grain, b = 64;
    while (b != 0) {
        int64_t r = a % b;
        a = b;
        b = r;
    }
    grain = grain / a * 64; /* lcm(grain, 64) */
    if (atomic_load_explicit(&g_respawn, memory_order_relaxed)) respawn_after_fork();
    int threads = atomic_load(&g_threads);
    int parts = max_threads < threads ? max_threads : threads;
    if (parts > 1 && n / grain < parts) parts = (int)(n / grain);
    if (parts <= 1 || pthread_mutex_trylock(&g_pool.busy) != 0) {
        fn(ctx, 0, n);
        return;
    }
    /* the pool may have been resized between the read above and taking busy */
    threads = atomic_load(&g_threads);
    if (parts > threads) parts = threads;
    if (parts <= 1) {
        pthread_mutex_unlock(&g_pool.busy);
        fn(ctx, 0, n);
        return;
    }
    pthread_mutex_lock(&g_pool.lock);
    g_pool.fn = fn;
    g_pool.ctx = ctx;
    g_pool.n = n;
    g_pool.grain = grain;
    g_pool.parts = parts;
    atomic_store(&g_pool.pending, parts - 1);
    atomic_fetch_add_explicit(&g_pool.generation, 1, memory_order_release);
    if (g_pool.sleepers > 0) pthread_cond_broadcast(&g_pool.start); /* else all are spinning */
    pthread_mutex_unlock(&g_pool.lock);
    int64_t e = part_begin(n, grain, parts, 1);
    if (e > 0) fn(ctx, 0, e);
    if (!spin_for_parts()) {
        pthread_mutex_lock(&g_pool.lock);
        while (atomic_load(&g_pool.pending) > 0) pthread_cond_wait(&g_pool.done, &g_pool.lock);
        pthread_mutex_unlock(&g_pool.lock);
    }
    pthread_mutex_unlock(&g_pool.busy);
}
