/* Tensor printing as Lucid (github.com/ChanLumerico/lucid) shows it:
 * Tensor([[[1.5, 3.5]]], grad=None), with floats written as Python's repr writes them
 * (support/format_real.c). */
#include <math.h>
#include <stdbool.h>
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

/* A tensor handed in from outside (a binding builds the struct over its own memory) is checked
 * before a single element is read: the walk trusts dtype, rank and extents. */
static lc_status check_printable(const lc_tensor *t, const char *what) {
    if (t->dtype != LC_F32 && t->dtype != LC_F64)
        return lc_fail(LC_ERR_INVALID_ARG, "tensor print: %s dtype must be f32 or f64, got %d", what, (int)t->dtype);
    if (t->shape.rank < 0 || t->shape.rank > LC_MAX_RANK)
        return lc_fail(LC_ERR_SHAPE, "tensor print: %s rank must be between 0 and %d, got %d", what, LC_MAX_RANK,
                       t->shape.rank);
    bool empty = false;
    for (int i = 0; i < t->shape.rank; i++) {
        if (t->shape.dim[i] < 0)
            return lc_fail(LC_ERR_SHAPE, "tensor print: %s dimension %d must be >= 0, got %lld", what, i,
                           (long long)t->shape.dim[i]);
        empty = empty || t->shape.dim[i] == 0;
    }
    if (!t->data && !empty)
        return lc_fail(LC_ERR_INVALID_ARG, "tensor print: %s data must not be NULL", what);
    return LC_OK;
}

lc_status lc_tensor_format_values(const lc_tensor *t, char **out) {
    if (!t || !out) return lc_fail(LC_ERR_INVALID_ARG, "tensor print: tensor and out must not be NULL");
    LC_TRY(check_printable(t, "the tensor's"));
    lc_strbuf sb = {0};
    int64_t offset = 0;
    format_axis(&sb, t, 0, &offset);
    return lc_strbuf_finish(&sb, out);
}

lc_status lc_tensor_repr(const lc_tensor *t, char **out) {
    if (!t || !out) return lc_fail(LC_ERR_INVALID_ARG, "tensor print: tensor and out must not be NULL");
    LC_TRY(check_printable(t, "the tensor's"));
    if (t->grad) LC_TRY(check_printable(t->grad, "the gradient's"));
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
