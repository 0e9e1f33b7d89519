/* A call to an overloaded LLVM intrinsic (llvm.fabs, llvm.fma, ...) instantiated at type `ty`,
 * for emit_*.c and vmath.c alike. */
#ifndef LUCID_CODEGEN_INTRINSIC_H
#define LUCID_CODEGEN_INTRINSIC_H

#include <string.h>

#include <llvm-c/Core.h>

static inline LLVMValueRef lc_build_intrinsic(LLVMBuilderRef b, LLVMModuleRef mod, const char *name,
                                              LLVMTypeRef ty, LLVMValueRef *args, unsigned nargs) {
    unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
    LLVMValueRef decl = LLVMGetIntrinsicDeclaration(mod, id, &ty, 1);
    LLVMTypeRef fty = LLVMIntrinsicGetType(LLVMGetModuleContext(mod), id, &ty, 1);
    return LLVMBuildCall2(b, fty, decl, args, nargs, "");
}

#endif
