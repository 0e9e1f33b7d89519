/* Timing: warm-up, then samples of a batch of runs each, over rotated buffer slots, until a
 * per-row time budget is spent. A batch makes each sample last at least ~50 us, so runs of a
 * fraction of a microsecond are not swamped by the clock's own cost; the figure reported per
 * sample is the batch's time divided by its runs. Rows whose runs take a quarter second or more
 * (PyTorch and the interpreter on large shapes) settle for one warm-up run and three samples,
 * so that a default run stays within minutes.
 *
 * The driver interleaves the implementations of one configuration: each takes a slice of
 * samples (~SLICE_S) in turn, round after round, so that whatever else the machine is doing
 * falls on all of them alike. The first sample of a slice is dropped when a slice holds
 * several, and the driver pauses between slices (bench_timer_pause), since a slice must not
 * pay for the previous implementation's threads still spinning. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "support/clock.h"

#define SAMPLE_TARGET_S 50e-6
#define WARMUP_S 0.01
#define MAX_SAMPLES 2000
#define SLOW_RUN_S 0.25 /* runs this slow: one warm-up run and 3 samples at least */
#define SLICE_S 0.03

double bench_now_s(void) { return 1e-3 * lc_now_ms(); }

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

static int run_one(bench_timer *t, char *err, size_t err_size) {
    if (t->run(t->state, t->slot, err, err_size) != 0) return -1;
    t->slot = t->slot + 1 == t->n_rot ? 0 : t->slot + 1;
    return 0;
}

int bench_timer_start(bench_timer *t, bench_run_fn run, void *state, int n_rot, double budget_s, int prior_runs,
                      double prior_run_s, char *err, size_t err_size) {
    memset(t, 0, sizeof *t);
    t->run = run;
    t->state = state;
    t->n_rot = n_rot;
    t->budget_s = budget_s;
    t->samples = malloc(MAX_SAMPLES * sizeof *t->samples);
    if (!t->samples) {
        snprintf(err, err_size, "out of memory for samples");
        return -1;
    }
    /* Warm-up: two runs in all (counting the caller's), then more up to WARMUP_S; a slow row
     * that the caller already ran is warm. */
    double per_run = prior_run_s;
    if (!(prior_runs >= 1 && prior_run_s >= SLOW_RUN_S)) {
        double t0 = bench_now_s(), t1 = t0;
        long warm = 0;
        while (warm + prior_runs < 1 || (warm + prior_runs < 2 && t1 - t0 < SLOW_RUN_S) ||
               (t1 - t0 < WARMUP_S && warm < 100000)) {
            if (run_one(t, err, err_size) != 0) return -1;
            warm++;
            t1 = bench_now_s();
        }
        per_run = (t1 - t0) / (double)warm;
    }
    t->batch = per_run >= SAMPLE_TARGET_S ? 1 : (long)(SAMPLE_TARGET_S / (per_run > 1e-9 ? per_run : 1e-9)) + 1;
    t->min_samples = per_run >= SLOW_RUN_S ? 3 : BENCH_MIN_SAMPLES;
    t->sample_s = per_run * (double)t->batch;
    return 0;
}

bool bench_timer_done(const bench_timer *t) {
    return t->n >= MAX_SAMPLES || (t->n >= t->min_samples && t->spent_s >= t->budget_s);
}

int bench_timer_slice(bench_timer *t, char *err, size_t err_size) {
    bool drop_first = t->sample_s * 4 < SLICE_S;
    double slice_start = bench_now_s();
    for (int k = 0; t->n < MAX_SAMPLES; k++) {
        double a = bench_now_s();
        for (long b = 0; b < t->batch; b++)
            if (run_one(t, err, err_size) != 0) return -1;
        double now = bench_now_s();
        if (!(drop_first && k == 0)) {
            t->samples[t->n++] = (now - a) / (double)t->batch;
            t->spent_s += now - a;
        }
        if (now - slice_start >= SLICE_S || !drop_first) break;
    }
    return 0;
}

/* Let the previous slice's worker threads stop spinning (libgomp's spin is capped through
 * GOMP_SPINCOUNT in main.c, the floor's pool spins ~50 us, the JIT's pool sleeps at once). */
void bench_timer_pause(void) {
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, NULL);
}

void bench_timer_finish(bench_timer *t, bench_timing *out) {
    memset(out, 0, sizeof *out);
    out->samples = t->n;
    out->batch = t->batch;
    out->median_ms = 1e3 * bench_median(t->samples, t->n);
    out->min_ms = t->n > 0 ? 1e3 * t->samples[0] : 0; /* sorted by bench_median */
    free(t->samples);
    t->samples = NULL;
}

void bench_timer_discard(bench_timer *t) {
    free(t->samples);
    t->samples = NULL;
}
