"""Tensor: NumPy memory plus reverse-mode autograd.

A Tensor holds one float32 or float64 NumPy array, or, for the result of a module call not
read yet, a record of that call (`_pending`; see _lazy.py: chains of module calls compile
and run as one program when first read). A result computed from a tensor that requires grad
records how it was made (`_backward`, `_parents`); backward() walks those records in reverse
topological order and adds each leaf's gradient into .grad. Module calls run compiled library
programs (forward, and the compiled backward of the same chain of modules); the arithmetic
that writes a loss (+ - * / ** sum mean) is NumPy with its own small gradient rules.
"""

import ctypes
import numbers

import numpy as np

from . import _lazy, _lib, _program
from ._lib import lib, check

float32 = np.float32
float64 = np.float64

_grad_enabled = [True]


class no_grad:
    """Within `with lucid_c.no_grad():` results record no backward; also a decorator."""

    def __enter__(self):
        self._prev = _grad_enabled[0]
        _grad_enabled[0] = False
        return self

    def __exit__(self, *exc):
        _grad_enabled[0] = self._prev
        return False

    def __call__(self, fn):
        def wrapper(*args, **kwargs):
            with no_grad():
                return fn(*args, **kwargs)

        wrapper.__name__ = getattr(fn, "__name__", "wrapper")
        wrapper.__doc__ = getattr(fn, "__doc__", None)
        return wrapper


def is_grad_enabled():
    return _grad_enabled[0]


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
    """Shared memory must already be what the library computes on: float32 or float64 in the
    machine's byte order (any strides: a module call reads a strided array through a copy)."""
    if array.dtype.type not in (np.float32, np.float64):
        raise TypeError("lucid_c: %s must hold float32 or float64, got %s" % (what, array.dtype))
    if not array.dtype.isnative:
        raise TypeError("lucid_c: %s must be in the machine's byte order, got %s" % (what, array.dtype.str))


class Tensor:
    # _array: the data (None while _pending); _pending: the module call that will make it;
    # _readers: weak references to pending results that read this tensor (a list, or None).
    __slots__ = ("_array", "_pending", "_readers", "requires_grad", "grad", "_backward",
                 "_parents", "__weakref__")

    def __init__(self, data, requires_grad=False, dtype=None):
        if isinstance(data, Tensor):
            data = data._data
        if isinstance(requires_grad, np.bool_):
            requires_grad = bool(requires_grad)
        if not isinstance(requires_grad, bool):
            raise TypeError("lucid_c: requires_grad must be True or False, got %r" % (requires_grad,))
        dt = _resolve_dtype(dtype)
        try:
            array = np.array(data, dtype=dt, order="C")
        except (TypeError, ValueError) as e:
            raise TypeError("lucid_c: cannot make a tensor of %r: %s" % (type(data).__name__, e)) from None
        if array.dtype == object:
            raise TypeError("lucid_c: cannot make a tensor of %r" % type(data).__name__)
        self._init(array, requires_grad)

    def _init(self, array, requires_grad, backward=None, parents=()):
        self._array = array
        self._pending = None
        self._readers = None
        self.requires_grad = requires_grad
        self.grad = None
        self._backward = backward
        self._parents = parents

    @classmethod
    def _deferred(cls, pending, requires_grad):
        """The result of a module call that has not run (see _lazy.py)."""
        t = cls.__new__(cls)
        t._array = None
        t._pending = pending
        t._readers = None
        t.requires_grad = requires_grad
        t.grad = None
        t._backward = None
        t._parents = ()
        return t

    @property
    def _data(self):
        """The array, computed first if this is a pending module result (read-only use; a
        write goes through _lazy.expose)."""
        if self._pending is not None:
            _lazy.realize(self)
        return self._array

    def realize(self):
        """Compute now a module result that is still pending (reading it does this anyway)."""
        if self._pending is not None:
            _lazy.realize(self)
        return self

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
        p = self._pending
        return self._array.shape if p is None else p.shape

    @property
    def dtype(self):
        p = self._pending
        return self._array.dtype.type if p is None else p.dtype.type

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def is_leaf(self):
        return self._backward is None and (self._pending is None or not self._pending.tracked)

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def numel(self):
        return int(np.prod(self.shape, dtype=np.int64))

    def numpy(self):
        """The tensor's own array (shared memory, as torch.Tensor.numpy())."""
        return _lazy.expose(self)

    def item(self):
        if self._data.size != 1:
            raise ValueError("lucid_c: item() needs a tensor of one element, got shape %s"
                             % (list(self._data.shape),))
        return float(self._data.reshape(-1)[0])

    def tolist(self):
        return self._data.tolist()

    def detach(self):
        """A tensor over the same memory that records no backward."""
        t = Tensor.__new__(Tensor)
        t._init(_lazy.expose(self), False)
        return t

    def __len__(self):
        shape = self.shape
        if not shape:
            raise TypeError("lucid_c: len() of a 0-d tensor")
        return shape[0]

    # ---- DLPack ---------------------------------------------------------------------------
    def __dlpack__(self, stream=None):
        array = _lazy.expose(self)
        return array.__dlpack__(stream=stream) if stream is not None else array.__dlpack__()

    def __dlpack_device__(self):
        return (1, 0)  # kDLCPU, device 0: the memory is always NumPy's

    # ---- printing -------------------------------------------------------------------------
    def _values_text(self):
        out = ctypes.c_void_p()
        view = _program.view(np.asarray(self._data, order="C"))
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
        shape, dtype = self.shape, np.dtype(self.dtype)
        if gradient is None:
            if self.numel() != 1:
                raise ValueError("lucid_c: backward: gradient can be omitted only for a tensor of "
                                 "one element, got shape %s" % (list(shape),))
            seed = np.ones(shape, dtype=dtype)
        else:
            try:
                seed = gradient._data if isinstance(gradient, Tensor) else np.asarray(gradient, dtype=dtype)
            except (TypeError, ValueError) as e:
                raise TypeError("lucid_c: backward: gradient must be a Tensor or an array of "
                                "numbers: %s" % e) from None
            if seed.shape != shape:
                raise ValueError("lucid_c: backward: gradient shape %s does not match the tensor's "
                                 "shape %s" % (list(seed.shape), list(shape)))
            seed = np.asarray(seed, dtype=dtype, order="C")
        if self._pending is not None and self._pending.tracked:
            # Not run yet: one program gives the value and the gradients at the chain's start
            # and its parameters; the result's backward rule hands them on for this seed.
            _lazy.realize_with_grad(self, seed)
        _accumulate(self, seed)

    # ---- arithmetic (enough to write a loss) -----------------------------------------------
    def _other(self, other):
        """`other` as a Tensor of this dtype, or None when it is not a Tensor or a number."""
        if isinstance(other, Tensor):
            if other.dtype is not self.dtype:
                raise TypeError("lucid_c: dtypes differ: %s and %s"
                                % (np.dtype(self.dtype), np.dtype(other.dtype)))
            return other
        if isinstance(other, numbers.Real) and not isinstance(other, bool):
            t = Tensor.__new__(Tensor)
            t._init(np.asarray(other, dtype=self.dtype), False)
            return t
        return None

    def _binary(self, other, f, rule):
        o = self._other(other)
        if o is None:
            return NotImplemented
        a, b = self._data, o._data
        try:
            out = np.asarray(f(a, b), dtype=a.dtype, order="C")
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
        o = self._other(o)
        return NotImplemented if o is None else o.__sub__(self)

    def __rtruediv__(self, o):
        o = self._other(o)
        return NotImplemented if o is None else o.__truediv__(self)

    def __neg__(self):
        return Tensor._wrap(-self._data, (self,), lambda g: (-g,))

    def __pow__(self, exponent):
        if not isinstance(exponent, numbers.Real) or isinstance(exponent, bool):
            return NotImplemented
        e = float(exponent)
        a = self._data
        out = np.asarray(np.power(a, a.dtype.type(e)), order="C")

        def rule(g):
            # d(a^e)/da = e·a^(e−1); at a = 0 with e < 1 the subgradient 0, as the library's pow
            with np.errstate(divide="ignore", invalid="ignore"):
                d = e * np.power(a, a.dtype.type(e - 1))
            if e < 1:
                d = np.where(a == 0, 0, d)
            return (g * d,)

        return Tensor._wrap(out, (self,), rule)

    def sum(self, dim=None, keepdim=False):
        """Sum of all elements, or over `dim` (an int or a tuple), accumulated in float64."""
        return self._reduce(dim, keepdim, mean=False)

    def mean(self, dim=None, keepdim=False):
        """Mean of all elements, or over `dim` (an int or a tuple), accumulated in float64."""
        return self._reduce(dim, keepdim, mean=True)

    def _reduce(self, dim, keepdim, mean):
        a = self._data
        axes = _axes(dim, a.ndim)
        n = a.size if axes is None else int(np.prod([a.shape[i] for i in axes], dtype=np.int64))
        with np.errstate(invalid="ignore", divide="ignore"):
            out = a.sum(axis=axes, dtype=np.float64, keepdims=bool(keepdim))
            if mean:
                out = out / n
        out = np.asarray(out, dtype=a.dtype, order="C")

        def rule(g):
            if axes is not None and not keepdim:
                g = np.expand_dims(g, axes)
            return (np.broadcast_to(g / n if mean else g, a.shape),)

        return Tensor._wrap(out, (self,), rule)


def _axes(dim, ndim):
    """`dim` of sum()/mean() as a sorted tuple of axes (None: every axis)."""
    if dim is None:
        return None
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    axes = []
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, numbers.Integral):
            raise TypeError("lucid_c: dim must be an integer or a tuple of them, got %r" % (dim,))
        if not -ndim <= d < max(ndim, 1):
            raise ValueError("lucid_c: dim %d is out of range for a tensor of %d dimensions" % (d, ndim))
        axes.append(int(d) % max(ndim, 1))
    if len(set(axes)) != len(axes):
        raise ValueError("lucid_c: dim %r names an axis twice" % (dim,))
    return tuple(sorted(axes)) if ndim else None  # a 0-d tensor's dim 0 is the tensor itself


def _accumulate(root, seed, seed_is_ours=False):
    """Reverse mode from `root` (seeded with `seed`): each tensor's rule once, after every
    tensor that uses it; each leaf that requires grad adds its gradient into .grad."""
    order, seen = [], set()
    stack = [(root, False)]
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
    grads = {id(root): seed}
    # A new .grad takes over a fresh array a rule made (a module's dx is the size of its
    # input) instead of copying it; not the caller's seed, a view, or an array another .grad
    # took already (a rule may pass one array to two parents).
    taken = set() if seed_is_ours else {id(seed)}
    for t in reversed(order):
        g = grads.pop(id(t), None)
        if g is None:
            continue
        if t._backward is None:
            dtype = np.dtype(t.dtype)
            if t.grad is None:
                if (id(g) in taken or g.base is not None or g.dtype != dtype
                        or not g.flags.c_contiguous or not g.flags.writeable):
                    g = np.array(g, dtype=dtype, order="C")
                taken.add(id(g))
                t.grad = Tensor._wrap(g)
            else:
                grad = _lazy.expose(t.grad)
                grad += g
            continue
        for p, gp in zip(t._parents, t._backward(g)):
            if gp is None or not p.requires_grad:
                continue
            gp = _unbroadcast(np.asarray(gp, dtype=np.dtype(p.dtype)), p.shape)
            grads[id(p)] = grads[id(p)] + gp if id(p) in grads else gp

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


def apply_module(cmodule, x, extras=()):
    """y = module(x, *extras): checked now, computed when first read (see _lazy.py). extras
    are the call's other tensors in the graph's order (MSELoss's target; parameters), each
    already checked by the caller."""
    if not isinstance(x, Tensor):
        raise TypeError("lucid_c: a module takes a Tensor, got %s" % type(x).__name__)
    return _lazy.call(cmodule, x, Tensor._deferred, _grad_enabled[0], extras)


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


def _filled(shape, fill, requires_grad, dtype):
    if not isinstance(requires_grad, bool):
        raise TypeError("lucid_c: requires_grad must be True or False, got %r" % (requires_grad,))
    t = Tensor.__new__(Tensor)
    t._init(np.full(_shape_args(shape), fill, dtype=_resolve_dtype(dtype)), requires_grad)
    return t


def zeros(*shape, requires_grad=False, dtype=None):
    return _filled(shape, 0, requires_grad, dtype)


def ones(*shape, requires_grad=False, dtype=None):
    return _filled(shape, 1, requires_grad, dtype)


def from_numpy(array):
    """A tensor over the array's own memory (no copy): writes show through both ways."""
    if not isinstance(array, np.ndarray):
        raise TypeError("lucid_c: from_numpy takes a numpy.ndarray, got %s" % type(array).__name__)
    _check_float_array(array, "from_numpy's array")
    t = Tensor.__new__(Tensor)
    t._init(array, False)
    return t


class _Capsule:
    """A bare DLPack capsule (torch.utils.dlpack.to_dlpack) as the protocol's object."""

    def __init__(self, capsule):
        self._capsule = capsule

    def __dlpack__(self, stream=None):
        return self._capsule

    def __dlpack_device__(self):
        return (1, 0)


def _writable(array):
    """The same memory as a writable array. NumPy 1.x marks what it imports through DLPack
    read-only (the protocol had no flag for it); PyTorch and Lucid treat it as shared and
    writable. The view keeps `array`, and so the exporter's memory, alive."""
    if array.flags.writeable or array.size == 0:
        return array if array.size else np.empty(array.shape, dtype=array.dtype)
    lo = sum((n - 1) * st for n, st in zip(array.shape, array.strides) if st < 0)
    hi = sum((n - 1) * st for n, st in zip(array.shape, array.strides) if st > 0) + array.itemsize
    buffer = (ctypes.c_char * (hi - lo)).from_address(array.ctypes.data + lo)
    buffer.keep_alive = array
    return np.ndarray(array.shape, dtype=array.dtype, buffer=buffer, offset=-lo,
                      strides=array.strides)


def from_dlpack(obj):
    """A tensor over another library's memory (PyTorch, NumPy, ...) through DLPack, no copy."""
    if type(obj).__name__ == "PyCapsule":
        obj = _Capsule(obj)
    try:
        array = np.from_dlpack(obj)
    except (TypeError, AttributeError, BufferError, RuntimeError, ValueError) as e:
        raise TypeError("lucid_c: from_dlpack: %s" % e) from None
    _check_float_array(array, "the DLPack tensor")
    t = Tensor.__new__(Tensor)
    t._init(_writable(array), False)
    return t
