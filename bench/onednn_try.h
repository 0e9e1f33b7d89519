/* What the oneDNN rows share: a failed oneDNN call becomes the row's error (into `err` of
 * size `n`, in the calling setup function) and returns -1. */
#ifndef LUCID_BENCH_ONEDNN_TRY_H
#define LUCID_BENCH_ONEDNN_TRY_H

#define DNNL_TRY(call, what)                                                                   \
    do {                                                                                       \
        dnnl_status_t st_ = (call);                                                            \
        if (st_ != dnnl_success) {                                                             \
            snprintf(err, n, "oneDNN: %s failed (status %d)", what, (int)st_);                 \
            return -1;                                                                         \
        }                                                                                      \
    } while (0)

#endif
