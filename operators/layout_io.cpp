// assemble(): foreign arrays (grids or point lists, any sample axis) into physis samples.
#include "operators/array_io_detail.h"
#include "operators/dataset_io.h"

#include <algorithm>
#include <numeric>
#include <sstream>

namespace physis::ops {

namespace detail {
void append_channel_names(std::vector<std::string>& names, const std::string& key, int64_t count) {
  if (count == 1) names.push_back(key);
  else
    for (int64_t c = 0; c < count; ++c) names.push_back(key + "[" + std::to_string(c) + "]");
}
}  // namespace detail

namespace {

std::string shape_of(const torch::Tensor& t) {
  std::ostringstream out;
  out << t.sizes();
  return out.str();
}

int64_t product(c10::IntArrayRef sizes) {
  return std::accumulate(sizes.begin(), sizes.end(), int64_t{1}, std::multiplies<>());
}

class Assembler {
 public:
  Assembler(const ArrayMap& arrays, const LayoutSpec& spec, std::string source)
      : arrays_(arrays), spec_(spec), source_(std::move(source)) {}

  [[noreturn]] void fail(const std::string& what) const { throw DatasetError(source_ + ": " + what); }

  const torch::Tensor& get(const std::string& key) const {
    auto it = arrays_.find(key);
    if (it != arrays_.end()) return it->second;
    std::string list;
    for (const auto& [name, t] : arrays_) list += (list.empty() ? "" : ", ") + name;
    fail("no array '" + key + "'; available: " + list);
  }

  // The array with its samples first, limited to `limit` samples; still in its own dtype, so that subsampling a
  // large float64 grid copies only the points kept.
  torch::Tensor per_sample(const std::string& key) {
    torch::Tensor t = get(key);
    if (t.dim() <= spec_.sample_axis || spec_.sample_axis < 0)
      fail("array '" + key + "' " + shape_of(t) + " has no sample axis " + std::to_string(spec_.sample_axis));
    if (t.scalar_type() == torch::kBool) t = t.to(torch::kFloat);
    t = t.movedim(spec_.sample_axis, 0);
    if (spec_.limit >= 0 && t.size(0) > spec_.limit) t = t.narrow(0, 0, spec_.limit);
    if (batch_ < 0) batch_ = t.size(0), batch_key_ = key;
    if (t.size(0) != batch_)
      fail("array '" + key + "' has " + std::to_string(t.size(0)) + " samples along axis " +
           std::to_string(spec_.sample_axis) + ", '" + batch_key_ + "' has " + std::to_string(batch_));
    return t;
  }

  // [B, n_1, ..., n_k, rest...] with n_1 * ... * n_k = points, as [B, points, channels].
  torch::Tensor as_points(const torch::Tensor& t, int64_t points, const std::string& key, const std::string& what) const {
    int64_t n = 1;
    for (int64_t k = 1; k < t.dim(); ++k) {
      n *= t.size(k);
      if (n == points) return t.reshape({t.size(0), points, -1}).to(torch::kFloat);
      if (n > points) break;
    }
    fail("array '" + key + "' " + shape_of(t) + " does not hold " + std::to_string(points) + " points after the "
         "sample axis to match " + what);
  }

  // Coordinates given as [N, d] (shared) or [B, N, d] (per sample): returns [B or 1, N, d].
  torch::Tensor point_list(const std::string& key) {
    const torch::Tensor& raw = get(key);
    if (raw.dim() == 2) return raw.to(torch::kFloat).unsqueeze(0);
    if (raw.dim() == 3) return per_sample(key).to(torch::kFloat);
    fail("coordinates '" + key + "' must be [N, d] or [B, N, d], got " + shape_of(raw));
  }

  Dataset run();

 private:
  void grid_layout(std::vector<std::pair<std::string, torch::Tensor*>>& grids, Dataset& data, torch::Tensor& coords);

  const ArrayMap& arrays_;
  const LayoutSpec& spec_;
  std::string source_;
  int64_t batch_ = -1;
  std::string batch_key_;
};

// Subsamples grid arrays, flattens them x fastest and makes their coordinates.
void Assembler::grid_layout(std::vector<std::pair<std::string, torch::Tensor*>>& grids, Dataset& data,
                            torch::Tensor& coords) {
  int64_t k = spec_.spatial_dims;
  if (k == 0) {
    k = INT64_MAX;
    for (auto& [key, t] : grids) k = std::min(k, t->dim() - 1);
  }
  if (k < 1) fail("grid arrays need at least one spatial axis after the sample axis");
  const torch::Tensor& first = *grids.front().second;
  if (first.dim() < k + 1) fail("array '" + grids.front().first + "' " + shape_of(first) + " has fewer than " +
                                std::to_string(k) + " spatial axes");
  const std::vector<int64_t> full(first.sizes().begin() + 1, first.sizes().begin() + 1 + k);
  std::vector<int64_t> stride(static_cast<size_t>(k), 1);
  if (spec_.stride.size() == 1) std::fill(stride.begin(), stride.end(), spec_.stride[0]);
  else if (!spec_.stride.empty() && static_cast<int64_t>(spec_.stride.size()) != k)
    fail("stride has " + std::to_string(spec_.stride.size()) + " entries for " + std::to_string(k) + " spatial axes");
  else if (!spec_.stride.empty()) stride = spec_.stride;
  for (int64_t s : stride)
    if (s < 1) fail("stride must be at least 1");

  std::vector<int64_t> kept(static_cast<size_t>(k));  // points per axis after subsampling, array order
  for (int64_t a = 0; a < k; ++a) kept[a] = (full[a] + stride[a] - 1) / stride[a];
  const int64_t points = product(kept);
  const std::string reference = "'" + grids.front().first + "' " + shape_of(first);
  for (auto& [key, t] : grids) {
    if (t->dim() < k + 1 || !t->sizes().slice(1, k).equals(full))
      fail("array '" + key + "' " + shape_of(*t) + " is not on the grid of " + reference);
    for (int64_t a = 0; a < k; ++a) *t = t->slice(a + 1, 0, c10::nullopt, stride[a]);
    *t = t->to(torch::kFloat).reshape({t->size(0), points, -1});  // C order: the last axis (x) fastest
  }

  // Coordinate c is array axis k - 1 - c; its kept points span lower .. lower + (upper - lower) * last / (n - 1).
  auto bound = [&](const std::vector<double>& given, double fallback, int64_t c, const char* name) {
    if (given.empty()) return fallback;
    if (given.size() == 1) return given[0];
    if (static_cast<int64_t>(given.size()) != k)
      fail(std::string(name) + " has " + std::to_string(given.size()) + " entries for " + std::to_string(k) +
           " coordinates");
    return given[c];
  };
  std::vector<double> lower, upper;
  for (int64_t c = 0; c < k; ++c) {
    const int64_t a = k - 1 - c;
    const double lo = bound(spec_.grid_lower, 0.0, c, "grid_lower"), hi = bound(spec_.grid_upper, 1.0, c, "grid_upper");
    const double last = static_cast<double>((kept[a] - 1) * stride[a]);
    lower.push_back(lo);
    upper.push_back(full[a] > 1 ? lo + (hi - lo) * last / static_cast<double>(full[a] - 1) : lo);
    data.grid_shape.push_back(kept[a]);
  }
  coords = grid_coordinates(data.grid_shape, lower, upper).unsqueeze(0);
}

Dataset Assembler::run() {
  if (spec_.targets.empty()) fail("no targets given: name the array(s) the model should predict");
  Dataset data;
  data.source = source_;
  auto gather = [&](const std::vector<std::string>& keys) {
    std::vector<std::pair<std::string, torch::Tensor>> out;
    for (const auto& key : keys) out.emplace_back(key, per_sample(key));
    return out;
  };
  auto targets = gather(spec_.targets);
  auto fields = gather(spec_.fields);
  torch::Tensor mask = spec_.mask.empty() ? torch::Tensor() : per_sample(spec_.mask);

  // 1. query points: given, or the grid of the grid arrays
  torch::Tensor coords;  // [B or 1, N, d]
  torch::Tensor sensors = spec_.sensors.empty() ? torch::Tensor() : point_list(spec_.sensors);
  if (!spec_.coords.empty()) {
    if (!spec_.stride.empty() && *std::max_element(spec_.stride.begin(), spec_.stride.end()) > 1)
      fail("stride subsamples grid arrays; it cannot be combined with a coords point list");
    coords = point_list(spec_.coords);
    const int64_t n = coords.size(1);
    const std::string what = "coords '" + spec_.coords + "' " + shape_of(get(spec_.coords));
    for (auto& [key, t] : targets) t = as_points(t, n, key, what);
    if (!sensors.defined())
      for (auto& [key, t] : fields) t = as_points(t, n, key, what);
    if (mask.defined()) mask = as_points(mask, n, spec_.mask, what);
  } else {
    std::vector<std::pair<std::string, torch::Tensor*>> grids;
    for (auto& [key, t] : targets) grids.emplace_back(key, &t);
    if (!sensors.defined())
      for (auto& [key, t] : fields) grids.emplace_back(key, &t);
    if (mask.defined()) grids.emplace_back(spec_.mask, &mask);
    grid_layout(grids, data, coords);
  }
  if (sensors.defined()) {
    const std::string what = "sensors '" + spec_.sensors + "' " + shape_of(get(spec_.sensors));
    for (auto& [key, t] : fields) t = as_points(t, sensors.size(1), key, what);
    if (sensors.size(2) != coords.size(2)) fail(what + " and the query points differ in dimension");
  }
  if (mask.defined()) {
    if (mask.size(2) != 1) fail("mask '" + spec_.mask + "' has several channels");
    mask = mask.squeeze(2);
  }

  // 2. channels and names
  auto concat = [&](std::vector<std::pair<std::string, torch::Tensor>>& parts, std::vector<std::string>& names) {
    std::vector<torch::Tensor> tensors;
    for (auto& [key, t] : parts) {  // [B, N, c] or params [B, P]
      detail::append_channel_names(names, key, t.size(-1));
      tensors.push_back(t.to(torch::kFloat));
    }
    return tensors.empty() ? torch::Tensor() : torch::cat(tensors, -1);
  };
  const torch::Tensor all_targets = concat(targets, data.target_names);
  const torch::Tensor all_fields = concat(fields, data.field_names);
  auto params = gather(spec_.params);
  for (auto& [key, t] : params) t = t.reshape({t.size(0), -1});
  const torch::Tensor all_params = concat(params, data.param_names);

  const int64_t d = coords.size(2);
  data.coordinate_names = spec_.coordinate_names;
  if (data.coordinate_names.empty())
    for (int64_t c = 0; c < d; ++c) {
      static const char* const axes[] = {"x", "y", "z"};
      data.coordinate_names.push_back(d <= 3 ? std::string(axes[c]) : std::string("x").append(std::to_string(c)));
    }
  if (static_cast<int64_t>(data.coordinate_names.size()) != d)
    fail(std::to_string(data.coordinate_names.size()) + " coordinate names for " + std::to_string(d) + " coordinates");

  // 3. samples
  data.samples.resize(static_cast<size_t>(batch_));
  for (int64_t b = 0; b < batch_; ++b) {
    Sample& s = data.samples[b];
    s.coords = coords.size(0) == 1 ? coords[0] : coords[b];
    s.targets = all_targets[b];
    if (all_fields.defined()) s.fields = all_fields[b];
    if (sensors.defined()) s.field_coords = sensors.size(0) == 1 ? sensors[0] : sensors[b];
    if (all_params.defined()) s.params = all_params[b];
    if (mask.defined()) s.mask = mask[b];
  }
  return data;
}

}  // namespace

Dataset assemble(const ArrayMap& arrays, const LayoutSpec& spec, const std::string& source) {
  try {
    return Assembler(arrays, spec, source).run();
  } catch (const c10::Error& e) {  // a shape case the checks above missed: still name the source
    throw DatasetError(source + ": " + e.what_without_backtrace());
  }
}

}  // namespace physis::ops
