"""Python baseline of problems/operators/antiderivative_deeponet.yaml: the same DeepONet (MLP branch and trunk
2x100 GELU, p = 100), data (data/antiderivative.h5 from `physis datagen antiderivative --samples 1200`), batch 50,
Adam 1e-3 with cosine decay over 10k steps, MSE on normalised targets, one thread.

    .venv/bin/python bench/antiderivative_deeponet.py [--init fan_in|glorot] [--steps N]

Needs h5py in the venv (pip install h5py). Prints the test MSE, the mean relative L2 error and the wall time.
"""
import argparse
import time

import h5py
import torch

parser = argparse.ArgumentParser()
parser.add_argument("--init", choices=["fan_in", "glorot"], default="fan_in")
parser.add_argument("--steps", type=int, default=10000)
parser.add_argument("--data", default="data/antiderivative.h5")
args = parser.parse_args()
torch.manual_seed(0)
torch.set_num_threads(1)

with h5py.File(args.data, "r") as f:
    u = torch.tensor(f["fields"][:, :, 0])
    s = torch.tensor(f["targets"][:, :, 0])
    x = torch.tensor(f["coords"][:])
u_train, s_train, u_test, s_test = u[:1000], s[:1000], u[1000:], s[1000:]
u_mean, u_std = u_train.mean(), u_train.std()
s_mean, s_std = s_train.mean(), s_train.std()


def mlp(widths, activate_last=False):
    layers = []
    for i in range(len(widths) - 1):
        layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2 or activate_last:
            layers.append(torch.nn.GELU())
    return torch.nn.Sequential(*layers)


branch, trunk = mlp([100, 100, 100, 100]), mlp([1, 100, 100, 100], activate_last=True)
if args.init == "glorot":
    for m in list(branch) + list(trunk):
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.xavier_uniform_(m.weight)
            torch.nn.init.zeros_(m.bias)
bias = torch.nn.Parameter(torch.zeros(1))
optimizer = torch.optim.Adam(list(branch.parameters()) + list(trunk.parameters()) + [bias], 1e-3)
schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, args.steps)


def forward(u_batch):
    return branch((u_batch - u_mean) / u_std) @ trunk(x).T + bias


start = time.time()
for step in range(args.steps):
    index = torch.randperm(1000)[:50]
    loss = ((forward(u_train[index]) - (s_train[index] - s_mean) / s_std) ** 2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    schedule.step()
with torch.no_grad():
    prediction = forward(u_test) * s_std + s_mean
    mse = ((prediction - s_test) ** 2).mean().item()
    rel = ((prediction - s_test).norm(dim=1) / s_test.norm(dim=1)).mean().item()
print(f"test_mse {mse:.3e} relative_l2 {rel:.4f} wall_s {time.time() - start:.1f}")
