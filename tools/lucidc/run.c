/* lucidc run: a model on .npy input, forward and (with --grad-out/--grad-in) backward, a short
 * summary. Every output target is checked before anything is computed, and nothing is written
 * until every result exists: the results are staged under temporary names and renamed together
 * (files.c), so a failing run leaves no output behind. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lucid/npy.h"
#include "lucid/program.h"
#include "lucid/random.h"

const char cli_run_usage[] =
    "usage: lucidc run (--model FILE | --module SPEC ...) --input X.npy [--out Y.npy]\n"
    "                  [--grad-out G.npy --grad-in GX.npy] [--seed N] [--engine jit|interp]\n"
    "                  [--threads N]\n"
    "\n"
    "Run a model on X, forward and, with --grad-out, backward; print a summary.\n"
    "\n"
    "  --model FILE       one module call per line, in Python syntax ('#' comments)\n"
    "  --module SPEC      one module call, e.g. 'LPPool1d(2, 4)'; repeat to chain modules\n"
    "  --input X.npy      input, f32 or f64, of a rank the first module takes (pools and\n"
    "                     Conv1d: (C, L) or (N, C, L); Linear: any); - reads stdin\n"
    "  --out Y.npy        write y (same dtype as X); - writes stdout; without it y is not written\n"
    "  --grad-out G.npy   seed gradient, y's shape and dtype (needs --grad-in); - reads stdin\n"
    "  --grad-in GX.npy   write d(sum(y*G))/dX (needs --grad-out); - writes stdout\n"
    "  --seed N           seed of the random stream the parameters (Linear, Conv1d) are drawn\n"
    "                     from, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (default 0)\n"
    "  --engine jit|interp  the compiled kernels (default) or the reference interpreter\n"
    "  --threads N        worker threads (1..1024); overrides LUCID_NUM_THREADS\n"
    "  -h, --help         this text\n"
    "\n"
    "Each option but --module is given at most once. Outputs: nothing is written unless the\n"
    "whole run succeeds; each file is written under a temporary name beside it (NAME.tmp-PID-N)\n"
    "and renamed at the end, and the temporaries are removed on failure, SIGINT or SIGTERM\n"
    "(after a SIGKILL, the next run writing NAME removes them). An output through a symlink\n"
    "replaces the file it points to and keeps the link; a character device (/dev/null) is\n"
    "written in place, as cp does; a directory, FIFO, socket or block device is refused.\n"
    "With an output on stdout, the summary goes to stderr.\n"
    "Exit status: 0 success, 2 usage, input, file or parameter error.\n";

typedef struct run_opts {
    cli_model_opts model;
    const char *input, *out, *grad_out, *grad_in;
    cli_engine engine;
    int64_t threads; /* 0 = not given */
    uint64_t seed;   /* 0 unless --seed */
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
            continue;
        }
        if (cli_opt_value(&a, "--seed", &v, &st)) {
            if (st == CLI_OK) st = cli_parse_seed("--seed", v, &o->seed);
            continue;
        }
        if (cli_opt_value(&a, "--threads", &v, &st)) {
            if (st == CLI_OK) st = cli_parse_positive_int("--threads", v, 1024, &o->threads);
            continue;
        }
        const char *arg = argv[a.i];
        return cli_error("run", arg[0] == '-' && arg[1] ? "unknown option '%s'" : "unexpected argument '%s'", arg);
    }
    if (st != CLI_OK) return st;
    if (cli_model_empty(&o->model)) return cli_error("run", "no model: give --model FILE or --module SPEC");
    if (!o->input) return cli_error("run", "--input X.npy is required");
    if (o->grad_out && !o->grad_in) return cli_error("--grad-out", "needs --grad-in GX.npy (where the gradient goes)");
    if (o->grad_in && !o->grad_out) return cli_error("--grad-in", "needs --grad-out G.npy (the seed gradient)");
    if (o->grad_out && !strcmp(o->input, "-") && !strcmp(o->grad_out, "-"))
        return cli_error("--grad-out", "stdin is already --input; only one of them can be -");
    return CLI_OK;
}

/* A .npy file, or stdin for "-" (read whole: a pipe cannot seek). */
static int read_npy(const char *opt, const char *path, lc_tensor **out) {
    if (strcmp(path, "-") != 0) return lc_npy_read(path, out) == LC_OK ? CLI_OK : cli_lib_error(opt);
    char *bytes;
    size_t len;
    if (cli_read_stdin(&bytes, &len) != LC_OK) return cli_lib_error(opt);
    lc_status st = lc_npy_read_buffer(bytes, len, out);
    free(bytes);
    if (st == LC_OK) return CLI_OK;
    /* The buffer parser names its input "npy"; here the input is stdin. */
    const char *msg = lc_last_error();
    if (!strncmp(msg, "npy: ", 5)) msg += 5;
    return cli_error(opt, "stdin: %s", msg);
}

static const char *shown(const char *path, const char *dash) { return strcmp(path, "-") ? path : dash; }

/* One line: a Sequential's children joined by " -> ". */
static void print_model(FILE *f, const lc_module *m) {
    int n = lc_module_get_kind(m) == LC_MODULE_SEQUENTIAL ? lc_sequential_count(m) : 1;
    fputs("model    ", f);
    for (int i = 0; i < n; i++) {
        const lc_module *c = lc_module_get_kind(m) == LC_MODULE_SEQUENTIAL ? lc_sequential_child(m, i) : m;
        char *s = NULL;
        if (lc_module_repr(c, &s) == LC_OK) fprintf(f, "%s%s", i ? " -> " : "", s);
        free(s);
    }
    fputc('\n', f);
}

/* Serialize `t` and stage it for `o`. */
static int stage_npy(cli_output *o, const lc_tensor *t) {
    void *bytes;
    size_t len;
    if (lc_npy_write_buffer(t, &bytes, &len) != LC_OK) return cli_lib_error(o->opt);
    return cli_output_stage(o, bytes, len);
}

int cli_run(int argc, char **argv) {
    run_opts o = {.engine = CLI_ENGINE_JIT};
    int st = parse_run_args(argc, argv, &o);
    if (st != CLI_OK) return st;

    /* Outputs: 0 = --out, 1 = --grad-in; checked before any work so a bad target costs
     * nothing and leaves nothing. */
    cli_output outs_f[2];
    memset(outs_f, 0, sizeof outs_f);
    int n_outs = 0;
    bool out_y = false, out_gx = false;
    if (o.out) {
        if ((st = cli_output_resolve("--out", o.out, &outs_f[n_outs])) != CLI_OK) goto release;
        n_outs++;
        out_y = true;
    }
    if (o.grad_in) {
        if ((st = cli_output_resolve("--grad-in", o.grad_in, &outs_f[n_outs])) != CLI_OK) goto release;
        n_outs++;
        out_gx = true;
        if (out_y && cli_output_same(&outs_f[0], &outs_f[1])) {
            st = cli_error("--grad-in", "'%s' is also the --out file", o.grad_in);
            goto release;
        }
    }
    bool to_stdout = false;
    for (int i = 0; i < n_outs; i++) to_stdout |= outs_f[i].kind == CLI_OUT_STDOUT;
    FILE *summary = to_stdout ? stderr : stdout;

    /* --threads overrides LUCID_NUM_THREADS (set too, so the pool never judges a value the
     * user overrode). */
    if (o.threads) {
        char buf[32];
        snprintf(buf, sizeof buf, "%d", (int)o.threads);
        setenv("LUCID_NUM_THREADS", buf, 1);
        if (lc_runtime_set_threads((int)o.threads) != LC_OK) {
            st = cli_lib_error("--threads");
            goto release;
        }
    }

    lc_module *model = NULL;
    lc_tensor *x = NULL, *seed = NULL, **res = NULL, **ins = NULL;
    int n_ins = 0, n_res = 0;
    lc_graph *fwd = NULL, *train = NULL;
    char where[1100];
    char b1[64], b2[64];
    double t_read = cli_now_ms();
    lc_random_seed(o.seed); /* before the modules draw their parameters */
    if ((st = cli_model_load(&o.model, &model)) != CLI_OK) goto done;
    if ((st = cli_model_check_layers(model, &o.model)) != CLI_OK) goto done;
    if ((st = read_npy("--input", o.input, &x)) != CLI_OK) goto done;
    if (o.grad_out && (st = read_npy("--grad-out", o.grad_out, &seed)) != CLI_OK) goto done;
    double read_ms = cli_now_ms() - t_read;

    double t_build = cli_now_ms();
    if (cli_build_forward(model, x->dtype, x->shape, &fwd) != LC_OK) {
        snprintf(where, sizeof where, "--input: %s", shown(o.input, "stdin"));
        st = cli_lib_error(where);
        goto done;
    }
    const lc_node *y_node = lc_graph_node(fwd, lc_graph_output(fwd, 0));
    if (seed) {
        if (!lc_shape_equal(&seed->shape, &y_node->shape)) {
            st = cli_error("--grad-out", "%s: shape %s does not match the output's shape %s",
                           shown(o.grad_out, "stdin"), lc_shape_str(&seed->shape, b1, sizeof b1),
                           lc_shape_str(&y_node->shape, b2, sizeof b2));
            goto done;
        }
        if (seed->dtype != y_node->dtype) {
            st = cli_error("--grad-out", "%s: dtype %s does not match the output's dtype %s",
                           shown(o.grad_out, "stdin"), lc_dtype_name(seed->dtype), lc_dtype_name(y_node->dtype));
            goto done;
        }
        if (cli_build_training(fwd, &train) != LC_OK) { st = cli_lib_error("autodiff"); goto done; }
    }
    double build_ms = cli_now_ms() - t_build;

    /* The graph's inputs: x, each parameter (in x's dtype), then the seed; its outputs: y, then
     * with a seed dx and each parameter's gradient (not written here). */
    int n_params = lc_module_param_count(model);
    n_ins = 1 + n_params + (train ? 1 : 0);
    n_res = train ? 2 + n_params : 1;
    ins = calloc((size_t)n_ins, sizeof *ins);
    res = calloc((size_t)n_res, sizeof *res);
    if (!ins || !res) { st = cli_error(NULL, "out of memory"); goto done; }
    ins[0] = x;
    for (int i = 0; i < n_params; i++) {
        lc_tensor *p;
        if (lc_module_param_at(model, i, NULL, 0, &p) != LC_OK ||
            lc_tensor_new(x->dtype, p->shape, &ins[1 + i]) != LC_OK) {
            st = cli_lib_error("parameters");
            goto done;
        }
        for (int64_t k = 0; k < lc_tensor_numel(p); k++) lc_tensor_set(ins[1 + i], k, lc_tensor_get(p, k));
    }
    if (train) ins[n_ins - 1] = seed;
    cli_run_info info;
    lc_status rs = cli_run_graph(o.engine, train ? train : fwd, (const lc_tensor *const *)ins, n_ins, res, n_res, &info);
    if (rs != LC_OK) { st = cli_lib_error(cli_engine_name(o.engine)); goto done; }

    /* Every result exists: stage them all, then commit them together. */
    double t_write = cli_now_ms();
    int k = 0;
    if (out_y && (st = stage_npy(&outs_f[k++], res[0])) != CLI_OK) goto done;
    if (out_gx && (st = stage_npy(&outs_f[k++], res[1])) != CLI_OK) goto done;
    if ((st = cli_outputs_commit(outs_f, n_outs)) != CLI_OK) goto done;
    double write_ms = cli_now_ms() - t_write;

    print_model(summary, model);
    fprintf(summary, "input    %s %s %s\n", shown(o.input, "(stdin)"), lc_dtype_name(x->dtype),
            lc_shape_str(&x->shape, b1, sizeof b1));
    if (n_params)
        fprintf(summary, "params   %d tensors, drawn from --seed %llu\n", n_params, (unsigned long long)o.seed);
    fprintf(summary, "output   %s %s -> %s\n", lc_dtype_name(res[0]->dtype), lc_shape_str(&res[0]->shape, b1, sizeof b1),
            o.out ? shown(o.out, "(stdout)") : "(not written: no --out)");
    if (train)
        fprintf(summary, "grad     seed %s %s -> %s %s\n", shown(o.grad_out, "(stdin)"),
                lc_shape_str(&seed->shape, b1, sizeof b1), shown(o.grad_in, "(stdout)"),
                lc_shape_str(&res[1]->shape, b2, sizeof b2));
    const lc_graph *ran = train ? train : fwd;
    fprintf(summary, "engine   %s\n", info.engine);
    if (info.n_kernels)
        fprintf(summary, "kernels  %d\n", info.n_kernels);
    else
        fprintf(summary, "kernels  none (the interpreter evaluates the %d graph nodes one by one)\n",
                lc_graph_node_count(ran));
    if (info.n_kernels) fprintf(summary, "threads  %d\n", lc_runtime_threads());
    fprintf(summary, "time     read %.3f ms, build %.3f ms, compile %.3f ms, run %.3f ms, write %.3f ms\n",
            read_ms, build_ms, info.compile_ms, info.run_ms, write_ms);
    fflush(summary);
    st = CLI_OK;
done:
    for (int i = 0; res && i < n_res; i++) lc_tensor_free(res[i]);
    for (int i = 1; ins && i < n_ins - (train ? 1 : 0); i++) lc_tensor_free(ins[i]);
    free(res);
    free(ins);
    lc_tensor_free(seed);
    lc_tensor_free(x);
    lc_graph_free(train);
    lc_graph_free(fwd);
    lc_module_free(model);
release:
    for (int i = 0; i < 2; i++) cli_output_free(&outs_f[i]);
    return st;
}
