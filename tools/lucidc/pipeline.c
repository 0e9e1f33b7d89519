/* Runs the compiler's stages one after another, keeping each stage's result for dump and its
 * time and size for demo. The graph passes come from the registry (passes.def), so a new pass
 * appears here, in `dump --stage`, and in `--stage all` without a change to lucidc. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"
#include "lucid/autodiff.h"
#include "passes/kernel.h"
#include "passes/pass.h"
#include "lucid/program.h"

/* The fixed stages around the registered passes. */
static const char *const BEFORE_PASSES[] = {"built", "autodiff"};
static const char *const AFTER_PASSES[] = {"fuse", "plan", "llvm", "llvm-opt", "asm", "remarks", "time"};
enum { N_BEFORE = 2, N_AFTER = 7 };

/* Registered passes, without autodiff, which has its own stage. */
static int n_graph_passes(void) {
    int n = 0;
    for (int i = 0; i < lc_pass_count(); i++)
        if (strcmp(lc_pass_at(i)->name, "autodiff") != 0) n++;
    return n;
}

static const lc_pass *graph_pass_at(int k) {
    for (int i = 0; i < lc_pass_count(); i++) {
        if (!strcmp(lc_pass_at(i)->name, "autodiff")) continue;
        if (k-- == 0) return lc_pass_at(i);
    }
    return NULL;
}

int cli_stage_name_count(void) { return N_BEFORE + n_graph_passes() + N_AFTER; }

const char *cli_stage_name_at(int i) {
    if (i < N_BEFORE) return BEFORE_PASSES[i];
    i -= N_BEFORE;
    if (i < n_graph_passes()) return graph_pass_at(i)->name;
    i -= n_graph_passes();
    return i < N_AFTER ? AFTER_PASSES[i] : NULL;
}

bool cli_stage_available(const char *name) {
    (void)name; /* every stage has its producer in this build */
    return true;
}

static cli_stage *add_stage(cli_pipeline *p, const char *name, const char *ext, bool is_graph) {
    cli_stage *s = &p->stages[p->n++];
    memset(s, 0, sizeof *s);
    s->name = name;
    s->ext = ext;
    s->is_graph = is_graph;
    return s;
}

static void graph_summary(cli_stage *s) {
    const lc_graph *g = s->graph;
    snprintf(s->summary, sizeof s->summary, "%d nodes, %d inputs, %d outputs",
             lc_graph_node_count(g), lc_graph_input_count(g), lc_graph_output_count(g));
}

/* Capture a printer's output into a malloc'd string. */
typedef lc_status (*fused_printer)(const lc_fused *f, FILE *out);
static lc_status capture(fused_printer print, const lc_fused *f, char **out) {
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem) return lc_fail(LC_ERR_NOMEM, "dump: cannot open a memory stream");
    lc_status st = print(f, mem);
    if (fclose(mem) != 0 && st == LC_OK) st = lc_fail(LC_ERR_NOMEM, "dump: out of memory");
    if (st != LC_OK) {
        free(buf);
        return st;
    }
    *out = buf;
    return LC_OK;
}

/* Collects the JIT's dumps into pipeline stages (time is kept aside: it is merged into ours). */
typedef struct jit_capture {
    cli_pipeline *p;
    char *time_text;
    bool failed;
} jit_capture;

static void on_dump(void *ctx, const char *stage, const char *text) {
    jit_capture *c = ctx;
    static const struct { const char *name, *ext; } known[] = {
        {"llvm", "ll"}, {"llvm-opt", "ll"}, {"asm", "s"}, {"remarks", "txt"}};
    char *copy = strdup(text ? text : "");
    if (!copy) {
        c->failed = true;
        return;
    }
    if (!strcmp(stage, "time")) {
        free(c->time_text);
        c->time_text = copy;
        return;
    }
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (strcmp(stage, known[i].name) != 0 || c->p->n >= CLI_MAX_STAGES - 1) continue;
        cli_stage *s = add_stage(c->p, known[i].name, known[i].ext, false);
        s->text = copy;
        int lines = 0;
        for (const char *q = copy; *q; q++) lines += *q == '\n';
        snprintf(s->summary, sizeof s->summary, "%d lines", lines);
        return;
    }
    free(copy);
}

lc_status cli_pipeline_run(const lc_graph *built, bool backward, cli_pipeline *p,
                           const char **failed_stage) {
    memset(p, 0, sizeof *p);
    lc_status st = LC_OK;
    const lc_graph *cur;
    cli_stage *s = add_stage(p, "built", "ir", true);
    *failed_stage = "built";
    double t0 = cli_now_ms();
    LC_TRY(lc_graph_clone(built, &s->graph));
    s->ms = cli_now_ms() - t0;
    graph_summary(s);
    cur = s->graph;

    if (backward) {
        s = add_stage(p, "autodiff", "ir", true);
        *failed_stage = s->name;
        t0 = cli_now_ms();
        LC_TRY(lc_autodiff(cur, NULL, 0, NULL, 0, &s->graph));
        s->ms = cli_now_ms() - t0;
        graph_summary(s);
        cur = s->graph;
    }
    for (int i = 0; i < n_graph_passes(); i++) {
        const lc_pass *pass = graph_pass_at(i);
        s = add_stage(p, pass->name, "ir", true);
        *failed_stage = s->name;
        t0 = cli_now_ms();
        LC_TRY(pass->run(cur, &s->graph));
        s->ms = cli_now_ms() - t0;
        graph_summary(s);
        cur = s->graph;
    }

    lc_fused *f = NULL;
    s = add_stage(p, "fuse", "txt", false);
    *failed_stage = s->name;
    t0 = cli_now_ms();
    st = lc_fuse(cur, &f);
    s->ms = cli_now_ms() - t0;
    if (st == LC_OK) st = capture(lc_fused_print, f, &s->text);
    if (st == LC_OK) {
        snprintf(s->summary, sizeof s->summary, "%d kernel%s", f->n_kernels, f->n_kernels == 1 ? "" : "s");
        s = add_stage(p, "plan", "txt", false);
        *failed_stage = s->name;
        t0 = cli_now_ms();
        st = lc_plan(f);
        s->ms = cli_now_ms() - t0;
    }
    if (st == LC_OK) st = capture(lc_plan_print, f, &s->text);
    if (st == LC_OK)
        snprintf(s->summary, sizeof s->summary, "%d scratch buffer%s, %lld bytes", f->n_scratch,
                 f->n_scratch == 1 ? "" : "s", (long long)f->scratch_bytes);
    lc_fused_free(f);
    if (st != LC_OK) return st;

    /* llvm, llvm-opt, asm, remarks: what the JIT makes of the final graph, caught through the
     * compile's dump hook (a dump bypasses the compile caches, so the stages are real). */
    jit_capture cap = {.p = p};
    lc_compile_options opts = lc_compile_options_default();
    opts.dump = "llvm,llvm-opt,asm,remarks,time";
    opts.dump_fn = on_dump;
    opts.dump_ctx = &cap;
    lc_program *prog = NULL;
    *failed_stage = "llvm";
    t0 = cli_now_ms();
    st = lc_compile(cur, &opts, &prog);
    double codegen_ms = cli_now_ms() - t0;
    lc_program_free(prog);
    if (st == LC_OK && cap.failed) st = lc_fail(LC_ERR_NOMEM, "dump: out of memory");
    if (st != LC_OK) {
        free(cap.time_text);
        return st;
    }

    /* The JIT's breakdown ("llvm (emit IR) 0.749 ms", "llvm-opt 38.0 ms", "object 36.2 ms")
     * gives the codegen stages their times; the object emission stands for asm. */
    for (const char *line = cap.time_text; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char buf[128];
        if (len < sizeof buf) {
            memcpy(buf, line, len);
            buf[len] = '\0';
            char *ms = strstr(buf, " ms");
            char *num = ms ? ms : NULL;
            while (num && num > buf && num[-1] != ' ') num--;
            char *space = strchr(buf, ' ');
            if (ms && space && num > buf) {
                *space = '\0';
                const char *stage = !strcmp(buf, "object") ? "asm" : buf;
                for (int i = 0; i < p->n; i++)
                    if (!strcmp(p->stages[i].name, stage) && strcmp(stage, "fuse") && strcmp(stage, "plan"))
                        p->stages[i].ms = strtod(num, NULL);
            }
        }
        line = end ? end + 1 : line + len;
    }

    /* time: every stage so far, then the JIT's own breakdown. */
    s = add_stage(p, "time", "txt", false);
    *failed_stage = s->name;
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem) {
        free(cap.time_text);
        return lc_fail(LC_ERR_NOMEM, "time: cannot open a memory stream");
    }
    for (int i = 0; i < p->n - 1; i++)
        if (strcmp(p->stages[i].name, "remarks") != 0)
            fprintf(mem, "%-10s %10.3f ms\n", p->stages[i].name, p->stages[i].ms);
    fprintf(mem, "%-10s %10.3f ms (fuse, plan, llvm, llvm-opt, asm and link, with dumps)\n",
            "codegen", codegen_ms);
    if (cap.time_text) fprintf(mem, "# the compile's own breakdown\n%s", cap.time_text);
    free(cap.time_text);
    if (fclose(mem) != 0) {
        free(buf);
        return lc_fail(LC_ERR_NOMEM, "time: out of memory");
    }
    s->text = buf;
    snprintf(s->summary, sizeof s->summary, "%d stages timed", p->n - 1);
    *failed_stage = NULL;
    return LC_OK;
}

const cli_stage *cli_pipeline_find(const cli_pipeline *p, const char *name) {
    for (int i = 0; i < p->n; i++)
        if (!strcmp(p->stages[i].name, name)) return &p->stages[i];
    return NULL;
}

const lc_graph *cli_pipeline_final_graph(const cli_pipeline *p) {
    const lc_graph *g = NULL;
    for (int i = 0; i < p->n; i++)
        if (p->stages[i].is_graph) g = p->stages[i].graph;
    return g;
}

void cli_pipeline_free(cli_pipeline *p) {
    for (int i = 0; i < p->n; i++) {
        lc_graph_free(p->stages[i].graph);
        free(p->stages[i].text);
    }
    p->n = 0;
}
