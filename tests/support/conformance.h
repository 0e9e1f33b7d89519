/* Reading tests/conformance cases (docs/conformance.md) for the tests: case.json -> a module,
 * .npy -> tensors. */
#ifndef LUCID_TEST_CONFORMANCE_H
#define LUCID_TEST_CONFORMANCE_H

#include "lucid/nn.h"
#include "support/json.h"

typedef struct test_case {
    char dir[1024];
    char name[256];
    lc_json *json;
    lc_module *module;     /* NULL when the case cannot be expressed (skip_reason says why) */
    const char *skip_reason;
    double rtol, atol;
} test_case;

/* Load dir/case.json and build its module (torch/ format or onnx/ format). Fails the test on
 * malformed files. */
void test_case_load(const char *dir, test_case *c);
void test_case_free(test_case *c);
/* Names of the case directories (those holding case.json) under `root`, sorted; caller frees with test_case_list_free. */
char **test_case_list(const char *root, int *count);
void test_case_list_free(char **names, int count);
/* "dir/file" into a static buffer. */
const char *test_case_file(const test_case *c, const char *file);

#endif
