/* onednn-conv: oneDNN 2.6's convolution and pooling primitives for the model cases without a
 * Linear (Conv1d -> AvgPool1d), from the plain data Lucid sees, as a oneDNN user writes it:
 * every primitive created with `format_tag any`, so oneDNN picks its fastest layouts (blocked,
 * nCw8c on AVX2), and reorders from and to the plain (ncw, oiw) buffers wherever its choice
 * differs, all inside the timed run:
 *
 *   fwd     x -> [reorder] -> conv (+bias) -> pool avg -> [reorder] -> y
 *   fwdbwd  the forward (training), then g -> [reorder] -> pool backward -> conv backward data
 *           -> [reorder] -> dx, and conv backward weights (+bias) -> [reorder] -> dW, db
 *
 * The weights are reordered in every run too (training changes them). The implementation
 * oneDNN picked for each primitive is printed on stderr once ("jit:avx2", "gemm:jit", ...).
 * Scratchpads are user-managed so that peak_extra_bytes counts them, with the blocked copies
 * and the intermediates. The thread count is oneDNN's OpenMP team (omp_set_num_threads). */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#ifdef LUCID_BENCH_HAVE_DNNL
#include <dnnl.h>

/* The plain tensors, whose data handles a run points at the slot's buffers. */
enum { P_X, P_W, P_B, P_Y, P_G, P_DX, P_DW, P_DB, P_COUNT };

#define MAX_STEPS 24
#define MAX_MEMS 24
#define MAX_ARGS 6

typedef struct step {
    dnnl_primitive_t p;
    int n_args;
    dnnl_exec_arg_t args[MAX_ARGS];
} step;

typedef struct conv_state {
    const bench_config *cfg;
    dnnl_memory_t plain[P_COUNT];
    dnnl_memory_t mems[MAX_MEMS]; /* blocked copies, intermediates, scratchpads */
    void *bufs[MAX_MEMS];
    int n_mems;
    int64_t extra_bytes;
    step steps[MAX_STEPS];
    int n_steps;
} conv_state;

static dnnl_engine_t engine;
static dnnl_stream_t stream;
static dnnl_primitive_attr_t attr;
static char impl_note[512];

#include "onednn_try.h"

static int conv_available(char *why, size_t n) { return 0; }

static bool conv_supports(const bench_config *cfg, int threads, char *why, size_t n) {
    if (!cfg->is_model) {
        snprintf(why, n, "the model cases only (the pools have the other oneDNN rows)");
        return false;
    }
    if (cfg->bc->linear_out > 0 || cfg->pass == BENCH_TRAIN) {
        snprintf(why, n, "Conv1d -> AvgPool1d, fwd and fwdbwd only (no Linear, no training step)");
        return false;
    }
    return true;
}

/* A memory of descriptor md with its own buffer (0-filled), counted as extra memory. */
static int own_memory(conv_state *s, const dnnl_memory_desc_t *md, dnnl_memory_t *out, char *err, size_t n) {
    if (s->n_mems == MAX_MEMS) {
        snprintf(err, n, "too many memories");
        return -1;
    }
    size_t bytes = dnnl_memory_desc_get_size(md);
    void *buf = NULL;
    if (posix_memalign(&buf, 64, (bytes + 63) & ~(size_t)63) != 0) {
        snprintf(err, n, "out of memory");
        return -1;
    }
    memset(buf, 0, bytes);
    s->bufs[s->n_mems] = buf;
    DNNL_TRY(dnnl_memory_create(&s->mems[s->n_mems], md, engine, buf), "memory creation");
    *out = s->mems[s->n_mems++];
    s->extra_bytes += (int64_t)bytes;
    return 0;
}

static int add_step(conv_state *s, dnnl_primitive_t p, int n_args, const dnnl_exec_arg_t *args, char *err, size_t n) {
    if (s->n_steps == MAX_STEPS) {
        snprintf(err, n, "too many steps");
        dnnl_primitive_destroy(p);
        return -1;
    }
    step *st = &s->steps[s->n_steps++];
    st->p = p;
    st->n_args = n_args;
    memcpy(st->args, args, (size_t)n_args * sizeof *args);
    return 0;
}

/* A reorder step from -> to. */
static int add_reorder(conv_state *s, dnnl_memory_t from, dnnl_memory_t to, char *err, size_t n) {
    const dnnl_memory_desc_t *fmd, *tmd;
    dnnl_memory_get_memory_desc(from, &fmd);
    dnnl_memory_get_memory_desc(to, &tmd);
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t p;
    DNNL_TRY(dnnl_reorder_primitive_desc_create(&pd, fmd, engine, tmd, engine, NULL), "reorder descriptor");
    dnnl_status_t st = dnnl_primitive_create(&p, pd);
    dnnl_primitive_desc_destroy(pd);
    DNNL_TRY(st, "reorder creation");
    return add_step(s, p, 2, (dnnl_exec_arg_t[]){{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}}, err, n);
}

/* An input in the layout `want`: the memory itself when it already is, else a copy that a
 * reorder step (added now, before the primitive's) fills. */
static int as_input(conv_state *s, dnnl_memory_t m, const dnnl_memory_desc_t *want, dnnl_memory_t *out, char *err,
                    size_t n) {
    const dnnl_memory_desc_t *have;
    dnnl_memory_get_memory_desc(m, &have);
    if (dnnl_memory_desc_equal(have, want)) {
        *out = m;
        return 0;
    }
    if (own_memory(s, want, out, err, n) != 0) return -1;
    return add_reorder(s, m, *out, err, n);
}

/* An output in the layout `want`: the plain memory when it already is; else a buffer whose
 * reorder to the plain one is appended to `post` (added after the primitive's step). */
static int as_output(conv_state *s, dnnl_memory_t plain, const dnnl_memory_desc_t *want, dnnl_memory_t *out,
                     dnnl_memory_t post[][2], int *n_post, char *err, size_t n) {
    const dnnl_memory_desc_t *have;
    dnnl_memory_get_memory_desc(plain, &have);
    if (dnnl_memory_desc_equal(have, want)) {
        *out = plain;
        return 0;
    }
    if (own_memory(s, want, out, err, n) != 0) return -1;
    post[*n_post][0] = *out;
    post[*n_post][1] = plain;
    (*n_post)++;
    return 0;
}

/* The primitive of pd (kept alive by the caller until here), its scratchpad and a step with
 * `args`; notes which implementation oneDNN chose. */
static int add_primitive(conv_state *s, const char *what, dnnl_primitive_desc_t pd, dnnl_exec_arg_t *args,
                         int n_args, char *err, size_t n) {
    const char *impl = NULL;
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
    size_t used = strlen(impl_note);
    snprintf(impl_note + used, sizeof impl_note - used, "%s%s %s", used ? ", " : "", what, impl ? impl : "?");
    const dnnl_memory_desc_t *smd = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    if (smd && dnnl_memory_desc_get_size(smd) > 0) {
        dnnl_memory_t scratch;
        if (own_memory(s, smd, &scratch, err, n) != 0) return -1;
        args[n_args++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, scratch};
    }
    dnnl_primitive_t p;
    DNNL_TRY(dnnl_primitive_create(&p, pd), "primitive creation");
    return add_step(s, p, n_args, args, err, n);
}

static int add_posts(conv_state *s, dnnl_memory_t post[][2], int n_post, char *err, size_t n) {
    for (int i = 0; i < n_post; i++)
        if (add_reorder(s, post[i][0], post[i][1], err, n) != 0) return -1;
    return 0;
}

static const dnnl_memory_desc_t *qmd(const_dnnl_primitive_desc_t pd, dnnl_query_t what) {
    return dnnl_primitive_desc_query_md(pd, what, 0);
}

static void conv_teardown(void *state) {
    conv_state *s = state;
    if (!s) return;
    for (int i = 0; i < s->n_steps; i++) dnnl_primitive_destroy(s->steps[i].p);
    for (int i = 0; i < s->n_mems; i++) {
        dnnl_memory_destroy(s->mems[i]);
        free(s->bufs[i]);
    }
    for (int t = 0; t < P_COUNT; t++)
        if (s->plain[t]) dnnl_memory_destroy(s->plain[t]);
    free(s);
}

static int build(conv_state *s, char *err, size_t n) {
    const bench_config *cfg = s->cfg;
    const bench_case *bc = cfg->bc;
    bool bwd = cfg->pass == BENCH_FWDBWD;
    int64_t lc = cfg->l + 2 * bc->conv_pad - bc->conv_k + 1, P = bc->pool_k;
    dnnl_dims_t xd = {cfg->n, cfg->c, cfg->l}, wd = {bc->conv_out, cfg->c, bc->conv_k}, bd = {bc->conv_out},
                cd = {cfg->n, bc->conv_out, lc}, yd = {cfg->n, cfg->c_out, cfg->l_out};
    dnnl_memory_desc_t md[P_COUNT], any_x, any_w, any_c, any_y;
    const int64_t *dims[P_COUNT] = {xd, wd, bd, yd, yd, xd, wd, bd};
    const dnnl_format_tag_t tags[P_COUNT] = {dnnl_ncw, dnnl_oiw, dnnl_x, dnnl_ncw, dnnl_ncw, dnnl_ncw, dnnl_oiw, dnnl_x};
    float *data[P_COUNT] = {cfg->x[0], cfg->param[0], cfg->param[1], cfg->y[0],
                            bwd ? cfg->g[0] : NULL, bwd ? cfg->dx[0] : NULL, cfg->dparam[0], cfg->dparam[1]};
    for (int t = 0; t < P_COUNT; t++) {
        if (!bwd && t >= P_G) break;
        DNNL_TRY(dnnl_memory_desc_init_by_tag(&md[t], t == P_B || t == P_DB ? 1 : 3, dims[t], dnnl_f32, tags[t]), "md");
        DNNL_TRY(dnnl_memory_create(&s->plain[t], &md[t], engine, data[t]), "memory creation");
    }
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&any_x, 3, xd, dnnl_f32, dnnl_format_tag_any), "md");
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&any_w, 3, wd, dnnl_f32, dnnl_format_tag_any), "md");
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&any_c, 3, cd, dnnl_f32, dnnl_format_tag_any), "md");
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&any_y, 3, yd, dnnl_f32, dnnl_format_tag_any), "md");
    dnnl_dims_t strides = {1}, pad = {bc->conv_pad}, pk = {P}, ps = {P}, pdil = {0}, p0 = {0};
    dnnl_dims_t ppr = {(cfg->l_out - 1) * P + P - lc}; /* floor mode: a negative right pad drops the tail */

    /* forward: conv, pool */
    dnnl_convolution_desc_t cfd;
    dnnl_primitive_desc_t cfpd = NULL, pfpd = NULL, pbpd = NULL, cbdpd = NULL, cbwpd = NULL;
    dnnl_memory_t x, w, c, y, post[4][2], g, dc, dc_data, dc_w, dx, dw, x_w;
    int n_post = 0, rc = -1;
    dnnl_pooling_v2_desc_t pfd, pbd;
    dnnl_convolution_desc_t cbd, cbw;
#define TRY_GOTO(call, what)                                                                   \
    do {                                                                                       \
        dnnl_status_t st_ = (call);                                                            \
        if (st_ != dnnl_success) {                                                             \
            snprintf(err, n, "oneDNN: %s failed (status %d)", what, (int)st_);                 \
            goto done;                                                                         \
        }                                                                                      \
    } while (0)
    TRY_GOTO(dnnl_convolution_forward_desc_init(&cfd, bwd ? dnnl_forward_training : dnnl_forward_inference,
                                                dnnl_convolution_direct, &any_x, &any_w, &md[P_B], &any_c, strides,
                                                pad, pad),
             "convolution forward descriptor");
    TRY_GOTO(dnnl_primitive_desc_create(&cfpd, &cfd, attr, engine, NULL), "convolution forward");
    if (own_memory(s, qmd(cfpd, dnnl_query_dst_md), &c, err, n) != 0) goto done;
    if (as_input(s, s->plain[P_X], qmd(cfpd, dnnl_query_src_md), &x, err, n) != 0 ||
        as_input(s, s->plain[P_W], qmd(cfpd, dnnl_query_weights_md), &w, err, n) != 0)
        goto done;
    if (add_primitive(s, "conv fwd", cfpd,
                      (dnnl_exec_arg_t[MAX_ARGS]){{DNNL_ARG_SRC, x}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_BIAS, s->plain[P_B]},
                                                  {DNNL_ARG_DST, c}},
                      4, err, n) != 0)
        goto done;
    if (dnnl_pooling_v2_forward_desc_init(&pfd, bwd ? dnnl_forward_training : dnnl_forward_inference,
                                          dnnl_pooling_avg_include_padding, qmd(cfpd, dnnl_query_dst_md), &any_y, ps,
                                          pk, pdil, p0, ppr) != dnnl_success ||
        dnnl_primitive_desc_create(&pfpd, &pfd, attr, engine, NULL) != dnnl_success) {
        snprintf(err, n, "oneDNN: no forward pooling primitive");
        goto done;
    }
    if (as_output(s, s->plain[P_Y], qmd(pfpd, dnnl_query_dst_md), &y, post, &n_post, err, n) != 0 ||
        add_primitive(s, "pool fwd", pfpd, (dnnl_exec_arg_t[MAX_ARGS]){{DNNL_ARG_SRC, c}, {DNNL_ARG_DST, y}}, 2, err,
                      n) != 0 ||
        add_posts(s, post, n_post, err, n) != 0)
        goto done;
    if (!bwd) {
        rc = 0;
        goto done;
    }
    /* backward: pool, conv data, conv weights */
    n_post = 0;
    if (dnnl_pooling_v2_backward_desc_init(&pbd, dnnl_pooling_avg_include_padding, qmd(cfpd, dnnl_query_dst_md),
                                           qmd(pfpd, dnnl_query_dst_md), ps, pk, pdil, p0, ppr) != dnnl_success ||
        dnnl_primitive_desc_create(&pbpd, &pbd, attr, engine, pfpd) != dnnl_success) {
        snprintf(err, n, "oneDNN: no backward pooling primitive");
        goto done;
    }
    if (own_memory(s, qmd(pbpd, dnnl_query_diff_src_md), &dc, err, n) != 0 ||
        as_input(s, s->plain[P_G], qmd(pbpd, dnnl_query_diff_dst_md), &g, err, n) != 0 ||
        add_primitive(s, "pool bwd", pbpd,
                      (dnnl_exec_arg_t[MAX_ARGS]){{DNNL_ARG_DIFF_DST, g}, {DNNL_ARG_DIFF_SRC, dc}}, 2, err, n) != 0)
        goto done;
    TRY_GOTO(dnnl_convolution_backward_data_desc_init(&cbd, dnnl_convolution_direct, &any_x, &any_w, &any_c, strides,
                                                      pad, pad),
             "convolution backward data descriptor");
    TRY_GOTO(dnnl_primitive_desc_create(&cbdpd, &cbd, attr, engine, cfpd), "convolution backward data");
    if (as_input(s, dc, qmd(cbdpd, dnnl_query_diff_dst_md), &dc_data, err, n) != 0 ||
        as_input(s, s->plain[P_W], qmd(cbdpd, dnnl_query_weights_md), &w, err, n) != 0 ||
        as_output(s, s->plain[P_DX], qmd(cbdpd, dnnl_query_diff_src_md), &dx, post, &n_post, err, n) != 0 ||
        add_primitive(s, "conv bwd data", cbdpd,
                      (dnnl_exec_arg_t[MAX_ARGS]){{DNNL_ARG_DIFF_DST, dc_data}, {DNNL_ARG_WEIGHTS, w},
                                                  {DNNL_ARG_DIFF_SRC, dx}},
                      3, err, n) != 0 ||
        add_posts(s, post, n_post, err, n) != 0)
        goto done;
    n_post = 0;
    TRY_GOTO(dnnl_convolution_backward_weights_desc_init(&cbw, dnnl_convolution_direct, &any_x, &any_w, &md[P_DB],
                                                         &any_c, strides, pad, pad),
             "convolution backward weights descriptor");
    TRY_GOTO(dnnl_primitive_desc_create(&cbwpd, &cbw, attr, engine, cfpd), "convolution backward weights");
    const dnnl_memory_desc_t *x_md; /* the forward's copy of x when it has the layout wanted */
    dnnl_memory_get_memory_desc(x, &x_md);
    if (dnnl_memory_desc_equal(x_md, qmd(cbwpd, dnnl_query_src_md)))
        x_w = x;
    else if (as_input(s, s->plain[P_X], qmd(cbwpd, dnnl_query_src_md), &x_w, err, n) != 0)
        goto done;
    if (
        as_input(s, dc, qmd(cbwpd, dnnl_query_diff_dst_md), &dc_w, err, n) != 0 ||
        as_output(s, s->plain[P_DW], qmd(cbwpd, dnnl_query_diff_weights_md), &dw, post, &n_post, err, n) != 0 ||
        add_primitive(s, "conv bwd weights", cbwpd,
                      (dnnl_exec_arg_t[MAX_ARGS]){{DNNL_ARG_SRC, x_w}, {DNNL_ARG_DIFF_DST, dc_w},
                                                  {DNNL_ARG_DIFF_WEIGHTS, dw}, {DNNL_ARG_DIFF_BIAS, s->plain[P_DB]}},
                      4, err, n) != 0 ||
        add_posts(s, post, n_post, err, n) != 0)
        goto done;
    rc = 0;
done:
    if (cfpd) dnnl_primitive_desc_destroy(cfpd);
    if (pfpd) dnnl_primitive_desc_destroy(pfpd);
    if (pbpd) dnnl_primitive_desc_destroy(pbpd);
    if (cbdpd) dnnl_primitive_desc_destroy(cbdpd);
    if (cbwpd) dnnl_primitive_desc_destroy(cbwpd);
#undef TRY_GOTO
    return rc;
}

static int conv_setup(const bench_config *cfg, int threads, void **state, char *err, size_t n) {
    if (!engine && (dnnl_engine_create(&engine, dnnl_cpu, 0) != dnnl_success ||
                    dnnl_stream_create(&stream, engine, dnnl_stream_default_flags) != dnnl_success ||
                    dnnl_primitive_attr_create(&attr) != dnnl_success ||
                    dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user) != dnnl_success)) {
        snprintf(err, n, "cannot create a oneDNN CPU engine and stream");
        return -1;
    }
    void (*set)(int) = (void (*)(int))dlsym(RTLD_DEFAULT, "omp_set_num_threads");
    if (set) set(threads);
    conv_state *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, n, "out of memory");
        return -1;
    }
    s->cfg = cfg;
    impl_note[0] = '\0';
    if (build(s, err, n) != 0) {
        conv_teardown(s);
        return -1;
    }
    static char printed[512];
    if (strcmp(printed, impl_note) != 0) {
        fprintf(stderr, "lucid-bench: onednn-conv %s %s: %s\n", cfg->bc->name, bench_pass_name(cfg->pass), impl_note);
        snprintf(printed, sizeof printed, "%s", impl_note);
    }
    *state = s;
    return 0;
}

static int conv_run(void *state, int slot, char *err, size_t n) {
    conv_state *s = state;
    const bench_config *cfg = s->cfg;
    float *data[P_COUNT] = {cfg->x[slot], cfg->param[0], cfg->param[1], cfg->y[slot],
                            cfg->g ? cfg->g[slot] : NULL, cfg->dx ? cfg->dx[slot] : NULL, cfg->dparam[0],
                            cfg->dparam[1]};
    for (int t = 0; t < P_COUNT; t++)
        if (s->plain[t] && dnnl_memory_set_data_handle(s->plain[t], data[t]) != dnnl_success) {
            snprintf(err, n, "oneDNN: cannot set a data handle");
            return -1;
        }
    for (int i = 0; i < s->n_steps; i++)
        if (dnnl_primitive_execute(s->steps[i].p, stream, s->steps[i].n_args, s->steps[i].args) != dnnl_success) {
            snprintf(err, n, "oneDNN: execution failed");
            return -1;
        }
    if (dnnl_stream_wait(stream) != dnnl_success) {
        snprintf(err, n, "oneDNN: execution failed");
        return -1;
    }
    return 0;
}

static int64_t conv_extra(void *state) { return ((conv_state *)state)->extra_bytes; }

const bench_impl_ops bench_onednn_conv_ops = {
    .available = conv_available, .supports = conv_supports, .setup = conv_setup, .run = conv_run,
    .setup_extra_bytes = conv_extra, .teardown = conv_teardown, .checked = true,
};

#else /* built without libdnnl-dev */

static int conv_missing(char *why, size_t n) {
    snprintf(why, n, "not installed at build time (libdnnl-dev: scripts/setup.sh --bench, then rebuild)");
    return -1;
}
const bench_impl_ops bench_onednn_conv_ops = {.available = conv_missing};
#endif
