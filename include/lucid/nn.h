/* Lucid modules: the pools (AvgPool1d, LPPool1d, MaxPool1d and their 2-D forms), the layers
 * with parameters (Linear, Conv1d), ReLU, the loss MSELoss and the container Sequential, with the semantics of
 * docs/semantics.md. A module's forward appends its ops to a graph; a 1-D pool's input is
 * (N, C, L) or (C, L), a 2-D pool's (N, C, H, W) or (C, H, W).
 *
 * Thread-safety: a module's structure is read-only once built (lc_sequential_append aside,
 * which needs the Sequential to itself), so any number of threads may use one module at once
 * through the functions taking a const lc_module *; each writes only the graph it is given.
 * Parameter values are data: writing them (lc_module_set_param, a training step, reset) must
 * not overlap a call that reads them (lc_module_call). */
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
    bool return_indices;     /* recorded for bindings; indices: lc_module_graph_indices */
    bool ceil_mode;
} lc_maxpool1d_params;

typedef struct lc_maxpool2d_params {
    int64_t kernel_size[2];  /* required, >= 1 */
    int64_t stride[2];       /* >= 1, or both LC_STRIDE_UNSET */
    int64_t padding[2];      /* 0 <= padding <= kernel_size / 2, per axis */
    int64_t dilation[2];     /* >= 1 */
    bool return_indices;     /* recorded for bindings; indices: lc_module_graph_indices */
    bool ceil_mode;
} lc_maxpool2d_params;

/* AvgPool2d/LPPool2d (PyTorch's order): sizes are (height, width) pairs; each axis follows
 * the 1-D module's rules, AvgPool2d's divisor is the product of the two axes' divisors. */
typedef struct lc_avgpool2d_params {
    int64_t kernel_size[2];  /* required, >= 1 */
    int64_t stride[2];       /* >= 1, or LC_STRIDE_UNSET (= that axis's kernel_size) */
    int64_t padding[2];      /* 0 <= padding <= kernel_size / 2, per axis */
    bool ceil_mode;
    bool count_include_pad;
} lc_avgpool2d_params;

typedef struct lc_lppool2d_params {
    double norm_type;        /* finite, > 0 */
    int64_t kernel_size[2];  /* required, >= 1 */
    int64_t stride[2];       /* >= 1, or LC_STRIDE_UNSET (= that axis's kernel_size) */
    bool ceil_mode;
} lc_lppool2d_params;

/* Parameters with every default filled in (stride unset, padding 0, ceil_mode False,
 * count_include_pad True). */
LC_API lc_avgpool1d_params lc_avgpool1d_defaults(int64_t kernel_size);
LC_API lc_lppool1d_params lc_lppool1d_defaults(double norm_type, int64_t kernel_size);
LC_API lc_maxpool1d_params lc_maxpool1d_defaults(int64_t kernel_size);
LC_API lc_maxpool2d_params lc_maxpool2d_defaults(int64_t kernel_h, int64_t kernel_w);
LC_API lc_avgpool2d_params lc_avgpool2d_defaults(int64_t kernel_h, int64_t kernel_w);
LC_API lc_lppool2d_params lc_lppool2d_defaults(double norm_type, int64_t kernel_h, int64_t kernel_w);

/* Linear(in_features, out_features, bias=True): y = x W^T + b over the last axis of an input
 * of any rank >= 1; weight (out_features, in_features), bias (out_features). */
typedef struct lc_linear_params {
    int64_t in_features;     /* >= 1 */
    int64_t out_features;    /* >= 1 */
    bool bias;
} lc_linear_params;

/* Conv1d padding: a count of zeros on each side, or PyTorch's 'same' / 'valid'. */
typedef enum lc_conv_padding_mode {
    LC_PADDING_EXPLICIT, /* `padding` zeros on each side */
    LC_PADDING_SAME,     /* output length = input length (stride 1 only); the odd zero on the right */
    LC_PADDING_VALID,    /* no padding */
} lc_conv_padding_mode;

/* Conv1d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
 * bias=True): weight (out_channels, in_channels / groups, kernel_size), bias (out_channels). */
typedef struct lc_conv1d_params {
    int64_t in_channels, out_channels, kernel_size;   /* >= 1 */
    int64_t stride;                                   /* >= 1 */
    lc_conv_padding_mode padding_mode;
    int64_t padding;                                  /* >= 0, LC_PADDING_EXPLICIT only */
    int64_t dilation;                                 /* >= 1 */
    int64_t groups;                                   /* >= 1, divides both channel counts */
    bool bias;
} lc_conv1d_params;

/* MSELoss(reduction='mean'): the mean (or sum) of (input - target)^2 over every element. */
typedef enum lc_loss_reduction { LC_REDUCTION_MEAN, LC_REDUCTION_SUM } lc_loss_reduction;
typedef struct lc_mseloss_params {
    lc_loss_reduction reduction;
} lc_mseloss_params;

/* Parameters with every default filled in (bias True; stride 1, padding 0, dilation 1,
 * groups 1; reduction mean). */
LC_API lc_linear_params lc_linear_defaults(int64_t in_features, int64_t out_features);
LC_API lc_conv1d_params lc_conv1d_defaults(int64_t in_channels, int64_t out_channels,
                                           int64_t kernel_size);
LC_API lc_mseloss_params lc_mseloss_defaults(void);

/* New kinds are appended before LC_MODULE_SEQUENTIAL, which stays last (the container). */
typedef enum lc_module_kind {
    LC_MODULE_AVGPOOL1D,
    LC_MODULE_LPPOOL1D,
    LC_MODULE_LINEAR,
    LC_MODULE_RELU,
    LC_MODULE_MSELOSS,
    LC_MODULE_CONV1D,
    LC_MODULE_MAXPOOL1D,
    LC_MODULE_MAXPOOL2D,
    LC_MODULE_AVGPOOL2D,
    LC_MODULE_LPPOOL2D,
    LC_MODULE_SEQUENTIAL
} lc_module_kind;

typedef struct lc_module lc_module;

/* Constructors validate every parameter ("AvgPool1d: padding must be between 0 and
 * kernel_size / 2 = 1, got 2"). Free with lc_module_free (NULL is fine). */
LC_API lc_status lc_avgpool1d_new(const lc_avgpool1d_params *params, lc_module **out);
LC_API lc_status lc_lppool1d_new(const lc_lppool1d_params *params, lc_module **out);
LC_API lc_status lc_maxpool1d_new(const lc_maxpool1d_params *params, lc_module **out);
LC_API lc_status lc_maxpool2d_new(const lc_maxpool2d_params *params, lc_module **out);
LC_API lc_status lc_avgpool2d_new(const lc_avgpool2d_params *params, lc_module **out);
LC_API lc_status lc_lppool2d_new(const lc_lppool2d_params *params, lc_module **out);
/* Linear and Conv1d draw their initial parameters from the library's random stream
 * (lucid/random.h) as Lucid does: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias,
 * fan_in = in_features or in_channels / groups * kernel_size, weight first (row-major), then
 * bias; each value rounded to float32. */
LC_API lc_status lc_linear_new(const lc_linear_params *params, lc_module **out);
LC_API lc_status lc_conv1d_new(const lc_conv1d_params *params, lc_module **out);
LC_API lc_status lc_relu_new(lc_module **out);
LC_API lc_status lc_mseloss_new(const lc_mseloss_params *params, lc_module **out);
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
LC_API lc_avgpool2d_params lc_module_avgpool2d_params(const lc_module *m);
LC_API lc_lppool2d_params lc_module_lppool2d_params(const lc_module *m);
LC_API lc_linear_params lc_module_linear_params(const lc_module *m);
LC_API lc_conv1d_params lc_module_conv1d_params(const lc_module *m);
LC_API lc_mseloss_params lc_module_mseloss_params(const lc_module *m);
LC_API int lc_sequential_count(const lc_module *m);
LC_API const lc_module *lc_sequential_child(const lc_module *m, int i);

/* "LPPool1d(norm_type=2, kernel_size=4, stride=4, ceil_mode=False)"; a Sequential prints
 * PyTorch's nested form. Malloc'd, caller frees. */
LC_API lc_status lc_module_repr(const lc_module *m, char **out);

/* Output shape for an input shape, or an error naming the module ("LPPool1d: input length
 * 3 is shorter than kernel_size 4 ..."). */
LC_API lc_status lc_module_output_shape(const lc_module *m, lc_shape in, lc_shape *out);

/* Parameters: tensors the module owns, named as PyTorch's state_dict names them ("weight",
 * "bias"; inside a Sequential "0.weight", "2.bias", nested "1.0.weight"). They are float32
 * leaves that require grad (autograd.h fills their .grad). Order: a Sequential's children in
 * order, each module's weight before its bias. A parameter-free module (a pool, ReLU,
 * MSELoss) has none. */
#define LC_PARAM_NAME_MAX 128
LC_API int lc_module_param_count(const lc_module *m);
/* The i-th parameter (0 <= i < count): its name into `name` (`size` bytes, NUL-terminated;
 * NULL to skip) and the tensor itself, owned by the module and valid until it is freed (write
 * its data to change the parameter in place). */
LC_API lc_status lc_module_param_at(lc_module *m, int i, char *name, size_t size, lc_tensor **tensor);
/* The parameter called `name`, or an error listing the module's parameter names. */
LC_API lc_status lc_module_param_find(lc_module *m, const char *name, lc_tensor **tensor);
/* Copy `value` (any dtype; rounded to the parameter's) into parameter `name`. Fails, with
 * nothing changed, on an unknown name or a shape other than the parameter's
 * ("Linear: weight must have shape [2,4], got [4,2]"). */
LC_API lc_status lc_module_set_param(lc_module *m, const char *name, const lc_tensor *value);
/* Redraw every parameter from the random stream, as the constructor did. */
LC_API void lc_module_reset_parameters(lc_module *m);

/* How many data inputs the module's forward takes: 1, or 2 for MSELoss (input, target). A
 * Sequential takes its first child's (and refuses a two-input module after the first). */
LC_API int lc_module_input_count(const lc_module *m);

/* A new graph holding the module applied to its data inputs, each of `dtype` and `shape`,
 * with the module's result as the graph's only output (caller frees). The graph's inputs, in
 * order: the data inputs ("x"; for MSELoss "input" and "target"), then one input per
 * parameter, in lc_module_param_at order, named by its state_dict name and of `dtype`: graph
 * input lc_module_input_count(m) + i is parameter i. Run it with the parameters' values
 * (converted to `dtype`) there; its autodiff gives each parameter's gradient. */
LC_API lc_status lc_module_graph(const lc_module *m, lc_dtype dtype, lc_shape shape,
                                 lc_graph **out);

/* MaxPool1d/MaxPool2d indices (PyTorch's return_indices): for each output element, the flat
 * index of the input element it took within its plane, h * W + w for MaxPool2d and the
 * position in the row for MaxPool1d, as int64; -1 where the window holds only padding (y is
 * -inf there). The engine computes them: lc_module_graph_indices builds the module's graph
 * (as lc_module_graph) with more outputs after y: the chosen element's coordinate plus one
 * along each pooled axis, 0 for a window of padding alone, of y's shape and `dtype` (one for
 * MaxPool1d; row, then column, for MaxPool2d). Run it on either engine (nothing needs its
 * backward), then lc_maxpool_indices turns those outputs (`coords`, n_coords of them) into
 * `indices` (y's element count). return_indices may be True or False: the flag is what
 * bindings read to return (y, indices). A float32 graph needs each pooled axis to hold at
 * most 2^24 elements (the coordinates are exact); other modules are LC_ERR_INVALID_ARG. */
LC_API lc_status lc_module_graph_indices(const lc_module *m, lc_dtype dtype, lc_shape shape,
                                         lc_graph **out);
LC_API lc_status lc_maxpool_indices(const lc_module *m, lc_shape in, const lc_tensor *const *coords,
                                    int n_coords, int64_t *indices);

/* Append the module's ops to `g`, reading node `x`; the result node goes to *y. Nodes are
 * named after the module that made them ("LPPool1d.pow"; in a Sequential "1.LPPool1d.pow").
 * A module with parameters appends one INPUT node per parameter, named by its state_dict
 * name, where its forward first reads it. For a single-input module only. */
LC_API lc_status lc_module_forward(const lc_module *m, lc_graph *g, int x, int *y);
/* The same for any module: `xs` holds lc_module_input_count(m) node indices. */
LC_API lc_status lc_module_forward_inputs(const lc_module *m, lc_graph *g, const int *xs, int n_xs,
                                          int *y);

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
    LC_ARG_STRING,        /* a string (MSELoss's reduction); the module judges the word */
    LC_ARG_INT_OR_STRING, /* an integer or a string (Conv1d's padding: 2, 'same', 'valid') */
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
    int n_inputs;              /* data inputs of its forward (lc_module_input_count) */
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
    const char *s;             /* LC_ARG_STRING, or LC_ARG_INT_OR_STRING given a string (else
                                  NULL); borrowed for the call */
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
