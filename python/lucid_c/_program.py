"""Compiled programs: a library module applied to one input of a given dtype and shape.

Each (module, dtype, shape, backward) compiles once (the library's own pipeline: passes,
fusion, LLVM) and is kept in a process-wide table keyed by the module's printed form, which
names every resolved argument, so equal modules share programs. A repeated call is one
dictionary lookup and one C call (lc_program_run_into) over NumPy's memory.
"""

import ctypes
import threading

import numpy as np

from . import _lib
from ._lib import lib, check

_DTYPES = {np.dtype(np.float32): _lib.F32, np.dtype(np.float64): _lib.F64}
_shutting_down = [False]


def c_dtype(dtype):
    return _DTYPES[np.dtype(dtype)]


def c_shape(shape):
    if len(shape) > _lib.MAX_RANK:
        raise ValueError("lucid_c: tensors have at most %d dimensions, got %d" % (_lib.MAX_RANK, len(shape)))
    s = _lib.Shape()
    s.rank = len(shape)
    for i, d in enumerate(shape):
        s.dim[i] = d
    return s


def view(array):
    """An lc_tensor describing a C-contiguous float32/float64 NumPy array (no copy)."""
    t = _lib.CTensor()
    t.dtype = c_dtype(array.dtype)
    t.shape = c_shape(array.shape)
    t.data = array.ctypes.data
    return t


class Program:
    """One compiled program; inputs and outputs are NumPy arrays of the graph's shapes, which
    are fixed for a program (its key holds them)."""

    __slots__ = ("handle", "local")

    def __init__(self, graph, backward):
        final = ctypes.c_void_p()
        check(lib.lc_pipeline_run_default(graph, backward, None, ctypes.byref(final)))
        handle = ctypes.c_void_p()
        status = lib.lc_compile(final, None, ctypes.byref(handle))
        lib.lc_graph_free(final)
        check(status)
        self.handle = handle
        self.local = threading.local()

    def _views(self, inputs, outputs):
        # The lc_tensor records of a call differ from the last call's only in their data
        # pointers: each thread keeps its own set and rewrites just those.
        views = getattr(self.local, "views", None)
        if views is None:
            arrays = inputs + outputs
            views = [_lib.CTensor(c_dtype(a.dtype), c_shape(a.shape)) for a in arrays]
            ptr = ctypes.POINTER(_lib.CTensor)
            n = len(inputs)
            ins = (ptr * n)(*[ctypes.pointer(v) for v in views[:n]])
            outs = (ptr * len(outputs))(*[ctypes.pointer(v) for v in views[n:]])
            views = self.local.views = (views, ins, outs)
        return views

    def run(self, inputs, outputs):
        views, ins, outs = self._views(inputs, outputs)
        for v, a in zip(views, inputs + outputs):
            v.data = a.ctypes.data
        check(lib.lc_program_run_into(self.handle, ins, len(inputs), outs, len(outputs)))

    def __del__(self):
        if not _shutting_down[0] and self.handle:
            lib.lc_program_free(self.handle)
            self.handle = None


class CModule:
    """A library module (lc_module) and the programs compiled for it."""

    __slots__ = ("handle", "text", "__weakref__")

    def __init__(self, handle):
        self.handle = handle
        out = ctypes.c_void_p()
        check(lib.lc_module_repr(handle, ctypes.byref(out)))
        self.text = _lib.take_string(out)

    def output_shape(self, shape):
        out = _lib.Shape()
        check(lib.lc_module_output_shape(self.handle, c_shape(shape), ctypes.byref(out)))
        return tuple(out.dim[i] for i in range(out.rank))

    def program(self, dtype, shape, backward):
        key = (self.text, dtype, shape, backward)
        entry = _PROGRAMS.get(key)
        if entry is None:
            out_shape = self.output_shape(shape)
            graph = ctypes.c_void_p()
            check(lib.lc_module_graph(self.handle, c_dtype(dtype), c_shape(shape), ctypes.byref(graph)))
            try:
                entry = (Program(graph, backward), out_shape)
            finally:
                lib.lc_graph_free(graph)
            _PROGRAMS[key] = entry
        return entry

    def __del__(self):
        if not _shutting_down[0] and self.handle:
            lib.lc_module_free(self.handle)
            self.handle = None


_PROGRAMS = {}


def _at_exit():
    # Programs and modules live until the interpreter ends; freeing them while Python tears
    # down its modules could run after the library's own destructors.
    _shutting_down[0] = True


import atexit  # noqa: E402

atexit.register(_at_exit)
