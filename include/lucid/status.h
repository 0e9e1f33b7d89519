/* Lucid status codes and the error message channel.
 *
 * Every public function that can fail returns an lc_status. On failure it also leaves a
 * message in a thread-local buffer naming what failed, the parameter and its value, e.g.
 * "LPPool1d: norm_type must be finite and > 0, got -1". The message stays until the next
 * failure on the same thread. The library never aborts or exits on user input; only a broken
 * internal invariant (a bug in Lucid) stops the process, after printing where on stderr.
 *
 * Thread-safety: safe; each thread has its own message. */
#ifndef LUCID_STATUS_H
#define LUCID_STATUS_H

#include "lucid/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum lc_status {
    LC_OK = 0,
    LC_ERR_INVALID_ARG,  /* a parameter value is out of its domain */
    LC_ERR_SHAPE,        /* ranks or extents do not fit together */
    LC_ERR_PARSE,        /* malformed text (IR, model spec, .npy header) */
    LC_ERR_IO,           /* a file could not be read or written */
    LC_ERR_UNSUPPORTED,  /* valid input that Lucid does not handle (e.g. big-endian .npy) */
    LC_ERR_NOMEM,        /* an allocation failed or its size overflows */
    LC_ERR_JIT,          /* LLVM could not compile or link a kernel */
    LC_ERR_INTERNAL,     /* a bug in Lucid: please report it */
} lc_status;

/* Short fixed name of a status ("ok", "invalid argument", ...). Never NULL. */
LC_API const char *lc_status_str(lc_status s);

/* Message of the last failure on this thread ("" if none). Owned by the library. */
LC_API const char *lc_last_error(void);

/* Forget the last message on this thread. */
LC_API void lc_clear_error(void);

#ifdef __cplusplus
}
#endif
#endif
