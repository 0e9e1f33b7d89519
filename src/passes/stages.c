/* The stage table (lucid/stages.def) as data: names, artefacts, dump extensions. Kept beside
 * the pass registry, which is expanded from the same rows. */
#include <string.h>

#include "lucid/driver.h"

typedef struct stage_row {
    const char *name;
    lc_artefact artefact;
    const char *ext;
    const char *about;
} stage_row;

static const stage_row g_rows[] = {
#define LC_STAGE(ID, name, artefact, ext, about) {name, LC_ARTEFACT_##artefact, ext, about},
#include "lucid/stages.def"
#undef LC_STAGE
};

_Static_assert(sizeof g_rows / sizeof g_rows[0] == LC_STAGE_COUNT, "one row per lc_stage");
_Static_assert(LC_STAGE_COUNT <= 32, "a set of stages is a uint32_t of LC_STAGE_BITs");

static const stage_row *row(lc_stage s) {
    return (unsigned)s < (unsigned)LC_STAGE_COUNT ? &g_rows[s] : NULL;
}

const char *lc_stage_name(lc_stage s) { return row(s) ? row(s)->name : NULL; }
lc_artefact lc_stage_artefact(lc_stage s) { return row(s) ? row(s)->artefact : LC_ARTEFACT_GRAPH; }
const char *lc_stage_ext(lc_stage s) { return row(s) ? row(s)->ext : NULL; }
const char *lc_stage_about(lc_stage s) { return row(s) ? row(s)->about : NULL; }

int lc_stage_lookup(const char *name, size_t len) {
    if (!name) return -1;
    if (len == 5 && strncmp(name, "graph", 5) == 0) return LC_STAGE_BUILT;
    for (int i = 0; i < LC_STAGE_COUNT; i++)
        if (strlen(g_rows[i].name) == len && strncmp(g_rows[i].name, name, len) == 0) return i;
    return -1;
}
