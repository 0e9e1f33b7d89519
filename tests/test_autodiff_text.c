/* Backward graphs as text IR: a pinned dump of LPPool1d's backward (what autodiff emits, node by
 * node, with its names), and print(parse(print(g))) == print(g) for the autodiff graphs of many
 * module configurations. */
#include <stdlib.h>
#include <string.h>

#include "ir/text_roundtrip.h"
#include "lucid/autodiff.h"
#include "lucid/nn.h"
#include "support/testutil.h"

static lc_graph *backward_of(const lc_module *m, lc_dtype dt, lc_shape s) {
    lc_graph *g, *ad;
    assert_ok(lc_module_graph(m, dt, s, &g));
    assert_ok(lc_autodiff(g, NULL, 0, NULL, 0, &ad));
    lc_graph_free(g);
    return ad;
}

/* The f32 backward of m on `s`, printed, is exactly `want`. */
static void assert_backward_text(const lc_module *m, lc_shape s, const char *want) {
    lc_graph *ad = backward_of(m, LC_F32, s);
    char *text;
    assert_ok(lc_graph_to_string(ad, &text));
    assert_string_equal(text, want);
    free(text);
    lc_graph_free(ad);
}

/* LPPool1d(2, 2) on f32[1,1,4]: the chain rule through pow(S, 1/2) (zero_pole at 1/p - 1 < 0),
 * sum → expand, pow(|u|, 2), abs → sign, unfold → fold with the input's length. */
static void test_lp_backward_pinned(void **state) {
    (void)state;
    static const char want[] =
        "graph {\n"
        "  %0 = input \"x\" : f32[1,1,4]\n"
        "  %1 = unfold(%0) dim=2 size=2 step=2 pad_lo=0 pad_hi=0 : f32[1,1,2,2] name=\"LPPool1d.unfold\"\n"
        "  %2 = abs(%1) : f32[1,1,2,2] name=\"LPPool1d.abs\"\n"
        "  %3 = pow(%2) zero_pole=0 exponent=2 : f32[1,1,2,2] name=\"LPPool1d.pow\"\n"
        "  %4 = sum(%3) dim=3 : f32[1,1,2] name=\"LPPool1d.sum\"\n"
        "  %5 = pow(%4) zero_pole=0 exponent=0.5 : f32[1,1,2] name=\"LPPool1d.root\"\n"
        "  %6 = input \"grad.LPPool1d.root\" : f32[1,1,2]\n"
        "  %7 = pow(%4) zero_pole=1 exponent=-0.5 : f32[1,1,2] name=\"grad.LPPool1d.sum.pow\"\n"
        "  %8 = constant 0.5 : f32[]\n"
        "  %9 = mul(%7, %8) : f32[1,1,2] name=\"grad.LPPool1d.sum.mul\"\n"
        "  %10 = mul(%6, %9) : f32[1,1,2] name=\"grad.LPPool1d.sum\"\n"
        "  %11 = expand(%10) dim=3 size=2 : f32[1,1,2,2] name=\"grad.LPPool1d.pow\"\n"
        "  %12 = pow(%2) zero_pole=0 exponent=1 : f32[1,1,2,2] name=\"grad.LPPool1d.abs.pow\"\n"
        "  %13 = constant 2 : f32[]\n"
        "  %14 = mul(%12, %13) : f32[1,1,2,2] name=\"grad.LPPool1d.abs.mul\"\n"
        "  %15 = mul(%11, %14) : f32[1,1,2,2] name=\"grad.LPPool1d.abs\"\n"
        "  %16 = sign(%1) : f32[1,1,2,2] name=\"grad.LPPool1d.unfold.sign\"\n"
        "  %17 = mul(%15, %16) : f32[1,1,2,2] name=\"grad.LPPool1d.unfold\"\n"
        "  %18 = fold(%17) dim=2 size=2 step=2 pad_lo=0 pad_hi=0 length=4 : f32[1,1,4] name=\"grad.x\"\n"
        "  output %5, %18\n"
        "}\n"
        ;
    lc_lppool1d_params p = lc_lppool1d_defaults(2, 2);
    lc_module *m;
    assert_ok(lc_lppool1d_new(&p, &m));
    assert_backward_text(m, test_shape3(1, 1, 4), want);
    lc_module_free(m);
}

/* AvgPool1d(2, stride=1, padding=1, count_include_pad=False) on f32[1,1,3]: windows differ in
 * size, so the forward divides by a constant per window, and the backward divides the seed by
 * that same constant node (%3) before expand and fold. */
static void test_avg_backward_pinned(void **state) {
    (void)state;
    static const char want[] =
        "graph {\n"
        "  %0 = input \"x\" : f32[1,1,3]\n"
        "  %1 = unfold(%0) dim=2 size=2 step=1 pad_lo=1 pad_hi=1 : f32[1,1,4,2] name=\"AvgPool1d.unfold\"\n"
        "  %2 = sum(%1) dim=3 : f32[1,1,4] name=\"AvgPool1d.sum\"\n"
        "  %3 = constant [1, 2, 2, 1] : f32[4] name=\"AvgPool1d.constant\"\n"
        "  %4 = div(%2, %3) safe=0 : f32[1,1,4] name=\"AvgPool1d.div\"\n"
        "  %5 = input \"grad.AvgPool1d.div\" : f32[1,1,4]\n"
        "  %6 = div(%5, %3) safe=0 : f32[1,1,4] name=\"grad.AvgPool1d.sum\"\n"
        "  %7 = expand(%6) dim=3 size=2 : f32[1,1,4,2] name=\"grad.AvgPool1d.unfold\"\n"
        "  %8 = fold(%7) dim=2 size=2 step=1 pad_lo=1 pad_hi=1 length=3 : f32[1,1,3] name=\"grad.x\"\n"
        "  output %4, %8\n"
        "}\n"
        ;
    lc_avgpool1d_params a = lc_avgpool1d_defaults(2);
    a.stride = 1;
    a.padding = 1;
    a.count_include_pad = false;
    lc_module *m;
    assert_ok(lc_avgpool1d_new(&a, &m));
    assert_backward_text(m, test_shape3(1, 1, 3), want);
    lc_module_free(m);
}

/* print(parse(print(g))) == print(g), and the parsed graph equals g node for node. */
static void check_round_trip(const lc_graph *g) {
    char *once, *twice;
    lc_graph *parsed;
    assert_ok(lc_graph_to_string(g, &once));
    assert_ok(lc_graph_parse(once, &parsed));
    assert_ok(lc_graph_to_string(parsed, &twice));
    assert_string_equal(once, twice);
    assert_ok(lc_graph_check_text_round_trip(g));
    free(once);
    free(twice);
    lc_graph_free(parsed);
}

static void test_round_trips(void **state) {
    (void)state;
    test_rng r = test_rng_seeded(5);
    const double ps[] = {0.5, 1, 1.5, 2, 2.5, 3, 7, 60, 1.0 / 3};
    for (int trial = 0; trial < 120; trial++) {
        lc_module *m;
        if (trial % 2) {
            lc_avgpool1d_params a = lc_avgpool1d_defaults(test_rng_int(&r, 1, 5));
            a.stride = test_rng_int(&r, 1, 6);
            a.padding = test_rng_int(&r, 0, a.kernel_size / 2);
            a.ceil_mode = test_rng_int(&r, 0, 1);
            a.count_include_pad = test_rng_int(&r, 0, 1);
            assert_ok(lc_avgpool1d_new(&a, &m));
        } else {
            lc_lppool1d_params l = lc_lppool1d_defaults(ps[(trial / 2) % 9], test_rng_int(&r, 1, 5));
            l.stride = test_rng_int(&r, 1, 6);
            l.ceil_mode = test_rng_int(&r, 0, 1);
            assert_ok(lc_lppool1d_new(&l, &m));
        }
        lc_shape s = test_shape3(test_rng_int(&r, 1, 3), test_rng_int(&r, 1, 3), test_rng_int(&r, 5, 20));
        lc_graph *ad = backward_of(m, trial % 3 ? LC_F32 : LC_F64, s);
        check_round_trip(ad);
        lc_graph_free(ad);
        lc_module_free(m);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lp_backward_pinned),
        cmocka_unit_test(test_avg_backward_pinned),
        cmocka_unit_test(test_round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
