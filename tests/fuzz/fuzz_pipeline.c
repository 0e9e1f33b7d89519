/* Fuzz target: random module pipelines (AvgPool1d / LPPool1d, alone or in a Sequential) with
 * random parameters and input shapes, valid and invalid, checked against an independent
 * float64 reference written here straight from docs/semantics.md.
 *
 *  - Constructors accept exactly the parameters the semantics call valid; rejections name the module.
 *  - lc_module_output_shape and lc_module_forward agree with the reference geometry (L_out,
 *    L_out < 1 is an error) and with each other; zero-size N or C give zero-size results.
 *  - The interpreter's values equal the reference computed as the semantics demand (large p
 *    scaled by the window max): its wide exponent (docs/pipeline.md) keeps |x|^p from overflowing. Two
 *    kinds of p are past what it can hold, and there it is held to the plain graph computed
 *    in float64 instead (it rounds as that does): p > 1e15, where |x|^p leaves even its
 *    exponent range (2^±2^61), and p < 0.01, where |x|^p rounds to 1 in a 53-bit mantissa
 *    and (Σ|x|^p)^(1/p) turns that rounding into a factor of up to 2^(k/p·2^-53).
 *  - The JIT (include/lucid/program.h) equals the reference computed as the semantics demand (large p
 *    scaled by the window max; NaN and inf per IEEE) within the JIT's tolerance
 *    (docs/pipeline.md), and
 *    is bit-identical with one thread and with all of them. Set LUCID_FUZZ_NO_JIT=1 to check
 *    the interpreter alone.
 *
 * Compile cost: each case compiles once (the one-thread run is the same structure and hits the
 * compile cache). LUCID_FUZZ_OPT_LEVEL=0..3 sets the LLVM opt level of those compiles (default
 * 3, what lc_compile uses; a lower level did not make these compiles cheaper, see
 * tests/fuzz/README.md; the semantics and tolerances are the same at every level).
 * LUCID_FUZZ_STATS=1 prints at exit (and every 256 cases) how many cases reached the JIT
 * comparison and how many compiles that took.
 *
 * Input bytes: [n_modules][per module: kind, mode, 4 parameter bytes][shape: 4 bytes]
 * [dtype/value mode][value seed...]. */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>

#include "fuzz_common.h"
#include "fuzz_values.h"
#include "lucid/ir.h"
#include "lucid/nn.h"
#include "lucid/runtime.h"
#ifdef LUCID_FUZZ_JIT
#include "lucid/program.h"
#endif

enum { MAX_MODULES = 3, RUN_LIMIT = 1 << 15 };

typedef struct mod_spec {
    bool lp;
    int64_t k, s, p; /* s may be LC_STRIDE_UNSET */
    bool ceil, cip;
    double norm;
} mod_spec;

/* ---- drawing a case from the bytes ---- */

static const int64_t WILD_INTS[] = {0, -1, -2, INT64_MIN, INT64_MIN + 1, INT64_MAX, INT64_MAX - 1,
                                    (int64_t)1 << 31, (int64_t)1 << 32, (int64_t)1 << 62, 1000000};
static const double NORMS[] = {1, 2, 3, 0.5, 1.5, 4, 7.25, 60, 0.25, 1.0 / 3, 100};
static const double WILD_NORMS[] = {0, -0.0, -1, -2.5, NAN, INFINITY, -INFINITY, 4.9e-324,
                                    1e-300, DBL_MAX, 1e6};

static int64_t draw_int(fuzz_bytes *b, bool wild, int64_t lo, int64_t span) {
    unsigned v = fuzz_u8(b);
    if (wild && (v & 0x80)) return WILD_INTS[(v & 0x7f) % (sizeof WILD_INTS / sizeof WILD_INTS[0])];
    return lo + (int64_t)(v % (unsigned)span);
}

static mod_spec draw_module(fuzz_bytes *b) {
    mod_spec m = {0};
    unsigned kind = fuzz_u8(b), mode = fuzz_u8(b);
    bool wild = (mode & 7) == 7; /* one module in eight gets boundary and invalid values */
    m.lp = kind & 1;
    m.ceil = kind & 2;
    m.cip = !(kind & 4);
    m.k = draw_int(b, wild, 1, 6);
    unsigned sv = fuzz_u8(b);
    m.s = (sv & 3) == 0 ? LC_STRIDE_UNSET : 0;
    if (m.s == 0) {
        fuzz_bytes one = {(const uint8_t[]){(uint8_t)(sv >> 2)}, 1};
        m.s = draw_int(&one, wild, 1, 5);
    }
    unsigned pv = fuzz_u8(b);
    if (wild && (pv & 0x80))
        m.p = WILD_INTS[(pv & 0x7f) % (sizeof WILD_INTS / sizeof WILD_INTS[0])];
    else
        m.p = m.k > 0 && m.k < 100 ? (int64_t)(pv % (unsigned)(m.k / 2 + 1)) : 0;
    unsigned nv = fuzz_u8(b);
    if (wild && (nv & 0x80))
        m.norm = WILD_NORMS[(nv & 0x7f) % (sizeof WILD_NORMS / sizeof WILD_NORMS[0])];
    else
        m.norm = NORMS[nv % (sizeof NORMS / sizeof NORMS[0])];
    if (m.lp) m.p = 0;
    return m;
}

/* ---- the reference (docs/semantics.md) ---- */

static bool ref_valid(const mod_spec *m) {
    int64_t s = m->s == LC_STRIDE_UNSET ? m->k : m->s;
    if (m->k < 1 || s < 1) return false;
    /* The constructor also refuses a norm_type so small that 1/p overflows (the root's
     * exponent must be finite). */
    if (m->lp) return isfinite(m->norm) && m->norm > 0 && isfinite(1.0 / m->norm);
    return m->p >= 0 && m->p <= m->k / 2;
}

static int64_t stride_of(const mod_spec *m) { return m->s == LC_STRIDE_UNSET ? m->k : m->s; }

/* L_out per docs/semantics.md, or -1 when it would be < 1 (or not fit in int64). */
static int64_t ref_out_length(const mod_spec *m, int64_t L) {
    __int128 k = m->k, s = stride_of(m), p = m->p, span = (__int128)L + 2 * p - k, out;
    /* An empty input has no window with a real element, in either mode (pool_geometry.c, as
     * PyTorch): with L = 0 and 2p >= k the windows would hold padding alone. */
    if (L == 0) return -1;
    if (!m->ceil) {
        if (span < 0) return -1; /* floor((negative) / s) + 1 <= 0 */
        out = span / s + 1;
    } else {
        /* ceil(span / s) + 1 (for span < 0 too: a kernel longer than the padded input keeps
         * one partial window, as in PyTorch), then drop a last window starting past the input
         * and the left padding. */
        out = (span >= 0 ? (span + s - 1) / s : -(-span / s)) + 1;
        if ((out - 1) * s >= (__int128)L + p) out--;
    }
    if (out < 1 || out > INT64_MAX) return -1;
    return (int64_t)out;
}

/* One module over rows of length L (in) into rows of length Lo (out); `stable` evaluates LP
 * as docs/semantics.md demands (scaled by the window max), otherwise as the graph is written. */
static void ref_forward(const mod_spec *m, bool stable, int64_t rows, int64_t L, int64_t Lo,
                        const double *in, double *out) {
    int64_t k = m->k, s = stride_of(m), pad = m->p;
    for (int64_t r = 0; r < rows; r++) {
        const double *x = in + r * L;
        for (int64_t o = 0; o < Lo; o++) {
            int64_t start = o * s - pad, stop = start + k;
            int64_t lo = start < 0 ? 0 : start, hi = stop < L ? stop : L;
            double y;
            if (!m->lp) {
                double sum = 0;
                for (int64_t j = lo; j < hi; j++) sum += x[j];
                int64_t end = stop < L + pad ? stop : L + pad;
                double div = m->cip ? (double)(end - start) : (double)(hi - lo);
                y = sum / div;
            } else if (!stable) {
                double sum = 0;
                for (int64_t j = lo; j < hi; j++) sum += pow(fabs(x[j]), m->norm);
                y = pow(sum, 1.0 / m->norm);
            } else {
                double mx = 0;
                bool nan = false;
                for (int64_t j = lo; j < hi; j++) {
                    if (isnan(x[j])) nan = true;
                    else if (fabs(x[j]) > mx) mx = fabs(x[j]);
                }
                if (nan) y = NAN;
                else if (isinf(mx)) y = INFINITY;
                else if (mx == 0) y = 0;
                else {
                    double sum = 0;
                    for (int64_t j = lo; j < hi; j++) sum += pow(fabs(x[j]) / mx, m->norm);
                    y = mx * pow(sum, 1.0 / m->norm);
                }
            }
            out[r * Lo + o] = y;
        }
    }
}

/* ---- the case ---- */

typedef struct fuzz_case {
    int n;
    mod_spec mods[MAX_MODULES];
    bool wrap;          /* a single module inside a Sequential */
    lc_shape shape;
    lc_dtype dtype;
    double scale;
    bool specials;
    uint64_t seed;
} fuzz_case;

static fuzz_case draw_case(const uint8_t *data, size_t size) {
    fuzz_bytes b = {data, size};
    fuzz_case c = {0};
    unsigned head = fuzz_u8(&b);
    c.n = 1 + (int)(head % MAX_MODULES);
    c.wrap = head & 0x80;
    for (int i = 0; i < c.n; i++) c.mods[i] = draw_module(&b);
    unsigned rank_byte = fuzz_u8(&b);
    static const int ranks[] = {3, 3, 3, 2, 2, 1, 4, 0};
    c.shape.rank = ranks[rank_byte & 7];
    bool wild = (rank_byte & 0xf8) == 0xf8;
    for (int d = 0; d < c.shape.rank; d++) {
        bool last = d == c.shape.rank - 1;
        unsigned v = fuzz_u8(&b);
        c.shape.dim[d] = wild && (v & 0x80) ? WILD_INTS[(v & 0x7f) % (sizeof WILD_INTS / sizeof WILD_INTS[0])]
                         : last ? (int64_t)(v % 48) : (int64_t)(v % 4);
    }
    unsigned mode = fuzz_u8(&b);
    c.dtype = mode & 1 ? LC_F64 : LC_F32;
    static const double scales[] = {4, 4, 1, 100, 1e-3, 1e4, 0.5, 30};
    c.scale = scales[(mode >> 1) & 7];
    c.specials = mode & 0x10;
    c.seed = 0x2545f4914f6cdd1dull;
    while (b.n) c.seed = c.seed * 1099511628211ull ^ fuzz_u8(&b);
    return c;
}

static lc_status build_module(const mod_spec *s, lc_module **out) {
    if (s->lp) {
        lc_lppool1d_params p = lc_lppool1d_defaults(s->norm, s->k);
        p.stride = s->s;
        p.ceil_mode = s->ceil;
        return lc_lppool1d_new(&p, out);
    }
    lc_avgpool1d_params p = lc_avgpool1d_defaults(s->k);
    p.stride = s->s;
    p.padding = s->p;
    p.ceil_mode = s->ceil;
    p.count_include_pad = s->cip;
    return lc_avgpool1d_new(&p, out);
}

/* The module for the case, or NULL when a constructor (rightly) refused a parameter. */
static lc_module *build(const fuzz_case *c) {
    lc_module *mods[MAX_MODULES] = {0};
    for (int i = 0; i < c->n; i++) {
        lc_clear_error();
        lc_status st = build_module(&c->mods[i], &mods[i]);
        bool valid = ref_valid(&c->mods[i]);
        FUZZ_CHECK((st == LC_OK) == valid, "module %d: constructor says %s, the semantics say %s", i,
                   lc_status_str(st), valid ? "valid" : "invalid");
        if (st != LC_OK) {
            FUZZ_CHECK(st == LC_ERR_INVALID_ARG && mods[i] == NULL, "bad rejection");
            FUZZ_CHECK(strstr(lc_last_error(), c->mods[i].lp ? "LPPool1d" : "AvgPool1d"),
                       "rejection does not name the module");
            for (int j = 0; j < i; j++) lc_module_free(mods[j]);
            return NULL;
        }
    }
    if (c->n == 1 && !c->wrap) return mods[0];
    lc_module *seq = NULL;
    FUZZ_CHECK(lc_sequential_new(&seq) == LC_OK, "lc_sequential_new");
    for (int i = 0; i < c->n; i++)
        FUZZ_CHECK(lc_sequential_append(seq, mods[i]) == LC_OK, "lc_sequential_append");
    return seq;
}

/* Reference output lengths through every module: INVALID when some stage is (docs/semantics.md); TOO_BIG
 * when a tensor the graph needs (the input, or a stage's windows: rows x L_out x k) has more
 * elements than int64 holds, or a stage's padded row is longer, which Lucid must refuse; EITHER when such a product overflows
 * only if its zero extents are left out (a zero-size tensor with huge extents: Lucid may
 * accept it, giving a zero-size result, or refuse it). */
enum { INVALID, VALID, TOO_BIG, EITHER };

/* a * b for a, b >= 0, saturating at 2^100 (far above any int64 count). */
static __int128 mul_sat(__int128 a, __int128 b) {
    const __int128 cap = (__int128)1 << 100;
    if (a == 0 || b == 0) return 0;
    if (a > cap / b) return cap;
    return a * b;
}

static int ref_shapes(const fuzz_case *c, int64_t lengths[MAX_MODULES + 1]) {
    if (c->shape.rank != 2 && c->shape.rank != 3) return INVALID;
    for (int d = 0; d < c->shape.rank; d++)
        if (c->shape.dim[d] < 0) return INVALID;
    __int128 rows = 1, nonzero_rows = 1;
    for (int d = 0; d + 1 < c->shape.rank; d++) {
        rows = mul_sat(rows, c->shape.dim[d]);
        if (c->shape.dim[d] > 0) nonzero_rows = mul_sat(nonzero_rows, c->shape.dim[d]);
    }
    lengths[0] = c->shape.dim[c->shape.rank - 1];
    bool zero = rows == 0 || lengths[0] == 0;
    __int128 worst = mul_sat(nonzero_rows, lengths[0] ? lengths[0] : 1);
    bool padded_too_long = false;
    for (int i = 0; i < c->n; i++) {
        lengths[i + 1] = ref_out_length(&c->mods[i], lengths[i]);
        if (lengths[i + 1] < 0) return INVALID;
        /* the padded row, L + p + the padding the last window reaches into (at least p),
         * must fit int64 (docs/semantics.md, Output length) */
        const mod_spec *m = &c->mods[i];
        __int128 reach = (__int128)(lengths[i + 1] - 1) * stride_of(m) + m->k - lengths[i] - m->p;
        if ((__int128)lengths[i] + m->p + (reach > m->p ? reach : m->p) > INT64_MAX) padded_too_long = true;
        __int128 w = mul_sat(mul_sat(nonzero_rows, lengths[i + 1]), c->mods[i].k);
        if (w > worst) worst = w;
    }
    if (worst <= INT64_MAX && !padded_too_long) return VALID;
    return zero ? EITHER : TOO_BIG;
}

/* Cases small enough to run: the work is rows × L_out × the real elements of a window, at
 * most min(k, L), whatever k is. Kernels of any size run (2^40 or 2^63 - 2 slots over a
 * few elements included): the engines walk only the slots that hold data, and a case that
 * walks them all instead is a hang, which libFuzzer's -timeout reports as a finding. */
static bool fits_run_limit(const fuzz_case *c, const int64_t *lengths) {
    __int128 rows = 1;
    for (int d = 0; d + 1 < c->shape.rank; d++) rows = mul_sat(rows, c->shape.dim[d]);
    if (rows == 0) return true; /* zero-size: nothing to compute, however long the rows */
    if (rows > RUN_LIMIT) return false;
    for (int i = 0; i <= c->n; i++) {
        int64_t k = i < c->n ? c->mods[i].k : 1, real = k < lengths[i] ? k : lengths[i];
        if (lengths[i] > RUN_LIMIT || rows * (lengths[i] + 1) * (real + 1) > 4 * RUN_LIMIT) return false;
        if (i < c->n && rows * (lengths[i + 1] + 1) * (real + 1) > 4 * RUN_LIMIT) return false;
    }
    return true;
}

/* sum_err, when given, is the per-element error a float32 sum may make where a window
 * cancels: the documented tolerance is rtol/atol or that bound, whichever is larger. */
static void compare_within(const char *what, const lc_tensor *got, const double *want, const double *sum_err,
                           int64_t n, double rtol, double atol, const fuzz_case *c) {
    for (int64_t i = 0; i < n; i++) {
        double w = c->dtype == LC_F32 ? (double)(float)want[i] : want[i];
        double g = lc_tensor_get(got, i);
        bool ok = fuzz_close(g, w, rtol, atol) ||
                  (sum_err && isfinite(g) && isfinite(w) && fabs(g - w) <= sum_err[i]);
        FUZZ_CHECK(ok, "%s: element %" PRId64 " is %.9g, want %.9g (%s%s%.3g)", what, i, g, w,
                   lc_dtype_name(c->dtype), sum_err ? "; float32 sum error bound " : "",
                   sum_err ? sum_err[i] : 0.0);
    }
}
static void compare(const char *what, const lc_tensor *got, const double *want, int64_t n,
                    double rtol, double atol, const fuzz_case *c) {
    compare_within(what, got, want, NULL, n, rtol, atol, c);
}

#ifdef LUCID_FUZZ_JIT
static long g_jit_cases;            /* cases compared JIT against the reference */
static long g_compiles, g_cache_hits; /* counted here: the library clears its own at exit */

static bool env_flag(const char *name) {
    const char *v = getenv(name);
    return v && *v && *v != '0';
}

static void print_stats(void) {
    fprintf(stderr, "pipeline: %ld cases compared on the JIT; %ld compiles, %ld compile-cache hits\n", g_jit_cases,
            g_compiles, g_cache_hits);
}

/* LUCID_FUZZ_OPT_LEVEL, read once: 0..3, else 3. */
static int fuzz_opt_level(void) {
    static int level = -1;
    if (level < 0) {
        const char *v = getenv("LUCID_FUZZ_OPT_LEVEL");
        level = v && v[0] >= '0' && v[0] <= '3' && !v[1] ? v[0] - '0' : 3;
        if (v && level == 3 && strcmp(v, "3") != 0)
            fprintf(stderr, "fuzz_pipeline: LUCID_FUZZ_OPT_LEVEL must be 0..3, got '%s'; using 3\n", v);
        if (env_flag("LUCID_FUZZ_STATS")) atexit(print_stats);
    }
    return level;
}

static lc_tensor *run_jit(const lc_graph *g, const lc_tensor *x, int threads) {
    lc_compile_options o = lc_compile_options_default();
    o.threads = threads;
    o.opt_level = fuzz_opt_level();
    lc_program *p = NULL;
    lc_clear_error();
    lc_cache_stats before = lc_compile_cache_stats();
    lc_status st = lc_compile(g, &o, &p);
    FUZZ_CHECK(st == LC_OK, "the JIT cannot compile a graph the interpreter runs");
    lc_cache_stats after = lc_compile_cache_stats();
    g_compiles += after.misses - before.misses;
    g_cache_hits += after.hits - before.hits;
    lc_tensor *y = NULL;
    st = lc_program_run(p, (const lc_tensor *const[]){x}, 1, &y, 1);
    FUZZ_CHECK(st == LC_OK, "the JIT cannot run a graph the interpreter runs");
    lc_program_free(p);
    return y;
}
#endif

/* Where the interpreter's wide exponent cannot hold an LP stage's powers exactly (p beyond
 * 1e15, or below 0.01), it evaluates the stage as written, as the naive reference does. */
static bool beyond_wide(const mod_spec *m) { return m->lp && (m->norm > 1e15 || m->norm < 0.01); }

/* How reference_chain evaluates each stage: every stage as written, every stage stable, or
 * each stage as the interpreter does (stable, but as written beyond its wide exponent). */
typedef enum { REF_NAIVE, REF_STABLE, REF_INTERP } ref_mode;

/* The pipeline's stages applied one after another to x0 (rows x lengths[0] values), in
 * float64 by ref_forward, each stage as `mode` says; the caller frees the result. */
static double *reference_chain(const fuzz_case *c, ref_mode mode, int64_t rows, const int64_t *lengths,
                               const double *x0) {
    double *cur = malloc((size_t)(rows * lengths[0] + 1) * sizeof *cur);
    FUZZ_CHECK(cur, "malloc");
    memcpy(cur, x0, (size_t)(rows * lengths[0]) * sizeof *cur);
    for (int i = 0; i < c->n; i++) {
        double *next = malloc((size_t)(rows * lengths[i + 1] + 1) * sizeof *next);
        FUZZ_CHECK(next, "malloc");
        bool stable = mode == REF_STABLE || (mode == REF_INTERP && !beyond_wide(&c->mods[i]));
        ref_forward(&c->mods[i], stable, rows, lengths[i], lengths[i + 1], cur, next);
        free(cur);
        cur = next;
    }
    return cur;
}

#ifdef LUCID_FUZZ_JIT
/* The float32 JIT sums windows in float32, so where a window cancels its error is bounded by
 * the magnitudes it summed, not by the result: recursive summation of k terms errs by at most
 * about k·eps·Σ|terms| (Higham, Accuracy and Stability of Numerical Algorithms, chapter 4),
 * and each stage adds its own. The bound per output is eps·Σ_stages (k_s + 2) times the chain
 * evaluated on |x| (a mean of magnitudes where the graph takes a mean; LP stages take |x|
 * already); the caller frees it. */
static double *float32_sum_error(const fuzz_case *c, int64_t rows, const int64_t *lengths, const double *x0) {
    int64_t n_in = rows * lengths[0], n_out = rows * lengths[c->n];
    double *abs0 = malloc((size_t)(n_in + 1) * sizeof *abs0);
    FUZZ_CHECK(abs0, "malloc");
    for (int64_t i = 0; i < n_in; i++) abs0[i] = fabs(x0[i]);
    double *bound = reference_chain(c, REF_STABLE, rows, lengths, abs0);
    free(abs0);
    double terms = 0;
    /* Padding adds zeros, which add no error: the data terms are at most min(k, L). */
    for (int i = 0; i < c->n; i++) terms += (double)(c->mods[i].k < lengths[i] ? c->mods[i].k : lengths[i]) + 2;
    for (int64_t i = 0; i < n_out; i++) bound[i] *= terms * FLT_EPSILON;
    return bound;
}
#endif

static void run_case(const fuzz_case *c, const lc_graph *g, const int64_t *lengths) {
    lc_tensor *x = NULL;
    lc_status st = lc_tensor_new(c->dtype, c->shape, &x);
    FUZZ_CHECK(st == LC_OK, "lc_tensor_new"); /* zero-size with huge extents included */
    fuzz_fill(x, c->seed, c->scale, c->specials);
    int64_t rows = 1;
    for (int d = 0; d + 1 < c->shape.rank; d++) rows *= c->shape.dim[d];

    /* Both references, stage by stage in float64. */
    int64_t n_in = rows * lengths[0], n_out = rows * lengths[c->n];
    double *x0 = malloc((size_t)(n_in + 1) * sizeof *x0);
    FUZZ_CHECK(x0, "malloc");
    for (int64_t i = 0; i < n_in; i++) x0[i] = lc_tensor_get(x, i);
    double *as_interp = reference_chain(c, REF_INTERP, rows, lengths, x0);
    double *stable = reference_chain(c, REF_STABLE, rows, lengths, x0);

    lc_tensor *y = NULL;
    lc_clear_error();
    st = lc_interp_run(g, (const lc_tensor *const[]){x}, 1, &y, 1);
    FUZZ_CHECK(st == LC_OK, "the interpreter failed on a valid small case");
    FUZZ_CHECK(lc_tensor_numel(y) == n_out && y->dtype == c->dtype, "interp output shape/dtype");
    /* stage by stage: a chain may hold one stage beyond the wide exponent after another that
     * is exact only with it (LPPool1d(100) of values near 1e4, then LPPool1d(1e-300)) */
    compare("interp vs reference", y, as_interp, n_out, c->dtype == LC_F32 ? 1e-6 : 1e-12, 1e-300, c);

#ifdef LUCID_FUZZ_JIT
    const char *no_jit = getenv("LUCID_FUZZ_NO_JIT");
    bool skip_jit = no_jit && *no_jit && *no_jit != '0';
    if (!skip_jit) {
        double *sum_err = c->dtype == LC_F32 ? float32_sum_error(c, rows, lengths, x0) : NULL;
        lc_tensor *yj = run_jit(g, x, 0), *y1 = run_jit(g, x, 1);
        /* Also every 256 cases: a finding aborts the process, and the exit-time line with it. */
        if (++g_jit_cases % 256 == 0 && env_flag("LUCID_FUZZ_STATS")) print_stats();
        FUZZ_CHECK(lc_shape_equal(&yj->shape, &y->shape) && yj->dtype == y->dtype, "JIT shape/dtype");
        if (c->dtype == LC_F32)
            compare_within("JIT vs reference", yj, stable, sum_err, n_out, 1e-4, 1e-6, c);
        else
            compare("JIT vs reference", yj, stable, n_out, 1e-9, 1e-12, c);
        FUZZ_CHECK(memcmp(yj->data, y1->data, lc_tensor_nbytes(yj)) == 0,
                   "JIT results differ between 1 thread and the pool");
        lc_tensor_free(yj);
        lc_tensor_free(y1);
        free(sum_err);
    }
#endif
    lc_tensor_free(y);
    lc_tensor_free(x);
    free(x0);
    free(as_interp);
    free(stable);
}

/* AvgPool1d's graph holds one divisor per output position (a constant of L_out doubles) when
 * the divisors differ: the last window overhangs L + p (ceil mode), or count_include_pad is off
 * with padding (avgpool1d.c; otherwise it is a mean and allocates nothing). Merely building
 * such a graph for L_out in the billions allocates gigabytes that the machine may well give:
 * valid, but not what a fuzz run can afford. Such cases are drawn but not built. From 2^40
 * on, the allocation is one no machine gives, which must fail cleanly. */
static bool needs_divisors(const mod_spec *m, int64_t length, int64_t out_length) {
    __int128 last_end = (__int128)(out_length - 1) * stride_of(m) - m->p + m->k;
    return last_end > (__int128)length + m->p || (!m->cip && m->p > 0);
}

static bool affordable(const fuzz_case *c, const int64_t *lengths) {
    for (int i = 0; i < c->n && lengths[i + 1] >= 0; i++) {
        int64_t out = lengths[i + 1];
        if (!c->mods[i].lp && out > ((int64_t)1 << 22) && out < ((int64_t)1 << 40) &&
            needs_divisors(&c->mods[i], lengths[i], out))
            return false;
    }
    return true;
}

/* LUCID_FUZZ_VERBOSE=1 prints each case (for reports and reproducers). */
static void describe(const fuzz_case *c) {
    const char *v = getenv("LUCID_FUZZ_VERBOSE");
    if (!v || !*v || *v == '0') return;
    fprintf(stderr, "case: %s(", c->n > 1 || c->wrap ? "Sequential" : "");
    for (int i = 0; i < c->n; i++) {
        const mod_spec *m = &c->mods[i];
        char s[32];
        if (m->s == LC_STRIDE_UNSET) snprintf(s, sizeof s, "None");
        else snprintf(s, sizeof s, "%" PRId64, m->s);
        if (m->lp)
            fprintf(stderr, "%sLPPool1d(%.17g, %" PRId64 ", %s, ceil_mode=%d)", i ? ", " : "",
                    m->norm, m->k, s, m->ceil);
        else
            fprintf(stderr, "%sAvgPool1d(%" PRId64 ", %s, %" PRId64 ", ceil_mode=%d, count_include_pad=%d)",
                    i ? ", " : "", m->k, s, m->p, m->ceil, m->cip);
    }
    char sh[128];
    fprintf(stderr, ") on %s%s, values scale %g%s\n", lc_dtype_name(c->dtype),
            lc_shape_str(&c->shape, sh, sizeof sh), c->scale, c->specials ? " with NaN/inf" : "");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_case c = draw_case(data, size);
    describe(&c);
    lc_module *m = build(&c);
    if (!m) return 0;

    int64_t lengths[MAX_MODULES + 1] = {0};
    int verdict = ref_shapes(&c, lengths);
    if (!affordable(&c, lengths)) {
        lc_module_free(m);
        return 0;
    }
    lc_shape out;
    lc_clear_error();
    lc_status st = lc_module_output_shape(m, c.shape, &out);
    if (st != LC_OK) FUZZ_CHECK_FAILURE(st, "lc_module_output_shape");

    lc_graph *g = NULL;
    FUZZ_CHECK(lc_graph_new(&g) == LC_OK, "lc_graph_new");
    int xi, yi;
    lc_clear_error();
    lc_status st_in = lc_input(g, "x", c.dtype, c.shape, &xi);
    lc_status st_fw = LC_ERR_SHAPE;
    if (st_in != LC_OK) {
        FUZZ_CHECK_FAILURE(st_in, "lc_input");
    } else {
        lc_clear_error();
        st_fw = lc_module_forward(m, g, xi, &yi);
        if (st_fw != LC_OK) FUZZ_CHECK_FAILURE(st_fw, "lc_module_forward");
    }
    FUZZ_CHECK((st_fw == LC_OK) == (st == LC_OK), "output_shape says %s but forward %s",
               lc_status_str(st), lc_status_str(st_fw));
    if (st == LC_OK && st_fw == LC_OK)
        FUZZ_CHECK(lc_shape_equal(&lc_graph_node(g, yi)->shape, &out), "forward vs output_shape");

    /* Refusing an allocation the machine cannot give is always a clean outcome. */
    if (st == LC_ERR_NOMEM) verdict = EITHER;
    if (verdict == VALID) {
        FUZZ_CHECK(st == LC_OK, "the semantics give output length %" PRId64 " but Lucid rejects it",
                   lengths[c.n]);
        FUZZ_CHECK(out.rank == c.shape.rank && out.dim[out.rank - 1] == lengths[c.n],
                   "output length %" PRId64 ", want %" PRId64, out.dim[out.rank - 1], lengths[c.n]);
        for (int d = 0; d + 1 < out.rank; d++)
            FUZZ_CHECK(out.dim[d] == c.shape.dim[d], "batch/channel extents changed");
        FUZZ_CHECK(lc_graph_add_output(g, yi) == LC_OK, "lc_graph_add_output");
        if (fits_run_limit(&c, lengths)) run_case(&c, g, lengths);
    } else if (verdict != EITHER) {
        FUZZ_CHECK(st != LC_OK, "the semantics say the input shape is %s but Lucid accepts it",
                   verdict == INVALID ? "invalid" : "too large for int64 element counts");
    }
    lc_graph_free(g);
    lc_module_free(m);
    return 0;
}
