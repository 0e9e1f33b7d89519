/* plan: place the fused program's scratch buffers in one per-run block. Each scratch slot
 * lives from the kernel that writes it to the last kernel that reads it; slots whose lives
 * do not overlap share bytes (first fit, largest first), so the block is what the live
 * intermediates need at the worst point, not their sum. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "passes/kernel.h"
#include "support/error.h"
#include "support/strbuf.h"

static int by_size_desc(const void *a, const void *b) {
    const lc_scratch *x = a, *y = b;
    if (x->bytes != y->bytes) return x->bytes < y->bytes ? 1 : -1;
    return x->slot - y->slot;
}

static int by_slot(const void *a, const void *b) {
    return ((const lc_scratch *)a)->slot - ((const lc_scratch *)b)->slot;
}

/* Kernel k writes `node` into `slot`: a scratch slot is born there, sized for the node. */
static void written_by(lc_fused *f, int first_scratch, int slot, int node, int k) {
    if (slot < first_scratch) return;
    lc_scratch *sc = &f->scratch[slot - first_scratch];
    const lc_node *n = lc_graph_node(f->graph, node);
    sc->node = node;
    sc->first = sc->last = k;
    /* rows laid out at the slot's pitch (a padded scratch buffer's is a line longer) */
    sc->start = lc_fused_slot_margin(f, slot);
    sc->bytes = lc_fused_slot_span(f, slot, &n->shape) * lc_fused_elem_bytes(f, slot, n->dtype) + 2 * sc->start;
}

lc_status lc_plan(lc_fused *f) {
    free(f->scratch);
    f->scratch = NULL;
    f->n_scratch = 0;
    f->scratch_bytes = 0;
    int first_scratch = f->n_inputs + f->n_outputs;
    int count = f->n_slots - first_scratch;
    if (count <= 0) return LC_OK;
    f->scratch = calloc((size_t)count, sizeof(lc_scratch));
    if (!f->scratch) return lc_fail(LC_ERR_NOMEM, "plan: out of memory");
    f->n_scratch = count;
    for (int s = 0; s < count; s++) {
        lc_scratch *sc = &f->scratch[s];
        sc->slot = first_scratch + s;
        sc->node = -1;
        sc->first = sc->last = -1;
    }
    for (int k = 0; k < f->n_kernels; k++) {
        const lc_kernel *kr = &f->kernels[k];
        written_by(f, first_scratch, kr->dst_slot, kr->root, k);
        if (kr->co_root >= 0) written_by(f, first_scratch, kr->co_slot, kr->co_root, k);
        for (int a = 0; a < kr->n_args; a++)
            if (kr->args[a] >= first_scratch) f->scratch[kr->args[a] - first_scratch].last = k;
    }
    qsort(f->scratch, (size_t)count, sizeof(lc_scratch), by_size_desc);
    for (int s = 0; s < count; s++) {
        lc_scratch *sc = &f->scratch[s];
        int64_t size = (sc->bytes + 63) / 64 * 64;
        int64_t offset = 0;
        /* Move past every placed, overlapping neighbour until a gap fits; repeat until stable. */
        for (bool moved = true; moved;) {
            moved = false;
            for (int t = 0; t < s; t++) {
                const lc_scratch *o = &f->scratch[t];
                bool live_together = !(o->last < sc->first || sc->last < o->first);
                int64_t osize = (o->bytes + 63) / 64 * 64;
                if (live_together && offset < o->offset + osize && o->offset < offset + size) {
                    offset = o->offset + osize;
                    moved = true;
                }
            }
        }
        sc->offset = offset;
        if (offset + size > f->scratch_bytes) f->scratch_bytes = offset + size;
    }
    qsort(f->scratch, (size_t)count, sizeof(lc_scratch), by_slot);
    return LC_OK;
}

lc_status lc_plan_print(const lc_fused *f, FILE *out) {
    lc_strbuf sb = {0};
    char lab[256];
    int64_t sum = 0;
    for (int s = 0; s < f->n_scratch; s++) sum += f->scratch[s].bytes;
    lc_strbuf_printf(&sb, ";; plan: %d scratch buffer%s, block %" PRId64 " bytes (unshared %" PRId64
                     ")\n", f->n_scratch, f->n_scratch == 1 ? "" : "s", f->scratch_bytes, sum);
    for (int s = 0; s < f->n_scratch; s++) {
        const lc_scratch *sc = &f->scratch[s];
        lc_strbuf_printf(&sb, "scratch %d: %s, %" PRId64 " bytes at offset %" PRId64
                         ", live in kernels %d..%d", sc->slot,
                         sc->node >= 0 ? lc_fused_node_label(f, sc->node, lab, sizeof lab) : "?",
                         sc->bytes, sc->offset, sc->first, sc->last);
        const lc_shape *shape = sc->node >= 0 ? &lc_graph_node(f->graph, sc->node)->shape : NULL;
        int64_t pitch = shape ? lc_fused_row_pitch(f, sc->slot, shape) : 0;
        if (shape && shape->rank > 0 && pitch != shape->dim[shape->rank - 1])
            lc_strbuf_printf(&sb, "; rows padded to %" PRId64 " elements: %d KiB apart otherwise", pitch,
                             LC_ROW_SET_BYTES / 1024);
        if (lc_fused_is_byte_slot(f, sc->slot))
            lc_strbuf_printf(&sb, "; one byte an element (its values are integers 0 to 255), from byte %" PRId64
                             " (a margin of %d bytes either side)", sc->start, LC_BYTE_SLOT_MARGIN);
        lc_strbuf_puts(&sb, "\n");
    }
    char *text;
    LC_TRY(lc_strbuf_finish(&sb, &text));
    fputs(text, out);
    free(text);
    return LC_OK;
}
