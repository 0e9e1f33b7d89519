/* Shared by the JIT tests (header-only so each test_jit*.c stays one program): build a pool
 * graph (module or hand-built ops), optionally append its backward, compile, run on random
 * inputs, and compare with the interpreter and across thread counts. */
#ifndef LUCID_TESTS_JIT_HARNESS_H
#define LUCID_TESTS_JIT_HARNESS_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/testutil.h"

#include "lucid/autodiff.h"
#include "lucid/model_spec.h"
#include "lucid/nn.h"
#include "lucid/program.h"
#include "lucid/runtime.h"
#include "passes/kernel.h"
#include "support/memstream.h"

#define JIT_RTOL 1e-4
#define JIT_ATOL 1e-6

/* The module a model-spec call names ("MaxPool2d(3, 2, 1)"); the caller frees it. */
static inline lc_module *jit_parse_module(const char *spec) {
    lc_module *m;
    assert_ok(lc_model_parse_call(spec, "test", &m));
    return m;
}

/* The graph of `m` on input shape `in`; with `backward`, the forward+backward graph
 * (inputs x, seed; outputs y, dx). */
static inline lc_graph *jit_module_graph(const lc_module *m, lc_dtype dt, lc_shape in, bool backward) {
    lc_graph *g;
    assert_ok(lc_module_graph(m, dt, in, &g));
    if (!backward) return g;
    lc_graph *b;
    assert_ok(lc_autodiff(g, NULL, 0, NULL, 0, &b));
    lc_graph_free(g);
    return b;
}

/* What `lc_compile_dump` prints for `stages` of g (malloc'd text; caller frees). */
static inline char *jit_dump_text(const lc_graph *g, const char *stages) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_ok(lc_compile_dump(g, stages, f));
    fclose(f);
    return buf;
}

/* The `fuse` dump of f as lc_fused_print writes it, for a fused stage made with a chosen
 * target (lc_fuse_for), which jit_dump_text's compile does not take (caller frees). */
static inline char *jit_fused_text(const lc_fused *f) {
    char *text;
    lc_memstream ms;
    assert_ok(lc_memstream_open(&ms));
    assert_ok(lc_memstream_finish(&ms, lc_fused_print(f, ms.file), &text));
    return text;
}

/* How many times `what` occurs in `text` (a dump's lines or instructions). By offsets: GCC 12
 * took a pointer walked through jit_dump_text's result, inlined beside it, for one dangling
 * into that function's memstream (-Wdangling-pointer, an error under -Werror). */
static inline int jit_count(const char *text, const char *what) {
    int n = 0;
    size_t len = strlen(what);
    for (size_t at = 0; text[at]; at++) n += strncmp(text + at, what, len) == 0;
    return n;
}

/* The integer after the comma that follows the first `what` in `text` (an IR instruction's
 * second operand: "udiv i64 %23, 8" gives 8), or -1 where there is none. By offsets, as
 * jit_count. */
static inline long jit_operand_after(const char *text, const char *what) {
    size_t len = strlen(what), at = 0;
    while (text[at] && strncmp(text + at, what, len) != 0) at++;
    while (text[at] && text[at] != ',' && text[at] != '\n') at++;
    return text[at] == ',' ? strtol(text + at + 1, NULL, 10) : -1;
}

/* Names an AVX2 target with its features (LUCID_CPU=x86-64-v3 and LUCID_CPU_FEATURES), so
 * the code compiled is the same on every AVX2 host, where the host runs AVX2 code and the
 * environment names no CPU already (a ctest rerun naming another); before anything
 * compiles, as the target is read once per process. True where it did. */
static inline bool jit_name_avx2_target(void) {
#if defined(__x86_64__)
    if (!getenv("LUCID_CPU") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        setenv("LUCID_CPU", "x86-64-v3", 1);
        setenv("LUCID_CPU_FEATURES", "+avx,+avx2,+fma,+f16c,+bmi,+bmi2,+lzcnt,+movbe", 1);
        return true;
    }
#endif
    return false;
}

/* The fused stage of `m` on input shape `in` (the schedule tests read its kernels); frees m. */
static inline lc_fused *jit_fuse_module(lc_module *m, lc_shape in, bool backward) {
    lc_graph *g = jit_module_graph(m, LC_F32, in, backward);
    lc_fused *f;
    assert_ok(lc_fuse(g, &f));
    lc_graph_free(g);
    lc_module_free(m);
    return f;
}

/* Random inputs for every graph input (caller frees with jit_free_tensors). */
static inline lc_tensor **jit_random_inputs(const lc_graph *g, test_rng *r, double scale) {
    int n = lc_graph_input_count(g);
    lc_tensor **t = calloc((size_t)n + 1, sizeof *t);
    for (int i = 0; i < n; i++) {
        const lc_node *in = lc_graph_node(g, lc_graph_input(g, i));
        t[i] = test_random_tensor(r, in->dtype, in->shape, scale);
    }
    return t;
}

static inline void jit_free_tensors(lc_tensor **t, int n) {
    for (int i = 0; t && i < n; i++) lc_tensor_free(t[i]);
    free(t);
}

static inline bool jit_bits_equal(const lc_tensor *a, const lc_tensor *b) {
    return lc_shape_equal(&a->shape, &b->shape) && a->dtype == b->dtype &&
           memcmp(a->data, b->data, lc_tensor_nbytes(a)) == 0;
}

/* Compile `g`, run it on `in` with 1, 2 and 3 threads and the interpreter; assert JIT ~ interp
 * (rtol/atol) and bit-identical results across thread counts. Returns the kernel count. */
static inline int jit_check_graph_inputs(const lc_graph *g, lc_tensor **in, double rtol, double atol) {
    int nin = lc_graph_input_count(g), nout = lc_graph_output_count(g);
    lc_tensor **want = calloc((size_t)nout, sizeof *want);
    assert_ok(lc_interp_run(g, (const lc_tensor *const *)in, nin, want, nout));
    lc_tensor **first = NULL;
    int kernels = 0;
    for (int threads = 1; threads <= 3; threads++) {
        lc_compile_options o = lc_compile_options_default();
        o.threads = threads;
        lc_program *p;
        assert_ok(lc_compile(g, &o, &p));
        kernels = lc_program_kernel_count(p);
        lc_tensor **got = calloc((size_t)nout, sizeof *got);
        assert_ok(lc_program_run(p, (const lc_tensor *const *)in, nin, got, nout));
        for (int i = 0; i < nout; i++) assert_tensor_close(got[i], want[i], rtol, atol);
        if (!first) {
            first = got;
        } else {
            for (int i = 0; i < nout; i++)
                if (!jit_bits_equal(got[i], first[i]))
                    fail_msg("output %d differs between 1 and %d threads", i, threads);
            jit_free_tensors(got, nout);
        }
        lc_program_free(p);
    }
    jit_free_tensors(first, nout);
    jit_free_tensors(want, nout);
    return kernels;
}

/* Compile `g` once with the default options, run it on `in`, and assert every output equals
 * the interpreter's within rtol/atol: the cheap form of jit_check_graph_inputs, for graphs
 * whose compiles are costly (100,000-node chains, windows of 2^40 slots). */
static inline void jit_check_once(const lc_graph *g, lc_tensor **in, double rtol, double atol) {
    int nin = lc_graph_input_count(g), nout = lc_graph_output_count(g);
    lc_tensor **want = calloc((size_t)nout + 1, sizeof *want);
    lc_tensor **got = calloc((size_t)nout + 1, sizeof *got);
    assert_ok(lc_interp_run(g, (const lc_tensor *const *)in, nin, want, nout));
    lc_program *p;
    assert_ok(lc_compile(g, NULL, &p));
    assert_ok(lc_program_run(p, (const lc_tensor *const *)in, nin, got, nout));
    lc_program_free(p);
    for (int i = 0; i < nout; i++) assert_tensor_close(got[i], want[i], rtol, atol);
    jit_free_tensors(got, nout);
    jit_free_tensors(want, nout);
}

static inline int jit_check_graph(const lc_graph *g, uint64_t seed, double scale) {
    test_rng r = test_rng_seeded(seed);
    lc_tensor **in = jit_random_inputs(g, &r, scale);
    int k = jit_check_graph_inputs(g, in, JIT_RTOL, JIT_ATOL);
    jit_free_tensors(in, lc_graph_input_count(g));
    return k;
}

/* Module forward (and forward+backward) against the interpreter; returns kernel counts. */
static inline void jit_check_module(const lc_module *m, lc_dtype dt, lc_shape in, uint64_t seed,
                                    int *fwd_kernels, int *fwdbwd_kernels) {
    lc_graph *g = jit_module_graph(m, dt, in, false);
    int k = jit_check_graph(g, seed, 3.0);
    if (fwd_kernels) *fwd_kernels = k;
    lc_graph_free(g);
    g = jit_module_graph(m, dt, in, true);
    k = jit_check_graph(g, seed + 1, 3.0);
    if (fwdbwd_kernels) *fwdbwd_kernels = k;
    lc_graph_free(g);
}

#endif
