/* lucid-bench's command line (bench/README.md): --shape N,C,L (repeatable), --case NAME
 * (repeatable), --impl a,b,..., --threads 1,2 (`all` = every core), --json FILE. Defaults run
 * everything: the three shapes, every case, every impl, 1 thread and all cores. */
#ifndef LUCID_BENCH_OPTIONS_H
#define LUCID_BENCH_OPTIONS_H

#include "bench.h"

typedef struct bench_options {
    int n_shapes;
    int64_t shapes[BENCH_MAX_SHAPES][4]; /* N,C,L,0 or N,C,H,W */
    int n_cases;
    const bench_case *cases[BENCH_MAX_CASES];
    bool impl[BENCH_IMPL_COUNT];
    int n_threads;
    int threads[BENCH_MAX_THREADS];
    const char *json;
    bool help;
    bool version;            /* --version: print "lucid-bench X.Y.Z (LLVM N)" */
} bench_options;

/* 0 on success (o->help set for --help); -1 with a one-line message in `err`. */
int bench_parse_options(int argc, char **argv, bench_options *o, char *err, size_t err_size);
void bench_print_usage(FILE *out);
/* Online cores. */
int bench_cores(void);

#endif
