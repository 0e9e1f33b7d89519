/* x^p specialised by the exponent: multiplies and sqrt for the common p, C's limits for an
 * exponent that is infinite in the kernel's type, else exp2(p·log2|x|) from vmath.c. */
#include <assert.h>
#include <float.h>
#include <math.h>

#include "codegen/emit_internal.h"
#include "codegen/vmath.h"

/* Every finite double from 2^53 up is an (even) integer, as C's pow treats it. */
static bool is_int(double v) { return isfinite(v) && v == floor(v); }

/* x^p for x >= 0 (or any x with an integer p handled by the caller): exp2(p·log2 x). */
static LLVMValueRef pow_general(emitter *e, LLVMValueRef x, double p, lc_dtype dt) {
    LLVMValueRef ax = emit_fabs(e, x);
    LLVMValueRef lg = lc_vmath_log2(e->b, e->mod, ax, dt == LC_F64, e->fma);
    LLVMValueRef r = lc_vmath_exp2(e->b, e->mod, LLVMBuildFMul(e->b, lg, real_const(e, dt, p), ""),
                                   dt == LC_F64, e->fma);
    if (is_int(p)) {
        if (fmod(fabs(p), 2.0) == 1.0) r = emit_copysign(e, r, x);
        return r;
    }
    /* non-integer power of a negative number is NaN, as C's pow */
    LLVMValueRef neg = LLVMBuildAnd(
        e->b, LLVMBuildFCmp(e->b, LLVMRealOLT, x, real_const(e, dt, 0.0), ""),
        LLVMBuildFCmp(e->b, LLVMRealONE, x, real_const(e, dt, -INFINITY), ""), "");
    /* (-inf)^p is +inf or 0 as |x|^p: C's pow */
    return LLVMBuildSelect(e->b, neg, real_const(e, dt, NAN), r, "");
}

/* x^p for an exponent that is infinite in the kernel's type (a huge norm_type rounded to
 * float32): C's pow limits, so 1 stays 1 instead of becoming exp2(inf·0) = NaN. */
static LLVMValueRef pow_infinite(emitter *e, LLVMValueRef x, double p, lc_dtype dt) {
    LLVMValueRef ax = emit_fabs(e, x);
    LLVMValueRef below = LLVMBuildFCmp(e->b, LLVMRealOLT, ax, real_const(e, dt, 1.0), "");
    LLVMValueRef one = LLVMBuildFCmp(e->b, LLVMRealOEQ, ax, real_const(e, dt, 1.0), "");
    LLVMValueRef small = real_const(e, dt, p > 0 ? 0.0 : INFINITY);
    LLVMValueRef large = real_const(e, dt, p > 0 ? INFINITY : 0.0);
    LLVMValueRef r = LLVMBuildSelect(e->b, below, small, large, "");
    r = LLVMBuildSelect(e->b, one, real_const(e, dt, 1.0), r, "");
    LLVMValueRef nan = LLVMBuildFCmp(e->b, LLVMRealUNO, x, x, "");
    return LLVMBuildSelect(e->b, nan, x, r, "");
}

/* The exponent the kernel's arithmetic sees: a float32 kernel rounds it, so a huge p becomes
 * inf (handled by its limit) and a tiny one is kept off 0 (0^tiny is 0, not 1). */
static double kernel_exponent(double p, lc_dtype dt) {
    if (dt == LC_F32 && fabs(p) > FLT_MAX) return copysign(INFINITY, p);
    if (dt == LC_F32 && p != 0 && fabs(p) < FLT_TRUE_MIN) return copysign(FLT_TRUE_MIN, p);
    return p;
}

bool lc_pow_by_exp2(double p, lc_dtype dt) {
    p = kernel_exponent(p, dt);
    bool by_product = p == 0 || p == 1 || p == 2 || p == 3 || p == 4 || p == 0.5 || p == -1 ||
                      (p > 0 && p < 8 && p - floor(p) == 0.5);
    return !by_product && !isinf(p);
}

LLVMValueRef lc_emit_pow(emitter *e, LLVMValueRef x, double p, bool zero_pole, lc_dtype dt) {
    LLVMValueRef r;
    p = kernel_exponent(p, dt);
    if (p == 0) return real_const(e, dt, 1.0);
    if (p == 1) return x;
    if (p == 2) return LLVMBuildFMul(e->b, x, x, "");
    if (p == 3) return LLVMBuildFMul(e->b, LLVMBuildFMul(e->b, x, x, ""), x, "");
    if (p == 4) {
        LLVMValueRef x2 = LLVMBuildFMul(e->b, x, x, "");
        return LLVMBuildFMul(e->b, x2, x2, "");
    }
    if (p == 0.5) {
        LLVMValueRef s = unary_intrinsic(e, "llvm.sqrt", x);
        LLVMValueRef ninf = LLVMBuildFCmp(e->b, LLVMRealOEQ, x, real_const(e, dt, -INFINITY), "");
        return LLVMBuildSelect(e->b, ninf, real_const(e, dt, INFINITY), s, "");
    }
    double whole = floor(p);
    if (isinf(p)) {
        r = pow_infinite(e, x, p, dt);
    } else if (p == -1) {
        r = LLVMBuildFDiv(e->b, real_const(e, dt, 1.0), x, "");
    } else if (p > 0 && p < 8 && p - whole == 0.5) {
        /* x^(k + 1/2) = x^k · sqrt(x): much cheaper than exp2/log2, within 2 ulp. sqrt(-inf) is
         * NaN where pow(-inf, p) is inf, so that one value is selected apart.
         * The exact square root, not x · rsqrt(x) from the hardware estimate (vrsqrt14ps, as
         * LLVM lowers 1/sqrt under afn + arcp) and a Newton step: on the AVX-512 host measured
         * (AMD family 1Ah, LLVM's znver5) a vsqrtps zmm issues every ~4 cycles beside two
         * multiplies a cycle, and the step takes five multiply-pipe operations where the root
         * took none, so LPPool1d(2.5, 4)'s forward loop went from 16-19 to 20-24 cycles per 16
         * windows. Without the step (2^-14 relative, which put y 1.5e-5 off where it is 2e-7
         * off now) it ran no faster than the root there (bench/README.md, 2026-12-04); on an
         * Intel AVX-512 host, whose vsqrtps zmm issues every ~12 cycles, it runs faster, so a
         * flagged norm's terms whose y nothing reads take it (lc_lp_schedule.
         * terms_sqrt_estimate, emit_expr.c); this is the exact form everywhere else. */
        r = unary_intrinsic(e, "llvm.sqrt", x);
        for (int k = 0; k < (int)whole; k++) r = LLVMBuildFMul(e->b, r, x, "");
        LLVMValueRef ninf = LLVMBuildFCmp(e->b, LLVMRealOEQ, x, real_const(e, dt, -INFINITY), "");
        r = LLVMBuildSelect(e->b, ninf, real_const(e, dt, INFINITY), r, "");
    } else {
        assert(lc_pow_by_exp2(p, dt));
        r = pow_general(e, x, p, dt);
    }
    if (zero_pole && p < 0) {
        LLVMValueRef z = LLVMBuildFCmp(e->b, LLVMRealOEQ, x, real_const(e, dt, 0.0), "");
        r = LLVMBuildSelect(e->b, z, real_const(e, dt, 0.0), r, "");
    }
    return r;
}


lc_vmath_root_steps lc_emit_root_steps(emitter *e, LLVMValueRef x, int m, int k) {
    LLVMBasicBlockRef here = LLVMGetInsertBlock(e->b);
    for (int i = 0; i < e->root_memo_n; i++) {
        const lc_vmath_root_steps *r = &e->root_memo[i].steps;
        if (r->x == x && r->m == m && r->k == k && e->root_memo[i].block == here) return *r;
    }
    lc_vmath_root_steps r = lc_vmath_root_newton(e->b, e->mod, x, m, k, e->fma);
    if (e->root_memo_n < LC_WINDOW_MEMO_MAX) {
        int i = e->root_memo_n++;
        e->root_memo[i].block = LLVMGetInsertBlock(e->b);
        e->root_memo[i].steps = r;
    }
    return r;
}

LLVMValueRef lc_emit_lp_pow(emitter *e, LLVMValueRef x, double p, lc_lp_pow_form form, lc_short_pow_poly poly,
                            lc_dtype dt) {
    if (form == LC_LP_POW_GENERAL) return lc_emit_pow(e, x, p, false, dt);
    LC_ASSERT(dt == LC_F32 && p > 0); /* fuse chose the short forms for these only */
    if (form == LC_LP_POW_ROOT) {
        int m = 0, k = 0;
        LC_ASSERT(lc_lp_root_parts(p, &m, &k));
        lc_vmath_root_steps r = lc_emit_root_steps(e, x, m, k);
        return lc_vmath_root_normal(e->b, e->mod, &r, e->fma);
    }
    if (e->avx512_exponents)
        return lc_vmath_pow_normal_avx512(e->b, e->mod, x, p, poly.log2_terms, poly.exp2_terms);
    return lc_vmath_pow_normal(e->b, e->mod, x, p, poly.log2_terms, poly.exp2_terms, e->fma);
}
