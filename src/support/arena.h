/* A bump allocator: many small allocations, one free. A graph owns one arena for its nodes,
 * names and constant data, so dropping a graph is a single lc_arena_free. */
#ifndef LUCID_SUPPORT_ARENA_H
#define LUCID_SUPPORT_ARENA_H

#include <stddef.h>

typedef struct lc_arena_block lc_arena_block;
typedef struct lc_arena {
    lc_arena_block *head;
} lc_arena;

/* Zeroed memory aligned to 16 bytes, valid until lc_arena_free; NULL when out of memory. */
void *lc_arena_alloc(lc_arena *a, size_t size);
char *lc_arena_strdup(lc_arena *a, const char *s);
void lc_arena_free(lc_arena *a);

#endif
