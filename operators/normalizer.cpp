#include "operators/normalizer.h"

#include <stdexcept>

namespace physis::ops {

NormalizerKind parse_normalizer_kind(const std::string& name) {
  if (name == "none") return NormalizerKind::none;
  if (name == "gaussian") return NormalizerKind::gaussian;
  if (name == "minmax") return NormalizerKind::minmax;
  throw std::invalid_argument("unknown normalizer '" + name + "': expected gaussian, minmax or none");
}

std::string normalizer_kind_name(NormalizerKind kind) {
  switch (kind) {
    case NormalizerKind::none: return "none";
    case NormalizerKind::gaussian: return "gaussian";
    case NormalizerKind::minmax: return "minmax";
  }
  return "?";
}

NormalizerImpl::NormalizerImpl(NormalizerOptions options_) : options(std::move(options_)) { reset(); }

void NormalizerImpl::reset() {
  TORCH_CHECK(options.channels() > 0, "Normalizer: channels must be positive");
  shift = register_buffer("shift", torch::zeros({options.channels()}));
  scale = register_buffer("scale", torch::ones({options.channels()}));
}

void NormalizerImpl::fit(const torch::Tensor& x, const torch::Tensor& weights) {
  TORCH_CHECK(x.dim() >= 1 && x.size(-1) == options.channels(), "Normalizer::fit: expected [..., ",
              options.channels(), "] but got ", x.sizes());
  torch::NoGradGuard no_grad;
  auto flat = x.reshape({-1, options.channels()}).to(torch::kFloat64);  // [M, c]
  torch::Tensor w;
  if (weights.defined()) {
    TORCH_CHECK(weights.numel() * options.channels() == x.numel(), "Normalizer::fit: weights ", weights.sizes(),
                " do not match ", x.sizes());
    w = weights.reshape({-1, 1}).to(torch::kFloat64);  // [M, 1]
  } else {
    w = torch::ones({flat.size(0), 1}, flat.options());
  }
  TORCH_CHECK(w.sum().item<double>() > 0, "Normalizer::fit: no points to fit");
  torch::Tensor new_shift, new_scale;
  switch (options.kind()) {
    case NormalizerKind::none:
      new_shift = torch::zeros({options.channels()}, flat.options());
      new_scale = torch::ones({options.channels()}, flat.options());
      break;
    case NormalizerKind::gaussian: {
      const auto total = w.sum();
      new_shift = (flat * w).sum(0) / total;
      new_scale = ((flat - new_shift).pow(2) * w).sum(0).div(total).sqrt();
      break;
    }
    case NormalizerKind::minmax: {
      const auto keep = w.squeeze(1) > 0;
      const auto kept = flat.index({keep});
      new_shift = std::get<0>(kept.min(0));
      new_scale = std::get<0>(kept.max(0)) - new_shift;
      break;
    }
  }
  shift.copy_(new_shift);
  // A channel that is constant on the training data (a one-hot column never set, a mask that is 1 everywhere) keeps
  // scale 1: dividing by a tiny spread would turn any later deviation from that constant into a huge input.
  scale.copy_(torch::where(new_scale > options.eps(), new_scale, torch::ones_like(new_scale)));
}

torch::Tensor NormalizerImpl::encode(const torch::Tensor& x) const {
  TORCH_CHECK(x.size(-1) == options.channels(), "Normalizer::encode: expected [..., ", options.channels(),
              "] but got ", x.sizes());
  return (x - shift) / scale;
}

torch::Tensor NormalizerImpl::decode(const torch::Tensor& z) const {
  TORCH_CHECK(z.size(-1) == options.channels(), "Normalizer::decode: expected [..., ", options.channels(),
              "] but got ", z.sizes());
  return z * scale + shift;
}

}  // namespace physis::ops
