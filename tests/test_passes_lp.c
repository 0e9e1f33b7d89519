/* The LP backward rewrite of simplify (docs/pipeline.md): pow(S, 1/p − 1) · pow(|u|, p − 1)
 * becomes pow(div_safe(|u|, y), p − 1) for p > 1. It fires on the backward written by hand as
 * docs/semantics.md spells it and on what autodiff emits for an LPPool1d module, and not on
 * near misses; values stay those of the original graph and of the formula in
 * docs/semantics.md (computed here in plain double loops), zero windows give 0, and for
 * p = 60 with |x| up to 1e3 every backward value fits in f32. */
#include <float.h>

#include "test_passes_common.h"
#include "lucid/autodiff.h"
#include "lucid/nn.h"
#include "passes/pass.h"

/* How to spoil the hand-written backward, for the near misses. */
typedef enum spoil {
    SPOIL_NONE,
    SPOIL_POLE_FLAG,     /* pow(S, 1/p − 1) without zero_pole: 0 · inf stays NaN there */
    SPOIL_POW_EXPONENT,  /* pow(|u|, p − 0.5) */
    SPOIL_POLE_EXPONENT, /* pow(S, 1/(p + 1) − 1) */
    SPOIL_SIGNED,        /* no abs: S = sum(u^p), pow(u, p − 1) */
    SPOIL_EXPAND_DIM,    /* expand dS on the window-count axis instead of the window axis */
} spoil;

typedef struct lp_spec {
    double p;
    lc_dtype dtype;
    int64_t n, c, l, k, s;
    spoil spoil;
} lp_spec;

typedef struct lp_nodes {
    int x, g, u, a, q, sum, y, dx;
} lp_nodes;

/* y = pow(sum(pow(|unfold(x)|, p), 3), 1/p) and, written out as docs/semantics.md has it,
 *   dS = g · (1/p) · pow_zp(S, 1/p − 1);  du = expand(dS) · p · pow(|u|, p − 1) · sign(u);
 *   dx = fold(du). Outputs y, dx. */
static lc_graph *build_lp(const lp_spec *sp, lp_nodes *nd) {
    lc_graph *g;
    assert_ok(lc_graph_new(&g));
    double p = sp->p;
    int64_t windows = (sp->l - sp->k) / sp->s + 1;
    assert_ok(lc_input(g, "x", sp->dtype, test_shape3(sp->n, sp->c, sp->l), &nd->x));
    assert_ok(lc_unfold(g, nd->x, 2, sp->k, sp->s, 0, 0, &nd->u));
    nd->a = nd->u;
    if (sp->spoil != SPOIL_SIGNED) assert_ok(lc_abs(g, nd->u, &nd->a));
    assert_ok(lc_pow(g, nd->a, p, &nd->q));
    assert_ok(lc_sum(g, nd->q, 3, &nd->sum));
    assert_ok(lc_pow(g, nd->sum, 1.0 / p, &nd->y));
    assert_ok(lc_graph_set_name(g, nd->y, "y"));
    assert_ok(lc_input(g, "g", sp->dtype, test_shape3(sp->n, sp->c, windows), &nd->g));

    int inv_p, pole, ds, wide, p_const, pw, sg, t1, t2, du;
    double pole_exponent = (sp->spoil == SPOIL_POLE_EXPONENT ? 1.0 / (p + 1) : 1.0 / p) - 1.0;
    assert_ok(lc_scalar(g, sp->dtype, 1.0 / p, &inv_p));
    if (sp->spoil == SPOIL_POLE_FLAG) assert_ok(lc_pow(g, nd->sum, pole_exponent, &pole));
    else assert_ok(lc_pow_zero_pole(g, nd->sum, pole_exponent, &pole));
    assert_ok(lc_mul(g, nd->g, inv_p, &t1));
    assert_ok(lc_mul(g, t1, pole, &ds));
    if (sp->spoil == SPOIL_EXPAND_DIM) assert_ok(lc_expand(g, ds, 2, sp->k, &wide));
    else assert_ok(lc_expand(g, ds, 3, sp->k, &wide));
    assert_ok(lc_scalar(g, sp->dtype, p, &p_const));
    double pw_exponent = sp->spoil == SPOIL_POW_EXPONENT ? p - 0.5 : p - 1.0;
    if (pw_exponent < 0) assert_ok(lc_pow_zero_pole(g, nd->a, pw_exponent, &pw));
    else assert_ok(lc_pow(g, nd->a, pw_exponent, &pw));
    assert_ok(lc_sign(g, nd->u, &sg));
    assert_ok(lc_mul(g, wide, p_const, &t1));
    assert_ok(lc_mul(g, t1, pw, &t2));
    assert_ok(lc_mul(g, t2, sg, &du));
    assert_ok(lc_graph_set_name(g, du, "du"));
    assert_ok(lc_fold(g, du, 2, sp->k, sp->s, 0, 0, sp->l, &nd->dx));
    assert_ok(lc_graph_set_name(g, nd->dx, "dx"));
    assert_ok(lc_graph_add_output(g, nd->y));
    assert_ok(lc_graph_add_output(g, nd->dx));
    return g;
}

/* The pole S^(1/p − 1) is still read by some node: a pow of a sum with that exponent, or,
 * when the exponent is 1 (p = 1/2) and pow(S, 1) has been folded, a mul reading S. */
static bool has_pole(const lc_graph *g, double p) {
    double e = 1.0 / p - 1.0;
    for (int i = 0; i < lc_graph_node_count(g); i++) {
        const lc_node *n = lc_graph_node(g, i);
        for (int k = 0; k < lc_op_get_info(n->op)->arity; k++) {
            if (lc_graph_node(g, n->inputs[k])->op != LC_OP_SUM) continue;
            if (n->op == LC_OP_POW && fabs(n->real_attr - e) < 1e-9) return true;
            if (n->op == LC_OP_MUL && e == 1.0) return true;
        }
    }
    return false;
}

static bool has_safe_div(const lc_graph *g) {
    for (int i = 0; i < lc_graph_node_count(g); i++) {
        const lc_node *n = lc_graph_node(g, i);
        if (n->op == LC_OP_DIV && n->attr[LC_DIV_SAFE] == 1) return true;
    }
    return false;
}

static lc_graph *pipeline(const lc_graph *g) {
    lc_graph *out;
    lc_pipeline_options opts = lc_pipeline_options_default();
    opts.verify = true;
    assert_ok(lc_pipeline_run_default(g, false, &opts, &out));
    return out;
}

/* The rewrite fires for the first six (p > 1); p < 1 keeps the literal graph. */
static const double p_values[] = {1.5, 2, 2.5, 3, 4, 7, 0.5, 0.75};
enum { P_FIRES = 6 };

static void test_fires_on_hand_written_backward(void **state) {
    (void)state;
    for (size_t i = 0; i < P_FIRES; i++) {
        lp_spec sp = {.p = p_values[i], .dtype = LC_F64, .n = 2, .c = 3, .l = 11, .k = 3, .s = 2};
        lp_nodes nd;
        lc_graph *g = build_lp(&sp, &nd);
        lc_graph *s = run_checked("simplify", g);
        lc_graph *full = pipeline(g);
        if (has_pole(full, sp.p) || !has_safe_div(full)) fail_msg("p = %g: the rewrite did not fire", sp.p);
        assert_same_values(g, s, 7, 6, 2.0, 1e-9, 1e-12);
        assert_same_values(g, full, 8, 6, 2.0, 1e-9, 1e-12);
        /* names and outputs survive */
        assert_string_equal(lc_graph_node(full, lc_graph_output(full, 0))->name, "y");
        assert_string_equal(lc_graph_node(full, lc_graph_output(full, 1))->name, "dx");
        assert_true(find_named(full, "du") >= 0);
        lc_graph_free(full);
        lc_graph_free(s);
        lc_graph_free(g);
    }
}

/* dx[j] = Σ_{windows o ∋ j} g[o] · sign(x[j]) · (|x[j]| / y[o])^(p−1), 0 where y[o] = 0 or
 * x[j] = 0, with
 * y[o] = m · (Σ (|x|/m)^p)^(1/p) (m the window's max |x|) so that it cannot overflow. */
static void reference_grad(const double *x, const double *gr, int64_t rows, int64_t l,
                           int64_t k, int64_t s, double p, double *dx) {
    int64_t windows = (l - k) / s + 1;
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t j = 0; j < l; j++) dx[r * l + j] = 0;
        for (int64_t o = 0; o < windows; o++) {
            const double *w = x + r * l + o * s;
            double m = 0, acc = 0;
            for (int64_t j = 0; j < k; j++) m = fmax(m, fabs(w[j]));
            if (m == 0) continue;
            for (int64_t j = 0; j < k; j++) acc += pow(fabs(w[j]) / m, p);
            double y = m * pow(acc, 1.0 / p);
            for (int64_t j = 0; j < k; j++) {
                if (w[j] == 0) continue; /* sign 0; for p <= 1 the term is 0 by convention */
                double sg = w[j] > 0 ? 1 : w[j] < 0 ? -1 : 0;
                dx[r * l + o * s + j] += gr[r * windows + o] * sg * pow(fabs(w[j]) / y, p - 1);
            }
        }
    }
}

/* Run g (inputs x, seed) and return output 1 (dx); output 0 is freed. */
static lc_tensor *run_dx(const lc_graph *g, lc_tensor *x, lc_tensor *seed) {
    lc_tensor *in[] = {x, seed}, *out[2];
    eval_graph(g, in, out);
    lc_tensor_free(out[0]);
    return out[1];
}

static void check_against_reference(const lc_graph *g, const lp_spec *sp, lc_tensor *x,
                                     lc_tensor *seed, double rtol, double atol) {
    int64_t rows = sp->n * sp->c;
    double *xv = malloc((size_t)lc_tensor_numel(x) * sizeof *xv);
    double *gv = malloc((size_t)lc_tensor_numel(seed) * sizeof *gv);
    double *want = malloc((size_t)lc_tensor_numel(x) * sizeof *want);
    for (int64_t i = 0; i < lc_tensor_numel(x); i++) xv[i] = lc_tensor_get(x, i);
    for (int64_t i = 0; i < lc_tensor_numel(seed); i++) gv[i] = lc_tensor_get(seed, i);
    reference_grad(xv, gv, rows, sp->l, sp->k, sp->s, sp->p, want);
    lc_tensor *dx = run_dx(g, x, seed);
    assert_values_close(dx, want, lc_tensor_numel(x), rtol, atol);
    lc_tensor_free(dx);
    free(xv);
    free(gv);
    free(want);
}

/* Overlapping windows, a window of zeros (gradient 0, not NaN) and zeros inside windows. */
static void test_matches_formula_and_zero_windows(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof p_values / sizeof p_values[0]; i++) {
        lp_spec sp = {.p = p_values[i], .dtype = LC_F64, .n = 1, .c = 2, .l = 9, .k = 3, .s = 2};
        lp_nodes nd;
        lc_graph *g = build_lp(&sp, &nd);
        lc_graph *full = pipeline(g);
        double xv[] = {0, 0, 0, 0.5, -1.5, 2, 0, -0.25, 3, /* row 0: window 0 is all zeros */
                       1, -2, 0, 4, -0.5, 0.125, 7, 0, -1};
        double gv[] = {1, -2, 0.5, 3, 0.25, -1, 2, 1.5};
        lc_tensor *x, *seed;
        assert_ok(lc_tensor_from_doubles(LC_F64, test_shape3(1, 2, 9), xv, &x));
        assert_ok(lc_tensor_from_doubles(LC_F64, test_shape3(1, 2, 4), gv, &seed));
        check_against_reference(full, &sp, x, seed, 1e-12, 1e-14);
        if (sp.p > 1) check_against_reference(g, &sp, x, seed, 1e-12, 1e-14);
        lc_tensor *dx = run_dx(full, x, seed);
        assert_true(lc_tensor_get(dx, 0) == 0 && lc_tensor_get(dx, 1) == 0); /* only in window 0 */
        lc_tensor_free(dx);
        lc_tensor_free(x);
        lc_tensor_free(seed);
        lc_graph_free(full);
        lc_graph_free(g);
    }
}

/* Every value of g (as its dtype holds it) other than the nodes in `skip` is finite. Returns
 * the index of the first non-finite node, or -1. */
static int first_nonfinite(const lc_graph *g, lc_tensor *x, lc_tensor *seed, const bool *skip) {
    lc_graph *all;
    assert_ok(lc_graph_clone(g, &all));
    int n = lc_graph_node_count(all), n_out = lc_graph_output_count(all);
    for (int i = 0; i < n; i++) {
        bool is_output = false;
        for (int k = 0; k < n_out; k++) is_output |= lc_graph_output(all, k) == i;
        if (!is_output) assert_ok(lc_graph_add_output(all, i));
    }
    int total = lc_graph_output_count(all);
    lc_tensor **out = calloc((size_t)total, sizeof *out);
    lc_tensor *in[] = {x, seed};
    assert_ok(lc_interp_run(all, (const lc_tensor *const *)in, 2, out, total));
    int bad = -1;
    for (int k = 0; k < total && bad < 0; k++) {
        int node = lc_graph_output(all, k);
        if (skip[node]) continue;
        for (int64_t e = 0; e < lc_tensor_numel(out[k]); e++)
            if (!isfinite(lc_tensor_get(out[k], e))) {
                bad = node;
                break;
            }
    }
    free_tensors(out, total);
    free(out);
    lc_graph_free(all);
    return bad;
}

/* p = 60, f32, |x| up to 1e3: |x|^60 overflows f32 (codegen evaluates the forward sum scaled
 * by the window max, docs/semantics.md). Apart from that sum and its terms, every value of the
 * rewritten graph fits in f32 — the original's pow(|u|, 59) does not — and the gradient is
 * the one docs/semantics.md gives. */
static void test_large_p_is_finite_in_f32(void **state) {
    (void)state;
    lp_spec sp = {.p = 60, .dtype = LC_F32, .n = 2, .c = 2, .l = 16, .k = 4, .s = 3};
    lp_nodes nd;
    lc_graph *g = build_lp(&sp, &nd);
    lc_graph *full = pipeline(g);
    assert_false(has_pole(full, sp.p));
    test_rng r = test_rng_seeded(60);
    lc_tensor *x = test_random_tensor(&r, LC_F32, test_shape3(2, 2, 16), 1e3);
    lc_tensor_set(x, 0, 1e3);
    lc_tensor_set(x, 1, -999.5);
    lc_tensor *seed = test_random_tensor(&r, LC_F32, test_shape3(2, 2, 5), 1.0);

    bool *skip = calloc((size_t)lc_graph_node_count(full) + lc_graph_node_count(g), sizeof *skip);
    for (int i = 0; i < lc_graph_node_count(full); i++) {
        const lc_node *n = lc_graph_node(full, i);
        skip[i] = n->op == LC_OP_SUM || (n->op == LC_OP_POW && n->real_attr == 60);
    }
    int bad = first_nonfinite(full, x, seed, skip);
    if (bad >= 0) {
        char *text = graph_text(full);
        fail_msg("node %%%d of the rewritten graph is not finite in f32:\n%s", bad, text);
    }
    for (int i = 0; i < lc_graph_node_count(g); i++) skip[i] = i == nd.q || i == nd.sum;
    assert_true(first_nonfinite(g, x, seed, skip) >= 0); /* the original overflows f32 */
    check_against_reference(full, &sp, x, seed, 1e-5, 1e-30);
    free(skip);
    lc_tensor_free(x);
    lc_tensor_free(seed);
    lc_graph_free(full);
    lc_graph_free(g);
}

static void test_near_misses(void **state) {
    (void)state;
    static const struct {
        spoil spoil;
        double p;
    } cases[] = {
        {SPOIL_POLE_FLAG, 3}, {SPOIL_POW_EXPONENT, 3}, {SPOIL_POLE_EXPONENT, 3},
        {SPOIL_SIGNED, 3},    {SPOIL_EXPAND_DIM, 3},   {SPOIL_EXPAND_DIM, 2.5},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        /* l = 16, k = s = 4: 4 windows of 4, so expanding on the wrong axis still type-checks */
        lp_spec sp = {.p = cases[i].p, .dtype = LC_F64, .n = 1, .c = 2, .l = 16, .k = 4, .s = 4,
                      .spoil = cases[i].spoil};
        lp_nodes nd;
        lc_graph *g = build_lp(&sp, &nd);
        lc_graph *s = run_checked("simplify", g);
        lc_graph *full = pipeline(g);
        double pole_p = cases[i].spoil == SPOIL_POLE_EXPONENT ? cases[i].p + 1 : cases[i].p;
        if (has_safe_div(full) || !has_pole(full, pole_p))
            fail_msg("near miss %d (p = %g) was rewritten", (int)cases[i].spoil, cases[i].p);
        assert_same_values(g, s, 9, 4, 2.0, 1e-9, 1e-12);
        assert_same_values(g, full, 9, 4, 2.0, 1e-9, 1e-12);
        lc_graph_free(full);
        lc_graph_free(s);
        lc_graph_free(g);
    }
}

/* p = 1 has no pole (pow(S, 1) and pow(|u|, 0)): nothing to rewrite, values unchanged. */
static void test_p_one(void **state) {
    (void)state;
    lp_spec sp = {.p = 1, .dtype = LC_F64, .n = 1, .c = 2, .l = 10, .k = 3, .s = 1};
    lp_nodes nd;
    lc_graph *g = build_lp(&sp, &nd);
    lc_graph *full = pipeline(g);
    assert_same_values(g, full, 11, 4, 2.0, 1e-12, 1e-12);
    lc_graph_free(full);
    lc_graph_free(g);
}

/* ---- what autodiff emits for an LPPool1d module ---- */

static lc_graph *lppool_forward(double p, int64_t k, int64_t stride, bool ceil_mode, lc_shape in) {
    lc_lppool1d_params prm = lc_lppool1d_defaults(p, k);
    prm.stride = stride;
    prm.ceil_mode = ceil_mode;
    lc_module *m;
    assert_ok(lc_lppool1d_new(&prm, &m));
    lc_graph *g;
    assert_ok(lc_graph_new(&g));
    int x, y;
    assert_ok(lc_input(g, "x", LC_F64, in, &x));
    assert_ok(lc_module_forward(m, g, x, &y));
    assert_ok(lc_graph_add_output(g, y));
    lc_module_free(m);
    return g;
}

static void test_fires_on_autodiff_output(void **state) {
    (void)state;
    static const struct {
        double p;
        int64_t k, stride;
        bool ceil_mode;
    } cases[] = {{2, 4, 4, false}, {3, 3, 2, false}, {2.5, 3, 1, true}, {1.25, 2, 2, false},
                 {7, 5, 3, true}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lc_graph *fwd = lppool_forward(cases[i].p, cases[i].k, cases[i].stride,
                                       cases[i].ceil_mode, test_shape3(2, 3, 13));
        lc_graph *ad;
        assert_ok(lc_autodiff(fwd, NULL, 0, NULL, 0, &ad));
        assert_true(has_pole(ad, cases[i].p));
        lc_graph *s = run_checked("simplify", ad);
        lc_graph *full = pipeline(ad);
        if (has_pole(full, cases[i].p) || !has_safe_div(full)) {
            char *text = graph_text(full);
            fail_msg("p = %g: the rewrite did not fire on autodiff's backward:\n%s", cases[i].p, text);
        }
        assert_same_values(ad, s, 12, 5, 2.0, 1e-9, 1e-12);
        assert_same_values(ad, full, 12, 5, 2.0, 1e-9, 1e-12);
        lc_graph_free(full);
        lc_graph_free(s);
        lc_graph_free(ad);
        lc_graph_free(fwd);
    }
}

/* Two LP pools in a row, on a (C, L) input: both backwards are rewritten, the first one's
 * upstream gradient being the second one's fold. */
static void test_fires_in_a_sequential(void **state) {
    (void)state;
    lc_module *seq, *m1, *m2;
    lc_lppool1d_params p1 = lc_lppool1d_defaults(3, 2), p2 = lc_lppool1d_defaults(2.5, 3);
    p2.stride = 1;
    assert_ok(lc_sequential_new(&seq));
    assert_ok(lc_lppool1d_new(&p1, &m1));
    assert_ok(lc_lppool1d_new(&p2, &m2));
    assert_ok(lc_sequential_append(seq, m1));
    assert_ok(lc_sequential_append(seq, m2));
    int64_t dims[] = {3, 20};
    lc_graph *g, *ad;
    assert_ok(lc_graph_new(&g));
    int x, y;
    assert_ok(lc_input(g, "x", LC_F64, lc_shape_make(2, dims), &x));
    assert_ok(lc_module_forward(seq, g, x, &y));
    assert_ok(lc_graph_add_output(g, y));
    assert_ok(lc_autodiff(g, NULL, 0, NULL, 0, &ad));
    assert_true(has_pole(ad, 3) && has_pole(ad, 2.5));
    lc_graph *full = pipeline(ad);
    assert_false(has_pole(full, 3) || has_pole(full, 2.5));
    assert_int_equal(count_op(full, LC_OP_DIV), 2);
    assert_same_values(ad, full, 15, 5, 2.0, 1e-9, 1e-12);
    lc_graph_free(full);
    lc_graph_free(ad);
    lc_graph_free(g);
    lc_module_free(seq);
}

/* With autodiff registered in lucid/stages.def, the default backward pipeline runs it first. */
static void test_default_backward_pipeline(void **state) {
    (void)state;
    if (!lc_pass_find("autodiff")) {
        print_message("autodiff is not registered yet; skipped\n");
        return;
    }
    lc_graph *fwd = lppool_forward(3, 4, 2, false, test_shape3(1, 2, 12));
    lc_graph *ad, *full;
    assert_ok(lc_autodiff(fwd, NULL, 0, NULL, 0, &ad));
    lc_pipeline_options opts = lc_pipeline_options_default();
    opts.verify = true;
    assert_ok(lc_pipeline_run_default(fwd, true, &opts, &full));
    assert_false(has_pole(full, 3));
    assert_same_values(ad, full, 13, 4, 2.0, 1e-9, 1e-12);
    lc_graph_free(full);
    lc_graph_free(ad);
    lc_graph_free(fwd);
}

/* The whole default pipeline on autodiff's backward of an LP pool (built here by hand, so the
 * names are this test's), pinned: the pole is gone, the gradient reads
 * pow(|u| / expand(y), p − 1), and autodiff's 1/p · p has cancelled. */
static void test_pinned_pipeline_text(void **state) {
    (void)state;
    lc_graph *g, *ad, *full;
    assert_ok(lc_graph_new(&g));
    int x, u, a, q, s, y;
    assert_ok(lc_input(g, "x", LC_F32, test_shape3(1, 2, 10), &x));
    assert_ok(lc_unfold(g, x, 2, 4, 2, 0, 0, &u));
    assert_ok(lc_graph_set_name(g, u, "lp.unfold"));
    assert_ok(lc_abs(g, u, &a));
    assert_ok(lc_graph_set_name(g, a, "lp.abs"));
    assert_ok(lc_pow(g, a, 3, &q));
    assert_ok(lc_sum(g, q, 3, &s));
    assert_ok(lc_pow(g, s, 1.0 / 3.0, &y));
    assert_ok(lc_graph_set_name(g, y, "y"));
    assert_ok(lc_graph_add_output(g, y));
    assert_ok(lc_autodiff(g, NULL, 0, NULL, 0, &ad));
    full = pipeline(ad);
    assert_graph_text(full,
        "graph {\n"
        "  %0 = input \"x\" : f32[1,2,10]\n"
        "  %1 = unfold(%0) dim=2 size=4 step=2 pad_lo=0 pad_hi=0 : f32[1,2,4,4] name=\"lp.unfold\"\n"
        "  %2 = abs(%1) : f32[1,2,4,4] name=\"lp.abs\"\n"
        "  %3 = pow(%2) zero_pole=0 exponent=3 : f32[1,2,4,4]\n"
        "  %4 = sum(%3) dim=3 : f32[1,2,4]\n"
        "  %5 = pow(%4) zero_pole=0 exponent=0.3333333333333333 : f32[1,2,4] name=\"y\"\n"
        "  %6 = input \"grad.y\" : f32[1,2,4]\n"
        "  %7 = expand(%5) dim=3 size=4 : f32[1,2,4,4] name=\"grad.lp.abs.expand\"\n"
        "  %8 = div(%2, %7) safe=1 : f32[1,2,4,4] name=\"grad.lp.abs.div\"\n"
        "  %9 = pow(%8) zero_pole=0 exponent=2 : f32[1,2,4,4] name=\"grad.lp.abs.pow\"\n"
        "  %10 = expand(%6) dim=3 size=4 : f32[1,2,4,4] name=\"grad.lp.abs.expand\"\n"
        "  %11 = mul(%10, %9) : f32[1,2,4,4] name=\"grad.lp.abs\"\n"
        "  %12 = sign(%1) : f32[1,2,4,4] name=\"grad.lp.unfold.sign\"\n"
        "  %13 = mul(%11, %12) : f32[1,2,4,4] name=\"grad.lp.unfold\"\n"
        "  %14 = fold(%13) dim=2 size=4 step=2 pad_lo=0 pad_hi=0 length=10 : f32[1,2,10] name=\"grad.x\"\n"
        "  output %5, %14\n"
        "}\n");
    assert_same_values(ad, full, 14, 4, 2.0, 1e-6, 1e-6);
    lc_graph_free(full);
    lc_graph_free(ad);
    lc_graph_free(g);
}

/* p < 1: the rewrite would change what the exact math gives, so the backward stays literal.
 * A window holding an inf has y = inf; for a finite x in it the gradient is
 * g · S^(1/p − 1) · p|x|^(p−1) · sign(x) = ±inf (S^(1/p − 1) = inf), while the rewritten
 * (|x| / y)^(p − 1) = 0^(p − 1) is sent to 0 by autodiff's zero pole, and g = inf made it NaN:
 * the text-IR fuzzer's oracle found this in LPPool1d(0.5, 2)'s backward. */
static void test_small_p_stays_literal(void **state) {
    (void)state;
    for (size_t i = P_FIRES; i < sizeof p_values / sizeof p_values[0]; i++) {
        lp_spec sp = {.p = p_values[i], .dtype = LC_F32, .n = 1, .c = 1, .l = 6, .k = 2, .s = 2};
        lp_nodes nd;
        lc_graph *g = build_lp(&sp, &nd);
        lc_graph *full = pipeline(g);
        if (!has_pole(full, sp.p) || has_safe_div(full)) fail_msg("p = %g: the rewrite fired", sp.p);
        double xv[] = {INFINITY, -0.125, 1, 2, 0, 3}, gv[] = {-INFINITY, 1, 2};
        lc_tensor *x, *seed;
        assert_ok(lc_tensor_from_doubles(LC_F32, test_shape3(1, 1, 6), xv, &x));
        assert_ok(lc_tensor_from_doubles(LC_F32, test_shape3(1, 1, 3), gv, &seed));
        lc_tensor *literal = run_dx(g, x, seed), *passed = run_dx(full, x, seed);
        assert_true(isnan(lc_tensor_get(literal, 0)) && isnan(lc_tensor_get(passed, 0))); /* inf·0 */
        assert_true(lc_tensor_get(literal, 1) == INFINITY && lc_tensor_get(passed, 1) == INFINITY);
        assert_tensor_close(passed, literal, 1e-6, 0);
        lc_tensor_free(literal);
        lc_tensor_free(passed);
        lc_tensor_free(x);
        lc_tensor_free(seed);
        lc_graph_free(full);
        lc_graph_free(g);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fires_on_hand_written_backward),
        cmocka_unit_test(test_matches_formula_and_zero_windows),
        cmocka_unit_test(test_large_p_is_finite_in_f32),
        cmocka_unit_test(test_near_misses),
        cmocka_unit_test(test_p_one),
        cmocka_unit_test(test_fires_on_autodiff_output),
        cmocka_unit_test(test_small_p_stays_literal),
        cmocka_unit_test(test_fires_in_a_sequential),
        cmocka_unit_test(test_default_backward_pipeline),
        cmocka_unit_test(test_pinned_pipeline_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
