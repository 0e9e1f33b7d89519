/* The in-memory compile cache: building the same pipeline twice compiles once. Keyed by the
 * graph's structure (program_internal.h), in a keyed table (keyed_table.h: compared byte for
 * byte behind a 64-bit hash, 64 entries, the least recently used evicted first, so a hot
 * program survives a stream of one-off compiles). Evicting only drops the cache's reference: programs hold
 * their own references to the code (lc_code_retain), so an evicted entry's code lives on
 * until its last program is freed. The disk cache of object code is src/codegen/objcache.c. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/codegen.h"
#include "ir/node_key.h"
#include "runtime/keyed_table.h"
#include "runtime/program_internal.h"
#include "support/error.h"

static lc_keyed_table g_table = LC_KEYED_TABLE_INIT;
static pthread_mutex_t g_stats_lock = PTHREAD_MUTEX_INITIALIZER;
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

lc_status lc_graph_key(const lc_graph *g, int tag, bool names, unsigned char **key, size_t *len) {
    keybuf k = {0};
    int n = lc_graph_node_count(g), outs = lc_graph_output_count(g);
    put(&k, &tag, sizeof tag);
    put(&k, &n, sizeof n);
    for (int i = 0; i < n; i++) {
        const lc_node *x = lc_graph_node(g, i);
        put(&k, x->inputs, sizeof x->inputs);
        lc_node_put_fields(x, put_bytes, &k); /* the fields cse and simplify compare */
        if (names) put(&k, x->name ? x->name : "", (x->name ? strlen(x->name) : 0) + 1);
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

lc_status lc_compile_key(const lc_graph *g, int opt_level, unsigned char **key, size_t *len) {
    return lc_graph_key(g, opt_level, false, key, len);
}

static void *retain(void *code) {
    lc_code_retain(code);
    return code;
}

static void release(void *code) { lc_code_release(code); }

lc_code *lc_cache_lookup(const unsigned char *key, size_t len) {
    lc_code *found = lc_keyed_find(&g_table, key, len, retain);
    pthread_mutex_lock(&g_stats_lock);
    if (found) g_stats.hits++;
    else g_stats.misses++;
    pthread_mutex_unlock(&g_stats_lock);
    return found;
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
    lc_code_retain(code);
    /* outside the table's lock: the last release frees the JIT, which may take a while */
    lc_code *old = lc_keyed_put(&g_table, key, len, code);
    if (old) lc_code_release(old);
}

lc_cache_stats lc_compile_cache_stats(void) {
    pthread_mutex_lock(&g_stats_lock);
    lc_cache_stats s = g_stats;
    pthread_mutex_unlock(&g_stats_lock);
    return s;
}

void lc_compile_cache_clear(void) {
    lc_keyed_clear(&g_table, release);
    pthread_mutex_lock(&g_stats_lock);
    g_stats.hits = g_stats.misses = 0;
    pthread_mutex_unlock(&g_stats_lock);
    lc_pass_memo_clear();
}
