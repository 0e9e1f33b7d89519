/* Private to the simplify pass (simplify.c, simplify_facts.c, simplify_lp.c); fuse shares its
 * facts about values (an LP norm's base it may scale must be never negative by the same rule
 * under which simplify dropped the abs).
 *
 * simplify rebuilds the graph bottom-up through "smart builders": each takes inputs that are
 * already simplified, applies its rules, and appends a node only when no rule gives an
 * existing one. A rule that builds new nodes builds them through the same builders, so what a
 * rewrite produces is simplified too, and a second run changes nothing. */
#ifndef LUCID_PASSES_SIMPLIFY_H
#define LUCID_PASSES_SIMPLIFY_H

#include <stdbool.h>

#include "lucid/ir.h"
#include "support/error.h"

typedef struct lc_simplify {
    lc_graph *g;  /* the graph being built; every index below names one of its nodes */
    bool *nonneg; /* malloc'd: lc_simp_nonneg's answer for nodes 0 .. n_facts-1 */
    int n_facts, facts_cap;
} lc_simplify;

/* Smart builders: *out is the simplified node (possibly an existing one). */
lc_status lc_simp_pow(lc_simplify *s, int x, double exponent, int64_t zero_pole, int *out);
lc_status lc_simp_abs(lc_simplify *s, int x, int *out);
lc_status lc_simp_mul(lc_simplify *s, int a, int b, int *out);
/* Plain append of a one- or two-input op (b = -1 for one), with int attributes `attrs`
 * (NULL: none) and the real attribute. */
lc_status lc_simp_append(lc_simplify *s, lc_op op, int a, int b, const int64_t *attrs,
                         double real, int *out);

/* Products (simplify_product.c). */
enum { LC_SIMP_MAX_FACTORS = 16 };
typedef struct lc_simp_factor_list {
    int n;
    int node[LC_SIMP_MAX_FACTORS];
} lc_simp_factor_list;
/* Append the leaves of the mul tree under i to f, left to right; false when there are more
 * than LC_SIMP_MAX_FACTORS (f is then partly filled). */
bool lc_simp_factors(const lc_graph *g, int i, lc_simp_factor_list *f);
/* Node i is a one-element constant that may move through a product (*v its value): finite
 * and nonzero, so that moving it only scales what it passes. 0, inf and NaN stay in place. */
bool lc_simp_movable_const(const lc_graph *g, int i, double *v);
/* The product of factors[0..n) (n >= 1) left to right, its movable constants folded into one
 * constant put last (left out when it is 1 and the product has its shape already). */
lc_status lc_simp_product(lc_simplify *s, const int *factors, int n, int *out);
/* a · b with its movable constants folded into one put last, when it holds two or more; the
 * other factors keep their association (no product of them is formed that a · b lacks). */
lc_status lc_simp_fold_product_constants(lc_simplify *s, int a, int b, bool *done, int *out);

/* The LP backward rewrite (simplify_lp.c): when the product a·b holds the factors
 * expand(pow_zp(S, 1/p − 1)) and pow(A, p − 1) of S = sum(pow(A, p)), rebuild it with
 * pow(div_safe(A, expand(y)), p − 1), y = pow(S, 1/p). *done says whether it fired. */
lc_status lc_simp_lp_backward(lc_simplify *s, int a, int b, bool *done, int *out);
/* Whether a·b is such a product (nothing is built; s->g is only read). */
bool lc_simp_lp_backward_matches(lc_simplify *s, int a, int b);

/* Facts about values (simplify_facts.c). */
/* True when node i is never negative (NaN allowed): abs, even and fractional powers, and what
 * only sums, multiplies, divides, moves or powers such values. */
bool lc_simp_nonneg(lc_simplify *s, int i);
/* The rule itself, for one node given known[] for its inputs (lower indices). */
bool lc_nonneg_from_inputs(const lc_node *n, const bool *known);
/* known[i] = node i is never negative, for every node of g in node order (malloc'd; NULL when
 * out of memory). */
bool *lc_nonneg_facts(const lc_graph *g);
/* bounds[i] >= |every element of node i|, every element finite, or +inf where that is not
 * known (an input, a division, a power, -inf padding): constants, the masks and what only
 * adds, multiplies, sums, moves or picks such values, each operation's rounding allowed for
 * (malloc'd; NULL when out of memory). Fuse carries a window search's chosen value with its
 * maximum where the values beside it are finite (lc_reduction_schedule.choice_mask). */
double *lc_magnitude_facts(const lc_graph *g);
/* known[i] = every element of node i is one of the integers 0 .. 255 (+0, never -0 or NaN),
 * from the facts of lc_nonneg_facts and lc_magnitude_facts over g: a window search's slot
 * number, a mask, a count (malloc'd; NULL when out of memory). Fuse stores such a scratch
 * buffer one byte an element (lc_fused.byte_slot). */
bool *lc_byte_integer_facts(const lc_graph *g, const bool *nonneg, const double *magnitude);
/* A bound of lc_magnitude_facts that proves the node's values finite in dtype dt. */
bool lc_magnitude_finite(double bound, lc_dtype dt);
/* True when nodes a and b compute the same value by construction (the same node, or the same
 * op with the same attributes over the same values), before CSE has merged them. */
bool lc_simp_same(const lc_graph *g, int a, int b);
/* Node i is a constant of one element; *v is its value as the graph's dtype holds it. */
bool lc_simp_scalar_const(const lc_graph *g, int i, double *v);
bool lc_simp_is_integer(double e);
bool lc_simp_is_even(double e);
/* x and y agree to about 1e-9 relative: exponents autodiff derived from one another (1/p − 1
 * from 1/p) agree exactly; this only absorbs how a caller spelled the same number. */
bool lc_simp_near(double x, double y);
/* The numpy broadcast of two shapes (the shapes are known to broadcast). */
lc_shape lc_simp_broadcast(const lc_shape *a, const lc_shape *b);

#endif
