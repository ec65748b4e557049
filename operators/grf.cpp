#include "operators/grf.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/fft.h>

#include <c10/util/Exception.h>

#include <cmath>

namespace physis::ops {

namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);

}  // namespace

at::Generator sample_generator(uint64_t seed, int64_t index) {
  return at::make_generator<at::CPUGeneratorImpl>(splitmix64(splitmix64(seed) ^ static_cast<uint64_t>(index)));
}

torch::Tensor spectral_sample(const torch::Tensor& sqrt_eig, at::Generator& generator) {
  auto z1 = torch::randn(sqrt_eig.sizes(), generator, f64);
  auto z2 = torch::randn(sqrt_eig.sizes(), generator, f64);
  return torch::real(torch::fft::ifftn(torch::complex(sqrt_eig * z1, sqrt_eig * z2))).contiguous();
}

RbfGaussianField::RbfGaussianField(int64_t points, RbfGaussianFieldOptions options)
    : points_(points), options_(options) {
  TORCH_CHECK(points >= 2, "RbfGaussianField: expected at least 2 points but got ", points);
  TORCH_CHECK(options.length_scale() > 0 && options.upper() > options.lower(),
              "RbfGaussianField: expected length_scale > 0 and upper > lower");
  const double h = (options.upper() - options.lower()) / static_cast<double>(points - 1);
  // Every lag across the wrap is at least 9 l, where the kernel is exp(-40.5) ~ 3e-18.
  const int64_t period = points - 1 + static_cast<int64_t>(std::ceil(9.0 * options.length_scale() / h));
  auto k = torch::arange(period, f64);
  auto lag = torch::minimum(k, period - k) * h;  // periodic distance to point 0, [period]
  auto first_row = torch::exp(-lag.square() / (2.0 * options.length_scale() * options.length_scale()));
  // Eigenvalues of the symmetric circulant covariance; rounding can leave them at -1e-16, never below.
  auto eigenvalues = torch::real(torch::fft::fft(first_row)).clamp_min(0.0);
  sqrt_eig_ = torch::sqrt(static_cast<double>(period) * eigenvalues);
}

torch::Tensor RbfGaussianField::sample(at::Generator& generator) const {
  return spectral_sample(sqrt_eig_, generator).slice(0, 0, points_).contiguous();
}

torch::Tensor RbfGaussianField::grid() const {
  return torch::linspace(options_.lower(), options_.upper(), points_, f64);
}

double RbfGaussianField::kernel(double lag) const {
  return std::exp(-lag * lag / (2.0 * options_.length_scale() * options_.length_scale()));
}

FnoGaussianField::FnoGaussianField(int64_t size, FnoGaussianFieldOptions options) : size_(size), options_(options) {
  TORCH_CHECK(size >= 2, "FnoGaussianField: expected a grid of at least 2 x 2 but got ", size);
  TORCH_CHECK(options.tau() > 0 && options.alpha() > 0, "FnoGaussianField: expected alpha > 0 and tau > 0");
  const double tau = options.tau(), alpha = options.alpha();
  const double sigma = options.sigma() > 0 ? options.sigma() : std::pow(tau, alpha - 1.0);
  auto k = torch::fft::fftfreq(size, f64) * static_cast<double>(size);  // 0, 1, ..., -2, -1
  auto k_squared = k.square().unsqueeze(1) + k.square().unsqueeze(0);   // [size, size]
  const double s2 = static_cast<double>(size * size);
  sqrt_eig_ = s2 * std::sqrt(2.0) * sigma * torch::pow(4.0 * M_PI * M_PI * k_squared + tau * tau, -alpha / 2.0);
  sqrt_eig_.index_put_({0, 0}, 0.0);
}

torch::Tensor FnoGaussianField::sample(at::Generator& generator) const { return spectral_sample(sqrt_eig_, generator); }

double FnoGaussianField::pointwise_std() const {
  return std::sqrt(sqrt_eig_.square().sum().item<double>()) / static_cast<double>(size_ * size_);
}

}  // namespace physis::ops
