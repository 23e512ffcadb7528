#!/usr/bin/env python3
"""Reference values for test/train-optimizer.test.ts, from PyTorch (run: python3 make_train_golden.py).

AdamW: torch.optim.AdamW (lr 1e-2, weight decay 0.1) for 3 steps on two small parameters whose gradient
is a fixed function of the parameter (g = 2p + c), lr changed per step. Gradient clipping:
torch.nn.utils.clip_grad_norm_. Masked loss: F.cross_entropy over the masked positions, summed / count.
"""
import json
import torch
import torch.nn.functional as F

torch.manual_seed(0)
p1 = torch.randn(3, 4)
p2 = torch.randn(5, 3)
c1 = torch.randn(3, 4)
c2 = torch.randn(5, 3)
init = [p1.clone(), p2.clone()]
params = [torch.nn.Parameter(p1.clone()), torch.nn.Parameter(p2.clone())]
opt = torch.optim.AdamW(params, lr=1e-2, weight_decay=0.1)
lrs = [1e-2, 5e-3, 2e-2]
for lr in lrs:
    for g in opt.param_groups:
        g["lr"] = lr
    opt.zero_grad()
    loss = (params[0] ** 2 + c1 * params[0]).sum() + (params[1] ** 2 + c2 * params[1]).sum()
    loss.backward()
    opt.step()

grads = [torch.randn(4, 4) * 3, torch.randn(7) * 2]
# clip_grad_norm_ works on the .grad of parameters
ps = [torch.nn.Parameter(torch.zeros_like(g)) for g in grads]
for p, g in zip(ps, grads):
    p.grad = g.clone()
norm = torch.nn.utils.clip_grad_norm_(ps, 1.0)

logits = torch.randn(2, 3, 6)
targets = torch.randint(0, 6, (2, 3))
mask = torch.tensor([[0.0, 1.0, 1.0], [1.0, 1.0, 0.0]])
labels = targets.clone()
labels[mask == 0] = -100
loss = F.cross_entropy(logits.reshape(-1, 6), labels.reshape(-1), ignore_index=-100)

flat = lambda t: [round(float(x), 8) for x in t.reshape(-1).tolist()]
json.dump({
    "adamw": {
        "lrs": lrs, "weightDecay": 0.1,
        "init": [{"shape": list(t.shape), "values": flat(t)} for t in init],
        "c": [flat(c1), flat(c2)],
        "after": [flat(p.detach()) for p in params],
    },
    "clip": {
        "maxNorm": 1.0,
        "grads": [{"shape": list(g.shape), "values": flat(g)} for g in grads],
        "norm": float(norm),
        "clipped": [flat(p.grad) for p in ps],
    },
    "maskedLoss": {"logits": flat(logits), "targets": targets.reshape(-1).tolist(), "mask": flat(mask), "loss": float(loss)},
}, open("train-golden.json", "w"), indent=1)
