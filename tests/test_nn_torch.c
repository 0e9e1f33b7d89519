/* The modules with parameters against PyTorch: every case of tests/data/params (made by its
 * make_cases.py) built from its model spec with its parameters loaded, run forward and
 * backward (input, every parameter and, with a loss, the target) through the interpreter and
 * the JIT, in float64 and float32, against PyTorch's float64 results. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lucid/autodiff.h"
#include "lucid/model_spec.h"
#include "lucid/npy.h"
#include "lucid/program.h"
#include "lucid/runtime.h"
#include "support/testutil.h"

static lc_tensor *read_npy(const char *dir, const char *file) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    lc_tensor *t;
    assert_ok(lc_npy_read(path, &t));
    return t;
}

static bool exists(const char *dir, const char *file) {
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, file);
    return stat(path, &st) == 0;
}

static lc_tensor *as_dtype(const lc_tensor *t, lc_dtype dt) {
    lc_tensor *c;
    assert_ok(lc_tensor_new(dt, t->shape, &c));
    for (int64_t i = 0; i < lc_tensor_numel(t); i++) lc_tensor_set(c, i, lc_tensor_get(t, i));
    return c;
}

/* One case in one dtype: returns how many tensors were compared per engine. */
static int run_case(const char *dir, lc_dtype dt) {
    char path[4096];
    snprintf(path, sizeof path, "%s/model.txt", dir);
    char *text = test_read_file(path);
    assert_non_null(text);
    lc_module *model, *loss = NULL;
    assert_ok(lc_model_parse(text, path, &model));
    free(text);
    if (exists(dir, "loss.txt")) {
        snprintf(path, sizeof path, "%s/loss.txt", dir);
        text = test_read_file(path);
        assert_ok(lc_model_parse(text, path, &loss));
        free(text);
    }
    int n_params = lc_module_param_count(model);
    lc_tensor *x = read_npy(dir, "input.npy");

    /* the graph: x, the parameters, [target], seed; outputs y (or the loss) and every gradient */
    lc_graph *g, *gb;
    assert_ok(lc_graph_new(&g));
    int xi, y, target = -1;
    assert_ok(lc_input(g, "x", dt, x->shape, &xi));
    assert_ok(lc_module_forward(model, g, xi, &y));
    if (loss) {
        assert_ok(lc_input(g, "target", dt, lc_graph_node(g, y)->shape, &target));
        assert_ok(lc_module_forward_inputs(loss, g, (int[]){y, target}, 2, &y));
    }
    assert_ok(lc_graph_add_output(g, y));
    assert_ok(lc_autodiff(g, NULL, 0, NULL, 0, &gb));
    int n_in = lc_graph_input_count(gb), n_out = lc_graph_output_count(gb);
    assert_int_equal(n_in, 1 + n_params + (loss ? 1 : 0) + 1);
    assert_int_equal(n_out, n_in);

    lc_tensor **in = calloc((size_t)n_in, sizeof *in), **want = calloc((size_t)n_out, sizeof *want);
    in[0] = as_dtype(x, dt);
    want[0] = read_npy(dir, "expected_out.npy");
    want[1] = read_npy(dir, "expected_grad_in.npy");
    for (int i = 0; i < n_params; i++) {
        char name[LC_PARAM_NAME_MAX], file[LC_PARAM_NAME_MAX + 32];
        assert_ok(lc_module_param_at(model, i, name, sizeof name, NULL));
        assert_string_equal(lc_graph_node(gb, lc_graph_input(gb, 1 + i))->name, name);
        snprintf(file, sizeof file, "%s.npy", name);
        lc_tensor *p = read_npy(dir, file);
        assert_ok(lc_module_set_param(model, name, p)); /* the module's own copy, as a user sets it */
        lc_tensor *own;
        assert_ok(lc_module_param_find(model, name, &own));
        in[1 + i] = as_dtype(own, dt);
        lc_tensor_free(p);
        snprintf(file, sizeof file, "expected_grad_%s.npy", name);
        want[2 + i] = read_npy(dir, file);
    }
    if (loss) {
        lc_tensor *t = read_npy(dir, "target.npy");
        in[1 + n_params] = as_dtype(t, dt);
        lc_tensor_free(t);
        want[2 + n_params] = read_npy(dir, "expected_grad_target.npy");
        assert_ok(lc_tensor_new(dt, lc_shape_make(0, NULL), &in[n_in - 1]));
        lc_tensor_set(in[n_in - 1], 0, 1.0);
    } else {
        lc_tensor *s = read_npy(dir, "grad_out.npy");
        in[n_in - 1] = as_dtype(s, dt);
        lc_tensor_free(s);
    }

    /* float32 carries the float32 inputs exactly; sums of a few dozen products lose ~1e-6 */
    double rtol = dt == LC_F64 ? 1e-10 : 2e-5, atol = dt == LC_F64 ? 1e-12 : 2e-6;
    for (int engine = 0; engine < 2; engine++) {
        lc_tensor **got = calloc((size_t)n_out, sizeof *got);
        if (engine == 0) {
            assert_ok(lc_interp_run(gb, (const lc_tensor *const *)in, n_in, got, n_out));
        } else {
            lc_compile_options o = lc_compile_options_default();
            lc_program *p;
            assert_ok(lc_compile(gb, &o, &p));
            assert_ok(lc_program_run(p, (const lc_tensor *const *)in, n_in, got, n_out));
            lc_program_free(p);
        }
        for (int i = 0; i < n_out; i++) {
            if (!lc_shape_equal(&got[i]->shape, &want[i]->shape)) fail_msg("%s output %d: shape differs", dir, i);
            lc_tensor *w = as_dtype(want[i], LC_F64);
            print_message("%s %s %s output %d\n", dir, lc_dtype_name(dt), engine ? "jit" : "interp", i);
            assert_tensor_close(got[i], w, rtol, atol);
            lc_tensor_free(w);
            lc_tensor_free(got[i]);
        }
        free(got);
    }
    for (int i = 0; i < n_in; i++) lc_tensor_free(in[i]);
    for (int i = 0; i < n_out; i++) lc_tensor_free(want[i]);
    free(in);
    free(want);
    lc_tensor_free(x);
    lc_graph_free(g);
    lc_graph_free(gb);
    lc_module_free(model);
    lc_module_free(loss);
    return n_out;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void test_every_case_both_engines(void **state) {
    (void)state;
    const char *root = test_source_path("tests/data/params");
    char base[1024];
    snprintf(base, sizeof base, "%s", root);
    DIR *d = opendir(base);
    assert_non_null(d);
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64) {
        char dir[2048];
        snprintf(dir, sizeof dir, "%s/%s", base, e->d_name);
        if (e->d_name[0] != '.' && exists(dir, "model.txt")) names[n++] = strdup(dir);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, by_name);
    assert_true(n >= 13); /* the cases make_cases.py writes */
    for (int i = 0; i < n; i++) {
        run_case(names[i], LC_F64);
        run_case(names[i], LC_F32);
        free(names[i]);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_case_both_engines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
