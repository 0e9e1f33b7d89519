/* Internals of the .npy reader and writer (npy.c, npy_header.c, npy_literal.c).
 *
 * A .npy file is: magic "\x93NUMPY", major and minor version bytes, a little-endian header
 * length (2 bytes in version 1.0, 4 bytes in 2.0 and 3.0), a header that is a Python dict
 * literal ({'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }) padded with spaces and
 * a newline, then the raw row-major data. Messages from these functions carry no file name;
 * the public wrappers in npy.c prefix it. */
#ifndef LUCID_RUNTIME_NPY_INTERNAL_H
#define LUCID_RUNTIME_NPY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lucid/tensor.h"

enum {
    LC_NPY_MAGIC_LEN = 6,
    LC_NPY_PREFIX_MAX = 12, /* magic + version + the 4-byte length of versions 2.0 and 3.0 */
    LC_NPY_ALIGN = 64,      /* written headers end on a multiple of this */
    LC_NPY_HEADER_MAX = 512 /* enough for any header we write (rank 6, 19-digit extents) */
};

/* What the fixed-size prefix says. */
typedef struct lc_npy_prefix {
    int major, minor;
    size_t header_offset; /* first byte of the dict text: 10 or 12 */
    size_t header_len;    /* bytes of dict text, padding and newline included */
} lc_npy_prefix;

/* What the header says, validated: a dtype Lucid reads and a shape whose byte size fits. */
typedef struct lc_npy_meta {
    lc_dtype dtype;
    lc_shape shape;
    uint64_t data_bytes; /* element count times element size */
} lc_npy_meta;

/* Parse the magic, version and header length from the first `avail` bytes of a file of
 * `total` bytes (avail <= total; LC_NPY_PREFIX_MAX bytes suffice). Checks that the header
 * fits in the file. */
lc_status lc_npy_parse_prefix(const unsigned char *bytes, size_t avail, uint64_t total,
                              lc_npy_prefix *out);
/* Parse and validate the header text (`len` bytes, as the prefix gives them). */
lc_status lc_npy_parse_header(const char *text, size_t len, const lc_npy_prefix *prefix,
                              lc_npy_meta *out);
/* Check that `available` bytes after the header are exactly the data the shape needs. */
lc_status lc_npy_check_data_size(const lc_npy_meta *meta, uint64_t available);

/* Validate a tensor for writing and build the complete version 1.0 header (magic included)
 * into buf, the way NumPy writes it: keys sorted, a shape tuple as Python spells it, room
 * for the first extent to grow, space padding and a newline up to a multiple of 64 bytes.
 * Sets *len and *data_bytes. */
lc_status lc_npy_format_header(const lc_tensor *t, unsigned char buf[LC_NPY_HEADER_MAX],
                               size_t *len, uint64_t *data_bytes);

/* A shape as Python spells a tuple: "()", "(5,)", "(2, 3)". Truncated to fit cap. */
char *lc_npy_format_shape(const lc_shape *shape, char *buf, size_t cap);

/* True when the host stores numbers least significant byte first. */
bool lc_npy_host_little_endian(void);
/* Reverse the bytes of each of `count` elements of `size` bytes (size 4 or 8). */
void lc_npy_swap_bytes(void *data, size_t count, size_t size);

/* --- The Python literal parser (npy_literal.c) --- */

typedef enum lc_npy_kind {
    LC_NPY_STR,
    LC_NPY_INT,
    LC_NPY_BOOL,
    LC_NPY_NONE,
    LC_NPY_TUPLE,
    LC_NPY_LIST,
    LC_NPY_DICT,
} lc_npy_kind;

/* A summary of one literal. Strings point into the parsed text (no copy); sequences keep
 * only what a shape needs: their length and their first LC_MAX_RANK integer items. */
typedef struct lc_npy_value {
    lc_npy_kind kind;
    const char *str; /* LC_NPY_STR: the characters between the quotes */
    size_t str_len;
    bool truth;      /* LC_NPY_BOOL */
    int64_t num;     /* LC_NPY_INT: the value when it fits in int64 */
    bool num_big;    /* LC_NPY_INT: the literal is outside int64 */
    size_t count;    /* LC_NPY_TUPLE, LC_NPY_LIST, LC_NPY_DICT: number of items */
    bool all_ints;   /* sequences: every item is an integer */
    bool any_big;    /* sequences: some integer item is outside int64 */
    bool any_negative; /* sequences: some integer item is < 0 */
    int64_t items[LC_MAX_RANK];
} lc_npy_value;

/* Called for each key: value pair of the outermost dict; `offset` is the key's byte
 * offset, for messages. A non-OK status stops the parse and is returned. */
typedef lc_status (*lc_npy_entry_fn)(void *ctx, const lc_npy_value *key,
                                     const lc_npy_value *value, size_t offset);

/* Parse `text` as one Python dict literal surrounded by optional whitespace and comments.
 * `base` is the file offset of text[0] (messages give file offsets). With `long_suffix`,
 * integers may end in L, as Python 2 wrote them. Syntax errors are LC_ERR_PARSE. */
lc_status lc_npy_parse_dict(const char *text, size_t len, size_t base, bool long_suffix,
                            lc_npy_entry_fn entry, void *ctx);

/* Name of a kind for messages ("a string", "a tuple", ...). */
const char *lc_npy_kind_name(lc_npy_kind kind);

#endif
