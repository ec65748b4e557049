#!/usr/bin/env python3
"""Drag of a PINN's DFG 2D-1 field read just off the cylinder, to compare with the wall integral physis reports.

Reads the results folder's fields.csv (x, y, u, v, p on the regular output grid; points inside the cylinder are
absent), interpolates bilinearly on two rings just outside the cylinder and extrapolates to the wall:
  - pressure: linear extrapolation of the two rings' p to r = R;
  - wall shear: the tangential velocity fitted as b d + c d^2 through 0 at the wall (no slip) and the two rings
    (d = r - R), so nu du_t/dn = nu b.
The coefficients are C = coefficient * F, F the force of the fluid on the cylinder (500 for the dimensional
problem, 2 for the one scaled by D and U_mean). Where this differs from the wall integral, the network's values at
the wall disagree with its field a grid cell or two away: a thin layer that the collocation points do not watch.
This is a rough check (the grid spacing limits it), not a drag evaluation to quote against the reference.
It also prints the mass flow through cross-sections x = const as a fraction of the inflow (trapezoid rule on the
grid): an incompressible flow carries the same flow through every section, so a falling fraction shows mass lost
inside the channel (e.g. in thin layers along the walls) that the pointwise continuity residual lets pass.

  bench/dfg_near_field.py RESULTS [RESULTS ...]                       dimensional problem
  bench/dfg_near_field.py --scale 10 --nu 0.05 --coefficient 2 RESULTS  problem scaled by D = 0.1, U_mean = 0.2
"""
import argparse

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", nargs="+")
    ap.add_argument("--scale", type=float, default=1.0, help="length unit: cylinder centre 0.2 * scale etc.")
    ap.add_argument("--nu", type=float, default=1e-3)
    ap.add_argument("--coefficient", type=float, default=500.0)
    ap.add_argument("--rings", type=float, nargs=2, default=[0.058, 0.066], help="ring radii (unscaled)")
    a = ap.parse_args()
    cx = cy = 0.2 * a.scale
    radius = 0.05 * a.scale
    r1, r2 = (r * a.scale for r in a.rings)
    for folder in a.results:
        data = np.loadtxt(folder + "/fields.csv", delimiter=",", skiprows=1)
        xs, ys = np.unique(data[:, 0]), np.unique(data[:, 1])
        hx, hy = xs[1] - xs[0], ys[1] - ys[0]
        shape = (len(ys), len(xs))
        i = np.rint((data[:, 0] - xs[0]) / hx).astype(int)
        j = np.rint((data[:, 1] - ys[0]) / hy).astype(int)
        fields = {}
        for k, name in ((2, "u"), (3, "v"), (4, "p")):
            f = np.full(shape, np.nan)
            f[j, i] = data[:, k]
            fields[name] = f
        theta = np.linspace(0, 2 * np.pi, 2001)[:-1]

        def ring(name, r):
            px, py = (cx + r * np.cos(theta) - xs[0]) / hx, (cy + r * np.sin(theta) - ys[0]) / hy
            i0, j0 = np.floor(px).astype(int), np.floor(py).astype(int)
            fx, fy = px - i0, py - j0
            f = fields[name]
            value = (f[j0, i0] * (1 - fx) * (1 - fy) + f[j0, i0 + 1] * fx * (1 - fy) +
                     f[j0 + 1, i0] * (1 - fx) * fy + f[j0 + 1, i0 + 1] * fx * fy)
            if np.isnan(value).any():
                raise SystemExit(f"{folder}: a ring at r = {r} touches grid points inside the cylinder; "
                                 "use larger --rings")
            return value

        p1, p2 = ring("p", r1), ring("p", r2)
        p_wall = p1 + (p1 - p2) * (r1 - radius) / (r2 - r1)
        length = 2 * np.pi * radius
        pressure = -np.mean(p_wall * np.cos(theta)) * length

        def tangential(r):
            return -ring("u", r) * np.sin(theta) + ring("v", r) * np.cos(theta)

        d1, d2 = r1 - radius, r2 - radius
        t1, t2 = tangential(r1), tangential(r2)
        c = (t2 / d2 - t1 / d1) / (d2 - d1)
        b = t1 / d1 - c * d1
        viscous = np.mean(a.nu * b * -np.sin(theta)) * length
        front, back = np.argmin(np.abs(xs - (cx - radius))), np.argmin(np.abs(xs - (cx + radius)))
        row = np.argmin(np.abs(ys - cy))
        dp = fields["p"][row, front] - fields["p"][row, back]
        print(f"{folder}: C_D from the near field {a.coefficient * (pressure + viscous):.3f} "
              f"(pressure {a.coefficient * pressure:.3f}, viscous {a.coefficient * viscous:.3f}); "
              f"p(front) - p(back) {dp:.4g}")
        u = np.nan_to_num(fields["u"])  # zero inside the cylinder, as on its wall
        inflow = np.trapezoid(u[:, 0], ys)
        sections = []
        for x in (0.1, 0.15, 0.2, 0.3, 0.5, 1.0, 1.5, 2.2):
            k = np.argmin(np.abs(xs - x * a.scale))
            sections.append(f"{xs[k]:.3g}: {np.trapezoid(u[:, k], ys) / inflow:.3f}")
        print(f"  mass flow / inflow at x = " + ", ".join(sections))


if __name__ == "__main__":
    main()
