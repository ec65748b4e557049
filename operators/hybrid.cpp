#include "operators/hybrid.h"

namespace physis::ops {
HybridImpl::HybridImpl(HybridOptions options_) : options(std::move(options_)) { reset(); }

void HybridImpl::reset() {
  const auto& inputs = options.branch_inputs();
  TORCH_CHECK(inputs == "params" || inputs == "latent" || inputs == "both", "Hybrid: unknown branch_inputs '", inputs,
              "' (expected params, latent or both)");
  TORCH_CHECK(options.history_channels() > 0 && options.basis() > 0,
              "Hybrid: history_channels and basis must be positive");
  const int64_t params = options.transolver().params();
  TORCH_CHECK(inputs == "latent" || params > 0, "Hybrid: branch_inputs '", inputs, "' needs design parameters");
  transolver = register_module("transolver", Transolver(options.transolver()));
  const int64_t branch_in = (inputs == "latent" ? 0 : params) + (inputs == "params" ? 0 : options.transolver().width());
  const int64_t pg = options.basis() * options.history_channels();
  branch = register_module("branch", MLP(MLPOptions(branch_in, options.branch_hidden(), pg)
                                             .activation(options.activation())
                                             .init("fan_in")));
  // The trunk's last layer is activated too: its outputs are the basis functions of time.
  trunk = register_module("trunk", MLP(MLPOptions(1, options.trunk_hidden(), pg)
                                           .activation(options.activation())
                                           .init("fan_in")
                                           .activate_last(true)));
  history_bias = register_parameter("history_bias", torch::zeros({options.history_channels()}));
}

torch::Tensor HybridImpl::pooled(const torch::Tensor& features, const torch::Tensor& valid) {
  if (!valid.defined()) return features.mean(1);
  const auto w = valid.unsqueeze(-1).to(features.dtype());          // [B, N, 1]
  return (features * w).sum(1) / w.sum(1).clamp_min(1.0);           // [B, C]
}

torch::Tensor HybridImpl::forward(const torch::Tensor& coords, const torch::Tensor& fields, const Extras& extras) {
  return transolver->forward(coords, fields, extras);
}

OperatorOutput HybridImpl::forward_with_history(const torch::Tensor& coords, const torch::Tensor& fields,
                                                const Extras& extras) {
  auto features = transolver->features(coords, fields, extras);  // [B, N, C]
  auto field = transolver->head(features, extras);              // [B, N, c]
  const int64_t batch = features.size(0), g = options.history_channels(), p = options.basis();
  TORCH_CHECK(extras.times.defined() && extras.times.dim() == 2 && extras.times.size(0) == batch,
              "Hybrid: expected times [", batch, ", T] but got ",
              extras.times.defined() ? extras.times.sizes() : torch::IntArrayRef{});
  std::vector<torch::Tensor> parts;
  if (options.branch_inputs() != "latent") parts.push_back(extras.params);
  if (options.branch_inputs() != "params") parts.push_back(pooled(features, extras.valid));
  auto b = branch->forward(torch::cat(parts, 1)).reshape({batch, g, p});  // [B, g, p]
  const int64_t steps = extras.times.size(1);
  auto t = trunk->forward(extras.times.reshape({batch * steps, 1})).reshape({batch, steps, g, p});  // [B, T, g, p]
  auto history = torch::einsum("bgp,btgp->btg", {b, t}) + history_bias;                              // [B, T, g]
  return {field, history};
}

}  // namespace physis::ops
