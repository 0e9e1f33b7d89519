/* From a fused program to callable code: emit IR (emit_*.c, see emit.h), optimize with the new pass
 * manager for the target that target.c chose (the host, or LUCID_CPU / LUCID_CPU_FEATURES),
 * emit an object in memory, and link it into the process's ORC LLJIT, in a JITDylib of the
 * program's own (jit_session.c, which also lends the target machine). The object bytes are
 * what the disk cache (objcache.c) stores. Only C API calls present in LLVM 15-22 are used;
 * adding an object avoids the thread-safe-context API that changed in LLVM 21. */
#include <stdlib.h>
#include <string.h>

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
#include "codegen/jit_session.h"
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
 * Left out: the inliner (one function per kernel), full unrolling (it copied a long window's
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
#define LUCID_PIPELINE(slp)                                                                   \
    "function(early-cse<memssa>," INSTCOMBINE ",simplifycfg,loop-mssa(licm,loop-rotate,licm),"   \
    "loop-vectorize," INSTCOMBINE ",simplifycfg," slp "loop-mssa(licm),simplifycfg)"

/* Whether the module builds a vector lane by lane: a long window's partial sums. */
static bool builds_vectors_by_lane(LLVMModuleRef mod) {
    for (LLVMValueRef fn = LLVMGetFirstFunction(mod); fn; fn = LLVMGetNextFunction(fn))
        for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb))
            for (LLVMValueRef in = LLVMGetFirstInstruction(bb); in; in = LLVMGetNextInstruction(in))
                if (LLVMGetInstructionOpcode(in) == LLVMInsertElement) return true;
    return false;
}

/* The pass pipeline for `mod` at `level`: also part of the disk cache's key, so an object
 * made by another pipeline is never loaded. */
static const char *pass_pipeline(LLVMModuleRef mod, int level) {
    static const char *const fixed[] = {"default<O0>", "default<O1>"};
    if (level < 2) return fixed[level < 1 ? 0 : 1];
    return builds_vectors_by_lane(mod) ? LUCID_PIPELINE("slp-vectorizer," INSTCOMBINE ",") : LUCID_PIPELINE("");
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

/* Build IR, optimize, produce object bytes (or take them from the disk cache). */
static lc_status compile_object(const lc_fused *f, const lc_codegen_options *o,
                                lc_codegen_texts *texts, char **obj, size_t *obj_len) {
    const char *triple, *cpu, *features; /* the process's target (target.c) */
    LC_TRY(lc_codegen_target(&triple, &cpu, &features));
    double t0 = lc_now_ms();
    LLVMContextRef ctx = LLVMContextCreate();
    lc_strbuf remarks = {0};
    bool want_remarks = texts && o->want_remarks;
    LLVMContextSetDiagnosticHandler(ctx, collect_remark, want_remarks ? &remarks : NULL);
    LLVMModuleRef mod = LLVMModuleCreateWithNameInContext("lucid", ctx);
    LLVMTargetMachineRef tm = NULL;
    char *ir = NULL;
    char *msg = NULL;
    lc_status st = lc_jit_machine_take(o->opt_level, &tm);
    if (st != LC_OK) goto done;
    LLVMSetTarget(mod, triple);
    LLVMTargetDataRef td = LLVMCreateTargetDataLayout(tm);
    LLVMSetModuleDataLayout(mod, td);
    LLVMDisposeTargetData(td);
    /* FMA only when the feature string says so (a bare LUCID_CPU name: assume not, and
     * multiply then add, which is correct everywhere) */
    st = lc_emit_module(f, ctx, mod, strstr(features, "+fma") != NULL);
    if (st != LC_OK) goto done;
    if (LLVMVerifyModule(mod, LLVMReturnStatusAction, &msg)) {
        st = lc_fail(LC_ERR_INTERNAL, "codegen: invalid IR: %s", msg ? msg : "?");
        LLVMDisposeMessage(msg);
        goto done;
    }
    if (msg) LLVMDisposeMessage(msg);
    /* The IR text is the disk cache's key; printing it cost 2-5% of a compile, so without a
     * cache (and no `llvm` dump) it is not made. */
    bool keyed = lc_objcache_enabled();
    if (keyed || (texts && o->want_llvm)) {
        ir = copy_llvm_string(LLVMPrintModuleToString(mod));
        if (!ir) { st = lc_fail(LC_ERR_NOMEM, "codegen: out of memory"); goto done; }
    }
    if (texts) {
        texts->ms_emit = lc_now_ms() - t0;
        if (o->want_llvm) texts->llvm = strdup(ir);
    }
    if (o->last_step == LC_CODEGEN_EMIT) goto done;
    /* Disk cache: skip optimization and emission when the same IR was compiled before for
     * the same target. Dumps of later stages need the real pipeline, so they bypass it. */
    bool want_later = texts && (o->want_llvm_opt || o->want_asm || o->want_remarks);
    const char *pipeline = pass_pipeline(mod, o->opt_level);
    if (keyed && !want_later && lc_objcache_load(ir, triple, cpu, features, pipeline, obj, obj_len)) {
        if (texts) texts->cache_hit = true;
        goto done;
    }
    double t1 = lc_now_ms();
    st = optimize(mod, tm, pipeline);
    if (st != LC_OK) goto done;
    if (texts) {
        texts->ms_opt = lc_now_ms() - t1;
        if (o->want_llvm_opt) texts->llvm_opt = copy_llvm_string(LLVMPrintModuleToString(mod));
    }
    if (o->last_step == LC_CODEGEN_OPTIMIZE) goto done;
    if (texts) {
        if (o->want_asm) {
            LLVMModuleRef clone = LLVMCloneModule(mod);
            size_t len;
            st = emit_object(tm, clone, LLVMAssemblyFile, &texts->asm_text, &len);
            LLVMDisposeModule(clone);
            if (st != LC_OK) goto done;
        }
    }
    double t2 = lc_now_ms();
    st = emit_object(tm, mod, LLVMObjectFile, obj, obj_len);
    if (st != LC_OK) goto done;
    if (texts) texts->ms_object = lc_now_ms() - t2;
    if (keyed) lc_objcache_store(ir, triple, cpu, features, pipeline, *obj, *obj_len);
done:
    if (want_remarks && st == LC_OK) st = lc_strbuf_finish(&remarks, &texts->remarks);
    else lc_strbuf_free(&remarks);
    free(ir);
    lc_jit_machine_give_back(o->opt_level, tm);
    LLVMDisposeModule(mod);
    LLVMContextDispose(ctx);
    return st;
}

lc_status lc_codegen(const lc_fused *f, const lc_codegen_options *opts, lc_codegen_texts *texts,
                     lc_jit **jit, lc_kernel_entry *entries) {
    *jit = NULL;
    LC_TRY(lc_codegen_headroom()); /* LLVM ends the process when it runs out of memory */
    lc_codegen_options o = opts ? *opts : (lc_codegen_options){.opt_level = 3};
    char *obj = NULL;
    size_t len = 0;
    LC_TRY(compile_object(f, &o, texts, &obj, &len));
    if (o.last_step != LC_CODEGEN_LINK) {
        free(obj);
        return LC_OK;
    }
    double t = lc_now_ms();
    lc_status st = lc_jit_link(obj, len, f->n_kernels, jit, entries);
    if (texts) texts->ms_link = lc_now_ms() - t;
    free(obj);
    return st;
}
