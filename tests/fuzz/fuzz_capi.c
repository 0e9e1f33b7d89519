/* Fuzz target: the C entry points the Python package calls through ctypes
 * (python/lucid_c/_lib.py lists them), with the argument values a binding can pass.
 *
 * The first byte picks a mode, the rest drives it:
 *   0  module construction from the module table: a module (lc_module_info_at, an index out of
 *      range included), a value for each argument, of its kind or another (int, real incl.
 *      inf/NaN/-0, bool, None, (h, w), a string), keyword or positional, or too many. Built
 *      twice, as the Python package does (the call text through lc_model_parse) and through
 *      lc_module_new: both succeed with the same repr, or both fail with a status and a
 *      message (a value the text cannot carry, NaN or another kind, is checked one way only).
 *      Then the module's parameters (lc_module_param_at with small name buffers and any
 *      index), lc_module_output_shape on odd shapes.
 *   1  a program: a module from the table as above, lc_module_graph with any dtype value and
 *      any shape (rank 0-7, zero, negative, huge extents), lc_pipeline_run_default forward or
 *      backward, then a run on the interpreter or the JIT (lc_compile at the opt level the
 *      input picks: mostly 3, as the Python package compiles, else 0-2) through
 *      lc_program_run_into, with the right tensors or with one thing wrong (a dtype value, a
 *      shape, a NULL, a count, an output given twice, an input as an output of another
 *      shape). Right tensors run; anything wrong fails with a status and message and leaves
 *      every output untouched.
 *   2  graph building as bindings do it: lc_input (odd names, dtypes, shapes), lc_mul,
 *      lc_add, lc_sum, lc_graph_set_name, lc_graph_add_output with any node index,
 *      lc_autodiff with any wrt list, lc_sgd_graph with any options, loss and params.
 *   3  lc_tensor_format_values on tensors made as ctypes makes them (the caller's memory, any
 *      dtype value, rank and extents; data sized for the shape it claims when that is small).
 * Every call returns LC_OK or a known status with a message; nothing crashes or leaks. */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>

#include "fuzz_common.h"
#include "fuzz_values.h"
#include "lucid/autodiff.h"
#include "lucid/ir.h"
#include "lucid/model_spec.h"
#include "lucid/nn.h"
#include "lucid/passes.h"
#include "lucid/runtime.h"
#include "lucid/tensor.h"
#include "lucid/train.h"
#ifdef LUCID_FUZZ_JIT
#include "lucid/program.h"
#endif

#define CHECK_CLEAN(st, what)                                                              \
    do {                                                                                   \
        if ((st) != LC_OK) FUZZ_CHECK_FAILURE(st, what);                                   \
    } while (0)

static int64_t draw_int(fuzz_bytes *b) {
    static const int64_t table[] = {0, 1, 2, 3, 4, 5, 7, 16, -1, -2, 64, 1000, (int64_t)1 << 31,
                                    (int64_t)1 << 40, (int64_t)1 << 62, INT64_MAX, INT64_MIN, INT64_MAX - 1};
    unsigned k = fuzz_u8(b);
    if (k < 200) return table[k % (sizeof table / sizeof table[0])];
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | fuzz_u8(b);
    return (int64_t)v;
}

static double draw_real(fuzz_bytes *b) {
    static const double table[] = {0.0, -0.0, 1.0, 2.0, 0.5, 3.0, -1.0, 1e-300, 1e300, DBL_MAX, DBL_MIN,
                                   INFINITY, -INFINITY, NAN, 4.5, 1e-8, 100.0, 9.2233720368547758e18};
    unsigned k = fuzz_u8(b);
    if (k < 200) return table[k % (sizeof table / sizeof table[0])];
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | fuzz_u8(b);
    double d;
    memcpy(&d, &v, sizeof d);
    return d;
}

/* ---- mode 0: module construction ---- */

enum { MAX_ARGS = 16 };

typedef struct built {
    lc_module *m; /* the lc_model_parse one (NULL when it failed) */
    const lc_module_info *info;
} built;

/* A real as the model-spec text writes it (Python's repr would write inf as "inf", which is
 * no literal; 1e400 reads as inf, as in Python). False for NaN, which has no literal. */
static bool real_text(double r, char *out, size_t size) {
    if (isnan(r)) return false;
    if (isinf(r)) snprintf(out, size, "%s1e400", r < 0 ? "-" : "");
    else snprintf(out, size, "%.17g", r);
    return true;
}

/* Is the module's parameter count (in * out * kernel, from the size arguments) one the run
 * can afford, or one no machine can, so that it fails cleanly? Between 2^22 and 2^40
 * elements a constructor would draw billions of values: such cases are skipped. */
static bool affordable(const lc_module_info *info, const lc_arg_value *v, int n) {
    static const char *sizes[] = {"in_features", "out_features", "in_channels", "out_channels", "kernel_size"};
    double product = 1;
    bool any = false, owns = false;
    for (int k = 0; k < info->n_args; k++)
        owns |= !strcmp(info->args[k].name, "in_features") || !strcmp(info->args[k].name, "in_channels");
    if (!owns) return true; /* no parameters to allocate */
    for (int k = 0; k < info->n_args; k++)
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            if (strcmp(info->args[k].name, sizes[s]) != 0) continue;
            int64_t x = 1;
            if (k < n && v[k].set && !v[k].is_none) {
                x = info->args[k].kind == LC_ARG_SIZE2 ? v[k].pair[0] : v[k].i;
                if (info->args[k].kind == LC_ARG_SIZE2 && v[k].pair[1] > 1) product *= (double)v[k].pair[1];
            }
            if (x > 1) product *= (double)x;
            any = true;
        }
    return !any || product <= (double)(1 << 22) || product >= 0x1p40;
}

static built build_module(fuzz_bytes *b) {
    built out = {0};
    int count = lc_module_info_count();
    int idx = (int)fuzz_u8(b) % (count + 1); /* count: out of range */
    const lc_module_info *info = lc_module_info_at(idx);
    if (!info) {
        FUZZ_CHECK(idx >= count, "lc_module_info_at(%d) is NULL", idx);
        FUZZ_CHECK(lc_module_info_at(-1) == NULL && lc_module_info_find("NoSuchModule") == NULL,
                   "an unknown module has an info");
        return out;
    }
    FUZZ_CHECK(lc_module_info_find(info->name) == info, "lc_module_info_find(%s)", info->name);
    out.info = info;
    int n = (int)fuzz_u8(b) % (info->n_args + 2);
    bool keywords = fuzz_u8(b) & 1;
    lc_arg_value vals[MAX_ARGS + 2];
    memset(vals, 0, sizeof vals);
    char text[4096];
    size_t used = (size_t)snprintf(text, sizeof text, "%s(", info->name);
    bool comparable = true, positional_ok = true, first = true;
    static const char *strings[] = {"mean", "sum", "none", "same", "valid", "zeros", "", "bogus"};
    char strbuf[MAX_ARGS + 2][16];
    for (int k = 0; k < n && k < MAX_ARGS; k++) {
        lc_arg_kind kind = k < info->n_args ? info->args[k].kind : LC_ARG_INT;
        unsigned form = fuzz_u8(b) % 8;
        char lit[128];
        lc_arg_value *v = &vals[k];
        switch (form) {
        case 0: /* unset: the default */
            positional_ok = false;
            continue;
        case 1:
            v->set = v->is_none = true;
            snprintf(lit, sizeof lit, "None");
            break;
        case 2: { /* an integer, valid for every kind that takes one */
            int64_t i = draw_int(b);
            v->set = true;
            v->i = i;
            v->r = (double)i;
            v->pair[0] = v->pair[1] = i;
            snprintf(lit, sizeof lit, "%" PRId64, i);
            if (kind == LC_ARG_BOOL || kind == LC_ARG_STRING) comparable = false;
            break;
        }
        case 3: { /* a real */
            double r = draw_real(b);
            v->set = true;
            v->r = r;
            if (!real_text(r, lit, sizeof lit)) {
                comparable = false;
                snprintf(lit, sizeof lit, "1.5");
            }
            if (kind != LC_ARG_REAL) comparable = false;
            break;
        }
        case 4:
            v->set = true;
            v->b = fuzz_u8(b) & 1;
            snprintf(lit, sizeof lit, "%s", v->b ? "True" : "False");
            if (kind != LC_ARG_BOOL) comparable = false;
            break;
        case 5: { /* a pair */
            int64_t h = draw_int(b), w = draw_int(b);
            v->set = true;
            v->pair[0] = h;
            v->pair[1] = w;
            snprintf(lit, sizeof lit, "(%" PRId64 ", %" PRId64 ")", h, w);
            if (kind != LC_ARG_SIZE2) comparable = false;
            break;
        }
        case 6: { /* a string */
            const char *s = strings[fuzz_u8(b) % 8];
            snprintf(strbuf[k], sizeof strbuf[k], "%s", s);
            v->set = true;
            v->s = strbuf[k];
            snprintf(lit, sizeof lit, "'%s'", s);
            if (kind != LC_ARG_STRING && kind != LC_ARG_INT_OR_STRING) comparable = false;
            break;
        }
        default: { /* a 1-tuple */
            int64_t i = draw_int(b);
            v->set = true;
            v->i = i;
            snprintf(lit, sizeof lit, "(%" PRId64 ",)", i);
            if (kind != LC_ARG_SIZE1) comparable = false;
            break;
        }
        }
        if (k >= info->n_args) comparable = false; /* too many: the text has no keyword for it */
        bool kw = keywords || !positional_ok;
        if (kw && k >= info->n_args) kw = false;
        used += (size_t)snprintf(text + used, sizeof text - used, "%s%s%s%s", first ? "" : ", ",
                                 kw ? info->args[k].name : "", kw ? "=" : "", lit);
        first = false;
        if (!kw && !positional_ok) comparable = false;
    }
    snprintf(text + used, sizeof text - used, ")");
    if (!affordable(info, vals, n)) return out;

    lc_module *by_text = NULL, *by_values = NULL;
    lc_clear_error();
    lc_status st_text = lc_model_parse(text, "lucid_c", &by_text);
    if (st_text != LC_OK) {
        FUZZ_CHECK_FAILURE(st_text, "lc_model_parse");
        FUZZ_CHECK(by_text == NULL, "a failed parse left a module");
    }
    lc_clear_error();
    lc_status st_values = lc_module_new(info->name, vals, n, &by_values);
    if (st_values != LC_OK) FUZZ_CHECK_FAILURE(st_values, "lc_module_new");
    if (comparable && n <= info->n_args) {
        FUZZ_CHECK((st_text == LC_OK) == (st_values == LC_OK), "\"%s\": the text %s (%s) but lc_module_new %s (%s)",
                   text, st_text == LC_OK ? "builds" : "fails", st_text == LC_OK ? "" : lc_status_str(st_text),
                   st_values == LC_OK ? "builds" : "fails", st_values == LC_OK ? "" : lc_last_error());
        if (st_text == LC_OK && st_values == LC_OK) {
            char *r1 = NULL, *r2 = NULL;
            FUZZ_CHECK(lc_module_repr(by_text, &r1) == LC_OK && lc_module_repr(by_values, &r2) == LC_OK, "repr");
            FUZZ_CHECK(!strcmp(r1, r2), "\"%s\": repr %s by text, %s by values", text, r1, r2);
            free(r1);
            free(r2);
        }
    }
    lc_module_free(by_values);
    out.m = by_text;
    return out;
}

static void poke_module(lc_module *m, fuzz_bytes *b) {
    int count = lc_module_param_count(m);
    FUZZ_CHECK(count >= 0, "param count %d", count);
    for (int q = 0; q < 3; q++) {
        static const int idx[] = {0, 1, 2, -1, 1 << 30, INT32_MIN};
        int i = idx[fuzz_u8(b) % 6];
        size_t size = fuzz_u8(b) % 24;
        char name[32];
        memset(name, 'x', sizeof name);
        lc_tensor *t = NULL;
        lc_clear_error();
        lc_status st = lc_module_param_at(m, i, fuzz_u8(b) & 1 ? name : NULL, size, &t);
        if (st == LC_OK) {
            FUZZ_CHECK(i >= 0 && i < count && t != NULL, "param_at(%d) of %d succeeded", i, count);
        } else {
            FUZZ_CHECK_FAILURE(st, "lc_module_param_at");
        }
    }
    lc_shape s;
    s.rank = (int)(fuzz_u8(b) % 8);
    for (int d = 0; d < LC_MAX_RANK; d++) s.dim[d] = d < s.rank ? draw_int(b) : 0;
    if (s.rank > LC_MAX_RANK) s.rank = -1;
    lc_shape out;
    lc_clear_error();
    lc_status st = lc_module_output_shape(m, s, &out);
    CHECK_CLEAN(st, "lc_module_output_shape");
    if (fuzz_u8(b) & 1) lc_module_reset_parameters(m);
}

/* ---- mode 1: a program run with right or wrong tensors ---- */

static int64_t small_numel(const lc_shape *s) {
    if (s->rank < 0 || s->rank > LC_MAX_RANK) return -1;
    int64_t n = 1;
    for (int d = 0; d < s->rank; d++) {
        if (s->dim[d] < 0 || s->dim[d] > (1 << 16)) return -1;
        n *= s->dim[d];
        if (n > (1 << 16)) return -1;
    }
    return n;
}

static lc_tensor *tensor_like(const lc_node *node, uint64_t seed) {
    lc_tensor *t = NULL;
    FUZZ_CHECK(lc_tensor_new(node->dtype, node->shape, &t) == LC_OK, "lc_tensor_new");
    fuzz_fill(t, seed, 3.0, true);
    return t;
}

static void fill_sentinel(lc_tensor *t) {
    if (t && lc_tensor_nbytes(t)) memset(t->data, 0x5a, lc_tensor_nbytes(t));
}

static bool is_sentinel(const lc_tensor *t) {
    const unsigned char *p = t->data;
    for (size_t i = 0; i < lc_tensor_nbytes(t); i++)
        if (p[i] != 0x5a) return false;
    return true;
}

enum { MAX_IO = 24 };

static void run_program(const lc_graph *g, fuzz_bytes *b) {
    int n_in = lc_graph_input_count(g), n_out = lc_graph_output_count(g);
    if (n_in > MAX_IO - 2 || n_out > MAX_IO - 2) return;
    for (int i = 0; i < n_in; i++)
        if (small_numel(&lc_graph_node(g, lc_graph_input(g, i))->shape) < 0) return;
    for (int i = 0; i < n_out; i++)
        if (small_numel(&lc_graph_node(g, lc_graph_output(g, i))->shape) < 0) return;
    lc_tensor *ins[MAX_IO] = {0}, *outs[MAX_IO] = {0}, *spare = NULL;
    uint64_t seed = fuzz_u16(b) + 1;
    for (int i = 0; i < n_in; i++) ins[i] = tensor_like(lc_graph_node(g, lc_graph_input(g, i)), seed + (uint64_t)i);
    for (int i = 0; i < n_out; i++) outs[i] = tensor_like(lc_graph_node(g, lc_graph_output(g, i)), 0);

    /* one thing wrong, or nothing */
    int pass_in = n_in, pass_out = n_out;
    lc_tensor *saved = NULL;
    int saved_at = -1;
    bool saved_out = false;
    unsigned wrong = fuzz_u8(b) % 10;
    if (wrong == 1 && n_in > 0) { /* an input's dtype value */
        static const int dts[] = {LC_F32, LC_F64, 2, -1, 1 << 20};
        int k = (int)fuzz_pick(b, (size_t)n_in), dt = dts[fuzz_u8(b) % 5];
        if (dt == (int)ins[k]->dtype) wrong = 0;
        else ins[k]->dtype = (lc_dtype)dt;
        saved_at = k; /* restore before freeing */
    } else if (wrong == 2 && n_in > 0) { /* an input's shape */
        int k = (int)fuzz_pick(b, (size_t)n_in);
        lc_shape s = ins[k]->shape;
        unsigned how = fuzz_u8(b) % 4;
        if (how == 0 && s.rank < LC_MAX_RANK) s.dim[s.rank++] = 1;
        else if (how == 1 && s.rank > 0) s.rank--;
        else if (s.rank > 0) s.dim[fuzz_pick(b, (size_t)s.rank)] += how == 2 ? 1 : -1;
        else s.dim[s.rank++] = 2;
        if (lc_shape_equal(&s, &ins[k]->shape) || small_numel(&s) < 0) wrong = 0;
        else {
            spare = NULL;
            FUZZ_CHECK(lc_tensor_new(ins[k]->dtype, s, &spare) == LC_OK, "lc_tensor_new");
            saved = ins[k];
            saved_at = k;
            ins[k] = spare;
        }
    } else if (wrong == 3 && n_in > 0) { /* a NULL input */
        int k = (int)fuzz_pick(b, (size_t)n_in);
        saved = ins[k];
        saved_at = k;
        ins[k] = NULL;
    } else if (wrong == 4) { /* a count */
        static const int delta[] = {-1, 1, -1000, 1000};
        int d = delta[fuzz_u8(b) % 4];
        if (fuzz_u8(b) & 1) pass_in += d;
        else pass_out += d;
        if (pass_in == n_in && pass_out == n_out) wrong = 0;
        if (pass_in > n_in && pass_in <= MAX_IO) ins[n_in] = ins[0] ? ins[0] : NULL;
        if (pass_out > n_out && pass_out <= MAX_IO && n_out > 0) {
            FUZZ_CHECK(lc_tensor_new(outs[0]->dtype, outs[0]->shape, &spare) == LC_OK, "lc_tensor_new");
            outs[n_out] = spare;
        }
        if (pass_in > MAX_IO || pass_out > MAX_IO) pass_in = pass_out = -1; /* refused by sign */
    } else if (wrong == 5 && n_out > 1) { /* an output given twice */
        saved = outs[1];
        saved_at = 1;
        saved_out = true;
        outs[1] = outs[0];
    } else if (wrong == 6 && n_out > 0 && n_in > 0) { /* an input as an output it does not fit */
        int k = (int)fuzz_pick(b, (size_t)n_in);
        if (ins[k]->dtype == outs[0]->dtype && lc_shape_equal(&ins[k]->shape, &outs[0]->shape)) wrong = 0;
        else {
            saved = outs[0];
            saved_at = 0;
            saved_out = true;
            outs[0] = ins[k];
        }
    } else if (wrong == 7 && n_out > 0) { /* a NULL output */
        saved = outs[0];
        saved_at = 0;
        saved_out = true;
        outs[0] = NULL;
    } else {
        wrong = 0;
    }
    for (int i = 0; i < n_out; i++) if (outs[i] && !(wrong == 6 && i == 0)) fill_sentinel(outs[i]);

    bool jit = false;
    lc_status st;
    lc_clear_error();
#ifdef LUCID_FUZZ_JIT
    jit = fuzz_u8(b) & 1;
    if (jit) {
        lc_compile_options o = lc_compile_options_default();
        unsigned lv = fuzz_u8(b) % 16;
        o.opt_level = lv < 8 ? 3 : lv < 12 ? 0 : lv < 14 ? 1 : 2; /* 3: what Python uses */
        o.threads = (int)(fuzz_u8(b) % 3);
        lc_program *p = NULL;
        st = lc_compile(g, &o, &p);
        if (st != LC_OK) {
            FUZZ_CHECK_FAILURE(st, "lc_compile");
            FUZZ_CHECK(st == LC_ERR_NOMEM || st == LC_ERR_UNSUPPORTED, "lc_compile failed on a graph that verified");
            goto release;
        }
        FUZZ_CHECK(lc_program_input_count(p) == n_in && lc_program_output_count(p) == n_out, "program counts");
        lc_clear_error();
        st = lc_program_run_into(p, (const lc_tensor *const *)ins, pass_in, outs, pass_out);
        lc_program_free(p);
    } else
#endif
    {
        /* the interpreter's contract: new outputs */
        lc_tensor *fresh[MAX_IO] = {0};
        int want_out = pass_out;
        if (wrong == 5 || wrong == 6 || wrong == 7) { /* lc_program_run_into's arguments only */
            want_out = n_out;
            wrong = 0;
        }
        st = lc_interp_run(g, (const lc_tensor *const *)ins, pass_in, want_out >= 0 && want_out <= MAX_IO ? fresh : NULL,
                           want_out);
        for (int i = 0; i < MAX_IO; i++) {
            if (st != LC_OK) FUZZ_CHECK(fresh[i] == NULL, "a failed interpreter run left output %d", i);
            lc_tensor_free(fresh[i]);
        }
    }
    if (wrong == 0) {
        FUZZ_CHECK(st == LC_OK || st == LC_ERR_NOMEM, "a run with the right tensors failed (%s, %s)",
                   jit ? "JIT" : "interpreter", lc_status_str(st));
    } else {
        FUZZ_CHECK(st != LC_OK, "a run with a wrong argument (case %u) succeeded on the %s", wrong,
                   jit ? "JIT" : "interpreter");
        FUZZ_CHECK_FAILURE(st, "run with a wrong argument");
        if (jit)
            for (int i = 0; i < n_out; i++)
                if (outs[i] && !(wrong == 6 && i == 0) && !(wrong == 4 && outs[i] == spare))
                    FUZZ_CHECK(is_sentinel(outs[i]), "a failed run wrote output %d", i);
    }
#ifdef LUCID_FUZZ_JIT
release:
#endif
    if (saved_at >= 0 && wrong == 1) ins[saved_at]->dtype = lc_graph_node(g, lc_graph_input(g, saved_at))->dtype;
    if (saved) {
        if (saved_out) outs[saved_at] = saved;
        else ins[saved_at] = saved;
    }
    for (int i = 0; i < n_in; i++) lc_tensor_free(ins[i]);
    for (int i = 0; i < n_out; i++) lc_tensor_free(outs[i]);
    lc_tensor_free(spare);
}

static void program_mode(fuzz_bytes *b) {
    built bm = build_module(b);
    if (!bm.m) return;
    static const int dts[] = {LC_F32, LC_F64, LC_F32, LC_F64, 2, -1};
    int dt = dts[fuzz_u8(b) % 6];
    lc_shape s;
    unsigned r = fuzz_u8(b) % 10;
    s.rank = r < 8 ? (int)r : r == 8 ? -1 : 1000;
    static const int64_t ext[] = {1, 2, 3, 4, 5, 8, 16, 0, 33, 7, -1, (int64_t)1 << 40, INT64_MAX};
    for (int d = 0; d < LC_MAX_RANK; d++) s.dim[d] = ext[fuzz_u8(b) % (sizeof ext / sizeof ext[0])];
    bool indices = (fuzz_u8(b) % 4) == 0;
    lc_graph *g = NULL;
    lc_clear_error();
    lc_status st = indices ? lc_module_graph_indices(bm.m, (lc_dtype)dt, s, &g) : lc_module_graph(bm.m, (lc_dtype)dt, s, &g);
    if (st != LC_OK) {
        FUZZ_CHECK_FAILURE(st, indices ? "lc_module_graph_indices" : "lc_module_graph");
        FUZZ_CHECK(g == NULL, "a failed lc_module_graph left a graph");
        lc_module_free(bm.m);
        return;
    }
    FUZZ_CHECK(dt == LC_F32 || dt == LC_F64, "lc_module_graph took dtype %d", dt);
    FUZZ_CHECK(lc_graph_verify(g) == LC_OK, "the module's graph does not verify");
    lc_graph *final = NULL;
    bool backward = !indices && (fuzz_u8(b) & 1);
    lc_clear_error();
    st = lc_pipeline_run_default(g, backward, NULL, &final);
    if (st != LC_OK) {
        FUZZ_CHECK_FAILURE(st, "lc_pipeline_run_default");
    } else {
        run_program(final, b);
        lc_graph_free(final);
    }
    lc_graph_free(g);
    lc_module_free(bm.m);
}

/* ---- mode 2: graph building ---- */

static void graph_mode(fuzz_bytes *b) {
    lc_graph *g = NULL;
    FUZZ_CHECK(lc_graph_new(&g) == LC_OK, "lc_graph_new");
    int nodes[32], n_nodes = 0;
    for (int step = 0; step < 24 && b->n > 0; step++) {
        unsigned op = fuzz_u8(b) % 8;
        int out = -7, a = n_nodes ? nodes[fuzz_pick(b, (size_t)n_nodes)] : 0, c = (int)draw_int(b);
        if (fuzz_u8(b) % 4 == 0) a = (int)draw_int(b); /* any index */
        lc_status st;
        lc_clear_error();
        switch (op) {
        case 0: {
            static const char *names[] = {"x", "", "0.weight", "a b", "x\ny", "\xff\xfe", "1.0.bias", NULL};
            lc_shape s;
            s.rank = (int)(fuzz_u8(b) % 9) - 1;
            for (int d = 0; d < LC_MAX_RANK; d++) s.dim[d] = (int64_t)(fuzz_u8(b) % 6) - (fuzz_u8(b) == 0);
            int dt = (int)(fuzz_u8(b) % 4) - 1;
            st = lc_input(g, names[fuzz_u8(b) % 8], (lc_dtype)dt, s, &out);
            CHECK_CLEAN(st, "lc_input");
            break;
        }
        case 1:
            st = lc_mul(g, a, n_nodes ? nodes[fuzz_pick(b, (size_t)n_nodes)] : c, &out);
            CHECK_CLEAN(st, "lc_mul");
            break;
        case 2:
            st = lc_add(g, a, c, &out);
            CHECK_CLEAN(st, "lc_add");
            break;
        case 3:
            st = lc_sum(g, a, (int)(draw_int(b) % 9), &out);
            CHECK_CLEAN(st, "lc_sum");
            break;
        case 4: {
            static const char *names[] = {"y", "", "loss", "x", "a\tb", NULL};
            st = lc_graph_set_name(g, a, names[fuzz_u8(b) % 6]);
            CHECK_CLEAN(st, "lc_graph_set_name");
            break;
        }
        case 5:
            st = lc_graph_add_output(g, a);
            CHECK_CLEAN(st, "lc_graph_add_output");
            break;
        case 6: {
            int wrt[4], n_wrt = (int)(fuzz_u8(b) % 5), outs[3], n_outs = (int)(fuzz_u8(b) % 3);
            for (int i = 0; i < n_wrt; i++) wrt[i] = fuzz_u8(b) & 1 ? lc_graph_input(g, (int)(fuzz_u8(b) % 3)) : (int)draw_int(b);
            for (int i = 0; i < n_outs; i++) outs[i] = (int)draw_int(b) % 40;
            lc_graph *d = NULL;
            st = lc_autodiff(g, n_outs ? outs : NULL, n_outs, n_wrt ? wrt : NULL, n_wrt, &d);
            if (st == LC_OK) FUZZ_CHECK(lc_graph_verify(d) == LC_OK, "autodiff's graph does not verify");
            else FUZZ_CHECK(d == NULL, "a failed autodiff left a graph");
            CHECK_CLEAN(st, "lc_autodiff");
            lc_graph_free(d);
            break;
        }
        default: {
            lc_sgd_options o; /* field by field: an initializer list's order of evaluation is unspecified */
            o.lr = draw_real(b);
            o.momentum = draw_real(b);
            o.weight_decay = draw_real(b);
            o.dampening = draw_real(b);
            o.nesterov = fuzz_u8(b) & 1;
            o.maximize = fuzz_u8(b) & 1;
            int params[3], n_params = (int)(fuzz_u8(b) % 4);
            for (int i = 0; i < n_params; i++) params[i] = fuzz_u8(b) & 1 ? lc_graph_input(g, (int)(fuzz_u8(b) % 3)) : (int)draw_int(b);
            lc_graph *d = NULL;
            st = lc_sgd_graph(g, (int)(draw_int(b) % 4), n_params ? params : NULL, n_params, fuzz_u8(b) % 8 ? &o : NULL, &d);
            if (st == LC_OK) FUZZ_CHECK(lc_graph_verify(d) == LC_OK, "the SGD graph does not verify");
            else FUZZ_CHECK(d == NULL, "a failed lc_sgd_graph left a graph");
            CHECK_CLEAN(st, "lc_sgd_graph");
            lc_graph_free(d);
            break;
        }
        }
        if (out != -7 && st == LC_OK && n_nodes < 32) nodes[n_nodes++] = out;
        if (st == LC_OK && op <= 3) FUZZ_CHECK(out >= 0 && out < lc_graph_node_count(g), "a builder returned node %d", out);
    }
    lc_status vs = lc_graph_verify(g);
    CHECK_CLEAN(vs, "lc_graph_verify");
    lc_graph_free(g);
}

/* ---- mode 3: printing tensors made as ctypes makes them ---- */

static void format_mode(fuzz_bytes *b) {
    lc_tensor t;
    memset(&t, 0, sizeof t);
    static const int dts[] = {LC_F32, LC_F64, LC_F32, LC_F64, 2, -1};
    t.dtype = (lc_dtype)dts[fuzz_u8(b) % 6];
    unsigned r = fuzz_u8(b) % 10;
    t.shape.rank = r < 7 ? (int)r : r == 7 ? 7 : r == 8 ? -1 : 1 << 20;
    static const int64_t ext[] = {1, 2, 3, 0, 5, -1, (int64_t)1 << 40, INT64_MAX, INT64_MIN};
    for (int d = 0; d < LC_MAX_RANK; d++) t.shape.dim[d] = ext[fuzz_u8(b) % (sizeof ext / sizeof ext[0])];
    /* A valid tensor has memory for the shape it claims, as a NumPy array has (a large one is
     * skipped: it is the printer's time, not its checks). An invalid one (a dtype or rank out
     * of range, a negative extent) gets a small block: the library must refuse it unread. */
    bool valid_dtype = t.dtype == LC_F32 || t.dtype == LC_F64, valid_shape = t.shape.rank >= 0 && t.shape.rank <= LC_MAX_RANK;
    for (int d = 0; valid_shape && d < t.shape.rank; d++) valid_shape = t.shape.dim[d] >= 0;
    int64_t n = small_numel(&t.shape);
    if (valid_dtype && valid_shape && n < 0) return;
    size_t bytes = n >= 0 && valid_dtype ? (size_t)n * (t.dtype == LC_F64 ? 8 : 4) : 16;
    t.data = malloc(bytes ? bytes : 1);
    FUZZ_CHECK(t.data != NULL, "malloc");
    for (size_t i = 0; i < bytes; i++) ((unsigned char *)t.data)[i] = (unsigned char)fuzz_u8(b);
    char *s = NULL;
    lc_clear_error();
    lc_status st = lc_tensor_format_values(&t, &s);
    if (st == LC_OK) {
        FUZZ_CHECK(valid_dtype && valid_shape, "formatted a tensor of dtype %d rank %d", (int)t.dtype, t.shape.rank);
        FUZZ_CHECK(s != NULL, "format gave no string");
    } else {
        FUZZ_CHECK_FAILURE(st, "lc_tensor_format_values");
    }
    free(s);
    free(t.data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_bytes b = {data, size};
    switch (fuzz_u8(&b) % 4) {
    case 0: {
        built bm = build_module(&b);
        if (bm.m) poke_module(bm.m, &b);
        lc_module_free(bm.m);
        break;
    }
    case 1:
        program_mode(&b);
        break;
    case 2:
        graph_mode(&b);
        break;
    default:
        format_mode(&b);
        break;
    }
    return 0;
}
