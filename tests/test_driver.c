/* The compile driver (lucid/driver.h): its hook sees the stages of lucid/stages.def in table
 * order, each once; the walk stops after the last stage asked for (no codegen stage for a walk
 * that ends at plan); the program it makes computes what lc_compile's does, bit for bit; the
 * time stage prints the hook's own milliseconds; LUCID_DUMP's unknown names and an unusable
 * LUCID_DUMP_DIR are reported once. */
#include <fcntl.h>
#include <unistd.h>

#include "jit_harness.h"
#include "lucid/driver.h"
#include "lucid/passes.h"
#include "passes/rebuild.h" /* lc_graph_identical */
#include "support/error.h"

typedef struct seen {
    int n;
    lc_stage stage[2 * LC_STAGE_COUNT];
    lc_artefact artefact[2 * LC_STAGE_COUNT];
    double ms[2 * LC_STAGE_COUNT];
    bool had_text[2 * LC_STAGE_COUNT];
    char time_text[4096];
    char llvm_head[64];
    lc_stage fail_at; /* return an error after this stage (LC_STAGE_COUNT: never) */
} seen;

static lc_status record(const lc_stage_info *s, void *user) {
    seen *r = user;
    assert_true(r->n < 2 * LC_STAGE_COUNT);
    assert_int_equal(s->index, r->n);
    assert_string_equal(s->name, lc_stage_name(s->stage));
    assert_true(s->ms >= 0);
    assert_non_null(s->summary);
    if (s->artefact == LC_ARTEFACT_GRAPH) assert_non_null(s->graph);
    else assert_null(s->graph);
    r->stage[r->n] = s->stage;
    r->artefact[r->n] = s->artefact;
    r->ms[r->n] = s->ms;
    r->had_text[r->n] = s->text != NULL;
    if (s->stage == LC_STAGE_TIME && s->text) snprintf(r->time_text, sizeof r->time_text, "%s", s->text);
    if (s->stage == LC_STAGE_LLVM && s->text) snprintf(r->llvm_head, sizeof r->llvm_head, "%s", s->text);
    r->n++;
    return s->stage == r->fail_at ? lc_fail(LC_ERR_IO, "hook: stop at %s", s->name) : LC_OK;
}

static lc_graph *lp_forward(void) {
    lc_module *m = test_lppool(2, 4, LC_STRIDE_UNSET, false);
    lc_graph *g = jit_module_graph(m, LC_F32, test_shape3(2, 3, 64), false);
    lc_module_free(m);
    return g;
}

/* Runs first: the warning is once per process. */
static void unknown_lucid_dump_stage_warned_once(void **state) {
    (void)state;
    test_stderr_begin();
    setenv("LUCID_DUMP", "bogus", 1);
    lc_graph *g = lp_forward(), *opt;
    assert_ok(lc_pipeline_run_default(g, false, NULL, &opt));
    for (int i = 0; i < 2; i++) {
        lc_program *p;
        assert_ok(lc_compile(opt, NULL, &p));
        lc_program_free(p);
    }
    unsetenv("LUCID_DUMP");
    char *text = test_stderr_end();
    assert_string_equal(text, "lucid: LUCID_DUMP: unknown stage \"bogus\" (known: built, autodiff, "
                              "simplify, cse, dce, fuse, plan, llvm, llvm-opt, asm, remarks, time, "
                              "all); ignoring it\n");
    free(text);
    /* passed explicitly, the same name fails the compile instead */
    lc_compile_options o = lc_compile_options_default();
    o.dump = "fuse,bogus";
    lc_program *p = (lc_program *)1;
    assert_fails(lc_compile(opt, &o, &p), LC_ERR_INVALID_ARG, "compile: dump: unknown stage \"bogus\"");
    assert_null(p);
    lc_graph_free(opt);
    lc_graph_free(g);
}

static int count_prefix(const char *text, const char *prefix) {
    int n = 0;
    for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        n += strncmp(line, prefix, strlen(prefix)) == 0;
    return n;
}

/* An unusable LUCID_DUMP_DIR: said once, and every dump still reaches stderr. */
static void unusable_dump_dir_reported_once(void **state) {
    (void)state;
    test_stderr_begin();
    setenv("LUCID_DUMP", "fuse,plan", 1);
    setenv("LUCID_DUMP_DIR", "/nonexistent/lucid-dumps", 1);
    lc_graph *g = lp_forward();
    for (int i = 0; i < 2; i++) {
        lc_program *p;
        assert_ok(lc_compile(g, NULL, &p));
        lc_program_free(p);
    }
    unsetenv("LUCID_DUMP");
    unsetenv("LUCID_DUMP_DIR");
    char *text = test_stderr_end();
    assert_int_equal(count_prefix(text, "lucid: LUCID_DUMP_DIR: cannot write /nonexistent/lucid-dumps/fuse.txt; dumping to stderr"), 1);
    assert_int_equal(count_prefix(text, "lucid: "), 1);
    assert_int_equal(count_prefix(text, ";; stage fuse"), 2);
    assert_int_equal(count_prefix(text, ";; stage plan"), 2);
    free(text);
    lc_graph_free(g);
}

static void table_columns(void **state) {
    (void)state;
    assert_int_equal(LC_STAGE_COUNT, 12);
    const char *names[] = {"built", "autodiff", "simplify", "cse", "dce", "fuse", "plan",
                           "llvm", "llvm-opt", "asm", "remarks", "time"};
    for (int s = 0; s < LC_STAGE_COUNT; s++) {
        assert_string_equal(lc_stage_name((lc_stage)s), names[s]);
        assert_int_equal(lc_stage_lookup(names[s], strlen(names[s])), s);
    }
    assert_int_equal(lc_stage_lookup("graph", 5), LC_STAGE_BUILT);
    assert_int_equal(lc_stage_lookup("fuse,plan", 4), LC_STAGE_FUSE);
    assert_int_equal(lc_stage_lookup("fus", 3), -1);
    assert_null(lc_stage_name(LC_STAGE_COUNT));
    assert_int_equal(lc_stage_artefact(LC_STAGE_DCE), LC_ARTEFACT_GRAPH);
    assert_int_equal(lc_stage_artefact(LC_STAGE_PLAN), LC_ARTEFACT_FUSED);
    assert_int_equal(lc_stage_artefact(LC_STAGE_ASM), LC_ARTEFACT_TEXT);
    assert_string_equal(lc_stage_ext(LC_STAGE_BUILT), "ir");
    assert_string_equal(lc_stage_ext(LC_STAGE_LLVM_OPT), "ll");
    assert_string_equal(lc_stage_ext(LC_STAGE_ASM), "s");
    assert_string_equal(lc_stage_ext(LC_STAGE_TIME), "txt");
    /* the registry's passes are the table's pass rows, in its order */
    const char *passes[8];
    assert_int_equal(lc_pipeline_default_names(true, passes, 8), 4);
    for (int i = 0; i < 4; i++) assert_string_equal(passes[i], names[LC_STAGE_AUTODIFF + i]);
    /* a compile's dump stages are the tail from fuse on */
    const char *const *dump = lc_dump_stages();
    for (int s = LC_STAGE_FUSE; s < LC_STAGE_COUNT; s++) assert_string_equal(dump[s - LC_STAGE_FUSE], names[s]);
    assert_null(dump[LC_STAGE_COUNT - LC_STAGE_FUSE]);
}

/* Ends at plan: built..plan in order, and no codegen stage (LLVM is never reached). */
static void stops_after_the_last_stage(void **state) {
    (void)state;
    lc_graph *g = lp_forward(), *out;
    seen r = {.fail_at = LC_STAGE_COUNT};
    lc_drive_options o = lc_drive_options_default();
    o.backward = true;
    o.last = LC_STAGE_PLAN;
    o.text = LC_STAGE_BIT(LC_STAGE_FUSE);
    o.on_stage = record;
    o.user = &r;
    assert_ok(lc_drive(g, &o, &out, NULL));
    assert_int_equal(r.n, LC_STAGE_PLAN + 1);
    for (int i = 0; i < r.n; i++) {
        assert_int_equal(r.stage[i], i); /* table order, autodiff included, each once */
        assert_int_equal(r.artefact[i], lc_stage_artefact((lc_stage)i));
        assert_int_equal(r.had_text[i], i == LC_STAGE_FUSE);
    }
    /* the last graph stage's graph: two outputs (y and the gradient) */
    assert_int_equal(lc_graph_output_count(out), 2);
    lc_graph_free(out);

    /* without a backward there is no autodiff stage; `built` alone is just the graph */
    r = (seen){.fail_at = LC_STAGE_COUNT};
    o.backward = false;
    o.last = LC_STAGE_BUILT;
    assert_ok(lc_drive(g, &o, &out, NULL));
    assert_int_equal(r.n, 1);
    assert_int_equal(r.stage[0], LC_STAGE_BUILT);
    assert_true(lc_graph_identical(g, out));
    lc_graph_free(out);

    r = (seen){.fail_at = LC_STAGE_COUNT};
    o.last = LC_STAGE_FUSE;
    assert_ok(lc_drive(g, &o, NULL, NULL));
    lc_stage want[] = {LC_STAGE_BUILT, LC_STAGE_SIMPLIFY, LC_STAGE_CSE, LC_STAGE_DCE, LC_STAGE_FUSE};
    assert_int_equal(r.n, 5);
    for (int i = 0; i < 5; i++) assert_int_equal(r.stage[i], want[i]);

    /* ending at llvm: IR emitted, nothing optimized */
    r = (seen){.fail_at = LC_STAGE_COUNT};
    o.last = LC_STAGE_LLVM;
    o.text = LC_STAGE_BIT(LC_STAGE_LLVM);
    assert_ok(lc_drive(g, &o, NULL, NULL));
    assert_int_equal(r.n, 7);
    assert_int_equal(r.stage[6], LC_STAGE_LLVM);
    assert_non_null(strstr(r.llvm_head, "ModuleID"));

    /* a hook's error stops the walk there and is returned */
    r = (seen){.fail_at = LC_STAGE_CSE};
    o.last = LC_STAGE_TIME;
    out = (lc_graph *)1;
    assert_fails(lc_drive(g, &o, &out, NULL), LC_ERR_IO, "hook: stop at cse");
    assert_null(out);
    assert_int_equal(r.n, 3);
    lc_graph_free(g);
}

/* The whole walk: every stage once, in order; the program computes what lc_compile's does,
 * bit for bit; the time stage prints the hook's milliseconds. */
static void whole_walk_makes_the_program(void **state) {
    (void)state;
    lc_graph *g = lp_forward(), *trained;
    seen r = {.fail_at = LC_STAGE_COUNT};
    lc_drive_options o = lc_drive_options_default();
    o.backward = true;
    o.text = LC_STAGE_BIT(LC_STAGE_TIME);
    o.on_stage = record;
    o.user = &r;
    lc_program *p;
    assert_ok(lc_drive(g, &o, &trained, &p));
    assert_int_equal(r.n, LC_STAGE_COUNT);
    for (int i = 0; i < r.n; i++) assert_int_equal(r.stage[i], i);
    for (int i = 0; i < LC_STAGE_TIME; i++) {
        if (i == LC_STAGE_REMARKS) continue;
        char line[64];
        snprintf(line, sizeof line, "%-10s %10.3f ms", lc_stage_name((lc_stage)i), r.ms[i]);
        assert_non_null(strstr(r.time_text, line));
    }
    assert_non_null(strstr(r.time_text, "\nlink "));
    assert_non_null(strstr(r.time_text, "\ncodegen "));

    /* the same graph through the passes and lc_compile */
    lc_graph *ad, *opt;
    assert_ok(lc_autodiff(g, NULL, 0, NULL, 0, &ad));
    assert_ok(lc_pipeline_run_default(ad, false, NULL, &opt));
    assert_true(lc_graph_identical(opt, trained));
    lc_program *q;
    assert_ok(lc_compile(opt, NULL, &q));
    test_rng rng = test_rng_seeded(11);
    const lc_node *y = lc_graph_node(g, lc_graph_output(g, 0));
    lc_tensor *x = test_random_tensor(&rng, LC_F32, test_shape3(2, 3, 64), 2.0);
    lc_tensor *seed = test_random_tensor(&rng, LC_F32, y->shape, 1.0);
    const lc_tensor *ins[2] = {x, seed};
    lc_tensor *a[2], *b[2];
    assert_ok(lc_program_run(p, ins, 2, a, 2));
    assert_ok(lc_program_run(q, ins, 2, b, 2));
    for (int k = 0; k < 2; k++) {
        assert_int_equal(lc_tensor_nbytes(a[k]), lc_tensor_nbytes(b[k]));
        assert_memory_equal(a[k]->data, b[k]->data, (size_t)lc_tensor_nbytes(a[k]));
        lc_tensor_free(a[k]);
        lc_tensor_free(b[k]);
    }
    /* and what the interpreter makes of the graph as autodiff wrote it */
    lc_tensor *ref[2];
    assert_ok(lc_program_run(p, ins, 2, a, 2));
    assert_ok(lc_interp_run(ad, ins, 2, ref, 2));
    for (int k = 0; k < 2; k++) {
        assert_tensor_close(a[k], ref[k], 1e-4, 1e-6);
        lc_tensor_free(a[k]);
        lc_tensor_free(ref[k]);
    }
    lc_tensor_free(x);
    lc_tensor_free(seed);
    lc_program_free(q);
    lc_program_free(p);
    lc_graph_free(opt);
    lc_graph_free(ad);
    lc_graph_free(trained);
    lc_graph_free(g);
}

/* A graph that went through the passes enters at fuse (what lc_compile does). */
static void enters_at_fuse(void **state) {
    (void)state;
    lc_graph *g = lp_forward();
    seen r = {.fail_at = LC_STAGE_COUNT};
    lc_drive_options o = lc_drive_options_default();
    o.first = LC_STAGE_FUSE;
    o.last = LC_STAGE_PLAN;
    o.on_stage = record;
    o.user = &r;
    assert_ok(lc_drive(g, &o, NULL, NULL));
    assert_int_equal(r.n, 2);
    assert_int_equal(r.stage[0], LC_STAGE_FUSE);
    assert_int_equal(r.stage[1], LC_STAGE_PLAN);
    o.last = (lc_stage)LC_STAGE_COUNT;
    assert_fails(lc_drive(g, &o, NULL, NULL), LC_ERR_INVALID_ARG, "drive: last must be a stage, got 12");
    o.last = LC_STAGE_TIME;
    o.opt_level = 4;
    assert_fails(lc_drive(g, &o, NULL, NULL), LC_ERR_INVALID_ARG, "drive: opt_level must be 0..3, got 4");
    assert_fails(lc_drive(NULL, NULL, NULL, NULL), LC_ERR_INVALID_ARG, "graph must not be NULL");
    lc_graph_free(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unknown_lucid_dump_stage_warned_once),
        cmocka_unit_test(unusable_dump_dir_reported_once),
        cmocka_unit_test(table_columns),
        cmocka_unit_test(stops_after_the_last_stage),
        cmocka_unit_test(whole_walk_makes_the_program),
        cmocka_unit_test(enters_at_fuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
