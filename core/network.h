// Networks for PINNs and operator models, written the LibTorch way (Options + Impl + TORCH_MODULE).
#pragma once

#include "core/taylor.h"

#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace physis {

enum class Activation { tanh, sin, silu, gelu };
Activation parse_activation(const std::string& name);  // throws std::invalid_argument listing the choices
std::string activation_name(Activation activation);
torch::Tensor apply_activation(Activation activation, const torch::Tensor& x);

// Multilayer perceptron (Glorot-uniform weights and zero biases by default).
//   MLP net(MLPOptions({2, 100, 100, 100, 100, 100, 1}).activation(Activation::tanh));
struct MLPOptions {
  MLPOptions(std::vector<int64_t> widths) : widths_(std::move(widths)) {}
  // [in, hidden..., out]
  MLPOptions(int64_t in, const std::vector<int64_t>& hidden, int64_t out) : widths_{in} {
    widths_.insert(widths_.end(), hidden.begin(), hidden.end());
    widths_.push_back(out);
  }
  TORCH_ARG(std::vector<int64_t>, widths);            // [in, hidden..., out]; at least two entries
  TORCH_ARG(Activation, activation) = Activation::tanh;
  TORCH_ARG(bool, activate_last) = false;             // activation after the last layer too
  // glorot: Glorot-uniform weights, zero biases (the PINN convention). fan_in: LibTorch's Linear default, weights
  // and biases uniform in +-1/sqrt(fan_in); the random biases spread low-dimensional inputs (a DeepONet trunk on x)
  // over the activation's nonlinear range, which trains operator nets much faster.
  TORCH_ARG(std::string, init) = "glorot";
};

class MLPImpl : public torch::nn::Cloneable<MLPImpl> {
 public:
  explicit MLPImpl(MLPOptions options);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x);  // [N, in] -> [N, out]
  // Forward-mode propagation of value and directional derivatives (see core/taylor.h).
  Jet forward_jet(const Jet& x);
  int64_t in_features() const { return options.widths().front(); }
  int64_t out_features() const { return options.widths().back(); }

  MLPOptions options;
  torch::nn::ModuleList layers{nullptr};
};
TORCH_MODULE(MLP);

// Random Fourier features: x -> [sin(2 pi x B), cos(2 pi x B)], B ~ N(0, sigma^2), fixed (a buffer, not trained).
//   FourierFeatures ff(FourierFeaturesOptions(2, 64).sigma(1.0));   // [N, 2] -> [N, 128]
struct FourierFeaturesOptions {
  FourierFeaturesOptions(int64_t in_features, int64_t num_features)
      : in_features_(in_features), num_features_(num_features) {}
  TORCH_ARG(int64_t, in_features);
  TORCH_ARG(int64_t, num_features);
  TORCH_ARG(double, sigma) = 1.0;
};

class FourierFeaturesImpl : public torch::nn::Cloneable<FourierFeaturesImpl> {
 public:
  explicit FourierFeaturesImpl(FourierFeaturesOptions options);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x);  // [N, in] -> [N, 2 * num_features]
  Jet forward_jet(const Jet& x);
  int64_t out_features() const { return 2 * options.num_features(); }

  FourierFeaturesOptions options;
  torch::Tensor frequencies;  // [in, num_features], buffer
};
TORCH_MODULE(FourierFeatures);

// The network a PINN trains: input scaling -> optional Fourier features -> MLP -> optional output transform.
//   FieldNetwork net(FieldNetworkOptions(MLPOptions({2, 64, 64, 1})).input_lower({0, 0}).input_upper({1, 1}));
struct FieldNetworkOptions {
  FieldNetworkOptions(MLPOptions mlp) : mlp_(std::move(mlp)) {}
  TORCH_ARG(MLPOptions, mlp);                 // its first width is the number of inputs
  TORCH_ARG(std::vector<double>, input_lower) = {};  // inputs are mapped from [lower, upper] to [-1, 1]
  TORCH_ARG(std::vector<double>, input_upper) = {};
  TORCH_ARG(int64_t, fourier_features) = 0;   // 0: none
  TORCH_ARG(double, fourier_sigma) = 1.0;
  // Inputs on which the network is exactly periodic, with period upper - lower: each listed input enters as
  // (cos z, sin z), z = 2 pi (x - lower) / (upper - lower), so the output and all its derivatives agree at lower and
  // upper (PhysicsNeMo's `periodicity`).
  TORCH_ARG(std::vector<int64_t>, periodic_inputs) = {};
  // The MLP's outputs are scaled and shifted, per output, before the output transform: out = scale * mlp + shift,
  // so that a network whose raw outputs are of order one represents fields of another size (a trajectory of
  // amplitude 20 around 25, a pressure of 1e5). Empty: 1 and 0. Non-empty: one entry per output, scales not 0.
  TORCH_ARG(std::vector<double>, output_scale) = {};
  TORCH_ARG(std::vector<double>, output_shift) = {};
};

class FieldNetworkImpl : public torch::nn::Cloneable<FieldNetworkImpl> {
 public:
  // Output transform hook (e.g. hard boundary conditions): (x [N, in], raw output [N, out]) -> output [N, out].
  using OutputTransform = std::function<torch::Tensor(const torch::Tensor&, const torch::Tensor&)>;
  using JetOutputTransform = std::function<Jet(const Jet&, const Jet&)>;

  explicit FieldNetworkImpl(FieldNetworkOptions options);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x);  // [N, in] -> [N, out]
  Jet forward_jet(const Jet& x);
  void set_output_transform(OutputTransform transform, JetOutputTransform jet_transform = nullptr);
  bool has_output_transform() const { return static_cast<bool>(transform_); }
  int64_t in_features() const;
  int64_t out_features() const;

  FieldNetworkOptions options;
  FourierFeatures fourier{nullptr};
  MLP mlp{nullptr};
  torch::Tensor input_shift, input_scale;  // buffers: x_scaled = (x - shift) * scale
  // Buffers out = (mlp - output_offset) * output_scale, i.e. scale * mlp + shift; undefined without output scaling
  // (so that networks without it keep the checkpoint layout they always had).
  torch::Tensor output_offset, output_scale;

 private:
  // Raw inputs x and scaled inputs h -> h with each periodic column replaced by its (cos, sin) pair.
  torch::Tensor embed_periodic(const torch::Tensor& x, const torch::Tensor& h) const;
  Jet embed_periodic(const Jet& x, const Jet& h) const;
  bool is_periodic(int64_t input) const;
  std::pair<double, double> period(int64_t input) const;  // (lower bound, 2 pi / period)

  OutputTransform transform_;
  JetOutputTransform jet_transform_;
};
TORCH_MODULE(FieldNetwork);

}  // namespace physis
