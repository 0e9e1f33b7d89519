/* Counted loops, in the two shapes codegen builds (emit_internal.h, lc_loop), and the hints
 * their latches carry. */
#include <llvm-c/DebugInfo.h> /* LLVMTemporaryMDNode, for loop metadata */

#include "codegen/emit_internal.h"

/* Loop hints, attached to a loop's latch branch.
 *  - Scalar loops (the checked edges) are neither vectorized nor unrolled: they run a
 *    handful of trips beside a vectorized interior, and vectorizing them too only tripled
 *    the code LLVM had to compile.
 *  - Every other loop is kept from runtime unrolling. The vectorizer already keeps it off
 *    the vector body; what it still reached was the scalar remainder (at most VF-1 trips per
 *    row), unrolled with a prologue copy: 30% more IR, and a third of the object emission
 *    time of an LP forward+backward compile, for a loop that barely runs.
 *  - A vectorized loop asks for lc_schedule.interleave trips at a time where fuse set it,
 *    and for one in the quick tier (lc_emit_options.quick), which also names its width. */
void lc_emit_loop_hints(emitter *e, LLVMValueRef latch, bool scalar) {
    LLVMMetadataRef self = LLVMTemporaryMDNode(e->ctx, NULL, 0);
    LLVMMetadataRef width[2] = {
        LLVMMDStringInContext2(e->ctx, "llvm.loop.vectorize.width", 25),
        LLVMValueAsMetadata(LLVMConstInt(LLVMInt32TypeInContext(e->ctx), 1, 0))};
    LLVMMetadataRef unroll[1] = {LLVMMDStringInContext2(e->ctx, "llvm.loop.unroll.disable", 24)};
    LLVMMetadataRef runtime[1] = {LLVMMDStringInContext2(e->ctx, "llvm.loop.unroll.runtime.disable", 32)};
    /* self, then at most: a scalar loop's width and unroll; a vectorized one's runtime
     * unroll, width and interleave count */
    LLVMMetadataRef ops[4] = {self, NULL, NULL, NULL};
    unsigned n = 1;
    if (scalar) {
        ops[n++] = LLVMMDNodeInContext2(e->ctx, width, 2);
        ops[n++] = LLVMMDNodeInContext2(e->ctx, unroll, 1);
    } else {
        ops[n++] = LLVMMDNodeInContext2(e->ctx, runtime, 1);
        /* the quick tier names the width (lc_emit_options.vector_bits) */
        const lc_node *root = lc_graph_node(e->f->graph, e->k->root);
        int lanes = e->quick ? e->vector_bits / (8 * (int)lc_dtype_size(root->dtype)) : 0;
        if (lanes > 1) {
            LLVMMetadataRef width_is[2] = {
                LLVMMDStringInContext2(e->ctx, "llvm.loop.vectorize.width", 25),
                LLVMValueAsMetadata(LLVMConstInt(LLVMInt32TypeInContext(e->ctx), (unsigned long long)lanes, 0))};
            ops[n++] = LLVMMDNodeInContext2(e->ctx, width_is, 2);
        }
        /* the quick tier takes one trip at a time everywhere (lc_emit_options.quick) */
        int trips = e->quick ? 1 : e->interleave;
        if (trips >= 1) {
            LLVMMetadataRef count[2] = {
                LLVMMDStringInContext2(e->ctx, "llvm.loop.interleave.count", 26),
                LLVMValueAsMetadata(LLVMConstInt(LLVMInt32TypeInContext(e->ctx), (unsigned long long)trips, 0))};
            ops[n++] = LLVMMDNodeInContext2(e->ctx, count, 2);
        }
    }
    LC_ASSERT(n <= sizeof ops / sizeof ops[0]);
    LLVMMetadataRef loop = LLVMMDNodeInContext2(e->ctx, ops, n);
    LLVMMetadataReplaceAllUsesWith(self, loop);
    LLVMSetMetadata(latch, LLVMGetMDKindIDInContext(e->ctx, "llvm.loop", 9),
                    LLVMMetadataAsValue(e->ctx, loop));
}

/* A stack buffer of type `ty`, 64-byte aligned, made in the function's entry block: one stack
 * slot for the whole kernel however many loops ask for it (allocas outside the entry would
 * grow the stack on every trip). */
LLVMValueRef lc_emit_entry_alloca(emitter *e, LLVMTypeRef ty, const char *name) {
    LLVMBuilderRef eb = LLVMCreateBuilderInContext(e->ctx);
    LLVMBasicBlockRef entry = LLVMGetEntryBasicBlock(e->fn);
    LLVMValueRef first_ins = LLVMGetFirstInstruction(entry);
    if (first_ins) LLVMPositionBuilderBefore(eb, first_ins);
    else LLVMPositionBuilderAtEnd(eb, entry);
    LLVMValueRef buf = LLVMBuildAlloca(eb, ty, name);
    LLVMSetAlignment(buf, 64);
    LLVMDisposeBuilder(eb);
    return buf;
}

LLVMValueRef lc_loop_begin(emitter *e, lc_loop *l, LLVMValueRef from, LLVMValueRef to, const char *name) {
    l->pre = LLVMGetInsertBlock(e->b);
    l->head = LLVMAppendBasicBlockInContext(e->ctx, e->fn, name);
    l->exit = LLVMAppendBasicBlockInContext(e->ctx, e->fn, "loop.end");
    LLVMBasicBlockRef body = LLVMAppendBasicBlockInContext(e->ctx, e->fn, "loop.body");
    LLVMBuildBr(e->b, l->head);
    LLVMPositionBuilderAtEnd(e->b, l->head);
    l->i = LLVMBuildPhi(e->b, e->i64, "i");
    l->from = from;
    LLVMBuildCondBr(e->b, LLVMBuildICmp(e->b, LLVMIntSLT, l->i, to, ""), body, l->exit);
    LLVMPositionBuilderAtEnd(e->b, body);
    return l->i;
}

void lc_loop_end(emitter *e, lc_loop *l, bool scalar) {
    LLVMValueRef next = iadd_c(e, l->i, 1);
    LLVMBasicBlockRef latch_bb = LLVMGetInsertBlock(e->b);
    l->latch = latch_bb;
    lc_emit_loop_hints(e, LLVMBuildBr(e->b, l->head), scalar);
    LLVMAddIncoming(l->i, &l->from, &l->pre, 1);
    LLVMAddIncoming(l->i, &next, &latch_bb, 1);
    LLVMPositionBuilderAtEnd(e->b, l->exit);
}

lc_loop lc_loop_open(emitter *e, LLVMValueRef from, const char *name) {
    lc_loop l = {0};
    l.pre = LLVMGetInsertBlock(e->b);
    l.head = LLVMAppendBasicBlockInContext(e->ctx, e->fn, name);
    LLVMBuildBr(e->b, l.head);
    LLVMPositionBuilderAtEnd(e->b, l.head);
    l.i = LLVMBuildPhi(e->b, e->i64, "");
    l.from = from;
    LLVMAddIncoming(l.i, &from, &l.pre, 1);
    return l;
}

void lc_loop_close(emitter *e, lc_loop *l, int64_t step, LLVMValueRef end) {
    LLVMValueRef next = iadd_c(e, l->i, step);
    l->latch = LLVMGetInsertBlock(e->b);
    l->exit = LLVMAppendBasicBlockInContext(e->ctx, e->fn, "");
    lc_emit_loop_hints(e, LLVMBuildCondBr(e->b, LLVMBuildICmp(e->b, LLVMIntSLT, next, end, ""), l->head, l->exit),
                       true);
    LLVMAddIncoming(l->i, &next, &l->latch, 1);
    LLVMPositionBuilderAtEnd(e->b, l->exit);
}
