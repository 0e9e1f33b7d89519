/* What a node computes apart from its inputs, defined once: op, dtype, shape, integer
 * attributes, the double attribute and a constant's data. cse (merging), rebuild (graph
 * identity), simplify (lc_simp_same) and the compile-cache key all read these fields through
 * the functions below, so a field added to lc_node is added to all four here. Each caller
 * adds the inputs its own way (cse lets add and mul commute; simplify compares them
 * recursively). The double and the data compare bit for bit: 0 and -0 are different values. */
#ifndef LUCID_IR_NODE_KEY_H
#define LUCID_IR_NODE_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lucid/ir.h"
#include "support/hash.h"

/* a and b agree in every field above. */
bool lc_node_same_fields(const lc_node *a, const lc_node *b);
/* Each field as bytes, in a fixed order, to `put` (a key or a hash reads the same bytes). */
void lc_node_put_fields(const lc_node *n, void (*put)(void *ctx, const void *bytes, size_t len), void *ctx);
/* A 64-bit hash of the fields (lc_hash_bytes over lc_node_put_fields' bytes), continuing
 * from `h` (start from LC_HASH_SEED). */
uint64_t lc_node_hash_fields(const lc_node *n, uint64_t h);

#endif
