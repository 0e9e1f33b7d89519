/* Graphviz form of a graph: one box per node labelled "%i op" / attributes / type (and the
 * node's name), an edge from every input (numbered when an op takes two), and the graph outputs
 * drawn bold with an "output k" marker. Deterministic: nodes and edges in index order. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/graph_internal.h"
#include "ir/text_format.h"
#include "support/format_real.h"
#include "support/error.h"
#include "support/strbuf.h"

/* Constants longer than this show their first values and the count. */
enum { DOT_MAX_VALUES = 8 };

/* Text inside a DOT double-quoted label: quotes and backslashes escaped, control bytes shown
 * as spaces (a DOT label takes "\n" as its own line break, which the caller adds). */
static void put_label_text(lc_strbuf *sb, const char *s) {
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char c[3] = {(char)*p, 0, 0};
        if (*p == '"' || *p == '\\') {
            c[0] = '\\';
            c[1] = (char)*p;
        } else if (*p < 0x20 || *p == 0x7f) {
            c[0] = ' ';
        }
        lc_strbuf_puts(sb, c);
    }
}

static void put_constant_values(lc_strbuf *sb, const lc_node *n) {
    char num[32];
    int64_t count = lc_shape_numel(&n->shape);
    if (n->shape.rank == 0) {
        lc_strbuf_puts(sb, lc_format_number(n->data[0], num));
        return;
    }
    lc_strbuf_puts(sb, "[");
    for (int64_t i = 0; i < count && i < DOT_MAX_VALUES; i++)
        lc_strbuf_printf(sb, "%s%s", i ? ", " : "", lc_format_number(n->data[i], num));
    if (count > DOT_MAX_VALUES) lc_strbuf_printf(sb, ", ... (%" PRId64 " values)", count);
    lc_strbuf_puts(sb, "]");
}

static void put_node(lc_strbuf *sb, const lc_graph *g, int index, int output_pos) {
    const lc_node *n = g->nodes[index];
    const lc_op_info *info = lc_op_get_info(n->op);
    lc_strbuf_printf(sb, "  n%d [label=\"%%%d %s", index, index, info->name);
    if (n->op == LC_OP_CONSTANT) {
        lc_strbuf_puts(sb, " ");
        put_constant_values(sb, n);
    }
    if (info->n_int_attrs > 0 || info->real_attr_name) {
        lc_strbuf_puts(sb, "\\n");
        for (int i = 0; i < info->n_int_attrs; i++) /* optional ones only where not their default */
            if (!info->int_attr_optional[i] || n->attr[i] != info->int_attr_default[i])
                lc_strbuf_printf(sb, "%s%s=%" PRId64, i ? " " : "", info->int_attr_names[i], n->attr[i]);
        if (info->real_attr_name) {
            char num[32];
            lc_strbuf_printf(sb, "%s%s=%s", info->n_int_attrs ? " " : "", info->real_attr_name,
                             lc_format_number(n->real_attr, num));
        }
    }
    char type[160];
    lc_strbuf_printf(sb, "\\n%s", lc_text_type_str(n->dtype, &n->shape, type, sizeof type));
    if (n->name) {
        lc_strbuf_puts(sb, "\\n\\\"");
        put_label_text(sb, n->name);
        lc_strbuf_puts(sb, "\\\"");
    }
    lc_strbuf_puts(sb, "\"");
    if (n->op == LC_OP_INPUT) lc_strbuf_puts(sb, ", shape=invhouse");
    else if (n->op == LC_OP_CONSTANT) lc_strbuf_puts(sb, ", shape=note");
    if (output_pos >= 0) lc_strbuf_puts(sb, ", style=bold, peripheries=2");
    lc_strbuf_puts(sb, "];\n");
    for (int i = 0; i < info->arity; i++) {
        lc_strbuf_printf(sb, "  n%d -> n%d", n->inputs[i], index);
        if (info->arity > 1) lc_strbuf_printf(sb, " [label=\"%d\"]", i);
        lc_strbuf_puts(sb, ";\n");
    }
}

static lc_status graph_to_dot(const lc_graph *g, char **out) {
    lc_strbuf sb = {0};
    lc_strbuf_puts(&sb, "digraph lucid {\n"
                        "  rankdir=TB;\n"
                        "  node [shape=box, fontname=\"monospace\"];\n");
    for (int i = 0; i < g->count; i++) {
        int output_pos = -1;
        for (int k = 0; k < g->n_outputs; k++)
            if (g->outputs[k] == i) output_pos = k;
        put_node(&sb, g, i, output_pos);
    }
    for (int k = 0; k < g->n_outputs; k++)
        lc_strbuf_printf(&sb, "  out%d [label=\"output %d\", shape=plaintext];\n  n%d -> out%d;\n", k, k,
                         g->outputs[k], k);
    lc_strbuf_puts(&sb, "}\n");
    return lc_strbuf_finish(&sb, out);
}

lc_status lc_graph_print_dot(const lc_graph *g, FILE *f) {
    if (!g || !f) return lc_fail(LC_ERR_INVALID_ARG, "graph dot: graph and file must not be NULL");
    char *text;
    LC_TRY(graph_to_dot(g, &text));
    size_t len = strlen(text);
    size_t written = fwrite(text, 1, len, f);
    free(text);
    if (written != len || ferror(f)) return lc_fail(LC_ERR_IO, "graph dot: write failed");
    return LC_OK;
}
