#include "operators/registry.h"

#include "core/config.h"
#include "core/strings.h"
#include "operators/deeponet.h"
#include "operators/fno.h"
#include "operators/hybrid.h"
#include "operators/lsm.h"
#include "operators/transolver.h"

#include <algorithm>
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

// `mask_output` with its default; only a dataset with a mask can have its predictions masked.
bool mask_output_of(const config::Section& s, const OperatorShape& shape, bool fallback) {
  const bool mask = s.get<bool>("mask_output", fallback);
  if (mask && !shape.has_mask) {
    if (s.has("mask_output")) s.fail_at("mask_output", "mask_output needs a dataset with a mask");
    s.fail("mask_output needs a dataset with a mask");
  }
  return mask;
}

// An integer key that must be positive (its default is), read with its default.
int64_t positive(const config::Section& s, const std::string& key, int64_t fallback) {
  const auto value = s.get<int64_t>(key, fallback);
  if (value <= 0) s.fail_at(key, key + " must be positive");
  return value;
}

// DeepONet, and MT-DeepONet: the same network with the geometry mask on its output and task parameters in its branch.
OperatorHandle make_deeponet(const config::Section& s, const OperatorShape& shape, bool multi_task) {
  // A cnn branch reads the fields as an image: they must lie on the 2-D grid's points.
  const bool fields_on_grid = shape.grid_shape.size() == 2 &&
                              shape.sensors == shape.grid_shape[0] * shape.grid_shape[1];
  const std::string branch = s.get<std::string>("branch", fields_on_grid ? "cnn" : "mlp");
  if (branch != "mlp" && branch != "cnn") s.fail_at("branch", "branch must be mlp or cnn");
  if (branch == "cnn" && !fields_on_grid)
    s.fail_at("branch", "a cnn branch needs input fields on one 2D grid; use branch: mlp");
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
      .mask_output(mask_output_of(s, shape, multi_task && shape.has_mask));
  o.basis(positive(s, "basis", o.basis()));
  o.branch_hidden(s.get<std::vector<int64_t>>("branch_hidden", o.branch_hidden()));
  o.trunk_hidden(s.get<std::vector<int64_t>>("trunk_hidden", o.trunk_hidden()));
  o.trunk_fourier_features(s.get<int64_t>("trunk_fourier_features", o.trunk_fourier_features()));
  o.trunk_fourier_sigma(s.get<double>("trunk_fourier_sigma", o.trunk_fourier_sigma()));
  o.cnn_channels(s.get<std::vector<int64_t>>("cnn_channels", o.cnn_channels()));
  o.activation(activation_of(s, o.activation()));
  o.init(s.get<std::string>("init", o.init()));
  if (o.init() != "fan_in" && o.init() != "glorot") s.fail_at("init", "init must be fan_in or glorot");
  if (o.trunk_fourier_features() < 0) s.fail_at("trunk_fourier_features", "trunk_fourier_features must be >= 0");
  if (multi_task && shape.param_count == 0 && !shape.has_mask)
    s.fail("mt-deeponet tells tasks apart by their coefficient vectors (params) or geometry masks; the dataset has "
           "neither (use type: deeponet)");
  s.finish();
  return handle_of(DeepONet(o), multi_task ? "mt-deeponet" : "deeponet", o.mask_output());
}

// The Transolver keys, shared by the transolver and the hybrid model. variant: auto (structured on a 2D or 3D grid,
// else unstructured) | structured | unstructured.
TransolverOptions transolver_options(const config::Section& s, const OperatorShape& shape) {
  const auto variant = s.get<std::string>("variant", "auto");
  const bool on_grid = shape.grid_shape.size() == 2 || shape.grid_shape.size() == 3;
  if (variant != "auto" && variant != "structured" && variant != "unstructured")
    s.fail_at("variant", "variant must be auto, structured or unstructured");
  if (variant == "structured" && !on_grid)
    s.fail_at("variant", "the structured variant needs data on one regular 2D or 3D grid; use variant: unstructured");
  const bool structured = variant == "structured" || (variant == "auto" && on_grid);
  TransolverOptions o(shape.coordinate_dim, shape.target_channels);
  o.field_channels(shape.field_channels).params(shape.param_count).grid_shape(structured ? shape.grid_shape
                                                                                          : std::vector<int64_t>{});
  o.width(positive(s, "width", o.width()));
  o.layers(positive(s, "layers", o.layers()));
  o.heads(positive(s, "heads", o.heads()));
  o.slices(positive(s, "slices", o.slices()));
  o.mlp_ratio(positive(s, "mlp_ratio", o.mlp_ratio()));
  o.unified_pos(s.get<bool>("unified_pos", o.unified_pos()));
  o.reference_grid(positive(s, "reference_grid", o.reference_grid()));
  o.adaptive_temperature(s.get<bool>("adaptive_temperature", o.adaptive_temperature()));
  o.gumbel(s.get<bool>("gumbel", o.gumbel()));
  o.mask_output(mask_output_of(s, shape, o.mask_output()));
  if (o.width() % o.heads() != 0) s.fail_at(s.has("width") ? "width" : "heads", "width must be a multiple of heads");
  return o;
}

OperatorHandle make_transolver(const config::Section& s, const OperatorShape& shape) {
  auto o = transolver_options(s, shape);
  s.finish();
  return handle_of(Transolver(o), "transolver", o.mask_output());
}

// The hybrid DeepONet-Transolver: a field over the points and a time history of global quantities.
OperatorHandle make_hybrid(const config::Section& s, const OperatorShape& shape) {
  if (shape.history_channels == 0) s.fail("the hybrid model needs data with a time history (times and history)");
  HybridOptions o(transolver_options(s, shape), shape.history_channels);
  o.branch_inputs(s.get<std::string>("branch_inputs", shape.param_count > 0 ? "both" : "latent"));
  if (o.branch_inputs() != "params" && o.branch_inputs() != "latent" && o.branch_inputs() != "both")
    s.fail_at("branch_inputs", "branch_inputs must be params, latent or both");
  if (o.branch_inputs() != "latent" && shape.param_count == 0)
    s.fail_at("branch_inputs", "the data have no params; use branch_inputs: latent");
  o.basis(positive(s, "basis", o.basis()));
  o.branch_hidden(s.get<std::vector<int64_t>>("branch_hidden", o.branch_hidden()));
  o.trunk_hidden(s.get<std::vector<int64_t>>("trunk_hidden", o.trunk_hidden()));
  o.activation(activation_of(s, o.activation()));
  s.finish();
  return handle_of(Hybrid(o), "hybrid", o.transolver().mask_output());
}

// FNO and LSM run on one regular 2D or 3D grid and read the input fields on its points: fails at `type` otherwise.
void require_grid(const config::Section& s, const OperatorShape& shape, const std::string& model) {
  const auto dims = static_cast<int64_t>(shape.grid_shape.size());
  if (dims != 2 && dims != 3)
    s.fail_at("type", model + " needs data on one regular 2D or 3D grid; these data " +
                          (dims == 0 ? std::string("are not on one grid") : "lie on a " + std::to_string(dims) + "D grid"));
  int64_t points = 1;
  for (int64_t n : shape.grid_shape) points *= n;
  if (shape.coordinate_dim != dims) s.fail_at("type", model + " needs one coordinate per grid axis");
  if (shape.field_channels == 0 || shape.sensors != points)
    s.fail_at("type", model + " needs input fields on the grid points themselves (no separate sensors)");
}

OperatorHandle make_fno(const config::Section& s, const OperatorShape& shape) {
  require_grid(s, shape, "fno");
  FNOOptions o(shape.grid_shape, shape.field_channels);
  o.params(shape.param_count).outputs(shape.target_channels);
  o.width(positive(s, "width", o.width()));
  o.modes(positive(s, "modes", o.modes()));
  o.layers(positive(s, "layers", o.layers()));
  o.projection_width(positive(s, "projection_width", o.projection_width()));
  o.padding(s.get<int64_t>("padding", o.padding()));
  o.mask_output(mask_output_of(s, shape, o.mask_output()));
  if (o.padding() < 0) s.fail_at("padding", "padding must be >= 0");
  s.finish();
  return handle_of(FNO(o), "fno", o.mask_output());
}

OperatorHandle make_lsm(const config::Section& s, const OperatorShape& shape) {
  require_grid(s, shape, "lsm");
  LSMOptions o(shape.grid_shape, shape.field_channels);
  o.params(shape.param_count).outputs(shape.target_channels);
  o.width(positive(s, "width", o.width()));
  o.levels(positive(s, "levels", o.levels()));
  o.patch_size(positive(s, "patch_size", o.patch_size()));
  o.tokens(positive(s, "tokens", o.tokens()));
  o.bases(positive(s, "bases", o.bases()));
  o.heads(positive(s, "heads", o.heads()));
  o.projection_width(positive(s, "projection_width", o.projection_width()));
  o.mask_output(mask_output_of(s, shape, o.mask_output()));
  if (o.levels() > 8) s.fail_at("levels", "levels must be at most 8");
  if (o.width() % o.heads() != 0) s.fail_at(s.has("width") ? "width" : "heads", "width must be a multiple of heads");
  s.finish();
  return handle_of(LSM(o), "lsm", o.mask_output());
}

using Factory = std::function<OperatorHandle(const config::Section&, const OperatorShape&)>;

const std::map<std::string, Factory>& factories() {
  static const std::map<std::string, Factory> table{
      {"deeponet", [](const auto& s, const auto& shape) { return make_deeponet(s, shape, false); }},
      {"mt-deeponet", [](const auto& s, const auto& shape) { return make_deeponet(s, shape, true); }},
      {"fno", make_fno},
      {"lsm", make_lsm},
      {"transolver", make_transolver},
      {"hybrid", make_hybrid},
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
  int64_t factor = -1;
  if (const auto name = section.get_optional<std::string>("output_factor")) {
    const auto& names = shape.field_names;
    const auto at = std::find(names.begin(), names.end(), *name);
    if (at == names.end())
      section.fail_at("output_factor", "output_factor '" + *name + "' is not a field of the data" +
                                           (names.empty() ? std::string(" (it has no named fields)")
                                                          : "; its fields are " + join(names, ", ")));
    if (shape.sensors == 0)
      section.fail_at("output_factor", "output_factor needs the fields on the query points (the same number of "
                                       "points in every sample)");
    factor = at - names.begin();
  }
  auto handle = found->second(section, shape);
  handle.output_factor = factor;
  return handle;
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
  s.field_names = data.field_names;
  s.history_channels = first.history.defined() ? first.history.size(1) : 0;
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
  if (param_count == 0 && data.param_count > 0)
    throw DatasetError(source + ": the model was trained without design parameters, the data have " +
                       std::to_string(data.param_count) + "; leave them out (`drop: [params]` in a data section, " +
                       "`physis predict --drop params`)");
  if (param_count != data.param_count) fail("parameters", param_count, data.param_count);
  if (sensors > 0 && sensors != data.sensors) fail("field points per sample", sensors, data.sensors);
  if (history_channels > 0 && data.history_channels > 0 && history_channels != data.history_channels)
    fail("history channels", history_channels, data.history_channels);
  if (!grid_shape.empty() && grid_shape != data.grid_shape)
    throw DatasetError(source + ": the model was trained on another grid than the data's");
}

}  // namespace physis::ops
