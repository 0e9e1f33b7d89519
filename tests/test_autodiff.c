/* The autodiff pass: the layout of the graph it returns, names, every op's rule against central
 * differences (gradcheck), hand-computed values at the conventions' points (abs'(0),
 * pow' at 0), broadcasting, accumulation, and the errors of bad requests. */
#include <math.h>
#include <string.h>

#include "lucid/autodiff.h"
#include "lucid/runtime.h"
#include "passes/pass.h"
#include "support/gradcheck.h"
#include "support/testutil.h"

static lc_shape shape1(int64_t a) { return lc_shape_make(1, &a); }
static lc_shape shape2(int64_t a, int64_t b) {
    int64_t d[] = {a, b};
    return lc_shape_make(2, d);
}

static lc_tensor *tensor_of(lc_shape s, const double *v) {
    lc_tensor *t;
    assert_ok(lc_tensor_from_doubles(LC_F64, s, v, &t));
    return t;
}

static lc_tensor *uniform(test_rng *r, lc_shape s, double lo, double hi) {
    lc_tensor *t;
    assert_ok(lc_tensor_new(LC_F64, s, &t));
    for (int64_t i = 0; i < lc_tensor_numel(t); i++) lc_tensor_set(t, i, test_rng_uniform(r, lo, hi));
    return t;
}

/* Differentiate g's one output w.r.t. its inputs at `x`, seed `seed`; gradients to grads[]. */
static void backward(const lc_graph *g, const lc_tensor *const *x, int n_in, const lc_tensor *seed,
                     lc_tensor **grads) {
    lc_graph *ad;
    assert_ok(lc_autodiff(g, NULL, 0, NULL, 0, &ad));
    assert_ok(lc_graph_verify(ad));
    const lc_tensor *in[8];
    for (int i = 0; i < n_in; i++) in[i] = x[i];
    in[n_in] = seed;
    lc_tensor *out[9];
    assert_ok(lc_interp_run(ad, in, n_in + 1, out, 1 + n_in));
    lc_tensor_free(out[0]);
    for (int i = 0; i < n_in; i++) grads[i] = out[1 + i];
    lc_graph_free(ad);
}

/* ---- layout and names ---- */

static void test_layout_and_names(void **state) {
    (void)state;
    lc_graph *g, *ad;
    assert_ok(lc_graph_new(&g));
    int x, c, a, s, y;
    assert_ok(lc_input(g, "x", LC_F32, shape2(2, 3), &x));
    assert_ok(lc_input(g, "c", LC_F32, shape1(3), &c));
    assert_ok(lc_abs(g, x, &a));
    assert_ok(lc_graph_set_name(g, a, "m.abs"));
    assert_ok(lc_mul(g, a, c, &s));
    assert_ok(lc_sum(g, s, 1, &y)); /* unnamed: its seed is "grad.%4" */
    assert_ok(lc_graph_add_output(g, y));
    assert_ok(lc_autodiff(g, NULL, 0, NULL, 0, &ad));
    assert_ok(lc_graph_verify(ad));
    /* forward nodes unchanged, then the seed */
    for (int i = 0; i < 5; i++) assert_int_equal(lc_graph_node(ad, i)->op, lc_graph_node(g, i)->op);
    const lc_node *seed = lc_graph_node(ad, 5);
    assert_int_equal(seed->op, LC_OP_INPUT);
    assert_string_equal(seed->name, "grad.%4");
    assert_true(lc_shape_equal(&seed->shape, &lc_graph_node(g, y)->shape));
    assert_int_equal(seed->dtype, LC_F32);
    /* outputs: y, then grad x, grad c */
    assert_int_equal(lc_graph_output_count(ad), 3);
    assert_int_equal(lc_graph_output(ad, 0), y);
    assert_string_equal(lc_graph_node(ad, lc_graph_output(ad, 1))->name, "grad.x");
    assert_string_equal(lc_graph_node(ad, lc_graph_output(ad, 2))->name, "grad.c");
    assert_true(lc_shape_equal(&lc_graph_node(ad, lc_graph_output(ad, 2))->shape, &lc_graph_node(g, c)->shape));
    /* the gradient of the named abs node carries its name */
    bool found = false;
    for (int i = 0; i < lc_graph_node_count(ad); i++) {
        const char *nm = lc_graph_node(ad, i)->name;
        if (nm && strcmp(nm, "grad.m.abs") == 0) found = true;
    }
    assert_true(found);
    assert_int_equal(lc_graph_input_count(ad), 3);
    lc_graph_free(ad);
    lc_graph_free(g);
}

/* The registered pass is autodiff of everything. */
static void test_registered_pass(void **state) {
    (void)state;
    const lc_pass *p = lc_pass_find("autodiff");
    if (!p) skip(); /* until its row is in lucid/stages.def */
    lc_graph *g, *ad;
    assert_ok(lc_graph_new(&g));
    int x, y;
    assert_ok(lc_input(g, "x", LC_F64, shape1(4), &x));
    assert_ok(lc_pow(g, x, 2, &y));
    assert_ok(lc_graph_add_output(g, y));
    assert_ok(p->run(g, &ad));
    assert_int_equal(lc_graph_output_count(ad), 2);
    assert_int_equal(lc_graph_input_count(ad), 2);
    lc_graph_free(ad);
    lc_graph_free(g);
}

/* ---- conventions, pinned by hand ---- */

static void test_abs_at_zero(void **state) {
    (void)state;
    lc_graph *g;
    assert_ok(lc_graph_new(&g));
    int x, y;
    assert_ok(lc_input(g, "x", LC_F64, shape1(4), &x));
    assert_ok(lc_abs(g, x, &y));
    assert_ok(lc_graph_add_output(g, y));
    lc_tensor *xv = tensor_of(shape1(4), (double[]){-2, 0, 3, -0.0});
    lc_tensor *seed = tensor_of(shape1(4), (double[]){5, 5, 5, 5});
    lc_tensor *gx;
    backward(g, (const lc_tensor *const[]){xv}, 1, seed, &gx);
    assert_values_close(gx, (double[]){-5, 0, 5, 0}, 4, 0, 0);
    lc_tensor_free(gx);
    lc_tensor_free(xv);
    lc_tensor_free(seed);
    lc_graph_free(g);
}

/* pow'(b, e) = e·b^(e-1), 0 at b = 0 when e < 1; 1 at b = 0 when e = 1; 0 everywhere when e = 0. */
static void test_pow_conventions(void **state) {
    (void)state;
    struct {
        double e, x[3], want[3];
    } cases[] = {
        {0.5, {0, 4, 1}, {0, 0.25, 0.5}},
        {-1, {0, 2, -1}, {0, -0.25, -1}},
        {1, {0, -3, 2}, {1, 1, 1}},
        {0, {0, -3, 2}, {0, 0, 0}},
        {3, {-2, 0, 1}, {12, 0, 3}},
        {2, {0, -1.5, 3}, {0, -3, 6}},
        {1.5, {0, 4, 1}, {0, 3, 1.5}},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        lc_graph *g;
        assert_ok(lc_graph_new(&g));
        int x, y;
        assert_ok(lc_input(g, "x", LC_F64, shape1(3), &x));
        assert_ok(lc_pow(g, x, cases[k].e, &y));
        assert_ok(lc_graph_add_output(g, y));
        lc_tensor *xv = tensor_of(shape1(3), cases[k].x);
        lc_tensor *seed = tensor_of(shape1(3), (double[]){1, 1, 1});
        lc_tensor *gx;
        backward(g, (const lc_tensor *const[]){xv}, 1, seed, &gx);
        assert_values_close(gx, cases[k].want, 3, 1e-15, 0);
        lc_tensor_free(gx);
        lc_tensor_free(xv);
        lc_tensor_free(seed);
        lc_graph_free(g);
    }
}

/* sign has zero gradient: the input's gradient output is zeros of its shape. */
static void test_sign_zero_gradient(void **state) {
    (void)state;
    lc_graph *g, *ad;
    assert_ok(lc_graph_new(&g));
    int x, y;
    assert_ok(lc_input(g, "x", LC_F32, shape2(2, 3), &x));
    assert_ok(lc_sign(g, x, &y));
    assert_ok(lc_graph_add_output(g, y));
    assert_ok(lc_autodiff(g, NULL, 0, NULL, 0, &ad));
    const lc_node *gx = lc_graph_node(ad, lc_graph_output(ad, 1));
    assert_true(lc_shape_equal(&gx->shape, &lc_graph_node(g, x)->shape));
    assert_string_equal(gx->name, "grad.x");
    lc_tensor *xv = tensor_of(shape2(2, 3), (double[]){1, -2, 0, 3, 4, 5});
    lc_tensor *xf, *seed, *out[2];
    assert_ok(lc_tensor_new(LC_F32, xv->shape, &xf));
    for (int i = 0; i < 6; i++) lc_tensor_set(xf, i, lc_tensor_get(xv, i));
    assert_ok(lc_tensor_new(LC_F32, xv->shape, &seed));
    for (int i = 0; i < 6; i++) lc_tensor_set(seed, i, 1);
    assert_ok(lc_interp_run(ad, (const lc_tensor *const[]){xf, seed}, 2, out, 2));
    assert_int_equal(out[1]->dtype, LC_F32);
    assert_values_close(out[1], (double[]){0, 0, 0, 0, 0, 0}, 6, 0, 0);
    lc_tensor_free(out[0]);
    lc_tensor_free(out[1]);
    lc_tensor_free(xv);
    lc_tensor_free(xf);
    lc_tensor_free(seed);
    lc_graph_free(ad);
    lc_graph_free(g);
}

/* a + b with equal shapes passes the seed to both; the two gradient outputs are distinct
 * nodes (a graph lists a node once among its outputs) holding the same values. */
static void test_shared_gradient_node(void **state) {
    (void)state;
    lc_graph *g, *ad;
    assert_ok(lc_graph_new(&g));
    int a, b, y;
    assert_ok(lc_input(g, "a", LC_F64, shape1(3), &a));
    assert_ok(lc_input(g, "b", LC_F64, shape1(3), &b));
    assert_ok(lc_add(g, a, b, &y));
    assert_ok(lc_graph_add_output(g, y));
    assert_ok(lc_autodiff(g, NULL, 0, NULL, 0, &ad));
    assert_int_equal(lc_graph_output_count(ad), 3);
    assert_int_not_equal(lc_graph_output(ad, 1), lc_graph_output(ad, 2));
    assert_string_equal(lc_graph_node(ad, lc_graph_output(ad, 2))->name, "grad.b");
    lc_tensor *v = tensor_of(shape1(3), (double[]){1, 2, 3});
    lc_tensor *seed = tensor_of(shape1(3), (double[]){-1, 0.5, 7});
    lc_tensor *out[3];
    assert_ok(lc_interp_run(ad, (const lc_tensor *const[]){v, v, seed}, 3, out, 3));
    assert_values_close(out[1], (double[]){-1, 0.5, 7}, 3, 0, 0);
    assert_values_close(out[2], (double[]){-1, 0.5, 7}, 3, 0, 0);
    for (int i = 0; i < 3; i++) lc_tensor_free(out[i]);
    lc_tensor_free(v);
    lc_tensor_free(seed);
    lc_graph_free(ad);
    lc_graph_free(g);
}

/* Uses of one value accumulate: y = x·x + |x| → dy/dx = 2x + sign(x). */
static void test_accumulation(void **state) {
    (void)state;
    lc_graph *g, *ad;
    assert_ok(lc_graph_new(&g));
    int x, sq, ab, y;
    assert_ok(lc_input(g, "x", LC_F64, shape1(4), &x));
    assert_ok(lc_mul(g, x, x, &sq));
    assert_ok(lc_abs(g, x, &ab));
    assert_ok(lc_add(g, sq, ab, &y));
    assert_ok(lc_graph_add_output(g, y));
    lc_tensor *xv = tensor_of(shape1(4), (double[]){-2, 0, 0.5, 3});
    lc_tensor *seed = tensor_of(shape1(4), (double[]){1, 1, 1, 2});
    lc_tensor *gx;
    backward(g, (const lc_tensor *const[]){xv}, 1, seed, &gx);
    assert_values_close(gx, (double[]){-5, 0, 2, 14}, 4, 1e-15, 0);
    /* the summed gradient of x is named after x, its shares "grad.x.1" … */
    assert_ok(lc_autodiff(g, NULL, 0, NULL, 0, &ad));
    const lc_node *total = lc_graph_node(ad, lc_graph_output(ad, 1));
    assert_int_equal(total->op, LC_OP_ADD);
    assert_string_equal(total->name, "grad.x");
    lc_graph_free(ad);
    lc_tensor_free(gx);
    lc_tensor_free(xv);
    lc_tensor_free(seed);
    lc_graph_free(g);
}

/* Chosen outputs and inputs; constants and unrequested inputs get no gradient; an input no
 * output depends on gets zeros. */
static void test_selected_outputs_and_inputs(void **state) {
    (void)state;
    lc_graph *g, *ad;
    assert_ok(lc_graph_new(&g));
    int a, b, u, k, y1, y2;
    assert_ok(lc_input(g, "a", LC_F64, shape1(2), &a));
    assert_ok(lc_input(g, "b", LC_F64, shape1(2), &b));
    assert_ok(lc_input(g, "unused", LC_F64, shape2(2, 2), &u));
    assert_ok(lc_scalar(g, LC_F64, 3.0, &k));
    assert_ok(lc_mul(g, a, k, &y1));  /* y1 = 3a */
    assert_ok(lc_mul(g, a, b, &y2));  /* y2 = a·b */
    assert_ok(lc_graph_add_output(g, y1));
    assert_ok(lc_graph_add_output(g, y2));
    /* d y2 / d(b, unused, a) */
    assert_ok(lc_autodiff(g, (int[]){y2}, 1, (int[]){b, u, a}, 3, &ad));
    assert_ok(lc_graph_verify(ad));
    assert_int_equal(lc_graph_input_count(ad), 4);
    assert_string_equal(lc_graph_node(ad, lc_graph_input(ad, 3))->name, "grad.%5");
    assert_int_equal(lc_graph_output_count(ad), 5);
    lc_tensor *av = tensor_of(shape1(2), (double[]){2, -3});
    lc_tensor *bv = tensor_of(shape1(2), (double[]){5, 7});
    lc_tensor *uv = tensor_of(shape2(2, 2), (double[]){1, 2, 3, 4});
    lc_tensor *seed = tensor_of(shape1(2), (double[]){1, 10});
    lc_tensor *out[5];
    assert_ok(lc_interp_run(ad, (const lc_tensor *const[]){av, bv, uv, seed}, 4, out, 5));
    assert_values_close(out[2], (double[]){2, -30}, 2, 0, 0);     /* grad b = seed·a */
    assert_values_close(out[3], (double[]){0, 0, 0, 0}, 4, 0, 0); /* grad unused */
    assert_true(lc_shape_equal(&out[3]->shape, &uv->shape));
    assert_values_close(out[4], (double[]){5, 70}, 2, 0, 0);      /* grad a: y1 not requested */
    for (int i = 0; i < 5; i++) lc_tensor_free(out[i]);
    lc_tensor_free(av);
    lc_tensor_free(bv);
    lc_tensor_free(uv);
    lc_tensor_free(seed);
    lc_graph_free(ad);
    /* an output that is itself an input: its gradient is the seed */
    assert_ok(lc_autodiff(g, (int[]){a}, 1, (int[]){a}, 1, &ad));
    assert_int_equal(lc_graph_node(ad, lc_graph_output(ad, 2))->op, LC_OP_INPUT);
    lc_graph_free(ad);
    lc_graph_free(g);
}

static void test_bad_requests(void **state) {
    (void)state;
    lc_graph *g, *ad = (lc_graph *)1;
    assert_ok(lc_graph_new(&g));
    int x, y;
    assert_ok(lc_input(g, "x", LC_F64, shape1(2), &x));
    assert_ok(lc_abs(g, x, &y));
    assert_ok(lc_graph_add_output(g, y));
    assert_fails(lc_autodiff(g, (int[]){7}, 1, NULL, 0, &ad), LC_ERR_INVALID_ARG,
                 "autodiff: output 0 must name a node (0..1), got 7");
    assert_null(ad);
    assert_fails(lc_autodiff(g, (int[]){y, y}, 2, NULL, 0, &ad), LC_ERR_INVALID_ARG, "listed twice");
    assert_fails(lc_autodiff(g, NULL, 0, (int[]){y}, 1, &ad), LC_ERR_INVALID_ARG,
                 "node %1 (abs) is not an input");
    assert_fails(lc_autodiff(g, NULL, 0, (int[]){x, x}, 2, &ad), LC_ERR_INVALID_ARG,
                 "input %0 is listed twice");
    assert_fails(lc_autodiff(g, NULL, 0, (int[]){-1}, 1, &ad), LC_ERR_INVALID_ARG, "got -1");
    assert_fails(lc_autodiff(g, NULL, 2, NULL, 0, &ad), LC_ERR_INVALID_ARG, "needs its array");
    assert_fails(lc_autodiff(g, NULL, -1, NULL, 0, &ad), LC_ERR_INVALID_ARG, "must be >= 0");
    lc_graph_free(g);
}

/* ---- every op against central differences ---- */

static void check_graph(const lc_graph *g, lc_tensor **x, int n, const char *what) {
    gradcheck_report rep;
    assert_gradcheck(gradcheck_graph(g, (const lc_tensor *const *)x, NULL, &rep), rep, what);
    assert_true(rep.checked > 0);
    for (int i = 0; i < n; i++) lc_tensor_free(x[i]);
}

static void test_gradcheck_unary_ops(void **state) {
    (void)state;
    test_rng r = test_rng_seeded(11);
    for (int trial = 0; trial < 30; trial++) {
        lc_shape s = test_shape3(test_rng_int(&r, 1, 2), test_rng_int(&r, 1, 3), test_rng_int(&r, 1, 7));
        lc_graph *g;
        assert_ok(lc_graph_new(&g));
        int x, y, p;
        assert_ok(lc_input(g, "x", LC_F32, s, &x));
        const double exps[] = {0.5, 1, 1.5, 2, 2.5, 3, 7, -1, -0.5, 0};
        double e = exps[trial % 10];
        assert_ok(lc_abs(g, x, &y));
        /* |x|^e: every pow rule; 0^e < 0 is 0 with zero_pole, so F stays finite */
        assert_ok(e < 0 ? lc_pow_zero_pole(g, y, e, &p) : lc_pow(g, y, e, &p));
        assert_ok(lc_graph_add_output(g, p));
        assert_ok(lc_sign(g, x, &y));
        assert_ok(lc_graph_add_output(g, y));
        if (e >= 1 && fmod(e, 1) == 0) {                        /* pow of a negative base */
            assert_ok(lc_pow(g, x, e, &y));
            assert_ok(lc_graph_add_output(g, y));
        }
        lc_tensor *xv = test_random_tensor(&r, LC_F32, s, 2.0);
        char what[64];
        snprintf(what, sizeof what, "unary trial %d (e = %g)", trial, e);
        check_graph(g, &xv, 1, what);
        lc_graph_free(g);
    }
}

static void test_gradcheck_reductions_and_layout(void **state) {
    (void)state;
    test_rng r = test_rng_seeded(12);
    for (int trial = 0; trial < 40; trial++) {
        lc_shape s = test_shape3(test_rng_int(&r, 1, 3), test_rng_int(&r, 1, 3), test_rng_int(&r, 1, 9));
        int dim = (int)test_rng_int(&r, 0, 2);
        lc_graph *g;
        assert_ok(lc_graph_new(&g));
        int x, a, b, c, e;
        assert_ok(lc_input(g, "x", LC_F64, s, &x));
        assert_ok(lc_sum(g, x, dim, &a));
        assert_ok(lc_mean(g, x, dim, &b));
        assert_ok(lc_mul(g, a, b, &c)); /* nonlinear, so each rule's scale matters */
        assert_ok(lc_graph_add_output(g, c));
        assert_ok(lc_expand(g, x, (int)test_rng_int(&r, 0, 3), test_rng_int(&r, 1, 3), &e));
        assert_ok(lc_pow(g, e, 2, &e));
        assert_ok(lc_graph_add_output(g, e));
        /* unfold then fold: a round trip through both window rules */
        int64_t len = s.dim[2], size = test_rng_int(&r, 1, 4), step = test_rng_int(&r, 1, 4);
        int64_t lo = test_rng_int(&r, 0, 2), hi = test_rng_int(&r, 0, 3);
        if (len + lo + hi >= size) {
            int u, f, q;
            assert_ok(lc_unfold(g, x, 2, size, step, lo, hi, &u));
            assert_ok(lc_pow(g, u, 3, &q));
            assert_ok(lc_graph_add_output(g, q));
            assert_ok(lc_fold(g, q, 2, size, step, lo, hi, len, &f));
            assert_ok(lc_mul(g, f, x, &f));
            assert_ok(lc_graph_add_output(g, f));
        }
        lc_tensor *xv = test_random_tensor(&r, LC_F64, s, 1.5);
        char what[96];
        snprintf(what, sizeof what, "trial %d: dim %d, unfold size %lld step %lld pad %lld/%lld",
                 trial, dim, (long long)size, (long long)step, (long long)lo, (long long)hi);
        gradcheck_options opt = gradcheck_defaults();
        opt.kink = 0; /* smooth everywhere */
        gradcheck_report rep;
        assert_gradcheck(gradcheck_graph(g, (const lc_tensor *const[]){xv}, &opt, &rep), rep, what);
        assert_int_equal(rep.skipped, 0);
        lc_tensor_free(xv);
        lc_graph_free(g);
    }
}

/* mul, add, div with numpy broadcasting in every form: leading axes, size-1 axes, scalars,
 * on either side. */
static void test_gradcheck_broadcast(void **state) {
    (void)state;
    test_rng r = test_rng_seeded(13);
    struct {
        int ra, rb;
        int64_t a[3], b[3];
    } shapes[] = {
        {3, 3, {2, 3, 4}, {2, 3, 4}}, {3, 1, {2, 3, 4}, {4}},       {1, 3, {4}, {2, 3, 4}},
        {3, 0, {2, 3, 4}, {0}},       {0, 2, {0}, {3, 4}},          {3, 2, {2, 3, 4}, {3, 1}},
        {2, 3, {1, 4}, {2, 3, 1}},    {3, 3, {2, 1, 4}, {1, 3, 1}}, {2, 2, {3, 1}, {1, 4}},
    };
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++)
        for (int op = 0; op < 3; op++) {
            lc_graph *g;
            assert_ok(lc_graph_new(&g));
            lc_shape sa = lc_shape_make(shapes[k].ra, shapes[k].a), sb = lc_shape_make(shapes[k].rb, shapes[k].b);
            int a, b, y, y2;
            assert_ok(lc_input(g, "a", LC_F64, sa, &a));
            assert_ok(lc_input(g, "b", LC_F64, sb, &b));
            lc_status st = op == 0 ? lc_mul(g, a, b, &y) : op == 1 ? lc_add(g, a, b, &y) : lc_div(g, a, b, &y);
            assert_ok(st);
            assert_ok(lc_pow(g, y, 2, &y2)); /* so the add rule sees a non-constant gradient */
            assert_ok(lc_graph_add_output(g, y2));
            lc_tensor *x[2] = {uniform(&r, sa, -2, 2), uniform(&r, sb, 0.5, 2)};
            char what[64];
            snprintf(what, sizeof what, "broadcast case %zu, op %d", k, op);
            check_graph(g, x, 2, what);
            lc_graph_free(g);
        }
}

/* div's safe flag: at a = b = 0 the forward is 0, the gradient w.r.t. b is 0, and the one
 * w.r.t. a is gy / 0 (0 for gy = 0, inf otherwise: no 0·inf is ever formed). */
static void test_div_safe_zero_over_zero(void **state) {
    (void)state;
    lc_graph *g;
    assert_ok(lc_graph_new(&g));
    int a, b, y;
    assert_ok(lc_input(g, "a", LC_F64, shape1(3), &a));
    assert_ok(lc_input(g, "b", LC_F64, shape1(3), &b));
    assert_ok(lc_div_safe(g, a, b, &y));
    assert_ok(lc_graph_add_output(g, y));
    lc_tensor *av = tensor_of(shape1(3), (double[]){0, 0, 3});
    lc_tensor *bv = tensor_of(shape1(3), (double[]){0, 0, 2});
    lc_tensor *seed = tensor_of(shape1(3), (double[]){0, 1, 1});
    lc_tensor *grads[2];
    backward(g, (const lc_tensor *const[]){av, bv}, 2, seed, grads);
    assert_values_close(grads[0], (double[]){0, INFINITY, 0.5}, 3, 0, 0);
    assert_values_close(grads[1], (double[]){0, 0, -0.75}, 3, 0, 0);
    lc_tensor_free(grads[0]);
    lc_tensor_free(grads[1]);
    lc_tensor_free(av);
    lc_tensor_free(bv);
    lc_tensor_free(seed);
    lc_graph_free(g);
}

/* The pass's output is an ordinary graph: differentiating it again (second order, through the
 * rules' own muls, pows, divs, expands and folds) must pass gradcheck too. */
static void test_second_order(void **state) {
    (void)state;
    test_rng r = test_rng_seeded(14);
    for (int trial = 0; trial < 12; trial++) {
        lc_graph *g, *ad;
        assert_ok(lc_graph_new(&g));
        int x, u, a, p, s, y;
        lc_shape shp = test_shape3(1, 2, test_rng_int(&r, 4, 9));
        assert_ok(lc_input(g, "x", LC_F64, shp, &x));
        assert_ok(lc_unfold(g, x, 2, 3, test_rng_int(&r, 1, 3), 1, 1, &u));
        assert_ok(lc_abs(g, u, &a));
        assert_ok(lc_pow(g, a, 1.5 + trial % 3, &p));
        assert_ok(lc_sum(g, p, 3, &s));
        assert_ok(lc_pow(g, s, 1.0 / (1.5 + trial % 3), &y));
        assert_ok(lc_graph_add_output(g, y));
        assert_ok(lc_autodiff(g, NULL, 0, NULL, 0, &ad));
        lc_tensor *in[2] = {uniform(&r, shp, 0.5, 2), NULL};
        in[1] = uniform(&r, lc_graph_node(g, y)->shape, -1, 1);
        for (int64_t i = 0; i < lc_tensor_numel(in[0]); i++)
            if (i % 2) lc_tensor_set(in[0], i, -lc_tensor_get(in[0], i));
        char what[48];
        snprintf(what, sizeof what, "second order, trial %d", trial);
        check_graph(ad, in, 2, what);
        lc_graph_free(ad);
        lc_graph_free(g);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_and_names),
        cmocka_unit_test(test_registered_pass),
        cmocka_unit_test(test_abs_at_zero),
        cmocka_unit_test(test_pow_conventions),
        cmocka_unit_test(test_sign_zero_gradient),
        cmocka_unit_test(test_shared_gradient_node),
        cmocka_unit_test(test_accumulation),
        cmocka_unit_test(test_selected_outputs_and_inputs),
        cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_gradcheck_unary_ops),
        cmocka_unit_test(test_gradcheck_reductions_and_layout),
        cmocka_unit_test(test_gradcheck_broadcast),
        cmocka_unit_test(test_div_safe_zero_over_zero),
        cmocka_unit_test(test_second_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
