#include "pinn/sdgd.h"

namespace physis::pinn {

StochasticLaplacian::Draw StochasticLaplacian::draw(const torch::Tensor& x, const std::vector<int64_t>& axes) const {
  const auto n_axes = static_cast<int64_t>(axes.size());
  TORCH_CHECK(n_axes > 0, "StochasticLaplacian: no axes to draw from");
  auto long_options = torch::TensorOptions().dtype(torch::kLong);
  auto all = torch::tensor(axes, long_options);
  if (estimator == LaplacianEstimator::sdgd) {
    // B distinct axes, uniformly without replacement: E[(d/B) sum_{i in I} u_ii] = sum_i u_ii.
    const int64_t b = std::min(samples, n_axes);
    auto picked = all.index_select(0, torch::randperm(n_axes, long_options).narrow(0, 0, b));
    auto list = std::vector<int64_t>(picked.data_ptr<int64_t>(), picked.data_ptr<int64_t>() + b);
    return {Jet::along_axes(x, list, /*summed=*/true), static_cast<double>(n_axes) / static_cast<double>(b)};
  }
  // Rademacher probes on the Laplacian's axes (zero on the others): E[v^T H v] = trace of H over those axes.
  auto signs = 2 * torch::randint(0, 2, {samples, n_axes}, x.options()) - 1;
  auto probes = torch::zeros({samples, x.size(1)}, x.options());
  probes.index_copy_(1, all.to(x.device()), signs);
  return {Jet::seed(x, probes, /*summed=*/true), 1.0 / static_cast<double>(samples)};
}

StochasticLaplacian StochasticLaplacian::from_config(const config::Section& s) {
  StochasticLaplacian out;
  const auto estimator = s.get<std::string>("estimator", "sdgd");
  if (estimator == "sdgd") {
    out.estimator = LaplacianEstimator::sdgd;
    if (s.has("probes")) s.fail_at("probes", "probes belongs to estimator: hutchinson; sdgd draws `dims` axes");
    out.samples = s.get<int64_t>("dims", out.samples);
    if (out.samples <= 0) s.fail_at("dims", "dims must be positive");
  } else if (estimator == "hutchinson") {
    out.estimator = LaplacianEstimator::hutchinson;
    if (s.has("dims")) s.fail_at("dims", "dims belongs to estimator: sdgd; hutchinson draws `probes` vectors");
    out.samples = s.get<int64_t>("probes", out.samples);
    if (out.samples <= 0) s.fail_at("probes", "probes must be positive");
  } else {
    s.fail_at("estimator", "estimator must be sdgd or hutchinson, not '" + estimator + "'");
  }
  const auto form = s.get<std::string>("form", "unbiased");
  if (form == "biased") {
    out.form = SquaredResidualForm::biased;
  } else if (form == "unbiased") {
    out.form = SquaredResidualForm::unbiased;
  } else if (form == "detached") {
    out.form = SquaredResidualForm::detached;
  } else {
    s.fail_at("form", "form must be biased, unbiased or detached, not '" + form + "'");
  }
  s.finish();
  return out;
}

torch::Tensor squared_residual(const torch::Tensor& r, const torch::Tensor& partner) {
  if (!partner.defined()) return r.square();
  return partner.detach() * (2 * r - r.detach());
}

}  // namespace physis::pinn
