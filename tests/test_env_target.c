/* LLVM's process-wide state (src/codegen/target.c): nothing but a compile initialises LLVM,
 * and an unusable LUCID_CPU is reported once in Lucid's words, with the host used instead
 * (the other bad values, each needing a fresh process, are in tests/cli/test_env.sh). */
#include <sys/wait.h>
#include <unistd.h>

#include <llvm-c/Core.h>
#include <llvm-c/IRReader.h>
#include <llvm-c/TargetMachine.h>

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

/* Two compiles, two different programs: one line on stderr, code for the host that agrees
 * with the interpreter. */
static void unknown_cpu_reported_once(void **state) {
    (void)state;
    test_stderr_begin();
    lc_module *a = test_lppool(2.0, 3, 2, false), *b = test_avgpool(4, 1, 2, true, false);
    jit_check_module(a, LC_F32, test_shape3(2, 3, 700), 3, NULL, NULL);
    jit_check_module(b, LC_F64, test_shape3(1, 2, 300), 4, NULL, NULL);
    char *text = test_stderr_end();
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

#if defined(__x86_64__)
/* An AVX-512 intrinsic compiled for a CPU without it: instruction selection fails, which LLVM
 * can only report as fatal. */
static const char bad_ir[] =
    "define <16 x float> @f(<16 x float> %a, <16 x float> %b) {\n"
    "  %r = call <16 x float> @llvm.x86.avx512.add.ps.512(<16 x float> %a, <16 x float> %b, i32 4)\n"
    "  ret <16 x float> %r\n"
    "}\n"
    "declare <16 x float> @llvm.x86.avx512.add.ps.512(<16 x float>, <16 x float>, i32)\n";

static void child_hits_llvm_fatal_error(int err_fd) {
    dup2(err_fd, 2);
    const char *triple, *cpu, *features;
    if (lc_codegen_target(&triple, &cpu, &features) != LC_OK) _exit(3); /* installs the handler */
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMMemoryBufferRef buf = LLVMCreateMemoryBufferWithMemoryRangeCopy(bad_ir, sizeof bad_ir - 1, "bad");
    LLVMModuleRef mod;
    char *msg = NULL;
    if (LLVMParseIRInContext(ctx, buf, &mod, &msg)) _exit(4);
    LLVMTargetRef target;
    if (LLVMGetTargetFromTriple(triple, &target, &msg)) _exit(5);
    LLVMTargetMachineRef tm = LLVMCreateTargetMachine(target, triple, "x86-64", "", LLVMCodeGenLevelDefault,
                                                      LLVMRelocPIC, LLVMCodeModelJITDefault);
    LLVMMemoryBufferRef out;
    LLVMTargetMachineEmitToMemoryBuffer(tm, mod, LLVMObjectFile, &msg, &out);
    _exit(0); /* not reached: LLVM ends the process */
}

/* LLVM's fatal errors end the process (nothing returns from them), but with one line of
 * Lucid's first instead of a bare "LLVM ERROR". */
static void llvm_fatal_error_gets_one_lucid_line(void **state) {
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        child_hits_llvm_fatal_error(fds[1]);
    }
    close(fds[1]);
    char text[4096];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof text - 1 && (n = read(fds[0], text + len, sizeof text - 1 - len)) > 0) len += (size_t)n;
    text[len] = 0;
    close(fds[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_false(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* one line of text (LLVM may add an empty line of its own before it ends) */
    const char *want = "lucid: LLVM failed and cannot continue; the process ends: ";
    char *nl = strchr(text, '\n');
    bool one_line = nl && strspn(nl, "\n") == strlen(nl);
    if (strncmp(text, want, strlen(want)) != 0 || !one_line || strstr(text, "LLVM ERROR"))
        fail_msg("stderr was:\n%s", text);
}
#endif

int main(void) {
    setenv("LUCID_CPU", "bogus-cpu", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(interpreter_path_leaves_llvm_alone),
        cmocka_unit_test(unknown_cpu_reported_once),
#if defined(__x86_64__)
        cmocka_unit_test(llvm_fatal_error_gets_one_lucid_line),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
