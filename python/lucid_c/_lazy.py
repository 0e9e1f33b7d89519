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

A call's other tensors (a layer's parameters, MSELoss's target: its `extras`) are further
inputs of the chain's program, read when it runs; a pending result is a reader of them too,
so an in-place update of a parameter (SGD.step) first runs the results that read it.

Backward: a result computed from a tensor that requires grad (its source or an extra) gets
the chain's compiled backward (forward and backward in one program), from y straight to the
chain's source and every extra, differentiating only those that require grad. When
backward() is called on a result that has not run yet, that one program gives y and the
gradients together.
"""

from weakref import ref as _ref

import numpy as np

from . import _program

_programs = _program._PROGRAMS

# Longest chain compiled as one program: a longer chain runs as several, so compile time and
# the key's length stay bounded.
CHAIN_MAX = 16

# A tensor's readers are a plain list of weak references (cheaper per call than a WeakSet,
# and nothing to remove when a result runs: expose() skips results that hold data). When a
# list passes this length, the references to results that ran or died are dropped, so a
# tensor called 10,000 times and never written keeps a short list.
_READERS_PRUNE = 32


class Pending:
    """`module` applied to `source` (a Tensor, itself pending or not) and `extras` (the call's
    other tensors: MSELoss's target, a Linear's weight and bias, in the graph's order; see
    _program._chain_graph), not run yet."""

    __slots__ = ("module", "source", "extras", "tracked", "shape", "dtype", "depth")

    def __init__(self, module, source, extras, tracked, shape, dtype, depth):
        self.module = module
        self.source = source
        self.extras = extras
        self.tracked = tracked    # records a backward (grad mode on, an input requires grad)
        self.shape = shape
        self.dtype = dtype
        self.depth = depth        # pending calls in the chain up to here, this one included


def call(cmodule, x, new_tensor, grad_enabled, extras=()):
    """y = module(x, *extras), deferred. `new_tensor(pending, requires_grad)` makes the
    result. This and realize() are the per-call cost of a module: kept to a few dictionary
    lookups."""
    p = x._pending
    if p is not None and p.depth >= CHAIN_MAX:
        realize(x)
        p = None
    if p is None:
        a = x._array
        shape, dtype, depth = a.shape, a.dtype, 1
    else:
        shape, dtype, depth = p.shape, p.dtype, p.depth + 1
    out_shape = cmodule.shapes.get(shape)
    if out_shape is None:
        out_shape = cmodule.output_shape(shape)
    tracked = grad_enabled and (x.requires_grad or (extras != () and any(e.requires_grad for e in extras)))
    y = new_tensor(Pending(cmodule, x, extras, tracked, out_shape, dtype, depth), tracked)
    r = _ref(y)
    for t in (x,) + extras if extras else (x,):
        readers = t._readers
        if readers is None:
            t._readers = [r]
        else:
            readers.append(r)
            if len(readers) > _READERS_PRUNE:
                _prune(readers)
    return y


def _prune(readers):
    """Keep the references to results still pending (a reader list only grows otherwise)."""
    alive = []
    for r in readers:
        y = r()
        if y is not None and y._pending is not None:
            alive.append(r)
    readers[:] = alive


def _chain(p):
    """(the realized tensor the chain ending in call `p` starts from, the chain's Pending calls
    in call order)."""
    s = p.source
    if s._pending is None:
        return s, (p,)
    calls = [p]
    # A tracked result walks only through tracked calls: a pending tensor that the user marked
    # requires_grad by hand is a leaf of its own and must hold data before gradients reach it.
    while s._pending is not None and (s._pending.tracked or not p.tracked):
        calls.append(s._pending)
        s = s._pending.source
    if s._pending is not None:
        realize(s)
    calls.reverse()
    return s, tuple(calls)


def _inputs(a, calls):
    """The program's inputs: the chain's start `a`, then every call's extras in the chain's
    dtype (a float32 parameter of a float64 chain is read through a float64 copy)."""
    inputs = [a]
    dtype = a.dtype
    for c in calls:
        for e in c.extras:
            v = e._data
            if v.dtype != dtype or not v.flags.c_contiguous:
                v = np.asarray(v, dtype=dtype, order="C")
            inputs.append(v)
    return inputs


def _texts(calls):
    return calls[0].module.texts if len(calls) == 1 else tuple(c.module.text for c in calls)


def _grad_run(key, calls, inputs, parents, seed, y_shape):
    """Forward and backward of the chain in one program: (y, a gradient per parent, None for
    the parents key's wrt leaves out)."""
    wrt = key[3]
    program = _program.chain_program(key, tuple(c.module for c in calls))
    dtype = inputs[0].dtype
    outs = program.new_outputs([y_shape] + [v.shape for v, marked in zip(inputs, wrt) if marked], dtype)
    program.run(tuple(inputs) + (np.asarray(seed, dtype=dtype, order="C"),), outs)
    rest = iter(outs[1:])
    return outs[0], [next(rest) if marked else None for marked in wrt]


def _finish(t, p, start, calls, inputs, y, first=None):
    """t now holds y; a tracked t gets the chain's compiled backward, from t to `start` and
    to every call's extras. `first` = (seed, gradients) already computed for that seed.
    Threads that ran the same pending call at once (the C call releases the GIL) computed
    equal values: the first to finish is kept."""
    if t._pending is not p:
        return
    t._array = y
    t._pending = None
    if p.tracked:
        parents = (start,) + tuple(e for c in calls for e in c.extras)
        texts = _texts(calls)
        out_shape = y.shape
        cached = [first]

        def rule(g):
            done = cached[0]
            if done is not None:
                cached[0] = None
                if g is done[0]:
                    return done[1]
            wrt = tuple(q.requires_grad for q in parents)
            if not any(wrt):
                return (None,) * len(parents)
            key = (texts, inputs[0].dtype, inputs[0].shape, wrt)
            return _grad_run(key, calls, inputs, parents, g, out_shape)[1]

        t._parents = parents
        t._backward = rule


def realize(t):
    """Run the pending chain that ends at t as one compiled program; t keeps the result."""
    p = t._pending
    if p is None:
        return
    start = p.source
    if start._pending is None and not p.extras and not p.tracked:
        # The common repeated call, one module on data, forward only: a key, a lookup, the
        # output array and one C call.
        a = start._array
        if a.flags.c_contiguous:
            key = (p.module.texts, a.dtype, a.shape, False)
            program = _programs.get(key)
            if program is None:
                program = _program.chain_program(key, (p.module,))
            y = program.run_one(a, p.shape)
            if t._pending is p:
                t._array = y
                t._pending = None
            return
    start, calls = _chain(p)
    a = start._array
    if not a.flags.c_contiguous:
        a = np.asarray(a, order="C")
    inputs = _inputs(a, calls) if p.extras or len(calls) > 1 else [a]
    key = (_texts(calls), a.dtype, a.shape, False)
    program = _programs.get(key)
    if program is None:
        program = _program.chain_program(key, tuple(c.module for c in calls))
    y = _program.empty(p.shape, a.dtype)
    program.run(tuple(inputs), (y,))
    _finish(t, p, start, calls, inputs, y)


def realize_with_grad(t, seed):
    """Run t's pending chain forward and backward in one program, seeded with `seed` (t's
    shape and dtype): t keeps its value, and its backward rule, called next with this very
    seed, gives the gradients already computed."""
    p = t._pending
    start, calls = _chain(p)
    a = np.asarray(start._array, order="C")
    inputs = _inputs(a, calls)
    parents = (start,) + tuple(e for c in calls for e in c.extras)
    wrt = tuple(q.requires_grad for q in parents)
    if not any(wrt):  # requires_grad was switched off after the call: nothing to differentiate
        realize(t)
        return
    key = (_texts(calls), a.dtype, a.shape, wrt)
    y, grads = _grad_run(key, calls, inputs, parents, seed, p.shape)
    _finish(t, p, start, calls, inputs, y, first=(seed, grads))

def expose(t):
    """t's array, about to be handed out or written: every pending result that still reads t
    runs first, so it sees the values it was called on."""
    if t._pending is not None:
        realize(t)
    readers = t._readers
    if readers:
        t._readers = None
        for r in readers:
            y = r()
            if y is not None and y._pending is not None:
                realize(y)
    return t._array
