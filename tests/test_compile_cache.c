/* Eviction in the two compile caches: the disk cache's size trim (least recently used files
 * go first, a hit counts as a use, nothing but the cache's own files is counted or deleted,
 * concurrent stores and trims stay consistent) and the in-memory cache's least-recently-used
 * slots (a hot program survives a stream of one-off compiles). */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "jit_harness.h"

#include "codegen/objcache.h"
#include "lucid/passes.h"
#include "lucid/version.h"

#define OBJ_BYTES 1000

/* ---- disk cache --------------------------------------------------------------------------- */

static char g_obj[OBJ_BYTES];

/* Store a fake object under IR `ir` (the cache does not look inside object bytes). */
static void store(const char *ir) { lc_objcache_store(ir, "triple", "cpu", "+f", "default<O0>", g_obj, sizeof g_obj); }

static bool hit(const char *ir) {
    char *obj = NULL;
    size_t len = 0;
    bool ok = lc_objcache_load(ir, "triple", "cpu", "+f", "default<O0>", &obj, &len);
    if (ok) {
        assert_int_equal(len, sizeof g_obj);
        assert_memory_equal(obj, g_obj, len);
    }
    free(obj);
    return ok;
}

static char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = malloc(1 << 16);
    *len = fread(buf, 1, 1 << 16, f);
    fclose(f);
    return buf;
}

static bool contains(const char *text, size_t len, const char *needle) {
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(text + i, needle, n) == 0) return true;
    return false;
}

/* The cache file holding IR `ir` (its key ends with the IR text), or "" when there is none. */
static void entry_path(const char *dir, const char *ir, char *out, size_t size) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    out[0] = 0;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 5, ".lobj") != 0) continue;
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t len;
        char *text = read_all(path, &len);
        if (text && contains(text, len, ir)) snprintf(out, size, "%s", path);
        free(text);
    }
    closedir(d);
}

static void set_mtime(const char *path, time_t t) {
    struct timespec ts[2] = {{t, 0}, {t, 0}};
    assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static time_t mtime_of(const char *path) {
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_mtime;
}

static void write_file(const char *path, const char *text, size_t repeat) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (size_t i = 0; i < repeat; i++) fputs(text, f);
    fclose(f);
}

/* Every regular file of dir: how many end in `suffix` and their total size. */
static int files_with(const char *dir, const char *suffix, long long *bytes) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    int n = 0;
    if (bytes) *bytes = 0;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name), s = strlen(suffix);
        if (l < s || strcmp(e->d_name + l - s, suffix) != 0) continue;
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        n++;
        if (bytes) *bytes += st.st_size;
    }
    closedir(d);
    return n;
}

static void remove_dir(const char *dir) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        assert_int_equal(unlink(path), 0);
    }
    closedir(d);
    assert_int_equal(rmdir(dir), 0);
}

/* A fresh temporary cache directory (dir: a "...XXXXXX" template) set as LUCID_CACHE_DIR, and
 * object bytes patterned by `mul`. */
static void use_new_cache_dir(char *dir, int mul) {
    for (int i = 0; i < OBJ_BYTES; i++) g_obj[i] = (char)(i * mul);
    assert_non_null(mkdtemp(dir));
    setenv("LUCID_CACHE_DIR", dir, 1);
}

static void disk_trim_lru(void **state) {
    (void)state;
    char dir[] = "/tmp/lucid-trim-XXXXXX";
    use_new_cache_dir(dir, 7);
    time_t now = time(NULL);

    /* Files that are not the cache's: another name, and the cache's name pattern without its
     * magic. Both old and large: a trim counting or deleting them would show. */
    char foreign[1200], lookalike[1200];
    snprintf(foreign, sizeof foreign, "%s/notes.txt", dir);
    snprintf(lookalike, sizeof lookalike, "%s/00000000000000ff.lobj", dir);
    write_file(foreign, "foreign ", 2000);
    write_file(lookalike, "LUCIDOBJ2\n", 500);
    set_mtime(foreign, now - 5000);
    set_mtime(lookalike, now - 5000);

    /* Four entries, used at 400, 300, 200 and 100 seconds ago, under the default budget. */
    const char *ir[] = {"ir-entry-A", "ir-entry-B", "ir-entry-C", "ir-entry-D", "ir-entry-E"};
    char path[5][1200];
    for (int i = 0; i < 4; i++) {
        store(ir[i]);
        entry_path(dir, ir[i], path[i], sizeof path[i]);
        assert_true(path[i][0] != 0);
        set_mtime(path[i], now - 400 + 100 * i);
    }
    assert_int_equal(files_with(dir, ".lobj", NULL), 5);
    long long entry_size = 0;
    {
        struct stat st;
        assert_int_equal(stat(path[0], &st), 0);
        entry_size = st.st_size;
        assert_true(entry_size > OBJ_BYTES);
    }

    /* A hit makes A the most recently used (its mtime is now, not 400 s ago). */
    assert_true(hit(ir[0]));
    assert_true(mtime_of(path[0]) >= now);

    /* Budget for 3.5 entries: storing E makes 5, the trim deletes the two least recently
     * used (B, C) to get under 90% of it (3.15 entries) and keeps A (hit), D and E. */
    unsigned long long old = lc_objcache_set_budget((unsigned long long)(entry_size * 7 / 2));
    assert_true(old == LC_OBJCACHE_DEFAULT_BUDGET);
    store(ir[4]);
    entry_path(dir, ir[4], path[4], sizeof path[4]);
    assert_true(path[4][0] != 0);
    assert_int_equal(access(path[1], F_OK), -1);
    assert_int_equal(access(path[2], F_OK), -1);
    assert_int_equal(access(path[0], F_OK), 0);
    assert_int_equal(access(path[3], F_OK), 0);
    assert_false(hit(ir[1]));
    assert_false(hit(ir[2]));
    assert_true(hit(ir[3]));
    assert_true(hit(ir[0]));
    assert_true(hit(ir[4]));

    /* The foreign files are untouched (same size, same content, same old mtime). */
    long long bytes;
    assert_int_equal(files_with(dir, ".txt", &bytes), 1);
    assert_int_equal(bytes, 8 * 2000);
    assert_int_equal(mtime_of(foreign), now - 5000);
    assert_int_equal(mtime_of(lookalike), now - 5000);
    size_t len;
    char *text = read_all(lookalike, &len);
    assert_int_equal(len, 10 * 500);
    assert_memory_equal(text, "LUCIDOBJ2\n", 10);
    free(text);

    /* Direct trims: under budget nothing goes; a missing directory is no error; budget 0
     * deletes every cache file and still nothing else. */
    assert_int_equal(lc_objcache_trim(dir, (unsigned long long)entry_size * 3), 0);
    assert_int_equal(files_with(dir, ".lobj", NULL), 4);
    assert_int_equal(lc_objcache_trim("/nonexistent/lucid-trim", 0), 0);
    assert_int_equal(lc_objcache_trim(NULL, 0), 0);
    assert_int_equal(lc_objcache_trim(dir, 0), 3);
    assert_int_equal(files_with(dir, ".lobj", NULL), 1); /* the lookalike */
    assert_int_equal(access(foreign, F_OK), 0);

    assert_true(lc_objcache_set_budget(0) == (unsigned long long)(entry_size * 7 / 2));
    assert_true(lc_objcache_set_budget(0) == LC_OBJCACHE_DEFAULT_BUDGET);
    unsetenv("LUCID_CACHE_DIR");
    remove_dir(dir);
}

/* Several writers storing and trimming the same directory at once (files vanish between one
 * thread's readdir and its stat or unlink): every store completes, no temporary is left, and
 * the directory ends within budget. Processes sharing a directory race the same way. */
#define WRITERS 4
#define STORES 40

static void *writer(void *arg) {
    int id = (int)(intptr_t)arg;
    for (int i = 0; i < STORES; i++) {
        char ir[64];
        snprintf(ir, sizeof ir, "ir-writer-%d-store-%03d", id, i);
        store(ir);
        (void)hit(ir); /* may already be gone: another writer trimmed it */
    }
    return NULL;
}

static void disk_trim_concurrent(void **state) {
    (void)state;
    char dir[] = "/tmp/lucid-trim-XXXXXX";
    use_new_cache_dir(dir, 3);
    char foreign[1200];
    snprintf(foreign, sizeof foreign, "%s/README", dir);
    write_file(foreign, "keep me\n", 1);
    store("ir-size-probe");
    long long entry_size;
    assert_int_equal(files_with(dir, ".lobj", &entry_size), 1);
    unsigned long long budget = (unsigned long long)entry_size * 10;
    lc_objcache_set_budget(budget);
    pthread_t t[WRITERS];
    for (int i = 0; i < WRITERS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, writer, (void *)(intptr_t)i), 0);
    for (int i = 0; i < WRITERS; i++) pthread_join(t[i], NULL);
    long long bytes;
    int n = files_with(dir, ".lobj", &bytes);
    assert_true(n >= 1);
    assert_true((unsigned long long)bytes <= budget);
    assert_int_equal(files_with(dir, "README", NULL), 1);
    DIR *d = opendir(dir);
    struct dirent *e;
    while ((e = readdir(d))) assert_null(strstr(e->d_name, ".tmp"));
    closedir(d);
    lc_objcache_set_budget(0);
    unsetenv("LUCID_CACHE_DIR");
    remove_dir(dir);
}

/* The key of a disk entry starts with the library version (so another Lucid's objects are
 * never loaded), and that version is the one version.h announces; the codegen fingerprint
 * follows. */
static void disk_key_carries_version(void **state) {
    (void)state;
    char want[64];
    snprintf(want, sizeof want, "%d.%d.%d", LUCID_VERSION_MAJOR, LUCID_VERSION_MINOR,
             LUCID_VERSION_PATCH);
    assert_string_equal(LUCID_VERSION_STRING, want);
    assert_string_equal(lc_version(), want);

    char dir[] = "/tmp/lucid-version-XXXXXX";
    use_new_cache_dir(dir, 3);
    store("ir-versioned");
    char path[1200];
    entry_path(dir, "ir-versioned", path, sizeof path);
    assert_true(path[0] != 0);
    size_t len = 0;
    char *text = read_all(path, &len);
    assert_non_null(text);
    /* magic, u64 key length, then the key's first line */
    char line[96];
    snprintf(line, sizeof line, "lucid %s\n", want);
    size_t at = sizeof "LUCIDOBJ1\n" - 1 + 8;
    assert_true(len > at + strlen(line));
    assert_memory_equal(text + at, line, strlen(line));
    /* then the fingerprint of the codegen sources (cmake/CodegenFingerprint.cmake), so a
     * build whose codegen changed at the same version number loads none of these */
    const char *fp = text + at + strlen(line);
    assert_true(len > (size_t)(fp - text) + 25);
    assert_memory_equal(fp, "codegen ", 8);
    for (int i = 0; i < 16; i++) assert_non_null(strchr("0123456789abcdef", fp[8 + i]));
    assert_int_equal(fp[24], '\n');
    free(text);
    unsetenv("LUCID_CACHE_DIR");
    remove_dir(dir);
}

/* ---- in-memory cache ---------------------------------------------------------------------- */

#define ONE_OFFS 70 /* more than the cache's 64 slots */

static lc_program *compile_o0(const lc_graph *g) {
    lc_compile_options o = lc_compile_options_default();
    o.opt_level = 0; /* the cache does not care; this keeps 70 compiles quick */
    lc_program *p;
    assert_ok(lc_compile(g, &o, &p));
    return p;
}

static void memory_lru(void **state) {
    (void)state;
    unsetenv("LUCID_CACHE_DIR");
    lc_compile_cache_clear();
    lc_module *m = test_avgpool(2, 2, 0, false, true);
    lc_graph *hot = jit_module_graph(m, LC_F32, test_shape3(1, 1, 200), false);
    lc_graph *one_off[ONE_OFFS];
    for (int i = 0; i < ONE_OFFS; i++) one_off[i] = jit_module_graph(m, LC_F32, test_shape3(1, 1, 4 + i), false);

    lc_program *p = compile_o0(hot);
    lc_program_free(p);
    lc_program *first = compile_o0(one_off[0]); /* kept: it must outlive its eviction */
    for (int i = 1; i < ONE_OFFS; i++) {
        lc_program_free(compile_o0(hot));
        lc_program_free(compile_o0(one_off[i]));
    }
    lc_program_free(compile_o0(hot));
    /* every compile of the hot graph after the first was a hit; every one-off a miss */
    lc_cache_stats s = lc_compile_cache_stats();
    assert_int_equal(s.hits, ONE_OFFS);
    assert_int_equal(s.misses, 1 + ONE_OFFS);

    /* The least recently used one-offs were evicted, the latest kept. */
    lc_program_free(compile_o0(one_off[ONE_OFFS - 1]));
    assert_int_equal(lc_compile_cache_stats().hits, ONE_OFFS + 1);
    lc_program_free(compile_o0(one_off[1]));
    assert_int_equal(lc_compile_cache_stats().misses, 2 + ONE_OFFS);

    /* The program of an evicted entry still runs and computes the right values. */
    test_rng r = test_rng_seeded(11);
    lc_tensor **in = jit_random_inputs(one_off[0], &r, 2.0);
    lc_tensor *got[1] = {NULL}, *want[1] = {NULL};
    assert_ok(lc_program_run(first, (const lc_tensor *const *)in, 1, got, 1));
    assert_ok(lc_interp_run(one_off[0], (const lc_tensor *const *)in, 1, want, 1));
    assert_tensor_close(got[0], want[0], JIT_RTOL, JIT_ATOL);
    lc_tensor_free(got[0]);
    lc_tensor_free(want[0]);
    jit_free_tensors(in, 1);
    lc_program_free(first);

    lc_compile_cache_clear();
    for (int i = 0; i < ONE_OFFS; i++) lc_graph_free(one_off[i]);
    lc_graph_free(hot);
    lc_module_free(m);
}

/* ---- the default passes' memo ------------------------------------------------------------ */

static lc_status count_stage(const lc_stage_info *s, void *user) {
    (void)s;
    (*(int *)user)++;
    return LC_OK;
}

/* lc_pipeline_run_default with nobody reading the stages gives, from the memo, the graph the
 * passes make (the same text IR as a run whose hook makes them run), for the forward and the
 * forward+backward of one built graph apart, and with each graph's own names. */
static char *passed_text(const lc_graph *g, bool backward, bool hooked) {
    lc_pipeline_options o = lc_pipeline_options_default();
    int stages = 0;
    if (hooked) {
        o.on_stage = count_stage;
        o.user = &stages;
    }
    lc_graph *out;
    assert_ok(lc_pipeline_run_default(g, backward, &o, &out));
    if (hooked) assert_true(stages >= 3);
    char *text;
    assert_ok(lc_graph_to_string(out, &text));
    lc_graph_free(out);
    return text;
}

static void pass_memo(void **state) {
    (void)state;
    lc_compile_cache_clear();
    lc_module *m = test_lppool(2, 4, LC_STRIDE_UNSET, false);
    lc_graph *g = jit_module_graph(m, LC_F32, test_shape3(1, 2, 64), false);
    lc_graph *renamed = jit_module_graph(m, LC_F32, test_shape3(1, 2, 64), false);
    lc_module_free(m);
    assert_ok(lc_graph_set_name(renamed, 0, "another_x"));
    for (int backward = 0; backward <= 1; backward++) {
        char *want = passed_text(g, backward, true);
        for (int again = 0; again < 3; again++) { /* a miss, then hits */
            char *got = passed_text(g, backward, false);
            assert_string_equal(got, want);
            free(got);
        }
        char *other = passed_text(renamed, backward, false);
        assert_non_null(strstr(other, "another_x"));
        assert_null(strstr(want, "another_x"));
        free(other);
        free(want);
    }
    char *fwd = passed_text(g, false, false), *both = passed_text(g, true, false);
    assert_string_not_equal(fwd, both);
    free(fwd);
    free(both);
    lc_graph_free(g);
    lc_graph_free(renamed);
    lc_compile_cache_clear();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(disk_trim_lru),
        cmocka_unit_test(disk_trim_concurrent),
        cmocka_unit_test(disk_key_carries_version),
        cmocka_unit_test(memory_lru),
        cmocka_unit_test(pass_memo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
