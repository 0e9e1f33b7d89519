"""Tensor: construction, dtypes, memory sharing (NumPy, DLPack), printing, arithmetic and
its gradients (against finite differences), accumulation, no_grad, and bad arguments."""
import numpy as np
import pytest

import lucid_c as lucid
import lucid_c.nn as nn
from lucid_c import Tensor


def test_dtypes_and_constructors():
    assert Tensor([1, 2]).dtype is lucid.float32
    assert Tensor([1, 2], dtype=lucid.float64).dtype is lucid.float64
    assert Tensor([1, 2], dtype=np.float64).dtype is lucid.float64
    assert lucid.tensor([[1.0]]).shape == (1, 1)
    assert lucid.zeros(2, 3).tolist() == [[0.0] * 3] * 2
    assert lucid.ones((2,)).tolist() == [1.0, 1.0]
    lucid.random.seed(5)
    a = lucid.randn(3, 4).numpy().copy()
    lucid.random.seed(5)
    assert (lucid.randn(3, 4).numpy() == a).all()
    assert Tensor([2.5]).item() == 2.5
    with pytest.raises(TypeError):
        Tensor([1], dtype=np.int32)
    with pytest.raises(TypeError):
        Tensor("abc")
    with pytest.raises(ValueError):
        Tensor([1.0, 2.0]).item()
    with pytest.raises(ValueError):
        lucid.zeros(-1)


def test_from_numpy_shares_memory():
    a = np.zeros((1, 1, 4), dtype=np.float32)
    t = lucid.from_numpy(a)
    a[0, 0, 1] = 7
    assert t.tolist() == [[[0.0, 7.0, 0.0, 0.0]]]
    t.numpy()[0, 0, 0] = 3
    assert a[0, 0, 0] == 3
    with pytest.raises(TypeError):
        lucid.from_numpy(np.zeros(3, dtype=np.int64))
    with pytest.raises(TypeError, match="byte order"):
        lucid.from_numpy(np.zeros(3, dtype=">f4"))
    with pytest.raises(TypeError):
        lucid.from_numpy([1.0, 2.0])
    strided = np.zeros((4, 4), dtype=np.float32)[:, ::2]
    s = lucid.from_numpy(strided)
    strided[1, 1] = 5
    assert s.tolist()[1] == [0.0, 5.0] and np.shares_memory(s.numpy(), strided)


def test_dlpack_both_ways():
    torch = pytest.importorskip("torch")
    src = torch.arange(8, dtype=torch.float32).reshape(1, 1, 8)
    t = lucid.from_dlpack(src)
    assert t.numpy().ctypes.data == src.data_ptr()  # shared, not copied
    src[0, 0, 0] = 42
    assert t.numpy()[0, 0, 0] == 42
    t.numpy()[0, 0, 1] = 43  # writable both ways, as PyTorch's own from_dlpack
    assert src[0, 0, 1].item() == 43
    y = nn.AvgPool1d(2)(t)
    back = torch.from_dlpack(y)
    assert back.data_ptr() == y.numpy().ctypes.data
    assert back.tolist() == [[[42.5, 2.5, 4.5, 6.5]]]
    y.numpy()[0, 0, 0] = -1
    assert back[0, 0, 0].item() == -1
    assert t.__dlpack_device__() == (1, 0)  # kDLCPU, device 0
    # float64, a bare capsule, and a transposed (strided) tensor
    src64 = torch.arange(6, dtype=torch.float64).reshape(2, 3)
    c = lucid.from_dlpack(torch.utils.dlpack.to_dlpack(src64))
    assert c.dtype is lucid.float64 and c.numpy().ctypes.data == src64.data_ptr()
    tt = lucid.from_dlpack(src64.t())
    assert tt.shape == (3, 2) and tt.tolist() == src64.t().tolist()
    tt.numpy()[2, 1] = 9
    assert src64[1, 2].item() == 9
    with pytest.raises(TypeError):
        lucid.from_dlpack(torch.arange(3))  # int64
    with pytest.raises(TypeError):
        lucid.from_dlpack([1.0])


def test_dlpack_with_numpy_both_ways():
    a = np.arange(6.0).reshape(2, 3)
    t = lucid.from_dlpack(a)
    assert t.numpy().ctypes.data == a.ctypes.data and t.dtype is lucid.float64
    y = nn.AvgPool1d(3)(Tensor(a))
    b = np.from_dlpack(y)
    assert b.ctypes.data == y.numpy().ctypes.data and b.tolist() == [[1.0], [4.0]]


def test_printing():
    assert repr(Tensor(2.5)) == "Tensor(2.5)"
    assert repr(Tensor([[1, 2]], dtype=lucid.float64)) == "Tensor([[1.0, 2.0]])"
    assert repr(Tensor([0.1], dtype=lucid.float64)) == "Tensor([0.1])"
    assert repr(lucid.zeros(2, 0)) == "Tensor([[], []])"
    assert str(Tensor([[[1.5, 3.5]]])) == "Tensor([[[1.5, 3.5]]])"
    assert repr(Tensor([[[1.5, 3.5]]])) == "Tensor([[[1.5, 3.5]]])"
    assert repr(Tensor([1e-05, float("nan"), float("inf")])) == "Tensor([1e-05, nan, inf])"
    x = Tensor([1.0, 2.0], requires_grad=True)
    assert repr(x) == "Tensor([1.0, 2.0], grad=None)"
    (x * 3).sum().backward()
    assert repr(x) == "Tensor([1.0, 2.0], grad=Tensor([3.0, 3.0]))"


def _numeric_grad(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += eps
        xm[i] -= eps
        g[i] = (f(xp) - f(xm)) / (2 * eps)
    return g


def test_arithmetic_gradients_match_finite_differences():
    rng = np.random.default_rng(0)
    x0 = rng.uniform(0.5, 2.0, (1, 2, 8))
    w0 = rng.uniform(0.5, 2.0, (1, 2, 8))

    def loss_of(x, w):
        X = Tensor(x, requires_grad=True, dtype=lucid.float64)
        W = Tensor(w, dtype=lucid.float64)
        y = nn.LPPool1d(2.5, 2)((X * W - 0.25) / (W + 1.0)) ** 1.5
        loss = (2.0 - y).mean() + (y * y).sum() / 3.0
        return X, loss

    X, loss = loss_of(x0, w0)
    loss.backward()
    num = _numeric_grad(lambda x: loss_of(x, w0)[1].item(), x0)
    np.testing.assert_allclose(X.grad.numpy(), num, rtol=1e-6, atol=1e-8)


def test_sum_and_mean_over_dims_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x0 = rng.standard_normal((2, 3, 4))
    for dim, keep in [(None, False), (0, False), (-1, True), ((0, 2), False), ((1,), True)]:
        for name in ("sum", "mean"):
            x = Tensor(x0, requires_grad=True, dtype=lucid.float64)
            tx = torch.tensor(x0, requires_grad=True)
            y = getattr(x, name)() if dim is None else getattr(x, name)(dim, keepdim=keep)
            ty = getattr(tx, name)() if dim is None else getattr(tx, name)(dim, keepdim=keep)
            assert y.shape == tuple(ty.shape)
            np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-12)
            (y * y).sum().backward()
            (ty * ty).sum().backward()
            np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    with pytest.raises(ValueError):
        Tensor(x0).sum(3)
    with pytest.raises(ValueError):
        Tensor(x0).mean((1, 1))
    with pytest.raises(TypeError):
        Tensor(x0).sum(1.0)


def test_no_grad_as_decorator():
    x = Tensor([1.0, 2.0], requires_grad=True)

    @lucid.no_grad()
    def double(t):
        return t * 2

    assert not double(x).requires_grad and (x * 2).requires_grad


def test_grad_accumulates_and_no_grad():
    x = Tensor([[[1.0, 2.0, 3.0, 4.0]]], requires_grad=True)
    pool = nn.AvgPool1d(2)
    for _ in range(3):
        pool(x).backward(lucid.ones(1, 1, 2))
    assert x.grad.tolist() == [[[1.5, 1.5, 1.5, 1.5]]]
    with lucid.no_grad():
        y = pool(x)
    assert not y.requires_grad
    with pytest.raises(RuntimeError):
        y.backward(lucid.ones(1, 1, 2))
    with pytest.raises(ValueError):
        pool(x).backward()  # two elements: a gradient is needed
    with pytest.raises(ValueError):
        pool(x).backward(lucid.ones(1, 1, 3))
    assert x.grad.tolist() == [[[1.5, 1.5, 1.5, 1.5]]]  # failed calls changed nothing


def test_bad_module_arguments():
    with pytest.raises(ValueError, match="norm_type must be finite and > 0, got -1"):
        nn.LPPool1d(-1, 2)
    with pytest.raises(ValueError, match="norm_type"):
        nn.LPPool1d(float("nan"), 2)
    with pytest.raises(TypeError, match="kernel_size must be an integer"):
        nn.AvgPool1d(3.0)
    with pytest.raises(TypeError, match="missing required argument"):
        nn.AvgPool1d()
    with pytest.raises(TypeError, match="unexpected keyword"):
        nn.AvgPool1d(2, kernel=3)
    with pytest.raises(TypeError, match="multiple values"):
        nn.AvgPool1d(2, kernel_size=3)
    with pytest.raises(TypeError, match="at most"):
        nn.LPPool1d(2, 2, 2, False, 1)
    with pytest.raises(ValueError, match="padding"):
        nn.AvgPool1d(2, padding=2)
    with pytest.raises(ValueError, match="shorter than kernel_size"):
        nn.AvgPool1d(4)(Tensor([[[1.0, 2.0]]]))
    with pytest.raises(ValueError, match="rank"):
        nn.AvgPool1d(2)(Tensor([1.0, 2.0]))
    with pytest.raises(TypeError):
        nn.AvgPool1d(2)([1.0, 2.0])
    with pytest.raises(TypeError, match="dtypes differ"):
        Tensor([1.0]) + Tensor([1.0], dtype=lucid.float64)
    with pytest.raises(TypeError):
        Tensor([1.0]) + "a"
    with pytest.raises(TypeError, match="cannot be None"):
        nn.AvgPool1d(2, padding=None)
    with pytest.raises(TypeError, match="True or False"):
        nn.AvgPool1d(2, ceil_mode=1)
    with pytest.raises(TypeError):
        lucid.set_num_threads("two")
    with pytest.raises(ValueError):
        lucid.set_num_threads(-1)


def _splitmix_uniform01(seed, n):
    """The library's stream as lucid/random.h documents it, in Python integers."""
    out, z = [], seed
    for _ in range(n):
        z = (z + 0x9E3779B97F4A7C15) % 2**64
        v = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) % 2**64
        v = ((v ^ (v >> 27)) * 0x94D049BB133111EB) % 2**64
        v ^= v >> 31
        out.append((v >> 11) * 2.0**-53)
    return np.array(out)


def test_random_is_one_seeded_stream():
    lucid.random.seed(123)
    a = lucid.randn(2, 3, dtype=lucid.float64).numpy().copy()
    u = lucid.random.uniform(-1.0, 1.0, (4,))
    ref = _splitmix_uniform01(123, 16)
    pairs = ref[:12].reshape(6, 2)
    normal = np.sqrt(-2.0 * np.log1p(-pairs[:, 0])) * np.cos(2.0 * np.pi * pairs[:, 1])
    np.testing.assert_allclose(a, normal.reshape(2, 3), rtol=1e-15, atol=0)
    np.testing.assert_array_equal(u, -1.0 + 2.0 * ref[12:])
    lucid.random.seed(123)
    assert lucid.randn(2, 3, dtype=lucid.float64).tolist() == a.tolist()
    assert lucid.randn(5).dtype is lucid.float32
    for bad, error in ((-1, ValueError), (2**64, ValueError), (1.5, TypeError), (True, TypeError)):
        with pytest.raises(error):
            lucid.random.seed(bad)


def test_gradients_never_alias_each_other_or_the_seed():
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True)
    seed = np.array([1.0, 1.0], dtype=np.float32)
    (a + b).backward(seed)  # the sum's rule hands one array to both parents
    a.grad.numpy()[0] = 7
    assert b.grad.tolist() == [1.0, 1.0] and seed.tolist() == [1.0, 1.0]
    a.backward(seed)  # a leaf seeded directly gets a copy of the seed
    assert a.grad.tolist() == [8.0, 2.0] and seed.tolist() == [1.0, 1.0]
    x = Tensor([[[1.0, 2.0, 3.0, 4.0]]], requires_grad=True)
    y = nn.AvgPool1d(2)(x)
    y.backward(lucid.ones(1, 1, 2))
    y.backward(lucid.ones(1, 1, 2))
    assert x.grad.tolist() == [[[1.0, 1.0, 1.0, 1.0]]]
