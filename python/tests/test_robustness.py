"""Bad input never crashes the interpreter (each case runs in a child interpreter that must
exit normally, every case raising TypeError, ValueError or MemoryError), and 10,000 calls
of each kind leave the resident memory and the C heap where they were."""
import ctypes
import gc
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import lucid_c as lucid
import lucid_c.nn as nn
from lucid_c import Tensor

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Each line: an expression that must raise one of the listed errors, never crash.
BAD_CASES = r"""
TypeError   | Tensor([1, 2], dtype=np.int32)
TypeError   | Tensor("abc")
TypeError   | Tensor([[1.0, 2.0], [3.0]])
TypeError   | Tensor([1.0], requires_grad=1)
TypeError   | lucid.from_numpy(np.zeros(3, dtype=np.int64))
TypeError   | lucid.from_numpy(np.zeros(3, dtype=">f8"))
TypeError   | lucid.from_numpy([1.0])
TypeError   | lucid.from_dlpack(3)
ValueError  | lucid.zeros(-1)
ValueError  | lucid.ones(2, -3)
ValueError  | lucid.randn(-1)
MemoryError ValueError | lucid.zeros(2**62)
ValueError  | nn.AvgPool1d(2)(Tensor([1.0, 2.0]))
ValueError  | nn.AvgPool1d(2)(Tensor(2.0))
ValueError  | nn.AvgPool1d(2)(lucid.zeros(1, 1, 1, 1, 1, 1, 4))
ValueError  | nn.AvgPool1d(2)(lucid.zeros(1, 1, 0))
ValueError  | nn.AvgPool1d(4)(lucid.zeros(1, 1, 3))
ValueError  | nn.AvgPool1d(-1)
ValueError  | nn.AvgPool1d(0)
ValueError  | nn.AvgPool1d(2, stride=0)
ValueError  | nn.AvgPool1d(2, stride=-5)
ValueError  | nn.AvgPool1d(2, padding=-1)
ValueError  | nn.AvgPool1d(2**63)
ValueError  | nn.AvgPool1d(-2**63 - 1)
ValueError  | nn.AvgPool1d(2**62)(lucid.zeros(1, 1, 4))
ValueError  | nn.LPPool1d(float("nan"), 2)
ValueError  | nn.LPPool1d(float("inf"), 2)
ValueError  | nn.LPPool1d(1e400, 2)
ValueError  | nn.LPPool1d(0, 2)
ValueError  | nn.LPPool1d(-1e-300, 2)
TypeError   | nn.LPPool1d("2", 2)
TypeError   | nn.LPPool1d(2, 2.0)
TypeError   | nn.LPPool1d(2, None)
TypeError   | nn.AvgPool1d(2, 2, 0, False, True, 7)
TypeError   | nn.AvgPool1d(2)(np.zeros((1, 1, 4)))
TypeError   | nn.AvgPool1d(2)(None)
MemoryError ValueError | nn.AvgPool1d(2)(lucid.from_numpy(np.broadcast_to(np.float32(1), (1, 1, 2**40)))).realize()
ValueError  | nn.AvgPool1d(2)(Tensor([[[1.0, 2.0, 3.0, 4.0]]], requires_grad=True)).backward()
ValueError  | nn.AvgPool1d(2)(Tensor([[[1.0, 2.0]]], requires_grad=True)).backward(lucid.ones(1, 1, 2))
TypeError   | nn.AvgPool1d(2)(Tensor([[[1.0, 2.0]]], requires_grad=True)).backward("abc")
RuntimeError | nn.AvgPool1d(2)(Tensor([[[1.0, 2.0]]])).backward(lucid.ones(1, 1, 1))
ValueError  | Tensor([1.0, 2.0]).item()
TypeError   | len(Tensor(1.0))
ValueError  | Tensor([1.0, 2.0]) + Tensor([1.0, 2.0, 3.0])
TypeError   | Tensor([1.0]) + Tensor([1.0], dtype=lucid.float64)
TypeError   | Tensor([1.0]) ** Tensor([1.0])
ValueError  | Tensor([1.0]).sum(5)
ValueError  | lucid.set_num_threads(0)
ValueError  | lucid.set_num_threads(2**32 + 2)
TypeError   | lucid.set_num_threads(2.0)
ValueError  | lucid.random.seed(-1)
TypeError   | lucid.random.seed("a")
ValueError  | lucid.optim.SGD([Tensor([1.0])], lr=float("nan"))
TypeError   | lucid.optim.SGD([np.zeros(2)], lr=0.1)
TypeError   | nn.Sequential(1)
ValueError  | nn.Sequential(nn.AvgPool1d(2)).load_state_dict({"x": np.zeros(1)})
TypeError   | nn.functional.avg_pool1d(Tensor([[[1.0, 2.0]]]), [[2]])
ValueError  | nn.functional.lp_pool1d(Tensor([[[1.0, 2.0]]]), -2, 2)
ValueError  | nn.Linear(4, 3)(lucid.ones(2, 5))
ValueError  | nn.Linear(4, 3)(Tensor(1.0))
ValueError  | nn.Linear(-1, 3)
ValueError  | nn.Linear(2**62, 2**62)
TypeError   | nn.Linear(4, 3, bias=1)
ValueError  | nn.Conv1d(2, 3, 3)(lucid.ones(1, 3, 8))
ValueError  | nn.Conv1d(2, 3, 3)(lucid.ones(2, 3, 8))
ValueError  | nn.Conv1d(2, 3, 5)(lucid.ones(1, 2, 4))
ValueError  | nn.Conv1d(2, 4, 3, groups=3)
ValueError  | nn.Conv1d(2, 4, 3, padding="full")
ValueError  | nn.Conv1d(2, 4, 3, padding='x"y')
ValueError  | nn.Conv1d(2, 4, 3, padding=-1)
ValueError  | nn.Conv1d(2, 4, 0)
TypeError   | nn.Conv1d(2, 4, 3, padding=[1, [2]])
ValueError  | nn.MSELoss()(lucid.ones(2), lucid.ones(3))
TypeError   | nn.MSELoss()(lucid.ones(2), 1.0)
ValueError  | nn.MSELoss(reduction="none")
TypeError   | nn.MSELoss(reduction=1.5)
ValueError  | nn.MSELoss()(lucid.ones(2, requires_grad=True), lucid.ones(2)).backward(lucid.ones(2))
TypeError   | lucid.optim.SGD([Tensor([1.0])], lr=0.1, momentum="a")
ValueError  | lucid.optim.SGD([], lr=0.1)
ValueError  | lucid.optim.SGD([Tensor([1.0])], lr=0.1, nesterov=True)
ValueError  | lucid.optim.SGD([Tensor([1.0])], lr=0.1, momentum=0.9, dampening=0.5, nesterov=True)
ValueError  | lucid.optim.SGD([Tensor([1.0])], lr=0.1, momentum=0.9, dampening=float("inf"))
TypeError   | lucid.optim.SGD([Tensor([1.0])], lr=0.1, maximize=1)
TypeError   | lucid.optim.SGD([{"params": [Tensor([1.0])], "betas": 1}], lr=0.1)
TypeError   | lucid.optim.SGD([{"lr": 0.1}], lr=0.1)
ValueError  | lucid.optim.SGD([{"params": [Tensor([1.0])], "lr": -1.0}], lr=0.1)
TypeError   | lucid.optim.SGD(5, lr=0.1)
ValueError  | nn.functional.linear(lucid.ones(2, 4), lucid.ones(3, 4), lucid.ones(4))
ValueError  | nn.functional.linear(lucid.ones(2, 5), lucid.ones(3, 4))
ValueError  | nn.functional.linear(lucid.ones(2, 4), lucid.ones(4))
TypeError   | nn.functional.linear(lucid.ones(2, 4), np.ones((3, 4)))
TypeError   | nn.functional.linear(lucid.ones(2, 4))
TypeError   | nn.functional.linear(lucid.ones(2, 4), lucid.ones(3, 4), None, 1)
ValueError  | nn.functional.conv1d(lucid.ones(1, 2, 8), lucid.ones(3, 2, 3), stride=0)
ValueError  | nn.functional.conv1d(lucid.ones(1, 2, 8), lucid.ones(3, 1, 3), groups=3)
ValueError  | nn.functional.conv1d(lucid.ones(1, 2, 8), lucid.ones(3, 2))
TypeError   | nn.functional.conv1d(lucid.ones(1, 2, 8), lucid.ones(3, 2, 3), padding=[[1]])
TypeError   | nn.functional.mse_loss(lucid.ones(2), lucid.ones(2), "sum")
ValueError  | nn.functional.mse_loss(lucid.ones(2), lucid.ones(3))
TypeError   | nn.functional.relu(lucid.ones(2), True)
"""


def _cases():
    for line in BAD_CASES.strip().splitlines():
        errors, expr = line.split("|", 1)
        yield errors.split(), expr.strip()


def test_bad_input_raises_and_never_crashes():
    body = ["import numpy as np", "import lucid_c as lucid", "import lucid_c.nn as nn",
            "from lucid_c import Tensor", "wrong = []"]
    for errors, expr in _cases():
        body.append(textwrap.dedent("""
            try:
                {expr}
                wrong.append(("no error", {expr!r}))
            except ({errors},) as e:
                pass
            except Exception as e:
                wrong.append((type(e).__name__ + ": " + str(e), {expr!r}))
            """).format(expr=expr, errors=", ".join(errors)))
    body.append("print(repr(wrong))")
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR)
    done = subprocess.run([sys.executable, "-c", "\n".join(body)], capture_output=True, text=True,
                          env=env, timeout=600)
    assert done.returncode == 0, "the interpreter died (%d): %s" % (done.returncode, done.stderr[-2000:])
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout


def test_large_but_valid_sizes():
    # A window of 2**20 with 2**19 padding each side over 4 ones: one window, divisor 2**20.
    x = lucid.ones(1, 1, 4, requires_grad=True)
    y = nn.AvgPool1d(2**20, stride=2**20 + 1, padding=2**19)(x)
    assert y.tolist() == [[[2.0**-18]]]
    y.backward()
    assert x.grad.tolist() == [[[2.0**-20] * 4]]


def test_zero_size_batches_give_zero_size_results():
    y = nn.AvgPool1d(2)(lucid.zeros(0, 3, 8))
    assert y.shape == (0, 3, 4) and y.numpy().shape == (0, 3, 4)
    x = lucid.zeros(2, 0, 8, requires_grad=True)
    nn.LPPool1d(2, 4)(x).backward(lucid.zeros(2, 0, 2))
    assert x.grad.shape == (2, 0, 8)


def _rss_kib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                                                      "usmblks", "fsmblks", "uordblks", "fordblks",
                                                      "keepcost")]


def _heap_kib():
    """Bytes malloc has handed out and not had back, over every arena (glibc's mallinfo2).
    RSS alone misses a small leak: it fills the free heap the compiler left behind first."""
    libc = ctypes.CDLL(None)
    if not hasattr(libc, "mallinfo2"):
        return 0
    libc.mallinfo2.restype = _MallInfo2
    m = libc.mallinfo2()
    return (m.uordblks + m.hblkhd) // 1024


def _growth_kib(step, n=10000, warm=500):
    """(RSS growth, C heap growth) in KiB over n calls of step."""
    for _ in range(warm):
        step()
    gc.collect()
    rss, heap = _rss_kib(), _heap_kib()
    for _ in range(n):
        step()
    gc.collect()
    return _rss_kib() - rss, _heap_kib() - heap


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux's /proc")
def test_no_leak_over_ten_thousand_calls():
    x = lucid.randn(2, 3, 16)
    xg = lucid.randn(2, 3, 16, requires_grad=True)
    g = np.ones((2, 3, 4), dtype=np.float32)
    pool, lp = nn.AvgPool1d(2), nn.LPPool1d(2, 2)

    def fwdbwd():
        xg.grad = None
        lp(pool(xg)).backward(g)

    def bad_shape():
        try:
            nn.AvgPool1d(4)(lucid.zeros(1, 1, 3))
        except ValueError:
            pass

    def bad_value():
        try:
            nn.LPPool1d(-1, 2)
        except ValueError:
            pass

    lin = nn.Linear(4, 3)
    x14 = lucid.randn(1, 4)
    model = nn.Sequential(nn.Conv1d(1, 1, 3, padding=1), nn.AvgPool1d(2, 2), nn.Linear(2, 1))
    criterion = nn.MSELoss()
    opt = lucid.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=0.01)
    xs, target = lucid.randn(4, 1, 4), lucid.randn(4, 1, 1)

    def train_step():
        opt.zero_grad()
        criterion(model(xs), target).backward()
        opt.step()

    damped = lucid.optim.SGD(lin.parameters(), lr=1e-6, momentum=0.9, dampening=0.5)

    def damped_step():
        lin.weight.grad = lucid.ones(3, 4)
        damped.step()

    def bad_linear():
        try:
            lin(lucid.zeros(1, 5))
        except ValueError:
            pass

    steps = {
        "Linear forward and read": lambda: lin(x14).numpy(),
        "Linear forward, backward": lambda: lin(x14).sum().backward(),
        "a new Linear each call": lambda: nn.Linear(4, 3)(x14).numpy(),
        "seed model train step": train_step,
        "bad Linear input": bad_linear,
        "forward and read": lambda: pool(x).numpy(),
        "chain forward, backward": fwdbwd,
        "unread results": lambda: lp(pool(x)),
        "a new module each call": lambda: nn.AvgPool1d(2, 1)(x).numpy(),
        "functional": lambda: nn.functional.lp_pool1d(x, 2, 4).numpy(),
        "functional linear, backward": lambda: nn.functional.linear(x14, lin.weight, lin.bias).sum().backward(),
        "SGD step with dampening": damped_step,
        "printing": lambda: repr(pool(xg)),
        "bad shape": bad_shape,
        "bad value": bad_value,
    }
    grown = {name: _growth_kib(step) for name, step in steps.items()}
    # Generous bounds; one leaked lc_module a call (96 bytes) grows the heap by 940 KiB.
    assert all(rss < 2048 and heap < 64 for rss, heap in grown.values()), \
        "(RSS, C heap) growth over 10,000 calls, KiB: %s" % grown
