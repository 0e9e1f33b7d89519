/* The public module table (nn.h): its rows, the defaults it advertises against what the
 * constructors really do, lc_module_new's checks, and agreement with the model-spec parser
 * (which reads the same table). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lucid/model_spec.h"
#include "lucid/nn.h"
#include "support/testutil.h"

static char *repr_of(const lc_module *m) {
    char *s = NULL;
    assert_ok(lc_module_repr(m, &s));
    return s;
}

/* The table lists exactly the modules and arguments of the model-spec contract, in
 * positional order. */
static void test_rows(void **state) {
    (void)state;
    assert_int_equal(lc_module_info_count(), 10);
    const lc_module_info *avg = lc_module_info_find("AvgPool1d");
    const lc_module_info *lp = lc_module_info_find("LPPool1d");
    assert_non_null(avg);
    assert_non_null(lp);
    assert_null(lc_module_info_find("Sequential"));
    assert_null(lc_module_info_find("avgpool1d"));
    assert_null(lc_module_info_find(NULL));
    assert_null(lc_module_info_at(-1));
    assert_null(lc_module_info_at(lc_module_info_count()));

    const char *avg_names[] = {"kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"};
    const lc_arg_kind avg_kinds[] = {LC_ARG_SIZE1, LC_ARG_SIZE1, LC_ARG_SIZE1, LC_ARG_BOOL, LC_ARG_BOOL};
    assert_int_equal(avg->n_args, 5);
    for (int k = 0; k < 5; k++) {
        assert_string_equal(avg->args[k].name, avg_names[k]);
        assert_int_equal(avg->args[k].kind, avg_kinds[k]);
        assert_int_equal(avg->args[k].required, k == 0);
        assert_int_equal(avg->args[k].none_ok, k == 1);
        assert_true((avg->args[k].default_text == NULL) == avg->args[k].required);
    }
    const char *lp_names[] = {"norm_type", "kernel_size", "stride", "ceil_mode"};
    const lc_arg_kind lp_kinds[] = {LC_ARG_REAL, LC_ARG_SIZE1, LC_ARG_SIZE1, LC_ARG_BOOL};
    assert_int_equal(lp->n_args, 4);
    for (int k = 0; k < 4; k++) {
        assert_string_equal(lp->args[k].name, lp_names[k]);
        assert_int_equal(lp->args[k].kind, lp_kinds[k]);
        assert_int_equal(lp->args[k].required, k < 2);
        assert_int_equal(lp->args[k].none_ok, k == 2);
    }
    const lc_module_info *conv = lc_module_info_find("Conv1d");
    const char *conv_names[] = {"in_channels", "out_channels", "kernel_size", "stride", "padding",
                                "dilation", "groups", "bias"};
    const char *conv_defaults[] = {NULL, NULL, NULL, "1", "0", "1", "1", "True"};
    assert_non_null(conv);
    assert_int_equal(conv->n_args, 8);
    for (int k = 0; k < 8; k++) {
        assert_string_equal(conv->args[k].name, conv_names[k]);
        assert_int_equal(conv->args[k].required, k < 3);
        if (k >= 3) assert_string_equal(conv->args[k].default_text, conv_defaults[k]);
    }
    assert_int_equal(conv->args[4].kind, LC_ARG_INT_OR_STRING);
    const lc_module_info *linear = lc_module_info_find("Linear");
    assert_int_equal(linear->n_args, 3);
    assert_string_equal(linear->args[2].name, "bias");
    assert_int_equal(lc_module_info_find("ReLU")->n_args, 0);
    const lc_module_info *mse = lc_module_info_find("MSELoss");
    assert_int_equal(mse->n_args, 1);
    assert_int_equal(mse->args[0].kind, LC_ARG_STRING);
    assert_string_equal(mse->args[0].default_text, "'mean'");
    for (int i = 0; i < lc_module_info_count(); i++) {
        const lc_module_info *m = lc_module_info_at(i);
        assert_int_equal(m->n_inputs, strcmp(m->name, "MSELoss") == 0 ? 2 : 1);
        assert_ptr_equal(lc_module_info_find(m->name), m);
        assert_true(m->summary && *m->summary);
    }
}

/* Every row's advertised defaults are the constructor's: building with the required
 * arguments alone and building with every default written out as a spec give the same
 * module. */
static void test_defaults_are_the_constructors(void **state) {
    (void)state;
    for (int i = 0; i < lc_module_info_count(); i++) {
        const lc_module_info *m = lc_module_info_at(i);
        lc_arg_value v[8] = {{0}};
        char spec[256];
        int used = snprintf(spec, sizeof spec, "%s(", m->name);
        for (int k = 0; k < m->n_args; k++) {
            const lc_arg_info *a = &m->args[k];
            const char *text = a->default_text;
            if (a->required) {
                /* a valid value for the required argument: 2 works for every one today */
                v[k].set = true;
                v[k].i = v[k].pair[0] = v[k].pair[1] = 2;
                v[k].r = 2.0;
                text = "2";
            }
            used += snprintf(spec + used, sizeof spec - (size_t)used, "%s%s=%s", k ? ", " : "",
                             a->name, text);
        }
        snprintf(spec + used, sizeof spec - (size_t)used, ")");
        lc_module *from_values, *from_spec;
        assert_ok(lc_module_new(m->name, v, m->n_args, &from_values));
        assert_ok(lc_model_parse_call(spec, "defaults", &from_spec));
        char *a = repr_of(from_values), *b = repr_of(from_spec);
        if (strcmp(a, b) != 0) fail_msg("%s: table defaults give %s, spec %s gives %s", m->name, a, spec, b);
        free(a);
        free(b);
        lc_module_free(from_values);
        lc_module_free(from_spec);
    }
}

static void test_values_reach_the_constructor(void **state) {
    (void)state;
    lc_arg_value v[5] = {{.set = true, .i = 3}, {.set = true, .i = 1}, {.set = true, .i = 1},
                         {.set = true, .b = true}, {.set = true, .b = false}};
    lc_module *m;
    assert_ok(lc_module_new("AvgPool1d", v, 5, &m));
    char *s = repr_of(m);
    assert_string_equal(s, "AvgPool1d(kernel_size=3, stride=1, padding=1, ceil_mode=True, "
                           "count_include_pad=False)");
    free(s);
    lc_module_free(m);

    /* fewer values than arguments: the rest take their defaults; None stride means unset */
    lc_arg_value w[3] = {{.set = true, .r = 2.5}, {.set = true, .i = 4}, {.set = true, .is_none = true}};
    assert_ok(lc_module_new("LPPool1d", w, 3, &m));
    s = repr_of(m);
    assert_string_equal(s, "LPPool1d(norm_type=2.5, kernel_size=4, stride=4, ceil_mode=False)");
    free(s);
    lc_module_free(m);
}

static void assert_new_error(const char *name, const lc_arg_value *v, int n, lc_status status,
                             const char *message) {
    lc_module *m = (lc_module *)0x1;
    lc_status st = lc_module_new(name, v, n, &m);
    if (st != status)
        fail_msg("%s: got %s (%s), want %s", name ? name : "(null)", lc_status_str(st),
                 lc_last_error(), lc_status_str(status));
    assert_null(m);
    if (strcmp(lc_last_error(), message) != 0)
        fail_msg("got  \"%s\"\nwant \"%s\"", lc_last_error(), message);
}

static void test_errors(void **state) {
    (void)state;
    lc_arg_value none = {.set = true, .is_none = true};
    lc_arg_value two = {.set = true, .i = 2, .r = 2};
    lc_arg_value lp_bad[2] = {{.set = true, .r = -1}, {.set = true, .i = 2}};
    lc_arg_value six[6] = {two, two, two, two, two, two};
    lc_arg_value no_kernel[1] = {{.set = false}};
    assert_new_error("MaxPool7d", &two, 1, LC_ERR_INVALID_ARG,
                     "module: unknown module MaxPool7d (known: AvgPool1d, LPPool1d, MaxPool1d, MaxPool2d, AvgPool2d, LPPool2d, Linear, ReLU, MSELoss, Conv1d)");
    assert_new_error(NULL, &two, 1, LC_ERR_INVALID_ARG,
                     "module: unknown module (null) (known: AvgPool1d, LPPool1d, MaxPool1d, MaxPool2d, AvgPool2d, LPPool2d, Linear, ReLU, MSELoss, Conv1d)");
    assert_new_error("AvgPool1d", no_kernel, 1, LC_ERR_INVALID_ARG,
                     "AvgPool1d: missing required argument kernel_size");
    assert_new_error("AvgPool1d", NULL, 0, LC_ERR_INVALID_ARG,
                     "AvgPool1d: missing required argument kernel_size");
    assert_new_error("AvgPool1d", &none, 1, LC_ERR_INVALID_ARG, "AvgPool1d: kernel_size cannot be None");
    assert_new_error("AvgPool1d", six, 6, LC_ERR_INVALID_ARG, "AvgPool1d: takes at most 5 arguments, got 6");
    assert_new_error("AvgPool1d", NULL, 2, LC_ERR_INVALID_ARG, "AvgPool1d: values must not be NULL");
    assert_new_error("LPPool1d", lp_bad, 2, LC_ERR_INVALID_ARG,
                     "LPPool1d: norm_type must be finite and > 0, got -1");
    assert_int_equal(lc_module_new("AvgPool1d", &two, 1, NULL), LC_ERR_INVALID_ARG);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_defaults_are_the_constructors),
        cmocka_unit_test(test_values_reach_the_constructor),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
