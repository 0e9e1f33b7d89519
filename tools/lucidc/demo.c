/* lucidc demo: the README's first command. A built-in model, AvgPool1d(3, stride 1, padding 1)
 * then LPPool1d(2, 4), on generated float32 input of shape (8, 16, 4096): the graph IR as
 * built, forward and forward+backward each compiled once by the library's driver (whose hook
 * gives every stage's time), run on the JIT and checked against the interpreter, with compile
 * and run times and bandwidth; then the seed model trained as one compiled program
 * (demo_train.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"
#include "lucid/model_spec.h"
#include "lucid/program.h"
#include "lucid/runtime.h"

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

/* Run `prog` DEMO_REPEATS times; the outputs of the last run stay in `outs`. */
static lc_status timed_runs(const lc_program *prog, const lc_tensor *const *ins, int n_in,
                            lc_tensor **outs, int n_out, double *median_ms) {
    double ms[DEMO_REPEATS];
    for (int r = 0; r < DEMO_REPEATS; r++) {
        for (int k = 0; k < n_out; k++) {
            lc_tensor_free(outs[k]);
            outs[k] = NULL;
        }
        double t0 = lc_now_ms();
        LC_TRY(lc_program_run(prog, ins, n_in, outs, n_out));
        ms[r] = lc_now_ms() - t0;
    }
    qsort(ms, DEMO_REPEATS, sizeof ms[0], cmp_double);
    *median_ms = ms[DEMO_REPEATS / 2];
    return LC_OK;
}

/* Compile through the driver, once; its hook's records land in `p`. */
static int compile(const lc_graph *fwd, bool backward, cli_pipeline *p, lc_program **prog) {
    const char *failed;
    if (cli_pipeline_run(fwd, backward, LC_STAGE_TIME, p, prog, &failed) == LC_OK) return CLI_OK;
    char where[96];
    snprintf(where, sizeof where, "demo: %s: stage %s", backward ? "forward + backward" : "forward",
             failed ? failed : "?");
    return cli_lib_error(where);
}

static void print_ms(const cli_stage *s) {
    if (s->ran) printf(" %9.3f", s->ms);
    else printf(" %9s", "-");
}

/* Per stage: the forward's and the training step's time, as the driver's hook saw them. */
static void print_stages(const cli_pipeline *fwd, const cli_pipeline *train) {
    printf("\nstages, in pipeline order (ms as the compile driver timed them):\n");
    printf("  %-9s %9s %9s  %s\n", "", "forward", "fwd+bwd", "(fwd+bwd)");
    for (int i = 0; i < LC_STAGE_COUNT; i++) {
        if (i == LC_STAGE_TIME) continue; /* the report of these times */
        printf("  %-9s", lc_stage_name((lc_stage)i));
        print_ms(&fwd->stage[i]);
        print_ms(&train->stage[i]);
        printf("  %s\n", train->stage[i].summary);
    }
    printf("  (see every stage with: lucidc dump --module 'AvgPool1d(3, 1, 1)' "
           "--module 'LPPool1d(2, 4)' --backward --stage all)\n");
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
    lc_graph *fwd = NULL;
    lc_program *fwd_prog = NULL, *train_prog = NULL;
    lc_tensor *x = NULL, *seed = NULL, *y = NULL, *outs[2] = {NULL, NULL}, *ref[2] = {NULL, NULL};
    lc_tensor *ref_fwd = NULL;
    /* the training graph as autodiff made it is the interpreter's oracle */
    cli_pipeline pf = {0}, pt = {.keep_graph = LC_STAGE_BIT(LC_STAGE_AUTODIFF)};
    const lc_shape shape = {.rank = 3, .dim = {DEMO_N, DEMO_C, DEMO_L}};

    if (lc_model_parse(DEMO_MODEL, "demo model", &model) != LC_OK) { st = cli_lib_error("demo"); goto done; }
    char *repr = NULL;
    if (lc_module_repr(model, &repr) != LC_OK) { st = cli_lib_error("demo"); goto done; }
    printf("Lucid demo\n\nmodel (as written):\n%s\nas built:\n%s\n\n", DEMO_MODEL, repr);
    free(repr);

    double t0 = lc_now_ms();
    if (cli_build_forward(model, LC_F32, shape, &fwd) != LC_OK) { st = cli_lib_error("demo: forward"); goto done; }
    double build_ms = lc_now_ms() - t0;
    printf("graph IR (stage built), input x f32 (%d, %d, %d):\n", DEMO_N, DEMO_C, DEMO_L);
    fflush(stdout);
    if (lc_graph_print(fwd, stdout) != LC_OK) { st = cli_lib_error("demo: print"); goto done; }

    if ((st = compile(fwd, false, &pf, &fwd_prog)) != CLI_OK) goto done;
    if ((st = compile(fwd, true, &pt, &train_prog)) != CLI_OK) goto done;
    st = CLI_ERROR;
    print_stages(&pf, &pt);
    /* The runs below time the code each program settles on: its optimized tier, compiled
     * here on this thread when it started quick (docs/pipeline.md, "Tiers"). */
    bool quick[2] = {!lc_program_optimized(fwd_prog), !lc_program_optimized(train_prog)};
    double optimize_ms[2];
    for (int i = 0; i < 2; i++) {
        double t = lc_now_ms();
        if (lc_program_optimize(i ? train_prog : fwd_prog) != LC_OK) { st = cli_lib_error("demo: optimized tier"); goto done; }
        optimize_ms[i] = lc_now_ms() - t;
    }

    if (generate(shape, 42, &x) != LC_OK) { st = cli_lib_error("demo: input"); goto done; }
    const lc_node *yn = lc_graph_node(fwd, lc_graph_output(fwd, 0));
    if (generate(yn->shape, 7, &seed) != LC_OK) { st = cli_lib_error("demo: seed"); goto done; }

    double fwd_ms, train_ms;
    const lc_tensor *ins[2] = {x, seed};
    if (timed_runs(fwd_prog, ins, 1, &y, 1, &fwd_ms) != LC_OK ||
        timed_runs(train_prog, ins, 2, outs, 2, &train_ms) != LC_OK) {
        st = cli_lib_error("jit");
        goto done;
    }

    /* The check: the interpreter on the graphs as built (and as autodiff made them) is the
     * oracle of the compiled code. */
    const lc_graph *train = pt.stage[LC_STAGE_AUTODIFF].graph;
    if (lc_interp_run(train, ins, 2, ref, 2) != LC_OK || lc_interp_run(fwd, ins, 1, &ref_fwd, 1) != LC_OK) {
        st = cli_lib_error("interp");
        goto done;
    }
    printf("\ncheck: JIT against the interpreter (rtol 1e-4, atol 1e-6)\n");
    bool ok = check_close("forward y", y, ref_fwd);
    ok = check_close("forward y (fwd+bwd)", outs[0], ref[0]) && ok;
    ok = check_close("gradient dx", outs[1], ref[1]) && ok;

    double fwd_bytes = (double)(lc_tensor_nbytes(x) + lc_tensor_nbytes(y));
    double train_bytes = (double)(lc_tensor_nbytes(x) + lc_tensor_nbytes(seed) +
                                  lc_tensor_nbytes(outs[0]) + lc_tensor_nbytes(outs[1]));
    int fwd_kernels = lc_program_kernel_count(fwd_prog), train_kernels = lc_program_kernel_count(train_prog);
    printf("\nengine jit, %d thread%s, median of %d runs:\n", lc_runtime_threads(),
           lc_runtime_threads() == 1 ? "" : "s", DEMO_REPEATS);
    printf("  build graph (modules)                %9.3f ms\n", build_ms);
    printf("  compile forward (every stage)        %9.3f ms  %d kernel%s%s\n", pf.total_ms,
           fwd_kernels, fwd_kernels == 1 ? "" : "s", quick[0] ? ", quick tier" : "");
    printf("  compile forward + backward           %9.3f ms  %d kernel%s%s\n", pt.total_ms,
           train_kernels, train_kernels == 1 ? "" : "s", quick[1] ? ", quick tier" : "");
    if (quick[0] || quick[1])
        printf("  then their optimized tiers           %9.3f ms, %.3f ms (the runs below use them)\n",
               optimize_ms[0], optimize_ms[1]);
    printf("  run forward                          %9.3f ms  %7.2f GB/s  (%.1f MB moved)\n", fwd_ms,
           fwd_bytes / (fwd_ms * 1e6), fwd_bytes / 1e6);
    printf("  run forward + backward               %9.3f ms  %7.2f GB/s  (%.1f MB moved)\n", train_ms,
           train_bytes / (train_ms * 1e6), train_bytes / 1e6);
    bool trained = false;
    if ((st = cli_demo_train(&trained)) != CLI_OK) goto done;
    ok = ok && trained;
    printf("\n%s\n", ok ? "demo: ok" : "demo: MISMATCH");
    st = ok ? CLI_OK : CLI_MISMATCH;
done:
    cli_pipeline_free(&pf);
    cli_pipeline_free(&pt);
    lc_program_free(fwd_prog);
    lc_program_free(train_prog);
    lc_tensor_free(x);
    lc_tensor_free(seed);
    lc_tensor_free(y);
    lc_tensor_free(ref_fwd);
    for (int k = 0; k < 2; k++) {
        lc_tensor_free(outs[k]);
        lc_tensor_free(ref[k]);
    }
    lc_graph_free(fwd);
    lc_module_free(model);
    return st;
}
