// The high-dimensional test problems of the SDGD paper (Hu, Shukla, Karniadakis & Kawaguchi 2023), with the
// paper's training setup, for any dimension d (10^2 ... 10^5 and beyond).
//
// On the unit ball B^d, zero on the sphere, with c_i ~ N(0, 1) fixed by the seed (or given):
//   u*(x) = (1 - |x|^2) sum_{i=1}^{d-1} c_i sin(x_i + cos x_{i+1} + x_{i+1} cos x_i)
//   poisson      laplace(u)             = g
//   allen_cahn   laplace(u) + u - u^3   = g
//   sine_gordon  laplace(u) + sin(u)    = g        with g the left-hand side applied to u* (closed form).
// Ansatz u = (1 - |x|^2) MLP(x) (exact on the sphere); residual points x = r g/|g|, g ~ N(0, I), r ~ U(0, 1),
// redrawn every step.
//
//   HighDimPinn pinn(HighDimOptions().dim(1000).laplacian(sdgd), runtime.options());
//   Trainer trainer(pinn.network().ptr(), [&](int64_t step) { return pinn.loss(step); }, trainer_options);
#pragma once

#include "core/network.h"
#include "core/trainer.h"
#include "pinn/sdgd.h"

#include <torch/types.h>

#include <functional>
#include <string>

namespace physis::pinn {

enum class HighDimEquation { poisson, allen_cahn, sine_gordon };
HighDimEquation parse_high_dim_equation(const std::string& text);  // poisson | allen_cahn | sine_gordon
std::string high_dim_equation_name(HighDimEquation equation);

class HighDimBall {
 public:
  HighDimBall(int64_t dim, HighDimEquation equation, uint64_t seed);
  // With the coefficients c_i given ([d - 1]), e.g. another program's instance.
  HighDimBall(int64_t dim, HighDimEquation equation, torch::Tensor coefficients);

  torch::Tensor exact(const torch::Tensor& x) const;            // u* [N]
  torch::Tensor exact_laplacian(const torch::Tensor& x) const;  // laplace(u*) [N], closed form
  torch::Tensor nonlinear(const torch::Tensor& u) const;        // 0, u - u^3 or sin(u)
  torch::Tensor source(const torch::Tensor& x) const;           // g = laplace(u*) + nonlinear(u*)
  // n points r g/|g| (torch's global generator), in the options' dtype and device.
  torch::Tensor sample(int64_t n, const torch::TensorOptions& options) const;

  int64_t dim() const { return dim_; }
  HighDimEquation equation() const { return equation_; }

 private:
  int64_t dim_;
  HighDimEquation equation_;
  torch::Tensor c_;  // [d - 1], float64 on the CPU
};

struct HighDimOptions {
  TORCH_ARG(int64_t, dim) = 100;
  TORCH_ARG(HighDimEquation, equation) = HighDimEquation::poisson;
  TORCH_ARG(std::vector<int64_t>, hidden) = {128, 128, 128};
  TORCH_ARG(std::string, init) = "glorot";         // MLPOptions::init: glorot, or fan_in (LibTorch's default)
  TORCH_ARG(int64_t, points) = 100;                 // residual points per step
  TORCH_ARG(StochasticLaplacian, laplacian) = {};  // dims >= d: the exact Laplacian
  TORCH_ARG(bool, nested_backward) = false;        // the sampled u_ii by backward-of-backward instead of Taylor mode
  TORCH_ARG(int64_t, test_points) = 20000;
  TORCH_ARG(uint64_t, seed) = 0;
  TORCH_ARG(torch::Tensor, coefficients) = {};     // c_i [d - 1]; undefined: drawn from the seed
};

class HighDimPinn {
 public:
  HighDimPinn(HighDimOptions options, const torch::TensorOptions& tensor_options);

  MLP network() const { return net_; }
  const HighDimBall& problem() const { return problem_; }
  torch::Tensor predict(const torch::Tensor& x);  // (1 - |x|^2) MLP(x), [N]
  // One step's loss on freshly drawn points and axes.
  LossTerms loss(int64_t step);
  // Relative L2 error on the fixed test points: {"l2re_u", ...}.
  Metrics evaluate();

  // laplace(u) estimated from one draw (scale * sum of u_ii along the draw), with graph; forward or nested mode.
  torch::Tensor laplacian_estimate(const torch::Tensor& x, const StochasticLaplacian::Draw& draw);
  // sum of u_ii over axes by backward-of-backward, with graph.
  torch::Tensor nested_second_derivatives(const torch::Tensor& x, const std::vector<int64_t>& axes);

 private:
  HighDimOptions options_;
  torch::TensorOptions tensor_options_;
  HighDimBall problem_;
  MLP net_{nullptr};
  void for_test_chunks(const std::function<void(const torch::Tensor&)>& visit) const;
};

}  // namespace physis::pinn
