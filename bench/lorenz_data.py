#!/usr/bin/env python3
"""Observations of the Lorenz system for problems/inverse/lorenz.yaml (DeepXDE's Lorenz inverse example).

    x' = C1 (y - x),  y' = x (C2 - z) - y,  z' = x y - C3 z,   C1 = 10, C2 = 15, C3 = 8/3,  (x, y, z)(0) = (-8, 7, 27)

integrated by the classical Runge-Kutta method with step 1e-5 (halving it changes no written digit), written at
t = 0, 0.05, ..., 3 as a CSV (t,x,y,z) with 10 significant digits:

    .venv/bin/python bench/lorenz_data.py problems/inverse/data/lorenz_observations.csv
"""
import argparse

import numpy as np

C1, C2, C3 = 10.0, 15.0, 8.0 / 3.0


def rhs(s):
    x, y, z = s
    return np.array([C1 * (y - x), x * (C2 - z) - y, x * y - C3 * z])


def integrate(times, h):
    state, t, out = np.array([-8.0, 7.0, 27.0]), 0.0, []
    for target in times:
        steps = int(round((target - t) / h))
        for _ in range(steps):
            k1 = rhs(state)
            k2 = rhs(state + 0.5 * h * k1)
            k3 = rhs(state + 0.5 * h * k2)
            k4 = rhs(state + h * k3)
            state = state + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        t = target
        out.append(state.copy())
    return np.array(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output", help="CSV file to write")
    parser.add_argument("--check", action="store_true", help="also integrate with half the step and compare")
    args = parser.parse_args()
    times = np.round(np.arange(61) * 0.05, 10)
    states = integrate(times, 1e-5)
    if args.check:
        finer = integrate(times, 5e-6)
        print(f"largest change with half the step: {np.abs(finer - states).max():.2e}")
    with open(args.output, "w", encoding="utf-8") as f:
        f.write("# Lorenz system, C1 = 10, C2 = 15, C3 = 8/3, from (-8, 7, 27); bench/lorenz_data.py\n")
        f.write("t,x,y,z\n")
        for t, s in zip(times, states):
            f.write(f"{t:.2f},{s[0]:.10g},{s[1]:.10g},{s[2]:.10g}\n")
    print(f"wrote {args.output}: {len(times)} observations")


if __name__ == "__main__":
    main()
