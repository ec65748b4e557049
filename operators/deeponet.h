// DeepONet (Lu et al. 2021) and its multi-task form MT-DeepONet (Kumar et al. 2024).
//
// G(u)(y) = sum_k b_k(u) t_k(y) + bias: the branch net encodes the input function u (its values at the sensors,
// flattened for an MLP branch or as an image for a CNN branch) plus optional design parameters / task coefficients;
// the trunk net encodes a query point y. Several outputs use separate groups of p basis functions.
//
//   DeepONet net(DeepONetOptions(/*branch_inputs=*/100, /*coordinate_dim=*/1).basis(64));
//   auto y = net->forward(coords /*[B or 1, N, 1]*/, fields /*[B, 100, 1]*/, {});      // [B, N, 1]
//
// Multi-task use (MT-DeepONet): params carries the task's coefficient vector or a geometry code into the branch;
// with mask_output the geometry mask (also a field channel) multiplies the prediction, so the model is exactly zero
// outside the geometry and the loss sees only the inside.
#pragma once

#include "core/network.h"
#include "operators/operator_model.h"

#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/types.h>

#include <string>
#include <vector>

namespace physis::ops {

struct DeepONetOptions {
  DeepONetOptions(int64_t branch_inputs, int64_t coordinate_dim)
      : branch_inputs_(branch_inputs), coordinate_dim_(coordinate_dim) {}
  TORCH_ARG(int64_t, branch_inputs);    // MLP branch: S * f values per sample
  TORCH_ARG(int64_t, coordinate_dim);   // d
  TORCH_ARG(int64_t, outputs) = 1;      // c
  TORCH_ARG(int64_t, basis) = 128;      // p per output
  TORCH_ARG(std::vector<int64_t>, branch_hidden) = {128, 128};
  TORCH_ARG(std::vector<int64_t>, trunk_hidden) = {128, 128, 128};
  // Random Fourier features of the query point before the trunk (0: none). Lets the trunk's basis carry the fine
  // structure of the targets (e.g. Darcy pressure kinks at permeability jumps) that a plain MLP on (x, y) learns
  // only very slowly.
  TORCH_ARG(int64_t, trunk_fourier_features) = 0;
  TORCH_ARG(double, trunk_fourier_sigma) = 1.0;
  TORCH_ARG(Activation, activation) = Activation::gelu;
  TORCH_ARG(std::string, init) = "fan_in";           // MLP init (core/network.h): fan_in or glorot
  TORCH_ARG(std::string, branch) = "mlp";            // mlp | cnn (2D grids)
  TORCH_ARG(std::vector<int64_t>, grid_shape) = {};  // cnn: {n_x, n_y}
  TORCH_ARG(int64_t, field_channels) = 1;            // cnn: input channels f
  TORCH_ARG(std::vector<int64_t>, cnn_channels) = {32, 64, 128, 256};  // stride-2 5x5 convolutions
  TORCH_ARG(int64_t, params) = 0;                    // P values appended to the branch input
  TORCH_ARG(bool, mask_output) = false;              // multiply the prediction by extras.mask
};

class DeepONetImpl : public torch::nn::Cloneable<DeepONetImpl>, public OperatorModel {
 public:
  explicit DeepONetImpl(DeepONetOptions options);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& coords, const torch::Tensor& fields, const Extras& extras) override;

  // The two forms of the paper. Aligned (Cartesian product): one set of query points for the whole batch,
  // trunk_in [N, d]. Unaligned: per-sample query points, trunk_in [B, N, d]. branch_out is branch() [B, p * c].
  torch::Tensor combine_aligned(const torch::Tensor& branch_out, const torch::Tensor& trunk_in);
  torch::Tensor combine_unaligned(const torch::Tensor& branch_out, const torch::Tensor& trunk_in);
  // fields [B, S, f], params [B, P] or undefined -> [B, p * c]
  torch::Tensor branch(const torch::Tensor& fields, const torch::Tensor& params);
  // points [M, d] -> basis functions [M, p * c]
  torch::Tensor basis(const torch::Tensor& points);

  DeepONetOptions options;
  MLP branch_mlp{nullptr};          // MLP branch, or the head after the CNN
  torch::nn::Sequential branch_cnn{nullptr};
  FourierFeatures trunk_fourier{nullptr};
  MLP trunk{nullptr};
  torch::Tensor bias;               // [c]
};
TORCH_MODULE(DeepONet);

}  // namespace physis::ops
