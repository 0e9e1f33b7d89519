/* The model options shared by run and dump: --model FILE or --module SPEC (repeatable), never
 * both, parsed by the library's model-spec parser (lucid/model_spec.h). */
#include <stdlib.h>

#include "cli.h"
#include "lucid/model_spec.h"

bool cli_model_option(cli_args *a, cli_model_opts *m, int *status) {
    const char *v;
    if (cli_opt_value(a, "--model", &v, status)) {
        if (*status != CLI_OK) return true;
        if (m->model_file) *status = cli_error("--model", "given twice ('%s' and '%s')", m->model_file, v);
        else if (m->n_modules) *status = cli_error("--model", "cannot be combined with --module (give one or the other)");
        else m->model_file = v;
        return true;
    }
    if (cli_opt_value(a, "--module", &v, status)) {
        if (*status != CLI_OK) return true;
        if (m->model_file) *status = cli_error("--module", "cannot be combined with --model (give one or the other)");
        else if (m->n_modules == CLI_MAX_MODULES) *status = cli_error("--module", "at most %d modules", CLI_MAX_MODULES);
        else m->modules[m->n_modules++] = v;
        return true;
    }
    return false;
}

bool cli_model_empty(const cli_model_opts *m) { return !m->model_file && m->n_modules == 0; }

int cli_model_load(const cli_model_opts *m, lc_module **out) {
    *out = NULL;
    if (m->model_file) {
        char *text;
        if (cli_read_text("--model", m->model_file, &text) != CLI_OK) return CLI_ERROR;
        lc_status st = lc_model_parse(text, m->model_file, out);
        free(text);
        return st == LC_OK ? CLI_OK : cli_lib_error(NULL);
    }
    if (m->n_modules == 0) return cli_error(NULL, "no model: give --model FILE or --module SPEC");
    lc_module *seq = NULL;
    for (int i = 0; i < m->n_modules; i++) {
        char label[32];
        snprintf(label, sizeof label, "--module %d", i + 1);
        lc_module *one;
        if (lc_model_parse_call(m->modules[i], label, &one) != LC_OK) {
            lc_module_free(seq);
            return cli_lib_error(NULL);
        }
        if (m->n_modules == 1) {
            *out = one;
            return CLI_OK;
        }
        if (!seq && lc_sequential_new(&seq) != LC_OK) {
            lc_module_free(one);
            return cli_lib_error("--module");
        }
        if (lc_sequential_append(seq, one) != LC_OK) {
            lc_module_free(seq);
            return cli_lib_error("--module");
        }
    }
    *out = seq;
    return CLI_OK;
}

/* A max pool built with return_indices=True, or NULL: the first in the model. */
static const lc_module *max_pool_with_indices(const lc_module *m) {
    lc_module_kind kind = lc_module_get_kind(m);
    if (kind == LC_MODULE_SEQUENTIAL) {
        for (int i = 0; i < lc_sequential_count(m); i++) {
            const lc_module *c = max_pool_with_indices(lc_sequential_child(m, i));
            if (c) return c;
        }
        return NULL;
    }
    if (kind == LC_MODULE_MAXPOOL1D) return lc_module_maxpool1d_params(m).return_indices ? m : NULL;
    if (kind == LC_MODULE_MAXPOOL2D) return lc_module_maxpool2d_params(m).return_indices ? m : NULL;
    return NULL;
}

int cli_model_check_layers(const lc_module *m, const cli_model_opts *o) {
    const char *opt = o->model_file ? "--model" : "--module";
    /* A layer of a model spec gives one tensor on: the indices are run's --indices FILE. */
    const lc_module *mp = max_pool_with_indices(m);
    if (mp)
        return cli_error(opt, "%s: return_indices=True is not accepted by lucidc (a layer passes one "
                         "tensor on; 'lucidc run --indices FILE' writes a max pool's indices)",
                         lc_module_get_kind(mp) == LC_MODULE_MAXPOOL1D ? "MaxPool1d" : "MaxPool2d");
    if (lc_module_input_count(m) == 1) return CLI_OK;
    char *text = NULL;
    lc_status st = lc_module_repr(m, &text);
    int r = cli_error(opt,
                      "%s takes %d inputs (input, target): a loss is a module of the C and Python APIs, "
                      "not a layer of a model spec", st == LC_OK ? text : "the module", lc_module_input_count(m));
    free(text);
    return r;
}
