/* LLVM's process-wide state (src/codegen/target.c): nothing but a compile initialises LLVM,
 * and an unusable LUCID_CPU is reported once in Lucid's words, with the host used instead
 * (the other bad values, each needing a fresh process, are in tests/cli/test_env.sh). */
#include <unistd.h>

#include "codegen/codegen.h"
#include "jit_harness.h"
#include "lucid/model_spec.h"
#include "lucid/passes.h"

/* Parsing, the passes, text and Graphviz dumps and the interpreter leave LLVM untouched. */
static void interpreter_path_leaves_llvm_alone(void **state) {
    (void)state;
    lc_module *m;
    assert_ok(lc_model_parse("LPPool1d(2, 3, 2)\nAvgPool1d(2, 1, 1)", "test", &m));
    lc_graph *g = jit_module_graph(m, LC_F64, test_shape3(2, 3, 40), true);
    lc_graph *opt;
    assert_ok(lc_pipeline_run_default(g, false, NULL, &opt));
    FILE *devnull = fopen("/dev/null", "w");
    assert_ok(lc_graph_print(opt, devnull));
    assert_ok(lc_graph_print_dot(opt, devnull));
    fclose(devnull);
    test_rng r = test_rng_seeded(7);
    lc_tensor **in = jit_random_inputs(opt, &r, 2.0);
    int nout = lc_graph_output_count(opt);
    lc_tensor **out = calloc((size_t)nout, sizeof *out);
    assert_ok(lc_interp_run(opt, (const lc_tensor *const *)in, lc_graph_input_count(opt), out, nout));
    jit_free_tensors(out, nout);
    jit_free_tensors(in, lc_graph_input_count(opt));
    assert_false(lc_codegen_llvm_initialized());
    lc_graph_free(opt);
    lc_graph_free(g);
    lc_module_free(m);
}

static char *read_all(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = calloc(1, 1 << 16);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

/* Two compiles, two different programs: one line on stderr, code for the host that agrees
 * with the interpreter. */
static void unknown_cpu_reported_once(void **state) {
    (void)state;
    char path[] = "/tmp/lucid-stderr-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    lc_module *a = test_lppool(2.0, 3, 2, false), *b = test_avgpool(4, 1, 2, true, false);
    jit_check_module(a, LC_F32, test_shape3(2, 3, 700), 3, NULL, NULL);
    jit_check_module(b, LC_F64, test_shape3(1, 2, 300), 4, NULL, NULL);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(fd);
    char *text = read_all(path);
    unlink(path);
    assert_non_null(text);
    assert_string_equal(text, "lucid: LUCID_CPU=bogus-cpu is not a CPU that LLVM knows; using the "
                              "host CPU\n");
    const char *triple, *cpu, *features;
    assert_ok(lc_codegen_target(&triple, &cpu, &features));
    assert_string_not_equal(cpu, "bogus-cpu");
    assert_true(lc_codegen_llvm_initialized());
    free(text);
    lc_module_free(a);
    lc_module_free(b);
}

int main(void) {
    setenv("LUCID_CPU", "bogus-cpu", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(interpreter_path_leaves_llvm_alone),
        cmocka_unit_test(unknown_cpu_reported_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
