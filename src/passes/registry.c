/* The pass registry: the LC_PASS_STAGE rows of lucid/stages.def, looked up by name. */
#include <string.h>

#include "passes/pass.h"

static const lc_pass registry[] = {
#define LC_STAGE(ID, name, artefact, ext, about)
#define LC_PASS_STAGE(ID, name, pass, about) {name, lc_pass_##pass},
#include "lucid/stages.def"
#undef LC_PASS_STAGE
#undef LC_STAGE
};

enum { REGISTRY_COUNT = (int)(sizeof registry / sizeof registry[0]) };

const lc_pass *lc_pass_find(const char *name) {
    if (!name) return NULL;
    for (int i = 0; i < REGISTRY_COUNT; i++)
        if (strcmp(registry[i].name, name) == 0) return &registry[i];
    return NULL;
}

int lc_pass_count(void) { return REGISTRY_COUNT; }

const lc_pass *lc_pass_at(int i) { return i >= 0 && i < REGISTRY_COUNT ? &registry[i] : NULL; }
