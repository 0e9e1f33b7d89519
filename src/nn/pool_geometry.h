/* Pool geometry shared by AvgPool1d and LPPool1d. Internal (tests use it to check the
 * arithmetic directly); not part of the installed headers. */
#ifndef LUCID_NN_POOL_GEOMETRY_H
#define LUCID_NN_POOL_GEOMETRY_H

#include <stdbool.h>
#include <stdint.h>

#include "lucid/status.h"

/* Output length and the unfold padding that yields it
 * (pad_hi covers a ceil-mode overhang). Fails when L_out < 1. `who` names the module in
 * messages. */
typedef struct lc_pool1d_geometry {
    int64_t length, kernel_size, stride, padding;
    bool ceil_mode;
    int64_t out_length;
    int64_t pad_hi;       /* >= padding */
} lc_pool1d_geometry;
lc_status lc_pool1d_geometry_compute(const char *who, int64_t length, int64_t kernel_size,
                                     int64_t stride, int64_t padding, bool ceil_mode,
                                     lc_pool1d_geometry *out);

#endif
