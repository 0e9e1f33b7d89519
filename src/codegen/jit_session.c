/* The LLVM objects a compile needs but no program owns, made once per process and shared:
 *
 *   one ORC LLJIT ── per program: a JITDylib (its own namespace: every program's kernels
 *   (made at the      are named lc_kernel_0, 1, ...) and a resource tracker holding its code.
 *    first link)      lc_jit_free removes the tracker (the code goes) and puts the JITDylib
 *                     back on a free list for the next program; so the dylibs alive are at
 *                     most the programs alive at once.
 *   target machines ─ a free list per code-generator level; each module a compile makes (one
 *                     per kernel, on several threads) takes one and gives it back (a target
 *                     machine is not for two threads at once, and making one builds the
 *                     subtarget's tables again).
 *
 * Making these per compile cost 3.7M instructions of a small program's 35-83M (the LLJIT
 * builds a target machine of its own for the host, and a fresh target machine rebuilds its
 * subtarget at the first function; bench/README.md has the counts).
 *
 * Thread safety: every call into the LLJIT (add an object, look a symbol up, remove a tracker)
 * is made under g_lock, so ORC's session error reporter can keep the one message of the link
 * in progress; linking is a small part of a compile (under 0.5%), so compiles still run in
 * parallel where the time goes (IR, optimization, object code). The free lists have their
 * own lock.
 *
 * At exit the LLJIT and the idle target machines are disposed (valgrind would otherwise see
 * LLVM's blocks as possibly lost; the compile cache lets go of its programs first, as its exit
 * handler is registered after this one), except after LLVM's fatal-error path. */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Core.h>
#include <llvm-c/Error.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>
#include <llvm-c/TargetMachine.h>

#include "codegen/jit_session.h"
#include "support/error.h"

struct lc_jit {
    LLVMOrcJITDylibRef dylib;
    LLVMOrcResourceTrackerRef tracker; /* this program's code in `dylib` */
    bool slp;                          /* the program's pass list has SLP */
};

/* Idle target machines kept per level; more than this (compiles from many threads at once)
 * are disposed when given back. */
#define IDLE_MACHINES 8

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static LLVMOrcLLJITRef g_jit;        /* made at the first link */
static bool g_closed;                /* disposed at exit: nothing more to free */
static char g_session_error[512];    /* what ORC reported during the link in progress */
static LLVMOrcJITDylibRef *g_idle_dylibs;
static int g_n_idle_dylibs, g_cap_idle_dylibs, g_n_dylibs;

static pthread_mutex_t g_machine_lock = PTHREAD_MUTEX_INITIALIZER;
static LLVMTargetMachineRef g_idle_machines[LC_MACHINE_LEVELS][IDLE_MACHINES];
static int g_n_idle_machines[LC_MACHINE_LEVELS];

/* Set in a child process of fork(): LLVM's locks may have been held by a parent's thread that
 * the child does not have (a compile in the background), so the child leaves LLVM as it is at
 * its exit instead of tearing it down. */
static bool g_forked_child;
static void mark_forked_child(void) { g_forked_child = true; }

static void close_at_exit(void) {
    if (lc_codegen_llvm_failed()) return; /* LLVM is ending the process from inside */
    if (g_forked_child) return;
    pthread_mutex_lock(&g_machine_lock);
    for (int a = 0; a < LC_MACHINE_LEVELS; a++) {
        for (int i = 0; i < g_n_idle_machines[a]; i++) LLVMDisposeTargetMachine(g_idle_machines[a][i]);
        g_n_idle_machines[a] = 0;
    }
    pthread_mutex_unlock(&g_machine_lock);
    pthread_mutex_lock(&g_lock);
    if (g_jit) {
        LLVMErrorRef err = LLVMOrcDisposeLLJIT(g_jit);
        if (err) LLVMConsumeError(err);
        g_jit = NULL;
    }
    free(g_idle_dylibs);
    g_idle_dylibs = NULL;
    g_n_idle_dylibs = g_cap_idle_dylibs = 0;
    g_closed = true;
    pthread_mutex_unlock(&g_lock);
}

static void register_close_at_exit(void) {
    atexit(close_at_exit);
    pthread_atfork(NULL, NULL, mark_forked_child);
}

static void ensure_close_at_exit(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, register_close_at_exit);
}

static lc_status llvm_fail(LLVMErrorRef err, const char *what) {
    char *msg = LLVMGetErrorMessage(err);
    lc_status st = lc_fail(LC_ERR_JIT, "codegen: %s: %s", what, msg);
    LLVMDisposeErrorMessage(msg);
    return st;
}

/* ---- target machines ---- */

lc_status lc_jit_machine_take(lc_machine_level level, LLVMTargetMachineRef *out) {
    *out = NULL;
    pthread_mutex_lock(&g_machine_lock);
    if (g_n_idle_machines[level] > 0) *out = g_idle_machines[level][--g_n_idle_machines[level]];
    pthread_mutex_unlock(&g_machine_lock);
    if (*out) return LC_OK;
    const char *triple, *cpu, *features; /* the process's target (target.c) */
    LC_TRY(lc_codegen_target(&triple, &cpu, &features));
    LLVMTargetRef target;
    char *msg = NULL;
    if (LLVMGetTargetFromTriple(triple, &target, &msg)) {
        lc_status st = lc_fail(LC_ERR_JIT, "codegen: no target for %s: %s", triple, msg ? msg : "?");
        LLVMDisposeMessage(msg);
        return st;
    }
    *out = LLVMCreateTargetMachine(target, triple, cpu, features,
                                   level == LC_MACHINE_QUICK     ? LLVMCodeGenLevelNone
                                   : level == LC_MACHINE_DEFAULT ? LLVMCodeGenLevelDefault
                                                                 : LLVMCodeGenLevelAggressive,
                                   LLVMRelocPIC, LLVMCodeModelSmall);
    if (!*out) return lc_fail(LC_ERR_JIT, "codegen: cannot make a target machine for cpu %s", cpu);
    ensure_close_at_exit();
    return LC_OK;
}

void lc_jit_machine_give_back(lc_machine_level level, LLVMTargetMachineRef tm) {
    if (!tm) return;
    pthread_mutex_lock(&g_machine_lock);
    if (g_n_idle_machines[level] < IDLE_MACHINES) {
        g_idle_machines[level][g_n_idle_machines[level]++] = tm;
        tm = NULL;
    }
    pthread_mutex_unlock(&g_machine_lock);
    if (tm) LLVMDisposeTargetMachine(tm);
}

/* ---- the LLJIT ---- */

/* ORC reports a failed link (a symbol nobody defines) to the session, which would print
 * "JIT session error: ..." on stderr; keep it for the status message instead. Called under
 * g_lock: every call that can report runs under it. */
static void keep_session_error(void *ctx, LLVMErrorRef err) {
    (void)ctx;
    char *msg = LLVMGetErrorMessage(err);
    if (!g_session_error[0]) snprintf(g_session_error, sizeof g_session_error, "%s", msg);
    LLVMDisposeErrorMessage(msg);
}

/* Under g_lock. */
static lc_status ensure_jit(void) {
    if (g_jit) return LC_OK;
    if (g_closed) return lc_fail(LC_ERR_JIT, "codegen: the JIT is closed (the process is exiting)");
    LLVMOrcLLJITBuilderRef builder = LLVMOrcCreateLLJITBuilder();
    LLVMErrorRef err = LLVMOrcCreateLLJIT(&g_jit, builder); /* takes the builder */
    if (err) {
        g_jit = NULL;
        return llvm_fail(err, "cannot create the JIT");
    }
    LLVMOrcExecutionSessionSetErrorReporter(LLVMOrcLLJITGetExecutionSession(g_jit),
                                            keep_session_error, NULL);
    ensure_close_at_exit();
    return LC_OK;
}

/* An empty JITDylib that finds the math functions kernels call in the process. Under g_lock. */
static lc_status take_dylib(LLVMOrcJITDylibRef *out) {
    if (g_n_idle_dylibs > 0) {
        *out = g_idle_dylibs[--g_n_idle_dylibs];
        return LC_OK;
    }
    if (g_cap_idle_dylibs <= g_n_dylibs) { /* room to give every dylib back without failing */
        int cap = g_cap_idle_dylibs ? 2 * g_cap_idle_dylibs : 8;
        LLVMOrcJITDylibRef *grown = realloc(g_idle_dylibs, (size_t)cap * sizeof *grown);
        if (!grown) return lc_fail(LC_ERR_NOMEM, "codegen: out of memory");
        g_idle_dylibs = grown;
        g_cap_idle_dylibs = cap;
    }
    char name[48];
    snprintf(name, sizeof name, "lucid-program-%d", g_n_dylibs);
    LLVMOrcJITDylibRef jd = LLVMOrcExecutionSessionCreateBareJITDylib(
        LLVMOrcLLJITGetExecutionSession(g_jit), name);
    LLVMOrcDefinitionGeneratorRef gen = NULL;
    LLVMErrorRef err = LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(
        &gen, LLVMOrcLLJITGetGlobalPrefix(g_jit), NULL, NULL);
    if (err) return llvm_fail(err, "cannot search the process for math functions");
    LLVMOrcJITDylibAddGenerator(jd, gen); /* takes the generator */
    g_n_dylibs++;
    *out = jd;
    return LC_OK;
}

/* Remove a program's code and keep its dylib for the next one. Under g_lock. */
static void release_program(LLVMOrcJITDylibRef jd, LLVMOrcResourceTrackerRef rt) {
    if (rt) {
        LLVMErrorRef err = LLVMOrcResourceTrackerRemove(rt);
        if (err) LLVMConsumeError(err);
        LLVMOrcReleaseResourceTracker(rt);
    }
    g_idle_dylibs[g_n_idle_dylibs++] = jd; /* room reserved in take_dylib */
}

typedef struct lookup_result {
    bool done;
    LLVMErrorRef err;
    LLVMOrcExecutorAddress addr;
} lookup_result;

static void keep_lookup(LLVMErrorRef err, LLVMOrcCSymbolMapPairs pairs, size_t n, void *ctx) {
    lookup_result *r = ctx;
    r->done = true;
    r->err = err;
    if (!err && n == 1) r->addr = pairs[0].Sym.Address;
}

/* One symbol of one dylib. The LLJIT dispatches its work in place (it is made without compile
 * threads), so the lookup has finished, and its handler run, when the call returns. */
static LLVMErrorRef lookup(LLVMOrcJITDylibRef jd, const char *name, LLVMOrcExecutorAddress *addr) {
    LLVMOrcCJITDylibSearchOrderElement order[1] = {
        {jd, LLVMOrcJITDylibLookupFlagsMatchAllSymbols}};
    LLVMOrcCLookupSetElement symbols[1] = {
        {LLVMOrcLLJITMangleAndIntern(g_jit, name), LLVMOrcSymbolLookupFlagsRequiredSymbol}};
    lookup_result r = {0};
    LLVMOrcExecutionSessionLookup(LLVMOrcLLJITGetExecutionSession(g_jit), LLVMOrcLookupKindStatic,
                                  order, 1, symbols, 1, keep_lookup, &r); /* takes the name */
    LC_ASSERT(r.done);
    *addr = r.addr;
    return r.err;
}

/* An object into program j's code (its resource tracker); g_lock held. */
static lc_status add_object(lc_jit *j, const char *obj, size_t len, const char *buf_name) {
    LLVMMemoryBufferRef buf = LLVMCreateMemoryBufferWithMemoryRangeCopy(obj, len, buf_name);
    LLVMErrorRef err = LLVMOrcLLJITAddObjectFileWithRT(g_jit, j->tracker, buf); /* takes buf */
    return err ? llvm_fail(err, "cannot add the object") : LC_OK;
}

/* The address of function `name` in program j's code, linking what it needs (`what` names
 * it in the error, with the session's own message); g_lock held. */
static lc_status lookup_entry(lc_jit *j, const char *name, const char *what, lc_kernel_entry *entry) {
    LLVMOrcExecutorAddress addr = 0;
    LLVMErrorRef err = lookup(j->dylib, name, &addr);
    if (err) {
        char msg[600];
        snprintf(msg, sizeof msg, "cannot link %s%s%s", what, g_session_error[0] ? ": " : "", g_session_error);
        return llvm_fail(err, msg);
    }
    *entry = (lc_kernel_entry)(uintptr_t)addr;
    return LC_OK;
}

static lc_status link_locked(const char *const *objs, const size_t *lens, int n_objs,
                             int n_kernels, lc_jit *j, lc_kernel_entry *entries) {
    LC_TRY(ensure_jit());
    LC_TRY(take_dylib(&j->dylib));
    g_session_error[0] = '\0';
    j->tracker = LLVMOrcJITDylibCreateResourceTracker(j->dylib);
    for (int i = 0; i < n_objs; i++) LC_TRY(add_object(j, objs[i], lens[i], "lucid-kernels"));
    for (int k = 0; k < n_kernels; k++) {
        char name[48], what[48];
        snprintf(name, sizeof name, "lc_kernel_%d", k);
        snprintf(what, sizeof what, "kernel %d", k);
        LC_TRY(lookup_entry(j, name, what, &entries[k]));
    }
    return LC_OK;
}

lc_status lc_jit_link(const char *const *objs, const size_t *lens, int n_objs, int n_kernels,
                      lc_jit **out, lc_kernel_entry *entries) {
    *out = NULL;
    lc_jit *j = calloc(1, sizeof *j);
    if (!j) return lc_fail(LC_ERR_NOMEM, "codegen: out of memory");
    pthread_mutex_lock(&g_lock);
    lc_status st = link_locked(objs, lens, n_objs, n_kernels, j, entries);
    if (st != LC_OK && j->dylib) release_program(j->dylib, j->tracker);
    pthread_mutex_unlock(&g_lock);
    if (st != LC_OK) {
        free(j);
        return st;
    }
    *out = j;
    return LC_OK;
}

lc_status lc_jit_link_more(lc_jit *jit, const char *obj, size_t len, const char *name,
                           lc_kernel_entry *entry) {
    pthread_mutex_lock(&g_lock);
    g_session_error[0] = '\0';
    if (g_closed) {
        pthread_mutex_unlock(&g_lock);
        return lc_fail(LC_ERR_JIT, "codegen: the JIT is closed (the process is exiting)");
    }
    lc_status st = add_object(jit, obj, len, "lucid-fixup");
    if (st == LC_OK) st = lookup_entry(jit, name, name, entry);
    pthread_mutex_unlock(&g_lock);
    return st;
}

void lc_jit_set_slp(lc_jit *jit, bool slp) { jit->slp = slp; }
bool lc_jit_slp(const lc_jit *jit) { return jit->slp; }

void lc_jit_free(lc_jit *jit) {
    if (!jit) return;
    pthread_mutex_lock(&g_lock);
    if (!g_closed) release_program(jit->dylib, jit->tracker);
    pthread_mutex_unlock(&g_lock);
    free(jit);
}

int lc_jit_dylib_count(void) {
    pthread_mutex_lock(&g_lock);
    int n = g_n_dylibs;
    pthread_mutex_unlock(&g_lock);
    return n;
}
