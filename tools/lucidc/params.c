/* lucidc run's parameter files: DIR/I.NAME.npy, I the module's 0-based position in the model
 * and NAME its state_dict name ("0.weight.npy", "2.bias.npy"; positional even for a single
 * --module). --params reads one file per parameter and refuses a missing, extra or misshapen
 * one before anything runs; --grad-params writes one gradient per parameter under the same
 * names, staged with the run's other outputs so that a failing run writes none of them. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "lucid/npy.h"

int cli_params_of(lc_module *m, cli_params *out) {
    memset(out, 0, sizeof *out);
    int n = lc_module_param_count(m);
    out->p = calloc((size_t)n + 1, sizeof *out->p);
    if (!out->p) return cli_error("--params", "out of memory");
    out->n = n;
    /* a single --module is position 0 all the same: its own names lack the "0." */
    const char *prefix = lc_module_get_kind(m) == LC_MODULE_SEQUENTIAL ? "" : "0.";
    for (int k = 0; k < n; k++) {
        char name[LC_PARAM_NAME_MAX];
        lc_tensor *t;
        if (lc_module_param_at(m, k, name, sizeof name, &t) != LC_OK) return cli_lib_error("--params");
        snprintf(out->p[k].file, sizeof out->p[k].file, "%s%s.npy", prefix, name);
        out->p[k].shape = t->shape;
    }
    return CLI_OK;
}

int cli_params_default(lc_module *m, const cli_params *ps, lc_dtype dtype, lc_tensor **values) {
    for (int k = 0; k < ps->n; k++) {
        lc_tensor *t;
        if (lc_module_param_at(m, k, NULL, 0, &t) != LC_OK ||
            lc_tensor_new(dtype, t->shape, &values[k]) != LC_OK)
            return cli_lib_error("--params");
        for (int64_t i = 0; i < lc_tensor_numel(t); i++) lc_tensor_set(values[k], i, lc_tensor_get(t, i));
    }
    return CLI_OK;
}

void cli_params_free(cli_params *ps) {
    for (int k = 0; k < ps->n; k++) free(ps->p[k].grad_path);
    free(ps->p);
    memset(ps, 0, sizeof *ps);
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_npy_suffix(const char *name) {
    size_t n = strlen(name);
    return n >= 4 && !strcmp(name + n - 4, ".npy");
}

/* "0.weight.npy, 0.bias.npy" or "none". */
static void list_files(const cli_params *ps, char *buf, size_t size) {
    size_t used = 0;
    buf[0] = '\0';
    if (ps->n == 0) snprintf(buf, size, "none");
    for (int i = 0; i < ps->n && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "", ps->p[i].file);
}

/* Every *.npy in `dir` must be one of the parameters' files (checked in name order, so the
 * error names the same file every time). */
static int refuse_extra_files(const char *dir, const cli_params *ps) {
    DIR *d = opendir(dir);
    if (!d) return cli_error("--params", "%s: cannot open the directory: %s", dir, strerror(errno));
    char **names = NULL;
    int n = 0, cap = 0, st = CLI_OK;
    for (struct dirent *e; (e = readdir(d)) != NULL && st == CLI_OK;) {
        if (!has_npy_suffix(e->d_name)) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **grown = realloc(names, sizeof *names * (size_t)cap);
            if (!grown) { st = cli_error("--params", "out of memory"); break; }
            names = grown;
        }
        names[n] = strdup(e->d_name);
        if (!names[n]) { st = cli_error("--params", "out of memory"); break; }
        n++;
    }
    closedir(d);
    if (st == CLI_OK && n > 0) qsort(names, (size_t)n, sizeof *names, by_name);
    for (int i = 0; i < n && st == CLI_OK; i++) {
        bool known = false;
        for (int k = 0; k < ps->n && !known; k++) known = !strcmp(names[i], ps->p[k].file);
        if (!known) {
            char expected[1024];
            list_files(ps, expected, sizeof expected);
            st = cli_error("--params", "%s/%s: not a parameter of the model (its parameter files: %s)",
                           dir, names[i], expected);
        }
    }
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
    return st;
}

int cli_params_read(const char *dir, const cli_params *ps, lc_dtype dtype, lc_tensor **values) {
    for (int k = 0; k < ps->n; k++) values[k] = NULL;
    int st = refuse_extra_files(dir, ps);
    char path[4200], b1[96], b2[96];
    for (int k = 0; k < ps->n && st == CLI_OK; k++) {
        const cli_param *p = &ps->p[k];
        snprintf(path, sizeof path, "%s/%s", dir, p->file);
        struct stat sb;
        if (stat(path, &sb) != 0 && errno == ENOENT) {
            st = cli_error("--params", "%s: missing (the model's parameter %.*s)", path,
                           (int)(strlen(p->file) - 4), p->file);
            break;
        }
        if (lc_npy_read(path, &values[k]) != LC_OK) {
            st = cli_lib_error("--params");
            break;
        }
        if (values[k]->dtype != dtype)
            st = cli_error("--params", "%s: dtype %s does not match the input's dtype %s", path,
                           lc_dtype_name(values[k]->dtype), lc_dtype_name(dtype));
        else if (!lc_shape_equal(&values[k]->shape, &p->shape))
            st = cli_error("--params", "%s: shape %s does not match the parameter's shape %s", path,
                           lc_shape_str(&values[k]->shape, b1, sizeof b1),
                           lc_shape_str(&p->shape, b2, sizeof b2));
    }
    if (st != CLI_OK)
        for (int k = 0; k < ps->n; k++) {
            lc_tensor_free(values[k]);
            values[k] = NULL;
        }
    return st;
}

int cli_params_check_dirs(const char *params_dir, const char *grad_dir) {
    struct stat g, p;
    if (stat(grad_dir, &g) != 0) return CLI_OK; /* made when the outputs are resolved */
    if (!S_ISDIR(g.st_mode)) return cli_error("--grad-params", "%s: exists and is not a directory", grad_dir);
    if (params_dir && stat(params_dir, &p) == 0 && p.st_dev == g.st_dev && p.st_ino == g.st_ino)
        return cli_error("--grad-params", "%s is the --params directory: the gradients would replace "
                         "the parameters", grad_dir);
    return CLI_OK;
}

int cli_params_resolve_outputs(const char *grad_dir, cli_params *ps, cli_output *outs) {
    if (cli_ensure_dir(grad_dir) != LC_OK) return cli_lib_error("--grad-params");
    for (int k = 0; k < ps->n; k++) {
        size_t len = strlen(grad_dir) + strlen(ps->p[k].file) + 2;
        char *path = malloc(len);
        if (!path) return cli_error("--grad-params", "out of memory");
        snprintf(path, len, "%s/%s", grad_dir, ps->p[k].file);
        free(ps->p[k].grad_path);
        ps->p[k].grad_path = path;
        int st = cli_output_resolve("--grad-params", path, &outs[k]);
        if (st != CLI_OK) return st;
    }
    return CLI_OK;
}
