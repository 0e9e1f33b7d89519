/* lucidc run: a model on .npy input, forward and (with --grad-out/--grad-in) backward,
 * results written atomically, a short summary on stdout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lucid/npy.h"
#include "lucid/program.h"

typedef struct run_opts {
    cli_model_opts model;
    const char *input, *out, *grad_out, *grad_in;
    cli_engine engine;
    bool engine_given;
    int64_t threads; /* 0 = not given */
} run_opts;

static int parse_run_args(int argc, char **argv, run_opts *o) {
    cli_args a = {.argc = argc, .argv = argv};
    int st = CLI_OK;
    while (a.i < argc && st == CLI_OK) {
        const char *v;
        if (cli_model_option(&a, &o->model, &st)) continue;
        if (cli_opt_value(&a, "--input", &v, &st)) { o->input = v; continue; }
        if (cli_opt_value(&a, "--out", &v, &st)) { o->out = v; continue; }
        if (cli_opt_value(&a, "--grad-out", &v, &st)) { o->grad_out = v; continue; }
        if (cli_opt_value(&a, "--grad-in", &v, &st)) { o->grad_in = v; continue; }
        if (cli_opt_value(&a, "--engine", &v, &st)) {
            if (st == CLI_OK) st = cli_parse_engine("--engine", v, &o->engine);
            o->engine_given = true;
            continue;
        }
        if (cli_opt_value(&a, "--threads", &v, &st)) {
            if (st == CLI_OK) st = cli_parse_positive_int("--threads", v, 1024, &o->threads);
            continue;
        }
        const char *arg = argv[a.i];
        return cli_error("run", arg[0] == '-' ? "unknown option '%s'" : "unexpected argument '%s'", arg);
    }
    if (st != CLI_OK) return st;
    if (cli_model_empty(&o->model)) return cli_error("run", "no model: give --model FILE or --module SPEC");
    if (!o->input) return cli_error("run", "--input X.npy is required");
    if (o->grad_out && !o->grad_in) return cli_error("--grad-out", "needs --grad-in GX.npy (where the gradient goes)");
    if (o->grad_in && !o->grad_out) return cli_error("--grad-in", "needs --grad-out G.npy (the seed gradient)");
    if (o->out && o->grad_in && !strcmp(o->out, o->grad_in))
        return cli_error("--grad-in", "'%s' is also the --out file", o->grad_in);
    return CLI_OK;
}

/* One line: a Sequential's children joined by " -> ". */
static void print_model(const lc_module *m) {
    int n = lc_module_get_kind(m) == LC_MODULE_SEQUENTIAL ? lc_sequential_count(m) : 1;
    fputs("model    ", stdout);
    for (int i = 0; i < n; i++) {
        const lc_module *c = lc_module_get_kind(m) == LC_MODULE_SEQUENTIAL ? lc_sequential_child(m, i) : m;
        char *s = NULL;
        if (lc_module_repr(c, &s) == LC_OK) printf("%s%s", i ? " -> " : "", s);
        free(s);
    }
    putchar('\n');
}

static const char *shape_text(const lc_shape *s, char *buf, size_t size) {
    return lc_shape_str(s, buf, size);
}

int cli_run(int argc, char **argv) {
    run_opts o = {.engine = CLI_ENGINE_JIT};
    int st = parse_run_args(argc, argv, &o);
    if (st != CLI_OK) return st;
    /* --threads overrides LUCID_NUM_THREADS (set too, so the pool never judges a value the
     * user overrode). */
    if (o.threads) {
        char buf[32];
        snprintf(buf, sizeof buf, "%d", (int)o.threads);
        setenv("LUCID_NUM_THREADS", buf, 1);
        if (lc_runtime_set_threads((int)o.threads) != LC_OK) return cli_lib_error("--threads");
    }

    lc_module *model = NULL;
    lc_tensor *x = NULL, *seed = NULL, *outs[2] = {NULL, NULL};
    lc_graph *fwd = NULL, *train = NULL;
    char where[1100];
    if ((st = cli_model_load(&o.model, &model)) != CLI_OK) goto done;
    if (lc_npy_read(o.input, &x) != LC_OK) { st = cli_lib_error("--input"); goto done; }
    if (x->shape.rank != 2 && x->shape.rank != 3) {
        char b[64];
        st = cli_error("--input", "%s: input must have rank 2 (C, L) or 3 (N, C, L), got shape %s",
                       o.input, shape_text(&x->shape, b, sizeof b));
        goto done;
    }
    double t0 = cli_now_ms();
    if (cli_build_forward(model, x->dtype, x->shape, &fwd) != LC_OK) {
        snprintf(where, sizeof where, "--input: %s", o.input);
        st = cli_lib_error(where);
        goto done;
    }
    const lc_node *y_node = lc_graph_node(fwd, lc_graph_output(fwd, 0));
    if (o.grad_out) {
        if (lc_npy_read(o.grad_out, &seed) != LC_OK) { st = cli_lib_error("--grad-out"); goto done; }
        char b1[64], b2[64];
        if (!lc_shape_equal(&seed->shape, &y_node->shape)) {
            st = cli_error("--grad-out", "%s: shape %s does not match the output's shape %s", o.grad_out,
                           shape_text(&seed->shape, b1, sizeof b1), shape_text(&y_node->shape, b2, sizeof b2));
            goto done;
        }
        if (seed->dtype != y_node->dtype) {
            st = cli_error("--grad-out", "%s: dtype %s does not match the output's dtype %s", o.grad_out,
                           lc_dtype_name(seed->dtype), lc_dtype_name(y_node->dtype));
            goto done;
        }
        if (cli_build_training(fwd, &train) != LC_OK) { st = cli_lib_error("autodiff"); goto done; }
    }
    double build_ms = cli_now_ms() - t0;

    cli_engine engine = cli_engine_effective(o.engine);
    cli_run_info info;
    const lc_tensor *ins[2] = {x, seed};
    lc_status rs = train ? cli_run_graph(engine, train, ins, 2, outs, 2, &info)
                         : cli_run_graph(engine, fwd, ins, 1, outs, 1, &info);
    if (rs != LC_OK) { st = cli_lib_error(cli_engine_name(engine)); goto done; }
    if (o.out && lc_npy_write(o.out, outs[0]) != LC_OK) { st = cli_lib_error("--out"); goto done; }
    if (o.grad_in && lc_npy_write(o.grad_in, outs[1]) != LC_OK) { st = cli_lib_error("--grad-in"); goto done; }

    char b1[64], b2[64];
    print_model(model);
    printf("input    %s %s %s\n", o.input, lc_dtype_name(x->dtype), shape_text(&x->shape, b1, sizeof b1));
    printf("output   %s %s -> %s\n", lc_dtype_name(outs[0]->dtype), shape_text(&outs[0]->shape, b1, sizeof b1),
           o.out ? o.out : "(not written: no --out)");
    if (train)
        printf("grad     seed %s %s -> %s %s\n", o.grad_out, shape_text(&seed->shape, b1, sizeof b1),
               o.grad_in, shape_text(&outs[1]->shape, b2, sizeof b2));
    const lc_graph *ran = train ? train : fwd;
    printf("engine   %s%s\n", info.engine,
           o.engine == CLI_ENGINE_JIT && engine != CLI_ENGINE_JIT ? " (jit not available yet)" : "");
    if (info.n_kernels)
        printf("kernels  %d\n", info.n_kernels);
    else
        printf("kernels  none (the interpreter evaluates the %d graph nodes one by one)\n", lc_graph_node_count(ran));
    if (info.n_kernels) printf("threads  %d\n", lc_runtime_threads());
    printf("time     build %.3f ms, compile %.3f ms, run %.3f ms\n", build_ms, info.compile_ms, info.run_ms);
    st = CLI_OK;
done:
    lc_tensor_free(outs[0]);
    lc_tensor_free(outs[1]);
    lc_tensor_free(seed);
    lc_tensor_free(x);
    lc_graph_free(train);
    lc_graph_free(fwd);
    lc_module_free(model);
    return st;
}
