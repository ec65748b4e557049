// Causal training for transient problems (Wang, Sankaran & Perdikaris, "Respecting causality for training
// physics-informed neural networks", 2024): the time interval is cut into M chunks, and the PDE loss becomes
//   L = (1 / M) sum_k w_k L_k,   w_k = exp(-epsilon sum_{j<k} L_j)   (w_0 = 1, detached),
// L_k the mean squared residual of the interior points in chunk k. A later time counts only once the residual
// before it is small, so the network cannot fit the PDE at late times around a wrong early solution.
// With a list of epsilons, the next one takes over once every weight exceeds `threshold` (the paper's annealing
// of the causality parameter).
//
//   training:
//     adaptive:
//       - {method: causal, chunks: 32, epsilon: 1, every: 1}
//       - {method: causal, chunks: 32, epsilon: [0.01, 0.1, 1, 10, 100], threshold: 0.99}
#pragma once

#include "pinn/adaptive.h"

#include <torch/types.h>

#include <vector>

namespace physis::pinn {

struct CausalOptions {
  TORCH_ARG(int64_t, chunks) = 32;                     // M, equal intervals of the time range
  TORCH_ARG(std::vector<double>, epsilon) = {1.0};     // causality parameters, in the order they are used
  TORCH_ARG(double, threshold) = 0.99;                 // the smallest weight that moves on to the next epsilon
  TORCH_ARG(int64_t, every) = 1;                       // steps between updates of the weights
};

// [M] chunk weights w_k from the chunks' mean squared residuals [M] (chunks without points hold NaN and are
// skipped: they add nothing to the sums, and their own weight is that of the chunk before).
torch::Tensor causal_chunk_weights(const torch::Tensor& chunk_losses, double epsilon);

// [N] chunk index of each time t [N] in [t0, t1] (times outside go to the first or last chunk).
torch::Tensor causal_chunks(const torch::Tensor& t, double t0, double t1, int64_t chunks);

class CausalWeights : public AdaptiveMethod {
 public:
  CausalWeights(Solver& solver, CausalOptions options);
  std::string name() const override { return "causal"; }
  void before_step(int64_t step) override;
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;
  // causal_epsilon and causal_min_weight (the last chunk's weight; NaN before the first update): training respects
  // causality at this epsilon once the smallest weight nears 1.
  Metrics metrics() const override;
  // The current causality parameter and the last chunk weights (undefined before the first update).
  double epsilon() const { return options_.epsilon()[stage_]; }
  const torch::Tensor& chunk_weights() const { return chunk_weights_; }

 private:
  void update();

  CausalOptions options_;
  double t0_, t1_;
  int64_t time_column_;
  StepInterval interval_;
  size_t stage_ = 0;             // index into options_.epsilon()
  torch::Tensor chunk_weights_;  // [M]
  torch::Tensor weighted_for_;   // the interior points the weights were computed for
};

std::shared_ptr<AdaptiveMethod> make_causal_weights(const config::Section& item, Solver* solver);

}  // namespace physis::pinn
