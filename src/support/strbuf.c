#include "support/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool reserve(lc_strbuf *sb, size_t extra) {
    if (sb->failed) return false;
    if (sb->len + extra + 1 <= sb->cap) return true;
    size_t cap = sb->cap ? sb->cap : 64;
    while (cap < sb->len + extra + 1) cap *= 2;
    char *p = realloc(sb->data, cap);
    if (!p) {
        sb->failed = true;
        return false;
    }
    sb->data = p;
    sb->cap = cap;
    return true;
}

void lc_strbuf_puts(lc_strbuf *sb, const char *s) {
    size_t n = strlen(s);
    if (!reserve(sb, n)) return;
    memcpy(sb->data + sb->len, s, n + 1);
    sb->len += n;
}

void lc_strbuf_printf(lc_strbuf *sb, const char *fmt, ...) {
    /* Formatted straight into the room left; only text longer than that is formatted a
     * second time, after the buffer grew (measuring first formatted everything twice). */
    if (!reserve(sb, 0)) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(sb->data + sb->len, sb->cap - sb->len, fmt, ap);
    va_end(ap);
    if (n < 0) {
        sb->data[sb->len] = '\0';
        return;
    }
    if ((size_t)n >= sb->cap - sb->len) {
        if (!reserve(sb, (size_t)n)) {
            sb->data[sb->len] = '\0';
            return;
        }
        va_start(ap, fmt);
        vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    sb->len += (size_t)n;
}

lc_status lc_strbuf_finish(lc_strbuf *sb, char **out) {
    *out = NULL;
    if (!reserve(sb, 0)) {
        lc_strbuf_free(sb);
        return lc_fail(LC_ERR_NOMEM, "out of memory while formatting text");
    }
    sb->data[sb->len] = '\0';
    *out = sb->data;
    sb->data = NULL;
    sb->len = sb->cap = 0;
    return LC_OK;
}

void lc_strbuf_free(lc_strbuf *sb) {
    free(sb->data);
    sb->data = NULL;
    sb->len = sb->cap = 0;
}
