/* Output length, window placement and divisors of the average and LP pools, for the modules'
 * symmetric padding and ONNX's per-side padding and dilation alike (docs/semantics.md). */
#include <inttypes.h>

#include "nn/module_internal.h"
#include "support/error.h"

lc_status lc_pool1d_check_input(const char *who, const lc_shape *s) {
    if (s->rank != 2 && s->rank != 3)
        return lc_fail(LC_ERR_SHAPE, "%s: input must have rank 2 (C, L) or 3 (N, C, L), got rank %d",
                       who, s->rank);
    return LC_OK;
}

lc_status lc_pool_check_axis(const char *who, int64_t kernel, int64_t *stride, int64_t padding) {
    if (kernel < 1) return lc_fail(LC_ERR_INVALID_ARG, "%s: kernel_size must be >= 1, got %" PRId64, who, kernel);
    if (*stride == LC_STRIDE_UNSET) *stride = kernel;
    if (*stride < 1) return lc_fail(LC_ERR_INVALID_ARG, "%s: stride must be >= 1, got %" PRId64, who, *stride);
    if (padding < 0 || padding > kernel / 2)
        return lc_fail(LC_ERR_INVALID_ARG, "%s: padding must be between 0 and kernel_size / 2 = %" PRId64
                       ", got %" PRId64, who, kernel / 2, padding);
    return LC_OK;
}

/* unfold's window count for a padding `hi` after the axis (lc_window_count's rule) */
static __int128 unfold_count(const lc_pool1d_geometry *g, __int128 span, __int128 hi) {
    __int128 room = (__int128)g->length + g->padding + hi - span;
    return room < 0 ? 0 : room / g->stride + 1;
}

lc_status lc_pool_geometry_compute(const char *who, int64_t length, const lc_pool_axis *a,
                                   lc_pool1d_geometry *out) {
    if (a->kernel < 1 || a->stride < 1 || a->dilation < 1 || a->pad_lo < 0 || a->pad_hi < 0)
        return lc_fail(LC_ERR_INVALID_ARG, "%s: kernel %" PRId64 ", stride %" PRId64 " and dilation %" PRId64
                       " must be >= 1 and pads (%" PRId64 ", %" PRId64 ") >= 0", who, a->kernel, a->stride,
                       a->dilation, a->pad_lo, a->pad_hi);
    /* 128-bit arithmetic: parameters are validated but may be near INT64_MAX. */
    __int128 span = (__int128)a->dilation * (a->kernel - 1) + 1;
    __int128 room = (__int128)length + a->pad_lo + a->pad_hi - span;
    int64_t s = a->stride;
    /* floor or ceil of room / stride, rounding negative rooms the mathematical way: in ceil
     * mode a kernel longer than the padded input still gives one (partial) window, as in
     * PyTorch; in floor mode it gives none. */
    __int128 windows = room >= 0 ? (a->ceil_mode ? (room + s - 1) / s : room / s) + 1
                                 : (a->ceil_mode ? -(-room / s) : -((-room + s - 1) / s)) + 1;
    /* The last window must start inside the input or the padding before it. */
    if (a->ceil_mode && windows > 0 && (windows - 1) * s >= (__int128)length + a->pad_lo) windows--;
    /* An empty input has no window holding a real element (only ceil mode could produce one,
     * made of padding alone); PyTorch refuses it too. */
    if (windows < 1 || length == 0) {
        if (a->pad_lo == a->pad_hi && a->dilation == 1)
            return lc_fail(LC_ERR_SHAPE, "%s: input %s %" PRId64 " with padding %" PRId64
                           " is shorter than kernel_size %" PRId64 " (output %s would be < 1)",
                           who, a->axis_name, length, a->pad_lo, a->kernel, a->axis_name);
        return lc_fail(LC_ERR_SHAPE, "%s: input %s %" PRId64 " with padding (%" PRId64 ", %" PRId64
                       ") is shorter than the window span %" PRId64 " (output %s would be < 1)", who,
                       a->axis_name, length, a->pad_lo, a->pad_hi,
                       span > INT64_MAX ? INT64_MAX : (int64_t)span, a->axis_name);
    }
    __int128 reach = (windows - 1) * s + span - length - a->pad_lo;
    if (windows > INT64_MAX || reach > INT64_MAX || span > INT64_MAX)
        return lc_fail(LC_ERR_SHAPE, "%s: output %s overflows", who, a->axis_name);
    *out = (lc_pool1d_geometry){length, a->kernel, s, a->pad_lo, a->pad_hi, a->dilation, a->ceil_mode,
                                (int64_t)windows, a->pad_hi};
    /* unfold's window count is floor((L + lo + hi - span) / s) + 1: the given padding after
     * the axis yields the right count unless ceil mode added (an overhang) or dropped a
     * window; then hi is the last window's reach past the input (never negative there). */
    if (unfold_count(out, span, a->pad_hi) != windows) {
        out->pad_hi = reach > 0 ? (int64_t)reach : 0;
        if (unfold_count(out, span, out->pad_hi) != windows)
            return lc_fail(LC_ERR_INTERNAL, "%s: no unfold padding gives %" PRId64 " windows", who,
                           (int64_t)windows);
    }
    /* every index into the padded row is an int64 (the unfold's shape rule says so too, in
     * its own words; this names the module) */
    if ((__int128)length + a->pad_lo + out->pad_hi > INT64_MAX)
        return lc_fail(LC_ERR_SHAPE, "%s: input %s %" PRId64 " with padding (%" PRId64 ", %" PRId64
                       ") is longer than 2^63 - 1 positions padded, the engine's limit", who, a->axis_name,
                       length, a->pad_lo, out->pad_hi);
    return LC_OK;
}

lc_status lc_pool1d_geometry_compute(const char *who, int64_t length, int64_t kernel_size,
                                     int64_t stride, int64_t padding, bool ceil_mode,
                                     lc_pool1d_geometry *out) {
    lc_pool_axis a = {0, "length", kernel_size, stride, padding, padding, 1, ceil_mode};
    return lc_pool_geometry_compute(who, length, &a, out);
}

/* ceil(n / d) and floor(n / d) for d > 0 */
static __int128 div_ceil(__int128 n, __int128 d) { return n >= 0 ? (n + d - 1) / d : -(-n / d); }
static __int128 div_floor(__int128 n, __int128 d) { return n >= 0 ? n / d : -((-n + d - 1) / d); }

/* The positions a window's slots may count: [lo, hi) (the padding too with count_include_pad). */
static void counted_range(const lc_pool1d_geometry *geo, bool count_include_pad, __int128 *lo, __int128 *hi) {
    *lo = count_include_pad ? -(__int128)geo->padding : 0;
    *hi = count_include_pad ? (__int128)geo->length + geo->pad_end : geo->length;
}

int64_t lc_pool_divisor(const lc_pool1d_geometry *geo, bool count_include_pad, int64_t o) {
    __int128 start = (__int128)o * geo->stride - geo->padding, lo, hi;
    counted_range(geo, count_include_pad, &lo, &hi);
    /* slots j in [0, kernel) with lo <= start + j·dilation < hi (without a dilation, no
     * 128-bit division: a libgcc call each) */
    __int128 first = lo - start, last = hi - 1 - start;
    if (geo->dilation != 1) {
        first = div_ceil(first, geo->dilation);
        last = div_floor(last, geo->dilation);
    }
    if (first < 0) first = 0;
    if (last > geo->kernel_size - 1) last = geo->kernel_size - 1;
    return last < first ? 0 : (int64_t)(last - first + 1);
}

void lc_pool_divisors(const lc_pool1d_geometry *geo, bool count_include_pad, double *out) {
    /* Window o counts all its kernel_size slots when the first, o·stride - padding, is at
     * least lo and the last, that plus (kernel_size - 1)·dilation, below hi: o in
     * [full_lo, full_hi]. Only the windows outside need lc_pool_divisor: a few at each end
     * (the padding, a ceil-mode overhang), or all of them where no window is full. */
    __int128 lo, hi, reach = (__int128)(geo->kernel_size - 1) * geo->dilation;
    counted_range(geo, count_include_pad, &lo, &hi);
    __int128 full_lo = div_ceil(lo + geo->padding, geo->stride);
    __int128 full_hi = div_floor(hi - 1 - reach + geo->padding, geo->stride);
    if (full_lo < 0) full_lo = 0;
    if (full_hi > geo->out_length - 1) full_hi = geo->out_length - 1;
    for (int64_t o = 0; o < geo->out_length; o++) {
        if (o == full_lo && full_lo <= full_hi) {
            for (; o <= full_hi; o++) out[o] = (double)geo->kernel_size;
            if (o == geo->out_length) break;
        }
        out[o] = (double)lc_pool_divisor(geo, count_include_pad, o);
    }
}
