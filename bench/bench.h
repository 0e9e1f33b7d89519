/* lucid-bench: shared types. One *configuration* is a case (module and parameters), an input
 * shape and a pass (fwd, fwdbwd); it owns a set of rotated buffers that every implementation
 * (`impl`) of the same configuration reads and writes, so all rows see identical data.
 *
 * Data flow: options -> configurations -> for each thread count, each impl: setup, one
 * allocation-tracked run (peak extra memory), warm-up and timed runs, reference check ->
 * records -> table (stdout) and JSON lines (--json). */
#ifndef LUCID_BENCH_H
#define LUCID_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lucid/nn.h"

#define BENCH_MAX_SHAPES 16
#define BENCH_MAX_CASES 16
#define BENCH_MAX_THREADS 16

/* fwd; fwdbwd (forward and backward); train (a model's forward, MSELoss, backward and an SGD
 * update of its parameters: model cases only). */
typedef enum bench_pass { BENCH_FWD, BENCH_FWDBWD, BENCH_TRAIN, BENCH_PASS_COUNT } bench_pass;
const char *bench_pass_name(bench_pass p);

/* The implementations, in table order. Names as the JSON records spell them (bench/README.md). */
typedef enum bench_impl_id {
    BENCH_IMPL_FLOOR,
    BENCH_IMPL_MEMCPY,
    BENCH_IMPL_JIT,
    BENCH_IMPL_INTERP,
    BENCH_IMPL_TORCH,
    BENCH_IMPL_ONEDNN_NCW,
    BENCH_IMPL_ONEDNN_BLOCKED,
    BENCH_IMPL_ONEDNN_REORDER,
    BENCH_IMPL_ONEDNN_CONV,
    BENCH_IMPL_COUNT
} bench_impl_id;
const char *bench_impl_name(bench_impl_id id);
bool bench_impl_from_name(const char *name, size_t len, bench_impl_id *out);

/* One benchmark case: a pool with fixed parameters, or a model with parameters:
 *   Conv1d(conv_in, conv_out, conv_k, padding=conv_pad) -> AvgPool1d(pool_k)
 *   [-> Linear(L_pool, linear_out) when linear_out > 0]
 * whose limit is arithmetic (FLOPs), not bandwidth. */
typedef enum bench_case_kind { BENCH_KIND_POOL, BENCH_KIND_MODEL } bench_case_kind;
typedef struct bench_case {
    const char *name;     /* "lp2_k4s4" */
    bool is_lp;           /* an LP pool, else an average pool (or max, below) */
    double norm_type;     /* LP only */
    int64_t kernel_size, stride, padding;
    bool is_2d;           /* AvgPool2d, LPPool2d or MaxPool2d with the sizes on both axes; runs on
                             N,C,H,W shapes */
    bool is_max;          /* MaxPool2d (2-D only) */
    bench_case_kind kind; /* the fields below for BENCH_KIND_MODEL only */
    int64_t conv_in, conv_out, conv_k, conv_pad, pool_k, linear_out;
} bench_case;
#define BENCH_MAX_PARAMS 4
/* The model's spec text (lucid/model_spec.h syntax) for input length l into buf. */
void bench_case_model_spec(const bench_case *bc, int64_t l, char *buf, size_t n);

int bench_case_count(void);
const bench_case *bench_case_at(int i);
const bench_case *bench_case_find(const char *name);

/* A pipeline timed for its compile only (compile records, no run-time rows): a model in the
 * model-spec syntax (lucid/model_spec.h), e.g. lucidc demo's. */
typedef struct bench_compile_case {
    const char *name;     /* "demo_avg_lp" */
    const char *model;    /* one module call per line */
    int64_t min_length;   /* the shortest L it takes */
} bench_compile_case;

int bench_compile_case_count(void);
const bench_compile_case *bench_compile_case_at(int i);

/* A configuration and its buffers. Inputs x (N,C,L) and, for fwdbwd, g (N,C,L_out);
 * outputs y (N,C,L_out) and, for fwdbwd, dx (N,C,L). n_rot copies of each, 64-byte aligned,
 * so that consecutive runs touch different memory (small cases must not just measure the
 * cache). */
typedef struct bench_config {
    const bench_case *bc;
    bench_pass pass;
    int64_t n, c, l, l_out;
    /* 2-D cases: the input plane (h, w) and the output plane; l = h·w and l_out = h_out·w_out,
     * so a plane is a "row" wherever rows are walked (floor, checks). 0 for 1-D cases. */
    int64_t h, w, h_out, w_out;
    int64_t c_out;         /* y's channels: c for a pool, the model's output channels */
    lc_module *module;     /* owned */
    char *params;          /* lc_module_repr, owned */
    const char *op;        /* "AvgPool1d" | "LPPool1d" | "AvgPool2d" | "LPPool2d" | "MaxPool2d" */
    int64_t bytes;         /* each input read once, each output written once */
    int n_rot;
    float **x, **g, **y, **dx; /* n_rot pointers each; g and dx NULL for fwd */
    /* Model cases. g is dL/dy for fwdbwd and the MSELoss target for train (y's shape; dx
     * NULL). Parameters in lc_module_param_at order: their initial values (every impl starts
     * from these), and what a run writes: gradients (fwdbwd) or the updated values after one
     * SGD step from the initial ones (train, written by finish_for_check). */
    bool is_model;
    char *model_spec;      /* owned */
    int n_params;
    int64_t param_numel[BENCH_MAX_PARAMS];
    int64_t param_shape[BENCH_MAX_PARAMS][3];
    int param_rank[BENCH_MAX_PARAMS];
    float *param[BENCH_MAX_PARAMS], *dparam[BENCH_MAX_PARAMS];
    float loss;            /* train: the loss of that step */
    double flops;          /* a run's multiply-adds x 2 (bench/README.md); 0 for pools */
    double sgd_lr;
    struct bench_model_ref *reference; /* float64 reference, made on the first check (cases.c) */
} bench_config;

/* Build the module and the shapes, and size the rotation (no buffers yet). `shape` is N,C,L
 * (shape[3] = 0) or N,C,H,W; a 1-D case takes the first, a 2-D case the second. Returns 0, or
 * -1 with the module's message in `err` (a shape invalid for the case). */
int bench_config_init(bench_config *cfg, const bench_case *bc, const int64_t shape[4], bench_pass pass,
                      char *err, size_t err_size);
/* The shapes of x and y: (N, C, L) or (N, C, H, W). */
lc_shape bench_config_x_shape(const bench_config *cfg);
lc_shape bench_config_y_shape(const bench_config *cfg);
/* "(16, 64, 256, 256)" */
const char *bench_config_shape_str(const bench_config *cfg, char *buf, size_t n);
/* Allocate the n_rot buffer sets, inputs filled with reproducible random data in [-1, 1). */
int bench_config_alloc(bench_config *cfg, char *err, size_t err_size);
void bench_config_free_buffers(bench_config *cfg);
void bench_config_free(bench_config *cfg);
/* Elements of x and of y per rotation slot. */
int64_t bench_config_x_numel(const bench_config *cfg);
int64_t bench_config_y_numel(const bench_config *cfg);
/* Clear the outputs of every slot (so a check never sees an earlier impl's results). */
void bench_config_clear_outputs(const bench_config *cfg);
/* Compare slot 0's outputs against a float64 reference on a few sampled rows. Returns 0 when
 * they agree (rtol 1e-4, atol 1e-5), else -1 with a description in `err`. `check_dx` false
 * skips dx (fwd runs). */
int bench_config_check(const bench_config *cfg, char *err, size_t err_size);
/* Every buffer has guard zones on both sides: 0 when all are intact, else -1 naming the
 * buffer an implementation wrote past. reset_guards restores them. */
int bench_config_check_guards(const bench_config *cfg, char *err, size_t err_size);
void bench_config_reset_guards(const bench_config *cfg);

/* An implementation instance for one configuration and thread count. */
typedef struct bench_impl_ops {
    /* 0 when available; otherwise -1 and why (printed once per impl). */
    int (*available)(char *why, size_t why_size);
    /* Whether this impl has rows for the configuration (e.g. oneDNN: average pooling only).
     * When false, `why` says why (printed once per impl and reason). */
    bool (*supports)(const bench_config *cfg, int threads, char *why, size_t why_size);
    /* Prepare: compile, create primitives, allocate private buffers. 0 or -1 with `err`. */
    int (*setup)(const bench_config *cfg, int threads, void **state, char *err, size_t err_size);
    /* One run on rotation slot `slot`. 0 or -1 with `err`. Runs on the calling thread. */
    int (*run)(void *state, int slot, char *err, size_t err_size);
    /* Bytes a run allocates that are its outputs (subtracted from the tracked peak), and
     * private buffers allocated at setup that a run needs besides inputs and outputs
     * (added: e.g. oneDNN's blocked copies). Either may be NULL (0). */
    int64_t (*run_output_bytes)(void *state);
    int64_t (*setup_extra_bytes)(void *state);
    /* Make slot 0's outputs hold the impl's result in the plain layout before the check
     * (NULL: run() already writes them). 0 or -1. */
    int (*finish_for_check)(void *state, char *err, size_t err_size);
    void (*teardown)(void *state);
    /* false: the impl's outputs are not the case's result (floor, reorders): no check. */
    bool checked;
} bench_impl_ops;

extern const bench_impl_ops bench_floor_ops;
/* The floor's variants (floor.c: stores, prefetch, chunking, split over threads). The driver
 * times every one and reports the fastest, by name. */
int bench_floor_variant_count(void);
const char *bench_floor_variant_name(int variant);
void bench_floor_set_variant(void *floor_state, int variant);
bool bench_floor_variant_applies(const bench_config *cfg, int variant, int threads);
/* Threads a streaming pass of `bytes` uses out of `threads` (small work: the caller alone). */
int bench_stream_workers(int64_t bytes, int threads);
extern const bench_impl_ops bench_memcpy_ops;
extern const bench_impl_ops bench_interp_ops;
extern const bench_impl_ops bench_jit_ops;
extern const bench_impl_ops bench_onednn_ncw_ops;
extern const bench_impl_ops bench_onednn_blocked_ops;
extern const bench_impl_ops bench_onednn_reorder_ops;
extern const bench_impl_ops bench_onednn_conv_ops;
/* The arithmetic limit of a model case (peak.c): an FMA loop doing the configuration's FLOPs
 * on the same threads, at the widest vectors the CPU has; its name for the record. */
extern const bench_impl_ops bench_peak_ops;
const char *bench_peak_variant_name(void);

/* A measurement record (bench/README.md, "JSON records"). */
typedef struct bench_record {
    const bench_config *cfg; /* for case, op, params, shape, pass, bytes */
    bench_impl_id impl;
    int threads;
    double median_ms, min_ms;
    int64_t peak_extra_bytes;
    const char *variant; /* the floor's winning variant; NULL for other impls */
} bench_record;

/* Timing (timing.c): warm-up, then samples of `batch` runs each over rotated slots until the
 * budget is spent (at least BENCH_MIN_SAMPLES). A timer is advanced one slice at a time so the
 * driver can interleave the implementations of a configuration. */
#define BENCH_MIN_SAMPLES 5
typedef int (*bench_run_fn)(void *state, int slot, char *err, size_t err_size);
typedef struct bench_timing {
    double median_ms, min_ms;
    int samples;
    long batch;
} bench_timing;
typedef struct bench_timer {
    bench_run_fn run;
    void *state;
    int n_rot, slot;
    double budget_s, spent_s, sample_s;
    long batch;
    int n, min_samples;
    double *samples;
} bench_timer;
double bench_now_s(void);
/* Warm up; `prior_runs` runs were already made by the caller, the last taking `prior_run_s`
 * (they count towards the warm-up). 0 or -1 with `err` when a run failed. */
int bench_timer_start(bench_timer *t, bench_run_fn run, void *state, int n_rot, double budget_s, int prior_runs,
                      double prior_run_s, char *err, size_t err_size);
/* Take one slice of samples. 0 or -1 with `err`. */
int bench_timer_slice(bench_timer *t, char *err, size_t err_size);
/* Enough samples and budget spent. */
bool bench_timer_done(const bench_timer *t);
void bench_timer_pause(void);
/* Median and min of the samples; frees them. discard frees them without a result. */
void bench_timer_finish(bench_timer *t, bench_timing *out);
void bench_timer_discard(bench_timer *t);
/* Median of `v` (sorted in place). */
double bench_median(double *v, int n);
/* Seconds of timed runs per row (default 0.15; LUCID_BENCH_BUDGET_MS overrides). */
double bench_row_budget_s(void);

/* Allocation tracking (alloc_track.c): the peak of bytes allocated minus bytes freed between
 * begin and end, counted over every thread's malloc family calls. */
void bench_alloc_begin(void);
int64_t bench_alloc_end(void);
/* false when tracking is compiled out (AddressSanitizer builds). */
bool bench_alloc_tracking_works(void);

/* The floor's worker pool (pool.c): `threads` workers including the caller. */
typedef void (*bench_pool_fn)(void *arg, int worker, int workers);
int bench_pool_start(int threads);
/* The setup of a row that runs on this pool (floor, memcpy, peak): a zeroed state of `size`
 * bytes, the pool started for `threads`. NULL with `err` when either fails. */
void *bench_state_start(size_t size, int threads, char *err, size_t err_size);
/* Run fn on every worker (the caller is worker 0) and wait for all. */
void bench_pool_run(bench_pool_fn fn, void *arg, int workers);
void bench_pool_stop(void);

/* Torch (impl_torch.c): run every requested torch row in one python process. */
typedef struct bench_torch_row {
    int config;      /* index into the configuration list */
    int threads;
    bool ok;
    double median_ms, min_ms;
    int64_t peak_extra_bytes;
} bench_torch_row;
/* Fills rows[i].ok and the figures. Returns 0, or -1 with why torch is unavailable. */
int bench_torch_run(bench_config *const *configs, bench_torch_row *rows, int n_rows, double budget_s,
                    char *why, size_t why_size);

/* Output (report.c). */
void bench_report_header(FILE *out, const bench_config *cfg, int threads);
void bench_report_rows(FILE *out, const bench_record *recs, int n);
void bench_report_json(FILE *out, const bench_record *r);
double bench_record_gflops(const bench_record *r);
void bench_report_compile_json(FILE *out, const char *pipeline, bench_pass pass, const char *impl,
                               double median_ms);

#endif
