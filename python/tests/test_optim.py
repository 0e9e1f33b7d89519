"""optim.SGD with torch.optim.SGD's whole argument set (momentum, dampening, weight_decay,
nesterov, maximize) and parameter groups, step by step against PyTorch 1.13 from the same
weights and gradients."""
import numpy as np
import pytest

import lucid_c as lucid
import lucid_c.nn as nn
from lucid_c import Tensor

torch = pytest.importorskip("torch")

OPTIONS = [
    dict(lr=0.1),
    dict(lr=0.1, momentum=0.9),
    dict(lr=0.05, momentum=0.9, dampening=0.3),
    dict(lr=0.05, momentum=0.7, dampening=-0.5, weight_decay=0.01),  # PyTorch takes any dampening
    dict(lr=0.05, momentum=0.9, nesterov=True),
    dict(lr=0.05, momentum=0.8, weight_decay=0.02, nesterov=True, maximize=True),
    dict(lr=0.2, weight_decay=0.1, maximize=True),
    dict(lr=0.05, momentum=0.5, dampening=1.0, maximize=True),
]


def _ids(options):
    return "-".join("%s=%s" % kv for kv in sorted(options.items()))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("options", OPTIONS, ids=[_ids(o) for o in OPTIONS])
def test_sgd_steps_match_torch(options, dtype):
    # gradients given by hand (a different one each step), so the update alone is compared
    rng = np.random.default_rng(5)
    w0 = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    grads = [[rng.standard_normal(w.shape) for w in w0] for _ in range(5)]
    params = [nn.Parameter(w, dtype=dtype) for w in w0]
    tparams = [torch.tensor(w.astype(dtype), requires_grad=True) for w in w0]
    opt = lucid.optim.SGD(params, **options)
    topt = torch.optim.SGD(tparams, **options)
    rtol = 1e-6 if dtype == "float32" else 1e-13
    for step_grads in grads:
        for p, tp, g in zip(params, tparams, step_grads):
            p.grad = Tensor(g, dtype=dtype)
            tp.grad = torch.tensor(g.astype(dtype))
        opt.step()
        topt.step()
        for p, tp in zip(params, tparams):
            np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=rtol, atol=rtol)


def test_param_groups_and_changed_options_match_torch():
    rng = np.random.default_rng(6)
    a, b, c = rng.standard_normal(4), rng.standard_normal((2, 2)), rng.standard_normal(3)
    mine = [nn.Parameter(v, dtype=lucid.float64) for v in (a, b, c)]
    theirs = [torch.tensor(v, requires_grad=True) for v in (a, b, c)]

    def groups(ps):
        return [{"params": [ps[0]]},
                {"params": [ps[1], ps[2]], "lr": 0.3, "momentum": 0.5, "dampening": 0.2}]

    opt = lucid.optim.SGD(groups(mine), lr=0.1, momentum=0.9, weight_decay=0.01)
    topt = torch.optim.SGD(groups(theirs), lr=0.1, momentum=0.9, weight_decay=0.01)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.3]
    assert opt.param_groups[1]["weight_decay"] == 0.01 and opt.param_groups[1]["dampening"] == 0.2
    for step in range(6):
        if step == 3:  # a schedule: every group's lr halves
            for g in opt.param_groups + topt.param_groups:
                g["lr"] *= 0.5
        for k, (p, tp) in enumerate(zip(mine, theirs)):
            if step == 1 and k == 2:  # a parameter without a gradient is left alone this step
                p.grad, tp.grad = None, None
                continue
            g = rng.standard_normal(p.shape)
            p.grad, tp.grad = Tensor(g, dtype=lucid.float64), torch.tensor(g)
        opt.step()
        topt.step()
        for p, tp in zip(mine, theirs):
            np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-13, atol=1e-14)


def test_seed_model_trains_with_nesterov_as_torch():
    # the whole loop: forward, MSELoss, compiled backward, SGD (nesterov, weight decay)
    lucid.random.seed(3)
    model = nn.Sequential(nn.Conv1d(1, 1, 3, stride=1, padding=1), nn.AvgPool1d(2, 2), nn.Linear(2, 1))
    tmodel = torch.nn.Sequential(torch.nn.Conv1d(1, 1, 3, stride=1, padding=1), torch.nn.AvgPool1d(2, 2),
                                 torch.nn.Linear(2, 1))
    tmodel.load_state_dict({k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()})
    x = np.array([[[1.0, 2.0, 3.0, 4.0]], [[4.0, 3.0, 2.0, 1.0]]], dtype=np.float32)
    t = np.array([[[1.0]], [[-1.0]]], dtype=np.float32)
    kw = dict(lr=0.02, momentum=0.9, nesterov=True, weight_decay=1e-3)
    opt, topt = lucid.optim.SGD(model.parameters(), **kw), torch.optim.SGD(tmodel.parameters(), **kw)
    losses = []
    for _ in range(8):
        opt.zero_grad()
        loss = nn.MSELoss()(model(Tensor(x)), Tensor(t))
        loss.backward()
        opt.step()
        topt.zero_grad()
        tloss = torch.nn.functional.mse_loss(tmodel(torch.tensor(x)), torch.tensor(t))
        tloss.backward()
        topt.step()
        np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-5)
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    for name, v in model.state_dict().items():
        np.testing.assert_allclose(v.numpy(), tmodel.state_dict()[name].numpy(), rtol=1e-5, atol=1e-6)


def test_sgd_signature_is_torchs():
    p = nn.Parameter([1.0])
    opt = lucid.optim.SGD([p], 0.1, 0.9, 0.25, 0.01, False, maximize=True)  # PyTorch's order
    g = opt.param_groups[0]
    assert (g["lr"], g["momentum"], g["dampening"], g["weight_decay"], g["nesterov"], g["maximize"]) == \
        (0.1, 0.9, 0.25, 0.01, False, True)
    with pytest.raises(TypeError):
        lucid.optim.SGD([p], 0.1, 0.9, 0.25, 0.01, False, True)  # maximize is keyword-only
