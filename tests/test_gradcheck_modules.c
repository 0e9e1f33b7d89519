/* Both modules (and Sequentials of them) against central differences over many random shapes
 * and parameters: kernel, stride (unset too), padding, ceil_mode, count_include_pad, and
 * p in {0.5, 1, 1.5, 2, 2.5, 3, 7}; then a check that gradcheck itself catches a wrong
 * gradient. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lucid/nn.h"
#include "support/gradcheck.h"
#include "support/testutil.h"

static const double norm_types[] = {0.5, 1, 1.5, 2, 2.5, 3, 7};

static lc_shape random_shape(test_rng *r, int64_t length) {
    if (test_rng_int(r, 0, 3) == 0) {
        int64_t d[] = {test_rng_int(r, 1, 3), length};
        return lc_shape_make(2, d); /* (C, L) */
    }
    return test_shape3(test_rng_int(r, 1, 3), test_rng_int(r, 1, 3), length);
}

static int64_t random_stride(test_rng *r) {
    return test_rng_int(r, 0, 4) == 0 ? LC_STRIDE_UNSET : test_rng_int(r, 1, 7);
}

static int64_t elements_checked, elements_skipped;

static void check(const lc_module *m, test_rng *r, int64_t length, int *count) {
    lc_shape s = random_shape(r, length);
    lc_shape out;
    if (lc_module_output_shape(m, s, &out) != LC_OK) return; /* too short for this kernel */
    lc_dtype dt = test_rng_int(r, 0, 1) ? LC_F32 : LC_F64;
    lc_tensor *x = test_random_tensor(r, dt, s, test_rng_uniform(r, 0.5, 4));
    gradcheck_options opt = gradcheck_defaults();
    opt.seed = (uint64_t)test_rng_int(r, 1, 1 << 30);
    gradcheck_report rep;
    char *what;
    assert_ok(lc_module_repr(m, &what));
    char label[512];
    char sh[96];
    snprintf(label, sizeof label, "%s on %s %s", what, lc_dtype_name(dt), lc_shape_str(&s, sh, sizeof sh));
    free(what);
    assert_gradcheck(gradcheck_module(m, x, &opt, &rep), rep, label);
    assert_true(rep.checked + rep.skipped == lc_tensor_numel(x));
    elements_checked += rep.checked;
    elements_skipped += rep.skipped;
    lc_tensor_free(x);
    (*count)++;
}

static void test_avgpool_random(void **state) {
    (void)state;
    test_rng r = test_rng_seeded(101);
    int count = 0;
    for (int trial = 0; trial < 400; trial++) {
        lc_avgpool1d_params p = lc_avgpool1d_defaults(test_rng_int(&r, 1, 6));
        p.stride = random_stride(&r);
        p.padding = test_rng_int(&r, 0, p.kernel_size / 2);
        p.ceil_mode = test_rng_int(&r, 0, 1);
        p.count_include_pad = test_rng_int(&r, 0, 1);
        lc_module *m;
        assert_ok(lc_avgpool1d_new(&p, &m));
        check(m, &r, test_rng_int(&r, 1, 24), &count);
        lc_module_free(m);
    }
    print_message("avgpool: %d configurations, %lld elements checked, %lld skipped (|x| < kink margin)\n", count,
                  (long long)elements_checked, (long long)elements_skipped);
    elements_checked = elements_skipped = 0;
    assert_true(count > 300);
}

static void test_lppool_random(void **state) {
    (void)state;
    test_rng r = test_rng_seeded(202);
    int count = 0;
    for (int trial = 0; trial < 490; trial++) {
        lc_lppool1d_params p = lc_lppool1d_defaults(norm_types[trial % 7], test_rng_int(&r, 1, 6));
        p.stride = random_stride(&r);
        p.ceil_mode = test_rng_int(&r, 0, 1);
        lc_module *m;
        assert_ok(lc_lppool1d_new(&p, &m));
        check(m, &r, test_rng_int(&r, 1, 24), &count);
        lc_module_free(m);
    }
    print_message("lppool: %d configurations, %lld elements checked, %lld skipped (|x| < kink margin)\n", count,
                  (long long)elements_checked, (long long)elements_skipped);
    elements_checked = elements_skipped = 0;
    assert_true(count > 350);
}

static void test_sequential_random(void **state) {
    (void)state;
    test_rng r = test_rng_seeded(303);
    int count = 0;
    for (int trial = 0; trial < 60; trial++) {
        lc_module *seq;
        assert_ok(lc_sequential_new(&seq));
        int depth = (int)test_rng_int(&r, 1, 3);
        for (int i = 0; i < depth; i++) {
            lc_module *child;
            if (test_rng_int(&r, 0, 1)) {
                lc_avgpool1d_params p = lc_avgpool1d_defaults(test_rng_int(&r, 1, 3));
                p.stride = test_rng_int(&r, 1, 2);
                p.padding = test_rng_int(&r, 0, p.kernel_size / 2);
                p.ceil_mode = test_rng_int(&r, 0, 1);
                p.count_include_pad = test_rng_int(&r, 0, 1);
                assert_ok(lc_avgpool1d_new(&p, &child));
            } else {
                lc_lppool1d_params p = lc_lppool1d_defaults(norm_types[test_rng_int(&r, 0, 6)],
                                                            test_rng_int(&r, 1, 3));
                p.stride = test_rng_int(&r, 1, 2);
                p.ceil_mode = test_rng_int(&r, 0, 1);
                assert_ok(lc_lppool1d_new(&p, &child));
            }
            assert_ok(lc_sequential_append(seq, child));
        }
        check(seq, &r, test_rng_int(&r, 8, 30), &count);
        lc_module_free(seq);
    }
    print_message("sequential: %d configurations, %lld elements checked, %lld skipped (|x| < kink margin)\n", count,
                  (long long)elements_checked, (long long)elements_skipped);
    elements_checked = elements_skipped = 0;
    assert_true(count > 40);
}

/* gradcheck must notice a wrong gradient: a graph whose autodiff is right, checked with the
 * forward scaled behind autodiff's back, is impossible to build through the API, so instead
 * compare a correct check (passes) with one whose tolerance is below the finite-difference
 * noise on a curved function (must report a mismatch with the element named). */
static void test_gradcheck_reports_mismatch(void **state) {
    (void)state;
    lc_lppool1d_params p = lc_lppool1d_defaults(3, 2);
    lc_module *m;
    assert_ok(lc_lppool1d_new(&p, &m));
    lc_tensor *x;
    assert_ok(lc_tensor_from_doubles(LC_F64, test_shape3(1, 1, 4), (double[]){1, -2, 0.5, 3}, &x));
    gradcheck_report rep;
    assert_ok(gradcheck_module(m, x, NULL, &rep));
    assert_true(rep.ok);
    assert_int_equal(rep.checked, 4);
    gradcheck_options strict = gradcheck_defaults();
    strict.h = 1e-2; /* truncation error ~1e-5 */
    strict.rtol = 0;
    strict.atol = 1e-12;
    assert_ok(gradcheck_module(m, x, &strict, &rep));
    assert_false(rep.ok);
    assert_non_null(strstr(rep.message, "input 0 element"));
    /* kinks are skipped, not checked */
    lc_tensor_set(x, 2, 0);
    assert_ok(gradcheck_module(m, x, NULL, &rep));
    assert_int_equal(rep.skipped, 1);
    lc_tensor_free(x);
    lc_module_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_avgpool_random),
        cmocka_unit_test(test_lppool_random),
        cmocka_unit_test(test_sequential_random),
        cmocka_unit_test(test_gradcheck_reports_mismatch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
