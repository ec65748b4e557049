// Format dispatch, shared helpers and the torch.save (.pt) format; HDF5, MATLAB and NumPy live in their own files.
#include "operators/array_io.h"

#include "core/checkpoint.h"
#include "operators/array_io_detail.h"

#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/serialization/export.h>
#include <torch/csrc/jit/serialization/pickler.h>
#include <torch/serialize.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>
#include <iterator>

namespace physis::ops {

namespace fs = std::filesystem;

namespace detail {

void fail(const fs::path& path, const std::string& message) { throw DatasetError("'" + path.string() + "': " + message); }

std::vector<std::string> select_names(const fs::path& path, const std::vector<std::string>& available,
                                      const std::vector<std::string>& only) {
  if (only.empty()) return available;
  for (const auto& name : only) {
    if (std::find(available.begin(), available.end(), name) != available.end()) continue;
    std::string list;
    for (const auto& a : available) list += (list.empty() ? "" : ", ") + a;
    fail(path, "has no array '" + name + "'; it holds: " + (list.empty() ? "(no readable arrays)" : list));
  }
  return only;
}

torch::Tensor normalize_dtype(const torch::Tensor& t, const fs::path& path, const std::string& name) {
  const auto type = t.scalar_type();
  if (type == torch::kFloat || type == torch::kDouble || type == torch::kBool) return t;
  if (type == torch::kHalf || type == torch::kBFloat16) return t.to(torch::kFloat);
  if (at::isComplexType(type))
    fail(path, "array '" + name + "' is complex; store real and imaginary parts as separate real arrays");
  if (at::isIntegralType(type, /*includeBool=*/false)) return t.to(torch::kLong);
  fail(path, "array '" + name + "' has the unsupported element type " + std::string(c10::toString(type)));
}

torch::Tensor from_column_major(const void* data, const std::vector<int64_t>& shape, torch::Dtype dtype) {
  std::vector<int64_t> reversed(shape.rbegin(), shape.rend());
  auto borrowed = torch::from_blob(const_cast<void*>(data), reversed, torch::TensorOptions().dtype(dtype));
  std::vector<int64_t> axes(shape.size());
  for (size_t k = 0; k < axes.size(); ++k) axes[k] = static_cast<int64_t>(axes.size() - 1 - k);
  return borrowed.permute(axes).clone(torch::MemoryFormat::Contiguous);  // one copy, in C order
}

void atomic_replace(const fs::path& path, const std::function<void(const fs::path&)>& write) {
  const auto folder = path.has_parent_path() ? path.parent_path() : fs::path(".");
  fs::create_directories(folder);
  std::string name = ".";  // built step by step: GCC 12 warns falsely about "." + std::string
  name += path.filename().string();
  name += ".tmp." + std::to_string(::getpid());
  const auto tmp = folder / name;
  try {
    write(tmp);
    if (int fd = ::open(tmp.c_str(), O_RDONLY); fd >= 0) {  // on the disk before it takes the real name
      ::fsync(fd);
      ::close(fd);
    }
    fs::rename(tmp, path);
  } catch (...) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw;
  }
}

}  // namespace detail

namespace {

using detail::fail;

std::string lower_extension(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

// The format a file is read as: the explicit `format`, else the extension.
std::string format_of(const fs::path& path, const std::string& format) {
  if (!format.empty() && format != "auto") {
    static const std::vector<std::string> known = {"hdf5", "mat", "npy", "npz", "pt"};
    if (std::find(known.begin(), known.end(), format) == known.end())
      fail(path, "unknown array format '" + format + "'; expected hdf5, mat, npy, npz or pt");
    return format;
  }
  const std::string ext = lower_extension(path);
  if (ext == ".h5" || ext == ".hdf5") return "hdf5";
  if (ext == ".mat") return "mat";
  if (ext == ".npy") return "npy";
  if (ext == ".npz") return "npz";
  if (ext == ".pt" || ext == ".pth") return "pt";
  fail(path, "unknown extension '" + ext + "'; expected .h5, .hdf5, .mat, .npy, .npz, .pt or .pth (or name the format)");
}

template <class Bytes = std::string>
Bytes read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open the file (check the permissions)");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Flattens what torch.load would return into named tensors ("a/b" for nested dicts, "a/0" for lists), strings into
// attributes and Python numbers into 0-d tensors; anything else is remembered to explain a request for it.
void flatten(const c10::IValue& value, const std::string& name, ArrayFile& out, std::map<std::string, std::string>& skipped) {
  auto join = [&](const std::string& key) { return name.empty() ? key : name + "/" + key; };
  if (value.isTensor()) out.arrays[name] = value.toTensor();
  else if (value.isGenericDict()) {
    for (const auto& item : value.toGenericDict()) {
      const auto& key = item.key();
      flatten(item.value(), join(key.isString() ? key.toStringRef() : key.isInt() ? std::to_string(key.toInt()) : "?"),
              out, skipped);
    }
  } else if (value.isList() || value.isTuple()) {
    const auto items = value.isList() ? value.toListRef().vec() : value.toTupleRef().elements().vec();
    for (size_t i = 0; i < items.size(); ++i) flatten(items[i], join(std::to_string(i)), out, skipped);
  } else if (value.isString()) out.attributes[name] = value.toStringRef();
  else if (value.isDouble()) out.arrays[name] = torch::tensor(value.toDouble(), torch::kFloat64);
  else if (value.isInt()) out.arrays[name] = torch::tensor(value.toInt(), torch::kInt64);
  else if (value.isBool()) out.arrays[name] = torch::tensor(value.toBool(), torch::kBool);
  else skipped[name] = value.tagKind();
}

ArrayFile read_pt(const fs::path& path, const detail::ReadRequest& request) {
  const auto bytes = read_bytes<std::vector<char>>(path);
  c10::IValue value;
  try {
    value = torch::pickle_load(bytes);
  } catch (const c10::Error& e) {
    std::string why = e.what_without_backtrace();
    fail(path, "cannot be read as a torch.save file (truncated, corrupt, or a TorchScript module?): " +
                   why.substr(0, why.find('\n')));
  }
  ArrayFile all;
  std::map<std::string, std::string> skipped;
  flatten(value, value.isTensor() ? path.stem().string() : "", all, skipped);
  std::vector<std::string> names;
  for (const auto& [name, tensor] : all.arrays) names.push_back(name);
  for (const auto& name : request.only) {
    if (auto it = skipped.find(name); it != skipped.end())
      fail(path, "entry '" + name + "' is a " + it->second + ", not a tensor");
    if (all.attributes.count(name)) fail(path, "entry '" + name + "' is a string, not a tensor");
  }
  ArrayFile out;
  out.attributes = std::move(all.attributes);
  for (const auto& name : detail::select_names(path, names, request.only))
    out.arrays[name] = request.load ? detail::normalize_dtype(all.arrays[name], path, name) : torch::Tensor();
  return out;
}

ArrayFile read_npy(const fs::path& path, const detail::ReadRequest& request) {
  ArrayFile out;
  const std::string name = path.stem().string();
  for (const auto& key : detail::select_names(path, {name}, request.only))
    out.arrays[key] = request.load ? parse_npy(read_bytes(path), path.string()) : torch::Tensor();
  return out;
}

ArrayFile read_any(const fs::path& path, const std::string& format, const detail::ReadRequest& request) {
  if (!fs::exists(path)) fail(path, "no such file");
  if (!fs::is_regular_file(path)) fail(path, "is not a regular file");
  const std::string kind = format_of(path, format);
  if (kind == "hdf5") return detail::read_hdf5(path, request);
  if (kind == "mat") return detail::read_mat(path, request);
  if (kind == "npz") return detail::read_npz(path, request);
  if (kind == "npy") return read_npy(path, request);
  return read_pt(path, request);
}

}  // namespace

ArrayFile read_array_file(const fs::path& path, const std::vector<std::string>& only, const std::string& format) {
  return read_any(path, format, {only, true});
}

ArrayMap read_arrays(const fs::path& path, const std::vector<std::string>& only, const std::string& format) {
  return read_array_file(path, only, format).arrays;
}

ArrayFile scan_array_file(const fs::path& path, const std::string& format) { return read_any(path, format, {{}, false}); }

std::vector<std::string> list_arrays(const fs::path& path, const std::string& format) {
  std::vector<std::string> names;
  for (const auto& [name, tensor] : scan_array_file(path, format).arrays) names.push_back(name);
  return names;
}

void write_pt(const fs::path& path, const ArrayMap& arrays, const std::map<std::string, std::string>& attributes) {
  c10::impl::GenericDict dict(c10::StringType::get(), c10::AnyType::get());
  for (const auto& [name, tensor] : arrays) {
    if (!tensor.defined()) fail(path, "cannot write the undefined tensor '" + name + "'");
    if (attributes.count(name)) fail(path, "'" + name + "' is both an array and an attribute");
    dict.insert(name, tensor.detach().cpu().contiguous());
  }
  for (const auto& [name, text] : attributes) dict.insert(name, text);
  // torch::pickle_save, but without the TorchScript type tags (torch.jit._pickle.restore_type_tag) that Python's
  // torch.load refuses by default (weights_only=True).
  std::vector<char> pickled;
  torch::jit::Pickler pickler([&](const char* bytes, size_t n) { pickled.insert(pickled.end(), bytes, bytes + n); },
                              nullptr, nullptr, nullptr, nullptr, /*tag_aggregates=*/false);
  pickler.protocol();
  pickler.pushIValue(c10::IValue(dict));
  pickler.stop();
  atomic_write(path, [&](std::ostream& out) {
    caffe2::serialize::PyTorchStreamWriter writer([&](const void* bytes, size_t n) {
      out.write(static_cast<const char*>(bytes), static_cast<std::streamsize>(n));
      return out ? n : 0;
    });
    torch::jit::writeArchiveAndTensors("data", pickled.data(), pickled.size(), pickler.tensorData(), writer);
    writer.writeEndOfFile();
  });
}

}  // namespace physis::ops
