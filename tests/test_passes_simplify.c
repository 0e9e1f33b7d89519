/* simplify: every rule fires on its pattern and not on its near misses; before and after give
 * the same values through the interpreter (random inputs, and the awkward points 0, -0, inf,
 * NaN); names and outputs survive; a second run changes nothing; one result is pinned as text. */
#include "test_passes_common.h"

#include "passes/simplify.h"

static lc_graph *new_graph(void) {
    lc_graph *g;
    assert_ok(lc_graph_new(&g));
    return g;
}

/* Inputs holding every awkward value, for rules that must stay exact there. */
static const double awkward[] = {0.0, -0.0, INFINITY, -INFINITY, NAN, 2.0, -3.0, 0.5, -0.25, 1.0, -1.0, 7.0};
enum { N_AWKWARD = sizeof awkward / sizeof awkward[0] };

static void assert_same_on_awkward(const lc_graph *a, const lc_graph *b) {
    int n_in = lc_graph_input_count(a);
    lc_tensor *in[MAX_TEST_IO], *oa[MAX_TEST_IO], *ob[MAX_TEST_IO];
    for (int k = 0; k < n_in; k++) {
        double v[N_AWKWARD];
        for (int i = 0; i < N_AWKWARD; i++) v[i] = awkward[(i + 5 * k) % N_AWKWARD]; /* mix pairs */
        assert_ok(lc_tensor_from_doubles(LC_F64, shape1(N_AWKWARD), v, &in[k]));
    }
    int n_out = eval_graph(a, in, oa);
    eval_graph(b, in, ob);
    for (int k = 0; k < n_out; k++) assert_tensor_close(ob[k], oa[k], 1e-12, 0);
    free_tensors(in, n_in);
    free_tensors(oa, n_out);
    free_tensors(ob, n_out);
}

/* Simplify g with the checks of run_checked; values must agree on random inputs and, where
 * the inputs are vectors of N_AWKWARD, exactly on the awkward points. Returns the result. */
static lc_graph *simplify_checked(const lc_graph *g) {
    lc_graph *s = run_checked("simplify", g);
    assert_same_values(g, s, 1, 5, 3.0, 1e-12, 1e-12);
    bool awkward_inputs = true;
    for (int k = 0; k < lc_graph_input_count(g); k++) {
        const lc_shape *sh = &lc_graph_node(g, lc_graph_input(g, k))->shape;
        awkward_inputs &= sh->rank == 1 && sh->dim[0] == N_AWKWARD;
    }
    if (awkward_inputs) assert_same_on_awkward(g, s);
    return s;
}

static const lc_node *output_node(const lc_graph *g, int k) {
    return lc_graph_node(g, lc_graph_output(g, k));
}

/* ---- pow(x, 1) ---- */

static void test_pow_one(void **state) {
    (void)state;
    lc_graph *g = new_graph();
    int x, p, a;
    assert_ok(lc_input(g, "x", LC_F64, shape1(N_AWKWARD), &x));
    assert_ok(lc_pow(g, x, 1.0, &p));
    assert_ok(lc_abs(g, p, &a));
    assert_ok(lc_graph_set_name(g, a, "a"));
    assert_ok(lc_graph_add_output(g, a));
    lc_graph *s = simplify_checked(g);
    const lc_node *out = output_node(s, 0);
    assert_int_equal(out->op, LC_OP_ABS);
    assert_string_equal(out->name, "a");
    assert_int_equal(lc_graph_node(s, out->inputs[0])->op, LC_OP_INPUT); /* reads x itself */
    lc_graph_free(s);
    lc_graph_free(g);
}

/* pow(x, 1) as an output becomes the input itself; as a second output next to x it must stay
 * a distinct node (an output names a node once), and x keeps its place. */
static void test_pow_one_outputs(void **state) {
    (void)state;
    lc_graph *g = new_graph();
    int x, p;
    assert_ok(lc_input(g, "x", LC_F64, shape1(N_AWKWARD), &x));
    assert_ok(lc_pow(g, x, 1.0, &p));
    assert_ok(lc_graph_add_output(g, p));
    lc_graph *s = simplify_checked(g);
    assert_int_equal(lc_graph_output(s, 0), lc_graph_input(s, 0));
    lc_graph_free(s);

    assert_ok(lc_graph_add_output(g, x)); /* outputs: pow(x, 1), x */
    s = simplify_checked(g);
    assert_int_equal(lc_graph_input_count(s), 1);
    assert_int_equal(lc_graph_output(s, 1), lc_graph_input(s, 0));
    assert_int_equal(output_node(s, 0)->op, LC_OP_POW);
    lc_graph_free(s);
    lc_graph_free(g);
}

/* ---- pow(pow(x, a), b) ---- */

typedef struct pow_case {
    const char *what;
    bool nonneg_base;     /* x = abs(input) instead of the signed input */
    double a;
    int64_t zp_a;
    double b;
    int64_t zp_b;
    /* expected: LC_OP_COUNT for "does not fold" (the outer pow stays over the inner one);
     * else the op of the result and, for a pow, its exponent, zero_pole and base op */
    lc_op result;
    double exponent;
    int64_t zero_pole;
    lc_op base;
} pow_case;

static const pow_case pow_cases[] = {
    {"|x|^3^(1/3) = |x|", true, 3, 0, 1.0 / 3.0, 0, LC_OP_ABS, 0, 0, LC_OP_COUNT},
    {"|x|^2.5^2 = |x|^5", true, 2.5, 0, 2, 0, LC_OP_POW, 5, 0, LC_OP_ABS},
    {"|x|^0.5^-3 keeps the outer pole", true, 0.5, 0, -3, 1, LC_OP_POW, -1.5, 1, LC_OP_ABS},
    {"x^2^0.5 = |x|", false, 2, 0, 0.5, 0, LC_OP_ABS, 0, 0, LC_OP_COUNT},
    {"x^2^1.5 = |x|^3", false, 2, 0, 1.5, 0, LC_OP_POW, 3, 0, LC_OP_ABS},
    {"x^3^2 = x^6", false, 3, 0, 2, 0, LC_OP_POW, 6, 0, LC_OP_INPUT},
    {"x^3^-1 = x^-3", false, 3, 0, -1, 0, LC_OP_POW, -3, 0, LC_OP_INPUT},
    {"x^-1^-1 = x^1 = x", false, -1, 0, -1, 0, LC_OP_INPUT, 0, 0, LC_OP_COUNT},
    {"|x|^-1zp^2zp: poles agree", true, -1, 1, 2, 1, LC_OP_POW, -2, 1, LC_OP_ABS},
    {"x^0^5 = x^0", false, 0, 0, 5, 0, LC_OP_POW, 0, 0, LC_OP_INPUT},
    /* near misses */
    {"x^3^(1/3) of a signed x stays (NaN for x < 0)", false, 3, 0, 1.0 / 3.0, 0, LC_OP_COUNT, 0, 0, LC_OP_COUNT},
    {"x^0.5^2 of a signed x stays", false, 0.5, 0, 2, 0, LC_OP_COUNT, 0, 0, LC_OP_COUNT},
    {"x^3^0.5 of a signed x stays", false, 3, 0, 0.5, 0, LC_OP_COUNT, 0, 0, LC_OP_COUNT},
    {"|x|^-1zp^-1: poles differ", true, -1, 1, -1, 0, LC_OP_COUNT, 0, 0, LC_OP_COUNT},
    {"|x|^-1^2zp: poles differ", true, -1, 0, 2, 1, LC_OP_COUNT, 0, 0, LC_OP_COUNT},
    {"|x|^-1zp^-2zp: inf^2 vs 0^-2", true, -1, 1, -2, 1, LC_OP_COUNT, 0, 0, LC_OP_COUNT},
};

static void test_pow_pow(void **state) {
    (void)state;
    for (size_t c = 0; c < sizeof pow_cases / sizeof pow_cases[0]; c++) {
        const pow_case *pc = &pow_cases[c];
        lc_graph *g = new_graph();
        int x, base, inner, outer;
        int64_t zp_a[] = {pc->zp_a}, zp_b[] = {pc->zp_b};
        assert_ok(lc_input(g, "x", LC_F64, shape1(N_AWKWARD), &x));
        base = x;
        if (pc->nonneg_base) assert_ok(lc_abs(g, x, &base));
        assert_ok(lc_graph_append(g, LC_OP_POW, &base, zp_a, pc->a, LC_F64, NULL, NULL, &inner));
        assert_ok(lc_graph_append(g, LC_OP_POW, &inner, zp_b, pc->b, LC_F64, NULL, NULL, &outer));
        assert_ok(lc_graph_set_name(g, outer, "outer"));
        assert_ok(lc_graph_add_output(g, outer));
        lc_graph *s = simplify_checked(g);
        const lc_node *out = output_node(s, 0);
        if (pc->result == LC_OP_COUNT) {
            if (out->op != LC_OP_POW || lc_graph_node(s, out->inputs[0])->op != LC_OP_POW)
                fail_msg("%s: folded", pc->what);
        } else {
            if (out->op != pc->result) fail_msg("%s: result is %s", pc->what, lc_op_get_info(out->op)->name);
            if (pc->result == LC_OP_POW) {
                if (out->real_attr != pc->exponent || out->attr[LC_POW_ZERO_POLE] != pc->zero_pole ||
                    lc_graph_node(s, out->inputs[0])->op != pc->base)
                    fail_msg("%s: got pow(%s, %g) zero_pole=%d", pc->what,
                             lc_op_get_info(lc_graph_node(s, out->inputs[0])->op)->name,
                             out->real_attr, (int)out->attr[LC_POW_ZERO_POLE]);
                assert_string_equal(out->name, "outer"); /* the rebuilt node carries the name */
            }
        }
        lc_graph_free(s);
        lc_graph_free(g);
    }
}

/* Nodes built on the way to a result are named after the node they replace. */
static void test_pow_pow_names(void **state) {
    (void)state;
    lc_graph *g = new_graph();
    int x, sq, r;
    assert_ok(lc_input(g, "x", LC_F64, shape1(4), &x));
    assert_ok(lc_pow(g, x, 2, &sq));
    assert_ok(lc_pow(g, sq, 1.5, &r));
    assert_ok(lc_graph_set_name(g, r, "cube"));
    assert_ok(lc_graph_add_output(g, r));
    lc_graph *s = simplify_checked(g);
    const lc_node *out = output_node(s, 0);
    assert_string_equal(out->name, "cube");
    assert_string_equal(lc_graph_node(s, out->inputs[0])->name, "cube.abs");
    lc_graph_free(s);
    lc_graph_free(g);
}

/* ---- abs, sign ---- */

static void test_abs_of_nonnegative(void **state) {
    (void)state;
    lc_graph *g = new_graph();
    int x, a, aa, sq, asq, ax, sg, ss, n;
    assert_ok(lc_input(g, "x", LC_F64, shape1(N_AWKWARD), &x));
    assert_ok(lc_abs(g, x, &a));
    assert_ok(lc_abs(g, a, &aa));       /* abs(abs x) -> abs x */
    assert_ok(lc_pow(g, x, 2, &sq));
    assert_ok(lc_abs(g, sq, &asq));     /* abs(x^2) -> x^2 */
    assert_ok(lc_abs(g, x, &ax));       /* abs of a signed x stays */
    assert_ok(lc_sign(g, x, &sg));
    assert_ok(lc_sign(g, sg, &ss));     /* sign(sign x) -> sign x */
    assert_ok(lc_pow(g, x, 3, &n));
    assert_ok(lc_abs(g, n, &n));        /* x^3 may be negative: stays */
    int fr, afr;
    assert_ok(lc_pow(g, x, 0.5, &fr));
    assert_ok(lc_abs(g, fr, &afr));     /* x^0.5 is >= 0 or NaN: abs goes */
    int outs[] = {aa, asq, ax, ss, n, afr};
    for (int k = 0; k < 6; k++) assert_ok(lc_graph_add_output(g, outs[k]));
    lc_graph *s = simplify_checked(g);
    assert_int_equal(output_node(s, 0)->op, LC_OP_ABS);
    assert_int_equal(lc_graph_node(s, output_node(s, 0)->inputs[0])->op, LC_OP_INPUT);
    assert_int_equal(output_node(s, 1)->op, LC_OP_POW);
    assert_int_equal(output_node(s, 2)->op, LC_OP_ABS);
    assert_int_equal(output_node(s, 3)->op, LC_OP_SIGN);
    assert_int_equal(lc_graph_node(s, output_node(s, 3)->inputs[0])->op, LC_OP_INPUT);
    assert_int_equal(output_node(s, 4)->op, LC_OP_ABS);
    assert_int_equal(output_node(s, 5)->op, LC_OP_POW);
    lc_graph_free(s);
    lc_graph_free(g);
}

/* A constant holding -0 is not "non-negative": abs(-0) is +0, and 1/+0 differs from 1/-0. */
static void test_abs_of_negative_zero_constant(void **state) {
    (void)state;
    lc_graph *g = new_graph();
    int x, c, a, d;
    double data[] = {1.0, -0.0};
    assert_ok(lc_input(g, "x", LC_F64, shape1(2), &x));
    assert_ok(lc_constant(g, LC_F64, shape1(2), data, &c));
    assert_ok(lc_abs(g, c, &a));
    assert_ok(lc_div(g, x, a, &d));
    assert_ok(lc_graph_add_output(g, d));
    lc_graph *s = simplify_checked(g);
    assert_int_equal(count_op(s, LC_OP_ABS), 1);
    lc_graph_free(s);
    lc_graph_free(g);
}

static void test_sign_times_abs(void **state) {
    (void)state;
    lc_graph *g = new_graph();
    int x, y, sx, ax, ay, m1, m2, m3;
    assert_ok(lc_input(g, "x", LC_F64, shape1(N_AWKWARD), &x));
    assert_ok(lc_input(g, "y", LC_F64, shape1(N_AWKWARD), &y));
    assert_ok(lc_sign(g, x, &sx));
    assert_ok(lc_abs(g, x, &ax));
    assert_ok(lc_abs(g, y, &ay));
    assert_ok(lc_mul(g, sx, ax, &m1)); /* -> x */
    assert_ok(lc_mul(g, ax, sx, &m2)); /* -> x, either order */
    assert_ok(lc_mul(g, sx, ay, &m3)); /* sign(x)·abs(y): stays */
    int sum;
    assert_ok(lc_add(g, m1, m2, &sum));
    assert_ok(lc_graph_add_output(g, sum));
    assert_ok(lc_graph_add_output(g, m3));
    lc_graph *s = simplify_checked(g);
    const lc_node *add = output_node(s, 0);
    assert_int_equal(add->inputs[0], lc_graph_input(s, 0));
    assert_int_equal(add->inputs[1], lc_graph_input(s, 0));
    assert_int_equal(output_node(s, 1)->op, LC_OP_MUL);
    lc_graph_free(s);
    lc_graph_free(g);
}

/* ---- mul by 1, constant folding ---- */

static void test_mul_by_one(void **state) {
    (void)state;
    lc_graph *g = new_graph();
    int x, xs, one, one11, two, m1, m2, m3, m4;
    double ones[] = {1, 1};
    int64_t d11[] = {1, 1};
    assert_ok(lc_input(g, "x", LC_F64, shape1(N_AWKWARD), &x));
    assert_ok(lc_input(g, "xs", LC_F64, (lc_shape){0}, &xs));
    assert_ok(lc_scalar(g, LC_F64, 1.0, &one));
    assert_ok(lc_constant(g, LC_F64, lc_shape_make(2, d11), ones, &one11));
    assert_ok(lc_scalar(g, LC_F64, 2.0, &two));
    assert_ok(lc_mul(g, x, one, &m1));     /* -> x */
    assert_ok(lc_mul(g, one, m1, &m2));    /* -> x */
    assert_ok(lc_mul(g, xs, one11, &m3));  /* widens a scalar to [1,1]: stays */
    assert_ok(lc_mul(g, m2, two, &m4));    /* 2·x stays */
    int outs[] = {m2, m3, m4};
    for (int k = 0; k < 3; k++) assert_ok(lc_graph_add_output(g, outs[k]));
    lc_graph *s = simplify_checked(g);
    assert_int_equal(lc_graph_output(s, 0), lc_graph_input(s, 0));
    assert_int_equal(output_node(s, 1)->op, LC_OP_MUL);
    assert_int_equal(output_node(s, 1)->shape.rank, 2);
    assert_int_equal(output_node(s, 2)->op, LC_OP_MUL);
    assert_int_equal(output_node(s, 2)->inputs[0], lc_graph_input(s, 0));
    lc_graph_free(s);
    lc_graph_free(g);
}

/* An f32 constant 1 + 2^-30 is 1 in f32: the graph computes with 1, so the fold applies. */
static void test_mul_by_one_f32_rounding(void **state) {
    (void)state;
    lc_graph *g = new_graph();
    int x, c, m;
    assert_ok(lc_input(g, "x", LC_F32, shape1(3), &x));
    assert_ok(lc_scalar(g, LC_F32, 1.0 + 0x1p-30, &c));
    assert_ok(lc_mul(g, x, c, &m));
    assert_ok(lc_graph_add_output(g, m));
    lc_graph *s = run_checked("simplify", g);
    assert_int_equal(lc_graph_output(s, 0), lc_graph_input(s, 0));
    lc_graph_free(s);
    lc_graph_free(g);
}

static void test_constant_folding(void **state) {
    (void)state;
    lc_graph *g = new_graph();
    int x, two, half, four, zero, prod, m, sq, sum, q, zz;
    assert_ok(lc_input(g, "x", LC_F64, shape1(N_AWKWARD), &x));
    assert_ok(lc_scalar(g, LC_F64, 2.0, &two));
    assert_ok(lc_scalar(g, LC_F64, 0.5, &half));
    assert_ok(lc_scalar(g, LC_F64, 4.0, &four));
    assert_ok(lc_scalar(g, LC_F64, 0.0, &zero));
    assert_ok(lc_mul(g, two, half, &prod));   /* 1 */
    assert_ok(lc_mul(g, x, prod, &m));        /* x · 1 -> x */
    assert_ok(lc_pow(g, four, 0.5, &sq));     /* 2 */
    assert_ok(lc_add(g, sq, half, &sum));     /* 2.5 */
    assert_ok(lc_div(g, sum, four, &q));      /* 0.625 */
    assert_ok(lc_div_safe(g, zero, zero, &zz)); /* 0/0 = 0 when safe */
    int outs[] = {m, q, zz};
    for (int k = 0; k < 3; k++) assert_ok(lc_graph_add_output(g, outs[k]));
    lc_graph *s = simplify_checked(g);
    assert_int_equal(lc_graph_output(s, 0), lc_graph_input(s, 0));
    const lc_node *c = output_node(s, 1);
    assert_int_equal(c->op, LC_OP_CONSTANT);
    assert_true(c->data[0] == 0.625);
    c = output_node(s, 2);
    assert_int_equal(c->op, LC_OP_CONSTANT);
    assert_true(c->data[0] == 0.0);
    lc_graph_free(s);
    lc_graph_free(g);
}

/* Folding a constant op keeps the broadcast shape: [1] · [] is a [1]. */
static void test_constant_folding_shape(void **state) {
    (void)state;
    lc_graph *g = new_graph();
    int x, a, b, m, y;
    double three = 3;
    assert_ok(lc_input(g, "x", LC_F64, shape1(4), &x));
    assert_ok(lc_constant(g, LC_F64, shape1(1), &three, &a));
    assert_ok(lc_scalar(g, LC_F64, -2.0, &b));
    assert_ok(lc_mul(g, a, b, &m));
    assert_ok(lc_graph_add_output(g, m));
    assert_ok(lc_mul(g, x, m, &y));
    assert_ok(lc_graph_add_output(g, y));
    lc_graph *s = simplify_checked(g);
    const lc_node *c = output_node(s, 0);
    assert_int_equal(c->op, LC_OP_CONSTANT);
    assert_int_equal(c->shape.rank, 1);
    assert_true(c->data[0] == -6.0);
    lc_graph_free(s);
    lc_graph_free(g);
}

/* One-element constants anywhere in a product fold into one; when that is 1 it goes. */
static void test_product_constants(void **state) {
    (void)state;
    lc_graph *g = new_graph();
    int x, two, half, three, third, m1, m2, m3, m4, m5;
    assert_ok(lc_input(g, "x", LC_F32, shape1(N_AWKWARD), &x));
    assert_ok(lc_scalar(g, LC_F32, 2.0, &two));
    assert_ok(lc_scalar(g, LC_F32, 0.5, &half));
    assert_ok(lc_scalar(g, LC_F32, 3.0, &three));
    assert_ok(lc_scalar(g, LC_F32, 1.0 / 3.0, &third));
    assert_ok(lc_mul(g, x, two, &m1));
    assert_ok(lc_mul(g, m1, half, &m2));   /* x·2·0.5 -> x */
    assert_ok(lc_mul(g, two, x, &m3));
    assert_ok(lc_mul(g, three, m3, &m4)); /* 3·(2·x) -> x·6 */
    int t;
    assert_ok(lc_mul(g, third, x, &t));
    assert_ok(lc_mul(g, t, three, &m5));   /* (1/3 in f32)·x·3 -> x: the product is 1 in f32 */
    int outs[] = {m2, m4, m5};
    for (int k = 0; k < 3; k++) assert_ok(lc_graph_add_output(g, outs[k]));
    lc_graph *s = run_checked("simplify", g);
    assert_same_values(g, s, 2, 4, 3.0, 1e-7, 1e-7);
    assert_int_equal(lc_graph_output(s, 0), lc_graph_input(s, 0));
    const lc_node *six = output_node(s, 1);
    assert_int_equal(six->op, LC_OP_MUL);
    assert_int_equal(six->inputs[0], lc_graph_input(s, 0));
    assert_true(lc_graph_node(s, six->inputs[1])->data[0] == 6.0);
    /* output 2 is x too, but x is output 0 already: it keeps a node of its own */
    assert_int_not_equal(lc_graph_output(s, 2), lc_graph_input(s, 0));
    lc_graph_free(s);
    lc_graph_free(g);
}

/* Only finite nonzero constants gather, and the other factors keep their association, so no
 * product forms that the graph lacked. a · (b · 0) · 6 was rewritten into (a · b) · 0: NaN once
 * a · b overflows, where the graph gives 0 (fuzz finding simplify_reassociates_mul_by_zero).
 * a · (b · c) · 2 · 3 becomes (a · (b · c)) · 6, not ((a · b) · c) · 6: in doubles (the JIT), at
 * a = inf with b · c underflowing to 0 the graph gives NaN, and (inf · b) · c would give inf. Values pinned by
 * hand through the interpreter, before and after the pass. */
static void test_product_zero_and_association(void **state) {
    (void)state;
    lc_graph *g = new_graph();
    int a, b, c, zero, six, two, three, z1, z2, z3, p1, p2, p3, p4;
    assert_ok(lc_input(g, "a", LC_F64, shape1(3), &a));
    assert_ok(lc_input(g, "b", LC_F64, shape1(3), &b));
    assert_ok(lc_input(g, "c", LC_F64, shape1(3), &c));
    assert_ok(lc_scalar(g, LC_F64, 0.0, &zero));
    assert_ok(lc_scalar(g, LC_F64, 6.0, &six));
    assert_ok(lc_scalar(g, LC_F64, 2.0, &two));
    assert_ok(lc_scalar(g, LC_F64, 3.0, &three));
    assert_ok(lc_mul(g, b, zero, &z1));
    assert_ok(lc_mul(g, a, z1, &z2));
    assert_ok(lc_mul(g, z2, six, &z3)); /* a · (b · 0) · 6 */
    assert_ok(lc_mul(g, b, c, &p1));
    assert_ok(lc_mul(g, a, p1, &p2));
    assert_ok(lc_mul(g, p2, two, &p3));
    assert_ok(lc_mul(g, p3, three, &p4)); /* a · (b · c) · 2 · 3 */
    assert_ok(lc_graph_add_output(g, z3));
    assert_ok(lc_graph_add_output(g, p4));
    lc_graph *s = run_checked("simplify", g);

    /* a · b overflows in element 0; b · c underflows in element 1 in doubles. The interpreter
     * carries a wide exponent (docs/pipeline.md), so b · c stays 1e-400 there and inf · 1e-400 is
     * inf, the exact value (it gave NaN when it computed in plain doubles); in either
     * association, so the pinned values check that the rewrite keeps the graph's value. */
    const double va[] = {1e200, INFINITY, 2}, vb[] = {1e200, 1e-200, -3}, vc[] = {1, 1e-200, 0.5};
    const double want0[] = {0, NAN, 0}, want1[] = {INFINITY, INFINITY, -18};
    lc_tensor *in[3], *before[2], *after[2];
    assert_ok(lc_tensor_from_doubles(LC_F64, shape1(3), va, &in[0]));
    assert_ok(lc_tensor_from_doubles(LC_F64, shape1(3), vb, &in[1]));
    assert_ok(lc_tensor_from_doubles(LC_F64, shape1(3), vc, &in[2]));
    eval_graph(g, in, before);
    eval_graph(s, in, after);
    assert_values_close(before[0], want0, 3, 0, 0);
    assert_values_close(after[0], want0, 3, 0, 0);
    assert_values_close(before[1], want1, 3, 0, 0);
    assert_values_close(after[1], want1, 3, 0, 0);

    /* a · (b · 0) · 6 keeps its zero in place; the gathered product is (a · (b · c)) · 6. */
    const lc_node *o0 = output_node(s, 0), *o1 = output_node(s, 1);
    assert_int_equal(o0->op, LC_OP_MUL);
    assert_int_equal(lc_graph_node(s, o0->inputs[0])->op, LC_OP_MUL);
    assert_int_equal(o1->op, LC_OP_MUL);
    assert_true(lc_graph_node(s, o1->inputs[1])->data[0] == 6.0);
    const lc_node *abc = lc_graph_node(s, o1->inputs[0]);
    assert_int_equal(abc->op, LC_OP_MUL);
    assert_int_equal(abc->inputs[0], lc_graph_input(s, 0));
    const lc_node *bc = lc_graph_node(s, abc->inputs[1]);
    assert_int_equal(bc->op, LC_OP_MUL);
    assert_int_equal(bc->inputs[0], lc_graph_input(s, 1));
    assert_int_equal(bc->inputs[1], lc_graph_input(s, 2));
    free_tensors(in, 3);
    free_tensors(before, 2);
    free_tensors(after, 2);
    lc_graph_free(s);
    lc_graph_free(g);
}

/* ---- random graphs: simplify (and the whole pipeline) never changes a value ---- */

static const double exponents[] = {1, 2, 3, 0.5, 1.0 / 3.0, -1, 2.5, -2, 4, 0};

static lc_graph *random_graph(test_rng *r, int n_nodes) {
    lc_graph *g = new_graph();
    int idx;
    assert_ok(lc_input(g, "a", LC_F64, shape1(6), &idx));
    assert_ok(lc_input(g, "b", LC_F64, shape1(6), &idx));
    static const double consts[] = {1, 2, 0.5, -1, 0};
    for (int i = 0; i < n_nodes; i++) {
        int count = lc_graph_node_count(g);
        int a = (int)test_rng_int(r, 0, count - 1), b = (int)test_rng_int(r, 0, count - 1);
        switch (test_rng_int(r, 0, 7)) {
        case 0: assert_ok(lc_abs(g, a, &idx)); break;
        case 1: assert_ok(lc_sign(g, a, &idx)); break;
        case 2:
        case 3: {
            int64_t zp[] = {test_rng_int(r, 0, 1)};
            double e = exponents[test_rng_int(r, 0, sizeof exponents / sizeof exponents[0] - 1)];
            assert_ok(lc_graph_append(g, LC_OP_POW, &a, zp, e, LC_F64, NULL, NULL, &idx));
            break;
        }
        case 4: assert_ok(lc_mul(g, a, b, &idx)); break;
        case 5: assert_ok(lc_add(g, a, b, &idx)); break;
        case 6: assert_ok(test_rng_int(r, 0, 1) ? lc_div_safe(g, a, b, &idx) : lc_div(g, a, b, &idx)); break;
        default:
            assert_ok(lc_scalar(g, LC_F64, consts[test_rng_int(r, 0, 4)], &idx));
            break;
        }
        char name[16];
        snprintf(name, sizeof name, "n%d", i);
        assert_ok(lc_graph_set_name(g, idx, name));
    }
    int count = lc_graph_node_count(g);
    for (int k = 0; k < 4; k++) {
        int o = (int)test_rng_int(r, 0, count - 1);
        lc_status st = lc_graph_add_output(g, o); /* a repeat is refused: fine */
        (void)st;
    }
    return g;
}

/* Values agree exactly where they are not finite, and to rounding where they are. */
static void assert_same_random(const lc_graph *a, const lc_graph *b, uint64_t seed) {
    test_rng r = test_rng_seeded(seed);
    for (int t = 0; t < 4; t++) {
        lc_tensor *in[2], *oa[MAX_TEST_IO], *ob[MAX_TEST_IO];
        random_inputs(a, &r, 3.0, in);
        int n_out = eval_graph(a, in, oa);
        eval_graph(b, in, ob);
        for (int k = 0; k < n_out; k++) assert_tensor_close(ob[k], oa[k], 1e-9, 1e-9);
        free_tensors(in, 2);
        free_tensors(oa, n_out);
        free_tensors(ob, n_out);
    }
}

static void test_random_graphs(void **state) {
    (void)state;
    test_rng r = test_rng_seeded(42);
    int fired = 0;
    for (int trial = 0; trial < 300; trial++) {
        lc_graph *g = random_graph(&r, (int)test_rng_int(&r, 1, 14));
        lc_graph *s = run_checked("simplify", g);
        assert_same_random(g, s, (uint64_t)trial + 1);
        fired += !lc_graph_identical(g, s);
        lc_graph *p;
        lc_pipeline_options opts = lc_pipeline_options_default();
        opts.verify = true;
        assert_ok(lc_pipeline_run_default(g, false, &opts, &p));
        assert_same_random(g, p, (uint64_t)trial + 1);
        lc_graph *p2; /* the whole pipeline is idempotent too */
        assert_ok(lc_pipeline_run_default(p, false, &opts, &p2));
        if (!lc_graph_identical(p, p2)) {
            char *t0 = graph_text(g), *t1 = graph_text(p), *t2 = graph_text(p2);
            fail_msg("pipeline not idempotent on\n%s\nonce:\n%s\ntwice:\n%s", t0, t1, t2);
        }
        lc_graph_free(p2);
        lc_graph_free(p);
        lc_graph_free(s);
        lc_graph_free(g);
    }
    assert_true(fired > 50); /* the rules do get exercised */
}

/* Facts about values cost O(1) per node however the DAG is shared: 2000 levels of v + v over
 * abs(x) would be 2^2000 paths for a walk that follows both inputs. The abs on top goes. */
static void test_deep_dag_is_fast(void **state) {
    (void)state;
    lc_graph *g = new_graph();
    int x, v, a1;
    assert_ok(lc_input(g, "x", LC_F64, shape1(3), &x));
    assert_ok(lc_abs(g, x, &v));
    for (int i = 0; i < 2000; i++) assert_ok(lc_add(g, v, v, &v));
    assert_ok(lc_abs(g, v, &a1));
    assert_ok(lc_graph_add_output(g, a1));
    lc_graph *s = run_checked("simplify", g);
    assert_same_values(g, s, 3, 2, 1.0, 1e-12, 0);
    assert_int_equal(lc_graph_node(s, lc_graph_output(s, 0))->op, LC_OP_ADD); /* abs dropped */
    lc_graph_free(s);
    lc_graph_free(g);
}

/* ---- the text of one result, pinned ---- */

static void test_pinned_text(void **state) {
    (void)state;
    lc_graph *g = new_graph();
    int x, a, sq, r, one, m, p1, out;
    assert_ok(lc_input(g, "x", LC_F32, shape1(4), &x));
    assert_ok(lc_abs(g, x, &a));
    assert_ok(lc_graph_set_name(g, a, "mag"));
    assert_ok(lc_pow(g, a, 2, &sq));
    assert_ok(lc_pow(g, sq, 0.5, &r));         /* -> mag */
    assert_ok(lc_scalar(g, LC_F32, 1.0, &one));
    assert_ok(lc_mul(g, r, one, &m));          /* -> mag */
    assert_ok(lc_pow(g, m, 1.0, &p1));         /* -> mag */
    assert_ok(lc_abs(g, p1, &out));            /* -> mag */
    assert_ok(lc_graph_set_name(g, out, "y"));
    assert_ok(lc_graph_add_output(g, out));
    lc_graph *s = run_checked("simplify", g);
    assert_graph_text(s, "graph {\n"
                         "  %0 = input \"x\" : f32[4]\n"
                         "  %1 = abs(%0) : f32[4] name=\"mag\"\n"
                         "  %2 = pow(%1) zero_pole=0 exponent=2 : f32[4]\n"
                         "  %3 = constant 1 : f32[]\n"
                         "  output %1\n"
                         "}\n");
    lc_graph *p;
    assert_ok(lc_pipeline_run_default(g, false, NULL, &p));
    assert_graph_text(p, "graph {\n"
                         "  %0 = input \"x\" : f32[4]\n"
                         "  %1 = abs(%0) : f32[4] name=\"mag\"\n"
                         "  output %1\n"
                         "}\n");
    lc_graph_free(p);
    lc_graph_free(s);
    lc_graph_free(g);
}

/* lc_byte_integer_facts: integers 0 .. 255, never -0 or NaN, and nothing else. Column j of a
 * window's slot numbers times its one-hot mask, summed, as MaxPool's backward builds it. */
static void test_byte_integer_facts(void **state) {
    (void)state;
    lc_graph *g = new_graph();
    int x, mask, slots, big, half, negz, prod, slot, bigsum, halfsum, negsum, e, wide, widesum;
    double slot_data[] = {0, 3, 6}, big_data[] = {0, 3, 256}, half_data[] = {0, 0.5, 6},
           negz_data[] = {-0.0, 3, 6};
    assert_ok(lc_input(g, "x", LC_F32, shape1(3), &x));
    assert_ok(lc_max_mask(g, x, 0, &mask));
    assert_ok(lc_constant(g, LC_F32, shape1(3), slot_data, &slots));
    assert_ok(lc_constant(g, LC_F32, shape1(3), big_data, &big));
    assert_ok(lc_constant(g, LC_F32, shape1(3), half_data, &half));
    assert_ok(lc_constant(g, LC_F32, shape1(3), negz_data, &negz));
    assert_ok(lc_mul(g, mask, slots, &prod));
    assert_ok(lc_sum(g, prod, 0, &slot));                 /* 0 .. 18 by the bound: bytes */
    assert_ok(lc_mul(g, mask, big, &prod));
    assert_ok(lc_sum(g, prod, 0, &bigsum));               /* 256 is past a byte */
    assert_ok(lc_mul(g, mask, half, &prod));
    assert_ok(lc_sum(g, prod, 0, &halfsum));              /* 0.5 is no integer */
    assert_ok(lc_mul(g, mask, negz, &prod));
    assert_ok(lc_sum(g, prod, 0, &negsum));               /* a -0 would lose its sign */
    assert_ok(lc_expand(g, slot, 0, 100, &e));            /* 100 copies of a byte */
    assert_ok(lc_sum(g, e, 0, &wide));                    /* ... summed: up to 1800 */
    int fits;
    assert_ok(lc_expand(g, mask, 0, 254, &e));
    assert_ok(lc_sum(g, e, 0, &fits));                    /* 254 masks: 254 and rounding's allowance */
    assert_ok(lc_expand(g, mask, 0, 255, &e));
    assert_ok(lc_sum(g, e, 0, &widesum));                 /* 255 masks: 255 and the allowance, past it */
    double *mag = lc_magnitude_facts(g);
    bool *nonneg = lc_nonneg_facts(g), *bytes = lc_byte_integer_facts(g, nonneg, mag);
    assert_non_null(bytes);
    assert_false(bytes[x]);
    assert_true(bytes[mask]);
    assert_true(bytes[slots]);
    assert_true(bytes[slot]);
    assert_false(bytes[big]);
    assert_false(bytes[bigsum]);
    assert_false(bytes[half]);
    assert_false(bytes[halfsum]);
    assert_false(bytes[negz]);
    assert_false(bytes[negsum]);
    assert_false(bytes[wide]);
    assert_true(bytes[fits]);
    assert_false(bytes[widesum]);
    free(bytes);
    free(nonneg);
    free(mag);
    lc_graph_free(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_byte_integer_facts),
        cmocka_unit_test(test_pow_one),
        cmocka_unit_test(test_pow_one_outputs),
        cmocka_unit_test(test_pow_pow),
        cmocka_unit_test(test_pow_pow_names),
        cmocka_unit_test(test_abs_of_nonnegative),
        cmocka_unit_test(test_abs_of_negative_zero_constant),
        cmocka_unit_test(test_sign_times_abs),
        cmocka_unit_test(test_mul_by_one),
        cmocka_unit_test(test_mul_by_one_f32_rounding),
        cmocka_unit_test(test_constant_folding),
        cmocka_unit_test(test_constant_folding_shape),
        cmocka_unit_test(test_product_constants),
        cmocka_unit_test(test_product_zero_and_association),
        cmocka_unit_test(test_random_graphs),
        cmocka_unit_test(test_deep_dag_is_fast),
        cmocka_unit_test(test_pinned_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
