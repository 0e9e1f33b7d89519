/* Compile-time records of the JIT rows. */
#ifndef LUCID_BENCH_JIT_H
#define LUCID_BENCH_JIT_H

#include "bench.h"

/* Median milliseconds to compile the configuration's graph: the default passes, then lc_compile
 * (as a user does; building the graph excluded). Cold: the in-memory cache cleared
 * before each compile, and cached (a hit). 0, or -1 with `err`. */
int bench_jit_compile_times(const bench_config *cfg, double *cold_ms, double *cached_ms, char *err, size_t n);

#endif
