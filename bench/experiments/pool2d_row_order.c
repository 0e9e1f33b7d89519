/* AvgPool2d(2)'s forward on float32 planes of H x W (256 MiB of input), in the orders a
 * kernel can read the window's two input rows, against a plain read-4-write-1 stream (the
 * floor's shape): side by side (a vector of row A, then of row B, as the one vectorized loop
 * did), with the stream prefetch 4096 bytes ahead or none; one row after the other through a
 * row of partial results on the stack (what fuse's row passes do), with or without it; side by
 * side with the prefetches in address order 1, 2 or 4 output rows ahead; and in chunks of
 * 2, 4 or 8 vectors of row A then of row B. Streaming stores throughout; one thread; best of
 * 8 runs of each, in turn (bench/README.md, "The 2-D forwards: window rows one after another").
 * Build: cc -O2 -march=native -o rows bench/experiments/pool2d_row_order.c
 * Run:   ./rows H W [PREFETCH_BYTES]   (e.g. ./rows 256 256) */
#define _POSIX_C_SOURCE 200809L
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}
static long H, W;
static long PF = 4096;
static const int ie[16] = {0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30};
static const int io[16] = {1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31};
/* 16 outputs of one input row: the sums of 32 floats' adjacent pairs */
static inline __m512 hs(const float *p, __m512i e, __m512i o) {
    __m512 a = _mm512_loadu_ps(p), b = _mm512_loadu_ps(p + 16);
    return _mm512_add_ps(_mm512_permutex2var_ps(a, e, b), _mm512_permutex2var_ps(a, o, b));
}
static void interleaved(const float *in, float *out, long planes, int pf) {
    __m512i e = _mm512_loadu_si512(ie), o = _mm512_loadu_si512(io);
    __m512 q = _mm512_set1_ps(0.25f);
    for (long p = 0; p < planes; p++)
        for (long r = 0; r < H / 2; r++) {
            const float *A = in + (p * H + 2 * r) * W, *B = A + W;
            float *y = out + (p * (H / 2) + r) * (W / 2);
            for (long j = 0; j < W / 2; j += 16) {
                if (pf) {
                    _mm_prefetch((const char *)(A + 2 * j) + PF, _MM_HINT_T0);
                    _mm_prefetch((const char *)(A + 2 * j) + PF + 64, _MM_HINT_T0);
                    _mm_prefetch((const char *)(B + 2 * j) + PF, _MM_HINT_T0);
                    _mm_prefetch((const char *)(B + 2 * j) + PF + 64, _MM_HINT_T0);
                }
                __m512 s = _mm512_add_ps(hs(A + 2 * j, e, o), hs(B + 2 * j, e, o));
                _mm512_stream_ps(y + j, _mm512_mul_ps(s, q));
            }
        }
}
static void inter_seqpf(const float *in, float *out, long planes, int dist) {
    __m512i e = _mm512_loadu_si512(ie), o = _mm512_loadu_si512(io);
    __m512 q = _mm512_set1_ps(0.25f);
    for (long p = 0; p < planes; p++)
        for (long r = 0; r < H / 2; r++) {
            const float *A = in + (p * H + 2 * r) * W, *B = A + W;
            float *y = out + (p * (H / 2) + r) * (W / 2);
            const char *nx = (const char *)A + dist * 2 * W * 4;
            long t = 0;
            for (long j = 0; j < W / 2; j += 16, t++) {
                _mm_prefetch(nx + t * 256, _MM_HINT_T0);
                _mm_prefetch(nx + t * 256 + 64, _MM_HINT_T0);
                _mm_prefetch(nx + t * 256 + 128, _MM_HINT_T0);
                _mm_prefetch(nx + t * 256 + 192, _MM_HINT_T0);
                __m512 s = _mm512_add_ps(hs(A + 2 * j, e, o), hs(B + 2 * j, e, o));
                _mm512_stream_ps(y + j, _mm512_mul_ps(s, q));
            }
        }
}
static void chunked(const float *in, float *out, long planes, int C) {
    __m512i e = _mm512_loadu_si512(ie), o = _mm512_loadu_si512(io);
    __m512 q = _mm512_set1_ps(0.25f);
    for (long p = 0; p < planes; p++)
        for (long r = 0; r < H / 2; r++) {
            const float *A = in + (p * H + 2 * r) * W, *B = A + W;
            float *y = out + (p * (H / 2) + r) * (W / 2);
            for (long j = 0; j < W / 2; j += 16 * C) {
                __m512 t[8];
                for (int c = 0; c < C; c++)
                    t[c] = hs(A + 2 * j + 32 * c, e, o);
                for (int c = 0; c < C; c++) {
                    __m512 s = _mm512_add_ps(t[c], hs(B + 2 * j + 32 * c, e, o));
                    _mm512_stream_ps(y + j + 16 * c, _mm512_mul_ps(s, q));
                }
            }
        }
}
static void sequential(const float *in, float *out, long planes, int pf) {
    __m512i e = _mm512_loadu_si512(ie), o = _mm512_loadu_si512(io);
    __m512 q = _mm512_set1_ps(0.25f);
    float tmp[4096] __attribute__((aligned(64)));
    for (long p = 0; p < planes; p++)
        for (long r = 0; r < H / 2; r++) {
            const float *A = in + (p * H + 2 * r) * W, *B = A + W;
            float *y = out + (p * (H / 2) + r) * (W / 2);
            for (long j = 0; j < W / 2; j += 16) {
                if (pf) {
                    _mm_prefetch((const char *)(A + 2 * j) + PF, _MM_HINT_T0);
                    _mm_prefetch((const char *)(A + 2 * j) + PF + 64, _MM_HINT_T0);
                }
                _mm512_store_ps(tmp + j, hs(A + 2 * j, e, o));
            }
            for (long j = 0; j < W / 2; j += 16) {
                if (pf) {
                    _mm_prefetch((const char *)(B + 2 * j) + PF, _MM_HINT_T0);
                    _mm_prefetch((const char *)(B + 2 * j) + PF + 64, _MM_HINT_T0);
                }
                __m512 s = _mm512_add_ps(_mm512_load_ps(tmp + j), hs(B + 2 * j, e, o));
                _mm512_stream_ps(y + j, _mm512_mul_ps(s, q));
            }
        }
}
static void floor_(const float *in, float *out, long n) { /* read 4, write 1, one stream */
    for (long i = 0; i < n / 4; i += 16) {
        const float *a = in + 4 * i;
        _mm_prefetch((const char *)a + PF, _MM_HINT_T0);
        _mm_prefetch((const char *)a + PF + 64, _MM_HINT_T0);
        _mm_prefetch((const char *)a + PF + 128, _MM_HINT_T0);
        _mm_prefetch((const char *)a + PF + 192, _MM_HINT_T0);
        __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_loadu_ps(a), _mm512_loadu_ps(a + 16)),
                                 _mm512_add_ps(_mm512_loadu_ps(a + 32), _mm512_loadu_ps(a + 48)));
        _mm512_stream_ps(out + i, s);
    }
}
/* The floor's stream over the planes' elements (`unused` as the variants' argument). */
static void floor_planes(const float *in, float *out, long planes, int unused) {
    (void)unused;
    floor_(in, out, planes * H * W);
}

static const struct {
    const char *name;
    void (*run)(const float *in, float *out, long planes, int arg);
    int arg;
} variants[] = {
    {"floor", floor_planes, 0},        {"inter", interleaved, 1},        {"inter-nopf", interleaved, 0},
    {"seq", sequential, 1},            {"seq-nopf", sequential, 0},      {"inter-seqpf1", inter_seqpf, 1},
    {"inter-seqpf2", inter_seqpf, 2}, {"inter-seqpf4", inter_seqpf, 4}, {"chunk2", chunked, 2},
    {"chunk4", chunked, 4},            {"chunk8", chunked, 8},
};
enum { VARIANTS = sizeof variants / sizeof variants[0] };

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s H W [PREFETCH_BYTES]\n", argv[0]);
        return 2;
    }
    H = atol(argv[1]);
    W = atol(argv[2]);
    long n = 256L << 20 >> 2;
    long planes = n / (H * W);
    if (argc > 3)
        PF = atol(argv[3]);
    float *in = aligned_alloc(64, n * 4), *out = aligned_alloc(64, n);
    for (long i = 0; i < n; i++)
        in[i] = (float)(i % 1000);
    memset(out, 0, n);
    double best[VARIANTS];
    for (int v = 0; v < VARIANTS; v++)
        best[v] = 1e9;
    for (int rep = 0; rep < 8; rep++)
        for (int v = 0; v < VARIANTS; v++) {
            double t = now();
            variants[v].run(in, out, planes, variants[v].arg);
            t = now() - t;
            if (t < best[v])
                best[v] = t;
        }
    for (int v = 0; v < VARIANTS; v++)
        printf("H=%ld W=%ld %-12s %.2f ms  %.1f%%\n", H, W, variants[v].name, best[v] * 1e3, 100 * best[0] / best[v]);
    free(in);
    free(out);
    return 0;
}
