#include "operators/lsm.h"

#include "operators/grid_model.h"

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>

#include <cmath>
#include <string>

namespace physis::ops {

torch::Tensor patchify(const torch::Tensor& x, int64_t patch) {
  const int64_t d = x.dim() - 2;
  TORCH_CHECK(d >= 1 && patch > 0, "patchify: expected [B, C, n_1, ...] but got ", x.sizes());
  std::vector<int64_t> split{x.size(0), x.size(1)}, order{0}, out{-1, x.size(1)};
  for (int64_t i = 0; i < d; ++i) {
    TORCH_CHECK(x.size(2 + i) % patch == 0, "patchify: size ", x.size(2 + i), " is not a multiple of ", patch);
    split.insert(split.end(), {x.size(2 + i) / patch, patch});  // [B, C, n_1 / p, p, n_2 / p, p, ...]
    order.push_back(2 + 2 * i);
    out.push_back(patch);
  }
  order.push_back(1);
  for (int64_t i = 0; i < d; ++i) order.push_back(3 + 2 * i);
  return x.reshape(split).permute(order).reshape(out);  // [B * P, C, p, ..., p]
}

torch::Tensor depatchify(const torch::Tensor& patches, const std::vector<int64_t>& sizes, int64_t patch) {
  const auto d = static_cast<int64_t>(sizes.size());
  TORCH_CHECK(patches.dim() == d + 2, "depatchify: expected [B * P, C, ", d, " patch axes] but got ", patches.sizes());
  const int64_t channels = patches.size(1);
  int64_t count = 1;
  std::vector<int64_t> split{-1}, order{0, d + 1}, out{-1, channels};
  for (int64_t n : sizes) {
    TORCH_CHECK(n % patch == 0, "depatchify: size ", n, " is not a multiple of ", patch);
    split.push_back(n / patch);
    count *= n / patch;
    out.push_back(n);
  }
  TORCH_CHECK(patches.size(0) % count == 0, "depatchify: ", patches.size(0), " patches do not tile maps of ", count);
  split.push_back(channels);
  for (int64_t i = 0; i < d; ++i) {
    split.push_back(patch);                         // [B, n_1 / p, ..., C, p, ...]
    order.insert(order.end(), {1 + i, d + 2 + i});  // -> [B, C, n_1 / p, p, n_2 / p, p, ...]
  }
  return patches.reshape(split).permute(order).reshape(out);  // [B, C, n_1, ..., n_d]
}

namespace {

// softmax(q k^T) v over the last two axes: q [..., L, e], k and v [..., S, e] -> [..., L, e]. Unscaled, as in the
// reference.
torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v) {
  return torch::matmul(torch::softmax(torch::matmul(q, k.transpose(-2, -1)), -1), v);
}

// (3x3 convolution without bias, batch norm, ReLU) twice, in 2D or 3D.
torch::nn::Sequential double_conv(int64_t dim, int64_t in, int64_t mid, int64_t out) {
  torch::nn::Sequential block;
  for (auto [from, to] : {std::pair{in, mid}, std::pair{mid, out}}) {
    if (dim == 2) {
      block->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(from, to, 3).padding(1).bias(false)));
      block->push_back(torch::nn::BatchNorm2d(to));
    } else {
      block->push_back(torch::nn::Conv3d(torch::nn::Conv3dOptions(from, to, 3).padding(1).bias(false)));
      block->push_back(torch::nn::BatchNorm3d(to));
    }
    block->push_back(torch::nn::ReLU());
  }
  return block;
}

torch::Tensor max_pool(const torch::Tensor& x) {
  return x.dim() == 4 ? torch::max_pool2d(x, {2, 2}) : torch::max_pool3d(x, {2, 2, 2});
}

// Linear interpolation (corners aligned, as the reference) of x [B, C, ...] to the spatial sizes of `like`.
torch::Tensor upsample_to(const torch::Tensor& x, const torch::Tensor& like) {
  const auto sizes = like.sizes().slice(2);
  return x.dim() == 4 ? torch::upsample_bilinear2d(x, sizes, true) : torch::upsample_trilinear3d(x, sizes, true);
}

}  // namespace

NeuralSpectralBlockImpl::NeuralSpectralBlockImpl(NeuralSpectralBlockOptions options_) : options(std::move(options_)) {
  reset();
}

void NeuralSpectralBlockImpl::reset() {
  const int64_t c = options.channels(), h = options.heads();
  TORCH_CHECK(c > 0 && h > 0 && c % h == 0, "NeuralSpectralBlock: channels (", c, ") must be a multiple of heads (",
              h, ")");
  TORCH_CHECK(options.patch_size() > 0 && options.tokens() > 0 && options.bases() > 0,
              "NeuralSpectralBlock: patch_size, tokens and bases must be positive");
  encoder = register_module("encoder", torch::nn::Linear(c, 2 * c));
  decoder = register_module("decoder", torch::nn::Linear(c, c));
  // The reference's initialisation: uniform in [0, 1 / C).
  latent = register_parameter("latent", torch::rand({h, options.tokens(), c / h}) / double(c));
  basis_weights = register_parameter("basis_weights", torch::rand({c, 2 * options.bases()}) / double(c));
}

torch::Tensor NeuralSpectralBlockImpl::forward(const torch::Tensor& x) {
  const int64_t c = options.channels(), h = options.heads(), t = options.tokens(), e = c / h;
  TORCH_CHECK((x.dim() == 4 || x.dim() == 5) && x.size(1) == c, "NeuralSpectralBlock: expected [B, ", c,
              ", n_1, n_2(, n_3)] but got ", x.sizes());
  const auto sizes = x.sizes().slice(2).vec();
  // 1. patchify
  auto patches = patchify(x, options.patch_size());  // [B', C, p, ...]
  const int64_t b = patches.size(0);
  auto pixels = patches.flatten(2).transpose(1, 2);  // [B', L, C]
  const int64_t l = pixels.size(1);
  // 2. latent tokens attend over the pixels of their patch
  auto kv = encoder->forward(pixels).view({b, l, 2, h, e}).permute({2, 0, 3, 1, 4});  // [2, B', H, L, E]
  auto queries = latent.unsqueeze(0).expand({b, h, t, e});                            // [B', H, T, E]
  auto tokens = attend(queries, kv[0], kv[1]) + queries;                              // [B', H, T, E]
  // 3. transition through the sin / cos basis operators, per channel
  auto z = tokens.transpose(2, 3).reshape({b, c, t});                                        // [B', C, T]
  auto angles = z.unsqueeze(-1) * (torch::arange(options.bases(), z.options()) * (M_PI / options.bases()));  // [B', C, T, K]
  auto basis = torch::cat({angles.sin(), angles.cos()}, -1);                                 // [B', C, T, 2K]
  z = (basis * basis_weights.unsqueeze(1)).sum(-1) + z;                                     // [B', C, T]
  tokens = z.view({b, h, e, t}).transpose(2, 3);                                             // [B', H, T, E]
  // 4. pixels attend back to the tokens
  auto q = decoder->forward(pixels).view({b, l, h, e}).transpose(1, 2);      // [B', H, L, E]
  auto mixed = attend(q, tokens, tokens).transpose(1, 2).reshape({b, l, c});  // [B', L, C]
  // 5. de-patchify
  return depatchify((mixed + pixels).transpose(1, 2).reshape(patches.sizes()), sizes, options.patch_size());
}

LSMImpl::LSMImpl(LSMOptions options_) : options(std::move(options_)) { reset(); }

std::vector<int64_t> LSMImpl::padded_sizes() const {
  const int64_t multiple = (int64_t{1} << options.levels()) * options.patch_size();
  auto sizes = image_sizes(options.grid_shape());
  for (auto& n : sizes) n = (n + multiple - 1) / multiple * multiple;
  return sizes;
}

void LSMImpl::reset() {
  const auto d = static_cast<int64_t>(options.grid_shape().size());
  TORCH_CHECK(d == 2 || d == 3, "LSM: needs a 2D or 3D grid_shape, got ", torch::IntArrayRef(options.grid_shape()));
  TORCH_CHECK(options.levels() >= 1 && options.levels() <= 8, "LSM: levels must be 1 to 8");
  TORCH_CHECK(options.width() > 0 && options.projection_width() > 0 && options.outputs() > 0,
              "LSM: width, projection_width and outputs must be positive");
  const int64_t levels = options.levels(), w = options.width();
  // Channels per level: doubling down to the level above the bottleneck, which keeps its count (the reference's
  // bilinear U-Net: 1, 2, 4, 8, 8 x width).
  std::vector<int64_t> channels{w};
  for (int64_t k = 1; k <= levels; ++k) channels.push_back(k < levels ? 2 * channels.back() : channels.back());
  auto block_options = [&](int64_t c) {
    return NeuralSpectralBlockOptions(c)
        .patch_size(options.patch_size())
        .tokens(options.tokens())
        .bases(options.bases())
        .heads(options.heads());
  };
  lift = register_module("lift", torch::nn::Linear(options.field_channels() + d + options.params(), w));
  inc = register_module("inc", double_conv(d, w, w, w));
  down.clear();
  up.clear();
  spectral.clear();
  for (int64_t k = 0; k <= levels; ++k) {
    spectral.push_back(register_module("spectral" + std::to_string(k), NeuralSpectralBlock(block_options(channels[k]))));
    if (k == 0) continue;
    down.push_back(register_module("down" + std::to_string(k), double_conv(d, channels[k - 1], channels[k], channels[k])));
  }
  // up[k] takes level k's skip (channels[k]) and the upsampled level k + 1 (channels[k] as well).
  for (int64_t k = 0; k < levels; ++k) {
    const int64_t c = channels[k];
    up.push_back(register_module("up" + std::to_string(k), double_conv(d, 2 * c, c, k > 0 ? c / 2 : c)));
  }
  project_hidden = register_module("project_hidden", torch::nn::Linear(w, options.projection_width()));
  project_out = register_module("project_out", torch::nn::Linear(options.projection_width(), options.outputs()));
}

torch::Tensor LSMImpl::forward(const torch::Tensor& coords, const torch::Tensor& fields, const Extras& extras) {
  const auto sizes = image_sizes(options.grid_shape());
  const auto padded = padded_sizes();
  const auto d = static_cast<int64_t>(sizes.size());
  auto image = grid_model_inputs("LSM", options.grid_shape(), options.field_channels(), options.params(), coords,
                                 fields, extras);           // [B, n.., f + d + P]
  auto x = lift->forward(image).movedim(-1, 1);            // [B, w, n..]
  std::vector<int64_t> pad;                                // from the last axis backwards
  for (int64_t i = d - 1; i >= 0; --i) pad.insert(pad.end(), {0, padded[i] - sizes[i]});
  x = torch::constant_pad_nd(x, pad);                      // [B, w, padded..]
  // The U-Net: down, with every level kept for its skip connection ...
  std::vector<torch::Tensor> levels{inc->forward(x)};
  for (auto& block : down) levels.push_back(block->forward(max_pool(levels.back())));
  // ... then up, every skip connection and the bottleneck through a neural spectral block.
  auto y = spectral.back()->forward(levels.back());
  for (auto k = static_cast<int64_t>(up.size()) - 1; k >= 0; --k) {
    auto skip = spectral[k]->forward(levels[k]);
    y = up[k]->forward(torch::cat({skip, upsample_to(y, skip)}, 1));
  }
  for (int64_t i = 0; i < d; ++i) y = y.narrow(2 + i, 0, sizes[i]);  // [B, w, n..]
  // The reference's 1x1 output convolution is left out: it would be two linear maps in a row with project_hidden.
  auto out = project_out->forward(torch::gelu(project_hidden->forward(y.movedim(1, -1))));  // [B, n.., c]
  return grid_model_outputs("LSM", out, options.mask_output(), extras);                    // [B, N, c]
}

}  // namespace physis::ops
