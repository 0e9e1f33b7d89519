/* In-out buffers: an output that is an input's own tensor is written in place, and every
 * kernel still reads the input's old value: straight into the tensor where the writing kernel
 * is elementwise and nothing reads the input later, aside and copied back otherwise. Each
 * case is checked against the interpreter on the untouched input, on 1 and 2 threads. */
#include "jit_harness.h"

static int setup(void **state) {
    (void)state;
    return lc_runtime_set_threads(2) == LC_OK ? 0 : -1;
}

/* Compile `g`, run it with outputs[j] = inputs[in_of[j]] where in_of[j] >= 0 (fresh tensors
 * elsewhere), and compare every result with the interpreter run on copies made before. */
static void check_in_place(const lc_graph *g, const int *in_of, uint64_t seed) {
    int nin = lc_graph_input_count(g), nout = lc_graph_output_count(g);
    test_rng r = test_rng_seeded(seed);
    lc_tensor **in = jit_random_inputs(g, &r, 2.0);
    lc_tensor **want = calloc((size_t)nout, sizeof *want);
    lc_tensor **out = calloc((size_t)nout, sizeof *out);
    assert_ok(lc_interp_run(g, (const lc_tensor *const *)in, nin, want, nout));
    lc_program *p;
    assert_ok(lc_compile(g, NULL, &p));
    for (int threads = 1; threads <= 2; threads++) {
        assert_ok(lc_runtime_set_threads(threads));
        lc_tensor **run_in = calloc((size_t)nin, sizeof *run_in);
        for (int i = 0; i < nin; i++) assert_ok(lc_tensor_clone(in[i], &run_in[i]));
        for (int j = 0; j < nout; j++) {
            const lc_node *n = lc_graph_node(g, lc_graph_output(g, j));
            if (in_of[j] >= 0) out[j] = run_in[in_of[j]];
            else assert_ok(lc_tensor_new(n->dtype, n->shape, &out[j]));
        }
        assert_ok(lc_program_run_into(p, (const lc_tensor *const *)run_in, nin, out, nout));
        for (int j = 0; j < nout; j++) {
            assert_tensor_close(out[j], want[j], JIT_RTOL, JIT_ATOL);
            if (in_of[j] < 0) lc_tensor_free(out[j]);
            out[j] = NULL;
        }
        jit_free_tensors(run_in, nin);
    }
    lc_program_free(p);
    jit_free_tensors(want, nout);
    jit_free_tensors(in, nin);
    free(out);
}

static int input(lc_graph *g, const char *name, lc_shape s) {
    int x;
    assert_ok(lc_input(g, name, LC_F32, s, &x));
    return x;
}

static int scaled(lc_graph *g, int x, double c) {
    int k, y;
    assert_ok(lc_scalar(g, LC_F32, c, &k));
    assert_ok(lc_mul(g, x, k, &y));
    return y;
}

static int added(lc_graph *g, int a, int b) {
    int y;
    assert_ok(lc_add(g, a, b, &y));
    return y;
}

/* An SGD step with momentum: buf' = 0.9 buf + g, w' = w - 0.1 buf'; both written in place.
 * Large enough that the pool splits the kernels. */
static void sgd_momentum_in_place(void **state) {
    (void)state;
    lc_graph *g;
    assert_ok(lc_graph_new(&g));
    lc_shape s = test_shape3(4, 8, 5000);
    int w = input(g, "w", s), buf = input(g, "buf", s), grad = input(g, "grad", s);
    int buf2 = added(g, scaled(g, buf, 0.9), grad);
    int w2 = added(g, w, scaled(g, buf2, -0.1));
    assert_ok(lc_graph_add_output(g, w2));
    assert_ok(lc_graph_add_output(g, buf2));
    check_in_place(g, (const int[]){0, 1}, 1);
    lc_graph_free(g);
}

/* out = expand(sum(x)) reads every element of a row for each one it writes: written in place
 * it would read elements it already overwrote, so it goes aside. */
static void row_sum_goes_aside(void **state) {
    (void)state;
    lc_graph *g;
    assert_ok(lc_graph_new(&g));
    lc_shape s = test_shape3(2, 3, 37);
    int x = input(g, "x", s), sx, y;
    assert_ok(lc_sum(g, x, 2, &sx));
    assert_ok(lc_expand(g, sx, 2, 37, &y));
    assert_ok(lc_graph_add_output(g, added(g, y, x)));
    check_in_place(g, (const int[]){0}, 2);
    lc_graph_free(g);
}

/* A window view (unfold, then a sum over the window) reads neighbours: aside. */
static void window_goes_aside(void **state) {
    (void)state;
    lc_graph *g;
    assert_ok(lc_graph_new(&g));
    lc_shape s = test_shape3(1, 2, 64);
    int x = input(g, "x", s), u, y;
    assert_ok(lc_unfold(g, x, 2, 3, 1, 1, 1, &u));
    assert_ok(lc_sum(g, u, 3, &y));
    assert_ok(lc_graph_add_output(g, y));
    check_in_place(g, (const int[]){0}, 3);
    lc_graph_free(g);
}

/* out = x + (window maxima of z), in place of x: x is read element by element, but rows of
 * 70 leave trips over that a second vectorized run computes again (lc_schedule.rerun_tail),
 * reading x after the first run wrote it, so it goes aside. (A max, as a window sum's
 * fix-up already keeps its kernel from writing in place.) */
static void rerun_tail_goes_aside(void **state) {
    (void)state;
    lc_graph *g;
    assert_ok(lc_graph_new(&g));
    lc_shape s = test_shape3(1, 2, 70);
    int x = input(g, "x", s), z = input(g, "z", s), u, w;
    assert_ok(lc_unfold_neg_inf_pad(g, z, 2, 3, 1, 1, 1, 1, &u));
    assert_ok(lc_max(g, u, 3, &w));
    assert_ok(lc_graph_add_output(g, added(g, x, w)));
    check_in_place(g, (const int[]){0}, 5);
    lc_graph_free(g);
}

/* Output 0 (2x, in place) is made before output 1 (the row sums of x), which must still see
 * the old x: output 0 goes aside. */
static void later_reader_sees_old_value(void **state) {
    (void)state;
    lc_graph *g;
    assert_ok(lc_graph_new(&g));
    lc_shape s = test_shape3(2, 2, 100);
    int x = input(g, "x", s), sx;
    int x2 = scaled(g, x, 2.0);
    assert_ok(lc_sum(g, x, 2, &sx));
    assert_ok(lc_graph_add_output(g, x2));
    assert_ok(lc_graph_add_output(g, sx));
    check_in_place(g, (const int[]){0, -1}, 4);
    lc_graph_free(g);
}

/* An input returned as it is, onto itself; and one input written over another's value. */
static void copies_in_place(void **state) {
    (void)state;
    lc_graph *g;
    assert_ok(lc_graph_new(&g));
    lc_shape s = test_shape3(1, 3, 50);
    int a = input(g, "a", s);
    (void)input(g, "b", s);
    assert_ok(lc_graph_add_output(g, a));
    assert_ok(lc_graph_add_output(g, scaled(g, a, 1.0)));
    check_in_place(g, (const int[]){0, 1}, 5);
    lc_graph_free(g);
}

/* The aliasing tests' program: inputs a and b, outputs a + b and 3a, compiled; and three
 * tensors of the shape to pass as inputs and outputs. */
typedef struct two_out {
    lc_graph *g;
    lc_program *p;
    lc_tensor *x, *y, *z;
} two_out;

static two_out two_outputs(lc_shape s) {
    two_out t;
    assert_ok(lc_graph_new(&t.g));
    int a = input(t.g, "a", s), b = input(t.g, "b", s);
    assert_ok(lc_graph_add_output(t.g, added(t.g, a, b)));
    assert_ok(lc_graph_add_output(t.g, scaled(t.g, a, 3.0)));
    assert_ok(lc_compile(t.g, NULL, &t.p));
    assert_ok(lc_tensor_new(LC_F32, s, &t.x));
    assert_ok(lc_tensor_new(LC_F32, s, &t.y));
    assert_ok(lc_tensor_new(LC_F32, s, &t.z));
    return t;
}

static void two_outputs_free(two_out *t) {
    lc_tensor_free(t->x);
    lc_tensor_free(t->y);
    lc_tensor_free(t->z);
    lc_program_free(t->p);
    lc_graph_free(t->g);
}

static void aliasing_errors(void **state) {
    (void)state;
    two_out t = two_outputs(test_shape3(1, 1, 8));
    lc_program *p = t.p;
    lc_tensor *x = t.x, *y = t.y, *z = t.z;
    for (int i = 0; i < 8; i++) lc_tensor_set(x, i, i + 1);
    /* the same tensor as both inputs, and written in place */
    assert_int_equal(lc_program_run_into(p, (const lc_tensor *[]){x, x}, 2, (lc_tensor *[]){x, y}, 2),
                     LC_ERR_INVALID_ARG);
    assert_non_null(strstr(lc_last_error(), "inputs 0 and 1 are the same tensor, which output 0"));
    /* two outputs, one tensor */
    assert_int_equal(lc_program_run_into(p, (const lc_tensor *[]){x, y}, 2, (lc_tensor *[]){z, z}, 2),
                     LC_ERR_INVALID_ARG);
    assert_non_null(strstr(lc_last_error(), "outputs 0 and 1 are the same tensor"));
    for (int i = 0; i < 8; i++) assert_true(lc_tensor_get(x, i) == i + 1); /* nothing written */
    /* the same tensor given twice as a read-only input is fine */
    assert_ok(lc_program_run_into(p, (const lc_tensor *[]){x, x}, 2, (lc_tensor *[]){y, z}, 2));
    assert_true(lc_tensor_get(y, 3) == 8.0 && lc_tensor_get(z, 3) == 12.0);
    two_outputs_free(&t);
}

/* Two outputs, one zero-size tensor: refused as for any size (found by fuzz_capi, a ReLU
 * forward and backward on f32[5,0]); two distinct zero-size tensors are fine. */
static void zero_size_output_twice(void **state) {
    (void)state;
    two_out t = two_outputs(test_shape3(5, 0, 1));
    lc_program *p = t.p;
    lc_tensor *x = t.x, *y = t.y, *z = t.z;
    assert_int_equal(lc_program_run_into(p, (const lc_tensor *[]){x, y}, 2, (lc_tensor *[]){z, z}, 2),
                     LC_ERR_INVALID_ARG);
    assert_non_null(strstr(lc_last_error(), "outputs 0 and 1 are the same tensor"));
    assert_ok(lc_program_run_into(p, (const lc_tensor *[]){x, y}, 2, (lc_tensor *[]){y, z}, 2));
    two_outputs_free(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sgd_momentum_in_place),
        cmocka_unit_test(row_sum_goes_aside),
        cmocka_unit_test(window_goes_aside),
        cmocka_unit_test(rerun_tail_goes_aside),
        cmocka_unit_test(later_reader_sees_old_value),
        cmocka_unit_test(copies_in_place),
        cmocka_unit_test(aliasing_errors),
        cmocka_unit_test(zero_size_output_twice),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
