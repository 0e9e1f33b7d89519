/* A small parser for the Python literals that appear in .npy headers: dicts, tuples, lists,
 * strings, integers, True, False and None, with Python's whitespace, trailing commas and
 * comments. NumPy evaluates the header with ast.literal_eval; this accepts the same texts
 * for everything a header can hold, except string escapes and numbers other than decimal
 * integers, which no writer produces. It never allocates: values are summarized in
 * lc_npy_value as they are read, and nesting depth is bounded so hostile input cannot
 * exhaust the stack. */
#include <string.h>

#include "runtime/npy_internal.h"
#include "support/error.h"

enum { MAX_DEPTH = 32 };

typedef struct parser {
    const char *begin, *p, *end;
    size_t base;
    bool long_suffix;
    int depth;
} parser;

static lc_status parse_value(parser *ps, lc_npy_value *v);

static lc_status syntax(const parser *ps, const char *what) {
    return lc_fail(LC_ERR_PARSE, "header does not parse at byte %zu: %s",
                   ps->base + (size_t)(ps->p - ps->begin), what);
}

static bool is_ident(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_';
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Whitespace (newlines too: everything is inside brackets) and # comments. */
static void skip_space(parser *ps) {
    while (ps->p < ps->end) {
        char c = *ps->p;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
            ps->p++;
        } else if (c == '#') {
            while (ps->p < ps->end && *ps->p != '\n' && *ps->p != '\r') ps->p++;
        } else {
            break;
        }
    }
}

static lc_status parse_string(parser *ps, lc_npy_value *v) {
    char quote = *ps->p++;
    const char *start = ps->p;
    for (;;) {
        if (ps->p >= ps->end || *ps->p == '\n' || *ps->p == '\r')
            return syntax(ps, "unterminated string");
        if (*ps->p == '\\') return syntax(ps, "escape sequences in strings are not supported");
        if (*ps->p == quote) break;
        ps->p++;
    }
    v->kind = LC_NPY_STR;
    v->str = start;
    v->str_len = (size_t)(ps->p - start);
    ps->p++;
    return LC_OK;
}

/* A decimal integer with optional unary signs (Python allows "- 1" and "--1"). */
static lc_status parse_int(parser *ps, lc_npy_value *v) {
    bool negate = false;
    while (ps->p < ps->end && (*ps->p == '-' || *ps->p == '+')) {
        if (*ps->p == '-') negate = !negate;
        ps->p++;
        skip_space(ps);
    }
    if (ps->p >= ps->end || !is_digit(*ps->p)) return syntax(ps, "expected digits after a sign");
    uint64_t mag = 0;
    bool big = false;
    while (ps->p < ps->end && is_digit(*ps->p)) {
        unsigned d = (unsigned)(*ps->p - '0');
        if (mag > (UINT64_MAX - d) / 10)
            big = true;
        else
            mag = mag * 10 + d;
        ps->p++;
    }
    if (ps->long_suffix && ps->p < ps->end && (*ps->p == 'L' || *ps->p == 'l')) ps->p++;
    if (ps->p < ps->end && (is_ident(*ps->p) || *ps->p == '.'))
        return syntax(ps, "only decimal integer numbers are supported");
    /* INT64_MIN is representable but no shape needs it; treat it as out of range too. */
    if (mag > (uint64_t)INT64_MAX) big = true;
    v->kind = LC_NPY_INT;
    v->num_big = big;
    v->num = big ? 0 : (negate ? -(int64_t)mag : (int64_t)mag);
    if (big && negate) v->num = -1; /* keep the sign visible for the negative check */
    return LC_OK;
}

static lc_status parse_name(parser *ps, lc_npy_value *v) {
    const char *start = ps->p;
    while (ps->p < ps->end && is_ident(*ps->p)) ps->p++;
    size_t n = (size_t)(ps->p - start);
    if (n == 4 && memcmp(start, "True", 4) == 0) {
        v->kind = LC_NPY_BOOL;
        v->truth = true;
    } else if (n == 5 && memcmp(start, "False", 5) == 0) {
        v->kind = LC_NPY_BOOL;
        v->truth = false;
    } else if (n == 4 && memcmp(start, "None", 4) == 0) {
        v->kind = LC_NPY_NONE;
    } else {
        ps->p = start;
        return syntax(ps, "unknown name (only True, False and None are literals)");
    }
    return LC_OK;
}

/* Fold one item into a sequence's summary. */
static void note_item(lc_npy_value *seq, const lc_npy_value *item) {
    if (item->kind != LC_NPY_INT) {
        seq->all_ints = false;
    } else {
        if (item->num_big) seq->any_big = true;
        if (item->num < 0) seq->any_negative = true;
        if (seq->count < LC_MAX_RANK) seq->items[seq->count] = item->num;
    }
    seq->count++;
}

/* "(" or "[" already current. A parenthesized single value without a comma is that value,
 * not a tuple, as in Python: (5) is 5, (5,) is a tuple. */
static lc_status parse_sequence(parser *ps, lc_npy_value *v) {
    char close = *ps->p == '(' ? ')' : ']';
    ps->p++;
    lc_npy_value seq = {.kind = close == ')' ? LC_NPY_TUPLE : LC_NPY_LIST, .all_ints = true};
    lc_npy_value first = {0};
    bool comma = false;
    for (;;) {
        skip_space(ps);
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            break;
        }
        lc_npy_value item = {0};
        LC_TRY(parse_value(ps, &item));
        if (seq.count == 0) first = item;
        note_item(&seq, &item);
        skip_space(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            comma = true;
        } else if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            break;
        } else {
            return syntax(ps, close == ')' ? "expected ',' or ')'" : "expected ',' or ']'");
        }
    }
    *v = (close == ')' && seq.count == 1 && !comma) ? first : seq;
    return LC_OK;
}

/* "{" current. With `entry`, each pair is reported (the outermost dict). */
static lc_status parse_dict_body(parser *ps, lc_npy_value *v, lc_npy_entry_fn entry,
                                 void *ctx) {
    ps->p++;
    lc_npy_value dict = {.kind = LC_NPY_DICT};
    for (;;) {
        skip_space(ps);
        if (ps->p < ps->end && *ps->p == '}') {
            ps->p++;
            break;
        }
        size_t key_offset = ps->base + (size_t)(ps->p - ps->begin);
        lc_npy_value key = {0}, value = {0};
        LC_TRY(parse_value(ps, &key));
        skip_space(ps);
        if (ps->p >= ps->end || *ps->p != ':') return syntax(ps, "expected ':' after a key");
        ps->p++;
        LC_TRY(parse_value(ps, &value));
        if (entry) LC_TRY(entry(ctx, &key, &value, key_offset));
        dict.count++;
        skip_space(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
        } else if (ps->p < ps->end && *ps->p == '}') {
            ps->p++;
            break;
        } else {
            return syntax(ps, "expected ',' or '}'");
        }
    }
    *v = dict;
    return LC_OK;
}

static lc_status parse_value(parser *ps, lc_npy_value *v) {
    skip_space(ps);
    if (ps->p >= ps->end) return syntax(ps, "unexpected end of the header, expected a value");
    if (ps->depth >= MAX_DEPTH) return syntax(ps, "values are nested too deeply");
    char c = *ps->p;
    lc_status st;
    ps->depth++;
    if (c == '\'' || c == '"') {
        st = parse_string(ps, v);
    } else if ((c == 'u' || c == 'U') && ps->p + 1 < ps->end &&
               (ps->p[1] == '\'' || ps->p[1] == '"')) {
        ps->p++; /* u'...' is the same str in Python 3 */
        st = parse_string(ps, v);
    } else if (is_digit(c) || c == '-' || c == '+') {
        st = parse_int(ps, v);
    } else if (is_ident(c)) {
        st = parse_name(ps, v);
    } else if (c == '(' || c == '[') {
        st = parse_sequence(ps, v);
    } else if (c == '{') {
        st = parse_dict_body(ps, v, NULL, NULL);
    } else if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f) {
        char what[48];
        snprintf(what, sizeof what, "unexpected character '%c'", c);
        st = syntax(ps, what);
    } else {
        char what[48];
        snprintf(what, sizeof what, "unexpected byte 0x%02x", (unsigned char)c);
        st = syntax(ps, what);
    }
    ps->depth--;
    return st;
}

lc_status lc_npy_parse_dict(const char *text, size_t len, size_t base, bool long_suffix,
                            lc_npy_entry_fn entry, void *ctx) {
    parser ps = {.begin = text, .p = text, .end = text + len, .base = base,
                 .long_suffix = long_suffix};
    skip_space(&ps);
    if (ps.p >= ps.end || *ps.p != '{')
        return syntax(&ps, "the header must be a Python dict literal starting with '{'");
    lc_npy_value dict;
    ps.depth = 1;
    LC_TRY(parse_dict_body(&ps, &dict, entry, ctx));
    skip_space(&ps);
    if (ps.p != ps.end) return syntax(&ps, "unexpected text after the header dict");
    return LC_OK;
}

const char *lc_npy_kind_name(lc_npy_kind kind) {
    switch (kind) {
    case LC_NPY_STR: return "a string";
    case LC_NPY_INT: return "an integer";
    case LC_NPY_BOOL: return "a bool";
    case LC_NPY_NONE: return "None";
    case LC_NPY_TUPLE: return "a tuple";
    case LC_NPY_LIST: return "a list";
    case LC_NPY_DICT: return "a dict";
    }
    return "a value";
}
