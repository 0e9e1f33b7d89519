/* A compiled training step (lucid/train.h): the SGD training graph, compiled once by the
 * driver, run with its parameters and momentum buffers as in-out buffers.
 *
 *   compile: lc_sgd_graph -> lc_pipeline_run_default (built .. dce) -> lc_compile (fuse .. asm)
 *   run:     program inputs  = g's inputs, then the momentum buffers
 *            program outputs = g's outputs (the step's own tensors), then each parameter's
 *                              tensor and each buffer again: written in place
 * Interpreted, the graph as built runs instead and the new values are copied over.
 * With dampening (and momentum), PyTorch's first step keeps g' undamped in the buffer: the
 * first step after compile or reset runs a second graph built with dampening 0 (same layout). */
#include <stdlib.h>
#include <string.h>

#include "lucid/passes.h"
#include "lucid/runtime.h"
#include "lucid/train.h"
#include "support/error.h"

struct lc_train_step {
    lc_graph *graph;        /* lc_sgd_graph's result */
    lc_program *program;    /* NULL when interpreting */
    lc_graph *first_graph;  /* the undamped first step (dampening != 0 with momentum), or NULL */
    lc_program *first_program;
    bool stepped;           /* a step ran since compile or reset */
    int n_inputs, n_outputs; /* g's */
    int loss_output;
    int n_params;
    int *param_input;       /* per parameter: its position among g's inputs */
    lc_tensor **momentum;   /* per parameter, or NULL without momentum */
    lc_tensor **outputs;    /* g's outputs of the last step */
    bool ran;
    /* lc_train_step_compile_module: per input of g, the model's parameter tensor (borrowed)
     * or NULL for x and target, which are at x_input and target_input */
    lc_tensor **bound;
    int x_input, target_input;
    /* room for one run's tensor lists, so a step allocates nothing */
    const lc_tensor **run_in;
    lc_tensor **run_out;
};

lc_train_options lc_train_options_default(double lr) {
    lc_train_options o = {.sgd = lc_sgd_options_default(lr), .interpret = false,
                          .compile = lc_compile_options_default()};
    return o;
}

void lc_train_step_free(lc_train_step *s) {
    if (!s) return;
    for (int k = 0; s->momentum && k < s->n_params; k++) lc_tensor_free(s->momentum[k]);
    for (int j = 0; s->outputs && j < s->n_outputs; j++) lc_tensor_free(s->outputs[j]);
    free(s->momentum);
    free(s->outputs);
    free(s->param_input);
    free(s->run_in);
    free(s->run_out);
    free(s->bound);
    lc_program_free(s->program);
    lc_graph_free(s->graph);
    lc_program_free(s->first_program);
    lc_graph_free(s->first_graph);
    free(s);
}

static lc_status alloc_state(lc_train_step *s, const lc_graph *g, const int *params, bool momentum) {
    int n_prog_in = s->n_inputs + (momentum ? s->n_params : 0);
    int n_prog_out = s->n_outputs + s->n_params * (momentum ? 2 : 1);
    s->param_input = malloc(sizeof(int) * (size_t)s->n_params);
    s->outputs = calloc((size_t)s->n_outputs + 1, sizeof *s->outputs);
    s->run_in = calloc((size_t)n_prog_in + 1, sizeof *s->run_in);
    s->run_out = calloc((size_t)n_prog_out + 1, sizeof *s->run_out);
    if (momentum) s->momentum = calloc((size_t)s->n_params, sizeof *s->momentum);
    if (!s->param_input || !s->outputs || !s->run_in || !s->run_out || (momentum && !s->momentum))
        return lc_fail(LC_ERR_NOMEM, "train step: out of memory");
    for (int k = 0; k < s->n_params; k++) {
        for (int i = 0; i < s->n_inputs; i++)
            if (lc_graph_input(g, i) == params[k]) s->param_input[k] = i;
        const lc_node *p = lc_graph_node(g, params[k]);
        if (momentum) LC_TRY(lc_tensor_new(p->dtype, p->shape, &s->momentum[k]));
    }
    for (int j = 0; j < s->n_outputs; j++) {
        const lc_node *y = lc_graph_node(g, lc_graph_output(g, j));
        LC_TRY(lc_tensor_new(y->dtype, y->shape, &s->outputs[j]));
    }
    return LC_OK;
}

static lc_status compile(const lc_graph *graph, const lc_compile_options *co, lc_program **out) {
    lc_graph *optimized;
    LC_TRY(lc_pipeline_run_default(graph, false, NULL, &optimized));
    lc_status st = lc_compile(optimized, co, out);
    lc_graph_free(optimized);
    return st;
}

lc_status lc_train_step_compile(const lc_graph *g, int loss_output, const int *params, int n_params,
                                const lc_train_options *o, lc_train_step **out) {
    if (!out) return lc_fail(LC_ERR_INVALID_ARG, "train step: out must not be NULL");
    *out = NULL;
    if (!o) return lc_fail(LC_ERR_INVALID_ARG, "train step: options must not be NULL");
    lc_train_step *s = calloc(1, sizeof *s);
    if (!s) return lc_fail(LC_ERR_NOMEM, "train step: out of memory");
    lc_status st = lc_sgd_graph(g, loss_output, params, n_params, &o->sgd, &s->graph);
    if (st == LC_OK) {
        s->n_inputs = lc_graph_input_count(g);
        s->n_outputs = lc_graph_output_count(g);
        s->loss_output = loss_output;
        s->n_params = n_params;
        st = alloc_state(s, g, params, o->sgd.momentum != 0.0);
    }
    if (st == LC_OK && o->sgd.momentum != 0.0 && o->sgd.dampening != 0.0) {
        lc_sgd_options undamped = o->sgd;
        undamped.dampening = 0.0;
        st = lc_sgd_graph(g, loss_output, params, n_params, &undamped, &s->first_graph);
    }
    if (st == LC_OK && !o->interpret) st = compile(s->graph, &o->compile, &s->program);
    if (st == LC_OK && !o->interpret && s->first_graph)
        st = compile(s->first_graph, &o->compile, &s->first_program);
    if (st != LC_OK) {
        lc_train_step_free(s);
        return st;
    }
    *out = s;
    return LC_OK;
}

/* Interpreted: the training graph as built, its new values copied over afterwards (the
 * interpreter makes fresh outputs). */
static lc_status run_interpreted(lc_train_step *s, const lc_graph *graph, lc_tensor *const *inputs,
                                 int n_prog_in, int n_prog_out) {
    lc_tensor **fresh = s->run_out;
    LC_TRY(lc_interp_run(graph, s->run_in, n_prog_in, fresh, n_prog_out));
    for (int j = 0; j < s->n_outputs; j++) {
        lc_tensor_free(s->outputs[j]);
        s->outputs[j] = fresh[j];
    }
    for (int k = 0; k < s->n_params; k++) {
        lc_tensor *w = inputs[s->param_input[k]];
        if (lc_tensor_nbytes(w) > 0) memcpy(w->data, fresh[s->n_outputs + k]->data, lc_tensor_nbytes(w));
        lc_tensor_free(fresh[s->n_outputs + k]);
        if (s->momentum) {
            lc_tensor *b = fresh[s->n_outputs + s->n_params + k];
            if (lc_tensor_nbytes(b) > 0) memcpy(s->momentum[k]->data, b->data, lc_tensor_nbytes(b));
            lc_tensor_free(b);
        }
    }
    return LC_OK;
}

lc_status lc_train_step_run(lc_train_step *s, lc_tensor *const *inputs, int n_inputs, double *loss) {
    if (!s) return lc_fail(LC_ERR_INVALID_ARG, "train step: step must not be NULL");
    if (n_inputs != s->n_inputs)
        return lc_fail(LC_ERR_INVALID_ARG, "train step: expected %d inputs, got %d", s->n_inputs, n_inputs);
    if (n_inputs > 0 && !inputs) return lc_fail(LC_ERR_INVALID_ARG, "train step: inputs must not be NULL");
    int n_prog_in = 0, n_prog_out = 0;
    for (int i = 0; i < n_inputs; i++) s->run_in[n_prog_in++] = inputs[i];
    for (int k = 0; s->momentum && k < s->n_params; k++) s->run_in[n_prog_in++] = s->momentum[k];
    for (int j = 0; j < s->n_outputs; j++) s->run_out[n_prog_out++] = s->program ? s->outputs[j] : NULL;
    for (int k = 0; k < s->n_params; k++) s->run_out[n_prog_out++] = s->program ? inputs[s->param_input[k]] : NULL;
    for (int k = 0; s->momentum && k < s->n_params; k++) s->run_out[n_prog_out++] = s->program ? s->momentum[k] : NULL;
    bool first = s->first_graph && !s->stepped;
    if (s->program)
        LC_TRY(lc_program_run_into(first ? s->first_program : s->program, s->run_in, n_prog_in,
                                   s->run_out, n_prog_out));
    else LC_TRY(run_interpreted(s, first ? s->first_graph : s->graph, inputs, n_prog_in, n_prog_out));
    s->ran = true;
    s->stepped = true;
    if (loss) *loss = lc_tensor_get(s->outputs[s->loss_output], 0);
    return LC_OK;
}

const lc_tensor *lc_train_step_output(const lc_train_step *s, int i) {
    if (!s || !s->ran || i < 0 || i >= s->n_outputs) return NULL;
    return s->outputs[i];
}

const lc_tensor *lc_train_step_momentum(const lc_train_step *s, int k) {
    if (!s || !s->momentum || k < 0 || k >= s->n_params) return NULL;
    return s->momentum[k];
}

const lc_graph *lc_train_step_graph(const lc_train_step *s) { return s ? s->graph : NULL; }
const lc_program *lc_train_step_program(const lc_train_step *s) { return s ? s->program : NULL; }

void lc_train_step_reset(lc_train_step *s) {
    if (s) s->stepped = false;
    for (int k = 0; s && s->momentum && k < s->n_params; k++)
        if (lc_tensor_nbytes(s->momentum[k]) > 0) memset(s->momentum[k]->data, 0, lc_tensor_nbytes(s->momentum[k]));
}

/* ---- a model and its loss ---- */

/* x -> model -> y; loss(y, target); outputs y and the loss. Parameter inputs are the INPUT
 * nodes the model's forward added. */
static lc_status module_graph(const lc_module *model, const lc_module *loss, lc_dtype dtype,
                              lc_shape shape, lc_graph **out, int *x, int *t) {
    lc_graph *g;
    LC_TRY(lc_graph_new(&g));
    int y, l;
    lc_status st = lc_input(g, "x", dtype, shape, x);
    if (st == LC_OK) st = lc_module_forward(model, g, *x, &y);
    if (st == LC_OK) st = lc_input(g, "target", dtype, lc_graph_node(g, y)->shape, t);
    if (st == LC_OK) st = lc_module_forward_inputs(loss, g, (const int[]){y, *t}, 2, &l);
    if (st == LC_OK) st = lc_graph_add_output(g, y);
    if (st == LC_OK) st = lc_graph_add_output(g, l);
    if (st != LC_OK) {
        lc_graph_free(g);
        return st;
    }
    *out = g;
    return LC_OK;
}

lc_status lc_train_step_compile_module(lc_module *model, const lc_module *loss, lc_dtype dtype,
                                       lc_shape shape, const lc_train_options *o, lc_train_step **out) {
    if (!out) return lc_fail(LC_ERR_INVALID_ARG, "train step: out must not be NULL");
    *out = NULL;
    if (!model || !loss) return lc_fail(LC_ERR_INVALID_ARG, "train step: model and loss must not be NULL");
    if (dtype != LC_F32)
        return lc_fail(LC_ERR_INVALID_ARG, "train step: the model's parameters are f32, so dtype must be f32, got %s",
                       lc_dtype_name(dtype));
    if (lc_module_input_count(loss) != 2)
        return lc_fail(LC_ERR_INVALID_ARG, "train step: the loss must take (output, target), got a module of %d input",
                       lc_module_input_count(loss));
    int n_params = lc_module_param_count(model);
    if (n_params < 1) return lc_fail(LC_ERR_INVALID_ARG, "train step: the model has no parameters to train");
    lc_graph *g;
    int x, t;
    LC_TRY(module_graph(model, loss, dtype, shape, &g, &x, &t));
    int n_in = lc_graph_input_count(g);
    int *params = malloc(sizeof(int) * (size_t)n_params);
    lc_tensor **bound = calloc((size_t)n_in, sizeof *bound);
    lc_status st = params && bound ? LC_OK : lc_fail(LC_ERR_NOMEM, "train step: out of memory");
    /* the forward names each parameter input by its state_dict name */
    int found = 0, x_input = -1, t_input = -1;
    for (int i = 0; st == LC_OK && i < n_in; i++) {
        int node = lc_graph_input(g, i);
        if (node == x) { x_input = i; continue; }
        if (node == t) { t_input = i; continue; }
        st = lc_module_param_find(model, lc_graph_node(g, node)->name, &bound[i]);
        if (st == LC_OK && found < n_params) params[found++] = node;
    }
    if (st == LC_OK && found != n_params)
        st = lc_fail(LC_ERR_INTERNAL, "train step: the graph reads %d of the model's %d parameters", found, n_params);
    if (st == LC_OK) st = lc_train_step_compile(g, 1, params, n_params, o, out);
    lc_graph_free(g);
    free(params);
    if (st != LC_OK) {
        free(bound);
        return st;
    }
    (*out)->bound = bound;
    (*out)->x_input = x_input;
    (*out)->target_input = t_input;
    return LC_OK;
}

lc_status lc_train_step_run_module(lc_train_step *s, const lc_tensor *x, const lc_tensor *target,
                                   double *loss) {
    if (!s || !s->bound)
        return lc_fail(LC_ERR_INVALID_ARG, "train step: not a step made by lc_train_step_compile_module");
    if (!x || !target) return lc_fail(LC_ERR_INVALID_ARG, "train step: x and target must not be NULL");
    lc_tensor *local[16];
    lc_tensor **in = s->n_inputs <= 16 ? local : malloc(sizeof *in * (size_t)s->n_inputs);
    if (!in) return lc_fail(LC_ERR_NOMEM, "train step: out of memory");
    for (int i = 0; i < s->n_inputs; i++) in[i] = s->bound[i];
    /* x and target are only read: the step writes the parameters alone */
    in[s->x_input] = (lc_tensor *)x;
    in[s->target_input] = (lc_tensor *)target;
    lc_status st = lc_train_step_run(s, in, s->n_inputs, loss);
    if (in != local) free(in);
    return st;
}
