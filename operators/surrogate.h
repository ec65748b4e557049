// A trained operator surrogate: the model plus the normalisers of its inputs and outputs, so that it takes and
// returns physical units. Saved as a description (surrogate.yaml: model section, data shape, normalisers) and the
// weights (model.pt); `load` rebuilds it from the two.
//
//   Surrogate s(config.child("model"), OperatorShape::of(train), NormalizerKinds{});
//   s.fit_normalizers(train);
//   torch::Tensor u = s.predict(batch);            // [B, N, c], zero outside the geometry mask when masked
//   s.save("results/darcy");  auto again = Surrogate::load("results/darcy");
#pragma once

#include "operators/normalizer.h"
#include "operators/registry.h"

#include <torch/nn/module.h>
#include <torch/types.h>

#include <filesystem>
#include <memory>
#include <string>
#include <tuple>

namespace physis::config {
class Section;
}

namespace physis::ops {

struct NormalizerKinds {
  NormalizerKind coords = NormalizerKind::minmax;
  NormalizerKind fields = NormalizerKind::gaussian;
  NormalizerKind params = NormalizerKind::gaussian;
  NormalizerKind targets = NormalizerKind::gaussian;
  NormalizerKind times = NormalizerKind::minmax;     // models with a time history only
  NormalizerKind history = NormalizerKind::gaussian;

  // A `normalize:` section: coords/fields/params/targets/times/history, each gaussian | minmax | none (and
  // finishes it).
  static NormalizerKinds from_config(const config::Section& section);
};

class Surrogate : public torch::nn::Module {
 public:
  // model_section: a `model:` YAML mapping (kept as text to rebuild the model on load).
  Surrogate(const config::Section& model_section, OperatorShape shape, NormalizerKinds kinds);

  void fit_normalizers(const Dataset& train);
  // The model's output in normalised target units, [B, N, c] (what MSE training compares).
  torch::Tensor forward_normalized(const Batch& batch);
  // Physical units, masked where the model is: [B, N, c].
  torch::Tensor decode(const torch::Tensor& normalized, const Batch& batch) const;
  torch::Tensor predict(const Batch& batch) { return decode(forward_normalized(batch), batch); }
  torch::Tensor encode_targets(const torch::Tensor& targets) const { return targets_norm_->encode(targets); }
  // Models with a time history (OperatorModel::history_channels() > 0): field and history [B, T, g] in normalised
  // units; field-only models give the field alone. decode_history / encode_history convert the history.
  OperatorOutput forward_normalized_with_history(const Batch& batch);
  torch::Tensor decode_history(const torch::Tensor& normalized) const { return history_norm_->decode(normalized); }
  torch::Tensor encode_history(const torch::Tensor& history) const { return history_norm_->encode(history); }
  bool predicts_history() const { return handle_.model->history_channels() > 0; }
  // Whole dataset in mini-batches without gradients, on `device`; returns [B, N, c] on the CPU (padded like
  // Dataset::all()).
  torch::Tensor predict(const Dataset& data, int64_t batch_size, const torch::Device& device);
  // The same with the history [B, T, g] in physical units, on the CPU, where the model predicts one and the data
  // carry times.
  OperatorOutput predict_with_history(const Dataset& data, int64_t batch_size, const torch::Device& device);

  void save(const std::filesystem::path& dir) const;  // surrogate.yaml + model.pt, each written atomically
  static std::shared_ptr<Surrogate> load(const std::filesystem::path& dir);

  const OperatorShape& shape() const { return shape_; }
  const OperatorHandle& handle() const { return handle_; }
  const std::string& model_yaml() const { return model_yaml_; }

 private:
  // The model's inputs in normalised units.
  std::tuple<torch::Tensor, torch::Tensor, Extras> encoded_inputs(const Batch& batch) const;

  std::string model_yaml_;
  OperatorShape shape_;
  NormalizerKinds kinds_;
  OperatorHandle handle_;
  Normalizer coords_norm_{nullptr}, fields_norm_{nullptr}, params_norm_{nullptr}, targets_norm_{nullptr};
  Normalizer times_norm_{nullptr}, history_norm_{nullptr};  // models with a time history only
};

// Relative L2 error of each sample over its counted points (Batch::weights) and all channels: [B].
torch::Tensor relative_l2_per_sample(const torch::Tensor& prediction, const torch::Tensor& truth,
                                     const torch::Tensor& weights);
// The same per output channel: [B, c].
torch::Tensor relative_l2_per_channel(const torch::Tensor& prediction, const torch::Tensor& truth,
                                      const torch::Tensor& weights);

}  // namespace physis::ops
