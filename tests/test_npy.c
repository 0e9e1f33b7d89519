/* .npy reading and writing (docs/npy.md): the conformance files, headers
 * byte for byte as NumPy 1.24 writes them, versions 2.0 and 3.0, every rejection with its
 * status and message, atomic writes, and a mutation loop over valid files.
 *
 * Pinned values were produced independently with NumPy:
 *   python3 -c 'import numpy as np; a = np.load(F); print(a.shape, float(a.ravel()[0]).hex())'
 * and NumPy's own bytes for np.save(...) are copied below as literals. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support/testutil.h"
#include "lucid/npy.h"

/* ---- helpers ---- */

typedef struct bytes {
    unsigned char *data;
    size_t len;
} bytes;

/* A .npy image: magic, version `major`.0, the header length field (2 or 4 bytes), the
 * header text as given (no padding added), then `data`. */
static bytes make_npy(int major, const char *header, const void *data, size_t data_len) {
    size_t hlen = strlen(header);
    size_t field = major == 1 ? 2 : 4;
    bytes b;
    b.len = 8 + field + hlen + data_len;
    b.data = malloc(b.len);
    assert_non_null(b.data);
    memcpy(b.data, "\x93NUMPY", 6);
    b.data[6] = (unsigned char)major;
    b.data[7] = 0;
    for (size_t i = 0; i < field; i++) b.data[8 + i] = (unsigned char)(hlen >> (8 * i));
    memcpy(b.data + 8 + field, header, hlen);
    if (data_len) memcpy(b.data + 8 + field + hlen, data, data_len);
    return b;
}

static const float SIX_F32[6] = {1, 2, 3, 4, 5, 6};

/* A v1.0 file of six floats with the given header text. */
static bytes six_floats(const char *header) { return make_npy(1, header, SIX_F32, sizeof SIX_F32); }

static lc_status read_bytes(bytes b, lc_tensor **out) {
    lc_status st = lc_npy_read_buffer(b.data, b.len, out);
    free(b.data);
    return st;
}

/* Read a header that must be accepted, with six float32 values (1..6) as data. */
static void expect_six_ok(const char *header, int rank, const int64_t *dims) {
    lc_tensor *t = NULL;
    lc_status st = read_bytes(six_floats(header), &t);
    if (st != LC_OK) fail_msg("header %s: %s", header, lc_last_error());
    assert_int_equal(t->dtype, LC_F32);
    assert_int_equal(t->shape.rank, rank);
    for (int i = 0; i < rank; i++) assert_int_equal(t->shape.dim[i], dims[i]);
    for (int i = 0; i < 6; i++) assert_true(lc_tensor_get(t, i) == i + 1);
    lc_tensor_free(t);
}

/* Reading `header` (with `data_len` bytes of zeros) fails with `status` and `needle`. */
static void expect_header_fails(int major, const char *header, size_t data_len,
                                lc_status status, const char *needle) {
    unsigned char zeros[64] = {0};
    assert_true(data_len <= sizeof zeros);
    lc_tensor *t = (lc_tensor *)1;
    lc_status st = read_bytes(make_npy(major, header, zeros, data_len), &t);
    if (st != status)
        fail_msg("header %s: got %s, expected %s (message: %s)", header, lc_status_str(st),
                 lc_status_str(status), lc_last_error());
    if (!strstr(lc_last_error(), needle))
        fail_msg("header %s: message \"%s\" lacks \"%s\"", header, lc_last_error(), needle);
    assert_null(t);
}

static bytes slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s: %s", path, strerror(errno));
    bytes b = {NULL, 0};
    size_t cap = 0;
    for (;;) {
        if (b.len == cap) {
            cap = cap ? cap * 2 : 4096;
            b.data = realloc(b.data, cap);
            assert_non_null(b.data);
        }
        size_t got = fread(b.data + b.len, 1, cap - b.len, f);
        if (got == 0) break;
        b.len += got;
    }
    fclose(f);
    return b;
}

static void spit(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static bool same_tensor_bits(const lc_tensor *a, const lc_tensor *b) {
    return a->dtype == b->dtype && lc_shape_equal(&a->shape, &b->shape) &&
           memcmp(a->data, b->data, lc_tensor_nbytes(a)) == 0;
}

/* A fresh directory under /tmp, removed (with the files in it) by remove_dir. */
static char *make_temp_dir(void) {
    char *dir = strdup("/tmp/lucid-test-npy-XXXXXX");
    assert_non_null(dir);
    assert_non_null(mkdtemp(dir));
    return dir;
}

static int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

static void remove_dir(char *dir) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    char path[4096];
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (remove(path) != 0) fail_msg("cannot remove %s: %s", path, strerror(errno));
    }
    closedir(d);
    assert_int_equal(rmdir(dir), 0);
    free(dir);
}

static lc_shape shape_of(int rank, const int64_t *dims) { return lc_shape_make(rank, dims); }

/* ---- the conformance files ---- */

/* The integer list after "key": in case.json, e.g. "shape": [1, 2, 13]. */
static lc_shape json_shape(const char *json, const char *key) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\"", key);
    const char *p = strstr(json, pattern);
    if (!p) fail_msg("case.json lacks %s", key);
    p = strchr(p, '[');
    assert_non_null(p);
    lc_shape s = {0};
    p++;
    while (*p != ']') {
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p) {
            p++;
            continue;
        }
        assert_true(s.rank < LC_MAX_RANK);
        s.dim[s.rank++] = v;
        p = end;
    }
    return s;
}

static void test_conformance_files(void **state) {
    (void)state;
    const char *root = test_source_path("tests/conformance/torch");
    char root_copy[4096];
    snprintf(root_copy, sizeof root_copy, "%s", root);
    DIR *d = opendir(root_copy);
    if (!d) fail_msg("cannot open %s", root_copy);
    int cases = 0, files = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        char dir[4096 + 256], path[4096 + 512];
        snprintf(dir, sizeof dir, "%s/%s", root_copy, e->d_name);
        snprintf(path, sizeof path, "%s/case.json", dir);
        bytes json = slurp(path);
        json.data = realloc(json.data, json.len + 1);
        json.data[json.len] = '\0';
        lc_shape in_shape = json_shape((const char *)json.data, "shape");
        lc_shape out_shape = json_shape((const char *)json.data, "out_shape");
        free(json.data);
        cases++;
        DIR *cd = opendir(dir);
        assert_non_null(cd);
        for (struct dirent *f; (f = readdir(cd));) {
            size_t n = strlen(f->d_name);
            if (n < 4 || strcmp(f->d_name + n - 4, ".npy") != 0) continue;
            snprintf(path, sizeof path, "%s/%s", dir, f->d_name);
            bool input_shaped = !strncmp(f->d_name, "input", 5) ||
                                !strncmp(f->d_name, "expected_grad_in", 16);
            const lc_shape *want = input_shaped ? &in_shape : &out_shape;
            lc_tensor *t;
            assert_ok(lc_npy_read(path, &t));
            /* the max pools' indices are float64 (integers, exact); every other file float32 */
            assert_int_equal(t->dtype, strncmp(f->d_name, "expected_indices", 16) ? LC_F32 : LC_F64);
            if (!lc_shape_equal(&t->shape, want)) fail_msg("%s: wrong shape", path);
            /* The same bytes through the buffer reader give the same tensor. */
            bytes b = slurp(path);
            lc_tensor *t2;
            assert_ok(lc_npy_read_buffer(b.data, b.len, &t2));
            assert_true(same_tensor_bits(t, t2));
            /* And writing it back gives NumPy's bytes exactly (the files are np.save output). */
            void *out;
            size_t out_len;
            assert_ok(lc_npy_write_buffer(t, &out, &out_len));
            assert_int_equal(out_len, b.len);
            assert_memory_equal(out, b.data, b.len);
            free(out);
            free(b.data);
            lc_tensor_free(t);
            lc_tensor_free(t2);
            files++;
        }
        closedir(cd);
    }
    closedir(d);
    assert_int_equal(cases, 23);
    /* s01 and s05 also carry *.torch.npy; the 13 MaxPool cases expected_indices.npy */
    assert_int_equal(files, 23 * 4 + 2 * 2 + 13);
}

typedef struct pinned {
    const char *file;
    int rank;
    int64_t dims[3];
    float first, second, last;
} pinned;

static void test_conformance_values(void **state) {
    (void)state;
    static const pinned cases[] = {
        {"tests/conformance/torch/s00_avg_ceil_overhang_pad_cip/input.npy", 3, {1, 2, 13},
         -0x1.c15c4cp+0f, 0.0f, 0x1.3720a4p-2f},
        {"tests/conformance/torch/s00_avg_ceil_overhang_pad_cip/expected_out.npy", 3, {1, 2, 5},
         -0x1.c15c4cp-2f, -0x1.62f924p-1f, -0x1.02baf6p-2f},
        {"tests/conformance/torch/s01_lp_ceil_partial_last_window/expected_out.torch.npy", 3,
         {2, 1, 6}, 0x1.7026c2p+0f, 0x1.40e9a4p+0f, 0x1.2289b8p+0f},
        {"tests/conformance/torch/s04_avg_random/input.npy", 3, {3, 7, 110}, 0x1.1902e2p-4f,
         -0x1.3403b0p-5f, 0x1.5cadb0p-4f},
        {"tests/conformance/torch/s09_lp_random/expected_out.npy", 3, {4, 5, 4}, 0x1.30fbb0p+3f,
         0x1.412deap+3f, 0x1.5a2254p+3f},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lc_tensor *t;
        assert_ok(lc_npy_read(test_source_path(cases[i].file), &t));
        assert_int_equal(t->shape.rank, cases[i].rank);
        for (int k = 0; k < 3; k++) assert_int_equal(t->shape.dim[k], cases[i].dims[k]);
        const float *v = t->data;
        int64_t n = lc_tensor_numel(t);
        assert_true(v[0] == cases[i].first);
        assert_true(v[1] == cases[i].second);
        assert_true(v[n - 1] == cases[i].last);
        lc_tensor_free(t);
    }
}

/* ---- writing: NumPy's exact bytes ---- */

/* np.save(f, np.array([[1, 2, 3], [4, 5, 6]], np.float32)) with NumPy 1.24. */
static const char NUMPY_HEADER_2x3_F32[] =
    "\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
    "                                                          \n";
static const unsigned char NUMPY_DATA_2x3_F32[24] = {
    0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x40, 0x40,
    0x00, 0x00, 0x80, 0x40, 0x00, 0x00, 0xa0, 0x40, 0x00, 0x00, 0xc0, 0x40};

static void check_written_header(lc_dtype dt, int rank, const int64_t *dims,
                                 const char *dict_and_padding) {
    lc_tensor *t;
    assert_ok(lc_tensor_new(dt, shape_of(rank, dims), &t));
    void *out;
    size_t len;
    assert_ok(lc_npy_write_buffer(t, &out, &len));
    size_t head = len - lc_tensor_nbytes(t);
    assert_int_equal(head % 64, 0);
    assert_int_equal(((unsigned char *)out)[head - 1], '\n');
    assert_int_equal(head, 10 + strlen(dict_and_padding));
    assert_memory_equal((char *)out + 10, dict_and_padding, strlen(dict_and_padding));
    assert_int_equal(((unsigned char *)out)[8] | ((unsigned char *)out)[9] << 8, head - 10);
    free(out);
    lc_tensor_free(t);
}

static void test_write_matches_numpy(void **state) {
    (void)state;
    int64_t dims[2] = {2, 3};
    double values[6] = {1, 2, 3, 4, 5, 6};
    lc_tensor *t;
    assert_ok(lc_tensor_from_doubles(LC_F32, shape_of(2, dims), values, &t));
    void *out;
    size_t len;
    assert_ok(lc_npy_write_buffer(t, &out, &len));
    assert_int_equal(len, 128 + 24);
    assert_memory_equal(out, NUMPY_HEADER_2x3_F32, 128);
    assert_memory_equal((char *)out + 128, NUMPY_DATA_2x3_F32, 24);
    free(out);
    lc_tensor_free(t);

    /* Headers of other shapes, as NumPy 1.24 writes them (all 128 bytes long). */
    check_written_header(LC_F32, 0, NULL,
                         "{'descr': '<f4', 'fortran_order': False, 'shape': (), }"
                         "                                                              \n");
    int64_t five = 5, zero = 0, six[6] = {1, 2, 3, 4, 5, 6}, three = 3;
    check_written_header(LC_F32, 1, &five,
                         "{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }"
                         "                                                            \n");
    check_written_header(LC_F32, 1, &zero,
                         "{'descr': '<f4', 'fortran_order': False, 'shape': (0,), }"
                         "                                                            \n");
    check_written_header(LC_F32, 6, six,
                         "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 3, 4, 5, 6), }"
                         "                                              \n");
    check_written_header(LC_F64, 1, &three,
                         "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }"
                         "                                                            \n");
}

/* np.save of np.float32(3.5): a rank-0 file, header and data. */
static void test_write_scalar_matches_numpy(void **state) {
    (void)state;
    lc_tensor *t;
    double v = 3.5;
    assert_ok(lc_tensor_from_doubles(LC_F32, shape_of(0, NULL), &v, &t));
    void *out;
    size_t len;
    assert_ok(lc_npy_write_buffer(t, &out, &len));
    assert_int_equal(len, 132);
    assert_memory_equal((char *)out + 128, "\x00\x00\x60\x40", 4);
    lc_tensor_free(t);
    assert_ok(lc_npy_read_buffer(out, len, &t));
    assert_int_equal(t->shape.rank, 0);
    assert_true(lc_tensor_get(t, 0) == 3.5);
    lc_tensor_free(t);
    free(out);
}

/* ---- round trips ---- */

static void round_trip(const lc_tensor *t, const char *dir) {
    void *buf;
    size_t len;
    assert_ok(lc_npy_write_buffer(t, &buf, &len));
    assert_int_equal((len - lc_tensor_nbytes(t)) % 64, 0);
    lc_tensor *back;
    assert_ok(lc_npy_read_buffer(buf, len, &back));
    assert_true(same_tensor_bits(t, back));
    lc_tensor_free(back);

    char path[512];
    snprintf(path, sizeof path, "%s/rt.npy", dir);
    assert_ok(lc_npy_write(path, t));
    bytes file = slurp(path);
    assert_int_equal(file.len, len);
    assert_memory_equal(file.data, buf, len);
    free(file.data);
    assert_ok(lc_npy_read(path, &back));
    assert_true(same_tensor_bits(t, back));
    lc_tensor_free(back);
    free(buf);
}

static void test_round_trips(void **state) {
    (void)state;
    char *dir = make_temp_dir();
    test_rng rng = test_rng_seeded(7);
    for (int dt = 0; dt < 2; dt++) {
        for (int rank = 0; rank <= LC_MAX_RANK; rank++) {
            int64_t dims[LC_MAX_RANK];
            for (int i = 0; i < rank; i++) dims[i] = test_rng_int(&rng, 1, 4);
            lc_tensor *t = test_random_tensor(&rng, dt ? LC_F64 : LC_F32, shape_of(rank, dims), 3);
            round_trip(t, dir);
            lc_tensor_free(t);
        }
        /* Zero-size tensors: any extent 0, at any position. */
        static const int64_t zero_shapes[][5] = {{1, 0}, {3, 2, 0, 5}, {3, 0, 2, 7}, {4, 0, 0, 0, 0}};
        for (int s = 0; s < 4; s++) {
            lc_tensor *t;
            assert_ok(lc_tensor_new(dt ? LC_F64 : LC_F32,
                                    shape_of((int)zero_shapes[s][0], zero_shapes[s] + 1), &t));
            assert_int_equal(lc_tensor_numel(t), 0);
            round_trip(t, dir);
            lc_tensor_free(t);
        }
        /* Values that must survive bit for bit: -0, inf, NaN, denormals, extremes. */
        int64_t six = 6;
        double specials[6] = {-0.0, INFINITY, -INFINITY, NAN, 1e-310, 1.7976931348623157e308};
        if (!dt) specials[4] = 1e-40, specials[5] = 3.4028234663852886e38;
        lc_tensor *t;
        assert_ok(lc_tensor_from_doubles(dt ? LC_F64 : LC_F32, shape_of(1, &six), specials, &t));
        round_trip(t, dir);
        lc_tensor_free(t);
    }
    assert_int_equal(count_entries(dir), 1); /* rt.npy and no temporary files */
    remove_dir(dir);
}

/* ---- versions 2.0 and 3.0 ---- */

/* NumPy's write_array(f, np.array([[1.5, -2.0, 0.25]]), version=(2, 0)): 116-byte header. */
static const char V2_DICT[] =
    "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 3), }"
    "                                                        \n";
static const double V2_DATA[3] = {1.5, -2.0, 0.25};

static void test_versions_2_and_3(void **state) {
    (void)state;
    for (int major = 2; major <= 3; major++) {
        bytes b = make_npy(major, V2_DICT, V2_DATA, sizeof V2_DATA);
        assert_int_equal(b.len, 152); /* NumPy's file is 152 bytes too */
        assert_int_equal(b.data[8], 116);
        lc_tensor *t;
        assert_ok(read_bytes(b, &t));
        assert_int_equal(t->dtype, LC_F64);
        assert_int_equal(t->shape.rank, 2);
        assert_int_equal(t->shape.dim[0], 1);
        assert_int_equal(t->shape.dim[1], 3);
        for (int i = 0; i < 3; i++) assert_true(lc_tensor_get(t, i) == V2_DATA[i]);
        lc_tensor_free(t);
    }
    /* A header longer than 65535 bytes needs the 4-byte length of version 2.0. */
    size_t pad = 70000;
    char *big = malloc(pad + 100);
    assert_non_null(big);
    int n = sprintf(big, "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }");
    memset(big + n, ' ', pad);
    strcpy(big + n + pad, "\n");
    lc_tensor *t;
    assert_ok(read_bytes(make_npy(2, big, SIX_F32, sizeof SIX_F32), &t));
    assert_int_equal(t->shape.dim[0], 6);
    lc_tensor_free(t);
    free(big);

    /* Version 3.0 headers are UTF-8: a comment with é is fine, a lone latin-1 byte is not. */
    const char *utf8 = "{'descr': '<f4', 'fortran_order': False, 'shape': (6,)} # caf\xc3\xa9\n";
    assert_ok(read_bytes(make_npy(3, utf8, SIX_F32, sizeof SIX_F32), &t));
    lc_tensor_free(t);
    const char *latin1 = "{'descr': '<f4', 'fortran_order': False, 'shape': (6,)} # caf\xe9\n";
    expect_header_fails(3, latin1, 24, LC_ERR_PARSE, "not valid UTF-8");
    /* Versions 1.0 and 2.0 are latin-1, where every byte is a character. */
    assert_ok(read_bytes(make_npy(1, latin1, SIX_F32, sizeof SIX_F32), &t));
    lc_tensor_free(t);
    /* Python 2 NumPy wrote long integers (2L) in versions 1.0 and 2.0; 3.0 never had them. */
    const char *py2 = "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }\n";
    assert_ok(read_bytes(make_npy(2, py2, SIX_F32, sizeof SIX_F32), &t));
    assert_int_equal(t->shape.dim[1], 3);
    lc_tensor_free(t);
    expect_header_fails(3, py2, 24, LC_ERR_PARSE, "only decimal integer numbers");
}

/* ---- header syntax the reader must accept ---- */

static void test_header_variants(void **state) {
    (void)state;
    const int64_t d23[2] = {2, 3}, d6[1] = {6}, d1111116[6] = {1, 1, 1, 1, 1, 6};
    expect_six_ok("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n", 2, d23);
    expect_six_ok("{'shape': (2, 3), 'descr': '<f4', 'fortran_order': False}", 2, d23);
    expect_six_ok("{'fortran_order': False, 'shape': (2, 3), 'descr': '<f4'}", 2, d23);
    expect_six_ok("{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2, 3)}", 2, d23);
    expect_six_ok("{'descr':'<f4','fortran_order':False,'shape':(2,3)}", 2, d23);
    expect_six_ok("{'descr':'<f4','fortran_order':False,'shape':(2,3,),}", 2, d23);
    expect_six_ok("  {\n\t'descr' : '<f4' ,\r\n 'fortran_order' :False,\f'shape': ( 2 , 3 ) ,\n}"
                  "   \n",
                  2, d23);
    expect_six_ok("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", 1, d6);
    expect_six_ok("{'descr': '<f4', 'fortran_order': False, 'shape': ((2, 3)), }", 2, d23);
    expect_six_ok("{'descr': u'<f4', u'fortran_order': False, 'shape': (+6,), }", 1, d6);
    expect_six_ok("{'descr': '=f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 6), }", 6,
                  d1111116);
    expect_six_ok("{'descr': '<f4', # the dtype\n 'fortran_order': False, 'shape': (6,)} # end",
                  1, d6);
    expect_six_ok("{'descr': '<f4', 'fortran_order': False, 'shape': (0006,), }", 1, d6);

    /* '<f8' and '=f8' with three doubles' worth of bytes (six floats = 24 bytes). */
    lc_tensor *t;
    assert_ok(read_bytes(six_floats("{'descr': '=f8', 'fortran_order': False, 'shape': (3,)}"),
                         &t));
    assert_int_equal(t->dtype, LC_F64);
    lc_tensor_free(t);
    assert_ok(read_bytes(six_floats("{'descr': '<f8', 'fortran_order': False, 'shape': (3,)}"),
                         &t));
    assert_int_equal(t->dtype, LC_F64);
    lc_tensor_free(t);

    /* A scalar: shape (). */
    float one = 7.0f;
    assert_ok(read_bytes(make_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': ()}",
                                  &one, 4),
                         &t));
    assert_int_equal(t->shape.rank, 0);
    assert_true(lc_tensor_get(t, 0) == 7.0);
    lc_tensor_free(t);

    /* Zero-size shapes need no data; extents after a zero still count toward overflow. */
    assert_ok(read_bytes(make_npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (0,)}",
                                  NULL, 0),
                         &t));
    assert_int_equal(t->shape.dim[0], 0);
    assert_int_equal(lc_tensor_numel(t), 0);
    lc_tensor_free(t);
    assert_ok(read_bytes(make_npy(1, "{'descr': '<f4', 'fortran_order': False, "
                                     "'shape': (5, 0, 1000000000000)}",
                                  NULL, 0),
                         &t));
    assert_int_equal(t->shape.dim[2], 1000000000000LL);
    assert_int_equal(lc_tensor_numel(t), 0);
    lc_tensor_free(t);
}

/* ---- rejections ---- */

static void test_unsupported(void **state) {
    (void)state;
    const char *tail = "'fortran_order': False, 'shape': (6,)}";
    char h[256];
    snprintf(h, sizeof h, "{'descr': '>f4', %s", tail);
    expect_header_fails(1, h, 24, LC_ERR_UNSUPPORTED,
                        "descr '>f4' is big-endian; only little-endian float32/float64 are "
                        "supported");
    snprintf(h, sizeof h, "{'descr': '>f8', %s", tail);
    expect_header_fails(1, h, 48, LC_ERR_UNSUPPORTED, "descr '>f8' is big-endian");
    snprintf(h, sizeof h, "{'descr': '!f4', %s", tail);
    expect_header_fails(1, h, 24, LC_ERR_UNSUPPORTED, "descr '!f4' is big-endian");
    static const char *others[] = {"<i4", "<i8", "|u1", "|b1", "<f2", "<c8", "|O", "<U3",
                                   "|V8", "<M8[s]", "f4", "|f4", "float32", ""};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        char want[64];
        snprintf(h, sizeof h, "{'descr': '%s', %s", others[i], tail);
        snprintf(want, sizeof want, "descr '%s' is not supported; only little-endian", others[i]);
        expect_header_fails(1, h, 24, LC_ERR_UNSUPPORTED, want);
    }
    expect_header_fails(1,
                        "{'descr': [('x', '<f4'), ('y', '<f4', (2,))], 'fortran_order': False, "
                        "'shape': (6,)}",
                        24, LC_ERR_UNSUPPORTED, "structured dtype");
    expect_header_fails(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3)}", 24,
                        LC_ERR_UNSUPPORTED, "fortran_order is True");
    expect_header_fails(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,6)}",
                        24, LC_ERR_UNSUPPORTED, "shape has 7 dimensions; at most 6");

    /* Format versions other than 1.0, 2.0 and 3.0. */
    static const unsigned char versions[][2] = {{4, 0}, {1, 1}, {0, 0}, {255, 255}};
    for (int i = 0; i < 4; i++) {
        bytes b = six_floats("{'descr': '<f4', 'fortran_order': False, 'shape': (6,)}");
        b.data[6] = versions[i][0];
        b.data[7] = versions[i][1];
        char want[64];
        snprintf(want, sizeof want, "format version %d.%d is not supported", versions[i][0],
                 versions[i][1]);
        lc_tensor *t;
        assert_fails(read_bytes(b, &t), LC_ERR_UNSUPPORTED, want);
    }
}

static void test_parse_errors(void **state) {
    (void)state;
    /* Bad magic and truncations in the prefix. */
    static const struct {
        const char *data;
        size_t len;
        const char *needle;
    } prefixes[] = {
        {"", 0, "truncated header"},
        {"\x93NUM", 4, "truncated header"},
        {"\x93NUMPY\x01", 7, "truncated header"},
        {"\x93NUMPY\x01\x00\x10", 9, "too short for the header length"},
        {"\x93NUMPY\x02\x00\x10\x00\x00", 11, "too short for the header length"},
        {"\x93NUMPY\x01\x00\x10\x00{'d", 13, "claims 16 bytes but only 3 follow"},
        {"\x93NUMPY\x02\x00\xff\xff\xff\xff{", 13, "claims 4294967295 bytes"},
        {"PK\x03\x04", 4, "not a .npy file"},
        {"\x93NUMPX\x01\x00", 8, "not a .npy file"},
        {"NUMPY\x01\x00", 7, "not a .npy file"},
    };
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        lc_tensor *t = (lc_tensor *)1;
        assert_fails(lc_npy_read_buffer(prefixes[i].data, prefixes[i].len, &t), LC_ERR_PARSE,
                     prefixes[i].needle);
        assert_null(t);
    }
    lc_tensor *t;
    assert_fails(lc_npy_read_buffer(NULL, 0, &t), LC_ERR_PARSE, "npy: truncated header");

    /* Headers that do not parse, or lack what they must hold. */
    static const struct {
        const char *header;
        const char *needle;
    } bad[] = {
        {"", "must be a Python dict literal"},
        {"   \n", "must be a Python dict literal"},
        {"['descr', '<f4']", "must be a Python dict literal"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (6,)", "expected ',' or '}'"},
        {"{'descr' '<f4', 'fortran_order': False, 'shape': (6,)}", "expected ':' after a key"},
        {"{'descr': '<f4, 'fortran_order': False, 'shape': (6,)}", "header does not parse"},
        {"{'descr': '<f4\n', 'fortran_order': False, 'shape': (6,)}", "unterminated string"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (6,)} x", "unexpected text after"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (6,)}}", "unexpected text after"},
        {"{'descr': '<f4', 'fortran_order': false, 'shape': (6,)}", "unknown name"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (6.0,)}", "only decimal integer"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (0x6,)}", "only decimal integer"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (6 3)}", "expected ',' or ')'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (,)}", "unexpected character ','"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (-,)}", "expected digits"},
        {"{'descr': '\\x3cf4', 'fortran_order': False, 'shape': (6,)}", "escape sequences"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': {6}}", "expected ':' after a key"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': \x01(6,)}", "unexpected byte 0x01"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (6,)} \xff", "unexpected text after"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (\xff,)}", "unexpected byte 0xff"},
        {"{'descr': '<f4', 'fortran_order': False}", "lacks the key 'shape'"},
        {"{'descr': '<f4', 'shape': (6,)}", "lacks the key 'fortran_order'"},
        {"{'fortran_order': False, 'shape': (6,)}", "lacks the key 'descr'"},
        {"{}", "lacks the key 'descr'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'extra': 1}",
         "unexpected key 'extra' at byte 66"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 5: 1}", "keys must be strings"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'shape': (6,)}",
         "key 'shape' appears twice"},
        {"{'descr': '<f4', 'fortran_order': 0, 'shape': (6,)}", "fortran_order must be True or "
                                                                "False, got an integer"},
        {"{'descr': 5, 'fortran_order': False, 'shape': (6,)}", "descr must be a string"},
        {"{'descr': None, 'fortran_order': False, 'shape': (6,)}", "descr must be a string"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': [6]}",
         "shape must be a tuple of integers, got a list"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (6)}",
         "shape must be a tuple of integers, got an integer"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': 6}",
         "shape must be a tuple of integers, got an integer"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (6, '1')}", "a non-integer item"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (6, None)}", "a non-integer item"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (-6,)}", "negative dimension"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (3, -2, -1)}", "negative dimension"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (-99999999999999999999,)}",
         "negative dimension"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}",
         "does not fit in 64 bits"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (9223372036854775808,)}",
         "does not fit in 64 bits"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_header_fails(1, bad[i].header, 24, LC_ERR_PARSE, bad[i].needle);

    /* The position in messages is the byte offset in the file (the header starts at 10). */
    expect_header_fails(1, "{'descr' '<f4'}", 24, LC_ERR_PARSE,
                        "npy: header does not parse at byte 19: expected ':' after a key");
    expect_header_fails(2, "{'descr' '<f4'}", 24, LC_ERR_PARSE, "at byte 21");

    /* A NUL byte inside the header. */
    bytes b = six_floats("{'descr': '<f4', 'fortran_order': False, 'shape': (6,)}  ");
    b.data[10 + 56] = '\0';
    assert_fails(read_bytes(b, &t), LC_ERR_PARSE, "a NUL byte");

    /* Deep nesting is refused, not recursed into without bound. */
    char deep[4200];
    int n = sprintf(deep, "{'descr': ");
    for (int i = 0; i < 2000; i++) deep[n++] = '[';
    for (int i = 0; i < 2000; i++) deep[n++] = ']';
    sprintf(deep + n, ", 'fortran_order': False, 'shape': (6,)}");
    expect_header_fails(1, deep, 24, LC_ERR_PARSE, "nested too deeply");
    /* Moderate nesting in a structured descr is parsed and then refused as unsupported. */
    expect_header_fails(1, "{'descr': [('a', [('b', [('c', '<f4')])])], 'fortran_order': False,"
                           " 'shape': (6,)}",
                        24, LC_ERR_UNSUPPORTED, "structured dtype");
}

static void test_sizes(void **state) {
    (void)state;
    /* Element counts that overflow: rejected before any allocation (4 TB would be NOMEM). */
    expect_header_fails(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776,)}",
                        24, LC_ERR_PARSE, "data are truncated: shape (1099511627776,) of '<f4' "
                                          "needs 4398046511104 bytes, only 24 follow the header");
    expect_header_fails(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, "
                           "4294967296)}",
                        24, LC_ERR_PARSE,
                        "shape (4294967296, 4294967296) has an element count that overflows: its 4-byte elements "
                        "need more than 9223372036854775807 bytes, the most an array may hold");
    expect_header_fails(1, "{'descr': '<f8', 'fortran_order': False, 'shape': "
                           "(9223372036854775807,)}",
                        24, LC_ERR_PARSE, "element count that overflows");
    expect_header_fails(1, "{'descr': '<f4', 'fortran_order': False, 'shape': "
                           "(0, 9223372036854775807)}",
                        0, LC_ERR_PARSE, "element count that overflows");
    expect_header_fails(1, "{'descr': '<f4', 'fortran_order': False, 'shape': "
                           "(2, 2, 2, 2, 2, 288230376151711744)}",
                        0, LC_ERR_PARSE, "element count that overflows");

    /* Data shorter than the shape needs (a lying header), and trailing bytes. */
    expect_header_fails(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (7,)}", 24,
                        LC_ERR_PARSE, "data are truncated: shape (7,) of '<f4' needs 28 bytes, "
                                      "only 24 follow the header");
    expect_header_fails(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3)}", 24,
                        LC_ERR_PARSE, "needs 48 bytes, only 24 follow");
    expect_header_fails(1, "{'descr': '<f4', 'fortran_order': False, 'shape': ()}", 0,
                        LC_ERR_PARSE, "data are truncated: shape () of '<f4' needs 4 bytes");
    expect_header_fails(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (5,)}", 24,
                        LC_ERR_PARSE, "4 trailing bytes after the data (shape (5,) of '<f4' "
                                      "needs 20 bytes)");
    expect_header_fails(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3)}", 1,
                        LC_ERR_PARSE, "1 trailing bytes");

    /* Every truncation of a valid file fails as truncated (header or data), never crashes. */
    void *full;
    size_t len;
    int64_t d23[2] = {2, 3};
    lc_tensor *t;
    assert_ok(lc_tensor_new(LC_F64, shape_of(2, d23), &t));
    assert_ok(lc_npy_write_buffer(t, &full, &len));
    lc_tensor_free(t);
    for (size_t cut = 0; cut < len; cut++) {
        unsigned char *copy = malloc(cut ? cut : 1);
        memcpy(copy, full, cut);
        lc_tensor *r = (lc_tensor *)1;
        lc_status st = lc_npy_read_buffer(copy, cut, &r);
        assert_int_equal(st, LC_ERR_PARSE);
        assert_null(r);
        assert_true(strstr(lc_last_error(), "truncated") || strstr(lc_last_error(), "parse"));
        free(copy);
    }
    free(full);
}

/* ---- files ---- */

typedef struct fifo_job {
    const char *path;
    bytes data;
} fifo_job;

static void *fifo_writer(void *arg) {
    fifo_job *job = arg;
    FILE *f = fopen(job->path, "wb");
    if (f) {
        fwrite(job->data.data, 1, job->data.len, f);
        fclose(f);
    }
    return NULL;
}

static void test_file_errors(void **state) {
    (void)state;
    char *dir = make_temp_dir();
    char path[512], want[600];
    lc_tensor *t = (lc_tensor *)1;

    snprintf(path, sizeof path, "%s/missing.npy", dir);
    snprintf(want, sizeof want, "%s: cannot open for reading: No such file or directory", path);
    assert_fails(lc_npy_read(path, &t), LC_ERR_IO, want);
    assert_null(t);

    snprintf(want, sizeof want, "%s: cannot read: Is a directory", dir);
    assert_fails(lc_npy_read(dir, &t), LC_ERR_IO, want);

    /* Content errors from a file carry its path as the prefix. */
    snprintf(path, sizeof path, "%s/input.npy", dir);
    bytes b = six_floats("{'descr': '>f4', 'fortran_order': False, 'shape': (6,)}");
    spit(path, b.data, b.len);
    free(b.data);
    snprintf(want, sizeof want,
             "%s: descr '>f4' is big-endian; only little-endian float32/float64 are supported",
             path);
    assert_fails(lc_npy_read(path, &t), LC_ERR_UNSUPPORTED, want);
    assert_string_equal(lc_last_error(), want);

    b = six_floats("{'descr': '<f4', 'fortran_order': False, 'shape': (7,)}");
    spit(path, b.data, b.len);
    free(b.data);
    assert_fails(lc_npy_read(path, &t), LC_ERR_PARSE, "needs 28 bytes, only 24 follow");
    b = six_floats("{'descr': '<f4', 'fortran_order': False, 'shape': (5,)}");
    spit(path, b.data, b.len);
    free(b.data);
    assert_fails(lc_npy_read(path, &t), LC_ERR_PARSE, "4 trailing bytes after the data");
    b = six_floats("{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776,)}");
    spit(path, b.data, b.len);
    free(b.data);
    assert_fails(lc_npy_read(path, &t), LC_ERR_PARSE, "data are truncated");
    spit(path, "\x93NUMPY\x01\x00\x40\x00{", 11);
    assert_fails(lc_npy_read(path, &t), LC_ERR_PARSE, "truncated header");
    spit(path, "", 0);
    assert_fails(lc_npy_read(path, &t), LC_ERR_PARSE, "truncated header: 0 bytes");
    /* A version 1.0 header of length 0 or 1: the prefix read covers part of the data. */
    spit(path, "\x93NUMPY\x01\x00\x00\x00\x00\x00", 12);
    assert_fails(lc_npy_read(path, &t), LC_ERR_PARSE, "must be a Python dict literal");

    /* Valid file through the file reader, then through a pipe (not a regular file). */
    b = six_floats("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}");
    spit(path, b.data, b.len);
    assert_ok(lc_npy_read(path, &t));
    assert_true(lc_tensor_get(t, 5) == 6.0);
    lc_tensor_free(t);
    snprintf(path, sizeof path, "%s/pipe", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    fifo_job job = {path, b};
    pthread_t writer;
    assert_int_equal(pthread_create(&writer, NULL, fifo_writer, &job), 0);
    assert_ok(lc_npy_read(path, &t));
    pthread_join(writer, NULL);
    assert_int_equal(t->shape.dim[1], 3);
    assert_true(lc_tensor_get(t, 4) == 5.0);
    lc_tensor_free(t);
    /* A pipe carrying trailing bytes is refused like a file. */
    job.data.len = b.len - 3;
    assert_int_equal(pthread_create(&writer, NULL, fifo_writer, &job), 0);
    assert_fails(lc_npy_read(path, &t), LC_ERR_PARSE, "data are truncated");
    pthread_join(writer, NULL);
    free(b.data);

    if (geteuid() != 0) { /* root reads anything */
        snprintf(path, sizeof path, "%s/locked.npy", dir);
        spit(path, "x", 1);
        assert_int_equal(chmod(path, 0), 0);
        assert_fails(lc_npy_read(path, &t), LC_ERR_IO, "Permission denied");
    }
    remove_dir(dir);
}

static void test_atomic_write(void **state) {
    (void)state;
    char *dir = make_temp_dir();
    char path[512], want[600];
    int64_t d23[2] = {2, 3};
    double values[6] = {1, 2, 3, 4, 5, 6};
    lc_tensor *t;
    assert_ok(lc_tensor_from_doubles(LC_F32, shape_of(2, d23), values, &t));

    /* A directory that does not exist: I/O error naming the path, nothing created. */
    snprintf(path, sizeof path, "%s/no/such/dir/out.npy", dir);
    snprintf(want, sizeof want, "%s: cannot create a temporary file beside it: No such file or "
                                "directory", path);
    assert_fails(lc_npy_write(path, t), LC_ERR_IO, want);
    assert_int_equal(count_entries(dir), 0);

    /* Over an existing, larger file: replaced whole (NumPy's 152 bytes, nothing of the old). */
    snprintf(path, sizeof path, "%s/out.npy", dir);
    char junk[10000];
    memset(junk, 'J', sizeof junk);
    spit(path, junk, sizeof junk);
    assert_ok(lc_npy_write(path, t));
    bytes got = slurp(path);
    assert_int_equal(got.len, 152);
    assert_memory_equal(got.data, NUMPY_HEADER_2x3_F32, 128);
    assert_memory_equal(got.data + 128, NUMPY_DATA_2x3_F32, 24);
    free(got.data);
    assert_int_equal(count_entries(dir), 1);
    /* The file gets the permissions a plain create would give (0666 less the umask). */
    mode_t mask = umask(022);
    umask(mask);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0666 & ~mask);

    /* The target is a directory: the rename fails and the temporary file is removed. */
    snprintf(path, sizeof path, "%s/adir", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_fails(lc_npy_write(path, t), LC_ERR_IO, "cannot rename the temporary file over it");
    assert_true(strstr(lc_last_error(), path) == lc_last_error());
    assert_int_equal(count_entries(dir), 2); /* out.npy and adir only */
    assert_int_equal(rmdir(path), 0);

    /* A write that fails half way (file size limit): old target intact, no temporary left. */
    snprintf(path, sizeof path, "%s/out.npy", dir);
    int64_t many = 100000;
    lc_tensor *big;
    assert_ok(lc_tensor_new(LC_F64, shape_of(1, &many), &big));
    struct rlimit old_limit, limit;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
    limit = old_limit;
    limit.rlim_cur = 4096;
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &limit), 0);
    lc_status st = lc_npy_write(path, big);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old_limit), 0);
    signal(SIGXFSZ, old_handler);
    assert_int_equal(st, LC_ERR_IO);
    assert_non_null(strstr(lc_last_error(), "write failed: File too large"));
    assert_int_equal(count_entries(dir), 1);
    got = slurp(path);
    assert_int_equal(got.len, 152); /* still the previous content */
    free(got.data);
    lc_tensor_free(big);

    if (geteuid() != 0) { /* root writes anywhere */
        snprintf(path, sizeof path, "%s/ro", dir);
        assert_int_equal(mkdir(path, 0500), 0);
        strcat(path, "/x.npy");
        assert_fails(lc_npy_write(path, t), LC_ERR_IO, "Permission denied");
        path[strlen(path) - 6] = '\0';
        assert_int_equal(rmdir(path), 0);
    }
    lc_tensor_free(t);
    remove_dir(dir);
}

static void test_bad_arguments(void **state) {
    (void)state;
    lc_tensor *t;
    void *buf;
    size_t len;
    assert_fails(lc_npy_read(NULL, &t), LC_ERR_INVALID_ARG, "path is NULL");
    assert_fails(lc_npy_read("x.npy", NULL), LC_ERR_INVALID_ARG, "out is NULL");
    assert_fails(lc_npy_read_buffer(NULL, 5, &t), LC_ERR_INVALID_ARG, "bytes is NULL");
    assert_fails(lc_npy_read_buffer("x", 1, NULL), LC_ERR_INVALID_ARG, "out is NULL");
    assert_fails(lc_npy_write_buffer(NULL, &buf, &len), LC_ERR_INVALID_ARG,
                 "npy write: tensor is NULL");
    assert_fails(lc_npy_write("/tmp/never.npy", NULL), LC_ERR_INVALID_ARG,
                 "/tmp/never.npy: tensor is NULL");
    assert_int_equal(access("/tmp/never.npy", F_OK), -1);
    assert_ok(lc_tensor_new(LC_F32, shape_of(0, NULL), &t));
    assert_fails(lc_npy_write_buffer(t, NULL, &len), LC_ERR_INVALID_ARG, "NULL");
    t->dtype = (lc_dtype)7;
    assert_fails(lc_npy_write_buffer(t, &buf, &len), LC_ERR_INVALID_ARG,
                 "dtype must be f32 or f64, got 7");
    t->dtype = LC_F32;
    t->shape.rank = 7;
    assert_fails(lc_npy_write_buffer(t, &buf, &len), LC_ERR_INVALID_ARG, "rank must be");
    t->shape.rank = 1;
    t->shape.dim[0] = -1;
    assert_fails(lc_npy_write_buffer(t, &buf, &len), LC_ERR_INVALID_ARG,
                 "dimension 0 is negative");
    t->shape.rank = 0;
    lc_tensor_free(t);
}

/* ---- robustness: deterministic mutations of valid files ---- */

static void check_any_outcome(const unsigned char *data, size_t len, int *ok, int *failed) {
    /* An exact-size heap copy, so any read past the end is caught by ASan or valgrind. */
    unsigned char *copy = malloc(len ? len : 1);
    memcpy(copy, data, len);
    lc_tensor *t = (lc_tensor *)1;
    lc_clear_error();
    lc_status st = lc_npy_read_buffer(copy, len, &t);
    if (st == LC_OK) {
        assert_non_null(t);
        assert_true(lc_tensor_nbytes(t) <= len);
        (void)lc_tensor_numel(t);
        lc_tensor_free(t);
        (*ok)++;
    } else {
        assert_true(st == LC_ERR_PARSE || st == LC_ERR_UNSUPPORTED);
        assert_null(t);
        assert_true(strlen(lc_last_error()) > 0);
        (*failed)++;
    }
    free(copy);
}

static void test_mutations(void **state) {
    (void)state;
    bytes seeds[6];
    int n_seeds = 0;
    seeds[n_seeds++] = make_npy(1, NUMPY_HEADER_2x3_F32 + 10, NUMPY_DATA_2x3_F32, 24);
    seeds[n_seeds++] = make_npy(2, V2_DICT, V2_DATA, sizeof V2_DATA);
    seeds[n_seeds++] = make_npy(3, "{'descr': [('a', '<f4')], 'fortran_order': False, "
                                   "'shape': (2, (3,), [4]), 'x': {'y': None, 1: True}}\n",
                                NULL, 0);
    seeds[n_seeds++] = make_npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 4), }\n",
                                NULL, 0);
    seeds[n_seeds++] = make_npy(1, "{\"shape\":(),\"descr\":\"<f4\",\"fortran_order\":False} # c\n",
                                "\0\0\x80\x3f", 4);
    seeds[n_seeds++] = slurp(
        test_source_path("tests/conformance/torch/s00_avg_ceil_overhang_pad_cip/input.npy"));

    static const char tokens[] = "{}()[],:'\" \n#-0123456789LTFN<>=|fi\x93\xff";
    test_rng rng = test_rng_seeded(20261121);
    int ok = 0, failed = 0;
    unsigned char buf[512];
    for (int iter = 0; iter < 40000; iter++) {
        const bytes *s = &seeds[iter % n_seeds];
        size_t len = s->len < sizeof buf ? s->len : sizeof buf;
        memcpy(buf, s->data, len);
        int mutation = (int)test_rng_int(&rng, 0, 5);
        /* Mostly one change, sometimes a few; mostly inside the header text, where the
         * parsing is (the prefix is bytes 0..11, the header follows up to about byte 140). */
        int hits = test_rng_int(&rng, 0, 3) == 0 ? (int)test_rng_int(&rng, 2, 4) : 1;
        for (int h = 0; h < hits; h++) {
            size_t at = (size_t)test_rng_int(&rng, 0, (int64_t)len - 1);
            if (test_rng_int(&rng, 0, 3) != 0 && len > 12)
                at = 10 + (size_t)test_rng_int(&rng, 0, (int64_t)(len < 140 ? len : 140) - 11);
            switch (mutation) {
            case 0: /* truncate, or cut one byte near the end */
                len = test_rng_int(&rng, 0, 1) ? at : len - 1;
                break;
            case 1: /* random byte */
                buf[at] = (unsigned char)test_rng_int(&rng, 0, 255);
                break;
            case 2: /* a byte from the header alphabet */
                buf[at] = (unsigned char)tokens[test_rng_int(&rng, 0, sizeof tokens - 2)];
                break;
            case 3: /* delete a byte */
                if (len > 0) {
                    memmove(buf + at, buf + at + 1, len - at - 1);
                    len--;
                }
                break;
            case 4: /* insert a byte */
                if (len < sizeof buf) {
                    memmove(buf + at + 1, buf + at, len - at);
                    buf[at] = (unsigned char)tokens[test_rng_int(&rng, 0, sizeof tokens - 2)];
                    len++;
                }
                break;
            default: /* the version or the header length field */
                buf[6 + test_rng_int(&rng, 0, 5) % (len > 6 ? 6 : 1)] =
                    (unsigned char)test_rng_int(&rng, 0, 255);
                break;
            }
            if (len == 0) break;
        }
        check_any_outcome(buf, len, &ok, &failed);
    }
    /* The loop must exercise both outcomes, not just fail at the magic every time. */
    print_message("mutations: %d read, %d refused\n", ok, failed);
    assert_true(ok > 500);
    assert_true(failed > 20000);
    for (int i = 0; i < n_seeds; i++) free(seeds[i].data);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conformance_files),
        cmocka_unit_test(test_conformance_values),
        cmocka_unit_test(test_write_matches_numpy),
        cmocka_unit_test(test_write_scalar_matches_numpy),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_versions_2_and_3),
        cmocka_unit_test(test_header_variants),
        cmocka_unit_test(test_unsupported),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_atomic_write),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
