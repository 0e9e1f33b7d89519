/* lucidc demo: the README's first command. A built-in model, AvgPool1d(3, stride 1, padding 1)
 * then LPPool1d(2, 4), on generated float32 input of shape (8, 16, 4096): the graph IR as
 * built, every compiler stage summarized, forward and forward+backward run on the engine and
 * checked against the interpreter, with compile and run times and bandwidth. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"
#include "lucid/model_spec.h"
#include "lucid/program.h"

static const char DEMO_MODEL[] =
    "AvgPool1d(kernel_size=3, stride=1, padding=1)\n"
    "LPPool1d(2, 4)\n";
enum { DEMO_N = 8, DEMO_C = 16, DEMO_L = 4096, DEMO_REPEATS = 5 };

/* Deterministic values in (-2, 2) with a few exact zeros (xorshift64*). */
static lc_status generate(lc_shape shape, uint64_t seed, lc_tensor **out) {
    LC_TRY(lc_tensor_new(LC_F32, shape, out));
    uint64_t s = seed;
    int64_t n = lc_tensor_numel(*out);
    float *d = (*out)->data;
    for (int64_t i = 0; i < n; i++) {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        double u = (double)((s * 2685821657736338717ull) >> 11) / 9007199254740992.0;
        d[i] = (i % 97 == 0) ? 0.0f : (float)(4.0 * u - 2.0);
    }
    return LC_OK;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Compile `g` once, run it DEMO_REPEATS times; the outputs of the last run stay in `outs`. */
static lc_status timed_runs(cli_engine engine, const lc_graph *g, const lc_tensor *const *ins,
                            int n_in, lc_tensor **outs, int n_out, cli_run_info *info,
                            double *median_ms) {
    cli_exec e;
    lc_status st = cli_exec_prepare(engine, g, &e);
    double ms[DEMO_REPEATS];
    for (int r = 0; r < DEMO_REPEATS && st == LC_OK; r++) {
        for (int k = 0; k < n_out; k++) {
            lc_tensor_free(outs[k]);
            outs[k] = NULL;
        }
        st = cli_exec_run(&e, ins, n_in, outs, n_out);
        ms[r] = e.info.run_ms;
    }
    *info = e.info;
    cli_exec_free(&e);
    if (st != LC_OK) return st;
    qsort(ms, DEMO_REPEATS, sizeof ms[0], cmp_double);
    *median_ms = ms[DEMO_REPEATS / 2];
    return LC_OK;
}

static bool check_close(const char *what, const lc_tensor *got, const lc_tensor *want) {
    cli_compare c;
    cli_compare_tensors(got, want, 1e-4, 1e-6, &c);
    printf("  %-22s max abs err %.3g, max rel err %.3g: %s\n", what, c.max_abs, c.max_rel,
           c.n_bad ? "MISMATCH" : "ok");
    return c.n_bad == 0;
}

int cli_demo(int argc, char **argv) {
    if (argc > 0) return cli_error("demo", "takes no arguments, got '%s'", argv[0]);
    int st = CLI_ERROR;
    lc_module *model = NULL;
    lc_graph *fwd = NULL, *train = NULL;
    lc_tensor *x = NULL, *seed = NULL, *y = NULL, *outs[2] = {NULL, NULL}, *ref[2] = {NULL, NULL};
    cli_pipeline p = {0};
    const lc_shape shape = {.rank = 3, .dim = {DEMO_N, DEMO_C, DEMO_L}};

    if (lc_model_parse(DEMO_MODEL, "demo model", &model) != LC_OK) { st = cli_lib_error("demo"); goto done; }
    char *repr = NULL;
    if (lc_module_repr(model, &repr) != LC_OK) { st = cli_lib_error("demo"); goto done; }
    printf("Lucid demo\n\nmodel (as written):\n%s\nas built:\n%s\n\n", DEMO_MODEL, repr);
    free(repr);

    double t0 = cli_now_ms();
    if (cli_build_forward(model, LC_F32, shape, &fwd) != LC_OK) { st = cli_lib_error("demo: forward"); goto done; }
    if (cli_build_training(fwd, &train) != LC_OK) { st = cli_lib_error("demo: autodiff"); goto done; }
    double build_ms = cli_now_ms() - t0;
    printf("graph IR (stage built), input x f32 (%d, %d, %d):\n", DEMO_N, DEMO_C, DEMO_L);
    fflush(stdout);
    if (lc_graph_print(fwd, stdout) != LC_OK) { st = cli_lib_error("demo: print"); goto done; }

    const char *failed;
    if (cli_pipeline_run(fwd, true, &p, &failed) != LC_OK) {
        char where[64];
        snprintf(where, sizeof where, "demo: stage %s", failed ? failed : "?");
        st = cli_lib_error(where);
        goto done;
    }
    printf("\nstages (forward + backward), in pipeline order:\n");
    for (int i = 0; i < cli_stage_name_count(); i++) {
        const char *name = cli_stage_name_at(i);
        const cli_stage *s = cli_pipeline_find(&p, name);
        if (s && !strcmp(name, "remarks"))
            printf("  %-9s %9s     %s\n", name, "", s->summary);
        else if (s && strcmp(name, "time") != 0)
            printf("  %-9s %9.3f ms  %s\n", name, s->ms, s->summary);
        else if (!s)
            printf("  %-9s %9s     not available yet\n", name, "-");
    }
    printf("  (see every stage with: lucidc dump --module 'AvgPool1d(3, 1, 1)' "
           "--module 'LPPool1d(2, 4)' --backward --stage all)\n");

    if (generate(shape, 42, &x) != LC_OK) { st = cli_lib_error("demo: input"); goto done; }
    const lc_node *yn = lc_graph_node(fwd, lc_graph_output(fwd, 0));
    if (generate(yn->shape, 7, &seed) != LC_OK) { st = cli_lib_error("demo: seed"); goto done; }

    cli_engine engine = cli_engine_effective(CLI_ENGINE_JIT);
    cli_run_info fwd_info, train_info, info;
    double fwd_ms, train_ms;
    const lc_tensor *ins[2] = {x, seed};
    if (timed_runs(engine, fwd, ins, 1, &y, 1, &fwd_info, &fwd_ms) != LC_OK ||
        timed_runs(engine, train, ins, 2, outs, 2, &train_info, &train_ms) != LC_OK) {
        st = cli_lib_error(cli_engine_name(engine));
        goto done;
    }

    /* The check: the interpreter on the graph as built is the oracle. With the JIT that checks
     * the compiled code; with the interpreter alone it checks the pass pipeline, by running
     * the graph the passes produced. */
    const lc_graph *optimized = cli_pipeline_final_graph(&p);
    bool jit = engine == CLI_ENGINE_JIT;
    lc_tensor *ref_fwd = NULL;
    const lc_tensor *fwd_ins[1] = {x};
    lc_status rs = jit ? cli_run_graph(CLI_ENGINE_INTERP, train, ins, 2, ref, 2, &info)
                       : cli_run_graph(CLI_ENGINE_INTERP, optimized, ins, 2, ref, 2, &info);
    if (rs == LC_OK && jit) rs = cli_run_graph(CLI_ENGINE_INTERP, fwd, fwd_ins, 1, &ref_fwd, 1, &info);
    if (rs != LC_OK) { st = cli_lib_error("interp"); goto done; }
    printf("\ncheck: %s\n", jit ? "JIT against the interpreter (rtol 1e-4, atol 1e-6)"
                                : "graph after the passes against the graph as built, both on the "
                                  "interpreter (rtol 1e-4, atol 1e-6); the JIT is not available yet");
    bool ok = check_close("forward y", y, jit ? ref_fwd : ref[0]);
    lc_tensor_free(ref_fwd);
    ok = check_close("forward y (fwd+bwd)", outs[0], ref[0]) && ok;
    ok = check_close("gradient dx", outs[1], ref[1]) && ok;

    double fwd_bytes = (double)(lc_tensor_nbytes(x) + lc_tensor_nbytes(y));
    double train_bytes = (double)(lc_tensor_nbytes(x) + lc_tensor_nbytes(seed) +
                                  lc_tensor_nbytes(outs[0]) + lc_tensor_nbytes(outs[1]));
    printf("\nengine %s%s, %d thread%s, median of %d runs:\n", cli_engine_name(engine),
           jit ? "" : " (jit not available yet)", lc_runtime_threads(),
           lc_runtime_threads() == 1 ? "" : "s", DEMO_REPEATS);
    printf("  build graphs (modules + autodiff)    %9.3f ms\n", build_ms);
    printf("  compile forward (passes + JIT)       %9.3f ms  %d kernel%s\n", fwd_info.compile_ms,
           fwd_info.n_kernels, fwd_info.n_kernels == 1 ? "" : "s");
    printf("  compile forward + backward           %9.3f ms  %d kernel%s\n", train_info.compile_ms,
           train_info.n_kernels, train_info.n_kernels == 1 ? "" : "s");
    printf("  run forward                          %9.3f ms  %7.2f GB/s  (%.1f MB moved)\n", fwd_ms,
           fwd_bytes / (fwd_ms * 1e6), fwd_bytes / 1e6);
    printf("  run forward + backward               %9.3f ms  %7.2f GB/s  (%.1f MB moved)\n", train_ms,
           train_bytes / (train_ms * 1e6), train_bytes / 1e6);
    printf("\n%s\n", ok ? "demo: ok" : "demo: MISMATCH");
    st = ok ? CLI_OK : CLI_MISMATCH;
done:
    cli_pipeline_free(&p);
    lc_tensor_free(x);
    lc_tensor_free(seed);
    lc_tensor_free(y);
    for (int k = 0; k < 2; k++) {
        lc_tensor_free(outs[k]);
        lc_tensor_free(ref[k]);
    }
    lc_graph_free(fwd);
    lc_graph_free(train);
    lc_module_free(model);
    return st;
}
