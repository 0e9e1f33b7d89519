/* Compile-time records of the JIT rows. */
#ifndef LUCID_BENCH_JIT_H
#define LUCID_BENCH_JIT_H

#include "bench.h"

#define LC_TRY_BENCH(expr)                                                                  \
    do {                                                                                    \
        lc_status bench_try_status_ = (expr);                                               \
        if (bench_try_status_ != LC_OK) return bench_try_status_;                           \
    } while (0)

/* Median milliseconds of lc_compile for the configuration's graph (default passes applied
 * first, as a user does; graph building excluded): cold with the in-memory cache cleared
 * before each compile, and cached (a hit). 0, or -1 with `err`. */
int bench_jit_compile_times(const bench_config *cfg, double *cold_ms, double *cached_ms, char *err, size_t n);

#endif
