"""nn.functional's forms of the modules with parameters and two inputs (linear, conv1d,
mse_loss, relu) against PyTorch 1.13's in float64: values and the gradients of every tensor
(input, weight, bias, target); and the random stream left where it was."""
import numpy as np
import pytest

import lucid_c as lucid
import lucid_c.nn.functional as LF

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _both(fn, tfn, arrays, seed_shape=None, rtol=1e-12):
    """fn(*lucid tensors) and tfn(*torch tensors), each differentiated with the same seed: the
    values and every gradient agree. A None array stays None."""
    rng = np.random.default_rng(len(arrays))
    mine = [None if a is None else lucid.Tensor(a, requires_grad=True, dtype=lucid.float64) for a in arrays]
    theirs = [None if a is None else torch.tensor(a, requires_grad=True) for a in arrays]
    ty = tfn(*theirs)
    seed = rng.standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(seed))
    y = fn(*mine)
    y.backward(lucid.Tensor(seed, dtype=lucid.float64))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=rtol, atol=1e-12)
    for m, t in zip(mine, theirs):
        if m is not None:
            np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=1e-12)


@pytest.mark.parametrize("shape", [(4,), (3, 4), (2, 3, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear(shape, bias):
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal(shape), rng.standard_normal((5, 4))
    b = rng.standard_normal(5) if bias else None
    _both(LF.linear, F.linear, [x, w, b])
    _both(lambda x, w, b: LF.linear(x, weight=w, bias=b), F.linear, [x, w, b])


CONV = [
    dict(),
    dict(stride=2, padding=1),
    dict(padding="same", dilation=2),
    dict(padding="valid", groups=2),
    dict(stride=3, padding=2, dilation=2, groups=2),
]


@pytest.mark.parametrize("kwargs", CONV, ids=[repr(k) for k in CONV])
@pytest.mark.parametrize("bias", [True, False])
def test_conv1d(kwargs, bias):
    rng = np.random.default_rng(2)
    groups = kwargs.get("groups", 1)
    x, w = rng.standard_normal((2, 4, 11)), rng.standard_normal((6, 4 // groups, 3))
    b = rng.standard_normal(6) if bias else None
    _both(lambda x, w, b: LF.conv1d(x, w, b, **kwargs), lambda x, w, b: F.conv1d(x, w, b, **kwargs), [x, w, b])


def test_conv1d_positional_arguments_in_torchs_order():
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((1, 2, 9)), rng.standard_normal((2, 1, 2)), rng.standard_normal(2)
    _both(lambda x, w, b: LF.conv1d(x, w, b, 2, 1, 3, 2), lambda x, w, b: F.conv1d(x, w, b, 2, 1, 3, 2), [x, w, b])


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_mse_loss(reduction):
    rng = np.random.default_rng(4)
    a, t = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 4))
    _both(lambda a, t: LF.mse_loss(a, t, reduction=reduction),
          lambda a, t: F.mse_loss(a, t, reduction=reduction), [a, t])


def test_relu():
    x = np.array([[-1.5, 0.0, 2.0], [3.0, -0.0, -4.0]])
    _both(LF.relu, F.relu, [x])


def test_functions_leave_the_random_stream_alone():
    lucid.random.seed(9)
    want = lucid.random.uniform(0, 1, 4)
    lucid.random.seed(9)
    x = lucid.ones(2, 3)
    LF.linear(x, lucid.ones(7, 3), lucid.ones(7)).numpy()    # builds a Linear(3, 7): no draw kept
    LF.conv1d(lucid.ones(1, 3, 5), lucid.ones(2, 3, 2)).numpy()
    assert lucid.random.get_state() == 9
    np.testing.assert_array_equal(lucid.random.uniform(0, 1, 4), want)


def test_repeated_function_call_reuses_module_and_program():
    x, w = lucid.ones(2, 3), lucid.ones(4, 3)
    LF.linear(x, w).numpy()
    before = (len(LF._built), len(lucid._program._PROGRAMS))
    for _ in range(5):
        y = LF.linear(x, w)
    assert y.tolist() == [[3.0] * 4] * 2
    assert (len(LF._built), len(lucid._program._PROGRAMS)) == before
