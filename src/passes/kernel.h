/* The fused stage: what the fuse pass produces and codegen consumes (docs/pipeline.md).
 *
 * A kernel is one loop nest that writes every element of one materialized node (its root):
 * the parallel outer range is the root's elements in row-major order, and each element is the
 * root's expression evaluated at that index, inlined through every node that is not
 * materialized. So elementwise work before a reduction is the prologue (run per window
 * element), a reduction is a counted inner loop, and what follows it is the epilogue.
 * `unfold` is index arithmetic (reads outside [0, L) give 0), `expand` drops an index, and
 * `fold` is a gather: for each output position the windows covering it are visited in order,
 * so no two threads write one element and the outer range splits freely (a row's last
 * vectorized run may write a few elements again, with the same bits: rerun_tail). A fold over
 * the last axis (the backward of a pool) runs window-major (lc_schedule), and when
 * its windows do not overlap, or overlap at most LC_CO_ROOT_COVER_MAX deep, it also writes
 * the pool's per-window result (co_root): a training step is then one kernel and one pass
 * over x.
 *
 * Fuse decides each kernel's schedule (lc_schedule: loop order, block form, where the outer
 * range may split, how each reduction runs, which LP norms are scaled) and codegen only reads
 * it, so the fuse dump shows every decision the emitted code follows.
 *
 * Every op has this generic inline evaluation, so nothing ever falls outside a kernel: the
 * fuse dump says instead what was materialized and why, and which loops stay scalar.
 *
 * Buffers are slots: [0, n_inputs) the graph inputs, [n_inputs, n_inputs + n_outputs) the
 * graph outputs, then scratch slots that the plan places in one per-run block. Codegen never
 * sees modules and passes never see LLVM: this header is the seam. */
#ifndef LUCID_PASSES_KERNEL_H
#define LUCID_PASSES_KERNEL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ir/window.h"
#include "lucid/ir.h"
#include "passes/lp_norm.h"
#include "support/int_math.h"

/* Reductions (and fold gathers) of at most this many terms are unrolled by codegen, so the
 * loop around them vectorizes; longer ones run as vector partial sums (emit_reduce.c). */
#define LC_UNROLL_MAX 16
/* A contraction's sum over channels (a sum of a product of two broadcasts, as a convolution's
 * input gradient sums dy times the weight over output channels) unrolls up to this many
 * terms: its terms lie a row or more apart in memory, so partial sums would build each vector
 * lane by lane, while unrolled the loop over elements around it vectorizes. */
#define LC_CONTRACTION_UNROLL_MAX 64
/* Rows of a channel contraction's kernel evaluated in one trip of its loop (lc_schedule
 * tile_rows): the largest of LC_TILE_ROWS_MAX, half that, ... that divides the extent of the
 * axis before the last, on rows of at least LC_TILE_ROW_MIN positions (shorter rows do not
 * fill the vector loop; the seed model's rows of 4 stay as they were). */
#define LC_TILE_ROWS_MAX 4
#define LC_TILE_ROW_MIN 64
/* The most positions of the last axis a kernel whose element loop holds vector partial sums
 * computes in one trip (lc_schedule.tile_cols): the whole row, where it is this short (a
 * convolution's weight gradient, whose last axis is the kernel's taps). */
#define LC_TILE_COLS_MAX 4
/* Vector partial sums whose term is itself a sum unrolled over at least LC_BLOCKED_SUM_MIN
 * terms (a convolution's weight gradient: at each position, the sum over the batch) take that
 * inner sum term by term over blocks of LC_BLOCKED_SUM_TRIPS trips of the outer loop, its
 * terms LC_BLOCKED_SUM_GROUP at a time (lc_reduction_schedule.blocked_sum). */
#define LC_BLOCKED_SUM_MIN 8
/* ... where at least this many of the N rows it reads in one buffer lie a multiple of 4 KiB
 * apart (the ways of the L1 and L2 on the bench's AMD EPYC, Zen 4) */
#define LC_BLOCKED_SUM_SET_ROWS 8
#define LC_BLOCKED_SUM_TRIPS 32
#define LC_BLOCKED_SUM_GROUP 4
/* A scratch buffer (Lucid's own layout; inputs and outputs keep the caller's dense one) whose
 * rows, the runs of its last axis, would lie a multiple of LC_ROW_SET_BYTES apart gets a row
 * pitch of one cache line (LC_ROW_PAD_BYTES) more (lc_fused.row_pitch): a kernel that reads
 * one line of each of many rows per trip (a convolution's input gradient reads the 32 output
 * channels' rows of dy, 16 KiB apart at L = 4096) would otherwise find all of them in one set
 * of the 8-way L1 and L2, where they evict one another; one line more per row puts
 * consecutive rows in consecutive sets. Only addresses change: every element keeps its value
 * and every sum its order. */
#define LC_ROW_SET_BYTES 4096
#define LC_ROW_PAD_BYTES 64
/* Lanes of a reduction's vector partial sums: one 64-byte line of the element type. Fixed by
 * the dtype, never by the target, so the order of the sums (and the bits) is the same on
 * every machine. */
#define LC_PARTIAL_LANES(dt) ((dt) == LC_F64 ? 8 : 16)

/* The most loads the code of one reduction may hold with its terms emitted one copy per term
 * (unrolled: terms x the loads in one term's code) or its partial sums' lanes one copy per
 * lane (lanes x that x the trips emitted apart). Past it, the same terms in the same order
 * are emitted as a loop (lc_reduction_schedule.rolled, .lanes_rolled), so nested reductions
 * add their code instead of multiplying it: MSELoss on f32[16,5,33,1,16] sums five axes in
 * one kernel, and unrolled into one another they gave LLVM 43,000 loads to optimize (15 s
 * and more). A convolution's unrolled input gradient (64 channels x 9 covering windows x 2
 * loads) stays well within it. */
#define LC_UNROLL_CODE_MAX 2048

/* A short reduction (a pool's row of window maxima or sums) read through overlapping windows
 * along an axis other than the last (a 2-D pool's rows) is recomputed inline where the two
 * windows together hold at most this many slots: the rows it reads again are the previous
 * output row's, still in cache, while materializing it costs a round trip through memory.
 * The kernel then walks the output row-major with both window axes unrolled, and the loop
 * over the last axis vectorizes (MaxPool2d(3, 2, 1): 3 x 3 slots, one kernel). */
#define LC_ROW_WINDOW_INLINE_MAX 64

/* A window-major fold (a pool's backward) whose windows overlap also writes the pool's
 * per-window result (co_root) where each position has at most this many covering windows:
 * each block then evaluates its covering windows inline, the one it writes among them, so x
 * is read once and the result is never read back (LPPool1d(2, 4, 2) forward+backward: one
 * kernel instead of two, twice as fast on one thread). The arithmetic recomputed grows
 * with the cover, the traffic saved does not. */
#define LC_CO_ROOT_COVER_MAX 2

/* A kernel of one element (a loss) runs on one thread: the largest sum nested in it of at
 * least this many elements is materialized so that its kernel splits (fuse.c,
 * split_serial_sums). */
#define LC_SERIAL_SPLIT_MIN 4096
/* An element-major kernel that reads an input through a window over the axis before the last
 * (a 2-D pool's rows) reads, per output row, `step` or more input rows side by side, a vector
 * of each in turn. Where those rows are short (under LC_ROW_PREFETCH_MAX_ROW_BYTES) several
 * of them share a 4 KiB page, and the hardware prefetchers, which follow one stream per page,
 * lose the pattern: measured on an AMD EPYC (Zen 4) at (16, 64, 256, 256), two 1 KiB rows read
 * this way ran at under half the bandwidth of one sequential stream, with or without software
 * prefetches beside the loads. So the kernel prefetches, at the start of each output row, the
 * input rows that the output row LC_ROW_PREFETCH_AHEAD_BYTES further on will read, in
 * ascending order (lc_row_prefetch). Into L1 (`prefetcht0`, LLVM's locality 3), 8 KiB ahead:
 * on an AMD EPYC (Zen 5), MaxPool2d(3, 2, 1)'s forward ran at 65-98 % of the floor so, against
 * 40-60 % with the lines fetched into L2 16 KiB ahead (bench/README.md); 8 KiB of rows is a
 * sixth of that L1. Only for a kernel that reads less than LC_ROW_PREFETCH_MAX_READ_BYTES:
 * from there on the stream prefetch (below) ran the 2-D forwards 3-24 points of the floor
 * faster on a Zen 3 host, and below it the row prefetch ran them up to twice as fast as none
 * (and no slower than the stream prefetch at (4, 64, 128, 128) on an Intel Sapphire Rapids
 * host). From there on, the 2-D forwards now read their rows one after another (row passes,
 * below), which leaves the pattern to the hardware's prefetchers. */
/* Row passes (lc_schedule.row_passes): an element-major kernel whose root is, through
 * elementwise steps, a window reduction of K unrolled terms over the axis before the last
 * (a 2-D pool's window rows) reads those rows one after another instead of side by side: for
 * each output row, one loop over the row per window row, each folding that row's term into a
 * row of partial results on the stack, and the last finishing the output. The loads are then
 * one stream in address order, which the hardware prefetchers follow: a C model of
 * AvgPool2d(2)'s forward at (16, 64, 256, 256) on an AMD EPYC (Zen 5) ran at 61-67 % of the
 * floor side by side with the stream prefetch, 92-100 % one row after another with no software
 * prefetch, and 50-52 % reading half-rows of the two in turn (bench/README.md, "The 2-D
 * forwards: window rows one after another"). Each term is folded in the order the unrolled
 * reduction folds it, so the bits are the same. Only where the kernel reads at least
 * LC_ROW_PREFETCH_MAX_READ_BYTES (where it was measured; below it the row prefetch stays) and
 * the input rows are at least LC_ROW_PASS_MIN_INPUT_ROW_BYTES and shorter than
 * LC_ROW_PASS_MAX_INPUT_ROW_BYTES (which bounds the rows of partial results on the stack too:
 * an output row is not much longer than an input row). Measured by lucid-bench on that host
 * (the same README section), AvgPool2d(2)'s and MaxPool2d(3, 2, 1)'s forwards on rows of 512 B
 * and 1 KiB gained 8-35 points of the floor; on rows of 256 B (a window's rows side by side
 * are nearly one stream already) AvgPool2d(2)'s lost up to 21; on rows of 2 KiB and 4 KiB
 * AvgPool2d(2)'s moved by -6 to +16 and MaxPool2d(3, 2, 1)'s lost 3-17 (gained 6 in one of
 * eight runs). */
#define LC_ROW_PASS_MIN_INPUT_ROW_BYTES 512
#define LC_ROW_PASS_MAX_INPUT_ROW_BYTES 2048
#define LC_ROW_PASS_MAX_TERMS 8
#define LC_ROW_PREFETCH_MAX_ROW_BYTES 16384
#define LC_ROW_PREFETCH_AHEAD_BYTES 8192
#define LC_ROW_PREFETCH_MAX_READ_BYTES ((int64_t)32 << 20)
#define LC_ROW_PREFETCH_LOCALITY 3 /* llvm.prefetch's locality: 3 is L1, 2 L2, 1 L3 */
/* A kernel that reads at least LC_STREAM_PREFETCH_MIN_BYTES (more than a core's own caches
 * hold: its inputs come from the shared last-level cache or from memory) and takes no row
 * prefetch prefetches each line of every buffer its vectorized loop reads a line or more of
 * per trip, LC_STREAM_PREFETCH_AHEAD_BYTES ahead (a window-major kernel
 * LC_STREAM_PREFETCH_WINDOWS_AHEAD_BYTES), into the cache level
 * LC_STREAM_PREFETCH_LOCALITY names (lc_schedule.stream_prefetch, codegen/stream_prefetch.h).
 * Measured on an AMD EPYC (Zen 3, AVX2) at (16, 64, 65536) and (16, 64, 256, 256), float32
 * (bench/README.md): 2048 and 4096 bytes ahead did alike, and so did L1 and past the caches;
 * LPPool1d(2, 4)'s forward on 1 thread went from 82-91 % of the floor to 102-106 %,
 * AvgPool2d(2)'s forward+backward on 1 thread from 48-51 % to 78-82 %. From 2 MiB on (it was
 * 32 MiB), on an Intel Sapphire Rapids host (2 MiB of L2 a core) with inputs from memory:
 * LPPool1d(2, 4)'s forward at (8, 64, 4096) and (16, 16, 4096) from 57-68 % of the floor to
 * 73-86 %, AvgPool1d(4)'s from 68-77 % to 79-87 %; with the inputs in the last-level cache,
 * alike within the noise; compiles 0.5-1.4 % longer (bench/README.md, "The stream prefetch
 * from 2 MiB"). */
#define LC_STREAM_PREFETCH_MIN_BYTES ((int64_t)2 << 20)
/* The same for a window-major kernel (a pool's backward, writing dx and often y beside it):
 * from 2 MiB the prefetch slowed LPPool1d(3, 4)'s forward+backward at (8, 64, 4096) and
 * (16, 16, 4096) from 55-60 % of the floor to 51-54 %, LPPool1d(2, 4)'s from 60-63 % to 56-59 %,
 * and MaxPool2d(3, 2, 1)'s dx at (4, 64, 128, 128) by 1-13 points, on the Sapphire Rapids host,
 * while AvgPool1d(3, 1, 1)'s dx gained 4 (bench/README.md, "The stream prefetch from 2 MiB");
 * so such a kernel takes it where its inputs cannot stay in the last-level cache, as measured
 * on the Zen 3 host above. */
#define LC_STREAM_PREFETCH_WINDOWS_MIN_BYTES ((int64_t)32 << 20)
/* How far ahead: 4096 bytes for an element-major kernel (a forward), where it was 2048. The
 * hardware's own prefetch brings a stream's lines to L2; this one has to bring them to L1
 * before the loads, and on the Sapphire Rapids host (AVX-512: a trip of an LPPool1d(p, 4)
 * forward reads 256 bytes) 2048 bytes were 8 trips ahead, too few for the forwards that
 * compute more per byte. With every kernel's distance switched per process, two alternated
 * rounds (% of the floor, 1 and 2 threads): at (16, 64, 65536) LPPool1d(3, 4)'s forward
 * 76-82 -> 82-95, LPPool1d(2.5, 4)'s 72-75 -> 79-84, LPPool1d(2.7, 4)'s 47-56 -> 56-59 (one
 * run 46); at (8, 64, 4096) the LP forwards 1-9 points; the 2-D forwards at (16, 64, 256, 256)
 * 0-12. 8192 did about as well for the forwards, 16384 no better. A window-major kernel (a
 * backward, writing dx) keeps 2048: at 4096 LPPool1d(2, 64)'s forward+backward went from
 * 57-63 % to 53-56 % and LPPool1d(2.5, 4)'s from 83-88 % to 69-84 %, at 8192 some lost up to
 * 11 points in a run (bench/README.md, "The stream prefetch 4096 bytes ahead"). */
#define LC_STREAM_PREFETCH_AHEAD_BYTES 4096
#define LC_STREAM_PREFETCH_WINDOWS_AHEAD_BYTES 2048
#define LC_STREAM_PREFETCH_LOCALITY 3
/* The longest row (positions, or blocks of a window-major kernel) whose left-over trips run as
 * one more vectorized run (lc_schedule.rerun_tail). Fewer than 64 trips are left over, so
 * past 512 they are under an eighth of the row, while the second run's loop costs compile
 * time whatever the row: LPPool1d(2, 4)'s forward at rows of 1024 outputs took 18% more
 * instructions to compile (37.5M to 44.1M, x86-64-v3) for a remainder of none. */
#define LC_RERUN_TAIL_MAX_ROW 512
/* The smallest output written with non-temporal stores (lc_schedule.nontemporal): one that
 * cannot stay in the last-level cache for the next kernel anyway (32 MiB on the bench's AMD
 * EPYC). Below it, the next kernel may still find the output in cache, which streaming
 * stores would take away: on an Intel Sapphire Rapids host, with AvgPool1d(4) at (8, 64, 4096)
 * writing its 2 MiB output with streaming stores, a second AvgPool1d(4) reading it at once took
 * 1.6-2.4x as long, and the pair was slower in 11 of 12 runs (bench/README.md, "The stream
 * prefetch from 2 MiB"). */
#define LC_NONTEMPORAL_MIN_BYTES ((int64_t)32 << 20)
/* A kernel that writes more than this many times the bytes it reads takes ordinary stores
 * (lc_schedule.nontemporal): on one core, streaming stores alone drain slower than ordinary
 * ones (bench/README.md, "Streaming stores in a write-heavy kernel"). */
#define LC_NT_MAX_WRITE_SHARE 2
/* An element-major kernel (a forward) whose target's per-core cache is known
 * (lc_fuse_target.core_cache_bytes) streams an output larger than that cache, however small
 * against the last-level one: its lines cannot be in the core's own cache when the kernel
 * writes them, so each ordinary store reads its line from farther away first, and that read
 * costs the writer more than the next kernel saves by finding the output in the last-level
 * cache. Measured on an AMD EPYC (Zen 5, 1 MiB of L2 a core) with AvgPool1d(4) at
 * (8, 64, 4096) writing 2 MiB and a second AvgPool1d(4) reading it at once: the pair 339-442 us
 * against 455-551 on 1 thread, though the reader took 1.4-1.8x as long; on 2 threads
 * 187-221 against 236-242 in one session and 292-314 against 278-284 in another, so within
 * the noise there; the forward alone gained 10-30 points of the floor (bench/README.md,
 * "Middle shapes on the Zen 5 host"). On the Sapphire Rapids host
 * (2 MiB of L2) the same 2 MiB output fit the core's own cache, and streaming it made the pair
 * slower, which this rule keeps (2 MiB is not more than 2 MiB). On the Zen 5 host an output
 * exactly its 1 MiB streams too (lc_fuse_target.streams_core_sized, for every AMD host): with
 * 4 MiB read beside it, its lines are gone from the core's cache by the time they are written
 * again, and AvgPool1d(4)'s forward at (16, 16, 4096) took 142-145 us instead of 234-241
 * (1 thread, a driver over 64 rotated buffers), where a producer-consumer pair of that size
 * was as fast or faster (bench/README.md,
 * "An output as large as the core's cache"). Both hosts had an output equal to the core's
 * cache and four times that read, so no rule of sizes alone tells them apart. A window-major
 * kernel (a backward) keeps LC_NONTEMPORAL_MIN_BYTES: not measured at these sizes. */

/* Trips of a vectorized loop are a multiple of LC_VECTOR_TRIP_MULTIPLE (of
 * LC_VECTOR_BLOCK_TRIP_MULTIPLE for window-major blocks of several steps), which LLVM's vector
 * width times its interleave count (at most 64 for every element type and target; 16 blocks
 * still cover the widest f32 vector) divides: LLVM then leaves out the scalar copy of the loop
 * it otherwise keeps for a remainder. The blocks of several steps left over go element by
 * element to the scalar loop, so at most 15 of them. */
#define LC_VECTOR_TRIP_MULTIPLE 64
#define LC_VECTOR_BLOCK_TRIP_MULTIPLE 16

/* The multiple for a loop over `span` trips a row, from `start`: halved down to 8 (one AVX2
 * vector of f32) while it would leave more than an eighth of the span over, or, with a rerun
 * tail (lc_schedule.rerun_tail: the remainder taken as one more run of `multiple` trips ending
 * at the span's end), while it exceeds the span or that run would compute more than an eighth
 * of the span a second time. MaxPool2d(3, 2, 1)'s rows of 128 outputs have an interior of 126:
 * two runs of 64 that share 2 positions. A multiple below LLVM's vector width times interleave
 * count brings back its remainder copy for that loop. */
static inline int64_t lc_vector_trip_multiple(int64_t span, int64_t start, bool rerun_tail) {
    int64_t m = start;
    if (rerun_tail)
        while (m > 8 && (m > span || (span % m != 0 && m - span % m > span / 8))) m /= 2;
    else
        while (m > 8 && span % m > span / 8) m /= 2;
    return m;
}

/* The deepest chain of nodes a kernel evaluates inline (its root counts 1). Codegen evaluates
 * a node by recursing into its inline inputs, so this bounds its stack by construction: fuse
 * materializes a node whose inline expression would be deeper ("inline depth limit"), and
 * codegen asserts the bound. */
#define LC_INLINE_DEPTH_MAX 200

/* The most nodes an inline expression read more than once may hold (each counted once per
 * use inside it). Codegen emits an inline node once per use, so fuse materializes a shared
 * node past this ("shared inline limit"): the code emitted for a kernel then grows with its
 * nodes, not with the paths through them. */
#define LC_INLINE_SHARED_MAX 64

/* The most code a kernel's root may be emitted as, in the units of lc_fuse's estimate (a load
 * or an operation is 1, a pow by a general exponent LC_EMIT_POW_WEIGHT; an LP norm's sum or a
 * rescued window sum of t terms emits its body once per term, or per lane of its vector
 * partial sums, and again in the fix-up's forms; other reductions, whose unrolled code
 * LC_UNROLL_CODE_MAX bounds, count their body once). Past it, fuse materializes the nearest
 * reductions inside ("emitted-code limit"):
 * chained pools whose windows do not overlap would otherwise inline each other, and the fix-up
 * forms multiply per stage (three chained LP norms of general p emitted 27 MB of LLVM IR and
 * compiled for 8 s; two took 1-1.5 s, one 0.16 s). Every kernel the bench times stays under
 * it; see docs/pipeline.md. */
#define LC_EMIT_BUDGET 4096
#define LC_EMIT_POW_WEIGHT 16

typedef enum lc_loop_order {
    LC_LOOP_ELEMENTS, /* one trip per element of the root, the last axis innermost */
    /* The root is a fold over the last axis: a loop over blocks q of `step` positions
     * (q·step - pad_lo + ph), each position summing the ceil(size/step) windows o = q - m
     * that cover it, so every index is affine in q. */
    LC_LOOP_WINDOWS,
} lc_loop_order;

typedef enum lc_block_form {
    /* step and ceil(size/step) at most LC_UNROLL_MAX: the block's positions and their
     * covering windows are unrolled, and the loop over blocks vectorizes */
    LC_BLOCK_UNROLLED,
    /* windows that do not overlap, step > LC_UNROLL_MAX: a loop over the window's slots
     * (contiguous loads and stores), then +0 over the gap up to step */
    LC_BLOCK_SLOT_LOOPS,
} lc_block_form;

/* Which of a reduction's terms run (window_span.h): all of them, or, where more than
 * LC_UNROLL_MAX terms hold fewer that can be nonzero, only those, one by one in index order
 * (a window of 2^40 slots over 12 elements then costs 12 trips instead of a hang). */
typedef enum lc_span {
    LC_SPAN_ALL,
    /* a sum over an unfold's window axis whose terms are ±0 wherever the unfold reads
     * padding, over windows longer than its input: the slots that read [0, L) */
    LC_SPAN_DATA,
    /* a fold's gather over more covering windows than there are: the windows that exist */
    LC_SPAN_WINDOWS,
} lc_span;

/* A counted reduction evaluated inline: a sum or mean over `terms` elements of its axis, or a
 * fold's gather over the `terms` = ceil(size/step) windows covering a position. */
typedef struct lc_reduction_schedule {
    int node;
    int64_t terms;
    bool unrolled; /* terms <= LC_UNROLL_MAX (a channel contraction's: <= LC_CONTRACTION_UNROLL_MAX):
                      unrolled; else vector partial sums */
    /* unrolled only: the terms, folded in the same order from the identity, are emitted as a
     * counted loop, one copy of a term's code, where unrolled they would pass
     * LC_UNROLL_CODE_MAX (the loop around is then not vectorized). The same bits. */
    bool rolled;
    /* vector partial sums only: a trip's lanes are packed by a loop over the lanes (one copy
     * of a term's code, not one per lane), every trip in one loop, the last partial one too
     * (never peeled), where lanes x a term's loads x the trips emitted apart would pass
     * LC_UNROLL_CODE_MAX. The same terms go into the same lanes in the same order. */
    bool lanes_rolled;
    lc_span span;
    int span_unfold; /* LC_SPAN_DATA: the unfold whose data slots are walked; else -1 */
    /* A sum or mean over an unfold's windows (AvgPool's), not an LP norm's: the vectorized
     * pass takes the plain sum and a window whose sum is not finite (inf or NaN: some term
     * is, or the finite terms overflowed) raises the kernel's flag; the scalar fix-up redoes
     * that window as a compensated sum of its terms scaled by 2^-c (2^c >= terms), which
     * cannot overflow where the mean fits and gives IEEE inf/NaN where an element is one. */
    bool rescue_nonfinite;
    /* A rescued sum whose every use in the kernel is an unfold that only rescued window sums
     * read (AvgPool2d's row means, summed again over the rows): where it is not finite, so is
     * every sum it enters (inf or NaN among the terms), and that sum raises the flag, so the
     * vectorized pass checks only the outer one; the fix-up redoes the whole element, this
     * sum included. */
    bool flag_in_outer;
    /* Vector partial sums whose terms read an unfold's padding near the ends of the range
     * (a convolution's weight gradient: x[l + j - pad] over every l): the first and the last
     * trip of LC_PARTIAL_LANES terms are emitted apart, with every check, and the trips
     * between them, which cannot reach the padding, without checks. The lanes fold the same
     * terms in the same order either way. */
    bool peeled;
    /* The kernel's column tile (lc_schedule.tile_cols > 1): the axis of this reduction's
     * result that the root's last axis reaches unchanged (so column t of the tile reads the
     * result at that axis's index + t); -1 for every other reduction. Codegen runs the sums
     * of every column of the tile in one loop, one accumulator each. */
    int col_axis;
    /* Vector partial sums whose terms are emitted as vectors (a trip's lanes at once): the
     * terms are made only of loads, scalar constants, add, mul, unrolled sums and means, unfold
     * and expand, so codegen evaluates them at a vector of consecutive positions, each leaf a
     * contiguous vector load where its lanes read consecutive elements (a gather lane by
     * lane elsewhere, and where a bounds check cannot be elided); otherwise every lane's term
     * is emitted on its own and the SLP vectorizer packs what it can. The same operations per
     * lane in the same order either way: the same bits. */
    bool vector_terms;
    /* Vector partial sums with vector_terms whose term is an inline sum unrolled over its N
     * terms (>= LC_BLOCKED_SUM_MIN; a convolution's weight gradient sums, at each position l,
     * x[n, l + j - pad] · dy[n, l] over the batch n): the node of that inner sum, else -1.
     * Unblocked, each trip reads the N rows of the inner axis side by side, one line of each;
     * where they lie a multiple of 4 KiB apart (a batch stride of 256 KiB at L = 4096) those
     * N lines, and the lines the prefetchers fetch ahead of each, all fall in one set of the
     * 8-way L1 and L2 and evict one another (dW ran 2-3x slower at L = 4096 than at 4100).
     * So the trips between the peeled ends run in blocks of LC_BLOCKED_SUM_TRIPS: per block,
     * each trip's inner sums (one per accumulator) start from +0 in a stack buffer; the inner
     * terms are added in their order, n = 0, 1, ..., walking the block's trips for each
     * (LC_BLOCKED_SUM_GROUP of them per pass), so the loads walk one row (of x, of dy) at a
     * time; then the block's trips are folded into the accumulators in trip order. Every
     * inner sum and every lane adds the same terms in the same order as unblocked: the same
     * bits. */
    int blocked_sum;
    /* A sum over a max_mask's axis of max_mask(W) · V (a max pool's chosen slot, the chosen
     * coordinate of return_indices), its terms straight-line, V finite everywhere
     * (lc_magnitude_facts): the max_mask node, else -1 (choice_values is then V). Every term
     * but the chosen one is ±0, so the sum is V at the first maximum's slot, plus +0 (which
     * only turns a -0 into +0). Codegen carries that V with the running maximum, one pass over
     * W: per term one take-over test (the max's own: larger, or the first NaN), and a select
     * of W and one of V, where the mask form searched W once per slot and compared against the
     * maximum found (MaxPool2d(3, 2, 1)'s slots: ~110 instructions per vector trip of 16
     * outputs against ~60 for y alone). The same choice, so the same bits. */
    int choice_mask;
    int choice_values;
} lc_reduction_schedule;

/* How an LP norm evaluated inline (lp_norm.h) runs. The scaled form m·(Σ(|e|/m)^p)^(1/p),
 * m = max |e|, needs A = abs(e) and the sum inline (it reads |e| directly, bypassing the sum);
 * without them the norm stays plain. */
typedef enum lc_lp_mode {
    LC_LP_PLAIN,   /* pow(sum, 1/p), nothing more */
    /* The vectorized pass takes the plain pow(sum, 1/p) and flags a window whose sum left the
     * range the root is accurate on (0 with a nonzero element, too small, inf or NaN: some
     * |e|^p over- or underflowed); after the pass, only when something was flagged, a scalar
     * fix-up pass over the same elements redoes each flagged window scaled (codegen: the
     * kernel's flag accumulator and fix-up loops). The plain window pays a few compares. */
    LC_LP_FLAGGED,
    LC_LP_SCALED,  /* always scaled: p outside [1/8, 8] (lc_lp_norm_scaled) */
} lc_lp_mode;

/* How the plain form of a flagged norm takes its powers. The window the vectorized pass keeps
 * has a finite sum of at least k·2^(lo+guard) (or is all zeros); every other window is redone
 * in the fix-up. So where the powers are not already multiplies and sqrt, a float32 norm with
 * p >= 1 takes them by vmath's short normal-range power (lc_vmath_pow_normal: no subnormal,
 * inf or NaN handling, polynomials only as accurate as the tolerance needs), which gives inf
 * (in its AVX-512 form inf or NaN) for an inf or NaN element and 0 below 2^-125, so such a
 * window is still flagged. */
typedef enum lc_lp_pow_form {
    LC_LP_POW_GENERAL, /* lc_emit_pow: multiplies and sqrt where p allows, else exp2(p·log2 x) */
    LC_LP_POW_NORMAL,  /* lc_vmath_pow_normal, on the normal range only */
    /* the root S^(k/m) of lc_lp_root_parts by two Newton-type steps on S^(-1/m)
     * (lc_vmath_root_normal), on the normal range only: a third of the normal power's
     * arithmetic and 7 constants instead of 20 (p = 3, 2.5, 4, ...) */
    LC_LP_POW_ROOT,
} lc_lp_pow_form;

/* Whether the root exponent e of a norm is k/m with k in {1, 2}, k < m <= 8 (p = 3: 1/3;
 * p = 2.5: 2/5; p = 4, 1.5, 3.5, ...): the powers of S^(-1/m) that its Newton steps take are
 * then a few multiplies. */
static inline bool lc_lp_root_parts(double e, int *m, int *k) {
    for (int kk = 1; kk <= 2; kk++) {
        double mm = kk / e;
        if (!(mm > kk && mm < 8.5)) continue;
        int mi = (int)(mm + 0.5);
        double diff = mi * e - kk;
        if (diff < 1e-12 && diff > -1e-12) {
            *m = mi;
            *k = kk;
            return true;
        }
    }
    return false;
}

/* The polynomials of a short normal-range power (LC_LP_POW_NORMAL, lc_vmath_pow_normal): how
 * many coefficients its log2 and its exp2 take, which is how accurate it is. The AVX-512 form
 * (lc_vmath_pow_normal_avx512) takes log2 from a table and a shorter polynomial at least as
 * accurate as the one named here: 2 coefficients for 5, 3 for 6 and 7 (vmath.c). */
typedef struct lc_short_pow_poly {
    int log2_terms; /* 5, 6 or 7 */
    int exp2_terms; /* 5 or 6 */
} lc_short_pow_poly;

typedef struct lc_lp_schedule {
    lc_lp_norm norm;
    lc_lp_mode mode;
    /* LC_LP_FLAGGED only (else LC_LP_POW_GENERAL): the plain form's terms |e|^p and root
     * S^(1/p), in every loop that evaluates the plain form (vectorized pass, edges and
     * fix-up alike, so a window's result never depends on which loop took it) */
    lc_lp_pow_form terms_form, root_form;
    /* The short power's polynomials for the terms and the root (where their form is
     * LC_LP_POW_NORMAL). 7 and 6 coefficients for both where some node of the graph reads y:
     * an LP gradient's (|x|/y)^(p-1), summed over overlapping windows, magnifies y's error (a
     * norm 3e-6 off put a gradient 8e-4 off). Where nothing reads y (a graph output only, a
     * forward), 5 and 5 for the terms and 6 and 6 for the root: y within 2.5e-5 of the true
     * norm at every magnitude (1.6e-5 measured, p = 1.0000001; 4.9e-6 with the longer ones),
     * against the tolerance's 1e-4, in 10 and 12 multiply-pipe operations instead of 13 each
     * (vmath.c; tests/test_jit_numerics.c; bench/README.md, 2026-12-04 and 2026-12-06). */
    lc_short_pow_poly terms_poly, root_poly;
    /* A half-integer p (1.5, 2.5, ... 7.5: terms |e|^k·sqrt|e|, by multiplies and a square root)
     * where nothing reads y: the square root may be AVX-512's 14-bit estimate, x·rsqrt14(x),
     * where the target has it (lc_emit_options.sqrt_estimate; vmath.c). A term 2^-14 off puts
     * y at most 2^-14/p off (2.4e-5 at p = 2.5), within the tolerance's 1e-4, and the loop no
     * longer waits on the divider (vsqrtps zmm issues every ~12 cycles on Intel's AVX-512
     * cores, against two multiply-adds a cycle). Where y is read, the exact root. */
    bool terms_sqrt_estimate;
    /* LC_LP_FLAGGED with A = |e|, in a kernel that takes no LP gradient: the flag's "some
     * element is nonzero" ORs the bits of e and masks their sign once per window, instead of
     * taking |e| a second time beside the terms (the de-interleaved window slots' |x| is what
     * the back end is slowest to select). A kernel with an LP gradient needs each |e| anyway:
     * there the mask only added 1.4% to LPPool1d(2, 4) fwd+bwd's compile. */
    bool flag_masks_sign;
    /* LC_LP_FLAGGED whose A is |u| (or u, simplify having dropped the abs), u an unfold (zero
     * padding, not along the last axis) of the root y_in of another flagged norm of this
     * kernel with the same p, evaluated inline: the
     * norm of norms LPPool2d builds (its rows' norms, then theirs over the columns). Every loop
     * that takes the plain form takes this norm's terms |y_in|^p as y_in's sums S_in, the same
     * value in exact arithmetic (y_in = S_in^(1/p) >= 0), so the inner root and this power,
     * which cancel, are not evaluated: a vector square root and a multiply per inner window
     * for p = 2, two short powers for a general p. The flag's "some element is nonzero" ORs
     * the inner windows' elements' bits (a window of tiny elements whose S_in underflowed to 0
     * is still flagged), and a window the plain form cannot keep is redone as before, scaled,
     * from the inner norms themselves. The node y_in, or -1. */
    int terms_from_sums;
} lc_lp_schedule;

/* The LP backward's factor (A / y)^e, for y the LP norm of the same A: `node` is pow(ratio, e),
 * or the ratio itself (e = 1, as p = 2 leaves it), with ratio = div_safe(A, expand(y)).
 * Where y is a flagged norm of this kernel (norm_inline) and its window is redone in the
 * fix-up, codegen evaluates the factor from the window's scaled parts, (A/m)^e ·
 * (Σ(|e|/m)^p)^(-e/p), so a y that rounded to a subnormal costs no precision. Either way
 * (y inline or read from a buffer), a quotient A/y that underflowed while its power does not
 * (0 < e < 1: p = 1.0000001 gives (1e-49)^(1e-7) = 0.99999) is flagged and redone in
 * logarithms in the fix-up.
 * Where y is a scaled norm of this kernel and e is large enough that y's own rounding, raised
 * to e, would cost precision (lc_lp_ratio_scaled), the factor is always taken from the
 * window's scaled parts, in double (norm_inline; no fix-up). */
typedef struct lc_lp_ratio_schedule {
    int node;
    int ratio;
    int norm;         /* y: the root of its lp norm */
    bool norm_inline; /* y is a flagged norm evaluated in this kernel (lc_kernel_lp_norm) */
    double e;
    /* y a flagged norm of this kernel with p >= 2: the quotient is taken as A · (1/y) in every
     * loop, one division per window instead of one per element (a vector division is the
     * slowest instruction of the backward; y's 1/y is the same value for the window's
     * elements). A window the plain form keeps has y between 2^(-56) and 2^64 (its sum is
     * normal and finite, p >= 2), so 1/y is a normal number and the quotient within 1.5 ulp of
     * A/y; a window of zeros, inf or NaN gives what A/y gives (0/0 is still 0: where y = 0,
     * which only a window of zeros has, its 1/y is taken as 0, one select per window instead
     * of div_safe's two compares per element). */
    bool reciprocal;
    /* reciprocal, with e = j + 1/2 (1 <= e < 8: p = 2.5, 3.5, ...): q^e taken as
     * q^j · (sqrt(A) · sqrt(1/y)) for q = A · (1/y), where lc_emit_pow takes q^j · sqrt(q).
     * sqrt(A) is the one the norm's own terms A^p = A^(j+1) · sqrt(A) take (the same value,
     * merged by LLVM), sqrt(1/y) is one per window: the backward's per-element square root
     * goes (a vector sqrt is the slowest instruction of such a loop: LPPool1d(2.5, 4)
     * forward+backward took two per element). sqrt(A) · sqrt(1/y) lies within 1.5 ulp of
     * sqrt(q) and never leaves the normal range where q is in it; sqrt(1/y) is taken as 0
     * where 1/y is inf (a window of zeros, whose A are all 0), so such a window still gives
     * 0, and inf or NaN windows give what the other form gives (NaN, or 0 beside an inf). */
    bool split_sqrt;
    /* reciprocal, with y's root by Newton steps (LC_LP_POW_ROOT, y = S^(k/m)): in the vectorized
     * pass, 1/y = S^(-k/m) and sqrt(1/y) = S^(-1/m) are taken from the root's own steps
     * (lc_vmath_root_normal_inverse), with no division or square root per window; and the
     * signed product below, if any, as copysign((|u|·s)^e, u) · (g·c^e) with s = z0^k from the
     * root's first guess z0 of S^(-1/m), known three operations after S, and c = (1/y)/s within
     * 7 % of 1 (emit_expr.c, emit_scaled_signed_ratio): per element only the last multiply
     * waits for 1/y, and neither factor leaves the normal range further than the quotient
     * form's. The fix-up keeps the division and the quotient form. */
    bool newton_reciprocal;
    /* reciprocal, float32, e > 1 and neither 2, 3, 4 nor a half-integer (general p: 2.7's 1.7,
     * and 6's 5): q^e by vmath's short normal-range power (lc_vmath_pow_normal, the longer
     * polynomials, 7 and 6 coefficients) in every loop, where lc_emit_pow takes the full
     * exp2(e·log2 q) with its special cases, about three times the arithmetic, per element.
     * q = A·(1/y) lies in [0, 1] up to rounding (|x| <= y for p >= 1), so the power never
     * overflows; an element with 0 < q < 2^(-124/e) (whose power the short form flushes to
     * 0 or would be subnormal) or q not below 2 (NaN, inf) is flagged, and careful loops (the
     * fix-up, the edges) take lc_emit_pow in double there, rounded once. A = 0 gives 0. */
    bool short_pow;
    /* The node mul(mul(G, ratio), sign(U)) (either order at each level) with A = |U| (or A = U,
     * never negative), the LP gradient's sign(x) · g · (|x|/y)^e, or -1: codegen takes it as
     * G · copysign(ratio, U). The same bits: the ratio is never negative, 0 where U is ±0 (e > 0)
     * and NaN where U is, so copysign(r, u) = r · sign(u) exactly, and a product with ±1 is exact
     * (round(g·r)·s = round(g·(r·s))). One sign-bit operation per element where sign and its
     * multiply took two compares, two selects and a multiply. */
    int signed_product;
    /* LPPool2d's gradient, a norm of norms: this ratio R = (|x|/y_row)^e multiplies a gather
     * G of the outer norm's signed ratio (y_row/y)^e (the same e, its ratio node chain_outer),
     * whose windows tile the rows (step = size, no padding, every row in one window: the
     * gather at a row is that window's term, chain_fold its fold node). G·R is then
     * g·(y_row/y)^e·(|x|/y_row)^e, and the rows' norms cancel: g·(|x|/y)^e with y the row's
     * window's. Wherever that window's plain form is kept (every window of the vectorized
     * pass; in the fix-up, where plain_lp_ok holds), codegen takes R as (|x|·(1/y))^e and the
     * outer signed product as g alone (chain_one on the outer ratio's schedule), so neither
     * the rows' roots nor their reciprocals are evaluated: LPPool2d(2, 2)'s forward+backward
     * took three square roots and three divisions per 8 windows on AVX2 where one of each
     * now does. A window the plain form keeps has every row's sum normal or 0 and y normal,
     * so the two forms agree up to rounding (one rounding fewer); a window redone scaled
     * takes the literal product, as before. -1 (chain_fold too) where nothing cancels. */
    int chain_outer;
    int chain_fold;
    bool chain_one;
} lc_lp_ratio_schedule;

/* (A/y)^e with y rounded to dtype `dt` is off by up to e·eps relative; from 2^-20 (e > 16 in
 * float32, e > 2^33 in float64) the LP backward takes the scaled form instead. */
static inline bool lc_lp_ratio_scaled(double e, lc_dtype dt) {
    return e * (dt == LC_F32 ? 0x1p-24 : 0x1p-53) > 0x1p-20;
}

/* The rows an element-major kernel prefetches per output row (LC_ROW_PREFETCH_MAX_ROW_BYTES):
 * output row r of a plane (the axis before the last, root extent `out_rows`) reads rows from
 * r·step - pad_lo of the slot's plane of `rows` rows of `row_len` elements; the kernel
 * prefetches `step` such rows, `ahead` elements further on in the slot (a whole number of
 * output rows' input), line by line. A prefetch changes no value; past the slot's end it is
 * a hint the processor drops. */
typedef struct lc_row_prefetch {
    int slot; /* -1: none */
    int64_t out_rows, rows, row_len, step, pad_lo, ahead;
    int64_t elt_bytes; /* the slot's element size */
} lc_row_prefetch;

/* Non-temporal stores (lc_schedule.nontemporal), for a kernel whose root takes at least
 * lc_schedule.nontemporal_min_bytes and whose loop over positions (element-major, writing only its
 * root) or over unrolled blocks (window-major; a co-root keeps ordinary stores) LLVM
 * vectorizes. An ordinary store first reads the line it writes (read-for-ownership): for an
 * output that does not fit the cache, a fifth more traffic in a pool's forward, where the
 * input is four times the output, and half as much again in its backward. A non-temporal
 * store writes a whole line without reading it, but only aligned: x86 splits an unaligned
 * vector one into narrow parts, several times slower. So codegen addresses the vectorized
 * loop's stores from a 64-byte line (llvm.ptrmask), LLVM proves them aligned, and jit.c tags
 * those it proved (nontemporal.h). */
typedef enum lc_nontemporal {
    LC_NT_NONE,
    /* rows without whole trips and no rerun tail (rows over LC_RERUN_TAIL_MAX_ROW): each row's
     * vectorized loop starts at the first trip whose first element starts a line of the written
     * buffer, computed from its address at run time (so any buffer will do); the trips before
     * it go to the scalar loop, so such a kernel has no whole_trips */
    LC_NT_LINE_START,
    /* whole trips (lc_schedule.whole_trips) whose rows and runs start on lines when the buffer
     * does (the row pitch and a run are whole lines, the first block at position 0; an
     * element-major row with edges starts its run at its first line past them): short
     * rows (a 2-D pool's 128), which a per-row start would cut into. The runtime writes such
     * a kernel's output aside where the caller's buffer is not 64-byte aligned, and copies it
     * over after the run (lc_program_run_into). */
    LC_NT_ALIGNED_ROWS,
} lc_nontemporal;

typedef struct lc_schedule {
    lc_loop_order order;
    lc_block_form block;     /* LC_LOOP_WINDOWS only */
    /* LC_LOOP_WINDOWS only: blocks tile every row exactly (they start at position 0: pad_lo =
     * block_shift, step divides the length, and with a co-root every block is a window or, the
     * windows overlapping, the blocks past the last window write none), and the outer range
     * splits only at multiples of step (align): codegen needs no element-by-element edges for
     * blocks cut by a split (a block whose checks can fail, as a shifted row's last, still
     * goes element by element). */
    bool whole_blocks;
    /* LC_LOOP_WINDOWS, LC_BLOCK_UNROLLED only (else 0): block q starts this many positions
     * later, at q·B - pad_lo + block_shift. Fuse sets it to pad_lo where 0 < pad_lo < step (a
     * block of one step, no co-root, which is written per window), so that blocks start at
     * multiples of B: MaxPool2d(3, 2, 1)'s dx had blocks (2q - 1, 2q), every vectorized trip 4
     * bytes past a line, whose stores could never be aligned non-temporal ones; shifted, a
     * block is (2q, 2q + 1) (windows q and q + 1) and trips of 16 blocks are two whole lines.
     * Block q's position q·B + ph is then covered by windows o = q + floor((ph + pad_lo) / step)
     * - m, still summed from the lowest window up from +0: the same bits. With blocks from
     * position 0 and the row a multiple of step, whole_blocks holds; the last block, whose last
     * position's second window is past the last, is an edge, unless that window is read
     * through a guard (guard_windows). */
    int64_t block_shift;
    /* Shifted blocks (block_shift > 0) whose rows hold whole runs of the vectorized loop
     * (whole_trips): a window past the row's first or last (o < 0 or o >= windows) is read
     * through a guard instead of making its block an edge: the loads of its term sit in a
     * branch on 0 <= o < windows, which LLVM's loop vectorizer makes masked loads (a lane
     * that is off reads nothing, so no load leaves its buffer; a target without masked loads
     * reads o clamped into the row instead, lc_emit_options.masked_loads), and the term is +0
     * there, as the check's select gave. Every block of a row then runs in the vectorized loop: whole
     * runs from position 0 to the row's end, no rerun tail and no scalar loop, and where the
     * output is large, every line streamed (MaxPool2d(3, 2, 1)'s dx, whose rows of 128 blocks
     * had their last block as an edge and 15 blocks rerun). The same terms in the same order:
     * the same bits. Not on a target whose masks are vector compares (lc_fuse_target.
     * masks_by_compare): there the guard costs every trip more than the edge block costs a row. */
    bool guard_windows;
    /* LC_LOOP_WINDOWS, LC_BLOCK_UNROLLED only (else 1): each block holds this many steps,
     * positions q·B - pad_lo .. + B - 1 for B = step·block_steps, the windows covering each
     * unrolled, so the block's windows are o = q·block_steps + s - m (affine in q with
     * coefficient block_steps). Fuse sets it above 1 where an inline fold of step > 1 inside
     * the kernel reads its position through those windows (the demo's AvgPool1d(3, 1, 1)
     * backward gathering the gradient of LPPool1d(2, 4) at each average's position):
     * one step per block gives that inner fold the window index (q + c) / 4, a quotient the
     * loop vectorizer takes lane by lane (a gather of 8 scalar loads per operand); with
     * block_steps a multiple of its step it is q + c', a contiguous load. Every position
     * still sums its windows in the same order from +0: the same bits. */
    int block_steps;
    int n_reductions;
    lc_reduction_schedule *reductions; /* in node order */
    int n_lp_norms;
    lc_lp_schedule *lp_norms;          /* in node order */
    int n_lp_ratios;
    lc_lp_ratio_schedule *lp_ratios;   /* in node order */
    /* Some LP norm is flagged, an LP ratio may underflow, or a window sum is rescued when
     * not finite (rescue_nonfinite): codegen gives each vectorized
     * loop a flag accumulator and a scalar fix-up loop behind it (lc_lp_mode), and evaluates
     * the scalar loops (edges) in the fix-up's form directly. */
    bool fixup;
    /* The interleave count codegen asks of LLVM for the kernel's vectorized loop (over whole
     * blocks, or over elements in an element-major kernel; 0:
     * LLVM's own choice). 2 for a window-major kernel whose flagged LP norm takes a power by
     * vmath's short form (the backward of p = 3, 2.5, 2.7): LLVM leaves that loop at 1, and
     * one block's chain (loads, the window's sum, the root's two polynomials, the gradient)
     * is long while its arithmetic is small, so the trips' chains need to run side by side.
     * 1 for the element loop of an element-major kernel with a fix-up flag (fuse.c,
     * schedule_interleave: LLVM interleaved it only for the flag's OR), but 4 where its
     * flagged norm takes a power by the short normal-range power (general p, 2.7: five powers
     * a window, a chain the out-of-order window cannot overlap one trip at a time).
     * Only the code changes: each position is computed as before. */
    int interleave;
    /* The deepest chain of nodes evaluated inline from the root or the co-root, each counted
     * once (at most LC_INLINE_DEPTH_MAX each, so at most twice that in all): codegen's
     * recursion never goes deeper. */
    int inline_depth;
    /* Rows computed together (>= 1): a trip of the element (or block) loop evaluates its
     * position in `tile_rows` consecutive rows, consecutive indices of the axis before the
     * last, each as on its own. Fuse tiles a kernel with an unrolled channel contraction (a
     * convolution's forward, over output channels, and its input gradient, over input
     * channels), whose other operand (the input, the output gradient) does not depend on
     * that axis: LLVM then loads it once for the tile instead of once per row, and the rows'
     * sums run as independent chains. That axis's extent is a multiple of tile_rows, and
     * the outer range is split only at whole tiles (lc_kernel.align). */
    int tile_rows;
    /* Positions of the last axis computed together (>= 1): the whole row, at most
     * LC_TILE_COLS_MAX long, in a kernel whose element loop is not vectorized because it holds
     * one reduction summed as vector partial sums (a convolution's weight gradient, over its
     * output positions, for each of the 3 taps). The row's positions then run that sum in one
     * loop with one accumulator each (lc_reduction_schedule.col_axis), so the terms they read
     * alike (dy, and x up to a shift) are loaded once per trip for the row, and the sums are
     * independent chains; each accumulator adds its terms in the order it did alone (the same
     * bits). The outer range is split at whole rows (lc_kernel.align). */
    int tile_cols;
    lc_row_prefetch prefetch;
    /* 0, or how many bytes ahead the vectorized loop prefetches each line it reads of each
     * buffer (LC_STREAM_PREFETCH_MIN_BYTES): a kernel whose inputs do not fit a core's own
     * caches and that takes no row prefetch. Only when lines arrive changes. */
    int64_t stream_prefetch;
    /* 0, or the K window rows the vectorized loop reads one after another (LC_ROW_PASS_MIN_INPUT_ROW_BYTES
     * says why): the reduction row_pass_node, reached from the root through elementwise steps at
     * the root's index, folds its term k in loop k of the output row, into a row of partial
     * results. Such a kernel takes no row or stream prefetch. A co-root beside the root (a max
     * pool's chosen slots) whose search runs over the same window rows is folded likewise
     * (row_pass_co_node, else -1), in a kernel with no fix-up. */
    int row_passes;
    int row_pass_node;
    int row_pass_co_node;
    /* The root is a maximum over the very terms whose first maximum the co-root beside it
     * carries (lc_reduction_schedule.choice_mask; a max pool's y beside its chosen slots):
     * codegen takes the root's value from the co-root's search, its running maximum, instead
     * of searching the same terms a second time. The two took each term on the same compare
     * (emit_expr.c, takes_over), so the value has the same bits; in row passes only the
     * co-root's partial results are kept. LLVM merged the two searches along a row but not
     * across window rows, whose partial results it read from two buffers. */
    bool root_from_co_search;
    /* An element-major kernel whose windows over the last axis overlap with a step of 2 or
     * more, where slot j + step/dilation of position i is slot j of position i + 1 (MaxPool2d(3,
     * 2, 1): x[2i + 1] is the next position's x[2(i + 1) - 1]). The vectorized loop keeps such a
     * load from its previous trip (a recurrence, carried in registers) instead of loading it
     * again: LLVM gathers a strided load that its interleaved groups do not cover lane by lane,
     * and shifts the carried vector by a lane instead. The same addresses, so the same values. */
    bool carry_loads;
    /* A carry_loads kernel whose rows' only edges are carried slots: every unfold padding the
     * last axis it reads from a buffer, where the slots j that fall in the padding at a row's
     * first positions are carried ones (j < step/dilation, j + step/dilation < size) and the
     * slots each trip loads stay inside the row at its first position and its last (MaxPool2d(3,
     * 2, 1) along rows of 256: slot 0 of position 0 is x[-1], slot 2 of position 127 is x[255]).
     * Codegen then keeps the carried slots' checks out of the vectorized loop: a run's first
     * values are loaded before it with the check (the padding's value where it fails), and
     * every later trip takes the previous trip's load, inside the row. The row is then one
     * interior, without a scalar edge, and can be written in whole lines. The same values: the
     * same element, or the padding, as the checked form reads. */
    bool carry_edge;
    /* A window-major kernel whose overlapping windows a block evaluates inline, an LP norm among
     * them (LPPool1d(2, 4, 2)'s forward+backward: block b is covered by windows b - 1 and b,
     * and window b - 1's sum, root and reciprocal are what block b - 1 computed as window b's).
     * Codegen takes such a value in the vectorized loop from its previous trip (a recurrence,
     * which LLVM vectorizes as a shift of lanes) instead of evaluating the window again, where
     * that saves a division, a root or a power (codegen/carry_values.c finds which values
     * repeat, on the loop as emitted); a run's first block gets its earlier window's values
     * computed before the run, and a flag the fix-up reads is raised for that window there.
     * The same operations on the same inputs, so the same bits. */
    bool carry_windows;
    /* A kernel whose vectorized loop gathers along an axis before the last, each term chosen by
     * a test of its element (MaxPool2d(3, 2, 1)'s dx: an even input row lies in one window row,
     * an odd one in two, and each covering window's chosen slot is compared). The row's checks
     * of its covering windows hold for the whole row, but vectorized each is a select on one
     * scalar condition, which x86 has no vector instruction for: the back end made each a
     * branch inside the loop, and the loop kept loading and comparing the terms of windows that
     * do not exist. Codegen asks LLVM for the loop once per outcome of those conditions
     * (non-trivial loop unswitching), each version without them and without what they
     * exclude; a row enters the one its checks choose. */
    bool row_versions;
    /* A kernel whose loop over positions (element-major, reading through a window) or over
     * blocks (window-major, unrolled blocks of one step) LLVM vectorizes, every reduction
     * unrolled over all its terms: the trips its vectorized loop leaves over in a row run as
     * one more vectorized run ending at the row's end, which computes a few positions (or
     * blocks) a second time, the same bits from the same inputs (codegen, emit_vector_runs,
     * which emits that run only where the row's interior, which it discovers, leaves trips
     * over). Such a kernel must not write over what it reads: an output updated in place is
     * written aside (the runtime's in-place test). Kernels without a window (elementwise, an
     * optimizer's update) and rows longer than LC_RERUN_TAIL_MAX_ROW keep their few left-over
     * trips one by one. */
    bool rerun_tail;
    /* 0, or the multiple of trips (positions of an element-major kernel, blocks of a
     * window-major one) every row of the kernel holds whole, its vectorized loop's multiple
     * (lc_vector_trip_multiple of the row): the outer range is split only at multiples of it
     * (lc_kernel.align), so in a row whose every check holds (no edges) the vectorized loop
     * runs to the row's end, and codegen emits no loop for trips left over, neither its own
     * scalar one nor, the trip count being a multiple of LLVM's vector width times its
     * interleave count, LLVM's remainder copy. A row with edges keeps its scalar loop for them. */
    int64_t whole_trips;
    /* Whether (and how) the vectorized loop writes the root with non-temporal stores
     * (lc_nontemporal). Only where the values land changes: every position is computed as
     * before. */
    lc_nontemporal nontemporal;
    /* The least output written with non-temporal stores: LC_NONTEMPORAL_MIN_BYTES, or for an
     * element-major kernel one byte more than the target's per-core cache where fuse knows it
     * (lc_fuse_target); the dump says which. */
    int64_t nontemporal_min_bytes;
    /* A kernel that would stream by its size but writes more than LC_NT_MAX_WRITE_SHARE times
     * the bytes it reads takes ordinary stores (nontemporal LC_NT_NONE): the bytes written
     * over those read, which the dump prints as the reason; else 0. */
    double nontemporal_write_share;
    /* LC_NT_ALIGNED_ROWS with a co-root over rows (lc_kernel.co_rows) as large as the root's
     * threshold (nontemporal_min_bytes): the co-root is written from lines too, one element
     * per block, so a run of whole trips fills whole lines of its rows (the co-root's row pitch
     * and a run's elements are whole lines); the runtime writes it aside where the caller's
     * buffer is not line-aligned. */
    bool co_nontemporal;
} lc_schedule;

typedef struct lc_kernel {
    int root;          /* node whose values the kernel computes */
    int dst_slot;      /* slot it writes */
    int64_t outer;     /* elements of root: the parallel outer range */
    int64_t cost;      /* estimated loads per outer element (how heavy one element is) */
    /* estimated loads in the code of one element's evaluation (each copy counted once, so
     * what the unrolling and the loops above make LLVM compile, not what runs) */
    int64_t code;
    int n_nodes;       /* nodes evaluated inline, in graph order (root included) */
    int *nodes;
    int n_args;        /* slots read, each once, in first-use order */
    int *args;
    /* A second result computed in the same loop nest, or -1: a per-window node (a pool's
     * forward output) that a window-major fold (its backward) also evaluates inline. The
     * kernel writes co_root[..., o] into co_slot once per window, at the window's first
     * position max(0, o·step - pad_lo), so a training step is one pass over x. Where the
     * windows overlap (at most LC_CO_ROOT_COVER_MAX cover a position), a block evaluates
     * every covering window's result inline and writes the one that starts in it. */
    int co_root;
    int co_slot;
    /* 0, or the rows of the root each row of the co-root gathers (a 2-D pool's window rows,
     * kh): the co-root's windows tile the axis before the last too (stride = kernel, no
     * padding, H = rows·OH), so the kernel computes its rows as a row tile of that many
     * (lc_schedule.tile_rows = co_rows, whole tiles) and writes co-root row r / co_rows once per
     * tile and window, from the values the tile's rows read: x is read once and y written once
     * (LPPool2d(2, 2) forward+backward: one kernel instead of two). */
    int co_rows;
    /* The co-root is instead a node of the root's shape written beside it at every element
     * of an element-major loop (a max pool's chosen slots, in the forward's kernel: they
     * read what y reads). */
    bool co_beside;
    /* The outer range may only be split at multiples of this (1: anywhere). A window-major
     * fold whose windows tile its rows exactly sets it to the step, so codegen needs no
     * element-by-element code for windows cut by a split; a kernel with tiled rows to
     * tile_rows whole rows; a kernel with whole_trips to a multiple of that many trips too. */
    int64_t align;
    lc_schedule sched;
} lc_kernel;

/* The kernel's schedule entry for node `node`, or NULL when it has none. */
const lc_reduction_schedule *lc_kernel_reduction(const lc_kernel *k, int node);

/* A reduction whose terms are all emitted straight-line: unrolled, not rolled into a counted
 * loop, over every slot (no span walked one by one). */
static inline bool lc_reduction_straight(const lc_reduction_schedule *rs) {
    return rs->unrolled && !rs->rolled && rs->span == LC_SPAN_ALL;
}

/* Every reduction of k straight-line: no loop sits inside its loop over positions (or
 * blocks), which is then the one LLVM vectorizes. */
static inline bool lc_kernel_reductions_straight(const lc_kernel *k) {
    for (int r = 0; r < k->sched.n_reductions; r++)
        if (!lc_reduction_straight(&k->sched.reductions[r])) return false;
    return true;
}
const lc_lp_schedule *lc_kernel_lp_norm(const lc_kernel *k, int node);
const lc_lp_ratio_schedule *lc_kernel_lp_ratio(const lc_kernel *k, int node);
/* The ratio schedule whose signed_product is `node`, or NULL. */
const lc_lp_ratio_schedule *lc_kernel_lp_signed_product(const lc_kernel *k, int node);

/* Bytes a byte slot's buffer (lc_fused.byte_slot) has beside it on either side, inside its
 * scratch block: a window past a row's ends read through a guard (lc_schedule.guard_windows)
 * on a target without masked byte loads reads its byte unmasked (its term is +0 whatever it
 * holds), at most a window or two before the first row or after the last. */
#define LC_BYTE_SLOT_MARGIN 64

typedef struct lc_scratch {
    int slot;          /* scratch slot */
    int node;          /* node it holds */
    int64_t offset;    /* byte offset in the per-run scratch block (64-byte aligned) */
    int64_t bytes;     /* from there, the margins (LC_BYTE_SLOT_MARGIN) included */
    int64_t start;     /* bytes from offset to the buffer's first element (its margin) */
    int first, last;   /* kernel that writes it, last kernel that reads it */
} lc_scratch;

/* What fuse knows of the machine the code will run on (lc_fuse_for). */
typedef struct lc_fuse_target {
    /* Bytes of cache a core has to itself (its L2 on x86), 0 where unknown. */
    int64_t core_cache_bytes;
    /* Whether an element-major kernel also streams an output exactly that large
     * (lc_schedule.nontemporal_min_bytes): on an AMD host, yes; elsewhere, an output must be
     * larger (LC_NONTEMPORAL_MIN_BYTES's comment says what each host measured). */
    bool streams_core_sized;
    /* Whether the target's masked loads take their mask from a vector compare, having no mask
     * registers (x86 with AVX but not AVX-512: vmaskmovps). A window read through a guard
     * (lc_schedule.guard_windows) then builds each trip's mask from the lanes' 64-bit window
     * indices, some 30 instructions of the 100 of a trip of MaxPool2d(3, 2, 1)'s dx, which
     * cost more than the edge block and rerun tail the guard saves a row (bench/README.md,
     * "MaxPool2d's dx on AVX2: no guard"); with mask registers the compare is one instruction. */
    bool masks_by_compare;
    /* Whether a 2-D forward's row passes (lc_schedule.row_passes) take the stream prefetch too
     * (lc_schedule.stream_prefetch). On the Zen 3 host (AVX2) the three 2-D forwards ran faster
     * with it (LPPool2d(2, 2)'s at (16, 64, 256, 256) from 76-79 % of the floor to 95-107 % on
     * one thread); on the Zen 5 host (AVX-512), where row passes were chosen, a C model of them
     * lost a fifth with it (bench/README.md, "The 2-D forwards: window rows one after another"
     * and "Row passes with the stream prefetch on Zen 3"). Set where the host has AVX but not
     * AVX-512: the vector width stands in for the core's generation, the two hosts measured
     * being AMD's. */
    bool prefetch_row_passes;
} lc_fuse_target;

typedef struct lc_fused {
    lc_graph *graph;          /* owned copy of the fused graph */
    int n_inputs, n_outputs;
    int n_slots;
    int *node_slot;           /* per node: slot holding it, or -1 when evaluated inline */
    char **why;               /* per node: why it is materialized (NULL when inlined) */
    bool *nonneg;             /* per node, while lc_fuse runs: never negative (lc_nonneg_facts) */
    bool *searched;           /* per node, while lc_fuse runs: a window search kept for a gather */
    double *magnitude;        /* per node, while lc_fuse runs: a bound, +inf unknown (lc_magnitude_facts) */
    int n_kernels;
    lc_kernel *kernels;       /* in execution order */
    /* Per slot: elements from the start of one row (a run of the last axis) of its buffer to
     * the next where fuse padded it (a scratch buffer, LC_ROW_SET_BYTES), else 0: dense, the
     * last axis's extent (lc_fused_row_pitch). Element (r_0, ..., r_{n-2}, i) of slot s lies at
     * flat_row · row_pitch[s] + i, flat_row the row-major index of (r_0, ..., r_{n-2}). */
    int64_t *row_pitch;
    /* Per slot: a scratch buffer stored one byte an element (an unsigned integer) instead of
     * the dtype's, its values all integers 0 .. 255 (lc_byte_integer_facts): a max pool's
     * window slot numbers, which its backward reads again, a quarter of the traffic in float32.
     * Codegen converts on every load and store of it, so values and their bits are the same
     * (lc_fused_elem_bytes). */
    bool *byte_slot;
    /* Filled by lc_plan. */
    int n_scratch;
    lc_scratch *scratch;
    int64_t scratch_bytes;    /* size of the per-run scratch block */
    lc_fuse_target target;    /* what lc_fuse_for was told of the target */
} lc_fused;

/* Group the nodes of `g` into kernels. Never fails on a valid graph: every op has a generic
 * inline evaluation, so there is no unsupported node. Free with lc_fused_free. lc_fuse knows
 * nothing of the target (the same schedule on every host); lc_fuse_for (target NULL: the
 * same as lc_fuse) takes what the compile driver knows of it. */
lc_status lc_fuse(const lc_graph *g, lc_fused **out);
lc_status lc_fuse_for(const lc_graph *g, const lc_fuse_target *target, lc_fused **out);
/* Give every scratch slot an offset in one block so buffers whose lifetimes do not overlap
 * share memory (peak = what the live tensors need). Idempotent. */
lc_status lc_plan(lc_fused *f);
void lc_fused_free(lc_fused *f);

/* Text dumps of the two stages (`fuse`, `plan`): each kernel with its ops and their
 * provenance (node names), and why each intermediate is materialized. */
lc_status lc_fused_print(const lc_fused *f, FILE *out);
lc_status lc_plan_print(const lc_fused *f, FILE *out);
/* "%7 (1.LPPool1d.pow)" or "%7 pow" into buf. */
const char *lc_fused_node_label(const lc_fused *f, int node, char *buf, size_t size);

/* Whether `slot`'s buffer holds one byte an element (lc_fused.byte_slot; slot -1, a constant,
 * and a fused program before its byte slots are chosen: no). */
static inline bool lc_fused_is_byte_slot(const lc_fused *f, int slot) {
    return slot >= 0 && f->byte_slot && f->byte_slot[slot];
}
/* Bytes one element of `slot`'s buffer takes, holding values of dtype dt (slot -1, a constant:
 * the dtype's). */
static inline int64_t lc_fused_elem_bytes(const lc_fused *f, int slot, lc_dtype dt) {
    return lc_fused_is_byte_slot(f, slot) ? 1 : (int64_t)lc_dtype_size(dt);
}
/* The margin on either side of slot's buffer (LC_BYTE_SLOT_MARGIN for a byte slot, else 0). */
static inline int64_t lc_fused_slot_margin(const lc_fused *f, int slot) {
    return lc_fused_is_byte_slot(f, slot) ? LC_BYTE_SLOT_MARGIN : 0;
}
/* The row pitch of `slot` holding a value of shape `s` (slot -1, a constant: dense). */
static inline int64_t lc_fused_row_pitch(const lc_fused *f, int slot, const lc_shape *s) {
    int64_t last = s->rank > 0 ? s->dim[s->rank - 1] : 1;
    return slot >= 0 && f->row_pitch && f->row_pitch[slot] > 0 ? f->row_pitch[slot] : last;
}
/* Elements between consecutive indices of `axis` in the buffer of `slot` (shape `s`): row-major
 * with rows at the row pitch. Saturates (lc_sat_mul) where a shape's product would overflow;
 * fuse and codegen both index buffers by it. */
static inline int64_t lc_fused_axis_stride(const lc_fused *f, int slot, const lc_shape *s, int axis) {
    int64_t stride = 1;
    for (int d = axis + 1; d < s->rank; d++)
        stride = lc_sat_mul(stride, d == s->rank - 1 ? lc_fused_row_pitch(f, slot, s) : s->dim[d]);
    return stride;
}
/* Elements the buffer of `slot` (shape `s`) spans: its rows times the row pitch. */
static inline int64_t lc_fused_slot_span(const lc_fused *f, int slot, const lc_shape *s) {
    int64_t last = s->rank > 0 ? s->dim[s->rank - 1] : 1, numel = lc_shape_numel(s);
    return last == 0 ? 0 : numel / last * lc_fused_row_pitch(f, slot, s);
}

/* The slot of graph input i, output i. */
static inline int lc_slot_input(const lc_fused *f, int i) { (void)f; return i; }
static inline int lc_slot_output(const lc_fused *f, int i) { return f->n_inputs + i; }

#endif
