/* Pool geometry and the per-axis lowering shared by the average and LP pools (1-D modules,
 * 2-D modules, and lucidc check's ONNX cases). Internal (tests and lucidc use it directly);
 * not part of the installed headers. */
#ifndef LUCID_NN_POOL_GEOMETRY_H
#define LUCID_NN_POOL_GEOMETRY_H

#include <stdbool.h>
#include <stdint.h>

#include "lucid/ir.h"
#include "lucid/status.h"

/* Output length and the unfold padding that yields it (pad_hi covers a ceil-mode overhang).
 * Fails when L_out < 1. */
typedef struct lc_pool1d_geometry {
    int64_t length, kernel_size, stride, padding; /* padding: the zeros before the axis */
    int64_t pad_end;      /* the zeros after it (= padding for the modules) */
    int64_t dilation;     /* window slots dilation apart (1 for the modules) */
    bool ceil_mode;
    int64_t out_length;
    int64_t pad_hi;       /* the unfold's padding after the axis: exactly out_length windows */
} lc_pool1d_geometry;
/* The modules' case: `padding` on both sides, no dilation. `who` names the module in messages. */
lc_status lc_pool1d_geometry_compute(const char *who, int64_t length, int64_t kernel_size,
                                     int64_t stride, int64_t padding, bool ceil_mode,
                                     lc_pool1d_geometry *out);

/* One pooled axis in ONNX's generality: pads per side (any size), dilation. Window o's slot j
 * reads position o·stride − pad_lo + j·dilation. Lengths: floor or ceil of
 * (L + pad_lo + pad_hi − span) / stride, plus one, span = dilation·(kernel − 1) + 1; in ceil
 * mode a last window starting at or past L + pad_lo is dropped. */
typedef struct lc_pool_axis {
    int axis;               /* the pooled axis of the input */
    const char *axis_name;  /* "length", "height", "width": for messages */
    int64_t kernel, stride, pad_lo, pad_hi, dilation;
    bool ceil_mode;
} lc_pool_axis;
lc_status lc_pool_geometry_compute(const char *who, int64_t length, const lc_pool_axis *a,
                                   lc_pool1d_geometry *out);
/* How many slots of window o an average divides by: those inside [-pad_lo, L + pad_end) with
 * count_include_pad (a ceil-mode overhang past the end padding never counts), else those
 * inside [0, L). */
int64_t lc_pool_divisor(const lc_pool1d_geometry *geo, bool count_include_pad, int64_t o);
/* lc_pool_divisor of every window o < out_length, into out: the windows that lie whole in
 * the counted range take kernel_size without a computation of their own, so only the few at
 * the ends cost one (AvgPool1d(3, 1, 1, count_include_pad=False) on a length of 65,536 built
 * its 65,536 divisors one 128-bit computation each). */
void lc_pool_divisors(const lc_pool1d_geometry *geo, bool count_include_pad, double *out);

/* Validate and resolve one axis of a module's sizes (stride LC_STRIDE_UNSET becomes kernel;
 * 0 <= padding <= kernel / 2, PyTorch's limit). */
lc_status lc_pool_check_axis(const char *who, int64_t kernel, int64_t *stride, int64_t padding);

/* The LP pools' norm_type: finite, > 0, and 1 / norm_type finite. */
lc_status lc_lppool_check_norm(const char *who, double norm_type);

/* The per-axis lowerings. Each pools axis a->axis of node x (its length shrinks to the window
 * count) and leaves the other axes alone, so a 2-D pool is two of them, one per axis. Nodes
 * are named "<prefix><who>.<role>", who followed by "." and `tag` when tag is not empty (the
 * 2-D modules tag their axes "w" and "h"); errors name `who`.
 *   average: unfold -> mean (every window divides by kernel), else unfold -> sum -> div by
 *            each window's divisor (lc_pool_divisor).
 *   LP:      unfold -> abs -> pow(p) -> sum -> pow(1/p) (the root; padding reads 0). */
lc_status lc_avg_pool_axis(lc_graph *g, int x, const lc_pool_axis *a, bool count_include_pad,
                           const char *who, const char *prefix, const char *tag, int *y);
lc_status lc_lp_pool_axis(lc_graph *g, int x, const lc_pool_axis *a, double p, const char *who,
                          const char *prefix, const char *tag, int *y);

#endif
