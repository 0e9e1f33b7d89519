/* lucidc: run, inspect and check Lucid pipelines from the command line (docs/cli.md).
 * This file dispatches to the subcommands, answers --help for each (the texts of dump and demo
 * live here, those of run and check beside their parsers), and owns the one-line diagnostic
 * format. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "lucid/nn.h"
#include "lucid/version.h"

static const char USAGE[] =
    "usage: lucidc <command> [options]\n"
    "\n"
    "commands:\n"
    "  run    run a model on a .npy input, forward and backward, write the results\n"
    "  dump   print the compiler's stages for a model or a text-IR file\n"
    "  check  run conformance case directories and compare with their expected results\n"
    "  demo   a built-in model, forward and backward, every stage summarized, timed\n"
    "\n"
    "lucidc <command> --help (or lucidc help <command>) describes a command's options;\n"
    "lucidc --version prints the version and the LLVM it was built with.\n"
    "\n"
    "A model is one module call per line (file) or per --module, in Python syntax:\n";
/* ...then the modules, from the library's module table, then: */
static const char USAGE_END[] =
    "Exit status: 0 success, 1 check mismatch, 2 usage, input, file or parameter error.\n";

static const char DUMP_USAGE[] =
    "usage: lucidc dump (--model FILE | --module SPEC ... | --ir FILE) [--shape D0,D1,...]\n"
    "                   [--dtype f32|f64] [--backward] [--stage LIST | --stage all]\n"
    "                   [--format text|dot] [-o DIR]\n"
    "\n"
    "Print the compiler's stages for a model, or for text IR read back with --ir.\n"
    "\n"
    "  --model FILE, --module SPEC   the model, as for lucidc run (--module repeats)\n"
    "  --ir FILE           text IR as the graph stages print it (holds its shapes and dtypes)\n"
    "  --shape D0,D1,...   the input shape (default 8,16,4096)\n"
    "  --dtype f32|f64     the input dtype (default f32)\n"
    "  --backward          add the backward graph (stage autodiff)\n"
    "  --stage LIST        comma-separated stages, or all (default: built; graph is an alias);\n"
    "                      in pipeline order:\n"
#define LC_STAGE(ID, name, artefact, ext, about) "                        " name ": " about "\n"
#include "lucid/stages.def"
#undef LC_STAGE
    "  --format text|dot   graph stages as text IR (default) or Graphviz DOT; on stdout, dot\n"
    "                      is one DOT stream (stage headers and text stages as // comments)\n"
    "  -o DIR              one file per stage, DIR/NN-NAME.EXT, instead of stdout\n"
    "  -h, --help          this text\n"
    "\n"
    "Each option but --module is given at most once. On stdout each stage follows a line\n"
    "';; stage NAME'.\n"
    "Exit status: 0 success, 2 usage, input, file or parameter error.\n";

static const char DEMO_USAGE[] =
    "usage: lucidc demo\n"
    "\n"
    "Build a fixed model, AvgPool1d(3, stride 1, padding 1) then LPPool1d(2, 4), on generated\n"
    "float32 input of shape (8, 16, 4096); print its graph IR and every compiler stage with\n"
    "its time; run forward and forward+backward on the JIT, check them against the\n"
    "interpreter and report compile and run times and bandwidth. Takes no options but\n"
    "-h, --help.\n"
    "Exit status: 0 success, 1 a result differs from the interpreter, 2 an error.\n";

/* The subcommands and, for --help, the options of each that stand alone (every other option
 * takes a value, so a "--help" right after one is that value, not a request for help). */
typedef struct command {
    const char *name;
    int (*entry)(int, char **);
    const char *usage;
    const char *const *flags;
} command;

static const char *const NO_FLAGS[] = {NULL};
static const char *const DUMP_FLAGS[] = {"--backward", NULL};

static const command COMMANDS[] = {
    {"run", cli_run, cli_run_usage, NO_FLAGS},
    {"dump", cli_dump, DUMP_USAGE, DUMP_FLAGS},
    {"check", cli_check, cli_check_usage, NO_FLAGS},
    {"demo", cli_demo, DEMO_USAGE, NO_FLAGS},
};
enum { N_COMMANDS = sizeof COMMANDS / sizeof COMMANDS[0] };

static bool is_help(const char *arg) { return !strcmp(arg, "-h") || !strcmp(arg, "--help"); }

static bool is_flag(const command *c, const char *arg) {
    for (const char *const *f = c->flags; *f; f++)
        if (!strcmp(*f, arg)) return true;
    return false;
}

/* True when the arguments ask for help: -h or --help as an option, not as an option's value
 * (`--out --help` names a file) and not after "--". */
static bool wants_help(const command *c, int argc, char **argv) {
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "--")) return false;
        if (is_help(arg)) return true;
        if (arg[0] == '-' && arg[1] && !strchr(arg, '=') && !is_flag(c, arg)) i++;
    }
    return false;
}

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

/* `msg` past a leading "<word>: " that repeats the last word of `where` (a library message
 * "interp: cannot allocate ..." under where "interp", or "fuse: ..." under "stage fuse"), so a
 * context the library already gave is not printed twice. */
static const char *skip_repeated_context(const char *where, const char *msg) {
    if (!where || !where[0]) return msg;
    const char *word = where + strlen(where);
    while (word > where && word[-1] != ' ') word--;
    size_t n = strlen(word);
    if (n && !strncmp(msg, word, n) && msg[n] == ':' && msg[n + 1] == ' ') return msg + n + 2;
    return msg;
}

int cli_lib_error(const char *where) {
    const char *msg = lc_last_error();
    print_line(where, msg[0] ? skip_repeated_context(where, msg) : "unknown error");
    return CLI_ERROR;
}

static const command *find_command(const char *name) {
    for (int i = 0; i < N_COMMANDS; i++)
        if (!strcmp(COMMANDS[i].name, name)) return &COMMANDS[i];
    return NULL;
}

static int print_usage(const char *text) {
    fputs(text, stdout);
    return fflush(stdout) == 0 ? CLI_OK : CLI_ERROR;
}

/* The top-level usage: its module list is the library's module table, so a module the
 * library gains is listed with no change here. */
static int print_main_usage(void) {
    fputs(USAGE, stdout);
    for (int i = 0; i < lc_module_info_count(); i++) {
        const lc_module_info *m = lc_module_info_at(i);
        printf("  %s(", m->name);
        for (int k = 0; k < m->n_args; k++) {
            const lc_arg_info *a = &m->args[k];
            printf("%s%s", k ? ", " : "", a->name);
            if (!a->required) printf("=%s", a->default_text);
        }
        printf(")\n");
    }
    return print_usage(USAGE_END);
}

int main(int argc, char **argv) {
    if (argc < 2) return cli_error(NULL, "no command (run, dump, check, demo; see lucidc --help)");
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--version")) {
        printf("lucidc %s (LLVM %d)\n", lc_version(), LUCID_LLVM_VERSION_MAJOR);
        return CLI_OK;
    }
    if (is_help(cmd) || !strcmp(cmd, "help")) {
        if (argc == 2) return print_main_usage();
        const command *c = find_command(argv[2]);
        if (!c) return cli_error("help", "unknown command '%s' (commands: run, dump, check, demo)", argv[2]);
        if (argc > 3) return cli_error("help", "unexpected argument '%s'", argv[3]);
        return print_usage(c->usage);
    }
    const command *c = find_command(cmd);
    if (!c) {
        if (cmd[0] == '-' && cmd[1])
            return cli_error(NULL, "unknown option '%s' (commands: run, dump, check, demo; see lucidc --help)", cmd);
        return cli_error(NULL, "unknown command '%s' (commands: run, dump, check, demo; see lucidc --help)", cmd);
    }
    if (wants_help(c, argc - 2, argv + 2)) return print_usage(c->usage);
    return c->entry(argc - 2, argv + 2);
}
