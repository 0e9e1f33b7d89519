/* The text form of a graph (docs/text-ir.md): one node per line, SSA names, every attribute and
 * shape spelled out. The parser (parse.c) reads exactly this back, and printing what it reads
 * gives the same bytes, so dumps can be diffed, stored as tests and fed to `lucidc --ir`.
 *
 *   graph {
 *     %0 = input "x" : f32[2,8,16]
 *     %1 = unfold(%0) dim=2 size=4 step=4 pad_lo=0 pad_hi=0 : f32[2,8,4,4] name="pool.unfold"
 *     %2 = pow(%1) zero_pole=0 exponent=2 : f32[2,8,4,4]
 *     %3 = constant [1, 2.5, 3] : f32[3]
 *     output %2
 *   }
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/graph_internal.h"
#include "ir/text_format.h"
#include "support/error.h"
#include "support/format_real.h"
#include "support/strbuf.h"

void lc_text_put_quoted(lc_strbuf *sb, const char *s) {
    lc_strbuf_puts(sb, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            esc[2] = '\0';
        } else if (*p == '\n') {
            strcpy(esc, "\\n");
        } else if (*p == '\t') {
            strcpy(esc, "\\t");
        } else if (*p < 0x20 || *p == 0x7f) {
            snprintf(esc, sizeof esc, "\\x%02x", *p);
        } else {
            esc[0] = (char)*p;
            esc[1] = '\0';
        }
        lc_strbuf_puts(sb, esc);
    }
    lc_strbuf_puts(sb, "\"");
}

char *lc_text_type_str(lc_dtype dtype, const lc_shape *shape, char *buf, size_t size) {
    char dims[144];
    snprintf(buf, size, "%s%s", lc_dtype_name(dtype), lc_shape_str(shape, dims, sizeof dims));
    return buf;
}

static void put_constant_data(lc_strbuf *sb, const lc_node *n) {
    char num[32];
    if (n->shape.rank == 0) {
        lc_strbuf_puts(sb, lc_format_number(n->data[0], num));
        return;
    }
    int64_t count = lc_shape_numel(&n->shape);
    lc_strbuf_puts(sb, "[");
    for (int64_t i = 0; i < count; i++) {
        if (i) lc_strbuf_puts(sb, ", ");
        lc_strbuf_puts(sb, lc_format_number(n->data[i], num));
    }
    lc_strbuf_puts(sb, "]");
}

static void put_node(lc_strbuf *sb, int index, const lc_node *n) {
    const lc_op_info *info = lc_op_get_info(n->op);
    lc_strbuf_printf(sb, "  %%%d = %s", index, info->name);
    if (n->op == LC_OP_INPUT && n->name) {
        lc_strbuf_puts(sb, " ");
        lc_text_put_quoted(sb, n->name);
    } else if (n->op == LC_OP_CONSTANT) {
        lc_strbuf_puts(sb, " ");
        put_constant_data(sb, n);
    }
    if (info->arity > 0) {
        lc_strbuf_puts(sb, "(");
        for (int i = 0; i < info->arity; i++) lc_strbuf_printf(sb, "%s%%%d", i ? ", " : "", n->inputs[i]);
        lc_strbuf_puts(sb, ")");
    }
    for (int i = 0; i < info->n_int_attrs; i++)
        if (!info->int_attr_optional[i] || n->attr[i] != info->int_attr_default[i])
            lc_strbuf_printf(sb, " %s=%" PRId64, info->int_attr_names[i], n->attr[i]);
    if (info->real_attr_name) {
        char num[32];
        lc_strbuf_printf(sb, " %s=%s", info->real_attr_name, lc_format_number(n->real_attr, num));
    }
    char type[160];
    lc_strbuf_printf(sb, " : %s", lc_text_type_str(n->dtype, &n->shape, type, sizeof type));
    if (n->op != LC_OP_INPUT && n->name) {
        lc_strbuf_puts(sb, " name=");
        lc_text_put_quoted(sb, n->name);
    }
    lc_strbuf_puts(sb, "\n");
}

lc_status lc_graph_to_string(const lc_graph *g, char **out) {
    if (!out) return lc_fail(LC_ERR_INVALID_ARG, "graph print: out must not be NULL");
    *out = NULL;
    if (!g) return lc_fail(LC_ERR_INVALID_ARG, "graph print: graph must not be NULL");
    lc_strbuf sb = {0};
    lc_strbuf_puts(&sb, "graph {\n");
    for (int i = 0; i < g->count; i++) put_node(&sb, i, g->nodes[i]);
    if (g->n_outputs > 0) {
        lc_strbuf_puts(&sb, "  output");
        for (int i = 0; i < g->n_outputs; i++)
            lc_strbuf_printf(&sb, "%s %%%d", i ? "," : "", g->outputs[i]);
        lc_strbuf_puts(&sb, "\n");
    }
    lc_strbuf_puts(&sb, "}\n");
    return lc_strbuf_finish(&sb, out);
}

lc_status lc_graph_print(const lc_graph *g, FILE *f) {
    if (!f) return lc_fail(LC_ERR_INVALID_ARG, "graph print: file must not be NULL");
    char *text;
    LC_TRY(lc_graph_to_string(g, &text));
    size_t len = strlen(text);
    size_t written = fwrite(text, 1, len, f);
    free(text);
    if (written != len || ferror(f)) return lc_fail(LC_ERR_IO, "graph print: write failed");
    return LC_OK;
}
