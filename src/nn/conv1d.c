/* Conv1d(in_channels, out_channels, kernel_size, stride = 1, padding = 0, dilation = 1,
 * groups = 1, bias = True), docs/semantics.md:
 *     y[n, co, o] = b[co] + Σ_{ci in co's group} Σ_j w[co, ci, j] · xpad[n, ci, o·s + j·d]
 * with weight (out, in / groups, k) and bias (out). It is the unfold vocabulary plus a
 * contraction. Channels are split into groups by an unfold whose windows do not overlap
 * (a reshape the op set lacks), and put back by the matching fold:
 *
 *   x (N, Cin, L)  --unfold channels, size=step=Cin/G-->  (N, G, L, cpg)
 *                  --unfold L, k slots d apart, step s, padding-->  (N, G, Lout, cpg, k)
 *                  --expand opg-->  (N, G, Lout, cpg, k, opg)
 *   w (Cout, cpg, k) --unfold out channels, size=step=opg--> (G, cpg, k, opg) --expand Lout-->
 *   mul, sum over k, sum over cpg: (N, G, Lout, opg) --fold G, size=step=opg--> (N, Cout, Lout)
 *   + expand(b, Lout)
 *
 * Dilation is the unfold's own: its k slots read d apart, so a dilated conv is the same
 * pattern as an undilated one (one unfold, no unit axis to sum away), and its gradient is the
 * fold with the same dilation. The
 * gradients come from the rules of these ops: dX through unfold's rule (fold), dW a sum over
 * (n, o) of input windows times dy (a correlation), db a sum of dy. (C, L) input means N = 1,
 * returned as (Cout, Lout). */
#include <inttypes.h>

#include "nn/module_internal.h"
#include "support/error.h"

static const char *const WHO = "Conv1d";

lc_conv1d_params lc_conv1d_defaults(int64_t in_channels, int64_t out_channels, int64_t kernel_size) {
    lc_conv1d_params p = {in_channels, out_channels, kernel_size, 1, LC_PADDING_EXPLICIT, 0, 1, 1, true};
    return p;
}

static lc_status check_params(const lc_conv1d_params *p) {
    if (p->in_channels < 1)
        return lc_fail(LC_ERR_INVALID_ARG, "%s: in_channels must be >= 1, got %" PRId64, WHO, p->in_channels);
    if (p->out_channels < 1)
        return lc_fail(LC_ERR_INVALID_ARG, "%s: out_channels must be >= 1, got %" PRId64, WHO, p->out_channels);
    if (p->kernel_size < 1)
        return lc_fail(LC_ERR_INVALID_ARG, "%s: kernel_size must be >= 1, got %" PRId64, WHO, p->kernel_size);
    if (p->stride < 1)
        return lc_fail(LC_ERR_INVALID_ARG, "%s: stride must be >= 1, got %" PRId64, WHO, p->stride);
    if (p->dilation < 1)
        return lc_fail(LC_ERR_INVALID_ARG, "%s: dilation must be >= 1, got %" PRId64, WHO, p->dilation);
    if (p->groups < 1)
        return lc_fail(LC_ERR_INVALID_ARG, "%s: groups must be >= 1, got %" PRId64, WHO, p->groups);
    if (p->in_channels % p->groups != 0)
        return lc_fail(LC_ERR_INVALID_ARG, "%s: groups must divide in_channels, got %" PRId64 " and %" PRId64,
                       WHO, p->groups, p->in_channels);
    if (p->out_channels % p->groups != 0)
        return lc_fail(LC_ERR_INVALID_ARG, "%s: groups must divide out_channels, got %" PRId64 " and %" PRId64,
                       WHO, p->groups, p->out_channels);
    switch (p->padding_mode) {
    case LC_PADDING_EXPLICIT:
        if (p->padding < 0)
            return lc_fail(LC_ERR_INVALID_ARG, "%s: padding must be >= 0, got %" PRId64, WHO, p->padding);
        break;
    case LC_PADDING_SAME:
        if (p->stride != 1)
            return lc_fail(LC_ERR_INVALID_ARG, "%s: padding='same' needs stride 1, got stride %" PRId64, WHO,
                           p->stride);
        break;
    case LC_PADDING_VALID:
        break;
    default:
        return lc_fail(LC_ERR_INVALID_ARG, "%s: padding_mode must be explicit, same or valid, got %d", WHO,
                       (int)p->padding_mode);
    }
    /* Sizes the geometry multiplies stay far from overflow: the span d(k-1)+1 and the weight. */
    int64_t span, numel;
    if (__builtin_mul_overflow(p->dilation, p->kernel_size - 1, &span) || span > INT64_MAX / 4)
        return lc_fail(LC_ERR_INVALID_ARG, "%s: dilation %" PRId64 " x (kernel_size %" PRId64 " - 1) is too large",
                       WHO, p->dilation, p->kernel_size);
    if (__builtin_mul_overflow(p->out_channels, p->in_channels / p->groups, &numel) ||
        __builtin_mul_overflow(numel, p->kernel_size, &numel) || numel > INT64_MAX / 8)
        return lc_fail(LC_ERR_INVALID_ARG, "%s: the weight (%" PRId64 ", %" PRId64 ", %" PRId64 ") is too large",
                       WHO, p->out_channels, p->in_channels / p->groups, p->kernel_size);
    if (p->padding_mode == LC_PADDING_EXPLICIT && p->padding > INT64_MAX / 4)
        return lc_fail(LC_ERR_INVALID_ARG, "%s: padding is too large, got %" PRId64, WHO, p->padding);
    return LC_OK;
}

lc_status lc_conv1d_new(const lc_conv1d_params *params, lc_module **out) {
    if (!out) return lc_fail(LC_ERR_INVALID_ARG, "%s: out must not be NULL", WHO);
    *out = NULL;
    if (!params) return lc_fail(LC_ERR_INVALID_ARG, "%s: params must not be NULL", WHO);
    lc_conv1d_params p = *params;
    LC_TRY(check_params(&p));
    if (p.padding_mode != LC_PADDING_EXPLICIT) p.padding = 0;
    lc_module *m;
    LC_TRY(lc_module_alloc(LC_MODULE_CONV1D, WHO, &m));
    m->conv = p;
    static const char *const NAMES[] = {"weight", "bias"};
    int64_t cpg = p.in_channels / p.groups;
    lc_shape shapes[2] = {lc_shape_make(3, (int64_t[]){p.out_channels, cpg, p.kernel_size}),
                          lc_shape_make(1, &p.out_channels)};
    lc_status st = lc_module_add_params(m, WHO, cpg * p.kernel_size, p.bias ? 2 : 1, NAMES, shapes);
    if (st != LC_OK) {
        lc_module_free(m);
        return st;
    }
    *out = m;
    return LC_OK;
}

/* Zeros before and after the input: PyTorch's 'same' puts the odd one on the right. */
static void padding_of(const lc_conv1d_params *p, int64_t *lo, int64_t *hi) {
    if (p->padding_mode == LC_PADDING_SAME) {
        int64_t total = p->dilation * (p->kernel_size - 1);
        *lo = total / 2;
        *hi = total - *lo;
    } else {
        *lo = *hi = p->padding; /* 0 for 'valid' */
    }
}

/* Append a node with `st`, name it "<prefix>Conv1d.<op>" and return its index in *out. */
#define STEP(call, out)                                                  \
    do {                                                                 \
        LC_TRY(call);                                                    \
        LC_TRY(lc_module_name_node(g, *(out), prefix, WHO, NULL));       \
    } while (0)

lc_status lc_conv1d_forward(const lc_module *m, lc_graph *g, int x, const char *prefix, int *y) {
    const lc_node *xn = lc_graph_node(g, x);
    const lc_conv1d_params *p = &m->conv;
    lc_shape s = xn->shape;
    lc_dtype dtype = xn->dtype;
    char shape[160];
    if (s.rank != 2 && s.rank != 3)
        return lc_fail(LC_ERR_SHAPE, "%s: input must be (N, C, L) or (C, L), got rank %d (shape %s)", WHO, s.rank,
                       lc_shape_str(&s, shape, sizeof shape));
    int r = s.rank, cdim = r - 2;
    if (s.dim[cdim] != p->in_channels)
        return lc_fail(LC_ERR_SHAPE, "%s: the input's channel axis must have in_channels = %" PRId64
                       ", got %" PRId64 " (input shape %s)", WHO, p->in_channels, s.dim[cdim],
                       lc_shape_str(&s, shape, sizeof shape));
    int64_t groups = p->groups, cpg = p->in_channels / groups, opg = p->out_channels / groups;
    int64_t k = p->kernel_size, d = p->dilation, span = d * (k - 1) + 1, lo, hi;
    padding_of(p, &lo, &hi);
    int64_t length = s.dim[r - 1];
    if (length > INT64_MAX / 4 || length + lo + hi < span)
        return lc_fail(LC_ERR_SHAPE, "%s: the padded input length %" PRId64 " + %" PRId64 " + %" PRId64
                       " is shorter than the kernel's span %" PRId64 " (dilation %" PRId64 " x (kernel_size %"
                       PRId64 " - 1) + 1)", WHO, length, lo, hi, span, d, k);

    int grouped, taps, xe, weight, wg, we, prod, over_k, over_c, merged;
    STEP(lc_unfold(g, x, cdim, cpg, cpg, 0, 0, &grouped), &grouped);             /* (N, G, L, cpg) */
    STEP(lc_unfold_dilated(g, grouped, r - 1, k, p->stride, lo, hi, d, &taps), &taps); /* (N, G, Lout, cpg, k) */
    int64_t out_length = lc_graph_node(g, taps)->shape.dim[r - 1];
    STEP(lc_expand(g, taps, r + 2, opg, &xe), &xe);                               /* (N, G, Lout, cpg, k, opg) */
    LC_TRY(lc_module_param_input(m, g, 0, dtype, prefix, &weight));              /* (Cout, cpg, k) */
    STEP(lc_unfold(g, weight, 0, opg, opg, 0, 0, &wg), &wg);                      /* (G, cpg, k, opg) */
    STEP(lc_expand(g, wg, 1, out_length, &we), &we);                              /* (G, Lout, cpg, k, opg) */
    STEP(lc_mul(g, xe, we, &prod), &prod);
    STEP(lc_sum(g, prod, r + 1, &over_k), &over_k);                               /* (N, G, Lout, cpg, opg) */
    STEP(lc_sum(g, over_k, r, &over_c), &over_c);                                 /* (N, G, Lout, opg) */
    STEP(lc_fold(g, over_c, cdim, opg, opg, 0, 0, p->out_channels, &merged), &merged); /* (N, Cout, Lout) */
    if (!p->bias) {
        *y = merged;
        return LC_OK;
    }
    int bias, be;
    LC_TRY(lc_module_param_input(m, g, 1, dtype, prefix, &bias));
    STEP(lc_expand(g, bias, 1, out_length, &be), &be);                            /* (Cout, Lout) */
    STEP(lc_add(g, merged, be, y), y);
    return LC_OK;
}

#undef STEP
