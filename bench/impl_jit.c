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
#include "lucid/model_spec.h"
#include "lucid/passes.h"
#include "lucid/program.h"
#include "lucid/train.h"
#include "support/error.h"

static void jit_teardown(void *state);

typedef struct jit_state {
    const bench_config *cfg;
    lc_program *program;
    int n_in, n_out;
    /* train: the step, the model it updates (its own copy, from the initial parameters) and
     * the loss */
    lc_train_step *step;
    lc_module *model, *loss_fn;
    double last_loss;
} jit_state;

static void jit_teardown(void *state) {
    jit_state *s = state;
    lc_program_free(s->program);
    lc_train_step_free(s->step);
    lc_module_free(s->model);
    lc_module_free(s->loss_fn);
    free(s);
}

static int jit_available(char *why, size_t n) { return 0; }

static bool jit_supports(const bench_config *cfg, int threads, char *why, size_t n) {
    if (cfg->pass == BENCH_FWDBWD && !bench_have_autodiff()) {
        snprintf(why, n, "fwdbwd needs lc_autodiff, which this build of the library lacks");
        return false;
    }
    return true;
}

/* Set the model's parameters to the configuration's initial values. */
static lc_status load_initial_params(const bench_config *cfg, lc_module *model) {
    for (int k = 0; k < cfg->n_params; k++) {
        char name[64];
        lc_tensor *t;
        LC_TRY(lc_module_param_at(model, k, name, sizeof name, &t));
        memcpy(t->data, cfg->param[k], (size_t)cfg->param_numel[k] * sizeof(float));
    }
    return LC_OK;
}

/* train: the model from its spec with the initial parameters, MSELoss and one compiled step
 * (forward, loss, backward, SGD), as docs/examples/train.c builds it. */
static lc_status compile_train(const bench_config *cfg, int threads, bool tiered, jit_state *s) {
    LC_TRY(lc_model_parse(cfg->model_spec, cfg->bc->name, &s->model));
    LC_TRY(load_initial_params(cfg, s->model));
    lc_mseloss_params mse = lc_mseloss_defaults();
    LC_TRY(lc_mseloss_new(&mse, &s->loss_fn));
    lc_train_options o = lc_train_options_default(cfg->sgd_lr);
    o.compile.threads = threads;
    o.compile.tiered = tiered;
    int64_t dims[3] = {cfg->n, cfg->c, cfg->l};
    return lc_train_step_compile_module(s->model, s->loss_fn, LC_F32, lc_shape_make(3, dims), &o, &s->step);
}

/* The graph a user would compile: built, then the default passes (autodiff is already
 * applied by bench_build_graph for fwdbwd). */
static lc_status compile_config(const bench_config *cfg, int threads, bool tiered, lc_program **out) {
    lc_graph *g = NULL, *opt = NULL;
    LC_TRY(bench_build_graph(cfg, &g));
    lc_status st = lc_pipeline_run_default(g, false, NULL, &opt);
    lc_graph_free(g);
    if (st != LC_OK) return st;
    lc_compile_options o = lc_compile_options_default();
    o.threads = threads;
    o.tiered = tiered;
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
    /* the rows time the code a program settles on: its optimized tier from the first run */
    lc_status st = cfg->pass == BENCH_TRAIN ? compile_train(cfg, threads, false, s)
                                            : compile_config(cfg, threads, false, &s->program);
    if (st != LC_OK) {
        snprintf(err, n, "compiling: %s", lc_last_error());
        jit_teardown(s);
        return -1;
    }
    if (s->program) {
        s->n_in = lc_program_input_count(s->program);
        s->n_out = lc_program_output_count(s->program);
    }
    *state = s;
    return 0;
}

/* A model's run: inputs x, the parameters (and g); outputs y (and dx, the parameter
 * gradients). train: one step of the compiled training program on x and the target. */
static int model_run(jit_state *s, int slot, char *err, size_t n) {
    const bench_config *cfg = s->cfg;
    lc_tensor x, g, y, dx, p[BENCH_MAX_PARAMS], dp[BENCH_MAX_PARAMS];
    bench_wrap_tensor(&x, cfg->x[slot], bench_config_x_shape(cfg));
    bench_wrap_tensor(&g, cfg->g ? cfg->g[slot] : NULL, bench_config_y_shape(cfg));
    lc_status st;
    if (cfg->pass == BENCH_TRAIN) {
        double loss;
        st = lc_train_step_run_module(s->step, &x, &g, &loss);
        if (st == LC_OK) s->last_loss = loss;
    } else {
        bench_wrap_tensor(&y, cfg->y[slot], bench_config_y_shape(cfg));
        if (cfg->dx) bench_wrap_tensor(&dx, cfg->dx[slot], bench_config_x_shape(cfg));
        const lc_tensor *in[2 + BENCH_MAX_PARAMS];
        lc_tensor *out[2 + BENCH_MAX_PARAMS];
        int n_in = 0, n_out = 0;
        in[n_in++] = &x;
        out[n_out++] = &y;
        if (cfg->dx) out[n_out++] = &dx;
        for (int k = 0; k < cfg->n_params; k++) {
            p[k] = (lc_tensor){.dtype = LC_F32, .shape = lc_shape_make(cfg->param_rank[k], cfg->param_shape[k]),
                               .data = cfg->param[k]};
            dp[k] = p[k];
            dp[k].data = cfg->dparam[k];
            in[n_in++] = &p[k];
            if (cfg->dx) out[n_out++] = &dp[k];
        }
        if (cfg->g) in[n_in++] = &g;
        if (n_in != s->n_in || n_out != s->n_out) {
            snprintf(err, n, "the program has %d inputs and %d outputs, expected %d and %d", s->n_in, s->n_out, n_in,
                     n_out);
            return -1;
        }
        st = lc_program_run_into(s->program, in, n_in, out, n_out);
    }
    if (st != LC_OK) {
        snprintf(err, n, "%s", lc_last_error());
        return -1;
    }
    return 0;
}

/* train: the check wants one step from the initial parameters on slot 0. */
static int jit_finish_for_check(void *state, char *err, size_t n) {
    jit_state *s = state;
    bench_config *cfg = (bench_config *)s->cfg;
    if (cfg->pass != BENCH_TRAIN) return 0;
    if (load_initial_params(cfg, s->model) != LC_OK) {
        snprintf(err, n, "%s", lc_last_error());
        return -1;
    }
    if (model_run(s, 0, err, n) != 0) return -1;
    cfg->loss = (float)s->last_loss;
    for (int k = 0; k < cfg->n_params; k++) {
        char name[64];
        lc_tensor *t;
        if (lc_module_param_at(s->model, k, name, sizeof name, &t) != LC_OK) {
            snprintf(err, n, "%s", lc_last_error());
            return -1;
        }
        memcpy(cfg->dparam[k], t->data, (size_t)cfg->param_numel[k] * sizeof(float));
    }
    return 0;
}

static int jit_run(void *state, int slot, char *err, size_t n) {
    jit_state *s = state;
    const bench_config *cfg = s->cfg;
    if (cfg->is_model) return model_run(s, slot, err, n);
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
static int64_t jit_scratch_bytes(void *state) {
    jit_state *s = state;
    const lc_program *p = s->step ? lc_train_step_program(s->step) : s->program;
    return p ? lc_program_scratch_bytes(p) : 0;
}

const bench_impl_ops bench_jit_ops = {
    .available = jit_available,
    .supports = jit_supports,
    .setup = jit_setup,
    .run = jit_run,
    .setup_extra_bytes = jit_scratch_bytes,
    .finish_for_check = jit_finish_for_check,
    .teardown = jit_teardown,
    .checked = true,
};

#define COLD_REPEATS 5
#define CACHED_REPEATS 50

/* train: the model, the loss and lc_train_step_compile_module, as a user sets up training. */
/* One compile of cfg's program (or training step), timed; with the cache cleared before it
 * when `cold`. *quick: the program started on the quick tier. */
static lc_status time_compile(const bench_config *cfg, bool cold, bool tiered, double *ms, bool *quick) {
    if (cold) lc_compile_cache_clear();
    jit_state s = {.cfg = cfg};
    double t = bench_now_s();
    lc_status st = cfg->pass == BENCH_TRAIN ? compile_train(cfg, 0, tiered, &s)
                                            : compile_config(cfg, 0, tiered, &s.program);
    *ms = 1e3 * (bench_now_s() - t);
    if (quick) *quick = s.program && !lc_program_optimized(s.program);
    lc_program_free(s.program);
    lc_train_step_free(s.step);
    lc_module_free(s.model);
    lc_module_free(s.loss_fn);
    return st;
}

int bench_jit_compile_times(const bench_config *cfg, bench_compile_times *out, char *err, size_t n) {
    double cold[COLD_REPEATS], optimized[COLD_REPEATS], cached[CACHED_REPEATS];
    lc_status st = LC_OK;
    /* the cold compiles of both kinds in turn, so drift in the machine's speed hits both */
    for (int i = 0; i < COLD_REPEATS && st == LC_OK; i++) {
        st = time_compile(cfg, true, true, &cold[i], &out->quick);
        if (st == LC_OK) st = time_compile(cfg, true, false, &optimized[i], NULL);
    }
    for (int i = 0; i < CACHED_REPEATS && st == LC_OK; i++) st = time_compile(cfg, false, true, &cached[i], NULL);
    if (st != LC_OK) {
        snprintf(err, n, "compiling: %s", lc_last_error());
        return -1;
    }
    out->cold_ms = bench_median(cold, COLD_REPEATS);
    out->optimized_ms = bench_median(optimized, COLD_REPEATS);
    out->cached_ms = bench_median(cached, CACHED_REPEATS);
    return 0;
}

#else /* no JIT in this build of the library */

static int jit_available(char *why, size_t n) {
    snprintf(why, n, "this build of the library has no JIT (lc_program_run_into); rebuild once it lands");
    return -1;
}

const bench_impl_ops bench_jit_ops = {.available = jit_available};

int bench_jit_compile_times(const bench_config *cfg, bench_compile_times *out, char *err, size_t n) {
    (void)cfg, (void)out;
    snprintf(err, n, "no JIT in this build");
    return -1;
}
#endif
