/* Environment read once per process (docs/environment.md), so this program sets it
 * before its first compile: LUCID_CPU / LUCID_CPU_FEATURES give reproducible code for a
 * named target, and an invalid LUCID_NUM_THREADS is reported once on stderr and the default
 * (every core) used. LUCID_DUMP and LUCID_DUMP_DIR write the compiled stages. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jit_harness.h"

static void invalid_thread_count_reported(void **state) {
    (void)state;
    /* capture stderr while the pool starts */
    test_stderr_begin();
    int threads = lc_runtime_threads();
    char *text = test_stderr_end();
    assert_non_null(strstr(text, "LUCID_NUM_THREADS must be an integer between 1 and 1024, got \"two\""));
    assert_int_equal((int)(strchr(text, '\n') - text) + 1, (int)strlen(text)); /* one line */
    assert_int_equal(threads, (int)sysconf(_SC_NPROCESSORS_ONLN));
    free(text);
}

/* A generic x86-64 target without AVX: code still right, and no ymm/zmm register in it. */
static void named_cpu(void **state) {
    (void)state;
    lc_module *m = test_lppool(2.5, 4, 3, true);
    lc_graph *g = jit_module_graph(m, LC_F32, test_shape3(2, 3, 301), true);
    jit_check_graph(g, 1, 2.0);
    char *buf = jit_dump_text(g, "asm");
#if defined(__x86_64__)
    assert_null(strstr(buf, "%ymm"));
    assert_null(strstr(buf, "%zmm"));
    assert_non_null(strstr(buf, "%xmm"));
#endif
    free(buf);
    lc_graph_free(g);
    lc_module_free(m);
}

static void dump_env(void **state) {
    (void)state;
    char dir[] = "/tmp/lucid-dump-XXXXXX";
    assert_non_null(mkdtemp(dir));
    setenv("LUCID_DUMP", "fuse,time", 1);
    setenv("LUCID_DUMP_DIR", dir, 1);
    lc_module *m = test_avgpool(2, 2, 0, false, true);
    lc_graph *g = jit_module_graph(m, LC_F64, test_shape3(1, 1, 8), false);
    lc_program *p;
    assert_ok(lc_compile(g, NULL, &p));
    lc_program_free(p);
    unsetenv("LUCID_DUMP");
    unsetenv("LUCID_DUMP_DIR");
    char path[256];
    snprintf(path, sizeof path, "%s/fuse.txt", dir);
    char *text = test_read_file(path);
    assert_non_null(text);
    assert_non_null(strstr(text, ";; fused: 1 kernel"));
    free(text);
    unlink(path);
    snprintf(path, sizeof path, "%s/time.txt", dir);
    text = test_read_file(path);
    assert_non_null(text);
    assert_non_null(strstr(text, "total "));
    free(text);
    unlink(path);
    rmdir(dir);
    lc_graph_free(g);
    lc_module_free(m);
}

int main(void) {
    setenv("LUCID_NUM_THREADS", "two", 1);
#if defined(__x86_64__)
    setenv("LUCID_CPU", "x86-64", 1);
    setenv("LUCID_CPU_FEATURES", "+sse2,-avx,-avx2,-avx512f", 1);
#endif
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(invalid_thread_count_reported),
        cmocka_unit_test(named_cpu),
        cmocka_unit_test(dump_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
