/* Modules with parameters (Linear, Conv1d) and the training pieces (ReLU, MSELoss): the
 * random stream and the default initialisation, parameter names and the graph inputs that
 * stand for them, forward values against float64 loops written here, gradients against
 * central differences (gradcheck), the JIT against the interpreter for forward and backward,
 * the autograd API filling parameters' .grad, and the error messages. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jit_harness.h"
#include "lucid/autograd.h"
#include "lucid/model_spec.h"
#include "lucid/random.h"
#include "support/gradcheck.h"

/* ---- the random stream ---- */

/* SplitMix64 as its paper writes it, kept apart from the library's copy. */
static uint64_t splitmix_next(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static void test_random_stream_is_splitmix64(void **state) {
    (void)state;
    lc_random_seed(0);
    /* the published first outputs of SplitMix64 from seed 0 */
    assert_true(lc_random_next_u64() == 0xE220A8397B1DCDAFu);
    assert_true(lc_random_next_u64() == 0x6E789E6AA1B965F4u);
    lc_random_seed(42);
    uint64_t s = 42;
    for (int i = 0; i < 1000; i++) assert_true(lc_random_next_u64() == splitmix_next(&s));
    lc_random_seed(42);
    s = 42;
    for (int i = 0; i < 1000; i++) {
        double u = lc_random_uniform01();
        assert_true(u >= 0 && u < 1);
        assert_true(u == (double)(splitmix_next(&s) >> 11) / 9007199254740992.0);
    }
}

/* A block fill gives the values single draws would, and leaves the stream where they would. */
static void test_random_fill_is_the_single_draws(void **state) {
    (void)state;
    double block[37], single[38];
    lc_random_seed(7);
    lc_random_fill_uniform(block, 37, -0.5, 2.0);
    double after_block = lc_random_uniform(-0.5, 2.0);
    lc_random_seed(7);
    for (int i = 0; i < 38; i++) single[i] = lc_random_uniform(-0.5, 2.0);
    for (int i = 0; i < 37; i++) assert_true(block[i] == single[i]);
    assert_true(after_block == single[37]);
    lc_random_seed(7);
    lc_random_fill_uniform(block, 0, 0, 1); /* nothing drawn */
    lc_random_fill_uniform(NULL, 5, 0, 1);
    assert_true(lc_random_uniform(-0.5, 2.0) == single[0]);
}

/* lc_random_state is the counter: seeding with it resumes the stream exactly there, past a
 * draw made in between (a Linear built and dropped). */
static void test_random_state_resumes(void **state) {
    (void)state;
    lc_random_seed(11);
    assert_true(lc_random_state() == 11);
    (void)lc_random_next_u64();
    uint64_t at = lc_random_state();
    assert_true(at == 11 + 0x9E3779B97F4A7C15u);
    uint64_t s = at;
    uint64_t want = splitmix_next(&s);
    lc_linear_params p = lc_linear_defaults(3, 2);
    lc_module *m;
    assert_ok(lc_linear_new(&p, &m)); /* draws 8 values */
    lc_module_free(m);
    assert_true(lc_random_state() != at);
    lc_random_seed(at);
    assert_true(lc_random_next_u64() == want);
}

/* ---- parameters ---- */

static lc_module *linear(int64_t in, int64_t out, bool bias) {
    lc_linear_params p = lc_linear_defaults(in, out);
    p.bias = bias;
    lc_module *m;
    assert_ok(lc_linear_new(&p, &m));
    return m;
}

static lc_module *conv(lc_conv1d_params p) {
    lc_module *m;
    assert_ok(lc_conv1d_new(&p, &m));
    return m;
}

static lc_module *relu(void) {
    lc_module *m;
    assert_ok(lc_relu_new(&m));
    return m;
}

static void test_default_init_is_lucids_uniform(void **state) {
    (void)state;
    lc_random_seed(7);
    lc_module *m = linear(4, 3, true);
    /* U(-1/sqrt(4), 1/sqrt(4)) drawn weight first, then bias, each rounded to float32 */
    uint64_t s = 7;
    assert_int_equal(lc_module_param_count(m), 2);
    for (int i = 0; i < 2; i++) {
        lc_tensor *t;
        char name[LC_PARAM_NAME_MAX];
        assert_ok(lc_module_param_at(m, i, name, sizeof name, &t));
        assert_string_equal(name, i ? "bias" : "weight");
        assert_int_equal(t->dtype, LC_F32);
        assert_true(t->requires_grad);
        assert_int_equal(t->shape.rank, i ? 1 : 2);
        assert_int_equal(lc_tensor_numel(t), i ? 3 : 12);
        for (int64_t k = 0; k < lc_tensor_numel(t); k++) {
            double u = (double)(splitmix_next(&s) >> 11) / 9007199254740992.0;
            assert_true(lc_tensor_get(t, k) == (double)(float)(-0.5 + u));
        }
    }
    lc_module_free(m);

    /* Conv1d's fan_in is in/groups * k: 6/3 * 2 = 4, so the bound is 0.5; the same seed gives
     * the same values, and values spread over the whole range */
    lc_conv1d_params cp = lc_conv1d_defaults(6, 3, 2);
    cp.groups = 3;
    lc_random_seed(7);
    lc_module *c = conv(cp);
    lc_random_seed(7);
    lc_module *c2 = conv(cp);
    lc_tensor *w, *w2;
    assert_ok(lc_module_param_find(c, "weight", &w));
    assert_ok(lc_module_param_find(c2, "weight", &w2));
    assert_int_equal(w->shape.dim[0], 3);
    assert_int_equal(w->shape.dim[1], 2);
    assert_int_equal(w->shape.dim[2], 2);
    assert_memory_equal(w->data, w2->data, lc_tensor_nbytes(w));
    lc_module_reset_parameters(c2); /* draws on from the stream: new values */
    assert_memory_not_equal(w->data, w2->data, lc_tensor_nbytes(w));
    lc_module_free(c);
    lc_module_free(c2);

    lc_random_seed(1);
    m = linear(100, 100, false);
    assert_int_equal(lc_module_param_count(m), 1);
    assert_ok(lc_module_param_find(m, "weight", &w));
    double lo = 1, hi = -1;
    for (int64_t k = 0; k < lc_tensor_numel(w); k++) {
        double v = lc_tensor_get(w, k);
        lo = fmin(lo, v);
        hi = fmax(hi, v);
    }
    assert_true(lo >= -0.1 && lo < -0.099 && hi < 0.1 && hi > 0.099);
    lc_module_free(m);
}

static lc_module *seq3(void) {
    lc_module *s;
    assert_ok(lc_sequential_new(&s));
    assert_ok(lc_sequential_append(s, linear(3, 4, true)));
    assert_ok(lc_sequential_append(s, relu()));
    assert_ok(lc_sequential_append(s, linear(4, 2, false)));
    return s;
}

static void test_sequential_names_and_graph_inputs(void **state) {
    (void)state;
    lc_module *s = seq3();
    static const char *const want[] = {"0.weight", "0.bias", "2.weight"};
    assert_int_equal(lc_module_param_count(s), 3);
    for (int i = 0; i < 3; i++) {
        char name[LC_PARAM_NAME_MAX];
        lc_tensor *t, *found;
        assert_ok(lc_module_param_at(s, i, name, sizeof name, &t));
        assert_string_equal(name, want[i]);
        assert_ok(lc_module_param_find(s, want[i], &found));
        assert_ptr_equal(t, found);
    }
    char tiny[4];
    assert_fails(lc_module_param_at(s, 0, tiny, sizeof tiny, NULL), LC_ERR_INVALID_ARG, "0.weight");
    assert_fails(lc_module_param_at(s, 3, NULL, 0, NULL), LC_ERR_INVALID_ARG, "between 0 and 2, got 3");
    lc_tensor *t;
    assert_fails(lc_module_param_find(s, "1.weight", &t), LC_ERR_INVALID_ARG,
                 "Sequential: no parameter named 1.weight (it has 0.weight, 0.bias, 2.weight)");

    /* graph inputs: x, then the parameters in order, named by their state_dict names */
    lc_graph *g;
    assert_ok(lc_module_graph(s, LC_F64, lc_shape_make(2, (int64_t[]){5, 3}), &g));
    assert_int_equal(lc_module_input_count(s), 1);
    assert_int_equal(lc_graph_input_count(g), 4);
    assert_string_equal(lc_graph_node(g, lc_graph_input(g, 0))->name, "x");
    for (int i = 0; i < 3; i++) {
        const lc_node *n = lc_graph_node(g, lc_graph_input(g, 1 + i));
        lc_tensor *p;
        assert_ok(lc_module_param_at(s, i, NULL, 0, &p));
        assert_string_equal(n->name, want[i]);
        assert_int_equal(n->dtype, LC_F64);
        assert_true(lc_shape_equal(&n->shape, &p->shape));
    }
    const lc_node *y = lc_graph_node(g, lc_graph_output(g, 0));
    assert_int_equal(y->shape.rank, 2);
    assert_int_equal(y->shape.dim[0], 5);
    assert_int_equal(y->shape.dim[1], 2);
    lc_graph_free(g);

    /* set_param copies and converts; a wrong shape changes nothing */
    lc_tensor *v;
    assert_ok(lc_tensor_from_doubles(LC_F64, lc_shape_make(1, (int64_t[]){4}), (double[]){1, 2, 3, 0.1}, &v));
    assert_ok(lc_module_set_param(s, "0.bias", v));
    assert_ok(lc_module_param_find(s, "0.bias", &t));
    assert_true(lc_tensor_get(t, 3) == (double)0.1f);
    lc_tensor *bad;
    assert_ok(lc_tensor_new(LC_F32, lc_shape_make(2, (int64_t[]){4, 2}), &bad));
    assert_fails(lc_module_set_param(s, "2.weight", bad), LC_ERR_SHAPE, "2.weight must have shape [2,4], got [4,2]");
    lc_tensor_free(bad);
    lc_tensor_free(v);
    lc_module_free(s);
}

/* ---- forward values against float64 loops ---- */

/* y = x W^T + b over the last axis, x of `rows` rows of `in` values. */
static void linear_reference(const lc_tensor *x, const lc_tensor *w, const lc_tensor *b, int64_t rows,
                             int64_t in, int64_t out, double *y) {
    for (int64_t r = 0; r < rows; r++)
        for (int64_t o = 0; o < out; o++) {
            double acc = b ? lc_tensor_get(b, o) : 0.0;
            for (int64_t i = 0; i < in; i++) acc += lc_tensor_get(x, r * in + i) * lc_tensor_get(w, o * in + i);
            y[r * out + o] = acc;
        }
}

/* The module's graph on x and its own parameters, by the interpreter and the JIT. */
static void run_both(const lc_module *m, lc_tensor *const *data, int n_data, lc_tensor **interp, lc_tensor **jit) {
    lc_graph *g;
    assert_ok(lc_module_graph(m, data[0]->dtype, data[0]->shape, &g));
    int n = lc_graph_input_count(g);
    lc_tensor **in = calloc((size_t)n, sizeof *in);
    for (int i = 0; i < n; i++) {
        if (i < n_data) {
            assert_ok(lc_tensor_clone(data[i], &in[i]));
            continue;
        }
        lc_tensor *p;
        assert_ok(lc_module_param_at((lc_module *)m, i - n_data, NULL, 0, &p));
        assert_ok(lc_tensor_new(data[0]->dtype, p->shape, &in[i]));
        for (int64_t k = 0; k < lc_tensor_numel(p); k++) lc_tensor_set(in[i], k, lc_tensor_get(p, k));
    }
    assert_ok(lc_interp_run(g, (const lc_tensor *const *)in, n, interp, 1));
    lc_compile_options o = lc_compile_options_default();
    lc_program *prog;
    assert_ok(lc_compile(g, &o, &prog));
    assert_ok(lc_program_run(prog, (const lc_tensor *const *)in, n, jit, 1));
    lc_program_free(prog);
    jit_free_tensors(in, n);
    lc_graph_free(g);
}

static void test_linear_forward_any_rank(void **state) {
    (void)state;
    test_rng r = test_rng_seeded(11);
    const lc_shape shapes[] = {lc_shape_make(1, (int64_t[]){5}), lc_shape_make(2, (int64_t[]){3, 5}),
                               lc_shape_make(4, (int64_t[]){2, 1, 3, 5}), lc_shape_make(2, (int64_t[]){0, 5})};
    for (int bias = 0; bias < 2; bias++)
        for (size_t c = 0; c < sizeof shapes / sizeof shapes[0]; c++) {
            lc_module *m = linear(5, 7, bias);
            lc_tensor *x = test_random_tensor(&r, LC_F64, shapes[c], 2.0), *yi, *yj, *w, *b = NULL;
            assert_ok(lc_module_param_find(m, "weight", &w));
            if (bias) assert_ok(lc_module_param_find(m, "bias", &b));
            run_both(m, &x, 1, &yi, &yj);
            int64_t rows = lc_tensor_numel(x) / 5;
            double *want = calloc((size_t)(rows * 7 + 1), sizeof *want);
            linear_reference(x, w, b, rows, 5, 7, want);
            assert_int_equal(yi->shape.rank, shapes[c].rank);
            assert_int_equal(yi->shape.dim[shapes[c].rank - 1], 7);
            assert_values_close(yi, want, rows * 7, 1e-14, 1e-14);
            assert_values_close(yj, want, rows * 7, 1e-12, 1e-12);
            free(want);
            lc_tensor_free(x);
            lc_tensor_free(yi);
            lc_tensor_free(yj);
            lc_module_free(m);
        }
}

/* y[n, co, o] = b[co] + Σ_{ci in group} Σ_j w[co, ci, j] · xpad[n, ci, o·s + j·d - pad_lo]. */
static void conv_reference(const lc_conv1d_params *p, const lc_tensor *x, const lc_tensor *w, const lc_tensor *b,
                           int64_t pad_lo, int64_t out_len, double *y) {
    int64_t n_batch = x->shape.rank == 3 ? x->shape.dim[0] : 1, len = x->shape.dim[x->shape.rank - 1];
    int64_t cpg = p->in_channels / p->groups, opg = p->out_channels / p->groups;
    for (int64_t n = 0; n < n_batch; n++)
        for (int64_t co = 0; co < p->out_channels; co++)
            for (int64_t o = 0; o < out_len; o++) {
                double acc = b ? lc_tensor_get(b, co) : 0.0;
                int64_t g = co / opg;
                for (int64_t c = 0; c < cpg; c++)
                    for (int64_t j = 0; j < p->kernel_size; j++) {
                        int64_t pos = o * p->stride + j * p->dilation - pad_lo;
                        if (pos < 0 || pos >= len) continue;
                        int64_t ci = g * cpg + c;
                        acc += lc_tensor_get(w, (co * cpg + c) * p->kernel_size + j) *
                               lc_tensor_get(x, (n * p->in_channels + ci) * len + pos);
                    }
                y[(n * p->out_channels + co) * out_len + o] = acc;
            }
}

typedef struct conv_case {
    int64_t cin, cout, k, stride;
    lc_conv_padding_mode mode;
    int64_t padding, dilation, groups;
    bool bias;
    int64_t n, len; /* n = 0: a (C, L) input */
} conv_case;

static const conv_case CONV_CASES[] = {
    {1, 1, 3, 1, LC_PADDING_EXPLICIT, 1, 1, 1, true, 1, 4},   /* the seed model's layer */
    {3, 4, 3, 1, LC_PADDING_EXPLICIT, 0, 1, 1, true, 2, 9},
    {3, 4, 3, 2, LC_PADDING_EXPLICIT, 2, 1, 1, true, 2, 10},
    {2, 3, 4, 1, LC_PADDING_SAME, 0, 1, 1, true, 1, 7},       /* even kernel: the odd zero on the right */
    {2, 3, 3, 1, LC_PADDING_SAME, 0, 3, 1, false, 2, 8},
    {2, 2, 2, 3, LC_PADDING_VALID, 0, 1, 1, true, 1, 11},
    {4, 6, 3, 1, LC_PADDING_EXPLICIT, 1, 2, 2, true, 2, 12},  /* groups and dilation */
    {6, 3, 1, 1, LC_PADDING_EXPLICIT, 0, 1, 3, false, 1, 5},
    {4, 4, 5, 2, LC_PADDING_EXPLICIT, 3, 2, 4, true, 0, 13},  /* depthwise, (C, L) input */
};

static lc_conv1d_params conv_params(const conv_case *c) {
    lc_conv1d_params p = lc_conv1d_defaults(c->cin, c->cout, c->k);
    p.stride = c->stride;
    p.padding_mode = c->mode;
    p.padding = c->padding;
    p.dilation = c->dilation;
    p.groups = c->groups;
    p.bias = c->bias;
    return p;
}

static lc_shape conv_input_shape(const conv_case *c) {
    return c->n ? test_shape3(c->n, c->cin, c->len) : lc_shape_make(2, (int64_t[]){c->cin, c->len});
}

static void test_conv1d_forward_matches_loops(void **state) {
    (void)state;
    test_rng r = test_rng_seeded(5);
    for (size_t i = 0; i < sizeof CONV_CASES / sizeof CONV_CASES[0]; i++) {
        const conv_case *c = &CONV_CASES[i];
        lc_conv1d_params p = conv_params(c);
        lc_module *m = conv(p);
        lc_tensor *x = test_random_tensor(&r, LC_F64, conv_input_shape(c), 2.0), *yi, *yj, *w, *b = NULL;
        assert_ok(lc_module_param_find(m, "weight", &w));
        if (c->bias) assert_ok(lc_module_param_find(m, "bias", &b));
        run_both(m, &x, 1, &yi, &yj);
        int64_t span = c->dilation * (c->k - 1) + 1, lo = c->padding, hi = c->padding;
        if (c->mode == LC_PADDING_SAME) { lo = (span - 1) / 2; hi = span - 1 - lo; }
        if (c->mode == LC_PADDING_VALID) lo = hi = 0;
        int64_t out_len = (c->len + lo + hi - span) / c->stride + 1;
        if (c->mode == LC_PADDING_SAME) assert_int_equal(out_len, c->len);
        assert_int_equal(yi->shape.rank, c->n ? 3 : 2);
        assert_int_equal(yi->shape.dim[yi->shape.rank - 2], c->cout);
        assert_int_equal(yi->shape.dim[yi->shape.rank - 1], out_len);
        int64_t total = lc_tensor_numel(yi);
        double *want = calloc((size_t)total + 1, sizeof *want);
        conv_reference(&p, x, w, b, lo, out_len, want);
        assert_values_close(yi, want, total, 1e-14, 1e-14);
        assert_values_close(yj, want, total, 1e-12, 1e-12);
        free(want);
        lc_tensor_free(x);
        lc_tensor_free(yi);
        lc_tensor_free(yj);
        lc_module_free(m);
    }
}

static void test_relu_and_mseloss_values(void **state) {
    (void)state;
    lc_module *m = relu();
    lc_tensor *x, *yi, *yj;
    double xs[] = {-2, -0.0, 0, 0.5, NAN, INFINITY, -INFINITY, 3};
    assert_ok(lc_tensor_from_doubles(LC_F32, lc_shape_make(1, (int64_t[]){8}), xs, &x));
    run_both(m, &x, 1, &yi, &yj);
    double want[] = {0, 0, 0, 0.5, NAN, INFINITY, 0, 3};
    assert_values_close(yi, want, 8, 0, 0);
    assert_values_close(yj, want, 8, 0, 0);
    lc_tensor_free(yi);
    lc_tensor_free(yj);
    /* the gradient is a select (PyTorch's threshold): g where x > 0 or x is NaN, +0 where
     * x <= 0 even where g is inf or NaN (a product mask · g would make those NaN) */
    lc_graph *g, *ad;
    assert_ok(lc_module_graph(m, LC_F32, x->shape, &g));
    assert_ok(lc_autodiff(g, NULL, 0, NULL, 0, &ad));
    lc_tensor *ins[2] = {x, NULL}, *outs[2];
    double gs[] = {INFINITY, NAN, -INFINITY, 2, 7, NAN, INFINITY, -1};
    double gx_want[] = {0, 0, 0, 2, 7, NAN, 0, -1};
    assert_ok(lc_tensor_from_doubles(LC_F32, x->shape, gs, &ins[1]));
    for (int engine = 0; engine < 2; engine++) {
        lc_program *p = NULL;
        if (engine) {
            assert_ok(lc_compile(ad, NULL, &p));
            assert_ok(lc_program_run(p, (const lc_tensor *const *)ins, 2, outs, 2));
        } else {
            assert_ok(lc_interp_run(ad, (const lc_tensor *const *)ins, 2, outs, 2));
        }
        assert_values_close(outs[1], gx_want, 8, 0, 0);
        for (int i = 0; i < 8; i++)
            if (gx_want[i] == 0) assert_false(signbit(lc_tensor_get(outs[1], i)));
        lc_tensor_free(outs[0]);
        lc_tensor_free(outs[1]);
        lc_program_free(p);
    }
    lc_tensor_free(ins[1]);
    lc_graph_free(ad);
    lc_graph_free(g);
    lc_tensor_free(x);
    lc_module_free(m);

    for (int red = 0; red < 2; red++) {
        lc_mseloss_params p = {red ? LC_REDUCTION_SUM : LC_REDUCTION_MEAN};
        assert_ok(lc_mseloss_new(&p, &m));
        assert_int_equal(lc_module_input_count(m), 2);
        lc_tensor *in[2];
        assert_ok(lc_tensor_from_doubles(LC_F64, lc_shape_make(2, (int64_t[]){2, 2}), (double[]){1, 2, 3, 4}, &in[0]));
        assert_ok(lc_tensor_from_doubles(LC_F64, lc_shape_make(2, (int64_t[]){2, 2}), (double[]){0, 2, 5, 1}, &in[1]));
        run_both(m, in, 2, &yi, &yj);
        assert_int_equal(yi->shape.rank, 0);
        double v = red ? 14.0 : 3.5; /* 1 + 0 + 4 + 9 */
        assert_values_close(yi, &v, 1, 0, 0);
        assert_values_close(yj, &v, 1, 1e-15, 0);
        lc_tensor_free(yi);
        lc_tensor_free(yj);
        lc_tensor_free(in[0]);
        lc_tensor_free(in[1]);
        lc_module_free(m);
    }
}

/* ---- gradients ---- */

static void gradcheck_module_graph(const lc_module *m, lc_shape in, uint64_t seed, const char *what) {
    lc_graph *g;
    assert_ok(lc_module_graph(m, LC_F64, in, &g));
    test_rng r = test_rng_seeded(seed);
    lc_tensor **t = jit_random_inputs(g, &r, 2.0);
    gradcheck_options o = gradcheck_defaults();
    gradcheck_report rep;
    assert_gradcheck(gradcheck_graph(g, (const lc_tensor *const *)t, &o, &rep), rep, what);
    assert_true(rep.checked > 0);
    jit_free_tensors(t, lc_graph_input_count(g));
    lc_graph_free(g);
}

static void test_gradients_match_finite_differences(void **state) {
    (void)state;
    lc_module *m = linear(4, 3, true);
    gradcheck_module_graph(m, lc_shape_make(3, (int64_t[]){2, 3, 4}), 1, "Linear rank 3");
    gradcheck_module_graph(m, lc_shape_make(1, (int64_t[]){4}), 2, "Linear rank 1");
    lc_module_free(m);
    m = relu();
    gradcheck_module_graph(m, test_shape3(2, 3, 5), 3, "ReLU");
    lc_module_free(m);
    for (int red = 0; red < 2; red++) {
        lc_mseloss_params p = {red ? LC_REDUCTION_SUM : LC_REDUCTION_MEAN};
        assert_ok(lc_mseloss_new(&p, &m));
        gradcheck_module_graph(m, test_shape3(2, 3, 5), 4, red ? "MSELoss sum" : "MSELoss mean");
        lc_module_free(m);
    }
    for (size_t i = 0; i < sizeof CONV_CASES / sizeof CONV_CASES[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "Conv1d case %zu", i);
        m = conv(conv_params(&CONV_CASES[i]));
        gradcheck_module_graph(m, conv_input_shape(&CONV_CASES[i]), 10 + i, what);
        lc_module_free(m);
    }
    m = seq3();
    gradcheck_module_graph(m, lc_shape_make(2, (int64_t[]){4, 3}), 30, "Linear-ReLU-Linear");
    lc_module_free(m);
}

/* Forward and forward+backward (every parameter's gradient) on the JIT against the
 * interpreter, with 1-3 threads bit-identical. */
static void test_jit_matches_interpreter(void **state) {
    (void)state;
    for (int d = 0; d < 2; d++) {
        lc_dtype dt = d ? LC_F64 : LC_F32;
        lc_module *m = linear(5, 3, true);
        jit_check_module(m, dt, lc_shape_make(3, (int64_t[]){2, 4, 5}), 1, NULL, NULL);
        lc_module_free(m);
        m = relu();
        jit_check_module(m, dt, test_shape3(2, 3, 17), 2, NULL, NULL);
        lc_module_free(m);
        lc_mseloss_params p = lc_mseloss_defaults();
        assert_ok(lc_mseloss_new(&p, &m));
        jit_check_module(m, dt, test_shape3(2, 3, 17), 3, NULL, NULL);
        lc_module_free(m);
        for (size_t i = 0; i < sizeof CONV_CASES / sizeof CONV_CASES[0]; i++) {
            m = conv(conv_params(&CONV_CASES[i]));
            jit_check_module(m, dt, conv_input_shape(&CONV_CASES[i]), 10 + i, NULL, NULL);
            lc_module_free(m);
        }
        m = seq3();
        jit_check_module(m, dt, lc_shape_make(2, (int64_t[]){6, 3}), 40, NULL, NULL);
        lc_module_free(m);
    }
}

/* Rows long enough for the contraction kernels' long forms: the weight gradient's sum over
 * (n, l) as vector partial sums (at least 3 trips of 16 float32 / 8 float64 terms, so its
 * first and last trip, which read the padding, run apart from the unchecked ones between), the
 * input gradient's tap gather with an interior where its windows need no check. Output channel
 * counts 1, 3, 5 and 17, groups, dilation, stride, and padding wider than one trip of terms
 * (20: the trips next to the ends read padding too). Forward and forward+backward against the
 * interpreter, bit-identical for 1-3 threads. */
static const conv_case LONG_CONV_CASES[] = {
    {3, 5, 3, 1, LC_PADDING_EXPLICIT, 1, 1, 1, true, 2, 52},
    {2, 17, 3, 1, LC_PADDING_EXPLICIT, 1, 1, 1, true, 1, 50},
    {4, 1, 3, 1, LC_PADDING_EXPLICIT, 1, 1, 1, false, 1, 64},
    {3, 3, 5, 1, LC_PADDING_EXPLICIT, 2, 2, 1, true, 2, 60},   /* dilation */
    {4, 6, 3, 1, LC_PADDING_SAME, 0, 1, 2, true, 2, 48},       /* groups */
    {2, 3, 5, 1, LC_PADDING_EXPLICIT, 20, 1, 1, true, 1, 70},  /* padding beyond a trip */
    {3, 4, 4, 2, LC_PADDING_EXPLICIT, 3, 1, 1, true, 2, 100},  /* stride: the gather's windows step */
};

static void test_jit_long_rows_match_interpreter(void **state) {
    (void)state;
    for (int d = 0; d < 2; d++)
        for (size_t i = 0; i < sizeof LONG_CONV_CASES / sizeof LONG_CONV_CASES[0]; i++) {
            lc_module *m = conv(conv_params(&LONG_CONV_CASES[i]));
            jit_check_module(m, d ? LC_F64 : LC_F32, conv_input_shape(&LONG_CONV_CASES[i]), 60 + i, NULL, NULL);
            lc_module_free(m);
        }
}

/* The conv forward is one loop nest that never materialises the unfolded input (unfold is
 * index arithmetic), also followed by a pool; its backward writes y, dx, dW and db, one
 * kernel each, with no scratch buffer between them. */
static void test_conv_fuses_into_one_forward_kernel(void **state) {
    (void)state;
    lc_conv1d_params p = lc_conv1d_defaults(16, 32, 3);
    p.padding = 1;
    lc_module *c = conv(p);
    int fwd = 0, fwdbwd = 0;
    jit_check_module(c, LC_F32, test_shape3(2, 16, 40), 1, &fwd, &fwdbwd);
    assert_int_equal(fwd, 1);
    assert_int_equal(fwdbwd, 4);
    lc_module *s;
    assert_ok(lc_sequential_new(&s));
    assert_ok(lc_sequential_append(s, c));
    assert_ok(lc_sequential_append(s, test_avgpool(2, LC_STRIDE_UNSET, 0, false, true)));
    jit_check_module(s, LC_F32, test_shape3(2, 16, 40), 2, &fwd, &fwdbwd);
    assert_int_equal(fwd, 1);
    lc_module_free(s);
    p.dilation = 2;
    p.groups = 4;
    c = conv(p);
    jit_check_module(c, LC_F32, test_shape3(2, 16, 40), 3, &fwd, NULL);
    assert_int_equal(fwd, 1);
    lc_module_free(c);
}

/* A dilated Conv1d is built as an undilated one, its window unfold carrying the dilation (no
 * unfold of the whole span and sum to pick every d-th slot): the same node count and ops, one
 * unfold with dilation d. */
static void test_conv_dilation_is_the_unfolds(void **state) {
    (void)state;
    int nodes[2] = {0, 0}, dilated_unfolds[2] = {0, 0};
    for (int d = 1; d <= 2; d++) {
        lc_conv1d_params p = lc_conv1d_defaults(4, 6, 3);
        p.padding = 2;
        p.dilation = d;
        lc_module *c = conv(p);
        lc_graph *g;
        assert_ok(lc_module_graph(c, LC_F32, test_shape3(2, 4, 11), &g));
        nodes[d - 1] = lc_graph_node_count(g);
        for (int i = 0; i < nodes[d - 1]; i++) {
            const lc_node *n = lc_graph_node(g, i);
            if (n->op == LC_OP_UNFOLD && n->attr[LC_UNFOLD_DILATION] == d && n->attr[LC_UNFOLD_SIZE] == 3)
                dilated_unfolds[d - 1]++;
        }
        lc_graph_free(g);
        lc_module_free(c);
    }
    assert_int_equal(nodes[1], nodes[0]);
    assert_int_equal(dilated_unfolds[0], 1);
    assert_int_equal(dilated_unfolds[1], 1);
}

/* ---- autograd: parameters' .grad ---- */

static void test_autograd_fills_parameter_grads(void **state) {
    (void)state;
    lc_random_seed(3);
    lc_module *model = seq3(), *loss;
    lc_mseloss_params lp = lc_mseloss_defaults();
    assert_ok(lc_mseloss_new(&lp, &loss));
    test_rng r = test_rng_seeded(9);
    lc_tensor *x = test_random_tensor(&r, LC_F64, lc_shape_make(2, (int64_t[]){4, 3}), 1.0);
    lc_tensor *target = test_random_tensor(&r, LC_F64, lc_shape_make(2, (int64_t[]){4, 2}), 1.0);

    /* the reference: autodiff of model -> loss as one graph, run by the interpreter */
    lc_graph *g;
    assert_ok(lc_graph_new(&g));
    int xi, ti, yi, li;
    assert_ok(lc_input(g, "x", LC_F64, x->shape, &xi));
    assert_ok(lc_module_forward(model, g, xi, &yi));
    assert_ok(lc_input(g, "target", LC_F64, target->shape, &ti));
    assert_ok(lc_module_forward_inputs(loss, g, (int[]){yi, ti}, 2, &li));
    assert_ok(lc_graph_add_output(g, li));
    lc_graph *gb;
    assert_ok(lc_autodiff(g, NULL, 0, NULL, 0, &gb)); /* inputs x, 0.weight, 0.bias, 2.weight, target, seed */
    assert_int_equal(lc_graph_input_count(gb), 6);
    lc_tensor *in[6] = {x, NULL, NULL, NULL, target, NULL};
    for (int i = 0; i < 3; i++) {
        lc_tensor *p;
        assert_ok(lc_module_param_at(model, i, NULL, 0, &p));
        assert_ok(lc_tensor_new(LC_F64, p->shape, &in[1 + i]));
        for (int64_t k = 0; k < lc_tensor_numel(p); k++) lc_tensor_set(in[1 + i], k, lc_tensor_get(p, k));
    }
    assert_ok(lc_tensor_new(LC_F64, lc_shape_make(0, NULL), &in[5]));
    lc_tensor_set(in[5], 0, 1.0);
    lc_tensor *want[6];
    assert_ok(lc_interp_run(gb, (const lc_tensor *const *)in, 6, want, 6)); /* loss, dx, d params, d target */

    /* through the tensor API, twice: .grad accumulates */
    for (int round = 1; round <= 2; round++) {
        lc_tensor *y, *l;
        assert_ok(lc_module_call(model, x, &y));
        assert_true(lc_tensor_tracks_grad(y)); /* from the parameters alone: x does not */
        assert_ok(lc_module_call_inputs(loss, (lc_tensor *[]){y, target}, 2, &l));
        assert_values_close(l, (double[]){lc_tensor_get(want[0], 0)}, 1, 1e-15, 0);
        assert_ok(lc_backward(l, NULL));
        for (int i = 0; i < 3; i++) {
            lc_tensor *p;
            assert_ok(lc_module_param_at(model, i, NULL, 0, &p));
            assert_non_null(p->grad);
            assert_int_equal(p->grad->dtype, LC_F32);
            for (int64_t k = 0; k < lc_tensor_numel(p); k++)
                assert_true(fabs(lc_tensor_get(p->grad, k) - round * lc_tensor_get(want[2 + i], k)) <=
                            1e-6 * (1 + fabs(round * lc_tensor_get(want[2 + i], k))));
        }
        assert_null(x->grad);
        lc_tensor_free(l);
        lc_tensor_free(y);
    }
    /* a frozen parameter gets nothing; the target can ask for its gradient */
    lc_tensor *w0;
    assert_ok(lc_module_param_find(model, "0.weight", &w0));
    assert_ok(lc_tensor_set_requires_grad(w0, false));
    lc_tensor_zero_grad(w0);
    assert_ok(lc_tensor_set_requires_grad(target, true));
    lc_tensor *y, *l;
    assert_ok(lc_module_call(model, x, &y));
    assert_ok(lc_module_call_inputs(loss, (lc_tensor *[]){y, target}, 2, &l));
    lc_module_free(model); /* the records outlive the module */
    assert_ok(lc_backward(l, NULL));
    assert_non_null(target->grad);
    for (int64_t k = 0; k < lc_tensor_numel(target); k++)
        assert_true(fabs(lc_tensor_get(target->grad, k) - lc_tensor_get(want[5], k)) <= 1e-12);
    lc_tensor_free(l);
    lc_tensor_free(y);

    for (int i = 0; i < 6; i++) lc_tensor_free(want[i]);
    for (int i = 1; i < 4; i++) lc_tensor_free(in[i]);
    lc_tensor_free(in[5]);
    lc_tensor_free(x);
    lc_tensor_free(target);
    lc_graph_free(g);
    lc_graph_free(gb);
    lc_module_free(loss);
}

/* ---- errors ---- */

static void test_errors_name_module_parameter_and_value(void **state) {
    (void)state;
    lc_module *m = NULL;
    lc_linear_params lp = lc_linear_defaults(0, 2);
    assert_fails(lc_linear_new(&lp, &m), LC_ERR_INVALID_ARG, "Linear: in_features must be >= 1, got 0");
    lp = lc_linear_defaults(2, -1);
    assert_fails(lc_linear_new(&lp, &m), LC_ERR_INVALID_ARG, "Linear: out_features must be >= 1, got -1");
    lc_conv1d_params cp = lc_conv1d_defaults(4, 6, 3);
    cp.groups = 3;
    assert_fails(lc_conv1d_new(&cp, &m), LC_ERR_INVALID_ARG, "Conv1d: groups must divide in_channels, got 3 and 4");
    cp = lc_conv1d_defaults(4, 6, 3);
    cp.groups = 4;
    assert_fails(lc_conv1d_new(&cp, &m), LC_ERR_INVALID_ARG, "Conv1d: groups must divide out_channels, got 4 and 6");
    cp = lc_conv1d_defaults(4, 6, 3);
    cp.padding_mode = LC_PADDING_SAME;
    cp.stride = 2;
    assert_fails(lc_conv1d_new(&cp, &m), LC_ERR_INVALID_ARG, "Conv1d: padding='same' needs stride 1, got stride 2");
    cp = lc_conv1d_defaults(4, 6, 3);
    cp.dilation = 0;
    assert_fails(lc_conv1d_new(&cp, &m), LC_ERR_INVALID_ARG, "Conv1d: dilation must be >= 1, got 0");
    cp = lc_conv1d_defaults(4, 6, 3);
    cp.padding = -1;
    assert_fails(lc_conv1d_new(&cp, &m), LC_ERR_INVALID_ARG, "Conv1d: padding must be >= 0, got -1");
    assert_null(m);

    lc_graph *g;
    m = linear(4, 2, true);
    assert_fails(lc_module_graph(m, LC_F32, test_shape3(1, 2, 3), &g), LC_ERR_SHAPE,
                 "Linear: the input's last axis must have in_features = 4 elements, got 3");
    lc_module_free(m);
    m = conv(lc_conv1d_defaults(4, 2, 3));
    assert_fails(lc_module_graph(m, LC_F32, test_shape3(1, 3, 8), &g), LC_ERR_SHAPE,
                 "Conv1d: the input's channel axis must have in_channels = 4, got 3");
    assert_fails(lc_module_graph(m, LC_F32, test_shape3(1, 4, 2), &g), LC_ERR_SHAPE,
                 "Conv1d: the padded input length 2 + 0 + 0 is shorter than the kernel's span 3");
    assert_fails(lc_module_graph(m, LC_F32, lc_shape_make(1, (int64_t[]){4}), &g), LC_ERR_SHAPE,
                 "Conv1d: input must be (N, C, L) or (C, L), got rank 1");
    lc_module_free(m);

    /* MSELoss: two inputs of one shape */
    lc_mseloss_params mp = lc_mseloss_defaults();
    assert_ok(lc_mseloss_new(&mp, &m));
    assert_ok(lc_graph_new(&g));
    int a, b, y;
    assert_ok(lc_input(g, "input", LC_F32, test_shape3(1, 2, 3), &a));
    assert_ok(lc_input(g, "target", LC_F32, test_shape3(1, 2, 4), &b));
    assert_fails(lc_module_forward(m, g, a, &y), LC_ERR_INVALID_ARG, "MSELoss: forward takes 2 inputs, got 1");
    assert_fails(lc_module_forward_inputs(m, g, (int[]){a, b}, 2, &y), LC_ERR_SHAPE,
                 "MSELoss: target shape [1,2,4] must equal the input shape [1,2,3]");
    lc_graph_free(g);
    lc_tensor *t1, *t2, *out;
    assert_ok(lc_tensor_new(LC_F32, test_shape3(1, 2, 3), &t1));
    assert_ok(lc_tensor_new(LC_F32, test_shape3(1, 2, 4), &t2));
    assert_fails(lc_module_call_inputs(m, (lc_tensor *[]){t1, t2}, 2, &out), LC_ERR_SHAPE,
                 "target must have the input's shape and dtype f32[1,2,3], got f32[1,2,4]");
    assert_fails(lc_module_call(m, t1, &out), LC_ERR_INVALID_ARG, "the module takes 2 inputs, got 1");
    lc_tensor_free(t1);
    lc_tensor_free(t2);

    /* only the first child of a Sequential may take two inputs */
    lc_module *s;
    assert_ok(lc_sequential_new(&s));
    assert_ok(lc_sequential_append(s, relu()));
    assert_ok(lc_sequential_append(s, m));
    assert_fails(lc_module_graph(s, LC_F32, test_shape3(1, 2, 3), &g), LC_ERR_INVALID_ARG,
                 "Sequential: child 1 (MSELoss) takes 2 inputs");
    lc_module_free(s);
}

/* ---- model specs ---- */

static char *spec_repr(const char *spec) {
    lc_module *m;
    assert_ok(lc_model_parse_call(spec, "--module 1", &m));
    char *s;
    assert_ok(lc_module_repr(m, &s));
    lc_module_free(m);
    return s;
}

static void test_model_spec_builds_the_new_modules(void **state) {
    (void)state;
    static const char *const cases[][2] = {
        {"Linear(4, 2)", "Linear(in_features=4, out_features=2, bias=True)"},
        {"nn.Linear(in_features=4, out_features=2, bias=False,)", "Linear(in_features=4, out_features=2, bias=False)"},
        {"ReLU()", "ReLU()"},
        {"MSELoss(reduction=\"sum\")", "MSELoss(reduction='sum')"},
        {"MSELoss()", "MSELoss(reduction='mean')"},
        {"Conv1d(1, 1, 3, stride=1, padding=1)",
         "Conv1d(in_channels=1, out_channels=1, kernel_size=3, stride=1, padding=1, dilation=1, groups=1, bias=True)"},
        {"Conv1d(4, 2, 3, 1, 'same', 2, 2, False)",
         "Conv1d(in_channels=4, out_channels=2, kernel_size=3, stride=1, padding='same', dilation=2, groups=2, bias=False)"},
        {"Conv1d(4, 2, 3, padding=\"valid\")",
         "Conv1d(in_channels=4, out_channels=2, kernel_size=3, stride=1, padding='valid', dilation=1, groups=1, bias=True)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *s = spec_repr(cases[i][0]);
        if (strcmp(s, cases[i][1]) != 0) fail_msg("%s gave %s, want %s", cases[i][0], s, cases[i][1]);
        free(s);
    }
    /* a model file: the seed model, parameters named by position */
    lc_module *m;
    assert_ok(lc_model_parse("Conv1d(1, 1, 3, stride=1, padding=1)\nAvgPool1d(2, 2)\nLinear(2, 1)\n", "model.txt", &m));
    assert_int_equal(lc_module_param_count(m), 4);
    char name[LC_PARAM_NAME_MAX];
    assert_ok(lc_module_param_at(m, 3, name, sizeof name, NULL));
    assert_string_equal(name, "2.bias");
    lc_shape out;
    assert_ok(lc_module_output_shape(m, test_shape3(1, 1, 4), &out));
    assert_int_equal(out.rank, 3);
    assert_int_equal(out.dim[2], 1);
    lc_module_free(m);

    static const char *const bad[][2] = {
        {"Conv1d(4, 2, 3, padding='full')", "--module 1: Conv1d: padding must be an integer, 'same' or 'valid', got 'full'"},
        {"Conv1d(4, 2, 3, stride=2, padding='same')", "--module 1: Conv1d: padding='same' needs stride 1, got stride 2"},
        {"Conv1d(4, 2, 3, groups=3)", "--module 1: Conv1d: groups must divide in_channels, got 3 and 4"},
        {"Conv1d(4, 2, 'same')", "--module 1: col 14: Conv1d: kernel_size takes no string, got 'same'"},
        {"MSELoss(reduction='none')", "--module 1: MSELoss: reduction must be 'mean' or 'sum', got 'none'"},
        {"MSELoss(reduction=1)", "--module 1: col 19: MSELoss: reduction must be a string, got 1"},
        {"Conv1d(4, 2, 3, padding=1.5)", "--module 1: col 25: Conv1d: padding must be an integer or a string, got 1.5"},
        {"Linear(4, 2.0)", "--module 1: col 11: Linear: out_features must be an integer, got 2.0"},
        {"Linear(4, 'same)", "--module 1: col 11: string 'same) is never closed"},
        {"Linear(4, 'a\\b')", "--module 1: col 13: strings take no escapes"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lc_module *none = NULL;
        lc_status st = lc_model_parse_call(bad[i][0], "--module 1", &none);
        assert_int_not_equal(st, LC_OK);
        assert_null(none);
        if (!strstr(lc_last_error(), bad[i][1])) fail_msg("%s: got \"%s\", want \"%s\"", bad[i][0], lc_last_error(), bad[i][1]);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_stream_is_splitmix64),
        cmocka_unit_test(test_random_fill_is_the_single_draws),
        cmocka_unit_test(test_random_state_resumes),
        cmocka_unit_test(test_default_init_is_lucids_uniform),
        cmocka_unit_test(test_sequential_names_and_graph_inputs),
        cmocka_unit_test(test_linear_forward_any_rank),
        cmocka_unit_test(test_conv1d_forward_matches_loops),
        cmocka_unit_test(test_relu_and_mseloss_values),
        cmocka_unit_test(test_gradients_match_finite_differences),
        cmocka_unit_test(test_jit_matches_interpreter),
        cmocka_unit_test(test_jit_long_rows_match_interpreter),
        cmocka_unit_test(test_conv_fuses_into_one_forward_kernel),
        cmocka_unit_test(test_conv_dilation_is_the_unfolds),
        cmocka_unit_test(test_autograd_fills_parameter_grads),
        cmocka_unit_test(test_errors_name_module_parameter_and_value),
        cmocka_unit_test(test_model_spec_builds_the_new_modules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
