/* The floor: a plain pass that reads every input byte once and writes every output byte once,
 * in the order a pooling kernel does (row by row, the streams of a row advancing together in
 * proportional chunks), with nothing else to do: the bandwidth limit every figure is compared
 * with. Reads are summed into vector accumulators and the sums are what gets stored, so no
 * load can be dropped. Two variants, timed separately, the faster one reported: normal stores
 * and non-temporal stores (which skip the read-for-ownership of the destination line). Spans
 * start with scalar accesses up to a 64-byte boundary, so no vector access splits a line.
 * Rows are split across the pool; small work (under SMALL_BYTES per thread) runs on the
 * calling thread, as any sensible runtime does. */
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#define HAVE_NT_STORES 1
#else
#define HAVE_NT_STORES 0
#endif

#define CHUNK_FLOATS 1024
#define SMALL_BYTES (64 << 10)

typedef float v16 __attribute__((vector_size(64)));
typedef float v16u __attribute__((vector_size(64), aligned(4)));

typedef struct floor_state {
    const bench_config *cfg;
    int threads;
    bool nt;        /* the variant being run */
    int slot;
} floor_state;

/* One stream of a row: base pointer of the row, its length, and whether it is written. */
typedef struct stream {
    float *p;
    int64_t n;
    bool out;
} stream;

static inline __attribute__((always_inline)) void read_span(const float *p, int64_t n, v16 *sum) {
    v16 acc = *sum, a1 = {0}, a2 = {0}, a3 = {0};
    int64_t i = 0;
    for (; i < n && ((uintptr_t)(p + i) & 63) != 0; i++) acc[0] += p[i]; /* no split loads */
    for (; i + 64 <= n; i += 64) {
        acc += *(const v16u *)(p + i);
        a1 += *(const v16u *)(p + i + 16);
        a2 += *(const v16u *)(p + i + 32);
        a3 += *(const v16u *)(p + i + 48);
    }
    for (; i + 16 <= n; i += 16) acc += *(const v16u *)(p + i);
    for (; i < n; i++) acc[0] += p[i];
    *sum = acc + a1 + a2 + a3;
}

static inline __attribute__((always_inline)) void write_span(float *p, int64_t n, const v16 *value, bool nt) {
    v16 v = *value;
    int64_t i = 0;
#if HAVE_NT_STORES
    if (nt) {
        for (; i < n && ((uintptr_t)(p + i) & 63) != 0; i++) p[i] = v[i & 15];
        __m128 q0, q1, q2, q3;
        memcpy(&q0, (const float *)&v + 0, 16);
        memcpy(&q1, (const float *)&v + 4, 16);
        memcpy(&q2, (const float *)&v + 8, 16);
        memcpy(&q3, (const float *)&v + 12, 16);
        for (; i + 16 <= n; i += 16) {
            _mm_stream_ps(p + i, q0);
            _mm_stream_ps(p + i + 4, q1);
            _mm_stream_ps(p + i + 8, q2);
            _mm_stream_ps(p + i + 12, q3);
        }
    }
#endif
    for (; i < n && ((uintptr_t)(p + i) & 63) != 0; i++) p[i] = v[i & 15]; /* no split stores */
    for (; i + 16 <= n; i += 16) *(v16u *)(p + i) = v;
    for (; i < n; i++) p[i] = v[i & 15];
}

static inline __attribute__((always_inline)) void rows_body(const floor_state *s, int64_t r0, int64_t r1) {
    const bench_config *cfg = s->cfg;
    int slot = s->slot;
    for (int64_t r = r0; r < r1; r++) {
        stream st[4];
        int ns = 0;
        st[ns++] = (stream){cfg->x[slot] + r * cfg->l, cfg->l, false};
        if (cfg->g) st[ns++] = (stream){cfg->g[slot] + r * cfg->l_out, cfg->l_out, false};
        st[ns++] = (stream){cfg->y[slot] + r * cfg->l_out, cfg->l_out, true};
        if (cfg->dx) st[ns++] = (stream){cfg->dx[slot] + r * cfg->l, cfg->l, true};
        int64_t chunks = cfg->l / CHUNK_FLOATS;
        if (chunks < 1) chunks = 1;
        v16 acc = {0};
        for (int64_t k = 0; k < chunks; k++)
            for (int i = 0; i < ns; i++) {
                int64_t a = st[i].n * k / chunks, b = st[i].n * (k + 1) / chunks;
                if (st[i].out)
                    write_span(st[i].p + a, b - a, &acc, s->nt);
                else
                    read_span(st[i].p + a, b - a, &acc);
            }
    }
}

__attribute__((target("avx512f"))) static void rows_avx512(const floor_state *s, int64_t r0, int64_t r1) {
    rows_body(s, r0, r1);
}
static void rows_generic(const floor_state *s, int64_t r0, int64_t r1) { rows_body(s, r0, r1); }

static void floor_job(void *arg, int worker, int workers) {
    const floor_state *s = arg;
    int64_t rows = s->cfg->n * s->cfg->c;
    int64_t r0 = rows * worker / workers, r1 = rows * (worker + 1) / workers;
#if defined(__x86_64__) || defined(__i386__)
    if (__builtin_cpu_supports("avx512f"))
        rows_avx512(s, r0, r1);
    else
#endif
        rows_generic(s, r0, r1);
#if HAVE_NT_STORES
    if (s->nt) _mm_sfence();
#endif
}

static int floor_available(char *why, size_t n) { return 0; }

static bool floor_supports(const bench_config *cfg, int threads, char *why, size_t n) { return true; }

static int floor_setup(const bench_config *cfg, int threads, void **state, char *err, size_t n) {
    floor_state *s = calloc(1, sizeof *s);
    if (!s || bench_pool_start(threads) != 0) {
        free(s);
        snprintf(err, n, "cannot start %d threads", threads);
        return -1;
    }
    s->cfg = cfg;
    s->threads = threads;
    *state = s;
    return 0;
}

static int floor_run(void *state, int slot, char *err, size_t n) {
    floor_state *s = state;
    s->slot = slot;
    int64_t rows = s->cfg->n * s->cfg->c;
    int workers = s->threads;
    if (s->cfg->bytes / workers < SMALL_BYTES) workers = 1;
    if (workers > rows) workers = (int)rows;
    bench_pool_run(floor_job, s, workers);
    return 0;
}

void bench_floor_set_nt(void *state, bool nt) { ((floor_state *)state)->nt = nt && HAVE_NT_STORES; }

static void floor_teardown(void *state) { free(state); }

const bench_impl_ops bench_floor_ops = {
    .available = floor_available,
    .supports = floor_supports,
    .setup = floor_setup,
    .run = floor_run,
    .teardown = floor_teardown,
    .checked = false,
};
