/* The arithmetic floor of a model case: the machine's FMA peak, measured in the same run as the
 * rows it is compared with (the clock of a virtual machine is unknown, and its share of the
 * host varies). A run does the configuration's FLOPs (bench_config.flops) as fused multiply-adds
 * on the widest vectors the CPU has, in independent chains (ACC accumulators: more than the
 * FMA latency times the FMA ports, so the chains never wait on each other), split over the
 * same threads as the rows. Nothing is read or written but the accumulators, so its time is
 * the shortest any implementation of those FLOPs could take; its GFLOP/s is the peak.
 *
 * The accumulators run a contraction towards a fixed point (a = a·m + c, m < 1) so that no
 * value ever overflows or turns subnormal, whatever the number of iterations. */
#include <stdlib.h>

#include "bench.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define PEAK_X86 1
#endif

/* Accumulators per loop: 12 covers a 4-cycle FMA on 2 ports (8) with room. */
#define ACC 12

typedef struct peak_state {
    const bench_config *cfg;
    int threads;
    int64_t iters; /* loop iterations per run, over all workers */
    float sink[BENCH_MAX_THREADS];
} peak_state;

static int lanes(void) {
#ifdef PEAK_X86
    if (__builtin_cpu_supports("avx512f")) return 16;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 8;
#endif
    return 1;
}

const char *bench_peak_variant_name(void) {
    int l = lanes();
    return l == 16 ? "fma-zmm" : l == 8 ? "fma-ymm" : "fma-scalar";
}

/* Twelve named accumulators (an array would live in memory: the compiler does not unroll the
 * loop over it at every optimization level, and a store-to-load chain is no FMA peak). */
#define ACC_DECL(T, init) T a0 = init(0), a1 = init(1), a2 = init(2), a3 = init(3), a4 = init(4), a5 = init(5), \
                          a6 = init(6), a7 = init(7), a8 = init(8), a9 = init(9), a10 = init(10), a11 = init(11)
#define ACC_STEP(f)                                                                                    \
    do {                                                                                               \
        a0 = f(a0, m, c), a1 = f(a1, m, c), a2 = f(a2, m, c), a3 = f(a3, m, c), a4 = f(a4, m, c);      \
        a5 = f(a5, m, c), a6 = f(a6, m, c), a7 = f(a7, m, c), a8 = f(a8, m, c), a9 = f(a9, m, c);      \
        a10 = f(a10, m, c), a11 = f(a11, m, c);                                                        \
    } while (0)
#define ACC_SUM(add) add(add(add(add(a0, a1), add(a2, a3)), add(add(a4, a5), add(a6, a7))), add(add(a8, a9), add(a10, a11)))

#ifdef PEAK_X86
#define SET512(k) _mm512_set1_ps((float)(k))
__attribute__((target("avx512f"))) static float loop_zmm(int64_t iters) {
    __m512 m = _mm512_set1_ps(0.999f), c = _mm512_set1_ps(1e-3f);
    ACC_DECL(__m512, SET512);
    for (int64_t i = 0; i < iters; i++) ACC_STEP(_mm512_fmadd_ps);
    return _mm512_reduce_add_ps(ACC_SUM(_mm512_add_ps));
}

#define SET256(k) _mm256_set1_ps((float)(k))
__attribute__((target("avx2,fma"))) static float loop_ymm(int64_t iters) {
    __m256 m = _mm256_set1_ps(0.999f), c = _mm256_set1_ps(1e-3f);
    ACC_DECL(__m256, SET256);
    for (int64_t i = 0; i < iters; i++) ACC_STEP(_mm256_fmadd_ps);
    float out[8], s = 0;
    _mm256_storeu_ps(out, ACC_SUM(_mm256_add_ps));
    for (int l = 0; l < 8; l++) s += out[l];
    return s;
}
#endif

#define SET1(k) ((float)(k))
#define ADD1(a, b) ((a) + (b))
static float loop_scalar(int64_t iters) {
    float m = 0.999f, c = 1e-3f;
    ACC_DECL(float, SET1);
    for (int64_t i = 0; i < iters; i++) ACC_STEP(__builtin_fmaf);
    return ACC_SUM(ADD1);
}

static void peak_job(void *arg, int worker, int workers) {
    peak_state *s = arg;
    int64_t iters = s->iters * (worker + 1) / workers - s->iters * worker / workers;
    float r;
#ifdef PEAK_X86
    int l = lanes();
    r = l == 16 ? loop_zmm(iters) : l == 8 ? loop_ymm(iters) : loop_scalar(iters);
#else
    r = loop_scalar(iters);
#endif
    s->sink[worker] = r; /* keeps the loop */
}

static int peak_available(char *why, size_t n) { return 0; }

static bool peak_supports(const bench_config *cfg, int threads, char *why, size_t n) {
    if (cfg->flops <= 0) {
        snprintf(why, n, "the FMA peak is the floor of the model cases only");
        return false;
    }
    return true;
}

static int peak_setup(const bench_config *cfg, int threads, void **state, char *err, size_t n) {
    peak_state *s = bench_state_start(sizeof *s, threads, err, n);
    if (!s) return -1;
    *s = (peak_state){.cfg = cfg, .threads = threads};
    double per_iter = 2.0 * ACC * lanes(); /* FLOPs of one iteration */
    s->iters = (int64_t)(cfg->flops / per_iter + 0.5);
    if (s->iters < 1) s->iters = 1;
    *state = s;
    return 0;
}

/* Small work (under ~1 MFLOP) stays on the caller, as the rows' own runtimes do. */
static int peak_run(void *state, int slot, char *err, size_t n) {
    peak_state *s = state;
    int workers = s->cfg->flops < 1e6 ? 1 : s->threads;
    bench_pool_run(peak_job, s, workers);
    return 0;
}

static void peak_teardown(void *state) { free(state); }

const bench_impl_ops bench_peak_ops = {
    .available = peak_available,
    .supports = peak_supports,
    .setup = peak_setup,
    .run = peak_run,
    .teardown = peak_teardown,
    .checked = false,
};
