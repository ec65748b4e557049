#include "pinn/residual.h"

#include "core/diff.h"

#include <algorithm>
#include <set>
#include <stdexcept>

namespace physis::pinn {

DerivativeMode parse_derivative_mode(const std::string& text) {
  if (text == "auto") return DerivativeMode::automatic;
  if (text == "taylor") return DerivativeMode::taylor;
  if (text == "autograd") return DerivativeMode::autograd;
  throw std::invalid_argument("unknown derivative mode '" + text + "': expected auto, taylor or autograd");
}

bool taylor_can_serve(const std::vector<DerivativeKey>& keys) {
  return std::all_of(keys.begin(), keys.end(), [](const DerivativeKey& k) { return k.dims.size() <= 2; });
}

std::vector<int64_t> taylor_axes(const std::vector<DerivativeKey>& keys) {
  std::set<int64_t> axes;
  for (const auto& k : keys)
    for (auto d : k.dims) axes.insert(d);
  return {axes.begin(), axes.end()};
}

std::vector<std::pair<int64_t, int64_t>> taylor_pairs(const std::vector<DerivativeKey>& keys) {
  std::set<std::pair<int64_t, int64_t>> pairs;
  for (const auto& k : keys)
    if (k.dims.size() == 2 && k.dims[0] != k.dims[1])
      pairs.emplace(std::min(k.dims[0], k.dims[1]), std::max(k.dims[0], k.dims[1]));
  return {pairs.begin(), pairs.end()};
}

namespace {

class BaseContext : public EvalContext {
 public:
  BaseContext(const torch::Tensor& x, const std::map<std::string, torch::Tensor>& extras) : x_(x), extras_(extras) {}
  torch::Tensor input(int64_t i) override { return x_.select(1, i); }
  torch::Tensor extra(const std::string& name) override {
    auto it = extras_.find(name);
    if (it == extras_.end())
      throw std::invalid_argument("'" + name + "' is not available here (normals exist only on boundary points)");
    return it->second;
  }
  int64_t size() override { return x_.size(0); }
  torch::TensorOptions options() override { return x_.options(); }

 protected:
  torch::Tensor x_;
  const std::map<std::string, torch::Tensor>& extras_;
};

// Values only: expressions without derivatives (most boundary and point conditions).
class ValueContext : public BaseContext {
 public:
  ValueContext(const torch::Tensor& x, torch::Tensor u, const std::map<std::string, torch::Tensor>& extras)
      : BaseContext(x, extras), u_(std::move(u)) {}
  torch::Tensor output(int64_t j) override { return u_.select(1, j); }
  torch::Tensor derivative(int64_t, const std::vector<int64_t>&) override {
    throw std::logic_error("ResidualEvaluator: a derivative was asked for but none was planned");
  }

 private:
  torch::Tensor u_;
};

// Reverse mode: first derivatives once, higher ones on demand (cached by Derivatives).
class AutogradContext : public BaseContext {
 public:
  AutogradContext(const torch::Tensor& x, const torch::Tensor& u, const std::map<std::string, torch::Tensor>& extras)
      : BaseContext(x, extras), d_(x, u) {}
  torch::Tensor output(int64_t j) override { return d_.value(j); }
  torch::Tensor derivative(int64_t out, const std::vector<int64_t>& dims) override { return d_.d(out, dims); }
  torch::Tensor laplacian(int64_t out, const std::vector<int64_t>& dims) override { return d_.laplacian(out, dims); }

 private:
  Derivatives d_;
};

// Forward mode: value, first and second derivatives along the planned axes (or, in summed mode, first
// derivatives and the Laplacian over exactly those axes); after the axes' directions, one direction e_i + e_j per
// planned pair, whose second derivative gives the mixed u_ij by polarization.
class TaylorContext : public BaseContext {
 public:
  // laplacian_scale multiplies the summed second derivative (a stochastic Laplacian's d / B or 1 / V).
  TaylorContext(const torch::Tensor& x, Jet jet, const std::vector<int64_t>& axes,
                const std::map<std::string, torch::Tensor>& extras, double laplacian_scale = 1.0,
                const std::vector<std::pair<int64_t, int64_t>>& pairs = {})
      : BaseContext(x, extras), jet_(std::move(jet)), axes_(axes), laplacian_scale_(laplacian_scale) {
    for (std::size_t k = 0; k < axes.size(); ++k) slot_[axes[k]] = static_cast<int64_t>(k);
    for (std::size_t k = 0; k < pairs.size(); ++k) pair_slot_[pairs[k]] = static_cast<int64_t>(axes.size() + k);
  }
  torch::Tensor output(int64_t j) override { return jet_.value.select(1, j); }
  torch::Tensor derivative(int64_t out, const std::vector<int64_t>& dims) override {
    const int64_t k = slot_.at(dims.at(0));
    if (dims.size() == 1) return jet_.first_at(k).select(1, out);
    if (dims[0] == dims[1]) return jet_.second_at(k).select(1, out);  // per-direction mode only (planned so)
    const auto pair = std::minmax(dims[0], dims[1]);
    const int64_t l = slot_.at(dims[1]), m = pair_slot_.at({pair.first, pair.second});
    return 0.5 * (jet_.second_at(m) - jet_.second_at(k) - jet_.second_at(l)).select(1, out);
  }
  torch::Tensor laplacian(int64_t out, const std::vector<int64_t>& dims) override {
    if (jet_.summed && dims == axes_) {
      auto lap = jet_.second_sum().select(1, out);
      return laplacian_scale_ == 1.0 ? lap : lap * laplacian_scale_;
    }
    return EvalContext::laplacian(out, dims);
  }

 private:
  Jet jet_;
  std::vector<int64_t> axes_;
  double laplacian_scale_;
  std::map<int64_t, int64_t> slot_;
  std::map<std::pair<int64_t, int64_t>, int64_t> pair_slot_;
};

}  // namespace

ResidualEvaluator::ResidualEvaluator(std::vector<Expression> expressions, DerivativeMode mode)
    : expressions_(std::move(expressions)) {
  std::vector<DerivativeKey> keys;
  for (const auto& e : expressions_) {
    auto k = e.derivatives();
    keys.insert(keys.end(), k.begin(), k.end());
  }
  needs_derivatives_ = !keys.empty();
  const bool possible = taylor_can_serve(keys);
  if (mode == DerivativeMode::taylor && !possible)
    throw std::invalid_argument("derivatives: taylor cannot serve the third-order derivatives in these equations; "
                                "use auto or autograd");
  taylor_ = needs_derivatives_ && possible && mode != DerivativeMode::autograd;
  axes_ = taylor_axes(keys);
  pairs_ = taylor_pairs(keys);

  // Summed mode carries one Laplacian instead of a second derivative per axis. It serves equations whose second
  // derivatives all sit in laplace() over one set of axes, with first derivatives along those axes only
  // (Poisson, Helmholtz, Allen-Cahn, steady advection-diffusion; not u_t + ..., where t is no Laplacian axis).
  std::set<DerivativeKey> laplacians, others;
  for (const auto& e : expressions_) {
    for (const auto& k : e.laplacians()) laplacians.insert(k);
    for (const auto& k : e.derivatives_besides_laplacians()) others.insert(k);
  }
  if (!taylor_ || laplacians.empty()) return;
  const auto lap_axes = laplacians.begin()->dims;
  bool summed = true;
  for (const auto& k : laplacians) summed = summed && k.dims == lap_axes;
  for (const auto& k : others) {
    summed = summed && k.dims.size() == 1 &&
             std::find(lap_axes.begin(), lap_axes.end(), k.dims[0]) != lap_axes.end();
  }
  if (summed) {
    summed_ = true;
    axes_ = lap_axes;
    only_laplacians_ = others.empty();
  }
}

void ResidualEvaluator::set_stochastic_laplacian(const StochasticLaplacian& stochastic) {
  if (!taylor_ || !summed_ || !only_laplacians_)
    throw std::invalid_argument(
        "a stochastic Laplacian (sdgd) needs equations whose derivatives all sit in laplace() over one set of "
        "inputs (e.g. laplace(u) + u - u^3 - f), evaluated in forward mode (derivatives: auto or taylor)");
  stochastic_ = stochastic;
}

ResidualEvaluator::Estimate ResidualEvaluator::estimate(FieldNetwork& net, const torch::Tensor& x,
                                                        const std::map<std::string, torch::Tensor>& extras) const {
  if (!stochastic_) return {evaluate(net, x, extras), {}};
  auto run = [&](const Jet& seed, double scale) {
    TaylorContext ctx(x, net->forward_jet(seed), axes_, extras, scale);
    std::vector<torch::Tensor> out;
    for (const auto& e : expressions_) out.push_back(e.evaluate(ctx));
    return out;
  };
  Estimate result;
  auto draw = stochastic_->draw(x, axes_);
  result.residuals = run(draw.seed, draw.scale);
  if (stochastic_->form == SquaredResidualForm::biased) return result;
  torch::NoGradGuard no_grad;
  if (stochastic_->form == SquaredResidualForm::unbiased) {
    auto partner = stochastic_->draw(x, axes_);
    result.partners = run(partner.seed, partner.scale);
  } else {
    result.partners = run(Jet::along_axes(x, axes_, /*summed=*/true), 1.0);
  }
  return result;
}

std::vector<torch::Tensor> ResidualEvaluator::evaluate(FieldNetwork& net, const torch::Tensor& x,
                                                       const std::map<std::string, torch::Tensor>& extras) const {
  std::vector<torch::Tensor> out;
  if (!needs_derivatives_) {
    ValueContext ctx(x, net->forward(x), extras);
    for (const auto& e : expressions_) out.push_back(e.evaluate(ctx));
    return out;
  }
  if (taylor_) {
    auto seed = Jet::along_axes(x, axes_, summed_);
    if (!pairs_.empty()) {
      // The axes' unit rows, then e_i + e_j per pair: general directions, so the network's first layer multiplies
      // them instead of gathering weight columns (cheap at the few inputs where mixed derivatives are asked for).
      auto rows = torch::zeros({static_cast<int64_t>(pairs_.size()), x.size(1)}, x.options());
      for (std::size_t k = 0; k < pairs_.size(); ++k) {
        rows[static_cast<int64_t>(k)][pairs_[k].first] = 1.0;
        rows[static_cast<int64_t>(k)][pairs_[k].second] = 1.0;
      }
      seed = Jet::seed(x, torch::cat({seed.first.squeeze(1), rows}), /*summed=*/false);
    }
    TaylorContext ctx(x, net->forward_jet(seed), axes_, extras, 1.0, pairs_);
    for (const auto& e : expressions_) out.push_back(e.evaluate(ctx));
    return out;
  }
  auto xg = x.detach().requires_grad_(true);
  AutogradContext ctx(xg, net->forward(xg), extras);
  for (const auto& e : expressions_) out.push_back(e.evaluate(ctx));
  return out;
}

Jet function_jet(const std::function<torch::Tensor(const torch::Tensor&)>& f, const Jet& x) {
  torch::AutoGradMode enable(true);
  auto xg = x.value.detach().requires_grad_(true);
  auto y = f(xg);  // [N, c]
  if (y.dim() == 1) y = y.unsqueeze(1);
  const int64_t K = x.num_directions(), c = y.size(1);
  auto directions = x.first.select(1, 0).detach();  // [K, d]: seeds are the same for every point
  Derivatives d(xg, y);
  std::vector<torch::Tensor> firsts, seconds;
  for (int64_t k = 0; k < K; ++k) {
    std::vector<torch::Tensor> fk, sk;
    for (int64_t j = 0; j < c; ++j) {
      auto g = d.gradient(j);                                 // [N, d]
      auto dir = (g * directions[k]).sum(1);                  // [N]
      fk.push_back(dir.detach());
      torch::Tensor h;
      if (dir.requires_grad()) h = torch::autograd::grad({dir}, {xg}, {torch::ones_like(dir)}, true, false, true)[0];
      sk.push_back(h.defined() ? (h * directions[k]).sum(1).detach() : torch::zeros_like(dir));
    }
    firsts.push_back(torch::stack(fk, 1));
    seconds.push_back(torch::stack(sk, 1));
  }
  Jet out;
  out.summed = x.summed;
  out.value = y.detach();
  out.first = torch::stack(firsts);                              // [K, N, c]
  out.second = torch::stack(seconds);                            // [K, N, c]
  if (x.summed) out.second = out.second.sum(0, /*keepdim=*/true);
  return out;
}

Jet FunctionJetCache::operator()(const Jet& x) {
  auto points = x.value.detach();
  auto directions = x.first.select(1, 0).detach();
  auto same = [&](const Entry& e) {
    return e.summed == x.summed && e.points.sizes() == points.sizes() && e.directions.sizes() == directions.sizes() &&
           e.points.device() == points.device() && e.points.dtype() == points.dtype() &&
           torch::equal(e.points, points) && torch::equal(e.directions, directions);
  };
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    if (!same(entries_[i])) continue;
    ++hits_;
    std::rotate(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(i),
                entries_.begin() + static_cast<std::ptrdiff_t>(i) + 1);
    return entries_.front().jet;
  }
  ++misses_;
  // Keep copies: the caller may later change its tensors in place (resampling writes new points).
  Entry e{points.clone(), directions.clone(), x.summed, function_jet(f_, x)};
  entries_.insert(entries_.begin(), std::move(e));
  if (entries_.size() > capacity_) entries_.pop_back();
  return entries_.front().jet;
}

}  // namespace physis::pinn
