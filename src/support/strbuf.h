/* A growable string for printers. Appends never fail loudly: the first allocation failure
 * marks the buffer, and lc_strbuf_finish reports it once. */
#ifndef LUCID_SUPPORT_STRBUF_H
#define LUCID_SUPPORT_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

#include "lucid/status.h"
#include "support/error.h"

typedef struct lc_strbuf {
    char *data;
    size_t len, cap;
    bool failed;
} lc_strbuf;

void lc_strbuf_puts(lc_strbuf *sb, const char *s);
void lc_strbuf_printf(lc_strbuf *sb, const char *fmt, ...) LC_PRINTF(2, 3);
/* Hand the NUL-terminated string to *out (caller frees), or fail with LC_ERR_NOMEM. */
lc_status lc_strbuf_finish(lc_strbuf *sb, char **out);
void lc_strbuf_free(lc_strbuf *sb);

#endif
