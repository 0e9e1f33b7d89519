"""Every parameter-free module of the package against PyTorch in float64: forward and input
gradient, as a module and as its nn.functional form, over random argument sets. One table of
cases (CASES), each run by one parametrized test. PyTorch's LP pooling has no |x| and rescales
a partial ceil-mode window, so it is given |x| and compared in floor mode only."""
import numpy as np
import pytest

import lucid_c as lucid
import lucid_c.nn as nn

torch = pytest.importorskip("torch")
F = torch.nn.functional


class Case:
    """One comparison: lucid_c's `name`(*args, **kwargs) (nn.<name> as a module, and
    nn.functional's function of the same arguments) against torch function `ref` on x, the
    backward seeded with `seed`."""

    def __init__(self, ident, name, args, kwargs, ref, x, seed, rtol_y=1e-12, rtol_g=1e-12, atol_g=1e-12):
        self.ident, self.name, self.args, self.kwargs = ident, name, args, kwargs
        self.ref, self.x, self.seed = ref, x, seed
        self.rtol_y, self.rtol_g, self.atol_g = rtol_y, rtol_g, atol_g


def _seed(rng, ref, x):
    """A random backward seed of the reference output's shape."""
    return rng.standard_normal(tuple(ref(torch.tensor(x)).shape))


def _avg_params(rng):
    k = int(rng.integers(1, 6))
    s = int(rng.integers(1, 5))
    p = int(rng.integers(0, k // 2 + 1))
    ceil = bool(rng.integers(0, 2))
    cip = bool(rng.integers(0, 2))
    L = int(rng.integers(max(k - 2 * p, 1), 20))
    return k, s, p, ceil, cip, L


def _avgpool1d_cases():
    rng = np.random.default_rng(1)
    for i in range(24):
        k, s, p, ceil, cip, L = _avg_params(rng)
        x = rng.standard_normal((2, 3, L))
        ref = lambda t, k=k, s=s, p=p, ceil=ceil, cip=cip: F.avg_pool1d(  # noqa: E731
            t, k, s, p, ceil_mode=ceil, count_include_pad=cip)
        yield Case("avgpool1d-%d" % i, "AvgPool1d", (k, s, p), dict(ceil_mode=ceil, count_include_pad=cip),
                   ref, x, _seed(rng, ref, x))


def _lppool1d_cases():
    for norm_type in (1.0, 2.0, 2.5, 3.0, 7.0):
        rng = np.random.default_rng(int(norm_type * 10))
        for i in range(8):
            k = int(rng.integers(1, 6))
            s = int(rng.integers(1, 5))
            L = int(rng.integers(k, 20))
            x = rng.standard_normal((2, 3, L)) + 0.1  # away from 0, where p < 1 is not smooth
            ref = lambda t, n=norm_type, k=k, s=s: F.lp_pool1d(t.abs(), n, k, s)  # noqa: E731
            yield Case("lppool1d-p%g-%d" % (norm_type, i), "LPPool1d", (norm_type, k, s), {}, ref, x,
                       _seed(rng, ref, x), rtol_y=1e-10, rtol_g=1e-8)


def _avgpool2d_cases():
    rng = np.random.default_rng(11)
    for i in range(16):
        k, s, p, ceil, cip, H = _avg_params(rng)
        kw = int(rng.integers(1, 6))
        sw = int(rng.integers(1, 5))
        pw = int(rng.integers(0, kw // 2 + 1))
        W = int(rng.integers(max(kw - 2 * pw, 1), 14))
        shape = (2, 3, H, W) if rng.integers(0, 2) else (3, H, W)
        x = rng.standard_normal(shape)
        args = ((k, kw), (s, sw), (p, pw))
        ref = lambda t, args=args, ceil=ceil, cip=cip: F.avg_pool2d(  # noqa: E731
            t, *args, ceil_mode=ceil, count_include_pad=cip)
        yield Case("avgpool2d-%d" % i, "AvgPool2d", args, dict(ceil_mode=ceil, count_include_pad=cip),
                   ref, x, _seed(rng, ref, x))


def _lppool2d_cases():
    for norm_type in (1.0, 2.0, 3.0, 7.0):
        rng = np.random.default_rng(int(norm_type * 10) + 1)
        for i in range(6):
            k = (int(rng.integers(1, 5)), int(rng.integers(1, 5)))
            s = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
            shape = (2, 2, int(rng.integers(k[0], 12)), int(rng.integers(k[1], 12)))
            x = rng.standard_normal(shape) + 0.1
            ref = lambda t, n=norm_type, k=k, s=s: F.lp_pool2d(t.abs(), n, k, s)  # noqa: E731
            yield Case("lppool2d-p%g-%d" % (norm_type, i), "LPPool2d", (norm_type, k, s), {}, ref, x,
                       _seed(rng, ref, x), rtol_y=1e-10, rtol_g=1e-8)


def _maxpool_cases():
    # continuous random values: no ties, so the chosen element (and its gradient) is PyTorch's
    rng = np.random.default_rng(21)
    for i in range(8):
        k = int(rng.integers(1, 5))
        s = int(rng.integers(1, 4))
        p = int(rng.integers(0, k // 2 + 1))
        d = int(rng.integers(1, 3))
        ceil = bool(rng.integers(0, 2))
        x = rng.standard_normal((2, 2, int(rng.integers(d * (k - 1) + 1, 16))))
        ref = lambda t, k=k, s=s, p=p, d=d, ceil=ceil: F.max_pool1d(t, k, s, p, d, ceil_mode=ceil)  # noqa: E731
        yield Case("maxpool1d-%d" % i, "MaxPool1d", (k, s, p, d), dict(ceil_mode=ceil), ref, x,
                   _seed(rng, ref, x))
    for i in range(6):
        k = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        s = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
        p = (int(rng.integers(0, k[0] // 2 + 1)), int(rng.integers(0, k[1] // 2 + 1)))
        x = rng.standard_normal((2, 2, int(rng.integers(k[0], 10)), int(rng.integers(k[1], 10))))
        ref = lambda t, k=k, s=s, p=p: F.max_pool2d(t, k, s, p)  # noqa: E731
        yield Case("maxpool2d-%d" % i, "MaxPool2d", (k, s, p), {}, ref, x, _seed(rng, ref, x))


def _relu_cases():
    rng = np.random.default_rng(31)
    for i, shape in enumerate([(7,), (2, 3, 5), (2, 2, 3, 4)]):
        x = rng.standard_normal(shape)
        x.reshape(-1)[0] = 0.0  # the kink: gradient 0 there, as PyTorch's
        yield Case("relu-%d" % i, "ReLU", (), {}, F.relu, x, _seed(rng, F.relu, x))


CASES = [c for make in (_avgpool1d_cases, _lppool1d_cases, _avgpool2d_cases, _lppool2d_cases,
                        _maxpool_cases, _relu_cases) for c in make()]


def _function(name):
    return getattr(nn.functional, nn.functional.function_name(name))


def _run(call, x, seed):
    t = lucid.Tensor(x, requires_grad=True, dtype=lucid.float64)
    y = call(t)
    y.backward(lucid.Tensor(seed, dtype=lucid.float64))
    return y.numpy(), t.grad.numpy()


def _torch(fn, x, seed):
    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    ty = fn(tx)
    ty.backward(torch.tensor(seed, dtype=torch.float64))
    return ty.detach().numpy(), tx.grad.numpy()


@pytest.mark.parametrize("form", ["module", "functional"])
@pytest.mark.parametrize("case", CASES, ids=[c.ident for c in CASES])
def test_matches_torch(case, form):
    if form == "module":
        m = getattr(nn, case.name)(*case.args, **case.kwargs)
        call, label = m, repr(m)
    else:
        f = _function(case.name)
        call = lambda t: f(t, *case.args, **case.kwargs)  # noqa: E731
        label = "%s%r %r" % (f.__name__, case.args, case.kwargs)
    y, gx = _run(call, case.x, case.seed)
    ry, rgx = _torch(case.ref, case.x, case.seed)
    np.testing.assert_allclose(y, ry, rtol=case.rtol_y, atol=1e-12, err_msg=label)
    np.testing.assert_allclose(gx, rgx, rtol=case.rtol_g, atol=case.atol_g, err_msg=label)


def test_case_table_is_whole():
    # the four pooling families keep every case the per-family loops had, plus the max pools and ReLU
    counts = {}
    for c in CASES:
        counts[c.name] = counts.get(c.name, 0) + 1
    assert counts == {"AvgPool1d": 24, "LPPool1d": 40, "AvgPool2d": 16, "LPPool2d": 24,
                      "MaxPool1d": 8, "MaxPool2d": 6, "ReLU": 3}
    assert len({c.ident for c in CASES}) == len(CASES)


def test_sequential_is_one_program_and_matches_torch():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 4, 24))
    model = nn.Sequential(nn.AvgPool1d(3, 1, 1), nn.LPPool1d(2, 4))
    fn = lambda t: F.lp_pool1d(F.avg_pool1d(t, 3, 1, 1).abs(), 2, 4)  # noqa: E731
    seed = rng.standard_normal((2, 4, 6))
    y, gx = _run(model, x, seed)
    ry, rgx = _torch(fn, x, seed)
    np.testing.assert_allclose(y, ry, rtol=1e-12)
    np.testing.assert_allclose(gx, rgx, rtol=1e-9, atol=1e-12)


def test_functional_names():
    x = lucid.Tensor(np.arange(8.0).reshape(1, 1, 8))
    assert nn.functional.avg_pool1d(x, 2).tolist() == [[[0.5, 2.5, 4.5, 6.5]]]
    assert nn.functional.lp_pool1d(x, 1, 4).tolist() == [[[6.0, 22.0]]]
    x2 = lucid.Tensor(np.arange(1.0, 17.0).reshape(1, 4, 4))
    assert nn.functional.avg_pool2d(x2, 2).tolist() == [[[3.5, 5.5], [11.5, 13.5]]]
    assert nn.functional.lp_pool2d(x2, 1, (2, 4)).tolist() == [[[36.0], [100.0]]]
    # one function per module of the library's table, PyTorch's spelling
    assert sorted(nn.functional.function_name(row[0]) for row in nn.MODULE_TABLE) == sorted(
        f for f in nn.functional.__all__ if f != "function_name")
    for name in ("avg_pool1d", "lp_pool1d", "max_pool1d", "max_pool2d", "avg_pool2d", "lp_pool2d",
                 "linear", "conv1d", "relu", "mse_loss"):
        assert callable(getattr(nn.functional, name)) and hasattr(F, name)


def test_float32_results_within_tolerance():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 8, 64)).astype(np.float32)
    y = nn.LPPool1d(2, 4)(lucid.from_numpy(x)).numpy()
    ref = F.lp_pool1d(torch.tensor(x, dtype=torch.float64).abs(), 2, 4).numpy()
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,args,ref,shape", [
    ("ReLU", (), F.relu, (2, 3, 8)),
    ("MaxPool1d", (2,), lambda t: F.max_pool1d(t, 2), (2, 3, 8)),
    ("MaxPool1d", (3, 2, 1), lambda t: F.max_pool1d(t, 3, 2, 1), (2, 3, 9)),
    ("MaxPool2d", ((3, 3), (2, 2), (1, 1)), lambda t: F.max_pool2d(t, 3, 2, 1), (2, 2, 7, 9)),
])
def test_nonfinite_seed_reaches_only_the_chosen(name, args, ref, shape, dtype):
    # a seed of inf, -inf and NaN goes to the element each window chose (ReLU: each x > 0) and
    # nowhere else, as PyTorch's scatter does: a gradient taken as mask * seed would give NaN
    # (0 * inf) at every element a window did not choose
    rng = np.random.default_rng(41)
    x = rng.standard_normal(shape).astype(dtype)
    ry = ref(torch.tensor(x, dtype=torch.float64))
    seed = rng.standard_normal(tuple(ry.shape))
    flat = seed.reshape(-1)
    picks = rng.choice(flat.size, size=max(3, flat.size // 4), replace=False)
    flat[picks] = np.resize(np.array([np.inf, -np.inf, np.nan]), picks.size)
    seed = seed.astype(dtype)
    t = lucid.Tensor(x, requires_grad=True, dtype=getattr(lucid, dtype))
    getattr(nn, name)(*args)(t).backward(lucid.Tensor(seed, dtype=getattr(lucid, dtype)))
    tx = torch.tensor(x, dtype=getattr(torch, dtype), requires_grad=True)
    ref(tx).backward(torch.tensor(seed))
    want = tx.grad.numpy()
    assert np.isnan(want).any() and np.isfinite(want).any() and (want == 0).any()
    # NaN where PyTorch has NaN, the infinities signed alike; a position two windows share sums
    # their seeds in another order than PyTorch's scatter, hence the tolerance
    np.testing.assert_allclose(t.grad.numpy(), want, rtol=1e-6 if dtype == "float32" else 1e-12, atol=0)
