/* The node fields that define what a node computes (node_key.h). */
#include <string.h>

#include "ir/node_key.h"
#include "support/hash.h"

static size_t data_bytes(const lc_node *n) {
    return n->op == LC_OP_CONSTANT && n->data ? sizeof(double) * (size_t)lc_shape_numel(&n->shape) : 0;
}

void lc_node_put_fields(const lc_node *n, void (*put)(void *ctx, const void *bytes, size_t len), void *ctx) {
    int head[3] = {(int)n->op, (int)n->dtype, n->shape.rank};
    put(ctx, head, sizeof head);
    put(ctx, n->shape.dim, sizeof(int64_t) * (size_t)n->shape.rank);
    put(ctx, n->attr, sizeof n->attr);
    put(ctx, &n->real_attr, sizeof n->real_attr);
    size_t data = data_bytes(n);
    if (data) put(ctx, n->data, data);
}

bool lc_node_same_fields(const lc_node *a, const lc_node *b) {
    if (a->op != b->op || a->dtype != b->dtype || !lc_shape_equal(&a->shape, &b->shape) ||
        memcmp(a->attr, b->attr, sizeof a->attr) != 0 ||
        memcmp(&a->real_attr, &b->real_attr, sizeof a->real_attr) != 0)
        return false;
    size_t data = data_bytes(a);
    return data == data_bytes(b) && (data == 0 || memcmp(a->data, b->data, data) == 0);
}

static void hash_into(void *ctx, const void *bytes, size_t len) {
    uint64_t *h = ctx;
    *h = lc_hash_bytes(*h, bytes, len);
}

uint64_t lc_node_hash_fields(const lc_node *n, uint64_t h) {
    lc_node_put_fields(n, hash_into, &h);
    return h;
}
