/* A long elementwise chain (10,000 `abs` nodes once overflowed codegen's stack through
 * lc_emit_compute/lc_emit_value recursion): fuse materializes a node wherever the inline
 * expression would pass LC_INLINE_DEPTH_MAX, every kernel's schedule stays within it, and the
 * JIT compiles the chain, forward and backward, to the interpreter's values. Chained pools
 * stay within the emitted-code bound (LC_EMIT_BUDGET). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jit_harness.h"
#include "lucid/model_spec.h"
#include "passes/kernel.h"

/* %i = abs(%i-1), or mul(%i-1, %0) when `mul` (a product simplify reads as a tree) */
static lc_graph *chain(int n, bool mul) {
    size_t cap = (size_t)n * 48 + 256, len = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    len += (size_t)snprintf(text + len, cap - len, "graph {\n  %%0 = input \"x\" : f64[1,1,4]\n");
    for (int i = 1; i <= n; i++)
        len += (size_t)snprintf(text + len, cap - len,
                                mul ? "  %%%d = mul(%%%d, %%0) : f64[1,1,4]\n" : "  %%%d = abs(%%%d) : f64[1,1,4]\n",
                                i, i - 1);
    snprintf(text + len, cap - len, "  output %%%d\n}\n", n);
    lc_graph *g;
    assert_ok(lc_graph_parse(text, &g));
    free(text);
    return g;
}

static void check_chain(int n, bool mul, bool backward) {
    lc_graph *g = chain(n, mul), *ad;
    if (backward)
        assert_ok(lc_autodiff(g, NULL, 0, NULL, 0, &ad));
    else
        assert_ok(lc_graph_clone(g, &ad));
    lc_fused *f;
    assert_ok(lc_fuse(ad, &f));
    int limited = 0;
    for (int i = 0; i < lc_graph_node_count(f->graph); i++)
        limited += f->why[i] && (strstr(f->why[i], "inline depth limit") || strstr(f->why[i], "shared inline limit"));
    assert_true(limited >= lc_graph_node_count(ad) / LC_INLINE_DEPTH_MAX - 2);
    for (int k = 0; k < f->n_kernels; k++) {
        assert_true(f->kernels[k].sched.inline_depth >= 1);
        assert_true(f->kernels[k].sched.inline_depth <= LC_INLINE_DEPTH_MAX);
    }
    lc_fused_free(f);

    test_rng r = test_rng_seeded((uint64_t)n);
    lc_tensor **in = jit_random_inputs(ad, &r, 1.0);
    /* the mul chain underflows to within a subnormal of 0, where the simplified product's
     * rounding may differ from the literal one's in the last subnormal bit */
    jit_check_once(ad, in, 0, mul ? 1e-300 : 0);
    jit_free_tensors(in, lc_graph_input_count(ad));
    lc_graph_free(ad);
    lc_graph_free(g);
}

static void test_chain_10000(void **state) {
    (void)state;
    check_chain(10000, false, true);
}

/* 100,000 nodes forward (the backward of that many still spends minutes in other passes) */
static void test_chain_100000(void **state) {
    (void)state;
    check_chain(100000, false, false);
    check_chain(100000, true, false);
}

/* %i = add(%i-1, %i-1): every node read twice, so the inline expression of %n has 2^n paths.
 * Fuse materializes a node read more than once whose expression passes LC_INLINE_SHARED_MAX
 * nodes, so collecting the kernels, their cost estimate and the code emitted for them stay
 * linear (before, a 60-node chain never finished: every pass walked each path). The values
 * are x·2^n, exact in float64, on the JIT as on the interpreter. */
static void test_shared_chain(void **state) {
    (void)state;
    enum { N = 60 };
    char text[8192];
    size_t len = (size_t)snprintf(text, sizeof text, "graph {\n  %%0 = input \"x\" : f64[1,1,4]\n");
    for (int i = 1; i <= N; i++)
        len += (size_t)snprintf(text + len, sizeof text - len, "  %%%d = add(%%%d, %%%d) : f64[1,1,4]\n", i,
                                i - 1, i - 1);
    snprintf(text + len, sizeof text - len, "  output %%%d\n}\n", N);
    lc_graph *g;
    assert_ok(lc_graph_parse(text, &g));
    alarm(120); /* SIGALRM's default action ends the process: a hang fails the test */
    lc_fused *f;
    assert_ok(lc_fuse(g, &f));
    int shared = 0;
    for (int i = 0; i < lc_graph_node_count(f->graph); i++)
        shared += f->why[i] && strstr(f->why[i], "shared inline limit") != NULL;
    assert_true(shared >= N / 8);
    for (int k = 0; k < f->n_kernels; k++) assert_true(f->kernels[k].cost <= 2 * LC_INLINE_SHARED_MAX + 2);
    lc_fused_free(f);
    test_rng r = test_rng_seeded(N);
    lc_tensor **in = jit_random_inputs(g, &r, 1.0);
    jit_check_once(g, in, 0, 0);
    alarm(0);
    jit_free_tensors(in, 1);
    lc_graph_free(g);
}

/* Nodes fuse materialized for the emitted-code limit (LC_EMIT_BUDGET) in the model's graph. */
static int emit_limited(const char *spec, lc_dtype dt, lc_shape in, bool backward) {
    lc_module *m;
    assert_ok(lc_model_parse(spec, "test", &m));
    lc_graph *g = jit_module_graph(m, dt, in, backward);
    lc_fused *f;
    assert_ok(lc_fuse(g, &f));
    int limited = 0;
    for (int i = 0; i < lc_graph_node_count(f->graph); i++)
        limited += f->why[i] && strstr(f->why[i], "emitted-code limit") != NULL;
    lc_fused_free(f);
    lc_graph_free(g);
    lc_module_free(m);
    return limited;
}

/* Chained pools whose windows do not overlap inline each other, and an LP norm's fix-up forms
 * emit its window again per stage: three LP norms of general p (a pipeline fuzz finding, on a
 * zero-size input, where nothing even runs) emitted 27 MB of LLVM IR and compiled for 8 s,
 * two for 1-1.5 s. Fuse now materializes the inner norms once the estimate passes
 * LC_EMIT_BUDGET; the values stay the interpreter's (the alarm makes a compile of minutes, as
 * before, a failure). The pipelines the bench times, a pool alone, the demo's two stages and
 * the convolution before its pool, stay one kernel as before. */
static void test_chained_lp_code_bound(void **state) {
    (void)state;
    const char *chain = "LPPool1d(7.25, 6, 4, ceil_mode=True)\nLPPool1d(0.25, 6)\nLPPool1d(60, 6, ceil_mode=True)\n";
    int64_t d[3] = {2, 3, 30};
    lc_shape in = lc_shape_make(3, d);
    assert_int_equal(emit_limited(chain, LC_F64, in, false), 2);
    assert_true(emit_limited(chain, LC_F32, in, true) >= 2);
    alarm(120);
    lc_module *m;
    assert_ok(lc_model_parse(chain, "test", &m));
    int fwd = 0, fwdbwd = 0;
    jit_check_module(m, LC_F64, in, 7, &fwd, &fwdbwd);
    assert_int_equal(fwd, 3);
    jit_check_module(m, LC_F32, in, 8, NULL, NULL);
    alarm(0);
    lc_module_free(m);

    int64_t pool[3] = {8, 64, 4096}, conv[3] = {16, 16, 4096};
    const char *kept[] = {"LPPool1d(2, 4)\n", "LPPool1d(2.7, 4, 4)\n", "LPPool1d(2, 64)\n", "AvgPool1d(3, 1, 1)\n",
                          "AvgPool1d(3, 1, 1)\nLPPool1d(2, 4)\n", "LPPool1d(2, 4)\nLPPool1d(2, 4)\n"};
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++)
        for (int b = 0; b < 2; b++) assert_int_equal(emit_limited(kept[i], LC_F32, lc_shape_make(3, pool), b), 0);
    for (int b = 0; b < 2; b++)
        assert_int_equal(emit_limited("Conv1d(16, 32, 3, padding=1)\nAvgPool1d(2)\n", LC_F32, lc_shape_make(3, conv), b), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain_10000),
        cmocka_unit_test(test_chain_100000),
        cmocka_unit_test(test_shared_chain),
        cmocka_unit_test(test_chained_lp_code_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
