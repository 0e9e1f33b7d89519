/* One call of the library's driver, with a hook that keeps what dump and demo show: every
 * stage's time and summary, and the text or graph of the stages asked for. The stage names,
 * their order and their count all come from the library's table, so a new pass appears here,
 * in `dump --stage` and in `--stage all` without a change to lucidc. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"
#include "support/memstream.h"

/* A graph as text IR or as Graphviz DOT, malloc'd. */
static lc_status graph_text(const lc_graph *g, bool dot, char **out) {
    if (!dot) return lc_graph_to_string(g, out);
    lc_memstream m;
    LC_TRY(lc_memstream_open(&m));
    return lc_memstream_finish(&m, lc_graph_print_dot(g, m.file), out);
}

static lc_status keep_stage(const lc_stage_info *info, void *user) {
    cli_pipeline *p = user;
    cli_stage *s = &p->stage[info->stage];
    s->ran = true;
    s->position = info->index;
    s->ms = info->ms;
    snprintf(s->summary, sizeof s->summary, "%s", info->summary ? info->summary : "");
    uint32_t bit = LC_STAGE_BIT(info->stage);
    if (info->artefact == LC_ARTEFACT_GRAPH) {
        if (p->keep_text & bit) LC_TRY(graph_text(info->graph, p->dot, &s->text));
        if (p->keep_graph & bit) LC_TRY(lc_graph_clone(info->graph, &s->graph));
    } else if (p->keep_text & bit) {
        s->text = strdup(info->text ? info->text : "");
        if (!s->text) return lc_fail(LC_ERR_NOMEM, "dump: out of memory");
    }
    return LC_OK;
}

lc_status cli_pipeline_run(const lc_graph *built, bool backward, lc_stage last, cli_pipeline *p,
                           struct lc_program **program, const char **failed_stage) {
    lc_drive_options o = lc_drive_options_default();
    o.last = last;
    o.backward = backward;
    o.text = p->keep_text;
    /* a program is compiled as lc_compile would (quick first where that pays); a dump shows
     * the optimized compile */
    o.tiered = program && lc_compile_options_default().tiered;
    o.on_stage = keep_stage;
    o.user = p;
    double t0 = lc_now_ms();
    lc_status st = lc_drive(built, &o, NULL, program);
    p->total_ms = lc_now_ms() - t0;
    *failed_stage = NULL;
    if (st != LC_OK) { /* the first stage after the last one that reported */
        int s = 0;
        while (s < LC_STAGE_COUNT && (p->stage[s].ran || (s == LC_STAGE_AUTODIFF && !backward))) s++;
        *failed_stage = lc_stage_name((lc_stage)(s < LC_STAGE_COUNT ? s : LC_STAGE_COUNT - 1));
    }
    return st;
}

void cli_pipeline_free(cli_pipeline *p) {
    for (int s = 0; s < LC_STAGE_COUNT; s++) {
        free(p->stage[s].text);
        lc_graph_free(p->stage[s].graph);
        p->stage[s].text = NULL;
        p->stage[s].graph = NULL;
    }
}
