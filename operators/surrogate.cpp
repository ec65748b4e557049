#include "operators/surrogate.h"

#include "core/checkpoint.h"
#include "core/config.h"

#include <yaml-cpp/yaml.h>

#include <sstream>

namespace physis::ops {
namespace {

NormalizerKind kind_of(const config::Section& s, const std::string& key, NormalizerKind fallback) {
  if (!s.has(key)) return fallback;
  try {
    return parse_normalizer_kind(s.get<std::string>(key));
  } catch (const std::invalid_argument& e) {
    s.fail_at(key, e.what());
  }
}

std::string node_text(const YAML::Node& node) {
  YAML::Emitter out;
  out << node;
  return out.c_str();
}

// What the coordinates given to the model are: the batch's, or the first sample's once when all share them.
torch::Tensor model_coords(const Batch& batch, bool aligned) {
  return aligned ? batch.coords.narrow(0, 0, 1) : batch.coords;
}

}  // namespace

NormalizerKinds NormalizerKinds::from_config(const config::Section& s) {
  NormalizerKinds k;
  k.coords = kind_of(s, "coords", k.coords);
  k.fields = kind_of(s, "fields", k.fields);
  k.params = kind_of(s, "params", k.params);
  k.targets = kind_of(s, "targets", k.targets);
  k.times = kind_of(s, "times", k.times);
  k.history = kind_of(s, "history", k.history);
  s.finish();
  return k;
}

Surrogate::Surrogate(const config::Section& model_section, OperatorShape shape, NormalizerKinds kinds)
    : model_yaml_(node_text(model_section.node())), shape_(std::move(shape)), kinds_(kinds) {
  handle_ = make_operator(model_section, shape_);
  register_module("model", handle_.module);
  auto normalizer = [&](const char* name, int64_t channels, NormalizerKind kind) {
    return channels > 0 ? register_module(name, Normalizer(NormalizerOptions(channels).kind(kind))) : Normalizer(nullptr);
  };
  coords_norm_ = normalizer("coords_normalizer", shape_.coordinate_dim, kinds_.coords);
  fields_norm_ = normalizer("fields_normalizer", shape_.field_channels, kinds_.fields);
  params_norm_ = normalizer("params_normalizer", shape_.param_count, kinds_.params);
  targets_norm_ = normalizer("targets_normalizer", shape_.target_channels, kinds_.targets);
  if (predicts_history()) {
    times_norm_ = normalizer("times_normalizer", 1, kinds_.times);
    history_norm_ = normalizer("history_normalizer", handle_.model->history_channels(), kinds_.history);
  }
}

void Surrogate::fit_normalizers(const Dataset& train) {
  const Batch all = train.all();
  coords_norm_->fit(all.coords, all.valid);
  // Input fields are given everywhere, outside a geometry mask too (the mask itself is one): only padding is left out.
  if (fields_norm_) fields_norm_->fit(all.fields, all.field_coords.defined() ? torch::Tensor() : all.valid);
  if (params_norm_) params_norm_->fit(all.params);
  targets_norm_->fit(all.targets, all.weights());
  if (times_norm_ && all.times.defined()) times_norm_->fit(all.times.unsqueeze(-1));
  if (history_norm_ && all.history.defined()) history_norm_->fit(all.history);
}

std::tuple<torch::Tensor, torch::Tensor, Extras> Surrogate::encoded_inputs(const Batch& batch) const {
  auto coords = coords_norm_->encode(model_coords(batch, shape_.aligned));
  auto fields = batch.fields.defined() && fields_norm_ ? fields_norm_->encode(batch.fields) : batch.fields;
  Extras extras = batch.extras();
  if (extras.field_coords.defined()) extras.field_coords = coords_norm_->encode(extras.field_coords);
  if (extras.params.defined() && params_norm_) extras.params = params_norm_->encode(extras.params);
  if (extras.times.defined() && times_norm_)
    extras.times = times_norm_->encode(extras.times.unsqueeze(-1)).squeeze(-1);  // [B, T]
  return {coords, fields, extras};
}

torch::Tensor Surrogate::forward_normalized(const Batch& batch) {
  const auto [coords, fields, extras] = encoded_inputs(batch);
  return handle_.model->forward(coords, fields, extras);
}

OperatorOutput Surrogate::forward_normalized_with_history(const Batch& batch) {
  if (!predicts_history()) return {forward_normalized(batch), {}};
  const auto [coords, fields, extras] = encoded_inputs(batch);
  return handle_.model->forward_with_history(coords, fields, extras);
}

torch::Tensor Surrogate::decode(const torch::Tensor& normalized, const Batch& batch) const {
  auto out = targets_norm_->decode(normalized);
  // The mask goes on after decoding: a normalised zero is the mean, not zero.
  if (handle_.mask_output && batch.mask.defined()) out = out * batch.mask.unsqueeze(-1);
  if (handle_.output_factor >= 0) {
    TORCH_CHECK(batch.fields.defined() && batch.fields.size(1) == out.size(1) && !batch.field_coords.defined(),
                "output_factor: the fields must lie on the query points");
    out = out * batch.fields.select(-1, handle_.output_factor).unsqueeze(-1);
  }
  if (batch.valid.defined()) out = out * batch.valid.unsqueeze(-1);
  return out;
}

torch::Tensor Surrogate::predict(const Dataset& data, int64_t batch_size, const torch::Device& device) {
  return predict_with_history(data, batch_size, device).field;
}

OperatorOutput Surrogate::predict_with_history(const Dataset& data, int64_t batch_size, const torch::Device& device) {
  torch::NoGradGuard no_grad;
  const bool was_training = is_training();
  eval();
  const auto dtype = targets_norm_->shift.scalar_type();
  const bool with_history = predicts_history() && !data.empty() && data.samples.front().times.defined();
  std::vector<torch::Tensor> parts, histories;
  int64_t longest = 0;
  for (const auto& s : data.samples) longest = std::max(longest, s.num_points());
  for (int64_t start = 0; start < data.size(); start += batch_size) {
    std::vector<int64_t> indices;
    for (int64_t i = start; i < std::min(start + batch_size, data.size()); ++i) indices.push_back(i);
    const Batch batch = data.batch(indices).to(device, dtype);
    torch::Tensor out;
    if (with_history) {
      const auto both = forward_normalized_with_history(batch);
      out = decode(both.field, batch).to(torch::kCPU, torch::kFloat32);
      histories.push_back(decode_history(both.history).to(torch::kCPU, torch::kFloat32));
    } else {
      out = predict(batch).to(torch::kCPU, torch::kFloat32);
    }
    if (out.size(1) < longest) out = torch::constant_pad_nd(out, {0, 0, 0, longest - out.size(1)});
    parts.push_back(out);
  }
  train(was_training);
  return {torch::cat(parts, 0), with_history ? torch::cat(histories, 0) : torch::Tensor()};
}

void Surrogate::save(const std::filesystem::path& dir) const {
  std::filesystem::create_directories(dir);
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "model" << YAML::Value << YAML::Load(model_yaml_);
  out << YAML::Key << "shape" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "coordinate_dim" << YAML::Value << shape_.coordinate_dim;
  out << YAML::Key << "field_channels" << YAML::Value << shape_.field_channels;
  out << YAML::Key << "sensors" << YAML::Value << shape_.sensors;
  out << YAML::Key << "target_channels" << YAML::Value << shape_.target_channels;
  out << YAML::Key << "param_count" << YAML::Value << shape_.param_count;
  out << YAML::Key << "grid_shape" << YAML::Value << YAML::Flow << shape_.grid_shape;
  out << YAML::Key << "aligned" << YAML::Value << shape_.aligned;
  out << YAML::Key << "has_mask" << YAML::Value << shape_.has_mask;
  if (shape_.history_channels > 0) out << YAML::Key << "history_channels" << YAML::Value << shape_.history_channels;
  if (!shape_.field_names.empty()) out << YAML::Key << "field_names" << YAML::Value << YAML::Flow << shape_.field_names;
  out << YAML::EndMap;
  out << YAML::Key << "normalize" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "coords" << YAML::Value << normalizer_kind_name(kinds_.coords);
  out << YAML::Key << "fields" << YAML::Value << normalizer_kind_name(kinds_.fields);
  out << YAML::Key << "params" << YAML::Value << normalizer_kind_name(kinds_.params);
  out << YAML::Key << "targets" << YAML::Value << normalizer_kind_name(kinds_.targets);
  if (predicts_history()) {
    out << YAML::Key << "times" << YAML::Value << normalizer_kind_name(kinds_.times);
    out << YAML::Key << "history" << YAML::Value << normalizer_kind_name(kinds_.history);
  }
  out << YAML::EndMap << YAML::EndMap;
  const std::string text = std::string(out.c_str()) + "\n";
  atomic_write(dir / "surrogate.yaml", [&](std::ostream& stream) { stream << text; });
  atomic_write(dir / "model.pt", [&](std::ostream& stream) {
    torch::serialize::OutputArchive archive;
    Module::save(archive);
    archive.save_to(stream);
  });
}

std::shared_ptr<Surrogate> Surrogate::load(const std::filesystem::path& dir) {
  const auto description = dir / "surrogate.yaml";
  if (!std::filesystem::exists(description))
    throw std::runtime_error(description.string() + ": not found; pass the output folder of `physis train-operator`");
  auto root = config::Section::load_file(description.string());
  auto s = root.child("shape");
  OperatorShape shape;
  shape.coordinate_dim = s.get<int64_t>("coordinate_dim");
  shape.field_channels = s.get<int64_t>("field_channels");
  shape.sensors = s.get<int64_t>("sensors");
  shape.target_channels = s.get<int64_t>("target_channels");
  shape.param_count = s.get<int64_t>("param_count");
  shape.grid_shape = s.get<std::vector<int64_t>>("grid_shape");
  shape.aligned = s.get<bool>("aligned");
  shape.has_mask = s.get<bool>("has_mask");
  shape.history_channels = s.get<int64_t>("history_channels", 0);
  shape.field_names = s.get<std::vector<std::string>>("field_names", {});
  s.finish();
  auto kinds = NormalizerKinds::from_config(root.child("normalize"));
  auto surrogate = std::make_shared<Surrogate>(root.child("model"), shape, kinds);
  root.finish();
  const auto weights = dir / "model.pt";
  if (!std::filesystem::exists(weights))
    throw std::runtime_error(weights.string() + ": not found; the training run did not finish (resume it)");
  torch::serialize::InputArchive archive;
  archive.load_from(weights.string());
  surrogate->Module::load(archive);
  return surrogate;
}

namespace {

// Squared errors and squared truth, each [B, N, c], with uncounted points (weights 0) zeroed.
std::pair<torch::Tensor, torch::Tensor> weighted_squares(const torch::Tensor& prediction, const torch::Tensor& truth,
                                                         const torch::Tensor& weights) {
  auto diff = (prediction - truth).pow(2);
  auto norm = truth.pow(2);
  if (!weights.defined()) return {diff, norm};
  const auto w = weights.unsqueeze(-1);
  return {diff * w, norm * w};
}

}  // namespace

torch::Tensor relative_l2_per_channel(const torch::Tensor& prediction, const torch::Tensor& truth,
                                      const torch::Tensor& weights) {
  const auto [diff, norm] = weighted_squares(prediction, truth, weights);
  return (diff.sum(1) / norm.sum(1).clamp_min(1e-30)).sqrt();  // [B, c]
}

torch::Tensor relative_l2_per_sample(const torch::Tensor& prediction, const torch::Tensor& truth,
                                     const torch::Tensor& weights) {
  const auto [diff, norm] = weighted_squares(prediction, truth, weights);
  return (diff.sum({1, 2}) / norm.sum({1, 2}).clamp_min(1e-30)).sqrt();  // [B]
}

}  // namespace physis::ops
