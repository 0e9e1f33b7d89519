"""Reference cases for the modules with parameters, made with PyTorch (1.13) in float64.

Each case is a directory:
  model.txt              the model as a model spec (one module call per line)
  loss.txt               optional: an MSELoss call applied to the model's output and target.npy
  input.npy              x, float32
  <name>.npy             every parameter, float32, named by its state_dict name (0.weight.npy)
  grad_out.npy           the seed dL/dy, float32 (absent with a loss: the seed is 1)
  target.npy             with a loss: the target, float32
  expected_out.npy       y = model(x) (or the loss), float64
  expected_grad_in.npy   d(sum(y * grad_out))/dx (or dloss/dx), float64
  expected_grad_<name>.npy  the same for every parameter, float64
  expected_grad_target.npy  with a loss: dloss/dtarget, float64
The inputs are float32 values; PyTorch computes in float64 from exactly those values.

Run from the repository root with /usr/bin/python3 tests/data/params/make_cases.py.
"""
import os
import shutil

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
nn = torch.nn

CASES = [
    # name, model spec lines, input shape, loss spec or None
    ("conv_basic", ["Conv1d(3, 4, 3)"], (2, 3, 10), None),
    ("conv_stride_padding", ["Conv1d(3, 4, 3, stride=2, padding=2)"], (2, 3, 11), None),
    ("conv_same_even_kernel", ["Conv1d(2, 3, 4, padding='same')"], (1, 2, 9), None),
    ("conv_same_dilation_no_bias", ["Conv1d(2, 3, 3, padding='same', dilation=3, bias=False)"], (2, 2, 12), None),
    ("conv_valid_stride", ["Conv1d(2, 2, 2, stride=3, padding='valid')"], (1, 2, 11), None),
    ("conv_groups_dilation", ["Conv1d(4, 6, 3, padding=1, dilation=2, groups=2)"], (2, 4, 12), None),
    ("conv_depthwise_rank2", ["Conv1d(4, 4, 5, stride=2, padding=3, dilation=2, groups=4)"], (4, 13), None),
    ("linear_rank1", ["Linear(5, 3)"], (5,), None),
    ("linear_rank3_no_bias", ["Linear(4, 6, bias=False)"], (2, 3, 4), None),
    ("seed_model", ["Conv1d(1, 1, 3, stride=1, padding=1)", "AvgPool1d(2, 2)", "Linear(2, 1)"], (1, 1, 4), None),
    ("conv_relu_pool", ["Conv1d(4, 8, 3, padding=1)", "ReLU()", "AvgPool1d(2)"], (2, 4, 16), None),
    ("mlp_mse_mean", ["Linear(3, 4)", "ReLU()", "Linear(4, 2)"], (5, 3), "MSELoss()"),
    ("conv_mse_sum", ["Conv1d(2, 3, 3, padding=1)", "ReLU()"], (2, 2, 7), "MSELoss(reduction='sum')"),
]


def build(line):
    return eval("nn." + line, {"nn": nn})


def save(path, array):
    np.save(path, np.array(array, order="C"))  # keeps a 0-d loss 0-d


def main():
    rng = np.random.default_rng(20261202)
    torch.manual_seed(0)
    for name, lines, shape, loss in CASES:
        d = os.path.join(HERE, name)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        with open(os.path.join(d, "model.txt"), "w") as f:
            f.write("\n".join(lines) + "\n")
        model = nn.Sequential(*[build(line) for line in lines]) if len(lines) > 1 else build(lines[0])
        params = {}
        for pname, p in model.named_parameters():
            v = rng.uniform(-1, 1, size=tuple(p.shape)).astype(np.float32)
            params[pname] = v
            save(os.path.join(d, pname + ".npy"), v)
        model = model.double()
        with torch.no_grad():
            for pname, p in model.named_parameters():
                p.copy_(torch.from_numpy(params[pname].astype(np.float64)))
        x32 = rng.standard_normal(shape).astype(np.float32)
        save(os.path.join(d, "input.npy"), x32)
        x = torch.from_numpy(x32.astype(np.float64)).requires_grad_(True)
        y = model(x)
        if loss:
            with open(os.path.join(d, "loss.txt"), "w") as f:
                f.write(loss + "\n")
            t32 = rng.standard_normal(tuple(y.shape)).astype(np.float32)
            save(os.path.join(d, "target.npy"), t32)
            t = torch.from_numpy(t32.astype(np.float64)).requires_grad_(True)
            out = build(loss)(y, t)
            out.backward()
            save(os.path.join(d, "expected_grad_target.npy"), t.grad.numpy())
        else:
            g32 = rng.standard_normal(tuple(y.shape)).astype(np.float32)
            save(os.path.join(d, "grad_out.npy"), g32)
            out = y
            y.backward(torch.from_numpy(g32.astype(np.float64)))
        save(os.path.join(d, "expected_out.npy"), out.detach().numpy())
        save(os.path.join(d, "expected_grad_in.npy"), x.grad.numpy())
        for pname, p in model.named_parameters():
            save(os.path.join(d, "expected_grad_" + pname + ".npy"), p.grad.numpy())
        print(name, tuple(out.shape))


if __name__ == "__main__":
    main()
