/* lucid-pool-handoff: what handing a job to the runtime's thread pool costs (bench/README.md,
 * "The pool's hand-off"). Times lc_pool_parallel_for over n floats with a trivial body (add 1),
 * back to back, on 2 threads, beside the same body run on the calling thread alone; the
 * difference at small n is the hand-off (posting the job, waking or reaching the worker, and
 * hearing that its part is done).
 *
 *   lucid-pool-handoff [--threads T] [--reps R]
 *
 * prints, per n, the mean and the minimum microseconds per job. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/pool.h"
#include "support/clock.h"

#define MAX_N (1 << 20)

static float g_data[MAX_N];

static void add_one(void *ctx, int64_t begin, int64_t end) {
    (void)ctx;
    for (int64_t i = begin; i < end; i++) g_data[i] += 1.0f;
}

static int parse_int(const char *flag, const char *text, int lo, int hi) {
    char *end;
    long v = strtol(text, &end, 10);
    if (*text == 0 || *end != 0 || v < lo || v > hi) {
        fprintf(stderr, "lucid-pool-handoff: %s must be an integer in [%d, %d], got \"%s\"\n", flag, lo, hi, text);
        exit(2);
    }
    return (int)v;
}

int main(int argc, char **argv) {
    int threads = 2, reps = 2000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) threads = parse_int("--threads", argv[++i], 2, 256);
        else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) reps = parse_int("--reps", argv[++i], 1, 1000000);
        else {
            fprintf(stderr, "usage: lucid-pool-handoff [--threads T (2-256)] [--reps R]\n");
            return 2;
        }
    }
    if (lc_pool_set_threads(threads) != LC_OK) return 1;
    printf("threads %d, %d jobs per size; microseconds per job\n", threads, reps);
    printf("%9s %12s %12s %14s\n", "n", "pool mean", "pool min", "caller alone");
    for (int n = 4096; n <= MAX_N; n *= 16) {
        double sum = 0, best = 1e30, alone = 1e30;
        for (int r = 0; r < reps; r++) {
            double t0 = lc_now_ms();
            lc_pool_parallel_for(n, 64, threads, add_one, NULL);
            double us = (lc_now_ms() - t0) * 1e3;
            sum += us;
            if (us < best) best = us;
        }
        for (int r = 0; r < 200; r++) {
            double t0 = lc_now_ms();
            add_one(NULL, 0, n);
            double us = (lc_now_ms() - t0) * 1e3;
            if (us < alone) alone = us;
        }
        printf("%9d %12.2f %12.2f %14.2f\n", n, sum / reps, best, alone);
    }
    return 0;
}
