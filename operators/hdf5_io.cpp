// HDF5 through its C API: every numeric dataset of a file (recursively), root string attributes, and writing.
#include "core/build_config.h"
#include "operators/array_io.h"
#include "operators/array_io_detail.h"

#include <map>
#include <optional>

#if PHYSIS_HAVE_HDF5
#include <hdf5.h>
#endif

namespace physis::ops {

namespace fs = std::filesystem;
using detail::fail;

#if PHYSIS_HAVE_HDF5

struct detail::QuietHdf5::Saved {
  H5E_auto2_t func = nullptr;
  void* data = nullptr;
};

detail::QuietHdf5::QuietHdf5() : saved_(std::make_unique<Saved>()) {
  H5Eget_auto2(H5E_DEFAULT, &saved_->func, &saved_->data);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

detail::QuietHdf5::~QuietHdf5() { H5Eset_auto2(H5E_DEFAULT, saved_->func, saved_->data); }

namespace {

// Closes an HDF5 identifier when it goes out of scope.
class Handle {
 public:
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() {
    if (id_ >= 0) close_(id_);
  }
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

#if H5_VERSION_GE(1, 12, 0)
using LinkInfo = H5L_info2_t;
#else
using LinkInfo = H5L_info_t;
#endif

struct Listing {
  std::vector<std::string> readable;
  std::map<std::string, std::string> unreadable;  // name -> why
};

// Why a dataset of this type cannot become a tensor, or "" when it can.
std::string unsupported_reason(hid_t type) {
  switch (H5Tget_class(type)) {
    case H5T_INTEGER:
    case H5T_FLOAT: return "";
    case H5T_ENUM: return H5Tget_size(type) == 1 ? "" : "is an enumeration other than h5py's bool";
    case H5T_STRING: return "holds strings";
    case H5T_COMPOUND: return "is a compound (record) type; store each field as its own dataset";
    default: return "has a non-numeric HDF5 type";
  }
}

herr_t visit_link(hid_t group, const char* name, const LinkInfo*, void* data) {
  auto* listing = static_cast<Listing*>(data);
  Handle object(H5Oopen(group, name, H5P_DEFAULT), H5Oclose);
  if (!object.ok() || H5Iget_type(object.get()) != H5I_DATASET) return 0;
  Handle type(H5Dget_type(object.get()), H5Tclose);
  const std::string why = unsupported_reason(type.get());
  if (why.empty()) listing->readable.emplace_back(name);
  else listing->unreadable[name] = why;
  return 0;
}

torch::Tensor read_hdf5_dataset(const fs::path& path, hid_t file, const std::string& name) {
  Handle dataset(H5Dopen2(file, name.c_str(), H5P_DEFAULT), H5Dclose);
  if (!dataset.ok()) fail(path, "cannot open dataset '" + name + "' (corrupt file?)");
  Handle type(H5Dget_type(dataset.get()), H5Tclose);
  Handle space(H5Dget_space(dataset.get()), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0) fail(path, "dataset '" + name + "' has an unreadable shape (corrupt file?)");
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  std::vector<int64_t> shape(dims.begin(), dims.end());

  torch::Dtype dtype = torch::kLong;
  hid_t memory_type = H5T_NATIVE_INT64;
  std::optional<Handle> native;  // h5py's bool: a one-byte enum read as it is stored
  if (H5Tget_class(type.get()) == H5T_FLOAT) {
    const bool single = H5Tget_size(type.get()) <= 4;
    dtype = single ? torch::kFloat : torch::kDouble;
    memory_type = single ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE;
  } else if (H5Tget_class(type.get()) == H5T_ENUM) {
    native.emplace(H5Tget_native_type(type.get(), H5T_DIR_ASCEND), H5Tclose);
    dtype = torch::kBool;
    memory_type = native->get();
  }
  auto t = torch::empty(shape, torch::TensorOptions().dtype(dtype == torch::kBool ? torch::kByte : dtype));
  if (t.numel() > 0 && H5Dread(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data_ptr()) < 0)
    fail(path, "cannot read dataset '" + name + "' (truncated or corrupt file, or a compression filter this HDF5 "
                                                 "lacks)");
  return dtype == torch::kBool ? t.ne(0) : t;
}

herr_t read_attribute(hid_t location, const char* name, const H5A_info_t*, void* data) {
  auto* attributes = static_cast<std::map<std::string, std::string>*>(data);
  Handle attribute(H5Aopen(location, name, H5P_DEFAULT), H5Aclose);
  Handle type(H5Aget_type(attribute.get()), H5Tclose);
  Handle space(H5Aget_space(attribute.get()), H5Sclose);
  if (H5Tget_class(type.get()) != H5T_STRING || H5Sget_simple_extent_npoints(space.get()) != 1) return 0;
  if (H5Tis_variable_str(type.get()) > 0) {
    Handle memory(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(memory.get(), H5T_VARIABLE);
    H5Tset_cset(memory.get(), H5Tget_cset(type.get()));
    char* text = nullptr;
    if (H5Aread(attribute.get(), memory.get(), &text) >= 0 && text) {
      (*attributes)[name] = text;
      H5free_memory(text);
    }
  } else {
    std::string text(H5Tget_size(type.get()), '\0');
    if (H5Aread(attribute.get(), type.get(), text.data()) >= 0) (*attributes)[name] = text.substr(0, text.find('\0'));
  }
  return 0;
}

hid_t file_type(torch::Dtype dtype) {
  switch (dtype) {
    case torch::kFloat: return H5T_IEEE_F32LE;
    case torch::kDouble: return H5T_IEEE_F64LE;
    case torch::kInt: return H5T_STD_I32LE;
    case torch::kByte: return H5T_STD_U8LE;
    default: return H5T_STD_I64LE;
  }
}

hid_t memory_type(torch::Dtype dtype) {
  switch (dtype) {
    case torch::kFloat: return H5T_NATIVE_FLOAT;
    case torch::kDouble: return H5T_NATIVE_DOUBLE;
    case torch::kInt: return H5T_NATIVE_INT32;
    case torch::kByte: return H5T_NATIVE_UINT8;
    default: return H5T_NATIVE_INT64;
  }
}

// The tensor as it is stored: float32/float64/int32/int64 as they are, bool as uint8, other floats as float32
// and other integers as int64.
torch::Tensor storable(const torch::Tensor& t) {
  auto c = t.detach().cpu();
  switch (c.scalar_type()) {
    case torch::kFloat:
    case torch::kDouble:
    case torch::kInt:
    case torch::kLong:
    case torch::kByte: return c.contiguous();
    case torch::kBool: return c.to(torch::kByte).contiguous();
    default: return c.to(c.is_floating_point() ? torch::kFloat : torch::kLong).contiguous();
  }
}

void write_file(const fs::path& path, const fs::path& tmp, const ArrayMap& arrays,
                const std::map<std::string, std::string>& attributes) {
  Handle file(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
  if (!file.ok()) fail(path, "cannot create the HDF5 file (check the folder's permissions)");
  Handle links(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  H5Pset_create_intermediate_group(links.get(), 1);
  for (const auto& [name, tensor] : arrays) {
    if (!tensor.defined()) fail(path, "cannot write the undefined tensor '" + name + "'");
    if (at::isComplexType(tensor.scalar_type())) fail(path, "cannot write the complex tensor '" + name + "'");
    const torch::Tensor data = storable(tensor);
    std::vector<hsize_t> dims(data.sizes().begin(), data.sizes().end());
    Handle space(data.dim() == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(data.dim(), dims.data(), nullptr),
                 H5Sclose);
    Handle dataset(H5Dcreate2(file.get(), name.c_str(), file_type(data.scalar_type()), space.get(), links.get(),
                              H5P_DEFAULT, H5P_DEFAULT),
                   H5Dclose);
    if (!dataset.ok()) fail(path, "cannot create dataset '" + name + "' (a name used twice, or a bad name?)");
    if (data.numel() > 0 &&
        H5Dwrite(dataset.get(), memory_type(data.scalar_type()), H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data_ptr()) < 0)
      fail(path, "writing dataset '" + name + "' failed (disk full?)");
  }
  Handle text(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(text.get(), H5T_VARIABLE);
  H5Tset_cset(text.get(), H5T_CSET_UTF8);
  Handle scalar(H5Screate(H5S_SCALAR), H5Sclose);
  for (const auto& [name, value] : attributes) {
    Handle attribute(H5Acreate2(file.get(), name.c_str(), text.get(), scalar.get(), H5P_DEFAULT, H5P_DEFAULT),
                     H5Aclose);
    const char* chars = value.c_str();
    if (!attribute.ok() || H5Awrite(attribute.get(), text.get(), &chars) < 0)
      fail(path, "cannot write attribute '" + name + "'");
  }
  if (H5Fflush(file.get(), H5F_SCOPE_GLOBAL) < 0) fail(path, "writing the HDF5 file failed (disk full?)");
}

}  // namespace

namespace detail {

ArrayFile read_hdf5(const fs::path& path, const ReadRequest& request) {
  detail::QuietHdf5 quiet;
  if (H5Fis_hdf5(path.c_str()) <= 0) fail(path, "is not an HDF5 file (truncated, or another format?)");
  Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!file.ok()) fail(path, "cannot open the HDF5 file (truncated or corrupt?)");
  Listing listing;
  if (H5Lvisit(file.get(), H5_INDEX_NAME, H5_ITER_INC, visit_link, &listing) < 0)
    fail(path, "cannot list the HDF5 file's datasets (corrupt file?)");
  for (const auto& name : request.only)
    if (auto it = listing.unreadable.find(name); it != listing.unreadable.end())
      fail(path, "dataset '" + name + "' " + it->second + "; only numeric datasets become tensors");
  ArrayFile out;
  for (const auto& name : select_names(path, listing.readable, request.only))
    out.arrays[name] = request.load ? read_hdf5_dataset(path, file.get(), name) : torch::Tensor();
  hsize_t index = 0;
  H5Aiterate2(file.get(), H5_INDEX_NAME, H5_ITER_INC, &index, read_attribute, &out.attributes);
  return out;
}

}  // namespace detail

void write_hdf5(const fs::path& path, const ArrayMap& arrays, const std::map<std::string, std::string>& attributes) {
  detail::QuietHdf5 quiet;
  detail::atomic_replace(path, [&](const fs::path& tmp) { write_file(path, tmp, arrays, attributes); });
}

#else

struct detail::QuietHdf5::Saved {};
detail::QuietHdf5::QuietHdf5() = default;
detail::QuietHdf5::~QuietHdf5() = default;

namespace {
[[noreturn]] void missing(const fs::path& path) {
  fail(path, "physis was built without HDF5; install libhdf5-dev and reconfigure (-DPHYSIS_HDF5=ON), or use .pt "
             "files, which every build reads and writes");
}
}  // namespace

namespace detail {
ArrayFile read_hdf5(const fs::path& path, const ReadRequest&) { missing(path); }
}  // namespace detail

void write_hdf5(const fs::path& path, const ArrayMap&, const std::map<std::string, std::string>&) { missing(path); }

#endif

}  // namespace physis::ops
