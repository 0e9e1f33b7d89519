/* Tensor printing as Lucid (github.com/ChanLumerico/lucid) shows it:
 * Tensor([[[1.5, 3.5]]], grad=None), with floats written as Python's repr writes them
 * (support/format_real.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lucid/tensor.h"
#include "support/error.h"
#include "support/format_real.h"
#include "support/strbuf.h"

static void format_axis(lc_strbuf *sb, const lc_tensor *t, int axis, int64_t *offset) {
    if (axis == t->shape.rank) {
        char num[32];
        lc_strbuf_puts(sb, lc_format_real(lc_tensor_get(t, *offset), t->dtype == LC_F32, num));
        (*offset)++;
        return;
    }
    lc_strbuf_puts(sb, "[");
    for (int64_t i = 0; i < t->shape.dim[axis]; i++) {
        if (i) lc_strbuf_puts(sb, ", ");
        format_axis(sb, t, axis + 1, offset);
    }
    lc_strbuf_puts(sb, "]");
}

lc_status lc_tensor_format_values(const lc_tensor *t, char **out) {
    if (!t || !out) return lc_fail(LC_ERR_INVALID_ARG, "tensor print: tensor and out must not be NULL");
    lc_strbuf sb = {0};
    int64_t offset = 0;
    format_axis(&sb, t, 0, &offset);
    return lc_strbuf_finish(&sb, out);
}

lc_status lc_tensor_repr(const lc_tensor *t, char **out) {
    if (!t || !out) return lc_fail(LC_ERR_INVALID_ARG, "tensor print: tensor and out must not be NULL");
    lc_strbuf sb = {0};
    int64_t offset = 0;
    lc_strbuf_puts(&sb, "Tensor(");
    format_axis(&sb, t, 0, &offset);
    if (t->grad) {
        lc_strbuf_puts(&sb, ", grad=Tensor(");
        offset = 0;
        format_axis(&sb, t->grad, 0, &offset);
        lc_strbuf_puts(&sb, "))");
    } else {
        lc_strbuf_puts(&sb, ", grad=None)");
    }
    return lc_strbuf_finish(&sb, out);
}
