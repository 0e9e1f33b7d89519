/* The point of the LP rewrite, through the JIT: compiled in f32, autodiff's LPPool1d backward
 * after the default pipeline is finite for p = 60 and |x| up to 1e3 and agrees with the
 * interpreter within the JIT's tolerance (rtol 1e-4, atol 1e-6). Without the rewrite
 * the f32 kernel computes |x|^59 and overflows (printed for comparison, not asserted: that
 * is codegen's business). */
#include "test_passes_common.h"
#include "lucid/autodiff.h"
#include "lucid/nn.h"
#include "lucid/program.h"

static lc_graph *lppool_backward(double p, int64_t k, int64_t stride, lc_shape in) {
    lc_lppool1d_params prm = lc_lppool1d_defaults(p, k);
    prm.stride = stride;
    lc_module *m;
    assert_ok(lc_lppool1d_new(&prm, &m));
    lc_graph *g, *ad;
    assert_ok(lc_module_graph(m, LC_F32, in, &g));
    assert_ok(lc_autodiff(g, NULL, 0, NULL, 0, &ad));
    lc_graph_free(g);
    lc_module_free(m);
    return ad;
}

static int count_nonfinite(lc_tensor **t, int n) {
    int bad = 0;
    for (int k = 0; k < n; k++)
        for (int64_t i = 0; i < lc_tensor_numel(t[k]); i++) bad += !isfinite(lc_tensor_get(t[k], i));
    return bad;
}

static lc_tensor **run_program(const lc_graph *g, lc_tensor **in, lc_tensor **out) {
    lc_program *prog;
    assert_ok(lc_compile(g, NULL, &prog));
    assert_ok(lc_program_run(prog, (const lc_tensor *const *)in, lc_graph_input_count(g), out,
                             lc_graph_output_count(g)));
    lc_program_free(prog);
    return out;
}

static void test_large_p_backward_is_finite(void **state) {
    (void)state;
    static const struct {
        double p;
        int64_t k, stride;
    } cases[] = {{60, 4, 4}, {60, 5, 2}, {7, 3, 1}, {2.5, 4, 3}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        lc_graph *ad = lppool_backward(cases[c].p, cases[c].k, cases[c].stride, test_shape3(2, 3, 64));
        lc_graph *opt;
        lc_pipeline_options opts = lc_pipeline_options_default();
        opts.verify = true;
        assert_ok(lc_pipeline_run_default(ad, false, &opts, &opt));
        test_rng r = test_rng_seeded(100 + c);
        lc_tensor *in[2], *jit[2], *ref[2], *orig[2];
        random_inputs(opt, &r, 1e3, in);
        for (int64_t i = 0; i < cases[c].k; i++) lc_tensor_set(in[0], i, 0.0); /* a zero window */
        lc_tensor_set(in[0], 10, 1e3);
        lc_tensor_set(in[0], 11, -1e3);
        run_program(opt, in, jit);
        eval_graph(opt, in, ref);
        if (count_nonfinite(jit, 2) != 0)
            fail_msg("p = %g: %d non-finite values from the JIT", cases[c].p, count_nonfinite(jit, 2));
        for (int k = 0; k < 2; k++) assert_tensor_close(jit[k], ref[k], 1e-4, 1e-6);
        run_program(ad, in, orig);
        print_message("p = %g, |x| <= 1e3, f32 JIT: %d non-finite values without the rewrite, 0 with it\n",
                      cases[c].p, count_nonfinite(orig, 2));
        free_tensors(in, 2);
        free_tensors(jit, 2);
        free_tensors(ref, 2);
        free_tensors(orig, 2);
        lc_graph_free(opt);
        lc_graph_free(ad);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_large_p_backward_is_finite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
