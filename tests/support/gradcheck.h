/* gradcheck: compare the gradients autodiff derives with central differences, both evaluated
 * by the reference interpreter in float64.
 *
 * For a graph with inputs x_1..x_m and outputs y_1..y_k, random seeds s_o give the scalar
 * F(x) = Σ_o <s_o, y_o(x)>; autodiff's gradient outputs must equal
 * (F(x + h e_i) - F(x - h e_i)) / 2h for every element i of every input, within
 * atol + rtol·|numeric|. Elements with |x_i| < kink are skipped: abs and sign jump there, and
 * pow(|x|, p < 1) has an unbounded derivative near 0, so a finite difference means nothing
 * (an LP window whose sum is 0 holds only such elements). Those points are pinned by named
 * tests instead. */
#ifndef LUCID_TESTS_GRADCHECK_H
#define LUCID_TESTS_GRADCHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "lucid/ir.h"
#include "lucid/nn.h"
#include "lucid/tensor.h"

typedef struct gradcheck_options {
    double h;          /* finite-difference step, scaled by max(1, |x_i|) */
    double rtol, atol; /* analytic vs numeric */
    double kink;       /* skip elements with |x_i| < kink */
    uint64_t seed;     /* for the random seeds s_o */
} gradcheck_options;

typedef struct gradcheck_report {
    int64_t checked, skipped;
    double max_abs_err, max_rel_err;
    bool ok;
    char message[512]; /* the first mismatch, or "" */
} gradcheck_report;

/* h = 1e-6, rtol = 1e-5, atol = 1e-7, kink = 1e-3, seed = 1. */
gradcheck_options gradcheck_defaults(void);

/* `g` with every INPUT and CONSTANT made f64 (the other nodes follow), names and outputs kept.
 * Caller frees. */
lc_status gradcheck_to_f64(const lc_graph *g, lc_graph **out);

/* Run the check. `inputs` holds one tensor per graph input (any dtype; values are widened to
 * float64). Returns a failing status only when the graph cannot be differentiated or run; a
 * gradient mismatch is reported in rep->ok / rep->message. */
lc_status gradcheck_graph(const lc_graph *g, const lc_tensor *const *inputs,
                          const gradcheck_options *opt, gradcheck_report *rep);

/* The same for a module applied to x (its forward graph with one input and one output). */
lc_status gradcheck_module(const lc_module *m, const lc_tensor *x, const gradcheck_options *opt,
                           gradcheck_report *rep);

/* cmocka assertion: the check runs and matches; the failure message names the case. */
#define assert_gradcheck(call, rep, what)                                                      \
    do {                                                                                       \
        lc_status gc_st_ = (call);                                                             \
        if (gc_st_ != LC_OK) fail_msg("%s: %s: %s", (what), #call, lc_last_error());           \
        if (!(rep).ok) fail_msg("%s: %s", (what), (rep).message);                              \
    } while (0)

#endif
