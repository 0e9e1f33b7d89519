/* Reader of the text IR that print.c writes (grammar: print.c and docs/text-ir.md).
 *
 *   file    := 'graph' '{' EOL  node*  [output]  '}'
 *   node    := '%'N '=' op body attr* ':' dtype '[' dims ']' ['name=' STRING] EOL
 *   body    := STRING?  (input)  |  NUMBER | '[' NUMBER, ... ']'  (constant)  |  '(' %i, ... ')'
 *   attr    := NAME '=' INT   (the op's int attributes, table order)  then  NAME '=' NUMBER
 *              (an optional int attribute, ops.def's LC_ATTR_OPT, may be left out: its default)
 *   output  := 'output' %i (',' %i)* EOL
 *
 * Spaces, tabs, blank lines and '#' comments are allowed anywhere a token may start. Nodes
 * are rebuilt through lc_graph_append, so text obeys the same shape rules and parameter checks
 * as a graph built in C, and the written type must equal the inferred one. Every error is
 * LC_ERR_PARSE with "LINE:COL: reason" (1-based, columns count bytes); a parse never reads
 * past the terminating NUL, never recurses, and frees everything it made on failure. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/graph_internal.h"
#include "ir/text_format.h"
#include "support/error.h"

typedef struct parser {
    const char *p;          /* next byte to read */
    const char *line_start; /* first byte of the current line, for columns */
    size_t line;            /* 1-based */
    lc_graph *g;
    double *data; /* the constant being read */
    size_t n_data, cap_data;
    char *str; /* the string being read (a name) */
    size_t str_len, str_cap;
} parser;

/* Own character classes: the <ctype.h> ones depend on the locale. */
static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }

static size_t column(const parser *ps, const char *at) { return (size_t)(at - ps->line_start) + 1; }

static lc_status fail_at(const parser *ps, const char *at, const char *fmt, ...) LC_PRINTF(3, 4);
static lc_status fail_at(const parser *ps, const char *at, const char *fmt, ...) {
    char reason[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    return lc_fail(LC_ERR_PARSE, "%zu:%zu: %s", ps->line, column(ps, at), reason);
}

static lc_status out_of_memory(void) { return lc_fail(LC_ERR_NOMEM, "graph parse: out of memory"); }

/* `len` bytes of user text, quoted for a message: at most 24 bytes, non-printables as '?'. */
static const char *quote(const char *s, size_t len, char buf[40]) {
    size_t n = 0;
    buf[n++] = '\'';
    for (size_t i = 0; i < len && i < 24; i++)
        buf[n++] = (unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f ? '?' : s[i];
    if (len > 24) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n++] = '\'';
    buf[n] = '\0';
    return buf;
}

/* What stands at `at`, for "expected X, got Y" messages. */
static const char *describe(const char *at, char buf[40]) {
    if (*at == '\0') return "end of input";
    if (*at == '\n' || (*at == '\r' && at[1] == '\n')) return "end of line";
    size_t len = 0;
    if (is_alnum(*at) || *at == '%' || *at == '-' || *at == '+' || *at == '.') {
        len = 1;
        while (is_alnum(at[len]) || at[len] == '.' || at[len] == '+' || at[len] == '-') len++;
    } else {
        len = 1;
    }
    return quote(at, len, buf);
}

static void skip_space(parser *ps) {
    for (;;) {
        char c = *ps->p;
        if (c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f') {
            ps->p++;
        } else if (c == '#') {
            while (*ps->p && *ps->p != '\n') ps->p++;
        } else {
            return;
        }
    }
}

static void next_line(parser *ps) {
    ps->p++; /* the '\n' */
    ps->line++;
    ps->line_start = ps->p;
}

static void skip_blank_lines(parser *ps) {
    for (;;) {
        skip_space(ps);
        if (*ps->p != '\n') return;
        next_line(ps);
    }
}

/* A statement ends at a newline (or the end of the text); only a comment may follow it. The
 * newline itself is left for skip_blank_lines, so the statement's line number stays current
 * for the checks that follow its syntax. */
static lc_status end_line(parser *ps, const char *after) {
    skip_space(ps);
    if (*ps->p == '\0' || *ps->p == '\n') return LC_OK;
    char got[40];
    return fail_at(ps, ps->p, "expected end of line after %s, got %s", after, describe(ps->p, got));
}

/* An identifier at the cursor (after spaces); false, cursor unmoved past spaces, if none. */
static bool read_ident(parser *ps, const char **start, size_t *len) {
    skip_space(ps);
    if (!is_alpha(*ps->p)) return false;
    *start = ps->p;
    while (is_alnum(*ps->p)) ps->p++;
    *len = (size_t)(ps->p - *start);
    return true;
}

static bool ident_is(const char *s, size_t len, const char *word) {
    return strlen(word) == len && memcmp(s, word, len) == 0;
}

/* One expected punctuation character, else "expected 'c' <context>, got ...". */
static lc_status expect_char(parser *ps, char c, const char *context) {
    skip_space(ps);
    if (*ps->p == c) {
        ps->p++;
        return LC_OK;
    }
    char got[40];
    return fail_at(ps, ps->p, "expected '%c' %s, got %s", c, context, describe(ps->p, got));
}

/* Decimal digits into a value <= limit; false on overflow. Cursor moves past all digits. */
static bool read_digits(parser *ps, uint64_t limit, uint64_t *out) {
    uint64_t v = 0;
    bool ok = true;
    while (is_digit(*ps->p)) {
        uint64_t d = (uint64_t)(*ps->p++ - '0');
        if (v > (limit - d) / 10) ok = false;
        else v = v * 10 + d;
    }
    *out = v;
    return ok;
}

/* "%N" naming a node defined on an earlier line. */
static lc_status parse_ref(parser *ps, int *out) {
    skip_space(ps);
    const char *at = ps->p;
    char got[40];
    if (*at != '%' || !is_digit(at[1]))
        return fail_at(ps, at, "expected a node reference like %%0, got %s", describe(at, got));
    ps->p++;
    uint64_t v;
    bool fits = read_digits(ps, INT32_MAX, &v);
    if (is_alnum(*ps->p))
        return fail_at(ps, at, "malformed node reference %s", describe(at, got));
    if (!fits || v >= (uint64_t)ps->g->count) {
        quote(at, (size_t)(ps->p - at), got);
        got[strlen(got) - 1] = '\0'; /* "%7", as the name is written, without quotes */
        return fail_at(ps, at, "%s is not defined yet", got + 1);
    }
    *out = (int)v;
    return LC_OK;
}

/* A number as the printer writes it (or any decimal form): [+-] digits [. digits] [e[+-]digits],
 * or [+-] inf / nan. The value is strtod's, i.e. correctly rounded. */
static lc_status parse_number(parser *ps, const char *what, double *out) {
    skip_space(ps);
    const char *start = ps->p, *q = start;
    char got[40];
    bool neg = *q == '-';
    if (*q == '+' || *q == '-') q++;
    if (is_alpha(*q)) {
        const char *word = q;
        while (is_alnum(*q)) q++;
        size_t len = (size_t)(q - word);
        if (ident_is(word, len, "inf")) *out = neg ? -INFINITY : INFINITY;
        else if (ident_is(word, len, "nan")) *out = neg ? -NAN : NAN;
        else return fail_at(ps, start, "expected %s, got %s", what, quote(start, (size_t)(q - start), got));
        ps->p = q;
        return LC_OK;
    }
    size_t digits = 0;
    while (is_digit(*q)) q++, digits++;
    if (*q == '.') {
        q++;
        while (is_digit(*q)) q++, digits++;
    }
    if (digits == 0) return fail_at(ps, start, "expected %s, got %s", what, describe(start, got));
    if (*q == 'e' || *q == 'E') {
        q++;
        if (*q == '+' || *q == '-') q++;
        if (!is_digit(*q)) q = start; /* flagged below as malformed */
        while (is_digit(*q)) q++;
    }
    const char *end = NULL;
    double v = 0;
    if (q != start && !is_alnum(*q) && *q != '.') {
        errno = 0;
        char *e;
        v = strtod(start, &e);
        end = e;
    }
    if (end != q) { /* a stray letter or dot, or strtod disagreeing (hex, locale) */
        const char *tail = start + 1;
        while (is_alnum(*tail) || *tail == '.' || *tail == '+' || *tail == '-') tail++;
        return fail_at(ps, start, "malformed number %s", quote(start, (size_t)(tail - start), got));
    }
    if (errno == ERANGE && isinf(v))
        return fail_at(ps, start, "number %s is out of range", quote(start, (size_t)(q - start), got));
    ps->p = q;
    *out = v;
    return LC_OK;
}

/* A quoted string into ps->str (NUL-terminated): escapes \" \\ \n \t \xHH. */
static lc_status push_char(parser *ps, char c) {
    if (ps->str_len + 2 > ps->str_cap) {
        size_t cap = ps->str_cap ? ps->str_cap * 2 : 64;
        char *s = realloc(ps->str, cap);
        if (!s) return out_of_memory();
        ps->str = s;
        ps->str_cap = cap;
    }
    ps->str[ps->str_len++] = c;
    ps->str[ps->str_len] = '\0';
    return LC_OK;
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static lc_status parse_string(parser *ps) {
    skip_space(ps);
    const char *open = ps->p;
    LC_TRY(expect_char(ps, '"', "to open a string"));
    ps->str_len = 0;
    LC_TRY(push_char(ps, '\0'));
    ps->str_len = 0;
    for (;;) {
        char c = *ps->p;
        if (c == '\0' || c == '\n') return fail_at(ps, open, "unterminated string");
        ps->p++;
        if (c == '"') return LC_OK;
        if (c == '\\') {
            const char *esc = ps->p - 1;
            char e = *ps->p;
            if (e == '"' || e == '\\') c = e;
            else if (e == 'n') c = '\n';
            else if (e == 't') c = '\t';
            else if (e == 'x' && hex_value(ps->p[1]) >= 0 && hex_value(ps->p[2]) >= 0) {
                c = (char)(hex_value(ps->p[1]) * 16 + hex_value(ps->p[2]));
                if (c == '\0') return fail_at(ps, esc, "a string cannot hold \\x00");
                ps->p += 2;
            } else {
                char got[40];
                return fail_at(ps, esc, "unknown escape %s in string (use \\\" \\\\ \\n \\t \\xHH)",
                               quote(esc, e ? 2 : 1, got));
            }
            ps->p++;
        }
        LC_TRY(push_char(ps, c));
    }
}

/* The value of int attribute `name` of `op`. */
static lc_status parse_int_attr(parser *ps, const char *op, const char *name, int64_t *out) {
    skip_space(ps);
    const char *at = ps->p;
    char got[40];
    bool neg = *ps->p == '-';
    if (*ps->p == '-' || *ps->p == '+') ps->p++;
    if (!is_digit(*ps->p))
        return fail_at(ps, at, "%s: attribute '%s' needs an integer, got %s", op, name, describe(at, got));
    uint64_t v;
    bool fits = read_digits(ps, neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, &v);
    if (is_alnum(*ps->p) || *ps->p == '.')
        return fail_at(ps, at, "%s: attribute '%s' needs an integer, got %s", op, name, describe(at, got));
    if (!fits)
        return fail_at(ps, at, "%s: attribute '%s': integer %s is out of range", op, name,
                       describe(at, got));
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return LC_OK;
}

static int attr_index(const lc_op_info *info, const char *s, size_t len) {
    for (int i = 0; i < info->n_int_attrs; i++)
        if (ident_is(s, len, info->int_attr_names[i])) return i;
    if (info->real_attr_name && ident_is(s, len, info->real_attr_name)) return info->n_int_attrs;
    return -1;
}

/* Whether the next token is the identifier `name` (nothing is consumed but space). */
static bool next_is_attr(parser *ps, const char *name) {
    const char *save = ps->p, *s;
    size_t len;
    bool is = read_ident(ps, &s, &len) && ident_is(s, len, name);
    ps->p = save;
    return is;
}

/* "NAME =" where NAME must be attribute number `want` of the op (the real one after the ints). */
static lc_status parse_attr_name(parser *ps, const lc_op_info *info, int want) {
    const char *expected = want < info->n_int_attrs ? info->int_attr_names[want] : info->real_attr_name;
    const char *s;
    size_t len;
    char got[40];
    if (!read_ident(ps, &s, &len))
        return fail_at(ps, ps->p, "%s: missing attribute '%s'", info->name, expected);
    if (!ident_is(s, len, expected)) {
        int k = attr_index(info, s, len);
        if (k < 0)
            return fail_at(ps, s, "%s: unknown attribute %s", info->name, quote(s, len, got));
        if (k < want)
            return fail_at(ps, s, "%s: attribute %s given twice", info->name, quote(s, len, got));
        return fail_at(ps, s, "%s: missing attribute '%s' (got %s; attributes go in table order)",
                       info->name, expected, quote(s, len, got));
    }
    char context[64];
    snprintf(context, sizeof context, "after attribute '%s'", expected);
    return expect_char(ps, '=', context);
}

/* Reads one list item at ps->p (leading space already skipped) and stores it through ctx. */
typedef lc_status (*list_item_fn)(parser *ps, void *ctx);

/* "[a, b, ...]" or "[]" from the '[' at ps->p (the caller has checked it is there), calling
 * `item` for each element. `what` names the list in "expected ',' or ']' in <what>, got ...".
 * Shared by shapes and constant data so both accept the same spacing, comments and forms. */
static lc_status parse_list(parser *ps, const char *what, list_item_fn item, void *ctx) {
    ps->p++; /* '[' */
    skip_space(ps);
    if (*ps->p == ']') {
        ps->p++;
        return LC_OK;
    }
    for (;;) {
        skip_space(ps);
        LC_TRY(item(ps, ctx));
        skip_space(ps);
        if (*ps->p == ',') {
            ps->p++;
            continue;
        }
        if (*ps->p == ']') {
            ps->p++;
            return LC_OK;
        }
        char got[40];
        return fail_at(ps, ps->p, "expected ',' or ']' in %s, got %s", what, describe(ps->p, got));
    }
}

/* One dimension of a shape into ((lc_shape *)ctx). */
static lc_status parse_dim(parser *ps, void *ctx) {
    lc_shape *shape = ctx;
    const char *dim_at = ps->p;
    char got[40];
    if (!is_digit(*ps->p))
        return fail_at(ps, dim_at, "expected a dimension (an integer >= 0), got %s", describe(dim_at, got));
    uint64_t v;
    bool fits = read_digits(ps, INT64_MAX, &v);
    if (is_alnum(*ps->p) || *ps->p == '.')
        return fail_at(ps, dim_at, "malformed dimension %s", describe(dim_at, got));
    if (!fits) return fail_at(ps, dim_at, "dimension %s is out of range", describe(dim_at, got));
    if (shape->rank == LC_MAX_RANK) return fail_at(ps, dim_at, "rank exceeds %d", LC_MAX_RANK);
    shape->dim[shape->rank++] = (int64_t)v;
    return LC_OK;
}

/* "f32[2,8,16]". */
static lc_status parse_type(parser *ps, lc_dtype *dtype, lc_shape *shape) {
    const char *s;
    size_t len;
    char got[40];
    skip_space(ps);
    const char *at = ps->p;
    if (!read_ident(ps, &s, &len))
        return fail_at(ps, at, "expected a type like f32[2,3], got %s", describe(at, got));
    if (ident_is(s, len, "f32")) *dtype = LC_F32;
    else if (ident_is(s, len, "f64")) *dtype = LC_F64;
    else return fail_at(ps, s, "unknown dtype %s (expected f32 or f64)", quote(s, len, got));
    if (*ps->p != '[')
        return fail_at(ps, ps->p, "expected '[' after the dtype, got %s", describe(ps->p, got));
    *shape = (lc_shape){0};
    LC_TRY(parse_list(ps, "the shape", parse_dim, shape));
    /* Checked here so that an absurd shape is a parse error, not an allocation failure. */
    int64_t numel = 1;
    for (int i = 0; i < shape->rank; i++) {
        int64_t d = shape->dim[i];
        if (d > 0 && numel > INT64_MAX / d) return fail_at(ps, at, "shape has too many elements");
        numel *= d;
    }
    return LC_OK;
}

static lc_status push_value(parser *ps, double v) {
    if (ps->n_data == ps->cap_data) {
        size_t cap = ps->cap_data ? ps->cap_data * 2 : 16;
        if (cap > SIZE_MAX / sizeof(double)) return out_of_memory();
        double *d = realloc(ps->data, cap * sizeof *d);
        if (!d) return out_of_memory();
        ps->data = d;
        ps->cap_data = cap;
    }
    ps->data[ps->n_data++] = v;
    return LC_OK;
}

/* One element of constant data into ps->data. */
static lc_status parse_data_item(parser *ps, void *ctx) {
    (void)ctx;
    double v;
    LC_TRY(parse_number(ps, "a number", &v));
    return push_value(ps, v);
}

/* "2.5" (rank 0) or "[1, 2.5, 3]" into ps->data. */
static lc_status parse_constant_data(parser *ps, bool *is_list) {
    ps->n_data = 0;
    skip_space(ps);
    *is_list = *ps->p == '[';
    if (*is_list) return parse_list(ps, "constant data", parse_data_item, NULL);
    double v;
    LC_TRY(parse_number(ps, "constant data (a number or a list [a, b, ...])", &v));
    return push_value(ps, v);
}

/* "(%a, %b)" with exactly the op's arity. */
static lc_status parse_inputs(parser *ps, const lc_op_info *info, int *inputs) {
    char context[64];
    snprintf(context, sizeof context, "after '%s'", info->name);
    LC_TRY(expect_char(ps, '(', context));
    int count = 0;
    char got[40];
    skip_space(ps);
    const char *close = ps->p;
    if (*ps->p != ')') {
        for (;;) {
            skip_space(ps);
            const char *ref_at = ps->p;
            int ref;
            LC_TRY(parse_ref(ps, &ref));
            if (count == info->arity)
                return fail_at(ps, ref_at, "%s takes %d input%s, got more", info->name, info->arity,
                               info->arity == 1 ? "" : "s");
            inputs[count++] = ref;
            skip_space(ps);
            if (*ps->p == ',') {
                ps->p++;
                continue;
            }
            if (*ps->p != ')')
                return fail_at(ps, ps->p, count == info->arity ? "expected ')' after input list, got %s"
                                                               : "expected ',' or ')' in input list, got %s",
                               describe(ps->p, got));
            break;
        }
        close = ps->p;
    }
    ps->p++; /* ')' */
    if (count < info->arity)
        return fail_at(ps, close, "%s takes %d input%s, got %d", info->name, info->arity,
                       info->arity == 1 ? "" : "s", count);
    return LC_OK;
}

/* One "%N = op ... : type [name=...]" line. */
static lc_status parse_node(parser *ps) {
    lc_graph *g = ps->g;
    const char *at = ps->p;
    char got[40], want_type[160], got_type[160];
    ps->p++; /* '%', checked by the caller */
    uint64_t index = 0;
    bool fits = is_digit(*ps->p) && read_digits(ps, INT32_MAX, &index);
    if (!fits || is_alnum(*ps->p) || index != (uint64_t)g->count)
        return fail_at(ps, at, "expected %%%d (SSA names go in order %%0, %%1, ...), got %s",
                       g->count, describe(at, got));
    LC_TRY(expect_char(ps, '=', "after the node name"));

    const char *op_at, *s;
    size_t len;
    skip_space(ps);
    op_at = ps->p;
    if (!read_ident(ps, &s, &len))
        return fail_at(ps, op_at, "expected an op name, got %s", describe(op_at, got));
    lc_op op;
    if (!lc_op_from_name(s, len, &op))
        return fail_at(ps, op_at, "unknown op %s", quote(s, len, got));
    const lc_op_info *info = lc_op_get_info(op);

    int inputs[LC_MAX_INPUTS] = {0};
    int64_t attrs[LC_MAX_INT_ATTRS] = {0};
    double real = 0;
    bool have_name = false, is_list = false;
    skip_space(ps);
    const char *data_at = ps->p;
    if (op == LC_OP_INPUT) {
        if (*ps->p == '"') {
            LC_TRY(parse_string(ps));
            have_name = true;
        }
    } else if (op == LC_OP_CONSTANT) {
        LC_TRY(parse_constant_data(ps, &is_list));
    } else {
        LC_TRY(parse_inputs(ps, info, inputs));
    }
    for (int i = 0; i < info->n_int_attrs; i++) {
        if (info->int_attr_optional[i] && !next_is_attr(ps, info->int_attr_names[i])) {
            attrs[i] = info->int_attr_default[i];
            continue;
        }
        LC_TRY(parse_attr_name(ps, info, i));
        LC_TRY(parse_int_attr(ps, info->name, info->int_attr_names[i], &attrs[i]));
    }
    if (info->real_attr_name) {
        LC_TRY(parse_attr_name(ps, info, info->n_int_attrs));
        char what[64];
        snprintf(what, sizeof what, "a number for attribute '%s'", info->real_attr_name);
        LC_TRY(parse_number(ps, what, &real));
    }
    if (read_ident(ps, &s, &len)) {
        int k = attr_index(info, s, len);
        if (k >= 0) return fail_at(ps, s, "%s: attribute %s given twice", info->name, quote(s, len, got));
        return fail_at(ps, s, "%s: unknown attribute %s", info->name, quote(s, len, got));
    }
    LC_TRY(expect_char(ps, ':', "before the result type"));
    skip_space(ps);
    const char *type_at = ps->p;
    lc_dtype dtype = LC_F32;
    lc_shape shape;
    LC_TRY(parse_type(ps, &dtype, &shape));

    if (read_ident(ps, &s, &len)) {
        if (!ident_is(s, len, "name"))
            return fail_at(ps, s, "expected end of line or name=\"...\", got %s", quote(s, len, got));
        if (op == LC_OP_INPUT)
            return fail_at(ps, s, "input: the name goes right after 'input', as input \"x\"");
        LC_TRY(expect_char(ps, '=', "after 'name'"));
        LC_TRY(parse_string(ps));
        have_name = true;
    }
    LC_TRY(end_line(ps, "the node"));

    if (op == LC_OP_CONSTANT) {
        /* The count is checked before the append, which reads numel(shape) values. */
        if (!is_list && shape.rank != 0)
            return fail_at(ps, type_at, "constant: a bare number needs a rank-0 type like f32[], got %s",
                           lc_text_type_str(dtype, &shape, want_type, sizeof want_type));
        if (is_list && shape.rank == 0)
            return fail_at(ps, data_at, "constant: rank-0 data is a bare number, not a list");
        if ((uint64_t)lc_shape_numel(&shape) != (uint64_t)ps->n_data)
            return fail_at(ps, data_at, "constant: %zu values given, type %s needs %lld", ps->n_data,
                           lc_text_type_str(dtype, &shape, want_type, sizeof want_type),
                           (long long)lc_shape_numel(&shape));
    }
    /* The append's own checks are lifted to parse errors at the line's op; only a real
     * allocation failure stays LC_ERR_NOMEM (absurd shapes were caught by parse_type). */
    int idx;
    lc_status st = lc_graph_append(g, op, inputs, attrs, real, dtype, &shape, ps->data, &idx);
    if (st == LC_ERR_NOMEM) return st;
    if (st != LC_OK)
        return lc_fail_prefix(LC_ERR_PARSE, "%zu:%zu", ps->line, column(ps, op_at));
    const lc_node *n = lc_graph_node(g, idx);
    if (n->dtype != dtype || !lc_shape_equal(&n->shape, &shape))
        return fail_at(ps, type_at, "shape %s does not match inferred %s",
                       lc_text_type_str(dtype, &shape, want_type, sizeof want_type),
                       lc_text_type_str(n->dtype, &n->shape, got_type, sizeof got_type));
    if (have_name && lc_graph_set_name(g, idx, ps->str) != LC_OK) return out_of_memory();
    return LC_OK;
}

/* "output %a, %b" ('output' already read). */
static lc_status parse_outputs(parser *ps) {
    for (;;) {
        skip_space(ps);
        const char *at = ps->p;
        int ref;
        LC_TRY(parse_ref(ps, &ref));
        lc_status st = lc_graph_add_output(ps->g, ref);
        if (st == LC_ERR_NOMEM) return st;
        if (st != LC_OK) return lc_fail_prefix(LC_ERR_PARSE, "%zu:%zu", ps->line, column(ps, at));
        skip_space(ps);
        if (*ps->p != ',') break;
        ps->p++;
    }
    return end_line(ps, "the output list");
}

static lc_status parse_graph(parser *ps) {
    char got[40];
    const char *s;
    size_t len;
    skip_blank_lines(ps);
    const char *at = ps->p;
    if (!read_ident(ps, &s, &len) || !ident_is(s, len, "graph")) return fail_at(ps, at, "expected 'graph {'");
    skip_space(ps);
    if (*ps->p != '{') return fail_at(ps, at, "expected 'graph {'");
    ps->p++;
    LC_TRY(end_line(ps, "'graph {'"));
    bool have_outputs = false;
    for (;;) {
        skip_blank_lines(ps);
        at = ps->p;
        if (*at == '}') {
            ps->p++;
            break;
        }
        if (*at == '%') {
            if (have_outputs) return fail_at(ps, at, "nodes must come before the output line");
            LC_TRY(parse_node(ps));
        } else if (read_ident(ps, &s, &len) && ident_is(s, len, "output")) {
            if (have_outputs) return fail_at(ps, at, "only one output line is allowed");
            LC_TRY(parse_outputs(ps));
            have_outputs = true;
        } else if (*at == '\0') {
            return fail_at(ps, at, "expected '}' to close the graph, got end of input");
        } else {
            return fail_at(ps, at, "expected a node (%%%d = ...), 'output' or '}', got %s",
                           ps->g->count, describe(at, got));
        }
    }
    skip_blank_lines(ps);
    if (*ps->p != '\0') return fail_at(ps, ps->p, "unexpected %s after the closing '}'", describe(ps->p, got));
    return LC_OK;
}

lc_status lc_graph_parse(const char *text, lc_graph **out) {
    if (!out) return lc_fail(LC_ERR_INVALID_ARG, "graph parse: out must not be NULL");
    *out = NULL;
    if (!text) return lc_fail(LC_ERR_INVALID_ARG, "graph parse: text must not be NULL");
    parser ps = {.p = text, .line_start = text, .line = 1};
    LC_TRY(lc_graph_new(&ps.g));
    lc_status st = parse_graph(&ps);
    free(ps.data);
    free(ps.str);
    if (st != LC_OK) {
        lc_graph_free(ps.g);
        return st;
    }
    *out = ps.g;
    return LC_OK;
}
