/* Which terms of a window reduction can hold data. An unfold reads 0 outside [0, L), so a
 * window far longer than its input (a kernel of 2^40 over 12 elements) is nearly all
 * padding; a sum over it whose every term is exactly 0 at a padding slot needs only the slots
 * that read [0, L), and a fold's gather needs only the windows that exist. Fuse records the
 * verdict in the reduction's schedule (kernel.h, lc_span); codegen walks only that range. */
#ifndef LUCID_PASSES_WINDOW_SPAN_H
#define LUCID_PASSES_WINDOW_SPAN_H

#include "lucid/ir.h"

/* For node `sum`, a sum or mean over its input's last axis: the unfold u along that axis such
 * that every term is ±0 wherever u reads padding (so skipping those slots changes no bit of
 * the sum, which starts at +0), or -1 when there is none or the terms' expression is too deep
 * to look through. The terms must reach u through abs, sign, pow, add, mul and div only,
 * with u's shape all the way (so u's index is the term's index).
 * For a max or max_mask over its input's last axis: that input itself when it is an unfold
 * padded with -inf (a max pool's windows), whose padding slots never change the maximum
 * (max_mask's choice among a window of -inf alone, its first slot, is codegen's to keep). */
int lc_window_span_unfold(const lc_graph *g, int sum);

#endif
