"""lucid_c: Lucid's Python API over the compiled Lucid library.

    import lucid_c as lucid
    import lucid_c.nn as nn
    from lucid_c import Tensor

    x = Tensor([[[1.0, 2.0, 3.0, 4.0]]], requires_grad=True)
    y = nn.AvgPool1d(kernel_size=2, stride=2)(x)      # compiled on first call, then cached
    y.backward(Tensor([[[1.0, 1.0]]]))
    print(y, x.grad)

Tensors hold NumPy memory (float32 by default, or float64); module calls run programs the
library compiled with LLVM for that module, dtype and shape.
"""

import numbers

import numpy as _np

from . import _lib
from ._tensor import (Tensor, float32, float64, from_dlpack, from_numpy, no_grad, ones, tensor,
                      zeros, _shape_args)
from . import random
from . import nn
from . import optim

__version__ = _lib.lib.lc_version().decode()


def randn(*shape, requires_grad=False, dtype=None):
    """Standard normal samples from lucid_c.random's generator."""
    values = random.standard_normal(_shape_args(shape))
    return Tensor(values, requires_grad=requires_grad, dtype=dtype)


def set_num_threads(n):
    """Worker threads the library's runtime uses (all cores by default)."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError("lucid_c.set_num_threads: n must be an integer, got %r" % (n,))
    if not -2**31 <= n < 2**31:  # a C int; ctypes would wrap it silently
        raise ValueError("lucid_c.set_num_threads: n is out of range, got %d" % n)
    _lib.check(_lib.lib.lc_runtime_set_threads(int(n)))


def get_num_threads():
    return _lib.lib.lc_runtime_threads()


__all__ = ["Tensor", "tensor", "ones", "zeros", "randn", "from_numpy", "from_dlpack", "float32",
           "float64", "no_grad", "random", "nn", "optim", "set_num_threads", "get_num_threads",
           "__version__"]
