// Stochastic estimates of a Laplacian over many axes, for PDEs in high dimension (Hu, Shukla, Karniadakis &
// Kawaguchi 2023, "Tackling the curse of dimensionality with physics-informed neural networks").
//
// A Laplacian over d axes is a sum of d terms. SDGD draws B of them each step and scales by d / B; Hutchinson's
// estimator draws V Rademacher probes v and averages v^T H v. Either way the network is pushed forward (Taylor mode,
// core/taylor.h) along B (or V) directions only, so time and memory grow with B, not with d.
//
//   training:
//     sdgd: {dims: 16, form: unbiased}          # or {estimator: hutchinson, probes: 16}
//
// The squared residual r^2 of the loss is estimated in one of three forms:
//   biased     r_I^2 with one draw I (the simple form; its gradient is biased by the draw's variance);
//   unbiased   r_J * (2 r_I - sg(r_I)) with two independent draws I, J and J detached: value and gradient are
//              unbiased estimates of r^2 and of grad r^2 = 2 r grad r;
//   detached   the same with the full residual (all d axes, detached) in place of r_J: lower variance, but one
//              d-direction forward pass per step (no graph).
#pragma once

#include "core/config.h"
#include "core/taylor.h"

#include <torch/types.h>

#include <string>
#include <vector>

namespace physis::pinn {

enum class LaplacianEstimator { sdgd, hutchinson };
enum class SquaredResidualForm { biased, unbiased, detached };

struct StochasticLaplacian {
  LaplacianEstimator estimator = LaplacianEstimator::sdgd;
  int64_t samples = 16;  // B axes (sdgd) or V probes (hutchinson) per draw
  SquaredResidualForm form = SquaredResidualForm::unbiased;

  // Seeds for one draw over `axes` (the Laplacian's axes) at points x [N, d]: the Laplacian estimate is
  // scale * (sum of the second derivatives along the seeds), i.e. jet.second_sum() * scale.
  struct Draw {
    Jet seed;
    double scale = 1.0;
  };
  Draw draw(const torch::Tensor& x, const std::vector<int64_t>& axes) const;

  // Reads the `training.sdgd` section; mistakes name file and line.
  static StochasticLaplacian from_config(const config::Section& section);
};

// The loss's estimate of r^2 per point from an estimate r (with graph) and, for the unbiased and detached forms,
// an independent detached partner estimate: partner * (2 r - sg(r)). Without a partner: r^2.
torch::Tensor squared_residual(const torch::Tensor& r, const torch::Tensor& partner);

}  // namespace physis::pinn
