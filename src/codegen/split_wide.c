/* Interleaved loads split into loads of the vector width and a tree of two-input shuffles.
 *
 * An element-major loop over windows of k slots with step k (LPPool1d(2, 4)) reads, per trip of
 * VF windows, k·VF consecutive elements: the loop vectorizer makes that one load of <k·VF x T>
 * and takes slot s of each window with a shuffle of stride k (lanes s, s + k, s + 2k, ...).
 * Neither is a legal type or shuffle for the back end, which splits the load into k registers
 * and then works out, shuffle by shuffle, which of them each slot's lanes come from; the DAG
 * combiner (SimplifyDemandedVectorElts) spent about a third of LPPool1d(2, 4)'s forward compile
 * on it. Instcombine adds to it: it hoists a slot's square above the shuffle, onto the whole
 * <k·VF x T> load, once per slot.
 *
 * So, after the pass list and before the back end, each such load becomes k loads of VF lanes
 * (the width the vectorizer chose for the target), and each slot a tree of two-input shuffles
 * of VF lanes: for k a power of two, pairs of loads shuffled into their even and odd lanes,
 * then pairs of those, log2(k) levels shared by the slots (8 shuffles for 4 slots); otherwise,
 * per slot, the loads its lanes come from combined two at a time. Element-wise operations on
 * the wide load whose every use is such a shuffle are first moved below the shuffles, onto the
 * slots. The same addresses are read and every lane keeps its value (a shuffle moves lanes, an
 * element-wise operation does the same thing to a lane wherever it sits), so no result changes
 * bit; the vectorized loop keeps its instructions, in the form the back end selects at once. */
#include "codegen/split_wide.h"

#include <stdbool.h>
#include <string.h>

#include "codegen/intrinsic.h"
#include <llvm/Config/llvm-config.h> /* LLVM_VERSION_MAJOR; a C header */

#define MAX_LANES 64  /* lanes of a shuffle this rewrites */
#define MAX_PIECES 16 /* loads of VF lanes one wide load becomes */
#define MAX_MEMO 128  /* shuffles one wide load's tree holds */
#define MAX_USERS 256
#define MIN_PIECE_BYTES 16 /* the narrowest vector register of the targets (SSE's 128 bits) */

static unsigned lanes(LLVMValueRef v) {
    LLVMTypeRef t = LLVMTypeOf(v);
    return LLVMGetTypeKind(t) == LLVMVectorTypeKind ? LLVMGetVectorSize(t) : 0;
}

/* shufflevector X, undef, mask with fewer lanes than X: lanes taken out of one vector */
static bool narrowing_shuffle(LLVMValueRef s) {
    return LLVMIsAShuffleVectorInst(s) && LLVMIsUndef(LLVMGetOperand(s, 1)) &&
           LLVMGetNumMaskElements(s) < lanes(LLVMGetOperand(s, 0));
}

static LLVMValueRef mask_const(LLVMContextRef ctx, const int *mask, unsigned r) {
    LLVMTypeRef i32 = LLVMInt32TypeInContext(ctx);
    LLVMValueRef m[MAX_LANES];
    for (unsigned l = 0; l < r; l++)
        m[l] = mask[l] < 0 ? LLVMGetPoison(i32) : LLVMConstInt(i32, (unsigned long long)mask[l], 0);
    return LLVMConstVector(m, r);
}

/* ---- element-wise operations moved below the shuffles that take lanes out of them ---- */

/* Whether the narrowing shuffle takes lanes s, s + k, s + 2k, ... (k >= 2) of its source: a
 * window slot out of an interleaved load (a contiguous part, SLP's, is left alone). */
static bool takes_a_slot(LLVMValueRef shuf) {
    unsigned r = LLVMGetNumMaskElements(shuf);
    int lane[2], value[2], found = 0;
    for (unsigned l = 0; l < r && found < 2; l++) {
        int m = LLVMGetMaskValue(shuf, l);
        if (m == LLVMGetUndefMaskElem()) continue;
        lane[found] = (int)l;
        value[found++] = m;
    }
    if (found < 2 || (value[1] - value[0]) % (lane[1] - lane[0])) return false;
    int k = (value[1] - value[0]) / (lane[1] - lane[0]), s = value[0] - k * lane[0];
    if (k < 2 || s < 0) return false;
    for (unsigned l = 0; l < r; l++) {
        int m = LLVMGetMaskValue(shuf, l);
        if (m != LLVMGetUndefMaskElem() && m != s + k * (int)l) return false;
    }
    return true;
}

static const char *const LANEWISE_INTRINSICS[] = {
    "llvm.fabs",    "llvm.sqrt",    "llvm.fma",     "llvm.fmuladd", "llvm.copysign",
    "llvm.minnum",  "llvm.maxnum",  "llvm.minimum", "llvm.maximum", "llvm.floor",
    "llvm.ceil",    "llvm.trunc",   "llvm.rint",    "llvm.nearbyint", "llvm.round",
    "llvm.roundeven", "llvm.smin",  "llvm.smax",    "llvm.umin",    "llvm.umax",
};

/* The intrinsic's name (overload suffix left off) when it works lane by lane on arguments all
 * of its one overloaded type, else NULL. */
static const char *lanewise_intrinsic(LLVMValueRef call, char *buf, size_t size) {
    LLVMValueRef callee = LLVMGetCalledValue(call);
    unsigned id = callee && LLVMIsAFunction(callee) ? LLVMGetIntrinsicID(callee) : 0;
    if (!id) return NULL;
    size_t len = 0;
    const char *name = LLVMIntrinsicGetName(id, &len);
    if (!name || len + 1 > size) return NULL;
    memcpy(buf, name, len);
    buf[len] = 0;
    for (size_t i = 0; i < sizeof LANEWISE_INTRINSICS / sizeof *LANEWISE_INTRINSICS; i++)
        if (!strcmp(buf, LANEWISE_INTRINSICS[i])) return buf;
    return NULL;
}

/* Whether `in` computes each lane of its vector result from the same lane of its operands
 * alone, and is safe on a lane that a shuffle leaves undefined (no integer division). */
static bool lanewise(LLVMValueRef in) {
    if (!LLVMIsAInstruction(in) || !lanes(in)) return false;
    switch (LLVMGetInstructionOpcode(in)) {
    case LLVMFNeg: case LLVMAdd: case LLVMFAdd: case LLVMSub: case LLVMFSub: case LLVMMul:
    case LLVMFMul: case LLVMFDiv: case LLVMFRem: case LLVMShl: case LLVMLShr: case LLVMAShr:
    case LLVMAnd: case LLVMOr: case LLVMXor: case LLVMICmp: case LLVMFCmp: case LLVMTrunc:
    case LLVMZExt: case LLVMSExt: case LLVMFPToUI: case LLVMFPToSI: case LLVMUIToFP:
    case LLVMSIToFP: case LLVMFPTrunc: case LLVMFPExt: case LLVMSelect:
        return true;
    case LLVMBitCast:
        return lanes(LLVMGetOperand(in, 0)) == lanes(in);
    case LLVMCall: {
        char buf[64];
        return lanewise_intrinsic(in, buf, sizeof buf) != NULL;
    }
    default:
        return false;
    }
}

/* Whether v is a vector load, or an element-wise operation on one (a few levels down): only
 * such operations are moved, the others' code stays as the pass list left it. */
static bool reaches_vector_load(LLVMValueRef v, int depth) {
    if (LLVMIsALoadInst(v)) return lanes(v) > 0;
    if (depth == 0 || !lanewise(v)) return false;
    int n = LLVMGetNumOperands(v);
    for (int i = 0; i < n; i++)
        if (reaches_vector_load(LLVMGetOperand(v, i), depth - 1)) return true;
    return false;
}

/* The users of v, or -1 when there are more than `max`. */
static int users_of(LLVMValueRef v, LLVMValueRef *out, int max) {
    int n = 0;
    for (LLVMUseRef u = LLVMGetFirstUse(v); u; u = LLVMGetNextUse(u)) {
        if (n == max) return -1;
        out[n++] = LLVMGetUser(u);
    }
    return n;
}

/* `in`'s operation on the lanes `shuf` takes of its operands, built before `shuf`. */
static LLVMValueRef narrowed(LLVMBuilderRef b, LLVMModuleRef mod, LLVMValueRef in, LLVMValueRef shuf) {
    LLVMContextRef ctx = LLVMGetModuleContext(mod);
    unsigned r = LLVMGetNumMaskElements(shuf);
    int mask[MAX_LANES];
    for (unsigned l = 0; l < r; l++) {
        int m = LLVMGetMaskValue(shuf, l);
        mask[l] = m == LLVMGetUndefMaskElem() ? -1 : m;
    }
    LLVMValueRef m = mask_const(ctx, mask, r);
    LLVMPositionBuilderBefore(b, shuf);
    LLVMOpcode op = LLVMGetInstructionOpcode(in);
    int nops = op == LLVMCall ? (int)LLVMGetNumArgOperands(in) : LLVMGetNumOperands(in);
    LLVMValueRef a[4];
    if (nops > 4) return NULL;
    for (int i = 0; i < nops; i++) {
        LLVMValueRef v = LLVMGetOperand(in, (unsigned)i);
        LLVMValueRef same = NULL;
        for (int j = 0; j < i; j++)
            if (LLVMGetOperand(in, (unsigned)j) == v) same = a[j];
        a[i] = same ? same
               : lanes(v) ? LLVMBuildShuffleVector(b, v, LLVMGetPoison(LLVMTypeOf(v)), m, "")
                          : v; /* a select's scalar condition */
    }
    LLVMTypeRef ty = LLVMVectorType(LLVMGetElementType(LLVMTypeOf(in)), r);
    LLVMValueRef out;
    switch (op) {
    case LLVMFNeg: out = LLVMBuildFNeg(b, a[0], ""); break;
    case LLVMICmp: out = LLVMBuildICmp(b, LLVMGetICmpPredicate(in), a[0], a[1], ""); break;
    case LLVMFCmp: out = LLVMBuildFCmp(b, LLVMGetFCmpPredicate(in), a[0], a[1], ""); break;
    case LLVMSelect: out = LLVMBuildSelect(b, a[0], a[1], a[2], ""); break;
    case LLVMTrunc: case LLVMZExt: case LLVMSExt: case LLVMFPToUI: case LLVMFPToSI:
    case LLVMUIToFP: case LLVMSIToFP: case LLVMFPTrunc: case LLVMFPExt: case LLVMBitCast:
        out = LLVMBuildCast(b, op, a[0], ty, "");
        break;
    case LLVMCall: {
        char buf[64];
        const char *name = lanewise_intrinsic(in, buf, sizeof buf);
        out = lc_build_intrinsic(b, mod, name, LLVMTypeOf(a[0]), a, (unsigned)nops);
        break;
    }
    default: out = LLVMBuildBinOp(b, op, a[0], a[1], ""); break;
    }
#if LLVM_VERSION_MAJOR >= 18
    if (LLVMIsAInstruction(out) && LLVMCanValueUseFastMathFlags(in) && LLVMCanValueUseFastMathFlags(out))
        LLVMSetFastMathFlags(out, LLVMGetFastMathFlags(in));
#endif
    return out;
}

/* Move element-wise operations below the narrowing shuffles that are their only users, until
 * none is left to move; returns whether any was. */
static bool sink_lanewise(LLVMBuilderRef b, LLVMModuleRef mod, LLVMValueRef fn) {
    bool any = false, moved = true;
    while (moved) {
        moved = false;
        for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb)) {
            LLVMValueRef in = LLVMGetFirstInstruction(bb);
            while (in) {
                LLVMValueRef next = LLVMGetNextInstruction(in);
                LLVMValueRef users[MAX_USERS];
                int n = lanewise(in) && reaches_vector_load(in, 4) ? users_of(in, users, MAX_USERS) : 0;
                bool all = n > 0;
                for (int u = 0; u < n && all; u++)
                    all = narrowing_shuffle(users[u]) && LLVMGetOperand(users[u], 0) == in &&
                          LLVMGetNumMaskElements(users[u]) <= MAX_LANES && takes_a_slot(users[u]);
                if (all) {
                    for (int u = 0; u < n; u++) {
                        LLVMValueRef nv = narrowed(b, mod, in, users[u]);
                        if (!nv) { all = false; break; }
                        LLVMReplaceAllUsesWith(users[u], nv);
                        LLVMInstructionEraseFromParent(users[u]);
                    }
                    if (all) {
                        /* `next` may be a shuffle just erased: start the block again */
                        LLVMInstructionEraseFromParent(in);
                        moved = any = true;
                        next = LLVMGetFirstInstruction(bb);
                    }
                }
                in = next;
            }
        }
    }
    return any;
}

/* ---- a wide load as loads of VF lanes and a shuffle tree ---- */

/* Bytes of an element of the vectors rewritten (float, double, integers of whole bytes), else 0. */
static unsigned elt_size(LLVMTypeRef t) {
    switch (LLVMGetTypeKind(t)) {
    case LLVMFloatTypeKind: return 4;
    case LLVMDoubleTypeKind: return 8;
    case LLVMIntegerTypeKind: return LLVMGetIntTypeWidth(t) % 8 ? 0 : LLVMGetIntTypeWidth(t) / 8;
    default: return 0;
    }
}

typedef struct memo_entry {
    LLVMValueRef a, b, out;
    unsigned r;
    int mask[MAX_LANES];
} memo_entry;

typedef struct splitter {
    LLVMBuilderRef b;
    LLVMContextRef ctx;
    LLVMValueRef load;
    LLVMTypeRef elt;
    unsigned n, vf, k;
    unsigned elt_bytes;
    LLVMValueRef piece[MAX_PIECES];
    memo_entry memo[MAX_MEMO];
    int n_memo;
    bool full; /* the memo ran out: give up on this load */
} splitter;

/* Load p of VF lanes, made on first use where the wide load was, with its alignment where the
 * offset keeps it and its metadata (the slot's alias scopes). */
static LLVMValueRef piece(splitter *s, unsigned p) {
    if (s->piece[p]) return s->piece[p];
    LLVMValueRef ptr = LLVMGetOperand(s->load, 0);
    LLVMValueRef at = ptr;
    if (p) {
        LLVMValueRef idx = LLVMConstInt(LLVMInt64TypeInContext(s->ctx), (unsigned long long)p * s->vf, 0);
        at = LLVMBuildGEP2(s->b, s->elt, ptr, &idx, 1, "");
    }
    LLVMValueRef ld = LLVMBuildLoad2(s->b, LLVMVectorType(s->elt, s->vf), at, "");
    /* the wide load's alignment, where the piece's offset keeps it */
    unsigned long long align = LLVMGetAlignment(s->load), bytes = (unsigned long long)p * s->vf * s->elt_bytes;
    while (align > 1 && bytes % align) align /= 2;
    LLVMSetAlignment(ld, (unsigned)align);
    size_t n_md = 0;
    LLVMValueMetadataEntry *md = LLVMInstructionGetAllMetadataOtherThanDebugLoc(s->load, &n_md);
    for (size_t i = 0; i < n_md; i++)
        LLVMSetMetadata(ld, LLVMValueMetadataEntriesGetKind(md, (unsigned)i),
                        LLVMMetadataAsValue(s->ctx, LLVMValueMetadataEntriesGetMetadata(md, (unsigned)i)));
    if (md) LLVMDisposeValueMetadataEntries(md);
    return s->piece[p] = ld;
}

/* shufflevector a, b (or undef), mask, each made once per wide load. */
static LLVMValueRef shuffle2(splitter *s, LLVMValueRef a, LLVMValueRef b, const int *mask, unsigned r) {
    if (!b && r == lanes(a)) {
        bool identity = true;
        for (unsigned l = 0; l < r && identity; l++) identity = mask[l] < 0 || mask[l] == (int)l;
        if (identity) return a;
    }
    for (int i = 0; i < s->n_memo; i++) {
        memo_entry *m = &s->memo[i];
        if (m->a == a && m->b == b && m->r == r && !memcmp(m->mask, mask, r * sizeof *mask)) return m->out;
    }
    if (s->n_memo == MAX_MEMO) {
        s->full = true;
        return LLVMGetPoison(LLVMVectorType(s->elt, r));
    }
    LLVMValueRef out = LLVMBuildShuffleVector(s->b, a, b ? b : LLVMGetPoison(LLVMTypeOf(a)),
                                              mask_const(s->ctx, mask, r), "");
    memo_entry *m = &s->memo[s->n_memo++];
    m->a = a;
    m->b = b;
    m->r = r;
    m->out = out;
    memcpy(m->mask, mask, r * sizeof *mask);
    return out;
}

/* Lanes off + n·l (l < VF) of the concatenation of the n vectors v (n a power of two): each
 * level takes the even or the odd lanes of pairs, halving n. */
static LLVMValueRef stride_tree(splitter *s, const LLVMValueRef *v, unsigned n, unsigned off) {
    if (n == 1) return v[0];
    LLVMValueRef w[MAX_PIECES / 2];
    int mask[MAX_LANES];
    for (unsigned l = 0; l < s->vf; l++) mask[l] = (int)((off & 1) + 2 * l);
    for (unsigned q = 0; q < n / 2; q++) w[q] = shuffle2(s, v[2 * q], v[2 * q + 1], mask, s->vf);
    return stride_tree(s, w, n / 2, off >> 1);
}

/* Lanes off + k·l (l < VF) of the pieces as a transpose within 128-bit groups, for vectors of
 * two groups whose windows fill a group each (f32 windows of 4 on AVX2, f64 of 2). The stride
 * tree's even/odd shuffles of such vectors cross the groups at every level, which AVX2 selects
 * as an in-group shuffle and a cross-group permute (vshufps and vpermpd, 3 µops, and the
 * permute's latency of 6 cycles on Zen 3, twice per slot). Here the groups cross once: vector
 * R_j holds windows j and k + j (piece j/2's and piece k/2 + j/2's group j % 2, one vperm2f128
 * or vinsertf128), and slot off is then lane off of each group of R_0 .. R_{k-1}, taken by
 * log2(k) levels of pairs (R_i, R_{i+k/2}) interleaved within the groups (vunpcklps and the
 * like, one µop each): on LPPool1d(3, 4)'s forward, llvm-mca (znver3) counts 26 cycles a trip
 * instead of 30.5. Level `level`'s vector `index` (level 0: R_index); the last level's vector
 * s is slot s. */
static LLVMValueRef group_transpose(splitter *s, unsigned level, unsigned index) {
    unsigned k = s->k, vf = s->vf, g = vf / 2;
    int mask[MAX_LANES];
    if (level == 0) {
        unsigned half = index % 2;
        for (unsigned l = 0; l < g; l++) {
            mask[l] = (int)(half * g + l);
            mask[g + l] = (int)(vf + half * g + l);
        }
        return shuffle2(s, piece(s, index / 2), piece(s, k / 2 + index / 2), mask, vf);
    }
    unsigned i = index / 2, h = index % 2;
    LLVMValueRef a = group_transpose(s, level - 1, i), b = group_transpose(s, level - 1, i + k / 2);
    for (unsigned grp = 0; grp < 2; grp++)
        for (unsigned q = 0; q < g; q++) mask[grp * g + q] = (int)((q % 2 ? vf : 0) + grp * g + h * g / 2 + q / 2);
    return shuffle2(s, a, b, mask, vf);
}

/* r lanes, lane l being lane tl[l] of piece tp[l] (-1: undefined), from the pieces in `set`
 * only (lanes of other pieces undefined): two pieces in one shuffle, more as two halves
 * joined by one. */
static LLVMValueRef gather(splitter *s, const int *tp, const int *tl, unsigned r, const int *set, int nset) {
    int mask[MAX_LANES];
    if (nset == 0) return LLVMGetPoison(LLVMVectorType(s->elt, r));
    if (nset <= 2) {
        for (unsigned l = 0; l < r; l++)
            mask[l] = tp[l] == set[0] ? tl[l] : nset == 2 && tp[l] == set[1] ? (int)s->vf + tl[l] : -1;
        return shuffle2(s, piece(s, (unsigned)set[0]), nset == 2 ? piece(s, (unsigned)set[1]) : NULL, mask, r);
    }
    int h = nset / 2;
    LLVMValueRef lo = gather(s, tp, tl, r, set, h), hi = gather(s, tp, tl, r, set + h, nset - h);
    for (unsigned l = 0; l < r; l++) {
        mask[l] = -1;
        for (int i = 0; i < nset; i++)
            if (tp[l] == set[i]) mask[l] = i < h ? (int)l : (int)(r + l);
    }
    return shuffle2(s, lo, hi, mask, r);
}

/* The r lanes `mask` takes out of the wide load (its indices into it; -1 undefined). */
static LLVMValueRef lanes_of_load(splitter *s, const int *mask, unsigned r) {
    /* a slot of stride k, k a power of two: the shared tree */
    if (r == s->vf && !(s->k & (s->k - 1))) {
        int off = -1;
        bool strided = true;
        for (unsigned l = 0; l < r && strided; l++) {
            if (mask[l] < 0) continue;
            int o = mask[l] - (int)(s->k * l);
            if (off < 0 && o >= 0 && o < (int)s->k) off = o;
            strided = o == off;
        }
        if (strided && off >= 0 && s->vf * s->elt_bytes == 32 && s->k * s->elt_bytes == 16) {
            unsigned levels = 0;
            while ((1u << levels) < s->k) levels++;
            return group_transpose(s, levels, (unsigned)off);
        }
        if (strided && off >= 0) {
            LLVMValueRef v[MAX_PIECES];
            for (unsigned p = 0; p < s->k; p++) v[p] = piece(s, p);
            return stride_tree(s, v, s->k, (unsigned)off);
        }
    }
    int tp[MAX_LANES], tl[MAX_LANES], set[MAX_PIECES], nset = 0;
    for (unsigned l = 0; l < r; l++) {
        tp[l] = mask[l] < 0 ? -1 : mask[l] / (int)s->vf;
        tl[l] = mask[l] < 0 ? -1 : mask[l] % (int)s->vf;
        bool seen = tp[l] < 0;
        for (int i = 0; i < nset && !seen; i++) seen = set[i] == tp[l];
        if (!seen) set[nset++] = tp[l];
    }
    return gather(s, tp, tl, r, set, nset);
}

/* A phi carrying the load out of its loop (one incoming value: LCSSA) whose users all take
 * constant lanes of it (the last windows' slots, for the scalar loop after a vectorized one
 * that carries a slot across trips): a phi of each piece they read instead, so no wide value
 * crosses the blocks. */
static void extracts_through_phi(splitter *s, LLVMValueRef phi) {
    LLVMValueRef users[MAX_USERS];
    int nu = users_of(phi, users, MAX_USERS);
    if (nu <= 0) return;
    for (int u = 0; u < nu; u++)
        if (!LLVMIsAExtractElementInst(users[u]) || LLVMGetOperand(users[u], 0) != phi ||
            !LLVMIsAConstantInt(LLVMGetOperand(users[u], 1)) ||
            LLVMConstIntGetZExtValue(LLVMGetOperand(users[u], 1)) >= s->n)
            return;
    LLVMBasicBlockRef from = LLVMGetIncomingBlock(phi, 0);
    LLVMValueRef piece_phi[MAX_PIECES] = {0};
    LLVMBuilderRef b = LLVMCreateBuilderInContext(s->ctx);
    for (int u = 0; u < nu; u++) {
        unsigned long long i = LLVMConstIntGetZExtValue(LLVMGetOperand(users[u], 1));
        unsigned p = (unsigned)(i / s->vf);
        if (!piece_phi[p]) {
            LLVMPositionBuilderBefore(b, phi);
            piece_phi[p] = LLVMBuildPhi(b, LLVMVectorType(s->elt, s->vf), "");
            LLVMValueRef in = piece(s, p);
            LLVMAddIncoming(piece_phi[p], &in, &from, 1);
        }
        LLVMPositionBuilderBefore(b, users[u]);
        LLVMValueRef nv = LLVMBuildExtractElement(b, piece_phi[p], LLVMConstInt(LLVMInt64TypeInContext(s->ctx), i % s->vf, 0), "");
        LLVMReplaceAllUsesWith(users[u], nv);
        LLVMInstructionEraseFromParent(users[u]);
    }
    LLVMDisposeBuilder(b);
    LLVMInstructionEraseFromParent(phi);
}

/* Split `load` if its users are shuffles of fewer lanes (and element extracts); returns
 * whether it was. */
static bool split_load(LLVMBuilderRef b, LLVMValueRef load, splitter *s) {
    unsigned n = lanes(load);
    if (!n || LLVMGetVolatile(load) || LLVMGetOrdering(load) != LLVMAtomicOrderingNotAtomic) return false;
    LLVMValueRef users[MAX_USERS];
    int nu = users_of(load, users, MAX_USERS);
    if (nu <= 0) return false;
    unsigned vf = n;
    for (int u = 0; u < nu; u++)
        if (narrowing_shuffle(users[u]) && LLVMGetOperand(users[u], 0) == load) {
            unsigned r = LLVMGetNumMaskElements(users[u]);
            if (r < vf) vf = r;
        }
    if (vf == n || n % vf || n / vf > MAX_PIECES || n > 4u * MAX_LANES) return false;
    memset(s, 0, sizeof *s);
    s->b = b;
    s->ctx = LLVMGetTypeContext(LLVMTypeOf(load));
    s->load = load;
    s->elt = LLVMGetElementType(LLVMTypeOf(load));
    s->elt_bytes = elt_size(s->elt);
    /* pieces narrower than the narrowest vector register (a contraction's pairs of lanes, SLP
     * packed): the wide load is legal already, and splitting it would only add loads */
    if (!s->elt_bytes || vf * s->elt_bytes < MIN_PIECE_BYTES) return false;
    s->n = n;
    s->vf = vf;
    s->k = n / vf;
    LLVMPositionBuilderBefore(b, load);
    for (int u = 0; u < nu; u++) {
        LLVMValueRef us = users[u], nv = NULL;
        if (narrowing_shuffle(us) && LLVMGetOperand(us, 0) == load &&
            LLVMGetNumMaskElements(us) <= MAX_LANES) {
            unsigned r = LLVMGetNumMaskElements(us);
            int mask[MAX_LANES];
            for (unsigned l = 0; l < r; l++) {
                int m = LLVMGetMaskValue(us, l);
                mask[l] = m == LLVMGetUndefMaskElem() || m >= (int)n ? -1 : m;
            }
            nv = lanes_of_load(s, mask, r);
        } else if (LLVMIsAExtractElementInst(us) && LLVMGetOperand(us, 0) == load &&
                   LLVMIsAConstantInt(LLVMGetOperand(us, 1))) {
            unsigned long long i = LLVMConstIntGetZExtValue(LLVMGetOperand(us, 1));
            if (i < n)
                nv = LLVMBuildExtractElement(b, piece(s, (unsigned)(i / vf)),
                                             LLVMConstInt(LLVMInt64TypeInContext(s->ctx), i % vf, 0), "");
        }
        if (nv && !s->full) {
            LLVMReplaceAllUsesWith(us, nv);
            LLVMInstructionEraseFromParent(us);
        } else if (LLVMIsAPHINode(us) && LLVMCountIncoming(us) == 1) {
            extracts_through_phi(s, us);
        }
    }
    if (LLVMGetFirstUse(load)) {
        /* any other use (a phi carrying the load out of the loop) reads the pieces joined */
        int tp[4 * MAX_LANES], tl[4 * MAX_LANES], set[MAX_PIECES];
        for (unsigned l = 0; l < n; l++) {
            tp[l] = (int)(l / vf);
            tl[l] = (int)(l % vf);
        }
        for (unsigned p = 0; p < s->k; p++) set[p] = (int)p;
        if (n > MAX_LANES) return false; /* left as it is: the pieces already made are dead */
        LLVMValueRef joined = gather(s, tp, tl, n, set, (int)s->k);
        if (s->full) return false;
        LLVMReplaceAllUsesWith(load, joined);
    }
    LLVMInstructionEraseFromParent(load);
    return true;
}

/* ---- a wide store of interleaved vectors as stores of their width ---- */

/* Which value and lane lane `l` of v comes from, through shuffles: (NULL, -1) if undefined. */
static LLVMValueRef trace_lane(LLVMValueRef v, int l, int *lane) {
    while (LLVMIsAShuffleVectorInst(v)) {
        int m = LLVMGetMaskValue(v, (unsigned)l);
        if (m == LLVMGetUndefMaskElem()) {
            *lane = -1;
            return NULL;
        }
        int n0 = (int)lanes(LLVMGetOperand(v, 0));
        v = LLVMGetOperand(v, m < n0 ? 0 : 1);
        l = m < n0 ? m : m - n0;
    }
    if (LLVMIsUndef(v)) {
        *lane = -1;
        return NULL;
    }
    *lane = l;
    return v;
}

/* Interleave the k vectors vecs[j] (each c pieces of VF lanes, pieces[j·c ..]): lane i·k + j of
 * the result is lane i of vecs[j]. k a power of two: pairs j, j + k/2 interleaved, then the
 * k/2 results, each piece of a pair's interleaving one two-input shuffle of the pairs' pieces. */
static void interleave_tree(splitter *s, LLVMValueRef *pieces, unsigned k, unsigned c, LLVMValueRef *out) {
    if (k == 1) {
        memcpy(out, pieces, c * sizeof *out);
        return;
    }
    unsigned m = k / 2, w = s->vf;
    LLVMValueRef u[MAX_PIECES];
    int mask[MAX_LANES];
    for (unsigned q = 0; q < m; q++)
        for (unsigned r = 0; r < 2 * c; r++) {
            for (unsigned l = 0; l < w; l++) {
                unsigned g = r * w + l, i = g / 2;
                mask[l] = (int)((g & 1) * w + i % w);
            }
            u[q * 2 * c + r] = shuffle2(s, pieces[q * c + r / 2], pieces[(q + m) * c + r / 2], mask, w);
        }
    interleave_tree(s, u, m, 2 * c, out);
}

/* Erase v and the shuffles feeding only it. */
static void erase_dead_shuffles(LLVMValueRef v) {
    if (!LLVMIsAShuffleVectorInst(v) || LLVMGetFirstUse(v)) return;
    LLVMValueRef a = LLVMGetOperand(v, 0), b = LLVMGetOperand(v, 1);
    LLVMInstructionEraseFromParent(v);
    erase_dead_shuffles(a);
    if (b != a) erase_dead_shuffles(b);
}

/* Split a store of <k·VF x T> whose value is shuffled together from vectors of VF lanes (the
 * vectorizer's interleaved store of a window's slots); returns whether it was. */
static bool split_store(LLVMBuilderRef b, LLVMValueRef store, splitter *s) {
    LLVMValueRef v = LLVMGetOperand(store, 0);
    unsigned n = lanes(v);
    if (!n || n > 4 * MAX_LANES || !LLVMIsAShuffleVectorInst(v) || LLVMGetVolatile(store) ||
        LLVMGetOrdering(store) != LLVMAtomicOrderingNotAtomic)
        return false;
    memset(s, 0, sizeof *s);
    int tp[4 * MAX_LANES], tl[4 * MAX_LANES], nleaf = 0;
    unsigned w = 0;
    for (unsigned l = 0; l < n; l++) {
        LLVMValueRef leaf = trace_lane(v, (int)l, &tl[l]);
        tp[l] = -1;
        if (!leaf) continue;
        for (int i = 0; i < nleaf && tp[l] < 0; i++)
            if (s->piece[i] == leaf) tp[l] = i;
        if (tp[l] < 0) {
            if (nleaf == MAX_PIECES) return false;
            s->piece[nleaf] = leaf;
            tp[l] = nleaf++;
        }
        if (!w) w = lanes(leaf);
        if (lanes(leaf) != w || LLVMTypeOf(leaf) != LLVMTypeOf(s->piece[0])) return false;
    }
    if (!w || w >= n || n % w || w > MAX_LANES || n / w > MAX_PIECES ||
        w * elt_size(LLVMGetElementType(LLVMTypeOf(v))) < MIN_PIECE_BYTES)
        return false;
    s->b = b;
    s->ctx = LLVMGetTypeContext(LLVMTypeOf(v));
    s->elt = LLVMGetElementType(LLVMTypeOf(v));
    unsigned long long elt_bytes = elt_size(s->elt);
    if (!elt_bytes) return false;
    s->n = n;
    s->vf = w;
    s->k = n / w;
    unsigned k = s->k, align = LLVMGetAlignment(store);
    LLVMPositionBuilderBefore(b, store);
    LLVMValueRef out[MAX_PIECES];
    /* k vectors interleaved lane by lane, k a power of two: the shared tree */
    bool interleaved = (int)k == nleaf && !(k & (k - 1));
    for (unsigned l = 0; l < n && interleaved; l++)
        interleaved = tp[l] < 0 || (tp[l] == (int)(l % k) && tl[l] == (int)(l / k));
    if (interleaved) {
        interleave_tree(s, s->piece, k, 1, out);
    } else {
        for (unsigned p = 0; p < k; p++) {
            int ptp[MAX_LANES], ptl[MAX_LANES], pset[MAX_PIECES], npset = 0;
            for (unsigned l = 0; l < w; l++) {
                ptp[l] = tp[p * w + l];
                ptl[l] = tl[p * w + l];
                bool seen = ptp[l] < 0;
                for (int i = 0; i < npset && !seen; i++) seen = pset[i] == ptp[l];
                if (!seen) pset[npset++] = ptp[l];
            }
            out[p] = gather(s, ptp, ptl, w, pset, npset);
        }
    }
    if (s->full) return false;
    LLVMValueRef ptr = LLVMGetOperand(store, 1);
    size_t n_md = 0;
    LLVMValueMetadataEntry *md = LLVMInstructionGetAllMetadataOtherThanDebugLoc(store, &n_md);
    for (unsigned p = 0; p < k; p++) {
        LLVMValueRef at = ptr;
        if (p) {
            LLVMValueRef idx = LLVMConstInt(LLVMInt64TypeInContext(s->ctx), (unsigned long long)p * w, 0);
            at = LLVMBuildGEP2(b, s->elt, ptr, &idx, 1, "");
        }
        LLVMValueRef st = LLVMBuildStore(b, out[p], at);
        unsigned long long a = align, bytes = (unsigned long long)p * w * elt_bytes;
        while (a > 1 && bytes % a) a /= 2;
        LLVMSetAlignment(st, (unsigned)a);
        for (size_t i = 0; i < n_md; i++)
            LLVMSetMetadata(st, LLVMValueMetadataEntriesGetKind(md, (unsigned)i),
                            LLVMMetadataAsValue(s->ctx, LLVMValueMetadataEntriesGetMetadata(md, (unsigned)i)));
    }
    if (md) LLVMDisposeValueMetadataEntries(md);
    LLVMInstructionEraseFromParent(store);
    erase_dead_shuffles(v);
    return true;
}

int lc_split_wide_loads(LLVMModuleRef mod) {
    LLVMContextRef ctx = LLVMGetModuleContext(mod);
    LLVMBuilderRef b = LLVMCreateBuilderInContext(ctx);
    splitter s; /* ~40 KB: the memo of one load's shuffles */
    int split = 0;
    for (LLVMValueRef fn = LLVMGetFirstFunction(mod); fn; fn = LLVMGetNextFunction(fn)) {
        if (!LLVMGetFirstBasicBlock(fn)) continue;
        sink_lanewise(b, mod, fn);
        for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb)) {
            LLVMValueRef in = LLVMGetFirstInstruction(bb);
            while (in) {
                LLVMValueRef next = LLVMGetNextInstruction(in);
                if ((LLVMIsALoadInst(in) && split_load(b, in, &s)) ||
                    (LLVMIsAStoreInst(in) && split_store(b, in, &s))) {
                    split++;
                    next = LLVMGetFirstInstruction(bb); /* users after it may be gone */
                }
                in = next;
            }
        }
    }
    LLVMDisposeBuilder(b);
    return split;
}
