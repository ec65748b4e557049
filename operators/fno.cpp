#include "operators/fno.h"

#include "operators/grid_model.h"

#include <torch/fft.h>

#include <algorithm>
#include <string>

namespace physis::ops {

using torch::indexing::Slice;

SpectralConvImpl::SpectralConvImpl(SpectralConvOptions options_) : options(std::move(options_)) { reset(); }

void SpectralConvImpl::reset() {
  const auto& sizes = options.sizes();
  const auto d = sizes.size();
  TORCH_CHECK(d >= 1 && options.modes() > 0 && options.in_channels() > 0 && options.out_channels() > 0,
              "SpectralConv: needs at least one axis and positive modes and channels");
  kept_modes.clear();
  for (size_t i = 0; i < d; ++i) {
    TORCH_CHECK(sizes[i] >= 2, "SpectralConv: every axis needs at least 2 points, got ", torch::IntArrayRef(sizes));
    kept_modes.push_back(std::min(options.modes(), i + 1 < d ? sizes[i] / 2 : sizes[i] / 2 + 1));
  }
  std::vector<int64_t> shape{int64_t{1} << (d - 1), options.in_channels(), options.out_channels()};
  shape.insert(shape.end(), kept_modes.begin(), kept_modes.end());
  shape.push_back(2);
  // The reference's initialisation: uniform real and imaginary parts, scaled by 1 / (in * out).
  weight = register_parameter("weight", torch::rand(shape) / double(options.in_channels() * options.out_channels()));
}

torch::Tensor SpectralConvImpl::forward(const torch::Tensor& x) {
  const auto& sizes = options.sizes();
  const auto d = static_cast<int64_t>(sizes.size());
  TORCH_CHECK(x.dim() == d + 2 && x.size(1) == options.in_channels() && x.sizes().slice(2) == torch::IntArrayRef(sizes),
              "SpectralConv: expected [B, ", options.in_channels(), ", ", torch::IntArrayRef(sizes), "] but got ",
              x.sizes());
  std::vector<int64_t> dims(d);
  for (int64_t i = 0; i < d; ++i) dims[i] = i + 2;
  auto spectrum = torch::fft::rfftn(x, std::nullopt, dims);  // [B, in, s_1, ..., s_d / 2 + 1], complex
  auto out_shape = spectrum.sizes().vec();
  out_shape[1] = options.out_channels();
  auto out = torch::zeros(out_shape, spectrum.options());  // [B, out, s_1, ..., s_d / 2 + 1]
  const auto weights = torch::view_as_complex(weight);    // [corners, in, out, m_1, ..., m_d]
  for (int64_t corner = 0; corner < weights.size(0); ++corner) {
    // Bit i of `corner` picks the negative frequencies of non-last axis i.
    std::vector<torch::indexing::TensorIndex> block{Slice(), Slice()};
    for (int64_t i = 0; i < d; ++i) {
      const bool negative = i + 1 < d && ((corner >> i) & 1);
      block.emplace_back(negative ? Slice(sizes[i] - kept_modes[i], sizes[i]) : Slice(0, kept_modes[i]));
    }
    out.index_put_(block, torch::einsum("bi...,io...->bo...", {spectrum.index(block), weights[corner]}));
  }
  return torch::fft::irfftn(out, sizes, dims);  // [B, out, s_1, ..., s_d]
}

FNOImpl::FNOImpl(FNOOptions options_) : options(std::move(options_)) { reset(); }

void FNOImpl::reset() {
  const auto d = static_cast<int64_t>(options.grid_shape().size());
  TORCH_CHECK(d == 2 || d == 3, "FNO: needs a 2D or 3D grid_shape, got ", torch::IntArrayRef(options.grid_shape()));
  TORCH_CHECK(options.width() > 0 && options.layers() > 0 && options.projection_width() > 0 && options.outputs() > 0,
              "FNO: width, layers, projection_width and outputs must be positive");
  TORCH_CHECK(options.padding() >= 0, "FNO: padding must be >= 0");
  std::vector<int64_t> padded = image_sizes(options.grid_shape());
  for (auto& n : padded) n += options.padding();
  const int64_t w = options.width();
  lift = register_module("lift", torch::nn::Linear(options.field_channels() + d + options.params(), w));
  spectral.clear();
  skip.clear();
  for (int64_t l = 0; l < options.layers(); ++l) {
    spectral.push_back(register_module("spectral" + std::to_string(l),
                                       SpectralConv(SpectralConvOptions(w, w, padded).modes(options.modes()))));
    skip.push_back(register_module("skip" + std::to_string(l), torch::nn::Linear(w, w)));
  }
  project_hidden = register_module("project_hidden", torch::nn::Linear(w, options.projection_width()));
  project_out = register_module("project_out", torch::nn::Linear(options.projection_width(), options.outputs()));
}

torch::Tensor FNOImpl::forward(const torch::Tensor& coords, const torch::Tensor& fields, const Extras& extras) {
  const auto& grid = options.grid_shape();
  const auto d = static_cast<int64_t>(grid.size());
  auto image = grid_model_inputs("FNO", grid, options.field_channels(), options.params(), coords, fields, extras);
  auto x = lift->forward(image).movedim(-1, 1).contiguous();  // [B, w, n..]
  const int64_t p = options.padding();
  if (p > 0) {
    std::vector<int64_t> pad;  // from the last axis backwards
    for (int64_t i = 0; i < d; ++i) pad.insert(pad.end(), {0, p});
    x = torch::constant_pad_nd(x, pad);  // [B, w, n_1 + p, ...]
  }
  for (size_t l = 0; l < spectral.size(); ++l) {
    // The pointwise skip as one matrix product over the flattened grid: [w, w] x [B, w, M].
    auto pointwise = (torch::matmul(skip[l]->weight, x.flatten(2)) + skip[l]->bias.unsqueeze(-1)).view_as(x);
    x = spectral[l]->forward(x) + pointwise;
    if (l + 1 < spectral.size()) x = torch::gelu(x);
  }
  if (p > 0)
    for (int64_t i = 0; i < d; ++i) x = x.narrow(i + 2, 0, x.size(i + 2) - p);  // [B, w, n..]
  auto y = project_out->forward(torch::gelu(project_hidden->forward(x.movedim(1, -1))));  // [B, n.., c]
  return grid_model_outputs("FNO", y, options.mask_output(), extras);                      // [B, N, c]
}

}  // namespace physis::ops
