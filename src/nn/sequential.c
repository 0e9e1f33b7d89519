/* Sequential: modules applied in order, each reading the previous one's output. */
#include <stdlib.h>

#include "nn/module_internal.h"
#include "support/error.h"

lc_status lc_sequential_new(lc_module **out) {
    if (!out) return lc_fail(LC_ERR_INVALID_ARG, "Sequential: out must not be NULL");
    *out = calloc(1, sizeof **out);
    if (!*out) return lc_fail(LC_ERR_NOMEM, "Sequential: out of memory");
    (*out)->kind = LC_MODULE_SEQUENTIAL;
    return LC_OK;
}

lc_status lc_sequential_append(lc_module *seq, lc_module *child) {
    if (!seq || seq->kind != LC_MODULE_SEQUENTIAL) {
        lc_module_free(child);
        return lc_fail(LC_ERR_INVALID_ARG, "Sequential: append needs a Sequential module");
    }
    if (!child || child == seq) {
        if (child != seq) lc_module_free(child);
        return lc_fail(LC_ERR_INVALID_ARG, "Sequential: child must be another module");
    }
    if (seq->n_children == seq->children_capacity) {
        int cap = seq->children_capacity ? seq->children_capacity * 2 : 4;
        lc_module **p = realloc(seq->children, (size_t)cap * sizeof *p);
        if (!p) {
            lc_module_free(child);
            return lc_fail(LC_ERR_NOMEM, "Sequential: out of memory");
        }
        seq->children = p;
        seq->children_capacity = cap;
    }
    seq->children[seq->n_children++] = child;
    return LC_OK;
}

int lc_sequential_count(const lc_module *m) { return m->kind == LC_MODULE_SEQUENTIAL ? m->n_children : 0; }

const lc_module *lc_sequential_child(const lc_module *m, int i) {
    if (m->kind != LC_MODULE_SEQUENTIAL || i < 0 || i >= m->n_children) return NULL;
    return m->children[i];
}
