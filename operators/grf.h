// Gaussian random fields on regular grids, the input functions of the DeepONet and FNO benchmarks.
//
//   RbfGaussianField u(991);                              // DeepONet: RBF kernel, l = 0.2 on [0, 1]
//   FnoGaussianField g(85);                               // FNO: covariance (-Laplacian + 9 I)^-2 on [0, 1]^2
//   auto gen = sample_generator(/*seed=*/0, /*index=*/7);  // the stream of sample 7
//   torch::Tensor x = u.sample(gen);                       // [991] float64
//   torch::Tensor a = g.sample(gen);                       // [85, 85] float64, rows y, columns x
//
// Both draw spectrally: the covariance is diagonal in the Fourier basis of a periodic grid, so a draw is
// real(ifft(sqrt(eigenvalue) * (z1 + i z2))) with z1, z2 standard normal. One draw runs serially in float64 and
// consumes a fixed amount of its generator, so it is bitwise the same for any thread count.
#pragma once

#include <ATen/core/Generator.h>
#include <torch/arg.h>
#include <torch/types.h>

#include <cstdint>

namespace physis::ops {

// An independent generator for sample `index` of a dataset seeded with `seed` (splitmix64 of both): samples can
// be drawn in any order or in parallel, and sample i is the same whether 10 or 10000 are drawn.
at::Generator sample_generator(uint64_t seed, int64_t index);

// real(ifftn(sqrt_eig * (z1 + i z2))) over every dimension of sqrt_eig; float64, same shape as sqrt_eig.
torch::Tensor spectral_sample(const torch::Tensor& sqrt_eig, at::Generator& generator);

struct RbfGaussianFieldOptions {
  TORCH_ARG(double, length_scale) = 0.2;
  TORCH_ARG(double, lower) = 0.0;
  TORCH_ARG(double, upper) = 1.0;
};

// Zero-mean Gaussian process with covariance exp(-|x - x'|^2 / (2 l^2)) (unit variance) at `points` equispaced
// points of [lower, upper], ends included. The grid is embedded in a periodic one long enough (the interval plus
// 9 l) that the kernel has decayed below 1e-17 across the wrap, so the circulant embedding is exact to rounding.
class RbfGaussianField {
 public:
  explicit RbfGaussianField(int64_t points, RbfGaussianFieldOptions options = {});

  torch::Tensor sample(at::Generator& generator) const;  // [points] float64
  torch::Tensor grid() const;                            // [points] float64
  double kernel(double lag) const;
  int64_t points() const { return points_; }
  const RbfGaussianFieldOptions& options() const { return options_; }

 private:
  int64_t points_;
  RbfGaussianFieldOptions options_;
  torch::Tensor sqrt_eig_;  // [period]
};

struct FnoGaussianFieldOptions {
  TORCH_ARG(double, alpha) = 2.0;
  TORCH_ARG(double, tau) = 3.0;
  TORCH_ARG(double, sigma) = 0.0;  // 0: tau^(alpha - 1), the FNO default tau^(0.5 (2 alpha - d)) for d = 2
};

// The FNO paper's field on an s x s periodic grid over [0, 1)^2: Fourier coefficients
// sqrt(2) sigma (4 pi^2 |k|^2 + tau^2)^(-alpha/2) on the integer wavenumbers k (zero mean mode), scaled by s^2
// to undo the 1/s^2 of the inverse FFT, as in the FNO GaussianRF code (wavenumbers from fftfreq, so odd s works).
class FnoGaussianField {
 public:
  explicit FnoGaussianField(int64_t size, FnoGaussianFieldOptions options = {});

  torch::Tensor sample(at::Generator& generator) const;  // [size, size] float64, rows y, columns x
  // The standard deviation at every point (the field is stationary): sqrt(sum of |coefficient|^2) / s^2.
  double pointwise_std() const;
  int64_t size() const { return size_; }

 private:
  int64_t size_;
  FnoGaussianFieldOptions options_;
  torch::Tensor sqrt_eig_;  // [size, size]
};

}  // namespace physis::ops
