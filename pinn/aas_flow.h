// A normalizing flow whose samples lie in a box: the generator of adversarial adaptive sampling (pinn/aas.h).
//
//   BoxFlow flow(BoxFlowOptions({-1, -1}, {1, 1}).couplings(4).hidden(32));
//   auto [x, log_p] = flow->sample(1000, sampler);   // [1000, 2] in the box, [1000] log-density there
//   auto log_p2 = flow->log_prob(x);                 // the same density, differentiable in x and the parameters
//
// The map, from z in R^d with independent standard logistic coordinates (density sigma(z) (1 - sigma(z))) to x in
// the box [lower, upper]:
//   1. affine couplings, KRnet / Real NVP style: half of the coordinates (alternating) are scaled and shifted by
//      amounts an MLP computes from the other half, y_a = z_a exp(s(z_p)) + t(z_p), with log-scales bounded by
//      max_log_scale tanh(.) for stability;
//   2. an elementwise scale and shift (KRnet's scale-bias layer);
//   3. the bounded-domain map u = sigma(y) (the logistic function, the base's CDF) onto (0, 1)^d, then
//      x = lower + (upper - lower) u.
// With the couplings at identity (their last layers start at zero) and no scale or shift, u = sigma(z) is exactly
// uniform: the untrained flow is the uniform density 1 / |box|. The logistic's exponential tails keep u off 0 and 1
// in floating point far longer than a normal CDF would (|y| up to 36 in float64, 16 in float32), so that the
// inverse stays exact for nearly all samples. The log-density follows from the change of variables,
// log p(x) = log l(z) - sum of log-scales - log l(y) - sum_j log(upper_j - lower_j), l the base density (also the
// logistic's derivative), and every layer is inverted in closed form, so log_prob evaluates it at any point.
#pragma once

#include "core/network.h"
#include "geometry/sampler.h"

#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>

#include <utility>
#include <vector>

namespace physis::pinn {

struct BoxFlowOptions {
  BoxFlowOptions(std::vector<double> lower, std::vector<double> upper)
      : lower_(std::move(lower)), upper_(std::move(upper)) {}
  TORCH_ARG(std::vector<double>, lower);   // the box, one entry per coordinate
  TORCH_ARG(std::vector<double>, upper);
  TORCH_ARG(int64_t, couplings) = 4;       // affine coupling layers
  TORCH_ARG(int64_t, hidden) = 32;         // width of the two hidden layers of each coupling's MLP
  TORCH_ARG(double, max_log_scale) = 2.0;  // bound on each coupling's log-scale per layer
};

class BoxFlowImpl : public torch::nn::Cloneable<BoxFlowImpl> {
 public:
  explicit BoxFlowImpl(BoxFlowOptions options);
  void reset() override;

  int64_t dim() const { return static_cast<int64_t>(options.lower().size()); }
  // The map of the flow: base points z [N, d] to points x [N, d] in the closed box, with log p(x) [N].
  std::pair<torch::Tensor, torch::Tensor> transform(const torch::Tensor& z);
  // n points drawn from the flow ([n, d], inside the closed box) and their log-density ([n]); the base draws come
  // from `sampler`'s uniform numbers, so a seeded sampler gives the same points on every device.
  std::pair<torch::Tensor, torch::Tensor> sample(int64_t n, geometry::Sampler& sampler);
  // [N] log-density at x [N, d] (points on or outside the box are moved just inside it).
  torch::Tensor log_prob(const torch::Tensor& x);
  // log of the box's volume: the uniform density is exp(-log_volume()).
  double log_volume() const;
  // [d] lower and upper - lower, as tensors on like's device and dtype.
  torch::Tensor lower(const torch::Tensor& like) const;
  torch::Tensor extent(const torch::Tensor& like) const;

  BoxFlowOptions options;
  torch::nn::ModuleList conditioners{nullptr};  // one MLP per coupling, [N, d] -> [N, 2d]
  torch::Tensor masks;                          // [couplings, d] buffer: 1 where a coupling conditions (passes)
  torch::Tensor log_scale, shift;               // [d] the scale-bias layer

 private:
  // Scale and shift of coupling k for input y: each [N, d], zero on the conditioning coordinates.
  std::pair<torch::Tensor, torch::Tensor> coupling(int64_t k, const torch::Tensor& y);
};
TORCH_MODULE(BoxFlow);

}  // namespace physis::pinn
