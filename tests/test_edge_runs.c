/* A row with edges (the first and last positions of a padded window, checked in the scalar
 * loop): the vectorized run between them ends within one vector of the edge where codegen pins
 * the loop's interleave count and knows the target's registers (emit_kernel.c,
 * element_trip_multiple: AvgPool1d(3, 1, 1)'s forward, whose fix-up flag pins 1), and at the
 * last whole multiple of LC_VECTOR_TRIP_MULTIPLE trips where LLVM chooses the count
 * (MaxPool1d's forward). The run's bound is read in the IR codegen emits, for a named AVX2
 * target (8 lanes of float32, 4 of float64). And the values against the interpreter on rows
 * whose length leaves every kind of remainder to the scalar loop. */
#include <stdlib.h>
#include <string.h>

#include "jit_harness.h"

/* The divisor of the one `udiv` in the IR of spec's forward (codegen's whole multiples of the
 * vectorized run; the bound the run's trips are counted in). */
static long run_multiple(const char *spec, lc_dtype dt) {
    lc_module *m = jit_parse_module(spec);
    lc_graph *g = jit_module_graph(m, dt, test_shape3(2, 4, 4096), false);
    char *text = jit_dump_text(g, "llvm");
    assert_int_equal(jit_count(text, "udiv i64"), 1);
    long multiple = jit_operand_after(text, "udiv i64");
    free(text);
    lc_graph_free(g);
    lc_module_free(m);
    return multiple;
}

static bool named_avx2; /* jit_name_avx2_target named it */

static void run_ends_within_a_vector(void **state) {
    (void)state;
    if (!named_avx2) skip(); /* the host runs no AVX2 code, or the environment named a CPU */
    assert_int_equal(run_multiple("AvgPool1d(3, 1, 1)", LC_F32), 8);
    assert_int_equal(run_multiple("AvgPool1d(3, 1, 1)", LC_F64), 4);
    assert_int_equal(run_multiple("AvgPool1d(5, 1, 2, count_include_pad=False)", LC_F32), 8);
    /* no fix-up flag: LLVM chooses the interleave count, so the multiple covers any choice */
    assert_int_equal(run_multiple("MaxPool1d(3, 1, 1)", LC_F32), LC_VECTOR_TRIP_MULTIPLE);
}

/* Rows of 4096 (the run from the first line past the left edge), 4095, 1000, 77 and 9 (no
 * whole vector), forward and forward+backward, both dtypes. */
static void values(void **state) {
    (void)state;
    const char *specs[] = {"AvgPool1d(3, 1, 1)", "AvgPool1d(5, 1, 2)", "AvgPool1d(3, 1, 1, count_include_pad=False)",
                           "AvgPool1d(4, 2, 2, ceil_mode=True)", "MaxPool1d(3, 1, 1)"};
    const int64_t widths[] = {4096, 4095, 1000, 77, 9};
    uint64_t seed = 1;
    for (size_t s = 0; s < sizeof specs / sizeof specs[0]; s++)
        for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++)
            for (int dt = 0; dt < 2; dt++) {
                lc_module *m = jit_parse_module(specs[s]);
                jit_check_module(m, (lc_dtype)dt, test_shape3(2, 3, widths[w]), seed++, NULL, NULL);
                lc_module_free(m);
            }
}

int main(void) {
    /* A named AVX2 target with its features, so the width codegen knows is 256 bits (where the
     * host runs AVX2 code). */
    named_avx2 = jit_name_avx2_target();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(run_ends_within_a_vector),
        cmocka_unit_test(values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
