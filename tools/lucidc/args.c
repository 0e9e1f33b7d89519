/* Option parsing shared by the subcommands: "--opt V" and "--opt=V", and value parsers that
 * name the option and the offending text in their messages. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Options that may be given more than once: each --module adds a module. */
static bool repeatable(const char *name) { return !strcmp(name, "--module"); }

/* A second value for a single-valued option is an error: silently keeping the last one would
 * run something other than what the user read on their command line. */
static void note_seen(cli_args *a, const char *name, const char *value, int *status) {
    if (repeatable(name)) return;
    for (int k = 0; k < a->n_seen; k++)
        if (!strcmp(a->seen[k], name)) {
            *status = cli_error(name, "given more than once ('%s' and '%s'); it takes one value",
                                a->seen_value[k], value);
            return;
        }
    if (a->n_seen < CLI_MAX_SEEN) {
        a->seen[a->n_seen] = name;
        a->seen_value[a->n_seen++] = value;
    }
}

bool cli_opt_value(cli_args *a, const char *name, const char **value, int *status) {
    const char *arg = a->argv[a->i];
    size_t n = strlen(name);
    if (strncmp(arg, name, n) != 0) return false;
    if (arg[n] == '=') {
        *value = arg + n + 1;
        a->i++;
        note_seen(a, name, *value, status);
        return true;
    }
    if (arg[n] != '\0') return false;
    if (a->i + 1 >= a->argc) {
        *status = cli_error(name, "missing value");
        a->i++;
        *value = NULL;
        return true;
    }
    *value = a->argv[a->i + 1];
    a->i += 2;
    note_seen(a, name, *value, status);
    return true;
}

bool cli_opt_flag(cli_args *a, const char *name) {
    if (strcmp(a->argv[a->i], name) != 0) return false;
    a->i++;
    return true;
}

/* A decimal integer with nothing around it; false on anything else. */
static bool parse_int64(const char *text, int64_t *out) {
    if (!text || !*text || *text == ' ' || *text == '+') return false;
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || *end) return false;
    *out = v;
    return true;
}

int cli_parse_positive_int(const char *opt, const char *text, int64_t max, int64_t *out) {
    int64_t v;
    if (!parse_int64(text, &v) || v < 1 || v > max)
        return cli_error(opt, "expected an integer between 1 and %" PRId64 ", got '%s'", max, text);
    *out = v;
    return CLI_OK;
}

int cli_parse_seed(const char *opt, const char *text, uint64_t *out) {
    /* digits only: strtoull would take "-1" as 2^64 - 1 */
    bool digits = text && *text;
    for (const char *q = text; digits && *q; q++) digits = *q >= '0' && *q <= '9';
    char *end;
    errno = 0;
    unsigned long long v = digits ? strtoull(text, &end, 10) : 0;
    if (!digits || errno || *end)
        return cli_error(opt, "expected an integer between 0 and 18446744073709551615, got '%s'", text ? text : "");
    *out = (uint64_t)v;
    return CLI_OK;
}

/* A shape of any rank from 1 to LC_MAX_RANK: the first module checks the rank it takes. */
int cli_parse_shape(const char *opt, const char *text, lc_shape *out) {
    lc_shape s = {0};
    const char *p = text;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char part[32];
        int64_t v;
        if (s.rank == LC_MAX_RANK || len == 0 || len >= sizeof part)
            return cli_error(opt, "expected 1 to %d positive integers D0,D1,..., got '%s'", LC_MAX_RANK, text);
        memcpy(part, p, len);
        part[len] = '\0';
        if (!parse_int64(part, &v) || v < 1)
            return cli_error(opt, "expected 1 to %d positive integers D0,D1,..., got '%s'", LC_MAX_RANK, text);
        s.dim[s.rank++] = v;
        if (!comma) break;
        p = comma + 1;
    }
    *out = s;
    return CLI_OK;
}

int cli_parse_dtype(const char *opt, const char *text, lc_dtype *out) {
    if (!strcmp(text, "f32")) *out = LC_F32;
    else if (!strcmp(text, "f64")) *out = LC_F64;
    else return cli_error(opt, "expected f32 or f64, got '%s'", text);
    return CLI_OK;
}
