/* The thread-local error message behind lc_last_error(). */
#include "support/error.h"

#include <stdarg.h>
#include <string.h>

enum { MESSAGE_CAPACITY = 1024 };
static _Thread_local char last_message[MESSAGE_CAPACITY];

const char *lc_status_str(lc_status s) {
    switch (s) {
    case LC_OK: return "ok";
    case LC_ERR_INVALID_ARG: return "invalid argument";
    case LC_ERR_SHAPE: return "shape mismatch";
    case LC_ERR_PARSE: return "parse error";
    case LC_ERR_IO: return "i/o error";
    case LC_ERR_UNSUPPORTED: return "unsupported";
    case LC_ERR_NOMEM: return "out of memory";
    case LC_ERR_JIT: return "jit error";
    case LC_ERR_INTERNAL: return "internal error";
    }
    return "unknown status";
}

const char *lc_last_error(void) { return last_message; }

void lc_clear_error(void) { last_message[0] = '\0'; }

lc_status lc_fail(lc_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_message, sizeof last_message, fmt, ap);
    va_end(ap);
    return status;
}

lc_status lc_fail_prefix(lc_status status, const char *fmt, ...) {
    char old[MESSAGE_CAPACITY];
    memcpy(old, last_message, sizeof old);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(last_message, sizeof last_message, fmt, ap);
    va_end(ap);
    /* A message that already starts with this context keeps it once ("npy: npy: ..." would
     * say nothing more). */
    size_t len = strlen(last_message);
    if (len && !strncmp(old, last_message, len) && old[len] == ':' && old[len + 1] == ' ') {
        memcpy(last_message, old, sizeof old);
        return status;
    }
    /* Append ": <old>" by hand, truncating at the buffer's end (snprintf here trips gcc's
     * -Wformat-truncation, which is exactly the truncation we want). */
    size_t used = n < 0 ? 0 : (size_t)n < sizeof last_message ? (size_t)n : sizeof last_message - 1;
    const char sep[] = ": ";
    for (size_t i = 0; sep[i] && used + 1 < sizeof last_message; i++) last_message[used++] = sep[i];
    for (size_t i = 0; old[i] && used + 1 < sizeof last_message; i++) last_message[used++] = old[i];
    last_message[used] = '\0';
    return status;
}
