// Latent Spectral Model (Wu et al., ICML 2023, "Solving High-Dimensional PDEs with Latent Spectral Models") on one
// regular 2D or 3D grid.
//
// The input fields and grid coordinates (and params, constant over the grid) are lifted pointwise to `width`
// channels and go through a U-Net: `levels` max-pool + double-convolution blocks down, bilinear (trilinear) upsampling
// + double convolution up. Every skip connection and the bottleneck pass a neural spectral block:
//   1. patchify the feature map into patches of patch_size^d pixels;
//   2. a few learned latent tokens attend over the pixels of their patch (cost linear in the pixel count);
//   3. transition: each token channel z becomes z + sum_k w_k sin(k pi z / K) + v_k cos(k pi z / K), k < K = `bases`;
//   4. the pixels attend back to the latent tokens (residual);
//   5. de-patchify.
// A two-layer MLP projects to the c outputs.
//
// Any grid size works: as in the reference implementation, the feature map is zero-padded at the upper end of each
// axis to a multiple of 2^levels * patch_size (85 -> 96 with the defaults) and cropped back after the U-Net.
//
//   LSM net(LSMOptions(/*grid_shape=*/{85, 64}, /*field_channels=*/1).width(32));
//   auto y = net->forward(coords /*[B or 1, 85 * 64, 2]*/, fields /*[B, 85 * 64, 1]*/, {});   // [B, 85 * 64, 1]
#pragma once

#include "operators/operator_model.h"

#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include <vector>

namespace physis::ops {

// x [B, C, n_1, ..., n_d] (every n_i a multiple of `patch`) -> patches [B * P, C, patch, ..., patch], P = prod n_i /
// patch, ordered by sample, then patch position (row-major over the patch grid).
torch::Tensor patchify(const torch::Tensor& x, int64_t patch);
// The inverse: patches [B * P, C, patch, ..., patch] of a map with spatial sizes {n_1, ..., n_d} -> [B, C, n_1, ...].
torch::Tensor depatchify(const torch::Tensor& patches, const std::vector<int64_t>& sizes, int64_t patch);

struct NeuralSpectralBlockOptions {
  explicit NeuralSpectralBlockOptions(int64_t channels) : channels_(channels) {}
  TORCH_ARG(int64_t, channels);        // C, a multiple of heads
  TORCH_ARG(int64_t, patch_size) = 3;  // pixels per patch side
  TORCH_ARG(int64_t, tokens) = 4;      // latent tokens per head
  TORCH_ARG(int64_t, bases) = 12;      // K sin and K cos basis operators
  TORCH_ARG(int64_t, heads) = 8;
};

// Channels-first feature maps [B, C, n_1, ..., n_d] -> the same shape; 2D or 3D.
class NeuralSpectralBlockImpl : public torch::nn::Cloneable<NeuralSpectralBlockImpl> {
 public:
  explicit NeuralSpectralBlockImpl(NeuralSpectralBlockOptions options);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x);

  NeuralSpectralBlockOptions options;
  torch::nn::Linear encoder{nullptr};  // pixel -> (key, value)
  torch::nn::Linear decoder{nullptr};  // pixel -> query
  torch::Tensor latent;                // [heads, tokens, C / heads]
  torch::Tensor basis_weights;         // [C, 2 K]: sin then cos
};
TORCH_MODULE(NeuralSpectralBlock);

struct LSMOptions {
  LSMOptions(std::vector<int64_t> grid_shape, int64_t field_channels)
      : grid_shape_(std::move(grid_shape)), field_channels_(field_channels) {}
  TORCH_ARG(std::vector<int64_t>, grid_shape);  // {n_x, n_y[, n_z]}, x fastest (Dataset::grid_shape)
  TORCH_ARG(int64_t, field_channels);           // f
  TORCH_ARG(int64_t, params) = 0;               // P values, each a constant input channel
  TORCH_ARG(int64_t, outputs) = 1;              // c
  TORCH_ARG(int64_t, width) = 32;               // channels at the finest level (doubling per level, up to 8 x)
  TORCH_ARG(int64_t, levels) = 4;               // down-sampling steps of the U-Net
  TORCH_ARG(int64_t, patch_size) = 3;
  TORCH_ARG(int64_t, tokens) = 4;
  TORCH_ARG(int64_t, bases) = 12;
  TORCH_ARG(int64_t, heads) = 8;                // width must be a multiple
  TORCH_ARG(int64_t, projection_width) = 128;   // hidden width of the output MLP
  TORCH_ARG(bool, mask_output) = false;         // multiply the prediction by extras.mask
};

class LSMImpl : public torch::nn::Cloneable<LSMImpl>, public OperatorModel {
 public:
  explicit LSMImpl(LSMOptions options);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& coords, const torch::Tensor& fields, const Extras& extras) override;
  // The spatial sizes the U-Net runs on, {(n_z,) n_y, n_x} each padded up to a multiple of 2^levels * patch_size.
  std::vector<int64_t> padded_sizes() const;

  LSMOptions options;
  torch::nn::Linear lift{nullptr};
  torch::nn::Sequential inc{nullptr};
  std::vector<torch::nn::Sequential> down;   // levels: level k - 1 -> k
  std::vector<torch::nn::Sequential> up;     // levels: back to level k
  std::vector<NeuralSpectralBlock> spectral;  // levels + 1: each skip connection and the bottleneck
  torch::nn::Linear project_hidden{nullptr}, project_out{nullptr};
};
TORCH_MODULE(LSM);

}  // namespace physis::ops
