/* What a FILE printer writes, caught as a string: the dumps hand stage texts to hooks, and
 * the printers (lc_fused_print, lc_graph_print_dot, ...) write to a FILE.
 *
 *     lc_memstream m;
 *     LC_TRY(lc_memstream_open(&m));
 *     return lc_memstream_finish(&m, lc_fused_print(f, m.file), &text);
 */
#ifndef LUCID_SUPPORT_MEMSTREAM_H
#define LUCID_SUPPORT_MEMSTREAM_H

#include <stddef.h>
#include <stdio.h>

#include "lucid/status.h"

typedef struct lc_memstream {
    FILE *file; /* print here between open and finish */
    char *buf;
    size_t len;
} lc_memstream;

/* LC_ERR_NOMEM when no stream can be opened (nothing to finish then). */
lc_status lc_memstream_open(lc_memstream *m);

/* Close the stream. When the printer's status `printed` is LC_OK and the text is complete,
 * *out gets it (NUL-terminated, caller frees); otherwise the text is dropped, *out is NULL
 * and the printer's error (or LC_ERR_NOMEM) is returned. */
lc_status lc_memstream_finish(lc_memstream *m, lc_status printed, char **out);

#endif
