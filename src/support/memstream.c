#include "support/memstream.h"

#include <stdlib.h>

#include "support/error.h"

lc_status lc_memstream_open(lc_memstream *m) {
    m->buf = NULL;
    m->len = 0;
    m->file = open_memstream(&m->buf, &m->len);
    return m->file ? LC_OK : lc_fail(LC_ERR_NOMEM, "dump: cannot open a memory stream");
}

lc_status lc_memstream_finish(lc_memstream *m, lc_status printed, char **out) {
    *out = NULL;
    lc_status st = printed;
    /* the buffer is only complete (and only final) once the stream is closed */
    if (fclose(m->file) != 0 && st == LC_OK) st = lc_fail(LC_ERR_NOMEM, "dump: out of memory");
    m->file = NULL;
    if (st != LC_OK) {
        free(m->buf);
        m->buf = NULL;
        return st;
    }
    *out = m->buf;
    m->buf = NULL;
    return LC_OK;
}
