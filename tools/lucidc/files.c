/* File helpers: whole-file text reads with clear errors, and atomic writes (temporary name in
 * the target's directory, then rename) so no partial output file is ever left behind. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

lc_status cli_slurp(const char *path, char **out) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return lc_fail(LC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode)) {
        fclose(f);
        return lc_fail(LC_ERR_IO, "%s: is a directory, expected a file", path);
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (len + 1 >= cap) {
            char *p = cap < ((size_t)1 << 30) ? realloc(buf, cap * 2) : NULL;
            if (!p) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = p;
            cap *= 2;
        }
        size_t n = fread(buf + len, 1, cap - 1 - len, f);
        len += n;
        if (n == 0) break;
    }
    bool failed = ferror(f);
    fclose(f);
    if (!buf) return lc_fail(LC_ERR_NOMEM, "%s: too large or out of memory", path);
    if (failed) {
        free(buf);
        return lc_fail(LC_ERR_IO, "%s: read failed", path);
    }
    buf[len] = '\0';
    if (memchr(buf, '\0', len)) {
        free(buf);
        return lc_fail(LC_ERR_PARSE, "%s: contains a NUL byte; expected text", path);
    }
    *out = buf;
    return LC_OK;
}

int cli_read_text(const char *where, const char *path, char **out) {
    return cli_slurp(path, out) == LC_OK ? CLI_OK : cli_lib_error(where);
}

lc_status cli_write_atomic(const char *path, const char *data, size_t len) {
    size_t n = strlen(path) + 32;
    char *tmp = malloc(n);
    if (!tmp) return lc_fail(LC_ERR_NOMEM, "%s: out of memory", path);
    int fd = -1;
    for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
        snprintf(tmp, n, "%s.tmp%ld.%d", path, (long)getpid(), attempt);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) {
        lc_status st = lc_fail(LC_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
        free(tmp);
        return st;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        done += (size_t)w;
    }
    int err = done < len ? errno : 0;
    if (close(fd) != 0 && !err) err = errno;
    if (!err && rename(tmp, path) != 0) err = errno;
    if (err || done < len) {
        unlink(tmp);
        free(tmp);
        return lc_fail(LC_ERR_IO, "%s: cannot write: %s", path, strerror(err ? err : EIO));
    }
    free(tmp);
    return LC_OK;
}

lc_status cli_ensure_dir(const char *path) {
    struct stat sb;
    if (stat(path, &sb) == 0) {
        if (S_ISDIR(sb.st_mode)) return LC_OK;
        return lc_fail(LC_ERR_IO, "%s: exists and is not a directory", path);
    }
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return lc_fail(LC_ERR_IO, "%s: cannot create directory: %s", path, strerror(errno));
    return LC_OK;
}

double cli_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}
