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

namespace {
std::set<int64_t> distinct(const std::vector<int64_t>& dims) { return {dims.begin(), dims.end()}; }
// The pairs (i < j) of the keys of this order whose derivative mixes exactly two axes.
std::vector<std::pair<int64_t, int64_t>> mixed_pairs(const std::vector<DerivativeKey>& keys, std::size_t min_order) {
  std::set<std::pair<int64_t, int64_t>> pairs;
  for (const auto& k : keys) {
    const auto axes = distinct(k.dims);
    if (k.dims.size() >= min_order && axes.size() == 2) pairs.emplace(*axes.begin(), *axes.rbegin());
  }
  return {pairs.begin(), pairs.end()};
}
}  // namespace

bool taylor_can_serve(const std::vector<DerivativeKey>& keys) {
  return std::all_of(keys.begin(), keys.end(), [](const DerivativeKey& k) {
    return k.dims.size() <= 2 || (k.dims.size() <= 4 && distinct(k.dims).size() <= 2);
  });
}

std::vector<int64_t> taylor_axes(const std::vector<DerivativeKey>& keys) {
  std::set<int64_t> axes;
  for (const auto& k : keys)
    for (auto d : k.dims) axes.insert(d);
  return {axes.begin(), axes.end()};
}

std::vector<std::pair<int64_t, int64_t>> taylor_pairs(const std::vector<DerivativeKey>& keys) {
  return mixed_pairs(keys, 2);
}

std::vector<std::pair<int64_t, int64_t>> taylor_difference_pairs(const std::vector<DerivativeKey>& keys) {
  return mixed_pairs(keys, 3);
}

std::vector<std::pair<int64_t, int64_t>> taylor_skew_pairs(const std::vector<DerivativeKey>& keys) {
  return mixed_pairs(keys, 4);
}

int taylor_order(const std::vector<DerivativeKey>& keys) {
  std::size_t order = 2;
  for (const auto& k : keys) order = std::max(order, k.dims.size());
  return static_cast<int>(order);
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

// Forward mode: value, first and second (third, fourth) derivatives along the planned axes (or, in summed mode,
// first derivatives and the Laplacian over exactly those axes); after the axes' directions, one direction e_i + e_j
// per planned pair, whose second derivative gives the mixed u_ij by polarization; then e_i - e_j per pair with mixed
// derivatives of order 3 or 4, and e_i + 2 e_j per pair with mixed fourth derivatives. With D^n_v the n-th
// derivative along v, D^n_{a e_i + b e_j} = sum_m C(n, m) a^(n-m) b^m (i^(n-m) j^m), so with +, -, s for the three:
//   D^3_+ - D^3_- = 6 u_iij + 2 u_jjj,               D^3_+ + D^3_- = 2 u_iii + 6 u_ijj;
//   D^4_+ + D^4_- = 2 u_iiii + 12 u_iijj + 2 u_jjjj,  D^4_+ - D^4_- = 8 (u_iiij + u_ijjj),
//   D^4_s = u_iiii + 8 u_iiij + 24 u_iijj + 32 u_ijjj + 16 u_jjjj.
class TaylorContext : public BaseContext {
 public:
  using Pairs = std::vector<std::pair<int64_t, int64_t>>;
  // laplacian_scale multiplies the summed second derivative (a stochastic Laplacian's d / B or 1 / V).
  TaylorContext(const torch::Tensor& x, Jet jet, const std::vector<int64_t>& axes,
                const std::map<std::string, torch::Tensor>& extras, double laplacian_scale = 1.0,
                const Pairs& pairs = {}, const Pairs& difference_pairs = {}, const Pairs& skew_pairs = {})
      : BaseContext(x, extras), jet_(std::move(jet)), axes_(axes), laplacian_scale_(laplacian_scale) {
    int64_t slot = 0;
    for (auto a : axes) slot_[a] = slot++;
    for (const auto& p : pairs) pair_slot_[p] = slot++;
    for (const auto& p : difference_pairs) difference_slot_[p] = slot++;
    for (const auto& p : skew_pairs) skew_slot_[p] = slot++;
  }
  torch::Tensor output(int64_t j) override { return jet_.value.select(1, j); }
  torch::Tensor derivative(int64_t out, const std::vector<int64_t>& dims) override {
    const int64_t k = slot_.at(dims.at(0));
    const auto n = dims.size();
    if (n == 1) return jet_.first_at(k).select(1, out);
    const auto axes = distinct(dims);
    if (axes.size() == 1) return along(k, n).select(1, out);
    const std::pair<int64_t, int64_t> pair{*axes.begin(), *axes.rbegin()};
    const int64_t i = slot_.at(pair.first), j = slot_.at(pair.second), plus = pair_slot_.at(pair);
    if (n == 2) return (0.5 * (jet_.second_at(plus) - jet_.second_at(i) - jet_.second_at(j))).select(1, out);
    const auto p = along(plus, n), m = along(difference_slot_.at(pair), n);
    const auto times_i = std::count(dims.begin(), dims.end(), pair.first);  // of n, the rest along j
    if (n == 3) {
      auto third = times_i == 2 ? (p - m - 2 * jet_.third_at(j)) / 6 : (p + m - 2 * jet_.third_at(i)) / 6;
      return third.select(1, out);
    }
    const auto a = jet_.fourth_at(i), e = jet_.fourth_at(j), s = jet_.fourth_at(skew_slot_.at(pair));
    auto iijj = (p + m - 2 * a - 2 * e) / 12;
    if (times_i == 2) return iijj.select(1, out);
    auto sum = (p - m) / 8;                            // u_iiij + u_ijjj
    auto weighted = (s - a - 24 * iijj - 16 * e) / 8;  // u_iiij + 4 u_ijjj
    auto ijjj = (weighted - sum) / 3;
    return (times_i == 3 ? sum - ijjj : ijjj).select(1, out);
  }
  torch::Tensor laplacian(int64_t out, const std::vector<int64_t>& dims) override {
    if (jet_.summed && dims == axes_) {
      auto lap = jet_.second_sum().select(1, out);
      return laplacian_scale_ == 1.0 ? lap : lap * laplacian_scale_;
    }
    return EvalContext::laplacian(out, dims);
  }

 private:
  // The derivative of order n (2, 3 or 4) along direction k, [N, w].
  torch::Tensor along(int64_t k, std::size_t n) const {
    return n == 2 ? jet_.second_at(k) : n == 3 ? jet_.third_at(k) : jet_.fourth_at(k);
  }

  Jet jet_;
  std::vector<int64_t> axes_;
  double laplacian_scale_;
  std::map<int64_t, int64_t> slot_;
  std::map<std::pair<int64_t, int64_t>, int64_t> pair_slot_, difference_slot_, skew_slot_;
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
    throw std::invalid_argument("derivatives: taylor cannot serve these equations' derivatives (forward mode goes to "
                                "the fourth order, over at most two distinct inputs per derivative above the "
                                "second); use auto or autograd");
  taylor_ = needs_derivatives_ && possible && mode != DerivativeMode::autograd;
  axes_ = taylor_axes(keys);
  pairs_ = taylor_pairs(keys);
  difference_pairs_ = taylor_difference_pairs(keys);
  skew_pairs_ = taylor_skew_pairs(keys);
  order_ = taylor_order(keys);

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

Jet ResidualEvaluator::seed(const torch::Tensor& x) const {
  auto axes = Jet::along_axes(x, axes_, summed_, order_);
  if (pairs_.empty() && difference_pairs_.empty() && skew_pairs_.empty()) return axes;
  // The axes' unit rows, then e_i + e_j per pair, e_i - e_j per difference pair and e_i + 2 e_j per skew pair:
  // general directions, so the network's first layer multiplies them instead of gathering weight columns (cheap
  // at the few inputs where mixed derivatives are asked for).
  std::vector<torch::Tensor> rows{axes.first.squeeze(1)};
  for (const auto& [pairs, b] : {std::pair{&pairs_, 1.0}, std::pair{&difference_pairs_, -1.0}, std::pair{&skew_pairs_, 2.0}}) {
    for (const auto& [i, j] : *pairs) {
      auto row = torch::zeros({1, x.size(1)}, x.options());
      row[0][i] = 1.0;
      row[0][j] = b;
      rows.push_back(row);
    }
  }
  return Jet::seed(x, torch::cat(rows), /*summed=*/false, order_);
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
    TaylorContext ctx(x, net->forward_jet(seed(x)), axes_, extras, 1.0, pairs_, difference_pairs_, skew_pairs_);
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
  // The directional derivative of g [N] along direction k, [N]; differentiable when more orders follow. The graph
  // is retained: the other directions and outputs go back through it.
  auto along = [&](const torch::Tensor& g, int64_t k, bool differentiable) {
    if (!g.requires_grad()) return torch::zeros_like(g);
    auto h = torch::autograd::grad({g}, {xg}, {torch::ones_like(g)}, /*retain_graph=*/true, differentiable,
                                   /*allow_unused=*/true)[0];
    return h.defined() ? (h * directions[k]).sum(1) : torch::zeros_like(g);
  };
  // parts[o][k]: the derivative of order o + 1 along direction k, [N, c].
  std::vector<std::vector<torch::Tensor>> parts(x.order);
  for (int64_t k = 0; k < K; ++k) {
    std::vector<std::vector<torch::Tensor>> columns(x.order);
    for (int64_t j = 0; j < c; ++j) {
      auto derivative = (d.gradient(j) * directions[k]).sum(1);  // [N]
      columns[0].push_back(derivative.detach());
      for (int o = 1; o < x.order; ++o) {
        derivative = along(derivative, k, /*differentiable=*/o + 1 < x.order);
        columns[o].push_back(derivative.detach());
      }
    }
    for (int o = 0; o < x.order; ++o) parts[o].push_back(torch::stack(columns[o], 1));
  }
  Jet out;
  out.summed = x.summed;
  out.order = x.order;
  out.value = y.detach();
  out.first = torch::stack(parts[0]);                            // [K, N, c]
  out.second = torch::stack(parts[1]);                           // [K, N, c]
  if (x.summed) out.second = out.second.sum(0, /*keepdim=*/true);
  if (x.order >= 3) out.third = torch::stack(parts[2]);
  if (x.order >= 4) out.fourth = torch::stack(parts[3]);
  return out;
}

Jet FunctionJetCache::operator()(const Jet& x) {
  auto points = x.value.detach();
  auto directions = x.first.select(1, 0).detach();
  auto same = [&](const Entry& e) {
    return e.summed == x.summed && e.order == x.order && e.points.sizes() == points.sizes() &&
           e.directions.sizes() == directions.sizes() &&
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
  Entry e{points.clone(), directions.clone(), x.summed, x.order, function_jet(f_, x)};
  entries_.insert(entries_.begin(), std::move(e));
  if (entries_.size() > capacity_) entries_.pop_back();
  return entries_.front().jet;
}

}  // namespace physis::pinn
