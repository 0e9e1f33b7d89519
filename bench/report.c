/* Output: the readable table (one block per configuration and thread count) and the JSON
 * records of bench/README.md, one object per line. */
#include <string.h>

#include "bench.h"

static const char *const IMPL_NAMES[BENCH_IMPL_COUNT] = {
    [BENCH_IMPL_FLOOR] = "floor",
    [BENCH_IMPL_MEMCPY] = "memcpy",
    [BENCH_IMPL_JIT] = "jit",
    [BENCH_IMPL_INTERP] = "interp",
    [BENCH_IMPL_TORCH] = "torch",
    [BENCH_IMPL_ONEDNN_NCW] = "onednn-ncw",
    [BENCH_IMPL_ONEDNN_BLOCKED] = "onednn-blocked",
    [BENCH_IMPL_ONEDNN_REORDER] = "onednn-reorder",
    [BENCH_IMPL_ONEDNN_CONV] = "onednn-conv",
};

const char *bench_impl_name(bench_impl_id id) { return IMPL_NAMES[id]; }

bool bench_impl_from_name(const char *name, size_t len, bench_impl_id *out) {
    for (int i = 0; i < BENCH_IMPL_COUNT; i++)
        if (strlen(IMPL_NAMES[i]) == len && strncmp(IMPL_NAMES[i], name, len) == 0) {
            *out = (bench_impl_id)i;
            return true;
        }
    return false;
}

static double gbps(const bench_record *r) { return r->median_ms > 0 ? (double)r->cfg->bytes / (r->median_ms * 1e6) : 0; }

/* The configuration's FLOPs (bench_config.flops) / median; 0 for the pools. */
double bench_record_gflops(const bench_record *r) {
    return r->median_ms > 0 ? r->cfg->flops / (r->median_ms * 1e6) : 0;
}

/* "7.912 ms", "213.4 us", "204 ns" in a fixed width. */
static const char *fmt_time(double ms, char *buf, size_t n) {
    if (ms >= 1.0)
        snprintf(buf, n, "%9.3f ms", ms);
    else if (ms >= 1e-3)
        snprintf(buf, n, "%9.2f us", ms * 1e3);
    else
        snprintf(buf, n, "%9.1f ns", ms * 1e6);
    return buf;
}

static const char *fmt_bytes(double b, char *buf, size_t n) {
    if (b >= 1e9)
        snprintf(buf, n, "%.2f GB", b / 1e9);
    else if (b >= 1e6)
        snprintf(buf, n, "%.2f MB", b / 1e6);
    else if (b >= 1e3)
        snprintf(buf, n, "%.1f kB", b / 1e3);
    else
        snprintf(buf, n, "%.0f B", b);
    return buf;
}

void bench_report_header(FILE *out, const bench_config *cfg, int threads) {
    char b[32], shape[96];
    fprintf(out, "\n%s  %s\n  shape %s  %s  threads %d  minimal bytes %s (x%d rotated)",
            cfg->bc->name, cfg->params, bench_config_shape_str(cfg, shape, sizeof shape),
            bench_pass_name(cfg->pass), threads, fmt_bytes((double)cfg->bytes, b, sizeof b), cfg->n_rot);
    if (cfg->flops > 0) fprintf(out, "  %.4g MFLOP; floor = FMA peak", cfg->flops / 1e6);
    fprintf(out, "\n");
}

static const bench_record *find(const bench_record *recs, int n, bench_impl_id id) {
    for (int i = 0; i < n; i++)
        if (recs[i].impl == id) return &recs[i];
    return NULL;
}

void bench_report_rows(FILE *out, const bench_record *recs, int n) {
    static const bench_impl_id anchors[] = {BENCH_IMPL_TORCH, BENCH_IMPL_ONEDNN_NCW, BENCH_IMPL_ONEDNN_BLOCKED,
                                            BENCH_IMPL_ONEDNN_CONV};
    static const char *const anchor_titles[] = {"vs torch", "vs dnnl-ncw", "vs dnnl-blk", "vs dnnl-conv"};
    const bench_record *fl = find(recs, n, BENCH_IMPL_FLOOR);
    bool flops = n > 0 && recs[0].cfg->flops > 0;
    fprintf(out, "  %-15s %12s %12s %8s %7s %10s", "impl", "median", "min", flops ? "GFLOP/s" : "GB/s", "%floor",
            "extra mem");
    for (size_t a = 0; a < sizeof anchors / sizeof anchors[0]; a++)
        if (find(recs, n, anchors[a])) fprintf(out, " %11s", anchor_titles[a]);
    fprintf(out, "\n");
    for (int i = 0; i < n; i++) {
        const bench_record *r = &recs[i];
        char t1[32], t2[32], eb[32], pct[16] = "";
        if (fl && r->median_ms > 0) snprintf(pct, sizeof pct, "%.1f%%", 100.0 * fl->median_ms / r->median_ms);
        fprintf(out, "  %-15s %12s %12s %8.2f %7s %10s", bench_impl_name(r->impl),
                fmt_time(r->median_ms, t1, sizeof t1), fmt_time(r->min_ms, t2, sizeof t2),
                flops ? bench_record_gflops(r) : gbps(r), pct,
                fmt_bytes((double)r->peak_extra_bytes, eb, sizeof eb));
        for (size_t a = 0; a < sizeof anchors / sizeof anchors[0]; a++) {
            const bench_record *an = find(recs, n, anchors[a]);
            if (!an) continue;
            if (an == r || r->median_ms <= 0)
                fprintf(out, " %11s", "-");
            else
                fprintf(out, " %10.2fx", an->median_ms / r->median_ms);
        }
        if (r->variant) fprintf(out, "  (%s)", r->variant);
        fprintf(out, "\n");
    }
}

static void json_string(FILE *out, const char *s) {
    fputc('"', out);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(out, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(out, "\\u%04x", ch);
        else
            fputc(ch, out);
    }
    fputc('"', out);
}

/* Numbers as JSON: %.6g never prints inf/nan for the finite values given here. */
static void json_number(FILE *out, double v) { fprintf(out, "%.6g", v == v && v - v == 0 ? v : 0.0); }

void bench_report_json(FILE *out, const bench_record *r) {
    const bench_config *cfg = r->cfg;
    fputs("{\"case\": ", out);
    json_string(out, cfg->bc->name);
    fputs(", \"op\": ", out);
    json_string(out, cfg->op);
    fputs(", \"params\": ", out);
    json_string(out, cfg->params);
    if (cfg->h)
        fprintf(out, ", \"shape\": [%lld, %lld, %lld, %lld]", (long long)cfg->n, (long long)cfg->c, (long long)cfg->h,
                (long long)cfg->w);
    else
        fprintf(out, ", \"shape\": [%lld, %lld, %lld]", (long long)cfg->n, (long long)cfg->c, (long long)cfg->l);
    fprintf(out, ", \"pass\": \"%s\", \"impl\": \"%s\", \"threads\": %d", bench_pass_name(cfg->pass),
            bench_impl_name(r->impl), r->threads);
    fputs(", \"median_ms\": ", out);
    json_number(out, r->median_ms);
    fputs(", \"min_ms\": ", out);
    json_number(out, r->min_ms);
    fprintf(out, ", \"bytes\": %lld, \"gbps\": ", (long long)cfg->bytes);
    json_number(out, gbps(r));
    fprintf(out, ", \"peak_extra_bytes\": %lld", (long long)r->peak_extra_bytes);
    if (cfg->flops > 0) {
        fputs(", \"gflops\": ", out);
        json_number(out, bench_record_gflops(r));
    }
    if (r->variant) {
        fputs(", \"variant\": ", out);
        json_string(out, r->variant);
    }
    fputs("}\n", out);
}

void bench_report_compile_json(FILE *out, const char *pipeline, bench_pass pass, const char *impl, double median_ms) {
    fputs("{\"case\": \"compile\", \"pipeline\": ", out);
    json_string(out, pipeline);
    fprintf(out, ", \"pass\": \"%s\", \"impl\": \"%s\", \"median_ms\": ", bench_pass_name(pass), impl);
    json_number(out, median_ms);
    fputs("}\n", out);
}
