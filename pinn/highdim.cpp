#include "pinn/highdim.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/autograd.h>

#include <cmath>
#include <optional>
#include <stdexcept>

namespace physis::pinn {

HighDimEquation parse_high_dim_equation(const std::string& text) {
  if (text == "poisson") return HighDimEquation::poisson;
  if (text == "allen_cahn") return HighDimEquation::allen_cahn;
  if (text == "sine_gordon") return HighDimEquation::sine_gordon;
  throw std::invalid_argument("unknown equation '" + text + "': expected poisson, allen_cahn or sine_gordon");
}

std::string high_dim_equation_name(HighDimEquation equation) {
  switch (equation) {
    case HighDimEquation::poisson: return "poisson";
    case HighDimEquation::allen_cahn: return "allen_cahn";
    case HighDimEquation::sine_gordon: return "sine_gordon";
  }
  return "?";
}

HighDimBall::HighDimBall(int64_t dim, HighDimEquation equation, uint64_t seed) : dim_(dim), equation_(equation) {
  if (dim < 2) throw std::invalid_argument("HighDimBall: the dimension must be at least 2");
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  c_ = torch::randn({dim - 1}, generator, torch::kFloat64);
}

HighDimBall::HighDimBall(int64_t dim, HighDimEquation equation, torch::Tensor coefficients)
    : dim_(dim), equation_(equation) {
  if (dim < 2) throw std::invalid_argument("HighDimBall: the dimension must be at least 2");
  if (!coefficients.defined() || coefficients.numel() != dim - 1)
    throw std::invalid_argument("HighDimBall: expected " + std::to_string(dim - 1) + " coefficients c_i for d = " +
                                std::to_string(dim) + " but got " +
                                std::to_string(coefficients.defined() ? coefficients.numel() : 0));
  c_ = coefficients.detach().to(torch::kCPU, torch::kFloat64).reshape({dim - 1}).clone();
}

namespace {
// theta_i = a + cos b + b cos a with a = x_i, b = x_{i+1}, and its partial derivatives.
struct Terms {
  torch::Tensor theta, p, q, pp, qq;  // [N, d-1]: theta, d/da, d/db, d2/da2, d2/db2
};
Terms terms_of(const torch::Tensor& x) {
  // a and b are the same columns shifted by one: one sin and one cos of x serve both (10^7 entries at d = 10^5).
  const int64_t d = x.size(1);
  auto s = torch::sin(x), c = torch::cos(x);
  auto a = x.narrow(1, 0, d - 1), b = x.narrow(1, 1, d - 1);
  auto sa = s.narrow(1, 0, d - 1), ca = c.narrow(1, 0, d - 1), sb = s.narrow(1, 1, d - 1), cb = c.narrow(1, 1, d - 1);
  return {a + cb + b * ca, 1 - b * sa, ca - sb, -b * ca, -cb};
}
}  // namespace

torch::Tensor HighDimBall::exact(const torch::Tensor& x) const {
  auto c = c_.to(x.options());
  auto psi = (torch::sin(terms_of(x).theta) * c).sum(1);
  return (1 - x.square().sum(1)) * psi;
}

torch::Tensor HighDimBall::exact_laplacian(const torch::Tensor& x) const {
  // u = phi psi with phi = 1 - |x|^2:  laplace(u) = phi laplace(psi) - 4 x . grad(psi) - 2 d psi.
  const int64_t d = x.size(1);
  auto c = c_.to(x.options());
  const auto t = terms_of(x);
  auto s = torch::sin(t.theta), co = torch::cos(t.theta);
  auto psi = (s * c).sum(1);
  auto lap_psi = (c * (-s * (t.p.square() + t.q.square()) + co * (t.pp + t.qq))).sum(1);
  // grad(psi)_j collects term j through its a and term j-1 through its b.
  auto x_dot_grad = (c * co * (t.p * x.narrow(1, 0, d - 1) + t.q * x.narrow(1, 1, d - 1))).sum(1);
  return (1 - x.square().sum(1)) * lap_psi - 4 * x_dot_grad - 2.0 * static_cast<double>(d) * psi;
}

torch::Tensor HighDimBall::nonlinear(const torch::Tensor& u) const {
  switch (equation_) {
    case HighDimEquation::poisson: return torch::zeros_like(u);
    case HighDimEquation::allen_cahn: return u - u.pow(3);
    case HighDimEquation::sine_gordon: return torch::sin(u);
  }
  return torch::zeros_like(u);
}

torch::Tensor HighDimBall::source(const torch::Tensor& x) const { return exact_laplacian(x) + nonlinear(exact(x)); }

torch::Tensor HighDimBall::sample(int64_t n, const torch::TensorOptions& options) const {
  auto g = torch::randn({n, dim_}, options);
  auto r = torch::rand({n, 1}, options);
  return r * g / g.norm(2, 1, /*keepdim=*/true);
}

HighDimPinn::HighDimPinn(HighDimOptions options, const torch::TensorOptions& tensor_options)
    : options_(std::move(options)),
      tensor_options_(tensor_options),
      problem_(options_.coefficients().defined()
                   ? HighDimBall(options_.dim(), options_.equation(), options_.coefficients())
                   : HighDimBall(options_.dim(), options_.equation(), options_.seed())) {
  torch::manual_seed(options_.seed());
  net_ = MLP(MLPOptions(options_.dim(), options_.hidden(), 1).activation(Activation::tanh).init(options_.init()));
  net_->to(tensor_options_.device(), tensor_options_.dtype().toScalarType());
}

void HighDimPinn::for_test_chunks(const std::function<void(const torch::Tensor&)>& visit) const {
  // Test points drawn like the residual points from their own generator, chunk by chunk: the same points at every
  // evaluation, independent of training, and never all in memory (20000 x 10^5 doubles would be 16 GB).
  auto generator = at::make_generator<at::CPUGeneratorImpl>(options_.seed() + 7919);
  const int64_t chunk = std::max<int64_t>(1, (1 << 22) / options_.dim());
  for (int64_t start = 0; start < options_.test_points(); start += chunk) {
    const int64_t n = std::min(chunk, options_.test_points() - start);
    auto g = torch::randn({n, options_.dim()}, generator, torch::kFloat64);
    auto r = torch::rand({n, 1}, generator, torch::kFloat64);
    visit(r * g / g.norm(2, 1, true));
  }
}

torch::Tensor HighDimPinn::predict(const torch::Tensor& x) {
  return (1 - x.square().sum(1)) * net_->forward(x).squeeze(1);
}

torch::Tensor HighDimPinn::nested_second_derivatives(const torch::Tensor& x, const std::vector<int64_t>& axes) {
  auto xg = x.detach().requires_grad_(true);
  auto u = predict(xg);
  auto grad = torch::autograd::grad({u.sum()}, {xg}, {}, /*retain_graph=*/true, /*create_graph=*/true)[0];
  torch::Tensor sum;
  for (auto i : axes) {
    auto gi = grad.select(1, i);
    auto uii = torch::autograd::grad({gi.sum()}, {xg}, {}, true, true)[0].select(1, i);
    sum = sum.defined() ? sum + uii : uii;
  }
  return sum;
}

torch::Tensor HighDimPinn::laplacian_estimate(const torch::Tensor& x, const StochasticLaplacian::Draw& draw) {
  const auto& seed = draw.seed;
  if (options_.nested_backward()) {
    TORCH_CHECK(seed.axes.defined(), "HighDimPinn: backward-of-backward serves coordinate draws (sdgd) only");
    auto axes = seed.axes.to(torch::kCPU);
    return draw.scale * nested_second_derivatives(
                            x, std::vector<int64_t>(axes.data_ptr<int64_t>(), axes.data_ptr<int64_t>() + axes.numel()));
  }
  // phi = 1 - |x|^2 along the seeds: first_k = -2 x . v_k, second = -2 sum_k |v_k|^2 (summed mode).
  Jet phi;
  phi.summed = true;
  phi.value = 1 - x.square().sum(1, true);
  auto directions = seed.first.squeeze(1);  // [K, d]
  torch::Tensor x_dot_v;                    // [K, N]
  if (seed.axes.defined()) {
    auto along = directions.gather(1, seed.axes.unsqueeze(1));  // [K, 1]
    x_dot_v = along * x.index_select(1, seed.axes).t();
  } else {
    x_dot_v = directions.mm(x.t());
  }
  phi.first = (-2 * x_dot_v).unsqueeze(2);
  phi.second = (-2 * directions.square().sum()).reshape({1, 1, 1}).expand({1, x.size(0), 1});
  auto u = jet_mul(phi, net_->forward_jet(seed));
  return draw.scale * u.second_sum().squeeze(1);
}

LossTerms HighDimPinn::loss(int64_t /*step*/) {
  const auto& lap = options_.laplacian();
  auto x = problem_.sample(options_.points(), tensor_options_);
  auto g = problem_.source(x.to(torch::kFloat64)).to(tensor_options_);
  std::vector<int64_t> axes(options_.dim());
  for (int64_t i = 0; i < options_.dim(); ++i) axes[i] = i;
  auto residual = [&](const StochasticLaplacian::Draw& draw, const torch::Tensor& u) {
    return laplacian_estimate(x, draw) + problem_.nonlinear(u) - g;
  };
  auto u = predict(x);
  auto r = residual(lap.draw(x, axes), u);
  torch::Tensor partner;
  if (lap.form != SquaredResidualForm::biased) {
    // The partner needs no graph (backward-of-backward builds one to differentiate at all, then drops it).
    std::optional<torch::NoGradGuard> no_grad;
    if (!options_.nested_backward()) no_grad.emplace();
    StochasticLaplacian other = lap;
    if (lap.form == SquaredResidualForm::detached) {
      other.estimator = LaplacianEstimator::sdgd;
      other.samples = options_.dim();
    }
    partner = residual(other.draw(x, axes), u.detach()).detach();
  }
  return {{"pde", squared_residual(r, partner).mean()}};
}

Metrics HighDimPinn::evaluate() {
  torch::NoGradGuard no_grad;
  double error = 0.0, norm = 0.0;
  for_test_chunks([&](const torch::Tensor& x) {
    auto truth = problem_.exact(x);
    auto u = predict(x.to(tensor_options_)).to(torch::kFloat64);
    error += (u - truth).square().sum().item<double>();
    norm += truth.square().sum().item<double>();
  });
  return {{"l2re_u", std::sqrt(error / norm)}};
}

}  // namespace physis::pinn
