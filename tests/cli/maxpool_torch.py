"""MaxPool1d and MaxPool2d through `lucidc run` on both engines against PyTorch (float64
reference from float32 inputs): forward and backward, random inputs, inputs full of ties
(small integers), all-negative inputs with padding, and seeds holding inf, -inf and NaN
(the gradient reaches only the chosen elements: the others keep 0, as PyTorch's scatter); ceil-mode overhang on both axes,
rectangular kernels, padding, dilation, rank-2/3 (1-D) and rank-3 (2-D) inputs; and the
indices (`--indices`, PyTorch's return_indices) exactly.
Usage: maxpool_torch.py LUCIDC TMPDIR. Exit 77 when PyTorch is not installed."""
import os
import subprocess
import sys

import numpy as np
try:
    import torch
except ImportError:
    sys.exit(77)
LUCIDC = sys.argv[1]
os.chdir(sys.argv[2])
rng=np.random.default_rng(0)
cases=[
 ("MaxPool1d(3, 2, 1)", "MaxPool1d(3,2,1)", (2,3,11)),
 ("MaxPool1d(3, 2, 1, dilation=2, ceil_mode=True)", "MaxPool1d(3,2,1,dilation=2,ceil_mode=True)", (2,3,12)),
 ("MaxPool1d(4, 3, 2, ceil_mode=True)", "MaxPool1d(4,3,2,ceil_mode=True)", (3,10)),
 ("MaxPool2d(3, 2, 1)", "MaxPool2d(3,2,1)", (2,3,9,10)),
 ("MaxPool2d((3, 2), (2, 1), (1, 0), dilation=(1, 2), ceil_mode=True)", "MaxPool2d((3,2),(2,1),(1,0),dilation=(1,2),ceil_mode=True)", (2,2,8,9)),
 ("MaxPool2d(2, ceil_mode=True)", "MaxPool2d(2,ceil_mode=True)", (3,7,5)),
 ("MaxPool2d((2, 3), stride=2, padding=1, dilation=2)", "MaxPool2d((2,3),stride=2,padding=1,dilation=2)", (1,2,9,11)),
]
ok=True
for spec, tspec, shape in cases:
    for kind in ["rand","ties","neg","nonfinite_g"]:
        if kind=="rand": x=rng.standard_normal(shape).astype(np.float32)
        elif kind=="ties": x=rng.integers(-2,3,shape).astype(np.float32)
        else: x=-np.abs(rng.standard_normal(shape)).astype(np.float32)-1
        m=eval("torch.nn."+tspec[:-1]+",return_indices=True)")
        xt=torch.tensor(x.astype(np.float64),requires_grad=True)
        y,yi=m(xt); g=rng.standard_normal(tuple(y.shape)).astype(np.float32)
        if kind=="nonfinite_g":
            g.flat[rng.choice(g.size, max(3, g.size//4), replace=False)]=rng.choice([np.inf,-np.inf,np.nan], max(3, g.size//4))
        y.backward(torch.tensor(g.astype(np.float64)))
        np.save("x.npy",x); np.save("g.npy",g)

        for eng in ["interp","jit"]:
            r=subprocess.run([LUCIDC,"run","--module",spec,"--input","x.npy","--out","y.npy","--grad-out","g.npy","--grad-in","gx.npy","--indices","i.npy","--engine",eng],capture_output=True,text=True)
            if r.returncode: print("ERR",spec,eng,r.stderr); ok=False; continue
            yl=np.load("y.npy"); gl=np.load("gx.npy")
            e1=np.nanmax(np.abs(np.where(yl == y.detach().numpy(), 0, yl - y.detach().numpy())))
            # the same NaNs and infinities where PyTorch has them, close elsewhere
            gt=xt.grad.numpy(); same=(gl==gt)|(np.isnan(gl)&np.isnan(gt))
            e2=np.max(np.where(same, 0, np.abs(gl-gt))) if gl.shape==gt.shape else np.inf
            if yl.shape!=tuple(y.shape) or e1>1e-6 or not e2<=1e-5: print("FAIL",spec,kind,eng,yl.shape,tuple(y.shape),e1,e2); ok=False
            il=np.load("i.npy")
            if il.dtype!=np.int64 or il.shape!=tuple(yi.shape) or (il!=yi.numpy()).any():
                print("FAIL indices",spec,kind,eng,il.dtype,il.shape,int((il!=yi.numpy()).sum()) if il.shape==tuple(yi.shape) else ""); ok=False
# (A window of padding alone, MaxPool1d(2, 1, padding=1, dilation=4) on L = 3, is pinned in
# tests/test_max.c instead: PyTorch 1.13's backward writes out of bounds there.)
print("ok" if ok else "bad")
sys.exit(0 if ok else 1)
