#include "core/network.h"

#include "core/taylor_activation.h"

#include <torch/nn/init.h>

#include <cmath>
#include <numbers>
#include <stdexcept>

namespace physis {

Activation parse_activation(const std::string& name) {
  if (name == "tanh") return Activation::tanh;
  if (name == "sin") return Activation::sin;
  if (name == "silu" || name == "swish") return Activation::silu;
  if (name == "gelu") return Activation::gelu;
  throw std::invalid_argument("unknown activation '" + name + "': expected tanh, sin, silu or gelu");
}

std::string activation_name(Activation activation) {
  switch (activation) {
    case Activation::tanh: return "tanh";
    case Activation::sin: return "sin";
    case Activation::silu: return "silu";
    case Activation::gelu: return "gelu";
  }
  return "?";
}

torch::Tensor apply_activation(Activation activation, const torch::Tensor& x) {
  switch (activation) {
    case Activation::tanh: return torch::tanh(x);
    case Activation::sin: return torch::sin(x);
    case Activation::silu: return torch::silu(x);
    case Activation::gelu: return torch::gelu(x);
  }
  return x;
}

MLPImpl::MLPImpl(MLPOptions options_) : options(std::move(options_)) { reset(); }

void MLPImpl::reset() {
  const auto& w = options.widths();
  TORCH_CHECK(w.size() >= 2, "MLP needs at least an input and an output width, got ", w.size(), " widths");
  for (auto width : w) TORCH_CHECK(width > 0, "MLP widths must be positive, got ", width);
  TORCH_CHECK(options.init() == "glorot" || options.init() == "fan_in", "MLP: unknown init '", options.init(),
              "' (expected glorot or fan_in)");
  layers = register_module("layers", torch::nn::ModuleList());
  for (std::size_t i = 0; i + 1 < w.size(); ++i) {
    torch::nn::Linear linear(torch::nn::LinearOptions(w[i], w[i + 1]));  // initialised fan_in-uniform
    if (options.init() == "glorot") {
      torch::nn::init::xavier_uniform_(linear->weight);
      torch::nn::init::zeros_(linear->bias);
    }
    layers->push_back(linear);
  }
}

torch::Tensor MLPImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 2 && x.size(1) == in_features(), "MLP: expected [N, ", in_features(), "] but got ",
              x.sizes());
  auto h = x;
  const auto n = layers->size();
  for (std::size_t i = 0; i < n; ++i) {
    auto linear = layers[i]->as<torch::nn::Linear>();
    h = linear->forward(h);
    if (i + 1 < n || options.activate_last()) h = apply_activation(options.activation(), h);
  }
  return h;
}

Jet MLPImpl::forward_jet(const Jet& x) {
  TORCH_CHECK(x.value.dim() == 2 && x.value.size(1) == in_features(), "MLP: expected [N, ", in_features(),
              "] but got ", x.value.sizes());
  Jet h = x;
  const auto n = layers->size();
  for (std::size_t i = 0; i < n; ++i) {
    auto linear = layers[i]->as<torch::nn::Linear>();
    h = jet_linear(h, linear->weight, linear->bias);
    if (i + 1 < n || options.activate_last()) h = jet_activation(options.activation(), h);
  }
  return h;
}

FourierFeaturesImpl::FourierFeaturesImpl(FourierFeaturesOptions options_) : options(std::move(options_)) { reset(); }

void FourierFeaturesImpl::reset() {
  TORCH_CHECK(options.in_features() > 0 && options.num_features() > 0,
              "FourierFeatures: in_features and num_features must be positive");
  frequencies = register_buffer(
      "frequencies", 2 * std::numbers::pi * options.sigma() * torch::randn({options.in_features(), options.num_features()}));
}

torch::Tensor FourierFeaturesImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 2 && x.size(1) == options.in_features(), "FourierFeatures: expected [N, ",
              options.in_features(), "] but got ", x.sizes());
  auto z = x.mm(frequencies);  // [N, F]
  return torch::cat({torch::sin(z), torch::cos(z)}, 1);
}

Jet FourierFeaturesImpl::forward_jet(const Jet& x) {
  auto z = jet_linear(x, frequencies.t(), torch::Tensor());  // [N, F]
  auto s = torch::sin(z.value), c = torch::cos(z.value);
  return jet_cat({jet_elementwise(z, s, c, -s), jet_elementwise(z, c, -s, -c)});
}

FieldNetworkImpl::FieldNetworkImpl(FieldNetworkOptions options_) : options(std::move(options_)) { reset(); }

void FieldNetworkImpl::reset() {
  auto mlp_options = options.mlp();
  const int64_t inputs = mlp_options.widths().front();
  const auto& lo = options.input_lower();
  const auto& hi = options.input_upper();
  TORCH_CHECK(lo.size() == hi.size(), "FieldNetwork: input_lower and input_upper differ in length");
  TORCH_CHECK(lo.empty() || static_cast<int64_t>(lo.size()) == inputs, "FieldNetwork: input bounds have ", lo.size(),
              " entries for ", inputs, " inputs");
  std::vector<double> shift(inputs, 0.0), scale(inputs, 1.0);
  for (std::size_t i = 0; i < lo.size(); ++i) {
    TORCH_CHECK(hi[i] > lo[i], "FieldNetwork: input ", i, " has upper bound ", hi[i], " <= lower bound ", lo[i]);
    shift[i] = 0.5 * (lo[i] + hi[i]);
    scale[i] = 2.0 / (hi[i] - lo[i]);
  }
  input_shift = register_buffer("input_shift", torch::tensor(shift, torch::kFloat64).to(torch::get_default_dtype()));
  input_scale = register_buffer("input_scale", torch::tensor(scale, torch::kFloat64).to(torch::get_default_dtype()));
  if (options.fourier_features() > 0) {
    fourier = register_module(
        "fourier",
        FourierFeatures(FourierFeaturesOptions(inputs, options.fourier_features()).sigma(options.fourier_sigma())));
    auto widths = mlp_options.widths();
    widths.front() = fourier->out_features();
    mlp_options.widths(widths);
  }
  mlp = register_module("mlp", MLP(mlp_options));
}

int64_t FieldNetworkImpl::in_features() const { return options.mlp().widths().front(); }
int64_t FieldNetworkImpl::out_features() const { return options.mlp().widths().back(); }

void FieldNetworkImpl::set_output_transform(OutputTransform transform, JetOutputTransform jet_transform) {
  transform_ = std::move(transform);
  jet_transform_ = std::move(jet_transform);
}

torch::Tensor FieldNetworkImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 2 && x.size(1) == in_features(), "FieldNetwork: expected [N, ", in_features(),
              "] but got ", x.sizes());
  auto h = (x - input_shift) * input_scale;
  if (fourier) h = fourier->forward(h);
  auto y = mlp->forward(h);
  return transform_ ? transform_(x, y) : y;
}

Jet FieldNetworkImpl::forward_jet(const Jet& x) {
  auto h = jet_affine(x, input_shift, input_scale);
  if (fourier) h = fourier->forward_jet(h);
  auto y = mlp->forward_jet(h);
  if (transform_) {
    TORCH_CHECK(jet_transform_, "FieldNetwork: the output transform has no forward-mode version; use autograd "
                                "derivatives for this problem");
    return jet_transform_(x, y);
  }
  return y;
}

}  // namespace physis
