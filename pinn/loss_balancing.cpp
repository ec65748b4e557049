#include "pinn/loss_balancing.h"

#include "pinn/solver.h"

#include <torch/csrc/autograd/autograd.h>

#include <algorithm>

namespace physis::pinn {
namespace {

bool is_equation(const Solver& solver, const std::string& term) {
  const auto& names = solver.problem().equation_names;
  return std::find(names.begin(), names.end(), term) != names.end();
}

// |d loss / d parameters|, all parameters flattened into one vector.
torch::Tensor abs_gradient(const torch::Tensor& loss, const std::vector<torch::Tensor>& parameters) {
  auto grads = torch::autograd::grad({loss}, parameters, {}, /*retain_graph=*/true, /*create_graph=*/false,
                                     /*allow_unused=*/true);
  std::vector<torch::Tensor> flat;
  for (const auto& g : grads)
    if (g.defined()) flat.push_back(g.abs().reshape({-1}));
  return flat.empty() ? torch::Tensor() : torch::cat(flat);
}

// A uniform number in [0, 1) from (seed, step) alone (splitmix64), so that a resumed run draws the same ones.
double uniform_at(uint64_t seed, int64_t step) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(step + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

}  // namespace

// --- lr_annealing -------------------------------------------------------------------------------------------

LrAnnealing::LrAnnealing(Solver& solver, LrAnnealingOptions options)
    : AdaptiveMethod(solver), options_(options), interval_{options.every()} {
  for (const auto& name : solver.term_names())
    if (!is_equation(solver, name)) scales_[name] = 1.0;
}

void LrAnnealing::before_step(int64_t step) {
  if (scales_.empty() || !interval_.due(step)) return;
  // Step -1: an evaluation outside the training steps, so that the solver does not resample for it.
  auto terms = solver_.loss(-1);
  std::vector<torch::Tensor> parameters;
  for (const auto& p : solver_.network()->parameters())
    if (p.requires_grad()) parameters.push_back(p);
  torch::Tensor pde;
  for (const auto& [name, value] : terms)
    if (is_equation(solver_, name)) pde = pde.defined() ? pde + value : value;
  if (!pde.defined() || !pde.requires_grad()) return;
  auto pde_gradient = abs_gradient(pde, parameters);
  if (!pde_gradient.defined()) return;
  const double largest = pde_gradient.max().item<double>();
  for (const auto& [name, value] : terms) {
    auto it = scales_.find(name);
    if (it == scales_.end() || !value.requires_grad()) continue;
    auto gradient = abs_gradient(value, parameters);
    if (!gradient.defined()) continue;
    // The term arrives scaled by the current scale: the estimate wants the gradient of the term itself.
    const double mean = gradient.mean().item<double>() / it->second;
    if (!(mean > 0) || !std::isfinite(largest / mean)) continue;
    it->second = options_.alpha() * it->second + (1 - options_.alpha()) * largest / mean;
    solver_.set_term_scale(name, it->second);
  }
}

void LrAnnealing::save(torch::serialize::OutputArchive& archive) const {
  write_value(archive, "last", static_cast<double>(interval_.last));
  for (const auto& [name, scale] : scales_) write_value(archive, "scale." + name, scale);
}

void LrAnnealing::load(torch::serialize::InputArchive& archive) {
  interval_.last = static_cast<int64_t>(read_value(archive, "last"));
  for (auto& [name, scale] : scales_) {
    scale = read_value(archive, "scale." + name);
    solver_.set_term_scale(name, scale);
  }
}

// --- self_adaptive -------------------------------------------------------------------------------------------

SelfAdaptiveWeights::SelfAdaptiveWeights(Solver& solver, SelfAdaptiveOptions options)
    : AdaptiveMethod(solver), options_(std::move(options)) {}

torch::Tensor SelfAdaptiveWeights::mask(const torch::Tensor& lambda) const {
  return options_.mask() == "square" ? lambda.square() : torch::softplus(lambda);
}

torch::Tensor SelfAdaptiveWeights::mask_derivative(const torch::Tensor& lambda) const {
  return options_.mask() == "square" ? 2 * lambda : torch::sigmoid(lambda);
}

void SelfAdaptiveWeights::reset(int64_t points) {
  lambda_ = torch::full({points}, options_.initial(), solver_.interior().options());
  first_moment_ = torch::zeros_like(lambda_);
  second_moment_ = torch::zeros_like(lambda_);
  ascent_steps_ = 0;
}

void SelfAdaptiveWeights::before_step(int64_t /*step*/) {
  const int64_t n = solver_.interior().size(0);
  if (!lambda_.defined() || lambda_.size(0) != n) reset(n);
  auto squared = solver_.residuals(solver_.interior()).square().sum(1);  // [N]
  auto gradient = mask_derivative(lambda_) * squared / n;                 // d loss / d lambda
  // Adam, ascending.
  constexpr double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  ++ascent_steps_;
  first_moment_ = beta1 * first_moment_ + (1 - beta1) * gradient;
  second_moment_ = beta2 * second_moment_ + (1 - beta2) * gradient.square();
  auto m = first_moment_ / (1 - std::pow(beta1, ascent_steps_));
  auto v = second_moment_ / (1 - std::pow(beta2, ascent_steps_));
  lambda_ = lambda_ + options_.lr() * m / (v.sqrt() + eps);
  solver_.set_interior_weights(mask(lambda_));
}

void SelfAdaptiveWeights::save(torch::serialize::OutputArchive& archive) const {
  if (!lambda_.defined()) return;
  archive.write("lambda", lambda_);
  archive.write("first_moment", first_moment_);
  archive.write("second_moment", second_moment_);
  write_value(archive, "ascent_steps", static_cast<double>(ascent_steps_));
}

void SelfAdaptiveWeights::load(torch::serialize::InputArchive& archive) {
  torch::Tensor lambda;
  if (!archive.try_read("lambda", lambda)) return;
  const auto& options = solver_.interior().options();
  lambda_ = lambda.to(options);
  archive.read("first_moment", first_moment_);
  archive.read("second_moment", second_moment_);
  first_moment_ = first_moment_.to(options);
  second_moment_ = second_moment_.to(options);
  ascent_steps_ = static_cast<int64_t>(read_value(archive, "ascent_steps"));
  solver_.set_interior_weights(mask(lambda_));
}

// --- relobralo -----------------------------------------------------------------------------------------------

Relobralo::Relobralo(Solver& solver, RelobraloOptions options)
    : AdaptiveMethod(solver), options_(options), names_(solver.term_names()) {}

void Relobralo::after_step(int64_t step, const LossTerms& terms) {
  const auto m = static_cast<int64_t>(names_.size());
  if (!scales_.defined()) scales_ = torch::ones({m}, torch::kFloat64);
  // The terms' own values: what the solver returned, divided by the scales it applied.
  std::vector<double> values(m, 0.0);
  for (const auto& [name, value] : terms) {
    auto it = std::find(names_.begin(), names_.end(), name);
    if (it != names_.end()) values[it - names_.begin()] = value.item<double>();
  }
  auto loss = torch::tensor(values, torch::kFloat64) / scales_;  // [terms]
  if (!torch::isfinite(loss).all().item<bool>()) return;
  if (!initial_.defined()) {
    initial_ = loss;
    previous_ = loss;
    return;
  }
  // lambda_bal(t, t') = m softmax(L(t) / (T L(t'))).
  constexpr double tiny = 1e-30;
  auto balance = [&](const torch::Tensor& reference) {
    return m * torch::softmax(loss / (options_.temperature() * reference + tiny), 0);
  };
  const double lookback = uniform_at(solver_.problem().runtime.seed(), step) < options_.rho() ? 1.0 : 0.0;
  auto history = lookback * scales_ + (1 - lookback) * balance(initial_);
  scales_ = options_.alpha() * history + (1 - options_.alpha()) * balance(previous_);
  previous_ = loss;
  apply();
}

void Relobralo::apply() const {
  for (std::size_t i = 0; i < names_.size(); ++i)
    solver_.set_term_scale(names_[i], scales_[static_cast<int64_t>(i)].item<double>());
}

void Relobralo::save(torch::serialize::OutputArchive& archive) const {
  if (!initial_.defined()) return;
  archive.write("initial", initial_);
  archive.write("previous", previous_);
  archive.write("scales", scales_);
}

void Relobralo::load(torch::serialize::InputArchive& archive) {
  torch::Tensor initial;
  if (!archive.try_read("initial", initial)) return;
  initial_ = initial;
  archive.read("previous", previous_);
  archive.read("scales", scales_);
  apply();
}

// --- factories -----------------------------------------------------------------------------------------------

std::shared_ptr<AdaptiveMethod> make_lr_annealing(const config::Section& item, Solver* solver) {
  auto options =
      LrAnnealingOptions().every(read_count(item, "every", 10)).alpha(read_number(item, "alpha", 0.9, 0.0, 1.0));
  item.finish();
  return solver ? std::make_shared<LrAnnealing>(*solver, options) : nullptr;
}

std::shared_ptr<AdaptiveMethod> make_self_adaptive_weights(const config::Section& item, Solver* solver) {
  auto options = SelfAdaptiveOptions()
                     .lr(read_number(item, "lr", 5e-3, 0.0, 1e3))
                     .mask(item.get<std::string>("mask", "square"))
                     .initial(read_number(item, "initial", 1.0, -1e6, 1e6));
  if (options.mask() != "square" && options.mask() != "softplus")
    item.fail_at("mask", "unknown mask '" + options.mask() + "': expected square or softplus");
  item.finish();
  return solver ? std::make_shared<SelfAdaptiveWeights>(*solver, options) : nullptr;
}

std::shared_ptr<AdaptiveMethod> make_relobralo(const config::Section& item, Solver* solver) {
  auto options = RelobraloOptions()
                     .alpha(read_number(item, "alpha", 0.999, 0.0, 1.0))
                     .temperature(read_number(item, "temperature", 0.1, 1e-12, 1e12))
                     .rho(read_number(item, "rho", 0.999, 0.0, 1.0));
  item.finish();
  return solver ? std::make_shared<Relobralo>(*solver, options) : nullptr;
}

}  // namespace physis::pinn
