/* Everything that may happen at once in a process that embeds Lucid, at once: one compiled
 * program run from 8 threads while other threads compile (hitting and missing the in-memory
 * and disk caches; the overlapping-window backwards are two kernels, compiled on two threads of
 * their own), clear the in-memory cache and change the pool's thread count. Every
 * result must be bit-identical to a single-threaded run of the same program (docs/pipeline.md: no
 * reduction is split between threads, so the thread count never changes a bit).
 *
 * In the normal suite this checks results; scripts/test.sh also builds it with clang
 * -fsanitize=thread (LUCID_SANITIZE_THREAD) and runs it there, where any data race in
 * Lucid's code fails it (the one that was found: lc_runtime_set_threads restarting workers
 * while a run read the thread count). */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "jit_harness.h"

#define RUNNERS 8
#define RUNS_PER_RUNNER 12
#define MIN_COMPILES 6 /* runners keep going until the compiler thread has done this many */

static lc_graph *g_graph;
static lc_program *g_program;
static lc_tensor **g_inputs;
static lc_tensor **g_want; /* the single-threaded result */
static int g_nin, g_nout;
static atomic_int g_runners_left;
static atomic_int g_mismatches, g_failures, g_compiles;

static void *runner(void *arg) {
    (void)arg;
    for (int i = 0; i < RUNS_PER_RUNNER || atomic_load(&g_compiles) < MIN_COMPILES; i++) {
        lc_tensor **got = calloc((size_t)g_nout, sizeof *got);
        if (lc_program_run(g_program, (const lc_tensor *const *)g_inputs, g_nin, got, g_nout) != LC_OK) {
            atomic_fetch_add(&g_failures, 1);
        } else {
            for (int k = 0; k < g_nout; k++)
                if (!jit_bits_equal(got[k], g_want[k])) atomic_fetch_add(&g_mismatches, 1);
        }
        jit_free_tensors(got, g_nout);
    }
    atomic_fetch_sub(&g_runners_left, 1);
    return NULL;
}

/* Compiles other pipelines (and this one's structure again: cache hits) and runs each once. */
static void *compiler(void *arg) {
    (void)arg;
    for (int i = 0; atomic_load(&g_runners_left) > 0; i++) {
        lc_module *m = test_lppool(1.0 + (i % 3), 2 + i % 4, 1 + i % 2, false);
        lc_graph *g = jit_module_graph(m, LC_F32, test_shape3(1, 2, 64 + 8 * (i % 3)), i % 2 == 1);
        lc_compile_options o = lc_compile_options_default();
        o.opt_level = 1;
        lc_program *p = NULL;
        if (lc_compile(g, &o, &p) != LC_OK) atomic_fetch_add(&g_failures, 1);
        lc_program *same = NULL;
        if (lc_compile(g_graph, NULL, &same) != LC_OK) atomic_fetch_add(&g_failures, 1);
        lc_program_free(same);
        if (p) {
            test_rng r = test_rng_seeded((uint64_t)i);
            lc_tensor **in = jit_random_inputs(g, &r, 2.0);
            int nout = lc_graph_output_count(g);
            lc_tensor **out = calloc((size_t)nout, sizeof *out);
            if (lc_program_run(p, (const lc_tensor *const *)in, lc_graph_input_count(g), out, nout) != LC_OK)
                atomic_fetch_add(&g_failures, 1);
            jit_free_tensors(out, nout);
            jit_free_tensors(in, lc_graph_input_count(g));
        }
        lc_program_free(p);
        lc_graph_free(g);
        lc_module_free(m);
        atomic_fetch_add(&g_compiles, 1);
    }
    return NULL;
}

static void *cache_clearer(void *arg) {
    (void)arg;
    while (atomic_load(&g_runners_left) > 0) {
        lc_compile_cache_clear();
        usleep(20000);
    }
    return NULL;
}

static void *thread_changer(void *arg) {
    (void)arg;
    for (int i = 0; atomic_load(&g_runners_left) > 0; i++) {
        if (lc_runtime_set_threads(1 + i % 4) != LC_OK) atomic_fetch_add(&g_failures, 1);
        (void)lc_runtime_threads();
        usleep(5000);
    }
    return NULL;
}

static void everything_at_once(void **state) {
    (void)state;
    char dir[] = "/tmp/lucid-concurrency-XXXXXX";
    assert_non_null(mkdtemp(dir));
    setenv("LUCID_CACHE_DIR", dir, 1);
    /* forward + backward, large enough (2*16*4096 outputs) for the pool to split it */
    lc_module *m = test_lppool(2.0, 4, 3, true);
    g_graph = jit_module_graph(m, LC_F32, test_shape3(2, 16, 4096), true);
    g_nin = lc_graph_input_count(g_graph);
    g_nout = lc_graph_output_count(g_graph);
    test_rng r = test_rng_seeded(11);
    g_inputs = jit_random_inputs(g_graph, &r, 3.0);
    lc_compile_options single = lc_compile_options_default();
    single.threads = 1;
    lc_program *p1;
    assert_ok(lc_compile(g_graph, &single, &p1));
    g_want = calloc((size_t)g_nout, sizeof *g_want);
    assert_ok(lc_program_run(p1, (const lc_tensor *const *)g_inputs, g_nin, g_want, g_nout));
    lc_program_free(p1);
    assert_ok(lc_compile(g_graph, NULL, &g_program));
    assert_ok(lc_runtime_set_threads(4));

    atomic_store(&g_runners_left, RUNNERS);
    pthread_t run[RUNNERS], others[3];
    for (int i = 0; i < RUNNERS; i++) assert_int_equal(pthread_create(&run[i], NULL, runner, NULL), 0);
    assert_int_equal(pthread_create(&others[0], NULL, compiler, NULL), 0);
    assert_int_equal(pthread_create(&others[1], NULL, cache_clearer, NULL), 0);
    assert_int_equal(pthread_create(&others[2], NULL, thread_changer, NULL), 0);
    for (int i = 0; i < RUNNERS; i++) pthread_join(run[i], NULL);
    for (int i = 0; i < 3; i++) pthread_join(others[i], NULL);

    assert_int_equal(atomic_load(&g_failures), 0);
    assert_int_equal(atomic_load(&g_mismatches), 0);
    lc_program_free(g_program);
    jit_free_tensors(g_want, g_nout);
    jit_free_tensors(g_inputs, g_nin);
    lc_graph_free(g_graph);
    lc_module_free(m);
    lc_compile_cache_clear();
    unsetenv("LUCID_CACHE_DIR");
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(everything_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
