#include "pinn/residual_sampling.h"

#include "geometry/sampler.h"
#include "pinn/solver.h"

#include <ATen/CPUGeneratorImpl.h>

namespace physis::pinn {
namespace {

// A seed per draw, so that draws neither repeat nor depend on how many happened before a resume.
uint64_t draw_seed(const Solver& solver, int64_t draw) {
  return solver.problem().runtime.seed() * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL * (draw + 1);
}

torch::Tensor mean_abs_residual(Solver& solver, const torch::Tensor& x) { return solver.residuals(x).abs().mean(1); }

}  // namespace

std::pair<torch::Tensor, int64_t> ResidualSampling::draw_candidates(int64_t requested) {
  const int64_t n = requested > 0 ? requested : 10 * solver_.interior().size(0);
  const int64_t draw = draws_++;
  const auto& options = solver_.interior().options();
  geometry::Sampler sampler(
      geometry::SamplerOptions().kind(solver_.problem().sampling.sampler).seed(draw_seed(solver_, draw)), options);
  return {solver_.problem().domain->sample_interior(n, sampler).to(options), draw};
}

void ResidualSampling::save(torch::serialize::OutputArchive& archive) const {
  write_value(archive, "last", static_cast<double>(interval_.last));
  write_value(archive, "draws", static_cast<double>(draws_));
  write_interior(archive, solver_);
}

void ResidualSampling::load(torch::serialize::InputArchive& archive) {
  interval_.last = static_cast<int64_t>(read_value(archive, "last"));
  draws_ = static_cast<int64_t>(read_value(archive, "draws"));
  read_interior(archive, solver_);
}

ResidualRefinement::ResidualRefinement(Solver& solver, ResidualRefinementOptions options)
    : ResidualSampling(solver, options.every()), options_(options) {}

void ResidualRefinement::before_step(int64_t step) {
  if (!interval_.due(step)) return;
  auto candidates = draw_candidates(options_.candidates()).first;  // [C, d]
  auto score = mean_abs_residual(solver_, candidates);               // [C]
  auto chosen = std::get<1>(score.topk(std::min(options_.add(), score.size(0))));
  auto points = torch::cat({solver_.interior(), candidates.index_select(0, chosen)});
  auto weights = solver_.interior_weights();
  if (weights.defined())
    weights = torch::cat({weights.reshape({-1}), torch::ones({chosen.size(0)}, weights.options())});
  solver_.set_interior(points, weights);
}

torch::Tensor residual_distribution(const torch::Tensor& abs_residuals, double k, double c) {
  auto density = abs_residuals.to(torch::kFloat64).pow(k);  // [C]
  const double mean = density.mean().item<double>();
  // Residuals all zero (or not finite): nothing to follow, draw uniformly.
  if (!(mean > 0) || !std::isfinite(mean)) return torch::full_like(density, 1.0 / density.size(0));
  auto p = (density / mean + c).clamp_min(1e-12);  // without replacement needs n points of nonzero p
  return p / p.sum();
}

ResidualDistribution::ResidualDistribution(Solver& solver, ResidualDistributionOptions options)
    : ResidualSampling(solver, options.every()), options_(options) {}

void ResidualDistribution::before_step(int64_t step) {
  if (!interval_.due(step)) return;
  const int64_t n = solver_.interior().size(0);
  const int64_t requested = options_.candidates() > 0 ? std::max(options_.candidates(), n) : 0;  // at least n
  auto [candidates, draw] = draw_candidates(requested);
  auto p = residual_distribution(mean_abs_residual(solver_, candidates), options_.k(), options_.c()).cpu();  // [C]
  auto generator = at::make_generator<at::CPUGeneratorImpl>(draw_seed(solver_, draw) ^ 0xA5A5A5A5ULL);
  auto chosen = torch::multinomial(p, n, false, generator).to(candidates.device());
  solver_.set_interior(candidates.index_select(0, chosen));
}

std::shared_ptr<AdaptiveMethod> make_residual_refinement(const config::Section& item, Solver* solver) {
  auto options = ResidualRefinementOptions()
                     .every(read_count(item, "every", 1000))
                     .candidates(read_count(item, "candidates", 0, 0))
                     .add(read_count(item, "add", 10));
  item.finish();
  return solver ? std::make_shared<ResidualRefinement>(*solver, options) : nullptr;
}

std::shared_ptr<AdaptiveMethod> make_residual_distribution(const config::Section& item, Solver* solver) {
  auto options = ResidualDistributionOptions()
                     .every(read_count(item, "every", 1000))
                     .candidates(read_count(item, "candidates", 0, 0))
                     .k(read_number(item, "k", 1.0, 0.0, 100.0))
                     .c(read_number(item, "c", 1.0, 0.0, 1e12));
  item.finish();
  return solver ? std::make_shared<ResidualDistribution>(*solver, options) : nullptr;
}

}  // namespace physis::pinn
