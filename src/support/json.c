/* Recursive-descent JSON parser with a depth limit, so hostile input cannot blow the stack. */
#include "support/json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "support/error.h"

enum { MAX_DEPTH = 64 };

typedef struct parser {
    const char *text, *p;
} parser;

static lc_status fail_at(parser *ps, const char *why) {
    int line = 1, col = 1;
    for (const char *q = ps->text; q < ps->p; q++) {
        if (*q == '\n') line++, col = 1;
        else col++;
    }
    return lc_fail(LC_ERR_PARSE, "%d:%d: %s", line, col, why);
}

static void skip_ws(parser *ps) {
    while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r') ps->p++;
}

static void free_inner(lc_json *v) {
    for (size_t i = 0; i < v->count; i++) {
        free_inner(&v->items[i]);
        free(v->items[i].key);
    }
    free(v->items);
    free(v->string);
}

void lc_json_free(lc_json *v) {
    if (!v) return;
    free_inner(v);
    free(v);
}

static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static lc_status parse_string(parser *ps, char **out) {
    ps->p++; /* opening quote */
    size_t cap = 16, len = 0;
    char *s = malloc(cap);
    if (!s) return lc_fail(LC_ERR_NOMEM, "json: out of memory");
    for (;;) {
        unsigned char c = (unsigned char)*ps->p;
        unsigned cp = c;
        if (c == '\0') { free(s); return fail_at(ps, "unterminated string"); }
        if (c < 0x20) { free(s); return fail_at(ps, "control character in string"); }
        if (c == '"') { ps->p++; break; }
        if (c == '\\') {
            char e = *++ps->p;
            switch (e) {
            case '"': cp = '"'; break;
            case '\\': cp = '\\'; break;
            case '/': cp = '/'; break;
            case 'b': cp = '\b'; break;
            case 'f': cp = '\f'; break;
            case 'n': cp = '\n'; break;
            case 'r': cp = '\r'; break;
            case 't': cp = '\t'; break;
            case 'u':
                cp = 0;
                for (int i = 1; i <= 4; i++) {
                    int h = hex(ps->p[i]);
                    if (h < 0) { free(s); return fail_at(ps, "bad \\u escape"); }
                    cp = cp * 16 + (unsigned)h;
                }
                ps->p += 4;
                break;
            default: free(s); return fail_at(ps, "bad escape in string");
            }
        }
        ps->p++;
        /* Encode cp as UTF-8 (surrogates are passed through as-is; case files are ASCII). */
        char enc[4];
        int n;
        if (cp < 0x80) enc[0] = (char)cp, n = 1;
        else if (cp < 0x800) enc[0] = (char)(0xC0 | cp >> 6), enc[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
        else enc[0] = (char)(0xE0 | cp >> 12), enc[1] = (char)(0x80 | ((cp >> 6) & 0x3F)),
             enc[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
        if (c >= 0x80) enc[0] = (char)c, n = 1; /* raw UTF-8 byte: copy */
        if (len + (size_t)n + 1 > cap) {
            cap *= 2;
            char *t = realloc(s, cap);
            if (!t) { free(s); return lc_fail(LC_ERR_NOMEM, "json: out of memory"); }
            s = t;
        }
        memcpy(s + len, enc, (size_t)n);
        len += (size_t)n;
    }
    s[len] = '\0';
    *out = s;
    return LC_OK;
}

static lc_status parse_value(parser *ps, lc_json *v, int depth);

static lc_status push(lc_json *v, size_t *cap, lc_json **slot) {
    if (v->count == *cap) {
        size_t nc = *cap ? *cap * 2 : 4;
        lc_json *t = realloc(v->items, nc * sizeof *t);
        if (!t) return lc_fail(LC_ERR_NOMEM, "json: out of memory");
        v->items = t;
        *cap = nc;
    }
    *slot = &v->items[v->count++];
    memset(*slot, 0, sizeof **slot);
    return LC_OK;
}

static lc_status parse_container(parser *ps, lc_json *v, int depth, bool object) {
    char close = object ? '}' : ']';
    v->type = object ? LC_JSON_OBJECT : LC_JSON_ARRAY;
    size_t cap = 0;
    ps->p++;
    skip_ws(ps);
    if (*ps->p == close) { ps->p++; return LC_OK; }
    for (;;) {
        lc_json *item = NULL;
        LC_TRY(push(v, &cap, &item));
        skip_ws(ps);
        if (object) {
            if (*ps->p != '"') return fail_at(ps, "expected a string key");
            LC_TRY(parse_string(ps, &item->key));
            skip_ws(ps);
            if (*ps->p != ':') return fail_at(ps, "expected ':' after key");
            ps->p++;
        }
        LC_TRY(parse_value(ps, item, depth + 1));
        skip_ws(ps);
        if (*ps->p == ',') { ps->p++; continue; }
        if (*ps->p == close) { ps->p++; return LC_OK; }
        return fail_at(ps, object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static lc_status parse_value(parser *ps, lc_json *v, int depth) {
    if (depth > MAX_DEPTH) return fail_at(ps, "nesting too deep");
    skip_ws(ps);
    const char *p = ps->p;
    if (*p == '{' || *p == '[') return parse_container(ps, v, depth, *p == '{');
    if (*p == '"') { v->type = LC_JSON_STRING; return parse_string(ps, &v->string); }
    if (strncmp(p, "true", 4) == 0) { v->type = LC_JSON_BOOL; v->boolean = true; ps->p += 4; return LC_OK; }
    if (strncmp(p, "false", 5) == 0) { v->type = LC_JSON_BOOL; ps->p += 5; return LC_OK; }
    if (strncmp(p, "null", 4) == 0) { v->type = LC_JSON_NULL; ps->p += 4; return LC_OK; }
    if (*p == '-' || (*p >= '0' && *p <= '9')) {
        char *end;
        v->type = LC_JSON_NUMBER;
        v->number = strtod(p, &end);
        if (end == p) return fail_at(ps, "bad number");
        ps->p = end;
        return LC_OK;
    }
    return fail_at(ps, *p ? "unexpected character" : "unexpected end of input");
}

lc_status lc_json_parse(const char *text, lc_json **out) {
    *out = NULL;
    lc_json *root = calloc(1, sizeof *root);
    if (!root) return lc_fail(LC_ERR_NOMEM, "json: out of memory");
    parser ps = {text, text};
    lc_status st = parse_value(&ps, root, 0);
    if (st == LC_OK) {
        skip_ws(&ps);
        if (*ps.p) st = fail_at(&ps, "trailing characters after the value");
    }
    if (st != LC_OK) {
        lc_json_free(root);
        return st;
    }
    *out = root;
    return LC_OK;
}

const lc_json *lc_json_get(const lc_json *v, const char *key) {
    if (!v || v->type != LC_JSON_OBJECT) return NULL;
    for (size_t i = 0; i < v->count; i++)
        if (strcmp(v->items[i].key, key) == 0) return &v->items[i];
    return NULL;
}

bool lc_json_get_int(const lc_json *v, const char *key, long long *out) {
    const lc_json *m = lc_json_get(v, key);
    if (!m || m->type != LC_JSON_NUMBER || m->number != floor(m->number) || fabs(m->number) > 9e15)
        return false;
    *out = (long long)m->number;
    return true;
}
