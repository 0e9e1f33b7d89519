/* Text IR: exact printed form, parse -> print round trips (bit-exact numbers, escaped names,
 * rank 0 and rank 6), every op, malformed text with its line:col message, a mutation loop
 * that must never crash, and the Graphviz form. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/text_roundtrip.h"
#include "support/testutil.h"

/* The LPPool1d-like graph of docs/text-ir.md's example. */
static lc_graph *small_graph(void) {
    lc_graph *g;
    int64_t xs[] = {2, 8, 16}, four = 4;
    double div[] = {1, 2.5, 3, 4};
    int x, u, a, p, s, c, two, d, r;
    assert_ok(lc_graph_new(&g));
    assert_ok(lc_input(g, "x", LC_F32, lc_shape_make(3, xs), &x));
    assert_ok(lc_unfold(g, x, 2, 4, 4, 0, 0, &u));
    assert_ok(lc_graph_set_name(g, u, "LPPool1d.unfold"));
    assert_ok(lc_abs(g, u, &a));
    assert_ok(lc_pow(g, a, 2, &p));
    assert_ok(lc_sum(g, p, 3, &s));
    assert_ok(lc_constant(g, LC_F32, lc_shape_make(1, &four), div, &c));
    assert_ok(lc_scalar(g, LC_F32, 2, &two));
    assert_ok(lc_div(g, s, c, &d));
    assert_ok(lc_pow_zero_pole(g, d, 0.5, &r));
    assert_ok(lc_graph_add_output(g, s));
    assert_ok(lc_graph_add_output(g, r));
    return g;
}

static const char small_text[] =
    "graph {\n"
    "  %0 = input \"x\" : f32[2,8,16]\n"
    "  %1 = unfold(%0) dim=2 size=4 step=4 pad_lo=0 pad_hi=0 : f32[2,8,4,4] name=\"LPPool1d.unfold\"\n"
    "  %2 = abs(%1) : f32[2,8,4,4]\n"
    "  %3 = pow(%2) zero_pole=0 exponent=2 : f32[2,8,4,4]\n"
    "  %4 = sum(%3) dim=3 : f32[2,8,4]\n"
    "  %5 = constant [1, 2.5, 3, 4] : f32[4]\n"
    "  %6 = constant 2 : f32[]\n"
    "  %7 = div(%4, %5) safe=0 : f32[2,8,4]\n"
    "  %8 = pow(%7) zero_pole=1 exponent=0.5 : f32[2,8,4]\n"
    "  output %4, %8\n"
    "}\n";

static void test_print_exact(void **state) {
    (void)state;
    lc_graph *g = small_graph();
    char *text;
    assert_ok(lc_graph_to_string(g, &text));
    assert_string_equal(text, small_text);
    free(text);
    assert_ok(lc_graph_check_text_round_trip(g));

    /* lc_graph_print writes the same bytes to a file. */
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_ok(lc_graph_print(g, f));
    long len = ftell(f);
    assert_int_equal(len, (long)strlen(small_text));
    rewind(f);
    char buf[sizeof small_text];
    assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
    assert_memory_equal(buf, small_text, (size_t)len);
    fclose(f);
    lc_graph_free(g);

    /* The empty graph has no output line. */
    assert_ok(lc_graph_new(&g));
    assert_ok(lc_graph_to_string(g, &text));
    assert_string_equal(text, "graph {\n}\n");
    free(text);
    assert_ok(lc_graph_check_text_round_trip(g));
    lc_graph_free(g);
}

/* Hand-written text with comments, tabs, CRLF and blank lines reads as the canonical form. */
static void test_parse_tolerant(void **state) {
    (void)state;
    const char *text =
        "# an LPPool1d forward\n"
        "\n"
        "graph{   # opening\r\n"
        "\t%0=input \"x\":f32[ 2 , 8 , 16 ]\n"
        "  %1 = unfold( %0 )dim=2 size=4 step=+4 pad_lo=0 pad_hi=0:f32[2,8,4,4] name = \"LPPool1d.unfold\"\n"
        "\n\n"
        "  %2 = abs(%1) : f32[2,8,4,4]   # |x|\n"
        "  %3 = pow(%2) zero_pole=0 exponent=2.000 : f32[2,8,4,4]\n"
        "  %4 = sum(%3) dim=3 : f32[2,8,4]\n"
        "  %5 = constant [ 1.0,2.5e0 , 3, 4 ] : f32[4]\n"
        "  %6 = constant +2. : f32[]\n"
        "  %7 = div(%4,%5)safe=0 : f32[2,8,4]\n"
        "  %8 = pow(%7) zero_pole=1 exponent=.5 : f32[2,8,4]\n"
        "  output %4 ,%8\n"
        "}  # done\n"
        "\n";
    lc_graph *g;
    assert_ok(lc_graph_parse(text, &g));
    char *printed;
    assert_ok(lc_graph_to_string(g, &printed));
    assert_string_equal(printed, small_text);
    free(printed);
    lc_graph *want = small_graph();
    char why[256];
    if (!lc_graph_same(g, want, why, sizeof why)) fail_msg("%s", why);
    lc_graph_free(want);
    lc_graph_free(g);

    /* No trailing newline at all. */
    assert_ok(lc_graph_parse("graph {\n  %0 = input : f64[]\n  output %0\n}", &g));
    assert_int_equal(lc_graph_node_count(g), 1);
    assert_null(lc_graph_node(g, 0)->name);
    lc_graph_free(g);
}

/* One graph holding every op of ops.def, built with the C builders. */
static void test_every_op(void **state) {
    (void)state;
    lc_graph *g;
    int64_t xs[] = {1, 2, 10}, five = 5;
    double w[] = {0.5, -1, 2, 4, 8};
    int x, u, f, e, a, sg, p, pz, m, ad, dv, ds, s, mn, c, k, r;
    assert_ok(lc_graph_new(&g));
    assert_ok(lc_input(g, "x", LC_F64, lc_shape_make(3, xs), &x));
    assert_ok(lc_unfold(g, x, 2, 3, 2, 1, 1, &u));
    assert_ok(lc_sum(g, u, 3, &s));
    assert_ok(lc_mean(g, u, 3, &mn));
    assert_ok(lc_expand(g, s, 3, 3, &e));
    assert_ok(lc_fold(g, e, 2, 3, 2, 1, 1, 10, &f));
    assert_ok(lc_abs(g, f, &a));
    assert_ok(lc_sign(g, a, &sg));
    assert_ok(lc_pow(g, a, 1.0 / 3.0, &p));
    assert_ok(lc_pow_zero_pole(g, a, -0.75, &pz));
    assert_ok(lc_constant(g, LC_F64, lc_shape_make(1, &five), w, &c));
    assert_ok(lc_scalar(g, LC_F64, 3, &k));
    assert_ok(lc_mul(g, sg, k, &m));
    assert_ok(lc_add(g, m, p, &ad));
    assert_ok(lc_div(g, mn, c, &dv));
    assert_ok(lc_div_safe(g, dv, s, &ds));
    assert_ok(lc_relu(g, ad, &r));
    int um, mx, mm; /* after the rest, so the numbers pinned below stay */
    assert_ok(lc_unfold_neg_inf_pad(g, x, 2, 3, 2, 1, 1, 2, &um));
    assert_ok(lc_max(g, um, 3, &mx));
    assert_ok(lc_max_mask(g, um, 3, &mm));
    int eq;
    assert_ok(lc_equal(g, mm, k, &eq));
    int sel;
    assert_ok(lc_select(g, eq, um, &sel));
    assert_ok(lc_graph_add_output(g, r));
    assert_ok(lc_graph_add_output(g, ds));
    assert_ok(lc_graph_add_output(g, pz));

    bool used[LC_OP_COUNT] = {0};
    for (int i = 0; i < lc_graph_node_count(g); i++) used[lc_graph_node(g, i)->op] = true;
    char *text;
    assert_ok(lc_graph_to_string(g, &text));
    for (int op = 0; op < LC_OP_COUNT; op++) {
        if (!used[op]) fail_msg("op %s is missing from the every-op graph", lc_op_get_info(op)->name);
        char needle[32];
        snprintf(needle, sizeof needle, " = %s", lc_op_get_info(op)->name);
        assert_non_null(strstr(text, needle));
    }
    assert_non_null(strstr(text, "  %5 = fold(%4) dim=2 size=3 step=2 pad_lo=1 pad_hi=1 length=10 : f64[1,2,10]\n"));
    assert_non_null(strstr(text, "  %4 = expand(%2) dim=3 size=3 : f64[1,2,5,3]\n"));
    assert_non_null(strstr(text, "  %8 = pow(%6) zero_pole=0 exponent=0.3333333333333333 : f64[1,2,10]\n"));
    assert_non_null(strstr(text, "  %9 = pow(%6) zero_pole=1 exponent=-0.75 : f64[1,2,10]\n"));
    assert_non_null(strstr(text, "  %10 = constant [0.5, -1, 2, 4, 8] : f64[5]\n"));
    assert_non_null(strstr(text, "  %14 = div(%3, %10) safe=0 : f64[1,2,5]\n"));
    assert_non_null(strstr(text, "  %15 = div(%14, %2) safe=1 : f64[1,2,5]\n"));
    assert_non_null(strstr(text, "  %16 = relu(%13) : f64[1,2,10]\n"));
    assert_non_null(strstr(text, "  %17 = unfold(%0) dim=2 size=3 step=2 pad_lo=1 pad_hi=1 dilation=2 neg_inf_pad=1 : f64[1,2,4,3]\n"));
    assert_non_null(strstr(text, "  %18 = max(%17) dim=3 : f64[1,2,4]\n"));
    assert_non_null(strstr(text, "  %19 = max_mask(%17) dim=3 : f64[1,2,4,3]\n"));
    assert_non_null(strstr(text, "  %20 = equal(%19, %11) : f64[1,2,4,3]\n"));
    assert_non_null(strstr(text, "  %21 = select(%20, %17) : f64[1,2,4,3]\n"));
    assert_non_null(strstr(text, "  output %16, %15, %9\n"));
    free(text);
    assert_ok(lc_graph_check_text_round_trip(g));
    lc_graph_free(g);
}

static const double awkward[] = {0.1, 1e-300, -0.0, 0.0, 1.0 / 3.0, -2.0 / 3.0, 5e-324,
                                 2.2250738585072014e-308, DBL_MAX, -DBL_MAX, 1e16, 123456789012345678.0,
                                 1e15, 0.30000000000000004, -2.5e-7, 1e-5, 100, 0.0001};

static void test_round_trip_awkward(void **state) {
    (void)state;
    lc_graph *g;
    size_t n = sizeof awkward / sizeof awkward[0];
    int64_t len = (int64_t)n + 3;
    double *data = malloc((size_t)len * sizeof *data);
    assert_non_null(data);
    memcpy(data, awkward, n * sizeof *data);
    data[n] = INFINITY;
    data[n + 1] = -INFINITY;
    data[n + 2] = NAN;
    int c, s, z, x, y, p, e;
    int64_t six[] = {1, 2, 1, 3, 1, 2}, zero = 0;
    assert_ok(lc_graph_new(&g));
    assert_ok(lc_constant(g, LC_F64, lc_shape_make(1, &len), data, &c));
    assert_ok(lc_scalar(g, LC_F32, -0.0, &s));
    assert_ok(lc_constant(g, LC_F32, lc_shape_make(1, &zero), NULL, &z));
    assert_ok(lc_input(g, "quote\" back\\slash\nnew\tline \x01 \xc3\xa9", LC_F32, lc_shape_make(6, six), &x));
    assert_ok(lc_sum(g, x, 5, &y));
    assert_ok(lc_graph_set_name(g, y, "\"\""));
    assert_ok(lc_pow(g, x, 1e-300, &p));
    assert_ok(lc_pow(g, x, -0.0, &e));
    assert_ok(lc_graph_set_name(g, e, ""));
    assert_ok(lc_graph_add_output(g, p));
    assert_ok(lc_graph_check_text_round_trip(g));

    char *text;
    assert_ok(lc_graph_to_string(g, &text));
    assert_non_null(strstr(text, "  %0 = constant [0.1, 1e-300, -0, 0, 0.3333333333333333, -0.6666666666666666, "
                                 "5e-324, 2.2250738585072014e-308, 1.7976931348623157e+308, "
                                 "-1.7976931348623157e+308, 1e+16, 1.2345678901234568e+17, "
                                 "1000000000000000, 0.30000000000000004, -2.5e-07, 1e-05, 100, 0.0001, "
                                 "inf, -inf, nan] : f64[21]\n"));
    assert_non_null(strstr(text, "  %1 = constant -0 : f32[]\n"));
    assert_non_null(strstr(text, "  %2 = constant [] : f32[0]\n"));
    assert_non_null(strstr(text, "  %3 = input \"quote\\\" back\\\\slash\\nnew\\tline \\x01 \xc3\xa9\" : f32[1,2,1,3,1,2]\n"));
    assert_non_null(strstr(text, "  %4 = sum(%3) dim=5 : f32[1,2,1,3,1] name=\"\\\"\\\"\"\n"));
    assert_non_null(strstr(text, "exponent=1e-300 : "));
    assert_non_null(strstr(text, "exponent=-0 : f32[1,2,1,3,1,2] name=\"\"\n"));

    /* Bit-exact values after parsing. */
    lc_graph *back;
    assert_ok(lc_graph_parse(text, &back));
    const lc_node *cn = lc_graph_node(back, 0);
    for (size_t i = 0; i < n; i++) assert_memory_equal(&cn->data[i], &awkward[i], sizeof(double));
    assert_true(isinf(cn->data[n]) && cn->data[n] > 0);
    assert_true(isinf(cn->data[n + 1]) && cn->data[n + 1] < 0);
    assert_true(isnan(cn->data[n + 2]));
    assert_true(signbit(lc_graph_node(back, 1)->data[0]));
    assert_true(signbit(lc_graph_node(back, 6)->real_attr));
    assert_string_equal(lc_graph_node(back, 3)->name, "quote\" back\\slash\nnew\tline \x01 \xc3\xa9");
    lc_graph_free(back);
    free(text);
    free(data);
    lc_graph_free(g);
}

/* Random doubles of every magnitude survive bit-exactly, and a large constant on one line. */
static void test_round_trip_random_values(void **state) {
    (void)state;
    test_rng r = test_rng_seeded(42);
    int64_t n = 20000;
    double *data = malloc((size_t)n * sizeof *data);
    assert_non_null(data);
    for (int64_t i = 0; i < n; i++) {
        uint64_t bits = 0;
        for (int k = 0; k < 4; k++) bits = bits << 16 | (uint64_t)test_rng_int(&r, 0, 0xffff);
        memcpy(&data[i], &bits, sizeof bits);
        if (isnan(data[i])) data[i] = test_rng_uniform(&r, -1e6, 1e6);
    }
    lc_graph *g;
    int c, x;
    int64_t dims[] = {100, 200};
    assert_ok(lc_graph_new(&g));
    assert_ok(lc_constant(g, LC_F64, lc_shape_make(2, dims), data, &c));
    for (int i = 0; i < 50; i++) {
        assert_ok(lc_pow(g, c, test_rng_uniform(&r, -10, 10) * pow(10, (double)test_rng_int(&r, -30, 30)), &x));
        assert_ok(lc_graph_add_output(g, x));
    }
    assert_ok(lc_graph_check_text_round_trip(g));
    lc_graph_free(g);
    free(data);
}

typedef struct bad_case {
    const char *text;
    const char *message; /* "line:col: reason", matched as a substring */
} bad_case;

#define HEAD "graph {\n  %0 = input \"x\" : f32[2,8,16]\n"

static const bad_case bad_cases[] = {
    {"", "1:1: expected 'graph {'"},
    {"grap {\n}\n", "1:1: expected 'graph {'"},
    {"  # comment\n graph (\n}\n", "2:2: expected 'graph {'"},
    {"graph { %0 = input : f32[]\n}\n", "1:9: expected end of line after 'graph {', got '%0'"},
    {"graph {\n", "2:1: expected '}' to close the graph, got end of input"},
    {HEAD "  %1 = fooo(%0) : f32[2,8,16]\n}\n", "3:8: unknown op 'fooo'"},
    {HEAD "  %1 = abs(%0 : f32[2,8,16]\n}\n", "3:15: expected ')' after input list, got ':'"},
    {HEAD "  %1 = abs(%7) : f32[2,8,16]\n}\n", "3:12: %7 is not defined yet"},
    {HEAD "  %1 = abs(%1) : f32[2,8,16]\n}\n", "3:12: %1 is not defined yet"},
    {HEAD "  %2 = abs(%0) : f32[2,8,16]\n}\n", "3:3: expected %1 (SSA names go in order %0, %1, ...), got '%2'"},
    {HEAD "  %1 = sum(%0) dim=2 : f32[2,8,15]\n}\n",
     "3:24: shape f32[2,8,15] does not match inferred f32[2,8]"},
    {HEAD "  %1 = sum(%0) dim=2 : f64[2,8]\n}\n", "3:24: shape f64[2,8] does not match inferred f32[2,8]"},
    {HEAD "  %1 = unfold(%0) dim=2 size=0 step=1 pad_lo=0 pad_hi=0 : f32[2,8,1,1]\n}\n",
     "3:8: unfold: size must be >= 1, got 0"},
    {HEAD "  %1 = unfold(%0) dim=2 step=1 size=4 pad_lo=0 pad_hi=0 : f32[2,8,13,4]\n}\n",
     "3:25: unfold: missing attribute 'size' (got 'step'; attributes go in table order)"},
    {HEAD "  %1 = sum(%0) : f32[2,8]\n}\n", "3:16: sum: missing attribute 'dim'"},
    {HEAD "  %1 = sum(%0) dim=2 keep=1 : f32[2,8]\n}\n", "3:22: sum: unknown attribute 'keep'"},
    {HEAD "  %1 = sum(%0) axis=2 : f32[2,8]\n}\n", "3:16: sum: unknown attribute 'axis'"},
    {HEAD "  %1 = sum(%0) dim=2 dim=2 : f32[2,8]\n}\n", "3:22: sum: attribute 'dim' given twice"},
    {HEAD "  %1 = sum(%0) dim=2.5 : f32[2,8]\n}\n", "3:20: sum: attribute 'dim' needs an integer, got '2.5'"},
    {HEAD "  %1 = sum(%0) dim=99999999999999999999 : f32[2,8]\n}\n",
     "3:20: sum: attribute 'dim': integer '99999999999999999999' is out of range"},
    {HEAD "  %1 = pow(%0) zero_pole=0 exponent=1e999 : f32[2,8,16]\n}\n", "3:37: number '1e999' is out of range"},
    {HEAD "  %1 = pow(%0) zero_pole=0 exponent=inf : f32[2,8,16]\n}\n", "3:8: pow: exponent must be finite, got inf"},
    {HEAD "  %1 = pow(%0) zero_pole=2 exponent=1 : f32[2,8,16]\n}\n", "3:8: pow: zero_pole must be 0 or 1, got 2"},
    {HEAD "  %1 = div(%0, %0) safe=-1 : f32[2,8,16]\n}\n", "3:8: div: safe must be 0 or 1, got -1"},
    {HEAD "  %1 = input \"y\" : f64[3]\n  %2 = add(%0, %1) : f32[2,8,16]\n}\n", "4:8: add: dtypes must match, got f32 and f64"},
    {HEAD "  %1 = pow(%0) zero_pole=0 exponent=0x10 : f32[2,8,16]\n}\n", "3:37: malformed number '0x10'"},
    {HEAD "  %1 = div(%0) : f32[2,8,16]\n}\n", "3:14: div takes 2 inputs, got 1"},
    {HEAD "  %1 = abs(%0, %0) : f32[2,8,16]\n}\n", "3:16: abs takes 1 input, got more"},
    {HEAD "  %1 = abs %0 : f32[2,8,16]\n}\n", "3:12: expected '(' after 'abs', got '%0'"},
    {HEAD "  %1 = constant [1, 2] : f32[3]\n}\n", "3:17: constant: 2 values given, type f32[3] needs 3"},
    {HEAD "  %1 = constant [1, 2,] : f32[3]\n}\n", "3:23: expected a number, got ']'"},
    {HEAD "  %1 = constant 1 : f32[1]\n}\n", "3:21: constant: a bare number needs a rank-0 type like f32[], got f32[1]"},
    {HEAD "  %1 = constant [1] : f32[]\n}\n", "3:17: constant: rank-0 data is a bare number, not a list"},
    {HEAD "  %1 = constant [1 2] : f32[2]\n}\n", "3:20: expected ',' or ']' in constant data, got '2'"},
    {HEAD "  %1 = constant 1 : f16[]\n}\n", "3:21: unknown dtype 'f16' (expected f32 or f64)"},
    {"graph {\n  %0 = input : f32[1,1,1,1,1,1,1]\n}\n", "2:32: rank exceeds 6"},
    {"graph {\n  %0 = input : f32[2,-1]\n}\n", "2:22: expected a dimension (an integer >= 0), got '-1'"},
    {"graph {\n  %0 = input : f32[4294967296,4294967296]\n}\n", "2:16: shape has too many elements"},
    {"graph {\n  %0 = input : f32[99999999999999999999]\n}\n", "2:20: dimension '99999999999999999999' is out of range"},
    {"graph {\n  %0 = input \"x : f32[2]\n}\n", "2:14: unterminated string"},
    {"graph {\n  %0 = input \"a\\qb\" : f32[2]\n}\n", "2:16: unknown escape '\\q' in string"},
    {"graph {\n  %0 = input \"a\\x00\" : f32[2]\n}\n", "2:16: a string cannot hold \\x00"},
    {"graph {\n  %0 = input : f32[2] name=\"x\"\n}\n", "2:23: input: the name goes right after 'input'"},
    {HEAD "  %1 = abs(%0) : f32[2,8,16] label=\"y\"\n}\n", "3:30: expected end of line or name=\"...\", got 'label'"},
    {HEAD "  %1 = abs(%0) : f32[2,8,16] name=\"y\" extra\n}\n", "3:39: expected end of line after the node, got 'extra'"},
    {HEAD "  output %0, %3\n}\n", "3:14: %3 is not defined yet"},
    {HEAD "  output %0, %0\n}\n", "3:14: graph: node %0 is already an output"},
    {HEAD "  output\n}\n", "3:9: expected a node reference like %0, got end of line"},
    {HEAD "  output %0\n  %1 = abs(%0) : f32[2,8,16]\n}\n", "4:3: nodes must come before the output line"},
    {HEAD "  output %0\n  output %0\n}\n", "4:3: only one output line is allowed"},
    {HEAD "  %1 = abs(%0) : f32[2,8,16]\n}\ngraph {\n}\n", "5:1: unexpected 'graph' after the closing '}'"},
    {HEAD "  x = abs(%0) : f32[2,8,16]\n}\n", "3:3: expected a node (%1 = ...), 'output' or '}', got 'x'"},
    {HEAD "  %1 abs(%0) : f32[2,8,16]\n}\n", "3:6: expected '=' after the node name, got 'abs'"},
    {HEAD "  %1 = abs(%0) f32[2,8,16]\n}\n", "3:16: abs: unknown attribute 'f32'"},
    {HEAD "  %1 = abs(%0) : f32 [2,8,16]\n}\n", "3:21: expected '[' after the dtype, got ' '"},
};

static void test_malformed(void **state) {
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        lc_graph *g = (lc_graph *)0x1;
        lc_status st = lc_graph_parse(bad_cases[i].text, &g);
        const char *msg = lc_last_error(), *want = bad_cases[i].message;
        /* The whole expected message, position first. */
        if (st != LC_ERR_PARSE || g != NULL || strncmp(msg, want, strlen(want)) != 0) {
            print_error("case %zu: %s \"%s\", expected \"%s\"\n", i, lc_status_str(st), msg, want);
            bad++;
        }
    }
    if (bad) fail_msg("%d malformed cases wrong", bad);
    lc_graph *g;
    assert_fails(lc_graph_parse(NULL, &g), LC_ERR_INVALID_ARG, "text must not be NULL");
    assert_fails(lc_graph_parse("graph {\n}\n", NULL), LC_ERR_INVALID_ARG, "out must not be NULL");
}

/* Huge inputs: long lines, long numbers, many nodes. */
static void test_parse_extremes(void **state) {
    (void)state;
    size_t n = 1 << 20;
    char *text = malloc(n + 64);
    assert_non_null(text);
    /* A megabyte of letters where the op name should be. */
    strcpy(text, "graph {\n  %0 = ");
    size_t at = strlen(text);
    memset(text + at, 'a', n);
    strcpy(text + at + n, "(%0) : f32[]\n}\n");
    lc_graph *g;
    assert_fails(lc_graph_parse(text, &g), LC_ERR_PARSE, "2:8: unknown op 'aaaaaaaaaaaaaaaaaaaaaaaa...'");
    /* A thousand-digit number is still a number (it reads as the nearest double). */
    strcpy(text, "graph {\n  %0 = constant 0.");
    at = strlen(text);
    memset(text + at, '3', 1000);
    strcpy(text + at + 1000, " : f64[]\n}\n");
    assert_ok(lc_graph_parse(text, &g));
    assert_true(lc_graph_node(g, 0)->data[0] == 1.0 / 3.0);
    lc_graph_free(g);
    /* Column past the first megabyte. */
    strcpy(text, "graph {\n  %0 = constant 1 : f32[] name=\"x\"");
    at = strlen(text);
    memset(text + at, ' ', n);
    strcpy(text + at + n, "!\n}\n");
    char want[64];
    snprintf(want, sizeof want, "2:%zu: ", at - strlen("graph {\n") + n + 1);
    assert_fails(lc_graph_parse(text, &g), LC_ERR_PARSE, want);
    free(text);

    /* A long chain of nodes. */
    lc_graph *chain;
    int x;
    assert_ok(lc_graph_new(&chain));
    assert_ok(lc_input(chain, "x", LC_F32, lc_shape_make(0, NULL), &x));
    for (int i = 0; i < 5000; i++) assert_ok(lc_abs(chain, x, &x));
    assert_ok(lc_graph_add_output(chain, x));
    assert_ok(lc_graph_check_text_round_trip(chain));
    lc_graph_free(chain);
}

/* Deterministic mutations of a valid text: parse must return OK or LC_ERR_PARSE and never
 * crash or leak (run under valgrind / ASan); what parses must round-trip. */
static void test_mutations(void **state) {
    (void)state;
    lc_graph *base = small_graph();
    char *valid;
    assert_ok(lc_graph_to_string(base, &valid));
    lc_graph_free(base);
    size_t len = strlen(valid);
    static const char pieces[][24] = {"%", "%99", "[", "]", ",", "\"", "\\", "=", ":", "#", "\n",
                                      "-", "1e999", "nan", "inf", "99999999999999999999", "f64",
                                      "name=", "output %0", "()", " ", "0.", "constant [", "fold"};
    test_rng r = test_rng_seeded(7);
    char *buf = malloc(len * 2 + 64);
    assert_non_null(buf);
    int parsed = 0, failed = 0;
    for (int iter = 0; iter < 4000; iter++) {
        memcpy(buf, valid, len + 1);
        size_t cur = len;
        int edits = (int)test_rng_int(&r, 1, 3);
        for (int k = 0; k < edits && cur > 0; k++) {
            size_t pos = (size_t)test_rng_int(&r, 0, (int64_t)cur - 1);
            switch (test_rng_int(&r, 0, 4)) {
            case 0: /* truncate */
                cur = pos;
                break;
            case 1: /* flip to any non-NUL byte */
                buf[pos] = (char)test_rng_int(&r, 1, 255);
                break;
            case 2: /* delete a byte */
                memmove(buf + pos, buf + pos + 1, cur - pos);
                cur--;
                break;
            case 3: { /* insert a token */
                const char *p = pieces[test_rng_int(&r, 0, sizeof pieces / sizeof pieces[0] - 1)];
                size_t pl = strlen(p);
                if (cur + pl > len * 2 + 32) break;
                memmove(buf + pos + pl, buf + pos, cur - pos);
                memcpy(buf + pos, p, pl);
                cur += pl;
                break;
            }
            default: /* swap a digit */
                if (buf[pos] >= '0' && buf[pos] <= '9') buf[pos] = (char)('0' + test_rng_int(&r, 0, 9));
                break;
            }
            buf[cur] = '\0';
        }
        lc_graph *g = (lc_graph *)0x1;
        lc_status st = lc_graph_parse(buf, &g);
        if (st == LC_OK) {
            parsed++;
            assert_non_null(g);
            lc_status rt = lc_graph_check_text_round_trip(g);
            if (rt != LC_OK) fail_msg("iteration %d: %s\n%s", iter, lc_last_error(), buf);
            lc_graph_free(g);
        } else {
            failed++;
            if (st != LC_ERR_PARSE) fail_msg("iteration %d: %s: %s\n%s", iter, lc_status_str(st), lc_last_error(), buf);
            assert_null(g);
            /* Every message starts with "line:col: ". */
            unsigned line, col;
            char colon;
            if (sscanf(lc_last_error(), "%u:%u%c", &line, &col, &colon) != 3 || colon != ':' || line == 0 || col == 0)
                fail_msg("iteration %d: message without a position: %s", iter, lc_last_error());
        }
    }
    /* Both outcomes occur, so the loop exercises the parser rather than its first check. */
    assert_true(parsed > 100);
    assert_true(failed > 1000);
    free(buf);
    free(valid);
}

static char *dot_of(const lc_graph *g) {
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_ok(lc_graph_print_dot(g, f));
    long len = ftell(f);
    rewind(f);
    char *text = malloc((size_t)len + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
    text[len] = '\0';
    fclose(f);
    return text;
}

static void test_dot(void **state) {
    (void)state;
    lc_graph *g = small_graph();
    int q;
    assert_ok(lc_input(g, "a\"b\\c", LC_F32, lc_shape_make(0, NULL), &q));
    char *dot = dot_of(g);
    assert_true(strncmp(dot, "digraph lucid {\n", 16) == 0);
    assert_non_null(strstr(dot, "  n0 [label=\"%0 input\\nf32[2,8,16]\\n\\\"x\\\"\", shape=invhouse];\n"));
    assert_non_null(strstr(dot, "  n1 [label=\"%1 unfold\\ndim=2 size=4 step=4 pad_lo=0 pad_hi=0\\nf32[2,8,4,4]"
                                "\\n\\\"LPPool1d.unfold\\\"\"];\n  n0 -> n1;\n"));
    assert_non_null(strstr(dot, "  n3 [label=\"%3 pow\\nzero_pole=0 exponent=2\\nf32[2,8,4,4]\"];\n  n2 -> n3;\n"));
    assert_non_null(strstr(dot, "  n4 [label=\"%4 sum\\ndim=3\\nf32[2,8,4]\", style=bold, peripheries=2];\n"));
    assert_non_null(strstr(dot, "  n5 [label=\"%5 constant [1, 2.5, 3, 4]\\nf32[4]\", shape=note];\n"));
    assert_non_null(strstr(dot, "  n6 [label=\"%6 constant 2\\nf32[]\", shape=note];\n"));
    assert_non_null(strstr(dot, "  n4 -> n7 [label=\"0\"];\n  n5 -> n7 [label=\"1\"];\n"));
    assert_non_null(strstr(dot, "  out0 [label=\"output 0\", shape=plaintext];\n  n4 -> out0;\n"));
    assert_non_null(strstr(dot, "  out1 [label=\"output 1\", shape=plaintext];\n  n8 -> out1;\n"));
    assert_non_null(strstr(dot, "\\n\\\"a\\\"b\\\\c\\\"\", shape=invhouse];\n"));
    assert_true(strcmp(dot + strlen(dot) - 2, "}\n") == 0);
    /* Deterministic. */
    char *again = dot_of(g);
    assert_string_equal(dot, again);
    free(again);
    free(dot);
    lc_graph_free(g);

    /* Long constants are abbreviated. */
    assert_ok(lc_graph_new(&g));
    double v[20];
    for (int i = 0; i < 20; i++) v[i] = i;
    int64_t twenty = 20;
    assert_ok(lc_constant(g, LC_F64, lc_shape_make(1, &twenty), v, &q));
    dot = dot_of(g);
    assert_non_null(strstr(dot, "[0, 1, 2, 3, 4, 5, 6, 7, ... (20 values)]"));
    free(dot);
    lc_graph_free(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_print_exact),
        cmocka_unit_test(test_parse_tolerant),
        cmocka_unit_test(test_every_op),
        cmocka_unit_test(test_round_trip_awkward),
        cmocka_unit_test(test_round_trip_random_values),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_parse_extremes),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_dot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
