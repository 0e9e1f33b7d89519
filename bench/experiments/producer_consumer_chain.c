/* A producer and a consumer that reads its output at once, timed as a pair: AvgPool1d(4) at
 * (8, 64, 4096) float32 writes y (2 MiB), and AvgPool1d(4) at (8, 64, 1024) reads it. The
 * producer's input rotates over 40 copies (from memory, as lucid-bench's rows); y and the
 * consumer's output are one buffer each, as a framework's allocator reuses them. What
 * lucid-bench cannot show (it rotates every buffer): whether streaming stores for an output
 * that fits the last-level cache cost the next kernel more than they save the one writing it
 * (bench/README.md, "The stream prefetch from 2 MiB").
 *
 * As run, the two thresholds were switched per process by a temporary edit of fuse.c, not
 * committed: LC_NONTEMPORAL_MIN_BYTES replaced by 1 where the environment had XNT set, and
 * LC_STREAM_PREFETCH_MIN_BYTES likewise for XPF. With the library as it stands, the program
 * times what fuse decides.
 * Build (from the repository, after scripts/build.sh):
 *   cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude -Ibuild/include \
 *      bench/experiments/producer_consumer_chain.c -Lbuild -llucid -Wl,-rpath,$PWD/build
 * Run: ./a.out THREADS; prints the medians of 400 pairs after 20 warm-up pairs. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <lucid/model_spec.h>
#include <lucid/nn.h>
#include <lucid/passes.h>
#include <lucid/program.h>
#include <lucid/status.h>
#include <lucid/tensor.h>

enum { COPIES = 40, WARMUP = 20, PAIRS = 400 };

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void check(lc_status st) {
    if (st != LC_OK) {
        fprintf(stderr, "lucid: %s\n", lc_last_error());
        exit(1);
    }
}

/* The module's forward at `in`, compiled optimized at once (no quick tier). */
static lc_program *compile_forward(const char *spec, lc_shape in) {
    lc_module *m;
    lc_graph *g, *opt;
    lc_program *p;
    check(lc_model_parse(spec, "producer_consumer_chain", &m));
    check(lc_module_graph(m, LC_F32, in, &g));
    check(lc_pipeline_run_default(g, false, NULL, &opt));
    lc_compile_options o = lc_compile_options_default();
    o.tiered = false;
    check(lc_compile(opt, &o, &p));
    lc_graph_free(opt);
    lc_graph_free(g);
    lc_module_free(m);
    return p;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *t, int n) {
    qsort(t, (size_t)n, sizeof *t, by_value);
    return t[n / 2];
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    check(lc_runtime_set_threads(threads));
    int64_t d_in[3] = {8, 64, 4096}, d_y[3] = {8, 64, 1024}, d_z[3] = {8, 64, 256};
    lc_shape s_in = lc_shape_make(3, d_in), s_y = lc_shape_make(3, d_y), s_z = lc_shape_make(3, d_z);
    lc_program *producer = compile_forward("AvgPool1d(4)", s_in), *consumer = compile_forward("AvgPool1d(4)", s_y);
    lc_tensor *x[COPIES], *y, *z;
    for (int r = 0; r < COPIES; r++) {
        check(lc_tensor_new(LC_F32, s_in, &x[r]));
        float *v = x[r]->data;
        for (int64_t i = 0; i < lc_shape_numel(&s_in); i++) v[i] = (float)(i % 97);
    }
    check(lc_tensor_new(LC_F32, s_y, &y));
    check(lc_tensor_new(LC_F32, s_z, &z));
    static double t_prod[PAIRS], t_cons[PAIRS], t_pair[PAIRS];
    for (int it = 0; it < WARMUP + PAIRS; it++) {
        const lc_tensor *in_p[1] = {x[it % COPIES]}, *in_c[1] = {y};
        lc_tensor *out_p[1] = {y}, *out_c[1] = {z};
        double t0 = now_ms();
        check(lc_program_run_into(producer, in_p, 1, out_p, 1));
        double t1 = now_ms();
        check(lc_program_run_into(consumer, in_c, 1, out_c, 1));
        double t2 = now_ms();
        if (it >= WARMUP) {
            t_prod[it - WARMUP] = t1 - t0;
            t_cons[it - WARMUP] = t2 - t1;
            t_pair[it - WARMUP] = t2 - t0;
        }
    }
    printf("threads %d  producer %.1f us  consumer %.1f us  pair %.1f us (medians of %d)\n", threads,
           median(t_prod, PAIRS) * 1e3, median(t_cons, PAIRS) * 1e3, median(t_pair, PAIRS) * 1e3, PAIRS);
    for (int r = 0; r < COPIES; r++) lc_tensor_free(x[r]);
    lc_tensor_free(y);
    lc_tensor_free(z);
    lc_program_free(producer);
    lc_program_free(consumer);
    return 0;
}
