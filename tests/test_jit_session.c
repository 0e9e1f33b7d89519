/* Programs share the process's one JIT: each links into a JITDylib of its own (every program's
 * kernels are named lc_kernel_0, 1, ...), freeing a program removes its code, and its dylib is
 * reused by the next program, so the dylibs made stay at the most programs alive at once. */
#include "jit_harness.h"

#include "codegen/codegen.h"

static lc_module *avg(int64_t k, int64_t s, int64_t pad) {
    lc_avgpool1d_params p = {.kernel_size = k, .stride = s, .padding = pad, .count_include_pad = true};
    lc_module *m;
    assert_ok(lc_avgpool1d_new(&p, &m));
    return m;
}

static lc_module *lp(double norm, int64_t k) {
    lc_lppool1d_params p = {.norm_type = norm, .kernel_size = k, .stride = LC_STRIDE_UNSET};
    lc_module *m;
    assert_ok(lc_lppool1d_new(&p, &m));
    return m;
}

typedef struct compiled {
    lc_graph *g;
    lc_program *p;
    lc_tensor **in;
} compiled;

static compiled compile_module(lc_module *m, bool backward, uint64_t seed) {
    int64_t dims[3] = {2, 3, 96};
    compiled c = {.g = jit_module_graph(m, LC_F32, lc_shape_make(3, dims), backward)};
    lc_module_free(m);
    assert_ok(lc_compile(c.g, NULL, &c.p));
    test_rng r = test_rng_seeded(seed);
    c.in = jit_random_inputs(c.g, &r, 2.0);
    return c;
}

/* Run the program and compare every output with the interpreter on the same graph. */
static void check_against_interp(const compiled *c) {
    int nin = lc_graph_input_count(c->g), nout = lc_graph_output_count(c->g);
    lc_tensor *want[2] = {0}, *got[2] = {0};
    assert_true(nout <= 2);
    assert_ok(lc_interp_run(c->g, (const lc_tensor *const *)c->in, nin, want, nout));
    assert_ok(lc_program_run(c->p, (const lc_tensor *const *)c->in, nin, got, nout));
    for (int i = 0; i < nout; i++) {
        assert_tensor_close(got[i], want[i], JIT_RTOL, JIT_ATOL);
        lc_tensor_free(got[i]);
        lc_tensor_free(want[i]);
    }
}

static void release(compiled *c) {
    lc_program_free(c->p);
    jit_free_tensors(c->in, lc_graph_input_count(c->g));
    lc_graph_free(c->g);
}

/* Three programs whose kernels have the same names, alive together and freed in between:
 * each runs its own code. */
static void programs_keep_their_own_kernels(void **state) {
    (void)state;
    lc_compile_cache_clear();
    compiled a = compile_module(avg(2, 2, 0), false, 1);
    compiled b = compile_module(lp(2.0, 4), true, 2);
    check_against_interp(&a);
    check_against_interp(&b);
    release(&a);
    lc_compile_cache_clear(); /* the cache let go of a's code: a's dylib is free */
    check_against_interp(&b);
    compiled c = compile_module(avg(3, 1, 1), true, 3); /* into a's dylib, same kernel names */
    check_against_interp(&c);
    check_against_interp(&b);
    release(&b);
    release(&c);
    lc_compile_cache_clear();
}

/* Twenty different programs compiled and freed one after another make at most one dylib more
 * (had a freed program's code stayed, its lc_kernel_0 would clash with the next one's in the
 * reused dylib and the link would fail). */
static void freed_programs_dylibs_are_reused(void **state) {
    (void)state;
    lc_compile_cache_clear();
    compiled warm = compile_module(avg(2, 2, 0), false, 4);
    release(&warm);
    lc_compile_cache_clear();
    int before = lc_jit_dylib_count();
    assert_true(before >= 1);
    for (int k = 2; k < 22; k++) {
        compiled c = compile_module(avg(k, 1, 0), k % 2 == 0, (uint64_t)k);
        check_against_interp(&c);
        release(&c);
        lc_compile_cache_clear();
    }
    assert_true(lc_jit_dylib_count() <= before + 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(programs_keep_their_own_kernels),
        cmocka_unit_test(freed_programs_dylibs_are_reused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
