/* lucidc dump: print the compiler's stages for a model (or for text IR read back with --ir),
 * each under ";; stage NAME" on stdout (with --format dot: "// stage NAME", one DOT stream),
 * or with -o DIR one file per stage, DIR/NN-NAME.EXT, NN the stage's two-digit position in
 * this run's pipeline. The library's driver runs the stages up to the last one asked for. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"

typedef struct dump_opts {
    cli_model_opts model;
    const char *ir_file;
    lc_shape shape;
    bool shape_given, dtype_given, backward, dot;
    lc_dtype dtype;
    const char *stages;   /* --stage value (NULL = built) */
    const char *out_dir;
} dump_opts;

static int parse_dump_args(int argc, char **argv, dump_opts *o) {
    cli_args a = {.argc = argc, .argv = argv};
    int st = CLI_OK;
    while (a.i < argc && st == CLI_OK) {
        const char *v;
        if (cli_model_option(&a, &o->model, &st)) continue;
        if (cli_opt_value(&a, "--ir", &v, &st)) {
            if (st == CLI_OK && o->ir_file) st = cli_error("--ir", "given twice");
            o->ir_file = v;
            continue;
        }
        if (cli_opt_value(&a, "--shape", &v, &st)) {
            if (st == CLI_OK) st = cli_parse_shape("--shape", v, &o->shape);
            o->shape_given = true;
            continue;
        }
        if (cli_opt_value(&a, "--dtype", &v, &st)) {
            if (st == CLI_OK) st = cli_parse_dtype("--dtype", v, &o->dtype);
            o->dtype_given = true;
            continue;
        }
        if (cli_opt_value(&a, "--stage", &v, &st)) { o->stages = v; continue; }
        if (cli_opt_value(&a, "--format", &v, &st)) {
            if (st != CLI_OK) continue;
            if (!strcmp(v, "dot")) o->dot = true;
            else if (!strcmp(v, "text")) o->dot = false;
            else st = cli_error("--format", "expected text or dot, got '%s'", v);
            continue;
        }
        if (cli_opt_value(&a, "-o", &v, &st)) { o->out_dir = v; continue; }
        if (cli_opt_flag(&a, "--backward")) { o->backward = true; continue; }
        const char *arg = argv[a.i];
        return cli_error("dump", arg[0] == '-' ? "unknown option '%s'" : "unexpected argument '%s'", arg);
    }
    if (st != CLI_OK) return st;
    if (o->ir_file && !cli_model_empty(&o->model))
        return cli_error("--ir", "cannot be combined with --model or --module (give one)");
    if (!o->ir_file && cli_model_empty(&o->model))
        return cli_error("dump", "no model: give --model FILE, --module SPEC or --ir FILE");
    if (o->ir_file && o->shape_given) return cli_error("--shape", "not used with --ir (the IR holds its shapes)");
    if (o->ir_file && o->dtype_given) return cli_error("--dtype", "not used with --ir (the IR holds its dtypes)");
    return CLI_OK;
}

/* Which stages to print, as LC_STAGE_BITs. Reports unknown names and autodiff without
 * --backward. */
static int select_stages(const dump_opts *o, uint32_t *selected) {
    *selected = 0;
    if (!o->stages) {
        *selected = LC_STAGE_BIT(LC_STAGE_BUILT);
        return CLI_OK;
    }
    if (!strcmp(o->stages, "all")) {
        *selected = LC_STAGE_BIT(LC_STAGE_COUNT) - 1u;
        if (!o->backward) *selected &= ~LC_STAGE_BIT(LC_STAGE_AUTODIFF);
        return CLI_OK;
    }
    for (const char *p = o->stages;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == 0)
            return cli_error("--stage", "expected a comma-separated list of stage names or 'all', got '%s'", o->stages);
        int found = lc_stage_lookup(p, len);
        if (found < 0) {
            char list[1024] = "";
            size_t used = 0;
            for (int i = 0; i < LC_STAGE_COUNT && used < sizeof list; i++) {
                int k = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                                 lc_stage_name((lc_stage)i));
                if (k < 0) break;
                used += (size_t)k;
            }
            return cli_error("--stage", "unknown stage '%.*s' (stages: %s, all; graph = built)",
                             (int)len, p, list);
        }
        if (found == LC_STAGE_AUTODIFF && !o->backward)
            return cli_error("--stage", "stage autodiff needs --backward");
        *selected |= LC_STAGE_BIT(found);
        if (!comma) break;
        p = comma + 1;
    }
    return CLI_OK;
}

/* The stage's text on stdout under its header. With --format dot the stream stays one valid
 * DOT input: headers are DOT comments, each graph a whole digraph, and the text of the other
 * stages is commented out line by line. */
static void print_stage(const char *name, bool graph, bool dot, const char *text) {
    if (!dot) {
        printf(";; stage %s\n%s", name, text);
        if (text[0] && text[strlen(text) - 1] != '\n') putchar('\n');
        return;
    }
    printf("// stage %s\n", name);
    if (graph) {
        fputs(text, stdout);
        if (text[0] && text[strlen(text) - 1] != '\n') putchar('\n');
        return;
    }
    for (const char *line = text; *line;) {
        size_t len = strcspn(line, "\n");
        printf("//%s%.*s\n", len ? " " : "", (int)len, line);
        line += len + (line[len] == '\n');
    }
}

static int load_graph(const dump_opts *o, lc_graph **g) {
    if (o->ir_file) {
        char *text;
        if (cli_read_text("--ir", o->ir_file, &text) != CLI_OK) return CLI_ERROR;
        lc_status st = lc_graph_parse(text, g);
        free(text);
        if (st != LC_OK) return cli_error("--ir", "%s:%s", o->ir_file, lc_last_error());
        if (lc_graph_output_count(*g) == 0) {
            lc_graph_free(*g);
            *g = NULL;
            return cli_error("--ir", "%s: the graph has no outputs", o->ir_file);
        }
        return CLI_OK;
    }
    lc_module *m;
    if (cli_model_load(&o->model, &m) != CLI_OK) return CLI_ERROR;
    if (cli_model_check_layers(m, &o->model) != CLI_OK) {
        lc_module_free(m);
        return CLI_ERROR;
    }
    lc_status st = cli_build_forward(m, o->dtype, o->shape, g);
    lc_module_free(m);
    if (st != LC_OK) {
        char where[96];
        int n = snprintf(where, sizeof where, "--shape ");
        for (int i = 0; i < o->shape.rank && n > 0 && (size_t)n < sizeof where; i++)
            n += snprintf(where + n, sizeof where - (size_t)n, "%s%lld", i ? "," : "",
                          (long long)o->shape.dim[i]);
        return cli_lib_error(where);
    }
    return CLI_OK;
}

int cli_dump(int argc, char **argv) {
    dump_opts o = {.dtype = LC_F32, .shape = {.rank = 3, .dim = {8, 16, 4096}}};
    int st = parse_dump_args(argc, argv, &o);
    if (st != CLI_OK) return st;
    uint32_t selected;
    if ((st = select_stages(&o, &selected)) != CLI_OK) return st;
    if (o.out_dir && cli_ensure_dir(o.out_dir) != LC_OK) return cli_lib_error("-o");

    lc_graph *g = NULL;
    if ((st = load_graph(&o, &g)) != CLI_OK) return st;
    /* the walk ends at the last stage asked for: `--stage built` never starts LLVM */
    lc_stage last = LC_STAGE_BUILT;
    for (int s = 0; s < LC_STAGE_COUNT; s++)
        if (selected & LC_STAGE_BIT(s)) last = (lc_stage)s;
    cli_pipeline p = {.keep_text = selected, .dot = o.dot};
    const char *failed = NULL;
    lc_status ps = cli_pipeline_run(g, o.backward, last, &p, NULL, &failed);
    lc_graph_free(g);
    if (ps != LC_OK) {
        cli_pipeline_free(&p);
        char where[64];
        snprintf(where, sizeof where, "stage %s", failed ? failed : "?");
        return cli_lib_error(where);
    }
    for (int i = 0; i < LC_STAGE_COUNT && st == CLI_OK; i++) {
        const cli_stage *s = &p.stage[i];
        if (!(selected & LC_STAGE_BIT(i)) || !s->ran) continue;
        const char *name = lc_stage_name((lc_stage)i);
        bool graph = lc_stage_artefact((lc_stage)i) == LC_ARTEFACT_GRAPH;
        const char *text = s->text ? s->text : "";
        if (o.out_dir) {
            const char *ext = graph && o.dot ? "dot" : lc_stage_ext((lc_stage)i);
            size_t len = strlen(o.out_dir) + strlen(name) + 16;
            char *path = malloc(len);
            if (!path) st = cli_error("-o", "out of memory");
            else {
                snprintf(path, len, "%s/%02d-%s.%s", o.out_dir, s->position, name, ext);
                if (cli_write_atomic(path, text, strlen(text)) != LC_OK) st = cli_lib_error("-o");
                else printf("%s\n", path);
            }
            free(path);
        } else {
            print_stage(name, graph, o.dot, text);
        }
    }
    cli_pipeline_free(&p);
    if (fflush(stdout) != 0 && st == CLI_OK) st = cli_error("dump", "cannot write to stdout");
    return st;
}
