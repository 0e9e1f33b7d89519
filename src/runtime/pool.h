/* The process-wide thread pool (pool.c). */
#ifndef LUCID_RUNTIME_POOL_H
#define LUCID_RUNTIME_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "lucid/status.h"

typedef void (*lc_pool_task)(void *ctx, int64_t begin, int64_t end);

/* Threads of the pool, the caller included (starts the pool on first use). */
int lc_pool_threads(void);
/* Restart the pool with `n` threads (waits for a running job to finish). */
lc_status lc_pool_set_threads(int n);
/* Run fn over [0, n) split into at most `max_threads` contiguous parts whose inner
 * boundaries are multiples of `grain`; returns when every part is done. Runs everything on
 * the caller when the pool is busy or n is small. */
void lc_pool_parallel_for(int64_t n, int64_t grain, int max_threads, lc_pool_task fn, void *ctx);

#endif
