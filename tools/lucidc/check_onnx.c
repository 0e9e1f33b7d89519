/* lucidc check's ONNX cases as op graphs, with ONNX's AveragePool/LpPool rules rather than the
 * modules' (docs/conformance.md): pads per side and of any size, auto_pad (SAME_UPPER,
 * SAME_LOWER, VALID) resolved here from the input shape, dilations, strides, ceil_mode,
 * count_include_pad (default 0, as ONNX) and LpPool's p (default 2). Each spatial axis is
 * pooled by the library's per-axis lowering (the one the modules use), the last axis first;
 * both ops are separable, so the 2-D result is ONNX's. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "nn/pool_geometry.h"
#include "support/error.h"
#include "support/json.h"

enum { MAX_SPATIAL = 2 };

/* `key` as `n` integers >= `min` into out; absent or null gives `dflt` for each. */
static lc_status int_list(const lc_json *c, const char *key, int n, long long min, int64_t dflt,
                          int64_t *out) {
    const lc_json *v = lc_json_get(c, key);
    if (!v || v->type == LC_JSON_NULL) {
        for (int i = 0; i < n; i++) out[i] = dflt;
        return LC_OK;
    }
    if (v->type != LC_JSON_ARRAY || v->count != (size_t)n)
        return lc_fail(LC_ERR_PARSE, "%s must be a list of %d integers", key, n);
    for (int i = 0; i < n; i++) {
        double d = v->items[i].number;
        if (v->items[i].type != LC_JSON_NUMBER || d != floor(d) || d < (double)min || d > 9e15)
            return lc_fail(LC_ERR_PARSE, "%s must be a list of %d integers >= %lld", key, n, min);
        out[i] = (int64_t)d;
    }
    return LC_OK;
}

/* `key` as a bool (ONNX writes 0/1 too); absent or null gives `dflt`. */
static lc_status flag(const lc_json *c, const char *key, bool dflt, bool *out) {
    const lc_json *v = lc_json_get(c, key);
    if (!v || v->type == LC_JSON_NULL) *out = dflt;
    else if (v->type == LC_JSON_BOOL) *out = v->boolean;
    else if (v->type == LC_JSON_NUMBER && (v->number == 0 || v->number == 1)) *out = v->number == 1;
    else return lc_fail(LC_ERR_PARSE, "%s must be true, false, 0 or 1", key);
    return LC_OK;
}

/* ONNX's auto_pad: SAME_* pads so that out = ceil(L / stride), the odd pad at the end
 * (SAME_UPPER) or the beginning (SAME_LOWER); VALID pads nothing. 128-bit arithmetic: the
 * case's sizes may be large; a total beyond int64 is refused. */
static lc_status resolve_auto_pad(const char *mode, int64_t length, int64_t kernel, int64_t stride,
                                  int64_t dilation, int64_t *lo, int64_t *hi) {
    if (!strcmp(mode, "VALID")) {
        *lo = *hi = 0;
        return LC_OK;
    }
    __int128 out = ((__int128)length + stride - 1) / stride;
    __int128 total = (out - 1) * stride + (__int128)dilation * (kernel - 1) + 1 - length;
    if (total < 0) total = 0;
    if (total > INT64_MAX) return lc_fail(LC_ERR_PARSE, "%s padding overflows", mode);
    bool upper = !strcmp(mode, "SAME_UPPER");
    *lo = (int64_t)(upper ? total / 2 : total - total / 2);
    *hi = (int64_t)total - *lo;
    return LC_OK;
}

lc_status cli_onnx_graph(const lc_json *c, lc_dtype dtype, lc_shape shape, lc_graph **out) {
    *out = NULL;
    const lc_json *opv = lc_json_get(c, "op");
    if (!opv || opv->type != LC_JSON_STRING) return lc_fail(LC_ERR_PARSE, "op must be a string");
    bool avg = !strcmp(opv->string, "avg_pool");
    if (!avg && strcmp(opv->string, "lp_pool"))
        return lc_fail(LC_ERR_PARSE, "unknown op '%s' (expected avg_pool or lp_pool)", opv->string);
    const char *who = avg ? "AveragePool" : "LpPool";
    long long ndim;
    /* ONNX has 3-D pooling too; the library's pools reach 2-D */
    if (!lc_json_get_int(c, "ndim", &ndim) || ndim < 1 || ndim > MAX_SPATIAL)
        return lc_fail(LC_ERR_PARSE, "ndim must be 1 or 2");
    int n = (int)ndim;
    if (shape.rank != n + 2)
        return lc_fail(LC_ERR_SHAPE, "%s: a %d-D case takes an input of rank %d, got rank %d", who, n, n + 2,
                       shape.rank);
    int64_t kernel[MAX_SPATIAL], stride[MAX_SPATIAL], dilation[MAX_SPATIAL], pads[2 * MAX_SPATIAL];
    LC_TRY(int_list(c, "kernel", n, 1, 0, kernel));
    if (!lc_json_get(c, "kernel")) return lc_fail(LC_ERR_PARSE, "kernel is required");
    LC_TRY(int_list(c, "stride", n, 1, 1, stride));
    LC_TRY(int_list(c, "dilations", n, 1, 1, dilation));
    LC_TRY(int_list(c, "pads", 2 * n, 0, 0, pads));
    bool ceil_mode = false, count_include_pad = false; /* flag() sets them where it succeeds */
    LC_TRY(flag(c, "ceil_mode", false, &ceil_mode));
    LC_TRY(flag(c, "count_include_pad", false, &count_include_pad));
    double p = 2;
    const lc_json *pv = lc_json_get(c, "p");
    if (!avg && pv && pv->type != LC_JSON_NULL) {
        if (pv->type != LC_JSON_NUMBER) return lc_fail(LC_ERR_PARSE, "p must be a number");
        p = pv->number;
        if (!isfinite(p) || p <= 0 || !isfinite(1.0 / p))
            return lc_fail(LC_ERR_PARSE, "%s: p must be finite and > 0, got %g", who, p);
    }
    const lc_json *ap = lc_json_get(c, "auto_pad");
    const char *auto_pad = ap && ap->type == LC_JSON_STRING ? ap->string : "NOTSET";
    if (ap && ap->type != LC_JSON_STRING && ap->type != LC_JSON_NULL)
        return lc_fail(LC_ERR_PARSE, "auto_pad must be a string");
    if (strcmp(auto_pad, "NOTSET") && strcmp(auto_pad, "VALID") && strcmp(auto_pad, "SAME_UPPER") &&
        strcmp(auto_pad, "SAME_LOWER"))
        return lc_fail(LC_ERR_PARSE, "auto_pad must be NOTSET, VALID, SAME_UPPER or SAME_LOWER, got '%s'",
                       auto_pad);
    if (strcmp(auto_pad, "NOTSET")) {
        /* the output length is fixed by auto_pad alone (ceil_mode has no say); the case's pads,
         * when given, are the resolved ones and must agree with ONNX's rule */
        ceil_mode = false;
        for (int i = 0; i < n; i++) {
            int64_t lo = 0, hi = 0;
            LC_TRY(resolve_auto_pad(auto_pad, shape.dim[2 + i], kernel[i], stride[i], dilation[i], &lo, &hi));
            if (lc_json_get(c, "pads") && (pads[i] != lo || pads[n + i] != hi))
                return lc_fail(LC_ERR_PARSE, "pads of axis %d are (%lld, %lld), but %s resolves to (%lld, %lld)",
                               i, (long long)pads[i], (long long)pads[n + i], auto_pad, (long long)lo,
                               (long long)hi);
            pads[i] = lo;
            pads[n + i] = hi;
        }
    }

    lc_graph *g;
    LC_TRY(lc_graph_new(&g));
    int x;
    lc_status st = lc_input(g, "x", dtype, shape, &x);
    static const char *const NAMES[MAX_SPATIAL][MAX_SPATIAL] = {{"length"}, {"height", "width"}};
    static const char *const TAGS[MAX_SPATIAL][MAX_SPATIAL] = {{""}, {"h", "w"}};
    for (int i = n - 1; i >= 0 && st == LC_OK; i--) {
        lc_pool_axis a = {2 + i, NAMES[n - 1][i], kernel[i], stride[i], pads[i], pads[n + i], dilation[i],
                          ceil_mode};
        st = avg ? lc_avg_pool_axis(g, x, &a, count_include_pad, who, "", TAGS[n - 1][i], &x)
                 : lc_lp_pool_axis(g, x, &a, p, who, "", TAGS[n - 1][i], &x);
    }
    if (st == LC_OK) st = lc_graph_add_output(g, x);
    if (st != LC_OK) {
        lc_graph_free(g);
        return st;
    }
    *out = g;
    return LC_OK;
}
