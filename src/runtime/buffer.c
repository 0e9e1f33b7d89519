/* Aligned buffers: 64 bytes, a cache line and the widest vector, so kernels' vector loads
 * never split lines at the start of a buffer. */
#include <stdlib.h>

#include "runtime/buffer.h"

void *lc_buffer_alloc(size_t bytes) {
    if (bytes == 0) return NULL;
    void *p = NULL;
    if (posix_memalign(&p, 64, (bytes + 63) / 64 * 64) != 0) return NULL;
    return p;
}

void lc_buffer_free(void *p) { free(p); }
