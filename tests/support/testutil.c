#include "support/testutil.h"

#include "lucid/nn.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int close_enough(double got, double want, double rtol, double atol) {
    if (isnan(want)) return isnan(got);
    if (isinf(want)) return got == want;
    return fabs(got - want) <= atol + rtol * fabs(want);
}

void assert_values_close(const lc_tensor *got, const double *want, int64_t n, double rtol,
                         double atol) {
    assert_non_null(got);
    if (lc_tensor_numel(got) != n)
        fail_msg("element count %lld, expected %lld", (long long)lc_tensor_numel(got), (long long)n);
    for (int64_t i = 0; i < n; i++) {
        double g = lc_tensor_get(got, i);
        if (!close_enough(g, want[i], rtol, atol))
            fail_msg("element %lld: got %.9g, want %.9g (rtol %g, atol %g)", (long long)i, g,
                     want[i], rtol, atol);
    }
}

void assert_tensor_close(const lc_tensor *got, const lc_tensor *want, double rtol, double atol) {
    assert_non_null(got);
    assert_non_null(want);
    if (!lc_shape_equal(&got->shape, &want->shape)) {
        char a[96], b[96];
        fail_msg("shape %s, expected %s", lc_shape_str(&got->shape, a, sizeof a),
                 lc_shape_str(&want->shape, b, sizeof b));
    }
    int64_t n = lc_tensor_numel(want);
    for (int64_t i = 0; i < n; i++) {
        double g = lc_tensor_get(got, i), w = lc_tensor_get(want, i);
        if (!close_enough(g, w, rtol, atol))
            fail_msg("element %lld: got %.9g, want %.9g (rtol %g, atol %g)", (long long)i, g, w,
                     rtol, atol);
    }
}

test_rng test_rng_seeded(uint64_t seed) {
    test_rng r = {seed * 0x9E3779B97F4A7C15ull + 1};
    return r;
}

static uint64_t next(test_rng *r) {
    uint64_t x = r->state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return r->state = x;
}

double test_rng_uniform(test_rng *r, double lo, double hi) {
    return lo + (hi - lo) * ((double)(next(r) >> 11) / 9007199254740992.0);
}

/* In unsigned arithmetic, so that every range is valid ([0, INT64_MAX]'s count of values
 * overflows int64_t; the full range's is 2^64, which wraps to 0 and takes every draw as is);
 * for a range that fits, the same values as lo + draw % count. */
int64_t test_rng_int(test_rng *r, int64_t lo, int64_t hi) {
    uint64_t count = (uint64_t)hi - (uint64_t)lo + 1;
    uint64_t draw = next(r);
    return (int64_t)((uint64_t)lo + (count ? draw % count : draw));
}

lc_tensor *test_random_tensor(test_rng *r, lc_dtype dt, lc_shape shape, double scale) {
    lc_tensor *t = NULL;
    if (lc_tensor_new(dt, shape, &t) != LC_OK) fail_msg("tensor: %s", lc_last_error());
    int64_t n = lc_tensor_numel(t);
    for (int64_t i = 0; i < n; i++) {
        double v = 0;
        if (test_rng_int(r, 0, 9) != 0) /* about one in ten is an exact zero */
            v = scale * (test_rng_uniform(r, -1, 1) + test_rng_uniform(r, -1, 1)) / 2;
        lc_tensor_set(t, i, v);
    }
    return t;
}

const char *test_source_path(const char *relative) {
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", LUCID_SOURCE_DIR, relative);
    return buf;
}

lc_shape test_shape3(int64_t n, int64_t c, int64_t l) {
    int64_t d[] = {n, c, l};
    return lc_shape_make(3, d);
}

lc_shape test_shape4(int64_t n, int64_t c, int64_t h, int64_t w) {
    int64_t d[] = {n, c, h, w};
    return lc_shape_make(4, d);
}

lc_module *test_avgpool(int64_t k, int64_t stride, int64_t padding, bool ceil_mode,
                        bool count_include_pad) {
    lc_avgpool1d_params p = {k, stride, padding, ceil_mode, count_include_pad};
    lc_module *m = NULL;
    assert_ok(lc_avgpool1d_new(&p, &m));
    return m;
}

lc_module *test_lppool(double norm_type, int64_t k, int64_t stride, bool ceil_mode) {
    lc_lppool1d_params p = {norm_type, k, stride, ceil_mode};
    lc_module *m = NULL;
    assert_ok(lc_lppool1d_new(&p, &m));
    return m;
}

char *test_repeated_context(const char *msg) {
    for (const char *at = msg; at;) {
        const char *colon = strstr(at, ": ");
        if (!colon) break;
        size_t n = (size_t)(colon - at);
        if (n && !strncmp(colon + 2, at, n) && !strncmp(colon + 2 + n, ": ", 2)) return strndup(at, n);
        at = colon + 2;
    }
    return NULL;
}
