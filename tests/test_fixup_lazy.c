/* A kernel with flagged LP norms or rescued window sums compiles only its plain form; its
 * fix-up form is compiled the first time a run flags a window (codegen.h, docs/pipeline.md).
 * Checked here: a run whose windows are all accepted compiles nothing more; a run that flags
 * compiles each such kernel's fix-up once, for every program sharing the code and every later
 * run, and gives the interpreter's values, bit-identical for 1, 2 and 3 threads, with the
 * windows it did not flag bit-identical to a run that flagged none; runs from several threads
 * that flag at once compile it once; and a fix-up compile that cannot get memory is an error
 * from lc_program_run, after which a run with room compiles and succeeds. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "codegen/codegen.h"
#include "jit_harness.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ADDRESS_LIMIT_WORKS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) || __has_feature(thread_sanitizer)
#define ADDRESS_LIMIT_WORKS 0
#endif
#endif
#ifndef ADDRESS_LIMIT_WORKS
#define ADDRESS_LIMIT_WORKS 1
#endif

/* LPPool1d(2, 4) (and AvgPool1d(4), whose window sum is rescued) on (4, 16, 1024), forward or
 * forward and backward: large enough that runs with 2 and 3 threads split the kernels. */
static lc_graph *graph_of(bool lp, bool backward) {
    lc_module *m = lp ? test_lppool(2.0, 4, 4, false) : test_avgpool(4, 4, 0, false, true);
    lc_graph *g = jit_module_graph(m, LC_F32, test_shape3(4, 16, 1024), backward);
    lc_module_free(m);
    return g;
}

static lc_program *compile_threads(const lc_graph *g, int threads) {
    lc_compile_options o = lc_compile_options_default();
    o.threads = threads;
    lc_program *p = NULL;
    assert_ok(lc_compile(g, &o, &p));
    return p;
}

/* Windows the plain form does not accept: window 3 of each row all tiny (|x|^2 underflows),
 * window 40 holding a huge element (|x|^2, or a sum of four such, overflows). */
static void flag_some_windows(lc_tensor *x) {
    float *v = x->data;
    int64_t rows = lc_tensor_numel(x) / 1024;
    for (int64_t r = 0; r < rows; r++) {
        for (int j = 0; j < 4; j++) v[r * 1024 + 12 + j] = 1e-30f * (float)(j + 1);
        for (int j = 0; j < 4; j++) v[r * 1024 + 160 + j] = 3e38f;
    }
}

static lc_tensor **run(const lc_program *p, lc_tensor **in, int nin, int nout) {
    lc_tensor **out = calloc((size_t)nout, sizeof *out);
    assert_ok(lc_program_run(p, (const lc_tensor *const *)in, nin, out, nout));
    return out;
}

static void check_graph(bool lp, bool backward) {
    lc_compile_cache_clear();
    lc_graph *g = graph_of(lp, backward);
    int nin = lc_graph_input_count(g), nout = lc_graph_output_count(g);
    test_rng r = test_rng_seeded(7);
    lc_tensor **plain = jit_random_inputs(g, &r, 1.0);
    lc_program *p1 = compile_threads(g, 1);

    /* accepted windows only: nothing more is compiled */
    int before = lc_codegen_fixup_count();
    lc_tensor **y_plain = run(p1, plain, nin, nout);
    assert_int_equal(lc_codegen_fixup_count(), before);

    /* the same inputs with some windows flagged */
    lc_tensor **flagged = jit_random_inputs(g, &r, 1.0);
    for (int i = 0; i < nin; i++) memcpy(flagged[i]->data, plain[i]->data, lc_tensor_nbytes(plain[i]));
    flag_some_windows(flagged[0]);
    lc_tensor **y1 = run(p1, flagged, nin, nout);
    int compiled = lc_codegen_fixup_count() - before;
    assert_true(compiled >= 1 && compiled <= lc_program_kernel_count(p1));
    for (int threads = 2; threads <= 3; threads++) {
        lc_program *pt = compile_threads(g, threads); /* the same code, from the cache */
        lc_tensor **yt = run(pt, flagged, nin, nout);
        for (int k = 0; k < nout; k++) assert_true(jit_bits_equal(yt[k], y1[k]));
        jit_free_tensors(yt, nout);
        lc_program_free(pt);
    }
    assert_int_equal(lc_codegen_fixup_count() - before, compiled); /* compiled once */

    /* the interpreter's values */
    lc_tensor **want = calloc((size_t)nout, sizeof *want);
    assert_ok(lc_interp_run(g, (const lc_tensor *const *)flagged, nin, want, nout));
    for (int k = 0; k < nout; k++) {
        const float *a = y1[k]->data, *b = want[k]->data;
        for (int64_t i = 0; i < lc_tensor_numel(want[k]); i++) {
            bool same = (isnan(a[i]) && isnan(b[i])) || a[i] == b[i] ||
                        fabs((double)a[i] - (double)b[i]) <= JIT_ATOL + JIT_RTOL * fabs((double)b[i]);
            if (!same) fail_msg("output %d element %lld: jit %g, interp %g", k, (long long)i, a[i], b[i]);
        }
    }
    /* forward: each output is one window; those not flagged keep the plain run's bits */
    if (!backward) {
        const float *a = y1[0]->data, *b = y_plain[0]->data;
        for (int64_t i = 0; i < lc_tensor_numel(y1[0]); i++)
            if (i % 256 != 3 && i % 256 != 40) assert_memory_equal(&a[i], &b[i], sizeof a[i]);
    }
    jit_free_tensors(want, nout);
    jit_free_tensors(y1, nout);
    jit_free_tensors(y_plain, nout);
    jit_free_tensors(flagged, nin);
    jit_free_tensors(plain, nin);
    lc_program_free(p1);
    lc_graph_free(g);
    lc_compile_cache_clear();
}

static void lp_forward(void **state) { (void)state; check_graph(true, false); }
static void lp_forward_backward(void **state) { (void)state; check_graph(true, true); }
static void avg_forward(void **state) { (void)state; check_graph(false, false); }
static void avg_forward_backward(void **state) { (void)state; check_graph(false, true); }

/* ---- runs that flag at once ---- */

#define RUNNERS 4
static lc_program *g_program;
static lc_tensor **g_in;
static lc_tensor *g_out[RUNNERS];
static atomic_int g_ready, g_failures;

static void *runner(void *arg) {
    int i = (int)(intptr_t)arg;
    atomic_fetch_add(&g_ready, 1);
    while (atomic_load(&g_ready) < RUNNERS) {
    }
    lc_tensor *y[1] = {NULL};
    if (lc_program_run(g_program, (const lc_tensor *const *)g_in, 1, y, 1) != LC_OK) atomic_fetch_add(&g_failures, 1);
    g_out[i] = y[0];
    return NULL;
}

static void concurrent_runs_compile_once(void **state) {
    (void)state;
    lc_compile_cache_clear();
    lc_graph *g = graph_of(true, false);
    test_rng r = test_rng_seeded(11);
    g_in = jit_random_inputs(g, &r, 1.0);
    flag_some_windows(g_in[0]);
    g_program = compile_threads(g, 2);
    int before = lc_codegen_fixup_count();
    atomic_store(&g_ready, 0);
    atomic_store(&g_failures, 0);
    pthread_t t[RUNNERS];
    for (int i = 0; i < RUNNERS; i++) assert_int_equal(pthread_create(&t[i], NULL, runner, (void *)(intptr_t)i), 0);
    for (int i = 0; i < RUNNERS; i++) pthread_join(t[i], NULL);
    assert_int_equal(atomic_load(&g_failures), 0);
    assert_int_equal(lc_codegen_fixup_count() - before, 1); /* one kernel, one compile */
    for (int i = 1; i < RUNNERS; i++) assert_true(jit_bits_equal(g_out[i], g_out[0]));
    for (int i = 0; i < RUNNERS; i++) lc_tensor_free(g_out[i]);
    jit_free_tensors(g_in, 1);
    lc_program_free(g_program);
    lc_graph_free(g);
    lc_compile_cache_clear();
}

/* ---- a fix-up compile without room ---- */

/* The process's address space in bytes (from /proc/self/statm), or -1. */
static long long address_space_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long long pages = -1;
    if (!f) return -1;
    if (fscanf(f, "%lld", &pages) != 1) pages = -1;
    fclose(f);
    return pages < 0 ? -1 : pages * sysconf(_SC_PAGESIZE);
}

/* In a child (the limit is the process's): the run that needs the fix-up under an address-space
 * limit that leaves codegen less than its headroom fails with a status and a message, and
 * after the limit is lifted the same program's run compiles it and succeeds. Exit 0 when so. */
static int child_without_room(void) {
    lc_graph *g = graph_of(true, false);
    test_rng r = test_rng_seeded(13);
    lc_tensor **in = jit_random_inputs(g, &r, 1.0);
    flag_some_windows(in[0]);
    lc_program *p = compile_threads(g, 1);
    const lc_node *out = lc_graph_node(g, lc_graph_output(g, 0));
    lc_tensor *y[1] = {NULL};
    if (lc_tensor_new(out->dtype, out->shape, &y[0]) != LC_OK) return 9;
    struct rlimit old;
    if (getrlimit(RLIMIT_AS, &old) != 0) return 10;
    long long now = address_space_bytes();
    if (now < 0) return 11;
    struct rlimit tight = {(rlim_t)(now + (8 << 20)), old.rlim_max};
    if (setrlimit(RLIMIT_AS, &tight) != 0) return 12;
    lc_status st = lc_program_run_into(p, (const lc_tensor *const *)in, 1, y, 1);
    char message[512];
    snprintf(message, sizeof message, "%s", lc_last_error());
    if (setrlimit(RLIMIT_AS, &old) != 0) return 13;
    if (st == LC_OK) return 14;
    if (!strstr(message, "fix-up")) {
        fprintf(stderr, "message: %s\n", message);
        return 15;
    }
    if (lc_program_run_into(p, (const lc_tensor *const *)in, 1, y, 1) != LC_OK) return 16;
    lc_tensor_free(y[0]);
    jit_free_tensors(in, 1);
    lc_program_free(p);
    lc_graph_free(g);
    return 0;
}

static void failed_fixup_compile_is_an_error(void **state) {
    (void)state;
    if (!ADDRESS_LIMIT_WORKS) skip();
    lc_compile_cache_clear();
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) _exit(child_without_room());
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lp_forward),
        cmocka_unit_test(lp_forward_backward),
        cmocka_unit_test(avg_forward),
        cmocka_unit_test(avg_forward_backward),
        cmocka_unit_test(concurrent_runs_compile_once),
        cmocka_unit_test(failed_fixup_compile_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
