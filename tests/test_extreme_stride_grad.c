/* Gradients through pools with extreme strides (LPPool1d(2, 12, 2^63-1) on (1, 1, 12)
 * once gave an all-zero JIT gradient from signed overflow in the fold's index arithmetic):
 * the JIT's forward and backward equal the interpreter's for strides near 2^62 and 2^63-1,
 * with ceil_mode, padding and windows cut by the end of the row. */
#include <stdint.h>

#include "jit_harness.h"

static void check_module(lc_module *m, int64_t len, uint64_t seed) {
    lc_graph *g, *ad;
    assert_ok(lc_module_graph(m, LC_F64, test_shape3(1, 2, len), &g));
    assert_ok(lc_autodiff(g, NULL, 0, NULL, 0, &ad));
    test_rng r = test_rng_seeded(seed);
    lc_tensor **in = jit_random_inputs(ad, &r, 3.0);
    jit_check_once(ad, in, 1e-12, 1e-14);
    jit_free_tensors(in, lc_graph_input_count(ad));
    lc_graph_free(ad);
    lc_graph_free(g);
}

static const int64_t strides[] = {INT64_C(1) << 62, (INT64_C(1) << 62) + 1, INT64_MAX - 1, INT64_MAX};

static void test_lppool_extreme_stride(void **state) {
    (void)state;
    static const int64_t kernels[] = {1, 5, 12, 13};
    for (size_t s = 0; s < sizeof strides / sizeof strides[0]; s++)
        for (size_t k = 0; k < sizeof kernels / sizeof kernels[0]; k++)
            for (int ceil = 0; ceil < 2; ceil++) {
                if (kernels[k] > 12 && !ceil) continue; /* no window fits */
                lc_lppool1d_params p = lc_lppool1d_defaults(2.0, kernels[k]);
                p.stride = strides[s];
                p.ceil_mode = ceil;
                lc_module *m;
                assert_ok(lc_lppool1d_new(&p, &m));
                check_module(m, 12, 10 * s + k);
                lc_module_free(m);
            }
}

static void test_avgpool_extreme_stride(void **state) {
    (void)state;
    static const int64_t kernels[] = {1, 4, 12};
    for (size_t s = 0; s < sizeof strides / sizeof strides[0]; s++)
        for (size_t k = 0; k < sizeof kernels / sizeof kernels[0]; k++)
            for (int variant = 0; variant < 4; variant++) {
                lc_avgpool1d_params p = lc_avgpool1d_defaults(kernels[k]);
                p.stride = strides[s];
                p.padding = kernels[k] / 2;
                p.ceil_mode = variant & 1;
                p.count_include_pad = variant & 2;
                lc_module *m;
                assert_ok(lc_avgpool1d_new(&p, &m));
                check_module(m, 12, 100 + 10 * s + k);
                lc_module_free(m);
            }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lppool_extreme_stride),
        cmocka_unit_test(test_avgpool_extreme_stride),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
