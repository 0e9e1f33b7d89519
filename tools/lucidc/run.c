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
    "                  [--grad-out G.npy --grad-in GX.npy] [--params DIR] [--grad-params DIR]\n"
    "                  [--seed N] [--indices I.npy] [--engine jit|interp] [--threads N]\n"
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
    "  --params DIR       read each parameter from DIR/I.NAME.npy (I the module's position from 0,\n"
    "                     NAME its state_dict name: 0.weight.npy), X's dtype; a missing, extra or\n"
    "                     misshapen file is an error\n"
    "  --grad-params DIR  write d(sum(y*G))/dθ of every parameter as DIR/I.NAME.npy (needs\n"
    "                     --grad-out; not the --params directory; made if missing)\n"
    "  --seed N           without --params, seed of the random stream the parameters (Linear,\n"
    "                     Conv1d) are drawn from, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (0..2^64-1,\n"
    "                     default 0)\n"
    "  --indices I.npy    for a model of one MaxPool1d or MaxPool2d: write PyTorch's indices\n"
    "                     (return_indices) as int64, y's shape: the flat index of each chosen\n"
    "                     element in its plane (h*W + w; in 1-D its position), -1 for a window\n"
    "                     of padding alone; - writes stdout\n"
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
    const char *input, *out, *grad_out, *grad_in, *params, *grad_params, *indices;
    uint64_t seed;
    cli_engine engine;
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
        if (cli_opt_value(&a, "--params", &v, &st)) { o->params = v; continue; }
        if (cli_opt_value(&a, "--grad-params", &v, &st)) { o->grad_params = v; continue; }
        if (cli_opt_value(&a, "--indices", &v, &st)) { o->indices = v; continue; }
        if (cli_opt_value(&a, "--seed", &v, &st)) {
            if (st == CLI_OK) st = cli_parse_seed("--seed", v, &o->seed);
            continue;
        }
        if (cli_opt_value(&a, "--engine", &v, &st)) {
            if (st == CLI_OK) st = cli_parse_engine("--engine", v, &o->engine);
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
    if (o->grad_params && !o->grad_out)
        return cli_error("--grad-params", "needs --grad-out G.npy (the seed gradient)");
    if (o->grad_params) {
        int st_dirs = cli_params_check_dirs(o->params, o->grad_params);
        if (st_dirs != CLI_OK) return st_dirs;
    }
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

/* --indices needs a model of one max pool (a Sequential of one counts). */
static int indices_module(const lc_module *m, const lc_module **pool) {
    if (lc_module_get_kind(m) == LC_MODULE_SEQUENTIAL && lc_sequential_count(m) == 1) m = lc_sequential_child(m, 0);
    lc_module_kind kind = lc_module_get_kind(m);
    if (kind != LC_MODULE_MAXPOOL1D && kind != LC_MODULE_MAXPOOL2D)
        return cli_error("--indices", "the model must be one MaxPool1d or MaxPool2d");
    *pool = m;
    return CLI_OK;
}

/* The max pool's indices on `engine` as the bytes of an int64 .npy (*out, malloc'd): the engine
 * gives each window's chosen coordinates (lc_module_graph_indices), the library forms the flat
 * index. Its compile and run times are added to `total`'s. */
static int indices_npy(const lc_module *pool, cli_engine engine, const lc_tensor *x, cli_run_info *total,
                       void **out, size_t *out_len) {
    int n_coords = lc_module_get_kind(pool) == LC_MODULE_MAXPOOL2D ? 2 : 1;
    lc_graph *g = NULL;
    lc_tensor *outs[3] = {NULL, NULL, NULL};
    const lc_tensor *ins[1] = {x};
    cli_run_info info;
    void *bytes = NULL;
    size_t len = 0;
    int st = CLI_OK;
    if (lc_module_graph_indices(pool, x->dtype, x->shape, &g) != LC_OK ||
        cli_run_graph(engine, g, ins, 1, outs, 1 + n_coords, &info) != LC_OK) {
        st = cli_lib_error("--indices");
        goto done;
    }
    total->compile_ms += info.compile_ms;
    total->run_ms += info.run_ms;
    /* An int64 array is written as the float64 array of its shape (same byte count) whose
     * header then says <i8 (same length, so the header's padding holds). */
    int64_t n = lc_tensor_numel(outs[0]);
    int64_t *idx = malloc((size_t)(n > 0 ? n : 1) * sizeof *idx);
    lc_tensor *wide = NULL;
    if (!idx || lc_tensor_new(LC_F64, outs[0]->shape, &wide) != LC_OK ||
        lc_maxpool_indices(pool, x->shape, (const lc_tensor *const *)&outs[1], n_coords, idx) != LC_OK ||
        lc_npy_write_buffer(wide, &bytes, &len) != LC_OK) {
        st = idx ? cli_lib_error("--indices") : cli_error("--indices", "out of memory");
        free(idx);
        lc_tensor_free(wide);
        goto done;
    }
    lc_tensor_free(wide);
    /* the header holds NULs (the version bytes): search it bytewise */
    char *descr = NULL;
    for (size_t i = 0; !descr && i + 5 <= len && i < 256; i++)
        if (!memcmp((char *)bytes + i, "'<f8'", 5)) descr = (char *)bytes + i;
    if (descr) {
        descr[2] = 'i';
        unsigned char *data = (unsigned char *)bytes + len - (size_t)n * 8;
        for (int64_t e = 0; e < n; e++) /* little-endian, as the header says */
            for (int b = 0; b < 8; b++) data[e * 8 + b] = (unsigned char)((uint64_t)idx[e] >> (8 * b));
    }
    free(idx);
    if (!descr) {
        st = cli_error("--indices", "internal: no descr in the .npy header");
        goto done;
    }
    *out = bytes;
    *out_len = len;
    bytes = NULL;
done:
    free(bytes);
    for (int i = 0; i < 3; i++) lc_tensor_free(outs[i]);
    lc_graph_free(g);
    return st;
}

/* The parameters' values as the graph takes them: from --params DIR, else the modules' own
 * (default init from --seed) in the input's dtype. */
static int load_params(const run_opts *o, lc_module *model, const cli_params *ps, lc_dtype dtype,
                       lc_tensor **values) {
    if (o->params) return cli_params_read(o->params, ps, dtype, values);
    return cli_params_default(model, ps, dtype, values);
}

int cli_run(int argc, char **argv) {
    run_opts o = {.engine = CLI_ENGINE_JIT};
    int st = parse_run_args(argc, argv, &o);
    if (st != CLI_OK) return st;

    lc_module *model = NULL;
    cli_params ps = {0};
    /* the modules draw their default init from the stream as they are built */
    lc_random_seed(o.seed);
    if ((st = cli_model_load(&o.model, &model)) != CLI_OK) return st;
    if ((st = cli_model_check_layers(model, &o.model)) != CLI_OK) {
        lc_module_free(model);
        return st;
    }
    if ((st = cli_params_of(model, &ps)) != CLI_OK) {
        lc_module_free(model);
        return st;
    }

    /* Outputs: --out, --grad-in, then one per parameter (--grad-params), then --indices;
     * checked before any work so a bad target costs nothing and leaves nothing. */
    const lc_module *pool = NULL;
    if (o.indices && (st = indices_module(model, &pool)) != CLI_OK) {
        lc_module_free(model);
        cli_params_free(&ps);
        return st;
    }
    int max_outs = 3 + ps.n;
    cli_output *outs_f = calloc((size_t)max_outs, sizeof *outs_f);
    lc_tensor **values = calloc((size_t)ps.n + 1, sizeof *values);
    lc_tensor **res = calloc((size_t)ps.n + 2, sizeof *res);
    const lc_tensor **ins = calloc((size_t)ps.n + 2, sizeof *ins);
    if (!outs_f || !values || !res || !ins) {
        st = cli_error("run", "out of memory");
        goto release;
    }
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
    int first_param_out = n_outs;
    if (o.grad_params) {
        if ((st = cli_params_resolve_outputs(o.grad_params, &ps, &outs_f[n_outs])) != CLI_OK) goto release;
        n_outs += ps.n;
        for (int k = first_param_out; k < n_outs; k++)
            for (int j = 0; j < first_param_out; j++)
                if (cli_output_same(&outs_f[j], &outs_f[k])) {
                    st = cli_error("--grad-params", "'%s' is also the %s file", outs_f[k].path, outs_f[j].opt);
                    goto release;
                }
    }
    int indices_out = n_outs;
    if (o.indices) {
        if ((st = cli_output_resolve("--indices", o.indices, &outs_f[n_outs])) != CLI_OK) goto release;
        for (int j = 0; j < n_outs; j++)
            if (cli_output_same(&outs_f[j], &outs_f[n_outs])) {
                st = cli_error("--indices", "'%s' is also the %s file", o.indices, outs_f[j].opt);
                goto release;
            }
        n_outs++;
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

    lc_tensor *x = NULL, *seed = NULL;
    lc_graph *fwd = NULL, *train = NULL;
    void *idx_bytes = NULL; /* the --indices file's bytes, until staged */
    size_t idx_len = 0;
    char where[1100];
    char b1[64], b2[64];
    double t_read = lc_now_ms();
    if ((st = read_npy("--input", o.input, &x)) != CLI_OK) goto done;
    if ((st = load_params(&o, model, &ps, x->dtype, values)) != CLI_OK) goto done;
    if (o.grad_out && (st = read_npy("--grad-out", o.grad_out, &seed)) != CLI_OK) goto done;
    double read_ms = lc_now_ms() - t_read;

    double t_build = lc_now_ms();
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
    double build_ms = lc_now_ms() - t_build;

    /* The graph's inputs: x, the parameters in order, then (training) the seed; its outputs:
     * y, then (training) dx and each parameter's gradient. */
    cli_run_info info;
    int n_in = 0;
    ins[n_in++] = x;
    for (int k = 0; k < ps.n; k++) ins[n_in++] = values[k];
    if (train) ins[n_in++] = seed;
    int n_res = train ? 2 + ps.n : 1;
    lc_status rs = cli_run_graph(o.engine, train ? train : fwd, ins, n_in, res, n_res, &info);
    if (rs != LC_OK) { st = cli_lib_error(cli_engine_name(o.engine)); goto done; }
    if (o.indices && (st = indices_npy(pool, o.engine, x, &info, &idx_bytes, &idx_len)) != CLI_OK) goto done;

    /* Every result exists: stage them all, then commit them together. */
    double t_write = lc_now_ms();
    int k = 0;
    if (out_y && (st = stage_npy(&outs_f[k++], res[0])) != CLI_OK) goto done;
    if (out_gx && (st = stage_npy(&outs_f[k++], res[1])) != CLI_OK) goto done;
    for (int q = 0; o.grad_params && q < ps.n; q++)
        if ((st = stage_npy(&outs_f[k++], res[2 + q])) != CLI_OK) goto done;
    if (o.indices) {
        void *bytes = idx_bytes;
        idx_bytes = NULL; /* the stage owns it, even when it fails */
        if ((st = cli_output_stage(&outs_f[indices_out], bytes, idx_len)) != CLI_OK) goto done;
    }
    if ((st = cli_outputs_commit(outs_f, n_outs)) != CLI_OK) goto done;
    double write_ms = lc_now_ms() - t_write;

    print_model(summary, model);
    fprintf(summary, "input    %s %s %s\n", shown(o.input, "(stdin)"), lc_dtype_name(x->dtype),
            lc_shape_str(&x->shape, b1, sizeof b1));
    if (ps.n > 0) {
        if (o.params) fprintf(summary, "params   %d tensors from %s\n", ps.n, o.params);
        else fprintf(summary, "params   %d tensors, drawn from --seed %llu\n", ps.n, (unsigned long long)o.seed);
    }
    fprintf(summary, "output   %s %s -> %s\n", lc_dtype_name(res[0]->dtype), lc_shape_str(&res[0]->shape, b1, sizeof b1),
            o.out ? shown(o.out, "(stdout)") : "(not written: no --out)");
    if (train)
        fprintf(summary, "grad     seed %s %s -> %s %s\n", shown(o.grad_out, "(stdin)"),
                lc_shape_str(&seed->shape, b1, sizeof b1), shown(o.grad_in, "(stdout)"),
                lc_shape_str(&res[1]->shape, b2, sizeof b2));
    if (o.grad_params && ps.n > 0) fprintf(summary, "grads    %d parameter gradients -> %s\n", ps.n, o.grad_params);
    if (o.indices)
        fprintf(summary, "indices  int64 %s -> %s\n", lc_shape_str(&res[0]->shape, b1, sizeof b1),
                shown(o.indices, "(stdout)"));
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
    free(idx_bytes);
    for (int q = 0; res && q < ps.n + 2; q++) lc_tensor_free(res[q]);
    lc_tensor_free(seed);
    lc_tensor_free(x);
    lc_graph_free(train);
    lc_graph_free(fwd);
release:
    for (int q = 0; values && q < ps.n; q++) lc_tensor_free(values[q]);
    for (int i = 0; outs_f && i < max_outs; i++) cli_output_free(&outs_f[i]);
    free(outs_f);
    free(values);
    free(res);
    free(ins);
    cli_params_free(&ps);
    lc_module_free(model);
    return st;
}
