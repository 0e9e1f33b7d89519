/* lucid-compile-count: cold compiles of one model, bracketed for callgrind, so the cost of a
 * compile can be counted in instructions (deterministic) where wall time on a shared machine
 * is not.
 *
 *   valgrind --tool=callgrind --collect-atstart=no build/bench/lucid-compile-count \
 *       --model 'LPPool1d(2, 4)' --backward
 *
 * builds the model's graph at the shape (default 8,64,4096, or N,C,H,W for a 2-D model;
 * forward, or forward and backward of sum(y·g) as lucid-bench's fwdbwd rows), compiles it
 * once (LLVM's start-up, not counted), then --repeat times (default 1): clear the in-memory
 * compile cache (not with --cached: then each is a cache hit), run the default passes and
 * lc_compile (default options: a small program compiles quick, docs/pipeline.md "Tiers";
 * --optimized: tiering off, the optimized code at once), with callgrind collecting only
 * around that. Callgrind's "Collected" total
 * divided by the repeats is one cold compile (or one hit). Outside valgrind the client requests do nothing
 * and it prints each cold compile's wall time. The disk cache is never used (LUCID_CACHE_DIR
 * is unset at start). Exit 2 on a bad argument, 1 if a compile fails. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lucid/autodiff.h"
#include "lucid/ir.h"
#include "lucid/model_spec.h"
#include "lucid/passes.h"
#include "lucid/program.h"
#include "support/clock.h"
#include "support/error.h"

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_TOGGLE_COLLECT
#endif

static int usage(const char *why) {
    fprintf(stderr, "lucid-compile-count: %s\nusage: lucid-compile-count --model SPEC [--backward] "
                    "[--shape N,C,L | N,C,H,W] [--repeat N] [--cached] [--optimized]\n", why);
    return 2;
}

/* The graph lucid-bench compiles: the model's forward, with autodiff's backward of sum(y·g)
 * appended for --backward. */
static lc_status build(const lc_module *m, lc_shape shape, bool backward, lc_graph **out) {
    lc_graph *g = NULL;
    int x, y;
    lc_status st = lc_graph_new(&g);
    if (st == LC_OK) st = lc_input(g, "x", LC_F32, shape, &x);
    if (st == LC_OK) st = lc_module_forward(m, g, x, &y);
    if (st == LC_OK) st = lc_graph_add_output(g, y);
    if (st != LC_OK || !backward) {
        if (st != LC_OK) lc_graph_free(g);
        *out = st == LC_OK ? g : NULL;
        return st;
    }
    st = lc_autodiff(g, &y, 1, &x, 1, out);
    lc_graph_free(g);
    return st;
}

static lc_status compile_once(const lc_graph *g, bool optimized) {
    lc_graph *opt = NULL;
    LC_TRY(lc_pipeline_run_default(g, false, NULL, &opt));
    lc_program *p = NULL;
    lc_compile_options o = lc_compile_options_default();
    o.tiered = o.tiered && !optimized;
    lc_status st = lc_compile(opt, &o, &p);
    lc_graph_free(opt);
    lc_program_free(p);
    return st;
}

int main(int argc, char **argv) {
    const char *spec = NULL;
    bool backward = false;
    long long dims[4] = {8, 64, 4096, 0}; /* a fourth: N,C,H,W */
    bool cached = false, optimized = false;
    int repeat = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--backward") == 0) backward = true;
        else if (strcmp(a, "--cached") == 0) cached = true;
        else if (strcmp(a, "--optimized") == 0) optimized = true;
        else if (strcmp(a, "--model") == 0 && v) spec = argv[++i];
        else if (strcmp(a, "--repeat") == 0 && v) {
            char *end;
            long r = strtol(argv[++i], &end, 10);
            if (*end || r < 1 || r > 1000) return usage("--repeat must be 1..1000");
            repeat = (int)r;
        } else if (strcmp(a, "--shape") == 0 && v) {
            char extra;
            int got = sscanf(argv[++i], "%lld,%lld,%lld,%lld%c", &dims[0], &dims[1], &dims[2], &dims[3], &extra);
            if ((got != 3 && got != 4) || dims[0] < 1 || dims[1] < 1 || dims[2] < 1 || (got == 4 && dims[3] < 1))
                return usage("--shape must be N,C,L or N,C,H,W, each >= 1");
            if (got == 3) dims[3] = 0;
        } else {
            char why[256];
            snprintf(why, sizeof why, "unknown or incomplete argument \"%s\"", a);
            return usage(why);
        }
    }
    if (!spec) return usage("--model is required");
    unsetenv("LUCID_CACHE_DIR");
    lc_module *m = NULL;
    lc_graph *g = NULL;
    int64_t d[4] = {dims[0], dims[1], dims[2], dims[3]};
    lc_status st = lc_model_parse(spec, "--model", &m);
    if (st == LC_OK) st = build(m, lc_shape_make(dims[3] ? 4 : 3, d), backward, &g);
    if (st == LC_OK) st = compile_once(g, optimized); /* LLVM's start-up: not counted */
    for (int r = 0; r < repeat && st == LC_OK; r++) {
        if (!cached) lc_compile_cache_clear();
        double t = lc_now_ms();
        CALLGRIND_TOGGLE_COLLECT;
        st = compile_once(g, optimized);
        CALLGRIND_TOGGLE_COLLECT;
        printf("%s %d: %.3f ms\n", cached ? "cache hit" : "cold compile", r + 1, lc_now_ms() - t);
    }
    lc_graph_free(g);
    lc_module_free(m);
    if (st != LC_OK) {
        fprintf(stderr, "lucid-compile-count: %s\n", lc_last_error());
        return 1;
    }
    return 0;
}
