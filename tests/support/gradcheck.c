/* Central-difference gradient checks on the interpreter (see gradcheck.h). */
#include "support/gradcheck.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lucid/autodiff.h"
#include "lucid/runtime.h"
#include "support/error.h"
#include "support/testutil.h"

gradcheck_options gradcheck_defaults(void) {
    return (gradcheck_options){.h = 1e-6, .rtol = 1e-5, .atol = 1e-7, .kink = 1e-3, .seed = 1};
}

lc_status gradcheck_to_f64(const lc_graph *g, lc_graph **out) {
    lc_graph *c;
    lc_status st = lc_graph_new(&c);
    if (st != LC_OK) return st;
    for (int i = 0; i < lc_graph_node_count(g) && st == LC_OK; i++) {
        const lc_node *n = lc_graph_node(g, i);
        int idx;
        st = lc_graph_append(c, n->op, n->inputs, n->attr, n->real_attr, LC_F64, &n->shape, n->data,
                             &idx);
        if (st == LC_OK && n->name) st = lc_graph_set_name(c, idx, n->name);
    }
    for (int i = 0; i < lc_graph_output_count(g) && st == LC_OK; i++)
        st = lc_graph_add_output(c, lc_graph_output(g, i));
    if (st != LC_OK) {
        lc_graph_free(c);
        return st;
    }
    *out = c;
    return LC_OK;
}

/* Everything one check allocates, freed in one place. */
typedef struct check {
    lc_graph *g64, *ad;
    int n_in, n_out;
    lc_tensor **x;     /* n_in f64 copies of the inputs (perturbed in place) */
    lc_tensor **seed;  /* n_out */
    lc_tensor **res;   /* n_out + n_in results of the autodiff graph */
} check;

static void check_free(check *c) {
    for (int i = 0; c->x && i < c->n_in; i++) lc_tensor_free(c->x[i]);
    for (int i = 0; c->seed && i < c->n_out; i++) lc_tensor_free(c->seed[i]);
    for (int i = 0; c->res && i < c->n_out + c->n_in; i++) lc_tensor_free(c->res[i]);
    free(c->x);
    free(c->seed);
    free(c->res);
    lc_graph_free(c->g64);
    lc_graph_free(c->ad);
}

/* F(x) = Σ_o <seed_o, y_o(x)>, accumulated in long double. */
static lc_status objective(check *c, double *f) {
    lc_tensor *y[64];
    if (c->n_out > 64) return lc_fail(LC_ERR_INVALID_ARG, "gradcheck: at most 64 outputs");
    LC_TRY(lc_interp_run(c->g64, (const lc_tensor *const *)c->x, c->n_in, y, c->n_out));
    long double acc = 0;
    for (int o = 0; o < c->n_out; o++) {
        for (int64_t i = 0; i < lc_tensor_numel(y[o]); i++)
            acc += (long double)lc_tensor_get(c->seed[o], i) * lc_tensor_get(y[o], i);
        lc_tensor_free(y[o]);
    }
    *f = (double)acc;
    return LC_OK;
}

static lc_status setup(check *c, const lc_graph *g, const lc_tensor *const *inputs,
                       const gradcheck_options *opt) {
    LC_TRY(gradcheck_to_f64(g, &c->g64));
    LC_TRY(lc_autodiff(c->g64, NULL, 0, NULL, 0, &c->ad));
    LC_TRY(lc_graph_verify(c->ad));
    c->n_in = lc_graph_input_count(c->g64);
    c->n_out = lc_graph_output_count(c->g64);
    c->x = calloc((size_t)c->n_in + 1, sizeof *c->x);
    c->seed = calloc((size_t)c->n_out + 1, sizeof *c->seed);
    c->res = calloc((size_t)(c->n_out + c->n_in) + 1, sizeof *c->res);
    if (!c->x || !c->seed || !c->res) return lc_fail(LC_ERR_NOMEM, "gradcheck: out of memory");
    for (int i = 0; i < c->n_in; i++) {
        LC_TRY(lc_tensor_new(LC_F64, inputs[i]->shape, &c->x[i]));
        for (int64_t k = 0; k < lc_tensor_numel(inputs[i]); k++)
            lc_tensor_set(c->x[i], k, lc_tensor_get(inputs[i], k));
    }
    test_rng rng = test_rng_seeded(opt->seed);
    for (int o = 0; o < c->n_out; o++) {
        const lc_node *n = lc_graph_node(c->g64, lc_graph_output(c->g64, o));
        LC_TRY(lc_tensor_new(LC_F64, n->shape, &c->seed[o]));
        for (int64_t k = 0; k < lc_tensor_numel(c->seed[o]); k++)
            lc_tensor_set(c->seed[o], k, test_rng_uniform(&rng, -1, 1));
    }
    /* The autodiff graph's inputs: the forward inputs, then one seed per output. */
    const lc_tensor **all = calloc((size_t)(c->n_in + c->n_out) + 1, sizeof *all);
    if (!all) return lc_fail(LC_ERR_NOMEM, "gradcheck: out of memory");
    for (int i = 0; i < c->n_in; i++) all[i] = c->x[i];
    for (int o = 0; o < c->n_out; o++) all[c->n_in + o] = c->seed[o];
    lc_status st = lc_interp_run(c->ad, all, c->n_in + c->n_out, c->res, c->n_out + c->n_in);
    free(all);
    return st;
}

static void compare(check *c, const gradcheck_options *opt, gradcheck_report *rep) {
    for (int i = 0; i < c->n_in; i++) {
        const lc_tensor *analytic = c->res[c->n_out + i];
        for (int64_t k = 0; k < lc_tensor_numel(c->x[i]); k++) {
            double x0 = lc_tensor_get(c->x[i], k);
            if (fabs(x0) < opt->kink) {
                rep->skipped++;
                continue;
            }
            double h = opt->h * fmax(1.0, fabs(x0)), fp = 0, fm = 0;
            lc_tensor_set(c->x[i], k, x0 + h);
            lc_status st = objective(c, &fp);
            lc_tensor_set(c->x[i], k, x0 - h);
            if (st == LC_OK) st = objective(c, &fm);
            lc_tensor_set(c->x[i], k, x0);
            if (st != LC_OK) {
                rep->ok = false;
                snprintf(rep->message, sizeof rep->message, "forward run failed: %s", lc_last_error());
                return;
            }
            double num = (fp - fm) / (2 * h), got = lc_tensor_get(analytic, k);
            double err = fabs(got - num), rel = err / fmax(fabs(num), 1e-300);
            rep->checked++;
            if (err > rep->max_abs_err || isnan(err)) rep->max_abs_err = err;
            if (err > opt->atol && rel > rep->max_rel_err) rep->max_rel_err = rel;
            if ((!(err <= opt->atol + opt->rtol * fabs(num))) && rep->ok) {
                rep->ok = false;
                snprintf(rep->message, sizeof rep->message,
                         "input %d element %lld (x = %.17g): autodiff gradient %.17g, central "
                         "difference %.17g (abs err %.3g)", i, (long long)k, x0, got, num, err);
            }
        }
    }
}

lc_status gradcheck_graph(const lc_graph *g, const lc_tensor *const *inputs,
                          const gradcheck_options *opt, gradcheck_report *rep) {
    gradcheck_options defaults = gradcheck_defaults();
    if (!opt) opt = &defaults;
    memset(rep, 0, sizeof *rep);
    rep->ok = true;
    check c = {0};
    lc_status st = setup(&c, g, inputs, opt);
    if (st == LC_OK) compare(&c, opt, rep);
    check_free(&c);
    return st;
}

lc_status gradcheck_module(const lc_module *m, const lc_tensor *x, const gradcheck_options *opt,
                           gradcheck_report *rep) {
    lc_graph *g;
    LC_TRY(lc_module_graph(m, x->dtype, x->shape, &g));
    lc_status st = gradcheck_graph(g, &x, opt, rep);
    lc_graph_free(g);
    return st;
}
