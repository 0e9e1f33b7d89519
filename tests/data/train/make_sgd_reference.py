#!/usr/bin/env python3
"""Reference training runs for tests/test_train.c, made with PyTorch's torch.optim.SGD
(MODULE_CASES below: models with parameters; CASES: the trainable tensor is the input).

Each case directory holds the starting tensors and what N steps of SGD leave behind:
  x0.npy, target.npy        the trainable tensor before the first step, and the target
  final.npy                 the trainable tensor after `steps` steps
  losses.npy                the loss of each step (float64), computed before its update
  momentum.npy              the momentum buffer after the last step (momentum cases only)
The model, loss and options are in CASES below and in the C test, which must agree.
The trainable tensor is the model's input: the pools have no parameters, so the step
optimizes x itself (as one would an input image). Run from anywhere with python3-torch:
    /usr/bin/python3 tests/data/train/make_sgd_reference.py
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))

CASES = [
    # name, dtype, x shape, model, lr, momentum, weight_decay, steps[, more SGD options]
    ("avg_momentum", torch.float32, (2, 3, 8),
     lambda x: F.avg_pool1d(x, 3, stride=2, padding=1), 0.5, 0.9, 0.01, 6),
    ("lp_decay_f64", torch.float64, (1, 2, 10),
     lambda x: F.lp_pool1d(x, 2.0, 3, stride=1), 0.1, 0.0, 0.05, 4),
    ("avg_plain", torch.float32, (1, 1, 12),
     lambda x: F.avg_pool1d(x, 4, stride=4), 1.0, 0.0, 0.0, 3),
    ("avg_dampening", torch.float32, (2, 2, 9),
     lambda x: F.avg_pool1d(x, 3, stride=2, padding=1), 0.4, 0.9, 0.0, 5, dict(dampening=0.3)),
    ("lp_nesterov_maximize_f64", torch.float64, (1, 3, 8),
     lambda x: F.lp_pool1d(x, 2.0, 2, stride=2), 0.05, 0.8, 0.02, 5,
     dict(nesterov=True, maximize=True)),
]


def save(case_dir, name, t):
    np.save(os.path.join(case_dir, name), t.detach().numpy())


def main():
    for i, (name, dtype, shape, model, lr, momentum, wd, steps, *more) in enumerate(CASES):
        gen = torch.Generator().manual_seed(100 + i)
        x = torch.randn(shape, generator=gen, dtype=torch.float64).to(dtype)
        with torch.no_grad():
            out_shape = model(x).shape
        target = torch.randn(out_shape, generator=gen, dtype=torch.float64).to(dtype)
        case_dir = os.path.join(HERE, name)
        os.makedirs(case_dir, exist_ok=True)
        save(case_dir, "x0.npy", x)
        save(case_dir, "target.npy", target)
        x = x.clone().requires_grad_(True)
        opt = torch.optim.SGD([x], lr=lr, momentum=momentum, weight_decay=wd, **(more[0] if more else {}))
        losses = []
        for _ in range(steps):
            opt.zero_grad()
            loss = F.mse_loss(model(x), target)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        save(case_dir, "final.npy", x)
        np.save(os.path.join(case_dir, "losses.npy"), np.array(losses, dtype=np.float64))
        if momentum != 0:
            save(case_dir, "momentum.npy", opt.state[x]["momentum_buffer"])


# Models with parameters, trained through lc_train_step_compile_module: model.txt (a model
# spec), input.npy and target.npy, each parameter's start as <state_dict name>.npy and its
# end as final.<name>.npy, and losses.npy.
MODULE_CASES = [
    # name, spec lines, torch model, x shape, lr, momentum, weight_decay, steps
    ("linear_momentum", ["Linear(3, 2)"], lambda: torch.nn.Linear(3, 2), (4, 3), 0.1, 0.9, 0.01, 5),
    ("seed_model", ["Conv1d(1, 1, 3, stride=1, padding=1)", "AvgPool1d(2, 2)", "Linear(2, 1)"],
     lambda: torch.nn.Sequential(torch.nn.Conv1d(1, 1, 3, stride=1, padding=1),
                                 torch.nn.AvgPool1d(2, 2), torch.nn.Linear(2, 1)),
     (3, 1, 4), 0.2, 0.5, 0.001, 6),
]


def main_modules():
    for i, (name, spec, make, shape, lr, momentum, wd, steps) in enumerate(MODULE_CASES):
        torch.manual_seed(200 + i)
        model = make()
        x = torch.randn(shape)
        with torch.no_grad():
            target = torch.randn(model(x).shape)
        case_dir = os.path.join(HERE, name)
        os.makedirs(case_dir, exist_ok=True)
        with open(os.path.join(case_dir, "model.txt"), "w") as f:
            f.write("\n".join(spec) + "\n")
        save(case_dir, "input.npy", x)
        save(case_dir, "target.npy", target)
        for pname, p in model.state_dict().items():
            save(case_dir, pname + ".npy", p)
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=wd)
        losses = []
        for _ in range(steps):
            opt.zero_grad()
            loss = F.mse_loss(model(x), target)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        for pname, p in model.state_dict().items():
            save(case_dir, "final." + pname + ".npy", p)
        np.save(os.path.join(case_dir, "losses.npy"), np.array(losses, dtype=np.float64))


if __name__ == "__main__":
    main()
    main_modules()
