/* Training as one program: forward, loss, backward and an SGD update built into one graph and
 * compiled by the one driver into one program, whose parameters and momentum buffers are
 * updated in place (in-out buffers, lucid/program.h) (docs/pipeline.md).
 *
 *   // g: inputs x, target, w; outputs y and a one-element loss (output 1)
 *   lc_train_options o = lc_train_options_default(0.1);   // lr 0.1, no momentum, no decay
 *   o.sgd.momentum = 0.9;
 *   lc_train_step *step;
 *   lc_train_step_compile(g, 1, (int[]){w_node}, 1, &o, &step);
 *   for (int i = 0; i < 100; i++)
 *       lc_train_step_run(step, (lc_tensor *[]){x, target, w}, 3, &loss);  // w updated
 *   lc_train_step_free(step);
 *
 * The update is PyTorch's torch.optim.SGD, per parameter w with gradient g (the loss's, from
 * autodiff):
 *     g' = (maximize ? -g : g) + weight_decay * w      (the decay when weight_decay != 0)
 *     buf = momentum * buf + (1 - dampening) * g'      (when momentum != 0)
 *     step = nesterov ? g' + momentum * buf : buf      (when momentum != 0; else step = g')
 *     w = w - lr * step
 * PyTorch's first step sets buf = g' (undamped); here buf starts at zero, which gives the
 * same value when dampening is 0 (momentum * 0 + g' = g'). With dampening, lc_sgd_graph damps
 * every step, the first included: build the first step's graph with dampening 0 to match
 * PyTorch (lc_train_step does: it compiles that first step as a second program).
 *
 * Thread-safety: lc_sgd_graph only reads its graph. A train step holds state (its momentum
 * buffers and last outputs): one thread at a time per step; distinct steps are independent. */
#ifndef LUCID_TRAIN_H
#define LUCID_TRAIN_H

#include <stdbool.h>

#include "lucid/export.h"
#include "lucid/ir.h"
#include "lucid/nn.h"
#include "lucid/program.h"
#include "lucid/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lc_sgd_options {
    double lr;           /* finite, >= 0 */
    double momentum;     /* finite, >= 0; 0 keeps no buffers */
    double weight_decay; /* finite, >= 0 */
    double dampening;    /* finite (any sign, as PyTorch); 0 leaves buf undamped */
    bool nesterov;       /* needs momentum > 0 and dampening 0, as PyTorch */
    bool maximize;       /* ascend: the gradient is negated first */
} lc_sgd_options;

/* {lr, momentum 0, weight_decay 0, dampening 0, no nesterov, no maximize}, as
 * torch.optim.SGD(params, lr). */
LC_API lc_sgd_options lc_sgd_options_default(double lr);

/* The training graph of `g`: differentiate output `loss_output` (one element; its seed is the
 * constant 1, as loss.backward()) with respect to the INPUT nodes `params` (each once), then
 * append the update above. Layout of the result:
 *   inputs   g's inputs in order, then (momentum != 0) one buffer per parameter, in the order
 *            of `params`, named "momentum.<param name>"
 *   outputs  g's outputs in order (the values before the update), then each parameter's
 *            updated value ("sgd.<param name>"), then (momentum != 0) each updated buffer
 *            ("sgd.<param name>.momentum")
 * Bad options, a loss output out of range or not of one element, and a parameter that is
 * not an input (or given twice) fail with a message naming "SGD", the parameter and value.
 * Caller frees *out. */
LC_API lc_status lc_sgd_graph(const lc_graph *g, int loss_output, const int *params, int n_params,
                              const lc_sgd_options *o, lc_graph **out);

typedef struct lc_train_options {
    lc_sgd_options sgd;
    bool interpret;               /* run the training graph on the interpreter (the oracle)
                                     instead of compiling it */
    lc_compile_options compile;   /* how to compile (ignored when interpreting) */
} lc_train_options;

/* {lc_sgd_options_default(lr), compiled, lc_compile_options_default()}. */
LC_API lc_train_options lc_train_options_default(double lr);

typedef struct lc_train_step lc_train_step;

/* Build lc_sgd_graph(g, ...), run the graph passes over it and compile it (lc_pipeline_run_
 * default then lc_compile: the compile driver, once per structure thanks to the cache), and
 * allocate the momentum buffers (zero) and the outputs. `g` may be freed right after. Free
 * *out with lc_train_step_free. */
LC_API lc_status lc_train_step_compile(const lc_graph *g, int loss_output, const int *params,
                                       int n_params, const lc_train_options *o,
                                       lc_train_step **out);

/* One step: `inputs` are g's inputs in order (dtype and shape as g's); the parameters among
 * them are updated in place, and the step's momentum buffers with them. *loss (NULL: not
 * wanted) gets the loss before the update, and lc_train_step_output g's outputs. On failure
 * no tensor has changed. */
LC_API lc_status lc_train_step_run(lc_train_step *s, lc_tensor *const *inputs, int n_inputs,
                                   double *loss);

/* The same for a model and a loss module (MSELoss): the graph is x (`dtype`, `shape`) ->
 * model -> y, then loss(y, target) with target of y's shape; outputs y and the loss; the
 * parameters are the model's own tensors (lc_module_param_at), which every step updates in
 * place, so the model holds the trained values. The parameters are float32, so `dtype` must
 * be LC_F32. The step borrows `model`: free the step first. */
LC_API lc_status lc_train_step_compile_module(lc_module *model, const lc_module *loss,
                                              lc_dtype dtype, lc_shape shape,
                                              const lc_train_options *o, lc_train_step **out);
/* One step of a module's training: x and target as compiled; the model's parameters are
 * updated in place; *loss (NULL: not wanted) gets the loss before the update. */
LC_API lc_status lc_train_step_run_module(lc_train_step *s, const lc_tensor *x,
                                          const lc_tensor *target, double *loss);

/* Output i of g as the last step computed it (before its update); NULL before the first step
 * or out of range. Owned by the step, valid until the next run or the free. */
LC_API const lc_tensor *lc_train_step_output(const lc_train_step *s, int i);
/* Parameter k's momentum buffer (NULL without momentum or out of range). Owned by the step. */
LC_API const lc_tensor *lc_train_step_momentum(const lc_train_step *s, int k);
/* The training graph as lc_sgd_graph built it (before the passes). Owned by the step. */
LC_API const lc_graph *lc_train_step_graph(const lc_train_step *s);
/* The compiled program (NULL when interpreting). Owned by the step. */
LC_API const lc_program *lc_train_step_program(const lc_train_step *s);
/* Zero the momentum buffers: the next step is a first step again (undamped, as PyTorch's). */
LC_API void lc_train_step_reset(lc_train_step *s);
LC_API void lc_train_step_free(lc_train_step *s);

#ifdef __cplusplus
}
#endif
#endif
