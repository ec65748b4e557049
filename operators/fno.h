// Fourier Neural Operator (Li et al. 2021) on one regular 2D or 3D grid.
//
// The input fields and the grid coordinates (and params, constant over the grid) are lifted pointwise to `width`
// channels; `layers` Fourier layers each add a spectral convolution (the lowest `modes` frequencies per axis, mixed
// across channels by learned complex weights) to a pointwise linear skip, with GELU after every layer but the last;
// a two-layer MLP projects to the c outputs. As in the reference FNO, the non-last axes keep both their positive and
// negative frequency corners (the last axis is halved by the real FFT), and optional zero `padding` at the upper end
// of each axis makes the non-periodic problem less periodic for the FFT; it is cropped before the projection.
//
//   FNO net(FNOOptions(/*grid_shape=*/{85, 64}, /*field_channels=*/1).width(32).modes(12));
//   auto y = net->forward(coords /*[B or 1, 85 * 64, 2]*/, fields /*[B, 85 * 64, 1]*/, {});   // [B, 85 * 64, 1]
//
// Grids need not be square: `modes` is clamped per axis to what the (padded) grid holds, n / 2 on the non-last axes
// (the two corners then never overlap) and n / 2 + 1 on the last.
#pragma once

#include "operators/operator_model.h"

#include <torch/nn/cloneable.h>
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include <vector>

namespace physis::ops {

struct SpectralConvOptions {
  SpectralConvOptions(int64_t in_channels, int64_t out_channels, std::vector<int64_t> sizes)
      : in_channels_(in_channels), out_channels_(out_channels), sizes_(std::move(sizes)) {}
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, out_channels);
  TORCH_ARG(std::vector<int64_t>, sizes);  // spatial sizes of the input, in tensor order
  TORCH_ARG(int64_t, modes) = 12;          // kept frequencies per axis (per corner on the non-last axes), clamped
};

// Spectral convolution on channels-first tensors [B, in, s_1, ..., s_d] -> [B, out, s_1, ..., s_d] (the FFT axes
// contiguous: several times faster on the CPU than channels last).
class SpectralConvImpl : public torch::nn::Cloneable<SpectralConvImpl> {
 public:
  explicit SpectralConvImpl(SpectralConvOptions options);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x);

  SpectralConvOptions options;
  std::vector<int64_t> kept_modes;  // per axis, after clamping
  // Complex weights stored as (real, imaginary) pairs, so that a dtype change converts them like every other
  // parameter: [2^(d-1) corners, in, out, m_1, ..., m_d, 2].
  torch::Tensor weight;
};
TORCH_MODULE(SpectralConv);

struct FNOOptions {
  FNOOptions(std::vector<int64_t> grid_shape, int64_t field_channels)
      : grid_shape_(std::move(grid_shape)), field_channels_(field_channels) {}
  TORCH_ARG(std::vector<int64_t>, grid_shape);  // {n_x, n_y[, n_z]}, x fastest (Dataset::grid_shape)
  TORCH_ARG(int64_t, field_channels);           // f
  TORCH_ARG(int64_t, params) = 0;               // P values, each a constant input channel
  TORCH_ARG(int64_t, outputs) = 1;              // c
  TORCH_ARG(int64_t, width) = 32;               // channels of the Fourier layers
  TORCH_ARG(int64_t, modes) = 12;               // per axis, clamped to the grid
  TORCH_ARG(int64_t, layers) = 4;
  TORCH_ARG(int64_t, projection_width) = 128;   // hidden width of the output MLP
  TORCH_ARG(int64_t, padding) = 0;              // zero cells added at the upper end of each axis (reference Darcy: 9)
  TORCH_ARG(bool, mask_output) = false;         // multiply the prediction by extras.mask
};

class FNOImpl : public torch::nn::Cloneable<FNOImpl>, public OperatorModel {
 public:
  explicit FNOImpl(FNOOptions options);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& coords, const torch::Tensor& fields, const Extras& extras) override;

  FNOOptions options;
  torch::nn::Linear lift{nullptr};
  std::vector<SpectralConv> spectral;
  std::vector<torch::nn::Linear> skip;
  torch::nn::Linear project_hidden{nullptr}, project_out{nullptr};
};
TORCH_MODULE(FNO);

}  // namespace physis::ops
