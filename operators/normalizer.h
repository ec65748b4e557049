// Per-channel normalisation of operator inputs and outputs, saved with the model (its statistics are buffers).
//
//   Normalizer norm(NormalizerOptions(1).kind(NormalizerKind::gaussian));
//   norm->fit(train.all().targets);          // [..., c]: statistics over every axis but the last
//   auto z = norm->encode(u);                // (u - mean) / std
//   auto u2 = norm->decode(z);               // back to physical units
#pragma once

#include <torch/nn/cloneable.h>
#include <torch/types.h>

#include <string>

namespace physis::ops {

enum class NormalizerKind { none, gaussian, minmax };
NormalizerKind parse_normalizer_kind(const std::string& name);  // throws std::invalid_argument listing choices
std::string normalizer_kind_name(NormalizerKind kind);

struct NormalizerOptions {
  explicit NormalizerOptions(int64_t channels) : channels_(channels) {}
  TORCH_ARG(int64_t, channels);
  TORCH_ARG(NormalizerKind, kind) = NormalizerKind::gaussian;  // gaussian: zero mean, unit std; minmax: to [0, 1]
  TORCH_ARG(double, eps) = 1e-8;  // a channel whose spread is at most eps is left unscaled (scale 1)
};

class NormalizerImpl : public torch::nn::Cloneable<NormalizerImpl> {
 public:
  explicit NormalizerImpl(NormalizerOptions options);
  void reset() override;
  // Statistics over every axis but the last; `weights` (same shape without the channel axis) leaves out
  // masked or padded points.
  void fit(const torch::Tensor& x, const torch::Tensor& weights = {});
  torch::Tensor encode(const torch::Tensor& x) const;  // [..., c]
  torch::Tensor decode(const torch::Tensor& z) const;  // [..., c]

  NormalizerOptions options;
  torch::Tensor shift, scale;  // buffers [c]: encode(x) = (x - shift) / scale
};
TORCH_MODULE(Normalizer);

}  // namespace physis::ops
