"""Deferred module calls: a chain of module calls runs as one fused program when first read.

`y = m(x)` checks x's shape against the module at once (a bad input fails at the call that
made it) but computes nothing: y records the call (a Pending) and its shape. When y is first
needed (numpy(), item(), printing, arithmetic, backward), the chain of pending calls that
ends at y, back to the first tensor that holds data, is compiled as one program (cached by
the chain's modules, dtype and shape) and run: `m2(m1(x))` is one compiled program, so its
layers fuse, whether or not they sit in a Sequential. As in tinygrad, a value that nothing
reads is never computed.

Memory shared with the caller: a pending result reads its source's memory when it runs, so
everything that hands that memory out for writing first runs the pending results that read
it (expose(): numpy(), __dlpack__, detach(), SGD's and load_state_dict's in-place updates,
gradient accumulation). A write through another alias of the memory (the array given to
from_numpy, a PyTorch tensor given to from_dlpack) is not seen by this package: read a
result (or call realize()) before such a write if it must see the old values.

Backward: a result computed from a tensor that requires grad gets the chain's compiled
backward (forward and backward in one program), from y straight to the chain's source. When
backward() is called on a result that has not run yet, that one program gives y and the
input gradient together.
"""

import weakref

import numpy as np

from . import _program

_programs = _program._PROGRAMS

# Longest chain compiled as one program: a longer chain runs as several, so compile time and
# the key's length stay bounded.
CHAIN_MAX = 16


class Pending:
    """`module` applied to `source` (a Tensor, itself pending or not), not run yet."""

    __slots__ = ("module", "source", "tracked", "shape", "dtype", "depth")

    def __init__(self, module, source, tracked, shape, dtype, depth):
        self.module = module
        self.source = source
        self.tracked = tracked    # records a backward (grad mode on, source requires grad)
        self.shape = shape
        self.dtype = dtype
        self.depth = depth        # pending calls in the chain up to here, this one included


def call(cmodule, x, new_tensor, grad_enabled):
    """y = module(x), deferred. `new_tensor(pending, requires_grad)` makes the result. This
    and realize() are the per-call cost of a module: kept to a few dictionary lookups."""
    p = x._pending
    if p is not None and p.depth >= CHAIN_MAX:
        realize(x)
        p = None
    if p is None:
        a = x._array
        shape, dtype, depth = a.shape, a.dtype, 1
    else:
        shape, dtype, depth = p.shape, p.dtype, p.depth + 1
    out_shape = cmodule.output_shape(shape)
    tracked = grad_enabled and x.requires_grad
    y = new_tensor(Pending(cmodule, x, tracked, out_shape, dtype, depth), tracked)
    readers = x._readers
    if readers is None:
        readers = x._readers = weakref.WeakSet()
    readers.add(y)
    return y


def _chain(p):
    """(the realized tensor the chain ending in call `p` starts from, the chain's CModules in
    call order)."""
    s = p.source
    if s._pending is None:
        return s, (p.module,)
    chain = [p.module]
    # A tracked result walks only through tracked calls: a pending tensor that the user marked
    # requires_grad by hand is a leaf of its own and must hold data before gradients reach it.
    while s._pending is not None and (s._pending.tracked or not p.tracked):
        chain.append(s._pending.module)
        s = s._pending.source
    if s._pending is not None:
        realize(s)
    chain.reverse()
    return s, tuple(chain)


def _finish(t, p, start, chain, a, y):
    """t now holds y; a tracked t gets the chain's compiled backward, from t to `start`.
    Threads that ran the same pending call at once (the C call releases the GIL) computed
    equal values: the first to finish is kept."""
    if t._pending is not p:
        return
    t._array = y
    t._pending = None
    readers = p.source._readers
    if readers is not None:
        readers.discard(t)
    if p.tracked:
        texts = tuple(m.text for m in chain)
        key = (texts, a.dtype, a.shape, True)
        out_shape = y.shape

        def rule(g):
            program = _program.chain_program(key, chain)
            y_again = np.empty(out_shape, dtype=a.dtype)
            dx = np.empty(a.shape, dtype=a.dtype)
            program.run((a, np.asarray(g, dtype=a.dtype, order="C")), (y_again, dx))
            return (dx,)

        t._parents = (start,)
        t._backward = rule


def realize(t):
    """Run the pending chain that ends at t as one compiled program; t keeps the result."""
    p = t._pending
    if p is None:
        return
    start, chain = _chain(p)
    a = start._array
    if not a.flags.c_contiguous:
        a = np.asarray(a, order="C")
    key = (chain[0].texts if len(chain) == 1 else tuple(m.text for m in chain), a.dtype, a.shape, False)
    program = _programs.get(key)
    if program is None:
        program = _program.chain_program(key, chain)
    y = np.empty(p.shape, dtype=a.dtype)
    program.run((a,), (y,))
    _finish(t, p, start, chain, a, y)


def realize_with_grad(t, seed):
    """Run t's pending chain forward and backward in one program, seeded with `seed` (t's
    shape and dtype): t keeps its value; returns (the chain's start, d(seed·t)/d start)."""
    p = t._pending
    start, chain = _chain(p)
    a = np.asarray(start._array, order="C")
    key = (tuple(m.text for m in chain), a.dtype, a.shape, True)
    y = np.empty(p.shape, dtype=a.dtype)
    dx = np.empty(a.shape, dtype=a.dtype)
    _program.chain_program(key, chain).run((a, seed), (y, dx))
    _finish(t, p, start, chain, a, y)
    return start, dx


def expose(t):
    """t's array, about to be handed out or written: every pending result that still reads t
    runs first, so it sees the values it was called on."""
    if t._pending is not None:
        realize(t)
    readers = t._readers
    if readers is not None and len(readers):
        for y in list(readers):
            if y._pending is not None:
                realize(y)
        readers.clear()
    return t._array
