/* Peak extra memory of a run: the malloc family is replaced in this executable (glibc
 * supports replacing malloc; every caller, libraries included, then comes here) by thin
 * wrappers around glibc's own allocator that, while tracking is on, add each block's usable
 * size on allocation and subtract it on release. The peak of that running sum over one run is
 * what the run allocated beyond the buffers it was given.
 *
 * Compiled out under AddressSanitizer, which replaces malloc itself. */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include "bench.h"

#if defined(__SANITIZE_ADDRESS__)
void bench_alloc_begin(void) {}
int64_t bench_alloc_end(void) { return 0; }
bool bench_alloc_tracking_works(void) { return false; }
#else

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void *__libc_memalign(size_t align, size_t size);
extern void __libc_free(void *p);
extern size_t malloc_usable_size(void *p);

/* Declared here because the replacements must match libc's prototypes exactly. */
void *malloc(size_t size);
void *calloc(size_t n, size_t size);
void *realloc(void *p, size_t size);
void free(void *p);
int posix_memalign(void **out, size_t align, size_t size);
void *aligned_alloc(size_t align, size_t size);
void *memalign(size_t align, size_t size);
void *valloc(size_t size);
void *pvalloc(size_t size);

static atomic_bool tracking;
static _Atomic int64_t current, peak;

static void note_alloc(void *p) {
    if (!p || !atomic_load_explicit(&tracking, memory_order_relaxed)) return;
    int64_t now = atomic_fetch_add_explicit(&current, (int64_t)malloc_usable_size(p), memory_order_relaxed) +
                  (int64_t)malloc_usable_size(p);
    int64_t old = atomic_load_explicit(&peak, memory_order_relaxed);
    while (now > old && !atomic_compare_exchange_weak_explicit(&peak, &old, now, memory_order_relaxed,
                                                               memory_order_relaxed)) {
    }
}

static void note_free(void *p) {
    if (!p || !atomic_load_explicit(&tracking, memory_order_relaxed)) return;
    atomic_fetch_sub_explicit(&current, (int64_t)malloc_usable_size(p), memory_order_relaxed);
}

void *malloc(size_t size) {
    void *p = __libc_malloc(size);
    note_alloc(p);
    return p;
}

void *calloc(size_t n, size_t size) {
    void *p = __libc_calloc(n, size);
    note_alloc(p);
    return p;
}

void *realloc(void *p, size_t size) {
    note_free(p);
    void *q = __libc_realloc(p, size);
    note_alloc(q ? q : (size == 0 ? NULL : p)); /* failure keeps the old block */
    return q;
}

void free(void *p) {
    note_free(p);
    __libc_free(p);
}

void *memalign(size_t align, size_t size) {
    void *p = __libc_memalign(align, size);
    note_alloc(p);
    return p;
}

int posix_memalign(void **out, size_t align, size_t size) {
    if (align < sizeof(void *) || (align & (align - 1)) != 0) return EINVAL;
    void *p = memalign(align, size);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}

void *aligned_alloc(size_t align, size_t size) { return memalign(align, size); }

void *valloc(size_t size) { return memalign((size_t)sysconf(_SC_PAGESIZE), size); }

void *pvalloc(size_t size) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return memalign(page, (size + page - 1) / page * page);
}

void bench_alloc_begin(void) {
    atomic_store(&current, 0);
    atomic_store(&peak, 0);
    atomic_store(&tracking, true);
}

int64_t bench_alloc_end(void) {
    atomic_store(&tracking, false);
    return atomic_load(&peak);
}

bool bench_alloc_tracking_works(void) { return true; }
#endif
