/* Zero-size inputs through the JIT: N or C = 0 (even beside a huge extent) compiles and runs,
 * forward and backward, with one thread and with the pool, and gives empty outputs of the
 * shape lc_module_output_shape and the interpreter give. Such a run allocates no scratch, and
 * its slot pointers must not be formed from a NULL block (clang's UBSan flagged
 * `NULL + offset` in program.c: fuzz finding pipeline/jit_zero_size_null_scratch_offset). */
#include "jit_harness.h"

static int setup(void **state) {
    (void)state;
    return lc_runtime_set_threads(2) == LC_OK ? 0 : -1;
}

static lc_module *lppool(double p, int64_t k, int64_t stride, bool ceil_mode) {
    lc_lppool1d_params prm = lc_lppool1d_defaults(p, k);
    prm.stride = stride;
    prm.ceil_mode = ceil_mode;
    lc_module *m;
    assert_ok(lc_lppool1d_new(&prm, &m));
    return m;
}

static lc_module *avgpool(int64_t k, int64_t padding, bool count_include_pad) {
    lc_avgpool1d_params prm = lc_avgpool1d_defaults(k);
    prm.padding = padding;
    prm.count_include_pad = count_include_pad;
    lc_module *m;
    assert_ok(lc_avgpool1d_new(&prm, &m));
    return m;
}

/* Sequential(LPPool1d(0.5, 1), LPPool1d(3, 6, 5, ceil_mode=True)): the fuzz finding's module. */
static lc_module *finding_module(void) {
    lc_module *seq;
    assert_ok(lc_sequential_new(&seq));
    assert_ok(lc_sequential_append(seq, lppool(0.5, 1, LC_STRIDE_UNSET, false)));
    assert_ok(lc_sequential_append(seq, lppool(3, 6, 5, true)));
    return seq;
}

/* Run graph g (inputs all of g's inputs' shapes, zero-size) through the JIT with `threads` and
 * through the interpreter: every output has the interpreter's shape and dtype, no elements,
 * and out_shapes[i] as its shape. run_into on preallocated outputs works too. */
static void check_empty_run(const lc_graph *g, const lc_shape *out_shapes, int threads) {
    int nin = lc_graph_input_count(g), nout = lc_graph_output_count(g);
    lc_tensor *in[2] = {NULL, NULL}, *got[2] = {NULL, NULL}, *want[2] = {NULL, NULL};
    assert_true(nin <= 2 && nout <= 2);
    for (int i = 0; i < nin; i++) {
        const lc_node *n = lc_graph_node(g, lc_graph_input(g, i));
        assert_ok(lc_tensor_new(n->dtype, n->shape, &in[i]));
        assert_int_equal(lc_tensor_numel(in[i]), 0);
    }
    lc_compile_options o = lc_compile_options_default();
    o.threads = threads;
    lc_program *p;
    assert_ok(lc_compile(g, &o, &p));
    assert_int_equal(lc_program_scratch_bytes(p), 0);
    assert_ok(lc_program_run(p, (const lc_tensor *const *)in, nin, got, nout));
    assert_ok(lc_interp_run(g, (const lc_tensor *const *)in, nin, want, nout));
    for (int i = 0; i < nout; i++) {
        char a[96], b[96];
        if (!lc_shape_equal(&got[i]->shape, &out_shapes[i]))
            fail_msg("output %d: shape %s, want %s", i, lc_shape_str(&got[i]->shape, a, sizeof a),
                     lc_shape_str(&out_shapes[i], b, sizeof b));
        assert_int_equal(got[i]->dtype, want[i]->dtype);
        assert_true(lc_shape_equal(&got[i]->shape, &want[i]->shape));
        assert_int_equal(lc_tensor_numel(got[i]), 0);
        assert_int_equal(lc_tensor_nbytes(got[i]), 0);
    }
    /* the same program again, into the outputs it just made (a second run reuses the code) */
    assert_ok(lc_program_run_into(p, (const lc_tensor *const *)in, nin, got, nout));
    lc_program_free(p);
    for (int i = 0; i < 2; i++) {
        lc_tensor_free(in[i]);
        lc_tensor_free(got[i]);
        lc_tensor_free(want[i]);
    }
}

/* Module m on zero-size input `in`: forward (y of lc_module_output_shape's shape) and
 * forward+backward (y, and dx of the input's shape), with 0 (pool), 1 and 2 threads. */
static void check_module(const lc_module *m, lc_dtype dt, lc_shape in) {
    lc_shape y_shape;
    assert_ok(lc_module_output_shape(m, in, &y_shape));
    assert_int_equal(lc_shape_numel(&y_shape), 0);
    const lc_shape shapes[2] = {y_shape, in};
    for (int backward = 0; backward <= 1; backward++) {
        lc_graph *g = jit_module_graph(m, dt, in, backward);
        assert_int_equal(lc_graph_output_count(g), 1 + backward);
        for (int threads = 0; threads <= 2; threads++) check_empty_run(g, shapes, threads);
        lc_graph_free(g);
    }
}

static void finding_case(void **state) {
    (void)state;
    lc_module *m = finding_module();
    int64_t d[] = {0, 44};
    lc_shape in = lc_shape_make(2, d), y;
    assert_ok(lc_module_output_shape(m, in, &y));
    int64_t want[] = {0, 9}; /* 44 -> 44 -> ceil((44 - 6) / 5) + 1 = 9 */
    assert_int_equal(y.rank, 2);
    assert_int_equal(y.dim[0], want[0]);
    assert_int_equal(y.dim[1], want[1]);
    check_module(m, LC_F32, in);
    check_module(m, LC_F64, in);
    lc_module_free(m);
}

static void zero_batch_or_channels(void **state) {
    (void)state;
    lc_module *mods[] = {lppool(2, 3, LC_STRIDE_UNSET, false), lppool(60, 4, 2, true),
                         avgpool(3, 1, false) /* per-window divisors: a constant */,
                         avgpool(4, 2, true)};
    int64_t shapes[][3] = {{0, 3, 10}, {2, 0, 10}, {0, 0, 10}};
    for (size_t i = 0; i < sizeof mods / sizeof mods[0]; i++) {
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            check_module(mods[i], LC_F32, lc_shape_make(3, shapes[s]));
            check_module(mods[i], LC_F64, lc_shape_make(3, shapes[s]));
        }
        lc_module_free(mods[i]);
    }
}

/* A zero beside extents whose product overflows int64: still a valid, empty tensor. */
static void zero_beside_huge_extent(void **state) {
    (void)state;
    lc_module *m = lppool(2, 2, LC_STRIDE_UNSET, false);
    int64_t d[] = {INT64_MAX, 0, 8};
    check_module(m, LC_F32, lc_shape_make(3, d));
    lc_module_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(finding_case),
        cmocka_unit_test(zero_batch_or_channels),
        cmocka_unit_test(zero_beside_huge_extent),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
