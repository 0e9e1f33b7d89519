/* oneDNN anchors for average and max pooling (oneDNN 2.6 C API, pooling_v2 primitives), three
 * rows, for the 1-D cases on (N, C, L) and the 2-D ones on (N, C, H, W):
 *   onednn-ncw      forward (and backward) on the plain layout (ncw, nchw), as Lucid sees data;
 *   onednn-blocked  the same on oneDNN's preferred blocked layout (nCw16c / nCw8c, nChw16c /
 *                   nChw8c: what its convolutions pick through format_tag any), inputs already
 *                   converted;
 *   onednn-reorder  only the conversions the blocked row leaves out: inputs ncw -> blocked and
 *                   outputs blocked -> ncw, so blocked + reorder is the cost from plain data.
 * avg_k3s1p1 (count_include_pad = True) maps to pooling_avg_include_padding, MaxPool2d to
 * pooling_max (whose training forward writes a workspace, the chosen elements, that its
 * backward reads: one per configuration, counted as the run's extra memory). The thread count
 * is oneDNN's OpenMP team size (omp_set_num_threads, found with dlsym since libdnnl brings its
 * OpenMP runtime). Memory objects are made per rotation slot at setup, so a run only executes. */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#ifdef LUCID_BENCH_HAVE_DNNL
#include <dnnl.h>

typedef enum variant { V_NCW, V_BLOCKED, V_REORDER } variant;

/* The tensors of a configuration: x, y (every pass), then g, dx (fwdbwd). */
enum { T_X, T_Y, T_G, T_DX, T_COUNT };

/* A primitive and its scratchpad. Scratchpads are user-managed (dnnl_scratchpad_mode_user) so
 * that the memory a primitive needs besides its inputs and outputs is known exactly: oneDNN's
 * library mode keeps it in a global cache that a steady-state run never allocates. */
typedef struct prim {
    dnnl_primitive_t p;
    dnnl_memory_t scratch;
    void *scratch_buf;
    int64_t scratch_bytes;
} prim;

typedef struct onednn_state {
    const bench_config *cfg;
    variant var;
    int n_tensors;                 /* 2 (fwd: x, y) or 4 */
    prim fwd, bwd;
    dnnl_memory_t workspace;       /* max pooling's training forward -> backward, or NULL */
    void *workspace_buf;
    int64_t workspace_bytes;
    prim to_blocked[T_COUNT], to_plain[T_COUNT]; /* per tensor, .p NULL when unused */
    dnnl_memory_desc_t plain_md[T_COUNT], blocked_md[T_COUNT];
    dnnl_memory_t *plain_mem[T_COUNT];   /* n_rot each, over the configuration's buffers */
    dnnl_memory_t *blocked_mem[T_COUNT]; /* n_rot each, over blocked_buf (blocked variants) */
    void **blocked_buf[T_COUNT];
    int64_t blocked_bytes;               /* one slot's blocked copies */
} onednn_state;

static dnnl_engine_t engine;
static dnnl_stream_t stream;
static dnnl_primitive_attr_t user_scratchpad;

static int ensure_engine(char *err, size_t n) {
    if (engine) return 0;
    if (dnnl_engine_create(&engine, dnnl_cpu, 0) != dnnl_success ||
        dnnl_stream_create(&stream, engine, dnnl_stream_default_flags) != dnnl_success ||
        dnnl_primitive_attr_create(&user_scratchpad) != dnnl_success ||
        dnnl_primitive_attr_set_scratchpad_mode(user_scratchpad, dnnl_scratchpad_mode_user) != dnnl_success) {
        snprintf(err, n, "cannot create a oneDNN CPU engine and stream");
        return -1;
    }
    return 0;
}

static void set_omp_threads(int threads) {
    void (*set)(int) = (void (*)(int))dlsym(RTLD_DEFAULT, "omp_set_num_threads");
    if (set) set(threads);
}

static int onednn_available(char *why, size_t n) { return 0; }

static bool onednn_supports(const bench_config *cfg, int threads, char *why, size_t n) {
    if (cfg->bc->is_lp) {
        snprintf(why, n, "average and max pooling only (oneDNN has no LP pooling)");
        return false;
    }
    return true;
}

#include "onednn_try.h"

/* The tensors' rank: 3 (N, C, L) or 4 (N, C, H, W). */
static int tensor_rank(const bench_config *cfg) { return cfg->h ? 4 : 3; }

/* The blocked layout oneDNN's own convolutions choose for this shape (format_tag any on a
 * 1x1 convolution C -> C): pooling itself does not accept `any` for its source. Falls back to
 * the ISA's channel block when the query fails. */
static dnnl_format_tag_t preferred_blocked_tag(const bench_config *cfg) {
    bool two_d = cfg->h != 0;
    int rank = tensor_rank(cfg);
    bool avx512 = dnnl_get_effective_cpu_isa() >= dnnl_cpu_isa_avx512_core;
    dnnl_format_tag_t fallback = two_d ? (avx512 ? dnnl_nChw16c : dnnl_nChw8c) : (avx512 ? dnnl_nCw16c : dnnl_nCw8c);
    dnnl_dims_t src = {cfg->n, cfg->c, cfg->l}, wei = {cfg->c, cfg->c, 1, 1}, strides = {1, 1}, pad = {0, 0};
    if (two_d) {
        src[2] = cfg->h;
        src[3] = cfg->w;
    }
    dnnl_memory_desc_t src_md, wei_md, dst_md;
    dnnl_convolution_desc_t cd;
    dnnl_primitive_desc_t pd = NULL;
    if (dnnl_memory_desc_init_by_tag(&src_md, rank, src, dnnl_f32, dnnl_format_tag_any) != dnnl_success ||
        dnnl_memory_desc_init_by_tag(&wei_md, rank, wei, dnnl_f32, dnnl_format_tag_any) != dnnl_success ||
        dnnl_memory_desc_init_by_tag(&dst_md, rank, src, dnnl_f32, dnnl_format_tag_any) != dnnl_success ||
        dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct, &src_md, &wei_md,
                                           NULL, &dst_md, strides, pad, pad) != dnnl_success ||
        dnnl_primitive_desc_create(&pd, &cd, NULL, engine, NULL) != dnnl_success)
        return fallback;
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
    dnnl_format_tag_t tags1[] = {dnnl_nCw16c, dnnl_nCw8c, dnnl_nCw4c, dnnl_nwc, dnnl_ncw};
    dnnl_format_tag_t tags2[] = {dnnl_nChw16c, dnnl_nChw8c, dnnl_nChw4c, dnnl_nhwc, dnnl_nchw};
    const dnnl_format_tag_t *tags = two_d ? tags2 : tags1;
    dnnl_format_tag_t found = fallback;
    for (size_t i = 0; md && i < sizeof tags1 / sizeof tags1[0]; i++) {
        dnnl_memory_desc_t probe;
        if (dnnl_memory_desc_init_by_tag(&probe, rank, src, dnnl_f32, tags[i]) == dnnl_success &&
            dnnl_memory_desc_equal(&probe, md)) {
            found = tags[i];
            break;
        }
    }
    dnnl_primitive_desc_destroy(pd);
    /* A plain answer (tiny shapes) still leaves the blocked rows blocked. */
    return found == dnnl_ncw || found == dnnl_nwc || found == dnnl_nchw || found == dnnl_nhwc ? fallback : found;
}

static void prim_destroy(prim *p) {
    if (p->p) dnnl_primitive_destroy(p->p);
    if (p->scratch) dnnl_memory_destroy(p->scratch);
    free(p->scratch_buf);
    memset(p, 0, sizeof *p);
}

/* Create the primitive of `pd` (destroyed here) and its scratchpad. */
static int make_primitive(prim *out, dnnl_primitive_desc_t pd, char *err, size_t n) {
    const dnnl_memory_desc_t *smd = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    size_t bytes = smd ? dnnl_memory_desc_get_size(smd) : 0;
    dnnl_status_t st = dnnl_primitive_create(&out->p, pd);
    if (st == dnnl_success && bytes > 0) {
        if (posix_memalign(&out->scratch_buf, 64, (bytes + 63) & ~(size_t)63) != 0) {
            out->scratch_buf = NULL;
            st = dnnl_out_of_memory;
        } else {
            out->scratch_bytes = (int64_t)bytes;
            st = dnnl_memory_create(&out->scratch, smd, engine, out->scratch_buf);
        }
    }
    dnnl_primitive_desc_destroy(pd);
    DNNL_TRY(st, "primitive creation");
    return 0;
}

static int make_reorder(prim *out, const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to, char *err,
                        size_t n) {
    dnnl_primitive_desc_t pd;
    DNNL_TRY(dnnl_reorder_primitive_desc_create(&pd, from, engine, to, engine, user_scratchpad),
             "reorder descriptor");
    return make_primitive(out, pd, err, n);
}

/* Execute with two arguments, the scratchpad if any, and a workspace if not NULL. */
static int exec_ws(const prim *p, int a0, dnnl_memory_t m0, int a1, dnnl_memory_t m1, dnnl_memory_t ws) {
    dnnl_exec_arg_t args[4] = {{a0, m0}, {a1, m1}};
    int n = 2;
    if (p->scratch) args[n++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, p->scratch};
    if (ws) args[n++] = (dnnl_exec_arg_t){DNNL_ARG_WORKSPACE, ws};
    return dnnl_primitive_execute(p->p, stream, n, args) == dnnl_success ? 0 : -1;
}

static int exec1(const prim *p, int a0, dnnl_memory_t m0, int a1, dnnl_memory_t m1) {
    return exec_ws(p, a0, m0, a1, m1, NULL);
}

static void onednn_teardown(void *state) {
    onednn_state *s = state;
    if (!s) return;
    prim_destroy(&s->fwd);
    prim_destroy(&s->bwd);
    if (s->workspace) dnnl_memory_destroy(s->workspace);
    free(s->workspace_buf);
    for (int t = 0; t < T_COUNT; t++) {
        prim_destroy(&s->to_blocked[t]);
        prim_destroy(&s->to_plain[t]);
        for (int r = 0; r < s->cfg->n_rot; r++) {
            if (s->plain_mem[t] && s->plain_mem[t][r]) dnnl_memory_destroy(s->plain_mem[t][r]);
            if (s->blocked_mem[t] && s->blocked_mem[t][r]) dnnl_memory_destroy(s->blocked_mem[t][r]);
            if (s->blocked_buf[t]) free(s->blocked_buf[t][r]);
        }
        free(s->plain_mem[t]);
        free(s->blocked_mem[t]);
        free(s->blocked_buf[t]);
    }
    free(s);
}

static float *plain_buffer(const bench_config *cfg, int t, int r) {
    switch (t) {
    case T_X: return cfg->x[r];
    case T_G: return cfg->g[r];
    case T_Y: return cfg->y[r];
    default: return cfg->dx[r];
    }
}

static int setup_memory(onednn_state *s, char *err, size_t n) {
    const bench_config *cfg = s->cfg;
    for (int t = 0; t < s->n_tensors; t++) {
        s->plain_mem[t] = calloc((size_t)cfg->n_rot, sizeof(dnnl_memory_t));
        if (s->var != V_NCW) {
            s->blocked_mem[t] = calloc((size_t)cfg->n_rot, sizeof(dnnl_memory_t));
            s->blocked_buf[t] = calloc((size_t)cfg->n_rot, sizeof(void *));
        }
        if (!s->plain_mem[t] || (s->var != V_NCW && (!s->blocked_mem[t] || !s->blocked_buf[t]))) {
            snprintf(err, n, "out of memory");
            return -1;
        }
        size_t bytes = dnnl_memory_desc_get_size(&s->blocked_md[t]);
        if (s->var != V_NCW) s->blocked_bytes += (int64_t)bytes;
        for (int r = 0; r < cfg->n_rot; r++) {
            DNNL_TRY(dnnl_memory_create(&s->plain_mem[t][r], &s->plain_md[t], engine, plain_buffer(cfg, t, r)),
                     "memory creation");
            if (s->var == V_NCW) continue;
            if (posix_memalign(&s->blocked_buf[t][r], 64, (bytes + 63) & ~(size_t)63) != 0) {
                s->blocked_buf[t][r] = NULL;
                snprintf(err, n, "out of memory for blocked buffers");
                return -1;
            }
            memset(s->blocked_buf[t][r], 0, bytes);
            DNNL_TRY(dnnl_memory_create(&s->blocked_mem[t][r], &s->blocked_md[t], engine, s->blocked_buf[t][r]),
                     "memory creation");
            /* The blocked row's inputs hold the same data as the plain ones. */
            if ((t == T_X || t == T_G) &&
                exec1(&s->to_blocked[t], DNNL_ARG_FROM, s->plain_mem[t][r], DNNL_ARG_TO, s->blocked_mem[t][r]) != 0) {
                snprintf(err, n, "oneDNN: reorder failed");
                return -1;
            }
        }
    }
    dnnl_stream_wait(stream);
    return 0;
}

static int onednn_setup_variant(variant var, const bench_config *cfg, int threads, void **state, char *err,
                                size_t n) {
    if (ensure_engine(err, n) != 0) return -1;
    set_omp_threads(threads);
    onednn_state *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, n, "out of memory");
        return -1;
    }
    s->cfg = cfg;
    s->var = var;
    s->n_tensors = cfg->pass == BENCH_FWDBWD ? 4 : 2;
    *state = s;
#define FAIL_CLEAN()                                                                           \
    do {                                                                                       \
        onednn_teardown(s);                                                                    \
        *state = NULL;                                                                         \
        return -1;                                                                             \
    } while (0)
    const bench_case *bc = cfg->bc;
    int rank = tensor_rank(cfg), spatial = rank - 2;
    /* the spatial extents in and out: (L) or (H, W) */
    int64_t in_sp[2] = {cfg->h ? cfg->h : cfg->l, cfg->w}, out_sp[2] = {cfg->h ? cfg->h_out : cfg->l_out, cfg->w_out};
    dnnl_dims_t in_dims = {cfg->n, cfg->c, in_sp[0], in_sp[1]}, out_dims = {cfg->n, cfg->c, out_sp[0], out_sp[1]};
    dnnl_format_tag_t plain = rank == 4 ? dnnl_nchw : dnnl_ncw;
    dnnl_format_tag_t blk = var == V_NCW ? plain : preferred_blocked_tag(cfg);
    for (int t = 0; t < s->n_tensors; t++) {
        const int64_t *d = t == T_X || t == T_DX ? in_dims : out_dims;
        if (dnnl_memory_desc_init_by_tag(&s->plain_md[t], rank, d, dnnl_f32, plain) != dnnl_success ||
            dnnl_memory_desc_init_by_tag(&s->blocked_md[t], rank, d, dnnl_f32, blk) != dnnl_success) {
            snprintf(err, n, "oneDNN: memory descriptor failed");
            FAIL_CLEAN();
        }
    }
    dnnl_dims_t strides, kernel, dilation, pad_l, pad_r;
    for (int a = 0; a < spatial; a++) {
        strides[a] = bc->stride;
        kernel[a] = bc->kernel_size;
        dilation[a] = 0;
        pad_l[a] = pad_r[a] = bc->padding;
        /* Symmetric padding when it yields the output length (every case here), else the
         * exact right pad. */
        if ((in_sp[a] + 2 * bc->padding - bc->kernel_size) / bc->stride + 1 != out_sp[a])
            pad_r[a] = (out_sp[a] - 1) * bc->stride + bc->kernel_size - in_sp[a] - bc->padding;
    }
    /* count_include_pad = True for the average pools; max pooling never picks padding */
    dnnl_alg_kind_t alg = bc->is_max ? dnnl_pooling_max : dnnl_pooling_avg_include_padding;
    dnnl_pooling_v2_desc_t fd, bd;
    dnnl_primitive_desc_t fpd = NULL, bpd = NULL;
    dnnl_prop_kind_t prop = cfg->pass == BENCH_FWD ? dnnl_forward_inference : dnnl_forward_training;
    if (dnnl_pooling_v2_forward_desc_init(&fd, prop, alg, &s->blocked_md[T_X], &s->blocked_md[T_Y], strides, kernel,
                                          dilation, pad_l, pad_r) != dnnl_success ||
        dnnl_primitive_desc_create(&fpd, &fd, user_scratchpad, engine, NULL) != dnnl_success) {
        snprintf(err, n, "oneDNN: no forward pooling primitive for this shape");
        FAIL_CLEAN();
    }
    const dnnl_memory_desc_t *wmd = dnnl_primitive_desc_query_md(fpd, dnnl_query_workspace_md, 0);
    size_t ws_bytes = wmd ? dnnl_memory_desc_get_size(wmd) : 0;
    if (ws_bytes > 0 && cfg->pass == BENCH_FWDBWD && var != V_REORDER) {
        if (posix_memalign(&s->workspace_buf, 64, (ws_bytes + 63) & ~(size_t)63) != 0) {
            s->workspace_buf = NULL;
            dnnl_primitive_desc_destroy(fpd);
            snprintf(err, n, "out of memory for the pooling workspace");
            FAIL_CLEAN();
        }
        memset(s->workspace_buf, 0, ws_bytes);
        s->workspace_bytes = (int64_t)ws_bytes;
        if (dnnl_memory_create(&s->workspace, wmd, engine, s->workspace_buf) != dnnl_success) {
            dnnl_primitive_desc_destroy(fpd);
            snprintf(err, n, "oneDNN: workspace memory creation failed");
            FAIL_CLEAN();
        }
    }
    if (cfg->pass == BENCH_FWDBWD) {
        if (dnnl_pooling_v2_backward_desc_init(&bd, alg, &s->blocked_md[T_DX], &s->blocked_md[T_G], strides, kernel,
                                               dilation, pad_l, pad_r) != dnnl_success ||
            dnnl_primitive_desc_create(&bpd, &bd, user_scratchpad, engine, fpd) != dnnl_success) {
            dnnl_primitive_desc_destroy(fpd);
            snprintf(err, n, "oneDNN: no backward pooling primitive for this shape");
            FAIL_CLEAN();
        }
        if (make_primitive(&s->bwd, bpd, err, n) != 0) {
            dnnl_primitive_desc_destroy(fpd);
            FAIL_CLEAN();
        }
    }
    if (make_primitive(&s->fwd, fpd, err, n) != 0) FAIL_CLEAN();
    if (var != V_NCW) {
        for (int t = 0; t < s->n_tensors; t++) {
            bool is_input = t == T_X || t == T_G;
            int rc = is_input ? make_reorder(&s->to_blocked[t], &s->plain_md[t], &s->blocked_md[t], err, n)
                              : make_reorder(&s->to_plain[t], &s->blocked_md[t], &s->plain_md[t], err, n);
            if (rc != 0) FAIL_CLEAN();
        }
    }
    if (setup_memory(s, err, n) != 0) FAIL_CLEAN();
#undef FAIL_CLEAN
    return 0;
}

static int run_pooling(onednn_state *s, dnnl_memory_t *const *mem, int r) {
    if (exec_ws(&s->fwd, DNNL_ARG_SRC, mem[T_X][r], DNNL_ARG_DST, mem[T_Y][r], s->workspace) != 0) return -1;
    if (s->bwd.p &&
        exec_ws(&s->bwd, DNNL_ARG_DIFF_DST, mem[T_G][r], DNNL_ARG_DIFF_SRC, mem[T_DX][r], s->workspace) != 0)
        return -1;
    return 0;
}

static int run_reorders(onednn_state *s, int r, bool inputs, bool outputs) {
    for (int t = 0; t < s->n_tensors; t++) {
        if (inputs && s->to_blocked[t].p &&
            exec1(&s->to_blocked[t], DNNL_ARG_FROM, s->plain_mem[t][r], DNNL_ARG_TO, s->blocked_mem[t][r]) != 0)
            return -1;
        if (outputs && s->to_plain[t].p &&
            exec1(&s->to_plain[t], DNNL_ARG_FROM, s->blocked_mem[t][r], DNNL_ARG_TO, s->plain_mem[t][r]) != 0)
            return -1;
    }
    return 0;
}

static int onednn_run(void *state, int slot, char *err, size_t n) {
    onednn_state *s = state;
    int rc;
    switch (s->var) {
    case V_NCW: rc = run_pooling(s, s->plain_mem, slot); break;
    case V_BLOCKED: rc = run_pooling(s, s->blocked_mem, slot); break;
    default: rc = run_reorders(s, slot, true, true); break;
    }
    if (rc == 0 && dnnl_stream_wait(stream) != dnnl_success) rc = -1;
    if (rc != 0) snprintf(err, n, "oneDNN: execution failed");
    return rc;
}

static int onednn_finish_blocked(void *state, char *err, size_t n) {
    onednn_state *s = state;
    if (run_pooling(s, s->blocked_mem, 0) != 0 || run_reorders(s, 0, false, true) != 0 ||
        dnnl_stream_wait(stream) != dnnl_success) {
        snprintf(err, n, "oneDNN: execution failed");
        return -1;
    }
    return 0;
}

/* Memory a run needs besides the case's inputs and outputs: scratchpads of the primitives it
 * executes and max pooling's workspace, and for the reorder row the blocked copies it
 * converts to and from. */
static int64_t onednn_setup_extra(void *state) {
    onednn_state *s = state;
    int64_t b = 0;
    if (s->var != V_REORDER) return s->fwd.scratch_bytes + s->bwd.scratch_bytes + s->workspace_bytes;
    for (int t = 0; t < T_COUNT; t++) b += s->to_blocked[t].scratch_bytes + s->to_plain[t].scratch_bytes;
    return b + s->blocked_bytes;
}

static int setup_ncw(const bench_config *cfg, int threads, void **state, char *err, size_t n) {
    return onednn_setup_variant(V_NCW, cfg, threads, state, err, n);
}
static int setup_blocked(const bench_config *cfg, int threads, void **state, char *err, size_t n) {
    return onednn_setup_variant(V_BLOCKED, cfg, threads, state, err, n);
}
static int setup_reorder(const bench_config *cfg, int threads, void **state, char *err, size_t n) {
    return onednn_setup_variant(V_REORDER, cfg, threads, state, err, n);
}

const bench_impl_ops bench_onednn_ncw_ops = {
    .available = onednn_available, .supports = onednn_supports, .setup = setup_ncw,
    .run = onednn_run, .setup_extra_bytes = onednn_setup_extra, .teardown = onednn_teardown, .checked = true,
};
const bench_impl_ops bench_onednn_blocked_ops = {
    .available = onednn_available, .supports = onednn_supports, .setup = setup_blocked,
    .run = onednn_run, .setup_extra_bytes = onednn_setup_extra, .finish_for_check = onednn_finish_blocked,
    .teardown = onednn_teardown,
    .checked = true,
};
const bench_impl_ops bench_onednn_reorder_ops = {
    .available = onednn_available, .supports = onednn_supports, .setup = setup_reorder,
    .run = onednn_run, .setup_extra_bytes = onednn_setup_extra, .teardown = onednn_teardown,
    .checked = false,
};

#else /* built without libdnnl-dev */

static int onednn_missing(char *why, size_t n) {
    snprintf(why, n, "not installed at build time (libdnnl-dev: scripts/setup.sh --bench, then rebuild)");
    return -1;
}
const bench_impl_ops bench_onednn_ncw_ops = {.available = onednn_missing};
const bench_impl_ops bench_onednn_blocked_ops = {.available = onednn_missing};
const bench_impl_ops bench_onednn_reorder_ops = {.available = onednn_missing};
#endif
