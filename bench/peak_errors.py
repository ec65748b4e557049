#!/usr/bin/env python3
"""Where the error of a peak problem lies: at the peaks or in the background.

Reads the output grid of `physis solve` results folders (fields.csv: x, y, u, u_ref, u_err) of the AAS paper's
peak problems (problems/adaptive/peak2d*.yaml, twopeak2d*.yaml) and prints, per folder, the relative L2 error of u,
and for each peak (a disk of --radius around its centre) the largest |u| there (the exact peak height is 1), the
share of the squared error inside it and the largest error; then the rms and largest error of the background, the
grid points outside every disk.

    bench/peak_errors.py RESULTS...                      the two peaks of twopeak2d, (0.5, 0.5) and (-0.5, -0.5)
    bench/peak_errors.py --peaks 0.5,0.5 RESULTS...      one peak (peak2d)
    bench/peak_errors.py --residual RESULTS...           also where the error's source lies (below)

With --residual (a regular output grid): the residual of the prediction against the exact equation,
-laplace(u) - f = -laplace(u - u_ref), by the 5-point finite-difference Laplacian of u - u_ref on the grid's inner
points, integrated over each peak's disk and over the background. The error e = u - u_ref solves -laplace(e) = that
residual with e = 0 on the boundary, so a large integral away from the peaks means a smooth background error that
the residual there drives.
"""
import argparse
import pathlib
import sys

import numpy as np


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", type=pathlib.Path, help="physis solve results folders")
    parser.add_argument("--peaks", nargs="+", default=["0.5,0.5", "-0.5,-0.5"], help="peak centres, x,y each")
    parser.add_argument("--radius", type=float, default=0.1, help="radius of each peak's disk (default 0.1)")
    parser.add_argument("--residual", action="store_true",
                        help="integrate the finite-difference residual over the peaks and the background")
    args = parser.parse_args()
    try:
        centres = [tuple(float(c) for c in p.split(",")) for p in args.peaks]
        if any(len(c) != 2 for c in centres):
            raise ValueError
    except ValueError:
        sys.exit("peak_errors.py: --peaks takes x,y pairs, e.g. --peaks 0.5,0.5 -0.5,-0.5")
    status = 0
    for folder in args.results:
        path = folder / "fields.csv"
        try:
            table = np.genfromtxt(path, delimiter=",", names=True)
            x, y, u, ref, err = (table[k] for k in ("x", "y", "u", "u_ref", "u_err"))
        except (OSError, ValueError) as e:
            print(f"{path}: cannot read the fields of a 2-D problem with output u and a reference ({e})",
                  file=sys.stderr)
            status = 1
            continue
        total = np.sum(err**2)
        parts = [f"{folder}: l2re {np.sqrt(total / np.sum(ref**2)):.3g}"]
        background = np.ones_like(x, dtype=bool)
        for cx, cy in centres:
            inside = (x - cx) ** 2 + (y - cy) ** 2 < args.radius**2
            background &= ~inside
            parts.append(f"peak ({cx:g}, {cy:g}): max|u| {np.abs(u[inside]).max():.3f}, "
                         f"error share {np.sum(err[inside]**2) / total:.3f}, maxerr {np.abs(err[inside]).max():.3g}")
        parts.append(f"background: rms error {np.sqrt(np.mean(err[background]**2)):.3g}, "
                     f"maxerr {np.abs(err[background]).max():.3g}, error share "
                     f"{np.sum(err[background]**2) / total:.3f}")
        if args.residual:
            parts.append(residual_integrals(x, y, u - ref, centres, args.radius))
        print("; ".join(parts))
    return status


def residual_integrals(x, y, e, centres, radius):
    """Integrals of -laplace_h(e) over each peak's disk and the background (inner grid points), as text."""
    xs, ys = np.unique(x), np.unique(y)
    if xs.size * ys.size != x.size:
        return "residual: the output is not a regular grid"
    order = np.lexsort((x, y))  # rows of constant y, x increasing
    grid = e[order].reshape(ys.size, xs.size)
    hx, hy = xs[1] - xs[0], ys[1] - ys[0]
    lap = ((grid[1:-1, 2:] - 2 * grid[1:-1, 1:-1] + grid[1:-1, :-2]) / hx**2 +
           (grid[2:, 1:-1] - 2 * grid[1:-1, 1:-1] + grid[:-2, 1:-1]) / hy**2)
    X, Y = np.meshgrid(xs[1:-1], ys[1:-1])
    r = -lap * hx * hy  # residual times the cell area
    background = np.ones_like(X, dtype=bool)
    parts = []
    for cx, cy in centres:
        inside = (X - cx) ** 2 + (Y - cy) ** 2 < radius**2
        background &= ~inside
        parts.append(f"({cx:g}, {cy:g}) {r[inside].sum():.3g}")
    return "residual integral: " + ", ".join(parts) + f", background {r[background].sum():.3g}"


if __name__ == "__main__":
    sys.exit(main())
