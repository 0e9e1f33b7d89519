/* Static facts about each op, expanded from the one table in ops.def. */
#include <string.h>

#include "lucid/ir.h"

/* Split the comma-separated attribute list of ops.def at compile time is not possible in C,
 * so each row is expanded into a string and split once on first use. */
typedef struct op_row {
    const char *name;
    int arity;
    lc_op_kind kind;
    const char *int_attrs;
    const char *real_attr;
} op_row;

static const op_row rows[LC_OP_COUNT] = {
#define LC_OP(ENUM, name, arity, kind, int_attrs, real_attr)                                   \
    [LC_OP_##ENUM] = {#name, arity, kind, int_attrs, real_attr},
#include "lucid/ops.def"
#undef LC_OP
};

/* Attribute names are short; 32 bytes each is plenty and checked below. */
static char attr_storage[LC_OP_COUNT][LC_MAX_INT_ATTRS][32];
static lc_op_info infos[LC_OP_COUNT];
static int infos_ready;

static void build_infos(void) {
    for (int op = 0; op < LC_OP_COUNT; op++) {
        lc_op_info *info = &infos[op];
        info->name = rows[op].name;
        info->arity = rows[op].arity;
        info->kind = rows[op].kind;
        info->real_attr_name = rows[op].real_attr[0] ? rows[op].real_attr : NULL;
        const char *p = rows[op].int_attrs;
        int n = 0;
        while (*p) {
            const char *comma = strchr(p, ',');
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            if (n >= LC_MAX_INT_ATTRS || len >= sizeof attr_storage[op][n]) break;
            memcpy(attr_storage[op][n], p, len);
            attr_storage[op][n][len] = '\0';
            info->int_attr_names[n] = attr_storage[op][n];
            n++;
            p += len + (comma ? 1 : 0);
        }
        info->n_int_attrs = n;
    }
}

const lc_op_info *lc_op_get_info(lc_op op) {
    /* The table is immutable after the first build, and building is idempotent, so a race
     * between two first callers writes the same bytes twice. Built eagerly by the
     * constructor below in practice. */
    if (!infos_ready) {
        build_infos();
        infos_ready = 1;
    }
    if ((unsigned)op >= LC_OP_COUNT) return NULL;
    return &infos[op];
}

__attribute__((constructor)) static void lc_op_table_init(void) { (void)lc_op_get_info(0); }

bool lc_op_from_name(const char *name, size_t len, lc_op *out) {
    for (int op = 0; op < LC_OP_COUNT; op++) {
        if (strlen(rows[op].name) == len && memcmp(rows[op].name, name, len) == 0) {
            *out = (lc_op)op;
            return true;
        }
    }
    return false;
}
