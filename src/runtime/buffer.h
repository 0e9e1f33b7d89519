/* 64-byte aligned memory for scratch buffers (buffer.c). */
#ifndef LUCID_RUNTIME_BUFFER_H
#define LUCID_RUNTIME_BUFFER_H

#include <stddef.h>

/* NULL on failure or when bytes is 0. Free with lc_buffer_free. */
void *lc_buffer_alloc(size_t bytes);
void lc_buffer_free(void *p);

#endif
