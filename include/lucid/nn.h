/* Lucid modules: AvgPool1d, LPPool1d and Sequential, with the semantics of docs/semantics.md.
 * A module's forward appends its ops to a graph; input is (N, C, L) or (C, L).
 *
 * Thread-safety: a module is read-only once built (lc_sequential_append aside, which needs the
 * Sequential to itself), so any number of threads may use one module at once through the
 * functions taking a const lc_module *; each writes only the graph it is given. */
#ifndef LUCID_NN_H
#define LUCID_NN_H

#include "lucid/export.h"
#include "lucid/ir.h"
#include "lucid/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* stride left unset means stride = kernel_size; an explicit stride must be >= 1. */
#define LC_STRIDE_UNSET INT64_MIN

typedef struct lc_avgpool1d_params {
    int64_t kernel_size;     /* required, >= 1 */
    int64_t stride;          /* >= 1, or LC_STRIDE_UNSET */
    int64_t padding;         /* 0 <= padding <= kernel_size / 2 */
    bool ceil_mode;
    bool count_include_pad;
} lc_avgpool1d_params;

typedef struct lc_lppool1d_params {
    double norm_type;        /* finite, > 0 */
    int64_t kernel_size;     /* required, >= 1 */
    int64_t stride;          /* >= 1, or LC_STRIDE_UNSET */
    bool ceil_mode;
} lc_lppool1d_params;

/* MaxPool1d/MaxPool2d (PyTorch's order). Sizes of the 2-D module are (height, width) pairs;
 * padding is -inf (it never wins), and a window of padding alone gives -inf. */
typedef struct lc_maxpool1d_params {
    int64_t kernel_size;     /* required, >= 1 */
    int64_t stride;          /* >= 1, or LC_STRIDE_UNSET */
    int64_t padding;         /* 0 <= padding <= kernel_size / 2 */
    int64_t dilation;        /* >= 1 */
    bool return_indices;     /* not supported yet: refused */
    bool ceil_mode;
} lc_maxpool1d_params;

typedef struct lc_maxpool2d_params {
    int64_t kernel_size[2];  /* required, >= 1 */
    int64_t stride[2];       /* >= 1, or both LC_STRIDE_UNSET */
    int64_t padding[2];      /* 0 <= padding <= kernel_size / 2, per axis */
    int64_t dilation[2];     /* >= 1 */
    bool return_indices;     /* not supported yet: refused */
    bool ceil_mode;
} lc_maxpool2d_params;

/* Parameters with every default filled in (stride unset, padding 0, ceil_mode False,
 * count_include_pad True). */
LC_API lc_avgpool1d_params lc_avgpool1d_defaults(int64_t kernel_size);
LC_API lc_lppool1d_params lc_lppool1d_defaults(double norm_type, int64_t kernel_size);
LC_API lc_maxpool1d_params lc_maxpool1d_defaults(int64_t kernel_size);
LC_API lc_maxpool2d_params lc_maxpool2d_defaults(int64_t kernel_h, int64_t kernel_w);

typedef enum lc_module_kind {
    LC_MODULE_AVGPOOL1D,
    LC_MODULE_LPPOOL1D,
    LC_MODULE_MAXPOOL1D,
    LC_MODULE_MAXPOOL2D,
    LC_MODULE_SEQUENTIAL
} lc_module_kind;

typedef struct lc_module lc_module;

/* Constructors validate every parameter ("AvgPool1d: padding must be between 0 and
 * kernel_size / 2 = 1, got 2"). Free with lc_module_free (NULL is fine). */
LC_API lc_status lc_avgpool1d_new(const lc_avgpool1d_params *params, lc_module **out);
LC_API lc_status lc_lppool1d_new(const lc_lppool1d_params *params, lc_module **out);
LC_API lc_status lc_maxpool1d_new(const lc_maxpool1d_params *params, lc_module **out);
LC_API lc_status lc_maxpool2d_new(const lc_maxpool2d_params *params, lc_module **out);
LC_API lc_status lc_sequential_new(lc_module **out);
/* Append `child` to a Sequential, which takes ownership of it even when this fails. */
LC_API lc_status lc_sequential_append(lc_module *seq, lc_module *child);
LC_API void lc_module_free(lc_module *m);

LC_API lc_module_kind lc_module_get_kind(const lc_module *m);
/* Resolved parameters (stride filled in). Only for the matching kind. */
LC_API lc_avgpool1d_params lc_module_avgpool1d_params(const lc_module *m);
LC_API lc_lppool1d_params lc_module_lppool1d_params(const lc_module *m);
LC_API lc_maxpool1d_params lc_module_maxpool1d_params(const lc_module *m);
LC_API lc_maxpool2d_params lc_module_maxpool2d_params(const lc_module *m);
LC_API int lc_sequential_count(const lc_module *m);
LC_API const lc_module *lc_sequential_child(const lc_module *m, int i);

/* "LPPool1d(norm_type=2, kernel_size=4, stride=4, ceil_mode=False)"; a Sequential prints
 * PyTorch's nested form. Malloc'd, caller frees. */
LC_API lc_status lc_module_repr(const lc_module *m, char **out);

/* Output shape for an input shape, or an error naming the module ("LPPool1d: input length
 * 3 is shorter than kernel_size 4 ..."). */
LC_API lc_status lc_module_output_shape(const lc_module *m, lc_shape in, lc_shape *out);

/* A new graph holding the module applied to one input "x" of `dtype` and `shape`, with the
 * module's result as the graph's only output (caller frees). */
LC_API lc_status lc_module_graph(const lc_module *m, lc_dtype dtype, lc_shape shape,
                                 lc_graph **out);

/* Append the module's ops to `g`, reading node `x`; the result node goes to *y. Nodes are
 * named after the module that made them ("LPPool1d.pow"; in a Sequential "1.LPPool1d.pow"). */
LC_API lc_status lc_module_forward(const lc_module *m, lc_graph *g, int x, int *y);

/* The module table: every module a model spec, `lucidc` or a binding can build, with its
 * constructor arguments in positional order (PyTorch's order), their kinds and defaults. It is
 * the one list of modules: the model-spec parser matches arguments against it, and bindings
 * generate their classes from it. Sequential is a container and not in it. The table is
 * constant: every call below is thread-safe. */
typedef enum lc_arg_kind {
    LC_ARG_INT,   /* an integer; a float is refused */
    LC_ARG_REAL,  /* a number; an integer is accepted */
    LC_ARG_BOOL,  /* True or False */
    LC_ARG_SIZE1, /* a 1-D size: an integer or a 1-tuple of one, `(3,)` (in lc_arg_value.i) */
    LC_ARG_SIZE2, /* a 2-D size: an integer (both axes) or a tuple `(h, w)` (in .pair) */
} lc_arg_kind;

typedef struct lc_arg_info {
    const char *name;          /* "kernel_size": the keyword and the repr's name */
    lc_arg_kind kind;
    bool required;             /* no default: the call must give it */
    bool none_ok;              /* None is accepted and means unset (stride) */
    const char *default_text;  /* the default as Python writes it ("None", "0", "False");
                                  NULL when required */
} lc_arg_info;

typedef struct lc_module_info {
    const char *name;          /* "AvgPool1d" */
    const char *summary;       /* one line: what it computes */
    int n_args;
    const lc_arg_info *args;   /* n_args entries, in positional order */
} lc_module_info;

/* Number of modules in the table, the i-th (NULL out of range), one by name (NULL if none). */
LC_API int lc_module_info_count(void);
LC_API const lc_module_info *lc_module_info_at(int i);
LC_API const lc_module_info *lc_module_info_find(const char *name);

/* One argument's value for lc_module_new, read according to its lc_arg_info's kind. */
typedef struct lc_arg_value {
    bool set;                  /* given; an unset argument takes its default */
    bool is_none;              /* None (only where none_ok) */
    int64_t i;                 /* LC_ARG_INT */
    double r;                  /* LC_ARG_REAL */
    bool b;                    /* LC_ARG_BOOL */
    int64_t pair[2];           /* LC_ARG_SIZE2: (h, w); an integer n gives (n, n) */
} lc_arg_value;

/* Build module `name` from `n_values` values, values[k] for the table's args[k] (n_values
 * may be less than n_args: the rest are unset). Missing required arguments, None where it is
 * not accepted and too many values are LC_ERR_INVALID_ARG naming the module and argument;
 * values are then judged by the module's constructor, whose message is kept
 * ("LPPool1d: norm_type must be finite and > 0, got -1"). Free *out with lc_module_free. */
LC_API lc_status lc_module_new(const char *name, const lc_arg_value *values, int n_values,
                               lc_module **out);


#ifdef __cplusplus
}
#endif
#endif
