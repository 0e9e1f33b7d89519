/* The model-spec parser (docs/model-spec.md): accepted forms pinned by the resolved
 * module parameters and reprs, every rejection by status and message (module, parameter,
 * value and place), and a random-text sweep that must never crash or leak. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lucid/model_spec.h"
#include "support/testutil.h"

static char *repr_of(const char *text) {
    lc_module *m = NULL;
    assert_ok(lc_model_parse(text, "model.txt", &m));
    char *s = NULL;
    assert_ok(lc_module_repr(m, &s));
    lc_module_free(m);
    return s;
}

static void assert_repr(const char *text, const char *want) {
    char *got = repr_of(text);
    if (strcmp(got, want) != 0) fail_msg("spec \"%s\" gave %s, want %s", text, got, want);
    free(got);
}

/* lc_model_parse_call fails with `status` and exactly `message`. */
static void assert_call_error(const char *text, lc_status status, const char *message) {
    lc_module *m = (lc_module *)0x1;
    lc_status st = lc_model_parse_call(text, "--module 1", &m);
    if (st != status)
        fail_msg("spec \"%s\": got %s (%s), want %s", text, lc_status_str(st), lc_last_error(),
                 lc_status_str(status));
    assert_null(m);
    if (strcmp(lc_last_error(), message) != 0)
        fail_msg("spec \"%s\":\n got  \"%s\"\n want \"%s\"", text, lc_last_error(), message);
}

static void assert_file_error(const char *text, const char *message) {
    lc_module *m = (lc_module *)0x1;
    lc_status st = lc_model_parse(text, "model.txt", &m);
    if (st == LC_OK) fail_msg("spec \"%s\" parsed, want an error", text);
    assert_null(m);
    if (strcmp(lc_last_error(), message) != 0)
        fail_msg("spec \"%s\":\n got  \"%s\"\n want \"%s\"", text, lc_last_error(), message);
}

static void test_positional_and_keyword(void **state) {
    (void)state;
    assert_repr("LPPool1d(2, 4)", "LPPool1d(norm_type=2, kernel_size=4, stride=4, ceil_mode=False)");
    assert_repr("nn.AvgPool1d(kernel_size=3, stride=1, padding=1, count_include_pad=False)",
                "AvgPool1d(kernel_size=3, stride=1, padding=1, ceil_mode=False, "
                "count_include_pad=False)");
    assert_repr("AvgPool1d(4, None, 1, True, False,)",
                "AvgPool1d(kernel_size=4, stride=4, padding=1, ceil_mode=True, "
                "count_include_pad=False)");
    /* a 1-D size may be a 1-tuple, as PyTorch's _single accepts */
    assert_repr("AvgPool1d((4,), stride=(2,), padding=(1,))",
                "AvgPool1d(kernel_size=4, stride=2, padding=1, ceil_mode=False, count_include_pad=True)");
    assert_repr("LPPool1d(2, kernel_size=( 3 , ), stride=(1,))",
                "LPPool1d(norm_type=2, kernel_size=3, stride=1, ceil_mode=False)");
    assert_repr("LPPool1d(2.5, 3, stride=None, ceil_mode=True)",
                "LPPool1d(norm_type=2.5, kernel_size=3, stride=3, ceil_mode=True)");
    assert_repr("  LPPool1d ( norm_type = 1 , kernel_size = 2 , stride = 1 )  # trailing",
                "LPPool1d(norm_type=1, kernel_size=2, stride=1, ceil_mode=False)");
}

static void test_parameters_resolved(void **state) {
    (void)state;
    lc_module *m = NULL;
    assert_ok(lc_model_parse_call("AvgPool1d(kernel_size=5, padding=2, ceil_mode=True)", "x", &m));
    assert_int_equal(lc_module_get_kind(m), LC_MODULE_AVGPOOL1D);
    lc_avgpool1d_params a = lc_module_avgpool1d_params(m);
    assert_int_equal(a.kernel_size, 5);
    assert_int_equal(a.stride, 5);
    assert_int_equal(a.padding, 2);
    assert_true(a.ceil_mode);
    assert_true(a.count_include_pad);
    lc_module_free(m);

    assert_ok(lc_model_parse_call("LPPool1d(norm_type=+3, kernel_size=4, stride=2)", "x", &m));
    assert_int_equal(lc_module_get_kind(m), LC_MODULE_LPPOOL1D);
    lc_lppool1d_params l = lc_module_lppool1d_params(m);
    assert_true(l.norm_type == 3.0);
    assert_int_equal(l.kernel_size, 4);
    assert_int_equal(l.stride, 2);
    assert_false(l.ceil_mode);
    lc_module_free(m);
}

static void test_float_literals(void **state) {
    (void)state;
    static const struct { const char *lit; double want; } cases[] = {
        {"2.0", 2.0}, {"2.", 2.0}, {".5", 0.5}, {"1e-3", 1e-3}, {"1E+1", 10.0},
        {"2.5e0", 2.5}, {"7", 7.0}, {"0.25", 0.25}, {"+1.5", 1.5},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[64];
        snprintf(text, sizeof text, "LPPool1d(%s, 2)", cases[i].lit);
        lc_module *m = NULL;
        assert_ok(lc_model_parse_call(text, "x", &m));
        double got = lc_module_lppool1d_params(m).norm_type;
        if (got != cases[i].want) fail_msg("%s gave norm_type %.17g", text, got);
        lc_module_free(m);
    }
}

static void test_file_layout(void **state) {
    (void)state;
    const char *text = "# a model\n"
                       "\n"
                       "AvgPool1d(kernel_size=3, stride=1, padding=1)   # smooth\n"
                       "nn.LPPool1d(\n"
                       "    2,        # p\n"
                       "    4,\n"
                       ")\n"
                       "\n";
    lc_module *m = NULL;
    assert_ok(lc_model_parse(text, "model.txt", &m));
    assert_int_equal(lc_module_get_kind(m), LC_MODULE_SEQUENTIAL);
    assert_int_equal(lc_sequential_count(m), 2);
    assert_int_equal(lc_module_get_kind(lc_sequential_child(m, 0)), LC_MODULE_AVGPOOL1D);
    assert_int_equal(lc_module_get_kind(lc_sequential_child(m, 1)), LC_MODULE_LPPOOL1D);
    assert_int_equal(lc_module_lppool1d_params(lc_sequential_child(m, 1)).kernel_size, 4);
    lc_module_free(m);

    /* One call gives the module itself, not a Sequential of one. */
    assert_ok(lc_model_parse("\n\nLPPool1d(1, 2)\n", "model.txt", &m));
    assert_int_equal(lc_module_get_kind(m), LC_MODULE_LPPOOL1D);
    lc_module_free(m);

    /* CRLF line ends. */
    assert_ok(lc_model_parse("AvgPool1d(2)\r\nAvgPool1d(2)\r\n", "model.txt", &m));
    assert_int_equal(lc_sequential_count(m), 2);
    lc_module_free(m);
}

static void test_argument_rejections(void **state) {
    (void)state;
    assert_call_error("AvgPool1d(kernel_size=3.0)", LC_ERR_PARSE,
                      "--module 1: col 23: AvgPool1d: kernel_size must be an integer, got 3.0");
    assert_call_error("AvgPool1d()", LC_ERR_PARSE,
                      "--module 1: col 11: AvgPool1d: missing required argument kernel_size");
    assert_call_error("LPPool1d(2)", LC_ERR_PARSE,
                      "--module 1: col 11: LPPool1d: missing required argument kernel_size");
    assert_call_error("AvgPool1d(kernel_size=3, 2)", LC_ERR_PARSE,
                      "--module 1: col 26: AvgPool1d: positional argument 2 follows a keyword "
                      "argument");
    assert_call_error("AvgPool1d(3, kernel_size=3)", LC_ERR_PARSE,
                      "--module 1: col 14: AvgPool1d: kernel_size given both by position and "
                      "by keyword (kernel_size = 3)");
    assert_call_error("AvgPool1d(3, stride=1, stride=2)", LC_ERR_PARSE,
                      "--module 1: col 24: AvgPool1d: duplicate keyword argument stride "
                      "(stride = 2)");
    assert_call_error("AvgPool1d(3, kernel=3)", LC_ERR_PARSE,
                      "--module 1: col 14: AvgPool1d: unknown keyword argument 'kernel' = 3 "
                      "(parameters: kernel_size, stride, padding, ceil_mode, count_include_pad)");
    assert_call_error("AvgPool1d(1, 2, 0, False, True, 7)", LC_ERR_PARSE,
                      "--module 1: col 33: AvgPool1d: takes at most 5 positional arguments, got "
                      "another: 7");
    assert_call_error("LPPool1d(2, 4, None, False, 1)", LC_ERR_PARSE,
                      "--module 1: col 29: LPPool1d: takes at most 4 positional arguments, got "
                      "another: 1");
    assert_call_error("AvgPool1d(3, padding=None)", LC_ERR_PARSE,
                      "--module 1: col 22: AvgPool1d: padding cannot be None");
    assert_call_error("AvgPool1d(None)", LC_ERR_PARSE,
                      "--module 1: col 11: AvgPool1d: kernel_size cannot be None");
    assert_call_error("AvgPool1d(3, ceil_mode=1)", LC_ERR_PARSE,
                      "--module 1: col 24: AvgPool1d: ceil_mode must be True or False, got 1");
    assert_call_error("LPPool1d(True, 2)", LC_ERR_PARSE,
                      "--module 1: col 10: LPPool1d: norm_type must be a number, got True");
    assert_call_error("AvgPool1d(True)", LC_ERR_PARSE,
                      "--module 1: col 11: AvgPool1d: kernel_size must be an integer, got True");
    assert_call_error("AvgPool1d(2.)", LC_ERR_PARSE,
                      "--module 1: col 11: AvgPool1d: kernel_size must be an integer, got 2.");
    assert_call_error("AvgPool1d(inf)", LC_ERR_PARSE,
                      "--module 1: col 11: AvgPool1d: kernel_size must be an integer, got inf");
    assert_call_error("AvgPool1d(99999999999999999999)", LC_ERR_PARSE,
                      "--module 1: col 11: AvgPool1d: kernel_size is out of the 64-bit integer "
                      "range, got 99999999999999999999");
}

static void test_syntax_rejections(void **state) {
    (void)state;
    assert_call_error("MinPool1d(2)", LC_ERR_PARSE,
                      "--module 1: col 1: unknown module 'MinPool1d' (known: AvgPool1d, LPPool1d, MaxPool1d, MaxPool2d, AvgPool2d, LPPool2d, Linear, ReLU, MSELoss, Conv1d)");
    assert_call_error("torch.nn.AvgPool1d(2)", LC_ERR_PARSE,
                      "--module 1: col 1: unknown module 'torch.nn.AvgPool1d' (known: AvgPool1d, "
                      "LPPool1d, MaxPool1d, MaxPool2d, AvgPool2d, LPPool2d, Linear, ReLU, MSELoss, Conv1d)");
    assert_call_error("AvgPool1d 3", LC_ERR_PARSE,
                      "--module 1: col 11: AvgPool1d: expected '(', got '3'");
    assert_call_error("AvgPool1d(3", LC_ERR_PARSE,
                      "--module 1: col 10: AvgPool1d: '(' is never closed");
    assert_call_error("AvgPool1d(3 4)", LC_ERR_PARSE,
                      "--module 1: col 13: AvgPool1d: expected ',' or ')' after kernel_size = 3, "
                      "got '4'");
    assert_call_error("AvgPool1d(3,,)", LC_ERR_PARSE,
                      "--module 1: col 13: AvgPool1d: stride: expected a value (number, string, "
                      "True, False or None), got ','");
    assert_call_error("AvgPool1d(-)", LC_ERR_PARSE,
                      "--module 1: col 12: AvgPool1d: kernel_size: expected a number after '-', "
                      "got ')'");
    assert_call_error("AvgPool1d(3x)", LC_ERR_PARSE,
                      "--module 1: col 11: malformed number '3x'");
    assert_call_error("AvgPool1d(1e)", LC_ERR_PARSE,
                      "--module 1: col 11: malformed number '1e': exponent has no digits");
    assert_call_error("AvgPool1d(1.2.3)", LC_ERR_PARSE,
                      "--module 1: col 11: malformed number '1.2.3'");
    assert_call_error("AvgPool1d(k)", LC_ERR_PARSE,
                      "--module 1: col 11: AvgPool1d: expected a value or keyword=value, got 'k'");
    assert_call_error("AvgPool1d($)", LC_ERR_PARSE,
                      "--module 1: col 11: unexpected character '$'");
    assert_call_error("AvgPool1d(\xc3\xa9)", LC_ERR_PARSE,
                      "--module 1: col 11: unexpected byte 0xc3");
    assert_call_error("AvgPool1d(((3,)))", LC_ERR_PARSE,
                      "--module 1: col 12: AvgPool1d: kernel_size: a tuple holds integers, not tuples");
    assert_call_error("AvgPool1d((3, 2))", LC_ERR_PARSE,
                      "--module 1: col 11: AvgPool1d: kernel_size must be an integer or a 1-tuple, got (3, 2)");
    assert_call_error("AvgPool1d(())", LC_ERR_PARSE,
                      "--module 1: col 11: AvgPool1d: kernel_size: an empty tuple is not a size");
    assert_call_error("AvgPool1d((3, 2, 1))", LC_ERR_PARSE,
                      "--module 1: col 18: AvgPool1d: kernel_size: a tuple holds at most 2 integers, got another: 1");
    assert_call_error("AvgPool1d((3.5,))", LC_ERR_PARSE,
                      "--module 1: col 12: AvgPool1d: kernel_size: a tuple holds integers in the 64-bit range, got 3.5");
    assert_call_error("AvgPool1d((3 2))", LC_ERR_PARSE,
                      "--module 1: col 14: AvgPool1d: kernel_size: expected ',' or ')' in a tuple, got '2'");
    assert_call_error("AvgPool1d((3,", LC_ERR_PARSE,
                      "--module 1: col 11: AvgPool1d: kernel_size: '(' is never closed");
    assert_call_error("LPPool1d((2,), 3)", LC_ERR_PARSE,
                      "--module 1: col 10: LPPool1d: norm_type must be a number, got (2,)");
    assert_call_error("(3)", LC_ERR_PARSE,
                      "--module 1: col 1: expected a module call such as LPPool1d(2, 4), got '('");
    assert_call_error("AvgPool1d(3) LPPool1d(2, 2)", LC_ERR_PARSE,
                      "--module 1: col 14: expected end of line after a module call (one call "
                      "per line), got 'LPPool1d'");
    assert_call_error("AvgPool1d(3)\nLPPool1d(2, 2)", LC_ERR_PARSE,
                      "--module 1: line 2 col 1: --module takes one module call, got another: "
                      "'LPPool1d'");
    assert_call_error("", LC_ERR_PARSE, "--module 1: empty module spec");
    assert_call_error("  # only a comment", LC_ERR_PARSE, "--module 1: empty module spec");
    assert_file_error("\n# nothing\n\n", "model.txt: no module calls (the model is empty)");
}

static void test_file_positions(void **state) {
    (void)state;
    assert_file_error("AvgPool1d(2)\nLPPool1d(2,\n    kernel_size=3.0)\n",
                      "model.txt:3:17: LPPool1d: kernel_size must be an integer, got 3.0");
    assert_file_error("AvgPool1d(2)\n\n  Avg(2)\n",
                      "model.txt:3:3: unknown module 'Avg' (known: AvgPool1d, LPPool1d, MaxPool1d, MaxPool2d, AvgPool2d, LPPool2d, Linear, ReLU, MSELoss, Conv1d)");
    assert_file_error("AvgPool1d(2,\n   # open\n",
                      "model.txt:1:10: AvgPool1d: '(' is never closed");
    assert_file_error("AvgPool1d(2))\n", "model.txt:1:13: expected end of line after a module "
                                         "call (one call per line), got ')'");
}

/* Values that parse but are invalid get the constructor's own message, prefixed by place. */
static void test_constructor_errors(void **state) {
    (void)state;
    static const char *bad[] = {
        "LPPool1d(-1, 2)", "LPPool1d(norm_type=inf, kernel_size=2)", "LPPool1d(nan, 2)",
        "LPPool1d(0, 2)",  "LPPool1d(-inf, 2)", "LPPool1d(1e400, 2)",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lc_module *m = NULL;
        assert_fails(lc_model_parse_call(bad[i], "--module 1", &m), LC_ERR_INVALID_ARG,
                     "--module 1: LPPool1d: norm_type");
        assert_null(m);
    }
    lc_module *m = NULL;
    assert_fails(lc_model_parse_call("LPPool1d(-1, 2)", "--module 1", &m), LC_ERR_INVALID_ARG,
                 "--module 1: LPPool1d: norm_type must be finite and > 0, got -1");
    assert_fails(lc_model_parse_call("AvgPool1d(0)", "--module 2", &m), LC_ERR_INVALID_ARG,
                 "--module 2: AvgPool1d: kernel_size");
    assert_fails(lc_model_parse_call("AvgPool1d(2, padding=2)", "--module 1", &m),
                 LC_ERR_INVALID_ARG, "AvgPool1d: padding");
    assert_fails(lc_model_parse_call("AvgPool1d(2, stride=0)", "--module 1", &m),
                 LC_ERR_INVALID_ARG, "AvgPool1d: stride");
    assert_fails(lc_model_parse_call("AvgPool1d(2, padding=-1)", "--module 1", &m),
                 LC_ERR_INVALID_ARG, "AvgPool1d: padding");
    /* In a file the message carries the call's line:col; earlier modules are freed. */
    assert_fails(lc_model_parse("AvgPool1d(2)\nAvgPool1d(2)\n  LPPool1d(0, 2)\n", "m.txt", &m),
                 LC_ERR_INVALID_ARG, "m.txt:3:3: LPPool1d: norm_type");
    assert_null(m);
}

/* Random text built from the grammar's pieces: any status is fine, a crash or leak is not
 * (valgrind / ASan builds check the latter). */
static void test_random_text(void **state) {
    (void)state;
    static const char *pieces[] = {
        "AvgPool1d", "LPPool1d", "nn.", "(", ")", ",", "=", "-", "+", "3", "2.", ".5", "1e-3",
        "1e", "inf", "nan", "True", "False", "None", "kernel_size", "stride", "padding",
        "ceil_mode", "norm_type", "count_include_pad", "\n", " ", "#c\n", "\\\n", "x", "\x01",
        "99999999999999999999999", "0", "\t", ".", "e",
    };
    enum { N_PIECES = sizeof pieces / sizeof pieces[0] };
    test_rng r = test_rng_seeded(1234);
    char text[512];
    int ok = 0;
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = 0;
        int n = (int)test_rng_int(&r, 0, 24);
        for (int k = 0; k < n; k++) {
            const char *p = pieces[test_rng_int(&r, 0, N_PIECES - 1)];
            size_t pl = strlen(p);
            if (len + pl >= sizeof text) break;
            memcpy(text + len, p, pl);
            len += pl;
        }
        text[len] = '\0';
        lc_module *m = NULL;
        lc_status st = (iter & 1) ? lc_model_parse(text, "f", &m) : lc_model_parse_call(text, "m", &m);
        if (st == LC_OK) {
            assert_non_null(m);
            ok++;
            lc_module_free(m);
        } else {
            assert_null(m);
            assert_true(lc_last_error()[0] != '\0');
        }
    }
    (void)ok;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_positional_and_keyword),
        cmocka_unit_test(test_parameters_resolved),
        cmocka_unit_test(test_float_literals),
        cmocka_unit_test(test_file_layout),
        cmocka_unit_test(test_argument_rejections),
        cmocka_unit_test(test_syntax_rejections),
        cmocka_unit_test(test_file_positions),
        cmocka_unit_test(test_constructor_errors),
        cmocka_unit_test(test_random_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
