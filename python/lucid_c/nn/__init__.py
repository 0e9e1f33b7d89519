"""lucid_c.nn: Module, Sequential, and one class per module of the library's module table.

The leaf modules (AvgPool1d, LPPool1d, ...) are generated from the table the library
publishes (lc_module_info_*): their names, arguments in positional order, kinds and
defaults. A module the library gains appears here with no Python change; so does an argument
kind it gains (an int pair, a string): values pass to the library as Python literals.
"""

import ast
import numbers
import re
from collections import OrderedDict

import numpy as np

from .. import _lazy, _lib, _program
from .._lib import lib
from .._tensor import Tensor, apply_module, _resolve_dtype


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
        if name in self._parameters and value is not None and not isinstance(value, Parameter):
            raise TypeError("lucid_c: cannot assign %s as parameter '%s' (a Parameter or None "
                            "expected)" % (type(value).__name__, name))
        self._modules.pop(name, None)
        self._parameters.pop(name, None)
        if isinstance(value, Module):
            self._modules[name] = value
        elif isinstance(value, Parameter):
            self._parameters[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        self._modules.pop(name, None)
        self._parameters.pop(name, None)
        object.__delattr__(self, name)

    def add_module(self, name, module):
        if not isinstance(name, str) or not name or "." in name:
            raise ValueError("lucid_c: a module's name must be a non-empty string without '.', got %r" % (name,))
        if module is not None and not isinstance(module, Module):
            raise TypeError("lucid_c: add_module takes a Module, got %s" % type(module).__name__)
        setattr(self, name, module)

    def register_parameter(self, name, param):
        if not isinstance(name, str) or not name or "." in name:
            raise ValueError("lucid_c: a parameter's name must be a non-empty string without '.', got %r" % (name,))
        if param is not None and not isinstance(param, Parameter):
            raise TypeError("lucid_c: register_parameter takes a Parameter, got %s" % type(param).__name__)
        setattr(self, name, param)

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
        """Copy each named array (or Tensor) into the parameter of that name, in place. Every
        name, shape and value is checked before anything is written."""
        own = OrderedDict(self.named_parameters())
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        if missing or unexpected:
            raise ValueError("lucid_c: load_state_dict: missing %s, unexpected %s" % (missing, unexpected))
        arrays = {}
        for name, p in own.items():
            value = state[name]
            try:
                array = value._data if isinstance(value, Tensor) else np.asarray(value, dtype=np.float64)
            except (TypeError, ValueError) as e:
                raise TypeError("lucid_c: load_state_dict: %s is not an array of numbers: %s" % (name, e)) from None
            if array.shape != p.shape:
                raise ValueError("lucid_c: load_state_dict: %s has shape %s, the module's %s"
                                 % (name, list(array.shape), list(p.shape)))
            arrays[name] = array
        for name, p in own.items():
            p.numpy()[...] = arrays[name]

    def zero_grad(self, set_to_none=True):
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                _lazy.expose(p.grad)[...] = 0

    def to(self, dtype):
        """Every parameter (and gradient) converted to `dtype` (float32 or float64), in place
        of the old arrays, as torch.nn.Module.to(dtype)."""
        dt = _resolve_dtype(dtype)
        for p in self.parameters():
            if p.dtype is not dt.type:
                p._array = np.array(_lazy.expose(p), dtype=dt)
                if p.grad is not None:
                    p.grad = Tensor(p.grad, dtype=dt)
        return self

    def double(self):
        return self.to(np.float64)

    def float(self):
        return self.to(np.float32)

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
    """Modules applied in order. Consecutive library modules run as one fused program (module
    calls are deferred until read; see lucid_c._lazy), here or in any forward()."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            modules = list(modules[0].items())
        else:
            modules = [(str(i), m) for i, m in enumerate(modules)]
        for name, m in modules:
            if not isinstance(m, Module):
                raise TypeError("lucid_c: Sequential takes modules, got %s at %s" % (type(m).__name__, name))
            self.add_module(name, m)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, i):
        items = list(self._modules.items())
        if isinstance(i, slice):
            return Sequential(OrderedDict(items[i]))
        return items[i][1]

    def append(self, module):
        self.add_module(str(len(self._modules)), module)
        return self

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x


# ---- modules generated from the library's table --------------------------------------------

class _TableModule(Module):
    """A module of the library's table: arguments checked against the table, built by the
    library from their Python literals, applied by its compiled program, printed by the
    library."""

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
        call = _call_text(name, spec, values)
        object.__setattr__(self, "_args", values)
        for arg in values:
            object.__setattr__(self, arg, values[arg])
        cmodule = _program.CModule(_program.parse_module(call), call)
        object.__setattr__(self, "_cmodule", cmodule)
        # The library drew the initial values (from lucid_c.random's stream) when it built the
        # module; the Parameters hold copies, which calls pass to the program as inputs.
        values = cmodule.param_values()
        object.__setattr__(self, "_param_shapes", tuple(v.shape for v in values.values()))
        for pname, value in values.items():
            setattr(self, pname, Parameter(value))

    def reset_parameters(self):
        """Redraw every parameter from lucid_c.random's stream, as the constructor did."""
        self._cmodule.reset_parameters()
        for pname, value in self._cmodule.param_values().items():
            _lazy.expose(self._parameters[pname])[...] = value

    def _extras(self):
        """The parameters in the library's order, checked against the shapes it expects."""
        params = self._parameters
        extras = []
        for pname, shape in zip(self._cmodule.param_names, self._param_shapes):
            p = params.get(pname)
            if p is None:
                raise ValueError("%s: parameter %s is missing" % (self._info[0], pname))
            if p.shape != shape:
                raise ValueError("%s: %s must have shape %s, got %s"
                                 % (self._info[0], pname, list(shape), list(p.shape)))
            extras.append(p)
        return tuple(extras)

    def forward(self, *inputs):
        return self._table_call(*inputs)

    def _table_call(self, x):
        # Module.__call__ less one Python frame: this is the per-call cost of a module. A
        # module with parameters passes them as the program's further inputs.
        if self._param_shapes:
            return apply_module(self._cmodule, x, self._extras())
        return apply_module(self._cmodule, x)

    __call__ = _table_call

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "forward" in cls.__dict__ and "_info" not in cls.__dict__:
            cls.__call__ = Module.__call__  # a user's subclass with its own forward()

    def __repr__(self):
        return self._cmodule.text


class _MaxPoolModule(_TableModule):
    """MaxPool1d/MaxPool2d: with return_indices=True a call gives (output, indices), as
    PyTorch's: indices is a NumPy int64 array of the output's shape holding each chosen
    element's flat index within its plane (h * W + w; in 1-D its position in the row), -1 for
    a window of padding alone. (lucid_c tensors hold floats, so the indices are an array.)"""

    def forward(self, x):
        y = apply_module(self._cmodule, x)
        if not self._args["return_indices"]:
            return y
        source = x if isinstance(x, Tensor) else Tensor(x)
        array = np.ascontiguousarray(source._data)
        return y, _program.max_pool_indices(self._cmodule, array, type(self).__name__ == "MaxPool2d")


def _call_with_target(self, input, target):
    """A two-input module (MSELoss): input and target of one shape."""
    if not isinstance(target, Tensor):
        raise TypeError("%s: target must be a Tensor, got %s" % (self._info[0], type(target).__name__))
    if isinstance(input, Tensor) and target.shape != input.shape:
        raise ValueError("%s: target shape %s must match input shape %s"
                         % (self._info[0], list(target.shape), list(input.shape)))
    return apply_module(self._cmodule, input, (target,) + self._extras())


# A string argument passes through as a quoted literal of the model-spec syntax, which has no
# escapes.
_PLAIN_STRING = re.compile(r"[^'\"\\\n\r]*\Z")


def _literal(module, arg, kind, v, top=True):
    """`v` as the model-spec literal for an argument of `kind`: the kinds this package knows
    are checked here (TypeError naming module, argument and value); values of a kind it does
    not know (added to the library later) only need to be literals, and the library judges
    them."""
    if v is None:
        return "None"
    if kind == _lib.ARG_INT:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral):
            raise TypeError("%s: %s must be an integer, got %r" % (module, arg, v))
        if not -2**63 <= int(v) < 2**63:
            raise ValueError("%s: %s is out of the 64-bit integer range, got %r" % (module, arg, v))
        return str(int(v))
    if kind == _lib.ARG_REAL:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
            raise TypeError("%s: %s must be a number, got %r" % (module, arg, v))
        return repr(float(v))
    if kind == _lib.ARG_BOOL:
        if not isinstance(v, (bool, np.bool_)):
            raise TypeError("%s: %s must be True or False, got %r" % (module, arg, v))
        return "True" if v else "False"
    if isinstance(v, (bool, np.bool_)):
        return "True" if v else "False"
    if isinstance(v, numbers.Integral):
        if not -2**63 <= int(v) < 2**63:  # a value error whatever the kind
            raise ValueError("%s: %s is out of the 64-bit integer range, got %r" % (module, arg, v))
        return str(int(v))
    if isinstance(v, numbers.Real):
        return repr(float(v))
    if isinstance(v, str):
        if not _PLAIN_STRING.match(v):
            raise ValueError("%s: %s must not hold quotes, backslashes or line breaks, got %r" % (module, arg, v))
        return "'%s'" % v
    if top and isinstance(v, (tuple, list)):
        items = [_literal(module, arg, kind, item, top=False) for item in v]
        return "(%s)" % (items[0] + "," if len(items) == 1 else ", ".join(items))
    raise TypeError("%s: %s must be a number, a string, True, False, None or a tuple of numbers, "
                    "got %r" % (module, arg, v))


def _call_text(name, spec, values):
    """The model-spec call that builds module `name` with these argument values: the one
    constructor the library offers for every module and every argument kind."""
    parts = ["%s=%s" % (arg, _literal(name, arg, kind, values[arg])) for arg, kind, _, _, _ in spec]
    return "%s(%s)" % (name, ", ".join(parts))


def _table():
    """[(name, summary, [(arg, kind, required, none_ok, default value)], data inputs)] from
    the library."""
    rows = []
    for i in range(lib.lc_module_info_count()):
        info = lib.lc_module_info_at(i).contents
        args = []
        for k in range(info.n_args):
            a = info.args[k]
            default = None if a.required else ast.literal_eval(a.default_text.decode())
            args.append((a.name.decode(), a.kind, a.required, a.none_ok, default))
        rows.append((info.name.decode(), info.summary.decode(), args, info.n_inputs))
    return rows


def _signature(args):
    parts = []
    for arg, _, required, _, default in args:
        parts.append(arg if required else "%s=%r" % (arg, default))
    return ", ".join(parts)


MODULE_TABLE = _table()
__all__ = ["Module", "Parameter", "Sequential"]
for _name, _summary, _args, _n_inputs in MODULE_TABLE:
    _base = _MaxPoolModule if re.fullmatch(r"MaxPool\dd", _name) else _TableModule
    _body = {
        "_info": (_name, _args),
        "__doc__": "%s(%s): %s (compiled by the Lucid library)." % (_name, _signature(_args), _summary),
        "__module__": __name__,
    }
    if _n_inputs == 2:
        _body["__call__"] = _body["_table_call"] = _call_with_target
    elif _n_inputs != 1:
        raise ImportError("lucid_c: the library's %s takes %d inputs, which this package does not "
                          "know how to pass" % (_name, _n_inputs))
    _cls = type(_name, (_base,), _body)
    globals()[_name] = _cls
    __all__.append(_name)

from . import functional  # noqa: E402,F401
