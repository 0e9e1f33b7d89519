/* The memcpy row: a plain copy of as many bytes as a configuration's minimal traffic (bytes / 2
 * read from the inputs x then g, bytes / 2 written), split over the same threads the floor uses,
 * by the C library's memcpy. It stands beside the floor as a figure everyone knows: if the floor
 * falls well below it, the floor is not the machine's limit. Its destinations are private
 * buffers, one per rotation slot (a copy cannot write the case's shorter outputs), touched at
 * setup so that no run pays for page faults. */
#include <stdlib.h>
#include <string.h>

#include "bench.h"

typedef struct memcpy_state {
    const bench_config *cfg;
    int threads;
    int64_t half; /* bytes copied per run */
    char **dst;   /* n_rot buffers of `half` bytes */
    int slot;
} memcpy_state;

/* Copy bytes [off, off + len) of the inputs (x, then g, then x again should the outputs be
 * the larger half) into the same offsets of dst. */
static void copy_range(const memcpy_state *s, int64_t off, int64_t len) {
    const bench_config *cfg = s->cfg;
    const char *src[2] = {(const char *)cfg->x[s->slot], cfg->g ? (const char *)cfg->g[s->slot] : NULL};
    int64_t size[2] = {4 * bench_config_x_numel(cfg), cfg->g ? 4 * bench_config_y_numel(cfg) : 0};
    int64_t total = size[0] + size[1];
    char *dst = s->dst[s->slot];
    while (len > 0) {
        int64_t pos = off % total, i = pos < size[0] ? 0 : 1;
        int64_t in_span = pos - (i ? size[0] : 0), n = size[i] - in_span;
        if (n > len) n = len;
        memcpy(dst + off, src[i] + in_span, (size_t)n);
        off += n;
        len -= n;
    }
}

static void memcpy_job(void *arg, int worker, int workers) {
    const memcpy_state *s = arg;
    /* Part boundaries on 64-byte lines, so no destination line is shared by two threads. */
    int64_t a = s->half * worker / workers & ~(int64_t)63, b = s->half * (worker + 1) / workers & ~(int64_t)63;
    if (worker + 1 == workers) b = s->half;
    copy_range(s, a, b - a);
}

static int memcpy_available(char *why, size_t n) { return 0; }

static bool memcpy_supports(const bench_config *cfg, int threads, char *why, size_t n) { return true; }

static void memcpy_teardown(void *state) {
    memcpy_state *s = state;
    if (!s) return;
    for (int r = 0; s->dst && r < s->cfg->n_rot; r++) free(s->dst[r]);
    free(s->dst);
    free(s);
}

static int memcpy_setup(const bench_config *cfg, int threads, void **state, char *err, size_t n) {
    memcpy_state *s = bench_state_start(sizeof *s, threads, err, n);
    if (!s) return -1;
    *s = (memcpy_state){.cfg = cfg, .threads = threads, .half = cfg->bytes / 2};
    s->dst = calloc((size_t)cfg->n_rot, sizeof *s->dst);
    size_t alloc = ((size_t)s->half + 63) & ~(size_t)63;
    for (int r = 0; s->dst && r < cfg->n_rot; r++) {
        s->dst[r] = aligned_alloc(64, alloc ? alloc : 64);
        if (!s->dst[r]) break;
        memset(s->dst[r], 0, alloc);
    }
    if (!s->dst || !s->dst[cfg->n_rot - 1]) {
        memcpy_teardown(s);
        snprintf(err, n, "out of memory for %d x %lld bytes of copy destinations", cfg->n_rot, (long long)(cfg->bytes / 2));
        return -1;
    }
    *state = s;
    return 0;
}

static int memcpy_run(void *state, int slot, char *err, size_t n) {
    memcpy_state *s = state;
    s->slot = slot;
    bench_pool_run(memcpy_job, s, bench_stream_workers(s->cfg->bytes, s->threads));
    return 0;
}

const bench_impl_ops bench_memcpy_ops = {
    .available = memcpy_available,
    .supports = memcpy_supports,
    .setup = memcpy_setup,
    .run = memcpy_run,
    .teardown = memcpy_teardown,
    .checked = false,
};
