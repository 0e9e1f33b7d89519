/* Round-trip check of the text IR: print, parse, compare structurally and byte for byte. */
#include "ir/text_roundtrip.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/graph_internal.h"
#include "support/error.h"

/* Bit equality, except that any NaN equals any NaN (the text spells them all "nan"). */
static bool same_real(double x, double y) {
    if (isnan(x) || isnan(y)) return isnan(x) && isnan(y);
    return memcmp(&x, &y, sizeof x) == 0;
}

static bool same_node(const lc_node *a, const lc_node *b, int i, char *why, size_t size) {
    const lc_op_info *info = lc_op_get_info(a->op);
    if (a->op != b->op) {
        snprintf(why, size, "node %%%d: op %s vs %s", i, info->name, lc_op_get_info(b->op)->name);
        return false;
    }
    if (a->dtype != b->dtype || !lc_shape_equal(&a->shape, &b->shape)) {
        char sa[96], sb[96];
        snprintf(why, size, "node %%%d (%s): type %s%s vs %s%s", i, info->name, lc_dtype_name(a->dtype),
                 lc_shape_str(&a->shape, sa, sizeof sa), lc_dtype_name(b->dtype),
                 lc_shape_str(&b->shape, sb, sizeof sb));
        return false;
    }
    for (int k = 0; k < info->arity; k++)
        if (a->inputs[k] != b->inputs[k]) {
            snprintf(why, size, "node %%%d (%s): input %d is %%%d vs %%%d", i, info->name, k,
                     a->inputs[k], b->inputs[k]);
            return false;
        }
    for (int k = 0; k < info->n_int_attrs; k++)
        if (a->attr[k] != b->attr[k]) {
            snprintf(why, size, "node %%%d (%s): attribute '%s' is %" PRId64 " vs %" PRId64, i,
                     info->name, info->int_attr_names[k], a->attr[k], b->attr[k]);
            return false;
        }
    if (info->real_attr_name && !same_real(a->real_attr, b->real_attr)) {
        snprintf(why, size, "node %%%d (%s): attribute '%s' is %.17g vs %.17g", i, info->name,
                 info->real_attr_name, a->real_attr, b->real_attr);
        return false;
    }
    if ((a->name == NULL) != (b->name == NULL) || (a->name && strcmp(a->name, b->name) != 0)) {
        snprintf(why, size, "node %%%d (%s): name \"%s\" vs \"%s\"", i, info->name,
                 a->name ? a->name : "(none)", b->name ? b->name : "(none)");
        return false;
    }
    if (a->op == LC_OP_CONSTANT) {
        int64_t count = lc_shape_numel(&a->shape);
        for (int64_t k = 0; k < count; k++)
            if (!same_real(a->data[k], b->data[k])) {
                snprintf(why, size, "node %%%d (constant): value %" PRId64 " is %.17g vs %.17g", i, k,
                         a->data[k], b->data[k]);
                return false;
            }
    }
    return true;
}

bool lc_graph_same(const lc_graph *a, const lc_graph *b, char *why, size_t why_size) {
    if (a->count != b->count) {
        snprintf(why, why_size, "%d nodes vs %d", a->count, b->count);
        return false;
    }
    for (int i = 0; i < a->count; i++)
        if (!same_node(a->nodes[i], b->nodes[i], i, why, why_size)) return false;
    if (a->n_outputs != b->n_outputs) {
        snprintf(why, why_size, "%d outputs vs %d", a->n_outputs, b->n_outputs);
        return false;
    }
    for (int k = 0; k < a->n_outputs; k++)
        if (a->outputs[k] != b->outputs[k]) {
            snprintf(why, why_size, "output %d is %%%d vs %%%d", k, a->outputs[k], b->outputs[k]);
            return false;
        }
    return true;
}

/* Line number and text of the first line where two strings differ. */
static lc_status text_mismatch(const char *a, const char *b) {
    int line = 1;
    const char *la = a, *lb = b;
    while (*a && *a == *b) {
        if (*a == '\n') {
            line++;
            la = a + 1;
            lb = b + 1;
        }
        a++, b++;
    }
    int na = (int)strcspn(la, "\n"), nb = (int)strcspn(lb, "\n");
    return lc_fail(LC_ERR_INTERNAL, "text round trip: second print differs at line %d: \"%.*s\" vs \"%.*s\"",
                   line, na > 200 ? 200 : na, la, nb > 200 ? 200 : nb, lb);
}

lc_status lc_graph_check_text_round_trip(const lc_graph *g) {
    char *first = NULL, *second = NULL;
    lc_graph *back = NULL;
    LC_TRY(lc_graph_to_string(g, &first));
    lc_status st = lc_graph_parse(first, &back);
    if (st != LC_OK) {
        st = lc_fail_prefix(LC_ERR_INTERNAL, "text round trip: the printed text does not parse");
    } else {
        char why[512];
        if (!lc_graph_same(g, back, why, sizeof why))
            st = lc_fail(LC_ERR_INTERNAL, "text round trip: the parsed graph differs: %s", why);
        else if ((st = lc_graph_to_string(back, &second)) == LC_OK && strcmp(first, second) != 0)
            st = text_mismatch(first, second);
    }
    free(first);
    free(second);
    lc_graph_free(back);
    return st;
}
