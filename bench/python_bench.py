#!/usr/bin/env python3
"""The Python package's cost, beside PyTorch and the C bench, in one run.

    PYTHONPATH=python /usr/bin/python3 bench/python_bench.py [--skip-large | --large-only] [--case NAME]
                                                             [--samples N]
                                                             [--torch-samples N]

1. Per-call overhead on (1, 1, 4) float32: `AvgPool1d(2)(x).numpy()` (a module call and the
   read that runs it), a forward+backward (`pool(x).backward(g)` into a fresh x.grad), a
   chain of two calls read once, the bare compiled program (`Program.run`: one C call), and
   `torch.nn.functional.avg_pool1d` on the same input. timeit, median of 31 repeats of 2000
   calls, as wall time and as the process's CPU time (the machine is shared: CPU time does
   not count the time spent waiting for a core).
2. Speed on (16, 64, 65536) float32 for AvgPool1d(4) and LPPool1d(2, 4), fwd and fwdbwd:
   lucid_c (all cores), torch.nn.functional (as many threads as lucid_c, where Debian's torch
   starts with one; LP on |x|, as Lucid takes |x|) and `build/bench/lucid-bench --impl
   jit,floor --threads all` run from here; median of N runs (torch's LP rows take seconds a
   run, so they get fewer). bytes and GB/s count each input read once and each output written
   once, as lucid-bench. lucid_c allocates each result (y; y and dx for fwdbwd) afresh, as
   PyTorch does, where lucid-bench writes into buffers it reuses.
3. Layers with parameters: Linear(4, 3) on (1, 4) (no_grad and grad mode), and one training
   step of the seed model (zero_grad, forward, MSELoss, backward, SGD.step with momentum and
   weight decay) with its parts, beside the same in PyTorch, measured as in 1; also SGD.step
   written as NumPy in-place ops, the design the compiled update replaced.
4. `--loop CASE N`: one case alone, for instruction counts (see loop()): CASE is linear,
   train, pool (`AvgPool1d(2)(x).numpy()` on (1, 1, 4)) or raw (that pool's compiled program
   through ctypes alone), or torch-linear, torch-train, torch-pool.

Prints the load (`uptime`) first and last: figures from a loaded machine are only ratios.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import timeit

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "python"))

import lucid_c as lucid  # noqa: E402
import lucid_c.nn as nn  # noqa: E402
from lucid_c import _program  # noqa: E402

# PyTorch is imported unless a `--loop` of lucid_c alone runs: its import costs minutes under
# valgrind, and that case does not use it.
_LOOP = sys.argv[sys.argv.index("--loop") + 1] if "--loop" in sys.argv[:-1] else None
try:
    if _LOOP is not None and not _LOOP.startswith("torch-"):
        raise ImportError("not needed")
    import torch
    import torch.nn.functional as F
except ImportError:  # the rows that need it are left out
    torch = None


def uptime():
    with open("/proc/loadavg") as f:
        return "load average " + " ".join(f.read().split()[:3])


def per_call(fn, number=2000, repeat=31):
    """(median wall us, median CPU us) per call."""
    fn()
    wall = timeit.repeat(fn, number=number, repeat=repeat)
    cpu = timeit.repeat(fn, number=number, repeat=repeat, timer=time.process_time)
    return statistics.median(wall) / number * 1e6, statistics.median(cpu) / number * 1e6


def overhead_rows():
    a = np.arange(4.0, dtype=np.float32).reshape(1, 1, 4)
    x = lucid.from_numpy(a)
    g = np.ones((1, 1, 2), dtype=np.float32)
    pool = nn.AvgPool1d(2)
    pool2 = nn.AvgPool1d(1)
    pool(x).numpy()
    program = _program._PROGRAMS[((pool._cmodule.text,), np.dtype(np.float32), (1, 1, 4), False)]
    y = np.empty((1, 1, 2), dtype=np.float32)
    xg = lucid.from_numpy(a)
    xg.requires_grad = True

    def fwdbwd():
        xg.grad = None
        pool(xg).backward(g)

    views, ins, outs, n_in, n_out = program._views([a], [y])
    views[0].data, views[1].data = a.ctypes.data, y.ctypes.data
    raw, handle = _program._run_into, program.handle
    rows = [
        ("lucid_c AvgPool1d(2)(x).numpy()", lambda: pool(x).numpy()),
        ("lucid_c AvgPool1d(2)(x) (deferred, not run)", lambda: pool(x)),
        ("lucid_c fwd+bwd pool(x).backward(g)", fwdbwd),
        ("lucid_c chain pool(pool2(x)).numpy()", lambda: pool(pool2(x)).numpy()),
        ("bare Program.run (one C call)", lambda: program.run((a,), (y,))),
        ("raw ctypes lc_program_run_into", lambda: raw(handle, ins, n_in, outs, n_out)),
    ]
    if torch is not None:
        tx = torch.from_numpy(a)
        tg = torch.from_numpy(g)
        txg = torch.from_numpy(a.copy()).requires_grad_()

        def torch_fwdbwd():
            txg.grad = None
            F.avg_pool1d(txg, 2).backward(tg)

        def torch_fwd():
            with torch.no_grad():
                F.avg_pool1d(tx, 2)

        tpool = torch.nn.AvgPool1d(2)

        def torch_module():
            with torch.no_grad():
                tpool(tx)

        rows += [("torch F.avg_pool1d(x, 2) (no_grad)", torch_fwd),
                 ("torch nn.AvgPool1d(2)(x) (no_grad)", torch_module),
                 ("torch fwd+bwd", torch_fwdbwd)]
    print("\n== per-call overhead, (1, 1, 4) float32, median of 31 x 2000 calls")
    print("%-40s %10s %10s" % ("", "wall us", "CPU us"))
    for name, fn in rows:
        wall, cpu = per_call(fn)
        print("%-40s %10.2f %10.2f" % (name, wall, cpu))


def _numpy_sgd_step(params, buffers, lr, momentum, weight_decay):
    """The update as NumPy in-place ops, per parameter (what SGD.step did before it ran one
    compiled program): the design the compiled step is measured against."""
    for i, p in enumerate(params):
        data = p.numpy()
        g = p.grad.numpy().astype(data.dtype, copy=True)
        g += data.dtype.type(weight_decay) * data
        b = buffers[i]
        if b is None:
            b = buffers[i] = g.copy()
        else:
            b *= data.dtype.type(momentum)
            b += g
        data -= data.dtype.type(lr) * b


def layer_rows():
    """Linear(4, 3) on (1, 4) and one training step of the seed model, Sequential(Conv1d(1, 1,
    3, padding=1), AvgPool1d(2, 2), Linear(2, 1)) with MSELoss and SGD(lr=0.01, momentum=0.9,
    weight_decay=1e-4) on a (4, 1, 4) batch, against the same in PyTorch."""
    x = lucid.from_numpy(np.arange(4.0, dtype=np.float32).reshape(1, 4))
    lin = nn.Linear(4, 3)
    model = nn.Sequential(nn.Conv1d(1, 1, 3, padding=1), nn.AvgPool1d(2, 2), nn.Linear(2, 1))
    criterion = nn.MSELoss()
    opt = lucid.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    rng = np.random.default_rng(0)
    xb = rng.standard_normal((4, 1, 4)).astype(np.float32)
    tb = rng.standard_normal((4, 1, 1)).astype(np.float32)
    xs, target = lucid.from_numpy(xb), lucid.from_numpy(tb)

    def lin_nograd():
        with lucid.no_grad():
            lin(x).numpy()

    def train_step():
        opt.zero_grad()
        loss = criterion(model(xs), target)
        loss.backward()
        opt.step()

    def backward_only():
        opt.zero_grad()
        criterion(model(xs), target).backward()

    train_step()
    buffers = [None] * 4
    rows = [
        ("lucid_c Linear(4,3)(x).numpy() (no_grad)", lin_nograd),
        ("lucid_c Linear(4,3)(x).numpy() (grad mode)", lambda: lin(x).numpy()),
        ("lucid_c seed model train step", train_step),
        ("  of which zero_grad+fwd+loss+backward", backward_only),
        ("  of which SGD.step (one compiled program)", opt.step),
        ("  SGD.step as NumPy ops (previous design)",
         lambda: _numpy_sgd_step(opt.params, buffers, 0.01, 0.9, 1e-4)),
    ]
    if torch is not None:
        tx = torch.from_numpy(x.numpy())
        tlin = torch.nn.Linear(4, 3)
        tmodel = torch.nn.Sequential(torch.nn.Conv1d(1, 1, 3, padding=1), torch.nn.AvgPool1d(2, 2),
                                     torch.nn.Linear(2, 1))
        tcrit = torch.nn.MSELoss()
        topt = torch.optim.SGD(tmodel.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
        txb, ttb = torch.from_numpy(xb), torch.from_numpy(tb)

        def tlin_nograd():
            with torch.no_grad():
                tlin(tx)

        def ttrain():
            topt.zero_grad()
            tcrit(tmodel(txb), ttb).backward()
            topt.step()

        ttrain()
        rows += [("torch Linear(4,3)(x) (no_grad)", tlin_nograd),
                 ("torch Linear(4,3)(x) (grad mode)", lambda: tlin(tx)),
                 ("torch seed model train step", ttrain),
                 ("  of which SGD.step", topt.step)]
    print("\n== layers with parameters: Linear on (1, 4), the seed model's train step on (4, 1, 4)"
          " float32, median of 31 x 2000 calls")
    print("%-44s %10s %10s" % ("", "wall us", "CPU us"))
    for name, fn in rows:
        wall, cpu = per_call(fn)
        print("%-44s %10.2f %10.2f" % (name, wall, cpu))


def loop(case, n):
    """Run one case n times after 20 warm-up calls, and nothing else: for instruction counts,
    valgrind --tool=callgrind over `--loop CASE 0` and `--loop CASE N`, whose difference / N is
    the instructions of one call (with LUCID_CACHE_DIR set and warmed under valgrind once, so
    neither run compiles)."""
    rng = np.random.default_rng(0)
    xb = rng.standard_normal((4, 1, 4)).astype(np.float32)
    tb = rng.standard_normal((4, 1, 1)).astype(np.float32)
    a = np.arange(4.0, dtype=np.float32).reshape(1, 4)
    if case.startswith("torch-"):
        lib, mod, grad_off = torch, torch.nn, torch.no_grad
        x, xs, target = torch.from_numpy(a), torch.from_numpy(xb), torch.from_numpy(tb)
    else:
        lib, mod, grad_off = lucid, nn, lucid.no_grad
        x, xs, target = lucid.from_numpy(a), lucid.from_numpy(xb), lucid.from_numpy(tb)
    lin = mod.Linear(4, 3)
    model = mod.Sequential(mod.Conv1d(1, 1, 3, padding=1), mod.AvgPool1d(2, 2), mod.Linear(2, 1))
    criterion = mod.MSELoss()
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)

    def linear():
        with grad_off():
            y = lin(x)
            if lib is lucid:
                y.numpy()

    def train():
        opt.zero_grad()
        criterion(model(xs), target).backward()
        opt.step()

    a4 = np.arange(4.0, dtype=np.float32).reshape(1, 1, 4)
    pool = mod.AvgPool1d(2)
    x4 = lib.from_numpy(a4)

    def pool_call():
        if lib is lucid:
            pool(x4).numpy()
        else:
            with torch.no_grad():
                pool(x4)

    if case == "raw":  # the same program as `pool`, called through ctypes with nothing around it
        pool(x4).numpy()
        program = _program._PROGRAMS[((pool._cmodule.text,), np.dtype(np.float32), (1, 1, 4), False)]
        y = np.empty((1, 1, 2), dtype=np.float32)
        views, ins, outs, n_in, n_out = program._views([a4], [y])
        views[0].data, views[1].data = a4.ctypes.data, y.ctypes.data
        raw, handle = _program._run_into, program.handle

        def pool_call():  # noqa: F811
            raw(handle, ins, n_in, outs, n_out)

    fn = {"linear": linear, "train": train, "pool": pool_call, "raw": pool_call}[case.split("-")[-1]]
    for _ in range(20 + n):
        fn()


def timed(fn, samples):
    fn()  # warm-up: compiles on the first call
    times = []
    for _ in range(samples):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3, min(times) * 1e3


CASES = [("avg_k4s4", "AvgPool1d(4)", lambda: nn.AvgPool1d(4), lambda t: F.avg_pool1d(t, 4)),
         ("lp2_k4s4", "LPPool1d(2, 4)", lambda: nn.LPPool1d(2, 4), lambda t: F.lp_pool1d(t.abs(), 2, 4))]


def large_rows(samples, torch_samples, cases):
    if torch is not None:
        # Only here: on the tiny shape, torch's OpenMP team costs milliseconds a call on a
        # loaded machine, and one thread is what it starts with.
        torch.set_num_threads(lucid.get_num_threads())
    shape = (16, 64, 65536)
    out_shape = shape[:2] + (shape[2] // 4,)
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shape, dtype=np.float32)
    g = rng.standard_normal(out_shape, dtype=np.float32)
    n_in, n_out = a.nbytes, g.nbytes
    bytes_of = {"fwd": n_in + n_out, "fwdbwd": n_in + n_out + n_out + n_in}  # x, g in; y, dx out
    results = []
    for case, label, make, tfn in CASES:
        if case not in cases:
            continue
        pool = make()
        x = lucid.from_numpy(a)
        xg = lucid.from_numpy(a)
        xg.requires_grad = True

        def fwd():
            pool(x).realize()

        def fwdbwd():
            xg.grad = None
            pool(xg).backward(g)

        for pas, fn in (("fwd", fwd), ("fwdbwd", fwdbwd)):
            med, mn = timed(fn, samples)
            results.append((case, label, pas, "lucid_c", lucid.get_num_threads(), med, mn, bytes_of[pas]))
        if torch is not None:
            tx = torch.from_numpy(a)
            tg = torch.from_numpy(g)
            txg = torch.from_numpy(a).clone().requires_grad_()

            def tfwd():
                with torch.no_grad():
                    tfn(tx)

            def tfwdbwd():
                txg.grad = None
                tfn(txg).backward(tg)

            for pas, fn in (("fwd", tfwd), ("fwdbwd", tfwdbwd)):
                med, mn = timed(fn, torch_samples)
                results.append((case, label, pas, "torch", torch.get_num_threads(), med, mn, bytes_of[pas]))
        del x, xg
    return results


def c_bench_rows(cases):
    exe = os.path.join(ROOT, "build", "bench", "lucid-bench")
    if not os.path.exists(exe):
        print("(no %s: build it to get the C bench's rows)" % exe)
        return []
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "bench.jsonl")
        cmd = [exe, "--shape", "16,64,65536"] + [a for c in cases for a in ("--case", c)] + [
               "--impl", "jit,floor", "--threads", "all", "--json", out]
        print("\n$ " + " ".join(os.path.relpath(c, ROOT) if c.startswith(ROOT) else c for c in cmd))
        subprocess.run(cmd, stdout=subprocess.DEVNULL, check=False)
        rows = []
        if os.path.exists(out):
            with open(out) as f:
                for line in f:
                    r = json.loads(line)
                    if "median_ms" in r and r.get("case") in cases:
                        rows.append((r["case"], r["op"], r["pass"], "C " + r["impl"], r["threads"],
                                     r["median_ms"], r["min_ms"], r["bytes"]))
        return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--skip-large", action="store_true", help="only the per-call overhead")
    ap.add_argument("--large-only", action="store_true", help="only the (16, 64, 65536) rows")
    ap.add_argument("--case", action="append", choices=[c[0] for c in CASES],
                    help="a (16, 64, 65536) case (repeatable; default all)")
    ap.add_argument("--samples", type=int, default=7, help="runs per large row (default 7)")
    ap.add_argument("--torch-samples", type=int, default=3, help="runs per large torch row (default 3)")
    ap.add_argument("--loop", nargs=2, metavar=("CASE", "N"),
                    help="only run CASE (linear, train, pool, raw, torch-linear, torch-train, torch-pool) N times, for "
                         "instruction counts under callgrind")
    args = ap.parse_args()
    if args.loop:
        loop(args.loop[0], int(args.loop[1]))
        return
    print("lucid_c %s, numpy %s, torch %s, %d cores; %s" % (
        lucid.__version__, np.__version__, torch.__version__ if torch else "absent",
        os.cpu_count(), uptime()))
    if not args.large_only:
        overhead_rows()
        layer_rows()
    if not args.skip_large:
        cases = args.case or [c[0] for c in CASES]
        rows = large_rows(args.samples, args.torch_samples, cases) + c_bench_rows(cases)
        print("\n== (16, 64, 65536) float32, median of %d runs (torch: %d)" % (args.samples, args.torch_samples))
        print("%-9s %-7s %-12s %7s %10s %10s %8s" % ("case", "pass", "impl", "threads", "median ms",
                                                   "min ms", "GB/s"))
        for case, _, pas, impl, threads, med, mn, nbytes in sorted(rows, key=lambda r: (r[0], r[2], r[3])):
            print("%-9s %-7s %-12s %7d %10.2f %10.2f %8.1f" % (case, pas, impl, threads, med, mn,
                                                              nbytes / (med * 1e-3) / 1e9))
    print("\n" + uptime())


if __name__ == "__main__":
    main()
