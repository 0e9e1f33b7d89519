/* lucidc internals shared by the subcommands. Each subcommand is one file (run.c, dump.c,
 * check.c, demo.c) with one entry point returning the process exit status:
 * 0 success, 1 a check found a mismatch, 2 any usage, input, file or parameter error
 * (docs/cli.md). Errors print exactly one stderr line "lucidc: <where>: <what>". */
#ifndef LUCIDC_CLI_H
#define LUCIDC_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lucid/ir.h"
#include "lucid/nn.h"
#include "lucid/tensor.h"
#include "support/clock.h" /* lc_now_ms: the library's stage clock */
#include "support/error.h" /* LC_PRINTF */

enum { CLI_OK = 0, CLI_MISMATCH = 1, CLI_ERROR = 2 };

/* ---- diagnostics (main.c) ---- */

/* Print "lucidc: <where>: <what>" (no "<where>: " when where is NULL) as one line and return
 * CLI_ERROR. Newlines in the text are flattened so the diagnostic stays one line. */
int cli_error(const char *where, const char *fmt, ...) LC_PRINTF(2, 3);
/* The same with the library's last message as <what>. */
int cli_lib_error(const char *where);

/* ---- argument cursor (args.c) ---- */

enum { CLI_MAX_SEEN = 32 };

typedef struct cli_args {
    int argc;
    char **argv;
    int i;             /* next argument to read */
    const char *opt;   /* the option being parsed, for messages */
    const char *seen[CLI_MAX_SEEN];        /* single-valued options given so far */
    const char *seen_value[CLI_MAX_SEEN];  /* and their values */
    int n_seen;
} cli_args;

/* True when argv[i] is option `name` ("--out"), as "--out V" or "--out=V"; then *value is V
 * and the cursor moves past it. A missing value, and a second value for an option that takes
 * one (every option but --module), are reported (CLI_ERROR in *status). */
bool cli_opt_value(cli_args *a, const char *name, const char **value, int *status);
/* True when argv[i] is the flag `name` (no value); the cursor moves past it. */
bool cli_opt_flag(cli_args *a, const char *name);

/* Parsers for option values; each reports its own error ("--threads: ...") and returns
 * CLI_ERROR, or CLI_OK. */
int cli_parse_positive_int(const char *opt, const char *text, int64_t max, int64_t *out);
/* A random-stream seed (lucid/random.h): decimal digits, 0 .. 2^64 - 1. */
int cli_parse_seed(const char *opt, const char *text, uint64_t *out);
/* "N,C,L" or "C,L", each >= 1. */
int cli_parse_shape(const char *opt, const char *text, lc_shape *out);
int cli_parse_dtype(const char *opt, const char *text, lc_dtype *out);

/* ---- the model (model.c) ---- */

enum { CLI_MAX_MODULES = 256 };

typedef struct cli_model_opts {
    const char *model_file;                 /* --model F */
    const char *modules[CLI_MAX_MODULES];   /* --module S, in order */
    int n_modules;
} cli_model_opts;

/* Consume --model / --module at the cursor; true when it was one of them. */
bool cli_model_option(cli_args *a, cli_model_opts *m, int *status);
/* True when neither --model nor --module was given. */
bool cli_model_empty(const cli_model_opts *m);
/* Build the module (a Sequential when there are several). Reports its own errors. */
int cli_model_load(const cli_model_opts *m, lc_module **out);
/* Refuse a model whose first layer takes two inputs (MSELoss): a spec is a chain of layers. */
int cli_model_check_layers(const lc_module *m, const cli_model_opts *o);

/* ---- files (files.c) ---- */

/* Read a whole file as text (NUL-terminated; a NUL byte inside is an error); the message
 * starts with the path. */
lc_status cli_slurp(const char *path, char **out);
/* The same, reporting errors as "lucidc: <where>: <path>: <reason>". */
int cli_read_text(const char *where, const char *path, char **out);
/* Write bytes to `path` through a temporary name in the same directory ("PATH.tmp-PID-N",
 * removed on failure and on SIGINT/SIGTERM) and a rename, so the file appears whole or not at
 * all. Returns LC_OK or a status with the message. */
lc_status cli_write_atomic(const char *path, const char *data, size_t len);
/* All of stdin (a pipe works: nothing seeks). The caller frees *out. */
lc_status cli_read_stdin(char **out, size_t *len);

/* An output file of a run (--out, --grad-in). Its target is checked before anything is
 * computed; its bytes are staged under a temporary name; cli_outputs_commit renames every
 * staged output only once all of them are written, so a failure leaves nothing behind.
 *   "-"                 stdout, written in place (so is a path naming the process's stdout)
 *   a character device  written in place, as cp does (/dev/null)
 *   a symlink           the file it points to is replaced; the link stays
 *   a regular file      replaced whole (keeping its permission bits), or created
 *   anything else       refused: a directory, FIFO, socket, block device or dangling link */
typedef enum cli_out_kind { CLI_OUT_FILE, CLI_OUT_STDOUT, CLI_OUT_DEVICE } cli_out_kind;

typedef struct cli_output {
    const char *opt;    /* "--out", for messages */
    const char *path;   /* as given */
    cli_out_kind kind;
    char *target;       /* CLI_OUT_FILE: the file to replace (a symlink's target); owned */
    unsigned mode;      /* the replaced file's permission bits, when has_mode */
    bool has_mode;
    char *tmp;          /* the staged temporary; owned */
    bool staged;
    void *data;         /* in-place outputs: the bytes until commit; owned */
    size_t len;
} cli_output;

/* Check `path` as a target (reports its own error, naming `opt`). */
int cli_output_resolve(const char *opt, const char *path, cli_output *o);
/* True when both name the same file (or both stdout). */
bool cli_output_same(const cli_output *a, const cli_output *b);
/* Take `data` (malloc'd; freed here): a file's bytes go to its temporary now, in-place
 * outputs keep them until commit. */
int cli_output_stage(cli_output *o, void *data, size_t len);
/* Write the in-place outputs, then rename every temporary; on any failure every temporary
 * is removed. Environment LUCIDC_TEST_HOLD_MS=N (a test hook, 0..60000) waits N ms before
 * this, with the temporaries written, so tests can interrupt a run there. */
int cli_outputs_commit(cli_output *outs, int n);
/* Remove what is still staged and free. */
void cli_output_free(cli_output *o);

/* mkdir -p of one level: the directory exists afterwards. */
lc_status cli_ensure_dir(const char *path);

/* ---- graphs and engines (engine.c) ---- */

typedef enum cli_engine { CLI_ENGINE_JIT, CLI_ENGINE_INTERP } cli_engine;

int cli_parse_engine(const char *opt, const char *text, cli_engine *out);
const char *cli_engine_name(cli_engine e);

/* The forward graph of `m` on one input "x" of `dtype` and `shape`; its one output is y. */
lc_status cli_build_forward(const lc_module *m, lc_dtype dtype, lc_shape shape, lc_graph **out);
/* Forward and backward in one graph: inputs (x, seed for y), outputs (y, d(sum(y*seed))/dx). */
lc_status cli_build_training(const lc_graph *forward, lc_graph **out);
/* An ONNX AveragePool/LpPool conformance case (its case.json object) as an op graph over an
 * input of `dtype` and `shape`, built with ONNX's rules (check_onnx.c). */
struct lc_json;
lc_status cli_onnx_graph(const struct lc_json *c, lc_dtype dtype, lc_shape shape, lc_graph **out);

typedef struct cli_run_info {
    const char *engine;   /* what ran */
    int n_kernels;        /* compiled kernels (0 for the interpreter) */
    double compile_ms;    /* passes + compile (0 for the interpreter) */
    double run_ms;
} cli_run_info;

/* A graph ready to run on an engine: for the JIT, the graph after the default passes,
 * compiled once; for the interpreter, the graph itself. */
typedef struct cli_exec {
    cli_engine engine;
    const lc_graph *graph;       /* borrowed */
    struct lc_program *program;  /* JIT only: owned */
    cli_run_info info;
} cli_exec;

lc_status cli_exec_prepare(cli_engine engine, const lc_graph *g, cli_exec *e);
/* outputs[i] receives new tensors (caller frees); info.run_ms the time of this run. */
lc_status cli_exec_run(cli_exec *e, const lc_tensor *const *inputs, int n_inputs,
                       lc_tensor **outputs, int n_outputs);
void cli_exec_free(cli_exec *e);

/* Prepare, run once, free; info describes the run. */
lc_status cli_run_graph(cli_engine engine, const lc_graph *g, const lc_tensor *const *inputs,
                        int n_inputs, lc_tensor **outputs, int n_outputs, cli_run_info *info);

/* ---- comparison (compare.c) ---- */

typedef struct cli_compare {
    double max_abs, max_rel;  /* over all elements (rel over want != 0) */
    int64_t n_bad;            /* elements outside atol + rtol*|want| */
    int64_t first_bad;        /* flat index of the first, or -1 */
    double got_bad, want_bad;
} cli_compare;

/* Compare elementwise (shapes must match, checked by the caller). NaN matches NaN and an
 * infinity the same infinity. */
void cli_compare_tensors(const lc_tensor *got, const lc_tensor *want, double rtol, double atol,
                         cli_compare *out);
/* Combine two comparisons (forward and backward) into `acc`. */
void cli_compare_merge(cli_compare *acc, const cli_compare *more);

/* ---- parameter files (params.c) ---- */

/* One parameter of the model as `run` reads and writes it: DIR/<file>, where file is
 * "I.NAME.npy" (I the module's 0-based position, NAME its state_dict name). */
typedef struct cli_param {
    char file[192];
    lc_shape shape;
    char *grad_path;   /* --grad-params DIR/file once resolved; owned */
} cli_param;

typedef struct cli_params {
    int n;
    cli_param *p;      /* n entries, in the order the graph takes them */
} cli_params;

/* The model's parameters, in order (reports its own errors). Free with cli_params_free. */
int cli_params_of(lc_module *m, cli_params *out);
/* The modules' own values (their default init) converted to `dtype`, into values[k]. */
int cli_params_default(lc_module *m, const cli_params *ps, lc_dtype dtype, lc_tensor **values);
void cli_params_free(cli_params *ps);
/* Read DIR/<file> of every parameter into values[k] (of `dtype`, the input's): a *.npy in
 * DIR that is no parameter's, a missing file, another dtype or shape are errors naming the
 * file. On failure every values[k] is NULL. */
int cli_params_read(const char *dir, const cli_params *ps, lc_dtype dtype, lc_tensor **values);
/* --grad-params must not be the --params directory (NULL: none) nor an existing non-directory. */
int cli_params_check_dirs(const char *params_dir, const char *grad_dir);
/* Make `grad_dir` if missing and resolve outs[k] as the output DIR/<file> of parameter k. */
int cli_params_resolve_outputs(const char *grad_dir, cli_params *ps, cli_output *outs);

/* ---- subcommands ---- */

int cli_run(int argc, char **argv);
int cli_dump(int argc, char **argv);
int cli_check(int argc, char **argv);
int cli_demo(int argc, char **argv);
/* The demo's training part (demo_train.c); *ok is false when the loss did not fall or the JIT
 * and the interpreter disagree. */
int cli_demo_train(bool *ok);

/* Usage texts, one per subcommand (printed by --help / -h, exit 0). */
extern const char cli_run_usage[];
extern const char cli_check_usage[];

#endif
