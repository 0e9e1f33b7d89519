/* Every forward case of tests/conformance the modules can express (all of torch/, the
 * 1-D cases of onnx/), through the interpreter, within each case's tolerance. */
#include <stdio.h>
#include <string.h>

#include "lucid/npy.h"
#include "lucid/runtime.h"
#include "support/conformance.h"
#include "support/testutil.h"

/* Run the case's module on input.npy and compare with `expected_file`. */
static void run_forward(const test_case *c, const char *expected_file) {
    lc_tensor *x, *want, *y;
    assert_ok(lc_npy_read(test_case_file(c, "input.npy"), &x));
    assert_ok(lc_npy_read(test_case_file(c, expected_file), &want));
    lc_graph *g;
    assert_ok(lc_module_graph(c->module, x->dtype, x->shape, &g));
    assert_ok(lc_interp_run(g, (const lc_tensor *const *)&x, 1, &y, 1));
    assert_tensor_close(y, want, c->rtol, c->atol);
    lc_tensor_free(y);
    lc_tensor_free(want);
    lc_tensor_free(x);
    lc_graph_free(g);
}

static int run_dir(const char *root, const char *expected_file, int *skipped) {
    int count, ran = 0;
    char **names = test_case_list(root, &count);
    for (int i = 0; i < count; i++) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/%s", root, names[i]);
        test_case c;
        test_case_load(dir, &c);
        if (c.module) {
            run_forward(&c, expected_file);
            ran++;
        } else {
            (*skipped)++;
        }
        test_case_free(&c);
    }
    test_case_list_free(names, count);
    return ran;
}

static void test_torch_forward(void **state) {
    (void)state;
    int skipped = 0;
    assert_int_equal(run_dir(test_source_path("tests/conformance/torch"), "expected_out.npy", &skipped), 23);
    assert_int_equal(skipped, 0);
}

static void test_onnx_1d_forward(void **state) {
    (void)state;
    int skipped = 0;
    /* 4 one-dimensional cases (2 node tests, 2 pytorch-converted) the 1-D modules express; all 25,
     * the 2-D ones included, run through lucidc check with ONNX's rules (cli_test_check). */
    assert_int_equal(run_dir(test_source_path("tests/conformance/onnx"), "expected.npy", &skipped), 4);
    assert_int_equal(skipped, 21);
}

/* The torch LP case with a ceil-mode partial window differs from PyTorch's lp_pool1d on
 * purpose (docs/semantics.md): check we match the sum definition, not PyTorch's rescaling. */
static void test_partial_window_is_not_torch(void **state) {
    (void)state;
    test_case c;
    test_case_load(test_source_path("tests/conformance/torch/s01_lp_ceil_partial_last_window"), &c);
    lc_tensor *x, *torch_out, *y;
    assert_ok(lc_npy_read(test_case_file(&c, "input.npy"), &x));
    assert_ok(lc_npy_read(test_case_file(&c, "expected_out.torch.npy"), &torch_out));
    lc_graph *g;
    assert_ok(lc_module_graph(c.module, x->dtype, x->shape, &g));
    assert_ok(lc_interp_run(g, (const lc_tensor *const *)&x, 1, &y, 1));
    int differing = 0;
    for (int64_t i = 0; i < lc_tensor_numel(y); i++)
        differing += lc_tensor_get(y, i) != lc_tensor_get(torch_out, i);
    assert_true(differing > 0);
    lc_tensor_free(y);
    lc_tensor_free(torch_out);
    lc_tensor_free(x);
    lc_graph_free(g);
    test_case_free(&c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_torch_forward),
        cmocka_unit_test(test_onnx_1d_forward),
        cmocka_unit_test(test_partial_window_is_not_torch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
