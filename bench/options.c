/* Parsing lucid-bench's options. Every error names the option and the value. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "options.h"

/* (16, 16, 4096): the convolution case's shape (its in_channels are 16; the pools run on it too);
 * (16, 64, 256, 256): the 2-D cases' */
static const int64_t DEFAULT_SHAPES[][4] = {{1, 1, 4, 0}, {16, 16, 4096, 0}, {8, 64, 4096, 0}, {16, 64, 65536, 0},
                                            {16, 64, 256, 256}};
#define MAX_ELEMENTS (1LL << 31) /* per tensor: 8 GB of float32 is beyond any sane run */

int bench_cores(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > BENCH_MAX_THREADS ? BENCH_MAX_THREADS : (int)n;
}

void bench_print_usage(FILE *out) {
    fprintf(out,
            "usage: lucid-bench [--shape N,C,L]... [--case NAME]... [--impl a,b,...] [--threads 1,2|all]\n"
            "                   [--json FILE]\n"
            "  --shape N,C,L   input shape, or N,C,H,W for the 2-D cases (repeatable; default\n"
            "                  1,1,4 16,16,4096 8,64,4096 16,64,65536 16,64,256,256)\n"
            "  --case NAME     avg_k4s4 avg_k3s1p1 lp2_k4s4 lp3_k4s4 lp2.5_k4s4 lp2_k4s2 lp2.7_k4s4\n"
            "                  avg_k64s64 lp2_k64s64 avg2d_k2s2 lp2_2d_k2s2 max2d_k3s2p1\n"
            "                  conv16x32_k3_avg2 seed_model (repeatable; default all)\n"
            "  --impl LIST     floor,memcpy,jit,interp,torch,onednn-ncw,onednn-blocked,onednn-reorder,\n"
            "                  onednn-conv (default all)\n"
            "  --threads LIST  thread counts, `all` = every core (default 1,all)\n"
            "  --json FILE     also write one JSON record per line (bench/README.md)\n"
            "  --version       print the version and the LLVM it was built with\n");
}

/* A positive decimal integer, the whole of [s, s + len). */
static bool parse_positive(const char *s, size_t len, int64_t *out) {
    if (len == 0 || len > 18) return false;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (s[i] - '0');
    }
    if (v < 1) return false;
    *out = v;
    return true;
}

/* N,C,L (1-D cases) or N,C,H,W (2-D cases). */
static int parse_shape(const char *v, bench_options *o, char *err, size_t n) {
    int64_t d[4] = {0, 0, 0, 0};
    const char *p = v;
    int count = 0;
    for (int i = 0; i < 4; i++) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if ((i < 2 && !end) || (i == 3 && end) || !parse_positive(p, len, &d[i])) {
            snprintf(err, n, "--shape %s: expected three positive integers N,C,L or four N,C,H,W", v);
            return -1;
        }
        count++;
        if (!end) break;
        p = end + 1;
    }
    int64_t plane = count == 4 ? d[2] * d[3] : d[2];
    if ((count == 4 && d[2] > MAX_ELEMENTS / d[3]) || d[0] > MAX_ELEMENTS / d[1] ||
        d[0] * d[1] > MAX_ELEMENTS / plane) {
        snprintf(err, n, "--shape %s: more than %lld elements", v, MAX_ELEMENTS);
        return -1;
    }
    if (o->n_shapes == BENCH_MAX_SHAPES) {
        snprintf(err, n, "--shape %s: at most %d shapes", v, BENCH_MAX_SHAPES);
        return -1;
    }
    memcpy(o->shapes[o->n_shapes++], d, sizeof d);
    return 0;
}

static int parse_case(const char *v, bench_options *o, char *err, size_t n) {
    const bench_case *bc = bench_case_find(v);
    if (!bc) {
        int k = snprintf(err, n, "--case %s: unknown case (known:", v);
        for (int i = 0; i < bench_case_count() && k > 0 && (size_t)k < n; i++)
            k += snprintf(err + k, n - (size_t)k, " %s", bench_case_at(i)->name);
        if (k > 0 && (size_t)k < n) snprintf(err + k, n - (size_t)k, ")");
        return -1;
    }
    for (int i = 0; i < o->n_cases; i++)
        if (o->cases[i] == bc) return 0;
    o->cases[o->n_cases++] = bc; /* at most one per case: fits BENCH_MAX_CASES */
    return 0;
}

static int parse_impls(const char *v, bool *seen_impl, bench_options *o, char *err, size_t n) {
    if (!*seen_impl) memset(o->impl, 0, sizeof o->impl);
    *seen_impl = true;
    const char *p = v;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        bench_impl_id id;
        if (!bench_impl_from_name(p, len, &id)) {
            snprintf(err, n, "--impl %s: unknown impl \"%.*s\" (known: floor, memcpy, jit, interp, torch, "
                     "onednn-ncw, onednn-blocked, onednn-reorder, onednn-conv)", v, (int)len, p);
            return -1;
        }
        o->impl[id] = true;
        if (!end) return 0;
        p = end + 1;
    }
}

static int add_threads(bench_options *o, int t) {
    for (int i = 0; i < o->n_threads; i++)
        if (o->threads[i] == t) return 0;
    if (o->n_threads == BENCH_MAX_THREADS) return -1;
    o->threads[o->n_threads++] = t;
    return 0;
}

static int parse_threads(const char *v, bench_options *o, char *err, size_t n) {
    const char *p = v;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        int64_t t;
        if (len == 3 && strncmp(p, "all", 3) == 0) {
            t = bench_cores();
        } else if (!parse_positive(p, len, &t) || t > BENCH_MAX_THREADS) {
            snprintf(err, n, "--threads %s: \"%.*s\" is not a thread count from 1 to %d or `all`", v, (int)len, p,
                     BENCH_MAX_THREADS);
            return -1;
        }
        add_threads(o, (int)t);
        if (!end) return 0;
        p = end + 1;
    }
}

int bench_parse_options(int argc, char **argv, bench_options *o, char *err, size_t n) {
    memset(o, 0, sizeof *o);
    for (int i = 0; i < BENCH_IMPL_COUNT; i++) o->impl[i] = true;
    bool seen_impl = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            o->help = true;
            return 0;
        }
        if (strcmp(a, "--version") == 0) {
            o->version = true;
            return 0;
        }
        static const char *const takes_value[] = {"--shape", "--case", "--impl", "--threads", "--json"};
        const char *name = NULL, *value = NULL;
        for (size_t k = 0; k < sizeof takes_value / sizeof takes_value[0]; k++) {
            size_t len = strlen(takes_value[k]);
            if (strcmp(a, takes_value[k]) == 0) {
                name = takes_value[k];
                if (i + 1 >= argc) {
                    snprintf(err, n, "%s needs a value", name);
                    return -1;
                }
                value = argv[++i];
            } else if (strncmp(a, takes_value[k], len) == 0 && a[len] == '=') {
                name = takes_value[k];
                value = a + len + 1;
            }
            if (name) break;
        }
        if (!name) {
            snprintf(err, n, "%s: unknown %s (see --help)", a, a[0] == '-' ? "option" : "argument");
            return -1;
        }
        int rc = 0;
        if (strcmp(name, "--shape") == 0)
            rc = parse_shape(value, o, err, n);
        else if (strcmp(name, "--case") == 0)
            rc = parse_case(value, o, err, n);
        else if (strcmp(name, "--impl") == 0)
            rc = parse_impls(value, &seen_impl, o, err, n);
        else if (strcmp(name, "--threads") == 0)
            rc = parse_threads(value, o, err, n);
        else if (*value == '\0') {
            snprintf(err, n, "--json needs a file name");
            rc = -1;
        } else
            o->json = value;
        if (rc != 0) return -1;
    }
    if (o->n_shapes == 0) {
        o->n_shapes = (int)(sizeof DEFAULT_SHAPES / sizeof DEFAULT_SHAPES[0]);
        memcpy(o->shapes, DEFAULT_SHAPES, sizeof DEFAULT_SHAPES);
    }
    if (o->n_cases == 0)
        for (int i = 0; i < bench_case_count(); i++) o->cases[o->n_cases++] = bench_case_at(i);
    if (o->n_threads == 0) {
        add_threads(o, 1);
        add_threads(o, bench_cores());
    }
    return 0;
}
