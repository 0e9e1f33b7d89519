/* Timing: warm-up, then samples of a batch of runs each, over rotated buffer slots, until a
 * per-row time budget is spent. A batch makes each sample last at least ~50 us, so runs of a
 * fraction of a microsecond are not swamped by the clock's own cost; the figure reported per
 * sample is the batch's time divided by its runs. Rows whose runs take a quarter second or more
 * (PyTorch and the interpreter on large shapes) settle for one warm-up run and three samples,
 * so that a default run stays within minutes. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

#define SAMPLE_TARGET_S 50e-6
#define WARMUP_S 0.01
#define MAX_SAMPLES 2000
#define SLOW_RUN_S 0.25 /* runs this slow: one warm-up run and 3 samples at least */

double bench_now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double bench_median(double *v, int n) {
    if (n <= 0) return 0;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double bench_row_budget_s(void) {
    const char *s = getenv("LUCID_BENCH_BUDGET_MS");
    if (s && *s) {
        char *end;
        double ms = strtod(s, &end);
        if (*end == '\0' && ms > 0 && ms < 1e6) return ms / 1000.0;
    }
    return 0.15;
}

int bench_time(bench_run_fn run, void *state, int n_rot, double budget_s, int prior_runs, double prior_run_s,
               bench_timing *out, char *err, size_t err_size) {
    memset(out, 0, sizeof *out);
    int slot = 0;
    /* Warm-up: two runs in all (counting the caller's), then more up to WARMUP_S; a slow row
     * that the caller already ran is warm. */
    double per_run = prior_run_s;
    if (!(prior_runs >= 1 && prior_run_s >= SLOW_RUN_S)) {
        double t0 = bench_now_s(), t1 = t0;
        long warm = 0;
        while (warm + prior_runs < 1 || (warm + prior_runs < 2 && t1 - t0 < SLOW_RUN_S) ||
               (t1 - t0 < WARMUP_S && warm < 100000)) {
            if (run(state, slot, err, err_size) != 0) return -1;
            slot = slot + 1 == n_rot ? 0 : slot + 1;
            warm++;
            t1 = bench_now_s();
        }
        per_run = (t1 - t0) / (double)warm;
    }
    long batch = per_run >= SAMPLE_TARGET_S ? 1 : (long)(SAMPLE_TARGET_S / (per_run > 1e-9 ? per_run : 1e-9)) + 1;

    double *samples = malloc(MAX_SAMPLES * sizeof *samples);
    if (!samples) {
        snprintf(err, err_size, "out of memory for samples");
        return -1;
    }
    int n = 0, min_samples = per_run >= SLOW_RUN_S ? 3 : BENCH_MIN_SAMPLES;
    double start = bench_now_s();
    while (n < MAX_SAMPLES && (n < min_samples || bench_now_s() - start < budget_s)) {
        double a = bench_now_s();
        for (long b = 0; b < batch; b++) {
            if (run(state, slot, err, err_size) != 0) {
                free(samples);
                return -1;
            }
            slot = slot + 1 == n_rot ? 0 : slot + 1;
        }
        samples[n++] = (bench_now_s() - a) / (double)batch;
    }
    out->samples = n;
    out->batch = batch;
    out->median_ms = 1e3 * bench_median(samples, n);
    out->min_ms = 1e3 * samples[0]; /* sorted by bench_median */
    free(samples);
    return 0;
}
