/* ReLU(), docs/semantics.md: max(x, 0) elementwise, NaN kept; any input rank. One op, relu,
 * whose gradient rule (1 where x > 0, else 0) lives with the others in grad_rules.c. */
#include "nn/module_internal.h"
#include "support/error.h"

static const char *const WHO = "ReLU";

lc_status lc_relu_new(lc_module **out) {
    if (!out) return lc_fail(LC_ERR_INVALID_ARG, "%s: out must not be NULL", WHO);
    *out = NULL;
    return lc_module_alloc(LC_MODULE_RELU, WHO, out);
}

lc_status lc_relu_forward(const lc_module *m, lc_graph *g, int x, const char *prefix, int *y) {
    (void)m;
    LC_TRY(lc_relu(g, x, y));
    return lc_module_name_node(g, *y, prefix, WHO, NULL);
}
