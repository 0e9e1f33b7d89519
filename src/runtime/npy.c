/* Reading and writing .npy files and buffers (docs/npy.md).
 *
 * Reading never trusts a size it has not checked: the header must fit in the file, and the
 * data after it must be exactly what the shape needs, before the tensor is allocated; file
 * data are read straight into the tensor. Writing goes to a temporary file in the target's
 * directory that is renamed over the target only once complete, so the target is either
 * the old file or the whole new one. File functions prefix their messages with the path,
 * buffer functions with "npy". */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lucid/npy.h"
#include "runtime/npy_internal.h"
#include "support/error.h"

/* ---- reading ---- */

/* The tensor from a header already parsed and the data bytes that follow it. */
static lc_status tensor_from_data(const lc_npy_meta *meta, const unsigned char *data,
                                  lc_tensor **out) {
    lc_tensor *t;
    LC_TRY(lc_tensor_new(meta->dtype, meta->shape, &t));
    if (meta->data_bytes > 0) {
        memcpy(t->data, data, (size_t)meta->data_bytes);
        if (!lc_npy_host_little_endian())
            lc_npy_swap_bytes(t->data, (size_t)lc_tensor_numel(t), lc_dtype_size(t->dtype));
    }
    *out = t;
    return LC_OK;
}

static lc_status read_bytes(const unsigned char *bytes, size_t size, lc_tensor **out) {
    lc_npy_prefix prefix;
    LC_TRY(lc_npy_parse_prefix(bytes, size < LC_NPY_PREFIX_MAX ? size : LC_NPY_PREFIX_MAX,
                               size, &prefix));
    lc_npy_meta meta;
    LC_TRY(lc_npy_parse_header((const char *)bytes + prefix.header_offset, prefix.header_len,
                               &prefix, &meta));
    size_t data_offset = prefix.header_offset + prefix.header_len;
    LC_TRY(lc_npy_check_data_size(&meta, size - data_offset));
    return tensor_from_data(&meta, bytes + data_offset, out);
}

lc_status lc_npy_read_buffer(const void *bytes, size_t size, lc_tensor **out) {
    if (!out) return lc_fail(LC_ERR_INVALID_ARG, "npy: out is NULL");
    *out = NULL;
    if (!bytes && size > 0) return lc_fail(LC_ERR_INVALID_ARG, "npy: bytes is NULL");
    static const unsigned char empty[1];
    lc_status st = read_bytes(bytes ? bytes : empty, size, out);
    if (st != LC_OK) return lc_fail_prefix(st, "npy");
    return LC_OK;
}

static lc_status io_fail(const char *what, int err) {
    char text[256];
    if (strerror_r(err, text, sizeof text) != 0) snprintf(text, sizeof text, "error %d", err);
    return lc_fail(LC_ERR_IO, "%s: %s", what, text);
}

/* fread of exactly n bytes; a short count is an I/O error or a file that changed size. */
static lc_status read_exact(FILE *f, void *buf, size_t n) {
    if (n == 0 || fread(buf, 1, n, f) == n) return LC_OK;
    if (ferror(f)) return io_fail("read failed", errno ? errno : EIO);
    return lc_fail(LC_ERR_IO, "read failed: the file ended early (was it changed while being "
                              "read?)");
}

/* A regular file of `size` bytes: prefix and header first, then the data into the tensor. */
static lc_status read_regular(FILE *f, uint64_t size, lc_tensor **out) {
    unsigned char head[LC_NPY_PREFIX_MAX];
    size_t have = size < LC_NPY_PREFIX_MAX ? (size_t)size : LC_NPY_PREFIX_MAX;
    LC_TRY(read_exact(f, head, have));
    lc_npy_prefix prefix;
    LC_TRY(lc_npy_parse_prefix(head, have, size, &prefix));
    /* header_len <= size - header_offset was checked, so this allocation is backed by the
     * file's real size. */
    char *text = malloc(prefix.header_len + 1);
    if (!text) return lc_fail(LC_ERR_NOMEM, "cannot allocate %zu bytes for the header",
                              prefix.header_len);
    size_t already = have - prefix.header_offset;
    if (already > prefix.header_len) already = prefix.header_len;
    memcpy(text, head + prefix.header_offset, already);
    lc_status st = read_exact(f, text + already, prefix.header_len - already);
    if (st == LC_OK &&
        fseeko(f, (off_t)(prefix.header_offset + prefix.header_len), SEEK_SET) != 0)
        st = io_fail("seek failed", errno);
    lc_npy_meta meta;
    if (st == LC_OK) st = lc_npy_parse_header(text, prefix.header_len, &prefix, &meta);
    free(text);
    LC_TRY(st);
    LC_TRY(lc_npy_check_data_size(&meta, size - prefix.header_offset - prefix.header_len));
    lc_tensor *t;
    LC_TRY(lc_tensor_new(meta.dtype, meta.shape, &t));
    st = read_exact(f, t->data, (size_t)meta.data_bytes);
    if (st == LC_OK && fgetc(f) != EOF)
        st = lc_fail(LC_ERR_PARSE, "trailing bytes after the data (the file grew while being "
                                   "read?)");
    if (st != LC_OK) {
        lc_tensor_free(t);
        return st;
    }
    if (!lc_npy_host_little_endian())
        lc_npy_swap_bytes(t->data, (size_t)lc_tensor_numel(t), lc_dtype_size(t->dtype));
    *out = t;
    return LC_OK;
}

/* A pipe or device: read everything there is (only real bytes are ever allocated). */
static lc_status read_stream(FILE *f, lc_tensor **out) {
    size_t cap = 1 << 16, len = 0;
    unsigned char *buf = malloc(cap);
    if (!buf) return lc_fail(LC_ERR_NOMEM, "cannot allocate a read buffer");
    for (;;) {
        if (len == cap) {
            unsigned char *grown = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
            if (!grown) {
                free(buf);
                return lc_fail(LC_ERR_NOMEM, "out of memory after reading %zu bytes", len);
            }
            buf = grown;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    lc_status st = ferror(f) ? io_fail("read failed", errno ? errno : EIO)
                             : read_bytes(buf, len, out);
    free(buf);
    return st;
}

lc_status lc_npy_read(const char *path, lc_tensor **out) {
    if (!out) return lc_fail(LC_ERR_INVALID_ARG, "npy: out is NULL");
    *out = NULL;
    if (!path) return lc_fail(LC_ERR_INVALID_ARG, "npy: path is NULL");
    FILE *f = fopen(path, "rb");
    if (!f) return lc_fail_prefix(io_fail("cannot open for reading", errno), "%s", path);
    struct stat sb;
    lc_status st;
    if (fstat(fileno(f), &sb) != 0)
        st = io_fail("cannot stat", errno);
    else if (S_ISDIR(sb.st_mode))
        st = io_fail("cannot read", EISDIR);
    else if (S_ISREG(sb.st_mode))
        st = read_regular(f, (uint64_t)sb.st_size, out);
    else
        st = read_stream(f, out);
    fclose(f);
    if (st != LC_OK) return lc_fail_prefix(st, "%s", path);
    return LC_OK;
}

/* ---- writing ---- */

lc_status lc_npy_write_buffer(const lc_tensor *t, void **bytes, size_t *size) {
    if (!bytes || !size) return lc_fail(LC_ERR_INVALID_ARG, "npy write: bytes or size is NULL");
    *bytes = NULL;
    *size = 0;
    unsigned char head[LC_NPY_HEADER_MAX];
    size_t head_len;
    uint64_t data_bytes;
    lc_status st = lc_npy_format_header(t, head, &head_len, &data_bytes);
    if (st != LC_OK) return lc_fail_prefix(st, "npy write");
    if (data_bytes > SIZE_MAX - head_len)
        return lc_fail(LC_ERR_NOMEM, "npy write: %llu bytes do not fit in memory",
                       (unsigned long long)data_bytes);
    unsigned char *buf = malloc(head_len + (size_t)data_bytes);
    if (!buf)
        return lc_fail(LC_ERR_NOMEM, "npy write: cannot allocate %zu bytes",
                       head_len + (size_t)data_bytes);
    memcpy(buf, head, head_len);
    if (data_bytes > 0) {
        memcpy(buf + head_len, t->data, (size_t)data_bytes);
        if (!lc_npy_host_little_endian())
            lc_npy_swap_bytes(buf + head_len, (size_t)lc_tensor_numel(t), lc_dtype_size(t->dtype));
    }
    *bytes = buf;
    *size = head_len + (size_t)data_bytes;
    return LC_OK;
}

static lc_status write_all(int fd, const unsigned char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return io_fail("write failed", errno);
        if (w == 0) return io_fail("write failed", EIO);
        p += w;
        n -= (size_t)w;
    }
    return LC_OK;
}

/* The data in little-endian order: as they are on such hosts, else swapped in chunks. */
static lc_status write_data(int fd, const lc_tensor *t, size_t n) {
    if (lc_npy_host_little_endian()) return write_all(fd, t->data, n);
    unsigned char chunk[1 << 14];
    size_t elem = lc_dtype_size(t->dtype);
    for (size_t done = 0; done < n;) {
        size_t part = n - done < sizeof chunk ? n - done : sizeof chunk;
        memcpy(chunk, (const unsigned char *)t->data + done, part);
        lc_npy_swap_bytes(chunk, part / elem, elem);
        LC_TRY(write_all(fd, chunk, part));
        done += part;
    }
    return LC_OK;
}

/* Create "<path>.tmp-<pid>-<n>" exclusively (mode 0666 less the umask, as a plain create
 * would give the target), trying the next n if another writer holds the name. */
static lc_status create_temp(const char *path, char **tmp_out, int *fd_out) {
    static atomic_uint counter;
    size_t cap = strlen(path) + 64;
    char *tmp = malloc(cap);
    if (!tmp) return lc_fail(LC_ERR_NOMEM, "cannot allocate a temporary file name");
    for (int attempt = 0; attempt < 1000; attempt++) {
        snprintf(tmp, cap, "%s.tmp-%ld-%u", path, (long)getpid(), atomic_fetch_add(&counter, 1));
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0) {
            *tmp_out = tmp;
            *fd_out = fd;
            return LC_OK;
        }
        if (errno != EEXIST) {
            lc_status st = io_fail("cannot create a temporary file beside it", errno);
            free(tmp);
            return st;
        }
    }
    free(tmp);
    return lc_fail(LC_ERR_IO, "cannot create a temporary file beside it: every name is taken");
}

lc_status lc_npy_write(const char *path, const lc_tensor *t) {
    if (!path) return lc_fail(LC_ERR_INVALID_ARG, "npy write: path is NULL");
    unsigned char head[LC_NPY_HEADER_MAX];
    size_t head_len;
    uint64_t data_bytes;
    lc_status st = lc_npy_format_header(t, head, &head_len, &data_bytes);
    if (st != LC_OK) return lc_fail_prefix(st, "%s", path);
    if (data_bytes > SIZE_MAX) return lc_fail(LC_ERR_NOMEM, "%s: tensor too large", path);
    char *tmp = NULL;
    int fd = -1;
    st = create_temp(path, &tmp, &fd);
    if (st != LC_OK) return lc_fail_prefix(st, "%s", path);
    st = write_all(fd, head, head_len);
    if (st == LC_OK) st = write_data(fd, t, (size_t)data_bytes);
    /* fsync before rename, so a crash cannot leave the new name on unwritten blocks. */
    if (st == LC_OK && fsync(fd) != 0) st = io_fail("fsync failed", errno);
    if (close(fd) != 0 && st == LC_OK) st = io_fail("close failed", errno);
    if (st == LC_OK && rename(tmp, path) != 0) st = io_fail("cannot rename the temporary file "
                                                            "over it", errno);
    if (st != LC_OK) unlink(tmp);
    free(tmp);
    if (st != LC_OK) return lc_fail_prefix(st, "%s", path);
    return LC_OK;
}
