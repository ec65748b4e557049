#include "operators/registry.h"

#include "core/config.h"
#include "core/strings.h"
#include "operators/deeponet.h"

#include <functional>
#include <map>

namespace physis::ops {
namespace {

Activation activation_of(const config::Section& s, Activation fallback) {
  if (!s.has("activation")) return fallback;
  try {
    return parse_activation(s.get<std::string>("activation"));
  } catch (const std::invalid_argument& e) {
    s.fail_at("activation", e.what());
  }
}

template <class Holder>
OperatorHandle handle_of(Holder holder, const std::string& type, bool mask_output) {
  auto impl = holder.ptr();
  return {impl, impl.get(), type, mask_output};
}

// DeepONet, and MT-DeepONet: the same network with the geometry mask on its output and task parameters in its branch.
OperatorHandle make_deeponet(const config::Section& s, const OperatorShape& shape, bool multi_task) {
  const std::string branch = s.get<std::string>("branch", shape.grid_shape.size() == 2 ? "cnn" : "mlp");
  if (branch != "mlp" && branch != "cnn") s.fail_at("branch", "branch must be mlp or cnn");
  if (branch == "cnn" && shape.grid_shape.size() != 2)
    s.fail_at("branch", "a cnn branch needs data on one 2D grid; use branch: mlp");
  if (shape.field_channels == 0 && shape.param_count == 0)
    s.fail("DeepONet needs input fields or params for its branch; the dataset has neither");
  if (branch == "mlp" && shape.field_channels > 0 && shape.sensors == 0)
    s.fail("an mlp branch needs the same number of field points in every sample");
  DeepONetOptions o(branch == "mlp" ? shape.sensors * shape.field_channels : 0, shape.coordinate_dim);
  o.outputs(shape.target_channels)
      .branch(branch)
      .grid_shape(shape.grid_shape)
      .field_channels(shape.field_channels)
      .params(shape.param_count)
      .mask_output(s.get<bool>("mask_output", multi_task));
  o.basis(s.get<int64_t>("basis", o.basis()));
  o.branch_hidden(s.get<std::vector<int64_t>>("branch_hidden", o.branch_hidden()));
  o.trunk_hidden(s.get<std::vector<int64_t>>("trunk_hidden", o.trunk_hidden()));
  o.trunk_fourier_features(s.get<int64_t>("trunk_fourier_features", o.trunk_fourier_features()));
  o.trunk_fourier_sigma(s.get<double>("trunk_fourier_sigma", o.trunk_fourier_sigma()));
  o.cnn_channels(s.get<std::vector<int64_t>>("cnn_channels", o.cnn_channels()));
  o.activation(activation_of(s, o.activation()));
  o.init(s.get<std::string>("init", o.init()));
  if (o.init() != "fan_in" && o.init() != "glorot") s.fail_at("init", "init must be fan_in or glorot");
  if (o.basis() <= 0) s.fail_at("basis", "basis must be positive");
  if (o.trunk_fourier_features() < 0) s.fail_at("trunk_fourier_features", "trunk_fourier_features must be >= 0");
  if (o.mask_output() && !shape.has_mask) s.fail("mask_output needs a dataset with a mask");
  s.finish();
  return handle_of(DeepONet(o), multi_task ? "mt-deeponet" : "deeponet", o.mask_output());
}

using Factory = std::function<OperatorHandle(const config::Section&, const OperatorShape&)>;

const std::map<std::string, Factory>& factories() {
  static const std::map<std::string, Factory> table{
      {"deeponet", [](const auto& s, const auto& shape) { return make_deeponet(s, shape, false); }},
      {"mt-deeponet", [](const auto& s, const auto& shape) { return make_deeponet(s, shape, true); }},
  };
  return table;
}

}  // namespace

std::vector<std::string> operator_types() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : factories()) names.push_back(name);
  return names;
}

OperatorHandle make_operator(const config::Section& section, const OperatorShape& shape) {
  const auto type = section.get<std::string>("type");
  const auto found = factories().find(type);
  if (found == factories().end())
    section.fail_at("type", "unknown model type '" + type + "': expected one of " + join(operator_types(), ", "));
  return found->second(section, shape);
}

OperatorShape OperatorShape::of(const Dataset& data) {
  OperatorShape s;
  if (data.empty()) return s;
  const Sample& first = data.samples.front();
  s.coordinate_dim = data.coordinate_dim();
  s.field_channels = data.field_channels();
  s.target_channels = data.target_channels();
  s.param_count = data.param_count();
  s.grid_shape = data.grid_shape;
  s.aligned = data.aligned();
  s.has_mask = first.mask.defined();
  if (first.fields.defined()) {
    s.sensors = first.fields.size(0);
    for (const Sample& sample : data.samples)
      if (sample.fields.size(0) != s.sensors) s.sensors = 0;
  }
  return s;
}

void OperatorShape::check_fits(const OperatorShape& data, const std::string& source) const {
  auto fail = [&](const std::string& what, int64_t want, int64_t got) {
    throw DatasetError(source + ": the model expects " + std::to_string(want) + " " + what + ", the data have " +
                       std::to_string(got));
  };
  if (coordinate_dim != data.coordinate_dim) fail("coordinate dimensions", coordinate_dim, data.coordinate_dim);
  if (field_channels != data.field_channels) fail("field channels", field_channels, data.field_channels);
  if (target_channels != data.target_channels) fail("target channels", target_channels, data.target_channels);
  if (param_count != data.param_count) fail("parameters", param_count, data.param_count);
  if (sensors > 0 && sensors != data.sensors) fail("field points per sample", sensors, data.sensors);
  if (!grid_shape.empty() && grid_shape != data.grid_shape)
    throw DatasetError(source + ": the model was trained on another grid than the data's");
}

}  // namespace physis::ops
