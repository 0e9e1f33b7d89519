"""lucid_c.optim.SGD: stochastic gradient descent as torch.optim.SGD defines it.

For each parameter p with a gradient g:   g += weight_decay · p
                                           b  = g (first step), else momentum · b + g
                                           p -= lr · b   (b = g without momentum)
Parameters are updated in place, so a tensor made with from_numpy sees the new values.
"""

import numbers

import numpy as np

from ._tensor import Tensor


class SGD:
    def __init__(self, params, lr, momentum=0, weight_decay=0):
        self.params = list(params)
        for i, p in enumerate(self.params):
            if not isinstance(p, Tensor):
                raise TypeError("lucid_c: SGD: parameter %d is not a Tensor (%s)" % (i, type(p).__name__))
        for name, v in (("lr", lr), ("momentum", momentum), ("weight_decay", weight_decay)):
            if isinstance(v, bool) or not isinstance(v, numbers.Real):
                raise TypeError("lucid_c: SGD: %s must be a number, got %r" % (name, v))
            if not np.isfinite(v) or v < 0:
                raise ValueError("lucid_c: SGD: %s must be finite and >= 0, got %r" % (name, v))
        self.lr, self.momentum, self.weight_decay = float(lr), float(momentum), float(weight_decay)
        self._buffers = [None] * len(self.params)

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    def step(self):
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            data = p.numpy()
            g = p.grad.numpy().astype(data.dtype, copy=True)
            if self.weight_decay:
                g += data.dtype.type(self.weight_decay) * data
            if self.momentum:
                b = self._buffers[i]
                if b is None:
                    b = g.copy()
                else:
                    b *= data.dtype.type(self.momentum)
                    b += g
                self._buffers[i] = b
                g = b
            data -= data.dtype.type(self.lr) * g
