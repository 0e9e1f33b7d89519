/* lucidc dump: print the compiler's stages for a model (or for text IR read back with --ir),
 * each under ";; stage NAME" on stdout, or with -o DIR one file per stage, DIR/NN-NAME.EXT,
 * NN the stage's two-digit position in this run's pipeline. */
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

/* Which stages to print: selected[i] for cli_stage_name_at(i). Reports unknown names, stages
 * this build cannot produce yet, and autodiff without --backward. */
static int select_stages(const dump_opts *o, bool *selected) {
    int n = cli_stage_name_count();
    if (!o->stages) {
        selected[0] = true; /* built */
        return CLI_OK;
    }
    if (!strcmp(o->stages, "all")) {
        for (int i = 0; i < n; i++) {
            const char *name = cli_stage_name_at(i);
            selected[i] = cli_stage_available(name) && (o->backward || strcmp(name, "autodiff"));
        }
        return CLI_OK;
    }
    const char *p = o->stages;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char name[64];
        if (len == 0 || len >= sizeof name)
            return cli_error("--stage", "expected a comma-separated list of stage names or 'all', got '%s'", o->stages);
        memcpy(name, p, len);
        name[len] = '\0';
        if (!strcmp(name, "graph")) strcpy(name, "built");
        int found = -1;
        for (int i = 0; i < n; i++)
            if (!strcmp(cli_stage_name_at(i), name)) found = i;
        if (found < 0) {
            char list[1024] = "";
            size_t used = 0;
            for (int i = 0; i < n && used < sizeof list; i++) {
                int k = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", cli_stage_name_at(i));
                if (k < 0) break;
                used += (size_t)k;
            }
            return cli_error("--stage", "unknown stage '%s' (stages: %s, all; graph = built)", name, list);
        }
        if (!cli_stage_available(name)) return cli_error("--stage", "stage %s not available yet", name);
        if (!strcmp(name, "autodiff") && !o->backward)
            return cli_error("--stage", "stage autodiff needs --backward");
        selected[found] = true;
        if (!comma) break;
        p = comma + 1;
    }
    return CLI_OK;
}

/* The stage's text as it is printed or written. */
static lc_status stage_text(const cli_stage *s, bool dot, char **out, const char **ext) {
    *ext = s->ext;
    if (!s->is_graph) {
        *out = strdup(s->text ? s->text : "");
        return *out ? LC_OK : lc_fail(LC_ERR_NOMEM, "dump: out of memory");
    }
    if (!dot) return lc_graph_to_string(s->graph, out);
    *ext = "dot";
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem) return lc_fail(LC_ERR_NOMEM, "dump: cannot open a memory stream");
    lc_status st = lc_graph_print_dot(s->graph, mem);
    if (fclose(mem) != 0 && st == LC_OK) st = lc_fail(LC_ERR_NOMEM, "dump: out of memory");
    if (st != LC_OK) {
        free(buf);
        return st;
    }
    *out = buf;
    return LC_OK;
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
    bool selected[CLI_MAX_STAGES + 8] = {false};
    if ((st = select_stages(&o, selected)) != CLI_OK) return st;
    if (o.out_dir && cli_ensure_dir(o.out_dir) != LC_OK) return cli_lib_error("-o");

    lc_graph *g = NULL;
    if ((st = load_graph(&o, &g)) != CLI_OK) return st;
    cli_pipeline p;
    const char *failed = NULL;
    lc_status ps = cli_pipeline_run(g, o.backward, &p, &failed);
    lc_graph_free(g);
    if (ps != LC_OK) {
        cli_pipeline_free(&p);
        char where[64];
        snprintf(where, sizeof where, "stage %s", failed ? failed : "?");
        return cli_lib_error(where);
    }
    int n = cli_stage_name_count();
    for (int i = 0; i < n && st == CLI_OK; i++) {
        if (!selected[i]) continue;
        const char *name = cli_stage_name_at(i);
        const cli_stage *s = cli_pipeline_find(&p, name);
        if (!s) continue;
        int position = (int)(s - p.stages);
        char *text = NULL;
        const char *ext;
        if (stage_text(s, o.dot, &text, &ext) != LC_OK) {
            st = cli_lib_error(name);
            break;
        }
        if (o.out_dir) {
            size_t len = strlen(o.out_dir) + strlen(name) + 16;
            char *path = malloc(len);
            if (!path) st = cli_error("-o", "out of memory");
            else {
                snprintf(path, len, "%s/%02d-%s.%s", o.out_dir, position, name, ext);
                if (cli_write_atomic(path, text, strlen(text)) != LC_OK) st = cli_lib_error("-o");
                else printf("%s\n", path);
            }
            free(path);
        } else {
            printf(";; stage %s\n%s", name, text);
            if (text[0] && text[strlen(text) - 1] != '\n') putchar('\n');
        }
        free(text);
    }
    cli_pipeline_free(&p);
    if (fflush(stdout) != 0 && st == CLI_OK) st = cli_error("dump", "cannot write to stdout");
    return st;
}
