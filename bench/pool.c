/* The floor's worker pool: threads started once per thread count, the caller acting as worker
 * 0. A job is published by bumping a generation counter; workers spin on it briefly (runs come
 * back to back while a row is timed) and then sleep on a condition variable, so an idle pool
 * takes no CPU from the other implementations. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "bench.h"

#define SPIN_ITERATIONS 3000 /* ~100 us: covers back-to-back runs, then sleeps */

static struct {
    int threads;
    pthread_t tid[BENCH_MAX_THREADS];
    pthread_mutex_t lock;
    pthread_cond_t wake;
    atomic_uint generation;
    atomic_int pending;
    atomic_bool quit;
    bench_pool_fn fn;
    void *arg;
    int workers;
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void *worker_main(void *p) {
    int id = (int)(intptr_t)p;
    unsigned seen = 0;
    for (;;) {
        unsigned gen;
        int spins = 0;
        while ((gen = atomic_load_explicit(&pool.generation, memory_order_acquire)) == seen &&
               !atomic_load(&pool.quit) && spins < SPIN_ITERATIONS) {
            cpu_relax();
            spins++;
        }
        if (gen == seen && !atomic_load(&pool.quit)) {
            pthread_mutex_lock(&pool.lock);
            while ((gen = atomic_load(&pool.generation)) == seen && !atomic_load(&pool.quit))
                pthread_cond_wait(&pool.wake, &pool.lock);
            pthread_mutex_unlock(&pool.lock);
        }
        if (atomic_load(&pool.quit)) return NULL;
        seen = gen;
        if (id < pool.workers) pool.fn(pool.arg, id, pool.workers);
        atomic_fetch_sub_explicit(&pool.pending, 1, memory_order_acq_rel);
    }
}

void *bench_state_start(size_t size, int threads, char *err, size_t err_size) {
    void *s = calloc(1, size);
    if (!s || bench_pool_start(threads) != 0) {
        free(s);
        snprintf(err, err_size, "cannot start %d threads", threads);
        return NULL;
    }
    return s;
}

int bench_pool_start(int threads) {
    if (threads < 1) threads = 1;
    if (threads > BENCH_MAX_THREADS) threads = BENCH_MAX_THREADS;
    if (pool.threads == threads) return 0;
    bench_pool_stop();
    atomic_store(&pool.quit, false);
    atomic_store(&pool.generation, 0);
    for (int i = 1; i < threads; i++) {
        if (pthread_create(&pool.tid[i], NULL, worker_main, (void *)(intptr_t)i) != 0) {
            pool.threads = i;
            bench_pool_stop();
            return -1;
        }
    }
    pool.threads = threads;
    return 0;
}

void bench_pool_run(bench_pool_fn fn, void *arg, int workers) {
    if (workers > pool.threads) workers = pool.threads;
    if (workers <= 1) {
        fn(arg, 0, 1);
        return;
    }
    pool.fn = fn;
    pool.arg = arg;
    pool.workers = workers;
    atomic_store(&pool.pending, pool.threads - 1);
    pthread_mutex_lock(&pool.lock);
    atomic_fetch_add_explicit(&pool.generation, 1, memory_order_release);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);
    fn(arg, 0, workers);
    while (atomic_load_explicit(&pool.pending, memory_order_acquire) > 0) cpu_relax();
}

void bench_pool_stop(void) {
    if (pool.threads <= 1) {
        pool.threads = 0;
        return;
    }
    pthread_mutex_lock(&pool.lock);
    atomic_store(&pool.quit, true);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);
    for (int i = 1; i < pool.threads; i++) pthread_join(pool.tid[i], NULL);
    pool.threads = 0;
}
