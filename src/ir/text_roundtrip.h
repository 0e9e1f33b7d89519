/* Checks that the text IR keeps a graph intact, for tests and debug tools: any graph a stage
 * produces should survive print -> parse -> print unchanged (docs/text-ir.md). Tests write
 * assert_ok(lc_graph_check_text_round_trip(g)). */
#ifndef LUCID_IR_TEXT_ROUNDTRIP_H
#define LUCID_IR_TEXT_ROUNDTRIP_H

#include <stdbool.h>
#include <stddef.h>

#include "lucid/ir.h"

/* True when `a` and `b` hold the same nodes (op, dtype, shape, inputs, attributes, bit-equal
 * real attribute and constant data, names) and outputs. NaNs compare equal to any NaN: the
 * text form does not keep NaN sign or payload. Otherwise false, and the first difference is
 * written to `why` (e.g. "node %3: attribute 'dim' is 2 vs 3"). */
bool lc_graph_same(const lc_graph *a, const lc_graph *b, char *why, size_t why_size);

/* Print g, parse the text, require the parsed graph to be lc_graph_same as g, print it again
 * and require the same bytes. LC_OK, or LC_ERR_INTERNAL with a message saying which step
 * failed and where the texts or graphs first differ. */
lc_status lc_graph_check_text_round_trip(const lc_graph *g);

#endif
