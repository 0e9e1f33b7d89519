/* The on-disk compile cache (only when LUCID_CACHE_DIR names a directory): object bytes keyed
 * by the IR text, target triple, CPU, features, LLVM version, opt level and library version.
 * A file is written to a temporary name and renamed, so readers never see half a file; a
 * corrupt or foreign file is ignored (and replaced by the next store). Failures are silent:
 * the cache only ever saves time. */
#ifndef LUCID_CODEGEN_OBJCACHE_H
#define LUCID_CODEGEN_OBJCACHE_H

#include <stdbool.h>
#include <stddef.h>

/* On a hit, *obj is a malloc'd copy of the object (caller frees). */
bool lc_objcache_load(const char *ir, const char *triple, const char *cpu, const char *features,
                      int opt_level, char **obj, size_t *len);
void lc_objcache_store(const char *ir, const char *triple, const char *cpu, const char *features,
                       int opt_level, const char *obj, size_t len);

#endif
