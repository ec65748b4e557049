// Transolver (Wu et al., ICML 2024): a transformer whose attention runs among a few learned "slices" of the
// points instead of among the points themselves, so its cost is linear in N.
//
// Physics-Attention, per head: slice weights w = softmax(Linear(x) / tau) over M slices, slice tokens
// z_j = sum_n w_nj fx_n / (sum_n w_nj + eps), multi-head attention among the M tokens, deslice back to the
// points (out_n = sum_j w_nj z'_j), output projection. The unstructured form projects x and fx with linear layers
// (point clouds, meshes); the structured form with 3x3 (3x3x3) convolutions over a regular 2D (3D) grid. Both share
// the slice / attend / deslice core.
//
//   Transolver net(TransolverOptions(/*coordinate_dim=*/2, /*outputs=*/1).field_channels(1).grid_shape({85, 85}));
//   auto u = net->forward(coords /*[B or 1, N, 2]*/, fields /*[B, N, 1]*/, {});   // [B, N, 1]
//
// Transolver++ (Luo et al. 2025) options, off by default: a per-point adaptive temperature and Gumbel-softmax slice
// weights while training.
#pragma once

#include "operators/operator_model.h"

#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/types.h>

#include <vector>

namespace physis::ops {

// A 3^d convolution ("same" padding) of point features laid out on a regular grid: [B, N, in] -> [B, N, out]
// with N = n_x * n_y (* n_z), x fastest (the Dataset::grid_shape order). One module for 2D and 3D grids.
//   GridConv conv(GridConvOptions(64, 64, {85, 85}));
struct GridConvOptions {
  GridConvOptions(int64_t in_channels, int64_t out_channels, std::vector<int64_t> grid_shape)
      : in_channels_(in_channels), out_channels_(out_channels), grid_shape_(std::move(grid_shape)) {}
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, out_channels);
  TORCH_ARG(std::vector<int64_t>, grid_shape);  // {n_x, n_y} or {n_x, n_y, n_z}
  TORCH_ARG(int64_t, kernel) = 3;               // odd
};

class GridConvImpl : public torch::nn::Cloneable<GridConvImpl> {
 public:
  explicit GridConvImpl(GridConvOptions options);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x);  // [B, N, in] -> [B, N, out]

  GridConvOptions options;
  torch::Tensor weight;  // [out, in, k, k(, k)]
  torch::Tensor bias;    // [out]
};
TORCH_MODULE(GridConv);

struct PhysicsAttentionOptions {
  PhysicsAttentionOptions(int64_t width, int64_t heads, int64_t slices)
      : width_(width), heads_(heads), slices_(slices) {}
  TORCH_ARG(int64_t, width);    // C, a multiple of heads
  TORCH_ARG(int64_t, heads);    // H
  TORCH_ARG(int64_t, slices);   // M per head
  TORCH_ARG(std::vector<int64_t>, grid_shape) = {};  // non-empty: structured (convolutional x / fx projections)
  TORCH_ARG(double, temperature) = 0.5;              // initial tau of every head (learned)
  TORCH_ARG(bool, adaptive_temperature) = false;     // Transolver++: tau_n = tau + MLP(x_n), per point
  TORCH_ARG(bool, gumbel) = false;                   // Transolver++: Gumbel-softmax slice weights while training
  TORCH_ARG(double, eps) = 1e-5;                     // in the slice-token normalisation
};

class PhysicsAttentionImpl : public torch::nn::Cloneable<PhysicsAttentionImpl> {
 public:
  explicit PhysicsAttentionImpl(PhysicsAttentionOptions options);
  void reset() override;
  // x [B, N, C], valid [B, N] (1 real point, 0 padding) or undefined -> [B, N, C].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& valid = {});
  // The slice weights of x: [B, H, N, M], summing to 1 over M at every real point and 0 at padded points.
  torch::Tensor slice_weights(const torch::Tensor& x, const torch::Tensor& valid = {});

  PhysicsAttentionOptions options;
  torch::nn::AnyModule project_x, project_fx;  // Linear or GridConv, C -> C
  torch::nn::Linear to_slices{nullptr};        // per head: dh -> M
  torch::nn::Sequential temperature_net{nullptr};  // adaptive temperature: dh -> 1
  torch::nn::Linear to_q{nullptr}, to_k{nullptr}, to_v{nullptr};  // per head: dh -> dh
  torch::nn::Linear to_out{nullptr};
  torch::Tensor temperature;  // [1, H, 1, 1]

 private:
  // x [B, N, C] -> [B, H, N, dh]
  torch::Tensor split_heads(const torch::Tensor& x) const;
  // projected x [B, H, N, dh] -> slice weights [B, H, N, M]
  torch::Tensor weights_of(const torch::Tensor& x_heads, const torch::Tensor& valid);
};
TORCH_MODULE(PhysicsAttention);

struct TransolverBlockOptions {
  TransolverBlockOptions(PhysicsAttentionOptions attention) : attention_(std::move(attention)) {}
  TORCH_ARG(PhysicsAttentionOptions, attention);
  TORCH_ARG(int64_t, mlp_ratio) = 1;  // hidden width of the block MLP, in multiples of C
};

// Pre-LayerNorm transformer block: x + PhysAttn(LN(x)), then x + MLP(LN(x)).
class TransolverBlockImpl : public torch::nn::Cloneable<TransolverBlockImpl> {
 public:
  explicit TransolverBlockImpl(TransolverBlockOptions options);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& valid = {});  // [B, N, C]

  TransolverBlockOptions options;
  torch::nn::LayerNorm norm_attention{nullptr}, norm_mlp{nullptr};
  PhysicsAttention attention{nullptr};
  torch::nn::Sequential mlp{nullptr};
};
TORCH_MODULE(TransolverBlock);

struct TransolverOptions {
  TransolverOptions(int64_t coordinate_dim, int64_t outputs) : coordinate_dim_(coordinate_dim), outputs_(outputs) {}
  TORCH_ARG(int64_t, coordinate_dim);  // d
  TORCH_ARG(int64_t, outputs);         // c
  TORCH_ARG(int64_t, field_channels) = 0;  // f, input fields given on the points
  TORCH_ARG(int64_t, params) = 0;          // P, broadcast to every point
  TORCH_ARG(int64_t, width) = 128;         // C
  TORCH_ARG(int64_t, layers) = 8;
  TORCH_ARG(int64_t, heads) = 8;
  TORCH_ARG(int64_t, slices) = 64;
  TORCH_ARG(int64_t, mlp_ratio) = 1;
  TORCH_ARG(std::vector<int64_t>, grid_shape) = {};  // non-empty: the structured variant on this grid (2D or 3D)
  // Unified position encoding: the point is described by its distances to a fixed reference grid of
  // reference_grid^d points over [0, 1]^d (the coordinates' min-max range) instead of by its coordinates.
  TORCH_ARG(bool, unified_pos) = false;
  TORCH_ARG(int64_t, reference_grid) = 8;
  TORCH_ARG(bool, adaptive_temperature) = false;
  TORCH_ARG(bool, gumbel) = false;
  TORCH_ARG(bool, mask_output) = false;  // multiply the prediction by extras.mask
};

class TransolverImpl : public torch::nn::Cloneable<TransolverImpl>, public OperatorModel {
 public:
  explicit TransolverImpl(TransolverOptions options);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& coords, const torch::Tensor& fields, const Extras& extras) override;
  // The last block's output after the final LayerNorm: [B, N, C]. forward() is head(features(...)).
  torch::Tensor features(const torch::Tensor& coords, const torch::Tensor& fields, const Extras& extras);
  // features [B, N, C] -> prediction [B, N, c] (masked when mask_output)
  torch::Tensor head(const torch::Tensor& features, const Extras& extras);
  // The per-point input of the embedding: [coords or unified position, fields, params]: [B, N, in].
  torch::Tensor point_inputs(const torch::Tensor& coords, const torch::Tensor& fields, const Extras& extras) const;

  TransolverOptions options;
  torch::nn::Sequential embedding{nullptr};
  torch::Tensor placeholder;      // [C], a learned offset of every embedded point (as the reference)
  torch::Tensor reference_points;  // buffer [R^d, d] when unified_pos
  torch::nn::ModuleList blocks{nullptr};
  torch::nn::LayerNorm norm{nullptr};
  torch::nn::Linear output{nullptr};
};
TORCH_MODULE(Transolver);

}  // namespace physis::ops
