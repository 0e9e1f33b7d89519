/* The benchmark cases, their configurations (module, shapes, rotated buffers) and a float64
 * reference for checking each implementation's outputs on a few rows. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "lucid/status.h"

static const bench_case CASES[] = {
    {"avg_k4s4", false, 0, 4, 4, 0, false},
    {"avg_k3s1p1", false, 0, 3, 1, 1, false},
    {"lp2_k4s4", true, 2.0, 4, 4, 0, false},
    {"lp3_k4s4", true, 3.0, 4, 4, 0, false},
    {"lp2.5_k4s4", true, 2.5, 4, 4, 0, false},
    {"lp2_k4s2", true, 2.0, 4, 2, 0, false},
    /* windows longer than codegen unrolls (LC_UNROLL_MAX): vector partial sums */
    {"avg_k64s64", false, 0, 64, 64, 0, false},
    {"lp2_k64s64", true, 2.0, 64, 64, 0, false},
    /* 2-D: the ResNet stem's pool, MaxPool2d(3, 2, 1), on N,C,H,W shapes */
    {"max2d_k3s2p1", false, 0, 3, 2, 1, true},
};

/* Compile-only pipelines: lucidc demo's model, AvgPool1d(3, 1, 1) then LPPool1d(2, 4), whose
 * forward+backward compile the demo reports. */
static const bench_compile_case COMPILE_CASES[] = {
    {"demo_avg_lp", "AvgPool1d(3, 1, 1)\nLPPool1d(2, 4)\n", 4},
};

int bench_compile_case_count(void) { return (int)(sizeof COMPILE_CASES / sizeof COMPILE_CASES[0]); }
const bench_compile_case *bench_compile_case_at(int i) { return &COMPILE_CASES[i]; }

int bench_case_count(void) { return (int)(sizeof CASES / sizeof CASES[0]); }
const bench_case *bench_case_at(int i) { return &CASES[i]; }

const bench_case *bench_case_find(const char *name) {
    for (int i = 0; i < bench_case_count(); i++)
        if (strcmp(CASES[i].name, name) == 0) return &CASES[i];
    return NULL;
}

const char *bench_pass_name(bench_pass p) { return p == BENCH_FWD ? "fwd" : "fwdbwd"; }

int64_t bench_config_x_numel(const bench_config *cfg) { return cfg->n * cfg->c * cfg->l; }
int64_t bench_config_y_numel(const bench_config *cfg) { return cfg->n * cfg->c * cfg->l_out; }

/* The last-level cache as lscpu reports it (sysfs); sysconf's figure is the fallback, since
 * under some hypervisors it reports the host's total. Capped at 256 MB. */
static int64_t llc_bytes(void) {
    int64_t llc = 0;
    for (int idx = 3; idx >= 2 && llc == 0; idx--) {
        char path[96];
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", idx);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        long long v;
        char unit = 0;
        if (fscanf(f, "%lld%c", &v, &unit) >= 1 && v > 0)
            llc = v * (unit == 'K' ? 1024 : unit == 'M' ? 1024 * 1024 : 1);
        fclose(f);
    }
#ifdef _SC_LEVEL3_CACHE_SIZE
    if (llc == 0) llc = sysconf(_SC_LEVEL3_CACHE_SIZE);
#endif
    if (llc <= 0) llc = 32LL << 20;
    return llc > (256LL << 20) ? 256LL << 20 : llc;
}

/* Bytes the rotation set should span: a few times the last-level cache, so that a run never
 * finds the previous run's data in cache. */
static int64_t rotation_span_bytes(void) { return 3 * llc_bytes(); }

/* Every buffer sits between two guard zones of GUARD_BYTES filled with GUARD_BYTE, so an
 * implementation that writes outside its outputs is reported (bench_config_check) instead of
 * silently corrupting the heap. */
#define GUARD_BYTES 256
#define GUARD_BYTE 0xA5

static size_t buffer_bytes(int64_t n) { return ((size_t)(n > 0 ? n : 1) * sizeof(float) + 63) & ~(size_t)63; }

static float *alloc_floats(int64_t n) {
    void *p = NULL;
    size_t bytes = buffer_bytes(n);
    if (posix_memalign(&p, 64, bytes + 2 * GUARD_BYTES) != 0) return NULL;
    unsigned char *b = p;
    memset(b, GUARD_BYTE, GUARD_BYTES);
    memset(b + GUARD_BYTES, 0, bytes); /* fault the pages in now, not in the first timed run */
    memset(b + GUARD_BYTES + bytes, GUARD_BYTE, GUARD_BYTES);
    return (float *)(b + GUARD_BYTES);
}

static void free_floats(float *v) {
    if (v) free((unsigned char *)v - GUARD_BYTES);
}

/* Whether both guard zones of buffer v (n floats) are intact. */
static bool guards_intact(const float *v, int64_t n) {
    const unsigned char *b = (const unsigned char *)v;
    size_t bytes = buffer_bytes(n);
    for (size_t i = 0; i < GUARD_BYTES; i++)
        if (b[-(ptrdiff_t)GUARD_BYTES + (ptrdiff_t)i] != GUARD_BYTE || b[bytes + i] != GUARD_BYTE) return false;
    return true;
}

/* xorshift64*: reproducible data in [-1, 1), cheap enough for 256 MB inputs. */
static void fill_random(float *v, int64_t n, uint64_t seed) {
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (int64_t i = 0; i < n; i++) {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        uint64_t r = s * 0x2545F4914F6CDD1Dull;
        v[i] = (float)((double)(r >> 40) / (double)(1ull << 23) - 1.0);
    }
}

lc_shape bench_config_x_shape(const bench_config *cfg) {
    int64_t d[4] = {cfg->n, cfg->c, cfg->h ? cfg->h : cfg->l, cfg->w};
    return lc_shape_make(cfg->h ? 4 : 3, d);
}

lc_shape bench_config_y_shape(const bench_config *cfg) {
    int64_t d[4] = {cfg->n, cfg->c, cfg->h ? cfg->h_out : cfg->l_out, cfg->w_out};
    return lc_shape_make(cfg->h ? 4 : 3, d);
}

const char *bench_config_shape_str(const bench_config *cfg, char *buf, size_t n) {
    if (cfg->h)
        snprintf(buf, n, "(%lld, %lld, %lld, %lld)", (long long)cfg->n, (long long)cfg->c, (long long)cfg->h,
                 (long long)cfg->w);
    else
        snprintf(buf, n, "(%lld, %lld, %lld)", (long long)cfg->n, (long long)cfg->c, (long long)cfg->l);
    return buf;
}

int bench_config_init(bench_config *cfg, const bench_case *bc, const int64_t shape[4], bench_pass pass,
                      char *err, size_t err_size) {
    memset(cfg, 0, sizeof *cfg);
    cfg->bc = bc;
    cfg->pass = pass;
    cfg->n = shape[0];
    cfg->c = shape[1];
    cfg->l = shape[2];
    if (bc->is_max2d != (shape[3] != 0)) {
        snprintf(err, err_size, bc->is_max2d ? "a 2-D case runs on N,C,H,W shapes" : "a 1-D case runs on N,C,L shapes");
        return -1;
    }
    if (bc->is_max2d) {
        cfg->h = shape[2];
        cfg->w = shape[3];
        cfg->l = cfg->h * cfg->w;
    }
    lc_status st;
    if (bc->is_max2d) {
        lc_maxpool2d_params p = lc_maxpool2d_defaults(bc->kernel_size, bc->kernel_size);
        p.stride[0] = p.stride[1] = bc->stride;
        p.padding[0] = p.padding[1] = bc->padding;
        st = lc_maxpool2d_new(&p, &cfg->module);
        cfg->op = "MaxPool2d";
    } else if (bc->is_lp) {
        lc_lppool1d_params p = lc_lppool1d_defaults(bc->norm_type, bc->kernel_size);
        p.stride = bc->stride;
        st = lc_lppool1d_new(&p, &cfg->module);
        cfg->op = "LPPool1d";
    } else {
        lc_avgpool1d_params p = lc_avgpool1d_defaults(bc->kernel_size);
        p.stride = bc->stride;
        p.padding = bc->padding;
        st = lc_avgpool1d_new(&p, &cfg->module);
        cfg->op = "AvgPool1d";
    }
    lc_shape in = bench_config_x_shape(cfg), out;
    if (st == LC_OK) st = lc_module_repr(cfg->module, &cfg->params);
    if (st == LC_OK) st = lc_module_output_shape(cfg->module, in, &out);
    if (st != LC_OK) {
        snprintf(err, err_size, "%s", lc_last_error());
        bench_config_free(cfg);
        return -1;
    }
    if (bc->is_max2d) {
        cfg->h_out = out.dim[2];
        cfg->w_out = out.dim[3];
        cfg->l_out = cfg->h_out * cfg->w_out;
    } else {
        cfg->l_out = out.dim[2];
    }
    int64_t nx = bench_config_x_numel(cfg), ny = bench_config_y_numel(cfg);
    int64_t per_slot = (nx + ny) * (int64_t)sizeof(float);
    if (pass == BENCH_FWDBWD) per_slot *= 2; /* inputs x, g; outputs y, dx */
    cfg->bytes = per_slot;
    int64_t rot = (rotation_span_bytes() + per_slot - 1) / per_slot;
    cfg->n_rot = rot < 1 ? 1 : rot > 64 ? 64 : (int)rot;
    return 0;
}

int bench_config_alloc(bench_config *cfg, char *err, size_t err_size) {
    int64_t nx = bench_config_x_numel(cfg), ny = bench_config_y_numel(cfg);
    bool bwd = cfg->pass == BENCH_FWDBWD;
    cfg->x = calloc((size_t)cfg->n_rot, sizeof *cfg->x);
    cfg->y = calloc((size_t)cfg->n_rot, sizeof *cfg->y);
    if (bwd) {
        cfg->g = calloc((size_t)cfg->n_rot, sizeof *cfg->g);
        cfg->dx = calloc((size_t)cfg->n_rot, sizeof *cfg->dx);
    }
    bool ok = cfg->x && cfg->y && (!bwd || (cfg->g && cfg->dx));
    for (int r = 0; ok && r < cfg->n_rot; r++) {
        ok = (cfg->x[r] = alloc_floats(nx)) && (cfg->y[r] = alloc_floats(ny));
        if (ok) fill_random(cfg->x[r], nx, 2u * (uint64_t)r + 1);
        if (ok && bwd) {
            ok = (cfg->g[r] = alloc_floats(ny)) && (cfg->dx[r] = alloc_floats(nx));
            if (ok) fill_random(cfg->g[r], ny, 2u * (uint64_t)r + 2);
        }
    }
    if (!ok) {
        snprintf(err, err_size, "out of memory for %d x %lld bytes of buffers", cfg->n_rot, (long long)cfg->bytes);
        bench_config_free_buffers(cfg);
        return -1;
    }
    return 0;
}

static void free_slots(float **v, int n) {
    if (!v) return;
    for (int r = 0; r < n; r++) free_floats(v[r]);
    free(v);
}

void bench_config_free_buffers(bench_config *cfg) {
    free_slots(cfg->x, cfg->n_rot);
    free_slots(cfg->g, cfg->n_rot);
    free_slots(cfg->y, cfg->n_rot);
    free_slots(cfg->dx, cfg->n_rot);
    cfg->x = cfg->g = cfg->y = cfg->dx = NULL;
}

void bench_config_free(bench_config *cfg) {
    bench_config_free_buffers(cfg);
    lc_module_free(cfg->module);
    free(cfg->params);
    memset(cfg, 0, sizeof *cfg);
}

void bench_config_clear_outputs(const bench_config *cfg) {
    for (int r = 0; r < cfg->n_rot; r++) {
        memset(cfg->y[r], 0, (size_t)bench_config_y_numel(cfg) * sizeof(float));
        if (cfg->dx) memset(cfg->dx[r], 0, (size_t)bench_config_x_numel(cfg) * sizeof(float));
    }
}

/* Window o spans [start, end) of the padded row; `lo`, `hi` clip it to the real elements. */
typedef struct window {
    int64_t start, end, lo, hi;
    double divisor;
} window;

static window window_at(const bench_config *cfg, int64_t o) {
    const bench_case *bc = cfg->bc;
    window w;
    w.start = o * bc->stride - bc->padding;
    w.end = w.start + bc->kernel_size;
    if (w.end > cfg->l + bc->padding) w.end = cfg->l + bc->padding;
    w.lo = w.start < 0 ? 0 : w.start;
    w.hi = w.end > cfg->l ? cfg->l : w.end;
    w.divisor = (double)(w.end - w.start); /* count_include_pad = True in every avg case */
    return w;
}

static double lp_norm(const float *x, window w, double p) {
    double s = 0;
    for (int64_t j = w.lo; j < w.hi; j++) s += pow(fabs((double)x[j]), p);
    return pow(s, 1.0 / p);
}

/* MaxPool2d on one plane (x: h·w, y: h_out·w_out): each window's first maximum in row-major
 * order (padding never wins), its gradient to that element alone. */
static void reference_max2d_plane(const bench_config *cfg, const float *x, const float *g, double *y, double *dx) {
    const bench_case *bc = cfg->bc;
    if (dx)
        for (int64_t j = 0; j < cfg->l; j++) dx[j] = 0;
    for (int64_t oh = 0; oh < cfg->h_out; oh++)
        for (int64_t ow = 0; ow < cfg->w_out; ow++) {
            int64_t best = -1;
            for (int64_t i = 0; i < bc->kernel_size; i++)
                for (int64_t j = 0; j < bc->kernel_size; j++) {
                    int64_t r = oh * bc->stride - bc->padding + i, c = ow * bc->stride - bc->padding + j;
                    if (r < 0 || r >= cfg->h || c < 0 || c >= cfg->w) continue;
                    if (best < 0 || x[r * cfg->w + c] > x[best]) best = r * cfg->w + c;
                }
            int64_t o = oh * cfg->w_out + ow;
            y[o] = best < 0 ? -INFINITY : (double)x[best];
            if (dx && best >= 0) dx[best] += (double)g[o];
        }
}

/* One row's reference y and dx (dx may be NULL), straight from docs/semantics.md. */
static void reference_row(const bench_config *cfg, const float *x, const float *g, double *y, double *dx) {
    const bench_case *bc = cfg->bc;
    if (bc->is_max2d) {
        reference_max2d_plane(cfg, x, g, y, dx);
        return;
    }
    if (dx)
        for (int64_t j = 0; j < cfg->l; j++) dx[j] = 0;
    for (int64_t o = 0; o < cfg->l_out; o++) {
        window w = window_at(cfg, o);
        if (bc->is_lp) {
            y[o] = lp_norm(x, w, bc->norm_type);
            if (!dx || y[o] == 0) continue; /* zero window: zero gradient */
            for (int64_t j = w.lo; j < w.hi; j++) {
                double a = fabs((double)x[j]);
                double sg = x[j] > 0 ? 1.0 : x[j] < 0 ? -1.0 : 0.0;
                dx[j] += (double)g[o] * sg * pow(a / y[o], bc->norm_type - 1);
            }
        } else {
            double s = 0;
            for (int64_t j = w.lo; j < w.hi; j++) s += x[j];
            y[o] = s / w.divisor;
            if (dx)
                for (int64_t j = w.lo; j < w.hi; j++) dx[j] += (double)g[o] / w.divisor;
        }
    }
}

static int compare(const char *what, int64_t row, const float *got, const double *want, int64_t n, char *err,
                   size_t err_size) {
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]);
        if (!(d <= 1e-5 + 1e-4 * fabs(want[i]))) {
            snprintf(err, err_size, "%s row %lld [%lld]: got %.9g, expected %.9g", what, (long long)row,
                     (long long)i, (double)got[i], want[i]);
            return -1;
        }
    }
    return 0;
}

int bench_config_check_guards(const bench_config *cfg, char *err, size_t err_size) {
    const char *names[4] = {"x", "g", "y", "dx"};
    float **sets[4] = {cfg->x, cfg->g, cfg->y, cfg->dx};
    int64_t sizes[4] = {bench_config_x_numel(cfg), bench_config_y_numel(cfg), bench_config_y_numel(cfg),
                        bench_config_x_numel(cfg)};
    for (int k = 0; k < 4; k++)
        for (int r = 0; sets[k] && r < cfg->n_rot; r++)
            if (!guards_intact(sets[k][r], sizes[k])) {
                snprintf(err, err_size, "wrote outside its buffers (next to %s of rotation slot %d)", names[k], r);
                return -1;
            }
    return 0;
}

/* Restore every guard zone (after a report, so the next impl is judged on its own). */
void bench_config_reset_guards(const bench_config *cfg) {
    float **sets[4] = {cfg->x, cfg->g, cfg->y, cfg->dx};
    int64_t sizes[4] = {bench_config_x_numel(cfg), bench_config_y_numel(cfg), bench_config_y_numel(cfg),
                        bench_config_x_numel(cfg)};
    for (int k = 0; k < 4; k++)
        for (int r = 0; sets[k] && r < cfg->n_rot; r++) {
            unsigned char *b = (unsigned char *)sets[k][r];
            memset(b - GUARD_BYTES, GUARD_BYTE, GUARD_BYTES);
            memset(b + buffer_bytes(sizes[k]), GUARD_BYTE, GUARD_BYTES);
        }
}

int bench_config_check(const bench_config *cfg, char *err, size_t err_size) {
    int64_t rows = cfg->n * cfg->c;
    int64_t sample[4] = {0, 1, rows / 2, rows - 1};
    double *y = malloc((size_t)cfg->l_out * sizeof *y);
    double *dx = cfg->dx ? malloc((size_t)cfg->l * sizeof *dx) : NULL;
    int rc = 0;
    if (!y || (cfg->dx && !dx)) {
        snprintf(err, err_size, "out of memory for the reference");
        rc = -1;
    }
    for (int i = 0; rc == 0 && i < 4; i++) {
        int64_t r = sample[i];
        if (r >= rows || (i > 0 && r == sample[i - 1])) continue;
        const float *x = cfg->x[0] + r * cfg->l;
        const float *g = cfg->g ? cfg->g[0] + r * cfg->l_out : NULL;
        reference_row(cfg, x, g, y, dx);
        rc = compare("y", r, cfg->y[0] + r * cfg->l_out, y, cfg->l_out, err, err_size);
        if (rc == 0 && dx) rc = compare("dx", r, cfg->dx[0] + r * cfg->l, dx, cfg->l, err, err_size);
    }
    free(y);
    free(dx);
    return rc;
}
