/* The short normal-range power by AVX-512's exponent instructions (codegen/vmath.c,
 * lc_vmath_pow_normal_avx512). For a named AVX-512 target (LUCID_CPU=skylake-avx512 with
 * LUCID_CPU_FEATURES naming avx512f, avx512dq and fma, set before the first compile, so the
 * assembly does not depend on the machine) every pipeline that takes the short power has its
 * 16-lane form in the kernels: vgetexpps, vgetmantps, vpermps (log2's tables), vreduceps and
 * vscalefps, and no call
 * left (the loop vectorizer took the vector variant, the pass list inlined it). Where the
 * host runs AVX-512 DQ, the same programs run against the interpreter on windows of every
 * magnitude from subnormal to near float32's largest, with zeros, infs and NaNs among them.
 * (test_jit_vectorized checks that an AVX2 target keeps the bit arithmetic.)
 * The same for the terms of a half-integer p whose y nothing reads: their square roots by
 * vrsqrt14ps (lc_vmath_sqrt_estimate_avx512), where a gradient's graph keeps vsqrtps. */
#include "codegen/codegen.h"
#include "jit_harness.h"

/* LPPool1d's with a general p (the short power for the terms and the root), forward and
 * forward+backward (the gradient's (|x|/y)^(p-1) by the short power too). */
static const double g_ps[] = {1.3, 2.7, 5.5};

static bool host_runs_avx512dq(void) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
#else
    return false;
#endif
}

static bool has(const char *text, const char *what) { return strstr(text, what) != NULL; }

static void kernels_take_the_avx512_power(void **state) {
    (void)state;
#if defined(__x86_64__)
    for (size_t i = 0; i < sizeof g_ps / sizeof *g_ps; i++)
        for (int backward = 0; backward < 2; backward++) {
            lc_module *m = test_lppool(g_ps[i], 4, 2, false);
            lc_graph *g = jit_module_graph(m, LC_F32, test_shape3(2, 3, 1024), backward);
            char *asm_text = jit_dump_text(g, "asm");
            const char *need[] = {"vgetexpps", "vgetmantps", "vpermps", "vreduceps", "vscalefps", "zmm"};
            for (size_t j = 0; j < sizeof need / sizeof *need; j++)
                if (!has(asm_text, need[j]))
                    fail_msg("LPPool1d(%g, 4, 2)%s: no %s in the kernels", g_ps[i], backward ? " backward" : "",
                             need[j]);
            if (has(asm_text, "call") && has(asm_text, "lc_pow_normal"))
                fail_msg("LPPool1d(%g, 4, 2)%s: a call to the short power is left", g_ps[i],
                         backward ? " backward" : "");
            free(asm_text);
            lc_graph_free(g);
            lc_module_free(m);
        }
#else
    skip();
#endif
}

/* x of every magnitude: |x| = 10^u, u uniform in [-40, 38.4], random sign; one element in
 * twenty 0, one in a hundred inf or NaN. */
static lc_tensor *all_magnitudes(const lc_node *in, test_rng *r) {
    lc_tensor *t = test_random_tensor(r, LC_F32, in->shape, 1.0);
    float *x = t->data;
    for (int64_t i = 0; i < lc_tensor_numel(t); i++) {
        double pick = test_rng_uniform(r, 0, 1);
        double v = pow(10.0, test_rng_uniform(r, -40, 38.4)) * (test_rng_uniform(r, 0, 1) < 0.5 ? -1 : 1);
        x[i] = pick < 0.05 ? 0.0f : pick < 0.055 ? INFINITY : pick < 0.06 ? NAN : (float)v;
    }
    return t;
}

/* LPPool1d(p, 4, stride) on x of every magnitude (forward, or with its gradient) against the
 * interpreter. */
static void check_every_magnitude(double p, int64_t stride, bool backward, uint64_t seed) {
    lc_module *m = test_lppool(p, 4, stride, false);
    lc_graph *g = jit_module_graph(m, LC_F32, test_shape3(2, 3, 1030), backward);
    test_rng r = test_rng_seeded(seed);
    lc_tensor **in = jit_random_inputs(g, &r, 1.0);
    lc_tensor_free(in[0]);
    in[0] = all_magnitudes(lc_graph_node(g, lc_graph_input(g, 0)), &r);
    jit_check_graph_inputs(g, in, JIT_RTOL, JIT_ATOL);
    jit_free_tensors(in, lc_graph_input_count(g));
    lc_graph_free(g);
    lc_module_free(m);
}

static void values_at_every_magnitude(void **state) {
    (void)state;
    if (!host_runs_avx512dq()) skip();
    for (size_t i = 0; i < sizeof g_ps / sizeof *g_ps; i++)
        for (int backward = 0; backward < 2; backward++) check_every_magnitude(g_ps[i], 2, backward, 17 + i);
}

/* Half-integer p: the terms |x|^k·sqrt|x|. */
static const double g_half_ps[] = {1.5, 2.5, 5.5};

static void forward_terms_take_the_root_estimate(void **state) {
    (void)state;
#if defined(__x86_64__)
    for (size_t i = 0; i < sizeof g_half_ps / sizeof *g_half_ps; i++)
        for (int backward = 0; backward < 2; backward++) {
            lc_module *m = test_lppool(g_half_ps[i], 4, backward ? 2 : LC_STRIDE_UNSET, false);
            lc_graph *g = jit_module_graph(m, LC_F32, test_shape3(2, 3, 1024), backward);
            char *asm_text = jit_dump_text(g, "asm");
            /* y read by the backward: the exact roots; a forward alone: the estimate only */
            if (has(asm_text, "vrsqrt14ps") == (bool)backward || has(asm_text, "vsqrtps") != (bool)backward)
                fail_msg("LPPool1d(%g, 4)%s: %s", g_half_ps[i], backward ? ", 2 backward" : "",
                         backward ? "the gradient's graph must keep vsqrtps" : "the terms must take vrsqrt14ps, not vsqrtps");
            if (has(asm_text, "call") && has(asm_text, "lc_sqrt_estimate"))
                fail_msg("LPPool1d(%g, 4): a call to the estimate is left", g_half_ps[i]);
            free(asm_text);
            lc_graph_free(g);
            lc_module_free(m);
        }
#else
    skip();
#endif
}

/* The estimate's values: y within the tolerance at every magnitude, zeros, infs and NaNs
 * among the inputs (a zero's estimate must stay 0, an inf's window goes to the fix-up);
 * windows apart and overlapping (every element in two). */
static void root_estimate_values_at_every_magnitude(void **state) {
    (void)state;
    if (!host_runs_avx512dq()) skip();
    for (size_t i = 0; i < sizeof g_half_ps / sizeof *g_half_ps; i++)
        for (int overlap = 0; overlap < 2; overlap++)
            check_every_magnitude(g_half_ps[i], overlap ? 2 : LC_STRIDE_UNSET, false, 41 + i);
}

/* A zero among a window's elements keeps the window in the plain form: the estimate's floor
 * keeps 0·rsqrt14 at 0, so no window of ordinary inputs with zeros goes to the fix-up (which
 * would still give the right values, so the values above cannot see it). */
static void zeros_stay_plain(void **state) {
    (void)state;
    if (!host_runs_avx512dq()) skip();
    lc_module *m = test_lppool(2.5, 4, LC_STRIDE_UNSET, false);
    lc_graph *g = jit_module_graph(m, LC_F32, test_shape3(2, 3, 1024), false);
    test_rng r = test_rng_seeded(5);
    lc_tensor **in = jit_random_inputs(g, &r, 1.0);
    float *x = in[0]->data;
    for (int64_t i = 0; i < lc_tensor_numel(in[0]); i += 3) x[i] = 0.0f; /* a zero in most windows */
    int before = lc_codegen_fixup_count();
    jit_check_graph_inputs(g, in, JIT_RTOL, JIT_ATOL);
    assert_int_equal(lc_codegen_fixup_count(), before);
    jit_free_tensors(in, lc_graph_input_count(g));
    lc_graph_free(g);
    lc_module_free(m);
}

int main(void) {
    setenv("LUCID_CPU", "skylake-avx512", 1);
    setenv("LUCID_CPU_FEATURES", "+avx512f,+avx512dq,+avx512vl,+avx512bw,+fma,+avx2,+avx", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kernels_take_the_avx512_power),
        cmocka_unit_test(values_at_every_magnitude),
        cmocka_unit_test(forward_terms_take_the_root_estimate),
        cmocka_unit_test(root_estimate_values_at_every_magnitude),
        cmocka_unit_test(zeros_stay_plain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
