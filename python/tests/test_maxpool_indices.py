"""MaxPool1d/MaxPool2d with return_indices=True: (output, indices) as PyTorch gives them, the
indices an int64 array computed by the library's compiled program; pinned by hand and, where
PyTorch is installed, against torch.nn.MaxPool*d(return_indices=True) in float64."""
import numpy as np
import pytest

import lucid_c
from lucid_c import nn
from lucid_c.nn import functional as F


def test_hand_worked_1d():
    # windows (padding never wins): [pad 1 5] [5 5 -2] [-2 7 7] [7 0 pad]; ties: the first
    x = lucid_c.Tensor([[[1, 5, 5, -2, 7, 7, 0]]])
    y, idx = nn.MaxPool1d(3, 2, 1, return_indices=True)(x)
    assert y.numpy().tolist() == [[[5, 5, 7, 7]]]
    assert idx.dtype == np.int64 and idx.tolist() == [[[1, 1, 4, 5]]]


def test_hand_worked_2d_and_padding_only_window():
    x = lucid_c.Tensor(np.array([[[1, 3, 3], [3, 2, 9]]], dtype=np.float64), dtype=lucid_c.float64)
    y, idx = F.max_pool2d(x, 2, 1, return_indices=True)
    assert y.numpy().tolist() == [[[3, 9]]] and idx.tolist() == [[[1, 5]]]
    y, idx = nn.MaxPool1d(2, 1, padding=1, dilation=4, return_indices=True)(lucid_c.Tensor([[[1, 2, 3]]]))
    assert y.numpy().tolist() == [[[-np.inf]]] and idx.tolist() == [[[-1]]]


def test_without_indices_and_repr():
    m = nn.MaxPool2d(3, 2, 1, return_indices=True)
    assert repr(m) == "MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False)"
    y = nn.MaxPool2d(3, 2, 1)(lucid_c.Tensor(np.ones((1, 4, 4))))
    assert isinstance(y, lucid_c.Tensor)


def test_output_still_has_a_gradient():
    x = lucid_c.Tensor([[[1.0, 4.0, 2.0, 3.0]]], requires_grad=True)
    y, idx = nn.MaxPool1d(2, return_indices=True)(x)
    y.sum().backward()
    assert x.grad.numpy().tolist() == [[[0, 1, 0, 1]]] and idx.tolist() == [[[1, 3]]]


CASES = [
    ("MaxPool1d", dict(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True), (2, 3, 12)),
    ("MaxPool1d", dict(kernel_size=4, stride=3, padding=2, ceil_mode=True), (3, 10)),
    ("MaxPool2d", dict(kernel_size=3, stride=2, padding=1), (2, 3, 9, 10)),
    ("MaxPool2d", dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2), ceil_mode=True),
     (2, 2, 8, 9)),
    ("MaxPool2d", dict(kernel_size=2, ceil_mode=True), (3, 7, 5)),
]


@pytest.mark.parametrize("name,kwargs,shape", CASES)
@pytest.mark.parametrize("kind", ["normal", "ties"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_against_torch(name, kwargs, shape, kind, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x = rng.integers(-2, 3, shape) if kind == "ties" else rng.standard_normal(shape)
    x = x.astype(dtype)
    y, idx = getattr(nn, name)(return_indices=True, **kwargs)(lucid_c.Tensor(x, dtype=dtype))
    ty, tidx = getattr(torch.nn, name)(return_indices=True, **kwargs)(torch.tensor(x.astype(np.float64)))
    np.testing.assert_array_equal(y.numpy(), ty.numpy().astype(dtype))
    assert idx.dtype == np.int64
    np.testing.assert_array_equal(idx, tidx.numpy())
