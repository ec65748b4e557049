#include "operators/deeponet.h"

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

namespace physis::ops {
namespace {

int64_t conv_output_size(int64_t n, int64_t layers) {
  for (int64_t i = 0; i < layers; ++i) n = (n + 2 * 2 - 5) / 2 + 1;  // kernel 5, stride 2, padding 2
  return n;
}

}  // namespace

DeepONetImpl::DeepONetImpl(DeepONetOptions options_) : options(std::move(options_)) { reset(); }

void DeepONetImpl::reset() {
  const int64_t pc = options.basis() * options.outputs();
  TORCH_CHECK(options.basis() > 0 && options.outputs() > 0, "DeepONet: basis and outputs must be positive");
  int64_t head_inputs = options.branch_inputs() + options.params();
  if (options.branch() == "cnn") {
    TORCH_CHECK(options.grid_shape().size() == 2, "DeepONet: a cnn branch needs a 2D grid_shape {n_x, n_y}");
    branch_cnn = torch::nn::Sequential();
    int64_t in = options.field_channels();
    for (int64_t out : options.cnn_channels()) {
      branch_cnn->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 5).stride(2).padding(2)));
      branch_cnn->push_back(torch::nn::GELU());
      in = out;
    }
    branch_cnn = register_module("branch_cnn", branch_cnn);
    const auto layers = static_cast<int64_t>(options.cnn_channels().size());
    head_inputs = in * conv_output_size(options.grid_shape()[0], layers) *
                      conv_output_size(options.grid_shape()[1], layers) + options.params();
  } else {
    TORCH_CHECK(options.branch() == "mlp", "DeepONet: unknown branch '", options.branch(), "' (expected mlp or cnn)");
    TORCH_CHECK(head_inputs > 0, "DeepONet: the branch has no inputs");
  }
  branch_mlp = register_module(
      "branch", MLP(MLPOptions(head_inputs, options.branch_hidden(), pc).activation(options.activation()).init(options.init())));
  int64_t trunk_inputs = options.coordinate_dim();
  if (options.trunk_fourier_features() > 0) {
    trunk_fourier = register_module(
        "trunk_fourier", FourierFeatures(FourierFeaturesOptions(options.coordinate_dim(), options.trunk_fourier_features())
                                             .sigma(options.trunk_fourier_sigma())));
    trunk_inputs = trunk_fourier->out_features();
  }
  // The trunk's last layer is activated too: its outputs are the basis functions t_k(y).
  trunk = register_module("trunk", MLP(MLPOptions(trunk_inputs, options.trunk_hidden(), pc)
                                           .activation(options.activation())
                                           .init(options.init())
                                           .activate_last(true)));
  bias = register_parameter("bias", torch::zeros({options.outputs()}));
}

torch::Tensor DeepONetImpl::branch(const torch::Tensor& fields, const torch::Tensor& params) {
  const int64_t batch = fields.defined() ? fields.size(0) : params.size(0);
  std::vector<torch::Tensor> parts;
  if (options.branch() == "cnn") {
    const auto& g = options.grid_shape();
    TORCH_CHECK(fields.defined() && fields.dim() == 3 && fields.size(1) == g[0] * g[1] &&
                    fields.size(2) == options.field_channels(),
                "DeepONet: expected fields [B, ", g[0] * g[1], ", ", options.field_channels(), "] but got ",
                fields.defined() ? fields.sizes() : torch::IntArrayRef{});
    // [B, N, f] with x fastest -> image [B, f, n_y, n_x]
    auto image = fields.reshape({batch, g[1], g[0], options.field_channels()}).permute({0, 3, 1, 2});
    parts.push_back(branch_cnn->forward(image).flatten(1));
  } else if (options.branch_inputs() > 0) {
    TORCH_CHECK(fields.defined() && fields.dim() == 3 && fields.size(1) * fields.size(2) == options.branch_inputs(),
                "DeepONet: expected fields [B, S, f] with S * f = ", options.branch_inputs(), " but got ",
                fields.defined() ? fields.sizes() : torch::IntArrayRef{});
    parts.push_back(fields.reshape({batch, -1}));
  }
  if (options.params() > 0) {
    TORCH_CHECK(params.defined() && params.dim() == 2 && params.size(0) == batch && params.size(1) == options.params(),
                "DeepONet: expected params [B, ", options.params(), "]");
    parts.push_back(params);
  }
  return branch_mlp->forward(parts.size() == 1 ? parts.front() : torch::cat(parts, 1));  // [B, p * c]
}

torch::Tensor DeepONetImpl::basis(const torch::Tensor& points) {
  return trunk->forward(trunk_fourier ? trunk_fourier->forward(points) : points);
}

torch::Tensor DeepONetImpl::combine_aligned(const torch::Tensor& branch_out, const torch::Tensor& trunk_in) {
  TORCH_CHECK(trunk_in.dim() == 2 && trunk_in.size(1) == options.coordinate_dim(), "DeepONet: expected trunk input [N, ",
              options.coordinate_dim(), "] but got ", trunk_in.sizes());
  const int64_t p = options.basis(), c = options.outputs();
  auto b = branch_out.reshape({branch_out.size(0), c, p});           // [B, c, p]
  auto t = basis(trunk_in).reshape({trunk_in.size(0), c, p});  // [N, c, p]
  return torch::einsum("bcp,ncp->bnc", {b, t}) + bias;                // [B, N, c]
}

torch::Tensor DeepONetImpl::combine_unaligned(const torch::Tensor& branch_out, const torch::Tensor& trunk_in) {
  TORCH_CHECK(trunk_in.dim() == 3 && trunk_in.size(0) == branch_out.size(0) &&
                  trunk_in.size(2) == options.coordinate_dim(),
              "DeepONet: expected trunk input [", branch_out.size(0), ", N, ", options.coordinate_dim(), "] but got ",
              trunk_in.sizes());
  const int64_t p = options.basis(), c = options.outputs();
  const int64_t batch = trunk_in.size(0), n = trunk_in.size(1);
  auto b = branch_out.reshape({batch, c, p});                                                    // [B, c, p]
  auto t = basis(trunk_in.reshape({batch * n, -1})).reshape({batch, n, c, p});  // [B, N, c, p]
  return torch::einsum("bcp,bncp->bnc", {b, t}) + bias;                                         // [B, N, c]
}

torch::Tensor DeepONetImpl::forward(const torch::Tensor& coords, const torch::Tensor& fields, const Extras& extras) {
  TORCH_CHECK(coords.dim() == 3 && coords.size(2) == options.coordinate_dim(), "DeepONet: expected coords [B, N, ",
              options.coordinate_dim(), "] but got ", coords.sizes());
  auto b = branch(fields, extras.params);
  auto out = coords.size(0) == 1 ? combine_aligned(b, coords[0]) : combine_unaligned(b, coords);
  if (options.mask_output()) {
    TORCH_CHECK(extras.mask.defined() && extras.mask.sizes() == out.sizes().slice(0, 2),
                "DeepONet: mask_output needs a mask [B, N]");
    out = out * extras.mask.unsqueeze(-1);
  }
  return out;
}

}  // namespace physis::ops
