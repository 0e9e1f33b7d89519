/* From a fused program to callable code: emit IR (emit_*.c, see emit.h), optimize with the new pass
 * manager for the target that target.c chose (the host, or LUCID_CPU / LUCID_CPU_FEATURES),
 * emit an object in memory, and link it into the process's ORC LLJIT, in a JITDylib of the
 * program's own (jit_session.c, which also lends the target machines). Each kernel is a module
 * of its own, and the modules go through these steps on several threads at once (lc_codegen,
 * at the end); their objects are linked together. The object bytes are what the disk cache
 * (objcache.c) stores, one file per kernel. Only C API calls present in LLVM 15-22 are used;
 * adding an object avoids the thread-safe-context API that changed in LLVM 21. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <llvm-c/Analysis.h>
#include <llvm-c/Core.h>
#include <llvm-c/Error.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>
#include <llvm-c/Support.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>
#include <llvm/Config/llvm-config.h> /* LLVM_VERSION_MAJOR; a C header */

#include "codegen/codegen.h"
#include "codegen/emit.h"
#include "codegen/vmath.h"
#include "codegen/jit_session.h"
#include "codegen/nontemporal.h"
#include "codegen/stream_prefetch.h"
#include "codegen/split_wide.h"
#include "codegen/objcache.h"
#include "support/clock.h"
#include "support/error.h"
#include "support/strbuf.h"

void lc_codegen_texts_free(lc_codegen_texts *t) {
    if (!t) return;
    free(t->llvm);
    free(t->llvm_opt);
    free(t->asm_text);
    free(t->remarks);
    memset(t, 0, sizeof *t);
}

static lc_status llvm_fail(LLVMErrorRef err, const char *what) {
    char *msg = LLVMGetErrorMessage(err);
    lc_status st = lc_fail(LC_ERR_JIT, "codegen: %s: %s", what, msg);
    LLVMDisposeErrorMessage(msg);
    return st;
}

static char *copy_llvm_string(char *s) {
    char *r = s ? strdup(s) : NULL;
    if (s) LLVMDisposeMessage(s);
    return r;
}

static void collect_remark(LLVMDiagnosticInfoRef di, void *ctx) {
    lc_strbuf *sb = ctx;
    if (!sb) return;
    char *d = LLVMGetDiagInfoDescription(di);
    /* the -pass-remarks filters are process-wide; keep what the loop vectorizer says */
    if (strstr(d, "loop") || strstr(d, "interleav")) lc_strbuf_printf(sb, "%s\n", d);
    LLVMDisposeMessage(d);
}

/* The middle end at opt levels 2 and 3: the passes codegen's IR needs, in the order it needs
 * them, instead of default<O3> (bench/README.md has the instruction counts of both).
 *  - early-cse<memssa>: the emitter rebuilds an index expression at every use and loads an
 *    element once per use; MemorySSA with the kernel's alias scopes lets it keep a load
 *    across stores to other buffers (plain early-cse reloaded x after each store to y).
 *  - instcombine, simplifycfg, then licm, loop-rotate, licm: canonical arithmetic, the
 *    row-invariant part hoisted, and loops in the rotated form the vectorizer accepts.
 *  - loop-vectorize: element-major kernels and short unrolled windows are scalar loops over
 *    outputs; this is where they become vectors.
 *  - slp-vectorizer: long windows build their partial sums lane by lane (insertelement of
 *    consecutive loads); SLP turns them into vector loads. Only modules that do so get it:
 *    elsewhere it found nothing worth its cost (14% of the demo model's compile).
 *  - instcombine, licm, simplifycfg: clean-up after the vectorizers; instcombine once more
 *    after SLP only (without SLP a second round changed no instruction of the object code and
 *    cost 8% of the demo model's compile).
 *  - always-inline, globaldce: the short power's AVX-512 form (vmath.c) is a call the loop
 *    vectorizer widens to its 16-lane variant; inlined only after it, or the vectorizer would
 *    meet vector code inside a scalar loop. globaldce drops the functions nothing calls then.
 * Left out: the inliner (one function per kernel; always-inline takes only what asks), full unrolling (it copied a long window's
 * 64-slot loop 64 times before the loop vectorizer could take it whole, and SLP then went
 * over the copies), GVN, jump threading, loop idiom and the other general-purpose passes,
 * which found nothing to do here. tests/test_jit_vectorized.c checks the result stays
 * vector code. */
#if LLVM_VERSION_MAJOR >= 18
/* one round each, as in default<O3>; named in a pass string, instcombine would otherwise
 * abort the process when one round leaves something to combine */
#define INSTCOMBINE "instcombine<no-verify-fixpoint>"
#else
#define INSTCOMBINE "instcombine"
#endif
/* Alignment inference (LLVM 17 on; before, instcombine did it): the aligned stores of a
 * non-temporal kernel (nontemporal.h) get the alignment their address proves */
#if LLVM_VERSION_MAJOR >= 17
#define INFER_ALIGNMENT ",infer-alignment"
#else
#define INFER_ALIGNMENT ""
#endif
/* For a kernel fuse marked (lc_schedule.row_versions), simple-loop-unswitch<nontrivial> after
 * the first LICM, which shows its window checks to hold for a whole row: the loop is copied per
 * outcome of them before it is vectorized. Its cost limit is raised (target.c) so that a whole
 * kernel's loop qualifies; other kernels do not run the pass. */
#define UNSWITCH "simple-loop-unswitch<nontrivial>,"
#define LUCID_PIPELINE(unswitch, slp)                                                          \
    "function(early-cse<memssa>," INSTCOMBINE ",simplifycfg,loop-mssa(licm," unswitch "loop-rotate,licm),"   \
    "loop-vectorize," INSTCOMBINE ",simplifycfg," slp "loop-mssa(licm),simplifycfg" INFER_ALIGNMENT "),"     \
    "always-inline,globaldce"

/* Whether the module builds a vector lane by lane: a long window's partial sums. */
static bool builds_vectors_by_lane(LLVMModuleRef mod) {
    for (LLVMValueRef fn = LLVMGetFirstFunction(mod); fn; fn = LLVMGetNextFunction(fn))
        for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb))
            for (LLVMValueRef in = LLVMGetFirstInstruction(bb); in; in = LLVMGetNextInstruction(in))
                if (LLVMGetInstructionOpcode(in) == LLVMInsertElement) return true;
    return false;
}

/* The pass pipelines: default<O0>, default<O1>, Lucid's list, with SLP, with unswitching, with
 * both. */
enum { N_PIPELINES = 6 };
#define SLP "slp-vectorizer," INSTCOMBINE ","
static const char *const g_pipelines[N_PIPELINES] = {
    "default<O0>", "default<O1>", LUCID_PIPELINE("", ""), LUCID_PIPELINE("", SLP), LUCID_PIPELINE(UNSWITCH, ""),
    LUCID_PIPELINE(UNSWITCH, SLP),
};

/* The pass pipeline at `level`, with SLP when some module of the program builds vectors lane
 * by lane (the decision is the program's, so splitting it into modules changes no code), with
 * unswitching where the module's kernel asks for it (its own decision): its index in
 * g_pipelines. The pipeline is also part of the disk cache's key, so an object made
 * by another pipeline is never loaded. */
static int pass_pipeline(bool slp, int level, bool unswitch) {
    if (level < 2) return level < 1 ? 0 : 1;
    return (slp ? 3 : 2) + (unswitch ? 2 : 0);
}

static lc_status optimize(LLVMModuleRef mod, LLVMTargetMachineRef tm, const char *pipeline) {
    LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
    LLVMPassBuilderOptionsSetLoopVectorization(po, false); /* levels 0 and 1 as before */
    LLVMPassBuilderOptionsSetSLPVectorization(po, false);
    LLVMPassBuilderOptionsSetLoopUnrolling(po, false);
    LLVMErrorRef err = LLVMRunPasses(mod, pipeline, tm, po);
    LLVMDisposePassBuilderOptions(po);
    return err ? llvm_fail(err, "optimization failed") : LC_OK;
}

static lc_status emit_object(LLVMTargetMachineRef tm, LLVMModuleRef mod, LLVMCodeGenFileType kind,
                             char **bytes, size_t *len) {
    char *msg = NULL;
    LLVMMemoryBufferRef buf = NULL;
    if (LLVMTargetMachineEmitToMemoryBuffer(tm, mod, kind, &msg, &buf)) {
        lc_status st = lc_fail(LC_ERR_JIT, "codegen: object emission failed: %s", msg ? msg : "?");
        LLVMDisposeMessage(msg);
        return st;
    }
    *len = LLVMGetBufferSize(buf);
    *bytes = malloc(*len + 1);
    if (*bytes) {
        memcpy(*bytes, LLVMGetBufferStart(buf), *len);
        (*bytes)[*len] = 0;
    }
    LLVMDisposeMemoryBuffer(buf);
    return *bytes ? LC_OK : lc_fail(LC_ERR_NOMEM, "codegen: out of memory");
}

/* One module of a compile: kernels [first, last) of the program, built in a context of its
 * own, so that modules compile on different threads at once (an LLVM context is for one thread
 * at a time, a target machine too: each module takes its own from jit_session.c). A part is
 * emitted (part_emit), then, once every part is, optimized and made an object (part_finish),
 * by whichever threads take it; what it makes stays here until the caller gathers it in
 * kernel order. */
typedef struct part {
    int first, last;          /* kernels */
    LLVMContextRef ctx;
    LLVMModuleRef mod;
    LLVMTargetMachineRef tm;
    char *ir;                 /* the IR text: the disk cache's key (NULL without a cache) */
    bool lanes;               /* the module builds vectors lane by lane */
    const char *pipeline;     /* its pass list, decided between the two phases */
    lc_strbuf remarks;
    char *obj;                /* object bytes */
    size_t obj_len;
    lc_codegen_texts texts;   /* this module's texts and times */
    lc_status st;
    char error[512];          /* lc_last_error() of the thread that failed (it is per thread) */
} part;

/* What every part's compile shares. */
typedef struct compile_job {
    const lc_fused *f;
    const lc_codegen_options *o;
    bool want_texts;
    const char *triple, *cpu, *features; /* the process's target (target.c) */
    bool keyed;               /* the disk cache is on */
    bool fixup;               /* the one part is a kernel's fix-up form (lc_codegen_fixup) */
    part *parts;
    int n_parts;
    atomic_int next;          /* the next part no thread has taken in this phase */
    void (*phase)(struct compile_job *, part *);
} compile_job;

static lc_machine_level machine_level(const lc_codegen_options *o) {
    return o->quick ? LC_MACHINE_QUICK : o->opt_level >= 2 ? LC_MACHINE_AGGRESSIVE : LC_MACHINE_DEFAULT;
}

/* What LLVM's feature string ("+avx2,-avx512f,+fma,...") says of `name`: '+' on, '-' off, 0
 * not named (a CPU given by name, LUCID_CPU, brings features the string does not list). */
static char feature_sign(const char *features, const char *name) {
    size_t n = strlen(name);
    for (const char *p = features; p && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n + 1 && (p[0] == '+' || p[0] == '-') && memcmp(p + 1, name, n) == 0) return p[0];
        p = end ? end + 1 : NULL;
    }
    return 0;
}

static bool has_feature(const char *features, const char *name) { return feature_sign(features, name) == '+'; }

/* The target's vector registers in bits, where the feature string says (x86: the host's
 * lists every feature), else 0: LLVM's own choice. lc_emit_options.vector_bits: the width
 * every kernel prefers, and the quick tier's loops name. */
static int vector_bits(const char *triple, const char *features) {
    if (strncmp(triple, "x86_64", 6) != 0) return 0;
    if (has_feature(features, "avx512f")) return 512;
    if (has_feature(features, "avx")) return 256;
    return feature_sign(features, "avx") == '-' ? 128 : 0;
}

/* Build and verify the part's IR (and its text when the disk cache or a dump needs it). */
static lc_status part_emit(compile_job *job, part *pt) {
    const lc_codegen_options *o = job->o;
    lc_codegen_texts *texts = job->want_texts ? &pt->texts : NULL;
    double t0 = lc_now_ms();
    pt->ctx = LLVMContextCreate();
    LLVMContextSetDiagnosticHandler(pt->ctx, collect_remark,
                                    texts && o->want_remarks ? &pt->remarks : NULL);
    pt->mod = LLVMModuleCreateWithNameInContext("lucid", pt->ctx);
    LC_TRY(lc_jit_machine_take(machine_level(o), &pt->tm));
    LLVMSetTarget(pt->mod, job->triple);
    LLVMTargetDataRef td = LLVMCreateTargetDataLayout(pt->tm);
    LLVMSetModuleDataLayout(pt->mod, td);
    LLVMDisposeTargetData(td);
    bool x86 = strncmp(job->triple, "x86_64", 6) == 0;
    /* FMA only when the feature string says so (a bare LUCID_CPU name: assume not, and
     * multiply then add, which is correct everywhere) */
    lc_emit_options eo = {.fma = has_feature(job->features, "fma"), .quick = o->quick,
                          .vector_bits = vector_bits(job->triple, job->features),
                          .avx512_exponents = x86 && has_feature(job->features, "avx512f") &&
                                              has_feature(job->features, "avx512dq") &&
                                              has_feature(job->features, "fma") &&
                                              lc_vmath_pow_normal_avx512_known(),
                          .sqrt_estimate = x86 && has_feature(job->features, "avx512f") &&
                                           lc_vmath_sqrt_estimate_avx512_known(),
                          .masked_loads = x86 && has_feature(job->features, "avx"),
                          .masked_byte_loads = x86 && has_feature(job->features, "avx512bw")};
    if (job->fixup) LC_TRY(lc_emit_fixup_kernel(job->f, pt->first, pt->ctx, pt->mod, &eo));
    else LC_TRY(lc_emit_kernels(job->f, pt->first, pt->last, pt->ctx, pt->mod, &eo));
    char *msg = NULL;
    if (LLVMVerifyModule(pt->mod, LLVMReturnStatusAction, &msg)) {
        lc_status st = lc_fail(LC_ERR_INTERNAL, "codegen: invalid IR: %s", msg ? msg : "?");
        LLVMDisposeMessage(msg);
        return st;
    }
    if (msg) LLVMDisposeMessage(msg);
    pt->lanes = builds_vectors_by_lane(pt->mod);
    /* The IR text is the disk cache's key; printing it cost 2-5% of a compile, so without a
     * cache (and no `llvm` dump) it is not made. */
    if (job->keyed || (texts && o->want_llvm)) {
        pt->ir = copy_llvm_string(LLVMPrintModuleToString(pt->mod));
        if (!pt->ir) return lc_fail(LC_ERR_NOMEM, "codegen: out of memory");
    }
    if (texts) {
        texts->ms_emit = lc_now_ms() - t0;
        if (o->want_llvm && !(texts->llvm = strdup(pt->ir)))
            return lc_fail(LC_ERR_NOMEM, "codegen: out of memory");
    }
    return LC_OK;
}

/* Optimize the part's module and make its object (or take the object from the disk cache). */
static lc_status part_finish(compile_job *job, part *pt) {
    const lc_codegen_options *o = job->o;
    lc_codegen_texts *texts = job->want_texts ? &pt->texts : NULL;
    /* Disk cache: skip optimization and emission when the same IR was compiled before for
     * the same target. Dumps of later stages need the real pipeline, so they bypass it. */
    bool want_later = texts && (o->want_llvm_opt || o->want_asm || o->want_remarks);
    if (job->keyed && !want_later &&
        lc_objcache_load(pt->ir, job->triple, job->cpu, job->features, pt->pipeline, &pt->obj,
                         &pt->obj_len)) {
        if (texts) texts->cache_hit = true;
        return LC_OK;
    }
    double t1 = lc_now_ms();
    LC_TRY(optimize(pt->mod, pt->tm, pt->pipeline));
    /* Lucid's pass lists: the vectorizer's interleaved loads in the form the back end
     * selects at once (split_wide.c) */
    if (o->opt_level >= 2) lc_split_wide_loads(pt->mod);
    /* streaming stores where codegen asked for them and LLVM proved them aligned */
    if (o->opt_level >= 2) lc_tag_nontemporal_stores(pt->mod);
    /* prefetches of the input streams where fuse asked for them (stream_prefetch.c) */
    if (o->opt_level >= 2) lc_add_stream_prefetches(pt->mod);
    if (texts) {
        texts->ms_opt = lc_now_ms() - t1;
        if (o->want_llvm_opt &&
            !(texts->llvm_opt = copy_llvm_string(LLVMPrintModuleToString(pt->mod))))
            return lc_fail(LC_ERR_NOMEM, "codegen: out of memory");
    }
    if (o->last_step == LC_CODEGEN_OPTIMIZE) return LC_OK;
    if (texts && o->want_asm) {
        LLVMModuleRef clone = LLVMCloneModule(pt->mod);
        size_t len;
        lc_status st = emit_object(pt->tm, clone, LLVMAssemblyFile, &texts->asm_text, &len);
        LLVMDisposeModule(clone);
        LC_TRY(st);
    }
    double t2 = lc_now_ms();
    LC_TRY(emit_object(pt->tm, pt->mod, LLVMObjectFile, &pt->obj, &pt->obj_len));
    if (texts) texts->ms_object = lc_now_ms() - t2;
    if (job->keyed)
        lc_objcache_store(pt->ir, job->triple, job->cpu, job->features, pt->pipeline, pt->obj,
                          pt->obj_len);
    return LC_OK;
}

/* The LLVM objects of a part, given back or disposed (its results stay). */
static void part_release(const lc_codegen_options *o, part *pt) {
    lc_strbuf_free(&pt->remarks);
    free(pt->ir);
    pt->ir = NULL;
    lc_jit_machine_give_back(machine_level(o), pt->tm);
    pt->tm = NULL;
    if (pt->mod) LLVMDisposeModule(pt->mod);
    pt->mod = NULL;
    if (pt->ctx) LLVMContextDispose(pt->ctx);
    pt->ctx = NULL;
}

static void phase_emit(compile_job *job, part *pt) { pt->st = part_emit(job, pt); }
static void phase_finish(compile_job *job, part *pt) {
    pt->st = part_finish(job, pt);
    if (pt->st == LC_OK && job->want_texts && job->o->want_remarks)
        pt->st = lc_strbuf_finish(&pt->remarks, &pt->texts.remarks);
    part_release(job->o, pt); /* its memory goes as soon as it is done */
}

/* ---- compiling the parts, on up to compile_threads() threads ---- */

/* Most threads a compile uses (itself included): LUCID_COMPILE_THREADS, read once per
 * process, else the processors online, at most MAX_COMPILE_THREADS. Only the time changes
 * with it: every module is compiled the same way on whichever thread takes it. */
#define MAX_COMPILE_THREADS 16
static int g_compile_threads;

static void read_compile_threads(void) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int n = cpus < 1 ? 1 : cpus > MAX_COMPILE_THREADS ? MAX_COMPILE_THREADS : (int)cpus;
    const char *env = getenv("LUCID_COMPILE_THREADS");
    if (env && *env) {
        char *end;
        errno = 0;
        long v = strtol(env, &end, 10);
        if (errno == 0 && *end == 0 && v >= 1 && v <= MAX_COMPILE_THREADS) n = (int)v;
        else
            fprintf(stderr, "lucid: LUCID_COMPILE_THREADS must be an integer between 1 and %d, "
                            "got \"%s\"; using %d\n", MAX_COMPILE_THREADS, env, n);
    }
    g_compile_threads = n;
}

static int compile_threads(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, read_compile_threads);
    return g_compile_threads;
}

/* Take parts until none is left in this phase (every thread of the job runs this, the
 * caller included). A part that failed is not taken again. */
static void *compile_parts(void *arg) {
    compile_job *job = arg;
    for (int i; (i = atomic_fetch_add(&job->next, 1)) < job->n_parts;) {
        part *pt = &job->parts[i];
        if (pt->st != LC_OK) continue;
        job->phase(job, pt);
        if (pt->st != LC_OK) snprintf(pt->error, sizeof pt->error, "%s", lc_last_error());
    }
    return NULL;
}

/* Whether a compile has gone through emission, and through each pipeline, in this process.
 * Until one has, that step runs on the calling thread only: LLVM makes some of its tables and
 * registries on first use, and it does that safely from any thread, but through libLLVM's own
 * atomics and locks, which ThreadSanitizer does not see (libLLVM is not instrumented), so it
 * would report a race in a TSan build. Once made, they are only read. */
static atomic_bool g_warm_emit, g_warm[N_PIPELINES];

/* One phase over every part: on up to compile_threads() threads when `warm`, else on the
 * calling thread. */
static void run_phase(compile_job *job, void (*phase)(compile_job *, part *), bool warm) {
    job->phase = phase;
    atomic_store(&job->next, 0);
    int most = compile_threads(); /* read (an invalid value reported) at the first compile */
    if (job->o->max_threads > 0 && job->o->max_threads < most) most = job->o->max_threads;
    int helpers = warm ? most - 1 : 0;
    if (helpers > job->n_parts - 1) helpers = job->n_parts - 1;
    pthread_t threads[MAX_COMPILE_THREADS];
    int started = 0;
    while (started < helpers && pthread_create(&threads[started], NULL, compile_parts, job) == 0)
        started++; /* a thread that cannot start leaves its parts to the others */
    compile_parts(job);
    for (int i = 0; i < started; i++) pthread_join(threads[i], NULL);
}

/* The parts' text at `offset` in lc_codegen_texts (llvm, llvm_opt, ...) joined in kernel
 * order into *out; *out stays NULL when no part made one. */
static lc_status join_texts(const part *parts, int n, size_t offset, char **out) {
    size_t len = 0;
    bool any = false;
    for (int i = 0; i < n; i++) {
        const char *t = *(char *const *)((const char *)&parts[i].texts + offset);
        if (t) len += strlen(t), any = true;
    }
    if (!any) return LC_OK;
    char *w = *out = malloc(len + 1);
    if (!w) return lc_fail(LC_ERR_NOMEM, "codegen: out of memory");
    for (int i = 0; i < n; i++) {
        const char *t = *(char *const *)((const char *)&parts[i].texts + offset);
        if (t) {
            size_t l = strlen(t);
            memcpy(w, t, l);
            w += l;
        }
    }
    *w = 0;
    return LC_OK;
}

/* The texts of all parts as if of one compile: texts joined in kernel order, times added up
 * (the work each stage did, on whichever thread), a cache hit when every part hit. */
static lc_status gather_texts(const part *parts, int n, const lc_codegen_options *o,
                              lc_codegen_texts *texts) {
    bool hit = true;
    for (int i = 0; i < n; i++) {
        texts->ms_emit += parts[i].texts.ms_emit;
        texts->ms_opt += parts[i].texts.ms_opt;
        texts->ms_object += parts[i].texts.ms_object;
        hit = hit && parts[i].texts.cache_hit;
    }
    texts->cache_hit = hit;
    if (o->want_llvm) LC_TRY(join_texts(parts, n, offsetof(lc_codegen_texts, llvm), &texts->llvm));
    if (o->want_llvm_opt)
        LC_TRY(join_texts(parts, n, offsetof(lc_codegen_texts, llvm_opt), &texts->llvm_opt));
    if (o->want_asm)
        LC_TRY(join_texts(parts, n, offsetof(lc_codegen_texts, asm_text), &texts->asm_text));
    if (o->want_remarks)
        LC_TRY(join_texts(parts, n, offsetof(lc_codegen_texts, remarks), &texts->remarks));
    return LC_OK;
}

/* Whether a part's kernels ask for their loops unswitched (lc_schedule.row_versions): not in
 * the quick tier, whose compile stays short (nor in a fix-up form, lc_codegen_fixup: scalar). */
static bool unswitch_of(const lc_fused *f, const part *pt, const lc_codegen_options *o) {
    bool any = false;
    for (int k = pt->first; k < pt->last && !o->quick; k++) any = any || f->kernels[k].sched.row_versions;
    return any;
}

/* Whether some part builds vectors lane by lane (the program's SLP decision). */
static bool lanes_of(const part *parts, int n) {
    for (int i = 0; i < n; i++)
        if (parts[i].lanes) return true;
    return false;
}

/* Each kernel is a module of its own (a program of no kernel: one empty module), compiled on
 * up to compile_threads() threads; the objects are linked together. A module's code does not
 * depend on the other modules (the pass list runs function by function, and the back end
 * selects code function by function), so this is the code one module of every kernel gave. */
lc_status lc_codegen(const lc_fused *f, const lc_codegen_options *opts, lc_codegen_texts *texts,
                     lc_jit **jit, lc_kernel_entry *entries) {
    *jit = NULL;
    LC_TRY(lc_codegen_headroom()); /* LLVM ends the process when it runs out of memory */
    lc_codegen_options o = opts ? *opts : (lc_codegen_options){.opt_level = 3};
    int n_parts = f->n_kernels > 0 ? f->n_kernels : 1;
    part *parts = calloc((size_t)n_parts, sizeof *parts);
    const char **objs = calloc((size_t)n_parts, sizeof *objs);
    size_t *lens = calloc((size_t)n_parts, sizeof *lens);
    lc_status st = LC_OK;
    if (!parts || !objs || !lens) st = lc_fail(LC_ERR_NOMEM, "codegen: out of memory");
    compile_job job = {.f = f, .o = &o, .want_texts = texts != NULL, .parts = parts,
                       .n_parts = n_parts};
    if (st == LC_OK) st = lc_codegen_target(&job.triple, &job.cpu, &job.features);
    if (st == LC_OK) {
        /* a quick tier's object is not the one the key names (the pipeline, not the code
         * generator's level, is in the key): never stored or loaded */
        job.keyed = !o.quick && !o.skip_disk_cache && lc_objcache_enabled();
        for (int i = 0; i < n_parts; i++) {
            parts[i].first = i < f->n_kernels ? i : 0;
            parts[i].last = i < f->n_kernels ? i + 1 : 0;
        }
        atomic_init(&job.next, 0);
        run_phase(&job, phase_emit, atomic_load(&g_warm_emit));
        bool emitted = true;
        for (int i = 0; i < n_parts; i++) emitted = emitted && parts[i].st == LC_OK;
        bool slp = lanes_of(parts, n_parts), warm = true;
        int used[N_PIPELINES] = {0};
        for (int i = 0; i < n_parts; i++) {
            int pipeline = pass_pipeline(slp, o.opt_level, unswitch_of(f, &parts[i], &o));
            parts[i].pipeline = g_pipelines[pipeline];
            used[pipeline] = 1;
            warm = warm && atomic_load(&g_warm[pipeline]);
        }
        if (emitted) atomic_store(&g_warm_emit, true);
        if (emitted && o.last_step != LC_CODEGEN_EMIT) {
            run_phase(&job, phase_finish, warm);
            bool done = true;
            for (int i = 0; i < n_parts; i++) done = done && parts[i].st == LC_OK;
            for (int p = 0; p < N_PIPELINES && done; p++)
                if (used[p]) atomic_store(&g_warm[p], true);
        }
        for (int i = 0; i < n_parts; i++) part_release(&o, &parts[i]);
        for (int i = 0; i < n_parts && st == LC_OK; i++) /* the first failure, in kernel order */
            if (parts[i].st != LC_OK) st = lc_fail(parts[i].st, "%s", parts[i].error);
    }
    if (st == LC_OK && texts) st = gather_texts(parts, n_parts, &o, texts);
    if (st == LC_OK && o.last_step == LC_CODEGEN_LINK) {
        for (int i = 0; i < n_parts; i++) {
            objs[i] = parts[i].obj;
            lens[i] = parts[i].obj_len;
        }
        double t = lc_now_ms();
        st = lc_jit_link(objs, lens, n_parts, f->n_kernels, jit, entries);
        if (st == LC_OK) lc_jit_set_slp(*jit, lanes_of(parts, n_parts));
        if (texts) texts->ms_link = lc_now_ms() - t;
    }
    for (int i = 0; parts && i < n_parts; i++) {
        free(parts[i].obj);
        lc_codegen_texts_free(&parts[i].texts);
    }
    free(parts);
    free(objs);
    free(lens);
    return st;
}

static atomic_int g_fixups_compiled;
int lc_codegen_fixup_count(void) { return atomic_load(&g_fixups_compiled); }

/* One kernel's fix-up form, a module of its own through the same steps as a program's
 * kernels (emit, the program's pass list, object, the disk cache), on the calling thread. */
lc_status lc_codegen_fixup(const lc_fused *f, int k, int opt_level, lc_jit *jit, lc_kernel_entry *entry) {
    LC_TRY(lc_codegen_headroom()); /* LLVM ends the process when it runs out of memory */
    lc_codegen_options o = {.opt_level = opt_level, .last_step = LC_CODEGEN_LINK};
    part pt = {.first = k, .last = k + 1};
    compile_job job = {.f = f, .o = &o, .parts = &pt, .n_parts = 1, .fixup = true};
    lc_status st = lc_codegen_target(&job.triple, &job.cpu, &job.features);
    if (st == LC_OK) {
        job.keyed = lc_objcache_enabled();
        atomic_init(&job.next, 0);
        run_phase(&job, phase_emit, false);
        if (pt.st == LC_OK) {
            pt.pipeline = g_pipelines[pass_pipeline(pt.lanes || lc_jit_slp(jit), opt_level, false)];
            run_phase(&job, phase_finish, false);
        }
        part_release(&o, &pt);
        if (pt.st != LC_OK) st = lc_fail(pt.st, "%s", pt.error);
    }
    if (st == LC_OK) {
        char name[48];
        snprintf(name, sizeof name, "lc_kernel_%d_fixup", k);
        st = lc_jit_link_more(jit, pt.obj, pt.obj_len, name, entry);
        if (st == LC_OK) atomic_fetch_add(&g_fixups_compiled, 1);
    }
    free(pt.obj);
    return st;
}
