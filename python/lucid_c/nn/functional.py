"""lucid_c.nn.functional: every module of the library's table as a function, with PyTorch's
names and arguments, generated from the table:

    avg_pool1d(input, kernel_size, stride=None, ...)   AvgPool1d(kernel_size, ...) applied to input
    relu(input)                                       ReLU()
    mse_loss(input, target, *, reduction='mean')      MSELoss(reduction=...)(input, target)
    linear(input, weight, bias=None)                  Linear's computation with these tensors
    conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1)

The name is the module's in PyTorch's spelling (AvgPool1d -> avg_pool1d, MSELoss -> mse_loss).
A module without parameters takes the module's arguments after its inputs (a two-input module
such as MSELoss by keyword, as PyTorch's positional slots there are deprecated ones). A module
with parameters takes them as tensors after the input, in the library's order (weight, then
bias, which may be None), then the module's arguments that the parameters' shapes do not
decide (_FROM_PARAMS below says which do, per module). A module with parameters that the
table gains and _FROM_PARAMS lacks gets a function that refuses to run (TypeError) rather than
compute with parameters the caller did not give. Gradients reach the weight and bias tensors.

Modules built for a set of arguments are kept, so a repeated call compiles nothing and costs
what a module call does. Building a module with parameters draws its initial values from the
library's random stream; the function puts the stream back where it was (lc_random_state), so
calling linear() leaves lucid_c.random as PyTorch's F.linear leaves torch's.
"""

import re
import sys

from .. import _lib
from .._tensor import Tensor, apply_module
from . import MODULE_TABLE

_nn = sys.modules[__package__]  # lucid_c.nn, whose classes exist by the time this runs
_lib_handle = _lib.lib

_built = {}


def function_name(module_name):
    """PyTorch's name of a module's function: AvgPool1d -> avg_pool1d, LPPool2d -> lp_pool2d,
    MSELoss -> mse_loss, ReLU -> relu, Conv1d -> conv1d."""
    return re.sub(r"(?<=.)(Pool|Loss)", r"_\1", module_name).lower()


def _cached(cls, args, kwargs, params_given=False):
    """The module cls(*args, **kwargs), built once per set of arguments. Without
    `params_given`, a module that holds parameters is refused: its function must take them."""
    try:
        key = (cls, args, tuple(sorted(kwargs.items())))
        module = _built.get(key)
    except TypeError:  # an unhashable argument: the constructor will say what is wrong
        key, module = None, None
    if module is None:
        module = cls(*args, **kwargs)
        if module._param_shapes and not params_given:
            raise TypeError("lucid_c.nn.functional: %s holds parameters, and this package does not "
                            "know how its function takes them" % cls.__name__)
        if key is not None:
            _built[key] = module
    return module


def _plain(module_name, n_inputs):
    cls = getattr(_nn, module_name)
    name = function_name(module_name)

    if n_inputs == 1:
        def function(input, *args, **kwargs):
            return _cached(cls, args, kwargs)(input)
        signature = "input, ..."
    else:
        def function(input, target, **kwargs):
            return _cached(cls, (), kwargs)(input, target)
        signature = "input, target, *, ..."
    function.__name__ = function.__qualname__ = name
    function.__doc__ = "%s(%s): %s applied to input (see lucid_c.nn.%s)." % (
        name, signature, module_name, module_name)
    return function


def _linear_args(weight, bias):
    if weight.ndim != 2:
        raise ValueError("linear: weight must have 2 dimensions (out_features, in_features), got shape %s"
                         % (list(weight.shape),))
    return dict(in_features=weight.shape[1], out_features=weight.shape[0], bias=bias is not None)


def _conv1d_args(weight, bias, groups=1):
    if weight.ndim != 3:
        raise ValueError("conv1d: weight must have 3 dimensions (out_channels, in_channels/groups, "
                         "kernel_size), got shape %s" % (list(weight.shape),))
    return dict(in_channels=weight.shape[1] * groups if isinstance(groups, int) else weight.shape[1],
                out_channels=weight.shape[0], kernel_size=weight.shape[2], bias=bias is not None)


# Per module with parameters: the constructor arguments its parameters' shapes decide, and the
# remaining ones the function takes (PyTorch's order), read by the function after the tensors.
_FROM_PARAMS = {
    "Linear": (("weight", "bias"), _linear_args, ()),
    "Conv1d": (("weight", "bias"), _conv1d_args, ("stride", "padding", "dilation", "groups")),
}


def _with_params(module_name):
    cls = getattr(_nn, module_name)
    name = function_name(module_name)
    param_names, derive, rest = _FROM_PARAMS[module_name]

    def function(input, *args, **kwargs):
        # (weight, bias=None, then the rest) positionally or by keyword, as PyTorch's
        names = tuple(param_names) + rest
        if len(args) > len(names):
            raise TypeError("%s() takes at most %d arguments after input (%d given)" % (name, len(names), len(args)))
        values = dict(zip(names, args))
        for k, v in kwargs.items():
            if k not in names:
                raise TypeError("%s() got an unexpected keyword argument '%s'" % (name, k))
            if k in values:
                raise TypeError("%s() got multiple values for argument '%s'" % (name, k))
            values[k] = v
        if param_names[0] not in values:
            raise TypeError("%s() missing required argument: '%s'" % (name, param_names[0]))
        tensors = []
        for pname in param_names:
            t = values.pop(pname, None)
            if t is not None and not isinstance(t, Tensor):
                raise TypeError("%s: %s must be a Tensor, got %s" % (name, pname, type(t).__name__))
            tensors.append(t)
        weight, bias = tensors[0], tensors[1] if len(tensors) > 1 else None
        options = dict(values)
        shape_args = derive(weight, bias, **({"groups": options["groups"]} if "groups" in options else {}))
        state = _lib_handle.lc_random_state()
        try:
            module = _cached(cls, (), dict(shape_args, **options), params_given=True)
        finally:
            _lib_handle.lc_random_seed(state)
        extras = tuple(t for t in tensors if t is not None)
        for pname, t, shape in zip(module._cmodule.param_names, extras, module._param_shapes):
            if t.shape != shape:
                raise ValueError("%s: %s must have shape %s for weight of shape %s, got %s"
                                 % (name, pname, list(shape), list(weight.shape), list(t.shape)))
        return apply_module(module._cmodule, input, extras)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = "%s(input, %s): %s's computation with these tensors as its parameters." % (
        name, ", ".join(list(param_names[:1]) + ["%s=None" % p for p in param_names[1:]]
                        + ["%s=..." % r for r in rest]), module_name)
    return function


__all__ = ["function_name"]
for _name, _summary, _args, _n_inputs in MODULE_TABLE:
    _f = _with_params(_name) if _name in _FROM_PARAMS else _plain(_name, _n_inputs)
    globals()[_f.__name__] = _f
    __all__.append(_f.__name__)
