/* Software prefetch of a kernel's input streams (stream_prefetch.h). */
#include "codegen/stream_prefetch.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Target.h>

#include "codegen/intrinsic.h"
#include "passes/kernel.h"

#define MAX_STREAMS 16 /* buffers one loop reads; a kernel has at most a few */
#define MAX_LOADS 64   /* vector loads of one buffer in one trip */
#define LINE 64        /* bytes a prefetch brings in */
/* The least a trip must read of a buffer to prefetch it: half a line, so a loop of one 256-bit
 * vector a trip (AvgPool1d(3, 1, 1)'s forward on a host that prefers 256-bit vectors) issues
 * two prefetches a line, one of them wasted, and reaches the floor where it stayed at 68 %
 * without (bench/README.md, "Padded rows: streaming stores from a line, and one stream for a
 * window's loads"). */
#define MIN_BYTES (LINE / 2)

#define MAX_TERMS 4 /* variable indices of one address */

/* An address as base + the sum of terms index · scale + a constant byte offset: loads that
 * differ only in the constant read one stream. */
typedef struct address {
    LLVMValueRef base;
    LLVMValueRef top; /* the pointer below the constant offsets the chain starts with */
    int64_t top_at;   /* top's constant byte offset in the address */
    int n;
    LLVMValueRef index[MAX_TERMS];
    int64_t scale[MAX_TERMS];
} address;

/* One buffer a loop reads: the address of its first load (where the prefetches go, addressed
 * from that address's top), the constant byte offsets of its loads and their sizes. */
typedef struct stream {
    address at;
    int n;
    int64_t off[MAX_LOADS], end[MAX_LOADS];
    LLVMValueRef first;
} stream;

/* The address `p` is a constant byte offset from, through getelementptrs of one index each
 * (what the vectorizer and split_wide.c make of a trip's loads: a row's base, then the trip's
 * position, then a window's offset, in any order). Past MAX_TERMS variable indices the rest of
 * the chain is the base. */
static void strip_offset(LLVMTargetDataRef td, LLVMValueRef p, int64_t *off, address *ad) {
    *off = 0;
    ad->n = 0;
    ad->top = NULL;
    int64_t above_top = 0; /* the constant offsets above top */
    while (LLVMIsAGetElementPtrInst(p) && LLVMGetNumOperands(p) == 2) {
        int64_t size = (int64_t)LLVMABISizeOfType(td, LLVMGetGEPSourceElementType(p));
        LLVMValueRef i = LLVMGetOperand(p, 1);
        if (LLVMIsAConstantInt(i)) {
            *off += LLVMConstIntGetSExtValue(i) * size;
        } else {
            if (!ad->top) {
                ad->top = p;
                above_top = *off;
            }
            if (ad->n == MAX_TERMS) break;
            ad->index[ad->n] = i;
            ad->scale[ad->n++] = size;
        }
        p = LLVMGetOperand(p, 0);
    }
    ad->base = p;
    if (!ad->top) {
        ad->top = p;
        above_top = *off;
    }
    ad->top_at = *off - above_top;
}

/* Whether x and y have the same base and the same terms, in any order. */
static bool same_address(const address *x, const address *y) {
    if (x->base != y->base || x->n != y->n) return false;
    bool used[MAX_TERMS] = {false};
    for (int k = 0; k < x->n; k++) {
        int j = 0;
        while (j < y->n && (used[j] || y->index[j] != x->index[k] || y->scale[j] != x->scale[k])) j++;
        if (j == y->n) return false;
        used[j] = true;
    }
    return true;
}

/* Whether bb's terminator may go to `to` (bb == to: a loop of one block, as LLVM leaves a
 * kernel's vectorized loop). */
static bool branches_to(LLVMBasicBlockRef bb, LLVMBasicBlockRef to) {
    LLVMValueRef term = LLVMGetBasicBlockTerminator(bb);
    if (!term) return false;
    unsigned n = LLVMGetNumSuccessors(term);
    for (unsigned i = 0; i < n; i++)
        if (LLVMGetSuccessor(term, i) == to) return true;
    return false;
}

/* The prefetches of one loop block: its vector loads of kernel buffers (those with an alias
 * scope: emit_index.c tags every access to a slot) grouped by the address they offset. A trip
 * that reads less than MIN_BYTES of a buffer (a pool's backward reads dy a quarter as fast as
 * x) leaves it to the hardware: prefetching it every trip would fetch each line several times.
 * Otherwise each run of adjacent loads gets a prefetch per 64 bytes from its first, and a gap
 * between runs (two rows of a 2-D window, a row apart) none. */
static int prefetch_loop(LLVMModuleRef mod, LLVMTargetDataRef td, LLVMBuilderRef b, LLVMBasicBlockRef bb,
                         unsigned scope_kind, int64_t ahead, int locality) {
    stream s[MAX_STREAMS];
    int n = 0;
    for (LLVMValueRef in = LLVMGetFirstInstruction(bb); in; in = LLVMGetNextInstruction(in)) {
        if (LLVMGetInstructionOpcode(in) != LLVMLoad || !LLVMGetMetadata(in, scope_kind)) continue;
        LLVMTypeRef ty = LLVMTypeOf(in);
        if (LLVMGetTypeKind(ty) != LLVMVectorTypeKind) continue;
        int64_t off;
        address ad;
        strip_offset(td, LLVMGetOperand(in, 0), &off, &ad);
        int i = 0;
        while (i < n && !same_address(&s[i].at, &ad)) i++;
        if (i == n) {
            if (n == MAX_STREAMS) return 0;
            s[n++] = (stream){.at = ad, .first = in};
        }
        if (s[i].n == MAX_LOADS) return 0;
        s[i].off[s[i].n] = off;
        s[i].end[s[i].n++] = off + (int64_t)LLVMABISizeOfType(td, ty);
    }
    LLVMContextRef ctx = LLVMGetModuleContext(mod);
    LLVMTypeRef i8 = LLVMInt8TypeInContext(ctx), i32 = LLVMInt32TypeInContext(ctx), i64 = LLVMInt64TypeInContext(ctx);
    LLVMTypeRef ptr = LLVMPointerTypeInContext(ctx, 0);
    int added = 0;
    for (int i = 0; i < n; i++) {
        stream *st = &s[i];
        /* the loads in ascending order (a few: insertion sort) */
        for (int j = 1; j < st->n; j++)
            for (int k = j; k > 0 && st->off[k] < st->off[k - 1]; k--) {
                int64_t o = st->off[k], e = st->end[k];
                st->off[k] = st->off[k - 1], st->end[k] = st->end[k - 1];
                st->off[k - 1] = o, st->end[k - 1] = e;
            }
        int64_t bytes = 0, covered = INT64_MIN;
        for (int j = 0; j < st->n; j++) {
            int64_t from = st->off[j] > covered ? st->off[j] : covered;
            if (st->end[j] > from) bytes += st->end[j] - from;
            if (st->end[j] > covered) covered = st->end[j];
        }
        if (bytes < MIN_BYTES) continue;
        LLVMPositionBuilderBefore(b, st->first);
        int64_t next = INT64_MIN; /* the first byte no prefetch covers yet */
        for (int j = 0; j < st->n; j++) {
            int64_t at = st->off[j] >= next ? st->off[j] : next;
            for (; at < st->end[j]; at += LINE) {
                LLVMValueRef idx = LLVMConstInt(i64, (unsigned long long)(at + ahead - st->at.top_at), 1);
                LLVMValueRef args[4] = {LLVMBuildGEP2(b, i8, st->at.top, &idx, 1, ""), LLVMConstInt(i32, 0, 0),
                                        LLVMConstInt(i32, (unsigned long long)locality, 0), LLVMConstInt(i32, 1, 0)};
                lc_build_intrinsic(b, mod, "llvm.prefetch", ptr, args, 4);
                added++;
            }
            next = at;
        }
    }
    return added;
}

int lc_add_stream_prefetches(LLVMModuleRef mod) {
    LLVMContextRef ctx = LLVMGetModuleContext(mod);
    unsigned scope_kind = LLVMGetMDKindIDInContext(ctx, "alias.scope", 11);
    LLVMTargetDataRef td = LLVMGetModuleDataLayout(mod);
    LLVMBuilderRef b = LLVMCreateBuilderInContext(ctx);
    int n = 0;
    for (LLVMValueRef fn = LLVMGetFirstFunction(mod); fn; fn = LLVMGetNextFunction(fn)) {
        LLVMAttributeRef a = LLVMGetStringAttributeAtIndex(fn, LLVMAttributeFunctionIndex, LC_STREAM_PREFETCH_ATTR,
                                                           (unsigned)strlen(LC_STREAM_PREFETCH_ATTR));
        if (!a) continue;
        unsigned len;
        const char *v = LLVMGetStringAttributeValue(a, &len);
        char buf[24];
        if (len == 0 || len >= sizeof buf) continue;
        memcpy(buf, v, len);
        buf[len] = 0;
        int64_t ahead = strtoll(buf, NULL, 10);
        if (ahead <= 0) continue;
        for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb))
            if (branches_to(bb, bb)) n += prefetch_loop(mod, td, b, bb, scope_kind, ahead, LC_STREAM_PREFETCH_LOCALITY);
    }
    LLVMDisposeBuilder(b);
    return n;
}
