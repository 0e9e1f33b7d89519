/* Vectorizable log2 and exp2 emitted inline (vmath.c). */
#ifndef LUCID_CODEGEN_VMATH_H
#define LUCID_CODEGEN_VMATH_H

#include <stdbool.h>

#include <llvm-c/Core.h>

/* log2(x) for x >= 0 or NaN; exp2(y) for any y. `f64` selects double, else float; `fma`
 * says the target has fused multiply-add (polynomials then use llvm.fma). */
LLVMValueRef lc_vmath_log2(LLVMBuilderRef b, LLVMModuleRef mod, LLVMValueRef x, bool f64, bool fma);
LLVMValueRef lc_vmath_exp2(LLVMBuilderRef b, LLVMModuleRef mod, LLVMValueRef y, bool f64, bool fma);
/* x^p (p > 0) for float32 x on the normal range only, in about half the arithmetic of
 * exp2(p·log2 x) above: a flagged LP norm's plain form (vmath.c says what it gives elsewhere).
 * log2_terms (5, 6 or 7) and exp2_terms (5 or 6): its polynomials' lengths. */
LLVMValueRef lc_vmath_pow_normal(LLVMBuilderRef b, LLVMModuleRef mod, LLVMValueRef x, double p, int log2_terms,
                                 int exp2_terms, bool fma);
/* The same power where the target has AVX-512 (F and DQ): a call to a module-local function
 * whose 16-lane variant, in LLVM's vector function ABI, reads the exponent and mantissa, looks
 * log2 up in two 16-entry tables and scales by 2^n with AVX-512's own instructions (vmath.c:
 * 16 to 18 operations a power against 27, 8 to 10 of them multiply-adds). The
 * loop vectorizer widens the call; the pass list inlines it after (codegen/jit.c).
 * lc_vmath_pow_normal_avx512_known: whether this LLVM names those instructions. */
bool lc_vmath_pow_normal_avx512_known(void);
LLVMValueRef lc_vmath_pow_normal_avx512(LLVMBuilderRef b, LLVMModuleRef mod, LLVMValueRef x, double p,
                                        int log2_terms, int exp2_terms);
/* sqrt(x) for float32 x >= 0 by AVX-512 F's estimate, x·vrsqrt14ps(max(2^-126, x)), in the same
 * form (a call whose 16-lane variant the loop vectorizer takes): within 2^-14 relative where
 * x is normal, 0 for a zero x, below 2^-63 for a subnormal one, NaN for an inf or NaN x. For
 * a flagged LP norm's terms where nothing reads y (lc_lp_schedule.terms_sqrt_estimate): no
 * divider, where vsqrtps zmm issues every ~12 cycles on Intel's AVX-512 cores.
 * lc_vmath_sqrt_estimate_avx512_known: whether this LLVM names the instructions. */
bool lc_vmath_sqrt_estimate_avx512_known(void);
LLVMValueRef lc_vmath_sqrt_estimate_avx512(LLVMBuilderRef b, LLVMModuleRef mod, LLVMValueRef x);
/* x^(k/m) (k in {1, 2}, k < m <= 8) for float32 x on the normal range only, by two
 * Newton-type steps on x^(-1/m): a flagged LP norm's root (vmath.c). lc_vmath_root_newton
 * emits the steps the root shares with 1/y (_inverse) and the per-window scale (_scale): the
 * first guess z0 of x^(-1/m) and d0 = 1 - x·z0^m, the stepped z and d = 1 - x·z^m, and
 * w = x·z^(m-k). Each of the three finishes them with a few operations; a caller emits the
 * steps once per x and hands them to all three (codegen: lc_emit_root_steps). */
typedef struct lc_vmath_root_steps {
    LLVMValueRef x, z, d, w, z0, d0;
    int m, k;
} lc_vmath_root_steps;
lc_vmath_root_steps lc_vmath_root_newton(LLVMBuilderRef b, LLVMModuleRef mod, LLVMValueRef x, int m, int k, bool fma);
LLVMValueRef lc_vmath_root_normal(LLVMBuilderRef b, LLVMModuleRef mod, const lc_vmath_root_steps *r, bool fma);
LLVMValueRef lc_vmath_root_normal_inverse(LLVMBuilderRef b, LLVMModuleRef mod, const lc_vmath_root_steps *r, int j,
                                          bool fma);
void lc_vmath_root_normal_scale(LLVMBuilderRef b, LLVMModuleRef mod, const lc_vmath_root_steps *r, bool fma,
                                LLVMValueRef *z0, LLVMValueRef *ratio_k, LLVMValueRef *ratio_1);

#endif
