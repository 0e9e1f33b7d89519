/* MaxPool1d and MaxPool2d as modules: parameters resolved and printed as PyTorch prints them,
 * bad parameters named with their values, the model spec (tuples, return_indices refused),
 * and the JIT against the interpreter forward and backward (PyTorch's values are pinned by
 * tests/cli/maxpool_torch.py). */
#include <stdlib.h>
#include <string.h>

#include "jit_harness.h"
#include "lucid/model_spec.h"

static void assert_spec(const char *spec, const char *want) {
    lc_module *m;
    assert_ok(lc_model_parse_call(spec, "--module 1", &m));
    char *s;
    assert_ok(lc_module_repr(m, &s));
    if (strcmp(s, want) != 0) fail_msg("%s gave %s, want %s", spec, s, want);
    free(s);
    lc_module_free(m);
}

static void test_repr_and_spec(void **state) {
    (void)state;
    assert_spec("MaxPool1d(3, 2, 1)", "MaxPool1d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False)");
    assert_spec("nn.MaxPool1d((4,), dilation=(2,), ceil_mode=True)",
                "MaxPool1d(kernel_size=4, stride=4, padding=0, dilation=2, ceil_mode=True)");
    assert_spec("MaxPool2d(3, 2, 1)", "MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False)");
    assert_spec("MaxPool2d((3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2))",
                "MaxPool2d(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2), ceil_mode=False)");
    assert_spec("MaxPool2d((2, 3))", "MaxPool2d(kernel_size=(2, 3), stride=(2, 3), padding=0, dilation=1, ceil_mode=False)");
    lc_module *m;
    assert_fails(lc_model_parse_call("MaxPool2d((2, 3, 4))", "--module 1", &m), LC_ERR_PARSE, "at most 2 integers");
    assert_fails(lc_model_parse_call("MaxPool2d((2,))", "--module 1", &m), LC_ERR_PARSE,
                 "MaxPool2d: kernel_size must be an integer or a pair (h, w) of integers, got (2,)");
    assert_fails(lc_model_parse_call("MaxPool1d(2, return_indices=True)", "--module 1", &m), LC_ERR_INVALID_ARG,
                 "MaxPool1d: return_indices=True is not accepted here");
    assert_fails(lc_model_parse_call("MaxPool1d(3, padding=2)", "--module 1", &m), LC_ERR_INVALID_ARG,
                 "MaxPool1d: padding must be between 0 and kernel_size / 2 = 1, got 2");
    assert_fails(lc_model_parse_call("MaxPool2d((3, 4), padding=(1, 3))", "--module 1", &m), LC_ERR_INVALID_ARG,
                 "MaxPool2d: padding must be between 0 and kernel_size / 2 = 2, got 3");
    assert_fails(lc_model_parse_call("MaxPool2d(2, dilation=0)", "--module 1", &m), LC_ERR_INVALID_ARG,
                 "MaxPool2d: dilation must be >= 1, got 0");
    assert_fails(lc_model_parse_call("MaxPool1d(2, stride=0)", "--module 1", &m), LC_ERR_INVALID_ARG,
                 "MaxPool1d: stride must be >= 1, got 0");
}

static void test_shapes(void **state) {
    (void)state;
    lc_module *m;
    lc_shape out;
    assert_ok(lc_model_parse_call("MaxPool2d(3, 2, 1, ceil_mode=True)", "--module 1", &m));
    int64_t in3[] = {2, 8, 9};
    assert_ok(lc_module_output_shape(m, lc_shape_make(3, in3), &out)); /* (C, H, W) stays rank 3 */
    assert_int_equal(out.rank, 3);
    assert_int_equal(out.dim[1], 5); /* ceil((8 + 2 - 3) / 2) + 1 = 5 */
    assert_int_equal(out.dim[2], 5);
    assert_fails(lc_module_output_shape(m, lc_shape_make(2, in3), &out),
                 LC_ERR_SHAPE, "MaxPool2d: input must have rank 3 (C, H, W) or 4 (N, C, H, W), got rank 2");
    lc_module_free(m);
    assert_ok(lc_model_parse_call("MaxPool1d(3, dilation=2)", "--module 1", &m));
    assert_fails(lc_module_output_shape(m, test_shape3(1, 1, 4), &out), LC_ERR_SHAPE, "MaxPool1d: input length 4");
    lc_module_free(m);
}

static void test_jit(void **state) {
    (void)state;
    const char *specs[] = {"MaxPool1d(3, 2, 1)", "MaxPool1d(4, 3, 2, dilation=2, ceil_mode=True)",
                           "MaxPool2d(3, 2, 1)", "MaxPool2d((3, 2), (2, 1), (1, 0), dilation=(2, 1), ceil_mode=True)",
                           "MaxPool2d(2)"};
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        lc_module *m;
        assert_ok(lc_model_parse_call(specs[i], "--module 1", &m));
        bool two_d = strstr(specs[i], "2d") != NULL;
        int64_t dims[4] = {2, 3, 11, 13};
        lc_shape in = two_d ? lc_shape_make(4, dims) : test_shape3(2, 3, 17);
        int fwd = 0, fb = 0;
        jit_check_module(m, i % 2 ? LC_F64 : LC_F32, in, 90 + i, &fwd, &fb);
        lc_module_free(m);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_repr_and_spec),
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_jit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
