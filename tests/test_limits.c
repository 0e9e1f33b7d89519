/* Limits: element counts that overflow int64 or size_t, and allocations the
 * machine cannot give, fail cleanly with LC_ERR_NOMEM or LC_ERR_SHAPE and a message, in
 * lc_tensor_new, lc_input and the graph builders, the interpreter, and module graphs. No
 * crash, no leak, nothing touched that the failing call did not own.
 *
 * "Cannot give" here means terabytes: far beyond RAM + swap on any test machine, so the
 * allocation fails at once instead of being overcommitted. Under AddressSanitizer a failed
 * allocation must return NULL rather than abort, which __asan_default_options below asks for
 * (so the test behaves the same whether or not ASAN_OPTIONS is set). */
#include <stdlib.h>
#include <string.h>

#include "lucid/nn.h"
#include "lucid/runtime.h"
#include "support/testutil.h"

const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }

#define P31 ((int64_t)1 << 31)
#define P40 ((int64_t)1 << 40)

static lc_shape shape3(int64_t a, int64_t b, int64_t c) { return test_shape3(a, b, c); }

static void assert_nomem_or_shape(lc_status st, const char *what) {
    if (st != LC_ERR_NOMEM && st != LC_ERR_SHAPE)
        fail_msg("%s returned %s, want out of memory or shape (message: %s)", what,
                 lc_status_str(st), lc_last_error());
    if (lc_last_error()[0] == '\0') fail_msg("%s failed without a message", what);
}

static void test_tensor_new_overflow(void **state) {
    (void)state;
    lc_tensor *t = (lc_tensor *)0x1;
    /* 2^31 * 2^31 * 4 = 2^64 elements: the count itself overflows. */
    assert_fails(lc_tensor_new(LC_F32, shape3(P31, P31, 4), &t), LC_ERR_NOMEM, "tensor: size of shape overflows");
    assert_null(t);
    t = (lc_tensor *)0x1;
    assert_fails(lc_tensor_new(LC_F64, shape3(INT64_MAX, 1, 1), &t), LC_ERR_NOMEM, "overflows");
    assert_null(t);
    int64_t dims[6] = {1024, 1024, 1024, 1024, 1024, 1024}; /* 2^60 elements, 2^63 bytes of f64 */
    t = (lc_tensor *)0x1;
    assert_fails(lc_tensor_new(LC_F64, lc_shape_make(6, dims), &t), LC_ERR_NOMEM, "tensor:");
    assert_null(t);
    /* Representable but not allocatable: 2^40 f64 = 8 TiB. */
    t = (lc_tensor *)0x1;
    assert_fails(lc_tensor_new(LC_F64, shape3(1, 1, P40), &t), LC_ERR_NOMEM, "tensor: cannot allocate");
    assert_null(t);
    t = (lc_tensor *)0x1;
    assert_fails(lc_tensor_new(LC_F32, shape3(P31, 1 << 20, 1), &t), LC_ERR_NOMEM, "tensor: cannot allocate");
    assert_null(t);
    /* Zero-size with huge other extents is fine (no bytes). */
    assert_ok(lc_tensor_new(LC_F32, shape3(0, P40, P40), &t));
    assert_int_equal(lc_tensor_numel(t), 0);
    assert_int_equal(lc_tensor_nbytes(t), 0);
    lc_tensor_free(t);
}

static void test_input_overflow(void **state) {
    (void)state;
    lc_graph *g;
    assert_ok(lc_graph_new(&g));
    int x = -5;
    assert_fails(lc_input(g, "x", LC_F32, shape3(P31, P31, 4), &x), LC_ERR_NOMEM,
                 "input: element count of the shape overflows");
    assert_fails(lc_input(g, "x", LC_F64, shape3(INT64_MAX, 2, 1), &x), LC_ERR_NOMEM, "overflows");
    assert_int_equal(x, -5);
    assert_int_equal(lc_graph_node_count(g), 0);
    /* A shape of 2^62 elements is representable: a graph holds shapes, not data. */
    assert_ok(lc_input(g, "x", LC_F32, shape3(P31, P31, 1), &x));
    /* Ops whose result count overflows are refused where they are built. */
    int y = -5;
    assert_fails(lc_expand(g, x, 0, 4, &y), LC_ERR_NOMEM, "expand: element count of the shape overflows");
    assert_fails(lc_unfold(g, x, 2, 1, 1, 0, 3, &y), LC_ERR_NOMEM, "unfold: element count of the shape overflows");
    /* ... saying what was asked and the limit */
    assert_fails(lc_unfold(g, x, 2, 1, 1, 0, 3, &y), LC_ERR_NOMEM,
                 "[2147483648,2147483648,4,1] holds more than 2^63 - 1 elements, the most a count holds");
    int64_t big = P40;
    double one = 1;
    (void)one;
    assert_fails(lc_constant(g, LC_F64, lc_shape_make(1, &big), NULL, &y), LC_ERR_INVALID_ARG,
                 "constant: data must not be NULL");
    assert_int_equal(y, -5);
    assert_int_equal(lc_graph_node_count(g), 1);
    assert_ok(lc_graph_verify(g));
    lc_graph_free(g);
}

/* The interpreter refuses intermediates it cannot hold: a small input expanded to 2^40 and
 * to 2^61 elements (the latter's byte count does not fit size_t). Outputs stay NULL. */
static void test_interp_cannot_allocate(void **state) {
    (void)state;
    const int64_t sizes[] = {P40, (int64_t)1 << 61, INT64_MAX};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        lc_graph *g;
        assert_ok(lc_graph_new(&g));
        int x, e, s;
        int64_t one = 1;
        assert_ok(lc_input(g, "x", LC_F64, lc_shape_make(1, &one), &x));
        assert_ok(lc_expand(g, x, 0, sizes[i], &e));
        assert_ok(lc_sum(g, e, 0, &s));
        assert_ok(lc_graph_add_output(g, s));
        lc_tensor *in, *out = (lc_tensor *)0x1;
        assert_ok(lc_tensor_new(LC_F64, lc_shape_make(1, &one), &in));
        lc_clear_error();
        lc_status st = lc_interp_run(g, (const lc_tensor *const[]){in}, 1, &out, 1);
        assert_int_equal(st, LC_ERR_NOMEM);
        assert_non_null(strstr(lc_last_error(), "interp: "));
        assert_non_null(strstr(lc_last_error(), "node %1"));
        assert_null(out);
        lc_tensor_free(in);
        lc_graph_free(g);
    }
}

/* Module graphs over huge inputs: building them and asking for their shape never crashes;
 * a count that overflows is refused. */
static void test_module_huge_inputs(void **state) {
    (void)state;
    lc_lppool1d_params lp = lc_lppool1d_defaults(2, 4);
    lc_module *m;
    assert_ok(lc_lppool1d_new(&lp, &m));
    lc_shape out;
    /* (2^31, 2^31, 4): 2^64 input elements. */
    assert_nomem_or_shape(lc_module_output_shape(m, shape3(P31, P31, 4), &out), "LPPool1d (2^31, 2^31, 4)");
    assert_nomem_or_shape(lc_module_output_shape(m, shape3(INT64_MAX, INT64_MAX, INT64_MAX), &out),
                          "LPPool1d (max, max, max)");
    /* (1, 1, 2^62): fine as a shape; 2^60 windows of 4. */
    assert_ok(lc_module_output_shape(m, shape3(1, 1, (int64_t)1 << 62), &out));
    assert_int_equal(out.dim[2], (int64_t)1 << 60);
    assert_ok(lc_module_output_shape(m, shape3(1, 1, INT64_MAX), &out));
    assert_int_equal(out.dim[2], INT64_MAX / 4);
    lc_module_free(m);

    /* A window of 2^40 over an input of 2^40 with stride 1: one window. */
    lp = lc_lppool1d_defaults(2, P40);
    lp.stride = 1;
    assert_ok(lc_lppool1d_new(&lp, &m));
    assert_ok(lc_module_output_shape(m, shape3(1, 1, P40), &out));
    assert_int_equal(out.dim[2], 1);
    /* 2^40 + 2^30 long: 2^30 + 1 windows of 2^40 each; their count overflows. */
    assert_nomem_or_shape(lc_module_output_shape(m, shape3(1 << 30, 1, P40 + (1 << 30)), &out),
                          "LPPool1d k = 2^40 windows");
    lc_module_free(m);

    /* Running a module on an input the machine cannot hold fails in lc_tensor_new, before. */
    lc_tensor *x = (lc_tensor *)0x1;
    assert_fails(lc_tensor_new(LC_F32, shape3(P31, P31, 4), &x), LC_ERR_NOMEM, "overflows");
    assert_null(x);
}

/* Zero-size inputs with huge other extents are valid and give zero-size results: the
 * interpreter's index arithmetic must not multiply the huge extents together. */
/* Parameters too large to allocate: the module's message carries the tensor's, which says how
 * many bytes were asked (the two once shared one buffer, and the message came out garbled). */
static void test_params_cannot_allocate(void **state) {
    (void)state;
    lc_linear_params p = lc_linear_defaults(100000000, 100000000);
    lc_module *m = (lc_module *)0x1;
    assert_fails(lc_linear_new(&p, &m), LC_ERR_NOMEM,
                 "Linear: cannot allocate its parameters: tensor: cannot allocate 40000000000000000 bytes");
}

/* A MaxPool whose dilated window is longer than the padded input reports the window's span,
 * not a kernel_size nobody gave. */
static void test_maxpool_span_too_long(void **state) {
    (void)state;
    lc_maxpool1d_params p = {17, INT64_C(1) << 42, 1, INT64_C(1) << 40, false, true};
    lc_module *m;
    assert_ok(lc_maxpool1d_new(&p, &m));
    lc_shape out;
    int64_t dims[3] = {1, 1, 12};
    assert_fails(lc_module_output_shape(m, lc_shape_make(3, dims), &out), LC_ERR_SHAPE,
                 "MaxPool1d: input length 12 with padding (1, 1) is shorter than the window span 17592186044417 "
                 "(output length would be < 1)");
    lc_module_free(m);
}

/* The padded row must fit int64 (every index into it is one): the module says so, naming
 * itself and the padding (the pipeline fuzzer's finding: a row of 2^63 - 2 with padding 1,
 * which only unfold's shape rule refused, in its own words). */
static void test_padded_length_past_int64(void **state) {
    (void)state;
    lc_avgpool1d_params p = {3, 5, 1, true, false};
    lc_module *m;
    assert_ok(lc_avgpool1d_new(&p, &m));
    lc_shape out;
    int64_t dims[3] = {1, 1, INT64_MAX - 1};
    assert_fails(lc_module_output_shape(m, lc_shape_make(3, dims), &out), LC_ERR_SHAPE,
                 "AvgPool1d: input length 9223372036854775806 with padding (1, 1) is longer than 2^63 - 1 "
                 "positions padded, the engine's limit");
    lc_module_free(m);
    /* padded to exactly 2^63 - 1 (floor mode: no overhang): the limit itself is fine */
    p.ceil_mode = false;
    p.count_include_pad = true; /* no per-window divisors to allocate */
    assert_ok(lc_avgpool1d_new(&p, &m));
    dims[2] = INT64_MAX - 2;
    assert_ok(lc_module_output_shape(m, lc_shape_make(3, dims), &out));
    lc_module_free(m);
}

static void test_zero_size_huge_extents(void **state) {
    (void)state;
    const lc_shape shapes[] = {shape3(0, P40, P40), shape3(P40, 0, P40), shape3(0, P31, 4096)};
    lc_avgpool1d_params ap = lc_avgpool1d_defaults(4);
    ap.padding = 1;
    ap.ceil_mode = true;
    lc_lppool1d_params lp = lc_lppool1d_defaults(2, 4);
    lc_module *mods[2];
    assert_ok(lc_avgpool1d_new(&ap, &mods[0]));
    assert_ok(lc_lppool1d_new(&lp, &mods[1]));
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        for (int k = 0; k < 2; k++) {
            if (k == 0 && shapes[i].dim[2] == P40) continue; /* AvgPool's divisors: one per window */
            lc_tensor *x = NULL, *y = NULL;
            assert_ok(lc_tensor_new(LC_F32, shapes[i], &x));
            lc_graph *g;
            assert_ok(lc_graph_new(&g));
            int xi, yi;
            assert_ok(lc_input(g, "x", LC_F32, shapes[i], &xi));
            assert_ok(lc_module_forward(mods[k], g, xi, &yi));
            assert_ok(lc_graph_add_output(g, yi));
            assert_ok(lc_interp_run(g, (const lc_tensor *const[]){x}, 1, &y, 1));
            assert_int_equal(lc_tensor_numel(y), 0);
            assert_true(lc_shape_equal(&y->shape, &lc_graph_node(g, yi)->shape));
            assert_int_equal(y->shape.dim[0], shapes[i].dim[0]);
            assert_int_equal(y->shape.dim[1], shapes[i].dim[1]);
            lc_tensor_free(y);
            lc_tensor_free(x);
            lc_graph_free(g);
        }
    }
    lc_module_free(mods[0]);
    lc_module_free(mods[1]);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tensor_new_overflow),
        cmocka_unit_test(test_input_overflow),
        cmocka_unit_test(test_interp_cannot_allocate),
        cmocka_unit_test(test_module_huge_inputs),
        cmocka_unit_test(test_zero_size_huge_extents),
        cmocka_unit_test(test_params_cannot_allocate),
        cmocka_unit_test(test_maxpool_span_too_long),
        cmocka_unit_test(test_padded_length_past_int64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
