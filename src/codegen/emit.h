/* IR emission for a fused program: one function per kernel (see codegen.h); jit.c optimizes
 * and links what it builds.
 *
 * A kernel's body walks its root's elements row by row; the innermost loop runs over the last
 * axis, which is the axis LLVM vectorizes (emit_kernel.c). An element's value is emitted by
 * evaluating the root's expression at an index, recursively through inline nodes
 * (emit_expr.c). What to emit is decided by fuse and read from the kernel's schedule
 * (lc_schedule in passes/kernel.h): the loop order, the window block form, whether blocks tile
 * the rows, each reduction's form and each LP norm's scaling; codegen re-derives none of it.
 *   - elementwise ops map the index to their operands (numpy broadcasting); pow is
 *     specialised by its exponent (emit_pow.c);
 *   - sum/mean become reductions over the reduced axis (emit_reduce.c): short ones unrolled
 *     in index order, so the loop around them vectorizes across elements; long ones in fixed
 *     vector partial sums. Either way an element's sum is computed by one thread in an order
 *     fixed at compile time, so results never depend on the target or the thread count;
 *   - unfold is index arithmetic; a read outside [0, L) is evaluated at a clamped position
 *     and replaced by 0 with a select, so there is no branch and no out-of-bounds load;
 *   - fold is a gather over the ceil(size/step) windows that can cover a position;
 *   - expand drops the index it inserted.
 * Bounds checks whose position is affine in the last-axis index i are elided on an interior
 * range of i computed at compile time (emit_index.c): the row loop runs a checked loop on the
 * edges and an unchecked, vectorizable loop in between. The range is discovered once per
 * kernel (emit_kernel.c, discover_interiors), and every check the unchecked loop elides
 * asserts that it holds on that whole range. Every loop is built by emit_loop.c, which also
 * gives its latch the hints LLVM reads (vectorize or not, unroll, interleave). */
#ifndef LUCID_CODEGEN_EMIT_H
#define LUCID_CODEGEN_EMIT_H

#include <llvm-c/Core.h>

#include "passes/kernel.h"

/* How a module's kernels are emitted, besides what fuse decided. */
typedef struct lc_emit_options {
    bool fma;   /* the target has fused multiply-add */
    /* The quick first tier (codegen.h): every vectorized loop asks LLVM for one trip at a
     * time, whatever lc_schedule.interleave says. Interleaved trips only overlap chains
     * (each position is computed as before), and the back end's work grows with each trip:
     * LPPool1d(2.7, 4)'s forward compiled in 2.4x the instructions with its 4. The window
     * tests take the forms its code generator selects faster (emit_expr.c: nonzero_bits,
     * is_finite). */
    bool quick;
    /* The width of the target's vector registers in bits, or 0 where codegen does not know
     * it. Every kernel function prefers it ("prefer-vector-width": LLVM's tuning for Intel's
     * AVX-512 CPUs would take 256), and the quick tier names each vectorized loop's width
     * (these bits over the kernel's element size) instead of leaving the loop vectorizer to
     * weigh every width, which was 4-12 % of a quick compile. */
    int vector_bits;
    /* The target has AVX-512 F and DQ and FMA, and this LLVM names the instructions: the
     * short normal-range power takes its 16-lane form by the exponent instructions (vmath.c,
     * lc_vmath_pow_normal_avx512). */
    bool avx512_exponents;
    /* The target has AVX-512 F and this LLVM names vrsqrt14ps and vmaxps: a flagged LP norm's
     * terms whose square roots fuse let go to the estimate (lc_lp_schedule.terms_sqrt_estimate)
     * take it (vmath.c, lc_vmath_sqrt_estimate_avx512); elsewhere they keep the exact root. */
    bool sqrt_estimate;
    /* The target has masked vector loads (x86 from AVX on: its feature string names avx). A
     * window past a row's ends (lc_schedule.guard_windows) is then read by a load in a
     * branch, which LLVM's loop vectorizer makes a masked load; without them it would leave
     * the loop scalar, so the window is read at its index clamped into the row, as a checked
     * window elsewhere (its loads lane by lane, the loop still vectorized), and the term is +0
     * there either way. */
    bool masked_loads;
    /* ... and masked loads of bytes too (x86 from AVX-512BW on), which a byte slot read
     * through such a guard needs (lc_fused.byte_slot). */
    bool masked_byte_loads;
} lc_emit_options;

/* Add `lc_kernel_<k>` (and its inlined body) for kernels [first, last) of `f` to `mod`: jit.c
 * compiles each kernel as a module of its own, in a context of its own, so that kernels can be
 * compiled on several threads at once. */
lc_status lc_emit_kernels(const lc_fused *f, int first, int last, LLVMContextRef ctx,
                          LLVMModuleRef mod, const lc_emit_options *o);
/* Kernel k's fix-up form `lc_kernel_<k>_fixup` (a kernel whose schedule has a fix-up,
 * lc_schedule.fixup; codegen.h says when it runs) into `mod`. */
lc_status lc_emit_fixup_kernel(const lc_fused *f, int k, LLVMContextRef ctx, LLVMModuleRef mod,
                               const lc_emit_options *o);

#endif
