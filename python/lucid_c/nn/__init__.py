"""lucid_c.nn: Module, Sequential, and one class per module of the library's module table.

The leaf modules (AvgPool1d, LPPool1d, ...) are generated from the table the library
publishes (lc_module_info_*): their names, arguments in positional order, kinds and
defaults. A module the library gains appears here with no Python change.
"""

import ast
import ctypes
import numbers
from collections import OrderedDict

import numpy as np

from .. import _lib, _program
from .._lib import lib, check
from .._tensor import Tensor, apply_module


class Parameter(Tensor):
    """A tensor that a Module registers as a parameter when assigned as an attribute."""

    __slots__ = ()

    def __init__(self, data, requires_grad=True, dtype=None):
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)


class Module:
    """Base class: assign submodules and Parameters as attributes, define forward()."""

    def __init__(self):
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "training", True)

    def __setattr__(self, name, value):
        if "_modules" not in self.__dict__:
            raise AttributeError("lucid_c: call Module.__init__() in %s.__init__ before assigning "
                                 "attributes" % type(self).__name__)
        self._modules.pop(name, None)
        self._parameters.pop(name, None)
        if isinstance(value, Module):
            self._modules[name] = value
        elif isinstance(value, Parameter):
            self._parameters[name] = value
        object.__setattr__(self, name, value)

    def forward(self, *args, **kwargs):
        raise NotImplementedError("lucid_c: %s does not define forward()" % type(self).__name__)

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def named_modules(self, prefix=""):
        yield prefix, self
        for name, m in self._modules.items():
            yield from m.named_modules(prefix + ("." if prefix else "") + name)

    def children(self):
        return iter(self._modules.values())

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_parameters(self, prefix=""):
        for name, p in self._parameters.items():
            yield prefix + ("." if prefix else "") + name, p
        for name, m in self._modules.items():
            yield from m.named_parameters(prefix + ("." if prefix else "") + name)

    def parameters(self):
        for _, p in self.named_parameters():
            yield p

    def state_dict(self):
        return OrderedDict((name, p.detach()) for name, p in self.named_parameters())

    def load_state_dict(self, state):
        own = OrderedDict(self.named_parameters())
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        if missing or unexpected:
            raise KeyError("lucid_c: load_state_dict: missing %s, unexpected %s" % (missing, unexpected))
        for name, p in own.items():
            value = state[name]
            array = value.numpy() if isinstance(value, Tensor) else np.asarray(value)
            if array.shape != p.shape:
                raise ValueError("lucid_c: load_state_dict: %s has shape %s, the module's %s"
                                 % (name, list(array.shape), list(p.shape)))
            p.numpy()[...] = array

    def zero_grad(self):
        for p in self.parameters():
            p.grad = None

    def train(self, mode=True):
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self):
        return self.train(False)

    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = ["(%s): %s" % (name, _indent(repr(m))) for name, m in self._modules.items()]
        head = type(self).__name__ + "(" + self.extra_repr()
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"


def _indent(text):
    return text.replace("\n", "\n  ")


class Sequential(Module):
    """Modules applied in order. A run of library modules compiles as one fused program."""

    def __init__(self, *modules):
        super().__init__()
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError("lucid_c: Sequential takes modules, got %s at %d" % (type(m).__name__, i))
            self._modules[str(i)] = m
        object.__setattr__(self, "_fused", None)

    def __len__(self):
        return len(self._modules)

    def __getitem__(self, i):
        return list(self._modules.values())[i]

    def _fused_module(self):
        """One library Sequential of every child, when every child is a library module."""
        children = list(self._modules.values())
        if not children or not all(isinstance(m, _TableModule) for m in children):
            return None
        if self._fused is None:
            seq = ctypes.c_void_p()
            check(lib.lc_sequential_new(ctypes.byref(seq)))
            try:
                for m in children:
                    check(lib.lc_sequential_append(seq, m._new_handle()))
            except BaseException:
                lib.lc_module_free(seq)
                raise
            object.__setattr__(self, "_fused", _program.CModule(seq))
        return self._fused

    def forward(self, x):
        fused = self._fused_module()
        if fused is not None:
            return apply_module(fused, x)
        for m in self._modules.values():
            x = m(x)
        return x


# ---- modules generated from the library's table --------------------------------------------

class _TableModule(Module):
    """A module of the library's table: arguments checked against the table, built by
    lc_module_new, applied by its compiled program, printed by the library."""

    _info = None  # set per generated class: (name, [(arg name, kind, required, none_ok, default)])

    def __init__(self, *args, **kwargs):
        super().__init__()
        name, spec = self._info
        if len(args) > len(spec):
            raise TypeError("%s() takes at most %d positional arguments (%d given)" % (name, len(spec), len(args)))
        values = {}
        for (arg, _, _, _, _), v in zip(spec, args):
            values[arg] = v
        for k, v in kwargs.items():
            if k not in [s[0] for s in spec]:
                raise TypeError("%s() got an unexpected keyword argument '%s'" % (name, k))
            if k in values:
                raise TypeError("%s() got multiple values for argument '%s'" % (name, k))
            values[k] = v
        for arg, _, required, _, default in spec:
            if arg not in values:
                if required:
                    raise TypeError("%s() missing required argument: '%s'" % (name, arg))
                values[arg] = default
        object.__setattr__(self, "_args", values)
        for arg in values:
            object.__setattr__(self, arg, values[arg])
        handle = self._new_handle()
        object.__setattr__(self, "_cmodule", _program.CModule(handle))

    def _new_handle(self):
        """A new lc_module from this module's arguments (the caller owns it)."""
        name, spec = self._info
        values = (_lib.ArgValue * len(spec))()
        for k, (arg, kind, _, none_ok, _) in enumerate(spec):
            v = self._args[arg]
            c = values[k]
            c.set = True
            if v is None:
                if not none_ok:
                    raise TypeError("%s: %s cannot be None" % (name, arg))
                c.is_none = True
            elif kind in (_lib.ARG_STRING, _lib.ARG_INT_OR_STRING) and isinstance(v, str):
                c.s = v.encode()  # the library judges the word ('same', 'mean', ...)
            elif kind == _lib.ARG_STRING:
                raise TypeError("%s: %s must be a string, got %r" % (name, arg, v))
            elif kind in (_lib.ARG_INT, _lib.ARG_INT_OR_STRING):
                if isinstance(v, bool) or not isinstance(v, numbers.Integral):
                    raise TypeError("%s: %s must be an integer, got %r" % (name, arg, v))
                if not -2**63 <= int(v) < 2**63:
                    raise ValueError("%s: %s is out of the 64-bit integer range, got %r" % (name, arg, v))
                c.i = int(v)
            elif kind == _lib.ARG_REAL:
                if isinstance(v, bool) or not isinstance(v, numbers.Real):
                    raise TypeError("%s: %s must be a number, got %r" % (name, arg, v))
                c.r = float(v)
            elif kind == _lib.ARG_BOOL:
                if not isinstance(v, (bool, np.bool_)):
                    raise TypeError("%s: %s must be True or False, got %r" % (name, arg, v))
                c.b = bool(v)
        handle = ctypes.c_void_p()
        check(lib.lc_module_new(name.encode(), values, len(spec), ctypes.byref(handle)))
        return handle

    def forward(self, x):
        return apply_module(self._cmodule, x)

    def __repr__(self):
        return self._cmodule.text


def _table():
    """[(name, summary, [(arg, kind, required, none_ok, default value)])] from the library."""
    rows = []
    for i in range(lib.lc_module_info_count()):
        info = lib.lc_module_info_at(i).contents
        args = []
        for k in range(info.n_args):
            a = info.args[k]
            default = None if a.required else ast.literal_eval(a.default_text.decode())
            args.append((a.name.decode(), a.kind, a.required, a.none_ok, default))
        rows.append((info.name.decode(), info.summary.decode(), args))
    return rows


def _signature(args):
    parts = []
    for arg, _, required, _, default in args:
        parts.append(arg if required else "%s=%r" % (arg, default))
    return ", ".join(parts)


MODULE_TABLE = _table()
__all__ = ["Module", "Parameter", "Sequential"]
for _name, _summary, _args in MODULE_TABLE:
    _cls = type(_name, (_TableModule,), {
        "_info": (_name, _args),
        "__doc__": "%s(%s): %s (compiled by the Lucid library)." % (_name, _signature(_args), _summary),
        "__module__": __name__,
    })
    globals()[_name] = _cls
    __all__.append(_name)

from . import functional  # noqa: E402,F401
