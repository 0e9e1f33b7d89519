/* On-disk object cache; see objcache.h. File layout, all little-endian:
 *   "LUCIDOBJ1\n"  magic
 *   u64 key length, key bytes     (the full key, compared byte for byte: no collisions;
 *                                  it starts "lucid <version>\ncodegen <fingerprint>\n")
 *   u64 object length, object bytes
 *   u64 lc_hash_bytes of the object (catches truncation and bit rot)
 * The file name is the key's 64-bit lc_hash_bytes in hex (a file written under the byte-wise
 * FNV-1a of earlier versions has another name, so it is never read, and is trimmed in time). A hit sets the file's mtime to now,
 * so the size trim (lc_objcache_trim) deletes the least recently used files first. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codegen/objcache.h"
#include "codegen_fingerprint.h"
#include "lucid/version.h"
#include "support/hash.h"
#include "support/strbuf.h"

#ifndef LUCID_LLVM_VERSION
#define LUCID_LLVM_VERSION "unknown"
#endif

static const char magic[] = "LUCIDOBJ1\n";

static _Atomic unsigned long long g_budget = LC_OBJCACHE_DEFAULT_BUDGET;

static char *make_key(const char *ir, const char *triple, const char *cpu, const char *features,
                      const char *passes) {
    lc_strbuf sb = {0};
    /* The library version first: objects of another Lucid (other kernel ABI, other codegen)
     * never load, even when their IR text happens to match. Its codegen's fingerprint too:
     * what codegen does after the IR (post-passes, target options) is not in the IR, and it
     * changes between builds of one version number. */
    lc_strbuf_printf(&sb, "lucid %s\ncodegen %s\nllvm %s\ntriple %s\ncpu %s\nfeatures %s\npasses %s\n",
                     lc_version(), LUCID_CODEGEN_FINGERPRINT, LUCID_LLVM_VERSION, triple, cpu,
                     features, passes);
    lc_strbuf_puts(&sb, ir);
    char *key = NULL;
    if (lc_strbuf_finish(&sb, &key) != LC_OK) return NULL;
    return key;
}

/* One line per unusable LUCID_CACHE_DIR value (the variable is read at every compile, so a
 * process that never changes it hears about it once). */
static void report_unusable(const char *dir, const char *why) {
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static char reported[4096];
    pthread_mutex_lock(&lock);
    if (strncmp(reported, dir, sizeof reported - 1) != 0) {
        snprintf(reported, sizeof reported, "%s", dir);
        fprintf(stderr, "lucid: LUCID_CACHE_DIR=%s %s; the disk cache is off\n", dir, why);
    }
    pthread_mutex_unlock(&lock);
}

/* The cache directory, or NULL when the cache is off: unset, or not a directory this process
 * can write (a cache that cannot store would only cost a failed write per compile). */
static const char *cache_dir(void) {
    const char *dir = getenv("LUCID_CACHE_DIR");
    if (!dir || !*dir) return NULL;
    struct stat st;
    const char *why = NULL;
    if (stat(dir, &st) != 0) why = errno == ENOENT ? "does not exist" : strerror(errno);
    else if (!S_ISDIR(st.st_mode)) why = "is not a directory";
    else if (access(dir, W_OK | X_OK) != 0) why = "is not a directory this process can write";
    if (!why) return dir;
    report_unusable(dir, why);
    return NULL;
}

/* Open a cache entry for reading only when it is a regular file: O_NONBLOCK so that opening
 * a FIFO (or a device) someone put at its path returns at once instead of waiting for a
 * writer, then fstat to refuse anything that is not a plain file. */
static FILE *open_entry(const char *path) {
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return NULL;
    struct stat st;
    FILE *f = NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) f = fdopen(fd, "rb");
    if (!f) close(fd);
    return f;
}

bool lc_objcache_enabled(void) { return cache_dir() != NULL; }

static bool cache_path(const char *key, char *path, size_t size) {
    const char *dir = cache_dir();
    if (!dir) return false;
    uint64_t h = lc_hash_bytes(LC_HASH_SEED, key, strlen(key));
    int n = snprintf(path, size, "%s/%016llx.lobj", dir, (unsigned long long)h);
    return n > 0 && (size_t)n < size;
}

static bool read_u64(FILE *f, uint64_t *v) {
    unsigned char b[8];
    if (fread(b, 1, 8, f) != 8) return false;
    *v = 0;
    for (int i = 7; i >= 0; i--) *v = (*v << 8) | b[i];
    return true;
}

static bool write_u64(FILE *f, uint64_t v) {
    unsigned char b[8];
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
    return fwrite(b, 1, 8, f) == 8;
}

bool lc_objcache_load(const char *ir, const char *triple, const char *cpu, const char *features,
                      const char *passes, char **obj, size_t *len) {
    char path[4096];
    char *key = make_key(ir, triple, cpu, features, passes);
    if (!key) return false;
    bool ok = false;
    FILE *f = NULL;
    char *kbuf = NULL, *data = NULL;
    if (!cache_path(key, path, sizeof path)) goto done;
    f = open_entry(path);
    if (!f) goto done;
    char m[sizeof magic - 1];
    uint64_t klen, olen, sum;
    if (fread(m, 1, sizeof m, f) != sizeof m || memcmp(m, magic, sizeof m) != 0) goto done;
    if (!read_u64(f, &klen) || klen != strlen(key)) goto done;
    kbuf = malloc(klen + 1);
    if (!kbuf || fread(kbuf, 1, klen, f) != klen || memcmp(kbuf, key, klen) != 0) goto done;
    if (!read_u64(f, &olen) || olen == 0 || olen > ((uint64_t)1 << 32)) goto done;
    data = malloc(olen);
    if (!data || fread(data, 1, olen, f) != olen) goto done;
    if (!read_u64(f, &sum) || sum != lc_hash_bytes(LC_HASH_SEED, data, olen)) goto done;
    if (fgetc(f) != EOF) goto done; /* trailing bytes: not a file we wrote */
    /* Mark it used (a read-only cache directory just keeps the old time). */
    (void)futimens(fileno(f), NULL);
    *obj = data;
    *len = olen;
    data = NULL;
    ok = true;
done:
    if (f) fclose(f);
    free(kbuf);
    free(data);
    free(key);
    return ok;
}

void lc_objcache_store(const char *ir, const char *triple, const char *cpu, const char *features,
                       const char *passes, const char *obj, size_t len) {
    char path[4096], tmp[4200];
    char *key = make_key(ir, triple, cpu, features, passes);
    if (!key) return;
    if (!cache_path(key, path, sizeof path)) { free(key); return; }
    snprintf(tmp, sizeof tmp, "%s.tmpXXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) { free(key); return; }
    FILE *f = fdopen(fd, "wb");
    if (!f) { close(fd); unlink(tmp); free(key); return; }
    size_t klen = strlen(key);
    bool ok = fwrite(magic, 1, sizeof magic - 1, f) == sizeof magic - 1 && write_u64(f, klen) &&
              fwrite(key, 1, klen, f) == klen && write_u64(f, len) &&
              fwrite(obj, 1, len, f) == len &&
              write_u64(f, lc_hash_bytes(LC_HASH_SEED, obj, len));
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) unlink(tmp);
    free(key);
    if (ok) (void)lc_objcache_trim(cache_dir(), atomic_load(&g_budget));
}

unsigned long long lc_objcache_set_budget(unsigned long long bytes) {
    return atomic_exchange(&g_budget, bytes ? bytes : LC_OBJCACHE_DEFAULT_BUDGET);
}

/* "<16 lowercase hex digits>.lobj": the names cache_path makes (temporaries end in
 * ".tmpXXXXXX" and are never counted: a concurrent store may be writing one). */
static bool is_entry_name(const char *name) {
    for (int i = 0; i < 16; i++)
        if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f'))) return false;
    return strcmp(name + 16, ".lobj") == 0;
}

static bool has_magic(int dfd, const char *name) {
    int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return false;
    char m[sizeof magic - 1];
    ssize_t n = read(fd, m, sizeof m);
    close(fd);
    return n == (ssize_t)sizeof m && memcmp(m, magic, sizeof m) == 0;
}

typedef struct cache_file {
    char name[22]; /* is_entry_name: 16 + ".lobj" + NUL */
    unsigned long long size;
    struct timespec used; /* mtime */
} cache_file;

static int by_use(const void *pa, const void *pb) {
    const cache_file *a = pa, *b = pb;
    if (a->used.tv_sec != b->used.tv_sec) return a->used.tv_sec < b->used.tv_sec ? -1 : 1;
    if (a->used.tv_nsec != b->used.tv_nsec) return a->used.tv_nsec < b->used.tv_nsec ? -1 : 1;
    return strcmp(a->name, b->name); /* same tick: any fixed order */
}

int lc_objcache_trim(const char *dir, unsigned long long budget) {
    if (!dir) return 0;
    DIR *d = opendir(dir);
    if (!d) return 0;
    int dfd = dirfd(d);
    cache_file *files = NULL;
    size_t n = 0, cap = 0;
    unsigned long long total = 0;
    int deleted = 0;
    struct dirent *e;
    /* The common case (under budget) costs one readdir and one stat per file; files are only
     * opened to check their magic when something is about to be deleted. */
    while ((e = readdir(d))) {
        struct stat st;
        if (!is_entry_name(e->d_name)) continue;
        /* gone already (another process trimmed it) or not a plain file: skip */
        if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) continue;
        if (n == cap) {
            size_t c = cap ? cap * 2 : 64;
            cache_file *grown = realloc(files, c * sizeof *grown);
            if (!grown) goto done; /* no memory: leave the directory alone this time */
            files = grown;
            cap = c;
        }
        cache_file *f = &files[n++];
        memcpy(f->name, e->d_name, sizeof f->name);
        f->size = (unsigned long long)st.st_size;
        f->used = st.st_mtim;
        total += f->size;
    }
    if (total <= budget) goto done;
    size_t ours = 0;
    total = 0;
    for (size_t i = 0; i < n; i++)
        if (has_magic(dfd, files[i].name)) {
            files[ours++] = files[i];
            total += files[i].size;
        }
    if (total <= budget) goto done; /* it was lookalikes that tipped it over */
    qsort(files, ours, sizeof *files, by_use);
    unsigned long long target = budget / 10 * 9;
    for (size_t i = 0; i < ours && total > target; i++) {
        if (unlinkat(dfd, files[i].name, 0) == 0) deleted++;
        /* Deleted by us or by a concurrent trim (ENOENT), it no longer counts; one we may
         * not delete (EACCES) is passed over rather than retried. */
        total -= files[i].size;
    }
done:
    free(files);
    closedir(d);
    return deleted;
}
