"""lucid_c.optim.SGD: stochastic gradient descent as torch.optim.SGD defines it (dampening 0,
nesterov off).

For each parameter p with a gradient g:   g' = g + weight_decay · p
                                           b  = momentum · b + g'  (b starts at 0, so the
                                                first step's b is g', as PyTorch's)
                                           p -= lr · (b with momentum, else g')

step() runs one compiled program per dtype for every parameter that has a gradient: the
library's SGD graph (lc_sgd_graph, the update the compiled training step uses) over a graph
whose loss is Σ sum(p · g), so the loss's gradient with respect to p is exactly g. The
parameters and momentum buffers are in-out buffers of the run (lc_program_run_into): updated
in place, so a tensor made with from_numpy sees the new values. Programs are cached by the
parameters' shapes and dtype and the options (a changed lr compiles once more).
"""

import ctypes
import numbers

import numpy as np

from . import _lazy, _lib, _program
from ._lib import lib, check
from ._tensor import Tensor

_UPDATES = {}
_ptr = ctypes.POINTER(_lib.CTensor)
_run_into = lib.lc_program_run_into


def _update_program(shapes, dtype, options):
    """The compiled update for parameters of `shapes` (and `dtype`): inputs p0, g0, p1, g1, ...
    then (momentum) b0, b1, ...; outputs the loss Σ sum(p · g), then p0', p1', ..., then b0',
    b1', ..."""
    key = (shapes, dtype, options)
    program = _UPDATES.get(key)
    if program is not None:
        return program
    graph = ctypes.c_void_p()
    check(lib.lc_graph_new(ctypes.byref(graph)))
    sgd = None
    try:
        node = ctypes.c_int()
        params, loss = [], None
        for i, shape in enumerate(shapes):
            check(lib.lc_input(graph, b"%d" % i, _program.c_dtype(dtype), _program.c_shape(shape),
                               ctypes.byref(node)))
            p = node.value
            check(lib.lc_input(graph, b"grad.%d" % i, _program.c_dtype(dtype), _program.c_shape(shape),
                               ctypes.byref(node)))
            check(lib.lc_mul(graph, p, node.value, ctypes.byref(node)))
            for _ in shape:
                check(lib.lc_sum(graph, node.value, 0, ctypes.byref(node)))
            if loss is None:
                loss = node.value
            else:
                check(lib.lc_add(graph, loss, node.value, ctypes.byref(node)))
                loss = node.value
            params.append(p)
        check(lib.lc_graph_add_output(graph, loss))
        sgd = ctypes.c_void_p()
        o = _lib.SGDOptions(*options)
        check(lib.lc_sgd_graph(graph, 0, (ctypes.c_int * len(params))(*params), len(params),
                               ctypes.byref(o), ctypes.byref(sgd)))
        program = _program.Program(sgd)
    finally:
        lib.lc_graph_free(graph)
        if sgd is not None:
            lib.lc_graph_free(sgd)
    _UPDATES[key] = program
    return program


class SGD:
    """SGD(params, lr, momentum=0, weight_decay=0, dampening=0, nesterov=False), as
    torch.optim.SGD (dampening and nesterov only at those values)."""

    def __init__(self, params, lr, momentum=0, weight_decay=0, dampening=0, nesterov=False):
        if isinstance(params, Tensor):
            raise TypeError("lucid_c: SGD: params must be an iterable of Tensors, got a Tensor")
        self.params = list(params)
        if not self.params:
            raise ValueError("lucid_c: SGD: got an empty parameter list")
        for i, p in enumerate(self.params):
            if not isinstance(p, Tensor):
                raise TypeError("lucid_c: SGD: parameter %d is not a Tensor (%s)" % (i, type(p).__name__))
        for name, v in (("lr", lr), ("momentum", momentum), ("weight_decay", weight_decay),
                        ("dampening", dampening)):
            if isinstance(v, bool) or not isinstance(v, numbers.Real):
                raise TypeError("lucid_c: SGD: %s must be a number, got %r" % (name, v))
            if not np.isfinite(v) or v < 0:
                raise ValueError("lucid_c: SGD: %s must be finite and >= 0, got %r" % (name, v))
        if dampening != 0:
            raise ValueError("lucid_c: SGD: dampening must be 0 (the only value supported), got %r" % (dampening,))
        if nesterov is not False:
            raise ValueError("lucid_c: SGD: nesterov must be False (the only value supported), got %r" % (nesterov,))
        self.lr, self.momentum, self.weight_decay = float(lr), float(momentum), float(weight_decay)
        self._buffers = [None] * len(self.params)
        self._prepared = {}

    def zero_grad(self, set_to_none=True):
        for p in self.params:
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                _lazy.expose(p.grad)[...] = 0

    def step(self):
        groups = {}
        for i, p in enumerate(self.params):
            if p.grad is not None:
                groups.setdefault(np.dtype(p.dtype), []).append(i)
        for dtype, indices in groups.items():
            self._step(dtype, indices)

    def _step(self, dtype, indices):
        momentum = self.momentum != 0
        key = (dtype, tuple(indices), self.lr, self.momentum, self.weight_decay)
        prepared = self._prepared.get(key)
        params = self.params
        arrays = []
        for i in indices:
            p = params[i]
            a = _lazy.expose(p)  # pending results reading p run first
            if not (a.flags.c_contiguous and a.flags.writeable):
                raise ValueError("lucid_c: SGD: parameter %d must be a contiguous writable array "
                                 "to be updated in place" % i)
            g = p.grad._data
            if g.dtype != dtype or not g.flags.c_contiguous:
                g = np.asarray(g, dtype=dtype, order="C")
            if g.shape != a.shape:
                raise ValueError("lucid_c: SGD: parameter %d has shape %s but its gradient %s"
                                 % (i, list(a.shape), list(g.shape)))
            arrays.append(a)
            arrays.append(g)
        if prepared is None or prepared[0] != [a.shape for a in arrays[::2]]:
            prepared = self._prepared[key] = self._prepare(dtype, indices, arrays[::2])
        _, program, views, ins, outs, n_in, n_out, loss = prepared
        if momentum:
            buffers = self._buffers
            for i, a in zip(indices, arrays[::2]):
                b = buffers[i]
                if b is None or b.dtype != dtype or b.shape != a.shape:
                    b = buffers[i] = np.zeros(a.shape, dtype=dtype)
                arrays.append(b)
        arrays.append(loss)
        address = _program.address
        for v, a in zip(views, arrays):
            v.data = address(a)
        status = _run_into(program.handle, ins, n_in, outs, n_out)
        if status:
            check(status)

    def _prepare(self, dtype, indices, data):
        """The compiled update for these parameters, and lc_tensor records for its inputs and
        outputs, made once: a step only writes their data pointers. An in-out buffer (a
        parameter, a momentum buffer) is one record, given as an input and as an output."""
        shapes = [a.shape for a in data]
        program = _update_program(tuple(shapes), dtype, (self.lr, self.momentum, self.weight_decay))
        n = len(data)
        momentum = self.momentum != 0
        records = []
        for shape in shapes:  # p_i, g_i
            records.append(_lib.CTensor(_program.c_dtype(dtype), _program.c_shape(shape)))
            records.append(_lib.CTensor(_program.c_dtype(dtype), _program.c_shape(shape)))
        if momentum:
            for shape in shapes:
                records.append(_lib.CTensor(_program.c_dtype(dtype), _program.c_shape(shape)))
        loss_record = _lib.CTensor(_program.c_dtype(dtype), _program.c_shape(()))
        records.append(loss_record)
        inputs = records[:2 * n] + (records[2 * n:3 * n] if momentum else [])
        outputs = [loss_record] + records[0:2 * n:2] + (records[2 * n:3 * n] if momentum else [])
        ins = (_ptr * len(inputs))(*[ctypes.pointer(v) for v in inputs])
        outs = (_ptr * len(outputs))(*[ctypes.pointer(v) for v in outputs])
        return (shapes, program, records, ins, outs, len(inputs), len(outputs), np.empty((), dtype=dtype))
