"""Conformance cases for AvgPool2d and LPPool2d, made with PyTorch (1.13) in float64.

Each case is a directory in the layout of ../torch (docs/conformance.md):
  case.json            name, op, params (sizes as an int or [h, w]), shape, out_shape, dtype,
                       seed, tolerance, notes
  input.npy            x, float32 random normal values (some exact zeros in the average cases)
  grad_out.npy         the seed dL/dy, float32
  expected_out.npy     y = module(x), computed in float64 from the float32 x, stored as float32
  expected_grad_in.npy d(sum(y * grad_out))/dx, the same way
AvgPool2d is torch.nn.AvgPool2d itself. LPPool2d follows Lucid's definition, the p-norm of the
elements each window holds, (sum |x|^p)^(1/p): written with PyTorch as
avg_pool2d(|x|^p, divisor_override=1) ** (1/p). PyTorch's own lp_pool2d takes no absolute value
(x^p, not |x|^p) and scales a ceil-mode partial window by kernel / elements present; where no
window is partial the script checks that the two agree on |x| (`torch_lp_pool2d_differs` says
which cases have partial windows).

Run from the repository root: /usr/bin/python3 tests/conformance/torch2d/make_cases.py
"""
import json
import os
import shutil

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))

CASES = [
    # name, op, params, input shape
    ("a00_avg_ceil_overhang_both_axes_cip", "AvgPool2d",
     {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": True}, (2, 3, 8, 10)),
    ("a01_avg_ceil_rect_pad_no_cip", "AvgPool2d",
     {"kernel_size": [3, 2], "stride": [2, 3], "padding": [1, 1], "ceil_mode": True, "count_include_pad": False},
     (2, 2, 8, 11)),
    ("a02_avg_rect_rank3", "AvgPool2d",
     {"kernel_size": [2, 4], "stride": [1, 2], "padding": 0, "ceil_mode": False, "count_include_pad": True},
     (3, 7, 9)),
    ("a03_avg_rect_pad_cip", "AvgPool2d",
     {"kernel_size": [4, 3], "stride": [3, 2], "padding": [2, 1], "ceil_mode": False, "count_include_pad": True},
     (1, 4, 10, 9)),
    ("a04_avg_pad_no_cip_rank3_ceil", "AvgPool2d",
     {"kernel_size": [2, 3], "stride": None, "padding": [1, 1], "ceil_mode": True, "count_include_pad": False},
     (2, 5, 7)),
    ("l00_lp_ceil_partial_both_axes", "LPPool2d",
     {"norm_type": 2, "kernel_size": 3, "stride": 2, "ceil_mode": True}, (2, 3, 8, 10)),
    ("l01_lp_rect_p3", "LPPool2d",
     {"norm_type": 3, "kernel_size": [2, 3], "stride": [2, 1], "ceil_mode": False}, (2, 2, 7, 9)),
    ("l02_lp_rank3_p1_5_ceil", "LPPool2d",
     {"norm_type": 1.5, "kernel_size": [3, 2], "stride": None, "ceil_mode": True}, (3, 7, 5)),
    ("l03_lp_p4_rank3", "LPPool2d",
     {"norm_type": 4, "kernel_size": 2, "stride": None, "ceil_mode": False}, (2, 6, 8)),
]


def pair(v, default):
    if v is None:
        return tuple(default)
    return tuple(v) if isinstance(v, list) else (v, v)


def lp_reference(x, p, k, s, ceil_mode):
    return F.avg_pool2d(x.abs().pow(p), k, s, 0, ceil_mode, divisor_override=1).pow(1.0 / p)


def forward(op, params, x):
    k = pair(params["kernel_size"], None)
    s = pair(params["stride"], k)
    if op == "AvgPool2d":
        return torch.nn.AvgPool2d(k, s, pair(params["padding"], None), params["ceil_mode"],
                                  params["count_include_pad"])(x)
    return lp_reference(x, params["norm_type"], k, s, params["ceil_mode"])


def has_partial_window(params, shape):
    k = pair(params["kernel_size"], None)
    s = pair(params["stride"], k)
    for axis in range(2):
        length = shape[-2 + axis]
        out = -(-(length - k[axis]) // s[axis]) + 1 if params["ceil_mode"] else (length - k[axis]) // s[axis] + 1
        if params["ceil_mode"] and (out - 1) * s[axis] >= length:
            out -= 1
        if (out - 1) * s[axis] + k[axis] > length:
            return True
    return False


def make(index, name, op, params, shape):
    seed = 20260 + index
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float32)
    if op == "AvgPool2d":
        x[rng.random(shape) < 0.05] = 0.0
    xt = torch.tensor(x.astype(np.float64), requires_grad=True)
    y = forward(op, params, xt)
    g = rng.standard_normal(tuple(y.shape)).astype(np.float32)
    y.backward(torch.tensor(g.astype(np.float64)))
    gx = xt.grad.numpy()
    assert np.all(np.isfinite(y.detach().numpy())) and np.all(np.isfinite(gx)), name
    notes = []
    case = {"name": name, "op": op, "params": params, "shape": list(shape), "out_shape": list(y.shape),
            "dtype": "float32", "seed": seed, "tolerance": {"rtol": 1e-4, "atol": 1e-5}}
    if op == "LPPool2d":
        partial = has_partial_window(params, shape)
        case["torch_lp_pool2d_differs"] = partial
        if not partial:
            k = pair(params["kernel_size"], None)
            theirs = torch.nn.LPPool2d(params["norm_type"], k, pair(params["stride"], k))(xt.detach().abs())
            assert torch.allclose(theirs, y.detach(), rtol=1e-12, atol=1e-12), name
            notes.append("no partial window: equals torch.nn.LPPool2d on |x|")
        else:
            notes.append("ceil-mode partial windows: the norm of the elements present (PyTorch scales them)")
    case["notes"] = notes
    d = os.path.join(HERE, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    np.save(os.path.join(d, "input.npy"), x)
    np.save(os.path.join(d, "grad_out.npy"), g)
    np.save(os.path.join(d, "expected_out.npy"), y.detach().numpy().astype(np.float32))
    np.save(os.path.join(d, "expected_grad_in.npy"), gx.astype(np.float32))
    with open(os.path.join(d, "case.json"), "w") as f:
        json.dump(case, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    for i, c in enumerate(CASES):
        make(i, *c)
    print(len(CASES), "cases in", HERE)
