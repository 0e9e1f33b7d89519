/* Non-temporal stores (nontemporal.h). */
#include "codegen/nontemporal.h"

#include <stdbool.h>
#include <string.h>

/* A store of a vector of `bytes` bytes whose alignment LLVM proved at least that (up to a
 * line), to a kernel buffer: one with an alias scope (emit_index.c tags every access to a
 * slot; stack buffers of partial sums have none). */
static bool tags(LLVMValueRef in, unsigned scope_kind) {
    if (LLVMGetInstructionOpcode(in) != LLVMStore || !LLVMGetMetadata(in, scope_kind)) return false;
    LLVMTypeRef ty = LLVMTypeOf(LLVMGetOperand(in, 0));
    if (LLVMGetTypeKind(ty) != LLVMVectorTypeKind) return false;
    LLVMTypeRef elt = LLVMGetElementType(ty);
    unsigned elt_bytes = LLVMGetTypeKind(elt) == LLVMDoubleTypeKind ? 8 : LLVMGetTypeKind(elt) == LLVMFloatTypeKind ? 4 : 0;
    unsigned bytes = elt_bytes * LLVMGetVectorSize(ty);
    return elt_bytes > 0 && bytes >= 16 && LLVMGetAlignment(in) >= (bytes < 64 ? bytes : 64);
}

int lc_tag_nontemporal_stores(LLVMModuleRef mod) {
    LLVMContextRef ctx = LLVMGetModuleContext(mod);
    unsigned scope_kind = LLVMGetMDKindIDInContext(ctx, "alias.scope", 11);
    unsigned nt_kind = LLVMGetMDKindIDInContext(ctx, "nontemporal", 11);
    LLVMValueRef one = LLVMConstInt(LLVMInt32TypeInContext(ctx), 1, 0);
    LLVMMetadataRef one_md = LLVMValueAsMetadata(one);
    LLVMValueRef node = LLVMMetadataAsValue(ctx, LLVMMDNodeInContext2(ctx, &one_md, 1));
    int n = 0;
    for (LLVMValueRef fn = LLVMGetFirstFunction(mod); fn; fn = LLVMGetNextFunction(fn)) {
        if (!LLVMGetStringAttributeAtIndex(fn, LLVMAttributeFunctionIndex, LC_NONTEMPORAL_ATTR,
                                           (unsigned)strlen(LC_NONTEMPORAL_ATTR)))
            continue;
        for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb))
            for (LLVMValueRef in = LLVMGetFirstInstruction(bb); in; in = LLVMGetNextInstruction(in))
                if (tags(in, scope_kind)) {
                    LLVMSetMetadata(in, nt_kind, node);
                    n++;
                }
    }
    return n;
}
