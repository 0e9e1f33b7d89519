/* The program API around the kernels: every conformance case through the JIT (forward and
 * backward), the in-memory and disk compile caches, concurrent runs, run_into, bad calls,
 * and the dump stages. */
#include <dirent.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jit_harness.h"
#include "lucid/npy.h"
#include "support/conformance.h"

static int setup(void **state) {
    (void)state;
    return lc_runtime_set_threads(2) == LC_OK ? 0 : -1;
}

static void conformance_case(const test_case *c, int *ran) {
    lc_tensor *x, *want_y;
    assert_ok(lc_npy_read(test_case_file(c, "input.npy"), &x));
    assert_ok(lc_npy_read(test_case_file(c, "expected_out.npy"), &want_y));
    char path[1200];
    snprintf(path, sizeof path, "%s", test_case_file(c, "grad_out.npy"));
    bool backward = access(path, R_OK) == 0;
    lc_graph *g = jit_module_graph(c->module, x->dtype, x->shape, backward);
    lc_tensor *in[2] = {x, NULL}, *out[2] = {NULL, NULL}, *want_g = NULL;
    if (backward) {
        assert_ok(lc_npy_read(path, &in[1]));
        assert_ok(lc_npy_read(test_case_file(c, "expected_grad_in.npy"), &want_g));
    }
    lc_program *p;
    assert_ok(lc_compile(g, NULL, &p));
    assert_ok(lc_program_run(p, (const lc_tensor *const *)in, backward ? 2 : 1, out, backward ? 2 : 1));
    assert_tensor_close(out[0], want_y, c->rtol, c->atol);
    if (backward) assert_tensor_close(out[1], want_g, c->rtol, c->atol);
    (*ran)++;
    for (int i = 0; i < 2; i++) {
        lc_tensor_free(in[i]);
        lc_tensor_free(out[i]);
    }
    lc_tensor_free(want_y);
    lc_tensor_free(want_g);
    lc_program_free(p);
    lc_graph_free(g);
}

static void conformance_torch(void **state) {
    (void)state;
    int count, ran = 0;
    const char *root = test_source_path("tests/conformance/torch");
    char **names = test_case_list(root, &count);
    for (int i = 0; i < count; i++) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/%s", root, names[i]);
        test_case c;
        test_case_load(dir, &c);
        if (c.module) conformance_case(&c, &ran);
        test_case_free(&c);
    }
    test_case_list_free(names, count);
    assert_int_equal(ran, 23);
}

static void memory_cache(void **state) {
    (void)state;
    lc_compile_cache_clear();
    lc_module *m = test_lppool(2.5, 3, 2, false);
    lc_graph *g1 = jit_module_graph(m, LC_F32, test_shape3(1, 2, 50), true);
    lc_graph *g2 = jit_module_graph(m, LC_F32, test_shape3(1, 2, 50), true); /* same structure */
    lc_graph *g3 = jit_module_graph(m, LC_F32, test_shape3(1, 2, 51), true); /* another shape */
    lc_program *a, *b, *c;
    assert_ok(lc_compile(g1, NULL, &a));
    lc_cache_stats s = lc_compile_cache_stats();
    assert_int_equal(s.misses, 1);
    assert_int_equal(s.hits, 0);
    assert_ok(lc_compile(g2, NULL, &b));
    s = lc_compile_cache_stats();
    assert_int_equal(s.hits, 1);
    assert_ok(lc_compile(g3, NULL, &c));
    s = lc_compile_cache_stats();
    assert_int_equal(s.misses, 2);
    /* a cached program outlives the cache, and the first handle */
    lc_program_free(a);
    lc_compile_cache_clear();
    jit_check_graph(g2, 5, 2.0);
    lc_program_free(b);
    lc_program_free(c);
    lc_graph_free(g1);
    lc_graph_free(g2);
    lc_graph_free(g3);
    lc_module_free(m);
}

static int count_files(const char *dir, const char *suffix) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        size_t l = strlen(e->d_name), s = strlen(suffix);
        if (l > s && strcmp(e->d_name + l - s, suffix) == 0) n++;
    }
    if (d) closedir(d);
    return n;
}

static void first_file(const char *dir, const char *suffix, char *out, size_t size) {
    DIR *d = opendir(dir);
    struct dirent *e;
    out[0] = 0;
    while (d && (e = readdir(d))) {
        size_t l = strlen(e->d_name), s = strlen(suffix);
        if (l > s && strcmp(e->d_name + l - s, suffix) == 0) {
            snprintf(out, size, "%s/%s", dir, e->d_name);
            break;
        }
    }
    if (d) closedir(d);
}

static bool compile_reports_disk_hit(const lc_graph *g);

static void disk_cache(void **state) {
    (void)state;
    char dir[] = "/tmp/lucid-cache-XXXXXX";
    assert_non_null(mkdtemp(dir));
    setenv("LUCID_CACHE_DIR", dir, 1);
    lc_compile_cache_clear();
    lc_module *m = test_avgpool(3, 1, 1, true, false); /* padding as wide as the step: two kernels */
    lc_graph *g = jit_module_graph(m, LC_F32, test_shape3(2, 2, 41), true);
    assert_false(compile_reports_disk_hit(g));      /* miss: compiled and stored */
    /* one file per kernel: each kernel is compiled (and cached) as a module of its own */
    lc_program *p;
    assert_ok(lc_compile(g, NULL, &p));
    int kernels = lc_program_kernel_count(p);
    lc_program_free(p);
    assert_int_equal(kernels, 2); /* forward and the gather-form backward */
    assert_int_equal(count_files(dir, ".lobj"), kernels);
    assert_true(compile_reports_disk_hit(g));       /* hit from disk */
    /* a corrupt file is ignored and replaced */
    char path[1200];
    first_file(dir, ".lobj", path, sizeof path);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, -3, SEEK_END);
    fputc('X', f);
    fclose(f);
    assert_false(compile_reports_disk_hit(g));
    assert_true(compile_reports_disk_hit(g));
    /* a foreign file (truncated, garbage) likewise */
    f = fopen(path, "wb");
    fputs("not an object", f);
    fclose(f);
    assert_false(compile_reports_disk_hit(g));
    assert_true(compile_reports_disk_hit(g));
    /* and code loaded from disk computes the right values */
    lc_compile_cache_clear();
    jit_check_graph(g, 3, 2.0);
    assert_int_equal(count_files(dir, ".lobj"), kernels);
    assert_int_equal(count_files(dir, "XXXXXX"), 0);
    unsetenv("LUCID_CACHE_DIR");
    for (int i = 0; i < kernels; i++) {
        first_file(dir, ".lobj", path, sizeof path);
        unlink(path);
    }
    rmdir(dir);
    lc_graph_free(g);
    lc_module_free(m);
}

static void time_dump(void *ctx, const char *stage, const char *text) {
    if (strcmp(stage, "time") == 0) *(bool *)ctx = strstr(text, "disk cache hit") != NULL;
}

static bool compile_reports_disk_hit(const lc_graph *g) {
    bool hit = false;
    lc_compile_options o = lc_compile_options_default();
    o.dump = "time";
    o.dump_fn = time_dump;
    o.dump_ctx = &hit;
    lc_program *p;
    assert_ok(lc_compile(g, &o, &p));
    lc_program_free(p);
    return hit;
}

typedef struct conc_arg {
    const lc_program *p;
    lc_tensor *const *in;
    lc_tensor *out[2];
    lc_status st;
} conc_arg;

static void *conc_run(void *arg) {
    conc_arg *a = arg;
    for (int r = 0; r < 20 && a->st == LC_OK; r++) {
        lc_tensor_free(a->out[0]);
        lc_tensor_free(a->out[1]);
        a->st = lc_program_run(a->p, (const lc_tensor *const *)a->in, 2, a->out, 2);
    }
    return NULL;
}

/* Several threads run one program at once (with scratch memory: a two-kernel Sequential);
 * every result is bit-identical to a lone run. */
static void concurrent_runs(void **state) {
    (void)state;
    lc_module *seq;
    assert_ok(lc_sequential_new(&seq));
    assert_ok(lc_sequential_append(seq, test_lppool(2, 2, LC_STRIDE_UNSET, false)));
    assert_ok(lc_sequential_append(seq, test_lppool(3, 4, 2, false)));
    lc_graph *g = jit_module_graph(seq, LC_F32, test_shape3(4, 8, 4001), true);
    test_rng r = test_rng_seeded(12);
    lc_tensor **in = jit_random_inputs(g, &r, 2.0);
    lc_program *p;
    assert_ok(lc_compile(g, NULL, &p));
    assert_true(lc_program_scratch_bytes(p) > 0);
    lc_tensor *ref[2];
    assert_ok(lc_program_run(p, (const lc_tensor *const *)in, 2, ref, 2));
    enum { T = 4 };
    pthread_t th[T];
    conc_arg args[T];
    for (int t = 0; t < T; t++) {
        args[t] = (conc_arg){p, in, {NULL, NULL}, LC_OK};
        assert_int_equal(pthread_create(&th[t], NULL, conc_run, &args[t]), 0);
    }
    for (int t = 0; t < T; t++) {
        pthread_join(th[t], NULL);
        assert_ok(args[t].st);
        for (int i = 0; i < 2; i++) {
            assert_true(jit_bits_equal(args[t].out[i], ref[i]));
            lc_tensor_free(args[t].out[i]);
        }
    }
    lc_tensor_free(ref[0]);
    lc_tensor_free(ref[1]);
    lc_program_free(p);
    jit_free_tensors(in, 2);
    lc_graph_free(g);
    lc_module_free(seq);
}

/* Resizing the pool between runs (lucidc --threads does) keeps results and never lets a new
 * worker pick up the previous pool's last job. */
static void pool_resize(void **state) {
    (void)state;
    lc_module *m = test_lppool(2, 4, LC_STRIDE_UNSET, false);
    lc_graph *g = jit_module_graph(m, LC_F32, test_shape3(4, 8, 8192), true);
    test_rng r = test_rng_seeded(4);
    lc_tensor **in = jit_random_inputs(g, &r, 2.0);
    lc_program *p;
    assert_ok(lc_compile(g, NULL, &p));
    lc_tensor *ref[2], *out[2];
    assert_ok(lc_program_run(p, (const lc_tensor *const *)in, 2, ref, 2));
    const int sizes[] = {3, 1, 4, 2, 2, 3};
    for (int i = 0; i < 6; i++) {
        assert_ok(lc_runtime_set_threads(sizes[i]));
        assert_int_equal(lc_runtime_threads(), sizes[i]);
        for (int rep = 0; rep < 3; rep++) {
            assert_ok(lc_program_run(p, (const lc_tensor *const *)in, 2, out, 2));
            for (int k = 0; k < 2; k++) {
                assert_true(jit_bits_equal(out[k], ref[k]));
                lc_tensor_free(out[k]);
            }
        }
    }
    lc_tensor_free(ref[0]);
    lc_tensor_free(ref[1]);
    lc_program_free(p);
    jit_free_tensors(in, 2);
    lc_graph_free(g);
    lc_module_free(m);
}

static void run_into_and_bad_calls(void **state) {
    (void)state;
    lc_module *m = test_lppool(2, 4, LC_STRIDE_UNSET, false);
    lc_graph *g = jit_module_graph(m, LC_F32, test_shape3(1, 1, 8), false);
    lc_program *p;
    assert_ok(lc_compile(g, NULL, &p));
    assert_int_equal(lc_program_input_count(p), 1);
    assert_int_equal(lc_program_output_count(p), 1);
    const double xs[] = {1, 1, 1, 1, 3, 4, 0, 0};
    lc_tensor *x, *y, *bad, *outs[3]; /* room for the 3 outputs the bad call below claims */
    assert_ok(lc_tensor_from_doubles(LC_F32, test_shape3(1, 1, 8), xs, &x));
    assert_ok(lc_tensor_new(LC_F32, test_shape3(1, 1, 2), &y));
    assert_ok(lc_program_run_into(p, (const lc_tensor *const *)&x, 1, &y, 1));
    const double want[] = {2, 5};
    assert_values_close(y, want, 2, 1e-6, 0);
    assert_ok(lc_tensor_new(LC_F64, test_shape3(1, 1, 8), &bad));
    assert_fails(lc_program_run(p, (const lc_tensor *const *)&bad, 1, outs, 1), LC_ERR_SHAPE,
                 "program: input 0 must be f32[1,1,8], got f64[1,1,8]");
    assert_null(outs[0]);
    assert_fails(lc_program_run_into(p, (const lc_tensor *const *)&x, 1, &bad, 1), LC_ERR_SHAPE,
                 "output 0 must be f32[1,1,2]");
    assert_fails(lc_program_run(p, (const lc_tensor *const *)&x, 2, outs, 1), LC_ERR_INVALID_ARG,
                 "expected 1 inputs, got 2");
    assert_fails(lc_program_run(p, (const lc_tensor *const *)&x, 1, outs, 3), LC_ERR_INVALID_ARG,
                 "expected 1 outputs, got 3");
    lc_compile_options o = lc_compile_options_default();
    o.opt_level = 7;
    lc_program *q = NULL;
    assert_fails(lc_compile(g, &o, &q), LC_ERR_INVALID_ARG, "opt_level must be 0..3, got 7");
    assert_null(q);
    assert_fails(lc_runtime_set_threads(0), LC_ERR_INVALID_ARG, "threads must be between 1 and 1024, got 0");
    lc_graph *empty;
    assert_ok(lc_graph_new(&empty));
    assert_fails(lc_compile(empty, NULL, &q), LC_ERR_INVALID_ARG, "no outputs");
    lc_graph_free(empty);
    /* every opt level computes the same values */
    for (int level = 0; level <= 3; level++) {
        o = lc_compile_options_default();
        o.opt_level = level;
        assert_ok(lc_compile(g, &o, &q));
        assert_ok(lc_program_run_into(q, (const lc_tensor *const *)&x, 1, &y, 1));
        assert_values_close(y, want, 2, 1e-6, 0);
        lc_program_free(q);
    }
    lc_tensor_free(x);
    lc_tensor_free(y);
    lc_tensor_free(bad);
    lc_program_free(p);
    lc_graph_free(g);
    lc_module_free(m);
}

typedef struct stage_seen {
    char names[512];
} stage_seen;

static void record_stage(void *ctx, const char *stage, const char *text) {
    stage_seen *s = ctx;
    strcat(s->names, stage);
    strcat(s->names, text && *text ? "+," : "-,");
}

static void dump_stages(void **state) {
    (void)state;
    lc_module *m = test_lppool(2, 4, LC_STRIDE_UNSET, false);
    lc_graph *g = jit_module_graph(m, LC_F32, test_shape3(2, 4, 1000), true);
    stage_seen seen = {{0}};
    lc_compile_options o = lc_compile_options_default();
    o.dump = "all";
    o.dump_fn = record_stage;
    o.dump_ctx = &seen;
    lc_program *p;
    assert_ok(lc_compile(g, &o, &p));
    assert_string_equal(seen.names, "fuse+,plan+,llvm+,llvm-opt+,asm+,remarks+,time+,");
    lc_program_free(p);
    char *buf = jit_dump_text(g, "fuse,llvm,llvm-opt,remarks");
    assert_non_null(strstr(buf, ";; stage fuse\n;; fused: 1 kernel\n"));
    assert_non_null(strstr(buf, "once per window (windows do not overlap: one pass)"));
    assert_non_null(strstr(buf, "op %3 (LPPool1d.pow)"));
    assert_non_null(strstr(buf, ";; stage llvm\n"));
    assert_non_null(strstr(buf, "!noalias"));
    assert_non_null(strstr(buf, "vectorized loop"));
    /* the alias scopes tell LLVM the buffers never overlap: no runtime overlap check */
    assert_null(strstr(buf, "vector.memcheck"));
    free(buf);
    lc_graph_free(g);
    lc_module_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(conformance_torch),
        cmocka_unit_test(memory_cache),
        cmocka_unit_test(disk_cache),
        cmocka_unit_test(concurrent_runs),
        cmocka_unit_test(pool_resize),
        cmocka_unit_test(run_into_and_bad_calls),
        cmocka_unit_test(dump_stages),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
