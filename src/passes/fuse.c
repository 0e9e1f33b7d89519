/* fuse: group the graph's nodes into kernels (see kernel.h for what a kernel is).
 *
 * Materialized (given a buffer): graph inputs, graph outputs, and a reduction that feeds an
 * unfold whose windows overlap, since inlining it there would recompute each of its elements
 * size/step times (unless the unfold runs along rows and both windows are short: then the
 * recomputation reads cached rows, LC_ROW_WINDOW_INLINE_MAX). Everything else is evaluated
 * inline in the kernel of each materialized node that needs it. A reduction seen through
 * `expand` (the backward of a pool) is recomputed per window slot instead: that keeps a
 * pool's backward one kernel, and costs a few cached reads rather than a round trip through
 * memory. Except a window search (a sum or max over a max_mask: a max pool's chosen slots)
 * that a fold's gather reads through expand: it is materialized, and written beside the
 * kernel of its shape that reads what it reads (merge_beside). */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "passes/kernel.h"
#include "passes/simplify.h"
#include "passes/window_span.h"
#include "support/error.h"
#include "support/format_real.h"
#include "support/int_math.h"
#include "support/strbuf.h"

static char *dup_printf(const char *fmt, ...) LC_PRINTF(1, 2);
static char *dup_printf(const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    return strdup(tmp);
}

static void free_kernel(lc_kernel *k) {
    free(k->nodes);
    free(k->args);
    free(k->sched.reductions);
    free(k->sched.lp_norms);
    free(k->sched.lp_ratios);
}

const lc_reduction_schedule *lc_kernel_reduction(const lc_kernel *k, int node) {
    for (int i = 0; i < k->sched.n_reductions; i++)
        if (k->sched.reductions[i].node == node) return &k->sched.reductions[i];
    return NULL;
}

const lc_lp_schedule *lc_kernel_lp_norm(const lc_kernel *k, int node) {
    for (int i = 0; i < k->sched.n_lp_norms; i++)
        if (k->sched.lp_norms[i].norm.root == node) return &k->sched.lp_norms[i];
    return NULL;
}

const lc_lp_ratio_schedule *lc_kernel_lp_ratio(const lc_kernel *k, int node) {
    for (int i = 0; i < k->sched.n_lp_ratios; i++)
        if (k->sched.lp_ratios[i].node == node) return &k->sched.lp_ratios[i];
    return NULL;
}

const lc_lp_ratio_schedule *lc_kernel_lp_signed_product(const lc_kernel *k, int node) {
    for (int i = 0; i < k->sched.n_lp_ratios; i++)
        if (k->sched.lp_ratios[i].signed_product == node) return &k->sched.lp_ratios[i];
    return NULL;
}

void lc_fused_free(lc_fused *f) {
    if (!f) return;
    int n = f->graph ? lc_graph_node_count(f->graph) : 0;
    if (f->why)
        for (int i = 0; i < n; i++) free(f->why[i]);
    for (int k = 0; k < f->n_kernels; k++) free_kernel(&f->kernels[k]);
    free(f->kernels);
    free(f->why);
    free(f->node_slot);
    free(f->row_pitch);
    free(f->byte_slot);
    free(f->scratch);
    lc_graph_free(f->graph);
    free(f);
}

const char *lc_fused_node_label(const lc_fused *f, int node, char *buf, size_t size) {
    const lc_node *n = lc_graph_node(f->graph, node);
    if (n->name)
        snprintf(buf, size, "%%%d (%s)", node, n->name);
    else
        snprintf(buf, size, "%%%d %s", node, lc_op_get_info(n->op)->name);
    return buf;
}

static bool is_lp_norm_of_abs(const lc_fused *f, int node, lc_lp_norm *lp);

/* A reduction read through the overlapping `unfold` that is cheaper recomputed than
 * materialized (LC_ROW_WINDOW_INLINE_MAX): the unfold runs along an axis other than the
 * last, both its windows and the reduction's are short enough to unroll, and the two
 * together hold at most LC_ROW_WINDOW_INLINE_MAX slots. Not where a fold reads the unfold
 * (`under_fold`, a pool's backward): a fold's gather evaluates its input once per covering
 * window, so the recomputation would multiply again (MaxPool2d(3, 2, 1)'s backward: 46
 * loads per element instead of 22 and a buffer). */
static bool recompute_across_rows(const lc_graph *g, const lc_node *reduce, const lc_node *unfold,
                                  bool under_fold) {
    if (under_fold) return false;
    if (reduce->op != LC_OP_SUM && reduce->op != LC_OP_MEAN && reduce->op != LC_OP_MAX) return false;
    const lc_node *src = lc_graph_node(g, unfold->inputs[0]);
    if (unfold->attr[LC_UNFOLD_DIM] >= src->shape.rank - 1) return false;
    int64_t terms = lc_graph_node(g, reduce->inputs[0])->shape.dim[reduce->attr[LC_REDUCE_DIM]];
    lc_window w = lc_window_of(unfold);
    return terms <= LC_UNROLL_MAX && w.size <= LC_UNROLL_MAX && terms * w.size <= LC_ROW_WINDOW_INLINE_MAX;
}

/* Walk back from an overlapping unfold's input through inline elementwise and layout nodes;
 * the first reduction found on each path is materialized. An LP norm of |e| is materialized
 * whole, not its sum: codegen evaluates it (always, or for a flagged window) from |e| scaled
 * by the window max, bypassing the sum, so a kernel reading a materialized sum there would
 * miss the buffers |e| reads. */
static void materialize_reductions(lc_fused *f, int node, const lc_node *unfold, int unfold_idx,
                                   bool under_fold) {
    const lc_node *n = lc_graph_node(f->graph, node);
    if (f->node_slot[node] >= 0) return;
    const lc_op_info *info = lc_op_get_info(n->op);
    lc_lp_norm lp;
    if (info->kind == LC_KIND_REDUCE && recompute_across_rows(f->graph, n, unfold, under_fold))
        return; /* inline: its inputs are read inside it, through no overlapping unfold */
    if (info->kind == LC_KIND_REDUCE || is_lp_norm_of_abs(f, node, &lp)) {
        lc_window w = lc_window_of(unfold);
        f->node_slot[node] = f->n_slots++;
        if (w.dilation == 1)
            f->why[node] = dup_printf(
                "feeds unfold %%%d whose windows overlap (size %" PRId64 " > step %" PRId64
                "): inlining would recompute it up to %" PRId64 " times",
                unfold_idx, w.size, w.step, lc_window_cover(&w));
        else
            f->why[node] = dup_printf(
                "feeds unfold %%%d whose windows overlap (span %" PRId64 " = dilation %" PRId64
                " * (size %" PRId64 " - 1) + 1 > step %" PRId64 "): inlining would recompute it up to %" PRId64
                " times", unfold_idx, lc_window_span(&w), w.dilation, w.size, w.step,
                lc_fold_gather_terms(&w));
        return;
    }
    for (int i = 0; i < info->arity; i++)
        materialize_reductions(f, n->inputs[i], unfold, unfold_idx, under_fold);
}

/* Whether node i's inline expression (through nodes not materialized, stopping at folds)
 * holds a max_mask: a search of a window per element. `seen` stamps the nodes walked. */
static bool searches_windows(const lc_fused *f, int i, int *seen, int stamp) {
    const lc_node *n = lc_graph_node(f->graph, i);
    if (n->op == LC_OP_MAX_MASK) return true;
    for (int a = 0; a < lc_op_get_info(n->op)->arity; a++) {
        int in = n->inputs[a];
        if (f->node_slot[in] >= 0 || seen[in] == stamp) continue;
        seen[in] = stamp;
        if (lc_graph_node(f->graph, in)->op != LC_OP_FOLD && searches_windows(f, in, seen, stamp)) return true;
    }
    return false;
}

/* The folds that node i's inline expression reads (through nodes not materialized), appended
 * to found[]. */
static void inline_folds(const lc_fused *f, int i, int *seen, int stamp, int *found, int *n_found) {
    const lc_node *n = lc_graph_node(f->graph, i);
    for (int a = 0; a < lc_op_get_info(n->op)->arity; a++) {
        int in = n->inputs[a];
        if (f->node_slot[in] >= 0 || seen[in] == stamp) continue;
        seen[in] = stamp;
        if (lc_graph_node(f->graph, in)->op == LC_OP_FOLD)
            found[(*n_found)++] = in;
        else
            inline_folds(f, in, seen, stamp, found, n_found);
    }
}

/* A fold whose windows overlap gathers its input once per covering window, so a gather it
 * reads inline runs that many times per element. Where that inner gather searches windows
 * (max_mask: a max pool's backward, MaxPool2d(3, 2, 1)'s gradient of its row maxima, ~8
 * loads and two first-max searches per element), it is materialized: written once and read
 * by the outer gather as one load. Inline, the outer kernel took ~22 loads per element and
 * forward+backward ran about 1.4 times slower (bench/README.md). A gather of plain values
 * (AvgPool2d's gradient, a load or two per window) stays inline, where its recomputation
 * costs less than a round trip through memory would (not measured). */
static lc_status materialize_searching_gathers(lc_fused *f) {
    const lc_graph *g = f->graph;
    int n = lc_graph_node_count(g);
    size_t nn = (size_t)(n ? n : 1);
    int *seen = calloc(nn, sizeof(int));
    int *found = malloc(sizeof(int) * nn);
    if (!seen || !found) {
        free(seen);
        free(found);
        return lc_fail(LC_ERR_NOMEM, "fuse: out of memory");
    }
    int stamp = 0;
    for (int o = 0; o < n; o++) {
        const lc_node *outer = lc_graph_node(g, o);
        if (outer->op != LC_OP_FOLD) continue;
        lc_window w = lc_window_of(outer);
        if (!lc_window_overlaps(&w)) continue;
        int n_found = 0;
        inline_folds(f, o, seen, ++stamp, found, &n_found);
        for (int k = 0; k < n_found; k++) {
            int src = found[k];
            if (f->node_slot[src] >= 0 || !searches_windows(f, src, seen, ++stamp)) continue;
            f->node_slot[src] = f->n_slots++;
            f->why[src] = dup_printf("a gather that searches windows (max_mask), read by fold %%%d whose windows "
                                     "overlap: inlining would recompute it up to %" PRId64 " times",
                                     o, lc_fold_gather_terms(&w));
        }
    }
    free(seen);
    free(found);
    return LC_OK;
}

/* Walk a fold's inline input (not through other folds or materialized nodes) for reductions
 * that search windows (hold a max_mask) and are read through an expand; see below. */
static void searches_under_expand(lc_fused *f, int i, bool via_expand, int fold, int *seen, int stamp,
                                  bool *searched) {
    const lc_node *n = lc_graph_node(f->graph, i);
    if (via_expand && (n->op == LC_OP_SUM || n->op == LC_OP_MAX) && searches_windows(f, i, seen, -stamp)) {
        const lc_node *fn = lc_graph_node(f->graph, fold);
        lc_window w = lc_window_of(fn);
        f->node_slot[i] = f->n_slots++;
        searched[i] = true;
        f->why[i] = dup_printf("a window search read through expand by the gather of fold %%%d: inline, it "
                               "would run once per window slot of up to %" PRId64 " covering windows",
                               fold, lc_fold_gather_terms(&w));
        return;
    }
    for (int a = 0; a < lc_op_get_info(n->op)->arity; a++) {
        int in = n->inputs[a];
        if (f->node_slot[in] >= 0 || seen[in] == stamp || lc_graph_node(f->graph, in)->op == LC_OP_FOLD) continue;
        seen[in] = stamp;
        searches_under_expand(f, in, n->op == LC_OP_EXPAND, fold, seen, stamp, searched);
    }
}

/* A window search (a sum or max over a max_mask: a max pool's chosen slot per window) that a
 * fold's gather reads through expand would be evaluated per slot of every covering window:
 * MaxPool2d's backward from the chosen slots (grad_rules.c) reads each window's slot at its
 * kh·kw places through 2·2 covering windows. It is materialized (searched[]): written once,
 * in the forward's kernel (merge_beside), and read as one load per covering window. */
static lc_status materialize_searches_under_gathers(lc_fused *f, bool *searched) {
    const lc_graph *g = f->graph;
    int n = lc_graph_node_count(g);
    int *seen = calloc((size_t)(n ? n : 1), sizeof(int));
    if (!seen) return lc_fail(LC_ERR_NOMEM, "fuse: out of memory");
    int stamp = 0;
    for (int o = 0; o < n; o++) {
        const lc_node *fold = lc_graph_node(g, o);
        if (fold->op != LC_OP_FOLD) continue;
        /* stamps for this walk are positive, searches_windows' negative: disjoint */
        searches_under_expand(f, o, false, o, seen, ++stamp, searched);
    }
    free(seen);
    return LC_OK;
}

/* The largest reduction (sum or mean) reached from `node` through inline elementwise ops and
 * sums or means, or -1 (a walk bounded by LC_INLINE_DEPTH_MAX, as codegen's). */
static int largest_inner_sum(const lc_fused *f, int node, int depth, int *best) {
    const lc_node *n = lc_graph_node(f->graph, node);
    const lc_op_info *info = lc_op_get_info(n->op);
    if (depth > LC_INLINE_DEPTH_MAX) return *best;
    if (n->op == LC_OP_SUM || n->op == LC_OP_MEAN) {
        if (*best < 0 || lc_shape_numel(&n->shape) > lc_shape_numel(&lc_graph_node(f->graph, *best)->shape))
            *best = node;
    } else if (info->kind != LC_KIND_ELEMENTWISE) {
        return *best;
    }
    for (int i = 0; i < info->arity; i++)
        if (f->node_slot[n->inputs[i]] < 0) largest_inner_sum(f, n->inputs[i], depth + 1, best);
    return *best;
}

/* A kernel of one element (a loss: the sum of a whole tensor) runs on one thread, since only
 * outer ranges split. Where its sums nest (MSELoss sums over each axis in turn), the largest
 * inner sum of at least LC_SERIAL_SPLIT_MIN elements is materialized: its kernel splits across
 * the threads (and its loop over elements vectorizes), and the one-element kernel sums the
 * buffer. The same sums in the same order: no bit changes. */
static void split_serial_sums(lc_fused *f, int node) {
    const lc_node *n = lc_graph_node(f->graph, node);
    if (n->op == LC_OP_INPUT || lc_shape_numel(&n->shape) != 1) return;
    int best = -1;
    const lc_op_info *info = lc_op_get_info(n->op);
    if (info->kind == LC_KIND_ELEMENTWISE || n->op == LC_OP_SUM || n->op == LC_OP_MEAN)
        for (int i = 0; i < info->arity; i++)
            if (f->node_slot[n->inputs[i]] < 0) largest_inner_sum(f, n->inputs[i], 1, &best);
    if (best < 0 || lc_shape_numel(&lc_graph_node(f->graph, best)->shape) < LC_SERIAL_SPLIT_MIN) return;
    f->node_slot[best] = f->n_slots++;
    f->why[best] = dup_printf("an inner sum of %%%d, a kernel of one element (one thread): materialized, %" PRId64
                              " elements, its kernel splits across threads", node,
                              lc_shape_numel(&lc_graph_node(f->graph, best)->shape));
}

/* pow(sum(pow(A, p)), 1/p) with A = |e| or otherwise never negative: codegen can scale it by
 * the window max (it reads A as |e|). "Never negative" is simplify's own fact (simplify_facts.c),
 * so every abs simplify dropped as redundant (the unfolded root of an earlier LP norm, an
 * AvgPool of one, a ReLU) is still seen here: else the norm would be evaluated plainly and
 * |x|^p overflow where it need not. */
static bool is_lp_norm_of_abs(const lc_fused *f, int node, lc_lp_norm *lp) {
    return lc_lp_norm_match(f->graph, node, lp) && f->nonneg[lp->base];
}

/* Node `node` is div_safe(A, expand(y)) for y the LP norm of the same A (the ratio simplify's
 * LP backward builds), y either a flagged norm of this kernel or read from a buffer: fills
 * r->norm and r->norm_inline. */
static bool match_lp_ratio(const lc_fused *f, const lc_kernel *k, int node, lc_lp_ratio_schedule *r) {
    const lc_node *n = lc_graph_node(f->graph, node);
    if (n->op != LC_OP_DIV || !n->attr[LC_DIV_SAFE]) return false;
    const lc_node *ex = lc_graph_node(f->graph, n->inputs[1]);
    if (ex->op != LC_OP_EXPAND || f->node_slot[n->inputs[1]] >= 0) return false;
    int y = ex->inputs[0];
    lc_lp_norm norm;
    if (!lc_lp_norm_match(f->graph, y, &norm) || norm.base != n->inputs[0] ||
        ex->attr[LC_EXPAND_DIM] != norm.dim)
        return false;
    const lc_lp_schedule *lp = lc_kernel_lp_norm(k, y);
    r->norm = y;
    r->norm_inline = lp && (lp->mode == LC_LP_FLAGGED ||
                            (lp->mode == LC_LP_SCALED && lc_lp_ratio_scaled(r->e, n->dtype)));
    return r->norm_inline || f->node_slot[y] >= 0;
}

/* Node `node` is mul(mul(G, R), sign(U)), either order at each level, with R a ratio this
 * kernel schedules (e > 0) over A = |U| or A = U, and the inner product and the sign inline:
 * marks R's schedule (lc_lp_ratio_schedule.signed_product). */
static void match_signed_ratio(const lc_fused *f, lc_kernel *k, int node) {
    const lc_graph *g = f->graph;
    const lc_node *n = lc_graph_node(g, node);
    if (n->op != LC_OP_MUL) return;
    for (int s = 0; s < 2; s++) {
        int sign = n->inputs[s], inner = n->inputs[1 - s];
        const lc_node *sn = lc_graph_node(g, sign), *in = lc_graph_node(g, inner);
        if (sn->op != LC_OP_SIGN || in->op != LC_OP_MUL || f->node_slot[sign] >= 0 || f->node_slot[inner] >= 0)
            continue;
        if (!lc_shape_equal(&sn->shape, &n->shape) || !lc_shape_equal(&in->shape, &n->shape)) continue;
        for (int r = 0; r < 2; r++) {
            int rnode = in->inputs[r];
            if (!lc_shape_equal(&lc_graph_node(g, rnode)->shape, &n->shape)) continue;
            for (int i = 0; i < k->sched.n_lp_ratios; i++) {
                lc_lp_ratio_schedule *ratio = &k->sched.lp_ratios[i];
                if (ratio->node != rnode || ratio->signed_product >= 0 || !(ratio->e > 0)) continue;
                int a = lc_graph_node(g, ratio->ratio)->inputs[0];
                const lc_node *an = lc_graph_node(g, a);
                if (a != sn->inputs[0] && !(an->op == LC_OP_ABS && an->inputs[0] == sn->inputs[0])) continue;
                ratio->signed_product = node;
                return;
            }
        }
    }
}

/* Whether `node` is computed in its kernel and read by `reader` alone (not an output either):
 * a value codegen may take in another form where only that reader sees it. */
static bool read_only_by(const lc_fused *f, int node, int reader) {
    const lc_graph *g = f->graph;
    if (f->node_slot[node] >= 0) return false;
    for (int i = 0; i < lc_graph_output_count(g); i++)
        if (lc_graph_output(g, i) == node) return false;
    for (int i = node + 1; i < lc_graph_node_count(g); i++) {
        const lc_node *n = lc_graph_node(g, i);
        for (int j = 0; j < lc_op_get_info(n->op)->arity; j++)
            if (n->inputs[j] == node && i != reader) return false;
    }
    return true;
}

/* The inner product mul(G, R) of signed product `node` = mul(mul(G, R), sign(U)) of ratio
 * node `r` (match_signed_ratio's shape): the inner product, G in *gx. */
static int signed_product_inner(const lc_graph *g, int node, int r, int *gx) {
    const lc_node *n = lc_graph_node(g, node);
    int inner = n->inputs[lc_graph_node(g, n->inputs[0])->op == LC_OP_SIGN ? 1 : 0];
    const lc_node *in = lc_graph_node(g, inner);
    *gx = in->inputs[in->inputs[0] == r ? 1 : 0];
    return inner;
}

/* LPPool2d's chained ratios (lc_lp_ratio_schedule.chain_outer): a signed ratio R over the
 * rows' norm y_row whose G is expand(fold(P)), the fold's windows tiling the rows, P the
 * signed product of the outer ratio (y_row/y)^e of the same e over unfold(y_row) with the
 * fold's window; every value the cancellation changes (R, P, the fold, the expand, G·R) read
 * by the next of them alone. Both ratios take 1/y by a division per window (reciprocal, not
 * the Newton root's steps, whose inverse is the norm's own). */
static void match_chained_ratios(const lc_fused *f, lc_kernel *k) {
    const lc_graph *g = f->graph;
    for (int i = 0; i < k->sched.n_lp_ratios; i++) {
        lc_lp_ratio_schedule *rw = &k->sched.lp_ratios[i];
        if (!rw->reciprocal || rw->newton_reciprocal || rw->signed_product < 0) continue;
        int gx, inner = signed_product_inner(g, rw->signed_product, rw->node, &gx);
        const lc_node *ex = lc_graph_node(g, gx);
        if (ex->op != LC_OP_EXPAND) continue;
        int fold = ex->inputs[0];
        const lc_node *fn = lc_graph_node(g, fold);
        if (fn->op != LC_OP_FOLD) continue;
        lc_window w = lc_window_of(fn);
        int64_t windows = lc_graph_node(g, fn->inputs[0])->shape.dim[w.dim];
        if (!lc_fold_tiles(&w, fn->attr[LC_FOLD_LENGTH], windows)) continue;
        lc_lp_ratio_schedule *rh = (lc_lp_ratio_schedule *)lc_kernel_lp_signed_product(k, fn->inputs[0]);
        if (!rh || rh == rw || !rh->reciprocal || rh->newton_reciprocal || !rh->norm_inline || rh->e != rw->e ||
            rh->chain_one)
            continue;
        int u = lc_graph_node(g, rh->ratio)->inputs[0];
        if (lc_graph_node(g, u)->op == LC_OP_ABS) u = lc_graph_node(g, u)->inputs[0];
        const lc_node *un = lc_graph_node(g, u);
        if (un->op != LC_OP_UNFOLD || un->inputs[0] != rw->norm) continue;
        lc_window uw = lc_window_of(un);
        if (uw.dim != w.dim || uw.size != w.size || uw.step != w.step || uw.pad_lo != 0 || uw.pad_hi != 0 ||
            uw.dilation != 1)
            continue;
        if (!read_only_by(f, rh->signed_product, fold) || !read_only_by(f, fold, gx) ||
            !read_only_by(f, gx, inner) || !read_only_by(f, rw->node, inner) ||
            !read_only_by(f, inner, rw->signed_product))
            continue;
        rw->chain_outer = rh->node;
        rw->chain_fold = fold;
        rh->chain_one = true;
    }
}

/* Whether lc_emit_pow takes x^e by multiplies and sqrt (e = 1/2, 1, 2, 3, 4, or a
 * half-integer below 8), at about a multiply's cost, rather than by log2/exp2 (emit_pow.c). */
static bool pow_by_multiplies(double e) {
    return e == 0.5 || e == 1 || e == 2 || e == 3 || e == 4 || (e > 0 && e < 8 && e - floor(e) == 0.5);
}

/* Whether that is |x|^k·sqrt|x| with k >= 1 (e = 1.5, 2.5, ... 7.5). */
static bool pow_by_root(double e) { return e > 1 && e < 8 && e - floor(e) == 0.5; }

/* ---- the emitted-code bound (LC_EMIT_BUDGET) ---- */

/* How many times codegen emits a window's body: once per term where it unrolls, once per lane
 * where vector partial sums build their lanes (emit_reduce.c). */
static int64_t window_copies(int64_t terms, lc_dtype dt) {
    return terms <= LC_UNROLL_MAX ? terms : LC_PARTIAL_LANES(dt);
}


/* Node i's emitted code in lc_fuse's estimate (kernel.h, LC_EMIT_BUDGET), from its inputs'
 * (a materialized input is one load). `lp_sum[s]`: s is the sum of an LP norm, whose root
 * carries the fix-up factor instead. */
static int64_t emitted_code(const lc_fused *f, int i, const int64_t *code, const bool *lp_sum) {
    const lc_graph *g = f->graph;
    const lc_node *n = lc_graph_node(g, i);
    const lc_op_info *info = lc_op_get_info(n->op);
    int64_t body = 0;
    for (int a = 0; a < info->arity; a++) {
        int in = n->inputs[a];
        body = lc_sat_add(body, f->node_slot[in] >= 0 ? 1 : code[in]);
    }
    lc_lp_norm lp;
    if (n->op == LC_OP_POW && lc_lp_norm_match(g, i, &lp) && lp.root == i)
        /* the plain form, then the fix-up's max pass and scaled sum over the terms again */
        return lc_sat_add(lc_sat_mul(body, 3), LC_EMIT_POW_WEIGHT);
    if (n->op == LC_OP_POW) return lc_sat_add(body, pow_by_multiplies(n->real_attr) ? 1 : LC_EMIT_POW_WEIGHT);
    if (n->op == LC_OP_SUM || n->op == LC_OP_MEAN) {
        const lc_node *x = lc_graph_node(g, n->inputs[0]);
        bool rescued = x->op == LC_OP_UNFOLD && !lp_sum[i];
        /* Only an LP norm's sum and a rescued window sum count a copy per term: their fix-up
         * forms are emitted apart from the plain one, where the schedule's budget on unrolled
         * code (LC_UNROLL_CODE_MAX) does not reach. Any other reduction's code is bounded
         * there (it runs as a loop past it), so its body counts once. */
        if (lp_sum[i] || rescued) {
            int64_t terms = x->shape.dim[n->attr[LC_REDUCE_DIM]];
            int64_t c = lc_sat_mul(body, window_copies(terms, n->dtype));
            /* a window sum the fix-up rescues is emitted again, compensated */
            return lc_sat_add(rescued ? lc_sat_mul(c, 2) : c, 1);
        }
    }
    return lc_sat_add(body, 1);
}

/* The nearest reductions under node i's inline expression that fuse may materialize: LP norms
 * whole (their root: codegen evaluates a flagged or scaled norm from its terms, bypassing the
 * sum) and other sums, means and maxima. Appends them to cut[] (stamped in seen[]). */
static void nearest_reductions(const lc_fused *f, int i, const bool *lp_sum, int *seen, int stamp,
                               int *cut, int *n_cut) {
    const lc_node *n = lc_graph_node(f->graph, i);
    for (int a = 0; a < lc_op_get_info(n->op)->arity; a++) {
        int in = n->inputs[a];
        if (f->node_slot[in] >= 0 || seen[in] == stamp) continue;
        seen[in] = stamp;
        const lc_node *x = lc_graph_node(f->graph, in);
        lc_lp_norm lp;
        bool lp_root = x->op == LC_OP_POW && is_lp_norm_of_abs(f, in, &lp) && lp.root == in;
        bool reduction = (x->op == LC_OP_SUM || x->op == LC_OP_MEAN || x->op == LC_OP_MAX) && !lp_sum[in];
        if (lp_root || reduction)
            cut[(*n_cut)++] = in;
        else
            nearest_reductions(f, in, lp_sum, seen, stamp, cut, n_cut);
    }
}

/* Materialize the nearest reductions under any node whose emitted code would pass
 * LC_EMIT_BUDGET ("emitted-code limit"), so that a kernel's code, and what LLVM spends on it,
 * stays bounded whatever chain of pools it would otherwise inline. One pass in node order;
 * after a cut, the estimates from the first node cut to here are taken again. */
static lc_status bound_emitted_code(lc_fused *f) {
    const lc_graph *g = f->graph;
    int n = lc_graph_node_count(g);
    size_t nn = (size_t)(n ? n : 1);
    int64_t *code = malloc(sizeof(int64_t) * nn);
    bool *lp_sum = calloc(nn, sizeof(bool));
    int *seen = calloc(nn, sizeof(int));
    int *cut = malloc(sizeof(int) * nn);
    lc_status st = LC_OK;
    if (!code || !lp_sum || !seen || !cut) {
        st = lc_fail(LC_ERR_NOMEM, "fuse: out of memory");
        goto done;
    }
    for (int i = 0; i < n; i++) {
        lc_lp_norm lp;
        if (lc_lp_norm_match(g, i, &lp) && lp.root == i) lp_sum[lp.sum] = true;
    }
    int stamp = 0;
    for (int i = 0; i < n; i++) {
        code[i] = emitted_code(f, i, code, lp_sum);
        if (code[i] <= LC_EMIT_BUDGET) continue;
        int n_cut = 0;
        nearest_reductions(f, i, lp_sum, seen, ++stamp, cut, &n_cut);
        if (n_cut == 0) continue; /* its own window is the size: nothing inside to cut */
        int first = i;
        int64_t was = code[i];
        for (int c = 0; c < n_cut; c++) {
            int node = cut[c];
            f->node_slot[node] = f->n_slots++;
            f->why[node] = dup_printf("emitted-code limit: inline, %%%d would be emitted as ~%" PRId64
                                      " units of code per element (at most %d; kernel.h, LC_EMIT_BUDGET)",
                                      i, was, LC_EMIT_BUDGET);
            if (!f->why[node]) {
                st = lc_fail(LC_ERR_NOMEM, "fuse: out of memory");
                goto done;
            }
            if (node < first) first = node;
        }
        for (int j = first; j <= i; j++) code[j] = emitted_code(f, j, code, lp_sum);
    }
done:
    free(code);
    free(lp_sum);
    free(seen);
    free(cut);
    return st;
}

/* Whether the kernel rooted at a fold runs window-major (lc_schedule): short blocks (step and
 * ceil(size/step) at most LC_UNROLL_MAX) unroll, and long blocks of windows that do not
 * overlap run as loops over the window's slots; anything else (long overlapping windows, and
 * dilated windows, whose slots are not a block's consecutive positions) stays element-major. */
static bool fold_window_major(const lc_node *n) {
    if (n->op != LC_OP_FOLD || n->attr[LC_FOLD_DIM] != n->shape.rank - 1) return false;
    lc_window w = lc_window_of(n);
    if (w.dilation != 1) return false;
    return (w.step <= LC_UNROLL_MAX && lc_window_cover(&w) <= LC_UNROLL_MAX) || !lc_window_overlaps(&w);
}

/* Materialize every node whose inline expression would be more than LC_INLINE_DEPTH_MAX nodes
 * deep (a long elementwise chain): codegen evaluates a node by recursing into its inline
 * inputs, so this bounds its stack by construction. And materialize a node used more than
 * once whose inline expression holds more than LC_INLINE_SHARED_MAX nodes: codegen emits an
 * inline node once per use, so without that bound a chain whose nodes are each read twice
 * (add(%1, %1), add(%2, %2), ...) doubles the emitted code per node, and a forward chain the
 * backward reads at every step (the backward of mul(%i-1, %0)) is re-emitted from each of
 * its links. One pass in node order (topological). */
static lc_status bound_inline_work(lc_fused *f) {
    int n = lc_graph_node_count(f->graph);
    size_t nn = (size_t)(n ? n : 1);
    int *depth = malloc(sizeof(int) * nn);
    int *uses = calloc(nn, sizeof(int));
    int64_t *size = malloc(sizeof(int64_t) * nn);
    lc_status st = LC_OK;
    if (!depth || !uses || !size) {
        st = lc_fail(LC_ERR_NOMEM, "fuse: out of memory");
        goto done;
    }
    for (int i = 0; i < n; i++) {
        const lc_node *x = lc_graph_node(f->graph, i);
        for (int a = 0; a < lc_op_get_info(x->op)->arity; a++) uses[x->inputs[a]]++;
    }
    for (int i = 0; i < n; i++) {
        const lc_node *x = lc_graph_node(f->graph, i);
        int d = 1;
        int64_t nodes = 1; /* the inline expression's nodes, each counted once per use */
        for (int a = 0; a < lc_op_get_info(x->op)->arity; a++) {
            int in = x->inputs[a];
            if (f->node_slot[in] >= 0) continue;
            if (1 + depth[in] > d) d = 1 + depth[in];
            nodes = lc_sat_add(nodes, size[in]);
        }
        if (f->node_slot[i] < 0 && d >= LC_INLINE_DEPTH_MAX) {
            f->node_slot[i] = f->n_slots++;
            f->why[i] = dup_printf("inline depth limit: its expression is %d nodes deep (at most %d "
                                   "inline, which bounds codegen's recursion)", d, LC_INLINE_DEPTH_MAX);
        } else if (f->node_slot[i] < 0 && uses[i] > 1 && nodes > LC_INLINE_SHARED_MAX) {
            f->node_slot[i] = f->n_slots++;
            f->why[i] = dup_printf("shared inline limit: read %d times, and its expression of %" PRId64
                                   " nodes (over %d) would be emitted once per read", uses[i], nodes,
                                   LC_INLINE_SHARED_MAX);
        }
        if (f->node_slot[i] >= 0 && !f->why[i]) {
            st = lc_fail(LC_ERR_NOMEM, "fuse: out of memory");
            goto done;
        }
        depth[i] = d;
        size[i] = nodes;
    }
done:
    free(depth);
    free(uses);
    free(size);
    return st;
}

/* The kernel's deepest inline chain (lc_schedule.inline_depth), from its root or co-root.
 * `depth` is scratch indexed by node: only the kernel's own nodes are read, each after it is
 * written (an inline input is one of the kernel's nodes, earlier in node order), so it needs
 * no clearing between kernels and the whole pass stays linear in the graph. */
static void measure_inline_depth(const lc_fused *f, lc_kernel *k, int *depth) {
    int deepest = 0;
    for (int i = 0; i < k->n_nodes; i++) { /* in node order: inputs first */
        int node = k->nodes[i];
        const lc_node *x = lc_graph_node(f->graph, node);
        int d = 1;
        for (int a = 0; a < lc_op_get_info(x->op)->arity; a++) {
            int in = x->inputs[a];
            bool inline_in = f->node_slot[in] < 0 || in == k->co_root;
            if (inline_in && 1 + depth[in] > d) d = 1 + depth[in];
        }
        depth[node] = d;
        if (d > deepest) deepest = d;
    }
    k->sched.inline_depth = deepest;
}

/* Scratch for collecting one kernel after another. Every per-node and per-slot array is
 * stamped with the collection's epoch instead of cleared, so collecting all kernels costs
 * what their nodes and edges cost, not the graph's size per kernel. */
typedef struct collect {
    int inline_node;  /* a materialized node evaluated inline anyway (a co-root), or -1 */
    const lc_node *window_fold; /* the root, where the kernel runs window-major; else NULL */
    int *mark;        /* per node: the epoch in which it was collected */
    int64_t *cost;    /* per node: its cost, valid where mark is this epoch */
    int *slot_mark;   /* per slot: the epoch in which it became an argument */
    int *depth;       /* per node: scratch for measure_inline_depth */
    int64_t *code;    /* per node: scratch for schedule_inline_nodes (loads in its code) */
    int epoch;        /* bumped per collection */
    int *nodes, n_nodes;
    int *args, n_args;
} collect;

static void add_arg(collect *c, int slot) {
    if (c->slot_mark[slot] == c->epoch) return;
    c->slot_mark[slot] = c->epoch;
    c->args[c->n_args++] = slot;
}

/* Whether reduction `n` (of `x`) is over the window slots of a window-major kernel's fold:
 * such a value is taken once per block of `step` positions and shared by them (codegen's
 * memo, emit_window_body), so its cost per position is a step's share. A reduction over
 * another axis (a convolution's channels) is evaluated per slot and gets no share. */
static bool window_reduction_shared(const lc_fused *f, const collect *c, const lc_node *x, const lc_node *n) {
    if (!c->window_fold) return false;
    const lc_node *slots = lc_graph_node(f->graph, c->window_fold->inputs[0]);
    return n->attr[LC_REDUCE_DIM] == x->shape.rank - 1 && lc_shape_equal(&x->shape, &slots->shape);
}

/* Depth-first from the root, stopping at materialized nodes (which become arguments). The
 * cost counts loads per output element, multiplied through reductions and window loops (a
 * window-major kernel's window reductions by a step's share of their terms); a node used
 * twice is evaluated twice by codegen, so it counts twice, but it is walked once (its cost
 * is kept), so a graph whose uses fan out and join again costs its edges, not its paths. */
static int64_t collect_node(const lc_fused *f, collect *c, int node, bool is_root) {
    int slot = f->node_slot[node];
    if (slot >= 0 && !is_root && node != c->inline_node) {
        add_arg(c, slot);
        return 1;
    }
    if (c->mark[node] == c->epoch) return c->cost[node];
    c->mark[node] = c->epoch;
    c->nodes[c->n_nodes++] = node;
    const lc_node *n = lc_graph_node(f->graph, node);
    if (n->op == LC_OP_INPUT) add_arg(c, slot); /* an input copied to an output */
    const lc_op_info *info = lc_op_get_info(n->op);
    /* saturating: a huge window (size near INT64_MAX) only makes the estimate "huge" */
    int64_t cost = 0;
    for (int i = 0; i < info->arity; i++) cost = lc_sat_add(cost, collect_node(f, c, n->inputs[i], false));
    if (n->op == LC_OP_SUM || n->op == LC_OP_MEAN || n->op == LC_OP_MAX || n->op == LC_OP_MAX_MASK) {
        const lc_node *x = lc_graph_node(f->graph, n->inputs[0]);
        cost = lc_sat_mul(cost, x->shape.dim[n->attr[LC_REDUCE_DIM]]);
        if (window_reduction_shared(f, c, x, n)) cost = lc_ceil_div(cost, lc_window_of(c->window_fold).step);
    } else if (n->op == LC_OP_FOLD) {
        lc_window w = lc_window_of(n);
        cost = lc_sat_mul(cost, lc_fold_gather_terms(&w));
    }
    c->cost[node] = cost > 0 ? cost : 1;
    return c->cost[node];
}

static int cmp_int(const void *a, const void *b) {
    return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

/* A long reduction with fewer terms that can be nonzero walks only those (lc_span). */
static void schedule_span(const lc_graph *g, lc_reduction_schedule *rs) {
    const lc_node *n = lc_graph_node(g, rs->node);
    if (rs->terms <= LC_UNROLL_MAX) return;
    if (n->op == LC_OP_FOLD) {
        /* a gather over slots (dilation far beyond the step) already visits only `size` terms */
        lc_window w = lc_window_of(n);
        int64_t windows = lc_graph_node(g, n->inputs[0])->shape.dim[n->attr[LC_FOLD_DIM]];
        if (!lc_fold_gathers_slots(&w) && windows < rs->terms) rs->span = LC_SPAN_WINDOWS;
        return;
    }
    int u = lc_window_span_unfold(g, rs->node);
    if (u < 0) return;
    const lc_node *un = lc_graph_node(g, u);
    if (lc_graph_node(g, un->inputs[0])->shape.dim[un->attr[LC_UNFOLD_DIM]] < rs->terms) {
        rs->span = LC_SPAN_DATA;
        rs->span_unfold = u;
    }
}

/* A sum over a contraction's channel axis: a sum of the product of two broadcasts (kernel.h,
 * LC_CONTRACTION_UNROLL_MAX). */
static bool is_channel_contraction(const lc_graph *g, const lc_node *n) {
    if (n->op != LC_OP_SUM) return false;
    const lc_node *x = lc_graph_node(g, n->inputs[0]);
    return x->op == LC_OP_MUL && lc_graph_node(g, x->inputs[0])->op == LC_OP_EXPAND &&
           lc_graph_node(g, x->inputs[1])->op == LC_OP_EXPAND;
}

/* Whether the inline expression under `node` (through nodes not materialized) reads an unfold
 * that pads: its terms then take a checked load wherever a window reaches past the ends. */
static bool reads_padding(const lc_fused *f, int node, unsigned char *seen) {
    if (seen[node]) return false;
    seen[node] = 1;
    const lc_node *n = lc_graph_node(f->graph, node);
    if (n->op == LC_OP_UNFOLD && (n->attr[LC_UNFOLD_PAD_LO] > 0 || n->attr[LC_UNFOLD_PAD_HI] > 0)) return true;
    for (int i = 0; i < lc_op_get_info(n->op)->arity; i++)
        if (f->node_slot[n->inputs[i]] < 0 && reads_padding(f, n->inputs[i], seen)) return true;
    return false;
}

/* Vector partial sums of at least three trips whose terms read padding run their first and
 * last trip apart (lc_reduction_schedule.peeled). */
static lc_status schedule_peel(const lc_fused *f, lc_reduction_schedule *rs) {
    const lc_node *n = lc_graph_node(f->graph, rs->node);
    if (rs->unrolled || rs->span != LC_SPAN_ALL || n->op == LC_OP_FOLD ||
        rs->terms / LC_PARTIAL_LANES(n->dtype) < 3)
        return LC_OK;
    unsigned char *seen = calloc((size_t)lc_graph_node_count(f->graph), 1);
    if (!seen) return lc_fail(LC_ERR_NOMEM, "fuse: out of memory");
    rs->peeled = reads_padding(f, n->inputs[0], seen);
    free(seen);
    return LC_OK;
}

/* The power x^e in the plain form of a flagged LP norm of exponent p (lc_lp_pow_form): the
 * short normal-range forms for float32 and p >= 1 (for p < 1 the accepted window's check
 * reads the root, and a subnormal element's power is not negligible), unless lc_emit_pow
 * takes e by multiplies and sqrt: the Newton root where e = 1/p is k/m (lc_lp_root_parts),
 * else the short power. */
static lc_lp_pow_form plain_pow_form(lc_dtype dt, double p, double e) {
    if (dt != LC_F32 || !(p >= 1) || pow_by_multiplies(e)) return LC_LP_POW_GENERAL;
    int m, k;
    if (lc_lp_inverse(p, e) && lc_lp_root_parts(e, &m, &k)) return LC_LP_POW_ROOT;
    return LC_LP_POW_NORMAL;
}

/* Whether some node of the graph takes `node` as an input (not only the graph's outputs). */
static bool node_is_read(const lc_graph *g, int node) {
    int count = lc_graph_node_count(g);
    for (int i = node + 1; i < count; i++) {
        const lc_node *n = lc_graph_node(g, i);
        for (int j = 0; j < lc_op_get_info(n->op)->arity; j++)
            if (n->inputs[j] == node) return true;
    }
    return false;
}

/* lc_lp_schedule.terms_poly and .root_poly: the shorter polynomials only where nothing reads
 * y (kernel.h says why). */
static lc_short_pow_poly short_pow_poly(bool y_read, bool root) {
    if (y_read) return (lc_short_pow_poly){7, 6};
    return root ? (lc_short_pow_poly){6, 6} : (lc_short_pow_poly){5, 5};
}

/* How a reduction's code is emitted (lc_reduction_schedule.rolled, .lanes_rolled), from
 * `body`, the loads in one term's code; returns the loads in the reduction's code. Only the
 * form changes, never the order of the terms, so the bits are those of the unrolled form. */
static int64_t schedule_code_size(lc_reduction_schedule *rs, lc_dtype dt, int64_t body) {
    if (rs->span != LC_SPAN_ALL) return body; /* a loop over the few terms a span walks */
    if (rs->unrolled) {
        int64_t unrolled = lc_sat_mul(body, rs->terms);
        rs->rolled = unrolled > LC_UNROLL_CODE_MAX;
        return rs->rolled ? body : unrolled;
    }
    int64_t lanes = LC_PARTIAL_LANES(dt);
    /* a trip's lanes in the loop, the peeled first and last trips, the tail's lanes */
    int64_t copies = lanes * (rs->peeled ? 3 : 1) + rs->terms % lanes;
    int64_t packed = lc_sat_mul(body, copies);
    rs->lanes_rolled = packed > LC_UNROLL_CODE_MAX;
    if (rs->lanes_rolled) rs->peeled = false; /* every trip runs in the one loop */
    return rs->lanes_rolled ? body : packed;
}

/* Whether the inline expression under `node` is made only of what codegen evaluates at a
 * vector of positions (lc_reduction_schedule.vector_terms): loads of materialized nodes and
 * inputs, constants of one element, add, mul, unfold, expand, and sums and means unrolled over
 * all their terms. */
static bool vector_term_ops(const lc_fused *f, const lc_kernel *k, int node, unsigned char *seen) {
    if (seen[node] || f->node_slot[node] >= 0) return true;
    seen[node] = 1;
    const lc_node *n = lc_graph_node(f->graph, node);
    switch (n->op) {
    case LC_OP_CONSTANT:
        return lc_shape_numel(&n->shape) == 1;
    case LC_OP_SUM:
    case LC_OP_MEAN: {
        const lc_reduction_schedule *rs = lc_kernel_reduction(k, node);
        if (!rs || !rs->unrolled || rs->span != LC_SPAN_ALL || rs->rescue_nonfinite) return false;
        break;
    }
    case LC_OP_ADD:
    case LC_OP_MUL:
    case LC_OP_UNFOLD:
    case LC_OP_EXPAND:
        break;
    default:
        return false;
    }
    for (int i = 0; i < lc_op_get_info(n->op)->arity; i++)
        if (!vector_term_ops(f, k, n->inputs[i], seen)) return false;
    return true;
}

/* The most rows of one buffer, among `terms` consecutive indices of axis `axis` of `node`'s
 * (inline) expression, that lie a multiple of 4 KiB apart in memory and so share the sets of
 * the L1 and L2 (index·coef along that axis walks `coef` elements of the buffer's mapped
 * axis per index). The axis is followed through the ops vector_term_ops admits. */
static int64_t rows_sharing_sets(const lc_fused *f, int node, int axis, int64_t coef, int64_t terms) {
    const lc_node *n = lc_graph_node(f->graph, node);
    if (f->node_slot[node] >= 0) {
        if (n->shape.dim[axis] == 1) return 1;
        /* the buffer's own layout: a padded scratch buffer's rows lie row_pitch apart */
        int64_t stride = lc_sat_mul(coef * lc_fused_elem_bytes(f, f->node_slot[node], n->dtype),
                                    lc_fused_axis_stride(f, f->node_slot[node], &n->shape, axis));
        /* rows share a 4 KiB offset in groups */
        int64_t offsets = LC_ROW_SET_BYTES / lc_gcd(stride % LC_ROW_SET_BYTES, LC_ROW_SET_BYTES);
        return terms < offsets ? 1 : terms / offsets;
    }
    int rank = n->shape.rank;
    switch (n->op) {
    case LC_OP_UNFOLD: {
        lc_window w = lc_window_of(n);
        if (axis == rank - 1) return rows_sharing_sets(f, n->inputs[0], w.dim, lc_sat_mul(coef, w.dilation), terms);
        return rows_sharing_sets(f, n->inputs[0], axis, axis == w.dim ? lc_sat_mul(coef, w.step) : coef, terms);
    }
    case LC_OP_EXPAND: {
        int dim = (int)n->attr[LC_EXPAND_DIM];
        if (axis == dim) return 1;
        return rows_sharing_sets(f, n->inputs[0], axis < dim ? axis : axis - 1, coef, terms);
    }
    case LC_OP_SUM:
    case LC_OP_MEAN: {
        int dim = (int)n->attr[LC_REDUCE_DIM];
        return rows_sharing_sets(f, n->inputs[0], axis < dim ? axis : axis + 1, coef, terms);
    }
    case LC_OP_ADD:
    case LC_OP_MUL: {
        int64_t most = 1;
        for (int i = 0; i < 2; i++) {
            const lc_node *in = lc_graph_node(f->graph, n->inputs[i]);
            int d = axis - (rank - in->shape.rank);
            if (d < 0 || in->shape.dim[d] == 1) continue; /* broadcast: one row */
            int64_t r = rows_sharing_sets(f, n->inputs[i], d, coef, terms);
            if (r > most) most = r;
        }
        return most;
    }
    default:
        return 1;
    }
}

/* lc_reduction_schedule.blocked_sum: vector partial sums with vector terms whose term is an
 * inline sum unrolled over at least LC_BLOCKED_SUM_MIN terms (a whole number of groups), with
 * trips between the peeled ends to block. */
static void schedule_blocked_sum(const lc_fused *f, const lc_kernel *k, lc_reduction_schedule *rs) {
    if (!rs->vector_terms || rs->unrolled || rs->lanes_rolled || rs->span != LC_SPAN_ALL || rs->rescue_nonfinite)
        return;
    const lc_node *outer = lc_graph_node(f->graph, rs->node);
    int inner = outer->inputs[0];
    if (f->node_slot[inner] >= 0 || inner == k->root || inner == k->co_root) return;
    const lc_node *in = lc_graph_node(f->graph, inner);
    const lc_reduction_schedule *is = lc_kernel_reduction(k, inner);
    if (in->op != LC_OP_SUM || !is || !is->unrolled || is->rolled || is->span != LC_SPAN_ALL ||
        is->rescue_nonfinite || is->terms < LC_BLOCKED_SUM_MIN || is->terms % LC_BLOCKED_SUM_GROUP != 0)
        return;
    int64_t trips = rs->terms / LC_PARTIAL_LANES(outer->dtype);
    if (trips - (rs->peeled ? 2 : 0) < 1) return;
    /* only where the rows conflict: elsewhere the buffer's loads and stores cost more than
     * they save (about 30 % of the kernel at L = 4100) */
    if (rows_sharing_sets(f, in->inputs[0], (int)in->attr[LC_REDUCE_DIM], 1, is->terms) < LC_BLOCKED_SUM_SET_ROWS)
        return;
    rs->blocked_sum = inner;
}

/* lc_reduction_schedule.flag_in_outer: a rescued sum (not the root or co-root) whose every use
 * among the kernel's nodes is an unfold read only by rescued window sums of the kernel. */
static void schedule_outer_flags(const lc_fused *f, lc_kernel *k) {
    for (int j = 0; j < k->sched.n_reductions; j++) {
        lc_reduction_schedule *rs = &k->sched.reductions[j];
        if (!rs->rescue_nonfinite || rs->node == k->root || rs->node == k->co_root) continue;
        int uses = 0;
        bool ok = true;
        for (int a = 0; a < k->n_nodes && ok; a++) {
            const lc_node *u = lc_graph_node(f->graph, k->nodes[a]);
            const lc_op_info *info = lc_op_get_info(u->op);
            for (int i = 0; i < info->arity && ok; i++) {
                if (u->inputs[i] != rs->node) continue;
                uses++;
                if (u->op != LC_OP_UNFOLD) {
                    ok = false;
                    break;
                }
                int readers = 0;
                for (int b = 0; b < k->n_nodes && ok; b++) {
                    const lc_node *v = lc_graph_node(f->graph, k->nodes[b]);
                    const lc_op_info *vi = lc_op_get_info(v->op);
                    for (int m = 0; m < vi->arity; m++) {
                        if (v->inputs[m] != k->nodes[a]) continue;
                        const lc_reduction_schedule *outer = lc_kernel_reduction(k, k->nodes[b]);
                        if (!outer || !outer->rescue_nonfinite || m != 0) ok = false;
                        readers++;
                    }
                }
                if (readers == 0 || k->nodes[a] == k->root || k->nodes[a] == k->co_root) ok = false;
            }
        }
        rs->flag_in_outer = ok && uses > 0;
    }
}

/* lc_reduction_schedule.choice_mask: rs is a sum, straight-line, of mul(max_mask(W), V) over
 * the mask's axis (either operand order), the mask and the product inline, the mask's own
 * search straight-line too (the carried form takes its terms in order from the first, as the
 * unrolled search does), and V finite at every element, so that V · 0 is ±0 at every slot
 * but the chosen one. */
static void schedule_choice(const lc_fused *f, const lc_kernel *k, lc_reduction_schedule *rs) {
    const lc_graph *g = f->graph;
    const lc_node *sum = lc_graph_node(g, rs->node);
    if (sum->op != LC_OP_SUM || rs->terms < 1 || !lc_reduction_straight(rs) || f->node_slot[sum->inputs[0]] >= 0)
        return;
    const lc_node *prod = lc_graph_node(g, sum->inputs[0]);
    if (prod->op != LC_OP_MUL) return;
    for (int side = 0; side < 2; side++) {
        int mask = prod->inputs[side], values = prod->inputs[1 - side];
        const lc_node *m = lc_graph_node(g, mask);
        const lc_reduction_schedule *ms = lc_kernel_reduction(k, mask);
        if (m->op != LC_OP_MAX_MASK || f->node_slot[mask] >= 0 || !ms || !lc_reduction_straight(ms) ||
            m->attr[LC_REDUCE_DIM] != sum->attr[LC_REDUCE_DIM] || !lc_shape_equal(&m->shape, &prod->shape) ||
            !lc_magnitude_finite(f->magnitude[values], prod->dtype))
            continue;
        rs->choice_mask = mask;
        rs->choice_values = values;
        return;
    }
}

/* How each reduction and LP norm the kernel evaluates inline runs (lc_schedule), and the
 * loads in its code (lc_kernel.code). `code` is scratch indexed by node, each of the
 * kernel's nodes written before it is read (as measure_inline_depth's `depth`). */
static lc_status schedule_inline_nodes(const lc_fused *f, lc_kernel *k, int64_t *code) {
    size_t cap = (size_t)(k->n_nodes ? k->n_nodes : 1);
    k->sched.reductions = malloc(sizeof *k->sched.reductions * cap);
    k->sched.lp_norms = malloc(sizeof *k->sched.lp_norms * cap);
    k->sched.lp_ratios = malloc(sizeof *k->sched.lp_ratios * cap);
    if (!k->sched.reductions || !k->sched.lp_norms || !k->sched.lp_ratios)
        return lc_fail(LC_ERR_NOMEM, "fuse: out of memory");
    for (int i = 0; i < k->n_nodes; i++) {
        int node = k->nodes[i];
        const lc_node *n = lc_graph_node(f->graph, node);
        /* one term's code: each inline input's, once per use, and a load per buffer read */
        int64_t body = 0;
        for (int a = 0; a < lc_op_get_info(n->op)->arity; a++) {
            int in = n->inputs[a];
            bool inline_in = f->node_slot[in] < 0 || in == k->co_root;
            body = lc_sat_add(body, inline_in ? code[in] : 1);
        }
        if (body < 1) body = 1;
        code[node] = body;
        int64_t terms = -1;
        if (n->op == LC_OP_SUM || n->op == LC_OP_MEAN || n->op == LC_OP_MAX || n->op == LC_OP_MAX_MASK) {
            terms = lc_graph_node(f->graph, n->inputs[0])->shape.dim[n->attr[LC_REDUCE_DIM]];
        } else if (n->op == LC_OP_FOLD) {
            lc_window w = lc_window_of(n);
            terms = lc_fold_gather_terms(&w);
        }
        if (terms >= 0) {
            lc_reduction_schedule rs = {.node = node, .terms = terms, .unrolled = terms <= LC_UNROLL_MAX,
                                        .span = LC_SPAN_ALL, .span_unfold = -1, .col_axis = -1,
                                        .blocked_sum = -1, .choice_mask = -1, .choice_values = -1};
            rs.rescue_nonfinite = (n->op == LC_OP_SUM || n->op == LC_OP_MEAN) &&
                                  lc_graph_node(f->graph, n->inputs[0])->op == LC_OP_UNFOLD;
            schedule_span(f->graph, &rs);
            if (!rs.unrolled && rs.span == LC_SPAN_ALL && terms <= LC_CONTRACTION_UNROLL_MAX &&
                is_channel_contraction(f->graph, n))
                rs.unrolled = true;
            LC_TRY(schedule_peel(f, &rs));
            code[node] = schedule_code_size(&rs, n->dtype, body);
            schedule_choice(f, k, &rs);
            k->sched.reductions[k->sched.n_reductions++] = rs;
        }
        lc_lp_schedule lp = {.terms_from_sums = -1};
        if (lc_lp_norm_match(f->graph, node, &lp.norm)) {
            /* the scaled form reads |e| directly: only where the sum is inline (it is not
             * when the graph also outputs the sum, say) */
            lc_lp_norm unused;
            if (!is_lp_norm_of_abs(f, node, &unused) || f->node_slot[lp.norm.sum] >= 0)
                lp.mode = LC_LP_PLAIN;
            else
                lp.mode = lc_lp_norm_scaled(lp.norm.p) ? LC_LP_SCALED : LC_LP_FLAGGED;
            if (lp.mode == LC_LP_FLAGGED) {
                k->sched.fixup = true;
                /* the short terms read the base: only where the pow node is inline too */
                if (f->node_slot[lp.norm.terms] < 0) lp.terms_form = plain_pow_form(n->dtype, lp.norm.p, lp.norm.p);
                lp.root_form = plain_pow_form(n->dtype, lp.norm.p, 1.0 / lp.norm.p);
                bool y_read = node_is_read(f->graph, node);
                lp.terms_poly = short_pow_poly(y_read, false);
                lp.root_poly = short_pow_poly(y_read, true);
                lp.terms_sqrt_estimate = !y_read && n->dtype == LC_F32 && f->node_slot[lp.norm.terms] < 0 &&
                                         pow_by_root(lp.norm.p);
            }
            k->sched.lp_norms[k->sched.n_lp_norms++] = lp;
        }
        /* the LP backward's (A/y)^e: the pow over the ratio, or the bare ratio (e = 1); with
         * y read from a buffer only its underflow (0 < e < 1) needs the fix-up */
        /* unmatched: the node's own ratio, e = 1, no y yet, no signed product */
        const lc_lp_ratio_schedule unmatched = {.node = node, .ratio = node, .norm = -1, .e = 1.0,
                                                .signed_product = -1, .chain_outer = -1, .chain_fold = -1};
        lc_lp_ratio_schedule ratio = unmatched;
        bool found = false;
        if (n->op == LC_OP_POW && f->node_slot[n->inputs[0]] < 0) {
            ratio.e = n->real_attr; /* match_lp_ratio reads it */
            found = match_lp_ratio(f, k, n->inputs[0], &ratio);
            if (found) ratio.ratio = n->inputs[0];
        }
        if (!found) {
            ratio = unmatched;
            found = match_lp_ratio(f, k, node, &ratio);
        }
        if (found && (ratio.norm_inline || (ratio.e > 0 && ratio.e < 1))) {
            const lc_lp_schedule *norm = ratio.norm_inline ? lc_kernel_lp_norm(k, ratio.norm) : NULL;
            ratio.reciprocal = norm && norm->mode == LC_LP_FLAGGED && norm->norm.p >= 2;
            ratio.split_sqrt = ratio.reciprocal && ratio.node != ratio.ratio && ratio.e >= 1 && ratio.e < 8 &&
                               ratio.e - floor(ratio.e) == 0.5;
            ratio.newton_reciprocal = ratio.reciprocal && norm->root_form == LC_LP_POW_ROOT;
            ratio.short_pow = ratio.reciprocal && ratio.node != ratio.ratio && !ratio.split_sqrt &&
                              lc_graph_node(f->graph, node)->dtype == LC_F32 && ratio.e > 1 &&
                              !(ratio.e == floor(ratio.e) && ratio.e <= 4);
            k->sched.lp_ratios[k->sched.n_lp_ratios++] = ratio;
            if (!norm || norm->mode == LC_LP_FLAGGED) k->sched.fixup = true;
        }
        match_signed_ratio(f, k, node);
    }
    match_chained_ratios(f, k);
    /* an LP norm evaluated flagged or scaled takes its sum itself (never as a plain window
     * sum), so only the other window sums are rescued */
    for (int i = 0; i < k->sched.n_lp_norms; i++) {
        const lc_lp_schedule *lp = &k->sched.lp_norms[i];
        if (lp->mode == LC_LP_PLAIN) continue;
        for (int j = 0; j < k->sched.n_reductions; j++)
            if (k->sched.reductions[j].node == lp->norm.sum) k->sched.reductions[j].rescue_nonfinite = false;
    }
    for (int j = 0; j < k->sched.n_reductions; j++)
        if (k->sched.reductions[j].rescue_nonfinite) k->sched.fixup = true;
    if (k->sched.n_lp_norms == 0 && k->sched.n_lp_ratios == 0 && !k->sched.fixup) {
        unsigned char *seen = calloc((size_t)lc_graph_node_count(f->graph), 1);
        if (!seen) return lc_fail(LC_ERR_NOMEM, "fuse: out of memory");
        for (int j = 0; j < k->sched.n_reductions; j++) {
            lc_reduction_schedule *rs = &k->sched.reductions[j];
            const lc_node *x = lc_graph_node(f->graph, rs->node);
            /* lanes packed by a loop (past the code budget) stay so: one form per reduction */
            if (rs->unrolled || rs->lanes_rolled || rs->span != LC_SPAN_ALL || (x->op != LC_OP_SUM && x->op != LC_OP_MEAN))
                continue;
            memset(seen, 0, (size_t)lc_graph_node_count(f->graph));
            rs->vector_terms = vector_term_ops(f, k, x->inputs[0], seen);
        }
        free(seen);
        for (int j = 0; j < k->sched.n_reductions; j++) schedule_blocked_sum(f, k, &k->sched.reductions[j]);
    }
    schedule_outer_flags(f, k);
    return LC_OK;
}

/* lc_lp_schedule.flag_masks_sign, once the kernel's LP gradients are known. */
static void schedule_flag_bits(const lc_fused *f, lc_kernel *k) {
    for (int i = 0; i < k->sched.n_lp_norms; i++) {
        lc_lp_schedule *lp = &k->sched.lp_norms[i];
        lp->flag_masks_sign = lp->mode == LC_LP_FLAGGED && k->sched.n_lp_ratios == 0 &&
                              lc_graph_node(f->graph, lp->norm.base)->op == LC_OP_ABS;
    }
}

/* lc_lp_schedule.terms_from_sums: a flagged norm whose A = |unfold(y_in)|, y_in a flagged norm
 * of the same p in this kernel, all of it inline. The unfold pads with zeros (0^p = 0 = the
 * padding's S_in) and does not run along the last axis, whose loads a carry_loads kernel logs
 * (codegen evaluates the unfold with y_in's sums in place of y_in). */
static void schedule_nested_norms(const lc_fused *f, lc_kernel *k) {
    for (int i = 0; i < k->sched.n_lp_norms; i++) {
        lc_lp_schedule *lp = &k->sched.lp_norms[i];
        if (lp->mode != LC_LP_FLAGGED || f->node_slot[lp->norm.base] >= 0 || f->node_slot[lp->norm.terms] >= 0)
            continue;
        /* A = |u|, or u itself where simplify dropped the abs of what is >= 0 */
        const lc_node *a = lc_graph_node(f->graph, lp->norm.base);
        int u = a->op == LC_OP_ABS ? a->inputs[0] : lp->norm.base;
        const lc_node *un = lc_graph_node(f->graph, u);
        if (un->op != LC_OP_UNFOLD || f->node_slot[u] >= 0 || un->attr[LC_UNFOLD_NEG_INF_PAD]) continue;
        int y_in = un->inputs[0];
        const lc_node *yn = lc_graph_node(f->graph, y_in);
        if (lc_window_of(un).dim == yn->shape.rank - 1 || f->node_slot[y_in] >= 0 || y_in == k->root ||
            y_in == k->co_root)
            continue;
        const lc_lp_schedule *inner = lc_kernel_lp_norm(k, y_in);
        if (inner && inner != lp && inner->mode == LC_LP_FLAGGED && inner->norm.p == lp->norm.p &&
            yn->dtype == a->dtype) {
            lp->terms_from_sums = y_in;
            lp->terms_form = LC_LP_POW_GENERAL; /* no power left to take */
            lp->terms_sqrt_estimate = false;
        }
    }
}

/* lc_schedule.interleave: 2 for the unrolled window-major loop of a flagged LP norm that
 * takes a power by a short form (lc_lp_pow_form; measured with the short power). llvm-mca (znver4) cycles per 16 windows of
 * that loop's trip: p = 3 105 -> 94, p = 2.5 191 -> 153; p = 2 (sqrt, no polynomial) 54 -> 59,
 * so not there.
 * 1 for the element-major loop of a kernel with a fix-up flag: the flag's OR over the windows
 * is a reduction of the loop, and LLVM interleaves loops with reductions (2 trips for the LP
 * norms, 4 for AvgPool's rescued sums) where without the flag it took 1. An OR's chain is one
 * cycle; each extra trip repeats the loop's de-interleaving shuffles of the window slots, which
 * the back end's DAG combiner takes most of a forward's compile to digest (LPPool1d(2, 4)
 * forward 90.9M -> 59.7M instructions, AvgPool1d(4) 121.4M -> 47.9M; bench/README.md).
 * Except 4 for that loop where a flagged LP norm takes a power by the short normal-range power
 * (general p, 2.7): five powers of ~40 operations each, one chain of ~160 cycles per trip
 * (loads, shuffles, four term powers, the sum, the root's power), which one trip at a time
 * the out-of-order window overlapped only about twice. LPPool1d(2.7, 4)'s forward on a
 * cache-resident input: 75 cycles per 16 windows with 1 trip, 65 with 2, 54 with 4; its
 * compile grows from 198M to 487M instructions (bench/README.md, 2026-12-04). */
static void schedule_interleave(lc_kernel *k) {
    if (k->sched.order == LC_LOOP_ELEMENTS) {
        if (!k->sched.fixup) return;
        k->sched.interleave = 1;
        for (int i = 0; i < k->sched.n_lp_norms; i++) {
            const lc_lp_schedule *lp = &k->sched.lp_norms[i];
            if (lp->mode == LC_LP_FLAGGED && (lp->terms_form == LC_LP_POW_NORMAL || lp->root_form == LC_LP_POW_NORMAL))
                k->sched.interleave = 4;
        }
        return;
    }
    if (k->sched.order != LC_LOOP_WINDOWS || k->sched.block != LC_BLOCK_UNROLLED) return;
    for (int i = 0; i < k->sched.n_lp_norms; i++) {
        const lc_lp_schedule *lp = &k->sched.lp_norms[i];
        if (lp->mode == LC_LP_FLAGGED && (lp->terms_form != LC_LP_POW_GENERAL || lp->root_form != LC_LP_POW_GENERAL))
            k->sched.interleave = 2;
    }
}

/* lc_schedule.block_steps: a window-major kernel of unrolled blocks, without a co-root or a
 * row tile, that evaluates inline a fold of step s > 1 over the last axis (a gather whose
 * window index is its position divided by s) gets blocks of a multiple of s steps, the least
 * one that is a multiple of every such fold's step, where the block's positions stay
 * LC_UNROLL_MAX or fewer. The demo's AvgPool1d(3, 1, 1) backward over LPPool1d(2, 4)'s
 * gradient (blocks of step 1): each of a block's 3 windows o = q - m reads the LP gradient at
 * position o, whose LP window o / 4 the loop vectorizer computed lane by lane and read dy and
 * y through by 8 scalar loads each; with blocks of 4 steps o = 4q + s - m and the LP window
 * is q + (s - m) / 4, rounded down, a contiguous load. Where blocks tile the rows, the larger
 * block must tile them too (else one step per block stays). Folds that search slots (a
 * window per slot, lc_fold_gathers_slots), dilated ones and those not unrolled are left out:
 * codegen takes only an undilated, unrolled gather's window index as affine. */
static void schedule_block_steps(const lc_fused *f, lc_kernel *k) {
    k->sched.block_steps = 1;
    if (k->sched.order != LC_LOOP_WINDOWS || k->sched.block != LC_BLOCK_UNROLLED || k->co_root >= 0 ||
        k->sched.tile_rows > 1 || k->sched.block_shift > 0) /* a shifted block is one step */
        return;
    const lc_node *r = lc_graph_node(f->graph, k->root);
    lc_window wr = lc_window_of(r);
    int64_t steps = 1;
    for (int i = 0; i < k->n_nodes; i++) {
        const lc_node *n = lc_graph_node(f->graph, k->nodes[i]);
        if (k->nodes[i] == k->root || n->op != LC_OP_FOLD || n->attr[LC_FOLD_DIM] != n->shape.rank - 1) continue;
        lc_window w = lc_window_of(n);
        const lc_reduction_schedule *rs = lc_kernel_reduction(k, k->nodes[i]);
        if (w.step < 2 || w.dilation != 1 || lc_fold_gathers_slots(&w) || !rs || !lc_reduction_straight(rs)) continue;
        int64_t g = lc_gcd(steps, w.step); /* steps = lcm(steps, w.step) */
        if (steps / g > LC_UNROLL_MAX / w.step) return;
        steps = steps / g * w.step;
    }
    if (steps == 1 || steps > LC_UNROLL_MAX / wr.step) return;
    int64_t block = wr.step * steps;
    if (k->sched.whole_blocks) {
        if (r->attr[LC_FOLD_LENGTH] % block != 0) return;
        k->align = block;
    }
    k->sched.block_steps = (int)steps;
}

/* How many rows a trip of the kernel's loop computes (lc_schedule.tile_rows): more than one
 * where an unrolled channel contraction sits in a loop that vectorizes (every reduction
 * unrolled over all its terms, and window-major blocks unrolled), its rows are long enough to
 * vectorize, and the axis before the last divides into tiles. */
static void schedule_row_tile(const lc_fused *f, lc_kernel *k) {
    k->sched.tile_rows = 1;
    const lc_node *r = lc_graph_node(f->graph, k->root);
    int rank = r->shape.rank;
    if (k->co_rows > 1) {
        /* a co-root over the rows too (lc_kernel.co_rows): the tile is its window's rows, at
         * any row length (it is what writes the co-root once, not a speed-up); merge_co_roots
         * keeps the co-root only where this tiles */
        if (k->sched.order != LC_LOOP_WINDOWS || k->sched.block != LC_BLOCK_UNROLLED || !k->sched.whole_blocks ||
            k->co_rows > LC_TILE_ROWS_MAX || rank < 2 || r->shape.dim[rank - 2] % k->co_rows != 0 ||
            !lc_kernel_reductions_straight(k))
            return;
        k->sched.tile_rows = k->co_rows;
        k->align = (int64_t)k->co_rows * r->shape.dim[rank - 1];
        return;
    }
    if (rank < 2 || r->shape.dim[rank - 1] < LC_TILE_ROW_MIN) return;
    if (k->sched.order == LC_LOOP_WINDOWS && k->sched.block != LC_BLOCK_UNROLLED) return;
    /* a co-root is written in a branch (at its window's first position) by every
     * element-by-element body: tiled only where blocks tile the rows (no such body) */
    if (k->co_root >= 0 && !k->sched.whole_blocks) return;
    bool contraction = false;
    for (int i = 0; i < k->sched.n_reductions; i++) {
        const lc_reduction_schedule *rs = &k->sched.reductions[i];
        if (!lc_reduction_straight(rs)) return;
        if (is_channel_contraction(f->graph, lc_graph_node(f->graph, rs->node))) contraction = true;
    }
    if (!contraction) return;
    int tile = LC_TILE_ROWS_MAX;
    while (tile > 1 && r->shape.dim[rank - 2] % tile != 0) tile /= 2;
    if (tile == 1) return;
    k->sched.tile_rows = tile;
    /* whole tiles; a window-major kernel's step divides the row (whole_blocks), or it was 1 */
    k->align = tile * r->shape.dim[rank - 1];
}

/* Whether, evaluated at an index whose axis `axis` is the root's last-axis position (-1: an
 * index that does not depend on it), every path from `node` down to the tiled reduction
 * `red` reaches it with that position unchanged on one axis of its result, *red_axis. The
 * ops a path may take are those whose codegen passes the index on as it is (elementwise ops,
 * with numpy broadcasting; a sum or mean over another axis; a fold or unfold along another
 * axis; an expand), so column t of the tile reaches the reduction at that axis's index + t.
 * `seen` holds per node the axis it was walked with (INT32_MIN: not yet). */
static bool col_walk(const lc_fused *f, const lc_kernel *k, int node, int axis, int red, int *seen, int *red_axis) {
    if (node != k->root && f->node_slot[node] >= 0) return true; /* a load at that index */
    if (seen[node] != INT32_MIN) return seen[node] == axis;
    seen[node] = axis;
    const lc_node *n = lc_graph_node(f->graph, node);
    if (node == red) {
        if (axis < 0) return false;
        *red_axis = axis;
        return true;
    }
    const lc_op_info *info = lc_op_get_info(n->op);
    if (info->kind == LC_KIND_SOURCE) return true;
    if (info->kind == LC_KIND_ELEMENTWISE) {
        for (int a = 0; a < info->arity; a++) {
            const lc_node *in = lc_graph_node(f->graph, n->inputs[a]);
            int ia = axis < 0 ? -1 : axis - (n->shape.rank - in->shape.rank);
            if (ia >= 0 && in->shape.dim[ia] == 1) ia = -1; /* broadcast: index 0 for every column */
            if (!col_walk(f, k, n->inputs[a], ia, red, seen, red_axis)) return false;
        }
        return true;
    }
    int ia;
    switch (n->op) {
    case LC_OP_SUM:
    case LC_OP_MEAN: {
        int d = (int)n->attr[LC_REDUCE_DIM];
        ia = axis < 0 ? -1 : axis < d ? axis : axis + 1;
        break;
    }
    case LC_OP_FOLD:
        if (axis == n->attr[LC_FOLD_DIM]) return false;
        ia = axis;
        break;
    case LC_OP_UNFOLD: {
        const lc_node *in = lc_graph_node(f->graph, n->inputs[0]);
        if (axis == n->attr[LC_UNFOLD_DIM] || axis >= in->shape.rank) return false;
        ia = axis;
        break;
    }
    case LC_OP_EXPAND: {
        int d = (int)n->attr[LC_EXPAND_DIM];
        ia = axis < 0 || axis == d ? -1 : axis < d ? axis : axis - 1;
        break;
    }
    default:
        return false;
    }
    return col_walk(f, k, n->inputs[0], ia, red, seen, red_axis);
}

/* How many positions of the last axis a trip computes (lc_schedule.tile_cols): the whole row,
 * of at most LC_TILE_COLS_MAX positions, where the element loop holds exactly one reduction
 * as vector partial sums, a plain sum or mean (no span, no rescue, no LP norm in the kernel),
 * that every path from the root reaches with the root's last axis passed on unchanged
 * (col_walk). */
static lc_status schedule_col_tile(const lc_fused *f, lc_kernel *k) {
    k->sched.tile_cols = 1;
    const lc_node *r = lc_graph_node(f->graph, k->root);
    int rank = r->shape.rank;
    if (rank < 1 || r->shape.dim[rank - 1] < 2 || r->shape.dim[rank - 1] > LC_TILE_COLS_MAX) return LC_OK;
    if (k->sched.order != LC_LOOP_ELEMENTS || k->co_root >= 0 || k->sched.fixup || k->sched.tile_rows > 1 ||
        k->sched.n_lp_norms > 0 || k->sched.n_lp_ratios > 0 || k->sched.carry_loads || k->sched.prefetch.slot >= 0)
        return LC_OK; /* one loop form per kernel: a row tile, carried loads or row prefetches */
    lc_reduction_schedule *tiled = NULL;
    for (int i = 0; i < k->sched.n_reductions; i++) {
        lc_reduction_schedule *rs = &k->sched.reductions[i];
        if (rs->unrolled) continue;
        const lc_node *x = lc_graph_node(f->graph, rs->node);
        if (tiled || rs->span != LC_SPAN_ALL || rs->rescue_nonfinite || (x->op != LC_OP_SUM && x->op != LC_OP_MEAN))
            return LC_OK;
        tiled = rs;
    }
    if (!tiled) return LC_OK;
    int n = lc_graph_node_count(f->graph);
    int *seen = malloc(sizeof(int) * (size_t)(n ? n : 1));
    if (!seen) return lc_fail(LC_ERR_NOMEM, "fuse: out of memory");
    for (int i = 0; i < n; i++) seen[i] = INT32_MIN;
    int axis = -1;
    bool ok = col_walk(f, k, k->root, rank - 1, tiled->node, seen, &axis) && axis >= 0;
    free(seen);
    if (!ok) return LC_OK;
    tiled->col_axis = axis;
    k->sched.tile_cols = (int)r->shape.dim[rank - 1];
    k->align = r->shape.dim[rank - 1]; /* whole rows */
    return LC_OK;
}

/* The materialized node of the most elements that `node` reads through inline nodes and that
 * has rows of `rows` (its axis before the last, rank `rank`), or -1: the input a row window
 * reads (AvgPool2d's rows read x through the width's inline mean). */
static int row_source(const lc_fused *f, int node, int rank, int64_t rows, int depth) {
    const lc_node *n = lc_graph_node(f->graph, node);
    if (f->node_slot[node] >= 0)
        return n->shape.rank == rank && n->shape.dim[rank - 2] == rows ? node : -1;
    if (depth >= LC_INLINE_DEPTH_MAX) return -1;
    int best = -1;
    const lc_op_info *info = lc_op_get_info(n->op);
    for (int i = 0; i < info->arity; i++) {
        int s = row_source(f, n->inputs[i], rank, rows, depth + 1);
        if (s >= 0 && (best < 0 || lc_shape_numel(&lc_graph_node(f->graph, s)->shape) >
                                       lc_shape_numel(&lc_graph_node(f->graph, best)->shape)))
            best = s;
    }
    return best;
}

/* The bytes of node's value (in its buffer, where it has one: a byte slot's are fewer). */
static int64_t node_bytes(const lc_fused *f, int node) {
    const lc_node *u = lc_graph_node(f->graph, node);
    return lc_sat_mul(lc_shape_numel(&u->shape), lc_fused_elem_bytes(f, f->node_slot[node], u->dtype));
}

/* The bytes of slot s (the first node it holds). */
static int64_t slot_bytes(const lc_fused *f, int s) {
    int n = lc_graph_node_count(f->graph);
    for (int i = 0; i < n; i++)
        if (f->node_slot[i] == s) return node_bytes(f, i);
    return 0;
}

/* The bytes of every buffer kernel k reads. */
static int64_t kernel_read_bytes(const lc_fused *f, const lc_kernel *k) {
    int64_t bytes = 0;
    for (int i = 0; i < k->n_args; i++) bytes = lc_sat_add(bytes, slot_bytes(f, k->args[i]));
    return bytes;
}

/* The reduction node reached from `node` through elementwise steps that keep its shape (an
 * LP norm's root, a mean's division), inline in kernel k, or -1. */
static int reduction_under(const lc_fused *f, const lc_kernel *k, int node, int depth) {
    const lc_node *n = lc_graph_node(f->graph, node);
    if (lc_kernel_reduction(k, node)) return node;
    const lc_op_info *info = lc_op_get_info(n->op);
    if (info->kind != LC_KIND_ELEMENTWISE || depth >= LC_INLINE_DEPTH_MAX) return -1;
    for (int i = 0; i < info->arity; i++) {
        int in = n->inputs[i];
        if (f->node_slot[in] >= 0 || !lc_shape_equal(&lc_graph_node(f->graph, in)->shape, &n->shape)) continue;
        int r = reduction_under(f, k, in, depth + 1);
        if (r >= 0) return r;
    }
    return -1;
}

/* The unfold whose window axis reduction `red` folds, reached from its input through
 * elementwise steps (an LP term's power), or NULL. */
static const lc_node *unfold_under(const lc_fused *f, const lc_node *red, int node, int depth) {
    const lc_node *n = lc_graph_node(f->graph, node);
    if (n->op == LC_OP_UNFOLD) return n->shape.rank == red->attr[LC_REDUCE_DIM] + 1 ? n : NULL;
    const lc_op_info *info = lc_op_get_info(n->op);
    if (info->kind != LC_KIND_ELEMENTWISE || f->node_slot[node] >= 0 || depth >= LC_INLINE_DEPTH_MAX) return NULL;
    for (int i = 0; i < info->arity; i++) {
        int in = n->inputs[i];
        if (!lc_shape_equal(&lc_graph_node(f->graph, in)->shape, &n->shape)) continue;
        const lc_node *u = unfold_under(f, red, in, depth + 1);
        if (u) return u;
    }
    return NULL;
}

/* Whether `node`, or an inline node it reads, is `target`. */
static bool reads_inline(const lc_fused *f, int node, int target, int depth) {
    if (node == target) return true;
    if (f->node_slot[node] >= 0 || depth >= LC_INLINE_DEPTH_MAX) return false;
    const lc_node *n = lc_graph_node(f->graph, node);
    for (int i = 0; i < lc_op_get_info(n->op)->arity; i++)
        if (reads_inline(f, n->inputs[i], target, depth + 1)) return true;
    return false;
}

/* The reduction under `from` that row passes can fold (schedule_row_passes), or -1: `choice`
 * admits a carried choice (a co-root's slot search). Its unfold in *unfold (unfold NULL: not wanted). */
static int row_pass_reduction(const lc_fused *f, const lc_kernel *k, int from, bool choice, const lc_node **unfold) {
    const lc_node *r = lc_graph_node(f->graph, k->root);
    int rank = r->shape.rank;
    int red = reduction_under(f, k, from, 0);
    if (red < 0) return -1;
    const lc_node *n = lc_graph_node(f->graph, red);
    const lc_reduction_schedule *rs = lc_kernel_reduction(k, red);
    if ((n->op != LC_OP_SUM && n->op != LC_OP_MEAN && n->op != LC_OP_MAX) || !rs->unrolled || rs->rolled ||
        rs->span != LC_SPAN_ALL || (rs->choice_mask >= 0 && !choice) || rs->terms < 2 ||
        rs->terms > LC_ROW_PASS_MAX_TERMS || !lc_shape_equal(&n->shape, &r->shape))
        return -1;
    const lc_node *u = unfold_under(f, n, n->inputs[0], 0);
    if (unfold) *unfold = u;
    return u && lc_window_of(u).dim == rank - 2 ? red : -1;
}

/* lc_schedule.root_from_co_search: an element-major kernel whose root is a straight-line max
 * over the axis and the terms of the max_mask whose first maximum the co-root beside it
 * carries, the co-root's own reduction (a search from the first term, each later one taken
 * on the compare the max takes it on, in the same order: so its running maximum is the max,
 * bit for bit). */
static void schedule_root_from_co_search(const lc_fused *f, lc_kernel *k) {
    k->sched.root_from_co_search = false;
    const lc_node *root = lc_graph_node(f->graph, k->root);
    /* not in a kernel with a fix-up: no max pool's has one, and its careful form was never
     * emitted with the root taken from the co-root */
    if (k->sched.order != LC_LOOP_ELEMENTS || k->co_root < 0 || !k->co_beside || root->op != LC_OP_MAX ||
        k->sched.fixup)
        return;
    const lc_reduction_schedule *rs = lc_kernel_reduction(k, k->root), *cs = lc_kernel_reduction(k, k->co_root);
    if (!rs || !cs || cs->choice_mask < 0 || !lc_reduction_straight(rs) || !lc_reduction_straight(cs) ||
        cs->terms != rs->terms)
        return;
    const lc_node *mask = lc_graph_node(f->graph, cs->choice_mask);
    k->sched.root_from_co_search = mask->inputs[0] == root->inputs[0] &&
                                   mask->attr[LC_REDUCE_DIM] == root->attr[LC_REDUCE_DIM];
}

/* lc_schedule.row_passes (LC_ROW_PASS_MIN_INPUT_ROW_BYTES says why and where): the root, through
 * elementwise steps, is a sum, mean or maximum of 2 .. LC_ROW_PASS_MAX_TERMS unrolled terms
 * over the window axis of an unfold over the axis before the last, at the root's own index,
 * and so is a co-root beside it, if any (row_pass_co_node). Decided before the prefetches,
 * which such a kernel does not take. */
static void schedule_row_passes(const lc_fused *f, lc_kernel *k) {
    k->sched.row_passes = 0;
    k->sched.row_pass_node = k->sched.row_pass_co_node = -1;
    const lc_node *r = lc_graph_node(f->graph, k->root);
    int rank = r->shape.rank;
    if (k->sched.order != LC_LOOP_ELEMENTS || k->sched.tile_rows > 1 || (k->co_root >= 0 && !k->co_beside) ||
        rank < 2 || kernel_read_bytes(f, k) < LC_ROW_PREFETCH_MAX_READ_BYTES)
        return;
    const lc_node *u = NULL;
    int red = row_pass_reduction(f, k, k->root, false, &u), co = -1;
    if (red < 0) return;
    if (k->co_root >= 0) {
        /* its own search over the same number of window rows, reading nothing of the root's
         * (whose value is partial until the last pass), in a kernel without flags (a flag
         * raised after a partial result is dropped, emit_expr.c's raise_flag) */
        co = row_pass_reduction(f, k, k->co_root, true, NULL);
        if (co < 0 || k->sched.fixup || lc_kernel_reduction(k, co)->terms != lc_kernel_reduction(k, red)->terms ||
            reads_inline(f, k->co_root, k->root, 0))
            return;
    }
    /* the rows read, as the buffer lays them out: short enough that several share a page, not
     * so short that a window's rows side by side are one stream already */
    const lc_node *in = lc_graph_node(f->graph, u->inputs[0]);
    int src = row_source(f, u->inputs[0], rank, in->shape.dim[rank - 2], 0);
    if (src < 0) return;
    const lc_node *s = lc_graph_node(f->graph, src);
    int64_t row_bytes = lc_sat_mul(lc_fused_row_pitch(f, f->node_slot[src], &s->shape),
                                   lc_fused_elem_bytes(f, f->node_slot[src], s->dtype));
    if (row_bytes < LC_ROW_PASS_MIN_INPUT_ROW_BYTES || row_bytes >= LC_ROW_PASS_MAX_INPUT_ROW_BYTES) return;
    k->sched.row_passes = (int)lc_kernel_reduction(k, red)->terms;
    k->sched.row_pass_node = red;
    k->sched.row_pass_co_node = co;
}

/* Whether and what an element-major kernel prefetches per output row (lc_row_prefetch,
 * LC_ROW_PREFETCH_MAX_ROW_BYTES): where it reads an input's short rows through a window over
 * the axis before the last whose planes are the root's, and reads less than
 * LC_ROW_PREFETCH_MAX_READ_BYTES (from there on the stream prefetch ran the 2-D forwards
 * faster on a Zen 3 host, below it the row prefetch; bench/README.md, "The 2-D forwards: the
 * stream prefetch, not a row prefetch"). Decided before the stream prefetch, which a kernel
 * with a row prefetch does not take. */
static void schedule_row_prefetch(const lc_fused *f, lc_kernel *k) {
    k->sched.prefetch.slot = -1;
    const lc_node *r = lc_graph_node(f->graph, k->root);
    int rank = r->shape.rank;
    if (k->sched.order != LC_LOOP_ELEMENTS || k->sched.tile_rows > 1 || rank < 2 ||
        kernel_read_bytes(f, k) >= LC_ROW_PREFETCH_MAX_READ_BYTES)
        return;
    for (int i = 0; i < k->n_nodes; i++) {
        const lc_node *u = lc_graph_node(f->graph, k->nodes[i]);
        if (u->op != LC_OP_UNFOLD) continue;
        const lc_node *in = lc_graph_node(f->graph, u->inputs[0]);
        lc_window w = lc_window_of(u);
        if (in->shape.rank != rank || w.dim != rank - 2) continue;
        int src = row_source(f, u->inputs[0], rank, in->shape.dim[rank - 2], 0);
        if (src < 0) continue;
        const lc_node *s = lc_graph_node(f->graph, src);
        bool planes_match = true;
        for (int d = 0; d < rank - 2; d++) planes_match = planes_match && s->shape.dim[d] == r->shape.dim[d];
        /* rows as the buffer lays them out (a padded scratch buffer's row pitch) */
        int64_t elt = lc_fused_elem_bytes(f, f->node_slot[src], s->dtype);
        int64_t row_len = lc_fused_row_pitch(f, f->node_slot[src], &s->shape);
        if (!planes_match || row_len <= 0 || row_len > LC_ROW_PREFETCH_MAX_ROW_BYTES / elt / w.step) continue;
        int64_t per_out_row = w.step * row_len; /* elements, at most 16 KiB */
        lc_row_prefetch pf = {f->node_slot[src], r->shape.dim[rank - 2], s->shape.dim[rank - 2], row_len,
                              w.step, w.pad_lo,
                              lc_ceil_div(LC_ROW_PREFETCH_AHEAD_BYTES, per_out_row * elt) * per_out_row, elt};
        k->sched.prefetch = pf;
        return;
    }
}

/* lc_schedule.stream_prefetch: a kernel that reads more than a core's own caches hold (a
 * window-major one: more than the last-level cache) and takes no row prefetch (decided after
 * it), nor row passes unless the target takes the prefetch with them
 * (lc_fuse_target.prefetch_row_passes). */
static void schedule_stream_prefetch(const lc_fused *f, lc_kernel *k) {
    k->sched.stream_prefetch = 0;
    bool windows = k->sched.order == LC_LOOP_WINDOWS;
    int64_t min_bytes = windows ? LC_STREAM_PREFETCH_WINDOWS_MIN_BYTES : LC_STREAM_PREFETCH_MIN_BYTES;
    bool passes_ok = k->sched.row_passes == 0 || f->target.prefetch_row_passes;
    if (k->sched.prefetch.slot < 0 && passes_ok && kernel_read_bytes(f, k) >= min_bytes)
        k->sched.stream_prefetch = windows ? LC_STREAM_PREFETCH_WINDOWS_AHEAD_BYTES : LC_STREAM_PREFETCH_AHEAD_BYTES;
}

/* lc_schedule.carry_loads: an element-major kernel reading a last-axis window whose slot j +
 * step/dilation is the next position's slot j. */
static void schedule_carry_loads(const lc_fused *f, lc_kernel *k) {
    k->sched.carry_loads = false;
    if (k->sched.order != LC_LOOP_ELEMENTS || k->sched.tile_rows > 1) return;
    for (int i = 0; i < k->n_nodes; i++) {
        const lc_node *u = lc_graph_node(f->graph, k->nodes[i]);
        if (u->op != LC_OP_UNFOLD) continue;
        lc_window w = lc_window_of(u);
        if (w.dim != lc_graph_node(f->graph, u->inputs[0])->shape.rank - 1 || w.step < 2) continue;
        if (lc_window_slot_carried(&w, 0) && w.size <= LC_UNROLL_MAX) k->sched.carry_loads = true;
    }
}

static bool kernel_has_node(const lc_kernel *k, int node) {
    for (int i = 0; i < k->n_nodes; i++)
        if (k->nodes[i] == node) return true;
    return false;
}

/* Whether unfold u (along the last axis of what it reads, padded), whose windows are the
 * kernel's rows of `row` positions, leaves only carried slots in its padding (carry_edge). */
static bool padding_only_carried(const lc_fused *f, const lc_kernel *k, const lc_node *u, int64_t row) {
    const lc_node *x = lc_graph_node(f->graph, u->inputs[0]);
    lc_window w = lc_window_of(u);
    /* loads of a buffer, which carry_loads carries */
    if (kernel_has_node(k, u->inputs[0]) || !lc_window_slot_carried(&w, 0) || w.size > LC_UNROLL_MAX ||
        u->shape.dim[w.dim] != row)
        return false;
    int64_t len = x->shape.dim[w.dim];
    for (int64_t j = 0; j < w.size; j++) {
        int64_t first = j * w.dilation - w.pad_lo, last = w.step * (row - 1) + first;
        if (last > len - 1 || (first < 0 && !lc_window_slot_carried(&w, j))) return false;
    }
    return true;
}

/* lc_schedule.carry_edge. */
static void schedule_carry_edge(const lc_fused *f, lc_kernel *k) {
    k->sched.carry_edge = false;
    const lc_node *root = lc_graph_node(f->graph, k->root);
    if (!k->sched.carry_loads || root->shape.rank == 0) return;
    int64_t row = root->shape.dim[root->shape.rank - 1];
    bool padded = false;
    for (int i = 0; i < k->n_nodes; i++) {
        const lc_node *u = lc_graph_node(f->graph, k->nodes[i]);
        if (u->op != LC_OP_UNFOLD) continue;
        lc_window w = lc_window_of(u);
        if (w.dim != lc_graph_node(f->graph, u->inputs[0])->shape.rank - 1 || (w.pad_lo == 0 && w.pad_hi == 0))
            continue;
        if (!padding_only_carried(f, k, u, row)) return;
        padded = true;
    }
    k->sched.carry_edge = padded;
}

/* lc_schedule.carry_windows: window-major over overlapping windows, the loop over blocks the
 * one LLVM vectorizes, and an LP norm evaluated per covering window inline. */
static void schedule_carry_windows(const lc_fused *f, lc_kernel *k) {
    k->sched.carry_windows = false;
    if (k->sched.order != LC_LOOP_WINDOWS || k->sched.n_lp_norms == 0 || !lc_kernel_reductions_straight(k)) return;
    lc_window w = lc_window_of(lc_graph_node(f->graph, k->root));
    k->sched.carry_windows = lc_window_overlaps(&w) && lc_window_cover(&w) >= 2;
}

/* lc_schedule.row_versions: a gather along an axis before the last (a fold whose windows do
 * not tile it, so a position's windows are checked; its last axis is the loop's, so those
 * checks hold for a row) whose terms are chosen by a test of each element (an `equal`: MaxPool2d's dx compares
 * each covering window's chosen slot). Only there was it measured to pay: AvgPool2d(3, 2, 1)'s
 * and LPPool2d(2, 3, 2)'s gathers and MaxPool2d(3, 2, 1)'s forward (window rows in the padding)
 * ran no faster with their row checks unswitched, and compiled two to three times as long. */
static void schedule_row_versions(const lc_fused *f, lc_kernel *k) {
    bool gathers_rows = false, tests_elements = false;
    for (int i = 0; i < k->n_nodes; i++) {
        const lc_node *n = lc_graph_node(f->graph, k->nodes[i]);
        tests_elements = tests_elements || n->op == LC_OP_EQUAL;
        if (n->op != LC_OP_FOLD) continue;
        lc_window w = lc_window_of(n);
        if (w.dim == n->shape.rank - 1) continue;
        int64_t windows = lc_graph_node(f->graph, n->inputs[0])->shape.dim[w.dim];
        gathers_rows = gathers_rows || !lc_fold_tiles(&w, n->attr[LC_FOLD_LENGTH], windows);
    }
    k->sched.row_versions = gathers_rows && tests_elements;
}

/* lc_schedule.whole_trips: the multiple of trips the vectorized loop of an element-major
 * kernel (every reduction straight-line, rows not taken as one tile) or of a window-major one
 * (unrolled blocks that tile the rows, one row per trip, no co-root past the last window) runs,
 * where every row holds whole multiples of it; the outer range is then split only at
 * multiples of it (align), so no part of a row leaves trips over. A split of the outer range
 * is as good at any of these points: the thread that takes a part runs up to 63 trips more
 * or fewer. Returns 0 where there is none; else the multiple, its positions per trip in
 * *unit and the kernel's split in *align. */
static int64_t whole_trips_of(const lc_fused *f, const lc_kernel *k, int64_t *unit, int64_t *align) {
    const lc_node *root = lc_graph_node(f->graph, k->root);
    if (root->shape.rank == 0 || !lc_kernel_reductions_straight(k)) return 0;
    int64_t row = root->shape.dim[root->shape.rank - 1], trips = row, start = LC_VECTOR_TRIP_MULTIPLE;
    *unit = 1;
    if (k->sched.order == LC_LOOP_ELEMENTS) {
        if (k->sched.tile_cols > 1) return 0;
    } else {
        /* tiled rows only as a co-root's tile (lc_kernel.co_rows), which codegen stores from
         * lines row by row */
        if (k->sched.block != LC_BLOCK_UNROLLED || !k->sched.whole_blocks || (k->sched.tile_rows > 1 && k->co_rows < 2))
            return 0;
        lc_window w = lc_window_of(root);
        if (k->co_root >= 0 && lc_window_overlaps(&w)) return 0; /* blocks past the last window */
        *unit = w.step * (k->sched.block_steps > 1 ? k->sched.block_steps : 1);
        if (row % *unit != 0) return 0;
        trips = row / *unit;
        /* a shifted row's last block is an edge (unless its window past the row's end is
         * guarded: guard_windows, whose rows are then these whole runs), and the blocks before
         * it left over by whole runs are computed by one more run ending at it (codegen,
         * emit_vector_part): runs of 16 blocks (one vector of f32, which LLVM takes
         * uninterleaved) leave at most 15 */
        if (k->sched.block_steps > 1 || k->sched.block_shift > 0) start = LC_VECTOR_BLOCK_TRIP_MULTIPLE;
    }
    int64_t m = lc_vector_trip_multiple(trips, start, false);
    if (trips % m != 0) return 0;
    /* the split points: multiples of the old alignment and of m trips, at most a row apart */
    int64_t piece = m * *unit;
    *align = k->align / lc_gcd(k->align, piece) * piece;
    if (row % *align != 0 && *align % row != 0) return 0;
    return m;
}

/* lc_schedule.whole_trips, but for a kernel that finds a line per row (LC_NT_LINE_START: the
 * trips before the line go to the scalar loop). */
static void schedule_whole_trips(const lc_fused *f, lc_kernel *k) {
    int64_t unit, align;
    int64_t m = k->sched.nontemporal == LC_NT_LINE_START ? 0 : whole_trips_of(f, k, &unit, &align);
    k->sched.whole_trips = m;
    if (m > 0) k->align = align;
}

/* Whether k's windows past a row's ends could be read through a guard: shifted blocks of one
 * step (no co-root: block_shift), unrolled and tiling the rows, one row a trip, every
 * reduction straight-line, whose rows hold whole runs of the vectorized loop (whole_trips_of):
 * then no block of a row is an edge. */
static bool guard_windows_fit(const lc_fused *f, const lc_kernel *k) {
    int64_t unit, align;
    return k->sched.order == LC_LOOP_WINDOWS && k->sched.block == LC_BLOCK_UNROLLED && k->sched.block_shift > 0 &&
           k->sched.block_steps <= 1 && k->co_root < 0 && k->sched.whole_blocks && k->sched.tile_rows == 1 &&
           lc_kernel_reductions_straight(k) && whole_trips_of(f, k, &unit, &align) > 0;
}

/* lc_schedule.guard_windows: where they fit, but not where the target's masks are vector
 * compares (lc_fuse_target.masks_by_compare). */
static void schedule_guard_windows(const lc_fused *f, lc_kernel *k) {
    k->sched.guard_windows = !f->target.masks_by_compare && guard_windows_fit(f, k);
}

/* lc_schedule.rerun_tail: a kernel whose loop over positions (or blocks) LLVM vectorizes,
 * each of its reductions unrolled over all its terms, over rows of at most
 * LC_RERUN_TAIL_MAX_ROW: an element-major one with reductions and no row of positions taken
 * as one tile, or a window-major one with unrolled blocks. */
static void schedule_rerun_tail(const lc_fused *f, lc_kernel *k) {
    k->sched.rerun_tail = false;
    const lc_node *root = lc_graph_node(f->graph, k->root);
    if (root->shape.rank == 0) return;
    int64_t row = root->shape.dim[root->shape.rank - 1];
    bool elements = k->sched.order == LC_LOOP_ELEMENTS && k->sched.tile_cols == 1 && k->sched.n_reductions > 0;
    /* blocks of several steps (block_steps) leave their few blocks to the scalar loop */
    bool blocks = k->sched.order == LC_LOOP_WINDOWS && k->sched.block == LC_BLOCK_UNROLLED && k->sched.block_steps <= 1;
    if (blocks) {
        lc_window w = lc_window_of(root);
        row = lc_window_blocks(root->attr[LC_FOLD_LENGTH], &w);
    }
    k->sched.rerun_tail = (elements || blocks) && row <= LC_RERUN_TAIL_MAX_ROW && lc_kernel_reductions_straight(k) &&
                          !k->sched.guard_windows; /* whole runs end at the row's end: none left over */
}

/* Whether some unfold the kernel evaluates pads the last axis of what it reads: the rows of an
 * element-major kernel then have edges (a position whose window reaches into the padding),
 * unless that padding is read only through carried slots (carry_edge). */
static bool reads_padded_rows(const lc_fused *f, const lc_kernel *k) {
    if (k->sched.carry_edge) return false;
    for (int i = 0; i < k->n_nodes; i++) {
        const lc_node *n = lc_graph_node(f->graph, k->nodes[i]);
        if (n->op != LC_OP_UNFOLD) continue;
        lc_window w = lc_window_of(n);
        if (w.dim == lc_graph_node(f->graph, n->inputs[0])->shape.rank - 1 && (w.pad_lo > 0 || w.pad_hi > 0))
            return true;
    }
    return false;
}

/* lc_schedule.nontemporal (lc_nontemporal): whole trips whose runs start on lines wherever the
 * rows do (LC_NT_ALIGNED_ROWS), else a line found per row where no rerun tail would start its
 * second run off one (LC_NT_LINE_START). Decided before whole_trips, which the second
 * excludes. */
static void schedule_nontemporal(const lc_fused *f, lc_kernel *k) {
    k->sched.nontemporal = LC_NT_NONE;
    k->sched.nontemporal_write_share = 0;
    int64_t core = f->target.core_cache_bytes;
    k->sched.nontemporal_min_bytes = k->sched.order == LC_LOOP_ELEMENTS && core > 0 && core < LC_NONTEMPORAL_MIN_BYTES
                                         ? core + (f->target.streams_core_sized ? 0 : 1)
                                         : LC_NONTEMPORAL_MIN_BYTES;
    const lc_node *root = lc_graph_node(f->graph, k->root);
    if (root->shape.rank == 0 || k->sched.tile_cols > 1 || (k->sched.tile_rows > 1 && k->co_rows < 2) ||
        !lc_kernel_reductions_straight(k))
        return;
    /* element-major: a co-root only beside the root (one element at each position), which
     * streams from the same lines (below) */
    if (k->sched.order == LC_LOOP_ELEMENTS ? k->co_root >= 0 && !k->co_beside : k->sched.block != LC_BLOCK_UNROLLED)
        return;
    /* Shifted blocks with a rerun tail (MaxPool2d(3, 2, 1)'s dx): the rerun writes again a few
     * positions of the last whole run, so that run and the rerun would need ordinary stores
     * beside the streamed lines (a line written by a streaming store and then by an ordinary
     * one waits for memory and is read back). On the Zen 3 host measured, that split row ran
     * slower than ordinary stores throughout: MaxPool2d(3, 2, 1) forward+backward at
     * (16, 64, 256, 256) 24-26 % of the floor against 37-38 % on 1 thread (bench/README.md,
     * "MaxPool2d's dx on a Zen 3 host"); so such a row takes ordinary stores. */
    if (k->sched.block_shift > 0 && k->sched.rerun_tail) return;
    /* Element-major rows with edges and a rerun tail (MaxPool2d(3, 2, 1)'s forward, rows of
     * 128 with a padded first position): the interior leaves trips over, which codegen runs as
     * one more run ending at the row's end (emit_vector_part), from no line; the runs before
     * it start where the interior does, past the edge, off a line too. Such rows never
     * streamed; the dump said they did. Streaming all but a first line of ordinary stores was
     * built and measured no faster (bench/README.md, "MaxPool2d(3, 2, 1) forward+backward:
     * where the time goes here"). */
    if (k->sched.order == LC_LOOP_ELEMENTS && k->sched.rerun_tail && reads_padded_rows(f, k)) return;
    /* a byte slot's vector of a trip is under a line: it takes ordinary stores */
    if (lc_fused_is_byte_slot(f, k->dst_slot)) return;
    int64_t elt = (int64_t)lc_dtype_size(root->dtype), written = node_bytes(f, k->root);
    if (written < k->sched.nontemporal_min_bytes) return;
    /* A kernel that writes more than LC_NT_MAX_WRITE_SHARE times what it reads (MaxPool2d's dx
     * gather: dy and the slots in, dx four times their size out) takes ordinary stores. */
    if (k->co_root >= 0) written = lc_sat_add(written, node_bytes(f, k->co_root));
    int64_t read = kernel_read_bytes(f, k);
    if (written / LC_NT_MAX_WRITE_SHARE > read) {
        k->sched.nontemporal_write_share = read > 0 ? (double)written / (double)read : INFINITY;
        return;
    }
    int64_t unit, align, m = whole_trips_of(f, k, &unit, &align);
    int64_t pitch_bytes = lc_fused_row_pitch(f, k->dst_slot, &root->shape) * elt;
    /* a window-major kernel with whole trips has whole blocks: its first starts at position 0
     * (no pad, or the pad shifted away: lc_schedule.block_shift) */
    if (m > 0 && pitch_bytes % 64 == 0 && (m * unit * elt) % 64 == 0)
        k->sched.nontemporal = LC_NT_ALIGNED_ROWS;
    else if (!k->sched.rerun_tail && k->sched.tile_rows == 1 && !k->co_beside)
        /* a row tile's rows would need a line each, and a co-root beside the root ordinary
         * stores from a line that is not its own */
        k->sched.nontemporal = LC_NT_LINE_START;
    k->sched.co_nontemporal = false;
    if (k->sched.nontemporal == LC_NT_ALIGNED_ROWS && (k->co_rows > 1 || k->co_beside) && !lc_fused_is_byte_slot(f, k->co_slot)) {
        /* a block writes one co-root element (windows that tile the row), so a run of m trips
         * writes m of them; beside the root, one at each of its m·unit positions */
        const lc_node *co = lc_graph_node(f->graph, k->co_root);
        int64_t co_elt = (int64_t)lc_dtype_size(co->dtype), per_run = k->co_beside ? m * unit : m;
        k->sched.co_nontemporal = node_bytes(f, k->co_root) >= k->sched.nontemporal_min_bytes &&
                                  (lc_fused_row_pitch(f, k->co_slot, &co->shape) * co_elt) % 64 == 0 &&
                                  (per_run * co_elt) % 64 == 0;
    }
}

/* lc_fused.byte_slot: every scratch buffer whose values are all integers 0 .. 255
 * (lc_byte_integer_facts) is stored one byte an element. Decided once every slot is known and
 * before the row pitches, which are laid out in its bytes. */
static lc_status choose_byte_slots(lc_fused *f) {
    f->byte_slot = calloc((size_t)(f->n_slots ? f->n_slots : 1), sizeof(bool));
    bool *small = lc_byte_integer_facts(f->graph, f->nonneg, f->magnitude);
    if (!f->byte_slot || !small) {
        free(small);
        return lc_fail(LC_ERR_NOMEM, "fuse: out of memory");
    }
    int n = lc_graph_node_count(f->graph);
    for (int i = 0; i < n; i++)
        if (f->node_slot[i] >= f->n_inputs + f->n_outputs && small[i]) f->byte_slot[f->node_slot[i]] = true;
    free(small);
    return LC_OK;
}

/* The row pitch of every slot (lc_fused.row_pitch, LC_ROW_SET_BYTES): dense but for a scratch
 * buffer of two or more rows whose rows would lie a multiple of 4 KiB apart, padded by one
 * cache line. Decided once every slot is known and before any kernel's schedule, which reads
 * it (the blocked sum's set test, the row prefetch's row length). */
static lc_status choose_row_pitches(lc_fused *f) {
    f->row_pitch = malloc(sizeof(int64_t) * (size_t)(f->n_slots ? f->n_slots : 1));
    if (!f->row_pitch) return lc_fail(LC_ERR_NOMEM, "fuse: out of memory");
    for (int s = 0; s < f->n_slots; s++) f->row_pitch[s] = 0;
    int n = lc_graph_node_count(f->graph);
    for (int i = 0; i < n; i++) {
        int slot = f->node_slot[i];
        if (slot < 0) continue;
        const lc_node *x = lc_graph_node(f->graph, i);
        int rank = x->shape.rank;
        int64_t last = rank > 0 ? x->shape.dim[rank - 1] : 1, numel = lc_shape_numel(&x->shape);
        int64_t elt = lc_fused_elem_bytes(f, slot, x->dtype), row_bytes, rows = last > 0 ? numel / last : 0, span;
        if (slot < f->n_inputs + f->n_outputs || rank < 2 || rows < 2 ||
            __builtin_mul_overflow(last, elt, &row_bytes) || row_bytes % LC_ROW_SET_BYTES != 0)
            continue;
        int64_t pitch = last + LC_ROW_PAD_BYTES / elt;
        /* a buffer whose padded size leaves int64 bytes stays dense (it cannot be allocated) */
        if (__builtin_mul_overflow(rows, pitch, &span) || __builtin_mul_overflow(span, elt, &span)) continue;
        f->row_pitch[slot] = pitch;
    }
    return LC_OK;
}

/* Collect kernel `kid` (root, optional co-root) into f->kernels[kid]. */
static lc_status fill_kernel(lc_fused *f, collect *c, int kid, int root, int dst_slot, int co_root,
                             bool co_beside, int co_rows) {
    c->n_nodes = c->n_args = 0;
    c->inline_node = co_root;
    c->epoch++;
    const lc_node *r = lc_graph_node(f->graph, root);
    c->window_fold = fold_window_major(r) ? r : NULL;
    int64_t cost = collect_node(f, c, root, true);
    if (co_beside) {
        cost = lc_sat_add(cost, collect_node(f, c, co_root, true));
    } else if (co_root >= 0) {
        /* the co-root is evaluated once per window of `step` positions, not per position */
        int64_t step = lc_graph_node(f->graph, root)->attr[LC_FOLD_STEP];
        if (co_rows > 1) step = lc_sat_mul(step, co_rows); /* and once per tile of rows */
        cost = lc_sat_add(cost, lc_ceil_div(collect_node(f, c, co_root, true), step));
    }
    lc_kernel *k = &f->kernels[kid];
    free_kernel(k);
    memset(k, 0, sizeof *k);
    k->root = root;
    k->dst_slot = dst_slot;
    k->co_root = co_root;
    k->co_slot = co_root >= 0 ? f->node_slot[co_root] : -1;
    k->co_beside = co_beside;
    k->co_rows = co_rows > 1 ? co_rows : 0;
    k->align = 1;
    if (c->window_fold) {
        lc_window w = lc_window_of(r);
        int64_t len = r->attr[LC_FOLD_LENGTH];
        int64_t windows = lc_graph_node(f->graph, r->inputs[0])->shape.dim[r->shape.rank - 1];
        k->sched.order = LC_LOOP_WINDOWS;
        k->sched.block = w.step > LC_UNROLL_MAX ? LC_BLOCK_SLOT_LOOPS : LC_BLOCK_UNROLLED;
        /* blocks from position 0 where the padding is shorter than a step (lc_schedule.block_shift;
         * a co-root is written per block, at the window that starts in it, so not there) */
        if (k->sched.block == LC_BLOCK_UNROLLED && co_root < 0 && w.pad_lo > 0 && w.pad_lo < w.step)
            k->sched.block_shift = w.pad_lo;
        /* blocks of `step` positions from position 0 tile the rows (and, with a co-root written per block,
         * are exactly the windows, or, where windows overlap, the blocks past the last
         * window write none); windows·step is the covered length, so it cannot overflow
         * where it equals len */
        int64_t covered;
        bool tile = w.pad_lo == k->sched.block_shift && len % w.step == 0 &&
                    (co_root < 0 || lc_window_overlaps(&w) ||
                     (!__builtin_mul_overflow(windows, w.step, &covered) && covered == len));
        if (tile) {
            k->sched.whole_blocks = true;
            k->align = w.step;
        }
    }
    k->outer = lc_shape_numel(&lc_graph_node(f->graph, root)->shape);
    k->cost = cost;
    qsort(c->nodes, (size_t)c->n_nodes, sizeof(int), cmp_int);
    k->nodes = malloc(sizeof(int) * (size_t)(c->n_nodes ? c->n_nodes : 1));
    k->args = malloc(sizeof(int) * (size_t)(c->n_args ? c->n_args : 1));
    if (!k->nodes || !k->args) return lc_fail(LC_ERR_NOMEM, "fuse: out of memory");
    memcpy(k->nodes, c->nodes, sizeof(int) * (size_t)c->n_nodes);
    memcpy(k->args, c->args, sizeof(int) * (size_t)c->n_args);
    k->n_nodes = c->n_nodes;
    k->n_args = c->n_args;
    measure_inline_depth(f, k, c->depth);
    LC_TRY(schedule_inline_nodes(f, k, c->code));
    schedule_flag_bits(f, k);
    schedule_nested_norms(f, k);
    k->code = c->code[root];
    if (co_root >= 0) k->code = lc_sat_add(k->code, c->code[co_root]);
    schedule_interleave(k);
    schedule_row_tile(f, k);
    k->code = lc_sat_mul(k->code, k->sched.tile_rows);
    schedule_block_steps(f, k);
    if (k->sched.block_steps > 1) {
        /* a block's B positions read B + cover - 1 windows, each emitted once (codegen keeps
         * what its windows read alike), where one position reads `cover` */
        lc_window w = lc_window_of(lc_graph_node(f->graph, k->root));
        int64_t cover = lc_window_cover(&w), windows = w.step * k->sched.block_steps + cover - 1;
        k->code = lc_ceil_div(lc_sat_mul(k->code, windows), cover);
    }
    schedule_root_from_co_search(f, k);
    schedule_row_passes(f, k);
    schedule_row_prefetch(f, k);
    schedule_stream_prefetch(f, k);
    schedule_carry_loads(f, k);
    schedule_carry_edge(f, k);
    schedule_carry_windows(f, k);
    schedule_row_versions(f, k);
    LC_TRY(schedule_col_tile(f, k));
    schedule_guard_windows(f, k);
    schedule_rerun_tail(f, k);
    schedule_nontemporal(f, k);
    schedule_whole_trips(f, k);
    return LC_OK;
}

static lc_status add_kernel(lc_fused *f, collect *c, int root, int dst_slot) {
    f->kernels[f->n_kernels].nodes = NULL;
    f->kernels[f->n_kernels].args = NULL;
    lc_status st = fill_kernel(f, c, f->n_kernels, root, dst_slot, -1, false, 0);
    f->n_kernels++;
    return st;
}

/* Drop kernel k, merged into another: the later kernels move down one place. */
static void remove_kernel(lc_fused *f, int k) {
    free_kernel(&f->kernels[k]);
    memmove(&f->kernels[k], &f->kernels[k + 1], sizeof(lc_kernel) * (size_t)(f->n_kernels - k - 1));
    f->n_kernels--;
}

/* Whether a window-major fold of window `w` may also write its windows' results (kernel.h, co_root):
 * each block writes the window starting in it, so a block must be no wider than a window's
 * step (the unrolled form), and where windows overlap each block evaluates its covering
 * windows again: at most LC_CO_ROOT_COVER_MAX of them, undilated. */
static bool co_root_cover_ok(const lc_window *w) {
    if (!lc_window_overlaps(w)) return true;
    return w->dilation == 1 && lc_window_cover(w) <= LC_CO_ROOT_COVER_MAX;
}

/* Whether kernel K computes one result per window of `fold`'s own windows, the pool's forward
 * (it reads an unfold of the same geometry and gathers nothing): only such a result is worth
 * evaluating again per covering window. MaxPool2d's row gradient has the shape of the row
 * windows too, but is itself a searching gather. */
static bool computes_fold_windows(const lc_fused *f, const lc_kernel *K, const lc_node *fold) {
    lc_window wf = lc_window_of(fold);
    bool reads_windows = false;
    for (int i = 0; i < K->n_nodes; i++) {
        const lc_node *n = lc_graph_node(f->graph, K->nodes[i]);
        if (n->op == LC_OP_FOLD) return false;
        if (n->op != LC_OP_UNFOLD) continue;
        lc_window wu = lc_window_of(n);
        reads_windows |= wu.dim == wf.dim && wu.size == wf.size && wu.step == wf.step && wu.pad_lo == wf.pad_lo &&
                         wu.dilation == wf.dilation;
    }
    return reads_windows;
}

/* The rows of the root each row of a co-root gathers (lc_kernel.co_rows), or 0: K's root is a
 * window-major fold over the last axis whose windows neither overlap nor leave a gap, and K
 * evaluates inline exactly one fold over the axis before the last (a 2-D pool's backward over
 * its rows) whose windows tile that axis exactly: stride = kernel = kh, no padding, no
 * dilation, and kh·windows = the axis's extent (no ceil-mode window past the end, no row left
 * over), with kh at most LC_TILE_ROWS_MAX. Row r of the root then lies in window r / kh alone,
 * at slot r % kh, so a tile of kh rows holds exactly one row of windows. Anything else (odd
 * heights, ceil_mode, padding, overlapping windows) keeps the pool's forward a kernel of its
 * own. *oh gets the windows along that axis. */
static int co_root_rows(const lc_fused *f, const lc_kernel *K, const lc_node *fold, int64_t *oh) {
    int rank = fold->shape.rank;
    lc_window w = lc_window_of(fold);
    if (rank < 2 || w.size != w.step || w.dilation != 1 || w.pad_lo != 0 ||
        fold->attr[LC_FOLD_LENGTH] % w.step != 0)
        return 0;
    int rows = 0;
    for (int i = 0; i < K->n_nodes; i++) {
        const lc_node *n = lc_graph_node(f->graph, K->nodes[i]);
        if (K->nodes[i] == K->root || n->op != LC_OP_FOLD || n->shape.rank != rank ||
            n->attr[LC_FOLD_DIM] != rank - 2)
            continue;
        lc_window h = lc_window_of(n);
        int64_t len = n->attr[LC_FOLD_LENGTH], windows = lc_graph_node(f->graph, n->inputs[0])->shape.dim[rank - 2];
        if (rows || h.size != h.step || h.step < 2 || h.step > LC_TILE_ROWS_MAX || h.dilation != 1 ||
            h.pad_lo != 0 || len != fold->shape.dim[rank - 2] || len != windows * h.step)
            return 0;
        rows = (int)h.step;
        *oh = windows;
    }
    return rows;
}

/* Merge a per-window kernel into a later window-major fold kernel (see kernel.h, co_root):
 * legal when its root has the fold's window shape and no kernel in between reads it (the
 * merged kernel computes it later than before). A root with the windows of a fold over the
 * rows too (a 2-D pool's forward, co_root_rows) merges where the kernel then tiles its rows by
 * that fold's window (schedule_row_tile), else the two kernels stay. */
static lc_status merge_co_roots(lc_fused *f, collect *c) {
    for (int k2 = 0; k2 < f->n_kernels; k2++) {
        lc_kernel *K2 = &f->kernels[k2];
        const lc_node *fold = lc_graph_node(f->graph, K2->root);
        if (K2->sched.order != LC_LOOP_WINDOWS || K2->co_root >= 0) continue;
        lc_window w = lc_window_of(fold);
        if (!co_root_cover_ok(&w)) continue;
        const lc_node *y = lc_graph_node(f->graph, fold->inputs[0]);
        lc_shape wshape = y->shape;
        wshape.rank--; /* [..., windows] */
        /* each window is written at its first position max(0, o·step - pad_lo): that needs
         * every window to start before the end, and only window 0 before the start */
        int64_t step = fold->attr[LC_FOLD_STEP], lo = fold->attr[LC_FOLD_PAD_LO], len = fold->attr[LC_FOLD_LENGTH];
        int64_t windows = wshape.dim[wshape.rank - 1];
        if (lo >= step || (windows - 1) * step - lo > len - 1) continue;
        /* the 2-D form: [..., OH, OW] where the rows are tiled (co_root_rows) */
        int64_t oh = 0;
        int rows = co_root_rows(f, K2, fold, &oh);
        lc_shape rows_shape = wshape;
        if (rows > 1) rows_shape.dim[rows_shape.rank - 2] = oh;
        /* the slots read by the kernels between k1 and k2, stamped as k1 walks back, so
         * the walk costs the arguments it passes once rather than once per candidate */
        int read_between = ++c->epoch;
        for (int k1 = k2 - 1; k1 >= 0; k1--) {
            const lc_kernel *K1 = &f->kernels[k1];
            const lc_node *r1 = lc_graph_node(f->graph, K1->root);
            /* K2 need not read it: AvgPool1d's backward does not, yet y and dx still share
             * the pass over the windows */
            if (K1->co_root >= 0 || r1->dtype != fold->dtype ||
                (lc_window_overlaps(&w) && !computes_fold_windows(f, K1, fold)) ||
                !(lc_shape_equal(&r1->shape, &wshape) || (rows > 1 && lc_shape_equal(&r1->shape, &rows_shape))) ||
                f->node_slot[K1->root] != K1->dst_slot ||
                c->slot_mark[K1->dst_slot] == read_between) {
                for (int a = 0; a < K1->n_args; a++) c->slot_mark[K1->args[a]] = read_between;
                continue;
            }
            int co = K1->root;
            int co_rows = lc_shape_equal(&r1->shape, &wshape) ? 0 : rows;
            LC_TRY(fill_kernel(f, c, k2, K2->root, K2->dst_slot, co, false, co_rows));
            if (co_rows > 1 && K2->sched.tile_rows != co_rows) {
                /* its rows do not tile (a loop inside, a long window): both kernels stay */
                LC_TRY(fill_kernel(f, c, k2, K2->root, K2->dst_slot, -1, false, 0));
                break;
            }
            remove_kernel(f, k1);
            k2--;
            break;
        }
    }
    return LC_OK;
}

/* Whether kernel a reads every slot kernel b reads. */
static bool reads_all_of(const lc_kernel *a, const lc_kernel *b) {
    for (int i = 0; i < b->n_args; i++) {
        bool found = false;
        for (int j = 0; j < a->n_args && !found; j++) found = a->args[j] == b->args[i];
        if (!found) return false;
    }
    return true;
}

/* One loop form per kernel, as the merged kernel would keep it. */
static bool plain_element_loop(const lc_kernel *k) {
    return k->sched.order == LC_LOOP_ELEMENTS && k->co_root < 0 && !k->sched.fixup && k->sched.tile_rows == 1 &&
           k->sched.tile_cols == 1;
}

/* A window search materialized for a gather (searched[]) is written beside the earlier
 * kernel of its shape that reads everything it reads (a max pool's forward, y): one pass
 * over x for y and the chosen slots, where the search alone would read x again. Legal: its
 * inputs are written before that kernel (it reads them), and no kernel in between reads it
 * (it comes later). */
static lc_status merge_beside(lc_fused *f, collect *c) {
    for (int k2 = 0; k2 < f->n_kernels; k2++) {
        lc_kernel *K2 = &f->kernels[k2];
        const lc_node *r2 = lc_graph_node(f->graph, K2->root);
        if (!f->searched[K2->root] || !plain_element_loop(K2) || f->node_slot[K2->root] != K2->dst_slot) continue;
        for (int k1 = k2 - 1; k1 >= 0; k1--) {
            const lc_kernel *K1 = &f->kernels[k1];
            const lc_node *r1 = lc_graph_node(f->graph, K1->root);
            if (!plain_element_loop(K1) || r1->dtype != r2->dtype || !lc_shape_equal(&r1->shape, &r2->shape) ||
                !reads_all_of(K1, K2))
                continue;
            LC_TRY(fill_kernel(f, c, k1, K1->root, K1->dst_slot, K2->root, true, 0));
            remove_kernel(f, k2);
            k2--;
            break;
        }
    }
    return LC_OK;
}

lc_status lc_fuse(const lc_graph *given, lc_fused **out) { return lc_fuse_for(given, NULL, out); }

lc_status lc_fuse_for(const lc_graph *given, const lc_fuse_target *target, lc_fused **out) {
    *out = NULL;
    LC_TRY(lc_graph_verify(given));
    lc_fused *f = calloc(1, sizeof *f);
    if (!f) return lc_fail(LC_ERR_NOMEM, "fuse: out of memory");
    if (target) f->target = *target;
    /* the LP backward in its stable form even where simplify did not run (lp_norm.h); a graph
     * that has it already, or has no LP norm, is fused as given */
    lc_status st = lc_lp_backward_stable(given, &f->graph);
    if (st == LC_OK && !f->graph) st = lc_graph_clone(given, &f->graph);
    if (st != LC_OK) { free(f); return st; }
    const lc_graph *g = f->graph;
    int n = lc_graph_node_count(g);
    f->n_inputs = lc_graph_input_count(g);
    f->n_outputs = lc_graph_output_count(g);
    size_t nn = (size_t)(n ? n : 1);
    f->node_slot = malloc(sizeof(int) * nn);
    f->why = calloc(nn, sizeof(char *));
    /* At most one kernel per node plus one copy per output. */
    f->kernels = calloc(nn + (size_t)f->n_outputs, sizeof(lc_kernel));
    collect c = {0};
    c.inline_node = -1;
    c.mark = calloc(nn, sizeof(int));
    c.cost = malloc(sizeof(int64_t) * nn);
    /* every slot is a graph input, a graph output or a scratch slot of one node */
    c.slot_mark = calloc(nn + (size_t)f->n_inputs + (size_t)f->n_outputs, sizeof(int));
    c.depth = malloc(sizeof(int) * nn);
    c.code = malloc(sizeof(int64_t) * nn);
    c.nodes = malloc(sizeof(int) * nn);
    c.args = malloc(sizeof(int) * (nn + 1));
    f->nonneg = lc_nonneg_facts(g);
    f->magnitude = lc_magnitude_facts(g);
    if (!f->magnitude || !f->node_slot || !f->why || !f->kernels || !c.mark || !c.cost || !c.slot_mark || !c.depth || !c.code || !c.nodes ||
        !c.args || !f->nonneg) {
        st = lc_fail(LC_ERR_NOMEM, "fuse: out of memory");
        goto done;
    }
    for (int i = 0; i < n; i++) f->node_slot[i] = -1;
    for (int i = 0; i < f->n_inputs; i++) {
        int node = lc_graph_input(g, i);
        f->node_slot[node] = lc_slot_input(f, i);
        f->why[node] = dup_printf("graph input %d", i);
    }
    f->n_slots = f->n_inputs + f->n_outputs;
    for (int i = 0; i < f->n_outputs; i++) {
        int node = lc_graph_output(g, i);
        if (f->node_slot[node] >= 0) continue; /* an input returned as is: copied below */
        f->node_slot[node] = lc_slot_output(f, i);
        f->why[node] = dup_printf("graph output %d", i);
    }
    st = bound_inline_work(f); /* first: the walks below then stay within the bound */
    if (st != LC_OK) goto done;
    /* under_fold[i]: a fold reads node i, directly or through other nodes (one pass over the
     * nodes in reverse order: a node's readers come after it), not through a window search
     * materialized for a gather (the fold reads its buffer) */
    bool *under_fold = calloc(nn, sizeof(bool));
    f->searched = calloc(nn, sizeof(bool));
    if (!under_fold || !f->searched) {
        free(under_fold);
        st = lc_fail(LC_ERR_NOMEM, "fuse: out of memory");
        goto done;
    }
    st = materialize_searches_under_gathers(f, f->searched);
    if (st != LC_OK) {
        free(under_fold);
        goto done;
    }
    for (int i = n - 1; i >= 0; i--) {
        const lc_node *x = lc_graph_node(g, i);
        bool mark = (under_fold[i] && !f->searched[i]) || x->op == LC_OP_FOLD;
        for (int a = 0; mark && a < lc_op_get_info(x->op)->arity; a++) under_fold[x->inputs[a]] = true;
    }
    for (int i = 0; i < n; i++) {
        const lc_node *u = lc_graph_node(g, i);
        if (u->op != LC_OP_UNFOLD) continue;
        lc_window w = lc_window_of(u);
        if (lc_window_overlaps(&w)) materialize_reductions(f, u->inputs[0], u, i, under_fold[i]);
    }
    st = materialize_searching_gathers(f);
    if (st != LC_OK) {
        free(under_fold);
        goto done;
    }
    free(under_fold);
    for (int i = 0; i < n; i++) { /* a fold that an unfold reads (is_gather_feeding_contraction) */
        const lc_node *u = lc_graph_node(g, i);
        int src = u->op == LC_OP_UNFOLD ? u->inputs[0] : -1;
        if (src < 0 || f->node_slot[src] >= 0 || lc_graph_node(g, src)->op != LC_OP_FOLD) continue;
        f->node_slot[src] = f->n_slots++;
        f->why[src] = dup_printf("a gather that unfold %%%d reads: a contraction's kernels would recompute it "
                                 "per term, through a position's window index (not a vector load)", i);
    }
    for (int i = n - 1; i >= 0; i--)
        if (f->node_slot[i] >= 0) split_serial_sums(f, i);
    st = bound_emitted_code(f); /* last: it measures what the rules above left inline */
    if (st == LC_OK) st = choose_byte_slots(f); /* every slot is known; the schedules read them */
    if (st == LC_OK) st = choose_row_pitches(f);
    for (int i = 0; i < n && st == LC_OK; i++) {
        if (f->node_slot[i] < 0 || lc_graph_node(g, i)->op == LC_OP_INPUT) continue;
        st = add_kernel(f, &c, i, f->node_slot[i]);
    }
    for (int i = 0; i < f->n_outputs && st == LC_OK; i++) {
        int node = lc_graph_output(g, i);
        if (f->node_slot[node] != lc_slot_output(f, i))
            st = add_kernel(f, &c, node, lc_slot_output(f, i));
    }
    if (st == LC_OK) st = merge_co_roots(f, &c);
    if (st == LC_OK) st = merge_beside(f, &c);
    if (st == LC_OK) {
        for (int i = 0; i < n; i++)
            if (f->why[i] == NULL && f->node_slot[i] >= 0) {
                st = lc_fail(LC_ERR_NOMEM, "fuse: out of memory");
                break;
            }
    }
done:
    free(c.mark);
    free(c.cost);
    free(c.slot_mark);
    free(c.depth);
    free(c.code);
    free(c.nodes);
    free(c.args);
    free(f->nonneg);
    f->nonneg = NULL;
    free(f->magnitude);
    f->magnitude = NULL;
    free(f->searched);
    f->searched = NULL;
    if (st != LC_OK) {
        lc_fused_free(f);
        return st;
    }
    *out = f;
    return LC_OK;
}

static void print_slot(const lc_fused *f, lc_strbuf *sb, int slot) {
    if (slot < f->n_inputs)
        lc_strbuf_printf(sb, "input %d", slot);
    else if (slot < f->n_inputs + f->n_outputs)
        lc_strbuf_printf(sb, "output %d", slot - f->n_inputs);
    else
        lc_strbuf_printf(sb, "scratch %d%s", slot, lc_fused_is_byte_slot(f, slot) ? " (bytes)" : "");
}

/* The kernel's loop order and block form, one line. */
static void print_loop_schedule(const lc_fused *f, const lc_kernel *k, lc_strbuf *sb) {
    const lc_node *r = lc_graph_node(f->graph, k->root);
    if (k->sched.order == LC_LOOP_ELEMENTS) {
        lc_strbuf_puts(sb, "  schedule: element-major (one trip per element, last axis innermost");
        if (r->op == LC_OP_FOLD && r->attr[LC_FOLD_DIM] == r->shape.rank - 1 && lc_window_of(r).dilation > 1) {
            lc_strbuf_printf(sb, "; not window-major: the windows are dilated (dilation %" PRId64 ")",
                             lc_window_of(r).dilation);
        } else if (r->op == LC_OP_FOLD && r->attr[LC_FOLD_DIM] == r->shape.rank - 1) {
            lc_window w = lc_window_of(r);
            lc_strbuf_printf(sb, "; not window-major: the windows overlap (size %" PRId64 " > step %" PRId64
                             ") and a block of %" PRId64 " positions x %" PRId64
                             " covering windows has a side over %d to unroll",
                             w.size, w.step, w.step, lc_window_cover(&w), LC_UNROLL_MAX);
        }
        if (k->sched.interleave == 1) lc_strbuf_puts(sb, "; the vectorized loop not interleaved: the fix-up flag's OR is no chain to hide");
        if (k->sched.interleave > 1)
            lc_strbuf_printf(sb, "; %d trips interleaved: the short power's chain is long", k->sched.interleave);
        lc_strbuf_puts(sb, ")\n");
        return;
    }
    lc_window w = lc_window_of(r);
    int64_t block = w.step * k->sched.block_steps;
    if (k->sched.block_steps > 1)
        lc_strbuf_printf(sb, "  schedule: window-major, blocks of %d steps of %" PRId64
                         " (an inline gather's window index affine in the block)", k->sched.block_steps, w.step);
    else
        lc_strbuf_printf(sb, "  schedule: window-major, blocks of step %" PRId64 " positions", w.step);
    if (k->sched.block_shift > 0)
        lc_strbuf_printf(sb, " from position 0 (shifted %" PRId64 " past the padded windows' starts, so the "
                         "vectorized trips start on lines)", k->sched.block_shift);
    if (k->sched.block == LC_BLOCK_UNROLLED)
        lc_strbuf_printf(sb, ", unrolled (%" PRId64 " position%s x up to %" PRId64
                         " covering window%s), the loop over blocks vectorized",
                         block, block == 1 ? "" : "s", lc_window_cover(&w), lc_window_cover(&w) == 1 ? "" : "s");
    else
        lc_strbuf_printf(sb, ", a loop over the window's %" PRId64 " slots (step > %d), vectorized",
                         w.size, LC_UNROLL_MAX);
    if (k->sched.interleave > 1) lc_strbuf_printf(sb, ", %d trips interleaved", k->sched.interleave);
    lc_strbuf_puts(sb, !k->sched.whole_blocks    ? "; element-by-element edges before and after the whole blocks\n"
                       : k->sched.guard_windows  ? "; blocks tile the rows: no element edges (a window past a row's "
                                                   "ends is read through a guard: its loads masked, or where the "
                                                   "target has no masked loads at its index clamped; its term "
                                                   "+0)\n"
                       : f->target.masks_by_compare && guard_windows_fit(f, k)
                           ? "; blocks tile the rows: element by element only a block whose checks can fail (a "
                             "row's last, where a window past the last would cover it; not read through a guard: the "
                             "target's masks are vector compares, built every trip)\n"
                       : k->sched.block_shift > 0 ? "; blocks tile the rows: element by element only a block "
                                                    "whose checks can fail (a row's last, where a window past the "
                                                    "last would cover it)\n"
                                                  : "; blocks tile the rows: no element edges\n");
}

/* Why a reduction short enough to unroll runs as a loop (lc_reduction_schedule.rolled). */
#define ROLLED_WHY "unrolled, its code would pass ~2048 loads"
_Static_assert(LC_UNROLL_CODE_MAX == 2048, "ROLLED_WHY names the budget");

/* A gather's form, as the dump names it. */
static const char *gather_form(const lc_reduction_schedule *rs) {
    if (rs->rolled) return "one by one in a loop (" ROLLED_WHY ")";
    if (rs->unrolled) return "unrolled";
    return rs->lanes_rolled ? "vector partial sums, a trip's lanes packed by a loop" : "vector partial sums";
}

/* What the schedule says about one inline node, as a bracketed note (nothing for plain
 * elementwise nodes). */
static void print_node_schedule(const lc_fused *f, const lc_kernel *k, int node, lc_strbuf *sb) {
    const lc_node *x = lc_graph_node(f->graph, node);
    const lc_reduction_schedule *rs = lc_kernel_reduction(k, node);
    const lc_lp_schedule *lp = lc_kernel_lp_norm(k, node);
    char num[32];
    if (node == k->root && k->sched.root_from_co_search) {
        lc_strbuf_printf(sb, "  [not searched: the running maximum of %%%d's search, which takes the same terms "
                         "on the same compares]", k->co_root);
        return;
    }
    if (lp) {
        lc_strbuf_printf(sb, "  [lp norm, p = %s: ", lc_format_number(lp->norm.p, num));
        if (lp->mode == LC_LP_SCALED)
            lc_strbuf_printf(sb, "scaled by the window max |x| (p outside [1/%g, %g])]",
                             LC_LP_SCALE_MIN_P, LC_LP_SCALE_MIN_P);
        else if (lp->mode == LC_LP_FLAGGED) {
            lc_strbuf_puts(sb, "plain pow(sum, 1/p); a window whose sum left the range is flagged "
                               "and redone scaled by its max |x| in a scalar fix-up pass");
            bool short_terms = lp->terms_form == LC_LP_POW_NORMAL, short_root = lp->root_form == LC_LP_POW_NORMAL;
            if (short_terms || short_root)
                lc_strbuf_printf(sb, "; %s by the short normal-range power",
                                 short_terms && short_root ? "terms |x|^p and root" : short_terms ? "terms |x|^p" : "root");
            if ((short_terms && lp->terms_poly.log2_terms < 7) || (short_root && lp->root_poly.log2_terms < 7))
                lc_strbuf_puts(sb, " with shorter polynomials (y is read by nothing)");
            if (lp->terms_sqrt_estimate)
                lc_strbuf_puts(sb, "; the terms' square roots by the 14-bit estimate where the target has one "
                                   "(y is read by nothing)");
            if (lp->terms_from_sums >= 0)
                lc_strbuf_printf(sb, "; terms |y|^p of %%%d's norms taken as their sums (the root and the power cancel)",
                                 lp->terms_from_sums);
            int root_m, root_k;
            if (lp->root_form == LC_LP_POW_ROOT && lc_lp_root_parts(1.0 / lp->norm.p, &root_m, &root_k))
                lc_strbuf_printf(sb, "; root by two Newton-type steps on S^(-1/%d)", root_m);
            lc_strbuf_puts(sb, "]");
        }
        else if (lc_lp_norm_scaled(lp->norm.p))
            lc_strbuf_puts(sb, "plain pow(sum, 1/p) (the scaled form needs |x| terms and the sum inline)]");
        else
            lc_strbuf_puts(sb, "plain pow(sum, 1/p)]");
        return;
    }
    const lc_lp_ratio_schedule *signed_ratio = lc_kernel_lp_signed_product(k, node);
    if (signed_ratio) {
        if (signed_ratio->chain_one)
            lc_strbuf_printf(sb, "  [lp backward's sign: g alone where %%%d's window keeps its plain form (the rows' "
                             "norms cancel: the rows' ratio divides by its y), else g times copysign((|x|/y)^%s, x)]",
                             signed_ratio->norm, lc_format_number(signed_ratio->e, num));
        else if (signed_ratio->node == signed_ratio->ratio && signed_ratio->reciprocal &&
                 !signed_ratio->newton_reciprocal)
            lc_strbuf_puts(sb, "  [lp backward's sign: g times x·(1/y), which is copysign(|x|·(1/y), x) since 1/y is "
                               "never negative: no sign operation]");
        else if (signed_ratio->newton_reciprocal && signed_ratio->node != signed_ratio->ratio)
            lc_strbuf_printf(sb, "  [lp backward's sign: copysign((|x|·s)^%s, x) times g·(1/(y·s))^%s, s near 1/y from "
                             "the root's first guess, 1/(y·s) from its steps; the fix-up takes g times "
                             "copysign((|x|/y)^%s, x)]",
                             lc_format_number(signed_ratio->e, num), lc_format_number(signed_ratio->e, num),
                             lc_format_number(signed_ratio->e, num));
        else
            lc_strbuf_printf(sb, "  [lp backward's sign: g times copysign((|x|/y)^%s, x), one sign-bit operation per element]",
                             lc_format_number(signed_ratio->e, num));
        return;
    }
    const lc_lp_ratio_schedule *ratio = lc_kernel_lp_ratio(k, node);
    if (ratio) {
        const lc_lp_schedule *norm = ratio->norm_inline ? lc_kernel_lp_norm(k, ratio->norm) : NULL;
        lc_strbuf_printf(sb, "  [lp backward (|x|/y)^%s: %s", lc_format_number(ratio->e, num),
                         !norm ? "an underflowed quotient flagged and redone in logs"
                         : norm->mode == LC_LP_SCALED
                             ? "always from the scaled window, in double (y's rounding, raised to e, would show)"
                             : ratio->newton_reciprocal && ratio->split_sqrt
                                 ? "|x| times 1/y, its square root as sqrt|x| (the terms') times sqrt(1/y); 1/y and "
                                   "sqrt(1/y) from the root's Newton steps, no division; from the scaled window where "
                                   "the fix-up redoes it"
                             : ratio->newton_reciprocal
                                 ? "|x| times 1/y, 1/y from the root's Newton steps, no division; from the scaled "
                                   "window where the fix-up redoes it"
                             : ratio->short_pow
                                 ? "|x| times 1/y, one division per window, the power by the short normal-range power "
                                   "(an element it would flush or cannot take flagged); from the scaled window where "
                                   "the fix-up redoes it"
                             : ratio->split_sqrt
                                 ? "|x| times 1/y, one division per window, its square root as sqrt|x| (the terms') times "
                                   "sqrt(1/y) (one per window); from the scaled window where the fix-up redoes it"
                             : ratio->reciprocal
                                 ? "|x| times 1/y, one division per window; from the scaled window where the fix-up redoes it"
                                 : "from the scaled window where the fix-up redoes it");
        if (ratio->chain_outer >= 0) {
            const lc_lp_ratio_schedule *outer = lc_kernel_lp_ratio(k, ratio->chain_outer);
            lc_strbuf_printf(sb, "; the rows' norms cancel: y is %%%d's of the row's window (the gather %%%d's) "
                             "where that window keeps its plain form, %%%d taken as 1",
                             outer->norm, ratio->chain_fold, outer->node);
        }
        lc_strbuf_puts(sb, "]");
        return;
    }
    if (rs && rs->span == LC_SPAN_WINDOWS) {
        lc_strbuf_printf(sb, "  [gather over the %" PRId64 " windows covering each position: only the %" PRId64
                         " that exist, one by one]", rs->terms,
                         lc_graph_node(f->graph, x->inputs[0])->shape.dim[x->attr[LC_FOLD_DIM]]);
        return;
    }
    if (rs && x->op == LC_OP_FOLD) {
        lc_window w = lc_window_of(x);
        if (lc_fold_gathers_slots(&w))
            lc_strbuf_printf(sb, "  [gather over the window slots that may hold each position, %" PRId64
                             " (dilation %" PRId64 "): %s]", rs->terms, w.dilation,
                             gather_form(rs));
        else
            lc_strbuf_printf(sb, "  [gather over the %" PRId64 " window%s covering each position: %s]",
                             rs->terms, rs->terms == 1 ? "" : "s",
                             gather_form(rs));
        return;
    }
    const char *rescue = rs && rs->flag_in_outer
                             ? "; a sum not finite makes the enclosing window sum not finite, which is flagged; "
                               "redone compensated over terms scaled by 2^-c in the fix-up"
                         : rs && rs->rescue_nonfinite
                             ? "; a sum not finite flagged and redone compensated over terms scaled by 2^-c "
                               "in the fix-up"
                             : "";
    if (rs && rs->span == LC_SPAN_DATA) {
        const lc_node *u = lc_graph_node(f->graph, rs->span_unfold);
        lc_strbuf_printf(sb, "  [window reduction of %" PRId64 " terms: only the at most %" PRId64
                         " slots reading the input of %%%d, one by one (the others are padding, %s)%s]",
                         rs->terms, lc_graph_node(f->graph, u->inputs[0])->shape.dim[u->attr[LC_UNFOLD_DIM]],
                         rs->span_unfold, u->attr[LC_UNFOLD_NEG_INF_PAD] ? "-inf" : "0", rescue);
        return;
    }
    for (int r = 0; r < k->sched.n_reductions; r++)
        if (k->sched.reductions[r].choice_mask == node) {
            lc_strbuf_printf(sb, "  [not evaluated: its first maximum is carried by the search of %%%d]",
                             k->sched.reductions[r].node);
            return;
        }
    if (rs && rs->choice_mask >= 0) {
        lc_strbuf_printf(sb, "  [window reduction of %" PRId64 " terms: %%%d at the first maximum of %%%d's "
                         "window, carried with the running maximum in one pass, unrolled into the vectorized loop]",
                         rs->terms, rs->choice_values, lc_graph_node(f->graph, rs->choice_mask)->inputs[0]);
        return;
    }
    if (rs) {
        if (rs->rolled)
            lc_strbuf_printf(sb, "  [window reduction of %" PRId64 " terms: one by one in a loop (%s)%s]",
                             rs->terms,
                             ROLLED_WHY, rescue);
        else if (rs->unrolled)
            lc_strbuf_printf(sb, "  [window reduction of %" PRId64 " terms: unrolled into the vectorized loop%s]",
                             rs->terms, rescue);
        else
            lc_strbuf_printf(sb, "  [window reduction of %" PRId64 " terms: vector partial sums (more than "
                             "%d to unroll), so the loop around it is not vectorized%s%s%s%s%s]", rs->terms, LC_UNROLL_MAX,
                             rs->peeled ? "; the first and last trip apart, the trips between without checks "
                                          "(only the ends can read padding)" : "",
                             rs->lanes_rolled ? "; a trip's lanes packed by a loop (unrolled, their code would "
                                                "pass the budget)" : "",
                             rs->vector_terms ? "; a trip's terms evaluated as vectors" : "",
                             rs->blocked_sum >= 0 ? "; the inner sum taken term by term over blocks of trips "
                                                    "(one row of its axis at a time)" : "",
                             rescue);
        return;
    }
    if (x->op == LC_OP_UNFOLD)
        lc_strbuf_puts(sb, x->attr[LC_UNFOLD_NEG_INF_PAD] ? "  [index arithmetic; -inf outside [0, L)]"
                                                          : "  [index arithmetic; 0 outside [0, L)]");
    else if (x->op == LC_OP_EXPAND) lc_strbuf_puts(sb, "  [index dropped; the input is recomputed per slot]");
}

/* Why a kernel's output is streamed (lc_schedule.nontemporal_min_bytes): the last-level
 * cache wherever the output is that large (so a dump of it reads the same on every host), else
 * the target's per-core cache. */
static const char *nontemporal_why(const lc_fused *f, const lc_kernel *k, char *buf, size_t size) {
    if (node_bytes(f, k->root) >= LC_NONTEMPORAL_MIN_BYTES) return "the output does not fit the last-level cache";
    if (f->target.streams_core_sized)
        snprintf(buf, size, "the output is at least what a core's own cache holds (%" PRId64 " KiB on the target)",
                 k->sched.nontemporal_min_bytes >> 10);
    else
        snprintf(buf, size, "the output is more than a core's own cache holds (%" PRId64 " KiB on the target)",
                 (k->sched.nontemporal_min_bytes - 1) >> 10);
    return buf;
}

lc_status lc_fused_print(const lc_fused *f, FILE *out) {
    lc_strbuf sb = {0};
    char lab[256], shp[96], why[96];
    lc_strbuf_printf(&sb, ";; fused: %d kernel%s\n", f->n_kernels, f->n_kernels == 1 ? "" : "s");
    for (int k = 0; k < f->n_kernels; k++) {
        const lc_kernel *kr = &f->kernels[k];
        const lc_node *r = lc_graph_node(f->graph, kr->root);
        lc_strbuf_printf(&sb, "kernel %d: writes %s %s%s into ", k,
                         lc_fused_node_label(f, kr->root, lab, sizeof lab),
                         lc_dtype_name(r->dtype), lc_shape_str(&r->shape, shp, sizeof shp));
        print_slot(f, &sb, kr->dst_slot);
        lc_strbuf_printf(&sb, "; outer range %" PRId64 "%s, ~%" PRId64 " loads per element, ~%" PRId64
                         " in its code\n",
                         kr->outer,
                         kr->sched.tile_rows > 1 ? " (split at whole tiles of rows)"
                         : kr->sched.tile_cols > 1 ? " (split at whole rows)"
                         : kr->sched.whole_trips > 0 ? " (split at whole multiples of the vectorized loop's trips)"
                         : kr->align > 1         ? " (split at whole windows)"
                                                 : "",
                         kr->cost, kr->code);
        print_loop_schedule(f, kr, &sb);
        if (kr->sched.tile_cols > 1)
            lc_strbuf_printf(&sb, "  tiled: the whole row (%d positions of axis %d) per trip, their partial sums in "
                             "one loop with one accumulator each, so what they read alike is loaded once per trip\n",
                             kr->sched.tile_cols, r->shape.rank - 1);
        if (kr->sched.tile_rows > 1 && kr->co_rows > 1)
            lc_strbuf_printf(&sb, "  tiled: %d rows per trip (%d consecutive indices of axis %d), the rows of one "
                             "window of the co-root below, which the tile forms once from what its rows read\n",
                             kr->sched.tile_rows, kr->sched.tile_rows, r->shape.rank - 2);
        else if (kr->sched.tile_rows > 1)
            lc_strbuf_printf(&sb, "  tiled: %d rows per trip (%d consecutive indices of axis %d), so what "
                             "does not depend on that axis is loaded once per tile\n",
                             kr->sched.tile_rows, kr->sched.tile_rows, r->shape.rank - 2);
        if (kr->sched.prefetch.slot >= 0) {
            const lc_row_prefetch *pf = &kr->sched.prefetch;
            lc_strbuf_printf(&sb, "  prefetch: per output row, the %" PRId64 " rows of ", pf->step);
            print_slot(f, &sb, pf->slot);
            lc_strbuf_printf(&sb, " (rows of %" PRId64 " elements, several to a page) %" PRId64
                             " elements ahead, into L%d\n", pf->row_len, pf->ahead, 4 - LC_ROW_PREFETCH_LOCALITY);
        }
        if (kr->sched.row_passes > 0) {
            lc_strbuf_printf(&sb, "  row passes: the vectorized loop runs once per window row of %%%d (%d), in order, "
                             "each reading that input row alone and folding its term into a row of partial "
                             "results (the last finishes the output): the loads stream in address order; %s",
                             kr->sched.row_pass_node, kr->sched.row_passes,
                             kr->sched.stream_prefetch > 0 ? "the stream prefetch below ahead of them" : "no prefetch");
            if (kr->sched.row_pass_co_node >= 0)
                lc_strbuf_printf(&sb, "; the co-root's %%%d likewise", kr->sched.row_pass_co_node);
            lc_strbuf_puts(&sb, "\n");
        }
        if (kr->sched.stream_prefetch > 0)
            lc_strbuf_printf(&sb, "  stream prefetch: %" PRId64 " bytes ahead into L%d, each 64-byte line the vectorized "
                             "loop reads of a buffer it reads half a line or more of per trip; the inputs do not fit a "
                             "core's own caches\n",
                             kr->sched.stream_prefetch, 4 - LC_STREAM_PREFETCH_LOCALITY);
        if (kr->sched.carry_loads)
            lc_strbuf_printf(&sb, "  carried: a window slot the next position reads again (step a multiple of "
                                "the dilation, windows overlapping) is kept from the vectorized loop's previous "
                                "trip, not loaded again%s\n",
                                kr->sched.carry_edge ? "; a run's first carried slots are loaded before it, "
                                                       "checked (the padding where they fall in it), so the "
                                                       "rows have no edges"
                                                     : "");
        if (kr->sched.carry_windows)
            lc_strbuf_puts(&sb, "  carried: a covering window's values that the block before evaluated as its own "
                                "(its root and reciprocal) are kept from the vectorized loop's previous trip, not "
                                "evaluated again, where that saves a division, a root or a power; a run's first "
                                "block gets them computed before the run (its flag raised there)\n");
        if (kr->sched.row_versions)
            lc_strbuf_puts(&sb, "  row versions: the vectorized loop is made once per outcome of the row's checks "
                                "of its covering windows along an earlier axis, each version without them\n");
        if (kr->sched.rerun_tail)
            lc_strbuf_puts(&sb, "  remainder: trips a row's interior leaves over run vectorized, as one more run "
                                "ending at its end (a few positions computed twice, the same bits)\n");
        if (kr->sched.whole_trips > 0 && kr->sched.guard_windows)
            lc_strbuf_printf(&sb, "  whole trips: every row is whole multiples of %" PRId64 " trips of the vectorized "
                             "loop, and so is every part of the split outer range: the runs go from the row's first "
                             "block to its last, nothing left over\n",
                             kr->sched.whole_trips);
        else if (kr->sched.whole_trips > 0 && kr->sched.block_shift > 0)
            lc_strbuf_printf(&sb, "  whole trips: every row is whole multiples of %" PRId64 " trips of the vectorized "
                             "loop, and so is every part of the split outer range; the runs stop before the "
                             "row's last block (an edge), and the trips they leave before it run as one more "
                             "run ending there%s\n",
                             kr->sched.whole_trips, kr->sched.rerun_tail ? "" : " (rows over 512 blocks: one by one)");
        else if (kr->sched.whole_trips > 0)
            lc_strbuf_printf(&sb, "  whole trips: every row is whole multiples of %" PRId64 " trips of the vectorized "
                             "loop, and so is every part of the split outer range: no loop for trips left over (but for "
                             "the edges of a row that has some, in the scalar loop)\n",
                             kr->sched.whole_trips);
        if (kr->sched.nontemporal == LC_NT_LINE_START)
            lc_strbuf_printf(&sb, "  non-temporal: the vectorized loop of each row starts at a 64-byte line of the "
                                  "written buffer and writes whole lines with streaming stores (no read of the lines "
                                  "it writes); %s\n", nontemporal_why(f, kr, why, sizeof why));
        if (kr->sched.nontemporal == LC_NT_ALIGNED_ROWS)
            lc_strbuf_printf(&sb, "  non-temporal: rows and their vectorized runs start on 64-byte lines of a "
                                  "line-aligned buffer (a row with edges: at its first line past them; the run "
                                  "writes the output aside where the caller's is not), written with "
                                  "streaming stores (no read of the lines they write); %s\n",
                             nontemporal_why(f, kr, why, sizeof why));
        if (kr->sched.nontemporal_write_share > 0)
            lc_strbuf_printf(&sb, "  ordinary stores: %s, but the kernel writes %.1f times the bytes it reads (more "
                             "than %d), and one core's streaming stores drain slower than ordinary ones\n",
                             nontemporal_why(f, kr, why, sizeof why), kr->sched.nontemporal_write_share,
                             LC_NT_MAX_WRITE_SHARE);
        if (kr->sched.co_nontemporal)
            lc_strbuf_puts(&sb, kr->co_beside ? "  non-temporal too: the co-root below, beside the root, its runs "
                                                "on lines of its rows\n"
                                              : "  non-temporal too: the co-root below, one element per block, its "
                                                "runs on lines of its rows\n");
        if (kr->sched.fixup)
            lc_strbuf_puts(&sb, "  fix-up: every loop takes the plain form and flags what it cannot take; the "
                                "fix-up that redoes the flagged windows is a function of its own, compiled the "
                                "first time a run flags one\n");
        if (kr->co_root >= 0) {
            const lc_node *co = lc_graph_node(f->graph, kr->co_root);
            lc_strbuf_printf(&sb, "  also writes %s %s%s into ",
                             lc_fused_node_label(f, kr->co_root, lab, sizeof lab),
                             lc_dtype_name(co->dtype), lc_shape_str(&co->shape, shp, sizeof shp));
            print_slot(f, &sb, kr->co_slot);
            lc_window w = {0}; /* a window-major fold's, where the co-root is written per window */
            if (!kr->co_beside) w = lc_window_of(lc_graph_node(f->graph, kr->root));
            if (kr->co_beside)
                lc_strbuf_puts(&sb, ", beside it at every element (it reads nothing more: one pass)\n");
            else if (kr->co_rows > 1)
                lc_strbuf_printf(&sb, ", once per window of %d rows, by the tile of its rows (windows do not overlap "
                                      "on either axis and tile both: one pass)\n",
                                 kr->co_rows);
            else if (lc_window_overlaps(&w))
                lc_strbuf_printf(&sb, ", once per window, in the block it starts in (windows overlap: a block "
                                      "evaluates its %" PRId64 " covering windows inline, none read back)\n",
                                 lc_window_cover(&w));
            else
                lc_strbuf_puts(&sb, ", once per window (windows do not overlap: one pass)\n");
        }
        lc_strbuf_puts(&sb, "  reads:");
        for (int a = 0; a < kr->n_args; a++) {
            lc_strbuf_puts(&sb, a ? ", " : " ");
            print_slot(f, &sb, kr->args[a]);
        }
        lc_strbuf_puts(&sb, kr->n_args ? "\n" : " nothing\n");
        for (int i = 0; i < kr->n_nodes; i++) {
            int node = kr->nodes[i];
            lc_strbuf_printf(&sb, "  op %s", lc_fused_node_label(f, node, lab, sizeof lab));
            print_node_schedule(f, kr, node, &sb);
            lc_strbuf_puts(&sb, "\n");
        }
    }
    bool any = false;
    int n = lc_graph_node_count(f->graph);
    for (int i = 0; i < n; i++) {
        if (f->node_slot[i] < f->n_inputs + f->n_outputs) continue;
        if (!any) lc_strbuf_puts(&sb, "not fused:\n");
        any = true;
        lc_strbuf_printf(&sb, "  %s materialized: %s",
                         lc_fused_node_label(f, i, lab, sizeof lab), f->why[i]);
        const lc_node *x = lc_graph_node(f->graph, i);
        int64_t pitch = lc_fused_row_pitch(f, f->node_slot[i], &x->shape);
        if (x->shape.rank > 0 && pitch != x->shape.dim[x->shape.rank - 1])
            lc_strbuf_printf(&sb, "; rows padded to %" PRId64 " elements: %d KiB apart otherwise, where a kernel "
                             "reading one line of each of several rows per trip finds them in one cache set",
                             pitch, LC_ROW_SET_BYTES / 1024);
        lc_strbuf_puts(&sb, "\n");
    }
    char *text;
    LC_TRY(lc_strbuf_finish(&sb, &text));
    fputs(text, out);
    free(text);
    return LC_OK;
}
