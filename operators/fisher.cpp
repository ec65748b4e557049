#include "operators/fisher.h"

#include "operators/grf.h"
#include "operators/sample_workers.h"

#include <torch/fft.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace physis::ops {

namespace {

const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);

using detail::NoState;

torch::Tensor reaction(const torch::Tensor& u, const FisherCoefficients& c) {
  const auto u2 = u * u;
  return c[0] * (u - u2) + c[1] * (u - u2 * u);
}

// Classical RK4 over h for du/dt = reaction(u), at every point.
torch::Tensor react(const torch::Tensor& u, const FisherCoefficients& c, double h) {
  auto k1 = reaction(u, c);
  auto k2 = reaction(u + 0.5 * h * k1, c);
  auto k3 = reaction(u + 0.5 * h * k2, c);
  auto k4 = reaction(u + h * k3, c);
  return u + (h / 6.0) * (k1 + 2 * k2 + 2 * k3 + k4);
}

// Square roots of the eigenvalues of the periodic squared-exponential covariance on n points of [0, 1), scaled so
// that spectral_sample gives unit pointwise variance.
torch::Tensor periodic_sqrt_eigenvalues(int64_t n, double length_scale) {
  auto lag = torch::arange(n, f64) / static_cast<double>(n);
  auto row = torch::zeros({n}, f64);
  const int64_t images = 2 + static_cast<int64_t>(std::ceil(6 * length_scale));  // the kernel is < 1e-15 beyond
  for (int64_t m = -images; m <= images; ++m)
    row += torch::exp(-(lag + static_cast<double>(m)).pow(2) / (2 * length_scale * length_scale));
  auto root = torch::real(torch::fft::fft(row)).clamp_min(0).sqrt();
  const double variance = root.pow(2).sum().item<double>() / static_cast<double>(n * n);
  return root / std::sqrt(variance);
}

}  // namespace

const std::vector<std::string>& fisher_reaction_names() {
  static const std::vector<std::string> names{"logistic", "cubic"};
  return names;
}

torch::Tensor solve_fisher(const torch::Tensor& u0, const FisherCoefficients& c, const FisherSolverOptions& options) {
  TORCH_CHECK(u0.dim() == 1 && u0.size(0) >= 2, "solve_fisher: expected u0 [n] with n >= 2 but got ", u0.sizes());
  TORCH_CHECK(options.times() >= 2 && options.steps() >= 1 && options.steps() % (options.times() - 1) == 0,
              "solve_fisher: the steps (", options.steps(), ") must be a positive multiple of times - 1 (",
              options.times() - 1, ")");
  TORCH_CHECK(options.diffusion() >= 0 && options.final_time() > 0,
              "solve_fisher: expected diffusion >= 0 and final_time > 0");
  const int64_t n = u0.size(0);
  const double dt = options.final_time() / static_cast<double>(options.steps());
  const auto k = torch::arange(n / 2 + 1, f64);
  const auto decay = torch::exp(-options.diffusion() * std::pow(2 * M_PI, 2) * dt * k * k);
  const int64_t every = options.steps() / (options.times() - 1);
  std::vector<torch::Tensor> out{u0.to(torch::kFloat64)};
  // The closing half reaction step of one step and the opening one of the next merge into one full step,
  // except where the state is recorded.
  auto u = react(out.front(), c, 0.5 * dt);
  for (int64_t step = 1; step <= options.steps(); ++step) {
    u = torch::fft::irfft(torch::fft::rfft(u) * decay, n);
    if (step % every != 0) {
      u = react(u, c, dt);
      continue;
    }
    u = react(u, c, 0.5 * dt);
    out.push_back(u);
    if (step < options.steps()) u = react(u, c, 0.5 * dt);
  }
  return torch::stack(out);
}

Dataset generate_fisher(const FisherOptions& options, const GenerationProgress& progress) {
  const int64_t n = options.points();
  TORCH_CHECK(n >= 4, "fisher: expected at least 4 points but got ", n);
  TORCH_CHECK(options.rate_min() >= 0 && options.rate_max() >= options.rate_min(),
              "fisher: expected 0 <= rate_min <= rate_max");
  TORCH_CHECK(options.length_scale() > 0, "fisher: the length scale must be positive");
  const auto& names = fisher_reaction_names();
  std::vector<int64_t> cycle;
  if (options.reaction() == "all") cycle = {0, 1};
  else {
    const auto found = std::find(names.begin(), names.end(), options.reaction());
    if (found == names.end())
      throw std::invalid_argument("fisher: unknown reaction '" + options.reaction() +
                                  "' (expected logistic, cubic or all)");
    cycle = {found - names.begin()};
  }
  const auto& solver = options.solver();
  const auto sqrt_eig = periodic_sqrt_eigenvalues(n, options.length_scale());
  const auto x = torch::arange(n, f64) / static_cast<double>(n);
  const auto coords = grid_coordinates({n, solver.times()}, {0, 0}, {x[n - 1].item<double>(), solver.final_time()})
                          .to(options.dtype());
  const auto sensors = torch::stack({x, torch::zeros_like(x)}, 1).to(options.dtype());  // u0's points (x, t = 0)

  auto make = [&](NoState&, int64_t index) {
    auto generator = sample_generator(options.seed(), index);
    auto u0 = 0.5 * (1 + torch::tanh(spectral_sample(sqrt_eig, generator)));
    const double rate =
        options.rate_min() + (options.rate_max() - options.rate_min()) * torch::rand({1}, generator, f64).item<double>();
    FisherCoefficients c{0, 0};
    const int64_t form = cycle[static_cast<std::size_t>(index) % cycle.size()];
    c[static_cast<std::size_t>(form)] = rate;
    Sample sample;
    sample.coords = coords;
    sample.fields = u0.unsqueeze(1).to(options.dtype());
    sample.field_coords = sensors;
    sample.params = torch::tensor({c[0], c[1]}, f64).to(options.dtype());
    sample.targets = solve_fisher(u0, c, solver).reshape({-1, 1}).to(options.dtype());  // t slowest, x fastest
    return sample;
  };
  Dataset data;
  data.samples = detail::generate_samples(options.samples(), [] { return NoState{}; }, make, progress);
  data.grid_shape = {n, solver.times()};
  data.coordinate_names = {"x", "t"};
  data.field_names = {"u0"};
  data.target_names = {"u"};
  data.param_names = {"c_logistic", "c_cubic"};
  data.source = "fisher";
  return data;
}

}  // namespace physis::ops
