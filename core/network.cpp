#include "core/network.h"

#include "core/taylor_activation.h"

#include <torch/nn/init.h>

#include <algorithm>
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
  return jet_cat({jet_elementwise(z, s, c, -s, -c, s), jet_elementwise(z, c, -s, -c, s, c)});
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
  for (auto i : options.periodic_inputs()) {
    TORCH_CHECK(i >= 0 && i < inputs, "FieldNetwork: periodic input ", i, " is not one of the ", inputs, " inputs");
    TORCH_CHECK(!lo.empty(), "FieldNetwork: periodic inputs need input_lower and input_upper (the period)");
    TORCH_CHECK(std::count(options.periodic_inputs().begin(), options.periodic_inputs().end(), i) == 1,
                "FieldNetwork: periodic input ", i, " is listed twice");
  }
  // Each periodic input enters as two features (cos, sin).
  int64_t features = inputs + static_cast<int64_t>(options.periodic_inputs().size());
  if (options.fourier_features() > 0) {
    fourier = register_module("fourier", FourierFeatures(FourierFeaturesOptions(features, options.fourier_features())
                                                             .sigma(options.fourier_sigma())));
    features = fourier->out_features();
  }
  auto widths = mlp_options.widths();
  widths.front() = features;
  mlp_options.widths(widths);
  mlp = register_module("mlp", MLP(mlp_options));

  const auto outputs = widths.back();
  auto out_scale = options.output_scale(), out_shift = options.output_shift();
  if (!out_scale.empty() || !out_shift.empty()) {
    if (out_scale.empty()) out_scale.assign(outputs, 1.0);
    if (out_shift.empty()) out_shift.assign(outputs, 0.0);
    TORCH_CHECK(static_cast<int64_t>(out_scale.size()) == outputs && static_cast<int64_t>(out_shift.size()) == outputs,
                "FieldNetwork: output_scale and output_shift need one entry per output (", outputs, ")");
    std::vector<double> offset(outputs);
    for (int64_t j = 0; j < outputs; ++j) {
      TORCH_CHECK(out_scale[j] != 0 && std::isfinite(out_scale[j]) && std::isfinite(out_shift[j]),
                  "FieldNetwork: output ", j, " has scale ", out_scale[j], " and shift ", out_shift[j],
                  "; the scale must be finite and not 0");
      offset[j] = -out_shift[j] / out_scale[j];
    }
    const auto dtype = torch::get_default_dtype();
    output_offset = register_buffer("output_offset", torch::tensor(offset, torch::kFloat64).to(dtype));
    output_scale = register_buffer("output_scale", torch::tensor(out_scale, torch::kFloat64).to(dtype));
  }
}

int64_t FieldNetworkImpl::in_features() const { return options.mlp().widths().front(); }
int64_t FieldNetworkImpl::out_features() const { return options.mlp().widths().back(); }

// A periodic input x in [lower, upper] -> (cos z, sin z), z = 2 pi (x - lower) / (upper - lower): equal at both ends
// with every derivative. z is taken from x and the bounds in double precision, not from the scaled input, whose
// float32-rounded scale would leave the ends 1e-7 apart.
torch::Tensor FieldNetworkImpl::embed_periodic(const torch::Tensor& x, const torch::Tensor& h) const {
  if (options.periodic_inputs().empty()) return h;
  std::vector<torch::Tensor> columns;
  for (int64_t i = 0; i < h.size(1); ++i) {
    if (!is_periodic(i)) {
      columns.push_back(h.narrow(1, i, 1));
      continue;
    }
    auto [lower, frequency] = period(i);
    auto z = (x.narrow(1, i, 1) - lower) * frequency;
    columns.push_back(torch::cos(z));
    columns.push_back(torch::sin(z));
  }
  return torch::cat(columns, 1);
}

Jet FieldNetworkImpl::embed_periodic(const Jet& x, const Jet& h) const {
  if (options.periodic_inputs().empty()) return h;
  std::vector<Jet> columns;
  for (int64_t i = 0; i < h.value.size(1); ++i) {
    if (!is_periodic(i)) {
      columns.push_back(jet_narrow(h, i, 1));
      continue;
    }
    // d/dx cos z = -w sin z, d2/dx2 = -w^2 cos z, d3/dx3 = w^3 sin z, d4/dx4 = w^4 cos z; likewise for sin.
    auto column = jet_narrow(x, i, 1);
    auto [lower, w] = period(i);
    auto z = (column.value - lower) * w;
    auto c = torch::cos(z), s = torch::sin(z);
    const double w2 = w * w;
    columns.push_back(jet_elementwise(column, c, -w * s, -w2 * c, w2 * w * s, w2 * w2 * c));
    columns.push_back(jet_elementwise(column, s, w * c, -w2 * s, -w2 * w * c, w2 * w2 * s));
  }
  return jet_cat(columns);
}

std::pair<double, double> FieldNetworkImpl::period(int64_t input) const {
  const double lower = options.input_lower()[input], upper = options.input_upper()[input];
  return {lower, 2 * std::numbers::pi / (upper - lower)};
}

bool FieldNetworkImpl::is_periodic(int64_t input) const {
  const auto& inputs = options.periodic_inputs();
  return std::find(inputs.begin(), inputs.end(), input) != inputs.end();
}

void FieldNetworkImpl::set_output_transform(OutputTransform transform, JetOutputTransform jet_transform) {
  transform_ = std::move(transform);
  jet_transform_ = std::move(jet_transform);
}

torch::Tensor FieldNetworkImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 2 && x.size(1) == in_features(), "FieldNetwork: expected [N, ", in_features(),
              "] but got ", x.sizes());
  auto h = embed_periodic(x, (x - input_shift) * input_scale);
  if (fourier) h = fourier->forward(h);
  auto y = mlp->forward(h);
  if (output_scale.defined()) y = (y - output_offset) * output_scale;
  return transform_ ? transform_(x, y) : y;
}

Jet FieldNetworkImpl::forward_jet(const Jet& x) {
  auto h = embed_periodic(x, jet_affine(x, input_shift, input_scale));
  if (fourier) h = fourier->forward_jet(h);
  auto y = mlp->forward_jet(h);
  if (output_scale.defined()) y = jet_affine(y, output_offset, output_scale);
  if (transform_) {
    TORCH_CHECK(jet_transform_, "FieldNetwork: the output transform has no forward-mode version; use autograd "
                                "derivatives for this problem");
    return jet_transform_(x, y);
  }
  return y;
}

}  // namespace physis
