/* The keyed table (keyed_table.h). */
#include "runtime/keyed_table.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "support/hash.h"

/* Entry e holds a value for exactly this key (the hash only screens). */
static bool holds(const lc_keyed_entry *e, uint64_t h, const unsigned char *key, size_t len) {
    return e->value && e->hash == h && e->len == len && memcmp(e->key, key, len) == 0;
}

void *lc_keyed_find(lc_keyed_table *t, const unsigned char *key, size_t len, void *(*take)(void *value)) {
    uint64_t h = lc_hash_bytes(LC_HASH_SEED, key, len);
    void *found = NULL;
    pthread_mutex_lock(&t->lock);
    for (int i = 0; i < LC_KEYED_SLOTS && !found; i++) {
        lc_keyed_entry *e = &t->entries[i];
        if (holds(e, h, key, len)) {
            found = take(e->value);
            e->used = ++t->clock;
        }
    }
    pthread_mutex_unlock(&t->lock);
    return found;
}

/* The slot for a new entry under the lock: an entry with the same key (two threads made the
 * same value at once; the newer replaces it), else an empty slot, else the least recently
 * used. */
static lc_keyed_entry *slot_for(lc_keyed_table *t, uint64_t h, const unsigned char *key, size_t len) {
    lc_keyed_entry *lru = NULL;
    for (int i = 0; i < LC_KEYED_SLOTS; i++) {
        lc_keyed_entry *e = &t->entries[i];
        if (holds(e, h, key, len)) return e;
        if (!lru || (lru->value && (!e->value || e->used < lru->used))) lru = e;
    }
    return lru;
}

void *lc_keyed_put(lc_keyed_table *t, const unsigned char *key, size_t len, void *value) {
    unsigned char *copy = malloc(len ? len : 1);
    if (!copy) return value;
    memcpy(copy, key, len);
    uint64_t h = lc_hash_bytes(LC_HASH_SEED, key, len);
    pthread_mutex_lock(&t->lock);
    lc_keyed_entry *e = slot_for(t, h, key, len);
    void *old = e->value;
    unsigned char *old_key = e->key;
    e->hash = h;
    e->key = copy;
    e->len = len;
    e->value = value;
    e->used = ++t->clock;
    pthread_mutex_unlock(&t->lock);
    free(old_key);
    return old;
}

void lc_keyed_clear(lc_keyed_table *t, void (*release)(void *value)) {
    lc_keyed_entry copy[LC_KEYED_SLOTS];
    pthread_mutex_lock(&t->lock);
    memcpy(copy, t->entries, sizeof copy);
    memset(t->entries, 0, sizeof t->entries);
    t->clock = 0;
    pthread_mutex_unlock(&t->lock);
    for (int i = 0; i < LC_KEYED_SLOTS; i++) {
        if (copy[i].value) release(copy[i].value);
        free(copy[i].key);
    }
}
