/* Lucid graph IR: a graph owns its nodes in one arena; nodes are appended in topological
 * order and named by index; inputs refer to earlier indices only.
 *
 * Every builder validates its arguments and infers the result's shape. On failure it returns
 * a status, leaves a message naming op, parameter and value (lc_last_error), and leaves the
 * graph unchanged.
 *
 * Thread-safety: a graph has no lock. Any number of threads may read one graph at once (every
 * function taking a const lc_graph *); a builder, lc_graph_set_name or lc_graph_add_output
 * needs the graph to itself. Distinct graphs are independent, and the op table and shape
 * helpers are safe from any thread. */
#ifndef LUCID_IR_H
#define LUCID_IR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lucid/export.h"
#include "lucid/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LC_MAX_RANK 6
#define LC_MAX_INPUTS 2
#define LC_MAX_INT_ATTRS 8

typedef enum lc_dtype { LC_F32, LC_F64 } lc_dtype;

typedef struct lc_shape {
    int rank;
    int64_t dim[LC_MAX_RANK];
} lc_shape;

typedef enum lc_op_kind {
    LC_KIND_SOURCE,      /* no inputs: graph parameters and literals */
    LC_KIND_ELEMENTWISE, /* one output element from the same-index input elements */
    LC_KIND_REDUCE,      /* folds one axis away */
    LC_KIND_LAYOUT,      /* moves or repeats elements without arithmetic (views) */
} lc_op_kind;

typedef enum lc_op {
#define LC_OP(ENUM, name, arity, kind, real_attr) LC_OP_##ENUM,
#include "lucid/ops.def"
#undef LC_OP
    LC_OP_COUNT
} lc_op;

/* The index of each integer attribute in lc_node.attr, from the LC_ATTR rows of ops.def:
 * LC_UNFOLD_PAD_LO and so on. Every op's attributes count from 0: each op row opens with a
 * marker one below its first attribute. */
typedef enum lc_attr_index {
#define LC_OP(ENUM, name, arity, kind, real_attr) LC_ATTRS_OF_##ENUM = -1,
#define LC_ATTR(OP, ATTR, name) LC_##OP##_##ATTR,
#include "lucid/ops.def"
#undef LC_ATTR
#undef LC_OP
} lc_attr_index;
/* sum, mean, max and max_mask keep their axis at one index, so any of them reads it the same
 * way (checked in op_table.c). */
#define LC_REDUCE_DIM LC_SUM_DIM

/* Static facts about an op, from the table in ops.def. */
typedef struct lc_op_info {
    const char *name;        /* text IR spelling */
    int arity;               /* tensor inputs */
    lc_op_kind kind;
    int n_int_attrs;
    const char *int_attr_names[LC_MAX_INT_ATTRS];
    /* An optional attribute (LC_ATTR_OPT in ops.def) may be left out of text IR, where it
     * reads as its default, and is printed only where it differs from it. */
    bool int_attr_optional[LC_MAX_INT_ATTRS];
    int64_t int_attr_default[LC_MAX_INT_ATTRS];
    const char *real_attr_name; /* NULL when the op has no double attribute */
} lc_op_info;

LC_API const lc_op_info *lc_op_get_info(lc_op op);
/* The op spelled `name` in text IR; returns false when there is none. */
LC_API bool lc_op_from_name(const char *name, size_t len, lc_op *out);

typedef struct lc_node {
    lc_op op;
    lc_dtype dtype;
    lc_shape shape;
    int inputs[LC_MAX_INPUTS];          /* indices of earlier nodes; arity from the op table */
    int64_t attr[LC_MAX_INT_ATTRS];     /* indexed by LC_<OP>_<ATTR> (ops.def), e.g. LC_FOLD_LENGTH */
    double real_attr;                   /* the op's real_attr (pow exponent), else 0 */
    const char *name;                   /* optional (NULL); owned by the graph */
    const double *data;                 /* CONSTANT only: element count of shape, row-major */
} lc_node;

typedef struct lc_graph lc_graph;

/* Create an empty graph. Free with lc_graph_free (NULL is fine). */
LC_API lc_status lc_graph_new(lc_graph **out);
LC_API void lc_graph_free(lc_graph *g);
/* Deep copy, outputs included. */
LC_API lc_status lc_graph_clone(const lc_graph *g, lc_graph **out);

LC_API int lc_graph_node_count(const lc_graph *g);
/* The node at `index` (0 <= index < count); the pointer stays valid until the graph is freed
 * (nodes never move: they live in the graph's arena). */
LC_API const lc_node *lc_graph_node(const lc_graph *g, int index);

/* Graph outputs: an ordered list of node indices (a node may appear once). */
LC_API lc_status lc_graph_add_output(lc_graph *g, int node);
LC_API int lc_graph_output_count(const lc_graph *g);
LC_API int lc_graph_output(const lc_graph *g, int i);
/* Graph inputs are the INPUT nodes, in node order. */
LC_API int lc_graph_input_count(const lc_graph *g);
LC_API int lc_graph_input(const lc_graph *g, int i); /* node index of the i-th input */

/* Give a node a name (copied). Names appear in text IR and dumps; gradient nodes are named
 * after what they differentiate. */
LC_API lc_status lc_graph_set_name(lc_graph *g, int node, const char *name);

/* Builders. Each appends one node and writes its index to *out. */
LC_API lc_status lc_input(lc_graph *g, const char *name, lc_dtype dtype, lc_shape shape, int *out);
/* `data` holds the shape's element count of values (copied); a rank-0 shape is a scalar. */
LC_API lc_status lc_constant(lc_graph *g, lc_dtype dtype, lc_shape shape, const double *data,
                           int *out);
LC_API lc_status lc_scalar(lc_graph *g, lc_dtype dtype, double value, int *out);
/* Windows of `size` slots over axis `dim`, one every `step`; lc_unfold's slots are adjacent,
 * lc_unfold_dilated's `dilation` apart (slot j of window o reads o·step - pad_lo + j·dilation). */
LC_API lc_status lc_unfold(lc_graph *g, int x, int dim, int64_t size, int64_t step, int64_t pad_lo,
                           int64_t pad_hi, int *out);
LC_API lc_status lc_unfold_dilated(lc_graph *g, int x, int dim, int64_t size, int64_t step,
                                   int64_t pad_lo, int64_t pad_hi, int64_t dilation, int *out);
/* The windows of a max: as lc_unfold_dilated, but reads outside [0, L) are -inf. */
LC_API lc_status lc_unfold_neg_inf_pad(lc_graph *g, int x, int dim, int64_t size, int64_t step,
                                       int64_t pad_lo, int64_t pad_hi, int64_t dilation, int *out);
/* The adjoint of the unfold with the same parameters, restoring axis `dim` to `length`. */
LC_API lc_status lc_fold(lc_graph *g, int x, int dim, int64_t size, int64_t step, int64_t pad_lo,
                         int64_t pad_hi, int64_t length, int *out);
LC_API lc_status lc_fold_dilated(lc_graph *g, int x, int dim, int64_t size, int64_t step,
                                 int64_t pad_lo, int64_t pad_hi, int64_t dilation, int64_t length,
                                 int *out);
LC_API lc_status lc_expand(lc_graph *g, int x, int dim, int64_t size, int *out);
LC_API lc_status lc_abs(lc_graph *g, int x, int *out);
LC_API lc_status lc_sign(lc_graph *g, int x, int *out);
LC_API lc_status lc_relu(lc_graph *g, int x, int *out);
LC_API lc_status lc_pow(lc_graph *g, int x, double exponent, int *out);
/* pow whose 0^negative is 0 (the subgradient convention; see ops.def). */
LC_API lc_status lc_pow_zero_pole(lc_graph *g, int x, double exponent, int *out);
LC_API lc_status lc_mul(lc_graph *g, int a, int b, int *out);
LC_API lc_status lc_add(lc_graph *g, int a, int b, int *out);
/* 1 where a == b, else 0 (NaN equals nothing); broadcasts like add. */
LC_API lc_status lc_equal(lc_graph *g, int a, int b, int *out);
/* x where m is nonzero (or NaN), else +0, whatever x holds; broadcasts like add. */
LC_API lc_status lc_select(lc_graph *g, int m, int x, int *out);
LC_API lc_status lc_div(lc_graph *g, int a, int b, int *out);
/* div whose 0/0 is 0 (see ops.def). */
LC_API lc_status lc_div_safe(lc_graph *g, int a, int b, int *out);
LC_API lc_status lc_sum(lc_graph *g, int x, int dim, int *out);
LC_API lc_status lc_mean(lc_graph *g, int x, int dim, int *out);
/* max over axis `dim` (NaN wins), and the mask of each axis's first maximum (its gradient). */
LC_API lc_status lc_max(lc_graph *g, int x, int dim, int *out);
LC_API lc_status lc_max_mask(lc_graph *g, int x, int dim, int *out);

/* The generic builder the typed ones call: validates arity, attributes and shapes, infers
 * dtype and shape, appends. `inputs` has the op's arity; `attrs` its int attributes (NULL
 * when none); `data` only for CONSTANT (with `shape` and `dtype` given; ignored otherwise). */
LC_API lc_status lc_graph_append(lc_graph *g, lc_op op, const int *inputs, const int64_t *attrs,
                                 double real_attr, lc_dtype dtype, const lc_shape *shape,
                                 const double *data, int *out);

/* Check every invariant: arities, index order, shapes and dtypes re-inferred and equal,
 * outputs in range. LC_OK or a message naming the node. */
LC_API lc_status lc_graph_verify(const lc_graph *g);

/* Text IR. Printing is deterministic; lc_graph_parse(lc_graph_print(g)) prints the same. */
LC_API lc_status lc_graph_print(const lc_graph *g, FILE *f);
/* Print into a malloc'd NUL-terminated string the caller frees. */
LC_API lc_status lc_graph_to_string(const lc_graph *g, char **out);
/* Parse text IR; on malformed text returns LC_ERR_PARSE with "line:col: reason". */
LC_API lc_status lc_graph_parse(const char *text, lc_graph **out);
/* Graphviz form of the same graph. */
LC_API lc_status lc_graph_print_dot(const lc_graph *g, FILE *f);

/* Shapes. */
LC_API int64_t lc_shape_numel(const lc_shape *s); /* product of extents (1 for rank 0) */
LC_API bool lc_shape_equal(const lc_shape *a, const lc_shape *b);
LC_API lc_shape lc_shape_make(int rank, const int64_t *dims);
/* "[2,8,16]" into buf; returns buf. */
LC_API char *lc_shape_str(const lc_shape *s, char *buf, size_t size);
LC_API const char *lc_dtype_name(lc_dtype dt); /* "f32" | "f64" (any other value: "(invalid dtype)") */
LC_API size_t lc_dtype_size(lc_dtype dt);

#ifdef __cplusplus
}
#endif
#endif
