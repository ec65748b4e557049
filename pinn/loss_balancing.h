// Methods that balance the loss terms of a PINN against each other, through the solver's term scales or its
// per-point weights:
//  - lr_annealing (Wang, Teng & Perdikaris 2021): each boundary term's scale follows
//    max|grad L_pde| / mean|grad L_i| over the network parameters, smoothed by a moving average;
//  - self_adaptive (McClenny & Braga-Neto 2023): a trainable weight lambda_i per collocation point, the PDE loss
//    mean(m(lambda_i) r_i^2), lambda updated by gradient ascent (Adam) while the network descends;
//  - relobralo (Bischof & Kraus 2021): scales from a softmax of each term's loss relative to an earlier value,
//    with a random lookback to the first step and an exponential moving average.
//
//   training:
//     adaptive:
//       - {method: lr_annealing, every: 10, alpha: 0.9}
//       - {method: self_adaptive, lr: 0.005, mask: square}
//       - {method: relobralo, alpha: 0.999, temperature: 0.1, rho: 0.999}
//
// lr_annealing and relobralo own the term scales: use one of them at a time.
#pragma once

#include "pinn/adaptive.h"

#include <map>

namespace physis::pinn {

struct LrAnnealingOptions {
  TORCH_ARG(int64_t, every) = 10;  // steps between updates
  TORCH_ARG(double, alpha) = 0.9;  // weight of the old scale in the moving average
};

// The PDE term is the sum of the equation terms; every other (soft condition) term gets a scale.
class LrAnnealing : public AdaptiveMethod {
 public:
  LrAnnealing(Solver& solver, LrAnnealingOptions options);
  std::string name() const override { return "lr_annealing"; }
  void before_step(int64_t step) override;
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;
  const std::map<std::string, double>& scales() const { return scales_; }

 private:
  LrAnnealingOptions options_;
  StepInterval interval_;
  std::map<std::string, double> scales_;  // condition term -> scale, 1 until the first update
};

struct SelfAdaptiveOptions {
  TORCH_ARG(double, lr) = 5e-3;           // Adam step of the ascent
  TORCH_ARG(std::string, mask) = "square";  // m(lambda): square (lambda^2) | softplus
  TORCH_ARG(double, initial) = 1.0;       // lambda at the start
};

// One ascent step per training step: d loss / d lambda_i = m'(lambda_i) sum_eq r_i^2 / N, from the residuals at
// the current network. The points' weights are m(lambda). A change in the number of interior points (RAR) starts
// lambda again.
class SelfAdaptiveWeights : public AdaptiveMethod {
 public:
  SelfAdaptiveWeights(Solver& solver, SelfAdaptiveOptions options);
  std::string name() const override { return "self_adaptive"; }
  void before_step(int64_t step) override;
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;
  const torch::Tensor& lambda() const { return lambda_; }

 private:
  void reset(int64_t points);
  torch::Tensor mask(const torch::Tensor& lambda) const;
  torch::Tensor mask_derivative(const torch::Tensor& lambda) const;

  SelfAdaptiveOptions options_;
  torch::Tensor lambda_, first_moment_, second_moment_;  // [N]
  int64_t ascent_steps_ = 0;
};

struct RelobraloOptions {
  TORCH_ARG(double, alpha) = 0.999;       // weight of the history in the moving average
  TORCH_ARG(double, temperature) = 0.1;   // softmax temperature
  TORCH_ARG(double, rho) = 0.999;         // expected value of the Bernoulli lookback (1: never back to step 0)
};

// Scales of all terms (equations and soft conditions), updated after every step from the terms' values; they
// always sum to the number of terms.
class Relobralo : public AdaptiveMethod {
 public:
  Relobralo(Solver& solver, RelobraloOptions options);
  std::string name() const override { return "relobralo"; }
  void after_step(int64_t step, const LossTerms& terms) override;
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;
  const torch::Tensor& scales() const { return scales_; }

 private:
  void apply() const;

  RelobraloOptions options_;
  std::vector<std::string> names_;             // the solver's terms, in its order
  torch::Tensor initial_, previous_, scales_;  // [terms] float64: L(0), L(t - 1), lambda
};

std::shared_ptr<AdaptiveMethod> make_lr_annealing(const config::Section& item, Solver* solver);
std::shared_ptr<AdaptiveMethod> make_self_adaptive_weights(const config::Section& item, Solver* solver);
std::shared_ptr<AdaptiveMethod> make_relobralo(const config::Section& item, Solver* solver);

}  // namespace physis::pinn
