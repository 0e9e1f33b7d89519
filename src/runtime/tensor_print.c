/* Tensor printing as the seed pages show it: Tensor([[[1.5, 3.5]]], grad=None), with floats
 * written as Python's repr writes them (shortest round-trip digits; exponent form below 1e-4
 * and from 1e16 on). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lucid/tensor.h"
#include "support/error.h"
#include "support/strbuf.h"

char *lc_format_real(double v, bool as_f32, char buf[32]) {
    /* Longest output: "-d.dddddddddddddddde-308" = 24 bytes; buf has 32. */
    if (isnan(v)) return strcpy(buf, "nan");
    if (isinf(v)) return strcpy(buf, v < 0 ? "-inf" : "inf");
    if (v == 0) return strcpy(buf, signbit(v) ? "-0.0" : "0.0");
    /* Shortest %.*e that reads back to the same value in the target precision. */
    char e[40];
    int max_digits = as_f32 ? 9 : 17;
    for (int prec = 0; prec < max_digits; prec++) {
        snprintf(e, sizeof e, "%.*e", prec, v);
        double back = strtod(e, NULL);
        if (as_f32 ? (float)back == (float)v : back == v) break;
    }
    /* e is "-d.ddde+XX": split into sign, digits and exponent. */
    const char *p = e;
    bool neg = *p == '-';
    if (neg) p++;
    char digits[24];
    int nd = 0;
    for (; *p && *p != 'e'; p++)
        if (*p != '.') digits[nd++] = *p;
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    digits[nd] = '\0';
    int exp10 = atoi(p + 1);
    char *o = buf;
    if (neg) *o++ = '-';
    if (exp10 < -4 || exp10 >= 16) {
        *o++ = digits[0];
        if (nd > 1) {
            *o++ = '.';
            memcpy(o, digits + 1, (size_t)nd - 1);
            o += nd - 1;
        }
        snprintf(o, 16, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
        return buf;
    }
    if (exp10 < 0) {
        *o++ = '0';
        *o++ = '.';
        for (int i = 0; i < -exp10 - 1; i++) *o++ = '0';
        memcpy(o, digits, (size_t)nd);
        o += nd;
    } else {
        for (int i = 0; i <= exp10; i++) *o++ = i < nd ? digits[i] : '0';
        *o++ = '.';
        if (nd > exp10 + 1) {
            memcpy(o, digits + exp10 + 1, (size_t)(nd - exp10 - 1));
            o += nd - exp10 - 1;
        } else {
            *o++ = '0';
        }
    }
    *o = '\0';
    return buf;
}

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
    lc_strbuf sb = {0};
    int64_t offset = 0;
    format_axis(&sb, t, 0, &offset);
    return lc_strbuf_finish(&sb, out);
}

lc_status lc_tensor_repr(const lc_tensor *t, char **out) {
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
