/* The in-memory compile cache: building the same pipeline twice compiles once. Keyed by the
 * graph's structure (program_internal.h), compared byte for byte behind a 64-bit hash; a
 * small fixed table, the least recently used entry evicted first (so a hot program survives
 * a stream of one-off compiles). Evicting only drops the cache's reference: programs hold
 * their own references to the code (lc_code_retain), so an evicted entry's code lives on
 * until its last program is freed. The disk cache of object code is src/codegen/objcache.c. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/codegen.h"
#include "ir/node_key.h"
#include "runtime/program_internal.h"
#include "support/error.h"
#include "support/hash.h"

#define CACHE_SLOTS 64

typedef struct entry {
    uint64_t hash;
    unsigned char *key;
    size_t len;
    lc_code *code;
    uint64_t used; /* g_clock at the last insert or hit; the smallest is evicted */
} entry;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static entry g_entries[CACHE_SLOTS];
static uint64_t g_clock; /* counts inserts and hits; 64 bits never wrap */
static lc_cache_stats g_stats;

typedef struct keybuf {
    unsigned char *data;
    size_t len, cap;
    bool failed;
} keybuf;

static void put(keybuf *k, const void *p, size_t n) {
    if (k->failed) return;
    if (k->len + n > k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 1024;
        while (cap < k->len + n) cap *= 2;
        unsigned char *d = realloc(k->data, cap);
        if (!d) { k->failed = true; return; }
        k->data = d;
        k->cap = cap;
    }
    memcpy(k->data + k->len, p, n);
    k->len += n;
}

static void put_bytes(void *k, const void *p, size_t n) { put(k, p, n); }

lc_status lc_compile_key(const lc_graph *g, int opt_level, unsigned char **key, size_t *len) {
    keybuf k = {0};
    int n = lc_graph_node_count(g), outs = lc_graph_output_count(g);
    put(&k, &opt_level, sizeof opt_level);
    put(&k, &n, sizeof n);
    for (int i = 0; i < n; i++) {
        const lc_node *x = lc_graph_node(g, i);
        put(&k, x->inputs, sizeof x->inputs);
        lc_node_put_fields(x, put_bytes, &k); /* the fields cse and simplify compare */
    }
    put(&k, &outs, sizeof outs);
    for (int i = 0; i < outs; i++) {
        int o = lc_graph_output(g, i);
        put(&k, &o, sizeof o);
    }
    if (k.failed) {
        free(k.data);
        return lc_fail(LC_ERR_NOMEM, "compile: out of memory");
    }
    *key = k.data;
    *len = k.len;
    return LC_OK;
}

/* Entry e holds code compiled for exactly this key (the hash only screens). */
static bool holds(const entry *e, uint64_t h, const unsigned char *key, size_t len) {
    return e->code && e->hash == h && e->len == len && memcmp(e->key, key, len) == 0;
}

lc_code *lc_cache_lookup(const unsigned char *key, size_t len) {
    uint64_t h = lc_hash_bytes(LC_HASH_SEED, key, len);
    lc_code *found = NULL;
    pthread_mutex_lock(&g_lock);
    for (int i = 0; i < CACHE_SLOTS && !found; i++) {
        entry *e = &g_entries[i];
        if (holds(e, h, key, len)) {
            found = e->code;
            lc_code_retain(found);
            e->used = ++g_clock;
        }
    }
    if (found) g_stats.hits++;
    else g_stats.misses++;
    pthread_mutex_unlock(&g_lock);
    return found;
}

/* The slot for a new entry under the lock: an entry with the same key (two threads compiled
 * the same structure at once; the newer code replaces it), else an empty slot, else the
 * least recently used. */
static entry *slot_for(uint64_t h, const unsigned char *key, size_t len) {
    entry *lru = NULL;
    for (int i = 0; i < CACHE_SLOTS; i++) {
        entry *e = &g_entries[i];
        if (holds(e, h, key, len)) return e;
        if (!lru || (lru->code && (!e->code || e->used < lru->used))) lru = e;
    }
    return lru;
}

/* At exit the cache lets go of its code, so JITs that no program still holds are disposed
 * (their memory would otherwise be "possibly lost" to valgrind: LLVM keeps pointers into
 * the middle of its blocks). Not after LLVM's fatal-error path, which exits from inside
 * LLVM with its state half-changed. */
static void release_at_exit(void) {
    if (!lc_codegen_llvm_failed()) lc_compile_cache_clear();
}

static void register_release_at_exit(void) { atexit(release_at_exit); }

void lc_cache_insert(const unsigned char *key, size_t len, lc_code *code) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, register_release_at_exit);
    unsigned char *copy = malloc(len);
    if (!copy) return; /* not cached: only costs a recompile */
    memcpy(copy, key, len);
    uint64_t h = lc_hash_bytes(LC_HASH_SEED, key, len);
    lc_code *old = NULL;
    unsigned char *old_key = NULL;
    pthread_mutex_lock(&g_lock);
    entry *e = slot_for(h, key, len);
    old = e->code;
    old_key = e->key;
    e->hash = h;
    e->key = copy;
    e->len = len;
    e->code = code;
    e->used = ++g_clock;
    lc_code_retain(code);
    pthread_mutex_unlock(&g_lock);
    /* outside the lock: the last release frees the JIT, which may take a while */
    if (old) lc_code_release(old);
    free(old_key);
}

lc_cache_stats lc_compile_cache_stats(void) {
    pthread_mutex_lock(&g_lock);
    lc_cache_stats s = g_stats;
    pthread_mutex_unlock(&g_lock);
    return s;
}

void lc_compile_cache_clear(void) {
    entry copy[CACHE_SLOTS];
    pthread_mutex_lock(&g_lock);
    memcpy(copy, g_entries, sizeof copy);
    memset(g_entries, 0, sizeof g_entries);
    g_clock = 0;
    g_stats.hits = g_stats.misses = 0;
    pthread_mutex_unlock(&g_lock);
    for (int i = 0; i < CACHE_SLOTS; i++) {
        if (copy[i].code) lc_code_release(copy[i].code);
        free(copy[i].key);
    }
}
