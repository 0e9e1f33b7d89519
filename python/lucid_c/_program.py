"""Compiled programs: a chain of library modules applied to one input of a given dtype and shape.

A chain of one or more modules (x -> m1 -> m2 -> ...) compiles once (the library's own
pipeline: passes, fusion, LLVM) into one program, kept in a process-wide table keyed by the
modules' printed forms (which name every resolved argument, so equal modules share programs),
the input's dtype and shape, and whether the backward is wanted. A repeated chain is one
dictionary lookup and one C call (lc_program_run_into) over NumPy's memory.
"""

import ctypes
import sys
import threading
from weakref import ref as _weakref

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


_refcount = sys.getrefcount
_char = ctypes.c_char
_addressof = ctypes.addressof

# The library writes a large output in whole 64-byte lines from its buffer's start where it
# can (from 32 MiB, or a forward's output larger than a core's own cache: 256 KiB to 2 MiB on
# the x86 cores of the last decade), and an output whose buffer starts off a line aside, copied
# over after the run; NumPy's own large buffers start 16 bytes past a page. So from 256 KiB on
# the package allocates on a line (a view of a 64 bytes larger byte array).
_LINE_ALIGNED_MIN_BYTES = 256 << 10


def empty(shape, dtype):
    """np.empty(shape, dtype) whose data starts on a 64-byte line where it is large enough for
    the library to write it in whole lines (a view of a slightly larger byte array)."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if nbytes < _LINE_ALIGNED_MIN_BYTES:
        return np.empty(shape, dtype=dtype)
    raw = np.empty(nbytes + 64, dtype=np.uint8)
    start = -raw.ctypes.data % 64
    return raw[start:start + nbytes].view(dtype).reshape(shape)


def unshared(a):
    """Whether nothing but the caller's one name holds array a (from np.empty or empty above):
    no tensor, view, buffer or DLPack export. A view of an array from empty() holds the byte
    array under it, not the array, so that one is counted too."""
    # 3: the caller's name, this argument, getrefcount's argument; 2 for the base: a's
    # reference to it and getrefcount's argument
    return _refcount(a) == 3 and (a.base is None or _refcount(a.base) == 2)


def address(array):
    """The address of an array's first element. ctypes.addressof over the array's own buffer
    costs a third of ndarray.ctypes.data, which a read-only array still needs."""
    try:
        return _addressof(_char.from_buffer(array))
    except (TypeError, ValueError, BufferError):
        return array.ctypes.data


def view(array):
    """An lc_tensor describing a C-contiguous float32/float64 NumPy array (no copy)."""
    t = _lib.CTensor()
    t.dtype = c_dtype(array.dtype)
    t.shape = c_shape(array.shape)
    t.data = array.ctypes.data
    return t


class Program:
    """One compiled program; inputs and outputs are C-contiguous NumPy arrays of the graph's
    shapes, which are fixed for a program (its key holds them). `wrt` (None: the forward
    alone) marks the graph inputs to differentiate: the program then takes the forward inputs
    and the output's seed gradient, and gives the output, then one gradient per marked input."""

    __slots__ = ("handle", "local")

    def __init__(self, graph, wrt=None):
        differentiated = None
        if wrt is not None:
            nodes = [lib.lc_graph_input(graph, i) for i, marked in enumerate(wrt) if marked]
            array = (ctypes.c_int * max(len(nodes), 1))(*nodes)
            differentiated = ctypes.c_void_p()
            check(lib.lc_autodiff(graph, None, 0, array, len(nodes), ctypes.byref(differentiated)))
            graph = differentiated
        final = ctypes.c_void_p()
        try:
            check(lib.lc_pipeline_run_default(graph, False, None, ctypes.byref(final)))
        finally:
            if differentiated is not None:
                lib.lc_graph_free(differentiated)
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
            views = self.local.views = (views, ins, outs, n, len(outputs))
        return views

    def run_one(self, x, shape):
        """The program of one input and one output run on x: returns a new output array of
        `shape` (x's dtype), at the cost of one C call and little else. The input's lc_tensor
        keeps its data pointer while the same array comes back (a weak reference tells), as a
        repeated module call's input does. The output's memory is the last call's again when
        nothing but this program holds that array any more (its reference count says so: no
        tensor, view, buffer or DLPack export can see it), so a loop of calls whose results
        are dropped writes one array over and over instead of fresh pages each time; else a
        new array. So at most one dropped output per program and thread stays allocated."""
        one = getattr(self.local, "one", None)
        if one is None:
            y = empty(shape, x.dtype)
            views, ins, outs, _, _ = self._views([x], [y])
            one = self.local.one = [views[0], views[1], ins, outs, None, None]
        vx, vy, ins, outs, last_x, y = one
        if last_x is None or last_x() is not x:
            vx.data = address(x)
            one[4] = _weakref(x)
        one[5] = None
        if y is None or not unshared(y):
            y = empty(shape, x.dtype)
            vy.data = address(y)
        status = _run_into(self.handle, ins, 1, outs, 1)
        if status:
            check(status)
        one[5] = y
        return y

    def new_outputs(self, shapes, dtype):
        """Output arrays for run(): those of this thread's last call again where nothing but
        this program holds them any more (the reference count tells, as in run_one: a
        forward-and-backward loop whose y and x.grad are dropped writes the same memory), new
        ones elsewhere. The arrays handed out are remembered for the next call."""
        last = getattr(self.local, "outs", None)
        self.local.outs = None
        outs = []
        for k, shape in enumerate(shapes):
            a = None
            if last is not None and k < len(last):
                a = last[k]
                last[k] = None
                # shape and dtype as asked
                if not unshared(a) or a.shape != shape or a.dtype != dtype:
                    a = None
            outs.append(empty(shape, dtype) if a is None else a)
        self.local.outs = list(outs)
        return tuple(outs)

    def run(self, inputs, outputs):
        views, ins, outs, n_in, n_out = self._views(inputs, outputs)
        for v, a in zip(views, inputs + outputs):
            v.data = address(a)
        status = _run_into(self.handle, ins, n_in, outs, n_out)
        if status:
            check(status)

    def __del__(self):
        if not _shutting_down[0] and self.handle:
            lib.lc_program_free(self.handle)
            self.handle = None


class CModule:
    """A library module (lc_module): its handle, its printed form `text` (the library's repr,
    every argument resolved) and `call`, the model-spec call that builds it again."""

    __slots__ = ("handle", "text", "texts", "call", "shapes", "n_inputs", "param_names",
                 "__weakref__")

    def __init__(self, handle, call):
        self.handle = handle
        self.call = call
        self.shapes = {}
        out = ctypes.c_void_p()
        check(lib.lc_module_repr(handle, ctypes.byref(out)))
        self.text = _lib.take_string(out)
        self.texts = (self.text,)  # the program key of this module alone
        self.n_inputs = lib.lc_module_input_count(handle)
        self.param_names = tuple(self._param(i)[0] for i in range(lib.lc_module_param_count(handle)))

    def _param(self, i):
        name = ctypes.create_string_buffer(128)
        tensor = ctypes.POINTER(_lib.CTensor)()
        check(lib.lc_module_param_at(self.handle, i, name, len(name), ctypes.byref(tensor)))
        return name.value.decode(), tensor.contents

    def param_values(self):
        """{name: a float32 copy of the parameter as the library holds it}, in the library's
        order (weight before bias)."""
        values = {}
        for i, name in enumerate(self.param_names):
            t = self._param(i)[1]
            shape = tuple(t.shape.dim[k] for k in range(t.shape.rank))
            n = int(np.prod(shape, dtype=np.int64))
            ctype = ctypes.c_float if t.dtype == _lib.F32 else ctypes.c_double
            buffer = (ctype * n).from_address(t.data) if n else []
            values[name] = np.array(np.ctypeslib.as_array(buffer) if n else [], dtype=np.float32).reshape(shape)
        return values

    def reset_parameters(self):
        """Redraw the library's parameters from the random stream (as its constructor did)."""
        lib.lc_module_reset_parameters(self.handle)

    def output_shape(self, shape):
        """The result's shape for an input shape, or the library's ValueError naming the module."""
        out_shape = self.shapes.get(shape)
        if out_shape is None:
            out = _lib.Shape()
            check(lib.lc_module_output_shape(self.handle, c_shape(shape), ctypes.byref(out)))
            out_shape = self.shapes[shape] = tuple(out.dim[i] for i in range(out.rank))
        return out_shape

    def __del__(self):
        if not _shutting_down[0] and self.handle:
            lib.lc_module_free(self.handle)
            self.handle = None


def parse_module(text):
    """A new lc_module handle from model-spec text (one call, or several for a Sequential);
    the caller owns it. A value of the wrong kind is the parser's message as TypeError, a bad
    value the constructor's as ValueError."""
    handle = ctypes.c_void_p()
    status = lib.lc_model_parse(text.encode(), b"lucid_c", ctypes.byref(handle))
    if status == _lib.OK:
        return handle
    message = (lib.lc_last_error() or b"").decode(errors="replace")
    # "lucid_c:1:14: AvgPool1d: kernel_size must be an integer, got 3.0": the place is in text
    # this package wrote, not the user's; keep what and why.
    if message.startswith("lucid_c:"):
        message = message.split(": ", 1)[-1]
    if status == _lib.ERR_PARSE:
        raise TypeError(message)
    if status == _lib.ERR_NOMEM:
        raise MemoryError(message)
    if status in (_lib.ERR_INVALID_ARG, _lib.ERR_SHAPE, _lib.ERR_UNSUPPORTED):
        raise ValueError(message)
    raise RuntimeError(message)


def _chain_graph(chain, dtype, shape):
    """A graph of the chain applied to one input x, built module by module
    (lc_module_forward_inputs), so that no module is built again (a Linear's constructor would
    draw from the random stream). Its inputs, in order: x, then for each call in chain order
    its extra data inputs (MSELoss's target, of the shape the call's input has) and its
    parameters (lc_module_param_at order), named "<position>.<name>" ("2.weight")."""
    graph = ctypes.c_void_p()
    check(lib.lc_graph_new(ctypes.byref(graph)))
    try:
        node = ctypes.c_int()
        check(lib.lc_input(graph, b"x", c_dtype(dtype), c_shape(shape), ctypes.byref(node)))
        y, y_shape = node.value, tuple(shape)
        for position, m in enumerate(chain):
            xs = (ctypes.c_int * m.n_inputs)(y)
            for j in range(1, m.n_inputs):
                name = ("%d.target" % position if j == 1 else "%d.input%d" % (position, j)).encode()
                check(lib.lc_input(graph, name, c_dtype(dtype), c_shape(y_shape), ctypes.byref(node)))
                xs[j] = node.value
            first = lib.lc_graph_input_count(graph)
            check(lib.lc_module_forward_inputs(m.handle, graph, xs, m.n_inputs, ctypes.byref(node)))
            added = lib.lc_graph_input_count(graph) - first
            if added != len(m.param_names):
                raise RuntimeError("lucid_c: %s added %d graph inputs for %d parameters"
                                   % (m.text, added, len(m.param_names)))
            for k, name in enumerate(m.param_names):
                check(lib.lc_graph_set_name(graph, lib.lc_graph_input(graph, first + k),
                                            ("%d.%s" % (position, name)).encode()))
            y, y_shape = node.value, m.output_shape(y_shape)
        check(lib.lc_graph_add_output(graph, y))
    except BaseException:
        lib.lc_graph_free(graph)
        raise
    return graph


def chain_program(key, chain):
    """The program for `key` = (the chain's texts, dtype, input shape, wrt): compiled on first
    use, then found in the table. wrt is False for the forward alone, else a tuple of flags,
    one per graph input (see _chain_graph), marking those whose gradient the program gives."""
    program = _PROGRAMS.get(key)
    if program is None:
        _, dtype, shape, wrt = key
        graph = _chain_graph(chain, dtype, shape)
        try:
            program = Program(graph, wrt if wrt is not False else None)
        finally:
            lib.lc_graph_free(graph)
        _PROGRAMS[key] = program
    return program


def max_pool_indices(cmodule, array, two_d):
    """PyTorch's return_indices of a MaxPool1d/MaxPool2d module on a C-contiguous array: an
    int64 array of the output's shape. The compiled program gives each window's chosen
    coordinates (lc_module_graph_indices), the library the flat index within each plane."""
    key = ("indices", cmodule.text, array.dtype, array.shape)
    program = _PROGRAMS.get(key)
    if program is None:
        graph = ctypes.c_void_p()
        check(lib.lc_module_graph_indices(cmodule.handle, c_dtype(array.dtype), c_shape(array.shape),
                                          ctypes.byref(graph)))
        try:
            program = Program(graph)
        finally:
            lib.lc_graph_free(graph)
        _PROGRAMS[key] = program
    out_shape = cmodule.output_shape(array.shape)
    n = 2 if two_d else 1
    outs = [empty(out_shape, array.dtype) for _ in range(1 + n)]
    program.run([array], outs)
    indices = np.empty(out_shape, dtype=np.int64)
    coords = [view(o) for o in outs[1:]]
    ptrs = (ctypes.POINTER(_lib.CTensor) * n)(*[ctypes.pointer(c) for c in coords])
    check(lib.lc_maxpool_indices(cmodule.handle, c_shape(array.shape), ptrs, n,
                                 indices.ctypes.data_as(ctypes.POINTER(ctypes.c_int64))))
    return indices


_PROGRAMS = {}
_run_into = lib.lc_program_run_into


def _at_exit():
    # Programs and modules live until the interpreter ends; freeing them while Python tears
    # down its modules could run after the library's own destructors.
    _shutting_down[0] = True


import atexit  # noqa: E402

atexit.register(_at_exit)
