/* Lucid tensors: a dtype, a shape and one owned, 64-byte aligned block of row-major data.
 * A tensor may also carry autograd state (requires_grad, grad); see autograd.h.
 *
 * Thread-safety: a tensor has no lock. Concurrent reads of one tensor are safe; a tensor being
 * written (lc_tensor_set, lc_tensor_zero_grad, lc_backward filling .grad) must not be read or
 * written by another thread meanwhile. Distinct tensors are independent. */
#ifndef LUCID_TENSOR_H
#define LUCID_TENSOR_H

#include "lucid/export.h"
#include "lucid/ir.h"

#ifdef __cplusplus
extern "C" {
#endif

struct lc_grad_fn; /* autograd bookkeeping: opaque, managed by the library (autograd.h) */

typedef struct lc_tensor {
    lc_dtype dtype;
    lc_shape shape;
    void *data;              /* owned; lc_shape_numel(&shape) elements of dtype */
    bool requires_grad;      /* leaf whose .grad backward() fills */
    struct lc_tensor *grad;  /* owned; NULL until a backward reaches this tensor */
    struct lc_grad_fn *grad_fn; /* owned; how this tensor was computed, for backward */
} lc_tensor;

/* A zero-filled tensor. Free with lc_tensor_free (NULL is fine); that frees grad too. */
LC_API lc_status lc_tensor_new(lc_dtype dtype, lc_shape shape, lc_tensor **out);
/* A tensor holding `values` (numel of shape entries), rounded to dtype. */
LC_API lc_status lc_tensor_from_doubles(lc_dtype dtype, lc_shape shape, const double *values,
                                        lc_tensor **out);
/* Deep copy of data (not of autograd state). */
LC_API lc_status lc_tensor_clone(const lc_tensor *t, lc_tensor **out);
LC_API void lc_tensor_free(lc_tensor *t);

LC_API int64_t lc_tensor_numel(const lc_tensor *t);
LC_API size_t lc_tensor_nbytes(const lc_tensor *t);
/* Element `i` of the flat row-major data, widened to double; and its store. */
LC_API double lc_tensor_get(const lc_tensor *t, int64_t i);
LC_API void lc_tensor_set(lc_tensor *t, int64_t i, double v);

/* "Tensor([[[1.5, 3.5]]], grad=None)" as Lucid prints a tensor: elements as Python prints
 * floats, the shortest form that reads back to the same value of the tensor's dtype.
 * Malloc'd string, caller frees. A tensor the caller built (a binding's view of its own memory)
 * is checked first: a dtype other than f32/f64 (LC_ERR_INVALID_ARG), a rank outside 0..6 or a
 * negative extent (LC_ERR_SHAPE), or NULL data for a nonempty shape is refused unread. */
LC_API lc_status lc_tensor_repr(const lc_tensor *t, char **out);
/* Only the nested list, "[[[1.5, 3.5]]]". */
LC_API lc_status lc_tensor_format_values(const lc_tensor *t, char **out);

#ifdef __cplusplus
}
#endif
#endif
