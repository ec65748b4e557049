// The hybrid DeepONet-Transolver (after the PET-bottle buckling surrogate, 2025): one model for a nodal field on a
// mesh and the time history of a global quantity (a reaction force, say) of the same design.
//
// A Transolver over the nodes (coordinates, optional fields such as normals, the design parameters) predicts the
// field. A DeepONet predicts the history: its branch takes the design parameters and/or the Transolver's latent
// averaged over the real nodes, its trunk the time t, H(t) = sum_k b_k t_k(t) + bias per global quantity. Both
// train together (loss = field loss + history_weight * history loss, operators/operator_training.h).
//
//   Hybrid net(HybridOptions(TransolverOptions(3, 3).params(4).width(64).layers(4), /*history_channels=*/1));
//   OperatorOutput y = net->forward_with_history(coords /*[B, N, 3]*/, {}, extras /*params [B, 4], times [B, T]*/);
//   // y.field [B, N, 3], y.history [B, T, 1]
#pragma once

#include "core/network.h"
#include "operators/operator_model.h"
#include "operators/transolver.h"

#include <torch/nn/cloneable.h>
#include <torch/types.h>

#include <string>
#include <vector>

namespace physis::ops {

struct HybridOptions {
  HybridOptions(TransolverOptions transolver, int64_t history_channels)
      : transolver_(std::move(transolver)), history_channels_(history_channels) {}
  TORCH_ARG(TransolverOptions, transolver);  // the field model; its params() are the design parameters P
  TORCH_ARG(int64_t, history_channels);      // g
  TORCH_ARG(std::string, branch_inputs) = "both";  // params | latent | both: what the history branch reads
  TORCH_ARG(int64_t, basis) = 32;                  // p per global quantity
  TORCH_ARG(std::vector<int64_t>, branch_hidden) = {64, 64};
  TORCH_ARG(std::vector<int64_t>, trunk_hidden) = {64, 64};
  TORCH_ARG(Activation, activation) = Activation::gelu;
};

class HybridImpl : public torch::nn::Cloneable<HybridImpl>, public OperatorModel {
 public:
  explicit HybridImpl(HybridOptions options);
  void reset() override;
  // The field alone: [B, N, c].
  torch::Tensor forward(const torch::Tensor& coords, const torch::Tensor& fields, const Extras& extras) override;
  int64_t history_channels() const override { return options.history_channels(); }
  // Field [B, N, c] and history [B, T, g] at extras.times [B, T].
  OperatorOutput forward_with_history(const torch::Tensor& coords, const torch::Tensor& fields,
                                      const Extras& extras) override;
  // Transolver features [B, N, C] -> their mean over the real points (extras.valid): [B, C].
  static torch::Tensor pooled(const torch::Tensor& features, const torch::Tensor& valid);

  HybridOptions options;
  Transolver transolver{nullptr};
  MLP branch{nullptr};  // [params, pooled latent] -> [B, g * p]
  MLP trunk{nullptr};   // t -> [g * p] basis functions of time
  torch::Tensor history_bias;  // [g]
};
TORCH_MODULE(Hybrid);

}  // namespace physis::ops
