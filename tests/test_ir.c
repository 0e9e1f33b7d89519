/* Graph construction: shape rules of every op and the errors of bad parameters. */
#include <string.h>

#include "lucid/autodiff.h"
#include "lucid/nn.h"
#include "lucid/runtime.h"

#include "ir/graph_copy.h"
#include "ir/node_key.h"
#include "support/hash.h"
#include "support/testutil.h"

static void test_unfold_shapes(void **state) {
    (void)state;
    lc_graph *g;
    assert_ok(lc_graph_new(&g));
    int x, u, u2;
    assert_ok(lc_input(g, "x", LC_F32, test_shape3(2, 3, 13), &x));
    assert_ok(lc_unfold(g, x, 2, 4, 3, 2, 2, &u));
    const lc_node *n = lc_graph_node(g, u);
    assert_int_equal(n->shape.rank, 4);
    assert_int_equal(n->shape.dim[2], (13 + 4 - 4) / 3 + 1);
    assert_int_equal(n->shape.dim[3], 4);
    assert_ok(lc_unfold(g, x, 2, 2, 5, 0, 0, &u2)); /* gaps between windows */
    assert_int_equal(lc_graph_node(g, u2)->shape.dim[2], 3);
    lc_graph_free(g);
}

static void test_reduce_expand_fold_shapes(void **state) {
    (void)state;
    lc_graph *g;
    assert_ok(lc_graph_new(&g));
    int x, u, s, m, e, f;
    assert_ok(lc_input(g, "x", LC_F64, test_shape3(1, 2, 10), &x));
    assert_ok(lc_unfold(g, x, 2, 3, 2, 1, 1, &u));
    assert_ok(lc_sum(g, u, 3, &s));
    assert_ok(lc_mean(g, u, 3, &m));
    assert_int_equal(lc_graph_node(g, s)->shape.rank, 3);
    assert_int_equal(lc_graph_node(g, s)->shape.dim[2], 5);
    assert_int_equal(lc_graph_node(g, m)->dtype, LC_F64);
    assert_ok(lc_expand(g, s, 3, 3, &e));
    assert_true(lc_shape_equal(&lc_graph_node(g, e)->shape, &lc_graph_node(g, u)->shape));
    assert_ok(lc_fold(g, e, 2, 3, 2, 1, 1, 10, &f));
    assert_true(lc_shape_equal(&lc_graph_node(g, f)->shape, &lc_graph_node(g, x)->shape));
    assert_ok(lc_graph_verify(g));
    lc_graph_free(g);
}

static void test_broadcast(void **state) {
    (void)state;
    lc_graph *g;
    assert_ok(lc_graph_new(&g));
    int x, c, d, s;
    double div[] = {1, 2, 3, 4};
    int64_t four = 4;
    assert_ok(lc_input(g, "x", LC_F32, test_shape3(2, 3, 4), &x));
    assert_ok(lc_constant(g, LC_F32, lc_shape_make(1, &four), div, &c));
    assert_ok(lc_div(g, x, c, &d));
    assert_true(lc_shape_equal(&lc_graph_node(g, d)->shape, &lc_graph_node(g, x)->shape));
    assert_ok(lc_scalar(g, LC_F32, 2.0, &s));
    assert_ok(lc_mul(g, s, x, &d));
    assert_int_equal(lc_graph_node(g, d)->shape.rank, 3);
    int64_t three = 3;
    assert_ok(lc_constant(g, LC_F32, lc_shape_make(1, &three), div, &c));
    assert_fails(lc_add(g, x, c, &d), LC_ERR_SHAPE, "do not broadcast");
    lc_graph_free(g);
}

static void test_bad_parameters(void **state) {
    (void)state;
    lc_graph *g;
    assert_ok(lc_graph_new(&g));
    int x, y, f64;
    assert_ok(lc_input(g, "x", LC_F32, test_shape3(1, 1, 8), &x));
    assert_fails(lc_unfold(g, x, 3, 2, 2, 0, 0, &y), LC_ERR_INVALID_ARG, "unfold: dim must be between 0 and 2, got 3");
    assert_fails(lc_unfold(g, x, 2, 0, 2, 0, 0, &y), LC_ERR_INVALID_ARG, "unfold: size must be >= 1, got 0");
    assert_fails(lc_unfold(g, x, 2, 2, 0, 0, 0, &y), LC_ERR_INVALID_ARG, "unfold: step must be >= 1, got 0");
    assert_fails(lc_unfold(g, x, 2, 2, 1, -1, 0, &y), LC_ERR_INVALID_ARG, "pad_lo must be >= 0, got -1");
    assert_fails(lc_unfold(g, x, 2, 9, 1, 0, 0, &y), LC_ERR_SHAPE, "size 9 exceeds the padded length 8");
    assert_fails(lc_sum(g, x, -1, &y), LC_ERR_INVALID_ARG, "sum: dim must be between 0 and 2, got -1");
    assert_fails(lc_pow(g, x, 1.0 / 0.0, &y), LC_ERR_INVALID_ARG, "pow: exponent must be finite, got inf");
    assert_fails(lc_abs(g, 7, &y), LC_ERR_INVALID_ARG, "abs: input 0 must name an earlier node");
    assert_ok(lc_input(g, "z", LC_F64, test_shape3(1, 1, 8), &f64));
    assert_fails(lc_add(g, x, f64, &y), LC_ERR_INVALID_ARG, "add: dtypes must match, got f32 and f64");
    assert_fails(lc_fold(g, x, 1, 8, 1, 0, 0, 9, &y), LC_ERR_SHAPE, "fold: axis 1 must hold 2 windows for length 9, got 1");
    int64_t huge[] = {INT64_MAX / 2, 4, 1};
    assert_fails(lc_input(g, "h", LC_F32, lc_shape_make(3, huge), &y), LC_ERR_NOMEM, "overflows");
    int64_t neg[] = {1, -2, 1};
    assert_fails(lc_input(g, "n", LC_F32, lc_shape_make(3, neg), &y), LC_ERR_SHAPE, "dimension 1 must be >= 0, got -2");
    assert_fails(lc_unfold(g, x, 2, 2, 1, INT64_MAX, 1, &y), LC_ERR_SHAPE, "unfold: padded length 8 + 9223372036854775807 + 1 overflows");
    /* A failed build leaves the graph unchanged. */
    assert_int_equal(lc_graph_node_count(g), 2);
    assert_ok(lc_graph_verify(g));
    lc_graph_free(g);
}

/* One definition of what a node computes apart from its inputs (ir/node_key.h): each field
 * tells nodes apart, equal nodes hash alike, and the double and data compare bit for bit. */
static void test_node_fields(void **state) {
    (void)state;
    lc_graph *g;
    int64_t xs[] = {2, 12};
    double zero = 0.0, negzero = -0.0;
    int x, y, u1, u2, u3, p1, p2, p3, c1, c2, c3, s1, s2;
    assert_ok(lc_graph_new(&g));
    assert_ok(lc_input(g, "x", LC_F32, lc_shape_make(2, xs), &x));
    assert_ok(lc_input(g, "y", LC_F64, lc_shape_make(2, xs), &y));
    assert_ok(lc_unfold(g, x, 1, 3, 3, 0, 0, &u1));
    assert_ok(lc_unfold(g, x, 1, 3, 3, 0, 0, &u2));
    assert_ok(lc_unfold(g, x, 1, 3, 3, 0, 3, &u3));  /* pad_hi differs (and so the shape) */
    assert_ok(lc_pow(g, x, 2.0, &p1));
    assert_ok(lc_pow_zero_pole(g, x, 2.0, &p2));     /* zero_pole differs */
    assert_ok(lc_pow(g, y, 2.0, &p3));               /* dtype differs */
    assert_ok(lc_constant(g, LC_F32, lc_shape_make(0, NULL), &zero, &c1));
    assert_ok(lc_constant(g, LC_F32, lc_shape_make(0, NULL), &negzero, &c2));
    assert_ok(lc_constant(g, LC_F32, lc_shape_make(0, NULL), &zero, &c3));
    assert_ok(lc_sum(g, x, 1, &s1));
    assert_ok(lc_mean(g, x, 1, &s2));                /* op differs */
#define NODE(i) lc_graph_node(g, i)
    assert_true(lc_node_same_fields(NODE(u1), NODE(u2)));
    assert_true(lc_node_hash_fields(NODE(u1), LC_HASH_SEED) == lc_node_hash_fields(NODE(u2), LC_HASH_SEED));
    assert_false(lc_node_same_fields(NODE(u1), NODE(u3)));
    assert_false(lc_node_same_fields(NODE(p1), NODE(p2)));
    assert_false(lc_node_same_fields(NODE(p1), NODE(p3)));
    assert_false(lc_node_same_fields(NODE(c1), NODE(c2)));
    assert_true(lc_node_same_fields(NODE(c1), NODE(c3)));
    assert_true(lc_node_hash_fields(NODE(c1), LC_HASH_SEED) != lc_node_hash_fields(NODE(c2), LC_HASH_SEED));
    assert_false(lc_node_same_fields(NODE(s1), NODE(s2)));
    assert_false(lc_node_same_fields(NODE(x), NODE(y)));
#undef NODE
    lc_graph_free(g);
}

static void test_op_table(void **state) {
    (void)state;
    const lc_op_info *unfold = lc_op_get_info(LC_OP_UNFOLD);
    assert_string_equal(unfold->name, "unfold");
    assert_int_equal(unfold->n_int_attrs, 7);
    assert_string_equal(unfold->int_attr_names[LC_UNFOLD_NEG_INF_PAD], "neg_inf_pad");
    assert_int_equal(unfold->int_attr_default[LC_UNFOLD_NEG_INF_PAD], 0);
    assert_string_equal(unfold->int_attr_names[4], "pad_hi");
    assert_string_equal(unfold->int_attr_names[LC_UNFOLD_DILATION], "dilation");
    assert_true(unfold->int_attr_optional[LC_UNFOLD_DILATION] && !unfold->int_attr_optional[LC_UNFOLD_PAD_HI]);
    assert_int_equal(unfold->int_attr_default[LC_UNFOLD_DILATION], 1);
    /* the named indices of ops.def and the names the printer spells agree, and the builders
     * store each argument under its name */
    const lc_op_info *fold = lc_op_get_info(LC_OP_FOLD);
    assert_int_equal(fold->n_int_attrs, 7);
    assert_string_equal(fold->int_attr_names[LC_FOLD_DILATION], "dilation");
    assert_true(fold->int_attr_optional[LC_FOLD_DILATION]);
    assert_string_equal(unfold->int_attr_names[LC_UNFOLD_PAD_LO], "pad_lo");
    assert_string_equal(fold->int_attr_names[LC_FOLD_LENGTH], "length");
    assert_string_equal(lc_op_get_info(LC_OP_EXPAND)->int_attr_names[LC_EXPAND_SIZE], "size");
    assert_string_equal(lc_op_get_info(LC_OP_POW)->int_attr_names[LC_POW_ZERO_POLE], "zero_pole");
    assert_string_equal(lc_op_get_info(LC_OP_DIV)->int_attr_names[LC_DIV_SAFE], "safe");
    assert_int_equal(lc_op_get_info(LC_OP_MEAN)->n_int_attrs, 1);
    assert_int_equal(lc_op_get_info(LC_OP_ABS)->n_int_attrs, 0);
    lc_graph *g;
    int64_t xs[] = {2, 11};
    int x, u, f;
    assert_ok(lc_graph_new(&g));
    assert_ok(lc_input(g, "x", LC_F32, lc_shape_make(2, xs), &x));
    assert_ok(lc_unfold(g, x, 1, 4, 3, 2, 1, &u));
    const lc_node *un = lc_graph_node(g, u);
    assert_int_equal(un->attr[LC_UNFOLD_DIM], 1);
    assert_int_equal(un->attr[LC_UNFOLD_SIZE], 4);
    assert_int_equal(un->attr[LC_UNFOLD_STEP], 3);
    assert_int_equal(un->attr[LC_UNFOLD_PAD_LO], 2);
    assert_int_equal(un->attr[LC_UNFOLD_PAD_HI], 1);
    assert_ok(lc_fold(g, u, 1, 4, 3, 2, 1, 11, &f));
    assert_int_equal(lc_graph_node(g, f)->attr[LC_FOLD_LENGTH], 11);
    assert_int_equal(lc_graph_node(g, f)->attr[LC_FOLD_PAD_LO], 2);
    lc_graph_free(g);
    assert_string_equal(lc_op_get_info(LC_OP_POW)->real_attr_name, "exponent");
    assert_int_equal(lc_op_get_info(LC_OP_MUL)->kind, LC_KIND_ELEMENTWISE);
    lc_op op;
    assert_true(lc_op_from_name("fold", 4, &op));
    assert_int_equal(op, LC_OP_FOLD);
    assert_false(lc_op_from_name("folds", 5, &op));
}

/* NULL in place of the object a call works on is an error with a message, never a crash. */
/* One hash for every table (support/hash.h): the same bytes in the same parts hash the same
 * (a node's fields are hashed part by part), and one bit or one more zero byte changes it. */
static void test_hash_bytes(void **state) {
    (void)state;
    unsigned char a[40];
    for (int i = 0; i < 40; i++) a[i] = (unsigned char)(i * 37 + 5);
    uint64_t whole = lc_hash_bytes(LC_HASH_SEED, a, 40);
    uint64_t parts = lc_hash_bytes(lc_hash_bytes(LC_HASH_SEED, a, 16), a + 16, 24);
    unsigned char copy[40];
    memcpy(copy, a, 40);
    assert_true(parts == lc_hash_bytes(lc_hash_bytes(LC_HASH_SEED, copy, 16), copy + 16, 24));
    assert_true(whole == lc_hash_bytes(LC_HASH_SEED, copy, 40));
    unsigned char b[41];
    memcpy(b, a, 40);
    b[40] = 0;
    assert_true(whole != lc_hash_bytes(LC_HASH_SEED, b, 41)); /* a zero byte more */
    b[7] ^= 1;
    assert_true(whole != lc_hash_bytes(LC_HASH_SEED, b, 40)); /* one bit */
    assert_true(lc_hash_bytes(LC_HASH_SEED, "ab", 2) != lc_hash_bytes(LC_HASH_SEED, "ab\0", 3));
}

/* A node copied into another graph (what every pass's rebuild does): with inputs of its own
 * inputs' shapes it keeps its shape, name and fields; with inputs of another shape it is
 * inferred again (a new shape), and checked (a window longer than the new input fails, as
 * lc_unfold would). */
static void test_append_copy(void **state) {
    (void)state;
    lc_graph *a, *b;
    int64_t d[] = {2, 12}, e[] = {3, 5}, f[] = {3, 2};
    int x, u, y1, y2, y3, c;
    assert_ok(lc_graph_new(&a));
    assert_ok(lc_input(a, "x", LC_F32, lc_shape_make(2, d), &x));
    assert_ok(lc_unfold(a, x, 1, 3, 3, 0, 0, &u));
    assert_ok(lc_graph_set_name(a, u, "pool.unfold"));
    assert_ok(lc_graph_new(&b));
    assert_ok(lc_input(b, "same", LC_F32, lc_shape_make(2, d), &y1));
    assert_ok(lc_input(b, "other", LC_F32, lc_shape_make(2, e), &y2));
    assert_ok(lc_input(b, "short", LC_F32, lc_shape_make(2, f), &y3));
    assert_ok(lc_graph_append_copy(b, a, u, &y1, &c));
    const lc_node *n = lc_graph_node(b, c);
    assert_true(lc_node_same_fields(n, lc_graph_node(a, u)));
    assert_int_equal(n->inputs[0], y1);
    assert_string_equal(n->name, "pool.unfold");
    assert_ok(lc_graph_append_copy(b, a, u, &y2, &c));
    n = lc_graph_node(b, c);
    assert_int_equal(n->inputs[0], y2);
    assert_int_equal(n->shape.rank, 3);
    assert_int_equal(n->shape.dim[0], 3);
    assert_int_equal(n->shape.dim[1], 1); /* 5 // 3 windows */
    assert_int_equal(n->shape.dim[2], 3);
    assert_fails(lc_graph_append_copy(b, a, u, &y3, &c), LC_ERR_SHAPE, "exceeds the padded length 2 of axis 1");
    assert_fails(lc_graph_append_copy(b, a, 7, &y1, &c), LC_ERR_INVALID_ARG, "node must be 0..1, got 7");
    lc_graph_free(a);
    lc_graph_free(b);
}

static void test_null_arguments(void **state) {
    (void)state;
    int y;
    lc_graph *g = NULL;
    char *text = NULL;
    lc_tensor *t = NULL;
    lc_module *m = NULL;
    assert_fails(lc_abs(NULL, 0, &y), LC_ERR_INVALID_ARG, "abs: graph and out must not be NULL");
    assert_fails(lc_input(NULL, "x", LC_F32, test_shape3(1, 1, 1), &y), LC_ERR_INVALID_ARG, "must not be NULL");
    assert_fails(lc_graph_verify(NULL), LC_ERR_INVALID_ARG, "verify: graph must not be NULL");
    assert_fails(lc_graph_clone(NULL, &g), LC_ERR_INVALID_ARG, "graph clone");
    assert_fails(lc_graph_set_name(NULL, 0, "x"), LC_ERR_INVALID_ARG, "graph must not be NULL");
    assert_fails(lc_graph_add_output(NULL, 0), LC_ERR_INVALID_ARG, "graph must not be NULL");
    assert_fails(lc_tensor_repr(NULL, &text), LC_ERR_INVALID_ARG, "tensor print");
    assert_fails(lc_tensor_format_values(NULL, &text), LC_ERR_INVALID_ARG, "tensor print");
    assert_fails(lc_tensor_clone(NULL, &t), LC_ERR_INVALID_ARG, "tensor clone");
    assert_fails(lc_tensor_new(LC_F32, test_shape3(1, 1, 1), NULL), LC_ERR_INVALID_ARG, "out must not be NULL");
    assert_fails(lc_tensor_from_doubles(LC_F32, test_shape3(1, 1, 2), NULL, &t), LC_ERR_INVALID_ARG, "values");
    assert_fails(lc_interp_run(NULL, NULL, 0, NULL, 0), LC_ERR_INVALID_ARG, "interp");
    assert_fails(lc_module_repr(NULL, &text), LC_ERR_INVALID_ARG, "module repr");
    assert_fails(lc_avgpool1d_new(NULL, NULL), LC_ERR_INVALID_ARG, "AvgPool1d: out must not be NULL");
    assert_fails(lc_lppool1d_new(NULL, &m), LC_ERR_INVALID_ARG, "LPPool1d: params must not be NULL");
    assert_fails(lc_autodiff(NULL, NULL, 0, NULL, 0, &g), LC_ERR_INVALID_ARG, "autodiff: graph must not be NULL");
    assert_null(g);
    assert_null(t);
    assert_null(m);
}

/* A shape or dtype a caller filled in (a binding's struct) may be out of range: the printers
 * used in error messages say so instead of reading past the shape's six extents. */
static void test_invalid_shape_and_dtype_print(void **state) {
    (void)state;
    char buf[64];
    lc_shape s = {.rank = 7, .dim = {1, 2, 3, 4, 5, 6}};
    assert_string_equal(lc_shape_str(&s, buf, sizeof buf), "[invalid rank 7]");
    s.rank = -1;
    assert_string_equal(lc_shape_str(&s, buf, sizeof buf), "[invalid rank -1]");
    s.rank = 2;
    assert_string_equal(lc_shape_str(&s, buf, sizeof buf), "[1,2]");
    assert_string_equal(lc_dtype_name(LC_F32), "f32");
    assert_string_equal(lc_dtype_name(LC_F64), "f64");
    assert_string_equal(lc_dtype_name((lc_dtype)7), "(invalid dtype)");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_invalid_shape_and_dtype_print),
        cmocka_unit_test(test_unfold_shapes),
        cmocka_unit_test(test_reduce_expand_fold_shapes),
        cmocka_unit_test(test_broadcast),
        cmocka_unit_test(test_bad_parameters),
        cmocka_unit_test(test_op_table),
        cmocka_unit_test(test_node_fields),
        cmocka_unit_test(test_hash_bytes),
        cmocka_unit_test(test_append_copy),
        cmocka_unit_test(test_null_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
