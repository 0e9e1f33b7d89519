/* NumPy .npy files, by the rules of docs/npy.md: read versions 1.0, 2.0 and 3.0 with descr
 * <f4 or <f8 (=f4/=f8 on little-endian hosts), C order; write version 1.0 with the header
 * padded to a multiple of 64 bytes. Everything else is rejected with a message saying why.
 *
 * Thread-safety: no shared state; concurrent calls are safe. Two writers of one path each
 * write a temporary file of their own, so the path ends up holding one of the two, whole. */
#ifndef LUCID_NPY_H
#define LUCID_NPY_H

#include "lucid/export.h"
#include "lucid/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Read a file into a new tensor (caller frees). */
LC_API lc_status lc_npy_read(const char *path, lc_tensor **out);
/* Parse .npy bytes already in memory. */
LC_API lc_status lc_npy_read_buffer(const void *bytes, size_t size, lc_tensor **out);
/* Write `t`; the file appears whole or not at all (temporary name, then rename). */
LC_API lc_status lc_npy_write(const char *path, const lc_tensor *t);
/* Serialize into a malloc'd buffer (caller frees *bytes). */
LC_API lc_status lc_npy_write_buffer(const lc_tensor *t, void **bytes, size_t *size);

#ifdef __cplusplus
}
#endif
#endif
