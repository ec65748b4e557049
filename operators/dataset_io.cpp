// physis's own dataset layout (see dataset_io.h): write_dataset, read_dataset.
#include "operators/dataset_io.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <sstream>

namespace physis::ops {

namespace fs = std::filesystem;

namespace {

constexpr const char* kMarker = "physis_dataset";
constexpr int kVersion = 1;

struct Member {
  const char* key;
  torch::Tensor Sample::*tensor;
  bool shared_when_aligned;  // one copy for every sample
};
const Member kMembers[] = {
    {"coords", &Sample::coords, true},         {"targets", &Sample::targets, false},
    {"fields", &Sample::fields, false},        {"field_coords", &Sample::field_coords, true},
    {"params", &Sample::params, false},        {"mask", &Sample::mask, false},
    {"times", &Sample::times, false},          {"history", &Sample::history, false}};

struct NameList {
  const char* key;
  std::vector<std::string> Dataset::*names;
};
const NameList kNames[] = {{"coordinate_names", &Dataset::coordinate_names},
                           {"field_names", &Dataset::field_names},
                           {"target_names", &Dataset::target_names},
                           {"param_names", &Dataset::param_names},
                           {"history_names", &Dataset::history_names}};

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') out += '\\', out += static_cast<char>(c);
    else if (c < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else out += static_cast<char>(c);
  }
  return out + "\"";
}

template <class T, class Format>
std::string json_list(const std::vector<T>& items, Format format) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + format(items[i]);
  return out + "]";
}

std::string sample_key(size_t index, const char* member) {
  char prefix[32];
  std::snprintf(prefix, sizeof prefix, "samples/%06zu/", index);
  return prefix + std::string(member);
}

// Aligned datasets whose per-sample members all have one shape are stored stacked.
bool stackable(const Dataset& data) {
  if (!data.aligned()) return false;
  const Sample& first = data.samples.front();
  for (const Member& m : kMembers)
    for (const Sample& s : data.samples)
      if ((s.*m.tensor).defined() && !(s.*m.tensor).sizes().equals((first.*m.tensor).sizes())) return false;
  return true;
}

std::string metadata(const Dataset& data, bool aligned) {
  std::ostringstream out;
  out << "{\"version\": " << kVersion << ", \"layout\": \"" << (aligned ? "aligned" : "ragged")
      << "\", \"samples\": " << data.size()
      << ", \"grid_shape\": " << json_list(data.grid_shape, [](int64_t n) { return std::to_string(n); });
  for (const NameList& n : kNames) out << ", \"" << n.key << "\": " << json_list(data.*n.names, json_string);
  out << "}";
  return out.str();
}

}  // namespace

void write_dataset(const Dataset& data, const fs::path& path) {
  data.validate();
  const bool aligned = stackable(data);
  ArrayMap arrays;
  for (const Member& m : kMembers) {
    if (!(data.samples.front().*m.tensor).defined()) continue;
    if (aligned && m.shared_when_aligned) {
      arrays[m.key] = data.samples.front().*m.tensor;
    } else if (aligned) {
      std::vector<torch::Tensor> parts;
      for (const Sample& s : data.samples) parts.push_back(s.*m.tensor);
      arrays[m.key] = torch::stack(parts);
    } else {
      for (size_t i = 0; i < data.samples.size(); ++i) arrays[sample_key(i, m.key)] = data.samples[i].*m.tensor;
    }
  }
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  const std::map<std::string, std::string> attributes = {{kMarker, metadata(data, aligned)}};
  if (ext == ".h5" || ext == ".hdf5") write_hdf5(path, arrays, attributes);
  else if (ext == ".pt" || ext == ".pth") write_pt(path, arrays, attributes);
  else throw DatasetError("'" + path.string() + "': datasets are written as .h5/.hdf5 or .pt/.pth, not '" + ext + "'");
}

bool is_physis_dataset(const fs::path& path) { return scan_array_file(path).attributes.count(kMarker) > 0; }

Dataset read_dataset(const fs::path& path) {
  ArrayFile file = read_array_file(path);
  auto fail = [&](const std::string& what) -> DatasetError { return DatasetError("'" + path.string() + "': " + what); };
  auto marker = file.attributes.find(kMarker);
  if (marker == file.attributes.end())
    throw fail("is not a physis dataset (no 'physis_dataset' marker); describe how its arrays map to samples "
               "(targets, fields, coords ...) in a data: section, see docs/datasets.md");
  YAML::Node meta;
  try {
    meta = YAML::Load(marker->second);
  } catch (const YAML::Exception& e) {
    throw fail("has a corrupt 'physis_dataset' marker: " + std::string(e.what()));
  }
  if (!meta.IsMap() || !meta["version"] || !meta["samples"] || !meta["layout"])
    throw fail("has a corrupt 'physis_dataset' marker");
  if (meta["version"].as<int>() > kVersion)
    throw fail("uses dataset layout version " + meta["version"].as<std::string>() + "; this physis reads up to " +
               std::to_string(kVersion) + " (update physis)");
  const bool aligned = meta["layout"].as<std::string>() == "aligned";
  const auto count = meta["samples"].as<int64_t>();

  Dataset data;
  data.source = path.string();
  data.grid_shape = meta["grid_shape"] ? meta["grid_shape"].as<std::vector<int64_t>>() : std::vector<int64_t>{};
  for (const NameList& n : kNames)
    if (meta[n.key]) data.*n.names = meta[n.key].as<std::vector<std::string>>();
  data.samples.resize(static_cast<size_t>(count));
  for (const Member& m : kMembers) {
    if (aligned) {
      auto it = file.arrays.find(m.key);
      if (it == file.arrays.end()) continue;
      const torch::Tensor& t = it->second;
      if (!m.shared_when_aligned && (t.dim() == 0 || t.size(0) != count))
        throw fail("array '" + std::string(m.key) + "' should hold " + std::to_string(count) + " samples");
      for (int64_t i = 0; i < count; ++i) data.samples[i].*m.tensor = m.shared_when_aligned ? t : t[i];
    } else {
      for (int64_t i = 0; i < count; ++i)
        if (auto it = file.arrays.find(sample_key(i, m.key)); it != file.arrays.end())
          data.samples[i].*m.tensor = it->second;
    }
  }
  for (int64_t i = 0; i < count; ++i)
    if (!data.samples[i].coords.defined() || !data.samples[i].targets.defined())
      throw fail("sample " + std::to_string(i) + " has no coords or targets (truncated or edited file?)");
  data.validate();
  return data;
}

}  // namespace physis::ops
