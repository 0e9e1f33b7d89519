/* The pass registry, the pipeline driver (order, hook, dump, verification, errors) and the
 * cse and dce passes: what they merge and drop and what they must keep (inputs, outputs in
 * order, names), values through the interpreter, idempotence. */
#include <stdio.h>

#include "test_passes_common.h"
#include "ir/graph_internal.h"
#include "passes/pass.h"
#include "passes/pipeline.h"
#include "support/error.h"

static lc_graph *new_graph(void) {
    lc_graph *g;
    assert_ok(lc_graph_new(&g));
    return g;
}

/* ---- registry ---- */

static void test_registry(void **state) {
    (void)state;
    const char *order[] = {"simplify", "cse", "dce"};
    int last = -1;
    for (int k = 0; k < 3; k++) {
        const lc_pass *p = lc_pass_find(order[k]);
        assert_non_null(p);
        assert_string_equal(p->name, order[k]);
        int at = -1;
        for (int i = 0; i < lc_pass_count(); i++)
            if (lc_pass_at(i) == p) at = i;
        assert_true(at > last); /* stages.def order is the pipeline order */
        last = at;
    }
    assert_null(lc_pass_find("fuse")); /* fuse makes kernels, not a graph */
    assert_null(lc_pass_find("Simplify"));
    assert_null(lc_pass_find(""));
    assert_null(lc_pass_find(NULL));
    assert_null(lc_pass_at(-1));
    assert_null(lc_pass_at(lc_pass_count()));
}

static void test_default_names(void **state) {
    (void)state;
    const char *names[8];
    int n = lc_pipeline_default_names(false, names, 8);
    assert_int_equal(n, 3);
    assert_string_equal(names[0], "simplify");
    assert_string_equal(names[1], "cse");
    assert_string_equal(names[2], "dce");
    n = lc_pipeline_default_names(true, names, 8);
    assert_int_equal(n, lc_pass_count());
    if (lc_pass_find("autodiff")) assert_string_equal(names[0], "autodiff");
    assert_string_equal(names[n - 1], "dce");
    assert_int_equal(lc_pipeline_default_names(true, names, 1), n); /* count even when cap is short */
}

/* ---- pipeline ---- */

/* x -> abs(abs(x)) twice over (CSE merges), plus a dead pow. */
static lc_graph *small_graph(void) {
    lc_graph *g = new_graph();
    int x, a1, a2, b1, b2, dead, m;
    assert_ok(lc_input(g, "x", LC_F64, shape1(5), &x));
    assert_ok(lc_abs(g, x, &a1));
    assert_ok(lc_abs(g, a1, &a2));
    assert_ok(lc_abs(g, x, &b1));
    assert_ok(lc_abs(g, b1, &b2));
    assert_ok(lc_pow(g, x, 3, &dead));
    assert_ok(lc_mul(g, a2, b2, &m));
    assert_ok(lc_graph_set_name(g, m, "m"));
    assert_ok(lc_graph_add_output(g, m));
    return g;
}

typedef struct stage_log {
    int n;
    char names[8][16];
    bool changed[8];
    int nodes[8];
    int stop_at; /* return an error at this stage (-1: never) */
} stage_log;

static lc_status log_stage(const lc_stage_info *stage, void *user) {
    stage_log *log = user;
    assert_int_equal(stage->index, log->n);
    assert_true(stage->ms >= 0);
    snprintf(log->names[log->n], sizeof log->names[0], "%s", stage->name);
    log->changed[log->n] = stage->changed;
    log->nodes[log->n] = lc_graph_node_count(stage->graph);
    if (log->n++ == log->stop_at) return LC_ERR_IO;
    return LC_OK;
}

static void test_pipeline_hook_and_dump(void **state) {
    (void)state;
    lc_graph *g = small_graph(), *out;
    stage_log log = {.stop_at = -1};
    FILE *f = tmpfile();
    assert_non_null(f);
    lc_pipeline_options opts = {.verify = true, .on_stage = log_stage, .user = &log, .dump = f};
    assert_ok(lc_pipeline_run_default(g, false, &opts, &out));
    assert_int_equal(log.n, 3);
    assert_string_equal(log.names[0], "simplify");
    assert_string_equal(log.names[1], "cse");
    assert_string_equal(log.names[2], "dce");
    assert_true(log.changed[0] && log.changed[1] && log.changed[2]);
    assert_int_equal(log.nodes[2], lc_graph_node_count(out));
    assert_graph_text(out, "graph {\n"
                           "  %0 = input \"x\" : f64[5]\n"
                           "  %1 = abs(%0) : f64[5]\n"
                           "  %2 = mul(%1, %1) : f64[5] name=\"m\"\n"
                           "  output %2\n"
                           "}\n");
    assert_same_values(g, out, 3, 3, 2.0, 0, 0);

    /* The dump: each stage under its header, as the printer writes it. */
    long size = ftell(f);
    rewind(f);
    char *text = calloc((size_t)size + 1, 1);
    assert_int_equal(fread(text, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    const char *s1 = strstr(text, ";; stage simplify\ngraph {\n");
    const char *s2 = strstr(text, ";; stage cse\ngraph {\n");
    const char *s3 = strstr(text, ";; stage dce\ngraph {\n");
    assert_true(text == s1 && s1 < s2 && s2 < s3);
    char *last = graph_text(out);
    assert_string_equal(s3 + strlen(";; stage dce\n"), last);
    free(last);
    free(text);

    /* Running the optimized graph again changes nothing at any stage. */
    lc_graph *again;
    log = (stage_log){.stop_at = -1};
    opts.dump = NULL;
    assert_ok(lc_pipeline_run_default(out, false, &opts, &again));
    assert_false(log.changed[0] || log.changed[1] || log.changed[2]);
    assert_true(lc_graph_identical(out, again));
    lc_graph_free(again);
    lc_graph_free(out);
    lc_graph_free(g);
}

static void test_pipeline_hook_error_stops(void **state) {
    (void)state;
    lc_graph *g = small_graph(), *out = (lc_graph *)1;
    stage_log log = {.stop_at = 1};
    lc_pipeline_options opts = {.on_stage = log_stage, .user = &log};
    assert_int_equal(lc_pipeline_run_default(g, false, &opts, &out), LC_ERR_IO);
    assert_null(out);
    assert_int_equal(log.n, 2); /* simplify, cse; dce never ran */
    lc_graph_free(g);
}

static void test_pipeline_names_and_errors(void **state) {
    (void)state;
    lc_graph *g = small_graph(), *out = NULL;
    const char *just_dce[] = {"dce"};
    assert_ok(lc_pipeline_run(g, just_dce, 1, NULL, &out));
    assert_int_equal(lc_graph_node_count(out), lc_graph_node_count(g) - 1); /* the dead pow */
    lc_graph_free(out);

    assert_ok(lc_pipeline_run(g, NULL, 0, NULL, &out)); /* no passes: a copy */
    assert_true(lc_graph_identical(g, out));
    lc_graph_free(out);

    const char *bad[] = {"simplify", "nope"};
    out = (lc_graph *)1;
    assert_fails(lc_pipeline_run(g, bad, 2, NULL, &out), LC_ERR_INVALID_ARG,
                 "pipeline: unknown pass \"nope\" (known: ");
    assert_null(out);
    assert_true(strstr(lc_last_error(), "simplify, cse, dce") != NULL);
    assert_fails(lc_pass_run("nope", g, &out), LC_ERR_INVALID_ARG, "unknown pass \"nope\"");
    assert_fails(lc_pass_run(NULL, g, &out), LC_ERR_INVALID_ARG, "unknown pass \"(null)\"");
    assert_fails(lc_pass_run("dce", NULL, &out), LC_ERR_INVALID_ARG, "graph must not be NULL");
    assert_fails(lc_pass_run("dce", g, NULL), LC_ERR_INVALID_ARG, "out must not be NULL");
    assert_fails(lc_pipeline_run(NULL, just_dce, 1, NULL, &out), LC_ERR_INVALID_ARG, "graph must not be NULL");
    assert_fails(lc_pipeline_run(g, just_dce, 1, NULL, NULL), LC_ERR_INVALID_ARG, "out must not be NULL");
    assert_fails(lc_pipeline_run(g, NULL, 2, NULL, &out), LC_ERR_INVALID_ARG, "list of 2 pass names");
    assert_fails(lc_pipeline_run(g, just_dce, -1, NULL, &out), LC_ERR_INVALID_ARG, "list of -1 pass names");
    lc_graph_free(g);
}

/* A pass that returns a graph whose last node has a wrong recorded shape: only a bug could do
 * this, and the verifier between passes must catch it. */
static lc_status broken_pass(const lc_graph *in, lc_graph **out) {
    LC_TRY(lc_graph_clone(in, out));
    (*out)->nodes[(*out)->count - 1]->shape.dim[0] += 1;
    return LC_OK;
}

static lc_status failing_pass(const lc_graph *in, lc_graph **out) {
    (void)in;
    *out = NULL;
    return lc_fail(LC_ERR_UNSUPPORTED, "failing: no");
}

static void test_pipeline_verifies_between_passes(void **state) {
    (void)state;
    lc_graph *g = small_graph(), *out;
    const lc_pass broken = {"broken", broken_pass}, failing = {"failing", failing_pass};
    const lc_pass *passes[] = {lc_pass_find("simplify"), &broken, lc_pass_find("dce")};
    lc_pipeline_options opts = {.verify = true};
    assert_fails(lc_pipeline_run_passes(g, passes, 3, &opts, &out), LC_ERR_INTERNAL,
                 "pipeline: pass broken broke the graph: verify: node %4 (mul)");
    assert_null(out);
    opts.verify = false; /* release builds skip the check */
    assert_ok(lc_pipeline_run_passes(g, passes, 2, &opts, &out));
    lc_graph_free(out);

    const lc_pass *failing_list[] = {lc_pass_find("cse"), &failing};
    assert_fails(lc_pipeline_run_passes(g, failing_list, 2, &opts, &out), LC_ERR_UNSUPPORTED, "failing: no");
    assert_null(out);

    /* A broken input graph is reported as such, before any pass runs. */
    lc_graph *bad;
    assert_ok(lc_graph_clone(g, &bad));
    bad->nodes[1]->shape.dim[0] = 4;
    opts.verify = true;
    assert_fails(lc_pipeline_run_default(bad, false, &opts, &out), LC_ERR_SHAPE, "pipeline: input graph: verify: node %1");
    lc_graph_free(bad);
    lc_graph_free(g);
}

static void test_default_options(void **state) {
    (void)state;
    lc_pipeline_options o = lc_pipeline_options_default();
#ifdef NDEBUG
    assert_false(o.verify);
#else
    assert_true(o.verify);
#endif
    assert_null(o.on_stage);
    assert_null(o.dump);
}

/* ---- dce ---- */

static void test_dce(void **state) {
    (void)state;
    lc_graph *g = new_graph();
    int a, b, c, u1, d1, d2, u2, y2;
    assert_ok(lc_input(g, "a", LC_F64, shape1(4), &a));
    assert_ok(lc_input(g, "unused", LC_F64, shape1(3), &b)); /* a parameter nothing reads */
    assert_ok(lc_abs(g, a, &d1));                             /* dead */
    assert_ok(lc_input(g, "c", LC_F64, shape1(4), &c));
    assert_ok(lc_mul(g, a, c, &u1));
    assert_ok(lc_graph_set_name(g, u1, "ac"));
    assert_ok(lc_pow(g, d1, 2, &d2));                         /* dead */
    assert_ok(lc_sign(g, c, &u2));
    assert_ok(lc_graph_set_name(g, u2, "sc"));
    assert_ok(lc_add(g, u1, u2, &y2));
    assert_ok(lc_graph_add_output(g, u2)); /* outputs out of node order */
    assert_ok(lc_graph_add_output(g, y2));
    assert_ok(lc_graph_add_output(g, a));  /* an input as output */
    lc_graph *d = run_checked("dce", g);
    assert_same_values(g, d, 5, 3, 2.0, 0, 0);
    assert_graph_text(d, "graph {\n"
                         "  %0 = input \"a\" : f64[4]\n"
                         "  %1 = input \"unused\" : f64[3]\n"
                         "  %2 = input \"c\" : f64[4]\n"
                         "  %3 = mul(%0, %2) : f64[4] name=\"ac\"\n"
                         "  %4 = sign(%2) : f64[4] name=\"sc\"\n"
                         "  %5 = add(%3, %4) : f64[4]\n"
                         "  output %4, %5, %0\n"
                         "}\n");
    lc_graph_free(d);
    lc_graph_free(g);
}

static void test_dce_no_outputs(void **state) {
    (void)state;
    lc_graph *g = new_graph();
    int x, y;
    assert_ok(lc_input(g, "x", LC_F32, shape1(2), &x));
    assert_ok(lc_abs(g, x, &y));
    lc_graph *d = run_checked("dce", g);
    assert_int_equal(lc_graph_node_count(d), 1); /* only the parameter */
    lc_graph_free(d);
    lc_graph_free(g);

    g = new_graph(); /* the empty graph */
    d = run_checked("dce", g);
    assert_int_equal(lc_graph_node_count(d), 0);
    lc_graph_free(d);
    d = run_checked("cse", g);
    lc_graph_free(d);
    d = run_checked("simplify", g);
    lc_graph_free(d);
    lc_graph_free(g);
}

/* ---- cse ---- */

static void test_cse_merges(void **state) {
    (void)state;
    lc_graph *g = new_graph();
    int x, y, u1, u2, a1, a2, m1, m2, c1, c2, c3, c4, s1, s2, add;
    double three[] = {1, 2, 3}, three_b[] = {1, 2, 3}, other[] = {1, 2, 4};
    assert_ok(lc_input(g, "x", LC_F64, test_shape3(1, 2, 9), &x));
    assert_ok(lc_input(g, "y", LC_F64, test_shape3(1, 2, 9), &y)); /* same shape: never merged */
    assert_ok(lc_unfold(g, x, 2, 3, 3, 0, 0, &u1));
    assert_ok(lc_graph_set_name(g, u1, "first"));
    assert_ok(lc_unfold(g, x, 2, 3, 3, 0, 0, &u2));
    assert_ok(lc_graph_set_name(g, u2, "second"));
    assert_ok(lc_abs(g, u1, &a1));
    assert_ok(lc_abs(g, u2, &a2)); /* same once u2 is u1 */
    assert_ok(lc_graph_set_name(g, a2, "named later"));
    assert_ok(lc_constant(g, LC_F64, shape1(3), three, &c1));
    assert_ok(lc_constant(g, LC_F64, shape1(3), three_b, &c2)); /* same data */
    assert_ok(lc_constant(g, LC_F64, shape1(3), other, &c3));   /* different data */
    assert_ok(lc_mul(g, a1, c1, &m1));
    assert_ok(lc_mul(g, c2, a2, &m2)); /* commuted */
    assert_ok(lc_sum(g, m1, 3, &s1));
    assert_ok(lc_sum(g, m2, 3, &s2));
    assert_ok(lc_add(g, s1, s2, &add));
    int64_t three_dims = 3;
    assert_ok(lc_constant(g, LC_F64, lc_shape_make(1, &three_dims), other, &c4));
    int m3, s3, xy;
    assert_ok(lc_mul(g, a1, c3, &m3));
    assert_ok(lc_sum(g, m3, 3, &s3));
    assert_ok(lc_add(g, x, y, &xy));
    assert_ok(lc_graph_add_output(g, add));
    assert_ok(lc_graph_add_output(g, s3));
    assert_ok(lc_graph_add_output(g, xy));
    lc_graph *c = run_checked("cse", g);
    assert_same_values(g, c, 6, 3, 2.0, 0, 0);
    lc_graph *d = run_checked("dce", c);
    assert_graph_text(d, "graph {\n"
                         "  %0 = input \"x\" : f64[1,2,9]\n"
                         "  %1 = input \"y\" : f64[1,2,9]\n"
                         "  %2 = unfold(%0) dim=2 size=3 step=3 pad_lo=0 pad_hi=0 : f64[1,2,3,3] name=\"first\"\n"
                         "  %3 = abs(%2) : f64[1,2,3,3] name=\"named later\"\n"
                         "  %4 = constant [1, 2, 3] : f64[3]\n"
                         "  %5 = constant [1, 2, 4] : f64[3]\n"
                         "  %6 = mul(%3, %4) : f64[1,2,3,3]\n"
                         "  %7 = sum(%6) dim=3 : f64[1,2,3]\n"
                         "  %8 = add(%7, %7) : f64[1,2,3]\n"
                         "  %9 = mul(%3, %5) : f64[1,2,3,3]\n"
                         "  %10 = sum(%9) dim=3 : f64[1,2,3]\n"
                         "  %11 = add(%0, %1) : f64[1,2,9]\n"
                         "  output %8, %10, %11\n"
                         "}\n");
    (void)c4;
    lc_graph_free(d);
    lc_graph_free(c);
    lc_graph_free(g);
}

/* Attributes and data compare bit for bit: pow zero_pole, div safe, 0 vs -0, f32 vs f64. */
static void test_cse_near_misses(void **state) {
    (void)state;
    lc_graph *g = new_graph();
    int x, x64, p1, p2, d1, d2, z1, z2, f1, f2, e1, e2;
    double zero = 0.0, neg_zero = -0.0;
    assert_ok(lc_input(g, "x", LC_F32, shape1(4), &x));
    assert_ok(lc_input(g, "x64", LC_F64, shape1(4), &x64));
    assert_ok(lc_pow(g, x, -1, &p1));
    assert_ok(lc_pow_zero_pole(g, x, -1, &p2));
    assert_ok(lc_div(g, x, p1, &d1));
    assert_ok(lc_div_safe(g, x, p1, &d2));
    assert_ok(lc_constant(g, LC_F32, shape1(1), &zero, &z1));
    assert_ok(lc_constant(g, LC_F32, shape1(1), &neg_zero, &z2));
    assert_ok(lc_scalar(g, LC_F32, 1.0, &f1));
    assert_ok(lc_scalar(g, LC_F64, 1.0, &f2));
    assert_ok(lc_expand(g, x, 0, 2, &e1));
    assert_ok(lc_expand(g, x, 1, 2, &e2));
    int outs[] = {p1, p2, d1, d2, z1, z2, f1, f2, e1, e2, x64};
    for (int k = 0; k < 11; k++) assert_ok(lc_graph_add_output(g, outs[k]));
    lc_graph *c = run_checked("cse", g);
    assert_true(lc_graph_identical(g, c));
    lc_graph_free(c);
    lc_graph_free(g);
}

/* Two outputs that CSE makes one node stay two outputs (an output names a node once), in order. */
static void test_cse_duplicate_outputs(void **state) {
    (void)state;
    lc_graph *g = new_graph();
    int x, a1, a2, s1, s2;
    assert_ok(lc_input(g, "x", LC_F64, shape1(3), &x));
    assert_ok(lc_abs(g, x, &a1));
    assert_ok(lc_abs(g, x, &a2));
    assert_ok(lc_graph_set_name(g, a2, "second"));
    assert_ok(lc_sign(g, a1, &s1));
    assert_ok(lc_sign(g, a2, &s2));
    assert_ok(lc_graph_add_output(g, a2));
    assert_ok(lc_graph_add_output(g, a1));
    assert_ok(lc_graph_add_output(g, s1));
    assert_ok(lc_graph_add_output(g, s2));
    lc_graph *c = run_checked("cse", g);
    assert_same_values(g, c, 4, 2, 2.0, 0, 0);
    assert_int_equal(lc_graph_output_count(c), 4);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < i; j++) assert_int_not_equal(lc_graph_output(c, i), lc_graph_output(c, j));
    assert_string_equal(lc_graph_node(c, lc_graph_output(c, 0))->name, "second");
    lc_graph *p;
    assert_ok(lc_pipeline_run_default(g, false, NULL, &p)); /* and through the whole pipeline */
    assert_same_values(g, p, 4, 2, 2.0, 0, 0);
    lc_graph_free(p);
    lc_graph_free(c);
    lc_graph_free(g);
}

/* A graph too big for a quadratic pass to go unnoticed: 30000 nodes, a third duplicates. */
static void test_cse_large(void **state) {
    (void)state;
    lc_graph *g = new_graph();
    int x, prev;
    assert_ok(lc_input(g, "x", LC_F64, shape1(2), &x));
    prev = x;
    for (int i = 0; i < 10000; i++) {
        int a, b;
        assert_ok(lc_abs(g, prev, &a));
        assert_ok(lc_abs(g, prev, &b));
        assert_ok(lc_add(g, a, b, &prev));
    }
    assert_ok(lc_graph_add_output(g, prev));
    lc_graph *c, *d, *s;
    assert_ok(lc_pass_run("cse", g, &c));
    assert_ok(lc_pass_run("dce", c, &d));
    assert_int_equal(lc_graph_node_count(d), 1 + 2 * 10000);
    assert_ok(lc_pass_run("simplify", g, &s)); /* every abs but the first two reads a sum of abs */
    assert_int_equal(lc_graph_node_count(s), 1 + 2 + 10000);
    lc_graph_free(s);
    lc_graph_free(d);
    lc_graph_free(c);
    lc_graph_free(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_default_names),
        cmocka_unit_test(test_pipeline_hook_and_dump),
        cmocka_unit_test(test_pipeline_hook_error_stops),
        cmocka_unit_test(test_pipeline_names_and_errors),
        cmocka_unit_test(test_pipeline_verifies_between_passes),
        cmocka_unit_test(test_default_options),
        cmocka_unit_test(test_dce),
        cmocka_unit_test(test_dce_no_outputs),
        cmocka_unit_test(test_cse_merges),
        cmocka_unit_test(test_cse_near_misses),
        cmocka_unit_test(test_cse_duplicate_outputs),
        cmocka_unit_test(test_cse_large),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
