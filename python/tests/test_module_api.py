"""Module, Sequential, parameters, state_dict and SGD (against torch.optim.SGD)."""
import numpy as np
import pytest

import lucid_c as lucid
import lucid_c.nn as nn
from lucid_c import Tensor


class Scaled(nn.Module):
    def __init__(self):
        super().__init__()
        self.pool = nn.AvgPool1d(2)
        self.scale = nn.Parameter([[[2.0]]])

    def forward(self, x):
        return self.pool(x) * self.scale


def test_module_registers_children_and_parameters():
    m = Scaled()
    assert [n for n, _ in m.named_parameters()] == ["scale"]
    outer = nn.Sequential(m, nn.LPPool1d(2, 2))
    assert [n for n, _ in outer.named_parameters()] == ["0.scale"]
    assert list(outer.state_dict()) == ["0.scale"]
    assert repr(outer) == (
        "Sequential(\n"
        "  (0): Scaled(\n"
        "    (pool): AvgPool1d(kernel_size=2, stride=2, padding=0, ceil_mode=False, count_include_pad=True)\n"
        "  )\n"
        "  (1): LPPool1d(norm_type=2, kernel_size=2, stride=2, ceil_mode=False)\n"
        ")")
    outer.load_state_dict({"0.scale": np.array([[[3.0]]])})
    assert m.scale.tolist() == [[[3.0]]]
    with pytest.raises(KeyError):
        outer.load_state_dict({"scale": np.array([[[3.0]]])})
    with pytest.raises(ValueError):
        outer.load_state_dict({"0.scale": np.zeros(2)})
    assert outer.eval().training is False and m.training is False


def test_parameter_gradient_and_sgd_match_torch():
    torch = pytest.importorskip("torch")
    x = np.arange(8.0, dtype=np.float32).reshape(1, 1, 8)
    m = Scaled()
    ts = torch.tensor([[[2.0]]], requires_grad=True)
    opt = lucid.optim.SGD(m.parameters(), lr=0.01, momentum=0.9, weight_decay=0.1)
    topt = torch.optim.SGD([ts], lr=0.01, momentum=0.9, weight_decay=0.1)
    for _ in range(5):
        opt.zero_grad()
        loss = ((m(Tensor(x)) - 1.0) ** 2).mean()
        loss.backward()
        opt.step()
        topt.zero_grad()
        tloss = ((torch.nn.functional.avg_pool1d(torch.tensor(x), 2) * ts - 1.0) ** 2).mean()
        tloss.backward()
        topt.step()
        np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-5)
        np.testing.assert_allclose(m.scale.numpy(), ts.detach().numpy(), rtol=1e-5)


def test_sgd_bad_arguments():
    with pytest.raises(ValueError):
        lucid.optim.SGD([Tensor([1.0], requires_grad=True)], lr=-1)
    with pytest.raises(TypeError):
        lucid.optim.SGD([1.0], lr=0.1)


def test_version_and_threads():
    assert lucid.__version__.count(".") == 2
    n = lucid.get_num_threads()
    lucid.set_num_threads(1)
    y1 = nn.LPPool1d(2, 4)(lucid.ones(2, 64, 4096)).numpy().copy()
    lucid.set_num_threads(2)
    y2 = nn.LPPool1d(2, 4)(lucid.ones(2, 64, 4096)).numpy()
    assert (y1 == y2).all()
    lucid.set_num_threads(n)
