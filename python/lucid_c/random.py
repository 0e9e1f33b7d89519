"""lucid_c.random: the library's one random stream, the same one C code and `lucidc run --seed`
draw from.

seed(n) restarts it (lc_random_seed); the same seed gives the same values on every run and
machine, in Python and in C alike: `lucid_c.random.seed(3); nn.Linear(4, 2)` holds the
weights `lc_random_seed(3)` then lc_linear_new gives, and `lucidc run --seed 3` uses. The
stream is SplitMix64 (lucid/random.h documents its exact arithmetic). Every draw of the
package goes through uniform() or standard_normal() below:

  uniform(lo, hi, shape)   lo + (hi - lo) * u for the stream's next values u in [0, 1)
  standard_normal(shape)   Box-Muller over pairs of the stream's uniforms: for each pair
                           (u1, u2), sqrt(-2 ln(1 - u1)) * cos(2 pi u2) (one value per pair)

Parameter initialisation (Linear, Conv1d) is drawn by the library itself, from this stream.
The stream is one process-wide counter: seed and draw from one thread when values must be
reproducible.
"""

import ctypes
import numbers

import numpy as np

from . import _lib

_fill = _lib.lib.lc_random_fill_uniform
_double_p = ctypes.POINTER(ctypes.c_double)


def seed(n):
    """Restart the library's stream at seed n (an integer, 0 <= n < 2**64)."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError("lucid_c.random.seed: the seed must be an integer, got %r" % (n,))
    if not 0 <= n < 2**64:
        raise ValueError("lucid_c.random.seed: the seed must be in [0, 2**64), got %r" % (n,))
    _lib.lib.lc_random_seed(int(n))


def get_state():
    """Where the stream is: seed(get_state()) later resumes it there (lc_random_state)."""
    return int(_lib.lib.lc_random_state())


def uniform(low, high, shape):
    """float64 samples of U(low, high) in an array of `shape`, the stream's next values in
    row-major order."""
    out = np.empty(shape, dtype=np.float64)
    if out.size:
        _fill(out.ctypes.data_as(_double_p), out.size, float(low), float(high))
    return out


def standard_normal(shape):
    """float64 samples of N(0, 1) in an array of `shape` (Box-Muller, two uniforms each)."""
    n = int(np.prod(shape, dtype=np.int64))
    u = uniform(0.0, 1.0, (n, 2))
    # 1 - u1 is in (0, 1]: the logarithm is finite.
    values = np.sqrt(-2.0 * np.log1p(-u[:, 0])) * np.cos(2.0 * np.pi * u[:, 1])
    return values.reshape(shape)
