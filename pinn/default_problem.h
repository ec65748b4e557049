// The problem `physis solve` runs when no problem file is given: a 2D Poisson equation with an exact solution,
//   -laplace(u) = 2 pi^2 sin(pi x) sin(pi y)  on (0,1)^2,   u = 0 on the boundary,   u = sin(pi x) sin(pi y).
// Soft boundary condition, MLP 4x50 tanh, 4096 interior / 1024 boundary points, Adam (cosine schedule) then
// L-BFGS: about a minute on two cores.
#pragma once

#include "core/network.h"
#include "core/runtime.h"
#include "core/trainer.h"
#include "pinn/field_output.h"

#include <filesystem>

namespace physis::pinn {

struct DefaultPoissonOptions {
  TORCH_ARG(int64_t, interior_points) = 4096;
  TORCH_ARG(int64_t, boundary_points) = 1024;
  TORCH_ARG(std::vector<int64_t>, hidden) = std::vector<int64_t>(4, 50);
  TORCH_ARG(int64_t, steps) = 1500;           // Adam steps
  TORCH_ARG(int64_t, lbfgs_steps) = 500;      // then L-BFGS iterations (0: none)
  TORCH_ARG(double, lr) = 3e-3;
  TORCH_ARG(bool, taylor) = true;  // forward-mode Laplacian (false: nested reverse-mode autograd)
  TORCH_ARG(int64_t, grid) = 101;  // output grid resolution per axis
};

class DefaultPoisson {
 public:
  DefaultPoisson(DefaultPoissonOptions options, const Runtime& runtime);

  FieldNetwork network() const { return net_; }
  LossTerms loss(int64_t step);
  Metrics evaluate();             // relative L2 error of u on the output grid
  TrainerOptions trainer_options(const std::string& output_dir) const;
  // Writes the prediction, exact solution and error on the grid (CSV; .vti too when built with VTK).
  void write_fields(const std::filesystem::path& folder);

 private:
  torch::Tensor exact(const torch::Tensor& x) const;   // [N, 2] -> [N]
  torch::Tensor source(const torch::Tensor& x) const;  // [N, 2] -> [N]
  EvaluationGrid output_grid() const;                  // G x G nodes, x fastest

  DefaultPoissonOptions options_;
  Runtime runtime_;
  FieldNetwork net_{nullptr};
  torch::Tensor interior_, boundary_, source_values_;
};

}  // namespace physis::pinn
