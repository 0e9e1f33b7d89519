/* What every module shares: dispatch, output shapes, printing, freeing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/module_internal.h"
#include "support/error.h"
#include "support/format_real.h"
#include "support/strbuf.h"

void lc_module_free(lc_module *m) {
    if (!m) return;
    for (int i = 0; i < m->n_children; i++) lc_module_free(m->children[i]);
    free(m->children);
    free(m);
}

lc_module_kind lc_module_get_kind(const lc_module *m) { return m->kind; }
lc_avgpool1d_params lc_module_avgpool1d_params(const lc_module *m) { return m->avg; }
lc_lppool1d_params lc_module_lppool1d_params(const lc_module *m) { return m->lp; }
lc_maxpool1d_params lc_module_maxpool1d_params(const lc_module *m) { return m->max1; }
lc_maxpool2d_params lc_module_maxpool2d_params(const lc_module *m) { return m->max2; }

lc_status lc_module_name_node(lc_graph *g, int node, const char *prefix, const char *who,
                              const char *role) {
    char name[128];
    if (!role) role = lc_op_get_info(lc_graph_node(g, node)->op)->name;
    snprintf(name, sizeof name, "%s%s.%s", prefix, who, role);
    return lc_graph_set_name(g, node, name);
}

static lc_status forward(const lc_module *m, lc_graph *g, int x, const char *prefix, int *y) {
    switch (m->kind) {
    case LC_MODULE_AVGPOOL1D: return lc_avgpool1d_forward(m, g, x, prefix, y);
    case LC_MODULE_LPPOOL1D: return lc_lppool1d_forward(m, g, x, prefix, y);
    case LC_MODULE_MAXPOOL1D: return lc_maxpool1d_forward(m, g, x, prefix, y);
    case LC_MODULE_MAXPOOL2D: return lc_maxpool2d_forward(m, g, x, prefix, y);
    case LC_MODULE_SEQUENTIAL:
        for (int i = 0; i < m->n_children; i++) {
            char child_prefix[32];
            snprintf(child_prefix, sizeof child_prefix, "%s%d.", prefix, i);
            LC_TRY(forward(m->children[i], g, x, child_prefix, &x));
        }
        *y = x;
        return LC_OK;
    }
    return lc_fail(LC_ERR_INTERNAL, "module: unknown kind %d", (int)m->kind);
}

lc_status lc_module_forward(const lc_module *m, lc_graph *g, int x, int *y) {
    if (!m || !g) return lc_fail(LC_ERR_INVALID_ARG, "module forward: module and graph must not be NULL");
    if (x < 0 || x >= lc_graph_node_count(g))
        return lc_fail(LC_ERR_INVALID_ARG, "module forward: x must name a node of the graph, got %d", x);
    return forward(m, g, x, "", y);
}

lc_status lc_module_graph(const lc_module *m, lc_dtype dtype, lc_shape shape, lc_graph **out) {
    if (!out) return lc_fail(LC_ERR_INVALID_ARG, "module graph: out must not be NULL");
    *out = NULL;
    lc_graph *g;
    LC_TRY(lc_graph_new(&g));
    int x, y;
    lc_status st = lc_input(g, "x", dtype, shape, &x);
    if (st == LC_OK) st = lc_module_forward(m, g, x, &y);
    if (st == LC_OK) st = lc_graph_add_output(g, y);
    if (st != LC_OK) {
        lc_graph_free(g);
        return st;
    }
    *out = g;
    return LC_OK;
}

lc_status lc_module_output_shape(const lc_module *m, lc_shape in, lc_shape *out) {
    if (!out) return lc_fail(LC_ERR_INVALID_ARG, "module output shape: out must not be NULL");
    /* Shapes follow from building the ops on a scratch graph: one rule set, no twin. */
    lc_graph *g;
    LC_TRY(lc_module_graph(m, LC_F32, in, &g));
    *out = lc_graph_node(g, lc_graph_output(g, 0))->shape;
    lc_graph_free(g);
    return LC_OK;
}

static const char *py_bool(bool b) { return b ? "True" : "False"; }

static void repr(lc_strbuf *sb, const lc_module *m, int indent) {
    switch (m->kind) {
    case LC_MODULE_AVGPOOL1D:
        lc_strbuf_printf(sb, "AvgPool1d(kernel_size=%lld, stride=%lld, padding=%lld, ceil_mode=%s, "
                         "count_include_pad=%s)", (long long)m->avg.kernel_size,
                         (long long)m->avg.stride, (long long)m->avg.padding,
                         py_bool(m->avg.ceil_mode), py_bool(m->avg.count_include_pad));
        return;
    case LC_MODULE_LPPOOL1D:
        lc_strbuf_puts(sb, "LPPool1d(norm_type=");
        char num[32];
        lc_strbuf_puts(sb, lc_format_number(m->lp.norm_type, num));
        lc_strbuf_printf(sb, ", kernel_size=%lld, stride=%lld, ceil_mode=%s)",
                         (long long)m->lp.kernel_size, (long long)m->lp.stride, py_bool(m->lp.ceil_mode));
        return;
    case LC_MODULE_MAXPOOL1D:
    case LC_MODULE_MAXPOOL2D:
        lc_maxpool_repr(sb, m);
        return;
    case LC_MODULE_SEQUENTIAL:
        if (m->n_children == 0) {
            lc_strbuf_puts(sb, "Sequential()");
            return;
        }
        lc_strbuf_puts(sb, "Sequential(\n");
        for (int i = 0; i < m->n_children; i++) {
            lc_strbuf_printf(sb, "%*s(%d): ", indent + 2, "", i);
            repr(sb, m->children[i], indent + 2);
            lc_strbuf_puts(sb, "\n");
        }
        lc_strbuf_printf(sb, "%*s)", indent, "");
        return;
    }
}

lc_status lc_module_repr(const lc_module *m, char **out) {
    if (!m || !out) return lc_fail(LC_ERR_INVALID_ARG, "module repr: module and out must not be NULL");
    lc_strbuf sb = {0};
    repr(&sb, m, 0);
    return lc_strbuf_finish(&sb, out);
}
