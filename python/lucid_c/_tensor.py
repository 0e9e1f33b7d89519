"""Tensor: NumPy memory plus reverse-mode autograd.

A Tensor holds one C-contiguous float32 or float64 NumPy array. A result computed from a
tensor that requires grad records how it was made (`_backward`, `_parents`); backward()
walks those records in reverse topological order and adds each leaf's gradient into .grad.
Module calls run compiled library programs (forward, and the compiled backward of the same
module); the arithmetic that writes a loss (+ - * / ** sum mean) is NumPy with its own
small gradient rules.
"""

import ctypes
import numbers

import numpy as np

from . import _lib, _program
from ._lib import lib, check

float32 = np.float32
float64 = np.float64

_grad_enabled = [True]


class no_grad:
    """Within `with lucid_c.no_grad():` results record no backward."""

    def __enter__(self):
        self._prev = _grad_enabled[0]
        _grad_enabled[0] = False
        return self

    def __exit__(self, *exc):
        _grad_enabled[0] = self._prev
        return False


def _resolve_dtype(dtype, default=np.float32):
    if dtype is None:
        return np.dtype(default)
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError("lucid_c: dtype must be lucid_c.float32, lucid_c.float64 or a NumPy "
                        "float dtype, got %r" % (dtype,)) from None
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError("lucid_c: dtype must be float32 or float64, got %s" % dt)
    return dt


def _check_float_array(array, what):
    if array.dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError("lucid_c: %s must hold float32 or float64, got %s" % (what, array.dtype))
    if array.dtype.byteorder == ">":
        raise TypeError("lucid_c: %s must be little-endian" % what)
    if not array.flags.c_contiguous:
        raise ValueError("lucid_c: %s must be C-contiguous to share its memory" % what)


class Tensor:
    __slots__ = ("_data", "requires_grad", "grad", "_backward", "_parents", "__weakref__")

    def __init__(self, data, requires_grad=False, dtype=None):
        if isinstance(data, Tensor):
            data = data._data
        if not isinstance(requires_grad, bool):
            raise TypeError("lucid_c: requires_grad must be True or False, got %r" % (requires_grad,))
        dt = _resolve_dtype(dtype)
        try:
            array = np.array(data, dtype=dt, order="C")
        except (TypeError, ValueError) as e:
            raise TypeError("lucid_c: cannot make a tensor of %r: %s" % (type(data).__name__, e)) from None
        self._init(array, requires_grad)

    def _init(self, array, requires_grad, backward=None, parents=()):
        self._data = array
        self.requires_grad = requires_grad
        self.grad = None
        self._backward = backward
        self._parents = parents

    @classmethod
    def _wrap(cls, array, parents=(), backward=None):
        """A result: tracks grad when grad mode is on and a parent does."""
        t = cls.__new__(cls)
        track = _grad_enabled[0] and any(p.requires_grad for p in parents)
        t._init(array, track, backward if track else None, tuple(parents) if track else ())
        return t

    # ---- what it is ---------------------------------------------------------------------
    @property
    def shape(self):
        return self._data.shape

    @property
    def dtype(self):
        return self._data.dtype.type

    @property
    def ndim(self):
        return self._data.ndim

    @property
    def is_leaf(self):
        return self._backward is None

    def size(self):
        return self._data.shape

    def numel(self):
        return int(self._data.size)

    def numpy(self):
        """The tensor's own array (shared memory, as torch.Tensor.numpy())."""
        return self._data

    def item(self):
        if self._data.size != 1:
            raise ValueError("lucid_c: item() needs a tensor of one element, got shape %s"
                             % (list(self._data.shape),))
        return float(self._data.reshape(-1)[0])

    def tolist(self):
        return self._data.tolist()

    def detach(self):
        t = Tensor.__new__(Tensor)
        t._init(self._data, False)
        return t

    def __len__(self):
        if not self._data.ndim:
            raise TypeError("lucid_c: len() of a 0-d tensor")
        return self._data.shape[0]

    # ---- DLPack ---------------------------------------------------------------------------
    def __dlpack__(self, stream=None):
        return self._data.__dlpack__(stream=stream) if stream is not None else self._data.__dlpack__()

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()

    # ---- printing -------------------------------------------------------------------------
    def _values_text(self):
        out = ctypes.c_void_p()
        view = _program.view(self._data)
        check(lib.lc_tensor_format_values(ctypes.byref(view), ctypes.byref(out)))
        return _lib.take_string(out)

    def __repr__(self):
        values = self._values_text()
        if not self.requires_grad:
            return "Tensor(%s)" % values
        return "Tensor(%s, grad=%s)" % (values, None if self.grad is None else repr(self.grad))

    __str__ = __repr__

    # ---- autograd -------------------------------------------------------------------------
    def backward(self, gradient=None):
        if not self.requires_grad:
            raise RuntimeError("lucid_c: backward: this tensor does not require grad and was not "
                               "computed from one that does")
        if gradient is None:
            if self._data.size != 1:
                raise ValueError("lucid_c: backward: gradient can be omitted only for a tensor of "
                                 "one element, got shape %s" % (list(self.shape),))
            seed = np.ones(self.shape, dtype=self._data.dtype)
        else:
            seed = gradient._data if isinstance(gradient, Tensor) else np.asarray(gradient)
            if seed.shape != self.shape:
                raise ValueError("lucid_c: backward: gradient shape %s does not match the tensor's "
                                 "shape %s" % (list(seed.shape), list(self.shape)))
            seed = np.ascontiguousarray(seed, dtype=self._data.dtype)
        order, seen = [], set()
        stack = [(self, False)]
        while stack:  # iterative DFS: a long chain of calls must not exhaust Python's stack
            t, done = stack.pop()
            if done:
                order.append(t)
                continue
            if id(t) in seen:
                continue
            seen.add(id(t))
            stack.append((t, True))
            for p in t._parents:
                if p.requires_grad and id(p) not in seen:
                    stack.append((p, False))
        grads = {id(self): seed}
        for t in reversed(order):
            g = grads.pop(id(t), None)
            if g is None:
                continue
            if t._backward is None:
                if t.grad is None:
                    t.grad = Tensor._wrap(np.array(g, dtype=t._data.dtype, order="C"))
                else:
                    t.grad._data += g
                continue
            for p, gp in zip(t._parents, t._backward(g)):
                if gp is None or not p.requires_grad:
                    continue
                gp = _unbroadcast(np.asarray(gp, dtype=p._data.dtype), p.shape)
                grads[id(p)] = grads[id(p)] + gp if id(p) in grads else gp

    # ---- arithmetic (enough to write a loss) -----------------------------------------------
    def _other(self, other):
        if isinstance(other, Tensor):
            if other._data.dtype != self._data.dtype:
                raise TypeError("lucid_c: dtypes differ: %s and %s" % (self._data.dtype, other._data.dtype))
            return other
        if isinstance(other, numbers.Real) and not isinstance(other, bool):
            t = Tensor.__new__(Tensor)
            t._init(np.asarray(other, dtype=self._data.dtype), False)
            return t
        raise TypeError("lucid_c: cannot combine a Tensor with %s" % type(other).__name__)

    def _binary(self, other, f, rule):
        try:
            o = self._other(other)
        except TypeError:
            return NotImplemented
        a, b = self._data, o._data
        try:
            out = np.ascontiguousarray(f(a, b), dtype=a.dtype)
        except ValueError as e:
            raise ValueError("lucid_c: shapes %s and %s do not broadcast: %s"
                             % (list(a.shape), list(b.shape), e)) from None
        return Tensor._wrap(out, (self, o), lambda g: rule(g, a, b))

    def __add__(self, o):
        return self._binary(o, np.add, lambda g, a, b: (g, g))

    def __sub__(self, o):
        return self._binary(o, np.subtract, lambda g, a, b: (g, -g))

    def __mul__(self, o):
        return self._binary(o, np.multiply, lambda g, a, b: (g * b, g * a))

    def __truediv__(self, o):
        return self._binary(o, np.divide, lambda g, a, b: (g / b, -g * a / (b * b)))

    __radd__ = __add__
    __rmul__ = __mul__

    def __rsub__(self, o):
        return self._other(o).__sub__(self)

    def __rtruediv__(self, o):
        return self._other(o).__truediv__(self)

    def __neg__(self):
        return Tensor._wrap(-self._data, (self,), lambda g: (-g,))

    def __pow__(self, exponent):
        if not isinstance(exponent, numbers.Real) or isinstance(exponent, bool):
            return NotImplemented
        e = float(exponent)
        a = self._data
        out = np.ascontiguousarray(np.power(a, a.dtype.type(e)))

        def rule(g):
            # d(a^e)/da = e·a^(e−1); at a = 0 with e < 1 the subgradient 0, as the library's pow
            with np.errstate(divide="ignore", invalid="ignore"):
                d = e * np.power(a, a.dtype.type(e - 1))
            if e < 1:
                d = np.where(a == 0, 0, d)
            return (g * d,)

        return Tensor._wrap(out, (self,), rule)

    def sum(self):
        a = self._data
        out = np.asarray(a.sum(dtype=np.float64), dtype=a.dtype)
        return Tensor._wrap(out, (self,), lambda g: (np.broadcast_to(g, a.shape),))

    def mean(self):
        a = self._data
        n = a.size
        out = np.asarray(a.mean(dtype=np.float64), dtype=a.dtype)
        return Tensor._wrap(out, (self,), lambda g: (np.broadcast_to(g / n, a.shape),))


def _unbroadcast(g, shape):
    """Sum a broadcast gradient back to `shape`."""
    if g.shape == tuple(shape):
        return g
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for i, d in enumerate(shape):
        if d == 1 and g.shape[i] != 1:
            g = g.sum(axis=i, keepdims=True)
    return g


def apply_module(cmodule, x):
    """y = module(x) on the compiled forward; its backward runs the compiled backward."""
    if not isinstance(x, Tensor):
        raise TypeError("lucid_c: a module takes a Tensor, got %s" % type(x).__name__)
    a = x._data
    dtype = a.dtype
    program, out_shape = cmodule.program(dtype, a.shape, False)
    y = np.empty(out_shape, dtype=dtype)
    program.run((a,), (y,))

    def rule(g):
        backward, _ = cmodule.program(dtype, a.shape, True)
        y_again = np.empty(out_shape, dtype=dtype)
        dx = np.empty(a.shape, dtype=dtype)
        backward.run((a, np.ascontiguousarray(g, dtype=dtype)), (y_again, dx))
        return (dx,)

    return Tensor._wrap(y, (x,), rule)


# ---- constructors -------------------------------------------------------------------------

def tensor(data, requires_grad=False, dtype=None):
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def _shape_args(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for d in shape:
        if not isinstance(d, numbers.Integral) or isinstance(d, bool) or d < 0:
            raise ValueError("lucid_c: sizes must be integers >= 0, got %r" % (shape,))
    return tuple(int(d) for d in shape)


def zeros(*shape, requires_grad=False, dtype=None):
    return Tensor(np.zeros(_shape_args(shape)), requires_grad=requires_grad, dtype=dtype)


def ones(*shape, requires_grad=False, dtype=None):
    return Tensor(np.ones(_shape_args(shape)), requires_grad=requires_grad, dtype=dtype)


def from_numpy(array):
    """A tensor over the array's own memory (no copy): writes show through both ways."""
    if not isinstance(array, np.ndarray):
        raise TypeError("lucid_c: from_numpy takes a numpy.ndarray, got %s" % type(array).__name__)
    _check_float_array(array, "from_numpy's array")
    t = Tensor.__new__(Tensor)
    t._init(array, False)
    return t


def from_dlpack(obj):
    """A tensor over another library's memory (PyTorch, NumPy, ...) through DLPack, no copy."""
    try:
        array = np.from_dlpack(obj)
    except (TypeError, AttributeError, BufferError, RuntimeError) as e:
        raise TypeError("lucid_c: from_dlpack: %s" % e) from None
    _check_float_array(array, "the DLPack tensor")
    t = Tensor.__new__(Tensor)
    t._init(array, False)
    return t
