/* The module table (nn.h): every buildable module's arguments, in positional order, and the
 * one generic constructor over it. A new module is a row here plus its constructor; the
 * model-spec parser and the bindings pick it up from the table. */
#include <assert.h>
#include <string.h>

#include "lucid/nn.h"
#include "support/error.h"

/* A row's builder: values[] is complete (one per argument, unset ones marked) and already
 * checked against the argument kinds and required/None rules. */
typedef lc_status (*build_fn)(const lc_arg_value *v, lc_module **out);

typedef struct module_row {
    lc_module_info info;
    build_fn build;
} module_row;

static int64_t stride_of(const lc_arg_value *v) {
    return (!v->set || v->is_none) ? LC_STRIDE_UNSET : v->i;
}

static lc_status build_avgpool1d(const lc_arg_value *v, lc_module **out) {
    lc_avgpool1d_params p = lc_avgpool1d_defaults(v[0].i);
    p.stride = stride_of(&v[1]);
    if (v[2].set) p.padding = v[2].i;
    if (v[3].set) p.ceil_mode = v[3].b;
    if (v[4].set) p.count_include_pad = v[4].b;
    return lc_avgpool1d_new(&p, out);
}

static lc_status build_lppool1d(const lc_arg_value *v, lc_module **out) {
    lc_lppool1d_params p = lc_lppool1d_defaults(v[0].r, v[1].i);
    p.stride = stride_of(&v[2]);
    if (v[3].set) p.ceil_mode = v[3].b;
    return lc_lppool1d_new(&p, out);
}

/* return_indices=True is refused in a spec: indices come through the C and Python APIs. */
static lc_status refuse_indices(const char *who, const lc_arg_value *v) {
    if (v->set && v->b)
        return lc_fail(LC_ERR_INVALID_ARG, "%s: return_indices=True is not accepted here (the indices "
                       "come through the C and Python APIs)", who);
    return LC_OK;
}

static lc_status build_maxpool1d(const lc_arg_value *v, lc_module **out) {
    lc_maxpool1d_params p = lc_maxpool1d_defaults(v[0].i);
    p.stride = stride_of(&v[1]);
    if (v[2].set) p.padding = v[2].i;
    if (v[3].set) p.dilation = v[3].i;
    LC_TRY(refuse_indices("MaxPool1d", &v[4]));
    if (v[5].set) p.ceil_mode = v[5].b;
    return lc_maxpool1d_new(&p, out);
}

static lc_status build_maxpool2d(const lc_arg_value *v, lc_module **out) {
    lc_maxpool2d_params p = lc_maxpool2d_defaults(v[0].pair[0], v[0].pair[1]);
    for (int a = 0; a < 2; a++) {
        p.stride[a] = (!v[1].set || v[1].is_none) ? LC_STRIDE_UNSET : v[1].pair[a];
        if (v[2].set) p.padding[a] = v[2].pair[a];
        if (v[3].set) p.dilation[a] = v[3].pair[a];
    }
    LC_TRY(refuse_indices("MaxPool2d", &v[4]));
    if (v[5].set) p.ceil_mode = v[5].b;
    return lc_maxpool2d_new(&p, out);
}

static const lc_arg_info AVGPOOL1D_ARGS[] = {
    {"kernel_size", LC_ARG_SIZE1, true, false, NULL},
    {"stride", LC_ARG_SIZE1, false, true, "None"},
    {"padding", LC_ARG_SIZE1, false, false, "0"},
    {"ceil_mode", LC_ARG_BOOL, false, false, "False"},
    {"count_include_pad", LC_ARG_BOOL, false, false, "True"},
};

static const lc_arg_info LPPOOL1D_ARGS[] = {
    {"norm_type", LC_ARG_REAL, true, false, NULL},
    {"kernel_size", LC_ARG_SIZE1, true, false, NULL},
    {"stride", LC_ARG_SIZE1, false, true, "None"},
    {"ceil_mode", LC_ARG_BOOL, false, false, "False"},
};

static const lc_arg_info MAXPOOL1D_ARGS[] = {
    {"kernel_size", LC_ARG_SIZE1, true, false, NULL},
    {"stride", LC_ARG_SIZE1, false, true, "None"},
    {"padding", LC_ARG_SIZE1, false, false, "0"},
    {"dilation", LC_ARG_SIZE1, false, false, "1"},
    {"return_indices", LC_ARG_BOOL, false, false, "False"},
    {"ceil_mode", LC_ARG_BOOL, false, false, "False"},
};

static const lc_arg_info MAXPOOL2D_ARGS[] = {
    {"kernel_size", LC_ARG_SIZE2, true, false, NULL},
    {"stride", LC_ARG_SIZE2, false, true, "None"},
    {"padding", LC_ARG_SIZE2, false, false, "0"},
    {"dilation", LC_ARG_SIZE2, false, false, "1"},
    {"return_indices", LC_ARG_BOOL, false, false, "False"},
    {"ceil_mode", LC_ARG_BOOL, false, false, "False"},
};

#define ROW(name, summary, args, build) {{name, summary, (int)(sizeof args / sizeof args[0]), args}, build}

static const module_row TABLE[] = {
    ROW("AvgPool1d", "mean of each window over the last axis (padding counts as 0)",
        AVGPOOL1D_ARGS, build_avgpool1d),
    ROW("LPPool1d", "p-norm (sum |x|^p)^(1/p) of each window over the last axis",
        LPPOOL1D_ARGS, build_lppool1d),
    ROW("MaxPool1d", "largest element of each window over the last axis (padding is -inf)",
        MAXPOOL1D_ARGS, build_maxpool1d),
    ROW("MaxPool2d", "largest element of each window over the last two axes (padding is -inf)",
        MAXPOOL2D_ARGS, build_maxpool2d),
};

#undef ROW

enum { TABLE_COUNT = (int)(sizeof TABLE / sizeof TABLE[0]) };

/* Every module kind but the Sequential container has a row (lc_module_kind lists kinds). */
static_assert(TABLE_COUNT == (int)LC_MODULE_SEQUENTIAL, "a module kind without a table row");

int lc_module_info_count(void) { return TABLE_COUNT; }

const lc_module_info *lc_module_info_at(int i) {
    return i >= 0 && i < TABLE_COUNT ? &TABLE[i].info : NULL;
}

static const module_row *find_row(const char *name) {
    if (!name) return NULL;
    for (int i = 0; i < TABLE_COUNT; i++)
        if (strcmp(TABLE[i].info.name, name) == 0) return &TABLE[i];
    return NULL;
}

const lc_module_info *lc_module_info_find(const char *name) {
    const module_row *row = find_row(name);
    return row ? &row->info : NULL;
}

/* The longest argument list of any row: values are copied into a buffer of this size. */
enum { MAX_ARGS = 8 };

lc_status lc_module_new(const char *name, const lc_arg_value *values, int n_values,
                        lc_module **out) {
    if (!out) return lc_fail(LC_ERR_INVALID_ARG, "module: out must not be NULL");
    *out = NULL;
    const module_row *row = find_row(name);
    if (!row) {
        char known[256] = "";
        for (int i = 0; i < TABLE_COUNT; i++) {
            if (i) strncat(known, ", ", sizeof known - strlen(known) - 1);
            strncat(known, TABLE[i].info.name, sizeof known - strlen(known) - 1);
        }
        return lc_fail(LC_ERR_INVALID_ARG, "module: unknown module %s (known: %s)",
                       name ? name : "(null)", known);
    }
    const lc_module_info *m = &row->info;
    LC_ASSERT(m->n_args <= MAX_ARGS);
    if (n_values < 0 || n_values > m->n_args)
        return lc_fail(LC_ERR_INVALID_ARG, "%s: takes at most %d arguments, got %d", m->name,
                       m->n_args, n_values);
    if (n_values > 0 && !values)
        return lc_fail(LC_ERR_INVALID_ARG, "%s: values must not be NULL", m->name);
    lc_arg_value v[MAX_ARGS] = {{0}};
    for (int k = 0; k < n_values; k++) v[k] = values[k];
    for (int k = 0; k < m->n_args; k++) {
        const lc_arg_info *a = &m->args[k];
        if (!v[k].set) {
            if (a->required)
                return lc_fail(LC_ERR_INVALID_ARG, "%s: missing required argument %s", m->name,
                               a->name);
            v[k].is_none = false;
        } else if (v[k].is_none && !a->none_ok) {
            return lc_fail(LC_ERR_INVALID_ARG, "%s: %s cannot be None", m->name, a->name);
        }
    }
    return row->build(v, out);
}
