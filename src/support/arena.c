#include "support/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct lc_arena_block {
    lc_arena_block *next;
    size_t used, capacity;
    _Alignas(16) unsigned char bytes[];
};

enum { BLOCK_MIN = 16 * 1024 };

void *lc_arena_alloc(lc_arena *a, size_t size) {
    size = (size + 15) & ~(size_t)15;
    if (size == 0) size = 16;
    lc_arena_block *b = a->head;
    if (!b || b->capacity - b->used < size) {
        size_t cap = size > BLOCK_MIN ? size : BLOCK_MIN;
        if (cap > SIZE_MAX - sizeof *b) return NULL;
        b = malloc(sizeof *b + cap);
        if (!b) return NULL;
        b->used = 0;
        b->capacity = cap;
        b->next = a->head;
        a->head = b;
    }
    void *p = b->bytes + b->used;
    b->used += size;
    memset(p, 0, size);
    return p;
}

char *lc_arena_strdup(lc_arena *a, const char *s) {
    size_t n = strlen(s) + 1;
    char *p = lc_arena_alloc(a, n);
    if (p) memcpy(p, s, n);
    return p;
}

void lc_arena_free(lc_arena *a) {
    lc_arena_block *b = a->head;
    while (b) {
        lc_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
}
