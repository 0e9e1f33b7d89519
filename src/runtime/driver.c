/* The compile driver: the stages of lucid/stages.def, walked in one straight line.
 *
 *  g ─▶ built ─▶ autodiff ─▶ simplify ─▶ cse ─▶ dce ─▶ fuse ─▶ plan ─▶ llvm ─▶ llvm-opt ─▶ asm ─▶ remarks ─▶ time
 *      (given)  (backward   └── one pass step each ──┘  lc_fuse lc_plan └─── one lc_codegen call: ───┘   report of
 *                only)        (lc_pipeline_step)                          emit · optimize · object      the times
 *                                                                         (· link for a program)
 *  after each stage: hook(name, artefact, ms); the walk ends after `last`
 *
 * `first` is where the graph enters: built, or fuse for a graph that went through the passes
 * already (lc_compile). The codegen call stops at the step the last stage needs (llvm: emit
 * only) and links only when a program is wanted or `time` is asked for, so a walk that ends
 * at plan never starts LLVM. Texts are made only for the stages asked for, and none is read
 * back: the `time` stage prints the milliseconds the hook saw.
 *
 * Also here, because they are the driver's callers inside the library: the default graph
 * pipeline (lc_pipeline_run_default, the walk from built to dce) and the LUCID_DUMP sink. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lucid/driver.h"
#include "lucid/passes.h"
#include "codegen/objcache.h"
#include "passes/pipeline.h"
#include "runtime/program_internal.h"
#include "support/clock.h"
#include "support/error.h"
#include "support/memstream.h"
#include "support/strbuf.h"

lc_drive_options lc_drive_options_default(void) {
    lc_drive_options o = {0};
    o.first = LC_STAGE_BUILT;
    o.last = LC_STAGE_TIME;
    o.opt_level = 3;
    o.verify = lc_pipeline_options_default().verify; /* one rule for when passes verify */
    return o;
}

static const char *plural(long n) { return n == 1 ? "" : "s"; }

static int count_lines(const char *text) {
    int lines = 0;
    for (const char *q = text; q && *q; q++) lines += *q == '\n';
    return lines;
}

/* ---- the walk ---- */

typedef struct walk {
    const lc_drive_options *o;
    lc_stage last;            /* o->last, raised to asm when a program is wanted */
    bool link;                /* codegen goes through the JIT link */
    const lc_graph *input;
    lc_graph *graph;          /* the current graph: `input` (borrowed) or a pass's (owned) */
    lc_code *code;            /* fused, jit and entries as the stages make them */
    lc_codegen_texts texts;
    int index;                /* of the next stage reported */
    bool ran[LC_STAGE_COUNT];
    double ms[LC_STAGE_COUNT];
    double start_ms;
    char summary[160];
} walk;

static bool wants_text(const walk *w, lc_stage s) { return (w->o->text & LC_STAGE_BIT(s)) != 0; }

static lc_status report(walk *w, lc_stage s, const char *text, bool changed, double ms) {
    w->ran[s] = true;
    w->ms[s] = ms;
    if (!w->o->on_stage) return LC_OK; /* no listener: no words (a cache hit runs this per pass) */
    lc_stage_info info = {.name = lc_stage_name(s), .index = w->index++, .stage = s,
                          .artefact = lc_stage_artefact(s), .text = text, .summary = w->summary,
                          .changed = changed, .ms = ms};
    if (info.artefact == LC_ARTEFACT_GRAPH) {
        info.graph = w->graph;
        snprintf(w->summary, sizeof w->summary, "%d nodes, %d input%s, %d output%s",
                 lc_graph_node_count(w->graph), lc_graph_input_count(w->graph),
                 plural(lc_graph_input_count(w->graph)), lc_graph_output_count(w->graph),
                 plural(lc_graph_output_count(w->graph)));
    }
    lc_status st = w->o->on_stage(&info, w->o->user);
    w->summary[0] = '\0';
    return st;
}

static lc_status run_pass(walk *w, lc_stage s) {
    if (s == LC_STAGE_AUTODIFF && !w->o->backward) return LC_OK;
    const lc_pass *pass = lc_pass_find(lc_stage_name(s));
    LC_ASSERT(pass); /* the registry is expanded from the same rows */
    lc_stage_info step = {0};
    LC_TRY(lc_pipeline_step(pass, w->o->verify, &w->graph, w->graph != w->input, &step));
    return report(w, s, NULL, step.changed, step.ms);
}

/* A fused printer's output as a string (caller frees). */
static lc_status capture(lc_status (*print)(const lc_fused *, FILE *), const lc_fused *f,
                         char **out) {
    lc_memstream m;
    LC_TRY(lc_memstream_open(&m));
    return lc_memstream_finish(&m, print(f, m.file), out);
}

static lc_status report_fused(walk *w, lc_stage s, lc_status (*print)(const lc_fused *, FILE *),
                              double ms) {
    char *text = NULL;
    if (wants_text(w, s)) LC_TRY(capture(print, w->code->fused, &text));
    lc_status st = report(w, s, text, false, ms);
    free(text);
    return st;
}

static lc_status run_fuse(walk *w) {
    double t = lc_now_ms();
    lc_fuse_target target = lc_codegen_fuse_target();
    LC_TRY(lc_fuse_for(w->graph, &target, &w->code->fused));
    double ms = lc_now_ms() - t;
    int n = w->code->fused->n_kernels;
    snprintf(w->summary, sizeof w->summary, "%d kernel%s", n, plural(n));
    return report_fused(w, LC_STAGE_FUSE, lc_fused_print, ms);
}

static lc_status run_plan(walk *w) {
    double t = lc_now_ms();
    LC_TRY(lc_plan(w->code->fused));
    double ms = lc_now_ms() - t;
    const lc_fused *f = w->code->fused;
    snprintf(w->summary, sizeof w->summary, "%d scratch buffer%s, %lld bytes", f->n_scratch,
             plural(f->n_scratch), (long long)f->scratch_bytes);
    return report_fused(w, LC_STAGE_PLAN, lc_plan_print, ms);
}

/* Whether the walk's program starts on the quick tier (tier.c): asked for, a program to link,
 * opt level 2 or 3, no disk cache, no text of a codegen stage (a dump shows the code the
 * program settles on), and few enough loads in a run. */
static bool quick_first(const walk *w) {
    uint32_t codegen_texts = LC_STAGE_BIT(LC_STAGE_LLVM) | LC_STAGE_BIT(LC_STAGE_LLVM_OPT) |
                             LC_STAGE_BIT(LC_STAGE_ASM) | LC_STAGE_BIT(LC_STAGE_REMARKS);
    return w->o->tiered && w->link && w->o->opt_level >= 2 && !(w->o->text & codegen_texts) &&
           !lc_objcache_enabled() && lc_tier_quick_pays(w->code->fused);
}

/* llvm, llvm-opt and asm (and the remarks, made while optimizing) come from one codegen call
 * that stops at the step the walk's last stage needs. */
static lc_status run_codegen(walk *w) {
    lc_code *c = w->code;
    c->entries = calloc((size_t)c->fused->n_kernels + 1, sizeof(lc_kernel_entry));
    if (!c->entries) return lc_fail(LC_ERR_NOMEM, "compile: out of memory");
    lc_codegen_options co = {
        .opt_level = w->o->opt_level,
        .want_llvm = wants_text(w, LC_STAGE_LLVM),
        .want_llvm_opt = wants_text(w, LC_STAGE_LLVM_OPT),
        .want_asm = wants_text(w, LC_STAGE_ASM),
        .want_remarks = wants_text(w, LC_STAGE_REMARKS),
        .last_step = w->link                      ? LC_CODEGEN_LINK
                     : w->last >= LC_STAGE_ASM    ? LC_CODEGEN_OBJECT
                     : w->last >= LC_STAGE_LLVM_OPT ? LC_CODEGEN_OPTIMIZE
                                                  : LC_CODEGEN_EMIT,
    };
    co.quick = quick_first(w);
    c->opt_level = w->o->opt_level;
    c->fixups = calloc((size_t)c->fused->n_kernels + 1, sizeof *c->fixups);
    if (!c->fixups) return lc_fail(LC_ERR_NOMEM, "compile: out of memory");
    for (int k = 0; k <= c->fused->n_kernels; k++) atomic_init(&c->fixups[k], 0);
    LC_TRY(lc_codegen(c->fused, &co, &w->texts, &c->jit, c->entries));
    if (w->link) lc_tier_init(c, co.quick);
    int n = c->fused->n_kernels;
    snprintf(w->summary, sizeof w->summary, "%d kernel function%s", n, plural(n));
    return report(w, LC_STAGE_LLVM, w->texts.llvm, false, w->texts.ms_emit);
}

/* The one step of a compile that may come after its walk: a kernel's fix-up form, the first
 * time a run flags one of its windows (codegen.h). It compiles through the codegen of the
 * walk's llvm stage, with the walk's opt level and pass list, so it is the code the walk
 * would have made for it. */
lc_status lc_drive_fixup(lc_code *c, int k, lc_kernel_entry *out) {
    uintptr_t fn = atomic_load_explicit(&c->fixups[k], memory_order_acquire);
    if (!fn) {
        pthread_mutex_lock(&c->fixup_lock);
        fn = atomic_load_explicit(&c->fixups[k], memory_order_relaxed);
        lc_status st = LC_OK;
        if (!fn) {
            lc_kernel_entry entry = NULL;
            st = lc_codegen_fixup(c->fused, k, c->opt_level, c->jit, &entry);
            if (st == LC_OK) {
                fn = (uintptr_t)entry;
                atomic_store_explicit(&c->fixups[k], fn, memory_order_release);
            }
        }
        pthread_mutex_unlock(&c->fixup_lock);
        if (st != LC_OK) return lc_fail_prefix(st, "program: compiling kernel %d's fix-up form", k);
    }
    *out = (lc_kernel_entry)fn;
    return LC_OK;
}

static lc_status report_llvm_opt(walk *w) {
    if (w->texts.cache_hit)
        snprintf(w->summary, sizeof w->summary, "not run: the object came from the disk cache");
    else
        snprintf(w->summary, sizeof w->summary, "opt level %d", w->o->opt_level);
    return report(w, LC_STAGE_LLVM_OPT, w->texts.llvm_opt, false, w->texts.ms_opt);
}

static lc_status report_asm(walk *w) {
    if (w->texts.cache_hit) snprintf(w->summary, sizeof w->summary, "object from the disk cache");
    else if (w->texts.asm_text)
        snprintf(w->summary, sizeof w->summary, "%d lines", count_lines(w->texts.asm_text));
    else snprintf(w->summary, sizeof w->summary, "object code");
    return report(w, LC_STAGE_ASM, w->texts.asm_text, false, w->texts.ms_object);
}

static lc_status report_remarks(walk *w) {
    const char *text = NULL;
    if (wants_text(w, LC_STAGE_REMARKS)) {
        bool any = w->texts.remarks && *w->texts.remarks;
        text = any ? w->texts.remarks : "(no loop-vectorize remarks)\n";
        snprintf(w->summary, sizeof w->summary, "%d remark%s", count_lines(w->texts.remarks),
                 plural(count_lines(w->texts.remarks)));
    } else {
        snprintf(w->summary, sizeof w->summary, "made while optimizing, when asked for");
    }
    return report(w, LC_STAGE_REMARKS, text, false, 0.0);
}

/* Every stage that ran with the milliseconds the hook saw, then codegen's steps. */
static lc_status time_text(const walk *w, char **out) {
    lc_strbuf sb = {0};
    static const char *const step[LC_STAGE_COUNT] = {
        [LC_STAGE_LLVM] = "  (emit IR)", [LC_STAGE_LLVM_OPT] = "  (optimize)",
        [LC_STAGE_ASM] = "  (object code)"};
    for (int s = 0; s < LC_STAGE_TIME; s++) {
        if (!w->ran[s] || s == LC_STAGE_REMARKS) continue; /* remarks: made during llvm-opt */
        lc_strbuf_printf(&sb, "%-10s %10.3f ms%s%s\n", lc_stage_name((lc_stage)s), w->ms[s],
                         step[s] ? step[s] : "",
                         s == LC_STAGE_ASM && w->texts.cache_hit ? " (disk cache hit)" : "");
    }
    if (w->ran[LC_STAGE_LLVM]) {
        const lc_codegen_texts *t = &w->texts;
        if (w->link) lc_strbuf_printf(&sb, "%-10s %10.3f ms  (JIT link)\n", "link", t->ms_link);
        lc_strbuf_printf(&sb, "%-10s %10.3f ms  (emit IR + optimize + object%s)\n", "codegen",
                         t->ms_emit + t->ms_opt + t->ms_object + (w->link ? t->ms_link : 0.0),
                         w->link ? " + link" : "");
    }
    lc_strbuf_printf(&sb, "%-10s %10.3f ms  (wall, from the first stage)\n", "total",
                     lc_now_ms() - w->start_ms);
    return lc_strbuf_finish(&sb, out);
}

static lc_status report_time(walk *w) {
    char *text = NULL;
    if (wants_text(w, LC_STAGE_TIME)) LC_TRY(time_text(w, &text));
    int n = 0;
    for (int s = 0; s < LC_STAGE_TIME; s++) n += w->ran[s];
    snprintf(w->summary, sizeof w->summary, "%d stage%s timed", n, plural(n));
    lc_status st = report(w, LC_STAGE_TIME, text, false, 0.0);
    free(text);
    return st;
}

static lc_status run_stage(walk *w, lc_stage s) {
    switch (s) {
    case LC_STAGE_BUILT: return report(w, s, NULL, false, 0.0); /* the graph as given */
#define LC_STAGE(ID, name, artefact, ext, about)
#define LC_PASS_STAGE(ID, name, pass, about) case LC_STAGE_##ID:
#include "lucid/stages.def"
#undef LC_PASS_STAGE
#undef LC_STAGE
        return run_pass(w, s);
    case LC_STAGE_FUSE: return run_fuse(w);
    case LC_STAGE_PLAN: return run_plan(w);
    case LC_STAGE_LLVM: return run_codegen(w);
    case LC_STAGE_LLVM_OPT: return report_llvm_opt(w);
    case LC_STAGE_ASM: return report_asm(w);
    case LC_STAGE_REMARKS: return report_remarks(w);
    case LC_STAGE_TIME: return report_time(w);
    case LC_STAGE_COUNT: break;
    }
    return lc_fail(LC_ERR_INTERNAL, "drive: stage %d is not in the table", (int)s);
}

static lc_status check_options(const lc_drive_options *o) {
    if ((unsigned)o->first > LC_STAGE_FUSE)
        return lc_fail(LC_ERR_INVALID_ARG, "drive: first must be a stage from built to fuse "
                       "(a graph enters there), got %d", (int)o->first);
    if ((unsigned)o->last >= LC_STAGE_COUNT)
        return lc_fail(LC_ERR_INVALID_ARG, "drive: last must be a stage, got %d", (int)o->last);
    if (o->opt_level < 0 || o->opt_level > 3)
        return lc_fail(LC_ERR_INVALID_ARG, "drive: opt_level must be 0..3, got %d", o->opt_level);
    return LC_OK;
}

lc_status lc_drive_walk(const lc_graph *g, const lc_drive_options *opts, lc_graph **graph_out,
                        lc_code **code_out) {
    if (graph_out) *graph_out = NULL;
    if (code_out) *code_out = NULL;
    if (!g) return lc_fail(LC_ERR_INVALID_ARG, "pipeline: graph must not be NULL");
    lc_drive_options defaults = lc_drive_options_default();
    const lc_drive_options *o = opts ? opts : &defaults;
    LC_TRY(check_options(o));
    if (o->verify) {
        lc_status st = lc_graph_verify(g);
        if (st != LC_OK) return lc_fail_prefix(st, "pipeline: input graph");
    }
    walk w = {.o = o, .last = o->last, .input = g, .graph = (lc_graph *)g, .start_ms = lc_now_ms()};
    /* a program needs its object code, and `time` reports the whole compile */
    if (code_out && w.last < LC_STAGE_ASM) w.last = LC_STAGE_ASM;
    w.link = code_out || w.last >= LC_STAGE_TIME;
    w.code = lc_code_new();
    if (!w.code) return lc_fail(LC_ERR_NOMEM, "compile: out of memory");
    lc_status st = LC_OK;
    for (lc_stage s = o->first; s <= w.last && st == LC_OK; s++) st = run_stage(&w, s);
    lc_codegen_texts_free(&w.texts);
    if (st == LC_OK && graph_out) {
        if (w.graph == g) st = lc_graph_clone(g, graph_out);
        else {
            *graph_out = w.graph;
            w.graph = (lc_graph *)g;
        }
    }
    if (w.graph != g) lc_graph_free(w.graph);
    if (st == LC_OK && code_out) {
        *code_out = w.code;
        return LC_OK;
    }
    lc_code_release(w.code);
    if (st != LC_OK && graph_out) {
        lc_graph_free(*graph_out);
        *graph_out = NULL;
    }
    return st;
}

lc_status lc_drive(const lc_graph *g, const lc_drive_options *o, lc_graph **graph_out,
                   lc_program **program) {
    if (program) *program = NULL;
    lc_code *code = NULL;
    LC_TRY(lc_drive_walk(g, o, graph_out, program ? &code : NULL));
    if (!program) return LC_OK;
    lc_program *p = calloc(1, sizeof *p);
    if (!p) {
        lc_code_release(code);
        if (graph_out) {
            lc_graph_free(*graph_out);
            *graph_out = NULL;
        }
        return lc_fail(LC_ERR_NOMEM, "compile: out of memory");
    }
    p->code = code;
    *program = p;
    return LC_OK;
}

/* ---- dumps: LUCID_DUMP, LUCID_DUMP_DIR and lc_compile_options.dump ---- */

static void list_stage_names(char *buf, size_t size) {
    size_t used = 0;
    buf[0] = '\0';
    for (int s = 0; s < LC_STAGE_COUNT && used < size; s++) {
        int k = snprintf(buf + used, size - used, "%s, ", lc_stage_name((lc_stage)s));
        if (k < 0) break;
        used += (size_t)k;
    }
    if (used < size) snprintf(buf + used, size - used, "all");
}

static atomic_flag g_env_warned = ATOMIC_FLAG_INIT;

lc_status lc_dump_parse(const char *list, bool from_env, uint32_t *stages) {
    *stages = 0;
    if (!list) return LC_OK;
    /* the environment is read at every compile: its unknown names are reported once */
    bool warn = from_env && !atomic_flag_test_and_set(&g_env_warned);
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        int s = lc_stage_lookup(p, len);
        if (len == 3 && strncmp(p, "all", 3) == 0) {
            *stages |= LC_STAGE_BIT(LC_STAGE_COUNT) - 1u;
        } else if (s >= 0) {
            *stages |= LC_STAGE_BIT(s);
        } else if (len > 0 && (warn || !from_env)) {
            char known[512];
            list_stage_names(known, sizeof known);
            if (!from_env)
                return lc_fail(LC_ERR_INVALID_ARG, "compile: dump: unknown stage \"%.*s\" (known: %s)",
                               (int)len, p, known);
            fprintf(stderr, "lucid: LUCID_DUMP: unknown stage \"%.*s\" (known: %s); ignoring it\n",
                    (int)len, p, known);
        }
        p += len;
        if (*p == ',') p++;
    }
    return LC_OK;
}

uint32_t lc_dump_env_stages(void) {
    uint32_t stages = 0;
    (void)lc_dump_parse(getenv("LUCID_DUMP"), true, &stages); /* lenient: never fails */
    return stages;
}

static atomic_flag g_dir_warned = ATOMIC_FLAG_INIT;

/* One stage's dump where LUCID_DUMP_DIR says (DIR/NAME.EXT), else on stderr (an unusable
 * directory is reported once per process, like every environment value). */
static void write_env_dump(const lc_stage_info *s, const char *text) {
    const char *dir = getenv("LUCID_DUMP_DIR");
    if (dir && *dir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.%s", dir, s->name, lc_stage_ext(s->stage));
        FILE *f = fopen(path, "w");
        if (f) {
            bool ok = fputs(text, f) >= 0;
            if (fclose(f) == 0 && ok) return;
        }
        if (!atomic_flag_test_and_set(&g_dir_warned))
            fprintf(stderr, "lucid: LUCID_DUMP_DIR: cannot write %s; dumping to stderr\n", path);
    }
    fprintf(stderr, ";; stage %s\n%s", s->name, text);
    size_t n = strlen(text);
    if (n == 0 || text[n - 1] != '\n') fputc('\n', stderr);
}

lc_status lc_dump_stage_hook(const lc_stage_info *s, void *user) {
    const lc_dump_sink *sink = user;
    if (!(sink->stages & LC_STAGE_BIT(s->stage))) return LC_OK;
    char *graph_text = NULL;
    if (s->artefact == LC_ARTEFACT_GRAPH) LC_TRY(lc_graph_to_string(s->graph, &graph_text));
    const char *text = graph_text ? graph_text : s->text ? s->text : "";
    if (sink->fn) sink->fn(sink->ctx, s->name, text);
    else write_env_dump(s, text);
    free(graph_text);
    return LC_OK;
}

/* ---- the default graph pipeline: the walk from built to dce ---- */

int lc_pipeline_default_names(bool backward, const char **names, int cap) {
    static const char *const passes[] = {
#define LC_STAGE(ID, name, artefact, ext, about)
#define LC_PASS_STAGE(ID, name, pass, about) name,
#include "lucid/stages.def"
#undef LC_PASS_STAGE
#undef LC_STAGE
    };
    int n = 0;
    for (size_t i = 0; i < sizeof passes / sizeof passes[0]; i++) {
        if (!backward && strcmp(passes[i], "autodiff") == 0) continue;
        if (n < cap) names[n] = passes[i];
        n++;
    }
    return n;
}

typedef struct pipeline_hook {
    const lc_pipeline_options *opts;
    lc_dump_sink env;
    int index;
} pipeline_hook;

/* LUCID_DUMP's graph stages, then the caller's dump and hook, which see the passes only. */
static lc_status pipeline_stage(const lc_stage_info *s, void *user) {
    pipeline_hook *h = user;
    LC_TRY(lc_dump_stage_hook(s, &h->env));
    if (s->stage == LC_STAGE_BUILT) return LC_OK;
    lc_stage_info pass = *s;
    pass.index = h->index++;
    if (h->opts->dump) LC_TRY(lc_pipeline_dump_graph(h->opts->dump, pass.name, pass.graph));
    return h->opts->on_stage ? h->opts->on_stage(&pass, h->opts->user) : LC_OK;
}

lc_status lc_pipeline_run_default(const lc_graph *in, bool backward,
                                  const lc_pipeline_options *opts, lc_graph **out) {
    if (!out) return lc_fail(LC_ERR_INVALID_ARG, "pipeline: out must not be NULL");
    *out = NULL;
    if (!in) return lc_fail(LC_ERR_INVALID_ARG, "pipeline: graph must not be NULL");
    lc_pipeline_options defaults = lc_pipeline_options_default();
    pipeline_hook hook = {.opts = opts ? opts : &defaults,
                          .env = {.stages = lc_dump_env_stages()}};
    lc_drive_options o = lc_drive_options_default();
    o.last = LC_STAGE_DCE;
    o.backward = backward;
    o.verify = hook.opts->verify;
    /* the hook only where someone reads the stages; where nobody does, the passes' memo */
    if (hook.env.stages || hook.opts->dump || hook.opts->on_stage) {
        o.on_stage = pipeline_stage;
        o.user = &hook;
        return lc_drive_walk(in, &o, out, NULL);
    }
    unsigned char *key = NULL;
    size_t len = 0;
    /* tagged by what changes the walk: the backward, and whether the graphs are verified */
    int tag = (backward ? 1 : 0) | (o.verify ? 2 : 0);
    /* a graph too large for the memo to keep is not keyed at all: its key costs as much as
     * the graph */
    if (lc_pass_memo_may_keep(in) && lc_graph_key(in, tag, true, &key, &len) == LC_OK &&
        (*out = lc_pass_memo_find(key, len))) {
        free(key);
        return LC_OK;
    }
    lc_status st = lc_drive_walk(in, &o, out, NULL);
    if (st == LC_OK && key) lc_pass_memo_insert(key, len, *out);
    free(key);
    return st;
}
