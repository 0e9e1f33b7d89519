/* Allocation failure injection ("allocations the machine cannot give"): every
 * allocation the library makes may fail, and each failure must come back as a status with a
 * message (LC_ERR_NOMEM, or LC_ERR_IO when it was stdio's), leak nothing, and crash nothing.
 *
 * The test replaces malloc and friends (glibc supports that: it calls the public symbols
 * itself) with versions that forward to glibc's __libc_* allocator but can be told to fail
 * the k-th allocation made on this thread. Each scenario (a short use of the C API, freeing
 * what it made on every path) then runs with k = 0, 1, 2, ... until it completes without
 * reaching k; every run must either succeed or fail cleanly, and the count of live blocks
 * must come back to where it was. Under AddressSanitizer (which owns malloc) it is skipped;
 * the ASan build checks the same scenarios' success paths for leaks instead. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lucid/autodiff.h"
#include "lucid/autograd.h"
#include "lucid/model_spec.h"
#include "lucid/nn.h"
#include "lucid/npy.h"
#include "lucid/passes.h"
#include "lucid/runtime.h"
#include "support/error.h"
#include "support/testutil.h"

#if defined(__SANITIZE_ADDRESS__)
#define INJECT 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define INJECT 0
#endif
#endif
#ifndef INJECT
#define INJECT 1
#endif

/* ---- the allocator ---- */

#if INJECT
static _Thread_local long countdown = -1; /* allocations left before the failure; -1: off */
static _Thread_local bool hit;            /* the injected failure happened */
static _Thread_local bool counting;       /* track live blocks */
static _Thread_local long live;           /* blocks allocated minus blocks freed */

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t align, size_t n);
extern void __libc_free(void *p);

static bool fail_now(void) {
    if (countdown < 0) return false;
    if (countdown-- == 0) {
        hit = true;
        return true;
    }
    return false;
}

static void *track(void *p) {
    if (p && counting) live++;
    return p;
}

void *malloc(size_t n) { return fail_now() ? NULL : track(__libc_malloc(n)); }
void *calloc(size_t n, size_t size) { return fail_now() ? NULL : track(__libc_calloc(n, size)); }
void *realloc(void *p, size_t n) {
    if (fail_now()) return NULL;
    void *q = __libc_realloc(p, n);
    if (!p) track(q);
    else if (n == 0 && counting) live--;
    return q;
}
void free(void *p) {
    if (p && counting) live--;
    __libc_free(p);
}
void *aligned_alloc(size_t align, size_t n) { return fail_now() ? NULL : track(__libc_memalign(align, n)); }
void *memalign(size_t align, size_t n) { return fail_now() ? NULL : track(__libc_memalign(align, n)); }
int posix_memalign(void **out, size_t align, size_t n) {
    if (fail_now()) return 12; /* ENOMEM */
    void *p = track(__libc_memalign(align, n));
    if (!p) return 12;
    *out = p;
    return 0;
}
#endif

/* ---- scenarios: each frees everything it made, on every path ---- */

static lc_status s_module_graph(void) {
    lc_avgpool1d_params ap = lc_avgpool1d_defaults(3);
    ap.stride = 2;
    ap.padding = 1;
    ap.ceil_mode = true;
    ap.count_include_pad = false; /* per-window divisors: the constant path */
    lc_lppool1d_params lp = lc_lppool1d_defaults(2, 2);
    lc_module *seq = NULL, *a = NULL, *b = NULL;
    lc_graph *g = NULL, *c = NULL;
    char *text = NULL, *repr = NULL;
    int x, y;
    lc_status st = lc_sequential_new(&seq);
    if (st == LC_OK) st = lc_avgpool1d_new(&ap, &a);
    if (st == LC_OK) { st = lc_sequential_append(seq, a); a = NULL; }
    if (st == LC_OK) st = lc_lppool1d_new(&lp, &b);
    if (st == LC_OK) { st = lc_sequential_append(seq, b); b = NULL; }
    if (st == LC_OK) st = lc_module_repr(seq, &repr);
    if (st == LC_OK) st = lc_graph_new(&g);
    if (st == LC_OK) st = lc_input(g, "x", LC_F32, test_shape3(2, 3, 11), &x);
    if (st == LC_OK) st = lc_module_forward(seq, g, x, &y);
    if (st == LC_OK) st = lc_graph_add_output(g, y);
    if (st == LC_OK) st = lc_graph_clone(g, &c);
    if (st == LC_OK) st = lc_graph_to_string(c, &text);
    if (st == LC_OK) st = lc_graph_verify(c);
    free(text);
    free(repr);
    lc_module_free(a);
    lc_module_free(b);
    lc_module_free(seq);
    lc_graph_free(g);
    lc_graph_free(c);
    return st;
}

static const char IR[] =
    "graph {\n"
    "  %0 = input \"x\" : f64[2,8]\n"
    "  %1 = unfold(%0) dim=1 size=4 step=2 pad_lo=1 pad_hi=1 : f64[2,4,4] name=\"u\"\n"
    "  %2 = abs(%1) : f64[2,4,4]\n"
    "  %3 = pow(%2) zero_pole=0 exponent=3 : f64[2,4,4]\n"
    "  %4 = sum(%3) dim=2 : f64[2,4]\n"
    "  %5 = constant [1, 2.5, 3, 4] : f64[4]\n"
    "  %6 = div(%4, %5) safe=1 : f64[2,4]\n"
    "  %7 = expand(%6) dim=2 size=4 : f64[2,4,4]\n"
    "  %8 = fold(%7) dim=1 size=4 step=2 pad_lo=1 pad_hi=1 length=8 : f64[2,8]\n"
    "  output %6, %8\n"
    "}\n";

static lc_status s_text_ir_and_interp(void) {
    lc_graph *g = NULL;
    lc_tensor *x = NULL, *out[2] = {NULL, NULL};
    char *dot = NULL;
    size_t dot_len = 0;
    lc_status st = lc_graph_parse(IR, &g);
    if (st == LC_OK) st = lc_tensor_new(LC_F64, lc_graph_node(g, 0)->shape, &x);
    if (st == LC_OK) {
        for (int64_t i = 0; i < lc_tensor_numel(x); i++) lc_tensor_set(x, i, (double)i - 7.5);
        st = lc_interp_run(g, (const lc_tensor *const[]){x}, 1, out, 2);
    }
    if (st == LC_OK) {
        FILE *f = open_memstream(&dot, &dot_len);
        if (!f) {
            st = lc_fail(LC_ERR_IO, "test: open_memstream failed");
        } else {
            st = lc_graph_print_dot(g, f);
            if (fclose(f) != 0 && st == LC_OK) st = lc_fail(LC_ERR_IO, "test: fclose failed");
        }
    }
    free(dot);
    lc_tensor_free(out[0]);
    lc_tensor_free(out[1]);
    lc_tensor_free(x);
    lc_graph_free(g);
    return st;
}

static lc_status s_model_spec(void) {
    lc_module *m = NULL;
    char *repr = NULL;
    lc_status st = lc_model_parse("nn.AvgPool1d(4, 2, padding=1)\n# c\nLPPool1d(2.5, 3,\n  ceil_mode=True)\n",
                                  "m.txt", &m);
    if (st == LC_OK) st = lc_module_repr(m, &repr);
    free(repr);
    lc_module_free(m);
    m = NULL;
    if (st == LC_OK) st = lc_model_parse_call("LPPool1d(norm_type=1, kernel_size=2)", "--module 1", &m);
    lc_module_free(m);
    return st;
}

static lc_status s_npy(void) {
    lc_tensor *t = NULL, *back = NULL;
    void *bytes = NULL;
    size_t size = 0;
    char *repr = NULL, *values = NULL;
    lc_status st = lc_tensor_new(LC_F32, test_shape3(2, 3, 5), &t);
    if (st == LC_OK) {
        for (int64_t i = 0; i < lc_tensor_numel(t); i++) lc_tensor_set(t, i, i * 0.25);
        st = lc_npy_write_buffer(t, &bytes, &size);
    }
    if (st == LC_OK) st = lc_npy_read_buffer(bytes, size, &back);
    if (st == LC_OK) st = lc_tensor_repr(back, &repr);
    if (st == LC_OK) st = lc_tensor_format_values(back, &values);
    free(repr);
    free(values);
    free(bytes);
    lc_tensor_free(back);
    lc_tensor_free(t);
    return st;
}

static lc_status s_autodiff_pipeline(void) {
    lc_lppool1d_params lp = lc_lppool1d_defaults(3, 4);
    lp.stride = 2;
    lc_module *m = NULL;
    lc_graph *g = NULL, *d = NULL, *p = NULL;
    int x, y;
    lc_status st = lc_lppool1d_new(&lp, &m);
    if (st == LC_OK) st = lc_graph_new(&g);
    if (st == LC_OK) st = lc_input(g, "x", LC_F64, test_shape3(1, 2, 10), &x);
    if (st == LC_OK) st = lc_module_forward(m, g, x, &y);
    if (st == LC_OK) st = lc_graph_add_output(g, y);
    if (st == LC_OK) st = lc_autodiff(g, NULL, 0, NULL, 0, &d);
    if (st == LC_OK) st = lc_pipeline_run_default(g, true, NULL, &p);
    lc_graph_free(p);
    lc_graph_free(d);
    lc_graph_free(g);
    lc_module_free(m);
    return st;
}

static lc_status s_autograd(void) {
    lc_avgpool1d_params ap = lc_avgpool1d_defaults(2);
    lc_module *m = NULL;
    lc_tensor *x = NULL, *y = NULL, *seed = NULL, *x2 = NULL;
    lc_status st = lc_avgpool1d_new(&ap, &m);
    if (st == LC_OK) st = lc_tensor_new(LC_F32, test_shape3(1, 1, 4), &x);
    if (st == LC_OK) st = lc_tensor_set_requires_grad(x, true);
    if (st == LC_OK) st = lc_module_call(m, x, &y);
    if (st == LC_OK) st = lc_tensor_new(LC_F32, y->shape, &seed);
    if (st == LC_OK) st = lc_backward(y, seed);
    if (st == LC_OK) st = lc_tensor_clone(x, &x2);
    lc_tensor_free(x2);
    lc_tensor_free(seed);
    lc_tensor_free(y);
    lc_tensor_free(x);
    lc_module_free(m);
    return st;
}

/* A model with parameters and a loss through the tensor API: parameter creation, a call that
 * records parameters, a two-input call, a backward filling every parameter's .grad. */
static lc_status s_parameters(void) {
    lc_module *model = NULL, *loss = NULL;
    lc_tensor *x = NULL, *t = NULL, *y = NULL, *l = NULL, *w = NULL;
    lc_mseloss_params mp = lc_mseloss_defaults();
    lc_status st = lc_model_parse("Conv1d(2, 2, 3, padding='same', groups=2)\nReLU()\nLinear(5, 1)\n", "m.txt", &model);
    if (st == LC_OK) st = lc_mseloss_new(&mp, &loss);
    if (st == LC_OK) st = lc_tensor_new(LC_F32, test_shape3(1, 2, 5), &x);
    if (st == LC_OK) st = lc_tensor_new(LC_F32, test_shape3(1, 2, 1), &t);
    if (st == LC_OK) st = lc_module_call(model, x, &y);
    if (st == LC_OK) st = lc_module_call_inputs(loss, (lc_tensor *[]){y, t}, 2, &l);
    if (st == LC_OK) st = lc_backward(l, NULL);
    if (st == LC_OK) st = lc_module_param_find(model, "2.weight", &w);
    if (st == LC_OK) st = lc_module_set_param(model, "2.weight", w);
    lc_tensor_free(l);
    lc_tensor_free(y);
    lc_tensor_free(t);
    lc_tensor_free(x);
    lc_module_free(loss);
    lc_module_free(model);
    return st;
}

typedef struct scenario {
    const char *name;
    lc_status (*run)(void);
} scenario;

static const scenario SCENARIOS[] = {
    {"module graph", s_module_graph},
    {"text IR + interpreter", s_text_ir_and_interp},
    {"model spec", s_model_spec},
    {"npy", s_npy},
    {"autodiff + pipeline", s_autodiff_pipeline},
    {"autograd", s_autograd},
    {"parameters", s_parameters},
};

static void test_success_paths(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof SCENARIOS / sizeof SCENARIOS[0]; i++) {
        lc_status st = SCENARIOS[i].run();
        if (st != LC_OK) fail_msg("%s: %s", SCENARIOS[i].name, lc_last_error());
    }
}

static void test_every_allocation_may_fail(void **state) {
    (void)state;
#if !INJECT
    skip();
#else
    long total = 0;
    for (size_t i = 0; i < sizeof SCENARIOS / sizeof SCENARIOS[0]; i++) {
        const scenario *s = &SCENARIOS[i];
        assert_int_equal(s->run(), LC_OK); /* warm up lazily built tables */
        for (long k = 0;; k++) {
            lc_clear_error();
            live = 0;
            hit = false;
            counting = true;
            countdown = k;
            lc_status st = s->run();
            countdown = -1;
            counting = false;
            if (live != 0)
                fail_msg("%s, allocation %ld failing: %ld block(s) leaked (status %s: %s)", s->name,
                         k, live, lc_status_str(st), lc_last_error());
            if (!hit) {
                if (st != LC_OK) fail_msg("%s failed with no injected failure: %s", s->name, lc_last_error());
                total += k;
                break;
            }
            if (getenv("ALLOC_VERBOSE")) fprintf(stderr, "%s k=%ld: %s %s\n", s->name, k, lc_status_str(st), lc_last_error());
            if (st == LC_OK) continue; /* recovered from the failure: fine */
            if (st != LC_ERR_NOMEM && st != LC_ERR_IO)
                fail_msg("%s, allocation %ld failing: status %s (%s), want out of memory", s->name,
                         k, lc_status_str(st), lc_last_error());
            if (lc_last_error()[0] == '\0')
                fail_msg("%s, allocation %ld failing: no message", s->name, k);
            char *twice = test_repeated_context(lc_last_error());
            if (twice) fail_msg("%s, allocation %ld failing: \"%s\" twice in \"%s\"", s->name, k, twice, lc_last_error());
        }
    }
    print_message("injected %ld allocation failures\n", total);
#endif
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_success_paths),
        cmocka_unit_test(test_every_allocation_may_fail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
