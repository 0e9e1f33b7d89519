"""Make the MaxPool1d/MaxPool2d cases of tests/conformance/torch/ (m*_max*) with PyTorch 1.13.

Each case: a float32 input, PyTorch's forward, backward and indices computed in float64 from
that input (the gradient from a float32 seed), values stored as float32 and the indices as
float64 (integers, exact). Every forward value and index is also checked here against a plain
NumPy loop over the windows (PyTorch's rules: padding never wins, the first maximum wins a tie,
a NaN wins), so a case is written only when both agree.

Usage: /usr/bin/python3 tests/conformance/make_maxpool_cases.py [OUTDIR]
(OUTDIR defaults to tests/conformance/torch beside this script). Deterministic: fixed seeds.
"""
import json
import math
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "torch")

# (name, op, params, input shape, input kind, notes)
CASES = [
    ("m00_max1d_ceil_overhang_pad", "MaxPool1d", dict(kernel_size=4, stride=3, padding=2, ceil_mode=True),
     (2, 3, 13), "normal", "ceil mode adds a last window that overhangs the right padding"),
    ("m01_max1d_dilation_ceil", "MaxPool1d", dict(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True),
     (2, 3, 12), "normal", "dilated windows (span 5), ceil-mode overhang"),
    ("m02_max1d_rank2_ties", "MaxPool1d", dict(kernel_size=3, stride=1, padding=1),
     (4, 17), "ties", "(C, L) input; small integers: ties go to the first maximum"),
    ("m03_max1d_negative_pad", "MaxPool1d", dict(kernel_size=5, stride=2, padding=2, ceil_mode=True),
     (2, 2, 11), "negative", "all inputs < -1 with padding: the padding (-inf) never wins"),
    ("m04_max1d_nan_windows", "MaxPool1d", dict(kernel_size=3, stride=2, padding=1),
     (2, 2, 21), "nan", "some windows hold one NaN: y is NaN there, the gradient and index go to it"),
    ("m10_max2d_3_2_1", "MaxPool2d", dict(kernel_size=3, stride=2, padding=1),
     (2, 3, 9, 10), "normal", "the common ResNet stem pool"),
    ("m11_max2d_rect_dilation_ceil", "MaxPool2d",
     dict(kernel_size=[3, 2], stride=[2, 1], padding=[1, 0], dilation=[1, 2], ceil_mode=True),
     (2, 2, 8, 9), "normal", "rectangular kernel, per-axis stride/padding/dilation, ceil mode"),
    ("m12_max2d_rank3_ceil_both_axes", "MaxPool2d", dict(kernel_size=2, ceil_mode=True),
     (3, 7, 5), "normal", "(C, H, W) input; ceil-mode overhang on both axes"),
    ("m13_max2d_rect_pad_dilation", "MaxPool2d", dict(kernel_size=[2, 3], stride=2, padding=1, dilation=2),
     (1, 2, 9, 11), "normal", "rectangular kernel with padding and dilation"),
    ("m14_max2d_ties", "MaxPool2d", dict(kernel_size=3, stride=1, padding=1),
     (2, 2, 7, 8), "ties", "small integers: ties go to the first maximum in row-major window order"),
    ("m15_max2d_negative_pad_ceil", "MaxPool2d", dict(kernel_size=[4, 3], stride=[3, 2], padding=[2, 1], ceil_mode=True),
     (1, 3, 10, 8), "negative", "all inputs < -1, padding on both axes, overhang on both axes"),
    ("m16_max2d_nan_windows", "MaxPool2d", dict(kernel_size=3, stride=2, padding=1),
     (1, 2, 13, 13), "nan", "some windows hold one NaN"),
    ("m17_max2d_rect_stride_ceil", "MaxPool2d", dict(kernel_size=[2, 4], stride=[1, 3], padding=[1, 2], ceil_mode=True),
     (2, 2, 6, 14), "normal", "wide kernel, stride per axis, ceil-mode overhang on the width"),
]


def make_input(rng, shape, kind):
    if kind == "ties":
        return rng.integers(-2, 3, shape).astype(np.float32)
    if kind == "negative":
        return (-np.abs(rng.standard_normal(shape)) - 1).astype(np.float32)
    x = rng.standard_normal(shape).astype(np.float32)
    if kind == "nan":
        # NaNs 6 apart along the last axis and on every 6th row: no window (span 3) holds two
        flat = x.reshape(-1, shape[-1])
        for r in range(0, flat.shape[0], 2):
            for c in range((r * 5) % 6, shape[-1], 6 if len(shape) == 3 else 7):
                if len(shape) == 3 or (r % shape[-2]) % 6 == 0:
                    flat[r, c] = np.nan
    return x


def pairs(params, two_d):
    def get(key, default):
        v = params.get(key, default)
        if v is None:
            v = params["kernel_size"]
        v = list(v) if isinstance(v, list) else [v] * (2 if two_d else 1)
        return v
    return (get("kernel_size", None), get("stride", None), get("padding", 0), get("dilation", 1),
            params.get("ceil_mode", False))


def out_len(n, k, s, p, d, ceil):
    span = d * (k - 1) + 1
    num = n + 2 * p - span
    o = (-(-num // s) if ceil else num // s) + 1
    if ceil and (o - 1) * s >= n + p:
        o -= 1
    return o


def numpy_reference(x, params, two_d):
    """Forward and flat indices by plain loops (float64), PyTorch's rules."""
    k, s, p, d, ceil = pairs(params, two_d)
    xs = x.astype(np.float64)
    if not two_d:
        xs = xs[..., None, :]
        k, s, p, d = [1] + k, [1] + s, [0] + p, [1] + d
    H, W = xs.shape[-2:]
    Ho, Wo = out_len(H, k[0], s[0], p[0], d[0], ceil), out_len(W, k[1], s[1], p[1], d[1], ceil)
    planes = xs.reshape(-1, H, W)
    y = np.empty((planes.shape[0], Ho, Wo))
    idx = np.empty((planes.shape[0], Ho, Wo), dtype=np.int64)
    for c in range(planes.shape[0]):
        for oh in range(Ho):
            for ow in range(Wo):
                best, where = -math.inf, None
                for i in range(k[0]):
                    h = oh * s[0] - p[0] + i * d[0]
                    for j in range(k[1]):
                        w = ow * s[1] - p[1] + j * d[1]
                        if not (0 <= h < H and 0 <= w < W):
                            continue
                        v = planes[c, h, w]
                        if where is None or v > best or (math.isnan(v) and not math.isnan(best)):
                            best, where = v, h * W + w
                y[c, oh, ow], idx[c, oh, ow] = best, where
    shape = x.shape[:-2] + (Ho, Wo) if two_d else x.shape[:-1] + (Wo,)
    return y.reshape(shape), idx.reshape(shape)


def torch_module(op, params):
    kw = {k: (tuple(v) if isinstance(v, list) else v) for k, v in params.items()}
    return getattr(torch.nn, op)(return_indices=True, **kw)


def main():
    os.makedirs(OUT, exist_ok=True)
    for n, (name, op, params, shape, kind, notes) in enumerate(CASES):
        seed = 7100 + n
        rng = np.random.default_rng(seed)
        x = make_input(rng, shape, kind)
        xt = torch.tensor(x.astype(np.float64), requires_grad=True)
        y, idx = torch_module(op, params)(xt)
        g = rng.standard_normal(tuple(y.shape)).astype(np.float32)
        y.backward(torch.tensor(g.astype(np.float64)))
        y_np, idx_np = y.detach().numpy(), idx.numpy()

        ref_y, ref_idx = numpy_reference(x, params, op == "MaxPool2d")
        assert ref_y.shape == y_np.shape, (name, ref_y.shape, y_np.shape)
        same = (ref_y == y_np) | (np.isnan(ref_y) & np.isnan(y_np))
        assert same.all(), (name, "forward differs from the NumPy loops")
        assert (ref_idx == idx_np).all(), (name, "indices differ from the NumPy loops")

        d = os.path.join(OUT, name)
        os.makedirs(d, exist_ok=True)
        np.save(os.path.join(d, "input.npy"), x)
        np.save(os.path.join(d, "grad_out.npy"), g)
        np.save(os.path.join(d, "expected_out.npy"), y_np.astype(np.float32))
        np.save(os.path.join(d, "expected_grad_in.npy"), xt.grad.numpy().astype(np.float32))
        np.save(os.path.join(d, "expected_indices.npy"), idx_np.astype(np.float64))
        case = {
            "name": name,
            "op": op,
            "params": dict(params, return_indices=True),
            "shape": list(shape),
            "out_shape": list(y_np.shape),
            "dtype": "float32",
            "seed": seed,
            "tolerance": {"rtol": 1e-4, "atol": 1e-5},
            "notes": notes,
            "made_with": "PyTorch %s, tests/conformance/make_maxpool_cases.py" % torch.__version__,
        }
        with open(os.path.join(d, "case.json"), "w") as f:
            json.dump(case, f, indent=2)
            f.write("\n")
        print("wrote", d, "out", list(y_np.shape), "nan" if np.isnan(y_np).any() else "")


if __name__ == "__main__":
    main()
