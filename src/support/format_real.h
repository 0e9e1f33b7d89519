/* Numbers as Python writes them, shared by every printer (tensors, module reprs, text IR,
 * dumps) so they all spell a value the same way. */
#ifndef LUCID_SUPPORT_FORMAT_REAL_H
#define LUCID_SUPPORT_FORMAT_REAL_H

#include <stdbool.h>

/* Python repr of a float: "1.0", "0.5", "1e-05", "nan", "inf". With `as_f32`, the shortest
 * digits that round-trip through float32. At most 32 bytes; returns buf. */
char *lc_format_real(double v, bool as_f32, char buf[32]);

/* The same without Python's trailing ".0" for integral values: "2", "2.5", "1e-05", "-0".
 * The spelling of module parameters and text-IR numbers. */
char *lc_format_number(double v, char buf[32]);

#endif
