/* Lucid tensors: a dtype, a shape and one owned, 64-byte aligned block of row-major data.
 * A tensor may also carry autograd state (requires_grad, grad); see autograd.h. */
#ifndef LUCID_TENSOR_H
#define LUCID_TENSOR_H

#include "lucid/ir.h"

#ifdef __cplusplus
extern "C" {
#endif

struct lc_grad_fn; /* autograd bookkeeping, private to src/runtime/autograd.c */

typedef struct lc_tensor {
    lc_dtype dtype;
    lc_shape shape;
    void *data;              /* owned; lc_shape_numel(&shape) elements of dtype */
    bool requires_grad;      /* leaf whose .grad backward() fills */
    struct lc_tensor *grad;  /* owned; NULL until a backward reaches this tensor */
    struct lc_grad_fn *grad_fn; /* owned; how this tensor was computed, for backward */
} lc_tensor;

/* A zero-filled tensor. Free with lc_tensor_free (NULL is fine); that frees grad too. */
lc_status lc_tensor_new(lc_dtype dtype, lc_shape shape, lc_tensor **out);
/* A tensor holding `values` (numel of shape entries), rounded to dtype. */
lc_status lc_tensor_from_doubles(lc_dtype dtype, lc_shape shape, const double *values,
                                 lc_tensor **out);
/* Deep copy of data (not of autograd state). */
lc_status lc_tensor_clone(const lc_tensor *t, lc_tensor **out);
void lc_tensor_free(lc_tensor *t);

int64_t lc_tensor_numel(const lc_tensor *t);
size_t lc_tensor_nbytes(const lc_tensor *t);
/* Element `i` of the flat row-major data, widened to double; and its store. */
double lc_tensor_get(const lc_tensor *t, int64_t i);
void lc_tensor_set(lc_tensor *t, int64_t i, double v);

/* "Tensor([[[1.5, 3.5]]], grad=None)" as Lucid prints a tensor: elements as Python prints
 * floats, the shortest form that reads back to the same value of the tensor's dtype.
 * Malloc'd string, caller frees. */
lc_status lc_tensor_repr(const lc_tensor *t, char **out);
/* Only the nested list, "[[[1.5, 3.5]]]". */
lc_status lc_tensor_format_values(const lc_tensor *t, char **out);

/* Python repr of a float: "1.0", "0.5", "1e-05", "nan", "inf", "2.5". With `as_f32`, the
 * shortest digits that round-trip through float32. Writes at most 32 bytes; returns buf. */
char *lc_format_real(double v, bool as_f32, char buf[32]);

#ifdef __cplusplus
}
#endif
#endif
