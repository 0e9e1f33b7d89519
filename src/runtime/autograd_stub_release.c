/* Placeholder owner of lc_grad_fn until autograd lands: no tensor carries one yet, so there
 * is nothing to release. Replaced by src/runtime/autograd.c. */
#include <stddef.h>

#include "runtime/autograd_internal.h"
#include "support/error.h"

void lc_grad_fn_release(struct lc_grad_fn *fn) { LC_ASSERT(fn == NULL); }
