/* Shapes and dtypes: small value helpers. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lucid/ir.h"

int64_t lc_shape_numel(const lc_shape *s) {
    int64_t n = 1;
    for (int i = 0; i < s->rank; i++) n *= s->dim[i];
    return n;
}

bool lc_shape_equal(const lc_shape *a, const lc_shape *b) {
    if (a->rank != b->rank) return false;
    for (int i = 0; i < a->rank; i++)
        if (a->dim[i] != b->dim[i]) return false;
    return true;
}

lc_shape lc_shape_make(int rank, const int64_t *dims) {
    lc_shape s = {0};
    s.rank = rank < 0 ? 0 : rank > LC_MAX_RANK ? LC_MAX_RANK : rank;
    for (int i = 0; i < s.rank; i++) s.dim[i] = dims[i];
    return s;
}

char *lc_shape_str(const lc_shape *s, char *buf, size_t size) {
    size_t used = 0;
    if (size == 0) return buf;
    buf[0] = '\0';
    if (s->rank < 0 || s->rank > LC_MAX_RANK) { /* a caller's struct, in an error message */
        snprintf(buf, size, "[invalid rank %d]", s->rank);
        return buf;
    }
    used += (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < s->rank && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%" PRId64, i ? "," : "", s->dim[i]);
    if (used < size) snprintf(buf + used, size - used, "]");
    return buf;
}

const char *lc_dtype_name(lc_dtype dt) { return dt == LC_F64 ? "f64" : dt == LC_F32 ? "f32" : "(invalid dtype)"; }

size_t lc_dtype_size(lc_dtype dt) { return dt == LC_F64 ? 8 : 4; }
