/* A value the loop's trip t computes that trip t - 1 computed already, taken from there.
 *
 * LPPool1d(2, 4, 2)'s forward+backward is one window-major kernel: a block of two positions is
 * covered by windows b - 1 and b, and evaluates both inline, so every window's sum, root and
 * reciprocal are computed twice, in two blocks (a square root and a division each time, which
 * bound the loop on an AVX2 core: bench/README.md, "LP gradients on AVX2: the divider"). What
 * window b - 1 gives in block b, window b gave in block b - 1. Written as a recurrence (a phi
 * at the loop's head: its first value computed before the loop, then the previous trip's),
 * LLVM's loop vectorizer turns it into a shift of lanes by one, and the second evaluation dies.
 *
 * A value A is the previous trip's B when A at trip t equals B at trip t - 1, found on the IR
 * as emitted (so no stage has to know which of its values repeat): the same operation on
 * operands that are each the previous trip's operand of B; an integer that is affine in the
 * loop's index (c·i + k + loop-invariant terms) equals B's with i replaced by i - 1; a load
 * reads such an address from a buffer the loop does not write (the kernels' buffers are
 * distinct, which the alias scopes already promise LLVM); values from outside the loop equal
 * themselves. A is then exactly B's bits from the trip before: the same operations on the
 * same inputs. Only the largest such values are carried (those some value that is not carried
 * reads), and only where a division, a root or a power dies with them (COSTLY below). The
 * first trip's value is B's computation cloned before the loop at the previous position; it
 * reads what the first trip's A would have read, so nothing new is read. A value the loop only
 * ORs into a flag (the fix-up's) is not carried but dropped: the trip before ORed the same
 * bits, and the first trip's are ORed before the loop. */
#include "codegen/carry_values.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- the body's instructions, numbered ---- */

typedef struct body {
    LLVMValueRef i, start;
    LLVMBasicBlockRef head, block;
    int n;
    LLVMValueRef *ins;
    /* pointer -> number, open addressing */
    uintptr_t *key;
    int *val;
    size_t cap;
    /* the carried phis so far and the value each takes from the previous trip */
    int n_phi;
    LLVMValueRef phi[64], next[64];
    /* the roots of the pointers the loop stores through */
    int n_stored;
    LLVMValueRef stored[32];
    bool stored_overflow;
} body;

static size_t hash_ptr(uintptr_t p) { return (size_t)((p >> 4) * 0x9E3779B97F4A7C15ull); }

static int number_of(const body *s, LLVMValueRef v) {
    size_t m = s->cap - 1;
    for (size_t h = hash_ptr((uintptr_t)v) & m;; h = (h + 1) & m) {
        if (s->key[h] == 0) return -1;
        if (s->key[h] == (uintptr_t)v) return s->val[h];
    }
}

static void number(body *s, LLVMValueRef v, int k) {
    size_t m = s->cap - 1;
    size_t h = hash_ptr((uintptr_t)v) & m;
    while (s->key[h] != 0) h = (h + 1) & m;
    s->key[h] = (uintptr_t)v;
    s->val[h] = k;
}

static bool in_loop(const body *s, LLVMValueRef v) {
    if (!LLVMIsAInstruction(v)) return false;
    LLVMBasicBlockRef bb = LLVMGetInstructionParent(v);
    return bb == s->block || bb == s->head;
}

static int carried_phi(const body *s, LLVMValueRef v) {
    for (int k = 0; k < s->n_phi; k++)
        if (s->phi[k] == v) return k;
    return -1;
}

/* The value a pointer is an offset of (GEPs and casts taken off). */
static LLVMValueRef pointer_root(LLVMValueRef p) {
    for (int depth = 0; depth < 64; depth++) {
        if (LLVMIsAGetElementPtrInst(p) || LLVMIsABitCastInst(p) || LLVMIsAAddrSpaceCastInst(p))
            p = LLVMGetOperand(p, 0);
        else
            break;
    }
    return p;
}

static bool root_stored(const body *s, LLVMValueRef root) {
    if (s->stored_overflow) return true;
    for (int k = 0; k < s->n_stored; k++)
        if (s->stored[k] == root) return true;
    return false;
}

/* ---- integers affine in the loop's index ---- */

/* Unsigned: the integers wrap as the IR's do (and C's signed overflow is undefined). */
#define AFFINE_TERMS 4
typedef struct affine {
    bool ok;
    uint64_t ci, k;
    int n;
    LLVMValueRef sym[AFFINE_TERMS];
    uint64_t coef[AFFINE_TERMS];
} affine;

static affine aff_scale(affine a, uint64_t c) {
    a.ci *= c;
    a.k *= c;
    for (int t = 0; t < a.n; t++) a.coef[t] *= c;
    return a;
}

static affine aff_add(affine a, affine b) {
    if (!a.ok || !b.ok) return (affine){0};
    a.ci += b.ci;
    a.k += b.k;
    for (int t = 0; t < b.n; t++) {
        int u = 0;
        while (u < a.n && a.sym[u] != b.sym[t]) u++;
        if (u == a.n) {
            if (a.n == AFFINE_TERMS) return (affine){0};
            a.sym[a.n] = b.sym[t];
            a.coef[a.n++] = 0;
        }
        a.coef[u] += b.coef[t];
    }
    return a;
}

static bool aff_const(const affine *a) {
    if (a->ci != 0) return false;
    for (int t = 0; t < a->n; t++)
        if (a->coef[t] != 0) return false;
    return true;
}

/* v as c·i + k + Σ coef·sym over 64-bit integers (wrapping arithmetic, which add, sub, mul
 * and shl keep); !ok where it is not. */
static affine affine_of(const body *s, LLVMValueRef v, int depth) {
    if (v == s->i) return (affine){true, 1, 0, 0, {0}, {0}};
    if (LLVMIsAConstantInt(v)) return (affine){true, 0, (uint64_t)LLVMConstIntGetSExtValue(v), 0, {0}, {0}};
    if (!in_loop(s, v)) return (affine){true, 0, 0, 1, {v}, {1}};
    if (depth > 32 || LLVMGetInstructionParent(v) != s->block) return (affine){0};
    LLVMOpcode op = LLVMGetInstructionOpcode(v);
    if (op != LLVMAdd && op != LLVMSub && op != LLVMMul && op != LLVMShl) return (affine){0};
    affine a = affine_of(s, LLVMGetOperand(v, 0), depth + 1), b = affine_of(s, LLVMGetOperand(v, 1), depth + 1);
    if (!a.ok || !b.ok) return (affine){0};
    if (op == LLVMAdd) return aff_add(a, b);
    if (op == LLVMSub) return aff_add(a, aff_scale(b, UINT64_MAX)); /* times -1 */
    if (op == LLVMShl) return aff_const(&b) && b.k < 63 ? aff_scale(a, UINT64_C(1) << b.k) : (affine){0};
    if (aff_const(&b)) return aff_scale(a, b.k);
    if (aff_const(&a)) return aff_scale(b, a.k);
    return (affine){0};
}

/* a(t) == b(t - 1) for affine a and b: the same terms, a's constant b's less b's step. */
static bool affine_shifted(affine a, affine b) {
    if (!a.ok || !b.ok || a.ci != b.ci || a.k != b.k - b.ci) return false;
    affine d = aff_add(a, aff_scale(b, UINT64_MAX));
    if (!d.ok) return false;
    for (int t = 0; t < d.n; t++)
        if (d.coef[t] != 0) return false;
    return true;
}

/* ---- a(t) == b(t - 1) ---- */

typedef struct pair_memo {
    uint64_t *key; /* (a·n + b) + 1, 0 empty */
    uint8_t *val;
    size_t cap, used;
} pair_memo;

static int memo_get(const pair_memo *m, uint64_t k) {
    size_t mask = m->cap - 1;
    for (size_t h = (size_t)(k * 0x9E3779B97F4A7C15ull) & mask;; h = (h + 1) & mask) {
        if (m->key[h] == 0) return 0;
        if (m->key[h] == k) return m->val[h];
    }
}

static bool memo_put(pair_memo *m, uint64_t k, uint8_t v) {
    if (2 * (m->used + 1) > m->cap) {
        pair_memo g = {calloc(2 * m->cap, sizeof *g.key), calloc(2 * m->cap, 1), 2 * m->cap, 0};
        if (!g.key || !g.val) {
            free(g.key);
            free(g.val);
            return false;
        }
        for (size_t h = 0; h < m->cap; h++)
            if (m->key[h]) memo_put(&g, m->key[h], m->val[h]);
        free(m->key);
        free(m->val);
        *m = g;
    }
    size_t mask = m->cap - 1;
    size_t h = (size_t)(k * 0x9E3779B97F4A7C15ull) & mask;
    while (m->key[h] != 0) h = (h + 1) & mask;
    m->key[h] = k;
    m->val[h] = v;
    m->used++;
    return true;
}

/* Intrinsics without side effects whose result depends on their operands alone. */
static bool pure_call(LLVMValueRef call) {
    LLVMValueRef f = LLVMGetCalledValue(call);
    if (!f || !LLVMIsAFunction(f) || LLVMGetIntrinsicID(f) == 0) return false;
    size_t len = 0;
    const char *name = LLVMGetValueName2(f, &len);
    static const char *const pure[] = {"llvm.fabs.",  "llvm.sqrt.",   "llvm.fma.",     "llvm.fmuladd.",
                                       "llvm.copysign.", "llvm.minnum.", "llvm.maxnum.", "llvm.minimum.",
                                       "llvm.maximum.", "llvm.exp2.",  "llvm.log2.",    "llvm.exp.",
                                       "llvm.log.",   "llvm.pow.",    "llvm.powi.",    "llvm.floor.",
                                       "llvm.ceil.",  "llvm.trunc.",  "llvm.rint.",    "llvm.nearbyint.",
                                       "llvm.ldexp.", "llvm.smax.",   "llvm.smin.",    "llvm.umax.",
                                       "llvm.umin."};
    for (size_t k = 0; k < sizeof pure / sizeof pure[0]; k++)
        if (strncmp(name, pure[k], strlen(pure[k])) == 0) return true;
    return false;
}

typedef struct matcher {
    body *s;
    pair_memo memo;
    bool out_of_memory;
} matcher;

static bool shifted(matcher *m, LLVMValueRef a, LLVMValueRef b, int depth);

static bool shifted_instruction(matcher *m, LLVMValueRef a, LLVMValueRef b, int depth) {
    body *s = m->s;
    LLVMOpcode op = LLVMGetInstructionOpcode(a);
    if (op != LLVMGetInstructionOpcode(b) || LLVMTypeOf(a) != LLVMTypeOf(b)) return false;
    int n = LLVMGetNumOperands(a);
    if (n != LLVMGetNumOperands(b)) return false;
    switch (op) {
    case LLVMFAdd: case LLVMFSub: case LLVMFMul: case LLVMFDiv: case LLVMFNeg:
    case LLVMAdd: case LLVMSub: case LLVMMul: case LLVMShl: case LLVMLShr: case LLVMAShr:
    case LLVMAnd: case LLVMOr: case LLVMXor:
    case LLVMTrunc: case LLVMZExt: case LLVMSExt: case LLVMFPTrunc: case LLVMFPExt:
    case LLVMFPToSI: case LLVMFPToUI: case LLVMSIToFP: case LLVMUIToFP: case LLVMBitCast:
    case LLVMSelect: case LLVMExtractElement: case LLVMInsertElement: case LLVMGetElementPtr:
        break;
    case LLVMICmp:
        if (LLVMGetICmpPredicate(a) != LLVMGetICmpPredicate(b)) return false;
        break;
    case LLVMFCmp:
        if (LLVMGetFCmpPredicate(a) != LLVMGetFCmpPredicate(b)) return false;
        break;
    case LLVMShuffleVector: {
        unsigned k = LLVMGetNumMaskElements(a);
        if (k != LLVMGetNumMaskElements(b)) return false;
        for (unsigned j = 0; j < k; j++)
            if (LLVMGetMaskValue(a, j) != LLVMGetMaskValue(b, j)) return false;
        break;
    }
    case LLVMLoad:
        if (LLVMGetVolatile(a) || LLVMGetVolatile(b) || LLVMGetOrdering(a) != LLVMAtomicOrderingNotAtomic ||
            root_stored(s, pointer_root(LLVMGetOperand(a, 0))))
            return false;
        break;
    case LLVMCall:
        if (LLVMGetCalledValue(a) != LLVMGetCalledValue(b) || !pure_call(a)) return false;
        break;
    default:
        return false; /* phis, stores, divisions of integers, anything else */
    }
    if (op == LLVMGetElementPtr && LLVMGetGEPSourceElementType(a) != LLVMGetGEPSourceElementType(b)) return false;
    for (int k = 0; k < n; k++)
        if (!shifted(m, LLVMGetOperand(a, (unsigned)k), LLVMGetOperand(b, (unsigned)k), depth + 1)) return false;
    return true;
}

static bool shifted(matcher *m, LLVMValueRef a, LLVMValueRef b, int depth) {
    body *s = m->s;
    /* (all matching is done before the first phi is made: no carried phi is met here) */
    bool la = in_loop(s, a), lb = in_loop(s, b);
    if (!la && !lb && a != s->i && b != s->i) return a == b;
    if (LLVMGetTypeKind(LLVMTypeOf(a)) == LLVMIntegerTypeKind && LLVMTypeOf(a) == LLVMTypeOf(b) &&
        LLVMGetIntTypeWidth(LLVMTypeOf(a)) == 64) {
        affine fa = affine_of(s, a, 0), fb = affine_of(s, b, 0);
        if (fa.ok && fb.ok) return affine_shifted(fa, fb);
    }
    if (!la || !lb || a == s->i || b == s->i || depth > 200) return false;
    int ia = number_of(s, a), ib = number_of(s, b);
    if (ia < 0 || ib < 0) return false; /* the head's phis: a different value each trip */
    uint64_t key = (uint64_t)ia * (uint64_t)s->n + (uint64_t)ib + 1;
    int known = memo_get(&m->memo, key);
    if (known) return known == 1;
    bool r = shifted_instruction(m, a, b, depth);
    if (!memo_put(&m->memo, key, r ? 1 : 2)) m->out_of_memory = true;
    return r;
}

/* ---- which values to carry ---- */

/* A carried value costs the vectorized loop a shift of lanes a trip: on AVX2 three shuffles,
 * one across the register's halves, mostly on the port that also takes the roots and the
 * divisions (llvm-mca-19 -mcpu=znver3 on LPPool1d(2, 4, 2)'s gather: carrying its windows'
 * partial sums, bits, roots and reciprocals, 7 values, saved a root and a division a trip and
 * took as many cycles in shuffles). So a value is carried only where a division, a root or a
 * power dies with it. */
#define COSTLY 16

static bool costly_call(LLVMValueRef call) {
    size_t len = 0;
    const char *name = LLVMGetValueName2(LLVMGetCalledValue(call), &len);
    static const char *const costly[] = {"llvm.sqrt.", "llvm.exp2.", "llvm.log2.",
                                         "llvm.exp.",  "llvm.log.",  "llvm.pow."};
    for (size_t k = 0; k < sizeof costly / sizeof costly[0]; k++)
        if (strncmp(name, costly[k], strlen(costly[k])) == 0) return true;
    return false;
}

/* What evaluating v's instructions in the body costs, over those a match was found for (the
 * ones a carried value no longer needs): a division, root or power COSTLY, another 1. */
static int cost(const body *s, LLVMValueRef v, const int *match, uint8_t *seen, int depth) {
    int k = number_of(s, v);
    if (k < 0 || match[k] < 0 || seen[k] || depth > 200) return 0;
    seen[k] = 1;
    LLVMOpcode op = LLVMGetInstructionOpcode(v);
    int c = op == LLVMFDiv || (op == LLVMCall && costly_call(v)) ? COSTLY
            : op == LLVMLoad || op == LLVMGetElementPtr              ? 0
                                                                     : 1;
    for (int j = 0; j < LLVMGetNumOperands(v); j++)
        c += cost(s, LLVMGetOperand(v, (unsigned)j), match, seen, depth + 1);
    return c;
}

/* ---- flags ---- */

/* The pointer P where v's every use is `P |= v` (a load of P, the or, its store to P) and P is
 * only ever ORed into in the body, so it holds every trip's bits once that trip has run; else
 * NULL. The fix-up's flag is such a P. */
static LLVMValueRef or_accumulated(const body *s, LLVMValueRef v) {
    LLVMValueRef p = NULL;
    for (LLVMUseRef u = LLVMGetFirstUse(v); u; u = LLVMGetNextUse(u)) {
        LLVMValueRef o = LLVMGetUser(u);
        if (!LLVMIsAInstruction(o) || LLVMGetInstructionParent(o) != s->block || LLVMGetInstructionOpcode(o) != LLVMOr)
            return NULL;
        LLVMValueRef l = LLVMGetOperand(o, 0) == v ? LLVMGetOperand(o, 1) : LLVMGetOperand(o, 0);
        LLVMUseRef only = LLVMGetFirstUse(o);
        if (!LLVMIsALoadInst(l) || !only || LLVMGetNextUse(only) || !LLVMIsAStoreInst(LLVMGetUser(only)) ||
            LLVMGetOperand(LLVMGetUser(only), 1) != LLVMGetOperand(l, 0) || LLVMGetOperand(LLVMGetUser(only), 0) != o)
            return NULL;
        if (p && p != LLVMGetOperand(l, 0)) return NULL;
        p = LLVMGetOperand(l, 0);
    }
    if (!p) return NULL;
    /* every access to P in the body is part of such an OR */
    for (int k = 0; k < s->n; k++) {
        LLVMValueRef x = s->ins[k];
        bool load = LLVMIsALoadInst(x) && LLVMGetOperand(x, 0) == p;
        bool store = LLVMIsAStoreInst(x) && LLVMGetOperand(x, 1) == p;
        if (store) {
            LLVMValueRef o = LLVMGetOperand(x, 0);
            if (!LLVMIsAInstruction(o) || LLVMGetInstructionOpcode(o) != LLVMOr) return NULL;
            bool from_p = false;
            for (int j = 0; j < 2; j++) {
                LLVMValueRef l = LLVMGetOperand(o, (unsigned)j);
                from_p = from_p || (LLVMIsALoadInst(l) && LLVMGetOperand(l, 0) == p);
            }
            if (!from_p) return NULL;
        }
        if (load)
            for (LLVMUseRef u = LLVMGetFirstUse(x); u; u = LLVMGetNextUse(u)) {
                LLVMValueRef o = LLVMGetUser(u);
                if (!LLVMIsAInstruction(o) || LLVMGetInstructionOpcode(o) != LLVMOr) return NULL;
                LLVMUseRef only = LLVMGetFirstUse(o);
                if (!only || LLVMGetNextUse(only) || !LLVMIsAStoreInst(LLVMGetUser(only)) ||
                    LLVMGetOperand(LLVMGetUser(only), 1) != p)
                    return NULL;
            }
        /* P read or written otherwise (a call, a store of P itself) */
        if (!load && !store)
            for (int j = 0; j < LLVMGetNumOperands(x); j++)
                if (LLVMGetOperand(x, (unsigned)j) == p) return NULL;
    }
    return p;
}

static bool match_target(const int *match, int n, int b) {
    for (int a = 0; a < n; a++)
        if (match[a] == b) return true;
    return false;
}

/* ---- B before A ---- */

/* Post-order over v's operands in the body that `after` marks (from A to the block's end):
 * each after the ones it reads. False where A is among them (B reads A). */
static bool collect_after(const body *s, LLVMValueRef v, LLVMValueRef a, uint8_t *after, LLVMValueRef *list,
                          int *n, int depth) {
    int k = number_of(s, v);
    if (k < 0 || after[k] != 1) return true;
    if (v == a || depth > 400) return false;
    after[k] = 2; /* listed */
    for (int j = 0; j < LLVMGetNumOperands(v); j++)
        if (!collect_after(s, LLVMGetOperand(v, (unsigned)j), a, after, list, n, depth + 1)) return false;
    list[(*n)++] = v;
    return true;
}

/* Move B, and what of its computation comes after A, to just before A: all of it reads
 * buffers the loop does not write, or computes (shifted() accepted nothing else), so its
 * place in the body changes no value. False (nothing moved) where B reads A. */
static bool hoist_before(const body *s, LLVMValueRef bv, LLVMValueRef a, uint8_t *after) {
    memset(after, 0, (size_t)s->n);
    bool past = false;
    for (LLVMValueRef x = LLVMGetFirstInstruction(s->block); x; x = LLVMGetNextInstruction(x)) {
        if (x == a) past = true;
        int k = number_of(s, x);
        if (past && k >= 0) after[k] = 1;
    }
    int k = number_of(s, bv);
    if (k < 0 || after[k] == 0) return true; /* before A already */
    LLVMValueRef *list = malloc(sizeof *list * (size_t)s->n);
    int n = 0;
    bool ok = list && collect_after(s, bv, a, after, list, &n, 0);
    if (ok && n > 0) {
        LLVMBuilderRef b = LLVMCreateBuilderInContext(LLVMGetTypeContext(LLVMTypeOf(a)));
        for (int j = 0; j < n; j++) {
            LLVMInstructionRemoveFromParent(list[j]);
            LLVMPositionBuilderBefore(b, a);
            LLVMInsertIntoBuilder(b, list[j]);
        }
        LLVMDisposeBuilder(b);
    }
    free(list);
    return ok;
}

/* ---- the first trip's value: B at the position before the loop's first ---- */

/* A carried phi's first value may itself read a carried phi, the trip before that one: a
 * chain as deep as the windows covering a block, at most this. */
#define MAX_BACK 8

typedef struct cloner {
    body *s;
    LLVMBuilderRef b;
    LLVMValueRef *done; /* [back - 1][instruction number] */
} cloner;

/* v as the trip `back` trips before the loop's first computes it, cloned at the builder. */
static LLVMValueRef clone_at(cloner *c, LLVMValueRef v, int back) {
    body *s = c->s;
    if (v == s->i)
        return LLVMBuildAdd(c->b, s->start, LLVMConstInt(LLVMTypeOf(s->start), (unsigned long long)-back, 1), "");
    int p = carried_phi(s, v);
    if (p >= 0) return clone_at(c, s->next[p], back + 1);
    if (!in_loop(s, v)) return v;
    /* only the index and the carried phis are read from the head (shifted() matched no other) */
    LLVMValueRef *done =
        back <= MAX_BACK ? &c->done[(size_t)(back - 1) * (size_t)s->n + (size_t)number_of(s, v)] : NULL;
    if (done && *done) return *done;
    LLVMValueRef x = LLVMInstructionClone(v);
    for (int j = 0; j < LLVMGetNumOperands(v); j++)
        LLVMSetOperand(x, (unsigned)j, clone_at(c, LLVMGetOperand(v, (unsigned)j), back));
    LLVMInsertIntoBuilder(c->b, x);
    if (done) *done = x;
    return x;
}

/* How many trips back the first value of `v` reaches (its chain of carried phis), at most. */
static int depth_back(const body *s, LLVMValueRef v) {
    int d = 1;
    for (int p = carried_phi(s, v); p >= 0 && d <= MAX_BACK; p = carried_phi(s, s->next[p])) d++;
    return d;
}

int lc_carry_values(LLVMBuilderRef b, LLVMBasicBlockRef pre, LLVMBasicBlockRef head, LLVMBasicBlockRef block,
                    LLVMValueRef i, LLVMValueRef start) {
    body s = {.i = i, .start = start, .head = head, .block = block};
    for (LLVMValueRef x = LLVMGetFirstInstruction(block); x; x = LLVMGetNextInstruction(x)) s.n++;
    if (s.n < 2 || s.n > 20000) return 0;
    s.ins = malloc(sizeof *s.ins * (size_t)s.n);
    s.cap = 1;
    while (s.cap < 2 * (size_t)s.n) s.cap *= 2;
    s.key = calloc(s.cap, sizeof *s.key);
    s.val = calloc(s.cap, sizeof *s.val);
    int *match = malloc(sizeof *match * (size_t)s.n);
    uint8_t *seen = calloc((size_t)s.n, 1);
    LLVMValueRef *rep = calloc((size_t)s.n, sizeof *rep);
    LLVMValueRef *done = calloc((size_t)s.n * MAX_BACK, sizeof *done);
    LLVMValueRef *accumulated = calloc((size_t)s.n, sizeof *accumulated);
    matcher m = {&s, {calloc(1024, sizeof(uint64_t)), calloc(1024, 1), 1024, 0}, false};
    int carried = 0;
    if (!s.ins || !s.key || !s.val || !match || !seen || !rep || !done || !accumulated || !m.memo.key || !m.memo.val)
        goto out;
    int n = 0;
    for (LLVMValueRef x = LLVMGetFirstInstruction(block); x; x = LLVMGetNextInstruction(x)) {
        s.ins[n] = x;
        number(&s, x, n++);
        if (LLVMIsAStoreInst(x) || LLVMIsAAtomicRMWInst(x) || LLVMIsAAtomicCmpXchgInst(x) ||
            (LLVMIsACallInst(x) && !pure_call(x))) {
            if (s.n_stored == 32 || !LLVMIsAStoreInst(x)) s.stored_overflow = true;
            else s.stored[s.n_stored++] = pointer_root(LLVMGetOperand(x, 1));
        }
    }
    /* the values each that is the previous trip's value of an earlier one */
    for (int a = 0; a < s.n; a++) {
        match[a] = -1;
        LLVMValueRef x = s.ins[a];
        LLVMTypeRef ty = LLVMTypeOf(x);
        LLVMTypeKind kind = LLVMGetTypeKind(ty);
        if (kind == LLVMVoidTypeKind || kind == LLVMPointerTypeKind || LLVMIsALoadInst(x) ||
            LLVMIsAGetElementPtrInst(x))
            continue;
        for (int c = 0; c < s.n && match[a] < 0 && !m.out_of_memory; c++)
            if (c != a && LLVMGetInstructionOpcode(s.ins[c]) == LLVMGetInstructionOpcode(x) &&
                LLVMTypeOf(s.ins[c]) == ty && shifted(&m, x, s.ins[c], 0))
                match[a] = c;
    }
    if (m.out_of_memory) goto out;
    for (int a = 0; a < s.n; a++)
        accumulated[a] = match[a] >= 0 || match_target(match, s.n, a) ? or_accumulated(&s, s.ins[a]) : NULL;
    /* carry the largest ones (read by some value that is not carried) that save work */
    for (int a = 0; a < s.n; a++) {
        if (match[a] < 0) continue;
        bool largest = false;
        for (LLVMUseRef u = LLVMGetFirstUse(s.ins[a]); u && !largest; u = LLVMGetNextUse(u)) {
            int k = number_of(&s, LLVMGetUser(u));
            largest = k < 0 || match[k] < 0;
        }
        if (!largest) continue;
        /* a flag the loop ORs in: the trip before ORed the same bits already */
        LLVMValueRef acc = accumulated[a];
        int bi0 = match[a];
        if (acc && accumulated[bi0] == acc) {
            LLVMPositionBuilderBefore(b, LLVMGetBasicBlockTerminator(pre));
            memset(done, 0, sizeof *done * (size_t)s.n * MAX_BACK);
            cloner c = {&s, b, done};
            LLVMValueRef first = clone_at(&c, s.ins[bi0], 1); /* B's own bits, carried or not */
            LLVMTypeRef ty = LLVMTypeOf(first);
            LLVMBuildStore(b, LLVMBuildOr(b, LLVMBuildLoad2(b, ty, acc, ""), first, ""), acc);
            LLVMReplaceAllUsesWith(s.ins[a], LLVMConstNull(ty));
            rep[a] = LLVMConstNull(ty);
            carried++;
            continue;
        }
        memset(seen, 0, (size_t)s.n);
        if (cost(&s, s.ins[a], match, seen, 0) < COSTLY || s.n_phi == 64) continue;
        int bi = match[a];
        LLVMValueRef next = rep[bi] ? rep[bi] : s.ins[bi];
        if (depth_back(&s, next) >= MAX_BACK) continue;
        /* a phi's next value must come before the phi's readers: B moves up to A if after it */
        if (!LLVMIsAPHINode(next) && !hoist_before(&s, next, s.ins[a], seen)) continue;
        LLVMValueRef phi = NULL;
        for (int k = 0; k < s.n_phi && !phi; k++)
            if (s.next[k] == next) phi = s.phi[k];
        if (!phi) {
            LLVMValueRef at = LLVMGetFirstInstruction(head);
            while (at && LLVMIsAPHINode(at)) at = LLVMGetNextInstruction(at);
            LLVMPositionBuilderBefore(b, at);
            phi = LLVMBuildPhi(b, LLVMTypeOf(next), "carried.value");
            /* the first value: the previous trip's computation at the position before the first */
            LLVMPositionBuilderBefore(b, LLVMGetBasicBlockTerminator(pre));
            memset(done, 0, sizeof *done * (size_t)s.n * MAX_BACK);
            cloner c = {&s, b, done};
            LLVMValueRef first = clone_at(&c, next, 1);
            LLVMAddIncoming(phi, &first, &pre, 1);
            LLVMAddIncoming(phi, &next, &block, 1);
            s.phi[s.n_phi] = phi;
            s.next[s.n_phi++] = next;
        }
        LLVMReplaceAllUsesWith(s.ins[a], phi);
        rep[a] = phi;
        carried++;
    }
out:
    free(s.ins);
    free(s.key);
    free(s.val);
    free(match);
    free(seen);
    free(rep);
    free(done);
    free(accumulated);
    free(m.memo.key);
    free(m.memo.val);
    return carried;
}
