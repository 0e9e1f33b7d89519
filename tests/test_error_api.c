/* The error API (docs/semantics.md, "Errors"): lc_status_str names every status; every
 * public function that returns lc_status, made to fail, returns the documented status and
 * leaves a message naming what failed; the message channel is per thread, survives success,
 * is cleared by lc_clear_error, and truncates long messages safely.
 *
 * test_every_public_function_is_covered reads the public headers (include/lucid) and fails when a function
 * returning lc_status appears in neither table below: add a failing call for it (or, if it
 * can fail only when memory runs out, name it in ALLOC_ONLY; test_alloc_failures.c makes
 * those fail). */
#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lucid/autodiff.h"
#include "lucid/autograd.h"
#include "lucid/model_spec.h"
#include "lucid/nn.h"
#include "lucid/npy.h"
#include "lucid/passes.h"
#include "lucid/program.h"
#include "lucid/runtime.h"
#include "lucid/train.h"
#include "nn/pool_geometry.h"
#include "support/error.h"
#include "support/testutil.h"

static void test_status_str(void **state) {
    (void)state;
    static const struct { lc_status s; const char *name; } names[] = {
        {LC_OK, "ok"},
        {LC_ERR_INVALID_ARG, "invalid argument"},
        {LC_ERR_SHAPE, "shape mismatch"},
        {LC_ERR_PARSE, "parse error"},
        {LC_ERR_IO, "i/o error"},
        {LC_ERR_UNSUPPORTED, "unsupported"},
        {LC_ERR_NOMEM, "out of memory"},
        {LC_ERR_JIT, "jit error"},
        {LC_ERR_INTERNAL, "internal error"},
    };
    /* Every enumerator from LC_OK to LC_ERR_INTERNAL is listed, once. */
    assert_int_equal(sizeof names / sizeof names[0], LC_ERR_INTERNAL + 1);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        assert_int_equal(names[i].s, (lc_status)i);
        assert_string_equal(lc_status_str(names[i].s), names[i].name);
    }
    assert_string_equal(lc_status_str((lc_status)(LC_ERR_INTERNAL + 1)), "unknown status");
    assert_string_equal(lc_status_str((lc_status)-1), "unknown status");
}

/* ---- the message channel ---- */

static void *fail_on_other_thread(void *arg) {
    lc_tensor *t = NULL;
    lc_shape bad = {.rank = 9};
    *(lc_status *)arg = lc_tensor_new(LC_F32, bad, &t);
    return NULL;
}

static void test_message_channel(void **state) {
    (void)state;
    lc_clear_error();
    assert_string_equal(lc_last_error(), "");
    lc_lppool1d_params p = lc_lppool1d_defaults(-1, 2);
    lc_module *m;
    assert_fails(lc_lppool1d_new(&p, &m), LC_ERR_INVALID_ARG, "LPPool1d: norm_type must be finite and > 0, got -1");
    /* A success does not clear it. */
    lc_graph *g;
    assert_ok(lc_graph_new(&g));
    assert_string_equal(lc_last_error(), "LPPool1d: norm_type must be finite and > 0, got -1");
    /* Another thread's failure leaves this thread's message alone. */
    pthread_t th;
    lc_status other = LC_OK;
    assert_int_equal(pthread_create(&th, NULL, fail_on_other_thread, &other), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(other, LC_ERR_SHAPE);
    assert_string_equal(lc_last_error(), "LPPool1d: norm_type must be finite and > 0, got -1");
    lc_clear_error();
    assert_string_equal(lc_last_error(), "");
    lc_graph_free(g);

    /* A message longer than the buffer is cut, NUL-terminated, never overflowing. */
    size_t n = 5000;
    char *label = malloc(n + 1);
    assert_non_null(label);
    memset(label, 'L', n);
    label[n] = '\0';
    lc_module *mm = (lc_module *)0x1;
    lc_status st = lc_model_parse("Conv1d(3)", label, &mm);
    assert_int_not_equal(st, LC_OK);
    assert_null(mm);
    size_t len = strlen(lc_last_error());
    assert_true(len > 100 && len < 4096);
    free(label);
    /* The same with a long prefix on top of a long message (lc_fail_prefix's path). */
    char *text = malloc(3000);
    assert_non_null(text);
    memset(text, 'x', 2999);
    text[2999] = '\0';
    lc_tensor *t = (lc_tensor *)0x1;
    assert_int_not_equal(lc_npy_read(text, &t), LC_OK);
    assert_null(t);
    assert_true(strlen(lc_last_error()) < 4096);
    free(text);
}

/* A context added to a message that already starts with it is kept once: a pass's own "SGD: out
 * of memory" under its pass-level "SGD" prefix, an npy reason under "npy". */
static void test_prefix_once(void **state) {
    (void)state;
    assert_int_equal(lc_fail(LC_ERR_NOMEM, "SGD: out of memory"), LC_ERR_NOMEM);
    assert_int_equal(lc_fail_prefix(LC_ERR_NOMEM, "SGD"), LC_ERR_NOMEM);
    assert_string_equal(lc_last_error(), "SGD: out of memory");
    lc_fail_prefix(LC_ERR_NOMEM, "%s", "train");
    assert_string_equal(lc_last_error(), "train: SGD: out of memory");
    /* only a whole leading context counts: "SG" is not "SGD" */
    lc_fail(LC_ERR_NOMEM, "SGD: out of memory");
    lc_fail_prefix(LC_ERR_NOMEM, "SG");
    assert_string_equal(lc_last_error(), "SG: SGD: out of memory");
    lc_fail(LC_ERR_IO, "x.npy: cannot open");
    lc_fail_prefix(LC_ERR_IO, "%s", "x.npy");
    assert_string_equal(lc_last_error(), "x.npy: cannot open");
    lc_clear_error();
}

/* ---- one failing call per public function ---- */

typedef struct fixture {
    lc_graph *g;      /* x: f32[1,2,8] input, y = LPPool1d(2, 2)(x), output y */
    int x, y;
    lc_module *lp;
    lc_tensor *xt;    /* zeros of x's shape */
    char tmp[64];     /* a scratch directory */
} fixture;

static fixture fx;

static int setup(void **state) {
    (void)state;
    memset(&fx, 0, sizeof fx);
    if (lc_graph_new(&fx.g)) return -1;
    lc_lppool1d_params p = lc_lppool1d_defaults(2, 2);
    if (lc_lppool1d_new(&p, &fx.lp)) return -1;
    lc_shape s = test_shape3(1, 2, 8);
    if (lc_input(fx.g, "x", LC_F32, s, &fx.x)) return -1;
    if (lc_module_forward(fx.lp, fx.g, fx.x, &fx.y)) return -1;
    if (lc_graph_add_output(fx.g, fx.y)) return -1;
    if (lc_tensor_new(LC_F32, s, &fx.xt)) return -1;
    snprintf(fx.tmp, sizeof fx.tmp, "/tmp/lucid-errapi.XXXXXX");
    if (!mkdtemp(fx.tmp)) return -1;
    return 0;
}

static int teardown(void **state) {
    (void)state;
    lc_graph_free(fx.g);
    lc_module_free(fx.lp);
    lc_tensor_free(fx.xt);
    rmdir(fx.tmp);
    return 0;
}

static int o;                 /* node index out-parameter */
static lc_graph *og;          /* graph out-parameter */
static lc_module *om;         /* module out-parameter */
static lc_tensor *ot;         /* tensor out-parameter */

static lc_status f_abs(void) { return lc_abs(fx.g, 99, &o); }
/* Calls that need another input get a copy of the fixture graph to add it to. */
static lc_status f_add(void) {
    lc_graph *g;
    int b;
    int64_t four = 4;
    lc_status st = lc_graph_clone(fx.g, &g);
    if (st) return st;
    st = lc_input(g, "b", LC_F32, lc_shape_make(1, &four), &b);
    if (st == LC_OK) st = lc_add(g, fx.x, b, &o);
    lc_graph_free(g);
    return st;
}
static lc_status f_autodiff(void) { return lc_autodiff(fx.g, (const int[]){99}, 1, NULL, 0, &og); }
static lc_status f_avgpool1d_new(void) {
    lc_avgpool1d_params p = lc_avgpool1d_defaults(0);
    return lc_avgpool1d_new(&p, &om);
}
static lc_status f_backward(void) { return lc_backward(fx.xt, NULL); }
static lc_status f_compile(void) {
    lc_graph *empty;
    lc_status st = lc_graph_new(&empty);
    if (st) return st;
    lc_program *p = (lc_program *)0x1;
    st = lc_compile(empty, NULL, &p);
    lc_graph_free(empty);
    return p == NULL ? st : LC_OK;
}
static lc_status f_compile_dump(void) { return lc_compile_dump(fx.g, NULL, stdout); }
static lc_status f_constant(void) {
    int64_t three = 3;
    return lc_constant(fx.g, LC_F32, lc_shape_make(1, &three), NULL, &o);
}
/* A binary op of the fixture's f32 x and an f64 input c of x's shape, on a copy of the graph. */
static lc_status with_f64_operand(lc_status (*op)(lc_graph *, int, int, int *)) {
    lc_graph *g;
    int c;
    lc_status st = lc_graph_clone(fx.g, &g);
    if (st) return st;
    st = lc_input(g, "c", LC_F64, test_shape3(1, 2, 8), &c);
    if (st == LC_OK) st = op(g, fx.x, c, &o);
    lc_graph_free(g);
    return st;
}
static lc_status f_div(void) { return with_f64_operand(lc_div); }
static lc_status f_div_safe(void) { return lc_div_safe(fx.g, fx.x, -1, &o); }
static lc_status f_equal(void) { return with_f64_operand(lc_equal); }
static lc_status f_expand(void) { return lc_expand(fx.g, fx.x, 0, -1, &o); }
static lc_status f_fold(void) { return lc_fold(fx.g, fx.x, 1, 2, 2, 0, 0, 8, &o); }
static lc_status f_graph_add_output(void) { return lc_graph_add_output(fx.g, 999); }
static lc_status f_graph_append(void) {
    return lc_graph_append(fx.g, (lc_op)99, NULL, NULL, 0, LC_F32, NULL, NULL, &o);
}
static lc_status f_graph_parse(void) { return lc_graph_parse("graph {\n  %0 = nothing\n}\n", &og); }
static lc_status f_graph_print(void) {
    FILE *f = fopen("/dev/null", "r");
    if (!f) return LC_OK;
    lc_status st = lc_graph_print(fx.g, f);
    fclose(f);
    return st;
}
static lc_status f_graph_print_dot(void) {
    FILE *f = fopen("/dev/null", "r");
    if (!f) return LC_OK;
    lc_status st = lc_graph_print_dot(fx.g, f);
    fclose(f);
    return st;
}
static lc_status f_graph_set_name(void) { return lc_graph_set_name(fx.g, 999, "n"); }
static lc_status f_graph_to_string(void) {
    char *s = (char *)0x1;
    lc_status st = lc_graph_to_string(NULL, &s);
    return s == NULL ? st : LC_OK;
}
static lc_status f_graph_verify(void) {
    /* A node whose recorded shape differs from the inferred one (as a corrupted graph would
     * have): the verifier names it. The fixture graph is restored afterwards. */
    lc_node *n = (lc_node *)lc_graph_node(fx.g, fx.y);
    int64_t saved = n->shape.dim[2];
    n->shape.dim[2] = 77;
    lc_status st = lc_graph_verify(fx.g);
    n->shape.dim[2] = saved;
    return st;
}
static lc_status f_input(void) {
    lc_shape s = {.rank = 7};
    return lc_input(fx.g, "z", LC_F32, s, &o);
}
static lc_status f_interp_run(void) {
    lc_tensor *out = (lc_tensor *)0x1;
    lc_status st = lc_interp_run(fx.g, NULL, 0, &out, 1);
    return out == NULL ? st : LC_OK;
}
static lc_status f_lppool1d_new(void) {
    lc_lppool1d_params p = lc_lppool1d_defaults(NAN, 2);
    return lc_lppool1d_new(&p, &om);
}
static lc_status f_mean(void) { return lc_mean(fx.g, fx.x, 3, &o); }
static lc_status f_model_parse(void) { return lc_model_parse("Conv3d(3)\n", "m.txt", &om); }
static lc_status f_model_parse_call(void) { return lc_model_parse_call("AvgPool1d(", "--module 1", &om); }
static lc_status f_module_new(void) { return lc_module_new("AvgPool1d", NULL, 0, &om); }
static lc_status f_module_call(void) {
    lc_tensor *bad;
    int64_t eight = 8;
    lc_status st = lc_tensor_new(LC_F32, lc_shape_make(1, &eight), &bad);
    if (st) return st;
    st = lc_module_call(fx.lp, bad, &ot);
    lc_tensor_free(bad);
    return st;
}
static lc_status f_module_forward_inputs(void) {
    return lc_module_forward_inputs(fx.lp, fx.g, (const int[]){fx.x, fx.x}, 2, &o);
}
static lc_status f_module_call_inputs(void) {
    return lc_module_call_inputs(fx.lp, (lc_tensor *const[]){fx.xt, fx.xt}, 2, &ot);
}
static lc_status f_linear_new(void) {
    lc_linear_params p = lc_linear_defaults(0, 2);
    return lc_linear_new(&p, &om);
}
static lc_status f_conv1d_new(void) {
    lc_conv1d_params p = lc_conv1d_defaults(4, 6, 3);
    p.groups = 3;
    return lc_conv1d_new(&p, &om);
}
static lc_status f_mseloss_new(void) {
    lc_mseloss_params p = {(lc_loss_reduction)7};
    return lc_mseloss_new(&p, &om);
}
static lc_status f_module_param_at(void) { return lc_module_param_at(fx.lp, 0, NULL, 0, &ot); }
static lc_status f_module_param_find(void) { return lc_module_param_find(fx.lp, "weight", &ot); }
static lc_status f_module_set_param(void) { return lc_module_set_param(fx.lp, "0.bias", fx.xt); }
static lc_status f_relu(void) { return lc_relu(fx.g, 42, &o); }
static lc_status f_module_forward(void) { return lc_module_forward(fx.lp, fx.g, 999, &o); }
static lc_status f_module_graph(void) {
    lc_graph *g = NULL;
    int64_t d4[] = {1, 1, 1, 8};
    return lc_module_graph(fx.lp, LC_F32, lc_shape_make(4, d4), &g);
}
static lc_status f_module_output_shape(void) {
    lc_shape out;
    return lc_module_output_shape(fx.lp, test_shape3(1, 1, 1), &out);
}
static lc_status f_mul(void) { return lc_mul(fx.g, fx.x, fx.y, &o); }
static lc_status f_npy_read(void) {
    char path[128];
    snprintf(path, sizeof path, "%s/missing.npy", fx.tmp);
    return lc_npy_read(path, &ot);
}
static lc_status f_npy_read_buffer(void) { return lc_npy_read_buffer("not numpy", 9, &ot); }
static lc_status f_npy_write(void) {
    char path[128];
    snprintf(path, sizeof path, "%s/no/such/dir/y.npy", fx.tmp);
    return lc_npy_write(path, fx.xt);
}
static lc_status f_npy_write_buffer(void) { return lc_npy_write_buffer(fx.xt, NULL, NULL); }
static lc_status f_pass_run(void) { return lc_pass_run("no-such-pass", fx.g, &og); }
static lc_status f_pipeline_run(void) {
    const char *names[] = {"cse", "bogus"};
    return lc_pipeline_run(fx.g, names, 2, NULL, &og);
}
static lc_status f_drive(void) {
    lc_drive_options late = lc_drive_options_default();
    late.first = LC_STAGE_PLAN; /* a graph cannot enter after fuse */
    return lc_drive(fx.g, &late, &og, NULL);
}
static lc_status f_pipeline_run_default(void) { return lc_pipeline_run_default(NULL, false, NULL, &og); }
static lc_status f_pool1d_geometry_compute(void) {
    lc_pool1d_geometry geo;
    return lc_pool1d_geometry_compute("Who", 3, 4, 1, 0, false, &geo);
}
static lc_status f_pow(void) { return lc_pow(fx.g, fx.x, NAN, &o); }
static lc_status f_pow_zero_pole(void) { return lc_pow_zero_pole(fx.g, fx.x, -INFINITY, &o); }
static lc_status f_program_optimize(void) { return lc_program_optimize(NULL); }

static lc_status f_program_run(void) {
    lc_program *p;
    lc_status st = lc_compile(fx.g, NULL, &p);
    if (st) return LC_OK; /* compile failures are f_compile's business */
    lc_tensor *out = (lc_tensor *)0x1;
    st = lc_program_run(p, NULL, 0, &out, 1);
    lc_program_free(p);
    return out == NULL ? st : LC_OK;
}
static lc_status f_program_run_into(void) {
    lc_program *p;
    lc_status st = lc_compile(fx.g, NULL, &p);
    if (st) return LC_OK;
    lc_tensor *wrong;
    st = lc_tensor_new(LC_F32, test_shape3(1, 2, 5), &wrong);
    if (st) {
        lc_program_free(p);
        return st;
    }
    st = lc_program_run_into(p, (const lc_tensor *const[]){fx.xt}, 1, (lc_tensor *const[]){wrong}, 1);
    lc_tensor_free(wrong);
    lc_program_free(p);
    return st;
}
static lc_status f_runtime_set_threads(void) { return lc_runtime_set_threads(0); }
static lc_status f_scalar(void) { return lc_scalar(fx.g, (lc_dtype)5, 1.0, &o); }
static lc_status f_select(void) { return with_f64_operand(lc_select); }
static lc_status f_sequential_append(void) {
    lc_lppool1d_params p = lc_lppool1d_defaults(2, 2);
    lc_module *child;
    lc_status st = lc_lppool1d_new(&p, &child);
    if (st) return st;
    return lc_sequential_append(fx.lp, child); /* not a Sequential; takes child anyway */
}
static lc_status f_sign(void) { return lc_sign(fx.g, -1, &o); }
static lc_status f_sum(void) { return lc_sum(fx.g, fx.x, -1, &o); }
static lc_status f_tensor_from_doubles(void) {
    lc_shape s = {.rank = 7};
    return lc_tensor_from_doubles(LC_F64, s, NULL, &ot);
}
/* A tensor as a binding builds it over its own memory (python/lucid_c's ctypes view): its
 * fields are checked before any element is read. */
static lc_status f_tensor_format_values(void) {
    float data[4] = {0};
    lc_tensor t = {.dtype = LC_F32, .shape = {.rank = 7, .dim = {1, 1, 1, 1, 1, 1}}, .data = data};
    char *s = NULL;
    return lc_tensor_format_values(&t, &s);
}
static lc_status f_tensor_repr(void) {
    float data[4] = {0};
    lc_tensor t = {.dtype = (lc_dtype)5, .shape = {.rank = 1, .dim = {2}}, .data = data};
    char *s = NULL;
    return lc_tensor_repr(&t, &s);
}
static lc_status f_tensor_new(void) {
    int64_t d = -3;
    return lc_tensor_new(LC_F32, lc_shape_make(1, &d), &ot);
}
static lc_status f_tensor_set_requires_grad(void) {
    lc_tensor *x, *y;
    lc_status st = lc_tensor_clone(fx.xt, &x);
    if (st) return st;
    lc_tensor_set_requires_grad(x, true);
    st = lc_module_call(fx.lp, x, &y);
    if (st) {
        lc_tensor_free(x);
        return st;
    }
    st = lc_tensor_set_requires_grad(y, false);
    lc_tensor_free(y);
    lc_tensor_free(x);
    return st;
}
static lc_status f_sgd_graph(void) {
    lc_sgd_options s = lc_sgd_options_default(-1.0);
    int x = fx.x;
    return lc_sgd_graph(fx.g, 0, &x, 1, &s, &og);
}
static lc_status f_train_step_compile(void) {
    lc_train_step *step = (lc_train_step *)0x1;
    int x = fx.x;
    lc_status st = lc_train_step_compile(fx.g, 0, &x, 1, NULL, &step);
    return step == NULL ? st : LC_OK;
}
static lc_status f_train_step_run(void) { return lc_train_step_run(NULL, NULL, 0, NULL); }
static lc_status f_train_step_compile_module(void) {
    lc_train_step *step = (lc_train_step *)0x1;
    lc_train_options opts = lc_train_options_default(0.1);
    lc_status st = lc_train_step_compile_module(fx.lp, fx.lp, LC_F64, test_shape3(1, 2, 8), &opts, &step);
    return step == NULL ? st : LC_OK;
}
static lc_status f_train_step_run_module(void) { return lc_train_step_run_module(NULL, NULL, NULL, NULL); }
static lc_status f_unfold(void) { return lc_unfold(fx.g, fx.x, 2, 0, 1, 0, 0, &o); }
static lc_status f_unfold_dilated(void) { return lc_unfold_dilated(fx.g, fx.x, 2, 2, 1, 0, 0, 0, &o); }
static lc_status f_unfold_neg_inf_pad(void) { return lc_unfold_neg_inf_pad(fx.g, fx.x, 2, 3, 1, 0, 0, 9, &o); }
static lc_status f_fold_dilated(void) { return lc_fold_dilated(fx.g, fx.x, 1, 2, 2, 0, 0, 1, 8, &o); }
static lc_status f_max(void) { return lc_max(fx.g, fx.x, 3, &o); }
static lc_status f_max_mask(void) { return lc_max_mask(fx.g, fx.x, -1, &o); }
static lc_status f_maxpool1d_new(void) {
    lc_maxpool1d_params p = lc_maxpool1d_defaults(3);
    p.padding = 2;
    return lc_maxpool1d_new(&p, &om);
}
static lc_status f_maxpool2d_new(void) {
    lc_maxpool2d_params p = lc_maxpool2d_defaults(2, 3);
    p.dilation[1] = 0;
    return lc_maxpool2d_new(&p, &om);
}
static lc_status f_avgpool2d_new(void) {
    lc_avgpool2d_params p = lc_avgpool2d_defaults(2, 3);
    p.padding[1] = 2;
    return lc_avgpool2d_new(&p, &om);
}
static lc_status f_lppool2d_new(void) {
    lc_lppool2d_params p = lc_lppool2d_defaults(2, 2, 3);
    p.stride[0] = 0;
    return lc_lppool2d_new(&p, &om);
}
static lc_status f_module_graph_indices(void) {
    lc_graph *g = NULL;
    return lc_module_graph_indices(fx.lp, LC_F32, test_shape3(1, 1, 8), &g);
}
static lc_status f_maxpool_indices(void) {
    int64_t idx[4];
    return lc_maxpool_indices(fx.lp, test_shape3(1, 1, 8), NULL, 0, idx);
}

typedef struct failing_call {
    const char *name;
    lc_status (*call)(void);
    lc_status status;
    const char *needle; /* part of the message */
} failing_call;

#define F(fn, st, needle) {"lc_" #fn, f_##fn, st, needle}
static const failing_call CALLS[] = {
    F(abs, LC_ERR_INVALID_ARG, "abs: input 0 must name an earlier node"),
    F(add, LC_ERR_SHAPE, "add: shapes [1,2,8] and [4] do not broadcast"),
    F(autodiff, LC_ERR_INVALID_ARG, "autodiff: output 0 must name a node"),
    F(avgpool1d_new, LC_ERR_INVALID_ARG, "AvgPool1d: kernel_size must be >= 1, got 0"),
    F(avgpool2d_new, LC_ERR_INVALID_ARG, "AvgPool2d: padding must be between 0 and kernel_size / 2 = 1, got 2"),
    F(backward, LC_ERR_INVALID_ARG, "backward"),
    F(compile, LC_ERR_INVALID_ARG, "compile: the graph has no outputs"),
    F(compile_dump, LC_ERR_INVALID_ARG, "compile"),
    F(constant, LC_ERR_INVALID_ARG, "constant: data must not be NULL"),
    F(div, LC_ERR_INVALID_ARG, "div: dtypes must match, got f32 and f64"),
    F(div_safe, LC_ERR_INVALID_ARG, "div: input 1 must name an earlier node"),
    F(equal, LC_ERR_INVALID_ARG, "equal: dtypes must match, got f32 and f64"),
    F(drive, LC_ERR_INVALID_ARG, "drive: first must be a stage from built to fuse (a graph enters there), got 6"),
    F(expand, LC_ERR_INVALID_ARG, "expand: size must be >= 0, got -1"),
    F(fold, LC_ERR_SHAPE, "fold: last axis must have the window size 2, got 8"),
    F(fold_dilated, LC_ERR_SHAPE, "fold: last axis must have the window size 2, got 8"),
    F(graph_add_output, LC_ERR_INVALID_ARG, "graph: output must name a node"),
    F(graph_append, LC_ERR_INVALID_ARG, "graph: unknown op 99"),
    F(graph_parse, LC_ERR_PARSE, "2:8: unknown op 'nothing'"),
    F(graph_print, LC_ERR_IO, "graph print: write failed"),
    F(graph_print_dot, LC_ERR_IO, "graph dot: write failed"),
    F(graph_set_name, LC_ERR_INVALID_ARG, "graph: node must be"),
    F(graph_to_string, LC_ERR_INVALID_ARG, "graph print: graph must not be NULL"),
    F(graph_verify, LC_ERR_SHAPE, "verify: node %5"),
    F(input, LC_ERR_SHAPE, "input: rank must be between 0 and 6, got 7"),
    F(interp_run, LC_ERR_INVALID_ARG, "interp: graph takes 1 inputs, got 0"),
    F(lppool1d_new, LC_ERR_INVALID_ARG, "LPPool1d: norm_type must be finite and > 0, got nan"),
    F(lppool2d_new, LC_ERR_INVALID_ARG, "LPPool2d: stride must be >= 1, got 0"),
    F(max, LC_ERR_INVALID_ARG, "max: dim must be between 0 and 2, got 3"),
    F(max_mask, LC_ERR_INVALID_ARG, "max_mask: dim must be between 0 and 2, got -1"),
    F(maxpool_indices, LC_ERR_INVALID_ARG, "max pool indices: the module must be MaxPool1d or MaxPool2d, got LPPool1d"),
    F(maxpool1d_new, LC_ERR_INVALID_ARG, "MaxPool1d: padding must be between 0 and kernel_size / 2 = 1, got 2"),
    F(maxpool2d_new, LC_ERR_INVALID_ARG, "MaxPool2d: dilation must be >= 1, got 0"),
    F(mean, LC_ERR_INVALID_ARG, "mean: dim must be between 0 and 2, got 3"),
    F(model_parse, LC_ERR_PARSE, "m.txt:1:1"),
    F(model_parse_call, LC_ERR_PARSE, "--module 1"),
    F(module_new, LC_ERR_INVALID_ARG, "AvgPool1d: missing required argument kernel_size"),
    F(module_call, LC_ERR_SHAPE, "LPPool1d: input must have rank 2 (C, L) or 3 (N, C, L), got rank 1"),
    F(module_forward, LC_ERR_INVALID_ARG, "module forward: x must name a node of the graph, got 999"),
    F(module_forward_inputs, LC_ERR_INVALID_ARG, "LPPool1d: forward takes 1 input, got 2"),
    F(module_call_inputs, LC_ERR_INVALID_ARG, "module call: the module takes 1 input, got 2"),
    F(linear_new, LC_ERR_INVALID_ARG, "Linear: in_features must be >= 1, got 0"),
    F(conv1d_new, LC_ERR_INVALID_ARG, "Conv1d: groups must divide in_channels, got 3 and 4"),
    F(mseloss_new, LC_ERR_INVALID_ARG, "MSELoss: reduction must be LC_REDUCTION_MEAN or LC_REDUCTION_SUM, got 7"),
    F(module_param_at, LC_ERR_INVALID_ARG, "LPPool1d: has no parameters, got index 0"),
    F(module_param_find, LC_ERR_INVALID_ARG, "LPPool1d: no parameter named weight (it has none)"),
    F(module_set_param, LC_ERR_INVALID_ARG, "LPPool1d: no parameter named 0.bias (it has none)"),
    F(relu, LC_ERR_INVALID_ARG, "relu: input 0 must name an earlier node"),
    F(module_graph, LC_ERR_SHAPE, "LPPool1d: input must have rank 2 (C, L) or 3 (N, C, L), got rank 4"),
    F(module_graph_indices, LC_ERR_INVALID_ARG, "max pool indices: the module must be MaxPool1d or MaxPool2d, got LPPool1d"),
    F(module_output_shape, LC_ERR_SHAPE, "LPPool1d: input length 1 with padding 0 is shorter than kernel_size 2"),
    F(mul, LC_ERR_SHAPE, "mul: shapes [1,2,8] and [1,2,4] do not broadcast"),
    F(npy_read, LC_ERR_IO, "missing.npy"),
    F(npy_read_buffer, LC_ERR_PARSE, "npy"),
    F(npy_write, LC_ERR_IO, "y.npy"),
    F(npy_write_buffer, LC_ERR_INVALID_ARG, "npy write: bytes or size is NULL"),
    F(pass_run, LC_ERR_INVALID_ARG, "no-such-pass"),
    F(pipeline_run, LC_ERR_INVALID_ARG, "bogus"),
    F(pipeline_run_default, LC_ERR_INVALID_ARG, "pipeline: graph must not be NULL"),
    F(pool1d_geometry_compute, LC_ERR_SHAPE, "Who: input length 3 with padding 0 is shorter than kernel_size 4"),
    F(pow, LC_ERR_INVALID_ARG, "pow: exponent must be finite, got nan"),
    F(pow_zero_pole, LC_ERR_INVALID_ARG, "pow: exponent must be finite, got -inf"),
    F(program_optimize, LC_ERR_INVALID_ARG, "program: program must not be NULL"),
    F(program_run, LC_ERR_INVALID_ARG, "program: expected 1 inputs, got 0"),
    F(program_run_into, LC_ERR_SHAPE, "program: output 0 must be f32[1,2,4], got f32[1,2,5]"),
    F(runtime_set_threads, LC_ERR_INVALID_ARG, "runtime: threads must be between 1 and 1024, got 0"),
    F(scalar, LC_ERR_INVALID_ARG, "dtype must be f32 or f64, got 5"),
    F(select, LC_ERR_INVALID_ARG, "select: dtypes must match, got f32 and f64"),
    F(sequential_append, LC_ERR_INVALID_ARG, "Sequential: append needs a Sequential module"),
    F(sign, LC_ERR_INVALID_ARG, "sign: input 0 must name an earlier node"),
    F(sum, LC_ERR_INVALID_ARG, "sum: dim must be between 0 and 2, got -1"),
    F(tensor_from_doubles, LC_ERR_SHAPE, "tensor: rank must be between 0 and 6, got 7"),
    F(tensor_format_values, LC_ERR_SHAPE, "tensor print: the tensor's rank must be between 0 and 6, got 7"),
    F(tensor_new, LC_ERR_SHAPE, "tensor: dimension 0 must be >= 0, got -3"),
    F(tensor_repr, LC_ERR_INVALID_ARG, "tensor print: the tensor's dtype must be f32 or f64, got 5"),
    F(tensor_set_requires_grad, LC_ERR_INVALID_ARG, "autograd: requires_grad can only be changed on a leaf tensor"),
    F(sgd_graph, LC_ERR_INVALID_ARG, "SGD: lr must be finite and >= 0, got -1"),
    F(train_step_compile, LC_ERR_INVALID_ARG, "train step: options must not be NULL"),
    F(train_step_run, LC_ERR_INVALID_ARG, "train step: step must not be NULL"),
    F(train_step_compile_module, LC_ERR_INVALID_ARG, "dtype must be f32, got f64"),
    F(train_step_run_module, LC_ERR_INVALID_ARG, "not a step made by lc_train_step_compile_module"),
    F(unfold, LC_ERR_INVALID_ARG, "unfold: size must be >= 1, got 0"),
    F(unfold_dilated, LC_ERR_INVALID_ARG, "unfold: dilation must be >= 1, got 0"),
    F(unfold_neg_inf_pad, LC_ERR_SHAPE, "unfold: window span dilation 9 * (size 3 - 1) + 1 = 19 exceeds the padded length 8"),
};
#undef F

/* Functions that can fail only when an allocation does: made to fail by
 * test_alloc_failures.c (allocation failure injection). */
static const char *const ALLOC_ONLY[] = {
    "lc_graph_new", "lc_sequential_new", "lc_graph_clone", "lc_module_repr",
    "lc_tensor_clone", "lc_relu_new",
};

static void test_every_failing_call(void **state) {
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < sizeof CALLS / sizeof CALLS[0]; i++) {
        const failing_call *c = &CALLS[i];
        int nodes = lc_graph_node_count(fx.g);
        og = (lc_graph *)0x1;
        om = (lc_module *)0x1;
        ot = (lc_tensor *)0x1;
        lc_clear_error();
        lc_status st = c->call();
        const char *msg = lc_last_error();
        if (st != c->status) {
            print_error("%s returned %s, want %s (message: %s)\n", c->name, lc_status_str(st),
                        lc_status_str(c->status), msg);
            bad++;
        } else if (msg[0] == '\0' || !strstr(msg, c->needle)) {
            print_error("%s: message \"%s\" lacks \"%s\"\n", c->name, msg, c->needle);
            bad++;
        }
        char *twice = test_repeated_context(msg);
        if (twice) {
            print_error("%s: message \"%s\" gives \"%s\" twice\n", c->name, msg, twice);
            free(twice);
            bad++;
        }
        /* Out-parameters of failed calls are NULL, not left dangling. */
        if (og != (lc_graph *)0x1 && og != NULL) {
            print_error("%s left a graph\n", c->name);
            bad++;
        }
        if (om != (lc_module *)0x1 && om != NULL) {
            print_error("%s left a module\n", c->name);
            bad++;
        }
        if (ot != (lc_tensor *)0x1 && ot != NULL) {
            print_error("%s left a tensor\n", c->name);
            bad++;
        }
        /* The inputs-only builders appended nothing to the fixture graph on failure (some
         * calls above append a helper input first). */
        if (lc_graph_node_count(fx.g) != nodes) {
            print_error("%s changed the fixture graph\n", c->name);
            bad++;
        }
        if (lc_graph_verify(fx.g) != LC_OK) {
            print_error("%s left the fixture graph invalid: %s\n", c->name, lc_last_error());
            bad++;
        }
    }
    if (bad) fail_msg("%d failing calls misbehaved", bad);
}

/* Every lc_status function of the public headers is in CALLS or ALLOC_ONLY. */
static bool covered(const char *name) {
    for (size_t i = 0; i < sizeof CALLS / sizeof CALLS[0]; i++)
        if (strcmp(CALLS[i].name, name) == 0) return true;
    for (size_t i = 0; i < sizeof ALLOC_ONLY / sizeof ALLOC_ONLY[0]; i++)
        if (strcmp(ALLOC_ONLY[i], name) == 0) return true;
    return false;
}

static void test_every_public_function_is_covered(void **state) {
    (void)state;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/include/lucid", LUCID_SOURCE_DIR);
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    int found = 0, missing = 0;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 3 || strcmp(e->d_name + len - 2, ".h") != 0) continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        char line[1024];
        while (fgets(line, sizeof line, f)) {
            /* Declarations read "LC_API lc_status lc_name(". */
            const char *decl = strncmp(line, "LC_API ", 7) == 0 ? line + 7 : line;
            if (strncmp(decl, "lc_status lc_", 13) != 0) continue;
            char name[128];
            size_t n = 0;
            for (const char *p = decl + 10; (*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')) && n + 1 < sizeof name; p++)
                name[n++] = *p;
            name[n] = '\0';
            found++;
            if (!covered(name)) {
                print_error("%s (%s) returns lc_status but is not in tests/test_error_api.c's "
                            "CALLS or ALLOC_ONLY\n", name, e->d_name);
                missing++;
            }
        }
        fclose(f);
    }
    closedir(d);
    assert_true(found >= 50);
    if (missing) fail_msg("%d public functions without an error test", missing);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_str),
        cmocka_unit_test(test_message_channel),
        cmocka_unit_test(test_prefix_once),
        cmocka_unit_test(test_every_failing_call),
        cmocka_unit_test(test_every_public_function_is_covered),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
