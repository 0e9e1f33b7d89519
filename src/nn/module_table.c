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

static lc_status build_maxpool1d(const lc_arg_value *v, lc_module **out) {
    lc_maxpool1d_params p = lc_maxpool1d_defaults(v[0].i);
    p.stride = stride_of(&v[1]);
    if (v[2].set) p.padding = v[2].i;
    if (v[3].set) p.dilation = v[3].i;
    if (v[4].set) p.return_indices = v[4].b;
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
    if (v[4].set) p.return_indices = v[4].b;
    if (v[5].set) p.ceil_mode = v[5].b;
    return lc_maxpool2d_new(&p, out);
}

static lc_status build_avgpool2d(const lc_arg_value *v, lc_module **out) {
    lc_avgpool2d_params p = lc_avgpool2d_defaults(v[0].pair[0], v[0].pair[1]);
    for (int a = 0; a < 2; a++) {
        p.stride[a] = (!v[1].set || v[1].is_none) ? LC_STRIDE_UNSET : v[1].pair[a];
        if (v[2].set) p.padding[a] = v[2].pair[a];
    }
    if (v[3].set) p.ceil_mode = v[3].b;
    if (v[4].set) p.count_include_pad = v[4].b;
    return lc_avgpool2d_new(&p, out);
}

static lc_status build_lppool2d(const lc_arg_value *v, lc_module **out) {
    lc_lppool2d_params p = lc_lppool2d_defaults(v[0].r, v[1].pair[0], v[1].pair[1]);
    for (int a = 0; a < 2; a++) p.stride[a] = (!v[2].set || v[2].is_none) ? LC_STRIDE_UNSET : v[2].pair[a];
    if (v[3].set) p.ceil_mode = v[3].b;
    return lc_lppool2d_new(&p, out);
}

static lc_status build_linear(const lc_arg_value *v, lc_module **out) {
    lc_linear_params p = lc_linear_defaults(v[0].i, v[1].i);
    if (v[2].set) p.bias = v[2].b;
    return lc_linear_new(&p, out);
}

static lc_status build_relu(const lc_arg_value *v, lc_module **out) {
    (void)v;
    return lc_relu_new(out);
}

static lc_status build_mseloss(const lc_arg_value *v, lc_module **out) {
    lc_mseloss_params p = lc_mseloss_defaults();
    if (v[0].set) {
        if (strcmp(v[0].s, "mean") == 0) p.reduction = LC_REDUCTION_MEAN;
        else if (strcmp(v[0].s, "sum") == 0) p.reduction = LC_REDUCTION_SUM;
        else return lc_fail(LC_ERR_INVALID_ARG, "MSELoss: reduction must be 'mean' or 'sum', got '%s'", v[0].s);
    }
    return lc_mseloss_new(&p, out);
}

static lc_status build_conv1d(const lc_arg_value *v, lc_module **out) {
    lc_conv1d_params p = lc_conv1d_defaults(v[0].i, v[1].i, v[2].i);
    if (v[3].set) p.stride = v[3].i;
    if (v[4].set && v[4].s) {
        if (strcmp(v[4].s, "same") == 0) p.padding_mode = LC_PADDING_SAME;
        else if (strcmp(v[4].s, "valid") == 0) p.padding_mode = LC_PADDING_VALID;
        else return lc_fail(LC_ERR_INVALID_ARG, "Conv1d: padding must be an integer, 'same' or 'valid', got '%s'",
                            v[4].s);
    } else if (v[4].set) {
        p.padding = v[4].i;
    }
    if (v[5].set) p.dilation = v[5].i;
    if (v[6].set) p.groups = v[6].i;
    if (v[7].set) p.bias = v[7].b;
    return lc_conv1d_new(&p, out);
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

static const lc_arg_info AVGPOOL2D_ARGS[] = {
    {"kernel_size", LC_ARG_SIZE2, true, false, NULL},
    {"stride", LC_ARG_SIZE2, false, true, "None"},
    {"padding", LC_ARG_SIZE2, false, false, "0"},
    {"ceil_mode", LC_ARG_BOOL, false, false, "False"},
    {"count_include_pad", LC_ARG_BOOL, false, false, "True"},
};

static const lc_arg_info LPPOOL2D_ARGS[] = {
    {"norm_type", LC_ARG_REAL, true, false, NULL},
    {"kernel_size", LC_ARG_SIZE2, true, false, NULL},
    {"stride", LC_ARG_SIZE2, false, true, "None"},
    {"ceil_mode", LC_ARG_BOOL, false, false, "False"},
};

static const lc_arg_info LINEAR_ARGS[] = {
    {"in_features", LC_ARG_INT, true, false, NULL},
    {"out_features", LC_ARG_INT, true, false, NULL},
    {"bias", LC_ARG_BOOL, false, false, "True"},
};

static const lc_arg_info MSELOSS_ARGS[] = {
    {"reduction", LC_ARG_STRING, false, false, "'mean'"},
};

static const lc_arg_info CONV1D_ARGS[] = {
    {"in_channels", LC_ARG_INT, true, false, NULL},
    {"out_channels", LC_ARG_INT, true, false, NULL},
    {"kernel_size", LC_ARG_INT, true, false, NULL},
    {"stride", LC_ARG_INT, false, false, "1"},
    {"padding", LC_ARG_INT_OR_STRING, false, false, "0"},
    {"dilation", LC_ARG_INT, false, false, "1"},
    {"groups", LC_ARG_INT, false, false, "1"},
    {"bias", LC_ARG_BOOL, false, false, "True"},
};

/* A row: name, summary, its arguments, how many data inputs its forward takes (MSELoss
 * compares two: input and target), and its builder. */
#define ROW(name, summary, args, inputs, build) \
    {{name, summary, (int)(sizeof args / sizeof args[0]), args, inputs}, build}
#define ROW_NO_ARGS(name, summary, inputs, build) {{name, summary, 0, NULL, inputs}, build}

static const module_row TABLE[] = {
    ROW("AvgPool1d", "mean of each window over the last axis (padding counts as 0)",
        AVGPOOL1D_ARGS, 1, build_avgpool1d),
    ROW("LPPool1d", "p-norm (sum |x|^p)^(1/p) of each window over the last axis",
        LPPOOL1D_ARGS, 1, build_lppool1d),
    ROW("MaxPool1d", "largest element of each window over the last axis (padding is -inf)",
        MAXPOOL1D_ARGS, 1, build_maxpool1d),
    ROW("MaxPool2d", "largest element of each window over the last two axes (padding is -inf)",
        MAXPOOL2D_ARGS, 1, build_maxpool2d),
    ROW("AvgPool2d", "mean of each window over the last two axes (padding counts as 0)",
        AVGPOOL2D_ARGS, 1, build_avgpool2d),
    ROW("LPPool2d", "p-norm (sum |x|^p)^(1/p) of each window over the last two axes",
        LPPOOL2D_ARGS, 1, build_lppool2d),
    ROW("Linear", "x W^T + b over the last axis (weight (out, in), bias (out))", LINEAR_ARGS, 1,
        build_linear),
    ROW_NO_ARGS("ReLU", "max(x, 0) elementwise", 1, build_relu),
    ROW("MSELoss", "mean (or sum) of (input - target)^2: takes input and target", MSELOSS_ARGS, 2,
        build_mseloss),
    ROW("Conv1d", "1-D convolution (N, C_in, L) -> (N, C_out, L_out), weight (out, in/groups, k)",
        CONV1D_ARGS, 1, build_conv1d),
};

#undef ROW
#undef ROW_NO_ARGS

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
            v[k].s = NULL;
        } else if (v[k].is_none && !a->none_ok) {
            return lc_fail(LC_ERR_INVALID_ARG, "%s: %s cannot be None", m->name, a->name);
        } else if (a->kind == LC_ARG_STRING && !v[k].s) {
            return lc_fail(LC_ERR_INVALID_ARG, "%s: %s must be a string", m->name, a->name);
        } else if (a->kind != LC_ARG_STRING && a->kind != LC_ARG_INT_OR_STRING && v[k].s) {
            return lc_fail(LC_ERR_INVALID_ARG, "%s: %s takes no string, got '%s'", m->name, a->name, v[k].s);
        }
    }
    return row->build(v, out);
}
