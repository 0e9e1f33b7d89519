/* Shared by the fuzz targets (tests/fuzz/fuzz_*.c). Each target defines
 * LLVMFuzzerTestOneInput; it is linked either with libFuzzer (scripts/fuzz.sh, clang
 * -fsanitize=fuzzer) or with replay_main.c, which feeds it every file of a corpus directory
 * as a ctest regression test in the normal gcc builds.
 *
 * A finding is a crash, a sanitizer report, a leak, or a FUZZ_CHECK that fails: a property
 * the library promises (a failing call leaves a message; a parsed graph prints back the same;
 * JIT and interpreter agree) that the input broke. FUZZ_CHECK prints why and aborts, which
 * both libFuzzer and ctest report as a failure with the input that caused it. */
#ifndef LUCID_FUZZ_COMMON_H
#define LUCID_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lucid/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...)                                                               \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "fuzz check failed at %s:%d: %s\n  ", __FILE__, __LINE__, #cond);\
            fprintf(stderr, __VA_ARGS__);                                                   \
            fprintf(stderr, "\n  last error: %s\n", lc_last_error());                      \
            abort();                                                                        \
        }                                                                                   \
    } while (0)

/* Every failing call must leave a message (docs/semantics.md, "Errors") and a known status. */
#define FUZZ_CHECK_FAILURE(st, what)                                                        \
    FUZZ_CHECK((st) > LC_OK && (st) <= LC_ERR_INTERNAL && (st) != LC_ERR_INTERNAL &&        \
                   lc_last_error()[0] != '\0',                                              \
               "%s failed with status %d (%s) and message \"%s\"", (what), (int)(st),       \
               lc_status_str(st), lc_last_error())

/* The input as a NUL-terminated string (the parsers take C strings); caller frees. An
 * embedded NUL simply ends the text early, as it would for a file read into a string. */
static inline char *fuzz_strdup(const uint8_t *data, size_t size) {
    char *s = malloc(size + 1);
    if (!s) abort();
    if (size) memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* A cursor over the input bytes for targets that draw decisions from them; past the end
 * every draw is 0, so short inputs still make a (small) case. */
typedef struct fuzz_bytes {
    const uint8_t *p;
    size_t n;
} fuzz_bytes;

static inline unsigned fuzz_u8(fuzz_bytes *b) {
    if (b->n == 0) return 0;
    b->n--;
    return *b->p++;
}

static inline unsigned fuzz_u16(fuzz_bytes *b) {
    unsigned lo = fuzz_u8(b);
    return lo | fuzz_u8(b) << 8;
}

/* An index into a table of `count` entries. */
static inline size_t fuzz_pick(fuzz_bytes *b, size_t count) { return fuzz_u8(b) % count; }

#endif
