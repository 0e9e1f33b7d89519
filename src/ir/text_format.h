/* Spellings shared by the text IR printer, its parser and the Graphviz printer, so the three
 * agree on how a number or a name is written. Private to src/ir/. */
#ifndef LUCID_IR_TEXT_FORMAT_H
#define LUCID_IR_TEXT_FORMAT_H

#include "lucid/ir.h"
#include "support/strbuf.h"

/* `s` between double quotes, with `"` and `\` escaped by a backslash, and newline, tab and
 * other control bytes (which would break the one-node-per-line form) as \n, \t, \xHH. */
void lc_text_put_quoted(lc_strbuf *sb, const char *s);

/* "f32[2,8,16]" into buf (>= 160 bytes holds any shape); returns buf. */
char *lc_text_type_str(lc_dtype dtype, const lc_shape *shape, char *buf, size_t size);

#endif
