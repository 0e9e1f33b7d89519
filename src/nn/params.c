/* Parameters: the tensors a module owns, their state_dict names, their default
 * initialisation, and the graph inputs that stand for them (include/lucid/nn.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lucid/autograd.h"
#include "lucid/random.h"
#include "nn/module_internal.h"
#include "support/error.h"
#include "support/strbuf.h"

lc_status lc_module_alloc(lc_module_kind kind, const char *who, lc_module **out) {
    lc_module *m = calloc(1, sizeof *m);
    if (!m) return lc_fail(LC_ERR_NOMEM, "%s: out of memory", who);
    m->kind = kind;
    *out = m;
    return LC_OK;
}

/* Lucid's default: every weight and bias value from U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
static void draw(lc_tensor *t, int64_t fan_in) {
    double bound = 1.0 / sqrt((double)fan_in);
    for (int64_t i = 0; i < lc_tensor_numel(t); i++) lc_tensor_set(t, i, lc_random_uniform(-bound, bound));
}

lc_status lc_module_add_params(lc_module *m, const char *who, int64_t fan_in, int n,
                               const char *const *names, const lc_shape *shapes) {
    LC_ASSERT(n <= LC_MODULE_MAX_OWN_PARAMS && m->n_params == 0);
    lc_status st = LC_OK;
    for (int i = 0; i < n && st == LC_OK; i++) {
        st = lc_tensor_new(LC_F32, shapes[i], &m->params[i]);
        if (st == LC_OK) st = lc_tensor_set_requires_grad(m->params[i], true);
        m->param_names[i] = names[i];
    }
    if (st != LC_OK) {
        for (int i = 0; i < n; i++) {
            lc_tensor_free(m->params[i]);
            m->params[i] = NULL;
        }
        /* the tensor's message, copied: lc_fail writes the buffer lc_last_error reads */
        char why[256];
        snprintf(why, sizeof why, "%s", lc_last_error());
        return lc_fail(st, "%s: cannot allocate its parameters: %s", who, why);
    }
    m->n_params = n;
    m->fan_in = fan_in;
    for (int i = 0; i < n; i++) draw(m->params[i], fan_in);
    return LC_OK;
}

void lc_module_reset_parameters(lc_module *m) {
    if (!m) return;
    for (int i = 0; i < m->n_params; i++) draw(m->params[i], m->fan_in);
    for (int i = 0; i < m->n_children; i++) lc_module_reset_parameters(m->children[i]);
}

int lc_module_param_count(const lc_module *m) {
    if (!m) return 0;
    int n = m->n_params;
    for (int i = 0; i < m->n_children; i++) n += lc_module_param_count(m->children[i]);
    return n;
}

/* The module owning flat parameter i and the index among its own; the name's prefix
 * ("0.", "1.2.") goes to sb. */
static const lc_module *locate(const lc_module *m, int *i, lc_strbuf *sb) {
    if (*i < m->n_params) return m;
    *i -= m->n_params;
    for (int c = 0; c < m->n_children; c++) {
        int n = lc_module_param_count(m->children[c]);
        if (*i < n) {
            if (sb) lc_strbuf_printf(sb, "%d.", c);
            return locate(m->children[c], i, sb);
        }
        *i -= n;
    }
    return NULL;
}

/* Parameter i's full name into a malloc'd string and its owner and own index. */
static lc_status param_name(const lc_module *m, int i, char **name, const lc_module **owner, int *own) {
    lc_strbuf sb = {0};
    int k = i;
    const lc_module *o = locate(m, &k, &sb);
    LC_ASSERT(o != NULL);
    lc_strbuf_puts(&sb, o->param_names[k]);
    *owner = o;
    *own = k;
    return lc_strbuf_finish(&sb, name);
}

lc_status lc_module_param_at(lc_module *m, int i, char *name, size_t size, lc_tensor **tensor) {
    if (!m) return lc_fail(LC_ERR_INVALID_ARG, "module parameter: module must not be NULL");
    int count = lc_module_param_count(m);
    if (count == 0)
        return lc_fail(LC_ERR_INVALID_ARG, "%s: has no parameters, got index %d", lc_module_kind_name(m->kind), i);
    if (i < 0 || i >= count)
        return lc_fail(LC_ERR_INVALID_ARG, "module parameter: index must be between 0 and %d, got %d",
                       count - 1, i);
    char *full;
    const lc_module *owner;
    int own;
    LC_TRY(param_name(m, i, &full, &owner, &own));
    lc_status st = LC_OK;
    if (name) {
        if (strlen(full) + 1 > size)
            st = lc_fail(LC_ERR_INVALID_ARG, "module parameter: name %s needs %zu bytes, got room for %zu",
                         full, strlen(full) + 1, size);
        else
            memcpy(name, full, strlen(full) + 1);
    }
    free(full);
    if (st == LC_OK && tensor) *tensor = owner->params[own];
    return st;
}

lc_status lc_module_param_find(lc_module *m, const char *name, lc_tensor **tensor) {
    if (!m || !name || !tensor)
        return lc_fail(LC_ERR_INVALID_ARG, "module parameter: module, name and tensor must not be NULL");
    int count = lc_module_param_count(m);
    lc_strbuf known = {0};
    for (int i = 0; i < count; i++) {
        char *full;
        const lc_module *owner;
        int own;
        lc_status st = param_name(m, i, &full, &owner, &own);
        if (st != LC_OK) {
            lc_strbuf_free(&known);
            return st;
        }
        bool hit = strcmp(full, name) == 0;
        lc_strbuf_printf(&known, "%s%s", i ? ", " : "", full);
        free(full);
        if (hit) {
            lc_strbuf_free(&known);
            *tensor = owner->params[own];
            return LC_OK;
        }
    }
    char *list = NULL;
    lc_status st = lc_strbuf_finish(&known, &list);
    if (st != LC_OK) return st;
    st = lc_fail(LC_ERR_INVALID_ARG, "%s: no parameter named %s (it has %s)", lc_module_kind_name(m->kind), name,
                 count ? list : "none");
    free(list);
    return st;
}

lc_status lc_module_set_param(lc_module *m, const char *name, const lc_tensor *value) {
    if (!value) return lc_fail(LC_ERR_INVALID_ARG, "module parameter: value must not be NULL");
    lc_tensor *t;
    LC_TRY(lc_module_param_find(m, name, &t));
    if (!lc_shape_equal(&t->shape, &value->shape)) {
        char want[160], got[160];
        return lc_fail(LC_ERR_SHAPE, "%s: %s must have shape %s, got %s", lc_module_kind_name(m->kind), name,
                       lc_shape_str(&t->shape, want, sizeof want), lc_shape_str(&value->shape, got, sizeof got));
    }
    for (int64_t i = 0; i < lc_tensor_numel(t); i++) lc_tensor_set(t, i, lc_tensor_get(value, i));
    return LC_OK;
}

lc_status lc_module_param_input(const lc_module *m, lc_graph *g, int i, lc_dtype dtype,
                                const char *prefix, int *out) {
    char name[LC_PARAM_NAME_MAX + 8];
    int len = snprintf(name, sizeof name, "%s%s", prefix, m->param_names[i]);
    if (len < 0 || (size_t)len >= sizeof name)
        return lc_fail(LC_ERR_INVALID_ARG, "module: parameter name %s%s is longer than %d bytes", prefix,
                       m->param_names[i], LC_PARAM_NAME_MAX);
    return lc_input(g, name, dtype, m->params[i]->shape, out);
}
