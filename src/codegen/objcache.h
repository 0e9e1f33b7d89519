/* The on-disk compile cache (only when LUCID_CACHE_DIR names a directory): object bytes keyed
 * by the IR text, target triple, CPU, features, LLVM version, the optimization pass pipeline,
 * the library version and a fingerprint of the library's codegen sources (what it does to the
 * IR after emission is not in the IR).
 * A file is written to a temporary name and renamed, so readers never see half a file; a
 * corrupt or foreign file is ignored (and replaced by the next store), and so is anything at
 * an entry's path that is not a regular file (a FIFO there must not block a compile).
 * Failures are silent, the cache only ever saves time, except one: a LUCID_CACHE_DIR that is
 * missing, not a directory or not writable turns the cache off with one line on stderr.
 *
 * Size: like ccache, the directory is kept under a byte budget. A hit refreshes the file's
 * mtime, so mtime means "last used"; after each store, when the cache's own files (name
 * <16 hex digits>.lobj and the magic header; nothing else in the directory is counted or
 * touched) exceed the budget, the least recently used are deleted until they fit in 90% of
 * it (the slack keeps the next few stores from rescanning and deleting again). Several
 * processes may share a directory: a file vanishing under a trim is simply skipped. */
#ifndef LUCID_CODEGEN_OBJCACHE_H
#define LUCID_CODEGEN_OBJCACHE_H

#include <stdbool.h>
#include <stddef.h>

/* Whether LUCID_CACHE_DIR names a directory now (load and store do nothing otherwise). */
bool lc_objcache_enabled(void);

/* On a hit, *obj is a malloc'd copy of the object (caller frees). */
bool lc_objcache_load(const char *ir, const char *triple, const char *cpu, const char *features,
                      const char *passes, char **obj, size_t *len);
void lc_objcache_store(const char *ir, const char *triple, const char *cpu, const char *features,
                       const char *passes, const char *obj, size_t len);

/* The budget in bytes when nothing else is set: compiled pool kernels are a few KB to a few
 * hundred KB of object code, so 256 MiB holds thousands of programs, while staying a small,
 * predictable footprint in a directory the user chose (ccache's 5 GiB is for whole
 * translation units). There is deliberately no environment variable for it: the documented
 * interface (docs/environment.md) has LUCID_CACHE_DIR only. */
#define LC_OBJCACHE_DEFAULT_BUDGET ((unsigned long long)256 << 20)

/* Tests: the budget lc_objcache_store trims to (0 restores the default). Returns the old one. */
unsigned long long lc_objcache_set_budget(unsigned long long bytes);

/* Trim `dir` to `budget` bytes as described above (what lc_objcache_store does after
 * writing). Never fails: whatever cannot be read or deleted is left alone. Returns the
 * number of files deleted. */
int lc_objcache_trim(const char *dir, unsigned long long budget);

#endif
