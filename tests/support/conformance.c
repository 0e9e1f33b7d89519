#include "support/conformance.h"

#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "support/testutil.h"

static char *read_text(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    return s;
}

static long long int_member(const lc_json *obj, const char *key, long long fallback) {
    long long v;
    const lc_json *m = lc_json_get(obj, key);
    if (!m || m->type == LC_JSON_NULL) return fallback;
    if (!lc_json_get_int(obj, key, &v)) fail_msg("%s is not an integer", key);
    return v;
}

static bool bool_member(const lc_json *obj, const char *key, bool fallback) {
    const lc_json *m = lc_json_get(obj, key);
    if (!m || m->type != LC_JSON_BOOL) return fallback;
    return m->boolean;
}

/* A MaxPool2d size: an integer (both axes) or [h, w]; absent or null gives `fallback`. */
static void pair_member(const lc_json *obj, const char *key, int64_t fallback, int64_t out[2]) {
    const lc_json *m = lc_json_get(obj, key);
    if (m && m->type == LC_JSON_ARRAY) {
        assert_int_equal(m->count, 2);
        out[0] = (int64_t)m->items[0].number;
        out[1] = (int64_t)m->items[1].number;
        return;
    }
    out[0] = out[1] = int_member(obj, key, fallback);
}

static void build_maxpool(test_case *c, const char *op, const lc_json *params) {
    int64_t k[2], s[2], p[2], d[2];
    pair_member(params, "kernel_size", -1, k);
    pair_member(params, "stride", LC_STRIDE_UNSET, s);
    pair_member(params, "padding", 0, p);
    pair_member(params, "dilation", 1, d);
    bool ceil = bool_member(params, "ceil_mode", false);
    if (strcmp(op, "MaxPool1d") == 0) {
        lc_maxpool1d_params m = {k[0], s[0], p[0], d[0], false, ceil};
        assert_ok(lc_maxpool1d_new(&m, &c->module));
    } else {
        lc_maxpool2d_params m = {{k[0], k[1]}, {s[0], s[1]}, {p[0], p[1]}, {d[0], d[1]}, false, ceil};
        assert_ok(lc_maxpool2d_new(&m, &c->module));
    }
}

/* torch/ cases: params of the module named by "op"; onnx/ cases: per_axis_1d[0] for ndim 1. */
static void build_module(test_case *c) {
    const lc_json *op = lc_json_get(c->json, "op");
    const lc_json *params = lc_json_get(c->json, "params");
    if (!params) {
        const lc_json *ndim = lc_json_get(c->json, "ndim");
        const lc_json *axes = lc_json_get(c->json, "per_axis_1d");
        if (ndim && ndim->number != 1) { c->skip_reason = "2-D case"; return; }
        if (!axes || axes->type != LC_JSON_ARRAY || axes->count != 1) {
            c->skip_reason = "not expressible with the 1-D modules (per_axis_1d is null)";
            return;
        }
        params = &axes->items[0];
    }
    assert_non_null(op);
    if (strncmp(op->string, "MaxPool", 7) == 0) {
        build_maxpool(c, op->string, params);
        return;
    }
    bool avg = strcmp(op->string, "AvgPool1d") == 0 || strcmp(op->string, "avg_pool") == 0;
    long long k = int_member(params, "kernel_size", -1);
    long long s = int_member(params, "stride", LC_STRIDE_UNSET);
    if (avg) {
        lc_avgpool1d_params p = {k, s, int_member(params, "padding", 0),
                                 bool_member(params, "ceil_mode", false),
                                 bool_member(params, "count_include_pad", true)};
        assert_ok(lc_avgpool1d_new(&p, &c->module));
    } else {
        const lc_json *norm = lc_json_get(params, "norm_type");
        assert_non_null(norm);
        lc_lppool1d_params p = {norm->number, k, s, bool_member(params, "ceil_mode", false)};
        assert_ok(lc_lppool1d_new(&p, &c->module));
    }
}

void test_case_load(const char *dir, test_case *c) {
    memset(c, 0, sizeof *c);
    snprintf(c->dir, sizeof c->dir, "%s", dir);
    const char *slash = strrchr(dir, '/');
    snprintf(c->name, sizeof c->name, "%s", slash ? slash + 1 : dir);
    char *text = read_text(test_case_file(c, "case.json"));
    assert_ok(lc_json_parse(text, &c->json));
    free(text);
    const lc_json *tol = lc_json_get(c->json, "tolerance");
    assert_non_null(tol);
    c->rtol = lc_json_get(tol, "rtol")->number;
    c->atol = lc_json_get(tol, "atol")->number;
    build_module(c);
}

void test_case_free(test_case *c) {
    lc_json_free(c->json);
    lc_module_free(c->module);
}

static int compare_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **test_case_list(const char *root, int *count) {
    DIR *d = opendir(root);
    if (!d) fail_msg("cannot open %s", root);
    char **names = NULL;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        /* A case is a directory holding case.json; the rest (NOTICE, LICENSE) is not a case. */
        char path[2048];
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s/case.json", root, e->d_name);
        if (stat(path, &sb) != 0) continue;
        names = realloc(names, (size_t)(n + 1) * sizeof *names);
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, compare_names);
    *count = n;
    return names;
}

void test_case_list_free(char **names, int count) {
    for (int i = 0; i < count; i++) free(names[i]);
    free(names);
}

const char *test_case_file(const test_case *c, const char *file) {
    static char buf[2048];
    snprintf(buf, sizeof buf, "%s/%s", c->dir, file);
    return buf;
}
