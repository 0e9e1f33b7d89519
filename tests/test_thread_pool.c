/* The thread pool on its own (src/runtime/pool.c): every element of a job is run exactly
 * once, in parts that start where the grain says, whether the workers are spinning for the
 * next job, asleep, being replaced, or busy with another caller's job; and a job of several
 * parts really runs on several threads; and a forked child, which has none of its parent's
 * workers, gets workers of its own. scripts/test.sh also runs this under ThreadSanitizer,
 * where a race between a spinning worker and the thread posting a job fails it. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "jit_harness.h"
#include "support/fork_tested.h"
#include "runtime/pool.h"

#define MAX_N 200000

/* One job's record: how often each element ran, and which threads ran parts. */
typedef struct job {
    unsigned char *count;
    int64_t grain; /* lcm(grain, 64): where inner part boundaries must fall */
    atomic_int bad_begin;
    atomic_int parts;
    pthread_t threads[8];
    atomic_int n_threads;
} job;

static void task(void *ctx, int64_t begin, int64_t end) {
    job *j = ctx;
    if (begin != 0 && begin % j->grain != 0) atomic_fetch_add(&j->bad_begin, 1);
    for (int64_t i = begin; i < end; i++) j->count[i]++; /* parts are disjoint: no atomics */
    atomic_fetch_add(&j->parts, 1);
    int k = atomic_fetch_add(&j->n_threads, 1);
    if (k < 8) j->threads[k] = pthread_self();
}

static int64_t lcm64(int64_t grain) {
    int64_t a = grain < 1 ? 1 : grain, b = 64, g = a, h = b;
    while (h != 0) {
        int64_t r = g % h;
        g = h;
        h = r;
    }
    return a / g * b;
}

/* Runs one job and checks it; returns how many distinct threads ran its parts. */
static int run_and_check(unsigned char *count, int64_t n, int64_t grain, int max_threads) {
    job j = {.count = count, .grain = lcm64(grain)};
    memset(count, 0, (size_t)n);
    lc_pool_parallel_for(n, grain, max_threads, task, &j);
    for (int64_t i = 0; i < n; i++)
        if (count[i] != 1) fail_msg("n %lld grain %lld: element %lld ran %d times", (long long)n,
                                    (long long)grain, (long long)i, count[i]);
    assert_int_equal(atomic_load(&j.bad_begin), 0);
    int parts = atomic_load(&j.parts);
    assert_true(parts >= 1 && parts <= (max_threads > 0 ? max_threads : 1));
    int distinct = 0;
    for (int a = 0; a < parts && a < 8; a++) {
        bool seen = false;
        for (int b = 0; b < a; b++) seen |= pthread_equal(j.threads[a], j.threads[b]) != 0;
        distinct += !seen;
    }
    return distinct;
}

static void pause_us(long us) {
    struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* Back to back, and with gaps shorter and longer than the workers' spin, so that jobs find
 * them spinning, going to sleep and asleep. */
static void every_element_once(void **state) {
    (void)state;
    assert_int_equal(lc_pool_set_threads(3), LC_OK);
    unsigned char *count = malloc(MAX_N);
    static const int64_t sizes[] = {1, 63, 64, 65, 200, 4096, 100000, MAX_N};
    static const int64_t grains[] = {1, 4, 48, 1024};
    static const long gaps_us[] = {0, 0, 20, 90, 150, 2000};
    int multi = 0;
    for (int round = 0; round < 6; round++)
        for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
            for (size_t g = 0; g < sizeof grains / sizeof *grains; g++)
                for (int t = 1; t <= 4; t++) {
                    multi += run_and_check(count, sizes[s], grains[g], t) > 1;
                    pause_us(gaps_us[(round + s + g) % 6]);
                }
    free(count);
    assert_true(multi > 0); /* the workers took parts, not only the caller */
}

/* A job with as many parts as threads runs on that many threads, after the workers have had
 * time to fall asleep and right after another job (while they spin). */
static void parts_run_on_workers(void **state) {
    (void)state;
    assert_int_equal(lc_pool_set_threads(2), LC_OK);
    unsigned char *count = malloc(MAX_N);
    int asleep = 0, spinning = 0;
    for (int i = 0; i < 20; i++) {
        pause_us(5000);
        asleep += run_and_check(count, MAX_N, 64, 2) == 2;
        spinning += run_and_check(count, MAX_N, 64, 2) == 2;
    }
    free(count);
    /* a part of a job is taken by a worker unless another caller holds the pool, which no
     * other thread does here */
    assert_int_equal(asleep, 20);
    assert_int_equal(spinning, 20);
}

typedef struct caller_arg {
    int jobs;
    atomic_int *failures;
    bool resize; /* also change the pool's size between jobs */
} caller_arg;

static void *caller(void *p) {
    caller_arg *a = p;
    unsigned char *count = malloc(MAX_N);
    for (int i = 0; i < a->jobs; i++) {
        int64_t n = 1000 + (int64_t)(i * 7919) % (MAX_N - 1000);
        job j = {.count = count, .grain = 64};
        memset(count, 0, (size_t)n);
        lc_pool_parallel_for(n, 16, 4, task, &j);
        for (int64_t k = 0; k < n; k++)
            if (count[k] != 1) {
                atomic_fetch_add(a->failures, 1);
                break;
            }
        if (a->resize && i % 5 == 4 && lc_pool_set_threads(1 + i % 4) != LC_OK) atomic_fetch_add(a->failures, 1);
        if (i % 3 == 2) pause_us(150); /* past the spin: the next job wakes sleepers */
    }
    free(count);
    return NULL;
}

/* Callers on several threads at once (one gets the pool, the others run their jobs
 * themselves), one of them resizing the pool between its jobs. */
static void callers_at_once(void **state) {
    (void)state;
    atomic_int failures = 0;
    caller_arg args[4] = {{300, &failures, false}, {300, &failures, false}, {300, &failures, false},
                          {120, &failures, true}};
    pthread_t t[4];
    for (int i = 0; i < 4; i++) assert_int_equal(pthread_create(&t[i], NULL, caller, &args[i]), 0);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    assert_int_equal(atomic_load(&failures), 0);
}

/* A child forked while another thread keeps posting jobs: fork waits for the job in flight,
 * and the child's own jobs run every element once on two threads of its own (with the
 * parent's workers taken for its own, the child's first job of two parts would wait forever;
 * an alarm fails it). */
static atomic_bool g_stop_posting;

static void *keep_posting(void *p) {
    unsigned char *count = p;
    while (!atomic_load(&g_stop_posting)) {
        job j = {.count = count, .grain = 64};
        lc_pool_parallel_for(MAX_N, 64, 2, task, &j);
    }
    return NULL;
}

static void fork_gets_its_own_workers(void **state) {
    (void)state;
    if (!FORK_TESTED) skip();
    assert_int_equal(lc_pool_set_threads(2), LC_OK);
    unsigned char *count = malloc(MAX_N), *busy = malloc(MAX_N);
    assert_int_equal(run_and_check(count, MAX_N, 64, 2), 2);
    atomic_store(&g_stop_posting, false);
    pthread_t poster;
    assert_int_equal(pthread_create(&poster, NULL, keep_posting, busy), 0);
    for (int round = 0; round < 5; round++) {
        pause_us(1000);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            alarm(30);
            int code = lc_pool_threads() == 2 ? 0 : 2;
            for (int i = 0; i < 10 && code == 0; i++) {
                job j = {.count = count, .grain = 64};
                memset(count, 0, MAX_N);
                lc_pool_parallel_for(MAX_N, 64, 2, task, &j);
                for (int64_t k = 0; k < MAX_N; k++)
                    if (count[k] != 1) code = 3;
                /* the poster's thread did not follow: every part ran in this process */
                if (atomic_load(&j.parts) != 2) code = 4;
            }
            _exit(code);
        }
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (!WIFEXITED(status)) fail_msg("the child ended by signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : -1);
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    atomic_store(&g_stop_posting, true);
    pthread_join(poster, NULL);
    free(count);
    free(busy);
}

/* A child forked right after the workers were (re)started allocates memory. A new thread
 * spends its first moments in the allocator (its thread-local blocks; under
 * AddressSanitizer, whose allocator has no fork handler in GCC 12, its own caches), and a
 * fork at that moment gives a child whose allocator lock nobody will ever release. Lucid's
 * LLVM target probe forks like this on a first compile, and hung for 30 s once under
 * AddressSanitizer. The pool's fork handler waits for every worker to have started; an
 * alarm fails a child that hangs. */
static void fork_right_after_start(void **state) {
    (void)state;
    if (!FORK_TESTED) skip();
    for (int round = 0; round < 200; round++) {
        assert_int_equal(lc_pool_set_threads(2 + round % 3), LC_OK);
        pause_us(round * 37 % 500); /* forks at different moments of the workers' start */
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            alarm(30);
            for (size_t size = 16; size <= (size_t)1 << 20; size *= 2) free(malloc(size));
            _exit(0);
        }
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (!WIFEXITED(status))
            fail_msg("round %d: the child ended by signal %d (SIGALRM: it hung in malloc)", round,
                     WIFSIGNALED(status) ? WTERMSIG(status) : -1);
        assert_int_equal(WEXITSTATUS(status), 0);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_element_once),
        cmocka_unit_test(parts_run_on_workers),
        cmocka_unit_test(callers_at_once),
        cmocka_unit_test(fork_gets_its_own_workers),
        cmocka_unit_test(fork_right_after_start),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
