/* Compile-time records of the JIT rows. */
#ifndef LUCID_BENCH_JIT_H
#define LUCID_BENCH_JIT_H

#include "bench.h"

/* Median milliseconds to compile the configuration's graph: the default passes, then lc_compile
 * (as a user does; building the graph excluded). `cold_ms`: the in-memory cache cleared before
 * each compile, the default options (the quick tier when the program starts on it: `quick`);
 * `optimized_ms`: the same with tiering off (the optimized code at once); `cached_ms`: a hit. */
typedef struct bench_compile_times {
    double cold_ms, optimized_ms, cached_ms;
    bool quick;
} bench_compile_times;

/* 0, or -1 with `err`. */
int bench_jit_compile_times(const bench_config *cfg, bench_compile_times *out, char *err, size_t n);

#endif
