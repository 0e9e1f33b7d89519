/* The benchmark cases, their configurations (module, shapes, rotated buffers) and a float64
 * reference for checking each implementation's outputs on a few rows. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "lucid/model_spec.h"
#include "lucid/random.h"
#include "lucid/status.h"

static const bench_case CASES[] = {
    {"avg_k4s4", .kernel_size = 4, .stride = 4},
    {"avg_k3s1p1", .kernel_size = 3, .stride = 1, .padding = 1},
    {"lp2_k4s4", .is_lp = true, .norm_type = 2.0, .kernel_size = 4, .stride = 4},
    {"lp3_k4s4", .is_lp = true, .norm_type = 3.0, .kernel_size = 4, .stride = 4},
    {"lp2.5_k4s4", .is_lp = true, .norm_type = 2.5, .kernel_size = 4, .stride = 4},
    {"lp2_k4s2", .is_lp = true, .norm_type = 2.0, .kernel_size = 4, .stride = 2},
    /* a p that is neither an integer nor a half-integer: exp2/log2 per element */
    {"lp2.7_k4s4", .is_lp = true, .norm_type = 2.7, .kernel_size = 4, .stride = 4},
    /* windows longer than codegen unrolls (LC_UNROLL_MAX): vector partial sums */
    {"avg_k64s64", .kernel_size = 64, .stride = 64},
    {"lp2_k64s64", .is_lp = true, .norm_type = 2.0, .kernel_size = 64, .stride = 64},
    /* 2-D, on N,C,H,W shapes: AvgPool2d(2), LPPool2d(2, 2), and the ResNet stem's pool,
     * MaxPool2d(3, 2, 1) */
    {"avg2d_k2s2", .kernel_size = 2, .stride = 2, .is_2d = true},
    {"lp2_2d_k2s2", .is_lp = true, .norm_type = 2.0, .kernel_size = 2, .stride = 2, .is_2d = true},
    {"max2d_k3s2p1", .kernel_size = 3, .stride = 2, .padding = 1, .is_2d = true, .is_max = true},
    /* models with parameters: a convolution layer and its pool; the seed model, whose training
     * step on one tiny input measures per-call overhead */
    {"conv16x32_k3_avg2", .kind = BENCH_KIND_MODEL, .conv_in = 16, .conv_out = 32, .conv_k = 3, .conv_pad = 1,
     .pool_k = 2},
    {"seed_model", .kind = BENCH_KIND_MODEL, .conv_in = 1, .conv_out = 1, .conv_k = 3, .conv_pad = 1, .pool_k = 2,
     .linear_out = 1},
};

/* The step size of the train pass (torch.optim.SGD(lr=0.01), no momentum, no decay). */
#define TRAIN_LR 0.01

/* The conv's output length at input length l, and the pool's. */
static int64_t conv_length(const bench_case *bc, int64_t l) { return l + 2 * bc->conv_pad - bc->conv_k + 1; }
static int64_t pool_length(const bench_case *bc, int64_t l) { return conv_length(bc, l) / bc->pool_k; }

void bench_case_model_spec(const bench_case *bc, int64_t l, char *buf, size_t n) {
    int k = snprintf(buf, n, "Conv1d(%lld, %lld, %lld, padding=%lld)\nAvgPool1d(%lld)\n", (long long)bc->conv_in,
                     (long long)bc->conv_out, (long long)bc->conv_k, (long long)bc->conv_pad, (long long)bc->pool_k);
    /* Linear over the last axis: its in_features is the pooled length (2 for the seed at L = 4) */
    if (bc->linear_out > 0 && k > 0 && (size_t)k < n)
        snprintf(buf + k, n - (size_t)k, "Linear(%lld, %lld)\n", (long long)pool_length(bc, l),
                 (long long)bc->linear_out);
}

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

const char *bench_pass_name(bench_pass p) { return p == BENCH_FWD ? "fwd" : p == BENCH_FWDBWD ? "fwdbwd" : "train"; }

int64_t bench_config_x_numel(const bench_config *cfg) { return cfg->n * cfg->c * cfg->l; }
int64_t bench_config_y_numel(const bench_config *cfg) { return cfg->n * cfg->c_out * cfg->l_out; }

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
 * finds the previous run's data in cache. With LUCID_BENCH_IN_CACHE=1 none (one slot), so a
 * run always does where the shape fits the caches: each implementation's compute bound. */
static int64_t rotation_span_bytes(void) {
    const char *in_cache = getenv("LUCID_BENCH_IN_CACHE");
    if (in_cache && strcmp(in_cache, "1") == 0) return 0;
    return 3 * llc_bytes();
}

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
    int64_t d[4] = {cfg->n, cfg->c_out, cfg->h ? cfg->h_out : cfg->l_out, cfg->w_out};
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

/* Rotation slots for `per_slot` bytes of rotated buffers. */
static int rotation_slots(int64_t per_slot) {
    int64_t rot = (rotation_span_bytes() + per_slot - 1) / per_slot;
    return rot < 1 ? 1 : rot > 64 ? 64 : (int)rot;
}

/* A model case: the module from its spec with parameters drawn from a fixed seed, copies of
 * their initial values, the FLOPs and bytes of a run. */
static int model_config_init(bench_config *cfg, char *err, size_t err_size) {
    const bench_case *bc = cfg->bc;
    char spec[256];
    bench_case_model_spec(bc, cfg->l, spec, sizeof spec);
    cfg->is_model = true;
    cfg->op = bc->linear_out > 0 ? "Sequential(Conv1d, AvgPool1d, Linear)" : "Sequential(Conv1d, AvgPool1d)";
    cfg->sgd_lr = TRAIN_LR;
    cfg->model_spec = strdup(spec);
    if (!cfg->model_spec) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    if (cfg->l + 2 * bc->conv_pad < bc->conv_k || pool_length(bc, cfg->l) < 1) {
        snprintf(err, err_size, "L = %lld is too short for the model", (long long)cfg->l);
        return -1;
    }
    lc_random_seed(1);
    lc_shape in = lc_shape_make(3, (int64_t[]){cfg->n, cfg->c, cfg->l}), out;
    lc_status st = lc_model_parse(spec, bc->name, &cfg->module);
    if (st == LC_OK) st = lc_module_repr(cfg->module, &cfg->params);
    if (st == LC_OK) st = lc_module_output_shape(cfg->module, in, &out);
    if (st != LC_OK) {
        snprintf(err, err_size, "%s", lc_last_error());
        return -1;
    }
    /* one line in the table and the records: each run of white space becomes one space */
    char *w = cfg->params;
    for (const char *c = cfg->params; *c; c++)
        if (!(*c == ' ' || *c == '\n') || (w > cfg->params && w[-1] != ' ')) *w++ = *c == '\n' ? ' ' : *c;
    *w = '\0';
    cfg->c_out = out.dim[1];
    cfg->l_out = out.dim[2];
    /* The parameters in the order the reference expects: 0.weight, 0.bias[, 2.weight, 2.bias]. */
    static const char *const NAMES[BENCH_MAX_PARAMS] = {"0.weight", "0.bias", "2.weight", "2.bias"};
    cfg->n_params = lc_module_param_count(cfg->module);
    if (cfg->n_params != (bc->linear_out > 0 ? 4 : 2)) {
        snprintf(err, err_size, "the model has %d parameters, expected %d", cfg->n_params, bc->linear_out > 0 ? 4 : 2);
        return -1;
    }
    int64_t param_bytes = 0;
    for (int k = 0; k < cfg->n_params; k++) {
        char name[64];
        lc_tensor *t;
        if (lc_module_param_at(cfg->module, k, name, sizeof name, &t) != LC_OK || strcmp(name, NAMES[k]) != 0 ||
            t->dtype != LC_F32) {
            snprintf(err, err_size, "parameter %d is not %s (float32)", k, NAMES[k]);
            return -1;
        }
        cfg->param_rank[k] = t->shape.rank;
        cfg->param_numel[k] = 1;
        for (int d = 0; d < t->shape.rank; d++) {
            cfg->param_shape[k][d] = t->shape.dim[d];
            cfg->param_numel[k] *= t->shape.dim[d];
        }
        cfg->param[k] = malloc((size_t)cfg->param_numel[k] * sizeof(float));
        cfg->dparam[k] = calloc((size_t)cfg->param_numel[k], sizeof(float));
        if (!cfg->param[k] || !cfg->dparam[k]) {
            snprintf(err, err_size, "out of memory");
            return -1;
        }
        memcpy(cfg->param[k], t->data, (size_t)cfg->param_numel[k] * sizeof(float));
        param_bytes += cfg->param_numel[k] * (int64_t)sizeof(float);
    }
    /* FLOPs: 2 per multiply-add of the contractions (pool and bias adds are not counted). The
     * backward has two contractions per layer (input and weight gradients); a train step
     * needs no gradient of the input x, so its first layer has one. */
    double conv = (double)cfg->n * (double)bc->conv_out * (double)conv_length(bc, cfg->l) * (double)bc->conv_in *
                  (double)bc->conv_k;
    double lin = (double)cfg->n * (double)cfg->c_out * (double)cfg->l_out * (double)pool_length(bc, cfg->l);
    if (bc->linear_out == 0) lin = 0;
    cfg->flops = 2 * (cfg->pass == BENCH_FWD ? conv + lin : cfg->pass == BENCH_FWDBWD ? 3 * (conv + lin) : 2 * conv + 3 * lin);
    int64_t nx = bench_config_x_numel(cfg), ny = bench_config_y_numel(cfg), f = (int64_t)sizeof(float);
    int64_t per_slot = (nx + ny) * f; /* x, y; fwdbwd also g, dx; train x, target */
    if (cfg->pass == BENCH_FWDBWD) per_slot *= 2;
    /* bytes: inputs read once, outputs written once: fwd x, params, y; fwdbwd also g, dx and the
     * parameter gradients; train x, target, params read and written, the loss */
    cfg->bytes = cfg->pass == BENCH_FWD      ? per_slot + param_bytes
                 : cfg->pass == BENCH_FWDBWD ? per_slot + 2 * param_bytes
                                             : per_slot + 2 * param_bytes + f;
    cfg->n_rot = rotation_slots(per_slot);
    return 0;
}

int bench_config_init(bench_config *cfg, const bench_case *bc, const int64_t shape[4], bench_pass pass,
                      char *err, size_t err_size) {
    memset(cfg, 0, sizeof *cfg);
    cfg->bc = bc;
    cfg->pass = pass;
    cfg->n = shape[0];
    cfg->c = shape[1];
    cfg->l = shape[2];
    if (bc->is_2d != (shape[3] != 0)) {
        snprintf(err, err_size, bc->is_2d ? "a 2-D case runs on N,C,H,W shapes" : "a 1-D case runs on N,C,L shapes");
        return -1;
    }
    if (bc->is_2d) {
        cfg->h = shape[2];
        cfg->w = shape[3];
        cfg->l = cfg->h * cfg->w;
    }
    if (bc->kind == BENCH_KIND_MODEL) {
        if (model_config_init(cfg, err, err_size) != 0) {
            bench_config_free(cfg);
            return -1;
        }
        return 0;
    }
    if (pass == BENCH_TRAIN) {
        snprintf(err, err_size, "a pool has no parameters to train");
        return -1;
    }
    cfg->c_out = cfg->c;
    lc_status st;
    if (bc->is_2d && bc->is_max) {
        lc_maxpool2d_params p = lc_maxpool2d_defaults(bc->kernel_size, bc->kernel_size);
        p.stride[0] = p.stride[1] = bc->stride;
        p.padding[0] = p.padding[1] = bc->padding;
        st = lc_maxpool2d_new(&p, &cfg->module);
        cfg->op = "MaxPool2d";
    } else if (bc->is_2d && bc->is_lp) {
        lc_lppool2d_params p = lc_lppool2d_defaults(bc->norm_type, bc->kernel_size, bc->kernel_size);
        p.stride[0] = p.stride[1] = bc->stride;
        st = lc_lppool2d_new(&p, &cfg->module);
        cfg->op = "LPPool2d";
    } else if (bc->is_2d) {
        lc_avgpool2d_params p = lc_avgpool2d_defaults(bc->kernel_size, bc->kernel_size);
        p.stride[0] = p.stride[1] = bc->stride;
        p.padding[0] = p.padding[1] = bc->padding;
        st = lc_avgpool2d_new(&p, &cfg->module);
        cfg->op = "AvgPool2d";
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
    if (bc->is_2d) {
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
    cfg->n_rot = rotation_slots(per_slot);
    return 0;
}

int bench_config_alloc(bench_config *cfg, char *err, size_t err_size) {
    int64_t nx = bench_config_x_numel(cfg), ny = bench_config_y_numel(cfg);
    bool bwd = cfg->pass == BENCH_FWDBWD, has_g = cfg->pass != BENCH_FWD; /* train: g is the target */
    cfg->x = calloc((size_t)cfg->n_rot, sizeof *cfg->x);
    cfg->y = calloc((size_t)cfg->n_rot, sizeof *cfg->y);
    if (has_g) cfg->g = calloc((size_t)cfg->n_rot, sizeof *cfg->g);
    if (bwd) cfg->dx = calloc((size_t)cfg->n_rot, sizeof *cfg->dx);
    bool ok = cfg->x && cfg->y && (!has_g || cfg->g) && (!bwd || cfg->dx);
    for (int r = 0; ok && r < cfg->n_rot; r++) {
        ok = (cfg->x[r] = alloc_floats(nx)) && (cfg->y[r] = alloc_floats(ny));
        if (ok) fill_random(cfg->x[r], nx, 2u * (uint64_t)r + 1);
        if (ok && has_g) {
            ok = (cfg->g[r] = alloc_floats(ny));
            if (ok) fill_random(cfg->g[r], ny, 2u * (uint64_t)r + 2);
        }
        if (ok && bwd) ok = (cfg->dx[r] = alloc_floats(nx));
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

static void model_ref_free(struct bench_model_ref *r);

void bench_config_free(bench_config *cfg) {
    bench_config_free_buffers(cfg);
    lc_module_free(cfg->module);
    free(cfg->params);
    free(cfg->model_spec);
    for (int k = 0; k < BENCH_MAX_PARAMS; k++) {
        free(cfg->param[k]);
        free(cfg->dparam[k]);
    }
    model_ref_free(cfg->reference);
    memset(cfg, 0, sizeof *cfg);
}

void bench_config_clear_outputs(const bench_config *cfg) {
    for (int r = 0; r < cfg->n_rot; r++) {
        memset(cfg->y[r], 0, (size_t)bench_config_y_numel(cfg) * sizeof(float));
        if (cfg->dx) memset(cfg->dx[r], 0, (size_t)bench_config_x_numel(cfg) * sizeof(float));
    }
    for (int k = 0; k < cfg->n_params; k++) memset(cfg->dparam[k], 0, (size_t)cfg->param_numel[k] * sizeof(float));
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

/* A 2-D pool on one plane (x: h·w, y: h_out·w_out), window (oh, ow) over rows
 * oh·stride - padding + [0, k) and the same for columns. Max: the window's first maximum in
 * row-major order (padding never wins), its gradient to that element alone. Average: the sum
 * over the k·k slots, padding counted (count_include_pad = True), and g / (k·k) to each
 * element. LP: (sum |x|^p)^(1/p) over the elements that exist, and g·sign(x)·(|x|/y)^(p-1). */
static void reference_2d_plane(const bench_config *cfg, const float *x, const float *g, double *y, double *dx) {
    const bench_case *bc = cfg->bc;
    int64_t k = bc->kernel_size;
    if (dx)
        for (int64_t j = 0; j < cfg->l; j++) dx[j] = 0;
    for (int64_t oh = 0; oh < cfg->h_out; oh++)
        for (int64_t ow = 0; ow < cfg->w_out; ow++) {
            int64_t o = oh * cfg->w_out + ow, r0 = oh * bc->stride - bc->padding, c0 = ow * bc->stride - bc->padding;
            int64_t best = -1;
            double sum = 0;
            for (int64_t i = 0; i < k; i++)
                for (int64_t j = 0; j < k; j++) {
                    int64_t r = r0 + i, c = c0 + j;
                    if (r < 0 || r >= cfg->h || c < 0 || c >= cfg->w) continue;
                    double v = x[r * cfg->w + c];
                    if (bc->is_max && (best < 0 || v > x[best])) best = r * cfg->w + c;
                    sum += bc->is_lp ? pow(fabs(v), bc->norm_type) : v;
                }
            if (bc->is_max) y[o] = best < 0 ? -INFINITY : (double)x[best];
            else if (bc->is_lp) y[o] = pow(sum, 1.0 / bc->norm_type);
            else y[o] = sum / (double)(k * k);
            if (!dx) continue;
            if (bc->is_max) {
                if (best >= 0) dx[best] += (double)g[o];
                continue;
            }
            if (bc->is_lp && y[o] == 0) continue; /* zero window: zero gradient */
            for (int64_t i = 0; i < k; i++)
                for (int64_t j = 0; j < k; j++) {
                    int64_t r = r0 + i, c = c0 + j;
                    if (r < 0 || r >= cfg->h || c < 0 || c >= cfg->w) continue;
                    double v = x[r * cfg->w + c];
                    double sg = v > 0 ? 1.0 : v < 0 ? -1.0 : 0.0;
                    dx[r * cfg->w + c] += bc->is_lp ? (double)g[o] * sg * pow(fabs(v) / y[o], bc->norm_type - 1)
                                                    : (double)g[o] / (double)(k * k);
                }
        }
}

/* One row's reference y and dx (dx may be NULL), straight from docs/semantics.md. */
static void reference_row(const bench_config *cfg, const float *x, const float *g, double *y, double *dx) {
    const bench_case *bc = cfg->bc;
    if (bc->is_2d) {
        reference_2d_plane(cfg, x, g, y, dx);
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

static int model_check(bench_config *cfg, char *err, size_t err_size);

int bench_config_check(const bench_config *cfg, char *err, size_t err_size) {
    if (cfg->is_model) return model_check((bench_config *)cfg, err, err_size);
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

/* ---- The model cases' reference, in float64 straight from the definitions (docs/semantics.md):
 *   c[n,co,o]  = b[co] + sum_{ci,j} w[co,ci,j] x[n,ci,o-pad+j]          (zero outside [0, L))
 *   q[n,co,t]  = (1/P) sum_{i<P} c[n,co,tP+i]
 *   y[n,co,u]  = lb[u] + sum_t lw[u,t] q[n,co,t]                        (or y = q without Linear)
 * and their backward from gy: g for fwdbwd, 2(y - target)/numel(y) for the MSELoss of train.
 * Run a second time on |x|, |w|, |g| with sums of magnitudes in place of differences, it gives
 * each result's condition (the sum of the absolute values of its terms): a float32 result is
 * judged against 1e-4 of that, since a sum of many terms may cancel to far less than its terms. */
typedef struct bench_model_ref {
    double *y, *dx, *dp[BENCH_MAX_PARAMS], loss;   /* values */
    double *my, *mdx, *mdp[BENCH_MAX_PARAMS], mloss; /* magnitudes */
} bench_model_ref;

static void model_ref_free(bench_model_ref *r) {
    if (!r) return;
    free(r->y);
    free(r->dx);
    free(r->my);
    free(r->mdx);
    for (int k = 0; k < BENCH_MAX_PARAMS; k++) {
        free(r->dp[k]);
        free(r->mdp[k]);
    }
    free(r);
}

/* One reference (mag: the magnitudes). y (N, Cout, Lout), dx (N, Cin, L) for fwdbwd, dp the
 * gradients (fwdbwd) or updated parameters (train), *loss (train). 0, or -1 out of memory. */
static int model_reference(const bench_config *cfg, bool mag, double *y, double *dx, double **dp, double *loss) {
    const bench_case *bc = cfg->bc;
    int64_t N = cfg->n, CI = cfg->c, L = cfg->l, CO = bc->conv_out, K = bc->conv_k, PAD = bc->conv_pad;
    int64_t LC = conv_length(bc, L), P = bc->pool_k, LP = pool_length(bc, L);
    bool lin = bc->linear_out > 0;
    int64_t U = lin ? bc->linear_out : LP; /* y's length */
    const float *x = cfg->x[0], *gin = cfg->g ? cfg->g[0] : NULL;
    const float *w = cfg->param[0], *b = cfg->param[1], *lw = lin ? cfg->param[2] : NULL, *lb = lin ? cfg->param[3] : NULL;
#define V(v) (mag ? fabs((double)(v)) : (double)(v))
    double *c = malloc((size_t)(N * CO * LC) * sizeof *c), *q = malloc((size_t)(N * CO * LP) * sizeof *q);
    double *gy = malloc((size_t)(N * CO * U) * sizeof *gy), *gq = malloc((size_t)(N * CO * LP) * sizeof *gq);
    double *gc = malloc((size_t)(N * CO * LC) * sizeof *gc);
    if (!c || !q || !gy || !gq || !gc) {
        free(c), free(q), free(gy), free(gq), free(gc);
        return -1;
    }
    for (int64_t n = 0; n < N; n++)
        for (int64_t co = 0; co < CO; co++) {
            double *crow = c + (n * CO + co) * LC;
            for (int64_t o = 0; o < LC; o++) crow[o] = V(b[co]);
            for (int64_t ci = 0; ci < CI; ci++) {
                const float *xr = x + (n * CI + ci) * L;
                for (int64_t j = 0; j < K; j++) {
                    double wv = V(w[(co * CI + ci) * K + j]);
                    int64_t lo = PAD - j > 0 ? PAD - j : 0, hi = L + PAD - j < LC ? L + PAD - j : LC;
                    for (int64_t o = lo; o < hi; o++) crow[o] += wv * V(xr[o - PAD + j]);
                }
            }
            double *qrow = q + (n * CO + co) * LP;
            for (int64_t t = 0; t < LP; t++) {
                double sum = 0;
                for (int64_t i = 0; i < P; i++) sum += crow[t * P + i];
                qrow[t] = sum / (double)P;
            }
            double *yrow = y + (n * CO + co) * U;
            for (int64_t u = 0; u < U; u++) {
                if (!lin) {
                    yrow[u] = qrow[u];
                    continue;
                }
                double sum = V(lb[u]);
                for (int64_t t = 0; t < LP; t++) sum += V(lw[u * LP + t]) * qrow[t];
                yrow[u] = sum;
            }
        }
    int64_t ny = N * CO * U;
    if (cfg->pass == BENCH_FWD) goto done;
    if (cfg->pass == BENCH_TRAIN) { /* MSELoss(mean) and its gradient */
        double sum = 0;
        for (int64_t i = 0; i < ny; i++) {
            double d = mag ? y[i] + fabs((double)gin[i]) : y[i] - (double)gin[i];
            sum += d * d;
            gy[i] = 2 * d / (double)ny;
        }
        *loss = sum / (double)ny;
    } else {
        for (int64_t i = 0; i < ny; i++) gy[i] = V(gin[i]);
    }
    /* Linear: weight and bias gradients, and the gradient reaching q */
    double *dw = dp[0], *db = dp[1];
    memset(dw, 0, (size_t)cfg->param_numel[0] * sizeof *dw);
    memset(db, 0, (size_t)cfg->param_numel[1] * sizeof *db);
    if (lin) {
        memset(dp[2], 0, (size_t)cfg->param_numel[2] * sizeof *dp[2]);
        memset(dp[3], 0, (size_t)cfg->param_numel[3] * sizeof *dp[3]);
    }
    for (int64_t r = 0; r < N * CO; r++) {
        const double *gyr = gy + r * U, *qr = q + r * LP;
        double *gqr = gq + r * LP;
        for (int64_t t = 0; t < LP; t++) {
            if (!lin) {
                gqr[t] = gyr[t];
                continue;
            }
            double sum = 0;
            for (int64_t u = 0; u < U; u++) sum += gyr[u] * V(lw[u * LP + t]);
            gqr[t] = sum;
        }
        for (int64_t u = 0; lin && u < U; u++) {
            dp[3][u] += gyr[u];
            for (int64_t t = 0; t < LP; t++) dp[2][u * LP + t] += gyr[u] * qr[t];
        }
        double *gcr = gc + r * LC;
        for (int64_t o = 0; o < LC; o++) gcr[o] = o < LP * P ? gqr[o / P] / (double)P : 0.0;
    }
    /* Conv: bias, weight and (fwdbwd) input gradients */
    if (dx) memset(dx, 0, (size_t)(N * CI * L) * sizeof *dx);
    for (int64_t n = 0; n < N; n++)
        for (int64_t co = 0; co < CO; co++) {
            const double *gcr = gc + (n * CO + co) * LC;
            for (int64_t o = 0; o < LC; o++) db[co] += gcr[o];
            for (int64_t ci = 0; ci < CI; ci++) {
                const float *xr = x + (n * CI + ci) * L;
                double *dxr = dx ? dx + (n * CI + ci) * L : NULL;
                for (int64_t j = 0; j < K; j++) {
                    double wv = V(w[(co * CI + ci) * K + j]), sum = 0;
                    int64_t lo = PAD - j > 0 ? PAD - j : 0, hi = L + PAD - j < LC ? L + PAD - j : LC;
                    for (int64_t o = lo; o < hi; o++) {
                        sum += gcr[o] * V(xr[o - PAD + j]);
                        if (dxr) dxr[o - PAD + j] += gcr[o] * wv;
                    }
                    dw[(co * CI + ci) * K + j] += sum;
                }
            }
        }
    if (cfg->pass == BENCH_TRAIN) /* SGD: p - lr * grad (magnitude: |p| + lr * |grad|) */
        for (int k = 0; k < cfg->n_params; k++)
            for (int64_t i = 0; i < cfg->param_numel[k]; i++)
                dp[k][i] = V(cfg->param[k][i]) + (mag ? 1 : -1) * cfg->sgd_lr * dp[k][i];
done:
#undef V
    free(c), free(q), free(gy), free(gq), free(gc);
    return 0;
}

static int compare_model(const char *what, const float *got, const double *want, const double *mag, int64_t n,
                         char *err, size_t err_size) {
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]);
        if (!(d <= 1e-5 + 1e-4 * mag[i])) {
            snprintf(err, err_size, "%s[%lld]: got %.9g, expected %.9g (terms' magnitude %.3g)", what, (long long)i,
                     (double)got[i], want[i], mag[i]);
            return -1;
        }
    }
    return 0;
}

/* Every output of slot 0 (y, dx, the parameter gradients; train: the loss and the updated
 * parameters) against the float64 reference, made on the first call. */
static int model_check(bench_config *cfg, char *err, size_t err_size) {
    int64_t ny = bench_config_y_numel(cfg), nx = bench_config_x_numel(cfg);
    bool bwd = cfg->pass == BENCH_FWDBWD;
    if (!cfg->reference) {
        bench_model_ref *r = calloc(1, sizeof *r);
        bool ok = r && (r->y = malloc((size_t)ny * sizeof(double))) && (r->my = malloc((size_t)ny * sizeof(double)));
        if (ok && bwd) ok = (r->dx = malloc((size_t)nx * sizeof(double))) && (r->mdx = malloc((size_t)nx * sizeof(double)));
        for (int k = 0; ok && k < cfg->n_params; k++)
            ok = (r->dp[k] = malloc((size_t)cfg->param_numel[k] * sizeof(double))) &&
                 (r->mdp[k] = malloc((size_t)cfg->param_numel[k] * sizeof(double)));
        ok = ok && model_reference(cfg, false, r->y, r->dx, r->dp, &r->loss) == 0 &&
             model_reference(cfg, true, r->my, r->mdx, r->mdp, &r->mloss) == 0;
        if (!ok) {
            model_ref_free(r);
            snprintf(err, err_size, "out of memory for the reference");
            return -1;
        }
        cfg->reference = r;
    }
    const bench_model_ref *r = cfg->reference;
    static const char *const NAMES[BENCH_MAX_PARAMS] = {"0.weight", "0.bias", "2.weight", "2.bias"};
    char what[64];
    if (cfg->pass != BENCH_TRAIN && compare_model("y", cfg->y[0], r->y, r->my, ny, err, err_size) != 0) return -1;
    if (bwd && compare_model("dx", cfg->dx[0], r->dx, r->mdx, nx, err, err_size) != 0) return -1;
    if (cfg->pass == BENCH_TRAIN && compare_model("loss", &cfg->loss, &r->loss, &r->mloss, 1, err, err_size) != 0)
        return -1;
    for (int k = 0; cfg->pass != BENCH_FWD && k < cfg->n_params; k++) {
        snprintf(what, sizeof what, "%s %s", cfg->pass == BENCH_TRAIN ? "updated" : "grad", NAMES[k]);
        if (compare_model(what, cfg->dparam[k], r->dp[k], r->mdp[k], cfg->param_numel[k], err, err_size) != 0)
            return -1;
    }
    return 0;
}
