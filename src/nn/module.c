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
    for (int i = 0; i < m->n_params; i++) lc_tensor_free(m->params[i]);
    free(m->children);
    free(m);
}

lc_module_kind lc_module_get_kind(const lc_module *m) { return m->kind; }
lc_avgpool1d_params lc_module_avgpool1d_params(const lc_module *m) { return m->avg; }
lc_lppool1d_params lc_module_lppool1d_params(const lc_module *m) { return m->lp; }
lc_maxpool1d_params lc_module_maxpool1d_params(const lc_module *m) { return m->max1; }
lc_maxpool2d_params lc_module_maxpool2d_params(const lc_module *m) { return m->max2; }
lc_avgpool2d_params lc_module_avgpool2d_params(const lc_module *m) { return m->avg2; }
lc_lppool2d_params lc_module_lppool2d_params(const lc_module *m) { return m->lp2; }
lc_linear_params lc_module_linear_params(const lc_module *m) { return m->linear; }
lc_conv1d_params lc_module_conv1d_params(const lc_module *m) { return m->conv; }
lc_mseloss_params lc_module_mseloss_params(const lc_module *m) { return m->mse; }

const char *lc_module_kind_name(lc_module_kind kind) {
    switch (kind) {
    case LC_MODULE_AVGPOOL1D: return "AvgPool1d";
    case LC_MODULE_LPPOOL1D: return "LPPool1d";
    case LC_MODULE_LINEAR: return "Linear";
    case LC_MODULE_RELU: return "ReLU";
    case LC_MODULE_MSELOSS: return "MSELoss";
    case LC_MODULE_CONV1D: return "Conv1d";
    case LC_MODULE_MAXPOOL1D: return "MaxPool1d";
    case LC_MODULE_MAXPOOL2D: return "MaxPool2d";
    case LC_MODULE_AVGPOOL2D: return "AvgPool2d";
    case LC_MODULE_LPPOOL2D: return "LPPool2d";
    case LC_MODULE_SEQUENTIAL: return "Sequential";
    }
    return "module";
}

int lc_module_input_count(const lc_module *m) {
    if (!m) return 0;
    if (m->kind == LC_MODULE_MSELOSS) return 2;
    if (m->kind == LC_MODULE_SEQUENTIAL && m->n_children > 0) return lc_module_input_count(m->children[0]);
    return 1;
}

lc_status lc_module_name_node(lc_graph *g, int node, const char *prefix, const char *who,
                              const char *role) {
    char name[128];
    if (!role) role = lc_op_get_info(lc_graph_node(g, node)->op)->name;
    snprintf(name, sizeof name, "%s%s.%s", prefix, who, role);
    return lc_graph_set_name(g, node, name);
}

/* xs holds lc_module_input_count(m) nodes. */
static lc_status forward(const lc_module *m, lc_graph *g, const int *xs, const char *prefix, int *y) {
    int x = xs[0];
    switch (m->kind) {
    case LC_MODULE_AVGPOOL1D: return lc_avgpool1d_forward(m, g, x, prefix, y);
    case LC_MODULE_LPPOOL1D: return lc_lppool1d_forward(m, g, x, prefix, y);
    case LC_MODULE_MAXPOOL1D: return lc_maxpool1d_forward(m, g, x, prefix, y);
    case LC_MODULE_MAXPOOL2D: return lc_maxpool2d_forward(m, g, x, prefix, y);
    case LC_MODULE_AVGPOOL2D: return lc_avgpool2d_forward(m, g, x, prefix, y);
    case LC_MODULE_LPPOOL2D: return lc_lppool2d_forward(m, g, x, prefix, y);
    case LC_MODULE_LINEAR: return lc_linear_forward(m, g, x, prefix, y);
    case LC_MODULE_CONV1D: return lc_conv1d_forward(m, g, x, prefix, y);
    case LC_MODULE_RELU: return lc_relu_forward(m, g, x, prefix, y);
    case LC_MODULE_MSELOSS: return lc_mseloss_forward(m, g, xs[0], xs[1], prefix, y);
    case LC_MODULE_SEQUENTIAL:
        /* Only the first child may take two inputs: each later one reads the previous
         * result alone. */
        for (int i = 0; i < m->n_children; i++) {
            if (i > 0 && lc_module_input_count(m->children[i]) != 1)
                return lc_fail(LC_ERR_INVALID_ARG, "Sequential: child %d (%s) takes %d inputs; only "
                               "the first child may take more than one", i,
                               lc_module_kind_name(m->children[i]->kind),
                               lc_module_input_count(m->children[i]));
            char child_prefix[32];
            snprintf(child_prefix, sizeof child_prefix, "%s%d.", prefix, i);
            LC_TRY(forward(m->children[i], g, i == 0 ? xs : &x, child_prefix, &x));
        }
        *y = x;
        return LC_OK;
    }
    return lc_fail(LC_ERR_INTERNAL, "module: unknown kind %d", (int)m->kind);
}

lc_status lc_module_forward_inputs(const lc_module *m, lc_graph *g, const int *xs, int n_xs, int *y) {
    if (!m || !g || !xs || !y)
        return lc_fail(LC_ERR_INVALID_ARG, "module forward: module, graph, inputs and y must not be NULL");
    if (n_xs != lc_module_input_count(m))
        return lc_fail(LC_ERR_INVALID_ARG, "%s: forward takes %d input%s, got %d", lc_module_kind_name(m->kind),
                       lc_module_input_count(m), lc_module_input_count(m) == 1 ? "" : "s", n_xs);
    for (int i = 0; i < n_xs; i++)
        if (xs[i] < 0 || xs[i] >= lc_graph_node_count(g))
            return lc_fail(LC_ERR_INVALID_ARG, "module forward: input %d must name a node of the graph, got %d",
                           i, xs[i]);
    return forward(m, g, xs, "", y);
}

lc_status lc_module_forward(const lc_module *m, lc_graph *g, int x, int *y) {
    if (m && g && (x < 0 || x >= lc_graph_node_count(g)))
        return lc_fail(LC_ERR_INVALID_ARG, "module forward: x must name a node of the graph, got %d", x);
    return lc_module_forward_inputs(m, g, &x, 1, y);
}

lc_status lc_module_graph(const lc_module *m, lc_dtype dtype, lc_shape shape, lc_graph **out) {
    if (!out) return lc_fail(LC_ERR_INVALID_ARG, "module graph: out must not be NULL");
    *out = NULL;
    if (!m) return lc_fail(LC_ERR_INVALID_ARG, "module graph: module must not be NULL");
    lc_graph *g;
    LC_TRY(lc_graph_new(&g));
    /* PyTorch's names for the forward's arguments: x, or MSELoss's (input, target). */
    static const char *const ONE[] = {"x"}, *const TWO[] = {"input", "target"};
    int n = lc_module_input_count(m);
    const char *const *names = n == 2 ? TWO : ONE;
    int xs[2], y;
    lc_status st = LC_OK;
    for (int i = 0; i < n && st == LC_OK; i++) st = lc_input(g, names[i], dtype, shape, &xs[i]);
    if (st == LC_OK) st = lc_module_forward_inputs(m, g, xs, n, &y);
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

/* "name=3, " or "name=(2, 3), ": PyTorch prints a size given as one int as that int, a pair as
 * a tuple (a pair of equal sizes prints as the int here) */
static void size2(lc_strbuf *sb, const char *name, const int64_t v[2]) {
    if (v[0] == v[1]) lc_strbuf_printf(sb, "%s=%lld, ", name, (long long)v[0]);
    else lc_strbuf_printf(sb, "%s=(%lld, %lld), ", name, (long long)v[0], (long long)v[1]);
}

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
    case LC_MODULE_AVGPOOL2D:
        lc_strbuf_puts(sb, "AvgPool2d(");
        size2(sb, "kernel_size", m->avg2.kernel_size);
        size2(sb, "stride", m->avg2.stride);
        size2(sb, "padding", m->avg2.padding);
        lc_strbuf_printf(sb, "ceil_mode=%s, count_include_pad=%s)", py_bool(m->avg2.ceil_mode),
                         py_bool(m->avg2.count_include_pad));
        return;
    case LC_MODULE_LPPOOL2D: {
        char norm[32];
        lc_strbuf_printf(sb, "LPPool2d(norm_type=%s, ", lc_format_number(m->lp2.norm_type, norm));
        size2(sb, "kernel_size", m->lp2.kernel_size);
        size2(sb, "stride", m->lp2.stride);
        lc_strbuf_printf(sb, "ceil_mode=%s)", py_bool(m->lp2.ceil_mode));
        return;
    }
    case LC_MODULE_LINEAR:
        lc_strbuf_printf(sb, "Linear(in_features=%lld, out_features=%lld, bias=%s)",
                         (long long)m->linear.in_features, (long long)m->linear.out_features,
                         py_bool(m->linear.bias));
        return;
    case LC_MODULE_CONV1D: {
        const lc_conv1d_params *c = &m->conv;
        lc_strbuf_printf(sb, "Conv1d(in_channels=%lld, out_channels=%lld, kernel_size=%lld, stride=%lld, ",
                         (long long)c->in_channels, (long long)c->out_channels, (long long)c->kernel_size,
                         (long long)c->stride);
        if (c->padding_mode == LC_PADDING_SAME) lc_strbuf_puts(sb, "padding='same'");
        else if (c->padding_mode == LC_PADDING_VALID) lc_strbuf_puts(sb, "padding='valid'");
        else lc_strbuf_printf(sb, "padding=%lld", (long long)c->padding);
        lc_strbuf_printf(sb, ", dilation=%lld, groups=%lld, bias=%s)", (long long)c->dilation,
                         (long long)c->groups, py_bool(c->bias));
        return;
    }
    case LC_MODULE_RELU:
        lc_strbuf_puts(sb, "ReLU()");
        return;
    case LC_MODULE_MSELOSS:
        lc_strbuf_printf(sb, "MSELoss(reduction='%s')", m->mse.reduction == LC_REDUCTION_SUM ? "sum" : "mean");
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
