// Collocation points that follow the residual. RAR (residual-based adaptive refinement, as in DeepXDE) adds the
// candidates with the largest residuals to the interior set; RAD (residual-based adaptive distribution, Wu et al.
// 2023) redraws the whole set with probability p(x) ∝ |r(x)|^k / mean(|r|^k) + c.
//
//   training:
//     adaptive:
//       - {method: rar, every: 1000, candidates: 10000, add: 10}
//       - {method: rad, every: 1000, candidates: 20000, k: 1, c: 1}
//
// Candidates come from the problem's sampler kind, seeded afresh for each draw from the run's seed and the draw's
// number, so that a resumed run draws what the uninterrupted one would have. With several equations a point's
// residual is the mean of their absolute values.
#pragma once

#include "pinn/adaptive.h"

#include <utility>

namespace physis::pinn {

struct ResidualRefinementOptions {
  TORCH_ARG(int64_t, every) = 1000;    // steps between refinements
  TORCH_ARG(int64_t, candidates) = 0;  // points drawn per refinement; 0: ten times the interior points
  TORCH_ARG(int64_t, add) = 10;        // points added per refinement
};

// What RAR and RAD share: a schedule, numbered candidate draws, and the interior set as checkpointed state.
class ResidualSampling : public AdaptiveMethod {
 public:
  ResidualSampling(Solver& solver, int64_t every) : AdaptiveMethod(solver), interval_{every} {}
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;

 protected:
  // `requested` candidate points (0: ten times the interior points) of the next draw, and the draw's number.
  std::pair<torch::Tensor, int64_t> draw_candidates(int64_t requested);

  StepInterval interval_;
  int64_t draws_ = 0;
};

// RAR: the interior set grows by `add` points every `every` steps; weights, where defined, extend with 1s.
class ResidualRefinement : public ResidualSampling {
 public:
  ResidualRefinement(Solver& solver, ResidualRefinementOptions options);
  std::string name() const override { return "rar"; }
  void before_step(int64_t step) override;

 private:
  ResidualRefinementOptions options_;
};

struct ResidualDistributionOptions {
  TORCH_ARG(int64_t, every) = 1000;    // steps between redraws
  TORCH_ARG(int64_t, candidates) = 0;  // points drawn per redraw (at least the interior size); 0: ten times it
  TORCH_ARG(double, k) = 1.0;          // exponent of |r|
  TORCH_ARG(double, c) = 1.0;          // uniform share: c = 0 follows the residual only, large c is uniform
};

// The probabilities RAD draws with, from |r| [C]: |r|^k / mean(|r|^k) + c, normalised to sum to 1.
torch::Tensor residual_distribution(const torch::Tensor& abs_residuals, double k, double c);

// RAD: the interior set (same size) is redrawn from the candidates every `every` steps, without replacement;
// per-point weights return to 1.
class ResidualDistribution : public ResidualSampling {
 public:
  ResidualDistribution(Solver& solver, ResidualDistributionOptions options);
  std::string name() const override { return "rad"; }
  void before_step(int64_t step) override;

 private:
  ResidualDistributionOptions options_;
};

std::shared_ptr<AdaptiveMethod> make_residual_refinement(const config::Section& item, Solver* solver);
std::shared_ptr<AdaptiveMethod> make_residual_distribution(const config::Section& item, Solver* solver);

}  // namespace physis::pinn
