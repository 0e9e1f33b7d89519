/* What one core's memory moves in the shapes of a pool's forward+backward, as two kernels and
 * as one: float32 streams with streaming stores, one thread, best of 6 runs of each.
 *   write    streaming stores alone: 256 MiB written
 *   dx       read 64 MiB, write 256 MiB (the backward's gather: dy and the slots in, dx out)
 *   y        read 256 MiB, write 64 MiB (the forward: x in, y out)
 *   both     the two above in one pass, reads and writes side by side (the floor's shape)
 * On the Zen 5 host (bench/README.md, "MaxPool2d's forward+backward: two kernels against one
 * pass") the write-heavy stream moves its bytes far slower than the read-heavy one, and the
 * two in one pass faster than either: a forward+backward split into a read-heavy and a
 * write-heavy kernel cannot reach the floor, which mixes them.
 * Build: cc -O2 -march=native -o balance bench/experiments/read_write_balance.c
 * Run:   ./balance */
#define _POSIX_C_SOURCE 200809L
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N (64L << 20) /* floats: 256 MiB */

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* y = the maxima of x's runs of 64 floats' 4 vectors (256 MiB in, 64 MiB out) */
static void forward(const float *x, float *y, long i) {
    __m512 s = _mm512_load_ps(x + i);
    for (int j = 1; j < 4; j++) s = _mm512_max_ps(s, _mm512_load_ps(x + i + 16 * j));
    _mm512_stream_ps(y + i / 4, s);
}

/* dx = 4 vectors from each vector of dy (64 MiB in, 256 MiB out) */
static void backward(const float *dy, float *dx, long i) {
    __m512 r = _mm512_load_ps(dy + i / 4);
    for (int j = 0; j < 4; j++) _mm512_stream_ps(dx + i + 16 * j, _mm512_add_ps(r, r));
}

int main(void) {
    float *x = aligned_alloc(64, N * 4), *dx = aligned_alloc(64, N * 4);
    float *y = aligned_alloc(64, N), *dy = aligned_alloc(64, N);
    if (!x || !dx || !y || !dy) return 1;
    memset(x, 1, N * 4);
    memset(dx, 1, N * 4);
    memset(y, 1, N);
    memset(dy, 1, N);
    const char *name[4] = {"write", "dx", "y", "both"};
    const double mib[4] = {256, 320, 320, 640};
    for (int v = 0; v < 4; v++) {
        double best = 1e30;
        for (int run = 0; run < 6; run++) {
            double t = now_ms();
            for (long i = 0; i < N; i += 64) {
                if (v == 0)
                    for (int j = 0; j < 4; j++) _mm512_stream_ps(dx + i + 16 * j, _mm512_set1_ps(1.0f));
                if (v == 1 || v == 3) backward(dy, dx, i);
                if (v == 2 || v == 3) forward(x, y, i);
            }
            _mm_sfence();
            t = now_ms() - t;
            if (t < best) best = t;
        }
        printf("%-6s %4.0f MiB  best %6.2f ms  %5.1f GB/s\n", name[v], mib[v], best, mib[v] * 1.048576 / best);
    }
    return (int)(dx[5] + y[3]) == 12345;
}
