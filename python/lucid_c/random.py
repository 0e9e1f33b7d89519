"""lucid_c.random: the generator behind lucid_c.randn.

seed(n) restarts it. It is NumPy's PCG64 seeded with n; it produces the same stream for the
same seed on every run and machine.
"""

import numbers

import numpy as np

_generator = [np.random.Generator(np.random.PCG64(0))]


def seed(n):
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError("lucid_c.random.seed: the seed must be an integer >= 0, got %r" % (n,))
    _generator[0] = np.random.Generator(np.random.PCG64(int(n)))


def generator():
    return _generator[0]
