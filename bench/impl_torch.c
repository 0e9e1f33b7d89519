/* torch: every requested torch row runs in one python3 process (torch is imported once),
 * started with posix_spawn before any other row is timed so the two never compete for the
 * cores. bench/torch_bench.py prints one JSON line per row, parsed here.
 *
 * The interpreter: LUCID_BENCH_PYTHON if set, else /usr/bin/python3 (Debian's python3-torch
 * lives there), else python3 on PATH. */
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "support/json.h"

extern char **environ;

#ifndef LUCID_BENCH_DIR
#define LUCID_BENCH_DIR "bench"
#endif

static const char *python_path(void) {
    const char *env = getenv("LUCID_BENCH_PYTHON");
    if (env && *env) return env;
    if (access("/usr/bin/python3", X_OK) == 0) return "/usr/bin/python3";
    return "python3";
}

/* One row's argument: id:kind:p:k:s:pad:N:C:L:pass:threads:nrot; for a model case kind is
 * `model` and the four fields after it are cin/cout/k/pad, pool_k, linear_out (0: none) and
 * the SGD step size. */
static char *row_arg(int id, const bench_config *cfg, int threads) {
    const bench_case *bc = cfg->bc;
    char buf[256], last[48];
    if (bc->kind == BENCH_KIND_MODEL) {
        snprintf(buf, sizeof buf, "%d:model:%lld/%lld/%lld/%lld:%lld:%lld:%.17g:%lld:%lld:%lld:%s:%d:%d", id,
                 (long long)bc->conv_in, (long long)bc->conv_out, (long long)bc->conv_k, (long long)bc->conv_pad,
                 (long long)bc->pool_k, (long long)bc->linear_out, cfg->sgd_lr, (long long)cfg->n, (long long)cfg->c,
                 (long long)cfg->l, bench_pass_name(cfg->pass), threads, cfg->n_rot);
        return strdup(buf);
    }
    if (cfg->h)
        snprintf(last, sizeof last, "%lld,%lld", (long long)cfg->h, (long long)cfg->w);
    else
        snprintf(last, sizeof last, "%lld", (long long)cfg->l);
    snprintf(buf, sizeof buf, "%d:%s:%.17g:%lld:%lld:%lld:%lld:%lld:%s:%s:%d:%d", id,
             bc->is_2d ? (bc->is_max ? "max2d" : bc->is_lp ? "lp2d" : "avg2d") : bc->is_lp ? "lp" : "avg",
             bc->is_lp ? bc->norm_type : 0.0,
             (long long)bc->kernel_size, (long long)bc->stride, (long long)bc->padding, (long long)cfg->n,
             (long long)cfg->c, last, bench_pass_name(cfg->pass), threads, cfg->n_rot);
    return strdup(buf);
}

/* Read all of fd into a malloc'd NUL-terminated string. */
static char *read_all(int fd) {
    size_t cap = 4096, len = 0;
    char *s = malloc(cap);
    while (s) {
        if (len + 1024 > cap) {
            char *t = realloc(s, cap *= 2);
            if (!t) {
                free(s);
                return NULL;
            }
            s = t;
        }
        ssize_t r = read(fd, s + len, cap - len - 1);
        if (r <= 0) break;
        len += (size_t)r;
    }
    if (s) s[len] = '\0';
    return s;
}

/* Parse the script's lines into rows. Returns 0, or -1 with why torch is unavailable. */
static int parse_output(char *text, bench_torch_row *rows, int n_rows, char *why, size_t why_size) {
    bool saw_header = false;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        lc_json *v = NULL;
        if (lc_json_parse(line, &v) != LC_OK) {
            fprintf(stderr, "lucid-bench: torch: ignoring a line that is not JSON: %.120s\n", line);
            continue;
        }
        const lc_json *un = lc_json_get(v, "unavailable"), *err = lc_json_get(v, "error");
        long long id;
        if (un && un->type == LC_JSON_STRING) {
            snprintf(why, why_size, "%s", un->string);
            lc_json_free(v);
            return -1;
        } else if (lc_json_get(v, "torch")) {
            saw_header = true;
        } else if (lc_json_get_int(v, "id", &id) && id >= 0 && id < n_rows) {
            const lc_json *med = lc_json_get(v, "median_ms"), *mn = lc_json_get(v, "min_ms");
            long long extra = 0;
            if (err && err->type == LC_JSON_STRING) {
                fprintf(stderr, "lucid-bench: torch: row %lld failed: %s\n", id, err->string);
            } else if (med && med->type == LC_JSON_NUMBER && mn && mn->type == LC_JSON_NUMBER) {
                rows[id].ok = true;
                rows[id].median_ms = med->number;
                rows[id].min_ms = mn->number;
                if (lc_json_get_int(v, "peak_extra_bytes", &extra)) rows[id].peak_extra_bytes = extra;
            }
        }
        lc_json_free(v);
    }
    if (!saw_header) {
        snprintf(why, why_size, "%s %s/torch_bench.py printed nothing usable", python_path(), LUCID_BENCH_DIR);
        return -1;
    }
    return 0;
}

int bench_torch_run(bench_config *const *configs, bench_torch_row *rows, int n_rows, double budget_s, char *why,
                    size_t why_size) {
    int argc = 3 + n_rows;
    char **argv = calloc((size_t)argc + 1, sizeof *argv);
    char budget[32];
    snprintf(budget, sizeof budget, "%g", budget_s);
    int fds[2] = {-1, -1};
    int rc = -1;
    if (!argv) {
        snprintf(why, why_size, "out of memory");
        return -1;
    }
    argv[0] = (char *)python_path();
    argv[1] = (char *)LUCID_BENCH_DIR "/torch_bench.py";
    argv[2] = budget;
    bool ok = true;
    for (int i = 0; i < n_rows; i++) {
        rows[i].ok = false;
        ok = ok && (argv[3 + i] = row_arg(i, configs[rows[i].config], rows[i].threads)) != NULL;
    }
    posix_spawn_file_actions_t fa;
    bool fa_init = false;
    pid_t pid;
    if (!ok || pipe(fds) != 0) {
        snprintf(why, why_size, "out of memory or pipes");
        goto done;
    }
    posix_spawn_file_actions_init(&fa);
    fa_init = true;
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    int err = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    close(fds[1]);
    fds[1] = -1;
    if (err != 0) {
        snprintf(why, why_size, "cannot start %s: %s", argv[0], strerror(err));
        goto done;
    }
    char *out = read_all(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
    }
    if (!out) {
        snprintf(why, why_size, "out of memory reading torch_bench.py's output");
        goto done;
    }
    rc = parse_output(out, rows, n_rows, why, why_size);
    free(out);
    if (rc == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        snprintf(why, why_size, "torch_bench.py exited with status %d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        rc = -1;
    }
done:
    if (fa_init) posix_spawn_file_actions_destroy(&fa);
    if (fds[0] >= 0) close(fds[0]);
    if (fds[1] >= 0) close(fds[1]);
    for (int i = 0; i < n_rows; i++) free(argv[3 + i]);
    free(argv);
    return rc;
}
