"""Modules with parameters (Linear, Conv1d), MSELoss with two inputs and SGD, against PyTorch
(float64 forward and gradients, and the seed model trained with identical weights), the
library's random stream (an independent SplitMix64, and `lucidc run --seed`), and bad input."""
import os
import subprocess
import tempfile

import numpy as np
import pytest

import lucid_c as lucid
import lucid_c.nn as nn
from lucid_c import Tensor, _lib

torch = pytest.importorskip("torch")
from test_tensor import _splitmix_uniform01  # noqa: E402


def _copy_to_torch(module, tmodule):
    with torch.no_grad():
        names = [n for n, _ in tmodule.named_parameters()]
        assert [n for n, _ in module.named_parameters()] == names
        for (_, p), q in zip(module.named_parameters(), tmodule.parameters()):
            q.copy_(torch.from_numpy(p.numpy()))


def _check_vs_torch(module, tmodule, x0, seed_grad, rtol=1e-10):
    """Forward, input gradient and every parameter gradient in float64."""
    module.double()
    tmodule.double()
    _copy_to_torch(module, tmodule)
    x = Tensor(x0, requires_grad=True, dtype=lucid.float64)
    y = module(x)
    y.backward(Tensor(seed_grad, dtype=lucid.float64))
    tx = torch.tensor(x0, requires_grad=True)
    ty = tmodule(tx)
    ty.backward(torch.tensor(seed_grad))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=rtol, atol=1e-12)
    for (name, p), q in zip(module.named_parameters(), tmodule.parameters()):
        assert p.grad is not None, name
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=rtol, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4), (4,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(shape, bias):
    rng = np.random.default_rng(len(shape) + bias)
    x0 = rng.standard_normal(shape)
    g = rng.standard_normal(shape[:-1] + (3,))
    _check_vs_torch(nn.Linear(4, 3, bias=bias), torch.nn.Linear(4, 3, bias=bias), x0, g)


CONVS = [
    dict(in_channels=2, out_channels=3, kernel_size=3),
    dict(in_channels=2, out_channels=3, kernel_size=3, stride=2, padding=1),
    dict(in_channels=2, out_channels=4, kernel_size=2, padding="same"),
    dict(in_channels=2, out_channels=4, kernel_size=4, padding="same", dilation=2),
    dict(in_channels=2, out_channels=3, kernel_size=3, padding="valid", stride=3),
    dict(in_channels=2, out_channels=3, kernel_size=3, dilation=2, padding=2),
    dict(in_channels=4, out_channels=6, kernel_size=3, groups=2, padding=1),
    dict(in_channels=4, out_channels=4, kernel_size=2, groups=4, bias=False),
    dict(in_channels=2, out_channels=3, kernel_size=3, bias=False, stride=2),
]


@pytest.mark.parametrize("kwargs", CONVS, ids=[str(i) for i in range(len(CONVS))])
@pytest.mark.parametrize("batched", [True, False])
def test_conv1d_matches_torch(kwargs, batched):
    rng = np.random.default_rng(len(str(kwargs)))
    shape = (2, kwargs["in_channels"], 11) if batched else (kwargs["in_channels"], 11)
    m = nn.Conv1d(**kwargs)
    tm = torch.nn.Conv1d(**kwargs)
    with torch.no_grad():
        out_shape = tuple(tm(torch.zeros(shape)).shape)
    x0 = rng.standard_normal(shape)
    _check_vs_torch(m, tm, x0, rng.standard_normal(out_shape))


def test_float32_forward_and_grads_in_one_chain():
    rng = np.random.default_rng(4)
    m = nn.Sequential(nn.Conv1d(2, 3, 3, padding=1), nn.ReLU(), nn.AvgPool1d(2), nn.Linear(4, 2))
    tm = torch.nn.Sequential(torch.nn.Conv1d(2, 3, 3, padding=1), torch.nn.ReLU(), torch.nn.AvgPool1d(2),
                             torch.nn.Linear(4, 2))
    _copy_to_torch(m, tm)
    x0 = rng.standard_normal((3, 2, 8)).astype(np.float32)
    g = rng.standard_normal((3, 3, 2)).astype(np.float32)
    before = set(lucid._program._PROGRAMS)
    y = m(Tensor(x0))
    y.backward(g)
    keys = set(lucid._program._PROGRAMS) - before
    assert len(keys) <= 1  # the whole chain with its parameters: one program
    ty = tm(torch.from_numpy(x0))
    ty.backward(torch.from_numpy(g))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    for (name, p), q in zip(m.named_parameters(), tm.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-4, atol=1e-5, err_msg=name)
        assert p.grad.dtype is lucid.float32


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_mseloss_two_inputs_and_target_gradient(reduction):
    rng = np.random.default_rng(9)
    a0, b0 = rng.standard_normal((2, 3, 5)), rng.standard_normal((2, 3, 5))
    a = Tensor(a0, requires_grad=True, dtype=lucid.float64)
    b = Tensor(b0, requires_grad=True, dtype=lucid.float64)
    loss = nn.MSELoss(reduction=reduction)(a, b)
    ta, tb = torch.tensor(a0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    tl = torch.nn.MSELoss(reduction=reduction)(ta, tb)
    loss.backward()
    tl.backward()
    assert loss.shape == () and abs(loss.item() - tl.item()) <= 1e-12 * abs(tl.item())
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy(), rtol=1e-12)
    assert repr(nn.MSELoss(reduction=reduction)) == "MSELoss(reduction='%s')" % reduction


class AvgPool1dModel(nn.Module):
    """The seed's third model, written as the page writes it (corrected: Linear(2, 1))."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(1, 1, 3, stride=1, padding=1)
        self.pool = nn.AvgPool1d(2, 2)
        self.fc = nn.Linear(2, 1)

    def forward(self, x):
        return self.fc(self.pool(self.conv(x)))


@pytest.mark.parametrize("model_kind", ["sequential", "subclass"])
@pytest.mark.parametrize("momentum, weight_decay", [(0.0, 0.0), (0.9, 0.01)])
def test_seed_model_trains_as_torch(model_kind, momentum, weight_decay):
    lucid.random.seed(3)
    if model_kind == "sequential":
        model = nn.Sequential(nn.Conv1d(1, 1, 3, stride=1, padding=1), nn.AvgPool1d(2, 2), nn.Linear(2, 1))
        tmodel = torch.nn.Sequential(torch.nn.Conv1d(1, 1, 3, stride=1, padding=1), torch.nn.AvgPool1d(2, 2),
                                     torch.nn.Linear(2, 1))
    else:
        model = AvgPool1dModel()
        tmodel = torch.nn.Module()
        tmodel.conv, tmodel.pool, tmodel.fc = (torch.nn.Conv1d(1, 1, 3, stride=1, padding=1),
                                               torch.nn.AvgPool1d(2, 2), torch.nn.Linear(2, 1))
        tmodel.forward = lambda x: tmodel.fc(tmodel.pool(tmodel.conv(x)))
    _copy_to_torch(model, tmodel)
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((8, 1, 4)).astype(np.float32)
    t0 = rng.standard_normal((8, 1, 1)).astype(np.float32)
    opt = lucid.optim.SGD(model.parameters(), lr=0.05, momentum=momentum, weight_decay=weight_decay)
    topt = torch.optim.SGD(tmodel.parameters(), lr=0.05, momentum=momentum, weight_decay=weight_decay)
    criterion, tcriterion = nn.MSELoss(), torch.nn.MSELoss()
    x, target = Tensor(x0), Tensor(t0)
    losses = []
    for _ in range(8):
        opt.zero_grad()
        loss = criterion(model(x), target)
        loss.backward()
        opt.step()
        topt.zero_grad()
        tloss = tcriterion(tmodel(torch.from_numpy(x0)), torch.from_numpy(t0))
        tloss.backward()
        topt.step()
        np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-5)
        losses.append(loss.item())
    for (name, p), q in zip(model.named_parameters(), tmodel.parameters()):
        np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=1e-5, atol=1e-7, err_msg=name)
    assert losses[-1] < 0.8 * losses[0]  # the loss falls


def test_sgd_updates_in_place_and_skips_parameters_without_grad():
    a = np.array([1.0, 2.0], dtype=np.float32)
    p = lucid.from_numpy(a)
    p.requires_grad = True
    q = nn.Parameter([5.0, 6.0], dtype=lucid.float64)
    opt = lucid.optim.SGD([p, q], lr=0.5, momentum=0.5)
    p.grad = Tensor([1.0, -1.0])
    opt.step()
    assert a.tolist() == [0.5, 2.5] and q.tolist() == [5.0, 6.0]
    q.grad = Tensor([2.0, 2.0], dtype=lucid.float64)
    opt.step()  # p: b = 0.5 * [1, -1] + [1, -1]; q: b = g (its first step)
    assert a.tolist() == [-0.25, 3.25] and q.tolist() == [4.0, 5.0]
    for kwargs, error in (({"lr": -1}, ValueError), ({"lr": "1"}, TypeError), ({"lr": 0.1, "nesterov": True}, ValueError),
                          ({"lr": 0.1, "momentum": float("nan")}, ValueError)):
        with pytest.raises(error):
            lucid.optim.SGD([p], **kwargs)
    with pytest.raises(ValueError):
        lucid.optim.SGD([], lr=0.1)


def test_parameters_state_dict_and_zero_grad():
    m = nn.Sequential(nn.Conv1d(2, 2, 3), nn.ReLU(), nn.Linear(3, 1, bias=False))
    assert [n for n, _ in m.named_parameters()] == ["0.weight", "0.bias", "2.weight"]
    assert all(p.requires_grad and p.dtype is lucid.float32 for p in m.parameters())
    assert [p.shape for p in m.parameters()] == [(2, 2, 3), (2,), (1, 3)]
    state = {k: np.full(v.shape, 0.5) for k, v in m.state_dict().items()}
    m.load_state_dict(state)
    x = lucid.ones(1, 2, 5)
    y = m(x)
    # conv: 0.5 * 6 + 0.5 = 3.5 everywhere, then relu, then 0.5 * 3 * 3.5
    assert y.tolist() == [[[5.25], [5.25]]]
    y.backward(lucid.ones(1, 2, 1))
    assert m[2].weight.grad.tolist() == [[7.0, 7.0, 7.0]]
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    with pytest.raises(ValueError):
        m.load_state_dict({"0.weight": np.zeros((2, 2, 3))})
    with pytest.raises(TypeError):
        m[0].weight = lucid.ones(2, 2, 3)  # a Parameter (or None) is expected
    m[0].weight = nn.Parameter(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match=r"weight must have shape \[2, 2, 3\]"):
        m(x)


def _expected_init(seed, shapes, fan_in):
    bound = 1.0 / np.sqrt(fan_in)
    n = sum(int(np.prod(s)) for s in shapes)
    u = -bound + 2 * bound * _splitmix_uniform01(seed, n)
    out, k = [], 0
    for s in shapes:
        size = int(np.prod(s))
        out.append(u[k:k + size].astype(np.float32).reshape(s))
        k += size
    return out


def test_initialisation_is_the_library_stream():
    lucid.random.seed(42)
    lin = nn.Linear(4, 3)
    conv = nn.Conv1d(4, 2, 3, groups=2)
    w, b = _expected_init(42, [(3, 4), (3,)], 4)
    assert lin.weight.numpy().tolist() == w.tolist() and lin.bias.numpy().tolist() == b.tolist()
    # the conv draws next, from where the Linear left the stream
    full = _expected_init(42, [(3, 4), (3,), (2, 2, 3), (2,)], 1)
    bound = 1.0 / np.sqrt(2 * 3)
    u = _splitmix_uniform01(42, 12 + 3 + 12 + 2)[15:]
    np.testing.assert_array_equal(conv.weight.numpy().ravel(), (-bound + 2 * bound * u[:12]).astype(np.float32))
    np.testing.assert_array_equal(conv.bias.numpy(), (-bound + 2 * bound * u[12:]).astype(np.float32))
    assert len(full) == 4
    lucid.random.seed(42)
    again = nn.Linear(4, 3)
    assert again.weight.tolist() == lin.weight.tolist()
    lin.reset_parameters()
    assert lin.weight.tolist() != w.tolist()


def _lucidc():
    path = os.path.join(os.path.dirname(os.path.realpath(_lib.lib._name)), "lucidc")
    return path if os.path.exists(path) else None


@pytest.mark.skipif(_lucidc() is None, reason="lucidc is not beside the library")
def test_same_seed_same_model_as_lucidc_run():
    spec = ["Conv1d(1, 2, 3, padding=1)", "AvgPool1d(2, 2)", "Linear(2, 3)"]
    x0 = np.random.default_rng(2).standard_normal((4, 1, 4)).astype(np.float32)
    with tempfile.TemporaryDirectory() as d:
        np.save(os.path.join(d, "x.npy"), x0)
        cmd = [_lucidc(), "run", "--input", os.path.join(d, "x.npy"), "--out", os.path.join(d, "y.npy"),
               "--seed", "17"]
        for s in spec:
            cmd += ["--module", s]
        subprocess.run(cmd, check=True, capture_output=True)
        expected = np.load(os.path.join(d, "y.npy"))
    lucid.random.seed(17)
    model = nn.Sequential(nn.Conv1d(1, 2, 3, padding=1), nn.AvgPool1d(2, 2), nn.Linear(2, 3))
    np.testing.assert_allclose(model(Tensor(x0)).numpy(), expected, rtol=1e-6, atol=1e-7)
    lucid.random.seed(18)
    other = nn.Sequential(nn.Conv1d(1, 2, 3, padding=1), nn.AvgPool1d(2, 2), nn.Linear(2, 3))
    assert not np.allclose(other(Tensor(x0)).numpy(), expected)


def test_bad_inputs_name_the_problem():
    lin = nn.Linear(4, 3)
    with pytest.raises(ValueError, match="Linear"):
        lin(lucid.ones(2, 5))
    with pytest.raises(ValueError, match="in_features"):
        nn.Linear(0, 3)
    with pytest.raises(TypeError):
        nn.Linear(4.0, 3)
    with pytest.raises(TypeError):
        lin([1.0, 2.0, 3.0, 4.0])
    conv = nn.Conv1d(2, 4, 3, groups=2)
    with pytest.raises(ValueError, match="Conv1d"):
        conv(lucid.ones(1, 3, 8))
    with pytest.raises(ValueError, match="Conv1d"):
        conv(lucid.ones(1, 2, 2))
    with pytest.raises(ValueError, match="groups"):
        nn.Conv1d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="padding"):
        nn.Conv1d(1, 1, 3, padding="full")
    with pytest.raises(ValueError, match="same"):
        nn.Conv1d(1, 1, 3, padding="same", stride=2)
    loss = nn.MSELoss()
    with pytest.raises(ValueError, match="target shape"):
        loss(lucid.ones(2, 3), lucid.ones(3, 2))
    with pytest.raises(TypeError, match="target"):
        loss(lucid.ones(2, 3), [[1.0] * 3] * 2)
    with pytest.raises(TypeError):
        loss(lucid.ones(2, 3))
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="none")


def test_a_layer_used_twice_and_a_target_from_the_same_layer():
    lin = nn.Linear(3, 3).double()
    tl = torch.nn.Linear(3, 3).double()
    _copy_to_torch(lin, tl)
    x0 = np.random.default_rng(0).standard_normal((2, 3))
    x = Tensor(x0, dtype=lucid.float64, requires_grad=True)
    loss = nn.MSELoss()(lin(lin(x)), lin(x))
    loss.backward()
    tx = torch.tensor(x0, requires_grad=True)
    tloss = torch.nn.MSELoss()(tl(tl(tx)), tl(tx))
    tloss.backward()
    assert abs(loss.item() - tloss.item()) <= 1e-12
    np.testing.assert_allclose(lin.weight.grad.numpy(), tl.weight.grad.numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(lin.bias.grad.numpy(), tl.bias.grad.numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_sgd_sees_pending_results_before_updating():
    lin = nn.Linear(2, 1)
    x = lucid.ones(1, 2)
    y = lin(x)  # pending: reads the weights as they are now
    lin.weight.grad = lucid.ones(1, 2)
    expected = x.numpy() @ lin.weight.numpy().T + lin.bias.numpy()
    lucid.optim.SGD([lin.weight], lr=1.0).step()  # moves every weight by -1
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(lin(x).numpy(), expected - 2.0, rtol=1e-6)
