/* Internal side of the two error channels:
 *  - lc_fail: a user-facing failure. Records a printf-style message in the thread-local
 *    buffer behind lc_last_error() and returns the status, so callers write
 *    `return lc_fail(LC_ERR_INVALID_ARG, "AvgPool1d: stride must be >= 1, got %lld", s);`
 *  - LC_ASSERT: a broken internal invariant (a Lucid bug). Prints file:line and aborts. */
#ifndef LUCID_SUPPORT_ERROR_H
#define LUCID_SUPPORT_ERROR_H

#include <stdio.h>
#include <stdlib.h>

#include "lucid/status.h"

#if defined(__GNUC__)
#define LC_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))
#else
#define LC_PRINTF(fmt_index, first_arg)
#endif

lc_status lc_fail(lc_status status, const char *fmt, ...) LC_PRINTF(2, 3);

/* Prefix the current message: "what: <old message>" (used to add context such as a file
 * name or a module position). Returns `status`. */
lc_status lc_fail_prefix(lc_status status, const char *fmt, ...) LC_PRINTF(2, 3);

#define LC_ASSERT(cond)                                                                     \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "lucid: internal error at %s:%d: %s\n", __FILE__, __LINE__,     \
                    #cond);                                                                 \
            abort();                                                                        \
        }                                                                                   \
    } while (0)

/* Propagate a failing status. */
#define LC_TRY(expr)                                                                        \
    do {                                                                                    \
        lc_status lc_try_status_ = (expr);                                                  \
        if (lc_try_status_ != LC_OK) return lc_try_status_;                                 \
    } while (0)

#endif
