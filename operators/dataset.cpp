#include "operators/dataset.h"

#include <algorithm>
#include <sstream>

namespace physis::ops {
namespace {

// Stacks one optional member of every sample; undefined when the first sample lacks it. Pads the leading
// (point) axis with zeros to the longest sample.
torch::Tensor stack_member(const std::vector<const Sample*>& samples, torch::Tensor Sample::*member) {
  const torch::Tensor& first = samples.front()->*member;
  if (!first.defined()) return {};
  int64_t longest = 0;
  for (const Sample* s : samples) longest = std::max(longest, (s->*member).dim() > 0 ? (s->*member).size(0) : 0);
  std::vector<torch::Tensor> parts;
  parts.reserve(samples.size());
  for (const Sample* s : samples) {
    const torch::Tensor& t = s->*member;
    if (t.dim() == 0 || t.size(0) == longest) {
      parts.push_back(t);
      continue;
    }
    std::vector<int64_t> shape = t.sizes().vec();
    shape[0] = longest - t.size(0);
    parts.push_back(torch::cat({t, torch::zeros(shape, t.options())}, 0));
  }
  return torch::stack(parts);
}

std::string describe(const torch::Tensor& t) {
  std::ostringstream out;
  out << t.sizes();
  return out.str();
}

}  // namespace

torch::Tensor Batch::weights() const {
  if (mask.defined() && valid.defined()) return mask * valid;
  if (mask.defined()) return mask;
  return valid;
}

Batch Batch::to(const torch::Device& device, torch::Dtype dtype) const {
  auto move = [&](const torch::Tensor& t) { return t.defined() ? t.to(device, dtype) : t; };
  return {move(coords), move(targets), move(fields), move(field_coords), move(params),
          move(mask),   move(valid),   move(times),  move(history)};
}

int64_t Dataset::coordinate_dim() const { return empty() ? 0 : samples.front().coords.size(1); }
int64_t Dataset::field_channels() const {
  return empty() || !samples.front().fields.defined() ? 0 : samples.front().fields.size(1);
}
int64_t Dataset::target_channels() const { return empty() ? 0 : samples.front().targets.size(1); }
int64_t Dataset::param_count() const {
  return empty() || !samples.front().params.defined() ? 0 : samples.front().params.numel();
}

bool Dataset::aligned() const {
  if (empty()) return true;
  const Sample& first = samples.front();
  for (const Sample& s : samples) {
    if (!s.coords.sizes().equals(first.coords.sizes()) || !torch::equal(s.coords, first.coords)) return false;
    if (s.field_coords.defined() &&
        (!s.field_coords.sizes().equals(first.field_coords.sizes()) || !torch::equal(s.field_coords, first.field_coords)))
      return false;
  }
  return true;
}

void Dataset::validate() const {
  auto fail = [&](size_t index, const std::string& what) {
    throw DatasetError((source.empty() ? std::string("dataset") : source) + ": sample " + std::to_string(index) +
                       ": " + what);
  };
  if (empty()) throw DatasetError((source.empty() ? std::string("dataset") : source) + ": no samples");
  const Sample& first = samples.front();
  auto same_presence = [&](size_t i, const torch::Tensor& a, const torch::Tensor& b, const char* name) {
    if (a.defined() != b.defined())
      fail(i, std::string(name) + (a.defined() ? " is present here but not in sample 0" : " is missing"));
  };
  for (size_t i = 0; i < samples.size(); ++i) {
    const Sample& s = samples[i];
    if (!s.coords.defined() || s.coords.dim() != 2) fail(i, "coords must be [N, d]");
    if (!s.targets.defined() || s.targets.dim() != 2) fail(i, "targets must be [N, c]");
    const int64_t n = s.coords.size(0);
    if (s.coords.size(1) != first.coords.size(1))
      fail(i, "coords have " + std::to_string(s.coords.size(1)) + " dimensions, sample 0 has " +
                  std::to_string(first.coords.size(1)));
    if (s.targets.size(0) != n) fail(i, "targets " + describe(s.targets) + " do not match coords " + describe(s.coords));
    if (s.targets.size(1) != first.targets.size(1)) fail(i, "number of target channels differs from sample 0");
    same_presence(i, s.fields, first.fields, "fields");
    same_presence(i, s.field_coords, first.field_coords, "field_coords");
    same_presence(i, s.params, first.params, "params");
    same_presence(i, s.mask, first.mask, "mask");
    same_presence(i, s.times, first.times, "times");
    same_presence(i, s.history, first.history, "history");
    if (s.fields.defined()) {
      if (s.fields.dim() != 2) fail(i, "fields must be [S, f], got " + describe(s.fields));
      if (s.fields.size(1) != first.fields.size(1)) fail(i, "number of field channels differs from sample 0");
      const int64_t sensors = s.field_coords.defined() ? s.field_coords.size(0) : n;
      if (s.fields.size(0) != sensors)
        fail(i, "fields " + describe(s.fields) + " do not match " +
                    (s.field_coords.defined() ? "field_coords " + describe(s.field_coords) : "coords " + describe(s.coords)));
    }
    if (s.field_coords.defined() && (s.field_coords.dim() != 2 || s.field_coords.size(1) != s.coords.size(1)))
      fail(i, "field_coords " + describe(s.field_coords) + " must be [S, d] with the d of coords " + describe(s.coords));
    if (s.params.defined() && s.params.numel() != first.params.numel()) fail(i, "number of params differs from sample 0");
    if (s.mask.defined() && (s.mask.dim() != 1 || s.mask.size(0) != n)) fail(i, "mask must be [N]");
    if (s.history.defined() && (s.history.dim() != 2 || !s.times.defined() || s.history.size(0) != s.times.size(0)))
      fail(i, "history must be [T, g] with times [T]");
    for (const torch::Tensor* t : {&s.coords, &s.targets, &s.fields, &s.field_coords, &s.params, &s.history})
      if (t->defined() && !torch::isfinite(*t).all().item<bool>()) fail(i, "contains NaN or Inf values");
  }
  auto check_names = [&](const std::vector<std::string>& names, int64_t count, const char* what) {
    if (!names.empty() && static_cast<int64_t>(names.size()) != count)
      throw DatasetError(source + ": " + std::to_string(names.size()) + " " + what + " names for " +
                         std::to_string(count) + " channels");
  };
  check_names(coordinate_names, coordinate_dim(), "coordinate");
  check_names(field_names, field_channels(), "field");
  check_names(target_names, target_channels(), "target");
  check_names(param_names, param_count(), "parameter");
  if (!grid_shape.empty()) {
    int64_t points = 1;
    for (int64_t n : grid_shape) points *= n;
    if (points != first.coords.size(0) || !aligned())
      throw DatasetError(source + ": grid shape does not match the samples' points");
  }
}

Batch Dataset::batch(const std::vector<int64_t>& indices) const {
  TORCH_CHECK(!indices.empty(), "empty batch");
  std::vector<const Sample*> picked;
  picked.reserve(indices.size());
  bool ragged = false;
  for (int64_t i : indices) {
    TORCH_CHECK(i >= 0 && i < size(), "sample index ", i, " out of range [0, ", size(), ")");
    picked.push_back(&samples[i]);
    ragged = ragged || picked.back()->num_points() != picked.front()->num_points();
  }
  Batch b;
  b.coords = stack_member(picked, &Sample::coords);
  b.targets = stack_member(picked, &Sample::targets);
  b.fields = stack_member(picked, &Sample::fields);
  b.field_coords = stack_member(picked, &Sample::field_coords);
  b.params = stack_member(picked, &Sample::params);
  b.mask = stack_member(picked, &Sample::mask);
  b.times = stack_member(picked, &Sample::times);
  b.history = stack_member(picked, &Sample::history);
  if (b.params.defined()) b.params = b.params.reshape({b.coords.size(0), -1});
  if (ragged) {
    const int64_t longest = b.coords.size(1);
    b.valid = torch::zeros({b.coords.size(0), longest}, b.coords.options());
    for (size_t k = 0; k < picked.size(); ++k) b.valid[static_cast<int64_t>(k)].narrow(0, 0, picked[k]->num_points()).fill_(1);
  }
  return b;
}

Batch Dataset::all() const {
  std::vector<int64_t> indices(samples.size());
  for (size_t i = 0; i < indices.size(); ++i) indices[i] = static_cast<int64_t>(i);
  return batch(indices);
}

Dataset Dataset::subset(const std::vector<int64_t>& indices) const {
  Dataset out = *this;
  out.samples.clear();
  out.samples.reserve(indices.size());
  for (int64_t i : indices) {
    TORCH_CHECK(i >= 0 && i < size(), "sample index ", i, " out of range [0, ", size(), ")");
    out.samples.push_back(samples[i]);
  }
  return out;
}

std::pair<Dataset, Dataset> Dataset::split(int64_t count) const {
  if (count < 0 || count > size())
    throw DatasetError(source + ": cannot take " + std::to_string(count) + " samples from " + std::to_string(size()));
  std::vector<int64_t> first(count), rest(size() - count);
  for (int64_t i = 0; i < count; ++i) first[i] = i;
  for (int64_t i = count; i < size(); ++i) rest[i - count] = i;
  return {subset(first), subset(rest)};
}

Dataset concatenate(const std::vector<Dataset>& parts) {
  if (parts.empty()) throw DatasetError("no datasets to concatenate");
  Dataset out = parts.front();
  for (size_t k = 1; k < parts.size(); ++k) {
    const Dataset& next = parts[k];
    auto mismatch = [&](const std::string& what) {
      throw DatasetError(next.source + ": its " + what + " differ from those of " + parts.front().source +
                         "; datasets combined in one run need the same layout");
    };
    if (next.grid_shape != out.grid_shape) mismatch("grid shape");
    if (next.coordinate_names != out.coordinate_names) mismatch("coordinate names");
    if (next.field_names != out.field_names) mismatch("field names");
    if (next.target_names != out.target_names) mismatch("target names");
    if (next.param_names != out.param_names) mismatch("parameter names");
    out.samples.insert(out.samples.end(), next.samples.begin(), next.samples.end());
    out.source += " + " + next.source;
  }
  out.validate();
  return out;
}

torch::Tensor grid_coordinates(const std::vector<int64_t>& shape, const std::vector<double>& lower,
                               const std::vector<double>& upper) {
  TORCH_CHECK(!shape.empty() && shape.size() == lower.size() && shape.size() == upper.size(),
              "grid_coordinates: shape, lower and upper need one entry per dimension");
  // meshgrid in reversed order (slowest axis first) makes x vary fastest after flattening.
  std::vector<torch::Tensor> axes;
  for (size_t k = shape.size(); k-- > 0;)
    axes.push_back(torch::linspace(lower[k], upper[k], shape[k], torch::kFloat64));
  auto mesh = torch::meshgrid(axes, "ij");
  std::vector<torch::Tensor> columns;
  for (size_t k = shape.size(); k-- > 0;) columns.push_back(mesh[k].reshape({-1}));
  return torch::stack(columns, 1).to(torch::kFloat32);
}

}  // namespace physis::ops
