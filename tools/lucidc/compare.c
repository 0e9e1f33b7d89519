/* Elementwise comparison for `check` and `demo`: the pass rule of the conformance cases
 * (|got - want| <= atol + rtol*|want|, NaN matching NaN, an infinity the same infinity) and the
 * largest absolute and relative errors, relative over elements whose reference is nonzero. */
#include <math.h>

#include "cli.h"

void cli_compare_tensors(const lc_tensor *got, const lc_tensor *want, double rtol, double atol,
                         cli_compare *out) {
    *out = (cli_compare){.first_bad = -1};
    int64_t n = lc_tensor_numel(want);
    for (int64_t i = 0; i < n; i++) {
        double g = lc_tensor_get(got, i), w = lc_tensor_get(want, i);
        double abs_err, rel_err;
        bool ok;
        if (isnan(w) || isnan(g) || isinf(w) || isinf(g)) {
            ok = (isnan(w) && isnan(g)) || (g == w);
            abs_err = rel_err = ok ? 0.0 : INFINITY;
        } else {
            abs_err = fabs(g - w);
            rel_err = w != 0.0 ? abs_err / fabs(w) : 0.0;
            ok = abs_err <= atol + rtol * fabs(w);
        }
        if (abs_err > out->max_abs) out->max_abs = abs_err;
        if (rel_err > out->max_rel) out->max_rel = rel_err;
        if (!ok) {
            if (out->n_bad++ == 0) {
                out->first_bad = i;
                out->got_bad = g;
                out->want_bad = w;
            }
        }
    }
}

void cli_compare_merge(cli_compare *acc, const cli_compare *more) {
    if (more->max_abs > acc->max_abs) acc->max_abs = more->max_abs;
    if (more->max_rel > acc->max_rel) acc->max_rel = more->max_rel;
    if (acc->n_bad == 0 && more->n_bad > 0) {
        acc->first_bad = more->first_bad;
        acc->got_bad = more->got_bad;
        acc->want_bad = more->want_bad;
    }
    acc->n_bad += more->n_bad;
}
