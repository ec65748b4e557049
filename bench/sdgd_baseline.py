#!/usr/bin/env python3
"""Idiomatic PyTorch baseline of the SDGD ball problem (Hu, Shukla, Karniadakis & Kawaguchi 2023), the same setup
as bench_sdgd: u = (1 - |x|^2) MLP(x), MLP [d, 128, 128, 128, 1] tanh with PyTorch's default initialisation, Adam
lr 1e-3 decaying linearly to 0, 100 residual points per step drawn as r g/|g|, the biased SDGD loss (B second
derivatives by nested backward, scaled by d/B, residual squared), relative L2 on 20 000 test points.

    .venv/bin/python bench/sdgd_baseline.py --dim 100 --dims 10 --steps 10000

It checks whether an error level seen in bench_sdgd belongs to the method and setup or to the engine.
"""
import argparse
import time

import numpy as np
import torch


def exact_and_laplacian(x, c):
    """u = (1 - |x|^2) s(x), s = sum_i c_i sin(x_i + cos x_{i+1} + x_{i+1} cos x_i), and its Laplacian."""
    a, b = x[:, :-1], x[:, 1:]
    phase = a + torch.cos(b) + b * torch.cos(a)
    da = 1 - b * torch.sin(a)            # d phase / d x_i
    db = -torch.sin(b) + torch.cos(a)    # d phase / d x_{i+1}
    s = (c * torch.sin(phase)).sum(1)
    grad_s = torch.zeros_like(x)
    grad_s[:, :-1] += c * torch.cos(phase) * da
    grad_s[:, 1:] += c * torch.cos(phase) * db
    lap_s = (c * (-torch.sin(phase) * da**2 + torch.cos(phase) * (-b * torch.cos(a)))).sum(1) + \
            (c * (-torch.sin(phase) * db**2 + torch.cos(phase) * (-torch.cos(b)))).sum(1)
    w = 1 - (x**2).sum(1)
    # laplace(w s) = w lap s + 2 grad w . grad s + s lap w, grad w = -2x, lap w = -2d
    lap = w * lap_s - 4 * (x * grad_s).sum(1) - 2 * x.shape[1] * s
    return w * s, lap


def ball_points(n, d, generator):
    g = torch.randn(n, d, generator=generator)
    r = torch.rand(n, 1, generator=generator)
    return g / g.norm(dim=1, keepdim=True) * r


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--dims", type=int, default=10, help="second derivatives drawn per step")
    parser.add_argument("--steps", type=int, default=10000)
    parser.add_argument("--points", type=int, default=100)
    parser.add_argument("--test-points", type=int, default=20000)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--coefficients", help="file of the d - 1 coefficients c_i (as bench_sdgd --coefficients)")
    parser.add_argument("--paper-instance", action="store_true",
                        help="c_i as the paper's code draws them: numpy.random.seed(seed); numpy.random.randn(d - 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    d = args.dim
    # c and the test points are drawn as bench_sdgd draws them (float64, generators seeded with seed and
    # seed + 7919), so both programs solve the same instance and measure on the same points.
    c = torch.randn(d - 1, generator=torch.Generator().manual_seed(args.seed), dtype=torch.float64)
    if args.paper_instance:
        c = torch.from_numpy(np.random.RandomState(args.seed).randn(d - 1))
    elif args.coefficients:
        c = torch.from_numpy(np.loadtxt(args.coefficients, dtype=np.float64).reshape(-1))
    if c.numel() != d - 1:
        raise SystemExit(f"{args.coefficients}: expected {d - 1} coefficients for d = {d} but got {c.numel()}")
    test_gen = torch.Generator().manual_seed(args.seed + 7919)
    g = torch.randn(args.test_points, d, generator=test_gen, dtype=torch.float64)
    x_test = (torch.rand(args.test_points, 1, generator=test_gen, dtype=torch.float64) * g / g.norm(dim=1, keepdim=True))
    u_test, _ = exact_and_laplacian(x_test, c)
    x_test, u_test, c = x_test.float(), u_test.float(), c.float()
    gen = torch.Generator().manual_seed(args.seed + 1)

    net = torch.nn.Sequential(torch.nn.Linear(d, 128), torch.nn.Tanh(), torch.nn.Linear(128, 128), torch.nn.Tanh(),
                              torch.nn.Linear(128, 128), torch.nn.Tanh(), torch.nn.Linear(128, 1))

    def model(x):
        return (1 - (x**2).sum(1)) * net(x).squeeze(1)

    optimizer = torch.optim.Adam(net.parameters(), lr=args.lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 - step / args.steps)

    def error():
        with torch.no_grad():
            return ((model(x_test) - u_test).norm() / u_test.norm()).item()

    start = time.time()
    for step in range(1, args.steps + 1):
        x = ball_points(args.points, d, gen).requires_grad_(True)
        _, f = exact_and_laplacian(x.detach(), c)
        u = model(x)
        (grad,) = torch.autograd.grad(u.sum(), x, create_graph=True)
        axes = torch.randperm(d, generator=gen)[: args.dims]
        lap = sum(torch.autograd.grad(grad[:, i].sum(), x, create_graph=True)[0][:, i] for i in axes.tolist())
        loss = ((lap * d / args.dims - f) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        if step % 1000 == 0 or step == args.steps:
            print(f"step {step} loss {loss.item():.4e} l2re {error():.4e} elapsed {time.time() - start:.1f} s",
                  flush=True)
    print(f"final l2re {error():.4e} steps_per_s {args.steps / (time.time() - start):.2f}")


if __name__ == "__main__":
    main()
