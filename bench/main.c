/* lucid-bench: Lucid's pooling cases against the bandwidth floor and the anchors (PyTorch,
 * oneDNN), side by side. See bench/README.md for the figures and how to read them.
 *
 *   options ─▶ configurations (case × shape × pass) ─▶ torch rows (one python3 process)
 *     ─▶ per configuration: buffers ─▶ per thread count: floor (every variant), memcpy, jit,
 *        interp, onednn-* rows
 *        (setup · one run under allocation tracking · warm-up and timed runs · check)
 *     ─▶ table block on stdout, JSON records ─▶ compile records (jit-cold, jit-cached)
 *
 * Exit status: 0; 1 when an implementation's result disagreed with the reference; 2 for a
 * usage error (bad option, a shape invalid for a case, an unwritable --json file). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "lucid/version.h"
#include "bench_jit.h"
#include "lucid/model_spec.h"
#include "options.h"

static const bench_impl_ops *impl_ops(bench_impl_id id) {
    switch (id) {
    case BENCH_IMPL_FLOOR: return &bench_floor_ops;
    case BENCH_IMPL_MEMCPY: return &bench_memcpy_ops;
    case BENCH_IMPL_JIT: return &bench_jit_ops;
    case BENCH_IMPL_INTERP: return &bench_interp_ops;
    case BENCH_IMPL_ONEDNN_NCW: return &bench_onednn_ncw_ops;
    case BENCH_IMPL_ONEDNN_BLOCKED: return &bench_onednn_blocked_ops;
    case BENCH_IMPL_ONEDNN_REORDER: return &bench_onednn_reorder_ops;
    case BENCH_IMPL_ONEDNN_CONV: return &bench_onednn_conv_ops;
    case BENCH_IMPL_TORCH:
    case BENCH_IMPL_COUNT: break;
    }
    return NULL;
}

/* Each distinct "impl: reason" note is printed once. */
#define MAX_NOTES 64
static char *notes[MAX_NOTES];
static int n_notes;

static void note_once(const char *impl, const char *why) {
    char line[512];
    snprintf(line, sizeof line, "lucid-bench: %s: rows skipped: %s", impl, why);
    for (int i = 0; i < n_notes; i++)
        if (strcmp(notes[i], line) == 0) return;
    if (n_notes < MAX_NOTES) notes[n_notes++] = strdup(line);
    fprintf(stderr, "%s\n", line);
}

static void cpu_name(char *buf, size_t n) {
    snprintf(buf, n, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && colon) {
            colon += 2;
            colon[strcspn(colon, "\n")] = '\0';
            snprintf(buf, n, "%s", colon);
            break;
        }
    }
    fclose(f);
}

typedef struct run_ctx {
    const bench_options *opt;
    bool enabled[BENCH_IMPL_COUNT];
    double budget_s;
    bench_torch_row *torch_rows;
    int n_torch_rows;
    FILE *json;
    bool floor_detail; /* LUCID_BENCH_FLOOR_DETAIL: every floor variant's figures on stderr */
    bool mismatch;
} run_ctx;

static void row_label(char *buf, size_t n, bench_impl_id id, const bench_config *cfg, int threads) {
    char shape[96];
    snprintf(buf, n, "%s %s %s %s threads %d", bench_impl_name(id), cfg->bc->name,
             bench_config_shape_str(cfg, shape, sizeof shape), bench_pass_name(cfg->pass), threads);
}

/* One timed instance: an impl, or one of the floor's variants. */
typedef struct instance {
    bench_impl_id id;
    int floor_variant; /* -1 for other impls */
    const bench_impl_ops *ops;
    void *state;
    bench_timer timer;
    bool timing;          /* timer started and not failed */
    int64_t peak_extra_bytes;
    char label[160];
} instance;

/* Setup, an untracked first run (lazy one-time initialisation such as a thread pool is not a
 * run's memory), a tracked run (peak extra memory; its outputs are checked right away, since
 * later runs of other impls overwrite the shared buffers), then warm-up. */
static bool prepare(run_ctx *ctx, instance *in, const bench_config *cfg, int threads) {
    const bench_impl_ops *ops = in->ops;
    char why[512] = "";
    row_label(in->label, sizeof in->label, in->id, cfg, threads);
    if (!ops->supports(cfg, threads, why, sizeof why)) {
        note_once(bench_impl_name(in->id), why);
        return false;
    }
    bench_config_clear_outputs(cfg);
    if (ops->setup(cfg, threads, &in->state, why, sizeof why) != 0) {
        fprintf(stderr, "lucid-bench: %s: setup failed: %s\n", in->label, why);
        in->state = NULL;
        return false;
    }
    if (in->floor_variant >= 0) bench_floor_set_variant(in->state, in->floor_variant);
    bool ok = ops->run(in->state, 0, why, sizeof why) == 0;
    double tracked_s = 0;
    if (ok) {
        bench_alloc_begin();
        double t0 = bench_now_s();
        ok = ops->run(in->state, 0, why, sizeof why) == 0;
        tracked_s = bench_now_s() - t0;
        int64_t extra = bench_alloc_end() - (ops->run_output_bytes ? ops->run_output_bytes(in->state) : 0);
        in->peak_extra_bytes = (extra > 0 ? extra : 0) + (ops->setup_extra_bytes ? ops->setup_extra_bytes(in->state) : 0);
    }
    if (ok && ops->checked) {
        int rc = ops->finish_for_check ? ops->finish_for_check(in->state, why, sizeof why) : 0;
        if (rc == 0) rc = bench_config_check(cfg, why, sizeof why);
        if (rc != 0) {
            fprintf(stderr, "lucid-bench: %s: WRONG RESULT: %s\n", in->label, why);
            ctx->mismatch = true;
        }
    }
    if (bench_config_check_guards(cfg, why, sizeof why) != 0) {
        fprintf(stderr, "lucid-bench: %s: WRONG RESULT: %s\n", in->label, why);
        bench_config_reset_guards(cfg);
        ctx->mismatch = true;
    }
    if (ok)
        ok = bench_timer_start(&in->timer, ops->run, in->state, cfg->n_rot, ctx->budget_s, 2, tracked_s, why,
                               sizeof why) == 0;
    if (!ok) fprintf(stderr, "lucid-bench: %s: run failed: %s\n", in->label, why);
    in->timing = ok;
    return true;
}

/* Every impl of one configuration and thread count, timed in interleaved slices. */
static int measure_all(run_ctx *ctx, const bench_config *cfg, int threads, bench_record *recs) {
    instance *ins = calloc((size_t)(BENCH_IMPL_COUNT + bench_floor_variant_count()), sizeof *ins);
    if (!ins) {
        note_once("lucid-bench", "out of memory");
        return 0;
    }
    int n_in = 0;
    for (int id = 0; id < BENCH_IMPL_COUNT; id++) {
        if (!ctx->enabled[id] || id == BENCH_IMPL_TORCH) continue;
        /* A model's limit is arithmetic: its floor is the FMA peak (peak.c), and the pooling
         * anchors (memcpy, interp, the oneDNN pools) have no rows. */
        if (cfg->is_model && id != BENCH_IMPL_FLOOR && id != BENCH_IMPL_JIT && id != BENCH_IMPL_ONEDNN_CONV) {
            note_once(bench_impl_name((bench_impl_id)id), "the pooling cases only (not the models)");
            continue;
        }
        bool fma_floor = cfg->is_model && id == BENCH_IMPL_FLOOR;
        /* The floor is the fastest of its variants: one instance each, all interleaved. */
        for (int v = 0; v < (id == BENCH_IMPL_FLOOR && !fma_floor ? bench_floor_variant_count() : 1); v++) {
            if (id == BENCH_IMPL_FLOOR && !fma_floor && !bench_floor_variant_applies(cfg, v, threads)) continue;
            instance *in = &ins[n_in];
            *in = (instance){.id = (bench_impl_id)id, .ops = fma_floor ? &bench_peak_ops : impl_ops((bench_impl_id)id),
                             .floor_variant = id == BENCH_IMPL_FLOOR && !fma_floor ? v : -1};
            if (prepare(ctx, in, cfg, threads)) n_in++;
            else if (in->state) in->ops->teardown(in->state);
        }
    }
    char why[512];
    for (bool all_done = false; !all_done;) {
        all_done = true;
        for (int i = 0; i < n_in; i++) {
            instance *in = &ins[i];
            if (!in->timing) continue;
            bench_timer_pause();
            if (bench_timer_slice(&in->timer, why, sizeof why) != 0) {
                fprintf(stderr, "lucid-bench: %s: run failed: %s\n", in->label, why);
                bench_timer_discard(&in->timer);
                in->timing = false;
                continue;
            }
            all_done = all_done && bench_timer_done(&in->timer);
        }
    }
    if (bench_config_check_guards(cfg, why, sizeof why) != 0) {
        fprintf(stderr, "lucid-bench: %s %s threads %d: WRONG RESULT: an impl %s\n", cfg->bc->name,
                bench_pass_name(cfg->pass), threads, why);
        bench_config_reset_guards(cfg);
        ctx->mismatch = true;
    }
    int n = 0;
    for (int i = 0; i < n_in; i++) {
        instance *in = &ins[i];
        if (in->timing) {
            bench_timing t;
            bench_timer_finish(&in->timer, &t);
            bench_record r = {cfg, in->id, threads, t.median_ms, t.min_ms, in->peak_extra_bytes,
                              in->floor_variant >= 0 ? bench_floor_variant_name(in->floor_variant) : NULL};
            if (in->ops == &bench_peak_ops) r.variant = bench_peak_variant_name();
            if (in->floor_variant >= 0 && ctx->floor_detail)
                fprintf(stderr, "lucid-bench: %s: floor variant %-14s median %.6g ms min %.6g ms\n", in->label,
                        r.variant, t.median_ms, t.min_ms);
            if (n > 0 && recs[n - 1].impl == in->id) { /* the floor's next variant */
                if (r.median_ms < recs[n - 1].median_ms) recs[n - 1] = r;
            } else {
                recs[n++] = r;
            }
        }
        in->ops->teardown(in->state);
    }
    free(ins);
    return n;
}

static void run_config(run_ctx *ctx, int config_index, const bench_config *cfg) {
    for (int ti = 0; ti < ctx->opt->n_threads; ti++) {
        int threads = ctx->opt->threads[ti];
        bench_record measured[BENCH_IMPL_COUNT], recs[BENCH_IMPL_COUNT];
        int n_measured = measure_all(ctx, cfg, threads, measured), n = 0;
        /* Table order: the impl enum's, torch's row from the python process in its place. */
        for (int id = 0, m = 0; id < BENCH_IMPL_COUNT; id++) {
            if (id == BENCH_IMPL_TORCH && ctx->enabled[id]) {
                for (int r = 0; r < ctx->n_torch_rows; r++) {
                    const bench_torch_row *tr = &ctx->torch_rows[r];
                    if (tr->config != config_index || tr->threads != threads || !tr->ok) continue;
                    recs[n++] = (bench_record){cfg, BENCH_IMPL_TORCH, threads, tr->median_ms, tr->min_ms,
                                               tr->peak_extra_bytes, NULL};
                }
            }
            if (m < n_measured && measured[m].impl == (bench_impl_id)id) recs[n++] = measured[m++];
        }
        if (n == 0) continue;
        bench_report_header(stdout, cfg, threads);
        bench_report_rows(stdout, recs, n);
        fflush(stdout);
        if (ctx->json)
            for (int i = 0; i < n; i++) bench_report_json(ctx->json, &recs[i]);
    }
}

static void run_torch(run_ctx *ctx, bench_config *configs, int n_configs) {
    int n = n_configs * ctx->opt->n_threads;
    bench_config **ptrs = calloc((size_t)n_configs, sizeof *ptrs);
    ctx->torch_rows = calloc((size_t)n, sizeof *ctx->torch_rows);
    if (!ptrs || !ctx->torch_rows) {
        note_once("torch", "out of memory");
        ctx->enabled[BENCH_IMPL_TORCH] = false;
        free(ptrs);
        return;
    }
    for (int c = 0; c < n_configs; c++) {
        ptrs[c] = &configs[c];
        for (int t = 0; t < ctx->opt->n_threads; t++)
            ctx->torch_rows[c * ctx->opt->n_threads + t] = (bench_torch_row){.config = c, .threads = ctx->opt->threads[t]};
    }
    ctx->n_torch_rows = n;
    fprintf(stderr, "lucid-bench: timing %d torch rows in one python3 process first ...\n", n);
    char why[512];
    if (bench_torch_run(ptrs, ctx->torch_rows, n, ctx->budget_s, why, sizeof why) != 0) {
        note_once("torch", why);
        ctx->enabled[BENCH_IMPL_TORCH] = false;
    }
    free(ptrs);
}

/* Compile records: per pipeline (case) and pass, on the first shape. */
static void run_compile_records(run_ctx *ctx, bench_config *configs, int n_configs) {
    bool printed_title = false;
    for (int c = 0; c < n_configs; c++) {
        const bench_config *cfg = &configs[c];
        bool first = true; /* first configuration of this case and pass */
        for (int k = 0; k < c; k++)
            if (configs[k].bc == cfg->bc && configs[k].pass == cfg->pass) first = false;
        if (!first) continue;
        char why[512];
        if (!bench_jit_ops.supports(cfg, 1, why, sizeof why)) continue;
        bench_compile_times t;
        if (bench_jit_compile_times(cfg, &t, why, sizeof why) != 0) {
            fprintf(stderr, "lucid-bench: compile %s %s: %s\n", cfg->bc->name, bench_pass_name(cfg->pass), why);
            continue;
        }
        if (!printed_title) {
            printf("\ncompile (default passes + lc_compile, median; on the first shape each case fits;\n"
                   "  q: the program started on the quick tier, optimized: the same with tiering off)\n"
                   "  %-17s %-7s %14s %12s %12s  %s\n", "pipeline", "pass", "jit-cold", "optimized",
                   "jit-cached", "shape");
            printed_title = true;
        }
        char shape[96];
        printf("  %-17s %-7s %9.3f ms %s %9.3f ms %9.4f ms  %s\n", cfg->bc->name, bench_pass_name(cfg->pass),
               t.cold_ms, t.quick ? "q" : " ", t.optimized_ms, t.cached_ms,
               bench_config_shape_str(cfg, shape, sizeof shape));
        if (ctx->json) {
            bench_report_compile_json(ctx->json, cfg->bc->name, cfg->pass, "jit-cold", t.cold_ms);
            bench_report_compile_json(ctx->json, cfg->bc->name, cfg->pass, "jit-cached", t.cached_ms);
        }
    }
}

/* Compile records of the compile-only pipelines (bench/cases.c), on the first shape each
 * fits; only when every case runs (the default), so a --case selection times just its own. */
static void run_compile_only_records(run_ctx *ctx, const bench_options *opt) {
    if (opt->n_cases != bench_case_count()) return;
    for (int i = 0; i < bench_compile_case_count(); i++) {
        const bench_compile_case *cc = bench_compile_case_at(i);
        int s = 0;
        while (s < opt->n_shapes && (opt->shapes[s][3] != 0 || opt->shapes[s][2] < cc->min_length)) s++;
        if (s == opt->n_shapes) continue;
        bench_case named = {.name = cc->name};
        for (int p = 0; p < 2; p++) {
            bench_config cfg = {.bc = &named, .pass = (bench_pass)p, .n = opt->shapes[s][0],
                                .c = opt->shapes[s][1], .l = opt->shapes[s][2]};
            char why[512];
            bench_compile_times t;
            int rc = -1;
            if (lc_model_parse(cc->model, cc->name, &cfg.module) != LC_OK)
                snprintf(why, sizeof why, "%s", lc_last_error());
            else if (bench_jit_ops.supports(&cfg, 1, why, sizeof why))
                rc = bench_jit_compile_times(&cfg, &t, why, sizeof why);
            lc_module_free(cfg.module);
            if (rc != 0) {
                fprintf(stderr, "lucid-bench: compile %s %s: %s\n", cc->name, bench_pass_name(cfg.pass), why);
                continue;
            }
            printf("  %-17s %-7s %9.3f ms %s %9.3f ms %9.4f ms  (%lld, %lld, %lld)\n", cc->name,
                   bench_pass_name(cfg.pass), t.cold_ms, t.quick ? "q" : " ", t.optimized_ms, t.cached_ms,
                   (long long)cfg.n, (long long)cfg.c, (long long)cfg.l);
            if (ctx->json) {
                bench_report_compile_json(ctx->json, cc->name, cfg.pass, "jit-cold", t.cold_ms);
                bench_report_compile_json(ctx->json, cc->name, cfg.pass, "jit-cached", t.cached_ms);
            }
        }
    }
}

int main(int argc, char **argv) {
#ifdef LUCID_BENCH_HAVE_DNNL
    /* oneDNN's OpenMP threads spin after each run for up to GOMP_SPINCOUNT iterations (libgomp
     * default 300000, several ms), which would eat into the next interleaved slice of another
     * impl. libgomp reads the variable when it loads, so set it and start over. 10000 spins
     * still cover the gaps between back-to-back runs, so oneDNN's own timing is unaffected. */
    const char *preload = getenv("LD_PRELOAD");
    bool under_valgrind = preload && strstr(preload, "vgpreload");
    if (!getenv("GOMP_SPINCOUNT") && !under_valgrind && setenv("GOMP_SPINCOUNT", "10000", 1) == 0)
        execv("/proc/self/exe", argv);
#endif
    bench_options opt;
    char err[512];
    if (bench_parse_options(argc, argv, &opt, err, sizeof err) != 0) {
        fprintf(stderr, "lucid-bench: %s\n", err);
        return 2;
    }
    if (opt.help) {
        bench_print_usage(stdout);
        return 0;
    }
    if (opt.version) {
        printf("lucid-bench %s (LLVM %d)\n", lc_version(), LUCID_LLVM_VERSION_MAJOR);
        return 0;
    }
    const char *detail = getenv("LUCID_BENCH_FLOOR_DETAIL");
    run_ctx ctx = {.opt = &opt, .budget_s = bench_row_budget_s(), .floor_detail = detail && *detail && *detail != '0'};

    /* Every configuration, checked before anything runs. */
    int n_configs = opt.n_shapes * opt.n_cases * BENCH_PASS_COUNT;
    bench_config *configs = calloc((size_t)n_configs, sizeof *configs);
    if (!configs) {
        fprintf(stderr, "lucid-bench: out of memory\n");
        return 2;
    }
    /* A case that does not fit a shape (a kernel longer than the tiny default shape) is
     * skipped with a line saying why; nothing to run at all is a usage error. */
    int k = 0;
    for (int s = 0; s < opt.n_shapes; s++)
        for (int c = 0; c < opt.n_cases; c++)
            for (int p = 0; p < BENCH_PASS_COUNT; p++) {
                if (opt.cases[c]->kind == BENCH_KIND_POOL && p == BENCH_TRAIN) continue; /* nothing to train */
                if (bench_config_init(&configs[k], opt.cases[c], opt.shapes[s], (bench_pass)p, err, sizeof err) != 0) {
                    if (p == 0 && (opt.cases[c]->is_2d == (opt.shapes[s][3] != 0))) {
                        fprintf(stderr, "lucid-bench: %s on --shape %lld,%lld,%lld", opt.cases[c]->name,
                                (long long)opt.shapes[s][0], (long long)opt.shapes[s][1], (long long)opt.shapes[s][2]);
                        if (opt.shapes[s][3]) fprintf(stderr, ",%lld", (long long)opt.shapes[s][3]);
                        fprintf(stderr, ": skipped: %s\n", err);
                    }
                    continue;
                }
                k++;
            }
    if (k == 0) {
        fprintf(stderr, "lucid-bench: no case fits any shape given\n");
        free(configs);
        return 2;
    }
    n_configs = k;

    char tmp_json[4096] = "";
    if (opt.json) {
        snprintf(tmp_json, sizeof tmp_json, "%s.tmp.%ld", opt.json, (long)getpid());
        ctx.json = fopen(tmp_json, "w");
        if (!ctx.json) {
            fprintf(stderr, "lucid-bench: --json %s: cannot write %s\n", opt.json, tmp_json);
            for (int i = 0; i < n_configs; i++) bench_config_free(&configs[i]);
            free(configs);
            return 2;
        }
    }

    /* A cold compile must be cold: no on-disk cache. */
    if (getenv("LUCID_CACHE_DIR")) {
        fprintf(stderr, "lucid-bench: ignoring LUCID_CACHE_DIR (jit-cold means no cache)\n");
        unsetenv("LUCID_CACHE_DIR");
    }
    for (int id = 0; id < BENCH_IMPL_COUNT; id++) {
        ctx.enabled[id] = opt.impl[id];
        const bench_impl_ops *ops = impl_ops((bench_impl_id)id);
        if (ctx.enabled[id] && ops && ops->available(err, sizeof err) != 0) {
            note_once(bench_impl_name((bench_impl_id)id), err);
            ctx.enabled[id] = false;
        }
    }
    if (!bench_alloc_tracking_works())
        fprintf(stderr, "lucid-bench: peak_extra_bytes is not measured in this build (AddressSanitizer)\n");

    double load = 0;
    FILE *lf = fopen("/proc/loadavg", "r");
    if (lf) {
        if (fscanf(lf, "%lf", &load) != 1) load = 0;
        fclose(lf);
    }
    if (load > 0.5)
        fprintf(stderr, "lucid-bench: load average %.2f on %d cores: other work is running, so the figures "
                "(multi-threaded ones most) will be noisy\n", load, bench_cores());
    char cpu[256];
    cpu_name(cpu, sizeof cpu);
    printf("lucid-bench: %s, %d cores; float32; median and min of timed runs after warm-up;\n"
           "GB/s = minimal bytes (inputs read once, outputs written once) / median; %%floor = floor / time;\n"
           "vs X = X's time / this row's time (above 1: this row is faster)\n",
           cpu, bench_cores());
    fflush(stdout);

    if (ctx.enabled[BENCH_IMPL_TORCH]) run_torch(&ctx, configs, n_configs);

    for (int c = 0; c < n_configs; c++) {
        if (bench_config_alloc(&configs[c], err, sizeof err) != 0) {
            fprintf(stderr, "lucid-bench: %s %s: %s\n", configs[c].bc->name, bench_pass_name(configs[c].pass), err);
            continue;
        }
        run_config(&ctx, c, &configs[c]);
        bench_config_free_buffers(&configs[c]);
    }
    if (ctx.enabled[BENCH_IMPL_JIT]) {
        run_compile_records(&ctx, configs, n_configs);
        run_compile_only_records(&ctx, &opt);
    }

    bench_pool_stop();
    int status = ctx.mismatch ? 1 : 0;
    if (ctx.json) {
        if (fclose(ctx.json) != 0 || rename(tmp_json, opt.json) != 0) {
            fprintf(stderr, "lucid-bench: --json %s: cannot write the file\n", opt.json);
            remove(tmp_json);
            status = 2;
        }
    }
    for (int i = 0; i < n_configs; i++) bench_config_free(&configs[i]);
    free(configs);
    free(ctx.torch_rows);
    for (int i = 0; i < n_notes; i++) free(notes[i]);
    return status;
}
