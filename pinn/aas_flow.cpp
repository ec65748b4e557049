#include "pinn/aas_flow.h"

#include <torch/nn/modules/linear.h>
#include <torch/utils.h>

#include <cmath>

namespace physis::pinn {
namespace {

// sum_j log of the standard logistic density sigma(y_j) (1 - sigma(y_j)) per row: [N, d] -> [N]. It is also
// log |d sigma / dy|, the Jacobian of the map onto the unit box.
torch::Tensor logistic_log_density(const torch::Tensor& y) {
  return -(torch::softplus(y) + torch::softplus(-y)).sum(1);
}

// Bound of the unit-box coordinate away from 0 and 1, where the inverse map is infinite.
double unit_margin(const torch::Tensor& x) { return x.scalar_type() == torch::kFloat64 ? 1e-15 : 1e-7; }

}  // namespace

BoxFlowImpl::BoxFlowImpl(BoxFlowOptions options_) : options(std::move(options_)) { reset(); }

void BoxFlowImpl::reset() {
  const int64_t d = dim();
  TORCH_CHECK(d >= 1 && static_cast<int64_t>(options.upper().size()) == d, "BoxFlow: expected lower and upper of ",
              "one equal, nonzero length but got ", options.lower().size(), " and ", options.upper().size());
  for (int64_t j = 0; j < d; ++j)
    TORCH_CHECK(options.upper()[j] > options.lower()[j], "BoxFlow: empty box along coordinate ", j);
  TORCH_CHECK(options.couplings() >= 0 && options.hidden() >= 1 && options.max_log_scale() > 0,
              "BoxFlow: couplings >= 0, hidden >= 1 and max_log_scale > 0 expected");
  conditioners = register_module("conditioners", torch::nn::ModuleList());
  std::vector<float> mask_values;
  for (int64_t k = 0; k < options.couplings(); ++k) {
    MLP mlp(MLPOptions(d, {options.hidden(), options.hidden()}, 2 * d).activation(Activation::tanh));
    // Each coupling starts at the identity, so that the untrained flow is uniform on the box.
    auto last = mlp->layers[mlp->layers->size() - 1]->as<torch::nn::Linear>();
    torch::NoGradGuard no_grad;
    last->weight.zero_();
    last->bias.zero_();
    conditioners->push_back(mlp);
    // Alternating halves; in one dimension nothing conditions and a coupling is a learned affine map.
    for (int64_t j = 0; j < d; ++j) mask_values.push_back(d == 1 ? 0.0f : static_cast<float>((j + k) % 2));
  }
  masks = register_buffer("masks", torch::tensor(mask_values).reshape({options.couplings(), d}));
  log_scale = register_parameter("log_scale", torch::zeros({d}));
  shift = register_parameter("shift", torch::zeros({d}));
}

std::pair<torch::Tensor, torch::Tensor> BoxFlowImpl::coupling(int64_t k, const torch::Tensor& y) {
  const int64_t d = dim();
  auto mask = masks[k];                                                   // [d]
  auto raw = conditioners[k]->as<MLPImpl>()->forward(y * mask);          // [N, 2d]
  const double bound = options.max_log_scale();
  auto s = bound * torch::tanh(raw.narrow(1, 0, d) / bound) * (1 - mask);  // [N, d]
  auto t = raw.narrow(1, d, d) * (1 - mask);                               // [N, d]
  return {s, t};
}

double BoxFlowImpl::log_volume() const {
  double sum = 0.0;
  for (int64_t j = 0; j < dim(); ++j) sum += std::log(options.upper()[j] - options.lower()[j]);
  return sum;
}

torch::Tensor BoxFlowImpl::lower(const torch::Tensor& like) const {
  return torch::tensor(options.lower(), torch::kFloat64).to(like.options());
}

torch::Tensor BoxFlowImpl::extent(const torch::Tensor& like) const {
  std::vector<double> values(dim());
  for (int64_t j = 0; j < dim(); ++j) values[j] = options.upper()[j] - options.lower()[j];
  return torch::tensor(values, torch::kFloat64).to(like.options());
}

std::pair<torch::Tensor, torch::Tensor> BoxFlowImpl::sample(int64_t n, geometry::Sampler& sampler) {
  // Inverse-CDF draws of the logistic base.
  auto u = sampler.uniform(n, dim()).to(shift.options());
  const double eps = unit_margin(u);
  return transform(torch::logit(u.clamp(eps, 1 - eps)));
}

std::pair<torch::Tensor, torch::Tensor> BoxFlowImpl::transform(const torch::Tensor& z) {
  TORCH_CHECK(z.dim() == 2 && z.size(1) == dim(), "BoxFlow::transform: expected [N, ", dim(), "] but got ",
              z.sizes());
  // 1. couplings
  auto y = z;
  auto log_det = torch::zeros({z.size(0)}, z.options());
  for (int64_t k = 0; k < options.couplings(); ++k) {
    auto [s, t] = coupling(k, y);
    y = y * torch::exp(s) + t;
    log_det = log_det + s.sum(1);
  }
  // 2. scale-bias
  y = y * torch::exp(log_scale) + shift;
  log_det = log_det + log_scale.sum();
  // 3. onto the box
  auto u = torch::sigmoid(y);  // [N, d] in [0, 1]
  auto x = lower(u) + extent(u) * u;
  auto log_p = logistic_log_density(z) - log_det - logistic_log_density(y) - log_volume();
  return {x, log_p};
}

torch::Tensor BoxFlowImpl::log_prob(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 2 && x.size(1) == dim(), "BoxFlow::log_prob: expected [N, ", dim(), "] but got ",
              x.sizes());
  // Inverse of 3: the logit of the unit-box coordinate, kept off 0 and 1.
  const double eps = unit_margin(x);
  auto y = torch::logit(((x - lower(x)) / extent(x)).clamp(eps, 1 - eps));  // [N, d]
  // Inverse of 2.
  auto v = (y - shift) * torch::exp(-log_scale);
  auto log_det = log_scale.sum().expand({x.size(0)});
  // Inverse of 1, last coupling first; a coupling leaves its conditioning half unchanged, so s and t computed
  // from its output are those of its input.
  for (int64_t k = options.couplings() - 1; k >= 0; --k) {
    auto [s, t] = coupling(k, v);
    v = (v - t) * torch::exp(-s);
    log_det = log_det + s.sum(1);
  }
  return logistic_log_density(v) - log_det - logistic_log_density(y) - log_volume();
}

}  // namespace physis::pinn
