"""Deferred module calls: a chain of calls compiles as one program when first read, is cached
by structure and shape, computes what eager calls would (against PyTorch float64), and never
reads memory that was handed out for writing after the call."""
import numpy as np
import pytest

import lucid_c as lucid
import lucid_c.nn as nn
from lucid_c import Tensor, _lazy, _program

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _keys():
    return set(_program._PROGRAMS)


def _new_keys(before):
    return sorted(_keys() - before, key=repr)


def test_chain_of_calls_is_one_program_and_matches_torch():
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 3, 30))
    a, b, c = nn.AvgPool1d(3, 1, 1), nn.LPPool1d(2, 2), nn.AvgPool1d(2, ceil_mode=True)
    before = _keys()
    y = c(b(a(Tensor(x, dtype=lucid.float64))))
    assert y.shape == (2, 3, 8) and _new_keys(before) == []  # nothing compiled or run yet
    got = y.numpy()
    keys = _new_keys(before)
    assert [k[0] for k in keys] == [(a._cmodule.text, b._cmodule.text, c._cmodule.text)]
    assert keys[0][2:] == ((2, 3, 30), False)
    ref = F.avg_pool1d(F.lp_pool1d(F.avg_pool1d(torch.tensor(x), 3, 1, 1).abs(), 2, 2), 2, ceil_mode=True)
    np.testing.assert_allclose(got, ref.numpy(), rtol=1e-12)
    # The same chain on the same shape: found, not compiled again; another shape: one more.
    before = _keys()
    np.testing.assert_allclose(c(b(a(Tensor(x, dtype=lucid.float64)))).numpy(), ref.numpy(), rtol=1e-12)
    assert _new_keys(before) == []
    c(b(a(Tensor(x[:, :, :20], dtype=lucid.float64)))).numpy()
    assert len(_new_keys(before)) == 1


def test_equal_modules_share_programs():
    x = Tensor(np.arange(16.0).reshape(1, 2, 8))
    nn.LPPool1d(2, 4)(x).numpy()
    before = _keys()
    assert nn.LPPool1d(2.0, 4, stride=4)(x).tolist() == nn.LPPool1d(2, 4)(x).tolist()
    assert _new_keys(before) == []


def test_reading_between_calls_splits_the_chain():
    x = Tensor(np.arange(8.0).reshape(1, 1, 8))
    a, b = nn.AvgPool1d(2, 1), nn.AvgPool1d(3, 1)
    y1 = a(x)
    assert y1.tolist() == [[[0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5]]]
    before = _keys()
    y2 = b(y1)
    assert y2.tolist() == [[[1.5, 2.5, 3.5, 4.5, 5.5]]]
    assert all(k[0] == (b._cmodule.text,) for k in _new_keys(before))


def test_unread_intermediate_is_computed_when_read_later():
    x = Tensor(np.arange(8.0).reshape(1, 1, 8))
    y1 = nn.AvgPool1d(2)(x)
    y2 = nn.LPPool1d(1, 2)(y1)
    assert y2.tolist() == [[[3.0, 11.0]]]
    assert y1._pending is not None  # fused away, not computed ...
    assert y1.tolist() == [[[0.5, 2.5, 4.5, 6.5]]]  # ... until asked for


def test_writes_through_the_package_wait_for_pending_readers():
    a = np.arange(8.0, dtype=np.float32).reshape(1, 1, 8)
    x = lucid.from_numpy(a)
    y = nn.AvgPool1d(8)(x)
    x.numpy()[...] = 0  # handed out for writing: y runs first, on the values it was called on
    assert y.item() == 3.5
    p = nn.Parameter(np.ones((1, 1, 4)))
    z = nn.AvgPool1d(4)(p * 1.0)  # through arithmetic: computed from p now
    w = nn.AvgPool1d(4)(p)         # on p's memory: deferred
    p.grad = Tensor(np.ones((1, 1, 4)))
    lucid.optim.SGD([p], lr=1.0).step()
    assert p.tolist() == [[[0.0, 0.0, 0.0, 0.0]]]
    assert z.item() == 1.0 and w.item() == 1.0
    m = nn.Module()
    m.p = p
    v = nn.AvgPool1d(4)(p)
    m.load_state_dict({"p": np.full((1, 1, 4), 5.0)})
    assert v.item() == 0.0 and nn.AvgPool1d(4)(p).item() == 5.0


def test_backward_of_a_pending_chain_runs_one_program():
    rng = np.random.default_rng(5)
    x0 = rng.standard_normal((2, 3, 16)) + 0.1
    seed = rng.standard_normal((2, 3, 4))
    x = Tensor(x0, requires_grad=True, dtype=lucid.float64)
    a, b = nn.AvgPool1d(3, 1, 1, count_include_pad=False), nn.LPPool1d(3, 4)
    before = _keys()
    y = b(a(x))
    y.backward(Tensor(seed, dtype=lucid.float64))
    keys = _new_keys(before)
    assert [(k[0], k[3]) for k in keys] == [((a._cmodule.text, b._cmodule.text), (True,))]  # x alone is differentiated
    tx = torch.tensor(x0, requires_grad=True)
    ty = F.lp_pool1d(F.avg_pool1d(tx, 3, 1, 1, count_include_pad=False).abs(), 3, 4)
    ty.backward(torch.tensor(seed))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-12)  # the same run's y
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    # A second backward through the now-computed y uses the compiled backward again.
    y.backward(Tensor(seed, dtype=lucid.float64))
    np.testing.assert_allclose(x.grad.numpy(), 2 * tx.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_gradient_through_loss_arithmetic_and_chain():
    rng = np.random.default_rng(8)
    x0 = rng.standard_normal((1, 2, 12))
    x = Tensor(x0, requires_grad=True, dtype=lucid.float64)
    y = nn.LPPool1d(2, 2)(nn.AvgPool1d(2, 1)(x))
    loss = ((y - 0.5) ** 2).mean()
    loss.backward()
    tx = torch.tensor(x0, requires_grad=True)
    tl = ((F.lp_pool1d(F.avg_pool1d(tx, 2, 1).abs(), 2, 2) - 0.5) ** 2).mean()
    tl.backward()
    np.testing.assert_allclose(loss.item(), tl.item(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_hand_made_leaf_in_a_chain_gets_its_gradient():
    x = Tensor(np.arange(8.0).reshape(1, 1, 8))
    h = nn.AvgPool1d(2)(x)  # pending, not tracked
    h.requires_grad = True  # now a leaf of its own
    y = nn.AvgPool1d(2)(h)
    y.backward(lucid.ones(1, 1, 2))
    assert h.tolist() == [[[0.5, 2.5, 4.5, 6.5]]]
    assert h.grad.tolist() == [[[0.5, 0.5, 0.5, 0.5]]]
    assert x.grad is None


def test_no_grad_inside_a_chain():
    x = Tensor(np.arange(8.0).reshape(1, 1, 8), requires_grad=True)
    with lucid.no_grad():
        h = nn.AvgPool1d(2)(x)
    y = nn.AvgPool1d(2)(h)
    assert not h.requires_grad and not y.requires_grad
    assert y.tolist() == [[[1.5, 5.5]]]


def test_long_chains_are_cut_into_bounded_programs():
    x = Tensor(np.arange(6.0).reshape(1, 1, 6))
    y = x
    for _ in range(3 * _lazy.CHAIN_MAX + 5):
        y = nn.AvgPool1d(1)(y)  # the identity
    before = _keys()
    assert y.tolist() == [[[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]]]
    assert all(len(k[0]) <= _lazy.CHAIN_MAX for k in _new_keys(before))


def test_errors_come_from_the_call_that_made_them():
    x = Tensor(np.ones((1, 1, 4)))
    y = nn.AvgPool1d(2)(x)  # (1, 1, 2)
    with pytest.raises(ValueError, match="LPPool1d"):
        nn.LPPool1d(2, 3)(y)
    assert y.tolist() == [[[1.0, 1.0]]]


def test_strided_input_runs_through_a_copy():
    a = np.arange(32.0, dtype=np.float32).reshape(1, 2, 16)[:, :, ::2]
    t = lucid.from_numpy(a)
    np.testing.assert_allclose(nn.AvgPool1d(2)(t).numpy(), (a[..., ::2] + a[..., 1::2]) / 2)
    assert np.shares_memory(t.numpy(), a)


def test_threads_reading_pending_results():
    import threading
    x = Tensor(np.arange(4096.0).reshape(4, 8, 128), dtype=lucid.float64)
    ref = nn.LPPool1d(2, 4)(nn.AvgPool1d(2)(x)).numpy().copy()
    shared = [nn.LPPool1d(2, 4)(nn.AvgPool1d(2)(x)) for _ in range(20)]
    errors = []

    def work():
        try:
            for y in shared:
                np.testing.assert_array_equal(y.numpy(), ref)
            for _ in range(20):
                np.testing.assert_array_equal(nn.LPPool1d(2, 4)(nn.AvgPool1d(2)(x)).numpy(), ref)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_a_dropped_output_is_reused_and_a_held_one_never_is():
    pool = nn.AvgPool1d(2)
    x = lucid.from_numpy(np.arange(8.0, dtype=np.float32).reshape(1, 1, 8))
    first = pool(x).numpy().ctypes.data
    assert pool(x).numpy().ctypes.data == first  # nothing held the first: its memory again
    kept = pool(x)                                 # held as a tensor
    view = pool(x).numpy()[0]                      # held through a view
    exported = np.from_dlpack(pool(x))             # held through DLPack
    torch = pytest.importorskip("torch")
    shared = torch.from_dlpack(pool(x))            # held by PyTorch alone
    z = pool(lucid.from_numpy(np.ones((1, 1, 8), dtype=np.float32))).numpy()
    assert z.tolist() == [[[1.0] * 4]]
    for held in (kept.numpy(), view, exported, shared.numpy()):
        assert held.reshape(-1).tolist() == [0.5, 2.5, 4.5, 6.5]
    addresses = {kept.numpy().ctypes.data, view.ctypes.data, exported.ctypes.data,
                 shared.numpy().ctypes.data, z.ctypes.data}
    assert len(addresses) == 5


def test_forward_backward_outputs_are_reused_only_when_dropped():
    pool = nn.AvgPool1d(2)
    xg = lucid.from_numpy(np.arange(8.0, dtype=np.float32).reshape(1, 1, 8))
    xg.requires_grad = True
    g = np.ones((1, 1, 4), dtype=np.float32)

    def step():
        xg.grad = None
        pool(xg).backward(g)
        return xg.grad.numpy().ctypes.data

    first = step()
    assert step() == first  # the last x.grad was dropped: its memory again
    held = xg.grad
    xg.grad = None
    y = pool(xg)
    y.backward(g * 2)
    assert held.tolist() == [[[0.5] * 8]] and xg.grad.tolist() == [[[1.0] * 8]]
    assert xg.grad.numpy().ctypes.data != held.numpy().ctypes.data
    assert y.tolist() == [[[0.5, 2.5, 4.5, 6.5]]]


def test_large_outputs_start_on_a_line_and_are_reused_only_when_dropped():
    # 256 KiB of output and more: the library may write it in whole 64-byte lines from its
    # start, so the package allocates it on a line (a view of a larger byte array, which a view of
    # the output holds rather than the output itself: held that way, it is never reused)
    n = _program._LINE_ALIGNED_MIN_BYTES // 4
    pool = nn.AvgPool1d(2)
    x = lucid.from_numpy(np.arange(2 * n, dtype=np.float32).reshape(1, 1, 2 * n) % 1024)
    y = pool(x).numpy()
    assert y.ctypes.data % 64 == 0 and y.shape == (1, 1, n)
    first = y.ctypes.data
    del y
    assert pool(x).numpy().ctypes.data == first  # nothing held the first: its memory again
    view = pool(x).numpy()[0, 0, 8:]              # held through a view of it
    z = pool(lucid.from_numpy(np.ones((1, 1, 2 * n), dtype=np.float32))).numpy()
    assert z.ctypes.data % 64 == 0 and z[0, 0, :4].tolist() == [1.0] * 4
    assert view[:4].tolist() == [16.5, 18.5, 20.5, 22.5]
    assert view.ctypes.data - 32 != z.ctypes.data
