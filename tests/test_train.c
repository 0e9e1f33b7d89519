/* Training as one program: N steps of the compiled SGD step (and of the interpreter running
 * the same training graph) against N steps of PyTorch's torch.optim.SGD, from the reference
 * runs in tests/data/train (made by make_sgd_reference.py there); the graph's layout; and
 * every bad argument. */
#include <math.h>

#include "jit_harness.h"
#include "lucid/model_spec.h"
#include "lucid/npy.h"
#include "lucid/train.h"

static int setup(void **state) {
    (void)state;
    return lc_runtime_set_threads(2) == LC_OK ? 0 : -1;
}

/* mean((y - t)^2) over every axis: MSELoss(reduction='mean') in the graph's own ops. */
static int mse_loss(lc_graph *g, int y, int t) {
    const lc_node *yn = lc_graph_node(g, y);
    int rank = yn->shape.rank, minus, neg_t, d, sq, m;
    assert_ok(lc_scalar(g, yn->dtype, -1.0, &minus));
    assert_ok(lc_mul(g, t, minus, &neg_t));
    assert_ok(lc_add(g, y, neg_t, &d));
    assert_ok(lc_pow(g, d, 2.0, &sq));
    m = sq;
    for (int a = rank - 1; a >= 0; a--) assert_ok(lc_mean(g, m, a, &m));
    assert_ok(lc_graph_set_name(g, m, "loss"));
    return m;
}

/* The graph of one reference case: inputs x (trained) and target; outputs y and the loss.
 * *x_node gets x's node. */
static lc_graph *case_graph(const lc_module *m, const lc_tensor *x0, const lc_tensor *target,
                            int *x_node) {
    lc_graph *g;
    int x, t, y;
    assert_ok(lc_graph_new(&g));
    assert_ok(lc_input(g, "x", x0->dtype, x0->shape, &x));
    assert_ok(lc_input(g, "target", target->dtype, target->shape, &t));
    assert_ok(lc_module_forward(m, g, x, &y));
    assert_ok(lc_graph_add_output(g, y));
    assert_ok(lc_graph_add_output(g, mse_loss(g, y, t)));
    *x_node = x;
    return g;
}

static lc_tensor *read_case(const char *name, const char *file) {
    char rel[256];
    snprintf(rel, sizeof rel, "tests/data/train/%s/%s", name, file);
    lc_tensor *t;
    assert_ok(lc_npy_read(test_source_path(rel), &t));
    return t;
}

/* Run `steps` steps of the case on one engine and compare with PyTorch's run. */
static void run_case(const char *name, lc_module *m, lc_sgd_options sgd, int steps, bool interpret) {
    lc_tensor *x0 = read_case(name, "x0.npy"), *target = read_case(name, "target.npy");
    lc_tensor *final = read_case(name, "final.npy"), *losses = read_case(name, "losses.npy");
    int x_node;
    lc_graph *g = case_graph(m, x0, target, &x_node);
    lc_train_options o = lc_train_options_default(sgd.lr);
    o.sgd = sgd;
    o.interpret = interpret;
    lc_train_step *step;
    assert_ok(lc_train_step_compile(g, 1, &x_node, 1, &o, &step));
    lc_graph_free(g);
    assert_true((lc_train_step_program(step) == NULL) == interpret);
    assert_int_equal(lc_shape_numel(&losses->shape), steps);
    double rtol = x0->dtype == LC_F32 ? 1e-4 : 1e-10, atol = x0->dtype == LC_F32 ? 1e-6 : 1e-12;
    lc_tensor *x;
    assert_ok(lc_tensor_clone(x0, &x));
    for (int s = 0; s < steps; s++) {
        double loss;
        assert_ok(lc_train_step_run(step, (lc_tensor *[]){x, target}, 2, &loss));
        double want = lc_tensor_get(losses, s);
        if (!(fabs(loss - want) <= atol + rtol * fabs(want)))
            fail_msg("%s (%s) step %d: loss %.9g, PyTorch %.9g", name, interpret ? "interp" : "jit",
                     s, loss, want);
    }
    assert_tensor_close(x, final, rtol, atol);
    if (sgd.momentum != 0.0) {
        lc_tensor *buf = read_case(name, "momentum.npy");
        assert_tensor_close(lc_train_step_momentum(step, 0), buf, rtol, atol);
        lc_tensor_free(buf);
    } else {
        assert_null(lc_train_step_momentum(step, 0));
    }
    /* reset: the momentum buffer is zero and the next step a first step again (undamped), so
     * the same steps end where PyTorch's did */
    lc_train_step_reset(step);
    lc_tensor_free(x);
    assert_ok(lc_tensor_clone(x0, &x));
    for (int s = 0; s < steps; s++) {
        double loss;
        assert_ok(lc_train_step_run(step, (lc_tensor *[]){x, target}, 2, &loss));
        assert_true(fabs(loss - lc_tensor_get(losses, s)) <= atol + rtol * fabs(lc_tensor_get(losses, s)));
    }
    assert_tensor_close(x, final, rtol, atol);
    lc_tensor_free(x);
    lc_train_step_free(step);
    lc_tensor_free(x0);
    lc_tensor_free(target);
    lc_tensor_free(final);
    lc_tensor_free(losses);
}

static void both_engines(const char *name, lc_module *m, lc_sgd_options sgd, int steps) {
    run_case(name, m, sgd, steps, false);
    run_case(name, m, sgd, steps, true);
    lc_module_free(m);
}

static void avgpool_with_momentum_and_decay(void **state) {
    (void)state;
    lc_sgd_options o = {.lr = 0.5, .momentum = 0.9, .weight_decay = 0.01};
    both_engines("avg_momentum", test_avgpool(3, 2, 1, false, true), o, 6);
}

static void lppool_with_decay_f64(void **state) {
    (void)state;
    lc_sgd_options o = {.lr = 0.1, .momentum = 0.0, .weight_decay = 0.05};
    both_engines("lp_decay_f64", test_lppool(2.0, 3, 1, false), o, 4);
}

/* Dampening damps every step but the first (PyTorch's first step keeps g' whole in the
 * buffer): the step runs an undamped first program, then the damped one; after reset, the
 * undamped one again (run_case checks the first loss after reset). */
static void avgpool_with_dampening(void **state) {
    (void)state;
    lc_sgd_options o = {.lr = 0.4, .momentum = 0.9, .dampening = 0.3};
    both_engines("avg_dampening", test_avgpool(3, 2, 1, false, true), o, 5);
}

static void lppool_nesterov_maximize_f64(void **state) {
    (void)state;
    lc_sgd_options o = {.lr = 0.05, .momentum = 0.8, .weight_decay = 0.02, .nesterov = true, .maximize = true};
    both_engines("lp_nesterov_maximize_f64", test_lppool(2.0, 2, 2, false), o, 5);
}

static void avgpool_plain(void **state) {
    (void)state;
    both_engines("avg_plain", test_avgpool(4, 4, 0, false, true), lc_sgd_options_default(1.0), 3);
}

/* The layout lc_sgd_graph documents: inputs x, target, momentum.x; outputs y, loss, sgd.x,
 * sgd.x.momentum; the seed is a constant. */
static void graph_layout(void **state) {
    (void)state;
    lc_module *m = test_avgpool(2, 2, 0, false, true);
    lc_tensor *x0, *t;
    assert_ok(lc_tensor_new(LC_F32, test_shape3(1, 1, 4), &x0));
    assert_ok(lc_tensor_new(LC_F32, test_shape3(1, 1, 2), &t));
    int x;
    lc_graph *g = case_graph(m, x0, t, &x);
    lc_sgd_options o = {.lr = 0.1, .momentum = 0.5, .weight_decay = 0.0};
    lc_graph *s;
    assert_ok(lc_sgd_graph(g, 1, &x, 1, &o, &s));
    assert_int_equal(lc_graph_input_count(s), 3);
    assert_string_equal(lc_graph_node(s, lc_graph_input(s, 2))->name, "momentum.x");
    assert_int_equal(lc_graph_output_count(s), 4);
    assert_string_equal(lc_graph_node(s, lc_graph_output(s, 1))->name, "loss");
    assert_string_equal(lc_graph_node(s, lc_graph_output(s, 2))->name, "sgd.x");
    assert_string_equal(lc_graph_node(s, lc_graph_output(s, 3))->name, "sgd.x.momentum");
    assert_ok(lc_graph_verify(s));
    lc_graph_free(s);
    lc_graph_free(g);
    lc_tensor_free(x0);
    lc_tensor_free(t);
    lc_module_free(m);
}

static void bad_arguments(void **state) {
    (void)state;
    lc_module *m = test_avgpool(2, 2, 0, false, true);
    lc_tensor *x0, *t;
    assert_ok(lc_tensor_new(LC_F32, test_shape3(1, 1, 4), &x0));
    assert_ok(lc_tensor_new(LC_F32, test_shape3(1, 1, 2), &t));
    int x;
    lc_graph *g = case_graph(m, x0, t, &x), *s = NULL;
    lc_sgd_options o = lc_sgd_options_default(0.1);
    o.lr = -1;
    assert_fails(lc_sgd_graph(g, 1, &x, 1, &o, &s), LC_ERR_INVALID_ARG, "SGD: lr must be finite and >= 0, got -1");
    o.lr = 0.1;
    o.momentum = NAN;
    assert_fails(lc_sgd_graph(g, 1, &x, 1, &o, &s), LC_ERR_INVALID_ARG, "SGD: momentum must be finite and >= 0, got nan");
    o.momentum = 0;
    o.weight_decay = -0.5;
    assert_fails(lc_sgd_graph(g, 1, &x, 1, &o, &s), LC_ERR_INVALID_ARG, "SGD: weight_decay must be finite and >= 0, got -0.5");
    o.weight_decay = 0;
    o.dampening = INFINITY;
    assert_fails(lc_sgd_graph(g, 1, &x, 1, &o, &s), LC_ERR_INVALID_ARG, "SGD: dampening must be finite, got inf");
    o.dampening = 0;
    o.nesterov = true;
    assert_fails(lc_sgd_graph(g, 1, &x, 1, &o, &s), LC_ERR_INVALID_ARG,
                 "SGD: nesterov needs momentum > 0 and dampening 0, got momentum 0 and dampening 0");
    o.momentum = 0.9;
    o.dampening = 0.1;
    assert_fails(lc_sgd_graph(g, 1, &x, 1, &o, &s), LC_ERR_INVALID_ARG,
                 "SGD: nesterov needs momentum > 0 and dampening 0, got momentum 0.9 and dampening 0.1");
    o = lc_sgd_options_default(0.1);
    assert_fails(lc_sgd_graph(g, 0, &x, 1, &o, &s), LC_ERR_SHAPE, "SGD: the loss (output 0) must have one element, got shape [1,1,2]");
    assert_fails(lc_sgd_graph(g, 2, &x, 1, &o, &s), LC_ERR_INVALID_ARG, "SGD: loss_output must be in [0, 2), got 2");
    int bad = x + 2;
    assert_fails(lc_sgd_graph(g, 1, &bad, 1, &o, &s), LC_ERR_INVALID_ARG, "is not an input node");
    assert_fails(lc_sgd_graph(g, 1, (const int[]){x, x}, 2, &o, &s), LC_ERR_INVALID_ARG, "params[0] and params[1] are both node 0");
    assert_fails(lc_sgd_graph(g, 1, &x, 0, &o, &s), LC_ERR_INVALID_ARG, "SGD: n_params must be >= 1, got 0");
    assert_null(s);
    lc_train_step *step = NULL;
    assert_fails(lc_train_step_compile(g, 1, &x, 1, NULL, &step), LC_ERR_INVALID_ARG, "options");
    lc_train_options to = lc_train_options_default(0.1);
    assert_ok(lc_train_step_compile(g, 1, &x, 1, &to, &step));
    assert_fails(lc_train_step_run(step, (lc_tensor *[]){x0}, 1, NULL), LC_ERR_INVALID_ARG, "expected 2 inputs, got 1");
    assert_fails(lc_train_step_run(step, (lc_tensor *[]){t, t}, 2, NULL), LC_ERR_SHAPE, "input 0");
    assert_null(lc_train_step_output(step, 0)); /* no step ran */
    lc_train_step_free(step);
    lc_graph_free(g);
    lc_tensor_free(x0);
    lc_tensor_free(t);
    lc_module_free(m);
}

/* A model with parameters through lc_train_step_compile_module: the model's own tensors,
 * loaded with PyTorch's starting values, end where torch.optim.SGD took them. */
static void module_case(const char *name, lc_sgd_options sgd, int steps, bool interpret) {
    char rel[256];
    snprintf(rel, sizeof rel, "tests/data/train/%s/model.txt", name);
    char *spec = test_read_file(test_source_path(rel));
    assert_non_null(spec);
    lc_module *model, *mse;
    assert_ok(lc_model_parse(spec, name, &model));
    free(spec);
    lc_mseloss_params mp = lc_mseloss_defaults();
    assert_ok(lc_mseloss_new(&mp, &mse));
    int n = lc_module_param_count(model);
    for (int k = 0; k < n; k++) {
        char pname[LC_PARAM_NAME_MAX], file[LC_PARAM_NAME_MAX + 16];
        assert_ok(lc_module_param_at(model, k, pname, sizeof pname, NULL));
        snprintf(file, sizeof file, "%s.npy", pname);
        lc_tensor *v = read_case(name, file);
        assert_ok(lc_module_set_param(model, pname, v));
        lc_tensor_free(v);
    }
    lc_tensor *x = read_case(name, "input.npy"), *target = read_case(name, "target.npy");
    lc_tensor *losses = read_case(name, "losses.npy");
    lc_train_options o = lc_train_options_default(sgd.lr);
    o.sgd = sgd;
    o.interpret = interpret;
    lc_train_step *step;
    assert_ok(lc_train_step_compile_module(model, mse, LC_F32, x->shape, &o, &step));
    for (int s = 0; s < steps; s++) {
        double loss, want = lc_tensor_get(losses, s);
        assert_ok(lc_train_step_run_module(step, x, target, &loss));
        if (!(fabs(loss - want) <= 1e-6 + 1e-4 * fabs(want)))
            fail_msg("%s (%s) step %d: loss %.9g, PyTorch %.9g", name, interpret ? "interp" : "jit", s, loss, want);
    }
    for (int k = 0; k < n; k++) {
        char pname[LC_PARAM_NAME_MAX], file[LC_PARAM_NAME_MAX + 16];
        lc_tensor *t;
        assert_ok(lc_module_param_at(model, k, pname, sizeof pname, &t));
        snprintf(file, sizeof file, "final.%s.npy", pname);
        lc_tensor *want = read_case(name, file);
        assert_tensor_close(t, want, 1e-4, 1e-6);
        lc_tensor_free(want);
    }
    lc_train_step_free(step);
    lc_tensor_free(x);
    lc_tensor_free(target);
    lc_tensor_free(losses);
    lc_module_free(mse);
    lc_module_free(model);
}

static void linear_with_momentum_and_decay(void **state) {
    (void)state;
    lc_sgd_options o = {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01};
    module_case("linear_momentum", o, 5, false);
    module_case("linear_momentum", o, 5, true);
}

/* Conv1d(1, 1, 3, stride=1, padding=1) -> AvgPool1d(2, 2) -> Linear(2, 1) */
static void seed_model(void **state) {
    (void)state;
    lc_sgd_options o = {.lr = 0.2, .momentum = 0.5, .weight_decay = 0.001};
    module_case("seed_model", o, 6, false);
    module_case("seed_model", o, 6, true);
}

static void module_bad_arguments(void **state) {
    (void)state;
    lc_module *pool = test_avgpool(2, 2, 0, false, true), *mse, *lin;
    lc_mseloss_params mp = lc_mseloss_defaults();
    assert_ok(lc_mseloss_new(&mp, &mse));
    lc_linear_params lp = lc_linear_defaults(4, 1);
    assert_ok(lc_linear_new(&lp, &lin));
    lc_train_options o = lc_train_options_default(0.1);
    lc_train_step *step = NULL;
    lc_shape s = test_shape3(1, 1, 4);
    assert_fails(lc_train_step_compile_module(pool, mse, LC_F32, s, &o, &step), LC_ERR_INVALID_ARG,
                 "train step: the model has no parameters to train");
    assert_fails(lc_train_step_compile_module(lin, mse, LC_F64, s, &o, &step), LC_ERR_INVALID_ARG,
                 "dtype must be f32, got f64");
    assert_fails(lc_train_step_compile_module(lin, pool, LC_F32, s, &o, &step), LC_ERR_INVALID_ARG,
                 "the loss must take (output, target)");
    assert_fails(lc_train_step_compile_module(lin, mse, LC_F32, test_shape3(1, 1, 3), &o, &step),
                 LC_ERR_SHAPE, "Linear");
    assert_null(step);
    lc_module_free(pool);
    lc_module_free(mse);
    lc_module_free(lin);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(avgpool_with_momentum_and_decay),
        cmocka_unit_test(lppool_with_decay_f64),
        cmocka_unit_test(avgpool_plain),
        cmocka_unit_test(avgpool_with_dampening),
        cmocka_unit_test(lppool_nesterov_maximize_f64),
        cmocka_unit_test(graph_layout),
        cmocka_unit_test(bad_arguments),
        cmocka_unit_test(linear_with_momentum_and_decay),
        cmocka_unit_test(seed_model),
        cmocka_unit_test(module_bad_arguments),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
