#!/usr/bin/env python3
"""PyTorch anchor for lucid-bench: times the rows lucid-bench asks for, one JSON line each.

lucid-bench runs it once per benchmark (so torch is imported once) as

    python3 torch_bench.py BUDGET_S ROW...

where each ROW is `id:kind:p:k:s:pad:N:C:L:pass:threads:nrot` (kind `avg`, `lp`, `avg2d`, `lp2d` or `max2d`,
pass `fwd` or `fwdbwd`; for the 2-D kinds L is `H,W` and the sizes apply to both axes), or for a model
`id:model:CIN/COUT/K/PAD:POOL:LINEAR_OUT:LR:N:C:L:pass:threads:nrot` (pass also `train`). It
prints `{"torch": VERSION}` first (or `{"unavailable": REASON}` and exits 0
when torch cannot be imported), then per row `{"id": ID, "median_ms": .., "min_ms": ..,
"peak_extra_bytes": ..}` or `{"id": ID, "error": ..}`.

Semantics match Lucid's modules: AvgPool1d is avg_pool1d(x, k, s, pad) (count_include_pad =
True, floor mode); LPPool1d is lp_pool1d(x.abs(), p, k, s), since Lucid takes |x| and
PyTorch's lp_pool1d does not; likewise avg_pool2d, lp_pool2d(x.abs(), ...) and max_pool2d. fwdbwd is the forward and y.backward(g) into a fresh x.grad.
A model is nn.Sequential(nn.Conv1d(CIN, COUT, K, padding=PAD), nn.AvgPool1d(POOL)
[, nn.Linear(L_pool, LINEAR_OUT)]): fwd under no_grad; fwdbwd the forward and y.backward(g) into
fresh x.grad and parameter .grad; train one step of the usual loop, opt.zero_grad(),
F.mse_loss(model(x), target).backward(), opt.step() with torch.optim.SGD(lr=LR).
Timing mirrors lucid-bench: warm-up, then samples (a batch of runs each for tiny shapes) over
`nrot` rotated input sets until the budget is spent, at least 5 samples (3 after a single
warm-up run when a run takes a quarter second or more); median and minimum.
Peak extra memory: the profiler's allocation events over the first (warm-up) run, peak of the
running total minus what is still held at the end (the outputs y and x.grad).
"""
import json
import sys
import time

MIN_SAMPLES = 5
SLOW_RUN_S = 0.25  # runs this slow: one warm-up run and 3 samples at least
SAMPLE_TARGET_S = 50e-6
WARMUP_S = 0.01


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def parse_row(text):
    f = text.split(":")
    if len(f) != 12:
        raise ValueError("malformed row %r" % text)
    if f[1] == "model":
        cin, cout, k, pad = (int(v) for v in f[2].split("/"))
        return {
            "id": int(f[0]), "kind": "model", "conv": (cin, cout, k, pad), "pool": int(f[3]),
            "linear_out": int(f[4]), "lr": float(f[5]), "shape": (int(f[6]), int(f[7]), int(f[8])),
            "pass": f[9], "threads": int(f[10]), "nrot": int(f[11]),
        }
    return {
        "id": int(f[0]), "kind": f[1], "p": float(f[2]), "k": int(f[3]), "s": int(f[4]),
        "pad": int(f[5]), "shape": (int(f[6]), int(f[7])) + tuple(int(v) for v in f[8].split(",")), "pass": f[9],
        "threads": int(f[10]), "nrot": int(f[11]),
    }


def make_model(torch, row):
    """The model of a model row and its output shape."""
    nn = torch.nn
    cin, cout, k, pad = row["conv"]
    n, c, l = row["shape"]
    l_pool = (l + 2 * pad - k + 1) // row["pool"]
    layers = [nn.Conv1d(cin, cout, k, padding=pad), nn.AvgPool1d(row["pool"])]
    if row["linear_out"] > 0:
        layers.append(nn.Linear(l_pool, row["linear_out"]))
    out_len = row["linear_out"] if row["linear_out"] > 0 else l_pool
    return nn.Sequential(*layers), (n, cout, out_len)


def make_model_step(torch, F, row, model):
    """fwd, fwdbwd or train on a model; (x, g) with g the target for train."""
    if row["pass"] == "fwd":
        def step(x, g):
            with torch.no_grad():
                return model(x)
    elif row["pass"] == "fwdbwd":
        def step(x, g):
            x.grad = None
            model.zero_grad(set_to_none=True)
            y = model(x)
            y.backward(g)
            return y
    else:
        opt = torch.optim.SGD(model.parameters(), lr=row["lr"])

        def step(x, g):
            opt.zero_grad()
            loss = F.mse_loss(model(x), g)
            loss.backward()
            opt.step()
            return loss
    return step


def make_step(torch, F, row):
    """A function of (x, g) doing one run; returns the tensors the run leaves allocated."""
    k, s, pad, p = row["k"], row["s"], row["pad"], row["p"]
    if row["kind"] == "avg":
        def fwd(x):
            return F.avg_pool1d(x, k, s, pad)
    elif row["kind"] == "avg2d":
        def fwd(x):
            return F.avg_pool2d(x, k, s, pad)
    elif row["kind"] == "lp2d":
        def fwd(x):
            return F.lp_pool2d(x.abs(), p, k, s)
    elif row["kind"] == "max2d":
        def fwd(x):
            return F.max_pool2d(x, k, s, pad)
    else:
        def fwd(x):
            return F.lp_pool1d(x.abs(), p, k, s)
    if row["pass"] == "fwd":
        def step(x, g):
            with torch.no_grad():
                return fwd(x)
    else:
        def step(x, g):
            x.grad = None
            y = fwd(x)
            y.backward(g)
            return y
    return step


def time_row(torch, step, sets, budget_s, prior_s):
    """Median and min in ms; one run (taking prior_s) was already made and counts as warm-up."""
    n = len(sets)
    slot = 0
    per_run = prior_s
    if prior_s < SLOW_RUN_S:
        t0 = time.perf_counter()
        t1 = t0
        warm = 0
        while warm < 1 or (t1 - t0 < WARMUP_S and warm < 100000):
            step(*sets[slot])
            slot = (slot + 1) % n
            warm += 1
            t1 = time.perf_counter()
        per_run = (t1 - t0) / warm
    batch = 1 if per_run >= SAMPLE_TARGET_S else int(SAMPLE_TARGET_S / max(per_run, 1e-9)) + 1
    samples = []
    min_samples = 3 if per_run >= SLOW_RUN_S else MIN_SAMPLES
    start = time.perf_counter()
    while len(samples) < min_samples or time.perf_counter() - start < budget_s:
        a = time.perf_counter()
        for _ in range(batch):
            step(*sets[slot])
            slot = (slot + 1) % n
        samples.append((time.perf_counter() - a) / batch)
        if len(samples) >= 2000:
            break
    samples.sort()
    m = len(samples)
    median = samples[m // 2] if m % 2 else 0.5 * (samples[m // 2 - 1] + samples[m // 2])
    return 1e3 * median, 1e3 * samples[0]


def peak_extra(torch, step, x, g):
    """One run under the profiler (the first warm-up run): its peak extra bytes and seconds."""
    from torch.profiler import ProfilerActivity, profile
    x.grad = None
    t0 = time.perf_counter()
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        y = step(x, g)
    seconds = time.perf_counter() - t0
    events = [e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"]
    events.sort(key=lambda e: e.start_us())  # stable: ties keep the recorded order
    cur = peak = 0
    for e in events:
        cur += e.nbytes()
        peak = max(peak, cur)
    del y
    return max(0, peak - cur), seconds


def main(argv):
    try:
        import torch
        import torch.nn.functional as F
    except Exception as e:  # torch missing or broken: lucid-bench prints the reason once
        emit({"unavailable": "python3 cannot import torch (%s)" % e})
        return 0
    if len(argv) < 2:
        sys.stderr.write("usage: torch_bench.py BUDGET_S ROW...\n")
        return 2
    budget_s = float(argv[1])
    emit({"torch": torch.__version__})
    for text in argv[2:]:
        row = parse_row(text)
        try:
            torch.set_num_threads(row["threads"])
            shape = row["shape"]
            gen = torch.Generator().manual_seed(row["id"])
            if row["kind"] == "model":
                torch.manual_seed(row["id"])
                model, y_shape = make_model(torch, row)
                step = make_model_step(torch, F, row, model)
            else:
                step = make_step(torch, F, row)
                # floor mode: each spatial axis (L, or H and W) the same way
                out = tuple((d + 2 * row["pad"] - row["k"]) // row["s"] + 1 for d in shape[2:])
                y_shape = shape[:2] + out
            sets = []
            for _ in range(row["nrot"]):
                x = torch.rand(*shape, generator=gen) * 2 - 1
                g = None
                if row["pass"] != "fwd":  # fwdbwd: dL/dy; train: the target
                    x.requires_grad_(row["pass"] == "fwdbwd")
                    g = torch.rand(*y_shape, generator=gen) * 2 - 1
                sets.append((x, g))
            extra, first_s = peak_extra(torch, step, *sets[0])
            median, minimum = time_row(torch, step, sets, budget_s, first_s)
            emit({"id": row["id"], "median_ms": median, "min_ms": minimum, "peak_extra_bytes": int(extra)})
        except Exception as e:
            emit({"id": row["id"], "error": "%s: %s" % (type(e).__name__, e)})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
