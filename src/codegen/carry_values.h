/* Values a loop's trip computes that the trip before it computed already, carried from there
 * (lc_schedule.carry_windows): a window-major gather whose blocks are covered by overlapping
 * windows evaluates each window in two blocks, its sum, root and reciprocal twice. Here the
 * second evaluation becomes a recurrence, which LLVM's loop vectorizer turns into a shift of
 * lanes (carry_values.c says how a value is recognised as the previous trip's). */
#ifndef LUCID_CODEGEN_CARRY_VALUES_H
#define LUCID_CODEGEN_CARRY_VALUES_H

#include <llvm-c/Core.h>

/* The loop: `head` holds the index phi `i` (from `start` on entry from `pre`, then +1 from the
 * latch) and branches into `body`, a single block that is also the latch. `pre` is entered
 * only when the loop runs at least one trip (the first values are computed there, from the
 * previous position's loads). Rewrites the body in place and returns how many values it
 * carries (0: the body is left as it was). */
int lc_carry_values(LLVMBuilderRef b, LLVMBasicBlockRef pre, LLVMBasicBlockRef head, LLVMBasicBlockRef body,
                    LLVMValueRef i, LLVMValueRef start);

#endif
