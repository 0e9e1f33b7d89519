/* Graphs of a configuration for the Lucid rows (interp, jit). */
#ifndef LUCID_BENCH_GRAPHS_H
#define LUCID_BENCH_GRAPHS_H

#include "bench.h"
#include "lucid/ir.h"
#include "lucid/tensor.h"

/* Forward graph (inputs x; outputs y) or, for fwdbwd, forward and backward (inputs x, g;
 * outputs y, dx). LC_ERR_UNSUPPORTED for fwdbwd when the library has no autodiff. */
lc_status bench_build_graph(const bench_config *cfg, lc_graph **out);
bool bench_have_autodiff(void);
/* A tensor header over caller-owned data (never passed to lc_tensor_free). */
void bench_wrap_tensor(lc_tensor *t, float *data, lc_shape shape);

#endif
