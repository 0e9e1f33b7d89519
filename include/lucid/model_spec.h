/* Model specs: modules written as Python constructor calls, the syntax of
 * docs/model-spec.md. `LPPool1d(2, 4)`, `nn.AvgPool1d(kernel_size=3, stride=1, padding=1,
 * count_include_pad=False)`; one call per line in a file, a call may span lines inside its
 * parentheses, `#` starts a comment.
 *
 * Syntax errors name the module, the parameter and the value as written, and where:
 *   lc_model_parse       "model.txt:3:14: AvgPool1d: kernel_size must be an integer, got 3.0"
 *   lc_model_parse_call  "--module 1: col 14: AvgPool1d: kernel_size must be an integer, got 3.0"
 * Values that parse but are invalid get the module constructor's own message, prefixed by the
 * place ("--module 1: LPPool1d: norm_type must be finite and > 0, got -1").
 *
 * Thread-safety: parsing touches no shared state; concurrent calls are safe. */
#ifndef LUCID_MODEL_SPEC_H
#define LUCID_MODEL_SPEC_H

#include "lucid/export.h"
#include "lucid/nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Parse a model file's text (one or more calls). One call gives that module, several a
 * Sequential of them in order. `source_label` (e.g. the file name) prefixes every message.
 * On success the caller frees *out with lc_module_free; on failure *out is NULL and the
 * status is LC_ERR_PARSE (syntax) or the constructor's status. */
LC_API lc_status lc_model_parse(const char *text, const char *source_label, lc_module **out);

/* Parse text holding exactly one call (as given to `lucidc --module`); gives that module.
 * Positions in messages are columns ("col 14"), since the text is usually one line. */
LC_API lc_status lc_model_parse_call(const char *text, const char *source_label, lc_module **out);

#ifdef __cplusplus
}
#endif
#endif
