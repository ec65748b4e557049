// Finite-difference solver for steady Darcy flow, -div(a grad u) = f, u = 0 on the boundary, on the unit square
// or on a masked part of it: the reference solutions of the FNO and MT-DeepONet Darcy benchmarks.
//
//   DarcySolver solver(85);                           // 85 x 85 vertex grid over [0, 1]^2
//   torch::Tensor u = solver.solve(a, torch::ones({85, 85}, torch::kFloat64));  // a, f, u: [85, 85], rows y
//
// Discretisation: vertices x_i = i h, h = 1/(n - 1); the 5-point stencil
//   (1/h^2) sum over the 4 neighbours N of P of a_PN (u_P - u_N) = f_P
// with face coefficients a_PN the harmonic mean 2 a_P a_N / (a_P + a_N) of the two vertex values: second order
// for smooth a, and flux-continuous across jumps (the usual choice for piecewise-constant permeability).
// The domain is the closed set of vertices where mask = 1. A masked vertex is an unknown when it is off the
// square's edge and its 4 neighbours are masked too; every other vertex (the domain's boundary and outside) holds
// u = 0. The symmetric positive definite system is assembled into an Eigen::SparseMatrix and solved directly
// (SimplicialLDLT, the default: fastest here, see docs/datagen.md) or by conjugate gradients with an incomplete
// Cholesky preconditioner.
#pragma once

#include <torch/arg.h>
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>

namespace physis::ops {

struct DarcySolverOptions {
  TORCH_ARG(std::string, method) = "direct";  // direct (SimplicialLDLT) | cg (ConjugateGradient + IncompleteCholesky)
  TORCH_ARG(double, tolerance) = 1e-10;       // cg: relative residual
  TORCH_ARG(bool, warm_start) = false;        // cg: start from the previous solution of this solver
};

// False when physis was built without Eigen: DarcySolver then throws.
bool darcy_solver_available();

class DarcySolver {
 public:
  // n x n vertices over [0, 1]^2; mask [n, n] (nonzero = domain), undefined for the whole square.
  // Throws std::runtime_error naming the missing library when the build lacks Eigen.
  explicit DarcySolver(int64_t n, const torch::Tensor& mask = {}, DarcySolverOptions options = {});
  ~DarcySolver();
  DarcySolver(DarcySolver&&) noexcept;
  DarcySolver& operator=(DarcySolver&&) noexcept;

  // a > 0 and f on the vertices, [n, n] (rows y, columns x); returns u [n, n] float64, 0 off the unknowns.
  // The sparsity pattern is analysed once and reused by every solve.
  torch::Tensor solve(const torch::Tensor& a, const torch::Tensor& f);

  int64_t resolution() const;
  int64_t unknowns() const;
  // [n, n] bool: the vertices that are unknowns (the domain's interior).
  torch::Tensor interior() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One solve with a fresh solver.
torch::Tensor solve_darcy(const torch::Tensor& a, const torch::Tensor& f, const torch::Tensor& mask = {},
                          DarcySolverOptions options = {});

}  // namespace physis::ops
