/* A call to an LLVM intrinsic: an overloaded one (llvm.fabs, llvm.fma, ...) instantiated at
 * type `ty` (at `types`, for one overloaded on several: llvm.ptrmask), or one that is not
 * overloaded (llvm.trap) with ty NULL; for emit_*.c and vmath.c alike. */
#ifndef LUCID_CODEGEN_INTRINSIC_H
#define LUCID_CODEGEN_INTRINSIC_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <llvm-c/Core.h>

static inline LLVMValueRef lc_build_intrinsic_types(LLVMBuilderRef b, LLVMModuleRef mod, const char *name,
                                                    LLVMTypeRef *types, size_t n_types, LLVMValueRef *args,
                                                    unsigned nargs) {
    unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
    LLVMValueRef decl = LLVMGetIntrinsicDeclaration(mod, id, types, n_types);
    LLVMTypeRef fty = LLVMIntrinsicGetType(LLVMGetModuleContext(mod), id, types, n_types);
    return LLVMBuildCall2(b, fty, decl, args, nargs, "");
}

static inline LLVMValueRef lc_build_intrinsic(LLVMBuilderRef b, LLVMModuleRef mod, const char *name,
                                              LLVMTypeRef ty, LLVMValueRef *args, unsigned nargs) {
    return lc_build_intrinsic_types(b, mod, name, &ty, ty ? 1 : 0, args, nargs);
}

/* The enum attribute `name` (with `value`: 0 for the flags) on function fn; false, adding
 * nothing, where this LLVM does not know the name (memory(none) is readnone before LLVM 16). */
static inline bool lc_add_fn_attribute(LLVMValueRef fn, const char *name, uint64_t value) {
    unsigned kind = LLVMGetEnumAttributeKindForName(name, strlen(name));
    if (!kind) return false;
    LLVMContextRef ctx = LLVMGetModuleContext(LLVMGetGlobalParent(fn));
    LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(ctx, kind, value));
    return true;
}

#endif
