/* lucidc: run, inspect and check Lucid pipelines from the command line (INTERFACES.md).
 * This file dispatches to the subcommands and owns the one-line diagnostic format. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char USAGE[] =
    "usage: lucidc <command> [options]\n"
    "\n"
    "commands:\n"
    "  run   (--model F | --module S ...) --input X.npy [--out Y.npy]\n"
    "        [--grad-out G.npy --grad-in GX.npy] [--engine jit|interp] [--threads N]\n"
    "  dump  (--model F | --module S ... | --ir FILE) [--shape N,C,L | --shape C,L]\n"
    "        [--dtype f32|f64] [--backward] [--stage LIST | --stage all]\n"
    "        [--format text|dot] [-o DIR]\n"
    "        stages, in pipeline order (lucid/stages.def):\n"
#define LC_STAGE(ID, name, artefact, ext, about) "          " name ": " about "\n"
#include "lucid/stages.def"
#undef LC_STAGE
    "        -o DIR writes DIR/NN-NAME.EXT; --format dot on stdout is one DOT stream\n"
    "        (other stages as // comments); default shape 8,16,4096, dtype f32\n"
    "  check [--engine jit|interp] PATH...   conformance case dirs, or dirs searched for them\n"
    "  demo                                  a built-in model, forward and backward, timed\n"
    "\n"
    "A model is one module call per line (file) or per --module, in Python syntax:\n"
    "  AvgPool1d(kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True)\n"
    "  LPPool1d(norm_type, kernel_size, stride=None, ceil_mode=False)\n"
    "Exit status: 0 success, 1 check mismatch, 2 usage, input, file or parameter error.\n";

/* One stderr line: flatten any newline the message may carry. */
static void print_line(const char *where, const char *what) {
    char line[2048];
    snprintf(line, sizeof line, "lucidc: %s%s%s", where ? where : "", where ? ": " : "", what);
    for (char *p = line; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    fprintf(stderr, "%s\n", line);
}

int cli_error(const char *where, const char *fmt, ...) {
    char what[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    print_line(where, what);
    return CLI_ERROR;
}

int cli_lib_error(const char *where) {
    const char *msg = lc_last_error();
    print_line(where, msg[0] ? msg : "unknown error");
    return CLI_ERROR;
}

int main(int argc, char **argv) {
    if (argc < 2) return cli_error(NULL, "no command (run, dump, check, demo; see lucidc --help)");
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        fputs(USAGE, stdout);
        return CLI_OK;
    }
    if (!strcmp(cmd, "run")) return cli_run(argc - 2, argv + 2);
    if (!strcmp(cmd, "dump")) return cli_dump(argc - 2, argv + 2);
    if (!strcmp(cmd, "check")) return cli_check(argc - 2, argv + 2);
    if (!strcmp(cmd, "demo")) return cli_demo(argc - 2, argv + 2);
    return cli_error(NULL, "unknown command '%s' (commands: run, dump, check, demo; see lucidc --help)",
                     cmd);
}
