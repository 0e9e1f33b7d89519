/* File helpers: whole-file text reads with clear errors, and outputs that appear whole or not
 * at all: every result is written to a temporary name in its target's directory, and only when
 * all of them are written are they renamed. The temporaries are removed when the run fails or
 * is interrupted (SIGINT, SIGTERM, SIGHUP, SIGPIPE); a SIGKILL's leftovers are removed by the
 * next run that writes the same file. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
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

/* ---- outputs: decided before the run, staged under temporary names, committed together ---- */

/* Temporaries the signal handler removes. A slot is filled before its file is created and
 * cleared before its name is freed, so the handler only ever sees a valid string. */
enum { MAX_TEMPS = 64 };
static char *volatile temp_slots[MAX_TEMPS];
static volatile sig_atomic_t temp_count;
static bool handlers_installed;
static const int CLEANUP_SIGNALS[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};

static void remove_temps_and_reraise(int sig) {
    for (int i = 0; i < temp_count; i++) {
        char *p = temp_slots[i];
        if (p) unlink(p);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

/* A signal the invoking shell set to be ignored (SIGINT of a background job) stays ignored. */
static void install_handlers(void) {
    if (handlers_installed) return;
    handlers_installed = true;
    for (size_t i = 0; i < sizeof CLEANUP_SIGNALS / sizeof CLEANUP_SIGNALS[0]; i++) {
        struct sigaction old, sa;
        if (sigaction(CLEANUP_SIGNALS[i], NULL, &old) != 0 || old.sa_handler == SIG_IGN) continue;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = remove_temps_and_reraise;
        sigemptyset(&sa.sa_mask);
        sigaction(CLEANUP_SIGNALS[i], &sa, NULL);
    }
}

static int register_temp(char *path) {
    install_handlers();
    for (int i = 0; i < temp_count; i++)
        if (!temp_slots[i]) {
            temp_slots[i] = path;
            return i;
        }
    if (temp_count == MAX_TEMPS) return -1;
    temp_slots[temp_count] = path;
    temp_count = temp_count + 1;
    return temp_count - 1;
}

static void unregister_temp(const char *path) {
    for (int i = 0; i < temp_count; i++)
        if (temp_slots[i] == path) temp_slots[i] = NULL;
}

static char *dir_of(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return strdup(".");
    if (slash == path) return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

static const char *base_of(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* True when `name` is "<base>.tmp-<pid>-<n>"; *pid receives pid. */
static bool is_temp_name(const char *name, const char *base, long *pid) {
    size_t n = strlen(base);
    if (strncmp(name, base, n) != 0 || strncmp(name + n, ".tmp-", 5) != 0) return false;
    const char *p = name + n + 5;
    char *end;
    if (*p < '0' || *p > '9') return false;
    long v = strtol(p, &end, 10);
    if (*end != '-' || end[1] < '0' || end[1] > '9') return false;
    for (p = end + 1; *p; p++)
        if (*p < '0' || *p > '9') return false;
    *pid = v;
    return true;
}

/* A process killed by SIGKILL cannot remove its temporary: the next writer of the same file
 * removes every "<base>.tmp-<pid>-<n>" whose process is gone. */
static void remove_stale_temps(const char *target) {
    char *dir = dir_of(target);
    DIR *d = dir ? opendir(dir) : NULL;
    if (d) {
        const char *base = base_of(target);
        struct dirent *e;
        long pid;
        while ((e = readdir(d)))
            if (is_temp_name(e->d_name, base, &pid) && pid > 0 && pid != (long)getpid() &&
                kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
                char *stale = malloc(strlen(dir) + strlen(e->d_name) + 2);
                if (stale) {
                    sprintf(stale, "%s/%s", dir, e->d_name);
                    unlink(stale);
                    free(stale);
                }
            }
        closedir(d);
    }
    free(dir);
}

/* Same inode as what the process's fd refers to. */
static bool same_as_fd(const struct stat *sb, int fd) {
    struct stat fb;
    return fstat(fd, &fb) == 0 && fb.st_dev == sb->st_dev && fb.st_ino == sb->st_ino;
}

/* Create "<target>.tmp-<pid>-<n>" beside the target, registered for the signal handler before
 * it exists. Returns the fd (and the name in *tmp), or -1 with errno and *tmp NULL. */
static int create_temp(const char *target, char **tmp) {
    size_t n = strlen(target) + 48;
    *tmp = malloc(n);
    if (!*tmp) {
        errno = ENOMEM;
        return -1;
    }
    int fd = -1;
    for (int attempt = 0; attempt < 1000 && fd < 0; attempt++) {
        snprintf(*tmp, n, "%s.tmp-%ld-%d", target, (long)getpid(), attempt);
        if (register_temp(*tmp) < 0) {
            errno = EMFILE;
            break;
        }
        fd = open(*tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0) unregister_temp(*tmp);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) {
        int err = errno;
        free(*tmp);
        *tmp = NULL;
        errno = err;
    }
    return fd;
}

int cli_output_resolve(const char *opt, const char *path, cli_output *o) {
    memset(o, 0, sizeof *o);
    o->opt = opt;
    o->path = path;
    if (!path[0]) return cli_error(opt, "empty file name");
    if (!strcmp(path, "-")) {
        o->kind = CLI_OUT_STDOUT;
        return CLI_OK;
    }
    struct stat sb, lb;
    if (stat(path, &sb) == 0) {
        if (same_as_fd(&sb, STDOUT_FILENO)) {
            o->kind = CLI_OUT_STDOUT; /* /dev/stdout: the process's own stdout, in place */
            return CLI_OK;
        }
        if (S_ISCHR(sb.st_mode)) {
            o->kind = CLI_OUT_DEVICE;
            return CLI_OK;
        }
        if (S_ISDIR(sb.st_mode)) return cli_error(opt, "%s: is a directory, expected a file name", path);
        if (S_ISFIFO(sb.st_mode))
            return cli_error(opt, "%s: is a FIFO; write to a regular file, a character device or - (stdout)", path);
        if (!S_ISREG(sb.st_mode))
            return cli_error(opt, "%s: is not a regular file (a socket or block device); write to a regular "
                                  "file, a character device or - (stdout)", path);
        bool link = lstat(path, &lb) == 0 && S_ISLNK(lb.st_mode);
        /* Through a symlink the file it names is replaced; the link stays. */
        o->target = link ? realpath(path, NULL) : strdup(path);
        if (!o->target) return cli_error(opt, "%s: cannot resolve: %s", path, strerror(errno));
        o->kind = CLI_OUT_FILE;
        o->mode = sb.st_mode & 07777;
        o->has_mode = true;
    } else if (errno == ENOENT) {
        if (lstat(path, &lb) == 0)
            return cli_error(opt, "%s: is a dangling symlink; not writing through it", path);
        o->target = strdup(path);
        if (!o->target) return cli_error(opt, "out of memory");
        o->kind = CLI_OUT_FILE;
    } else {
        return cli_error(opt, "%s: %s", path, strerror(errno));
    }
    char *dir = dir_of(o->target);
    if (!dir) return cli_error(opt, "out of memory");
    int st = CLI_OK;
    if (stat(dir, &sb) != 0)
        st = cli_error(opt, "%s: directory '%s' does not exist", path, dir);
    else if (!S_ISDIR(sb.st_mode))
        st = cli_error(opt, "%s: '%s' is not a directory", path, dir);
    else if (access(dir, W_OK | X_OK) != 0)
        st = cli_error(opt, "%s: cannot write into directory '%s': %s", path, dir, strerror(errno));
    free(dir);
    return st;
}

bool cli_output_same(const cli_output *a, const cli_output *b) {
    if (a->kind != b->kind) return false;
    if (a->kind == CLI_OUT_STDOUT) return true;
    if (a->kind == CLI_OUT_DEVICE) return false; /* /dev/null twice is fine */
    struct stat sa, sb;
    if (stat(a->target, &sa) == 0 && stat(b->target, &sb) == 0)
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    return !strcmp(a->target, b->target);
}

static int write_all(int fd, const char *data, size_t len) {
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return errno;
        if (w == 0) return EIO;
        done += (size_t)w;
    }
    return 0;
}

/* How long to hold the written temporaries before renaming them: a documented test hook
 * (LUCIDC_TEST_HOLD_MS, 0..60000) so tests can interrupt a run at its riskiest moment. */
static int hold_for_tests(void) {
    const char *v = getenv("LUCIDC_TEST_HOLD_MS");
    if (!v || !*v) return CLI_OK;
    char *end;
    errno = 0;
    long ms = strtol(v, &end, 10);
    if (errno || *end || ms < 0 || ms > 60000)
        return cli_error("LUCIDC_TEST_HOLD_MS", "expected milliseconds between 0 and 60000, got '%s'", v);
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    return CLI_OK;
}

int cli_output_stage(cli_output *o, void *data, size_t len) {
    if (o->kind != CLI_OUT_FILE) { /* written in place at commit */
        o->data = data;
        o->len = len;
        return CLI_OK;
    }
    remove_stale_temps(o->target);
    int fd = create_temp(o->target, &o->tmp);
    int err = fd < 0 ? errno : 0;
    if (!err && o->has_mode && fchmod(fd, o->mode) != 0) err = errno; /* keep the file's mode, as cp */
    if (!err) err = write_all(fd, data, len);
    /* on disk before the rename: a crash after it must not leave the final name on blocks
     * that were never written */
    if (!err && fsync(fd) != 0) err = errno;
    if (fd >= 0 && close(fd) != 0 && !err) err = errno;
    free(data);
    if (err) {
        if (o->tmp) {
            unlink(o->tmp);
            unregister_temp(o->tmp);
        }
        free(o->tmp);
        o->tmp = NULL;
        return cli_error(o->opt, "%s: cannot write: %s", o->path, strerror(err));
    }
    o->staged = true;
    return CLI_OK;
}

static void discard(cli_output *o) {
    if (o->tmp) {
        unlink(o->tmp);
        unregister_temp(o->tmp);
        free(o->tmp);
        o->tmp = NULL;
    }
    free(o->data);
    o->data = NULL;
    o->staged = false;
}

int cli_outputs_commit(cli_output *outs, int n) {
    int st = hold_for_tests();
    /* In place first: a device or stdout that fails leaves no file behind. */
    for (int i = 0; i < n && st == CLI_OK; i++) {
        cli_output *o = &outs[i];
        if (o->kind == CLI_OUT_FILE || !o->data) continue;
        int err;
        if (o->kind == CLI_OUT_STDOUT) {
            fflush(stdout);
            err = write_all(STDOUT_FILENO, o->data, o->len);
        } else {
            int fd = open(o->path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
            err = fd < 0 ? errno : write_all(fd, o->data, o->len);
            if (fd >= 0 && close(fd) != 0 && !err) err = errno;
        }
        if (err) st = cli_error(o->opt, "%s: cannot write: %s", o->kind == CLI_OUT_STDOUT ? "stdout" : o->path,
                                strerror(err));
    }
    for (int i = 0; i < n && st == CLI_OK; i++) {
        cli_output *o = &outs[i];
        if (!o->staged) continue;
        if (rename(o->tmp, o->target) != 0) {
            st = cli_error(o->opt, "%s: cannot write: %s", o->path, strerror(errno));
            break;
        }
        unregister_temp(o->tmp);
        free(o->tmp);
        o->tmp = NULL;
        o->staged = false;
    }
    for (int i = 0; i < n; i++) discard(&outs[i]);
    return st;
}

void cli_output_free(cli_output *o) {
    discard(o);
    free(o->target);
    o->target = NULL;
}

lc_status cli_read_stdin(char **out, size_t *len) {
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    if (!buf) return lc_fail(LC_ERR_NOMEM, "stdin: out of memory");
    for (;;) {
        if (n == cap) {
            char *p = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
            if (!p) {
                free(buf);
                return lc_fail(LC_ERR_NOMEM, "stdin: out of memory after %zu bytes", n);
            }
            buf = p;
            cap *= 2;
        }
        ssize_t r = read(STDIN_FILENO, buf + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int err = errno;
            free(buf);
            return lc_fail(LC_ERR_IO, "stdin: read failed: %s", strerror(err));
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    *out = buf;
    *len = n;
    return LC_OK;
}

lc_status cli_write_atomic(const char *path, const char *data, size_t len) {
    remove_stale_temps(path);
    char *tmp = NULL;
    int fd = create_temp(path, &tmp);
    if (fd < 0) return lc_fail(LC_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    int err = write_all(fd, data, len);
    if (!err && fsync(fd) != 0) err = errno; /* as cli_output_stage */
    if (close(fd) != 0 && !err) err = errno;
    if (!err && rename(tmp, path) != 0) err = errno;
    if (err) unlink(tmp);
    unregister_temp(tmp);
    free(tmp);
    if (err) return lc_fail(LC_ERR_IO, "%s: cannot write: %s", path, strerror(err));
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
