"""lucid_c.optim.SGD: stochastic gradient descent as torch.optim.SGD defines it, with its whole
argument set (lr, momentum, dampening, weight_decay, nesterov, maximize) and parameter groups.

For each parameter p with a gradient g:   g' = (−g if maximize else g) + weight_decay · p
                                           b  = momentum · b + (1 − dampening) · g'
                                                (the first step: b = g', undamped, as PyTorch)
                                           p -= lr · (g' + momentum · b if nesterov else b)
                                           (without momentum: p -= lr · g')

step() runs one compiled program per parameter group and dtype for every parameter that has a
gradient: the library's SGD graph (lc_sgd_graph, the update the compiled training step uses)
over a graph whose loss is Σ sum(p · g), so the loss's gradient with respect to p is exactly
g. The parameters and momentum buffers are in-out buffers of the run (lc_program_run_into):
updated in place, so a tensor made with from_numpy sees the new values. A parameter's first
step with dampening runs the update built with dampening 0 (its buffer starts as g' whole).
Programs are cached by the parameters' shapes and dtype and the options: the options are
constants of the compiled update, so a changed lr (a schedule writing
param_groups[i]["lr"]) compiles once per distinct value.
"""

import ctypes
import math
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


_OPTIONS = ("lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize")


def _check_options(group, where):
    """PyTorch's rules, and the library's (finite numbers), for one group's options."""
    for name in ("lr", "momentum", "dampening", "weight_decay"):
        v = group[name]
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise TypeError("lucid_c: SGD: %s%s must be a number, got %r" % (name, where, v))
        if not math.isfinite(v):
            raise ValueError("lucid_c: SGD: %s%s must be finite, got %r" % (name, where, v))
        if name != "dampening" and v < 0:
            raise ValueError("lucid_c: SGD: %s%s must be >= 0, got %r" % (name, where, v))
    for name in ("nesterov", "maximize"):
        if not isinstance(group[name], (bool, np.bool_)):
            raise TypeError("lucid_c: SGD: %s%s must be True or False, got %r" % (name, where, group[name]))
    if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
        raise ValueError("lucid_c: SGD: nesterov%s needs momentum > 0 and dampening 0, got momentum %r "
                         "and dampening %r" % (where, group["momentum"], group["dampening"]))


def _param_list(params, where):
    if isinstance(params, Tensor):
        raise TypeError("lucid_c: SGD: params%s must be an iterable of Tensors, got a Tensor" % where)
    try:
        params = list(params)
    except TypeError:
        raise TypeError("lucid_c: SGD: params%s must be an iterable of Tensors, got %s"
                        % (where, type(params).__name__)) from None
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError("lucid_c: SGD: parameter %d%s is not a Tensor (%s)" % (i, where, type(p).__name__))
    return params


class SGD:
    """SGD(params, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
    maximize=False), as torch.optim.SGD: params an iterable of Tensors, or of dicts
    {"params": ..., option: value} (parameter groups; options a group leaves out take the
    constructor's). The groups are in `param_groups`, whose options may be changed between
    steps."""

    def __init__(self, params, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        _check_options(defaults, "")
        if isinstance(params, Tensor):
            raise TypeError("lucid_c: SGD: params must be an iterable of Tensors, got a Tensor")
        try:
            items = list(params)
        except TypeError:
            raise TypeError("lucid_c: SGD: params must be an iterable of Tensors or of dicts, got %s"
                            % type(params).__name__) from None
        if not items:
            raise ValueError("lucid_c: SGD: got an empty parameter list")
        if not all(isinstance(item, dict) for item in items):
            items = [{"params": items}]
        self.defaults = defaults
        self.param_groups = []
        seen = set()
        for k, item in enumerate(items):
            where = " of group %d" % k if len(items) > 1 else ""
            if not isinstance(item, dict) or "params" not in item:
                raise TypeError("lucid_c: SGD: group %d must be a dict with 'params', got %r" % (k, item))
            unknown = [name for name in item if name != "params" and name not in _OPTIONS]
            if unknown:
                raise TypeError("lucid_c: SGD: group %d has unknown options %s" % (k, unknown))
            group = dict(defaults)
            group.update(item)
            group["params"] = _param_list(item["params"], where)
            _check_options(group, where)
            for p in group["params"]:
                if id(p) in seen:
                    raise ValueError("lucid_c: SGD: a parameter appears in more than one group")
                seen.add(id(p))
            self.param_groups.append(group)
        if not seen:
            raise ValueError("lucid_c: SGD: got an empty parameter list")
        self._buffers = {}   # id(parameter) -> momentum buffer (after its first step)
        self._prepared = {}

    @property
    def params(self):
        return [p for g in self.param_groups for p in g["params"]]

    def zero_grad(self, set_to_none=True):
        for g in self.param_groups:
            for p in g["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    _lazy.expose(p.grad)[...] = 0

    def step(self):
        for k, group in enumerate(self.param_groups):
            where = " of group %d" % k if len(self.param_groups) > 1 else ""
            _check_options(group, where)
            options = (float(group["lr"]), float(group["momentum"]), float(group["weight_decay"]),
                       float(group["dampening"]), bool(group["nesterov"]), bool(group["maximize"]))
            damped_first = options[1] != 0 and options[3] != 0
            runs = {}
            for i, p in enumerate(group["params"]):
                if p.grad is not None:
                    # a parameter's first step with dampening is the undamped update
                    first = damped_first and id(p) not in self._buffers
                    runs.setdefault((np.dtype(p.dtype), first), []).append(i)
            for (dtype, first), indices in runs.items():
                opts = options[:3] + (0.0,) + options[4:] if first else options
                self._step(k, group["params"], dtype, indices, opts)

    def _step(self, k, params, dtype, indices, options):
        momentum = options[1] != 0
        key = (k, dtype, tuple(indices), options)
        prepared = self._prepared.get(key)
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
            prepared = self._prepared[key] = self._prepare(dtype, arrays[::2], options)
        _, program, views, ins, outs, n_in, n_out, loss = prepared
        if momentum:
            buffers = self._buffers
            for i, a in zip(indices, arrays[::2]):
                b = buffers.get(id(params[i]))
                if b is None or b.dtype != dtype or b.shape != a.shape:
                    b = buffers[id(params[i])] = np.zeros(a.shape, dtype=dtype)
                arrays.append(b)
        arrays.append(loss)
        address = _program.address
        for v, a in zip(views, arrays):
            v.data = address(a)
        status = _run_into(program.handle, ins, n_in, outs, n_out)
        if status:
            check(status)

    def _prepare(self, dtype, data, options):
        """The compiled update for these parameters, and lc_tensor records for its inputs and
        outputs, made once: a step only writes their data pointers. An in-out buffer (a
        parameter, a momentum buffer) is one record, given as an input and as an output."""
        shapes = [a.shape for a in data]
        program = _update_program(tuple(shapes), dtype, options)
        n = len(data)
        momentum = options[1] != 0
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
