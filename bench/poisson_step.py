"""Python baseline for bench/poisson_step.cpp: the same PINN training step in idiomatic PyTorch.

The Laplacian is taken the way Python PINN codes (DeepXDE, PINNacle) take it: torch.autograd.grad with
create_graph=True for the gradient, then once more per coordinate. A second variant pushes the same forward-mode
jets through the network with plain tensor ops, to show what the algorithm (not the language) is worth.
"""
import argparse
import math
import time

import torch


def make_net(dtype, device):
    torch.manual_seed(0)
    layers = []
    widths = [2, 100, 100, 100, 100, 100, 1]
    for i in range(len(widths) - 1):
        lin = torch.nn.Linear(widths[i], widths[i + 1])
        torch.nn.init.xavier_uniform_(lin.weight)
        torch.nn.init.zeros_(lin.bias)
        layers.append(lin)
        if i + 2 < len(widths):
            layers.append(torch.nn.Tanh())
    return torch.nn.Sequential(*layers).to(device=device, dtype=dtype)


def laplacian_nested(net, x):
    x = x.detach().requires_grad_(True)
    u = net(x)
    g = torch.autograd.grad(u, x, torch.ones_like(u), create_graph=True)[0]
    lap = 0
    for i in range(x.shape[1]):
        lap = lap + torch.autograd.grad(g[:, i], x, torch.ones_like(g[:, i]), create_graph=True)[0][:, i]
    return lap


def laplacian_taylor(net, x):
    # value, first derivatives along each axis [K, N, w], and the summed second derivative [N, w]
    v, d1, d2 = x, torch.eye(x.shape[1], dtype=x.dtype, device=x.device).unsqueeze(1), None
    for layer in net:
        if isinstance(layer, torch.nn.Linear):
            v = torch.addmm(layer.bias, v, layer.weight.t())
            d1 = d1 @ layer.weight.t()
            d2 = None if d2 is None else d2 @ layer.weight.t()
        else:
            t = torch.tanh(v)
            s = 1 - t * t
            curv = -2 * t * s * (d1 * d1).sum(0)
            d2 = curv if d2 is None else s * d2 + curv
            d1 = s * d1
            v = t
    return d2[:, 0]


def steps_per_second(lap_fn, points, seconds, dtype, device):
    net = make_net(dtype, device)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x = torch.rand(points, 2, dtype=dtype, device=device)
    f = 2 * math.pi ** 2 * torch.sin(math.pi * x[:, 0]) * torch.sin(math.pi * x[:, 1])

    def step():
        opt.zero_grad()
        loss = (-lap_fn(net, x) - f).square().mean()
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(5):
        step()
    n, t0 = 0, time.perf_counter()
    while True:
        step()
        n += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds and n >= 10:
            return n / elapsed


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--points", type=int, default=8192)
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    p.add_argument("--device", default="cpu")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    dtype = getattr(torch, a.dtype)
    print(f"py_nested_autograd_steps_per_s {steps_per_second(laplacian_nested, a.points, a.seconds, dtype, a.device):.3f}")
    print(f"py_taylor_steps_per_s {steps_per_second(laplacian_taylor, a.points, a.seconds, dtype, a.device):.3f}")
    print(f"config torch={torch.__version__} threads={torch.get_num_threads()} dtype={a.dtype} device={a.device}")


if __name__ == "__main__":
    main()
