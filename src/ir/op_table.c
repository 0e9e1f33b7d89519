/* Static facts about each op, expanded from the one table in ops.def. */
#include <assert.h>
#include <string.h>

#include "lucid/ir.h"
#include "support/error.h"

typedef struct op_row {
    const char *name;
    int arity;
    lc_op_kind kind;
    const char *real_attr;
} op_row;

static const op_row rows[] = {
#define LC_OP(ENUM, name, arity, kind, real_attr) [LC_OP_##ENUM] = {#name, arity, kind, real_attr},
#include "lucid/ops.def"
#undef LC_OP
};
static_assert(sizeof rows / sizeof rows[0] == LC_OP_COUNT, "one op_row per op of ops.def");

/* The LC_ATTR rows: which op, which index (the enum ir.h generates from the same rows). */
typedef struct attr_row {
    lc_op op;
    int index;
    const char *name;
    bool optional;
    int64_t default_value;
} attr_row;

static const attr_row attr_rows[] = {
#define LC_ATTR(OP, ATTR, name) {LC_OP_##OP, LC_##OP##_##ATTR, #name, false, 0},
#define LC_ATTR_OPT(OP, ATTR, name, dflt) {LC_OP_##OP, LC_##OP##_##ATTR, #name, true, dflt},
#include "lucid/ops.def"
#undef LC_ATTR_OPT
#undef LC_ATTR
};

/* Every attribute index fits lc_node.attr. */
#define LC_ATTR(OP, ATTR, name)                                                                 \
    static_assert(LC_##OP##_##ATTR < LC_MAX_INT_ATTRS, #OP "." #name " exceeds LC_MAX_INT_ATTRS");
#include "lucid/ops.def"
#undef LC_ATTR

/* The window ops share their first five attributes (window.h reads either through them). */
static_assert(LC_FOLD_DIM == LC_UNFOLD_DIM && LC_FOLD_SIZE == LC_UNFOLD_SIZE &&
                  LC_FOLD_STEP == LC_UNFOLD_STEP && LC_FOLD_PAD_LO == LC_UNFOLD_PAD_LO &&
                  LC_FOLD_PAD_HI == LC_UNFOLD_PAD_HI,
              "fold's window attributes are unfold's, in the same places");

static_assert(LC_MEAN_DIM == LC_REDUCE_DIM && LC_MAX_DIM == LC_REDUCE_DIM && LC_MAX_MASK_DIM == LC_REDUCE_DIM,
              "sum, mean, max and max_mask keep `dim` at one index");

static lc_op_info infos[LC_OP_COUNT];
static int infos_ready;

static void build_infos(void) {
    for (int op = 0; op < LC_OP_COUNT; op++) {
        lc_op_info *info = &infos[op];
        info->name = rows[op].name;
        info->arity = rows[op].arity;
        info->kind = rows[op].kind;
        info->real_attr_name = rows[op].real_attr[0] ? rows[op].real_attr : NULL;
        info->n_int_attrs = 0;
        for (int i = 0; i < LC_MAX_INT_ATTRS; i++) {
            info->int_attr_optional[i] = false;
            info->int_attr_default[i] = 0;
        }
    }
    /* the rows of one op are consecutive and in index order, so the count is the last + 1;
     * an LC_ATTR row placed under another op's row would get that op's next index. Optional
     * attributes come last (text IR may stop before them), so none is followed by a plain one. */
    for (size_t i = 0; i < sizeof attr_rows / sizeof attr_rows[0]; i++) {
        lc_op_info *info = &infos[attr_rows[i].op];
        int index = attr_rows[i].index;
        LC_ASSERT(index == info->n_int_attrs);
        LC_ASSERT(attr_rows[i].optional || index == 0 || !info->int_attr_optional[index - 1]);
        info->int_attr_names[index] = attr_rows[i].name;
        info->int_attr_optional[index] = attr_rows[i].optional;
        info->int_attr_default[index] = attr_rows[i].default_value;
        info->n_int_attrs = index + 1;
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
