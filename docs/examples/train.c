/* Train the seed model, Conv1d(1, 1, 3, stride=1, padding=1) -> AvgPool1d(2, 2) -> Linear(2, 1),
 * on a small synthetic task: from 4 samples x predict t = 0.25 * (x0 + x1 + x2 + x3) + 0.5
 * (a linear map the model can represent exactly). Forward, MSELoss, backward and the SGD
 * update are one compiled program; each step updates the model's parameters in place.
 *
 * Built and run by ctest (example_train), which passes when the loss falls at least
 * LOSS_FACTOR times from the first step to the last. Build it yourself against an installed
 * Lucid with:  cc train.c $(pkg-config --cflags --libs lucid) -o train */
#include <stdio.h>
#include <stdlib.h>

#include <lucid/model_spec.h>
#include <lucid/nn.h>
#include <lucid/random.h>
#include <lucid/train.h>

enum { N = 16, STEPS = 200, PRINT_EVERY = 20 };
#define LOSS_FACTOR 100.0

static const char MODEL[] =
    "Conv1d(1, 1, 3, stride=1, padding=1)\n"
    "AvgPool1d(2, 2)\n"
    "Linear(2, 1)\n";

/* On failure: the library's message, and exit status 2. */
#define CHECK(call)                                                                         \
    do {                                                                                    \
        if ((call) != LC_OK) {                                                              \
            fprintf(stderr, "train: %s\n", lc_last_error());                                \
            return 2;                                                                       \
        }                                                                                   \
    } while (0)

int main(void) {
    lc_random_seed(0); /* the default init below and the data come from this one stream */
    lc_module *model, *loss_fn;
    CHECK(lc_model_parse(MODEL, "model", &model));
    lc_mseloss_params mse = lc_mseloss_defaults();
    CHECK(lc_mseloss_new(&mse, &loss_fn));

    /* the task: N inputs of shape (1, 4) in [-1, 1), their targets */
    lc_shape xs = {.rank = 3, .dim = {N, 1, 4}}, ts = {.rank = 3, .dim = {N, 1, 1}};
    lc_tensor *x, *t;
    CHECK(lc_tensor_new(LC_F32, xs, &x));
    CHECK(lc_tensor_new(LC_F32, ts, &t));
    for (int n = 0; n < N; n++) {
        double sum = 0.0;
        for (int i = 0; i < 4; i++) {
            double v = lc_random_uniform(-1.0, 1.0);
            lc_tensor_set(x, n * 4 + i, v);
            sum += (float)v;
        }
        lc_tensor_set(t, n, 0.25 * sum + 0.5);
    }

    lc_train_options o = lc_train_options_default(0.1); /* torch.optim.SGD(lr=0.1, momentum=0.9) */
    o.sgd.momentum = 0.9;
    lc_train_step *step;
    CHECK(lc_train_step_compile_module(model, loss_fn, LC_F32, xs, &o, &step));
    printf("%d kernels in one program: forward, loss, backward and the SGD update\n",
           lc_program_kernel_count(lc_train_step_program(step)));

    double first = 0.0, loss = 0.0;
    for (int s = 0; s < STEPS; s++) {
        CHECK(lc_train_step_run_module(step, x, t, &loss));
        if (s == 0) first = loss;
        if (s % PRINT_EVERY == 0 || s == STEPS - 1) printf("step %3d  loss %.6g\n", s, loss);
    }
    lc_train_step_free(step);

    char *repr;
    CHECK(lc_module_repr(model, &repr));
    printf("trained:\n%s\n", repr);
    free(repr);
    for (int k = 0; k < lc_module_param_count(model); k++) {
        char name[LC_PARAM_NAME_MAX], *values;
        lc_tensor *p;
        CHECK(lc_module_param_at(model, k, name, sizeof name, &p));
        CHECK(lc_tensor_format_values(p, &values));
        printf("  %-9s %s\n", name, values);
        free(values);
    }
    lc_tensor_free(x);
    lc_tensor_free(t);
    lc_module_free(loss_fn);
    lc_module_free(model);

    bool fell = loss * LOSS_FACTOR <= first;
    printf("loss %.6g -> %.6g after %d steps: %s (need a fall of %gx)\n", first, loss, STEPS,
           fell ? "fell" : "did NOT fall enough", LOSS_FACTOR);
    return fell ? 0 : 1;
}
