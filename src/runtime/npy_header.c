/* The .npy prefix and header: what is read (versions 1.0, 2.0 and 3.0, descr '<f4' or '<f8',
 * C order) and what is written (version 1.0, byte for byte as NumPy writes it). The rules
 * are docs/npy.md's; each rejection says which rule and why. */
#include <inttypes.h>
#include <string.h>

#include "runtime/npy_internal.h"
#include "support/error.h"

static const unsigned char NPY_MAGIC[LC_NPY_MAGIC_LEN] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

/* NumPy (1.23+) leaves this many digits of room for the first extent, so a file can grow in
 * place. The padding to 64 bytes absorbs these spaces for every shape whose byte size fits in
 * int64, so they never change the bytes; they are kept so the algorithm stays NumPy's. */
enum { GROWTH_AXIS_MAX_DIGITS = 21 };

bool lc_npy_host_little_endian(void) {
    const uint16_t one = 1;
    unsigned char first;
    memcpy(&first, &one, 1);
    return first == 1;
}

void lc_npy_swap_bytes(void *data, size_t count, size_t size) {
    unsigned char *p = data;
    for (size_t i = 0; i < count; i++, p += size)
        for (size_t a = 0, b = size - 1; a < b; a++, b--) {
            unsigned char tmp = p[a];
            p[a] = p[b];
            p[b] = tmp;
        }
}

lc_status lc_npy_parse_prefix(const unsigned char *bytes, size_t avail, uint64_t total,
                              lc_npy_prefix *out) {
    size_t magic_have = avail < LC_NPY_MAGIC_LEN ? avail : LC_NPY_MAGIC_LEN;
    if (memcmp(bytes, NPY_MAGIC, magic_have) != 0)
        return lc_fail(LC_ERR_PARSE, "not a .npy file: it does not start with \"\\x93NUMPY\"");
    if (avail < LC_NPY_MAGIC_LEN + 2)
        return lc_fail(LC_ERR_PARSE, "truncated header: %zu bytes, too short for the magic "
                                     "and version", avail);
    int major = bytes[6], minor = bytes[7];
    if (minor != 0 || major < 1 || major > 3)
        return lc_fail(LC_ERR_UNSUPPORTED,
                       "format version %d.%d is not supported; only 1.0, 2.0 and 3.0 are",
                       major, minor);
    size_t len_bytes = major == 1 ? 2 : 4;
    size_t offset = LC_NPY_MAGIC_LEN + 2 + len_bytes;
    if (avail < offset)
        return lc_fail(LC_ERR_PARSE, "truncated header: %zu bytes, too short for the "
                                     "header length of version %d.0", avail, major);
    uint64_t header_len = 0;
    for (size_t i = len_bytes; i-- > 0;) header_len = header_len << 8 | bytes[8 + i];
    if (header_len > total - offset)
        return lc_fail(LC_ERR_PARSE,
                       "truncated header: it claims %" PRIu64 " bytes but only %" PRIu64
                       " follow the prefix", header_len, total - offset);
    out->major = major;
    out->minor = minor;
    out->header_offset = offset;
    out->header_len = (size_t)header_len;
    return LC_OK;
}

/* The three keys as the dict parser reports them. */
typedef struct header_fields {
    lc_npy_value descr, fortran_order, shape;
    bool have_descr, have_fortran_order, have_shape;
} header_fields;

static bool str_is(const lc_npy_value *v, const char *s) {
    return v->kind == LC_NPY_STR && v->str_len == strlen(s) && memcmp(v->str, s, v->str_len) == 0;
}

/* A string from the header, quoted for a message: printable ASCII only, shortened. */
static const char *quote_for_message(const lc_npy_value *v, char *buf, size_t cap) {
    size_t n = 0, i = 0;
    buf[n++] = '\'';
    for (; i < v->str_len && n + 5 < cap; i++) {
        unsigned char c = (unsigned char)v->str[i];
        buf[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (i < v->str_len) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n++] = '\'';
    buf[n] = '\0';
    return buf;
}

static lc_status take_entry(void *ctx, const lc_npy_value *key, const lc_npy_value *value,
                            size_t offset) {
    header_fields *f = ctx;
    lc_npy_value *slot;
    bool *have;
    if (str_is(key, "descr")) {
        slot = &f->descr, have = &f->have_descr;
    } else if (str_is(key, "fortran_order")) {
        slot = &f->fortran_order, have = &f->have_fortran_order;
    } else if (str_is(key, "shape")) {
        slot = &f->shape, have = &f->have_shape;
    } else if (key->kind == LC_NPY_STR) {
        char q[48];
        return lc_fail(LC_ERR_PARSE,
                       "header has an unexpected key %s at byte %zu; the keys are 'descr', "
                       "'fortran_order' and 'shape'",
                       quote_for_message(key, q, sizeof q), offset);
    } else {
        return lc_fail(LC_ERR_PARSE, "header key at byte %zu is %s; keys must be strings",
                       offset, lc_npy_kind_name(key->kind));
    }
    if (*have) {
        char q[48];
        return lc_fail(LC_ERR_PARSE, "header key %s appears twice (again at byte %zu)",
                       quote_for_message(key, q, sizeof q), offset);
    }
    *slot = *value;
    *have = true;
    return LC_OK;
}

/* Valid UTF-8 (no overlongs, surrogates or values past U+10FFFF), as Python decodes it. */
static bool valid_utf8(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t extra;
        unsigned lo = 0x80, hi = 0xbf;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            extra = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            extra = 2;
            if (c == 0xe0) lo = 0xa0;
            if (c == 0xed) hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            extra = 3;
            if (c == 0xf0) lo = 0x90;
            if (c == 0xf4) hi = 0x8f;
        } else {
            return false;
        }
        if (n - i - 1 < extra) return false;
        if (s[i + 1] < lo || s[i + 1] > hi) return false;
        for (size_t k = 2; k <= extra; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xbf) return false;
        i += extra + 1;
    }
    return true;
}

static lc_status check_descr(const lc_npy_value *descr, lc_dtype *dtype) {
    if (descr->kind == LC_NPY_LIST)
        return lc_fail(LC_ERR_UNSUPPORTED,
                       "descr is a structured dtype (a list of fields); only little-endian "
                       "float32/float64 are supported");
    if (descr->kind != LC_NPY_STR)
        return lc_fail(LC_ERR_PARSE, "descr must be a string, got %s",
                       lc_npy_kind_name(descr->kind));
    bool little = lc_npy_host_little_endian();
    if (str_is(descr, "<f4") || (little && str_is(descr, "=f4"))) {
        *dtype = LC_F32;
        return LC_OK;
    }
    if (str_is(descr, "<f8") || (little && str_is(descr, "=f8"))) {
        *dtype = LC_F64;
        return LC_OK;
    }
    char q[48];
    quote_for_message(descr, q, sizeof q);
    if (descr->str_len > 0 && (descr->str[0] == '>' || descr->str[0] == '!'))
        return lc_fail(LC_ERR_UNSUPPORTED,
                       "descr %s is big-endian; only little-endian float32/float64 are "
                       "supported", q);
    if (!little && descr->str_len > 0 && descr->str[0] == '=')
        return lc_fail(LC_ERR_UNSUPPORTED,
                       "descr %s is native order, which is big-endian on this host; only "
                       "little-endian float32/float64 are supported", q);
    return lc_fail(LC_ERR_UNSUPPORTED,
                   "descr %s is not supported; only little-endian float32/float64 ('<f4', "
                   "'<f8') are supported", q);
}

/* Element count times element size, where every extent is counted even when another is
 * zero (as NumPy does), so no product of extents can overflow later either. */
static lc_status check_shape(const lc_npy_value *shape, size_t elem_size, lc_shape *out,
                             uint64_t *bytes) {
    if (shape->kind != LC_NPY_TUPLE || !shape->all_ints)
        return lc_fail(LC_ERR_PARSE, "shape must be a tuple of integers, got %s",
                       shape->kind == LC_NPY_TUPLE ? "a tuple with a non-integer item"
                                                   : lc_npy_kind_name(shape->kind));
    if (shape->any_negative) return lc_fail(LC_ERR_PARSE, "shape has a negative dimension");
    if (shape->count > LC_MAX_RANK)
        return lc_fail(LC_ERR_UNSUPPORTED,
                       "shape has %zu dimensions; at most %d are supported", shape->count,
                       LC_MAX_RANK);
    if (shape->any_big)
        return lc_fail(LC_ERR_PARSE, "shape has a dimension that does not fit in 64 bits");
    lc_shape s = {.rank = (int)shape->count};
    for (int i = 0; i < s.rank; i++) s.dim[i] = shape->items[i];
    uint64_t limit = (uint64_t)INT64_MAX;
    if ((uint64_t)(SIZE_MAX / 2) < limit) limit = (uint64_t)(SIZE_MAX / 2);
    uint64_t total = elem_size;
    bool zero = false;
    for (int i = 0; i < s.rank; i++) {
        uint64_t d = (uint64_t)s.dim[i];
        if (d == 0) {
            zero = true;
            continue;
        }
        if (total > limit / d) {
            char text[160];
            return lc_fail(LC_ERR_PARSE, "shape %s has an element count that overflows: its %llu-byte "
                           "elements need more than %llu bytes, the most an array may hold",
                           lc_npy_format_shape(&s, text, sizeof text), (unsigned long long)elem_size,
                           (unsigned long long)limit);
        }
        total *= d;
    }
    *out = s;
    *bytes = zero ? 0 : total;
    return LC_OK;
}

lc_status lc_npy_parse_header(const char *text, size_t len, const lc_npy_prefix *prefix,
                              lc_npy_meta *out) {
    const char *nul = memchr(text, '\0', len);
    if (nul)
        return lc_fail(LC_ERR_PARSE, "header does not parse at byte %zu: a NUL byte",
                       prefix->header_offset + (size_t)(nul - text));
    if (prefix->major >= 3 && !valid_utf8((const unsigned char *)text, len))
        return lc_fail(LC_ERR_PARSE, "header is not valid UTF-8 (version 3.0 headers are)");
    header_fields f = {0};
    /* Python 2 NumPy wrote shapes like (2L, 3L) into version 1.0 and 2.0 files. */
    LC_TRY(lc_npy_parse_dict(text, len, prefix->header_offset, prefix->major <= 2, take_entry,
                             &f));
    if (!f.have_descr) return lc_fail(LC_ERR_PARSE, "header lacks the key 'descr'");
    if (!f.have_fortran_order) return lc_fail(LC_ERR_PARSE, "header lacks the key 'fortran_order'");
    if (!f.have_shape) return lc_fail(LC_ERR_PARSE, "header lacks the key 'shape'");
    if (f.fortran_order.kind != LC_NPY_BOOL)
        return lc_fail(LC_ERR_PARSE, "fortran_order must be True or False, got %s",
                       lc_npy_kind_name(f.fortran_order.kind));
    lc_dtype dtype;
    LC_TRY(check_descr(&f.descr, &dtype));
    if (f.fortran_order.truth)
        return lc_fail(LC_ERR_UNSUPPORTED,
                       "fortran_order is True (column-major data); only C-order arrays are "
                       "supported");
    LC_TRY(check_shape(&f.shape, lc_dtype_size(dtype), &out->shape, &out->data_bytes));
    out->dtype = dtype;
    return LC_OK;
}

lc_status lc_npy_check_data_size(const lc_npy_meta *meta, uint64_t available) {
    if (available == meta->data_bytes) return LC_OK;
    char text[160];
    lc_npy_format_shape(&meta->shape, text, sizeof text);
    const char *descr = meta->dtype == LC_F32 ? "<f4" : "<f8";
    if (available < meta->data_bytes)
        return lc_fail(LC_ERR_PARSE,
                       "data are truncated: shape %s of '%s' needs %" PRIu64
                       " bytes, only %" PRIu64 " follow the header",
                       text, descr, meta->data_bytes, available);
    return lc_fail(LC_ERR_PARSE,
                   "%" PRIu64 " trailing bytes after the data (shape %s of '%s' needs %" PRIu64
                   " bytes)", available - meta->data_bytes, text, descr, meta->data_bytes);
}

char *lc_npy_format_shape(const lc_shape *shape, char *buf, size_t cap) {
    size_t n = 0;
    int w = snprintf(buf, cap, "(");
    for (int i = 0; i < shape->rank && w >= 0 && n + (size_t)w < cap; i++) {
        n += (size_t)w;
        w = snprintf(buf + n, cap - n, i == 0 ? "%" PRId64 : ", %" PRId64, shape->dim[i]);
    }
    if (w >= 0 && n + (size_t)w < cap) {
        n += (size_t)w;
        snprintf(buf + n, cap - n, shape->rank == 1 ? ",)" : ")");
    }
    return buf;
}

lc_status lc_npy_format_header(const lc_tensor *t, unsigned char buf[LC_NPY_HEADER_MAX],
                               size_t *len, uint64_t *data_bytes) {
    if (!t) return lc_fail(LC_ERR_INVALID_ARG, "tensor is NULL");
    if (t->dtype != LC_F32 && t->dtype != LC_F64)
        return lc_fail(LC_ERR_INVALID_ARG, "dtype must be f32 or f64, got %d",
                       (int)t->dtype);
    if (t->shape.rank < 0 || t->shape.rank > LC_MAX_RANK)
        return lc_fail(LC_ERR_INVALID_ARG, "rank must be between 0 and %d, got %d",
                       LC_MAX_RANK, t->shape.rank);
    uint64_t bytes = lc_dtype_size(t->dtype);
    bool zero = false;
    for (int i = 0; i < t->shape.rank; i++) {
        int64_t d = t->shape.dim[i];
        if (d < 0)
            return lc_fail(LC_ERR_INVALID_ARG, "dimension %d is negative (%" PRId64 ")",
                           i, d);
        if (d == 0) {
            zero = true;
        } else if (bytes > (uint64_t)INT64_MAX / (uint64_t)d) {
            return lc_fail(LC_ERR_INVALID_ARG, "the shape's byte size overflows");
        } else {
            bytes *= (uint64_t)d;
        }
    }
    if (t->data == NULL && !zero)
        return lc_fail(LC_ERR_INVALID_ARG, "tensor has no data");

    char shape_text[160];
    lc_npy_format_shape(&t->shape, shape_text, sizeof shape_text);
    char dict[LC_NPY_HEADER_MAX];
    int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                     t->dtype == LC_F32 ? "<f4" : "<f8", shape_text);
    LC_ASSERT(n > 0 && (size_t)n < sizeof dict);
    size_t dict_len = (size_t)n;
    if (t->shape.rank > 0) {
        char first[24];
        int digits = snprintf(first, sizeof first, "%" PRId64, t->shape.dim[0]);
        for (int i = digits; i < GROWTH_AXIS_MAX_DIGITS; i++) dict[dict_len++] = ' ';
    }
    /* NumPy: hlen = len(dict) + 1 (the newline); pad = 64 - (10 + hlen) % 64, so 1..64. */
    size_t hlen = dict_len + 1;
    size_t pad = LC_NPY_ALIGN - (LC_NPY_MAGIC_LEN + 4 + hlen) % LC_NPY_ALIGN;
    size_t field = hlen + pad;
    size_t total = LC_NPY_MAGIC_LEN + 4 + field;
    LC_ASSERT(total <= LC_NPY_HEADER_MAX && field <= 0xffff);
    memcpy(buf, NPY_MAGIC, LC_NPY_MAGIC_LEN);
    buf[6] = 1;
    buf[7] = 0;
    buf[8] = (unsigned char)(field & 0xff);
    buf[9] = (unsigned char)(field >> 8);
    memcpy(buf + 10, dict, dict_len);
    memset(buf + 10 + dict_len, ' ', pad);
    buf[total - 1] = '\n';
    *len = total;
    *data_bytes = zero ? 0 : bytes;
    return LC_OK;
}
