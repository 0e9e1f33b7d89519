"""Every module of the package against PyTorch in float64: forward and input gradient, over
random parameter sets (PyTorch's LP pooling has no |x| and rescales a partial ceil-mode window,
so it is given |x| and compared in floor mode only)."""
import numpy as np
import pytest

import lucid_c as lucid
import lucid_c.nn as nn

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _run(module, x, seed):
    t = lucid.Tensor(x, requires_grad=True, dtype=lucid.float64)
    y = module(t)
    y.backward(lucid.Tensor(seed, dtype=lucid.float64))
    return y.numpy(), t.grad.numpy()


def _torch(fn, x, seed):
    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    ty = fn(tx)
    ty.backward(torch.tensor(seed, dtype=torch.float64))
    return ty.detach().numpy(), tx.grad.numpy()


def _avg_cases(rng, n):
    for _ in range(n):
        k = int(rng.integers(1, 6))
        s = int(rng.integers(1, 5))
        p = int(rng.integers(0, k // 2 + 1))
        ceil = bool(rng.integers(0, 2))
        cip = bool(rng.integers(0, 2))
        L = int(rng.integers(max(k - 2 * p, 1), 20))
        yield k, s, p, ceil, cip, L


def test_avgpool1d_matches_torch():
    rng = np.random.default_rng(1)
    for k, s, p, ceil, cip, L in _avg_cases(rng, 24):
        x = rng.standard_normal((2, 3, L))
        m = nn.AvgPool1d(k, s, p, ceil_mode=ceil, count_include_pad=cip)
        fn = lambda t: F.avg_pool1d(t, k, s, p, ceil_mode=ceil, count_include_pad=cip)  # noqa: E731
        ty = fn(torch.tensor(x))
        seed = rng.standard_normal(tuple(ty.shape))
        y, gx = _run(m, x, seed)
        ry, rgx = _torch(fn, x, seed)
        np.testing.assert_allclose(y, ry, rtol=1e-12, atol=1e-12, err_msg=repr(m))
        np.testing.assert_allclose(gx, rgx, rtol=1e-12, atol=1e-12, err_msg=repr(m))


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 2.5, 3.0, 7.0])
def test_lppool1d_matches_torch(norm_type):
    rng = np.random.default_rng(int(norm_type * 10))
    for _ in range(8):
        k = int(rng.integers(1, 6))
        s = int(rng.integers(1, 5))
        L = int(rng.integers(k, 20))
        x = rng.standard_normal((2, 3, L)) + 0.1  # away from 0, where p < 1 is not smooth
        m = nn.LPPool1d(norm_type, k, s)
        fn = lambda t: F.lp_pool1d(t.abs(), norm_type, k, s)  # noqa: E731
        seed = rng.standard_normal(tuple(fn(torch.tensor(x)).shape))
        y, gx = _run(m, x, seed)
        ry, rgx = _torch(fn, x, seed)
        np.testing.assert_allclose(y, ry, rtol=1e-10, err_msg=repr(m))
        np.testing.assert_allclose(gx, rgx, rtol=1e-8, atol=1e-12, err_msg=repr(m))


def test_avgpool2d_matches_torch():
    rng = np.random.default_rng(11)
    for _ in range(16):
        k, s, p, ceil, cip, H = next(_avg_cases(rng, 1))
        kw = int(rng.integers(1, 6))
        sw = int(rng.integers(1, 5))
        pw = int(rng.integers(0, kw // 2 + 1))
        W = int(rng.integers(max(kw - 2 * pw, 1), 14))
        shape = (2, 3, H, W) if rng.integers(0, 2) else (3, H, W)
        x = rng.standard_normal(shape)
        m = nn.AvgPool2d((k, kw), (s, sw), (p, pw), ceil_mode=ceil, count_include_pad=cip)
        fn = lambda t: F.avg_pool2d(t, (k, kw), (s, sw), (p, pw), ceil_mode=ceil,  # noqa: E731
                                    count_include_pad=cip)
        seed = rng.standard_normal(tuple(fn(torch.tensor(x)).shape))
        y, gx = _run(m, x, seed)
        ry, rgx = _torch(fn, x, seed)
        np.testing.assert_allclose(y, ry, rtol=1e-12, atol=1e-12, err_msg=repr(m))
        np.testing.assert_allclose(gx, rgx, rtol=1e-12, atol=1e-12, err_msg=repr(m))


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.0, 7.0])
def test_lppool2d_matches_torch(norm_type):
    rng = np.random.default_rng(int(norm_type * 10) + 1)
    for _ in range(6):
        k = (int(rng.integers(1, 5)), int(rng.integers(1, 5)))
        s = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        shape = (2, 2, int(rng.integers(k[0], 12)), int(rng.integers(k[1], 12)))
        x = rng.standard_normal(shape) + 0.1
        m = nn.LPPool2d(norm_type, k, s)
        fn = lambda t: F.lp_pool2d(t.abs(), norm_type, k, s)  # noqa: E731
        seed = rng.standard_normal(tuple(fn(torch.tensor(x)).shape))
        y, gx = _run(m, x, seed)
        ry, rgx = _torch(fn, x, seed)
        np.testing.assert_allclose(y, ry, rtol=1e-10, err_msg=repr(m))
        np.testing.assert_allclose(gx, rgx, rtol=1e-8, atol=1e-12, err_msg=repr(m))


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


def test_float32_results_within_tolerance():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 8, 64)).astype(np.float32)
    y = nn.LPPool1d(2, 4)(lucid.from_numpy(x)).numpy()
    ref = F.lp_pool1d(torch.tensor(x, dtype=torch.float64).abs(), 2, 4).numpy()
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-6)
