/* lucidc check: run conformance case directories (docs/conformance.md) and compare
 * with their expected .npy files. torch/ cases carry PyTorch-style module params (the 1-D and
 * 2-D average and LP pools), forward and backward; onnx/ cases (`ndim` present) are forward
 * only and built as op graphs with ONNX's own rules (check_onnx.c), not through the modules,
 * whose limits are PyTorch's. One line per case, then "N passed, M failed, K skipped"; exit 1
 * when any failed, none ran, or a PATH held no case. A malformed case is a failure, not an
 * error of the command. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "lucid/npy.h"
#include "support/format_real.h"
#include "support/json.h"

const char cli_check_usage[] =
    "usage: lucidc check [--engine jit|interp] PATH...\n"
    "\n"
    "Run conformance cases and compare with their expected results. Each PATH is a case\n"
    "directory (it holds case.json) or a directory searched recursively for them. Runs the\n"
    "forward, and the backward where grad_out.npy is present.\n"
    "\n"
    "  --engine jit|interp  the compiled kernels (default) or the reference interpreter\n"
    "  -h, --help           this text\n"
    "  --                   every later argument is a PATH\n"
    "\n"
    "Prints one line per case, 'PASS|FAIL NAME MAX_ABS_ERR MAX_REL_ERR [NOTE]', then\n"
    "'N passed, M failed, K skipped'. ONNX cases are built with ONNX's rules (pads per side,\n"
    "auto_pad, dilations); a malformed case fails.\n"
    "Exit status: 0 all ran cases passed; 1 a case failed, no case ran, or a PATH holds no\n"
    "case (said on stderr); 2 usage or file error.\n";

typedef enum verdict { V_PASS, V_FAIL, V_SKIP } verdict;

typedef struct case_result {
    verdict v;
    bool have_err;
    cli_compare cmp;
    char note[768];
} case_result;

typedef struct case_list {
    char **dirs;
    int n, cap;
} case_list;

static bool is_dir(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static bool is_file(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

static char *join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static int add_case(case_list *l, const char *dir) {
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 16;
        char **p = realloc(l->dirs, (size_t)cap * sizeof *p);
        if (!p) return cli_error("check", "out of memory");
        l->dirs = p;
        l->cap = cap;
    }
    if (!(l->dirs[l->n] = strdup(dir))) return cli_error("check", "out of memory");
    l->n++;
    return CLI_OK;
}

/* A case directory, or every case directory below `dir` in sorted order. */
static int collect(case_list *l, const char *dir, int depth) {
    char *cj = join(dir, "case.json");
    if (!cj) return cli_error("check", "out of memory");
    bool is_case = is_file(cj);
    free(cj);
    if (is_case) return add_case(l, dir);
    if (depth > 64) return CLI_OK;
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    if (n < 0) return cli_error("check", "%s: cannot list: %s", dir, strerror(errno));
    int st = CLI_OK;
    for (int i = 0; i < n; i++) {
        if (st == CLI_OK && names[i]->d_name[0] != '.') {
            char *sub = join(dir, names[i]->d_name);
            if (!sub) st = cli_error("check", "out of memory");
            else if (is_dir(sub)) st = collect(l, sub, depth + 1);
            free(sub);
        }
        free(names[i]);
    }
    free(names);
    return st;
}

/* ---- one case ---- */

static verdict fail(case_result *r, const char *fmt, ...) LC_PRINTF(2, 3);
static verdict fail(case_result *r, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->note, sizeof r->note, fmt, ap);
    va_end(ap);
    return r->v = V_FAIL;
}

static bool json_int(const lc_json *o, const char *key, int64_t *out) {
    long long v;
    if (!lc_json_get_int(o, key, &v)) return false;
    *out = v;
    return true;
}

/* `key` as a bool; absent gives `dflt`; a non-bool is malformed. */
static bool json_bool(const lc_json *o, const char *key, bool dflt, bool *out) {
    const lc_json *v = lc_json_get(o, key);
    if (!v || v->type == LC_JSON_NULL) { *out = dflt; return true; }
    if (v->type != LC_JSON_BOOL) return false;
    *out = v->boolean;
    return true;
}

/* stride: an integer, or null/absent = unset. */
static bool json_stride(const lc_json *o, int64_t *out) {
    const lc_json *v = lc_json_get(o, "stride");
    if (!v || v->type == LC_JSON_NULL) { *out = LC_STRIDE_UNSET; return true; }
    return json_int(o, "stride", out);
}

/* `key` as a 2-D size: an integer (both axes) or a list [h, w]; absent leaves out alone. */
static bool json_size2(const lc_json *o, const char *key, int64_t out[2]) {
    const lc_json *v = lc_json_get(o, key);
    if (!v) return true;
    if (v->type == LC_JSON_NUMBER) {
        if (!json_int(o, key, &out[0])) return false;
        out[1] = out[0];
        return true;
    }
    if (v->type != LC_JSON_ARRAY || v->count != 2) return false;
    for (int i = 0; i < 2; i++) {
        double d = v->items[i].number;
        if (v->items[i].type != LC_JSON_NUMBER || d != floor(d) || fabs(d) > 9e15) return false;
        out[i] = (int64_t)d;
    }
    return true;
}

/* A 2-D stride: a size, or null/absent = unset. */
static bool json_stride2(const lc_json *o, int64_t out[2]) {
    const lc_json *v = lc_json_get(o, "stride");
    out[0] = out[1] = LC_STRIDE_UNSET;
    return !v || v->type == LC_JSON_NULL || json_size2(o, "stride", out);
}

/* MaxPool1d or MaxPool2d from a params object (sizes of MaxPool2d an integer or [h, w]). */
static verdict maxpool_from_params(case_result *r, const char *op, const lc_json *p, lc_module **out) {
    bool two_d = !strcmp(op, "MaxPool2d");
    int64_t k[2], stride[2] = {LC_STRIDE_UNSET, LC_STRIDE_UNSET}, pad[2] = {0, 0}, dil[2] = {1, 1};
    const lc_json *sv = lc_json_get(p, "stride");
    if (!lc_json_get(p, "kernel_size") || !json_size2(p, "kernel_size", k) ||
        (!two_d && lc_json_get(p, "kernel_size")->type != LC_JSON_NUMBER))
        return fail(r, "case.json: kernel_size must be an integer%s", two_d ? " or [h, w]" : "");
    if ((sv && sv->type != LC_JSON_NULL && !json_size2(p, "stride", stride)) || !json_size2(p, "padding", pad) ||
        !json_size2(p, "dilation", dil))
        return fail(r, "case.json: stride, padding and dilation must be integers%s", two_d ? " or [h, w]" : "");
    bool ceil_mode;
    if (!json_bool(p, "ceil_mode", false, &ceil_mode)) return fail(r, "case.json: ceil_mode must be true or false");
    lc_status st;
    if (two_d) {
        lc_maxpool2d_params m = lc_maxpool2d_defaults(k[0], k[1]);
        for (int a = 0; a < 2; a++) {
            m.stride[a] = stride[a];
            m.padding[a] = pad[a];
            m.dilation[a] = dil[a];
        }
        m.ceil_mode = ceil_mode;
        st = lc_maxpool2d_new(&m, out);
    } else {
        lc_maxpool1d_params m = lc_maxpool1d_defaults(k[0]);
        m.stride = stride[0];
        m.padding = pad[0];
        m.dilation = dil[0];
        m.ceil_mode = ceil_mode;
        st = lc_maxpool1d_new(&m, out);
    }
    if (st != LC_OK) return fail(r, "case.json: %s", lc_last_error());
    return V_PASS;
}

/* Build the module from a params object; `op` is "AvgPool1d", "LPPool1d", "AvgPool2d",
 * "LPPool2d", "MaxPool1d" or "MaxPool2d". */
static verdict module_from_params(case_result *r, const char *op, const lc_json *p,
                                  lc_module **out) {
    if (!p || p->type != LC_JSON_OBJECT) return fail(r, "case.json: params must be an object");
    if (!strcmp(op, "MaxPool1d") || !strcmp(op, "MaxPool2d")) return maxpool_from_params(r, op, p, out);
    lc_status st;
    bool avg2 = !strcmp(op, "AvgPool2d");
    if (avg2 || !strcmp(op, "LPPool2d")) {
        int64_t k[2];
        if (!lc_json_get(p, "kernel_size") || !json_size2(p, "kernel_size", k))
            return fail(r, "case.json: kernel_size must be an integer or a list of two");
        bool ceil_mode;
        if (!json_bool(p, "ceil_mode", false, &ceil_mode)) return fail(r, "case.json: ceil_mode must be true or false");
        if (avg2) {
            lc_avgpool2d_params a = lc_avgpool2d_defaults(k[0], k[1]);
            a.ceil_mode = ceil_mode;
            if (!json_stride2(p, a.stride) || !json_size2(p, "padding", a.padding))
                return fail(r, "case.json: stride and padding must be integers or lists of two");
            if (!json_bool(p, "count_include_pad", true, &a.count_include_pad))
                return fail(r, "case.json: count_include_pad must be true or false");
            st = lc_avgpool2d_new(&a, out);
        } else {
            const lc_json *nt = lc_json_get(p, "norm_type");
            if (!nt || nt->type != LC_JSON_NUMBER) return fail(r, "case.json: norm_type must be a number");
            lc_lppool2d_params l = lc_lppool2d_defaults(nt->number, k[0], k[1]);
            l.ceil_mode = ceil_mode;
            if (!json_stride2(p, l.stride)) return fail(r, "case.json: stride must be an integer, a list of two or null");
            st = lc_lppool2d_new(&l, out);
        }
        if (st != LC_OK) return fail(r, "case.json: %s", lc_last_error());
        return V_PASS;
    }
    int64_t k;
    if (!json_int(p, "kernel_size", &k)) return fail(r, "case.json: kernel_size must be an integer");
    if (!strcmp(op, "AvgPool1d")) {
        lc_avgpool1d_params a = lc_avgpool1d_defaults(k);
        if (!json_stride(p, &a.stride)) return fail(r, "case.json: stride must be an integer or null");
        if (lc_json_get(p, "padding") && !json_int(p, "padding", &a.padding))
            return fail(r, "case.json: padding must be an integer");
        if (!json_bool(p, "ceil_mode", false, &a.ceil_mode) ||
            !json_bool(p, "count_include_pad", true, &a.count_include_pad))
            return fail(r, "case.json: ceil_mode and count_include_pad must be true or false");
        st = lc_avgpool1d_new(&a, out);
    } else if (!strcmp(op, "LPPool1d")) {
        const lc_json *nt = lc_json_get(p, "norm_type");
        if (!nt || nt->type != LC_JSON_NUMBER) return fail(r, "case.json: norm_type must be a number");
        lc_lppool1d_params l = lc_lppool1d_defaults(nt->number, k);
        if (!json_stride(p, &l.stride)) return fail(r, "case.json: stride must be an integer or null");
        if (!json_bool(p, "ceil_mode", false, &l.ceil_mode))
            return fail(r, "case.json: ceil_mode must be true or false");
        st = lc_lppool1d_new(&l, out);
    } else {
        return fail(r, "case.json: unknown op '%s'", op);
    }
    if (st != LC_OK) return fail(r, "case.json: %s", lc_last_error());
    return V_PASS;
}

static const char *json_str(const lc_json *o, const char *key) {
    const lc_json *v = lc_json_get(o, key);
    return v && v->type == LC_JSON_STRING ? v->string : NULL;
}

static verdict read_npy(case_result *r, const char *dir, const char *name, lc_tensor **out) {
    char *path = join(dir, name);
    if (!path) return fail(r, "out of memory");
    lc_status st = lc_npy_read(path, out);
    free(path);
    if (st != LC_OK) return fail(r, "%s", lc_last_error());
    return V_PASS;
}

/* Compare one result; a shape or dtype mismatch, or values outside tolerance, fail. */
static verdict compare(case_result *r, const char *what, const lc_tensor *got,
                       const lc_tensor *want, double rtol, double atol) {
    char b1[64], b2[64];
    if (!lc_shape_equal(&got->shape, &want->shape))
        return fail(r, "%s: shape %s, expected %s", what, lc_shape_str(&got->shape, b1, sizeof b1),
                    lc_shape_str(&want->shape, b2, sizeof b2));
    cli_compare c;
    cli_compare_tensors(got, want, rtol, atol, &c);
    cli_compare_merge(&r->cmp, &c);
    r->have_err = true;
    if (c.n_bad) {
        char g[32], w[32];
        return fail(r, "%s: %lld of %lld elements outside tolerance; first at flat index %lld: "
                       "got %s, want %s", what, (long long)c.n_bad, (long long)lc_tensor_numel(want),
                    (long long)c.first_bad, lc_format_real(c.got_bad, false, g),
                    lc_format_real(c.want_bad, false, w));
    }
    return V_PASS;
}

/* expected_indices.npy (float64 holding the integer indices) against the module's indices,
 * computed on `engine`: every index must be equal. */
static verdict check_indices(case_result *r, const char *dir, cli_engine engine, const lc_module *m,
                             const lc_tensor *x) {
    lc_tensor *want = NULL, *outs[3] = {NULL, NULL, NULL};
    lc_graph *g = NULL;
    int64_t *got = NULL;
    cli_run_info info;
    verdict v = read_npy(r, dir, "expected_indices.npy", &want);
    if (v != V_PASS) return v;
    int n_coords = lc_module_get_kind(m) == LC_MODULE_MAXPOOL2D ? 2 : 1;
    const lc_tensor *ins[1] = {x};
    char b1[64], b2[64];
    if (lc_module_graph_indices(m, x->dtype, x->shape, &g) != LC_OK ||
        cli_run_graph(engine, g, ins, 1, outs, 1 + n_coords, &info) != LC_OK) {
        v = fail(r, "indices: %s", lc_last_error());
    } else if (!lc_shape_equal(&want->shape, &outs[0]->shape)) {
        v = fail(r, "indices: shape %s, expected %s", lc_shape_str(&outs[0]->shape, b1, sizeof b1),
                 lc_shape_str(&want->shape, b2, sizeof b2));
    } else if (!(got = malloc((size_t)(lc_tensor_numel(want) + 1) * sizeof *got))) {
        v = fail(r, "out of memory");
    } else if (lc_maxpool_indices(m, x->shape, (const lc_tensor *const *)&outs[1], n_coords, got) != LC_OK) {
        v = fail(r, "indices: %s", lc_last_error());
    } else {
        int64_t n = lc_tensor_numel(want), bad = 0, first = -1;
        for (int64_t e = 0; e < n; e++)
            if ((double)got[e] != lc_tensor_get(want, e) && bad++ == 0) first = e;
        if (bad)
            v = fail(r, "indices: %lld of %lld differ; first at flat index %lld: got %lld, want %.17g",
                     (long long)bad, (long long)n, (long long)first, (long long)got[first],
                     lc_tensor_get(want, first));
    }
    free(got);
    for (int i = 0; i < 3; i++) lc_tensor_free(outs[i]);
    lc_graph_free(g);
    lc_tensor_free(want);
    return v;
}

static verdict run_case(const char *dir, cli_engine engine, const lc_json *c, case_result *r) {
    if (c->type != LC_JSON_OBJECT) return fail(r, "case.json: not a JSON object");
    lc_module *m = NULL;
    bool onnx = lc_json_get(c, "ndim") != NULL;
    verdict v;
    if (onnx) {
        v = V_PASS; /* the graph is built once the input's shape is known */
    } else {
        const char *op = json_str(c, "op");
        if (!op) return fail(r, "case.json: op must be a string");
        v = module_from_params(r, op, lc_json_get(c, "params"), &m);
    }
    if (v != V_PASS) return v;

    double rtol = 1e-4, atol = 1e-5;
    const lc_json *tol = lc_json_get(c, "tolerance");
    if (tol) {
        const lc_json *rt = lc_json_get(tol, "rtol"), *at = lc_json_get(tol, "atol");
        if (tol->type != LC_JSON_OBJECT || (rt && rt->type != LC_JSON_NUMBER) ||
            (at && at->type != LC_JSON_NUMBER)) {
            lc_module_free(m);
            return fail(r, "case.json: tolerance must be {\"rtol\": number, \"atol\": number}");
        }
        if (rt) rtol = rt->number;
        if (at) atol = at->number;
    }

    lc_tensor *x = NULL, *want = NULL, *seed = NULL, *want_grad = NULL, *outs[2] = {NULL, NULL};
    lc_graph *fwd = NULL, *train = NULL;
    char *gpath = join(dir, "grad_out.npy");
    bool backward = !onnx && gpath && is_file(gpath);
    free(gpath);
    cli_run_info info;
    if ((v = read_npy(r, dir, "input.npy", &x)) != V_PASS) goto done;
    if ((v = read_npy(r, dir, onnx ? "expected.npy" : "expected_out.npy", &want)) != V_PASS) goto done;
    if (backward && ((v = read_npy(r, dir, "grad_out.npy", &seed)) != V_PASS ||
                     (v = read_npy(r, dir, "expected_grad_in.npy", &want_grad)) != V_PASS))
        goto done;
    if (onnx ? cli_onnx_graph(c, x->dtype, x->shape, &fwd) != LC_OK
             : cli_build_forward(m, x->dtype, x->shape, &fwd) != LC_OK) {
        v = fail(r, "%s: %s", onnx ? "case.json" : "forward", lc_last_error());
        goto done;
    }
    if (backward) {
        const lc_node *y = lc_graph_node(fwd, lc_graph_output(fwd, 0));
        char b1[64], b2[64];
        if (!lc_shape_equal(&seed->shape, &y->shape) || seed->dtype != y->dtype) {
            v = fail(r, "grad_out.npy: %s %s does not match the output, %s %s", lc_dtype_name(seed->dtype),
                     lc_shape_str(&seed->shape, b1, sizeof b1), lc_dtype_name(y->dtype),
                     lc_shape_str(&y->shape, b2, sizeof b2));
            goto done;
        }
        if (cli_build_training(fwd, &train) != LC_OK) {
            v = fail(r, "autodiff: %s", lc_last_error());
            goto done;
        }
        const lc_tensor *ins[2] = {x, seed};
        if (cli_run_graph(engine, train, ins, 2, outs, 2, &info) != LC_OK) {
            v = fail(r, "%s: %s", cli_engine_name(engine), lc_last_error());
            goto done;
        }
    } else {
        const lc_tensor *ins[1] = {x};
        if (cli_run_graph(engine, fwd, ins, 1, outs, 1, &info) != LC_OK) {
            v = fail(r, "%s: %s", cli_engine_name(engine), lc_last_error());
            goto done;
        }
    }
    v = compare(r, "output", outs[0], want, rtol, atol);
    if (v == V_PASS && backward) v = compare(r, "grad_in", outs[1], want_grad, rtol, atol);
    char *ipath = join(dir, "expected_indices.npy");
    if (v == V_PASS && !onnx && ipath && is_file(ipath)) v = check_indices(r, dir, engine, m, x);
    free(ipath);
    if (v == V_PASS) r->v = V_PASS;
done:
    lc_tensor_free(outs[0]);
    lc_tensor_free(outs[1]);
    lc_tensor_free(x);
    lc_tensor_free(want);
    lc_tensor_free(seed);
    lc_tensor_free(want_grad);
    lc_graph_free(fwd);
    lc_graph_free(train);
    lc_module_free(m);
    return v;
}

static verdict check_one(const char *dir, cli_engine engine, char *name, size_t name_size, case_result *r) {
    memset(r, 0, sizeof *r);
    const char *base = strrchr(dir, '/');
    base = base && base[1] ? base + 1 : dir;
    snprintf(name, name_size, "%s", base);
    char *path = join(dir, "case.json");
    char *text = NULL;
    lc_status rs = path ? cli_slurp(path, &text) : lc_fail(LC_ERR_NOMEM, "out of memory");
    free(path);
    if (rs != LC_OK) return fail(r, "case.json: %s", lc_last_error());
    lc_json *c = NULL;
    lc_status st = lc_json_parse(text, &c);
    free(text);
    if (st != LC_OK) return fail(r, "case.json: %s", lc_last_error());
    const char *n = json_str(c, "name");
    if (n) snprintf(name, name_size, "%s", n);
    verdict v = run_case(dir, engine, c, r);
    lc_json_free(c);
    return v;
}

int cli_check(int argc, char **argv) {
    cli_args a = {.argc = argc, .argv = argv};
    cli_engine engine = CLI_ENGINE_JIT;
    int st = CLI_OK;
    case_list cases = {0};
    const char **paths = calloc((size_t)argc + 1, sizeof *paths);
    int n_paths = 0;
    bool empty_path = false;
    if (!paths) return cli_error("check", "out of memory");
    while (a.i < argc && st == CLI_OK) {
        const char *v;
        if (cli_opt_value(&a, "--engine", &v, &st)) {
            if (st == CLI_OK) st = cli_parse_engine("--engine", v, &engine);
            continue;
        }
        if (!strcmp(argv[a.i], "--")) {
            for (a.i++; a.i < argc; a.i++) paths[n_paths++] = argv[a.i];
            break;
        }
        if (argv[a.i][0] == '-' && argv[a.i][1]) {
            st = cli_error("check", "unknown option '%s'", argv[a.i]);
            break;
        }
        paths[n_paths++] = argv[a.i++];
    }
    if (st == CLI_OK && n_paths == 0) st = cli_error("check", "give at least one case directory or directory of cases");
    for (int i = 0; st == CLI_OK && i < n_paths; i++) {
        if (!is_dir(paths[i])) {
            struct stat sb;
            st = stat(paths[i], &sb) != 0 ? cli_error("check", "%s: %s", paths[i], strerror(errno))
                                          : cli_error("check", "%s: not a directory", paths[i]);
            break;
        }
        int before = cases.n;
        st = collect(&cases, paths[i], 0);
        /* A PATH with no case is most likely a typo: say so rather than pass quietly. */
        if (st == CLI_OK && cases.n == before) {
            fprintf(stderr, "lucidc: check: no case found under %s\n", paths[i]);
            empty_path = true;
        }
    }
    free(paths);
    int passed = 0, failed = 0, skipped = 0;
    for (int i = 0; st == CLI_OK && i < cases.n; i++) {
        char name[256];
        case_result r;
        verdict v = check_one(cases.dirs[i], engine, name, sizeof name, &r);
        const char *tag = v == V_PASS ? "PASS" : v == V_FAIL ? "FAIL" : "SKIP";
        if (r.have_err)
            printf("%s %s %.3g %.3g", tag, name, r.cmp.max_abs, r.cmp.max_rel);
        else
            printf("%s %s - -", tag, name);
        if (r.note[0]) printf(" %s", r.note);
        putchar('\n');
        if (v == V_PASS) passed++;
        else if (v == V_FAIL) failed++;
        else skipped++;
    }
    for (int i = 0; i < cases.n; i++) free(cases.dirs[i]);
    free(cases.dirs);
    if (st != CLI_OK) return st;
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    fflush(stdout);
    return failed || passed == 0 || empty_path ? CLI_MISMATCH : CLI_OK;
}
