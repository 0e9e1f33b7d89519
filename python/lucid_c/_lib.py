"""The shared library and its C signatures (ctypes), and how its errors become Python's.

Where the library is found, first hit wins:
  1. the path in LUCID_LIBRARY;
  2. liblucid.so beside this package (an installed or copied tree);
  3. build/liblucid.so of the repository this package sits in (after the README's build);
  4. an installed liblucid.so.0 under the prefix this package is installed in
     (PREFIX/lib/python3/dist-packages/lucid_c -> PREFIX/lib*/[multiarch/]liblucid.so.0);
  5. liblucid.so.0 through the dynamic loader's own search.
"""

import ctypes
import glob
import os

_HERE = os.path.dirname(os.path.abspath(__file__))
_NAME = "liblucid.so"


def _candidates():
    env = os.environ.get("LUCID_LIBRARY")
    if env:
        yield env
        return
    yield os.path.join(_HERE, _NAME)
    yield os.path.join(os.path.dirname(os.path.dirname(_HERE)), "build", _NAME)
    prefix = os.path.abspath(os.path.join(_HERE, "..", "..", "..", ".."))
    for pattern in ("lib*/" + _NAME + ".0", "lib*/*/" + _NAME + ".0"):
        yield from sorted(glob.glob(os.path.join(prefix, pattern)))
    yield _NAME + ".0"


def _load():
    tried = []
    for path in _candidates():
        if os.sep in path and not os.path.exists(path):
            tried.append(path + " (missing)")
            continue
        try:
            return ctypes.CDLL(path)
        except OSError as e:
            tried.append("%s (%s)" % (path, e))
    raise ImportError("lucid_c: cannot load the Lucid library; set LUCID_LIBRARY to its path. "
                      "Tried: " + "; ".join(tried))


lib = _load()

# ---- the C types this package touches --------------------------------------------------------

MAX_RANK = 6
F32, F64 = 0, 1  # lc_dtype

# lc_status
OK, ERR_INVALID_ARG, ERR_SHAPE, ERR_PARSE, ERR_IO, ERR_UNSUPPORTED, ERR_NOMEM, ERR_JIT, ERR_INTERNAL = range(9)

# lc_arg_kind: the kinds this package checks itself. A kind the library adds later (an int
# pair, a string) still works: its values pass through as Python literals to the library's
# model-spec parser, which judges them (see nn._call_text).
ARG_INT, ARG_REAL, ARG_BOOL = range(3)


class Shape(ctypes.Structure):
    _fields_ = [("rank", ctypes.c_int), ("dim", ctypes.c_int64 * MAX_RANK)]


class CTensor(ctypes.Structure):
    """lc_tensor: a view of memory this package owns (a NumPy array). It is never passed to
    lc_tensor_free: the library only reads and writes `data` during a call."""
    _fields_ = [("dtype", ctypes.c_int), ("shape", Shape), ("data", ctypes.c_void_p),
                ("requires_grad", ctypes.c_bool), ("grad", ctypes.c_void_p),
                ("grad_fn", ctypes.c_void_p)]


# These two mirror lc_arg_info and lc_module_info of lucid/nn.h field for field (ctypes steps
# through the args array by this size): a field added there is added here.
class ArgInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("kind", ctypes.c_int), ("required", ctypes.c_bool),
                ("none_ok", ctypes.c_bool), ("default_text", ctypes.c_char_p)]


class ModuleInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("summary", ctypes.c_char_p), ("n_args", ctypes.c_int),
                ("args", ctypes.POINTER(ArgInfo)), ("n_inputs", ctypes.c_int)]


_p = ctypes.c_void_p
_pp = ctypes.POINTER(ctypes.c_void_p)


def _sig(name, restype, *argtypes):
    fn = getattr(lib, name)
    fn.restype = restype
    fn.argtypes = list(argtypes)
    return fn


_sig("lc_last_error", ctypes.c_char_p)
_sig("lc_version", ctypes.c_char_p)
_sig("lc_module_info_count", ctypes.c_int)
_sig("lc_module_info_at", ctypes.POINTER(ModuleInfo), ctypes.c_int)
_sig("lc_model_parse", ctypes.c_int, ctypes.c_char_p, ctypes.c_char_p, _pp)
_sig("lc_model_parse_call", ctypes.c_int, ctypes.c_char_p, ctypes.c_char_p, _pp)
_sig("lc_module_free", None, _p)
_sig("lc_module_repr", ctypes.c_int, _p, _pp)
_sig("lc_module_output_shape", ctypes.c_int, _p, Shape, ctypes.POINTER(Shape))
_sig("lc_module_graph", ctypes.c_int, _p, ctypes.c_int, Shape, _pp)
_sig("lc_module_graph_indices", ctypes.c_int, _p, ctypes.c_int, Shape, _pp)
_sig("lc_maxpool_indices", ctypes.c_int, _p, Shape, ctypes.POINTER(ctypes.POINTER(CTensor)), ctypes.c_int,
     ctypes.POINTER(ctypes.c_int64))
_sig("lc_graph_free", None, _p)
_sig("lc_pipeline_run_default", ctypes.c_int, _p, ctypes.c_bool, _p, _pp)
_sig("lc_compile", ctypes.c_int, _p, _p, _pp)
_sig("lc_program_free", None, _p)
_sig("lc_program_run_into", ctypes.c_int, _p, ctypes.POINTER(ctypes.POINTER(CTensor)), ctypes.c_int,
     ctypes.POINTER(ctypes.POINTER(CTensor)), ctypes.c_int)
_sig("lc_runtime_set_threads", ctypes.c_int, ctypes.c_int)
_sig("lc_runtime_threads", ctypes.c_int)
_sig("lc_tensor_format_values", ctypes.c_int, ctypes.POINTER(CTensor), _pp)
# parameters and multi-input graphs
_sig("lc_module_param_count", ctypes.c_int, _p)
_sig("lc_module_param_at", ctypes.c_int, _p, ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t,
     ctypes.POINTER(ctypes.POINTER(CTensor)))
_sig("lc_module_reset_parameters", None, _p)
_sig("lc_module_input_count", ctypes.c_int, _p)
_sig("lc_module_forward_inputs", ctypes.c_int, _p, _p, ctypes.POINTER(ctypes.c_int), ctypes.c_int,
     ctypes.POINTER(ctypes.c_int))
_sig("lc_graph_new", ctypes.c_int, _pp)
_sig("lc_graph_input_count", ctypes.c_int, _p)
_sig("lc_graph_input", ctypes.c_int, _p, ctypes.c_int)
_sig("lc_graph_add_output", ctypes.c_int, _p, ctypes.c_int)
_sig("lc_graph_set_name", ctypes.c_int, _p, ctypes.c_int, ctypes.c_char_p)
_sig("lc_input", ctypes.c_int, _p, ctypes.c_char_p, ctypes.c_int, Shape, ctypes.POINTER(ctypes.c_int))
_sig("lc_mul", ctypes.c_int, _p, ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_int))
_sig("lc_add", ctypes.c_int, _p, ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_int))
_sig("lc_sum", ctypes.c_int, _p, ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_int))
_sig("lc_autodiff", ctypes.c_int, _p, ctypes.POINTER(ctypes.c_int), ctypes.c_int,
     ctypes.POINTER(ctypes.c_int), ctypes.c_int, _pp)
_sig("lc_sgd_graph", ctypes.c_int, _p, ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.c_int,
     ctypes.c_void_p, _pp)
# the random stream
_sig("lc_random_seed", None, ctypes.c_uint64)
_sig("lc_random_state", ctypes.c_uint64)
_sig("lc_random_fill_uniform", None, ctypes.POINTER(ctypes.c_double), ctypes.c_int64,
     ctypes.c_double, ctypes.c_double)


class SGDOptions(ctypes.Structure):
    """lc_sgd_options of lucid/train.h."""
    _fields_ = [("lr", ctypes.c_double), ("momentum", ctypes.c_double),
                ("weight_decay", ctypes.c_double), ("dampening", ctypes.c_double),
                ("nesterov", ctypes.c_bool), ("maximize", ctypes.c_bool)]

# Strings the library mallocs and hands over are freed with the C library's free().
_libc = ctypes.CDLL(None)
_libc.free.argtypes = [ctypes.c_void_p]
_libc.free.restype = None


def take_string(ptr):
    """Copy a malloc'd C string (a c_void_p filled by the library) into Python and free it."""
    try:
        return ctypes.string_at(ptr.value).decode()
    finally:
        _libc.free(ptr.value)


def check(status):
    """Raise the library's last message as the Python exception that fits its status."""
    if status == OK:
        return
    message = (lib.lc_last_error() or b"").decode(errors="replace")
    if status == ERR_NOMEM:
        raise MemoryError(message)
    if status in (ERR_INVALID_ARG, ERR_SHAPE, ERR_PARSE, ERR_UNSUPPORTED):
        raise ValueError(message)
    raise RuntimeError(message)
