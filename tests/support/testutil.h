/* Helpers shared by the cmocka tests. Include after <cmocka.h>'s prerequisites. */
#ifndef LUCID_TESTUTIL_H
#define LUCID_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lucid/ir.h"
#include "lucid/status.h"
#include "lucid/tensor.h"

/* Fail with the library's message when a call does not return LC_OK. */
#define assert_ok(expr)                                                                     \
    do {                                                                                    \
        lc_status st_ = (expr);                                                             \
        if (st_ != LC_OK)                                                                   \
            fail_msg("%s returned %s: %s", #expr, lc_status_str(st_), lc_last_error());     \
    } while (0)

/* Assert a call fails with `status` and a message containing `needle`. */
#define assert_fails(expr, status, needle)                                                  \
    do {                                                                                    \
        lc_status st_ = (expr);                                                             \
        if (st_ != (status))                                                                \
            fail_msg("%s returned %s, expected %s (message: %s)", #expr,                    \
                     lc_status_str(st_), lc_status_str(status), lc_last_error());           \
        if (!strstr(lc_last_error(), (needle)))                                             \
            fail_msg("%s: message \"%s\" lacks \"%s\"", #expr, lc_last_error(), (needle));  \
    } while (0)

/* Every element of `got` within atol + rtol*|want| of `want` (NaN matches NaN, inf matches
 * the same inf); fails naming the first bad index. Shapes must be equal. */
void assert_tensor_close(const lc_tensor *got, const lc_tensor *want, double rtol, double atol);
/* Same against plain expected values. */
void assert_values_close(const lc_tensor *got, const double *want, int64_t n, double rtol,
                         double atol);

/* The context that `msg` repeats ("interp: interp: ...", "SGD: SGD: ..."): a "WORD: " at its
 * start or after a ": " that the same "WORD: " follows, as a malloc'd string, or NULL when
 * every context appears once. */
char *test_repeated_context(const char *msg);

/* Deterministic pseudo-random numbers (xorshift), for reproducible random tests. */
typedef struct test_rng { uint64_t state; } test_rng;
test_rng test_rng_seeded(uint64_t seed);
double test_rng_uniform(test_rng *r, double lo, double hi); /* [lo, hi) */
int64_t test_rng_int(test_rng *r, int64_t lo, int64_t hi);   /* [lo, hi] */
/* A tensor of shape `shape` with normal-ish values in (-scale, scale) and some exact zeros. */
lc_tensor *test_random_tensor(test_rng *r, lc_dtype dt, lc_shape shape, double scale);

/* Path of a file in the source tree (e.g. "tests/conformance/torch"), into a static buffer. */
const char *test_source_path(const char *relative);

lc_shape test_shape3(int64_t n, int64_t c, int64_t l);
lc_shape test_shape4(int64_t n, int64_t c, int64_t h, int64_t w);

/* The whole of a (small) file as a malloc'd string, or NULL when it cannot be read. */
char *test_read_file(const char *path);

/* Capture what this process writes to stderr (fd 2) between test_stderr_begin and
 * test_stderr_end, which returns it as a malloc'd string (caller frees). Not nested. */
void test_stderr_begin(void);
char *test_stderr_end(void);

/* A module with these parameters (stride may be LC_STRIDE_UNSET); fails the test when the
 * constructor refuses them. Caller frees with lc_module_free. */
struct lc_module;
struct lc_module *test_avgpool(int64_t k, int64_t stride, int64_t padding, bool ceil_mode,
                               bool count_include_pad);
struct lc_module *test_lppool(double norm_type, int64_t k, int64_t stride, bool ceil_mode);

#endif
