/* test_stderr_begin/end and test_read_file (testutil.h): fd 2 goes to a temporary file for the capture, so what
 * the library prints once per process (environment warnings) can be read back exactly. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "support/testutil.h"

static char g_path[] = "/tmp/lucid-stderr-XXXXXX";
static int g_fd = -1, g_saved = -1;

void test_stderr_begin(void) {
    assert_int_equal(g_fd, -1);
    snprintf(g_path, sizeof g_path, "%s", "/tmp/lucid-stderr-XXXXXX");
    g_fd = mkstemp(g_path);
    assert_true(g_fd >= 0);
    fflush(stderr);
    g_saved = dup(2);
    assert_true(g_saved >= 0);
    assert_true(dup2(g_fd, 2) >= 0);
}

char *test_stderr_end(void) {
    assert_true(g_fd >= 0);
    fflush(stderr);
    dup2(g_saved, 2);
    close(g_saved);
    close(g_fd);
    g_fd = g_saved = -1;
    char *text = test_read_file(g_path);
    unlink(g_path);
    assert_non_null(text);
    return text;
}

char *test_read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 20;
    char *text = calloc(1, cap);
    size_t n = text ? fread(text, 1, cap - 1, f) : 0;
    fclose(f);
    if (text) text[n] = '\0';
    return text;
}
