/* Fuzz target: the .npy reader (lc_npy_read_buffer), through the same path lc_npy_read and
 * `lucidc run --input` use for the header and data.
 *
 * Properties: reading either fails with a known status and a message, or gives a tensor of
 * exactly the bytes after the header; that tensor written back (lc_npy_write_buffer) and
 * read again is bit-identical, with the same dtype and shape. */
#include <stdbool.h>

#include "fuzz_common.h"
#include "lucid/npy.h"
#include "lucid/tensor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lc_tensor *t = (lc_tensor *)&t; /* must be overwritten with NULL on failure */
    lc_clear_error();
    lc_status st = lc_npy_read_buffer(data, size, &t);
    if (st != LC_OK) {
        FUZZ_CHECK_FAILURE(st, "lc_npy_read_buffer");
        FUZZ_CHECK(t == NULL, "failed read left a tensor");
        return 0;
    }
    size_t nbytes = lc_tensor_nbytes(t);
    FUZZ_CHECK(nbytes <= size, "tensor of %zu bytes from %zu bytes of file", nbytes, size);
    /* Trailing bytes are an error, so the data are exactly the last nbytes of the input. */
    FUZZ_CHECK(nbytes == 0 || memcmp(t->data, data + size - nbytes, nbytes) == 0,
               "tensor data differ from the file's data bytes");

    void *bytes = NULL;
    size_t written = 0;
    st = lc_npy_write_buffer(t, &bytes, &written);
    FUZZ_CHECK(st == LC_OK, "writing a tensor just read failed");
    FUZZ_CHECK(written % 64 == (nbytes % 64), "written header not padded to 64 bytes");
    lc_tensor *back = NULL;
    st = lc_npy_read_buffer(bytes, written, &back);
    FUZZ_CHECK(st == LC_OK, "reading back what was written failed");
    FUZZ_CHECK(back->dtype == t->dtype && lc_shape_equal(&back->shape, &t->shape),
               "round trip changed dtype or shape");
    FUZZ_CHECK(nbytes == 0 || memcmp(back->data, t->data, nbytes) == 0,
               "round trip changed the data");
    lc_tensor_free(back);
    free(bytes);
    lc_tensor_free(t);
    return 0;
}
