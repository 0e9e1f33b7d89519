/* The process-wide LLVM state Lucid needs, set up once and only when code is compiled: the
 * native target, Lucid's LLVM options, the fatal-error handler, and the CPU and features to
 * compile for (the host's, or LUCID_CPU / LUCID_CPU_FEATURES once they are proven usable).
 *
 * Why a probe in a child process: LLVM cannot tell through its C API whether it knows a CPU
 * or a feature. Given a name it does not know it prints "'x' is not a recognized processor"
 * on stderr at every subtarget it makes, and given a CPU that cannot run the triple's code
 * (i386 for x86_64) it ends the process ("LLVM ERROR: 64-bit code requested..."), from which
 * nothing returns. So a user-chosen target is first compiled and linked in a fork()ed child
 * whose stderr is a pipe: the child's exit status and what LLVM said there decide, and the
 * parent reports one line in Lucid's words and uses the host instead. The child only builds
 * a target machine, emits a small module and links it, then _exit()s; it runs once per
 * process and only when one of the two variables is set. The parent's own stderr and state
 * are never touched. The texts matched ("is not a recognized processor", "... feature",
 * "LLVM ERROR: ") are MCSubtargetInfo.cpp's and ErrorHandling.cpp's words in LLVM 15-22; were
 * they to change, an unknown name would get through with LLVM's own warnings, and a CPU that
 * cannot compile would still be refused (the child never prints its verdict line). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <llvm-c/Core.h>
#include <llvm-c/Error.h>
#include <llvm-c/ErrorHandling.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>
#include <llvm-c/Support.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>

#include "codegen/codegen.h"
#include "support/clock.h"
#include "support/error.h"

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static atomic_bool g_initialized, g_llvm_failed;
static char *g_triple, *g_cpu, *g_features;

/* How long the probe child may take before it is killed (it normally needs tens of ms). */
#define PROBE_SECONDS 30
/* The child's exit codes besides 0 (usable) and what LLVM's fatal path gives (SIGABRT). */
enum { PROBE_NO_TARGET = 70, PROBE_NO_MACHINE, PROBE_EMIT_FAILED, PROBE_LINK_FAILED };
#define PROBE_OK "lucid-probe: usable"

/* LLVM calls this instead of printing "LLVM ERROR" when it cannot go on (out of memory in
 * its own code, an impossible request); the process ends right after it returns, so the
 * best Lucid can do is say so in one line. */
static void fatal_handler(const char *reason) {
    atomic_store(&g_llvm_failed, true);
    fprintf(stderr, "lucid: LLVM failed and cannot continue; the process ends: %s\n",
            reason ? reason : "(no reason given)");
    fflush(stderr);
}

/* LLVM's options are process-wide and may be parsed once (a repeated option is a fatal
 * error), so every option Lucid needs is given in this one call, made before the first
 * compile. The loop-vectorize remark filters cost little while nobody listens (the
 * diagnostic handler drops them unless the `remarks` stage is dumped). Epilogue
 * vectorization is off: the remainder of a row is a few elements, and the extra vector loop
 * it adds per loop cost a quarter of the compile time. Loop strength reduction is off: our
 * loops address every buffer from one induction variable with constant offsets, which the
 * x86 addressing modes take as they are, and LSR's search over them was a quarter of object
 * emission for an LP forward+backward (under callgrind, for a znver4 target: 68M instructions
 * per compile with it, 51M without, of about 115M for the whole compile), with no runtime
 * difference measurable in bench/. LICM may walk memory SSA 1000 times per loop (LLVM's
 * default, 100, fell short in a convolution's kernel with tiled rows, lc_schedule.tile_rows:
 * 4 rows x 96 weights are loop-invariant loads, and past the cap LICM left them in the loop,
 * where they kept the loop vectorizer from proving it safe), and promotes a value kept in
 * memory to a register (a kernel's flag, lc_schedule.fixup) in loops of up to 1000 memory
 * accesses (default 250: the tiled forward's flag stayed in memory, a dependence the
 * vectorizer could not order). Non-trivial unswitching, which only the kernels fuse marks run
 * (lc_schedule.row_versions), may copy a loop of a cost up to 1000 where LLVM's default stops at
 * 50, under a whole kernel's row (MaxPool2d(3, 2, 1)'s dx), and LLVM's cost multiplier still
 * divides it as the candidates grow. Every option named here exists in LLVM 15-22. */
static void set_llvm_options(void) {
    const char *argv[] = {"lucid", "-pass-remarks=loop-vectorize",
                          "-pass-remarks-missed=loop-vectorize",
                          "-pass-remarks-analysis=loop-vectorize",
                          "-enable-epilogue-vectorization=false", "-disable-lsr",
                          "-licm-mssa-optimization-cap=1000", "-licm-mssa-max-acc-promotion=1000",
                          "-unswitch-threshold=1000"};
    LLVMParseCommandLineOptions((int)(sizeof argv / sizeof argv[0]), argv, NULL);
}

static char *take_llvm_string(char *s) {
    char *r = s ? strdup(s) : NULL;
    if (s) LLVMDisposeMessage(s);
    return r;
}

/* "+name,-name,...": LLVM ignores (with a warning) anything else, so Lucid refuses it first. */
static bool features_well_formed(const char *f) {
    if (!*f) return true;
    for (const char *p = f;;) {
        if (*p != '+' && *p != '-') return false;
        p++;
        size_t n = 0;
        while ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z') ||
               (p[n] >= '0' && p[n] <= '9') || p[n] == '.' || p[n] == '_' || p[n] == '-')
            n++;
        if (n == 0) return false;
        p += n;
        if (*p == 0) return true;
        if (*p != ',') return false;
        p++;
    }
}

/* ---- the probe (runs in the child) ---- */

static void probe_report(LLVMErrorRef err) {
    char *msg = LLVMGetErrorMessage(err);
    fprintf(stderr, "lucid-probe: %s\n", msg);
    LLVMDisposeErrorMessage(msg);
}

static void probe_session_error(void *ctx, LLVMErrorRef err) {
    (void)ctx;
    probe_report(err);
}

/* A function with the arithmetic Lucid's kernels use (f32 and f64 multiply, divide, add,
 * sqrt, compare and select, integer to float, a vector of floats), so a feature set that
 * cannot lower them (no SSE and no x87: soft-float calls nobody provides) fails here. */
static LLVMModuleRef probe_module(LLVMContextRef ctx) {
    LLVMModuleRef mod = LLVMModuleCreateWithNameInContext("lucid-probe", ctx);
    LLVMTypeRef f32 = LLVMFloatTypeInContext(ctx), f64 = LLVMDoubleTypeInContext(ctx);
    LLVMTypeRef i64 = LLVMInt64TypeInContext(ctx), ptr = LLVMPointerTypeInContext(ctx, 0);
    LLVMTypeRef v8 = LLVMVectorType(f32, 8);
    LLVMTypeRef params[] = {ptr, ptr, i64};
    LLVMValueRef fn = LLVMAddFunction(mod, "lucid_probe",
                                      LLVMFunctionType(LLVMVoidTypeInContext(ctx), params, 3, 0));
    LLVMTypeRef sqrt_ty = LLVMFunctionType(f64, &f64, 1, 0);
    LLVMValueRef sqrt_fn = LLVMAddFunction(mod, "llvm.sqrt.f64", sqrt_ty);
    LLVMBuilderRef b = LLVMCreateBuilderInContext(ctx);
    LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(ctx, fn, "entry"));
    LLVMValueRef fp = LLVMGetParam(fn, 0), dp = LLVMGetParam(fn, 1), n = LLVMGetParam(fn, 2);
    LLVMValueRef x = LLVMBuildLoad2(b, f32, fp, "x");
    LLVMValueRef y = LLVMBuildFDiv(b, LLVMBuildFMul(b, x, x, ""), LLVMBuildFAdd(b, x, x, ""), "");
    LLVMValueRef lt = LLVMBuildFCmp(b, LLVMRealOLT, y, x, "");
    LLVMBuildStore(b, LLVMBuildSelect(b, lt, y, x, ""), fp);
    LLVMValueRef d = LLVMBuildLoad2(b, f64, dp, "d");
    LLVMValueRef s = LLVMBuildCall2(b, sqrt_ty, sqrt_fn, &d, 1, "");
    LLVMValueRef nd = LLVMBuildSIToFP(b, n, f64, "");
    LLVMBuildStore(b, LLVMBuildFDiv(b, LLVMBuildFMul(b, s, nd, ""), d, ""), dp);
    LLVMValueRef v = LLVMBuildLoad2(b, v8, fp, "v");
    LLVMBuildStore(b, LLVMBuildFMul(b, v, LLVMBuildFAdd(b, v, v, ""), ""), fp);
    LLVMBuildRetVoid(b);
    LLVMDisposeBuilder(b);
    return mod;
}

static int probe_link(const char *obj, size_t len) {
    LLVMOrcLLJITRef jit = NULL;
    LLVMErrorRef err = LLVMOrcCreateLLJIT(&jit, LLVMOrcCreateLLJITBuilder());
    if (err) { probe_report(err); return PROBE_LINK_FAILED; }
    LLVMOrcExecutionSessionSetErrorReporter(LLVMOrcLLJITGetExecutionSession(jit),
                                            probe_session_error, NULL);
    LLVMOrcJITDylibRef jd = LLVMOrcLLJITGetMainJITDylib(jit);
    LLVMOrcDefinitionGeneratorRef gen = NULL;
    err = LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(&gen, LLVMOrcLLJITGetGlobalPrefix(jit),
                                                              NULL, NULL);
    if (err) { probe_report(err); return PROBE_LINK_FAILED; }
    LLVMOrcJITDylibAddGenerator(jd, gen);
    err = LLVMOrcLLJITAddObjectFile(jit, jd,
                                    LLVMCreateMemoryBufferWithMemoryRangeCopy(obj, len, "probe"));
    if (err) { probe_report(err); return PROBE_LINK_FAILED; }
    LLVMOrcExecutorAddress addr = 0;
    err = LLVMOrcLLJITLookup(jit, &addr, "lucid_probe");
    if (err) { probe_report(err); return PROBE_LINK_FAILED; }
    err = LLVMOrcDisposeLLJIT(jit);
    if (err) LLVMConsumeError(err);
    return 0;
}

static int probe(const char *triple, const char *cpu, const char *features) {
    LLVMTargetRef target;
    char *msg = NULL;
    if (LLVMGetTargetFromTriple(triple, &target, &msg)) return PROBE_NO_TARGET;
    LLVMTargetMachineRef tm = LLVMCreateTargetMachine(target, triple, cpu, features,
                                                      LLVMCodeGenLevelDefault, LLVMRelocPIC,
                                                      LLVMCodeModelJITDefault);
    if (!tm) return PROBE_NO_MACHINE;
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef mod = probe_module(ctx);
    LLVMSetTarget(mod, triple);
    LLVMMemoryBufferRef buf = NULL;
    int rc = 0;
    if (LLVMTargetMachineEmitToMemoryBuffer(tm, mod, LLVMObjectFile, &msg, &buf)) {
        fprintf(stderr, "lucid-probe: %s\n", msg ? msg : "object emission failed");
        rc = PROBE_EMIT_FAILED;
    } else {
        rc = probe_link(LLVMGetBufferStart(buf), LLVMGetBufferSize(buf));
        LLVMDisposeMemoryBuffer(buf);
    }
    LLVMDisposeModule(mod);
    LLVMContextDispose(ctx);
    LLVMDisposeTargetMachine(tm);
    return rc;
}

/* ---- the probe's verdict (in the parent) ---- */

typedef struct verdict {
    bool usable;
    bool cpu_unknown;        /* LLVM said the CPU is not a recognized processor */
    char feature[64];        /* the first feature LLVM did not recognize, or "" */
    char reason[256];        /* why it cannot compile, one line, or "" */
} verdict;

/* The text after `key` up to the end of its line, into out (one line, truncated). */
static bool line_after(const char *text, const char *key, char *out, size_t size) {
    const char *p = strstr(text, key);
    if (!p) return false;
    p += strlen(key);
    size_t n = strcspn(p, "\n");
    if (n >= size) n = size - 1;
    memcpy(out, p, n);
    out[n] = 0;
    return true;
}

static verdict run_probe(const char *triple, const char *cpu, const char *features) {
    verdict v = {0};
    int fds[2];
    if (pipe(fds) != 0) {
        snprintf(v.reason, sizeof v.reason, "cannot check it: pipe: %s", strerror(errno));
        return v;
    }
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(v.reason, sizeof v.reason, "cannot check it: fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return v;
    }
    if (pid == 0) {
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core); /* LLVM's fatal path aborts: no core file for it */
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        int rc = probe(triple, cpu, features);
        /* The verdict is this line, not the exit status, which a tool watching the process
         * may replace with its own (valgrind's --error-exitcode counts the child's leaks). */
        if (rc == 0) fputs(PROBE_OK "\n", stderr);
        _exit(rc);
    }
    close(fds[1]);
    char text[8192];
    size_t len = 0;
    double deadline = lc_now_ms() + 1e3 * PROBE_SECONDS;
    bool timed_out = false;
    for (;;) {
        double left_ms = deadline - lc_now_ms();
        if (left_ms <= 0) { timed_out = true; break; }
        struct pollfd pf = {fds[0], POLLIN, 0};
        int r = poll(&pf, 1, (int)left_ms + 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) { timed_out = r == 0; break; }
        char scratch[512];
        ssize_t n = read(fds[0], len < sizeof text - 1 ? text + len : scratch,
                         len < sizeof text - 1 ? sizeof text - 1 - len : sizeof scratch);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (len < sizeof text - 1) len += (size_t)n;
    }
    text[len] = 0;
    close(fds[0]);
    if (timed_out) kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    v.cpu_unknown = strstr(text, "is not a recognized processor") != NULL;
    const char *fw = strstr(text, "is not a recognized feature");
    if (fw) {
        const char *q = fw;
        while (q > text && q[-1] != '\n') q--; /* the line starts with 'name' */
        if (*q == '\'') q++;
        if (*q == '+' || *q == '-') q++;
        size_t n = strcspn(q, "'\n");
        if (n >= sizeof v.feature) n = sizeof v.feature - 1;
        memcpy(v.feature, q, n);
        v.feature[n] = 0;
    }
    bool said_ok = !timed_out && strstr(text, PROBE_OK "\n") != NULL;
    if (timed_out)
        snprintf(v.reason, sizeof v.reason, "checking it took over %d s", PROBE_SECONDS);
    else if (!said_ok && !line_after(text, "LLVM ERROR: ", v.reason, sizeof v.reason) &&
             !line_after(text, "the process ends: ", v.reason, sizeof v.reason) &&
             !line_after(text, "lucid-probe: ", v.reason, sizeof v.reason))
        snprintf(v.reason, sizeof v.reason, "LLVM gave up compiling for it (%s %d)",
                 WIFSIGNALED(status) ? "signal" : "exit status",
                 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    v.usable = said_ok && !v.cpu_unknown && !v.feature[0];
    return v;
}

/* ---- initialisation ---- */

static char *host_cpu(void) { return take_llvm_string(LLVMGetHostCPUName()); }
static char *host_features(void) { return take_llvm_string(LLVMGetHostCPUFeatures()); }

/* The CPU and features to compile for: the user's when they are set and the probe proves
 * them, else the host's, with one line on stderr saying which variable was refused and why. */
static void choose_target(void) {
    const char *cpu = getenv("LUCID_CPU"), *feat = getenv("LUCID_CPU_FEATURES");
    if (cpu && !*cpu) cpu = NULL;
    bool ok = true;
    if (feat && !features_well_formed(feat)) {
        fprintf(stderr, "lucid: LUCID_CPU_FEATURES=%s is not a feature list like "
                        "\"+avx2,-avx512f\"; using the host CPU\n", feat);
        ok = false;
    }
    if (ok && (cpu || feat)) {
        char *host = cpu ? NULL : host_cpu();
        const char *try_cpu = cpu ? cpu : host ? host : "";
        verdict v = run_probe(g_triple, try_cpu, feat ? feat : "");
        ok = v.usable;
        if (v.cpu_unknown && cpu)
            fprintf(stderr, "lucid: LUCID_CPU=%s is not a CPU that LLVM knows; using the host CPU\n",
                    cpu);
        if (v.feature[0])
            fprintf(stderr, "lucid: LUCID_CPU_FEATURES=%s: %s is not a feature that LLVM knows for "
                            "%s; using the host CPU\n", feat ? feat : "", v.feature, g_triple);
        if (!ok && !(v.cpu_unknown && cpu) && !v.feature[0]) {
            if (cpu && feat)
                fprintf(stderr, "lucid: LUCID_CPU=%s with LUCID_CPU_FEATURES=%s", cpu, feat);
            else if (cpu)
                fprintf(stderr, "lucid: LUCID_CPU=%s", cpu);
            else
                fprintf(stderr, "lucid: LUCID_CPU_FEATURES=%s", feat);
            fprintf(stderr, " cannot compile code for %s (%s); using the host CPU\n", g_triple,
                    v.reason[0] ? v.reason : "unknown reason");
        }
        free(host);
    }
    if (ok && cpu) {
        g_cpu = strdup(cpu);
        g_features = strdup(feat ? feat : ""); /* a named CPU brings its own features */
    } else if (ok && feat) {
        g_cpu = host_cpu();
        g_features = strdup(feat);
    } else {
        g_cpu = host_cpu();
        g_features = host_features();
    }
}

static void init_llvm(void) {
    LLVMInitializeNativeTarget();
    LLVMInitializeNativeAsmPrinter();
    /* A host that owns LLVM sets LUCID_NO_LLVM_OPTIONS: its options and its fatal-error
     * handler stay as it made them (the handler can be installed only once). */
    bool own_llvm = getenv("LUCID_NO_LLVM_OPTIONS") != NULL;
    if (!own_llvm) set_llvm_options();
    char *t = LLVMGetDefaultTargetTriple();
    g_triple = take_llvm_string(LLVMNormalizeTargetTriple(t));
    LLVMDisposeMessage(t);
    if (g_triple) choose_target();
    /* after the probe, so a probe child that hits LLVM's fatal path prints LLVM's own words */
    if (!own_llvm) LLVMInstallFatalErrorHandler(fatal_handler);
    atomic_store(&g_initialized, true);
}

/* ---- what fuse is told of the target: its caches, vendor and masks (no LLVM) ---- */

static pthread_once_t g_fuse_target_once = PTHREAD_ONCE_INIT;
static lc_fuse_target g_fuse_target;

static void find_fuse_target(void) {
    const char *cpu = getenv("LUCID_CPU");
    if (cpu && *cpu) return; /* a named CPU: its caches are not this host's */
#ifdef _SC_LEVEL2_CACHE_SIZE
    long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE); /* glibc reads it from the CPU; -1 or 0 unknown */
    if (l2 > 0) g_fuse_target.core_cache_bytes = l2;
#endif
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
    __builtin_cpu_init(); /* idempotent; needed wherever the C runtime's own call may not have run yet */
    g_fuse_target.streams_core_sized = g_fuse_target.core_cache_bytes > 0 && __builtin_cpu_is("amd");
    /* two choices measured apart that split the two hosts the same way (kernel.h) */
    bool avx_without_512 = __builtin_cpu_supports("avx") && !__builtin_cpu_supports("avx512f");
    g_fuse_target.masks_by_compare = avx_without_512;
    g_fuse_target.prefetch_row_passes = avx_without_512;
#endif
}

lc_fuse_target lc_codegen_fuse_target(void) {
    pthread_once(&g_fuse_target_once, find_fuse_target);
    return g_fuse_target;
}

lc_status lc_codegen_target(const char **triple, const char **cpu, const char **features) {
    pthread_once(&g_once, init_llvm);
    if (!g_triple || !g_cpu || !g_features)
        return lc_fail(LC_ERR_NOMEM, "codegen: out of memory while setting up LLVM");
    *triple = g_triple;
    *cpu = g_cpu;
    *features = g_features;
    return LC_OK;
}

bool lc_codegen_llvm_initialized(void) { return atomic_load(&g_initialized); }

bool lc_codegen_llvm_failed(void) { return atomic_load(&g_llvm_failed); }
