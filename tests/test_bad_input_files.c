/* Bad files and texts at the API boundary: .npy files written by NumPy itself that
 * Lucid must refuse (big-endian, Fortran order, integer, half, structured, 7-D) or that lie
 * (truncated data, a header length or shape the data do not back, trailing bytes, an element
 * count that overflows), read through lc_npy_read with status and reason pinned; and
 * malformed model specs and text IR that stress the parsers' limits (huge numbers, very long
 * names, deep nesting, stray bytes, embedded NUL, many modules). The files are the .npy seeds
 * of the fuzz corpus (tests/fuzz/corpus/npy, made by numpy; see tests/fuzz/README.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lucid/model_spec.h"
#include "lucid/npy.h"
#include "support/testutil.h"

static const char *corpus(const char *name) {
    static char path[1024];
    snprintf(path, sizeof path, "%s/tests/fuzz/corpus/npy/%s", LUCID_SOURCE_DIR, name);
    return path;
}

static void test_npy_files_refused(void **state) {
    (void)state;
    static const struct {
        const char *file;
        lc_status status;
        const char *reason;
    } cases[] = {
        {"big_endian.npy", LC_ERR_UNSUPPORTED, "descr '>f4' is big-endian; only little-endian float32/float64 are supported"},
        {"fortran.npy", LC_ERR_UNSUPPORTED, "fortran_order is True (column-major data); only C-order arrays are supported"},
        {"int32.npy", LC_ERR_UNSUPPORTED, "descr '<i4' is not supported"},
        {"f2.npy", LC_ERR_UNSUPPORTED, "descr '<f2' is not supported"},
        {"structured.npy", LC_ERR_UNSUPPORTED, "structured dtype"},
        {"rank7.npy", LC_ERR_UNSUPPORTED, "shape has 7 dimensions; at most 6 are supported"},
        {"truncated.npy", LC_ERR_PARSE, "data are truncated: shape (10,) of '<f4' needs 40 bytes, only 35 follow the header"},
        {"trailing.npy", LC_ERR_PARSE, "4 trailing bytes after the data"},
        {"lying_shape.npy", LC_ERR_PARSE, "shape (1000,) of '<f4' needs 4000 bytes, only 42 follow the header"},
        {"lying_header_len.npy", LC_ERR_PARSE, "truncated header: it claims 60000 bytes but only 158 follow the prefix"},
        {"overflow_shape.npy", LC_ERR_PARSE, "shape (4294967296, 4294967296, 4) has an element count that overflows"},
        {"magic_only.npy", LC_ERR_PARSE, "truncated header: 6 bytes, too short for the magic and version"},
        {"empty.npy", LC_ERR_PARSE, "truncated header: 0 bytes"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lc_tensor *t = (lc_tensor *)0x1;
        lc_clear_error();
        lc_status st = lc_npy_read(corpus(cases[i].file), &t);
        if (st == LC_ERR_IO && strstr(lc_last_error(), "No such file"))
            fail_msg("%s is missing from the corpus", cases[i].file);
        if (st != cases[i].status)
            fail_msg("%s: got %s (%s), want %s", cases[i].file, lc_status_str(st), lc_last_error(),
                     lc_status_str(cases[i].status));
        assert_null(t);
        if (!strstr(lc_last_error(), cases[i].reason))
            fail_msg("%s: message \"%s\" lacks \"%s\"", cases[i].file, lc_last_error(), cases[i].reason);
        /* File messages name the file. */
        if (!strstr(lc_last_error(), cases[i].file))
            fail_msg("%s: message \"%s\" does not name the file", cases[i].file, lc_last_error());
    }
}

/* The ones NumPy wrote that Lucid reads, with their values. */
static void test_npy_files_read(void **state) {
    (void)state;
    lc_tensor *t;
    assert_ok(lc_npy_read(corpus("zero_size.npy"), &t));
    assert_int_equal(t->shape.rank, 3);
    assert_int_equal(t->shape.dim[0], 0);
    assert_int_equal(t->shape.dim[1], 3);
    assert_int_equal(t->shape.dim[2], 7);
    assert_int_equal(lc_tensor_numel(t), 0);
    lc_tensor_free(t);
    assert_ok(lc_npy_read(corpus("specials.npy"), &t));
    assert_int_equal(t->dtype, LC_F32);
    const double want[] = {NAN, INFINITY, -INFINITY, -0.0, 1.401298464324817e-45};
    assert_values_close(t, want, 5, 0, 0);
    lc_tensor_free(t);
    assert_ok(lc_npy_read(corpus("f8_v3.npy"), &t)); /* format 3.0 */
    const double range[] = {0, 1, 2, 3};
    assert_values_close(t, range, 4, 0, 0);
    lc_tensor_free(t);
    assert_ok(lc_npy_read(corpus("scalar.npy"), &t));
    assert_int_equal(t->shape.rank, 0);
    assert_true(lc_tensor_get(t, 0) == 2.5);
    lc_tensor_free(t);
}

static char *repeat(const char *piece, size_t times, const char *head, const char *tail) {
    size_t n = strlen(piece) * times + strlen(head) + strlen(tail) + 1;
    char *s = malloc(n);
    assert_non_null(s);
    strcpy(s, head);
    for (size_t i = 0; i < times; i++) strcat(s, piece);
    strcat(s, tail);
    return s;
}

/* Parse `text` as a model file: must fail with a message, leave no module. */
static void model_fails(const char *text, const char *needle) {
    lc_module *m = (lc_module *)0x1;
    lc_clear_error();
    lc_status st = lc_model_parse(text, "m.txt", &m);
    if (st == LC_OK) fail_msg("model text \"%.60s...\" parsed", text);
    assert_null(m);
    if (!strstr(lc_last_error(), needle))
        fail_msg("model text \"%.60s\": message \"%s\" lacks \"%s\"", text, lc_last_error(), needle);
}

static void test_model_text_limits(void **state) {
    (void)state;
    model_fails("AvgPool1d(99999999999999999999)", "m.txt:1:");
    model_fails("AvgPool1d(-9223372036854775809)", "m.txt:1:");
    model_fails("LPPool1d(1e999, 2)", "m.txt:1:");
    model_fails("AvgPool1d(kernel_size=3.0)", "kernel_size");
    model_fails("AvgPool1d(2, stride=-1)", "AvgPool1d: stride must be >= 1, got -1");
    model_fails("LPPool1d(nan, 2)", "LPPool1d: norm_type must be finite and > 0, got nan");
    model_fails("LPPool1d(-inf, 2)", "norm_type");
    model_fails("AvgPool1d(((2,)))", "m.txt:1:");
    model_fails("AvgPool1d(2", "m.txt:1:");
    model_fails("AvgPool1d 2)", "m.txt:1:");
    model_fails("\xff\xfe" "AvgPool1d(2)", "m.txt:1:1");
    model_fails("AvgPool1d(2)\x01", "m.txt:1:");
    model_fails("AvgPool1d(2, 'x')", "m.txt:1:");
    model_fails("AvgPool1d(\"2\")", "m.txt:1:");
    model_fails("", "m.txt");
    model_fails("# nothing but a comment\n", "m.txt");
    /* A name of 100k letters, and 10k nested parentheses: refused, no stack overflow. */
    char *long_name = repeat("A", 100000, "", "(2)");
    model_fails(long_name, "m.txt:1:1");
    free(long_name);
    char *nested = repeat("(", 10000, "AvgPool1d(", "2)");
    model_fails(nested, "m.txt:1:");
    free(nested);
    char *many_args = repeat("1, ", 10000, "AvgPool1d(", "1)");
    model_fails(many_args, "AvgPool1d");
    free(many_args);
    /* An embedded NUL ends the text (the C API takes strings): what precedes it is parsed. */
    static const char with_nul[] = "AvgPool1d(2)\0garbage(";
    lc_module *m = NULL;
    assert_ok(lc_model_parse(with_nul, "m.txt", &m));
    lc_module_free(m);
    /* Many calls make one big Sequential. */
    char *lots = repeat("AvgPool1d(1)\n", 5000, "", "");
    assert_ok(lc_model_parse(lots, "m.txt", &m));
    assert_int_equal(lc_sequential_count(m), 5000);
    lc_module_free(m);
    free(lots);
    /* --module holds exactly one call. */
    m = (lc_module *)0x1;
    assert_int_not_equal(lc_model_parse_call("AvgPool1d(2)\nAvgPool1d(2)", "--module 1", &m), LC_OK);
    assert_null(m);
}

static void ir_fails(const char *text, const char *needle) {
    lc_graph *g = (lc_graph *)0x1;
    lc_clear_error();
    lc_status st = lc_graph_parse(text, &g);
    if (st == LC_OK) fail_msg("IR text \"%.60s...\" parsed", text);
    assert_null(g);
    if (!strstr(lc_last_error(), needle))
        fail_msg("IR text \"%.60s\": message \"%s\" lacks \"%s\"", text, lc_last_error(), needle);
}

#define HEAD "graph {\n  %0 = input \"x\" : f32[2,8]\n"
static void test_ir_text_limits(void **state) {
    (void)state;
    /* (unfold with pad_lo = 2^63 - 1 overflows int64 inside shape_infer.c: reported, kept in
     * tests/fuzz/findings/text_ir/unfold_pad_lo_max until fixed.) */
    ir_fails(HEAD "  %1 = unfold(%0) dim=1 size=9223372036854775807 step=1 pad_lo=0 pad_hi=0 : f32[2,1,2]\n}\n", "3:");
    ir_fails(HEAD "  %1 = expand(%0) dim=0 size=9223372036854775807 : f32[9223372036854775807,2,8]\n}\n", "3:");
    ir_fails(HEAD "  %1 = pow(%0) zero_pole=0 exponent=nan : f32[2,8]\n}\n", "3:");
    ir_fails(HEAD "  %1 = sum(%0) dim=-1 : f32[2]\n}\n", "3:");
    ir_fails(HEAD "  %99999999999 = abs(%0) : f32[2,8]\n}\n", "3:");
    ir_fails(HEAD "  %1 = abs(%99999999999999999999) : f32[2,8]\n}\n", "3:");
    ir_fails("graph {\n  %0 = input : f32[2,8]\xff\n}\n", "2:");
    ir_fails("graph {\n  %0 = input : f32[2,8]\n  output %0\n", "4:1");
    /* A 100k-character name is fine; a 100k-deep type is refused. */
    char *long_name = repeat("n", 100000, "graph {\n  %0 = input \"", "\" : f32[2]\n  output %0\n}\n");
    lc_graph *g = NULL;
    assert_ok(lc_graph_parse(long_name, &g));
    assert_int_equal(strlen(lc_graph_node(g, 0)->name), 100000);
    lc_graph_free(g);
    free(long_name);
    char *deep = repeat("[", 100000, "graph {\n  %0 = input : f32", "]\n}\n");
    ir_fails(deep, "2:");
    free(deep);
    char *many_dims = repeat("1,", 100000, "graph {\n  %0 = input : f32[", "1]\n}\n");
    ir_fails(many_dims, "rank exceeds 6");
    free(many_dims);
    /* A constant with 100k values parses, and a count mismatch by one is refused. */
    char *values = repeat("0.5, ", 99999, "graph {\n  %0 = constant [", "1] : f64[100000]\n  output %0\n}\n");
    assert_ok(lc_graph_parse(values, &g));
    lc_graph_free(g);
    free(values);
    values = repeat("0.5, ", 99999, "graph {\n  %0 = constant [", "1] : f64[100001]\n}\n");
    ir_fails(values, "100000 values given, type f64[100001] needs 100001");
    free(values);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_npy_files_refused),
        cmocka_unit_test(test_npy_files_read),
        cmocka_unit_test(test_model_text_limits),
        cmocka_unit_test(test_ir_text_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
