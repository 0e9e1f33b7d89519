/* The backward of every tests/conformance/torch case through the interpreter:
 * grad_out.npy in, expected_grad_in.npy out, within the case's tolerance — once through the
 * autograd API (lc_module_call + lc_backward) and once through the autodiff graph directly. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lucid/autodiff.h"
#include "lucid/autograd.h"
#include "lucid/npy.h"
#include "lucid/runtime.h"
#include "support/conformance.h"
#include "support/testutil.h"

typedef struct case_data {
    lc_tensor *x, *grad_out, *want_y, *want_grad;
} case_data;

static void load(const test_case *c, case_data *d) {
    assert_ok(lc_npy_read(test_case_file(c, "input.npy"), &d->x));
    assert_ok(lc_npy_read(test_case_file(c, "grad_out.npy"), &d->grad_out));
    assert_ok(lc_npy_read(test_case_file(c, "expected_out.npy"), &d->want_y));
    assert_ok(lc_npy_read(test_case_file(c, "expected_grad_in.npy"), &d->want_grad));
}

static void unload(case_data *d) {
    lc_tensor_free(d->x);
    lc_tensor_free(d->grad_out);
    lc_tensor_free(d->want_y);
    lc_tensor_free(d->want_grad);
}

static void through_autograd(const test_case *c, case_data *d) {
    assert_ok(lc_tensor_set_requires_grad(d->x, true));
    lc_tensor *y;
    assert_ok(lc_module_call(c->module, d->x, &y));
    assert_tensor_close(y, d->want_y, c->rtol, c->atol);
    assert_ok(lc_backward(y, d->grad_out));
    assert_int_equal(d->x->grad->dtype, d->want_grad->dtype);
    assert_tensor_close(d->x->grad, d->want_grad, c->rtol, c->atol);
    lc_tensor_free(y);
}

static void through_graph(const test_case *c, case_data *d) {
    lc_graph *g, *ad;
    assert_ok(lc_module_graph(c->module, d->x->dtype, d->x->shape, &g));
    assert_ok(lc_autodiff(g, NULL, 0, NULL, 0, &ad));
    assert_ok(lc_graph_verify(ad));
    lc_tensor *res[2];
    assert_ok(lc_interp_run(ad, (const lc_tensor *const[]){d->x, d->grad_out}, 2, res, 2));
    assert_tensor_close(res[0], d->want_y, c->rtol, c->atol);
    assert_tensor_close(res[1], d->want_grad, c->rtol, c->atol);
    lc_tensor_free(res[0]);
    lc_tensor_free(res[1]);
    lc_graph_free(ad);
    lc_graph_free(g);
}

/* Where PyTorch's lp_pool1d rescales a partial ceil-mode window (expected_*.torch.npy), our
 * gradient follows the sum definition and must differ from PyTorch's somewhere: the
 * comparison above is not vacuous. */
static int differs_from_torch(const test_case *c, case_data *d) {
    const char *path = test_case_file(c, "expected_grad_in.torch.npy");
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    fclose(f);
    lc_tensor *torch_grad;
    assert_ok(lc_npy_read(path, &torch_grad));
    int differing = 0;
    for (int64_t i = 0; i < lc_tensor_numel(torch_grad); i++) {
        double got = lc_tensor_get(d->x->grad, i), want = lc_tensor_get(torch_grad, i);
        differing += fabs(got - want) > c->atol + c->rtol * fabs(want);
    }
    lc_tensor_free(torch_grad);
    assert_true(differing > 0);
    return 1;
}

static void test_torch_backward(void **state) {
    (void)state;
    const char *root = test_source_path("tests/conformance/torch");
    int count, ran = 0, torch_differs = 0;
    char **names = test_case_list(root, &count);
    for (int i = 0; i < count; i++) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/%s", root, names[i]);
        test_case c;
        test_case_load(dir, &c);
        assert_non_null(c.module); /* every torch case is 1-D */
        case_data d;
        load(&c, &d);
        print_message("backward %s\n", c.name);
        through_graph(&c, &d);
        through_autograd(&c, &d);
        torch_differs += differs_from_torch(&c, &d);
        unload(&d);
        test_case_free(&c);
        ran++;
    }
    test_case_list_free(names, count);
    assert_int_equal(ran, 23);
    assert_int_equal(torch_differs, 2); /* s01 and s05 */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_torch_backward),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
