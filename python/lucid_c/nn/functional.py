"""lucid_c.nn.functional: the pooling modules as functions, with PyTorch's names.

`avg_pool1d(input, kernel_size, stride=None, ...)` is AvgPool1d(kernel_size, stride, ...)
applied to input; one function per pooling module of the library's table, generated from it.
Modules built for a set of arguments are kept, so a repeated call compiles nothing.
"""

import re
import sys

from . import MODULE_TABLE

_nn = sys.modules[__package__]  # lucid_c.nn, whose classes exist by the time this runs

_built = {}


def _function_name(module_name):
    """AvgPool1d -> avg_pool1d, LPPool1d -> lp_pool1d, MaxPool2d -> max_pool2d."""
    head, _, tail = module_name.partition("Pool")
    return head.lower() + "_pool" + tail.lower()


def _make(module_name):
    cls = getattr(_nn, module_name)

    def function(input, *args, **kwargs):
        key = (args, tuple(sorted(kwargs.items())))
        try:
            module = _built.get((module_name, key))
        except TypeError:  # an unhashable argument: the constructor will say what is wrong
            module = None
        if module is None:
            module = cls(*args, **kwargs)
            try:
                _built[(module_name, key)] = module
            except TypeError:
                pass
        return module(input)

    function.__name__ = _function_name(module_name)
    function.__doc__ = "%s(input, ...): %s applied to input." % (function.__name__, module_name)
    return function


__all__ = []
for _name, _summary, _args, _n_inputs in MODULE_TABLE:
    if re.search(r"Pool\dd$", _name):
        _f = _make(_name)
        globals()[_f.__name__] = _f
        __all__.append(_f.__name__)
