/* The pass registry: the table of passes.def, looked up by name. */
#include <string.h>

#include "passes/pass.h"

static const lc_pass registry[] = {
#define LC_PASS(name, function) {#name, function},
#include "passes/passes.def"
#undef LC_PASS
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
