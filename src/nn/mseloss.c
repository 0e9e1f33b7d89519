/* MSELoss(reduction = 'mean'), docs/semantics.md: the mean (or, with 'sum', the sum) of
 * (input - target)^2 over every element, a scalar (rank 0). The module takes two data
 * inputs, input and target, of one shape (lc_module_input_count is 2): in a Sequential it
 * can only come first, so a training graph applies it to the model's output by
 * lc_module_forward_inputs. Lowered as
 *     add(input, mul(target, -1)) -> pow 2 -> sum axis 0, repeatedly, to a scalar [-> div n]
 * whose gradients are those ops' rules: d input = 2 (input - target) gy / n, d target its
 * negative. */
#include <inttypes.h>
#include <string.h>

#include "nn/module_internal.h"
#include "support/error.h"

static const char *const WHO = "MSELoss";

lc_mseloss_params lc_mseloss_defaults(void) {
    lc_mseloss_params p = {LC_REDUCTION_MEAN};
    return p;
}

lc_status lc_mseloss_new(const lc_mseloss_params *params, lc_module **out) {
    if (!out) return lc_fail(LC_ERR_INVALID_ARG, "%s: out must not be NULL", WHO);
    *out = NULL;
    if (!params) return lc_fail(LC_ERR_INVALID_ARG, "%s: params must not be NULL", WHO);
    if (params->reduction != LC_REDUCTION_MEAN && params->reduction != LC_REDUCTION_SUM)
        return lc_fail(LC_ERR_INVALID_ARG, "%s: reduction must be LC_REDUCTION_MEAN or LC_REDUCTION_SUM, got %d",
                       WHO, (int)params->reduction);
    LC_TRY(lc_module_alloc(LC_MODULE_MSELOSS, WHO, out));
    (*out)->mse = *params;
    return LC_OK;
}

lc_status lc_mseloss_forward(const lc_module *m, lc_graph *g, int input, int target,
                             const char *prefix, int *y) {
    const lc_node *in = lc_graph_node(g, input), *tn = lc_graph_node(g, target);
    char a[160], b[160];
    if (!lc_shape_equal(&in->shape, &tn->shape))
        return lc_fail(LC_ERR_SHAPE, "%s: target shape %s must equal the input shape %s", WHO,
                       lc_shape_str(&tn->shape, b, sizeof b), lc_shape_str(&in->shape, a, sizeof a));
    if (in->dtype != tn->dtype)
        return lc_fail(LC_ERR_INVALID_ARG, "%s: target dtype %s must equal the input dtype %s", WHO,
                       lc_dtype_name(tn->dtype), lc_dtype_name(in->dtype));
    int minus_one, neg, diff, sq;
    LC_TRY(lc_scalar(g, in->dtype, -1.0, &minus_one));
    LC_TRY(lc_mul(g, target, minus_one, &neg));
    LC_TRY(lc_module_name_node(g, neg, prefix, WHO, NULL));
    LC_TRY(lc_add(g, input, neg, &diff));
    LC_TRY(lc_module_name_node(g, diff, prefix, WHO, "diff"));
    LC_TRY(lc_pow(g, diff, 2.0, &sq));
    LC_TRY(lc_module_name_node(g, sq, prefix, WHO, NULL));
    int64_t n = lc_shape_numel(&in->shape);
    int acc = sq;
    while (lc_graph_node(g, acc)->shape.rank > 0) {
        LC_TRY(lc_sum(g, acc, 0, &acc));
        LC_TRY(lc_module_name_node(g, acc, prefix, WHO, NULL));
    }
    if (m->mse.reduction == LC_REDUCTION_SUM) {
        *y = acc;
        return LC_OK;
    }
    int count;
    LC_TRY(lc_scalar(g, in->dtype, (double)n, &count)); /* n = 0 gives 0/0 = NaN, as PyTorch */
    LC_TRY(lc_div(g, acc, count, y));
    return lc_module_name_node(g, *y, prefix, WHO, NULL);
}
