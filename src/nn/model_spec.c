/* The model-spec parser: Python constructor calls -> modules (docs/model-spec.md).
 *
 * A hand-written scanner and a one-token-lookahead parser; no recursion, so any input text,
 * however long or hostile, is parsed in linear time and bounded stack (it is a fuzz target).
 * What each module accepts is the library's module table (lc_module_info_*, nn.h): argument
 * names in positional order, their kinds and which are required. The parser only matches
 * arguments to that table; lc_module_new and the module constructors judge the values. */
#include "lucid/model_spec.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/error.h"

/* What each module accepts comes from the module table (lc_module_info_*, nn.h). */
enum { SPEC_MAX_PARAMS = 8 };

/* ---- scanner ----------------------------------------------------------------------------- */

typedef enum tok_kind {
    TOK_EOF,
    TOK_NEWLINE, /* only outside parentheses */
    TOK_NAME,    /* identifier, dots allowed between parts: nn.AvgPool1d */
    TOK_NUMBER,
    TOK_STRING,  /* 'same' or "same": quotes included in the token, no escapes */
    TOK_LPAREN,
    TOK_RPAREN,
    TOK_COMMA,
    TOK_EQUALS,
    TOK_MINUS,
    TOK_PLUS,
} tok_kind;

typedef struct token {
    tok_kind kind;
    const char *start;
    size_t len;
    int line, col;
} token;

typedef struct parser {
    const char *text;
    const char *p;
    int line, col;
    int depth;         /* parentheses open at the scanner's position */
    token tok;         /* the current token */
    const char *label;
    bool inline_call;  /* positions as "col N" */
    bool in_tuple;     /* reading a tuple's items: no tuple starts inside one */
} parser;

/* Format "label:line:col: " (file) or "label: col N: " (inline) and the message. */
static lc_status fail_at(const parser *ps, lc_status st, int line, int col, const char *fmt, ...)
    LC_PRINTF(5, 6);
static lc_status fail_at(const parser *ps, lc_status st, int line, int col, const char *fmt, ...) {
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (!ps->inline_call)
        return lc_fail(st, "%s:%d:%d: %s", ps->label, line, col, what);
    if (line == 1) return lc_fail(st, "%s: col %d: %s", ps->label, col, what);
    return lc_fail(st, "%s: line %d col %d: %s", ps->label, line, col, what);
}

/* A token's text, quoted for messages and cut to a readable length. */
static const char *tok_text(const token *t, char *buf, size_t size) {
    switch (t->kind) {
    case TOK_EOF: return "end of input";
    case TOK_NEWLINE: return "end of line";
    default: break;
    }
    size_t n = t->len < size - 8 ? t->len : size - 8;
    snprintf(buf, size, "'%.*s%s'", (int)n, t->start, n < t->len ? "..." : "");
    return buf;
}

static bool is_name_start(char c) { return isalpha((unsigned char)c) || c == '_'; }
static bool is_name_char(char c) { return isalnum((unsigned char)c) || c == '_'; }

static void advance_char(parser *ps) {
    if (*ps->p == '\n') {
        ps->line++;
        ps->col = 1;
    } else {
        ps->col++;
    }
    ps->p++;
}

/* Scan a number: digits [. digits] [e [+-] digits], or . digits [e ...]. */
static lc_status scan_number(parser *ps) {
    const char *s = ps->p;
    bool digits = false;
    while (isdigit((unsigned char)*ps->p)) { advance_char(ps); digits = true; }
    if (*ps->p == '.') {
        advance_char(ps);
        while (isdigit((unsigned char)*ps->p)) { advance_char(ps); digits = true; }
    }
    if (digits && (*ps->p == 'e' || *ps->p == 'E')) {
        advance_char(ps);
        if (*ps->p == '+' || *ps->p == '-') advance_char(ps);
        if (!isdigit((unsigned char)*ps->p))
            return fail_at(ps, LC_ERR_PARSE, ps->tok.line, ps->tok.col,
                           "malformed number '%.*s': exponent has no digits", (int)(ps->p - s), s);
        while (isdigit((unsigned char)*ps->p)) advance_char(ps);
    }
    if (is_name_char(*ps->p) || *ps->p == '.') {
        const char *e = ps->p;
        while (is_name_char(*e) || *e == '.') e++;
        int n = (int)(e - s) > 40 ? 40 : (int)(e - s);
        return fail_at(ps, LC_ERR_PARSE, ps->tok.line, ps->tok.col, "malformed number '%.*s'", n, s);
    }
    ps->tok.kind = TOK_NUMBER;
    ps->tok.len = (size_t)(ps->p - s);
    return LC_OK;
}

/* Move to the next token. Newlines inside parentheses are whitespace. */
static lc_status next(parser *ps) {
    for (;;) {
        char c = *ps->p;
        if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v' ||
            (c == '\n' && ps->depth > 0)) {
            advance_char(ps);
        } else if (c == '#') {
            while (*ps->p && *ps->p != '\n') advance_char(ps);
        } else if (c == '\\' && ps->p[1] == '\n') { /* Python's explicit line joining */
            advance_char(ps);
            advance_char(ps);
        } else {
            break;
        }
    }
    token *t = &ps->tok;
    t->start = ps->p;
    t->line = ps->line;
    t->col = ps->col;
    t->len = 1;
    char c = *ps->p;
    switch (c) {
    case '\0': t->kind = TOK_EOF; t->len = 0; return LC_OK;
    case '\n': t->kind = TOK_NEWLINE; advance_char(ps); return LC_OK;
    case '(': t->kind = TOK_LPAREN; ps->depth++; advance_char(ps); return LC_OK;
    case ')':
        t->kind = TOK_RPAREN;
        if (ps->depth > 0) ps->depth--;
        advance_char(ps);
        return LC_OK;
    case ',': t->kind = TOK_COMMA; advance_char(ps); return LC_OK;
    case '=': t->kind = TOK_EQUALS; advance_char(ps); return LC_OK;
    case '-': t->kind = TOK_MINUS; advance_char(ps); return LC_OK;
    case '+': t->kind = TOK_PLUS; advance_char(ps); return LC_OK;
    default: break;
    }
    if (isdigit((unsigned char)c) || (c == '.' && isdigit((unsigned char)ps->p[1])))
        return scan_number(ps);
    if (c == '\'' || c == '"') {
        const char *s = ps->p;
        advance_char(ps);
        while (*ps->p && *ps->p != c && *ps->p != '\n') {
            if (*ps->p == '\\')
                return fail_at(ps, LC_ERR_PARSE, ps->line, ps->col,
                               "strings take no escapes (a backslash in %.*s)", (int)(ps->p - s + 1), s);
            advance_char(ps);
        }
        if (*ps->p != c)
            return fail_at(ps, LC_ERR_PARSE, t->line, t->col, "string %.*s is never closed",
                           (int)(ps->p - s > 40 ? 40 : ps->p - s), s);
        advance_char(ps);
        t->kind = TOK_STRING;
        t->len = (size_t)(ps->p - s);
        return LC_OK;
    }
    if (is_name_start(c)) {
        const char *s = ps->p;
        for (;;) {
            while (is_name_char(*ps->p)) advance_char(ps);
            if (*ps->p == '.' && is_name_start(ps->p[1])) advance_char(ps);
            else break;
        }
        t->kind = TOK_NAME;
        t->len = (size_t)(ps->p - s);
        return LC_OK;
    }
    if (isprint((unsigned char)c))
        return fail_at(ps, LC_ERR_PARSE, t->line, t->col, "unexpected character '%c'", c);
    return fail_at(ps, LC_ERR_PARSE, t->line, t->col, "unexpected byte 0x%02x",
                   (unsigned)(unsigned char)c);
}

static bool tok_is(const token *t, const char *word) {
    return t->kind == TOK_NAME && t->len == strlen(word) && !memcmp(t->start, word, t->len);
}

/* ---- values -------------------------------------------------------------------------------- */

typedef enum lit_kind { LIT_INT, LIT_REAL, LIT_BOOL, LIT_NONE, LIT_TUPLE, LIT_STRING } lit_kind;

/* A tuple literal holds at most this many integers: the sizes of 1-D and 2-D modules. */
enum { SPEC_MAX_TUPLE = 2 };

/* The longest string value (the words are 'same', 'valid', 'mean', 'sum'). */
#define SPEC_MAX_STRING 32

typedef struct literal {
    lit_kind kind;
    int64_t i;
    int n_items;                     /* LIT_TUPLE: its integers */
    int64_t items[SPEC_MAX_TUPLE];
    double r;
    bool b;
    bool int_overflow;   /* an integer literal beyond int64 */
    char str[SPEC_MAX_STRING + 1]; /* LIT_STRING: the characters between the quotes */
    char text[48];       /* as written (sign included), for messages */
    int line, col;
} literal;

static lc_status parse_tuple(parser *ps, const char *module, const char *param, literal *lit);

/* Parse one literal at the current token: [+-] number | [+-] inf | [+-] nan | True | False |
 * None | a tuple of integers (parse_tuple). */
static lc_status parse_literal(parser *ps, const char *module, const char *param, literal *lit) {
    memset(lit, 0, sizeof *lit);
    if (ps->tok.kind == TOK_LPAREN && !ps->in_tuple) {
        ps->in_tuple = true;
        lc_status st = parse_tuple(ps, module, param, lit);
        ps->in_tuple = false;
        return st;
    }
    lit->line = ps->tok.line;
    lit->col = ps->tok.col;
    char sign = 0;
    if (ps->tok.kind == TOK_MINUS || ps->tok.kind == TOK_PLUS) {
        sign = ps->tok.kind == TOK_MINUS ? '-' : '+';
        LC_TRY(next(ps));
    }
    token t = ps->tok;
    char buf[64];
    int n = t.len > 40 ? 40 : (int)t.len;
    snprintf(lit->text, sizeof lit->text, "%s%.*s%s", sign == '-' ? "-" : sign == '+' ? "+" : "",
             n, t.start, (size_t)n < t.len ? "..." : "");
    if (t.kind == TOK_NUMBER) {
        char num[512];
        if (t.len >= sizeof num)
            return fail_at(ps, LC_ERR_PARSE, t.line, t.col, "%s: %s: number too long: %s", module,
                           param, lit->text);
        memcpy(num, t.start, t.len);
        num[t.len] = '\0';
        bool is_int = !strpbrk(num, ".eE");
        if (is_int) {
            lit->kind = LIT_INT;
            errno = 0;
            unsigned long long u = strtoull(num, NULL, 10);
            unsigned long long limit = sign == '-' ? (unsigned long long)INT64_MAX + 1 : INT64_MAX;
            if (errno == ERANGE || u > limit) lit->int_overflow = true;
            else lit->i = sign == '-' ? (int64_t)(0 - u) : (int64_t)u;
            lit->r = strtod(num, NULL) * (sign == '-' ? -1 : 1);
        } else {
            lit->kind = LIT_REAL;
            lit->r = strtod(num, NULL) * (sign == '-' ? -1 : 1); /* 1e400 is inf, as in Python */
        }
        return next(ps);
    }
    if (tok_is(&t, "inf") || tok_is(&t, "nan")) {
        lit->kind = LIT_REAL;
        lit->r = tok_is(&t, "inf") ? INFINITY : NAN;
        if (sign == '-') lit->r = -lit->r;
        return next(ps);
    }
    if (!sign && (tok_is(&t, "True") || tok_is(&t, "False"))) {
        lit->kind = LIT_BOOL;
        lit->b = tok_is(&t, "True");
        return next(ps);
    }
    if (!sign && tok_is(&t, "None")) {
        lit->kind = LIT_NONE;
        return next(ps);
    }
    if (!sign && t.kind == TOK_STRING) {
        if (t.len - 2 > SPEC_MAX_STRING)
            return fail_at(ps, LC_ERR_PARSE, t.line, t.col, "%s: %s: string longer than %d characters: %s",
                           module, param, SPEC_MAX_STRING, lit->text);
        lit->kind = LIT_STRING;
        memcpy(lit->str, t.start + 1, t.len - 2);
        lit->str[t.len - 2] = '\0';
        return next(ps);
    }
    if (sign)
        return fail_at(ps, LC_ERR_PARSE, t.line, t.col, "%s: %s: expected a number after '%c', got %s",
                       module, param, sign, tok_text(&t, buf, sizeof buf));
    return fail_at(ps, LC_ERR_PARSE, t.line, t.col,
                   "%s: %s: expected a value (number, string, True, False or None), got %s", module, param,
                   tok_text(&t, buf, sizeof buf));
}

/* A tuple of integers at the current '(' token: `(3,)`, `(2, 3)`, `(2, 3,)`. Its items are
 * plain literals (a tuple inside a tuple is refused), so this adds one bounded level. */
static lc_status parse_tuple(parser *ps, const char *module, const char *param, literal *lit) {
    char buf[64];
    token open = ps->tok;
    memset(lit, 0, sizeof *lit);
    lit->kind = LIT_TUPLE;
    lit->line = open.line;
    lit->col = open.col;
    LC_TRY(next(ps));
    size_t used = (size_t)snprintf(lit->text, sizeof lit->text, "(");
    while (ps->tok.kind != TOK_RPAREN) {
        if (ps->tok.kind == TOK_EOF)
            return fail_at(ps, LC_ERR_PARSE, open.line, open.col, "%s: %s: '(' is never closed", module, param);
        if (ps->tok.kind == TOK_LPAREN)
            return fail_at(ps, LC_ERR_PARSE, ps->tok.line, ps->tok.col,
                           "%s: %s: a tuple holds integers, not tuples", module, param);
        literal item;
        LC_TRY(parse_literal(ps, module, param, &item));
        if (item.kind != LIT_INT || item.int_overflow)
            return fail_at(ps, LC_ERR_PARSE, item.line, item.col,
                           "%s: %s: a tuple holds integers in the 64-bit range, got %s", module, param, item.text);
        if (lit->n_items == SPEC_MAX_TUPLE)
            return fail_at(ps, LC_ERR_PARSE, item.line, item.col,
                           "%s: %s: a tuple holds at most %d integers, got another: %s", module, param,
                           SPEC_MAX_TUPLE, item.text);
        lit->items[lit->n_items++] = item.i;
        if (used < sizeof lit->text)
            used += (size_t)snprintf(lit->text + used, sizeof lit->text - used, "%s%s",
                                     lit->n_items > 1 ? ", " : "", item.text);
        if (ps->tok.kind == TOK_COMMA) {
            LC_TRY(next(ps));
        } else if (ps->tok.kind != TOK_RPAREN) {
            return fail_at(ps, LC_ERR_PARSE, ps->tok.line, ps->tok.col,
                           "%s: %s: expected ',' or ')' in a tuple, got %s", module, param,
                           tok_text(&ps->tok, buf, sizeof buf));
        }
    }
    if (lit->n_items == 0)
        return fail_at(ps, LC_ERR_PARSE, open.line, open.col, "%s: %s: an empty tuple is not a size", module, param);
    if (used < sizeof lit->text)
        snprintf(lit->text + used, sizeof lit->text - used, "%s)", lit->n_items == 1 ? "," : "");
    return next(ps);
}

/* Check a literal against the parameter's type and store it; a string's characters go to
 * `str`, which must outlive v. */
static lc_status assign(const parser *ps, const lc_module_info *m, const lc_arg_info *p,
                        const literal *lit, lc_arg_value *v, char *str) {
    v->set = true;
    if (lit->kind == LIT_STRING) {
        if (p->kind != LC_ARG_STRING && p->kind != LC_ARG_INT_OR_STRING)
            return fail_at(ps, LC_ERR_PARSE, lit->line, lit->col, "%s: %s takes no string, got %s", m->name,
                           p->name, lit->text);
        strcpy(str, lit->str);
        v->s = str;
        return LC_OK;
    }
    if (lit->kind == LIT_NONE) {
        if (!p->none_ok)
            return fail_at(ps, LC_ERR_PARSE, lit->line, lit->col, "%s: %s cannot be None", m->name,
                           p->name);
        v->is_none = true;
        return LC_OK;
    }
    if (p->kind == LC_ARG_SIZE1 && lit->kind == LIT_TUPLE) {
        if (lit->n_items != 1)
            return fail_at(ps, LC_ERR_PARSE, lit->line, lit->col,
                           "%s: %s must be an integer or a 1-tuple, got %s", m->name, p->name, lit->text);
        v->i = lit->items[0];
        return LC_OK;
    }
    switch (p->kind) {
    case LC_ARG_STRING:
        return fail_at(ps, LC_ERR_PARSE, lit->line, lit->col, "%s: %s must be a string, got %s", m->name,
                       p->name, lit->text);
    case LC_ARG_SIZE1: /* an integer, as LC_ARG_INT */
    case LC_ARG_INT:
    case LC_ARG_INT_OR_STRING:
        if (lit->kind != LIT_INT)
            return fail_at(ps, LC_ERR_PARSE, lit->line, lit->col, "%s: %s must be an integer%s, got %s",
                           m->name, p->name, p->kind == LC_ARG_INT_OR_STRING ? " or a string" : "", lit->text);
        if (lit->int_overflow)
            return fail_at(ps, LC_ERR_PARSE, lit->line, lit->col,
                           "%s: %s is out of the 64-bit integer range, got %s", m->name, p->name,
                           lit->text);
        v->i = lit->i;
        return LC_OK;
    case LC_ARG_SIZE2:
        if (lit->kind == LIT_TUPLE && lit->n_items == 2) {
            v->pair[0] = lit->items[0];
            v->pair[1] = lit->items[1];
            v->i = lit->items[0];
            return LC_OK;
        }
        if (lit->kind != LIT_INT || lit->int_overflow)
            return fail_at(ps, LC_ERR_PARSE, lit->line, lit->col,
                           "%s: %s must be an integer or a pair (h, w) of integers, got %s", m->name,
                           p->name, lit->text);
        v->i = v->pair[0] = v->pair[1] = lit->i;
        return LC_OK;
    case LC_ARG_REAL:
        if (lit->kind != LIT_INT && lit->kind != LIT_REAL)
            return fail_at(ps, LC_ERR_PARSE, lit->line, lit->col, "%s: %s must be a number, got %s",
                           m->name, p->name, lit->text);
        v->r = lit->r;
        return LC_OK;
    case LC_ARG_BOOL:
        if (lit->kind != LIT_BOOL)
            return fail_at(ps, LC_ERR_PARSE, lit->line, lit->col,
                           "%s: %s must be True or False, got %s", m->name, p->name, lit->text);
        v->b = lit->b;
        return LC_OK;
    }
    return fail_at(ps, LC_ERR_INTERNAL, lit->line, lit->col, "%s: bad parameter type", m->name);
}

static void param_list(const lc_module_info *m, char *buf, size_t size) {
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < m->n_args && used < size; i++) {
        int n = snprintf(buf + used, size - used, "%s%s", i ? ", " : "", m->args[i].name);
        if (n < 0) break;
        used += (size_t)n;
    }
}

/* ---- calls ----------------------------------------------------------------------------------- */

/* Parse `Name(args)` at the current token (a TOK_NAME) and build the module. */
static lc_status parse_call(parser *ps, lc_module **out) {
    *out = NULL;
    token name = ps->tok;
    char buf[64];
    const char *bare = name.start;
    size_t bare_len = name.len;
    if (bare_len > 3 && !memcmp(bare, "nn.", 3)) {
        bare += 3;
        bare_len -= 3;
    }
    const lc_module_info *m = NULL;
    for (int i = 0; i < lc_module_info_count(); i++) {
        const lc_module_info *row = lc_module_info_at(i);
        if (strlen(row->name) == bare_len && !memcmp(row->name, bare, bare_len)) m = row;
    }
    if (!m) {
        char known[256] = "";
        size_t used = 0;
        for (int i = 0; i < lc_module_info_count() && used < sizeof known; i++) {
            int n = snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "",
                             lc_module_info_at(i)->name);
            if (n < 0) break;
            used += (size_t)n;
        }
        return fail_at(ps, LC_ERR_PARSE, name.line, name.col, "unknown module %s (known: %s)",
                       tok_text(&name, buf, sizeof buf), known);
    }
    LC_TRY(next(ps));
    if (ps->tok.kind != TOK_LPAREN)
        return fail_at(ps, LC_ERR_PARSE, ps->tok.line, ps->tok.col, "%s: expected '(', got %s",
                       m->name, tok_text(&ps->tok, buf, sizeof buf));
    token open = ps->tok;
    LC_TRY(next(ps));

    lc_arg_value values[SPEC_MAX_PARAMS] = {{0}};
    char strings[SPEC_MAX_PARAMS][SPEC_MAX_STRING + 1];
    LC_ASSERT(m->n_args <= SPEC_MAX_PARAMS);
    int n_positional = 0;
    bool seen_keyword = false;
    while (ps->tok.kind != TOK_RPAREN) {
        if (ps->tok.kind == TOK_EOF)
            return fail_at(ps, LC_ERR_PARSE, open.line, open.col, "%s: '(' is never closed",
                           m->name);
        token first = ps->tok;
        literal lit;
        const lc_arg_info *p = NULL;
        int index = -1;
        if (first.kind == TOK_NAME && !tok_is(&first, "True") && !tok_is(&first, "False") &&
            !tok_is(&first, "None") && !tok_is(&first, "inf") && !tok_is(&first, "nan")) {
            LC_TRY(next(ps));
            if (ps->tok.kind != TOK_EQUALS)
                return fail_at(ps, LC_ERR_PARSE, first.line, first.col,
                               "%s: expected a value or keyword=value, got %s", m->name,
                               tok_text(&first, buf, sizeof buf));
            LC_TRY(next(ps));
            for (int i = 0; i < m->n_args; i++)
                if (tok_is(&first, m->args[i].name)) index = i;
            const char *pname = index >= 0 ? m->args[index].name : "keyword";
            LC_TRY(parse_literal(ps, m->name, pname, &lit));
            if (index < 0) {
                char names[160];
                param_list(m, names, sizeof names);
                return fail_at(ps, LC_ERR_PARSE, first.line, first.col,
                               "%s: unknown keyword argument %s = %s (parameters: %s)", m->name,
                               tok_text(&first, buf, sizeof buf), lit.text, names);
            }
            p = &m->args[index];
            if (values[index].set)
                return fail_at(ps, LC_ERR_PARSE, first.line, first.col,
                               index < n_positional
                                   ? "%s: %s given both by position and by keyword (%s = %s)"
                                   : "%s: duplicate keyword argument %s (%s = %s)",
                               m->name, p->name, p->name, lit.text);
            seen_keyword = true;
        } else {
            index = n_positional;
            const char *pname = index < m->n_args ? m->args[index].name : "argument";
            LC_TRY(parse_literal(ps, m->name, pname, &lit));
            if (seen_keyword)
                return fail_at(ps, LC_ERR_PARSE, lit.line, lit.col,
                               "%s: positional argument %s follows a keyword argument", m->name,
                               lit.text);
            if (index >= m->n_args)
                return fail_at(ps, LC_ERR_PARSE, lit.line, lit.col,
                               "%s: takes at most %d positional arguments, got another: %s",
                               m->name, m->n_args, lit.text);
            p = &m->args[index];
            n_positional++;
        }
        LC_TRY(assign(ps, m, p, &lit, &values[index], strings[index]));
        if (ps->tok.kind == TOK_COMMA) {
            LC_TRY(next(ps));
        } else if (ps->tok.kind != TOK_RPAREN) {
            if (ps->tok.kind == TOK_EOF)
                return fail_at(ps, LC_ERR_PARSE, open.line, open.col, "%s: '(' is never closed",
                               m->name);
            return fail_at(ps, LC_ERR_PARSE, ps->tok.line, ps->tok.col,
                           "%s: expected ',' or ')' after %s = %s, got %s", m->name, p->name,
                           lit.text, tok_text(&ps->tok, buf, sizeof buf));
        }
    }
    token close = ps->tok;
    LC_TRY(next(ps));
    for (int i = 0; i < m->n_args; i++)
        if (m->args[i].required && !values[i].set)
            return fail_at(ps, LC_ERR_PARSE, close.line, close.col,
                           "%s: missing required argument %s", m->name, m->args[i].name);

    lc_status st = lc_module_new(m->name, values, m->n_args, out);
    if (st != LC_OK) {
        *out = NULL;
        if (ps->inline_call) return lc_fail_prefix(st, "%s", ps->label);
        return lc_fail_prefix(st, "%s:%d:%d", ps->label, name.line, name.col);
    }
    return LC_OK;
}

/* After a call: only end of line or end of input may follow. */
static lc_status expect_line_end(parser *ps) {
    if (ps->tok.kind == TOK_NEWLINE || ps->tok.kind == TOK_EOF) return LC_OK;
    char buf[64];
    return fail_at(ps, LC_ERR_PARSE, ps->tok.line, ps->tok.col,
                   "expected end of line after a module call (one call per line), got %s",
                   tok_text(&ps->tok, buf, sizeof buf));
}

static lc_status parse_text(const char *text, const char *label, bool inline_call,
                            lc_module **out) {
    *out = NULL;
    if (!text) return lc_fail(LC_ERR_INVALID_ARG, "model spec: text is NULL");
    parser ps = {.text = text, .p = text, .line = 1, .col = 1, .label = label ? label : "model"};
    ps.inline_call = inline_call;
    lc_module *first = NULL, *seq = NULL;
    int count = 0;
    lc_status st = next(&ps);
    while (st == LC_OK && ps.tok.kind != TOK_EOF) {
        if (ps.tok.kind == TOK_NEWLINE) {
            st = next(&ps);
            continue;
        }
        char buf[64];
        if (ps.tok.kind != TOK_NAME) {
            st = fail_at(&ps, LC_ERR_PARSE, ps.tok.line, ps.tok.col,
                         "expected a module call such as LPPool1d(2, 4), got %s",
                         tok_text(&ps.tok, buf, sizeof buf));
            break;
        }
        if (inline_call && count == 1) {
            st = fail_at(&ps, LC_ERR_PARSE, ps.tok.line, ps.tok.col,
                         "--module takes one module call, got another: %s",
                         tok_text(&ps.tok, buf, sizeof buf));
            break;
        }
        lc_module *m = NULL;
        st = parse_call(&ps, &m);
        if (st != LC_OK) break;
        count++;
        if (count == 1) {
            first = m;
        } else {
            if (!seq) {
                st = lc_sequential_new(&seq);
                if (st != LC_OK) { lc_module_free(m); break; }
                st = lc_sequential_append(seq, first);
                first = NULL;
                if (st != LC_OK) { lc_module_free(m); break; }
            }
            st = lc_sequential_append(seq, m); /* takes m even on failure */
            if (st != LC_OK) break;
        }
        st = expect_line_end(&ps);
    }
    if (st == LC_OK && count == 0)
        st = inline_call ? lc_fail(LC_ERR_PARSE, "%s: empty module spec", ps.label)
                         : lc_fail(LC_ERR_PARSE, "%s: no module calls (the model is empty)",
                                   ps.label);
    if (st != LC_OK) {
        lc_module_free(first);
        lc_module_free(seq);
        return st;
    }
    *out = seq ? seq : first;
    return LC_OK;
}

lc_status lc_model_parse(const char *text, const char *source_label, lc_module **out) {
    return parse_text(text, source_label, false, out);
}

lc_status lc_model_parse_call(const char *text, const char *source_label, lc_module **out) {
    return parse_text(text, source_label, true, out);
}
