// load_dataset(): the YAML `data:` section (keys documented in docs/datasets.md).
#include "operators/dataset_io.h"

#include "core/strings.h"

#include <algorithm>

namespace physis::ops {

namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kArrayOnlyKeys = {"format", "coords", "mask", "sensors", "sample_axis",
                                                 "spatial_dims", "stride", "grid_bounds", "coordinate_names"};
const std::vector<std::string> kLayoutKeys = {"targets", "fields",       "coords", "params",      "mask",
                                              "sensors", "sample_axis", "spatial_dims", "stride", "grid_bounds",
                                              "coordinate_names"};

// A key that takes one name or a list of names.
std::vector<std::string> names(const config::Section& s, const std::string& key) {
  if (!s.has(key)) return {};
  if (s.node()[key].IsScalar()) return {s.get<std::string>(key)};
  return s.get<std::vector<std::string>>(key);
}

// Relative paths start at the folder of the YAML file (or the working folder for YAML given as a string).
fs::path path_of(const config::Section& s, const std::string& key) {
  fs::path file = s.get<std::string>(key);
  if (file.is_relative() && !s.file().empty() && s.file().front() != '<') file = fs::path(s.file()).parent_path() / file;
  if (!fs::is_regular_file(file))
    s.fail_at(key, "'" + file.string() + "' does not exist (relative paths start at the folder of this YAML file)");
  return file;
}

void reject(const config::Section& s, const std::vector<std::string>& keys, const std::string& why) {
  for (const auto& key : keys)
    if (s.has(key)) s.fail_at(key, "'" + key + "' " + why);
}

LayoutSpec layout(const config::Section& s) {
  LayoutSpec spec;
  spec.targets = names(s, "targets");
  if (spec.targets.empty()) s.fail("missing 'targets': name the array(s) the model should predict");
  spec.fields = names(s, "fields");
  spec.params = names(s, "params");
  spec.coords = s.get<std::string>("coords", "");
  spec.mask = s.get<std::string>("mask", "");
  spec.sensors = s.get<std::string>("sensors", "");
  spec.sample_axis = s.get<int64_t>("sample_axis", 0);
  spec.spatial_dims = s.get<int64_t>("spatial_dims", 0);
  spec.coordinate_names = s.get<std::vector<std::string>>("coordinate_names", {});
  if (spec.sample_axis < 0) s.fail_at("sample_axis", "sample_axis must be 0 or more");
  if (spec.spatial_dims < 0) s.fail_at("spatial_dims", "spatial_dims must be 0 (infer) or more");
  if (s.has("stride")) {
    spec.stride = s.node()["stride"].IsScalar() ? std::vector<int64_t>{s.get<int64_t>("stride")}
                                                : s.get<std::vector<int64_t>>("stride");
    for (int64_t v : spec.stride)
      if (v < 1) s.fail_at("stride", "stride must be 1 or more (1 keeps every point)");
  }
  if (s.has("grid_bounds")) {
    // [lower, upper] for every axis, or one [lower, upper] per coordinate, x first.
    const auto items = s.items("grid_bounds");
    const bool per_axis = !items.empty() && items.front().is_sequence();
    for (const auto& item : per_axis ? items : std::vector<config::Section>{}) {
      const auto pair = item.as<std::vector<double>>();
      if (pair.size() != 2) item.fail("each grid bound is [lower, upper]");
      spec.grid_lower.push_back(pair[0]);
      spec.grid_upper.push_back(pair[1]);
    }
    if (!per_axis) {
      const auto pair = s.get<std::vector<double>>("grid_bounds");
      if (pair.size() != 2) s.fail_at("grid_bounds", "grid_bounds is [lower, upper] or [[x0, x1], [y0, y1], ...]");
      spec.grid_lower = {pair[0]};
      spec.grid_upper = {pair[1]};
    }
  }
  return spec;
}

std::vector<std::string> needed_arrays(const LayoutSpec& spec) {
  std::vector<std::string> keys = spec.targets;
  keys.insert(keys.end(), spec.fields.begin(), spec.fields.end());
  keys.insert(keys.end(), spec.params.begin(), spec.params.end());
  for (const auto* key : {&spec.coords, &spec.mask, &spec.sensors})
    if (!key->empty()) keys.push_back(*key);
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

Dataset first_samples(const Dataset& data, int64_t limit) {
  if (limit < 0 || limit >= data.size()) return data;
  return data.split(limit).first;
}

// `drop: [params, mask, history]`: optional parts of every sample to leave out (e.g. a geometry code a transfer
// study should not see), checked before anything is read.
std::vector<std::string> parts_to_drop(const config::Section& s) {
  auto parts = names(s, "drop");
  const auto& known = droppable_parts();
  for (const auto& part : parts)
    if (std::find(known.begin(), known.end(), part) == known.end())
      s.fail_at("drop", "drop takes " + join_or(known, "and") + ", not '" + part + "'");
  return parts;
}

}  // namespace

Dataset load_dataset(const config::Section& section) {
  const bool collection = section.has("csv");
  const std::string key = collection ? "csv" : "file";
  if (collection && section.has("file")) section.fail_at("csv", "give either file (arrays) or csv (a .vtu collection)");
  if (!collection && !section.has("file"))
    section.fail("missing 'file' (an array file) or 'csv' (a CSV listing .vtu files)");
  const int64_t limit = section.get<int64_t>("limit", -1);
  if (limit < -1 || limit == 0) section.fail_at("limit", "limit must be a positive number of samples");
  const fs::path path = path_of(section, key);
  const auto drop = parts_to_drop(section);

  // Problems with the data itself carry the location of the file key, so the user knows which section to fix.
  auto located = [&](auto&& read) -> Dataset {
    try {
      Dataset data = without_parts(read(), drop);
      data.validate();
      return data;
    } catch (const DatasetError& e) {
      const auto [line, column] = section.location_of(key);
      throw DatasetError(section.origin_of(key) + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " +
                         e.what());
    }
  };

  if (collection) {
    reject(section, kArrayOnlyKeys, "applies to array files, not to a csv of .vtu files");
    VtuCollectionSpec spec;
    spec.file_column = section.get<std::string>("file_column", "file");
    spec.history_column = section.get<std::string>("history_column", "history");
    spec.targets = names(section, "targets");
    if (spec.targets.empty()) section.fail("missing 'targets': name the point arrays the model should predict");
    spec.fields = names(section, "fields");
    spec.params = names(section, "params");
    spec.dimension = section.get<int64_t>("dimension", 3);
    if (spec.dimension != 2 && spec.dimension != 3) section.fail_at("dimension", "dimension must be 2 or 3");
    spec.limit = limit;
    section.finish();
    return located([&] { return read_vtu_collection(path, spec); });
  }

  reject(section, {"file_column", "history_column", "dimension"},
         "applies to a csv of .vtu files, not to an array file");
  const std::string format = section.get<std::string>("format", "auto");
  static const std::vector<std::string> formats = {"auto", "physis", "hdf5", "mat", "npy", "npz", "pt"};
  if (std::find(formats.begin(), formats.end(), format) == formats.end())
    section.fail_at("format", "unknown format '" + format + "'; expected auto, physis, hdf5, mat, npy, npz or pt");
  // Without targets only a physis dataset can be read; read_dataset explains what to add for a foreign file.
  if (format == "physis" || (format == "auto" && !section.has("targets"))) {
    reject(section, kLayoutKeys, "describes foreign arrays; a physis dataset already knows its layout");
    section.finish();
    return located([&] { return first_samples(read_dataset(path), limit); });
  }
  LayoutSpec spec = layout(section);
  spec.limit = limit;
  section.finish();
  return located([&] { return assemble(read_arrays(path, needed_arrays(spec), format), spec, path.string()); });
}

const std::vector<std::string>& droppable_parts() {
  static const std::vector<std::string> parts = {"params", "mask", "history"};
  return parts;
}

Dataset without_parts(Dataset data, const std::vector<std::string>& parts) {
  const auto& known = droppable_parts();
  for (const auto& part : parts) {
    if (std::find(known.begin(), known.end(), part) == known.end())
      throw std::invalid_argument("cannot drop '" + part + "' (" + join_or(known) + ")");
    for (auto& sample : data.samples) {
      if (part == "params") sample.params = torch::Tensor();
      if (part == "mask") sample.mask = torch::Tensor();
      if (part == "history") sample.history = torch::Tensor(), sample.times = torch::Tensor();
    }
    if (part == "params") data.param_names.clear();
    if (part == "history") data.history_names.clear();
  }
  return data;
}

}  // namespace physis::ops
