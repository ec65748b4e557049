// A residual curriculum from a Gaussian mixture (CGMPINN, "From Simple to Complex", 2025): the signed PDE residuals
// of the collocation points are clustered by a one-dimensional Gaussian mixture; each component gets a difficulty
// (its mean squared residual) and a precision, and the points' loss weights move from the easy, well-defined
// components early in training to the hard ones late.
//
//   training:
//     adaptive:
//       - {method: gmm, every: 200, components: 4, beta: 1, schedule_fraction: 0.8}
#pragma once

#include "pinn/adaptive.h"

#include <torch/types.h>

namespace physis::pinn {

// A fitted mixture of K one-dimensional Gaussians over N values (float64).
struct GaussianMixture1d {
  torch::Tensor means;             // [K]
  torch::Tensor variances;         // [K]
  torch::Tensor weights;           // [K], summing to 1
  torch::Tensor responsibilities;  // [N, K], rows summing to 1
  double log_likelihood = 0.0;     // mean over the values
  bool ok = false;                 // false: no usable fit (too few or non-finite values, no spread)
};

// Expectation-maximisation for a K-component mixture of the values [N]. The values are standardised first, the
// means seeded by k-means++ (a CPU generator seeded with `seed`) and refined by a few k-means passes, the E-step
// works in log space (log-sum-exp), and every variance keeps a floor of 1e-6 of the values' variance so that no
// component collapses onto one point.
GaussianMixture1d fit_gmm_1d(const torch::Tensor& values, int64_t components, int64_t iterations = 100,
                             uint64_t seed = 0);

struct GmmCurriculumOptions {
  TORCH_ARG(int64_t, every) = 200;              // steps between fits
  TORCH_ARG(int64_t, components) = 4;           // K
  TORCH_ARG(double, beta) = 1.0;                // sharpness of the curriculum
  TORCH_ARG(double, schedule_fraction) = 0.8;   // tau reaches 1 at this fraction of the training steps
  TORCH_ARG(int64_t, iterations) = 100;         // EM iterations per fit
  // A control for experiments, not a method: each fit's weights are dealt to the points in a random order (a fresh
  // permutation per fit), so the objective changes as often and with the same spread of weights as the curriculum's,
  // but without regard to where the residuals are.
  TORCH_ARG(bool, shuffle) = false;
};

// Point weights of the curriculum at progress tau in [0, 1], for residuals [N] and their fitted mixture, with
// mean 1: difficulty d_k = sum_i g_ik r_i^2 / sum_i g_ik, min-max normalised over k; curriculum
// c_k = (1 - tau) exp(-beta d_k) + tau exp(-beta (1 - d_k)); precision pi_k = min_j s_j^2 / s_k^2;
// W_k = c_k ((1 - tau) pi_k + tau); w_i = sum_k g_ik W_k.
torch::Tensor gmm_curriculum_weights(const GaussianMixture1d& mixture, const torch::Tensor& residuals, double tau,
                                     double beta);

// Fits the mixture to the interior residuals every `every` steps and sets the solver's interior weights. With
// several equations the residual of a point is the sum of its equations' residuals. A failed fit keeps the last
// weights. With `shuffle`, the weights are permuted among the points (seeded by the run's seed and the fit number).
class GmmCurriculum : public AdaptiveMethod {
 public:
  GmmCurriculum(Solver& solver, GmmCurriculumOptions options);
  std::string name() const override { return "gmm"; }
  void before_step(int64_t step) override;
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;
  // Curriculum progress at `step`: min(step / (schedule_fraction T), 1).
  double progress(int64_t step) const;

 private:
  GmmCurriculumOptions options_;
  StepInterval interval_;
  int64_t fits_ = 0;
  torch::Tensor weights_;  // [N] the last weights set, or undefined
};

std::shared_ptr<AdaptiveMethod> make_gmm_curriculum(const config::Section& item, Solver* solver);

}  // namespace physis::pinn
