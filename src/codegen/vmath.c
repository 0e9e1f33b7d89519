/* log2 and exp2 as straight-line IR. llvm.log2 / llvm.exp2 in a loop become scalar libm
 * calls and stop the loop vectorizer; these use only bit operations, floor, selects and
 * polynomials, so a loop computing a fractional power vectorizes at full width. Both are
 * accurate to a few ulp (f32: ~2e-7 relative; f64: ~1e-15), far inside the JIT's 1e-4
 * tolerance, and they keep IEEE special values: log2(0) = -inf, log2(inf) = inf,
 * log2(NaN) = NaN, exp2(-inf) = 0, exp2(inf) = inf, exp2(NaN) = NaN. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "codegen/intrinsic.h"
#include "codegen/vmath.h"

typedef struct vm {
    LLVMBuilderRef b;
    LLVMContextRef ctx;
    LLVMModuleRef mod;
    bool f64;
    bool fma; /* the target has fused multiply-add: llvm.fma is one instruction */
    LLVMTypeRef ft, it; /* float type, same-width integer type (vectors of them in a vector function) */
    unsigned lanes;     /* 0 for scalars, else the lanes of ft and it */
} vm;

/* a constant of v's float or integer type: a splat in a vector function */
static LLVMValueRef splat(vm *v, LLVMValueRef c) {
    if (!v->lanes) return c;
    LLVMValueRef cs[16];
    for (unsigned i = 0; i < v->lanes; i++) cs[i] = c;
    return LLVMConstVector(cs, v->lanes);
}
static LLVMValueRef fc(vm *v, double c) {
    LLVMTypeRef t = v->lanes ? LLVMGetElementType(v->ft) : v->ft;
    return splat(v, LLVMConstReal(t, v->f64 ? c : (double)(float)c));
}
static LLVMValueRef ic(vm *v, long long c) {
    LLVMTypeRef t = v->lanes ? LLVMGetElementType(v->it) : v->it;
    return splat(v, LLVMConstInt(t, (unsigned long long)c, 1));
}

static LLVMValueRef floor_of(vm *v, LLVMValueRef x) {
    return lc_build_intrinsic(v->b, v->mod, "llvm.floor", v->ft, &x, 1);
}

static LLVMValueRef sel(vm *v, LLVMRealPredicate pred, LLVMValueRef a, LLVMValueRef b,
                        LLVMValueRef then, LLVMValueRef other) {
    return LLVMBuildSelect(v->b, LLVMBuildFCmp(v->b, pred, a, b, ""), then, other, "");
}

/* a·x + c, fused when the target has FMA. Always the same choice for every copy of a loop
 * (vector body and scalar remainder alike), so results never depend on how a range is split;
 * llvm.fmuladd would leave that choice to each instruction. */
static LLVMValueRef mul_add(vm *v, LLVMValueRef a, LLVMValueRef x, LLVMValueRef c) {
    if (!v->fma) return LLVMBuildFAdd(v->b, LLVMBuildFMul(v->b, a, x, ""), c, "");
    LLVMValueRef args[3] = {a, x, c};
    return lc_build_intrinsic(v->b, v->mod, "llvm.fma", v->ft, args, 3);
}

/* c[0] + c[1]x + ... + c[n-1]x^(n-1) by Estrin's scheme: pairs, then pairs of pairs with
 * x², x⁴, ..., so the dependency chain is log2(n) multiply-adds long instead of n (a
 * fractional pow was bound by that latency, not by its instruction count). */
static LLVMValueRef poly(vm *v, LLVMValueRef x, const double *c, int n) {
    LLVMValueRef terms[16];
    int m = 0;
    for (int i = 0; i < n; i += 2)
        terms[m++] = i + 1 < n ? mul_add(v, fc(v, c[i + 1]), x, fc(v, c[i])) : fc(v, c[i]);
    LLVMValueRef xp = LLVMBuildFMul(v->b, x, x, "");
    while (m > 1) {
        int k = 0;
        for (int i = 0; i < m; i += 2)
            terms[k++] = i + 1 < m ? mul_add(v, terms[i + 1], xp, terms[i]) : terms[i];
        m = k;
        if (m > 1) xp = LLVMBuildFMul(v->b, xp, xp, "");
    }
    return terms[0];
}

static void init(vm *v, LLVMBuilderRef b, LLVMModuleRef mod, LLVMValueRef x, bool f64, bool fma) {
    v->b = b;
    v->fma = fma;
    v->mod = mod;
    v->ctx = LLVMGetModuleContext(mod);
    v->f64 = f64;
    v->ft = LLVMTypeOf(x);
    v->it = f64 ? LLVMInt64TypeInContext(v->ctx) : LLVMInt32TypeInContext(v->ctx);
    v->lanes = LLVMGetTypeKind(v->ft) == LLVMVectorTypeKind ? LLVMGetVectorSize(v->ft) : 0;
    if (v->lanes) v->it = LLVMVectorType(v->it, v->lanes);
}

/* log2(x) for x >= 0 (negative x is never passed: callers take |x|). */
LLVMValueRef lc_vmath_log2(LLVMBuilderRef b, LLVMModuleRef mod, LLVMValueRef x, bool f64, bool fma) {
    vm v;
    init(&v, b, mod, x, f64, fma);
    int mbits = f64 ? 52 : 23, bias = f64 ? 1023 : 127;
    double tiny = f64 ? 2.2250738585072014e-308 : 1.17549435e-38, up = f64 ? 0x1p54 : 0x1p24;
    /* subnormals: scale into the normal range first */
    LLVMValueRef sub = LLVMBuildFCmp(b, LLVMRealOLT, x, fc(&v, tiny), "");
    LLVMValueRef xs = LLVMBuildSelect(b, sub, LLVMBuildFMul(b, x, fc(&v, up), ""), x, "");
    LLVMValueRef bits = LLVMBuildBitCast(b, xs, v.it, "");
    LLVMValueRef ex = LLVMBuildSub(b, LLVMBuildLShr(b, bits, ic(&v, mbits), ""), ic(&v, bias), "");
    long long mmask = f64 ? 0x000fffffffffffffLL : 0x7fffff;
    long long one = f64 ? 0x3ff0000000000000LL : 0x3f800000;
    LLVMValueRef mant = LLVMBuildBitCast(
        b, LLVMBuildOr(b, LLVMBuildAnd(b, bits, ic(&v, mmask), ""), ic(&v, one), ""), v.ft, "");
    /* m in [1, 2) -> [sqrt(1/2), sqrt(2)) so the series argument stays small */
    LLVMValueRef big = LLVMBuildFCmp(b, LLVMRealOGT, mant, fc(&v, M_SQRT2), "");
    mant = LLVMBuildSelect(b, big, LLVMBuildFMul(b, mant, fc(&v, 0.5), ""), mant, "");
    LLVMValueRef e = LLVMBuildSIToFP(b, ex, v.ft, "");
    e = LLVMBuildFAdd(b, e, LLVMBuildSelect(b, big, fc(&v, 1.0), fc(&v, 0.0), ""), "");
    e = LLVMBuildFSub(b, e, LLVMBuildSelect(b, sub, fc(&v, f64 ? 54.0 : 24.0), fc(&v, 0.0), ""), "");
    LLVMValueRef lm;
    if (f64) {
        /* ln m = 2 atanh(s), s = (m-1)/(m+1), |s| <= 0.1716: 2s(1 + s²/3 + s⁴/5 + ...) */
        LLVMValueRef s = LLVMBuildFDiv(b, LLVMBuildFSub(b, mant, fc(&v, 1.0), ""),
                                       LLVMBuildFAdd(b, mant, fc(&v, 1.0), ""), "");
        LLVMValueRef s2 = LLVMBuildFMul(b, s, s, "");
        double c[11];
        for (int i = 0; i < 11; i++) c[i] = 2.0 / (2 * i + 1) / M_LN2; /* in log2 units */
        lm = LLVMBuildFMul(b, s, poly(&v, s2, c, 11), "");
    } else {
        /* log2(1 + t) = t·P(t) on t = m - 1 in [-0.293, 0.415]: a least-squares fit at
         * Chebyshev nodes, relative error 4e-9 before rounding. No division: a vector divide
         * was the slowest instruction of a fractional pow. */
        static const double c[10] = {1.442695040915563,    -0.7213473515248424, 0.4808982125184726,
                                     -0.36069663283698855, 0.28856890761730203, -0.23961894398857392,
                                     0.20457499217125882,  -0.1910255741282735, 0.1863144020063042,
                                     -0.1102029710619962};
        LLVMValueRef t = LLVMBuildFSub(b, mant, fc(&v, 1.0), "");
        lm = LLVMBuildFMul(b, t, poly(&v, t, c, 10), "");
    }
    LLVMValueRef r = LLVMBuildFAdd(b, e, lm, "");
    r = sel(&v, LLVMRealOEQ, x, fc(&v, 0.0), fc(&v, -INFINITY), r);
    r = sel(&v, LLVMRealOEQ, x, fc(&v, INFINITY), fc(&v, INFINITY), r);
    return sel(&v, LLVMRealUNO, x, x, x, r);
}

LLVMValueRef lc_vmath_exp2(LLVMBuilderRef b, LLVMModuleRef mod, LLVMValueRef y, bool f64, bool fma) {
    vm v;
    init(&v, b, mod, y, f64, fma);
    int mbits = f64 ? 52 : 23, bias = f64 ? 1023 : 127;
    /* Results below 2^lo are flushed to 0: computing a subnormal (or an underflow to 0) costs
     * a microcode assist of ~100 cycles per instruction on x86, which made a window with a
     * zero in it 100x slower. The lost values are below 2.4e-38 (f32), 4.5e-308 (f64). */
    double lo = f64 ? -1021.0 : -125.0, hi = f64 ? 1030.0 : 130.0;
    LLVMValueRef flush = LLVMBuildFCmp(b, LLVMRealOLT, y, fc(&v, lo), "");
    /* clamp with compare+select (NaN passes through to the final select) */
    LLVMValueRef yc = sel(&v, LLVMRealOLT, y, fc(&v, lo), fc(&v, lo), y);
    yc = sel(&v, LLVMRealOGT, yc, fc(&v, hi), fc(&v, hi), yc);
    yc = sel(&v, LLVMRealUNO, yc, yc, fc(&v, 0.0), yc);
    /* n = round(y), f = y - n in [-0.5, 0.5]; 2^f by a polynomial (f64: e^(f ln2) by Taylor) */
    LLVMValueRef nf = floor_of(&v, LLVMBuildFAdd(b, yc, fc(&v, 0.5), ""));
    LLVMValueRef p;
    if (f64) {
        LLVMValueRef f = LLVMBuildFMul(b, LLVMBuildFSub(b, yc, nf, ""), fc(&v, M_LN2), "");
        double c[15], fact = 1;
        for (int i = 0; i < 15; i++) {
            if (i > 0) fact *= i;
            c[i] = 1.0 / fact;
        }
        p = poly(&v, f, c, 15);
    } else {
        /* 2^f on [-0.5, 0.5]: weighted least-squares fit, relative error 1.9e-9 */
        static const double c[7] = {1.0000000005921659,  0.6931472056058879,  0.24022646608041817,
                                    0.055503289857500776, 0.009618519562789555, 0.001339986514161075,
                                    0.00015337580929800928};
        p = poly(&v, LLVMBuildFSub(b, yc, nf, ""), c, 7);
    }
    /* scale by 2^n in two halves so each factor is a normal number */
    LLVMValueRef n = LLVMBuildFPToSI(b, nf, v.it, "");
    LLVMValueRef n1 = LLVMBuildAShr(b, n, ic(&v, 1), "");
    LLVMValueRef n2 = LLVMBuildSub(b, n, n1, "");
    LLVMValueRef s1 = LLVMBuildBitCast(b, LLVMBuildShl(b, LLVMBuildAdd(b, n1, ic(&v, bias), ""), ic(&v, mbits), ""), v.ft, "");
    LLVMValueRef s2 = LLVMBuildBitCast(b, LLVMBuildShl(b, LLVMBuildAdd(b, n2, ic(&v, bias), ""), ic(&v, mbits), ""), v.ft, "");
    LLVMValueRef r = LLVMBuildFMul(b, LLVMBuildFMul(b, p, s1, ""), s2, "");
    r = LLVMBuildSelect(b, flush, fc(&v, 0.0), r, "");
    return sel(&v, LLVMRealUNO, y, y, y, r);
}

/* c[0] + c[1]x + ... + c[n-1]x^(n-1) by Horner's rule: n - 1 multiply-adds, against Estrin's
 * n + log2(n) - 1 operations. The short power below runs in loops bound by the throughput of
 * the multiply-add ports, with many independent vectors in flight (the terms of a window, the
 * trips interleaved), so the longer dependency chain is hidden and the fewer operations pay. */
static LLVMValueRef horner(vm *v, LLVMValueRef x, const double *c, int n) {
    LLVMValueRef r = fc(v, c[n - 1]);
    for (int i = n - 2; i >= 0; i--) r = mul_add(v, r, x, fc(v, c[i]));
    return r;
}

/* log2(1 + t) = t·P(t) on t = m - 1 in [-0.293, 0.415], taken times p: near-minimax fits of
 * the absolute error (Lawson's reweighted least squares), 3.0e-7 with 7 coefficients, 2.1e-6
 * with 6, 1.5e-5 with 5; and 2^f on [-0.5, 0.5]: near-minimax fits of the relative error, 7.5e-8 with 6
 * coefficients, 2.6e-6 with 5. The short power's polynomials: exp2's in both of its forms,
 * log2's in the bit arithmetic's (the AVX-512 form reads log2 from a table, below). */
static const double g_log2_c7[7] = {1.4426997262516603,  -0.7213758729356278,  0.4804650222146218,
                                    -0.35896184609397397, 0.29726282562213613, -0.27269779674877026,
                                    0.17063322702792563};
static const double g_log2_c6[6] = {1.4427134809104971,  -0.7211318479435171, 0.47934806396465995,
                                    -0.36749025269556795, 0.32215431856143617, -0.20658988899561792};
static const double g_log2_c5[5] = {1.4425780054373183, -0.7202417773273978, 0.48668620667460355,
                                    -0.3945757777959986, 0.25266049290516907};
static const double g_exp2_c6[6] = {1.0000000716541464,  0.693146967047918,    0.24022119725586355,
                                    0.05550713300993465, 0.009675541264330928, 0.0013276463106309845};
static const double g_exp2_c5[5] = {0.9999992614067513, 0.693121814813429, 0.2402474495728787,
                                    0.055917859907935165, 0.009570096670151018};

/* p·log2(x) = p·e + t·P(t) from x's exponent e (as a float) and t = m - 1: the log2
 * polynomial with p folded into its coefficients, one multiply-add for p·e. */
static LLVMValueRef p_log2(vm *v, LLVMValueRef e, LLVMValueRef t, double p, int log2_terms) {
    const double *c = log2_terms == 5 ? g_log2_c5 : log2_terms == 6 ? g_log2_c6 : g_log2_c7;
    int n = log2_terms == 5 ? 5 : log2_terms == 6 ? 6 : 7;
    double cp[7];
    for (int i = 0; i < n; i++) cp[i] = c[i] * p;
    return mul_add(v, e, fc(v, p), LLVMBuildFMul(v->b, t, horner(v, t, cp, n), ""));
}

static LLVMValueRef exp2_poly(vm *v, LLVMValueRef f, int exp2_terms) {
    return exp2_terms == 5 ? horner(v, f, g_exp2_c5, 5) : horner(v, f, g_exp2_c6, 6);
}

/* x^p for float32 on the normal range only: the short form of exp2(p·log2 x) that a flagged
 * LP norm's plain form takes (kernel.h, lc_lp_pow_form), where every window whose sum is not
 * a normal number is redone in the fix-up anyway. Against lc_vmath_log2/exp2 it drops what
 * only other windows need: subnormal scaling, the special-value selects (log2 is read from
 * the bits: 0 gives -127, inf 128, NaN above 128), the clamping of exp2's argument below and
 * its two-step scaling, and a third of the polynomial terms (log2 of the mantissa to 3.3e-7
 * absolute, 2^f to 1.5e-7 relative with float32 coefficients, with 7 and 6 of them), in 13 multiplies and
 * multiply-adds where exp2(p·log2 x) takes 19 and more: the polynomials by Horner's rule, p·log2 x
 * one multiply-add (p folded into the log2 polynomial's coefficients), exp2's argument rounded
 * by adding and subtracting 1.5·2^23 (no floor and no float-to-int conversion: n is read from
 * the sum's low bits), and 2^n applied by an integer add to the exponent field (no multiply).
 * A power within about 1e-6 of the true one where |p·log2 x| is small, up to
 * ~8e-6 near the range's ends from float32's rounding of p·log2 x, against the JIT's tolerance
 * of 1e-4. Shorter polynomials (5 and 5 coefficients for the terms, 3 multiply-adds fewer; 6
 * and 6 for the root, whose exp2 error y takes whole) only where no gradient reads the norm
 * (fuse: lc_lp_schedule.terms_poly): an element in two windows gets
 * the difference of two gradient terms, which magnifies the norm's error (6 and 5 terms, 3e-6
 * in the norm, put LPPool1d(2.5, 4, 3)'s gradient 8e-4 off).
 *
 * Contract, for p > 0: x^p within that where x and x^p are normal; 0 where p·log2 x < -125
 * (as exp2 above flushes; so x = 0 gives 0 when p > 125/127, and the caller selects 0 for a
 * zero x otherwise); inf where x^p >= 2^128 and, for p >= 1, for an inf or NaN x (which is
 * how the flagged sum still sees such a window; the root of an inf or NaN sum is finite, and
 * the sum itself is what the window's check reads). A subnormal x is read as between 2^-127
 * and 2^-126. */
LLVMValueRef lc_vmath_pow_normal(LLVMBuilderRef b, LLVMModuleRef mod, LLVMValueRef x, double p, int log2_terms,
                                 int exp2_terms, bool fma) {
    vm v;
    init(&v, b, mod, x, false, fma);
    x = lc_build_intrinsic(b, mod, "llvm.fabs", v.ft, &x, 1);
    /* x = 2^e·m with m in [sqrt(1/2), sqrt(2)): the exponent taken from the bits offset by
     * those of sqrt(1/2), so no compare or select folds the mantissa */
    LLVMValueRef bits = LLVMBuildBitCast(b, x, v.it, "");
    LLVMValueRef ex = LLVMBuildAShr(b, LLVMBuildSub(b, bits, ic(&v, 0x3f3504f3), ""), ic(&v, 23), "");
    LLVMValueRef m = LLVMBuildBitCast(b, LLVMBuildSub(b, bits, LLVMBuildShl(b, ex, ic(&v, 23), ""), ""), v.ft, "");
    LLVMValueRef t = LLVMBuildFSub(b, m, fc(&v, 1.0), "");
    LLVMValueRef y = p_log2(&v, LLVMBuildSIToFP(b, ex, v.ft, ""), t, p, log2_terms);
    LLVMValueRef flush = LLVMBuildFCmp(b, LLVMRealOLT, y, fc(&v, -125.0), "");
    /* clamped at 129, where q·2^n below is inf whatever q (at 128 the result overflows only by
     * the polynomial's error) */
    y = sel(&v, LLVMRealOGT, y, fc(&v, 129.0), fc(&v, 129.0), y);
    /* n = y rounded to nearest: y + 1.5·2^23 has n in its low mantissa bits (|y| < 2^22) */
    LLVMValueRef shifted = LLVMBuildFAdd(b, y, fc(&v, 12582912.0), "");
    LLVMValueRef nf = LLVMBuildFSub(b, shifted, fc(&v, 12582912.0), "");
    LLVMValueRef q = exp2_poly(&v, LLVMBuildFSub(b, y, nf, ""), exp2_terms);
    /* q·2^n by adding n to q's exponent field, an integer add where a multiply by 2^n took one
     * of the two multiply-add ports (the loop's bound). The sum's bits hold n in their low 9,
     * the rest shift out. q in [2^-0.5, 2^0.5] has the field 126 or 127, n in [-125, 129]
     * makes it 1 to 256: a normal number below 255 (the same bits as the multiply), and from
     * 255 up the bits of inf or above (NaN, or 256 carried into the sign) that the unsigned
     * minimum takes to inf, as the multiply overflowed. Below -125 n wraps, and the flush
     * selects 0. */
    LLVMValueRef scaled = LLVMBuildAdd(b, LLVMBuildBitCast(b, q, v.it, ""),
                                       LLVMBuildShl(b, LLVMBuildBitCast(b, shifted, v.it, ""), ic(&v, 23), ""), "");
    LLVMValueRef capped[2] = {scaled, ic(&v, 0x7f800000)};
    LLVMValueRef r = LLVMBuildBitCast(b, lc_build_intrinsic(b, mod, "llvm.umin", v.it, capped, 2), v.ft, "");
    return LLVMBuildSelect(b, flush, fc(&v, 0.0), r, "");
}

/* ---- The short power by AVX-512's exponent instructions --------------------------------- */

/* The AVX-512 instructions the form below takes, as LLVM names them. Not overloaded: each is
 * its 512-bit float32 form. */
static const char *const g_avx512_names[5] = {
    "llvm.x86.avx512.mask.getexp.ps.512", "llvm.x86.avx512.mask.getmant.ps.512",
    "llvm.x86.avx512.mask.reduce.ps.512", "llvm.x86.avx512.mask.scalef.ps.512", "llvm.x86.avx512.permvar.sf.512"};
enum { AVX512_GETEXP, AVX512_GETMANT, AVX512_REDUCE, AVX512_SCALEF, AVX512_PERMVAR };

bool lc_vmath_pow_normal_avx512_known(void) {
    for (int i = 0; i < 5; i++)
        if (!LLVMLookupIntrinsicID(g_avx512_names[i], strlen(g_avx512_names[i]))) return false;
    return true;
}

static LLVMValueRef avx512(vm *v, int which, LLVMValueRef *args, unsigned n) {
    return lc_build_intrinsic(v->b, v->mod, g_avx512_names[which], NULL, args, n);
}

/* A function of the module LLVM may take as pure (no memory touched; LLVM 16 on says so by
 * memory(none), before by readnone), inlined wherever it is called, and local to the module. */
static LLVMValueRef add_pure_function(LLVMModuleRef mod, const char *name, LLVMTypeRef fty) {
    LLVMValueRef fn = LLVMAddFunction(mod, name, fty);
    LLVMSetLinkage(fn, LLVMInternalLinkage);
    lc_add_fn_attribute(fn, "alwaysinline", 0);
    lc_add_fn_attribute(fn, "nounwind", 0);
    lc_add_fn_attribute(fn, "willreturn", 0);
    if (!lc_add_fn_attribute(fn, "memory", 0)) lc_add_fn_attribute(fn, "readnone", 0);
    return fn;
}

/* 2^f on [0, 1): the exp2 polynomial above of g = f - 1/2 on [-1/2, 1/2], times sqrt(2),
 * expanded in powers of f (the same relative error; vreduceps below gives f = y - floor y). */
static void exp2_from_floor(int exp2_terms, double *c) {
    const double *g = exp2_terms == 5 ? g_exp2_c5 : g_exp2_c6;
    int n = exp2_terms == 5 ? 5 : 6;
    for (int k = 0; k < n; k++) {
        double sum = 0, binom = 1; /* binom = C(j, k) */
        for (int j = k; j < n; j++) {
            sum += g[j] * binom * pow(-0.5, j - k);
            binom = binom * (j + 1) / (j + 1 - k);
        }
        c[k] = M_SQRT2 * sum;
    }
}

/* log2(1 + t) = t·P(t) for |t| <= 1/32 (t = m·r_j - 1 below): near-minimax fits of the
 * absolute error over the sixteen intervals' t, 3.5e-6 with 2 coefficients and 5.2e-8 with 3. */
static const double g_log2_table_c2[2] = {1.4430222993690376, -0.7206813844840587};
static const double g_log2_table_c3[3] = {1.4426954439600574, -0.7216209868861719, 0.4799489217992663};

/* The 16-lane body: the same p·log2|x| and 2^y as lc_vmath_pow_normal, with log2 from a table.
 * vgetexpps and vgetmantps give x = 2^e·m, m in [1, 2), sign dropped (no fabs). m's top four
 * fraction bits (those of x, read from its bits: a shift) pick one of sixteen intervals
 * [1 + j/16, 1 + (j+1)/16); r_j is the float nearest the reciprocal of its harmonic mean c_j,
 * so t = m·r_j - 1 (one multiply-add, exact but for one rounding) lies within 1/32 of 0, and
 * log2 x = e - log2 r_j + log2(1 + t). Both tables (r_j and p·(-log2 r_j), the latter rounded
 * once from double) are one register each, read by vpermps (permvar), which issues beside the
 * multiply-adds; the polynomial over so short an interval needs 2 coefficients where one over
 * [sqrt(1/2), sqrt(2)) needed 5 for a quarter of the accuracy. The exp2 side is as before:
 * vreduceps gives f = y - floor(y) and vscalefps q·2^floor(y), overflowing to inf by itself,
 * masked to 0 where y < -125 (the flush of lc_vmath_pow_normal, for the same reason: no
 * subnormal results).
 *
 * How many coefficients each side takes (`poly`, fuse's lc_short_pow_poly): log2's 5 becomes
 * the table with 2, y = t·P + (p·e + p·(-log2 r_j)), the sum taken beside the polynomial
 * (two roundings of y, the shorter chain); 6 and 7 become the table with 3, y = p·e +
 * (t·P - p·log2 r_j), one rounding of y. Each is at least as accurate as the polynomial it
 * replaces: over every 37th float32 in the normal range, x^p for p in {1, 1.3, 2.7, 3.5, 7, 15,
 * 1/2.7, 1/7} within 4.8e-6 to 4.4e-5 (5 and 5: 5.3e-6 to 1.6e-4) and 1.4e-6 to 6.0e-6 (7 and
 * 6: 1.4e-6 to 6.7e-6; 6 and 6: 1.6e-6 to 2.6e-5). On a Zen 5 core the terms of LPPool1d(2.7,
 * 4)'s forward took 0.13 ns an element where the polynomial form took 0.17 (a C model of the
 * loop on cache-resident data; bench/README.md, 2026-12-06): vgetexpps, vgetmantps, the
 * shift and the permutes issue on other pipes than the multiply-adds, and the chain is shorter.
 *
 * The contract is lc_vmath_pow_normal's, except that a zero x gives 0 for every p (log2 0 =
 * -inf), an inf or NaN x gives inf or NaN, not always inf (no clamp of y; every caller flags
 * such an element by its input or by a sum that is then not finite), and a subnormal x gives 0
 * for p >= 1 (its bits pick the wrong interval, and log2 x is read as at most e + 1.17 with
 * e <= -127, so y stays below -125) and some finite value for p < 1, which only the root
 * takes, of a sum that is normal in every window kept. */
static void emit_pow_normal_v16(vm *v, LLVMValueRef fn, double p, int log2_terms, int exp2_terms) {
    LLVMBuilderRef b = v->b;
    LLVMTypeRef i16 = LLVMInt16TypeInContext(v->ctx), i32 = LLVMInt32TypeInContext(v->ctx);
    LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(v->ctx, fn, "entry"));
    LLVMValueRef x = LLVMGetParam(fn, 0);
    LLVMValueRef all = LLVMConstInt(i16, 0xffff, 0), current_rounding = LLVMConstInt(i32, 4, 0);
    LLVMValueRef undef = LLVMGetUndef(v->ft);
    LLVMValueRef ge[4] = {x, undef, all, current_rounding};
    LLVMValueRef e = avx512(v, AVX512_GETEXP, ge, 4);
    /* imm 4: the interval [1, 2) (bits 1:0 = 0), the sign cleared (bits 3:2 = 01) */
    LLVMValueRef gm[5] = {x, LLVMConstInt(i32, 4, 0), undef, all, current_rounding};
    LLVMValueRef m = avx512(v, AVX512_GETMANT, gm, 5);
    /* the tables; vpermps reads the low 4 bits of each lane's index, so x's bits shifted by 19
     * need no mask (the exponent and sign above them are ignored) */
    LLVMTypeRef f32 = LLVMFloatTypeInContext(v->ctx);
    LLVMValueRef recip[16], neg_log[16];
    for (int j = 0; j < 16; j++) {
        double lo = 1 + j / 16.0, hi = 1 + (j + 1) / 16.0;
        float r = (float)((lo + hi) / (2 * lo * hi));
        recip[j] = LLVMConstReal(f32, r);
        neg_log[j] = LLVMConstReal(f32, (double)(float)(-p * log2((double)r)));
    }
    LLVMValueRef idx = LLVMBuildLShr(b, LLVMBuildBitCast(b, x, v->it, ""), ic(v, 19), "");
    LLVMValueRef pr[2] = {LLVMConstVector(recip, 16), idx}, pl[2] = {LLVMConstVector(neg_log, 16), idx};
    LLVMValueRef r = avx512(v, AVX512_PERMVAR, pr, 2), pneg_log_r = avx512(v, AVX512_PERMVAR, pl, 2);
    LLVMValueRef t = mul_add(v, m, r, fc(v, -1.0));
    bool short_log = log2_terms == 5;
    const double *lc = short_log ? g_log2_table_c2 : g_log2_table_c3;
    int n = short_log ? 2 : 3;
    double cp[3];
    for (int i = 0; i < n; i++) cp[i] = lc[i] * p;
    LLVMValueRef poly = horner(v, t, cp, n);
    LLVMValueRef y = short_log ? mul_add(v, t, poly, mul_add(v, e, fc(v, p), pneg_log_r))
                               : mul_add(v, e, fc(v, p), mul_add(v, t, poly, pneg_log_r));
    /* not flushed: unordered, so a NaN y (a NaN x) stays NaN and its window flagged */
    LLVMValueRef kept = LLVMBuildFCmp(b, LLVMRealUGE, y, fc(v, -125.0), "");
    /* imm 9: no fraction bits kept (bits 7:4 = 0), rounded down (bits 1:0 = 01), the
     * precision exception suppressed (bit 3) */
    LLVMValueRef rd[5] = {y, LLVMConstInt(i32, 9, 0), undef, all, current_rounding};
    LLVMValueRef f = avx512(v, AVX512_REDUCE, rd, 5);
    double c[6];
    exp2_from_floor(exp2_terms, c);
    LLVMValueRef q = horner(v, f, c, exp2_terms == 5 ? 5 : 6);
    LLVMValueRef sc[5] = {q, y, LLVMConstNull(v->ft), LLVMBuildBitCast(b, kept, i16, ""), current_rounding};
    LLVMBuildRet(b, avx512(v, AVX512_SCALEF, sc, 5));
}

/* What a 16-lane body (pow_normal_body, sqrt_estimate_body) is emitted from. */
typedef struct v16_body {
    void (*emit)(vm *v, LLVMValueRef fn, const struct v16_body *body);
    double p;
    int log2_terms, exp2_terms;
} v16_body;

static void pow_normal_body(vm *v, LLVMValueRef fn, const v16_body *body) {
    emit_pow_normal_v16(v, fn, body->p, body->log2_terms, body->exp2_terms);
}

/* A call of x to the scalar function `scalar_name`, which the module defines once: a 16-lane
 * function emitted by `body`, and the scalar one on top of it. */
static LLVMValueRef call_v16(LLVMBuilderRef b, LLVMModuleRef mod, LLVMValueRef x, const char *scalar_name,
                             const v16_body *body) {
    LLVMContextRef ctx = LLVMGetModuleContext(mod);
    LLVMTypeRef f32 = LLVMFloatTypeInContext(ctx), v16 = LLVMVectorType(f32, 16);
    LLVMTypeRef sty = LLVMFunctionType(f32, &f32, 1, 0), vty = LLVMFunctionType(v16, &v16, 1, 0);
    char vector_name[96];
    snprintf(vector_name, sizeof vector_name, "%s_v16", scalar_name);
    LLVMValueRef scalar = LLVMGetNamedFunction(mod, scalar_name);
    if (!scalar) {
        LLVMBuilderRef fb = LLVMCreateBuilderInContext(ctx);
        LLVMValueRef vector = add_pure_function(mod, vector_name, vty);
        vm v;
        init(&v, fb, mod, LLVMGetParam(vector, 0), false, true); /* AVX-512 has FMA */
        body->emit(&v, vector, body);
        /* The scalar function is the vector one on a splat, lane 0: the same value in the
         * loops left scalar (a row's edges, the fix-up's windows) as in the vector loops. Its
         * calls are what the loop vectorizer widens: the variant named below (LLVM's vector
         * function ABI, 16 lanes, one vector argument) is the function above. */
        scalar = add_pure_function(mod, scalar_name, sty);
        char variant[224];
        int len = snprintf(variant, sizeof variant, "_ZGV_LLVM_N16v_%s(%s)", scalar_name, vector_name);
        LLVMAddAttributeAtIndex(scalar, LLVMAttributeFunctionIndex,
                                LLVMCreateStringAttribute(ctx, "vector-function-abi-variant", 27, variant,
                                                          (unsigned)len));
        LLVMPositionBuilderAtEnd(fb, LLVMAppendBasicBlockInContext(ctx, scalar, "entry"));
        LLVMValueRef one = LLVMBuildInsertElement(fb, LLVMGetUndef(v16), LLVMGetParam(scalar, 0),
                                                  LLVMConstInt(LLVMInt32TypeInContext(ctx), 0, 0), "");
        LLVMValueRef lanes = LLVMBuildShuffleVector(fb, one, LLVMGetUndef(v16), LLVMConstNull(v.it), "");
        LLVMValueRef r = LLVMBuildCall2(fb, vty, vector, &lanes, 1, "");
        LLVMBuildRet(fb, LLVMBuildExtractElement(fb, r, LLVMConstInt(LLVMInt32TypeInContext(ctx), 0, 0), ""));
        LLVMDisposeBuilder(fb);
    }
    return LLVMBuildCall2(b, sty, scalar, &x, 1, "");
}

LLVMValueRef lc_vmath_pow_normal_avx512(LLVMBuilderRef b, LLVMModuleRef mod, LLVMValueRef x, double p,
                                        int log2_terms, int exp2_terms) {
    uint64_t pbits;
    memcpy(&pbits, &p, sizeof pbits);
    char scalar_name[64];
    snprintf(scalar_name, sizeof scalar_name, "lc_pow_normal_%016llx_%d%d", (unsigned long long)pbits, log2_terms,
             exp2_terms);
    v16_body body = {pow_normal_body, p, log2_terms, exp2_terms};
    return call_v16(b, mod, x, scalar_name, &body);
}

/* ---- A square root by AVX-512's estimate ------------------------------------------------ */

static const char *const g_rsqrt14 = "llvm.x86.avx512.rsqrt14.ps.512", *const g_max_ps = "llvm.x86.avx512.max.ps.512";

bool lc_vmath_sqrt_estimate_avx512_known(void) {
    return LLVMLookupIntrinsicID(g_rsqrt14, strlen(g_rsqrt14)) && LLVMLookupIntrinsicID(g_max_ps, strlen(g_max_ps));
}

/* The 16-lane body: x·vrsqrt14ps(max(2^-126, x)). vmaxps with the constant first returns x
 * where x is NaN, so NaN stays NaN; the floor keeps the estimate of a zero x finite (0·2^63 = 0
 * where 0·inf was NaN); an inf x gives inf·0 = NaN. */
static void sqrt_estimate_body(vm *v, LLVMValueRef fn, const v16_body *body) {
    (void)body;
    LLVMBuilderRef b = v->b;
    LLVMTypeRef i16 = LLVMInt16TypeInContext(v->ctx), i32 = LLVMInt32TypeInContext(v->ctx);
    LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(v->ctx, fn, "entry"));
    LLVMValueRef x = LLVMGetParam(fn, 0);
    LLVMValueRef mx[3] = {fc(v, FLT_MIN), x, LLVMConstInt(i32, 4, 0)}; /* 4: the current rounding */
    LLVMValueRef floored = lc_build_intrinsic(b, v->mod, g_max_ps, NULL, mx, 3);
    LLVMValueRef rs[3] = {floored, LLVMConstNull(v->ft), LLVMConstInt(i16, 0xffff, 0)};
    LLVMValueRef r = lc_build_intrinsic(b, v->mod, g_rsqrt14, NULL, rs, 3);
    LLVMBuildRet(b, LLVMBuildFMul(b, x, r, ""));
}

LLVMValueRef lc_vmath_sqrt_estimate_avx512(LLVMBuilderRef b, LLVMModuleRef mod, LLVMValueRef x) {
    v16_body body = {sqrt_estimate_body, 0, 0, 0};
    return call_v16(b, mod, x, "lc_sqrt_estimate", &body);
}

/* x·z^m, and x·z^(m-k) in *w: x multiplied by z (or by z² where m > 4) one factor at a time. */
static LLVMValueRef root_powers(vm *v, LLVMValueRef x, LLVMValueRef z, int m, int k, LLVMValueRef *w) {
    LLVMValueRef zz = m > 4 ? LLVMBuildFMul(v->b, z, z, "") : NULL;
    LLVMValueRef a = x;
    *w = x; /* x·z^0, where k = m */
    for (int j = 0; j < m;) {
        /* z² unless that steps over m - k */
        bool two = zz && j + 2 <= m && !(j < m - k && j + 2 > m - k);
        a = LLVMBuildFMul(v->b, a, two ? zz : z, "");
        j += two ? 2 : 1;
        if (j == m - k) *w = a;
    }
    return a;
}

/* base·(1 - d)^(-a) to second order in d: base·(1 + a·d + a(a+1)/2·d²). */
static LLVMValueRef series_step(vm *v, LLVMValueRef base, LLVMValueRef d, double a) {
    LLVMValueRef series = mul_add(v, d, fc(v, a * (a + 1) / 2), fc(v, a));
    return mul_add(v, LLVMBuildFMul(v->b, base, d, ""), series, base);
}

/* The first guess of z = x^(-1/m) and one Newton-type step on it (lc_vmath_root_steps). */
static lc_vmath_root_steps root_newton(vm *vp, LLVMValueRef x, int m, int k) {
    vm v = *vp;
    LLVMBuilderRef b = v.b;
    /* the guess's offset K ~ (1 + 1/m)·bits(1.0), fitted for the least worst error over m
     * binades (m = 3..8) */
    static const double guess_offset[9] = {0, 0, 0, 1419916032.0, 1331191936.0, 1277930624.0,
                                           1242442752.0, 1217082624.0, 1198071936.0};
    LLVMValueRef bits_f = LLVMBuildSIToFP(b, LLVMBuildBitCast(b, x, v.it, ""), v.ft, "");
    LLVMValueRef z = LLVMBuildBitCast(
        b, LLVMBuildFPToSI(b, mul_add(&v, bits_f, fc(&v, -1.0 / m), fc(&v, guess_offset[m])), v.it, ""), v.ft, "");
    LLVMValueRef w;
    LLVMValueRef z0 = z;
    LLVMValueRef d0 = LLVMBuildFSub(b, fc(&v, 1.0), root_powers(&v, x, z, m, k, &w), "");
    z = series_step(&v, z, d0, 1.0 / m);
    LLVMValueRef d = LLVMBuildFSub(b, fc(&v, 1.0), root_powers(&v, x, z, m, k, &w), "");
    return (lc_vmath_root_steps){x, z, d, w, z0, d0, m, k};
}

lc_vmath_root_steps lc_vmath_root_newton(LLVMBuilderRef b, LLVMModuleRef mod, LLVMValueRef x, int m, int k, bool fma) {
    vm v;
    init(&v, b, mod, x, false, fma);
    return root_newton(&v, x, m, k);
}

/* x^(k/m) for float32 x on the normal range only (k in {1, 2}, k < m <= 8): the root of a
 * flagged LP norm of p = m/k (lc_lp_pow_form LC_LP_POW_ROOT), where, as for the short power
 * above, every window whose sum is not a normal number is redone in the fix-up. With
 * z = x^(-1/m): a first guess from the bits (the exponent field divided by -m, as a float
 * multiply-add, 3.4 % off at worst), one step z·(1 + d/m + (m+1)d²/(2m²)) on d = 1 - x·z^m
 * (the series of (1 - d)^(-1/m) to d², so the error goes from e to about e³: 2e-4), then
 * x^(k/m) = x·z^(m-k) taken the same way, w·(1 + a·d + a(a+1)/2·d²) with w = x·z^(m-k) and
 * a = (m-k)/m. Within 3e-7 of the true root at every normal x (1.2e-7 for m = 3; the short
 * power: 1e-6 to 8e-6), in 17 operations for m = 3 and 21 for m = 5 where the short power
 * takes about 27, and with 7 constants where it has 20: the polynomial constants of the short
 * power did not fit the registers beside a window's loop, which then spent a third of its
 * instructions moving them. x·z^j is taken by multiplying x by z j times (z² twice for m = 5),
 * so every partial product lies between x and 1 and none leaves the normal range.
 * Elsewhere the result is some finite or NaN value: x = 0 gives 0, as the callers select. */
LLVMValueRef lc_vmath_root_normal(LLVMBuilderRef b, LLVMModuleRef mod, const lc_vmath_root_steps *r, bool fma) {
    vm v;
    init(&v, b, mod, r->x, false, fma);
    return series_step(&v, r->w, r->d, (double)(r->m - r->k) / r->m);
}

/* x^(-j/m) (j in {1, 2}) from the same steps as lc_vmath_root_normal: z^j·(1 - d)^(-j/m) to
 * second order in d, as the root takes w. Finishing the root's own steps, 1/y = x^(-k/m) of an
 * LP norm y = x^(k/m) costs three operations where a division took the slowest one of the
 * loop. Within about 2e-7 of the true value at every normal x (the root's error bound: the
 * same series on the same d); elsewhere some finite or NaN value, as the root. */
LLVMValueRef lc_vmath_root_normal_inverse(LLVMBuilderRef b, LLVMModuleRef mod, const lc_vmath_root_steps *r, int j,
                                          bool fma) {
    vm v;
    init(&v, b, mod, r->x, false, fma);
    LLVMValueRef zj = j == 2 ? LLVMBuildFMul(b, r->z, r->z, "") : r->z;
    return series_step(&v, zj, r->d, (double)j / r->m);
}

/* (1 - d)^(-a) to second order in d, as series_step's factor. */
static LLVMValueRef series_factor(vm *v, LLVMValueRef d, double a) {
    return mul_add(v, d, mul_add(v, d, fc(v, a * (a + 1) / 2), fc(v, a)), fc(v, 1.0));
}

/* From the root's own steps (lc_vmath_root_newton) on a normal x: z0, the first guess of
 * x^(-1/m) (3.4 % off at worst, three operations after x, so early in a window's chain), and
 * x^(-j/m) / z0^j for j = k (*ratio_k) and j = 1 (*ratio_1, if asked), each within 7 % of 1:
 * the factors by which the two steps moved z0, (z/z0)^j · (1 - d)^(-j/m), with no division. */
void lc_vmath_root_normal_scale(LLVMBuilderRef b, LLVMModuleRef mod, const lc_vmath_root_steps *r, bool fma,
                                LLVMValueRef *z0, LLVMValueRef *ratio_k, LLVMValueRef *ratio_1) {
    vm v;
    init(&v, b, mod, r->x, false, fma);
    int m = r->m, k = r->k;
    LLVMValueRef step = series_factor(&v, r->d0, 1.0 / m); /* z/z0 */
    *z0 = r->z0;
    LLVMValueRef step_k = k == 2 ? LLVMBuildFMul(b, step, step, "") : step;
    *ratio_k = LLVMBuildFMul(b, step_k, series_factor(&v, r->d, (double)k / m), "");
    if (ratio_1) *ratio_1 = LLVMBuildFMul(b, step, series_factor(&v, r->d, 1.0 / m), "");
}
