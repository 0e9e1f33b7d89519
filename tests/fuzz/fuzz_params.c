/* Fuzz target: parameter files, what `lucidc run --params DIR` reads (tools/lucidc/params.c,
 * linked in) and what the library then does with them (lc_module_set_param, a forward run).
 *
 * The input is a model spec, a NUL, then a script that fills a fresh directory:
 *   byte 0 of the script: flags. bit 0: the input dtype is float64 (else float32); bit 1:
 *     start from every parameter's file, valid; bit 2: the spec is one call
 *     (lc_model_parse_call) rather than a file; bit 3: DIR does not exist; bit 4: DIR is a
 *     regular file.
 *   then operations, one byte each (op % 8) followed by its operands:
 *     0 VALID k, data...   parameter k's file, right name, shape and dtype; its data bytes
 *                          come from the input (exact bit patterns: NaN payloads, -0)
 *     1 REMOVE k           parameter k's file is deleted (a missing file)
 *     2 SHAPE k, how       right name and dtype, a wrong shape (one axis more or less, an
 *                          extent one off, zero)
 *     3 DTYPE k, which     right name and shape, another dtype (<f8/<f4 swapped, int32, int64,
 *                          float16, bool, big-endian float)
 *     4 RAW k, len, bytes  right name, any bytes (a truncated or malformed .npy, or by chance
 *                          a valid one: judged by lc_npy_read_buffer)
 *     5 EXTRA len, name    a valid small file under any name (no '/'); named *.npy it is an
 *                          extra file, otherwise it must be ignored
 *     6 ODD k, how         parameter k's name changed: case, prefix, suffix, separator
 *     7 SPECIAL k, how     at parameter k's name: a directory, or a dangling symlink
 *
 * Properties (cli_params_read's contract, cli.h, and docs/cli.md): a set is accepted exactly
 * when every parameter's file holds an .npy of the input's dtype and the parameter's shape and
 * no other *.npy is in DIR; then every tensor holds exactly the data bytes written. Otherwise
 * the call fails with every value NULL and one message that names the file the rule picks
 * first (extra files in name order, then the parameters in order: missing, or unreadable, or
 * the wrong dtype or shape). An accepted set then goes through the library:
 * lc_module_set_param takes each value (rounded to float32) and the module's graph runs on the
 * interpreter with them (for a Linear, compared with a float64 reference). */
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>

#include "cli.h"
#include "fuzz_common.h"
#include "fuzz_values.h"
#include "lucid/ir.h"
#include "lucid/model_spec.h"
#include "lucid/nn.h"
#include "lucid/npy.h"
#include "lucid/runtime.h"
#include "lucid/tensor.h"

/* ---- the CLI's diagnostics, captured instead of printed ---- */

static char g_msg[8192];
static int g_n_msgs;

int cli_error(const char *where, const char *fmt, ...) {
    char what[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(g_msg, sizeof g_msg, "%s: %s", where ? where : "", what);
    g_n_msgs++;
    return CLI_ERROR;
}

int cli_lib_error(const char *where) {
    snprintf(g_msg, sizeof g_msg, "%s: %s", where ? where : "", lc_last_error());
    g_n_msgs++;
    return CLI_ERROR;
}

/* ---- the scratch directory ---- */

static char g_root[512]; /* made once per process, removed at exit */
static char g_dir[600];  /* g_root/params: the --params DIR of every case */

static void remove_tree(const char *path) {
    struct stat sb;
    if (lstat(path, &sb) != 0) return;
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            for (struct dirent *e; (e = readdir(d)) != NULL;) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
                char sub[1024];
                snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
                remove_tree(sub);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void remove_root(void) {
    if (g_root[0]) remove_tree(g_root);
}

static void fresh_dir(void) {
    if (!g_root[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(g_root, sizeof g_root, "%s/lucid-fuzz-params-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        FUZZ_CHECK(mkdtemp(g_root) != NULL, "mkdtemp %s: %s", g_root, strerror(errno));
        snprintf(g_dir, sizeof g_dir, "%s/params", g_root);
        atexit(remove_root);
    }
    remove_tree(g_dir);
}

/* ---- what the case put in DIR, as the target itself judges it ---- */

enum { MAX_FILES = 48, NAME_MAX_LEN = 160, NAME_BUF = 272, MAX_PARAMS = 64 }; /* NAME_BUF: a cli_param file name (192) and more */

typedef enum { F_VALID, F_BAD } file_kind;

typedef struct file_rec {
    char name[NAME_BUF];
    file_kind kind;
    unsigned char *data; /* F_VALID: the data bytes, C order */
    size_t len;
} file_rec;

typedef struct case_state {
    file_rec files[MAX_FILES];
    int n_files;
    const cli_params *ps;
    lc_dtype dtype;
    bool newline_name; /* some file's name holds a newline */
} case_state;

static file_rec *find_file(case_state *cs, const char *name) {
    for (int i = 0; i < cs->n_files; i++)
        if (!strcmp(cs->files[i].name, name)) return &cs->files[i];
    return NULL;
}

static void forget_file(case_state *cs, const char *name) {
    file_rec *f = find_file(cs, name);
    if (!f) return;
    free(f->data);
    *f = cs->files[--cs->n_files];
}

/* Record `name` (replacing what was there); NULL when the table is full. */
static file_rec *record_file(case_state *cs, const char *name, file_kind kind) {
    forget_file(cs, name);
    if (cs->n_files == MAX_FILES) return NULL;
    file_rec *f = &cs->files[cs->n_files++];
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%s", name);
    f->kind = kind;
    return f;
}

static void path_of(char *out, size_t size, const char *name) { snprintf(out, size, "%s/%s", g_dir, name); }

static void write_file(const char *name, const void *bytes, size_t len) {
    char path[1024];
    path_of(path, sizeof path, name);
    remove_tree(path);
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f != NULL, "cannot create %s: %s", path, strerror(errno));
    FUZZ_CHECK(len == 0 || fwrite(bytes, 1, len, f) == len, "cannot write %s", path);
    FUZZ_CHECK(fclose(f) == 0, "cannot close %s", path);
}

/* An .npy (version 1.0) written here, not by the library: header, then `len` data bytes. */
static size_t npy_bytes(unsigned char *out, size_t cap, const char *descr, const lc_shape *s,
                        const unsigned char *data, size_t len) {
    char dict[512], dims[256] = "";
    size_t used = 0;
    for (int d = 0; d < s->rank; d++)
        used += (size_t)snprintf(dims + used, sizeof dims - used, "%" PRId64 "%s", s->dim[d],
                                 s->rank == 1 ? "," : d + 1 < s->rank ? ", " : "");
    int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, dims);
    size_t header = 10 + (size_t)n + 1, padded = (header + 63) / 64 * 64;
    FUZZ_CHECK(padded + len <= cap, "npy_bytes: buffer too small");
    memcpy(out, "\x93NUMPY\x01\x00", 8);
    out[8] = (unsigned char)((padded - 10) & 0xff);
    out[9] = (unsigned char)((padded - 10) >> 8);
    memcpy(out + 10, dict, (size_t)n);
    memset(out + 10 + n, ' ', padded - 10 - (size_t)n - 1);
    out[padded - 1] = '\n';
    if (len) memcpy(out + padded, data, len);
    return padded + len;
}

static int64_t numel_of(const lc_shape *s) {
    int64_t n = 1;
    for (int d = 0; d < s->rank; d++) n *= s->dim[d];
    return n;
}

/* `len` data bytes from the input; past its end, a pattern drawn from `seed`. */
static unsigned char *data_from(fuzz_bytes *b, size_t len, uint64_t seed) {
    unsigned char *d = malloc(len ? len : 1);
    FUZZ_CHECK(d != NULL, "malloc");
    size_t take = b->n < len ? b->n : len;
    if (take) {
        memcpy(d, b->p, take);
        b->p += take;
        b->n -= take;
    }
    for (size_t i = take; i < len; i++) d[i] = (unsigned char)(fuzz_next(&seed) >> 32);
    return d;
}

static const char *descr_of(lc_dtype dt) { return dt == LC_F64 ? "<f8" : "<f4"; }

static void put_valid(case_state *cs, int k, fuzz_bytes *b, uint64_t seed) {
    const cli_param *p = &cs->ps->p[k];
    size_t len = (size_t)numel_of(&p->shape) * lc_dtype_size(cs->dtype);
    unsigned char *data = data_from(b, len, seed);
    size_t cap = len + 1024;
    unsigned char *bytes = malloc(cap);
    FUZZ_CHECK(bytes != NULL, "malloc");
    size_t n = npy_bytes(bytes, cap, descr_of(cs->dtype), &p->shape, data, len);
    write_file(p->file, bytes, n);
    free(bytes);
    file_rec *f = record_file(cs, p->file, F_VALID);
    if (!f) { free(data); return; }
    f->data = data;
    f->len = len;
}

static void put_bad(case_state *cs, const char *name, const char *descr, const lc_shape *s) {
    int64_t n = numel_of(s);
    size_t esize = strchr(descr, '8') ? 8 : strchr(descr, '4') ? 4 : strchr(descr, '2') ? 2 : 1;
    size_t len = (size_t)n * esize, cap = len + 1024;
    unsigned char *bytes = calloc(1, cap), *zeros = calloc(1, len + 1);
    FUZZ_CHECK(bytes && zeros, "calloc");
    size_t total = npy_bytes(bytes, cap, descr, s, zeros, len);
    write_file(name, bytes, total);
    free(bytes);
    free(zeros);
    record_file(cs, name, F_BAD);
}

/* Any bytes at `name`, judged the way the loader must: valid when they parse to a tensor of
 * the input's dtype and the shape of the parameter the name belongs to (if any). */
static void put_raw(case_state *cs, const char *name, const lc_shape *want, const unsigned char *bytes, size_t len) {
    write_file(name, bytes, len);
    lc_tensor *t = NULL;
    bool ok = lc_npy_read_buffer(bytes, len, &t) == LC_OK && t->dtype == cs->dtype && want &&
              lc_shape_equal(&t->shape, want);
    file_rec *f = record_file(cs, name, ok ? F_VALID : F_BAD);
    if (f && ok) {
        f->len = lc_tensor_nbytes(t);
        f->data = malloc(f->len ? f->len : 1);
        FUZZ_CHECK(f->data != NULL, "malloc");
        if (f->len) memcpy(f->data, t->data, f->len);
    }
    lc_tensor_free(t);
}

/* A name from the input: at most NAME_MAX_LEN bytes, no '/' or NUL, not "." or "..". */
static void name_from(fuzz_bytes *b, char *out) {
    size_t len = fuzz_u8(b) % (NAME_MAX_LEN + 1), n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = (char)fuzz_u8(b);
        if (c == '/' || c == '\0') c = '_';
        out[n++] = c;
    }
    out[n] = '\0';
    if (n == 0 || !strcmp(out, ".") || !strcmp(out, "..")) strcpy(out, "x.npy");
}

static void apply_op(case_state *cs, fuzz_bytes *b, uint64_t *seed) {
    unsigned op = fuzz_u8(b) % 8;
    int n = cs->ps->n;
    char name[NAME_BUF], path[1024];
    if (op == 5) {
        name_from(b, name);
        cs->newline_name |= strchr(name, '\n') != NULL;
        lc_shape s = lc_shape_make(1, (const int64_t[]){2});
        if (find_file(cs, name) == NULL && strlen(name) < NAME_MAX_LEN) {
            /* a valid-looking .npy under a name that is no parameter's (if it is one, it is
             * judged as that parameter's file) */
            const lc_shape *want = NULL;
            for (int k = 0; k < n; k++)
                if (!strcmp(cs->ps->p[k].file, name)) want = &cs->ps->p[k].shape;
            unsigned char bytes[256], data[16] = {0};
            size_t len = npy_bytes(bytes, sizeof bytes, descr_of(cs->dtype), &s, data, 2 * lc_dtype_size(cs->dtype));
            put_raw(cs, name, want, bytes, len);
        }
        return;
    }
    if (n == 0) return;
    int k = (int)fuzz_pick(b, (size_t)n);
    const cli_param *p = &cs->ps->p[k];
    switch (op) {
    case 0:
        put_valid(cs, k, b, fuzz_next(seed));
        break;
    case 1:
        path_of(path, sizeof path, p->file);
        remove_tree(path);
        forget_file(cs, p->file);
        break;
    case 2: {
        lc_shape s = p->shape;
        unsigned how = fuzz_u8(b) % 4;
        if (how == 0 && s.rank < LC_MAX_RANK) s.dim[s.rank++] = 1;
        else if (how == 1 && s.rank > 0) s.rank--;
        else if (how == 2 && s.rank > 0) s.dim[fuzz_pick(b, (size_t)s.rank)] += 1;
        else if (s.rank > 0) s.dim[fuzz_pick(b, (size_t)s.rank)] = 0;
        else s.dim[s.rank++] = 3;
        if (lc_shape_equal(&s, &p->shape)) break;
        put_bad(cs, p->file, descr_of(cs->dtype), &s);
        break;
    }
    case 3: {
        static const char *other[] = {"<i4", "<i8", "<f2", "|b1", ">f4", ">f8", "|u1"};
        unsigned which = fuzz_u8(b) % 8;
        const char *descr = which == 7 ? (cs->dtype == LC_F64 ? "<f4" : "<f8") : other[which];
        put_bad(cs, p->file, descr, &p->shape);
        break;
    }
    case 4: {
        size_t len = fuzz_u16(b) % 2048;
        unsigned char *bytes = data_from(b, len, fuzz_next(seed));
        put_raw(cs, p->file, &p->shape, bytes, len);
        free(bytes);
        break;
    }
    case 6: {
        unsigned how = fuzz_u8(b) % 6;
        const char *f = p->file;
        size_t len = strlen(f);
        if (how == 0) snprintf(name, sizeof name, "0.%s", f);               /* a prefix more */
        else if (how == 1) snprintf(name, sizeof name, "%s", strchr(f, '.') + 1); /* one less */
        else if (how == 2) snprintf(name, sizeof name, "%.*s.NPY", (int)(len - 4), f);
        else if (how == 3) snprintf(name, sizeof name, "%.*s", (int)(len - 4), f); /* no suffix */
        else if (how == 4) snprintf(name, sizeof name, " %s", f);
        else snprintf(name, sizeof name, "%s.npy", f);                         /* x.npy.npy */
        const lc_shape *want = NULL;
        for (int q = 0; q < n; q++)
            if (!strcmp(cs->ps->p[q].file, name)) want = &cs->ps->p[q].shape;
        unsigned char bytes[4096];
        size_t data_len = (size_t)numel_of(&p->shape) * lc_dtype_size(cs->dtype);
        if (data_len + 1024 > sizeof bytes) break;
        unsigned char zeros[4096] = {0};
        size_t total = npy_bytes(bytes, sizeof bytes, descr_of(cs->dtype), &p->shape, zeros, data_len);
        put_raw(cs, name, want, bytes, total);
        break;
    }
    case 7: {
        path_of(path, sizeof path, p->file);
        remove_tree(path);
        if (fuzz_u8(b) & 1) {
            FUZZ_CHECK(mkdir(path, 0700) == 0, "mkdir %s: %s", path, strerror(errno));
            record_file(cs, p->file, F_BAD);
        } else {
            FUZZ_CHECK(symlink("nowhere-at-all.npy", path) == 0, "symlink %s: %s", path, strerror(errno));
            forget_file(cs, p->file); /* a dangling link is a missing file */
        }
        break;
    }
    }
}

static bool has_npy_suffix(const char *name) {
    size_t n = strlen(name);
    return n >= 4 && !strcmp(name + n - 4, ".npy");
}

/* The file the loader must name first, or NULL when the set is valid. Extra *.npy files come
 * first, in strcmp order (a dangling link or a directory named *.npy is one too); then the
 * parameters in order. *missing: that parameter's file is absent. */
static const char *expected_culprit(case_state *cs, bool *missing) {
    const char *first_extra = NULL;
    DIR *d = opendir(g_dir);
    FUZZ_CHECK(d != NULL, "opendir");
    static char extra[NAME_BUF];
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (!has_npy_suffix(e->d_name)) continue;
        bool known = false;
        for (int k = 0; k < cs->ps->n && !known; k++) known = !strcmp(cs->ps->p[k].file, e->d_name);
        if (!known && (!first_extra || strcmp(e->d_name, first_extra) < 0)) {
            snprintf(extra, sizeof extra, "%s", e->d_name);
            first_extra = extra;
        }
    }
    closedir(d);
    *missing = false;
    if (first_extra) return first_extra;
    for (int k = 0; k < cs->ps->n; k++) {
        file_rec *f = find_file(cs, cs->ps->p[k].file);
        if (!f) {
            *missing = true;
            return cs->ps->p[k].file;
        }
        if (f->kind != F_VALID) return cs->ps->p[k].file;
    }
    return NULL;
}

/* ---- after a set is accepted: the library's side ---- */

/* An input shape the model takes, tried from its first parameter's extents. */
static bool input_shape_for(const lc_module *m, const cli_params *ps, lc_shape *in) {
    int64_t cands[8];
    int nc = 0;
    const lc_shape *w = &ps->p[0].shape;
    for (int d = 0; d < w->rank && nc < 6; d++) cands[nc++] = w->dim[d];
    cands[nc++] = 1;
    for (int i = 0; i < nc; i++) {
        lc_shape tries[2] = {lc_shape_make(2, (const int64_t[]){3, cands[i]}),
                             lc_shape_make(3, (const int64_t[]){2, cands[i], 17})};
        for (int t = 0; t < 2; t++) {
            lc_shape out;
            if (lc_module_output_shape(m, tries[t], &out) == LC_OK && numel_of(&out) <= 1 << 16) {
                *in = tries[t];
                return true;
            }
        }
    }
    lc_clear_error();
    return false;
}

static bool same_value(double got, double want) {
    if (isnan(got) || isnan(want)) return isnan(got) && isnan(want);
    return got == want && signbit(got) == signbit(want);
}

static void use_params(lc_module *m, const cli_params *ps, lc_dtype dtype, lc_tensor **values, uint64_t seed) {
    /* lc_module_set_param under the module's own names (the file name less "I." for a lone
     * module and less ".npy") */
    bool single = lc_module_get_kind(m) != LC_MODULE_SEQUENTIAL;
    for (int k = 0; k < ps->n; k++) {
        char name[LC_PARAM_NAME_MAX];
        lc_tensor *t;
        FUZZ_CHECK(lc_module_param_at(m, k, name, sizeof name, &t) == LC_OK, "lc_module_param_at");
        char want_file[200];
        snprintf(want_file, sizeof want_file, "%s%s.npy", single ? "0." : "", name);
        FUZZ_CHECK(!strcmp(want_file, ps->p[k].file), "parameter %d is %s, its file %s", k, name, ps->p[k].file);
        lc_clear_error();
        FUZZ_CHECK(lc_module_set_param(m, name, values[k]) == LC_OK, "lc_module_set_param(%s)", name);
        for (int64_t i = 0; i < lc_tensor_numel(t); i++) {
            double v = lc_tensor_get(values[k], i), want = (double)(float)v;
            FUZZ_CHECK(same_value(lc_tensor_get(t, i), want), "%s[%" PRId64 "] is %.9g after set_param, want %.9g",
                       name, i, lc_tensor_get(t, i), want);
        }
    }
    /* a wrong shape and an unknown name are refused, naming the parameter */
    if (ps->n > 0) {
        char name[LC_PARAM_NAME_MAX];
        FUZZ_CHECK(lc_module_param_at(m, 0, name, sizeof name, NULL) == LC_OK, "lc_module_param_at");
        lc_tensor *wrong = NULL;
        lc_shape s = lc_shape_make(1, (const int64_t[]){numel_of(&ps->p[0].shape) + 1});
        FUZZ_CHECK(lc_tensor_new(dtype, s, &wrong) == LC_OK, "lc_tensor_new");
        lc_clear_error();
        lc_status st = lc_module_set_param(m, name, wrong);
        FUZZ_CHECK_FAILURE(st, "lc_module_set_param with a wrong shape");
        FUZZ_CHECK(strstr(lc_last_error(), name) != NULL, "the message \"%s\" does not name %s", lc_last_error(), name);
        lc_clear_error();
        st = lc_module_set_param(m, "no.such.weight", wrong);
        FUZZ_CHECK_FAILURE(st, "lc_module_set_param with an unknown name");
        FUZZ_CHECK(strstr(lc_last_error(), "no.such.weight") != NULL, "the message \"%s\" does not name the parameter",
                   lc_last_error());
        lc_tensor_free(wrong);
    }

    /* the forward graph on the interpreter, fed the values read */
    if (ps->n == 0 || lc_module_input_count(m) != 1) return;
    lc_shape in;
    if (!input_shape_for(m, ps, &in)) return;
    lc_graph *g = NULL;
    lc_clear_error();
    lc_status st = lc_module_graph(m, dtype, in, &g);
    if (st != LC_OK) {
        FUZZ_CHECK_FAILURE(st, "lc_module_graph");
        return;
    }
    FUZZ_CHECK(lc_graph_input_count(g) == 1 + ps->n, "the graph takes %d inputs, want %d", lc_graph_input_count(g),
               1 + ps->n);
    lc_tensor *x = NULL, *y = NULL;
    FUZZ_CHECK(lc_tensor_new(dtype, in, &x) == LC_OK, "lc_tensor_new");
    fuzz_fill(x, seed, 2.0, false);
    const lc_tensor *ins[1 + MAX_PARAMS];
    ins[0] = x;
    for (int k = 0; k < ps->n; k++) ins[1 + k] = values[k];
    lc_clear_error();
    st = lc_interp_run(g, ins, 1 + ps->n, &y, 1);
    if (st != LC_OK) {
        FUZZ_CHECK_FAILURE(st, "lc_interp_run");
    } else if (lc_module_get_kind(m) == LC_MODULE_LINEAR && in.rank == 2) {
        /* y = x W^T (+ b), float64 */
        const lc_tensor *w = values[0], *bias = ps->n > 1 ? values[1] : NULL;
        int64_t rows = in.dim[0], fin = in.dim[1], fout = w->shape.dim[0];
        double tol = dtype == LC_F32 ? 1e-4 : 1e-10;
        for (int64_t r = 0; r < rows; r++)
            for (int64_t o = 0; o < fout; o++) {
                double acc = bias ? lc_tensor_get(bias, o) : 0.0, mag = fabs(acc);
                for (int64_t i = 0; i < fin; i++) {
                    double term = lc_tensor_get(x, r * fin + i) * lc_tensor_get(w, o * fin + i);
                    acc += term;
                    mag += fabs(term);
                }
                double got = lc_tensor_get(y, r * fout + o);
                /* inf - inf, NaN: any order gives some NaN or inf; near the top of the dtype's
                 * range a partial sum may overflow where float64's does not */
                if (!isfinite(mag) || mag > (dtype == LC_F32 ? FLT_MAX : DBL_MAX) / 16) continue;
                FUZZ_CHECK(fabs(got - acc) <= tol * mag + 1e-30 || (isnan(got) && isnan(acc)),
                           "Linear y[%" PRId64 ",%" PRId64 "] is %.17g, want %.17g", r, o, got, acc);
            }
    }
    lc_tensor_free(y);
    lc_tensor_free(x);
    lc_graph_free(g);
}

/* Models whose parameters stay small: the product of the spec's integer literals is at most
 * 2^16 (a Linear(100000, 100000) would spend the run drawing 10^10 values). */
static bool small_model(const char *spec) {
    double product = 1;
    for (const char *p = spec; *p;) {
        if (*p >= '0' && *p <= '9') {
            double v = 0;
            while (*p >= '0' && *p <= '9') v = v * 10 + (*p++ - '0');
            if (v > 1) product *= v;
        } else {
            p++;
        }
    }
    return product <= 65536;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t spec_len = 0;
    while (spec_len < size && data[spec_len] != 0) spec_len++;
    char *spec = fuzz_strdup(data, spec_len);
    fuzz_bytes b = {data + spec_len + (spec_len < size), size - spec_len - (spec_len < size)};
    unsigned flags = fuzz_u8(&b);
    if (!small_model(spec)) {
        free(spec);
        return 0;
    }
    lc_module *m = NULL;
    lc_status st = (flags & 4) ? lc_model_parse_call(spec, "--module", &m) : lc_model_parse(spec, "model.txt", &m);
    free(spec);
    if (st != LC_OK) return 0; /* the model-spec target checks parse failures */

    cli_params ps;
    g_n_msgs = 0;
    FUZZ_CHECK(cli_params_of(m, &ps) == CLI_OK, "cli_params_of: %s", g_msg);
    if (ps.n > MAX_PARAMS) {
        cli_params_free(&ps);
        lc_module_free(m);
        return 0;
    }

    case_state cs = {.ps = &ps, .dtype = (flags & 1) ? LC_F64 : LC_F32};
    uint64_t seed = 0x5eed ^ size;
    fresh_dir();
    bool dir_missing = (flags & 8) != 0, dir_is_file = !dir_missing && (flags & 16);
    if (dir_is_file) {
        FILE *f = fopen(g_dir, "wb");
        FUZZ_CHECK(f && fclose(f) == 0, "cannot create %s", g_dir);
    } else if (!dir_missing) {
        FUZZ_CHECK(mkdir(g_dir, 0700) == 0, "mkdir %s: %s", g_dir, strerror(errno));
        if (flags & 2)
            for (int k = 0; k < ps.n; k++) put_valid(&cs, k, &(fuzz_bytes){0}, fuzz_next(&seed));
        for (int ops = 0; b.n > 0 && ops < 64; ops++) apply_op(&cs, &b, &seed);
    }

    lc_tensor *values[MAX_PARAMS + 1];
    for (int k = 0; k <= MAX_PARAMS; k++) values[k] = (lc_tensor *)&values; /* must be overwritten */
    g_n_msgs = 0;
    g_msg[0] = '\0';
    lc_clear_error();
    int rc = cli_params_read(g_dir, &ps, cs.dtype, values);
    const char *verbose = getenv("LUCID_FUZZ_VERBOSE"); /* print each outcome */
    if (verbose && *verbose && *verbose != '0')
        fprintf(stderr, "params: %d parameter(s), %s\n", ps.n, rc == CLI_OK ? "accepted" : g_msg);

    if (dir_missing || dir_is_file) {
        FUZZ_CHECK(rc == CLI_ERROR, "a %s --params DIR was accepted", dir_missing ? "missing" : "regular file as");
        FUZZ_CHECK(g_n_msgs == 1 && strstr(g_msg, g_dir) != NULL, "the message \"%s\" does not name %s", g_msg, g_dir);
        for (int k = 0; k < ps.n; k++) FUZZ_CHECK(values[k] == NULL, "a failed read left values[%d]", k);
    } else {
        bool missing = false;
        const char *culprit = expected_culprit(&cs, &missing);
        if (culprit) {
            FUZZ_CHECK(rc == CLI_ERROR, "accepted a set where %s is %s", culprit,
                       missing ? "missing" : "extra or invalid");
            FUZZ_CHECK(g_n_msgs == 1, "%d messages for one failure (last: \"%s\")", g_n_msgs, g_msg);
            char path[1024];
            path_of(path, sizeof path, culprit);
            FUZZ_CHECK(strncmp(g_msg, "--params: ", 10) == 0 && strstr(g_msg, path) != NULL,
                       "the message \"%s\" does not name %s", g_msg, path);
            /* one line (lucidc prints it so): no newline unless a name in DIR holds one */
            FUZZ_CHECK(cs.newline_name || strchr(g_msg, '\n') == NULL, "the message \"%s\" is more than one line",
                       g_msg);
            if (missing) FUZZ_CHECK(strstr(g_msg, "missing") != NULL, "the message \"%s\" does not say missing", g_msg);
            for (int k = 0; k < ps.n; k++) FUZZ_CHECK(values[k] == NULL, "a failed read left values[%d]", k);
        } else {
            FUZZ_CHECK(rc == CLI_OK, "refused a valid set: \"%s\"", g_msg);
            FUZZ_CHECK(g_n_msgs == 0, "a message for a valid set: \"%s\"", g_msg);
            for (int k = 0; k < ps.n; k++) {
                file_rec *f = find_file(&cs, ps.p[k].file);
                FUZZ_CHECK(values[k] && values[k]->dtype == cs.dtype && lc_shape_equal(&values[k]->shape, &ps.p[k].shape),
                           "%s: wrong dtype or shape read", ps.p[k].file);
                FUZZ_CHECK(lc_tensor_nbytes(values[k]) == f->len &&
                               (f->len == 0 || memcmp(values[k]->data, f->data, f->len) == 0),
                           "%s: the values read are not the bytes written", ps.p[k].file);
            }
            use_params(m, &ps, cs.dtype, values, seed);
            for (int k = 0; k < ps.n; k++) lc_tensor_free(values[k]);
        }
    }
    for (int i = 0; i < cs.n_files; i++) free(cs.files[i].data);
    cli_params_free(&ps);
    lc_module_free(m);
    return 0;
}
