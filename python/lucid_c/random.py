"""lucid_c.random: the one generator behind every random number the package draws.

seed(n) restarts it; the same seed gives the same stream on every run and machine. Every draw
(randn today; parameter initialisation when modules have parameters) goes through
standard_normal() or uniform() below, which ask the stream named by _STREAM. Today that is
NumPy's PCG64 seeded with n; to draw from the library's own documented generator instead
(the stream the C API and the command line's --seed use), _STREAM names a class with the same
two methods over it: one line, and nothing else in the package changes.
"""

import numbers

import numpy as np


class _NumPyStream:
    """NumPy's PCG64, seeded with n."""

    def __init__(self, n):
        self._generator = np.random.Generator(np.random.PCG64(n))

    def standard_normal(self, shape):
        return self._generator.standard_normal(shape)

    def uniform(self, low, high, shape):
        return self._generator.uniform(low, high, shape)


_STREAM = _NumPyStream  # the one place that says where random numbers come from
_current = [_STREAM(0)]


def seed(n):
    """Restart the generator from seed n (an integer, 0 <= n < 2**64)."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or not 0 <= n < 2**64:
        raise ValueError("lucid_c.random.seed: the seed must be an integer in [0, 2**64), got %r" % (n,))
    _current[0] = _STREAM(int(n))


def standard_normal(shape):
    """float64 samples of N(0, 1) in an array of `shape`."""
    return _current[0].standard_normal(shape)


def uniform(low, high, shape):
    """float64 samples of U(low, high) in an array of `shape`."""
    return _current[0].uniform(low, high, shape)
