/* jit: a compiled Lucid program (lc_compile once at setup; only lc_program_run_into is
 * timed), run into the configuration's buffers with `threads` as its thread budget. Also the
 * compile records: cold (in-memory cache cleared before each compile, disk cache off) and
 * cached (the same graph compiled again: a cache hit).
 *
 * Built only when the library has the JIT (LUCID_BENCH_HAVE_JIT, set by bench/CMakeLists.txt
 * when lc_program_run_into is defined); otherwise the impl reports itself unavailable. */
#include <stdlib.h>
#include <string.h>

#include "bench_graphs.h"
#include "bench_jit.h"

#ifdef LUCID_BENCH_HAVE_JIT
#include "lucid/passes.h"
#include "lucid/program.h"
#include "support/error.h"

typedef struct jit_state {
    const bench_config *cfg;
    lc_program *program;
    int n_in, n_out;
} jit_state;

static int jit_available(char *why, size_t n) { return 0; }

static bool jit_supports(const bench_config *cfg, int threads, char *why, size_t n) {
    if (cfg->pass == BENCH_FWDBWD && !bench_have_autodiff()) {
        snprintf(why, n, "fwdbwd needs lc_autodiff, which this build of the library lacks");
        return false;
    }
    return true;
}

/* The graph a user would compile: built, then the default passes (autodiff is already
 * applied by bench_build_graph for fwdbwd). */
static lc_status compile_config(const bench_config *cfg, int threads, lc_program **out) {
    lc_graph *g = NULL, *opt = NULL;
    LC_TRY(bench_build_graph(cfg, &g));
    lc_status st = lc_pipeline_run_default(g, false, NULL, &opt);
    lc_graph_free(g);
    if (st != LC_OK) return st;
    lc_compile_options o = lc_compile_options_default();
    o.threads = threads;
    st = lc_compile(opt, &o, out);
    lc_graph_free(opt);
    return st;
}

static int jit_setup(const bench_config *cfg, int threads, void **state, char *err, size_t n) {
    if (lc_runtime_threads() < threads && lc_runtime_set_threads(threads) != LC_OK) {
        snprintf(err, n, "cannot start %d threads: %s", threads, lc_last_error());
        return -1;
    }
    jit_state *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, n, "out of memory");
        return -1;
    }
    s->cfg = cfg;
    if (compile_config(cfg, threads, &s->program) != LC_OK) {
        snprintf(err, n, "compiling: %s", lc_last_error());
        free(s);
        return -1;
    }
    s->n_in = lc_program_input_count(s->program);
    s->n_out = lc_program_output_count(s->program);
    *state = s;
    return 0;
}

static int jit_run(void *state, int slot, char *err, size_t n) {
    jit_state *s = state;
    const bench_config *cfg = s->cfg;
    lc_tensor x, g, y, dx;
    bench_wrap_tensor(&x, cfg->x[slot], bench_config_x_shape(cfg));
    bench_wrap_tensor(&y, cfg->y[slot], bench_config_y_shape(cfg));
    if (cfg->g) {
        bench_wrap_tensor(&g, cfg->g[slot], bench_config_y_shape(cfg));
        bench_wrap_tensor(&dx, cfg->dx[slot], bench_config_x_shape(cfg));
    }
    const lc_tensor *in[2] = {&x, &g};
    lc_tensor *out[2] = {&y, &dx};
    if (lc_program_run_into(s->program, in, s->n_in, out, s->n_out) != LC_OK) {
        snprintf(err, n, "%s", lc_last_error());
        return -1;
    }
    return 0;
}

/* Scratch the program holds for a run (it keeps finished runs' blocks, so after the untracked
 * first run the tracked one allocates nothing: the program's own figure counts it). */
static int64_t jit_scratch_bytes(void *state) { return lc_program_scratch_bytes(((jit_state *)state)->program); }

static void jit_teardown(void *state) {
    jit_state *s = state;
    lc_program_free(s->program);
    free(s);
}

const bench_impl_ops bench_jit_ops = {
    .available = jit_available,
    .supports = jit_supports,
    .setup = jit_setup,
    .run = jit_run,
    .setup_extra_bytes = jit_scratch_bytes,
    .teardown = jit_teardown,
    .checked = true,
};

#define COLD_REPEATS 5
#define CACHED_REPEATS 50

int bench_jit_compile_times(const bench_config *cfg, double *cold_ms, double *cached_ms, char *err, size_t n) {
    double cold[COLD_REPEATS], cached[CACHED_REPEATS];
    lc_program *p = NULL;
    for (int i = 0; i < COLD_REPEATS; i++) {
        lc_compile_cache_clear();
        double t = bench_now_s();
        lc_status st = compile_config(cfg, 0, &p);
        cold[i] = 1e3 * (bench_now_s() - t);
        lc_program_free(p);
        p = NULL;
        if (st != LC_OK) {
            snprintf(err, n, "compiling: %s", lc_last_error());
            return -1;
        }
    }
    for (int i = 0; i < CACHED_REPEATS; i++) {
        double t = bench_now_s();
        lc_status st = compile_config(cfg, 0, &p);
        cached[i] = 1e3 * (bench_now_s() - t);
        lc_program_free(p);
        p = NULL;
        if (st != LC_OK) {
            snprintf(err, n, "compiling: %s", lc_last_error());
            return -1;
        }
    }
    *cold_ms = bench_median(cold, COLD_REPEATS);
    *cached_ms = bench_median(cached, CACHED_REPEATS);
    return 0;
}

#else /* no JIT in this build of the library */

static int jit_available(char *why, size_t n) {
    snprintf(why, n, "this build of the library has no JIT (lc_program_run_into); rebuild once it lands");
    return -1;
}

const bench_impl_ops bench_jit_ops = {.available = jit_available};

int bench_jit_compile_times(const bench_config *cfg, double *cold_ms, double *cached_ms, char *err, size_t n) {
    snprintf(err, n, "no JIT in this build");
    return -1;
}
#endif
