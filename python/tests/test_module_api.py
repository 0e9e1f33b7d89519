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
    with pytest.raises(ValueError, match=r"missing \['0.scale'\], unexpected \['scale'\]"):
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


def test_arguments_pass_to_the_library_as_literals():
    # Kinds this package does not know (a pair, a string: what 2-D pools and Conv1d's padding
    # need) are written as Python literals for the library's own parser to judge.
    spec = [("kernel_size", 99, True, False, None), ("stride", 99, False, True, None)]
    assert nn._call_text("Pool", spec, {"kernel_size": (2, 3), "stride": None}) == \
        "Pool(kernel_size=(2, 3), stride=None)"
    assert nn._call_text("Pool", spec, {"kernel_size": [4], "stride": "same"}) == \
        "Pool(kernel_size=(4,), stride='same')"
    assert nn._call_text("Pool", spec, {"kernel_size": 2.5, "stride": True}) == \
        "Pool(kernel_size=2.5, stride=True)"
    with pytest.raises(ValueError, match="quotes"):
        nn._call_text("Pool", spec, {"kernel_size": "it's", "stride": None})
    with pytest.raises(TypeError):
        nn._call_text("Pool", spec, {"kernel_size": {1: 2}, "stride": None})
    with pytest.raises(TypeError):
        nn._call_text("Pool", spec, {"kernel_size": ((1, 2),), "stride": None})
    # A generated class whose table row has such a kind builds through the library, which
    # accepts what its row takes and names what it does not.
    name, args = nn.AvgPool1d._info
    future = type("AvgPool1d", (nn._TableModule,), {"_info": (name, [(a[0], 99) + a[2:] for a in args])})
    m = future(3, stride=1)
    assert repr(m) == repr(nn.AvgPool1d(3, 1))
    assert m(lucid.ones(1, 1, 4)).tolist() == [[[1.0, 1.0]]]
    with pytest.raises(TypeError, match="AvgPool1d: kernel_size"):
        future((2, 3))
    with pytest.raises(ValueError, match="AvgPool1d: padding"):
        future(2, padding=5)


def test_sequential_container_api():
    a, b = nn.AvgPool1d(2), nn.LPPool1d(2, 2)
    s = nn.Sequential(a, b)
    assert len(s) == 2 and list(s) == [a, b] and s[1] is b and s[-1] is b
    assert isinstance(s[:1], nn.Sequential) and list(s[:1]) == [a]
    s.append(nn.AvgPool1d(1))
    assert len(s) == 3 and s(lucid.ones(1, 1, 8)).shape == (1, 1, 2)
    with pytest.raises(TypeError):
        nn.Sequential(a, 3)


def test_module_registration_api():
    m = nn.Module()
    m.add_module("pool", nn.AvgPool1d(2))
    m.register_parameter("w", nn.Parameter([1.0, 2.0]))
    assert [n for n, _ in m.named_parameters()] == ["w"] and list(m.children())[0] is m.pool
    del m.w
    assert list(m.named_parameters()) == []
    with pytest.raises(ValueError):
        m.add_module("a.b", nn.AvgPool1d(2))
    with pytest.raises(TypeError):
        m.register_parameter("v", lucid.ones(2))

    class Pool(nn.AvgPool1d):
        def forward(self, x):
            return super().forward(x) * 2.0

    assert Pool(2)(lucid.ones(1, 1, 4)).tolist() == [[[2.0, 2.0]]]
