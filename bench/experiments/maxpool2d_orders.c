/* MaxPool2d(3, 2, 1)'s forward at (16, 64, 256, 256) f32 in four orders of its comparisons:
 * a stand-alone experiment, not built with Lucid (bench/README.md, "The 2-D forwards: rows
 * combined before columns"). AVX-512 intrinsics in the shape of Lucid's vectorized loop: 16
 * outputs a trip, 64-byte streaming stores, at each output row the two input rows 2048
 * elements on prefetched into L1. comb(acc, b) is Lucid's: b where (b ugt acc) and acc is
 * ordered, so a window gives its leftmost NaN, else its leftmost maximum, in the order its
 * elements are combined.
 *   R  rows first, Lucid's order (row-major): each input row's 3 columns (the odd lanes of the
 *      previous trip, the even lanes, the odd lanes), then the 3 rows. 9 permutes a trip.
 *   C  columns first: the 3 rows combined on whole vectors, then one de-interleave and the
 *      3 columns (column-major order: other bits where a window holds +0 and -0 as its
 *      maximum, or two NaNs). 3 permutes a trip.
 *   G  C, and a flag where C may differ from R (a -0 among the combined columns, a NaN in y),
 *      for a fix-up that would redo those rows in R's order (not written here).
 *   M  (MB_MAXPS=1: R and M only) R with each combine one vmaxps, b > acc ? b : acc: R's bits
 *      wherever the window holds no NaN; a NaN after the first of a chain is dropped.
 *   H  R's order, the last input row's row maxima kept for the next output row (its first
 *      row) in a 512-byte row instead of computed again: 6 permutes a trip, the same bits.
 * Build: cc -O3 -march=skylake-avx512 -mprefer-vector-width=512 -pthread maxpool2d_orders.c -lm
 * Run:   ./a.out RUNS [normal|ties|nan] [THREADS]; the four run in turn, the order rotated
 * each run; medians and minima, and how many outputs of C and H differ from R's bits.
 * normal: U(-1, 1); ties: half zeros of either sign, half -1, -2, -3 (and -0); nan: 1 in 16 a
 * quiet NaN of random payload. MB_DUMP=1 writes x, R's y and C's y as raw f32 (x.raw,
 * yr.raw, yc.raw) to check R against `lucidc run --module 'MaxPool2d(3, 2, 1)'`. */
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>

#define H 256
#define W 256
#define OH 128
#define OW 128

static inline __m512 comb(__m512 acc, __m512 b) {
    __mmask16 ord = _mm512_cmp_ps_mask(acc, acc, _CMP_ORD_Q);
    __mmask16 k = _mm512_mask_cmp_ps_mask(ord, b, acc, _CMP_NLE_UQ);
    return _mm512_mask_mov_ps(acc, k, b);
}

/* b > acc ? b : acc, one vmaxps: comb's result wherever b is not a NaN (a NaN b is dropped) */
static inline __m512 comb_maxps(__m512 acc, __m512 b) { return _mm512_max_ps(b, acc); }

static __m512i EVEN, ODD, SHIFT;

static inline void prefetch_rows(const float *xp, int oh) {
    long base = (long)(2 * oh - 1) * W + 2048;
    if (base < 0) base = 0;
    const char *p = (const char *)(xp + base);
    for (int i = 0; i < 2 * W * 4; i += 64) _mm_prefetch(p + i, _MM_HINT_T0);
}

__attribute__((noinline)) void pool_R(const float *restrict x, float *restrict y, long planes) {
    const __m512 ninf = _mm512_set1_ps(-INFINITY);
    for (long p = 0; p < planes; p++) {
        const float *xp = x + p * H * W;
        float *yp = y + p * OH * OW;
        for (int oh = 0; oh < OH; oh++) {
            prefetch_rows(xp, oh);
            int r0 = 2 * oh - 1;
            const float *rows[3] = {r0 >= 0 ? xp + r0 * W : NULL, xp + (r0 + 1) * W, xp + (r0 + 2) * W};
            __m512 prev[3] = {ninf, ninf, ninf};
            float *yr = yp + oh * OW;
            for (int t = 0; t < OW / 16; t++) {
                __m512 h[3];
                for (int r = 0; r < 3; r++) {
                    if (!rows[r]) { h[r] = ninf; continue; }
                    __m512 a = _mm512_loadu_ps(rows[r] + 32 * t), b = _mm512_loadu_ps(rows[r] + 32 * t + 16);
                    __m512 e = _mm512_permutex2var_ps(a, EVEN, b), o = _mm512_permutex2var_ps(a, ODD, b);
                    __m512 o1 = _mm512_permutex2var_ps(prev[r], SHIFT, o);
                    prev[r] = o;
                    h[r] = comb(comb(o1, e), o);
                }
                _mm512_stream_ps(yr + 16 * t, comb(comb(h[0], h[1]), h[2]));
            }
        }
    }
}

__attribute__((noinline)) void pool_M(const float *restrict x, float *restrict y, long planes) {
    const __m512 ninf = _mm512_set1_ps(-INFINITY);
    for (long p = 0; p < planes; p++) {
        const float *xp = x + p * H * W;
        float *yp = y + p * OH * OW;
        for (int oh = 0; oh < OH; oh++) {
            prefetch_rows(xp, oh);
            int r0 = 2 * oh - 1;
            const float *rows[3] = {r0 >= 0 ? xp + r0 * W : NULL, xp + (r0 + 1) * W, xp + (r0 + 2) * W};
            __m512 prev[3] = {ninf, ninf, ninf};
            float *yr = yp + oh * OW;
            for (int t = 0; t < OW / 16; t++) {
                __m512 h[3];
                for (int r = 0; r < 3; r++) {
                    if (!rows[r]) { h[r] = ninf; continue; }
                    __m512 a = _mm512_loadu_ps(rows[r] + 32 * t), b = _mm512_loadu_ps(rows[r] + 32 * t + 16);
                    __m512 e = _mm512_permutex2var_ps(a, EVEN, b), o = _mm512_permutex2var_ps(a, ODD, b);
                    __m512 o1 = _mm512_permutex2var_ps(prev[r], SHIFT, o);
                    prev[r] = o;
                    h[r] = comb_maxps(comb_maxps(o1, e), o);
                }
                _mm512_stream_ps(yr + 16 * t, comb_maxps(comb_maxps(h[0], h[1]), h[2]));
            }
        }
    }
}

__attribute__((noinline)) void pool_H(const float *restrict x, float *restrict y, long planes) {
    const __m512 ninf = _mm512_set1_ps(-INFINITY);
    float keep[OW] __attribute__((aligned(64)));
    for (long p = 0; p < planes; p++) {
        const float *xp = x + p * H * W;
        float *yp = y + p * OH * OW;
        for (int oh = 0; oh < OH; oh++) {
            prefetch_rows(xp, oh);
            int r0 = 2 * oh - 1;
            const float *rows[2] = {xp + (r0 + 1) * W, xp + (r0 + 2) * W};
            __m512 prev[2] = {ninf, ninf};
            float *yr = yp + oh * OW;
            for (int t = 0; t < OW / 16; t++) {
                __m512 h[2];
                for (int r = 0; r < 2; r++) {
                    __m512 a = _mm512_loadu_ps(rows[r] + 32 * t), b = _mm512_loadu_ps(rows[r] + 32 * t + 16);
                    __m512 e = _mm512_permutex2var_ps(a, EVEN, b), o = _mm512_permutex2var_ps(a, ODD, b);
                    __m512 o1 = _mm512_permutex2var_ps(prev[r], SHIFT, o);
                    prev[r] = o;
                    h[r] = comb(comb(o1, e), o);
                }
                __m512 h0 = oh ? _mm512_load_ps(keep + 16 * t) : ninf;
                _mm512_store_ps(keep + 16 * t, h[1]);
                _mm512_stream_ps(yr + 16 * t, comb(comb(h0, h[0]), h[1]));
            }
        }
    }
}

__attribute__((noinline)) void pool_C(const float *restrict x, float *restrict y, long planes, int guard, int *flag) {
    const __m512 ninf = _mm512_set1_ps(-INFINITY);
    const __m512i negz = _mm512_set1_epi32((int)0x80000000u);
    __mmask16 f = 0;
    for (long p = 0; p < planes; p++) {
        const float *xp = x + p * H * W;
        float *yp = y + p * OH * OW;
        for (int oh = 0; oh < OH; oh++) {
            prefetch_rows(xp, oh);
            int r0 = 2 * oh - 1;
            const float *ra = r0 >= 0 ? xp + r0 * W : NULL, *rb = xp + (r0 + 1) * W, *rc = xp + (r0 + 2) * W;
            __m512 prev = ninf;
            float *yr = yp + oh * OW;
            for (int t = 0; t < OW / 16; t++) {
                __m512 a = ra ? _mm512_loadu_ps(ra + 32 * t) : ninf, b = ra ? _mm512_loadu_ps(ra + 32 * t + 16) : ninf;
                a = comb(comb(a, _mm512_loadu_ps(rb + 32 * t)), _mm512_loadu_ps(rc + 32 * t));
                b = comb(comb(b, _mm512_loadu_ps(rb + 32 * t + 16)), _mm512_loadu_ps(rc + 32 * t + 16));
                __m512 e = _mm512_permutex2var_ps(a, EVEN, b), o = _mm512_permutex2var_ps(a, ODD, b);
                __m512 o1 = _mm512_permutex2var_ps(prev, SHIFT, o);
                prev = o;
                __m512 m = comb(comb(o1, e), o);
                if (guard)
                    f |= _mm512_cmpeq_epi32_mask(_mm512_castps_si512(a), negz) | _mm512_cmpeq_epi32_mask(_mm512_castps_si512(b), negz) |
                         _mm512_cmp_ps_mask(m, m, _CMP_UNORD_Q);
                _mm512_stream_ps(yr + 16 * t, m);
            }
        }
    }
    *flag = f != 0;
}

typedef struct { int which; const float *x; float *y; long planes; int flag; } job;
static void *run_job(void *a) {
    job *j = a;
    if (j->which == 0) pool_R(j->x, j->y, j->planes); else if (j->which == 4) pool_M(j->x, j->y, j->planes); else if (j->which == 3) pool_H(j->x, j->y, j->planes); else pool_C(j->x, j->y, j->planes, j->which == 2, &j->flag);
    return NULL;
}
static int T = 1;
static int run(int which, const float *x, float *y, long planes) {
    pthread_t th[8]; job jb[8]; int f = 0;
    long per = planes / T;
    for (int t = 0; t < T; t++) { jb[t] = (job){which, x + t * per * H * W, y + t * per * OH * OW, per, 0}; if (t) pthread_create(&th[t], NULL, run_job, &jb[t]); }
    run_job(&jb[0]);
    for (int t = 1; t < T; t++) pthread_join(th[t], NULL);
    for (int t = 0; t < T; t++) f |= jb[t].flag;
    return f;
}
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
static int cmpd(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }

int main(int argc, char **argv) {
    int ev[16], od[16], sh[16];
    for (int i = 0; i < 16; i++) { ev[i] = 2 * i; od[i] = 2 * i + 1; sh[i] = i == 0 ? 15 : 16 + i - 1; }
    EVEN = _mm512_loadu_si512(ev); ODD = _mm512_loadu_si512(od); SHIFT = _mm512_loadu_si512(sh);
    long planes = 16 * 64;
    size_t nx = planes * H * W, ny = planes * OH * OW;
    float *x = aligned_alloc(64, nx * 4), *yr = aligned_alloc(64, ny * 4), *yc = aligned_alloc(64, ny * 4), *yg = aligned_alloc(64, ny * 4), *yh = aligned_alloc(64, ny * 4);
    uint64_t s = 88172645463325252ull;
    const char *mode = argc > 2 ? argv[2] : "normal";
    T = argc > 3 ? atoi(argv[3]) : 1;
    for (size_t i = 0; i < nx; i++) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        float v = (float)((double)(s >> 11) / 9007199254740992.0 * 2 - 1);
        if (!strcmp(mode, "ties")) v = (s >> 60) < 8 ? ((s >> 59) & 1 ? 0.0f : -0.0f) : -(float)((s >> 56) & 3);
        if (!strcmp(mode, "nan") && (s >> 58) < 4) { uint32_t u = 0x7fc00000u | (uint32_t)(s & 0x3fffff); memcpy(&v, &u, 4); }
        x[i] = v;
    }
    memset(yr, 0, ny * 4); memset(yc, 0, ny * 4); memset(yg, 0, ny * 4); memset(yh, 0, ny * 4);
    int runs = argc > 1 ? atoi(argv[1]) : 15, flag = 0;
    double tr[64], tc[64], tg[64], th[64];
    if (getenv("MB_MAXPS")) {
        /* R and M in turn, the order swapped each run */
        for (int r = 0; r < runs; r++)
            for (int q = 0; q < 2; q++) {
                int v = (q + r) % 2;
                double t0 = now();
                run(v ? 4 : 0, x, v ? yc : yr, planes);
                (v ? tc : tr)[r] = now() - t0;
            }
        qsort(tr, runs, sizeof(double), cmpd); qsort(tc, runs, sizeof(double), cmpd);
        size_t diff = 0;
        for (size_t i = 0; i < ny; i++) diff += memcmp(yr + i, yc + i, 4) != 0;
        printf("%s %d thread(s): R median %.2f ms (min %.2f) | M %.2f (%.2f) | M differs from R in %zu of %zu\n", mode, T,
               tr[runs / 2] * 1e3, tr[0] * 1e3, tc[runs / 2] * 1e3, tc[0] * 1e3, diff, ny);
        return 0;
    }
    for (int r = 0; r < runs; r++) {
        /* the four in turn, the order rotated each run (no variant always first) */
        float *ys[4] = {yr, yc, yg, yh};
        double *ts[4] = {tr, tc, tg, th};
        for (int q = 0; q < 4; q++) {
            int v = (q + r) % 4;
            double t0 = now();
            int fl = run(v == 3 ? 3 : v, x, ys[v], planes);
            ts[v][r] = now() - t0;
            if (v == 2) flag = fl;
        }
    }
    if (getenv("MB_DUMP")) { FILE *fx = fopen("x.raw","wb"); fwrite(x,4,nx,fx); fclose(fx); FILE *fy = fopen("yr.raw","wb"); fwrite(yr,4,ny,fy); fclose(fy); FILE *fc = fopen("yc.raw","wb"); fwrite(yc,4,ny,fc); fclose(fc);}
    qsort(tr, runs, sizeof(double), cmpd); qsort(tc, runs, sizeof(double), cmpd); qsort(tg, runs, sizeof(double), cmpd); qsort(th, runs, sizeof(double), cmpd);
    size_t diff = 0, diffh = 0;
    for (size_t i = 0; i < ny; i++) diffh += memcmp(yr + i, yh + i, 4) != 0;
    for (size_t i = 0; i < ny; i++) diff += memcmp(yr + i, yc + i, 4) != 0;
    printf("%s %d thread(s): R median %.2f ms (min %.2f) | C %.2f (%.2f) | G %.2f (%.2f) | H %.2f (%.2f) | C differs from R in %zu of %zu, H in %zu, flag %d\n", mode, T,
           tr[runs / 2] * 1e3, tr[0] * 1e3, tc[runs / 2] * 1e3, tc[0] * 1e3, tg[runs / 2] * 1e3, tg[0] * 1e3, th[runs / 2] * 1e3, th[0] * 1e3, diff, ny, diffh, flag);
    return 0;
}
