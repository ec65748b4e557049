#include "operators/transolver.h"

#include <torch/nn/init.h>
#include <torch/nn/modules/activation.h>

#include <cmath>

namespace physis::ops {
namespace {

int64_t product(const std::vector<int64_t>& sizes) {
  int64_t n = 1;
  for (int64_t s : sizes) n *= s;
  return n;
}

// Distances of every point to every reference point: [..., N, d], [R, d] -> [..., N, R].
torch::Tensor distances(const torch::Tensor& points, const torch::Tensor& reference) {
  // clamp: a point on a reference point would give sqrt'(0) = inf in a backward pass through the coordinates
  return (points.unsqueeze(-2) - reference).pow(2).sum(-1).clamp_min(1e-12).sqrt();
}

}  // namespace

GridConvImpl::GridConvImpl(GridConvOptions options_) : options(std::move(options_)) { reset(); }

void GridConvImpl::reset() {
  const auto dims = static_cast<int64_t>(options.grid_shape().size());
  TORCH_CHECK(dims == 2 || dims == 3, "GridConv: expected a 2D or 3D grid_shape but got ", dims, " sizes");
  TORCH_CHECK(options.kernel() % 2 == 1, "GridConv: the kernel size must be odd");
  std::vector<int64_t> shape{options.out_channels(), options.in_channels()};
  shape.insert(shape.end(), static_cast<size_t>(dims), options.kernel());
  // LibTorch's Conv default: weights and biases uniform in +-1/sqrt(fan_in)
  const int64_t fan_in = product(shape) / options.out_channels();
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  weight = register_parameter("weight", torch::empty(shape).uniform_(-bound, bound));
  bias = register_parameter("bias", torch::empty({options.out_channels()}).uniform_(-bound, bound));
}

torch::Tensor GridConvImpl::forward(const torch::Tensor& x) {
  const auto& grid = options.grid_shape();
  TORCH_CHECK(x.dim() == 3 && x.size(1) == product(grid) && x.size(2) == options.in_channels(),
              "GridConv: expected [B, ", product(grid), ", ", options.in_channels(), "] but got ", x.sizes());
  const auto dims = static_cast<int64_t>(grid.size());
  // [B, N, in] with x fastest -> [B, in, (n_z,) n_y, n_x]
  std::vector<int64_t> image_shape{x.size(0)};
  image_shape.insert(image_shape.end(), grid.rbegin(), grid.rend());
  image_shape.push_back(options.in_channels());
  auto image = x.reshape(image_shape).movedim(-1, 1);
  const std::vector<int64_t> ones(static_cast<size_t>(dims), 1), zeros(static_cast<size_t>(dims), 0);
  const std::vector<int64_t> padding(static_cast<size_t>(dims), options.kernel() / 2);
  auto out = torch::convolution(image, weight, bias, ones, padding, ones, /*transposed=*/false, zeros, 1);
  return out.movedim(1, -1).reshape({x.size(0), x.size(1), options.out_channels()});  // [B, N, out]
}

PhysicsAttentionImpl::PhysicsAttentionImpl(PhysicsAttentionOptions options_) : options(std::move(options_)) {
  reset();
}

void PhysicsAttentionImpl::reset() {
  const int64_t width = options.width(), heads = options.heads(), slices = options.slices();
  TORCH_CHECK(heads > 0 && width > 0 && width % heads == 0, "PhysicsAttention: width ", width,
              " must be a positive multiple of heads ", heads);
  TORCH_CHECK(slices > 0, "PhysicsAttention: slices must be positive");
  const int64_t head_width = width / heads;
  auto projection = [&](const char* name) {
    torch::nn::AnyModule m;
    if (options.grid_shape().empty())
      m = torch::nn::AnyModule(register_module(name, torch::nn::Linear(width, width)));
    else
      m = torch::nn::AnyModule(register_module(name, GridConv(GridConvOptions(width, width, options.grid_shape()))));
    return m;
  };
  project_x = projection("project_x");
  project_fx = projection("project_fx");
  to_slices = register_module("to_slices", torch::nn::Linear(head_width, slices));
  {
    torch::NoGradGuard no_grad;
    torch::nn::init::orthogonal_(to_slices->weight);  // as the reference: distinct slices from the start
  }
  temperature = register_parameter("temperature", torch::full({1, heads, 1, 1}, options.temperature()));
  if (options.adaptive_temperature())
    temperature_net = register_module(
        "temperature_net", torch::nn::Sequential(torch::nn::Linear(head_width, slices), torch::nn::GELU(),
                                                 torch::nn::Linear(slices, 1), torch::nn::GELU()));
  else
    temperature_net = nullptr;
  auto head_linear = [&](const char* name) {
    return register_module(name, torch::nn::Linear(torch::nn::LinearOptions(head_width, head_width).bias(false)));
  };
  to_q = head_linear("to_q");
  to_k = head_linear("to_k");
  to_v = head_linear("to_v");
  to_out = register_module("to_out", torch::nn::Linear(width, width));
}

torch::Tensor PhysicsAttentionImpl::split_heads(const torch::Tensor& x) const {
  const int64_t heads = options.heads();
  return x.reshape({x.size(0), x.size(1), heads, options.width() / heads}).permute({0, 2, 1, 3});
}

torch::Tensor PhysicsAttentionImpl::weights_of(const torch::Tensor& x_heads, const torch::Tensor& valid) {
  auto logits = to_slices->forward(x_heads);  // [B, H, N, M]
  auto tau = temperature;                     // [1, H, 1, 1]
  if (temperature_net) tau = tau + temperature_net->forward(x_heads);  // [B, H, N, 1]
  tau = tau.clamp_min(0.01);
  if (options.gumbel() && is_training()) {
    auto u = torch::rand_like(logits);
    logits = logits - torch::log(-torch::log(u + 1e-8) + 1e-8);
  }
  auto w = torch::softmax(logits / tau, -1);  // [B, H, N, M]
  if (valid.defined()) {
    TORCH_CHECK(valid.dim() == 2 && valid.size(0) == w.size(0) && valid.size(1) == w.size(2),
                "PhysicsAttention: expected valid [", w.size(0), ", ", w.size(2), "] but got ", valid.sizes());
    w = w * valid.unsqueeze(1).unsqueeze(-1).to(w.dtype());  // padded points join no slice
  }
  return w;
}

torch::Tensor PhysicsAttentionImpl::slice_weights(const torch::Tensor& x, const torch::Tensor& valid) {
  return weights_of(split_heads(project_x.forward(x)), valid);
}

torch::Tensor PhysicsAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& valid) {
  TORCH_CHECK(x.dim() == 3 && x.size(2) == options.width(), "PhysicsAttention: expected [B, N, ", options.width(),
              "] but got ", x.sizes());
  const int64_t batch = x.size(0), points = x.size(1);
  // 1. slice: points -> M tokens per head, weighted means of the projected features
  auto fx = split_heads(project_fx.forward(x));                  // [B, H, N, dh]
  auto w = weights_of(split_heads(project_x.forward(x)), valid);  // [B, H, N, M]
  auto norm = w.sum(2).unsqueeze(-1);                             // [B, H, M, 1]
  auto tokens = w.transpose(-1, -2).matmul(fx) / (norm + options.eps());  // [B, H, M, dh]
  // 2. attend among slice tokens
  auto q = to_q->forward(tokens), k = to_k->forward(tokens), v = to_v->forward(tokens);
  const double scale = 1.0 / std::sqrt(static_cast<double>(tokens.size(-1)));
  auto attention = torch::softmax(q.matmul(k.transpose(-1, -2)) * scale, -1);  // [B, H, M, M]
  tokens = attention.matmul(v);                                                // [B, H, M, dh]
  // 3. deslice: back to the points with the same weights
  auto out = w.matmul(tokens);                                            // [B, H, N, dh]
  return to_out->forward(out.permute({0, 2, 1, 3}).reshape({batch, points, options.width()}));  // [B, N, C]
}

TransolverBlockImpl::TransolverBlockImpl(TransolverBlockOptions options_) : options(std::move(options_)) { reset(); }

void TransolverBlockImpl::reset() {
  const int64_t width = options.attention().width();
  TORCH_CHECK(options.mlp_ratio() > 0, "TransolverBlock: mlp_ratio must be positive");
  norm_attention = register_module("norm_attention", torch::nn::LayerNorm(torch::nn::LayerNormOptions({width})));
  attention = register_module("attention", PhysicsAttention(options.attention()));
  norm_mlp = register_module("norm_mlp", torch::nn::LayerNorm(torch::nn::LayerNormOptions({width})));
  const int64_t hidden = width * options.mlp_ratio();
  mlp = register_module("mlp", torch::nn::Sequential(torch::nn::Linear(width, hidden), torch::nn::GELU(),
                                                     torch::nn::Linear(hidden, width)));
}

torch::Tensor TransolverBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& valid) {
  auto y = x + attention->forward(norm_attention->forward(x), valid);
  return y + mlp->forward(norm_mlp->forward(y));
}

TransolverImpl::TransolverImpl(TransolverOptions options_) : options(std::move(options_)) { reset(); }

void TransolverImpl::reset() {
  const int64_t width = options.width(), dims = options.coordinate_dim();
  const auto grid_dims = options.grid_shape().size();
  TORCH_CHECK(dims > 0 && options.outputs() > 0, "Transolver: coordinate_dim and outputs must be positive");
  TORCH_CHECK(options.layers() > 0, "Transolver: layers must be positive");
  TORCH_CHECK(grid_dims == 0 || grid_dims == 2 || grid_dims == 3,
              "Transolver: the structured variant needs a 2D or 3D grid_shape");
  TORCH_CHECK(!options.unified_pos() || options.reference_grid() > 0, "Transolver: reference_grid must be positive");
  int64_t position_features = dims;
  if (options.unified_pos()) {
    const std::vector<int64_t> reference(static_cast<size_t>(dims), options.reference_grid());
    reference_points = register_buffer(
        "reference_points",
        grid_coordinates(reference, std::vector<double>(static_cast<size_t>(dims), 0.0),
                         std::vector<double>(static_cast<size_t>(dims), 1.0)));  // [R^d, d]
    position_features = reference_points.size(0);
  }
  const int64_t inputs = position_features + options.field_channels() + options.params();
  embedding = register_module("embedding",
                              torch::nn::Sequential(torch::nn::Linear(inputs, 2 * width), torch::nn::GELU(),
                                                    torch::nn::Linear(2 * width, width)));
  placeholder = register_parameter("placeholder", torch::rand({width}) / static_cast<double>(width));
  auto attention = PhysicsAttentionOptions(width, options.heads(), options.slices())
                       .grid_shape(options.grid_shape())
                       .adaptive_temperature(options.adaptive_temperature())
                       .gumbel(options.gumbel());
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (int64_t i = 0; i < options.layers(); ++i)
    blocks->push_back(TransolverBlock(TransolverBlockOptions(attention).mlp_ratio(options.mlp_ratio())));
  norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({width})));
  output = register_module("output", torch::nn::Linear(width, options.outputs()));
}

torch::Tensor TransolverImpl::point_inputs(const torch::Tensor& coords, const torch::Tensor& fields,
                                           const Extras& extras) const {
  TORCH_CHECK(coords.dim() == 3 && coords.size(2) == options.coordinate_dim(), "Transolver: expected coords [B, N, ",
              options.coordinate_dim(), "] but got ", coords.sizes());
  const int64_t points = coords.size(1);
  int64_t batch = coords.size(0);
  if (fields.defined()) batch = fields.size(0);
  else if (extras.params.defined()) batch = extras.params.size(0);
  TORCH_CHECK(coords.size(0) == 1 || coords.size(0) == batch, "Transolver: coords [", coords.size(0),
              ", N, d] do not match a batch of ", batch);
  auto position = options.unified_pos() ? distances(coords, reference_points) : coords;  // [B or 1, N, p]
  std::vector<torch::Tensor> parts{position.expand({batch, points, position.size(2)})};
  if (options.field_channels() > 0) {
    TORCH_CHECK(fields.defined() && fields.dim() == 3 && fields.size(1) == points &&
                    fields.size(2) == options.field_channels(),
                "Transolver: expected fields on the points [", batch, ", ", points, ", ", options.field_channels(),
                "] but got ", fields.defined() ? fields.sizes() : torch::IntArrayRef{});
    parts.push_back(fields);
  }
  if (options.params() > 0) {
    TORCH_CHECK(extras.params.defined() && extras.params.dim() == 2 && extras.params.size(0) == batch &&
                    extras.params.size(1) == options.params(),
                "Transolver: expected params [", batch, ", ", options.params(), "]");
    parts.push_back(extras.params.unsqueeze(1).expand({batch, points, options.params()}));
  }
  return torch::cat(parts, -1);  // [B, N, in]
}

torch::Tensor TransolverImpl::features(const torch::Tensor& coords, const torch::Tensor& fields,
                                       const Extras& extras) {
  if (!options.grid_shape().empty())
    TORCH_CHECK(coords.dim() == 3 && coords.size(1) == product(options.grid_shape()),
                "Transolver: the structured variant expects the ", product(options.grid_shape()),
                " points of its grid but got coords ", coords.sizes());
  auto x = embedding->forward(point_inputs(coords, fields, extras)) + placeholder;  // [B, N, C]
  for (const auto& block : *blocks) x = block->as<TransolverBlock>()->forward(x, extras.valid);
  return norm->forward(x);
}

torch::Tensor TransolverImpl::head(const torch::Tensor& features, const Extras& extras) {
  auto out = output->forward(features);  // [B, N, c]
  if (options.mask_output()) {
    TORCH_CHECK(extras.mask.defined() && extras.mask.sizes() == out.sizes().slice(0, 2),
                "Transolver: mask_output needs a mask [B, N]");
    out = out * extras.mask.unsqueeze(-1);
  }
  return out;
}

torch::Tensor TransolverImpl::forward(const torch::Tensor& coords, const torch::Tensor& fields, const Extras& extras) {
  return head(features(coords, fields, extras), extras);
}

}  // namespace physis::ops
