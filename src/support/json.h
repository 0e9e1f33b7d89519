/* A small JSON reader (RFC 8259 values) for the files Lucid reads: conformance case.json and
 * benchmark configs. The whole document is parsed into one tree freed by lc_json_free. */
#ifndef LUCID_SUPPORT_JSON_H
#define LUCID_SUPPORT_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "lucid/status.h"

typedef enum lc_json_type { LC_JSON_NULL, LC_JSON_BOOL, LC_JSON_NUMBER, LC_JSON_STRING,
                            LC_JSON_ARRAY, LC_JSON_OBJECT } lc_json_type;

typedef struct lc_json {
    lc_json_type type;
    bool boolean;
    double number;
    char *string;            /* STRING: decoded, NUL-terminated; also each object member's key */
    struct lc_json *items;   /* ARRAY elements / OBJECT members, `count` of them */
    size_t count;
    char *key;               /* set on object members */
} lc_json;

/* Parse `text` (NUL-terminated). On failure LC_ERR_PARSE with "line:col: reason". */
lc_status lc_json_parse(const char *text, lc_json **out);
void lc_json_free(lc_json *v);

/* Member `key` of an object, or NULL (also when v is not an object). */
const lc_json *lc_json_get(const lc_json *v, const char *key);
/* Convenience: a number member as an exact integer; false when absent, null or not integral. */
bool lc_json_get_int(const lc_json *v, const char *key, long long *out);

#endif
