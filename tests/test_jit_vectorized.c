/* The optimization pipeline keeps every kernel vectorized. Codegen emits element-major
 * kernels and short windows as scalar loops over outputs and leaves them to LLVM's loop
 * vectorizer; long windows build their partial sums lane by lane for the SLP vectorizer.
 * A pipeline that lost either pass (or ran them on IR they cannot read) would still compute
 * the right values, only several times slower, so this test reads the assembly: for a named
 * AVX2 target (LUCID_CPU=x86-64-v3, set before the first compile, so the result does not
 * depend on the machine) every kernel of every bench pipeline, forward and forward+backward,
 * moves packed single-precision ymm registers to or from memory, and none of it is AVX-512
 * code (test_short_power_avx512 has the AVX-512 target). The values are checked too. */
#include "jit_harness.h"

/* Packed-single instructions that move a ymm register to or from memory, between `from` and
 * `to` (vector arithmetic alone is not enough: a long window's partial sums are vectors
 * even when their lanes are loaded one by one). */
static int packed_ymm_ops(const char *from, const char *to) {
    int n = 0;
    for (const char *line = from; line && line < to; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        const char *end = strchr(line, '\n');
        if (!end || end > to) end = to;
        const char *ps = strstr(line, "ps\t"), *ymm = strstr(line, "%ymm"), *mem = strstr(line, "(%");
        if (ps && ymm && mem && ps < end && ymm < end && mem < end) n++;
    }
    return n;
}

static void check_vectorized(lc_module *m, bool backward) {
    lc_graph *g = jit_module_graph(m, LC_F32, test_shape3(2, 3, 1024), backward);
    jit_check_graph(g, 7, 2.0);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_ok(lc_compile_dump(g, "asm", f));
    fclose(f);
    int kernels = 0;
    for (const char *k = strstr(buf, "\nlc_kernel_"); k; kernels++) {
        const char *next = strstr(k + 1, "\nlc_kernel_");
        int n = packed_ymm_ops(k, next ? next : buf + len);
        if (n == 0) {
            char *repr = NULL;
            assert_ok(lc_module_repr(m, &repr));
            fail_msg("%s%s: kernel %d has no packed ymm load or store", repr, backward ? " backward" : "",
                     kernels);
        }
        k = next;
    }
    assert_true(kernels >= 1);
    /* the short power's AVX-512 form (vmath.c) is for AVX-512 targets only */
    if (strstr(buf, "vgetexpps") || strstr(buf, "zmm")) fail_msg("AVX-512 code for an AVX2 target");
    free(buf);
    lc_graph_free(g);
}

static void pipelines_vectorized(void **state) {
    (void)state;
#if defined(__x86_64__)
    lc_module *ms[] = {
        test_avgpool(4, LC_STRIDE_UNSET, 0, false, true), test_avgpool(3, 1, 1, false, true),
        test_lppool(2, 4, LC_STRIDE_UNSET, false),        test_lppool(2.5, 4, LC_STRIDE_UNSET, false),
        test_lppool(2, 4, 2, false),                      test_avgpool(64, LC_STRIDE_UNSET, 0, false, true),
        test_lppool(2, 64, LC_STRIDE_UNSET, false),       test_lppool(2.7, 4, LC_STRIDE_UNSET, false),
    };
    for (size_t i = 0; i < sizeof ms / sizeof *ms; i++) {
        check_vectorized(ms[i], false);
        check_vectorized(ms[i], true);
        lc_module_free(ms[i]);
    }
#else
    skip();
#endif
}

/* A batch of one: a kernel that also writes its windows' co-root (LPPool1d(2, 64)'s norm, which
 * dx's window reads back at each of its slots) evaluates it once per window, as with a larger
 * batch. The co-root's value was taken again only where every index was spelled alike, and
 * the batch axis of length 1 was the constant 0 in one place and the row's index in the
 * other: the norm's 64-term sum and root were emitted again inside the loop over the slots,
 * which then stayed scalar (forward+backward at (1, 16, 4096) 30 times slower than at
 * (2, 16, 4096)). Counted in the IR codegen emits, before LLVM's passes. */
static int sqrt_calls(lc_shape in) {
    lc_module *m = test_lppool(2, 64, LC_STRIDE_UNSET, false);
    lc_graph *g = jit_module_graph(m, LC_F32, in, true);
    char *text = jit_dump_text(g, "llvm");
    int n = jit_count(text, "call float @llvm.sqrt.f32(");
    free(text);
    lc_graph_free(g);
    lc_module_free(m);
    return n;
}

static void batch_of_one_takes_the_co_root_once(void **state) {
    (void)state;
    int two = sqrt_calls(test_shape3(2, 16, 4096));
    assert_int_equal(two, 1);
    assert_int_equal(sqrt_calls(test_shape3(1, 16, 4096)), two);
    assert_int_equal(sqrt_calls(test_shape3(1, 1, 4096)), two);
}

int main(void) {
    setenv("LUCID_CPU", "x86-64-v3", 1);
    unsetenv("LUCID_CPU_FEATURES");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pipelines_vectorized),
        cmocka_unit_test(batch_of_one_takes_the_co_root_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
