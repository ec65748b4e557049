#include "pinn/gmm_curriculum.h"

#include "pinn/solver.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <limits>
#include <numbers>

namespace physis::pinn {
namespace {

constexpr double variance_floor = 1e-6;  // of the standardised values' variance (1)

// k-means++ seeds refined by a few Lloyd passes, on standardised values z [N]: means [K], variances [K],
// weights [K] to start EM from.
std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> kmeans_start(const torch::Tensor& z, int64_t k,
                                                                     uint64_t seed) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  const int64_t n = z.size(0);
  std::vector<torch::Tensor> chosen{z[torch::randint(n, {1}, generator, torch::kLong).item<int64_t>()]};
  for (int64_t j = 1; j < k; ++j) {
    auto distance = (z.unsqueeze(1) - torch::stack(chosen).unsqueeze(0)).square().amin(1);  // [N]
    // All values already chosen (fewer distinct values than components): any point will do.
    auto index = distance.sum().item<double>() > 0 ? torch::multinomial(distance, 1, false, generator)
                                                   : torch::randint(n, {1}, generator, torch::kLong);
    chosen.push_back(z[index.item<int64_t>()]);
  }
  auto means = torch::stack(chosen);  // [K]
  torch::Tensor members, counts;
  for (int pass = 0; pass < 10; ++pass) {
    auto assignment = (z.unsqueeze(1) - means.unsqueeze(0)).abs().argmin(1);      // [N]
    members = torch::one_hot(assignment, k).to(z.dtype());                         // [N, K]
    counts = members.sum(0);                                                       // [K]
    means = torch::where(counts > 0, (members * z.unsqueeze(1)).sum(0) / counts.clamp_min(1), means);
  }
  auto spread = (members * (z.unsqueeze(1) - means.unsqueeze(0)).square()).sum(0) / counts.clamp_min(1);
  auto variances = torch::where(counts > 1, spread, torch::ones_like(spread)).clamp_min(variance_floor);
  auto weights = (counts + 1) / (counts.sum() + k);
  return {means, variances, weights};
}

// log(weight_k N(z_i | mean_k, variance_k)): [N, K].
torch::Tensor joint_log_density(const torch::Tensor& z, const torch::Tensor& means, const torch::Tensor& variances,
                                const torch::Tensor& weights) {
  return weights.log() - 0.5 * (2 * std::numbers::pi * variances).log() -
         (z.unsqueeze(1) - means).square() / (2 * variances);
}

}  // namespace

GaussianMixture1d fit_gmm_1d(const torch::Tensor& values, int64_t components, int64_t iterations, uint64_t seed) {
  TORCH_CHECK(components >= 1, "fit_gmm_1d: expected at least one component but got ", components);
  GaussianMixture1d fit;
  auto x = values.detach().reshape({-1}).to(torch::kCPU, torch::kFloat64);  // [N]
  const int64_t n = x.size(0), k = components;
  if (n < k || !torch::isfinite(x).all().item<bool>()) return fit;
  const double center = x.mean().item<double>();
  const double scale = std::sqrt((x - center).square().mean().item<double>());
  if (!(scale > 0) || !std::isfinite(scale)) return fit;
  auto z = (x - center) / scale;  // standardised, so that the variance floor is relative

  auto [means, variances, weights] = kmeans_start(z, k, seed);
  double previous = -std::numeric_limits<double>::infinity();
  torch::Tensor log_joint, log_total;
  for (int64_t it = 0; it < iterations; ++it) {
    // E-step in log space.
    log_joint = joint_log_density(z, means, variances, weights);  // [N, K]
    log_total = torch::logsumexp(log_joint, 1, true);             // [N, 1]
    const double log_likelihood = log_total.mean().item<double>();
    auto g = (log_joint - log_total).exp();                       // [N, K]
    // M-step. A component that lost all its points restarts at the worst-explained value.
    auto mass = g.sum(0);                                         // [K]
    means = (g * z.unsqueeze(1)).sum(0) / mass.clamp_min(1e-300);
    variances = ((g * (z.unsqueeze(1) - means).square()).sum(0) / mass.clamp_min(1e-300)).clamp_min(variance_floor);
    weights = mass / n;
    auto empty = mass < 1e-8 * n;
    if (empty.any().item<bool>()) {
      auto worst = z[log_total.squeeze(1).argmin()];
      means = torch::where(empty, worst, means);
      variances = torch::where(empty, torch::ones_like(variances), variances);
      weights = torch::where(empty, torch::full_like(weights, 1.0 / n), weights);
      weights = weights / weights.sum();
    }
    if (std::abs(log_likelihood - previous) < 1e-10) break;
    previous = log_likelihood;
  }
  log_joint = joint_log_density(z, means, variances, weights);
  log_total = torch::logsumexp(log_joint, 1, true);

  auto order = means.argsort();  // components by increasing mean, so that fits compare
  fit.means = means.index({order}) * scale + center;
  fit.variances = variances.index({order}) * scale * scale;
  fit.weights = weights.index({order});
  fit.responsibilities = (log_joint - log_total).exp().index_select(1, order);
  fit.log_likelihood = log_total.mean().item<double>() - std::log(scale);
  fit.ok = torch::isfinite(fit.responsibilities).all().item<bool>() &&
           torch::isfinite(fit.variances).all().item<bool>() && (fit.variances > 0).all().item<bool>();
  return fit;
}

torch::Tensor gmm_curriculum_weights(const GaussianMixture1d& mixture, const torch::Tensor& residuals, double tau,
                                     double beta) {
  const auto& g = mixture.responsibilities;                              // [N, K]
  auto r2 = residuals.detach().reshape({-1, 1}).to(g.options()).square();  // [N, 1]
  TORCH_CHECK(r2.size(0) == g.size(0), "gmm_curriculum_weights: ", r2.size(0), " residuals for ", g.size(0),
              " responsibilities");
  constexpr double eps = 1e-12;
  auto difficulty = (g * r2).sum(0) / (g.sum(0) + eps);  // [K]
  difficulty = (difficulty - difficulty.min()) / (difficulty.max() - difficulty.min() + eps);
  auto curriculum = (1 - tau) * (-beta * difficulty).exp() + tau * (-beta * (1 - difficulty)).exp();
  auto precision = mixture.variances.reciprocal();
  precision = precision / precision.max();
  auto component_weight = curriculum * ((1 - tau) * precision + tau);  // [K]
  auto w = (g * component_weight).sum(1);                             // [N]
  return w / w.mean();
}

GmmCurriculum::GmmCurriculum(Solver& solver, GmmCurriculumOptions options)
    : AdaptiveMethod(solver), options_(options), interval_{options.every()} {}

double GmmCurriculum::progress(int64_t step) const {
  const int64_t total = total_steps_ > 0 ? total_steps_ : solver_.problem().trainer.total_steps();
  return std::min(static_cast<double>(step) / (options_.schedule_fraction() * static_cast<double>(total)), 1.0);
}

void GmmCurriculum::before_step(int64_t step) {
  if (!interval_.due(step)) return;
  auto r = solver_.residuals(solver_.interior()).sum(1);  // [N]: equations summed
  const uint64_t seed = solver_.problem().runtime.seed() + static_cast<uint64_t>(fits_++);
  auto mixture = fit_gmm_1d(r, options_.components(), options_.iterations(), seed);
  if (!mixture.ok) return;
  auto w = gmm_curriculum_weights(mixture, r, progress(step), options_.beta());
  if (!torch::isfinite(w).all().item<bool>()) return;
  if (options_.shuffle()) {
    // The permutation's generator is offset from the mixture's seed, so the two draws are not the same stream.
    auto generator = at::make_generator<at::CPUGeneratorImpl>(seed ^ 0x9e3779b97f4a7c15ULL);
    auto order = torch::randperm(w.size(0), generator, torch::TensorOptions().dtype(torch::kLong));
    w = w.index_select(0, order.to(w.device()));
  }
  weights_ = w;
  solver_.set_interior_weights(w);
}

void GmmCurriculum::save(torch::serialize::OutputArchive& archive) const {
  write_value(archive, "last", static_cast<double>(interval_.last));
  write_value(archive, "fits", static_cast<double>(fits_));
  if (weights_.defined()) archive.write("weights", weights_);
}

void GmmCurriculum::load(torch::serialize::InputArchive& archive) {
  interval_.last = static_cast<int64_t>(read_value(archive, "last"));
  fits_ = static_cast<int64_t>(read_value(archive, "fits"));
  torch::Tensor weights;
  if (archive.try_read("weights", weights)) {
    weights_ = weights;
    solver_.set_interior_weights(weights);
  }
}

std::shared_ptr<AdaptiveMethod> make_gmm_curriculum(const config::Section& item, Solver* solver) {
  auto options = GmmCurriculumOptions()
                     .every(read_count(item, "every", 200))
                     .components(read_count(item, "components", 4))
                     .beta(read_number(item, "beta", 1.0, 0.0, 1e6))
                     .schedule_fraction(read_number(item, "schedule_fraction", 0.8, 1e-9, 1.0))
                     .iterations(read_count(item, "iterations", 100))
                     .shuffle(item.get<bool>("shuffle", false));
  item.finish();
  return solver ? std::make_shared<GmmCurriculum>(*solver, options) : nullptr;
}

}  // namespace physis::pinn
