/* The floor: the fastest of several plain passes that read every input byte once and write
 * every output byte once, with nothing else to do: the bandwidth limit every figure is compared
 * with. Reads are summed into vector accumulators and the sums are what gets stored, so no load
 * can be dropped. Spans start with scalar accesses up to a 64-byte boundary, so no vector access
 * splits a line.
 *
 * The work is a sequence of units: row r, chunk k of the row, in which every stream of the row
 * (x, g read; y, dx written) advances by its own share, the order a pooling kernel uses. How
 * fast such a pass goes depends on details that no single choice wins everywhere (measured in
 * bench/README.md), so the driver times every variant of this table in the same run and reports
 * the fastest, naming it:
 *   - stores: normal, or non-temporal (no read-for-ownership of the destination line);
 *   - software prefetch of the read streams 512, 2048 or 4096 bytes ahead past the caches
 *     (`prefetchnta`), 2048 or 4096 bytes ahead into L1 (`prefetcht0`, as the JIT's stream
 *     prefetch does), or none;
 *   - chunk: 1024 input floats per unit, or 64 (one 16-float vector of output per unit at
 *     stride 4, as a short-window kernel writes it);
 *   - split over threads: contiguous blocks of units per thread, or blocks of 16 KiB of input
 *     dealt round-robin (interleaved), as a dynamic or cyclic schedule would;
 *   - forward+backward in two passes (x to y, then g to dx: two streams at a time, as the JIT
 *     runs overlapping windows, in two kernels), or all four streams together;
 *   - lockstep: whole rows with every stream 1, 2 or 4 64-byte lines at a time in proportion,
 *     as a fused kernel's vector trips move them (lock_row), with or without prefetch.
 * Loads and stores are as wide as the CPU's vectors (AVX-512, AVX2, else SSE2), as the JIT's
 * kernels are: streaming stores write a line in one 64-byte store with AVX-512 and two 32-byte
 * ones with AVX2. Not the full product: every variant takes its share of the row's timing
 * budget, so prefetch goes with 1024-float chunks, contiguous blocks and lockstep rows only
 * (27 variants; 21 for a forward pass on one thread, where the interleaved split is the
 * contiguous one and there is one pass).
 * Small work (under SMALL_BYTES per thread) runs on the calling thread, as any sensible runtime
 * does. */
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_NT_STORES 1
#else
#define HAVE_NT_STORES 0
#endif

#define SMALL_BYTES (64 << 10)
#define INTERLEAVE_FLOATS 4096 /* input floats per round-robin block of the interleaved split */

typedef struct floor_variant {
    const char *name;
    bool nt;
    int prefetch_bytes; /* 0, 512, 2048 or 4096: the instantiations of units_body below */
    bool t0;            /* prefetch into L1 (locality 3, prefetcht0), not past the caches (0, prefetchnta) */
    int chunk_floats;
    bool interleaved;
    bool two_pass;
    bool lockstep; /* whole rows, every stream a line at a time in proportion (lock_row) */
    int lock_lines; /* lockstep: lines a stream moves at a time (else 0) */
} floor_variant;

static const floor_variant VARIANTS[] = {
    {"st", false, 0, false, 1024, false, false, false, 0},
    {"nt", true, 0, false, 1024, false, false, false, 0},
    {"st-pf512", false, 512, false, 1024, false, false, false, 0},
    {"nt-pf512", true, 512, false, 1024, false, false, false, 0},
    {"st-pf2048", false, 2048, false, 1024, false, false, false, 0},
    {"nt-pf2048", true, 2048, false, 1024, false, false, false, 0},
    {"st-pf4096", false, 4096, false, 1024, false, false, false, 0},
    {"nt-pf4096", true, 4096, false, 1024, false, false, false, 0},
    {"st-fine", false, 0, false, 64, false, false, false, 0},
    {"nt-fine", true, 0, false, 64, false, false, false, 0},
    {"st-il", false, 0, false, 1024, true, false, false, 0},
    {"nt-il", true, 0, false, 1024, true, false, false, 0},
    {"st-2pass", false, 0, false, 1024, false, true, false, 0},
    {"nt-2pass", true, 0, false, 1024, false, true, false, 0},
    {"st-pf2048-2pass", false, 2048, false, 1024, false, true, false, 0},
    {"nt-pf2048-2pass", true, 2048, false, 1024, false, true, false, 0},
    {"st-lock", false, 0, false, 0, false, false, true, 1},
    {"nt-lock", true, 0, false, 0, false, false, true, 1},
    {"st-pf2048-lock", false, 2048, false, 0, false, false, true, 1},
    {"nt-pf2048-lock", true, 2048, false, 0, false, false, true, 1},
    {"st-pf2048t0-lock", false, 2048, true, 0, false, false, true, 1},
    {"nt-pf2048t0-lock", true, 2048, true, 0, false, false, true, 1},
    {"nt-pf4096t0-lock", true, 4096, true, 0, false, false, true, 1},
    {"nt-pf2048t0", true, 2048, true, 1024, false, false, false, 0},
    {"nt-pf2048t0-lock2", true, 2048, true, 0, false, false, true, 2},
    {"nt-pf4096t0-lock2", true, 4096, true, 0, false, false, true, 2},
    {"nt-pf2048t0-lock4", true, 2048, true, 0, false, false, true, 4},
};
#define N_VARIANTS ((int)(sizeof VARIANTS / sizeof VARIANTS[0]))

typedef float v16 __attribute__((vector_size(64)));
typedef float v16u __attribute__((vector_size(64), aligned(4)));

typedef struct floor_state {
    const bench_config *cfg;
    int threads;
    const floor_variant *v; /* the variant being run */
    int slot;
} floor_state;

/* One stream of a row: base pointer of the row, its length, and whether it is written. */
typedef struct stream {
    float *p;
    int64_t n;
    bool out;
    int64_t share; /* n / chunks: a chunk's part of the row */
} stream;

/* A prefetch of the line at p for reading, into L1 (`t0`) or past the caches: the locality
 * must be a constant, so a branch that folds where the caller is instantiated. */
static inline __attribute__((always_inline)) void prefetch_line(const void *p, bool t0) {
    if (t0)
        __builtin_prefetch(p, 0, 3);
    else
        __builtin_prefetch(p, 0, 0);
}

static inline __attribute__((always_inline)) void read_span(const float *p, int64_t n, v16 *sum, int pf, bool t0) {
    v16 acc = *sum, a1 = {0}, a2 = {0}, a3 = {0};
    int64_t i = 0;
    for (; i < n && ((uintptr_t)(p + i) & 63) != 0; i++) acc[0] += p[i]; /* no split loads */
    for (; i + 64 <= n; i += 64) {
        if (pf) {
            const char *ahead = (const char *)(p + i) + pf; /* a hint: past the end is harmless */
            prefetch_line(ahead, t0);
            prefetch_line(ahead + 64, t0);
            prefetch_line(ahead + 128, t0);
            prefetch_line(ahead + 192, t0);
        }
        acc += *(const v16u *)(p + i);
        a1 += *(const v16u *)(p + i + 16);
        a2 += *(const v16u *)(p + i + 32);
        a3 += *(const v16u *)(p + i + 48);
    }
    for (; i + 16 <= n; i += 16) acc += *(const v16u *)(p + i);
    for (; i < n; i++) acc[0] += p[i];
    *sum = acc + a1 + a2 + a3;
}

#if HAVE_NT_STORES
/* A 64-byte streaming store, and two 32-byte ones. Not always_inline: GCC inlines each into
 * the instantiations below whose target includes its own, and the others never reach it
 * (unoptimized builds keep a call that is never taken). */
__attribute__((target("avx512f"))) static inline void stream_line_avx512(float *p, v16 v) {
    _mm512_stream_ps(p, (__m512)v);
}
__attribute__((target("avx2"))) static inline void stream_line_avx2(float *p, v16 v) {
    __m256 h[2];
    memcpy(h, &v, sizeof h);
    _mm256_stream_ps(p, h[0]);
    _mm256_stream_ps(p + 8, h[1]);
}
#endif

/* One whole 64-byte line at p (64-byte aligned) from v: a plain store, or a streaming one,
 * as a single 64-byte store where the instantiation has AVX-512 (`vec` 64), two 32-byte ones
 * with AVX2 (32) and four 16-byte ones elsewhere. The AVX2 form is what a JIT kernel for an
 * AVX2 target emits, and on the AVX2 host of bench/README.md the floor's SSE2 loops (four
 * 16-byte loads a line) lost to the JIT's forwards by up to a fifth. The single store is what a JIT kernel for an AVX-512 target emits; on the
 * AVX-512 host measured (bench/README.md, 2026-12-04) it took AvgPool1d(4)'s forward+backward
 * floor on one thread (`nt-pf2048`) from 19.5 ms to 15.0-16.6, where the four left the line to
 * be merged in a write-combining buffer. */
static inline __attribute__((always_inline)) void write_line(float *p, v16 v, bool nt, int vec) {
#if HAVE_NT_STORES
    if (nt && vec == 64) {
        stream_line_avx512(p, v);
        return;
    }
    if (nt && vec == 32) {
        stream_line_avx2(p, v);
        return;
    }
    if (nt) {
        __m128 q[4];
        memcpy(q, &v, sizeof q);
        for (int j = 0; j < 4; j++) _mm_stream_ps(p + 4 * j, q[j]);
        return;
    }
#endif
    *(v16 *)p = v;
}

static inline __attribute__((always_inline)) void write_span(float *p, int64_t n, const v16 *value, bool nt,
                                                             int vec) {
    v16 v = *value;
    int64_t i = 0;
    for (; i < n && ((uintptr_t)(p + i) & 63) != 0; i++) p[i] = v[i & 15]; /* no split stores */
    for (; i + 16 <= n; i += 16) write_line(p + i, v, nt, vec);
    for (; i < n; i++) p[i] = v[i & 15];
}

/* Where chunk k of a stream's row starts: k whole shares of the row (the last chunk takes
 * what is left), moved up to the next 64-byte line, so that two chunks never write parts of
 * one line. A row whose length is not a whole number of lines (LPPool1d(2, 4, 2)'s 32767
 * outputs) otherwise has a line split between two chunks at every chunk boundary, written half
 * by one chunk's scalar tail and half by the next one's head, which costs streaming stores
 * dearly. A share is a multiplication, not n·k / chunks: with 64-float chunks, two 64-bit
 * divisions per stream per chunk made the fine variants slower than the kernels they bound
 * (bench/README.md). */
static inline __attribute__((always_inline)) int64_t span_start(const stream *s, int64_t k, int64_t chunks) {
    if (k == 0) return 0;
    if (k >= chunks) return s->n;
    int64_t a = k * s->share;
    uintptr_t addr = (uintptr_t)(s->p + a);
    a += (int64_t)(((64 - (addr & 63)) & 63) / sizeof(float));
    return a < s->n ? a : s->n;
}

static int64_t chunks_per_row(const bench_config *cfg, const floor_variant *v) {
    if (v->lockstep) return 1;
    int64_t k = cfg->l / v->chunk_floats;
    return k < 1 ? 1 : k;
}

/* n elements of a stream from p: read into *sum, or written from *value. */
static inline __attribute__((always_inline)) void span(const stream *st, float *p, int64_t n, v16 *sum,
                                                       const v16 *value, bool nt, int vec) {
    if (st->out)
        write_span(p, n, value, nt, vec);
    else
        read_span(p, n, sum, 0, false);
}

/* A whole row with its streams in lockstep, as a fused kernel walks them: each stream's head
 * up to its first 64-byte line and its tail after its last whole line by scalar accesses, and
 * between them one line at a time, the longest stream a line every step and each shorter one a
 * line whenever its share of the steps comes due (a Bresenham count), so that x and dx (or g
 * and y) move together at every point of the row as a kernel's vector trips move them. Each
 * read stream sums into its own accumulator, so no stream waits on another's adds. */
static inline __attribute__((always_inline)) void lock_row(const stream *st, int ns, v16 *acc, bool nt, int pf,
                                                           bool t0, int lw, int vec) {
    float *q[4];
    int64_t lines[4], due[4] = {0}, most = 0;
    v16 sums[4] = {*acc};
    for (int i = 0; i < ns; i++) {
        int64_t head = (int64_t)(((64 - ((uintptr_t)st[i].p & 63)) & 63) / sizeof(float));
        if (head > st[i].n) head = st[i].n;
        lines[i] = (st[i].n - head) / (16 * lw);
        if (lines[i] > most) most = lines[i];
        q[i] = st[i].p + head;
        span(&st[i], st[i].p, head, &sums[i], acc, nt, vec);
    }
    /* unrolled over the (at most 4) streams, so that each stream's accumulator, pointer and
     * count stay in registers */
    for (int64_t step = 0; step < most; step++)
#pragma GCC unroll 4
        for (int i = 0; i < 4; i++) {
            if (i >= ns) break;
            due[i] += lines[i];
            if (due[i] < most) continue;
            due[i] -= most;
            if (st[i].out) {
                for (int j = 0; j < lw; j++) write_line(q[i] + 16 * j, *acc, nt, vec);
            } else {
                for (int j = 0; j < lw; j++) {
                    if (pf) prefetch_line((const char *)(q[i] + 16 * j) + pf, t0);
                    sums[i] += *(const v16 *)(q[i] + 16 * j);
                }
            }
            q[i] += 16 * lw;
        }
    for (int i = 0; i < ns; i++) span(&st[i], q[i], st[i].p + st[i].n - q[i], &sums[i], acc, nt, vec);
    *acc = sums[0] + sums[1] + sums[2] + sums[3];
}

/* Which streams a pass moves. */
enum { STREAM_X = 1, STREAM_G = 2, STREAM_Y = 4, STREAM_DX = 8, STREAMS_ALL = 15 };

/* Units [u0, u1) of the streams in `mask`: unit u is chunk u % K of row u / K. */
static inline __attribute__((always_inline)) void units_body(const floor_state *s, int64_t u0, int64_t u1, int mask,
                                                             bool nt, int pf, bool t0, int lw, int vec) {
    const bench_config *cfg = s->cfg;
    int slot = s->slot;
    int64_t chunks = chunks_per_row(cfg, s->v);
    int64_t share_in = cfg->l / chunks, share_out = cfg->l_out / chunks;
    v16 acc = {0};
    for (int64_t u = u0; u < u1;) {
        int64_t r = u / chunks, k0 = u % chunks, k1 = chunks;
        if (k1 - k0 > u1 - u) k1 = k0 + (u1 - u);
        stream st[4];
        int ns = 0;
        if (mask & STREAM_X) st[ns++] = (stream){cfg->x[slot] + r * cfg->l, cfg->l, false, share_in};
        if (cfg->g && (mask & STREAM_G))
            st[ns++] = (stream){cfg->g[slot] + r * cfg->l_out, cfg->l_out, false, share_out};
        if (mask & STREAM_Y) st[ns++] = (stream){cfg->y[slot] + r * cfg->l_out, cfg->l_out, true, share_out};
        if (cfg->dx && (mask & STREAM_DX)) st[ns++] = (stream){cfg->dx[slot] + r * cfg->l, cfg->l, true, share_in};
        if (s->v->lockstep) {
            lock_row(st, ns, &acc, nt, pf, t0, lw, vec);
            u++;
            continue;
        }
        for (int64_t k = k0; k < k1; k++)
            for (int i = 0; i < ns; i++) {
                int64_t a = span_start(&st[i], k, chunks), b = span_start(&st[i], k + 1, chunks);
                if (st[i].out)
                    write_span(st[i].p + a, b - a, &acc, nt, vec);
                else
                    read_span(st[i].p + a, b - a, &acc, pf, t0);
            }
        u += k1 - k0;
    }
}

typedef void (*units_fn)(const floor_state *s, int64_t u0, int64_t u1, int mask);

/* One instantiation per (stores, prefetch distance and level, lines a lockstep unit moves), so
 * that none is a branch in the loops; AVX-512 or AVX2 where the CPU has it. */
#define UNITS(name, target, nt, pf, t0, lw, vec)                                                      \
    target static void name(const floor_state *s, int64_t u0, int64_t u1, int mask) {                 \
        units_body(s, u0, u1, mask, nt, pf, t0, lw, vec);                                             \
    }
#define UNITS_ALL(suffix, target, vec)                                                                \
    UNITS(units_st##suffix, target, false, 0, false, 1, vec)                                          \
    UNITS(units_nt##suffix, target, true, 0, false, 1, vec)                                           \
    UNITS(units_st_pf512##suffix, target, false, 512, false, 1, vec)                                  \
    UNITS(units_nt_pf512##suffix, target, true, 512, false, 1, vec)                                   \
    UNITS(units_st_pf2048##suffix, target, false, 2048, false, 1, vec)                                \
    UNITS(units_nt_pf2048##suffix, target, true, 2048, false, 1, vec)                                 \
    UNITS(units_st_pf4096##suffix, target, false, 4096, false, 1, vec)                                \
    UNITS(units_nt_pf4096##suffix, target, true, 4096, false, 1, vec)                                 \
    UNITS(units_st_pf2048t0##suffix, target, false, 2048, true, 1, vec)                               \
    UNITS(units_nt_pf2048t0##suffix, target, true, 2048, true, 1, vec)                                \
    UNITS(units_nt_pf4096t0##suffix, target, true, 4096, true, 1, vec)                                \
    UNITS(units_nt_pf2048t0x2##suffix, target, true, 2048, true, 2, vec)                              \
    UNITS(units_nt_pf4096t0x2##suffix, target, true, 4096, true, 2, vec)                              \
    UNITS(units_nt_pf2048t0x4##suffix, target, true, 2048, true, 4, vec)                              \
    static const units_choice units_table##suffix[] = {                                               \
        {false, 0, false, 1, units_st##suffix},           {true, 0, false, 1, units_nt##suffix},      \
        {false, 512, false, 1, units_st_pf512##suffix},   {true, 512, false, 1, units_nt_pf512##suffix}, \
        {false, 2048, false, 1, units_st_pf2048##suffix}, {true, 2048, false, 1, units_nt_pf2048##suffix}, \
        {false, 4096, false, 1, units_st_pf4096##suffix}, {true, 4096, false, 1, units_nt_pf4096##suffix}, \
        {false, 2048, true, 1, units_st_pf2048t0##suffix}, {true, 2048, true, 1, units_nt_pf2048t0##suffix}, \
        {true, 4096, true, 1, units_nt_pf4096t0##suffix}, {true, 2048, true, 2, units_nt_pf2048t0x2##suffix}, \
        {true, 4096, true, 2, units_nt_pf4096t0x2##suffix}, {true, 2048, true, 4, units_nt_pf2048t0x4##suffix}};

/* An instantiation and what it was made for. */
typedef struct units_choice {
    bool nt;
    int prefetch_bytes;
    bool t0;
    int lock_lines;
    units_fn fn;
} units_choice;
#define AVX512 __attribute__((target("avx512f")))
#define AVX2 __attribute__((target("avx2")))
UNITS_ALL(_avx512, AVX512, 64)
UNITS_ALL(_avx2, AVX2, 32)
UNITS_ALL(, , 16)

static units_fn find_units(const units_choice *table, size_t n, const floor_variant *v) {
    bool nt = v->nt && HAVE_NT_STORES;
    for (size_t i = 0; i < n; i++)
        if (table[i].nt == nt && table[i].prefetch_bytes == v->prefetch_bytes && table[i].t0 == v->t0 &&
            table[i].lock_lines == (v->lockstep ? v->lock_lines : 1))
            return table[i].fn;
    abort(); /* a variant without its instantiation: a mistake in this file */
}
#define FIND_UNITS(table, v) find_units(table, sizeof table / sizeof table[0], v)

static units_fn pick_units(const floor_variant *v) {
#if defined(__x86_64__) || defined(__i386__)
    if (__builtin_cpu_supports("avx512f")) return FIND_UNITS(units_table_avx512, v);
    if (__builtin_cpu_supports("avx2")) return FIND_UNITS(units_table_avx2, v);
#endif
    return FIND_UNITS(units_table, v);
}

static void floor_job(void *arg, int worker, int workers) {
    const floor_state *s = arg;
    const bench_config *cfg = s->cfg;
    units_fn run = pick_units(s->v);
    int64_t units = cfg->n * cfg->c * chunks_per_row(cfg, s->v);
    /* Two passes need no barrier between them: they touch different buffers. */
    static const int passes[2][2] = {{STREAMS_ALL, 0}, {STREAM_X | STREAM_Y, STREAM_G | STREAM_DX}};
    for (int p = 0; p < 2 && passes[s->v->two_pass][p]; p++) {
        int mask = passes[s->v->two_pass][p];
        if (!s->v->interleaved || workers == 1) {
            run(s, units * worker / workers, units * (worker + 1) / workers, mask);
        } else {
            int64_t block = INTERLEAVE_FLOATS / s->v->chunk_floats;
            if (block < 1) block = 1;
            for (int64_t u = block * worker; u < units; u += block * workers)
                run(s, u, u + block < units ? u + block : units, mask);
        }
    }
#if HAVE_NT_STORES
    if (s->v->nt) _mm_sfence();
#endif
}

static int floor_available(char *why, size_t n) { return 0; }

static bool floor_supports(const bench_config *cfg, int threads, char *why, size_t n) { return true; }

static int floor_setup(const bench_config *cfg, int threads, void **state, char *err, size_t n) {
    floor_state *s = bench_state_start(sizeof *s, threads, err, n);
    if (!s) return -1;
    *s = (floor_state){.cfg = cfg, .threads = threads, .v = &VARIANTS[0]};
    *state = s;
    return 0;
}

/* Workers for a pass of `bytes` on `threads`: small work stays on the caller. Shared with the
 * memcpy row, which must split the same way. */
int bench_stream_workers(int64_t bytes, int threads) { return bytes / threads < SMALL_BYTES ? 1 : threads; }

static int floor_run(void *state, int slot, char *err, size_t n) {
    floor_state *s = state;
    s->slot = slot;
    int64_t units = s->cfg->n * s->cfg->c * chunks_per_row(s->cfg, s->v);
    int workers = bench_stream_workers(s->cfg->bytes, s->threads);
    if (workers > units) workers = (int)units;
    bench_pool_run(floor_job, s, workers);
    return 0;
}

int bench_floor_variant_count(void) { return N_VARIANTS; }

/* An interleaved split on one thread is the contiguous one, two passes of a forward pass are
 * one: neither is timed twice. */
bool bench_floor_variant_applies(const bench_config *cfg, int variant, int threads) {
    return (threads > 1 || !VARIANTS[variant].interleaved) && (cfg->g || !VARIANTS[variant].two_pass);
}

const char *bench_floor_variant_name(int variant) { return VARIANTS[variant].name; }

void bench_floor_set_variant(void *state, int variant) { ((floor_state *)state)->v = &VARIANTS[variant]; }

static void floor_teardown(void *state) { free(state); }

const bench_impl_ops bench_floor_ops = {
    .available = floor_available,
    .supports = floor_supports,
    .setup = floor_setup,
    .run = floor_run,
    .teardown = floor_teardown,
    .checked = false,
};
