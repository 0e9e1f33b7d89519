/* A small table of values under byte-string keys, the least recently used evicted first, for
 * the runtime's two memos: compiled code by graph structure (cache.c) and the default passes'
 * result by built graph (pass_memo.c). A key is compared byte for byte behind a 64-bit hash.
 * The table owns its values but never frees one itself: what an insert replaces or evicts, and
 * what a clear drops, goes back to the caller, to be released outside the lock (freeing a JIT
 * may take a while). */
#ifndef LUCID_RUNTIME_KEYED_TABLE_H
#define LUCID_RUNTIME_KEYED_TABLE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define LC_KEYED_SLOTS 64

typedef struct lc_keyed_entry {
    uint64_t hash;
    unsigned char *key;
    size_t len;
    void *value; /* NULL: an empty slot */
    uint64_t used; /* the table's clock at the last insert or hit; the smallest is evicted */
} lc_keyed_entry;

typedef struct lc_keyed_table {
    pthread_mutex_t lock;
    lc_keyed_entry entries[LC_KEYED_SLOTS];
    uint64_t clock; /* counts inserts and hits; 64 bits never wrap */
} lc_keyed_table;

#define LC_KEYED_TABLE_INIT {.lock = PTHREAD_MUTEX_INITIALIZER}

/* take(value) for the value under `key`, called under the table's lock (a new reference, a
 * copy: what stays valid once the lock is dropped), or NULL where there is none. */
void *lc_keyed_find(lc_keyed_table *t, const unsigned char *key, size_t len, void *(*take)(void *value));
/* Put `value` under a copy of `key`: returns what it replaced or evicted (NULL for an empty
 * slot), or `value` itself where the key could not be copied (nothing is kept: it only costs
 * the work again). */
void *lc_keyed_put(lc_keyed_table *t, const unsigned char *key, size_t len, void *value);
/* Empty the table, then release(value) for every value it held, outside the lock. */
void lc_keyed_clear(lc_keyed_table *t, void (*release)(void *value));

#endif
