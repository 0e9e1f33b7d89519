/* Tensor storage: one aligned block per tensor, freed with the tensor. */
#include <stdlib.h>
#include <string.h>

#include "lucid/tensor.h"
#include "runtime/autograd_internal.h"
#include "support/error.h"

enum { TENSOR_ALIGN = 64 };

lc_status lc_tensor_new(lc_dtype dtype, lc_shape shape, lc_tensor **out) {
    if (!out) return lc_fail(LC_ERR_INVALID_ARG, "tensor: out must not be NULL");
    *out = NULL;
    if (dtype != LC_F32 && dtype != LC_F64)
        return lc_fail(LC_ERR_INVALID_ARG, "tensor: dtype must be f32 or f64, got %d", (int)dtype);
    if (shape.rank < 0 || shape.rank > LC_MAX_RANK)
        return lc_fail(LC_ERR_SHAPE, "tensor: rank must be between 0 and %d, got %d", LC_MAX_RANK,
                       shape.rank);
    bool empty = false; /* a zero extent makes any shape valid and zero-size, as in PyTorch */
    for (int i = 0; i < shape.rank; i++) {
        if (shape.dim[i] < 0)
            return lc_fail(LC_ERR_SHAPE, "tensor: dimension %d must be >= 0, got %lld", i,
                           (long long)shape.dim[i]);
        empty = empty || shape.dim[i] == 0;
    }
    size_t bytes = empty ? 0 : lc_dtype_size(dtype);
    for (int i = 0; i < shape.rank && !empty; i++) {
        if (bytes > SIZE_MAX / 2 / (uint64_t)shape.dim[i])
            return lc_fail(LC_ERR_NOMEM, "tensor: size of shape overflows");
        bytes *= (size_t)shape.dim[i];
    }
    lc_tensor *t = calloc(1, sizeof *t);
    if (!t) return lc_fail(LC_ERR_NOMEM, "tensor: out of memory");
    size_t rounded = (bytes + TENSOR_ALIGN - 1) / TENSOR_ALIGN * TENSOR_ALIGN;
    if (rounded == 0) rounded = TENSOR_ALIGN;
    t->data = aligned_alloc(TENSOR_ALIGN, rounded);
    if (!t->data) {
        free(t);
        return lc_fail(LC_ERR_NOMEM, "tensor: cannot allocate %zu bytes", bytes);
    }
    memset(t->data, 0, rounded);
    t->dtype = dtype;
    t->shape = shape;
    for (int i = shape.rank; i < LC_MAX_RANK; i++) t->shape.dim[i] = 0;
    *out = t;
    return LC_OK;
}

lc_status lc_tensor_from_doubles(lc_dtype dtype, lc_shape shape, const double *values,
                                 lc_tensor **out) {
    LC_TRY(lc_tensor_new(dtype, shape, out)); /* validates the shape first */
    int64_t n = lc_tensor_numel(*out);
    if (!values && n > 0) {
        lc_tensor_free(*out);
        *out = NULL;
        return lc_fail(LC_ERR_INVALID_ARG, "tensor: values must not be NULL");
    }
    for (int64_t i = 0; i < n; i++) lc_tensor_set(*out, i, values[i]);
    return LC_OK;
}

lc_status lc_tensor_clone(const lc_tensor *t, lc_tensor **out) {
    if (!t) return lc_fail(LC_ERR_INVALID_ARG, "tensor clone: tensor must not be NULL");
    LC_TRY(lc_tensor_new(t->dtype, t->shape, out));
    memcpy((*out)->data, t->data, lc_tensor_nbytes(t));
    return LC_OK;
}

void lc_tensor_free(lc_tensor *t) {
    if (!t) return;
    lc_tensor_free(t->grad);
    lc_grad_fn_release(t->grad_fn);
    free(t->data);
    free(t);
}

int64_t lc_tensor_numel(const lc_tensor *t) { return lc_shape_numel(&t->shape); }

size_t lc_tensor_nbytes(const lc_tensor *t) {
    return (size_t)lc_tensor_numel(t) * lc_dtype_size(t->dtype);
}

double lc_tensor_get(const lc_tensor *t, int64_t i) {
    return t->dtype == LC_F64 ? ((const double *)t->data)[i] : ((const float *)t->data)[i];
}

void lc_tensor_set(lc_tensor *t, int64_t i, double v) {
    if (t->dtype == LC_F64)
        ((double *)t->data)[i] = v;
    else
        ((float *)t->data)[i] = (float)v;
}
