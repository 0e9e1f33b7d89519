/* lucidc demo, its training part: the seed model Conv1d(1, 1, 3, stride=1, padding=1) ->
 * AvgPool1d(2, 2) -> Linear(2, 1) trained on a synthetic task (t = 0.25 * sum(x) + 0.5), the
 * same library calls as docs/examples/train.c: lc_train_step_compile_module (forward, MSELoss,
 * backward and SGD compiled into one program) and lc_train_step_run_module (parameters
 * updated in place). The same steps run on the interpreter, and the two must agree. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "lucid/model_spec.h"
#include "lucid/random.h"
#include "lucid/train.h"

static const char TRAIN_MODEL[] =
    "Conv1d(1, 1, 3, stride=1, padding=1)\n"
    "AvgPool1d(2, 2)\n"
    "Linear(2, 1)\n";
enum { TRAIN_N = 16, TRAIN_STEPS = 60, TRAIN_PRINT_EVERY = 10 };

/* The model (default init from seed 0), its loss, the task's inputs and targets. */
typedef struct train_run {
    lc_module *model, *loss_fn;
    lc_train_step *step;
    double loss[TRAIN_STEPS];
    double compile_ms, run_ms;
} train_run;

static lc_status make_task(lc_tensor **x, lc_tensor **t) {
    lc_shape xs = {.rank = 3, .dim = {TRAIN_N, 1, 4}}, ts = {.rank = 3, .dim = {TRAIN_N, 1, 1}};
    LC_TRY(lc_tensor_new(LC_F32, xs, x));
    LC_TRY(lc_tensor_new(LC_F32, ts, t));
    for (int n = 0; n < TRAIN_N; n++) {
        double sum = 0.0;
        for (int i = 0; i < 4; i++) {
            double v = lc_random_uniform(-1.0, 1.0);
            lc_tensor_set(*x, n * 4 + i, v);
            sum += (float)v;
        }
        lc_tensor_set(*t, n, 0.25 * sum + 0.5);
    }
    return LC_OK;
}

static lc_status train(bool interpret, const lc_tensor *x, const lc_tensor *t, train_run *r) {
    lc_random_seed(0); /* both runs start from the same parameters */
    LC_TRY(lc_model_parse(TRAIN_MODEL, "demo training model", &r->model));
    lc_mseloss_params mse = lc_mseloss_defaults();
    LC_TRY(lc_mseloss_new(&mse, &r->loss_fn));
    lc_train_options o = lc_train_options_default(0.1);
    o.sgd.momentum = 0.9;
    o.interpret = interpret;
    double t0 = lc_now_ms();
    LC_TRY(lc_train_step_compile_module(r->model, r->loss_fn, LC_F32, x->shape, &o, &r->step));
    r->compile_ms = lc_now_ms() - t0;
    t0 = lc_now_ms();
    for (int s = 0; s < TRAIN_STEPS; s++) LC_TRY(lc_train_step_run_module(r->step, x, t, &r->loss[s]));
    r->run_ms = lc_now_ms() - t0;
    return LC_OK;
}

static void free_run(train_run *r) {
    lc_train_step_free(r->step);
    lc_module_free(r->model);
    lc_module_free(r->loss_fn);
}

/* Every trained parameter of `a` within rtol/atol of `b`'s. */
static bool params_close(lc_module *a, lc_module *b, double rtol, double atol, double *max_abs) {
    bool ok = true;
    *max_abs = 0.0;
    for (int k = 0; k < lc_module_param_count(a); k++) {
        lc_tensor *pa, *pb;
        if (lc_module_param_at(a, k, NULL, 0, &pa) != LC_OK || lc_module_param_at(b, k, NULL, 0, &pb) != LC_OK)
            return false;
        for (int64_t i = 0; i < lc_tensor_numel(pa); i++) {
            double d = fabs(lc_tensor_get(pa, i) - lc_tensor_get(pb, i));
            if (d > *max_abs) *max_abs = d;
            ok = ok && d <= atol + rtol * fabs(lc_tensor_get(pb, i));
        }
    }
    return ok;
}

int cli_demo_train(bool *ok) {
    lc_tensor *x = NULL, *t = NULL;
    train_run jit = {0}, interp = {0};
    int st = CLI_ERROR;
    lc_random_seed(1); /* the task's data */
    if (make_task(&x, &t) != LC_OK) { st = cli_lib_error("demo: training data"); goto done; }
    if (train(false, x, t, &jit) != LC_OK) { st = cli_lib_error("demo: training (jit)"); goto done; }
    if (train(true, x, t, &interp) != LC_OK) { st = cli_lib_error("demo: training (interp)"); goto done; }

    printf("\ntraining: the seed model, corrected (Conv1d(1, 1, 3, stride=1, padding=1) -> AvgPool1d(2, 2)\n"
           "  -> Linear(2, 1)), MSELoss, SGD(lr=0.1, momentum=0.9), %d samples of t = 0.25 * sum(x) + 0.5;\n"
           "  forward, loss, backward and update compiled into one program of %d kernels (%.3f ms),\n"
           "  the parameters updated in place (docs/examples/train.c does the same):\n",
           TRAIN_N, lc_program_kernel_count(lc_train_step_program(jit.step)), jit.compile_ms);
    for (int s = 0; s < TRAIN_STEPS; s++)
        if (s % TRAIN_PRINT_EVERY == 0 || s == TRAIN_STEPS - 1)
            printf("  step %3d  loss %-12.6g (interpreter %.6g)\n", s, jit.loss[s], interp.loss[s]);
    double max_abs;
    bool same = params_close(jit.model, interp.model, 1e-3, 1e-5, &max_abs);
    bool fell = jit.loss[TRAIN_STEPS - 1] * 100.0 <= jit.loss[0];
    printf("  %d steps in %.3f ms (%.2f us a step); the loss fell %.3gx: %s\n", TRAIN_STEPS, jit.run_ms,
           jit.run_ms * 1e3 / TRAIN_STEPS, jit.loss[0] / jit.loss[TRAIN_STEPS - 1],
           fell ? "ok" : "DID NOT FALL 100x");
    printf("  trained parameters, JIT against the interpreter (rtol 1e-3, atol 1e-5): max abs err %.3g: %s\n",
           max_abs, same ? "ok" : "MISMATCH");
    *ok = same && fell;
    st = CLI_OK;
done:
    free_run(&jit);
    free_run(&interp);
    lc_tensor_free(x);
    lc_tensor_free(t);
    return st;
}
