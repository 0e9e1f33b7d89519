/* A program using an installed Lucid, as a user would: only <lucid/...> headers and the
 * library. Builds LPPool1d(norm_type=2, kernel_size=4), compiles it with the JIT, runs it on
 * ones of shape (2, 3, 16) and checks every output: (4 · 1²)^(1/2) = 2. Exits 0 when all is
 * right, 1 otherwise, saying what went wrong. */
#include <stdio.h>
#include <string.h>

#include <lucid/nn.h>
#include <lucid/program.h>
#include <lucid/version.h>

static int failed(const char *what) {
    fprintf(stderr, "consumer: %s: %s\n", what, lc_last_error());
    return 1;
}

int main(void) {
    if (strcmp(lc_version(), LUCID_VERSION_STRING) != 0) {
        fprintf(stderr, "consumer: library %s, headers %s\n", lc_version(), LUCID_VERSION_STRING);
        return 1;
    }
    lc_lppool1d_params params = lc_lppool1d_defaults(2.0, 4);
    lc_module *pool = NULL;
    if (lc_lppool1d_new(&params, &pool) != LC_OK) return failed("LPPool1d");
    lc_shape shape = {3, {2, 3, 16}};
    lc_graph *g = NULL;
    if (lc_module_graph(pool, LC_F32, shape, &g) != LC_OK) return failed("graph");
    lc_program *p = NULL;
    if (lc_compile(g, NULL, &p) != LC_OK) return failed("compile");

    lc_tensor *x = NULL, *y = NULL;
    if (lc_tensor_new(LC_F32, shape, &x) != LC_OK) return failed("input");
    for (int64_t i = 0; i < lc_tensor_numel(x); i++) lc_tensor_set(x, i, 1.0);
    if (lc_program_run(p, (const lc_tensor *const[]){x}, 1, &y, 1) != LC_OK) return failed("run");

    int bad = 0;
    lc_shape want = {3, {2, 3, 4}}; /* L_out = (16 - 4) / 4 + 1 */
    if (!lc_shape_equal(&y->shape, &want)) {
        fprintf(stderr, "consumer: output shape is not (2, 3, 4)\n");
        bad = 1;
    }
    for (int64_t i = 0; i < lc_tensor_numel(y); i++) {
        double v = lc_tensor_get(y, i);
        if (!(v > 2.0 - 1e-6 && v < 2.0 + 1e-6)) { /* NaN fails too */
            fprintf(stderr, "consumer: y[%lld] = %g, expected 2\n", (long long)i, v);
            bad = 1;
        }
    }
    printf("consumer: lucid %s, LPPool1d(2, 4) on ones: %lld values, all 2: %s\n", lc_version(),
           (long long)lc_tensor_numel(y), bad ? "no" : "yes");
    lc_tensor_free(y);
    lc_tensor_free(x);
    lc_program_free(p);
    lc_graph_free(g);
    lc_module_free(pool);
    return bad;
}
