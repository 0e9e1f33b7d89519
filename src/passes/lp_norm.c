/* The LP norm recogniser (lp_norm.h). */
#include <math.h>

#include "passes/lp_norm.h"

bool lc_lp_inverse(double p, double e) { return fabs(e * p - 1.0) < 1e-12; }

bool lc_lp_sum_match(const lc_graph *g, int sum, lc_lp_norm *m) {
    const lc_node *s = lc_graph_node(g, sum);
    if (s->op != LC_OP_SUM) return false;
    const lc_node *t = lc_graph_node(g, s->inputs[0]);
    if (t->op != LC_OP_POW) return false;
    m->root = -1;
    m->sum = sum;
    m->terms = s->inputs[0];
    m->base = t->inputs[0];
    m->dim = (int)s->attr[LC_SUM_DIM];
    m->p = t->real_attr;
    return true;
}

bool lc_lp_norm_match(const lc_graph *g, int node, lc_lp_norm *m) {
    const lc_node *n = lc_graph_node(g, node);
    if (n->op != LC_OP_POW || !lc_lp_sum_match(g, n->inputs[0], m)) return false;
    if (!lc_lp_inverse(m->p, n->real_attr)) return false;
    m->root = node;
    return true;
}
