/* Tiers (docs/pipeline.md, "Tiers"; src/runtime/tier.c): a small program compiles quick
 * first and moves to its optimized code after its second run. Checked here: which programs
 * start quick (small ones, when tiered; never when not tiered, dumped or large); the quick
 * code's values are the optimized code's bit for bit (but for a NaN's sign), on ordinary inputs and on inputs whose
 * windows take the fix-up forms (inf, NaN, huge and tiny values), forward and backward, f32
 * and f64; the second run starts the optimized compile, after which runs use it (waited for
 * without a clock: lc_program_optimize returns when it is in); lc_program_optimize compiles
 * a program nothing has started; a program freed while its background compile runs (the
 * sanitizer builds watch the memory and the threads); runs from several threads while the
 * tiers change under them; a child forked during the background compile, which fork
 * waits for; and an exit during one, which waits for it before any handler registered
 * after it started. */
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jit_harness.h"
#include "support/fork_tested.h"
#include "lucid/model_spec.h"
#include "lucid/passes.h"

static lc_program *compile_tiered(const lc_graph *g, bool tiered) {
    lc_compile_options o = lc_compile_options_default();
    o.tiered = tiered;
    lc_program *p = NULL;
    assert_ok(lc_compile(g, &o, &p));
    return p;
}

static lc_tensor **run(const lc_program *p, lc_tensor **in, int nin, int nout) {
    lc_tensor **out = calloc((size_t)nout, sizeof *out);
    assert_ok(lc_program_run(p, (const lc_tensor *const *)in, nin, out, nout));
    return out;
}

/* Inputs with 2 % of their elements replaced by values the plain forms flag (3e38, 1e-30,
 * subnormals, ±inf, NaN, ±0), so the fix-up forms run in both tiers. */
static void sprinkle_specials(lc_tensor **in, int n, test_rng *r) {
    static const double specials[] = {3e38, -3e38, 1e-30, 1e-40, INFINITY, -INFINITY, NAN, 0.0, -0.0};
    for (int i = 0; i < n; i++)
        for (int64_t e = 0; e < lc_tensor_numel(in[i]); e++)
            if (test_rng_uniform(r, 0, 1) < 0.02)
                lc_tensor_set(in[i], e, specials[(int)test_rng_uniform(r, 0, 9)]);
}

/* The model given by `spec` (one module call per line) on `shape`, forward or with its
 * backward. */
static lc_graph *graph_of(const char *spec, lc_dtype dt, lc_shape shape, bool backward) {
    lc_module *m = NULL;
    assert_ok(lc_model_parse(spec, "test", &m));
    lc_graph *g = jit_module_graph(m, dt, shape, backward);
    lc_module_free(m);
    lc_graph *opt = NULL;
    assert_ok(lc_pipeline_run_default(g, false, NULL, &opt));
    lc_graph_free(g);
    return opt;
}

static void ignore_dump(void *ctx, const char *stage, const char *text) {
    (void)ctx, (void)stage, (void)text;
}

static void test_which_programs_start_quick(void **state) {
    (void)state;
    lc_graph *small = graph_of("LPPool1d(2, 4)", LC_F32, test_shape3(2, 3, 64), false);
    lc_program *p = compile_tiered(small, true);
    assert_false(lc_program_optimized(p));
    lc_program_free(p);
    lc_compile_cache_clear();
    p = compile_tiered(small, false);
    assert_true(lc_program_optimized(p));
    lc_program_free(p);
    /* a dumped stage shows the code the program settles on: compiled optimized */
    lc_compile_options o = lc_compile_options_default();
    o.dump = "asm";
    o.dump_fn = ignore_dump;
    assert_ok(lc_compile(small, &o, &p));
    assert_true(lc_program_optimized(p));
    lc_program_free(p);
    /* a run of about 2^28 loads (16, 64, 2^18 of AvgPool1d(4)'s backward) is too long to run
     * quick; compiling it allocates nothing of that size */
    lc_graph *large = graph_of("AvgPool1d(4)", LC_F32, test_shape3(16, 64, 1 << 18), true);
    p = compile_tiered(large, true);
    assert_true(lc_program_optimized(p));
    lc_program_free(p);
    lc_graph_free(large);
    /* a window-major backward takes each window's sum once per block: LPPool1d(2, 64)'s at
     * (8, 64, 4096) loads about 10M (counted per position, its 64-term sums made it 142M) */
    lc_graph *shared = graph_of("LPPool1d(2, 64)", LC_F32, test_shape3(8, 64, 4096), true);
    p = compile_tiered(shared, true);
    assert_false(lc_program_optimized(p));
    lc_program_free(p);
    lc_graph_free(shared);
    lc_graph_free(small);
    lc_compile_cache_clear();
}

/* The first element whose bytes differ, or -1. Two NaNs count as the same: the code
 * generators may order a commutative operation's operands differently, and x86 returns the
 * first operand's NaN, so a NaN's sign may differ between the tiers (seen: the LP backward's
 * gradient of a NaN window). */
static int64_t first_difference(const lc_tensor *a, const lc_tensor *b) {
    size_t size = a->dtype == LC_F64 ? 8 : 4;
    for (int64_t e = 0; e < lc_tensor_numel(a); e++)
        if (memcmp((const char *)a->data + e * size, (const char *)b->data + e * size, size) &&
            !(isnan(lc_tensor_get(a, e)) && isnan(lc_tensor_get(b, e))))
            return e;
    return -1;
}

static bool same_values(const lc_tensor *a, const lc_tensor *b) {
    return lc_shape_equal(&a->shape, &b->shape) && a->dtype == b->dtype && first_difference(a, b) < 0;
}

/* Quick and optimized code of `spec` give the same bytes, before and after the quick
 * program's own tier-up. */
static void check_tiers_agree(const char *spec, lc_dtype dt, lc_shape shape, bool backward, bool specials) {
    lc_graph *g = graph_of(spec, dt, shape, backward);
    int nin = lc_graph_input_count(g), nout = lc_graph_output_count(g);
    test_rng r = test_rng_seeded(7);
    lc_tensor **in = jit_random_inputs(g, &r, 3.0);
    if (specials) sprinkle_specials(in, nin, &r);
    lc_compile_cache_clear();
    lc_program *quick = compile_tiered(g, true);
    assert_false(lc_program_optimized(quick));
    lc_tensor **got = run(quick, in, nin, nout);
    lc_compile_cache_clear();
    lc_program *full = compile_tiered(g, false);
    lc_tensor **want = run(full, in, nin, nout);
    for (int j = 0; j < nout; j++) {
        int64_t at = first_difference(got[j], want[j]);
        if (at >= 0)
            fail_msg("%s (%s, backward %d, specials %d): output %d differs between the tiers at "
                     "element %lld: %.9g (quick) against %.9g", spec, dt == LC_F64 ? "f64" : "f32",
                     backward, specials, j, (long long)at, lc_tensor_get(got[j], at),
                     lc_tensor_get(want[j], at));
    }
    assert_ok(lc_program_optimize(quick));
    assert_true(lc_program_optimized(quick));
    lc_tensor **after = run(quick, in, nin, nout);
    for (int j = 0; j < nout; j++) assert_true(same_values(after[j], want[j]));
    jit_free_tensors(got, nout);
    jit_free_tensors(want, nout);
    jit_free_tensors(after, nout);
    jit_free_tensors(in, nin);
    lc_program_free(quick);
    lc_program_free(full);
    lc_graph_free(g);
    lc_compile_cache_clear();
}

static void test_tiers_give_the_same_bits(void **state) {
    (void)state;
    static const char *const specs[] = {
        "AvgPool1d(4)", "AvgPool1d(3, 1, 1)", "LPPool1d(2, 4)", "LPPool1d(3, 4)",
        "LPPool1d(2.5, 4)", "LPPool1d(2.7, 4)", "LPPool1d(2.7, 4, 2)", "MaxPool1d(3, 2, 1)",
        "AvgPool1d(3, 1, 1)\nLPPool1d(2, 4)", "Conv1d(3, 4, 4, stride=4)\nLPPool1d(2, 4)",
    };
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
        for (int backward = 0; backward <= 1; backward++)
            for (int specials = 0; specials <= 1; specials++)
                check_tiers_agree(specs[i], LC_F32, test_shape3(2, 3, 1037), backward, specials);
    int64_t d2[4] = {2, 3, 37, 70};
    static const char *const specs2d[] = {"AvgPool2d(2)", "LPPool2d(2, 2)", "MaxPool2d(3, 2, 1)"};
    for (size_t i = 0; i < 3; i++)
        for (int backward = 0; backward <= 1; backward++)
            check_tiers_agree(specs2d[i], LC_F32, lc_shape_make(4, d2), backward, true);
    check_tiers_agree("LPPool1d(2.7, 4)", LC_F64, test_shape3(2, 2, 515), true, true);
    check_tiers_agree("AvgPool1d(3, 1, 1)\nLPPool1d(3, 4)", LC_F64, test_shape3(2, 2, 515), true, true);
}

/* The second run starts the optimized compile in the background; the runs go on meanwhile
 * and give the same values, and once it is in (lc_program_optimize waits for it) every run
 * takes it. */
static void test_second_run_tiers_up(void **state) {
    (void)state;
    lc_graph *g = graph_of("LPPool1d(3, 4)", LC_F32, test_shape3(4, 8, 4096), true);
    int nin = lc_graph_input_count(g), nout = lc_graph_output_count(g);
    test_rng r = test_rng_seeded(3);
    lc_tensor **in = jit_random_inputs(g, &r, 2.0);
    lc_compile_cache_clear();
    lc_program *p = compile_tiered(g, true);
    lc_tensor **first = run(p, in, nin, nout);
    assert_false(lc_program_optimized(p)); /* one run: nothing started */
    for (int i = 0; i < 5; i++) {
        lc_tensor **again = run(p, in, nin, nout);
        for (int j = 0; j < nout; j++) assert_true(same_values(again[j], first[j]));
        jit_free_tensors(again, nout);
    }
    assert_ok(lc_program_optimize(p)); /* waits for the background compile */
    assert_true(lc_program_optimized(p));
    lc_tensor **last = run(p, in, nin, nout);
    for (int j = 0; j < nout; j++) assert_true(same_values(last[j], first[j]));
    jit_free_tensors(last, nout);
    jit_free_tensors(first, nout);
    jit_free_tensors(in, nin);
    lc_program_free(p);
    lc_graph_free(g);
    lc_compile_cache_clear();
}

/* Freed (program and cache entry) right after the run that starts the background compile:
 * the compile keeps the code alive until it ends and then frees it. A later compile of the
 * same graph is a new one and works. */
static void test_free_during_background_compile(void **state) {
    (void)state;
    lc_graph *g = graph_of("LPPool1d(2.5, 4)", LC_F32, test_shape3(2, 4, 2048), true);
    int nin = lc_graph_input_count(g), nout = lc_graph_output_count(g);
    test_rng r = test_rng_seeded(5);
    lc_tensor **in = jit_random_inputs(g, &r, 2.0);
    for (int round = 0; round < 3; round++) {
        lc_compile_cache_clear();
        lc_program *p = compile_tiered(g, true);
        jit_free_tensors(run(p, in, nin, nout), nout);
        jit_free_tensors(run(p, in, nin, nout), nout); /* starts it */
        lc_program_free(p);
        lc_compile_cache_clear();
    }
    lc_program *p = compile_tiered(g, true);
    jit_free_tensors(run(p, in, nin, nout), nout);
    lc_program_free(p);
    jit_free_tensors(in, nin);
    lc_graph_free(g);
    lc_compile_cache_clear();
}

/* Runs from four threads at once over one quick program, each many times, while its
 * background compile lands: every run's values are the first run's. */
typedef struct runner {
    const lc_program *p;
    lc_tensor **in, **want;
    int nin, nout;
    bool ok;
} runner;

static void *run_many(void *arg) {
    runner *w = arg;
    w->ok = true;
    for (int i = 0; i < 40 && w->ok; i++) {
        lc_tensor *out[4] = {0};
        if (lc_program_run(w->p, (const lc_tensor *const *)w->in, w->nin, out, w->nout) != LC_OK) {
            w->ok = false;
            break;
        }
        for (int j = 0; j < w->nout; j++) {
            w->ok = w->ok && same_values(out[j], w->want[j]);
            lc_tensor_free(out[j]);
        }
    }
    return NULL;
}

static void test_runs_from_threads_across_the_change(void **state) {
    (void)state;
    lc_graph *g = graph_of("AvgPool1d(3, 1, 1)\nLPPool1d(2, 4)", LC_F32, test_shape3(2, 8, 4096), true);
    int nin = lc_graph_input_count(g), nout = lc_graph_output_count(g);
    test_rng r = test_rng_seeded(11);
    lc_tensor **in = jit_random_inputs(g, &r, 2.0);
    lc_compile_cache_clear();
    lc_program *p = compile_tiered(g, true);
    lc_tensor **want = run(p, in, nin, nout);
    runner w[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (runner){.p = p, .in = in, .want = want, .nin = nin, .nout = nout};
        assert_int_equal(pthread_create(&t[i], NULL, run_many, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_true(w[i].ok);
    }
    assert_ok(lc_program_optimize(p));
    assert_true(lc_program_optimized(p));
    jit_free_tensors(want, nout);
    jit_free_tensors(in, nin);
    lc_program_free(p);
    lc_graph_free(g);
    lc_compile_cache_clear();
}

/* A forked child leaves LLVM as it is at exit (the JIT does not tear it down there, since a
 * parent's thread outside the library may have been inside it), and this test's child exits
 * without freeing what it made: LeakSanitizer (the ASan build) would call all of it leaked,
 * so a child of this test turns it off (LeakSanitizer asks this function at exit). */
static volatile int g_forked_child;
int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void) { return g_forked_child; }

/* fork(), the child marked as such and failed by an alarm if it would hang. */
static pid_t fork_child(void) {
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        g_forked_child = 1;
        alarm(60);
    }
    return pid;
}

/* The child `pid` ended by exit(0). */
static void expect_child_success(pid_t pid) {
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status)) fail_msg("the child ended by signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : -1);
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* fork() during the background compile waits for it: the child inherits the optimized code
 * and no lock held mid-compile, so it runs the program (on workers of its own) to the same
 * bits and compiles a program of its own. Before fork waited, such a child hung in its first
 * allocation under ASan or its first compile; before it also waited for the compile's thread
 * to exit (joined it), it hung now and then in an ASan allocator lock that thread's exit held
 * (2 runs in 36 under load). An alarm fails a child that would hang. */
static void test_fork_during_background_compile(void **state) {
    (void)state;
    if (!FORK_TESTED) skip();
    lc_graph *g = graph_of("LPPool1d(2.7, 4)", LC_F32, test_shape3(2, 8, 4096), true);
    lc_graph *other = graph_of("AvgPool1d(3, 2)", LC_F64, test_shape3(1, 4, 300), false);
    int nin = lc_graph_input_count(g), nout = lc_graph_output_count(g);
    test_rng r = test_rng_seeded(13);
    lc_tensor **in = jit_random_inputs(g, &r, 2.0);
    lc_tensor **other_in = jit_random_inputs(other, &r, 2.0);
    lc_compile_cache_clear();
    lc_program *p = compile_tiered(g, true);
    lc_tensor **want = run(p, in, nin, nout);
    jit_free_tensors(run(p, in, nin, nout), nout); /* starts the background compile */
    pid_t pid = fork_child();
    if (pid == 0) {
        int code = lc_program_optimized(p) ? 0 : 2;
        lc_tensor **got = code == 0 ? run(p, in, nin, nout) : NULL;
        for (int i = 0; got && i < nout; i++)
            if (!same_values(got[i], want[i])) code = 3;
        lc_program *q = NULL;
        if (code == 0 && lc_compile(other, NULL, &q) != LC_OK) code = 4;
        lc_tensor *q_out = NULL;
        if (code == 0 && lc_program_run(q, (const lc_tensor *const *)other_in, 1, &q_out, 1) != LC_OK) code = 5;
        exit(code); /* atexit handlers run, with nothing left to wait for */
    }
    expect_child_success(pid);
    assert_true(lc_program_optimized(p)); /* the fork waited for it */
    jit_free_tensors(want, nout);
    jit_free_tensors(in, nin);
    jit_free_tensors(other_in, 1);
    lc_program_free(p);
    lc_graph_free(g);
    lc_graph_free(other);
    lc_compile_cache_clear();
}

/* exit() waits for a background compile before any atexit handler registered after the
 * compile started, as the destructors of the statics LLVM builds inside that compile are:
 * a child starts one, registers a handler that stands for such a destructor, and exits at
 * once; the handler must find the compile done. Waiting in an atexit handler registered at
 * the first background compile, as the tiers did before, ran this handler first (child exit
 * code 7), and in test_train a destructor freed a table under the running compile (a crash at
 * exit, 1 run in 45-500). */
static lc_program *g_exit_program;

static void check_compile_done_at_exit(void) {
    if (!lc_program_optimized(g_exit_program)) _exit(7);
}

static void test_exit_waits_before_later_atexit_handlers(void **state) {
    (void)state;
    if (!FORK_TESTED) skip();
    lc_graph *g = graph_of("LPPool1d(2.7, 4)", LC_F32, test_shape3(2, 8, 4096), true);
    int nin = lc_graph_input_count(g), nout = lc_graph_output_count(g);
    test_rng r = test_rng_seeded(17);
    lc_tensor **in = jit_random_inputs(g, &r, 2.0);
    lc_compile_cache_clear();
    pid_t pid = fork_child();
    if (pid == 0) {
        g_exit_program = compile_tiered(g, true);
        if (lc_program_optimized(g_exit_program)) _exit(2); /* not the quick tier: nothing tested */
        for (int i = 0; i < 2; i++) jit_free_tensors(run(g_exit_program, in, nin, nout), nout);
        if (atexit(check_compile_done_at_exit) != 0) _exit(3);
        exit(0);
    }
    expect_child_success(pid);
    jit_free_tensors(in, nin);
    lc_graph_free(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_which_programs_start_quick),
        cmocka_unit_test(test_tiers_give_the_same_bits),
        cmocka_unit_test(test_second_run_tiers_up),
        cmocka_unit_test(test_free_during_background_compile),
        cmocka_unit_test(test_runs_from_threads_across_the_change),
        cmocka_unit_test(test_fork_during_background_compile),
        cmocka_unit_test(test_exit_waits_before_later_atexit_handlers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
