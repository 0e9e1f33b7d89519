/* Output length and window placement shared by AvgPool1d and LPPool1d (docs/semantics.md). */
#include <inttypes.h>

#include "nn/module_internal.h"
#include "support/error.h"

lc_status lc_pool1d_check_input(const char *who, const lc_shape *s) {
    if (s->rank != 2 && s->rank != 3)
        return lc_fail(LC_ERR_SHAPE, "%s: input must have rank 2 (C, L) or 3 (N, C, L), got rank %d",
                       who, s->rank);
    return LC_OK;
}

lc_status lc_pool1d_geometry_compute(const char *who, int64_t length, int64_t kernel_size,
                                     int64_t stride, int64_t padding, bool ceil_mode,
                                     lc_pool1d_geometry *out) {
    /* 128-bit arithmetic: parameters are validated but may be near INT64_MAX. */
    __int128 span = (__int128)length + 2 * (__int128)padding - kernel_size;
    /* floor or ceil of span / stride, rounding negative spans the mathematical way: in ceil
     * mode a kernel longer than the padded input still gives one (partial) window, as in
     * PyTorch; in floor mode it gives none. */
    __int128 windows = span >= 0 ? (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1
                                 : (ceil_mode ? -(-span / stride) : -((-span + stride - 1) / stride)) + 1;
    /* The last window must start inside the input or the left padding. */
    if (ceil_mode && windows > 0 && (windows - 1) * stride >= (__int128)length + padding) windows--;
    /* An empty input has no window holding a real element (only ceil mode could produce one,
     * made of padding alone); PyTorch refuses it too. */
    if (windows < 1 || length == 0)
        return lc_fail(LC_ERR_SHAPE, "%s: input length %" PRId64 " with padding %" PRId64
                       " is shorter than kernel_size %" PRId64 " (output length would be < 1)",
                       who, length, padding, kernel_size);
    __int128 reach = (windows - 1) * stride + kernel_size - length - padding;
    if (windows > INT64_MAX || reach > INT64_MAX)
        return lc_fail(LC_ERR_SHAPE, "%s: output length overflows", who);
    out->length = length;
    out->kernel_size = kernel_size;
    out->stride = stride;
    out->padding = padding;
    out->ceil_mode = ceil_mode;
    out->out_length = (int64_t)windows;
    /* unfold's window count is floor((L + lo + hi - k) / s) + 1; in ceil mode hi grows past
     * the padding just enough to admit the last (overhanging) window. */
    out->pad_hi = reach > padding ? (int64_t)reach : padding;
    return LC_OK;
}
