#!/usr/bin/env python3
"""Exact solution of Burgers1d-C by the Cole-Hopf transform, against PINNacle's COMSOL reference.

    u_t + u u_x = nu u_xx on x in [-1, 1], t in [0, 1],  u(x, 0) = -sin(pi x),  u(+-1, t) = 0,  nu = 0.01/pi.

With f(y) = exp(-cos(pi y) / (2 pi nu)) and the heat kernel G(eta) = exp(-eta^2 / (4 nu t)),

    u(x, t) = -int sin(pi (x - eta)) f(x - eta) G(eta) d eta / int f(x - eta) G(eta) d eta

over the real line (the 2-periodic odd initial data make u vanish at x = +-1 by symmetry). The integrals are
evaluated by the trapezoidal rule on a fine uniform grid, with the largest exponent factored out so that nothing
overflows; --check evaluates on a finer, wider grid to show the digits are converged and compares the steepest
slope with the published value.

Prints the relative L2 error of the reference file against the exact solution at the reference's own points, per
time and overall; with --results (a `physis solve` results folder of a Burgers1d-C problem, whose reference.csv
holds the prediction at those points) also the prediction's error against both; --write saves the exact solution at
the reference points as a CSV (x,t,u) that a problem file can use as `reference: {file: ..., format: csv}`;
--observations FILE saves --points random points (seeded by --seed) of Raissi et al.'s 256 x 100 grid (x in [-1, 1],
t in [0, 0.99]) with the exact solution there, the data of their identification problem, for a `data` condition.
"""
import argparse
import pathlib
import sys

import numpy as np

NU = 0.01 / np.pi


def cole_hopf(x, t, n=160001, half_width=4.0):
    """u(x, t) at the points x (1-D array) and one time t."""
    x = np.asarray(x, dtype=np.float64)
    if t == 0.0:
        return -np.sin(np.pi * x)
    eta = np.linspace(-half_width, half_width, n)
    out = np.empty_like(x)
    for i, xi in enumerate(x):
        y = xi - eta
        exponent = -np.cos(np.pi * y) / (2 * np.pi * NU) - eta**2 / (4 * NU * t)
        weight = np.exp(exponent - exponent.max())
        out[i] = -np.trapezoid(np.sin(np.pi * y) * weight, eta) / np.trapezoid(weight, eta)
    return out


def read_comsol(path):
    """x and the u columns of a COMSOL export with one column per time (times read from the header)."""
    times, rows = None, []
    for line in pathlib.Path(path).read_text(encoding="utf-8").splitlines():
        if line.startswith("%"):
            if "@ t=" in line:
                times = [float(part.split()[0]) for part in line.split("@ t=")[1:]]
            continue
        if line.strip():
            rows.append([float(v) for v in line.split()])
    if times is None or not rows:
        sys.exit(f"{path}: not a COMSOL time-series export (no '@ t=' header or no data rows)")
    data = np.array(rows)
    return data[:, 0], np.array(times), data[:, 1:]


def rel_l2(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


def main():
    here = pathlib.Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference", default=str(here.parent.parent / "shared/reference/burgers1d.dat"),
                        help="PINNacle's COMSOL file (default: ../shared/reference/burgers1d.dat)")
    parser.add_argument("--results", help="a physis results folder of Burgers1d-C (reads its reference.csv)")
    parser.add_argument("--write", help="write the exact solution at the reference points to this CSV")
    parser.add_argument("--check", action="store_true", help="also evaluate on a 4x finer, 1.5x wider grid")
    parser.add_argument("--observations", metavar="FILE",
                        help="write --points random points of the exact solution on a 256 x 100 grid to this CSV")
    parser.add_argument("--points", type=int, default=2000, help="observations to write (default 2000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the observations' draw (default 0)")
    args = parser.parse_args()

    if args.observations:
        grid_x, grid_t = np.linspace(-1, 1, 256), np.linspace(0, 0.99, 100)
        pick = np.random.default_rng(args.seed).choice(grid_x.size * grid_t.size, args.points, replace=False)
        xs, ts = grid_x[pick % grid_x.size], grid_t[pick // grid_x.size]
        us = np.empty_like(xs)
        for t in np.unique(ts):
            at = ts == t
            us[at] = cole_hopf(xs[at], t)
        np.savetxt(args.observations, np.column_stack([xs, ts, us]), delimiter=",", header="x,t,u", comments="",
                   fmt="%.17g")
        print(f"wrote {args.observations}: {args.points} observations of the exact solution (seed {args.seed})")
        return

    x, times, ref = read_comsol(args.reference)
    exact = np.stack([cole_hopf(x, t) for t in times], axis=1)
    if args.check:
        finer = np.stack([cole_hopf(x, t, n=640001, half_width=6.0) for t in times], axis=1)
        print(f"quadrature: largest change on the finer grid {np.abs(finer - exact).max():.2e}")
        # Basdevant et al. (1986): the steepest slope, at x = 0 and t = 1.6037/pi, is -152.00516.
        h, t = 1e-7, 1.6037 / np.pi
        left, right = cole_hopf(np.array([-h, h]), t, n=640001)
        print(f"slope u_x(0, 1.6037/pi) = {(right - left) / (2 * h):.5f} (Basdevant et al. 1986: -152.00516)")

    prediction = None
    if args.results:
        path = pathlib.Path(args.results) / "reference.csv"
        if not path.is_file():
            sys.exit(f"{path}: not found (run `physis solve` on a Burgers1d-C problem with the COMSOL reference)")
        table = np.genfromtxt(path, delimiter=",", names=True)
        prediction = np.empty_like(ref)
        for j, t in enumerate(times):
            for i, xi in enumerate(x):
                hit = np.flatnonzero((np.abs(table["x"] - xi) < 1e-6) & (np.abs(table["t"] - t) < 1e-6))
                if hit.size != 1:
                    sys.exit(f"{path}: no single prediction at x = {xi}, t = {t}")
                prediction[i, j] = table["u"][hit[0]]

    header = f"{'t':>5}  {'reference vs exact':>18}"
    if prediction is not None:
        header += f"  {'prediction vs reference':>23}  {'prediction vs exact':>19}"
    print(header)
    for j, t in enumerate(times):
        line = f"{t:5.2f}  {rel_l2(ref[:, j], exact[:, j]):18.2e}"
        if prediction is not None:
            line += f"  {rel_l2(prediction[:, j], ref[:, j]):23.2e}  {rel_l2(prediction[:, j], exact[:, j]):19.2e}"
        print(line)
    line = f"{'all':>5}  {rel_l2(ref, exact):18.2e}"
    if prediction is not None:
        line += f"  {rel_l2(prediction, ref):23.2e}  {rel_l2(prediction, exact):19.2e}"
    print(line)
    worst = np.unravel_index(np.abs(ref - exact).argmax(), ref.shape)
    print(f"largest |reference - exact| {np.abs(ref - exact).max():.3f} at x = {x[worst[0]]:.2f}, "
          f"t = {times[worst[1]]:.1f} (reference {ref[worst]:.4f}, exact {exact[worst]:.4f})")
    if prediction is not None:
        print(f"largest |prediction - exact| {np.abs(prediction - exact).max():.3f}")

    if args.write:
        xx, tt = np.meshgrid(x, times, indexing="ij")
        table = np.column_stack([xx.ravel(), tt.ravel(), exact.ravel()])
        np.savetxt(args.write, table, delimiter=",", header="x,t,u", comments="", fmt="%.17g")
        print(f"wrote {args.write}")


if __name__ == "__main__":
    main()
